"""Progress of a run: counters, programmatic snapshots, the live line, periodic log lines, the summary.

No progress library is used: what the live line needs (one line redrawn with ``\\r`` and
erase-to-end-of-line, every ``interval`` seconds, from the Trio thread) is a few lines of code, while
tqdm and rich assume they own the rate computation and the redraw thread, and would be a runtime
dependency for one line of text. Off a terminal the same snapshot is logged as a plain line.

Memory stays bounded however long the run: latencies go into a log-scale histogram (1 % wide
bins), and error kinds into a counter of class names.
"""

from __future__ import annotations

import collections
import logging
import math
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Final, TextIO, final

import attrs

from ._items import Outcome

__all__ = ["LatencyHistogram", "LiveLine", "Progress", "ProgressTracker", "Summary"]

logger = logging.getLogger("trio_direct.harness")

_BINS_PER_DECADE: Final = 230  # 10 ** (1 / 230) ≈ 1.01: 1 % wide bins
_MIN_LATENCY: Final = 1e-6


@final
class LatencyHistogram:
    """Latency percentiles in bounded memory: counts in log-scale bins 1 % wide."""

    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts: collections.Counter[int] = collections.Counter()
        self.count = 0
        self.total = 0.0

    def add(self, seconds: float) -> None:
        self.counts[math.floor(math.log10(max(seconds, _MIN_LATENCY)) * _BINS_PER_DECADE)] += 1
        self.count += 1
        self.total += seconds

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100), to within 1 %; None when empty."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100.0 * self.count))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                return float(10 ** ((index + 0.5) / _BINS_PER_DECADE))
        raise AssertionError("unreachable")  # pragma: no cover


@final
@attrs.frozen(kw_only=True)
class Progress:
    """A snapshot of a run, as given to ``on_progress`` callbacks and drawn by the live line.

    Attributes:
        done: items finished in this run (ok + failed), cached and resumed ones included.
        ok: items with a response.
        failed: items with an error.
        cached: items answered from the cache.
        resumed: items skipped because an earlier run's journal holds them.
        in_flight: requests being sent now.
        queued: items read and waiting for admission.
        total: items in the job, when known.
        limit: the current concurrency limit (of the first model's admission controller).
        elapsed: seconds since the run started.
        requests_per_s: requests finished per second over the last few seconds.
        tokens_per_s: tokens (input + output) per second over the last few seconds.
        input_tokens: input tokens so far.
        output_tokens: output tokens so far.
        cost: the running cost, when the cost function knows it.
        eta: seconds until the remaining items finish at the current rate, when known.
        finished: this is the last snapshot of the run.
    """

    done: int
    ok: int
    failed: int
    cached: int
    resumed: int
    in_flight: int
    queued: int
    total: int | None
    limit: int | None
    elapsed: float
    requests_per_s: float
    tokens_per_s: float
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    eta: float | None
    finished: bool = False

    def line(self) -> str:
        """The snapshot as one line of text."""
        done = f"{self.done:,}" + (f"/{self.total:,}" if self.total is not None else "")
        parts = [
            done,
            f"ok {self.ok:,}",
            f"failed {self.failed:,}",
            f"in flight {self.in_flight}",
        ]
        if self.limit is not None:
            parts.append(f"limit {self.limit}")
        parts.append(f"{self.requests_per_s:.1f} req/s")
        parts.append(f"{_short(self.tokens_per_s)} tok/s")
        if self.cost is not None:
            parts.append(f"${self.cost:.4f}")
        if self.eta is not None and not self.finished:
            parts.append(f"ETA {_duration(self.eta)}")
        elif self.finished:
            parts.append(f"in {_duration(self.elapsed)}")
        return " | ".join(parts)


def _short(value: float) -> str:
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _duration(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@final
@attrs.frozen(kw_only=True)
class Summary:
    """The end of a run in numbers.

    Attributes:
        outcomes: items by kind: ``'ok'`` or the error's class name.
        items: items finished (all kinds, cached and resumed included).
        cached: answered from the cache.
        resumed: skipped thanks to the journal.
        attempts: requests sent.
        latency_p50, latency_p95, latency_p99: seconds, over live items; None if there were none.
        input_tokens, output_tokens: tokens of this run's responses (cached and resumed ones included).
        cost: total cost, when known.
        elapsed: seconds.
        stopped: why the run stopped early (a budget, an interrupt), or None.
    """

    outcomes: dict[str, int]
    items: int
    cached: int
    resumed: int
    attempts: int
    latency_p50: float | None
    latency_p95: float | None
    latency_p99: float | None
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    elapsed: float
    stopped: str | None = None

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(self.outcomes.items(), key=lambda kv: -kv[1]))
        lines = [
            f"{self.items:,} items in {_duration(self.elapsed)}: {kinds or 'none'}"
            + (
                f" ({self.cached:,} from cache, {self.resumed:,} resumed)"
                if self.cached or self.resumed
                else ""
            ),
            f"requests sent: {self.attempts:,}",
        ]
        if self.latency_p50 is not None:
            lines.append(
                f"latency p50 {self.latency_p50:.3f}s, p95 {self.latency_p95:.3f}s, "
                f"p99 {self.latency_p99:.3f}s"
            )
        lines.append(f"tokens: {self.input_tokens:,} in, {self.output_tokens:,} out")
        if self.cost is not None:
            lines.append(f"cost: ${self.cost:.4f}")
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        return "\n".join(lines)


@final
class ProgressTracker:
    """Counts outcomes as they arrive and makes :class:`Progress` snapshots and the :class:`Summary`.

    Args:
        total: items in the job, when known (for the ETA).
        clock: the Trio clock reading function (``trio.current_time``).
    """

    def __init__(self, *, total: int | None, clock: Callable[[], float]) -> None:
        self.total = total
        self._clock = clock
        self.started = clock()
        self.kinds: collections.Counter[str] = collections.Counter()
        self.ok = self.failed = self.cached = self.resumed = self.attempts = 0
        self.input_tokens = self.output_tokens = 0
        self.cost: Decimal | None = None
        self.latency = LatencyHistogram()
        self.stopped: str | None = None
        # (time, finished requests, tokens) samples for the recent rates; a few seconds' worth.
        self._samples: collections.deque[tuple[float, int, int]] = collections.deque(maxlen=6)
        self._requests = 0
        self.ended: float | None = None
        #: What this run paid for: live requests only (cache hits and resumed items cost nothing now).
        self.spent_tokens = 0
        self.spent_cost = Decimal(0)

    def finish(self) -> None:
        """Freeze the elapsed time (the run is over); the summary can then be read from anywhere."""
        if self.ended is None:
            self.ended = self._clock()

    def add(self, outcome: Outcome) -> None:
        """Count one finished item."""
        self.kinds[outcome.kind] += 1
        if outcome.ok:
            self.ok += 1
        else:
            self.failed += 1
        if outcome.source == "cache":
            self.cached += 1
        elif outcome.source == "journal":
            self.resumed += 1
        else:
            self.latency.add(outcome.latency)
            self._requests += 1
            self.attempts += outcome.attempts
            self.spent_tokens += outcome.usage.input_tokens + outcome.usage.output_tokens
            if outcome.cost is not None:
                self.spent_cost += outcome.cost
        self.input_tokens += outcome.usage.input_tokens
        self.output_tokens += outcome.usage.output_tokens
        if outcome.cost is not None:
            self.cost = outcome.cost if self.cost is None else self.cost + outcome.cost

    @property
    def done(self) -> int:
        return self.ok + self.failed

    def snapshot(self, *, in_flight: int, queued: int, limit: int | None, finished: bool = False) -> Progress:
        """The progress now; also advances the window of the recent rates."""
        now = self._clock()
        tokens = self.input_tokens + self.output_tokens
        self._samples.append((now, self._requests, tokens))
        first = self._samples[0]
        span = now - first[0]
        if span > 0:
            rps = (self._requests - first[1]) / span
            tps = (tokens - first[2]) / span
        else:
            elapsed = now - self.started
            rps = self._requests / elapsed if elapsed > 0 else 0.0
            tps = tokens / elapsed if elapsed > 0 else 0.0
        eta: float | None = None
        if self.total is not None and rps > 0:
            eta = max(self.total - self.done, 0) / rps
        return Progress(
            done=self.done,
            ok=self.ok,
            failed=self.failed,
            cached=self.cached,
            resumed=self.resumed,
            in_flight=in_flight,
            queued=queued,
            total=self.total,
            limit=limit,
            elapsed=now - self.started,
            requests_per_s=rps,
            tokens_per_s=tps,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost=self.cost,
            eta=eta,
            finished=finished,
        )

    def summary(self) -> Summary:
        """The summary of everything counted so far."""
        return Summary(
            outcomes=dict(self.kinds),
            items=self.done,
            cached=self.cached,
            resumed=self.resumed,
            attempts=self.attempts,
            latency_p50=self.latency.percentile(50),
            latency_p95=self.latency.percentile(95),
            latency_p99=self.latency.percentile(99),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cost=self.cost,
            elapsed=(self.ended if self.ended is not None else self._clock()) - self.started,
            stopped=self.stopped,
        )


@final
class LiveLine:
    """Shows :class:`Progress` snapshots: one redrawn line on a terminal, log lines elsewhere.

    Pass it as a runner's ``on_progress``. On a TTY each snapshot redraws the line (``\\r`` + erase to
    the end of the line) and the final one ends it with a newline. Off a TTY each snapshot is logged
    at INFO on the ``trio_direct.harness`` logger, at most every ``log_interval`` seconds (and always the
    final one).

    Args:
        stream: where to draw; ``sys.stderr`` by default.
        tty: force terminal (True) or log (False) mode; default: ``stream.isatty()``.
        log_interval: seconds between log lines off a terminal.
    """

    def __init__(
        self, stream: TextIO | None = None, *, tty: bool | None = None, log_interval: float = 10.0
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        if tty is None:
            try:
                tty = self.stream.isatty()
            except (AttributeError, ValueError):
                tty = False
        self.tty = tty
        self.log_interval = log_interval
        self._last_log = -math.inf

    def __call__(self, progress: Progress) -> None:
        text = progress.line()
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K" + ("\n" if progress.finished else ""))
            self.stream.flush()
        elif progress.finished or progress.elapsed - self._last_log >= self.log_interval:
            self._last_log = progress.elapsed
            logger.info("progress: %s", text)
