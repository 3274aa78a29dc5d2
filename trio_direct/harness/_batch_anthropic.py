"""The Anthropic Message Batches wire: one create request holding every ``{custom_id, params}``.

``POST {base}/v1/messages/batches`` creates the job; ``GET .../{id}`` polls ``processing_status``
(``in_progress`` → ``canceling`` → ``ended``) and ``request_counts``; ``GET .../{id}/results`` reads
the results as JSONL, one ``{"custom_id", "result": {"type": "succeeded" | "errored" | "canceled" |
"expired", ...}}`` per request, **in no particular order**; ``POST .../{id}/cancel`` cancels.
Limits: 100,000 requests and 256 MB per create request; ``custom_id`` of 1-64 ``[a-zA-Z0-9_-]``.
"""

from __future__ import annotations

from typing import Any, Final, final

import orjson

from ._batch_wire import BatchEntry, JobStatus, RawResult, WireClient, as_dict, jsonl

__all__ = ["ERROR_STATUS", "MAX_BYTES", "MAX_REQUESTS", "AnthropicBatchWire", "parse_results", "parse_status"]

MAX_REQUESTS: Final = 100_000
_ENVELOPE: Final = len(b'{"requests":[]}')
MAX_BYTES: Final = 256 * 1024 * 1024 - _ENVELOPE

#: The HTTP status each Anthropic error type is answered with, live.
ERROR_STATUS: Final = {
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


def parse_status(data: Any) -> JobStatus:
    """A :class:`JobStatus` from a message batch object (pure)."""
    batch = as_dict(data)
    state = str(batch.get("processing_status"))
    counts = as_dict(batch.get("request_counts"))
    number = {k: int(v) for k, v in counts.items() if isinstance(v, int)}
    done = sum(number.get(k, 0) for k in ("succeeded", "errored", "canceled", "expired"))
    return JobStatus(
        state=state,
        ended=state == "ended",
        done=done,
        total=done + number.get("processing", 0),
        details={"results_url": batch.get("results_url")},
        # Anthropic writes a line for every request, canceled and expired ones included.
        missing=None,
    )


def parse_results(data: bytes) -> list[RawResult]:
    """The results of a results file (pure); order as the file has it.

    Raises:
        orjson.JSONDecodeError: a line is not JSON.
    """
    results: list[RawResult] = []
    for raw in jsonl(data):
        line = as_dict(raw)
        custom_id = str(line.get("custom_id"))
        result = as_dict(line.get("result"))
        kind = result.get("type")
        if kind == "succeeded":
            results.append(
                RawResult(custom_id=custom_id, kind="succeeded", body=orjson.dumps(result.get("message")))
            )
        elif kind in ("canceled", "expired"):
            results.append(RawResult(custom_id=custom_id, kind=kind))
        else:
            # The error wraps the live error body ({"type": "error", "error": {"type", "message"}}).
            body = as_dict(result.get("error"))
            error_type = as_dict(body.get("error")).get("type")
            status = ERROR_STATUS.get(error_type, 500) if isinstance(error_type, str) else 500
            results.append(
                RawResult(custom_id=custom_id, kind="errored", status=status, body=orjson.dumps(body))
            )
    return results


@final
class AnthropicBatchWire:
    """Message Batches at ``base_url`` (``https://api.anthropic.com``)."""

    name = "anthropic"
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES

    def __init__(self, base_url: str) -> None:
        self._base = base_url.rstrip("/") + "/v1/messages/batches"

    def entry_size(self, entry: BatchEntry) -> int:
        return len(b'{"custom_id":,"params":},') + len(orjson.dumps(entry.custom_id)) + len(entry.body)

    async def submit(self, client: WireClient, entries: list[BatchEntry]) -> str:
        # Built as bytes: each params body is the live request's JSON, embedded as is.
        items = b",".join(
            b'{"custom_id":' + orjson.dumps(entry.custom_id) + b',"params":' + entry.body + b"}"
            for entry in entries
        )
        content = b'{"requests":[' + items + b"]}"
        batch = as_dict(
            await client.call_json(
                "POST", self._base, content=content, content_type="application/json", create=True
            )
        )
        return str(batch["id"])

    async def status(self, client: WireClient, batch_id: str) -> JobStatus:
        return parse_status(await client.call_json("GET", f"{self._base}/{batch_id}"))

    async def results(self, client: WireClient, batch_id: str, status: JobStatus) -> list[RawResult]:
        url = status.details.get("results_url") or f"{self._base}/{batch_id}/results"
        _, content = await client.call("GET", str(url))
        return parse_results(content)

    async def cancel(self, client: WireClient, batch_id: str) -> None:
        await client.call("POST", f"{self._base}/{batch_id}/cancel")
