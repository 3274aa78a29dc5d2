"""Gemini: error bodies and in-stream errors → the categorized exceptions 2.68 raises. Pure."""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Final

import orjson

from ...exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelUnavailableError,
)
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._common import (
    http_status_category,
)
from .._json import JSON as JSON
from .._json import json_dict, json_list
from .._registry import suggest_model

# =============================================================================================
# 5. Errors
# =============================================================================================

_CONTEXT_WINDOW_MESSAGES: Final = ("input token count", "number of tokens allowed")


def _error_details(body: object) -> list[JSON]:
    b = json_dict(body)
    error = json_dict(b.get("error")) if b is not None else None
    return [
        d
        for item in json_list(error.get("details") if error is not None else None)
        if (d := json_dict(item)) is not None
    ]


def _exceeds_daily_quota(details: list[JSON]) -> bool:
    for detail in details:
        for violation in json_list(detail.get("violations")):
            quota_id = v.get("quotaId") if (v := json_dict(violation)) is not None else None
            if isinstance(quota_id, str) and "PerDay" in quota_id:
                return True
    return False


def _google_category(status: object, message: object, body: object) -> type[ModelAPIError] | None:
    """2.68's category for a google.rpc status name (``RESOURCE_EXHAUSTED``...) and the body's details."""
    details = _error_details(body)
    reason = next((d["reason"] for d in details if isinstance(d.get("reason"), str)), None)
    if reason == "API_KEY_INVALID":
        return ModelAuthenticationError
    text = message.lower() if isinstance(message, str) else None
    if status == "RESOURCE_EXHAUSTED":
        # a daily quota resets at midnight Pacific time: waiting will not help
        return ModelQuotaExceededError if _exceeds_daily_quota(details) else ModelRateLimitError
    if status == "FAILED_PRECONDITION" and text is not None and "billing" in text:
        return ModelQuotaExceededError
    if status == "UNAVAILABLE":
        overloaded = text is not None and ("overloaded" in text or "over capacity" in text)
        return ModelOverloadedError if overloaded else ModelUnavailableError
    if status == "INTERNAL":
        return ModelServerError
    if status == "INVALID_ARGUMENT":
        if text is not None and any(m in text for m in _CONTEXT_WINDOW_MESSAGES):
            return ModelContextWindowExceededError
        return ModelRequestRejectedError
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return ModelAuthenticationError
    if status == "NOT_FOUND":
        return ModelNotFoundError
    return None


def _retry_delay(body: object) -> float | None:
    """Seconds from the ``google.rpc.RetryInfo`` detail (``'14s'``, ``'0.5s'``), if any."""
    for detail in _error_details(body):
        raw = detail.get("retryDelay")
        if isinstance(raw, str) and raw.endswith("s"):
            try:
                seconds = float(raw[:-1])
            except ValueError:
                continue
            if 0 <= seconds < float("inf"):
                return seconds
    return None


def _fields(body: JSON) -> tuple[object, object]:
    """``status`` and ``message`` as the SDK reads them: top level first, then under ``error``."""
    error = json_dict(body.get("error")) or {}
    status = body["status"] if "status" in body else error.get("status")
    message = body["message"] if "message" in body else error.get("message")
    return status, message


def api_error(
    model_name: str,
    *,
    status_code: int,
    body: object,
    headers: Mapping[str, str] | None = None,
    in_stream: bool = False,
) -> ModelHTTPError:
    """The categorized :class:`ModelHTTPError` for a Gemini error body (the whole body, as 2.68 keeps it).

    ``provider_error_code`` is the google.rpc status name; ``retry_after`` comes from a ``Retry-After``
    header, else the body's ``RetryInfo``.
    """
    b = json_dict(body) or {}
    status, message = _fields(b)
    status_name = status if isinstance(status, str) else None
    suggested = None
    if (
        status_name == "NOT_FOUND"
        and isinstance(message, str)
        and message.startswith(f"models/{model_name} is not found ")
    ):
        suggested = suggest_model("google-gla", model_name)
    category = _google_category(status_name, message, body) or http_status_category(status_code, message)
    error = ModelHTTPError.for_category(
        category,
        status_code=status_code,
        model_name=model_name,
        body=body,
        headers=headers,
        suggested_model_id=suggested,
        provider_error_code=status_name,
        in_stream=in_stream,
    )
    if error.retry_after is None:
        error.retry_after = _retry_delay(body)
    return error


def _error_json(body: bytes) -> JSON | None:
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if (items := json_list(parsed)) and (first := json_dict(items[0])) is not None:
        return first  # some Google front ends wrap the error in an array
    return json_dict(parsed)


def http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """The error for a 4xx/5xx reply; a body that is not a JSON object reads as the SDK reads it
    (``{'message': <text>, 'status': <reason phrase>}``)."""
    error_body = _error_json(body)
    if error_body is None:
        text = body.decode("utf-8", "replace")
        if len(text) > 2000:
            text = text[:2000] + "...(truncated)"
        try:
            phrase: str | None = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = None
        error_body = {"message": text, "status": phrase}
    return api_error(model_name, status_code=status, body=error_body, headers=dict(headers.items()))


def stream_error(model_name: str, chunk: JSON, error: object) -> ModelAPIError:
    """An error chunk inside a 200 stream: a categorized :class:`ModelHTTPError` with ``in_stream=True``
    (a plain :class:`ModelAPIError` when it names no HTTP status)."""
    code = chunk.get("code")
    if code is None and (e := json_dict(error)) is not None:
        code = e.get("code")
    if type(code) is int and code >= 400:
        return api_error(model_name, status_code=code, body=chunk, in_stream=True)
    status, _ = _fields(chunk)
    return ModelAPIError(model_name, f"{code} {status}. {chunk}", body=chunk, in_stream=True)
