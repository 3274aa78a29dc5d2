"""The exception tree: bases, builtin parents, HTTP categories, pickling, Retry-After, no keys."""

from __future__ import annotations

import email.utils
import pickle
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from trio_direct import (
    AgentRunError,
    FallbackExceptionGroup,
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelTimeoutError,
    ModelUnavailableError,
    PortalClosedError,
    RequestTimeoutError,
    StreamClosedError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
    _http,
    models,
)
from trio_direct.exceptions import http_error_category
from trio_direct.models import Provider
from trio_direct.models.fallback import ResponseRejected

CATEGORIES = [
    ModelRateLimitError,
    ModelQuotaExceededError,
    ModelUnavailableError,
    ModelOverloadedError,
    ModelServerError,
    ModelRequestRejectedError,
    ModelContextWindowExceededError,
    ModelAuthenticationError,
    ModelNotFoundError,
]


@pytest.mark.parametrize(
    ("cls", "parents"),
    [
        (TrioDirectError, [Exception]),
        (UserError, [TrioDirectError, RuntimeError]),
        (PortalClosedError, [TrioDirectError, RuntimeError]),
        (StreamClosedError, [TrioDirectError, RuntimeError]),
        (RequestTimeoutError, [TrioDirectError, TimeoutError]),
        (AgentRunError, [TrioDirectError, RuntimeError]),
        (UnexpectedModelBehavior, [AgentRunError]),
        (ModelAPIError, [AgentRunError]),
        (ModelConnectionError, [ModelAPIError]),
        (ModelTimeoutError, [ModelConnectionError, TimeoutError]),
        (ModelHTTPError, [ModelAPIError]),
        (ModelRateLimitError, [ModelAPIError]),
        (ModelQuotaExceededError, [ModelAPIError]),
        (ModelUnavailableError, [ModelAPIError]),
        (ModelOverloadedError, [ModelUnavailableError]),
        (ModelServerError, [ModelAPIError]),
        (ModelRequestRejectedError, [ModelAPIError]),
        (ModelContextWindowExceededError, [ModelRequestRejectedError]),
        (ModelAuthenticationError, [ModelRequestRejectedError]),
        (ModelNotFoundError, [ModelRequestRejectedError]),
        (FallbackExceptionGroup, [ExceptionGroup]),
    ],
)
def test_tree(cls: type[BaseException], parents: list[type[BaseException]]) -> None:
    for parent in parents:
        assert issubclass(cls, parent), (cls, parent)
    assert not issubclass(ModelHTTPError, ModelConnectionError)
    assert not issubclass(ModelConnectionError, TimeoutError)


@pytest.mark.parametrize("category", CATEGORIES)
def test_http_errors_are_their_category_and_named_after_it(category: type[ModelAPIError]) -> None:
    error = ModelHTTPError.for_category(category, status_code=418, model_name="m", body={"message": "x"})
    assert isinstance(error, ModelHTTPError) and isinstance(error, category)
    assert type(error).__name__ == category.__name__
    assert str(error) == "status_code: 418, model_name: m, body: {'message': 'x'}"
    assert (error.status_code, error.model_name, error.body) == (418, "m", {"message": "x"})


def test_uncategorized_and_bad_categories() -> None:
    plain = ModelHTTPError.for_category(None, status_code=302, model_name="m")
    assert type(plain) is ModelHTTPError
    with pytest.raises(TypeError):
        ModelHTTPError.for_category(ModelConnectionError, status_code=500, model_name="m")


@pytest.mark.parametrize(
    ("status", "kwargs", "category"),
    [
        (429, {}, ModelRateLimitError),
        (400, {"code": "rate_limit_exceeded"}, ModelRateLimitError),
        (402, {}, ModelQuotaExceededError),
        (429, {"code": "insufficient_quota"}, ModelQuotaExceededError),
        (401, {}, ModelAuthenticationError),
        (403, {}, ModelAuthenticationError),
        (404, {}, ModelNotFoundError),
        (400, {"code": "context_length_exceeded"}, ModelContextWindowExceededError),
        (
            400,
            {"message": "This model's maximum context length is 8192 tokens"},
            ModelContextWindowExceededError,
        ),
        (503, {}, ModelUnavailableError),
        (529, {}, ModelOverloadedError),
        (500, {"type_": "overloaded_error"}, ModelOverloadedError),
        (500, {}, ModelServerError),
        (502, {}, ModelServerError),
        (400, {}, ModelRequestRejectedError),
        (422, {}, ModelRequestRejectedError),
        (302, {}, None),
    ],
)
def test_categories_from_status_and_body(status: int, kwargs: dict[str, str], category: type | None) -> None:
    assert http_error_category(status, **kwargs) is category  # type: ignore[arg-type]


def test_stream_closed_error_is_one_class_wherever_it_is_imported_from() -> None:
    from trio_direct.models import base

    assert models.StreamClosedError is base.StreamClosedError is StreamClosedError


@pytest.mark.parametrize(
    "error",
    [
        UserError("bad name"),
        PortalClosedError(),
        StreamClosedError("the stream is closed"),
        RequestTimeoutError(2.5, "stream"),
        UnexpectedModelBehavior("bad JSON", body='{"a": 1}'),
        UnexpectedModelBehavior("no body"),
        ModelAPIError("m", "failed", body={"x": 1}, provider_error_code="c", retry_after=3.0),
        ModelConnectionError("m", "refused", phase="connect", in_stream=True),
        ModelTimeoutError("m", "slow", phase="read"),
        ModelHTTPError(500, "m", {"e": 1}, headers={"Retry-After": "3", "X-Should-Retry": "true"}),
        ModelHTTPError.for_category(
            ModelRateLimitError, status_code=429, model_name="m", body="slow", headers={"retry-after": "9"}
        ),
        ModelHTTPError.for_category(
            ModelOverloadedError, status_code=529, model_name="m", suggested_model_id="x:y"
        ),
        ResponseRejected(2),
    ],
    ids=lambda e: type(e).__name__,
)
def test_pickle_round_trip(error: Exception) -> None:
    loaded = pickle.loads(pickle.dumps(error))
    assert type(loaded) is type(error)
    assert str(loaded) == str(error)
    assert vars(loaded) == vars(error)


def test_pickle_group() -> None:
    group = FallbackExceptionGroup(
        "All models from FallbackModel failed", [UserError("a"), ResponseRejected(1)]
    )
    loaded = pickle.loads(pickle.dumps(group))
    assert type(loaded) is FallbackExceptionGroup
    assert [str(e) for e in loaded.exceptions] == ["a", "1 model response(s) rejected by fallback_on handler"]


def retry_after(headers: dict[str, str]) -> float | None:
    return ModelHTTPError(429, "m", headers=headers).retry_after


def test_retry_after_parsing() -> None:
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"retry-after": "1.5"}) == 1.5
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after": "-3"}) == 0.0
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
    when = datetime.now(UTC) + timedelta(seconds=30)
    parsed = retry_after({"retry-after": email.utils.format_datetime(when, usegmt=True)})
    assert parsed is not None and 20 < parsed <= 31
    past = email.utils.formatdate(time.time() - 3600, usegmt=True)
    assert retry_after({"retry-after": past}) == 0.0
    assert ModelHTTPError(429, "m", retry_after=4.0, headers={"retry-after": "9"}).retry_after == 4.0
    assert ModelHTTPError(503, "m", headers={"x-should-retry": "false"}).provider_retry_hint is False


def test_messages_and_reprs_never_hold_keys() -> None:
    secret = "sk-live-abcdef123456"
    provider = Provider("openai", "https://api.example.com/v1", api_key=secret, headers={"x": "y"})
    assert secret not in repr(provider) and "***" in repr(provider)
    request = _http.HTTPRequest.json(provider.url("chat"), {"a": 1}, {"authorization": f"Bearer {secret}"})
    assert secret not in repr(request)
    # a key in a query string (some providers accept one) is never echoed
    url = f"https://api.example.com/v1/chat?key={secret}"
    for exc in (httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ReadError("reset")):
        error = _http.transport_error(exc, url, "m")
        assert secret not in str(error) and secret not in repr(error.__dict__)
    error = _http.default_http_error(
        401, {"www-authenticate": "Bearer"}, b'{"error": {"message": "bad key"}}', "m"
    )
    assert isinstance(error, ModelAuthenticationError)
    assert secret not in str(error)


def test_unexpected_model_behavior_shows_the_body() -> None:
    error = UnexpectedModelBehavior("could not parse", body='{"a":1}')
    assert str(error) == 'could not parse, body:\n{\n  "a": 1\n}'
    assert UnexpectedModelBehavior("plain").body is None
