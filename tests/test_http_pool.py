"""_http's default transport (connection pools of POOL_SHARD_SIZE) and the httpx2 client choice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import httpx
import pytest
import trio

from tests.loopback import LoopbackServer, Reply
from tests.test_http import PROMPT, echo
from trio_direct import ModelConnectionError, _http, model_request, use_http_client


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
