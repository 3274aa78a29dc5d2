"""The async direct API: model_request / model_request_stream, name resolution, instruction bridging."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trio_direct import (
    InstructionPart,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    PartDeltaEvent,
    RequestUsage,
    TextPart,
    UserError,
    model_request,
    model_request_stream,
)
from trio_direct.messages import ModelMessage
from trio_direct.models import infer_model, known_prefixes
from trio_direct.models.function import AgentInfo, FunctionModel
from trio_direct.models.test import TestModel

PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("What is the capital of France?")]


async def test_model_request_with_the_test_model() -> None:
    response = await model_request("test", PROMPT)
    assert response.parts == [TextPart("success (no tool calls)")]
    assert response.usage == RequestUsage(input_tokens=56, output_tokens=4)
    assert response.model_name == "test"
    assert response.timestamp.tzinfo is not None


async def test_model_request_stream_with_the_test_model() -> None:
    async with model_request_stream("test", PROMPT) as stream:
        kinds = [e.event_kind async for e in stream]
    assert kinds == [
        "part_start",
        "final_result",
        "part_delta",
        "part_delta",
        "part_delta",
        "part_delta",
        "part_end",
    ]
    assert stream.get().parts == [TextPart("success (no tool calls)")]
    assert stream.get().state == "complete"


async def test_function_model_through_both_entry_points() -> None:
    seen: list[list[ModelMessage]] = []

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(messages)
        return ModelResponse([TextPart("Paris")])

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "Pa"
        yield "ris"

    model = FunctionModel(answer, stream_function=stream)
    response = await model_request(model, PROMPT)
    assert response.text == "Paris"
    assert seen[0] == PROMPT and seen[0] is not PROMPT  # a copy of the caller's list, unchanged
    async with model_request_stream(model, PROMPT) as s:
        deltas = [e.delta.content_delta async for e in s if isinstance(e, PartDeltaEvent)]  # type: ignore[union-attr]
    assert deltas == ["ris"]
    assert s.get().text == "Paris"


async def test_settings_reach_the_model() -> None:
    infos: list[AgentInfo] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        infos.append(info)
        return ModelResponse([TextPart("ok")])

    model = FunctionModel(answer, settings={"temperature": 0.0, "max_tokens": 10})
    await model_request(model, PROMPT, model_settings={"temperature": 0.7})
    assert infos[0].model_settings == {"temperature": 0.7, "max_tokens": 10}


# --------------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [
        # the suggestions come from KnownModelName, pydantic-ai 2.68's list
        ("gpt-5.6-sol", "openai:gpt-5.6-sol"),
        ("opnai:gpt-5.6-sol", "openai:gpt-5.6-sol"),
        ("tset", None),
    ],
)
async def test_unknown_model_names_are_user_errors_with_a_suggestion(
    name: str, suggestion: str | None
) -> None:
    with pytest.raises(UserError, match="Unknown model") as info:
        await model_request(name, PROMPT)
    if suggestion is not None:
        assert f"Did you mean {suggestion!r}?" in str(info.value)


async def test_bad_names_raise_at_call_time_for_streams_too() -> None:
    with pytest.raises(UserError, match="no provider with the prefix 'nope'"):
        model_request_stream("nope:foo", PROMPT)  # before any `async with`
    with pytest.raises(UserError):
        await model_request(42, PROMPT)  # type: ignore[arg-type]


def test_registry_basics() -> None:
    assert "test" in known_prefixes()
    model = TestModel()
    assert infer_model(model) is model
    assert isinstance(infer_model("test"), TestModel)


# --------------------------------------------------------------------------------------------------
# Instruction bridging


class Capture:
    def __init__(self) -> None:
        self.params: list[ModelRequestParameters] = []
        self.instructions: list[str | None] = []

    def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.params.append(info.model_request_parameters)
        self.instructions.append(info.instructions)
        return ModelResponse([TextPart("ok")])


HISTORY: list[ModelMessage] = [
    ModelRequest.user_text_prompt("first", instructions="Old instructions"),
    ModelResponse([TextPart("answer")]),
    ModelRequest.user_text_prompt("second", instructions="New instructions"),
    ModelResponse([TextPart("answer")]),
    ModelRequest.user_text_prompt("third"),
]


async def test_only_the_latest_requests_instructions_are_bridged() -> None:
    capture = Capture()
    await model_request(FunctionModel(capture), HISTORY)
    assert capture.params[0].instruction_parts == [InstructionPart("New instructions")]
    assert capture.instructions == ["New instructions"]


async def test_explicit_instruction_parts_win_even_empty() -> None:
    capture = Capture()
    mine = [InstructionPart("Mine")]
    await model_request(
        FunctionModel(capture),
        HISTORY,
        model_request_parameters=ModelRequestParameters(instruction_parts=mine),
    )
    await model_request(
        FunctionModel(capture), HISTORY, model_request_parameters=ModelRequestParameters(instruction_parts=[])
    )
    assert capture.params[0].instruction_parts == mine
    assert capture.params[1].instruction_parts == []
    assert capture.instructions == ["Mine", None]


async def test_no_instructions_anywhere() -> None:
    capture = Capture()
    await model_request(FunctionModel(capture), PROMPT)
    assert capture.params[0].instruction_parts is None
    assert capture.instructions == [None]


async def test_bridging_applies_to_streams_and_keeps_the_callers_parameters() -> None:
    params = ModelRequestParameters()
    seen: list[ModelRequestParameters] = []

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        seen.append(info.model_request_parameters)
        yield "x"

    async with model_request_stream(
        FunctionModel(stream_function=stream), HISTORY, model_request_parameters=params
    ) as s:
        [_ async for _ in s]
    assert seen[0].instruction_parts == [InstructionPart("New instructions")]
    assert params.instruction_parts is None  # the caller's object is not modified
