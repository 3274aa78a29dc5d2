"""FallbackModel (and WrapperModel, which it sits beside): order, fallback_on, streams, identity."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal

import pytest

from trio_direct import (
    FallbackExceptionGroup,
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequest,
    ModelResponse,
    RequestUsage,
    TextPart,
    UserError,
    model_request,
    model_request_stream,
)
from trio_direct.exceptions import ModelServerError
from trio_direct.messages import ModelMessage
from trio_direct.models.fallback import FallbackModel, ResponseRejected
from trio_direct.models.function import AgentInfo, FunctionModel
from trio_direct.models.test import TestModel
from trio_direct.models.wrapper import WrapperModel
from trio_direct.serialization import messages_from_json, messages_to_json

PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]


def rate_limited() -> ModelHTTPError:
    return ModelHTTPError.for_category(ModelRateLimitError, status_code=429, model_name="a", body={"m": 1})


class Recorder:
    """A FunctionModel function that raises the queued error or answers, and records the calls."""

    def __init__(self, name: str, error: Exception | None = None, usage: RequestUsage | None = None) -> None:
        self.name = name
        self.error = error
        self.usage = usage or RequestUsage()
        self.calls = 0
        self.__name__ = name

    async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return ModelResponse([TextPart(f"from {self.name}")], usage=self.usage)


async def test_moves_on_after_api_errors_and_stops_at_the_first_answer() -> None:
    a, b, c = Recorder("a", rate_limited()), Recorder("b"), Recorder("c")
    model = FallbackModel(FunctionModel(a), FunctionModel(b), FunctionModel(c))
    response = await model_request(model, PROMPT)
    assert response.parts == [TextPart("from b")]
    assert (a.calls, b.calls, c.calls) == (1, 1, 0)


async def test_an_error_fallback_on_does_not_accept_propagates_at_once() -> None:
    a, b = Recorder("a", KeyError("boom")), Recorder("b")
    with pytest.raises(KeyError):
        await model_request(FallbackModel(FunctionModel(a), FunctionModel(b)), PROMPT)
    assert b.calls == 0


async def test_all_failed_gives_a_group_in_order() -> None:
    first = rate_limited()
    second = ModelConnectionError("b", "refused", phase="connect")
    model = FallbackModel(FunctionModel(Recorder("a", first)), FunctionModel(Recorder("b", second)))
    with pytest.raises(FallbackExceptionGroup) as info:
        await model_request(model, PROMPT)
    group = info.value
    assert group.message == "All models from FallbackModel failed"
    assert list(group.exceptions) == [first, second]
    assert isinstance(group, ExceptionGroup)


async def test_exception_types_and_handlers() -> None:
    server = ModelHTTPError.for_category(ModelServerError, status_code=500, model_name="a")
    only_rate_limits = FallbackModel(
        FunctionModel(Recorder("a", server)), FunctionModel(Recorder("b")), fallback_on=ModelRateLimitError
    )
    with pytest.raises(ModelServerError):
        await model_request(only_rate_limits, PROMPT)

    tuple_of_types = FallbackModel(
        FunctionModel(Recorder("a", server)),
        FunctionModel(Recorder("b")),
        fallback_on=(ModelRateLimitError, ModelServerError),
    )
    assert (await model_request(tuple_of_types, PROMPT)).parts == [TextPart("from b")]

    seen: list[Exception] = []

    async def async_handler(exc: Exception) -> bool:
        seen.append(exc)
        return isinstance(exc, ModelAPIError) and getattr(exc, "status_code", 0) >= 500

    handled = FallbackModel(
        FunctionModel(Recorder("a", server)), FunctionModel(Recorder("b")), fallback_on=async_handler
    )
    assert (await model_request(handled, PROMPT)).parts == [TextPart("from b")]
    assert seen == [server]

    lambda_handler = FallbackModel(
        FunctionModel(Recorder("a", ValueError("x"))),
        FunctionModel(Recorder("b")),
        fallback_on=lambda exc: isinstance(exc, ValueError),
    )
    assert (await model_request(lambda_handler, PROMPT)).parts == [TextPart("from b")]


async def test_response_handlers_reject_and_attempts_are_recorded() -> None:
    """As pydantic-ai 2.68: the winner's usage is its own; each model moved on from is a
    ModelRequestAttempt on ``failed_attempts`` (a rejected one with its usage), and on the group."""
    rejected_usage = RequestUsage(input_tokens=1, cost=Decimal("0.25"))

    def reject_a(response: ModelResponse) -> bool:  # annotation is a string here (future import)
        return response.text == "from a"

    a, b = (
        Recorder("a", usage=rejected_usage),
        Recorder("b", usage=RequestUsage(input_tokens=2, cost=Decimal("1"))),
    )
    model = FallbackModel(FunctionModel(a), FunctionModel(b), fallback_on=[ModelAPIError, reject_a])
    response = await model_request(model, PROMPT)
    assert response.text == "from b"
    assert response.usage.cost == Decimal("1")
    [attempt] = response.failed_attempts or []
    assert (attempt.model_name, attempt.provider_name, attempt.outcome, attempt.error) == (
        "function:a:",
        "function",
        "rejected",
        None,
    )
    assert attempt.usage == rejected_usage and attempt.duration >= timedelta(0)
    assert attempt.timestamp.tzinfo is not None
    # the attempts survive a JSON round trip, in 2.68's shape
    assert messages_from_json(messages_to_json([response])) == [response]

    async def reject_all(response: ModelResponse) -> bool:
        return True

    everything = FallbackModel(
        FunctionModel(Recorder("a", rate_limited())),
        FunctionModel(Recorder("b")),
        fallback_on=[ModelAPIError, reject_all],
    )
    with pytest.raises(FallbackExceptionGroup) as info:
        await model_request(everything, PROMPT)
    errors = list(info.value.exceptions)
    assert isinstance(errors[0], ModelRateLimitError)
    assert isinstance(errors[1], ResponseRejected) and errors[1].rejected_count == 1
    assert str(errors[1]) == "1 model response(s) rejected by fallback_on handler"
    error_attempt, rejected_attempt = info.value.attempts
    assert error_attempt.outcome == "error" and error_attempt.usage is None
    assert error_attempt.error is not None and error_attempt.error.startswith("ModelRateLimitError: ")
    assert rejected_attempt.outcome == "rejected"


async def test_nested_fallback_attempts_come_first() -> None:
    inner = FallbackModel(
        FunctionModel(Recorder("a", rate_limited())), FunctionModel(Recorder("b", rate_limited()))
    )
    outer = FallbackModel(
        inner, FunctionModel(Recorder("c")), fallback_on=(ModelAPIError, FallbackExceptionGroup)
    )
    response = await model_request(outer, PROMPT)
    assert response.text == "from c"
    attempts = response.failed_attempts or []
    assert [a.model_name for a in attempts] == ["function:a:", "function:b:", inner.model_name]
    assert [a.outcome for a in attempts] == ["error"] * 3


async def test_streamed_fallback_records_attempts() -> None:
    async def refuse(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise rate_limited()
        yield ""  # pragma: no cover - makes this an async generator

    model = FallbackModel(FunctionModel(stream_function=refuse), TestModel())
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
    [attempt] = stream.get().failed_attempts or []
    assert attempt.outcome == "error" and attempt.model_name == "function::refuse"


def test_empty_fallback_on_is_a_user_error() -> None:
    with pytest.raises(UserError, match="empty `fallback_on`"):
        FallbackModel("test", fallback_on=[])
    with pytest.raises(UserError):
        FallbackModel("test", fallback_on=42)  # type: ignore[arg-type]


def test_identity() -> None:
    model = FallbackModel(TestModel(), TestModel(model_name="other"), FunctionModel(Recorder("f")))
    assert model.model_name == "fallback:test,other,function:f:"
    assert model.system == "fallback:test,test,function"
    assert model.model_id == "fallback:test:test,test:other,function:function:f:"
    assert model.base_url is None
    assert isinstance(FallbackModel("test").models[0], TestModel)
    with pytest.raises(UserError, match="Unknown model"):
        FallbackModel("test", "no-such-model")


# --------------------------------------------------------------------------------------------------
# Streams: fallback only while opening


def stream_of(
    name: str, *, fail_first: Exception | None = None, fail_after: Exception | None = None
) -> FunctionModel:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        if fail_first is not None:
            raise fail_first
        yield f"from {name}"
        if fail_after is not None:
            raise fail_after

    stream.__name__ = name
    return FunctionModel(stream_function=stream)


async def test_stream_falls_back_when_opening_fails() -> None:
    model = FallbackModel(stream_of("a", fail_first=rate_limited()), stream_of("b"))
    async with model_request_stream(model, PROMPT) as stream:
        [_ async for _ in stream]
    assert stream.get().parts == [TextPart("from b")]
    assert stream.model_name == "function::b"


async def test_stream_errors_after_opening_are_the_callers() -> None:
    late = rate_limited()
    model = FallbackModel(stream_of("a", fail_after=late), stream_of("b"))
    async with model_request_stream(model, PROMPT) as stream:
        with pytest.raises(ModelRateLimitError) as info:
            async for _ in stream:
                pass
    assert info.value is late
    assert stream.get().parts == [TextPart("from a")]


async def test_stream_all_fail_and_non_matching_errors() -> None:
    model = FallbackModel(
        stream_of("a", fail_first=rate_limited()), stream_of("b", fail_first=rate_limited())
    )
    with pytest.raises(FallbackExceptionGroup) as info:
        async with model_request_stream(model, PROMPT):
            raise AssertionError("not reached")  # pragma: no cover
    assert len(info.value.exceptions) == 2

    model = FallbackModel(stream_of("a", fail_first=KeyError("k")), stream_of("b"))
    with pytest.raises(KeyError):
        async with model_request_stream(model, PROMPT):
            raise AssertionError("not reached")  # pragma: no cover


async def test_stream_warns_that_response_handlers_do_not_apply() -> None:
    def reject(response: ModelResponse) -> bool:
        return True  # pragma: no cover - not consulted for streams

    model = FallbackModel(stream_of("a"), fallback_on=[ModelAPIError, reject])
    with pytest.warns(UserWarning, match="not applied to streamed responses"):
        async with model_request_stream(model, PROMPT) as stream:
            [_ async for _ in stream]
    assert stream.get().parts == [TextPart("from a")]


# --------------------------------------------------------------------------------------------------
# WrapperModel


async def test_wrapper_delegates_everything() -> None:
    inner = TestModel(seed=3, settings={"temperature": 0.2})
    wrapper = WrapperModel(inner)
    assert (wrapper.model_name, wrapper.system, wrapper.model_id, wrapper.base_url) == (
        "test",
        "test",
        "test:test",
        None,
    )
    assert wrapper.settings == {"temperature": 0.2}
    assert wrapper.seed == 3  # anything else is read from the wrapped model
    assert wrapper.prepare_request({"max_tokens": 1}, None)[0] == {"temperature": 0.2, "max_tokens": 1}
    response = await model_request(wrapper, PROMPT)
    assert response.text == "success (no tool calls)"
    async with model_request_stream(wrapper, PROMPT) as stream:
        [_ async for _ in stream]
    assert stream.get().text == "success (no tool calls)"
    assert isinstance(WrapperModel("test").wrapped, TestModel)
    assert repr(wrapper) == "WrapperModel(TestModel(model_name='test'))"
    with pytest.raises(AttributeError):
        wrapper.no_such_attribute  # noqa: B018
