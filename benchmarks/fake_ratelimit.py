"""Rate limits for the fake provider: RPM/TPM token buckets, real 429s, rate-limit headers, load latency.

Enabled by ``python -m benchmarks.fake_provider --rpm N --tpm N [--load-latency-ms MS]`` (or
``start_fake_provider(extra_args=[...])``). It behaves like OpenAI's limits: each budget is a bucket
holding one minute's worth that refills continuously; a request is charged 1 request and its tokens
(prompt tokens as the fake provider counts them, plus the completion tokens it will send, which is
what OpenAI reserves from ``max_tokens``) when it arrives. A request the buckets cannot cover is
refused with a provider-shaped 429 (``rate_limit_exceeded``), ``retry-after``/``retry-after-ms`` saying
when it would fit, and nothing is charged.

Every reply to a provider request (2xx and 429) carries the budget headers: OpenAI's
``x-ratelimit-limit-requests``, ``-remaining-requests``, ``-reset-requests`` (a duration like ``1.5s``),
the same for ``-tokens``, and Anthropic's ``anthropic-ratelimit-requests-limit``/``-remaining``/``-reset``
(RFC 3339) and ``anthropic-ratelimit-tokens-*`` on the Messages route.

Latency grows with load: ``--load-latency-ms MS`` adds MS for every request already in progress at the
server to the time before a reply (``ttft``), so a client that floods it sees latency climb.

Stdlib only, like the server; :meth:`FakeRateLimiter.snapshot` adds its counters to ``GET /_stats``:
``rl_admitted``, ``rl_refused_requests``, ``rl_refused_tokens``, ``rl_first_ns``/``rl_last_ns`` (monotonic
time of the first and last admitted request) and the budgets.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any

__all__ = ["FakeRateLimiter", "Verdict"]


class _Bucket:
    __slots__ = ("capacity", "last", "level", "limit", "rate")

    def __init__(self, per_minute: float, now: float, burst_s: float = 60.0) -> None:
        self.limit = per_minute
        self.rate = per_minute / 60.0
        self.capacity = self.rate * burst_s
        self.level = self.capacity
        self.last = now

    def refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.last) * self.rate)
        self.last = now

    def wait(self, amount: float) -> float:
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate

    def reset_in(self) -> float:
        """Seconds until the bucket is full again."""
        return max(self.capacity - self.level, 0.0) / self.rate


def _duration(seconds: float) -> str:
    """OpenAI's reset format: ``'20ms'``, ``'1.5s'``, ``'6m0s'``."""
    if seconds < 1:
        return f"{max(seconds * 1000, 0):.0f}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m{secs:.0f}s"


class Verdict:
    """The limiter's answer: refused or not, a message for a 429, and the headers to send."""

    __slots__ = ("headers", "message", "refused")

    def __init__(self, refused: bool, headers: bytes, message: str | None = None) -> None:
        self.refused = refused
        self.headers = headers
        self.message = message


class FakeRateLimiter:
    """RPM/TPM buckets for one fake provider (one API key, all routes).

    Args:
        rpm: requests per minute, or None for no request limit.
        tpm: tokens per minute, or None for no token limit.
        load_latency_ms: added to a reply's time to first token per request already in progress.
        burst_s: how many seconds' worth each bucket holds (60, a minute, like OpenAI; smaller makes
            short benchmarks meet the steady rate sooner).
        clock: ``time.monotonic``; for tests.
    """

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        load_latency_ms: float = 0.0,
        burst_s: float = 60.0,
        clock: Any = time.monotonic,
    ) -> None:
        self._clock = clock
        now = clock()
        self.rpm = _Bucket(rpm, now, burst_s) if rpm else None
        self.tpm = _Bucket(tpm, now, burst_s) if tpm else None
        self.load_latency_ms = load_latency_ms
        self.admitted = 0
        self.refused_requests = 0
        self.refused_tokens = 0
        self.first_ns = 0
        self.last_ns = 0

    def reset(self) -> None:
        self.admitted = self.refused_requests = self.refused_tokens = 0
        self.first_ns = self.last_ns = 0

    def check(self, tokens: int, *, anthropic: bool = False) -> Verdict:
        """Charge a request of ``tokens`` tokens, or refuse it; returns the verdict with its headers."""
        now = self._clock()
        waits: list[tuple[float, str]] = []
        for bucket, amount, what in ((self.rpm, 1.0, "requests"), (self.tpm, float(tokens), "tokens")):
            if bucket is not None:
                bucket.refill(now)
                if (wait := bucket.wait(amount)) > 0:
                    waits.append((wait, what))
        if waits:
            wait, what = max(waits)
            if what == "requests":
                self.refused_requests += 1
            else:
                self.refused_tokens += 1
            ms = max(math.ceil(wait * 1000), 1)
            extra = b"retry-after: %d\r\nretry-after-ms: %d\r\n" % (max(math.ceil(wait), 1), ms)
            message = (
                f"Rate limit reached for fake-model on {what} per min: please try again in {ms}ms."
            )
            return Verdict(True, self._headers(anthropic) + extra, message)
        if self.rpm is not None:
            self.rpm.level -= 1
        if self.tpm is not None:
            self.tpm.level -= tokens
        self.admitted += 1
        ns = time.monotonic_ns()
        self.first_ns = self.first_ns or ns
        self.last_ns = ns
        return Verdict(False, self._headers(anthropic))

    def _headers(self, anthropic: bool) -> bytes:
        out: list[bytes] = []
        for bucket, what in ((self.rpm, "requests"), (self.tpm, "tokens")):
            if bucket is None:
                continue
            limit, remaining, reset = int(bucket.limit), max(int(bucket.level), 0), bucket.reset_in()
            if anthropic:
                when = datetime.fromtimestamp(time.time() + reset, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                out.append(
                    b"anthropic-ratelimit-%b-limit: %d\r\nanthropic-ratelimit-%b-remaining: %d\r\n"
                    b"anthropic-ratelimit-%b-reset: %b\r\n"
                    % (what.encode(), limit, what.encode(), remaining, what.encode(), when.encode())
                )
            else:
                name = what.encode()
                out.append(
                    b"x-ratelimit-limit-%b: %d\r\nx-ratelimit-remaining-%b: %d\r\n"
                    b"x-ratelimit-reset-%b: %b\r\n"
                    % (name, limit, name, remaining, name, _duration(reset).encode())
                )
        return b"".join(out)

    def snapshot(self) -> dict[str, Any]:
        return {
            "rl_rpm": self.rpm.limit if self.rpm is not None else None,
            "rl_tpm": self.tpm.limit if self.tpm is not None else None,
            "rl_admitted": self.admitted,
            "rl_refused_requests": self.refused_requests,
            "rl_refused_tokens": self.refused_tokens,
            "rl_first_ns": self.first_ns,
            "rl_last_ns": self.last_ns,
        }
