"""A history holding a retry, on the Chat Completions layer, against pydantic-ai 2.68.

2.68's direct API runs the model's whole ``prepare_messages`` on such a history: tool results go ahead
of the other parts of their request in the order of the calls they answer, and on a model without a
mid-conversation system role (most OpenAI-compatible hosts; OpenAI has one) system prompts past the
standing one become ``<system>`` user text, announced in the system prompt. The same histories without
the retry go out as stored.

``tests/data/openai_chat_requests.json`` holds what 2.68's ``OpenAIChatModel`` sent on OpenAI and
DeepSeek, captured by ``tests/data/make_openai_chat_fixtures.py``; each request trio_direct sends to a
loopback server is compared with it whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.captured import first_difference
from tests.loopback import LoopbackServer, Reply
from tests.reliability import completion
from tests.strategies import histories
from trio_direct import ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart, model_request
from trio_direct.messages import ModelMessage, RetryPromptPart, ToolCallPart, ToolReturnPart
from trio_direct.models._chat_profile import ChatProfile, deepseek_profile, openai_model_profile
from trio_direct.models._prepare import tool_results_first
from trio_direct.models._retry_prepare import prepare_retry_history
from trio_direct.models.base import Provider
from trio_direct.models.openai import OpenAIChatModel
from trio_direct.serialization import messages_from_python
from trio_direct.tools import InstructionPart, ModelRequestParameters, ToolDefinition

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "openai_chat_requests.json").read_text()
)
PROFILES = {"openai": openai_model_profile, "deepseek": deepseek_profile}


def params_of(spec: dict[str, Any]) -> ModelRequestParameters:
    parts = spec.get("instruction_parts")
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec.get("function_tools", [])],
        instruction_parts=[InstructionPart(p["content"], dynamic=p["dynamic"]) for p in parts]
        if parts is not None
        else None,
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_request_body_matches_pydantic_ai(case: dict[str, Any], loopback: LoopbackServer) -> None:
    host = case["host"]
    model = OpenAIChatModel(
        case["model"],
        provider=Provider(host, loopback.url + "/v1", "sk-test-0123456789"),
        profile=PROFILES[host](case["model"]),
    )
    loopback.enqueue(Reply.json(completion("ok")))
    response = await model_request(
        model, messages_from_python(case["messages"]), model_request_parameters=params_of(case["params"])
    )
    assert response.text == "ok"
    assert first_difference(loopback.requests[0].json, case["expected"]["body"]) is None


def test_the_captures_show_each_behaviour() -> None:
    """The captures are the ones this file is about: a wrap, the announcement, a reorder, and both hosts."""
    by_name = {c["name"]: c["expected"]["body"]["messages"] for c in CASES}
    wrapped = by_name["deepseek_mid_system_retry"]
    assert wrapped[0]["content"].startswith("Mid-conversation system messages from the application")
    assert {"role": "user", "content": "<system>Answer in French.</system>"} in wrapped
    assert all(m["role"] != "system" for m in by_name["deepseek_no_standing_bare"])
    reordered = [m.get("tool_call_id") for m in by_name["openai_out_of_order_retry"] if m["role"] == "tool"]
    assert reordered == ["call_a", "call_b"]
    stored = [m.get("tool_call_id") for m in by_name["openai_out_of_order_no_retry"] if m["role"] == "tool"]
    assert stored == ["call_b", "call_a"]
    assert {"role": "system", "content": "Answer in French."} in by_name["openai_mid_system_retry"]


def test_profiles_say_which_models_have_a_mid_conversation_system_role() -> None:
    """2.68's ``supports_inline_system_prompts``: OpenAI's models have the role (on any host, gpt-oss
    included), other families not, and on OpenRouter only OpenAI's routes bar gpt-oss and some Claudes."""
    from trio_direct.models._chat_profile import (
        cerebras_profile,
        crusoe_profile,
        fireworks_profile,
        generic_profile,
        github_profile,
        openrouter_profile,
        sambanova_profile,
    )

    assert openai_model_profile("gpt-4o").inline_system_prompts
    assert cerebras_profile("gpt-oss-120b").inline_system_prompts
    assert generic_profile("openai/gpt-4o").inline_system_prompts
    assert not cerebras_profile("llama-3.3-70b").inline_system_prompts
    assert not deepseek_profile("deepseek-chat").inline_system_prompts
    assert not ChatProfile().inline_system_prompts
    assert openrouter_profile("openai/gpt-4o").inline_system_prompts
    assert not openrouter_profile("openai/gpt-oss-120b").inline_system_prompts
    assert openrouter_profile("anthropic/claude-opus-5").inline_system_prompts
    assert not openrouter_profile("anthropic/claude-sonnet-4.5").inline_system_prompts
    assert not openrouter_profile("google/gemini-2.5-flash").inline_system_prompts
    # hosts whose 2.68 profile gives gpt-oss (or `openai/` names) a profile other than OpenAI's
    assert not crusoe_profile("openai/gpt-oss-120b").inline_system_prompts
    assert not fireworks_profile("accounts/fireworks/models/gpt-oss-120b").inline_system_prompts
    assert not sambanova_profile("gpt-oss-120b").inline_system_prompts
    assert not github_profile("openai/gpt-4o").inline_system_prompts
    assert github_profile("gpt-4o").inline_system_prompts
    assert github_profile("microsoft/phi-4").inline_system_prompts


def test_tool_results_first_keeps_everything_else_in_place() -> None:
    call_a, call_b = ToolCallPart("t", {}, "a"), ToolCallPart("t", {}, "b")
    first = ModelRequest([SystemPromptPart("standing"), UserPromptPart("q")])
    stored = ModelRequest(
        [
            UserPromptPart("u"),
            ToolReturnPart("t", "rb", "b"),
            SystemPromptPart("s"),
            ToolReturnPart("t", "rx", "unknown"),
            RetryPromptPart("ra", tool_name="t", tool_call_id="a"),
            RetryPromptPart("feedback"),
        ]
    )
    history: list[ModelMessage] = [
        first,
        ModelResponse([call_a, call_b]),
        stored,
        ModelResponse([TextPart("x")]),
    ]
    out = tool_results_first(history)
    assert out[0] is first and out[1] is history[1] and out[3] is history[3]
    moved = out[2]
    assert isinstance(moved, ModelRequest)
    # results first; of those answering a call of the response before, the call order (a, then b); a
    # result answering no call keeps its slot among them
    labels = [
        p.tool_call_id
        if isinstance(p, ToolReturnPart) or (isinstance(p, RetryPromptPart) and p.tool_name)
        else getattr(p, "content", None)
        for p in moved.parts
    ]
    assert labels == [
        "a",
        "unknown",
        "b",
        "u",
        "s",
        "feedback",
    ]
    assert tool_results_first(out) == out
    # a request before any response is the standing one: never reordered
    lone: list[ModelMessage] = [ModelRequest([SystemPromptPart("s"), ToolReturnPart("t", "r", "a")])]
    assert tool_results_first(lone)[0] is lone[0]


def test_a_history_opening_with_a_response_keeps_its_announcement_first() -> None:
    """Results move ahead of the first request's system prompt when a response comes before it; the
    announcement then goes at the head, and stays there when the prepared history is prepared again
    (not wrapped as a ``<system>`` block of its own)."""
    history: list[ModelMessage] = [
        ModelResponse([]),
        ModelRequest([SystemPromptPart("s"), ToolReturnPart("t", "r", "0"), RetryPromptPart("fix")]),
    ]
    profile, params = ChatProfile(inline_system_prompts=False), ModelRequestParameters()
    once = prepare_retry_history(history, params, profile)
    request = once[1]
    assert isinstance(request, ModelRequest)
    assert [type(p) for p in request.parts] == [
        SystemPromptPart,
        ToolReturnPart,
        UserPromptPart,
        RetryPromptPart,
    ]
    assert prepare_retry_history(once, params, profile) == once
    # as 2.68 (`OpenAIChatModel.prepare_messages` on DeepSeek): the history opened with a system prompt
    # before the reorder, so the announcement goes in; with user text first, it does not
    plain: list[ModelMessage] = [
        ModelResponse([]),
        ModelRequest([UserPromptPart("u"), SystemPromptPart("s"), RetryPromptPart("fix")]),
    ]
    request = prepare_retry_history(plain, params, profile)[1]
    assert isinstance(request, ModelRequest)
    assert [type(p) for p in request.parts] == [UserPromptPart, UserPromptPart, RetryPromptPart]


@given(histories(max_size=5), st.booleans(), st.sampled_from([None, 9]))
@example(
    # a first request that follows a response, with instructions to join: the first pass's announcement
    # must not be pushed off the front by the second pass's reordering and added again (found by this test)
    [
        ModelResponse(parts=[]),
        ModelRequest(parts=[SystemPromptPart(""), RetryPromptPart("", tool_name="", tool_call_id="0")]),
        ModelRequest(parts=[], instructions="x"),
    ],
    False,
    None,
)
@hypothesis_settings(max_examples=60, deadline=None)
def test_preparing_twice_is_preparing_once(
    history: list[ModelMessage], inline: bool, id_length: int | None
) -> None:
    """The direct API prepares in ``prepare_messages`` and again when the body is built: the second pass
    changes nothing, and only reorders and rewraps (no part lost, the announcement added at most once);
    with tool call IDs fitted to a length too (Mistral's models on Hugging Face)."""
    profile = ChatProfile(inline_system_prompts=inline, tool_call_id_length=id_length)
    params = ModelRequestParameters()
    once = prepare_retry_history(history, params, profile)
    assert prepare_retry_history(once, params, profile) == once
    before = sum(len(m.parts) for m in history if isinstance(m, ModelRequest))
    after = sum(len(m.parts) for m in once if isinstance(m, ModelRequest))
    assert after - before in ((0,) if inline else (0, 1))
    assert [type(m) for m in once] == [type(m) for m in history]
