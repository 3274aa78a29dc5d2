"""The OpenAI Batch API wire: a JSONL file of requests, one job, output and error files.

``POST {base}/files`` (multipart, ``purpose=batch``) uploads the input, one line per request
(``{"custom_id", "method": "POST", "url": "/v1/chat/completions" | "/v1/responses", "body"}``);
``POST {base}/batches`` creates the job with a ``24h`` completion window; ``GET {base}/batches/{id}``
polls it (``validating`` → ``in_progress`` → ``finalizing`` → ``completed``, or ``failed``,
``expired``, ``cancelling`` → ``cancelled``); ``GET {base}/files/{id}/content`` reads the output file
(2xx results) and the error file (non-2xx results, and ``batch_expired``/``batch_cancelled`` lines
for requests that never ran). Limits: 50,000 requests and 200 MB per input file.
"""

from __future__ import annotations

from typing import Any, Final, final

import orjson

from ._batch_wire import BatchEntry, JobStatus, RawResult, WireClient, as_dict, jsonl, multipart

__all__ = ["MAX_BYTES", "MAX_REQUESTS", "OpenAIBatchWire", "parse_output_lines", "parse_status"]

MAX_REQUESTS: Final = 50_000
MAX_BYTES: Final = 200 * 1024 * 1024

_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
_UNRUN = {"batch_expired": "expired", "batch_cancelled": "canceled"}


def parse_status(data: Any) -> JobStatus:
    """A :class:`JobStatus` from a batch object (pure)."""
    batch = as_dict(data)
    state = str(batch.get("status"))
    counts = as_dict(batch.get("request_counts"))
    errors = as_dict(batch.get("errors")).get("data")
    missing: Any = {"failed": "failed", "expired": "expired", "cancelled": "canceled"}.get(state)
    return JobStatus(
        state=state,
        ended=state in _ENDED,
        done=int(counts.get("completed") or 0) + int(counts.get("failed") or 0),
        total=int(counts.get("total") or 0),
        details={"output_file_id": batch.get("output_file_id"), "error_file_id": batch.get("error_file_id")},
        missing=missing,
        errors=errors,
    )


def parse_output_lines(data: bytes) -> list[RawResult]:
    """The results in an output or error file (pure).

    Raises:
        orjson.JSONDecodeError: a line is not JSON.
    """
    results: list[RawResult] = []
    for raw in jsonl(data):
        line = as_dict(raw)
        custom_id = str(line.get("custom_id"))
        if isinstance(line.get("response"), dict):
            response = as_dict(line["response"])
            status = int(response.get("status_code") or 500)
            body = orjson.dumps(response.get("body"))
            kind: Any = "succeeded" if 200 <= status < 300 else "errored"
            results.append(RawResult(custom_id=custom_id, kind=kind, status=status, body=body))
            continue
        error = as_dict(line.get("error"))
        unrun: Any = _UNRUN.get(str(error.get("code")))
        if unrun is not None:
            results.append(RawResult(custom_id=custom_id, kind=unrun))
        else:
            body = orjson.dumps({"error": {"message": error.get("message"), "code": error.get("code")}})
            results.append(RawResult(custom_id=custom_id, kind="errored", status=500, body=body))
    return results


@final
class OpenAIBatchWire:
    """The OpenAI Batch API at ``base_url`` (``https://api.openai.com/v1``) for one ``endpoint``.

    Args:
        base_url: the API root the model's live requests go under.
        endpoint: ``'/v1/chat/completions'`` or ``'/v1/responses'``.
    """

    name = "openai"
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_BYTES

    def __init__(self, base_url: str, endpoint: str) -> None:
        self._base = base_url.rstrip("/")
        self.endpoint = endpoint

    def _line(self, entry: BatchEntry) -> bytes:
        # The body is the live request's JSON, embedded as is.
        return b"".join(
            (
                b'{"custom_id":',
                orjson.dumps(entry.custom_id),
                b',"method":"POST","url":',
                orjson.dumps(self.endpoint),
                b',"body":',
                entry.body,
                b"}",
            )
        )

    def entry_size(self, entry: BatchEntry) -> int:
        return len(self._line(entry)) + 1

    async def submit(self, client: WireClient, entries: list[BatchEntry]) -> str:
        content = b"\n".join(self._line(entry) for entry in entries) + b"\n"
        body, content_type = multipart({"purpose": "batch"}, "file", "batch.jsonl", content)
        # An upload is safe to retry: a duplicate file costs nothing and is never used.
        file = as_dict(
            await client.call_json("POST", f"{self._base}/files", content=body, content_type=content_type)
        )
        batch = as_dict(
            await client.call_json(
                "POST",
                f"{self._base}/batches",
                json={
                    "input_file_id": file.get("id"),
                    "endpoint": self.endpoint,
                    "completion_window": "24h",
                    "metadata": {"created_by": "trio_direct"},
                },
                create=True,
            )
        )
        return str(batch["id"])

    async def status(self, client: WireClient, batch_id: str) -> JobStatus:
        return parse_status(await client.call_json("GET", f"{self._base}/batches/{batch_id}"))

    async def results(self, client: WireClient, batch_id: str, status: JobStatus) -> list[RawResult]:
        results: list[RawResult] = []
        for key in ("output_file_id", "error_file_id"):
            file_id = status.details.get(key)
            if file_id:
                _, content = await client.call("GET", f"{self._base}/files/{file_id}/content")
                results.extend(parse_output_lines(content))
        return results

    async def cancel(self, client: WireClient, batch_id: str) -> None:
        await client.call("POST", f"{self._base}/batches/{batch_id}/cancel")
