"""Mistral end to end over real sockets: the scripted loopback server (tests/loopback.py).

Covers a text stream, a whole tool call, the output-tool quirk, an HTTP error before the stream opens,
an in-stream error, truncation, a non-streamed request, and early exit (the server sees the
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
    ModelAPIError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelRateLimitError,
)
from trio_direct.models.mistral import MistralModel

PROMPT = [ModelRequest.user_text_prompt("hi")]


def mistral(srv: LoopbackServer, name: str = "mistral-large-latest") -> MistralModel:
    return MistralModel(name, api_key="mistral-test-key", base_url=srv.url)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "9f9d9021",
        "object": "chat.completion.chunk",
        "created": 1764296393,
        "model": "mistral-large-2411",
        "choices": [{"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}],
    }
    base.update(extra)
    return base


USAGE = {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}


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
                chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}]}),
                chunk({"content": "Hel"}),
                chunk({"content": "lo"}),
                chunk({"content": ""}, "stop", usage=USAGE),
                "data: [DONE]",
            ],
            delay=0.01,
        )
    )
    events, response = await collect(mistral(loopback))
    assert [type(e).__name__ for e in events] == [
        "PartStartEvent",
        "PartEndEvent",
        "PartStartEvent",
        "FinalResultEvent",
        "PartDeltaEvent",
        "PartEndEvent",
    ]
    assert response.parts == [ThinkingPart("hm"), TextPart("Hello")]
    assert (response.model_name, response.provider_response_id, response.finish_reason) == (
        "mistral-large-2411",
        "9f9d9021",
        "stop",
    )
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 3)
    assert response.provider_name == "mistral" and response.state == "complete"
    request = loopback.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer mistral-test-key"
    assert request.headers["accept"] == "text/event-stream"
    assert request.json == {
        "model": "mistral-large-latest",
        "messages": [{"content": "hi", "role": "user"}],
        "top_p": None,
        "stream": True,
        "stop": None,
        "presence_penalty": None,
        "frequency_penalty": None,
    }


async def test_tool_call_stream(loopback: LoopbackServer) -> None:
    call = {
        "id": "abcDEF123",
        "type": "function",
        "index": 0,
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    loopback.enqueue(
        Reply.sse(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"tool_calls": [call]}, "tool_calls", usage=USAGE),
                "data: [DONE]",
            ]
        )
    )
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="get_weather")])
    events, response = await collect(mistral(loopback), params)
    assert [type(e) for e in events] == [PartStartEvent, PartEndEvent]
    assert response.parts == [ToolCallPart("get_weather", '{"city": "Paris"}', "abcDEF123")]
    assert response.finish_reason == "tool_call"
    sent = loopback.requests[0].json
    assert (sent["n"], sent["top_p"], sent["tool_choice"]) == (1, 1.0, "auto")
    assert sent["tools"] == [
        {
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {}},
                "description": "",
            },
            "type": "function",
        }
    ]


async def test_output_tool_from_streamed_text(loopback: LoopbackServer) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    loopback.enqueue(
        Reply.sse(
            [
                chunk({"content": '{"a"'}),
                chunk({"content": ": 4"}),
                chunk({"content": "2}"}),
                chunk({}, "stop", usage=USAGE),
                "data: [DONE]",
            ]
        )
    )
    params = ModelRequestParameters(
        output_mode="tool",
        output_tools=[ToolDefinition(name="final_result", parameters_json_schema=schema, kind="output")],
        allow_text_output=False,
    )
    events, response = await collect(mistral(loopback), params)
    assert any(isinstance(e, FinalResultEvent) and e.tool_name == "final_result" for e in events)
    (part,) = response.parts
    assert isinstance(part, ToolCallPart) and (part.tool_name, part.args) == ("final_result", {"a": 42})
    assert loopback.requests[0].json["tool_choice"] == "any"


async def test_http_error_raises_when_the_stream_opens(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json({"message": "Requests rate limit exceeded"}, status=429, headers={"retry-after": "3"}),
        Reply.json(
            {
                "object": "error",
                "message": "too long",
                "type": "invalid_request_message_error",
                "code": "3051",
            },
            status=400,
        ),
    )
    with pytest.raises(ModelRateLimitError) as info:
        async with model_request_stream(mistral(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.status_code == 429 and info.value.retry_after == 3.0
    assert info.value.body == '{"message": "Requests rate limit exceeded"}'
    with pytest.raises(ModelContextWindowExceededError):
        await model_request(mistral(loopback), PROMPT)


async def test_in_stream_error_and_truncation(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [chunk({"content": "a"}), {"object": "error", "message": "Service overloaded", "code": "1000"}]
        ),
        # a complete body without `[DONE]` or a finish reason, then a connection cut mid-body
        Reply.sse([chunk({"content": "a"}), chunk({"content": "b"})]),
        Reply.sse([chunk({"content": "a"}), chunk({"content": "b"})], then=close()),
    )
    with pytest.raises(ModelAPIError, match="overloaded") as info:
        await collect(mistral(loopback))
    assert info.value.in_stream
    with pytest.raises(ModelConnectionError, match="the response is probably truncated"):
        await collect(mistral(loopback))
    with pytest.raises(ModelConnectionError) as cut:
        await collect(mistral(loopback))
    assert cut.value.in_stream and cut.value.phase == "read"


async def test_non_streamed_request(loopback: LoopbackServer) -> None:
    body = {
        "id": "cmpl-2",
        "object": "chat.completion",
        "created": 1766496292,
        "model": "mistral-large-2411",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"function": {"arguments": "{}", "name": "get_image"}, "id": "FI5qQGzDE", "index": 0}
                    ],
                },
            }
        ],
        "usage": {"prompt_tokens": 65, "completion_tokens": 16, "total_tokens": 81, "num_cached_tokens": 0},
    }
    loopback.enqueue(Reply.json(body))
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="get_image")])
    response = await model_request(mistral(loopback), PROMPT, model_request_parameters=params)
    assert response.parts == [ToolCallPart("get_image", "{}", "FI5qQGzDE")]
    assert response.usage.details == {"num_cached_tokens": 0} and response.finish_reason == "tool_call"
    request = loopback.requests[0]
    assert request.headers["accept"] == "application/json" and request.json["stream"] is False


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk({"content": "first"}), chunk({"content": "second"})], then=stall()))
    async with model_request_stream(mistral(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()
