"""trio_direct.harness: admission control, the runner, journal, cache, budgets, progress, spans.

Admission and the runner run on a MockClock with autojump, so every wait is exact virtual time and
nothing depends on the speed of the machine. Models are FunctionModels whose answers ``trio.sleep``
for their latency, or the OpenAI model against the loopback server where headers matter.
"""

from __future__ import annotations

import inspect
import io
import math
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st

from tests.loopback import LoopbackServer, Reply
from tests.reliability import NO_HTTP_TIMEOUTS, completion, openai_model
from trio_direct import (
    ModelHTTPError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelResponse,
    RequestUsage,
    RetryPolicy,
    TextPart,
    UserError,
)
from trio_direct.harness import (
    AdmissionController,
    BudgetExceededError,
    Item,
    Journal,
    LatencyHistogram,
    LimiterEvent,
    Limits,
    LiveLine,
    Outcome,
    Progress,
    RecordedError,
    ResponseCache,
    TokenEstimate,
    admission_for,
    default_cost,
    endpoint_key,
    request_key,
    run_batch,
    run_batch_sync,
)
from trio_direct.messages import ModelMessage, UserPromptPart
from trio_direct.models.function import AgentInfo, FunctionModel

FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=1.0, jitter=0.0)


@pytest.fixture
def clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


def rate_limited(retry_after: float | None = None) -> ModelHTTPError:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else {}
    return ModelHTTPError.for_category(ModelRateLimitError, status_code=429, model_name="m", headers=headers)


def prompt_of(messages: list[ModelMessage]) -> str:
    part = messages[-1].parts[-1]
    assert isinstance(part, UserPromptPart) and isinstance(part.content, str)
    return part.content


def answering(
    latency: float = 1.0,
    fail: Callable[[str, int], BaseException | None] | None = None,
    tokens: tuple[int, int] = (10, 5),
) -> tuple[FunctionModel, dict[str, Any]]:
    """A FunctionModel that sleeps ``latency`` and answers (or raises ``fail(prompt, call)``)."""
    state: dict[str, Any] = {"running": 0, "max_running": 0, "calls": {}}

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = prompt_of(messages)
        calls = state["calls"][prompt] = state["calls"].get(prompt, 0) + 1
        state["running"] += 1
        state["max_running"] = max(state["max_running"], state["running"])
        try:
            await trio.sleep(latency)
            if fail is not None and (error := fail(prompt, calls)) is not None:
                raise error
        finally:
            state["running"] -= 1
        usage = RequestUsage(input_tokens=tokens[0], output_tokens=tokens[1])
        return ModelResponse([TextPart(f"answer to {prompt}")], usage=usage, model_name="fn")

    return FunctionModel(answer, model_name="fn"), state


def items(n: int, prefix: str = "p") -> list[Item]:
    return [Item.from_prompt(f"id{i}", f"{prefix}{i}") for i in range(n)]


async def collect(run_cm: Any) -> tuple[list[Outcome], Any]:
    async with run_cm as run:
        got = [outcome async for outcome in run]
    return got, run


# --- admission: AIMD ------------------------------------------------------------------------------


async def test_aimd_decreases_on_overload_once_per_cooldown_and_respects_the_floor(
    clock: trio.testing.MockClock,
) -> None:
    events: list[LimiterEvent] = []
    ctl = AdmissionController(
        Limits(initial_running=10, min_running=2, decrease=0.5, cooldown=5.0), on_event=events.append
    )
    for _ in range(3):
        ctl.release(await ctl.acquire(), error=rate_limited())
    assert ctl.limit == 5  # three overloads inside one cooldown: one decrease
    await trio.sleep(5.0)
    ctl.release(
        await ctl.acquire(),
        error=ModelHTTPError.for_category(ModelOverloadedError, status_code=529, model_name="m"),
    )
    assert ctl.limit == 2  # 2.5 -> the floor is 2
    await trio.sleep(5.0)
    ctl.release(await ctl.acquire(), error=rate_limited())
    assert ctl.limit == 2
    assert [e.kind for e in events] == ["decrease", "decrease"]
    assert ctl.overloads == 5


async def test_aimd_rejected_requests_are_not_overload(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(initial_running=10))
    error = ModelHTTPError.for_category(ModelRequestRejectedError, status_code=400, model_name="m")
    ctl.release(await ctl.acquire(), error=error)
    assert ctl.limit == 10


async def test_aimd_grows_about_one_per_round_trip_only_while_the_limit_binds(
    clock: trio.testing.MockClock,
) -> None:
    ctl = AdmissionController(Limits(initial_running=4, max_running=6, latency_factor=None))
    # Not binding: one request at a time never raises the limit.
    for _ in range(20):
        ctl.release(await ctl.acquire())
    assert ctl.limit == 4
    # Binding: four at a time, each round of four successes adds about one.
    for _ in range(10):
        tickets = [await ctl.acquire() for _ in range(ctl.limit)]
        for ticket in tickets:
            ctl.release(ticket)
    assert ctl.limit == 6  # the ceiling


async def test_aimd_backs_off_when_latency_climbs(clock: trio.testing.MockClock) -> None:
    events: list[LimiterEvent] = []
    ctl = AdmissionController(
        Limits(initial_running=20, latency_factor=3.0, cooldown=1.0), on_event=events.append
    )
    for _ in range(10):
        ticket = await ctl.acquire()
        await trio.sleep(0.1)
        ctl.release(ticket)
    assert ctl.limit == 20
    for _ in range(10):
        ticket = await ctl.acquire()
        await trio.sleep(2.0)
        ctl.release(ticket)
    assert ctl.limit < 20
    assert any(e.kind == "decrease" and "latency" in e.reason for e in events)


async def test_not_adaptive_keeps_max_running(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(max_running=7, adaptive=False))
    assert ctl.limit == 7
    ctl.release(await ctl.acquire(), error=rate_limited())
    assert ctl.limit == 7


async def test_concurrency_limit_blocks_until_release(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(max_running=2, adaptive=False))
    a, b = await ctl.acquire(), await ctl.acquire()
    admitted: list[float] = []

    async def third() -> None:
        ticket = await ctl.acquire()
        admitted.append(trio.current_time())
        ctl.release(ticket)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(third)
        await trio.sleep(3.0)
        assert admitted == [] and ctl.queued == 1
        ctl.release(a)
    assert admitted == [3.0]
    ctl.release(b)
    ctl.release(b)  # twice is a no-op
    assert ctl.running == 0


async def test_cancelled_acquire_takes_nothing(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(max_running=1, adaptive=False, rpm=60))
    held = await ctl.acquire()
    with trio.move_on_after(1.0):
        await ctl.acquire()
    assert ctl.running == 1 and ctl.queued == 0
    ctl.abandon(held)
    assert ctl.running == 0 and ctl.limit == 1


# --- admission: budgets and pauses ------------------------------------------------------------------


async def test_rpm_bucket_admits_a_minute_then_paces(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(rpm=60, max_running=1000, adaptive=False))
    times = []
    for _ in range(63):
        ctl.release(await ctl.acquire())
        times.append(trio.current_time())
    assert times[59] == 0.0  # the bucket starts full: a minute's worth at once
    assert times[60:] == pytest.approx([1.0, 2.0, 3.0])  # then one per second


async def test_tpm_admits_on_the_estimate_and_corrects_by_usage(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(tpm=600, max_running=100, adaptive=False))  # 10 tokens/s
    ticket = await ctl.acquire(TokenEstimate(100, 100))
    # The request used far more than estimated: the bucket owes 400 + 200 more tokens.
    ctl.release(ticket, usage=RequestUsage(input_tokens=500, output_tokens=300))
    start = trio.current_time()
    ctl.release(await ctl.acquire(TokenEstimate(50, 50)))
    # 600 - 800 = -200; 100 more needed: 300 tokens at 10/s.
    assert trio.current_time() - start == pytest.approx(30.0)


async def test_tpm_credit_when_usage_is_below_the_estimate(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(tpm=600, max_running=100, adaptive=False))
    ticket = await ctl.acquire(TokenEstimate(300, 300))
    ctl.release(ticket, usage=RequestUsage(input_tokens=10, output_tokens=10))
    start = trio.current_time()
    ctl.release(await ctl.acquire(TokenEstimate(200, 200)))
    assert trio.current_time() == start  # 580 left, 400 needed


async def test_retry_after_pauses_every_admission(clock: trio.testing.MockClock) -> None:
    events: list[LimiterEvent] = []
    ctl = AdmissionController(Limits(max_running=10), on_event=events.append)
    ctl.release(await ctl.acquire(), error=rate_limited(7))
    assert ctl.paused_for == pytest.approx(7.0)
    ctl.release(await ctl.acquire())
    assert trio.current_time() == pytest.approx(7.0)
    assert "pause" in [e.kind for e in events]


async def test_headers_seed_budgets_and_remaining_pulls_the_bucket_down(
    clock: trio.testing.MockClock,
) -> None:
    events: list[LimiterEvent] = []
    ctl = AdmissionController(Limits(max_running=100, adaptive=False), on_event=events.append)
    assert ctl.budget("rpm") is None and not ctl.needs_token_estimates
    ctl.observe_headers(
        200,
        {
            "x-ratelimit-limit-requests": "120",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-limit-tokens": "6000",
            "x-ratelimit-remaining-tokens": "5000",
        },
    )
    assert ctl.budget("rpm") == 120 and ctl.budget("tpm") == 6000
    assert ctl.needs_token_estimates
    ctl.release(await ctl.acquire())
    assert trio.current_time() == pytest.approx(0.5)  # 120/min: one every 0.5 s from empty
    assert [e.kind for e in events] == ["seed", "seed"]


async def test_anthropic_headers_seed_input_and_output_budgets(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits())
    ctl.observe_headers(
        200,
        {
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-input-tokens-limit": "30000",
            "anthropic-ratelimit-output-tokens-limit": "8000",
        },
    )
    assert (ctl.budget("rpm"), ctl.budget("input_tpm"), ctl.budget("output_tpm")) == (50, 30000, 8000)


async def test_configured_budgets_are_not_overridden_by_headers(clock: trio.testing.MockClock) -> None:
    ctl = AdmissionController(Limits(rpm=10))
    ctl.observe_headers(200, {"x-ratelimit-limit-requests": "10000"})
    assert ctl.budget("rpm") == 10
    off = AdmissionController(Limits(from_headers=False))
    off.observe_headers(200, {"x-ratelimit-limit-requests": "10000"})
    assert off.budget("rpm") is None


@pytest.mark.parametrize(
    "bad",
    [
        {"max_running": 0},
        {"min_running": 5, "max_running": 2},
        {"initial_running": 50, "max_running": 10},
        {"rpm": 0},
        {"tpm": math.inf},
        {"decrease": 1.0},
        {"latency_factor": 1.0},
        {"max_queued": 0},
    ],
)
def test_limits_reject_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(UserError):
        Limits(**bad)


async def test_admission_is_shared_per_endpoint_and_key_without_the_key(loopback: LoopbackServer) -> None:
    a = openai_model(loopback, api_key="sk-one-SECRET")
    b = openai_model(loopback, api_key="sk-one-SECRET")
    c = openai_model(loopback, api_key="sk-two-SECRET")
    assert admission_for(a) is admission_for(b)
    assert admission_for(a) is not admission_for(c)
    assert "SECRET" not in endpoint_key(a)


async def test_success_headers_reach_the_controller_through_the_http_hook(loopback: LoopbackServer) -> None:
    headers = {"x-ratelimit-limit-requests": "3000", "x-ratelimit-limit-tokens": "90000"}
    loopback.enqueue(Reply.json(completion("hi"), headers=headers))
    model = openai_model(loopback, settings=NO_HTTP_TIMEOUTS)
    got, run = await collect(run_batch(items(1), model=model, shared_admission=False))
    assert got[0].ok
    assert run.admission.budget("rpm") == 3000
    assert run.admission.budget("tpm") == 90000


# --- the runner -----------------------------------------------------------------------------------


async def test_every_item_gets_one_outcome_and_failures_stay_per_item(clock: trio.testing.MockClock) -> None:
    def fail(prompt: str, call: int) -> BaseException | None:
        if prompt == "p3":
            return ModelHTTPError.for_category(ModelRequestRejectedError, status_code=400, model_name="fn")
        if prompt == "p5":
            return ValueError("a bug in the function")
        return None

    model, _ = answering(fail=fail)
    got, run = await collect(run_batch(items(10), model=model, retry=FAST_RETRY))
    by_id = {o.item_id: o for o in got}
    assert sorted(by_id) == sorted(f"id{i}" for i in range(10))
    assert isinstance(by_id["id3"].error, ModelRequestRejectedError)
    assert isinstance(by_id["id5"].error, ValueError)
    assert by_id["id0"].ok and by_id["id0"].response is not None
    assert by_id["id0"].response.text == "answer to p0"
    assert by_id["id0"].usage.input_tokens == 10 and by_id["id0"].attempts == 1
    assert run.summary().outcomes == {"ok": 8, "ModelRequestRejectedError": 1, "ValueError": 1}


async def test_retries_go_through_the_policy_and_admission(clock: trio.testing.MockClock) -> None:
    model, _ = answering(fail=lambda p, call: rate_limited(3) if call <= 2 else None)
    got, run = await collect(run_batch(items(1), model=model, retry=FAST_RETRY, shared_admission=False))
    assert got[0].ok and got[0].attempts == 3
    assert got[0].latency == pytest.approx(1 + 3 + 1 + 3 + 1)  # three attempts, two Retry-After waits
    assert run.admission.admitted == 3 and run.admission.overloads == 2


async def test_exhausted_retries_give_the_typed_error(clock: trio.testing.MockClock) -> None:
    model, _ = answering(fail=lambda p, call: rate_limited(1))
    got, _ = await collect(run_batch(items(2), model=model, retry=FAST_RETRY))
    assert all(isinstance(o.error, ModelRateLimitError) and o.attempts == 4 for o in got)
    assert "gave up after 4 attempts" in "".join(getattr(got[0].error, "__notes__", []))


async def test_concurrency_never_exceeds_the_limit(clock: trio.testing.MockClock) -> None:
    model, state = answering(latency=1.0)
    limits = Limits(max_running=5, adaptive=False)
    got, _ = await collect(run_batch(items(40), model=model, limits=limits))
    assert len(got) == 40 and state["max_running"] == 5
    assert trio.current_time() == pytest.approx(8.0)


async def test_adaptive_limit_converges_under_429s(clock: trio.testing.MockClock) -> None:
    """A provider that refuses whatever exceeds 8 concurrent requests: the limit settles near 8."""
    running = 0

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal running
        running += 1
        try:
            if running > 8:
                raise rate_limited()
            await trio.sleep(1.0)
            return ModelResponse([TextPart("ok")])
        finally:
            running -= 1

    limits = Limits(initial_running=4, max_running=64, cooldown=1.0, latency_factor=None)
    got, run = await collect(
        run_batch(
            items(400), model=FunctionModel(answer), limits=limits, retry=FAST_RETRY, shared_admission=False
        )
    )
    assert all(o.ok for o in got)
    assert 4 <= run.admission.limit <= 12
    attempts = sum(o.attempts for o in got)
    assert attempts < 400 * 1.1  # few refusals: the limit found the provider's capacity


async def test_rpm_limit_paces_a_run(clock: trio.testing.MockClock) -> None:
    model, _ = answering(latency=0.1)
    limits = Limits(rpm=120, max_running=100)
    got, _ = await collect(run_batch(items(240), model=model, limits=limits, shared_admission=False))
    assert len(got) == 240
    # 120 at once, then 2 per second.
    assert trio.current_time() == pytest.approx(60.0 + 0.1, abs=0.6)


async def test_items_with_their_own_models_and_a_missing_model(clock: trio.testing.MockClock) -> None:
    model, _ = answering()
    mixed = [Item.from_prompt("a", "x", model=model), Item.from_prompt("b", "y", model="test")]
    got, _ = await collect(run_batch(mixed))
    assert {o.item_id: o.model_id for o in got} == {"a": "function:fn", "b": "test:test"}
    unknown, _ = await collect(run_batch([Item.from_prompt("u", "x", model="nosuchprovider:m")], model=model))
    assert isinstance(unknown[0].error, UserError) and unknown[0].model_id == "nosuchprovider:m"
    with pytest.raises(UserError, match="names no model"):
        await collect(run_batch([Item.from_prompt("c", "z")]))


async def test_duplicate_ids_and_non_items_are_user_errors() -> None:
    with pytest.raises(UserError, match="twice"):
        await collect(run_batch([Item.from_prompt("a", "x"), Item.from_prompt("a", "y")], model="test"))
    with pytest.raises(UserError, match="Item objects"):
        await collect(run_batch(["hello"], model="test"))  # type: ignore[list-item]


def test_items_need_an_id_and_messages() -> None:
    with pytest.raises(UserError):
        Item(id="", messages=[])
    with pytest.raises(UserError):
        Item(id="x", messages=[])


async def test_async_iterable_items_are_read_lazily(clock: trio.testing.MockClock) -> None:
    produced = 0

    class Source:
        def __aiter__(self) -> Source:
            return self

        async def __anext__(self) -> Item:
            nonlocal produced
            if produced >= 100:
                raise StopAsyncIteration
            produced += 1
            return Item.from_prompt(f"id{produced}", "x")

    model, _ = answering(latency=1.0)
    limits = Limits(max_running=2, adaptive=False, max_queued=3)
    async with run_batch(Source(), model=model, limits=limits) as run:
        first = await run.__anext__()
        # 2 in flight (1 delivered), max_queued waiting, 1 held by the dispatcher: the rest unread.
        assert produced <= 2 + 3 + 2 + 1
        rest = [o async for o in run]
    assert first.ok and len(rest) == 99


async def test_stop_lets_in_flight_items_finish(clock: trio.testing.MockClock) -> None:
    model, _ = answering(latency=1.0)
    got: list[Outcome] = []
    async with run_batch(items(100), model=model, limits=Limits(max_running=4, adaptive=False)) as run:
        async for outcome in run:
            got.append(outcome)
            if len(got) == 1:
                run.stop()
    # The first plus the three in flight with it (and one admitted in the same instant, if any).
    assert 4 <= len(got) <= 5
    assert all(o.ok for o in got)
    assert run.summary().stopped == "stopped by the caller"


async def test_cancel_drops_in_flight_items(clock: trio.testing.MockClock) -> None:
    model, _ = answering(latency=1.0)
    got: list[Outcome] = []
    async with run_batch(items(100), model=model, limits=Limits(max_running=4, adaptive=False)) as run:
        async for outcome in run:
            got.append(outcome)
            run.cancel()
    assert len(got) <= 4


async def test_leaving_the_block_early_cancels_and_leaks_nothing(clock: trio.testing.MockClock) -> None:
    model, state = answering(latency=1.0)
    async with run_batch(items(100), model=model) as run:
        async for _ in run:
            break
    await trio.sleep(10)
    assert state["running"] == 0


async def test_an_outside_cancel_scope_bounds_the_run(clock: trio.testing.MockClock) -> None:
    model, state = answering(latency=1.0)
    with trio.move_on_after(2.5):
        async with run_batch(items(100), model=model, limits=Limits(max_running=1, adaptive=False)) as run:
            async for _ in run:
                pass
    assert state["running"] == 0 and run.summary().items == 2


# --- journal and resume ---------------------------------------------------------------------------


async def test_journal_resume_skips_finished_items(tmp_path: Path, clock: trio.testing.MockClock) -> None:
    path = str(tmp_path / "job.sqlite")
    model, state = answering(fail=lambda p, call: rate_limited(1) if p == "p2" and call <= 4 else None)
    first, _ = await collect(run_batch(items(5), model=model, journal=path, retry=FAST_RETRY))
    assert sum(o.ok for o in first) == 4
    calls_before = dict(state["calls"])
    second, run = await collect(run_batch(items(5), model=model, journal=path, retry=FAST_RETRY))
    by_id = {o.item_id: o for o in second}
    assert [by_id[f"id{i}"].source for i in range(5)] == ["journal", "journal", "live", "journal", "journal"]
    assert by_id["id2"].ok  # the failed item ran again (and succeeded this time)
    assert state["calls"]["p0"] == calls_before["p0"]  # finished items cost nothing
    assert by_id["id0"].response is not None and by_id["id0"].response.text == "answer to p0"
    assert run.summary().resumed == 4
    with Journal(path) as journal:
        assert len(journal) == 5 and journal.finished_ids() == {f"id{i}" for i in range(5)}


async def test_journal_keeps_failures_when_asked(tmp_path: Path, clock: trio.testing.MockClock) -> None:
    path = str(tmp_path / "job.sqlite")
    bad = ModelHTTPError.for_category(ModelRequestRejectedError, status_code=400, model_name="fn")
    model, state = answering(fail=lambda p, call: bad if p == "p1" else None)
    await collect(run_batch(items(2), model=model, journal=path))
    again, _ = await collect(run_batch(items(2), model=model, journal=path, rerun_failed=False))
    failed = next(o for o in again if o.item_id == "id1")
    assert failed.source == "journal" and isinstance(failed.error, RecordedError)
    assert failed.error.error_type == "ModelRequestRejectedError" and failed.error.status_code == 400
    assert failed.kind == "ModelRequestRejectedError"
    assert state["calls"]["p1"] == 1


def test_journal_meta_and_bad_files(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.set_meta("batch", {"id": "batch_1"})
        assert journal.get_meta("batch") == {"id": "batch_1"}
        assert journal.get_meta("missing", 3) == 3
        assert journal.get("nope") is None
    journal.close()  # idempotent
    with pytest.raises(UserError, match="closed"):
        journal.finished_ids()
    (tmp_path / "junk").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError):
        Journal(tmp_path / "junk")


def test_outcome_round_trips_through_python() -> None:
    response = ModelResponse([TextPart("x")], usage=RequestUsage(input_tokens=3, output_tokens=4))
    outcome = Outcome(
        item_id="a", response=response, attempts=2, latency=1.5, usage=response.usage, cost=Decimal("0.01")
    )
    back = Outcome.from_python(outcome.to_python())
    assert back.response == response and back.cost == Decimal("0.01") and back.attempts == 2
    assert back.source == "journal"
    error = ModelHTTPError.for_category(
        ModelRateLimitError, status_code=429, model_name="m", body={"error": {"message": "later"}}
    )
    data = Outcome(item_id="b", error=error).to_python()
    assert data["error"]["type"] == "ModelRateLimitError" and data["error"]["status_code"] == 429
    recorded = Outcome.from_python(data).error
    assert isinstance(recorded, RecordedError) and recorded.body == {"error": {"message": "later"}}
    again = Outcome(item_id="b", error=recorded).to_python()["error"]
    assert again == {k: v for k, v in data["error"].items() if k != "code"}


# --- cache ----------------------------------------------------------------------------------------


async def test_cache_answers_identical_requests_without_a_request(
    tmp_path: Path, clock: trio.testing.MockClock
) -> None:
    path = str(tmp_path / "cache.sqlite")
    model, state = answering()
    await collect(run_batch(items(3), model=model, cache=path))
    got, run = await collect(run_batch(items(3), model=model, cache=path))
    assert all(o.source == "cache" and o.cached and o.attempts == 0 and o.ok for o in got)
    assert sum(state["calls"].values()) == 3
    assert run.summary().cached == 3
    # A different setting is a different request.
    changed = [Item.from_prompt("id0", "p0", model_settings={"temperature": 0.5})]
    again, _ = await collect(run_batch(changed, model=model, cache=path))
    assert again[0].source == "live"


def test_cache_key_ignores_timestamps_and_transport_settings() -> None:
    a = Item.from_prompt("a", "hello").messages
    b = Item.from_prompt("b", "hello").messages
    assert request_key("m", a, {"timeout": 5}, None) == request_key("m", b, {"timeout": 9}, None)
    assert request_key("m", a, None, None) != request_key("other", a, None, None)
    assert request_key("m", a, {"temperature": 0}, None) != request_key("m", a, {"temperature": 1}, None)


def test_cache_ttl_expires_entries(tmp_path: Path) -> None:
    now = [1000.0]
    with ResponseCache(tmp_path / "c.sqlite", ttl=60, clock=lambda: now[0]) as cache:
        cache.put("k", ModelResponse([TextPart("x")]))
        assert cache.get("k") is not None
        now[0] += 61
        assert cache.get("k") is None
        assert cache.purge_expired() == 1
        assert (cache.hits, cache.misses) == (1, 1)
    with pytest.raises(UserError):
        ResponseCache(tmp_path / "c.sqlite", ttl=0)


# --- budgets and cost -----------------------------------------------------------------------------


async def test_token_budget_stops_admission_and_says_so(clock: trio.testing.MockClock) -> None:
    model, _ = answering(tokens=(60, 40))
    limits = Limits(max_running=1, adaptive=False)
    got, run = await collect(run_batch(items(10), model=model, limits=limits, token_budget=250))
    assert len(got) == 3  # 100 tokens each: the third crosses 250, the fourth is never started
    assert run.summary().stopped is not None and "tokens budget of 250" in run.summary().stopped


async def test_cost_budget_with_a_cost_function(clock: trio.testing.MockClock) -> None:
    model, _ = answering()
    limits = Limits(max_running=1, adaptive=False)
    got, run = await collect(
        run_batch(items(10), model=model, limits=limits, cost=lambda r: Decimal("0.25"), cost_budget=1)
    )
    assert len(got) == 4 and all(o.cost == Decimal("0.25") for o in got)
    assert run.summary().cost == Decimal("1.00")
    assert "cost budget" in (run.summary().stopped or "")


def test_budget_error_is_a_library_error() -> None:
    error = BudgetExceededError("tokens", 100, 120)
    assert "raise the budget" in str(error)


def test_default_cost_uses_cost_method_or_usage() -> None:
    response = ModelResponse([TextPart("x")], usage=RequestUsage(cost=Decimal("0.5")))
    assert default_cost(response) == Decimal("0.5")

    class Priced:
        usage = RequestUsage()

        def cost(self) -> Any:
            raise UserError("install the prices extra")

    assert default_cost(Priced()) is None  # type: ignore[arg-type]

    class WithPrice:
        usage = RequestUsage()

        def cost(self) -> Any:
            class Calc:
                total_price = Decimal("0.125")

            return Calc()

    assert default_cost(WithPrice()) == Decimal("0.125")  # type: ignore[arg-type]


async def test_a_broken_cost_function_does_not_lose_the_response(clock: trio.testing.MockClock) -> None:
    def broken(response: ModelResponse) -> Decimal:
        raise RuntimeError("pricing bug")

    model, _ = answering()
    got, _ = await collect(run_batch(items(1), model=model, cost=broken))
    assert got[0].ok and got[0].cost is None


# --- progress -------------------------------------------------------------------------------------


async def test_progress_events_and_summary(clock: trio.testing.MockClock) -> None:
    snapshots: list[Progress] = []
    model, _ = answering(latency=1.0)
    limits = Limits(max_running=2, adaptive=False)
    _, run = await collect(
        run_batch(items(10), model=model, limits=limits, on_progress=snapshots.append, progress_interval=1.5)
    )
    assert snapshots[-1].finished and snapshots[-1].done == 10 and snapshots[-1].total == 10
    assert any(s.in_flight == 2 and not s.finished for s in snapshots)
    assert any(s.eta is not None for s in snapshots)
    summary = run.summary()
    assert summary.latency_p50 == pytest.approx(1.0, rel=0.02)
    assert summary.input_tokens == 100 and summary.output_tokens == 50
    assert "10 items" in str(summary) and "p99" in str(summary)


def test_latency_histogram_percentiles_within_one_percent() -> None:
    hist = LatencyHistogram()
    for ms in range(1, 1001):
        hist.add(ms / 1000)
    assert hist.percentile(50) == pytest.approx(0.5, rel=0.012)
    assert hist.percentile(99) == pytest.approx(0.99, rel=0.012)
    assert LatencyHistogram().percentile(50) is None


def test_live_line_on_a_terminal_and_as_log_lines(caplog: pytest.LogCaptureFixture) -> None:
    base: dict[str, Any] = dict(
        done=5,
        ok=4,
        failed=1,
        cached=0,
        resumed=0,
        in_flight=3,
        queued=0,
        total=10,
        limit=8,
        elapsed=2.0,
        requests_per_s=2.5,
        tokens_per_s=100.0,
        input_tokens=1,
        output_tokens=1,
        cost=Decimal("0.01"),
        eta=2.0,
    )
    out = io.StringIO()
    line = LiveLine(out, tty=True)
    line(Progress(**base))
    line(Progress(**{**base, "done": 10, "finished": True}))
    text = out.getvalue()
    assert text.startswith("\r5/10 | ok 4 | failed 1 | in flight 3 | limit 8 | 2.5 req/s")
    assert text.endswith("\x1b[K\n") and text.count("\r") == 2
    caplog.set_level("INFO", logger="trio_direct.harness")
    logged = LiveLine(io.StringIO(), tty=False, log_interval=10)
    logged(Progress(**base))
    logged(Progress(**{**base, "elapsed": 3.0}))  # within the interval: not logged
    logged(Progress(**{**base, "finished": True, "elapsed": 4.0}))
    assert len([r for r in caplog.records if "progress:" in r.getMessage()]) == 2


# --- sync -----------------------------------------------------------------------------------------


def test_run_batch_sync_through_the_portal(tmp_path: Path) -> None:
    with run_batch_sync(items(20), model="test", journal=str(tmp_path / "j.sqlite")) as run:
        got = list(run)
    assert sorted(o.item_id for o in got) == sorted(f"id{i}" for i in range(20))
    assert all(o.ok for o in got)
    assert run.summary().items == 20 and run.summary().stopped is None


def test_run_batch_sync_leaving_early_cancels() -> None:
    with run_batch_sync(items(200), model="test") as run:
        for _ in run:
            break
    with pytest.raises(UserError):
        iter(run_batch_sync(items(1), model="test"))


# --- spans ----------------------------------------------------------------------------------------


async def test_spans_per_item_and_attempt(
    clock: trio.testing.MockClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(trace, "get_tracer", provider.get_tracer)
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    model, _ = answering(fail=lambda p, call: rate_limited(1) if call == 1 else None)
    await collect(run_batch(items(1), model=model, retry=FAST_RETRY, instrument=True))
    spans = exporter.get_finished_spans()
    names = [s.name for s in spans]
    assert names.count("chat fn") == 2 and names.count("harness item") == 1
    failed, ok = (s for s in spans if s.name == "chat fn")
    assert failed.attributes is not None and failed.attributes["error.type"] == "ModelRateLimitError"
    assert ok.attributes is not None and ok.attributes["gen_ai.provider.name"] == "function"
    assert ok.attributes["gen_ai.usage.input_tokens"] == 10
    item = next(s for s in spans if s.name == "harness item")
    assert item.attributes is not None and item.attributes["trio_direct.harness.attempts"] == 2
    assert any(e.name == "gen_ai.retry" for e in item.events)
    provider.shutdown()


def test_harness_all_is_sorted_complete_and_importable() -> None:
    import trio_direct.harness as harness

    exported = list(harness.__all__)
    assert exported == sorted(exported) and len(set(exported)) == len(exported)
    assert all(hasattr(harness, name) for name in exported)
    # Submodules (`trio_direct.harness.ray`, once imported) are attributes too, but not names.
    public = {n for n, v in vars(harness).items() if not n.startswith("_") and not inspect.ismodule(v)}
    assert public <= set(exported) | {"annotations"}


# --- properties -----------------------------------------------------------------------------------


@given(st.lists(st.floats(min_value=1e-4, max_value=1e3), min_size=1, max_size=300), st.integers(1, 100))
def test_histogram_percentile_is_within_one_percent_of_the_exact_one(values: list[float], q: int) -> None:
    hist = LatencyHistogram()
    for value in values:
        hist.add(value)
    exact = sorted(values)[max(1, math.ceil(q / 100 * len(values))) - 1]
    assert hist.percentile(q) == pytest.approx(exact, rel=0.012)


@given(
    st.lists(
        st.tuples(st.sampled_from(["ok", "429", "slow", "400"]), st.integers(1, 8)),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 4),
    st.integers(4, 32),
)
def test_admission_never_exceeds_its_limit_and_the_limit_stays_in_bounds(
    script: list[tuple[str, int]], floor: int, ceiling: int
) -> None:
    """Random waves of requests with random results: running <= limit at every admission, and the
    adaptive limit never leaves [min_running, max_running]."""
    limits = Limits(min_running=floor, max_running=ceiling, initial_running=floor, cooldown=0.5)

    async def main() -> None:
        ctl = AdmissionController(limits)
        for result, width in script:
            async with trio.open_nursery() as nursery:
                for _ in range(width):

                    async def one(result: str = result) -> None:
                        ticket = await ctl.acquire()
                        assert ctl.running <= ctl.limit
                        await trio.sleep(5.0 if result == "slow" else 0.1)
                        error = {
                            "429": rate_limited(),
                            "400": ModelHTTPError.for_category(
                                ModelRequestRejectedError, status_code=400, model_name="m"
                            ),
                        }.get(result)
                        ctl.release(ticket, error=error)
                        assert floor <= ctl.limit <= ceiling

                    nursery.start_soon(one)
        assert ctl.running == 0 and ctl.queued == 0

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
