"""Differential: every message, part and content shape pydantic-ai 2.68 writes loads here and dumps back
byte for byte, what we write loads there unchanged, and ModelMessagesTypeAdapter behaves as 2.68's."""

from __future__ import annotations

import json
import typing
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from tests import strategies as tds
from trio_direct import messages as tm
from trio_direct.compat import PYDANTIC_AI_OMISSIONS
from trio_direct.exceptions import UserError
from trio_direct.serialization import (
    event_from_json,
    event_to_json,
    messages_from_json,
    messages_from_python,
    messages_to_json,
)

pm: ModuleType = pytest.importorskip("pydantic_ai.messages")
pydantic = pytest.importorskip("pydantic")

TS = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


@contextmanager
def quiet() -> Iterator[None]:
    """2.68 warns when a deprecated RetryPromptPart is built; these tests build one on purpose."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def upstream_history() -> list[Any]:
    """One 2.68 history holding every message, part, content, citation and retry shape it can write."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    user_content = [
        "text",
        pm.TextContent("with metadata", metadata={"k": [1, 2]}),
        pm.StructuredContent({"a": [1, "<b>"]}, tag="data", description="The data:"),
        pm.StructuredContent({"x": 1}, format="xml", tag="rows"),
        pm.ImageUrl("https://e.x/a.png"),
        pm.AudioUrl("https://e.x/a.mp3", force_download=True),
        pm.DocumentUrl("https://e.x/doc", media_type="application/pdf", identifier="doc1"),
        pm.VideoUrl("https://youtu.be/xyz", vendor_metadata={"fps": 2}),
        pm.BinaryContent(b"%PDF-1.4", media_type="application/pdf"),
        pm.BinaryImage(png, media_type="image/png"),
        pm.BinaryAudio(b"RIFF", media_type="audio/wav"),
        pm.UploadedFile("file-1", "openai", media_type="text/csv"),
        pm.CachePoint(ttl="1h"),
    ]
    errors = [{"type": "missing", "loc": ("a",), "msg": "Field required", "input": {}}]
    request = pm.ModelRequest(
        parts=[
            pm.SystemPromptPart("sys", timestamp=TS, scope="request", metadata={"m": 1}),
            pm.UserPromptPart(user_content, timestamp=TS),
            pm.ToolReturnPart("t", {"rows": [1, 2]}, "c1", timestamp=TS, metadata={"x": 1}),
            pm.ToolReturnPart(
                "t",
                errors,
                "c2",
                timestamp=TS,
                outcome="retried",
                retry=pm.RetryInfo(cause="validation_error"),
            ),
            pm.ToolReturnPart("t", [pm.ImageUrl("https://e.x/r.png"), "caption"], "c3", timestamp=TS),
            pm.RetryFeedbackPart(
                "Please return text.",
                retry=pm.RetryInfo(cause="no_output", attempt=1, max_retries=3),
                timestamp=TS,
            ),
            pm.RetryFeedbackPart(errors, retry=pm.RetryInfo(cause="validation_error"), timestamp=TS),
            pm.SpeechPart(
                speaker="user",
                transcript="hello",
                audio=pm.BinaryContent(b"pcm", media_type="audio/pcm"),
                timestamps=[
                    pm.SpeechTimestamp(text="hello", start_ms=0, duration_ms=400, granularity="segment")
                ],
            ),
            pm.CompactionPart(content="the story so far", metadata={"by": "summarizer"}),
        ],
        timestamp=TS,
        instructions="be brief",
        run_id="run-1",
        metadata={"k": "v"},
    )
    citations = [
        pm.Citation(
            sources=[
                pm.WebCitationSource("https://e.x", title="E", excerpts=["quote"]),
                pm.DocumentCitationSource(document_id="d1"),
            ],
            anchor=pm.ContentCitationAnchor(start=0, end=5),
        ),
        pm.Citation(
            sources=[pm.DocumentCitationSource(title="Doc")], anchor=pm.MarkerCitationAnchor(start=6, end=9)
        ),
        pm.Citation(sources=[pm.WebCitationSource("https://f.x")]),
    ]
    response = pm.ModelResponse(
        parts=[
            pm.ThinkingPart("hmm", signature="sig", provider_name="anthropic", id="th1"),
            pm.TextPart("Hello [1]", citations=citations, provider_details={"p": 1}),
            pm.ToolCallPart("t", {"a": 1}, "c1", tool_kind="custom"),
            pm.ToolCallPart("t", '{"a": 2}', "c2"),
            pm.NativeToolCallPart("web_search", {"q": "x"}, "n1", provider_name="openai"),
            pm.NativeToolReturnPart("web_search", {"hits": []}, "n1", timestamp=TS, provider_name="openai"),
            pm.FilePart(pm.BinaryImage(png, media_type="image/png"), provider_name="openai", id="f1"),
            pm.CompactionPart(content=None, id="cmp", provider_name="openai", provider_details={"enc": "x"}),
            pm.SpeechPart(speaker="assistant", transcript="hi there", interrupted_at_ms=120, id="s1"),
        ],
        usage=pm.RequestUsage(
            input_tokens=10, output_tokens=5, cache_read_tokens=2, details={"reasoning_tokens": 3}
        ),
        model_name="m",
        timestamp=TS,
        provider_name="openai",
        provider_response_id="resp_1",
        finish_reason="stop",
        failed_attempts=[
            pm.ModelRequestAttempt(
                model_name="a",
                provider_name="anthropic",
                outcome="error",
                error="ModelRateLimitError: slow down",
                timestamp=TS,
                duration=timedelta(seconds=1.25),
            ),
            pm.ModelRequestAttempt(
                model_name="b",
                outcome="rejected",
                timestamp=TS,
                duration=timedelta(days=1, microseconds=5),
                usage=pm.RequestUsage(input_tokens=1, cost=Decimal("0.25")),
            ),
        ],
    )
    return [request, response]


def classes_in(value: Any, found: set[str]) -> set[str]:
    """The names of the 2.68 dataclasses reachable from ``value``."""
    if isinstance(value, list | tuple):
        for item in value:
            classes_in(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            classes_in(item, found)
    elif hasattr(value, "__dataclass_fields__"):
        found.add(type(value).__name__)
        for name in value.__dataclass_fields__:
            classes_in(getattr(value, name, None), found)
    return found


def union_members(alias: Any) -> set[str]:
    """The classes an ``Annotated[A | B | ..., Discriminator]`` union of 2.68 names."""
    names: set[str] = set()
    for arg in typing.get_args(typing.get_args(alias)[0]):
        inner = typing.get_args(arg)[0] if typing.get_origin(arg) is typing.Annotated else arg
        inner = getattr(inner, "__origin__", inner)
        names.add(getattr(inner, "__name__", str(inner)))
    return names


def test_the_sample_covers_every_part_and_content_class() -> None:
    """Every request part, response part and user-content class of 2.68's unions is in the sample, unless
    it is one trio_direct leaves out on purpose (the Agent's parts, typed tool parts)."""
    sampled = classes_in(upstream_history(), set())
    omitted = set(PYDANTIC_AI_OMISSIONS["messages"])
    expected = union_members(pm.ModelRequestPart) | union_members(pm.ModelResponsePart)
    expected |= {"ImageUrl", "AudioUrl", "DocumentUrl", "VideoUrl", "BinaryContent", "UploadedFile"}
    expected |= {"TextContent", "StructuredContent", "CachePoint", "BinaryImage", "BinaryAudio"}
    expected |= {"Citation", "WebCitationSource", "DocumentCitationSource", "ContentCitationAnchor"}
    expected |= {"MarkerCitationAnchor", "RetryInfo", "SpeechTimestamp", "ModelRequestAttempt"}
    missing = expected - sampled - omitted - {"RetryPromptPart"}  # legacy: covered in test_serialization
    assert missing == set()
    # every sampled class has a namesake here
    assert {name for name in sampled if not hasattr(tm, name)} == set()


def test_upstream_history_loads_and_dumps_back_byte_for_byte() -> None:
    theirs = bytes(pm.ModelMessagesTypeAdapter.dump_json(upstream_history()))
    loaded = messages_from_json(theirs)
    assert messages_to_json(loaded) == theirs
    # the classes are the namesakes of upstream's (BinaryAudio loads as BinaryContent in both)
    again = pm.ModelMessagesTypeAdapter.validate_json(theirs)
    assert [type(p).__name__ for p in loaded[0].parts] == [type(p).__name__ for p in again[0].parts]
    assert [type(p).__name__ for p in loaded[1].parts] == [type(p).__name__ for p in again[1].parts]
    response = loaded[1]
    assert isinstance(response, tm.ModelResponse)
    assert response.failed_attempts is not None
    assert response.failed_attempts[1].duration == timedelta(days=1, microseconds=5)
    [text] = [p for p in response.parts if isinstance(p, tm.TextPart)]
    assert text.citations is not None and isinstance(text.citations[0].anchor, tm.ContentCitationAnchor)


def test_our_dump_of_the_history_is_what_pydantic_ai_writes_back() -> None:
    loaded = messages_from_json(pm.ModelMessagesTypeAdapter.dump_json(upstream_history()))
    ours = messages_to_json(loaded)
    assert (
        bytes(pm.ModelMessagesTypeAdapter.dump_json(pm.ModelMessagesTypeAdapter.validate_json(ours))) == ours
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tds.histories(retry_prompts=False))
def test_generated_histories_round_trip_through_both(history: list[tm.ModelMessage]) -> None:
    """Any generated history: pydantic-ai reads our JSON and writes the same bytes; we read those back
    to what we started from."""
    ours = messages_to_json(history)
    theirs = bytes(pm.ModelMessagesTypeAdapter.dump_json(pm.ModelMessagesTypeAdapter.validate_json(ours)))
    assert theirs == ours
    assert messages_from_json(theirs) == tds.narrowed(history)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tds.events())
def test_generated_events_round_trip_through_both(event: Any) -> None:
    adapter: Any = pydantic.TypeAdapter(pm.ModelResponseStreamEvent)
    ours = event_to_json(event)
    assert bytes(adapter.dump_json(adapter.validate_json(ours))) == ours
    assert event_from_json(ours) == tds.narrowed(event)


# ---------------------------------------------------------------------------------------------------
# ModelMessagesTypeAdapter
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("indent", [None, 2, 4])
def test_type_adapter_dump_json_matches(indent: int | None) -> None:
    history = messages_from_json(pm.ModelMessagesTypeAdapter.dump_json(upstream_history()))
    theirs = pm.ModelMessagesTypeAdapter.validate_json(
        pm.ModelMessagesTypeAdapter.dump_json(upstream_history())
    )
    assert tm.ModelMessagesTypeAdapter.dump_json(history, indent=indent) == bytes(
        pm.ModelMessagesTypeAdapter.dump_json(theirs, indent=indent)
    )


def test_type_adapter_python_modes() -> None:
    data = pm.ModelMessagesTypeAdapter.dump_json(upstream_history())
    history = tm.ModelMessagesTypeAdapter.validate_json(data)
    theirs = pm.ModelMessagesTypeAdapter.validate_json(data)
    jsonable = tm.ModelMessagesTypeAdapter.dump_python(history, mode="json")
    assert jsonable == pm.ModelMessagesTypeAdapter.dump_python(theirs, mode="json") == json.loads(data)
    assert tm.ModelMessagesTypeAdapter.validate_python(jsonable) == history
    # python mode: datetimes stay datetimes; what pydantic-ai's python mode gives loads here too
    python = tm.ModelMessagesTypeAdapter.dump_python(history)
    assert python[0]["timestamp"] == TS
    assert tm.ModelMessagesTypeAdapter.validate_python(python) == history
    assert (
        tm.ModelMessagesTypeAdapter.validate_python(pm.ModelMessagesTypeAdapter.dump_python(theirs))
        == history
    )
    # messages already built pass through; keywords that change nothing are accepted
    assert tm.ModelMessagesTypeAdapter.validate_python(history, strict=True) == history
    assert tm.ModelMessagesTypeAdapter.validate_json(data, by_alias=True, context=None) == history
    with pytest.raises(UserError, match="exclude_none"):
        tm.ModelMessagesTypeAdapter.dump_json(history, exclude_none=True)


def test_type_adapter_load_errors_name_the_item() -> None:
    from trio_direct.exceptions import MessageFormatError

    with pytest.raises(MessageFormatError, match=r"messages\[0\]\.parts\[0\]\.part_kind"):
        tm.ModelMessagesTypeAdapter.validate_python([{"kind": "request", "parts": [{"part_kind": "nope"}]}])
    assert messages_from_python([]) == []
