"""Opt-in retries: a :class:`RetryPolicy` and :class:`RetryingModel`, the model that applies it.

Nothing in trio_direct retries on its own. Wrap a model to retry what is safe to retry::

    from trio_direct import ModelRequest, model_request
    from trio_direct.retries import RetryingModel, RetryPolicy

    model = RetryingModel("openai:gpt-4o", RetryPolicy(max_attempts=4, max_delay=20))
    with trio.fail_after(60):  # the total deadline, across every attempt and every wait
        response = await model_request(model, [ModelRequest.user_text_prompt("Hi!")])

What is retried (:func:`is_retryable`, the default ``retry_on``):

* rate limits (429, :class:`ModelRateLimitError`) but not exhausted quotas (:class:`ModelQuotaExceededError`);
* server errors (5xx), unavailable (503) and overloaded (529) providers, and 408/409;
* connection failures before the request was sent (``phase`` ``'pool'`` or ``'connect'``);
* whatever the provider's ``x-should-retry`` header says, when it says it.

Never retried: rejected requests (4xx), errors after the request may have reached the provider
(connection lost while reading, read timeouts; add them with your own ``retry_on`` if your calls are
idempotent), and a stream that has already been handed to the caller — only the opening of a stream
(connecting, the HTTP status, the first chunk) is retried, so no event is ever seen twice.

How long to wait: when the provider says (``Retry-After``/``retry-after-ms`` on any error; on a rate
limit also OpenAI's and Groq's ``x-ratelimit-reset-*`` and Anthropic's ``anthropic-ratelimit-*-reset``
headers) that wait is honoured exactly; otherwise exponential backoff with jitter. A wait longer than
``max_delay``, or one that would end after the caller's deadline, is not started: the error is
re-raised at once with a note that says why. The waits are ``trio.sleep``, so the caller's cancel
scope bounds everything.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Literal, TypeAlias, TypeVar, TypeVarTuple, Unpack, final

import attrs
import trio

from ._retry_after import reset_wait
from .exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelUnavailableError,
    UserError,
)
from .messages import ModelMessage, ModelResponse
from .models.base import Model, StreamContext, StreamedResponse
from .models.wrapper import WrapperModel
from .settings import ModelSettings
from .tools import ModelRequestParameters

__all__ = [
    "RetryAttempt",
    "RetryOn",
    "RetryPolicy",
    "RetryingModel",
    "WaitSource",
    "is_retryable",
    "provider_wait",
]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

logger = logging.getLogger("trio_direct.retries")

RetryOn: TypeAlias = "type[Exception] | tuple[type[Exception], ...] | Callable[[Exception], bool]"
"""Which errors to retry: exception types, or a predicate ``(exc) -> bool``."""

WaitSource: TypeAlias = Literal["retry-after", "rate-limit-reset", "backoff"]
"""Where a wait came from: the provider's ``Retry-After``, its rate-limit reset headers, or backoff."""

#: Statuses retried even when their category is not (OpenAI's and Anthropic's SDKs retry these too).
_RETRY_STATUSES = frozenset({408, 409})


def is_retryable(exc: Exception) -> bool:
    """The default ``retry_on``: errors that are safe and worth retrying.

    True for rate limits (not exhausted quotas), 5xx/503/529 and 408/409, and connection failures
    before the request was sent (``phase`` ``'pool'``/``'connect'``, timeouts included). A provider's
    ``x-should-retry: true|false`` header overrides all of that.
    """
    if not isinstance(exc, ModelAPIError):
        return False
    if isinstance(exc, ModelHTTPError) and (hint := exc.provider_retry_hint) is not None:
        return hint
    if isinstance(exc, ModelQuotaExceededError):
        return False
    if isinstance(exc, ModelRateLimitError | ModelServerError | ModelUnavailableError):
        return True
    if isinstance(exc, ModelHTTPError):
        return exc.status_code in _RETRY_STATUSES
    if isinstance(exc, ModelConnectionError):
        return exc.phase in ("pool", "connect")
    return False


# ---------------------------------------------------------------------------------------------
# What the provider asks for
# ---------------------------------------------------------------------------------------------


def provider_wait(exc: Exception, *, now: float | None = None) -> tuple[float, WaitSource] | None:
    """How long the provider asked us to wait before retrying ``exc``, and how it said so.

    ``exc.retry_after`` (``retry-after-ms`` or ``Retry-After``, seconds or an HTTP date) on any
    :class:`ModelAPIError`; for a rate limit without it, the reset headers (see ``_retry_after.reset_wait``).
    None when the provider did not say.

    Args:
        now: the wall-clock time (``time.time()``) to measure absolute reset times against.
    """
    if not isinstance(exc, ModelAPIError):
        return None
    if exc.retry_after is not None:
        return exc.retry_after, "retry-after"
    if isinstance(exc, ModelHTTPError) and exc.headers and isinstance(exc, ModelRateLimitError):
        wait = reset_wait(exc.headers, time.time() if now is None else now)
        if wait is not None:
            return wait, "rate-limit-reset"
    return None


# ---------------------------------------------------------------------------------------------
# The policy
# ---------------------------------------------------------------------------------------------


@final
@attrs.frozen(slots=True)
class RetryAttempt:
    """What :attr:`RetryPolicy.on_retry` is told before each wait.

    Attributes:
        attempt: the attempt that failed (1 for the first).
        error: its error.
        wait: seconds about to be slept before the next attempt.
        source: where the wait came from.
    """

    attempt: int
    error: Exception
    wait: float
    source: WaitSource


def _as_predicate(retry_on: RetryOn) -> Callable[[Exception], bool]:
    if isinstance(retry_on, type | tuple):
        types: type[Exception] | tuple[type[Exception], ...] = retry_on  # pyright: ignore[reportUnknownVariableType]

        def predicate(exc: Exception) -> bool:
            return isinstance(exc, types)

        return predicate
    return retry_on


def _check_policy(policy: RetryPolicy) -> None:
    if policy.max_attempts < 1:
        raise UserError(f"RetryPolicy.max_attempts must be at least 1, not {policy.max_attempts}")
    for name in ("initial_delay", "max_delay"):
        value = getattr(policy, name)
        if not (value >= 0 and math.isfinite(value)):
            raise UserError(f"RetryPolicy.{name} must be a finite number >= 0, not {value!r}")
    if not (policy.multiplier >= 1 and math.isfinite(policy.multiplier)):
        raise UserError(f"RetryPolicy.multiplier must be a finite number >= 1, not {policy.multiplier!r}")
    if not 0 <= policy.jitter <= 1:
        raise UserError(f"RetryPolicy.jitter must be between 0 and 1, not {policy.jitter!r}")


@final
@attrs.frozen(kw_only=True)
class RetryPolicy:
    """When and how long to wait before trying a failed request again.

    Args:
        max_attempts: attempts in all, the first included (1 disables retrying).
        initial_delay: the backoff before the first retry, in seconds.
        multiplier: each further backoff is this many times the previous one.
        max_delay: the longest single wait. Backoff is capped at it; a provider asking for longer
            (``Retry-After``, reset headers) makes the policy give up at once rather than wait.
        jitter: the fraction of each backoff drawn at random: a backoff ``b`` becomes a uniform draw
            from ``[b * (1 - jitter), b]``. 0 is deterministic; 1 is "full jitter". Waits the
            provider asked for are honoured exactly.
        retry_on: which errors to retry: exception types, or a predicate; default :func:`is_retryable`.
        honor_provider_wait: use the provider's ``Retry-After`` and rate-limit reset headers.
        give_up_before_deadline: when the next attempt could only start after the caller's deadline
            (the innermost ``trio.fail_after``/``move_on_after``), re-raise the error now instead of
            sleeping into a ``TooSlowError``.
        on_retry: called with a :class:`RetryAttempt` before each wait (metrics, logging).
        rand: the source of jitter, ``() -> float`` in ``[0, 1)``; for tests.

    Raises:
        UserError: a value out of range.
    """

    max_attempts: int = 3
    initial_delay: float = 0.5
    multiplier: float = 2.0
    max_delay: float = 60.0
    jitter: float = 0.25
    retry_on: RetryOn = attrs.field(default=is_retryable, eq=False)
    honor_provider_wait: bool = True
    give_up_before_deadline: bool = True
    on_retry: Callable[[RetryAttempt], None] | None = attrs.field(default=None, eq=False, repr=False)
    rand: Callable[[], float] = attrs.field(default=random.random, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_policy(self)

    def backoff(self, retry: int) -> float:
        """The jittered backoff before retry number ``retry`` (1 is the first retry)."""
        exponent = max(retry - 1, 0)
        try:
            base = min(self.max_delay, self.initial_delay * self.multiplier**exponent)
        except OverflowError:
            base = self.max_delay
        return base * (1.0 - self.jitter * self.rand())

    def should_retry(self, exc: Exception) -> bool:
        """Whether ``exc`` is one this policy retries (by ``retry_on`` alone)."""
        return _as_predicate(self.retry_on)(exc)

    def wait_for(self, exc: Exception, attempt: int) -> tuple[float, WaitSource] | str:
        """The wait before the attempt after ``attempt`` failed with ``exc``, or why not to retry.

        Returns:
            ``(seconds, source)``, or a sentence saying why the error should be raised now (an empty
            string when the error is simply not retryable).
        """
        if not self.should_retry(exc):
            return ""
        if attempt >= self.max_attempts:
            return f"gave up after {attempt} attempt{'s' if attempt != 1 else ''} (RetryPolicy.max_attempts)"
        asked = provider_wait(exc) if self.honor_provider_wait else None
        if asked is not None and asked[0] > 0:
            wait, source = asked
            if wait > self.max_delay:
                how = "Retry-After" if source == "retry-after" else "its rate-limit reset headers"
                return (
                    f"not retried: the provider asked to wait {wait:.3g} s ({how}), longer than "
                    f"RetryPolicy.max_delay={self.max_delay:g} s"
                )
            return wait, source
        return self.backoff(attempt), "backoff"

    async def call(self, fn: Callable[[Unpack[Ts]], Awaitable[T]], *args: *Ts) -> T:
        """``await fn(*args)``, retried as this policy says.

        Use it for any awaitable unit of work that is safe to repeat as a whole, for example
        reading an entire stream. :class:`RetryingModel` uses it for requests and stream openings.

        Raises:
            Exception: the last attempt's error, unchanged, with notes on earlier attempts and on
                why no further attempt was made.

        Cancellation:
            The waits are ``trio.sleep``; cancelling (a deadline) stops everything at once.
        """
        return await _run(self, lambda: fn(*args), what=getattr(fn, "__qualname__", "call"))


def _summary(exc: Exception) -> str:
    text = str(exc).replace("\n", " ")
    if len(text) > 300:
        text = text[:300] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def _run(policy: RetryPolicy, attempt_fn: Callable[[], Awaitable[T]], *, what: str) -> T:
    """The retry loop: attempt, decide, sleep, until success or a reason to stop."""
    history: list[str] = []  # summaries only: holding the errors would keep their tracebacks alive
    attempt = 1
    wait = 0.0
    while True:
        try:
            return await attempt_fn()
        except Exception as exc:
            decision = policy.wait_for(exc, attempt)
            if isinstance(decision, tuple) and policy.give_up_before_deadline:
                deadline = trio.current_effective_deadline()
                now = trio.current_time()
                if now + decision[0] >= deadline:
                    decision = (
                        f"not retried: the next attempt, after a {decision[0]:.3g} s wait, would start after "
                        f"the caller's deadline (in {max(deadline - now, 0.0):.3g} s)"
                    )
            if isinstance(decision, str):
                if decision or history:
                    _annotate(exc, attempt, history, decision)
                raise
            wait, source = decision
            history.append(f"attempt {attempt}: {_summary(exc)} (then waited {wait:.3g} s, {source})")
            logger.info(
                "%s failed (attempt %d of %d), retrying in %.3g s (%s): %s",
                what,
                attempt,
                policy.max_attempts,
                wait,
                source,
                _summary(exc),
            )
            if policy.on_retry is not None:
                policy.on_retry(RetryAttempt(attempt, exc, wait, source))
        await trio.sleep(wait)
        attempt += 1


def _annotate(exc: Exception, attempt: int, history: list[str], reason: str) -> None:
    lines = [f"trio_direct.retries: attempt {attempt} failed" + (f"; {reason}" if reason else "")]
    if history:
        lines.append("earlier attempts:")
        lines.extend("  " + entry for entry in history)
    exc.add_note("\n".join(lines))


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class RetryingModel(WrapperModel):
    """A model that retries another model's failed requests as a :class:`RetryPolicy` says.

    Requests are retried as a whole; streams only while they are being opened (connecting, the HTTP
    status, the first chunk), before ``async with`` hands the stream over: once the caller may have
    seen an event, the stream's errors are the caller's. Settings and parameters are passed unchanged
    to every attempt, so ``ModelSettings['timeout']`` is a per-attempt inactivity limit; the total
    deadline is the caller's ``trio.fail_after``, which the retries respect.

    Compose it with the other wrappers: ``FallbackModel(RetryingModel(a), RetryingModel(b))`` retries
    each model before falling back.

    Args:
        wrapped: a :class:`~trio_direct.models.Model` or a model name.
        policy: the policy; ``RetryPolicy()`` (3 attempts) by default.
    """

    def __init__(self, wrapped: Model | str, policy: RetryPolicy | None = None) -> None:
        super().__init__(wrapped)
        self.policy: RetryPolicy = policy if policy is not None else RetryPolicy()

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """The wrapped model's request, retried.

        Raises:
            Exception: the last attempt's error, with notes on the earlier ones.

        Cancellation:
            Cancelling stops the attempt in flight or the wait; nothing is retried after it.
        """
        wrapped = self.wrapped

        def attempt() -> Awaitable[ModelResponse]:
            return wrapped.request(messages, model_settings, model_request_parameters)

        return await _run(self.policy, attempt, what=f"request to {wrapped.model_id}")

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """The wrapped model's stream; opening it is retried, the stream itself never."""
        return _RetryingStream(self, messages, model_settings, model_request_parameters)

    def __repr__(self) -> str:
        return f"RetryingModel({self.wrapped!r}, {self.policy!r})"


@final
class _RetryingStream:
    """The stream context of a :class:`RetryingModel`: opens fresh inner streams until one opens."""

    def __init__(
        self,
        model: RetryingModel,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        params: ModelRequestParameters | None,
    ) -> None:
        self._model = model
        self._messages = messages
        self._settings = model_settings
        self._params = params
        self._entered = False
        self._inner: StreamContext | None = None

    async def __aenter__(self) -> StreamedResponse:
        if self._entered:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        self._entered = True
        wrapped = self._model.wrapped

        async def attempt() -> StreamedResponse:
            # A stream context is single-use, so every attempt opens a new one.
            inner = wrapped.request_stream(self._messages, self._settings, self._params)
            stream = await inner.__aenter__()
            self._inner = inner
            return stream

        return await _run(self._model.policy, attempt, what=f"stream from {wrapped.model_id}")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        inner = self._inner
        if inner is None:  # pragma: no cover - __aenter__ raised, so no __aexit__
            return None
        return await inner.__aexit__(exc_type, exc, tb)
