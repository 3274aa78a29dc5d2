"""A test-side encoder for ``application/vnd.amazon.eventstream`` (the decoder under test is
``trio_direct._aws.eventstream``), and a loopback reply that streams encoded messages one per chunk."""

from __future__ import annotations

import datetime
import struct
import uuid
import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from .loopback import Chunk, Finish, Head, Reply, Sleep

HeaderValue = bool | int | bytes | str | datetime.datetime | uuid.UUID
#: An int header with an explicit wire type: (type code 2-5, value).
TypedInt = tuple[int, int]
_INT_FORMATS = {2: ">b", 3: ">h", 4: ">i", 5: ">q"}


def encode_header(name: str, value: HeaderValue | TypedInt) -> bytes:
    raw_name = name.encode()
    out = struct.pack(">B", len(raw_name)) + raw_name
    if isinstance(value, bool):
        return out + struct.pack(">B", 0 if value else 1)
    if isinstance(value, tuple):
        kind, number = value
        return out + struct.pack(">B", kind) + struct.pack(_INT_FORMATS[kind], number)
    if isinstance(value, int):
        return out + struct.pack(">B", 4) + struct.pack(">i", value)
    if isinstance(value, bytes):
        return out + struct.pack(">BH", 6, len(value)) + value
    if isinstance(value, str):
        data = value.encode()
        return out + struct.pack(">BH", 7, len(data)) + data
    if isinstance(value, datetime.datetime):
        millis = round((value - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)).total_seconds() * 1000)
        return out + struct.pack(">Bq", 8, millis)
    return out + struct.pack(">B", 9) + value.bytes


def encode_message(headers: Mapping[str, HeaderValue | TypedInt], payload: bytes) -> bytes:
    """One event-stream message with correct lengths and CRCs."""
    header_bytes = b"".join(encode_header(k, v) for k, v in headers.items())
    total = 12 + len(header_bytes) + len(payload) + 4
    prelude = struct.pack(">II", total, len(header_bytes))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + header_bytes + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str, payload: Any) -> bytes:
    """A Bedrock ``event`` message with a JSON payload (plus the padding field ``p`` Bedrock adds)."""
    data = orjson.dumps({**payload, "p": "abcdefgh"}) if isinstance(payload, dict) else orjson.dumps(payload)
    return encode_message(
        {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}, data
    )


def exception(exception_type: str, message: str) -> bytes:
    """A Bedrock ``exception`` message."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        orjson.dumps({"message": message}),
    )


def text_stream(texts: Sequence[str], *, stop_reason: str = "end_turn", usage: Any = None) -> list[bytes]:
    """The messages of a plain text ConverseStream reply."""
    out = [event("messageStart", {"role": "assistant"})]
    out += [event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": t}}) for t in texts]
    out.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    out.append(event("messageStop", {"stopReason": stop_reason}))
    out.append(
        event(
            "metadata",
            {
                "usage": usage
                or {"inputTokens": 5, "outputTokens": len(texts), "totalTokens": 5 + len(texts)},
                "metrics": {"latencyMs": 10},
            },
        )
    )
    return out


def eventstream_reply(
    messages: Iterable[bytes], *, delay: float = 0.0, then: Sequence[Any] | None = None, status: int = 200
) -> Reply:
    """A chunked ``application/vnd.amazon.eventstream`` response, one message per chunk."""
    actions: list[Any] = [
        Head(
            status, (("content-type", "application/vnd.amazon.eventstream"), ("transfer-encoding", "chunked"))
        )
    ]
    for i, message in enumerate(messages):
        if delay and i:
            actions.append(Sleep(delay))
        actions.append(Chunk(message))
    actions += list(then) if then is not None else [Finish()]
    return Reply(tuple(actions))
