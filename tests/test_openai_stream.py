"""OpenAI Chat Completions end to end over real sockets: the scripted loopback server (tests/loopback.py).

Covers text, parallel tool calls, reasoning, a usage-only final chunk, ``[DONE]``, in-stream errors
(before and after the first chunk), truncation, HTTP errors, and early exit (the server sees the
connection closed).
"""

from __future__ import annotations

from typing import Any

import pytest
import trio

from tests.loopback import LoopbackServer, Reply, close, stall
from trio_direct import (
    FinalResultEvent,
    ModelRequest,
    ModelRequestParameters,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    model_request,
    model_request_stream,
)
from trio_direct.exceptions import (
    ModelConnectionError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    UnexpectedModelBehavior,
)
from trio_direct.models import openai as oa
from trio_direct.models.base import Provider
from trio_direct.models.groq import GroqModel


def chat(
    srv: LoopbackServer, name: str = "gpt-4o", profile: oa.ChatProfile | None = None
) -> oa.OpenAIChatModel:
    return oa.OpenAIChatModel(name, provider=Provider("openai", srv.url + "/v1", "sk-test"), profile=profile)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-2024",
    }
    base["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    base.update(extra)
    return base


USAGE_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1700000000,
    "model": "gpt-4o-2024",
    "choices": [],
    "usage": {
        "prompt_tokens": 10,
        "completion_tokens": 3,
        "total_tokens": 13,
        "completion_tokens_details": {"reasoning_tokens": 0},
    },
}
PROMPT = [ModelRequest.user_text_prompt("hi")]


async def collect(model: Any, params: ModelRequestParameters | None = None) -> tuple[list[Any], Any]:
    events: list[Any] = []
    async with model_request_stream(model, PROMPT, model_request_parameters=params) as stream:
        async for event in stream:
            events.append(event)
        return events, stream.get()


async def test_text_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"content": "Hel"}),
                chunk({"content": "lo"}),
                chunk({}, "stop"),
                USAGE_CHUNK,
                "data: [DONE]",
            ],
            delay=0.01,
        )
    )
    events, response = await collect(chat(loopback))
    assert [type(e) for e in events] == [PartStartEvent, FinalResultEvent, PartDeltaEvent, PartEndEvent]
    assert response.parts == [TextPart("Hello")]
    assert (response.model_name, response.provider_response_id, response.finish_reason) == (
        "gpt-4o-2024",
        "chatcmpl-1",
        "stop",
    )
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 3)
    assert response.state == "complete"
    request = loopback.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.json["stream"] is True and request.json["stream_options"] == {"include_usage": True}
    assert request.headers["authorization"] == "Bearer sk-test"


async def test_parallel_tool_calls(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "a", "arguments": ""},
                            }
                        ]
                    }
                ),
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 1,
                                "id": "call_b",
                                "type": "function",
                                "function": {"name": "b", "arguments": '{"x"'},
                            }
                        ]
                    }
                ),
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}),
                chunk({"tool_calls": [{"index": 1, "function": {"arguments": ": 1}"}}]}),
                chunk({}, "tool_calls"),
                USAGE_CHUNK,
                "data: [DONE]",
            ]
        )
    )
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="a"), ToolDefinition(name="b")])
    events, response = await collect(chat(loopback), params)
    assert response.parts == [ToolCallPart("a", "{}", "call_a"), ToolCallPart("b", '{"x": 1}', "call_b")]
    assert response.finish_reason == "tool_call"
    assert [type(e).__name__ for e in events] == [
        "PartStartEvent",
        "PartEndEvent",
        "PartStartEvent",
        "PartDeltaEvent",
        "PartDeltaEvent",
        "PartEndEvent",
    ]
    assert [t["function"]["name"] for t in loopback.requests[0].json["tools"]] == ["a", "b"]


async def test_reasoning_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk({"reasoning_content": "Let me", "content": None}),
                chunk({"reasoning_content": " think"}),
                chunk({"content": "Answer"}),
                chunk(
                    {},
                    "stop",
                    usage={
                        "prompt_tokens": 1,
                        "completion_tokens": 5,
                        "completion_tokens_details": {"reasoning_tokens": 4},
                    },
                ),
                "data: [DONE]",
            ]
        )
    )
    model = oa.OpenAIChatModel(
        "deepseek-reasoner",
        provider=Provider("deepseek", loopback.url, "k"),
        profile=oa.deepseek_profile("deepseek-reasoner"),
    )
    _, response = await collect(model)
    assert response.parts == [
        ThinkingPart("Let me think", id="reasoning_content", provider_name="deepseek"),
        TextPart("Answer"),
    ]
    assert response.usage.output_reasoning_tokens == 4
    assert loopback.requests[0].path == "/chat/completions"


async def test_usage_only_final_chunk_and_done(loopback: LoopbackServer) -> None:
    # nothing after [DONE] is read, even a bogus event
    loopback.enqueue(
        Reply.sse([chunk({"content": "x"}, "stop"), USAGE_CHUNK, "data: [DONE]", "data: {not json"])
    )
    _, response = await collect(chat(loopback))
    assert response.parts == [TextPart("x")] and response.usage.input_tokens == 10


async def test_missing_usage_counts_as_unmeasured(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk({"content": "x"}, "stop"), "data: [DONE]"]))
    _, response = await collect(chat(loopback))
    assert response.usage.unmeasured_requests == 1


async def test_error_in_first_chunk_raises_from_async_with(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [{"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}]
        )
    )
    with pytest.raises(ModelRateLimitError) as info:
        async with model_request_stream(chat(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.in_stream and info.value.status_code == 429


async def test_error_after_first_chunk_raises_from_iteration(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk({"content": "partial"}),
                {"id": "x", "error": {"code": 400, "message": "Token limit reached"}},
            ],
            delay=0.05,
        )
    )
    seen: list[Any] = []
    async with model_request_stream(chat(loopback), PROMPT) as stream:
        with pytest.raises(ModelRequestRejectedError) as info:
            async for event in stream:
                seen.append(event)
        assert stream.get().parts == [TextPart("partial")]
    assert info.value.in_stream and info.value.status_code == 400
    assert isinstance(seen[0], PartStartEvent)


async def test_truncated_stream_is_reported(loopback: LoopbackServer) -> None:
    # a clean end of the body, but no finish reason and no [DONE]
    loopback.enqueue(Reply.sse([chunk({"content": "partial"})]))
    async with model_request_stream(chat(loopback), PROMPT) as stream:
        with pytest.raises(ModelConnectionError, match="truncated"):
            async for _ in stream:
                pass


async def test_connection_dropped_mid_event(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk({"content": "a"}), b'data: {"tru'], then=close()))
    async with model_request_stream(chat(loopback), PROMPT) as stream:
        with pytest.raises(ModelConnectionError):
            async for _ in stream:
                pass


async def test_http_error_before_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}},
            status=429,
            headers={"retry-after": "3"},
        )
    )
    with pytest.raises(ModelRateLimitError) as info:
        async with model_request_stream(chat(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.status_code == 429 and info.value.retry_after == 3.0
    assert info.value.body == {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk({"content": "first"}), chunk({"content": "second"})], then=stall()))
    async with model_request_stream(chat(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


async def test_non_streamed_request_and_errors(loopback: LoopbackServer) -> None:
    body = {
        "id": "chatcmpl-2",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o-2024",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Paris."}}
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 1},
    }
    loopback.enqueue(
        Reply.json(body),
        Reply.text("Hello, I am plain text"),
        Reply.json(
            {"error": {"message": "bad", "code": "unsupported_value", "type": "invalid_request_error"}},
            status=400,
        ),
    )
    response = await model_request(chat(loopback), PROMPT)
    assert response.parts == [TextPart("Paris.")] and response.usage.input_tokens == 4
    assert loopback.requests[0].json == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    with pytest.raises(UnexpectedModelBehavior, match="expected JSON data"):
        await model_request(chat(loopback), PROMPT)
    with pytest.raises(ModelRequestRejectedError) as info:
        await model_request(chat(loopback), PROMPT)
    assert info.value.provider_error_code == "unsupported_value"


async def test_groq_tool_use_failed_returns_a_response(loopback: LoopbackServer) -> None:
    error = {
        "error": {
            "message": "Tool call validation failed",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": '{"name": "get_x", "arguments": {"foo": "bar"}}',
        }
    }
    loopback.enqueue(Reply.json(error, status=400))
    model = GroqModel("openai/gpt-oss-120b", provider=Provider("groq", loopback.url, "k"))
    response = await model_request(model, PROMPT)
    assert loopback.requests[0].path == "/openai/v1/chat/completions"
    [part] = response.parts
    assert isinstance(part, ToolCallPart) and part.tool_name == "get_x" and part.args == {"foo": "bar"}
    assert response.finish_reason == "error" and response.model_name == "openai/gpt-oss-120b"


# --------------------------------------------------------------------------------------------------
# The mapper's fast path for bare text chunks changes nothing


_VARIANTS: list[dict[str, Any]] = [
    chunk({"content": "plain"}),
    chunk({"role": "assistant", "content": "with role"}),
    chunk({"content": ""}),
    chunk({"content": " "}),
    chunk({"content": "<think>"}),
    chunk({"content": "</think>"}),
    chunk({"content": "mind"}),
    chunk({"reasoning_content": "why"}),
    chunk({"content": "x", "reasoning_content": "both"}),
    chunk({"content": "extra", "token_id": 7, "refusal": None, "tool_calls": None, "reasoning": ""}),
    chunk({"content": "refused", "refusal": "no"}),
    chunk(
        {"content": "y", "tool_calls": [{"index": 1, "id": "c2", "function": {"name": "g", "arguments": ""}}]}
    ),
    chunk({"content": "late id"}, id="chatcmpl-2"),
    chunk({"content": "new model"}, model="gpt-4o-mini"),
    chunk({"content": "tier"}, service_tier="flex"),
    chunk({"content": "tier again"}, service_tier="flex"),
    chunk({"content": "usage"}, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    chunk({"content": "no created"}, created=None),
    chunk({"content": "mod"}, moderation={"flagged": False}),
    chunk() | {"choices": [{"index": 0, "delta": {"content": "lp"}, "logprobs": {"content": []}}]},
    chunk({"content": "fin"}, finish="stop"),
    chunk({"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": "{}"}}]}),
    chunk({"content": "after tool"}),
    {"choices": []},
]


@pytest.mark.parametrize("tags", [None, ("<think>", "</think>")])
def test_bare_text_fast_path_maps_exactly_as_the_general_path(tags: tuple[str, str] | None) -> None:
    from datetime import UTC, datetime

    import attrs
    import orjson
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from trio_direct._parts import PartsManager
    from trio_direct._sse import ServerSentEvent
    from trio_direct.models._chat import ChatStreamMapper

    _EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
    profile = oa.ChatProfile() if tags is None else oa.ChatProfile(thinking_tags=tags)

    class GeneralOnly(ChatStreamMapper):
        def _plain_text(self, chunk: Any) -> str | None:
            return None

    def run(indices: list[int], *, fast: bool) -> tuple[list[Any], Any, list[Any]]:
        parts = PartsManager()
        mapper = (ChatStreamMapper if fast else GeneralOnly)(
            parts, profile=profile, model_name="gpt-4o", provider_name="openai", provider_url=None
        )
        out: list[Any] = []
        for i in indices:
            mapper.feed(ServerSentEvent(None, orjson.dumps(_VARIANTS[i]).decode(), None, None), out)
        mapper.finish(out)
        # the meta's own timestamp is the mapper's creation time; everything else must match
        return out, attrs.evolve(mapper.meta, timestamp=_EPOCH), parts.get_parts()

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.integers(0, len(_VARIANTS) - 1), max_size=25))
    def check(indices: list[int]) -> None:
        # Leading bare chunks make the fast path reachable often; then any mix of variants.
        indices = [0, 0, *indices, 0, 1, _VARIANTS.index(chunk({"content": "fin"}, finish="stop"))]
        assert run(indices, fast=True) == run(indices, fast=False)

    check()
