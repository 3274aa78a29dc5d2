"""_http's default transport (connection pools of POOL_SHARD_SIZE) and the httpx2 client choice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from typing import Any

import httpx
import pytest
import trio
from httpcore._backends.trio import TrioBackend

from tests.loopback import LoopbackServer, Reply
from tests.test_http import HANG_GUARD, PROMPT, echo
from trio_direct import (
    ModelConnectionError,
    ModelSettings,
    ModelTimeoutError,
    _http,
    model_request,
    model_request_stream,
    use_http_client,
)


def _shards(client: httpx.AsyncClient) -> list[object]:
    transport = client._transport  # pyright: ignore[reportPrivateUsage]
    shards: list[object] = transport._shards  # type: ignore[attr-defined]  # pyright: ignore
    return shards


async def test_the_default_client_is_a_plain_async_client_with_the_sharded_transport() -> None:
    client = _http.current_client()
    assert type(client) is httpx.AsyncClient  # no subclass: the transport is httpx's public seam
    transport = client._transport  # pyright: ignore[reportPrivateUsage]
    assert isinstance(transport, httpx.AsyncBaseTransport)
    assert type(transport).__name__ == "_ShardedTransport"


async def test_sequential_requests_share_one_pool_and_connection(loopback: LoopbackServer) -> None:
    for i in range(3):
        loopback.enqueue(Reply.json({"text": str(i)}))
        assert (await model_request(echo(loopback), PROMPT)).text == str(i)
    assert len(_shards(_http.current_client())) == 1
    assert loopback.connection_count == 1


async def test_concurrency_beyond_a_shard_opens_more_pools_and_gives_slots_back(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = _http.POOL_SHARD_SIZE * 2 + 3
    release = trio.Event()
    in_flight = 0
    peak = 0

    async def one(i: int) -> None:
        nonlocal in_flight, peak
        client = _http.current_client()
        async with client.stream("GET", loopback.url + f"/{i}") as response:
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            await response.aread()
            in_flight -= 1

    for _ in range(n):
        loopback.enqueue(Reply.json({"ok": True}))
    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(one, i)
        with trio.fail_after(10):
            while in_flight < n:
                await trio.sleep(0.01)
        release.set()
    shards = _shards(_http.current_client())
    assert peak == n
    assert len(shards) == 3
    assert all(shard.active == 0 for shard in shards)  # type: ignore[attr-defined]

    # Once the surplus pools have been idle past the keep-alive expiry, each request closes one.
    later = time.monotonic() + 3600
    monkeypatch.setattr(_http.time, "monotonic", lambda: later)
    for i in range(3):
        loopback.enqueue(Reply.json({"text": str(i)}))
        assert (await model_request(echo(loopback), PROMPT)).text == str(i)
    assert len(_shards(_http.current_client())) == 1


async def test_a_failed_request_gives_its_slot_back() -> None:
    with pytest.raises(ModelConnectionError):
        await model_request(echo("http://127.0.0.1:9"), PROMPT)
    shards = _shards(_http.current_client())
    assert [shard.active for shard in shards] == [0]  # type: ignore[attr-defined]


def test_default_library_is_httpx() -> None:
    assert _http.HTTP_LIBRARY == "httpx"


async def test_use_http_client_takes_an_httpx2_client(loopback: LoopbackServer) -> None:
    httpx2 = pytest.importorskip("httpx2")
    async with httpx2.AsyncClient() as client, use_http_client(client):
        loopback.enqueue(Reply.json({"text": "via httpx2"}))
        assert (await model_request(echo(loopback), PROMPT)).text == "via httpx2"
        # httpx2's transport errors map like httpx's
        with pytest.raises(ModelConnectionError) as info:
            await model_request(echo("http://127.0.0.1:9"), PROMPT)
        assert info.value.phase == "connect"
        assert isinstance(info.value.__cause__, httpx2.ConnectError)


def test_trio_direct_http_env_selects_httpx2(loopback: LoopbackServer) -> None:
    pytest.importorskip("httpx2")
    loopback.enqueue(Reply.json({"text": "env httpx2"}))
    code = textwrap.dedent(
        f"""
        import trio
        from trio_direct import _http, model_request
        from tests.test_http import PROMPT, echo

        async def main():
            response = await model_request(echo({loopback.url!r}), PROMPT)
            client = _http.current_client()
            transport = type(client._transport)  # the sharded transport, on httpx2's transport base
            base = transport.__mro__[1].__module__
            print(_http.HTTP_LIBRARY, type(client).__module__.split(".")[0], base, response.text)

        trio.run(main)
        """
    )
    env = {**os.environ, "TRIO_DIRECT_HTTP": "httpx2"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert out[0] == out[1] == "httpx2"
    assert out[2].startswith("httpx2")
    assert " ".join(out[3:]) == "env httpx2"


async def test_plain_http_builds_no_tls_context_and_https_builds_one_for_all_its_pools(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the CA bundle is most of a cold first request; an http:// base URL must not pay for it.
    built: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> object:
        built.append(kwargs)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "create_ssl_context", counting)
    loopback.enqueue(Reply.json({"text": "plain"}))
    assert (await model_request(echo(loopback), PROMPT)).text == "plain"
    assert built == []
    assert [shard.secure for shard in _shards(_http.current_client())] == [False]  # type: ignore[attr-defined]

    # An https request gets a pool of its own, with the one verifying TLS context (nothing listens on
    # port 9, so it fails to connect; the pool and the context exist by then).
    for _ in range(2):
        with pytest.raises(ModelConnectionError):
            await model_request(echo("https://127.0.0.1:9"), PROMPT)
    assert len(built) == 1
    shards = _shards(_http.current_client())
    assert [shard.secure for shard in shards] == [False, True]  # type: ignore[attr-defined]
    assert [shard.active for shard in shards] == [0, 0]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# The connect gate: at most CONNECTS_IN_FLIGHT connects (and TLS handshakes) at once per client


class _ConnectSpy:
    """Wraps httpcore's Trio backend ``connect_tcp``: counts connects in flight, can hold them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.in_flight = 0
        self.peak = 0
        self.started = 0
        self.hold: trio.Event | None = None
        real = TrioBackend.connect_tcp
        spy = self

        async def connect_tcp(backend: TrioBackend, *args: Any, **kwargs: Any) -> Any:
            spy.in_flight += 1
            spy.started += 1
            spy.peak = max(spy.peak, spy.in_flight)
            try:
                if spy.hold is not None:
                    await spy.hold.wait()
                await trio.sleep(0.005)  # let the other connects of a burst overlap this one
                return await real(backend, *args, **kwargs)
            finally:
                spy.in_flight -= 1

        monkeypatch.setattr(TrioBackend, "connect_tcp", connect_tcp)


def _gate_slots(client: httpx.AsyncClient) -> trio.Semaphore:
    shard = _shards(client)[0]
    gate = shard.transport._pool._network_backend  # type: ignore[attr-defined]  # pyright: ignore
    assert type(gate).__name__ == "_ConnectGate"
    slots: trio.Semaphore = gate._slots  # pyright: ignore[reportPrivateUsage]
    return slots


async def test_a_burst_beyond_the_connect_slots_all_succeeds_with_bounded_connects(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "CONNECTS_IN_FLIGHT", 3)
    spy = _ConnectSpy(monkeypatch)
    n = _http.POOL_SHARD_SIZE + 9  # more than one pool: the gate is the client's, not a pool's
    texts: list[str] = []

    async def one(i: int) -> None:
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
            texts.append(stream.get().text or "")

    for i in range(n):
        loopback.enqueue(Reply.sse([{"t": f"s{i}"}, "data: [DONE]"], delay=0.02))
    with trio.fail_after(HANG_GUARD):
        async with trio.open_nursery() as nursery:
            for i in range(n):
                nursery.start_soon(one, i)
    assert sorted(texts) == sorted(f"s{i}" for i in range(n))
    assert spy.started == n and loopback.connection_count == n
    assert 1 < spy.peak <= 3
    slots = _gate_slots(_http.current_client())
    assert slots.value == slots.max_value == 3  # every slot given back


async def test_waiting_for_a_connect_slot_obeys_the_callers_cancel_scope(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "CONNECTS_IN_FLIGHT", 1)
    spy = _ConnectSpy(monkeypatch)
    spy.hold = trio.Event()
    loopback.enqueue(Reply.json({"text": "first"}))
    loopback.enqueue(Reply.json({"text": "after"}))
    results: list[str] = []

    async def first() -> None:
        results.append((await model_request(echo(loopback), PROMPT)).text or "")

    with trio.fail_after(HANG_GUARD):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(first)
            while spy.in_flight < 1:  # the first request holds the only slot
                await trio.sleep(0.01)
            with trio.move_on_after(0.2) as waiting:
                await model_request(echo(loopback), PROMPT)
            assert waiting.cancelled_caught  # cancelled while queued for the slot
            assert spy.started == 1  # ... and it never began a connect
            spy.hold.set()
        # the cancelled waiter took no slot with it: the next request connects
        results.append((await model_request(echo(loopback), PROMPT)).text or "")
    assert results == ["first", "after"]
    slots = _gate_slots(_http.current_client())
    assert slots.value == slots.max_value == 1


async def test_the_slot_wait_is_not_the_connect_timeout_but_the_pool_timeout(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "CONNECTS_IN_FLIGHT", 1)
    spy = _ConnectSpy(monkeypatch)
    spy.hold = trio.Event()
    loopback.enqueue(Reply.json({"text": "first"}))
    loopback.enqueue(Reply.json({"text": "queued"}))
    connect_limit = httpx.Timeout(30.0, connect=0.5)
    results: list[str] = []

    async def call(settings: ModelSettings) -> None:
        results.append((await model_request(echo(loopback), PROMPT, model_settings=settings)).text or "")

    with trio.fail_after(HANG_GUARD):
        async with trio.open_nursery() as nursery:
            nursery.start_soon(call, {"timeout": connect_limit})
            while spy.in_flight < 1:
                await trio.sleep(0.01)
            nursery.start_soon(call, {"timeout": connect_limit})
            # The queued request waits for the slot well past its connect timeout ...
            await trio.sleep(1.5)
            # ... and one with a pool timeout gives up waiting with a pool-phase timeout error.
            with pytest.raises(ModelTimeoutError) as info:
                await model_request(
                    echo(loopback), PROMPT, model_settings={"timeout": httpx.Timeout(30.0, pool=0.05)}
                )
            assert info.value.phase == "pool"
            assert spy.started == 1
            spy.hold.set()
    # The queued one connected once it had the slot: waiting was not counted against its 0.5 s.
    assert sorted(results) == ["first", "queued"]
    slots = _gate_slots(_http.current_client())
    assert slots.value == slots.max_value == 1


async def test_tls_pools_gate_the_handshake_too_and_hand_back_the_bare_tls_stream() -> None:
    slots = trio.Semaphore(2, max_value=2)
    seen: list[int] = []

    class TLSStream:
        pass

    class TCPStream:
        async def start_tls(self, ssl_context: Any, server_hostname: Any = None, timeout: Any = None) -> Any:
            seen.append(slots.value)  # a slot is held during the handshake
            return TLSStream()

        async def aclose(self) -> None:
            pass

    class Backend:
        async def connect_tcp(self, host: str, port: int, **kwargs: Any) -> Any:
            seen.append(slots.value)
            return TCPStream()

    import httpcore

    tls_gate = _http._ConnectGate(Backend(), slots, httpcore.PoolTimeout, secure=True)  # pyright: ignore[reportPrivateUsage]
    stream = await tls_gate.connect_tcp("example.org", 443, timeout=5.0)
    assert type(stream).__name__ == "_GatedStream"
    tls = await stream.start_tls(ssl_context=None, server_hostname="example.org", timeout=5.0)
    assert isinstance(tls, TLSStream)  # reads and writes go to the library's stream, unwrapped
    plain_gate = _http._ConnectGate(Backend(), slots, httpcore.PoolTimeout, secure=False)  # pyright: ignore[reportPrivateUsage]
    assert isinstance(await plain_gate.connect_tcp("example.org", 80), TCPStream)
    assert seen == [1, 1, 1] and slots.value == 2


async def test_a_free_slot_is_taken_even_with_a_pool_timeout_of_zero(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"text": "ok"}))
    settings: ModelSettings = {"timeout": httpx.Timeout(30.0, pool=0.0)}
    with trio.fail_after(HANG_GUARD):
        assert (await model_request(echo(loopback), PROMPT, model_settings=settings)).text == "ok"
