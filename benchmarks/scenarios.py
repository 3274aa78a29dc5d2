"""The scenarios, the clients they run for, how results are summarised and the targets they are held to.

Every client measurement runs in a fresh subprocess (:mod:`benchmarks._worker`); the fake provider
(:mod:`benchmarks.fake_provider`) runs in a process of its own, one per scenario, with that scenario's
stream shape as its defaults. Repeats are interleaved across clients (repeat 1 of every client, then
repeat 2, ...) so that drift on a noisy machine hits every client alike, and each figure is the median
over all samples of all repeats. Ratios are computed from figures of the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._worker import MARKER
from .fake_provider import start_fake_provider

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT_S = 600.0


# --------------------------------------------------------------------------------------------------
# Clients


@dataclass(frozen=True)
class Client:
    key: str  # the id in results and on the command line
    module: str  # benchmarks._client_<module>
    variant: str | None  # "httpx2" or None
    label: str  # table column


TRIO_DIRECT = Client("trio_direct", "trio_direct", None, "trio_direct")
PYDANTIC_AI = Client("pydantic_ai", "pydantic_ai", None, "pydantic-ai")
FLOOR = Client("floor", "floor", None, "floor (httpx)")
FLOOR_HTTPX2 = Client("floor_httpx2", "floor", "httpx2", "floor (httpx2)")
TRIO_DIRECT_HTTPX2 = Client("trio_direct_httpx2", "trio_direct", "httpx2", "trio_direct (httpx2)")

#: the sync floor with trio_direct's shape: a plain thread hands each request to a Trio thread (one
#: ``trio.from_thread.run`` hop) that sends it with ``httpx.AsyncClient``; only the sync scenarios run it
FLOOR_PORTAL = Client("floor_portal", "floor", "portal", "floor (portal, one hop)")

CLIENTS: tuple[Client, ...] = (TRIO_DIRECT, PYDANTIC_AI, FLOOR, FLOOR_HTTPX2, TRIO_DIRECT_HTTPX2)
ALL_CLIENTS: tuple[Client, ...] = (*CLIENTS, FLOOR_PORTAL)


# --------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Metric:
    key: str  # "<scenario>.<name>"
    label: str
    unit: str
    reduce: Callable[[list[dict[str, Any]]], float | None]  # worker results of one client -> figure
    decimals: int = 1


def _samples(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for r in results for s in r.get("samples", ())]


def _median_of(name: str) -> Callable[[list[dict[str, Any]]], float | None]:
    def reduce(results: list[dict[str, Any]]) -> float | None:
        values = [s[name] for s in _samples(results) if s.get(name) is not None]
        return statistics.median(values) if values else None

    return reduce


def _max_of(name: str) -> Callable[[list[dict[str, Any]]], float | None]:
    def reduce(results: list[dict[str, Any]]) -> float | None:
        values = [s[name] for s in _samples(results) if s.get(name) is not None]
        return max(values) if values else None

    return reduce


@dataclass(frozen=True)
class Scenario:
    key: str  # worker scenario id
    group: str  # what --only selects
    title: str
    server: dict[str, Any]  # fake provider defaults (chunks, delay_ms, chunk_chars)
    full: dict[str, Any]
    quick: dict[str, Any]
    metrics: tuple[Metric, ...]
    clients: tuple[Client, ...] = CLIENTS
    kind: str = "worker"  # or "import"

    def params(self, quick: bool, *, smoke: bool = False) -> dict[str, Any]:
        params = dict(self.quick if quick or smoke else self.full)
        if smoke:  # the test suite's run: every code path once, sizes as small as they go
            for key, cap in (("n", 3), ("rounds", 1), ("warmup", 1), ("streams", 10), ("chunks", 60)):
                if key in params or key == "chunks":
                    params[key] = min(params.get(key, self.server.get(key, 50)), cap)
        params.setdefault("chunks", self.server.get("chunks", 50))
        params.setdefault("chunk_chars", self.server.get("chunk_chars", 4))
        return params

    def server_options(self, params: dict[str, Any]) -> dict[str, Any]:
        """The fake provider's defaults for this run: the scenario's, with the sizes ``params`` ran."""
        return {**self.server, "chunks": params["chunks"], "chunk_chars": params["chunk_chars"]}

    def title_for(self, params: dict[str, Any]) -> str:
        return self.title.format(**params)


def _scenarios() -> tuple[Scenario, ...]:
    # Streams go out as real providers send them: one SSE event per HTTP chunk and socket write, so the
    # client's HTTP stack hands over one event at a time. Row 3a sends them back to back (the per-event
    # cost of the client's own pipeline), row 3d 1 ms apart (every read also pays a wake-up from the
    # poller, as with real token gaps), row 3b in the ~64 KiB chunks no provider sends (what that shape
    # hides), row 3c at a token pace for latency.
    return (
        Scenario(
            "import",
            "import",
            "1. import (direct API + OpenAI + Anthropic) in a fresh process; "
            "cold call → 10th event of a first stream",
            {"chunks": 50},
            {"repeat_factor": 2},
            {"repeat_factor": 1},
            (
                Metric("import.cpu_ms", "import, CPU", "ms", _median_of("import_cpu_ms")),
                Metric("import.wall_ms", "import, wall", "ms", _median_of("import_wall_ms")),
                Metric(
                    "import.cold_events_wall_ms",
                    "cold call → 10th event of a first stream, wall",
                    "ms",
                    _median_of("cold_events_wall_ms"),
                ),
                Metric(
                    "import.first_reply_wall_ms",
                    "import + cold call → 10th event, wall",
                    "ms",
                    _median_of("first_reply_wall_ms"),
                ),
            ),
            clients=(TRIO_DIRECT, PYDANTIC_AI, FLOOR, FLOOR_HTTPX2),
            kind="import",
        ),
        Scenario(
            "nonstream",
            "nonstream",
            "2. non-streamed sequential requests",
            {"chunks": 50},
            {"n": 300, "rounds": 3, "warmup": 20},
            {"n": 30, "rounds": 2, "warmup": 3},
            (
                Metric(
                    "nonstream.cpu_us", "non-streamed, CPU / request", "µs", _median_of("cpu_us_per_unit")
                ),
                Metric(
                    "nonstream.wall_us", "non-streamed, wall / request", "µs", _median_of("wall_us_per_unit")
                ),
            ),
        ),
        Scenario(
            "stream",
            "stream",
            "3a. one streamed response of {chunks:,} deltas, one event per HTTP chunk, back to back",
            {"chunks": 5000},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1, "chunks": 1000},
            (Metric("stream.cpu_us", "streamed, CPU / delta", "µs", _median_of("cpu_us_per_unit"), 2),),
        ),
        Scenario(
            "stream_paced",
            "stream",
            "3d. one streamed response of {chunks:,} deltas, one event per HTTP chunk, 1 ms apart",
            {"chunks": 2000, "delay_ms": 1},
            {"rounds": 3, "warmup": 1},
            {"rounds": 1, "warmup": 1, "chunks": 300},
            (
                Metric(
                    "stream_paced.cpu_us",
                    "streamed 1 ms apart (a wake-up per event), CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
        Scenario(
            "stream_burst",
            "stream",
            "3b. one streamed response of {chunks:,} deltas, "
            "~64 KiB of events per chunk (no provider does this)",
            {"chunks": 5000, "burst": True},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1},
            (
                Metric(
                    "stream_burst.cpu_us",
                    "streamed, batched chunks (not real traffic), CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
        Scenario(
            "paced",
            "stream",
            "3c. one stream at a token pace: {chunks:,} deltas 20 ms apart",
            {"chunks": 100, "delay_ms": 20},
            {"rounds": 3, "warmup": 1},
            {"rounds": 1, "warmup": 1, "chunks": 30},
            (
                Metric(
                    "paced.first_event_ms",
                    "paced stream: call → first delta, wall",
                    "ms",
                    _median_of("first_delta_ms"),
                    2,
                ),
                Metric(
                    "paced.latency_us",
                    "paced stream: server write → caller sees delta, median",
                    "µs",
                    _median_of("latency_p50_us"),
                ),
                Metric(
                    "paced.latency_p99_us",
                    "paced stream: server write → caller sees delta, p99",
                    "µs",
                    _median_of("latency_p99_us"),
                ),
            ),
        ),
        Scenario(
            "concurrent",
            "concurrent",
            "4. {streams:,} concurrent streams, 50 chunks each, 20 ms apart",
            {"chunks": 50, "delay_ms": 20},
            # The httpx floor needs ~65 s a run here (its pool's bookkeeping): two default repeats.
            {"streams": 1000, "default_repeat_cap": 2},
            {"streams": 100},
            (
                Metric("concurrent.wall_s", "{streams:,} streams, wall", "s", _median_of("wall_s"), 2),
                Metric("concurrent.cpu_s", "{streams:,} streams, CPU", "s", _median_of("cpu_s"), 2),
                Metric(
                    "concurrent.peak_rss_mib",
                    "{streams:,} streams, peak RSS",
                    "MiB",
                    _median_of("peak_rss_mib"),
                ),
                Metric("concurrent.errors", "{streams:,} streams, errors", "", _max_of("errors"), 0),
            ),
        ),
        Scenario(
            "open_streams",
            "open_streams",
            "4b. {streams:,} concurrent open streams, one event a second each, in one process",
            {"chunks": 5, "delay_ms": 1000},
            {"streams": 10_000, "default_repeat_cap": 1},
            {"streams": 300, "chunks": 2},
            (
                Metric(
                    "open_streams.peak_rss_mib",
                    "{streams:,} open streams, peak RSS",
                    "MiB",
                    _median_of("peak_rss_mib"),
                ),
                Metric("open_streams.cpu_s", "{streams:,} open streams, CPU", "s", _median_of("cpu_s"), 2),
                Metric("open_streams.errors", "{streams:,} open streams, errors", "", _max_of("errors"), 0),
            ),
            # pydantic-ai needs minutes of CPU at this size; the floors are the reference here
            clients=(TRIO_DIRECT, FLOOR, FLOOR_HTTPX2, TRIO_DIRECT_HTTPX2),
        ),
        Scenario(
            "sync_request",
            "sync",
            "5a. model_request_sync from a plain thread",
            {"chunks": 50},
            {"n": 300, "rounds": 3, "warmup": 20},
            {"n": 30, "rounds": 2, "warmup": 3},
            (
                Metric(
                    "sync_request.cpu_us",
                    "model_request_sync, CPU / call",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                ),
                Metric(
                    "sync_request.wall_us",
                    "model_request_sync, wall / call",
                    "µs",
                    _median_of("wall_us_per_unit"),
                ),
            ),
            clients=(*CLIENTS, FLOOR_PORTAL),
        ),
        Scenario(
            "sync_stream",
            "sync",
            "5b. model_request_stream_sync of {chunks:,} deltas, one event per HTTP chunk, back to back",
            {"chunks": 5000},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1, "chunks": 1000},
            (
                Metric(
                    "sync_stream.cpu_us",
                    "model_request_stream_sync, CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
        Scenario(
            "early_exit",
            "early_exit",
            "6a. early exit after 10 events (async): break → server sees the close",
            {"chunks": 100_000, "delay_ms": 2},
            {"rounds": 7, "events": 10},
            {"rounds": 2, "events": 10},
            (
                Metric(
                    "early_exit.server_close_ms",
                    "early exit (async) → server sees close",
                    "ms",
                    _median_of("server_close_ms"),
                    2,
                ),
            ),
        ),
        Scenario(
            "early_exit_sync",
            "early_exit",
            "6b. early exit after 10 events (sync): break → server sees the close",
            {"chunks": 100_000, "delay_ms": 2},
            {"rounds": 7, "events": 10},
            {"rounds": 2, "events": 10},
            (
                Metric(
                    "early_exit_sync.server_close_ms",
                    "early exit (sync) → server sees close",
                    "ms",
                    _median_of("server_close_ms"),
                    2,
                ),
            ),
        ),
        Scenario(
            "fragments",
            "fragments",
            "7. tool-call argument fragments before the tool's name (parts manager, no server)",
            {"chunks": 50},
            {"sizes": [25_000, 100_000], "rounds": 3},
            {"sizes": [2_000, 8_000], "rounds": 1},
            (
                Metric(
                    "fragments.cpu_us_25k",
                    "25,000 nameless tool-call fragments, CPU / fragment",
                    "µs",
                    _median_of("fragment_cpu_us_small"),
                    2,
                ),
                Metric(
                    "fragments.cpu_us_100k",
                    "100,000 nameless tool-call fragments, CPU / fragment",
                    "µs",
                    _median_of("fragment_cpu_us_large"),
                    2,
                ),
            ),
            clients=(TRIO_DIRECT, PYDANTIC_AI),
        ),
        # Issue 12's rows on more wire shapes (benchmarks/_scenario_wires.py): a streamed tool call whose
        # JSON arguments arrive as N argument deltas (the fake's --tool shape: the call's id and name in
        # the first event, then one fragment per event and HTTP chunk, plus an opening {"text":" and a
        # closing "} fragment), and the Anthropic Messages API next to OpenAI Chat. CPU / delta divides
        # by N, the argument deltas that carry the text.
        Scenario(
            "stream_tool",
            "tool",
            "3e. one streamed tool call whose JSON arguments arrive as {chunks:,} argument deltas, "
            "one event per HTTP chunk, back to back (OpenAI Chat)",
            {"chunks": 5000, "tool": True},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1, "chunks": 1000},
            (
                Metric(
                    "stream_tool.cpu_us",
                    "tool-call arguments streamed ({chunks:,} deltas), CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
        Scenario(
            "anthropic_nonstream",
            "anthropic",
            "8a. non-streamed sequential requests, Anthropic Messages",
            {"chunks": 50},
            {"n": 300, "rounds": 3, "warmup": 20},
            {"n": 30, "rounds": 2, "warmup": 3},
            (
                Metric(
                    "anthropic_nonstream.cpu_us",
                    "Anthropic non-streamed, CPU / request",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                ),
                Metric(
                    "anthropic_nonstream.wall_us",
                    "Anthropic non-streamed, wall / request",
                    "µs",
                    _median_of("wall_us_per_unit"),
                ),
            ),
        ),
        Scenario(
            "anthropic_stream",
            "anthropic",
            "8b. one streamed Anthropic response of {chunks:,} text deltas, one event per HTTP chunk, "
            "back to back",
            {"chunks": 5000},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1, "chunks": 1000},
            (
                Metric(
                    "anthropic_stream.cpu_us",
                    "Anthropic streamed ({chunks:,} deltas), CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
        Scenario(
            "anthropic_stream_tool",
            "anthropic",
            "8c. one streamed Anthropic tool_use block whose input arrives as {chunks:,} input_json_delta "
            "events, one event per HTTP chunk, back to back",
            {"chunks": 5000, "tool": True},
            {"rounds": 3, "warmup": 1},
            {"rounds": 2, "warmup": 1, "chunks": 1000},
            (
                Metric(
                    "anthropic_stream_tool.cpu_us",
                    "Anthropic tool-call arguments streamed ({chunks:,} deltas), CPU / delta",
                    "µs",
                    _median_of("cpu_us_per_unit"),
                    2,
                ),
            ),
        ),
    )


SCENARIOS = _scenarios()
GROUPS = tuple(dict.fromkeys(s.group for s in SCENARIOS))


@dataclass(frozen=True)
class Target:
    """What a figure of trio_direct is held to, as ratios within one run (or an absolute bound).

    ``floor`` names the reference client and ``floor_metric`` the reference row when it is not the same
    row (the sync stream is held to the *async* floor). ``sized`` targets are only graded at the full
    sizes: a ``--quick`` run measures fewer streams than the target speaks of.
    """

    metric: str
    vs_pydantic_ai: float | None = None
    vs_floor: float | None = None
    absolute: float | None = None  # the figure itself must be <= this
    floor: str = "floor"
    floor_metric: str | None = None
    sized: bool = False


TARGETS: tuple[Target, ...] = (
    Target("import.cpu_ms", 0.10, 1.2),
    Target("import.cold_events_wall_ms", None, 1.5),
    Target("nonstream.cpu_us", 0.45, 1.05),
    Target("stream.cpu_us", 0.15, 1.4),
    Target("concurrent.cpu_s", 0.5, 1.1, floor="floor_httpx2", sized=True),
    Target("concurrent.peak_rss_mib", 0.35, 1.2, sized=True),
    Target("open_streams.peak_rss_mib", absolute=250.0, sized=True),
    Target("open_streams.errors", absolute=0.0, sized=True),
    Target("sync_request.cpu_us", 0.5, 1.1, floor="floor_portal"),
    Target("sync_stream.cpu_us", 0.15, 1.8, floor_metric="stream.cpu_us"),
    Target("early_exit.server_close_ms", absolute=5.0),
    Target("early_exit_sync.server_close_ms", absolute=5.0),
    # Issue 12's per-delta target (streamed CPU / delta, one event per HTTP chunk, <= 1.4x the floor) holds
    # for every stream of that shape, whatever the part kind or the wire; its non-streamed target likewise.
    # Issue 12 names no pydantic-ai ratio for these rows, so none is set.
    Target("stream_tool.cpu_us", None, 1.4),
    Target("anthropic_nonstream.cpu_us", None, 1.05),
    Target("anthropic_stream.cpu_us", None, 1.4),
    Target("anthropic_stream_tool.cpu_us", None, 1.4),
)


# --------------------------------------------------------------------------------------------------
# Import probes: a few lines run with `python -c`, so nothing but the interpreter's own startup precedes them


_PROBE_HEAD = """\
import time, sys
_c0 = time.process_time(); _t0 = time.perf_counter()
"""

_PROBE_MID = """\
_c1 = time.process_time(); _t1 = time.perf_counter()
"""

# The cold call: a first stream right after the imports, up to its 10th content event (what a CLI call or
# a serverless cold start waits for: provider module import, client and TLS-context construction, the
# connection, the first events).
_PROBE_TAIL = """\
_c2 = time.process_time(); _t2 = time.perf_counter()
import json
print("RESULT " + json.dumps({"samples": [{
    "import_cpu_ms": (_c1 - _c0) * 1e3, "import_wall_ms": (_t1 - _t0) * 1e3,
    "cold_events_wall_ms": (_t2 - _t1) * 1e3 if _reply_ok else None,
    "first_reply_cpu_ms": (_c2 - _c0) * 1e3 if _reply_ok else None,
    "first_reply_wall_ms": (_t2 - _t0) * 1e3 if _reply_ok else None,
    "modules": len(sys.modules), "note": _note}]}))
"""

_PROBES: dict[str, tuple[str, str]] = {
    # client key -> (imports, a cold stream up to its 10th content event, using BASE)
    "trio_direct": (
        """\
import trio_direct
from trio_direct import ModelRequest, model_request_stream
import trio_direct.models.openai, trio_direct.models.anthropic
""",
        """\
import os, trio
os.environ["OPENAI_BASE_URL"] = BASE + "/v1"; os.environ.setdefault("OPENAI_API_KEY", "x")
async def _cold():
    _n = 0
    async with model_request_stream("openai:gpt-4o", [ModelRequest.user_text_prompt("Hello")]) as _s:
        async for _e in _s:
            _n += 1
            if _n >= 10:
                return _n
    return _n
assert trio.run(_cold) >= 10
""",
    ),
    "pydantic_ai": (
        """\
from pydantic_ai.direct import model_request_stream
from pydantic_ai.messages import ModelRequest
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
""",
        """\
import asyncio
async def _cold():
    _model = OpenAIChatModel("gpt-4o", provider=OpenAIProvider(base_url=BASE + "/v1", api_key="x"))
    _n = 0
    async with model_request_stream(_model, [ModelRequest.user_text_prompt("Hello")]) as _s:
        async for _e in _s:
            _n += 1
            if _n >= 10:
                return _n
    return _n
assert asyncio.run(_cold()) >= 10
""",
    ),
    "floor": (
        """\
import trio, httpx, json
""",
        """\
async def _cold():
    _n = 0
    async with httpx.AsyncClient() as client:
        async with client.stream("POST", BASE + "/v1/chat/completions",
                headers={"authorization": "Bearer x", "content-type": "application/json"},
                content=json.dumps({"model": "gpt-4o", "stream": True,
                                    "messages": [{"role": "user", "content": "Hello"}]})) as r:
            async for line in r.aiter_lines():
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    json.loads(line[5:])
                    _n += 1
                    if _n >= 10:
                        return _n
    return _n
assert trio.run(_cold) >= 10
""",
    ),
}
_PROBES["floor_httpx2"] = (
    _PROBES["floor"][0].replace("httpx", "httpx2"),
    _PROBES["floor"][1].replace("httpx.", "httpx2."),
)


def import_probe_code(client: Client, base_url: str) -> str:
    imports, reply = _PROBES[client.key]
    return (
        _PROBE_HEAD
        + imports
        + _PROBE_MID
        + f"BASE = {base_url!r}\n_reply_ok, _note = True, None\n"
        + reply
        + _PROBE_TAIL
    )


# --------------------------------------------------------------------------------------------------
# Running


@dataclass
class Record:
    scenario: str
    client: str
    repeat: int
    result: dict[str, Any]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "client": self.client,
            "repeat": self.repeat,
            "seconds": round(self.seconds, 3),
            **self.extra,
            "result": self.result,
        }


def _worker_env(client: Client) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TRIO_DIRECT_HTTP", None)
    if client.module == "trio_direct" and client.variant:
        env["TRIO_DIRECT_HTTP"] = client.variant
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _parse(stdout: str, stderr: str, returncode: int) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            if "error" in result and stderr.strip():
                result["stderr_tail"] = stderr.strip().splitlines()[-8:]
            return result
    tail = (stderr.strip().splitlines() or ["(no output)"])[-8:]
    return {"error": f"worker exited with status {returncode} without a result", "stderr_tail": tail}


def run_one(client: Client, scenario: Scenario, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
    if scenario.kind == "import":
        if client.key not in _PROBES:
            return {"na": "no import probe for this client"}
        if client.variant == "httpx2" and not _has_module("httpx2"):
            return {"na": "httpx2 is not installed"}
        cmd = [sys.executable, "-c", import_probe_code(client, base_url)]
    else:
        spec = {
            "client": client.module,
            "variant": client.variant,
            "scenario": scenario.key,
            "base_url": base_url,
            "params": params,
        }
        cmd = [sys.executable, "-m", "benchmarks._worker", json.dumps(spec)]
    try:
        proc = subprocess.run(
            cmd,
            cwd=ROOT,
            env=_worker_env(client),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"worker timed out after {WORKER_TIMEOUT_S:.0f} s"}
    result = _parse(proc.stdout, proc.stderr, proc.returncode)
    if scenario.kind == "import" and "error" not in result and "na" not in result:
        note = result["samples"][0].get("note")
        if note:
            result["note"] = note
    return result


def compile_bytecode() -> None:
    """Write trio_direct's bytecode caches, as installing a wheel does, before the import probes.

    Installed dependencies (trio, httpx, pydantic-ai) have theirs from ``pip install``; a source checkout
    run with ``PYTHONDONTWRITEBYTECODE`` (or a stale cache) would otherwise charge trio_direct, and only
    it, for compiling its sources in every probe (~100 ms: the import row measured twice the floor that way).
    """
    import compileall

    compileall.compile_dir(ROOT / "trio_direct", quiet=1)


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def run_scenarios(
    scenarios: list[Scenario],
    *,
    quick: bool,
    repeat: int,
    clients: tuple[Client, ...] = ALL_CLIENTS,
    log: Callable[[str], None] = print,
    smoke: bool = False,
    repeat_given: bool = False,
) -> Iterator[Record]:
    """Run every scenario for every client; yield each record as it completes.

    ``repeat`` fresh processes per client (times the scenario's ``repeat_factor``); unless
    ``repeat_given``, a scenario's ``default_repeat_cap`` bounds it.
    """
    for scenario in scenarios:
        params = scenario.params(quick, smoke=smoke)
        repeats = repeat * int(params.pop("repeat_factor", 1))
        cap = params.pop("default_repeat_cap", None)
        if cap is not None and not repeat_given:
            repeats = min(repeats, int(cap))
        chosen = [c for c in scenario.clients if c in clients]
        log(f"## {scenario.title_for(params)}  ({', '.join(c.key for c in chosen)}; {repeats}× each)")
        if scenario.kind == "import":
            compile_bytecode()
        with start_fake_provider(**scenario.server_options(params)) as base_url:
            for r in range(repeats):
                for client in chosen:
                    t0 = time.perf_counter()
                    result = run_one(client, scenario, base_url, params)
                    record = Record(scenario.key, client.key, r, result, time.perf_counter() - t0)
                    status = "n/a" if "na" in result else ("ERROR" if "error" in result else "ok")
                    log(
                        f"   {client.key:<20} repeat {r + 1}/{repeats}: {status} ({record.seconds:.1f} s)"
                        + (f" — {result.get('na') or result.get('error')}" if status != "ok" else "")
                    )
                    yield record


# --------------------------------------------------------------------------------------------------
# Summaries


def summarize(records: list[Record]) -> dict[str, dict[str, Any]]:
    """metric key -> client key -> figure (float), "n/a", or "error"."""
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rec in records:
        by.setdefault((rec.scenario, rec.client), []).append(rec.result)
    out: dict[str, dict[str, Any]] = {}
    for scenario in SCENARIOS:
        for metric in scenario.metrics:
            row: dict[str, Any] = {}
            for client in ALL_CLIENTS:
                results = by.get((scenario.key, client.key))
                if results is None:
                    continue
                good = [r for r in results if "na" not in r and "error" not in r]
                if good:
                    row[client.key] = metric.reduce(good)
                elif any("error" in r for r in results):
                    row[client.key] = "error"
                else:
                    row[client.key] = "n/a"
            if row:
                out[metric.key] = row
    return out


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def ratio(summary: dict[str, dict[str, Any]], metric: str, num: str, den: str) -> float | None:
    row = summary.get(metric, {})
    a, b = _num(row.get(num)), _num(row.get(den))
    if a is None or b is None or b == 0:
        return None
    return a / b


def machine_info() -> dict[str, Any]:
    import importlib.metadata as md

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for dist in (
        "trio_direct",
        "trio",
        "httpx",
        "httpcore",
        "httpx2",
        "httpcore2",
        "pydantic-ai-slim",
        "openai",
        "anthropic",
        "attrs",
        "cattrs",
        "orjson",
    ):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "versions": versions,
        "commit": commit,
    }
