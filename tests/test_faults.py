"""Every fault a misbehaving provider can throw at us, against the scripted loopback server.

Each fault goes through the real provider modules (OpenAI Chat and Anthropic Messages), non-streamed
and streamed, and must end in the documented ``TrioDirectError`` subclass with a message that says
what happened (docs/reliability.md lists them). Around every test: nothing hangs past the configured
inactivity timeout, no thread is left behind, every connection the server accepted is closed once
the run is over, and (warnings are errors) no ResourceWarning or unraisable exception appears.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
import trio

from tests.loopback import LoopbackServer, Reply, close, head, raw, reset, stall
from tests.reliability import (
    PROMPT,
    assert_all_connections_closed,
    chunk,
    completion,
    openai_model,
    sse_text,
)
from trio_direct import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelServerError,
    ModelSettings,
    ModelTimeoutError,
    ModelUnavailableError,
    RequestTimeoutError,
    TrioDirectError,
    UnexpectedModelBehavior,
    _http,
    model_request,
    model_request_stream,
    model_request_stream_sync,
    model_request_sync,
)
from trio_direct.models import Model
from trio_direct.models.anthropic import AnthropicModel
from trio_direct.retries import provider_wait

#: The inactivity limit every test runs with, and how much later than it a failure may surface on a
#: loaded CI machine before we call it a hang.
INACTIVITY = 0.4
SLACK = 2.5

# ---------------------------------------------------------------------------------------------
# Two wires: what each provider sends when things go right, and its own error shapes
# ---------------------------------------------------------------------------------------------


def anthropic_event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


ANTHROPIC_MESSAGE = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}


def anthropic_text_events(*pieces: str) -> list[object]:
    start = {**ANTHROPIC_MESSAGE, "content": [], "stop_reason": None}
    return [
        anthropic_event("message_start", message=start),
        anthropic_event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        *(
            anthropic_event("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
            for p in pieces
        ),
    ]


def anthropic_full(*pieces: str) -> list[object]:
    return [
        *anthropic_text_events(*pieces),
        anthropic_event("content_block_stop", index=0),
        anthropic_event("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 2}),
        anthropic_event("message_stop"),
    ]


@attrs.frozen
class Wire:
    name: str
    model: Callable[[LoopbackServer, ModelSettings | None], Model]
    ok_body: dict[str, Any]
    partial: Callable[..., list[object]]  # events carrying some text, not finished
    full: Callable[..., list[object]]  # a complete stream
    overloaded_event: object  # an in-stream "overloaded" error
    error_200: dict[str, Any]  # a 200 whose JSON body is an error object
    overloaded_529: dict[str, Any]


OPENAI = Wire(
    "openai",
    lambda srv, settings: openai_model(srv, settings=settings),
    completion(),
    lambda *p: [chunk(x) for x in p],
    sse_text,
    {"error": {"message": "Overloaded", "type": "overloaded_error"}},
    {"error": {"message": "The server had an error while processing your request", "type": "server_error"}},
    {"error": {"message": "Overloaded", "type": "overloaded_error"}},
)
ANTHROPIC = Wire(
    "anthropic",
    lambda srv, settings: AnthropicModel(
        "claude-sonnet-4-5",
        api_key="sk-ant-test",
        base_url=srv.url,
        settings={"max_tokens": 64, **(settings or {})},  # type: ignore[arg-type]
    ),
    ANTHROPIC_MESSAGE,
    anthropic_text_events,
    anthropic_full,
    anthropic_event("error", error={"type": "overloaded_error", "message": "Overloaded"}),
    {"type": "error", "error": {"type": "api_error", "message": "The server had an error"}},
    {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
)


@pytest.fixture(params=[OPENAI, ANTHROPIC], ids=lambda w: w.name)
def wire(request: pytest.FixtureRequest) -> Wire:
    return request.param  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Leak checks around every test
# ---------------------------------------------------------------------------------------------

_PERSISTENT_THREADS = ("loopback-", "trio_direct-portal", "Trio thread")


def _our_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith(_PERSISTENT_THREADS)}


@pytest.fixture(autouse=True)
def no_leaks(loopback: LoopbackServer) -> Iterator[None]:
    """Teardown runs after the test's trio.run has ended (and closed the run's HTTP client)."""
    before = _our_threads()
    yield
    gc.collect()  # any abandoned async generator or unclosed socket warns now, inside the test
    assert_all_connections_closed(loopback)
    leaked = [t.name for t in _our_threads() - before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


def settings() -> ModelSettings:
    return ModelSettings(timeout=INACTIVITY, stream_inactivity_timeout=INACTIVITY)


@attrs.define
class Outcome:
    error: BaseException | None = None
    seconds: float = 0.0
    events: int = 0  # streams: events the caller saw before the error
    entered: bool = False  # streams: whether `async with` returned
    text: str = ""


def _living_tasks() -> int:
    _http.current_client()  # the run's client (and the system task that closes it) exist first
    return trio.lowlevel.current_statistics().tasks_living


async def run_request(model: Model, model_settings: ModelSettings | None = None) -> Outcome:
    outcome = Outcome()
    tasks = _living_tasks()
    start = time.monotonic()
    try:
        with trio.fail_after(INACTIVITY + SLACK + 5):  # a hang is a test failure, not a CI timeout
            response = await model_request(model, PROMPT, model_settings=model_settings)
        outcome.text = response.text or ""
    except TrioDirectError as exc:
        outcome.error = exc
    outcome.seconds = time.monotonic() - start
    assert _living_tasks() == tasks, "a task was left running"
    return outcome


async def run_stream(
    model: Model, model_settings: ModelSettings | None = None, *, check_tasks: bool = True
) -> Outcome:
    outcome = Outcome()
    tasks = _living_tasks() if check_tasks else None
    start = time.monotonic()
    stream = None
    try:
        with trio.fail_after(INACTIVITY + SLACK + 5):
            async with model_request_stream(model, PROMPT, model_settings=model_settings) as stream:
                outcome.entered = True
                async for _ in stream:
                    outcome.events += 1
    except TrioDirectError as exc:
        outcome.error = exc
    outcome.seconds = time.monotonic() - start
    if stream is not None:
        outcome.text = stream.get().text or ""
    assert tasks is None or _living_tasks() == tasks, "a task (the stream's pump?) was left running"
    return outcome


def expect(outcome: Outcome, cls: type[BaseException], *fragments: str) -> Any:
    assert isinstance(outcome.error, cls), f"expected {cls.__name__}, got {outcome.error!r}"
    message = str(outcome.error)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert outcome.seconds < INACTIVITY + SLACK, f"took {outcome.seconds:.2f}s"
    return outcome.error


# ---------------------------------------------------------------------------------------------
# Connection faults: resets and closes before, during and after the head, and in the body
# ---------------------------------------------------------------------------------------------

CONNECTION_FAULTS: dict[str, tuple[Callable[[Wire], Reply], str]] = {
    "reset-before-head": (lambda w: Reply.of(reset()), "Connection reset by peer"),
    "reset-mid-head": (
        lambda w: Reply.of(raw(b"HTTP/1.1 200 OK\r\nContent-Ty"), reset()),
        "Connection reset",
    ),
    "reset-after-head": (
        lambda w: Reply.of(head(200, {"content-type": "application/json", "content-length": "400"}), reset()),
        "Connection reset",
    ),
    "close-before-head": (lambda w: Reply.of(close()), "Server disconnected without sending a response"),
    "close-mid-head": (
        lambda w: Reply.of(raw(b"HTTP/1.1 200 OK\r\nContent-Ty"), close()),
        "Server disconnected",
    ),
    "close-mid-body": (
        lambda w: Reply.truncated(json.dumps(w.ok_body), at=25),
        "peer closed connection without sending complete message body",
    ),
    "reset-mid-body": (
        lambda w: Reply.truncated(json.dumps(w.ok_body), at=25, end=reset()),
        "Connection reset",
    ),
    "garbage": (lambda w: Reply.garbage(), "illegal status line"),
    "garbage-after-head": (
        lambda w: Reply.of(
            head(200, {"transfer-encoding": "chunked"}), raw(b"zz\r\nnot a chunk\r\n"), close()
        ),
        "connection broke while reading the response",
    ),
}


@pytest.mark.parametrize("fault", list(CONNECTION_FAULTS))
async def test_connection_faults_non_streamed(loopback: LoopbackServer, wire: Wire, fault: str) -> None:
    make, detail = CONNECTION_FAULTS[fault]
    loopback.enqueue(make(wire))
    error = expect(await run_request(wire.model(loopback, settings())), ModelConnectionError, detail)
    assert error.phase == "read" and not error.in_stream
    assert "connection broke while reading the response from http://127.0.0.1:" in str(error)
    assert "/v1/" in str(error)


@pytest.mark.parametrize("fault", [f for f in CONNECTION_FAULTS if "body" not in f])
async def test_connection_faults_before_a_stream_opens(
    loopback: LoopbackServer, wire: Wire, fault: str
) -> None:
    make, detail = CONNECTION_FAULTS[fault]
    loopback.enqueue(make(wire))
    outcome = await run_stream(wire.model(loopback, settings()))
    expect(outcome, ModelConnectionError, detail)
    assert not outcome.entered  # raised from `async with`


@pytest.mark.parametrize("end", [reset(), close()], ids=["reset", "close"])
async def test_cut_right_after_the_sse_head(loopback: LoopbackServer, wire: Wire, end: Any) -> None:
    loopback.enqueue(Reply.sse([], then=end))
    outcome = await run_stream(wire.model(loopback, settings()))
    expect(outcome, ModelConnectionError, "connection broke while reading the response")
    assert not outcome.entered


@pytest.mark.parametrize("end", [reset(), close()], ids=["reset", "close"])
async def test_cut_mid_sse_event(loopback: LoopbackServer, wire: Wire, end: Any) -> None:
    # two whole events, then half of one, then the connection goes (RST, or FIN inside a chunked body)
    loopback.enqueue(
        Reply.sse([*wire.partial("Hel", "lo"), b'data: {"type": "content_blo'], delay=0.01, then=end)
    )
    outcome = await run_stream(wire.model(loopback, settings()))
    error = expect(outcome, ModelConnectionError)
    assert outcome.entered and outcome.events > 0  # raised from the iteration, after events
    assert error.in_stream and error.phase == "read"
    assert outcome.text == "Hello"  # get() keeps what arrived


async def test_body_ends_cleanly_mid_sse_event(loopback: LoopbackServer, wire: Wire) -> None:
    # the chunked body terminates properly, but inside an event and before the message finished
    loopback.enqueue(Reply.sse([*wire.partial("Hel"), b'data: {"type": "content_blo'], delay=0.01))
    outcome = await run_stream(wire.model(loopback, settings()))
    assert outcome.entered and outcome.text == "Hel"
    if wire is OPENAI:
        # the half event is a chunk that is not JSON
        expect(
            outcome, UnexpectedModelBehavior, "Invalid chunk in the chat completions stream", "content_blo"
        )
    else:
        # Anthropic's decoder skips the half event; the message never reached message_stop
        expect(outcome, UnexpectedModelBehavior, "the Anthropic stream ended before `message_stop`")


async def test_stream_without_its_end_marker(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.sse(wire.partial("Hel", "lo")))
    outcome = await run_stream(wire.model(loopback, settings()))
    if wire is OPENAI:
        error = expect(outcome, ModelConnectionError, "ended without `data: [DONE]` or a finish reason")
        assert error.in_stream
    else:
        expect(outcome, UnexpectedModelBehavior, "ended before `message_stop`")
    assert outcome.text == "Hello"


# ---------------------------------------------------------------------------------------------
# Bad bodies: truncated JSON, HTML, wrong content types, garbage SSE, error objects in a 200
# ---------------------------------------------------------------------------------------------


async def test_truncated_json(loopback: LoopbackServer, wire: Wire) -> None:
    body = json.dumps(wire.ok_body)[:40]
    loopback.enqueue(Reply.body(body, content_type="application/json"))
    outcome = await run_request(wire.model(loopback, settings()))
    if wire is OPENAI:
        expect(outcome, UnexpectedModelBehavior, "expected JSON data", body)  # the body is quoted
    else:
        # as pydantic-ai 2.68 with the Anthropic SDK: a plain ModelAPIError
        expect(outcome, ModelAPIError, "Failed to decode response as JSON")


async def test_html_page_with_200(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.html("<html><body>Welcome to nginx!</body></html>"))
    outcome = await run_request(wire.model(loopback, settings()))
    if wire is OPENAI:
        expect(outcome, UnexpectedModelBehavior, "expected JSON data", "Welcome to nginx!")
    else:
        expect(outcome, ModelAPIError, "Expected a JSON response, got", "Welcome to nginx!")


@pytest.mark.parametrize(("status", "cls"), [(502, ModelServerError), (503, ModelUnavailableError)])
async def test_html_error_page(
    loopback: LoopbackServer, wire: Wire, status: int, cls: type[Exception]
) -> None:
    page = f"<html><head><title>{status}</title></head><body><h1>{status} Bad Gateway</h1></body></html>"
    loopback.enqueue(Reply.html(page, status), Reply.html(page, status))
    for outcome in (
        await run_request(wire.model(loopback, settings())),
        await run_stream(wire.model(loopback, settings())),
    ):
        error = expect(outcome, cls, f"status_code: {status}", f"{status} Bad Gateway")
        assert isinstance(error, ModelHTTPError) and error.status_code == status
        assert error.body == page  # not JSON: the text itself
        assert not outcome.entered


async def test_json_with_a_wrong_content_type(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.json(wire.ok_body, headers={"content-type": "text/plain"}))
    outcome = await run_request(wire.model(loopback, settings()))
    if wire is OPENAI:
        assert outcome.error is None and outcome.text == "ok"  # read anyway, as the OpenAI SDK does
    else:
        expect(outcome, ModelAPIError, "Expected a JSON response, got")  # as the Anthropic SDK does


async def test_sse_with_a_wrong_content_type_is_still_read(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.sse(wire.full("fine"), headers={"content-type": "text/plain"}))
    outcome = await run_stream(wire.model(loopback, settings()))
    assert outcome.error is None and outcome.text == "fine"


@pytest.mark.parametrize(
    "reply",
    [
        lambda w: Reply.json(w.ok_body),  # a server that ignored `stream: true`
        lambda w: Reply.json(w.error_200),  # an error object instead of a stream
        lambda w: Reply.html("<h1>Login required</h1>"),  # a captive portal / proxy page
    ],
    ids=["json-completion", "json-error", "html"],
)
async def test_stream_answered_with_something_else(
    loopback: LoopbackServer, wire: Wire, reply: Callable[[Wire], Reply]
) -> None:
    loopback.enqueue(reply(wire))
    outcome = await run_stream(wire.model(loopback, settings()))
    error = expect(
        outcome,
        UnexpectedModelBehavior,
        "expected a stream of server-sent events (text/event-stream)",
        "HTTP 200",
    )
    assert not outcome.entered and error.body  # the body is kept and quoted


@pytest.mark.parametrize("wire", [OPENAI, ANTHROPIC], ids=lambda w: w.name)
async def test_200_with_an_error_object(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.json(wire.error_200))
    error = expect(await run_request(wire.model(loopback, settings())), UnexpectedModelBehavior)
    assert "The server had an error" in str(error)


@pytest.mark.parametrize("where", ["first", "later"])
async def test_error_event_inside_a_200_stream(loopback: LoopbackServer, wire: Wire, where: str) -> None:
    events = [wire.overloaded_event] if where == "first" else [*wire.partial("Hi"), wire.overloaded_event]
    loopback.enqueue(Reply.sse(events, delay=0.01))
    outcome = await run_stream(wire.model(loopback, settings()))
    error = expect(outcome, ModelOverloadedError, "Overloaded")
    assert error.in_stream
    assert outcome.entered is (where == "later")


@pytest.mark.parametrize(
    "data",
    [b"not json at all", b"[1, 2, 3]", b'{"choices": 7, "type": 7, "index": "x"}'],
    ids=["not-json", "json-array", "wrong-shape"],
)
async def test_garbage_sse_data(loopback: LoopbackServer, wire: Wire, data: bytes) -> None:
    # Anthropic's stream skips unnamed events and dispatches the rest on their JSON `type`, as its SDK
    # does (an unknown type is ignored), so the garbage comes named and, when it is an object, typed
    name = b"" if wire is OPENAI else b"event: content_block_delta\n"
    if wire is ANTHROPIC and data.startswith(b"{"):
        data = data.replace(b'"type": 7', b'"type": "content_block_delta"')
    loopback.enqueue(
        Reply.sse([*wire.partial("x"), name + b"data: " + data + b"\n\n"], delay=0.01, then=stall())
    )
    outcome = await run_stream(wire.model(loopback, settings()))
    if wire is ANTHROPIC and not data.startswith((b"{", b"[")):
        # what pydantic-ai raises for a chunk that is not JSON
        expect(outcome, ModelAPIError, "Failed to decode response as JSON")
    else:
        what = (
            "Invalid chunk in the chat completions stream"
            if wire is OPENAI
            else "could not understand the Anthropic"
        )
        expect(outcome, UnexpectedModelBehavior, what)
    assert outcome.entered and outcome.text == "x"


async def test_unknown_sse_events_are_skipped(loopback: LoopbackServer, wire: Wire) -> None:
    # comments, unknown fields and (Anthropic) unknown event names are not errors: SSE says so
    noise = [b": a comment\n\n", b"retry: 100\nid: 7\nfoo: bar\n\n"]
    if wire is ANTHROPIC:
        noise.append(b'event: something_new\ndata: {"type": "something_new"}\n\n')
    events = wire.full("a", "b")
    loopback.enqueue(Reply.sse([events[0], *noise, *events[1:]]))
    outcome = await run_stream(wire.model(loopback, settings()))
    assert outcome.error is None and outcome.text == "ab"


async def test_binary_noise_in_the_stream(loopback: LoopbackServer, wire: Wire) -> None:
    # not even lines of fields: the decoder ignores it, and the stream never finishes properly
    loopback.enqueue(Reply.sse([*wire.partial("x"), b"\xff\xfe\x00\x01garbage\r\n\r\n"], delay=0.01))
    outcome = await run_stream(wire.model(loopback, settings()))
    expect(outcome, ModelConnectionError if wire is OPENAI else UnexpectedModelBehavior)


# ---------------------------------------------------------------------------------------------
# Stalls and streams that never end: bounded by the inactivity timeout, or by the caller
# ---------------------------------------------------------------------------------------------


def stall_replies(w: Wire) -> dict[str, Reply]:
    return {
        "before-head": Reply.of(stall()),
        "after-head": Reply.of(
            head(200, {"content-type": "application/json", "content-length": "400"}), stall()
        ),
        "mid-body": Reply.of(
            head(200, {"content-type": "application/json", "content-length": "400"}), raw(b'{"id": '), stall()
        ),
    }


@pytest.mark.parametrize("where", ["before-head", "after-head", "mid-body"])
async def test_stall_non_streamed(loopback: LoopbackServer, wire: Wire, where: str) -> None:
    loopback.enqueue(stall_replies(wire)[where])
    outcome = await run_request(wire.model(loopback, ModelSettings(timeout=INACTIVITY)))
    error = expect(outcome, ModelTimeoutError, "timed out waiting for data from", "an inactivity limit")
    assert isinstance(error, TimeoutError) and isinstance(error, ModelTimeoutError) and error.phase == "read"
    assert outcome.seconds >= INACTIVITY * 0.9


STREAM_STALLS: dict[str, Callable[[Wire], Reply]] = {
    "before-head": lambda w: Reply.of(stall()),
    "after-head": lambda w: Reply.sse([], then=stall()),
    "mid-stream": lambda w: Reply.sse(w.partial("Hel", "lo"), then=stall()),
    "mid-event": lambda w: Reply.sse([*w.partial("Hel", "lo"), b"data: {"], then=stall()),
}


@pytest.mark.parametrize("where", list(STREAM_STALLS))
@pytest.mark.parametrize("setting", ["stream_inactivity_timeout", "timeout"])
async def test_stall_streamed(loopback: LoopbackServer, wire: Wire, where: str, setting: str) -> None:
    # either setting bounds the gap between chunks; `timeout` alone is honoured by streams too
    loopback.enqueue(STREAM_STALLS[where](wire))
    outcome = await run_stream(wire.model(loopback, ModelSettings(**{setting: INACTIVITY})))  # type: ignore[misc]
    error = expect(outcome, ModelTimeoutError, "timed out waiting for data from")
    assert outcome.seconds >= INACTIVITY * 0.9
    assert outcome.entered is where.startswith("mid")
    if outcome.entered:
        assert outcome.text == "Hello" and error.in_stream


async def test_stream_inactivity_timeout_wins_over_timeout_for_streams(
    loopback: LoopbackServer, wire: Wire
) -> None:
    loopback.enqueue(Reply.sse(wire.partial("a"), then=stall()))
    model = wire.model(loopback, ModelSettings(timeout=30, stream_inactivity_timeout=INACTIVITY))
    expect(await run_stream(model), ModelTimeoutError)


async def test_inactivity_limits_per_call(loopback: LoopbackServer, wire: Wire) -> None:
    # the model's defaults allow a minute; this one call allows INACTIVITY
    loopback.enqueue(Reply.of(stall()), Reply.sse(wire.partial("a"), then=stall()))
    model = wire.model(loopback, ModelSettings(timeout=60, stream_inactivity_timeout=60))
    expect(await run_request(model, ModelSettings(timeout=INACTIVITY)), ModelTimeoutError)
    outcome = await run_stream(model, ModelSettings(stream_inactivity_timeout=INACTIVITY))
    expect(outcome, ModelTimeoutError)
    assert outcome.entered and outcome.text == "a"


async def test_slow_but_steady_stream_is_not_an_inactivity_timeout(
    loopback: LoopbackServer, wire: Wire
) -> None:
    # every gap is shorter than the limit, though the whole stream takes longer than it
    events = wire.full(*"abcdefgh")
    loopback.enqueue(Reply.sse(events, delay=INACTIVITY / 4))
    outcome = await run_stream(wire.model(loopback, settings()))
    assert outcome.error is None and outcome.text == "abcdefgh"
    assert outcome.seconds > INACTIVITY


async def test_a_stream_that_never_ends_is_bounded_by_the_caller(
    loopback: LoopbackServer, wire: Wire
) -> None:
    # heartbeats keep the inactivity timeout from firing; only the caller's deadline ends it
    loopback.enqueue(Reply.sse_forever(wire.partial("tick"), interval=0.02))
    seen = 0
    start = time.monotonic()
    with trio.move_on_after(0.6) as scope:
        async with model_request_stream(wire.model(loopback, settings()), PROMPT) as stream:
            async for _ in stream:
                seen += 1
    assert scope.cancelled_caught and seen > 0
    assert stream.get().text == "tick" and stream.get().state == "incomplete"
    closed = await loopback.wait_for_client_close_async(timeout=5)
    assert closed - start < 0.6 + SLACK  # the connection was closed at once, not drained


async def test_a_stalled_stream_is_bounded_by_fail_after(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.sse(wire.partial("x"), then=stall()))
    with pytest.raises(trio.TooSlowError):
        with trio.fail_after(0.3):
            async with model_request_stream(wire.model(loopback, None), PROMPT) as stream:  # 600 s default
                async for _ in stream:
                    pass
    await loopback.wait_for_client_close_async(timeout=5)


# ---------------------------------------------------------------------------------------------
# HTTP errors: 429 (Retry-After, HTTP date, reset headers), 500, 502, 503, 529
# ---------------------------------------------------------------------------------------------


async def test_429_retry_after_seconds(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.rate_limited(7), Reply.rate_limited(7))
    for outcome in (
        await run_request(wire.model(loopback, settings())),
        await run_stream(wire.model(loopback, settings())),
    ):
        error = expect(outcome, ModelRateLimitError, "status_code: 429")
        assert isinstance(error, ModelHTTPError) and error.retry_after == 7.0
        assert error.headers is not None and error.headers["retry-after"] == "7"


async def test_429_retry_after_http_date(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.rate_limited(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=45)))
    error = expect(await run_request(wire.model(loopback, settings())), ModelRateLimitError)
    assert 42 < error.retry_after <= 45


async def test_429_with_provider_reset_headers(loopback: LoopbackServer, wire: Wire) -> None:
    if wire is OPENAI:
        headers = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1m30s"}
        expected = 90.0
    else:
        reset_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
        headers = {
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-requests-reset": reset_at.isoformat().replace("+00:00", "Z"),
        }
        expected = 20.0
    loopback.enqueue(Reply.rate_limited(None, headers=headers))
    error = expect(await run_request(wire.model(loopback, settings())), ModelRateLimitError)
    assert error.retry_after is None  # no Retry-After ...
    wait = provider_wait(error)  # ... but the retry policy reads the reset headers
    assert wait is not None and wait[1] == "rate-limit-reset" and expected - 2 < wait[0] <= expected


@pytest.mark.parametrize(
    ("status", "cls", "name"),
    [
        (500, ModelServerError, "ModelServerError"),
        (502, ModelServerError, "ModelServerError"),
        (503, ModelUnavailableError, "ModelUnavailableError"),
        (529, ModelOverloadedError, "ModelOverloadedError"),
    ],
)
async def test_5xx(
    loopback: LoopbackServer, wire: Wire, status: int, cls: type[Exception], name: str
) -> None:
    body = wire.overloaded_529 if status == 529 else {"error": {"message": f"upstream said {status}"}}
    loopback.enqueue(Reply.json(body, status), Reply.json(body, status))
    for outcome in (
        await run_request(wire.model(loopback, settings())),
        await run_stream(wire.model(loopback, settings())),
    ):
        error = expect(outcome, cls, f"status_code: {status}")
        assert isinstance(error, ModelHTTPError) and error.status_code == status
        assert type(error).__name__ == name
        assert not outcome.entered


# ---------------------------------------------------------------------------------------------
# Early exit and cancellation under faults: the connection is closed, never drained
# ---------------------------------------------------------------------------------------------


async def test_early_exit_from_a_stalled_stream_closes_at_once(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.sse(wire.partial("a", "b"), then=stall()))
    async with model_request_stream(wire.model(loopback, None), PROMPT) as stream:
        async for _ in stream:
            break
    start = time.monotonic()
    closed = await loopback.wait_for_client_close_async(timeout=5)
    assert closed - start < 1.0


async def test_cancelled_while_waiting_for_the_head(loopback: LoopbackServer, wire: Wire) -> None:
    loopback.enqueue(Reply.of(stall()), Reply.of(stall()))
    with trio.move_on_after(0.2):
        await model_request(wire.model(loopback, None), PROMPT)
    with trio.move_on_after(0.2):
        async with model_request_stream(wire.model(loopback, None), PROMPT):
            raise AssertionError("not reached")  # pragma: no cover
    await loopback.wait_for_client_close_async(timeout=5)


async def test_many_concurrent_faulty_streams(loopback: LoopbackServer) -> None:
    # a mix of every kind of failure at once: each caller gets its own typed error, nothing hangs
    replies = [
        Reply.of(reset()),
        Reply.sse([chunk("a")], then=close()),
        Reply.sse([chunk("a")], then=stall()),
        Reply.json({"error": {"message": "busy"}}, 503),
        Reply.rate_limited(1),
        Reply.garbage(),
        Reply.sse(sse_text("fine")),
        Reply.html("<h1>oops</h1>", 502),
    ] * 6
    loopback.enqueue(*replies)
    results: list[Outcome] = []

    async def one() -> None:
        results.append(await run_stream(openai_model(loopback, settings=settings()), check_tasks=False))

    tasks = _living_tasks()
    async with trio.open_nursery() as nursery:
        for _ in replies:
            nursery.start_soon(one)
    assert _living_tasks() == tasks
    assert len(results) == len(replies)
    assert sum(r.error is None for r in results) == 6
    assert all(r.error is None or isinstance(r.error, TrioDirectError) for r in results)
    assert max(r.seconds for r in results) < INACTIVITY + SLACK


# ---------------------------------------------------------------------------------------------
# The sync API: the same faults, the same exceptions, and its own total timeout
# ---------------------------------------------------------------------------------------------


def test_sync_faults_raise_the_same_errors(loopback: LoopbackServer) -> None:
    model = openai_model(loopback, settings=settings())
    loopback.enqueue(Reply.of(reset()))
    with pytest.raises(ModelConnectionError, match="Connection reset"):
        model_request_sync(model, PROMPT)
    loopback.enqueue(Reply.rate_limited(3))
    with pytest.raises(ModelRateLimitError) as info:
        model_request_sync(model, PROMPT)
    assert info.value.retry_after == 3
    loopback.enqueue(Reply.sse([chunk("a")], then=close()))
    with pytest.raises(ModelConnectionError), model_request_stream_sync(model, PROMPT) as stream:
        for _ in stream:
            pass
    assert stream.get().text == "a"


def test_sync_inactivity_timeout(loopback: LoopbackServer) -> None:
    model = openai_model(loopback, settings=settings())
    loopback.enqueue(Reply.of(stall()), Reply.sse([chunk("a")], then=stall()))
    start = time.monotonic()
    with pytest.raises(ModelTimeoutError) as info:
        model_request_sync(model, PROMPT)
    assert isinstance(info.value, TimeoutError) and time.monotonic() - start < INACTIVITY + SLACK
    start = time.monotonic()
    with pytest.raises(ModelTimeoutError), model_request_stream_sync(model, PROMPT) as stream:
        for _ in stream:
            pass
    assert time.monotonic() - start < INACTIVITY + SLACK
    loopback.wait_for_client_close(timeout=5)


def test_sync_total_timeout(loopback: LoopbackServer) -> None:
    # heartbeats defeat the inactivity limit; the sync `timeout=` is the total deadline
    model = openai_model(loopback, settings=settings())
    loopback.enqueue(Reply.of(stall()), Reply.sse_forever([chunk("a")], interval=0.02))
    start = time.monotonic()
    with pytest.raises(RequestTimeoutError) as info:
        model_request_sync(model, PROMPT, timeout=0.2)
    assert isinstance(info.value, TimeoutError) and "0.2 seconds" in str(info.value)
    assert time.monotonic() - start < 0.2 + SLACK
    start = time.monotonic()
    with pytest.raises(RequestTimeoutError), model_request_stream_sync(model, PROMPT, timeout=0.3) as stream:
        for _ in stream:
            pass
    assert stream.get().text == "a" and time.monotonic() - start < 0.3 + SLACK
    loopback.wait_for_client_close(timeout=5)


async def test_cancelled_while_the_request_body_is_being_written(wire: Wire) -> None:
    # A server that accepts and never reads: a large request body fills the socket buffers, so the
    # deadline lands while httpcore is writing it. Nothing may be left for the GC to warn about.
    import socket

    from trio_direct import ModelRequest

    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    try:
        listener.settimeout(5)
        port = listener.getsockname()[1]
        srv = attrs.evolve(_FakeSrv(), url=f"http://127.0.0.1:{port}")
        big = [ModelRequest.user_text_prompt("x" * 20_000_000)]
        async with trio.open_nursery() as nursery:

            async def accept() -> None:
                sock, _ = await trio.to_thread.run_sync(listener.accept)
                accepted.append(sock)

            nursery.start_soon(accept)
            for stream in (False, True):
                with trio.move_on_after(0.3) as scope:
                    if stream:
                        async with model_request_stream(wire.model(srv, None), big):  # type: ignore[arg-type]
                            raise AssertionError("not reached")  # pragma: no cover
                    else:
                        await model_request(wire.model(srv, None), big)  # type: ignore[arg-type]
                assert scope.cancelled_caught
                if not accepted:
                    await trio.sleep(0.1)
        gc.collect()  # an abandoned body generator would warn here (warnings are errors)
    finally:
        for sock in accepted:
            sock.close()
        listener.close()


@attrs.frozen
class _FakeSrv:
    """Just enough of a LoopbackServer for ``Wire.model``: a URL."""

    url: str = ""
