"""Differential: TestModel and FunctionModel give the JSON pydantic-ai 2.68 gives for the same request,
streamed or not: tools, output tools, native and prompted output, retries, thinking, speech, summaries.

Both libraries run the same scenario through their direct API; the responses (and, for FunctionModel,
the history the function is handed) are compared as JSON with only the values that are random or the
current time masked.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from trio_direct import direct as td
from trio_direct import messages as tm
from trio_direct.events import ModelResponseStreamEvent
from trio_direct.exceptions import UserError
from trio_direct.models import function as tf
from trio_direct.models import test as tt
from trio_direct.serialization import event_to_python, messages_from_json, messages_to_python
from trio_direct.tools import ModelRequestParameters, OutputObjectDefinition, ToolDefinition

pm: ModuleType = pytest.importorskip("pydantic_ai.messages")
pdirect: ModuleType = pytest.importorskip("pydantic_ai.direct")
pmodels: ModuleType = pytest.importorskip("pydantic_ai.models")
pfunction: ModuleType = pytest.importorskip("pydantic_ai.models.function")
ptest: ModuleType = pytest.importorskip("pydantic_ai.models.test")
ptools: ModuleType = pytest.importorskip("pydantic_ai.tools")
pydantic = pytest.importorskip("pydantic")

TS = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
    "required": ["city"],
}
ANSWER = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}


def mask(value: Any) -> Any:
    """JSON with the current time and random tool-call ids masked."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "timestamp" and isinstance(item, str):
                out[key] = "<now>" if not item.startswith("2025-01-02") else item
            elif (
                key == "tool_call_id"
                and isinstance(item, str)
                and item.startswith("pyd_ai_")
                and len(item) == 39
            ):
                out[key] = "<random id>"
            else:
                out[key] = mask(item)
        return out
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def theirs_json(messages: list[Any]) -> Any:
    return mask(json.loads(pm.ModelMessagesTypeAdapter.dump_json(messages)))


def ours_json(messages: list[Any]) -> Any:
    return mask(messages_to_python(messages))


def upstream(history: list[tm.ModelMessage]) -> list[Any]:
    """The same history as 2.68 objects (through 2.68's own loader, as a user migrating would)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2.68 deprecates the RetryPromptPart some scenarios hold
        return list(pm.ModelMessagesTypeAdapter.validate_python(messages_to_python(history)))


def params_pair(**kwargs: Any) -> tuple[ModelRequestParameters, Any]:
    """The same request parameters for both libraries."""

    def tools(lib: str, key: str) -> list[Any]:
        cls = ToolDefinition if lib == "ours" else ptools.ToolDefinition
        return [
            cls(name=t["name"], parameters_json_schema=t["schema"], kind=t.get("kind", "function"))
            for t in kwargs.get(key, [])
        ]

    def output_object(lib: str) -> Any:
        if "output_object" not in kwargs:
            return None
        if lib == "ours":
            return OutputObjectDefinition(json_schema=kwargs["output_object"], name="answer")
        from pydantic_ai._output import OutputObjectDefinition as Theirs

        return Theirs(json_schema=kwargs["output_object"], name="answer")

    common = {k: v for k, v in kwargs.items() if k not in ("function_tools", "output_tools", "output_object")}
    ours = ModelRequestParameters(
        function_tools=tools("ours", "function_tools"),
        output_tools=tools("ours", "output_tools"),
        output_object=output_object("ours"),
        **common,
    )
    theirs = pmodels.ModelRequestParameters(
        function_tools=tools("theirs", "function_tools"),
        output_tools=tools("theirs", "output_tools"),
        output_object=output_object("theirs"),
        **common,
    )
    return ours, theirs


PROMPT = [tm.ModelRequest([tm.UserPromptPart("What's the weather?", timestamp=TS)], timestamp=TS)]
CALLED = [
    *PROMPT,
    tm.ModelResponse([tm.ToolCallPart("weather", {"city": "Paris"}, "c1")], model_name="test", timestamp=TS),
]
RETRIED = [
    *CALLED,
    tm.ModelRequest(
        [
            tm.RetryPromptPart(
                "city must be a real city", tool_name="weather", tool_call_id="c1", timestamp=TS
            )
        ],
        timestamp=TS,
    ),
]
RETRIED_NEW = [
    *CALLED,
    tm.ModelRequest(
        [tm.ToolReturnPart("weather", "unknown city", "c1", timestamp=TS, outcome="retried")], timestamp=TS
    ),
]
RETURNED = [
    *CALLED,
    tm.ModelRequest([tm.ToolReturnPart("weather", {"temp": 21}, "c1", timestamp=TS)], timestamp=TS),
]
FEEDBACK = [
    *PROMPT,
    tm.ModelResponse([tm.TextPart("not json")], timestamp=TS),
    tm.ModelRequest(
        [
            tm.RetryPromptPart(
                [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON", "input": "not json"}],
                timestamp=TS,
            ),
            tm.RetryFeedbackPart("Please return text.", retry=tm.RetryInfo("no_output"), timestamp=TS),
            tm.RetryFeedbackPart("be nicer", retry=tm.RetryInfo("model_retry"), timestamp=TS),
        ],
        timestamp=TS,
    ),
]
REALTIME = [
    tm.ModelRequest(
        [tm.SystemPromptPart("standing", timestamp=TS), tm.SpeechPart(speaker="user", transcript="hi there")],
        timestamp=TS,
    ),
    tm.ModelResponse([tm.SpeechPart(speaker="assistant", transcript="hello, how can I help")], timestamp=TS),
    tm.ModelRequest(
        [
            tm.SystemPromptPart("mid-conversation", timestamp=TS),
            tm.CompactionPart("summary so far"),
            tm.UserPromptPart("go on", timestamp=TS),
        ],
        timestamp=TS,
    ),
]

TOOLS = {"function_tools": [{"name": "weather", "schema": WEATHER}]}
OUTPUT_TOOL = {
    "output_tools": [{"name": "final_result", "schema": ANSWER, "kind": "output"}],
    "output_mode": "tool",
    "allow_text_output": False,
}

TEST_MODEL_CASES: dict[str, tuple[list[tm.ModelMessage], dict[str, Any], dict[str, Any]]] = {
    "text": (PROMPT, {}, {}),
    "custom text": (PROMPT, {}, {"custom_output_text": "sunny"}),
    "calls every tool first": (PROMPT, TOOLS, {}),
    "answers with the tool results": (RETURNED, TOOLS, {}),
    "calls a retried tool again (legacy part)": (RETRIED, TOOLS, {}),
    "calls a retried tool again": (RETRIED_NEW, TOOLS, {}),
    "output tool": (PROMPT, OUTPUT_TOOL, {}),
    "output tool with custom args": (PROMPT, OUTPUT_TOOL, {"custom_output_args": {"answer": "42"}}),
    "tools then output tool": (RETURNED, {**TOOLS, **OUTPUT_TOOL}, {}),
    "prompted output": (PROMPT, {"output_mode": "prompted", "output_object": ANSWER}, {}),
    "retry feedback": (FEEDBACK, {}, {}),
    "realtime history": (REALTIME, {}, {}),
}


@pytest.mark.parametrize("name", list(TEST_MODEL_CASES))
async def test_test_model_answers_as_pydantic_ai(name: str) -> None:
    history, params, options = TEST_MODEL_CASES[name]
    ours_params, theirs_params = params_pair(**params)
    ours = await td.model_request(tt.TestModel(**options), history, model_request_parameters=ours_params)
    theirs = await pdirect.model_request(
        ptest.TestModel(**options), upstream(history), model_request_parameters=theirs_params
    )
    assert ours_json([ours]) == theirs_json([theirs])


@pytest.mark.parametrize(
    "name", ["text", "calls every tool first", "output tool", "answers with the tool results"]
)
async def test_test_model_streams_as_pydantic_ai(name: str) -> None:
    history, params, options = TEST_MODEL_CASES[name]
    ours_params, theirs_params = params_pair(**params)
    ours_events: list[ModelResponseStreamEvent] = []
    async with td.model_request_stream(
        tt.TestModel(**options), history, model_request_parameters=ours_params
    ) as stream:
        async for event in stream:
            ours_events.append(event)
    ours = stream.get()
    adapter: Any = pydantic.TypeAdapter(pm.ModelResponseStreamEvent)
    theirs_events: list[Any] = []
    async with pdirect.model_request_stream(
        ptest.TestModel(**options), upstream(history), model_request_parameters=theirs_params
    ) as their_stream:
        async for event in their_stream:
            theirs_events.append(event)
    theirs = their_stream.get()
    assert mask([event_to_python(e) for e in ours_events]) == mask(
        [json.loads(adapter.dump_json(e)) for e in theirs_events]
    )
    assert ours_json([ours]) == theirs_json([theirs])


async def test_test_model_refuses_native_output_as_pydantic_ai() -> None:
    ours_params, theirs_params = params_pair(output_mode="native", output_object=ANSWER)
    with pytest.raises(UserError) as ours:
        await td.model_request(tt.TestModel(), PROMPT, model_request_parameters=ours_params)
    with pytest.raises(Exception) as theirs:
        await pdirect.model_request(
            ptest.TestModel(), upstream(PROMPT), model_request_parameters=theirs_params
        )
    assert type(theirs.value).__name__ == "UserError"
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------------------------------------------
# FunctionModel: what the function is handed, and the response (usage estimate included)
# ---------------------------------------------------------------------------------------------------


def reply_for(lib: ModuleType) -> Callable[..., Any]:
    """A function answering with thinking, text and a tool call, built with ``lib``'s classes."""

    def reply(messages: list[Any], info: Any) -> Any:
        return lib.ModelResponse(
            parts=[
                lib.ThinkingPart("let me think"),
                lib.TextPart("calling the tool"),
                lib.ToolCallPart("weather", {"city": "Paris"}, "c9"),
            ],
            timestamp=TS,
        )

    return reply


FUNCTION_CASES: dict[str, list[tm.ModelMessage]] = {
    "prompt": PROMPT,
    "tool returns": RETURNED,
    "legacy tool retry": RETRIED,
    "retried tool return": RETRIED_NEW,
    "retry feedback": FEEDBACK,
    "realtime history": REALTIME,
    "realtime history with a retry": [*REALTIME, *FEEDBACK[1:]],
}


@pytest.mark.parametrize("name", list(FUNCTION_CASES))
async def test_function_model_sees_and_answers_as_pydantic_ai(name: str) -> None:
    history = FUNCTION_CASES[name]
    seen_ours: list[list[Any]] = []
    seen_theirs: list[list[Any]] = []

    def record(seen: list[list[Any]], reply: Callable[..., Any]) -> Callable[..., Any]:
        def function(messages: list[Any], info: Any) -> Any:
            seen.append(list(messages))
            return reply(messages, info)

        return function

    ours = await td.model_request(tf.FunctionModel(record(seen_ours, reply_for(tm))), history)
    theirs = await pdirect.model_request(
        pfunction.FunctionModel(record(seen_theirs, reply_for(pm))), upstream(history)
    )
    assert ours_json(seen_ours[0]) == theirs_json(seen_theirs[0])
    assert ours_json([ours]) == theirs_json([theirs])


def stream_for(lib: ModuleType, function_lib: ModuleType) -> Callable[..., AsyncIterator[Any]]:
    async def stream(messages: list[Any], info: Any) -> AsyncIterator[Any]:
        yield {0: function_lib.DeltaThinkingPart(content="hmm ")}
        yield {0: function_lib.DeltaThinkingPart(content="ok", signature="sig")}
        yield {1: function_lib.DeltaToolCall(name="weather", json_args='{"city": ', tool_call_id="c7")}
        yield {1: function_lib.DeltaToolCall(json_args='"Paris"}')}

    return stream


async def text_stream(messages: list[Any], info: Any) -> AsyncIterator[str]:
    for piece in ("Sunny ", "and ", "warm."):
        yield piece


@pytest.mark.parametrize("kind", ["text", "thinking and tool call"])
@pytest.mark.parametrize("name", ["prompt", "retry feedback"])
async def test_function_model_streams_as_pydantic_ai(kind: str, name: str) -> None:
    history = FUNCTION_CASES[name]
    ours_fn = text_stream if kind == "text" else stream_for(tm, tf)
    theirs_fn = text_stream if kind == "text" else stream_for(pm, pfunction)
    adapter: Any = pydantic.TypeAdapter(pm.ModelResponseStreamEvent)
    async with td.model_request_stream(tf.FunctionModel(stream_function=ours_fn), history) as stream:
        ours_events = [event_to_python(e) async for e in stream]
    async with pdirect.model_request_stream(
        pfunction.FunctionModel(stream_function=theirs_fn), upstream(history)
    ) as their_stream:
        theirs_events = [json.loads(adapter.dump_json(e)) async for e in their_stream]
    assert mask(ours_events) == mask(theirs_events)
    assert ours_json([stream.get()]) == theirs_json([their_stream.get()])


def test_loading_their_history_gives_ours() -> None:
    """The scenario histories mean the same in both libraries (the premise of this module)."""
    for history in FUNCTION_CASES.values():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = pm.ModelMessagesTypeAdapter.dump_json(upstream(history))
        assert messages_from_json(data) is not None
