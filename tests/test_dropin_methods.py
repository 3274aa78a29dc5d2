"""Differential: the helper methods and behaviours of the message model and exceptions give what
pydantic-ai 2.68's give (or raise what it raises) for the same values."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests import strategies as tds
from trio_direct import events as te
from trio_direct import exceptions as tx
from trio_direct import messages as tm
from trio_direct.serialization import messages_from_python, messages_to_python

pm: ModuleType = pytest.importorskip("pydantic_ai.messages")
px: ModuleType = pytest.importorskip("pydantic_ai.exceptions")
pydantic = pytest.importorskip("pydantic")

TS = datetime(2025, 1, 2, tzinfo=UTC)


def theirs(value: Any) -> Any:
    """``value`` (one of our parts) as 2.68 builds it from the same JSON."""
    request = tm.ModelRequest([value]) if not isinstance(value, tm.ModelResponse) else value
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        [loaded] = pm.ModelMessagesTypeAdapter.validate_python(messages_to_python([request]))
    return loaded if isinstance(value, tm.ModelResponse) else loaded.parts[0]


# -- structured content -------------------------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(
    value=tds.json_values(keys=st.from_regex(r"[a-z][a-z0-9_ ]{0,6}", fullmatch=True)),
    tag=st.none() | st.sampled_from(["data", "user_profile", "x1"]),
    description=st.none() | tds.short_texts,
    fmt=st.sampled_from(["json", "xml"]),
)
def test_structured_content_renders_as_pydantic_ai(
    value: Any, tag: str | None, description: str | None, fmt: str
) -> None:
    try:
        expected = pm.StructuredContent(value, tag=tag, description=description, format=fmt).content  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return  # what 2.68 cannot render (a float key...) is out of scope
    assert tm.StructuredContent(value, tag=tag, description=description, format=fmt).content == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("tag", ["system", "tool_result", "pyai:x", "Bad Tag"])
def test_structured_content_refuses_the_tags_pydantic_ai_refuses(tag: str) -> None:
    with pytest.raises(ValueError) as ours:
        tm.StructuredContent({"a": 1}, tag=tag)
    with pytest.raises(ValueError) as upstream:
        pm.StructuredContent({"a": 1}, tag=tag)
    assert str(ours.value) == str(upstream.value)


def test_structured_content_with_a_function() -> None:
    item = tm.StructuredContent([1, 2], format=lambda v: f"{len(v)} items")
    assert (
        item.content == "2 items" == pm.StructuredContent([1, 2], format=lambda v: f"{len(v)} items").content
    )
    with pytest.raises(ValueError, match="empty text"):
        tm.StructuredContent([1], format=lambda v: "")


# -- content --------------------------------------------------------------------------------------------


def test_binary_image_and_audio_check_their_media_type() -> None:
    with pytest.raises(ValueError, match="image/"):
        tm.BinaryImage(b"x", media_type="text/plain")
    with pytest.raises(ValueError, match="audio/"):
        tm.BinaryAudio(b"x", media_type="image/png")
    with pytest.raises(ValueError):
        pm.BinaryImage(b"x", media_type="text/plain")
    assert tm.BinaryAudio(b"x", media_type="audio/wav").format == "wav"


@pytest.mark.parametrize("name", ["a.png", "notes.txt", "clip.mp3", "file.unknownext", "doc.pdf"])
def test_binary_content_from_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG data")
    ours, upstream = tm.BinaryContent.from_path(path), pm.BinaryContent.from_path(path)
    assert (type(ours).__name__, ours.media_type, ours.data) == (
        type(upstream).__name__,
        upstream.media_type,
        upstream.data,
    )
    with pytest.raises(FileNotFoundError):
        tm.BinaryContent.from_path(tmp_path / "missing.png")


@pytest.mark.parametrize(
    "media_type",
    ["image/png", "video/mp4", "audio/mpeg", "application/pdf", "text/csv", "application/x-nope"],
)
def test_uploaded_file_format(media_type: str) -> None:
    ours = tm.UploadedFile("f", "openai", media_type=media_type)
    upstream = pm.UploadedFile("f", "openai", media_type=media_type)
    try:
        expected = upstream.format
    except ValueError as exc:
        with pytest.raises(ValueError) as info:
            _ = ours.format
        assert str(info.value) == str(exc)
        return
    assert ours.format == expected


def test_multi_modal_content_types() -> None:
    assert [c.__name__ for c in tm.MULTI_MODAL_CONTENT_TYPES] == [
        c.__name__ for c in pm.MULTI_MODAL_CONTENT_TYPES
    ]
    assert tm.is_multi_modal_content(tm.ImageUrl("https://e.x/a.png"))
    assert not tm.is_multi_modal_content("text")
    assert isinstance(tm.VideoUrl("https://e.x/v.mp4"), tm.FileUrl)


# -- tool parts -----------------------------------------------------------------------------------------

_RETURNS = st.builds(
    lambda content, outcome: tm.ToolReturnPart("t", content, "c1", timestamp=TS, outcome=outcome),
    tds.tool_return_contents | tds.texts.map(lambda t: f'{{"k": "{t.isalnum()}"}}'),
    st.sampled_from(["success", "failed", "retried", "denied"]),
)


def ours_as_json(value: Any) -> Any:
    """A value (files included) as the JSON a tool return writes it in, here."""
    return messages_to_python([tm.ModelRequest([tm.ToolReturnPart("t", value, "c", timestamp=TS)])])[0][
        "parts"
    ][0]


def theirs_as_json(value: Any) -> Any:
    """The same for a 2.68 value."""
    request = pm.ModelRequest(parts=[pm.ToolReturnPart("t", value, "c", timestamp=TS)])
    return pm.ModelMessagesTypeAdapter.dump_python([request], mode="json")[0]["parts"][0]


@settings(max_examples=80, deadline=None)
@given(_RETURNS)
def test_tool_return_helpers_match(part: tm.ToolReturnPart) -> None:
    upstream = theirs(part)
    for mode in ("raw", "str", "jsonable"):
        for wrap in (True, False):
            mine = part.content_items(mode=mode, wrap_if_error=wrap)  # type: ignore[arg-type]
            their = upstream.content_items(mode=mode, wrap_if_error=wrap)
            assert ours_as_json(mine) == theirs_as_json(their)
    assert ours_as_json(part.structured_content()) == theirs_as_json(upstream.structured_content())
    assert ours_as_json(part.typed_content) == theirs_as_json(upstream.typed_content)
    assert part.model_response_str() == upstream.model_response_str()
    assert ours_as_json(part.model_response_object()) == theirs_as_json(upstream.model_response_object())


@pytest.mark.parametrize("args", [None, "", "{}", '{"a": 1}', "{bad", "[1, 2]", '"x"', {"a": [1]}])
def test_tool_call_args(args: Any) -> None:
    ours, upstream = tm.ToolCallPart("t", args, "c"), pm.ToolCallPart("t", args, "c")
    assert ours.args_as_dict() == upstream.args_as_dict()
    assert ours.args_as_json_str() == upstream.args_as_json_str()
    assert ours.typed_args == upstream.typed_args
    assert ours.has_content() == upstream.has_content()
    try:
        expected: Any = upstream.args_as_dict(raise_if_invalid=True)
    except (ValueError, AssertionError) as exc:
        with pytest.raises(type(exc)) as info:  # the same except clause catches ours
            ours.args_as_dict(raise_if_invalid=True)
        assert isinstance(info.value, tx.ToolArgsError)
    else:
        assert ours.args_as_dict(raise_if_invalid=True) == expected


def test_narrow_type_keeps_the_kind() -> None:
    part = tm.ToolCallPart("t", {"a": 1}, "c")
    assert tm.ToolCallPart.narrow_type(part) is part
    assert tm.ToolCallPart.narrow_type(part, tool_kind="custom").tool_kind == "custom"
    assert (
        pm.ToolCallPart.narrow_type(pm.ToolCallPart("t", {"a": 1}, "c"), tool_kind="custom").tool_kind
        == "custom"
    )
    ret = tm.ToolReturnPart("t", 1, "c")
    assert tm.ToolReturnPart.narrow_type(ret, tool_kind="k").tool_kind == "k"


# -- retries --------------------------------------------------------------------------------------------


def test_retry_prompt_from_error() -> None:
    class Model(pydantic.BaseModel):
        a: int

    try:
        Model.model_validate({"a": "x"})
    except pydantic.ValidationError as exc:
        error = exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        upstream = pm.RetryPromptPart.from_error(error, tool_name="t", tool_call_id="c")
        from_retry = pm.RetryPromptPart.from_error(px.ModelRetry("try harder"))
    ours = tm.RetryPromptPart.from_error(error, tool_name="t", tool_call_id="c")
    assert (ours.content, ours.tool_name, ours.tool_call_id) == (
        upstream.content,
        upstream.tool_name,
        upstream.tool_call_id,
    )
    assert ours.model_response() == upstream.model_response()
    assert tm.RetryPromptPart.from_error(px.ModelRetry("try harder")).content == from_retry.content


@pytest.mark.parametrize(
    "content", ["plain message", [{"type": "missing", "loc": ["a", 0], "msg": "Field required", "input": {}}]]
)
@pytest.mark.parametrize("tool_name", [None, "t"])
def test_retry_prompt_translation_matches(content: Any, tool_name: str | None) -> None:
    """What we send in place of a legacy retry is what 2.68 loads the stored part as, field for field."""
    legacy = tm.RetryPromptPart(content, tool_name=tool_name, tool_call_id="c", timestamp=TS)
    translated = legacy.translated()
    upstream = theirs(legacy)
    assert type(translated).__name__ == type(upstream).__name__
    upstream_json = pm.ModelMessagesTypeAdapter.dump_python([pm.ModelRequest(parts=[upstream])], mode="json")
    assert messages_to_python([tm.ModelRequest([translated])]) == upstream_json


@pytest.mark.parametrize(
    ("content", "cause"),
    [
        ("Please return text.", "no_output"),
        ("Please return text or call a tool.", "no_output"),
        ("something else", "no_output"),
        ("be nicer", "model_retry"),
        ([{"type": "x", "loc": ["a"], "msg": "m", "input": 1}], "validation_error"),
    ],
)
def test_retry_feedback_model_response(content: Any, cause: str) -> None:
    ours = tm.RetryFeedbackPart(content, retry=tm.RetryInfo(cause), timestamp=TS)
    their_content = content if isinstance(content, str) else [{**e, "loc": tuple(e["loc"])} for e in content]
    upstream = pm.RetryFeedbackPart(their_content, retry=pm.RetryInfo(cause=cause), timestamp=TS)  # type: ignore[arg-type]
    assert ours.model_response() == upstream.model_response()


# -- deltas ---------------------------------------------------------------------------------------------


def test_thinking_delta_apply_raises_as_pydantic_ai() -> None:
    with pytest.raises(ValueError) as upstream:
        pm.ThinkingPartDelta().apply(pm.ThinkingPartDelta(content_delta="a"))
    with pytest.raises(ValueError) as ours:
        te.ThinkingPartDelta().apply(te.ThinkingPartDelta(content_delta="a"))
    assert str(ours.value) == str(upstream.value)
    assert isinstance(ours.value, tx.UnexpectedModelBehavior)
    assert te.ThinkingPartDelta().apply(tm.ThinkingPart("a")) == tm.ThinkingPart("a")


def test_speech_delta_apply_matches() -> None:
    stamp = {"text": "hi", "start_ms": 0, "duration_ms": 5}
    part = tm.SpeechPart(
        speaker="assistant", transcript="he", audio=tm.BinaryContent(b"a", media_type="audio/pcm")
    )
    upstream_part = pm.SpeechPart(
        speaker="assistant", transcript="he", audio=pm.BinaryContent(b"a", media_type="audio/pcm")
    )
    for kwargs in ({"transcript_delta": "llo"}, {"transcript": "Hello", "audio_chunk": b"b"}, {}):
        ours = te.SpeechPartDelta(**kwargs, timestamps=[tm.SpeechTimestamp(**stamp)]).apply(part)
        upstream = pm.SpeechPartDelta(**kwargs, timestamps=[pm.SpeechTimestamp(**stamp)]).apply(upstream_part)
        assert messages_to_python([tm.ModelResponse([ours], timestamp=TS)]) == messages_to_python(
            messages_from_python(
                pm.ModelMessagesTypeAdapter.dump_python(
                    [pm.ModelResponse(parts=[upstream], timestamp=TS)], mode="json"
                )
            )
        )
    with pytest.raises(ValueError):
        te.SpeechPartDelta(transcript_delta="x").apply(tm.TextPart("x"))


# -- compaction window ----------------------------------------------------------------------------------

WINDOWS: list[list[tm.ModelMessage]] = [
    [tm.ModelRequest([tm.UserPromptPart("a", timestamp=TS)])],
    [
        tm.ModelRequest([tm.UserPromptPart("a", timestamp=TS)]),
        tm.ModelResponse(
            [tm.TextPart("x"), tm.CompactionPart("sum", provider_name="anthropic"), tm.TextPart("y")],
            timestamp=TS,
        ),
        tm.ModelRequest([tm.UserPromptPart("b", timestamp=TS)]),
    ],
    [
        tm.ModelRequest([tm.UserPromptPart("a", timestamp=TS)]),
        tm.ModelResponse([tm.TextPart("x")], timestamp=TS),
        tm.ModelRequest([tm.UserPromptPart("b", timestamp=TS)]),
        tm.ModelRequest([tm.CompactionPart("app summary"), tm.UserPromptPart("c", timestamp=TS)]),
        tm.ModelResponse([tm.TextPart("z")], timestamp=TS),
    ],
]


@pytest.mark.parametrize("history", WINDOWS)
def test_post_compaction_window_matches(history: list[tm.ModelMessage]) -> None:
    upstream = pm.ModelMessagesTypeAdapter.validate_python(messages_to_python(history))
    assert messages_to_python(tm.post_compaction_window(history)) == messages_to_python(
        messages_from_python(
            pm.ModelMessagesTypeAdapter.dump_python(pm.post_compaction_window(upstream), mode="json")
        )
    )


# -- exceptions -----------------------------------------------------------------------------------------

HIERARCHY = [
    ("ContentFilterError", "UnexpectedModelBehavior"),
    ("OutputTokenLimitExceeded", "UnexpectedModelBehavior"),
    ("IncompleteToolCall", "OutputTokenLimitExceeded"),
    ("ConcurrencyLimitExceeded", "AgentRunError"),
    ("ModelRequestTimeout", "ModelAPIError"),
    ("ModelTimeoutError", "ModelConnectionError"),
    ("ModelConnectionError", "ModelAPIError"),
    ("ModelAPIError", "AgentRunError"),
    ("UnexpectedModelBehavior", "AgentRunError"),
]


@pytest.mark.parametrize(("child", "parent"), HIERARCHY)
def test_exception_hierarchy_matches_where_except_clauses_care(child: str, parent: str) -> None:
    assert issubclass(getattr(px, child), getattr(px, parent))
    assert issubclass(getattr(tx, child), getattr(tx, parent))
    assert issubclass(getattr(tx, child), tx.TrioDirectError)


@pytest.mark.parametrize(
    "name",
    [
        "UnsupportedSettingWarning",
        "CostCalculationFailedWarning",
        "CostNotFoundWarning",
        "UsageExtractionFailedWarning",
        "UsageLimitUnavailableWarning",
        "PydanticAIDeprecationWarning",
    ],
)
def test_warning_classes_match(name: str) -> None:
    ours, upstream = getattr(tx, name), getattr(px, name)
    assert [c.__name__ for c in ours.__mro__[1:]] == [c.__name__ for c in upstream.__mro__[1:]]


def test_model_connection_error_carries_the_provider_fields() -> None:
    kwargs = {"phase": "read", "provider_error_code": "c", "provider_error_type": "t", "retry_after": 1.5}
    ours = tx.ModelConnectionError("m", "dropped", **kwargs)  # type: ignore[arg-type]
    upstream = px.ModelConnectionError("m", "dropped", **kwargs)
    for field in (
        "phase",
        "provider_error_code",
        "provider_error_type",
        "retry_after",
        "message",
        "model_name",
    ):
        assert getattr(ours, field) == getattr(upstream, field)
    assert str(ours) == str(upstream)


@pytest.mark.parametrize("setting", ["request_timeout", "first_event_timeout"])
def test_model_request_timeout_matches(setting: str) -> None:
    ours = tx.ModelRequestTimeout("gpt", 2.5, setting=setting)  # type: ignore[arg-type]
    upstream = px.ModelRequestTimeout("gpt", 2.5, setting=setting)
    assert (str(ours), ours.timeout, ours.setting) == (str(upstream), upstream.timeout, upstream.setting)
    import pickle

    again = pickle.loads(pickle.dumps(ours))
    assert (str(again), again.setting) == (str(ours), ours.setting)
