"""Benchmark rows for the harness (issue 13's targets), run by ``python -m benchmarks`` after the scenarios.

* ``harness_cpu``: N non-streamed requests (10,000; ``--quick`` 1,000) against the fake provider,
  through the harness (adaptive limits + journal) and through a bare nursery with a
  ``trio.CapacityLimiter``, each in a fresh process; the row is client CPU seconds and the ratio
  (target: harness at most 1.1 times bare).
* ``harness_rpm`` / ``harness_tpm``: the fake provider enforces a request (or token) budget with a
  1 s burst and the harness is told nothing (it learns the budget from the headers); the row is the
  throughput after warm-up as a share of the allowed rate (target ≥ 90 %) and the share of requests
  answered 429 (target ≤ 1 %).

Run alone: ``python -m benchmarks.harness_bench [--quick | --smoke]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Per size: (requests for the CPU rows, items for the rate rows, allowed requests per second).
SIZES = {"full": (10_000, 3_000, 100.0), "quick": (1_000, 400, 50.0), "smoke": (100, 60, 50.0)}


def _worker(mode: str, url: str, n: int, concurrency: int) -> dict[str, Any]:
    """Runs in a fresh process: ``n`` requests by ``mode`` ('bare' or 'harness'); CPU and wall time."""
    import trio

    from trio_direct import ModelRequest, model_request
    from trio_direct.harness import Item, Limits, run_batch
    from trio_direct.models.base import Provider
    from trio_direct.models.openai import OpenAIChatModel

    model = OpenAIChatModel("gpt-4o-mini", provider=Provider("openai", url + "/v1", "sk-bench"))
    prompts = [f"question {i}" for i in range(n)]
    ok = 0

    async def bare() -> None:
        nonlocal ok
        limiter = trio.CapacityLimiter(concurrency)

        async def one(prompt: str) -> None:
            nonlocal ok
            async with limiter:
                try:
                    await model_request(model, [ModelRequest.user_text_prompt(prompt)])
                except Exception:
                    return
                ok += 1

        async with trio.open_nursery() as nursery:
            for prompt in prompts:
                nursery.start_soon(one, prompt)

    async def harness(journal: str) -> None:
        nonlocal ok
        items = [Item.from_prompt(f"i{i}", p) for i, p in enumerate(prompts)]
        async with run_batch(
            items, model=model, journal=journal, limits=Limits(max_running=concurrency)
        ) as run:
            async for outcome in run:
                ok += outcome.ok

    with tempfile.TemporaryDirectory() as tmp:
        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        if mode == "bare":
            trio.run(bare)
        else:
            trio.run(harness, str(Path(tmp) / "journal.sqlite"))
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"mode": mode, "n": n, "ok": ok, "cpu_s": cpu, "wall_s": wall}


def _run_worker(mode: str, url: str, n: int, concurrency: int) -> dict[str, Any]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.harness_bench",
            "--worker",
            mode,
            "--url",
            url,
            "--n",
            str(n),
            "--concurrency",
            str(concurrency),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        return {"error": proc.stderr[-2000:]}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def cpu_row(n: int) -> dict[str, Any]:
    from .fake_provider import start_fake_provider

    with start_fake_provider(chunks=5) as url:
        bare = _run_worker("bare", url, n, 256)
        harness = _run_worker("harness", url, n, 256)
    if "error" in bare or "error" in harness:
        return {"error": bare.get("error") or harness.get("error")}
    return {
        "n": n,
        "bare_cpu_s": bare["cpu_s"],
        "harness_cpu_s": harness["cpu_s"],
        "ratio": harness["cpu_s"] / bare["cpu_s"] if bare["cpu_s"] else None,
        "ok": harness["ok"],
        "target": 1.1,
    }


def rate_row(kind: str, n: int, rps: float) -> dict[str, Any]:
    """Throughput against a provider allowing ``rps`` requests/s (by requests, or by tokens)."""
    from trio_direct.harness._cli import main as _unused  # noqa: F401  (the CLI must import)

    from .fake_provider import get_stats, start_fake_provider

    tokens_per_request = 24  # what the fake provider counts for the prompt below and 5 chunks
    limit = ["--rpm", str(rps * 60)] if kind == "rpm" else ["--tpm", str(rps * 60 * tokens_per_request)]
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        with src.open("w") as f:
            for i in range(n):
                f.write(json.dumps({"id": f"r{i}", "prompt": f"q{i % 10}"}) + "\n")
        with start_fake_provider(chunks=5, ttft_ms=20, extra_args=[*limit, "--burst-s", "1"]) as url:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "trio_direct",
                    "batch",
                    str(src),
                    "-o",
                    str(Path(tmp) / "out.jsonl"),
                    "--model",
                    "openai:gpt-4o-mini",
                    "--progress",
                    "none",
                ],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=1800,
                env={
                    **os.environ,
                    "PYTHONPATH": str(ROOT),
                    "OPENAI_BASE_URL": url + "/v1",
                    "OPENAI_API_KEY": "sk-bench",
                },
            )
            stats = get_stats(url)
        if proc.returncode != 0:
            return {"error": proc.stderr[-2000:]}
        first = json.loads((Path(tmp) / "out.jsonl").read_text().splitlines()[0])
    if kind == "tpm":  # the allowed rate in requests follows from the tokens the server counted
        rps = rps * tokens_per_request / first["response"]["body"]["usage"]["total_tokens"]
    burst = rps  # the first second's bucket: warm-up, excluded from the rate
    span = (stats["rl_last_ns"] - stats["rl_first_ns"]) / 1e9
    steady = (stats["rl_admitted"] - burst) / span if span > 0 else None
    refused = stats["rl_refused_requests"] + stats["rl_refused_tokens"]
    return {
        "kind": kind,
        "n": n,
        "allowed_rps": rps,
        "throughput_rps": steady,
        "share_of_allowed": steady / rps if steady is not None else None,
        "share_429": refused / stats["requests"] if stats["requests"] else None,
        "targets": {"share_of_allowed": 0.9, "share_429": 0.01},
    }


def run_harness_rows(*, quick: bool, smoke: bool, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """Every harness row as ``{"scenario", "client", "result"}`` records."""
    n_cpu, n_rate, rps = SIZES["smoke" if smoke else "quick" if quick else "full"]
    records = []
    log(f"harness: {n_cpu:,} requests, harness vs bare nursery")
    records.append({"scenario": "harness_cpu", "client": "trio_direct", "result": cpu_row(n_cpu)})
    for kind in ("rpm", "tpm"):
        log(f"harness: {n_rate:,} items against a {kind.upper()} limit of {rps:g} req/s")
        records.append(
            {"scenario": f"harness_{kind}", "client": "trio_direct", "result": rate_row(kind, n_rate, rps)}
        )
    return records


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def render(records: list[dict[str, Any]]) -> str:
    """The harness rows as a markdown table."""
    lines = ["", "### Harness (issue 13 targets)", "", "| row | figure | target | met |", "|---|---|---|---|"]
    for record in records:
        r = record["result"]
        if "error" in r:
            lines.append(f"| {record['scenario']} | error | | no |")
            continue
        if record["scenario"] == "harness_cpu":
            ratio = r["ratio"]
            lines.append(
                f"| {r['n']:,} requests, client CPU: harness / bare nursery | {r['harness_cpu_s']:.2f} s / "
                f"{r['bare_cpu_s']:.2f} s = {ratio:.2f}× | ≤ 1.10× | {'yes' if ratio <= 1.1 else 'no'} |"
            )
        else:
            share, refused = r["share_of_allowed"], r["share_429"]
            met = share is not None and share >= 0.9 and refused is not None and refused <= 0.01
            what = f"{r['n']:,} items vs a {r['kind'].upper()} limit ({r['allowed_rps']:g} req/s)"
            figure = f"{_pct(share)} of allowed, {_pct(refused)} 429"
            verdict = "yes" if met else "no"
            lines.append(f"| {what}: throughput, 429s | {figure} | ≥ 90 %, ≤ 1 % | {verdict} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.harness_bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--worker", choices=("bare", "harness"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=256, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.url, args.n, args.concurrency)))
        return 0
    records = run_harness_rows(quick=args.quick, smoke=args.smoke, log=lambda m: print(m, file=sys.stderr))
    print(render(records))
    return 1 if any("error" in r["result"] for r in records) else 0


if __name__ == "__main__":
    sys.exit(main())
