"""The direct API prepares a history as pydantic-ai 2.68's does before an HTTP provider sees it: retry
feedback, realtime speech and a summary the application wrote go out as 2.68 sends them.

Sans-IO units of ``trio_direct.models._prepare``, then one history sent by both libraries to the same
loopback OpenAI-compatible server, comparing the request bodies.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
import trio
from hypothesis import given, settings

from tests.loopback import LoopbackServer, Reply
from tests.strategies import histories
from trio_direct import direct as td
from trio_direct import messages as tm
from trio_direct.exceptions import UserError
from trio_direct.models import _prepare as prep
from trio_direct.models import openai as oa
from trio_direct.models.base import Provider
from trio_direct.serialization import messages_to_python

TS = datetime(2025, 1, 2, tzinfo=UTC)
FEEDBACK_LINE = (
    "Your previous response failed the application's validation (this is automated feedback, not a message "
    "from the user):"
)


def test_retry_feedback_becomes_what_the_providers_send() -> None:
    errors = [{"type": "x", "loc": ["a"], "msg": "m", "input": 1}]
    history: list[tm.ModelMessage] = [
        tm.ModelRequest(
            [
                tm.RetryFeedbackPart("Please return text.", retry=tm.RetryInfo("no_output"), timestamp=TS),
                tm.UserPromptPart("q", timestamp=TS),
            ]
        ),
        tm.ModelResponse([tm.TextPart("a")], timestamp=TS),
        tm.ModelRequest(
            [
                tm.RetryFeedbackPart("be nicer", retry=tm.RetryInfo("model_retry"), timestamp=TS),
                tm.RetryFeedbackPart(errors, retry=tm.RetryInfo("validation_error"), timestamp=TS),
                tm.RetryFeedbackPart("Please call a tool.", retry=tm.RetryInfo("no_output"), timestamp=TS),
            ]
        ),
    ]
    first, _, last = prep.sendable_retries(history)
    assert isinstance(first, tm.ModelRequest) and isinstance(last, tm.ModelRequest)
    # in the first request's standing position the harness text is a <system> block, never a system prompt
    assert first.parts[0] == tm.UserPromptPart("<system>Please return text.</system>", timestamp=TS)
    assert [type(p).__name__ for p in last.parts] == [
        "RetryPromptPart",
        "RetryPromptPart",
        "SystemPromptPart",
    ]
    legacy_text, legacy_errors, system = last.parts
    assert isinstance(legacy_text, tm.RetryPromptPart) and isinstance(legacy_errors, tm.RetryPromptPart)
    assert (legacy_text.content, legacy_text.tool_name, legacy_text.timestamp) == ("be nicer", None, TS)
    assert (legacy_errors.content, legacy_errors.tool_name) == (errors, None)
    assert system == tm.SystemPromptPart("Please call a tool.", timestamp=TS)
    # for a model that is handed parts: the fenced text itself
    translated = prep.translate_retries(history)[2]
    assert isinstance(translated, tm.ModelRequest)
    assert translated.parts[0] == tm.UserPromptPart(
        f"{FEEDBACK_LINE}\n<pyai:retry_feedback>\nbe nicer\n</pyai:retry_feedback>", timestamp=TS
    )
    assert prep.carries_retry(history) and not prep.carries_retry([tm.ModelRequest.user_text_prompt("x")])


def test_speech_and_summaries() -> None:
    history: list[tm.ModelMessage] = [
        tm.ModelRequest([tm.SpeechPart(speaker="user", transcript="hi"), tm.SpeechPart(speaker="user")]),
        tm.ModelResponse([tm.SpeechPart(speaker="assistant", transcript="hello")], timestamp=TS),
        tm.ModelResponse([tm.SpeechPart(speaker="assistant")], timestamp=TS),
        tm.ModelRequest([tm.CompactionPart("so far")]),
    ]
    converted = prep.sendable_summaries(prep.convert_speech(history))
    assert len(converted) == 3  # the response left without parts is dropped
    assert [type(p).__name__ for m in converted for p in m.parts] == [
        "UserPromptPart",
        "TextPart",
        "UserPromptPart",
    ]
    summary = converted[2].parts[0]
    assert isinstance(summary, tm.UserPromptPart)
    assert summary.content == prep.conversation_summary_text("so far")
    assert summary.content.startswith("<pyai:conversation_summary>\nThe following is a summary")
    # nothing to change: a new list with the same messages
    plain = [tm.ModelRequest.user_text_prompt("x")]
    assert prep.convert_speech(plain) == plain and prep.convert_speech(plain) is not plain


def test_unprepared_parts_are_refused_by_providers_that_would_misread_them() -> None:
    from trio_direct.models import anthropic
    from trio_direct.settings import ModelSettings
    from trio_direct.tools import ModelRequestParameters

    history: list[tm.ModelMessage] = [
        tm.ModelRequest(
            [tm.RetryFeedbackPart("x", retry=tm.RetryInfo("model_retry")), tm.UserPromptPart("q")]
        )
    ]
    with pytest.raises(UserError, match="prepare_messages"):
        anthropic.build_messages_request(
            "claude-sonnet-4-5", history, ModelSettings(), ModelRequestParameters(), stream=False
        )


# ---------------------------------------------------------------------------------------------------
# the same history through both libraries' OpenAI chat model
# ---------------------------------------------------------------------------------------------------

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o-2024-08-06",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11},
}

HISTORY: list[tm.ModelMessage] = [
    tm.ModelRequest(
        [tm.SystemPromptPart("standing", timestamp=TS), tm.SpeechPart(speaker="user", transcript="hi there")],
        timestamp=TS,
    ),
    tm.ModelResponse([tm.SpeechPart(speaker="assistant", transcript="hello")], timestamp=TS),
    tm.ModelRequest([tm.UserPromptPart("go on", timestamp=TS)], timestamp=TS),
    tm.ModelResponse([tm.ToolCallPart("weather", {"city": "x"}, "c1"), tm.TextPart("nope")], timestamp=TS),
    tm.ModelRequest(
        [
            tm.RetryPromptPart("unknown city", tool_name="weather", tool_call_id="c1", timestamp=TS),
            tm.RetryFeedbackPart("be nicer", retry=tm.RetryInfo("model_retry"), timestamp=TS),
            tm.RetryFeedbackPart(
                [{"type": "missing", "loc": ["a"], "msg": "Field required", "input": {}}],
                retry=tm.RetryInfo("validation_error"),
                timestamp=TS,
            ),
            tm.RetryFeedbackPart("Please return text.", retry=tm.RetryInfo("no_output"), timestamp=TS),
        ],
        timestamp=TS,
    ),
]


def send_with_summary() -> list[tm.ModelMessage]:
    return [
        *HISTORY[:2],
        tm.ModelRequest(
            [tm.CompactionPart("the story so far"), tm.UserPromptPart("go on", timestamp=TS)], timestamp=TS
        ),
        *HISTORY[3:],
    ]


async def test_openai_chat_request_body_matches_pydantic_ai(loopback: LoopbackServer) -> None:
    await compare_openai_bodies(loopback, HISTORY)


async def test_openai_chat_request_body_with_a_summary_matches_pydantic_ai(loopback: LoopbackServer) -> None:
    await compare_openai_bodies(loopback, send_with_summary())


async def compare_openai_bodies(loopback: LoopbackServer, history_: list[tm.ModelMessage]) -> None:
    pdirect: ModuleType = pytest.importorskip("pydantic_ai.direct")
    pm: ModuleType = pytest.importorskip("pydantic_ai.messages")
    popenai: ModuleType = pytest.importorskip("pydantic_ai.models.openai")
    pprovider: ModuleType = pytest.importorskip("pydantic_ai.providers.openai")
    loopback.enqueue(Reply.json(COMPLETION), Reply.json(COMPLETION))

    model = oa.OpenAIChatModel("gpt-4o", provider=Provider("openai", loopback.url + "/v1", "sk-test"))
    await td.model_request(model, history_)

    def upstream() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 2.68 deprecates the legacy retry part in the history
            history = pm.ModelMessagesTypeAdapter.validate_python(messages_to_python(history_))

        async def send() -> None:
            provider = pprovider.OpenAIProvider(base_url=loopback.url + "/v1", api_key="sk-test")
            async with provider.client:  # closes its connections before the loop ends
                await pdirect.model_request(popenai.OpenAIChatModel("gpt-4o", provider=provider), history)

        asyncio.run(send())

    await trio.to_thread.run_sync(upstream)
    ours, theirs = (json.loads(r.body) for r in loopback.requests)
    assert ours["messages"] == theirs["messages"]


def test_stored_legacy_retry_and_its_translation_send_the_same() -> None:
    """A history holding a legacy retry part and one holding what 2.68 loads it as send the same body."""
    legacy = tm.RetryPromptPart("no such city", tool_name="weather", tool_call_id="c1", timestamp=TS)
    tail: list[tm.ModelMessage] = [
        tm.ModelRequest([tm.UserPromptPart("q", timestamp=TS)], timestamp=TS),
        tm.ModelResponse([tm.ToolCallPart("weather", {"city": "x"}, "c1")], timestamp=TS),
    ]
    model = oa.OpenAIChatModel("gpt-4o", provider=Provider("openai", "http://127.0.0.1:9/v1", "sk-test"))
    bodies: list[Any] = []
    for part in (legacy, legacy.translated()):
        history = model.prepare_messages([*tail, tm.ModelRequest([part], timestamp=TS)])
        settings, params = model.prepare_request(None, None)
        bodies.append(
            oa.build_chat_body(
                "gpt-4o", history, settings, params, model.profile, stream=False, provider_name="openai"
            )
        )
    assert bodies[0] == bodies[1]


@settings(max_examples=200, deadline=None)
@given(histories(max_size=5))
def test_sendable_history_is_the_three_passes(history: list[tm.ModelMessage]) -> None:
    """The one-scan shortcut is exact: a history it returns as it is, the three passes return unchanged
    too; any other history goes through the three passes."""
    rewritten = (tm.SpeechPart, tm.RetryFeedbackPart, tm.CompactionPart)
    shortcut = not any(isinstance(p, rewritten) for m in history for p in m.parts)
    prepared = prep.sendable_history(history)
    assert prepared is not history
    if shortcut:
        assert prepared == history
        assert prep.sendable_summaries(prep.sendable_retries(prep.convert_speech(history))) == history
    else:
        # the passes mint fresh tool call ids for retry feedback, so compare their shape
        assert len(prepared) == len(
            prep.sendable_summaries(prep.sendable_retries(prep.convert_speech(history)))
        )
        requests = [m for m in prepared if isinstance(m, tm.ModelRequest)]
        assert not any(isinstance(p, rewritten) for m in requests for p in m.parts)
