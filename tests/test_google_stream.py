"""Gemini end to end over real sockets: the scripted loopback server (tests/loopback.py).

Covers streamed text (CRLF events, as the real service sends them), function calls with thought
signatures, thinking, usage snapshots, in-stream error chunks (first and mid-stream), HTTP errors
before the stream opens, a non-streamed request, the key in the header and never the URL, and early
exit (the server sees the connection closed).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import trio

from tests.loopback import LoopbackServer, Reply, stall
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
from trio_direct.events import TextPartDelta, ThinkingPartDelta
from trio_direct.exceptions import (
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelServerError,
)
from trio_direct.models.google import GoogleModel

PROMPT = [ModelRequest.user_text_prompt("hi")]
KEY = "AIza-loopback-secret"


def gemini(srv: LoopbackServer, name: str = "gemini-2.5-flash") -> GoogleModel:
    return GoogleModel(name, api_key=KEY, base_url=srv.url)


def chunk(
    parts: list[dict[str, Any]] | None = None,
    *,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
    **top: Any,
) -> str:
    """One SSE event of a ``streamGenerateContent?alt=sse`` reply, CRLF-terminated like the real service."""
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or []}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    data = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash-001", "responseId": "resp_1", **top}
    if usage is not None:
        data["usageMetadata"] = usage
    return f"data: {json.dumps(data)}\r\n\r\n"


async def collect(model: Any, params: ModelRequestParameters | None = None) -> tuple[list[Any], Any]:
    events: list[Any] = []
    async with model_request_stream(model, PROMPT, model_request_parameters=params) as stream:
        async for event in stream:
            events.append(event)
        return events, stream.get()


async def test_streamed_text(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk([{"text": "The"}], usage={"promptTokenCount": 15}),
                chunk([{"text": " capital"}], usage={"promptTokenCount": 15, "candidatesTokenCount": 2}),
                chunk(
                    [{"text": " is Paris."}],
                    finish="STOP",
                    usage={
                        "promptTokenCount": 13,
                        "candidatesTokenCount": 8,
                        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 13}],
                    },
                ),
            ],
            delay=0.01,
        )
    )
    events, response = await collect(gemini(loopback))
    assert [type(e) for e in events] == [
        PartStartEvent,
        FinalResultEvent,
        PartDeltaEvent,
        PartDeltaEvent,
        PartEndEvent,
    ]
    assert events[2].delta == TextPartDelta(" capital")
    assert response.parts == [TextPart("The capital is Paris.")]
    assert (response.model_name, response.provider_response_id, response.finish_reason) == (
        "gemini-2.5-flash-001",
        "resp_1",
        "stop",
    )
    assert (response.usage.input_tokens, response.usage.output_tokens) == (13, 8)
    assert response.usage.details == {"text_prompt_tokens": 13}
    assert response.provider_name == "google" and response.canonical_system == "google"
    assert response.provider_details == {"finish_reason": "STOP"} and response.state == "complete"
    request = loopback.requests[0]
    assert request.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.query == {"alt": "sse"}
    assert request.headers["x-goog-api-key"] == KEY
    assert KEY not in request.path and KEY not in json.dumps(request.query)
    assert request.json == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"responseModalities": ["TEXT"]},
    }


async def test_streamed_function_calls_with_signature(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk([{"text": "Checking"}]),
                chunk(
                    [
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                            "thoughtSignature": "c2ln",
                        },
                        {"functionCall": {"name": "get_time", "args": {"tz": "CET"}, "id": "fc_2"}},
                    ]
                ),
                chunk(
                    [{"text": ""}], finish="STOP", usage={"promptTokenCount": 29, "candidatesTokenCount": 10}
                ),
            ],
            delay=0.005,
        )
    )
    params = ModelRequestParameters(
        function_tools=[ToolDefinition(name="get_weather"), ToolDefinition(name="get_time")]
    )
    events, response = await collect(gemini(loopback, "gemini-3-pro-preview"), params)
    assert [type(e).__name__ for e in events] == [
        "PartStartEvent",
        "FinalResultEvent",
        "PartEndEvent",
        "PartStartEvent",
        "PartEndEvent",
        "PartStartEvent",
        "PartEndEvent",
    ]
    first_call = response.parts[1]
    assert isinstance(first_call, ToolCallPart) and first_call.tool_call_id.startswith("pyd_ai_")
    # whole calls with dict arguments, as non-streamed
    assert response.parts == [
        TextPart("Checking"),
        ToolCallPart(
            "get_weather",
            {"city": "Paris"},
            first_call.tool_call_id,
            provider_name="google",
            provider_details={"thought_signature": "c2ln"},
        ),
        ToolCallPart("get_time", {"tz": "CET"}, "fc_2"),
    ]
    assert response.finish_reason == "stop"  # a function-call turn finishes with STOP
    sent = loopback.requests[0].json
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "VALIDATED"}}
    assert [d["name"] for d in sent["tools"][0]["functionDeclarations"]] == ["get_weather", "get_time"]
    # the signature goes back on the same part; the next call needs none
    loopback.enqueue(
        Reply.json({"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]})
    )
    await model_request(
        gemini(loopback, "gemini-3-pro-preview"), [*PROMPT, response], model_request_parameters=params
    )
    replayed = loopback.requests[1].json["contents"][1]
    assert replayed["role"] == "model"
    assert replayed["parts"][1] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": first_call.tool_call_id},
        "thoughtSignature": "c2ln",
    }
    assert "thoughtSignature" not in replayed["parts"][2]


async def test_streamed_thinking(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk(
                    [{"text": "**Plan**", "thought": True}],
                    usage={"promptTokenCount": 34, "thoughtsTokenCount": 68},
                ),
                chunk(
                    [{"text": " more", "thought": True}],
                    usage={"promptTokenCount": 34, "thoughtsTokenCount": 98},
                ),
                chunk([{"text": "Answer", "thoughtSignature": "U0lH"}]),
                chunk(
                    [{"text": "."}],
                    finish="STOP",
                    usage={"promptTokenCount": 34, "thoughtsTokenCount": 98, "candidatesTokenCount": 2},
                ),
            ]
        )
    )
    events, response = await collect(gemini(loopback, "gemini-2.5-pro"))
    assert events[0] == PartStartEvent(index=0, part=ThinkingPart("**Plan**"))
    assert events[1] == PartDeltaEvent(index=0, delta=ThinkingPartDelta(content_delta=" more"))
    assert isinstance(events[2], PartEndEvent) and isinstance(events[3], PartStartEvent)
    assert response.parts == [
        ThinkingPart("**Plan** more"),
        TextPart("Answer.", provider_name="google", provider_details={"thought_signature": "U0lH"}),
    ]
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.output_reasoning_tokens) == (34, 100, 98)
    assert usage.details == {"thoughts_tokens": 98}


async def test_in_stream_error_after_content(loopback: LoopbackServer) -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    loopback.enqueue(
        Reply.sse([chunk([{"text": "partial"}]), f"data: {json.dumps(error)}\r\n\r\n"], delay=0.01)
    )
    seen: list[Any] = []
    with pytest.raises(ModelOverloadedError) as info:
        async with model_request_stream(gemini(loopback), PROMPT) as stream:
            async for event in stream:
                seen.append(event)
    raised = info.value
    assert isinstance(raised, ModelHTTPError)
    assert (raised.status_code, raised.in_stream, raised.model_name) == (503, True, "gemini-2.5-flash-001")
    assert raised.provider_error_code == "UNAVAILABLE" and raised.body == error
    assert [type(e) for e in seen] == [PartStartEvent, FinalResultEvent]
    assert stream.get().parts == [TextPart("partial")] and stream.get().state == "incomplete"
    assert KEY not in str(raised) and KEY not in repr(raised)


async def test_in_stream_error_as_the_first_chunk_raises_on_entry(loopback: LoopbackServer) -> None:
    error = {"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}
    loopback.enqueue(Reply.sse([f"data: {json.dumps(error)}\r\n\r\n"]))
    with pytest.raises(ModelServerError) as info:
        async with model_request_stream(gemini(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert info.value.status_code == 500 and info.value.in_stream  # type: ignore[attr-defined]


async def test_http_errors_before_the_stream_opens(loopback: LoopbackServer) -> None:
    quota = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "14s"}],
        }
    }
    missing = {"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}
    loopback.enqueue(Reply.json(quota, status=429), Reply.json(missing, status=404))
    with pytest.raises(ModelRateLimitError) as limited:
        async with model_request_stream(gemini(loopback), PROMPT):
            pytest.fail("the stream must not open")  # pragma: no cover
    assert isinstance(limited.value, ModelHTTPError)
    assert (limited.value.retry_after, limited.value.in_stream, limited.value.body) == (14.0, False, quota)
    with pytest.raises(ModelNotFoundError) as not_found:
        await model_request(gemini(loopback), PROMPT)
    assert not_found.value.status_code == 404  # type: ignore[attr-defined]
    assert KEY not in str(not_found.value) and KEY not in repr(not_found.value)


async def test_non_streamed_request(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [{"functionCall": {"name": "f", "args": {"a": 1}, "id": "c1"}}],
                        },
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3},
                "modelVersion": "gemini-2.0-flash",
                "responseId": "r9",
            },
            headers={"x-gemini-service-tier": "FLEX"},
        )
    )
    response = await model_request(
        gemini(loopback, "gemini-2.0-flash"),
        [ModelRequest.user_text_prompt("hi", instructions="Be brief.")],
        model_settings={"max_tokens": 50, "temperature": 0.2, "service_tier": "flex"},
        model_request_parameters=ModelRequestParameters(function_tools=[ToolDefinition(name="f")]),
    )
    assert response.parts == [ToolCallPart("f", {"a": 1}, "c1")]
    assert response.provider_details == {"finish_reason": "STOP", "service_tier": "flex"}
    sent = loopback.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.0-flash:generateContent" and sent.query == {}
    assert sent.json["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 50,
        "responseModalities": ["TEXT"],
    }
    assert sent.json["systemInstruction"] == {"role": "user", "parts": [{"text": "Be brief."}]}
    assert sent.json["serviceTier"] == "flex"
    assert sent.json["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert sent.headers["x-server-timeout"] == "1200"


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk([{"text": "first"}]), chunk([{"text": " second"}])], then=stall()))
    async with model_request_stream(gemini(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()
