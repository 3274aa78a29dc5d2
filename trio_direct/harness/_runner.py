"""The runner: many items through admission control, retries, cache and journal, outcomes as they finish.

Structure (all inside one nursery that :class:`BatchRun` owns)::

    items ─► reader ─► [bounded channel: max_queued] ─► dispatcher ─► a task per admitted item
                 │                                          │          (attempts: admission, request)
                 └── resumed (journal) ──┬── cache hits ────┘                      │
                                         ▼                                         ▼
                                    [outcomes channel] ◄───────────────────────────┘ ─► caller

The reader stops pulling from the item source when ``max_queued`` items wait for admission, so an
item source (a file, a generator, a database cursor) is read only as fast as requests are sent. The
dispatcher admits items one at a time in order (see :mod:`._limits`); a spawned item task makes its
attempts through the run's :class:`~trio_direct.retries.RetryPolicy` (every attempt is admitted
again, so retries count against the budgets) and sends exactly one :class:`Outcome`, after the
journal has recorded it.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sized
from contextlib import AsyncExitStack
from decimal import Decimal
from types import TracebackType
from typing import Any, cast, final

import attrs
import orjson
import trio

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._portal import AsyncContextHandle, get_portal
from ..exceptions import TrioDirectError, UserError
from ..messages import ModelMessage, ModelResponse
from ..models import Model, infer_model
from ..models._instructions import with_instructions
from ..retries import RetryAttempt, RetryPolicy
from ..serialization import messages_to_json
from ..tools import ModelRequestParameters
from ._cache import ResponseCache, request_key
from ._items import BudgetExceededError, CostFunction, Item, Outcome, OutcomeSource, default_cost
from ._journal import Journal
from ._limits import AdmissionController, LimiterEvent, Limits, Ticket, TokenEstimate, admission_for
from ._progress import Progress, ProgressTracker, Summary
from ._tracing import Tracer

__all__ = ["DEFAULT_RETRY", "BatchRun", "BatchRunSync", "run_batch", "run_batch_sync"]

logger = logging.getLogger("trio_direct.harness")

#: The retry policy of a run unless given: more patient than a single call's, since a harness
#: would rather wait out a rate limit than lose an item.
DEFAULT_RETRY = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=120.0)


def _estimate(messages: tuple[ModelMessage, ...], item: Item, limits: Limits) -> TokenEstimate:
    """A pre-send token estimate: about 4 bytes of JSON per input token, ``max_tokens`` for output."""
    size = len(messages_to_json(messages))
    params = item.model_request_parameters
    if params is not None and params.function_tools:
        size += sum(len(orjson.dumps(t.parameters_json_schema)) for t in params.function_tools)
    max_tokens = (item.model_settings or {}).get("max_tokens")
    output = max_tokens if isinstance(max_tokens, int) else limits.output_tokens_estimate
    return TokenEstimate(max(1, size // 4), output)


def _unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) one-member exception groups from our own nurseries."""
    current: BaseException = exc
    while isinstance(current, BaseExceptionGroup):
        members = cast("tuple[BaseException, ...]", current.exceptions)  # pyright: ignore[reportUnknownMemberType]
        if len(members) != 1:
            break
        current = members[0]
    return current  # pyright: ignore[reportUnknownVariableType]


@final
class BatchRun:
    """A running job: iterate it for :class:`Outcome`\\ s as items finish. Build it with :func:`run_batch`.

    ``async with run_batch(items, ...) as run: async for outcome in run: ...``. Leaving the block
    early cancels whatever is still running (requests in flight are lost, never half-recorded).
    """

    def __init__(
        self,
        items: Iterable[Item] | AsyncIterable[Item],
        *,
        model: Model | str | None,
        limits: Limits | None,
        retry: RetryPolicy | None,
        journal: Journal | str | None,
        rerun_failed: bool,
        cache: ResponseCache | str | None,
        cache_ttl: float | None,
        token_budget: int | None,
        cost_budget: Decimal | float | None,
        cost: CostFunction,
        on_progress: Callable[[Progress], None] | None,
        progress_interval: float,
        on_limiter_event: Callable[[LimiterEvent], None] | None,
        instrument: bool,
        total: int | None,
        shared_admission: bool,
    ) -> None:
        if token_budget is not None and token_budget <= 0:
            raise UserError(f"token_budget must be positive, not {token_budget!r}")
        if cost_budget is not None and not float(cost_budget) > 0:
            raise UserError(f"cost_budget must be positive, not {cost_budget!r}")
        if not (progress_interval > 0 and math.isfinite(progress_interval)):
            raise UserError(
                f"progress_interval must be a positive number of seconds, not {progress_interval!r}"
            )
        self._items = items
        self._default_model = model
        self.limits: Limits = limits if limits is not None else Limits()
        retry = retry if retry is not None else DEFAULT_RETRY
        user_on_retry = retry.on_retry

        def on_retry(attempt: RetryAttempt) -> None:
            self._tracer.retry(attempt)
            if user_on_retry is not None:
                user_on_retry(attempt)

        self._retry = attrs.evolve(retry, on_retry=on_retry)
        self._journal_arg = journal
        self._rerun_failed = rerun_failed
        self._cache_arg = cache
        self._cache_ttl = cache_ttl
        self._token_budget = token_budget
        self._cost_budget = Decimal(str(cost_budget)) if cost_budget is not None else None
        self._cost = cost
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._on_limiter_event = on_limiter_event
        self._tracer = Tracer(enabled=instrument)
        self._instrument = instrument
        self._shared = shared_admission
        if total is None and isinstance(items, Sized):
            total = len(items)
        self._total = total
        self._models: dict[int | str, tuple[Model, AdmissionController]] = {}
        self._first_controller: AdmissionController | None = None
        self._stack: AsyncExitStack | None = None
        self._cancel_scope = trio.CancelScope()
        self._reader_scope = trio.CancelScope()
        self._stopping = False
        self._entered = False
        self.journal: Journal | None = None
        self.cache: ResponseCache | None = None
        self.tracker: ProgressTracker | None = None
        self.in_flight = 0
        self._pending: trio.MemoryReceiveChannel[Item] | None = None
        self.outcomes: trio.MemoryReceiveChannel[Outcome]
        self._send: trio.MemorySendChannel[Outcome]

    # -- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> BatchRun:
        if self._entered:
            raise UserError("a BatchRun can be entered only once; call run_batch() again")
        self._entered = True
        stack = AsyncExitStack()
        try:
            if isinstance(self._journal_arg, Journal):
                self.journal = self._journal_arg
            elif self._journal_arg is not None:
                self.journal = stack.enter_context(Journal(self._journal_arg))
            if isinstance(self._cache_arg, ResponseCache):
                self.cache = self._cache_arg
            elif self._cache_arg is not None:
                self.cache = stack.enter_context(ResponseCache(self._cache_arg, ttl=self._cache_ttl))
            if self._default_model is not None:
                self._resolve(self._default_model)
            self.tracker = ProgressTracker(total=self._total, clock=trio.current_time)
            self._send, self.outcomes = trio.open_memory_channel[Outcome](self.limits.max_queued)
            nursery = await stack.enter_async_context(trio.open_nursery())
            nursery.start_soon(self._main)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        stack = self._stack
        if stack is None:  # pragma: no cover - __aenter__ failed
            return None
        self._stack = None
        if self.tracker is not None:
            self.tracker.finish()
        # Leaving the block early (break, an error) cancels what is left; after a full iteration
        # nothing is left and this is a no-op.
        self._cancel_scope.cancel()
        with contextlib.suppress(trio.ClosedResourceError):
            self.outcomes.close()
        try:
            await stack.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:  # pyright: ignore[reportUnknownVariableType]
            raise _unwrap(group) from None  # pyright: ignore[reportUnknownArgumentType]
        finally:
            for controller in {id(c): c for _, c in self._models.values()}.values():
                controller.remove_listener(self._limiter_event)
        return None

    def __aiter__(self) -> BatchRun:
        return self

    async def __anext__(self) -> Outcome:
        try:
            return await self.outcomes.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def stop(self) -> None:
        """Stop admitting items; those in flight finish and are delivered, then iteration ends.

        Items not started are not recorded, so running the job again with the journal resumes them.
        Idempotent; safe to call from a signal-handling task.
        """
        if not self._stopping:
            self._stopping = True
            if self.tracker is not None and self.tracker.stopped is None and self.tracker.ended is None:
                self.tracker.stopped = "stopped by the caller"
            self._reader_scope.cancel()

    def cancel(self) -> None:
        """Cancel everything now, requests in flight included; iteration ends after what was delivered."""
        self.stop()
        if self.tracker is not None and self.tracker.ended is None:
            self.tracker.stopped = "cancelled by the caller"
        self._cancel_scope.cancel()

    def progress(self) -> Progress:
        """A snapshot of the run now."""
        assert self.tracker is not None, "the run has not started"
        pending = self._pending
        queued = pending.statistics().current_buffer_used if pending is not None else 0
        return self.tracker.snapshot(in_flight=self.in_flight, queued=queued, limit=self._limit_now())

    def summary(self) -> Summary:
        """The summary of the items finished so far (the whole run, once iteration has ended)."""
        assert self.tracker is not None, "the run has not started"
        return self.tracker.summary()

    @property
    def admission(self) -> AdmissionController | None:
        """The admission controller of the run's (first) model."""
        return self._first_controller

    # -- the work -------------------------------------------------------------------------------------

    def _limiter_event(self, event: LimiterEvent) -> None:
        self._tracer.limiter(event)
        if self._on_limiter_event is not None:
            self._on_limiter_event(event)

    def _resolve(self, model: Model | str) -> tuple[Model, AdmissionController]:
        key: int | str = model if isinstance(model, str) else id(model)
        found = self._models.get(key)
        if found is None:
            resolved = infer_model(model)
            if self._shared:
                controller = admission_for(resolved, self.limits)
            else:
                controller = AdmissionController(self.limits, key=resolved.model_id)
            controller.add_listener(self._limiter_event)
            found = self._models[key] = (resolved, controller)
            if self._first_controller is None:
                self._first_controller = controller
        return found

    async def _main(self) -> None:
        # Everything runs under the run's own cancel scope, so cancel() stops the work without
        # touching the caller's task, which holds the outer nursery.
        pending_send, pending_receive = trio.open_memory_channel[Item](self.limits.max_queued)
        self._pending = pending_receive
        # Channels are closed with the sync `with` (no checkpoint): an `async with` close would
        # checkpoint while an error unwinds, and a cancel arriving there would replace the error.
        with self._cancel_scope, self._send as send:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._reader, pending_send, send.clone())
                progress_scope = trio.CancelScope()
                nursery.start_soon(self._report_progress, progress_scope)
                async with trio.open_nursery() as items_nursery:
                    await self._dispatch(pending_receive, send, items_nursery)
                progress_scope.cancel()
        if self.tracker is not None:
            self.tracker.finish()
        if self._on_progress is not None and self.tracker is not None:
            self._on_progress(
                self.tracker.snapshot(in_flight=0, queued=0, limit=self._limit_now(), finished=True)
            )

    def _limit_now(self) -> int | None:
        controller = self._first_controller
        return controller.limit if controller is not None else None

    async def _report_progress(self, scope: trio.CancelScope) -> None:
        if self._on_progress is None:
            return
        with scope:
            while True:
                await trio.sleep(self._progress_interval)
                self._on_progress(self.progress())

    async def _reader(
        self, pending: trio.MemorySendChannel[Item], send: trio.MemorySendChannel[Outcome]
    ) -> None:
        """Read items into ``pending``; deliver resumed ones directly; stop on stop() or exhaustion."""
        journal = self.journal
        finished = (
            journal.finished_ids(include_failed=not self._rerun_failed) if journal is not None else set[str]()
        )
        seen: set[str] = set()
        with pending, send, self._reader_scope, contextlib.suppress(trio.BrokenResourceError):
            # BrokenResourceError: the dispatcher stopped (a budget, stop()) and closed its end.
            async for item in _aiter(self._items):
                if not isinstance(item, Item):  # pyright: ignore[reportUnnecessaryIsInstance]
                    raise UserError(f"run_batch() takes Item objects, not {type(item).__name__}")
                if item.id in seen:
                    raise UserError(f"item id {item.id!r} appears twice in the job; ids must be unique")
                seen.add(item.id)
                if item.id in finished:
                    assert journal is not None
                    outcome = journal.get(item.id)
                    if outcome is not None:
                        await self._deliver(send, outcome, record=False)
                        continue
                await pending.send(item)

    def _budget_reached(self) -> BudgetExceededError | None:
        tracker = self.tracker
        assert tracker is not None
        if self._token_budget is not None and tracker.spent_tokens >= self._token_budget:
            return BudgetExceededError("tokens", self._token_budget, tracker.spent_tokens)
        if self._cost_budget is not None and tracker.spent_cost >= self._cost_budget:
            return BudgetExceededError("cost", float(self._cost_budget), float(tracker.spent_cost))
        return None

    def _should_stop(self) -> bool:
        """Whether admission must stop: stop() was called, or a budget was reached (then stop)."""
        if self._stopping:
            return True
        if (reached := self._budget_reached()) is not None:
            assert self.tracker is not None
            self.tracker.stopped = str(reached)
            logger.warning("%s", reached)
            self.stop()
            return True
        return False

    async def _dispatch(
        self,
        pending: trio.MemoryReceiveChannel[Item],
        send: trio.MemorySendChannel[Outcome],
        nursery: trio.Nursery,
    ) -> None:
        with pending:
            async for item in pending:
                if self._should_stop():
                    break
                model_ref = item.model if item.model is not None else self._default_model
                if model_ref is None:
                    raise UserError(f"item {item.id!r} names no model and run_batch() was given none")
                try:
                    model, controller = self._resolve(model_ref)
                except UserError as exc:  # an unknown model or a missing key fails this item alone
                    await self._deliver(
                        send,
                        Outcome(item_id=item.id, error=exc, metadata=item.metadata, model_id=str(model_ref)),
                    )
                    continue
                params = with_instructions(
                    item.messages, item.model_request_parameters or ModelRequestParameters()
                )
                key: str | None = None
                if self.cache is not None:
                    key = request_key(model.model_id, item.messages, item.model_settings, params)
                    cached = self.cache.get(key)
                    if cached is not None:
                        await self._deliver(send, self._outcome(item, model, cached, None, "cache", 0, 0.0))
                        continue
                estimate = (
                    _estimate(item.messages, item, self.limits)
                    if controller.needs_token_estimates
                    else TokenEstimate(0, 0)
                )
                ticket = await controller.acquire(estimate)
                if self._should_stop():  # decided while this item waited for admission
                    controller.abandon(ticket)
                    break
                self.in_flight += 1
                nursery.start_soon(
                    self._run_item, item, model, controller, params, estimate, ticket, key, send.clone()
                )

    def _outcome(
        self,
        item: Item,
        model: Model,
        response: ModelResponse | None,
        error: BaseException | None,
        source: OutcomeSource,
        attempts: int,
        latency: float,
    ) -> Outcome:
        cost = None
        if response is not None:
            try:
                value = self._cost(response)
            except Exception:  # a pricing bug must not lose the response
                logger.exception("the cost function failed for item %r", item.id)
                value = None
            cost = value if isinstance(value, Decimal) or value is None else Decimal(str(value))
        return Outcome(
            item_id=item.id,
            response=response,
            error=error,
            source=source,
            attempts=attempts,
            latency=latency,
            usage=response.usage if response is not None else Outcome(item_id=item.id).usage,
            cost=cost,
            model_id=model.model_id,
            metadata=item.metadata,
        )

    async def _deliver(
        self, send: trio.MemorySendChannel[Outcome], outcome: Outcome, *, record: bool = True
    ) -> None:
        if record and self.journal is not None:
            self.journal.record(outcome)
        assert self.tracker is not None
        self.tracker.add(outcome)
        await send.send(outcome)

    async def _run_item(
        self,
        item: Item,
        model: Model,
        controller: AdmissionController,
        params: ModelRequestParameters,
        estimate: TokenEstimate,
        first_ticket: Ticket | None,
        cache_key: str | None,
        send: trio.MemorySendChannel[Outcome],
    ) -> None:
        attempts = 0
        ticket = first_ticket
        started = trio.current_time()
        messages = list(item.messages)
        counted = True  # the dispatcher counted the first attempt as in flight

        async def attempt() -> ModelResponse:
            nonlocal attempts, ticket, counted
            current = ticket if ticket is not None else await controller.acquire(estimate)
            ticket = None
            if not counted:
                self.in_flight += 1
            counted = False
            attempts += 1
            token = _http.observe_responses(controller.observe_headers)
            try:
                with self._tracer.attempt(model, attempts) as span:
                    response = await model.request(messages, item.model_settings, params)
                    span.response(response)
            except BaseException as exc:
                controller.release(current, error=exc)
                raise
            finally:
                _http.stop_observing(token)
                self.in_flight -= 1
            controller.release(current, usage=response.usage)
            return response

        with send, self._tracer.item(item, model) as span:
            try:
                response = await self._retry.call(attempt)
            except Exception as exc:
                if not isinstance(exc, TrioDirectError):
                    logger.debug("item %r failed with a non-library error", item.id, exc_info=exc)
                outcome = self._outcome(
                    item, model, None, exc, "live", attempts, trio.current_time() - started
                )
            else:
                if cache_key is not None and self.cache is not None:
                    self.cache.put(cache_key, response)
                outcome = self._outcome(
                    item, model, response, None, "live", attempts, trio.current_time() - started
                )
            finally:
                if ticket is not None:  # cancelled before the first attempt began
                    controller.abandon(ticket)
                    self.in_flight -= 1
            span.finish(outcome)
            await self._deliver(send, outcome)


def _aiter(items: Iterable[Item] | AsyncIterable[Item]) -> AsyncIterable[Item]:
    # Not an async generator: a small adapter class, so nothing yields inside a cancel scope.
    if isinstance(items, AsyncIterable):
        return items  # pyright: ignore[reportUnknownVariableType]
    return _SyncItems(iter(items))


@final
class _SyncItems:
    """An async iterator over a sync iterable that checkpoints between items."""

    def __init__(self, it: Iterator[Item]) -> None:
        self._it = it

    def __aiter__(self) -> _SyncItems:
        return self

    async def __anext__(self) -> Item:
        await trio.lowlevel.checkpoint()
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration from None


def run_batch(
    items: Iterable[Item] | AsyncIterable[Item],
    *,
    model: Model | str | None = None,
    limits: Limits | None = None,
    retry: RetryPolicy | None = None,
    journal: Journal | str | None = None,
    rerun_failed: bool = True,
    cache: ResponseCache | str | None = None,
    cache_ttl: float | None = None,
    token_budget: int | None = None,
    cost_budget: Decimal | float | None = None,
    cost: CostFunction = default_cost,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 1.0,
    on_limiter_event: Callable[[LimiterEvent], None] | None = None,
    instrument: bool = False,
    total: int | None = None,
    shared_admission: bool = True,
) -> BatchRun:
    """Run many requests: ``async with run_batch(items, model=...) as run: async for outcome in run``.

    Each item ends in exactly one :class:`Outcome` (its response or its typed error — one item's
    failure never stops the others), delivered as soon as it finishes and after the journal (if any)
    has recorded it.

    Args:
        items: :class:`Item` objects, from a sync or async iterable; read lazily, at most
            ``limits.max_queued`` ahead of admission. Ids must be unique.
        model: the model of items that name none.
        limits: admission control (:class:`Limits`): concurrency (adaptive by default), RPM/TPM.
        retry: the retry policy applied to each item; each attempt is admitted again. Default
            :data:`DEFAULT_RETRY` (6 attempts, waits up to 120 s, honouring ``Retry-After``).
        journal: a :class:`Journal` or a path: finished items are recorded there and skipped (their
            recorded outcome delivered with ``source='journal'``) when the job runs again.
        rerun_failed: on a re-run, run again the items the journal holds as failed (default) rather
            than deliver their recorded errors.
        cache: a :class:`ResponseCache` or a path: identical requests are answered from it.
        cache_ttl: seconds a cache entry stays valid (with a path ``cache``).
        token_budget: stop admitting items once this run's requests used this many tokens (input +
            output; cache hits and resumed items do not count).
        cost_budget: stop admitting items once this run's requests cost this much.
        cost: prices a response; default :func:`default_cost` (``response.cost()`` where available).
        on_progress: called with a :class:`Progress` every ``progress_interval`` seconds and at the
            end (pass a :class:`LiveLine` for a live line on a terminal).
        on_limiter_event: called with each :class:`LimiterEvent` of the run's admission controllers.
        instrument: OpenTelemetry spans per item and per attempt (needs ``opentelemetry-api``).
        total: the number of items, for the ETA (taken from ``len(items)`` when it has one).
        shared_admission: share the admission controller of each endpoint and key with everything
            else in this ``trio.run`` that opts in (default); False gives this run its own.

    Raises:
        UserError: a bad argument (at call time), an item that is not an :class:`Item`, a duplicate
            id, or an item with no model (from iteration).

    Cancellation:
        The run is an async context manager that owns its tasks. Leaving the block (normally, by
        ``break``, by an exception or by cancellation) cancels everything still running; nothing is
        half-recorded. :meth:`BatchRun.stop` stops admitting and lets in-flight items finish.
    """
    return BatchRun(
        items,
        model=model,
        limits=limits,
        retry=retry,
        journal=journal,
        rerun_failed=rerun_failed,
        cache=cache,
        cache_ttl=cache_ttl,
        token_budget=token_budget,
        cost_budget=cost_budget,
        cost=cost,
        on_progress=on_progress,
        progress_interval=progress_interval,
        on_limiter_event=on_limiter_event,
        instrument=instrument,
        total=total,
        shared_admission=shared_admission,
    )


@final
class BatchRunSync:
    """:func:`run_batch` from sync code: ``with run_batch_sync(items, ...) as run: for outcome in run``.

    The run lives in the process's portal thread; outcomes are fetched in batches. Leaving the
    ``with`` block cancels what is still running.
    """

    def __init__(self, run: BatchRun) -> None:
        self._run = run
        self._handle: AsyncContextHandle[BatchRun] | None = None

    def __enter__(self) -> BatchRunSync:
        self._handle = get_portal().enter_async_context(
            self._run, api_name="run_batch_sync()", async_alternative="async with run_batch(...)"
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            get_portal().run_sync(self._run.cancel)
            handle.exit(exc)

    def __iter__(self) -> Iterator[Outcome]:
        if self._handle is None:
            raise UserError("iterate a run_batch_sync() inside its `with` block")
        return iter_outcomes(self._run.outcomes, "run_batch_sync()")

    def stop(self) -> None:
        """:meth:`BatchRun.stop`, from sync code."""
        get_portal().run_sync(self._run.stop)

    def summary(self) -> Summary:
        """:meth:`BatchRun.summary`, from sync code."""
        return get_portal().run_sync(self._run.summary)


def run_batch_sync(items: Iterable[Item], **options: Any) -> BatchRunSync:
    """:func:`run_batch` for sync code, through the portal; takes the same keyword arguments.

    ``items`` is read in the portal thread, so it must not depend on the calling thread.

    Raises:
        UserError: as :func:`run_batch`.
        RuntimeError: (from ``with``) used inside ``trio.run``; use ``async with run_batch(...)``.
    """
    return BatchRunSync(run_batch(items, **options))


def iter_outcomes(channel: trio.MemoryReceiveChannel[Outcome], api_name: str) -> Iterator[Outcome]:
    """From sync code, the outcomes a portal-side run sends, in batches, until the channel ends.

    The one sync reader of a run's outcome channel (live runs and provider batch runs alike).

    One cheap ``run_sync`` round trip takes every outcome already buffered; only when none is does a
    portal task wait for the next one (and take what arrived with it).

    Raises:
        PortalClosedError: the portal was shut down while waiting.
    """
    portal = get_portal()
    while True:
        batch, ended = portal.run_sync(_drain_nowait, channel)
        if not batch and not ended:
            batch, ended = portal.run(_wait_then_drain, channel, api_name=api_name)
        yield from batch
        if ended:
            return


def _drain_nowait(channel: trio.MemoryReceiveChannel[Outcome]) -> tuple[list[Outcome], bool]:
    batch: list[Outcome] = []
    try:
        while True:
            batch.append(channel.receive_nowait())
    except trio.WouldBlock:
        return batch, False
    except (trio.EndOfChannel, trio.ClosedResourceError):
        return batch, True


async def _wait_then_drain(channel: trio.MemoryReceiveChannel[Outcome]) -> tuple[list[Outcome], bool]:
    try:
        first = await channel.receive()
    except (trio.EndOfChannel, trio.ClosedResourceError):
        return [], True
    batch, ended = _drain_nowait(channel)
    batch.insert(0, first)
    return batch, ended
