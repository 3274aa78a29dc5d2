"""A fake of three provider batch APIs: a loopback HTTP/1.1 server for tests and benchmarks.

It implements, with their states, limits, result formats and errors:

* **OpenAI Batch API** — ``POST /v1/files`` (multipart, ``purpose=batch``), ``POST /v1/batches``
  (``endpoint`` ``/v1/chat/completions`` or ``/v1/responses``, ``completion_window`` ``24h``),
  ``GET /v1/batches/{id}``, ``POST /v1/batches/{id}/cancel``, ``GET /v1/files/{id}/content``.
  Status ``validating`` → ``in_progress`` → ``finalizing`` → ``completed``; ``failed`` when the input
  file does not validate (bad line, wrong url, duplicate ``custom_id``, more than ``openai_max_requests``
  lines, more than one model); ``cancelling`` → ``cancelled``; ``expired`` past the completion window.
  Results go to ``output_file_id`` (2xx lines) and ``error_file_id`` (non-2xx lines, and
  ``batch_expired``/``batch_cancelled`` lines for requests that never ran).
* **Anthropic Message Batches** — ``POST /v1/messages/batches`` (``{custom_id, params}``; ids of 1-64
  ``[a-zA-Z0-9_-]``, at most ``anthropic_max_requests``, body at most ``anthropic_max_bytes``),
  ``GET /v1/messages/batches/{id}`` (``processing_status`` ``in_progress``/``canceling``/``ended``,
  ``request_counts``), ``GET /v1/messages/batches/{id}/results`` (JSONL of ``succeeded``/``errored``/
  ``canceled``/``expired``, **shuffled**: order is not guaranteed), ``POST .../cancel``.
* **Gemini batch mode** — ``POST /v1beta/models/{model}:batchGenerateContent`` with inline requests
  (at most ``gemini_max_inline_bytes``), ``GET /v1beta/batches/{id}`` (an operation whose
  ``metadata.state`` is ``BATCH_STATE_PENDING``/``RUNNING``/``SUCCEEDED``/``FAILED``/``CANCELLED``/
  ``EXPIRED``; when done, ``response`` holds ``inlinedResponses`` or a ``responsesFile``),
  ``POST /v1beta/batches/{id}:cancel``, ``GET /download/v1beta/files/{id}:download?alt=media``.

Time: request *i* of *n* of a job finishes at ``created + validate_s + processing_s * (i + 1) / n``
(the server's ``time.monotonic``), so a job cancelled or expired half-way has results for the first
half only. A job expires ``expire_s`` after it was created if it has not finished by then.

Replies: each request is answered in the provider's own shape with the text ``"echo: <last user
text>"``; a prompt containing ``[fail]`` gets a provider-shaped 400 error, ``[overload]`` a 529/503-class
one. Usage: input tokens = body bytes // 4, output tokens = words of the reply. Every call needs an API
key header (``authorization``, ``x-api-key`` or ``x-goog-api-key``) or gets a 401.

``GET /_stats`` returns counters (jobs created per provider, polls, result downloads, requests), so a
test can prove that a resumed job did not pay twice. From Python::

    with FakeBatchServer(processing_s=0.2) as srv:
        srv.url  # "http://127.0.0.1:PORT"

``python -m benchmarks.fake_batch --port 0`` runs it standalone (prints the URL).
"""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import itertools
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeBatchServer", "reply_text"]

OPENAI_MAX_REQUESTS = 50_000
OPENAI_MAX_BYTES = 200 * 1024 * 1024
ANTHROPIC_MAX_REQUESTS = 100_000
ANTHROPIC_MAX_BYTES = 256 * 1024 * 1024
GEMINI_MAX_INLINE_BYTES = 20 * 1024 * 1024

_CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_ENDPOINTS = ("/v1/chat/completions", "/v1/responses")
_GEMINI_OUTPUT_TYPE = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"
_GEMINI_RPC = {"INVALID_ARGUMENT": 3, "RESOURCE_EXHAUSTED": 8, "UNAVAILABLE": 14}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _last_text(value: Any) -> str:
    """The last string under a ``text`` or ``content`` key (or a bare string), depth first."""
    found = ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("text", "content") and isinstance(inner, str):
                found = inner
            elif isinstance(inner, dict | list):
                found = _last_text(inner) or found
    elif isinstance(value, list):
        for inner in value:
            found = _last_text(inner) or found
    return found


def reply_text(prompt: str) -> str:
    """The text the fake answers ``prompt`` with."""
    return f"echo: {prompt}"


class _Answer:
    """One request's result: ``ok`` with a provider body, or an error kind with a message."""

    __slots__ = ("body", "error", "status")

    def __init__(self, status: int, body: dict[str, Any] | None = None, error: str | None = None) -> None:
        self.status = status
        self.body = body
        self.error = error


def _answer(provider: str, endpoint: str, body: dict[str, Any], model: str, seq: int) -> _Answer:
    """The provider-shaped result for one request ``body``."""
    if provider == "gemini":
        prompt = _last_text(body.get("contents", []))
    elif endpoint == "/v1/responses":
        prompt = _last_text(body.get("input", []))
    else:
        prompt = _last_text(body.get("messages", []))
    if "[fail]" in prompt:
        return _Answer(400, error="invalid_request")
    if "[overload]" in prompt:
        return _Answer(529 if provider == "anthropic" else 503, error="overloaded")
    text = reply_text(prompt)
    p_tok = max(1, len(json.dumps(body)) // 4)
    c_tok = len(text.split())
    now = int(time.time())
    if provider == "anthropic":
        return _Answer(
            200,
            {
                "id": f"msg_{seq:024d}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {
                    "input_tokens": p_tok,
                    "output_tokens": c_tok,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "service_tier": "batch",
                },
            },
        )
    if provider == "gemini":
        return _Answer(
            200,
            {
                "candidates": [
                    {
                        "content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": p_tok,
                    "candidatesTokenCount": c_tok,
                    "totalTokenCount": p_tok + c_tok,
                },
                "modelVersion": model,
                "responseId": f"resp{seq:020d}",
            },
        )
    if endpoint == "/v1/responses":
        return _Answer(
            200,
            {
                "id": f"resp_{seq:024d}",
                "object": "response",
                "created_at": now,
                "status": "completed",
                "model": model,
                "output": [
                    {
                        "type": "message",
                        "id": f"msg_{seq:024d}",
                        "status": "completed",
                        "role": "assistant",
                        "content": [{"type": "output_text", "text": text, "annotations": []}],
                    }
                ],
                "usage": {
                    "input_tokens": p_tok,
                    "input_tokens_details": {"cached_tokens": 0},
                    "output_tokens": c_tok,
                    "output_tokens_details": {"reasoning_tokens": 0},
                    "total_tokens": p_tok + c_tok,
                },
                "service_tier": "default",
            },
        )
    return _Answer(
        200,
        {
            "id": f"chatcmpl-{seq:024d}",
            "object": "chat.completion",
            "created": now,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": p_tok,
                "completion_tokens": c_tok,
                "total_tokens": p_tok + c_tok,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
            },
            "service_tier": "default",
            "system_fingerprint": "fp_fakebatch",
        },
    )


class _Job:
    """One batch job of any provider; its state is derived from the clock on every read."""

    def __init__(
        self,
        provider: str,
        job_id: str,
        requests: list[tuple[str, dict[str, Any]]],
        *,
        endpoint: str,
        model: str,
        created: float,
        wall: float,
        validate_s: float,
        processing_s: float,
        expire_s: float,
        failed_errors: list[dict[str, Any]] | None = None,
        input_file_id: str | None = None,
    ) -> None:
        self.provider = provider
        self.id = job_id
        self.requests = requests
        self.endpoint = endpoint
        self.model = model
        self.created = created
        self.wall = wall
        self.validate_s = validate_s
        self.processing_s = processing_s
        self.expire_s = expire_s
        self.failed_errors = failed_errors
        self.input_file_id = input_file_id
        self.cancel_at: float | None = None
        self.answers: list[_Answer | None] = [None] * len(requests)
        self.output_file_id: str | None = None
        self.error_file_id: str | None = None

    def done_at(self, index: int) -> float:
        n = max(len(self.requests), 1)
        return self.created + self.validate_s + self.processing_s * (index + 1) / n

    def finished_at(self) -> float:
        return self.done_at(len(self.requests) - 1) if self.requests else self.created + self.validate_s

    def stop_at(self) -> float:
        """When processing stopped or will stop: finished, cancelled or expired, whichever is first."""
        stops = [self.finished_at(), self.created + self.expire_s]
        if self.cancel_at is not None:
            stops.append(self.cancel_at)
        return min(stops)

    def ran(self, index: int, now: float) -> bool:
        """Whether request ``index`` has a result by ``now``."""
        return self.failed_errors is None and self.done_at(index) <= min(now, self.stop_at())

    def phase(self, now: float) -> str:
        """``'validating'``, ``'failed'``, ``'running'``, ``'cancelling'``, ``'finished'``, ``'cancelled'``,
        ``'expired'``."""
        if self.failed_errors is not None:
            return "failed" if now >= self.created + self.validate_s else "validating"
        if now < self.created + self.validate_s and self.cancel_at is None:
            return "validating"
        stop = self.stop_at()
        if now < stop:
            return "running"
        if self.cancel_at is not None and stop == self.cancel_at:
            # Cancelling takes a moment while the requests in flight drain.
            return "cancelled" if now >= self.cancel_at + min(self.processing_s, 0.05) else "cancelling"
        if stop == self.finished_at():
            return "finished"
        return "expired"

    def counts(self, now: float) -> tuple[int, int, int]:
        """(ran, succeeded, errored) by ``now``."""
        ran = ok = 0
        for i, answer in enumerate(self.answers):
            if self.ran(i, now):
                ran += 1
                ok += answer is not None and answer.status < 300
        return ran, ok, ran - ok


class FakeBatchServer:
    """The three batch APIs on 127.0.0.1, in a thread; a context manager that stops it on exit.

    Args:
        port: 0 picks a free port.
        validate_s: seconds a job spends validating (OpenAI's ``validating``; the others' pending).
        processing_s: seconds from the end of validation until the last request of a job is done.
        expire_s: seconds after creation when an unfinished job expires (the providers' 24 hours).
        openai_max_requests, openai_max_bytes, anthropic_max_requests, anthropic_max_bytes,
        gemini_max_inline_bytes: the limits (the providers' real ones by default).
        gemini_inline_output: answer a Gemini job with inlined responses (True) or a responses file.
        seed: shuffles Anthropic's results reproducibly.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        validate_s: float = 0.0,
        processing_s: float = 0.1,
        expire_s: float = 24 * 3600.0,
        openai_max_requests: int = OPENAI_MAX_REQUESTS,
        openai_max_bytes: int = OPENAI_MAX_BYTES,
        anthropic_max_requests: int = ANTHROPIC_MAX_REQUESTS,
        anthropic_max_bytes: int = ANTHROPIC_MAX_BYTES,
        gemini_max_inline_bytes: int = GEMINI_MAX_INLINE_BYTES,
        gemini_inline_output: bool = True,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.validate_s = validate_s
        self.processing_s = processing_s
        self.expire_s = expire_s
        self.openai_max_requests = openai_max_requests
        self.openai_max_bytes = openai_max_bytes
        self.anthropic_max_requests = anthropic_max_requests
        self.anthropic_max_bytes = anthropic_max_bytes
        self.gemini_max_inline_bytes = gemini_max_inline_bytes
        self.gemini_inline_output = gemini_inline_output
        self.clock = clock
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.files: dict[str, tuple[str, bytes]] = {}  # id -> (purpose, content)
        self.jobs: dict[str, _Job] = {}
        self.stats: dict[str, int] = {
            "files_uploaded": 0,
            "jobs_created": 0,
            "requests_submitted": 0,
            "polls": 0,
            "results_downloads": 0,
            "cancels": 0,
            "http_requests": 0,
            "rejected": 0,
        }
        self.created_by_provider: dict[str, int] = {"openai": 0, "anthropic": 0, "gemini": 0}
        server = self

        class Handler(_Handler):
            fake = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeBatchServer:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-batch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> FakeBatchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls ---------------------------------------------------------------------------------

    def cancel(self, job_id: str) -> None:
        """Cancel a job as if from the provider's console."""
        with self._lock:
            job = self.jobs[job_id]
            if job.cancel_at is None and job.phase(self.clock()) in ("validating", "running"):
                job.cancel_at = self.clock()

    def expire(self, job_id: str) -> None:
        """Make a job expire now (as if its completion window had run out)."""
        with self._lock:
            job = self.jobs[job_id]
            job.expire_s = min(job.expire_s, self.clock() - job.created)

    def finish_all(self) -> None:
        """Finish every running job now."""
        with self._lock:
            now = self.clock()
            for job in self.jobs.values():
                job.processing_s = 0.0
                job.validate_s = min(job.validate_s, now - job.created)

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}{self._random.getrandbits(32):08x}"

    # -- the job engine --------------------------------------------------------------------------------

    def _new_job(
        self,
        provider: str,
        requests: list[tuple[str, dict[str, Any]]],
        *,
        endpoint: str,
        model: str,
        failed_errors: list[dict[str, Any]] | None = None,
        input_file_id: str | None = None,
        prefix: str,
    ) -> _Job:
        job = _Job(
            provider,
            self._new_id(prefix),
            requests,
            endpoint=endpoint,
            model=model,
            created=self.clock(),
            wall=time.time(),
            validate_s=self.validate_s,
            processing_s=self.processing_s,
            expire_s=self.expire_s,
            failed_errors=failed_errors,
            input_file_id=input_file_id,
        )
        for i, (_, body) in enumerate(requests):
            job.answers[i] = _answer(provider, endpoint, body, model, next(self._ids))
        self.jobs[job.id] = job
        self.stats["jobs_created"] += 1
        self.stats["requests_submitted"] += len(requests)
        self.created_by_provider[provider] += 1
        return job

    # OpenAI ---------------------------------------------------------------------------------------------

    def _openai_error_line(self, job: _Job, i: int, answer: _Answer) -> dict[str, Any]:
        kind = "invalid_request_error" if answer.status == 400 else "server_error"
        message = "The prompt asked to fail." if answer.status == 400 else "The server is overloaded."
        return {
            "id": f"batch_req_{job.id}_{i}",
            "custom_id": job.requests[i][0],
            "response": {
                "status_code": answer.status,
                "request_id": f"req_{job.id}_{i}",
                "body": {"error": {"message": message, "type": kind, "param": None, "code": answer.error}},
            },
            "error": None,
        }

    def _openai_files(self, job: _Job, now: float, phase: str) -> None:
        """Write the output and error files once a job has ended (finished, cancelled, expired)."""
        if job.output_file_id is not None or job.error_file_id is not None:
            return
        out: list[bytes] = []
        err: list[bytes] = []
        for i, (custom_id, _) in enumerate(job.requests):
            answer = job.answers[i]
            assert answer is not None
            if job.ran(i, now):
                if answer.status < 300:
                    line = {
                        "id": f"batch_req_{job.id}_{i}",
                        "custom_id": custom_id,
                        "response": {
                            "status_code": 200,
                            "request_id": f"req_{job.id}_{i}",
                            "body": answer.body,
                        },
                        "error": None,
                    }
                    out.append(json.dumps(line).encode())
                else:
                    err.append(json.dumps(self._openai_error_line(job, i, answer)).encode())
            else:
                code = "batch_expired" if phase == "expired" else "batch_cancelled"
                message = (
                    "This request could not be executed before the completion window expired."
                    if phase == "expired"
                    else "This request was not executed because the batch was cancelled."
                )
                line = {
                    "id": f"batch_req_{job.id}_{i}",
                    "custom_id": custom_id,
                    "response": None,
                    "error": {"code": code, "message": message},
                }
                err.append(json.dumps(line).encode())
        if out:
            job.output_file_id = self._new_id("file-")
            self.files[job.output_file_id] = ("batch_output", b"\n".join(out) + b"\n")
        if err:
            job.error_file_id = self._new_id("file-")
            self.files[job.error_file_id] = ("batch_output", b"\n".join(err) + b"\n")

    def openai_batch(self, job: _Job) -> dict[str, Any]:
        now = self.clock()
        phase = job.phase(now)
        status = {
            "validating": "validating",
            "failed": "failed",
            "running": "in_progress",
            "cancelling": "cancelling",
            "cancelled": "cancelled",
            "expired": "expired",
            "finished": "completed",
        }[phase]
        if phase == "finished" and now < job.finished_at() + min(job.processing_s, 0.02):
            status = "finalizing"
        if status in ("completed", "cancelled", "expired"):
            self._openai_files(job, now, phase)
        _, ok, errored = job.counts(now)
        total = 0 if job.failed_errors is not None or phase == "validating" else len(job.requests)
        rel = job.wall - job.created
        return {
            "id": job.id,
            "object": "batch",
            "endpoint": job.endpoint,
            "model": job.model,
            "errors": {"object": "list", "data": job.failed_errors} if job.failed_errors else None,
            "input_file_id": job.input_file_id,
            "completion_window": "24h",
            "status": status,
            "output_file_id": job.output_file_id,
            "error_file_id": job.error_file_id,
            "created_at": int(job.wall),
            "in_progress_at": int(job.created + job.validate_s + rel) if status != "validating" else None,
            "expires_at": int(job.wall + 24 * 3600),
            "finalizing_at": int(job.finished_at() + rel) if status in ("finalizing", "completed") else None,
            "completed_at": int(job.finished_at() + rel) if status == "completed" else None,
            "failed_at": int(job.created + job.validate_s + rel) if status == "failed" else None,
            "expired_at": int(job.created + job.expire_s + rel) if status == "expired" else None,
            "cancelling_at": int(job.cancel_at + rel) if job.cancel_at is not None else None,
            "cancelled_at": int(job.cancel_at + rel) if status == "cancelled" and job.cancel_at else None,
            "request_counts": {"total": total, "completed": ok, "failed": errored},
            "metadata": None,
        }

    def openai_create(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        endpoint = payload.get("endpoint")
        if endpoint not in _ENDPOINTS:
            return 400, _openai_err(
                f"Invalid endpoint {endpoint!r}.", "invalid_request_error", "invalid_value"
            )
        if payload.get("completion_window") != "24h":
            return 400, _openai_err(
                "completion_window must be '24h'.", "invalid_request_error", "invalid_value"
            )
        file = self.files.get(str(payload.get("input_file_id")))
        if file is None or file[0] != "batch":
            return 404, _openai_err("No such File object.", "invalid_request_error", "file_not_found")
        requests: list[tuple[str, dict[str, Any]]] = []
        errors: list[dict[str, Any]] = []
        seen: set[str] = set()
        models: set[str] = set()
        lines = [line for line in file[1].split(b"\n") if line.strip()]
        for number, raw in enumerate(lines, 1):
            try:
                line = json.loads(raw)
                custom_id, body = str(line["custom_id"]), dict(line["body"])
            except (ValueError, KeyError, TypeError):
                errors.append({"code": "invalid_json_line", "message": "Invalid JSON line.", "line": number})
                continue
            if line.get("method") != "POST" or line.get("url") != endpoint:
                errors.append(
                    {"code": "mismatched_endpoint", "message": f"The url must be {endpoint}.", "line": number}
                )
            if custom_id in seen:
                errors.append(
                    {"code": "duplicate_custom_id", "message": "The custom_id is not unique.", "line": number}
                )
            seen.add(custom_id)
            models.add(str(body.get("model")))
            requests.append((custom_id, body))
        if len(lines) > self.openai_max_requests:
            errors.append(
                {
                    "code": "batch_request_limit_exceeded",
                    "message": f"A batch can hold at most {self.openai_max_requests:,} requests.",
                    "line": None,
                }
            )
        if len(models) > 1:
            errors.append(
                {"code": "model_mismatch", "message": "All requests must use one model.", "line": None}
            )
        model = next(iter(models)) if models else ""
        job = self._new_job(
            "openai",
            requests,
            endpoint=str(endpoint),
            model=model,
            failed_errors=errors or None,
            input_file_id=str(payload["input_file_id"]),
            prefix="batch_",
        )
        return 200, self.openai_batch(job)

    # Anthropic ------------------------------------------------------------------------------------------

    def anthropic_batch(self, job: _Job, base: str) -> dict[str, Any]:
        now = self.clock()
        phase = job.phase(now)
        ran, ok, errored = job.counts(now)
        n = len(job.requests)
        ended = phase in ("finished", "cancelled", "expired")
        status = "ended" if ended else ("canceling" if job.cancel_at is not None else "in_progress")
        rel = job.wall - job.created
        return {
            "id": job.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else n - ran,
                "succeeded": ok,
                "errored": errored,
                "canceled": n - ran if ended and phase == "cancelled" else 0,
                "expired": n - ran if ended and phase == "expired" else 0,
            },
            "ended_at": _iso(job.stop_at() + rel) if ended else None,
            "created_at": _iso(job.wall),
            "expires_at": _iso(job.wall + 24 * 3600),
            "cancel_initiated_at": _iso(job.cancel_at + rel) if job.cancel_at is not None else None,
            "archived_at": None,
            "results_url": f"{base}/v1/messages/batches/{job.id}/results" if ended else None,
        }

    def anthropic_results(self, job: _Job) -> bytes:
        now = self.clock()
        phase = job.phase(now)
        lines: list[bytes] = []
        for i, (custom_id, _) in enumerate(job.requests):
            answer = job.answers[i]
            assert answer is not None
            if job.ran(i, now):
                if answer.status < 300:
                    result: dict[str, Any] = {"type": "succeeded", "message": answer.body}
                else:
                    kind = "invalid_request_error" if answer.status == 400 else "overloaded_error"
                    message = "The prompt asked to fail." if answer.status == 400 else "Overloaded"
                    result = {
                        "type": "errored",
                        "error": {"type": "error", "error": {"type": kind, "message": message}},
                    }
            else:
                result = {"type": "canceled" if phase == "cancelled" else "expired"}
            lines.append(json.dumps({"custom_id": custom_id, "result": result}).encode())
        self._random.shuffle(lines)  # the API does not promise any order
        return b"\n".join(lines) + b"\n"

    def anthropic_create(self, payload: dict[str, Any], size: int) -> tuple[int, dict[str, Any]]:
        if size > self.anthropic_max_bytes:
            return 413, _anthropic_err("request_too_large", "Request exceeds the maximum allowed size.")
        raw = payload.get("requests")
        if not isinstance(raw, list) or not raw:
            return 400, _anthropic_err("invalid_request_error", "requests: a non-empty list is required")
        if len(raw) > self.anthropic_max_requests:
            return 400, _anthropic_err(
                "invalid_request_error", f"requests: at most {self.anthropic_max_requests} requests per batch"
            )
        requests: list[tuple[str, dict[str, Any]]] = []
        seen: set[str] = set()
        for i, entry in enumerate(raw):
            custom_id = entry.get("custom_id") if isinstance(entry, dict) else None
            params = entry.get("params") if isinstance(entry, dict) else None
            if not isinstance(custom_id, str) or not _CUSTOM_ID.fullmatch(custom_id):
                return 400, _anthropic_err("invalid_request_error", f"requests.{i}.custom_id: invalid format")
            if custom_id in seen:
                return 400, _anthropic_err("invalid_request_error", f"requests.{i}.custom_id: duplicate")
            if not isinstance(params, dict) or "model" not in params or "max_tokens" not in params:
                return 400, _anthropic_err(
                    "invalid_request_error", f"requests.{i}.params: model and max_tokens"
                )
            if params.get("stream"):
                return 400, _anthropic_err(
                    "invalid_request_error", f"requests.{i}.params.stream: not allowed"
                )
            seen.add(custom_id)
            requests.append((custom_id, params))
        job = self._new_job(
            "anthropic",
            requests,
            endpoint="/v1/messages",
            model=str(requests[0][1]["model"]),
            prefix="msgbatch_",
        )
        return 200, self.anthropic_batch(job, "")

    # Gemini ---------------------------------------------------------------------------------------------

    def gemini_operation(self, job: _Job) -> dict[str, Any]:
        now = self.clock()
        phase = job.phase(now)
        state = {
            "validating": "BATCH_STATE_PENDING",
            "failed": "BATCH_STATE_FAILED",
            "running": "BATCH_STATE_RUNNING",
            "cancelling": "BATCH_STATE_RUNNING",
            "cancelled": "BATCH_STATE_CANCELLED",
            "expired": "BATCH_STATE_EXPIRED",
            "finished": "BATCH_STATE_SUCCEEDED",
        }[phase]
        ran, ok, errored = job.counts(now)
        n = len(job.requests)
        done = state in (
            "BATCH_STATE_SUCCEEDED",
            "BATCH_STATE_FAILED",
            "BATCH_STATE_CANCELLED",
            "BATCH_STATE_EXPIRED",
        )
        metadata: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "model": f"models/{job.model}",
            "displayName": "trio-direct-batch",
            "createTime": _iso(job.wall),
            "updateTime": _iso(time.time()),
            "batchStats": {
                "requestCount": str(n),
                "successfulRequestCount": str(ok),
                "failedRequestCount": str(errored),
                "pendingRequestCount": str(0 if done else n - ran),
            },
            "state": state,
            "name": job.id,
        }
        operation: dict[str, Any] = {"name": job.id, "metadata": metadata}
        if done:
            operation["done"] = True
            if state == "BATCH_STATE_FAILED":
                operation["error"] = {"code": 3, "message": "The batch failed validation."}
            else:
                output = self._gemini_output(job, now)
                metadata["output"] = output
                operation["response"] = {
                    "@type": _GEMINI_OUTPUT_TYPE,
                    **output,
                }
        return operation

    def _gemini_output(self, job: _Job, now: float) -> dict[str, Any]:
        rows: list[dict[str, Any]] = []
        for i, (key, _) in enumerate(job.requests):
            if not job.ran(i, now):
                continue  # a cancelled or expired job has rows only for what ran
            answer = job.answers[i]
            assert answer is not None
            if answer.status < 300:
                rows.append({"response": answer.body, "metadata": {"key": key}})
            else:
                status = "INVALID_ARGUMENT" if answer.status == 400 else "UNAVAILABLE"
                message = "The prompt asked to fail." if answer.status == 400 else "The model is overloaded."
                rows.append(
                    {"error": {"code": _GEMINI_RPC[status], "message": message}, "metadata": {"key": key}}
                )
        if self.gemini_inline_output:
            return {"inlinedResponses": {"inlinedResponses": rows}}
        if job.output_file_id is None:
            job.output_file_id = self._new_id("files/batch-")
            lines = []
            for row in rows:
                line: dict[str, Any] = {"key": row["metadata"]["key"]}
                line.update({k: v for k, v in row.items() if k != "metadata"})
                lines.append(json.dumps(line).encode())
            self.files[job.output_file_id] = ("batch_output", b"\n".join(lines) + b"\n")
        return {"responsesFile": job.output_file_id}

    def gemini_create(self, model: str, payload: dict[str, Any], size: int) -> tuple[int, dict[str, Any]]:
        batch = payload.get("batch")
        config = batch.get("input_config") or batch.get("inputConfig") if isinstance(batch, dict) else None
        inline = config.get("requests") if isinstance(config, dict) else None
        raw = inline.get("requests") if isinstance(inline, dict) else None
        if not isinstance(raw, list) or not raw:
            return 400, _gemini_err(
                400, "INVALID_ARGUMENT", "batch.input_config.requests.requests is required"
            )
        if size > self.gemini_max_inline_bytes:
            return 400, _gemini_err(
                400, "INVALID_ARGUMENT", f"Inline batch requests exceed {self.gemini_max_inline_bytes} bytes."
            )
        requests: list[tuple[str, dict[str, Any]]] = []
        for i, entry in enumerate(raw):
            request = entry.get("request") if isinstance(entry, dict) else None
            if not isinstance(request, dict) or "contents" not in request:
                return 400, _gemini_err(
                    400, "INVALID_ARGUMENT", f"requests[{i}].request.contents is required"
                )
            key = (entry.get("metadata") or {}).get("key", str(i))
            requests.append((str(key), request))
        job = self._new_job("gemini", requests, endpoint="generateContent", model=model, prefix="batches/")
        return 200, self.gemini_operation(job)


def _openai_err(message: str, kind: str, code: str | None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _anthropic_err(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


def _gemini_err(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The parts of a multipart/form-data body: name -> (filename, content)."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_filename(), payload)
    return parts


class _Handler(BaseHTTPRequestHandler):
    fake: FakeBatchServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, content_type: str = "application/json") -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _authorized(self) -> bool:
        auth = self.headers.get("authorization", "")
        return bool(
            (auth.startswith("Bearer ") and len(auth) > 7)
            or self.headers.get("x-api-key")
            or self.headers.get("x-goog-api-key")
        )

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        body = self._body() if method == "POST" else b""
        path = self.path.split("?", 1)[0]
        with fake._lock:  # pyright: ignore[reportPrivateUsage]
            fake.stats["http_requests"] += 1
            if path == "/_stats":
                self._send(200, {**fake.stats, "created_by_provider": fake.created_by_provider})
                return
            if not self._authorized():
                fake.stats["rejected"] += 1
                if path.startswith("/v1/messages"):
                    self._send(401, _anthropic_err("authentication_error", "invalid x-api-key"))
                elif "v1beta" in path:
                    self._send(401, _gemini_err(401, "UNAUTHENTICATED", "API key not valid."))
                else:
                    self._send(
                        401,
                        _openai_err(
                            "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
                        ),
                    )
                return
            try:
                status, payload, ctype = self._route(method, path, body)
            except ValueError as exc:
                status, payload, ctype = (
                    400,
                    _openai_err(f"bad request: {exc}", "invalid_request_error", None),
                    None,
                )
        self._send(status, payload, ctype or "application/json")

    def _route(self, method: str, path: str, body: bytes) -> tuple[int, Any, str | None]:
        fake = self.fake
        base = f"http://{self.headers.get('host', '127.0.0.1')}"
        # OpenAI
        if method == "POST" and path == "/v1/files":
            parts = _multipart(self.headers.get("content-type", ""), body)
            if parts.get("purpose", (None, b""))[1] != b"batch" or "file" not in parts:
                return (
                    400,
                    _openai_err("purpose must be 'batch' with a file part.", "invalid_request_error", None),
                    None,
                )
            filename, content = parts["file"]
            if len(content) > fake.openai_max_bytes:
                return (
                    400,
                    _openai_err(
                        f"File is too large: {len(content)} bytes, the limit is {fake.openai_max_bytes}.",
                        "invalid_request_error",
                        "file_too_large",
                    ),
                    None,
                )
            file_id = fake._new_id("file-")  # pyright: ignore[reportPrivateUsage]
            fake.files[file_id] = ("batch", content)
            fake.stats["files_uploaded"] += 1
            return (
                200,
                {
                    "id": file_id,
                    "object": "file",
                    "bytes": len(content),
                    "created_at": int(time.time()),
                    "filename": filename or "batch.jsonl",
                    "purpose": "batch",
                },
                None,
            )
        if method == "POST" and path == "/v1/batches":
            status, payload = fake.openai_create(json.loads(body))
            return status, payload, None
        if m := re.fullmatch(r"/v1/batches/([^/]+)(/cancel)?", path):
            job = fake.jobs.get(m[1])
            if job is None or job.provider != "openai":
                return (
                    404,
                    _openai_err(f"No batch found with id '{m[1]}'.", "invalid_request_error", None),
                    None,
                )
            if m[2] and method == "POST":
                fake.stats["cancels"] += 1
                if job.cancel_at is None and job.phase(fake.clock()) in ("validating", "running"):
                    job.cancel_at = fake.clock()
            elif method == "GET":
                fake.stats["polls"] += 1
            return 200, fake.openai_batch(job), None
        if method == "GET" and (m := re.fullmatch(r"/v1/files/([^/]+)/content", path)):
            file = fake.files.get(m[1])
            if file is None:
                return 404, _openai_err("No such File object.", "invalid_request_error", None), None
            fake.stats["results_downloads"] += 1
            return 200, file[1], "application/octet-stream"
        # Anthropic
        if method == "POST" and path == "/v1/messages/batches":
            status, payload = fake.anthropic_create(json.loads(body), len(body))
            if status == 200:
                payload = fake.anthropic_batch(fake.jobs[payload["id"]], base)
            return status, payload, None
        if m := re.fullmatch(r"/v1/messages/batches/([^/]+)(/cancel|/results)?", path):
            job = fake.jobs.get(m[1])
            if job is None or job.provider != "anthropic":
                return 404, _anthropic_err("not_found_error", f"No batch with id {m[1]}"), None
            if m[2] == "/cancel" and method == "POST":
                fake.stats["cancels"] += 1
                if job.cancel_at is None and job.phase(fake.clock()) in ("validating", "running"):
                    job.cancel_at = fake.clock()
            elif m[2] == "/results":
                if fake.anthropic_batch(job, base)["processing_status"] != "ended":
                    return (
                        404,
                        _anthropic_err("not_found_error", "Batch results are not available yet."),
                        None,
                    )
                fake.stats["results_downloads"] += 1
                return 200, fake.anthropic_results(job), "application/binary"
            else:
                fake.stats["polls"] += 1
            return 200, fake.anthropic_batch(job, base), None
        # Gemini
        if method == "POST" and (m := re.fullmatch(r"/v1beta/models/([^/:]+):batchGenerateContent", path)):
            status, payload = fake.gemini_create(m[1], json.loads(body), len(body))
            return status, payload, None
        if m := re.fullmatch(r"/v1beta/(batches/[^/:]+)(:cancel)?", path):
            job = fake.jobs.get(m[1])
            if job is None or job.provider != "gemini":
                return 404, _gemini_err(404, "NOT_FOUND", f"Batch {m[1]} not found."), None
            if m[2] and method == "POST":
                fake.stats["cancels"] += 1
                if job.cancel_at is None and job.phase(fake.clock()) in ("validating", "running"):
                    job.cancel_at = fake.clock()
                return 200, {}, None
            fake.stats["polls"] += 1
            return 200, fake.gemini_operation(job), None
        if method == "GET" and (m := re.fullmatch(r"/download/v1beta/(files/[^/:]+):download", path)):
            file = fake.files.get(m[1])
            if file is None:
                return 404, _gemini_err(404, "NOT_FOUND", "File not found."), None
            fake.stats["results_downloads"] += 1
            return 200, file[1], "application/octet-stream"
        return 404, _openai_err(f"no route for {method} {path}", "invalid_request_error", None), None


def _serve_forever(server: FakeBatchServer) -> Iterator[None]:  # pragma: no cover - CLI
    with server:
        print(server.url, flush=True)
        while True:
            time.sleep(3600)
            yield None


def main() -> None:  # pragma: no cover - CLI
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--processing-s", type=float, default=0.5)
    parser.add_argument("--validate-s", type=float, default=0.0)
    args = parser.parse_args()
    for _ in _serve_forever(
        FakeBatchServer(port=args.port, processing_s=args.processing_s, validate_s=args.validate_s)
    ):
        pass


if __name__ == "__main__":  # pragma: no cover
    main()
