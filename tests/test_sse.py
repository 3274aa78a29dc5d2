"""Tests for trio_direct._sse: the sans-IO Server-Sent Events decoder."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import attrs
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_direct._sse import EventTooLarge, ServerSentEvent, SSEDecoder

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    """Feed ``chunks`` to a fresh decoder, close it, and return every event."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events


def bytewise(stream: bytes) -> list[ServerSentEvent]:
    """Decode ``stream`` fed one byte at a time."""
    return decode(*(stream[i : i + 1] for i in range(len(stream))))


def split_at(stream: bytes, cuts: Sequence[int]) -> list[bytes]:
    """Split ``stream`` at the given offsets (sorted, deduplicated here)."""
    bounds = [0, *sorted(set(cuts)), len(stream)]
    return [stream[a:b] for a, b in itertools.pairwise(bounds)]


def _cuts(data: st.DataObject, stream: bytes) -> list[int]:
    """Chunk boundaries: random ones, sometimes plus one right after every CR."""
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    if data.draw(st.booleans()):
        cuts += [i + 1 for i, byte in enumerate(stream) if byte == 0x0D]
    return cuts


def msg(
    data: str, event: str | None = None, id: str | None = None, retry: int | None = None
) -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data, id=id, retry=retry)


# --- ServerSentEvent -------------------------------------------------------------------------------


def test_event_is_frozen_slotted_value() -> None:
    """ServerSentEvent is an immutable, slotted value compared by fields."""
    sse = ServerSentEvent(event="ping", data="x", id="1", retry=5)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        sse.data = "y"  # type: ignore[misc]
    assert not hasattr(sse, "__dict__")
    assert ServerSentEvent("ping", "x", "1", 5) == sse
    assert hash(ServerSentEvent("ping", "x", "1", 5)) == hash(sse)
    assert ServerSentEvent(None, "x") == ServerSentEvent(event=None, data="x", id=None, retry=None)


def test_event_json() -> None:
    """json() parses data with orjson; OpenAI's [DONE] sentinel is not JSON."""
    assert msg('{"a": [1, 2.5, null]}').json() == {"a": [1, 2.5, None]}
    with pytest.raises(orjson.JSONDecodeError):
        msg("[DONE]").json()
    with pytest.raises(ValueError):
        msg("").json()


def test_decoder_events_equal_constructed_events() -> None:
    """The decoder's fast constructor builds exactly what ServerSentEvent(...) builds.

    It bypasses the attrs __init__, which is only sound while no field has a default factory,
    converter, validator or on_setattr hook.
    """
    for field in attrs.fields(ServerSentEvent):
        assert field.converter is None
        assert field.validator is None
        assert field.on_setattr is None
        assert field.default is attrs.NOTHING or field.default is None
    [got] = decode(b"event: e\nid: 7\nretry: 9\ndata: d\n\n")
    want = ServerSentEvent("e", "d", "7", 9)
    assert got == want
    assert type(got) is ServerSentEvent
    assert repr(got) == repr(want)
    assert hash(got) == hash(want)


# --- line endings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_line_endings(eol: bytes) -> None:
    """LF, CRLF and CR all end lines."""
    stream = eol.join([b"event: a", b"data: 1", b"data: 2", b"", b"data: 3", b"", b""])
    expected = [msg("1\n2", event="a"), msg("3")]
    assert decode(stream) == expected
    assert bytewise(stream) == expected


def test_mixed_line_endings() -> None:
    """Different line endings can be mixed in one stream."""
    assert decode(b"data: a\rdata: b\r\ndata: c\n\rdata: d\r\n\n") == [msg("a\nb\nc"), msg("d")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    """A CR ending one chunk and an LF starting the next are one line end, not a blank line."""
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [msg("a\nb")]


def test_cr_at_chunk_end_followed_by_other_bytes() -> None:
    """A CR at the end of a chunk still ends the line when the next chunk does not start with LF."""
    assert decode(b"data: a\r", b"\r") == [msg("a")]
    assert decode(b"data: a\r", b"data: b\r\r") == [msg("a\nb")]
    # An empty chunk in between does not forget the pending CR.
    assert decode(b"data: a\r", b"", b"\ndata: b\n\n") == [msg("a\nb")]


def test_cr_cr_lf_is_blank_line() -> None:
    """CR, then CRLF: the second line is blank, so the event dispatches once."""
    assert decode(b"data: a\r\r\ndata: b\n\n") == [msg("a"), msg("b")]
    assert bytewise(b"data: a\r\r\ndata: b\n\n") == [msg("a"), msg("b")]


# --- BOM -------------------------------------------------------------------------------------------


def test_leading_bom_is_stripped() -> None:
    """A UTF-8 BOM at the start of the stream is dropped, even split across chunks."""
    stream = b"\xef\xbb\xbfdata: a\n\n"
    assert decode(stream) == [msg("a")]
    assert bytewise(stream) == [msg("a")]
    assert decode(b"\xef\xbb", b"\xbfdata: a\n", b"\n") == [msg("a")]


def test_bom_only_at_start() -> None:
    """A BOM later in the stream is data: here it makes the field name unknown, so it is ignored."""
    stream = b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n"
    assert decode(stream) == [msg("a")]
    assert decode(b"data: \xef\xbb\xbfb\n\n") == [msg("\ufeffb")]


def test_partial_bom_then_other_bytes() -> None:
    """Bytes that only start like a BOM are kept, and decode to a replacement character."""
    assert decode(b"\xef\xbb", b"\ndata: x\n\n") == [msg("x")]
    # Here they glue onto the field name, which is then unknown.
    assert decode(b"\xef\xbb", b"data: x\n\n") == []
    decoder = SSEDecoder()
    assert decoder.feed(b"\xef") == []
    assert decoder.feed(b"\xbb") == []
    assert decoder.feed(b"x\n") == []
    assert decoder.feed(b"data: 1\n\n") == [msg("1")]


def test_stream_that_is_only_a_bom_prefix() -> None:
    """A stream cut off inside a would-be BOM yields nothing and does not raise."""
    assert decode(b"\xef\xbb") == []
    assert decode(b"\xef\xbb\xbf") == []


# --- fields ----------------------------------------------------------------------------------------


def test_comments_are_ignored_and_counted() -> None:
    """Lines starting with a colon are comments: no event, but counted as heartbeats."""
    decoder = SSEDecoder()
    assert decoder.feed(b": ping\n\n:\n\n") == []
    assert decoder.feed(b"data: a\n: inside an event\n\n") == [msg("a")]
    assert decoder.comments_seen == 3


def test_multiline_data_joined_with_newline() -> None:
    """Several data lines join with LF, and empty data lines keep their place."""
    assert decode(b"data: a\ndata:\ndata: b\ndata: \n\n") == [msg("a\n\nb\n")]


def test_one_leading_space_stripped() -> None:
    """Exactly one space after the colon is dropped; other whitespace is kept."""
    assert decode(b"data:a\n\n") == [msg("a")]
    assert decode(b"data:  a \n\n") == [msg(" a ")]
    assert decode(b"data:\ta\n\n") == [msg("\ta")]
    assert decode(b"event:  e\ndata: x\n\n") == [msg("x", event=" e")]


def test_value_may_contain_colons() -> None:
    """Only the first colon separates the field name from the value."""
    assert decode(b'data: {"a": "b:c"}\n\n') == [msg('{"a": "b:c"}')]


def test_field_without_colon_has_empty_value() -> None:
    """A line without a colon is a field with an empty value."""
    assert decode(b"data\n\n") == [msg("")]
    assert decode(b"data\ndata\n\n") == [msg("\n")]
    assert decode(b"event\ndata: x\n\n") == [msg("x")]


def test_empty_data_is_dispatched_but_no_data_is_not() -> None:
    """``data:`` with an empty value is an event; a block without data lines is not."""
    assert decode(b"data:\n\n") == [msg("")]
    assert decode(b"data: \n\n") == [msg("")]
    # An event name alone is not dispatched, and it does not leak into the next event.
    assert decode(b"event: lonely\n\ndata: x\n\n") == [msg("x")]
    assert decode(b"\n\n\n") == []


def test_event_names() -> None:
    """The event field names the event; an empty name is the same as none."""
    stream = (
        b"event: message_start\ndata: {}\n\n"
        b'event: content_block_delta\ndata: {"delta": 1}\n\n'
        b"event:\ndata: plain\n\n"
        b"data: also plain\n\n"
    )
    assert [
        msg("{}", event="message_start"),
        msg('{"delta": 1}', event="content_block_delta"),
        msg("plain"),
        msg("also plain"),
    ] == decode(stream)


def test_last_event_wins_within_block() -> None:
    """A repeated event field overwrites the earlier one."""
    assert decode(b"event: a\nevent: b\ndata: x\n\n") == [msg("x", event="b")]


def test_id_persists_and_nul_is_ignored() -> None:
    """The last event ID carries over to later events; an id with NUL is ignored; empty resets it."""
    decoder = SSEDecoder()
    assert decoder.last_event_id is None
    assert decoder.feed(b"data: a\n\n") == [msg("a")]
    assert decoder.feed(b"id: 1\ndata: b\n\ndata: c\n\n") == [msg("b", id="1"), msg("c", id="1")]
    assert decoder.feed(b"id: 2\x003\ndata: d\n\n") == [msg("d", id="1")]
    assert decoder.feed(b"id: 4\n\n") == []  # not dispatched, but the id still changes
    assert decoder.feed(b"data: e\n\n") == [msg("e", id="4")]
    assert decoder.feed(b"id\ndata: f\n\n") == [msg("f", id="")]
    assert decoder.last_event_id == ""


def test_retry_only_ascii_digits() -> None:
    """retry takes effect only when its value is all ASCII digits, and belongs to its own event."""
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: 3000\ndata: a\n\n") == [msg("a", retry=3000)]
    assert decoder.retry == 3000
    assert decoder.feed(b"data: b\n\n") == [msg("b")]
    for bad in [b"", b"-1", b"1.5", b"10a", b" 10", b"\xd9\xa3", b"+1"]:
        assert decoder.feed(b"retry: " + bad + b"\ndata: c\n\n") == [msg("c")]
    assert decoder.retry == 3000
    assert decoder.feed(b"retry: 5\nretry: 007\ndata: d\n\n") == [msg("d", retry=7)]
    assert decoder.retry == 7


def test_retry_with_absurdly_many_digits_does_not_raise() -> None:
    """A retry value past Python's int-from-string limit is ignored, not an error."""
    assert decode(b"retry: " + b"9" * 10_000 + b"\ndata: x\n\n") == [msg("x")]


def test_unknown_fields_ignored() -> None:
    """Unknown field names (including case variants) are ignored."""
    assert decode(b"foo: bar\nDATA: no\nEvent: no\ndata: x\n\n") == [msg("x")]


def test_openai_stream_with_done() -> None:
    """An OpenAI Chat Completions stream ends with the ``[DONE]`` sentinel as plain data."""
    chunk = {"id": "c1", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    stream = b"data: " + orjson.dumps(chunk) + b"\n\ndata: [DONE]\n\n"
    events = decode(stream)
    assert [e.event for e in events] == [None, None]
    assert events[0].json() == chunk
    assert events[1].data == "[DONE]"


def test_anthropic_stream() -> None:
    """An Anthropic stream names every event and interleaves pings."""
    stream = (
        b'event: message_start\ndata: {"type": "message_start"}\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b"event: content_block_delta\r\n"
        b'data: {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "h\xc3\xa9"}}\r\n\r\n'
        b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
    )
    events = decode(stream)
    assert [e.event for e in events] == ["message_start", "ping", "content_block_delta", "message_stop"]
    assert events[2].json()["delta"]["text"] == "hé"
    assert bytewise(stream) == events


# --- UTF-8 -----------------------------------------------------------------------------------------


def test_utf8_split_inside_character() -> None:
    """Multi-byte characters split at any byte decode intact."""
    text = "héllo → 世界 😀"
    stream = b"event: \xc3\xa9\ndata: " + text.encode() + b"\n\n"
    expected = [msg(text, event="é")]
    assert bytewise(stream) == expected
    for cut in range(len(stream) + 1):
        assert decode(stream[:cut], stream[cut:]) == expected


def test_invalid_utf8_becomes_replacement_characters() -> None:
    """Invalid UTF-8 never raises; it decodes to U+FFFD, and line ends survive it."""
    assert decode(b"data: a\xffb\n\n") == [msg("a\ufffdb")]
    # A truncated sequence right before the line end does not swallow the LF.
    assert decode(b"data: a\xe2\x82\ndata: b\n\n") == [msg("a\ufffd\nb")]
    assert bytewise(b"data: \xc3\r\n\r\n") == [msg("\ufffd")]


# --- chunking and close ----------------------------------------------------------------------------


def test_events_returned_by_the_chunk_that_completes_them() -> None:
    """feed returns exactly the events its chunk completed."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a") == []
    assert decoder.feed(b"\n") == []
    assert decoder.feed(b"\ndata: b\n\ndata: c\n\ndata: d\n") == [msg("a"), msg("b"), msg("c")]
    assert decoder.feed(b"\n") == [msg("d")]


def test_long_line_in_many_chunks() -> None:
    """A line far longer than the chunks arrives whole."""
    value = "x" * 100_000
    stream = b"data: " + value.encode() + b"\n\n"
    assert decode(*split_at(stream, range(7, len(stream), 1000))) == [msg(value)]


def test_close_flushes_unterminated_event() -> None:
    """At EOF an event with data but no trailing blank line is still dispatched."""
    assert decode(b"data: a") == [msg("a")]
    assert decode(b"data: a\n") == [msg("a")]
    assert decode(b"data: a\r") == [msg("a")]
    assert decode(b"event: e\ndata: a\r\ndata: b") == [msg("a\nb", event="e")]
    assert decode(b"data: [DONE]") == [msg("[DONE]")]


def test_close_without_pending_event() -> None:
    """close yields nothing when no event is pending, and a second close is a no-op."""
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\n") == [msg("a")]
    assert decoder.close() == []
    assert decoder.close() == []
    assert decode(b"event: e\nid: 1") == []
    assert decode(b": comment") == []
    assert decode() == []


def test_feed_after_close_raises() -> None:
    """A closed decoder refuses more bytes, even empty ones."""
    decoder = SSEDecoder()
    decoder.close()
    with pytest.raises(RuntimeError, match="closed"):
        decoder.feed(b"data: a\n\n")
    with pytest.raises(RuntimeError, match="closed"):
        decoder.feed(b"")


# --- properties ------------------------------------------------------------------------------------

_LINE_TEXT = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]), max_size=12)
_EOLS = ["\n", "\r", "\r\n"]


@attrs.frozen
class _Block:
    """One event block of a generated stream: its fields, as the server meant them."""

    event: str | None
    data: list[str]
    id: str | None
    retry: int | None
    comments: list[str]


_blocks = st.builds(
    _Block,
    event=st.none() | _LINE_TEXT,
    data=st.lists(_LINE_TEXT, max_size=3),
    id=st.none() | _LINE_TEXT.filter(lambda s: "\x00" not in s),
    retry=st.none() | st.integers(0, 10**12),
    comments=st.lists(_LINE_TEXT, max_size=2),
)


@st.composite
def _encoded_streams(draw: st.DrawFn) -> tuple[bytes, list[ServerSentEvent], int]:
    """A stream of generated blocks with random line ends, and the events it must decode to."""
    blocks = draw(st.lists(_blocks, max_size=6))
    lines: list[str] = []
    expected: list[ServerSentEvent] = []
    last_id: str | None = None

    def field(name: str, value: str) -> None:
        # One optional space is stripped by the decoder, so a value that starts with a space needs it.
        space = " " if value.startswith(" ") else draw(st.sampled_from(["", " "]))
        lines.append(f"{name}:{space}{value}")

    for block in blocks:
        fields: list[tuple[str, str]] = [("data", d) for d in block.data]
        fields += [(":", c) for c in block.comments]
        if block.event is not None:
            fields.append(("event", block.event))
        if block.id is not None:
            fields.append(("id", block.id))
            last_id = block.id
        if block.retry is not None:
            fields.append(("retry", str(block.retry)))
        # Data lines keep their relative order; everything else may go anywhere.
        order = draw(st.permutations(range(len(fields))))
        data_order = iter(i for i in range(len(fields)) if fields[i][0] == "data")
        for i in order:
            name, value = fields[next(data_order) if fields[i][0] == "data" else i]
            if name == ":":
                lines.append(":" + value)
            else:
                field(name, value)
        lines.append("")
        if block.data:
            expected.append(ServerSentEvent(block.event or None, "\n".join(block.data), last_id, block.retry))

    # The last blank line may be missing: close() dispatches the pending event anyway.
    if draw(st.booleans()) and lines:
        lines.pop()
    out: list[str] = []
    prev_eol = ""
    for line in lines:
        eols = _EOLS
        if prev_eol == "\r" and not line:
            # CR + an empty line ended by LF would read as one CRLF and lose the blank line.
            eols = ["\r", "\r\n"]
        prev_eol = draw(st.sampled_from(eols))
        out.append(line + prev_eol)
    if draw(st.booleans()) and out:
        out[-1] = out[-1].rstrip("\r\n")  # and the stream may stop mid-line
    stream = "".join(out).encode()
    if draw(st.booleans()):
        stream = b"\xef\xbb\xbf" + stream
    comments = sum(len(b.comments) for b in blocks)
    return stream, expected, comments


def _run(chunks: Sequence[bytes]) -> tuple[list[ServerSentEvent], int, str | None, int | None]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.close())
    return events, decoder.comments_seen, decoder.last_event_id, decoder.retry


@PROPERTY_SETTINGS
@given(_encoded_streams(), st.data())
def test_property_generated_streams_any_chunking(
    encoded: tuple[bytes, list[ServerSentEvent], int], data: st.DataObject
) -> None:
    """Generated events survive encoding with random line ends and any chunking of the bytes."""
    stream, expected, comments = encoded
    cuts = _cuts(data, stream)
    whole = _run([stream])
    assert whole[0] == expected
    assert whole[1] == comments
    assert _run(split_at(stream, cuts)) == whole


_NASTY_TOKENS = st.sampled_from(
    [
        b"\r", b"\n", b"\r\n", b":", b" ", b"data", b"event", b"id", b"retry", b"0", b"9", b"\x00",
        b"\xef\xbb\xbf", b"\xef", b"\xc3", b"\xa9", b"\xe2\x82", b"\xf0\x9f\x98\x80", b"\xff", b"x",
    ]
)  # fmt: skip
# Line-shaped noise: a likely field name, maybe a colon and a space, a noisy value, any line end.
_NASTY_LINES = st.lists(
    st.tuples(
        st.sampled_from([b"data", b"event", b"id", b"retry", b"", b":", b"\xef\xbb\xbf", b"x"]),
        st.sampled_from([b":", b": ", b""]),
        st.lists(_NASTY_TOKENS, max_size=4).map(b"".join),
        st.sampled_from([b"\n", b"\r", b"\r\n", b""]),
    ).map(b"".join),
    max_size=20,
).map(b"".join)
_arbitrary_bytes = st.binary(max_size=200) | st.lists(_NASTY_TOKENS, max_size=60).map(b"".join) | _NASTY_LINES


@PROPERTY_SETTINGS
@given(_arbitrary_bytes, st.data())
def test_property_arbitrary_bytes_any_chunking(stream: bytes, data: st.DataObject) -> None:
    """Any bytes, chunked any way, never raise and decode exactly as when fed whole."""
    whole = _run([stream])
    assert _run(split_at(stream, _cuts(data, stream))) == whole
    assert _run([stream[i : i + 1] for i in range(len(stream))]) == whole


# --- size limits -------------------------------------------------------------------------------------


def _run_limited(chunks: Sequence[bytes], limit: int) -> tuple[list[ServerSentEvent], EventTooLarge | None]:
    """Decode with ``max_event_size=limit``; after each chunk the decoder's buffers must be bounded."""
    decoder = SSEDecoder(limit)
    events: list[ServerSentEvent] = []
    try:
        for chunk in chunks:
            events.extend(decoder.feed(chunk))
            held = decoder._tail_size + decoder._data_size  # pyright: ignore[reportPrivateUsage]
            assert decoder._tail_size <= limit and decoder._data_size <= limit, held  # pyright: ignore[reportPrivateUsage]
        events.extend(decoder.close())
    except EventTooLarge as exc:
        assert exc.limit == limit and exc.seen > limit
        return events, exc
    return events, None


def _largest(stream: bytes) -> int:
    """An upper bound on what the decoder must hold for ``stream``: its longest line or event."""
    text = stream.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    longest_line = max((len(line) for line in text.split(b"\n")), default=0)
    longest_event = max(
        (len(block) + 64 * (block.count(b"\n") + 1) for block in text.split(b"\n\n")), default=0
    )
    return max(longest_line, longest_event) + 3  # the BOM


@PROPERTY_SETTINGS
@given(_arbitrary_bytes | _encoded_streams().map(lambda e: e[0]), st.integers(1, 1000), st.data())
def test_property_limit_bounds_buffers_and_events(stream: bytes, limit: int, data: st.DataObject) -> None:
    """Any limit, any chunking: buffers stay within it, no event exceeds it, under it nothing changes."""
    chunks = split_at(stream, _cuts(data, stream))
    events, error = _run_limited(chunks, limit)
    assert all(len(event.data) <= limit for event in events)
    whole = _run([stream])[0]
    if error is None:
        assert events == whole
    else:
        assert events == whole[: len(events)]  # what came before the limit is exact
    if _largest(stream) <= limit:
        assert error is None


@PROPERTY_SETTINGS
@given(st.integers(1, 5000), st.integers(1, 300), st.sampled_from([b"data: ", b"", b":", b"data: x\n"]))
def test_property_endless_line_or_event_stops_at_the_limit(limit: int, piece: int, opener: bytes) -> None:
    """A line without end, or data lines without the blank line, fail once past the limit plus a chunk."""
    decoder = SSEDecoder(limit)
    fed = 0
    body = b"y" * piece if opener != b"data: x\n" else b"data: " + b"y" * piece + b"\n"
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(opener)
        while True:
            decoder.feed(body)
            fed += len(body)
            assert fed <= 2 * limit + 2 * len(body) + 16, "the decoder kept buffering past its limit"
    assert limit < info.value.seen <= limit + len(body) + len(opener) + 64


def test_default_limit_is_the_response_limit() -> None:
    from trio_direct._limits import DEFAULT_MAX_RESPONSE_BYTES
    from trio_direct._sse import DEFAULT_MAX_EVENT_SIZE

    assert DEFAULT_MAX_EVENT_SIZE == DEFAULT_MAX_RESPONSE_BYTES
    assert SSEDecoder()._max == DEFAULT_MAX_EVENT_SIZE  # pyright: ignore[reportPrivateUsage]
