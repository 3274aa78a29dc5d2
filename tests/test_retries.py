"""trio_direct.retries: RetryPolicy and RetryingModel.

Against the loopback server with a MockClock whose virtual time moves only by jumps, so every wait
is exact: the elapsed virtual time of a call is the sum of the waits it slept. httpx timers are off
(``NO_HTTP_TIMEOUTS``) so that autojump never jumps to an httpx deadline while the real socket is
being waited on; tests that also need a caller deadline use a small real-time autojump threshold.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
import trio
import trio.testing

from tests.loopback import LoopbackServer, Reply, head, reset, stall
from tests.reliability import (
    NO_HTTP_TIMEOUTS,
    PROMPT,
    assert_all_connections_closed,
    chunk,
    completion,
    openai_model,
    sse_text,
    unused_port,
)
from trio_direct import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    UserError,
    model_request,
    model_request_stream,
    model_request_sync,
)
from trio_direct._retry_after import parse_reset
from trio_direct.exceptions import ModelQuotaExceededError
from trio_direct.models.fallback import FallbackModel
from trio_direct.retries import (
    RetryAttempt,
    RetryingModel,
    RetryPolicy,
    is_retryable,
    provider_wait,
)

NO_JITTER = {"jitter": 0.0}


@pytest.fixture
def clock() -> trio.testing.MockClock:
    """Virtual time that moves only when every task is blocked (and then straight to the next deadline)."""
    return trio.testing.MockClock(autojump_threshold=0)


@pytest.fixture
def lazy_clock() -> trio.testing.MockClock:
    """Like ``clock`` but jumps only after 0.2 s of real idleness, for tests with a caller deadline
    around real socket I/O (the loopback answers in milliseconds)."""
    return trio.testing.MockClock(autojump_threshold=0.2)


@pytest.fixture
def closes_everything(loopback: LoopbackServer) -> Iterator[None]:
    """After the test's trio.run has ended, the server saw every connection closed."""
    yield
    assert_all_connections_closed(loopback)


class Recorder:
    def __init__(self) -> None:
        self.attempts: list[RetryAttempt] = []

    def __call__(self, attempt: RetryAttempt) -> None:
        self.attempts.append(attempt)

    @property
    def waits(self) -> list[float]:
        return [a.wait for a in self.attempts]

    @property
    def sources(self) -> list[str]:
        return [a.source for a in self.attempts]


def retrying(srv: LoopbackServer | str, rec: Recorder | None = None, **policy: Any) -> RetryingModel:
    options: dict[str, Any] = {**NO_JITTER, **policy}
    if rec is not None:
        options["on_retry"] = rec
    return RetryingModel(openai_model(srv, settings=NO_HTTP_TIMEOUTS), RetryPolicy(**options))


def error_body(message: str, type_: str = "server_error", code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "code": code}}


# ---------------------------------------------------------------------------------------------
# Pure parts: reset headers, the default predicate, backoff
# ---------------------------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("1h2m3.5s", 3723.5),
        ("250ms", 0.25),
        ("20ms", 0.02),
        ("0.5s", 0.5),
        ("1.5", 1.5),
        ("0", 0.0),
        (str(NOW + 7), 7.0),  # epoch seconds
        (str(int((NOW + 7) * 1000)), 7.0),  # epoch milliseconds
        ("2023-11-14T22:13:27Z", 7.0),  # RFC 3339 (Anthropic)
        ("2023-11-14T22:13:27+00:00", 7.0),
        ("Tue, 14 Nov 2023 22:13:27 GMT", 7.0),  # HTTP date
        ("2023-11-14T22:13:00Z", 0.0),  # in the past
        ("soon", None),
        ("", None),
        ("1x", None),
        ("nan", None),
        ("2023-11-14T22:13:27", None),  # no time zone: cannot be placed
    ],
)
def test_parse_reset(value: str, expected: float | None) -> None:
    got = parse_reset(value, NOW)
    if expected is None:
        assert got is None
    else:
        assert got is not None and math.isclose(got, expected, abs_tol=1e-6)


def rate_limit(headers: dict[str, str], status: int = 429) -> ModelHTTPError:
    return ModelHTTPError.for_category(
        ModelRateLimitError, status_code=status, model_name="m", body=None, headers=headers
    )


def test_provider_wait_prefers_retry_after_then_the_exhausted_limit() -> None:
    assert provider_wait(rate_limit({"retry-after": "3"})) == (3.0, "retry-after")
    assert provider_wait(rate_limit({"retry-after-ms": "1500", "retry-after": "9"})) == (1.5, "retry-after")
    headers = {
        "x-ratelimit-reset-requests": "2s",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-tokens": "6m0s",
        "x-ratelimit-remaining-tokens": "5000",
    }
    # the exhausted one decides
    assert provider_wait(rate_limit(headers)) == (2.0, "rate-limit-reset")
    # nothing says exhausted: the token budget decides (the request is bigger than what is left)
    headers["x-ratelimit-remaining-requests"] = "10"
    assert provider_wait(rate_limit(headers)) == (360.0, "rate-limit-reset")
    anthropic = {
        "anthropic-ratelimit-requests-reset": "2023-11-14T22:13:25Z",
        "anthropic-ratelimit-requests-remaining": "3",
        "anthropic-ratelimit-output-tokens-reset": "2023-11-14T22:13:30Z",
        "anthropic-ratelimit-output-tokens-remaining": "0",
    }
    assert provider_wait(rate_limit(anthropic), now=NOW) == (10.0, "rate-limit-reset")
    # reset headers count only for rate limits; Retry-After counts for anything
    server = ModelHTTPError.for_category(
        ModelServerError, status_code=503, model_name="m", headers={"x-ratelimit-reset-requests": "1s"}
    )
    assert provider_wait(server) is None
    assert provider_wait(ModelServerError("m", "x", retry_after=4)) == (4, "retry-after")
    assert provider_wait(ValueError("x")) is None


def http_error(status: int, headers: dict[str, str] | None = None, **kw: Any) -> ModelHTTPError:
    from trio_direct.exceptions import http_error_category

    return ModelHTTPError.for_category(
        http_error_category(status, **kw), status_code=status, model_name="m", headers=headers
    )


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (http_error(429), True),
        (http_error(429, code="insufficient_quota"), False),
        (http_error(402), False),
        (http_error(500), True),
        (http_error(502), True),
        (http_error(503), True),
        (http_error(504), True),
        (http_error(529), True),
        (http_error(408), True),
        (http_error(409), True),
        (http_error(400), False),
        (http_error(401), False),
        (http_error(404), False),
        (http_error(422), False),
        (http_error(500, {"x-should-retry": "false"}), False),
        (http_error(400, {"x-should-retry": "true"}), True),
        (ModelConnectionError("m", "refused", phase="connect"), True),
        (ModelConnectionError("m", "pool", phase="pool"), True),
        (ModelTimeoutError("m", "connect timeout", phase="connect"), True),
        (ModelConnectionError("m", "reset", phase="read"), False),
        (ModelConnectionError("m", "broken pipe", phase="write"), False),
        (ModelTimeoutError("m", "read timeout", phase="read"), False),
        (ModelConnectionError("m", "?", phase=None), False),
        (ModelOverloadedError("m", "overloaded in stream", in_stream=True), True),
        (ModelQuotaExceededError("m", "quota"), False),
        (ModelAPIError("m", "unknown"), False),
        (UserError("bad"), False),
        (ValueError("x"), False),
    ],
)
def test_is_retryable(error: Exception, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_backoff_grows_caps_and_jitters_within_bounds() -> None:
    exact = RetryPolicy(initial_delay=0.5, multiplier=2, max_delay=3, jitter=0)
    assert [exact.backoff(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert exact.backoff(10_000) == 3.0  # no overflow
    rng = random.Random(1234)
    jittery = RetryPolicy(initial_delay=1, multiplier=2, max_delay=100, jitter=0.25, rand=rng.random)
    draws = [jittery.backoff(3) for _ in range(500)]
    assert all(3.0 <= d <= 4.0 for d in draws)
    assert max(draws) - min(draws) > 0.5  # really random
    full = RetryPolicy(initial_delay=1, jitter=1, rand=lambda: 0.999999)
    assert 0 <= full.backoff(1) < 0.001


@pytest.mark.parametrize(
    "bad",
    [
        {"max_attempts": 0},
        {"initial_delay": -1},
        {"max_delay": math.inf},
        {"multiplier": 0.5},
        {"jitter": 1.5},
        {"jitter": -0.1},
    ],
)
def test_policy_rejects_bad_values(bad: dict[str, Any]) -> None:
    with pytest.raises(UserError, match="RetryPolicy"):
        RetryPolicy(**bad)


def test_retry_on_accepts_types_and_predicates() -> None:
    by_type = RetryPolicy(retry_on=ModelRequestRejectedError)
    assert by_type.should_retry(http_error(400)) and not by_type.should_retry(http_error(500))
    by_tuple = RetryPolicy(retry_on=(ValueError, KeyError))
    assert by_tuple.should_retry(KeyError("k")) and not by_tuple.should_retry(http_error(500))
    combined = RetryPolicy(retry_on=lambda e: is_retryable(e) or isinstance(e, ModelConnectionError))
    assert combined.should_retry(ModelConnectionError("m", "reset", phase="read"))


def test_repr_shows_the_policy_and_the_model() -> None:
    model = RetryingModel("test", RetryPolicy(max_attempts=5))
    assert "max_attempts=5" in repr(model) and "TestModel" in repr(model)
    assert model.model_name == "test" and model.system == "test"


# ---------------------------------------------------------------------------------------------
# Non-streamed requests against the loopback server
# ---------------------------------------------------------------------------------------------


async def test_429_retry_after_seconds_is_honoured_exactly(
    loopback: LoopbackServer, clock: trio.testing.MockClock, closes_everything: None
) -> None:
    loopback.enqueue(Reply.rate_limited(2), Reply.rate_limited(3), Reply.json(completion("done")))
    rec = Recorder()
    start = trio.current_time()
    response = await model_request(retrying(loopback, rec), PROMPT)
    assert response.text == "done"
    assert trio.current_time() - start == 5.0
    assert rec.waits == [2.0, 3.0] and rec.sources == ["retry-after", "retry-after"]
    assert [a.attempt for a in rec.attempts] == [1, 2]
    assert all(isinstance(a.error, ModelRateLimitError) for a in rec.attempts)
    assert len(loopback.requests) == 3


async def test_429_retry_after_http_date(loopback: LoopbackServer, clock: trio.testing.MockClock) -> None:
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    loopback.enqueue(Reply.rate_limited(when), Reply.json(completion()))
    rec = Recorder()
    await model_request(retrying(loopback, rec), PROMPT)
    # an HTTP date has one-second resolution, and the wall clock moved on a little
    assert rec.sources == ["retry-after"] and 27.5 < rec.waits[0] <= 30.0


async def test_retry_after_ms_wins(loopback: LoopbackServer, clock: trio.testing.MockClock) -> None:
    loopback.enqueue(Reply.rate_limited(9, headers={"retry-after-ms": "1500"}), Reply.json(completion()))
    rec = Recorder()
    start = trio.current_time()
    await model_request(retrying(loopback, rec), PROMPT)
    assert rec.waits == [1.5] and trio.current_time() - start == 1.5


async def test_openai_rate_limit_reset_headers(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    headers = {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": "1.5s",
        "x-ratelimit-remaining-tokens": "30000",
        "x-ratelimit-reset-tokens": "6m0s",
    }
    loopback.enqueue(Reply.rate_limited(None, headers=headers), Reply.json(completion()))
    rec = Recorder()
    start = trio.current_time()
    await model_request(retrying(loopback, rec), PROMPT)
    assert rec.waits == [1.5] and rec.sources == ["rate-limit-reset"]
    assert trio.current_time() - start == 1.5


async def test_anthropic_rate_limit_reset_headers(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    reset_at = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=12)).isoformat().replace("+00:00", "Z")
    headers = {
        "anthropic-ratelimit-tokens-remaining": "0",
        "anthropic-ratelimit-tokens-reset": reset_at,
        "anthropic-ratelimit-requests-remaining": "40",
        "anthropic-ratelimit-requests-reset": reset_at,
    }
    loopback.enqueue(Reply.rate_limited(None, headers=headers), Reply.json(completion()))
    rec = Recorder()
    await model_request(retrying(loopback, rec), PROMPT)
    assert rec.sources == ["rate-limit-reset"] and 11.0 < rec.waits[0] <= 12.0


async def test_provider_asking_longer_than_max_delay_gives_up_at_once(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.rate_limited(120), Reply.json(completion()))
    start = trio.current_time()
    with pytest.raises(ModelRateLimitError) as info:
        await model_request(retrying(loopback, max_delay=60), PROMPT)
    assert trio.current_time() == start  # no wait at all
    assert info.value.retry_after == 120
    notes = "\n".join(info.value.__notes__)
    assert "asked to wait 120 s (Retry-After), longer than RetryPolicy.max_delay=60 s" in notes
    assert len(loopback.requests) == 1 and loopback.pending == 1


async def test_honor_provider_wait_false_uses_backoff(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.rate_limited(120), Reply.json(completion()))
    rec = Recorder()
    await model_request(retrying(loopback, rec, honor_provider_wait=False, initial_delay=0.25), PROMPT)
    assert rec.waits == [0.25] and rec.sources == ["backoff"]


@pytest.mark.parametrize(
    ("status", "category"),
    [
        (500, ModelServerError),
        (502, ModelServerError),
        (503, ModelUnavailableError),
        (529, ModelOverloadedError),
    ],
)
async def test_5xx_and_529_back_off_exponentially(
    loopback: LoopbackServer, clock: trio.testing.MockClock, status: int, category: type[Exception]
) -> None:
    for _ in range(3):
        loopback.enqueue(
            Reply.json(error_body("try later", "overloaded_error" if status == 529 else "x"), status)
        )
    loopback.enqueue(Reply.json(completion("finally")))
    rec = Recorder()
    start = trio.current_time()
    response = await model_request(retrying(loopback, rec, max_attempts=4, initial_delay=0.5), PROMPT)
    assert response.text == "finally"
    assert rec.waits == [0.5, 1.0, 2.0] and set(rec.sources) == {"backoff"}
    assert trio.current_time() - start == 3.5
    assert all(isinstance(a.error, category) for a in rec.attempts)


async def test_html_502_page_is_retried(loopback: LoopbackServer, clock: trio.testing.MockClock) -> None:
    loopback.enqueue(Reply.html("<html><h1>502 Bad Gateway</h1></html>", 502), Reply.json(completion()))
    rec = Recorder()
    await model_request(retrying(loopback, rec), PROMPT)
    assert len(rec.attempts) == 1 and "502 Bad Gateway" in str(rec.attempts[0].error)


async def test_gives_up_after_max_attempts_with_notes(
    loopback: LoopbackServer, clock: trio.testing.MockClock, closes_everything: None
) -> None:
    for i in range(5):
        loopback.enqueue(Reply.json(error_body(f"boom {i}"), 500))
    start = trio.current_time()
    with pytest.raises(ModelServerError) as info:
        await model_request(retrying(loopback, max_attempts=3, initial_delay=1), PROMPT)
    assert trio.current_time() - start == 3.0  # 1 + 2
    assert len(loopback.requests) == 3
    assert "boom 2" in str(info.value)  # the last attempt's error, unchanged
    (note,) = info.value.__notes__
    assert "attempt 3 failed; gave up after 3 attempts (RetryPolicy.max_attempts)" in note
    assert "attempt 1: ModelServerError" in note and "boom 0" in note and "then waited 1 s, backoff" in note
    assert "attempt 2:" in note and "boom 1" in note


@pytest.mark.parametrize(
    "reply",
    [
        Reply.json(error_body("bad request", "invalid_request_error"), 400),
        Reply.json(error_body("nope", "invalid_request_error", "invalid_api_key"), 401),
        Reply.json(error_body("quota", "insufficient_quota", "insufficient_quota"), 429),
        Reply.json(error_body("fatal"), 500, headers={"x-should-retry": "false"}),
    ],
    ids=["400", "401", "429-quota", "500-should-retry-false"],
)
async def test_not_retried(loopback: LoopbackServer, clock: trio.testing.MockClock, reply: Reply) -> None:
    loopback.enqueue(reply, Reply.json(completion()))
    rec = Recorder()
    with pytest.raises(ModelHTTPError) as info:
        await model_request(retrying(loopback, rec, max_attempts=5), PROMPT)
    assert rec.attempts == [] and len(loopback.requests) == 1
    assert not getattr(info.value, "__notes__", None)  # an error that is simply not retryable: no note


async def test_should_retry_true_overrides_the_category(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(
        Reply.json(
            error_body("conflict, try again", "invalid_request_error"),
            400,
            headers={"x-should-retry": "true"},
        ),
        Reply.json(completion()),
    )
    rec = Recorder()
    await model_request(retrying(loopback, rec), PROMPT)
    assert len(rec.attempts) == 1


async def test_connection_refused_is_retried(clock: trio.testing.MockClock) -> None:
    rec = Recorder()
    with pytest.raises(ModelConnectionError) as info:
        await model_request(retrying(f"http://127.0.0.1:{unused_port()}/v1", rec, max_attempts=3), PROMPT)
    assert info.value.phase == "connect"
    assert rec.waits == [0.5, 1.0]
    assert "gave up after 3 attempts" in info.value.__notes__[0]


async def test_connection_lost_after_sending_is_not_retried_by_default(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.of(head(200, {"content-length": "100"}), reset()), Reply.json(completion()))
    with pytest.raises(ModelConnectionError) as info:
        await model_request(retrying(loopback), PROMPT)
    assert info.value.phase == "read" and len(loopback.requests) == 1


async def test_custom_retry_on_retries_read_errors(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.of(head(200, {"content-length": "100"}), reset()), Reply.json(completion("again")))

    def idempotent(exc: Exception) -> bool:
        return is_retryable(exc) or isinstance(exc, ModelConnectionError)

    response = await model_request(retrying(loopback, retry_on=idempotent), PROMPT)
    assert response.text == "again" and len(loopback.requests) == 2


async def test_max_attempts_one_disables_retrying(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.rate_limited(1), Reply.json(completion()))
    with pytest.raises(ModelRateLimitError) as info:
        await model_request(retrying(loopback, max_attempts=1), PROMPT)
    assert "gave up after 1 attempt " in info.value.__notes__[0]


async def test_retries_are_logged_without_secrets(
    loopback: LoopbackServer, clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    loopback.enqueue(Reply.rate_limited(1), Reply.json(completion()))
    caplog.set_level(logging.DEBUG)
    model = RetryingModel(openai_model(loopback, api_key="sk-SECRET-in-logs", settings=NO_HTTP_TIMEOUTS))
    await model_request(model, PROMPT)
    records = [r for r in caplog.records if r.name == "trio_direct.retries"]
    assert len(records) == 1 and records[0].levelno == logging.INFO
    message = records[0].getMessage()
    assert "request to openai:gpt-4o failed (attempt 1 of 3), retrying in 1 s (retry-after)" in message
    assert "sk-SECRET" not in caplog.text


# ---------------------------------------------------------------------------------------------
# Deadlines: the caller's cancel scope bounds every attempt and every wait
# ---------------------------------------------------------------------------------------------


async def test_a_wait_past_the_callers_deadline_is_not_started(
    loopback: LoopbackServer, lazy_clock: trio.testing.MockClock
) -> None:
    for _ in range(5):
        loopback.enqueue(Reply.json(error_body("down"), 500))
    start = trio.current_time()
    with trio.fail_after(3), pytest.raises(ModelServerError) as info:
        # attempts at 0, 0.5 and 1.5; the next would wait 2 s and start at 3.5, past the deadline
        await model_request(retrying(loopback, max_attempts=10, initial_delay=0.5), PROMPT)
    assert trio.current_time() - start == 1.5
    assert len(loopback.requests) == 3
    assert "would start after the caller's deadline (in 1.5 s)" in info.value.__notes__[0]


async def test_without_give_up_the_deadline_cancels_the_wait(
    loopback: LoopbackServer, lazy_clock: trio.testing.MockClock
) -> None:
    for _ in range(5):
        loopback.enqueue(Reply.json(error_body("down"), 500))
    start = trio.current_time()
    model = retrying(loopback, max_attempts=10, initial_delay=0.5, give_up_before_deadline=False)
    with pytest.raises(trio.TooSlowError):
        with trio.fail_after(3):
            await model_request(model, PROMPT)
    assert trio.current_time() - start == 3.0
    assert len(loopback.requests) == 3


async def test_move_on_after_during_a_wait(
    loopback: LoopbackServer, lazy_clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(Reply.rate_limited(10), Reply.json(completion()))
    model = retrying(loopback, give_up_before_deadline=False)
    with trio.move_on_after(4) as scope:
        await model_request(model, PROMPT)
    assert scope.cancelled_caught and len(loopback.requests) == 1


async def test_deadlines_compose_across_attempts_with_a_stalled_server(
    loopback: LoopbackServer, lazy_clock: trio.testing.MockClock
) -> None:
    # one 503, then a server that never answers: the outer deadline ends the second attempt
    loopback.enqueue(Reply.json(error_body("busy"), 503), Reply.of(stall()))
    start = trio.current_time()
    with pytest.raises(trio.TooSlowError):
        with trio.fail_after(10):
            await model_request(retrying(loopback, initial_delay=1), PROMPT)
    assert trio.current_time() - start == 10.0
    assert len(loopback.requests) == 2


# ---------------------------------------------------------------------------------------------
# Streams: only the opening is retried
# ---------------------------------------------------------------------------------------------


async def collect_text(model: Any) -> tuple[str, int]:
    events = 0
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            events += 1
        return stream.get().text or "", events


async def test_stream_opening_is_retried(
    loopback: LoopbackServer, clock: trio.testing.MockClock, closes_everything: None
) -> None:
    loopback.enqueue(
        Reply.json(error_body("busy"), 503),
        Reply.rate_limited(2),
        Reply.sse(sse_text("Hel", "lo")),
    )
    rec = Recorder()
    start = trio.current_time()
    text, _ = await collect_text(retrying(loopback, rec))
    assert text == "Hello"
    assert rec.waits == [0.5, 2.0] and rec.sources == ["backoff", "retry-after"]
    assert trio.current_time() - start == 2.5


async def test_stream_error_in_the_first_chunk_is_retried(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    # a 200 whose first event is an error: nothing reached the caller yet, so it is safe to retry
    loopback.enqueue(
        Reply.sse([{"error": {"message": "Overloaded", "type": "overloaded_error"}}]),
        Reply.sse(sse_text("fine")),
    )
    rec = Recorder()
    text, _ = await collect_text(retrying(loopback, rec))
    assert text == "fine"
    assert len(rec.attempts) == 1 and rec.attempts[0].error.__class__.__name__ == "ModelOverloadedError"


async def test_stream_error_after_events_is_never_retried(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    loopback.enqueue(
        Reply.sse(
            [chunk("partial"), {"error": {"message": "Overloaded", "type": "overloaded_error"}}], delay=0.01
        ),
        Reply.sse(sse_text("should not be used")),
    )
    rec = Recorder()
    seen: list[Any] = []
    with pytest.raises(ModelOverloadedError):
        async with model_request_stream(retrying(loopback, rec), PROMPT) as stream:
            async for event in stream:
                seen.append(event)
    assert seen and rec.attempts == [] and len(loopback.requests) == 1
    assert stream.get().text == "partial"


async def test_stream_gives_up_from_async_with(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    for _ in range(3):
        loopback.enqueue(Reply.json(error_body("down"), 502))
    with pytest.raises(ModelServerError) as info:
        async with model_request_stream(retrying(loopback, max_attempts=3), PROMPT):
            raise AssertionError("not reached")  # pragma: no cover
    assert "gave up after 3 attempts" in info.value.__notes__[0]
    assert len(loopback.requests) == 3


async def test_stream_context_is_single_use(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse(sse_text("x")))
    cm = model_request_stream(retrying(loopback), PROMPT)
    async with cm as stream:
        async for _ in stream:
            pass
    with pytest.raises(UserError, match="entered only once"):
        await cm.__aenter__()


async def test_policy_call_retries_any_unit_of_work(
    loopback: LoopbackServer, clock: trio.testing.MockClock
) -> None:
    # retrying a whole stream consumption is the caller's decision; policy.call makes it one line
    loopback.enqueue(
        Reply.sse([chunk("half")], then=reset()),
        Reply.sse(sse_text("whole")),
    )
    policy = RetryPolicy(retry_on=ModelConnectionError, jitter=0)
    text, _ = await policy.call(collect_text, openai_model(loopback, settings=NO_HTTP_TIMEOUTS))
    assert text == "whole" and len(loopback.requests) == 2


async def test_composes_with_fallback(loopback: LoopbackServer, clock: trio.testing.MockClock) -> None:
    for _ in range(2):
        loopback.enqueue(Reply.json(error_body("down"), 500))
    loopback.enqueue(Reply.json(completion("from the second model")))
    model = FallbackModel(retrying(loopback, max_attempts=2), retrying(loopback, max_attempts=2))
    response = await model_request(model, PROMPT)
    assert response.text == "from the second model" and len(loopback.requests) == 3


# ---------------------------------------------------------------------------------------------
# Sync API: the same model through the portal, with the sync timeout as the deadline
# ---------------------------------------------------------------------------------------------


def test_sync_retries_and_timeout(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(error_body("down"), 500), Reply.json(completion("sync ok")))
    model = retrying(loopback, initial_delay=0.01)
    assert model_request_sync(model, PROMPT, timeout=10).text == "sync ok"

    for _ in range(20):
        loopback.enqueue(Reply.json(error_body("down"), 500))
    # the portal's timeout is the caller's deadline: the policy gives up instead of sleeping into it
    with pytest.raises(ModelServerError) as info:
        model_request_sync(retrying(loopback, max_attempts=20, initial_delay=0.2), PROMPT, timeout=0.5)
    assert "caller's deadline" in info.value.__notes__[0]

    from trio_direct import RequestTimeoutError

    with pytest.raises(RequestTimeoutError) as timeout_info:
        model = retrying(loopback, max_attempts=20, initial_delay=0.2, give_up_before_deadline=False)
        model_request_sync(model, PROMPT, timeout=0.5)
    assert isinstance(timeout_info.value, TimeoutError)
