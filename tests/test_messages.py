"""The message model's helpers, compared with pydantic-ai 2.68 on the same inputs where it is installed."""

from __future__ import annotations

import hashlib
import re
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import attrs
import pytest

from trio_direct import events as te
from trio_direct import messages as tm
from trio_direct.exceptions import DeltaApplyError, UnexpectedModelBehavior
from trio_direct.usage import RequestUsage


def upstream() -> ModuleType:
    """pydantic-ai's messages module (the oracle), or skip the test."""
    return pytest.importorskip("pydantic_ai.messages")


@contextmanager
def quiet() -> Iterator[None]:
    """Building a RetryPromptPart warns in pydantic-ai 2.68 (deprecated there); not our warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def outcome(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The result of a call, or "error" (to compare behaviour, errors included).

    pydantic-ai sometimes raises KeyError (unknown URL format) or AssertionError (non-object tool
    arguments) where trio_direct raises ValueError; only the error type differs.
    """
    try:
        return fn(*args, **kwargs)
    except (ValueError, KeyError, AssertionError):
        return "error"


# ---------------------------------------------------------------------------------------------------
# Requests and responses
# ---------------------------------------------------------------------------------------------------


def test_user_text_prompt() -> None:
    request = tm.ModelRequest.user_text_prompt("What is the capital of France?", instructions="Be terse.")
    assert request.instructions == "Be terse."
    assert request.timestamp is None
    [part] = request.parts
    assert isinstance(part, tm.UserPromptPart)
    assert part.content == "What is the capital of France?"
    assert part.timestamp.tzinfo is UTC
    assert tm.ModelRequest.user_text_prompt("x").instructions is None


def _response(module: Any, layout: str) -> Any:
    """A response whose parts follow ``layout``: t=text, e=empty text, h=thinking, c=tool call,
    n=native call, r=its return."""
    parts: list[Any] = []
    for i, kind in enumerate(layout):
        if kind == "t":
            parts.append(module.TextPart(f"t{i}"))
        elif kind == "e":
            parts.append(module.TextPart(""))
        elif kind == "h":
            parts.append(module.ThinkingPart(f"h{i}"))
        elif kind == "c":
            parts.append(module.ToolCallPart("f", None, f"c{i}"))
        elif kind == "n":
            parts.append(module.NativeToolCallPart("ws", None, f"n{i}"))
        else:
            parts.append(module.NativeToolReturnPart("ws", "x", f"n{i - 1}"))
    return module.ModelResponse(parts=parts)


LAYOUTS = ["", "t", "tt", "ttct", "tht", "hth", "cnr", "ete", "tet", "e", "hh", "nrt", "cch", "tnrht"]


def test_text_joins_adjacent_parts_directly_and_runs_with_a_blank_line() -> None:
    response = tm.ModelResponse(
        [tm.TextPart("a"), tm.TextPart("b"), tm.ToolCallPart("f", None, "c"), tm.TextPart("c")]
    )
    assert response.text == "ab\n\nc"
    assert tm.ModelResponse([tm.ToolCallPart("f", None, "c")]).text is None
    assert tm.ModelResponse([tm.TextPart("")]).text == ""


def test_thinking_joins_with_blank_lines() -> None:
    response = tm.ModelResponse([tm.ThinkingPart("a"), tm.TextPart("x"), tm.ThinkingPart("b")])
    assert response.thinking == "a\n\nb"
    assert tm.ModelResponse([tm.TextPart("x")]).thinking is None


def test_tool_calls_exclude_native_calls() -> None:
    call = tm.ToolCallPart("f", {"a": 1}, "c1")
    native = tm.NativeToolCallPart("web_search", {"q": "x"}, "n1")
    native_return = tm.NativeToolReturnPart("web_search", "results", "n1")
    unmatched = tm.NativeToolCallPart("code", None, "n2")
    response = tm.ModelResponse([native, call, native_return, unmatched])
    assert response.tool_calls == [call]
    assert response.native_tool_calls == [(native, native_return)]


def test_files_and_images() -> None:
    image = tm.BinaryImage(b"png", media_type="image/png")
    audio = tm.BinaryContent(b"wav", media_type="audio/wav")
    response = tm.ModelResponse([tm.FilePart(image), tm.TextPart("x"), tm.FilePart(audio)])
    assert response.files == [image, audio]
    assert response.images == [image]


@pytest.mark.parametrize("layout", LAYOUTS)
def test_response_helpers_match_pydantic_ai(layout: str) -> None:
    pm = upstream()
    theirs, ours = _response(pm, layout), _response(tm, layout)
    assert ours.text == theirs.text
    assert ours.thinking == theirs.thinking
    assert [c.tool_call_id for c in ours.tool_calls] == [c.tool_call_id for c in theirs.tool_calls]
    assert [(c.tool_call_id, r.tool_call_id) for c, r in ours.native_tool_calls] == [
        (c.tool_call_id, r.tool_call_id) for c, r in theirs.native_tool_calls
    ]


# ---------------------------------------------------------------------------------------------------
# Tool calls and returns
# ---------------------------------------------------------------------------------------------------

ARGS: list[Any] = [
    None,
    "",
    "{}",
    {},
    {"a": 1},
    '{"a": 1, "b": [1, 2]}',
    '{"b":1,"a":2}',
    "[1,2]",
    '"x"',
    "{bad",
    '  {"a":1}  ',
    '{"a": "é"}',
    "null",
    "1",
]


@pytest.mark.parametrize("args", ARGS, ids=repr)
def test_tool_call_args_match_pydantic_ai(args: Any) -> None:
    pm = upstream()
    theirs, ours = pm.ToolCallPart("f", args), tm.ToolCallPart("f", args)
    assert ours.args_as_dict() == theirs.args_as_dict()
    assert ours.args_as_json_str() == theirs.args_as_json_str()
    assert ours.has_content() == theirs.has_content()
    assert outcome(ours.args_as_dict, raise_if_invalid=True) == outcome(
        theirs.args_as_dict, raise_if_invalid=True
    )


def test_tool_call_args_helpers() -> None:
    assert tm.ToolCallPart("f", None).args_as_dict() == {}
    assert (
        tm.ToolCallPart("f", '{"b": 1, "a": 2}').args_as_json_str() == '{"b":1,"a":2}'
    )  # compact, order kept
    assert tm.ToolCallPart("f", "[1]").args_as_dict() == {tm.INVALID_JSON_KEY: "[1]"}
    assert tm.ToolCallPart("f", "{").args_as_json_str() == '{"INVALID_JSON":"{"}'
    with pytest.raises(ValueError, match="not valid JSON"):
        tm.ToolCallPart("f", "{").args_as_dict(raise_if_invalid=True)
    with pytest.raises(ValueError, match="not a JSON object"):
        tm.ToolCallPart("f", "[1]").args_as_dict(raise_if_invalid=True)
    assert re.fullmatch(r"pyd_ai_[0-9a-f]{32}", tm.ToolCallPart("f").tool_call_id)


ERRORS: list[dict[str, Any]] = [
    {
        "type": "int_parsing",
        "loc": ["x"],
        "msg": "Input should be a valid integer",
        "input": "nope",
        "ctx": {"a": 1},
    },
    {"type": "missing", "loc": ["a", "b"], "msg": "Field required", "input": {"q": "é"}},
]


@pytest.mark.parametrize(
    "content", ["Try again", ERRORS, ERRORS[:1], []], ids=["text", "two-errors", "one-error", "none"]
)
@pytest.mark.parametrize("tool_name", [None, "get_weather"])
def test_retry_prompt_model_response_matches_pydantic_ai(content: Any, tool_name: str | None) -> None:
    pm = upstream()
    with quiet():
        theirs = pm.RetryPromptPart(content, tool_name=tool_name).model_response()
    assert tm.RetryPromptPart(content, tool_name=tool_name).model_response() == theirs


def test_retry_prompt_model_response() -> None:
    assert tm.RetryPromptPart("bad", tool_name="t").model_response() == "bad\n\nFix the errors and try again."
    assert (
        tm.RetryPromptPart("bad").model_response()
        == "Validation feedback:\nbad\n\nFix the errors and try again."
    )
    text = tm.RetryPromptPart(ERRORS[:1]).model_response()
    assert text.startswith("1 validation error:\n```json\n[\n  {\n")
    assert '"ctx"' not in text and '"input"' not in text  # top-level errors of a tool-less retry drop input


TOOL_CONTENTS: list[Any] = [
    "x",
    None,
    1,
    1.5,
    True,
    {"a": 1},
    [1, 2],
    ["x"],
    [],
    {"a": b"\xfb"},
    datetime(2026, 1, 1, tzinfo=UTC),
    date(2026, 1, 1),
    uuid.UUID(int=5),
    Decimal("1.5"),
    ["x", "FILE"],
    ["FILE"],
    "FILE",
    ["a", "b", "FILE"],
    [{"a": "FILE"}],
    {"é": "ü"},
    {1: 2},
]


def _with_files(module: Any, value: Any) -> Any:
    if value == "FILE":
        return module.BinaryContent(b"x", media_type="image/png")
    if isinstance(value, list):
        return [_with_files(module, v) for v in value]
    if isinstance(value, dict):
        return {k: _with_files(module, v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("content", TOOL_CONTENTS, ids=repr)
@pytest.mark.parametrize("outcome_", ["success", "failed", "denied", "retried", "interrupted"])
def test_tool_return_rendering_matches_pydantic_ai(content: Any, outcome_: Any) -> None:
    pm = upstream()
    theirs = pm.ToolReturnPart("t", _with_files(pm, content), "id", outcome=outcome_)
    ours = tm.ToolReturnPart("t", _with_files(tm, content), "id", outcome=outcome_)
    for wrap in (True, False):
        assert ours.model_response_str(wrap_if_error=wrap) == theirs.model_response_str(wrap_if_error=wrap)
        assert ours.model_response_object(wrap_if_error=wrap) == theirs.model_response_object(
            wrap_if_error=wrap
        )
    assert len(ours.files) == len(theirs.files)


def test_tool_return_model_response_str() -> None:
    image = tm.BinaryContent(b"x", media_type="image/png")
    assert tm.ToolReturnPart("t", {"a": 1}).model_response_str() == '{"a":1}'
    assert tm.ToolReturnPart("t", None).model_response_str() == ""
    assert (
        tm.ToolReturnPart("t", ["only", image]).model_response_str() == "only"
    )  # files out, single unwrapped
    assert tm.ToolReturnPart("t", ["only"]).model_response_str() == '["only"]'  # a plain one-item list stays
    assert tm.ToolReturnPart("t", "boom", outcome="failed").model_response_str() == '{"error":"boom"}'
    assert tm.ToolReturnPart("t", "boom", outcome="failed").model_response_str(wrap_if_error=False) == "boom"
    assert tm.ToolReturnPart("t", "no", outcome="denied").model_response_str() == "no"
    retried = tm.ToolReturnPart("t", [{"msg": "bad"}], outcome="retried")
    assert retried.model_response_str() == '{"error":[{"msg":"bad"}]}'
    assert tm.ToolReturnPart("t", datetime(2026, 1, 1, tzinfo=UTC)).model_response_str() == (
        "2026-01-01T00:00:00Z"
    )
    assert tm.ToolReturnPart("t", 3).model_response_object() == {tm.RETURN_VALUE_KEY: 3}


# ---------------------------------------------------------------------------------------------------
# Multimodal content
# ---------------------------------------------------------------------------------------------------

URLS = [
    "https://e.com/a.png",
    "https://e.com/a.PNG",
    "https://e.com/a.png?x=1",
    "https://e.com/a.jpeg",
    "https://e.com/a.mp3",
    "https://e.com/a.wav",
    "https://e.com/a.oga",
    "https://e.com/a.flac",
    "https://e.com/a.aac",
    "https://e.com/a.pdf",
    "https://e.com/a.md",
    "https://e.com/a.yaml",
    "https://e.com/a.toml",
    "https://e.com/a.xml",
    "https://e.com/a.docx",
    "https://e.com/a.csv",
    "https://e.com/a.txt",
    "https://e.com/a.mkv",
    "https://e.com/a.mov",
    "https://e.com/a.webm",
    "https://e.com/a.three_gp",
    "https://e.com",
    "https://e.com/",
    "https://youtu.be/x",
    "https://www.youtube.com/watch?v=1",
    "https://music.youtube.com/x",
    "data:image/png;base64,AAAA",
    "https://e.com/a.tar.gz",
    "https://e.com/a.json",
    "https://e.com/a.svg",
    "https://e.com/a.rtf",
    "https://e.com/a.asciidoc",
    "https://e.com/a.mdx",
    "https://e.com/a.webp#frag",
    "https://e.com/a.pptx",
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("cls", ["ImageUrl", "AudioUrl", "DocumentUrl", "VideoUrl"])
def test_url_media_type_and_identifier_match_pydantic_ai(cls: str, url: str) -> None:
    """Same media type (or the same failure to infer one), identifier and format as pydantic-ai.

    One deliberate difference: an unknown format raises ValueError here, KeyError there.
    """
    theirs, ours = getattr(upstream(), cls)(url), getattr(tm, cls)(url)
    assert outcome(lambda: ours.media_type) == outcome(lambda: theirs.media_type)
    assert ours.identifier == theirs.identifier
    assert outcome(lambda: ours.format) == outcome(lambda: theirs.format)
    if cls == "VideoUrl":
        assert ours.is_youtube == theirs.is_youtube


def test_url_media_type_and_identifier() -> None:
    assert tm.ImageUrl("https://example.com/cat.png").media_type == "image/png"
    assert tm.ImageUrl("https://example.com/cat.png").identifier == "750ff4"
    assert tm.VideoUrl("https://youtu.be/abc").media_type == "video/mp4"
    assert tm.ImageUrl("https://x/y", media_type="image/gif", identifier="mine").identifier == "mine"
    with pytest.raises(ValueError, match="media_type"):
        _ = tm.ImageUrl("https://example.com/cat?format=png").media_type
    assert tm.UploadedFile("file-abc123", "openai").media_type == "application/octet-stream"
    assert tm.UploadedFile("file-abc123", "openai").identifier == "3a1a6c"
    # explicit values are not compared (as upstream): a JSON round trip makes them explicit
    assert tm.ImageUrl("https://e.x/a.png") == tm.ImageUrl(
        "https://e.x/a.png", media_type="image/png", identifier="x"
    )


MEDIA_TYPES = [
    "image/png",
    "image/bmp",
    "audio/mpeg",
    "audio/x-wav",
    "application/pdf",
    "text/plain",
    "application/json",
    "application/xml",
    "application/zip",
    "text/x-python",
    "video/mp4",
    "video/ogg",
    "application/octet-stream",
    "application/vnd.oasis.opendocument.text",
    "text/markdown",
    "application/yaml",
    "application/toml",
    "image/svg+xml",
    "application/msword",
    "application/rtf",
    "application/x-tar",
    "text/calendar",
]


@pytest.mark.parametrize("media_type", MEDIA_TYPES)
def test_binary_content_helpers_match_pydantic_ai(media_type: str) -> None:
    theirs = upstream().BinaryContent(b"\x00\xfb\xffdata", media_type=media_type)
    ours = tm.BinaryContent(b"\x00\xfb\xffdata", media_type=media_type)
    for name in (
        "format",
        "is_document",
        "is_image",
        "is_audio",
        "is_video",
        "identifier",
        "base64",
        "data_uri",
    ):
        assert outcome(getattr, ours, name) == outcome(getattr, theirs, name), name


def test_binary_content_helpers() -> None:
    content = tm.BinaryContent(b"\xfb\xff", media_type="image/png")
    assert content.base64 == "+/8="  # the standard alphabet (JSON uses the URL-safe one)
    assert content.data_uri == "data:image/png;base64,+/8="
    assert content.format == "png"
    assert tm.BinaryContent(b"", media_type="audio/mpeg").format == "mp3"
    assert tm.BinaryContent(b"", media_type="application/pdf").format == "pdf"
    with pytest.raises(ValueError, match="unknown media type"):
        _ = tm.BinaryContent(b"", media_type="image/bmp").format
    assert content.identifier == hashlib.sha1(b"\xfb\xff").hexdigest()[:6] == "4a2304"


@pytest.mark.parametrize(
    "uri",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "data:text/plain;base64,aGk%3D",
        "data:application/pdf;base64,JVBERg==",
    ],
)
def test_from_data_uri_matches_pydantic_ai(uri: str) -> None:
    theirs = upstream().BinaryContent.from_data_uri(uri)
    ours = tm.BinaryContent.from_data_uri(uri)
    assert (type(ours).__name__, ours.data, ours.media_type) == (
        type(theirs).__name__,
        theirs.data,
        theirs.media_type,
    )


def test_from_data_uri() -> None:
    image = tm.BinaryContent.from_data_uri("data:image/png;base64,+/8=")
    assert image == tm.BinaryImage(b"\xfb\xff", media_type="image/png")
    assert tm.BinaryContent.from_data_uri(image.data_uri) == image
    with pytest.raises(ValueError, match="data URI"):
        tm.BinaryContent.from_data_uri("https://x/y.png")
    with pytest.raises(ValueError, match="data URI"):
        tm.BinaryContent.from_data_uri("data:text/plain,hello")


def test_narrow_type() -> None:
    image = tm.BinaryContent(b"x", media_type="image/png", vendor_metadata={"detail": "low"})
    narrowed = tm.BinaryContent.narrow_type(image)
    assert type(narrowed) is tm.BinaryImage
    assert (narrowed.data, narrowed.media_type, narrowed.vendor_metadata) == (
        b"x",
        "image/png",
        {"detail": "low"},
    )
    assert narrowed != image  # a different class, as upstream
    pdf = tm.BinaryContent(b"x", media_type="application/pdf")
    assert tm.BinaryContent.narrow_type(pdf) is pdf


# ---------------------------------------------------------------------------------------------------
# Usage
# ---------------------------------------------------------------------------------------------------


def test_usage_addition_and_incr() -> None:
    a = RequestUsage(input_tokens=1, cache_read_tokens=1, details={"x": 1}, cost=Decimal("1"))
    b = RequestUsage(input_tokens=2, output_tokens=3, details={"x": 2, "y": 1}, extra={"web_searches": 2})
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.cache_read_tokens) == (3, 3, 1)
    assert total.details == {"x": 3, "y": 1}
    assert total.cost == Decimal("1")
    assert total.web_searches == 2 and total.extra == {"web_searches": 2}
    assert a.details == {"x": 1} and a.extra == {}  # + does not mutate its operands
    a.incr(b)
    assert a == total
    a.incr(RequestUsage(cost=Decimal("0.5")))
    assert a.cost == Decimal("1.5")
    assert (RequestUsage() + RequestUsage(cost=Decimal("2"))).cost == Decimal("2")
    with pytest.raises(AttributeError):
        _ = RequestUsage().web_searches


def test_usage_properties() -> None:
    usage = RequestUsage(input_tokens=10, cache_read_tokens=4, output_tokens=5)
    assert (usage.requests, usage.total_tokens, usage.cache_hit_ratio) == (1, 15, 0.4)
    assert RequestUsage().cache_hit_ratio == 0.0
    assert not RequestUsage().has_values()
    assert not RequestUsage(unmeasured_requests=1).has_values()
    assert RequestUsage(details={"r": 1}).has_values()
    assert RequestUsage(extra={"web_searches": 1}).has_values()
    assert RequestUsage().details == {} and RequestUsage().details is not RequestUsage().details


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"input_tokens": 1, "details": {"a": 1}},
        {"output_tokens": 2, "cost": Decimal("0.1")},
        {"input_tokens": 3, "cache_read_tokens": 1},
    ],
)
def test_usage_repr_and_arithmetic_match_pydantic_ai(kwargs: dict[str, Any]) -> None:
    pu = pytest.importorskip("pydantic_ai.usage")
    theirs, ours = pu.RequestUsage(**kwargs), RequestUsage(**kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.has_values() == theirs.has_values()
    other = {"input_tokens": 5, "output_tokens": 1, "details": {"a": 2, "b": 1}, "cost": Decimal("1")}
    theirs_sum, ours_sum = theirs + pu.RequestUsage(**other), ours + RequestUsage(**other)
    assert repr(ours_sum) == repr(theirs_sum)


def test_usage_repr_omits_zeros() -> None:
    assert repr(RequestUsage()) == "RequestUsage()"
    assert repr(RequestUsage(output_tokens=2, input_tokens=1, extra={"web_searches": 3})) == (
        "RequestUsage(input_tokens=1, output_tokens=2, web_searches=3)"
    )


# ---------------------------------------------------------------------------------------------------
# Deltas (upstream-api.md §3.2)
# ---------------------------------------------------------------------------------------------------


def test_text_delta_apply() -> None:
    part = tm.TextPart("Hel", id="t1", provider_name="a", provider_details={"x": 1})
    applied = te.TextPartDelta("lo", provider_details={"y": 2}).apply(part)
    assert applied == tm.TextPart("Hello", id="t1", provider_name="a", provider_details={"x": 1, "y": 2})
    assert te.TextPartDelta("", provider_name="b").apply(part).provider_name == "b"
    assert part.content == "Hel"  # parts are values: apply builds a new one
    with pytest.raises(UnexpectedModelBehavior):
        te.TextPartDelta("x").apply(tm.ThinkingPart("y"))


def test_thinking_delta_apply() -> None:
    part = tm.ThinkingPart("a", signature="s1", provider_details={"k": 1})
    assert te.ThinkingPartDelta(content_delta="b").apply(part) == tm.ThinkingPart(
        "ab", signature="s1", provider_details={"k": 1}
    )
    assert te.ThinkingPartDelta(signature_delta="s2").apply(part).signature == "s2"  # replaced, not appended
    with_callable = te.ThinkingPartDelta(provider_details=lambda d: {"seen": dict(d or {})}).apply(part)
    assert with_callable.provider_details == {"k": 1, "seen": {"k": 1}}  # computed from the old, merged in
    with pytest.raises(UnexpectedModelBehavior):
        te.ThinkingPartDelta(content_delta="x").apply(tm.TextPart("y"))


def test_thinking_deltas_coalesce() -> None:
    first = te.ThinkingPartDelta(content_delta="a", signature_delta="s1", provider_details={"x": 1})
    second = te.ThinkingPartDelta(content_delta="b", signature_delta="s2", provider_name="p")
    merged = second.apply(first)
    assert isinstance(merged, te.ThinkingPartDelta)
    assert (merged.content_delta, merged.signature_delta, merged.provider_name, merged.provider_details) == (
        "ab",
        "s2",
        "p",
        {"x": 1},
    )
    # a callable update after a dict one is chained, and resolved against the part it finally reaches
    chained = te.ThinkingPartDelta(
        content_delta="c", provider_details=lambda d: {**(d or {}), "n": len(d or {})}
    ).apply(first)
    assert isinstance(chained, te.ThinkingPartDelta) and callable(chained.provider_details)
    assert chained.apply(tm.ThinkingPart("", provider_details={"old": 0})).provider_details == {
        "old": 0,
        "x": 1,
        "n": 2,
    }
    assert te.ThinkingPartDelta(signature_delta="s").apply(te.ThinkingPartDelta()).content_delta is None
    # as 2.68: a delta with neither content nor signature cannot coalesce (a ValueError there, too)
    for empty in (te.ThinkingPartDelta(), te.ThinkingPartDelta(provider_details={"x": 1})):
        with pytest.raises(DeltaApplyError, match="no content or signature"):
            empty.apply(first)
    assert issubclass(DeltaApplyError, ValueError) and issubclass(DeltaApplyError, UnexpectedModelBehavior)
    # applied to a part, an empty delta changes nothing and does not raise
    assert te.ThinkingPartDelta().apply(tm.ThinkingPart("a")) == tm.ThinkingPart("a")


def test_tool_call_delta_apply() -> None:
    part = tm.ToolCallPart("get", '{"city"', "c1", provider_details={"a": 1})
    applied = te.ToolCallPartDelta(
        tool_name_delta="_weather", args_delta=': "Paris"}', tool_call_id="c2"
    ).apply(part)
    assert applied == tm.ToolCallPart("get_weather", '{"city": "Paris"}', "c2", provider_details={"a": 1})
    dict_part = tm.ToolCallPart("f", {"a": 1}, "c")
    assert te.ToolCallPartDelta(args_delta={"b": 2}).apply(dict_part).args == {"a": 1, "b": 2}
    assert te.ToolCallPartDelta(args_delta={"b": 2}).apply(tm.ToolCallPart("f", None, "c")).args == {"b": 2}
    with pytest.raises(UnexpectedModelBehavior):
        te.ToolCallPartDelta(args_delta="x").apply(dict_part)
    with pytest.raises(UnexpectedModelBehavior):
        te.ToolCallPartDelta(args_delta={"a": 1}).apply(part)
    with pytest.raises(UnexpectedModelBehavior):
        te.ToolCallPartDelta(args_delta="x").apply(tm.TextPart("y"))
    native = te.ToolCallPartDelta(args_delta="}").apply(tm.NativeToolCallPart("ws", "{", "n"))
    assert native == tm.NativeToolCallPart("ws", "{}", "n")


def test_tool_call_deltas_accumulate_until_named() -> None:
    first = te.ToolCallPartDelta(args_delta='{"a"', tool_call_id="c9")
    second = te.ToolCallPartDelta(args_delta=": 1}")
    pending = second.apply(first)
    assert pending == te.ToolCallPartDelta(args_delta='{"a": 1}', tool_call_id="c9")
    assert pending.as_part() is None  # type: ignore[union-attr]
    named = te.ToolCallPartDelta(tool_name_delta="f").apply(pending)
    assert named == tm.ToolCallPart("f", '{"a": 1}', "c9")
    generated = te.ToolCallPartDelta(tool_name_delta="g").as_part()
    assert generated is not None and generated.tool_call_id.startswith("pyd_ai_")


DELTA_CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"tool_name": "f", "args": '{"a"'}, {"args_delta": ": 1}"}),
    ({"tool_name": "f", "args": {"a": 1}}, {"args_delta": {"b": 2}}),
    ({"tool_name": "f", "args": None}, {"args_delta": "{}"}),
    ({"tool_name": "f"}, {"tool_name_delta": "_x"}),
    ({"tool_name": "f", "tool_call_id": "c1"}, {"tool_call_id": "c2"}),
    ({"tool_name": "f", "args": "{"}, {"args_delta": {"a": 1}}),
    ({"tool_name": "f", "args": {"a": 1}}, {"args_delta": "x"}),
    ({"tool_name": "f", "provider_details": {"a": 1}}, {"provider_details": {"b": 1}, "provider_name": "p"}),
]


@pytest.mark.parametrize(("part", "delta"), DELTA_CASES)
def test_tool_call_delta_apply_matches_pydantic_ai(part: dict[str, Any], delta: dict[str, Any]) -> None:
    pm = upstream()
    part = {"tool_call_id": "c0", **part}

    def result(fn: Any) -> str:
        try:
            return repr(fn())
        except UnexpectedModelBehavior:
            return "UnexpectedModelBehavior"
        except Exception as exc:
            return type(exc).__name__

    theirs = result(lambda: pm.ToolCallPartDelta(**delta).apply(pm.ToolCallPart(**part)))
    ours = result(lambda: te.ToolCallPartDelta(**delta).apply(tm.ToolCallPart(**part)))
    assert ours == theirs


# ---------------------------------------------------------------------------------------------------
# Reprs and immutability
# ---------------------------------------------------------------------------------------------------


def test_reprs_omit_defaults() -> None:
    assert repr(tm.TextPart("x")) == "TextPart(content='x')"
    assert (
        repr(tm.ToolCallPart("f", {"a": 1}, "c"))
        == "ToolCallPart(tool_name='f', args={'a': 1}, tool_call_id='c')"
    )
    assert repr(tm.ModelRequest([])) == "ModelRequest(parts=[])"
    assert repr(tm.CachePoint()) == "CachePoint()"
    assert (
        repr(tm.ImageUrl("https://a/b", media_type="image/png"))
        == "ImageUrl(url='https://a/b', media_type='image/png')"
    )
    assert "timestamp" not in repr(tm.UserPromptPart("x"))  # "now" is a default too
    assert (
        repr(te.PartDeltaEvent(0, te.TextPartDelta("x")))
        == "PartDeltaEvent(index=0, delta=TextPartDelta(content_delta='x'))"
    )


@pytest.mark.parametrize(
    "name", ["TextPart", "ToolCallPart", "ThinkingPart", "ModelRequest", "BinaryContent", "ImageUrl"]
)
def test_reprs_match_pydantic_ai(name: str) -> None:
    pm = upstream()
    args: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "TextPart": (("x",), {}),
        "ToolCallPart": (("f", {"a": 1}, "c"), {}),
        "ThinkingPart": (("x",), {"signature": "s"}),
        "ModelRequest": (([],), {"instructions": "i"}),
        "BinaryContent": ((b"x",), {"media_type": "image/png"}),
        "ImageUrl": (("https://a/b.png",), {}),
    }
    positional, keywords = args[name]
    theirs = getattr(pm, name)(*positional, **keywords)
    assert repr(getattr(tm, name)(*positional, **keywords)) == repr(theirs)


@pytest.mark.parametrize(
    "value",
    [
        tm.ModelRequest([]),
        tm.ModelResponse([]),
        tm.TextPart("x"),
        tm.UserPromptPart("x"),
        tm.ToolReturnPart("t", 1),
        tm.ImageUrl("https://a/b.png"),
        tm.BinaryContent(b"", media_type="image/png"),
    ],
    ids=lambda v: type(v).__name__,
)
def test_messages_are_frozen(value: Any) -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        value.kind = "other"
    field = attrs.fields(type(value))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(value, field, None)
    assert attrs.evolve(value) == value


def test_discriminators_are_fixed_fields() -> None:
    assert tm.ModelRequest([]).kind == "request"
    assert tm.ModelResponse([]).kind == "response"
    assert tm.ToolCallPart("f").part_kind == "tool-call"
    assert tm.NativeToolCallPart("f").part_kind == "builtin-tool-call"
    assert te.ToolCallPartDelta().part_delta_kind == "tool_call"
    assert te.FinalResultEvent(None, None).event_kind == "final_result"
    with pytest.raises(TypeError):
        tm.TextPart("x", part_kind="thinking")  # type: ignore[call-arg]
