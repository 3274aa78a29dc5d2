"""Hypothesis: arbitrary bytes and JSON into every provider's parsers; only our own errors come out.

Every HTTP provider in the registry is fuzzed through the hooks ``HTTPModel`` drives — ``parse_response``
(a 2xx body), ``stream_mapper`` (SSE events through the shared parts manager, event decorator and
accumulator, exactly as the pump runs them) and ``http_error`` (a 4xx/5xx body) — plus the whole HTTP
path over ``httpx.MockTransport`` with arbitrary status, content type, body and chunking. The only
exceptions allowed out are ``TrioDirectError`` subclasses; whatever comes back must be a response that
serializes. New providers join automatically when they are registered.
"""

from __future__ import annotations

import functools
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from unittest import mock

import httpx
import orjson
import pytest
import trio
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.hosts import host_env, host_prefixes
from trio_direct import ModelRequest, ModelRequestParameters, ModelResponse, TrioDirectError, use_http_client
from trio_direct._aws.eventstream import EventStreamDecoder
from trio_direct._parts import EventDecorator, PartsManager, ResponseAccumulator
from trio_direct._sse import SSEDecoder
from trio_direct.messages import ModelMessage
from trio_direct.models import HTTPModel, infer_model, known_prefixes
from trio_direct.models._chat_profile import ChatProfile
from trio_direct.serialization import messages_to_python

PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
#: Examples per test and provider; raise it for a longer campaign (TRIO_DIRECT_FUZZ_EXAMPLES=5000).
EXAMPLES = int(os.environ.get("TRIO_DIRECT_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---------------------------------------------------------------------------------------------
# Every HTTP model in the registry, one per class
# ---------------------------------------------------------------------------------------------

_NAMES = {
    "anthropic": "claude-sonnet-4-5",
    "google": "gemini-2.5-flash",
    "google-gla": "gemini-2.5-flash",
    "gemini": "gemini-2.5-flash",
    "google-cloud": "gemini-2.5-flash",
    "huggingface": "deepseek-ai/DeepSeek-R1",
    "bedrock-mantle": "openai.gpt-5.6-luna",
    "groq": "llama-3.3-70b-versatile",
    "mistral": "mistral-large-latest",
    "cohere": "command-a-reasoning-08-2025",
    "openai-responses": "gpt-5",
    "bedrock": "us.amazon.nova-micro-v1:0",
}


@functools.cache
def http_models() -> tuple[HTTPModel, ...]:
    """One model per HTTPModel class the registry knows, built with throwaway keys and no I/O."""
    env = {f"{p.upper().replace('-', '_')}_API_KEY": "fuzz-key-123456" for p in known_prefixes()}
    env |= {"GEMINI_API_KEY": "fuzz-key-123456", "GOOGLE_API_KEY": "fuzz-key-123456", "XAI_API_KEY": "fuzz"}
    env |= {"CO_API_KEY": "fuzz-key-123456", "HF_TOKEN": "fuzz-key-123456"}
    env |= {"OPENAI_COMPATIBLE_BASE_URL": "http://127.0.0.1:9/v1"}
    # Bedrock signs with AWS keys (throwaway ones) and needs a region; no shared config files are read.
    env |= {"AWS_ACCESS_KEY_ID": "AKIDFUZZ", "AWS_SECRET_ACCESS_KEY": "fuzz-12", "AWS_REGION": "us-east-1"}
    # every OpenAI-compatible host row, pointed at a dead port with its own variables
    for prefix in host_prefixes():
        env |= {k: v for k, v in host_env(prefix, "http://127.0.0.1:9", "fuzz-key-123456").items() if v}
    # one model per class, and per Chat dialect extension a host row turns on (OpenRouter, Z.AI, ...)
    found: dict[object, HTTPModel] = {}
    with mock.patch.dict(os.environ, env), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the retired `github` row warns
        for prefix in known_prefixes():
            model = infer_model(f"{prefix}:{_NAMES.get(prefix, 'gpt-4o')}")
            if isinstance(model, HTTPModel):
                found.setdefault((type(model), _dialect_flavour(model)), model)
    return tuple(found.values())


def _dialect_flavour(model: HTTPModel) -> tuple[object, ...]:
    """The Chat dialect extensions a model's profile turns on (empty for other models)."""
    profile = getattr(model, "profile", None)
    if not isinstance(profile, ChatProfile):
        return ()
    return (
        profile.reasoning_details,
        profile.openrouter_extensions,
        profile.zai_thinking,
        profile.reasoning_object,
        profile.finish_from_parts,
        profile.extra_finish_reasons,
    )


def _model_id(model: HTTPModel) -> str:
    flavour = _dialect_flavour(model)
    return type(model).__name__ if not any(flavour) else f"{type(model).__name__}-{model.system}"


def test_the_fuzzed_providers() -> None:
    names = {type(m).__name__ for m in http_models()}
    assert {
        "OpenAIChatModel",
        "AnthropicModel",
        "GroqModel",
        "CohereModel",
        "GoogleCloudModel",
        "HuggingFaceModel",
    } <= names, names


# ---------------------------------------------------------------------------------------------
# Strategies: JSON shaped like provider bodies, SSE streams, chunkings
# ---------------------------------------------------------------------------------------------

_KEYS = [
    # OpenAI chat / Groq / Mistral
    "id", "object", "created", "model", "choices", "index", "message", "delta", "role", "content",
    "reasoning", "reasoning_content", "refusal", "tool_calls", "type", "function", "name", "arguments",
    "finish_reason", "logprobs", "usage", "prompt_tokens", "completion_tokens", "total_tokens",
    "x_groq", "annotations", "service_tier", "error", "code", "param",
    # OpenRouter / Snowflake / Z.AI extensions
    "reasoning_details", "signature", "format", "summary", "provider", "native_finish_reason",
    "is_byok", "cost", "cost_details", "server_tool_use_details", "metadata",
    # Anthropic
    "stop_reason", "stop_sequence", "input_tokens", "output_tokens", "content_block", "text",
    "thinking", "signature", "partial_json", "input", "tool_use_id", "citations", "data",
    "cache_read_input_tokens", "cache_creation_input_tokens", "container",
    # Gemini
    "candidates", "parts", "functionCall", "functionResponse", "args", "thought", "thoughtSignature",
    "finishReason", "usageMetadata", "promptTokenCount", "candidatesTokenCount", "modelVersion",
    "responseId", "promptFeedback", "inlineData", "mimeType", "executableCode", "codeExecutionResult",
    # Cohere v2 chat
    "finish_reason", "tool_plan", "billed_units", "tokens", "cached_tokens", "search_units",
    "citations", "prompt",
    # OpenAI Responses
    "output", "output_text", "item", "item_id", "output_index", "content_index", "response",
    "status", "summary", "call_id", "sequence_number", "incomplete_details", "encrypted_content",
]  # fmt: skip
_WORDS = [
    "assistant", "user", "text", "tool_use", "tool_calls", "function", "stop", "length", "end_turn",
    "max_tokens", "message", "message_start", "content_block_start", "content_block_delta",
    "content_block_stop", "message_delta", "message_stop", "text_delta", "input_json_delta",
    "thinking_delta", "signature_delta", "thinking", "redacted_thinking", "server_tool_use",
    "web_search_tool_result", "STOP", "MAX_TOKENS", "SAFETY", "response.created",
    "response.output_item.added", "response.output_text.delta", "response.completed",
    "response.failed", "function_call", "reasoning", "output_text", "error", "overloaded_error",
    "rate_limit_error", "[DONE]", "", "0", "{", "null",
    "message-start", "content-start", "content-delta", "content-end", "tool-plan-delta", "tool-call-start",
    "tool-call-delta", "tool-call-end", "citation-start", "message-end", "COMPLETE", "TOOL_CALL",
]  # fmt: skip

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(_WORDS)
)
json_like: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=6), children, max_size=6)
    ),
    max_leaves=30,
)

# Known-good shapes to mutate: fuzzing near valid input reaches the deep code paths.
_SEEDS: list[Any] = [
    {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "hi",
                    "tool_calls": [
                        {"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    },
    {
        "id": "msg",
        "type": "message",
        "role": "assistant",
        "model": "m",
        "content": [
            {"type": "thinking", "thinking": "hm", "signature": "s"},
            {"type": "text", "text": "hi"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
        ],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    },
    {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"text": "hi"}, {"functionCall": {"name": "f", "args": {"a": 1}}}],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
        "modelVersion": "m",
        "responseId": "r",
    },
    {
        "id": "resp",
        "object": "response",
        "created_at": 1,
        "model": "m",
        "status": "completed",
        "output": [
            {"type": "reasoning", "id": "rs", "summary": [{"type": "summary_text", "text": "hm"}]},
            {
                "type": "message",
                "id": "m1",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "hi", "annotations": []}],
            },
            {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"},
        ],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    },
    {
        "id": "co",
        "finish_reason": "TOOL_CALL",
        "message": {
            "role": "assistant",
            "content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "hi"}],
            "tool_plan": "p",
            "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        "usage": {
            "billed_units": {"input_tokens": 1, "output_tokens": 1},
            "tokens": {"input_tokens": 2.0, "output_tokens": 2},
            "cached_tokens": 1,
        },
    },
]


def _containers(node: Any) -> list[Any]:
    """Every non-empty dict and list inside ``node``, itself included."""
    found: list[Any] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict | list) and current:
            found.append(current)
            stack.extend(current.values() if isinstance(current, dict) else current)
    return found


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """``seed`` with a few values somewhere inside replaced, removed or retyped."""
    value = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(0, 4))):
        containers = _containers(value)
        if not containers:
            break
        target = draw(st.sampled_from(containers))
        key = draw(st.sampled_from(list(target) if isinstance(target, dict) else list(range(len(target)))))
        if draw(st.booleans()):
            target[key] = draw(json_like)
        elif isinstance(target, dict):
            del target[key]
        else:
            target.pop(key)
    return value


bodies: st.SearchStrategy[Any] = json_like | st.sampled_from(_SEEDS).flatmap(mutated)

# Streams: OpenAI-style chunks, Anthropic/Responses-style named events, Gemini chunks, noise.
_OPENAI_CHUNK = {
    "id": "c",
    "object": "chat.completion.chunk",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "delta": {
                "content": "a",
                "tool_calls": [{"index": 0, "id": "t", "function": {"name": "f", "arguments": "{"}}],
            },
            "finish_reason": None,
        }
    ],
}
_ANTHROPIC_EVENTS: list[tuple[str, Any]] = [
    (
        "message_start",
        {"type": "message_start", "message": {"id": "m", "model": "m", "usage": {"input_tokens": 1}}},
    ),
    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}),
    (
        "content_block_delta",
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "a"}},
    ),
    (
        "content_block_start",
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        },
    ),
    (
        "content_block_delta",
        {
            "type": "content_block_delta",
            "index": 1,
            "delta": {"type": "input_json_delta", "partial_json": '{"a'},
        },
    ),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    (
        "message_delta",
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    ),
    ("message_stop", {"type": "message_stop"}),
]
_RESPONSES_EVENTS: list[tuple[str, Any]] = [
    ("response.created", {"type": "response.created", "response": {"id": "r", "model": "m", "output": []}}),
    (
        "response.output_item.added",
        {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "id": "i"}},
    ),
    (
        "response.output_text.delta",
        {
            "type": "response.output_text.delta",
            "item_id": "i",
            "output_index": 0,
            "content_index": 0,
            "delta": "a",
        },
    ),
    (
        "response.completed",
        {
            "type": "response.completed",
            "response": {"id": "r", "model": "m", "status": "completed", "output": []},
        },
    ),
]
_COHERE_EVENTS: list[tuple[str, Any]] = [
    ("message-start", {"type": "message-start", "id": "r", "delta": {"message": {"role": "assistant"}}}),
    (
        "content-delta",
        {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "a"}}}},
    ),
    (
        "content-delta",
        {"type": "content-delta", "index": 1, "delta": {"message": {"content": {"thinking": "t"}}}},
    ),
    (
        "tool-call-start",
        {
            "type": "tool-call-start",
            "index": 0,
            "delta": {"message": {"tool_calls": {"id": "t", "function": {"name": "f", "arguments": ""}}}},
        },
    ),
    (
        "tool-call-delta",
        {
            "type": "tool-call-delta",
            "index": 0,
            "delta": {"message": {"tool_calls": {"function": {"arguments": '{"a'}}}},
        },
    ),
    (
        "message-end",
        {
            "type": "message-end",
            "delta": {"finish_reason": "COMPLETE", "usage": {"tokens": {"input_tokens": 1}}},
        },
    ),
]
_GEMINI_CHUNK = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "a"}]}}],
    "modelVersion": "m",
}


def _sse(name: str | None, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {name}\n" if name is not None else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode()


_event_names = st.none() | st.sampled_from(
    [name for name, _ in _ANTHROPIC_EVENTS + _RESPONSES_EVENTS + _COHERE_EVENTS] + ["error"]
)
sse_event: st.SearchStrategy[bytes] = st.one_of(
    st.builds(_sse, st.none(), mutated(_OPENAI_CHUNK)),
    st.builds(_sse, st.none(), mutated(_GEMINI_CHUNK)),
    st.sampled_from(_ANTHROPIC_EVENTS + _RESPONSES_EVENTS + _COHERE_EVENTS).flatmap(
        lambda pair: st.builds(_sse, st.just(pair[0]), mutated(pair[1]))
    ),
    st.builds(_sse, _event_names, json_like),
    st.builds(_sse, _event_names, st.text(max_size=30)),
    st.just(b"data: [DONE]\n\n"),
    st.just(b": keep-alive\n\n"),
    st.binary(max_size=40),
)
sse_streams: st.SearchStrategy[bytes] = st.lists(sse_event, max_size=12).map(b"".join)


def split(data: bytes, cuts: Sequence[int]) -> Iterator[bytes]:
    start = 0
    for cut in sorted({c % (len(data) + 1) for c in cuts}):
        yield data[start:cut]
        start = cut
    yield data[start:]


def check_response(response: object) -> None:
    assert isinstance(response, ModelResponse)
    messages_to_python([response])  # whatever came out is a well-formed response


def only_our_errors(fn: Callable[[], object]) -> object:
    """Run ``fn``; a TrioDirectError is fine, anything else fails the test (with the real traceback)."""
    try:
        return fn()
    except TrioDirectError:
        return None


#: Every fuzz test runs once per provider model class.
per_model = pytest.mark.parametrize("model", http_models(), ids=_model_id)

#: Streams: the same, per provider.
per_model_stream = pytest.mark.parametrize("model", http_models(), ids=_model_id)


# ---------------------------------------------------------------------------------------------
# Pure parsers
# ---------------------------------------------------------------------------------------------

_JSON_HEADERS = httpx.Headers({"content-type": "application/json"})


@per_model
@FUZZ
@given(body=bodies)
@example(body={"error": {"message": "x", "type": "server_error"}})
@example(body={"type": "error", "error": {"type": "overloaded_error", "message": "x"}})
@example(body=[])
@example(body=None)
def test_parse_response_json(model: HTTPModel, body: Any) -> None:
    params = ModelRequestParameters()
    response = only_our_errors(lambda: model.parse_response(orjson.dumps(body), _JSON_HEADERS, params, {}))
    if response is not None:
        check_response(response)


@per_model
@FUZZ
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
@example(body=b"")
@example(body=b'{"choices": [')
@example(body=b"\xff\xfe")
@example(body=b"<html>502</html>")
def test_parse_response_bytes(model: HTTPModel, body: bytes) -> None:
    params = ModelRequestParameters()
    response = only_our_errors(lambda: model.parse_response(body, _JSON_HEADERS, params, {}))
    if response is not None:
        check_response(response)


def run_stream_pipeline(
    model: HTTPModel, data: bytes, cuts: Sequence[int], *, check_views: bool = False
) -> None:
    """What the pump does with a body: decode, map, decorate, accumulate — then read the response."""
    params = ModelRequestParameters()
    parts = PartsManager()
    decorator = EventDecorator(parts, params)
    accumulator = ResponseAccumulator()
    mapper: Any
    decoder: Any
    if hasattr(model, "event_stream_mapper"):  # AWS event-stream framing (Bedrock)
        mapper = model.event_stream_mapper(params, parts, {})
        decoder = EventStreamDecoder()
    else:
        mapper = model.stream_mapper(params, parts, {})
        decoder = SSEDecoder()

    def step(events: Any) -> None:
        raw: list[Any] = []
        for sse in events:
            mapper.feed(sse, raw)
        decorated: list[Any] = []
        decorator.process(raw, decorated)
        accumulator.apply_all(decorated)

    def run() -> bool:
        for piece in split(data, cuts):
            step(decoder.feed(piece))
        step(decoder.close() or [])
        raw: list[Any] = []
        mapper.finish(raw)
        decorated: list[Any] = []
        decorator.process(raw, decorated)
        decorator.finish(decorated)
        accumulator.apply_all(decorated)
        return True

    ok = only_our_errors(run)
    meta = mapper.meta
    check_response(
        ModelResponse(
            accumulator.get_parts(),
            usage=meta.usage,
            model_name=meta.model_name,
            provider_name=meta.provider_name,
            provider_details=meta.provider_details,
            provider_response_id=meta.provider_response_id,
            finish_reason=meta.finish_reason,
        )
    )
    if ok and check_views:
        # the consumer's view matches the manager's (after an error the last read's events never
        # reach the consumer, so the manager may be ahead)
        assert accumulator.get_parts() == parts.get_parts()


@per_model_stream
@FUZZ
@given(data=sse_streams, cuts=st.lists(st.integers(0, 10_000), max_size=8))
@example(data=b"", cuts=[])
@example(data=b"data: [DONE]\n\n", cuts=[])
@example(
    data=_sse("error", {"type": "error", "error": {"type": "overloaded_error", "message": "x"}}), cuts=[3]
)
def test_stream_mapper(model: HTTPModel, data: bytes, cuts: list[int]) -> None:
    run_stream_pipeline(model, data, cuts)


@per_model
@FUZZ
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_stream_mapper_arbitrary_bytes(model: HTTPModel, data: bytes, cuts: list[int]) -> None:
    run_stream_pipeline(model, data, cuts)


@per_model
@FUZZ
@given(
    status=st.integers(400, 599),
    body=st.binary(max_size=100) | bodies.map(orjson.dumps),
    headers=st.dictionaries(
        st.sampled_from(["retry-after", "retry-after-ms", "x-should-retry", "content-type", "x-request-id"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
        max_size=3,
    ),
)
@example(status=429, body=b"", headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
@example(status=429, body=b"", headers={"retry-after": "nan"})
@example(status=429, body=b"", headers={"retry-after-ms": "inf"})
def test_http_error_builder(model: HTTPModel, status: int, body: bytes, headers: dict[str, str]) -> None:
    error = model.http_error(status, httpx.Headers(headers), body, model.model_name)
    assert isinstance(error, TrioDirectError), repr(error)
    assert str(error) and repr(error)
    retry_after = getattr(error, "retry_after", None)
    assert retry_after is None or retry_after >= 0


# ---------------------------------------------------------------------------------------------
# The whole HTTP path over httpx.MockTransport: status, content type, body, chunking
# ---------------------------------------------------------------------------------------------


class _Chunks(httpx.AsyncByteStream):
    """A response body in the given pieces; a plain async iterator (no async generator to finalize)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        await trio.lowlevel.checkpoint()
        if not self._pieces:
            raise StopAsyncIteration
        return self._pieces.pop(0)

    async def aclose(self) -> None:
        self._pieces = []


_content_types = st.sampled_from(
    ["text/event-stream", "application/json", "text/html", "text/plain", "", "application/octet-stream"]
)


@per_model
@settings(max_examples=max(EXAMPLES // 3, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from([200, 200, 200, 201, 400, 401, 404, 429, 500, 503, 529]),
    content_type=_content_types,
    data=sse_streams | bodies.map(orjson.dumps) | st.binary(max_size=100),
    cuts=st.lists(st.integers(0, 10_000), max_size=6),
    stream=st.booleans(),
)
def test_whole_http_path(
    model: HTTPModel, status: int, content_type: str, data: bytes, cuts: list[int], stream: bool
) -> None:
    assume(status != 201 or data)
    outcome: list[object] = []

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": content_type} if content_type else {}
        return httpx.Response(status, headers=headers, stream=_Chunks(list(split(data, cuts))))

    async def main() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with client, use_http_client(client):
            with trio.fail_after(10):  # a hang is a failure
                try:
                    if stream:
                        async with model.request_stream(PROMPT, None, None) as s:
                            async for _ in s:
                                pass
                        outcome.append(s.get())
                    else:
                        outcome.append(await model.request(PROMPT, None, None))
                except TrioDirectError as exc:
                    outcome.append(exc)

    trio.run(main)  # anything but our own errors (an ExceptionGroup, a KeyError...) fails here
    (result,) = outcome
    if isinstance(result, ModelResponse):
        check_response(result)
        assert status < 400


def test_a_delta_to_an_earlier_part_after_a_later_part_starts_in_one_read() -> None:
    # one OpenAI chunk with both content and a tool-call delta: the second chunk starts a text part
    # (ending the tool call) and then extends the tool call; the consumer must end with "ff", not "fff"
    (model,) = [m for m in http_models() if _model_id(m) == "OpenAIChatModel"]
    run_stream_pipeline(model, _sse(None, _OPENAI_CHUNK) * 2 + b"data: [DONE]\n\n", [], check_views=True)


def test_groq_stream_chunk_with_non_string_content() -> None:
    """Found by fuzzing: a non-string delta content used to reach the parts manager (TypeError)."""
    (model,) = [m for m in http_models() if type(m).__name__ == "GroqModel"]
    first = _sse(None, _OPENAI_CHUNK)
    second = _sse(
        None, {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": 1}}]}
    )
    run_stream_pipeline(model, first + second, [])
