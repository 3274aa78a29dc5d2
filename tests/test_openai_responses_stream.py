"""OpenAI Responses end to end over real sockets: the scripted loopback server (tests/loopback.py).

Covers streamed text, function calls, reasoning (summaries and encrypted content), ``response.failed``
and ``error`` events (before and after the first event), a stream cut before its terminal event, HTTP
errors, a non-streamed request, and early exit (the server sees the connection closed).
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
    ModelServerError,
)
from trio_direct.models import openai_responses as orr
from trio_direct.models.base import Provider

PROMPT = [ModelRequest.user_text_prompt("hi")]
KEY = "sk-loopback-secret"


def responses(srv: LoopbackServer, name: str = "gpt-5") -> orr.OpenAIResponsesModel:
    return orr.OpenAIResponsesModel(name, provider=Provider("openai", srv.url + "/v1", KEY))


def event(kind: str, **data: Any) -> str:
    """An SSE event as OpenAI writes it: an ``event:`` line naming the type, and the JSON data."""
    import json

    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}"


def response_object(status: str = "in_progress", **extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1743082657,
        "status": status,
        "model": "gpt-5-2025-08-07",
        "output": [],
        "usage": None,
        **extra,
    }


CREATED = event("response.created", response=response_object())
USAGE = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 2},
    "output_tokens": 30,
    "output_tokens_details": {"reasoning_tokens": 16},
    "total_tokens": 42,
}
COMPLETED = event(
    "response.completed", response=response_object("completed", usage=USAGE, service_tier="default")
)


def text_events(text: str = "Hello there") -> list[str]:
    message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}
    words = text.split(" ")
    deltas = [w if i == 0 else " " + w for i, w in enumerate(words)]
    return [
        event("response.output_item.added", output_index=0, item=message),
        event("response.content_part.added", item_id="msg_1", output_index=0, content_index=0, part={}),
        *(
            event("response.output_text.delta", item_id="msg_1", output_index=0, content_index=0, delta=d)
            for d in deltas
        ),
        event("response.output_text.done", item_id="msg_1", output_index=0, content_index=0, text=text),
        event("response.output_item.done", output_index=0, item={**message, "status": "completed"}),
    ]


async def collect(model: Any, params: ModelRequestParameters | None = None) -> tuple[list[Any], Any]:
    events: list[Any] = []
    async with model_request_stream(model, PROMPT, model_request_parameters=params) as stream:
        async for ev in stream:
            events.append(ev)
        return events, stream.get()


async def test_text_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([CREATED, *text_events(), COMPLETED], delay=0.01))
    events, response = await collect(responses(loopback))
    assert [type(e) for e in events] == [PartStartEvent, FinalResultEvent, PartDeltaEvent, PartEndEvent]
    assert response.parts == [TextPart("Hello there", id="msg_1", provider_name="openai")]
    assert (response.model_name, response.provider_response_id, response.finish_reason, response.state) == (
        "gpt-5-2025-08-07",
        "resp_1",
        "stop",
        "complete",
    )
    assert response.provider_details["finish_reason"] == "completed"
    assert response.provider_details["service_tier"] == "default"
    usage = response.usage
    assert (
        usage.input_tokens,
        usage.cache_read_tokens,
        usage.output_tokens,
        usage.output_reasoning_tokens,
    ) == (
        12,
        2,
        30,
        16,
    )
    request = loopback.requests[0]
    assert request.path == "/v1/responses"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.json == {
        "model": "gpt-5",
        "input": [{"role": "user", "content": "hi"}],
        "stream": True,
        "include": ["reasoning.encrypted_content"],
    }


async def test_function_calls(loopback: LoopbackServer) -> None:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": "",
    }
    second = {**call, "id": "fc_2", "call_id": "call_2"}
    loopback.enqueue(
        Reply.sse(
            [
                CREATED,
                event("response.output_item.added", output_index=0, item=call),
                event(
                    "response.function_call_arguments.delta", item_id="fc_1", output_index=0, delta='{"city":'
                ),
                event(
                    "response.function_call_arguments.delta", item_id="fc_1", output_index=0, delta='"Paris"}'
                ),
                event(
                    "response.function_call_arguments.done",
                    item_id="fc_1",
                    output_index=0,
                    arguments='{"city":"Paris"}',
                ),
                event(
                    "response.output_item.done",
                    output_index=0,
                    item={**call, "arguments": '{"city":"Paris"}'},
                ),
                # a server that sends the arguments only with the finished item
                event("response.output_item.added", output_index=1, item=second),
                event(
                    "response.output_item.done",
                    output_index=1,
                    item={**second, "arguments": '{"city":"Rome"}'},
                ),
                COMPLETED,
            ],
            delay=0.005,
        )
    )
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="get_weather")])
    events, response = await collect(responses(loopback), params)
    assert response.parts == [
        ToolCallPart("get_weather", '{"city":"Paris"}', "call_1", id="fc_1", provider_name="openai"),
        ToolCallPart("get_weather", '{"city":"Rome"}', "call_2", id="fc_2", provider_name="openai"),
    ]
    assert response.finish_reason == "stop"  # a tool-call response still finishes with `stop` here
    starts = [e.index for e in events if isinstance(e, PartStartEvent)]
    assert starts == [0, 1]
    tools = loopback.requests[0].json["tools"]
    assert [t["name"] for t in tools] == ["get_weather"] and tools[0]["strict"] is False


async def test_reasoning_stream(loopback: LoopbackServer) -> None:
    reasoning = {"type": "reasoning", "id": "rs_1", "summary": []}
    loopback.enqueue(
        Reply.sse(
            [
                CREATED,
                event("response.output_item.added", output_index=0, item=reasoning),
                event(
                    "response.reasoning_summary_part.added",
                    item_id="rs_1",
                    output_index=0,
                    summary_index=0,
                    part={"type": "summary_text", "text": ""},
                ),
                event(
                    "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta="think "
                ),
                event("response.reasoning_summary_text.delta", item_id="rs_1", summary_index=0, delta="A"),
                event(
                    "response.reasoning_summary_text.delta", item_id="rs_1", summary_index=1, delta="think B"
                ),
                event(
                    "response.output_item.done",
                    output_index=0,
                    item={
                        **reasoning,
                        "encrypted_content": "ENC",
                        "summary": [{"type": "summary_text", "text": "x"}],
                    },
                ),
                *text_events("Hi"),
                COMPLETED,
            ],
            delay=0.005,
        )
    )
    events, response = await collect(responses(loopback, "o3-mini"))
    assert response.parts == [
        ThinkingPart("think A", id="rs_1", signature="ENC", provider_name="openai"),
        ThinkingPart("think B", id="rs_1", provider_name="openai"),
        TextPart("Hi", id="msg_1", provider_name="openai"),
    ]
    # the signature arrives after the second summary started, as a delta on the first part
    assert [
        (type(e).__name__, getattr(e, "index", None)) for e in events if not isinstance(e, PartEndEvent)
    ] == [
        ("PartStartEvent", 0),
        ("PartDeltaEvent", 0),
        ("PartDeltaEvent", 0),
        ("PartStartEvent", 1),
        ("PartDeltaEvent", 0),
        ("PartStartEvent", 2),
        ("FinalResultEvent", None),
    ]
    assert response.usage.details == {"reasoning_tokens": 16}


async def test_error_event_first_raises_from_async_with(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([event("error", code="server_error", message="boom", param=None)]))
    with pytest.raises(ModelServerError) as info:
        async with model_request_stream(responses(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.in_stream and info.value.status_code == 500  # type: ignore[attr-defined]
    assert info.value.body == {"code": "server_error", "message": "boom"}


async def test_failed_response_raises_from_iteration(loopback: LoopbackServer) -> None:
    failed = response_object("failed", error={"code": "rate_limit_exceeded", "message": "slow down"})
    loopback.enqueue(
        Reply.sse(
            [CREATED, *text_events("partial text"), event("response.failed", response=failed)], delay=0.02
        )
    )
    seen: list[Any] = []
    async with model_request_stream(responses(loopback), PROMPT) as stream:
        with pytest.raises(ModelRateLimitError) as info:
            async for ev in stream:
                seen.append(ev)
        assert stream.get().parts == [TextPart("partial text", id="msg_1", provider_name="openai")]
    assert info.value.in_stream and info.value.status_code == 429  # type: ignore[attr-defined]
    assert isinstance(seen[0], PartStartEvent)


async def test_error_event_mid_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse([CREATED, *text_events(), event("error", code="weird_code", message="odd")], delay=0.02)
    )
    async with model_request_stream(responses(loopback), PROMPT) as stream:
        with pytest.raises(Exception) as info:
            async for _ in stream:
                pass
    # no status stands for an unknown code: a plain categorised API error, in the stream
    assert type(info.value).__name__ == "ModelAPIError"
    assert str(info.value) == "weird_code: odd" and info.value.in_stream  # type: ignore[attr-defined]


async def test_stream_cut_before_the_terminal_event(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([CREATED, *text_events()]))
    _, response = await collect(responses(loopback))
    # a clean end without `response.completed`: the response says it is incomplete
    assert response.state == "incomplete" and response.finish_reason is None
    assert response.usage.unmeasured_requests == 1
    loopback.enqueue(Reply.sse([CREATED, *text_events()[:3], b'event: x\ndata: {"tru'], then=close()))
    async with model_request_stream(responses(loopback), PROMPT) as stream:
        with pytest.raises(ModelConnectionError):
            async for _ in stream:
                pass


async def test_http_error_before_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {
                "error": {
                    "message": "Invalid 'temperature'",
                    "type": "invalid_request_error",
                    "code": "decimal_below_min_value",
                }
            },
            status=400,
        )
    )
    with pytest.raises(ModelRequestRejectedError) as info:
        async with model_request_stream(responses(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.status_code == 400  # type: ignore[attr-defined]
    assert info.value.provider_error_code == "decimal_below_min_value"
    assert KEY not in str(info.value) and KEY not in repr(info.value)


async def test_non_streamed_request(loopback: LoopbackServer) -> None:
    body = response_object(
        "completed",
        output=[
            {
                "type": "message",
                "id": "msg_9",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Paris.", "annotations": []}],
            }
        ],
        usage=USAGE,
    )
    loopback.enqueue(Reply.json(body))
    # gpt-5 reasons, so the sampling setting is dropped, with a warning
    with pytest.warns(UserWarning, match="Sampling parameters"):
        response = await model_request(
            responses(loopback), PROMPT, model_settings={"max_tokens": 50, "temperature": 0.1}
        )
    assert response.parts == [TextPart("Paris.", id="msg_9", provider_name="openai")]
    assert response.usage.input_tokens == 12
    sent = loopback.requests[0].json
    assert sent["max_output_tokens"] == 50 and "temperature" not in sent and sent["stream"] is False


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([CREATED, *text_events("one two three")], then=stall()))
    async with model_request_stream(responses(loopback), PROMPT) as stream:
        async for ev in stream:
            assert isinstance(ev, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


async def test_a_key_echoed_by_the_server_never_reaches_the_caller(loopback: LoopbackServer) -> None:
    echo = f"Incorrect API key provided: {KEY}"
    loopback.enqueue(
        Reply.sse([CREATED, event("error", code="invalid_api_key", message=echo)]),
        Reply.json(response_object("failed", error={"code": "invalid_api_key", "message": echo})),
    )
    with pytest.raises(Exception) as streamed:
        async with model_request_stream(responses(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    with pytest.raises(Exception) as plain:
        await model_request(responses(loopback), PROMPT)
    for info in (streamed, plain):
        assert type(info.value).__name__ == "ModelAuthenticationError"
        assert KEY not in str(info.value) and KEY not in repr(info.value)
        assert KEY not in repr(getattr(info.value, "body", None))
