"""Bedrock's errors (HTTP and in-stream exception messages) → the categorized errors 2.68 raises. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from ..._aws.eventstream import EventStreamMessage
from ...exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelUnavailableError,
)
from .._common import http_status_category, says_overloaded
from .._json import JSON, json_dict
from .._registry import suggest_model
from ._profile import PROVIDER_NAME

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

_CONTEXT_WINDOW_MESSAGES: Final = ("input is too long", "input tokens exceeded", "prompt is too long")
#: The status Bedrock documents for each exception event of a stream.
_STREAM_EXCEPTION_STATUS: Final = {
    "throttlingexception": 429,
    "serviceunavailableexception": 503,
    "internalserverexception": 500,
    "validationexception": 400,
    "modelstreamerrorexception": 424,
    "modeltimeoutexception": 408,
}
_INVALID_MODEL_MESSAGE: Final = "The provided model identifier is invalid."
_DATA_RETENTION_HINT: Final = (
    "Bedrock rejected this model under the account's data retention mode for this Region. Models that "
    "require human review need the account's data retention mode set to `aws_review` (or the legacy "
    "`provider_data_share`) with the Bedrock control plane's `PutAccountDataRetention` API, as it can't be "
    "set per request. See https://docs.aws.amazon.com/bedrock/latest/userguide/data-retention.html"
)


def code_category(code: str | None, message: object) -> type[ModelAPIError] | None:
    """The category 2.68 gives a Bedrock error code (case-insensitive), or None."""
    match (code or "").lower():
        case "throttlingexception":
            return ModelRateLimitError
        case "servicequotaexceededexception":
            return ModelQuotaExceededError
        case "modelstreamerrorexception":
            return ModelServerError
        case "serviceunavailableexception" | "modelnotreadyexception":
            return ModelOverloadedError if says_overloaded(message) else ModelUnavailableError
        case "mpagreementbeingcreated":
            return ModelUnavailableError
        case "validationexception" if isinstance(message, str) and any(
            m in message.lower() for m in _CONTEXT_WINDOW_MESSAGES
        ):
            return ModelContextWindowExceededError
        case (
            "accessdeniedexception"
            | "unrecognizedclientexception"
            | "invalidsignatureexception"
            | "expiredtokenexception"
            | "expiredtoken"
        ):
            return ModelAuthenticationError
        case "resourcenotfoundexception":
            return ModelNotFoundError
        case _:
            return None


def _error_code(headers: Mapping[str, str], parsed: object, status: int) -> str:
    # botocore's order: the `x-amzn-ErrorType` header (`Code:uri`), the body's `__type` (`ns#Code`),
    # its `code`; else the status.
    header = headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0]
    body = json_dict(parsed) or {}
    for key in ("__type", "code", "Code"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value.rsplit("#", 1)[-1]
    return str(status)


def http_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    model_name: str,
    *,
    suggest_prefix: str = PROVIDER_NAME,
) -> ModelHTTPError:
    """The categorized error 2.68 raises for a Bedrock 4xx/5xx.

    The body 2.68 exposes is botocore's: ``{'Error': {'Message', 'Code'}, 'ResponseMetadata': {...}}``.
    """
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = body.decode("utf-8", "replace")[:2000]
    fields = json_dict(parsed) or {}
    raw_message = fields.get("message", fields.get("Message"))
    message = raw_message if isinstance(raw_message, str) else (parsed if isinstance(parsed, str) else "")
    code = _error_code(headers, parsed, status)
    lowered = {k.lower(): v for k, v in headers.items()}
    metadata: JSON = {"HTTPStatusCode": status, "HTTPHeaders": lowered}
    if request_id := lowered.get("x-amzn-requestid"):
        metadata = {"RequestId": request_id, **metadata}
    error_body: JSON = {"Error": {"Message": message, "Code": code}, "ResponseMetadata": metadata}
    category = code_category(code, message)
    suggested = None
    if message == _INVALID_MODEL_MESSAGE:
        category = ModelNotFoundError
        suggested = suggest_model(suggest_prefix, model_name)
    hint = _DATA_RETENTION_HINT if "data retention mode" in message.lower() else None
    return ModelHTTPError.for_category(
        category or http_status_category(status, message),
        status_code=status,
        model_name=model_name,
        body=error_body,
        headers=headers,
        suggested_model_id=suggested,
        hint=hint,
        provider_error_code=code,
    )


def stream_exception(message: EventStreamMessage, model_name: str) -> ModelAPIError:
    """The error for an ``exception`` (or ``error``) message inside a ConverseStream body, as 2.68 raises it:
    with the status Bedrock documents for that exception, ``in_stream=True``."""
    headers = message.headers
    code_value = headers.get(":exception-type") or headers.get(":error-code")
    code = code_value if isinstance(code_value, str) else None
    try:
        payload: object = orjson.loads(message.payload) if message.payload else None
    except orjson.JSONDecodeError:
        payload = message.payload.decode("utf-8", "replace")
    fields = json_dict(payload) or {}
    raw_text = fields.get("message", fields.get("Message", headers.get(":error-message")))
    text = raw_text if isinstance(raw_text, str) else ""
    body: JSON = {"Error": {"Message": text, "Code": code}}
    if "originalStatusCode" in fields:
        body["originalStatusCode"] = fields["originalStatusCode"]
    category = code_category(code, text)
    status = _STREAM_EXCEPTION_STATUS.get((code or "").lower())
    if status is not None:
        return ModelHTTPError.for_category(
            category or http_status_category(status, text),
            status_code=status,
            model_name=model_name,
            body=body,
            provider_error_code=code,
            in_stream=True,
        )
    error_class = category or ModelAPIError
    return error_class(
        model_name,
        f"An error occurred ({code}) when calling the ConverseStream operation: {text}",
        body=body,
        provider_error_code=code,
        in_stream=True,
    )
