"""Anthropic Messages end to end over real sockets: the scripted loopback server (tests/loopback.py).

Covers streamed text (with ``ping``), streamed tool calls with partial JSON, thinking with a signature,
in-stream ``error`` events (first and mid-stream), ``529 overloaded_error`` before the stream opens,
a stream cut before ``message_stop``, a non-streamed request, and early exit (the server sees the
connection closed).
"""

from __future__ import annotations

import json
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
from trio_direct.events import ThinkingPartDelta, ToolCallPartDelta
from trio_direct.exceptions import (
    ModelConnectionError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelServerError,
    UnexpectedModelBehavior,
)
from trio_direct.models.anthropic import AnthropicModel

PROMPT = [ModelRequest.user_text_prompt("hi")]
MODEL_ID = "claude-sonnet-4-5-20250929"


def claude(srv: LoopbackServer, name: str = "claude-sonnet-4-5") -> AnthropicModel:
    return AnthropicModel(name, api_key="sk-ant-test", base_url=srv.url)


def ev(kind: str, **data: Any) -> str:
    """One Anthropic SSE event: an ``event:`` line naming it and the JSON, which names it too."""
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def start(input_tokens: int = 12) -> str:
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": MODEL_ID,
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": input_tokens, "cache_read_input_tokens": 3, "output_tokens": 1},
    }
    return ev("message_start", message=message)


def block(index: int, **content_block: Any) -> str:
    return ev("content_block_start", index=index, content_block=content_block)


def delta(index: int, **d: Any) -> str:
    return ev("content_block_delta", index=index, delta=d)


def stop(index: int) -> str:
    return ev("content_block_stop", index=index)


def finish(reason: str = "end_turn", output_tokens: int = 9) -> list[str]:
    return [
        ev(
            "message_delta",
            delta={"stop_reason": reason, "stop_sequence": None},
            usage={"output_tokens": output_tokens},
        ),
        ev("message_stop"),
    ]


async def collect(model: Any, params: ModelRequestParameters | None = None) -> tuple[list[Any], Any]:
    events: list[Any] = []
    async with model_request_stream(
        model, PROMPT, model_settings={"max_tokens": 100}, model_request_parameters=params
    ) as stream:
        async for event in stream:
            events.append(event)
        return events, stream.get()


async def test_streamed_text(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                start(),
                block(0, type="text", text=""),
                ev("ping"),
                delta(0, type="text_delta", text="Hel"),
                delta(0, type="text_delta", text="lo"),
                stop(0),
                *finish(),
            ],
            delay=0.01,
        )
    )
    events, response = await collect(claude(loopback))
    assert [type(e) for e in events] == [PartStartEvent, FinalResultEvent, PartDeltaEvent, PartEndEvent]
    assert response.parts == [TextPart("Hello")]
    assert (response.model_name, response.provider_response_id, response.finish_reason) == (
        MODEL_ID,
        "msg_01",
        "stop",
    )
    assert (response.usage.input_tokens, response.usage.cache_read_tokens, response.usage.output_tokens) == (
        15,
        3,
        9,
    )
    assert response.provider_name == "anthropic" and response.state == "complete"
    request = loopback.requests[0]
    assert request.path == "/v1/messages"
    assert request.json["stream"] is True and request.json["max_tokens"] == 100
    assert request.headers["x-api-key"] == "sk-ant-test"
    assert request.headers["anthropic-version"] == "2023-06-01"


async def test_streamed_tool_calls_with_partial_json(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                start(),
                block(0, type="text", text=""),
                delta(0, type="text_delta", text="Checking"),
                stop(0),
                block(1, type="tool_use", id="toolu_9", name="get_weather", input={}),
                delta(1, type="input_json_delta", partial_json=""),
                delta(1, type="input_json_delta", partial_json='{"city": "Pa'),
                delta(1, type="input_json_delta", partial_json='ris"}'),
                stop(1),
                block(2, type="tool_use", id="toolu_10", name="get_time", input={}),
                delta(2, type="input_json_delta", partial_json='{"tz": "CET"}'),
                stop(2),
                *finish("tool_use", 42),
            ],
            delay=0.005,
        )
    )
    params = ModelRequestParameters(
        function_tools=[ToolDefinition(name="get_weather"), ToolDefinition(name="get_time")]
    )
    events, response = await collect(claude(loopback), params)
    assert [type(e).__name__ for e in events] == [
        "PartStartEvent",
        "FinalResultEvent",
        "PartEndEvent",
        "PartStartEvent",
        "PartDeltaEvent",
        "PartDeltaEvent",
        "PartDeltaEvent",
        "PartEndEvent",
        "PartStartEvent",
        "PartDeltaEvent",
        "PartEndEvent",
    ]
    assert events[3] == PartStartEvent(
        index=1, part=ToolCallPart("get_weather", None, "toolu_9"), previous_part_kind="text"
    )
    assert events[5].delta == ToolCallPartDelta(args_delta='{"city": "Pa', tool_call_id="toolu_9")
    # streamed arguments stay the JSON string, as upstream's streamed responses
    assert response.parts == [
        TextPart("Checking"),
        ToolCallPart("get_weather", '{"city": "Paris"}', "toolu_9"),
        ToolCallPart("get_time", '{"tz": "CET"}', "toolu_10"),
    ]
    assert response.tool_calls[0].args_as_dict() == {"city": "Paris"}
    assert response.finish_reason == "tool_call" and response.usage.output_tokens == 42
    tools = loopback.requests[0].json["tools"]
    assert [t["name"] for t in tools] == ["get_weather", "get_time"]
    assert loopback.requests[0].json["tool_choice"] == {"type": "auto"}


async def test_thinking_with_signature(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                start(),
                block(0, type="thinking", thinking="", signature=""),
                delta(0, type="thinking_delta", thinking="Let me"),
                delta(0, type="thinking_delta", thinking=" think"),
                delta(0, type="signature_delta", signature="EqQBCkYIBxgCKkA="),
                stop(0),
                block(1, type="redacted_thinking", data="ENCRYPTED"),
                stop(1),
                block(2, type="text", text=""),
                delta(2, type="text_delta", text="42"),
                stop(2),
                *finish(),
            ]
        )
    )
    events, response = await collect(claude(loopback))
    assert events[0] == PartStartEvent(
        index=0, part=ThinkingPart("", signature="", provider_name="anthropic")
    )
    assert events[3] == PartDeltaEvent(index=0, delta=ThinkingPartDelta(signature_delta="EqQBCkYIBxgCKkA="))
    assert response.parts == [
        ThinkingPart("Let me think", signature="EqQBCkYIBxgCKkA=", provider_name="anthropic"),
        ThinkingPart("", id="redacted_thinking", signature="ENCRYPTED", provider_name="anthropic"),
        TextPart("42"),
    ]
    # and the signed blocks go back to Anthropic on the next turn
    loopback.enqueue(Reply.json(_message([{"type": "text", "text": "ok"}])))
    await model_request(claude(loopback), [*PROMPT, response, ModelRequest.user_text_prompt("and?")])
    assert loopback.requests[1].json["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Let me think", "signature": "EqQBCkYIBxgCKkA="},
            {"type": "redacted_thinking", "data": "ENCRYPTED"},
            {"type": "text", "text": "42"},
        ],
    }


async def test_in_stream_error_after_content(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                start(),
                block(0, type="text", text=""),
                delta(0, type="text_delta", text="partial"),
                ev("error", error={"type": "overloaded_error", "message": "Overloaded"}),
            ],
            delay=0.01,
        )
    )
    seen: list[Any] = []
    with pytest.raises(ModelOverloadedError) as info:
        async with model_request_stream(
            claude(loopback), PROMPT, model_settings={"max_tokens": 100}
        ) as stream:
            async for event in stream:
                seen.append(event)
    error = info.value
    assert isinstance(error, ModelHTTPError)
    assert (error.status_code, error.in_stream, error.model_name) == (529, True, MODEL_ID)
    assert error.provider_error_type == "overloaded_error"
    assert error.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert [type(e) for e in seen] == [PartStartEvent, FinalResultEvent]
    assert stream.get().parts == [TextPart("partial")] and stream.get().state == "incomplete"


async def test_in_stream_error_as_the_first_event_raises_on_entry(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse([ev("error", error={"type": "api_error", "message": "Internal server error"})])
    )
    with pytest.raises(ModelServerError) as info:
        async with model_request_stream(claude(loopback), PROMPT, model_settings={"max_tokens": 100}):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.status_code == 500 and info.value.in_stream


async def test_529_overloaded(loopback: LoopbackServer) -> None:
    body = {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "req_1",
    }
    loopback.enqueue(Reply.json(body, status=529), Reply.json(body, status=529, headers={"retry-after": "4"}))
    with pytest.raises(ModelOverloadedError) as streamed:
        async with model_request_stream(claude(loopback), PROMPT, model_settings={"max_tokens": 100}):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert isinstance(streamed.value, ModelHTTPError)
    assert (streamed.value.status_code, streamed.value.in_stream, streamed.value.body) == (529, False, body)
    with pytest.raises(ModelOverloadedError) as whole:
        await model_request(claude(loopback), PROMPT, model_settings={"max_tokens": 100})
    assert whole.value.status_code == 529 and whole.value.retry_after == 4.0  # type: ignore[attr-defined]
    assert "sk-ant-test" not in str(whole.value) and "sk-ant-test" not in repr(whole.value)


async def test_stream_cut_before_message_stop(loopback: LoopbackServer) -> None:
    events = [start(), block(0, type="text", text=""), delta(0, type="text_delta", text="x")]
    # the body ends cleanly, but the message never finished
    loopback.enqueue(Reply.sse(events))
    with pytest.raises(UnexpectedModelBehavior, match="message_stop"):
        await collect(claude(loopback))
    # the connection drops in the middle of the chunked body
    loopback.enqueue(Reply.sse(events, then=close()))
    with pytest.raises(ModelConnectionError) as info:
        await collect(claude(loopback))
    assert info.value.in_stream and info.value.phase == "read"


def _message(content: list[dict[str, Any]], stop_reason: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_02",
        "type": "message",
        "role": "assistant",
        "model": MODEL_ID,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 4, "output_tokens": 2},
    }


async def test_non_streamed_request(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            _message(
                [
                    {"type": "text", "text": "Calling"},
                    {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": 1}},
                ],
                "tool_use",
            )
        )
    )
    response = await model_request(
        claude(loopback),
        PROMPT,
        model_settings={"max_tokens": 50, "temperature": 0.2},
        model_request_parameters=ModelRequestParameters(function_tools=[ToolDefinition(name="f")]),
    )
    assert response.parts == [TextPart("Calling"), ToolCallPart("f", {"a": 1}, "toolu_1")]
    assert response.finish_reason == "tool_call" and response.provider_response_id == "msg_02"
    sent = loopback.requests[0].json
    assert sent["stream"] is False and sent["temperature"] == 0.2 and sent["max_tokens"] == 50


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [start(), block(0, type="text", text=""), delta(0, type="text_delta", text="first")],
            then=stall(),
        )
    )
    async with model_request_stream(claude(loopback), PROMPT, model_settings={"max_tokens": 100}) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()
