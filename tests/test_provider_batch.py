"""trio_direct.harness provider batch mode against the fake batch server (benchmarks/fake_batch.py).

The fake is a real HTTP server on loopback implementing the OpenAI Batch API, Anthropic Message
Batches and Gemini batch mode with their states, limits and result formats; each test drives the
client through it. Parsers are also checked against real-traffic-shaped result files
(tests/data/provider_batch/), built from the providers' documented shapes.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.fake_batch import FakeBatchServer
from trio_direct import (
    ModelRequestRejectedError,
    ModelResponse,
    ModelSettings,
    RequestUsage,
    TextPart,
    UserError,
)
from trio_direct.exceptions import ModelAPIError, ModelHTTPError
from trio_direct.harness import (
    BatchCanceledError,
    BatchExpiredError,
    BatchJob,
    BatchJobFailedError,
    Item,
    Journal,
    Outcome,
    batch_cost,
    is_batch_priced,
    run_provider_batch,
    run_provider_batch_sync,
)
from trio_direct.harness._batch_anthropic import parse_results as anthropic_results
from trio_direct.harness._batch_gemini import parse_file as gemini_file
from trio_direct.harness._batch_gemini import parse_rows as gemini_rows
from trio_direct.harness._batch_gemini import parse_status as gemini_status
from trio_direct.harness._batch_openai import parse_output_lines as openai_lines
from trio_direct.harness._batch_openai import parse_status as openai_status
from trio_direct.harness._batch_wire import BatchEntry
from trio_direct.harness._provider_batch import ProviderBatchRun, custom_id_for
from trio_direct.models._instructions import with_instructions
from trio_direct.models.anthropic import AnthropicModel
from trio_direct.models.base import HTTPModel, Provider
from trio_direct.models.google import GoogleModel
from trio_direct.models.openai import OpenAIChatModel
from trio_direct.models.openai_responses import OpenAIResponsesModel
from trio_direct.models.test import TestModel
from trio_direct.tools import ModelRequestParameters

DATA = Path(__file__).parent / "data" / "provider_batch"
KEY = "sk-secret-key-0123456789"
WIRES = ["chat", "responses", "anthropic", "gemini"]
FAST = {"poll_interval": 0.02, "max_poll_interval": 0.05}


def make_model(kind: str, url: str) -> HTTPModel:
    if kind == "chat":
        return OpenAIChatModel("gpt-4o-mini", provider=Provider("openai", url + "/v1", KEY))
    if kind == "responses":
        return OpenAIResponsesModel("gpt-5-mini", provider=Provider("openai", url + "/v1", KEY))
    if kind == "anthropic":
        return AnthropicModel("claude-sonnet-4-5", api_key=KEY, base_url=url)
    return GoogleModel("gemini-2.5-flash", api_key=KEY, base_url=url)


def items(n: int, *, fail: set[int] = frozenset(), prefix: str = "item") -> list[Item]:  # type: ignore[assignment]
    return [
        Item.from_prompt(
            f"{prefix}-{i}", f"question {i}" + (" [fail]" if i in fail else ""), metadata={"i": i}
        )
        for i in range(n)
    ]


@pytest.fixture
def server() -> Iterator[FakeBatchServer]:
    with FakeBatchServer(processing_s=0.05, seed=7) as srv:
        yield srv


async def collect(**options: Any) -> tuple[list[Outcome], ProviderBatchRun]:
    got: list[Outcome] = []
    async with run_provider_batch(**{**FAST, **options}) as run:
        async for outcome in run:
            got.append(outcome)
    return got, run


def text_of(response: ModelResponse | None) -> str:
    assert response is not None
    return "".join(p.content for p in response.parts if isinstance(p, TextPart))


# -- every wire, end to end ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WIRES)
async def test_every_item_ends_once_with_the_live_parsers_response(
    kind: str, server: FakeBatchServer
) -> None:
    model = make_model(kind, server.url)
    got, run = await collect(items=items(7, fail={4}), model=model, max_requests_per_job=3)

    assert sorted(o.item_id for o in got) == sorted(f"item-{i}" for i in range(7))
    assert len(run.jobs) == 3 and [len(j.item_ids) for j in run.jobs] == [3, 3, 1]
    assert all(j.state == "collected" for j in run.jobs)
    by_id = {o.item_id: o for o in got}
    for i in (0, 1, 2, 3, 5, 6):
        outcome = by_id[f"item-{i}"]
        assert outcome.ok and outcome.source == "batch" and outcome.attempts == 1
        assert text_of(outcome.response) == f"echo: question {i}"
        assert outcome.metadata == {"i": i}
        assert outcome.usage.input_tokens > 0 and outcome.usage.output_tokens == 3
        assert outcome.response is not None and is_batch_priced(outcome.response)
    failed = by_id["item-4"]
    assert isinstance(failed.error, ModelRequestRejectedError) and failed.error.status_code == 400
    assert server.created_by_provider[{"chat": "openai", "responses": "openai"}.get(kind, kind)] == 3


@pytest.mark.parametrize("kind", WIRES)
async def test_bodies_are_the_live_builders_and_results_the_live_parsers(
    kind: str, server: FakeBatchServer
) -> None:
    """What the server received is the live request body; what came back parses as a live reply does."""
    model = make_model(kind, server.url)
    batch_items = [
        Item.from_prompt("a", "first", system="be brief", model_settings=ModelSettings(max_tokens=50)),
        Item.from_prompt("b", "second", instructions="answer in French"),
    ]
    got, _ = await collect(items=batch_items, model=model)
    (job,) = server.jobs.values()
    sent = {custom_id: body for custom_id, body in job.requests}
    for item in batch_items:
        params = with_instructions(item.messages, ModelRequestParameters())
        settings, params = model.prepare_request(item.model_settings, params)
        live = model.build_request(list(item.messages), settings, params, stream=False)
        assert sent[item.id] == orjson.loads(live.body)
    for outcome, (_, answer) in zip(
        sorted(got, key=lambda o: o.item_id), enumerate(job.answers), strict=True
    ):
        assert answer is not None and outcome.response is not None
        live_response = model.parse_response(
            orjson.dumps(answer.body),
            {"content-type": "application/json"},
            ModelRequestParameters(),
            ModelSettings(),
        )
        details = dict(outcome.response.provider_details or {})
        assert details.pop("processing") == "batch"
        assert outcome.response.parts == live_response.parts
        assert outcome.response.usage == live_response.usage
        assert outcome.response.provider_response_id == live_response.provider_response_id
        assert outcome.response.finish_reason == live_response.finish_reason


@pytest.mark.parametrize("kind", WIRES)
async def test_expiry_leaves_what_ran_and_expires_the_rest(kind: str) -> None:
    with FakeBatchServer(processing_s=60.0, seed=1) as srv:
        model = make_model(kind, srv.url)

        def expire_soon(job: BatchJob) -> None:
            # About half of the requests have run when the job expires.
            found = srv.jobs[job.batch_id]
            found.processing_s = 0.4
            found.expire_s = 0.2 + (srv.clock() - found.created)

        got, _ = await collect(items=items(6), model=model, on_job=expire_soon)
    ok = [o for o in got if o.ok]
    expired = [o for o in got if isinstance(o.error, BatchExpiredError)]
    assert len(got) == 6 and len(ok) + len(expired) == 6
    assert 1 <= len(ok) <= 5 and expired
    assert "expired" in str(expired[0].error) and "run the job again" in str(expired[0].error)


@pytest.mark.parametrize("kind", WIRES)
async def test_cancel_jobs_ends_unrun_requests_as_canceled(kind: str) -> None:
    with FakeBatchServer(processing_s=0.6, seed=2) as srv:
        model = make_model(kind, srv.url)
        got: list[Outcome] = []
        async with run_provider_batch(items(6), model=model, **FAST) as run, trio.open_nursery() as nursery:

            async def cancel_later() -> None:
                while not run.jobs or srv.jobs[run.jobs[0].batch_id].counts(srv.clock())[0] < 2:
                    await trio.sleep(0.01)
                run.cancel_jobs()

            nursery.start_soon(cancel_later)
            async for outcome in run:
                got.append(outcome)
        assert srv.stats["cancels"] == 1
    canceled = [o for o in got if isinstance(o.error, BatchCanceledError)]
    assert len(got) == 6 and canceled and len(canceled) < 6
    assert all(o.ok for o in got if o not in canceled)


async def test_anthropic_results_in_any_order_are_matched_by_custom_id(server: FakeBatchServer) -> None:
    model = make_model("anthropic", server.url)
    got, _ = await collect(items=items(40), model=model)
    (job,) = server.jobs.values()
    shuffled = [orjson.loads(line)["custom_id"] for line in server.anthropic_results(job).splitlines()]
    assert shuffled != sorted(shuffled, key=lambda c: int(c.split("-")[1]))  # the fake really shuffles
    for outcome in got:
        assert text_of(outcome.response) == f"echo: question {outcome.item_id.split('-')[1]}"


async def test_ids_providers_refuse_travel_as_hashed_custom_ids(server: FakeBatchServer) -> None:
    model = make_model("anthropic", server.url)
    odd = [Item.from_prompt("has space/and:colon", "x"), Item.from_prompt("é" * 70, "y")]
    got, _ = await collect(items=odd, model=model)
    assert {o.item_id for o in got} == {"has space/and:colon", "é" * 70} and all(o.ok for o in got)


# -- limits -----------------------------------------------------------------------------------------


async def test_openai_job_over_the_servers_request_limit_fails_whole_with_its_errors() -> None:
    with FakeBatchServer(processing_s=0.01, openai_max_requests=3) as srv:
        got, _ = await collect(items=items(5), model=make_model("chat", srv.url))
    assert len(got) == 5 and all(isinstance(o.error, BatchJobFailedError) for o in got)
    error = got[0].error
    assert isinstance(error, BatchJobFailedError) and "batch_request_limit_exceeded" in str(error)


async def test_anthropic_refused_create_fails_each_item_with_the_providers_error() -> None:
    with FakeBatchServer(processing_s=0.01, anthropic_max_requests=3) as srv:
        got, _ = await collect(items=items(5), model=make_model("anthropic", srv.url))
    assert len(got) == 5 and all(isinstance(o.error, ModelHTTPError) for o in got)
    assert srv.stats["jobs_created"] == 0


@pytest.mark.parametrize("kind", WIRES)
async def test_jobs_are_split_at_the_byte_limit(kind: str, server: FakeBatchServer) -> None:
    model = make_model(kind, server.url)
    big = [Item.from_prompt(f"b{i}", "x" * 3000) for i in range(6)]
    got, run = await collect(items=big, model=model, max_bytes_per_job=7000)
    assert len(run.jobs) == 3 and all(o.ok for o in got)


async def test_an_item_bigger_than_a_job_fails_alone(server: FakeBatchServer) -> None:
    model = make_model("chat", server.url)
    mixed = [Item.from_prompt("small", "x"), Item.from_prompt("huge", "x" * 5000)]
    got, _ = await collect(items=mixed, model=model, max_bytes_per_job=2000)
    by_id = {o.item_id: o for o in got}
    assert by_id["small"].ok and isinstance(by_id["huge"].error, UserError)


@given(
    sizes=st.lists(st.integers(1, 500), max_size=60),
    most=st.integers(1, 10),
    most_bytes=st.integers(500, 3000),
)
def test_chunks_keep_order_and_respect_both_limits(sizes: list[int], most: int, most_bytes: int) -> None:
    run = run_provider_batch([], max_requests_per_job=most, max_bytes_per_job=most_bytes)
    wire = _SizedWire()
    members: list[Any] = [
        attrs.make_class("P", ["entry"])(BatchEntry(custom_id=str(i), body=b"x" * s, model_name="m"))
        for i, s in enumerate(sizes)
    ]
    chunks = list(run._chunks(wire, members))  # pyright: ignore[reportPrivateUsage]
    assert [m for chunk in chunks for m in chunk] == members
    for chunk in chunks:
        assert 1 <= len(chunk) <= most
        assert sum(len(m.entry.body) for m in chunk) <= most_bytes


class _SizedWire:
    name = "sized"
    max_requests = 10_000
    max_bytes = 10**9

    def entry_size(self, entry: BatchEntry) -> int:
        return len(entry.body)


@given(st.text(min_size=1, max_size=100))
def test_custom_ids_are_valid_everywhere_and_stable(item_id: str) -> None:
    custom_id = custom_id_for(item_id)
    assert custom_id == custom_id_for(item_id)
    assert 1 <= len(custom_id) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-") for c in custom_id)


# -- the journal: resume polling instead of paying twice ------------------------------------------------


@pytest.mark.parametrize("kind", WIRES)
async def test_a_restarted_run_polls_the_journaled_job_instead_of_submitting_again(
    kind: str, tmp_path: Path
) -> None:
    journal_path = tmp_path / "job.journal"
    with FakeBatchServer(processing_s=0.5, seed=3) as srv:
        model = make_model(kind, srv.url)
        first: list[Outcome] = []

        async with run_provider_batch(
            items(8), model=model, journal=str(journal_path), max_requests_per_job=4, **FAST
        ) as run:
            while len(run.jobs) < 2:
                await trio.sleep(0.01)
            run.stop()  # the process gives up waiting: both jobs stay with the provider
            async for outcome in run:
                first.append(outcome)
        assert first == [] and srv.stats["jobs_created"] == 2

        second, run2 = await collect(items=items(8), model=model, journal=str(journal_path))
        assert srv.stats["jobs_created"] == 2  # nothing paid twice
        assert all(job.resumed for job in run2.jobs) and len(run2.jobs) == 2
        assert sorted(o.item_id for o in second) == sorted(f"item-{i}" for i in range(8))
        assert all(o.ok and o.source == "batch" for o in second)

        third, run3 = await collect(items=items(8), model=model, journal=str(journal_path))
        assert run3.jobs == [] and all(o.source == "journal" for o in third) and len(third) == 8
    with Journal(journal_path) as journal:
        assert len(journal) == 8


async def test_failed_items_are_resubmitted_on_a_rerun_and_only_they(
    server: FakeBatchServer, tmp_path: Path
) -> None:
    model = make_model("chat", server.url)
    journal = str(tmp_path / "j")
    got, _ = await collect(items=items(4, fail={2}), model=model, journal=journal)
    assert sum(not o.ok for o in got) == 1
    fixed = items(4)
    again, run = await collect(items=fixed, model=model, journal=journal)
    assert len(run.jobs) == 1 and run.jobs[0].item_ids == ["item-2"]
    assert all(o.ok for o in again)


# -- cost, sync, misuse ---------------------------------------------------------------------------------


def test_batch_cost_is_half_the_live_price_unless_a_price_list_knows_better() -> None:
    response = ModelResponse([TextPart("x")], usage=RequestUsage(input_tokens=10, cost=Decimal("0.30")))
    assert batch_cost(response) == Decimal("0.30")  # not batch-processed: the live price
    batched = attrs.evolve(response, provider_details={"processing": "batch"})
    assert is_batch_priced(batched) and batch_cost(batched) == Decimal("0.15")
    assert batch_cost(attrs.evolve(batched, usage=RequestUsage())) is None


async def test_a_custom_cost_function_sees_the_batch_mark(server: FakeBatchServer) -> None:
    seen: list[bool] = []

    def cost(response: ModelResponse) -> Decimal:
        seen.append(is_batch_priced(response))
        return Decimal("0.5") * response.usage.output_tokens

    got, run = await collect(items=items(3), model=make_model("chat", server.url), cost=cost)
    assert seen == [True] * 3 and all(o.cost == Decimal("1.5") for o in got)
    assert run.summary().cost == Decimal("4.5")


def test_sync_api_through_the_portal(server: FakeBatchServer) -> None:
    model = make_model("gemini", server.url)
    with run_provider_batch_sync(items(5), model=model, **FAST) as run:
        got = list(run)
        assert len(run.jobs) == 1
    assert sorted(o.item_id for o in got) == [f"item-{i}" for i in range(5)] and all(o.ok for o in got)


async def test_a_model_without_a_batch_api_is_a_user_error() -> None:
    with pytest.raises(UserError, match="batch API"):
        await collect(items=items(1), model=TestModel())


async def test_vertex_gemini_is_refused_with_the_reason(server: FakeBatchServer) -> None:
    model = make_model("gemini", server.url)
    model._url = server.url + "/v1/projects/p/locations/l/publishers/google/models/gemini:generateContent"  # pyright: ignore[reportAttributeAccessIssue]
    with pytest.raises(UserError, match="Vertex"):
        await collect(items=items(1), model=model)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("poll_interval", 0.0),
        ("max_poll_interval", -1.0),
        ("max_requests_per_job", 0),
        ("max_bytes_per_job", -5),
    ],
)
def test_bad_arguments_are_user_errors(option: str, value: float) -> None:
    with pytest.raises(UserError, match=option):
        run_provider_batch([], **{option: value})


async def test_the_api_key_never_reaches_an_error(server: FakeBatchServer) -> None:
    model = OpenAIChatModel("gpt-4o-mini", provider=Provider("openai", server.url + "/nowhere", KEY))
    got, _ = await collect(items=items(1), model=model)
    (outcome,) = got
    assert isinstance(outcome.error, ModelAPIError)
    assert KEY not in repr(outcome.error) and KEY not in str(outcome.to_python())


# -- real-traffic-shaped result files -------------------------------------------------------------------


def live_parse(model: HTTPModel, body: bytes | None) -> ModelResponse:
    return model.parse_response(
        body or b"", {"content-type": "application/json"}, ModelRequestParameters(), ModelSettings()
    )


def test_openai_output_and_error_files() -> None:
    model = make_model("chat", "http://x")
    results = openai_lines((DATA / "openai_output.jsonl").read_bytes()) + openai_lines(
        (DATA / "openai_errors.jsonl").read_bytes()
    )
    kinds = {r.custom_id: r.kind for r in results}
    assert kinds == {
        "request-1": "succeeded",
        "request-2": "errored",
        "request-3": "expired",
        "request-4": "canceled",
    }
    response = live_parse(model, results[0].body)
    assert response.provider_response_id == "chatcmpl-AHEx6pa0QrTtNyxKEAtSIgsJg9xYC"
    assert response.usage.input_tokens == 22 and response.usage.output_tokens == 2
    error = model.http_error(results[1].status, {}, results[1].body or b"", "gpt-4o-mini")
    assert isinstance(error, ModelHTTPError) and error.status_code == 400
    status = openai_status(orjson.loads((DATA / "openai_batch.json").read_bytes()))
    assert status.ended and status.done == 4 and status.total == 4
    assert status.details["output_file_id"] == "file-cvaTdG" and status.missing is None


def test_anthropic_results_file() -> None:
    model = make_model("anthropic", "http://x")
    results = anthropic_results((DATA / "anthropic_results.jsonl").read_bytes())
    assert [r.kind for r in results] == ["succeeded", "errored", "expired", "canceled"]
    response = live_parse(model, results[0].body)
    assert response.provider_response_id == "msg_014VwiXbi91y3JMjcpyGBHX5"
    assert text_of(response) == "Hello again! It's nice to see you."
    assert results[1].status == 400


def test_gemini_operation_and_responses_file() -> None:
    model = make_model("gemini", "http://x")
    operation = orjson.loads((DATA / "gemini_operation.json").read_bytes())
    status = gemini_status(operation)
    assert status.ended and status.state == "BATCH_STATE_SUCCEEDED" and status.total == 2
    rows = gemini_rows(status.details["output"])
    assert [r.custom_id for r in rows] == ["request-1", "request-2"]
    assert [r.kind for r in rows] == ["succeeded", "errored"]
    assert text_of(live_parse(model, rows[0].body)).startswith("Hello")
    error = model.http_error(rows[1].status, {}, rows[1].body or b"", "gemini-2.5-flash")
    assert isinstance(error, ModelHTTPError) and error.status_code == 400
    file_rows = gemini_file((DATA / "gemini_responses.jsonl").read_bytes())
    assert [r.kind for r in file_rows] == ["succeeded", "errored"]
