"""The stream pump's source for ``application/vnd.amazon.eventstream`` bodies.

:class:`EventStreamSource` is :class:`trio_direct.models.base.SSEEventSource` for AWS's binary framing:
it opens the HTTP stream, feeds each network read to the sans-IO :class:`EventStreamDecoder`, hands the
decoded messages to a provider's :class:`EventStreamMapper`, and emits one batch of events per read.
"""

from __future__ import annotations

from typing import Final, Protocol

import httpx

from .. import _http, _limits  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager
from ..events import ModelResponseStreamEvent
from ..exceptions import TrioDirectError, UnexpectedModelBehavior
from ..models.base import Emit, EventSource, StreamMeta
from .eventstream import EventStreamDecoder, EventStreamMessage

__all__ = ["EVENTSTREAM_MEDIA_TYPE", "EventStreamMapper", "EventStreamSource"]

EVENTSTREAM_MEDIA_TYPE: Final = "application/vnd.amazon.eventstream"


class EventStreamMapper(Protocol):
    """A provider's pure event-stream message → events mapper: one instance per stream."""

    meta: StreamMeta

    def feed(self, message: EventStreamMessage, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one message, appending the raw events it produces to ``out``.

        Raises:
            TrioDirectError: an exception message, or a payload that cannot be understood.
        """
        ...

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended; raise if the stream was cut short, else flush anything pending."""
        ...


class EventStreamSource(EventSource):
    """An HTTP ``application/vnd.amazon.eventstream`` response decoded by an :class:`EventStreamMapper`.

    Args:
        request: the request to send.
        mapper: the provider's mapper for this stream.
        parts: the parts manager the mapper fills.
        model_name: for errors.
        error_builder: builds the error for a 4xx/5xx.
        secrets: extra values to redact from errors (credentials that are not in a request header).
    """

    def __init__(
        self,
        request: _http.HTTPRequest,
        mapper: EventStreamMapper,
        parts: PartsManager,
        *,
        model_name: str,
        error_builder: _http.ErrorBuilder = _http.default_http_error,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.request = request
        self.mapper = mapper
        self.parts = parts
        self.meta = mapper.meta
        self._model_name = model_name
        self._error_builder = error_builder
        self._secrets = secrets

    async def run(self, emit: Emit) -> None:
        """Send the request and map the body.

        Raises:
            ModelHTTPError: a 4xx/5xx status, or an exception message in the stream (categorized).
            EventStreamError: the body is not a well-formed event stream.
            UnexpectedModelBehavior: a 2xx whose body is plainly not an event stream.
            ModelConnectionError: the connection failed or broke.

        Cancellation:
            Safe at any point; the response is closed at once, never drained.
        """
        try:
            await self._run(emit)
        except TrioDirectError as exc:
            _http.redact_error(exc, (*_http.credentials_of(self.request), *self._secrets))
            raise

    async def _run(self, emit: Emit) -> None:
        mapper = self.mapper
        async with _http.open_stream(
            self.request, model_name=self._model_name, error_builder=self._error_builder
        ) as response:
            await self._check_content_type(response)
            decoder = EventStreamDecoder()
            # hardening: Content-Encoding undone here in bounded steps, one batch per decoded piece
            body = _limits.body_decoder(response, model_name=self._model_name, url=self.request.url)

            async def handle_decoded(chunk: bytes) -> None:
                out: list[ModelResponseStreamEvent] = []
                for message in decoder.feed(chunk):
                    mapper.feed(message, out)
                self.meta = mapper.meta
                await emit(out)

            async def handle(raw: bytes) -> None:
                for chunk in body.decode(raw):
                    await handle_decoded(chunk)

            try:
                await _limits.consume_raw(response, handle)
                for chunk in body.flush():
                    await handle_decoded(chunk)
            except _http.TRANSPORT_ERRORS as exc:
                raise _http.transport_error(exc, self.request.url, self._model_name, in_stream=True) from exc
            decoder.close()
            out: list[ModelResponseStreamEvent] = []
            mapper.finish(out)
            self.meta = mapper.meta
            await emit(out)

    async def _check_content_type(self, response: httpx.Response) -> None:
        # A 2xx JSON (or HTML) body is an error object or a proxy page, not a stream: quote it.
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in _NOT_EVENT_STREAMS:
            return
        try:
            body = await _limits.read_body(  # hardening: read only so far, never whole
                response,
                self.request.limits.max_error_body_bytes,
                model_name=self._model_name,
                url=self.request.url,
                truncate=True,
            )
        except _http.TRANSPORT_ERRORS as exc:
            raise _http.transport_error(exc, self.request.url, self._model_name, in_stream=True) from exc
        text = body.decode("utf-8", "replace")
        if len(text) > 2000:
            text = text[:2000] + "...(truncated)"
        raise UnexpectedModelBehavior(
            f"expected an AWS event stream ({EVENTSTREAM_MEDIA_TYPE}) from "
            f"{self.request.url.split('?', 1)[0]}, but the server answered HTTP {response.status_code} "
            f"with {content_type}",
            text,
        )


_NOT_EVENT_STREAMS: Final = frozenset(
    {"application/json", "text/html", "text/plain", "application/xml", "text/xml"}
)
