"""FunctionModel: functions answer requests; stream functions drive the shared stream machinery."""

from __future__ import annotations

import re
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio

from trio_direct import (
    FinalResultEvent,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    NativeToolCallPart,
    NativeToolReturnPart,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    RequestUsage,
    TextPart,
    ThinkingPart,
    ThinkingPartDelta,
    ToolCallPart,
    ToolCallPartDelta,
    ToolDefinition,
    UserError,
    model_request,
    model_request_stream,
)
from trio_direct.messages import ModelMessage
from trio_direct.models.function import (
    AgentInfo,
    DeltaThinkingPart,
    DeltaToolCall,
    FunctionModel,
    estimate_string_tokens,
    estimate_usage,
)

PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("hello there")]
GENERATED_ID = re.compile(r"^pyd_ai_[0-9a-f]{32}$")


def hello(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    return ModelResponse([TextPart("hi back")])


# --------------------------------------------------------------------------------------------------
# Non-streamed


async def test_sync_function_runs_in_a_worker_thread() -> None:
    seen: list[int] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(threading.get_ident())
        return ModelResponse([TextPart("ok")], model_name="ignored")

    response = await model_request(FunctionModel(answer), PROMPT)
    assert seen and seen[0] != threading.get_ident()
    assert response.parts == [TextPart("ok")]
    assert response.model_name == "function:answer:"
    assert response.provider_name is None
    # usage estimated when the function gave none: 50 + 2 prompt words, 1 output word
    assert response.usage == RequestUsage(input_tokens=52, output_tokens=1)


async def test_async_function_is_awaited_in_the_callers_thread_and_usage_is_kept() -> None:
    seen: list[int] = []

    async def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        seen.append(threading.get_ident())
        await trio.lowlevel.checkpoint()
        return ModelResponse([TextPart("ok")], usage=RequestUsage(input_tokens=3, output_tokens=4))

    response = await model_request(FunctionModel(answer, model_name="mine"), PROMPT)
    assert seen == [threading.get_ident()]
    assert response.usage == RequestUsage(input_tokens=3, output_tokens=4)
    assert response.model_name == "mine"


async def test_callable_instances_with_async_call() -> None:
    class Answer:
        async def __call__(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
            return ModelResponse([TextPart("from instance")])

    model = FunctionModel(Answer())
    assert model.model_name == "function:Answer:"
    response = await model_request(model, PROMPT)
    assert response.parts == [TextPart("from instance")]


async def test_agent_info() -> None:
    infos: list[AgentInfo] = []

    def answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        infos.append(info)
        return ModelResponse([TextPart("ok")])

    tool = ToolDefinition(name="t")
    out = ToolDefinition(name="o", kind="output")
    params = ModelRequestParameters(function_tools=[tool], output_tools=[out], allow_text_output=False)
    model = FunctionModel(answer, settings={"temperature": 0.1, "max_tokens": 5})
    history: list[ModelMessage] = [
        ModelRequest.user_text_prompt("a", instructions="old"),
        ModelResponse([TextPart("b")]),
        ModelRequest.user_text_prompt("c", instructions="Be brief"),
    ]
    await model_request(model, history, model_settings={"max_tokens": 9}, model_request_parameters=params)
    info = infos[0]
    assert info.function_tools == [tool] and info.output_tools == [out]
    assert info.allow_text_output is False
    assert info.model_settings == {"temperature": 0.1, "max_tokens": 9}
    assert info.instructions == "Be brief"  # only the latest request's instructions
    assert info.model_request_parameters.function_tools == [tool]


async def test_errors_propagate_unchanged() -> None:
    def broken(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise ValueError("nope")

    with pytest.raises(ValueError, match="nope"):
        await model_request(FunctionModel(broken), PROMPT)


async def test_construction_and_missing_functions() -> None:
    with pytest.raises(TypeError):
        FunctionModel()

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "x"

    assert FunctionModel(hello, stream_function=stream).model_name == "function:hello:stream"
    assert FunctionModel(stream_function=stream).system == "function"
    with pytest.raises(UserError, match="no `function`"):
        await model_request(FunctionModel(stream_function=stream), PROMPT)
    with pytest.raises(UserError, match="no `stream_function`"):
        model_request_stream(FunctionModel(hello), PROMPT)


# --------------------------------------------------------------------------------------------------
# Streamed


async def test_text_stream_events_usage_and_response() -> None:
    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for chunk in ["The ", "capital ", "is ", "Paris"]:
            yield chunk

    async with model_request_stream(FunctionModel(stream_function=stream), PROMPT) as s:
        events = [e async for e in s]
    assert events == [
        PartStartEvent(index=0, part=TextPart("The ")),
        FinalResultEvent(None, None),
        PartDeltaEvent(index=0, delta=events[2].delta),  # type: ignore[union-attr]
        PartDeltaEvent(index=0, delta=events[3].delta),  # type: ignore[union-attr]
        PartDeltaEvent(index=0, delta=events[4].delta),  # type: ignore[union-attr]
        PartEndEvent(index=0, part=TextPart("The capital is Paris")),
    ]
    response = s.get()
    assert response.parts == [TextPart("The capital is Paris")]
    assert response.usage == RequestUsage(input_tokens=50, output_tokens=4)
    assert response.model_name == "function::stream" and response.provider_name is None
    assert response.state == "complete"


async def test_tool_call_deltas_reproduce_the_reference_sequence() -> None:
    """upstream-api.md §3.6: a late name, an id replacing the generated one, then a second call."""

    async def stream(
        messages: list[ModelMessage], info: AgentInfo
    ) -> AsyncIterator[dict[int, DeltaToolCall]]:
        yield {1: DeltaToolCall(json_args='{"ci')}
        yield {1: DeltaToolCall(name="get_weather")}
        yield {1: DeltaToolCall(json_args='ty": "Paris"}', tool_call_id="call_9")}
        yield {2: DeltaToolCall(name="get_weather", json_args="{}")}

    async with model_request_stream(FunctionModel(stream_function=stream), PROMPT) as s:
        events = [e async for e in s]
    first_id = events[0].part.tool_call_id  # type: ignore[union-attr]
    second_id = events[3].part.tool_call_id  # type: ignore[union-attr]
    assert GENERATED_ID.match(first_id) and GENERATED_ID.match(second_id) and first_id != second_id
    assert events == [
        PartStartEvent(index=0, part=ToolCallPart("get_weather", '{"ci', first_id)),
        PartDeltaEvent(index=0, delta=ToolCallPartDelta(args_delta='ty": "Paris"}', tool_call_id="call_9")),
        PartEndEvent(
            index=0,
            part=ToolCallPart("get_weather", '{"city": "Paris"}', "call_9"),
            next_part_kind="tool-call",
        ),
        PartStartEvent(
            index=1, part=ToolCallPart("get_weather", "{}", second_id), previous_part_kind="tool-call"
        ),
        PartEndEvent(index=1, part=ToolCallPart("get_weather", "{}", second_id)),
    ]
    assert s.get().parts == [
        ToolCallPart("get_weather", '{"city": "Paris"}', "call_9"),
        ToolCallPart("get_weather", "{}", second_id),
    ]


async def test_thinking_and_native_parts() -> None:
    call = NativeToolCallPart("web_search", {"q": "x"}, "n1", provider_name="function")
    returned = NativeToolReturnPart("web_search", "found", "n1", provider_name="function")

    async def stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[dict[int, Any]]:
        yield {0: DeltaThinkingPart(content="hmm")}
        yield {0: DeltaThinkingPart(content=" ok", signature="sig")}
        yield {1: call}
        yield {2: returned}

    async with model_request_stream(FunctionModel(stream_function=stream), PROMPT) as s:
        events = [e async for e in s]
    assert events[0] == PartStartEvent(index=0, part=ThinkingPart("hmm"))
    assert events[1] == PartDeltaEvent(
        index=0, delta=ThinkingPartDelta(content_delta=" ok", signature_delta="sig", provider_name="function")
    )
    assert s.get().parts == [
        ThinkingPart("hmm ok", signature="sig", provider_name="function"),
        call,
        returned,
    ]
    # no FinalResultEvent: thinking and native tools never qualify
    assert not any(isinstance(e, FinalResultEvent) for e in events)
    assert s.usage().output_tokens == 1 + 1 + estimate_string_tokens('{"q":"x"}') + 1


async def test_stream_matches_pydantic_ai() -> None:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai import direct
    from pydantic_ai import messages as um
    from pydantic_ai.models import function as uf

    items: list[Any] = [
        {0: ("think", "let me see", None)},
        {0: ("think", None, "sig")},
        "Hello",
        " world",
        {5: ("tool", None, '{"a"', None)},
        {5: ("tool", "lookup", ": 1}", "id_1")},
    ]

    def ours(item: Any) -> Any:
        if isinstance(item, str):
            return item
        ((k, v),) = item.items()
        if v[0] == "think":
            return {k: DeltaThinkingPart(content=v[1], signature=v[2])}
        return {k: DeltaToolCall(v[1], v[2], tool_call_id=v[3])}

    def theirs(item: Any) -> Any:
        if isinstance(item, str):
            return item
        ((k, v),) = item.items()
        if v[0] == "think":
            return {k: uf.DeltaThinkingPart(content=v[1], signature=v[2])}
        return {k: uf.DeltaToolCall(v[1], v[2], tool_call_id=v[3])}

    async def our_stream(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        for item in items:
            yield ours(item)

    async def their_stream(messages: Any, info: Any) -> AsyncIterator[Any]:
        for item in items:
            yield theirs(item)

    def describe(event: Any) -> tuple[Any, ...]:
        out: list[Any] = [event.event_kind]
        for key in ("index", "previous_part_kind", "next_part_kind", "tool_name"):
            if hasattr(event, key):
                out.append(getattr(event, key))
        part = getattr(event, "part", None) or getattr(event, "delta", None)
        if part is not None:
            for attr in (
                "content",
                "content_delta",
                "signature",
                "signature_delta",
                "tool_name",
                "args",
                "args_delta",
            ):
                out.append(getattr(part, attr, None))
            call_id = getattr(part, "tool_call_id", None)
            out.append("generated" if call_id and call_id.startswith("pyd_ai_") else call_id)
        return tuple(out)

    async with model_request_stream(FunctionModel(stream_function=our_stream), PROMPT) as s:
        our_events = [describe(e) async for e in s]
        our_usage = s.usage()
    async with direct.model_request_stream(
        uf.FunctionModel(stream_function=their_stream), [um.ModelRequest.user_text_prompt("hello there")]
    ) as us:
        their_events = [describe(e) async for e in us]
        their_usage = us.usage
    assert our_events == their_events
    assert (our_usage.input_tokens, our_usage.output_tokens) == (
        their_usage.input_tokens,
        their_usage.output_tokens,
    )


async def test_empty_stream_raises_value_error_from_async_with() -> None:
    async def nothing(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        return
        yield  # pragma: no cover

    with pytest.raises(ValueError, match="at least one item"):
        async with model_request_stream(FunctionModel(stream_function=nothing), PROMPT):
            raise AssertionError("not reached")  # pragma: no cover


async def test_error_in_first_item_raises_from_async_with_and_later_from_iteration() -> None:
    async def fails_first(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise KeyError("first")
        yield  # pragma: no cover

    with pytest.raises(KeyError):
        async with model_request_stream(FunctionModel(stream_function=fails_first), PROMPT):
            raise AssertionError("not reached")  # pragma: no cover

    async def fails_later(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "a"
        raise KeyError("later")

    async with model_request_stream(FunctionModel(stream_function=fails_later), PROMPT) as s:
        with pytest.raises(KeyError):
            async for _ in s:
                pass
        assert s.get().state == "incomplete"
        assert s.get().parts == [TextPart("a")]


async def test_leaving_early_closes_the_generator() -> None:
    closed = trio.Event()

    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            while True:
                yield "tick "
                await trio.sleep(0.001)
        finally:
            closed.set()

    with trio.fail_after(10):
        async with model_request_stream(FunctionModel(stream_function=endless), PROMPT) as s:
            async for event in s:
                if isinstance(event, PartDeltaEvent):
                    break
        assert closed.is_set()
    assert s.get().state == "incomplete"


def test_estimator() -> None:
    assert estimate_string_tokens("") == 0
    assert estimate_string_tokens("  a, b.c: d  ") == 4
    assert estimate_string_tokens('"d"') == 3  # leading and trailing separators leave empty pieces
    assert estimate_string_tokens("a.") == 2  # pydantic-ai counts the empty piece after a trailing dot
    assert estimate_usage([]) == RequestUsage(input_tokens=50)
    assert estimate_usage(PROMPT) == RequestUsage(input_tokens=52)
