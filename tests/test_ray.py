"""trio_direct.harness.ray: the cluster budget (pure, fake clock) and the harness on a local Ray cluster.

The cluster tests start one local Ray (``ray.init(num_cpus=2)``) for the module and run Ray Data jobs
against the rate-limited fake provider (benchmarks/fake_provider.py with ``--rpm``). They are skipped
when Ray is not installed (the ``ray`` extra). Runtime: one to two minutes on the 2-core machine, most of it
Ray starting its workers; the two cluster tests are marked ``slow`` (CI still runs them).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("ray")

import ray
import ray.data

from benchmarks.fake_provider import get_stats, reset_stats, start_fake_provider
from trio_direct import UserError
from trio_direct.harness.ray import (
    RESULT_COLUMNS,
    ClusterBudget,
    HarnessMapper,
    OutcomeStore,
    cluster_job,
)
from trio_direct.models.base import Provider
from trio_direct.models.openai import OpenAIChatModel

# Ray Data warns about its own deprecated settings while it runs; those are Ray's to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray", "ignore::FutureWarning:ray")

ROOT = Path(__file__).resolve().parent.parent
RPM = 1200  # 20 requests/s for the whole cluster


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


# -- the budget, pure -------------------------------------------------------------------------------


@given(
    steps=st.lists(st.tuples(st.floats(0, 2), st.integers(1, 8)), min_size=1, max_size=80),
    rpm=st.floats(6, 6000),
    burst=st.floats(0.1, 5),
)
def test_the_budget_never_grants_more_than_its_rate_plus_one_burst(
    steps: list[tuple[float, int]], rpm: float, burst: float
) -> None:
    clock = FakeClock()
    budget = ClusterBudget(rpm=rpm, burst_s=burst, clock=clock)
    granted = 0
    for dt, want in steps:
        clock.now += dt
        got, wait = budget.lease(want)
        assert 0 <= got <= want and (got > 0 or wait > 0)
        granted += got
    assert granted <= rpm / 60 * clock.now + max(rpm / 60 * burst, 1) + 1e-6


def test_the_wait_is_when_the_next_request_fits() -> None:
    clock = FakeClock()
    budget = ClusterBudget(rpm=60, burst_s=1, clock=clock)
    assert budget.lease(5) == (1, 0.0)
    got, wait = budget.lease(1)
    assert got == 0 and wait == pytest.approx(1.0)
    clock.now += wait
    assert budget.lease(1) == (1, 0.0)


def test_tokens_per_minute_bound_the_grant_too() -> None:
    clock = FakeClock()
    budget = ClusterBudget(tpm=6000, burst_s=1, clock=clock)  # 100 tokens/s
    assert budget.lease(10, tokens_each=30) == (3, 0.0)
    got, wait = budget.lease(1, tokens_each=30)
    assert got == 0 and wait == pytest.approx(0.2)


def test_aimd_backs_off_on_429s_once_per_cooldown_and_recovers() -> None:
    clock = FakeClock()
    budget = ClusterBudget(rpm=600, clock=clock, decrease=0.5, increase=0.1, cooldown_s=2)
    budget.report(ok=0, throttled=3)
    budget.report(ok=0, throttled=3)  # within the cooldown: one decrease
    assert budget.factor == 0.5
    clock.now += 1
    budget.report(ok=5, throttled=0)  # no growth during the cooldown either
    assert budget.factor == 0.5
    clock.now += 2
    budget.report(ok=3, throttled=0)
    assert budget.factor == pytest.approx(0.8)
    for _ in range(20):
        budget.report(ok=1, throttled=0)
    assert budget.factor == 1.0


def test_bad_budgets_are_user_errors() -> None:
    with pytest.raises(UserError, match="rpm"):
        ClusterBudget(rpm=0)
    with pytest.raises(UserError):
        ClusterBudget(rpm=10, decrease=1.5)


def test_the_store_keeps_the_first_outcome_of_an_item() -> None:
    store = OutcomeStore()
    assert store.put_many([b'{"item_id": "a", "n": 1}', b'{"item_id": "b"}']) == 2
    assert store.put_many([b'{"item_id": "a", "n": 2}']) == 0
    assert store.get_many(["a", "c"]) == {"a": b'{"item_id": "a", "n": 1}'} and store.duplicates == 1


# -- on a local Ray cluster ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with start_fake_provider(chunks=3, ttft_ms=20, extra_args=["--rpm", str(RPM), "--burst-s", "1"]) as url:
        yield url


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    try:
        yield
    finally:
        ray.shutdown()


def model_for(url: str) -> OpenAIChatModel:
    return OpenAIChatModel("gpt-4o-mini", provider=Provider("openai", url + "/v1", "sk-test-key-1234"))


def dataset(n: int, prefix: str) -> Any:
    return ray.data.from_items([{"id": f"{prefix}-{i}", "prompt": f"question {i}"} for i in range(n)])


@pytest.mark.slow
def test_four_workers_share_one_rpm_budget_and_stay_within_it(cluster: None, provider: str) -> None:
    reset_stats(provider)
    # The provider's bucket holds 1 s of its rate; the cluster's holds half that, which leaves room for
    # the jitter between a lease and its request reaching the provider.
    job = cluster_job("shared-rpm", rpm=RPM, burst_s=0.5)
    n = 160
    out = (
        dataset(n, "s")
        .map_batches(
            HarnessMapper,
            fn_constructor_kwargs={"model": model_for(provider), "job": "shared-rpm"},
            compute=ray.data.ActorPoolStrategy(size=4),
            batch_size=10,
            num_cpus=0.25,
        )
        .take_all()
    )
    stats = get_stats(provider)
    assert sorted(row["id"] for row in out) == sorted(f"s-{i}" for i in range(n))
    assert all(row["error"] is None and row["response"] for row in out), [
        r["error"] for r in out if r["error"]
    ][:3]
    assert set(RESULT_COLUMNS) <= set(out[0])
    snapshot = job.budget_snapshot()
    # Leases come in blocks of 4: each worker may end holding a few it did not need.
    assert n <= snapshot["granted"] <= n + 4 * 4 and snapshot["throttled"] == 0
    # The provider refused nothing: together the four workers kept to the one budget.
    assert stats["rl_refused_requests"] == 0, stats
    elapsed = (stats["rl_last_ns"] - stats["rl_first_ns"]) / 1e9
    rate = (stats["rl_admitted"] - RPM / 60) / max(elapsed, 1e-9)  # past the first burst
    assert rate <= RPM / 60 * 1.1, (rate, elapsed, stats)


class CrashingMapper(HarnessMapper):
    """A worker that dies (``os._exit``) half-way through the first batch holding ``crash_id``."""

    def __init__(self, *, crash_id: str, marker: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._crash_id = crash_id
        self._marker = Path(marker)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        ids = [str(i) for i in batch["id"]]
        if self._crash_id in ids and not self._marker.exists():
            self._marker.write_text("crashed")
            half = {name: values[: len(ids) // 2] for name, values in batch.items()}
            super().__call__(half)  # these are sent, answered and recorded; then the worker dies
            os.kill(os.getpid(), signal.SIGKILL)
        return super().__call__(batch)


@pytest.mark.slow
def test_a_worker_killed_mid_job_leaves_every_item_once_and_pays_once(
    cluster: None, provider: str, tmp_path: Path
) -> None:
    reset_stats(provider)
    job = cluster_job("crash", rpm=RPM, burst_s=0.5)
    n = 60
    out = (
        dataset(n, "c")
        .map_batches(
            CrashingMapper,
            fn_constructor_kwargs={
                "model": model_for(provider),
                "job": "crash",
                "crash_id": "c-25",
                "marker": str(tmp_path / "crashed"),
                "flush_every": 1,
            },
            compute=ray.data.ActorPoolStrategy(size=4),
            batch_size=10,
            num_cpus=0.25,
        )
        .take_all()
    )
    stats = get_stats(provider)
    assert (tmp_path / "crashed").exists()
    ids = [row["id"] for row in out]
    assert sorted(ids) == sorted(f"c-{i}" for i in range(n)) and len(set(ids)) == n
    assert all(row["error"] is None for row in out)
    assert sum(row["source"] == "store" for row in out) == 5  # the dead worker's half batch
    assert stats["rl_admitted"] == n  # nothing the dead worker had finished was sent again
    assert job.finished() == n
