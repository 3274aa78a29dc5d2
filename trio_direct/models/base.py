"""The model substrate: :class:`Model`, :class:`StreamedResponse` and the one streaming mechanism.

A streamed request is an async context manager that owns a nursery. Its pump task runs an
:class:`EventSource` (an HTTP body decoded by a provider's mapper, or a test/function model's
generator), turns each network read's deltas into events with the shared parts manager, and sends
them as a :class:`Batch` with the stream's meta into a small bounded memory channel: one per read,
except that reads the consumer has not come for yet join the last batch it has not received. The
consumer —
``async for`` here, or the sync wrapper through the portal — receives batches and re-applies the
events to its own accumulator, so ``get()`` reflects exactly what it has seen.

Leaving the block cancels the pump and closes the HTTP response at once; it never drains it.
Errors before the first batch (connect, HTTP status, an error in the first chunk) raise from
``__aenter__``; later ones from the iteration, unchanged. No async generator here yields inside a
nursery or cancel scope.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Protocol, cast, final

import attrs
import httpx
import trio

from .. import _http, _limits, _untrusted, _validate  # pyright: ignore[reportPrivateUsage]
from .._parts import EventDecorator, PartsManager, ResponseAccumulator
from .._sse import EventTooLarge, ServerSentEvent, SSEDecoder
from ..events import ModelResponseStreamEvent
from ..exceptions import (
    NotSupportedError,
    StreamClosedError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import FinishReason, ModelMessage, ModelRequestAttempt, ModelResponse, ModelResponseState
from ..settings import ModelSettings, merge_model_settings
from ..tools import ModelRequestParameters
from ..usage import RequestUsage
from ._bearer import BearerTokenSource

__all__ = [
    "BATCH_COALESCE_EVENTS",
    "STREAM_BUFFER_BATCHES",
    "EventSource",
    "HTTPModel",
    "Model",
    "Provider",
    "SSEEventSource",
    "StreamClosedError",
    "StreamMapper",
    "StreamMeta",
    "StreamedResponse",
    "open_event_stream",
]

#: Batches buffered between the pump and the consumer. Each batch is one network read, or a few up to
#: BATCH_COALESCE_EVENTS events, so this is real backpressure down to TCP: a slow consumer stops the
#: pump, which stops reading the socket.
STREAM_BUFFER_BATCHES: Final = 8


@attrs.frozen(slots=True, repr=False)
class Provider:
    """Where and how to reach a provider: name, base URL, API key and extra headers.

    Configuration only, never a live client. The key never appears in a repr. ``token`` is a bearer
    token (or a callable giving one) that :class:`HTTPModel` asks for before every request and sends as
    ``Authorization: Bearer`` (Azure OpenAI with Microsoft Entra ID), instead of a fixed ``api_key``.
    """

    name: str
    base_url: str
    api_key: str | None = attrs.field(default=None)
    headers: dict[str, str] = attrs.field(factory=dict[str, str])
    token: BearerTokenSource | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        # hardening: what goes into URLs and headers is checked when the model is resolved, before I/O
        _validate.check_provider(self.name, self.base_url, self.api_key, self.headers)

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        token = "" if self.token is None else f", token={self.token!r}"
        return f"Provider(name={self.name!r}, base_url={self.base_url!r}, api_key={key}{token})"

    def url(self, path: str) -> str:
        """``base_url`` joined with ``path`` by exactly one slash."""
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")


@attrs.frozen(slots=True)
class StreamMeta:
    """Everything about a stream that is not a part: what ``get()`` fills the response with."""

    model_name: str | None
    provider_name: str | None = None
    provider_url: str | None = None
    timestamp: datetime = attrs.field(factory=lambda: datetime.now(tz=UTC))
    usage: RequestUsage = attrs.field(factory=RequestUsage)
    provider_response_id: str | None = None
    provider_details: dict[str, Any] | None = None
    finish_reason: FinishReason | None = None
    canonical_system: str | None = None
    state: ModelResponseState | None = None
    metadata: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


class Model(ABC):
    """A model you can send requests to; subclasses speak one provider's protocol.

    Args:
        settings: default settings, merged under each call's ``model_settings`` (the call wins).
    """

    def __init__(self, *, settings: ModelSettings | None = None) -> None:
        self._settings = settings

    @property
    def settings(self) -> ModelSettings | None:
        return self._settings

    @property
    @abstractmethod
    def model_name(self) -> str:
        """The model's name as the provider knows it (``'gpt-4o'``)."""

    @property
    @abstractmethod
    def system(self) -> str:
        """The provider id (``'openai'``), as OpenTelemetry's ``gen_ai.system``."""

    @property
    def base_url(self) -> str | None:
        return None

    @property
    def model_id(self) -> str:
        """``'<system>:<model_name>'``."""
        return f"{self.system}:{self.model_name}"

    def prepare_request(
        self, model_settings: ModelSettings | None, model_request_parameters: ModelRequestParameters | None
    ) -> tuple[ModelSettings, ModelRequestParameters]:
        """Merge default and call settings and fill in default parameters. Called once per request."""
        merged = merge_model_settings(self._settings, model_settings) or ModelSettings()
        params = model_request_parameters or ModelRequestParameters()
        return merged, self.customize_request_parameters(params)

    def customize_request_parameters(self, params: ModelRequestParameters) -> ModelRequestParameters:
        """Hook for providers that rewrite tool schemas or output modes."""
        return params

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history as this model is sent it; the direct API calls this before every request, as
        pydantic-ai 2.68's does.

        The default (what the HTTP provider modules expect): realtime speech becomes text, retry
        feedback takes the voice its cause calls for, and a summary the application wrote into a
        request becomes the user text that frames it (see :mod:`trio_direct.models._prepare`).
        ``model_request_parameters`` is accepted for 2.68's signature.
        """
        from ._prepare import sendable_history

        del model_request_parameters
        return sendable_history(messages)

    def direct_history(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """What the direct API sends this model for ``messages``: :meth:`prepare_messages`'s result.

        In-process models that are handed the parts (``FunctionModel``, ``TestModel``) get it only when
        the history holds a retry part, as pydantic-ai 2.68's direct API does; otherwise the history as
        it is.
        """
        return self.prepare_messages(messages, model_request_parameters)

    @abstractmethod
    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send one non-streamed request.

        Cancellation:
            Safe at any point; nothing is left running.
        """

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """An async context manager that opens a streamed request and yields a :class:`StreamedResponse`.

        Raises:
            NotImplementedError: this model cannot stream.
        """
        raise NotImplementedError(f"{type(self).__name__} does not support streaming")

    async def count_tokens(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> RequestUsage:
        """Ask the provider how many input tokens this request would use, without running it.

        The request is built exactly as :meth:`request` builds it (same history, instructions, tools and
        settings), minus what the provider's count endpoint rejects, as pydantic-ai 2.68 does.

        Returns:
            A :class:`RequestUsage` whose ``input_tokens`` is the count.

        Raises:
            NotSupportedError: this model has no token counting (also a ``NotImplementedError``, as in
                pydantic-ai 2.68); raised before any I/O.

        Cancellation:
            Safe at any point; nothing is left running.
        """
        raise _unsupported_token_counting(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model_name={self.model_name!r})"


def _unsupported_token_counting(model: Model) -> NotSupportedError:
    """The error for :meth:`Model.count_tokens` on a model without a count endpoint (2.68's wording, plus
    what to do)."""
    return NotSupportedError(
        f"Token counting ahead of the request is not supported by {type(model).__name__}. "
        "Anthropic (`anthropic:`), OpenAI Responses (`openai-responses:`) and Gemini (`google-gla:`, "
        "`google-cloud:`) models count tokens; for other models read `response.usage` after the request."
    )


class StreamContext(Protocol):
    """What ``request_stream`` returns: ``async with ... as stream``."""

    async def __aenter__(self) -> StreamedResponse: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


# ---------------------------------------------------------------------------------------------
# Event sources and the pump
# ---------------------------------------------------------------------------------------------


Emit = Callable[[list[ModelResponseStreamEvent]], Awaitable[None]]


class EventSource(ABC):
    """Produces raw events for one stream (see :class:`PartsManager`).

    ``run`` calls ``emit`` once per network read (or per generated chunk) with the raw events that
    read produced, possibly none; ``meta`` is read after each call, so update it before emitting.
    """

    meta: StreamMeta
    parts: PartsManager

    @abstractmethod
    async def run(self, emit: Emit) -> None:
        """Produce the whole stream; raise on errors (typed ``TrioDirectError`` subclasses)."""


class StreamMapper(Protocol):
    """A provider's pure SSE → events mapper: one instance per stream."""

    meta: StreamMeta

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event, appending the raw events it produces to ``out``.

        Raises:
            TrioDirectError: an error event, or data that cannot be understood.
        """
        ...

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended; raise if the stream was cut short, else flush anything pending."""
        ...

    # Optional: a mapper whose protocol has an end marker (Chat's ``data: [DONE]``, Anthropic's
    # ``message_stop``, ...) has a ``done`` attribute or property that turns true when the marker
    # arrives. The stream then finishes there: nothing after the marker is read, even if the server
    # keeps the connection open or keeps sending heartbeats, and the connection is closed.


class SSEEventSource(EventSource):
    """An HTTP SSE response decoded by a provider's :class:`StreamMapper`."""

    def __init__(
        self,
        request: _http.HTTPRequest,
        mapper: StreamMapper,
        parts: PartsManager,
        *,
        model_name: str,
        error_builder: _http.ErrorBuilder = _http.default_http_error,
        token: BearerTokenSource | None = None,
    ) -> None:
        self.request = request
        self.mapper = mapper
        self.parts = parts
        self.meta = mapper.meta
        self._model_name = model_name
        self._error_builder = error_builder
        # a bearer token asked for when the stream opens, not when it is built (see Provider.token)
        self._token = token

    async def run(self, emit: Emit) -> None:
        try:
            if self._token is not None:
                self.request = await _authorized(self.request, self._token, self._model_name)
            await self._run(emit)
        except TrioDirectError as exc:
            # A server may echo the API key in an error body or event; the caller never sees it.
            _http.redact_error(exc, _http.credentials_of(self.request))
            raise

    async def _run(self, emit: Emit) -> None:
        mapper = self.mapper
        request = self.request
        async with _http.open_stream(
            request, model_name=self._model_name, error_builder=self._error_builder
        ) as response:
            await self._check_content_type(response)
            limit = request.limits.max_response_bytes
            decoder = SSEDecoder(limit)
            # Content-Encoding is undone here in bounded steps (httpx would inflate a bomb whole).
            body = _limits.body_decoder(response, model_name=self._model_name, url=request.url)
            ends = hasattr(type(mapper), "done") or hasattr(mapper, "done")

            async def feed(pieces: Iterable[bytes]) -> None:
                # One batch per decoded piece (at most one network read, or one DECODE_STEP of an
                # inflated one): a compressed read cannot put more than that in front of the consumer.
                for piece in pieces:
                    out: list[ModelResponseStreamEvent] = []
                    # Few brackets in a read cannot nest deeply; only then is each event measured.
                    deep = piece.count(b"{") + piece.count(b"[") > _untrusted.MAX_NESTING
                    for sse in decoder.feed(piece):
                        if deep:
                            _untrusted.check_nesting(sse.data, "a server-sent event")
                        mapper.feed(sse, out)
                        if ends and mapper.done:  # type: ignore[attr-defined]
                            self.meta = mapper.meta
                            await emit(out)
                            raise _EndMarker
                    self.meta = mapper.meta
                    await emit(out)

            identity = body.identity

            def handle(raw: bytes) -> Awaitable[None]:
                return feed((raw,) if identity else body.decode(raw))

            out: list[ModelResponseStreamEvent] = []
            try:
                try:
                    await _limits.consume_raw(response, handle)
                    await feed(body.flush())
                except EventTooLarge as exc:
                    raise _limits.too_large(
                        self._model_name,
                        limit=limit,
                        seen=exc.seen,
                        what="server-sent event",
                        url=request.url,
                        in_stream=True,
                    ) from None
            except _EndMarker:
                pass  # the stream is complete; what follows the marker is never read, the block closes it
            except _http.TRANSPORT_ERRORS as exc:
                raise _http.transport_error(exc, request.url, self._model_name, in_stream=True) from exc
            else:
                for sse in decoder.close():
                    _untrusted.check_nesting(sse.data, "a server-sent event")
                    mapper.feed(sse, out)
            mapper.finish(out)
            # What was built from strings (tool arguments parsed at the end) must serialize too.
            _untrusted.check_parts_serialize(self.parts.get_parts())
            self.meta = mapper.meta
            await emit(out)

    async def _check_content_type(self, response: httpx.Response) -> None:
        # A 2xx that is plainly not an event stream (a JSON error object, a proxy's HTML page, a server
        # that ignored `stream: true`) would otherwise decode to no events and fail as "empty stream".
        # Other types pass: some servers send SSE under text/plain or no type at all.
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type not in _NOT_EVENT_STREAMS and not media_type.endswith("+json"):
            return
        try:
            body = await _limits.read_body(
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
        where = self.request.url.split("?", 1)[0]
        raise UnexpectedModelBehavior(
            f"expected a stream of server-sent events (text/event-stream) from {where}, but the provider "
            f"answered HTTP {response.status_code} with {content_type}",
            text,
        )


class _EndMarker(Exception):
    """Raised inside the read loop once the mapper saw its stream's end marker, to stop reading."""


#: Media types that are never an SSE stream (see ``SSEEventSource._check_content_type``).
_NOT_EVENT_STREAMS: Final = frozenset({"application/json", "text/html", "application/xml", "text/xml"})


@attrs.define(slots=True)
class _Outcome:
    """What the pump leaves for the consumer once the channel ends."""

    error: BaseException | None = None
    completed: bool = False


@final
class Batch:
    """Events handed from the pump to the consumer in one piece, with the stream's meta after them.

    While ``open`` (sent, but not yet received by the consumer) the pump may still append to it: a
    consumer that has not come for the last batch gets the next reads' events with it, which saves a
    channel round trip and a consumer step per network read. Receiving closes it; from then on it
    belongs to the consumer and never changes. Pump and consumer share one thread (the stream's
    Trio run), so the flag needs no lock; a sync consumer only reads batches fetched for it there.
    """

    __slots__ = ("events", "meta", "open")

    def __init__(self, events: list[ModelResponseStreamEvent], meta: StreamMeta) -> None:
        self.events = events
        self.meta = meta
        self.open = True

    def __repr__(self) -> str:
        return f"Batch({len(self.events)} events, open={self.open})"


#: The most events the pump appends to a batch the consumer has not received yet (the channel's bound
#: times this is the read-ahead in events).
BATCH_COALESCE_EVENTS: Final = 256


async def _pump(
    source: EventSource,
    params: ModelRequestParameters,
    send: trio.MemorySendChannel[Batch],
    outcome: _Outcome,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    meta = source.meta
    decorator = EventDecorator(
        source.parts, params, provider_name=meta.provider_name, canonical_system=meta.canonical_system
    )
    started = False
    last_meta: StreamMeta | None = None
    last: Batch | None = None
    process = decorator.process

    async def emit(raw: list[ModelResponseStreamEvent]) -> None:
        nonlocal started, last_meta, last
        meta = source.meta
        if not raw and meta is last_meta and started:
            return
        if last is not None and last.open and meta is last.meta and len(last.events) < BATCH_COALESCE_EVENTS:
            # The consumer has not come for the last batch yet: this read's events join it. Only while
            # the meta is unchanged, so that usage and the like never run ahead of the events either.
            process(raw, last.events)
            await trio.lowlevel.checkpoint_if_cancelled()
            return
        out: list[ModelResponseStreamEvent] = []
        process(raw, out)
        if not started:
            # pydantic-ai peeks the first chunk before handing out the stream, so errors in it raise
            # from `async with`; starting here, after the first read, does the same.
            started = True
            task_status.started()
        last_meta = meta
        # No schedule point of its own while the buffer has room: every read of the source already is
        # one (trio checkpoints on each socket operation), and skipping the extra one saves a task
        # switch per network read. A full buffer blocks, which is the backpressure. But a consumer
        # that left has cancelled us before closing its end, so honour that first: the source must
        # see Cancelled (and unwind as cancelled), never a BrokenResourceError from the channel.
        await trio.lowlevel.checkpoint_if_cancelled()
        last = Batch(out, meta)
        try:
            send.send_nowait(last)
        except trio.WouldBlock:
            await send.send(last)

    # The sync `with` (not `async with`) closes the send side even when we are cancelled.
    with send:
        try:
            await source.run(emit)
            out: list[ModelResponseStreamEvent] = []
            decorator.finish(out)
            if not started:
                started = True
                task_status.started()
            if (
                last is not None
                and last.open
                and source.meta is last.meta
                and len(last.events) < BATCH_COALESCE_EVENTS
            ):
                last.events.extend(out)
            else:
                await send.send(Batch(out, source.meta))
            outcome.completed = True
        except Exception as exc:
            if not started:
                raise
            outcome.error = exc


@final
class _EventStream:
    """The async context manager behind every ``request_stream``: owns the nursery and the pump."""

    def __init__(self, source: EventSource, params: ModelRequestParameters) -> None:
        self._source = source
        self._params = params
        self._nursery_manager: trio.Nursery | None = None
        self._cm: Any = None
        self._stream: StreamedResponse | None = None

    async def __aenter__(self) -> StreamedResponse:
        if self._cm is not None:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        send, receive = trio.open_memory_channel[Batch](STREAM_BUFFER_BATCHES)
        outcome = _Outcome()
        self._cm = trio.open_nursery()
        nursery = await self._cm.__aenter__()
        # The view starts from the state before the first read: by the time start() returns, the
        # pump may already have read (and buffered) more, which the consumer has not seen yet.
        initial_meta = self._source.meta
        pump_scope = trio.CancelScope()
        try:
            await nursery.start(_scoped_pump, pump_scope, self._source, self._params, send, outcome)
        except BaseException as exc:
            receive.close()
            nursery.cancel_scope.cancel()
            # The nursery would wrap our error in a group; exit it clean and raise the error itself.
            await self._cm.__aexit__(None, None, None)
            raise _unwrap(exc) from None
        self._stream = StreamedResponse(receive, outcome, self._params, initial_meta, pump_scope)
        return self._stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        stream = self._stream
        if stream is not None:
            stream._close()  # pyright: ignore[reportPrivateUsage]
        # Exit the nursery without handing it the body's exception: that exception propagates from
        # here unchanged instead of inside an ExceptionGroup. The pump's Cancelled belongs to the
        # pump's own scope (cancelled just above), which absorbs it.
        await self._cm.__aexit__(None, None, None)
        return None


async def _scoped_pump(
    scope: trio.CancelScope,
    source: EventSource,
    params: ModelRequestParameters,
    send: trio.MemorySendChannel[Batch],
    outcome: _Outcome,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    # The stream stops its pump through this scope, not the nursery's: the nursery is entered by
    # ``__aenter__``, so its scope also surrounds the caller's ``async with`` body, and cancelling it
    # would cancel the caller's own code after ``await stream.cancel()`` (and leak that Cancelled out
    # of the block, since ``__aexit__`` does not hand the body's exception to the nursery).
    with scope:
        await _pump(source, params, send, outcome, task_status=task_status)


def _unwrap(exc: BaseException) -> BaseException:
    # Our own nursery wraps a lone error in a group; callers get the error itself.
    current: BaseException = exc
    while isinstance(current, BaseExceptionGroup):
        members = cast("tuple[BaseException, ...]", current.exceptions)  # pyright: ignore[reportUnknownMemberType]
        if len(members) != 1:
            break
        current = members[0]
    return current  # pyright: ignore[reportUnknownVariableType]


def open_event_stream(source: EventSource, params: ModelRequestParameters) -> StreamContext:
    """Wrap an :class:`EventSource` in the stream context manager (what ``request_stream`` returns)."""
    return _EventStream(source, params)


_CLOSED_MESSAGE: Final = "the stream is closed; iterate it inside its `async with` block"


class ForeignFeed(Protocol):
    """How a :class:`StreamedResponse` living in the portal is consumed from another event loop."""

    async def fetch(self) -> list[Batch]:
        """The next batches, waiting for at least one; ``[]`` once the stream's channel has ended."""
        ...

    async def close(self) -> None:
        """Close the stream now (pump cancelled, connection closed), as leaving its block would."""
        ...

    def closed_error(self) -> BaseException:
        """What to raise when the stream was closed before it finished (the block left, a shutdown)."""
        ...


@final
class StreamedResponse:
    """A response being streamed: ``async for event in stream``; ``get()`` for the response so far.

    Everything here reflects the events already received by the caller (never more). Use it inside
    its ``async with`` block; afterwards ``get()`` still returns the last state.
    """

    def __init__(
        self,
        receive: trio.MemoryReceiveChannel[Batch],
        outcome: _Outcome,
        params: ModelRequestParameters,
        meta: StreamMeta,
        cancel_scope: trio.CancelScope,
    ) -> None:
        self._receive = receive
        self._outcome = outcome
        self._params = params
        self._meta = meta
        self._cancel_scope = cancel_scope
        #: The attempts that failed before this stream was opened (a FallbackModel sets it).
        self.failed_attempts: list[ModelRequestAttempt] | None = None
        self._acc = ResponseAccumulator()
        self._events: list[ModelResponseStreamEvent] = []
        self._pos = 0
        # Events of the current batch before this index are in `_acc`; the consumed rest is applied
        # lazily (when the batch is left or `get()` is called), so handing out an event costs no
        # accumulator call.
        self._applied = 0
        # Fetched, not yet current: at most the channel's STREAM_BUFFER_BATCHES, so a list (56 bytes
        # empty) rather than a deque (~700 bytes empty: its first 64-slot block) at 10,000 open streams.
        self._backlog: list[Batch] = []
        self._exhausted = False
        self._closed = False
        self._cancelled = False
        # Set when the consumer is an asyncio task and this stream lives in the portal (trio_direct._aio).
        self._foreign: ForeignFeed | None = None

    @property
    def model_request_parameters(self) -> ModelRequestParameters:
        return self._params

    # -- iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> StreamedResponse:
        return self

    async def __anext__(self) -> ModelResponseStreamEvent:
        """The next event.

        Raises:
            StopAsyncIteration: the stream ended (also after an earlier ``break`` and re-iteration).
            TrioDirectError: the error the stream failed with, unchanged.
            StreamClosedError: used after the ``async with`` block.

        Cancellation:
            Safe; cancelling the caller leaves the stream as it was (leaving the block closes it).
        """
        pos = self._pos
        events = self._events
        if pos < len(events) and not self._closed:
            self._pos = pos + 1
            return events[pos]
        if self._foreign is not None:
            return await self._anext_foreign(self._foreign)
        if self._closed and not self._exhausted:
            # Even events already received but not yet consumed: after the block, the stream is over.
            raise StreamClosedError(_CLOSED_MESSAGE)
        while (event := self._next_event()) is None:
            if self._exhausted:
                raise StopAsyncIteration
            # One batch at a time: the channel's bound stays the whole read-ahead. A batch already
            # buffered is taken without a schedule point: trio's receive() yields even when it need
            # not wait, which cost a task switch per network read (the pump's next read is one anyway).
            await trio.lowlevel.checkpoint_if_cancelled()
            try:
                batch = self._receive.receive_nowait()
                batch.open = False
                batches = [batch]
            except trio.WouldBlock:
                batches = await self._receive_batches(drain=False)
            except (trio.EndOfChannel, trio.ClosedResourceError):
                batches = []
            if not batches and self._closed:
                raise StreamClosedError(_CLOSED_MESSAGE)
            self._accept(batches)
        return event

    # -- the batch protocol ------------------------------------------------------------------
    #
    # The one way events leave the pump's channel, for every consumer: ``__anext__`` above, the
    # sync wrapper (``trio_direct.direct.StreamedResponseSync``), which calls the two fetch methods
    # in the portal thread and the rest in its own, and an asyncio task (``_anext_foreign``, whose
    # feed in ``trio_direct._aio`` runs the fetch side in the portal). Fetching returns whole batches;
    # the consumer side queues them (``_accept``) and hands out one event at a time (``_next_event``),
    # applying consumed events to the accumulator lazily, per batch; ``_exhausted`` says the end was
    # accepted. Batches fetched but not consumed stay queued, so a consumer that stops part way (a
    # ``break``) loses nothing and resumes later.

    def _poll_batches(self) -> list[Batch] | None:
        """Fetch side, in the stream's own thread: every batch already buffered, without waiting.

        Returns:
            The batches in order; ``None`` when none is buffered yet (wait with
            :meth:`_receive_batches`); ``[]`` once the channel has ended or the stream was closed.
        """
        batches: list[Batch] = []
        receive = self._receive
        try:
            while True:
                batch = receive.receive_nowait()
                batch.open = False  # from now on it is the consumer's
                batches.append(batch)
        except trio.WouldBlock:
            return batches or None
        except (trio.EndOfChannel, trio.ClosedResourceError):
            return batches

    async def _receive_batches(self, *, drain: bool) -> list[Batch]:
        """Fetch side, in the stream's own thread: wait for the next batch.

        Args:
            drain: also take every batch buffered behind it (one round trip for the sync wrapper).

        Returns:
            At least one batch, in order; ``[]`` once the channel has ended or the stream was closed.

        Cancellation:
            Safe: a cancelled wait takes nothing from the channel.
        """
        try:
            first = await self._receive.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            return []
        first.open = False
        if not drain:
            return [first]
        rest = self._poll_batches()
        return [first, *rest] if rest else [first]

    def _accept(self, batches: list[Batch]) -> None:
        """Consumer side: queue fetched batches; ``[]`` marks the end of the stream.

        Raises:
            TrioDirectError: at the end, the error the stream failed with, unchanged.
        """
        if batches:
            self._backlog.extend(batches)
            return
        self._exhausted = True
        if self._outcome.error is not None:
            # Raised as it is, its __cause__ (the transport error behind it, say) included.
            raise self._outcome.error

    def _next_event(self) -> ModelResponseStreamEvent | None:
        """Consumer side: the next event of the batches already fetched, or ``None`` if there is none."""
        while self._pos >= len(self._events):
            if not self._backlog:
                return None
            self._take(self._backlog.pop(0))
        event = self._events[self._pos]
        self._pos += 1
        return event

    @property
    def _exhausted_early(self) -> bool:
        """Consumer side: the channel ended, but the pump neither finished nor failed (it was cancelled)."""
        return self._exhausted and not self._outcome.completed and self._outcome.error is None

    def _next_is_end(self) -> bool:
        """Consumer side: every fetched event was handed out."""
        return self._pos >= len(self._events) and not self._backlog

    def _take(self, batch: Batch) -> None:
        """Make ``batch`` the current one, first applying what was consumed of the previous one."""
        self._sync_acc()
        self._events = batch.events
        self._meta = batch.meta
        self._pos = self._applied = 0

    def _sync_acc(self) -> None:
        """Bring the accumulator up to the events handed out so far."""
        if self._applied < self._pos:
            self._acc.apply_all(self._events[self._applied : self._pos])
            self._applied = self._pos

    async def _anext_foreign(self, feed: ForeignFeed) -> ModelResponseStreamEvent:
        """:meth:`__anext__` for a consumer on another event loop (asyncio): ``feed`` fetches the batches.

        The same batch protocol as the other consumers: ``feed.fetch()`` runs the fetch side in the
        portal (waiting, then draining what is buffered) and this side accepts and hands out events.
        """
        if self._closed and not self._exhausted:
            raise feed.closed_error()
        while (event := self._next_event()) is None:
            if self._exhausted:
                raise StopAsyncIteration
            self._accept(await feed.fetch())  # at the end, raises the error the stream failed with
            if self._exhausted_early:
                # Ended without finishing and without an error: closed under the consumer.
                raise feed.closed_error()
        return event

    # -- state -------------------------------------------------------------------------------

    def get(self) -> ModelResponse:
        """The response as far as the caller has iterated.

        ``state`` is ``'complete'`` once the stream ended normally, ``'interrupted'`` if it was
        cancelled, else ``'incomplete'`` (a provider may set ``'suspended'``).
        """
        self._sync_acc()
        meta = self._meta
        if meta.state is not None:
            state: ModelResponseState = meta.state
        elif self._exhausted and self._outcome.completed and self._next_is_end():
            state = "complete"
        elif self._cancelled:
            state = "interrupted"
        else:
            state = "incomplete"
        return ModelResponse(
            self._acc.get_parts(),
            usage=meta.usage,
            model_name=meta.model_name,
            timestamp=meta.timestamp,
            provider_name=meta.provider_name,
            provider_url=meta.provider_url,
            canonical_system=meta.canonical_system,
            provider_details=meta.provider_details,
            provider_response_id=meta.provider_response_id,
            finish_reason=meta.finish_reason,
            metadata=meta.metadata,
            failed_attempts=self.failed_attempts,
            state=state,
        )

    @property
    def usage(self) -> RequestUsage:
        """Token usage so far (final once the stream has ended).

        A property, as in pydantic-ai 2.68; ``stream.usage()`` works too, because calling a
        :class:`RequestUsage` returns it (the seed API spelled it as a method).
        """
        return self._meta.usage

    @property
    def model_name(self) -> str | None:
        return self._meta.model_name

    @property
    def provider_name(self) -> str | None:
        return self._meta.provider_name

    @property
    def provider_url(self) -> str | None:
        return self._meta.provider_url

    @property
    def timestamp(self) -> datetime:
        return self._meta.timestamp

    @property
    def finish_reason(self) -> FinishReason | None:
        return self._meta.finish_reason

    @property
    def provider_response_id(self) -> str | None:
        return self._meta.provider_response_id

    # -- closing -----------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Stop the stream now: the pump is cancelled and the connection closed; ``get()`` says interrupted.

        Cancellation:
            Does not block; safe to call more than once.
        """
        if not self._exhausted:
            self._cancelled = True
        if self._foreign is not None:
            await self._foreign.close()  # the channel and the pump live in the portal thread
            return
        self._close()
        await trio.lowlevel.checkpoint()

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._cancel_scope.cancel()
        self._receive.close()

    def __repr__(self) -> str:
        self._sync_acc()
        return f"StreamedResponse(model_name={self.model_name!r}, parts={len(self._acc.get_parts())})"


# ---------------------------------------------------------------------------------------------
# HTTP models
# ---------------------------------------------------------------------------------------------


class HTTPModel(Model):
    """A model spoken to over HTTP with SSE streaming; a provider module fills in three pure hooks
    and one class attribute. Every hook receives the call's merged settings (the model's defaults
    under the per-call ones), so a per-call setting reaches the body, the parser and the mapper alike.

    * :meth:`build_request` — messages, settings and parameters → :class:`HTTPRequest`;
    * :meth:`parse_response` — a 2xx body and its headers → :class:`ModelResponse`;
    * :meth:`stream_mapper` — a new :class:`StreamMapper` for one stream;
    * :attr:`http_error` — a 4xx/5xx → the exception to raise.
    """

    def __init__(self, model_name: str, *, provider: Provider, settings: ModelSettings | None = None) -> None:
        super().__init__(settings=settings)
        self._model_name = model_name
        self.provider = provider

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return self.provider.name

    @property
    def base_url(self) -> str:
        return self.provider.base_url

    @abstractmethod
    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        """The request to send (pure)."""

    @abstractmethod
    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        """The response for a 2xx body (pure); ``settings`` are the call's merged settings.

        Raises:
            UnexpectedModelBehavior: the body cannot be understood; the message quotes it.
        """

    @abstractmethod
    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> StreamMapper:
        """A fresh mapper for one stream (pure); ``settings`` are the call's merged settings."""

    #: The exception for a 4xx/5xx response, called as ``http_error(status, headers, body,
    #: model_name)``; OpenAI-style bodies by default. A provider sets its module's function here
    #: (``http_error = staticmethod(anthropic_http_error)``).
    http_error: staticmethod[[int, Mapping[str, str], bytes, str], Exception] = staticmethod(
        _http.default_http_error
    )

    @staticmethod
    def _with_timeout(
        request: _http.HTTPRequest, settings: ModelSettings, *, read: float | None = None
    ) -> _http.HTTPRequest:
        # `timeout` (and for streams the inactivity override) become httpx per-operation limits.
        timeout = _http.to_timeout(settings.get("timeout"), read=read)
        limits = _limits.ResponseLimits.from_settings(settings)  # hardening: size limits
        if limits is not request.limits:
            request = attrs.evolve(request, limits=limits)
        if timeout is None or request.timeout is not None:
            return request
        return attrs.evolve(request, timeout=timeout)

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """The token-counting request for what :meth:`build_request` would send (pure).

        A provider with a count endpoint overrides this and :meth:`parse_count_tokens`.

        Raises:
            NotSupportedError: the provider has no count endpoint (the default).
        """
        raise _unsupported_token_counting(self)

    def parse_count_tokens(self, body: bytes, headers: Mapping[str, str]) -> RequestUsage:
        """The usage for a 2xx body of the count endpoint (pure).

        Raises:
            UnexpectedModelBehavior: the body cannot be understood; the message quotes it.
        """
        raise _unsupported_token_counting(self)

    async def count_tokens(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> RequestUsage:
        """Count a request's input tokens on the provider's count endpoint (see :meth:`Model.count_tokens`).

        Settings and parameters are prepared as for :meth:`request`, the ``timeout`` setting included;
        errors are those :meth:`request` raises for the same statuses.

        Raises:
            NotSupportedError: the provider has no count endpoint.
            UserError: the request cannot be built (as :meth:`request` would raise).
            ModelHTTPError: the provider answered 4xx/5xx (a categorized subclass).
            ModelConnectionError: the provider could not be reached or the connection broke.
            UnexpectedModelBehavior: the reply could not be understood.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        request = self._with_timeout(self.build_count_tokens_request(messages, settings, params), settings)
        try:
            if (token := self.provider.token) is not None:
                request = await _authorized(request, token, self._model_name)
            _, headers, body = await _http.send(
                request, model_name=self._model_name, error_builder=self.http_error
            )
            return self.parse_count_tokens(body, headers)
        except TrioDirectError as exc:
            # A server may echo the API key in an error body; the caller never sees it.
            _http.redact_error(exc, _http.credentials_of(request))
            raise

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send a non-streamed request and parse the reply.

        Raises:
            ModelHTTPError: the provider answered 4xx/5xx (a categorized subclass).
            ModelConnectionError: the provider could not be reached or the connection broke.
            UnexpectedModelBehavior: the reply could not be understood.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        request = self._with_timeout(self.build_request(messages, settings, params, stream=False), settings)
        try:
            if (token := self.provider.token) is not None:
                request = await _authorized(request, token, self._model_name)
            _, headers, body = await _http.send(
                request, model_name=self._model_name, error_builder=self.http_error
            )
            _untrusted.check_nesting(body, "the response body")  # hardening: whatever is accepted serializes
            response = self.parse_response(body, headers, params, settings)
            _untrusted.check_parts_serialize(response.parts)
            return response
        except TrioDirectError as exc:
            # A server may echo the API key in an error body; the caller never sees it.
            _http.redact_error(exc, _http.credentials_of(request))
            raise

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        request = self._with_timeout(
            self.build_request(messages, settings, params, stream=True),
            settings,
            read=settings.get("stream_inactivity_timeout"),
        )
        parts = PartsManager()
        source = SSEEventSource(
            request,
            self.stream_mapper(params, parts, settings),
            parts,
            model_name=self._model_name,
            error_builder=self.http_error,
            token=self.provider.token,
        )
        return open_event_stream(source, params)


async def _authorized(
    request: _http.HTTPRequest, token: BearerTokenSource, model_name: str
) -> _http.HTTPRequest:
    """``request`` with the bearer token ``token`` gives now (see :class:`Provider`)."""
    return attrs.evolve(request, headers=await token.authorize(request.headers, model_name=model_name))
