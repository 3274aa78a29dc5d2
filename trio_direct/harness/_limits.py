"""Admission control: an adaptive concurrency limit plus request and token budgets per provider key.

An :class:`AdmissionController` decides when the next request may be sent to one provider endpoint
with one API key. Three things must all allow it:

* **concurrency** — at most ``limit`` requests in flight. With ``adaptive=True`` (the default) the
  limit moves by AIMD: it grows by ``increase / limit`` on every success while it is the binding
  constraint (about +``increase`` per round trip), and is multiplied by ``decrease`` on a 429, a 529/503
  overload, or when latency climbs past ``latency_factor`` times its baseline, at most once per
  ``cooldown``. It never leaves ``[min_running, max_running]``.
* **requests per minute** and **tokens per minute** (total, input, output) — token buckets that refill
  continuously, as the providers' own limits do. A request is admitted on a pre-send estimate of its
  tokens; the usage that comes back corrects the bucket. Budgets the caller did not set are seeded
  from the provider's ``x-ratelimit-limit-*`` / ``anthropic-ratelimit-*-limit`` headers, and every
  ``*-remaining`` header pulls the bucket down to what the provider says is left.
* **pauses** — a 429 carrying ``Retry-After`` (or rate-limit reset headers) pauses every admission for
  that long, so the whole process backs off, not only the request that was refused.

Waiters are admitted first come, first served. Controllers are shared: :func:`admission_for` returns
the same controller for every model that reaches the same endpoint with the same key inside one
``trio.run`` (the sync API's portal is one run, so all sync callers share them too).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from typing import Final, Literal, final

import attrs
import trio

from ..exceptions import (
    ModelOverloadedError,
    ModelRateLimitError,
    ModelUnavailableError,
    UserError,
)
from ..models.base import HTTPModel, Model
from ..models.wrapper import WrapperModel
from ..retries import provider_wait
from ..usage import RequestUsage

__all__ = [
    "AdmissionController",
    "LimiterEvent",
    "Limits",
    "Ticket",
    "TokenEstimate",
    "admission_for",
    "endpoint_key",
]

logger = logging.getLogger("trio_direct.harness.limits")

#: The longest pause a provider's ``Retry-After`` may impose on every admission (a longer one is
#: treated as this long: the retry policy decides separately whether that request waits at all).
MAX_PAUSE: Final = 120.0


def _positive(name: str, value: float | None, *, allow_none: bool = True) -> None:
    if value is None:
        if not allow_none:
            raise UserError(f"Limits.{name} must be set")
        return
    if not (value > 0 and math.isfinite(value)):
        raise UserError(f"Limits.{name} must be a finite number > 0, not {value!r}")


@final
@attrs.frozen(kw_only=True)
class Limits:
    """How many requests may run, and how fast, against one provider endpoint and key.

    Args:
        max_running: the most requests in flight (the ceiling of the adaptive limit).
        min_running: the adaptive limit's floor.
        initial_running: where the adaptive limit starts; default ``min(16, max_running)``. Ignored
            (the limit is ``max_running``) when ``adaptive`` is False.
        adaptive: move the concurrency limit by AIMD (see the module docs).
        max_queued: how many items a runner reads ahead of admission; when that many wait, the
            runner stops reading its input (backpressure down to the item source).
        rpm: requests per minute; None to learn it from the provider's headers (or have none).
        tpm: tokens (input + output) per minute; None as for ``rpm``.
        input_tpm: input tokens per minute (Anthropic's separate input limit).
        output_tpm: output tokens per minute (Anthropic's separate output limit).
        from_headers: seed unset budgets from ``x-ratelimit-*`` / ``anthropic-ratelimit-*`` headers
            and correct the buckets from their ``remaining`` values.
        increase: additive increase per round trip.
        decrease: multiplicative decrease on overload (0 < decrease < 1).
        cooldown: seconds after a decrease during which the limit neither grows nor shrinks again.
        latency_factor: a success whose smoothed latency exceeds this many times the baseline latency
            counts as a sign of overload (None disables the latency signal).
        output_tokens_estimate: output tokens assumed for admission when a request sets no
            ``max_tokens``.

    Raises:
        UserError: a value out of range.
    """

    max_running: int = 256
    min_running: int = 1
    initial_running: int | None = None
    adaptive: bool = True
    max_queued: int = 1024
    rpm: float | None = None
    tpm: float | None = None
    input_tpm: float | None = None
    output_tpm: float | None = None
    from_headers: bool = True
    increase: float = 1.0
    decrease: float = 0.7
    cooldown: float = 2.0
    latency_factor: float | None = 4.0
    output_tokens_estimate: int = 256

    def __attrs_post_init__(self) -> None:
        if self.max_running < 1 or self.min_running < 1 or self.min_running > self.max_running:
            raise UserError(
                f"Limits needs 1 <= min_running <= max_running, got min_running={self.min_running}, "
                f"max_running={self.max_running}"
            )
        if self.initial_running is not None and not (
            self.min_running <= self.initial_running <= self.max_running
        ):
            raise UserError(
                f"Limits.initial_running={self.initial_running} must lie between min_running and max_running"
            )
        if self.max_queued < 1:
            raise UserError(f"Limits.max_queued must be at least 1, not {self.max_queued}")
        for name in ("rpm", "tpm", "input_tpm", "output_tpm"):
            _positive(name, getattr(self, name))
        _positive("increase", self.increase, allow_none=False)
        _positive("latency_factor", self.latency_factor)
        if not 0 < self.decrease < 1:
            raise UserError(f"Limits.decrease must be between 0 and 1 (exclusive), not {self.decrease!r}")
        if not (self.cooldown >= 0 and math.isfinite(self.cooldown)):
            raise UserError(f"Limits.cooldown must be a finite number >= 0, not {self.cooldown!r}")
        if self.latency_factor is not None and self.latency_factor <= 1:
            raise UserError(f"Limits.latency_factor must be > 1, not {self.latency_factor!r}")
        if self.output_tokens_estimate < 0:
            raise UserError("Limits.output_tokens_estimate must be >= 0")

    @property
    def start(self) -> int:
        """The concurrency limit at the start."""
        if not self.adaptive:
            return self.max_running
        return self.initial_running if self.initial_running is not None else min(16, self.max_running)


@final
@attrs.frozen(slots=True)
class TokenEstimate:
    """Tokens a request is expected to use, for admission against the token budgets."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


LimiterEventKind = Literal["increase", "decrease", "pause", "seed"]


@final
@attrs.frozen(slots=True)
class LimiterEvent:
    """Something the admission controller did, for logs, spans and progress.

    Attributes:
        kind: ``'decrease'`` (overload seen), ``'increase'`` (the limit grew by a whole step),
            ``'pause'`` (a provider-requested wait for everyone), ``'seed'`` (a budget learnt from
            headers).
        limit: the concurrency limit after the event.
        reason: what caused it, in words.
        key: the controller's endpoint key (never the API key itself).
    """

    kind: LimiterEventKind
    limit: int
    reason: str
    key: str


class _Bucket:
    """A token bucket refilled continuously at ``per_minute / 60`` per second, holding at most a minute."""

    __slots__ = ("capacity", "last", "level", "rate", "seeded")

    def __init__(self, per_minute: float, now: float, *, seeded: bool = False) -> None:
        self.capacity = per_minute
        self.rate = per_minute / 60.0
        self.level = per_minute
        self.last = now
        self.seeded = seeded

    def refill(self, now: float) -> None:
        if now > self.last:
            self.level = min(self.capacity, self.level + (now - self.last) * self.rate)
            self.last = now

    def wait(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` (at most the capacity) is available; 0 if it is now."""
        self.refill(now)
        need = min(amount, self.capacity)
        # The tolerance and the floor on the wait keep float rounding from turning into a wait so
        # short that the clock cannot advance, which would spin.
        if self.level >= need - 1e-9:
            return 0.0
        return max((need - self.level) / self.rate, 1e-6)

    def set_capacity(self, per_minute: float) -> None:
        self.level = min(self.level, per_minute) if per_minute < self.capacity else self.level
        self.capacity = per_minute
        self.rate = per_minute / 60.0


@final
class Ticket:
    """One admitted request: hand it back to :meth:`AdmissionController.release` when it ends."""

    __slots__ = ("estimate", "released", "started")

    def __init__(self, estimate: TokenEstimate, started: float) -> None:
        self.estimate = estimate
        self.started = started
        self.released = False


# (limit header, remaining header, bucket name) for OpenAI/Groq-style and Anthropic headers.
_BUDGET_HEADERS: Final = (
    ("x-ratelimit-limit-requests", "x-ratelimit-remaining-requests", "rpm"),
    ("x-ratelimit-limit-tokens", "x-ratelimit-remaining-tokens", "tpm"),
    ("anthropic-ratelimit-requests-limit", "anthropic-ratelimit-requests-remaining", "rpm"),
    ("anthropic-ratelimit-tokens-limit", "anthropic-ratelimit-tokens-remaining", "tpm"),
    ("anthropic-ratelimit-input-tokens-limit", "anthropic-ratelimit-input-tokens-remaining", "input_tpm"),
    ("anthropic-ratelimit-output-tokens-limit", "anthropic-ratelimit-output-tokens-remaining", "output_tpm"),
)


def _number(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _is_overload(error: BaseException) -> bool:
    return isinstance(error, ModelRateLimitError | ModelOverloadedError | ModelUnavailableError)


@final
class AdmissionController:
    """Admission for one provider endpoint and key: adaptive concurrency, RPM/TPM buckets, pauses.

    Use :func:`admission_for` to get the shared one for a model; build one directly for a private
    limit. Every method must be called from the ``trio.run`` the controller is used in.

    Args:
        limits: the configuration.
        key: a label for logs and events (an endpoint, never an API key).
        on_event: called with every :class:`LimiterEvent`.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        key: str = "default",
        on_event: Callable[[LimiterEvent], None] | None = None,
    ) -> None:
        self.limits: Limits = limits if limits is not None else Limits()
        self.key = key
        self._listeners: list[Callable[[LimiterEvent], None]] = [on_event] if on_event is not None else []
        self._limit = float(self.limits.start)
        self.running = 0
        self.queued = 0
        self._paused_until = -math.inf
        self._last_decrease = -math.inf
        self._fast_latency: float | None = None
        self._base_latency: float | None = None
        self._admit_lock = trio.Lock()  # FIFO: waiters are admitted in arrival order
        self._changed = trio.Event()
        self._buckets: dict[str, _Bucket] = {}
        now = trio.current_time()
        for name in ("rpm", "tpm", "input_tpm", "output_tpm"):
            value = getattr(self.limits, name)
            if value is not None:
                self._buckets[name] = _Bucket(value, now)
        #: Counters for progress and tests.
        self.admitted = 0
        self.overloads = 0

    # -- state --------------------------------------------------------------------------------------

    @property
    def limit(self) -> int:
        """The current concurrency limit."""
        return max(int(self._limit), 1)

    def budget(self, name: Literal["rpm", "tpm", "input_tpm", "output_tpm"]) -> float | None:
        """The budget in force (set, or learnt from headers), or None."""
        bucket = self._buckets.get(name)
        return bucket.capacity if bucket is not None else None

    @property
    def paused_for(self) -> float:
        """Seconds left of a provider-requested pause (0 when none)."""
        return max(self._paused_until - trio.current_time(), 0.0)

    @property
    def needs_token_estimates(self) -> bool:
        """Whether a token budget is in force (so admission wants a token estimate)."""
        return any(name != "rpm" for name in self._buckets)

    def add_listener(self, listener: Callable[[LimiterEvent], None]) -> None:
        """Also call ``listener`` with every :class:`LimiterEvent`."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[LimiterEvent], None]) -> None:
        """Stop calling ``listener``; unknown listeners are ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, kind: LimiterEventKind, reason: str) -> None:
        event = LimiterEvent(kind, self.limit, reason, self.key)
        logger.debug("%s: %s to %d (%s)", self.key, kind, event.limit, reason)
        for listener in list(self._listeners):
            listener(event)

    def _wake(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    # -- admission ----------------------------------------------------------------------------------

    def _wait_needed(self, estimate: TokenEstimate, now: float) -> float:
        """Seconds until a budget allows ``estimate`` (0: now; inf: only a release can help)."""
        wait = max(self._paused_until - now, 0.0)
        for name, bucket in self._buckets.items():
            if name == "rpm":
                amount = 1.0
            elif name == "tpm":
                amount = float(estimate.total)
            elif name == "input_tpm":
                amount = float(estimate.input_tokens)
            else:
                amount = float(estimate.output_tokens)
            wait = max(wait, bucket.wait(amount, now))
        if wait == 0.0 and self.running >= self.limit:
            return math.inf
        return wait

    def _take(self, estimate: TokenEstimate) -> None:
        for name, bucket in self._buckets.items():
            if name == "rpm":
                bucket.level -= 1
            elif name == "tpm":
                bucket.level -= estimate.total
            elif name == "input_tpm":
                bucket.level -= estimate.input_tokens
            else:
                bucket.level -= estimate.output_tokens

    async def acquire(self, estimate: TokenEstimate | None = None) -> Ticket:
        """Wait until a request with ``estimate`` tokens may be sent, and count it as running.

        Returns:
            The ticket to :meth:`release` when the request ends (success or failure).

        Cancellation:
            A cancelled wait takes nothing: no slot, no budget.
        """
        estimate = estimate or TokenEstimate()
        self.queued += 1
        try:
            async with self._admit_lock:
                while True:
                    now = trio.current_time()
                    wait = self._wait_needed(estimate, now)
                    if wait <= 0.0:
                        break
                    changed = self._changed
                    with trio.move_on_after(wait):
                        await changed.wait()
        finally:
            self.queued -= 1
        self._take(estimate)
        self.running += 1
        self.admitted += 1
        return Ticket(estimate, trio.current_time())

    def release(
        self,
        ticket: Ticket,
        *,
        error: BaseException | None = None,
        usage: RequestUsage | None = None,
    ) -> None:
        """Hand back ``ticket``: the request ended with ``error`` (None on success) and ``usage``.

        Frees the concurrency slot, corrects the token buckets by the real usage, and feeds the
        adaptive limit: an overload error decreases it (and a provider-requested wait pauses all
        admission), a success may increase it. Releasing twice is a no-op.
        """
        if ticket.released:
            return
        if error is not None and not isinstance(error, Exception):
            # Cancelled, KeyboardInterrupt: says nothing about the provider.
            self.abandon(ticket)
            return
        ticket.released = True
        now = trio.current_time()
        binding = self.running >= self.limit
        self.running -= 1
        if usage is not None and error is None:
            self._correct(ticket.estimate, usage)
        if error is not None:
            if _is_overload(error):
                self.overloads += 1
                self._on_overload(error, now)
        else:
            self._on_success(now - ticket.started, now, binding)
        self._wake()

    def abandon(self, ticket: Ticket) -> None:
        """Hand back ``ticket`` without feedback (the request was cancelled); a no-op if released."""
        if ticket.released:
            return
        ticket.released = True
        self.running -= 1
        self._wake()

    def _correct(self, estimate: TokenEstimate, usage: RequestUsage) -> None:
        for name, bucket in self._buckets.items():
            if name == "tpm":
                bucket.level -= (usage.input_tokens + usage.output_tokens) - estimate.total
            elif name == "input_tpm":
                bucket.level -= usage.input_tokens - estimate.input_tokens
            elif name == "output_tpm":
                bucket.level -= usage.output_tokens - estimate.output_tokens
            bucket.level = min(bucket.level, bucket.capacity)

    def _decrease(self, now: float, reason: str) -> None:
        if not self.limits.adaptive or now - self._last_decrease < self.limits.cooldown:
            return
        self._last_decrease = now
        before = self.limit
        self._limit = max(float(self.limits.min_running), self._limit * self.limits.decrease)
        if self.limit != before:
            self._emit("decrease", reason)

    def _on_overload(self, error: BaseException, now: float) -> None:
        asked = provider_wait(error) if isinstance(error, Exception) else None
        if asked is not None and asked[0] > 0:
            until = now + min(asked[0], MAX_PAUSE)
            if until > self._paused_until:
                self._paused_until = until
                self._emit("pause", f"{type(error).__name__}: the provider asked to wait {asked[0]:.3g} s")
        self._decrease(now, type(error).__name__)

    def _on_success(self, latency: float, now: float, binding: bool) -> None:
        factor = self.limits.latency_factor
        if factor is not None and latency > 0:
            fast = self._fast_latency
            self._fast_latency = latency if fast is None else fast + 0.2 * (latency - fast)
            base = self._base_latency
            # The baseline follows the lowest latencies quickly and drifts up only slowly, so a
            # sustained climb (a queue building at the provider) stands out against it.
            if base is None or latency < base:
                self._base_latency = latency
            else:
                self._base_latency = base + 0.002 * (latency - base)
            if self._base_latency > 0 and self._fast_latency > factor * self._base_latency:
                before = self._last_decrease
                self._decrease(now, f"latency {self._fast_latency:.3g} s > {factor:g}x baseline")
                if self._last_decrease != before:
                    # Judge the next window afresh rather than on the latencies that caused this one.
                    self._fast_latency = self._base_latency
                    return
        if not self.limits.adaptive or not binding or now - self._last_decrease < self.limits.cooldown:
            return
        before = self.limit
        self._limit = min(float(self.limits.max_running), self._limit + self.limits.increase / self._limit)
        if self.limit > before:
            self._emit("increase", "successes at the limit")

    # -- provider headers ---------------------------------------------------------------------------

    def observe_headers(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn budgets from a response's rate-limit headers (any status).

        A ``*-limit`` header seeds a budget the caller did not set (once, and again if the provider
        changes it); a ``*-remaining`` header lowers the bucket to what the provider says is left.
        """
        if not self.limits.from_headers:
            return
        now = trio.current_time()
        for limit_name, remaining_name, bucket_name in _BUDGET_HEADERS:
            limit = _number(headers, limit_name)
            bucket = self._buckets.get(bucket_name)
            if limit is not None and limit > 0:
                if bucket is None:
                    bucket = self._buckets[bucket_name] = _Bucket(limit, now, seeded=True)
                    self._emit("seed", f"{bucket_name}={limit:g} from {limit_name}")
                elif bucket.seeded and bucket.capacity != limit:
                    bucket.refill(now)
                    bucket.set_capacity(limit)
                    self._emit("seed", f"{bucket_name}={limit:g} from {limit_name}")
            remaining = _number(headers, remaining_name)
            if bucket is not None and remaining is not None:
                bucket.refill(now)
                bucket.level = min(bucket.level, remaining)
        self._wake()


def endpoint_key(model: Model) -> str:
    """The admission key of a model: its system and base URL, plus a fingerprint of its API key.

    Wrappers (retrying, instrumented, ...) are looked through. The fingerprint is a truncated SHA-256,
    so the key itself never appears.
    """
    inner = model
    while isinstance(inner, WrapperModel):
        inner = inner.wrapped
    base = inner.base_url or inner.model_id
    key = f"{inner.system}@{base}"
    if isinstance(inner, HTTPModel) and inner.provider.api_key:
        fingerprint = hashlib.sha256(inner.provider.api_key.encode()).hexdigest()[:10]
        key += f"#{fingerprint}"
    return key


_REGISTRY: trio.lowlevel.RunVar[dict[str, AdmissionController]] = trio.lowlevel.RunVar(
    "trio_direct_admission"
)


def admission_for(model: Model, limits: Limits | None = None) -> AdmissionController:
    """The shared :class:`AdmissionController` of ``model``'s endpoint and key in this ``trio.run``.

    The first caller's ``limits`` configure it; later callers share it as it is (their ``limits`` are
    ignored), so every part of the program that opts in stays within one budget.
    """
    try:
        registry = _REGISTRY.get()
    except LookupError:
        registry = dict[str, AdmissionController]()
        _REGISTRY.set(registry)
    key = endpoint_key(model)
    controller = registry.get(key)
    if controller is None:
        controller = registry[key] = AdmissionController(limits, key=key)
    return controller
