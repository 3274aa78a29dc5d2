"""Differential: InstrumentedModel's ``chat`` span carries the attributes pydantic-ai 2.68's does for the
same request, side by side through OpenTelemetry's in-memory exporter, and usage attributes match
2.68's (zero-valued details, detail keys, the aggregated names)."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

from trio_direct import direct as td
from trio_direct import messages as tm
from trio_direct.compat import PYDANTIC_AI_FIELD_OMISSIONS
from trio_direct.models import function as tf
from trio_direct.models.instrumented import InstrumentationSettings
from trio_direct.serialization import messages_to_python
from trio_direct.tools import ModelRequestParameters, ToolDefinition
from trio_direct.usage import RequestUsage

pytest.importorskip("opentelemetry.sdk")
pm: ModuleType = pytest.importorskip("pydantic_ai.messages")
pdirect: ModuleType = pytest.importorskip("pydantic_ai.direct")
pfunction: ModuleType = pytest.importorskip("pydantic_ai.models.function")
pinstrumented: ModuleType = pytest.importorskip("pydantic_ai.models.instrumented")
pusage: ModuleType = pytest.importorskip("pydantic_ai.usage")
pmodels: ModuleType = pytest.importorskip("pydantic_ai.models")
ptools: ModuleType = pytest.importorskip("pydantic_ai.tools")

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

USAGES = [
    {},
    {"input_tokens": 10, "output_tokens": 3},
    {"input_tokens": 10, "details": {"reasoning_tokens": 0, "accepted_prediction_tokens": 4}},
    {"input_tokens": 7, "cache_write_tokens": 2, "cache_read_tokens": 3, "details": {"input_tokens": 7}},
    {"output_tokens": 1, "input_audio_tokens": 4, "cache_audio_read_tokens": 1, "output_audio_tokens": 2},
]


@pytest.mark.parametrize("counts", USAGES)
def test_usage_attributes_match(counts: dict[str, Any]) -> None:
    ours = RequestUsage(**counts).opentelemetry_attributes()
    theirs = pusage.RequestUsage(**counts).opentelemetry_attributes()
    assert list(ours.items()) == list(theirs.items())


@pytest.mark.parametrize("aggregated", [True, False])
@pytest.mark.parametrize("counts", USAGES)
def test_aggregated_usage_attributes_match(counts: dict[str, Any], aggregated: bool) -> None:
    ours = InstrumentationSettings(use_aggregated_usage_attribute_names=aggregated)
    theirs = pinstrumented.InstrumentationSettings(use_aggregated_usage_attribute_names=aggregated)
    assert ours.aggregated_usage_attributes(RequestUsage(**counts)) == theirs.aggregated_usage_attributes(
        pusage.RequestUsage(**counts)
    )


AGENT_ONLY_FIELDS = frozenset().union(*(fields for fields, _ in PYDANTIC_AI_FIELD_OMISSIONS.values()))


def assert_same_but_omitted(mine: Any, theirs: Any, path: str = "") -> None:
    """``mine`` equals ``theirs`` except for object keys only 2.68's Agent uses, which ``mine`` lacks."""
    if isinstance(theirs, dict):
        assert isinstance(mine, dict), path
        assert set(theirs) - set(mine) <= AGENT_ONLY_FIELDS, (path, set(theirs) - set(mine))
        assert set(mine) <= set(theirs), (path, set(mine) - set(theirs))
        for key in mine:
            assert_same_but_omitted(mine[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(mine, list) and len(mine) == len(theirs), path
        for i, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            assert_same_but_omitted(a, b, f"{path}[{i}]")
    else:
        assert mine == theirs, path


def chat_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    [span] = [s for s in exporter.get_finished_spans() if s.name.startswith("chat")]
    return span


def comparable(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes, JSON ones parsed, with the values that are the current time masked."""
    result: dict[str, Any] = {}
    for key, value in (span.attributes or {}).items():
        if isinstance(value, str) and value[:1] in "[{":
            try:
                value = json.loads(value)
            except ValueError:
                pass
        result[key] = value
    result.pop("gen_ai.response.id", None)
    return {"name": span.name, "kind": span.kind.name, "attributes": result}


def reply_for(lib: ModuleType, usage: Any) -> Any:
    def reply(messages: list[Any], info: Any) -> Any:
        return lib.ModelResponse(
            parts=[lib.TextPart("calling"), lib.ToolCallPart("weather", {"city": "Paris"}, "c1")],
            usage=usage,
            model_name="fn",
            finish_reason="tool_call",
        )

    return reply


HISTORY = [
    tm.ModelRequest(
        [tm.SystemPromptPart("sys"), tm.UserPromptPart("What's the weather?")], instructions="Be brief"
    ),
]


@pytest.mark.parametrize("counts", USAGES[1:])
@pytest.mark.parametrize("include_content", [True, False])
async def test_chat_span_matches_pydantic_ai(counts: dict[str, Any], include_content: bool) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    ours_exporter, theirs_exporter = InMemorySpanExporter(), InMemorySpanExporter()
    ours_provider, theirs_provider = TracerProvider(), TracerProvider()
    ours_provider.add_span_processor(SimpleSpanProcessor(ours_exporter))
    theirs_provider.add_span_processor(SimpleSpanProcessor(theirs_exporter))
    await td.model_request(
        tf.FunctionModel(reply_for(tm, RequestUsage(**counts))),
        HISTORY,
        model_request_parameters=ModelRequestParameters(
            function_tools=[ToolDefinition(name="weather", parameters_json_schema=schema)]
        ),
        instrument=InstrumentationSettings(tracer_provider=ours_provider, include_content=include_content),
    )
    await pdirect.model_request(
        pfunction.FunctionModel(reply_for(pm, pusage.RequestUsage(**counts))),
        pm.ModelMessagesTypeAdapter.validate_python(messages_to_python(HISTORY)),
        model_request_parameters=pmodels.ModelRequestParameters(
            function_tools=[ptools.ToolDefinition(name="weather", parameters_json_schema=schema)]
        ),
        instrument=pinstrumented.InstrumentationSettings(
            tracer_provider=theirs_provider, include_content=include_content
        ),
    )
    ours, theirs = comparable(chat_span(ours_exporter)), comparable(chat_span(theirs_exporter))
    # the instrumentation scope's own name and version differ by design; everything else matches
    assert ours["name"] == theirs["name"] and ours["kind"] == theirs["kind"]
    different = {
        key: (ours["attributes"].get(key), theirs["attributes"].get(key))
        for key in ours["attributes"].keys() | theirs["attributes"].keys()
        if ours["attributes"].get(key) != theirs["attributes"].get(key)
    }
    # model_request_parameters: 2.68's JSON also carries the Agent-only fields trio_direct leaves out
    # (trio_direct.compat.PYDANTIC_AI_FIELD_OMISSIONS); every field both have is the same
    if "model_request_parameters" in different:
        mine, their = different.pop("model_request_parameters")
        assert_same_but_omitted(mine, their)
    assert different == {}


PARTS = [
    tm.SystemPromptPart("sys"),
    tm.UserPromptPart(
        ["hi", tm.ImageUrl("https://e.x/a.png"), tm.BinaryContent(b"x", media_type="audio/wav")]
    ),
    tm.ToolReturnPart("t", {"a": 1}, "c1"),
    tm.RetryPromptPart("bad", tool_name="t", tool_call_id="c2"),
    tm.RetryPromptPart("bad"),
    tm.RetryFeedbackPart("be nicer", retry=tm.RetryInfo("model_retry")),
    tm.SpeechPart(speaker="user", transcript="hello", audio=tm.BinaryContent(b"pcm", media_type="audio/pcm")),
    tm.CompactionPart("summary"),
    tm.TextPart("text"),
    tm.ThinkingPart("thinking"),
    tm.ToolCallPart("t", {"a": 1}, "c3"),
]


@pytest.mark.parametrize("include_content", [True, False])
@pytest.mark.parametrize("index", range(len(PARTS)))
def test_otel_message_parts_match(index: int, include_content: bool) -> None:
    import warnings

    part = PARTS[index]
    settings = InstrumentationSettings(include_content=include_content)
    their_settings = pinstrumented.InstrumentationSettings(include_content=include_content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if isinstance(part, tm.RetryPromptPart):  # 2.68 loads a stored one as another part: build it
            their_part = pm.RetryPromptPart(
                part.content, tool_name=part.tool_name, tool_call_id=part.tool_call_id
            )
        elif isinstance(part, tm.TextPart | tm.ThinkingPart | tm.ToolCallPart):
            # 2.68 renders response parts through the response
            [loaded] = pm.ModelMessagesTypeAdapter.validate_python(
                messages_to_python([tm.ModelResponse([part])])
            )
            assert tm.ModelResponse([part]).otel_message_parts(settings) == [
                dict(p) for p in loaded.otel_message_parts(their_settings)
            ]
            return
        else:
            [loaded] = pm.ModelMessagesTypeAdapter.validate_python(
                messages_to_python([tm.ModelRequest([part])])
            )
            their_part = loaded.parts[0]
    ours = part.otel_message_parts(settings)
    assert ours == [dict(p) for p in their_part.otel_message_parts(their_settings)]
