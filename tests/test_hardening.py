"""Hostile servers (issue 11): bounded memory, only our own errors, streams that end at their marker.

Every test runs against the scripted loopback server, through the real provider modules. Memory is
measured with tracemalloc: whatever the server sends, what the client holds grows by at most the limit
plus a small constant. "Nothing else read" shows as the client closing the connection while the server
is still sending.
"""

from __future__ import annotations

import gzip
import json
import logging
import pickle
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from tests.loopback import LoopbackServer, Reply, chunk, encode_sse_event, head, heartbeat, stall
from tests.reliability import PROMPT, completion, openai_model, sse_text
from tests.reliability import chunk as chat_chunk
from trio_direct import (
    ModelAPIError,
    ModelRateLimitError,
    ModelRequest,
    ModelServerError,
    ModelSettings,
    ResponseTooLargeError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
    model_request,
    model_request_stream,
    model_request_stream_sync,
    model_request_sync,
)
from trio_direct._limits import (
    DECODE_STEP,
    DEFAULT_MAX_ERROR_BODY_BYTES,
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyDecoder,
    ResponseLimits,
)
from trio_direct._validate import path_segment
from trio_direct.models import Model, Provider, infer_model
from trio_direct.retries import RetryingModel, RetryPolicy, provider_wait
from trio_direct.serialization import messages_from_json, messages_to_json

MiB = 1024 * 1024
SMALL = ModelSettings(max_response_bytes=MiB, max_error_body_bytes=64 * 1024)
#: What a request may allocate besides the limit: decoder steps, httpx/httpcore buffers, the error.
SLACK_BYTES = 3 * MiB

# ---------------------------------------------------------------------------------------------
# Models of every HTTP provider, pointed at the loopback server
# ---------------------------------------------------------------------------------------------

#: prefix -> (environment: base URL relative to the server root, model name)
PROVIDERS: dict[str, tuple[dict[str, str], str]] = {
    "openai": ({"OPENAI_BASE_URL": "/v1", "OPENAI_API_KEY": "sk-test-123456"}, "gpt-4o"),
    "openai-responses": ({"OPENAI_BASE_URL": "/v1", "OPENAI_API_KEY": "sk-test-123456"}, "gpt-4o"),
    "anthropic": ({"ANTHROPIC_BASE_URL": "", "ANTHROPIC_API_KEY": "sk-ant-123456"}, "claude-sonnet-4-5"),
    "google-gla": ({"GEMINI_BASE_URL": "", "GOOGLE_API_KEY": "AIza-test-123456"}, "gemini-2.5-flash"),
    "mistral": ({"MISTRAL_BASE_URL": "", "MISTRAL_API_KEY": "mistral-123456"}, "mistral-large-latest"),
    "groq": ({"GROQ_BASE_URL": "", "GROQ_API_KEY": "gsk-test-123456"}, "llama-3.3-70b-versatile"),
    "cohere": ({"CO_BASE_URL": "", "CO_API_KEY": "co-test-123456"}, "command-a-03-2025"),
}


@pytest.fixture
def provider_model(loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Model]:
    def make(prefix: str) -> Model:
        env, name = PROVIDERS[prefix]
        for var, value in env.items():
            monkeypatch.setenv(var, loopback.url + value if var.endswith("_BASE_URL") else value)
        return infer_model(f"{prefix}:{name}")

    return make


class Memory:
    """Peak memory growth, in bytes, since the start of the test or the last :meth:`reset`."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()

    def __call__(self) -> int:
        return tracemalloc.get_traced_memory()[1] - self._base


@pytest.fixture
def memory() -> Iterator[Memory]:
    """tracemalloc running for the test (see :class:`Memory`)."""
    tracemalloc.start()
    try:
        yield Memory()
    finally:
        tracemalloc.stop()


async def stream_all(model: Model | str, settings: ModelSettings | None = None) -> list[Any]:
    async with model_request_stream(model, PROMPT, model_settings=settings) as stream:
        return [event async for event in stream]


def chunked_json_head(status: int = 200, content_type: str = "application/json", **extra: str) -> Any:
    return head(status, {"content-type": content_type, "transfer-encoding": "chunked", **extra})


# ---------------------------------------------------------------------------------------------
# 1. Bounded memory whatever the server sends
# ---------------------------------------------------------------------------------------------


async def test_defaults_and_settings_validation() -> None:
    limits = ResponseLimits.from_settings(None)
    assert (limits.max_response_bytes, limits.max_error_body_bytes) == (
        DEFAULT_MAX_RESPONSE_BYTES,
        DEFAULT_MAX_ERROR_BODY_BYTES,
    )
    assert ResponseLimits.from_settings({"max_response_bytes": 10}).max_response_bytes == 10
    for bad in (0, -1, 1.5, "big", True):
        with pytest.raises(UserError, match="max_response_bytes"):
            ResponseLimits.from_settings({"max_response_bytes": bad})


@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
async def test_huge_content_length_fails_before_reading(
    prefix: str, provider_model: Callable[[str], Model], loopback: LoopbackServer
) -> None:
    loopback.enqueue(
        Reply.of(head(200, {"content-type": "application/json", "content-length": str(500 * MiB)}), stall())
    )
    with pytest.raises(ResponseTooLargeError) as info:
        await model_request(provider_model(prefix), PROMPT)
    exc = info.value
    assert (exc.limit, exc.seen, exc.limit_name) == (
        DEFAULT_MAX_RESPONSE_BYTES,
        500 * MiB,
        "max_response_bytes",
    )
    assert "ModelSettings(max_response_bytes=...)" in str(exc)
    assert isinstance(exc, ModelAPIError)
    await loopback.wait_for_client_close_async()


@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
async def test_endless_body_is_cut_at_the_limit(
    prefix: str, provider_model: Callable[[str], Model], loopback: LoopbackServer, memory: Memory
) -> None:
    loopback.enqueue(Reply.of(chunked_json_head(), heartbeat(b" " * 65536, 0)))
    model = provider_model(prefix)
    memory.reset()
    with pytest.raises(ResponseTooLargeError) as info:
        await model_request(model, PROMPT, model_settings=SMALL)
    assert info.value.limit == MiB and MiB < info.value.seen <= MiB + DECODE_STEP
    await loopback.wait_for_client_close_async()
    assert memory() < MiB + SLACK_BYTES


async def test_gzip_bomb_json_body(loopback: LoopbackServer, memory: Memory) -> None:
    bomb = make_bomb(b'{"x": "', 200 * MiB, gzip=True)  # ~200 KB on the wire
    assert len(bomb) < MiB
    loopback.enqueue(Reply.body(bomb, headers={"content-encoding": "gzip"}, content_type="application/json"))
    with pytest.raises(ResponseTooLargeError, match="counted after decompression"):
        await model_request(openai_model(loopback), PROMPT)
    assert memory() < DEFAULT_MAX_RESPONSE_BYTES + len(bomb) + SLACK_BYTES
    del bomb


async def test_gzip_bomb_under_a_small_limit_allocates_little(
    loopback: LoopbackServer, memory: Memory
) -> None:
    bomb = make_bomb(b"", 50 * MiB, gzip=False)
    loopback.enqueue(
        Reply.body(bomb, headers={"content-encoding": "deflate"}, content_type="application/json")
    )
    with pytest.raises(ResponseTooLargeError):
        await model_request(openai_model(loopback), PROMPT, model_settings=SMALL)
    assert memory() < MiB + len(bomb) + SLACK_BYTES


async def test_gzip_bomb_sse_stream(loopback: LoopbackServer, memory: Memory) -> None:
    bomb = make_bomb(b"data: ", 50 * MiB, gzip=True)
    loopback.enqueue(
        Reply.sse(
            [bomb[i : i + 16384] for i in range(0, len(bomb), 16384)],
            headers={"content-encoding": "gzip"},
            then=stall(),
        )
    )
    with pytest.raises(ResponseTooLargeError) as info:
        await stream_all(openai_model(loopback), SMALL)
    assert info.value.what == "server-sent event"
    await loopback.wait_for_client_close_async()
    assert memory() < MiB + len(bomb) + SLACK_BYTES


async def test_compressed_replies_still_work(loopback: LoopbackServer) -> None:
    body = gzip.compress(orjson_dumps(completion("zipped")))
    loopback.enqueue(Reply.body(body, headers={"content-encoding": "gzip"}, content_type="application/json"))
    assert (await model_request(openai_model(loopback), PROMPT)).text == "zipped"
    raw_deflate = zlib.compressobj(wbits=-15)
    body = raw_deflate.compress(orjson_dumps(completion("raw deflate"))) + raw_deflate.flush()
    loopback.enqueue(
        Reply.body(body, headers={"content-encoding": "deflate"}, content_type="application/json")
    )
    assert (await model_request(openai_model(loopback), PROMPT)).text == "raw deflate"
    stream = b"".join(encode(e) for e in sse_text("a", "b", "c"))
    packed = gzip.compress(stream)
    loopback.enqueue(
        Reply.sse([packed[i : i + 7] for i in range(0, len(packed), 7)], headers={"content-encoding": "gzip"})
    )
    async with model_request_stream(openai_model(loopback), PROMPT) as response:
        async for _ in response:
            pass
    assert response.get().text == "abc" and response.get().state == "complete"


@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
async def test_sse_line_that_never_ends(
    prefix: str, provider_model: Callable[[str], Model], loopback: LoopbackServer, memory: Memory
) -> None:
    loopback.enqueue(Reply.sse([b"data: "], then=heartbeat(b"x" * 65536, 0)))
    model = provider_model(prefix)
    memory.reset()
    with pytest.raises(ResponseTooLargeError) as info:
        await stream_all(model, SMALL)
    assert info.value.in_stream and info.value.what == "server-sent event"
    await loopback.wait_for_client_close_async()
    assert memory() < MiB + SLACK_BYTES


async def test_sse_event_that_never_ends(loopback: LoopbackServer, memory: Memory) -> None:
    # data lines, but never the blank line that dispatches the event
    loopback.enqueue(Reply.sse([b"data: {\n"], then=heartbeat(b"data: " + b"1" * 4000 + b"\n", 0)))
    with pytest.raises(ResponseTooLargeError):
        await stream_all(openai_model(loopback), SMALL)
    await loopback.wait_for_client_close_async()
    assert memory() < MiB + SLACK_BYTES


async def test_sse_limit_after_events_raises_from_the_loop(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chat_chunk("hello")], then=heartbeat(b"x" * 65536, 0)))
    async with model_request_stream(openai_model(loopback), PROMPT, model_settings=SMALL) as stream:
        with pytest.raises(ResponseTooLargeError):
            async for _ in stream:
                pass
        assert stream.get().text == "hello"


@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
@pytest.mark.parametrize("stream", [False, True])
async def test_endless_error_body_is_read_only_so_far(
    prefix: str,
    stream: bool,
    provider_model: Callable[[str], Model],
    loopback: LoopbackServer,
    memory: Memory,
) -> None:
    loopback.enqueue(
        Reply.of(chunked_json_head(500, "text/html"), chunk(b"<html>"), heartbeat(b"x" * 65536, 0))
    )
    model = provider_model(prefix)  # importing the provider module is not what is measured
    memory.reset()
    with pytest.raises(ModelServerError) as info:
        if stream:
            await stream_all(model, SMALL)
        else:
            await model_request(model, PROMPT, model_settings=SMALL)
    assert info.value.status_code == 500
    await loopback.wait_for_client_close_async()
    assert memory() < 64 * 1024 + SLACK_BYTES


@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
async def test_stream_answered_with_endless_json(
    prefix: str, provider_model: Callable[[str], Model], loopback: LoopbackServer, memory: Memory
) -> None:
    loopback.enqueue(Reply.of(chunked_json_head(), chunk(b'{"error": "'), heartbeat(b"x" * 65536, 0)))
    model = provider_model(prefix)
    memory.reset()
    with pytest.raises(UnexpectedModelBehavior, match="expected a stream of server-sent events"):
        await stream_all(model, SMALL)
    await loopback.wait_for_client_close_async()
    assert memory() < 64 * 1024 + SLACK_BYTES


async def test_limits_per_model_and_per_call(loopback: LoopbackServer) -> None:
    big = completion("y" * (2 * MiB))
    loopback.enqueue(Reply.json(big), Reply.json(big), Reply.json(big))
    model = openai_model(loopback, settings=SMALL)
    with pytest.raises(ResponseTooLargeError):
        await model_request(model, PROMPT)  # the model's limit
    raised = await model_request(model, PROMPT, model_settings=ModelSettings(max_response_bytes=4 * MiB))
    assert len(raised.text) == 2 * MiB  # the call's limit wins
    assert len((await model_request(openai_model(loopback), PROMPT)).text) == 2 * MiB  # the default


def test_sync_limits(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.of(chunked_json_head(), heartbeat(b" " * 65536, 0)),
        Reply.sse([b"data: "], then=heartbeat(b"x" * 65536, 0)),
    )
    with pytest.raises(ResponseTooLargeError):
        model_request_sync(openai_model(loopback), PROMPT, model_settings=SMALL, timeout=30)
    model = openai_model(loopback)
    with (
        pytest.raises(ResponseTooLargeError),
        model_request_stream_sync(model, PROMPT, model_settings=SMALL, timeout=30) as stream,
    ):
        list(stream)


def test_response_too_large_pickles() -> None:
    exc = ResponseTooLargeError(
        "gpt-4o", limit_name="max_response_bytes", limit=10, seen=11, what="response body", url="http://x"
    )
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is ResponseTooLargeError
    assert (copy.limit, copy.seen, copy.what, str(copy)) == (10, 11, "response body", str(exc))


def test_body_decoder_steps_are_bounded() -> None:
    decoder = BodyDecoder("gzip", model_name="m", url="http://x")
    data = gzip.compress(b"z" * (10 * DECODE_STEP))
    pieces = list(decoder.decode(data)) + list(decoder.flush())
    assert all(len(p) <= DECODE_STEP for p in pieces)
    assert b"".join(pieces) == b"z" * (10 * DECODE_STEP)
    stacked = BodyDecoder("deflate, gzip", model_name="m", url="http://x")
    assert b"".join(stacked.decode(gzip.compress(zlib.compress(b"twice")))) == b"twice"
    assert BodyDecoder("identity", model_name="m", url="http://x").identity
    truncated = BodyDecoder("gzip", model_name="m", url="http://x")
    with pytest.raises(ModelAPIError, match="corrupt"):
        list(truncated.decode(data[: len(data) // 2])) + list(truncated.flush())


# ---------------------------------------------------------------------------------------------
# 2. Only the library's own errors come out: compression
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_corrupt_compression_plain_and_streamed(encoding: str, loopback: LoopbackServer) -> None:
    good = gzip.compress(b'{"a": 1}' * 100) if encoding == "gzip" else zlib.compress(b'{"a": 1}' * 100)
    corrupt = good[:12] + b"\xff" * 20 + good[32:]
    loopback.enqueue(
        Reply.body(corrupt, headers={"content-encoding": encoding}, content_type="application/json")
    )
    with pytest.raises(ModelAPIError, match="corrupt"):
        await model_request(openai_model(loopback), PROMPT)
    loopback.enqueue(Reply.sse([corrupt], headers={"content-encoding": encoding}))
    with pytest.raises(ModelAPIError, match="corrupt"):
        await stream_all(openai_model(loopback))


async def test_encoding_we_did_not_ask_for(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.body(b"\x1b\x00", headers={"content-encoding": "br"}, content_type="application/json")
    )
    with pytest.raises(ModelAPIError, match="Content-Encoding: br"):
        await model_request(openai_model(loopback), PROMPT)
    assert loopback.requests[0].headers["accept-encoding"] == "gzip, deflate"


# ---------------------------------------------------------------------------------------------
# 4. Streams finish at their end marker
# ---------------------------------------------------------------------------------------------


def _anthropic_stream() -> list[object]:
    return [
        "event: message_start\ndata: "
        '{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],'
        '"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        '"content_block":{"type":"text","text":""}}',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        '"delta":{"type":"text_delta","text":"done"}}',
        'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},'
        '"usage":{"output_tokens":2}}',
        'event: message_stop\ndata: {"type":"message_stop"}',
    ]


def _responses_stream() -> list[object]:
    response = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "model": "gpt-4o",
        "status": "completed",
        "output": [
            {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "done", "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
    }
    return [
        {"type": "response.created", "response": {**response, "status": "in_progress", "output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "done",
        },
        {"type": "response.completed", "response": response},
    ]


def _cohere_stream() -> list[object]:
    def event(kind: str, **fields: Any) -> str:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **fields})}"

    return [
        event("message-start", id="s1", delta={"message": {"role": "assistant"}}),
        event("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}),
        event("content-delta", index=0, delta={"message": {"content": {"text": "done"}}}),
        event("content-end", index=0),
        event("message-end", delta={"finish_reason": "COMPLETE", "usage": {"tokens": {"output_tokens": 1}}}),
    ]


#: prefix -> a complete stream whose text is "done", ending with its end marker
END_MARKED: dict[str, list[object]] = {
    "cohere": _cohere_stream(),
    "openai": sse_text("done"),
    "groq": sse_text("done"),
    "mistral": sse_text("done"),
    "anthropic": _anthropic_stream(),
    "openai-responses": _responses_stream(),
}


@pytest.mark.parametrize("keep", ["stall", "heartbeats"])
@pytest.mark.parametrize("prefix", sorted(END_MARKED))
async def test_stream_finishes_at_its_end_marker(
    prefix: str, keep: str, provider_model: Callable[[str], Model], loopback: LoopbackServer
) -> None:
    then = stall() if keep == "stall" else heartbeat(b": ping\n\n", 0.01)
    loopback.enqueue(Reply.sse(END_MARKED[prefix], then=then))
    # Without the marker ending it, a stalled stream ends only in ModelTimeoutError after the default
    # 600 s, and a heartbeating one never: completing cleanly proves the marker ended it. The deadline
    # only turns a regression into a failure instead of a hung run.
    settings = ModelSettings(stream_inactivity_timeout=600)
    with trio.fail_after(120):
        async with model_request_stream(provider_model(prefix), PROMPT, model_settings=settings) as stream:
            async for _ in stream:
                pass
            response = stream.get()
    assert response.text == "done" and response.state == "complete"
    await loopback.wait_for_client_close_async()


def test_sync_stream_finishes_at_done(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse(sse_text("a", "b"), then=stall()))
    with model_request_stream_sync(openai_model(loopback), PROMPT, timeout=120) as stream:  # a hang guard
        list(stream)
        assert stream.get().text == "ab"
    loopback.wait_for_client_close()


async def test_nothing_after_the_marker_is_read(loopback: LoopbackServer) -> None:
    # garbage after [DONE] in the same write and after it: neither is parsed
    loopback.enqueue(Reply.sse([*sse_text("ok")[:-1], b"data: [DONE]\n\ndata: {not json\n\n"], then=stall()))
    with trio.fail_after(120):  # a guard against a hung run (see above)
        events = await stream_all(openai_model(loopback))
    assert events


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def make_bomb(prefix: bytes, size: int, *, gzip: bool) -> bytes:
    """``prefix`` and ``size`` zero digits, compressed a MiB at a time (never held whole)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)
    block = b"0" * MiB
    out = [packer.compress(prefix)]
    out += [packer.compress(block) for _ in range(size // MiB)]
    out.append(packer.flush())
    return b"".join(out)


def orjson_dumps(obj: Any) -> bytes:
    return orjson.dumps(obj)


def encode(event: object) -> bytes:
    return encode_sse_event(event)


# ---------------------------------------------------------------------------------------------
# 7. Bad input from users gets a clear error
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "says"),
    [
        ("Hi", "not a string: pass a list of messages, e.g. [ModelRequest.user_text_prompt('Hi')]"),
        (
            ["Hi"],
            "`messages[0]` is a string, not a message: pass a list of messages, e.g. "
            "[ModelRequest.user_text_prompt('Hi')]",
        ),
        (ModelRequest.user_text_prompt("Hi"), "not a single ModelRequest: wrap it in a list"),
        ({"kind": "request"}, "not dict"),
        ([{"kind": "request"}], "messages_from_json"),
        (None, "not NoneType"),
        (b"Hi", "not bytes"),
    ],
)
def test_every_entry_point_checks_messages(messages: Any, says: str) -> None:
    calls: list[Callable[[], object]] = [
        lambda: model_request_sync("test", messages),
        lambda: model_request_stream_sync("test", messages),
        lambda: model_request_stream("test", messages),
        lambda: trio.run(model_request, "test", messages),
    ]
    for call in calls:
        with pytest.raises(UserError) as info:
            call()
        assert says in str(info.value)


def test_a_long_prompt_is_shortened_in_the_hint() -> None:
    with pytest.raises(UserError, match=r"user_text_prompt\('x{37}\.\.\.'\)"):
        model_request_sync("test", "x" * 100)


@pytest.mark.parametrize(
    "url",
    [
        "127.0.0.1:8765/v1",
        "localhost:8000",
        "ftp://example.com/v1",
        "http://",
        "/v1",
        "http://a b/v1",
        "http://host:port/v1",
        "https://example.com/v1#frag",
        "http://ex\u00e4mple.com",
    ],
)
def test_base_url_must_be_absolute_http(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    with pytest.raises(UserError, match="base URL"):
        infer_model("openai:gpt-4o")
    with pytest.raises(UserError, match="base URL"):
        Provider("openai", url, "sk-123456789")


def test_good_base_urls_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    for url in ("http://127.0.0.1:8765/v1", "https://api.example.com", "HTTP://[::1]:80/x/"):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        assert infer_model("openai:gpt-4o").base_url is not None


def test_base_url_error_never_echoes_a_query(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://example.com/v1?key=sk-SECRET-123456")
    with pytest.raises(UserError) as info:
        infer_model("openai:gpt-4o")
    assert "SECRET" not in str(info.value)


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        ("nope", None),
        ("nope:foo", None),
        ("opnai:", None),
        # known names are pydantic-ai 2.68's list; a name several prefixes serve suggests the vendor's own
        ("gpt-5.6-sol", "openai:gpt-5.6-sol"),
        ("gpt5.6-sol", "openai:gpt-5.6-sol"),
        ("opnai:gpt-4o", "openai:gpt-4o"),
        ("anthropc:my-own-model", "anthropic:my-own-model"),
        ("claude-sonnet-4-6", "anthropic:claude-sonnet-4-6"),
        ("claude-sonet-4-6", "anthropic:claude-sonnet-4-6"),
    ],
)
def test_did_you_mean_names_a_valid_close_model_or_nothing(
    typed: str, suggestion: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UserError) as info:
        infer_model(typed)
    if suggestion is None:
        assert "Did you mean" not in str(info.value)
        return
    assert f"Did you mean {suggestion!r}?" in str(info.value)
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.setenv(var, "k-123456789")
    assert infer_model(suggestion)  # what is suggested resolves


def test_cli_suggests_nothing_for_nonsense(capsys: pytest.CaptureFixture[str]) -> None:
    from trio_direct.__main__ import main

    for typed in ("nope", "nope:foo"):
        code = main(["--model", typed, "hi"])
        err = capsys.readouterr().err
        assert code != 0 and "Did you mean" not in err and "Unknown model" in err


# ---------------------------------------------------------------------------------------------
# 3. Names never rewrite URLs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("../../evil", "/v1beta/models/..%2F..%2Fevil:generateContent"),
        ("gemini#x", "/v1beta/models/gemini%23x:generateContent"),
        ("gemini?alt=json&key=x", "/v1beta/models/gemini%3Falt%3Djson%26key%3Dx:generateContent"),
        ("models/gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("tunedModels/my-model", "/v1beta/tunedModels/my-model:generateContent"),
        ("models/../evil", "/v1beta/models/..%2Fevil:generateContent"),
        ("gemini 2", "/v1beta/models/gemini%202:generateContent"),
    ],
)
async def test_gemini_model_names_stay_one_path_segment(
    name: str, path: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_BASE_URL", loopback.url)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-123456")
    loopback.enqueue(Reply.json({"error": {"code": 404, "message": "no", "status": "NOT_FOUND"}}, status=404))
    with pytest.raises(ModelAPIError):
        await model_request(f"google-gla:{name}", PROMPT)
    assert loopback.requests[0].target == path


@pytest.mark.parametrize("name", ["", ".", "..", "models/", "gemini\n2", "gemini\x00", "a\x7fb"])
def test_names_that_cannot_be_names_are_refused_before_io(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-123456")
    with pytest.raises(UserError):
        infer_model(f"google-gla:{name}")


def test_path_segment_helper() -> None:
    assert path_segment("a/b?c#d%e:f", what="x") == "a%2Fb%3Fc%23d%25e%3Af"
    assert path_segment("gpt-4o_mini.v2~x", what="x") == "gpt-4o_mini.v2~x"
    assert path_segment("caf\u00e9", what="x") == "caf%C3%A9"
    assert path_segment("a\u2028b", what="x") == "a%E2%80%A8b"  # harmless once encoded
    for bad in ("", ".", "..", "a\rb", "\x7f"):
        with pytest.raises(UserError):
            path_segment(bad, what="model name")


@given(st.text(max_size=30))
def test_property_path_segment_never_leaves_its_segment(name: str) -> None:
    try:
        segment = path_segment(name, what="name")
    except UserError:
        assert name in ("", ".", "..") or any(ord(c) < 0x20 or ord(c) == 0x7F for c in name)
        return
    assert not set(segment) & set("/?#&=\\: ") and segment.isascii()
    assert segment not in (".", "..")
    assert unquote(segment) == name


# ---------------------------------------------------------------------------------------------
# 2. Only the library's own errors come out: nesting, dates, proxies
# ---------------------------------------------------------------------------------------------


def nested(depth: int, leaf: object = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


#: prefix -> a 200 body holding a tool call whose input is ``args`` (a dict)
def tool_call_body(prefix: str, args: Any) -> Any:
    if prefix == "anthropic":
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [{"type": "tool_use", "id": "tu_1", "name": "f", "input": args}],
            "stop_reason": "tool_use",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    if prefix == "google-gla":
        return {
            "candidates": [
                {"content": {"role": "model", "parts": [{"functionCall": {"name": "f", "args": args}}]}}
            ],
            "modelVersion": "gemini-2.5-flash",
        }
    raise AssertionError(prefix)


@pytest.mark.parametrize("depth", [210, 600, 900, 1000, 1020, 1100, 100_000])
@pytest.mark.parametrize("prefix", sorted(PROVIDERS))
@pytest.mark.parametrize("stream", [False, True])
async def test_pathologically_nested_json_anywhere(
    prefix: str, depth: int, stream: bool, provider_model: Callable[[str], Model], loopback: LoopbackServer
) -> None:
    deep = b'{"a":' * depth + b"1" + b"}" * depth
    for reply in (
        Reply.body(deep, content_type="application/json"),
        Reply.body(deep, status=400, content_type="application/json"),
        Reply.body(deep, status=500, content_type="application/json"),
        Reply.sse([b"data: " + deep + b"\n\n"]),
        Reply.sse([b"event: error\ndata: " + deep + b"\n\n"]),
    ):
        loopback.enqueue(reply)
        try:
            if stream:
                await stream_all(provider_model(prefix))
            else:
                await model_request(provider_model(prefix), PROMPT)
        except TrioDirectError:
            pass


@pytest.mark.parametrize("prefix", ["anthropic", "google-gla"])
async def test_deeply_nested_tool_input_is_refused_not_unserializable(
    prefix: str, provider_model: Callable[[str], Model], loopback: LoopbackServer
) -> None:
    loopback.enqueue(Reply.json(tool_call_body(prefix, nested(240))))
    with pytest.raises(UnexpectedModelBehavior, match="nested deeper than 200 levels"):
        await model_request(provider_model(prefix), PROMPT)
    loopback.enqueue(Reply.json(tool_call_body(prefix, nested(150))))
    response = await model_request(provider_model(prefix), PROMPT)
    assert messages_from_json(messages_to_json([response])) == [response]  # accepted: it serializes


async def test_deeply_nested_tool_input_in_a_stream(loopback: LoopbackServer, monkeypatch: Any) -> None:
    monkeypatch.setenv("GEMINI_BASE_URL", loopback.url)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIza-test-123456")
    body = tool_call_body("google-gla", nested(240))
    body["candidates"][0]["finishReason"] = "STOP"
    loopback.enqueue(Reply.sse([body]))
    with pytest.raises(UnexpectedModelBehavior, match="nested deeper"):
        await stream_all("google-gla:gemini-2.5-flash")


def test_anthropic_args_parsed_at_the_end_must_serialize() -> None:
    from trio_direct import NativeToolCallPart, ToolCallPart
    from trio_direct._untrusted import check_parts_serialize

    check_parts_serialize([ToolCallPart("f", nested(150), "id")])
    check_parts_serialize([ToolCallPart("f", "[" * 500, "id")])  # a string is always fine
    with pytest.raises(UnexpectedModelBehavior, match="ToolCallPart whose args"):
        check_parts_serialize([ToolCallPart("f", nested(201), "id")])
    with pytest.raises(UnexpectedModelBehavior, match="NativeToolCallPart whose provider_details"):
        check_parts_serialize([NativeToolCallPart("web", {}, "id", provider_details=nested(260))])


@pytest.mark.parametrize(
    "header",
    [
        {"retry-after": "Fri, 31 Dec 99999999999 23:59:59 GMT"},
        {"retry-after": "9" * 5000},
        {"retry-after-ms": "1e400"},
        {"x-ratelimit-reset-requests": "Fri, 31 Dec 99999999999 23:59:59 GMT"},
        {"anthropic-ratelimit-requests-reset": "Fri, 31 Dec 99999999999 23:59:59 GMT"},
        {"x-ratelimit-reset-tokens": "9" * 400 + "h"},
    ],
)
async def test_absurd_retry_after_and_reset_headers(header: dict[str, str], loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.rate_limited(None, headers=header))
    with pytest.raises(ModelRateLimitError) as info:
        await model_request(openai_model(loopback), PROMPT)
    wait = provider_wait(info.value)
    assert wait is None or wait[0] >= 0
    # and inside RetryingModel: retried (backoff) or given up with a reason, never OverflowError
    loopback.enqueue(Reply.rate_limited(None, headers=header), Reply.json(completion("after")))
    model = RetryingModel(openai_model(loopback), RetryPolicy(max_attempts=2, initial_delay=0, max_delay=1))
    try:
        assert (await model_request(model, PROMPT)).text == "after"
    except ModelRateLimitError as exc:
        assert "not retried" in " ".join(getattr(exc, "__notes__", []))


@pytest.mark.parametrize(
    ("variable", "value", "error", "says"),
    [
        ("ALL_PROXY", "socks5://user:pw-SECRET@127.0.0.1:1080", ImportError("install socksio"), "socksio"),
        (
            "HTTP_PROXY",
            "ftp://user:pw-SECRET@127.0.0.1:21",
            ValueError("Unknown scheme for proxy URL URL('ftp://user:pw-SECRET@127.0.0.1:21')"),
            "httpx cannot use",
        ),
    ],
)
async def test_proxy_environment_errors_become_user_errors(
    variable: str,
    value: str,
    error: Exception,
    says: str,
    loopback: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What httpx raises while building a client from a bad proxy environment is a UserError."""
    from trio_direct import _http

    def failing_client() -> Any:
        raise error

    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(_http, "_new_client", failing_client)
    with pytest.raises(UserError, match=says) as info:
        await model_request(openai_model(loopback), PROMPT)
    assert variable in str(info.value) and "SECRET" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not loopback.requests


def _default_client_reads_proxy_environment() -> bool:
    from trio_direct import _http

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
        client = _http._new_client()  # pyright: ignore[reportPrivateUsage]
    mounted = bool(client._mounts)  # pyright: ignore[reportPrivateUsage]
    trio.run(client.aclose)
    return mounted


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("ALL_PROXY", "socks5://user:pw-SECRET@127.0.0.1:1080", "socksio"),
        ("HTTP_PROXY", "ftp://user:pw-SECRET@127.0.0.1:21", "httpx cannot use"),
    ],
)
def test_misconfigured_proxy_environment(
    variable: str, value: str, says: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _default_client_reads_proxy_environment():
        pytest.skip("the default client does not mount proxies from the environment (its own transport)")
    if variable == "ALL_PROXY":
        try:
            import socksio  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("socksio is installed")
    monkeypatch.setenv(variable, value)
    with pytest.raises(UserError, match=says) as info:
        trio.run(model_request, openai_model(loopback), PROMPT)
    assert variable in str(info.value) and "SECRET" not in str(info.value)
    assert not loopback.requests


def test_the_default_client_goes_through_the_proxy_the_environment_names(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY is honoured by the default client (its own sharded transport notwithstanding), and
    NO_PROXY exempts a host from it."""
    loopback.enqueue(Reply.json(completion("via proxy")))
    monkeypatch.setenv("HTTP_PROXY", loopback.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    response = trio.run(model_request, openai_model("http://api.example.invalid/v1"), PROMPT)
    assert response.text == "via proxy"
    (request,) = loopback.requests
    assert request.target == "http://api.example.invalid/v1/chat/completions"  # absolute form: a proxy

    loopback.enqueue(Reply.json(completion("direct")))
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert trio.run(model_request, openai_model(loopback), PROMPT).text == "direct"


# ---------------------------------------------------------------------------------------------
# 6. Secrets, also when malformed
# ---------------------------------------------------------------------------------------------

CANARY = "sk-CANARY-0123456789abcdefSECRET"


@pytest.mark.parametrize(
    "key",
    [
        "\ufeff" + CANARY,
        CANARY + "\u00e9",
        CANARY + "\u2028",
        CANARY + "\x00",
        CANARY + "\r\nX-Injected: 1",
        CANARY + "\n",
        " " + CANARY,
        CANARY + "\t",
    ],
)
def test_malformed_keys_are_refused_without_being_quoted(key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from trio_direct.models.anthropic import AnthropicModel

    makers: list[Callable[[], object]] = [
        lambda: Provider("openai", "https://api.openai.com/v1", key),
        lambda: AnthropicModel("claude-sonnet-4-5", api_key=key),
    ]
    if "\x00" not in key:  # the environment cannot hold a NUL
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("ANTHROPIC_API_KEY", key)
        makers += [
            lambda: infer_model("openai:gpt-4o"),
            lambda: infer_model("anthropic:claude-sonnet-4-5"),
            lambda: model_request_sync("openai:gpt-4o", [ModelRequest.user_text_prompt("hi")]),
        ]
    errors: list[UserError] = []
    for make in makers:
        with pytest.raises(UserError) as info:
            make()
        errors.append(info.value)
    for error in errors:
        shown = str(error) + repr(error) + repr(error.args) + repr(error.__cause__) + repr(error.__context__)
        assert "CANARY" not in shown, shown
        assert "API key" in str(error)


def test_redaction_covers_escaped_and_byte_forms() -> None:
    from trio_direct._http import redact_error

    key = "sk-\u00e9CANARY\r\n0123456789"
    exc = ModelAPIError(
        "m",
        f"Illegal header value {('Bearer ' + key).encode()!r}; as JSON {json.dumps(key)}; as repr {key!r}",
        body={"raw": key.encode(), "text": key},
    )
    redact_error(exc, [key])
    shown = str(exc) + repr(exc.args) + repr(exc.body)
    assert "CANARY" not in shown, shown
    assert "***" in str(exc)


async def test_extra_header_that_is_not_ascii_is_a_user_error(loopback: LoopbackServer) -> None:
    settings = ModelSettings(extra_headers={"x-custom": "caf\u00e9-" + CANARY})
    with pytest.raises(UserError, match="not ASCII") as info:
        await model_request(openai_model(loopback), PROMPT, model_settings=settings)
    assert "CANARY" not in str(info.value) and info.value.__cause__ is None


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    for name in ("", "httpx", "httpcore", "h11", "hpack", "trio_direct"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def assert_no_key_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert any(r.name.startswith("httpcore") for r in caplog.records), "httpcore logged nothing"
    for record in caplog.records:
        text = logging.Formatter("%(name)s %(message)s").format(record) + repr(record.args)
        assert "CANARY" not in text, f"the key leaked into the log record {record.name}: {text[:300]!r}"
    assert "CANARY" not in caplog.text


async def test_a_server_echoing_the_key_in_headers_never_puts_it_in_debug_logs(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    echo = {"x-echo-auth": f"Bearer {CANARY}", "location": f"https://evil.example/?key={CANARY}"}
    loopback.enqueue(
        Reply.json(completion(), headers=echo),
        Reply.json({"error": {"message": f"bad key {CANARY}"}}, status=302, headers=echo),
        Reply.sse(sse_text("streamed"), headers=echo),
        Reply.json({"error": {"message": f"bad key {CANARY}"}}, status=401, headers=echo),
    )
    model = openai_model(loopback, api_key=CANARY)
    await model_request(model, PROMPT)
    with pytest.raises(TrioDirectError):
        await model_request(model, PROMPT)
    await stream_all(model)
    with pytest.raises(TrioDirectError) as info:
        await stream_all(model)
    assert "CANARY" not in str(info.value)
    assert_no_key_in_logs(debug_logs)


def test_sync_debug_logs_stay_clean(loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture) -> None:
    loopback.enqueue(Reply.json(completion(), headers={"location": f"/?k={CANARY}", "x-k": CANARY}))
    model_request_sync(openai_model(loopback, api_key=CANARY), PROMPT, timeout=30)
    assert_no_key_in_logs(debug_logs)


def test_the_log_filter_only_scrubs_while_its_request_is_in_flight() -> None:
    from trio_direct._redact import RedactingFilter, request_secrets

    record = logging.LogRecord(
        "httpcore.http11", logging.DEBUG, __file__, 1, "headers %r", ((CANARY,),), None
    )
    assert RedactingFilter().filter(record) and CANARY in record.getMessage()
    with request_secrets([CANARY]):
        assert RedactingFilter().filter(record)
    assert "CANARY" not in record.getMessage() and "***" in record.getMessage()


# ---------------------------------------------------------------------------------------------
# 5. Linear work: accumulating text, thinking and arguments, whatever order fragments come in
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def copied(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Counts the characters of every string a delta builds by concatenation (what re-copying costs)."""
    from trio_direct import events as ev

    total = 0

    def counting(cls: type, name: str, measure: Callable[[Any], int]) -> None:
        original = getattr(cls, name)

        def wrapper(self: Any, *args: Any) -> Any:
            nonlocal total
            result = original(self, *args)
            total += measure(result)
            return result

        monkeypatch.setattr(cls, name, wrapper)

    def text_of(result: Any) -> int:
        value = getattr(result, "content", None)
        if value is None:
            value = getattr(result, "args", None) or getattr(result, "args_delta", None)
            value = value if isinstance(value, str) else ""
        return len(value or "")

    counting(ev.TextPartDelta, "apply", text_of)
    counting(ev.ThinkingPartDelta, "apply", text_of)
    counting(ev.ToolCallPartDelta, "apply", text_of)
    return lambda: total


N_FRAGMENTS = 2000


def _consume(manager_events: list[Any]) -> list[Any]:
    from trio_direct._parts import ResponseAccumulator

    accumulator = ResponseAccumulator()
    accumulator.apply_all(manager_events)
    return accumulator.get_parts()


def test_nameless_tool_call_fragments_are_not_recopied(copied: Callable[[], int]) -> None:
    from trio_direct._parts import PartsManager

    manager = PartsManager()
    events: list[Any] = []
    for i in range(N_FRAGMENTS):
        events += manager.handle_tool_call_delta(vendor_part_id="call", args=f"{i % 10}")
    events += manager.handle_tool_call_delta(vendor_part_id="call", tool_name="f", tool_call_id="id1")
    args = manager.get_parts()[0].args  # type: ignore[union-attr]
    assert args == "".join(str(i % 10) for i in range(N_FRAGMENTS))
    assert _consume(events)[0].args == args
    assert copied() <= 2 * N_FRAGMENTS, f"{copied()} characters copied for {N_FRAGMENTS} of text"


@pytest.mark.parametrize("kind", ["text", "thinking", "tool"])
def test_deltas_with_details_on_every_fragment_stay_linear(kind: str, copied: Callable[[], int]) -> None:
    from trio_direct._parts import PartsManager

    manager = PartsManager()
    events: list[Any] = []
    for i in range(N_FRAGMENTS):
        details = {"n": i}
        if kind == "text":
            events += manager.handle_text_delta(vendor_part_id=0, content="x", provider_details=details)
        elif kind == "thinking":
            events += manager.handle_thinking_delta(
                vendor_part_id=0, content="x", provider_name="p", provider_details=details
            )
        else:
            name = "f" if i == 0 else None
            events += manager.handle_tool_call_delta(
                vendor_part_id=0, tool_name=name, args="x", tool_call_id=f"id{i}", provider_details=details
            )
    (part,) = manager.get_parts()
    value = part.args if kind == "tool" else part.content  # type: ignore[union-attr]
    assert value == "x" * N_FRAGMENTS
    assert part.provider_details == {"n": N_FRAGMENTS - 1}
    (seen,) = _consume(events)
    assert seen == part
    assert copied() <= 4 * N_FRAGMENTS, f"{copied()} characters copied for {N_FRAGMENTS} of text"


def test_the_pending_call_keeps_a_list_of_chunks() -> None:
    from trio_direct._parts import PartsManager

    manager = PartsManager()
    for _ in range(100):
        manager.handle_tool_call_delta(vendor_part_id=7, args="ab")
    pending = manager._pending[7]  # pyright: ignore[reportPrivateUsage]
    assert len(pending.chunks) == 100 and pending.delta is not None and pending.delta.args_delta is None


def test_mixing_string_and_dict_arguments_before_the_name_is_still_refused() -> None:
    from trio_direct._parts import PartsManager

    manager = PartsManager()
    manager.handle_tool_call_delta(vendor_part_id=1, args="{")
    with pytest.raises(UnexpectedModelBehavior, match="cannot mix"):
        manager.handle_tool_call_delta(vendor_part_id=1, args={"a": 1})
    manager = PartsManager()
    manager.handle_tool_call_delta(vendor_part_id=1, args={"a": 1})
    with pytest.raises(UnexpectedModelBehavior, match="cannot mix"):
        manager.handle_tool_call_delta(vendor_part_id=1, args="{", tool_name="f")


async def test_a_stream_of_valid_events_inflating_hugely_is_held_only_as_far_as_not_consumed(
    loopback: LoopbackServer, memory: Memory
) -> None:
    # ~20 MB of small, valid events in ~100 KB of gzip: the consumer takes a few and then dawdles.
    event = encode(chat_chunk("x"))
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = event * (MiB // len(event))
    packed = b"".join([packer.compress(block) for _ in range(20)] + [packer.flush()])
    loopback.enqueue(
        Reply.sse(
            [packed[i : i + 8192] for i in range(0, len(packed), 8192)], headers={"content-encoding": "gzip"}
        )
    )
    async with model_request_stream(openai_model(loopback), PROMPT) as stream:
        seen = 0
        async for _ in stream:
            seen += 1
            if seen == 10:
                await trio.sleep(0.5)  # the pump fills the buffer and stops reading
                grown = memory()
                break
    # a few batches of at most one 64 KiB step each, as events; not the 20 MB behind them
    assert grown < 8 * MiB, grown


async def test_groq_tool_use_failed_with_deep_arguments(
    provider_model: Callable[[str], Model], loopback: LoopbackServer
) -> None:
    generation = json.dumps({"name": "f", "arguments": nested(240)})
    error = {
        "error": {
            "message": "Failed to call a function.",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": generation,
        }
    }
    loopback.enqueue(Reply.json(error, status=400))
    with pytest.raises(UnexpectedModelBehavior, match="nested deeper"):
        await model_request(provider_model("groq"), PROMPT)


def test_base_url_error_never_echoes_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://user:pw-SECRET@example.com/v1")
    with pytest.raises(UserError) as info:
        infer_model("openai:gpt-4o")
    assert "SECRET" not in str(info.value) and "example.com/v1" in str(info.value)
