"""The harness on a Ray cluster: Ray is the engine, trio_direct the client on every worker.

Needs the ``ray`` extra (``pip install 'trio_direct[ray]'``, which brings ``ray[data]``).

* :class:`HarnessMapper` — a callable class for ``Dataset.map_batches``: each worker process starts
  one portal (trio_direct's Trio thread) and fans each batch out through
  :func:`~trio_direct.harness.run_batch`; the batch comes back with result and error columns. An
  item's failure is a row with an ``error``, never an exception, so no request fails the dataset.
* :func:`cluster_job` — on the driver: one named actor that holds the provider's RPM/TPM budget and an AIMD
  factor for the whole cluster. Every worker leases request capacity from it (a few requests at a
  time) before sending, and reports successes and 429s back, so N workers together stay within one
  key's limits.
  The same call creates one named actor that keeps every finished outcome by item id. A worker
  looks there before sending and records there as it goes, so a worker that dies and is retried by
  Ray sends nothing twice that it had recorded, and its retried batch returns each item exactly once.

Example::

    job = cluster_job("eval-42", rpm=3_000, tpm=2_000_000)
    ds = ray.data.read_json("prompts.jsonl")           # columns: id, prompt
    out = ds.map_batches(
        HarnessMapper,
        fn_constructor_kwargs={"model": "openai:gpt-4o-mini", "job": "eval-42"},
        compute=ray.data.ActorPoolStrategy(size=4), batch_size=256,
    )
    out.write_json("results/")                         # + response, error, error_type, tokens, cost

The actors live as long as the driver's Ray session (or forever with ``detached=True``); a job name
scopes them, so two jobs never share a budget or results unless they share a name.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Final, final

import orjson
import trio

from .._portal import get_portal
from ..exceptions import ModelRateLimitError, UserError
from ..messages import ModelMessage, ModelResponse, TextPart
from ..models import Model, infer_model
from ..models.wrapper import WrapperModel
from ..retries import RetryPolicy
from ..serialization import messages_from_json, messages_to_json
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ._items import Item, Outcome
from ._limits import Limits
from ._runner import run_batch

try:
    import ray as _ray_module
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "trio_direct.harness.ray needs Ray: pip install 'trio_direct[ray]' (or 'ray[data]')"
    ) from exc

# Ray's API is dynamically typed (remote handles, ObjectRefs); it is used through this one name.
ray: Any = _ray_module

__all__ = [
    "RESULT_COLUMNS",
    "ClusterBudget",
    "ClusterJob",
    "HarnessMapper",
    "OutcomeStore",
    "cluster_job",
]

#: The columns :class:`HarnessMapper` adds to each batch.
RESULT_COLUMNS: Final = (
    "response",
    "response_json",
    "error",
    "error_type",
    "input_tokens",
    "output_tokens",
    "cost",
    "source",
)

_NAMESPACE: Final = "trio_direct"


class ClusterBudget:
    """A cluster-wide request and token budget with an AIMD factor (the state of the budget actor).

    Two token buckets (requests per minute, tokens per minute), each holding ``burst_s`` seconds of
    its rate and refilling continuously, scaled by an AIMD factor: every report of 429s multiplies the
    factor by ``decrease`` (at most once per ``cooldown_s``), every report of successes adds
    ``increase`` per success up to 1. Plain Python, so it is tested without Ray; :func:`cluster_job`
    runs it as a named actor.

    Args:
        rpm: requests per minute; None for no request budget.
        tpm: tokens (input + output) per minute; None for no token budget.
        burst_s: seconds of the rate a bucket holds (the most that can go out at once).
        floor: the lowest AIMD factor.
        increase: factor added per success.
        decrease: factor multiplier on a 429 report.
        cooldown_s: seconds after a decrease during which the factor does not decrease again.
        clock: seconds, monotonic.

    Raises:
        UserError: a budget that is not positive, or AIMD parameters out of range.
    """

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        burst_s: float = 1.0,
        floor: float = 0.1,
        increase: float = 0.01,
        decrease: float = 0.7,
        cooldown_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm)):
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise UserError(f"{name} must be a positive number, not {value!r}")
        if not (burst_s > 0 and 0 < floor <= 1 and increase >= 0 and 0 < decrease < 1 and cooldown_s >= 0):
            raise UserError(
                "ClusterBudget needs burst_s > 0, 0 < floor <= 1, increase >= 0, 0 < decrease < 1"
            )
        self.rpm = rpm
        self.tpm = tpm
        self.burst_s = burst_s
        self.floor = floor
        self.increase = increase
        self.decrease = decrease
        self.cooldown_s = cooldown_s
        self._clock = clock
        self.factor = 1.0
        now = clock()
        self._last = now
        self._requests = self._capacity(rpm)
        self._tokens = self._capacity(tpm)
        self._decreased_at = -math.inf
        self.granted = 0
        self.ok = 0
        self.throttled = 0
        self.first_grant: float | None = None
        self.last_grant: float | None = None

    def _capacity(self, per_minute: float | None) -> float:
        # At least one request's worth, or a budget below one per burst would never grant anything.
        return 0.0 if per_minute is None else max(per_minute / 60.0 * self.burst_s * self.factor, 1.0)

    def _refill(self, now: float) -> None:
        elapsed = max(now - self._last, 0.0)
        self._last = now
        if self.rpm is not None:
            self._requests = min(
                self._capacity(self.rpm), self._requests + elapsed * self.rpm / 60.0 * self.factor
            )
        if self.tpm is not None:
            self._tokens = min(
                self._capacity(self.tpm), self._tokens + elapsed * self.tpm / 60.0 * self.factor
            )

    def lease(
        self, requests: int, tokens_each: int = 0, ok: int = 0, throttled: int = 0
    ) -> tuple[int, float]:
        """Take up to ``requests`` requests (each of ``tokens_each`` tokens) from the budget.

        ``ok`` and ``throttled`` report the outcomes since the caller's last lease (AIMD input).

        Returns:
            ``(granted, wait)``: how many requests may go now, and, when none, seconds until one can.
        """
        self.report(ok, throttled)
        now = self._clock()
        self._refill(now)
        granted = max(requests, 0)
        if self.rpm is not None:
            granted = min(granted, int(self._requests))
        if self.tpm is not None and tokens_each > 0:
            granted = min(granted, int(self._tokens // tokens_each))
        if granted <= 0:
            waits = [0.0]
            if self.rpm is not None:
                waits.append((1.0 - self._requests) / (self.rpm / 60.0 * self.factor))
            if self.tpm is not None and tokens_each > 0:
                need = min(float(tokens_each), self._capacity(self.tpm))
                waits.append((need - self._tokens) / (self.tpm / 60.0 * self.factor))
            return 0, max(max(waits), 0.001)
        if self.rpm is not None:
            self._requests -= granted
        if self.tpm is not None:
            self._tokens -= granted * tokens_each
        self.granted += granted
        self.first_grant = now if self.first_grant is None else self.first_grant
        self.last_grant = now
        return granted, 0.0

    def report(self, ok: int, throttled: int) -> None:
        """AIMD: grow the factor by the successes, shrink it on 429s (once per cooldown)."""
        self.ok += ok
        self.throttled += throttled
        now = self._clock()
        if throttled > 0:
            if now - self._decreased_at >= self.cooldown_s:
                self.factor = max(self.factor * self.decrease, self.floor)
                self._decreased_at = now
        elif ok > 0 and now - self._decreased_at >= self.cooldown_s:
            self.factor = min(self.factor + self.increase * ok, 1.0)

    def snapshot(self) -> dict[str, Any]:
        """The budget's counters: granted, ok, throttled, factor, first/last grant times, budgets."""
        return {
            "rpm": self.rpm,
            "tpm": self.tpm,
            "factor": self.factor,
            "granted": self.granted,
            "ok": self.ok,
            "throttled": self.throttled,
            "first_grant": self.first_grant,
            "last_grant": self.last_grant,
        }


class OutcomeStore:
    """Finished outcomes by item id (the state of the outcome store actor); the first record wins."""

    def __init__(self) -> None:
        self._outcomes: dict[str, bytes] = {}
        self.duplicates = 0

    def put_many(self, outcomes: Sequence[bytes]) -> int:
        """Record outcomes (``Outcome.to_python()`` as JSON bytes); returns how many were new."""
        new = 0
        for data in outcomes:
            item_id = str(orjson.loads(data)["item_id"])
            if item_id in self._outcomes:
                self.duplicates += 1
            else:
                self._outcomes[item_id] = data
                new += 1
        return new

    def get_many(self, item_ids: Sequence[str]) -> dict[str, bytes]:
        """The recorded outcomes of those of ``item_ids`` that have one."""
        return {i: self._outcomes[i] for i in item_ids if i in self._outcomes}

    def count(self) -> int:
        """How many items have an outcome."""
        return len(self._outcomes)


def _actor(cls: type, kind: str, job: str, detached: bool, *args: Any, **kwargs: Any) -> Any:
    options: dict[str, Any] = {"name": f"{kind}:{job}", "namespace": _NAMESPACE, "get_if_exists": True}
    if detached:
        options["lifetime"] = "detached"
    # Bookkeeping is tiny: the actors take no CPU slot from the workers.
    return ray.remote(num_cpus=0)(cls).options(**options).remote(*args, **kwargs)


@final
class ClusterJob:
    """The named actors of one job: its :class:`ClusterBudget` and its :class:`OutcomeStore`.

    Build it with :func:`cluster_job` on the driver, before the dataset runs.

    Attributes:
        name: the job name (``HarnessMapper(job=...)``).
        budget: the budget actor handle.
        store: the outcome store actor handle.
    """

    def __init__(self, name: str, budget: Any, store: Any) -> None:
        self.name = name
        self.budget = budget
        self.store = store

    def __repr__(self) -> str:
        return f"ClusterJob({self.name!r})"

    def budget_snapshot(self) -> dict[str, Any]:
        """The budget's counters (:meth:`ClusterBudget.snapshot`); blocks for one actor call."""
        return dict(ray.get(self.budget.snapshot.remote()))

    def finished(self) -> int:
        """How many items the store holds an outcome for; blocks for one actor call."""
        return int(ray.get(self.store.count.remote()))


def cluster_job(
    job: str, *, rpm: float | None = None, tpm: float | None = None, detached: bool = False, **options: Any
) -> ClusterJob:
    """Create (or find) the budget and outcome store actors of ``job``; call it on the driver.

    The driver owns the actors, so they live as long as its Ray session however workers come and go
    (``detached=True``: until killed, for a job spanning several drivers). A second call with the
    same name returns the existing actors; their limits are those of the first call.

    Args:
        job: the job name shared by the driver and every :class:`HarnessMapper` of the job.
        rpm: the key's requests per minute; None for no request budget.
        tpm: the key's tokens per minute; None for no token budget.
        detached: keep the actors after the driver exits.
        **options: more :class:`ClusterBudget` arguments (``burst_s``, ``decrease``, ...).

    Raises:
        UserError: a bad limit.
    """
    ClusterBudget(rpm, tpm, **options)  # validated here, where the caller sees the error
    budget = _actor(ClusterBudget, "budget", job, detached, rpm, tpm, **options)
    store = _actor(OutcomeStore, "outcomes", job, detached)
    return ClusterJob(job, budget, store)


def _find(kind: str, job: str) -> Any:
    try:
        return ray.get_actor(f"{kind}:{job}", namespace=_NAMESPACE)
    except ValueError:
        raise UserError(
            f"no Ray job {job!r} is running: call trio_direct.harness.ray.cluster_job({job!r}, rpm=...) "
            "on the driver before the dataset runs"
        ) from None


@final
class _Lease:
    """A worker's share of the cluster budget: requests leased ahead, outcomes to report."""

    def __init__(self, budget: Any, *, block: int, tokens_each: int) -> None:
        self._budget = budget
        self._block = block
        self._tokens_each = tokens_each
        self._held = 0
        self._ok = 0
        self._throttled = 0
        self._lock = trio.Lock()

    async def acquire(self) -> None:
        """Wait for one request's worth of the cluster budget.

        Cancellation: safe; a lease call in flight completes in its thread and its grant is kept.
        """
        async with self._lock:
            while self._held <= 0:
                ok, throttled = self._ok, self._throttled
                self._ok = self._throttled = 0
                ref = self._budget.lease.remote(self._block, self._tokens_each, ok, throttled)
                granted, wait = await trio.to_thread.run_sync(ray.get, ref)
                self._held += int(granted)
                if not granted:
                    await trio.sleep(float(wait))
            self._held -= 1

    def report(self, *, ok: bool) -> None:
        if ok:
            self._ok += 1
        else:
            self._throttled += 1


class _LeasedModel(WrapperModel):
    """The wrapped model, each request sent only after a lease from the cluster budget."""

    def __init__(self, wrapped: Model, lease: _Lease) -> None:
        super().__init__(wrapped)
        self._lease = lease

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        await self._lease.acquire()
        try:
            response = await self.wrapped.request(messages, model_settings, model_request_parameters)
        except ModelRateLimitError:
            self._lease.report(ok=False)
            raise
        self._lease.report(ok=True)
        return response


def _text(response: ModelResponse | None) -> str | None:
    if response is None:
        return None
    return "".join(part.content for part in response.parts if isinstance(part, TextPart))


class HarnessMapper:
    """A callable class for ``Dataset.map_batches``: each batch's rows through the harness.

    Each row is one item: ``id_column`` (unique across the dataset) and either ``prompt_column``
    (a user prompt) or ``messages_column`` (pydantic-ai JSON of the message history). The batch comes
    back with every input column and :data:`RESULT_COLUMNS`: ``response`` (the text),
    ``response_json`` (the response as pydantic-ai JSON), ``error`` and ``error_type`` (None on
    success), ``input_tokens``, ``output_tokens``, ``cost`` (a decimal string or None) and
    ``source`` (``'live'``, ``'cache'``, or ``'store'`` when an earlier attempt of the batch had
    finished the item).

    Args:
        model: a model name or :class:`~trio_direct.models.Model` (pickled to every worker).
        job: the job name: the budget actor and the outcome store are the job's.
        prompt_column, id_column, messages_column: the input columns.
        system: a system prompt for prompt rows.
        model_settings: settings for every request.
        limits: the harness's per-worker admission :class:`Limits` (concurrency, adaptive).
        retry: the per-item retry policy (default the harness's).
        use_budget: lease every request from the budget of ``job`` (see :func:`cluster_job`).
        lease_block: requests leased from the budget actor at a time.
        tokens_each: tokens charged per request against the budget's TPM.
        flush_every: outcomes recorded in the store per call (a dying worker loses at most this many).

    Raises:
        UserError: (in the constructor) no ``prompt_column`` nor ``messages_column``, or no
            :func:`cluster_job` of that name running.
    """

    def __init__(
        self,
        model: Model | str,
        *,
        job: str,
        prompt_column: str | None = "prompt",
        id_column: str = "id",
        messages_column: str | None = None,
        system: str | None = None,
        model_settings: ModelSettings | None = None,
        limits: Limits | None = None,
        retry: RetryPolicy | None = None,
        use_budget: bool = True,
        lease_block: int = 4,
        tokens_each: int = 0,
        flush_every: int = 64,
    ) -> None:
        if messages_column is None and prompt_column is None:
            raise UserError("HarnessMapper needs a prompt_column or a messages_column")
        get_portal()  # this worker process's one Trio thread, started now rather than on the first batch
        self._model = infer_model(model)
        self._job = job
        self._prompt_column = prompt_column
        self._id_column = id_column
        self._messages_column = messages_column
        self._system = system
        self._settings = model_settings
        self._limits = limits
        self._retry = retry
        self._flush_every = max(flush_every, 1)
        self._store = _find("outcomes", job)
        if use_budget:
            budget = _find("budget", job)
            self._model = _LeasedModel(
                self._model, _Lease(budget, block=max(lease_block, 1), tokens_each=tokens_each)
            )

    def _items(self, batch: dict[str, Any], ids: list[str], skip: set[str]) -> list[Item]:
        out: list[Item] = []
        for row, item_id in enumerate(ids):
            if item_id in skip:
                continue
            if self._messages_column is not None:
                messages = messages_from_json(_as_str(batch[self._messages_column][row]))
                out.append(Item(id=item_id, messages=messages, model_settings=self._settings))
            else:
                assert self._prompt_column is not None
                prompt = _as_str(batch[self._prompt_column][row])
                out.append(
                    Item.from_prompt(item_id, prompt, system=self._system, model_settings=self._settings)
                )
        return out

    async def _run(self, items: list[Item]) -> list[bytes]:
        """Every item through the harness; outcomes are recorded in the store as they come."""
        done: list[bytes] = []
        pending: list[bytes] = []
        options: dict[str, Any] = {"model": self._model, "limits": self._limits, "shared_admission": True}
        if self._retry is not None:
            options["retry"] = self._retry
        async with run_batch(items, **options) as run:
            async for outcome in run:
                data = orjson.dumps(outcome.to_python())
                done.append(data)
                pending.append(data)
                if len(pending) >= self._flush_every:
                    await trio.to_thread.run_sync(ray.get, self._store.put_many.remote(pending))
                    pending = []
        if pending:
            await trio.to_thread.run_sync(ray.get, self._store.put_many.remote(pending))
        return done

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        """The batch with :data:`RESULT_COLUMNS` added, rows in their input order.

        Raises:
            UserError: a row without an id, a duplicate id within the batch, or a missing column.
        """
        ids = [_as_str(value) for value in batch[self._id_column]]
        if len(set(ids)) != len(ids):
            raise UserError("HarnessMapper: item ids must be unique; this batch repeats one")
        recorded: dict[str, bytes] = dict(ray.get(self._store.get_many.remote(ids)))
        items = self._items(batch, ids, set(recorded))
        fresh = get_portal().run(self._run, items, api_name="HarnessMapper") if items else []
        by_id: dict[str, tuple[Outcome, str]] = {}
        for data in recorded.values():
            outcome = Outcome.from_python(orjson.loads(data))
            by_id[outcome.item_id] = (outcome, "store")
        for data in fresh:
            outcome = Outcome.from_python(orjson.loads(data), source="live")
            source = str(orjson.loads(data)["source"])
            by_id.setdefault(outcome.item_id, (outcome, source))
        columns: dict[str, list[Any]] = {name: [] for name in RESULT_COLUMNS}
        for item_id in ids:
            outcome, source = by_id[item_id]
            response = outcome.response
            columns["response"].append(_text(response))
            columns["response_json"].append(
                messages_to_json([response]).decode() if response is not None else None
            )
            columns["error"].append(str(outcome.error) if outcome.error is not None else None)
            columns["error_type"].append(outcome.kind if outcome.error is not None else None)
            columns["input_tokens"].append(outcome.usage.input_tokens)
            columns["output_tokens"].append(outcome.usage.output_tokens)
            columns["cost"].append(str(outcome.cost) if outcome.cost is not None else None)
            columns["source"].append(source)
        return {**batch, **columns}


def _as_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
