"""``python -m trio_direct batch IN.jsonl -o OUT.jsonl --model ...``: a batch file through the harness.

The journal (default ``OUT.jsonl.journal``) is the source of truth: every finished item is committed
there first, and ``OUT.jsonl`` is written from it, in input order, when the run ends (atomically:
a temporary file renamed over the output). A run that is interrupted or killed leaves the journal;
running the same command again resumes, and the output then has every item exactly once.

Ctrl-C once stops admitting new items and lets those in flight finish; a second Ctrl-C cancels them.
Exit status: 0 every item succeeded, 1 some items failed, 2 usage error, 3 incomplete (interrupted or a
budget reached: run again to resume), 130 cancelled by a second Ctrl-C.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import trio

from ..exceptions import TrioDirectError, UserError
from ..retries import RetryPolicy
from ._items import Item, Outcome
from ._journal import Journal
from ._jsonl import outcome_to_batch_line, parse_line
from ._limits import Limits
from ._progress import LiveLine
from ._provider_batch import ProviderBatchRun, run_provider_batch
from ._runner import DEFAULT_RETRY, BatchRun, run_batch

__all__ = ["main"]

logger = logging.getLogger("trio_direct.harness")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m trio_direct batch",
        description="Run a batch file (OpenAI Batch JSONL, or {id, prompt|messages} lines) "
        "through the harness.",
    )
    p.add_argument("input", help="input JSONL file")
    p.add_argument("-o", "--output", required=True, help="output JSONL file (OpenAI batch output lines)")
    p.add_argument("-m", "--model", help="'provider:model' for every item (default: each item's own model)")
    p.add_argument("--concurrency", type=int, default=256, help="most requests in flight (default 256)")
    p.add_argument("--initial-concurrency", type=int, help="where the adaptive limit starts (default 16)")
    p.add_argument("--min-concurrency", type=int, default=1, help="floor of the adaptive limit (default 1)")
    p.add_argument("--no-adaptive", action="store_true", help="fixed concurrency: no AIMD")
    p.add_argument(
        "--max-queued", type=int, default=1024, help="items read ahead of admission (default 1024)"
    )
    p.add_argument(
        "--rpm", type=float, help="requests per minute (default: learnt from the provider's headers)"
    )
    p.add_argument("--tpm", type=float, help="tokens per minute (default: learnt from headers)")
    p.add_argument("--input-tpm", type=float, help="input tokens per minute")
    p.add_argument("--output-tpm", type=float, help="output tokens per minute")
    p.add_argument("--max-attempts", type=int, default=DEFAULT_RETRY.max_attempts, help="attempts per item")
    p.add_argument("--token-budget", type=int, help="stop admitting items after this many tokens")
    p.add_argument("--cost-budget", type=Decimal, help="stop admitting items at this cost")
    p.add_argument("--cache", help="SQLite response cache file (opt-in)")
    p.add_argument("--cache-ttl", type=float, help="seconds a cache entry stays valid")
    p.add_argument("--journal", help="journal file (default: OUTPUT.journal)")
    p.add_argument("--fresh", action="store_true", help="ignore (delete) an existing journal: do not resume")
    p.add_argument("--keep-failed", action="store_true", help="on resume, do not retry items that failed")
    p.add_argument(
        "--progress",
        choices=("auto", "line", "log", "none"),
        default="auto",
        help="live line on a terminal, log lines otherwise (auto); or force one; or none",
    )
    p.add_argument("--progress-interval", type=float, default=1.0, help="seconds between progress updates")
    batch = p.add_argument_group("provider batch mode (half price, results within 24 h)")
    batch.add_argument(
        "--provider-batch",
        action="store_true",
        help="submit the items as provider batch jobs (OpenAI, Anthropic, Gemini) instead of live requests; "
        "Ctrl-C stops waiting and leaves the jobs running: the same command again collects them",
    )
    batch.add_argument("--poll-interval", type=float, default=30.0, help="seconds before the first poll")
    batch.add_argument("--max-poll-interval", type=float, default=600.0, help="longest wait between polls")
    batch.add_argument("--max-requests-per-job", type=int, help="split jobs at this many requests")
    return p


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as f:
        for number, line in enumerate(f, 1):
            if line.strip():
                yield number, line


def _count(path: Path) -> int:
    return sum(1 for _ in _lines(path))


async def _watch_interrupts(run: BatchRun | ProviderBatchRun, cancelled: list[bool]) -> None:
    with trio.open_signal_receiver(signal.SIGINT) as signals:
        count = 0
        async for _ in signals:
            count += 1
            if isinstance(run, ProviderBatchRun):
                print(
                    "\ninterrupted: stopped waiting; the submitted jobs keep running at the provider "
                    "(their ids are in the journal): run the same command again to collect them",
                    file=sys.stderr,
                    flush=True,
                )
                run.stop()
                return
            if count == 1:
                print(
                    "\ninterrupted: no new items; waiting for those in flight (Ctrl-C again to cancel them)",
                    file=sys.stderr,
                    flush=True,
                )
                run.stop()
            else:
                cancelled.append(True)
                run.cancel()
                return


async def _run(
    args: argparse.Namespace, journal: Journal, urls: dict[str, str]
) -> tuple[BatchRun | ProviderBatchRun, bool]:
    in_path = Path(args.input)
    limits = Limits(
        max_running=args.concurrency,
        min_running=min(args.min_concurrency, args.concurrency),
        initial_running=args.initial_concurrency,
        adaptive=not args.no_adaptive,
        max_queued=args.max_queued,
        rpm=args.rpm,
        tpm=args.tpm,
        input_tpm=args.input_tpm,
        output_tpm=args.output_tpm,
    )
    retry = RetryPolicy(
        max_attempts=args.max_attempts,
        initial_delay=DEFAULT_RETRY.initial_delay,
        max_delay=DEFAULT_RETRY.max_delay,
    )
    finished = journal.finished_ids(include_failed=args.keep_failed)

    def items() -> Iterator[Item]:
        for number, line in _lines(in_path):
            item_id, url, parsed = parse_line(line, number, args.model)
            urls[item_id] = url
            if isinstance(parsed, UserError):
                # An item that cannot be sent fails alone, recorded like any other outcome.
                if item_id not in finished:
                    journal.record(Outcome(item_id=item_id, error=parsed))
                continue
            yield parsed

    progress: Any = None
    if args.progress != "none":
        tty = {"auto": None, "line": True, "log": False}[args.progress]
        progress = LiveLine(sys.stderr, tty=tty, log_interval=max(args.progress_interval, 10.0))
    cancelled: list[bool] = []
    if args.provider_batch:
        async with trio.open_nursery() as nursery:
            async with run_provider_batch(
                items(),
                journal=journal,
                rerun_failed=not args.keep_failed,
                poll_interval=args.poll_interval,
                max_poll_interval=max(args.max_poll_interval, args.poll_interval),
                max_requests_per_job=args.max_requests_per_job,
                on_progress=progress,
                progress_interval=args.progress_interval,
                total=_count(in_path),
            ) as batch_run:
                nursery.start_soon(_watch_interrupts, batch_run, cancelled)
                async for _ in batch_run:
                    pass
            nursery.cancel_scope.cancel()
        return batch_run, bool(cancelled)
    async with trio.open_nursery() as nursery:
        async with run_batch(
            items(),
            limits=limits,
            retry=retry,
            journal=journal,
            rerun_failed=not args.keep_failed,
            cache=args.cache,
            cache_ttl=args.cache_ttl,
            token_budget=args.token_budget,
            cost_budget=args.cost_budget,
            on_progress=progress,
            progress_interval=args.progress_interval,
            total=_count(in_path),
        ) as run:
            nursery.start_soon(_watch_interrupts, run, cancelled)
            async for _ in run:
                pass
        nursery.cancel_scope.cancel()
    return run, bool(cancelled)


def _export(in_path: Path, out_path: Path, journal: Journal, urls: dict[str, str]) -> tuple[int, int, int]:
    """Write the output from the journal in input order; returns (written, failed, missing)."""
    tmp = out_path.with_name(out_path.name + ".tmp")
    written = failed = missing = 0
    seen: set[str] = set()
    with tmp.open("wb") as out:
        for number, line in _lines(in_path):
            item_id, url, _ = parse_line(line, number, "unused")
            if item_id in seen:
                continue
            seen.add(item_id)
            outcome = journal.get(item_id)
            if outcome is None:
                missing += 1
                continue
            out.write(outcome_to_batch_line(outcome, urls.get(item_id, url)) + b"\n")
            written += 1
            failed += not outcome.ok
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, out_path)
    return written, failed, missing


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``batch`` subcommand; returns the exit status (see the module docs)."""
    args = _parser().parse_args(argv)
    in_path, out_path = Path(args.input), Path(args.output)
    if not in_path.is_file():
        print(f"error: no input file {str(in_path)!r}", file=sys.stderr)
        return 2
    if args.progress != "none" and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
        logger.setLevel(logging.INFO)
    journal_path = Path(args.journal) if args.journal else out_path.with_name(out_path.name + ".journal")
    if args.fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(journal_path) + suffix).unlink(missing_ok=True)
    urls: dict[str, str] = {}
    try:
        with Journal(journal_path) as journal:
            try:
                run, cancelled = trio.run(_run, args, journal, urls)
            except KeyboardInterrupt:  # a Ctrl-C before the run started
                return 130
            written, failed, missing = _export(in_path, out_path, journal, urls)
    except TrioDirectError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UserError) else 1
    print(str(run.summary()), file=sys.stderr)
    print(
        f"wrote {written:,} lines to {out_path} ({failed:,} failed)"
        + (f"; {missing:,} items not run yet: run the same command again to resume" if missing else ""),
        file=sys.stderr,
    )
    if cancelled:
        return 130
    if missing:
        return 3
    return 1 if failed else 0
