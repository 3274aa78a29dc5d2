"""An incremental, sans-IO decoder for Server-Sent Events (``text/event-stream``).

Every streamed provider response (OpenAI, Anthropic, Gemini, ...) arrives as an SSE byte stream.
:class:`SSEDecoder` turns those bytes into :class:`ServerSentEvent` values following the WHATWG
"event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

It does no I/O, in the style of h11: the caller pushes bytes in with :meth:`SSEDecoder.feed` as they
arrive from the network and gets back the events those bytes completed, then calls
:meth:`SSEDecoder.close` at end of stream. Keeping it sans-IO means the same decoder serves the async
stream pump and the sync portal path, and it can be tested exhaustively without sockets.

Chunks may be split at any byte: inside a ``CRLF`` pair, inside the leading byte order mark, inside a
multi-byte UTF-8 character. Bytes are decoded to text only once whole lines are known, and invalid
UTF-8 becomes U+FFFD rather than an exception.

The decoder sits on the hot path of every streamed delta, so the common case (``LF`` line ends, one
``data:`` line per event, whole events per chunk) is handled with C-level ``bytes``/``str`` methods over
all complete lines at once; Python-level work is per line, never per byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, final

import attrs
import orjson

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "EventTooLarge", "SSEDecoder", "ServerSentEvent"]

#: The default bound on one line and on one event's data (see ``trio_direct._limits``, which passes
#: the request's ``max_response_bytes``). A server can otherwise make the decoder buffer without end
#: by never sending a newline, or by sending ``data:`` lines without the blank line that ends an event.
DEFAULT_MAX_EVENT_SIZE: Final = 64 * 1024 * 1024


class EventTooLarge(ValueError):
    """A line or an event grew past the decoder's ``max_event_size``; the decoder is unusable after it.

    Attributes:
        limit: the decoder's ``max_event_size``.
        seen: the size reached (bytes of an unfinished line, or characters of an event's data).
    """

    def __init__(self, limit: int, seen: int) -> None:
        self.limit = limit
        self.seen = seen
        super().__init__(f"a server-sent event line or event grew to {seen} bytes, past the limit of {limit}")


_BOM: Final = b"\xef\xbb\xbf"

#: What one buffered data line costs besides its characters (a str object and a list slot): counted
#: into an event's size so that a flood of short ``data:`` lines is bounded by memory, not by text.
_LINE_COST: Final = 64


@attrs.frozen(slots=True)
class ServerSentEvent:
    """One dispatched server-sent event.

    Attributes:
        event: The event type from the ``event:`` field (Anthropic's ``content_block_delta``, ...), or
            ``None`` when the event had no ``event:`` field or an empty one. The spec calls that type
            ``"message"``; ``None`` lets callers tell the two apart.
        data: The ``data:`` lines of the event joined with ``"\\n"``.
        id: The stream's last event ID when this event was dispatched. As the spec says, an ``id:``
            field persists for later events until another ``id:`` replaces it; ``None`` until the
            stream sends one (an empty ``id:`` resets it to ``""``).
        retry: The reconnection time in milliseconds from a valid ``retry:`` field in this event's
            block, else ``None``.
    """

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None

    def json(self) -> Any:
        """Parse :attr:`data` as JSON.

        Returns:
            The decoded JSON value.

        Raises:
            orjson.JSONDecodeError: ``data`` is not valid JSON (OpenAI's ``[DONE]`` sentinel, for
                one). It is a subclass of :class:`ValueError`.
        """
        return orjson.loads(self.data)


# ServerSentEvent's attrs-generated __init__ stores each field through object.__setattr__ (the class is
# frozen), which costs more than the rest of decoding an event. The decoder builds events on its hot
# path with the C-level slot descriptors instead. It is exactly equivalent because no field has a
# default factory, converter, validator or on_setattr hook; tests/test_sse.py asserts that.
_NEW_EVENT: Final[
    tuple[
        Callable[[type[ServerSentEvent]], ServerSentEvent],
        Callable[[ServerSentEvent, str | None], None],
        Callable[[ServerSentEvent, str], None],
        Callable[[ServerSentEvent, str | None], None],
        Callable[[ServerSentEvent, int | None], None],
    ]
] = (
    object.__new__,
    *(vars(ServerSentEvent)[f.name].__set__ for f in attrs.fields(ServerSentEvent)),
)


@final
class SSEDecoder:
    """Decode an SSE byte stream incrementally, without doing any I/O.

    Feed network chunks with :meth:`feed` and collect the events each call returns; call
    :meth:`close` once at end of stream to flush a final event the server did not terminate with a
    blank line. A decoder serves exactly one stream.

    Args:
        max_event_size: The most an unfinished line (bytes) or one pending event may hold (its data
            characters plus 64 per data line, what buffering a line costs); past it :meth:`feed`
            raises :class:`EventTooLarge`. Memory stays bounded by about this plus one chunk,
            whatever the server sends.

    Attributes:
        comments_seen: How many comment lines (``:`` first) the stream has carried so far. Servers
            send them as heartbeats; the decoder otherwise ignores them.
    """

    __slots__ = (
        "_bom_pending",
        "_closed",
        "_data",
        "_data_size",
        "_event",
        "_event_retry",
        "_head",
        "_irregular",
        "_last_event_id",
        "_max",
        "_pending_cr",
        "_retry",
        "_tail",
        "_tail_size",
        "comments_seen",
    )

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.comments_seen: int = 0
        self._max = max_event_size
        # Bytes of an unfinished line. A list so that one long line fed in many small chunks is
        # joined once (linear) instead of re-concatenated on every chunk (quadratic).
        self._tail: list[bytes] = []
        self._tail_size = 0
        # The previous chunk ended in CR: an LF opening the next chunk belongs to the same line end.
        self._pending_cr = False
        # Until three bytes have arrived we cannot tell whether the stream opens with a BOM.
        self._bom_pending = True
        self._head: bytes = b""
        self._closed = False
        # Any of the three above needs the slow path in feed(); one flag keeps the fast path to one test.
        self._irregular = True
        # Per-event buffers of the spec.
        self._event: str | None = None
        self._data: list[str] = []
        self._data_size = 0  # what _data holds (see _LINE_COST): a pending event is bounded like a line
        self._event_retry: int | None = None
        # Stream-wide state: it survives dispatch.
        self._last_event_id: str | None = None
        self._retry: int | None = None

    @property
    def last_event_id(self) -> str | None:
        """The last ``id:`` the stream set (a reconnecting client sends it as ``Last-Event-ID``)."""
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The latest reconnection time in milliseconds the stream asked for, else ``None``."""
        return self._retry

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Push the next chunk of the stream's bytes.

        Args:
            chunk: Bytes exactly as read from the network; any split point is fine, and an empty
                chunk is a no-op.

        Returns:
            The events completed by this chunk, in stream order (often none, often several).

        Raises:
            RuntimeError: The decoder was already closed.
            EventTooLarge: An unfinished line or the pending event grew past ``max_event_size``.
        """
        if self._irregular:
            chunk = self._prepare(chunk)
        if chunk.endswith(b"\n") and not self._tail:
            # The common case: the chunk ends on a line end and nothing is left over from before.
            complete = chunk
        else:
            # Everything up to the last line end is whole lines; the rest waits for the next chunk.
            end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) + 1
            if not end:
                if chunk:
                    self._tail.append(chunk)
                    self._tail_size += len(chunk)
                    if self._tail_size > self._max:
                        raise EventTooLarge(self._max, self._tail_size)
                return []
            if self._tail:
                self._tail.append(chunk[:end])
                complete = b"".join(self._tail)
                self._tail.clear()
                self._tail_size = 0
            else:
                complete = chunk[:end]
            if end < len(chunk):
                self._tail.append(chunk[end:])
                self._tail_size = len(chunk) - end
                if self._tail_size > self._max:
                    raise EventTooLarge(self._max, self._tail_size)
            elif complete[-1] == 0x0D:
                self._pending_cr = self._irregular = True
        # Decoding all complete lines at once equals decoding line by line: CR and LF are ASCII, so
        # the "replace" handler never swallows one into a U+FFFD.
        text = complete.decode("utf-8", "replace")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        new, set_event, set_data, set_id, set_retry = _NEW_EVENT
        if text.startswith("data:") and text.find("\n") == len(text) - 2 and not self._data:
            # The commonest chunk of all: exactly one event, a single data line and the blank line.
            if len(text) > self._max:
                raise EventTooLarge(self._max, len(text))
            sse = new(ServerSentEvent)
            set_event(sse, self._event)
            set_data(sse, text[6:-2] if text.startswith(" ", 5) else text[5:-2])
            set_id(sse, self._last_event_id)
            set_retry(sse, self._event_retry)
            self._event = self._event_retry = None
            return [sse]
        lines = text.split("\n")
        lines.pop()  # the empty string after the final line end
        events: list[ServerSentEvent] = []
        data = self._data
        data_size = self._data_size
        limit = self._max
        event = self._event
        event_retry = self._event_retry
        for line in lines:
            if not line:
                if data:
                    if data_size > limit:
                        raise EventTooLarge(limit, data_size)
                    # Equivalent to ServerSentEvent(event, data, id, retry), at ~40% of the cost.
                    sse = new(ServerSentEvent)
                    set_event(sse, event)
                    set_data(sse, "\n".join(data))
                    set_id(sse, self._last_event_id)
                    set_retry(sse, event_retry)
                    events.append(sse)
                    data = []
                    data_size = 0
                event = None
                event_retry = None
            elif line.startswith("data:"):
                # The common line gets the cheapest test; the general rules follow below.
                data.append(value := line[6:] if line.startswith(" ", 5) else line[5:])
                data_size += len(value) + _LINE_COST
            elif line.startswith("event:"):  # Anthropic names every event
                event = (line[7:] if line.startswith(" ", 6) else line[6:]) or None
            elif line[0] == ":":
                self.comments_seen += 1
            else:
                name, colon, value = line.partition(":")
                if colon and value.startswith(" "):
                    value = value[1:]
                if name == "event":
                    event = value or None
                elif name == "data":  # "data" with no colon: an empty data line
                    data.append(value)
                    data_size += len(value) + _LINE_COST
                elif name == "id":
                    if "\x00" not in value:
                        self._last_event_id = value
                elif name == "retry" and value.isascii() and value.isdigit():
                    try:
                        event_retry = self._retry = int(value)
                    except ValueError:  # more digits than sys.get_int_max_str_digits() allows
                        pass
        if data_size > limit:
            raise EventTooLarge(limit, data_size)
        self._data = data
        self._data_size = data_size
        self._event = event
        self._event_retry = event_retry
        return events

    def _prepare(self, chunk: bytes) -> bytes:
        """Handle the rare states before a chunk is split into lines.

        Returns:
            ``chunk`` without a leading BOM or an LF that completes a CRLF split across chunks;
            ``b""`` while the first bytes could still be the start of a BOM.

        Raises:
            RuntimeError: The decoder was already closed.
        """
        if self._closed:
            raise RuntimeError("this SSEDecoder is closed; use a new decoder for a new stream")
        if self._bom_pending:
            chunk = self._head + chunk
            if len(chunk) < 3 and _BOM.startswith(chunk):
                self._head = chunk
                return b""
            self._bom_pending = False
            self._head = b""
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if self._pending_cr and chunk:
            self._pending_cr = False
            if chunk[0] == 0x0A:
                chunk = chunk[1:]
        self._irregular = self._bom_pending or self._pending_cr
        return chunk

    def close(self) -> list[ServerSentEvent]:
        """Signal end of stream and flush what is left.

        The spec drops an event that is not followed by a blank line; like the official OpenAI and
        Anthropic SDKs, this decoder is lenient and dispatches it, treating the end of the stream as
        the end of the last line and of the last event. Calling ``close`` again returns ``[]``.

        Returns:
            The final event, if the stream ended in the middle of one that has data, else ``[]``.
        """
        if self._closed:
            return []
        # A CR that ended the last line must not swallow the LF fed here.
        self._pending_cr = False
        self._irregular = self._bom_pending
        # Finish a partial line, then a blank line dispatches whatever event is pending.
        events = self.feed(b"\n\n" if self._tail or self._head else b"\n")
        self._closed = self._irregular = True
        return events
