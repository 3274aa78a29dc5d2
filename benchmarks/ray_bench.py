"""The Ray row (issue 14): N items through 4 Ray workers sharing one rate budget, against the fake provider.

* ``ray_harness``: 100,000 items (``--quick`` 2,000) as a Ray Dataset through
  :class:`trio_direct.harness.ray.HarnessMapper` on 4 workers of a local cluster (``num_cpus=2``),
  every request leased from one :func:`~trio_direct.harness.ray.cluster_job` budget set to the fake
  provider's own RPM limit. Reported: throughput (items/s from the first request to the last, and
  end to end with Ray's start-up), the
  steady rate the provider admitted as a share of its limit (the share of the global budget used),
  and the share of requests the provider refused with 429.

Skipped under ``--smoke`` (the test suite's run; Ray's start-up alone takes tens of seconds) and when
Ray is not installed. Run alone: ``python -m benchmarks.ray_bench [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: items, the provider's limit in requests per second
SIZES = {"full": (100_000, 300.0), "quick": (2_000, 200.0)}
WORKERS = 4


def ray_row(n: int, rps: float) -> dict[str, Any]:
    """``n`` items through 4 workers against a provider allowing ``rps`` requests/s."""
    try:
        import ray
        import ray.data
    except ImportError:
        return {"skipped": "ray is not installed (the `ray` extra)"}

    from trio_direct.harness.ray import HarnessMapper, cluster_job
    from trio_direct.models.base import Provider
    from trio_direct.models.openai import OpenAIChatModel

    from .fake_provider import get_stats, start_fake_provider

    extra = ["--rpm", str(rps * 60), "--burst-s", "1"]
    with start_fake_provider(chunks=5, ttft_ms=20, extra_args=extra) as url:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="WARNING",
            runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
        )
        try:
            ray.data.DataContext.get_current().enable_progress_bars = False
            job = cluster_job("bench", rpm=rps * 60, burst_s=0.5)
            model = OpenAIChatModel("gpt-4o-mini", provider=Provider("openai", url + "/v1", "sk-bench"))
            ds = ray.data.range(n).map_batches(
                lambda b: {"id": [f"r{i}" for i in b["id"]], "prompt": [f"q{i % 10}" for i in b["id"]]}
            )
            mapped = ds.map_batches(
                HarnessMapper,
                fn_constructor_kwargs={"model": model, "job": "bench", "lease_block": 8},
                compute=ray.data.ActorPoolStrategy(size=WORKERS),
                batch_size=500,
                num_cpus=0.25,
            )
            started = time.monotonic()
            ok = failed = 0
            for batch in mapped.iter_batches(batch_size=1000, batch_format="pandas"):
                errors = batch["error"].isna()
                ok += int(errors.sum())
                failed += int((~errors).sum())
            elapsed = time.monotonic() - started
            stats = get_stats(url)
            budget = job.budget_snapshot()
        finally:
            ray.shutdown()
    burst = rps  # the provider's first second of bucket: warm-up, excluded from the rate
    span = (stats["rl_last_ns"] - stats["rl_first_ns"]) / 1e9
    steady = (stats["rl_admitted"] - burst) / span if span > 0 else None
    refused = stats["rl_refused_requests"] + stats["rl_refused_tokens"]
    return {
        "n": n,
        "workers": WORKERS,
        "allowed_rps": rps,
        "ok": ok,
        "failed": failed,
        "elapsed_s": elapsed,
        "end_to_end_items_s": n / elapsed if elapsed > 0 else None,
        # From the provider's first admitted request to its last: Ray's start-up excluded.
        "throughput_items_s": stats["rl_admitted"] / span if span > 0 else None,
        "steady_rps": steady,
        "share_of_budget": steady / rps if steady is not None else None,
        "share_429": refused / stats["requests"] if stats["requests"] else None,
        "budget": budget,
    }


def run_ray_rows(*, quick: bool, smoke: bool, log: Callable[[str], None]) -> list[dict[str, Any]]:
    """The Ray row as ``{"scenario", "client", "result"}`` records (none under ``smoke``)."""
    if smoke:
        return []
    n, rps = SIZES["quick" if quick else "full"]
    log(f"ray: {n:,} items through {WORKERS} Ray workers sharing a {rps:g} req/s budget")
    return [{"scenario": "ray_harness", "client": "trio_direct", "result": ray_row(n, rps)}]


def _pct(value: Any) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def render(records: list[dict[str, Any]]) -> str:
    """The Ray rows as a markdown table."""
    lines = [
        "",
        "### Harness on Ray (issue 14)",
        "",
        "| row | throughput (end to end, with Ray's start-up) | share of the global budget used | 429s |",
        "|---|---|---|---|",
    ]
    for record in records:
        r = record["result"]
        if "skipped" in r or "error" in r:
            lines.append(f"| {record['scenario']} | {r.get('skipped') or 'error'} | | |")
            continue
        what = f"{r['n']:,} items, {r['workers']} Ray workers, one {r['allowed_rps']:g} req/s budget"
        lines.append(
            f"| {what} | {r['throughput_items_s']:,.0f} items/s ({r['end_to_end_items_s']:,.0f}; "
            f"{r['failed']} failed) | "
            f"{_pct(r['share_of_budget'])} | {_pct(r['share_429'])} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ray_bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json-out", help="also write the records as JSON lines")
    args = parser.parse_args(argv)
    records = run_ray_rows(quick=args.quick, smoke=False, log=lambda m: print(m, file=sys.stderr))
    if args.json_out:
        with open(args.json_out, "w") as out:
            for record in records:
                out.write(json.dumps(record) + "\n")
    print(render(records))
    return 0 if all("error" not in r["result"] for r in records) else 1


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    raise SystemExit(main())
