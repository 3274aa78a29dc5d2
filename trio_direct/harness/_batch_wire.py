"""What the three provider batch wires share: entries, job states, raw results, errors, the HTTP call.

A *wire* (:mod:`._batch_openai`, :mod:`._batch_anthropic`, :mod:`._batch_gemini`) knows one
provider's batch API: how to submit a job of :class:`BatchEntry`\\ s, read its :class:`JobStatus`,
fetch its :class:`RawResult`\\ s and cancel it. The bodies it submits are built by the model's own
``build_request`` (the live request builder) and the results it returns are turned into responses
by the model's own ``parse_response`` (the live parser) in :mod:`._provider_batch`; a wire only
moves bytes and maps the provider's job vocabulary onto this one.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Literal, Protocol, TypeAlias, final

import attrs
import httpx
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from ..exceptions import ModelAPIError, ModelHTTPError, TrioDirectError
from ..models.base import HTTPModel
from ..retries import RetryPolicy

__all__ = [
    "BatchCanceledError",
    "BatchEntry",
    "BatchExpiredError",
    "BatchJobFailedError",
    "BatchResultMissingError",
    "BatchWire",
    "JobStatus",
    "ProviderBatchError",
    "RawResult",
    "ResultKind",
    "WireClient",
]

ResultKind: TypeAlias = Literal["succeeded", "errored", "expired", "canceled"]
"""How the provider finished one request of a batch (the same four words as pydantic-ai 2.68)."""

#: HTTP headers of the live request that must not be copied onto batch API calls.
_REQUEST_ONLY_HEADERS = frozenset({"content-type", "content-length", "accept"})


class ProviderBatchError(ModelAPIError):
    """A request of a provider batch job ended without a response, for a reason of the job's own.

    Attributes:
        batch_id: the provider's id of the job.
    """

    def __init__(self, model_name: str, message: str, *, batch_id: str, body: object | None = None) -> None:
        self.batch_id = batch_id
        super().__init__(model_name, message, body=body)


class BatchExpiredError(ProviderBatchError):
    """The job's completion window (24 hours) ran out before the provider ran this request.

    Run the job again: the journal resumes it, and the expired items are submitted in a new job.
    """


class BatchCanceledError(ProviderBatchError):
    """The job was cancelled before the provider ran this request."""


class BatchJobFailedError(ProviderBatchError):
    """The provider refused the whole job (its input did not validate); no request of it ran.

    ``body`` holds the provider's list of errors; the message quotes the first.
    """


class BatchResultMissingError(ProviderBatchError):
    """The job ended, but its results had no line for this request (a provider bug, or a changed file)."""


@final
@attrs.frozen(kw_only=True)
class BatchEntry:
    """One request of a job: its ``custom_id`` and the live request's JSON body, as built for the model."""

    custom_id: str
    body: bytes
    model_name: str


@final
@attrs.frozen(kw_only=True)
class JobStatus:
    """A job's state, mapped from the provider's vocabulary.

    Attributes:
        state: the provider's own word (``'in_progress'``, ``'BATCH_STATE_RUNNING'``, ...).
        ended: the job will change no more; its results can be fetched.
        done: requests finished so far (as far as the provider says).
        total: requests in the job (as far as the provider says).
        details: what fetching the results needs (file ids, a results URL, inlined responses).
        missing: why a request with no line in the results did not run: ``'failed'`` (the job was
            refused; ``errors`` says why), ``'expired'``, ``'canceled'``, or None (it should have one).
        errors: the provider's errors of a refused job.
    """

    state: str
    ended: bool
    done: int = 0
    total: int = 0
    details: Mapping[str, Any] = attrs.field(factory=dict[str, Any])
    missing: Literal["failed", "expired", "canceled"] | None = None
    errors: object = None


@final
@attrs.frozen(kw_only=True)
class RawResult:
    """One request's result as the provider wrote it.

    Attributes:
        custom_id: the request's id within the job.
        kind: ``'succeeded'`` (``body`` is the response, as a live 2xx body), ``'errored'`` (``status``
            and ``body`` are the error as a live 4xx/5xx would carry them), ``'expired'`` or ``'canceled'``.
        status: the HTTP status the error stands for.
        body: the response or error body, JSON bytes.
    """

    custom_id: str
    kind: ResultKind
    status: int = 200
    body: bytes | None = None


class BatchWire(Protocol):
    """One provider's batch API. Every method may raise the errors of :func:`WireClient.call`.

    Cancellation:
        Every method is safe to cancel. A cancelled :meth:`submit` may or may not have created the
        job at the provider (its id is then unknown), which is why the runner journals an id as soon
        as it has one.
    """

    name: str
    max_requests: int
    max_bytes: int

    def entry_size(self, entry: BatchEntry) -> int:
        """The bytes ``entry`` adds to a job (for splitting at ``max_bytes``)."""
        ...

    async def submit(self, client: WireClient, entries: list[BatchEntry]) -> str:
        """Create a job of ``entries``; returns the provider's job id."""
        ...

    async def status(self, client: WireClient, batch_id: str) -> JobStatus:
        """The job's state now."""
        ...

    async def results(self, client: WireClient, batch_id: str, status: JobStatus) -> list[RawResult]:
        """The results of an ended job (``status`` is its last status)."""
        ...

    async def cancel(self, client: WireClient, batch_id: str) -> None:
        """Ask the provider to cancel the job (it ends as ``canceled`` soon after)."""
        ...


def _retry_unprocessed(exc: Exception) -> bool:
    # A create is retried only when the provider certainly did not act on it: a 429 says so. A 5xx or
    # a broken connection may have created the job, and a second create would pay twice.
    return isinstance(exc, ModelHTTPError) and exc.status_code == 429


#: The policy for reads (polls, result files): every transient failure is retried.
READ_RETRY = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=60.0)
#: The policy for creates: only what the provider certainly did not act on (a 429).
CREATE_RETRY = RetryPolicy(max_attempts=6, initial_delay=1.0, max_delay=60.0, retry_on=_retry_unprocessed)


@final
class WireClient:
    """Sends a wire's calls with the model's credentials, error mapping and secret redaction.

    Args:
        model: the model whose live requests the job stands for.
        headers: the live request's headers (credentials, API version, extra headers).
        read_retry: the retry policy of idempotent calls.
        create_retry: the retry policy of calls that create something.
    """

    def __init__(
        self,
        model: HTTPModel,
        headers: Mapping[str, str],
        *,
        read_retry: RetryPolicy = READ_RETRY,
        create_retry: RetryPolicy = CREATE_RETRY,
    ) -> None:
        self.model = model
        self.headers = {k: v for k, v in headers.items() if k.lower() not in _REQUEST_ONLY_HEADERS}
        self._read_retry = read_retry
        self._create_retry = create_retry

    def __repr__(self) -> str:
        return f"WireClient({self.model.model_id!r})"

    async def call(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        create: bool = False,
    ) -> tuple[httpx.Headers, bytes]:
        """One call to the batch API, retried by the read or create policy.

        Returns:
            ``(headers, body)`` of the 2xx response.

        Raises:
            ModelHTTPError: the provider answered 4xx/5xx (categorized by the model's error mapping),
                after the retries.
            ModelConnectionError: the provider could not be reached.

        Cancellation:
            Safe at any point; a create cancelled in flight may or may not have created the job.
        """
        headers = dict(self.headers)
        body = b""
        if json is not None:
            body = orjson.dumps(json)
            headers["content-type"] = "application/json"
        elif content is not None:
            body = content
            if content_type is not None:
                headers["content-type"] = content_type
        request = _http.HTTPRequest(url, body, headers, method=method)

        async def once() -> tuple[httpx.Headers, bytes]:
            _, response_headers, response_body = await _http.send(
                request, model_name=self.model.model_name, error_builder=self.model.http_error
            )
            return response_headers, response_body

        try:
            return await (self._create_retry if create else self._read_retry).call(once)
        except TrioDirectError as exc:
            _http.redact_error(exc, _http.credentials_of(request))
            raise

    async def call_json(self, method: str, url: str, **options: Any) -> Any:
        """:meth:`call`, the body decoded as JSON.

        Raises:
            ModelAPIError: the body is not JSON (besides the errors of :meth:`call`).
        """
        _, body = await self.call(method, url, **options)
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(
                self.model.model_name,
                f"the batch API answered {url} with a body that is not JSON: {body[:200]!r}",
            ) from exc


def multipart(fields: Mapping[str, str], file_field: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of text ``fields`` and one file; returns ``(body, content_type)``."""
    boundary = "trio-direct-" + secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        "Content-Type: application/jsonl\r\n\r\n".encode()
    )
    parts.append(content)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def jsonl(data: bytes) -> list[Any]:
    """The JSON values of the non-blank lines of ``data``.

    Raises:
        orjson.JSONDecodeError: a line is not JSON.
    """
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a dict with string keys, else an empty dict (for reading provider JSON)."""
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]
