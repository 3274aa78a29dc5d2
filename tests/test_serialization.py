"""trio_direct.serialization: pydantic-ai 2.68's message JSON, both ways.

Four kinds of evidence: (a) the conformance goldens (pydantic-ai's own dumps of real provider traffic)
load and dump back unchanged; (b) pydantic-ai itself reads what we write and writes it back byte for
byte, and we read what it writes; (c) generated histories round-trip; (d) malformed input only ever
raises MessageFormatError.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies as tds
from trio_direct.events import (
    FinalResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
)
from trio_direct.exceptions import MessageFormatError, TrioDirectError
from trio_direct.messages import (
    AudioUrl,
    BinaryContent,
    BinaryImage,
    CachePoint,
    CompactionPart,
    DocumentUrl,
    FilePart,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryInfo,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
)
from trio_direct.serialization import (
    event_from_json,
    event_from_python,
    event_to_json,
    event_to_python,
    messages_from_json,
    messages_from_python,
    messages_to_json,
    messages_to_python,
    response_to_python,
)
from trio_direct.usage import RequestUsage

TS = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
GOLDENS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "goldens"


def pydantic_ai_messages() -> ModuleType:
    """pydantic-ai's messages module (the oracle), or skip the test."""
    return pytest.importorskip("pydantic_ai.messages")


@contextmanager
def quiet() -> Iterator[None]:
    """pydantic-ai 2.68 warns when a RetryPromptPart is built; the oracle's warnings are not ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def pydantic_round_trip(data: bytes) -> bytes:
    """What pydantic-ai writes after reading ``data``."""
    pm = pydantic_ai_messages()
    with quiet():
        return bytes(pm.ModelMessagesTypeAdapter.dump_json(pm.ModelMessagesTypeAdapter.validate_json(data)))


# ---------------------------------------------------------------------------------------------------
# (a) conformance goldens
# ---------------------------------------------------------------------------------------------------


def _golden_cases() -> list[Any]:
    if not GOLDENS.is_dir():
        return [
            pytest.param(None, marks=pytest.mark.skip(reason=f"no goldens at {GOLDENS}"), id="no-goldens")
        ]
    cases: list[Any] = []
    for path in sorted(GOLDENS.glob("**/*.json")):
        case_id = str(path.relative_to(GOLDENS))
        # Cases where pydantic-ai raised carry no messages; they are about errors, not JSON.
        if json.loads(path.read_bytes()).get("messages") is not None:
            cases.append(pytest.param(path, id=case_id))
    return cases


@pytest.mark.parametrize("path", _golden_cases())
def test_golden_messages_round_trip(path: Path) -> None:
    """Every golden history loads and dumps back equal to what pydantic-ai 2.68 wrote.

    No normalisation is needed. (The goldens are stored with sorted keys, so this compares values;
    key order is checked against pydantic-ai itself below.)
    """
    golden = json.loads(path.read_bytes())
    messages = messages_from_python(golden["messages"])
    assert golden["messages"] == messages_to_python(messages)
    assert golden["messages"] == json.loads(
        messages_to_json(messages_from_json(json.dumps(golden["messages"])))
    )


@pytest.mark.parametrize("path", _golden_cases())
def test_golden_events_round_trip(path: Path) -> None:
    """Every recorded stream event loads and dumps back equal."""
    events = json.loads(path.read_bytes()).get("events") or []
    assert events == [event_to_python(event_from_python(event)) for event in events]


# ---------------------------------------------------------------------------------------------------
# (b) pydantic-ai reads what we write, and we read what it writes
# ---------------------------------------------------------------------------------------------------


def full_history() -> list[ModelMessage]:
    """One of every request part, response part and user-content kind (retry prompts aside)."""
    image = BinaryContent(PNG, media_type="image/png")
    pdf = BinaryContent(b"%PDF-1.4", media_type="application/pdf")
    return [
        ModelRequest(
            [
                SystemPromptPart("You are terse.", timestamp=TS, dynamic_ref="ref", scope="request"),
                UserPromptPart("plain string prompt", timestamp=TS),
                UserPromptPart(
                    [
                        "text item",
                        TextContent("tagged text", metadata={"k": 1}),
                        ImageUrl("https://example.com/cat.png"),
                        ImageUrl(
                            "https://example.com/cat?size=2",
                            media_type="image/webp",
                            vendor_metadata={"detail": "low"},
                        ),
                        ImageUrl("https://example.com/no-extension"),
                        AudioUrl("https://example.com/a.mp3", force_download=True),
                        DocumentUrl(
                            "https://example.com/doc.pdf", identifier="doc1", force_download="allow-local"
                        ),
                        VideoUrl("https://youtu.be/abc"),
                        image,
                        pdf,
                        CachePoint(),
                        CachePoint(ttl="1h"),
                        UploadedFile("file-abc123", "openai"),
                        UploadedFile("file-img.png", "anthropic", identifier="up1"),
                    ],
                    timestamp=datetime(2026, 1, 2, 3, 4, 5),  # naive stays naive
                ),
                ToolReturnPart("get_weather", {"temp_c": 21}, "call_1", timestamp=TS),
                ToolReturnPart("get_time", "boom", "call_2", timestamp=TS, outcome="failed"),
                ToolReturnPart(
                    "get_img",
                    [
                        "here",
                        image,
                        ImageUrl("https://example.com/x.png"),
                        {"nested": [UploadedFile("f-1", "openai")]},
                    ],
                    "call_3",
                    timestamp=TS,
                    metadata={"m": [1, 2]},
                ),
                ToolReturnPart("scalar", 42, "call_4", timestamp=TS, tool_kind="custom", outcome="denied"),
                ToolReturnPart(
                    "retried",
                    [{"type": "int_parsing", "loc": ["x"], "msg": "bad", "input": "nope"}],
                    "call_5",
                    timestamp=TS,
                    outcome="retried",
                    retry=RetryInfo("validation_error", attempt=1, max_retries=3),
                ),
            ],
            timestamp=TS,
            instructions="Be helpful.",
            run_id="run-1",
            metadata={"app": True},
        ),
        ModelResponse(
            [
                ThinkingPart("Let me think", id="rs_1", signature="sig==", provider_name="anthropic"),
                TextPart("Calling tools.", provider_details={"x": 1}),
                ToolCallPart("get_weather", {"city": "Paris"}, "call_1"),
                ToolCallPart("get_time", '{"tz": "UTC"}', "call_2", id="fc_1"),
                ToolCallPart("no_args", None, "call_3"),
                NativeToolCallPart("web_search", {"query": "paris"}, "srv_1", provider_name="anthropic"),
                NativeToolReturnPart(
                    "web_search", [{"url": "https://x"}], "srv_1", timestamp=TS, provider_name="anthropic"
                ),
                FilePart(image, provider_name="openai"),
                FilePart(BinaryContent(b"RIFF", media_type="audio/wav")),
                CompactionPart("summary of earlier turns", provider_name="anthropic", metadata={"n": 1}),
                CompactionPart(None, provider_details={"encrypted": "xyz"}),
            ],
            usage=RequestUsage(
                input_tokens=100,
                cache_write_tokens=5,
                cache_read_tokens=30,
                output_tokens=20,
                audio_seconds=1.5,
                details={"reasoning_tokens": 12},
                cost=Decimal("0.00123"),
                extra={"web_searches": 2},
            ),
            model_name="gpt-5",
            timestamp=datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            provider_name="openai",
            provider_details={"finish_reason": "tool_calls"},
            provider_response_id="resp_1",
            finish_reason="tool_call",
            conversation_id="conv-1",
            state="incomplete",
        ),
    ]


def test_full_history_round_trips_through_pydantic_ai() -> None:
    """pydantic-ai reads our JSON of every kind and writes back exactly the same bytes."""
    ours = messages_to_json(full_history())
    assert pydantic_round_trip(ours) == ours


def test_full_history_round_trips_here() -> None:
    history = full_history()
    loaded = messages_from_json(messages_to_json(history))
    assert loaded == tds.narrowed(history)
    assert isinstance(loaded[1].parts[7].content, BinaryImage)  # type: ignore[union-attr]
    assert messages_to_json(loaded) == messages_to_json(history)


def test_json_details() -> None:
    """The details the format fixes: computed keys after ``kind``, bytes, timestamps, digests."""
    dumped = messages_to_python(full_history())
    request, response = dumped
    user = request["parts"][2]["content"]
    assert list(user[2]) == ["url", "force_download", "vendor_metadata", "kind", "media_type", "identifier"]
    assert user[2]["media_type"] == "image/png" and user[2]["identifier"] == "750ff4"
    assert user[4]["media_type"] is None  # nothing to infer from: null, not an error
    assert list(user[8]) == ["data", "media_type", "vendor_metadata", "kind", "identifier"]
    assert user[8]["data"] == base64.urlsafe_b64encode(PNG).decode()
    assert user[12]["media_type"] == "application/octet-stream"
    assert request["parts"][2]["timestamp"] == "2026-01-02T03:04:05"
    assert request["parts"][0]["timestamp"] == "2026-01-02T03:04:05.678901Z"
    assert response["timestamp"] == "2026-01-02T03:04:05+02:00"
    assert response["usage"]["cost"] == "0.00123"
    assert list(response["usage"])[-2:] == ["cost", "web_searches"]
    tool_returns = [p for p in request["parts"] if p["part_kind"] == "tool-return"]
    # Scalar content (a string, a number) carries no file record; anything else does, after part_kind.
    assert [list(p)[-1] for p in tool_returns] == ["content_file_digests", "part_kind"] * 2 + [
        "content_file_digests"
    ]
    assert tool_returns[0]["content_file_digests"] == []
    assert len(tool_returns[2]["content_file_digests"]) == 2  # the URL and the uploaded file, not the bytes
    assert (
        messages_to_python([ModelRequest([], timestamp=datetime(2026, 1, 1, tzinfo=UTC))])[0]["timestamp"]
        == "2026-01-01T00:00:00Z"
    )


def test_bytes_are_url_safe_base64_with_padding() -> None:
    content = BinaryContent(b"\xfb\xff", media_type="application/octet-stream")
    [message] = messages_to_python([ModelRequest([UserPromptPart([content], timestamp=TS)])])
    assert message["parts"][0]["content"][0]["data"] == "-_8="


@pytest.mark.parametrize("text", ["-_8=", "-_8", "+/8=", "+/8"])
def test_base64_either_alphabet_padded_or_not(text: str) -> None:
    item = {"data": text, "media_type": "application/octet-stream", "kind": "binary"}
    [message] = messages_from_python(
        [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": [item]}]}]
    )
    assert message.parts[0].content[0].data == b"\xfb\xff"  # type: ignore[union-attr, index]


def test_retry_prompts_load_in_pydantic_ai_as_the_parts_they_mean() -> None:
    """pydantic-ai 2.68 migrates a stored retry-prompt on load; we keep RetryPromptPart (documented) and
    translate it the same way only when it is sent.

    The JSON we write is the one pydantic-ai writes for the same part, so it reads it.
    """
    pm = pydantic_ai_messages()
    history = [
        ModelRequest(
            [
                RetryPromptPart("Try again", tool_name="get_weather", tool_call_id="c1", timestamp=TS),
                RetryPromptPart(
                    [{"type": "x", "loc": ["a"], "msg": "bad", "input": 1}], tool_call_id="c2", timestamp=TS
                ),
            ]
        )
    ]
    ours = messages_to_json(history)
    with quiet():
        theirs = pm.ModelMessagesTypeAdapter.dump_json(
            [
                pm.ModelRequest(
                    parts=[
                        pm.RetryPromptPart(
                            "Try again", tool_name="get_weather", tool_call_id="c1", timestamp=TS
                        ),
                        pm.RetryPromptPart(
                            [{"type": "x", "loc": ["a"], "msg": "bad", "input": 1}],
                            tool_call_id="c2",
                            timestamp=TS,
                        ),
                    ]
                )
            ]
        )
        loaded = pm.ModelMessagesTypeAdapter.validate_json(ours)
    assert ours == theirs
    assert messages_from_json(theirs) == history
    # what 2.68 loads it as is what we send in its place
    translated = [part.translated() for part in history[0].parts]  # type: ignore[union-attr]
    assert messages_to_json([ModelRequest(translated)]) == pydantic_round_trip(theirs)
    assert type(loaded[0].parts[0]).__name__ == "ToolReturnPart"
    assert loaded[0].parts[0].outcome == "retried"
    assert type(loaded[0].parts[1]).__name__ == "RetryFeedbackPart"


def _upstream_samples(pm: ModuleType) -> list[list[Any]]:
    """The samples of upstream-api.md §6.2, built with pydantic-ai itself."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    sample_a = [
        pm.ModelRequest(parts=[pm.UserPromptPart("What is the capital of France?", timestamp=TS)]),
        pm.ModelResponse(
            parts=[pm.TextPart("The capital of France is Paris.")],
            usage=pm.RequestUsage(input_tokens=56, output_tokens=7),
            model_name="claude-haiku-4-5",
            timestamp=TS,
            provider_name="anthropic",
            provider_url="https://api.anthropic.com",
            provider_details={"finish_reason": "end_turn"},
            provider_response_id="msg_01ABC",
            finish_reason="stop",
        ),
    ]
    sample_b = [
        pm.ModelRequest(
            parts=[
                pm.SystemPromptPart("You are terse.", timestamp=TS),
                pm.UserPromptPart("plain string prompt", timestamp=TS),
                pm.UserPromptPart(
                    [
                        "text item",
                        pm.TextContent("tagged text", metadata={"k": 1}),
                        pm.ImageUrl("https://example.com/cat.png"),
                        pm.AudioUrl("https://example.com/a.mp3"),
                        pm.DocumentUrl("https://example.com/doc.pdf", identifier="doc1"),
                        pm.VideoUrl("https://youtu.be/abc"),
                        pm.BinaryContent(png, media_type="image/png"),
                        pm.BinaryContent(b"%PDF-1.4", media_type="application/pdf"),
                        pm.CachePoint(),
                        pm.UploadedFile("file-abc123", "openai"),
                    ],
                    timestamp=TS,
                ),
            ],
            timestamp=TS,
            instructions="Be helpful.",
        )
    ]
    sample_c = [
        pm.ModelResponse(
            parts=[
                pm.ThinkingPart("Let me think", id="rs_1", signature="sig==", provider_name="anthropic"),
                pm.TextPart("Calling tools."),
                pm.ToolCallPart("get_weather", {"city": "Paris"}, "call_1"),
                pm.ToolCallPart("get_time", '{"tz": "UTC"}', "call_2"),
                pm.NativeToolCallPart("web_search", {"query": "paris"}, "srv_1", provider_name="anthropic"),
                pm.NativeToolReturnPart(
                    "web_search", [{"url": "https://x"}], "srv_1", timestamp=TS, provider_name="anthropic"
                ),
                pm.FilePart(pm.BinaryContent(png, media_type="image/png"), provider_name="openai"),
                pm.CompactionPart("summary of earlier turns", provider_name="anthropic"),
            ],
            usage=pm.RequestUsage(
                input_tokens=100,
                cache_write_tokens=5,
                cache_read_tokens=30,
                output_tokens=20,
                details={"reasoning_tokens": 12},
            ),
            model_name="gpt-5",
            timestamp=TS,
            provider_name="openai",
            finish_reason="tool_call",
            run_id="run-1",
            conversation_id="conv-1",
            metadata={"a": 1},
        )
    ]
    with quiet():
        sample_d = [
            pm.ModelRequest(
                parts=[
                    pm.ToolReturnPart("get_weather", {"temp_c": 21}, "call_1", timestamp=TS),
                    pm.ToolReturnPart("get_time", "boom", "call_2", timestamp=TS, outcome="failed"),
                    pm.ToolReturnPart(
                        "get_img",
                        ["here", pm.BinaryContent(png, media_type="image/png")],
                        "call_3",
                        timestamp=TS,
                    ),
                    pm.RetryPromptPart(
                        "Try again with a city name",
                        tool_name="get_weather",
                        tool_call_id="call_4",
                        timestamp=TS,
                    ),
                    pm.RetryPromptPart(
                        [
                            {
                                "type": "int_parsing",
                                "loc": ("x",),
                                "msg": "Input should be a valid integer",
                                "input": "nope",
                            }
                        ],
                        tool_name="get_weather",
                        tool_call_id="call_5",
                        timestamp=TS,
                    ),
                    pm.RetryPromptPart("Plain text not allowed", tool_call_id="x", timestamp=TS),
                ],
                timestamp=TS,
            )
        ]
    return [sample_a, sample_b, sample_c, sample_d]


@pytest.mark.parametrize("sample", ["A", "B", "C", "D"])
def test_upstream_samples_load_and_dump_back_identically(sample: str) -> None:
    """pydantic-ai's dump of each upstream-api.md §6 sample loads here and dumps back byte for byte."""
    pm = pydantic_ai_messages()
    history = _upstream_samples(pm)["ABCD".index(sample)]
    with quiet():
        theirs = bytes(pm.ModelMessagesTypeAdapter.dump_json(history))
    assert messages_to_json(messages_from_json(theirs)) == theirs
    assert messages_to_python(messages_from_python(json.loads(theirs))) == json.loads(theirs)


def test_upstream_sample_events_load_and_dump_back_identically() -> None:
    """Sample E: stream events as pydantic-ai's ModelResponseStreamEvent adapter writes them."""
    pm = pydantic_ai_messages()
    import pydantic

    adapter: Any = pydantic.TypeAdapter(pm.ModelResponseStreamEvent)
    upstream = [
        pm.PartStartEvent(index=0, part=pm.TextPart("Hel")),
        pm.PartDeltaEvent(index=0, delta=pm.TextPartDelta("lo")),
        pm.PartEndEvent(index=0, part=pm.TextPart("Hello"), next_part_kind="tool-call"),
        pm.PartStartEvent(index=1, part=pm.ToolCallPart("f", '{"a"', "c1"), previous_part_kind="text"),
        pm.PartDeltaEvent(index=1, delta=pm.ToolCallPartDelta(args_delta=": 1}", tool_call_id="c1")),
        pm.PartDeltaEvent(index=2, delta=pm.ThinkingPartDelta(content_delta="hmm", signature_delta="s")),
        pm.PartDeltaEvent(index=2, delta=pm.ThinkingPartDelta(provider_details=lambda d: d or {})),
        pm.FinalResultEvent(tool_name=None, tool_call_id=None),
    ]
    for event in upstream:
        theirs = bytes(adapter.dump_json(event))
        assert event_to_json(event_from_json(theirs)) == theirs


def test_events_round_trip_through_pydantic_ai() -> None:
    pm = pydantic_ai_messages()
    import pydantic

    adapter: Any = pydantic.TypeAdapter(pm.ModelResponseStreamEvent)
    ours = [
        PartStartEvent(0, FilePart(BinaryContent(PNG, media_type="image/png")), "text", "openai"),
        PartDeltaEvent(1, TextPartDelta("x", provider_details={"a": 1})),
        PartDeltaEvent(1, ThinkingPartDelta(signature_delta="sig", provider_details=lambda d: d or {})),
        PartDeltaEvent(1, ToolCallPartDelta(tool_name_delta="f", args_delta={"a": [1]})),
        PartEndEvent(2, ToolCallPart("f", {"a": 1}, "c"), None),
        FinalResultEvent("final_result", "c"),
    ]
    for event in ours:
        data = event_to_json(event)
        assert bytes(adapter.dump_json(adapter.validate_json(data))) == data
    assert event_to_python(ours[2])["delta"]["provider_details"] is None  # a callable has no JSON form


def test_response_to_python_matches_pydantic_ai() -> None:
    pm = pydantic_ai_messages()
    import pydantic

    response = full_history()[1]
    assert isinstance(response, ModelResponse)
    theirs = pydantic.TypeAdapter(pm.ModelResponse).dump_python(
        pm.ModelMessagesTypeAdapter.validate_json(messages_to_json([response]))[0], mode="json"
    )
    assert response_to_python(response) == theirs


# Tolerant loading: the same input through both libraries gives the same messages (compared as JSON).
TOLERANT_INPUTS: dict[str, list[dict[str, Any]]] = {
    "minimal request and response": [
        {
            "kind": "request",
            "parts": [{"part_kind": "user-prompt", "content": "hi", "timestamp": "2026-01-02T03:04:05Z"}],
        },
        {
            "kind": "response",
            "parts": [{"part_kind": "text", "content": "hello"}],
            "timestamp": "2026-01-02T03:04:05Z",
        },
    ],
    "extra keys ignored": [
        {
            "kind": "response",
            "parts": [{"part_kind": "text", "content": "x", "future_key": 1}],
            "timestamp": "2026-01-02T03:04:05Z",
            "something_new": {"a": 1},
        }
    ],
    "legacy vendor aliases": [
        {
            "kind": "response",
            "parts": [],
            "timestamp": "2026-01-02T03:04:05Z",
            "vendor_details": {"finish_reason": "stop"},
            "vendor_id": "resp_9",
        }
    ],
    "legacy usage keys": [
        {
            "kind": "response",
            "parts": [],
            "timestamp": "2026-01-02T03:04:05Z",
            "usage": {
                "request_tokens": 10,
                "response_tokens": 3,
                "total_tokens": 13,
                "requests": 1,
                "details": None,
            },
        }
    ],
    "legacy usage null counts": [
        {
            "kind": "response",
            "parts": [],
            "timestamp": "2026-01-02T03:04:05Z",
            "usage": {"request_tokens": None, "response_tokens": None, "details": {}},
        },
    ],
    "usage extras kept": [
        {
            "kind": "response",
            "parts": [],
            "timestamp": "2026-01-02T03:04:05Z",
            "usage": {"input_tokens": 1, "web_searches": 2, "unmeasured_requests": 1, "cost": 0.5},
        },
    ],
    "timestamp spellings": [
        {
            "kind": "request",
            "timestamp": "2026-01-02 03:04:05+02:00",
            "parts": [
                {"part_kind": "system-prompt", "content": "a", "timestamp": "2026-01-02T03:04:05.123Z"},
                {"part_kind": "user-prompt", "content": "b", "timestamp": 1767323045},
                {"part_kind": "user-prompt", "content": "c", "timestamp": 1767323045.5},
                {"part_kind": "user-prompt", "content": "d", "timestamp": "2026-01-02"},
                {"part_kind": "user-prompt", "content": "e", "timestamp": "2026-01-02T03:04:05"},
                {"part_kind": "user-prompt", "content": "f", "timestamp": "2026-01-02t03:04:05z"},
                {"part_kind": "user-prompt", "content": "g", "timestamp": "2026-01-02T03:04:05.1234567+0530"},
                {"part_kind": "user-prompt", "content": "h", "timestamp": 1767323045123},
            ],
        }
    ],
    "computed keys read back": [
        {
            "kind": "request",
            "parts": [
                {
                    "part_kind": "user-prompt",
                    "timestamp": "2026-01-02T03:04:05Z",
                    "content": [
                        {
                            "kind": "image-url",
                            "url": "https://e.x/noext",
                            "media_type": "image/png",
                            "identifier": "mine",
                        },
                        {"kind": "image-url", "url": "https://e.x/a.gif"},
                        {"kind": "binary", "data": "AAEC", "media_type": "image/gif", "identifier": None},
                        {"kind": "uploaded-file", "file_id": "f.pdf", "provider_name": "google"},
                    ],
                }
            ],
        },
    ],
}


@pytest.mark.parametrize("name", list(TOLERANT_INPUTS))
def test_tolerant_loading_matches_pydantic_ai(name: str) -> None:
    data = json.dumps(TOLERANT_INPUTS[name]).encode()
    ours = messages_to_json(messages_from_json(data))
    assert pydantic_round_trip(data) == ours


def test_missing_timestamps_default_to_now() -> None:
    before = datetime.now(tz=UTC)
    [request, response] = messages_from_python(
        [
            {"kind": "request", "parts": [{"part_kind": "user-prompt", "content": "hi"}]},
            {"kind": "response", "parts": []},
        ]
    )
    assert isinstance(request, ModelRequest) and isinstance(response, ModelResponse)
    assert request.timestamp is None  # deliberately no default: old data stays null
    assert before <= request.parts[0].timestamp <= datetime.now(tz=UTC)  # type: ignore[union-attr]
    assert before <= response.timestamp <= datetime.now(tz=UTC)


def test_naive_timestamps_stay_naive() -> None:
    [request] = messages_from_python(
        [
            {
                "kind": "request",
                "parts": [{"part_kind": "user-prompt", "content": "x", "timestamp": "2026-01-02T03:04:05"}],
            }
        ]
    )
    assert request.parts[0].timestamp.tzinfo is None  # type: ignore[union-attr]


def test_python_mode_values_are_accepted() -> None:
    """messages_from_python also takes datetimes and raw bytes where JSON has text."""
    [request] = messages_from_python(
        [
            {
                "kind": "request",
                "parts": [
                    {
                        "part_kind": "user-prompt",
                        "timestamp": TS,
                        "content": [{"kind": "binary", "data": PNG, "media_type": "image/png"}],
                    }
                ],
            }
        ]
    )
    assert request == ModelRequest([UserPromptPart([BinaryImage(PNG, media_type="image/png")], timestamp=TS)])


def _tool_return_json(content: Any, digests: Any = None) -> bytes:
    part: dict[str, Any] = {
        "part_kind": "tool-return",
        "tool_name": "t",
        "content": content,
        "tool_call_id": "c",
        "timestamp": "2026-01-02T03:04:05Z",
    }
    if digests is not None:
        part["content_file_digests"] = digests
    return json.dumps([{"kind": "request", "parts": [part]}]).encode()


IMG = {
    "url": "https://e.x/a.png",
    "force_download": False,
    "vendor_metadata": None,
    "kind": "image-url",
    "media_type": "image/png",
    "identifier": "abc",
}
TOOL_CONTENTS: dict[str, tuple[Any, Any]] = {
    "binary is always rebuilt": ({"data": "iVBORw0KGgo=", "media_type": "image/png", "kind": "binary"}, None),
    "binary, unpadded, nested": (
        [{"x": {"data": "JVBERg", "media_type": "application/pdf", "kind": "binary"}}],
        [],
    ),
    "invalid binary stays a dict": ({"data": "!!", "media_type": "a/b", "kind": "binary"}, []),
    "unrecorded https url is rebuilt": ({**IMG, "force_download": True}, None),
    "unrecorded url without media_type key stays": ({"url": "https://e.x/a.png", "kind": "image-url"}, None),
    "unrecorded ftp url stays": ({**IMG, "url": "ftp://e.x/a.png"}, None),
    "unrecorded uploaded file stays": (
        {"file_id": "f", "provider_name": "openai", "kind": "uploaded-file", "media_type": None},
        None,
    ),
    "recorded but digest missing stays": (IMG, []),
    "recorded with extra key stays": ({**IMG, "extra": 1}, []),
    "text-content never rebuilt": ({"kind": "text-content", "content": "x"}, None),
    "bytes-like list and scalars": (["a", 1, 2.5, None, True, {"k": [1, {"kind": "x"}]}], None),
    "digests not a list are ignored": ("plain", "nolist"),
}


@pytest.mark.parametrize("name", list(TOOL_CONTENTS))
def test_tool_return_content_rebuilding_matches_pydantic_ai(name: str) -> None:
    data = _tool_return_json(*TOOL_CONTENTS[name])
    ours = messages_to_json(messages_from_json(data))
    assert pydantic_round_trip(data) == ours


def test_recorded_files_in_tool_returns_are_rebuilt() -> None:
    content = [
        ImageUrl("https://e.x/a.png", force_download=True),
        UploadedFile("f-1", "xai"),
        {"plain": "dict"},
    ]
    history = [ModelRequest([ToolReturnPart("t", content, "c", timestamp=TS)])]
    dumped = messages_to_python(history)
    assert len(dumped[0]["parts"][0]["content_file_digests"]) == 2
    assert messages_from_python(dumped) == history
    # The same dicts without their record are a tool's own data: the uploaded file stays a dict, the
    # https URL is rebuilt with force_download reset (pydantic-ai's rule for pre-record history).
    del dumped[0]["parts"][0]["content_file_digests"]
    [request] = messages_from_python(dumped)
    loaded = request.parts[0].content  # type: ignore[union-attr]
    assert loaded[0] == ImageUrl("https://e.x/a.png") and isinstance(loaded[1], dict)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tds.histories(retry_prompts=False))
def test_generated_histories_round_trip_through_pydantic_ai(history: list[ModelMessage]) -> None:
    """pydantic-ai reads any generated history of ours and writes back the same bytes."""
    ours = messages_to_json(history)
    assert pydantic_round_trip(ours) == ours


# ---------------------------------------------------------------------------------------------------
# (c) round trips
# ---------------------------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(tds.histories())
def test_history_round_trip(history: list[ModelMessage]) -> None:
    """load(dump(x)) == x, except that image BinaryContent comes back as BinaryImage."""
    expected = tds.narrowed(history)
    data = messages_to_json(history)
    assert messages_from_json(data) == expected
    assert messages_from_python(messages_to_python(history)) == expected
    assert messages_to_python(history) == json.loads(data)


@settings(max_examples=150, deadline=None)
@given(tds.events())
def test_event_round_trip(event: Any) -> None:
    expected = tds.narrowed(event)
    assert event_from_json(event_to_json(event)) == expected
    assert event_from_python(event_to_python(event)) == expected
    assert event_to_python(event) == json.loads(event_to_json(event))


def test_big_integers_fall_back_to_the_stdlib_encoder() -> None:
    """orjson refuses integers beyond 64 bits; they still dump (pydantic-ai writes them too)."""
    history = [ModelResponse([ToolCallPart("f", {"n": 2**70}, "c")], timestamp=TS)]
    data = messages_to_json(history)
    assert json.loads(data)[0]["parts"][0]["args"] == {"n": 2**70}
    assert json.loads(data) == messages_to_python(history)
    assert pydantic_round_trip(data) == data


def test_dumping_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="TextPart as a request part"):
        messages_to_json([ModelRequest([TextPart("x")])])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="as a message"):
        messages_to_json(["not a message"])  # type: ignore[list-item]


# ---------------------------------------------------------------------------------------------------
# (d) malformed input
# ---------------------------------------------------------------------------------------------------

MALFORMED: dict[str, tuple[Any, str]] = {
    "not a list": ({"kind": "request"}, "invalid message history at messages: expected an array"),
    "message not an object": ([1], "messages[0]: expected an object"),
    "missing kind": ([{"parts": []}], "messages[0]: missing discriminator 'kind'"),
    "unknown kind": ([{"kind": "nope", "parts": []}], "messages[0].kind: unknown kind 'nope'"),
    "parts not a list": ([{"kind": "request", "parts": {}}], "messages[0].parts: expected an array"),
    "missing parts": ([{"kind": "request"}], "messages[0]: missing required key 'parts'"),
    "agent-only 2.68 part": (
        [{"kind": "request", "parts": [{"part_kind": "tool-availability-delta", "tools": []}]}],
        "messages[0].parts[0].part_kind: unknown part_kind 'tool-availability-delta'",
    ),
    "retry feedback without retry info": (
        [{"kind": "request", "parts": [{"part_kind": "retry-feedback", "content": "x"}]}],
        "messages[0].parts[0]: missing required key 'retry'",
    ),
    "bad speaker": (
        [{"kind": "response", "parts": [{"part_kind": "speech", "speaker": "robot"}]}],
        "messages[0].parts[0].speaker: expected one of ['assistant', 'user'], got 'robot'",
    ),
    "wrong scalar type": (
        [{"kind": "response", "parts": [{"part_kind": "text", "content": 5}]}],
        "messages[0].parts[0].content: expected a string, got int",
    ),
    "bad timestamp": (
        [{"kind": "response", "parts": [], "timestamp": "yesterday"}],
        "messages[0].timestamp: not a datetime: 'yesterday'",
    ),
    "bad literal": (
        [{"kind": "response", "parts": [], "finish_reason": "done"}],
        "messages[0].finish_reason: expected one of",
    ),
    "bad usage": (
        [{"kind": "response", "parts": [], "usage": {"input_tokens": "many"}}],
        "messages[0].usage.input_tokens: expected an integer, got str",
    ),
    "usage not an object": (
        [{"kind": "response", "parts": [], "usage": 3}],
        "messages[0].usage: expected an object",
    ),
    "bad base64": (
        [
            {
                "kind": "response",
                "parts": [
                    {"part_kind": "file", "content": {"kind": "binary", "data": "@@", "media_type": "a/b"}}
                ],
            }
        ],
        "messages[0].parts[0].content.data: not valid base64",
    ),
    "unknown user content": (
        [
            {
                "kind": "request",
                "parts": [{"part_kind": "user-prompt", "content": ["ok", {"kind": "speech-clip"}]}],
            }
        ],
        "messages[0].parts[0].content[1].kind: unknown user content kind 'speech-clip'",
    ),
    "user content missing url": (
        [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": [{"kind": "image-url"}]}]}],
        "messages[0].parts[0].content[0]: missing required key 'url'",
    ),
    "bad uploaded-file provider": (
        [
            {
                "kind": "request",
                "parts": [
                    {
                        "part_kind": "user-prompt",
                        "content": [{"kind": "uploaded-file", "file_id": "f", "provider_name": "acme"}],
                    }
                ],
            }
        ],
        "messages[0].parts[0].content[0].provider_name: expected one of",
    ),
    "bad digests": (
        [
            {
                "kind": "request",
                "parts": [
                    {
                        "part_kind": "tool-return",
                        "tool_name": "t",
                        "content": [1],
                        "content_file_digests": [1],
                    }
                ],
            }
        ],
        "messages[0].parts[0]: content_file_digests must be a list of strings",
    ),
    "unhashable discriminator": (
        [{"kind": ["request"], "parts": []}],
        "messages[0].kind: unknown kind ['request']",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_input_names_the_offending_item(name: str) -> None:
    data, message = MALFORMED[name]
    with pytest.raises(MessageFormatError) as info:
        messages_from_python(data)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TrioDirectError)


@pytest.mark.parametrize("data", [b"", b"[", b"\xff", "[{]", b"nul"])
def test_invalid_json_is_a_message_format_error(data: bytes | str) -> None:
    with pytest.raises(MessageFormatError, match="not valid JSON"):
        messages_from_json(data)


def test_malformed_event() -> None:
    with pytest.raises(
        MessageFormatError, match=r"event\.delta\.part_delta_kind: unknown part_delta_kind 'file'"
    ):
        event_from_python({"event_kind": "part_delta", "index": 0, "delta": {"part_delta_kind": "file"}})
    with pytest.raises(MessageFormatError, match=r"event\.index: expected an integer"):
        event_from_python(
            {"event_kind": "part_end", "index": "0", "part": {"part_kind": "text", "content": ""}}
        )


@settings(max_examples=300, deadline=None)
@given(
    tds.json_values(
        keys=st.sampled_from(["kind", "parts", "part_kind", "content", "timestamp", "usage", "x"])
    )
)
def test_arbitrary_json_loads_or_raises_message_format_error(data: Any) -> None:
    for value in (
        data,
        [data],
        [{"kind": "request", "parts": [data]}],
        [{"kind": "response", "parts": [], "usage": data}],
    ):
        try:
            messages_from_python(value)
        except MessageFormatError:
            pass


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path, *(leaf for k, v in value.items() for leaf in _leaves(v, (*path, k)))]
    if isinstance(value, list):
        return [path, *(leaf for i, v in enumerate(value) for leaf in _leaves(v, (*path, i)))]
    return [path]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tds.histories(max_size=2), st.data())
def test_corrupted_histories_load_or_raise_message_format_error(
    history: list[ModelMessage], data: st.DataObject
) -> None:
    """Replace any node of a valid dump with any JSON value: loading succeeds or raises MessageFormatError."""
    dumped = messages_to_python(history)
    path = data.draw(st.sampled_from(_leaves(dumped)))
    replacement = data.draw(tds.json_values())
    if not path:
        dumped = replacement
    else:
        target: Any = dumped
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = replacement
    try:
        messages_from_python(dumped)
    except MessageFormatError:
        pass
