"""A fake LLM provider: a loopback HTTP/1.1 server that speaks OpenAI Chat Completions and Anthropic Messages.

It backs the benchmark harness (thousands of concurrent streams, long single streams, early exits) and the
key-less "see it stream" demo. It is built to cost next to nothing per request and per chunk, so that what
a benchmark measures is the client: stdlib only, one process, one asyncio event loop (uvloop if it happens
to be installed), low-level ``asyncio.Protocol`` connections, hand-rolled HTTP/1.1 parsing, pre-encoded
byte templates for every SSE event, and one timer wheel (one loop timer per millisecond tick, shared by
every stream due in it) instead of a task or a timer per stream.

Running it
----------
As a separate process (the way the harness uses it, so its CPU never competes with the client's loop)::

    python -m benchmarks.fake_provider --port 0 --ready-file /tmp/port.txt [--chunks 50] [--delay-ms 20]

Once listening it prints ``http://127.0.0.1:PORT`` on stdout and writes ``PORT`` to the ready file
(atomically). SIGTERM/SIGINT stop it. From Python, :func:`start_fake_provider` does all of that::

    with start_fake_provider(delay_ms=20) as base_url:   # "http://127.0.0.1:PORT"
        ...  # OpenAI base URL: base_url + "/v1"; Anthropic base URL: base_url

Endpoints
---------
``POST .../chat/completions`` (OpenAI Chat, e.g. ``/v1/chat/completions``)
    Without ``"stream": true``: one ``chat.completion`` object (``Content-Length``). With it: SSE over
    ``Transfer-Encoding: chunked``: a role chunk (``delta: {"role": "assistant", "content": ""}``), N
    ``chat.completion.chunk`` objects with ``delta.content``, a chunk with ``finish_reason: "stop"``, a
    usage-only chunk (``choices: []``) when ``stream_options.include_usage`` is true, then ``data: [DONE]``.
``POST .../messages`` (Anthropic Messages, e.g. ``/v1/messages``)
    Without streaming: one ``message`` object. Streaming: ``message_start``, ``content_block_start``,
    ``ping``, N ``content_block_delta`` (``text_delta``), ``content_block_stop``, ``message_delta``
    (``stop_reason: "end_turn"`` and usage), ``message_stop`` -- each as ``event: <type>`` + ``data: <json>``;
    order, fields and usage as in the recorded conformance case
    ``anthropic/test_anthropic/test_anthropic_model_thinking_part_stream/0``.

With ``x-fake-tool: 1`` either route answers with one call of the tool ``record_text`` instead of text;
its arguments are the JSON object ``{"text":"<the reply text>"}``. Streamed, they arrive as N argument
fragments (one per content delta, ``chunk_chars`` characters of the text each) between an opening
fragment ``{"text":"`` and a closing one ``"}``, so the fragments concatenate to that object:

* OpenAI Chat: a first chunk with ``role``, ``content: null`` and ``tool_calls: [{"index": 0, "id":
  "call_...", "type": "function", "function": {"name": "record_text", "arguments": ""}}]``, then one
  chunk per fragment with ``delta: {"tool_calls": [{"index": 0, "function": {"arguments": ...}}]}``,
  then ``finish_reason: "tool_calls"``, the usage chunk and ``[DONE]`` -- the shape recorded in the
  conformance case ``openai/test_openai/test_run_stream_sync_streams_real_model/0``.
* Anthropic: ``content_block_start`` with ``{"type": "tool_use", "id": "toolu_...", "name":
  "record_text", "input": {}}``, ``ping``, an empty ``input_json_delta`` (the API sends one first), one
  ``content_block_delta`` ``input_json_delta`` per fragment, ``content_block_stop``, ``message_delta``
  with ``stop_reason: "tool_use"``, ``message_stop`` -- checked against the conformance case
  ``anthropic/test_anthropic/test_anthropic_web_search_tool_stream/0`` (its ``server_tool_use`` block
  streams its input the same way; no recording streams a client ``tool_use`` block) and the tool-call
  example in the shared Anthropic wire reference.

Not streamed, the reply is a ``chat.completion`` with ``message.tool_calls`` (arguments as a JSON string)
and ``finish_reason: "tool_calls"``, or a ``message`` with one ``tool_use`` block (``input`` an object)
and ``stop_reason: "tool_use"``.
``GET /_stats``
    JSON counters: ``requests`` (provider API requests), ``http_requests`` (all), ``json_responses``,
    ``error_responses``, ``streams_started``, ``streams_completed``, ``streams_aborted``,
    ``active_streams``, ``chunks_sent`` (content deltas), ``bytes_sent``, ``connections_opened``,
    ``connections_active``, ``last_abort_monotonic_ns`` (when the server saw the client go away),
    ``last_abort_last_chunk_monotonic_ns`` (when it had last written to that stream),
    ``last_abort_chunks_sent``, ``now_monotonic_ns``, ``cpu_user_s``, ``cpu_system_s``, ``pid``. Times
    are ``time.monotonic_ns()``; CLOCK_MONOTONIC is system-wide on Linux, so a client process on the same
    machine can compare them with its own clock (e.g. the delay between leaving a stream and the server
    noticing).
``GET /_stats/last_stream``
    ``{"write_ns": [...]}``: when each content delta of the last completed paced stream (delay > 0) was
    written, ``time.monotonic_ns()``; a client on this machine compares it with when it saw each delta.
``POST /_stats/reset``
    Zero the counters (the connection/stream gauges are kept); answers with the stats before the reset.

The model name in replies echoes the request's ``"model"``; the text is a fixed English paragraph, cut
into deltas of exactly ``chunk_chars`` characters, and a non-streamed reply carries the same text as the
concatenated stream deltas. Usage: ``prompt_tokens``/``input_tokens`` = request body bytes // 4 (at least
1), ``completion_tokens``/``output_tokens`` = the number of content chunks (argument fragments for a
tool call, not counting the opening and closing ones).

Rate limits (optional; see ``benchmarks/fake_ratelimit.py``)
-----------------------------------------------------------
``--rpm N`` / ``--tpm N`` enforce requests / tokens per minute with real 429s, ``retry-after`` and
``x-ratelimit-*`` (``anthropic-ratelimit-*`` on the Messages route) headers on every reply;
``--load-latency-ms MS`` makes latency grow with the number of requests in progress.

Control headers (per request; the CLI options / :func:`start_fake_provider` arguments set the defaults)
-------------------------------------------------------------------------------------------------------
``x-fake-chunks: N``        number of content deltas in the reply (default 50; 0 allowed).
``x-fake-delay-ms: MS``     milliseconds between consecutive content deltas of a stream (default 0). At 0
                            the whole stream is written as fast as the socket takes it, with write flow
                            control.
``x-fake-burst: 0|1``       how a stream is cut into HTTP chunks (default 0). 0: every SSE event is its own
                            HTTP chunk in its own socket write, as real providers flush each token (the
                            client's HTTP stack then hands over one event per chunk even when a read
                            carries many). 1: at delay 0, ~64 KiB of events per chunk and write -- the
                            batched shape no provider sends, kept to show what it hides.
``x-fake-chunk-chars: C``   characters per delta (default 4); the reply text is N*C characters long.
``x-fake-tool: 0|1``        1: the reply is one tool call whose arguments carry the text (see above);
                            default 0 (text).
``x-fake-ttft-ms: MS``      delay before the first content delta of a stream (response headers and the
                            opening events go out at once), or before a non-streamed reply (default 0).
``x-fake-status: CODE``     reply at once with this HTTP status (>= 400) and a provider-shaped error body:
                            OpenAI ``{"error": {"message", "type", "param", "code"}}``, Anthropic
                            ``{"type": "error", "error": {"type", "message"}, "request_id"}``.
``x-fake-retry-after: S``   echoed as a ``retry-after`` header on an ``x-fake-status`` reply.

Timing of a stream: headers and the opening events at t=0, delta k (0-based) at ``ttft + k*delay``; the
closing events (and for OpenAI ``[DONE]``) go out in the same write as the last delta. If the client
disconnects mid-stream, that stream stops at once (it is never touched again) and is counted as aborted.

HTTP: HTTP/1.1 keep-alive with sequential (non-pipelined, though buffered pipelined bytes are served in
order) requests per connection; request bodies must carry ``Content-Length`` (what httpx sends for JSON);
``Connection: close`` and HTTP/1.0 are honoured.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any, Final

try:  # run as a package module, or as a script (start_fake_provider runs the file by path)
    from .fake_ratelimit import FakeRateLimiter
except ImportError:  # pragma: no cover - script mode
    from fake_ratelimit import FakeRateLimiter  # type: ignore[no-redef]

__all__ = [
    "DEFAULT_CHUNKS",
    "DEFAULT_CHUNK_CHARS",
    "DEFAULT_DELAY_MS",
    "DEFAULT_TTFT_MS",
    "FakeProviderSettings",
    "get_stats",
    "main",
    "reset_stats",
    "serve",
    "start_fake_provider",
]

DEFAULT_CHUNKS: Final = 50
DEFAULT_DELAY_MS: Final = 0.0
DEFAULT_CHUNK_CHARS: Final = 4
DEFAULT_TTFT_MS: Final = 0.0

_MAX_HEAD: Final = 64 * 1024
_MAX_BODY: Final = 256 * 1024 * 1024
_MAX_CHUNKS: Final = 10_000_000
_MAX_CHUNK_CHARS: Final = 1_000_000
_BURST_BYTES: Final = 64 * 1024
_MAX_RECORDED_WRITES: Final = 100_000
_TICK_S: Final = 0.001  # timer wheel granularity (the selector's epoll timeout is in ms anyway)

_TEXT: Final = (
    "Streaming responses arrive as a sequence of small deltas, each carrying a few characters of the "
    "answer. A fast client decodes every event as it lands, merges it into the growing response and "
    "hands it to the caller without waiting for the rest. When the caller stops early, the connection "
    "closes at once and the server stops sending. "
)
_TEXT_LEN: Final = len(_TEXT)


class FakeProviderSettings:
    """Server-wide defaults for the control headers."""

    __slots__ = ("burst", "chunk_chars", "chunks", "delay_ms", "tool", "ttft_ms")

    def __init__(
        self,
        chunks: int = DEFAULT_CHUNKS,
        delay_ms: float = DEFAULT_DELAY_MS,
        chunk_chars: int = DEFAULT_CHUNK_CHARS,
        ttft_ms: float = DEFAULT_TTFT_MS,
        burst: bool = False,
        tool: bool = False,
    ) -> None:
        self.chunks = chunks
        self.delay_ms = delay_ms
        self.chunk_chars = chunk_chars
        self.ttft_ms = ttft_ms
        self.burst = burst
        self.tool = tool


# --------------------------------------------------------------------------------------------------
# Reply text, pre-encoded


class _Pieces:
    """JSON-encoded (quoted, escaped) delta strings for one ``chunk_chars``, filled lazily.

    Delta ``k`` is the ``chunk_chars``-long window of the cyclic text starting at ``k * chunk_chars``; the
    windows repeat with period ``_TEXT_LEN / gcd(chunk_chars, _TEXT_LEN)``, so each is encoded once.
    """

    __slots__ = ("cc", "period", "table")

    def __init__(self, cc: int) -> None:
        self.cc = cc
        self.period = _TEXT_LEN // math.gcd(cc, _TEXT_LEN)
        self.table: list[bytes | None] = [None] * self.period

    def get(self, k: int) -> bytes:
        j = k % self.period
        piece = self.table[j]
        if piece is None:
            piece = json.dumps(_cyclic_text((j * self.cc) % _TEXT_LEN, self.cc)).encode()
            self.table[j] = piece
        return piece


def _cyclic_text(start: int, length: int) -> str:
    reps = (start + length) // _TEXT_LEN + 1
    return (_TEXT * reps)[start : start + length]


_pieces_cache: dict[int, _Pieces] = {}
_full_text_cache: dict[tuple[int, int], bytes] = {}


def _pieces(cc: int) -> _Pieces:
    p = _pieces_cache.get(cc)
    if p is None:
        if len(_pieces_cache) > 256:
            _pieces_cache.clear()
        p = _pieces_cache[cc] = _Pieces(cc)
    return p


def _full_text_json(chunks: int, cc: int) -> bytes:
    key = (chunks, cc)
    t = _full_text_cache.get(key)
    if t is None:
        if len(_full_text_cache) > 256:
            _full_text_cache.clear()
        t = _full_text_cache[key] = json.dumps(_cyclic_text(0, chunks * cc)).encode()
    return t


# --------------------------------------------------------------------------------------------------
# Statistics


class _Stats:
    __slots__ = (
        "bytes_sent",
        "chunks_sent",
        "connections_active",
        "connections_opened",
        "error_responses",
        "http_requests",
        "json_responses",
        "last_abort_chunks_sent",
        "last_abort_last_chunk_monotonic_ns",
        "last_abort_monotonic_ns",
        "requests",
        "streams_aborted",
        "streams_active",
        "streams_completed",
        "streams_started",
    )

    def __init__(self) -> None:
        self.connections_active = 0
        self.streams_active = 0
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.http_requests = 0
        self.json_responses = 0
        self.error_responses = 0
        self.streams_started = 0
        self.streams_completed = 0
        self.streams_aborted = 0
        self.chunks_sent = 0
        self.bytes_sent = 0
        self.connections_opened = 0
        self.last_abort_monotonic_ns: int | None = None
        self.last_abort_last_chunk_monotonic_ns: int | None = None
        self.last_abort_chunks_sent: int | None = None

    def snapshot(self) -> dict[str, Any]:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "requests": self.requests,
            "http_requests": self.http_requests,
            "json_responses": self.json_responses,
            "error_responses": self.error_responses,
            "streams_started": self.streams_started,
            "streams_completed": self.streams_completed,
            "streams_aborted": self.streams_aborted,
            "active_streams": self.streams_active,
            "chunks_sent": self.chunks_sent,
            "bytes_sent": self.bytes_sent,
            "connections_opened": self.connections_opened,
            "connections_active": self.connections_active,
            "last_abort_monotonic_ns": self.last_abort_monotonic_ns,
            "last_abort_last_chunk_monotonic_ns": self.last_abort_last_chunk_monotonic_ns,
            "last_abort_chunks_sent": self.last_abort_chunks_sent,
            "now_monotonic_ns": time.monotonic_ns(),
            "cpu_user_s": ru.ru_utime,
            "cpu_system_s": ru.ru_stime,
            "pid": os.getpid(),
        }


# --------------------------------------------------------------------------------------------------
# Timer wheel


class _TimerWheel:
    """Buckets callbacks by millisecond tick; one loop timer per non-empty tick, not one per stream.

    With a thousand streams ticking every 20 ms this turns ~50k heap timers/s into at most 1k, and the
    streams due together are served in one callback. Measured with a minimal raw-socket client, 1,000
    streams x 50 deltas x 20 ms: ~0.55 s of server CPU with the wheel, ~0.70 s with one ``call_at`` per
    delta; what remains is mostly the ``send()`` system call per delta.
    """

    __slots__ = ("buckets", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.buckets: dict[int, list[_Stream]] = {}

    def add(self, stream: _Stream, when: float) -> None:
        tick = math.ceil(when / _TICK_S)
        bucket = self.buckets.get(tick)
        if bucket is None:
            self.buckets[tick] = [stream]
            self.loop.call_at(tick * _TICK_S, self._fire, tick)
        else:
            bucket.append(stream)

    def _fire(self, tick: int) -> None:
        for stream in self.buckets.pop(tick):
            if stream.active:  # an aborted stream is simply skipped: never touched again
                stream.step()


# --------------------------------------------------------------------------------------------------
# Provider byte templates


_OPENAI_TYPES: Final[dict[int, tuple[str, str | None, str]]] = {
    400: ("invalid_request_error", None, "Invalid request (fake provider)."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided (fake provider)."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden (fake provider)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (fake provider)."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests (fake provider)."),
    500: ("server_error", None, "The server had an error while processing your request (fake provider)."),
    503: (
        "server_error",
        None,
        "The engine is currently overloaded, please try again later (fake provider).",
    ),
}
_ANTHROPIC_TYPES: Final[dict[int, tuple[str, str]]] = {
    400: ("invalid_request_error", "Invalid request (fake provider)."),
    401: ("authentication_error", "invalid x-api-key (fake provider)"),
    402: ("billing_error", "Your credit balance is too low (fake provider)."),
    403: ("permission_error", "Permission denied (fake provider)."),
    404: ("not_found_error", "Not found (fake provider)."),
    413: ("request_too_large", "Request exceeds the maximum allowed size (fake provider)."),
    429: ("rate_limit_error", "Rate limited (fake provider)."),
    500: ("api_error", "Internal server error (fake provider)."),
    504: ("timeout_error", "Request timed out (fake provider)."),
    529: ("overloaded_error", "Overloaded (fake provider)."),
}


def _openai_error(status: int, message: str | None = None) -> bytes:
    etype, code, default = _OPENAI_TYPES.get(
        status,
        (
            "server_error" if status >= 500 else "invalid_request_error",
            None,
            f"Error {status} (fake provider).",
        ),
    )
    return json.dumps(
        {"error": {"message": message or default, "type": etype, "param": None, "code": code}}
    ).encode()


def _anthropic_error(status: int, request_id: str, message: str | None = None) -> bytes:
    etype, default = _ANTHROPIC_TYPES.get(
        status,
        ("api_error" if status >= 500 else "invalid_request_error", f"Error {status} (fake provider)."),
    )
    return json.dumps(
        {"type": "error", "error": {"type": etype, "message": message or default}, "request_id": request_id}
    ).encode()


class _Reply:
    """Everything a stream needs, as bytes: opening events, content-event prefix/suffix, closing events."""

    __slots__ = ("closing", "opening", "post", "pre")

    def __init__(self, opening: bytes, pre: bytes, post: bytes, closing: bytes) -> None:
        self.opening = opening
        self.pre = pre
        self.post = post
        self.closing = closing


def _openai_stream(rid: str, created: int, model_json: bytes, p_tok: int, c_tok: int, usage: bool) -> _Reply:
    common = (
        b'data: {"id":"%b","object":"chat.completion.chunk","created":%d,"model":%b,'
        b'"service_tier":"default","system_fingerprint":"fp_fake","choices":'
        % (rid.encode(), created, model_json)
    )
    opening = (
        common + b'[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},'
        b'"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
    )
    closing = common + b'[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}\n\n'
    if usage:
        closing += common + b'[],"usage":%b}\n\n' % _openai_usage(p_tok, c_tok)
    closing += b"data: [DONE]\n\n"
    return _Reply(
        opening,
        common + b'[{"index":0,"delta":{"content":',
        b'},"logprobs":null,"finish_reason":null}],"usage":null}\n\n',
        closing,
    )


def _openai_usage(p_tok: int, c_tok: int) -> bytes:
    return (
        b'{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d,'
        b'"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},'
        b'"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,'
        b'"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}' % (p_tok, c_tok, p_tok + c_tok)
    )


def _openai_json(
    rid: str, created: int, model_json: bytes, text_json: bytes, p_tok: int, c_tok: int
) -> bytes:
    return (
        b'{"id":"%b","object":"chat.completion","created":%d,"model":%b,"choices":[{"index":0,'
        b'"message":{"role":"assistant","content":%b,"refusal":null,"annotations":[]},"logprobs":null,'
        b'"finish_reason":"stop"}],"usage":%b,"service_tier":"default","system_fingerprint":"fp_fake"}'
        % (rid.encode(), created, model_json, text_json, _openai_usage(p_tok, c_tok))
    )


_A_DELTA_PRE: Final = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"text_delta","text":'
)
_A_DELTA_POST: Final = b"}}\n\n"


def _anthropic_usage(p_tok: int, c_tok: int) -> bytes:
    return (
        b'{"input_tokens":%d,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,'
        b'"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},'
        b'"output_tokens":%d,"service_tier":"standard"}' % (p_tok, c_tok)
    )


def _anthropic_message_start(rid: str, model_json: bytes, p_tok: int) -> bytes:
    return (
        b'event: message_start\ndata: {"type":"message_start","message":{"id":"%b","type":"message",'
        b'"role":"assistant","model":%b,"content":[],"stop_reason":null,"stop_sequence":null,"usage":%b}}\n\n'
        % (rid.encode(), model_json, _anthropic_usage(p_tok, 1))
    )


def _anthropic_closing(p_tok: int, c_tok: int, stop_reason: bytes) -> bytes:
    return (
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
        b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"%b",'
        b'"stop_sequence":null},"usage":{"input_tokens":%d,"cache_creation_input_tokens":0,'
        b'"cache_read_input_tokens":0,"output_tokens":%d}}\n\n'
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n' % (stop_reason, p_tok, c_tok)
    )


def _anthropic_stream(rid: str, model_json: bytes, p_tok: int, c_tok: int) -> _Reply:
    opening = (
        _anthropic_message_start(rid, model_json, p_tok)
        + b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
        b'"content_block":{"type":"text","text":""}}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
    )
    return _Reply(opening, _A_DELTA_PRE, _A_DELTA_POST, _anthropic_closing(p_tok, c_tok, b"end_turn"))


def _anthropic_json(rid: str, model_json: bytes, text_json: bytes, p_tok: int, c_tok: int) -> bytes:
    return (
        b'{"id":"%b","type":"message","role":"assistant","model":%b,"content":[{"type":"text","text":%b}],'
        b'"stop_reason":"end_turn","stop_sequence":null,"usage":%b}'
        % (rid.encode(), model_json, text_json, _anthropic_usage(p_tok, c_tok))
    )


# Tool-call replies (``x-fake-tool: 1``): one call of TOOL_NAME whose arguments are the JSON object
# ``{"text":"<the reply text>"}``. Streamed, the arguments arrive as fragments: the opening fragment
# ``{"text":"``, then one fragment per content delta (the same text windows as a text reply; the text has
# no quote or backslash, so a window is the same characters inside the arguments document and the
# same JSON-encoded bytes as a text delta), then the closing fragment ``"}``.

TOOL_NAME: Final = "record_text"
_ARGS_OPEN: Final = b'"{\\"text\\":\\""'  # the fragment {"text":" as a JSON string
_ARGS_CLOSE: Final = b'"\\"}"'  # the fragment "} as a JSON string


def _tool_args_document(chunks: int, cc: int) -> bytes:
    """The whole arguments object (``{"text":"..."}``), what the streamed fragments add up to."""
    return b'{"text":%b}' % _full_text_json(chunks, cc)


def _openai_tool_stream(
    rid: str, call_id: str, created: int, model_json: bytes, p_tok: int, c_tok: int, usage: bool
) -> _Reply:
    """OpenAI's tool-call stream, as recorded in the conformance case
    ``openai/test_openai/test_run_stream_sync_streams_real_model/0``: a first chunk with the role, the
    call's ``index``/``id``/``type``/``name`` and ``arguments: ""``, then chunks that carry only
    ``{"index": 0, "function": {"arguments": <fragment>}}``, a ``finish_reason: "tool_calls"`` chunk,
    the usage chunk and ``[DONE]`` (the recording's ``obfuscation`` field is left out, as in the text
    stream)."""
    common = (
        b'data: {"id":"%b","object":"chat.completion.chunk","created":%d,"model":%b,'
        b'"service_tier":"default","system_fingerprint":"fp_fake","choices":'
        % (rid.encode(), created, model_json)
    )
    pre = common + b'[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":'
    post = b'}}]},"logprobs":null,"finish_reason":null}],"usage":null}\n\n'
    opening = (
        common + b'[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,'
        b'"id":"%b","type":"function","function":{"name":"%b","arguments":""}}],"refusal":null},'
        b'"logprobs":null,"finish_reason":null}],"usage":null}\n\n' % (call_id.encode(), TOOL_NAME.encode())
    ) + (pre + _ARGS_OPEN + post)
    closing = (
        pre
        + _ARGS_CLOSE
        + post
        + common
        + b'[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}],"usage":null}\n\n'
    )
    if usage:
        closing += common + b'[],"usage":%b}\n\n' % _openai_usage(p_tok, c_tok)
    closing += b"data: [DONE]\n\n"
    return _Reply(opening, pre, post, closing)


def _openai_tool_json(
    rid: str, call_id: str, created: int, model_json: bytes, args: bytes, p_tok: int, c_tok: int
) -> bytes:
    return (
        b'{"id":"%b","object":"chat.completion","created":%d,"model":%b,"choices":[{"index":0,'
        b'"message":{"role":"assistant","content":null,"tool_calls":[{"id":"%b","type":"function",'
        b'"function":{"name":"%b","arguments":%b}}],"refusal":null,"annotations":[]},"logprobs":null,'
        b'"finish_reason":"tool_calls"}],"usage":%b,"service_tier":"default","system_fingerprint":"fp_fake"}'
        % (
            rid.encode(),
            created,
            model_json,
            call_id.encode(),
            TOOL_NAME.encode(),
            json.dumps(args.decode()).encode(),
            _openai_usage(p_tok, c_tok),
        )
    )


_A_JSON_PRE: Final = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
    b'"delta":{"type":"input_json_delta","partial_json":'
)


def _anthropic_tool_stream(rid: str, tool_id: str, model_json: bytes, p_tok: int, c_tok: int) -> _Reply:
    """Anthropic's ``tool_use`` stream: ``content_block_start`` with ``{"type": "tool_use", "id", "name",
    "input": {}}``, ``ping``, an empty ``input_json_delta`` first (as the API sends), the argument
    fragments as ``input_json_delta`` events, ``content_block_stop``, ``message_delta`` with
    ``stop_reason: "tool_use"`` and ``message_stop``. Checked against the conformance case
    ``anthropic/test_anthropic/test_anthropic_web_search_tool_stream/0`` (the recordings hold no streamed
    client ``tool_use`` block; that case streams a ``server_tool_use`` block's input the same way: an
    empty ``partial_json`` first, then fragments) and the client tool-call example in
    shared/reference/providers/anthropic.md."""
    opening = (
        _anthropic_message_start(rid, model_json, p_tok)
        + b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":'
        b'{"type":"tool_use","id":"%b","name":"%b","input":{}}}\n\n'
        % (tool_id.encode(), TOOL_NAME.encode())
        + b'event: ping\ndata: {"type": "ping"}\n\n'
        + _A_JSON_PRE
        + b'""'
        + _A_DELTA_POST
        + _A_JSON_PRE
        + _ARGS_OPEN
        + _A_DELTA_POST
    )
    closing = _A_JSON_PRE + _ARGS_CLOSE + _A_DELTA_POST + _anthropic_closing(p_tok, c_tok, b"tool_use")
    return _Reply(opening, _A_JSON_PRE, _A_DELTA_POST, closing)


def _anthropic_tool_json(
    rid: str, tool_id: str, model_json: bytes, args: bytes, p_tok: int, c_tok: int
) -> bytes:
    return (
        b'{"id":"%b","type":"message","role":"assistant","model":%b,"content":[{"type":"tool_use",'
        b'"id":"%b","name":"%b","input":%b}],"stop_reason":"tool_use","stop_sequence":null,"usage":%b}'
        % (
            rid.encode(),
            model_json,
            tool_id.encode(),
            TOOL_NAME.encode(),
            args,
            _anthropic_usage(p_tok, c_tok),
        )
    )


# --------------------------------------------------------------------------------------------------
# Streams and connections


class _Stream:
    """One SSE reply in flight on a connection, driven by the timer wheel (or by flow control at delay 0)."""

    __slots__ = (
        "active",
        "batch",
        "conn",
        "delay_s",
        "fixed_len",
        "last_write_ns",
        "n",
        "pieces",
        "post",
        "pre",
        "reply",
        "sent",
        "t_first",
        "waiting_resume",
        "writes",
    )

    def __init__(
        self, conn: _Connection, reply: _Reply, n: int, cc: int, delay_s: float, t_first: float, burst: bool
    ) -> None:
        self.conn = conn
        self.reply = reply
        self.pre = reply.pre
        self.post = reply.post
        self.fixed_len = len(reply.pre) + len(reply.post)
        self.pieces = _pieces(cc)
        self.n = n
        self.sent = 0
        self.delay_s = delay_s
        self.t_first = t_first
        self.active = True
        self.waiting_resume = False
        self.last_write_ns = 0
        # paced streams remember when each delta went out (GET /_stats/last_stream), for latency figures
        self.writes: list[int] | None = [] if delay_s > 0.0 and n <= _MAX_RECORDED_WRITES else None
        # delay 0: one event per chunk and write (as providers flush), or with ``burst`` ~64 KiB of events
        self.batch = max(1, _BURST_BYTES // (self.fixed_len + len(self.pieces.get(0)))) if burst else 1

    def step(self, head: bytes = b"") -> None:
        """Write the next delta (timed) or batches of deltas (delay 0), with ``head`` written first."""
        k = self.sent
        n = self.n
        if self.delay_s > 0.0 and k < n:
            # Hot path: one delta per wheel tick.
            piece = self.pieces.get(k)
            self.sent = k + 1
            writes = self.writes
            if k + 1 < n:
                self._write(
                    b"%b%x\r\n%b%b%b\r\n" % (head, self.fixed_len + len(piece), self.pre, piece, self.post), 1
                )
                if writes is not None:
                    writes.append(self.last_write_ns)
                self.conn.server.wheel.add(self, self.t_first + (k + 1) * self.delay_s)
                return
            closing = self.reply.closing
            self._write(
                b"%b%x\r\n%b%b%b%b\r\n0\r\n\r\n"
                % (head, self.fixed_len + len(piece) + len(closing), self.pre, piece, self.post, closing),
                1,
            )
            if writes is not None:
                writes.append(self.last_write_ns)
            self._finish()
            return
        # Delay 0 (or nothing left but the closing events): as much as the transport takes, ``batch``
        # events per HTTP chunk and socket write.
        conn = self.conn
        pre, post, get = self.pre, self.post, self.pieces.get
        while True:
            end = min(k + self.batch, n)
            parts: list[bytes] = []
            for i in range(k, end):
                parts += (pre, get(i), post)
            last = end == n
            if last:
                parts.append(self.reply.closing)
            body = b"".join(parts)
            self.sent = end
            if last and self.batch == 1 and end > k:
                # one event per chunk: the closing events are chunks of their own too
                closing = self.reply.closing
                body = body[: len(body) - len(closing)]
                self._write(b"%b%x\r\n%b\r\n" % (head, len(body), body), end - k)
                head = b""
                self._write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(closing), closing), 0)
            else:
                self._write(
                    b"%b%x\r\n%b\r\n%b" % (head, len(body), body, b"0\r\n\r\n" if last else b""), end - k
                )
            head = b""
            k = end
            if last:
                self._finish()
                return
            if conn.paused or conn.closing:
                self.waiting_resume = conn.paused
                return

    def _write(self, data: bytes, chunks: int) -> None:
        stats = self.conn.server.stats
        stats.chunks_sent += chunks
        stats.bytes_sent += len(data)
        self.last_write_ns = time.monotonic_ns()
        self.conn.transport.write(data)  # type: ignore[union-attr]

    def _finish(self) -> None:
        if self.active:
            self.active = False
            self.conn.stream_done(self)

    def abort(self) -> None:
        if self.active:
            self.active = False
            stats = self.conn.server.stats
            stats.streams_aborted += 1
            stats.streams_active -= 1
            stats.last_abort_monotonic_ns = time.monotonic_ns()
            stats.last_abort_last_chunk_monotonic_ns = self.last_write_ns
            stats.last_abort_chunks_sent = self.sent


_OPENAI: Final = 0
_ANTHROPIC: Final = 1

_SSE_HEAD: Final = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n"
    b"cache-control: no-cache\r\n"
)
_REQUEST_ID_HEADER: Final = (b"x-request-id", b"request-id")


_reasons: dict[int, bytes] = {529: b"Overloaded"}


def _reason(status: int) -> bytes:
    reason = _reasons.get(status)
    if reason is None:
        try:
            reason = HTTPStatus(status).phrase.encode()
        except ValueError:
            reason = b"Error"
        _reasons[status] = reason
    return reason


def _response_head(
    status: int, content_type: bytes, length: int, keep_alive: bool, extra: bytes = b""
) -> bytes:
    return b"HTTP/1.1 %d %b\r\ncontent-type: %b\r\ncontent-length: %d\r\n%bconnection: %b\r\n\r\n" % (
        status,
        _reason(status),
        content_type,
        length,
        extra,
        b"keep-alive" if keep_alive else b"close",
    )


class _BadRequest(Exception):
    """A request this server refuses with a 400 and a provider-shaped error body."""


def _number_header(headers: dict[bytes, bytes], name: bytes, default: float, high: float) -> float:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise _BadRequest(f"{name.decode()} must be a number, got {raw.decode('latin-1')!r}") from None
    if not 0 <= value <= high or value != value:
        raise _BadRequest(f"{name.decode()} must be between 0 and {high:g}, got {value:g}")
    return value


def _int_header(headers: dict[bytes, bytes], name: bytes, default: int, low: int, high: int) -> int:
    raw = headers.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"{name.decode()} must be an integer, got {raw.decode('latin-1')!r}") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name.decode()} must be between {low} and {high}, got {value}")
    return value


class _Request:
    __slots__ = ("body_end", "body_start", "headers", "keep_alive", "method", "path")

    def __init__(
        self,
        method: bytes,
        path: bytes,
        headers: dict[bytes, bytes],
        body_start: int,
        body_end: int,
        keep: bool,
    ) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body_start = body_start
        self.body_end = body_end
        self.keep_alive = keep


class _Connection(asyncio.Protocol):
    """One client connection: parses requests from a byte buffer and answers them one at a time."""

    __slots__ = (
        "buf",
        "busy",
        "closing",
        "delayed",
        "keep_alive",
        "paused",
        "pending",
        "processing",
        "scan",
        "server",
        "stream",
        "transport",
    )

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.scan = 0
        self.pending: _Request | None = None
        self.stream: _Stream | None = None
        self.delayed: asyncio.TimerHandle | None = None
        self.busy = False  # a reply is in flight; further requests wait in the buffer
        self.processing = False
        self.paused = False
        self.closing = False
        self.keep_alive = True

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        stats = self.server.stats
        stats.connections_opened += 1
        stats.connections_active += 1
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._gone()
        self.server.stats.connections_active -= 1
        self.server.connections.discard(self)

    def eof_received(self) -> bool:
        self._gone()
        return False  # let the transport close; connection_lost follows

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        stream = self.stream
        if stream is not None and stream.waiting_resume and stream.active:
            stream.waiting_resume = False
            stream.step()

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.busy and not self.processing:
            self.process()

    # -- request handling --------------------------------------------------------------------------

    def _gone(self) -> None:
        if self.closing and self.stream is None and self.delayed is None:
            return
        self.closing = True
        if self.stream is not None:
            self.stream.abort()
            self.stream = None
        if self.delayed is not None:
            self.delayed.cancel()
            self.delayed = None

    def process(self) -> None:
        """Serve every complete request in the buffer, until one starts a reply that takes time."""
        self.processing = True
        try:
            while not self.busy and not self.closing:
                req = self.pending
                buf = self.buf
                if req is None:
                    end = buf.find(b"\r\n\r\n", self.scan)
                    if end < 0:
                        if len(buf) > _MAX_HEAD:
                            self._plain_error(431, "request head too large")
                        else:
                            self.scan = max(0, len(buf) - 3)
                        return
                    req = self._parse_head(bytes(buf[:end]), end + 4)
                    if req is None:
                        return
                    self.pending = req
                if len(buf) < req.body_end:
                    return
                body = buf[req.body_start : req.body_end]
                del buf[: req.body_end]
                self.scan = 0
                self.pending = None
                self.keep_alive = req.keep_alive
                self._handle(req, body)
        finally:
            self.processing = False

    def _parse_head(self, head: bytes, body_start: int) -> _Request | None:
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/1."):
            self._plain_error(400, "malformed request line")
            return None
        method, target, version = parts
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                self._plain_error(400, "malformed header line")
                return None
            headers[name.strip().lower()] = value.strip()
        if b"transfer-encoding" in headers:
            self._plain_error(501, "request bodies must use Content-Length")
            return None
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_BODY:
            self._plain_error(400 if length < 0 else 413, "bad Content-Length")
            return None
        conn = headers.get(b"connection", b"").lower()
        keep = conn != b"close" if version == b"HTTP/1.1" else conn == b"keep-alive"
        path = target.split(b"?", 1)[0]
        return _Request(method, path, headers, body_start, body_start + length, keep)

    def _handle(self, req: _Request, body: bytearray) -> None:
        stats = self.server.stats
        stats.http_requests += 1
        method, path = req.method, req.path
        if path.endswith(b"/chat/completions"):
            self._provider_request(_OPENAI, req, body) if method == b"POST" else self._plain_error(
                405, "use POST"
            )
        elif path.endswith(b"/messages"):
            self._provider_request(_ANTHROPIC, req, body) if method == b"POST" else self._plain_error(
                405, "use POST"
            )
        elif path == b"/_stats" and method == b"GET":
            self._send(200, b"application/json", json.dumps(self.server.snapshot()).encode())
        elif path == b"/_stats/last_stream" and method == b"GET":
            payload = {"write_ns": self.server.last_stream_writes}
            self._send(200, b"application/json", json.dumps(payload).encode())
        elif path == b"/_stats/reset" and method == b"POST":
            before = self.server.snapshot()
            stats.reset()
            if self.server.limiter is not None:
                self.server.limiter.reset()
            self._send(200, b"application/json", json.dumps(before).encode())
        elif path in (b"/", b"/health") and method in (b"GET", b"HEAD"):
            self._send(200, b"text/plain; charset=utf-8", b"fake provider: ok\n")
        else:
            self._plain_error(404, f"no route for {method.decode('latin-1')} {path.decode('latin-1')}")

    def _provider_request(self, provider: int, req: _Request, body: bytearray) -> None:
        server = self.server
        stats = server.stats
        stats.requests += 1
        headers = req.headers
        rid = server.next_id(provider)
        request_id = f"req_fake{server.counter:012d}"
        rid_header = b"%b: %b\r\n" % (_REQUEST_ID_HEADER[provider], request_id.encode())
        defaults = server.settings
        try:
            status = _int_header(headers, b"x-fake-status", 200, 100, 599)
            if status >= 400:
                retry = headers.get(b"x-fake-retry-after")
                extra = rid_header + (b"retry-after: %b\r\n" % retry if retry is not None else b"")
                self._provider_error(provider, status, request_id, None, extra)
                return
            chunks = _int_header(headers, b"x-fake-chunks", defaults.chunks, 0, _MAX_CHUNKS)
            cc = _int_header(headers, b"x-fake-chunk-chars", defaults.chunk_chars, 1, _MAX_CHUNK_CHARS)
            delay_ms = _number_header(headers, b"x-fake-delay-ms", defaults.delay_ms, 3_600_000)
            burst = _int_header(headers, b"x-fake-burst", int(defaults.burst), 0, 1) == 1
            tool = _int_header(headers, b"x-fake-tool", int(defaults.tool), 0, 1) == 1
            ttft_ms = _number_header(headers, b"x-fake-ttft-ms", defaults.ttft_ms, 3_600_000)
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                raise _BadRequest("We could not parse the JSON body of your request.") from None
            if not isinstance(payload, dict):
                raise _BadRequest("The request body must be a JSON object.")
        except _BadRequest as e:
            self._provider_error(provider, 400, request_id, str(e), rid_header)
            return
        model_json = server.model_json(payload.get("model"))
        p_tok = max(1, len(body) // 4)
        limiter = server.limiter
        if limiter is not None:  # optional rate limits (benchmarks/fake_ratelimit.py)
            verdict = limiter.check(p_tok + chunks, anthropic=provider != _OPENAI)
            if verdict.refused:
                self._provider_error(provider, 429, request_id, verdict.message, rid_header + verdict.headers)
                return
            rid_header += verdict.headers
            ttft_ms += limiter.load_latency_ms * (stats.streams_active + server.delayed_replies)
        call_id = ("call_fake%012d" if provider == _OPENAI else "toolu_fake%012d") % server.counter
        if payload.get("stream") is True:
            if provider == _OPENAI:
                opts = payload.get("stream_options")
                usage = isinstance(opts, dict) and opts.get("include_usage") is True
                if tool:
                    reply = _openai_tool_stream(
                        rid, call_id, int(time.time()), model_json, p_tok, chunks, usage
                    )
                else:
                    reply = _openai_stream(rid, int(time.time()), model_json, p_tok, chunks, usage)
            elif tool:
                reply = _anthropic_tool_stream(rid, call_id, model_json, p_tok, chunks)
            else:
                reply = _anthropic_stream(rid, model_json, p_tok, chunks)
            self._start_stream(reply, rid_header, chunks, cc, delay_ms / 1000, ttft_ms / 1000, burst)
            return
        text_json = _full_text_json(chunks, cc)
        if tool:
            args = _tool_args_document(chunks, cc)
            if provider == _OPENAI:
                data = _openai_tool_json(rid, call_id, int(time.time()), model_json, args, p_tok, chunks)
            else:
                data = _anthropic_tool_json(rid, call_id, model_json, args, p_tok, chunks)
        elif provider == _OPENAI:
            data = _openai_json(rid, int(time.time()), model_json, text_json, p_tok, chunks)
        else:
            data = _anthropic_json(rid, model_json, text_json, p_tok, chunks)
        stats.json_responses += 1
        if ttft_ms > 0:
            self.busy = True
            server.delayed_replies += 1
            self.delayed = server.loop.call_later(ttft_ms / 1000, self._send_delayed, data, rid_header)
        else:
            self._send(200, b"application/json", data, rid_header)

    def _start_stream(
        self, reply: _Reply, rid_header: bytes, n: int, cc: int, delay_s: float, ttft_s: float, burst: bool
    ) -> None:
        server = self.server
        stats = server.stats
        stats.streams_started += 1
        stats.streams_active += 1
        self.busy = True
        t0 = server.loop.time()
        stream = self.stream = _Stream(self, reply, n, cc, delay_s, t0 + ttft_s, burst)
        head = b"%b%bconnection: %b\r\n\r\n%x\r\n%b\r\n" % (
            _SSE_HEAD,
            rid_header,
            b"keep-alive" if self.keep_alive else b"close",
            len(reply.opening),
            reply.opening,
        )
        if ttft_s > 0:
            stats.bytes_sent += len(head)
            self.transport.write(head)  # type: ignore[union-attr]
            server.wheel.add(stream, t0 + ttft_s)
        else:
            stream.step(head)

    def stream_done(self, stream: _Stream) -> None:
        if stream.writes is not None:
            self.server.last_stream_writes = stream.writes
        stats = self.server.stats
        stats.streams_completed += 1
        stats.streams_active -= 1
        self.stream = None
        self._reply_done()

    def _reply_done(self) -> None:
        self.busy = False
        if not self.keep_alive:
            self.closing = True
            self.transport.close()  # type: ignore[union-attr]
        elif self.buf and not self.processing:
            self.process()

    def _send_delayed(self, data: bytes, extra: bytes) -> None:
        self.delayed = None
        self.server.delayed_replies -= 1
        if not self.closing:
            self._send(200, b"application/json", data, extra)
            self._reply_done()

    def _send(self, status: int, content_type: bytes, data: bytes, extra: bytes = b"") -> None:
        out = _response_head(status, content_type, len(data), self.keep_alive, extra) + data
        self.server.stats.bytes_sent += len(out)
        transport = self.transport
        assert transport is not None
        transport.write(out)
        if not self.keep_alive:
            self.closing = True
            transport.close()

    def _provider_error(
        self, provider: int, status: int, request_id: str, message: str | None, extra: bytes
    ) -> None:
        self.server.stats.error_responses += 1
        if provider == _OPENAI:
            data = _openai_error(status, message)
        else:
            data = _anthropic_error(status, request_id, message)
        self._send(status, b"application/json", data, extra)

    def _plain_error(self, status: int, message: str) -> None:
        """Protocol-level errors (bad HTTP, unknown route): OpenAI-shaped body; close unless routing."""
        self.server.stats.error_responses += 1
        if status not in (404, 405):
            self.keep_alive = False
        self._send(status, b"application/json", _openai_error(status, message))


class _Server:
    """Shared state of one listening server: defaults, stats, the timer wheel, open connections."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        settings: FakeProviderSettings,
        limiter: FakeRateLimiter | None = None,
    ) -> None:
        self.loop = loop
        self.settings = settings
        self.limiter = limiter
        self.delayed_replies = 0  # non-streamed replies waiting for their ttft
        self.stats = _Stats()
        self.wheel = _TimerWheel(loop)
        self.connections: set[_Connection] = set()
        self.counter = 0
        self._models: dict[object, bytes] = {}
        self.last_stream_writes: list[int] = []

    def snapshot(self) -> dict[str, Any]:
        data = self.stats.snapshot()
        if self.limiter is not None:
            data.update(self.limiter.snapshot())
        return data

    def next_id(self, provider: int) -> str:
        self.counter += 1
        return ("chatcmpl-fake%012d" if provider == _OPENAI else "msg_fake%012d") % self.counter

    def model_json(self, model: object) -> bytes:
        if not isinstance(model, str) or not model:
            model = "fake-model"
        encoded = self._models.get(model)
        if encoded is None:
            if len(self._models) > 1024:
                self._models.clear()
            encoded = self._models[model] = json.dumps(model).encode()
        return encoded


# --------------------------------------------------------------------------------------------------
# Running the server


def _format_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    settings: FakeProviderSettings | None = None,
    *,
    ready_file: str | os.PathLike[str] | None = None,
    parent_pid: int | None = None,
    quiet: bool = False,
    on_ready: Callable[[int], None] | None = None,
    limiter: FakeRateLimiter | None = None,
) -> None:
    """Listen and serve until SIGTERM/SIGINT (or until ``parent_pid`` is no longer our parent)."""
    loop = asyncio.get_running_loop()
    state = _Server(loop, settings or FakeProviderSettings(), limiter)
    server = await loop.create_server(
        lambda: _Connection(state), host, port, backlog=4096, reuse_address=True
    )
    bound_port: int = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def check_parent() -> None:
        if os.getppid() != parent_pid:
            stop.set()
        else:
            loop.call_later(0.5, check_parent)

    if parent_pid is not None:
        check_parent()
    if ready_file is not None:
        tmp = f"{os.fspath(ready_file)}.tmp"
        Path(tmp).write_text(f"{bound_port}\n")
        os.replace(tmp, ready_file)
    if not quiet:
        print(_format_url(host, bound_port), flush=True)
    if on_ready is not None:
        on_ready(bound_port)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        server.close()
        for conn in list(state.connections):
            if conn.transport is not None:
                conn.transport.abort()
        await server.wait_closed()


def _raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m benchmarks.fake_provider --help``."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fake_provider",
        description="Fake OpenAI Chat / Anthropic Messages server for benchmarks and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument("--ready-file", help="write the bound port here (atomically) once listening")
    parser.add_argument("--chunks", type=int, default=DEFAULT_CHUNKS, help="default x-fake-chunks")
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_MS, help="default x-fake-delay-ms")
    parser.add_argument(
        "--chunk-chars", type=int, default=DEFAULT_CHUNK_CHARS, help="default x-fake-chunk-chars"
    )
    parser.add_argument("--ttft-ms", type=float, default=DEFAULT_TTFT_MS, help="default x-fake-ttft-ms")
    parser.add_argument(
        "--burst",
        action="store_true",
        help="default x-fake-burst: 1 (~64 KiB of events per chunk at delay 0)",
    )
    parser.add_argument(
        "--tool", action="store_true", help="default x-fake-tool: 1 (replies are one tool call)"
    )
    parser.add_argument("--parent-pid", type=int, help="exit when this process is no longer our parent")
    parser.add_argument("--quiet", action="store_true", help="do not print the URL")
    parser.add_argument(
        "--no-uvloop", action="store_true", help="use asyncio's loop even if uvloop is installed"
    )
    parser.add_argument(
        "--rpm", type=float, help="enforce requests per minute (real 429s, x-ratelimit-* headers)"
    )
    parser.add_argument("--tpm", type=float, help="enforce tokens per minute (prompt + completion tokens)")
    parser.add_argument(
        "--load-latency-ms", type=float, default=0.0, help="extra ttft per request already in progress"
    )
    parser.add_argument("--burst-s", type=float, default=60.0, help="seconds' worth of budget a bucket holds")
    args = parser.parse_args(argv)
    limiter = (
        FakeRateLimiter(args.rpm, args.tpm, args.load_latency_ms, args.burst_s)
        if args.rpm or args.tpm or args.load_latency_ms
        else None
    )
    if args.chunks < 0 or args.chunk_chars < 1 or args.delay_ms < 0 or args.ttft_ms < 0:
        parser.error("--chunks, --delay-ms and --ttft-ms must be >= 0, --chunk-chars >= 1")
    settings = FakeProviderSettings(
        args.chunks, args.delay_ms, args.chunk_chars, args.ttft_ms, args.burst, args.tool
    )
    _raise_fd_limit()
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if not args.no_uvloop:
        try:
            import uvloop  # type: ignore[import-not-found]  # optional, never required
        except ImportError:
            pass
        else:
            loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(
            serve(
                args.host,
                args.port,
                settings,
                ready_file=args.ready_file,
                parent_pid=args.parent_pid,
                quiet=args.quiet,
                limiter=limiter,
            )
        )


# --------------------------------------------------------------------------------------------------
# Python API: run it as a subprocess


@contextlib.contextmanager
def start_fake_provider(
    *,
    chunks: int | None = None,
    delay_ms: float | None = None,
    chunk_chars: int | None = None,
    ttft_ms: float | None = None,
    burst: bool = False,
    tool: bool = False,
    host: str = "127.0.0.1",
    startup_timeout: float = 10.0,
    python: str | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run the fake provider in a subprocess; yield its base URL (``http://127.0.0.1:PORT``).

    The keyword arguments set the server defaults for the control headers. The OpenAI base URL is
    ``base_url + "/v1"``, the Anthropic one ``base_url`` itself. On exit the process is terminated
    (SIGTERM, then SIGKILL after 5 s) and reaped; it also exits by itself if this process dies.
    """
    options: list[str] = []
    for flag, value in (
        ("--chunks", chunks),
        ("--delay-ms", delay_ms),
        ("--chunk-chars", chunk_chars),
        ("--ttft-ms", ttft_ms),
    ):
        if value is not None:
            options += [flag, str(value)]
    if burst:
        options.append("--burst")
    if tool:
        options.append("--tool")
    with tempfile.TemporaryDirectory(prefix="fake_provider_") as tmp:
        ready = Path(tmp) / "port"
        cmd = [
            python or sys.executable,
            str(Path(__file__).resolve()),
            "--host",
            host,
            "--port",
            "0",
            "--ready-file",
            str(ready),
            "--parent-pid",
            str(os.getpid()),
            "--quiet",
            *options,
            *extra_args,
        ]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + startup_timeout
            while not ready.exists():
                if proc.poll() is not None:
                    raise RuntimeError(f"fake provider exited with status {proc.returncode} before listening")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"fake provider did not listen within {startup_timeout} s")
                time.sleep(0.005)
            yield _format_url(host, int(ready.read_text()))
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _stats_call(base_url: str, method: str, path: str, timeout: float) -> dict[str, Any]:
    from urllib.parse import urlsplit

    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {resp.status}: {data[:200]!r}")
        result: dict[str, Any] = json.loads(data)
        return result
    finally:
        conn.close()


def get_stats(base_url: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """``GET /_stats`` (blocking, stdlib only)."""
    return _stats_call(base_url, "GET", "/_stats", timeout)


def reset_stats(base_url: str, *, timeout: float = 5.0) -> dict[str, Any]:
    """``POST /_stats/reset`` (blocking, stdlib only); returns the stats from before the reset."""
    return _stats_call(base_url, "POST", "/_stats/reset", timeout)


if __name__ == "__main__":
    main()
