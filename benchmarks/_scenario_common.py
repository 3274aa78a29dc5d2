"""Helpers all clients' scenarios share: sanity checks, the fake server's stats, result shapes (stdlib)."""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from ._measure import peak_rss_mib


class BenchmarkCheckError(AssertionError):
    """A client returned something other than what the fake provider sent: the measurement is void."""


def check_text(text: str, params: dict[str, Any]) -> None:
    want = params["chunks"] * params["chunk_chars"]
    if len(text) != want:
        raise BenchmarkCheckError(f"expected {want} characters of streamed text, got {len(text)}")


def _stats(base_url: str) -> dict[str, Any]:
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=5)
    try:
        conn.request("GET", "/_stats")
        resp = conn.getresponse()
        data: dict[str, Any] = json.loads(resp.read())
        return data
    finally:
        conn.close()


def aborted_count(base_url: str) -> int:
    return int(_stats(base_url)["streams_aborted"])


def early_exit_sample(base_url: str, aborted_before: int, marks: dict[str, int]) -> dict[str, Any]:
    """Wait (bounded) until the server has seen the stream go away; figures relative to the ``break``."""
    deadline = time.monotonic() + 5.0
    while True:
        stats = _stats(base_url)
        if stats["streams_aborted"] > aborted_before:
            break
        if time.monotonic() > deadline:
            return {
                "server_close_ms": None,
                "exit_ms": (marks["exited"] - marks["break"]) / 1e6,
                "error": "server did not see the connection close within 5 s",
            }
        time.sleep(0.001)
    return {
        "server_close_ms": (stats["last_abort_monotonic_ns"] - marks["break"]) / 1e6,
        "exit_ms": (marks["exited"] - marks["break"]) / 1e6,
        "chunks_sent_before_close": stats["last_abort_chunks_sent"],
    }


def concurrent_result(
    cpu_s: float, wall_s: float, rss_before_mib: float, errors: list[str], deltas: int, params: dict[str, Any]
) -> dict[str, Any]:
    return {
        "samples": [
            {
                "cpu_s": cpu_s,
                "wall_s": wall_s,
                "peak_rss_mib": peak_rss_mib(),
                "rss_before_mib": rss_before_mib,
                "errors": len(errors),
                # error type → count, from the reprs ("ModelTimeoutError('...')"), so a run's record
                # says what failed, not only how many
                "error_types": dict(Counter(e.partition("(")[0] for e in errors)),
                "deltas_seen": deltas,
                "deltas_expected": params["streams"] * params["chunks"],
                "first_errors": errors[:3],
            }
        ]
    }


def last_stream_writes(base_url: str) -> list[int]:
    """When the fake provider wrote each content delta of its last paced stream (monotonic ns)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=5)
    try:
        conn.request("GET", "/_stats/last_stream")
        writes: list[int] = json.loads(conn.getresponse().read())["write_ns"]
        return writes
    finally:
        conn.close()


def event_text(event: Any) -> str:
    """The text an event of pydantic-ai's shape (trio_direct's too) carries: a text part start or delta."""
    kind = getattr(event, "event_kind", None)
    if kind == "part_start":
        part = event.part
        return part.content if getattr(part, "part_kind", None) == "text" else ""
    if kind == "part_delta":
        return getattr(event.delta, "content_delta", None) or ""
    return ""


def paced_sample(call_ns: int, seen_ns: list[int], base_url: str, params: dict[str, Any]) -> dict[str, Any]:
    """Figures of one paced stream: call → first delta, and per delta server write → caller sees it."""
    writes = last_stream_writes(base_url)
    if len(seen_ns) != params["chunks"] or len(writes) != params["chunks"]:
        raise BenchmarkCheckError(
            f"expected {params['chunks']} deltas, the caller saw {len(seen_ns)} "
            f"and the server wrote {len(writes)}"
        )
    lat = sorted((s - w) / 1e3 for s, w in zip(seen_ns, writes, strict=True))
    return {
        "first_delta_ms": (seen_ns[0] - call_ns) / 1e6,
        "latency_p50_us": statistics.median(lat),
        "latency_p99_us": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))],
    }
