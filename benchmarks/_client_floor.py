"""The raw floor: plain ``httpx`` (or ``httpx2``, same API) + ``json.loads`` per SSE line, under ``trio.run``.

Sync scenarios use the library's blocking ``Client`` from a plain thread. This is what a careful
hand-written client costs; trio_direct aims to stay within a small factor of it.
"""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any

import trio

from . import _openai_wire as wire
from ._measure import NotAvailable, Sampler, peak_rss_mib, raise_fd_limit


def _httpx(variant: str | None) -> Any:
    name = "httpx" if variant in (None, "portal") else variant
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NotAvailable(f"{name} is not installed") from exc


class Floor:
    def __init__(self, base_url: str, variant: str | None) -> None:
        self.httpx = _httpx(variant)
        self.url = base_url + "/v1/chat/completions"
        # The same pool settings trio_direct uses by default: no cap on connections (a streamed HTTP/1.1
        # response holds its connection), no pool timeout, 600 s read inactivity limit.
        self.timeout = self.httpx.Timeout(600.0, connect=5.0, pool=None)
        self.limits = self.httpx.Limits(
            max_connections=None, max_keepalive_connections=512, keepalive_expiry=30.0
        )

    def async_client(self) -> Any:
        return self.httpx.AsyncClient(timeout=self.timeout, limits=self.limits)

    def sync_client(self) -> Any:
        return self.httpx.Client(timeout=self.timeout, limits=self.limits)

    # -- async -------------------------------------------------------------------------------

    async def request(self, client: Any) -> str:
        response = await client.post(self.url, content=wire.body(stream=False), headers=wire.HEADERS)
        response.raise_for_status()
        return wire.reply_text(response.content)

    async def stream(
        self, client: Any, *, stop_after: int | None = None, seen: list[int] | None = None
    ) -> wire.StreamReader:
        reader = wire.StreamReader(seen)
        async with client.stream("POST", self.url, content=wire.body(stream=True), headers=wire.HEADERS) as r:
            r.raise_for_status()
            lines = 0
            async for line in r.aiter_lines():
                reader.line(line)
                if line:
                    lines += 1
                if stop_after is not None and lines >= stop_after:
                    break
        return reader

    # -- sync --------------------------------------------------------------------------------

    def request_sync(self, client: Any) -> str:
        response = client.post(self.url, content=wire.body(stream=False), headers=wire.HEADERS)
        response.raise_for_status()
        return wire.reply_text(response.content)

    def stream_sync(self, client: Any, *, stop_after: int | None = None) -> wire.StreamReader:
        reader = wire.StreamReader()
        with client.stream("POST", self.url, content=wire.body(stream=True), headers=wire.HEADERS) as r:
            r.raise_for_status()
            lines = 0
            for line in r.iter_lines():
                reader.line(line)
                if line:
                    lines += 1
                if stop_after is not None and lines >= stop_after:
                    break
        return reader


def _in_thread(fn: Any) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="bench-plain-thread")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _portal_sync_request(floor: Floor, sampler: Sampler, params: dict[str, Any]) -> list[dict[str, Any]]:
    """``model_request_sync``'s floor: a plain thread hands each request to one long-lived Trio thread
    (one ``trio.from_thread.run`` hop each way), which sends it with a shared ``httpx.AsyncClient``."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def portal_main() -> None:
        async with floor.async_client() as client:
            box["client"] = client
            box["token"] = trio.lowlevel.current_trio_token()
            box["stop"] = stop = trio.Event()
            ready.set()
            await stop.wait()

    portal = threading.Thread(target=trio.run, args=(portal_main,), name="bench-portal")
    portal.start()
    ready.wait()
    token, client = box["token"], box["client"]

    def call() -> str:
        text: str = trio.from_thread.run(floor.request, client, trio_token=token)
        return text

    def sync_request() -> None:
        for _ in range(params["warmup"]):
            call()
        for _ in range(params["rounds"]):
            with sampler.round(params["n"], unit_name="call"):
                for _ in range(params["n"]):
                    call()

    try:
        _in_thread(sync_request)
    finally:
        trio.from_thread.run_sync(box["stop"].set, trio_token=token)
        portal.join()
    return sampler.samples


def run_wire(floor: Floor, scenario: str, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The rows of :mod:`benchmarks._scenario_wires`: the same hand-written client on the OpenAI tool-call
    stream and on the Anthropic Messages wire (``json.loads`` per ``data:`` line, fragments in a list)."""
    from . import _anthropic_wire as awire
    from . import _scenario_common as common
    from ._scenario_wires import WIRE_SCENARIOS, check_tool_call

    wire_name, streamed, tool = WIRE_SCENARIOS[scenario]
    sampler = Sampler()
    reader_type: Any
    if wire_name == "openai":
        url, headers, reader_type = base_url + "/v1/chat/completions", wire.HEADERS, wire.ToolStreamReader

        def body() -> bytes:
            return wire.tool_body(stream=streamed)

    else:
        url, headers, reader_type = base_url + awire.PATH, awire.HEADERS, awire.StreamReader

        def body() -> bytes:
            return awire.body(stream=streamed, tool=tool)

    async def request(client: Any) -> str:
        response = await client.post(url, content=body(), headers=headers)
        response.raise_for_status()
        return awire.reply_text(response.content)

    async def stream(client: Any) -> Any:
        reader = reader_type()
        async with client.stream("POST", url, content=body(), headers=headers) as r:
            r.raise_for_status()
            async for line in r.aiter_lines():
                reader.line(line)
        return reader

    async def main() -> None:
        async with floor.async_client() as client:
            if not streamed:
                for _ in range(params["warmup"]):
                    await request(client)
                for _ in range(params["rounds"]):
                    with sampler.round(params["n"], unit_name="request"):
                        for _ in range(params["n"]):
                            await request(client)
                return
            for _ in range(params["warmup"]):
                await stream(client)
            for _ in range(params["rounds"]):
                with sampler.round(params["chunks"], unit_name="delta") as extra:
                    reader = await stream(client)
                if tool:
                    args = reader.args if wire_name == "openai" else reader.text
                    check_tool_call(reader.tool_name, args, params)
                else:
                    common.check_text(reader.text, params)
                extra["deltas_seen"] = reader.deltas

    trio.run(main)
    return {"samples": sampler.samples}


def run(scenario: str, base_url: str, params: dict[str, Any], variant: str | None) -> dict[str, Any]:
    from . import _scenario_common as common

    floor = Floor(base_url, variant)
    sampler = Sampler()

    if variant == "portal":
        if scenario != "sync_request":
            raise NotAvailable("the portal floor runs the sync request scenario only")
        return {"samples": _portal_sync_request(floor, sampler, params)}

    from ._scenario_wires import WIRE_SCENARIOS

    if scenario in WIRE_SCENARIOS:
        return run_wire(floor, scenario, base_url, params)

    if scenario == "first_reply":

        async def first() -> str:
            async with floor.async_client() as client:
                return await floor.request(client)

        text = trio.run(first)
        return {"chars": len(text)}

    if scenario == "nonstream":

        async def nonstream() -> None:
            async with floor.async_client() as client:
                for _ in range(params["warmup"]):
                    await floor.request(client)
                for _ in range(params["rounds"]):
                    with sampler.round(params["n"], unit_name="request"):
                        for _ in range(params["n"]):
                            await floor.request(client)

        trio.run(nonstream)
        return {"samples": sampler.samples}

    if scenario in ("stream", "stream_burst", "stream_paced"):

        async def stream() -> None:
            async with floor.async_client() as client:
                for _ in range(params["warmup"]):
                    await floor.stream(client)
                for _ in range(params["rounds"]):
                    with sampler.round(params["chunks"], unit_name="delta") as extra:
                        reader = await floor.stream(client)
                    common.check_text(reader.text, params)
                    extra["deltas_seen"] = reader.deltas

        trio.run(stream)
        return {"samples": sampler.samples}

    if scenario == "paced":

        async def paced() -> list[dict[str, Any]]:
            out = []
            async with floor.async_client() as client:
                for _ in range(params["warmup"]):
                    await floor.stream(client)
                for _ in range(params["rounds"]):
                    seen: list[int] = []
                    call = time.monotonic_ns()
                    await floor.stream(client, seen=seen)
                    out.append(common.paced_sample(call, seen, base_url, params))
            return out

        return {"samples": trio.run(paced)}

    if scenario in ("concurrent", "open_streams"):
        raise_fd_limit()

        async def concurrent() -> dict[str, Any]:
            errors: list[str] = []
            deltas = 0
            async with floor.async_client() as client:
                await floor.stream(client)  # warm up (lazy imports, first connection)
                rss0 = peak_rss_mib()

                async def one() -> None:
                    nonlocal deltas
                    try:
                        reader = await floor.stream(client)
                        deltas += reader.deltas
                    except Exception as exc:
                        errors.append(repr(exc))

                c0, w0 = time.process_time(), time.perf_counter()
                async with trio.open_nursery() as nursery:
                    for _ in range(params["streams"]):
                        nursery.start_soon(one)
                c1, w1 = time.process_time(), time.perf_counter()
            return common.concurrent_result(c1 - c0, w1 - w0, rss0, errors, deltas, params)

        return trio.run(concurrent)

    if scenario == "sync_request":

        def sync_request() -> None:
            with floor.sync_client() as client:
                for _ in range(params["warmup"]):
                    floor.request_sync(client)
                for _ in range(params["rounds"]):
                    with sampler.round(params["n"], unit_name="call"):
                        for _ in range(params["n"]):
                            floor.request_sync(client)

        _in_thread(sync_request)
        return {"samples": sampler.samples}

    if scenario == "sync_stream":

        def sync_stream() -> None:
            with floor.sync_client() as client:
                for _ in range(params["warmup"]):
                    floor.stream_sync(client)
                for _ in range(params["rounds"]):
                    with sampler.round(params["chunks"], unit_name="delta") as extra:
                        reader = floor.stream_sync(client)
                    common.check_text(reader.text, params)
                    extra["deltas_seen"] = reader.deltas

        _in_thread(sync_stream)
        return {"samples": sampler.samples}

    if scenario == "early_exit":

        async def early() -> list[dict[str, Any]]:
            out = []
            async with floor.async_client() as client:
                for _ in range(params["rounds"]):
                    before = common.aborted_count(base_url)
                    marks: dict[str, int] = {}
                    reader = wire.StreamReader()
                    async with client.stream(
                        "POST", floor.url, content=wire.body(stream=True), headers=wire.HEADERS
                    ) as r:
                        events = 0
                        async for line in r.aiter_lines():
                            reader.line(line)
                            if line:
                                events += 1
                            if events >= params["events"]:
                                marks["break"] = time.monotonic_ns()
                                break
                    marks["exited"] = time.monotonic_ns()
                    out.append(common.early_exit_sample(base_url, before, marks))
            return out

        return {"samples": trio.run(early)}

    if scenario == "early_exit_sync":

        def early_sync() -> list[dict[str, Any]]:
            out = []
            with floor.sync_client() as client:
                for _ in range(params["rounds"]):
                    before = common.aborted_count(base_url)
                    marks: dict[str, int] = {}
                    with client.stream(
                        "POST", floor.url, content=wire.body(stream=True), headers=wire.HEADERS
                    ) as r:
                        events = 0
                        for line in r.iter_lines():
                            if line:
                                events += 1
                            if events >= params["events"]:
                                marks["break"] = time.monotonic_ns()
                                break
                    marks["exited"] = time.monotonic_ns()
                    out.append(common.early_exit_sample(base_url, before, marks))
            return out

        return {"samples": _in_thread(early_sync)}

    raise NotAvailable(f"scenario {scenario!r} is not implemented for the floor")
