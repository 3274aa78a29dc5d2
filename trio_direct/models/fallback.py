"""``FallbackModel``: try models in order until one answers.

A request goes to the first model; if it fails with an error that ``fallback_on`` accepts (by default
any :class:`~trio_direct.ModelAPIError`: HTTP errors, connection errors, timeouts), the next model is
tried, and so on. When every model failed, a :class:`~trio_direct.FallbackExceptionGroup` holds each
model's error in order. A streamed request falls back only while it is being opened (connecting,
the HTTP status, the first chunk); once the stream is handed over, its errors are the caller's.
"""

from __future__ import annotations

import inspect
import time
import typing
import warnings
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeAlias, TypeGuard

import attrs

from ..exceptions import FallbackExceptionGroup, ModelAPIError, UserError
from ..messages import ModelMessage, ModelRequestAttempt, ModelResponse
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from .base import Model, StreamContext, StreamedResponse

__all__ = ["ExceptionHandler", "FallbackModel", "FallbackOn", "ResponseHandler", "ResponseRejected"]

ExceptionHandler: TypeAlias = Callable[[Exception], bool | Awaitable[bool]]
"""Decides from an error whether to try the next model."""

ResponseHandler: TypeAlias = Callable[[ModelResponse], bool | Awaitable[bool]]
"""Rejects a successful response (return True) so the next model is tried; first parameter annotated
exactly ``ModelResponse``."""

FallbackOn: TypeAlias = (
    type[Exception]
    | tuple[type[Exception], ...]
    | ExceptionHandler
    | ResponseHandler
    | Sequence[type[Exception] | ExceptionHandler | ResponseHandler]
)


class ResponseRejected(Exception):
    """In a :class:`FallbackExceptionGroup`: how many responses a response handler rejected."""

    def __init__(self, rejected_count: int) -> None:
        self.rejected_count = rejected_count
        super().__init__(f"{rejected_count} model response(s) rejected by fallback_on handler")

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.rejected_count,)


def _is_exception_type(value: object) -> TypeGuard[type[Exception]]:
    return isinstance(value, type) and issubclass(value, Exception)


def _first_param_annotation(handler: Callable[..., Any]) -> object:
    """The resolved annotation of ``handler``'s first parameter, or None."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):
        return None
    params = list(signature.parameters.values())
    if not params:
        return None
    annotation = params[0].annotation
    if isinstance(annotation, str):
        plain = inspect.isfunction(handler) or inspect.ismethod(handler)
        target = handler if plain else type(handler).__call__
        try:
            annotation = typing.get_type_hints(target).get(params[0].name, annotation)
        except Exception:
            # unresolvable forward references: compare the spelled name instead
            return ModelResponse if annotation.rsplit(".", 1)[-1] == "ModelResponse" else None
    return annotation


class _Predicates:
    """``fallback_on`` split into exception handlers and response handlers."""

    def __init__(self, fallback_on: FallbackOn) -> None:
        # handlers take an Exception or a ModelResponse; `should_fallback` picks the list by value type
        self.exception_handlers: list[Callable[[Any], Any]] = []
        self.response_handlers: list[Callable[[Any], Any]] = []
        items: Sequence[Any]
        candidate: Any = fallback_on
        if _is_exception_type(candidate) or callable(candidate):
            items = [candidate]
        elif isinstance(candidate, Sequence) and not isinstance(candidate, str | bytes):
            items = list(candidate)  # pyright: ignore[reportUnknownArgumentType]
        else:
            raise UserError(f"`fallback_on` must be exception types or handlers, not {fallback_on!r}")
        for item in items:
            if _is_exception_type(item):
                self.exception_handlers.append(_isinstance_handler(item))
            elif callable(item):
                if _first_param_annotation(item) is ModelResponse:
                    self.response_handlers.append(item)
                else:
                    self.exception_handlers.append(item)
            else:
                raise UserError(f"`fallback_on` items must be exception types or callables, not {item!r}")
        if not self.exception_handlers and not self.response_handlers:
            raise UserError(
                "`FallbackModel` created with an empty `fallback_on`: all exceptions would propagate and all "
                "responses would be accepted. Use `fallback_on=(ModelAPIError,)` for the default behavior."
            )

    async def should_fallback(self, value: Exception | ModelResponse) -> bool:
        handlers = self.response_handlers if isinstance(value, ModelResponse) else self.exception_handlers
        for handler in handlers:
            result = handler(value)
            if inspect.isawaitable(result):
                result = await result
            if result:
                return True
        return False


def _isinstance_handler(exception_type: type[Exception]) -> ExceptionHandler:
    def handler(exc: Exception) -> bool:
        return isinstance(exc, exception_type)

    return handler


def _raise_all_failed(
    exceptions: list[Exception], rejected: list[ModelResponse], attempts: list[ModelRequestAttempt]
) -> typing.NoReturn:
    errors = list(exceptions)
    if rejected:
        errors.append(ResponseRejected(len(rejected)))
    group = FallbackExceptionGroup("All models from FallbackModel failed", errors)
    group.attempts = attempts
    raise group


@attrs.frozen
class _AttemptStart:
    """When an attempt started: wall-clock for the record, monotonic to time it by."""

    timestamp: datetime = attrs.field(factory=lambda: datetime.now(tz=UTC))
    monotonic_ns: int = attrs.field(factory=time.perf_counter_ns)

    def elapsed(self) -> timedelta:
        return timedelta(microseconds=(time.perf_counter_ns() - self.monotonic_ns) / 1e3)


def _describe_error(error: Exception) -> str:
    """``'ExceptionType: message'`` (the type alone when the message is empty or unprintable)."""
    name = type(error).__name__
    try:
        message = str(error)
    except Exception:
        return name
    return f"{name}: {message}" if message else name


def _record_attempt(
    attempts: list[ModelRequestAttempt],
    model: Model,
    failure: Exception | ModelResponse,
    start: _AttemptStart,
) -> None:
    """Append the attempt at ``model`` that failed with ``failure`` (an error or a rejected response),
    after the attempts a nested FallbackModel recorded on it, as pydantic-ai 2.68 records them."""
    if isinstance(failure, ModelResponse):
        attempts.extend(failure.failed_attempts or [])
        attempts.append(
            ModelRequestAttempt(
                model_name=failure.model_name or model.model_name,
                provider_name=failure.provider_name or model.system,
                outcome="rejected",
                timestamp=start.timestamp,
                duration=start.elapsed(),
                usage=failure.usage,
            )
        )
        return
    if isinstance(failure, FallbackExceptionGroup):
        attempts.extend(failure.attempts)
    attempts.append(
        ModelRequestAttempt(
            model_name=model.model_name,
            provider_name=model.system,
            outcome="error",
            error=_describe_error(failure),
            timestamp=start.timestamp,
            duration=start.elapsed(),
        )
    )


def _with_attempts(response: ModelResponse, attempts: list[ModelRequestAttempt]) -> ModelResponse:
    if not attempts:
        return response
    return attrs.evolve(response, failed_attempts=[*attempts, *(response.failed_attempts or [])])


def _note_answering_model(model: Model) -> None:
    # Point the surrounding `chat` span (if InstrumentedModel opened one) at the model that answered.
    from .instrumented import note_answering_model

    note_answering_model(model)


class FallbackModel(Model):
    """Tries ``default_model``, then each fallback model in order, until one succeeds.

    Args:
        default_model: the first model to try (an instance or a name).
        fallback_models: the models to try next, in order.
        fallback_on: when to move on. An exception type, a tuple of them, a handler
            ``(exc) -> bool`` (sync or async), a response handler — a callable whose first parameter
            is annotated exactly ``ModelResponse`` — that rejects a successful response by returning
            True, or a sequence mixing these. Errors that match nothing propagate at once.

    Raises:
        UserError: ``fallback_on`` is empty, or a model name cannot be resolved.
    """

    def __init__(
        self,
        default_model: Model | str,
        *fallback_models: Model | str,
        fallback_on: FallbackOn = (ModelAPIError,),
    ) -> None:
        from . import infer_model

        super().__init__()
        self.models: list[Model] = [infer_model(default_model), *(infer_model(m) for m in fallback_models)]
        self._predicates = _Predicates(fallback_on)

    @property
    def model_name(self) -> str:
        return "fallback:" + ",".join(model.model_name for model in self.models)

    @property
    def system(self) -> str:
        return "fallback:" + ",".join(model.system for model in self.models)

    @property
    def model_id(self) -> str:
        return "fallback:" + ",".join(model.model_id for model in self.models)

    @property
    def base_url(self) -> str | None:
        return self.models[0].base_url

    def prepare_request(
        self, model_settings: ModelSettings | None, model_request_parameters: ModelRequestParameters | None
    ) -> tuple[ModelSettings, ModelRequestParameters]:
        """Pass-through: each model prepares the original settings and parameters itself."""
        return model_settings or ModelSettings(), model_request_parameters or ModelRequestParameters()

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history unchanged: each model prepares it for itself when its turn comes."""
        return list(messages)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Ask each model in turn; return the first accepted response.

        The response's ``failed_attempts`` records each model moved on from (its error, or the usage
        of a rejected response), as pydantic-ai 2.68 records them; so does the group's ``attempts``.

        Raises:
            FallbackExceptionGroup: every model failed or was rejected.
            Exception: the first error ``fallback_on`` does not accept, unchanged.

        Cancellation:
            Cancelling stops the model being asked; no later model is tried.
        """
        exceptions: list[Exception] = []
        rejected: list[ModelResponse] = []
        attempts: list[ModelRequestAttempt] = []
        for model in self.models:
            start = _AttemptStart()
            try:
                prepared = model.prepare_messages(messages, model_request_parameters)
                response = await model.request(prepared, model_settings, model_request_parameters)
            except Exception as exc:
                if await self._predicates.should_fallback(exc):
                    exceptions.append(exc)
                    _record_attempt(attempts, model, exc, start)
                    continue
                _note_answering_model(model)
                raise
            if await self._predicates.should_fallback(response):
                rejected.append(response)
                _record_attempt(attempts, model, response, start)
                continue
            _note_answering_model(model)
            return _with_attempts(response, attempts)
        _raise_all_failed(exceptions, rejected, attempts)

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """Open each model's stream in turn until one opens; the stream is that model's.

        Response handlers do not apply to streams (the response is only known once streamed): with
        any configured, a ``UserWarning`` says so and the stream is accepted.
        """
        return _FallbackStream(self, messages, model_settings, model_request_parameters)


class _FallbackStream:
    """The stream context of a FallbackModel: enters the first model's stream that opens."""

    def __init__(
        self,
        model: FallbackModel,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        params: ModelRequestParameters | None,
    ) -> None:
        self._model = model
        self._messages = messages
        self._settings = model_settings
        self._params = params
        self._inner: StreamContext | None = None

    async def __aenter__(self) -> StreamedResponse:
        if self._inner is not None:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        predicates = self._model._predicates  # pyright: ignore[reportPrivateUsage]
        if predicates.response_handlers:
            warnings.warn(
                "FallbackModel's response handlers are not applied to streamed responses; the stream is "
                "accepted as is",
                UserWarning,
                stacklevel=2,
            )
        exceptions: list[Exception] = []
        attempts: list[ModelRequestAttempt] = []
        for model in self._model.models:
            start = _AttemptStart()
            try:
                prepared = model.prepare_messages(self._messages, self._params)
                inner = model.request_stream(prepared, self._settings, self._params)
                stream = await inner.__aenter__()
            except Exception as exc:
                if await predicates.should_fallback(exc):
                    exceptions.append(exc)
                    _record_attempt(attempts, model, exc, start)
                    continue
                _note_answering_model(model)
                raise
            self._inner = inner
            _note_answering_model(model)
            if attempts:
                stream.failed_attempts = [*attempts, *(stream.failed_attempts or [])]
            return stream
        _raise_all_failed(exceptions, [], attempts)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        inner = self._inner
        if inner is None:  # pragma: no cover - __aenter__ raised, so no __aexit__
            return None
        return await inner.__aexit__(exc_type, exc, tb)
