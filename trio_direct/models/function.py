"""A model whose answers come from a local function: for tests, demos and scripted fakes.

``FunctionModel(function)`` answers non-streamed requests by calling ``function(messages, info)``;
``FunctionModel(stream_function=...)`` answers streamed ones from an async iterator of text chunks or
``{index: DeltaToolCall | DeltaThinkingPart | NativeToolCallPart | NativeToolReturnPart}`` dicts.
Streams go through the same pump, channel and parts manager as every HTTP model, so a test written
against a FunctionModel exercises the real streaming machinery.

The usage estimator here (shared with :class:`~trio_direct.models.test.TestModel`) reproduces
pydantic-ai's: plausible numbers for tests, not a tokenizer.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Final, TypeAlias

import attrs
import trio

from .._parts import PartsManager
from ..events import ModelResponseStreamEvent
from ..exceptions import UserError
from ..messages import (
    BinaryContent,
    CompactionPart,
    FilePart,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryFeedbackPart,
    RetryPromptPart,
    SpeechPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._instructions import choose_instructions
from ._prepare import conversation_summary_text
from .base import Emit, EventSource, Model, StreamContext, StreamMeta, open_event_stream

__all__ = [
    "AgentInfo",
    "BuiltinToolCallsReturns",
    "DeltaThinkingCalls",
    "DeltaThinkingPart",
    "DeltaToolCall",
    "DeltaToolCalls",
    "FunctionDef",
    "FunctionModel",
    "NativeToolCallsReturns",
    "StreamFunctionDef",
    "estimate_string_tokens",
    "estimate_usage",
    "get_instructions",
]

#: How long a cancelled stream waits for the user's stream generator to finish its cleanup.
_GENERATOR_CLOSE_GRACE: Final = 5.0


@attrs.frozen(kw_only=True)
class AgentInfo:
    """What the function of a :class:`FunctionModel` learns about the request besides the messages.

    Attributes:
        function_tools: the function tools the model may call.
        allow_text_output: whether plain text is an acceptable final answer.
        output_tools: the tools whose call is the final answer.
        model_settings: the merged settings of this request.
        model_request_parameters: the full parameters.
        instructions: the request's instructions joined into one string, or None.
    """

    function_tools: list[ToolDefinition]
    allow_text_output: bool
    output_tools: list[ToolDefinition]
    model_settings: ModelSettings | None
    model_request_parameters: ModelRequestParameters
    instructions: str | None


@attrs.define
class DeltaToolCall:
    """A streamed tool-call fragment: more name, more JSON argument text, and/or the call's id."""

    name: str | None = None
    json_args: str | None = None
    tool_call_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.define(kw_only=True)
class DeltaThinkingPart:
    """A streamed thinking fragment: more content and/or a signature (which replaces the previous one)."""

    content: str | None = None
    signature: str | None = None


DeltaToolCalls: TypeAlias = dict[int, DeltaToolCall]
DeltaThinkingCalls: TypeAlias = dict[int, DeltaThinkingPart]
NativeToolCallsReturns: TypeAlias = dict[int, NativeToolCallPart | NativeToolReturnPart]
BuiltinToolCallsReturns: TypeAlias = NativeToolCallsReturns
"""pydantic-ai's older name for :data:`NativeToolCallsReturns`."""

_StreamItem: TypeAlias = str | DeltaToolCalls | DeltaThinkingCalls | NativeToolCallsReturns

FunctionDef: TypeAlias = Callable[[list[ModelMessage], AgentInfo], ModelResponse | Awaitable[ModelResponse]]
"""Answers a non-streamed request: a plain function (run in a worker thread) or an async one."""

StreamFunctionDef: TypeAlias = Callable[
    [list[ModelMessage], AgentInfo],
    AsyncIterator[str]
    | AsyncIterator[DeltaToolCalls]
    | AsyncIterator[DeltaThinkingCalls]
    | AsyncIterator[_StreamItem],
]
"""Answers a streamed request: returns an async iterator (usually an async generator function).

Each item is one chunk: a ``str`` (text; all text goes to one part) or a dict from a part index
(the vendor part id) to a :class:`DeltaToolCall`, :class:`DeltaThinkingPart`, or a complete
``NativeToolCallPart``/``NativeToolReturnPart``.
"""


def _callable_name(fn: object) -> str:
    return getattr(fn, "__name__", type(fn).__name__)


def _is_async_callable(fn: object) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - instances with an async __call__
    return call is not None and inspect.iscoroutinefunction(call)


class FunctionModel(Model):
    """A model controlled by local functions.

    Args:
        function: answers non-streamed requests; ``def`` functions run in a worker thread
            (``trio.to_thread.run_sync``), ``async def`` ones are awaited in the caller's task.
        stream_function: answers streamed requests; must yield at least one item.
        model_name: defaults to ``'function:<function name>:<stream function name>'``.
        settings: default settings, merged under each call's.

    Raises:
        TypeError: neither function was given.
    """

    def __init__(
        self,
        function: FunctionDef | None = None,
        *,
        stream_function: StreamFunctionDef | None = None,
        model_name: str | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        if function is None and stream_function is None:
            raise TypeError("Either `function` or `stream_function` must be provided")
        super().__init__(settings=settings)
        self.function = function
        self.stream_function = stream_function
        function_name = _callable_name(function) if function is not None else ""
        stream_name = _callable_name(stream_function) if stream_function is not None else ""
        self._model_name = model_name or f"function:{function_name}:{stream_name}"

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "function"

    @property
    def provider(self) -> None:
        return None

    def direct_history(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history prepared only when it holds a retry part, else as it is (as 2.68's direct API)."""
        from ._prepare import carries_retry

        if carries_retry(messages):
            return self.prepare_messages(messages, model_request_parameters)
        return list(messages)

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history as pydantic-ai 2.68 hands it to a function: speech as text, every retry part as
        the part that carries it (a retried :class:`ToolReturnPart`, fenced user feedback, or a system
        prompt), and, as this model has no mid-conversation system role, system prompts after the first
        request's opening ones as ``<system>`` user prompts. A summary the application wrote into a
        request reaches the function as the :class:`CompactionPart` itself."""
        from ._prepare import convert_speech, translate_retries, wrap_non_leading_system_prompts

        del model_request_parameters
        return wrap_non_leading_system_prompts(translate_retries(convert_speech(messages)))

    def _agent_info(
        self, messages: list[ModelMessage], settings: ModelSettings, params: ModelRequestParameters
    ) -> AgentInfo:
        return AgentInfo(
            function_tools=params.function_tools,
            allow_text_output=params.allow_text_output,
            output_tools=params.output_tools,
            model_settings=settings,
            model_request_parameters=params,
            instructions=get_instructions(messages, params),
        )

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Call ``function``; its response gets this model's name, and estimated usage if it has none.

        Raises:
            UserError: the model has no ``function`` (only a ``stream_function``).
            Exception: whatever the function raises, unchanged.

        Cancellation:
            An async function is cancelled like any task. A sync function runs in a worker thread
            that cannot be interrupted: cancellation takes effect once it returns.
        """
        function = self.function
        if function is None:
            raise UserError("this FunctionModel has no `function`; pass one to support non-streamed requests")
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        info = self._agent_info(messages, settings, params)
        result: ModelResponse | Awaitable[ModelResponse]
        if _is_async_callable(function):
            result = function(messages, info)
        else:
            result = await trio.to_thread.run_sync(function, messages, info)
        if inspect.isawaitable(result):
            result = await result
        if not isinstance(result, ModelResponse):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"the function of a FunctionModel must return a ModelResponse, not {result!r}")
        usage = result.usage
        if not usage.has_values():
            usage = estimate_usage([*messages, result])
        return attrs.evolve(result, model_name=self._model_name, usage=usage)

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """Stream the items of ``stream_function`` through the shared pump and parts manager.

        ``stream_function`` is called when the block is entered; its first item is read before the
        stream is handed over, so an error there (or no item at all) raises from ``async with``.

        Raises:
            UserError: the model has no ``stream_function``.
            ValueError: (from ``async with``) the stream function yielded nothing.
        """
        stream_function = self.stream_function
        if stream_function is None:
            raise UserError(
                "this FunctionModel has no `stream_function`; pass one to support streamed requests"
            )
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        info = self._agent_info(messages, settings, params)
        source = _FunctionEventSource(stream_function, messages, info, self._model_name)
        return open_event_stream(source, params)


class _FunctionEventSource(EventSource):
    """Runs a stream function inside the pump: one emitted batch per item it yields."""

    def __init__(
        self,
        stream_function: StreamFunctionDef,
        messages: list[ModelMessage],
        info: AgentInfo,
        model_name: str,
    ) -> None:
        self._stream_function = stream_function
        self._messages = messages
        self._info = info
        self.parts = PartsManager()
        self.meta = StreamMeta(model_name=model_name, usage=estimate_usage([]))

    def _add_output_tokens(self, text: str) -> None:
        if text:
            usage = self.meta.usage + RequestUsage(output_tokens=estimate_string_tokens(text))
            self.meta = attrs.evolve(self.meta, usage=usage)

    def _map(self, item: _StreamItem, out: list[ModelResponseStreamEvent]) -> None:
        parts = self.parts
        if isinstance(item, str):
            self._add_output_tokens(item)
            out += parts.handle_text_delta(vendor_part_id="content", content=item)
            return
        for index, delta in item.items():
            if isinstance(delta, DeltaThinkingPart):
                self._add_output_tokens(delta.content or "")
                out += parts.handle_thinking_delta(
                    vendor_part_id=index,
                    content=delta.content,
                    signature=delta.signature,
                    provider_name="function" if delta.signature else None,
                )
            elif isinstance(delta, DeltaToolCall):
                self._add_output_tokens(delta.json_args or "")
                out += parts.handle_tool_call_delta(
                    vendor_part_id=index,
                    tool_name=delta.name,
                    args=delta.json_args,
                    tool_call_id=delta.tool_call_id,
                )
            elif isinstance(delta, NativeToolCallPart):
                self._add_output_tokens(delta.args_as_json_str())
                out += parts.handle_part(vendor_part_id=index, part=delta)
            elif isinstance(delta, NativeToolReturnPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                self._add_output_tokens(delta.model_response_str())
                out += parts.handle_part(vendor_part_id=index, part=delta)
            else:
                raise TypeError(f"a stream function yielded an unsupported delta: {delta!r}")

    async def run(self, emit: Emit) -> None:
        iterator = self._stream_function(self._messages, self._info)
        seen_any = False
        try:
            async for item in iterator:
                seen_any = True
                out: list[ModelResponseStreamEvent] = []
                self._map(item, out)
                await emit(out)
        finally:
            # An abandoned async generator would otherwise be finalized "later, somewhere else";
            # close it here, shielded from the cancellation that is ending the stream, but bounded.
            aclose: Callable[[], Awaitable[object]] | None = getattr(iterator, "aclose", None)
            if aclose is not None:
                with trio.CancelScope(shield=True), trio.move_on_after(_GENERATOR_CLOSE_GRACE):
                    await aclose()
        if not seen_any:
            raise ValueError("Stream function must return at least one item")


# ---------------------------------------------------------------------------------------------
# Helpers shared with TestModel
# ---------------------------------------------------------------------------------------------


def get_instructions(messages: Sequence[ModelMessage], params: ModelRequestParameters | None) -> str | None:
    """The instructions of this request as one string, by
    :func:`~trio_direct.models._instructions.choose_instructions`' rule (2.68's).

    With ``params`` the chosen parts are joined (:meth:`InstructionPart.join`); without, the chosen
    request's ``instructions`` come back as written.
    """
    parts = choose_instructions(messages, params)
    if not parts:
        return None
    return InstructionPart.join(parts) if params is not None else parts[0].content


_TOKEN_SPLIT = re.compile(r'[\s",.:]+')


def estimate_string_tokens(content: str | Sequence[UserContent]) -> int:
    """A rough token count: pieces of the stripped text split on whitespace and ``" , . :``.

    Empty content counts 0; in a sequence, text items count as text, ``BinaryContent`` counts its
    length in bytes and URLs count nothing.
    """
    if not content:
        return 0
    if isinstance(content, str):
        return len(_TOKEN_SPLIT.split(content.strip()))
    tokens = 0
    for item in content:
        if isinstance(item, str):
            tokens += len(_TOKEN_SPLIT.split(item.strip()))
        elif isinstance(item, TextContent):
            tokens += len(_TOKEN_SPLIT.split(item.content.strip()))
        elif isinstance(item, BinaryContent):
            tokens += len(item.data)
    return tokens


def _response_part_tokens(part: ModelResponsePart) -> int:
    if isinstance(part, TextPart | ThinkingPart):
        return estimate_string_tokens(part.content)
    if isinstance(part, ToolCallPart | NativeToolCallPart):
        return 1 + estimate_string_tokens(part.args_as_json_str())
    if isinstance(part, NativeToolReturnPart):
        return estimate_string_tokens(part.model_response_str())
    if isinstance(part, FilePart):
        return estimate_string_tokens([part.content])
    if isinstance(part, SpeechPart):
        return estimate_string_tokens(part.content)
    return 0  # a provider's compaction item is opaque state, not text the model reads


def estimate_usage(messages: Iterable[ModelMessage]) -> RequestUsage:
    """pydantic-ai's usage guess for a history: 50 input tokens of overhead plus the prompt and tool text,
    and the text, thinking and tool-call arguments of the responses as output."""
    input_tokens = 50
    output_tokens = 0
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart | UserPromptPart):
                    input_tokens += estimate_string_tokens(part.content)
                elif isinstance(part, ToolReturnPart):
                    input_tokens += estimate_string_tokens(part.model_response_str())
                elif isinstance(part, RetryPromptPart):
                    # As 2.68 counts a legacy retry an adapter is handed (`_legacy_retry_as_sendable`).
                    translated = part.translated()
                    if isinstance(translated, ToolReturnPart):
                        input_tokens += estimate_string_tokens(translated.model_response_str())
                    else:
                        input_tokens += estimate_string_tokens(part.model_response())
                elif isinstance(part, RetryFeedbackPart):
                    input_tokens += estimate_string_tokens(part.model_response())
                elif isinstance(part, CompactionPart):
                    input_tokens += estimate_string_tokens(conversation_summary_text(part.content))
                elif isinstance(part, SpeechPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                    input_tokens += estimate_string_tokens(part.content)
        else:
            for response_part in message.parts:
                output_tokens += _response_part_tokens(response_part)
    return RequestUsage(input_tokens=input_tokens, output_tokens=output_tokens)
