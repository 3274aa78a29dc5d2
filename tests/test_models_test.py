"""TestModel: pydantic-ai's decision order, argument generator, usage estimator and stream shapes.

Where pydantic-ai-slim is installed (the dev venv has 2.68.0 as an oracle) the same inputs go to its
TestModel and the parts, usage and event sequences must match.
"""

from __future__ import annotations

from typing import Any

import pytest

from trio_direct import (
    FinalResultEvent,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    RequestUsage,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    UserError,
    UserPromptPart,
    model_request,
    model_request_stream,
)
from trio_direct.models import infer_model
from trio_direct.models.test import TestModel, from_name, generate_tool_args

WEATHER = ToolDefinition(
    name="get_weather",
    description="Weather",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
    },
)
FINAL = ToolDefinition(
    name="final_result",
    kind="output",
    parameters_json_schema={
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "number"}},
        "required": ["answer"],
    },
)


def prompt(text: str = "What is the capital of France?") -> list[ModelRequest | ModelResponse]:
    return [ModelRequest.user_text_prompt(text)]


# --------------------------------------------------------------------------------------------------
# pydantic-ai as an oracle


def upstream() -> Any:
    return pytest.importorskip("pydantic_ai")


def to_upstream_tool(tool: ToolDefinition) -> Any:
    from pydantic_ai.tools import ToolDefinition as UpTool

    return UpTool(
        name=tool.name,
        description=tool.description,
        parameters_json_schema=tool.parameters_json_schema,
        kind=tool.kind,
        outer_typed_dict_key=tool.outer_typed_dict_key,
    )


def to_upstream_params(params: ModelRequestParameters) -> Any:
    from pydantic_ai.models import ModelRequestParameters as UpParams

    return UpParams(
        function_tools=[to_upstream_tool(t) for t in params.function_tools],
        output_tools=[to_upstream_tool(t) for t in params.output_tools],
        allow_text_output=params.allow_text_output,
        output_mode=params.output_mode,
    )


def to_upstream_messages(messages: list[ModelRequest | ModelResponse]) -> list[Any]:
    from pydantic_ai import messages as um

    out: list[Any] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            parts: list[Any] = []
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    parts.append(um.SystemPromptPart(part.content))
                elif isinstance(part, UserPromptPart):
                    assert isinstance(part.content, str)
                    parts.append(um.UserPromptPart(part.content))
                elif isinstance(part, ToolReturnPart):
                    parts.append(
                        um.ToolReturnPart(part.tool_name, part.content, tool_call_id=part.tool_call_id)
                    )
                else:
                    raise AssertionError(part)
            out.append(um.ModelRequest(parts=parts, instructions=message.instructions))
        else:
            response_parts: list[Any] = []
            for rp in message.parts:
                if isinstance(rp, TextPart):
                    response_parts.append(um.TextPart(rp.content))
                elif isinstance(rp, ToolCallPart):
                    response_parts.append(
                        um.ToolCallPart(rp.tool_name, rp.args, tool_call_id=rp.tool_call_id)
                    )
                else:
                    raise AssertionError(rp)
            out.append(um.ModelResponse(parts=response_parts))
    return out


def shape(part: Any) -> tuple[Any, ...]:
    """A part as comparable plain data (tool-call ids kept: TestModel's are deterministic)."""
    if part.part_kind == "text":
        return ("text", part.content)
    assert part.part_kind == "tool-call"
    return ("tool-call", part.tool_name, part.args, part.tool_call_id)


def event_shape(event: Any) -> tuple[Any, ...]:
    kind = event.event_kind
    if kind == "part_start":
        return (kind, event.index, shape(event.part), event.previous_part_kind)
    if kind == "part_delta":
        return (kind, event.index, event.delta.part_delta_kind, getattr(event.delta, "content_delta", None))
    if kind == "part_end":
        return (kind, event.index, shape(event.part), event.next_part_kind)
    return (kind, event.tool_name, event.tool_call_id)


def usage_shape(usage: Any) -> tuple[int, int]:
    return (usage.input_tokens, usage.output_tokens)


async def upstream_request(
    model_kwargs: dict[str, Any], messages: list[Any], params: ModelRequestParameters
) -> Any:
    upstream()
    from pydantic_ai import direct
    from pydantic_ai.models.test import TestModel as UpTestModel

    return await direct.model_request(
        UpTestModel(**model_kwargs),
        to_upstream_messages(messages),
        model_request_parameters=to_upstream_params(params),
    )


CASES: list[tuple[str, dict[str, Any], list[ModelRequest | ModelResponse], ModelRequestParameters]] = [
    ("default", {}, prompt(), ModelRequestParameters()),
    ("tool", {}, prompt("hi"), ModelRequestParameters(function_tools=[WEATHER])),
    (
        "after-tool",
        {},
        [
            ModelRequest.user_text_prompt("hi"),
            ModelResponse(
                [ToolCallPart("get_weather", {"city": "a", "days": 0}, "pyd_ai_tool_call_id__get_weather")]
            ),
            ModelRequest([ToolReturnPart("get_weather", "sunny", "pyd_ai_tool_call_id__get_weather")]),
        ],
        ModelRequestParameters(function_tools=[WEATHER]),
    ),
    ("custom-text", {"custom_output_text": "The capital is Paris"}, prompt(), ModelRequestParameters()),
    (
        "output-tool",
        {},
        prompt(),
        ModelRequestParameters(output_tools=[FINAL], allow_text_output=False, output_mode="tool"),
    ),
    (
        "output-tool-seed",
        {"seed": 3},
        prompt(),
        ModelRequestParameters(output_tools=[FINAL, WEATHER], allow_text_output=False, output_mode="tool"),
    ),
    (
        "custom-args",
        {"custom_output_args": {"answer": "Paris"}},
        prompt(),
        ModelRequestParameters(output_tools=[FINAL], allow_text_output=False, output_mode="tool"),
    ),
    (
        "call-tools-subset",
        {"call_tools": ["get_weather"]},
        prompt("hi"),
        ModelRequestParameters(function_tools=[WEATHER, ToolDefinition(name="other")]),
    ),
    (
        "system-and-instructions",
        {},
        [
            ModelRequest(
                [SystemPromptPart("You are terse."), UserPromptPart("What, is: this?")], instructions="x"
            )
        ],
        ModelRequestParameters(),
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "messages", "params"), CASES, ids=[c[0] for c in CASES])
async def test_request_matches_pydantic_ai(
    name: str,
    kwargs: dict[str, Any],
    messages: list[ModelRequest | ModelResponse],
    params: ModelRequestParameters,
) -> None:
    ours = await model_request(TestModel(**kwargs), messages, model_request_parameters=params)
    theirs = await upstream_request(kwargs, messages, params)
    assert [shape(p) for p in ours.parts] == [shape(p) for p in theirs.parts]
    assert usage_shape(ours.usage) == usage_shape(theirs.usage)
    assert (
        (ours.model_name, ours.provider_name) == (theirs.model_name, theirs.provider_name) == ("test", "test")
    )
    assert ours.finish_reason is None and ours.provider_response_id is None


@pytest.mark.parametrize(("name", "kwargs", "messages", "params"), CASES, ids=[c[0] for c in CASES])
async def test_stream_matches_pydantic_ai(
    name: str,
    kwargs: dict[str, Any],
    messages: list[ModelRequest | ModelResponse],
    params: ModelRequestParameters,
) -> None:
    upstream()
    from pydantic_ai import direct
    from pydantic_ai.models.test import TestModel as UpTestModel

    async with model_request_stream(TestModel(**kwargs), messages, model_request_parameters=params) as stream:
        ours = [event_shape(e) async for e in stream]
        our_response = stream.get()
    async with direct.model_request_stream(
        UpTestModel(**kwargs),
        to_upstream_messages(messages),
        model_request_parameters=to_upstream_params(params),
    ) as up_stream:
        theirs = [event_shape(e) async for e in up_stream]
        their_response = up_stream.get()
    assert ours == theirs
    assert [shape(p) for p in our_response.parts] == [shape(p) for p in their_response.parts]
    assert usage_shape(our_response.usage) == usage_shape(their_response.usage)
    assert our_response.state == their_response.state == "complete"


# --------------------------------------------------------------------------------------------------
# The documented examples, without the oracle


async def test_default_answer_and_usage() -> None:
    response = await model_request("test", prompt())
    assert response.parts == [TextPart("success (no tool calls)")]
    assert response.usage == RequestUsage(input_tokens=56, output_tokens=4)
    assert (response.model_name, response.provider_name) == ("test", "test")


async def test_tool_call_then_text_summary() -> None:
    params = ModelRequestParameters(function_tools=[WEATHER])
    first = await model_request("test", prompt("hi"), model_request_parameters=params)
    assert first.parts == [
        ToolCallPart("get_weather", {"city": "a", "days": 0}, "pyd_ai_tool_call_id__get_weather")
    ]
    history = [
        *prompt("hi"),
        first,
        ModelRequest([ToolReturnPart("get_weather", "sunny", "pyd_ai_tool_call_id__get_weather")]),
    ]
    second = await model_request("test", history, model_request_parameters=params)
    assert second.parts == [TextPart('{"get_weather":"sunny"}')]


async def test_retry_prompt_recalls_the_named_tool() -> None:
    params = ModelRequestParameters(function_tools=[WEATHER], output_tools=[FINAL])
    history = [
        *prompt("hi"),
        ModelResponse([ToolCallPart("get_weather", {"city": "a", "days": 0}, "c1")]),
        ModelRequest([RetryPromptPart("bad city", tool_name="get_weather", tool_call_id="c1")]),
    ]
    response = await model_request(TestModel(), history, model_request_parameters=params)
    assert [(p.part_kind, getattr(p, "tool_name", None)) for p in response.parts] == [
        ("tool-call", "get_weather")
    ]
    # an output-tool retry keeps the deterministic id
    history[-1] = ModelRequest([RetryPromptPart("bad", tool_name="final_result")])
    response = await model_request(TestModel(), history, model_request_parameters=params)
    assert response.parts == [
        ToolCallPart("final_result", {"answer": "a"}, "pyd_ai_tool_call_id__final_result")
    ]
    # a retry naming no tool is feedback: the answer is the text one
    history[-1] = ModelRequest([RetryPromptPart("try harder")])
    response = await model_request(TestModel(), history, model_request_parameters=params)
    assert response.parts == [TextPart("success (no tool calls)")]


async def test_outer_typed_dict_key_wraps_custom_args() -> None:
    tool = ToolDefinition(name="final_result", kind="output", outer_typed_dict_key="response")
    params = ModelRequestParameters(output_tools=[tool], allow_text_output=False)
    response = await model_request(
        TestModel(custom_output_args=[1, 2]), prompt(), model_request_parameters=params
    )
    assert response.parts == [
        ToolCallPart("final_result", {"response": [1, 2]}, "pyd_ai_tool_call_id__final_result")
    ]


async def test_misuse_raises_user_error() -> None:
    with pytest.raises(UserError, match="unknown tool 'nope'"):
        await model_request(TestModel(call_tools=["nope"]), prompt())
    with pytest.raises(UserError, match="native"):
        await model_request(
            "test", prompt(), model_request_parameters=ModelRequestParameters(native_tools=["x"])
        )
    with pytest.raises(UserError, match="custom_output_text"):
        await model_request(
            TestModel(custom_output_text="x"),
            prompt(),
            model_request_parameters=ModelRequestParameters(output_mode="tool", output_tools=[FINAL]),
        )
    with pytest.raises(UserError, match="No output tools"):
        await model_request(TestModel(custom_output_args={"a": 1}), prompt())
    with pytest.raises(UserError, match="unknown tool"):
        model_request_stream(TestModel(call_tools=["nope"]), prompt())  # raised at call time


async def test_streamed_text_and_usage_progress() -> None:
    async with model_request_stream(
        TestModel(custom_output_text="The capital is Paris"), prompt("hi")
    ) as stream:
        usages: list[int] = []
        events = []
        async for event in stream:
            events.append(event)
            usages.append(stream.usage().output_tokens)
    assert [type(e) for e in events] == [
        PartStartEvent,
        FinalResultEvent,
        PartDeltaEvent,
        PartDeltaEvent,
        PartDeltaEvent,
        PartDeltaEvent,
        PartEndEvent,
    ]
    assert usages == [0, 0, 1, 2, 3, 4, 4]
    assert stream.get().usage == RequestUsage(input_tokens=51, output_tokens=4)
    assert stream.model_name == "test" and stream.provider_name == "test"


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        ("Paris", ["Pa", "ris"]),
        ("ab", ["ab"]),
        ("", [""]),
        ("a  b", ["a ", " ", "b"]),
        ("one two", ["one ", "two"]),
    ],
)
async def test_stream_splitting(text: str, chunks: list[str]) -> None:
    async with model_request_stream(TestModel(custom_output_text=text), prompt()) as stream:
        deltas = [e.delta.content_delta async for e in stream if isinstance(e, PartDeltaEvent)]  # type: ignore[union-attr]
    assert deltas == chunks
    assert stream.get().parts == [TextPart(text)]


async def test_function_tool_stream_has_no_final_result_and_no_output_usage() -> None:
    params = ModelRequestParameters(function_tools=[WEATHER])
    async with model_request_stream("test", prompt("hi"), model_request_parameters=params) as stream:
        events = [e async for e in stream]
    assert [type(e) for e in events] == [PartStartEvent, PartEndEvent]
    # pydantic-ai's TestModel does not count streamed tool calls as output
    assert stream.usage() == RequestUsage(input_tokens=51)


async def test_registry_and_last_parameters() -> None:
    assert isinstance(infer_model("test"), TestModel)
    assert from_name("", "test").model_name == "test"
    assert from_name("custom", "test").model_name == "custom"
    model = TestModel()
    params = ModelRequestParameters(function_tools=[WEATHER])
    await model_request(model, prompt(), model_request_parameters=params)
    assert model.last_model_request_parameters == params
    assert (model.system, model.model_id, model.provider) == ("test", "test:test", None)


# --------------------------------------------------------------------------------------------------
# The argument generator against pydantic-ai's

SCHEMAS: list[dict[str, Any]] = [
    {"type": "string"},
    {"type": "string", "minLength": 3},
    {"type": "string", "maxLength": 0},
    {"type": "string", "format": "date"},
    {"type": "integer"},
    {"type": "integer", "minimum": 5},
    {"type": "integer", "maximum": 5},
    {"type": "integer", "minimum": 1, "maximum": 3},
    {"type": "integer", "exclusiveMinimum": 1, "exclusiveMaximum": 4},
    {"type": "number"},
    {"type": "number", "minimum": 0.5, "maximum": 2.5},
    {"type": "number", "exclusiveMinimum": 0},
    {"type": "boolean"},
    {"type": "null"},
    {"const": 42},
    {"enum": ["x", "y", "z"]},
    {"examples": [10, 20]},
    {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    {"type": "array", "items": {"type": "integer"}},
    {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": True},
    {"type": "array", "prefixItems": [{"type": "string"}, {"type": "boolean"}], "maxItems": 1},
    {"type": "array", "items": [{"type": "integer"}, {"type": "string"}]},
    {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}, "required": ["b"]},
    {"type": "object", "additionalProperties": {"type": "integer"}},
    {
        "type": "object",
        "properties": {"pet": {"$ref": "#/$defs/Pet"}},
        "required": ["pet"],
        "$defs": {
            "Pet": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        },
    },
    {
        "oneOf": [
            {"type": "object", "properties": {"k": {"const": "a"}}},
            {"type": "object", "properties": {"k": {"const": "b"}}},
        ],
        "discriminator": {"propertyName": "k"},
    },
    {},
]


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 95, 200])
@pytest.mark.parametrize("schema", SCHEMAS, ids=[str(i) for i in range(len(SCHEMAS))])
def test_generator_matches_pydantic_ai(schema: dict[str, Any], seed: int) -> None:
    upstream()
    from pydantic_ai.models.test import _JsonSchemaTestData  # pyright: ignore[reportPrivateUsage]

    assert generate_tool_args(schema, seed) == _JsonSchemaTestData(schema, seed).generate()


def test_generator_examples() -> None:
    assert generate_tool_args({"type": "string"}) == "a"
    assert generate_tool_args({"type": "string", "format": "date"}, 3) == "2024-01-04"
    assert generate_tool_args({"type": "boolean"}, 1) is True
    assert generate_tool_args({"type": "integer", "minimum": 1, "maximum": 3}, 5) == 3
    assert generate_tool_args(WEATHER.parameters_json_schema) == {"city": "a", "days": 0}
