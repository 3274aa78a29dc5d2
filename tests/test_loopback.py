"""Tests of the loopback HTTP server itself (tests/loopback.py), with raw sockets and httpx."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import socket
import threading
import time

import httpx
import pytest
import trio

from tests.loopback import (
    LoopbackServer,
    Reply,
    chunk,
    close,
    drip,
    finish,
    gate,
    head,
    raw,
    reset,
    sleep,
    stall,
)

# Errors httpx raises when the server breaks the connection (RST vs. FIN, depending on timing).
BROKEN = (httpx.RemoteProtocolError, httpx.ReadError)


def _recv_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read one Content-Length response from a raw socket: (head, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        assert more, f"EOF before the end of the head: {data!r}"
        data += more
    head_bytes, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head_bytes.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        more = sock.recv(65536)
        assert more
        body += more
    return head_bytes, body


def _connect(srv: LoopbackServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    return sock


# --- raw sockets ----------------------------------------------------------------------------------


def test_raw_keep_alive_and_request_recording(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"n": 1}), Reply.text("second", status=201))
    with _connect(loopback) as sock:
        body = b'{"model": "m", "stream": true}'
        sock.sendall(
            b"POST /v1/chat?x=1&y=two HTTP/1.1\r\nHost: h\r\nX-Api-Key: k\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        head1, body1 = _recv_response(sock)
        assert head1.startswith(b"HTTP/1.1 200 OK\r\n")
        assert json.loads(body1) == {"n": 1}
        # A chunked request body on the same connection.
        sock.sendall(
            b"PUT /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
        )
        head2, body2 = _recv_response(sock)
        assert head2.startswith(b"HTTP/1.1 201 Created\r\n")
        assert body2 == b"second"

    first, second = loopback.wait_for_requests(2)
    assert (first.method, first.path, first.query) == ("POST", "/v1/chat", {"x": "1", "y": "two"})
    assert first.target == "/v1/chat?x=1&y=two"
    assert first.headers["x-api-key"] == "k"
    assert first.headers["content-type"] == "application/json"
    assert first.json == {"model": "m", "stream": True}
    assert (second.method, second.body, second.json) == ("PUT", b"hello world", None)
    assert first.connection_id == second.connection_id == 0
    assert [r.index for r in loopback.requests] == [0, 1]
    assert loopback.connection_count == 1
    assert loopback.connections[0].requests == [first, second]
    assert loopback.pending == 0


def test_raw_connection_close_request_header(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({}))
    with _connect(loopback) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        _recv_response(sock)
        assert sock.recv(1) == b""  # the server sent FIN after the response
    record = loopback.connections[0]
    loopback.wait_for_client_close(10)
    assert record.end_reason == "closed"


def test_raw_nothing_queued_is_a_clear_500(loopback: LoopbackServer) -> None:
    with _connect(loopback) as sock:
        sock.sendall(b"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n")
        head_bytes, body = _recv_response(sock)
    assert head_bytes.startswith(b"HTTP/1.1 500 ")
    assert b"no response queued for GET /missing" in body


def test_raw_malformed_request_gets_400(loopback: LoopbackServer) -> None:
    with _connect(loopback) as sock:
        sock.sendall(b"this is not http\r\n\r\n")
        head_bytes, body = _recv_response(sock)
    assert head_bytes.startswith(b"HTTP/1.1 400 ")
    assert b"malformed request line" in body
    assert loopback.requests == []


def test_raw_reset_is_an_rst(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(head(200, {"content-length": "100"}), raw(b"partial"), reset()))
    with _connect(loopback) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        received = b""
        with pytest.raises(ConnectionResetError):
            while True:
                more = sock.recv(65536)
                assert more, "expected an RST, got a clean EOF"
                received += more
    assert loopback.connections[0].end_reason == "reset"


def test_raw_close_is_a_fin_mid_body(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.truncated(b'{"choices": [{"text": "hello"}]}', at=10))
    with _connect(loopback) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        received = b""
        while more := sock.recv(65536):
            received += more
    assert received.endswith(b'\r\n\r\n{"choices"')
    assert b"content-length: 32" in received


def test_raw_drip_and_chunk_actions(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.of(
            head(200, {"transfer-encoding": "chunked"}),
            chunk("ab"),
            drip(b"cde", 0.01, chunked=True),
            sleep(0.01),
            finish(),
        )
    )
    with _connect(loopback) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        received = b""
        while not received.endswith(b"0\r\n\r\n"):
            more = sock.recv(65536)
            assert more
            received += more
    assert received.split(b"\r\n\r\n", 1)[1] == b"2\r\nab\r\n1\r\nc\r\n1\r\nd\r\n1\r\ne\r\n0\r\n\r\n"
    writes = [data for _, data in loopback.connections[0].writes]
    assert writes[1:] == [b"2\r\nab\r\n", b"1\r\nc\r\n", b"1\r\nd\r\n", b"1\r\ne\r\n", b"0\r\n\r\n"]


def test_raw_client_close_during_stall_is_recorded(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(head(200, {"content-length": "10"}), stall()))
    with _connect(loopback) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        sock.recv(65536)
        closing = time.monotonic()
    closed = loopback.wait_for_client_close(10)
    assert closed >= closing
    assert loopback.connections[0].end_reason == "client-closed"


# --- reply helpers --------------------------------------------------------------------------------


def test_reply_helpers_shape_the_wire() -> None:
    date = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    reply = Reply.rate_limited(date)
    head_action = reply.actions[0]
    assert head_action.status == 429
    retry_after = head_action.header("retry-after")
    assert retry_after == "Wed, 02 Jan 2030 03:04:05 GMT"
    assert email.utils.parsedate_to_datetime(retry_after) == date
    assert Reply.rate_limited(7).actions[0].header("Retry-After") == "7"
    assert Reply.rate_limited(1.5).actions[0].header("Retry-After") == "1.5"

    overridden = Reply.json({"a": 1}, headers={"Content-Type": "text/plain"})
    assert overridden.actions[0].header("content-type") == "text/plain"
    assert [k.lower() for k, _ in overridden.actions[0].headers].count("content-type") == 1

    assert head(529).to_bytes() == b"HTTP/1.1 529 Site Overloaded\r\n\r\n"
    assert head(503).to_bytes() == b"HTTP/1.1 503 Service Unavailable\r\n\r\n"

    sse = Reply.sse([{"a": 1}, "event: ping\ndata: x", b'data: {"par'], delay=0.25, then=close())
    kinds = [type(a).__name__ for a in sse.actions]
    assert kinds == ["Head", "Chunk", "Sleep", "Chunk", "Sleep", "Chunk", "Close"]
    assert sse.actions[1].data == b'data: {"a":1}\n\n'
    assert sse.actions[3].data == b"event: ping\ndata: x\n\n"
    assert sse.actions[5].data == b'data: {"par'
    assert not sse.keeps_connection
    assert Reply.json({}).keeps_connection
    assert not Reply.json({}, headers={"connection": "close"}).keeps_connection
    with pytest.raises(ValueError, match="empty chunk"):
        chunk(b"")


# --- httpx.Client (sync) --------------------------------------------------------------------------


def test_sync_keep_alive_reuses_one_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}))
    with httpx.Client(base_url=loopback.url) as client:
        assert client.post("/a", json={"q": 1}).json() == {"n": 1}
        assert client.get("/b").json() == {"n": 2}
    assert loopback.connection_count == 1
    assert [r.connection_id for r in loopback.requests] == [0, 0]
    assert loopback.requests[0].json == {"q": 1}


def test_sync_connection_close_response_forces_new_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({}, headers={"connection": "close"}), Reply.json({}))
    with httpx.Client(base_url=loopback.url) as client:
        client.get("/")
        client.get("/")
    assert loopback.connection_count == 2
    assert loopback.connections[0].end_reason in {"closed", "client-closed"}


def test_sync_reset_before_headers_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(reset()))
    with httpx.Client(base_url=loopback.url) as client, pytest.raises(BROKEN):
        client.get("/")


def test_sync_truncated_body_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.truncated(json.dumps({"choices": [{"text": "x" * 100}]})))
    with httpx.Client(base_url=loopback.url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_sync_garbage_instead_of_http_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.garbage())
    with httpx.Client(base_url=loopback.url) as client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")


def test_sync_faults_as_status_and_bodies(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.html("<html><body>502 Bad Gateway</body></html>", status=502),
        Reply.json({"error": {"message": "inside a 200"}}),
        Reply.body(b'{"ok": true}', content_type="text/plain"),
        Reply.json({"type": "error", "error": {"type": "overloaded_error"}}, status=529),
        Reply.rate_limited(3),
    )
    with httpx.Client(base_url=loopback.url) as client:
        r1, r2, r3, r4, r5 = (client.get("/") for _ in range(5))
    assert (r1.status_code, r1.headers["content-type"]) == (502, "text/html; charset=utf-8")
    assert r2.status_code == 200 and r2.json()["error"]["message"] == "inside a 200"
    assert r3.headers["content-type"] == "text/plain"
    assert r4.status_code == 529
    assert (r5.status_code, r5.headers["retry-after"]) == (429, "3")
    assert loopback.connection_count == 1


def test_handler_answers_dynamically(loopback: LoopbackServer) -> None:
    loopback.handler = lambda request: Reply.json({"echo": request.json, "path": request.path})
    loopback.enqueue(Reply.text("queued first"))
    with httpx.Client(base_url=loopback.url) as client:
        assert client.get("/").text == "queued first"
        assert client.post("/x", json=[1]).json() == {"echo": [1], "path": "/x"}


def test_handler_error_is_a_500_and_raised_at_exit() -> None:
    def broken(request: object) -> Reply:
        raise ValueError("boom")

    with pytest.raises(RuntimeError, match="boom"), LoopbackServer(broken) as srv:
        with httpx.Client(base_url=srv.url) as client:
            response = client.get("/")
        assert response.status_code == 500
        assert "ValueError: boom" in response.text


def test_sync_sse_close_mid_event_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([{"a": 1}, b'data: {"tru'], then=close()))
    lines = []
    with (
        httpx.Client(base_url=loopback.url) as client,
        pytest.raises(httpx.RemoteProtocolError),
        client.stream("GET", "/") as response,
    ):
        for line in response.iter_lines():
            lines.append(line)
    assert lines[0] == 'data: {"a":1}'


def test_sync_sse_forever_ends_when_client_leaves(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse_forever([{"a": 1}], interval=0.01))
    with httpx.Client(base_url=loopback.url) as client, client.stream("GET", "/") as response:
        lines = response.iter_lines()
        assert next(lines) == 'data: {"a":1}'
        heartbeats = 0
        for line in lines:
            heartbeats += line.startswith(":")
            if heartbeats == 3:
                break
        left = time.monotonic()
    assert loopback.wait_for_client_close(10) >= left
    assert loopback.connections[0].end_reason == "client-closed"


# --- httpx.AsyncClient on Trio --------------------------------------------------------------------


async def test_async_keep_alive_reuses_one_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"n": 1}), Reply.json({"n": 2}))
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        assert (await client.get("/a")).json() == {"n": 1}
        assert (await client.get("/b")).json() == {"n": 2}
    assert loopback.connection_count == 1
    assert [r.connection_id for r in loopback.requests] == [0, 0]


async def test_async_sse_arrives_incrementally(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([{"n": 1}, {"n": 2}, "data: [DONE]"], delay=0.5))
    async with httpx.AsyncClient(base_url=loopback.url) as client, client.stream("GET", "/") as response:
        lines = response.aiter_lines()
        assert await anext(lines) == 'data: {"n":1}'
        first_read = time.monotonic()
        rest = [line async for line in lines if line]
    assert rest == ['data: {"n":2}', "data: [DONE]"]
    second_sent = next(t for t, data in loopback.connections[0].writes if b'{"n":2}' in data)
    assert first_read < second_sent


async def test_async_sse_gate_proves_no_buffering(loopback: LoopbackServer) -> None:
    opened = threading.Event()
    loopback.enqueue(Reply.sse([{"n": 1}], then=(gate(opened), chunk(b"data: 2\n\n"), finish())))
    async with httpx.AsyncClient(base_url=loopback.url) as client, client.stream("GET", "/") as response:
        lines = response.aiter_lines()
        with trio.fail_after(10):  # would hang if the client waited for more than the first event
            assert await anext(lines) == 'data: {"n":1}'
        opened.set()
        assert [line async for line in lines if line] == ["data: 2"]


async def test_async_reset_before_headers_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(reset()))
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        with pytest.raises(BROKEN):
            await client.get("/")


async def test_async_reset_after_headers_and_mid_sse_raise(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.of(head(200, {"content-type": "application/json", "content-length": "50"}), reset()),
        Reply.sse([{"a": 1}, b"data: {"], then=reset()),
    )
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        with pytest.raises(BROKEN):
            await client.get("/")
        seen = []
        with pytest.raises(BROKEN):
            async with client.stream("GET", "/") as response:
                async for line in response.aiter_lines():
                    seen.append(line)
    assert seen[:1] == ['data: {"a":1}']


async def test_async_truncated_body_raises(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.truncated(b'{"id": "x", "choices": []}', at=5))
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")


async def test_async_stall_then_cancel_records_client_close(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([{"a": 1}], then=stall()))
    async with httpx.AsyncClient(base_url=loopback.url) as client:
        async with client.stream("GET", "/") as response:
            lines = response.aiter_lines()
            assert await anext(lines) == 'data: {"a":1}'
            cancelling = time.monotonic()
            with trio.move_on_after(0.1) as scope:
                await anext(lines)  # the empty line
                await anext(lines)  # stalls forever
            assert scope.cancelled_caught
        closed = await loopback.wait_for_client_close_async(10)
    assert closed >= cancelling
    record = loopback.connections[0]
    assert record.closed_by_client == closed
    assert record.end_reason == "client-closed"


# --- lifecycle ------------------------------------------------------------------------------------


def _loopback_threads() -> set[threading.Thread]:
    # Only the servers' own threads: trio's idle worker-thread cache (from earlier tests in the same
    # process) starts and retires threads on its own clock, which a whole-process count would see.
    return {t for t in threading.enumerate() if t.name.startswith("loopback-")}


def test_stop_joins_every_thread_even_mid_stall() -> None:
    before = _loopback_threads()
    srv = LoopbackServer().start()
    srv.enqueue(Reply.of(head(200, {"content-length": "10"}), stall()), Reply.of(sleep(3600)))
    with _connect(srv) as stalled, _connect(srv) as sleeping, _connect(srv) as idle:
        stalled.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        srv.wait_for_requests(1)
        sleeping.sendall(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        srv.wait_for_requests(2)
        idle.sendall(b"GET / HTTP/1.1\r\n")  # half a request head
        srv.wait_for_connections(3)
        assert len(_loopback_threads() - before) == 4  # accept + 3 connections
        srv.stop()
        assert _loopback_threads() == before
        assert stalled.recv(65536).startswith(b"HTTP/1.1 200 OK")
        assert stalled.recv(1) == b""  # closed by stop()
    assert {c.end_reason for c in srv.connections} == {"stopped"}
    assert all(c.closed_at is not None for c in srv.connections)
    srv.stop()  # idempotent
    with pytest.raises(RuntimeError, match="started once"):
        srv.start()


def test_context_manager_leaves_no_threads() -> None:
    before = _loopback_threads()
    with LoopbackServer() as srv:
        srv.enqueue(Reply.json({}))
        with httpx.Client(base_url=srv.url) as client:
            client.get("/")
    assert _loopback_threads() == before
    with pytest.raises(ConnectionRefusedError):
        _connect(srv).close()


async def test_fixture_works_in_trio_tests(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"ok": True}))
    async with httpx.AsyncClient() as client:
        assert (await client.get(loopback.url + "/")).json() == {"ok": True}
    assert (await loopback.wait_for_requests_async(1))[0].path == "/"
