"""``TestModel``: a deterministic model that needs no network, as pydantic-ai's ``'test'`` model.

By default it calls every function tool once (with arguments generated from the tool's JSON schema),
and once a response is in the history it answers with text summarizing the tool results. Streams
split text on spaces and go through the same pump, channel and parts manager as every HTTP model.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any, Literal, cast

import attrs
import orjson

from .._parts import PartsManager
from ..events import ModelResponseStreamEvent
from ..exceptions import UserError
from ..messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from ..settings import ModelSettings
from ..tools import ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from .base import Emit, EventSource, Model, StreamContext, StreamMeta, open_event_stream
from .function import estimate_string_tokens, estimate_usage

__all__ = ["TestModel", "from_name", "generate_tool_args"]


def from_name(name: str, prefix: str) -> TestModel:
    """The registry factory for ``'test'`` (and ``'test:<model name>'``)."""
    del prefix
    return TestModel(model_name=name) if name else TestModel()


def _tool_call_id(name: str) -> str:
    return f"pyd_ai_tool_call_id__{name}"


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (attrs classes become dicts), as pydantic-ai's ``to_jsonable_python``."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return orjson.loads(orjson.dumps(value, default=_json_default))


def _json_default(value: object) -> object:
    cls: type[object] = type(value)
    if attrs.has(cls):
        return attrs.asdict(cast(Any, value))
    if isinstance(value, set | frozenset | tuple):
        return list(cast(Iterable[object], value))
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


class TestModel(Model):
    """A model for tests: calls the tools it is given, then answers; no network, fully deterministic.

    What one request returns, in order of precedence:

    1. function tools exist (all of them, or those named in ``call_tools``) and the history has no
       response yet: one call per tool, arguments generated from its schema;
    2. the last request holds retry prompts: the named tools are called again;
    3. ``custom_output_text``: that text;
    4. ``custom_output_args``: a call to an output tool with those arguments;
    5. text output allowed: JSON of the tool results in the history (``{"tool": result}``), or
       ``'success (no tool calls)'``;
    6. otherwise a call to an output tool (``output_tools[seed % n]``) with generated arguments.

    Args:
        call_tools: ``'all'`` or the names of the function tools to call.
        custom_output_text: fixed text to answer with.
        custom_output_args: fixed arguments for the output tool.
        seed: varies the generated arguments and the output tool picked.
        model_name: the name reported in responses.
        settings: default settings (recorded, otherwise unused).

    Attributes:
        last_model_request_parameters: the prepared parameters of the latest request.
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        *,
        call_tools: list[str] | Literal["all"] = "all",
        custom_output_text: str | None = None,
        custom_output_args: Any | None = None,
        seed: int = 0,
        model_name: str = "test",
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(settings=settings)
        self.call_tools = call_tools
        self.custom_output_text = custom_output_text
        self.custom_output_args = custom_output_args
        self.seed = seed
        self._model_name = model_name
        self.last_model_request_parameters: ModelRequestParameters | None = None

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def system(self) -> str:
        return "test"

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
        """The history as pydantic-ai 2.68 hands it to its test model: speech as text, and every retry
        part as the part that carries it (a retried tool return, or feedback as a prompt)."""
        from ._prepare import convert_speech, translate_retries

        del model_request_parameters
        return translate_retries(convert_speech(messages))

    def customize_request_parameters(self, params: ModelRequestParameters) -> ModelRequestParameters:
        """The parameters unchanged.

        Raises:
            UserError: native structured output was asked for (the test model, like 2.68's, has no
                JSON-schema output mode; use ``'tool'`` or ``'prompted'``).
        """
        if params.output_mode == "native":
            raise UserError("Native structured output is not supported by this model.")
        return params

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Build the response as described on the class; usage is estimated from the history.

        Raises:
            UserError: native tools were requested, ``call_tools`` names an unknown tool, or the
                options contradict the parameters.

        Cancellation:
            Returns without a checkpoint inside; there is nothing to cancel.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        self.last_model_request_parameters = params
        response = self._respond(messages, settings, params)
        return attrs.evolve(response, usage=estimate_usage([*messages, response]), provider_name="test")

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """Stream the response :meth:`request` would give: text split on spaces, tool calls whole.

        Raises:
            UserError: as :meth:`request`, at call time.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        self.last_model_request_parameters = params
        response = self._respond(messages, settings, params)
        source = _TestEventSource(response.parts, estimate_usage(messages), self._model_name)
        return open_event_stream(source, params)

    # -- deciding what to answer ---------------------------------------------------------------

    def gen_tool_args(self, tool_def: ToolDefinition) -> Any:
        """Arguments for ``tool_def`` generated from its JSON schema with this model's seed."""
        return generate_tool_args(tool_def.parameters_json_schema, self.seed)

    def _tools_to_call(self, params: ModelRequestParameters) -> list[ToolDefinition]:
        if self.call_tools == "all":
            return list(params.function_tools)
        by_name = {tool.name: tool for tool in params.function_tools}
        chosen: list[ToolDefinition] = []
        for name in self.call_tools:
            tool = by_name.get(name)
            if tool is None:
                raise UserError(f"TestModel was configured to call unknown tool {name!r}.")
            chosen.append(tool)
        return chosen

    def _output(self, params: ModelRequestParameters) -> tuple[Literal["text", "tool"], Any]:
        if self.custom_output_text is not None:
            if params.output_mode == "tool":
                raise UserError("Plain response not allowed, but `custom_output_text` is set.")
            if self.custom_output_args is not None:
                raise UserError("Cannot set both `custom_output_text` and `custom_output_args`.")
            return "text", self.custom_output_text
        if self.custom_output_args is not None:
            if not params.output_tools:
                raise UserError("No output tools provided, but `custom_output_args` is set.")
            key = params.output_tools[0].outer_typed_dict_key
            args = {key: self.custom_output_args} if key else self.custom_output_args
            return "tool", _jsonable(args)
        if params.allow_text_output or not params.output_tools:
            return "text", None
        return "tool", None

    def _respond(
        self, messages: Sequence[ModelMessage], settings: ModelSettings, params: ModelRequestParameters
    ) -> ModelResponse:
        del settings
        if params.native_tools:
            raise UserError("TestModel does not support native (built-in) tools")
        tools = self._tools_to_call(params)
        output_kind, output_value = self._output(params)

        if tools and not any(isinstance(m, ModelResponse) for m in messages):
            calls = [ToolCallPart(t.name, self.gen_tool_args(t), _tool_call_id(t.name)) for t in tools]
            return self._response(calls)

        if messages:
            last = messages[-1]
            if not isinstance(last, ModelRequest):
                raise UserError("TestModel expects the last message to be a ModelRequest")
            # Retries naming a tool call it again (a retried tool return, as `prepare_messages` turns
            # a legacy retry into); one naming no tool is plain feedback, so the answer below is text
            # or the output tool.
            retry_names = {
                p.tool_name for p in last.parts if isinstance(p, ToolReturnPart) and p.outcome == "retried"
            }
            retry_names |= {
                p.tool_name for p in last.parts if isinstance(p, RetryPromptPart) and p.tool_name is not None
            }
            if retry_names:
                return self._retry(retry_names, tools, output_kind, output_value, params.output_tools)

        if output_kind == "text":
            return self._text(messages, output_value)
        if not params.output_tools:  # pragma: no cover - _output only picks "tool" with output tools
            raise UserError("TestModel has no output tool to call")
        tool = params.output_tools[self.seed % len(params.output_tools)]
        args = output_value if output_value is not None else self.gen_tool_args(tool)
        return self._response([ToolCallPart(tool.name, args, _tool_call_id(tool.name))])

    def _response(self, parts: Sequence[ModelResponsePart]) -> ModelResponse:
        return ModelResponse(list(parts), model_name=self._model_name)

    def _retry(
        self,
        names: set[str],
        tools: list[ToolDefinition],
        output_kind: str,
        output_value: Any,
        output_tools: list[ToolDefinition],
    ) -> ModelResponse:
        parts: list[ModelResponsePart] = [
            ToolCallPart(t.name, self.gen_tool_args(t)) for t in tools if t.name in names
        ]
        for tool in output_tools:
            if tool.name in names:
                use_custom = output_kind == "tool" and output_value is not None
                args = output_value if use_custom else self.gen_tool_args(tool)
                parts.append(ToolCallPart(tool.name, args, _tool_call_id(tool.name)))
        return self._response(parts)

    def _text(self, messages: Sequence[ModelMessage], text: str | None) -> ModelResponse:
        if text is not None:
            return self._response([TextPart(text)])
        results: dict[str, Any] = {}
        for message in messages:
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, ToolReturnPart):
                        results[part.tool_name] = part.content
        if results:
            return self._response([TextPart(orjson.dumps(results, default=_json_default).decode())])
        return self._response([TextPart("success (no tool calls)")])


class _TestEventSource(EventSource):
    """Replays a finished response as a stream, one emitted batch per word of text."""

    def __init__(self, parts: Sequence[ModelResponsePart], usage: RequestUsage, model_name: str) -> None:
        self._response_parts = parts
        self.parts = PartsManager()
        self.meta = StreamMeta(model_name=model_name, provider_name="test", usage=usage)

    def _add_output(self, text: str) -> None:
        usage = self.meta.usage + RequestUsage(output_tokens=estimate_string_tokens(text))
        self.meta = attrs.evolve(self.meta, usage=usage)

    async def run(self, emit: Emit) -> None:
        for index, part in enumerate(self._response_parts):
            if isinstance(part, TextPart):
                # pydantic-ai starts each text part empty, then sends it word by word, each word
                # keeping its trailing space; a single word longer than 2 characters is halved.
                text = part.content
                *words, last = text.split(" ")
                chunks = [f"{word} " for word in words] + [last]
                if len(chunks) == 1 and len(text) > 2:
                    chunks = [text[: len(text) // 2], text[len(text) // 2 :]]
                await emit(self.parts.handle_text_delta(vendor_part_id=index, content=""))
                for chunk in chunks:
                    self._add_output(chunk)
                    await emit(self.parts.handle_text_delta(vendor_part_id=index, content=chunk))
            elif isinstance(part, ToolCallPart):
                events: list[ModelResponseStreamEvent] = self.parts.handle_tool_call_part(
                    vendor_part_id=index,
                    tool_name=part.tool_name,
                    args=part.args,
                    tool_call_id=part.tool_call_id,
                )
                await emit(events)
            else:  # pragma: no cover - TestModel builds only text and tool-call parts
                raise TypeError(f"unexpected part in a TestModel response: {part!r}")


# ---------------------------------------------------------------------------------------------
# Arguments from a JSON schema
# ---------------------------------------------------------------------------------------------

_CHARS = string.ascii_letters + string.digits + string.punctuation


def generate_tool_args(schema: dict[str, Any], seed: int = 0) -> Any:
    """Minimal data matching ``schema``, deterministic for a seed (pydantic-ai's TestModel generator).

    Objects get only their required properties; strings are one character picked by the seed
    (``'a'`` for seed 0); numbers are the seed within their bounds; arrays get one item (or
    ``minItems``).
    """
    return _SchemaData(schema, seed).generate()


class _SchemaData:
    def __init__(self, schema: dict[str, Any], seed: int) -> None:
        self.schema = schema
        self.defs: dict[str, Any] = schema.get("$defs", {})
        self.seed = seed

    def generate(self) -> Any:
        return self._any(self.schema)

    def _any(self, schema: Any) -> Any:
        if isinstance(schema, bool):
            return self._char()
        if "const" in schema:
            return schema["const"]
        if enum := schema.get("enum"):
            return enum[self.seed % len(enum)]
        if examples := schema.get("examples"):
            return examples[self.seed % len(examples)]
        if ref := schema.get("$ref"):
            return self._any(self._resolve(ref))
        if any_of := schema.get("anyOf"):
            return self._any(any_of[self.seed % len(any_of)])
        if (one_of := schema.get("oneOf")) and "type" not in schema:
            return self._one_of(schema, one_of)
        kind = schema.get("type")
        if kind is None:
            return self._char()
        if kind == "object":
            return self._object(schema)
        if kind == "string":
            return self._string(schema)
        if kind == "integer":
            return self._integer(schema)
        if kind == "number":
            return self._number(schema)
        if kind == "boolean":
            return bool(self.seed % 2)
        if kind == "array":
            return self._array(schema)
        if kind == "null":
            return None
        raise NotImplementedError(f"cannot generate data for JSON schema type {kind!r}")

    def _resolve(self, ref: str) -> dict[str, Any]:
        name = ref.removeprefix("#/$defs/")
        if name in self.defs:
            return self.defs[name]  # type: ignore[no-any-return]
        if ref.startswith("#/"):
            node: Any = self.schema
            for key in ref[2:].split("/"):
                key = key.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, dict) or key not in node:
                    break
                node = node[key]  # pyright: ignore[reportUnknownVariableType]
            else:
                if isinstance(node, dict):
                    return node  # pyright: ignore[reportUnknownVariableType]
        raise KeyError(f"cannot resolve JSON schema reference {ref!r}")

    def _one_of(self, schema: dict[str, Any], one_of: list[Any]) -> Any:
        member: Any = one_of[self.seed % len(one_of)]
        if not isinstance(member, dict):
            return self._char()
        required: list[Any] = list(schema.get("required", []))
        discriminator: Any = schema.get("discriminator")
        if isinstance(discriminator, dict):
            tag = cast(dict[str, Any], discriminator).get("propertyName")
            if tag:
                required.append(tag)
        if required:
            as_dict = cast(dict[str, Any], member)
            if ref := as_dict.get("$ref"):
                as_dict = self._resolve(ref)
            member = {**as_dict, "required": [*as_dict.get("required", []), *required]}
        return self._any(member)

    def _object(self, schema: dict[str, Any]) -> dict[str, Any]:
        required = set(schema.get("required", []))
        data: dict[str, Any] = {}
        properties: dict[str, Any] = schema.get("properties") or {}
        for key, value in properties.items():
            if key in required:
                data[key] = self._any(value)
        if extra := schema.get("additionalProperties"):
            key = "additionalProperty"
            while key in data:
                key += "_"
            data[key] = self._any(extra)
        return data

    def _string(self, schema: dict[str, Any]) -> str:
        min_len = schema.get("minLength")
        if min_len is not None:
            return self._char() * int(min_len)
        if schema.get("maxLength") == 0:
            return ""
        if schema.get("format") == "date":
            return (date(2024, 1, 1) + timedelta(days=self.seed)).isoformat()
        return self._char()

    def _integer(self, schema: dict[str, Any]) -> int:
        maximum = schema.get("maximum")
        minimum = schema.get("minimum")
        if minimum is not None and maximum == minimum:
            return minimum  # type: ignore[no-any-return]
        if maximum is None and (exclusive_max := schema.get("exclusiveMaximum")) is not None:
            maximum = exclusive_max - 1
        if minimum is None and (exclusive_min := schema.get("exclusiveMinimum")) is not None:
            minimum = exclusive_min + 1
        if minimum is not None and maximum is not None:
            span = maximum - minimum
            if span == 0:
                return minimum  # type: ignore[no-any-return]
            if (
                minimum % 1 == 0
                and maximum % 1 == 0
                and "exclusiveMinimum" not in schema
                and "exclusiveMaximum" not in schema
                and span > 0
            ):
                minimum = int(minimum)
                span = int(maximum) - minimum + 1
            return minimum + self.seed % span  # type: ignore[no-any-return]
        if minimum is not None:
            return minimum + self.seed  # type: ignore[no-any-return]
        if maximum is not None:
            return maximum - self.seed  # type: ignore[no-any-return]
        return self.seed

    def _number(self, schema: dict[str, Any]) -> float:
        minimum = _tightest(schema.get("minimum"), schema.get("exclusiveMinimum"), max)
        maximum = _tightest(schema.get("maximum"), schema.get("exclusiveMaximum"), min)
        if minimum is not None and maximum is not None:
            if minimum == maximum:
                return float(minimum)
            span = maximum - minimum
            value = minimum + self.seed % span
            if value == schema.get("exclusiveMinimum"):
                value = minimum + span / 2
            return float(value)
        if minimum is not None:
            return float(minimum + self.seed + (1 if "exclusiveMinimum" in schema else 0))
        if maximum is not None:
            return float(maximum - self.seed - (1 if "exclusiveMaximum" in schema else 0))
        return float(self.seed)

    def _array(self, schema: dict[str, Any]) -> list[Any]:
        data: list[Any] = []
        unique = schema.get("uniqueItems")
        max_items = schema.get("maxItems")
        prefix_items: Any = schema.get("prefixItems")
        items: Any = schema.get("items", {})
        if isinstance(items, list):
            # drafts before 2020-12 spelled a tuple as an `items` list
            tuple_items: list[Any] = items  # pyright: ignore[reportUnknownVariableType]
            prefix_items, items = prefix_items or tuple_items, {}
        min_items = schema.get("minItems", 0)
        for index, item in enumerate(prefix_items or []):
            if isinstance(max_items, int | float) and not max_items > index and not min_items > index:
                break
            data.append(self._item(item, unique))
        if min_items > len(data):
            for _ in range(min_items - len(data)):
                data.append(self._item(items, unique))
        elif items and (max_items is None or max_items > len(data)):
            data.append(self._item(items, unique))
        return data

    def _item(self, schema: dict[str, Any] | bool, unique: bool | None) -> Any:
        item = self._any(schema)
        if unique:
            self.seed += 1
        return item

    def _char(self) -> str:
        # like spreadsheet columns: a..z, A..Z, 0..9, punctuation, then two characters, ...
        count = len(_CHARS)
        text = ""
        rest = self.seed // count
        while rest > 0:
            text += _CHARS[(rest - 1) % count]
            rest //= count
        return text + str(_CHARS[self.seed % count])


def _tightest(
    bound: float | None, exclusive: float | None, pick: Callable[[float, float], float]
) -> float | None:
    if exclusive is None:
        return bound
    return exclusive if bound is None else pick(bound, exclusive)
