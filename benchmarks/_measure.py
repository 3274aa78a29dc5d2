"""Stdlib-only measurement helpers shared by every benchmark client (imported before any client library)."""

from __future__ import annotations

import contextlib
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "Sampler",
    "NotAvailable",
    "cpu",
    "peak_rss_mib",
    "raise_fd_limit",
    "wall",
]

cpu: Callable[[], float] = time.process_time  # user + system CPU of the whole process, every thread
wall: Callable[[], float] = time.perf_counter


class NotAvailable(Exception):
    """The client cannot run this scenario (a piece that has not landed, a library not installed)."""


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def raise_fd_limit() -> None:
    """One file descriptor per connection: lift the soft limit to the hard one for 1,000 streams."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 1 << 16
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


class Sampler:
    """Collects one dict of figures per measured round."""

    def __init__(self) -> None:
        self.samples: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def round(self, units: int, *, unit_name: str) -> Iterator[dict[str, Any]]:
        """Measure the block: CPU and wall time per unit (µs) and in total (s)."""
        extra: dict[str, Any] = {}
        c0, w0 = cpu(), wall()
        yield extra
        c1, w1 = cpu(), wall()
        sample = {
            "units": units,
            "unit": unit_name,
            "cpu_s": c1 - c0,
            "wall_s": w1 - w0,
            "cpu_us_per_unit": (c1 - c0) / units * 1e6,
            "wall_us_per_unit": (w1 - w0) / units * 1e6,
        }
        sample.update(extra)
        self.samples.append(sample)

    def median(self, key: str) -> float:
        return statistics.median(s[key] for s in self.samples)
