"""Anthropic: error bodies and in-stream ``error`` events → the categorized exceptions 2.68 raises. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson

from ...exceptions import (
    ModelAPIError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
)
from .._common import http_status_category
from .._json import JSON as JSON
from .._json import json_dict
from .._registry import suggest_model

# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

#: The HTTP status each error ``type`` comes with (an in-stream ``error`` event says only its type).
ERROR_TYPE_STATUS: Final[dict[str, int]] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_TYPE_CATEGORIES: Final[dict[str, type[ModelAPIError]]] = {
    "rate_limit_error": ModelRateLimitError,
    "billing_error": ModelQuotaExceededError,
    "overloaded_error": ModelOverloadedError,
}
_SCHEMA_TOO_COMPLEX_HINT: Final = (
    "Anthropic couldn't compile the request's strict schemas into a grammar. Simplify them, "
    "set `strict=True` only on the tools that need it, or use `ToolOutput` without `strict=True` "
    "or `PromptedOutput` for a large output type. See https://pydantic.dev/docs/ai/models/anthropic/#schema-complexity-limits"
)


def _type_category(error_type: object, message: object) -> type[ModelAPIError] | None:
    if error_type == "invalid_request_error" and isinstance(message, str):
        lowered = message.lower()
        if "prompt is too long" in lowered:
            return ModelContextWindowExceededError
        if "credit balance is too low" in lowered:
            return ModelQuotaExceededError
    return _TYPE_CATEGORIES.get(error_type) if isinstance(error_type, str) else None


def api_error(
    model_name: str,
    *,
    status: int | None,
    body: object,
    headers: Mapping[str, str] | None = None,
    in_stream: bool = False,
) -> ModelAPIError:
    """The error for an HTTP error reply or an in-stream ``error`` event, as pydantic-ai 2.68 classifies it.

    ``status`` is None for an in-stream event: the status is inferred from the error ``type``, and an
    unknown type gives a plain :class:`ModelAPIError`. ``body`` is the whole parsed body (not unwrapped).
    """
    body_dict = json_dict(body)
    error = (json_dict(body_dict.get("error")) if body_dict is not None else None) or {}
    error_type, error_message = error.get("type"), error.get("message")
    category = _type_category(error_type, error_message)
    provider_error_type = error_type if isinstance(error_type, str) else None
    if status is None:
        status = ERROR_TYPE_STATUS.get(error_type) if isinstance(error_type, str) else None
        if status is None:
            return (category or ModelAPIError)(
                model_name, str(body), body=body, provider_error_type=provider_error_type, in_stream=True
            )
    reported = json_dict(body_dict.get("error", body_dict)) if body_dict is not None else None
    reported_message = reported.get("message") if reported is not None else None
    suggested = None
    if error_type == "not_found_error" and error_message == f"model: {model_name}":
        suggested = suggest_model("anthropic", model_name)
    too_complex = isinstance(reported_message, str) and any(
        text in reported_message.lower()
        for text in ("schema is too complex", "compiled grammar is too large")
    )
    return ModelHTTPError.for_category(
        category or http_status_category(status, reported_message),
        status_code=status,
        model_name=model_name,
        body=body,
        headers=headers,
        suggested_model_id=suggested,
        hint=_SCHEMA_TOO_COMPLEX_HINT if status == 400 and too_complex else None,
        provider_error_type=provider_error_type,
        in_stream=in_stream,
    )


def http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """The categorized :class:`ModelHTTPError` for a 4xx/5xx reply (the body parsed as the SDK does)."""
    text = body.decode("utf-8", "replace").strip()
    parsed: object = text
    if text:
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = text if len(text) <= 2000 else text[:2000] + "...(truncated)"
    return api_error(model_name, status=status, body=parsed, headers=dict(headers.items()))
