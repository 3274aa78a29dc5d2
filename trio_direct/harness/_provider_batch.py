"""Provider batch mode: the same items as provider batch jobs, at the batch price, same outcomes.

:func:`run_provider_batch` takes the items :func:`~trio_direct.harness.run_batch` takes and submits
them as asynchronous batch jobs (OpenAI Batch API, Anthropic Message Batches, Gemini batch mode),
which every major provider runs within 24 hours at half the live price. Each item's body is built by
the model's live request builder (``prepare_request`` + ``build_request``) and each result is
parsed by its live response parser, so a batch result equals a live one for the same reply; each
response is marked ``provider_details['processing'] = 'batch'`` (as pydantic-ai 2.68 marks it, so
its price is the batch price).

Structure (all inside one nursery that :class:`ProviderBatchRun` owns)::

    items ─► prepare (live builder) ─► group by model+wire ─► split at the provider's limits
                                                                │ submit (job id → journal)
      journal ─ pending job ids of an earlier run ───────────────┤
                                                                ▼
                              a task per job: poll with backoff ─► results ─► live parser
                                                                ▼
                                   [outcomes channel] ◄── journal.record(outcome)

Crash safety: a job's id is committed to the journal as soon as the provider returns it, with the ids
of its items; a run started again with the same journal polls that job instead of submitting its
items again, so nothing is paid twice. The one window is the create call itself: a process killed
after the provider created a job and before its answer arrived submits those items again.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import re
import time
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sized
from contextlib import AsyncExitStack
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, cast, final

import attrs
import trio

from .._portal import AsyncContextHandle, get_portal
from ..exceptions import TrioDirectError, UserError
from ..messages import ModelResponse
from ..models import Model, infer_model
from ..models._instructions import with_instructions
from ..models.base import HTTPModel
from ..retries import RetryPolicy
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ._batch_anthropic import AnthropicBatchWire
from ._batch_gemini import GeminiBatchWire
from ._batch_openai import OpenAIBatchWire
from ._batch_wire import (
    CREATE_RETRY,
    READ_RETRY,
    BatchCanceledError,
    BatchEntry,
    BatchExpiredError,
    BatchJobFailedError,
    BatchResultMissingError,
    BatchWire,
    JobStatus,
    RawResult,
    WireClient,
)
from ._items import CostFunction, Item, Outcome, _as_decimal  # pyright: ignore[reportPrivateUsage]
from ._journal import Journal
from ._progress import Progress, ProgressTracker, Summary
from ._runner import (
    _aiter,  # pyright: ignore[reportPrivateUsage]
    iter_outcomes,
)

__all__ = [
    "BATCH_DISCOUNT",
    "BatchJob",
    "ProviderBatchRun",
    "ProviderBatchRunSync",
    "batch_cost",
    "custom_id_for",
    "is_batch_priced",
    "run_provider_batch",
    "run_provider_batch_sync",
    "wire_for",
]

logger = logging.getLogger("trio_direct.harness")

#: The share of the live price a batch request costs at OpenAI, Anthropic and Google.
BATCH_DISCOUNT: Final = Decimal("0.5")

_JOB_KEY: Final = "provider_batch:"
_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def is_batch_priced(response: ModelResponse) -> bool:
    """Whether ``response`` was processed in a provider batch (``provider_details['processing']``,
    or whatever else :meth:`ModelResponse.price_context` counts as the batch tier)."""
    return response.price_context().get("processing") == "batch"


def batch_cost(response: ModelResponse) -> Decimal | None:
    """The price of a batch-processed response: the batch price.

    ``response.cost()`` (genai-prices, the ``prices`` extra) selects the batch price itself, from
    the ``processing: 'batch'`` mark. Without it (not installed, or a model it does not know), the
    live price the response carries (``usage.cost``) times :data:`BATCH_DISCOUNT`. A cost function
    of your own sees the same mark through :func:`is_batch_priced`.
    """
    try:
        value = response.cost()
    except (UserError, LookupError, ValueError):  # no price list, or not in it
        value = None
    if value is not None:
        return _as_decimal(getattr(value, "total_price", value))
    live = response.usage.cost
    if live is None or not is_batch_priced(response):
        return live
    return live * BATCH_DISCOUNT


def custom_id_for(item_id: str) -> str:
    """The ``custom_id`` of an item in a job: its id when every provider accepts it, else a hash of it.

    Anthropic accepts 1-64 of ``[a-zA-Z0-9_-]``; any other id becomes ``h-`` and 40 hex digits of its
    SHA-256, the same in every run, so a resumed job finds its items again.
    """
    if _CUSTOM_ID.fullmatch(item_id):
        return item_id
    return "h-" + hashlib.sha256(item_id.encode()).hexdigest()[:40]


def wire_for(model: Model, url: str) -> BatchWire:
    """The batch wire of ``model``, whose live non-streamed request goes to ``url``.

    Raises:
        UserError: the model's provider has no batch API trio_direct speaks.
    """
    # Imported here: the harness can be imported without loading every provider module.
    from ..models.anthropic import AnthropicModel
    from ..models.google import GoogleModel
    from ..models.openai import OpenAIChatModel
    from ..models.openai_responses import OpenAIResponsesModel

    if isinstance(model, OpenAIResponsesModel):
        return OpenAIBatchWire(model.provider.base_url, "/v1/responses")
    if isinstance(model, OpenAIChatModel):
        return OpenAIBatchWire(model.provider.base_url, "/v1/chat/completions")
    if isinstance(model, AnthropicModel):
        return AnthropicBatchWire(model.provider.base_url)
    if isinstance(model, GoogleModel):
        match = re.fullmatch(r"(.*)/v1beta/(.+):generateContent", url.split("?", 1)[0])
        if match is None:
            raise UserError(
                f"{model.model_id!r}: Gemini batch mode is only offered by the Gemini API, not by Vertex AI "
                "(which runs batch prediction from Cloud Storage or BigQuery); run the items live instead"
            )
        return GeminiBatchWire(match[1], match[2])
    raise UserError(
        f"{model.model_id!r} has no provider batch API trio_direct speaks (OpenAI, Anthropic and Gemini do); "
        "run the items with run_batch() instead"
    )


@attrs.define
class _Prepared:
    item: Item
    model: HTTPModel
    settings: ModelSettings
    params: ModelRequestParameters
    entry: BatchEntry


@final
@attrs.define
class BatchJob:
    """A provider batch job of the run, as far as it has got.

    Attributes:
        batch_id: the provider's job id.
        wire: ``'openai'``, ``'anthropic'`` or ``'gemini'``.
        model_id: the model its requests are for.
        item_ids: the items it holds.
        state: the provider's last word on it (``'in_progress'``, ``'ended'``, ...).
        done: requests it has finished, as the provider says.
        resumed: it was submitted by an earlier run and found in the journal.
        submitted_at: when it was submitted (``time.time()``).
    """

    batch_id: str
    wire: str
    model_id: str
    item_ids: list[str]
    state: str = "submitted"
    done: int = 0
    resumed: bool = False
    submitted_at: float = attrs.field(factory=time.time)

    @property
    def ended(self) -> bool:
        """True once its results have been collected."""
        return self.state == "collected"


def _poll_delay(polls: int, first: float, most: float) -> float:
    # Starts at `first`, grows by half each poll, up to `most` (pydantic-ai 2.68's schedule).
    return min(first * 1.5 ** min(polls, 200), most)


@final
class ProviderBatchRun:
    """A running provider batch job: iterate it for :class:`Outcome`\\ s as jobs finish.

    Build it with :func:`run_provider_batch`. Leaving the block early stops polling; jobs already
    submitted keep running at the provider and are collected by the next run with the same journal.
    """

    def __init__(
        self,
        items: Iterable[Item] | AsyncIterable[Item],
        *,
        model: Model | str | None,
        journal: Journal | str | None,
        rerun_failed: bool,
        poll_interval: float,
        max_poll_interval: float,
        max_requests_per_job: int | None,
        max_bytes_per_job: int | None,
        cost: CostFunction,
        on_progress: Callable[[Progress], None] | None,
        progress_interval: float,
        on_job: Callable[[BatchJob], None] | None,
        total: int | None,
        read_retry: RetryPolicy,
        create_retry: RetryPolicy,
    ) -> None:
        for name, value in (
            ("poll_interval", poll_interval),
            ("max_poll_interval", max_poll_interval),
            ("progress_interval", progress_interval),
        ):
            if not (value > 0 and math.isfinite(value)):
                raise UserError(f"{name} must be a positive number of seconds, not {value!r}")
        if max_poll_interval < poll_interval:
            raise UserError("max_poll_interval must not be shorter than poll_interval")
        for name, limit in (
            ("max_requests_per_job", max_requests_per_job),
            ("max_bytes_per_job", max_bytes_per_job),
        ):
            if limit is not None and limit <= 0:
                raise UserError(f"{name} must be positive, not {limit!r}")
        self._items = items
        self._default_model = model
        self._journal_arg = journal
        self._rerun_failed = rerun_failed
        self._poll_interval = poll_interval
        self._max_poll_interval = max_poll_interval
        self._max_requests = max_requests_per_job
        self._max_bytes = max_bytes_per_job
        self._cost = cost
        self._on_progress = on_progress
        self._progress_interval = progress_interval
        self._on_job = on_job
        self._read_retry = read_retry
        self._create_retry = create_retry
        if total is None and isinstance(items, Sized):
            total = len(items)
        self._total = total
        self._models: dict[int | str, Model] = {}
        self._stack: AsyncExitStack | None = None
        self._cancel_scope = trio.CancelScope()
        self._entered = False
        self._stopping = False
        self._nursery: trio.Nursery | None = None
        self._jobs_nursery: trio.Nursery | None = None
        self._wires: dict[str, tuple[BatchWire, WireClient]] = {}
        self._job_keys: dict[str, str] = {}
        self.jobs: list[BatchJob] = []
        self.journal: Journal | None = None
        self.tracker: ProgressTracker | None = None
        self.in_flight = 0
        self.outcomes: trio.MemoryReceiveChannel[Outcome]
        self._send: trio.MemorySendChannel[Outcome]

    # -- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> ProviderBatchRun:
        if self._entered:
            raise UserError("a ProviderBatchRun can be entered only once; call run_provider_batch() again")
        self._entered = True
        stack = AsyncExitStack()
        try:
            if isinstance(self._journal_arg, Journal):
                self.journal = self._journal_arg
            elif self._journal_arg is not None:
                self.journal = stack.enter_context(Journal(self._journal_arg))
            self.tracker = ProgressTracker(total=self._total, clock=trio.current_time)
            self._send, self.outcomes = trio.open_memory_channel[Outcome](1024)
            self._nursery = await stack.enter_async_context(trio.open_nursery())
            self._nursery.start_soon(self._main)
        except BaseException:
            await stack.aclose()
            raise
        self._stack = stack
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        stack, self._stack = self._stack, None
        if stack is None:  # pragma: no cover - __aenter__ failed
            return None
        if self.tracker is not None:
            self.tracker.finish()
        self._cancel_scope.cancel()
        with contextlib.suppress(trio.ClosedResourceError):
            self.outcomes.close()
        try:
            await stack.__aexit__(exc_type, exc, tb)
        except BaseExceptionGroup as group:  # pyright: ignore[reportUnknownVariableType]
            raise _unwrap(group) from None  # pyright: ignore[reportUnknownArgumentType]
        return None

    def __aiter__(self) -> ProviderBatchRun:
        return self

    async def __anext__(self) -> Outcome:
        try:
            return await self.outcomes.receive()
        except trio.EndOfChannel:
            raise StopAsyncIteration from None

    def stop(self) -> None:
        """Stop waiting: no more submissions or polls; iteration ends after what was delivered.

        Jobs already submitted keep running at the provider (and are paid for); their ids are in the
        journal, so running the job again collects them. Idempotent.
        """
        if not self._stopping:
            self._stopping = True
            if self.tracker is not None and self.tracker.stopped is None:
                pending = sum(1 for job in self.jobs if not job.ended)
                self.tracker.stopped = (
                    f"stopped by the caller; {pending} job(s) still running at the provider: "
                    "run again with the same journal to collect them"
                )
            self._cancel_scope.cancel()

    def cancel(self) -> None:
        """:meth:`stop` (polling is all a run has in flight); the provider's jobs are left running.

        To cancel them at the provider, use :meth:`cancel_jobs`.
        """
        self.stop()

    def cancel_jobs(self) -> None:
        """Ask the provider to cancel every job of the run that has not ended; keep polling.

        The requests a job had not run yet end as :class:`BatchCanceledError`; what it had run is
        delivered as usual. Returns at once (the cancel calls run in the run's nursery).
        """
        nursery = self._jobs_nursery
        if nursery is None:
            raise UserError("cancel_jobs() is for a run that has started and not finished")
        for job in self.jobs:
            if not job.ended:
                nursery.start_soon(self._cancel_job, job)

    async def _cancel_job(self, job: BatchJob) -> None:
        found = self._wires.get(self._job_keys.get(job.batch_id, ""))
        if found is None:  # pragma: no cover - every job's wire is known once it exists
            return
        wire, client = found
        try:
            await wire.cancel(client, job.batch_id)
        except TrioDirectError as exc:
            logger.warning("could not cancel batch %s: %s", job.batch_id, exc)

    def progress(self) -> Progress:
        """A snapshot of the run now (``in_flight``: items in jobs not collected yet)."""
        assert self.tracker is not None, "the run has not started"
        return self.tracker.snapshot(in_flight=self.in_flight, queued=0, limit=None)

    def summary(self) -> Summary:
        """The summary of the items finished so far (the whole run, once iteration has ended)."""
        assert self.tracker is not None, "the run has not started"
        return self.tracker.summary()

    # -- the work -------------------------------------------------------------------------------------

    async def _main(self) -> None:
        with self._cancel_scope, self._send as send:
            async with trio.open_nursery() as nursery:
                progress_scope = trio.CancelScope()
                nursery.start_soon(self._report_progress, progress_scope)
                async with trio.open_nursery() as jobs:
                    # cancel_jobs() spawns its calls here, under the run's cancel scope.
                    self._jobs_nursery = jobs
                    await self._submit_all(send, jobs)
                self._jobs_nursery = None
                progress_scope.cancel()
        if self.tracker is not None:
            self.tracker.finish()
        if self._on_progress is not None and self.tracker is not None:
            self._on_progress(self.tracker.snapshot(in_flight=0, queued=0, limit=None, finished=True))

    async def _report_progress(self, scope: trio.CancelScope) -> None:
        if self._on_progress is None:
            return
        with scope:
            while True:
                await trio.sleep(self._progress_interval)
                self._on_progress(self.progress())

    def _resolve(self, ref: Model | str) -> HTTPModel:
        key: int | str = ref if isinstance(ref, str) else id(ref)
        model = self._models.get(key)
        if model is None:
            model = self._models[key] = infer_model(ref)
        if not isinstance(model, HTTPModel):
            raise UserError(
                f"{model.model_id!r} is not an HTTP model with a provider batch API; "
                "run its items with run_batch() instead"
            )
        return model

    def _prepare(self, item: Item) -> tuple[_Prepared, BatchWire, dict[str, str]]:
        """The item's body from the live request builder, its wire and the headers of its calls."""
        ref = item.model if item.model is not None else self._default_model
        if ref is None:
            raise UserError(f"item {item.id!r} names no model and run_provider_batch() was given none")
        model = self._resolve(ref)
        params = with_instructions(item.messages, item.model_request_parameters or ModelRequestParameters())
        settings, params = model.prepare_request(item.model_settings, params)
        if settings.get("timeout") is not None:
            # The provider runs a batch request on its own schedule: a per-request timeout means nothing.
            settings = cast(ModelSettings, {k: v for k, v in settings.items() if k != "timeout"})
        request = model.build_request(list(item.messages), settings, params, stream=False)
        wire = wire_for(model, request.url)
        entry = BatchEntry(custom_id=custom_id_for(item.id), body=request.body, model_name=model.model_name)
        return _Prepared(item, model, settings, params, entry), wire, dict(request.headers)

    async def _submit_all(self, send: trio.MemorySendChannel[Outcome], jobs: trio.Nursery) -> None:
        journal = self.journal
        finished = (
            journal.finished_ids(include_failed=not self._rerun_failed) if journal is not None else set[str]()
        )
        seen: set[str] = set()
        groups: dict[str, list[_Prepared]] = {}
        by_id: dict[str, tuple[_Prepared, str]] = {}
        async for item in _aiter(self._items):
            if not isinstance(item, Item):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise UserError(f"run_provider_batch() takes Item objects, not {type(item).__name__}")
            if item.id in seen:
                raise UserError(f"item id {item.id!r} appears twice in the job; ids must be unique")
            seen.add(item.id)
            if item.id in finished and journal is not None:
                recorded = journal.get(item.id)
                if recorded is not None:
                    await self._deliver(send, recorded, record=False)
                    continue
            try:
                prepared, wire, headers = self._prepare(item)
            except UserError:
                raise  # a configuration mistake (no model, no batch API) is the caller's, not the item's
            except TrioDirectError as exc:
                await self._deliver(
                    send, Outcome(item_id=item.id, error=exc, source="batch", metadata=item.metadata)
                )
                continue
            key = self._group_key(prepared.model, wire, headers)
            groups.setdefault(key, []).append(prepared)
            by_id[item.id] = (prepared, key)
            if key not in self._wires:
                self._wires[key] = (
                    wire,
                    WireClient(
                        prepared.model, headers, read_retry=self._read_retry, create_retry=self._create_retry
                    ),
                )
        # Jobs an earlier run submitted: poll them rather than pay for their items again.
        resumed: set[str] = set()
        if journal is not None:
            for record in journal.meta_items(_JOB_KEY).values():
                if record.get("state") == "collected":
                    continue
                found = [by_id[i] for i in record.get("item_ids", []) if i in by_id]
                members = [(p, k) for p, k in found if p.model.model_id == record.get("model_id")]
                if not members:
                    continue
                key = members[0][1]
                job = BatchJob(
                    batch_id=str(record["batch_id"]),
                    wire=str(record.get("wire")),
                    model_id=members[0][0].model.model_id,
                    item_ids=[p.item.id for p, _ in members],
                    resumed=True,
                    submitted_at=float(record.get("submitted_at") or time.time()),
                )
                resumed.update(job.item_ids)
                logger.info("resuming provider batch %s (%d items)", job.batch_id, len(members))
                self._start_job(job, key, [p for p, _ in members], send, jobs)
        for key, group in groups.items():
            wire, client = self._wires[key]
            for chunk in self._chunks(wire, [p for p in group if p.item.id not in resumed]):
                if self._stopping:
                    return
                await self._submit(key, wire, client, chunk, send, jobs)

    @staticmethod
    def _group_key(model: HTTPModel, wire: BatchWire, headers: dict[str, str]) -> str:
        # Requests share a job when they share the model, the wire and every header (credentials
        # included); the key is hashed so no secret is kept in it.
        digest = hashlib.sha256(repr(sorted((k.lower(), v) for k, v in headers.items())).encode()).hexdigest()
        return f"{wire.name}:{model.model_id}:{digest[:16]}"

    def _chunks(self, wire: BatchWire, members: list[_Prepared]) -> Iterator[list[_Prepared]]:
        """``members`` split at the wire's (or the caller's lower) request and byte limits."""
        most = min(wire.max_requests, self._max_requests or wire.max_requests)
        most_bytes = min(wire.max_bytes, self._max_bytes or wire.max_bytes)
        chunk: list[_Prepared] = []
        size = 0
        for prepared in members:
            entry_size = wire.entry_size(prepared.entry)
            if chunk and (len(chunk) >= most or size + entry_size > most_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append(prepared)
            size += entry_size
        if chunk:
            yield chunk

    async def _submit(
        self,
        key: str,
        wire: BatchWire,
        client: WireClient,
        chunk: list[_Prepared],
        send: trio.MemorySendChannel[Outcome],
        jobs: trio.Nursery,
    ) -> None:
        too_big = [
            p
            for p in chunk
            if wire.entry_size(p.entry) > min(wire.max_bytes, self._max_bytes or wire.max_bytes)
        ]
        for prepared in too_big:
            error = UserError(
                f"item {prepared.item.id!r} takes {wire.entry_size(prepared.entry):,} bytes, more than a "
                f"{wire.name} batch job can hold; run it with run_batch() instead"
            )
            await self._deliver(send, self._outcome(prepared, None, error, time.time()))
        chunk = [p for p in chunk if p not in too_big]
        if not chunk:
            return
        submitted_at = time.time()
        try:
            batch_id = await wire.submit(client, [p.entry for p in chunk])
        except TrioDirectError as exc:
            # The provider refused the job: every item of it fails alone with the provider's error.
            for prepared in chunk:
                await self._deliver(send, self._outcome(prepared, None, exc, submitted_at))
            return
        job = BatchJob(
            batch_id=batch_id,
            wire=wire.name,
            model_id=chunk[0].model.model_id,
            item_ids=[p.item.id for p in chunk],
            submitted_at=submitted_at,
        )
        if self.journal is not None:
            self.journal.set_meta(_JOB_KEY + batch_id, self._record(job))
        logger.info("submitted provider batch %s (%s, %d items)", batch_id, wire.name, len(chunk))
        self._start_job(job, key, chunk, send, jobs)

    @staticmethod
    def _record(job: BatchJob) -> dict[str, Any]:
        return {
            "batch_id": job.batch_id,
            "wire": job.wire,
            "model_id": job.model_id,
            "item_ids": job.item_ids,
            "submitted_at": job.submitted_at,
            "state": job.state,
        }

    def _start_job(
        self,
        job: BatchJob,
        key: str,
        members: list[_Prepared],
        send: trio.MemorySendChannel[Outcome],
        jobs: trio.Nursery,
    ) -> None:
        self.jobs.append(job)
        self._job_keys[job.batch_id] = key
        self.in_flight += len(members)
        if self._on_job is not None:
            self._on_job(job)
        jobs.start_soon(self._follow, job, members, send.clone())

    async def _follow(
        self, job: BatchJob, members: list[_Prepared], send: trio.MemorySendChannel[Outcome]
    ) -> None:
        """Poll ``job`` until it ends, then deliver one outcome per member."""
        wire, client = self._wires[self._job_keys[job.batch_id]]
        with send:
            polls = 0
            try:
                while True:
                    status = await wire.status(client, job.batch_id)
                    job.state, job.done = status.state, status.done
                    if status.ended:
                        break
                    await trio.sleep(_poll_delay(polls, self._poll_interval, self._max_poll_interval))
                    polls += 1
                results = await wire.results(client, job.batch_id, status)
            except TrioDirectError as exc:
                # The job cannot be followed (gone, access revoked, retries exhausted): its items fail
                # with the reason; a run with rerun_failed submits them again.
                logger.warning("provider batch %s failed: %s", job.batch_id, exc)
                for prepared in members:
                    await self._deliver(send, self._outcome(prepared, None, exc, job.submitted_at))
                    self.in_flight -= 1
                self._collected(job, members)
                return
            by_custom_id: dict[str, RawResult] = {}
            for result in results:
                by_custom_id.setdefault(result.custom_id, result)
            for prepared in members:
                response, error = self._decode(
                    job, status, prepared, by_custom_id.get(prepared.entry.custom_id)
                )
                await self._deliver(send, self._outcome(prepared, response, error, job.submitted_at))
                self.in_flight -= 1
            self._collected(job, members)

    def _collected(self, job: BatchJob, members: list[_Prepared]) -> None:
        job.state = "collected"
        if self.journal is not None:
            self.journal.set_meta(_JOB_KEY + job.batch_id, self._record(job))

    def _decode(
        self, job: BatchJob, status: JobStatus, prepared: _Prepared, result: RawResult | None
    ) -> tuple[ModelResponse | None, BaseException | None]:
        """The live parser's response for a result, or the typed error it stands for."""
        model = prepared.model
        name = model.model_name
        if result is None:
            if status.missing == "failed":
                errors: object = status.errors
                listed = cast("list[object]", errors) if isinstance(errors, list) else [errors]
                first = listed[0] if listed else None
                return None, BatchJobFailedError(
                    name,
                    f"the provider refused batch {job.batch_id}: {first}",
                    batch_id=job.batch_id,
                    body=listed,
                )
            if status.missing is not None:
                result = RawResult(custom_id=prepared.entry.custom_id, kind=status.missing)
            else:
                return None, BatchResultMissingError(
                    name,
                    f"batch {job.batch_id} ended without a result for the request",
                    batch_id=job.batch_id,
                )
        if result.kind == "expired":
            return None, BatchExpiredError(
                name,
                f"batch {job.batch_id} expired (its 24 h window ran out) before the request ran; "
                "run the job again to submit it in a new batch",
                batch_id=job.batch_id,
            )
        if result.kind == "canceled":
            return None, BatchCanceledError(
                name, f"batch {job.batch_id} was cancelled before the request ran", batch_id=job.batch_id
            )
        body = result.body or b"null"
        headers = {"content-type": "application/json"}
        if result.kind == "errored":
            return None, model.http_error(result.status, headers, body, name)
        try:
            response = model.parse_response(body, headers, prepared.params, prepared.settings)
        except TrioDirectError as exc:  # UnexpectedModelBehavior: a body the live parser cannot read
            return None, exc
        details = {**(response.provider_details or {}), "processing": "batch"}
        return attrs.evolve(response, provider_details=details), None

    def _outcome(
        self,
        prepared: _Prepared,
        response: ModelResponse | None,
        error: BaseException | None,
        submitted_at: float,
    ) -> Outcome:
        cost = None
        if response is not None:
            try:
                value = self._cost(response)
            except Exception:  # a pricing bug must not lose the response
                logger.exception("the cost function failed for item %r", prepared.item.id)
                value = None
            cost = value if isinstance(value, Decimal) or value is None else Decimal(str(value))
        return Outcome(
            item_id=prepared.item.id,
            response=response,
            error=error,
            source="batch",
            attempts=1,
            latency=max(time.time() - submitted_at, 0.0),
            usage=response.usage if response is not None else Outcome(item_id=prepared.item.id).usage,
            cost=cost,
            model_id=prepared.model.model_id,
            metadata=prepared.item.metadata,
        )

    async def _deliver(
        self, send: trio.MemorySendChannel[Outcome], outcome: Outcome, *, record: bool = True
    ) -> None:
        if record and self.journal is not None:
            self.journal.record(outcome)
        assert self.tracker is not None
        self.tracker.add(outcome)
        await send.send(outcome)


def _unwrap(exc: BaseException) -> BaseException:
    current: BaseException = exc
    while isinstance(current, BaseExceptionGroup):
        members: tuple[BaseException, ...] = current.exceptions  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if len(members) != 1:
            break
        current = members[0]
    return current  # pyright: ignore[reportUnknownVariableType]


def run_provider_batch(
    items: Iterable[Item] | AsyncIterable[Item],
    *,
    model: Model | str | None = None,
    journal: Journal | str | None = None,
    rerun_failed: bool = True,
    poll_interval: float = 30.0,
    max_poll_interval: float = 600.0,
    max_requests_per_job: int | None = None,
    max_bytes_per_job: int | None = None,
    cost: CostFunction = batch_cost,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval: float = 1.0,
    on_job: Callable[[BatchJob], None] | None = None,
    total: int | None = None,
    read_retry: RetryPolicy = READ_RETRY,
    create_retry: RetryPolicy = CREATE_RETRY,
) -> ProviderBatchRun:
    """Run items as provider batch jobs: ``async with run_provider_batch(items, model=...) as run``.

    Each item ends in exactly one :class:`Outcome` (``source='batch'``), as with
    :func:`~trio_direct.harness.run_batch`: the live parser's response, the provider's error for that
    item as the live error class (``ModelHTTPError`` subclasses), or :class:`BatchExpiredError`,
    :class:`BatchCanceledError`, :class:`BatchJobFailedError`. Outcomes arrive a job at a time, when
    the job ends (within the provider's 24 h window).

    Args:
        items: :class:`Item` objects; all are read before the first job is submitted. Ids must be unique.
        model: the model of items that name none (OpenAI Chat or Responses, Anthropic, or Gemini API).
        journal: a :class:`Journal` or a path: finished items, and the ids of submitted jobs, are
            recorded there; a run with the same journal delivers the finished items and polls the
            submitted jobs instead of submitting their items again.
        rerun_failed: on a re-run, submit again the items the journal holds as failed (default).
        poll_interval: seconds before the first poll; each wait is half as long again, up to
        max_poll_interval: the longest wait between polls.
        max_requests_per_job: split jobs at this many requests (at most the provider's limit: OpenAI
            50,000, Anthropic 100,000, Gemini none).
        max_bytes_per_job: split jobs at this many bytes (at most the provider's: OpenAI 200 MB,
            Anthropic 256 MB, Gemini 20 MB of inline requests).
        cost: prices a response; default :func:`batch_cost` (the batch price).
        on_progress: called with a :class:`Progress` every ``progress_interval`` seconds and at the end.
        on_job: called with each :class:`BatchJob` when it is submitted or resumed.
        total: the number of items, for the ETA (taken from ``len(items)`` when it has one).
        read_retry: the retry policy of polls and result downloads.
        create_retry: the retry policy of job creation (by default only a 429, which certainly
            created nothing, is retried, so a job is never created twice).

    Raises:
        UserError: a bad argument (at call time); from iteration, an item that is not an
            :class:`Item`, a duplicate id, an item with no model, or a model with no batch API.

    Cancellation:
        The run is an async context manager that owns its tasks. Leaving the block (normally, by
        ``break``, by an exception or by cancellation) stops polling; submitted jobs keep running at
        the provider and the journal holds their ids. :meth:`ProviderBatchRun.cancel_jobs` cancels
        them at the provider.
    """
    return ProviderBatchRun(
        items,
        model=model,
        journal=journal,
        rerun_failed=rerun_failed,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        max_requests_per_job=max_requests_per_job,
        max_bytes_per_job=max_bytes_per_job,
        cost=cost,
        on_progress=on_progress,
        progress_interval=progress_interval,
        on_job=on_job,
        total=total,
        read_retry=read_retry,
        create_retry=create_retry,
    )


@final
class ProviderBatchRunSync:
    """:func:`run_provider_batch` from sync code.

    ``with run_provider_batch_sync(items, ...) as run: for outcome in run: ...``. The run lives in the
    process's portal thread; leaving the block stops polling (jobs stay with the provider).
    """

    def __init__(self, run: ProviderBatchRun) -> None:
        self._run = run
        self._handle: AsyncContextHandle[ProviderBatchRun] | None = None

    def __enter__(self) -> ProviderBatchRunSync:
        self._handle = get_portal().enter_async_context(
            self._run,
            api_name="run_provider_batch_sync()",
            async_alternative="async with run_provider_batch(...)",
        )
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            get_portal().run_sync(self._run.stop)
            handle.exit(exc)

    def __iter__(self) -> Iterator[Outcome]:
        if self._handle is None:
            raise UserError("iterate a run_provider_batch_sync() inside its `with` block")
        yield from iter_outcomes(self._run.outcomes, "run_provider_batch_sync()")

    @property
    def jobs(self) -> list[BatchJob]:
        """The run's jobs so far."""
        return list(self._run.jobs)

    def stop(self) -> None:
        """:meth:`ProviderBatchRun.stop`, from sync code."""
        get_portal().run_sync(self._run.stop)

    def cancel(self) -> None:
        """:meth:`stop` (polling is all a run has in flight); the provider's jobs are left running.

        To cancel them at the provider, use :meth:`cancel_jobs`.
        """
        self.stop()

    def cancel_jobs(self) -> None:
        """:meth:`ProviderBatchRun.cancel_jobs`, from sync code."""
        get_portal().run_sync(self._run.cancel_jobs)

    def summary(self) -> Summary:
        """:meth:`ProviderBatchRun.summary`, from sync code."""
        return get_portal().run_sync(self._run.summary)


def run_provider_batch_sync(items: Iterable[Item], **options: Any) -> ProviderBatchRunSync:
    """:func:`run_provider_batch` for sync code, through the portal; takes the same keyword arguments.

    Raises:
        UserError: as :func:`run_provider_batch`.
        RuntimeError: (from ``with``) used inside ``trio.run``; use ``async with run_provider_batch(...)``.
    """
    return ProviderBatchRunSync(run_provider_batch(items, **options))
