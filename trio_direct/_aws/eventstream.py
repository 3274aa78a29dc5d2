"""An incremental, sans-IO decoder for AWS event streams (``application/vnd.amazon.eventstream``).

Bedrock's ``ConverseStream`` (and every other AWS streaming API) frames its events as binary
messages, each::

    total length   u32 big-endian   (the whole message, these 4 bytes and the trailing CRC included)
    headers length u32 big-endian
    prelude CRC    u32 big-endian   CRC32 of the 8 bytes above
    headers        name length u8, name (UTF-8), value type u8, value
    payload        total - headers - 16 bytes
    message CRC    u32 big-endian   CRC32 of everything before it

Header value types: 0 true, 1 false (no value bytes), 2 byte (i8), 3 short (i16), 4 integer (i32),
5 long (i64), 6 byte array and 7 string (u16 length + bytes), 8 timestamp (i64 milliseconds since the
epoch), 9 UUID (16 bytes).

:class:`EventStreamDecoder` works like :class:`trio_direct._sse.SSEDecoder`: push bytes in with
:meth:`~EventStreamDecoder.feed` as they arrive (split anywhere), get back the messages they completed,
and call :meth:`~EventStreamDecoder.close` at the end of the body. Both CRCs are checked, lengths are
bounded (a message larger than ``max_message_size`` is refused before it is buffered), and anything
malformed raises :class:`EventStreamError`, an :class:`~trio_direct.exceptions.UnexpectedModelBehavior`
that says what was wrong. Pure: no I/O, no clock.
"""

from __future__ import annotations

import datetime
import struct
import uuid
import zlib
from typing import Final, final

import attrs

from ..exceptions import UnexpectedModelBehavior

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "EventStreamDecoder",
    "EventStreamError",
    "EventStreamMessage",
    "HeaderValue",
]

#: Header values as decoded: bools, ints (types 2-5), bytes, str, an aware UTC datetime, a UUID.
HeaderValue = bool | int | bytes | str | datetime.datetime | uuid.UUID

#: Prelude (12 bytes) + message CRC (4 bytes): the smallest possible message.
_OVERHEAD: Final = 16
_PRELUDE: Final = 12
#: botocore's limits: 128 KiB of headers, 16 MiB of payload. Bedrock's events are a few hundred bytes.
MAX_HEADERS_SIZE: Final = 128 * 1024
DEFAULT_MAX_MESSAGE_SIZE: Final = 16 * 1024 * 1024 + MAX_HEADERS_SIZE + _OVERHEAD

_U32_PAIR: Final = struct.Struct(">II")
_U32: Final = struct.Struct(">I")
_I8: Final = struct.Struct(">b")
_I16: Final = struct.Struct(">h")
_I32: Final = struct.Struct(">i")
_I64: Final = struct.Struct(">q")
_U16: Final = struct.Struct(">H")
_EPOCH: Final = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


class EventStreamError(UnexpectedModelBehavior):
    """An ``application/vnd.amazon.eventstream`` body that cannot be decoded (bad CRC, bad length,
    a truncated message, an unknown header type...). The message says which check failed."""


@attrs.frozen(slots=True)
class EventStreamMessage:
    """One decoded event-stream message.

    Attributes:
        headers: header name → value, in the order they came (a repeated name keeps the last value).
        payload: the raw payload bytes (JSON for Bedrock's events).
    """

    headers: dict[str, HeaderValue]
    payload: bytes

    @property
    def message_type(self) -> str | None:
        """The ``:message-type`` header (``'event'``, ``'exception'`` or ``'error'``), if a string."""
        value = self.headers.get(":message-type")
        return value if isinstance(value, str) else None

    @property
    def event_type(self) -> str | None:
        """The ``:event-type`` header (``'contentBlockDelta'``...), if a string."""
        value = self.headers.get(":event-type")
        return value if isinstance(value, str) else None


def _decode_headers(data: bytes) -> dict[str, HeaderValue]:
    """The header block of one message.

    Raises:
        EventStreamError: a header runs past the block, has an unknown type or a non-UTF-8 name/string.
    """
    headers: dict[str, HeaderValue] = {}
    pos, end = 0, len(data)
    while pos < end:
        name_len = data[pos]
        pos += 1
        if name_len == 0 or pos + name_len + 1 > end:
            raise EventStreamError("event stream header name is empty or runs past the header block")
        try:
            name = data[pos : pos + name_len].decode("utf-8")
        except UnicodeDecodeError:
            raise EventStreamError("event stream header name is not UTF-8") from None
        pos += name_len
        kind = data[pos]
        pos += 1
        value: HeaderValue
        if kind == 0 or kind == 1:
            value = kind == 0
        elif kind in _FIXED:
            fmt = _FIXED[kind]
            if pos + fmt.size > end:
                raise EventStreamError(f"event stream header {name!r} runs past the header block")
            value = fmt.unpack_from(data, pos)[0]
            pos += fmt.size
        elif kind == 6 or kind == 7:
            if pos + 2 > end:
                raise EventStreamError(f"event stream header {name!r} runs past the header block")
            length = _U16.unpack_from(data, pos)[0]
            pos += 2
            if pos + length > end:
                raise EventStreamError(f"event stream header {name!r} runs past the header block")
            raw = data[pos : pos + length]
            pos += length
            if kind == 6:
                value = raw
            else:
                try:
                    value = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise EventStreamError(f"event stream header {name!r} is not UTF-8") from None
        elif kind == 8:
            if pos + 8 > end:
                raise EventStreamError(f"event stream header {name!r} runs past the header block")
            millis = _I64.unpack_from(data, pos)[0]
            pos += 8
            try:
                value = _EPOCH + datetime.timedelta(milliseconds=millis)
            except OverflowError:
                raise EventStreamError(
                    f"event stream header {name!r} holds an impossible timestamp"
                ) from None
        elif kind == 9:
            if pos + 16 > end:
                raise EventStreamError(f"event stream header {name!r} runs past the header block")
            value = uuid.UUID(bytes=bytes(data[pos : pos + 16]))
            pos += 16
        else:
            raise EventStreamError(f"event stream header {name!r} has an unknown value type {kind}")
        headers[name] = value
    return headers


_FIXED: Final[dict[int, struct.Struct]] = {2: _I8, 3: _I16, 4: _I32, 5: _I64}


@final
class EventStreamDecoder:
    """Bytes in, :class:`EventStreamMessage` values out.

    Args:
        max_message_size: the largest total length accepted; a bigger prelude raises
            :class:`EventStreamError` before anything of the message is buffered.
    """

    __slots__ = ("_buffer", "_max")

    def __init__(self, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        if max_message_size < _OVERHEAD:
            raise ValueError(f"max_message_size must be at least {_OVERHEAD}")
        self._buffer = bytearray()
        self._max = max_message_size

    def feed(self, data: bytes) -> list[EventStreamMessage]:
        """Add ``data`` (any split of the body) and return the messages it completed, in order.

        Raises:
            EventStreamError: a prelude or message CRC does not match, a length is impossible or above
                the limit, or a header cannot be decoded. The decoder is unusable afterwards.
        """
        buffer = self._buffer
        buffer += data
        out: list[EventStreamMessage] = []
        pos = 0
        size = len(buffer)
        while size - pos >= _PRELUDE:
            total, headers_len = _U32_PAIR.unpack_from(buffer, pos)
            prelude_crc = _U32.unpack_from(buffer, pos + 8)[0]
            if zlib.crc32(buffer[pos : pos + 8]) != prelude_crc:
                raise EventStreamError(
                    "event stream prelude CRC mismatch: the body is not an AWS event stream or is corrupt"
                )
            if total < _OVERHEAD or headers_len > total - _OVERHEAD:
                raise EventStreamError(
                    f"event stream message has impossible lengths (total {total}, headers {headers_len})"
                )
            if total > self._max:
                raise EventStreamError(
                    f"event stream message of {total} bytes exceeds the limit of {self._max} bytes"
                )
            if headers_len > MAX_HEADERS_SIZE:
                raise EventStreamError(
                    f"event stream headers of {headers_len} bytes exceed the limit of "
                    f"{MAX_HEADERS_SIZE} bytes"
                )
            if size - pos < total:
                break
            end = pos + total
            message_crc = _U32.unpack_from(buffer, end - 4)[0]
            if zlib.crc32(memoryview(buffer)[pos : end - 4]) != message_crc:
                raise EventStreamError("event stream message CRC mismatch: the message is corrupt")
            headers_start = pos + _PRELUDE
            payload_start = headers_start + headers_len
            headers = _decode_headers(bytes(buffer[headers_start:payload_start]))
            out.append(EventStreamMessage(headers, bytes(buffer[payload_start : end - 4])))
            pos = end
        if pos:
            del buffer[:pos]
        return out

    def close(self) -> None:
        """The body ended.

        Raises:
            EventStreamError: the body ended inside a message (the stream was cut short).
        """
        if self._buffer:
            left = len(self._buffer)
            self._buffer.clear()
            raise EventStreamError(f"the event stream ended inside a message ({left} bytes left over)")
