"""The exception tree of trio_direct.

Every error the library raises on purpose derives from :class:`TrioDirectError`. Where a meaning
matches a builtin, the class also derives from it, so ``except TimeoutError`` and
``except RuntimeError`` keep working::

    TrioDirectError
    ├── UserError (RuntimeError)                 misuse: unknown model, missing API key, bad settings
    ├── PortalClosedError (RuntimeError)         the sync portal was shut down under a call
    ├── RequestTimeoutError (TimeoutError)       a sync call's ``timeout=`` ran out
    ├── MessageFormatError (ValueError)          stored message JSON that does not fit the message model
    ├── ToolArgsError (ValueError, AssertionError)  ``args_as_dict(raise_if_invalid=True)`` on bad args
    ├── CostCalculationError (LookupError, ValueError)  ``ModelResponse.cost()`` cannot price the response
    └── AgentRunError (RuntimeError)             the names pydantic-ai users already catch
        ├── ConcurrencyLimitExceeded             too many requests queued for a concurrency limit
        ├── UnexpectedModelBehavior              the provider sent something we cannot read
        │   ├── ContentFilterError               the provider's content filter stopped the response
        │   ├── DeltaApplyError (ValueError)     a stream delta applied to the wrong part
        │   └── OutputTokenLimitExceeded         ``finish_reason='length'`` before the output was complete
        │       └── IncompleteToolCall           ...in the middle of a tool call
        └── ModelAPIError                        the provider request failed
            ├── ModelRequestTimeout              ``request_timeout`` / ``first_event_timeout`` ran out
            ├── ModelConnectionError             could not connect / read (``phase`` says where)
            │   └── ModelTimeoutError (TimeoutError)   an inactivity limit ran out
            ├── ResponseTooLargeError            the reply passed a size limit (``max_response_bytes``)
            ├── ModelRateLimitError              429 and friends
            ├── ModelQuotaExceededError          402, insufficient_quota, billing_error
            ├── ModelUnavailableError            503
            │   └── ModelOverloadedError         529, overloaded_error
            ├── ModelServerError                 other 5xx
            ├── ModelRequestRejectedError        400/422 and the rest of 4xx
            │   ├── ModelAuthenticationError     401/403
            │   ├── ModelNotFoundError           404, model_not_found
            │   └── ModelContextWindowExceededError
            └── ModelHTTPError                   any 4xx/5xx; also an instance of its category

The warning classes pydantic-ai emits (``UnsupportedSettingWarning``, ``CostNotFoundWarning``...) exist
under the same names, as ``Warning`` subclasses.

An HTTP error is built with :meth:`ModelHTTPError.for_category`, which returns an object that is both a
``ModelHTTPError`` and its category (named after the category, as pydantic-ai 2.68 does), so
``except ModelRateLimitError`` and ``except ModelHTTPError`` both catch a 429.

API keys never appear in these messages: bodies are the provider's, and request headers are never kept.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal, TypeAlias

from ._retry_after import retry_after_seconds

__all__ = [
    "AgentRunError",
    "ConcurrencyLimitExceeded",
    "ContentFilterError",
    "DeltaApplyError",
    "CostCalculationFailedWarning",
    "CostNotFoundWarning",
    "FallbackExceptionGroup",
    "IncompleteToolCall",
    "MessageFormatError",
    "ModelAPIError",
    "ModelAuthenticationError",
    "ModelConnectionError",
    "ModelContextWindowExceededError",
    "ModelHTTPError",
    "ModelNotFoundError",
    "ModelOverloadedError",
    "ModelQuotaExceededError",
    "ModelRateLimitError",
    "ModelRequestRejectedError",
    "ModelRequestTimeout",
    "ModelServerError",
    "ModelTimeoutError",
    "ModelUnavailableError",
    "OutputTokenLimitExceeded",
    "PortalClosedError",
    "PydanticAIDeprecationWarning",
    "RequestTimeoutError",
    "RequestTimeoutSetting",
    "ResponseTooLargeError",
    "StreamClosedError",
    "ToolArgsError",
    "TrioDirectError",
    "UnexpectedModelBehavior",
    "UnsupportedSettingWarning",
    "UsageExtractionFailedWarning",
    "UsageLimitUnavailableWarning",
    "UserError",
]

TransportPhase: TypeAlias = Literal["pool", "connect", "write", "read"]


class TrioDirectError(Exception):
    """Base class of every error trio_direct raises on purpose."""

    message: str

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class UserError(TrioDirectError, RuntimeError):
    """The library was used wrongly: unknown model name, missing API key, unsupported option.

    The message says what to change. Raised before any I/O wherever possible.
    """


class PortalClosedError(TrioDirectError, RuntimeError):
    """The sync portal thread was shut down while a call was waiting on it, or after interpreter exit."""

    def __init__(self, message: str = "the trio_direct portal is closed") -> None:
        super().__init__(message)


class StreamClosedError(TrioDirectError, RuntimeError):
    """A stream was used after its ``with``/``async with`` block ended, or was closed before it finished.

    Iterate a stream inside its block; ``get()`` still works afterwards. Like :class:`PortalClosedError`,
    a ``RuntimeError`` (something used after it was closed), not a server error.
    """


class RequestTimeoutError(TrioDirectError, TimeoutError):
    """A total deadline passed to a sync entry point (``timeout=``) ran out.

    Async callers own their deadlines with ``trio.fail_after``; this is the sync API's equivalent.
    """

    timeout: float
    what: str

    def __init__(self, timeout: float, what: str = "request") -> None:
        self.timeout = timeout
        self.what = what
        super().__init__(f"{what} did not finish within {timeout:g} seconds")

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.timeout, self.what)


class MessageFormatError(TrioDirectError, ValueError):
    """Serialized messages (or stream events) do not fit the message model.

    Raised by the loaders in :mod:`trio_direct.serialization` for any malformed input: bad JSON, a
    wrong type, a missing required key, an unknown ``kind``/``part_kind``. The message names the path
    of the offending item, e.g. ``messages[1].parts[0].timestamp: ...``.
    """


class AgentRunError(TrioDirectError, RuntimeError):
    """Base of the model errors; named as in pydantic-ai so ``except`` clauses move over unchanged."""


class UnexpectedModelBehavior(AgentRunError):
    """The provider answered with something that cannot be understood (bad JSON, wrong shape, bad SSE).

    Args:
        message: what was wrong.
        body: the offending text, quoted in ``str()`` (pretty-printed when it is JSON).
    """

    body: str | None

    def __init__(self, message: str, body: str | None = None) -> None:
        self.body = body
        super().__init__(message)
        if body is not None:
            try:
                shown = json.dumps(json.loads(body), indent=2)
            except (ValueError, RecursionError):  # hardening: a pathologically nested body is shown as text
                shown = body
            self.message = f"{message}, body:\n{shown}"

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (
            self.message if self.body is None else self.message.split(", body:\n")[0],
            self.body,
        )


class ModelAPIError(AgentRunError):
    """A request to a model provider failed.

    Attributes:
        model_name: the model the request was for.
        body: the provider's error body or error event (parsed JSON where possible).
        provider_error_code: the provider's machine-readable code (``'rate_limit_exceeded'``), if any.
        provider_error_type: the provider's error type (``'overloaded_error'``), if any.
        retry_after: seconds the provider asked us to wait, if it said.
        in_stream: the error arrived inside a stream that had already started.
    """

    model_name: str
    body: object | None
    provider_error_code: str | None
    provider_error_type: str | None
    retry_after: float | None
    in_stream: bool

    def __init__(
        self,
        model_name: str,
        message: str,
        *,
        body: object | None = None,
        provider_error_code: str | None = None,
        provider_error_type: str | None = None,
        retry_after: float | None = None,
        in_stream: bool = False,
    ) -> None:
        self.model_name = model_name
        self.body = body
        self.provider_error_code = provider_error_code
        self.provider_error_type = provider_error_type
        self.retry_after = retry_after
        self.in_stream = in_stream
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return self.__class__, (self.model_name, self.message), dict(vars(self))


class ModelRateLimitError(ModelAPIError):
    """The provider refused the request because a rate limit was reached (429); see ``retry_after``."""


class ModelQuotaExceededError(ModelAPIError):
    """The account's quota, credits or billing is exhausted; waiting will not help."""


class ModelUnavailableError(ModelAPIError):
    """The provider or model was temporarily unable to serve the request (503)."""


class ModelOverloadedError(ModelUnavailableError):
    """The provider said it is overloaded (529, ``overloaded_error``)."""


class ModelServerError(ModelAPIError):
    """The provider failed with a server error (500, 502, 504, ...)."""


class ModelRequestRejectedError(ModelAPIError):
    """The provider rejected the request itself; sending it again unchanged will not succeed."""


class ModelContextWindowExceededError(ModelRequestRejectedError):
    """The input exceeds the model's context window."""


class ModelAuthenticationError(ModelRequestRejectedError):
    """The provider rejected the credentials (401/403). Check the API key."""


class ModelNotFoundError(ModelRequestRejectedError):
    """The provider does not know the model (404). A wrong base URL also looks like this."""


class ModelConnectionError(ModelAPIError):
    """The request could not reach the provider, or its response could not be read.

    Attributes:
        phase: ``'pool'``, ``'connect'``, ``'write'`` or ``'read'`` (None when unknown). Before ``'write'``
            the request was certainly not sent, so retrying is safe.
    """

    phase: TransportPhase | None

    def __init__(
        self,
        model_name: str,
        message: str,
        *,
        phase: TransportPhase | None = None,
        body: object | None = None,
        provider_error_code: str | None = None,
        provider_error_type: str | None = None,
        retry_after: float | None = None,
        in_stream: bool = False,
    ) -> None:
        self.phase = phase
        super().__init__(
            model_name,
            message,
            body=body,
            provider_error_code=provider_error_code,
            provider_error_type=provider_error_type,
            retry_after=retry_after,
            in_stream=in_stream,
        )


class ContentFilterError(UnexpectedModelBehavior):
    """The provider's content filter stopped the response (``finish_reason='content_filter'`` with nothing
    usable, or a refusal the provider flags as filtered). Rephrase the request or use another model."""


class DeltaApplyError(UnexpectedModelBehavior, ValueError):
    """A stream delta cannot be applied to the part it was given (a text delta to a tool call, an empty
    thinking delta to another delta). Also a ``ValueError``, which pydantic-ai 2.68 raises there."""


class OutputTokenLimitExceeded(UnexpectedModelBehavior):
    """The response reached the output token limit (``max_tokens`` or the model's own) before the model
    finished; ``finish_reason`` is ``'length'``. Raise ``max_tokens`` or ask for less."""


class IncompleteToolCall(OutputTokenLimitExceeded):
    """The model hit the output token limit while writing a tool call, so its arguments are cut off."""


class ConcurrencyLimitExceeded(AgentRunError):
    """More requests are queued for a concurrency limit than its ``max_queued`` allows; retry later."""


RequestTimeoutSetting: TypeAlias = Literal["request_timeout", "first_event_timeout"]


class ModelRequestTimeout(ModelAPIError):
    """A request did not finish within ``ModelSettings['request_timeout']``, or a stream produced no
    output within ``ModelSettings['first_event_timeout']`` (``setting`` says which).

    These cover every attempt at one request to one model; the per-operation inactivity limit is
    :class:`ModelTimeoutError`, and a deadline of your own is a trio cancel scope.
    """

    timeout: float
    setting: RequestTimeoutSetting

    def __init__(
        self, model_name: str, timeout: float, *, setting: RequestTimeoutSetting = "request_timeout"
    ) -> None:
        self.timeout = timeout
        self.setting = setting
        message = f"Request to model {model_name!r} timed out after {timeout:g} seconds"
        if setting == "first_event_timeout":
            message += " without producing any output"
        super().__init__(model_name, message)

    def __reduce__(self) -> tuple[Any, ...]:
        return _model_request_timeout, (self.__class__, self.model_name, self.timeout, self.setting)


def _model_request_timeout(
    cls: type[ModelRequestTimeout], model_name: str, timeout: float, setting: RequestTimeoutSetting
) -> ModelRequestTimeout:
    """Unpickle a :class:`ModelRequestTimeout` (its ``setting`` is keyword-only)."""
    return cls(model_name, timeout, setting=setting)


class CostCalculationError(TrioDirectError, LookupError, ValueError):
    """A response's cost cannot be calculated: genai-prices does not know the model or provider (also a
    ``LookupError``), or the usage cannot be priced, e.g. the provider omitted it (also a ``ValueError``)
    — the two types pydantic-ai 2.68 lets through from ``ModelResponse.cost()``."""


class ToolArgsError(TrioDirectError, ValueError, AssertionError):
    """A tool call's arguments are not a JSON object (malformed JSON, or JSON that is not an object).

    Raised by ``args_as_dict(raise_if_invalid=True)``. Also a ``ValueError`` and an ``AssertionError``,
    the two types pydantic-ai 2.68 raises there, so ``except`` clauses written for it still catch it.
    """


# The warning classes pydantic-ai 2.68 emits on the direct path, under the same names so warning
# filters move over unchanged. Warnings are not errors, so they do not derive from TrioDirectError.


class PydanticAIDeprecationWarning(UserWarning):
    """A deprecated name or behaviour was used."""


class UnsupportedSettingWarning(UserWarning):
    """A model ignores a ``ModelSettings`` field whose absence changes what the request guarantees
    (``timeout``, ``stop_sequences``, ``parallel_tool_calls=False``, ``extra_headers``, ``extra_body``...)."""


class CostCalculationFailedWarning(Warning):
    """A response's cost could not be calculated."""


class CostNotFoundWarning(Warning):
    """No price is known for the response's model or provider."""


class UsageExtractionFailedWarning(Warning):
    """A usage counter could not be read from the provider's response."""


class UsageLimitUnavailableWarning(Warning):
    """A usage limit could not be checked because the usage it needs was not reported."""


class ModelTimeoutError(ModelConnectionError, TimeoutError):
    """An inactivity limit ran out: connecting, or waiting for the next bytes of a response or stream.

    These are per-operation limits (``ModelSettings['timeout']``, the stream inactivity timeout); a total
    deadline is the caller's ``trio.fail_after``.
    """


class ResponseTooLargeError(ModelAPIError):
    """The server sent more than a size limit allows; nothing past the limit was read.

    Sizes are counted after decompression. The connection is closed at once.

    Attributes:
        limit_name: the ``ModelSettings`` key that sets the limit (``'max_response_bytes'``).
        limit: the limit in bytes.
        seen: bytes seen when the limit was passed (a declared ``Content-Length``, or decoded bytes).
        what: what was too large (``'response body'``, ``'server-sent event'``).
    """

    limit_name: str
    limit: int
    seen: int
    what: str

    def __init__(
        self,
        model_name: str,
        *,
        limit_name: str,
        limit: int,
        seen: int,
        what: str,
        url: str,
        in_stream: bool = False,
    ) -> None:
        self.limit_name = limit_name
        self.limit = limit
        self.seen = seen
        self.what = what
        super().__init__(
            model_name,
            f"the {what} from {url} is larger than {limit_name}={limit} bytes (at least {seen} bytes, "
            "counted after decompression); nothing more was read and the connection was closed. If the "
            f"reply is genuine, raise the limit: ModelSettings({limit_name}=...) on the model or the call",
            in_stream=in_stream,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild_plain, (self.__class__, self.message), dict(vars(self))


def _rebuild_plain(cls: type[TrioDirectError], message: str) -> TrioDirectError:
    # Exceptions whose constructor takes more than a message are rebuilt empty; their state follows.
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    exc.message = message
    return exc


def _shown_body(body: object) -> str:
    # A body nested too deeply for repr (a hostile server's) must not turn the error into a RecursionError.
    try:
        return str(body)
    except RecursionError:
        return f"<a {type(body).__name__} nested too deeply to show>"


class ModelHTTPError(ModelAPIError):
    """The provider answered with a 4xx/5xx status (or an in-stream error that stands for one).

    Attributes:
        status_code: the HTTP status.
        headers: response headers with lower-cased keys, or None for synthesised errors.
        suggested_model_id: a close known model id, when the provider said the model is unknown.
    """

    status_code: int
    headers: dict[str, str] | None
    suggested_model_id: str | None
    hint: str | None

    def __init__(
        self,
        status_code: int,
        model_name: str,
        body: object | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        suggested_model_id: str | None = None,
        hint: str | None = None,
        provider_error_code: str | None = None,
        provider_error_type: str | None = None,
        retry_after: float | None = None,
        in_stream: bool = False,
    ) -> None:
        self.status_code = status_code
        self.headers = {k.lower(): v for k, v in headers.items()} if headers is not None else None
        self.suggested_model_id = suggested_model_id
        self.hint = hint
        message = f"status_code: {status_code}, model_name: {model_name}, body: {_shown_body(body)}"
        if suggested_model_id is not None:
            message += f". Did you mean {suggested_model_id!r}?"
        if hint is not None:
            message += f". {hint}"
        super().__init__(
            model_name,
            message,
            body=body,
            provider_error_code=provider_error_code,
            provider_error_type=provider_error_type,
            retry_after=retry_after if retry_after is not None else retry_after_seconds(self.headers),
            in_stream=in_stream,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_http_error,
            (self._category(), self.status_code, self.model_name, self.body),
            dict(vars(self)),
        )

    @classmethod
    def _category(cls) -> type[ModelAPIError] | None:
        return None

    @property
    def provider_retry_hint(self) -> bool | None:
        """The provider's ``x-should-retry`` header as a bool, or None when absent or unreadable."""
        value = (self.headers or {}).get("x-should-retry")
        return {"true": True, "false": False}.get(value.lower()) if value else None

    @staticmethod
    def for_category(
        category: type[ModelAPIError] | None,
        *,
        status_code: int,
        model_name: str,
        body: object | None = None,
        headers: Mapping[str, str] | None = None,
        suggested_model_id: str | None = None,
        hint: str | None = None,
        provider_error_code: str | None = None,
        provider_error_type: str | None = None,
        retry_after: float | None = None,
        in_stream: bool = False,
    ) -> ModelHTTPError:
        """Build a ``ModelHTTPError`` that is also an instance of ``category``.

        Raises:
            TypeError: ``category`` is not one an HTTP error can belong to.
        """
        if category is None:
            cls: type[ModelHTTPError] = ModelHTTPError
        elif (found := _HTTP_CATEGORY_CLASSES.get(category)) is None:
            raise TypeError(f"{category.__name__} is not an error category an HTTP error can belong to")
        else:
            cls = found
        return cls(
            status_code,
            model_name,
            body,
            headers=headers,
            suggested_model_id=suggested_model_id,
            hint=hint,
            provider_error_code=provider_error_code,
            provider_error_type=provider_error_type,
            retry_after=retry_after,
            in_stream=in_stream,
        )


class _CategorizedHTTPError(ModelHTTPError):
    """An HTTP error that is also an error category; it carries the category's name."""

    category: ClassVar[type[ModelAPIError]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.category = cls.__bases__[1]
        cls.__name__ = cls.__qualname__ = cls.category.__name__

    @classmethod
    def _category(cls) -> type[ModelAPIError] | None:
        return cls.category


_HTTP_CATEGORY_CLASSES: dict[type[ModelAPIError], type[ModelHTTPError]] = {}
for _category in (
    ModelRateLimitError,
    ModelQuotaExceededError,
    ModelUnavailableError,
    ModelOverloadedError,
    ModelServerError,
    ModelRequestRejectedError,
    ModelContextWindowExceededError,
    ModelAuthenticationError,
    ModelNotFoundError,
):
    _HTTP_CATEGORY_CLASSES[_category] = type(
        f"_HTTP{_category.__name__}", (_CategorizedHTTPError, _category), {"__module__": __name__}
    )
del _category


def _rebuild_http_error(
    category: type[ModelAPIError] | None, status_code: int, model_name: str, body: object
) -> ModelHTTPError:
    return ModelHTTPError.for_category(category, status_code=status_code, model_name=model_name, body=body)


def http_error_category(
    status_code: int, *, code: str | None = None, type_: str | None = None, message: str = ""
) -> type[ModelAPIError] | None:
    """The error category pydantic-ai 2.68 assigns to an HTTP status and the provider's code/type/message."""
    code_l = (code or "").lower()
    type_l = (type_ or "").lower()
    text = message.lower()
    if (
        code_l == "context_length_exceeded"
        or "maximum context length" in text
        or "prompt is too long" in text
    ):
        return ModelContextWindowExceededError
    if (
        status_code == 402
        or code_l in ("insufficient_quota", "billing_hard_limit_reached")
        or type_l == "billing_error"
    ):
        return ModelQuotaExceededError
    if status_code == 429 or code_l == "rate_limit_exceeded" or type_l == "rate_limit_error":
        return ModelRateLimitError
    if (
        status_code in (401, 403)
        or code_l == "invalid_api_key"
        or type_l in ("authentication_error", "permission_error")
    ):
        return ModelAuthenticationError
    if status_code == 404 or code_l == "model_not_found" or type_l == "not_found_error":
        return ModelNotFoundError
    if status_code == 529 or type_l == "overloaded_error" or (status_code == 503 and "overloaded" in text):
        return ModelOverloadedError
    if status_code == 503:
        return ModelUnavailableError
    if status_code >= 500:
        return ModelServerError
    if 400 <= status_code < 500:
        return ModelRequestRejectedError
    return None


class FallbackExceptionGroup(ExceptionGroup[Exception]):
    """Every model of a ``FallbackModel`` failed; ``exceptions`` holds each model's error in order.

    ``attempts`` lists every attempt (a :class:`~trio_direct.messages.ModelRequestAttempt`), including
    the usage of responses a ``fallback_on`` response handler rejected.
    """

    #: :class:`~trio_direct.messages.ModelRequestAttempt` records (typed loosely here: the message model
    #: imports this module, not the other way round).
    attempts: Sequence[Any] = ()
