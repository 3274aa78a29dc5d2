"""The HTTP seam: the only module that imports httpx.

* One ``httpx.AsyncClient`` per ``trio.run``, kept in a :class:`trio.lowlevel.RunVar` and closed by a
  system task when the run ends. Clients must not be shared across runs: httpcore's locks, events and
  sockets belong to the run that first touched them.
* :func:`use_http_client` lets a caller supply their own client (proxies, transports, event hooks)
  for a scope: an ``httpx.AsyncClient``, or an ``httpx2.AsyncClient`` (Pydantic's continuation of
  httpx, same API). ``TRIO_DIRECT_HTTP=httpx2`` makes the default client an httpx2 one (the
  ``httpx2`` extra); the default stays httpx.
* The default client spreads requests over connection pools of :data:`POOL_SHARD_SIZE` requests each:
  httpcore's pool does work proportional to its connections on every request start and end, which at
  1,000 concurrent streams cost more CPU than everything else together (see :func:`_sharded_transport`).
  Its pools share one connect gate (:class:`_ConnectGate`): at most :data:`CONNECTS_IN_FLIGHT` TCP
  connects and TLS handshakes at once, so a burst of thousands of streams opens in order instead of
  timing out in the kernel's accept queues. A client passed to :func:`use_http_client` is used as it is.
* :func:`send` and :func:`open_stream` turn transport failures into :class:`ModelConnectionError` /
  :class:`ModelTimeoutError` with the phase they happened in, and 4xx/5xx into the error the provider
  module builds from the parsed body.
* :func:`redact_error` takes a request's credentials (:func:`credentials_of`) out of an error, for
  servers that echo the key back in an error body.

httpx timeouts are *inactivity* limits (connect, and the longest gap between reads); total deadlines
belong to the caller's trio cancel scopes. When a cancel scope fires inside httpx, ``trio.Cancelled``
propagates unchanged and httpcore discards the connection instead of pooling it.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import logging
import os
import sys
import time
import urllib.request
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, Final, cast

import attrs
import httpx
import orjson
import trio

from ._limits import (  # hardening: bounded, decompression-aware body reading
    ACCEPT_ENCODING,
    DEFAULT_RESPONSE_LIMITS,
    ResponseLimits,
    read_body,
)
from ._redact import REDACTED, install_log_filter, request_secrets, secret_forms
from ._validate import proxy_environment_error
from .exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelHTTPError,
    ModelTimeoutError,
    TransportPhase,
    UserError,
    http_error_category,
)

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "HTTP_LIBRARY",
    "CONNECTS_IN_FLIGHT",
    "POOL_SHARD_SIZE",
    "TRANSPORT_ERRORS",
    "HTTPRequest",
    "REDACTED",
    "credentials_of",
    "current_client",
    "default_http_error",
    "observe_responses",
    "open_response",
    "open_stream",
    "parse_error_body",
    "redact_error",
    "send",
    "stop_observing",
    "transport_error",
    "to_timeout",
    "use_http_client",
]

logger = logging.getLogger("trio_direct.http")
install_log_filter()  # hardening: no credential of a request in any log record, at any level

#: Connect fails fast; reads may legitimately wait minutes for a long generation (pydantic-ai and the
#: official SDKs use the same 600 s). These are inactivity limits, not deadlines.
DEFAULT_TIMEOUT: Final = httpx.Timeout(600.0, connect=5.0, pool=None)

#: A streamed HTTP/1.1 response holds its connection for the whole stream, so the pool must allow as
#: many connections as there are concurrent streams; httpx's default of 100 would make stream 101
#: wait and then fail with PoolTimeout. Bound concurrency in the application (a CapacityLimiter)
#: where needed: queueing there is cheaper and observable.
DEFAULT_LIMITS: Final = httpx.Limits(
    max_connections=None, max_keepalive_connections=512, keepalive_expiry=30.0
)

#: Requests in flight per connection pool of the default client (see :class:`_ShardedTransport`).
POOL_SHARD_SIZE: Final = 16

#: TCP connects plus TLS handshakes the default client runs at once (see :class:`_ConnectGate`).
#: A burst of streams beyond this waits for a slot, in order; the wait is not part of the connect
#: timeout (it is the ``pool`` timeout's, unlimited by default) because it measures this process's
#: own queue, not the server. 64 keeps a burst of 10,000 connects from outrunning the kernel's accept
#: backlogs and the scheduler, while a remote provider at 100 ms per handshake still gets ~600
#: connections a second.
CONNECTS_IN_FLIGHT: Final = 64

_HTTP_LIBRARIES: Final = ("httpx", "httpx2")


def _library_from_env() -> str:
    value = os.environ.get("TRIO_DIRECT_HTTP", "").strip().lower() or "httpx"
    if value not in _HTTP_LIBRARIES:
        logger.warning("TRIO_DIRECT_HTTP=%r is not one of %s; using httpx", value, ", ".join(_HTTP_LIBRARIES))
        return "httpx"
    return value


#: The library of the default client: ``"httpx"``, or ``"httpx2"`` when ``TRIO_DIRECT_HTTP=httpx2``
#: (read once, at import).
HTTP_LIBRARY: Final = _library_from_env()

#: What counts as a transport failure of the client in use: httpx's ``TransportError``, plus httpx2's
#: once an httpx2 client has been used. ``except`` reads it when an exception passes.
TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError,)
_INVALID_URL_ERRORS: tuple[type[Exception], ...] = (httpx.InvalidURL,)

_CLIENT: trio.lowlevel.RunVar[httpx.AsyncClient] = trio.lowlevel.RunVar("trio_direct_http_client")

#: Called with the status and headers of every provider response (2xx and errors alike) sent from the
#: current context; see :func:`observe_responses`.
ResponseObserver = Callable[[int, httpx.Headers], None]
_OBSERVER: contextvars.ContextVar[ResponseObserver | None] = contextvars.ContextVar(
    "trio_direct_response_observer", default=None
)


def observe_responses(observer: ResponseObserver | None) -> contextvars.Token[ResponseObserver | None]:
    """Make ``observer`` see the status and headers of each response received in this context.

    The hook the harness uses to read rate-limit headers (``x-ratelimit-*``,
    ``anthropic-ratelimit-*``) from successful responses too. A context variable: it covers the
    current task and the tasks it starts afterwards (a stream's pump). Undo it with
    :func:`stop_observing`. The observer must be cheap and must not raise.
    """
    return _OBSERVER.set(observer)


def stop_observing(token: contextvars.Token[ResponseObserver | None]) -> None:
    """Undo :func:`observe_responses`."""
    _OBSERVER.reset(token)


def _observe(response: httpx.Response) -> None:
    observer = _OBSERVER.get()
    if observer is not None:
        observer(response.status_code, response.headers)


def _new_client() -> httpx.AsyncClient:
    lib: Any = httpx
    if HTTP_LIBRARY == "httpx2":
        try:
            import httpx2
        except ImportError as exc:
            raise UserError(
                "TRIO_DIRECT_HTTP=httpx2 needs the httpx2 package: pip install 'trio_direct[httpx2]'"
            ) from exc
        lib = httpx2
        _register_library(lib)
    limits = lib.Limits(
        max_connections=DEFAULT_LIMITS.max_connections,
        max_keepalive_connections=DEFAULT_LIMITS.max_keepalive_connections,
        keepalive_expiry=DEFAULT_LIMITS.keepalive_expiry,
    )
    tls = _TLSContext(lib)  # one verifying TLS context for every pool, built on first need
    client: httpx.AsyncClient = lib.AsyncClient(
        timeout=_convert_timeout(DEFAULT_TIMEOUT, lib),
        limits=limits,
        transport=_sharded_transport(lib, limits, tls),
        # httpx reads proxies from the environment only for a client without its own transport, so the
        # default client mounts them itself, as httpx would have.
        mounts=_environment_proxy_mounts(lib, limits, tls),
        follow_redirects=False,
    )
    return client


class _TLSContext:
    """The default client's one verifying TLS context, built on first use (the CA bundle: 40-100 ms)."""

    __slots__ = ("_context", "_lib")

    def __init__(self, lib: Any) -> None:
        self._lib = lib
        self._context: Any = None

    def get(self) -> Any:
        if self._context is None:
            self._context = self._lib.create_ssl_context(trust_env=True)
        return self._context


def _environment_proxy_mounts(lib: Any, limits: Any, tls: _TLSContext) -> dict[str, Any]:
    """Proxy transports for ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` and ``NO_PROXY``, read as httpx does.

    Raises:
        ImportError: a SOCKS proxy without ``socksio`` installed.
        ValueError: a proxy URL httpx cannot use (an ``ftp://`` proxy, say).
    """
    found = urllib.request.getproxies()
    urls: dict[str, str | None] = {}
    for scheme in ("http", "https", "all"):
        url = found.get(scheme)
        if url:
            urls[f"{scheme}://"] = url if "://" in url else f"http://{url}"
    for host in (h.strip() for h in found.get("no", "").split(",")):
        if host == "*":
            return {}
        if not host:
            continue
        if "://" in host:
            urls[host] = None
        elif _is_ip_address(host) or host.lower() == "localhost":
            urls[f"all://[{host}]" if ":" in host else f"all://{host}"] = None
        else:
            urls[f"all://*{host}"] = None
    # None: no proxy for that pattern, so the client's own (sharded) transport
    return {
        pattern: None if url is None else lib.AsyncHTTPTransport(proxy=url, verify=tls.get(), limits=limits)
        for pattern, url in urls.items()
    }


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _register_library(lib: Any) -> None:
    """Let ``except TRANSPORT_ERRORS`` and URL errors catch the exceptions of ``lib`` (httpx2) too."""
    global TRANSPORT_ERRORS, _INVALID_URL_ERRORS
    # Deliberately rebound (once per library): every `except TRANSPORT_ERRORS` reads the module global.
    if lib.TransportError not in TRANSPORT_ERRORS:
        TRANSPORT_ERRORS = (*TRANSPORT_ERRORS, lib.TransportError)  # pyright: ignore[reportConstantRedefinition]
        _INVALID_URL_ERRORS = (*_INVALID_URL_ERRORS, lib.InvalidURL)  # pyright: ignore[reportConstantRedefinition]


def _library_of(obj: object) -> Any:
    """The module (httpx or httpx2) that ``obj``'s class comes from; httpx for anything else."""
    name = type(obj).__module__.partition(".")[0]
    return sys.modules.get(name, httpx) if name in _HTTP_LIBRARIES else httpx


def _convert_timeout(timeout: httpx.Timeout, lib: Any) -> Any:
    """``timeout`` as ``lib``'s own ``Timeout`` (httpx2 does not take httpx's)."""
    if lib is httpx:
        return timeout
    return lib.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool)


async def _close_at_run_end(client: httpx.AsyncClient) -> None:
    # System tasks are cancelled once the main task has exited; that is our cue to close. Errors are
    # logged, never raised: a crashing system task would take the whole run down with TrioInternalError.
    try:
        await trio.sleep_forever()
    finally:
        with trio.CancelScope(shield=True):
            try:
                with trio.move_on_after(5):
                    await client.aclose()
            except Exception:  # pragma: no cover - defensive
                logger.exception("error while closing the run's HTTP client")


def current_client() -> httpx.AsyncClient:
    """The HTTP client of the current ``trio.run``, created on first use.

    Raises:
        RuntimeError: not called from inside ``trio.run``.
        UserError: the proxy environment (``HTTP_PROXY``, ``ALL_PROXY``...) cannot be used.
    """
    try:
        return _CLIENT.get()
    except LookupError:
        pass
    try:
        client = _new_client()
    except (ImportError, ValueError) as exc:  # hardening: a misconfigured proxy environment
        raise proxy_environment_error(exc) from None
    _CLIENT.set(client)
    trio.lowlevel.spawn_system_task(_close_at_run_end, client, name="trio_direct: close HTTP client")
    return client


@asynccontextmanager
async def use_http_client(client: httpx.AsyncClient) -> AsyncGenerator[httpx.AsyncClient]:
    """Make every request of this ``trio.run`` use ``client`` inside the block.

    The client stays the caller's: it is not closed here. It must belong to this run (create it
    inside the same ``trio.run``). An ``httpx2.AsyncClient`` works too.

    Raises:
        UserError: used outside ``trio.run`` (under asyncio the async API runs on the portal, whose
            run has its own client).

    Cancellation:
        Entering and leaving do no I/O; the previous client is restored even on cancellation.
    """
    if not trio.lowlevel.in_trio_run():
        raise UserError(
            "use_http_client() works inside trio.run only: the client belongs to one Trio run. Under "
            "asyncio the async API runs on the trio_direct portal, which keeps its own client"
        )
    lib = _library_of(client)
    if lib is not httpx:
        _register_library(lib)
    token = _CLIENT.set(client)
    try:
        yield client
    finally:
        _CLIENT.reset(token)


def to_timeout(value: float | httpx.Timeout | None, *, read: float | None = None) -> httpx.Timeout | None:
    """An ``httpx.Timeout`` from the ``timeout`` setting, with an optional read (inactivity) override."""
    if value is None and read is None:
        return None
    if isinstance(value, httpx.Timeout):
        timeout = value
    elif value is None:
        timeout = DEFAULT_TIMEOUT
    else:
        timeout = httpx.Timeout(float(value), connect=min(float(value), 5.0))
    if read is not None:
        timeout = httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)
    return timeout


@attrs.frozen(slots=True)
class HTTPRequest:
    """A request built by a provider module: everything needed to send it, nothing live.

    ``headers`` may hold the API key, so this class has no repr of its headers.
    """

    url: str
    body: bytes
    headers: Mapping[str, str] = attrs.field(repr=False)
    method: str = "POST"
    timeout: httpx.Timeout | None = None
    #: How much of the reply may be held (``ModelSettings['max_response_bytes']`` and friends).
    limits: ResponseLimits = DEFAULT_RESPONSE_LIMITS

    @classmethod
    def json(
        cls, url: str, payload: Any, headers: Mapping[str, str], *, timeout: httpx.Timeout | None = None
    ) -> HTTPRequest:
        """A JSON POST; ``payload`` is encoded with orjson."""
        body = orjson.dumps(payload)
        if len(body) < _SHRINK_BELOW:
            # orjson's result keeps its 4 KiB working buffer; the request lives as long as its stream,
            # so at 1,000 concurrent streams that is 4 MiB of padding. A copy is exact-size.
            body = memoryview(body).tobytes()
        return cls(url, body, {**headers, "content-type": "application/json"}, timeout=timeout)


_SHRINK_BELOW: Final = 64 * 1024


#: Request headers whose values are credentials (an ``Authorization`` scheme such as ``Bearer`` is kept).
_CREDENTIAL_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key"}
)
#: Query parameters that carry keys (Gemini's ``?key=``).
_CREDENTIAL_PARAMS: Final = frozenset({"key", "api_key", "api-key", "apikey", "access_token", "token"})
#: Shorter values are left alone: they cannot be real keys, and replacing them would garble messages.
_MIN_SECRET_LENGTH: Final = 8


def credentials_of(request: HTTPRequest) -> tuple[str, ...]:
    """The secrets ``request`` carries: credential header values and key-like query parameters."""
    found: list[str] = []
    for name, value in request.headers.items():
        if name.lower() in _CREDENTIAL_HEADERS:
            scheme, _, token = value.partition(" ")
            found.append(token.strip() if token.strip() and scheme.isalpha() else value.strip())
    if "?" in request.url:
        for pair in request.url.split("?", 1)[1].split("&"):
            name, _, value = pair.partition("=")
            if name.lower() in _CREDENTIAL_PARAMS:
                found.append(value)
    return tuple(dict.fromkeys(s for s in found if len(s) >= _MIN_SECRET_LENGTH))


def _scrub(value: Any, secrets: Sequence[str], depth: int = 0) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        for secret in secrets:
            data = data.replace(secret.encode(), REDACTED.encode())
        return data if isinstance(value, bytes) else bytearray(data)
    if depth > 50:  # pragma: no cover - absurdly nested bodies stay as they are
        return value
    if isinstance(value, dict):
        mapping: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {_scrub(k, secrets, depth + 1): _scrub(v, secrets, depth + 1) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        sequence: list[Any] | tuple[Any, ...] = value  # pyright: ignore[reportUnknownVariableType]
        scrubbed = [_scrub(v, secrets, depth + 1) for v in sequence]
        return scrubbed if isinstance(sequence, list) else tuple(scrubbed)
    return value


def redact_error(exc: BaseException, secrets: Sequence[str]) -> None:
    """Replace every one of ``secrets`` with ``***`` in ``exc`` and the exceptions it chains, in place.

    Covers the message, ``args``, notes and every plain-data attribute (``body``, ``headers``...), so a
    server that echoes the API key in an error body cannot put it in a message, a log line or a span.
    Objects such as httpx's request are left alone (httpx masks ``Authorization`` in their repr).
    """
    if not secrets:
        return
    secrets = secret_forms(secrets)  # hardening: escaped and byte forms too (httpx quotes bytes)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = _scrub(current.args, secrets)
        notes: object = getattr(current, "__notes__", None)
        if isinstance(notes, list):
            current.__notes__ = _scrub(notes, secrets)
        for name, value in list(getattr(current, "__dict__", {}).items()):
            if isinstance(value, str | bytes | bytearray | dict | list | tuple):
                setattr(current, name, _scrub(value, secrets))
        current = current.__cause__ or current.__context__


#: Builds the error for a 4xx/5xx: (status, headers, body bytes, model name) -> exception.
ErrorBuilder = Callable[[int, Mapping[str, str], bytes, str], Exception]


def _where(url: str) -> str:
    # Never echo a query string: some providers accept keys there.
    return url.split("?", 1)[0]


def transport_error(exc: Exception, url: str, model_name: str, *, in_stream: bool = False) -> ModelAPIError:
    phase: TransportPhase | None
    lib = _library_of(exc)  # httpx, or httpx2 whose exception tree has the same names
    if isinstance(exc, lib.TimeoutException):
        phases: dict[type[Exception], TransportPhase] = {
            lib.ConnectTimeout: "connect",
            lib.ReadTimeout: "read",
            lib.WriteTimeout: "write",
            lib.PoolTimeout: "pool",
        }
        phase = phases.get(type(exc))
        what = {
            "connect": "connecting to",
            "read": "waiting for data from",
            "write": "sending the request to",
            "pool": "waiting for a free connection to",
        }.get(phase or "", "talking to")
        return ModelTimeoutError(
            model_name,
            f"timed out {what} {_where(url)} (an inactivity limit; raise ModelSettings['timeout'] "
            "or the stream inactivity timeout if the provider is just slow)",
            phase=phase,
            in_stream=in_stream,
        )
    if isinstance(exc, lib.ConnectError):
        phase, what = "connect", "could not connect to"
    elif isinstance(exc, lib.WriteError):
        phase, what = "write", "connection broke while sending the request to"
    elif isinstance(exc, lib.ReadError | lib.RemoteProtocolError):
        phase, what = "read", "connection broke while reading the response from"
    else:
        phase, what = None, "transport error talking to"
    detail = str(exc) or type(exc).__name__
    return ModelConnectionError(
        model_name,
        f"{what} {_where(url)}: {detail} (check the base URL and that the server is up; "
        "the request is safe to retry only if nothing was sent)",
        phase=phase,
        in_stream=in_stream,
    )


def parse_error_body(body: bytes) -> object:
    """The error body as JSON when it is JSON (unwrapping a top-level ``error`` object), else text."""
    if not body:
        return None
    try:
        parsed: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace")
        return text if len(text) <= 2000 else text[:2000] + "...(truncated)"
    if isinstance(parsed, dict):
        obj = cast(dict[str, object], parsed)
        error = obj.get("error")
        return cast(dict[str, object], error) if isinstance(error, dict) else obj
    return parsed


def default_http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A categorized :class:`ModelHTTPError` from an OpenAI-style error body.

    The body is unwrapped like the official SDKs do (``{"error": {...}}`` → the inner object; non-JSON →
    the text), and ``code``/``type``/``message`` pick the category pydantic-ai 2.68 would raise.
    """
    parsed = parse_error_body(body)
    shown = parsed  # declared `object`: isinstance narrowing below must not leak into `body=`
    code = type_ = None
    message = ""
    if isinstance(parsed, dict):
        fields = cast(dict[str, object], parsed)
        raw_code = fields.get("code")
        code = str(raw_code) if raw_code is not None else None
        raw_type = fields.get("type")
        type_ = raw_type if isinstance(raw_type, str) else None
        raw_message = fields.get("message")
        message = raw_message if isinstance(raw_message, str) else ""
    elif isinstance(parsed, str):
        message = parsed
    category = http_error_category(status, code=code, type_=type_, message=message)
    return ModelHTTPError.for_category(
        category,
        status_code=status,
        model_name=model_name,
        body=shown,
        headers=headers,
        provider_error_code=code,
        provider_error_type=type_,
    )


async def send(
    request: HTTPRequest, *, model_name: str, error_builder: ErrorBuilder = default_http_error
) -> tuple[int, httpx.Headers, bytes]:
    """Send ``request`` and read the whole body, up to ``request.limits.max_response_bytes`` decoded.

    Returns:
        ``(status, headers, body)`` of a 2xx/3xx response.

    Raises:
        ModelHTTPError: (a categorized one) for 4xx/5xx, built by ``error_builder`` from at most
            ``max_error_body_bytes`` of the body.
        ResponseTooLargeError: the body is larger than ``max_response_bytes``; the connection is closed.
        ModelConnectionError: the connection failed; ``ModelTimeoutError`` when an inactivity limit ran out.
        ModelAPIError: the body's compression is corrupt or one we did not ask for.

    Cancellation:
        Safe at any point; the connection is discarded, not returned to the pool.
    """
    async with open_response(request, model_name=model_name) as response:
        limits = request.limits
        failed = response.status_code >= 400
        try:
            body = await read_body(
                response,
                limits.max_error_body_bytes if failed else limits.max_response_bytes,
                model_name=model_name,
                url=request.url,
                truncate=failed,
            )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, request.url, model_name) from exc
        if failed:
            raise error_builder(response.status_code, response.headers, body, model_name)
        return response.status_code, response.headers, body


@asynccontextmanager
async def open_response(request: HTTPRequest, *, model_name: str) -> AsyncGenerator[httpx.Response]:
    """Send ``request`` and hold its response, body unread, for the block; then close it.

    Raises:
        ModelConnectionError: the connection failed before the head arrived.
        UserError: the URL cannot be sent to, or the client cannot be built (proxy settings).

    Cancellation:
        Leaving the block, by cancellation or otherwise, closes the response at once; an unread body
        makes httpcore close the connection rather than drain it.
    """
    client = current_client()
    # hardening: while this request is in flight, log records about it are scrubbed of its credentials
    with request_secrets(credentials_of(request)):
        try:
            http_request = _build(client, request)
            response = await client.send(http_request, stream=True)
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, request.url, model_name) from exc
        except _INVALID_URL_ERRORS as exc:
            raise UserError(f"invalid provider URL {_where(request.url)!r}: {exc}") from exc
        except UnicodeEncodeError:
            # A header value httpx cannot encode (from extra_headers): the error would quote it whole.
            raise UserError(
                "a request header value (ModelSettings['extra_headers'] or the provider's headers) is "
                "not ASCII; header values must be printable ASCII"
            ) from None
        try:
            _observe(response)  # the harness's per-request observer (status, headers), if any
            yield response
        finally:
            # A body read to its end closed the response already (httpx does); only an unread or
            # partly read one needs the shielded close, and skipping it saves a cancel scope per call.
            if not response.is_closed:
                with trio.CancelScope(shield=True):
                    await response.aclose()


@asynccontextmanager
async def open_stream(
    request: HTTPRequest, *, model_name: str, error_builder: ErrorBuilder = default_http_error
) -> AsyncGenerator[httpx.Response]:
    """Send ``request`` and hold the response open for streaming its body.

    A 4xx/5xx body is read up to ``request.limits.max_error_body_bytes`` and raised as the provider's
    error from the ``async with``. Read the body with ``trio_direct._limits.consume_raw`` and a
    ``BodyDecoder`` (the raw bytes: Content-Encoding is ours to undo, in bounded steps); map transport
    errors raised while reading it with :func:`transport_error`.

    Raises:
        ModelHTTPError: for 4xx/5xx.
        ModelConnectionError: the connection failed before the headers arrived.

    Cancellation:
        Leaving the block, by cancellation or otherwise, closes the response at once; an unread body
        makes httpcore close the connection rather than drain it.
    """
    async with open_response(request, model_name=model_name) as response:
        if response.status_code >= 400:
            try:
                body = await read_body(
                    response,
                    request.limits.max_error_body_bytes,
                    model_name=model_name,
                    url=request.url,
                    truncate=True,
                )
            except TRANSPORT_ERRORS as exc:
                raise transport_error(exc, request.url, model_name) from exc
            raise error_builder(response.status_code, response.headers, body, model_name)
        yield response


def _build(client: httpx.AsyncClient, request: HTTPRequest) -> httpx.Request:
    """``client``'s request for ``request``, its body a stream with no async generator inside.

    httpx wraps a bytes body in a stream whose ``__aiter__`` is an async generator. When a request
    is cancelled while its body is being written (a deadline, Ctrl-C through the portal), httpcore
    abandons that generator mid-iteration and Trio's finalizer reports it with a ResourceWarning
    once it is collected. A plain iterator has nothing to finalize.
    """
    http_request = client.build_request(
        request.method,
        _parsed_url(_library_of(client), request.url),
        content=request.body,
        headers=request.headers,
        **_timeout_arg(client, request),
    )
    # Bodies are decoded by trio_direct._limits in bounded steps, so ask only for what it decodes
    # (httpx would add br/zstd when their packages are installed).
    if "accept-encoding" not in {name.lower() for name in request.headers}:
        http_request.headers["Accept-Encoding"] = ACCEPT_ENCODING
    http_request.stream = _body_stream(_library_of(http_request), request.body)
    return http_request


def _parsed_url(lib: Any, url: str) -> Any:
    """``url`` as ``lib``'s ``URL``: parsed once per URL without a query (the same few URLs are sent to
    again and again, and parsing is half of what ``build_request`` costs); one with a query (which may
    carry a key) is passed as it is.

    Raises:
        lib.InvalidURL: ``url`` cannot be parsed (nothing is cached then).
    """
    return url if "?" in url else _cached_url(lib, url)


@functools.lru_cache(maxsize=64)
def _cached_url(lib: Any, url: str) -> Any:
    # URL objects are immutable; build_request takes one as it takes a string
    return lib.URL(url)


_BODY_STREAMS: dict[str, Any] = {}


def _body_stream(lib: Any, body: bytes) -> Any:
    """``body`` as an ``AsyncByteStream`` of ``lib`` (httpx or httpx2) that yields it once."""
    cls = _BODY_STREAMS.get(lib.__name__)
    if cls is None:

        class _Body(lib.AsyncByteStream):  # type: ignore[misc]
            def __init__(self, data: bytes) -> None:
                self._data = data

            def __aiter__(self) -> _Once:
                return _Once(self._data)

            async def aclose(self) -> None:
                pass

        cls = _BODY_STREAMS[lib.__name__] = _Body
    return cls(body)


class _Once:
    """An async iterator over one bytes chunk (none when empty): the iterator of a request body."""

    __slots__ = ("_data",)

    def __init__(self, data: bytes) -> None:
        self._data: bytes | None = data

    def __aiter__(self) -> _Once:
        return self

    async def __anext__(self) -> bytes:
        data, self._data = self._data, None
        if not data:
            raise StopAsyncIteration
        return data


def _timeout_arg(client: httpx.AsyncClient, request: HTTPRequest) -> dict[str, Any]:
    """The ``timeout=`` keyword for ``client`` (none: the client's default)."""
    if request.timeout is None:
        return {}
    # The annotation says httpx, but a user's httpx2 client arrives here too (same API, other types).
    if isinstance(client, httpx.AsyncClient):  # pyright: ignore[reportUnnecessaryIsInstance]
        return {"timeout": request.timeout}
    return {"timeout": _convert_timeout(request.timeout, _library_of(client))}


# ---------------------------------------------------------------------------------------------
# The default client's transport: connection pools of POOL_SHARD_SIZE requests
# ---------------------------------------------------------------------------------------------


class _Shard:
    __slots__ = ("active", "idle_since", "secure", "transport")

    def __init__(self, transport: Any, *, secure: bool) -> None:
        self.transport = transport
        self.secure = secure
        self.active = 0
        self.idle_since = 0.0

    def release(self) -> None:
        self.active -= 1
        if not self.active:
            self.idle_since = time.monotonic()


#: The ``pool`` timeout of the request the current task is sending through the sharded transport:
#: how long :class:`_ConnectGate` may keep it waiting for a connect slot (``None``: no limit).
_SLOT_WAIT: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "trio_direct_slot_wait", default=None
)


class _ConnectGate:
    """At most ``slots`` TCP connects and TLS handshakes at once, across every pool of one client.

    Sits between httpcore's connection pools and their network backend (the library's own, for the
    running event loop). A connect first waits for a slot; the connect timeout starts once it has
    one, so a burst of 10,000 streams does not fail with connect timeouts because its last connects
    queued behind the first ones in this process. The wait is bounded by the request's ``pool``
    timeout, when it has one, and always by the caller's cancel scopes. TLS handshakes take a slot
    of their own after the TCP connect (their CPU cost is the client's); established connections
    hold none and are handed back unwrapped, so reads and writes pay nothing.

    Raises (from ``connect_tcp``/``start_tls``): the library's ``PoolTimeout`` when the wait outlasts
    the ``pool`` timeout, else what the inner backend raises.

    Cancellation: waiting for a slot is a plain checkpoint; a slot is given back however the connect
    ends.
    """

    __slots__ = ("_inner", "_pool_timeout", "_secure", "_slots")

    def __init__(
        self, inner: Any, slots: trio.Semaphore, pool_timeout: type[Exception], *, secure: bool
    ) -> None:
        self._inner = inner
        self._slots = slots
        self._pool_timeout = pool_timeout
        # Pools are per scheme: only a TLS pool's connections go on to a handshake, so only they
        # need the wrapper that gates start_tls.
        self._secure = secure

    @asynccontextmanager
    async def _slot(self) -> AsyncGenerator[None]:
        try:
            # A free slot is taken at once (a release hands slots to waiters first, so this keeps
            # the queue's order), even under a pool timeout of 0; the connect that follows checkpoints.
            self._slots.acquire_nowait()
        except trio.WouldBlock:
            wait = _SLOT_WAIT.get()
            if wait is None:
                await self._slots.acquire()
            else:
                with trio.move_on_after(wait) as waiting:
                    await self._slots.acquire()
                if waiting.cancelled_caught:  # acquire() was interrupted, so no slot is held
                    raise self._pool_timeout(
                        f"no connect slot within the pool timeout ({wait:g} s): "
                        f"{self._slots.max_value} connects were already in flight"
                    ) from None
        try:
            yield
        finally:
            self._slots.release()

    # The methods below implement httpcore's AsyncNetworkBackend/AsyncNetworkStream interface, whose
    # `timeout` arguments are the library's inactivity limits, passed through as they are.
    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> Any:
        async with self._slot():
            stream = await self._inner.connect_tcp(
                host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
            )
        return _GatedStream(stream, self) if self._secure else stream

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Any = None,
    ) -> Any:
        async with self._slot():
            return await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)

    async def start_tls(self, stream: Any, kwargs: dict[str, Any]) -> Any:
        async with self._slot():
            return await stream.start_tls(**kwargs)


class _GatedStream:
    """A freshly connected TLS-pool stream whose handshake waits for a :class:`_ConnectGate` slot.

    httpcore uses what ``start_tls`` returns (the library's TLS stream, unwrapped) from then on.
    """

    __slots__ = ("_gate", "_stream")

    def __init__(self, stream: Any, gate: _ConnectGate) -> None:
        self._stream = stream
        self._gate = gate

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        data: bytes = await self._stream.read(max_bytes, timeout=timeout)
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self._stream.write(buffer, timeout=timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Any:
        kwargs = {"ssl_context": ssl_context, "server_hostname": server_hostname, "timeout": timeout}
        return await self._gate.start_tls(self._stream, kwargs)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


_SHARDED_TRANSPORTS: dict[str, Any] = {}


def _sharded_transport(lib: Any, limits: Any, tls: _TLSContext) -> Any:
    """A :class:`_ShardedTransport` of ``lib`` (httpx or httpx2) for the default client's direct connections.

    Handed to a plain ``lib.AsyncClient`` as its ``transport=``, the seam httpx offers for this (proxies
    from the environment are mounted beside it: :func:`_environment_proxy_mounts`). Each pool is the
    library's own ``AsyncHTTPTransport`` with the settings a default client would give its transport.

    Pools are per scheme. The https pools share the one verifying TLS context ``tls``, built by the
    first https request, not before: loading the CA bundle costs 40-100 ms, which a process that only
    talks to ``http://`` URLs (a local model server, a test) would otherwise pay on its first request.
    """
    shard_limits = lib.Limits(
        max_connections=None,
        max_keepalive_connections=POOL_SHARD_SIZE,
        keepalive_expiry=limits.keepalive_expiry,
    )
    contexts: dict[bool, Any] = {}
    slots = trio.Semaphore(CONNECTS_IN_FLIGHT, max_value=CONNECTS_IN_FLIGHT)  # shared by all the pools

    def make_pool(secure: bool) -> Any:
        context = contexts.get(secure)
        if context is None:
            if secure:
                context = tls.get()
            else:
                import ssl

                # Plain-http pools never start TLS (requests go to a pool of their own scheme). Give
                # them a context with no trust roots, cheap to build, so that if one ever did, the
                # handshake could only fail verification.
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            contexts[secure] = context
        transport = lib.AsyncHTTPTransport(verify=context, trust_env=True, limits=shard_limits)
        _install_gate(transport, slots, secure=secure)
        return transport

    expiry = limits.keepalive_expiry
    return _sharded_transport_class(lib)(make_pool, expiry if expiry is not None else 5.0)


def _install_gate(transport: Any, slots: trio.Semaphore, *, secure: bool) -> None:
    """Put a :class:`_ConnectGate` between ``transport``'s connection pool and its network backend.

    httpx's ``AsyncHTTPTransport`` offers no argument for the backend, so this sets the pool's
    (httpcore's and httpcore2's ``AsyncConnectionPool`` hand ``_network_backend`` to every connection
    they open). A pool of another shape is left as it is, ungated, rather than broken.
    """
    pool: Any = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    core = sys.modules.get(type(pool).__module__.partition(".")[0])
    pool_timeout = getattr(core, "PoolTimeout", None)
    if inner is None or pool_timeout is None:  # pragma: no cover - a future httpcore
        logger.debug("connection pool %r has no network backend to gate; connects are not paced", pool)
        return
    pool._network_backend = _ConnectGate(inner, slots, pool_timeout, secure=secure)


def _sharded_transport_class(lib: Any) -> Any:
    """The :class:`_ShardedTransport` class for ``lib``: its transport and stream bases are the library's."""
    cls = _SHARDED_TRANSPORTS.get(lib.__name__)
    if cls is not None:
        return cls

    class _ShardStream(lib.AsyncByteStream):  # type: ignore[misc]
        """A response body that gives its shard's slot back when closed; iteration is the inner one's."""

        def __init__(self, stream: Any, shard: _Shard) -> None:
            self._stream = stream
            self._shard: _Shard | None = shard

        def __aiter__(self) -> Any:
            return self._stream.__aiter__()

        async def aclose(self) -> None:
            shard, self._shard = self._shard, None
            if shard is not None:
                shard.release()
            await self._stream.aclose()

    class _ShardedTransport(lib.AsyncBaseTransport):  # type: ignore[misc]
        """Requests spread over connection pools that each hold at most ``POOL_SHARD_SIZE`` in flight.

        A request goes to the first pool of its scheme (plain or TLS) with room, so sequential and
        lightly concurrent use stays on one pool and reuses its keep-alive connections; pools are
        added as concurrency grows. Why:
        httpcore's ``AsyncConnectionPool`` re-examines every connection (and every queued request) on
        each request start and end, and for each idle connection counts all connections again. At
        1,000 concurrent streams over one pool that bookkeeping took ~20 s of client CPU for 50,000
        deltas on the benchmark machine, against ~2.7 s with pools of 16 (httpx 0.28 / httpcore
        1.0.9; httpx2 fixed most of it, and gains less from this).
        """

        def __init__(self, make_pool: Callable[[bool], Any], idle_expiry: float) -> None:
            self._make_pool = make_pool
            self._idle_expiry = idle_expiry
            self._shards: list[_Shard] = []

        async def handle_async_request(self, request: Any) -> Any:
            shards = self._shards
            if len(shards) > 1 and not shards[-1].active:
                # Requests fill the first pools, so after a burst the last ones fall idle. One whose
                # keep-alive connections have all expired is closed (its pool would only prune them
                # when it is used again, which it may never be).
                last = shards[-1]
                if time.monotonic() - last.idle_since > self._idle_expiry:
                    shards.pop()
                    with trio.CancelScope(shield=True), trio.move_on_after(5):
                        await last.transport.aclose()
            secure = request.url.scheme != "http"
            for shard in shards:
                if shard.secure is secure and shard.active < POOL_SHARD_SIZE:
                    break
            else:
                shard = _Shard(self._make_pool(secure), secure=secure)
                self._shards.append(shard)
            shard.active += 1
            # The connect gate reads the request's pool timeout here (httpcore passes it no further).
            token = _SLOT_WAIT.set(request.extensions.get("timeout", {}).get("pool"))
            try:
                response = await shard.transport.handle_async_request(request)
            except BaseException:
                shard.release()
                raise
            finally:
                _SLOT_WAIT.reset(token)
            response.stream = _ShardStream(response.stream, shard)
            return response

        async def aclose(self) -> None:
            shards, self._shards = self._shards, []
            for shard in shards:
                await shard.transport.aclose()

    _ShardedTransport.__qualname__ = "_ShardedTransport"
    _SHARDED_TRANSPORTS[lib.__name__] = _ShardedTransport
    return _ShardedTransport
