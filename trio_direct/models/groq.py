"""Groq over raw httpx: Chat Completions JSON with Groq's own request and response flavour.

Built on the Chat Completions dialect (:mod:`trio_direct.models._chat`), with what pydantic-ai 2.68's
``GroqModel`` does differently (``reference/providers/openai-compatible.md`` §4):

* ``POST {GROQ_BASE_URL or https://api.groq.com}/openai/v1/chat/completions``; ``n: 1`` always;
  ``max_tokens``; no ``stream_options``; tools never ``strict``; ``reasoning_format`` for thinking.
* Reasoning arrives in ``message.reasoning`` / ``delta.reasoning`` and becomes a ``ThinkingPart``
  with no id and no provider name; compound models' ``executed_tools`` become native web-search
  call/return parts; usage of a stream lives in ``x_groq.usage``.
* A ``tool_use_failed`` 400 (or the same error inside a stream) is not raised: it comes back as the
  tool call (or text) the model tried to produce, with ``finish_reason='error'``, so the caller can
  ask the model to retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import attrs
import orjson

from .. import _http, _untrusted  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent
from ..exceptions import ModelHTTPError, UnexpectedModelBehavior, UserError
from ..messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
    generate_tool_call_id,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, OutputObjectDefinition, ToolDefinition
from ..usage import RequestUsage, gateway_usage_cost
from ._chat import (
    FINISH_REASONS,
    check_stream_end,
    map_chat_usage,
    map_content_item,
    openai_compatible_category,
    resolve_thinking,
    retry_messages,
    split_thinking,
    stream_error,
    timestamp_of,
    tool_return_text,
)
from ._chat_profile import DEFAULT_OUTPUT_TOOL_NAME, ChatProfile, UsageFlavor
from ._common import bearer_headers, env_value, with_extra_headers
from ._gateway import gateway_provider
from ._instructions import request_instructions
from ._json import JSON, json_dict, json_list, parse_json_body
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamMeta

__all__ = [
    "GroqModel",
    "GroqStreamMapper",
    "from_gateway_name",
    "from_name",
    "groq_profile",
    "parse_groq_completion",
]

DEFAULT_BASE_URL: Final = "https://api.groq.com"
WEB_SEARCH: Final = "web_search"


def groq_profile(model_name: str) -> ChatProfile:
    """Groq's profile: which models reason, and how (gpt-oss graded, qwen3 can be turned off)."""
    thinks = model_name.startswith(
        ("openai/gpt-oss", "qwen/qwen3", "qwen-qwq", "deepseek-r1", "llama-4-maverick")
    )
    return ChatProfile(
        supports_strict_tools=False,
        supports_max_completion_tokens=False,
        supports_json_object_output=True,
        supports_thinking=thinks,
        thinking_always_enabled=thinks and not model_name.startswith("qwen/qwen3"),
        # the DeepSeek-R1 and Qwen families' own profiles, which Groq's provider merges in
        ignore_streamed_leading_whitespace="deepseek-r1" in model_name or "qwen" in model_name,
        openai_schema=False,
        usage=UsageFlavor(cache_write=False),
    )


def from_name(model_name: str, prefix: str) -> GroqModel:
    """The registry factory for ``'groq:<model>'``: ``GROQ_API_KEY``, ``GROQ_BASE_URL``.

    Raises:
        UserError: ``GROQ_API_KEY`` is not set, or the model name is empty.
    """
    if not model_name:
        raise UserError("model name missing: use 'groq:<model name>'")
    api_key = env_value("GROQ_API_KEY")
    if not api_key:
        raise UserError(
            "Set the `GROQ_API_KEY` environment variable or pass `api_key` to use the Groq provider."
        )
    base_url = env_value("GROQ_BASE_URL") or DEFAULT_BASE_URL
    return GroqModel(model_name, provider=Provider("groq", base_url, api_key))


def from_gateway_name(model_name: str, prefix: str) -> GroqModel:
    """The registry factory for ``'gateway/groq:<model>'``: Groq's API at the Pydantic AI Gateway's
    ``/groq`` route (``{route}/openai/v1/chat/completions``), the Gateway key as the bearer key (see
    :mod:`trio_direct.models._gateway`).

    Raises:
        UserError: the model name is empty, ``PYDANTIC_AI_GATEWAY_API_KEY`` is not set, or no base URL can
            be found.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:<model name>'")
    return GroqModel(model_name, provider=gateway_provider(prefix))


# -- request ---------------------------------------------------------------------------------------


def _map_user_content(content: str | Sequence[UserContent]) -> JSON:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    parts: list[JSON] = []
    for item in content:
        if (
            isinstance(item, str)
            or type(item).__name__ in ("TextContent", "ImageUrl", "CachePoint")
            or getattr(item, "is_image", False)
        ):
            mapped = map_content_item(item, _IMAGE_ONLY)
        else:
            raise UserError(
                f"{type(item).__name__} is not supported in Groq user prompts (only text and images)"
            )
        if mapped is not None:
            parts.append(mapped)
    return {"role": "user", "content": parts}


_IMAGE_ONLY: Final = ChatProfile()


def _assistant(response: ModelResponse, tags: tuple[str, str]) -> JSON:
    texts: list[str] = []
    calls: list[JSON] = []
    for part in response.parts:
        if isinstance(part, TextPart):
            texts.append(part.content)
        elif isinstance(part, ThinkingPart):
            texts.append("\n".join([tags[0], part.content, tags[1]]))
        elif isinstance(part, ToolCallPart):
            calls.append(
                {
                    "id": part.tool_call_id,
                    "type": "function",
                    "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
                }
            )
    message: JSON = {"role": "assistant"}
    if texts:
        message["content"] = "\n\n".join(texts)
    if calls:
        message["tool_calls"] = calls
    return message


def map_groq_messages(
    messages: Sequence[ModelMessage], instructions: Sequence[InstructionPart], profile: ChatProfile
) -> list[JSON]:
    out: list[JSON] = []
    announced = False
    for message in messages:
        if isinstance(message, ModelRequest):
            files: list[UserContent] = []
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    out.append(_map_user_content(part.content))
                elif isinstance(part, ToolReturnPart):
                    text, tool_files = tool_return_text(part)
                    files.extend(tool_files)
                    out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": text})
                elif isinstance(part, RetryPromptPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                    announce = part.tool_name is None and not announced
                    announced = announced or announce
                    out.extend(retry_messages(part, "system", announce))
            if files:
                out.append(_map_user_content(files))
        else:
            out.append(_assistant(message, profile.thinking_tags))
    if instructions:
        leading = next((i for i, m in enumerate(out) if m["role"] != "system"), len(out))
        out[leading:leading] = [{"role": "system", "content": p.content} for p in instructions]
    return out


def _tool(tool: ToolDefinition) -> JSON:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description or "",
            "parameters": tool.parameters_json_schema,
        },
    }


def _json_schema_format(output: OutputObjectDefinition) -> JSON:
    json_schema: JSON = {
        "name": output.name or DEFAULT_OUTPUT_TOOL_NAME,
        "schema": output.json_schema,
        "strict": output.strict,
    }
    if output.description:
        json_schema["description"] = output.description
    return {"type": "json_schema", "json_schema": json_schema}


_GPT_OSS_EFFORT: Final[dict[object, str]] = {
    True: "medium",
    False: "low",
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}


def build_groq_body(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: Mapping[str, Any],
    params: ModelRequestParameters,
    profile: ChatProfile,
    *,
    stream: bool,
) -> JSON:
    """The Groq request body (pure); see the module docstring for how it differs from OpenAI's."""
    s = settings
    instructions = request_instructions(messages, params)
    body: JSON = {"model": model_name, "messages": map_groq_messages(messages, instructions, profile), "n": 1}
    tools = [*params.function_tools, *params.output_tools]
    if tools:
        resolved = resolve_tool_choice(cast(ModelSettings, s), params)
        choice: Any
        if isinstance(resolved, tuple):
            mode, names = resolved
            if mode == "required" and len(names) == 1:
                choice = {"type": "function", "function": {"name": next(iter(names))}}
            else:
                tools = [t for t in tools if t.name in names]
                choice = mode
        else:
            choice = resolved
        body["tools"] = [_tool(t) for t in tools]
        body["tool_choice"] = choice
        if "parallel_tool_calls" in s:
            body["parallel_tool_calls"] = s["parallel_tool_calls"]
    body["stream"] = stream
    if params.output_mode == "native" and params.output_object is not None:
        body["response_format"] = _json_schema_format(params.output_object)
    elif params.output_mode == "prompted" and not tools and profile.supports_json_object_output:
        body["response_format"] = {"type": "json_object"}
    for setting, key in (
        ("stop_sequences", "stop"),
        ("max_tokens", "max_tokens"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("seed", "seed"),
        ("presence_penalty", "presence_penalty"),
        ("frequency_penalty", "frequency_penalty"),
        ("logit_bias", "logit_bias"),
    ):
        if setting in s:
            body[key] = s[setting]
    thinking = resolve_thinking(s, params, profile)
    disable_via_effort = thinking is False and model_name.startswith("qwen/qwen3")
    reasoning_format = s.get("groq_reasoning_format")
    if not reasoning_format and thinking is not None and not disable_via_effort:
        if thinking is False:
            reasoning_format = (
                None if profile.thinking_always_enabled and "gpt-oss" not in model_name else "hidden"
            )
        else:
            reasoning_format = "parsed"
    if reasoning_format:
        body["reasoning_format"] = reasoning_format
    effort = "none" if disable_via_effort else s.get("groq_reasoning_effort")
    if effort is None and "gpt-oss" in model_name and thinking is not None:
        effort = _GPT_OSS_EFFORT.get(thinking, "medium")
    extra_body = s.get("extra_body")
    if isinstance(extra_body, Mapping):
        body.update(cast(Mapping[str, Any], extra_body))
    if effort is not None:
        body["reasoning_effort"] = effort
    return body


# -- response --------------------------------------------------------------------------------------


def _search_results(tool: JSON) -> Any:
    results = tool.get("search_results")
    if isinstance(results, dict):
        r = cast(JSON, results)
        if r.get("images") or r.get("results"):
            dumped: JSON = {"images": r.get("images"), "results": None}
            if isinstance(r.get("results"), list):
                dumped["results"] = [
                    {
                        "content": x.get("content"),
                        "score": x.get("score"),
                        "title": x.get("title"),
                        "url": x.get("url"),
                        **x,
                    }
                    for x in (json_dict(y) for y in json_list(r["results"]))
                    if x is not None
                ]
            dumped.update({k: v for k, v in r.items() if k not in dumped})
            return dumped
    return tool.get("output")


def map_executed_tool(
    tool: JSON, provider_name: str, *, streaming: bool = False, tool_call_id: str | None = None
) -> tuple[NativeToolCallPart | None, NativeToolReturnPart | None]:
    """A compound model's executed tool → native web-search call/return parts (search tools only)."""
    if tool.get("type") != "search":
        return None, None
    results = _search_results(tool)
    call_id = tool_call_id or generate_tool_call_id()
    call = NativeToolCallPart(
        WEB_SEARCH, orjson.loads(tool["arguments"]), call_id, provider_name=provider_name
    )
    ret = NativeToolReturnPart(WEB_SEARCH, results, call_id, provider_name=provider_name)
    if streaming:
        return (None, ret) if results else (call, None)
    return call, ret


def _usage(usage: Any, profile: ChatProfile) -> RequestUsage:
    if not isinstance(usage, dict):
        return RequestUsage(unmeasured_requests=1)
    usage_json = cast(JSON, usage)
    mapped = map_chat_usage(usage_json, profile.usage)
    # through the Pydantic AI Gateway, which adds its cost to the usage object (2.68 reads it always)
    if (cost := gateway_usage_cost(usage_json)) is not None:
        mapped.cost = cost
    return mapped


def parse_groq_completion(
    body: bytes, *, profile: ChatProfile, provider_name: str, provider_url: str | None
) -> ModelResponse:
    """A 200 Groq body → :class:`ModelResponse` (pure), as 2.68's ``GroqModel`` maps it.

    Raises:
        UnexpectedModelBehavior: the body is not a chat completion; the message quotes it.
    """
    return parse_json_body(
        body,
        f"{provider_name} chat completions endpoint",
        lambda data: _parse(data, profile, provider_name, provider_url),
    )


def _parse(data: Any, profile: ChatProfile, provider_name: str, provider_url: str | None) -> ModelResponse:
    if not isinstance(data, dict):
        raise TypeError("the body is not a JSON object")
    completion = cast(JSON, data)
    choice = cast(JSON, completion["choices"][0])
    message = cast(JSON, choice["message"])
    model = completion["model"]
    if not isinstance(model, str):
        raise TypeError("`model` is not a string")
    parts: list[ModelResponsePart] = []
    reasoning = message.get("reasoning")
    if reasoning is not None:
        parts.append(ThinkingPart(reasoning if isinstance(reasoning, str) else str(reasoning)))
    for tool in json_list(message.get("executed_tools")):
        call, ret = map_executed_tool(tool, provider_name)
        if call and ret:
            parts.extend((call, ret))
    content = message.get("content")
    if content:
        if not isinstance(content, str):
            raise TypeError("`content` is not a string")
        parts.extend(_untagged(split_thinking(content, profile.thinking_tags, None)))
    for call in json_list(message.get("tool_calls")):
        function = call["function"]
        parts.append(
            ToolCallPart(
                function["name"], function.get("arguments"), call.get("id") or generate_tool_call_id()
            )
        )
    raw_finish = choice.get("finish_reason")
    details: JSON = {"finish_reason": raw_finish}
    if (ts := timestamp_of(completion.get("created"))) is not None:
        details["timestamp"] = ts
    response_id = completion.get("id")
    return ModelResponse(
        parts,
        usage=_usage(completion.get("usage"), profile),
        model_name=model,
        provider_name=provider_name,
        provider_url=provider_url,
        provider_details=details,
        provider_response_id=response_id if isinstance(response_id, str) else None,
        finish_reason=FINISH_REASONS.get(raw_finish) if isinstance(raw_finish, str) else None,
    )


def _untagged(parts: list[ModelResponsePart]) -> list[ModelResponsePart]:
    # Groq's thinking parts from tags carry no id and no provider name (unlike OpenAIChatModel's)
    return [ThinkingPart(p.content) if isinstance(p, ThinkingPart) else p for p in parts]


def parse_tool_use_failed(body: object) -> JSON | str | None:
    """The generation a ``tool_use_failed`` error carries: ``{"name", "arguments"}``, text, or None."""
    if not isinstance(body, dict):
        return None
    error = cast(JSON, body)
    if isinstance(error.get("error"), dict):
        error = cast(JSON, error["error"])
    generation = error.get("failed_generation")
    if (
        error.get("code") != "tool_use_failed"
        or error.get("type") != "invalid_request_error"
        or not isinstance(error.get("message"), str)
        or not isinstance(generation, str)
    ):
        return None
    try:
        parsed = orjson.loads(generation)
    except orjson.JSONDecodeError:
        return generation
    if (
        (generated := json_dict(parsed)) is not None
        and isinstance(generated.get("name"), str)
        and isinstance(generated.get("arguments"), dict)
    ):
        return {"name": generated["name"], "arguments": generated["arguments"]}
    return generation


def groq_http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A 4xx/5xx as 2.68's ``GroqModel`` raises it: the whole JSON body, the category from ``error``."""
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = _http.parse_error_body(body)
    outer = json_dict(parsed) or {}
    inner = json_dict(outer.get("error")) or {}
    code, error_type, message = inner.get("code"), inner.get("type"), inner.get("message")
    code = code if isinstance(code, str) else None
    error_type = error_type if isinstance(error_type, str) else None
    category = openai_compatible_category(status, code, error_type, message)
    return ModelHTTPError.for_category(
        category,
        status_code=status,
        model_name=model_name,
        body=parsed,
        headers=headers,
        provider_error_code=code,
        provider_error_type=error_type,
    )


# -- stream ----------------------------------------------------------------------------------------


class GroqStreamMapper:
    """Groq's chunks → raw part events (pure; one per stream). See :class:`ChatStreamMapper`."""

    __slots__ = (
        "_chunks",
        "_done",
        "_executed_call_id",
        "_has_finish",
        "_profile",
        "_reasoning",
        "_reasoning_index",
        "_stopped",
        "_usage_seen",
        "meta",
        "parts",
    )

    def __init__(
        self,
        parts: PartsManager,
        *,
        profile: ChatProfile,
        model_name: str,
        provider_name: str,
        provider_url: str,
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name, provider_name=provider_name, provider_url=provider_url)
        self._profile = profile
        self._chunks = 0
        self._done = False
        self._stopped = False
        self._has_finish = False
        self._usage_seen = False
        self._reasoning = False
        self._reasoning_index = 0
        self._executed_call_id: str | None = None

    @property
    def done(self) -> bool:
        """``data: [DONE]`` or a ``tool_use_failed`` error arrived: the stream finishes here."""
        return self._done or self._stopped

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            ModelHTTPError: an error object other than ``tool_use_failed`` (``in_stream=True``).
            UnexpectedModelBehavior: the event is not a JSON chunk.
        """
        if self._done or self._stopped:
            return
        if event.data.startswith("[DONE]"):
            self._done = True
            return
        if event.event not in (None, "error"):
            return
        try:
            chunk = orjson.loads(event.data)
        except orjson.JSONDecodeError:
            raise UnexpectedModelBehavior("Invalid chunk in the Groq stream", event.data) from None
        if not isinstance(chunk, dict):
            raise UnexpectedModelBehavior("Invalid chunk in the Groq stream", event.data)
        chunk = cast(JSON, chunk)
        if error := chunk.get("error"):
            generation = parse_tool_use_failed(error)
            if generation is None:
                raise stream_error(self.meta.model_name or "", error)
            self._tool_use_failed(generation, out)
            return
        try:
            self._chunk(chunk, out)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnexpectedModelBehavior(
                f"Invalid chunk in the Groq stream: {type(exc).__name__}: {exc}", event.data
            ) from None

    def _tool_use_failed(self, generation: JSON | str, out: list[ModelResponseStreamEvent]) -> None:
        self._stopped = True
        if isinstance(generation, dict):
            out.extend(
                self.parts.handle_tool_call_part(
                    vendor_part_id="tool_use_failed",
                    tool_name=generation["name"],
                    args=generation["arguments"],
                )
            )
        elif generation:
            out.extend(
                self.parts.handle_text_delta(
                    vendor_part_id="tool_use_failed",
                    content=generation,
                    thinking_tags=self._profile.thinking_tags,
                    ignore_leading_whitespace=self._profile.ignore_streamed_leading_whitespace,
                )
            )

    def _chunk(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        self._chunks += 1
        if self._chunks == 1:
            # 2.68 takes the model name and the provider timestamp from the first chunk only
            model = chunk.get("model")
            changes: JSON = {}
            if isinstance(model, str):
                changes["model_name"] = model
            if (ts := timestamp_of(chunk.get("created"))) is not None:
                changes["provider_details"] = {"timestamp": ts}
            if changes:
                self.meta = attrs.evolve(self.meta, **changes)
        x_groq = json_dict(chunk.get("x_groq"))
        usage = x_groq.get("usage") if x_groq is not None else None
        if isinstance(usage, dict):
            self._usage_seen = True
            chunk_usage = map_chat_usage(usage, self._profile.usage)
            # the Gateway puts a stream's cost in the top-level `usage` of the chunk carrying Groq's
            # own (in `x_groq`); 2.68 reads it there only
            if (cost := gateway_usage_cost(chunk.get("usage"))) is not None:
                chunk_usage.cost = cost
            self.meta = attrs.evolve(self.meta, usage=self.meta.usage + chunk_usage)
        chunk_id = chunk.get("id")
        if chunk_id and chunk_id != self.meta.provider_response_id:
            self.meta = attrs.evolve(self.meta, provider_response_id=chunk_id)
        choices = chunk.get("choices")
        if not choices:
            return
        choice = choices[0]
        delta = choice["delta"]
        if raw_finish := choice.get("finish_reason"):
            self._has_finish = True
            self.meta = attrs.evolve(
                self.meta,
                provider_details={**(self.meta.provider_details or {}), "finish_reason": raw_finish},
                finish_reason=FINISH_REASONS.get(raw_finish),
            )
        parts = self.parts
        reasoning = delta.get("reasoning")
        if reasoning is None:
            self._reasoning = False
        else:
            if not self._reasoning:
                self._reasoning_index += 1
                self._reasoning = True
            out.extend(
                parts.handle_thinking_delta(
                    vendor_part_id=f"reasoning-{self._reasoning_index}", content=reasoning
                )
            )
        for tool in json_list(delta.get("executed_tools")):
            call, ret = map_executed_tool(
                tool, self.meta.provider_name or "groq", streaming=True, tool_call_id=self._executed_call_id
            )
            if call:
                self._executed_call_id = call.tool_call_id
                out.extend(
                    parts.handle_part(vendor_part_id=f"executed_tools-{tool['index']}-call", part=call)
                )
            if ret:
                self._executed_call_id = None
                out.extend(
                    parts.handle_part(vendor_part_id=f"executed_tools-{tool['index']}-return", part=ret)
                )
        if content := delta.get("content"):
            if not isinstance(content, str):
                raise TypeError(f"delta content must be a string, got {type(content).__name__}")
            out.extend(
                parts.handle_text_delta(
                    vendor_part_id="content",
                    content=content,
                    thinking_tags=self._profile.thinking_tags,
                    ignore_leading_whitespace=self._profile.ignore_streamed_leading_whitespace,
                )
            )
        for call in json_list(delta.get("tool_calls")):
            function: JSON = call.get("function") or {}
            out.extend(
                parts.handle_tool_call_delta(
                    vendor_part_id=call["index"],
                    tool_name=function.get("name"),
                    args=function.get("arguments"),
                    tool_call_id=call.get("id"),
                )
            )

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended; see :meth:`ChatStreamMapper.finish` for the truncation rule.

        Raises:
            ModelConnectionError: neither ``[DONE]``, a finish reason nor a ``tool_use_failed`` arrived.
            UnexpectedModelBehavior: the body held no chunk at all.
        """
        check_stream_end(
            self.meta,
            api="Groq",
            any_chunk=bool(self._chunks or self._stopped),
            finished=bool(self._done or self._has_finish or self._stopped),
        )
        if not self._usage_seen:
            self.meta = attrs.evolve(self.meta, usage=self.meta.usage + RequestUsage(unmeasured_requests=1))


# -- the model -------------------------------------------------------------------------------------


class GroqModel(HTTPModel):
    """A Groq model (``groq:<model>``); see the module docstring."""

    path = "openai/v1/chat/completions"
    http_error = staticmethod(groq_http_error)

    def __init__(
        self,
        model_name: str,
        *,
        provider: Provider,
        profile: ChatProfile | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = profile or groq_profile(model_name)
        self._url = provider.url(self.path)
        self._provider_url = provider.base_url
        self._headers = bearer_headers(provider)

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        body = build_groq_body(self._model_name, messages, settings, params, self.profile, stream=stream)
        headers = with_extra_headers(self._headers, settings.get("extra_headers"))
        return _http.HTTPRequest.json(self._url, body, headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return parse_groq_completion(
            body, profile=self.profile, provider_name=self.system, provider_url=self._provider_url
        )

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> GroqStreamMapper:
        return GroqStreamMapper(
            parts,
            profile=self.profile,
            model_name=self._model_name,
            provider_name=self.system,
            provider_url=self._provider_url,
        )

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """As :meth:`HTTPModel.request`, but a ``tool_use_failed`` 400 comes back as a response.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        try:
            return await super().request(messages, model_settings, model_request_parameters)
        except ModelHTTPError as exc:
            generation = parse_tool_use_failed(exc.body) if exc.status_code == 400 else None
            if generation is None:
                raise
            part: ModelResponsePart | None
            if isinstance(generation, dict):
                part = ToolCallPart(generation["name"], generation["arguments"], generate_tool_call_id())
            else:
                part = TextPart(generation) if generation else None
            _untrusted.check_parts_serialize([part] if part is not None else [])  # hardening: must serialize
            return ModelResponse(
                [part] if part is not None else [],
                model_name=exc.model_name,
                provider_name=self.system,
                provider_url=self._provider_url,
                finish_reason="error",
            )
