"""Size limits on what a server may make us hold, and bounded, decompression-aware body reading.

A broken proxy or a hostile endpoint can answer with a body that never ends, a ``Content-Length`` of
500 MB, an SSE line without a newline, or a gzip bomb (200 KB on the wire, 200 MB inflated). Nothing
here trusts the server:

* :class:`ResponseLimits` holds the limits of one request (defaults below, raised per model or per
  call with the ``max_response_bytes`` / ``max_error_body_bytes`` keys of ``ModelSettings``).
* :class:`BodyDecoder` undoes ``Content-Encoding`` itself (httpx inflates without any limit): raw
  bytes go in, decoded pieces of at most :data:`DECODE_STEP` bytes come out, so inflating never
  allocates more than one step past what the consumer has taken. Limits are counted on the decoded
  bytes.
* :func:`read_body` reads a whole (non-streamed) body or an error body up to a limit, and
  :func:`consume_raw` drives a response's raw byte stream through a callback; both stop reading the
  moment a limit is passed, and the caller's ``async with`` closes the connection (an unread body
  makes httpcore close it instead of draining it).

Sans-IO except for the two readers, which only iterate the response they are handed.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, Final, Protocol

import attrs
import trio

from .exceptions import ModelAPIError, ResponseTooLargeError, UserError

__all__ = [
    "ACCEPT_ENCODING",
    "DECODE_STEP",
    "DEFAULT_MAX_ERROR_BODY_BYTES",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_RESPONSE_LIMITS",
    "BodyDecoder",
    "ResponseLimits",
    "body_decoder",
    "consume_raw",
    "read_body",
    "too_large",
]

#: The largest real replies are base64 images (a 4096x4096 PNG is ~35 MB, ~47 MB as base64; Gemini
#: and the Responses API put every generated image of a reply into one body, or one SSE event such as
#: ``response.completed``) and long reasoning traces (128k output tokens are ~0.5 MB of text, a few
#: MB with encrypted reasoning content). 64 MiB covers all of these with room to spare while keeping
#: one hostile reply from taking more than that (plus its parsed form) from a long-lived process. The
#: same limit bounds a whole non-streamed body and each single line/event of a stream (an SSE event
#: can hold the whole response); a stream as a whole is not limited, its consumer takes it as it comes.
DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024

#: Error bodies (4xx/5xx) and non-SSE answers to a stream request are read only this far: a provider's
#: error object is a few hundred bytes and a proxy's HTML page some kilobytes; the status already says
#: what happened. What is past the limit is not read; the error is built from the first part.
DEFAULT_MAX_ERROR_BODY_BYTES: Final = 1024 * 1024

#: Decoded bytes produced per step when inflating: each step allocates at most this much, so a
#: compression bomb is stopped one step after it passes a limit.
DECODE_STEP: Final = 64 * 1024

#: What we ask servers for: the encodings :class:`BodyDecoder` can inflate in bounded steps.
ACCEPT_ENCODING: Final = "gzip, deflate"


def _positive_int(name: str) -> Callable[[Any, Any, int], None]:
    def check(_instance: Any, _attribute: Any, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"ModelSettings[{name!r}] must be a positive number of bytes, got {value!r}")

    return check


@attrs.frozen(slots=True)
class ResponseLimits:
    """How much of a server's reply one request may hold.

    Attributes:
        max_response_bytes: the decoded size of a non-streamed body, and of any single line or event
            of a stream (``ModelSettings['max_response_bytes']``).
        max_error_body_bytes: how much of an error body, or of a non-SSE answer to a stream request,
            is read before the rest is dropped (``ModelSettings['max_error_body_bytes']``).
    """

    max_response_bytes: int = attrs.field(
        default=DEFAULT_MAX_RESPONSE_BYTES, validator=_positive_int("max_response_bytes")
    )
    max_error_body_bytes: int = attrs.field(
        default=DEFAULT_MAX_ERROR_BODY_BYTES, validator=_positive_int("max_error_body_bytes")
    )

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> ResponseLimits:
        """The limits a request's merged settings ask for (defaults for the keys not set).

        Raises:
            UserError: a limit that is not a positive integer.
        """
        if not settings:
            return DEFAULT_RESPONSE_LIMITS
        response = settings.get("max_response_bytes")
        error = settings.get("max_error_body_bytes")
        if response is None and error is None:
            return DEFAULT_RESPONSE_LIMITS
        return cls(
            DEFAULT_MAX_RESPONSE_BYTES if response is None else response,
            DEFAULT_MAX_ERROR_BODY_BYTES if error is None else error,
        )


#: The limits of a request whose settings set none.
DEFAULT_RESPONSE_LIMITS: Final = ResponseLimits()


class _Inflater:
    """One gzip or deflate layer, inflating at most ``room`` bytes per call."""

    __slots__ = ("_head", "_obj", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        # gzip: header and trailer checked. deflate: zlib-wrapped or raw deflate (servers send both
        # under that name, and httpx and browsers accept both), told apart by the first two bytes.
        self._obj = zlib.decompressobj(zlib.MAX_WBITS | 16) if name != "deflate" else None
        self._head = b""

    def step(self, data: bytes, room: int) -> bytes:
        """Inflate from ``data`` (or the unconsumed tail when ``data`` is empty) up to ``room`` bytes."""
        obj = self._obj
        if obj is None:
            self._head += data
            if len(self._head) < 2:
                return b""
            data, self._head = self._head, b""
            zlib_wrapped = data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            obj = self._obj = zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)
        return obj.decompress(data or obj.unconsumed_tail, room)

    @property
    def pending(self) -> bool:
        return self._obj is not None and bool(self._obj.unconsumed_tail)

    def flush(self) -> bytes:
        if self._obj is None:  # fewer than two bytes in all: not a deflate stream
            if self._head:
                raise zlib.error("incomplete deflate stream")
            return b""
        tail = self._obj.flush()
        if not self._obj.eof:
            raise zlib.error("the compressed data ends before its end marker")
        return tail


class BodyDecoder:
    """Undo a response's ``Content-Encoding`` in bounded steps (sans-IO).

    ``identity`` (or no header) passes bytes through unchanged; ``gzip``, ``x-gzip`` and ``deflate``,
    also stacked (``gzip, deflate``), are inflated :data:`DECODE_STEP` bytes at a time. Anything else
    (``br``, ``zstd``: never asked for, see :data:`ACCEPT_ENCODING`) is refused.

    Raises (from the constructor, :meth:`decode` and :meth:`flush`):
        UnexpectedContentError: an encoding we did not ask for, or compressed data that is corrupt.
    """

    __slots__ = ("_layers", "_model_name", "_url", "identity")

    def __init__(self, content_encoding: str | None, *, model_name: str, url: str) -> None:
        self._model_name = model_name
        self._url = url.split("?", 1)[0]
        names = [n.strip().lower() for n in (content_encoding or "").split(",") if n.strip()]
        names = [n for n in names if n != "identity"]
        for name in names:
            if name not in ("gzip", "x-gzip", "deflate"):
                raise ModelAPIError(
                    model_name,
                    f"{self._url} answered with Content-Encoding: {content_encoding}, which trio_direct "
                    f"did not ask for and does not decode (it asks for {ACCEPT_ENCODING}); check the "
                    "server or proxy in between",
                )
        # Applied in reverse order of the header: the last encoding listed was applied last.
        self._layers = [_Inflater(n) for n in reversed(names)]
        self.identity = not self._layers

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of ``data``, each at most :data:`DECODE_STEP` bytes, lazily.

        Take each piece before asking for the next: the next one is inflated only then.
        """
        if self.identity:
            if data:
                yield data
            return
        try:
            yield from self._through(0, data)
        except zlib.error as exc:
            raise self._corrupt(exc) from None

    def flush(self) -> Iterator[bytes]:
        """What the encoded stream still holds once its raw bytes have ended."""
        if self.identity:
            return
        try:
            for index, layer in enumerate(self._layers):
                # Input was drained step by step, so what zlib still holds is at most its window.
                if piece := layer.flush():
                    yield from self._through(index + 1, piece)
        except zlib.error as exc:
            raise self._corrupt(exc) from None

    def _through(self, index: int, data: bytes) -> Iterator[bytes]:
        if index == len(self._layers):
            if data:
                yield data
            return
        layer = self._layers[index]
        piece = layer.step(data, DECODE_STEP)
        while True:
            if piece:
                yield from self._through(index + 1, piece)
            if not layer.pending:
                return
            piece = layer.step(b"", DECODE_STEP)

    def _corrupt(self, exc: zlib.error) -> ModelAPIError:
        encoding = " + ".join(layer.name for layer in reversed(self._layers))
        return ModelAPIError(
            self._model_name,
            f"the {encoding} body from {self._url} is corrupt and cannot be decoded ({exc}); the server "
            "or a proxy in between sent broken compressed data",
        )


def too_large(
    model_name: str, *, limit: int, seen: int, what: str, url: str, in_stream: bool = False
) -> ResponseTooLargeError:
    """The error for a reply that passed ``limit`` (see :class:`ResponseTooLargeError`)."""
    return ResponseTooLargeError(
        model_name,
        limit_name="max_response_bytes",
        limit=limit,
        seen=seen,
        what=what,
        url=url.split("?", 1)[0],
        in_stream=in_stream,
    )


class _RawResponse(Protocol):
    """What the readers need of an ``httpx.Response`` (or an httpx2 one)."""

    @property
    def headers(self) -> Any: ...

    @property
    def is_stream_consumed(self) -> bool: ...

    @property
    def content(self) -> bytes: ...

    def aiter_raw(self) -> Any: ...


def body_decoder(response: _RawResponse, *, model_name: str, url: str) -> BodyDecoder:
    """The :class:`BodyDecoder` for ``response``'s raw body (see :func:`consume_raw`).

    Raises:
        ModelAPIError: an encoding we did not ask for.
    """
    if response.is_stream_consumed:
        # A response built in memory (a mock transport's) was read and decoded by httpx already.
        return BodyDecoder(None, model_name=model_name, url=url)
    return BodyDecoder(response.headers.get("content-encoding"), model_name=model_name, url=url)


async def consume_raw(response: _RawResponse, handle: Callable[[bytes], Awaitable[None]]) -> None:
    """Feed each raw (still encoded) chunk of ``response``'s body to ``handle``, until the body ends.

    Decode the chunks with :func:`body_decoder`'s decoder (a response a mock transport built in memory
    comes already read; its decoded content is handed over in one piece and the decoder passes it on).

    An exception from ``handle`` stops the reading: the read in progress is cancelled so that httpx's
    chain of async generators unwinds from the inside (leaving the loop from here would suspend them
    for the garbage collector, a ResourceWarning under Trio), then the exception is raised unchanged.

    Raises:
        Whatever ``handle`` raises; httpx's transport errors from the reads (map them in the caller).

    Cancellation:
        Safe; the body is left unread and the caller's closing of the response closes the connection.
    """
    if response.is_stream_consumed:
        # Built in memory and already read (a mock transport's response): its decoded content, once.
        if content := response.content:
            await handle(content)
        return
    failure: BaseException | None = None
    with trio.CancelScope() as unwind:
        async for raw in response.aiter_raw():
            if failure is not None:
                continue  # skip what httpx had buffered until the cancelled read unwinds
            try:
                await handle(raw)
            except BaseException as exc:
                failure = exc
                unwind.cancel()
    if failure is not None:
        raise failure


async def read_body(
    response: _RawResponse,
    limit: int,
    *,
    model_name: str,
    url: str,
    truncate: bool = False,
) -> bytes:
    """``response``'s decoded body, read to its end or to ``limit`` bytes, whichever comes first.

    A ``Content-Length`` (of an unencoded body) already past the limit fails before any byte is read.

    Args:
        limit: the most decoded bytes to hold.
        truncate: past the limit, return the first ``limit`` bytes (error bodies) instead of raising.

    Raises:
        ResponseTooLargeError: the body is larger than ``limit`` (unless ``truncate``).
        ModelAPIError: an encoding we did not ask for, or corrupt compressed data.
        httpx.TransportError: from the reads; the caller maps it.

    Cancellation:
        Safe; the rest of the body is never read.
    """
    decoder = body_decoder(response, model_name=model_name, url=url)
    declared = _content_length(response.headers)
    if decoder.identity and declared is not None and declared > limit and not truncate:
        raise too_large(model_name, limit=limit, seen=declared, what="response body", url=url)
    pieces: list[bytes] = []
    size = 0

    def take(piece: bytes) -> None:
        nonlocal size
        size += len(piece)
        if size > limit:
            if truncate:
                pieces.append(piece[: len(piece) - (size - limit)])
                raise _Full
            raise too_large(model_name, limit=limit, seen=size, what="response body", url=url)
        pieces.append(piece)

    async def handle(raw: bytes) -> None:
        for piece in decoder.decode(raw):
            take(piece)

    try:
        await consume_raw(response, handle)
        for piece in decoder.flush():
            take(piece)
    except _Full:
        pass
    return b"".join(pieces)


class _Full(Exception):
    """A truncating read has its ``limit`` bytes: stop reading."""


def _content_length(headers: Any) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None
