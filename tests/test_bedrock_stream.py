"""Bedrock ConverseStream end to end over real sockets (tests/loopback.py serving AWS event streams).

Covers streamed text, tool calls and signed reasoning; exception messages first and mid-stream; a 400
before the stream; corrupt and truncated event streams; a JSON body where a stream was expected; early
exit (the server sees the connection closed) from async and sync callers; Claude's hidden stream for a
non-streamed request; and the SigV4 signature as received, checked against the bytes on the wire.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.eventstream import encode_message, event, eventstream_reply, exception, text_stream
from tests.loopback import LoopbackServer, Reply, close, stall
from trio_direct import (
    ModelRequest,
    ModelRequestParameters,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    TrioDirectError,
    model_request,
    model_request_stream,
    model_request_stream_sync,
)
from trio_direct._aws.credentials import AWSConfig, AWSCredentials
from trio_direct._aws.eventstream import EventStreamDecoder, EventStreamError
from trio_direct._aws.sigv4 import sign_request
from trio_direct._parts import EventDecorator, PartsManager, ResponseAccumulator
from trio_direct.exceptions import (
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelServerError,
    UnexpectedModelBehavior,
)
from trio_direct.models.bedrock import BedrockConverseModel

PROMPT = [ModelRequest.user_text_prompt("hi")]
NOVA = "us.amazon.nova-micro-v1:0"
CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def bedrock(srv: LoopbackServer, model_id: str = NOVA, token: str | None = None) -> BedrockConverseModel:
    config = AWSConfig(
        region="us-east-1",
        endpoint_url=srv.url,
        credentials=AWSCredentials("AKIDEXAMPLE", SECRET, token),
    )
    return BedrockConverseModel(model_id, config=config)


async def test_text_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["Hel", "lo", "!"])))
    events: list[Any] = []
    async with model_request_stream(bedrock(loopback), PROMPT) as stream:
        async for e in stream:
            events.append(e)
    assert [type(e).__name__ for e in events] == [
        "PartStartEvent",
        "FinalResultEvent",
        "PartDeltaEvent",
        "PartDeltaEvent",
        "PartEndEvent",
    ]
    response = stream.get()
    assert response.parts == [TextPart("Hello!")]
    assert response.finish_reason == "stop"
    assert response.provider_details == {"finish_reason": "end_turn"}
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 3)
    assert response.state == "complete"
    request = loopback.requests[0]
    assert request.path == "/model/us.amazon.nova-micro-v1%3A0/converse-stream"
    assert request.headers["accept"] == "application/vnd.amazon.eventstream"
    assert request.json["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]


async def test_signature_matches_the_bytes_on_the_wire(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["ok"])))
    async with model_request_stream(bedrock(loopback, token="session-token-xyz"), PROMPT) as stream:
        async for _ in stream:
            pass
    request = loopback.requests[0]
    auth = request.headers["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    when = datetime.datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.UTC
    )
    headers = {
        k: v
        for k, v in request.headers.items()
        if k in signed and k not in ("host", "x-amz-date", "x-amz-security-token")
    }
    again = sign_request(
        method=request.method,
        url=f"{loopback.url}{request.target}",
        headers=headers,
        body=request.body,
        credentials=AWSCredentials("AKIDEXAMPLE", SECRET, "session-token-xyz"),
        region="us-east-1",
        service="bedrock",
        now=when,
    )
    assert again["authorization"] == auth
    assert request.headers["x-amz-security-token"] == "session-token-xyz"
    assert "host" in signed and "x-amz-security-token" in signed


async def test_tool_call_and_reasoning_stream(loopback: LoopbackServer) -> None:
    messages = [
        event("messageStart", {"role": "assistant"}),
        event(
            "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "think"}}}
        ),
        event(
            "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}}
        ),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event(
            "contentBlockStart",
            {"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tu_1", "name": "get_weather"}}},
        ),
        event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '{"city": '}}}),
        event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": '"Paris"}'}}}),
        event("contentBlockStop", {"contentBlockIndex": 1}),
        event("messageStop", {"stopReason": "tool_use"}),
        event("metadata", {"usage": {"inputTokens": 3, "outputTokens": 4, "cacheReadInputTokens": 10}}),
    ]
    loopback.enqueue(eventstream_reply(messages))
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="get_weather")])
    events: list[Any] = []
    async with model_request_stream(
        bedrock(loopback, CLAUDE), PROMPT, model_request_parameters=params
    ) as stream:
        async for e in stream:
            events.append(e)
    response = stream.get()
    assert response.parts == [
        ThinkingPart("think", signature="sig", provider_name="bedrock"),
        ToolCallPart("get_weather", '{"city": "Paris"}', "tu_1"),
    ]
    assert response.finish_reason == "tool_call"
    assert response.usage.input_tokens == 13 and response.usage.cache_read_tokens == 10
    assert response.canonical_system == "anthropic"
    assert isinstance(events[0], PartStartEvent) and isinstance(events[-1], PartEndEvent)
    assert any(isinstance(e, PartDeltaEvent) for e in events)


async def test_exception_message_before_any_event_raises_from_async_with(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply([exception("throttlingException", "Too many requests")]))
    with pytest.raises(ModelRateLimitError) as info:
        async with model_request_stream(bedrock(loopback), PROMPT):
            pass
    assert isinstance(info.value, ModelHTTPError) and info.value.status_code == 429 and info.value.in_stream


async def test_exception_message_mid_stream_raises_from_the_loop(loopback: LoopbackServer) -> None:
    messages = [*text_stream(["a", "b"])[:3], exception("modelStreamErrorException", "the model broke")]
    loopback.enqueue(eventstream_reply(messages))
    seen: list[Any] = []
    async with model_request_stream(bedrock(loopback), PROMPT) as stream:
        with pytest.raises(ModelServerError) as info:
            async for e in stream:
                seen.append(e)
    assert seen and info.value.status_code == 424  # type: ignore[attr-defined]
    assert stream.get().parts == [TextPart("ab")]


async def test_http_400_before_the_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"message": "The provided model identifier is invalid."}, status=400))
    with pytest.raises(ModelNotFoundError) as info:
        async with model_request_stream(bedrock(loopback, "us.does-not-exist-model-v1:0"), PROMPT):
            pass
    assert info.value.status_code == 400  # type: ignore[attr-defined]


async def test_corrupt_frame_mid_stream(loopback: LoopbackServer) -> None:
    good = text_stream(["a"])
    bad = bytearray(good[2])
    bad[-1] ^= 0xFF  # message CRC
    loopback.enqueue(eventstream_reply([good[0], good[1], bytes(bad)]))
    async with model_request_stream(bedrock(loopback), PROMPT) as stream:
        with pytest.raises(EventStreamError, match="message CRC"):
            async for _ in stream:
                pass


async def test_stream_cut_inside_a_message(loopback: LoopbackServer) -> None:
    messages = text_stream(["a", "b"])
    loopback.enqueue(eventstream_reply([messages[0], messages[1], messages[2][:10]], then=[close()]))
    with pytest.raises((EventStreamError, ModelConnectionError)):
        async with model_request_stream(bedrock(loopback), PROMPT) as stream:
            async for _ in stream:
                pass


async def test_json_body_instead_of_a_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"message": "surprise"}))
    with pytest.raises(UnexpectedModelBehavior, match="expected an AWS event stream"):
        async with model_request_stream(bedrock(loopback), PROMPT):
            pass


async def test_empty_stream(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply([]))
    with pytest.raises(UnexpectedModelBehavior, match="without any event"):
        async with model_request_stream(bedrock(loopback), PROMPT) as stream:
            async for _ in stream:
                pass


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["a"])[:2], then=[stall()]))
    async with model_request_stream(bedrock(loopback), PROMPT) as stream:
        async for _ in stream:
            break
    await loopback.wait_for_client_close_async()
    assert stream.get().parts == [TextPart("a")]


def test_early_exit_from_sync_code(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["a"])[:2], then=[stall()]))
    with model_request_stream_sync(bedrock(loopback), PROMPT) as stream:
        for _ in stream:
            break
    loopback.wait_for_client_close()


async def test_cancel_scope_deadline_while_stalled(
    loopback: LoopbackServer, autojump_clock: trio.abc.Clock
) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["a"])[:2], then=[stall()]))
    with trio.move_on_after(5) as scope:
        async with model_request_stream(bedrock(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    assert scope.cancelled_caught


async def test_non_streamed_request(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": "Paris"}]}},
                "stopReason": "end_turn",
                "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
                "metrics": {"latencyMs": 5},
            },
            headers={"x-amzn-RequestId": "req-42"},
        )
    )
    response = await model_request(bedrock(loopback), PROMPT)
    assert response.parts == [TextPart("Paris")]
    assert response.provider_response_id == "req-42"
    assert loopback.requests[0].path == "/model/us.amazon.nova-micro-v1%3A0/converse"


async def test_claude_without_max_tokens_streams_behind_the_scenes(loopback: LoopbackServer) -> None:
    loopback.enqueue(eventstream_reply(text_stream(["Hi", " there"])))
    response = await model_request(bedrock(loopback, CLAUDE), PROMPT)
    assert response.parts == [TextPart("Hi there")] and response.state == "complete"
    request = loopback.requests[0]
    assert request.path.endswith("/converse-stream")
    assert request.json["inferenceConfig"] == {"maxTokens": 64000}


async def test_http_error_of_a_non_streamed_request(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {"message": "Rate exceeded"},
            status=429,
            headers={"x-amzn-ErrorType": "ThrottlingException:http://x"},
        )
    )
    with pytest.raises(ModelRateLimitError) as info:
        await model_request(bedrock(loopback), PROMPT)
    assert info.value.provider_error_code == "ThrottlingException"


# -- the mapper under arbitrary (well-framed) events ------------------------------------------------

_EVENT_TYPES = [
    "messageStart",
    "contentBlockStart",
    "contentBlockDelta",
    "contentBlockStop",
    "messageStop",
    "metadata",
    "other",
]
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "contentBlockIndex",
                    "delta",
                    "start",
                    "text",
                    "toolUse",
                    "toolUseId",
                    "name",
                    "input",
                    "reasoningContent",
                    "signature",
                    "redactedContent",
                    "toolResult",
                    "type",
                    "json",
                    "stopReason",
                    "usage",
                    "inputTokens",
                    "status",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
_messages = st.one_of(
    st.builds(
        lambda t, p: event(t, p),
        st.sampled_from(_EVENT_TYPES),
        st.dictionaries(
            st.sampled_from(["contentBlockIndex", "delta", "start", "stopReason", "usage", "trace"]),
            _json,
            max_size=3,
        ),
    ),
    st.builds(
        lambda t: exception(t, "x"),
        st.sampled_from(["throttlingException", "validationException", "fooException"]),
    ),
    st.builds(
        lambda p: encode_message({":message-type": "event", ":event-type": "contentBlockDelta"}, p),
        st.binary(max_size=20),
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_messages, max_size=10))
def test_mapper_lets_only_our_errors_out(messages: list[bytes]) -> None:
    config = AWSConfig(region="us-east-1", endpoint_url="https://x", credentials=AWSCredentials("A", "S"))
    model = BedrockConverseModel(CLAUDE, config=config)
    params = ModelRequestParameters()
    parts = PartsManager()
    mapper = model.event_stream_mapper(params, parts, {})
    decorator = EventDecorator(parts, params)
    accumulator = ResponseAccumulator()
    try:
        for message in EventStreamDecoder().feed(b"".join(messages)):
            raw: list[Any] = []
            mapper.feed(message, raw)
            out: list[Any] = []
            decorator.process(raw, out)
            accumulator.apply_all(out)
        mapper.finish([])
    except TrioDirectError:
        pass
    accumulator.get_parts()


async def test_connection_reset_mid_stream(loopback: LoopbackServer) -> None:
    from tests.loopback import reset

    loopback.enqueue(eventstream_reply(text_stream(["a", "b"])[:2], then=[reset()]))
    with pytest.raises(ModelConnectionError) as info:
        async with model_request_stream(bedrock(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    assert info.value.in_stream


async def test_stalled_stream_hits_the_inactivity_limit(loopback: LoopbackServer) -> None:
    from trio_direct.exceptions import ModelTimeoutError

    loopback.enqueue(eventstream_reply(text_stream(["a"])[:2], then=[stall()]))
    with pytest.raises(ModelTimeoutError) as info:
        async with model_request_stream(
            bedrock(loopback), PROMPT, model_settings={"stream_inactivity_timeout": 0.3}
        ) as stream:
            async for _ in stream:
                pass
    assert info.value.phase == "read"
