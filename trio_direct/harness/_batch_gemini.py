"""The Gemini API batch mode wire: inline ``GenerateContentRequest``\\ s, a long-running operation.

``POST {root}/v1beta/models/{model}:batchGenerateContent`` with ``{"batch": {"display_name",
"input_config": {"requests": {"requests": [{"request", "metadata": {"key"}}]}}}}`` creates the job;
``GET {root}/v1beta/batches/{id}`` polls the operation (``metadata.state``: ``BATCH_STATE_PENDING`` →
``RUNNING`` → ``SUCCEEDED``, or ``FAILED``, ``CANCELLED``, ``EXPIRED``; the SDK's ``JOB_STATE_*`` names
are read too). A done job's ``response`` holds ``inlinedResponses`` or names a ``responsesFile``
(``GET {root}/download/v1beta/{file}:download?alt=media``, one ``{"key", "response" | "error"}`` per
line). ``POST .../batches/{id}:cancel`` cancels. A cancelled or expired job has rows only for the
requests that ran. Limit: 20 MB of inline requests per job (no request count limit).

Vertex AI runs batch prediction from Cloud Storage or BigQuery instead and is not supported.
"""

from __future__ import annotations

from typing import Any, Final, cast, final

import orjson

from ._batch_wire import BatchEntry, JobStatus, RawResult, WireClient, as_dict, jsonl

__all__ = ["MAX_BYTES", "MAX_REQUESTS", "RPC_STATUS", "GeminiBatchWire", "parse_rows", "parse_status"]

#: Gemini limits a job by its size, not its number of requests.
MAX_REQUESTS: Final = 10_000_000
#: The most bytes of inline requests in one create request.
MAX_BYTES: Final = 20 * 1024 * 1024 - 1024

#: ``google.rpc.Code`` → (status name, the HTTP status ``generateContent`` answers it with).
RPC_STATUS: Final = {
    1: ("CANCELLED", 499),
    2: ("UNKNOWN", 500),
    3: ("INVALID_ARGUMENT", 400),
    4: ("DEADLINE_EXCEEDED", 504),
    5: ("NOT_FOUND", 404),
    6: ("ALREADY_EXISTS", 409),
    7: ("PERMISSION_DENIED", 403),
    8: ("RESOURCE_EXHAUSTED", 429),
    9: ("FAILED_PRECONDITION", 400),
    10: ("ABORTED", 409),
    11: ("OUT_OF_RANGE", 400),
    12: ("UNIMPLEMENTED", 501),
    13: ("INTERNAL", 500),
    14: ("UNAVAILABLE", 503),
    15: ("DATA_LOSS", 500),
    16: ("UNAUTHENTICATED", 401),
}

_ENDED = {"SUCCEEDED": None, "FAILED": "failed", "CANCELLED": "canceled", "EXPIRED": "expired"}


def parse_status(data: Any) -> JobStatus:
    """A :class:`JobStatus` from a batch operation (pure)."""
    operation = as_dict(data)
    metadata = as_dict(operation.get("metadata"))
    state = str(metadata.get("state") or "BATCH_STATE_UNSPECIFIED")
    short = state.removeprefix("BATCH_STATE_").removeprefix("JOB_STATE_")
    stats = as_dict(metadata.get("batchStats"))
    total = int(stats.get("requestCount") or 0)
    pending = int(stats.get("pendingRequestCount") or 0)
    output = as_dict(operation.get("response")) or as_dict(metadata.get("output"))
    ended = short in _ENDED or (operation.get("done") is True and short not in ("PENDING", "RUNNING"))
    missing: Any = _ENDED.get(short)
    error = operation.get("error")
    if error is not None and missing is None:
        missing = "failed"
    return JobStatus(
        state=state,
        ended=ended,
        done=max(total - pending, 0),
        total=total,
        details={"output": output},
        missing=missing,
        errors=error,
    )


def _row_result(key: str, row: dict[str, Any]) -> RawResult:
    if "response" in row:
        return RawResult(custom_id=key, kind="succeeded", body=orjson.dumps(row["response"]))
    error = as_dict(row.get("error"))
    code = error.get("code")
    name, status = RPC_STATUS.get(code, ("UNKNOWN", 500)) if isinstance(code, int) else ("UNKNOWN", 500)
    # As the live API answers: {"error": {"code": <http status>, "message", "status": <name>}}.
    body = {"error": {**error, "code": status, "status": name}}
    return RawResult(custom_id=key, kind="errored", status=status, body=orjson.dumps(body))


def parse_rows(output: Any, keys: list[str] | None = None) -> list[RawResult]:
    """The results of inlined responses (pure): each row's ``metadata.key``, else its position in ``keys``."""
    container = as_dict(as_dict(output).get("inlinedResponses"))
    rows: object = container.get("inlinedResponses")
    results: list[RawResult] = []
    listed = cast("list[object]", rows) if isinstance(rows, list) else []
    for i, raw in enumerate(listed):
        row = as_dict(raw)
        key = as_dict(row.get("metadata")).get("key")
        if key is None and keys is not None and i < len(keys):
            key = keys[i]
        results.append(_row_result(str(key), row))
    return results


def parse_file(data: bytes) -> list[RawResult]:
    """The results of a responses file (pure).

    Raises:
        orjson.JSONDecodeError: a line is not JSON.
    """
    return [_row_result(str(as_dict(line).get("key")), as_dict(line)) for line in jsonl(data)]


@final
class GeminiBatchWire:
    """Gemini batch mode at ``root`` (``https://generativelanguage.googleapis.com``) for one model."""

    name = "gemini"
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES

    def __init__(self, root: str, model_path: str) -> None:
        self._root = root.rstrip("/")
        self._model_path = model_path

    def _row(self, entry: BatchEntry) -> bytes:
        return b'{"request":' + entry.body + b',"metadata":{"key":' + orjson.dumps(entry.custom_id) + b"}}"

    def entry_size(self, entry: BatchEntry) -> int:
        return len(self._row(entry)) + 1

    async def submit(self, client: WireClient, entries: list[BatchEntry]) -> str:
        rows = b",".join(self._row(entry) for entry in entries)
        content = (
            b'{"batch":{"display_name":"trio-direct-batch","input_config":{"requests":{"requests":['
            + rows
            + b"]}}}}"
        )
        url = f"{self._root}/v1beta/{self._model_path}:batchGenerateContent"
        operation = as_dict(
            await client.call_json("POST", url, content=content, content_type="application/json", create=True)
        )
        return str(operation.get("name") or as_dict(operation.get("metadata")).get("name"))

    async def status(self, client: WireClient, batch_id: str) -> JobStatus:
        return parse_status(await client.call_json("GET", f"{self._root}/v1beta/{batch_id}"))

    async def results(self, client: WireClient, batch_id: str, status: JobStatus) -> list[RawResult]:
        output = as_dict(status.details.get("output"))
        file_name = output.get("responsesFile")
        if isinstance(file_name, str) and file_name:
            _, content = await client.call(
                "GET", f"{self._root}/download/v1beta/{file_name}:download?alt=media"
            )
            return parse_file(content)
        return parse_rows(output)

    async def cancel(self, client: WireClient, batch_id: str) -> None:
        await client.call("POST", f"{self._root}/v1beta/{batch_id}:cancel")
