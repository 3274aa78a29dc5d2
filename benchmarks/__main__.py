"""``python -m benchmarks [--quick] [--only SCENARIO] [--repeat N] [--json-out PATH] [--markdown-out PATH]``.

Runs the scenarios of :mod:`benchmarks.scenarios` for trio_direct, pydantic-ai's direct API and the raw
httpx floor (and the httpx2 variants), prints the markdown table with the ratios and targets, and writes
every worker result as JSON lines (default ``benchmarks/results/<UTC timestamp>.jsonl``) plus the
table to ``benchmarks/results/latest.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .scenarios import (
    ALL_CLIENTS,
    FLOOR,
    FLOOR_HTTPX2,
    GROUPS,
    PYDANTIC_AI,
    SCENARIOS,
    TARGETS,
    TRIO_DIRECT,
    TRIO_DIRECT_HTTPX2,
    Record,
    Target,
    machine_info,
    ratio,
    run_scenarios,
    summarize,
)

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _fmt(value: Any, decimals: int, unit: str) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip()


def _fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _target_ratio(
    summary: dict[str, dict[str, Any]], target: Target, den_client: str, den_metric: str | None
) -> float | None:
    if den_metric is None or den_metric == target.metric:
        return ratio(summary, target.metric, TRIO_DIRECT.key, den_client)
    num = summary.get(target.metric, {}).get(TRIO_DIRECT.key)
    den = summary.get(den_metric, {}).get(den_client)
    if not isinstance(num, int | float) or not isinstance(den, int | float) or not den:
        return None
    return float(num) / float(den)


def _verdict(target: Target, summary: dict[str, dict[str, Any]], graded: bool) -> tuple[str, str, str]:
    """(vs pydantic-ai cell, vs floor cell, met cell); ``graded`` False: figures shown, no verdict."""
    checks: list[bool] = []
    cells = []
    floor_note = ""
    if target.floor != FLOOR.key or target.floor_metric is not None:
        label = next((c.label for c in ALL_CLIENTS if c.key == target.floor), target.floor)
        floor_note = f" vs {label}" + (f" {target.floor_metric.split('.')[0]}" if target.floor_metric else "")
    for attr, den, den_metric in (
        ("vs_pydantic_ai", PYDANTIC_AI.key, None),
        ("vs_floor", target.floor, target.floor_metric),
    ):
        limit = getattr(target, attr)
        r = _target_ratio(summary, target, den, den_metric)
        cell = _fmt_ratio(r)
        if limit is not None:
            cell += f" (≤ {limit:g}×{floor_note if attr == 'vs_floor' else ''})"
            if r is not None:
                checks.append(r <= limit)
        cells.append(cell)
    if not graded:
        return cells[0], cells[1], "not graded (quick sizes)"
    if target.absolute is not None:
        value = summary.get(target.metric, {}).get(TRIO_DIRECT.key)
        if isinstance(value, int | float):
            checks.append(value <= target.absolute)
        met_detail = f"≤ {target.absolute:g} "
    else:
        met_detail = ""
    if not checks:
        met = "n/a"
    elif all(checks):
        met = f"{met_detail}met".strip()
    else:
        met = f"{met_detail}**missed**".strip()
    return cells[0], cells[1], met


def render_markdown(
    records: list[Record], info: dict[str, Any], command: str, *, quick: bool = False, smoke: bool = False
) -> str:
    """The results table; row labels carry the sizes really run, and ``sized`` targets are graded only
    at the full sizes."""
    summary = summarize(records)
    targets = {t.metric: t for t in TARGETS}
    present = [c for c in ALL_CLIENTS if any(r.client == c.key for r in records)]
    lines = [
        f"Measured {info['date']} on {info['nproc']} × {info['cpu']}, "
        f"{info['implementation']} {info['python']} ({info['platform']}); commit {info['commit']}"
        + (
            f"; load average {info['load_start']} at the start, {info['load_end']} at the end."
            if "load_end" in info
            else "."
        ),
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v) + ".",
        "",
        f"Reproduce: `{command}`",
        "",
        "| scenario | "
        + " | ".join(c.label for c in present)
        + " | trio_direct / pydantic-ai (target) | trio_direct / floor (target) | target |",
        "|---|" + "---:|" * len(present) + "---:|---:|---|",
    ]
    for scenario in SCENARIOS:
        params = scenario.params(quick, smoke=smoke)
        for metric in scenario.metrics:
            row = summary.get(metric.key)
            if row is None:
                continue
            cells = [_fmt(row.get(c.key), metric.decimals, metric.unit) for c in present]
            target = targets.get(metric.key)
            label = metric.label.format(**params)
            if target is not None:
                graded = not (target.sized and (quick or smoke))
                vs_pai, vs_floor, met = _verdict(target, summary, graded)
            else:
                vs_pai = _fmt_ratio(ratio(summary, metric.key, TRIO_DIRECT.key, PYDANTIC_AI.key))
                vs_floor = _fmt_ratio(ratio(summary, metric.key, TRIO_DIRECT.key, FLOOR.key))
                met = ""
            lines.append(f"| {label} | " + " | ".join(cells) + f" | {vs_pai} | {vs_floor} | {met} |")

    # httpx2: the same client code on Pydantic's continuation of httpx
    if any(r.client in (FLOOR_HTTPX2.key, TRIO_DIRECT_HTTPX2.key) for r in records):
        lines += [
            "",
            "| on httpx2 | floor (httpx2) / floor (httpx) | trio_direct (httpx2) / floor (httpx2) "
            "| trio_direct (httpx2) / trio_direct (httpx) |",
        ]
        lines.append("|---|---:|---:|---:|")
        for scenario in SCENARIOS:
            for metric in scenario.metrics:
                if metric.key.endswith(("errors", "wall_us", "wall_ms")) or metric.key not in summary:
                    continue
                a = ratio(summary, metric.key, FLOOR_HTTPX2.key, FLOOR.key)
                b = ratio(summary, metric.key, TRIO_DIRECT_HTTPX2.key, FLOOR_HTTPX2.key)
                c = ratio(summary, metric.key, TRIO_DIRECT_HTTPX2.key, TRIO_DIRECT.key)
                if a is None and b is None and c is None:
                    continue
                label = metric.label.format(**scenario.params(quick, smoke=smoke))
                lines.append(f"| {label} | {_fmt_ratio(a)} | {_fmt_ratio(b)} | {_fmt_ratio(c)} |")

    notes = []
    for rec in records:
        if "na" in rec.result:
            notes.append(f"- {rec.client} / {rec.scenario}: n/a — {rec.result['na']}")
        elif "error" in rec.result:
            notes.append(
                f"- {rec.client} / {rec.scenario} (repeat {rec.repeat + 1}): error — {rec.result['error']}"
            )
        elif rec.result.get("note"):
            notes.append(f"- {rec.client} / {rec.scenario}: {rec.result['note']}")
        for sample in rec.result.get("samples", ()):
            if isinstance(sample, dict) and sample.get("errors"):
                kinds = ", ".join(f"{n} × {t}" for t, n in sample.get("error_types", {}).items())
                first = "; ".join(str(e)[:300] for e in sample.get("first_errors", ())[:2])
                notes.append(
                    f"- {rec.client} / {rec.scenario} (repeat {rec.repeat + 1}): {sample['errors']} errors "
                    f"({kinds or 'types not recorded'}); first: {first}"
                )
    if notes:
        lines += ["", "Notes:", *dict.fromkeys(notes)]
    lines += [
        "",
        "CPU is `time.process_time()` of the client process (all threads: the portal's too); figures are "
        "medians over all rounds of all repeats, each client in fresh processes; the fake provider runs in a "
        "separate process. Ratios are taken within this run.",
    ]
    return "\n".join(lines) + "\n"


def _load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on every platform
        return "?"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: a CI smoke run")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, for the test suite (figures meaningless)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[*GROUPS, *(s.key for s in SCENARIOS), "harness", "ray"],
        help="run only these scenarios (repeatable)",
    )
    parser.add_argument(
        "--clients", help="comma-separated subset of: " + ", ".join(c.key for c in ALL_CLIENTS)
    )
    parser.add_argument(
        "--repeat",
        type=int,
        help="fresh-process repeats per client (default 3, the 1,000-stream scenario 2; --quick 1)",
    )
    parser.add_argument(
        "--json-out", type=Path, help="JSON lines output (default benchmarks/results/<time>.jsonl)"
    )
    parser.add_argument(
        "--markdown-out", type=Path, help="also write the table here (default results/latest.md)"
    )
    args = parser.parse_args(argv)

    repeat = args.repeat or (1 if args.quick or args.smoke else 3)
    selected = [s for s in SCENARIOS if not args.only or s.group in args.only or s.key in args.only]
    clients = ALL_CLIENTS
    if args.clients:
        wanted = {c.strip() for c in args.clients.split(",")}
        unknown = wanted - {c.key for c in ALL_CLIENTS}
        if unknown:
            parser.error(f"unknown clients: {', '.join(sorted(unknown))}")
        clients = tuple(c for c in ALL_CLIENTS if c.key in wanted)

    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    kind = "-smoke" if args.smoke else "-quick" if args.quick else ""
    json_out = args.json_out or RESULTS_DIR / f"{stamp}{kind}.jsonl"
    json_out.parent.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    info["load_start"] = _load()
    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    t0 = time.perf_counter()
    records: list[Record] = []

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    with json_out.open("w") as out:
        out.write(json.dumps({"machine": info, "quick": args.quick, "repeat": repeat}) + "\n")
        records_iter = run_scenarios(
            selected,
            quick=args.quick,
            repeat=repeat,
            clients=clients,
            log=log,
            smoke=args.smoke,
            repeat_given=args.repeat is not None,
        )
        for record in records_iter:
            records.append(record)
            out.write(json.dumps(record.to_json()) + "\n")
            out.flush()
        harness_records: list[dict[str, Any]] = []
        if not args.only or "harness" in args.only:  # the harness rows (benchmarks/harness_bench.py)
            from .harness_bench import run_harness_rows

            harness_records = run_harness_rows(quick=args.quick, smoke=args.smoke, log=log)
            for harness_record in harness_records:
                out.write(json.dumps(harness_record) + "\n")
        ray_records: list[dict[str, Any]] = []
        # the Ray row (benchmarks/ray_bench.py): full runs, or asked for; a local cluster's start-up
        # alone is most of a --quick run, and tests/test_ray.py already covers it for CI
        if (args.only and "ray" in args.only) or (not args.only and not args.quick):
            from .ray_bench import run_ray_rows

            ray_records = run_ray_rows(quick=args.quick, smoke=args.smoke, log=log)
            for ray_record in ray_records:
                out.write(json.dumps(ray_record) + "\n")
    info["load_end"] = _load()
    table = render_markdown(records, info, command.strip(), quick=args.quick, smoke=args.smoke)
    if harness_records:
        from .harness_bench import render as render_harness

        table += render_harness(harness_records)
    if ray_records:
        from .ray_bench import render as render_ray

        table += render_ray(ray_records)
    log(f"\n(ran in {time.perf_counter() - t0:.0f} s; JSON lines in {json_out})\n")
    print(table)
    md_out = args.markdown_out or RESULTS_DIR / f"latest{kind}.md"
    md_out.write_text(table)
    failed = [r for r in records if "error" in r.result]
    failed += [r for r in harness_records if "error" in r["result"]]
    failed += [r for r in ray_records if "error" in r["result"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
