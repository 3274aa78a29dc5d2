"""trio_direct._aws.eventstream: the sans-IO ``application/vnd.amazon.eventstream`` decoder."""

from __future__ import annotations

import datetime
import struct
import uuid
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_direct._aws.eventstream import EventStreamDecoder, EventStreamError, EventStreamMessage
from trio_direct.exceptions import UnexpectedModelBehavior

from .eventstream import encode_message, event

_names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
).filter(lambda s: 0 < len(s.encode()) < 256)
_values = st.one_of(
    st.booleans(),
    st.tuples(st.just(2), st.integers(-128, 127)),
    st.tuples(st.just(3), st.integers(-(2**15), 2**15 - 1)),
    st.tuples(st.just(4), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.just(5), st.integers(-(2**63), 2**63 - 1)),
    st.binary(max_size=50),
    st.text(max_size=50),
    st.datetimes(
        min_value=datetime.datetime(1970, 1, 1),
        max_value=datetime.datetime(2200, 1, 1),
        timezones=st.just(datetime.UTC),
    ).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)),
    st.uuids(),
)
_messages = st.lists(
    st.tuples(st.dictionaries(_names, _values, max_size=5), st.binary(max_size=300)), max_size=6
)


def _expected(headers: dict[str, object]) -> dict[str, object]:
    return {k: v[1] if isinstance(v, tuple) else v for k, v in headers.items()}


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@settings(max_examples=150, deadline=None)
@given(_messages, st.lists(st.integers(min_value=0), max_size=30))
def test_any_chunking_decodes_the_same_messages(
    messages: list[tuple[dict[str, object], bytes]], cuts: list[int]
) -> None:
    wire = b"".join(encode_message(h, p) for h, p in messages)  # type: ignore[arg-type]
    decoder = EventStreamDecoder()
    decoded: list[EventStreamMessage] = []
    for piece in _split(wire, cuts):
        decoded += decoder.feed(piece)
    decoder.close()
    assert [(m.headers, m.payload) for m in decoded] == [(_expected(h), p) for h, p in messages]


def test_byte_by_byte() -> None:
    wire = event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hé"}}) * 3
    decoder = EventStreamDecoder()
    out: list[EventStreamMessage] = []
    for i in range(len(wire)):
        out += decoder.feed(wire[i : i + 1])
    decoder.close()
    assert len(out) == 3
    assert out[0].event_type == "contentBlockDelta"
    assert out[0].message_type == "event"
    assert b'"h\xc3\xa9"' in out[0].payload


def test_header_types() -> None:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=datetime.UTC)
    ident = uuid.UUID("12345678-1234-5678-1234-567812345678")
    headers = {
        "t": True,
        "f": False,
        "b": (2, -5),
        "s": (3, 300),
        "i": (4, -70000),
        "l": (5, 2**40),
        "bytes": b"\x00\x01",
        "str": "ünïcode",
        "ts": when,
        "id": ident,
    }
    [message] = EventStreamDecoder().feed(encode_message(headers, b"{}"))  # type: ignore[arg-type]
    assert message.headers == _expected(headers)  # type: ignore[arg-type]
    assert message.payload == b"{}"
    assert message.event_type is None and message.message_type is None


def test_empty_message() -> None:
    [message] = EventStreamDecoder().feed(encode_message({}, b""))
    assert message == EventStreamMessage({}, b"")


def _corrupt(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_prelude_crc_mismatch_is_typed() -> None:
    wire = _corrupt(event("messageStart", {"role": "assistant"}), 9)
    with pytest.raises(EventStreamError, match="prelude CRC"):
        EventStreamDecoder().feed(wire)


def test_message_crc_mismatch_is_typed() -> None:
    wire = event("messageStart", {"role": "assistant"})
    with pytest.raises(EventStreamError, match="message CRC") as info:
        EventStreamDecoder().feed(_corrupt(wire, len(wire) - 10))
    assert isinstance(info.value, UnexpectedModelBehavior)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=7))
def test_any_single_bit_flip_is_detected(position: int, bit: int) -> None:
    wire = event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "hello"}})
    at = position % len(wire)
    flipped = wire[:at] + bytes([wire[at] ^ (1 << bit)]) + wire[at + 1 :]
    decoder = EventStreamDecoder()
    with pytest.raises(EventStreamError):
        decoder.feed(flipped)
        decoder.close()


def test_oversized_message_is_refused_before_buffering() -> None:
    prelude = struct.pack(">II", 10_000_000, 0)
    prelude += struct.pack(">I", zlib.crc32(prelude))
    decoder = EventStreamDecoder(max_message_size=1_000_000)
    with pytest.raises(EventStreamError, match="exceeds the limit"):
        decoder.feed(prelude)


def test_impossible_lengths() -> None:
    prelude = struct.pack(">II", 20, 10)  # headers longer than the message can hold
    prelude += struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(EventStreamError, match="impossible lengths"):
        EventStreamDecoder().feed(prelude)


def test_unknown_header_type() -> None:
    headers = b"\x01x\x0a"  # name "x", type 10
    total = 12 + len(headers) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers
    wire = body + struct.pack(">I", zlib.crc32(body))
    with pytest.raises(EventStreamError, match="unknown value type 10"):
        EventStreamDecoder().feed(wire)


def test_header_running_past_its_block() -> None:
    headers = b"\x01x\x07\x00\x09abc"  # a string header claiming 9 bytes, 3 present
    total = 12 + len(headers) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers
    with pytest.raises(EventStreamError, match="runs past"):
        EventStreamDecoder().feed(body + struct.pack(">I", zlib.crc32(body)))


def test_truncated_stream_raises_on_close() -> None:
    wire = event("messageStart", {"role": "assistant"})
    decoder = EventStreamDecoder()
    assert decoder.feed(wire + wire[:20]) != []
    with pytest.raises(EventStreamError, match="ended inside a message"):
        decoder.close()


def test_json_body_is_not_an_event_stream() -> None:
    with pytest.raises(EventStreamError, match="not an AWS event stream"):
        EventStreamDecoder().feed(b'{"message": "The provided model identifier is invalid."}')


def test_max_message_size_must_be_sane() -> None:
    with pytest.raises(ValueError):
        EventStreamDecoder(max_message_size=4)
