"""A scripted HTTP/1.1 server on 127.0.0.1 for tests that need real sockets.

The server runs on plain ``socket`` + ``threading`` so the same instance serves pytest-trio tests
(httpx.AsyncClient on Trio) and sync tests (httpx.Client, the portal, raw sockets) alike.

Responses are scripts, not code: a :class:`Reply` is a tuple of *actions* (send the head, send raw
bytes, send a chunk, sleep, reset, close, stall, ...) that the connection thread plays in order.
The ``Reply.*`` helpers build the common shapes (JSON, SSE, errors); the action functions at module
level (:func:`head`, :func:`raw`, :func:`chunk`, :func:`finish`, :func:`sleep`, :func:`drip`,
:func:`reset`, :func:`close`, :func:`stall`, :func:`heartbeat`, :func:`gate`, :func:`call`) build
faults.  Replies come from ``srv.enqueue(...)`` in order, then from ``srv.handler(request)``, and
otherwise the server answers 500 saying nothing was queued.

The server watches every connection while it plays a script: a failed send (EPIPE/ECONNRESET) or EOF
on the socket during a sleep, stall, heartbeat or gate means the client went away, and the
connection record gets ``closed_by_client`` (a ``time.monotonic()`` value).  ``stop()`` wakes every
thread through a self-pipe, joins them all and closes every socket it opened.

Example::

    with LoopbackServer() as srv:
        srv.enqueue(Reply.sse([{"a": 1}, "data: [DONE]"], delay=0.1))
        ...  # point a client at srv.url
        assert srv.requests[0].json == {...}

Fault recipes::

    Reply.of(reset())                                              # RST before any byte of the head
    Reply.of(raw(b"HTTP/1.1 200 OK\\r\\nContent-Ty"), reset())       # RST in the middle of the head
    Reply.of(head(200, {"content-length": "50"}), reset())        # RST right after the head
    Reply.truncated(body_bytes, at=10)                             # FIN mid-body (end=reset() for RST)
    Reply.sse([ev1, b'data: {"tru'], then=close())                 # FIN mid-SSE-event (then=reset(): RST)
    Reply.garbage()                                                # bytes that are not HTTP, then FIN
    Reply.body(b'{"choices": [', content_type="application/json")  # complete body, truncated JSON
    Reply.html("<h1>Bad gateway</h1>", status=502)                 # HTML error page
    Reply.json(obj, headers={"content-type": "text/plain"})        # wrong content-type
    Reply.sse_forever([ev1], interval=0.05)                        # heartbeats until the client leaves
    Reply.sse([ev1], then=stall())  /  Reply.of(stall())           # stalls forever (after / before the head)
    Reply.json({"error": {"message": "..."}})                      # a 200 with an error object inside
    Reply.rate_limited(2)  /  Reply.rate_limited(datetime)         # 429, Retry-After seconds / HTTP date
    Reply.json(err, status=500)  # also 502, 503, 529 ("Site Overloaded")
    Reply.json(obj, headers={"connection": "close"})               # server closes after this response
    Reply.sse([ev1], then=(gate(event), chunk(b"data: 2\\n\\n"), finish()))  # wait for a threading.Event
"""

from __future__ import annotations

import datetime as _dt
import email.utils
import http
import json as _json
import selectors
import socket
import struct
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias
from urllib.parse import parse_qsl, urlsplit

import attrs

__all__ = [
    "Action",
    "Call",
    "Chunk",
    "Close",
    "ConnectionRecord",
    "Drip",
    "Finish",
    "Gate",
    "Head",
    "Heartbeat",
    "LoopbackServer",
    "Raw",
    "Reply",
    "Request",
    "Reset",
    "Sleep",
    "Stall",
    "call",
    "chunk",
    "close",
    "drip",
    "encode_sse_event",
    "finish",
    "gate",
    "head",
    "heartbeat",
    "raw",
    "reset",
    "sleep",
    "stall",
]

HeadersLike: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]] | None

_EXTRA_REASONS = {529: "Site Overloaded"}
_MAX_HEAD = 64 * 1024


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return _EXTRA_REASONS.get(status, "Unknown")


def _to_bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


def _header_pairs(headers: HeadersLike) -> list[tuple[str, str]]:
    if headers is None:
        return []
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


def _merge_headers(defaults: HeadersLike, extra: HeadersLike) -> tuple[tuple[str, str], ...]:
    """Defaults first, then *extra*; a name in *extra* replaces the default (case-insensitively)."""
    extra_pairs = _header_pairs(extra)
    overridden = {k.lower() for k, _ in extra_pairs}
    merged = [(k, v) for k, v in _header_pairs(defaults) if k.lower() not in overridden]
    return tuple(merged + extra_pairs)


# --------------------------------------------------------------------------------------------------
# Actions


@attrs.frozen
class Head:
    """Send a status line and headers, exactly as given (nothing is added)."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    reason: str | None = None

    def to_bytes(self) -> bytes:
        reason = _reason(self.status) if self.reason is None else self.reason
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


@attrs.frozen
class Raw:
    """Send bytes verbatim."""

    data: bytes


@attrs.frozen
class Chunk:
    """Send one chunk of a chunked body (``<hex size>\\r\\n<data>\\r\\n``) in a single write."""

    data: bytes

    def to_bytes(self) -> bytes:
        return b"%x\r\n%s\r\n" % (len(self.data), self.data)


@attrs.frozen
class Finish:
    """Send the terminating zero-size chunk of a chunked body."""


@attrs.frozen
class Sleep:
    """Pause, still watching the socket: the reply is abandoned at once if the client goes away."""

    seconds: float


@attrs.frozen
class Drip:
    """Send *data* in pieces of *size* bytes, pausing *interval* seconds between pieces."""

    data: bytes
    interval: float = 0.05
    size: int = 1
    chunked: bool = False


@attrs.frozen
class Reset:
    """Abort the connection with an RST (SO_LINGER 0, then close).  Ends the connection."""


@attrs.frozen
class Close:
    """Send FIN now, whatever was promised (truncates a body).  Ends the connection."""


@attrs.frozen
class Stall:
    """Send nothing and hold the connection until the client goes away or the server stops."""


@attrs.frozen
class Heartbeat:
    """Send *data* every *interval* seconds until the client goes away or the server stops."""

    data: bytes = b": keep-alive\n\n"
    interval: float = 0.05
    chunked: bool = True


@attrs.frozen(eq=False)
class Gate:
    """Wait (watching the socket) until *event* is set; with *timeout*, give up and record an error."""

    event: threading.Event
    timeout: float | None = None


@attrs.frozen(eq=False)
class Call:
    """Call *fn()* in the connection thread at this point of the script (e.g. to set an Event)."""

    fn: Callable[[], object]


Action: TypeAlias = (
    Head | Raw | Chunk | Finish | Sleep | Drip | Reset | Close | Stall | Heartbeat | Gate | Call
)
_TERMINAL = (Reset, Close, Stall, Heartbeat)


def head(status: int = 200, headers: HeadersLike = None, *, reason: str | None = None) -> Head:
    """Status line + headers, verbatim: add ``content-length``/``transfer-encoding`` yourself."""
    return Head(status, tuple(_header_pairs(headers)), reason)


def raw(data: bytes | str) -> Raw:
    return Raw(_to_bytes(data))


def chunk(data: bytes | str) -> Chunk:
    payload = _to_bytes(data)
    if not payload:
        raise ValueError("an empty chunk is the end of the body; use finish()")
    return Chunk(payload)


def finish() -> Finish:
    return Finish()


def sleep(seconds: float) -> Sleep:
    return Sleep(seconds)


def drip(data: bytes | str, interval: float = 0.05, *, size: int = 1, chunked: bool = False) -> Drip:
    return Drip(_to_bytes(data), interval, size, chunked)


def reset() -> Reset:
    return Reset()


def close() -> Close:
    return Close()


def stall() -> Stall:
    return Stall()


def heartbeat(
    data: bytes | str = b": keep-alive\n\n", interval: float = 0.05, *, chunked: bool = True
) -> Heartbeat:
    return Heartbeat(_to_bytes(data), interval, chunked)


def gate(event: threading.Event, timeout: float | None = None) -> Gate:
    return Gate(event, timeout)


def call(fn: Callable[[], object]) -> Call:
    return Call(fn)


def encode_sse_event(event: object) -> bytes:
    """One SSE event as bytes.

    ``bytes`` go out verbatim (partial events are fine); a ``str`` is a raw event and gets the
    terminating blank line if it lacks one; anything else is JSON: ``data: <json>\\n\\n``.
    """
    if isinstance(event, bytes | bytearray):
        return bytes(event)
    if isinstance(event, str):
        text = event if event.endswith("\n\n") else event.rstrip("\n") + "\n\n"
        return text.encode()
    return b"data: " + _json.dumps(event, separators=(",", ":")).encode() + b"\n\n"


# --------------------------------------------------------------------------------------------------
# Replies


def _as_actions(then: Action | Sequence[Action]) -> tuple[Action, ...]:
    return (then,) if not isinstance(then, Sequence) else tuple(then)


@attrs.frozen
class Reply:
    """A scripted response: actions played in order on the connection."""

    actions: tuple[Action, ...] = ()

    @property
    def keeps_connection(self) -> bool:
        """False if the script ends the connection or announces ``Connection: close``."""
        for action in self.actions:
            if isinstance(action, _TERMINAL):
                return False
            if isinstance(action, Head) and (action.header("connection") or "").lower() == "close":
                return False
        return True

    def then(self, *actions: Action) -> Reply:
        """A copy with *actions* appended."""
        return Reply(self.actions + actions)

    @classmethod
    def of(cls, *actions: Action) -> Reply:
        """A reply from low-level actions, e.g. ``Reply.of(reset())``."""
        return cls(tuple(actions))

    @classmethod
    def body(
        cls,
        data: bytes | str,
        status: int = 200,
        headers: HeadersLike = None,
        *,
        content_type: str | None = "application/octet-stream",
    ) -> Reply:
        """A complete body with Content-Length; *headers* override the defaults."""
        payload = _to_bytes(data)
        defaults = [("content-length", str(len(payload)))]
        if content_type is not None:
            defaults.insert(0, ("content-type", content_type))
        actions: list[Action] = [Head(status, _merge_headers(defaults, headers))]
        if payload:
            actions.append(Raw(payload))
        return cls(tuple(actions))

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: HeadersLike = None) -> Reply:
        """``obj`` as a JSON body (``application/json``)."""
        return cls.body(_json.dumps(obj).encode(), status, headers, content_type="application/json")

    @classmethod
    def text(cls, text: str, status: int = 200, headers: HeadersLike = None) -> Reply:
        return cls.body(text, status, headers, content_type="text/plain; charset=utf-8")

    @classmethod
    def html(cls, html: str, status: int = 200, headers: HeadersLike = None) -> Reply:
        return cls.body(html, status, headers, content_type="text/html; charset=utf-8")

    @classmethod
    def sse(
        cls,
        events: Iterable[object],
        delay: float | Sequence[float] = 0.0,
        status: int = 200,
        headers: HeadersLike = None,
        *,
        then: Action | Sequence[Action] | None = None,
    ) -> Reply:
        """A chunked ``text/event-stream``, one event per write (see :func:`encode_sse_event`).

        Args:
            events: raw SSE strings, bytes (verbatim, may be a partial event) or JSON-able objects.
            delay: a float sleeps that long between consecutive events; a sequence gives the sleep
                before each event (same length as *events*).
            then: what follows the events: by default (None) the terminating chunk; pass e.g. ``close()``,
                ``reset()``, ``stall()`` or ``heartbeat()`` for faults.
        """
        encoded = [encode_sse_event(e) for e in events]
        if isinstance(delay, int | float):
            delays = ([0.0] + [float(delay)] * max(len(encoded) - 1, 0))[: len(encoded)]
        else:
            delays = [float(d) for d in delay]
            if len(delays) != len(encoded):
                raise ValueError("delay sequence must have one entry per event")
        defaults = [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
        ]
        actions: list[Action] = [Head(status, _merge_headers(defaults, headers))]
        for pause, data in zip(delays, encoded, strict=True):
            if pause > 0:
                actions.append(Sleep(pause))
            actions.append(Chunk(data))
        actions += _as_actions(Finish() if then is None else then)
        return cls(tuple(actions))

    @classmethod
    def sse_forever(
        cls,
        events: Iterable[object] = (),
        heartbeat: bytes | str = b": keep-alive\n\n",
        interval: float = 0.05,
        status: int = 200,
        headers: HeadersLike = None,
    ) -> Reply:
        """An SSE stream that never ends: *events*, then heartbeat comments until the client leaves."""
        return cls.sse(events, 0.0, status, headers, then=Heartbeat(_to_bytes(heartbeat), interval, True))

    @classmethod
    def truncated(
        cls,
        data: bytes | str,
        at: int | None = None,
        status: int = 200,
        headers: HeadersLike = None,
        *,
        content_type: str = "application/json",
        end: Action | None = None,
    ) -> Reply:
        """Announce the full Content-Length, send the first *at* bytes (default: half), then *end*.

        *end* defaults to ``close()`` (FIN: a truncated body); ``reset()`` gives an RST mid-body.
        """
        end = Close() if end is None else end
        payload = _to_bytes(data)
        cut = len(payload) // 2 if at is None else at
        reply = cls.body(payload, status, headers, content_type=content_type)
        return Reply((reply.actions[0], Raw(payload[:cut]), end) if cut else (reply.actions[0], end))

    @classmethod
    def rate_limited(
        cls,
        retry_after: float | _dt.datetime | str | None = 1,
        body: Any = None,
        status: int = 429,
        headers: HeadersLike = None,
    ) -> Reply:
        """A 429 with ``Retry-After`` in seconds (number), as an HTTP date (datetime) or verbatim (str)."""
        extra = _header_pairs(headers)
        if retry_after is not None:
            if isinstance(retry_after, _dt.datetime):
                when = retry_after if retry_after.tzinfo else retry_after.replace(tzinfo=_dt.UTC)
                value = email.utils.format_datetime(when.astimezone(_dt.UTC), usegmt=True)
            elif isinstance(retry_after, int | float):
                value = f"{retry_after:g}"
            else:
                value = retry_after
            extra.insert(0, ("retry-after", value))
        if body is None:
            body = {"error": {"message": "Rate limit exceeded", "type": "rate_limit_error"}}
        return cls.json(body, status, extra)

    @classmethod
    def garbage(
        cls, data: bytes = b"\x00\x13\x37 this is not HTTP \xff\xfe\r\n\r\n", *, end: Action | None = None
    ) -> Reply:
        """Bytes that are not an HTTP response, then *end* (default ``close()``)."""
        return cls((Raw(data), Close() if end is None else end))


# --------------------------------------------------------------------------------------------------
# Records


@attrs.frozen
class Request:
    """One request as the server received it."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes
    json: Any  # the body parsed as JSON, or None if empty / not JSON
    http_version: str
    connection_id: int
    index: int  # position in srv.requests
    received_at: float  # time.monotonic()


@attrs.define(eq=False)
class ConnectionRecord:
    """One accepted connection.  Times are ``time.monotonic()`` values."""

    id: int
    peer: tuple[str, int]
    opened_at: float
    closed_by_client: float | None = None  # when the server saw EOF/RST/EPIPE from the client
    closed_at: float | None = None  # when the server closed its socket
    end_reason: str | None = None  # client-closed, reset, closed, stopped, bad-request, error
    requests: list[Request] = attrs.Factory(list)
    writes: list[tuple[float, bytes]] = attrs.Factory(list)  # (time the write started, bytes)


# --------------------------------------------------------------------------------------------------
# The server


class _ClientGone(Exception):
    pass


class _Stopped(Exception):
    pass


class _Done(Exception):
    """The script ended the connection (reset, close)."""


class _BadRequest(Exception):
    pass


@attrs.define(eq=False)
class _Conn:
    sock: socket.socket
    record: ConnectionRecord
    selector: selectors.BaseSelector = attrs.Factory(selectors.DefaultSelector)
    inbuf: bytearray = attrs.Factory(bytearray)


class LoopbackServer:
    """A threaded, scripted HTTP/1.1 server on 127.0.0.1 (ephemeral port).

    Use as ``with LoopbackServer() as srv:`` or call :meth:`start`/:meth:`stop`.  Leaving the
    ``with`` block raises ``RuntimeError`` if a handler or the server itself raised (see
    :attr:`errors`), unless another exception is already propagating.

    Args:
        handler: ``callable(request) -> Reply`` used when nothing is queued.
        close_linger: after sending FIN (``close()`` or ``Connection: close``), how long to wait
            for the client's own close so that it can be recorded.
        join_timeout: how long :meth:`stop` waits for each thread.
    """

    def __init__(
        self,
        handler: Callable[[Request], Reply] | None = None,
        *,
        close_linger: float = 2.0,
        join_timeout: float = 10.0,
    ) -> None:
        self.handler = handler
        self.errors: list[BaseException] = []
        self.close_linger = close_linger
        self.join_timeout = join_timeout
        self._cond = threading.Condition()
        self._queue: deque[Reply] = deque()
        self._requests: list[Request] = []
        self._connections: list[ConnectionRecord] = []
        self._last_stream: ConnectionRecord | None = None
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._state = "new"
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> LoopbackServer:
        if self._state != "new":
            raise RuntimeError("a LoopbackServer can be started once; create a new one")
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self._listener.setblocking(False)
        self.port = self._listener.getsockname()[1]
        # The self-pipe: one byte written at stop() leaves wake_r readable forever, which wakes every
        # selector it is registered in (accept loop and all connection threads) at once.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._state = "running"
        self._accept_thread = threading.Thread(target=self._accept_loop, name="loopback-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, join every thread and close every socket.  Idempotent."""
        if self._state != "running":
            self._state = "stopped"
            return
        self._state = "stopping"
        assert self._wake_w is not None and self._accept_thread is not None
        self._wake_w.send(b"x")
        self._accept_thread.join(self.join_timeout)
        with self._cond:
            threads = list(self._threads)
        stuck = []
        for thread in threads:
            thread.join(self.join_timeout)
            if thread.is_alive():
                stuck.append(thread.name)
        if self._accept_thread.is_alive():
            stuck.append(self._accept_thread.name)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._state = "stopped"
        if stuck:
            raise RuntimeError(f"loopback threads did not stop: {stuck}")

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop()
        if exc_type is None and self.errors:
            self.raise_errors()

    def raise_errors(self) -> None:
        """Raise ``RuntimeError`` (chained to the first one) if anything was added to :attr:`errors`."""
        if self.errors:
            summary = "; ".join(repr(e) for e in self.errors)
            raise RuntimeError(f"loopback server errors: {summary}") from self.errors[0]

    # -- scripting ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply) -> None:
        """Queue replies; each incoming request takes the next one."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"expected a Reply, got {reply!r}")
        with self._cond:
            self._queue.extend(replies)

    @property
    def pending(self) -> int:
        """How many queued replies no request has taken yet."""
        with self._cond:
            return len(self._queue)

    # -- records -----------------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._cond:
            return list(self._requests)

    @property
    def connections(self) -> list[ConnectionRecord]:
        with self._cond:
            return list(self._connections)

    @property
    def connection_count(self) -> int:
        with self._cond:
            return len(self._connections)

    def _stream_record(self, connection: ConnectionRecord | None) -> ConnectionRecord | None:
        if connection is not None:
            return connection
        if self._last_stream is not None:
            return self._last_stream
        return self._connections[-1] if self._connections else None

    def _client_close_time(self, connection: ConnectionRecord | None) -> float | None:
        record = self._stream_record(connection)
        return None if record is None else record.closed_by_client

    def wait_for_client_close(
        self, timeout: float = 10.0, connection: ConnectionRecord | None = None
    ) -> float:
        """Block until the client closes the most recent stream's connection; return when (monotonic).

        The most recent stream is the connection that received the latest request (or *connection*).

        Raises:
            TimeoutError: the server did not see the client close within *timeout* seconds.
        """
        with self._cond:
            if not self._cond.wait_for(lambda: self._client_close_time(connection) is not None, timeout):
                raise TimeoutError(f"the client did not close the connection within {timeout}s")
            result = self._client_close_time(connection)
            assert result is not None
            return result

    async def wait_for_client_close_async(
        self, timeout: float = 10.0, connection: ConnectionRecord | None = None
    ) -> float:
        """:meth:`wait_for_client_close` for Trio tests (polls; never blocks the event loop)."""
        await self._poll_async(
            lambda: self._client_close_time(connection) is not None, timeout, "client close"
        )
        result = self._client_close_time(connection)
        assert result is not None
        return result

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> list[Request]:
        """Block until at least *count* requests arrived; return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._requests) >= count, timeout):
                raise TimeoutError(f"{len(self._requests)} of {count} requests arrived within {timeout}s")
            return list(self._requests)

    def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> list[ConnectionRecord]:
        """Block until at least *count* connections were accepted; return their records."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._connections) >= count, timeout):
                raise TimeoutError(f"{len(self._connections)} of {count} connections within {timeout}s")
            return list(self._connections)

    async def wait_for_requests_async(self, count: int = 1, timeout: float = 10.0) -> list[Request]:
        await self._poll_async(lambda: len(self._requests) >= count, timeout, f"{count} requests")
        return self.requests

    async def _poll_async(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        import trio

        with trio.move_on_after(timeout):
            while True:
                with self._cond:
                    if predicate():
                        return
                await trio.sleep(0.005)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")

    # -- threads -----------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        selector = selectors.DefaultSelector()
        try:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r:
                        return
                    try:
                        sock, peer = self._listener.accept()
                    except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                        continue
                    self._start_connection(sock, peer)
        except Exception as exc:
            self.errors.append(exc)
        finally:
            selector.close()

    def _start_connection(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._cond:
            record = ConnectionRecord(id=len(self._connections), peer=peer, opened_at=time.monotonic())
            self._connections.append(record)
            conn = _Conn(sock, record)
            thread = threading.Thread(
                target=self._serve, args=(conn,), name=f"loopback-conn-{record.id}", daemon=True
            )
            self._threads.append(thread)
            # Started under the lock so that a waiter woken by this record also sees the thread.
            thread.start()
            self._cond.notify_all()

    def _serve(self, conn: _Conn) -> None:
        record = conn.record
        try:
            assert self._wake_r is not None
            conn.selector.register(conn.sock, selectors.EVENT_READ)
            conn.selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                request = self._read_request(conn)
                reply = self._reply_for(request)
                self._play(conn, reply)
                if not reply.keeps_connection or not _client_keeps_alive(request):
                    self._close_gracefully(conn, "closed")
                    break
        except (_ClientGone, _Done):
            pass
        except _Stopped:
            self._set_end(record, "stopped")
        except _BadRequest as exc:
            self._set_end(record, "bad-request")
            try:
                self._play(conn, Reply.text(f"loopback: bad request: {exc}\n", 400, {"connection": "close"}))
                self._close_gracefully(conn, "bad-request")
            except (_ClientGone, _Done, _Stopped):
                pass
        except Exception as exc:
            self._set_end(record, "error")
            self.errors.append(exc)
        finally:
            conn.selector.close()
            conn.sock.close()
            with self._cond:
                record.closed_at = time.monotonic()
                self._cond.notify_all()

    def _set_end(self, record: ConnectionRecord, reason: str) -> None:
        with self._cond:
            if record.end_reason is None:
                record.end_reason = reason
            self._cond.notify_all()

    def _client_gone(self, conn: _Conn) -> _ClientGone:
        with self._cond:
            if conn.record.closed_by_client is None:
                conn.record.closed_by_client = time.monotonic()
            if conn.record.end_reason is None:
                conn.record.end_reason = "client-closed"
            self._cond.notify_all()
        return _ClientGone()

    # -- socket I/O --------------------------------------------------------------------------------

    def _absorb(self, conn: _Conn) -> None:
        """The socket is readable: buffer what arrived, or raise _ClientGone on EOF/RST."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # ECONNRESET and friends
            raise self._client_gone(conn) from None
        if not data:
            raise self._client_gone(conn)
        conn.inbuf += data

    def _wait(self, conn: _Conn, timeout: float | None, *, writable: bool = False) -> bool:
        """Wait up to *timeout* while watching the client; True as soon as the socket is writable.

        Data arriving meanwhile (a pipelined request) is buffered; EOF or RST raises _ClientGone;
        stop() raises _Stopped.
        """
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if writable else 0)
        conn.selector.modify(conn.sock, events)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                for key, mask in conn.selector.select(remaining):
                    if key.fileobj is self._wake_r:
                        raise _Stopped
                    if mask & selectors.EVENT_READ:
                        self._absorb(conn)
                    if mask & selectors.EVENT_WRITE:
                        return True
        finally:
            if writable:
                conn.selector.modify(conn.sock, selectors.EVENT_READ)

    def _send(self, conn: _Conn, data: bytes) -> None:
        if self._state != "running":
            raise _Stopped
        with self._cond:
            conn.record.writes.append((time.monotonic(), data))
        view = memoryview(data)
        while view:
            try:
                sent = conn.sock.send(view)
            except (BlockingIOError, InterruptedError):
                self._wait(conn, None, writable=True)
                continue
            except OSError:  # EPIPE, ECONNRESET
                raise self._client_gone(conn) from None
            view = view[sent:]

    def _recv_more(self, conn: _Conn) -> None:
        """Block until more request bytes arrive (EOF/RST: _ClientGone; stop(): _Stopped)."""
        before = len(conn.inbuf)
        while len(conn.inbuf) == before:
            for key, _ in conn.selector.select():
                if key.fileobj is self._wake_r:
                    raise _Stopped
                self._absorb(conn)

    def _read_until(self, conn: _Conn, marker: bytes, limit: int) -> bytes:
        while (end := conn.inbuf.find(marker)) < 0:
            if len(conn.inbuf) > limit:
                raise _BadRequest("request head too large")
            self._recv_more(conn)
        data = bytes(conn.inbuf[: end + len(marker)])
        del conn.inbuf[: end + len(marker)]
        return data

    def _read_exact(self, conn: _Conn, n: int) -> bytes:
        while len(conn.inbuf) < n:
            self._recv_more(conn)
        data = bytes(conn.inbuf[:n])
        del conn.inbuf[:n]
        return data

    def _close_gracefully(self, conn: _Conn, reason: str) -> None:
        """FIN, then wait a little for the client's own close so that it gets recorded."""
        self._set_end(conn.record, reason)
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            return
        try:
            self._wait(conn, self.close_linger)
        except _ClientGone:
            pass

    # -- HTTP --------------------------------------------------------------------------------------

    def _read_request(self, conn: _Conn) -> Request:
        while conn.inbuf[:2] == b"\r\n":  # RFC 9112: ignore empty lines before a request line
            del conn.inbuf[:2]
        head_bytes = self._read_until(conn, b"\r\n\r\n", _MAX_HEAD)
        lines = head_bytes.decode("latin-1").split("\r\n")[:-2]
        parts = lines[0].split(" ") if lines else []
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise _BadRequest(f"malformed request line {lines[0] if lines else ''!r}")
        method, target, version = parts
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(f"malformed header line {line!r}")
            key = name.lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        if headers.get("expect", "").lower() == "100-continue":
            self._send(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(conn, headers)
        parsed = None
        if body:
            try:
                parsed = _json.loads(body)
            except ValueError:
                parsed = None
        split = urlsplit(target)
        with self._cond:
            request = Request(
                method=method,
                target=target,
                path=split.path,
                query=dict(parse_qsl(split.query, keep_blank_values=True)),
                headers=headers,
                body=body,
                json=parsed,
                http_version=version,
                connection_id=conn.record.id,
                index=len(self._requests),
                received_at=time.monotonic(),
            )
            self._requests.append(request)
            conn.record.requests.append(request)
            self._last_stream = conn.record
            self._cond.notify_all()
        return request

    def _read_body(self, conn: _Conn, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size_line = self._read_until(conn, b"\r\n", _MAX_HEAD)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise _BadRequest(f"bad chunk size line {size_line!r}") from None
                if size == 0:
                    while self._read_until(conn, b"\r\n", _MAX_HEAD) != b"\r\n":  # trailers
                        pass
                    return bytes(body)
                body += self._read_exact(conn, size + 2)[:-2]
        length = headers.get("content-length")
        if length is None:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise _BadRequest(f"bad content-length {length!r}") from None
        return self._read_exact(conn, n)

    def _reply_for(self, request: Request) -> Reply:
        with self._cond:
            reply = self._queue.popleft() if self._queue else None
        handler = self.handler
        if reply is None and handler is not None:
            try:
                reply = handler(request)
                if not isinstance(reply, Reply):
                    raise TypeError(f"loopback handler returned {reply!r}, not a Reply")
            except Exception as exc:
                self.errors.append(exc)
                text = "loopback: the handler raised:\n" + "".join(traceback.format_exception(exc))
                return Reply.text(text, 500)
        if reply is None:
            return Reply.text(
                f"loopback: no response queued for {request.method} {request.target} "
                f"(request #{request.index}); use srv.enqueue(Reply...) or set srv.handler\n",
                500,
            )
        return reply

    def _play(self, conn: _Conn, reply: Reply) -> None:
        for action in reply.actions:
            match action:
                case Head():
                    self._send(conn, action.to_bytes())
                case Raw(data=data):
                    self._send(conn, data)
                case Chunk():
                    self._send(conn, action.to_bytes())
                case Finish():
                    self._send(conn, b"0\r\n\r\n")
                case Sleep(seconds=seconds):
                    self._wait(conn, seconds)
                case Drip(data=data, interval=interval, size=size, chunked=chunked):
                    for i in range(0, len(data), max(size, 1)):
                        if i:
                            self._wait(conn, interval)
                        piece = data[i : i + max(size, 1)]
                        self._send(conn, Chunk(piece).to_bytes() if chunked else piece)
                case Reset():
                    self._set_end(conn.record, "reset")
                    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    conn.sock.close()
                    raise _Done
                case Close():
                    self._close_gracefully(conn, "closed")
                    raise _Done
                case Stall():
                    self._wait(conn, None)
                case Heartbeat(data=data, interval=interval, chunked=chunked):
                    payload = Chunk(data).to_bytes() if chunked else data
                    while True:
                        self._send(conn, payload)
                        self._wait(conn, interval)
                case Gate(event=event, timeout=timeout):
                    deadline = None if timeout is None else time.monotonic() + timeout
                    while not event.is_set():
                        if deadline is not None and time.monotonic() > deadline:
                            raise TimeoutError(f"loopback gate not opened within {timeout}s")
                        self._wait(conn, 0.01)
                case Call(fn=fn):
                    fn()
                case _:
                    raise TypeError(f"unknown loopback action {action!r}")


def _client_keeps_alive(request: Request) -> bool:
    tokens = {t.strip().lower() for t in request.headers.get("connection", "").split(",")}
    if request.http_version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens
