"""InstrumentedModel: one ``chat`` CLIENT span per request with pydantic-ai's v5 attributes."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import orjson
import pytest
import trio

from trio_direct import (
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolDefinition,
    UserError,
    UserPromptPart,
    model_request,
    model_request_stream,
)
from trio_direct.messages import ModelMessage
from trio_direct.models.fallback import FallbackModel
from trio_direct.models.function import AgentInfo, FunctionModel
from trio_direct.models.test import TestModel

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from trio_direct.models.instrumented import (
    InstrumentationSettings,
    InstrumentedModel,
    instrument_model,
)

WEATHER = ToolDefinition(
    name="get_weather",
    description="Weather",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
MESSAGES: list[ModelMessage] = [
    ModelRequest([SystemPromptPart("sys"), UserPromptPart("hi")], instructions="Be brief"),
]


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def settings(self, **kwargs: Any) -> InstrumentationSettings:
        return InstrumentationSettings(
            tracer_provider=self.tracer_provider, meter_provider=self.meter_provider, **kwargs
        )

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def only_span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, spans
        return spans[0]

    def metric_points(self, name: str) -> list[tuple[dict[str, Any], float]]:
        data = self.reader.get_metrics_data()
        points: list[tuple[dict[str, Any], float]] = []
        if data is None:
            return points
        for resource in data.resource_metrics:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            points.append((dict(point.attributes or {}), point.sum))  # type: ignore[union-attr]
        return points


@pytest.fixture
def otel() -> Iterator[Telemetry]:
    telemetry = Telemetry()
    yield telemetry
    telemetry.tracer_provider.shutdown()
    telemetry.meter_provider.shutdown()


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def test_request_span_matches_the_reference_capture(otel: Telemetry) -> None:
    model = InstrumentedModel(TestModel(), otel.settings())
    response = await model_request(
        model,
        MESSAGES,
        model_settings={"temperature": 0.5, "max_tokens": 100},
        model_request_parameters=ModelRequestParameters(function_tools=[WEATHER]),
    )
    span = otel.only_span()
    assert (span.name, span.kind) == ("chat test", SpanKind.CLIENT)
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == "pydantic-ai"
    attrs = attributes(span)
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "test",
        "gen_ai.system": "test",
        "gen_ai.request.model": "test",
        "gen_ai.request.max_tokens": 100,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.usage.input_tokens": 52,
        "gen_ai.usage.output_tokens": 5,
        "gen_ai.response.model": "test",
    }
    assert {k: attrs[k] for k in expected} == expected
    assert orjson.loads(attrs["gen_ai.tool.definitions"]) == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "parameters": WEATHER.parameters_json_schema,
        }
    ]
    assert orjson.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text", "content": "sys"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]},
    ]
    assert orjson.loads(attrs["gen_ai.output.messages"]) == [
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "pyd_ai_tool_call_id__get_weather",
                    "name": "get_weather",
                    "arguments": {"city": "a"},
                }
            ],
        }
    ]
    assert orjson.loads(attrs["gen_ai.system_instructions"]) == [{"type": "text", "content": "Be brief"}]
    assert orjson.loads(attrs["model_request_parameters"])["function_tools"][0]["name"] == "get_weather"
    assert response.usage.input_tokens == 52
    tokens = sorted((a["gen_ai.token.type"], v) for a, v in otel.metric_points("gen_ai.client.token.usage"))
    assert tokens == [("input", 52), ("output", 5)]
    point_attributes = otel.metric_points("gen_ai.client.token.usage")[0][0]
    assert point_attributes["gen_ai.response.model"] == "test"
    assert point_attributes["gen_ai.request.model"] == "test"


async def test_span_attributes_match_pydantic_ai(otel: Telemetry) -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import direct
    from pydantic_ai import messages as um
    from pydantic_ai.models import ModelRequestParameters as UpParams
    from pydantic_ai.models.instrumented import InstrumentationSettings as UpSettings
    from pydantic_ai.models.instrumented import InstrumentedModel as UpInstrumented
    from pydantic_ai.models.test import TestModel as UpTestModel
    from pydantic_ai.tools import ToolDefinition as UpTool

    settings: Any = {"temperature": 0.5, "max_tokens": 100, "seed": 3}
    await model_request(
        InstrumentedModel(TestModel(), otel.settings()),
        MESSAGES,
        model_settings=settings,
        model_request_parameters=ModelRequestParameters(function_tools=[WEATHER]),
    )
    theirs = Telemetry()
    await direct.model_request(
        UpInstrumented(UpTestModel(), UpSettings(tracer_provider=theirs.tracer_provider)),
        [um.ModelRequest([um.SystemPromptPart("sys"), um.UserPromptPart("hi")], instructions="Be brief")],
        model_settings=settings,
        model_request_parameters=UpParams(
            function_tools=[
                UpTool(
                    name="get_weather",
                    description="Weather",
                    parameters_json_schema=WEATHER.parameters_json_schema,
                )
            ]
        ),
    )
    ours, up = attributes(otel.only_span()), attributes(theirs.only_span())
    compared = [
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.system",
        "gen_ai.request.model",
        "gen_ai.request.max_tokens",
        "gen_ai.request.temperature",
        "gen_ai.request.seed",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.response.model",
    ]
    assert {k: ours.get(k) for k in compared} == {k: up.get(k) for k in compared}
    for key in (
        "gen_ai.tool.definitions",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
    ):
        assert orjson.loads(ours[key]) == orjson.loads(up[key]), key
    assert otel.only_span().name == theirs.only_span().name
    assert otel.only_span().kind == theirs.only_span().kind
    theirs.tracer_provider.shutdown()
    theirs.meter_provider.shutdown()


async def test_stream_span_records_the_consumed_response_and_time_to_first_chunk(otel: Telemetry) -> None:
    model = InstrumentedModel(TestModel(custom_output_text="one two three four"), otel.settings())
    async with model_request_stream(model, MESSAGES) as stream:
        async for event in stream:
            if event.event_kind == "part_delta":
                break  # early exit: the span records the partial response
    attrs = attributes(otel.only_span())
    assert orjson.loads(attrs["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "one "}]}
    ]
    assert attrs["gen_ai.client.operation.time_to_first_chunk"] >= 0
    assert otel.metric_points("gen_ai.client.operation.time_to_first_chunk")


async def test_errors_are_recorded_and_the_span_ends(otel: Telemetry) -> None:
    error = ModelHTTPError.for_category(
        ModelRateLimitError, status_code=429, model_name="m", body="slow down"
    )

    async def failing(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise error

    with pytest.raises(ModelRateLimitError):
        await model_request(InstrumentedModel(FunctionModel(failing), otel.settings()), MESSAGES)
    span = otel.only_span()
    assert span.status.status_code == StatusCode.ERROR
    assert "slow down" in (span.status.description or "")
    (event,) = span.events
    assert event.name == "exception"
    otel.exporter.clear()

    with pytest.raises(ModelRateLimitError):
        await model_request(
            InstrumentedModel(FunctionModel(failing), otel.settings(include_content=False)), MESSAGES
        )
    span = otel.only_span()
    assert span.status.status_code == StatusCode.ERROR and span.status.description is None
    (event,) = span.events
    assert event.attributes is not None and "exception.message" not in event.attributes
    assert not otel.metric_points("gen_ai.client.token.usage")


async def test_stream_open_errors_end_the_span(otel: Telemetry) -> None:
    async def empty(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        return
        yield  # pragma: no cover

    with pytest.raises(ValueError, match="at least one item"):
        async with model_request_stream(
            InstrumentedModel(FunctionModel(stream_function=empty), otel.settings()), MESSAGES
        ):
            raise AssertionError("not reached")  # pragma: no cover
    assert otel.only_span().status.status_code == StatusCode.ERROR


async def test_cancellation_ends_the_span(otel: Telemetry) -> None:
    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await trio.sleep_forever()
        raise AssertionError("not reached")  # pragma: no cover

    with trio.move_on_after(0.01):
        await model_request(InstrumentedModel(FunctionModel(slow), otel.settings()), MESSAGES)
    span = otel.only_span()
    assert span.end_time is not None
    assert span.status.status_code == StatusCode.UNSET  # cancellation is not an error of the request


async def test_without_content(otel: Telemetry) -> None:
    model = InstrumentedModel(
        TestModel(), otel.settings(include_content=False, include_model_request_parameters=False)
    )
    await model_request(
        model, MESSAGES, model_request_parameters=ModelRequestParameters(function_tools=[WEATHER])
    )
    attrs = attributes(otel.only_span())
    assert orjson.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "system", "parts": [{"type": "text"}]},
        {"role": "user", "parts": [{"type": "text"}]},
    ]
    assert orjson.loads(attrs["gen_ai.output.messages"])[0]["parts"][0] == {
        "type": "tool_call",
        "id": "pyd_ai_tool_call_id__get_weather",
        "name": "get_weather",
    }
    assert "gen_ai.system_instructions" not in attrs
    assert "model_request_parameters" not in attrs


async def test_fallback_points_the_span_at_the_model_that_answered(otel: Telemetry) -> None:
    async def failing(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ModelHTTPError.for_category(ModelRateLimitError, status_code=429, model_name="f")

    model = InstrumentedModel(
        FallbackModel(FunctionModel(failing), TestModel(model_name="backup")), otel.settings()
    )
    await model_request(model, MESSAGES)
    span = otel.only_span()
    assert span.name == "chat backup"
    attrs = attributes(span)
    assert (attrs["gen_ai.request.model"], attrs["gen_ai.system"]) == ("backup", "test")


async def test_api_keys_and_url_credentials_never_reach_a_span(otel: Telemetry) -> None:
    secret = "sk-very-secret-123"

    class KeyedModel(TestModel):
        api_key = secret

        @property
        def base_url(self) -> str:
            return f"https://user:{secret}@api.example.com:8443/v1"

    with pytest.raises(ModelRateLimitError):

        async def failing(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            raise ModelHTTPError.for_category(
                ModelRateLimitError,
                status_code=429,
                model_name="m",
                headers={"authorization": f"Bearer {secret}"},
            )

        await model_request(InstrumentedModel(FunctionModel(failing), otel.settings()), MESSAGES)
    await model_request(InstrumentedModel(KeyedModel(), otel.settings()), MESSAGES)
    spans = otel.spans()
    assert len(spans) == 2
    attrs = attributes(spans[1])
    assert (attrs["server.address"], attrs["server.port"]) == ("api.example.com", 8443)
    for span in spans:
        dumped = repr(attributes(span)) + repr([(e.name, dict(e.attributes or {})) for e in span.events])
        dumped += repr(span.status.description)
        assert secret not in dumped


async def test_instrument_model_and_direct_flag() -> None:
    model = TestModel()
    assert instrument_model(model, False) is model
    wrapped = instrument_model(model)
    assert isinstance(wrapped, InstrumentedModel) and wrapped.wrapped is model
    assert instrument_model(wrapped) is wrapped
    # the global (no-op unless configured) tracer provider: the request simply works
    response = await model_request(model, MESSAGES, instrument=True)
    assert response.parts == [TextPart("success (no tool calls)")]
    with pytest.raises(ValueError, match="versions 5 and 6"):
        InstrumentationSettings(version=4)  # type: ignore[arg-type]


async def test_version_6_puts_tool_results_in_tool_messages(otel: Telemetry) -> None:
    from trio_direct import ToolReturnPart

    history: list[ModelMessage] = [
        ModelRequest.user_text_prompt("hi"),
        ModelResponse([]),
        ModelRequest([ToolReturnPart("get_weather", {"t": 20}, "c1"), UserPromptPart("thanks")]),
    ]
    tool_result = {"type": "tool_call_response", "id": "c1", "name": "get_weather", "result": {"t": 20}}
    thanks = {"type": "text", "content": "thanks"}
    await model_request(InstrumentedModel(TestModel(), otel.settings(version=5)), history)
    messages = orjson.loads(attributes(otel.only_span())["gen_ai.input.messages"])
    assert messages[-1] == {"role": "user", "parts": [tool_result, thanks]}
    otel.exporter.clear()
    await model_request(InstrumentedModel(TestModel(), otel.settings(version=6)), history)
    messages = orjson.loads(attributes(otel.only_span())["gen_ai.input.messages"])
    assert messages[-2:] == [{"role": "tool", "parts": [tool_result]}, {"role": "user", "parts": [thanks]}]


def test_missing_opentelemetry_is_a_user_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)
    with pytest.raises(UserError, match="pip install opentelemetry-api"):
        InstrumentationSettings()
    with pytest.raises(UserError, match="pip install opentelemetry-api"):
        instrument_model(TestModel())
