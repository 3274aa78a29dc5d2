"""Mistral chat completions over raw httpx (no ``mistralai`` SDK).

``POST {MISTRAL_BASE_URL or https://api.mistral.ai}/v1/chat/completions`` for both modes (streams add
``"stream": true``). The behaviour is pydantic-ai 2.68's ``MistralModel`` over ``mistralai`` 3.7
(``reference/providers/mistral.md``): the same request JSON and the same ``ModelResponse`` for the same
bytes. It reuses the OpenAI module's helpers where the two agree (tool returns, retry prompts,
instructions, inlined text files), as :mod:`trio_direct.models.groq` does.

What Mistral does its own way:

* **Request:** one message per part, no merging; assistant messages carry content *chunks* (one
  ``thinking`` chunk holding every ``ThinkingPart``, then a text chunk per ``TextPart``), ``tool_calls``
  (always, ``[]`` when none; arguments re-serialised compactly) and ``"prefix": false``; an ``OK``
  assistant message goes between a ``tool`` message and a following ``user`` message. ``n``, ``top_p``,
  ``stop`` and the penalties follow the SDK's presence rules (``n``/``top_p`` differ per mode), and
  ``tool_choice='none'`` drops the tools altogether. Unified ``thinking`` becomes ``reasoning_effort``
  (``'high'``/``'none'``) for the adjustable-reasoning models only. Tool call IDs are fitted to Mistral's
  9 alphanumerics when the history holds a retry prompt (the one case the direct API prepares messages).
* **Response:** thinking chunks first, then all text joined into one ``TextPart``, then the tool calls
  with their arguments exactly as received; ``provider_details`` always holds the raw ``finish_reason``.
* **Stream:** thinking and text deltas go to one part each; whole tool calls are routed by their wire
  ``index``. With output tools, text is buffered and parsed as partial JSON until it satisfies an output
  tool's required fields, then becomes that tool's call — no text part (2.68's quirk, kept).
* **Errors:** the body stays the raw response *text*; the category comes from the status alone, except
  Mistral's code ``"3051"`` (context window exceeded).

Deliberate differences from upstream, all documented where they happen:

* Items upstream downloads while building a request (``ImageUrl``/``DocumentUrl`` with
  ``force_download``, text ``DocumentUrl``\\ s) raise :class:`UserError`, as do the items upstream
  rejects with ``NotImplementedError``: building a request does no I/O here. Pass bytes as
  ``BinaryContent``.
* ``timeout`` also accepts an ``httpx.Timeout`` (upstream raises ``NotImplementedError``).
* A stream that ends with neither ``data: [DONE]`` nor a ``finish_reason`` raises
  :class:`ModelConnectionError` (upstream returns the truncated parts as complete).
* Where upstream lets a raw ``ValueError``/``AssertionError`` escape (a 200 body without choices, text
  that is not JSON while output tools are streaming), this module raises
  :class:`UnexpectedModelBehavior` quoting what it got. An output tool schema whose ``type`` is not one
  of the JSON type names (a list, say) never matches, where upstream fails with a ``TypeError``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, cast

import attrs
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent
from ..exceptions import (
    ModelAPIError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelOverloadedError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import (
    AudioUrl,
    BinaryContent,
    DocumentUrl,
    FinishReason,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserContent,
    UserPromptPart,
    VideoUrl,
    generate_tool_call_id,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._chat import (
    check_stream_end,
    format_inlined_text_file,
    is_text_like_media_type,
    retry_messages,
    timestamp_of,
    tool_return_text,
)
from ._common import (
    bearer_headers,
    http_status_category,
    needs_download,
    provider_from_args,
    says_overloaded,
    warn_unsupported_setting,
)
from ._instructions import request_instructions
from ._json import JSON, count, json_array, json_dict, parse_json_body
from ._prepare import fit_tool_call_ids
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamMeta

__all__ = [
    "DEFAULT_BASE_URL",
    "MistralModel",
    "MistralModelSettings",
    "MistralProfile",
    "MistralStreamMapper",
    "build_mistral_body",
    "from_name",
    "map_mistral_messages",
    "map_mistral_usage",
    "mistral_http_error",
    "mistral_profile",
    "output_tool_call_from_text",
    "parse_json",
    "parse_mistral_completion",
    "parse_partial_json",
]

DEFAULT_BASE_URL: Final = "https://api.mistral.ai"
PROVIDER_NAME: Final = "mistral"
#: Mistral's tool-calling template wants IDs of exactly this many ASCII alphanumerics.
TOOL_CALL_ID_LENGTH: Final = 9
_PATH: Final = "v1/chat/completions"

# The Mistral Large 4, Small 4 and Medium 3.5 families (and the `magistral-*-latest` aliases that now
# point at them): reasoning is opt-in through `reasoning_effort`. Kept as pydantic-ai 2.68's provider.
_ADJUSTABLE_REASONING_MODELS: Final = frozenset(
    {
        "mistral-large-4",
        "mistral-large-4-0",
        "mistral-small-latest",
        "mistral-small-2603",
        "mistral-medium-latest",
        "mistral-medium",
        "mistral-medium-3",
        "mistral-medium-3-5",
        "mistral-medium-3.5",
        "mistral-medium-2604",
        "magistral-medium-latest",
        "magistral-small-latest",
    }
)
#: MistralModel never sends `extra_body`, `extra_headers`, `logit_bias`, `service_tier` or `top_k`; the
#: two that change what a request guarantees warn when set (2.68's `unsupported_settings`)
_WARNED_SETTINGS: Final = ("extra_headers", "extra_body")
_TEXT_DOCUMENT_ERROR: Final = (
    "DocumentUrl with a text document needs a download, which trio_direct does not do while building a "
    "request; fetch it and pass it as BinaryContent"
)


class MistralModelSettings(ModelSettings, total=False):
    """``ModelSettings`` plus the Mistral keys (prefixed ``mistral_``, so they merge with others).

    Attributes:
        mistral_prompt_cache_key: ``prompt_cache_key``, to improve cache hits across similar requests.
    """

    mistral_prompt_cache_key: str


@attrs.frozen(slots=True)
class MistralProfile:
    """What pydantic-ai 2.68's Mistral profile (with the provider's overrides) says about a model."""

    supports_thinking: bool = False
    #: dated ``magistral-*`` models reason unconditionally; nothing is sent for ``thinking``
    thinking_always_enabled: bool = False


def mistral_profile(model_name: str) -> MistralProfile:
    """The profile of ``model_name``: which models reason, and whether ``thinking`` can adjust it."""
    if model_name in _ADJUSTABLE_REASONING_MODELS:
        return MistralProfile(supports_thinking=True)
    if model_name.startswith("magistral"):
        return MistralProfile(supports_thinking=True, thinking_always_enabled=True)
    return MistralProfile()


def from_name(model_name: str, prefix: str) -> MistralModel:
    """The registry factory for ``'mistral:<model>'``: ``MISTRAL_API_KEY``, ``MISTRAL_BASE_URL``.

    Raises:
        UserError: ``MISTRAL_API_KEY`` is not set, or the model name is empty.
    """
    del prefix
    if not model_name:
        raise UserError("model name missing: use 'mistral:<model name>'")
    return MistralModel(model_name)


# =============================================================================================
# Request
# =============================================================================================


def _media_type(item: DocumentUrl) -> str:
    try:
        return item.media_type
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _inlined_text(data: bytes, media_type: str, identifier: str) -> JSON:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(f"the {media_type!r} document {identifier!r} is not UTF-8 text") from None
    return {
        "type": "text",
        "text": format_inlined_text_file(text, media_type=media_type, identifier=identifier),
    }


def _image_chunk(url: str, vendor_metadata: Mapping[str, Any] | None) -> JSON:
    image_url: JSON = {"url": url}
    if vendor_metadata:
        image_url["detail"] = vendor_metadata.get("detail", "auto")
    return {"type": "image_url", "image_url": image_url}


def _map_content_item(item: UserContent) -> JSON | None:
    """One user-prompt item → one Mistral content chunk (``None`` drops it)."""
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, TextContent):
        return {"type": "text", "text": item.content}
    if isinstance(item, ImageUrl):
        if item.force_download:
            raise needs_download("ImageUrl(force_download=True)", "image")
        return _image_chunk(item.url, item.vendor_metadata)
    if isinstance(item, BinaryContent):
        if is_text_like_media_type(item.media_type):
            return _inlined_text(item.data, item.media_type, item.identifier)
        if item.is_image:
            return _image_chunk(item.data_uri, item.vendor_metadata)
        if item.media_type == "application/pdf":
            return {"type": "document_url", "document_url": item.data_uri}
        raise UserError(
            "BinaryContent other than text-like, image, or PDF is not supported in Mistral user prompts"
        )
    if isinstance(item, DocumentUrl):
        media_type = _media_type(item)
        if is_text_like_media_type(media_type):
            raise UserError(_TEXT_DOCUMENT_ERROR)
        if media_type == "application/pdf":
            if item.force_download:
                raise needs_download("DocumentUrl(force_download=True)", "document")
            return {"type": "document_url", "document_url": item.url}
        raise UserError("DocumentUrl other than text-like or PDF is not supported in Mistral user prompts")
    if isinstance(item, AudioUrl):
        raise UserError("AudioUrl is not supported in Mistral user prompts")
    if isinstance(item, VideoUrl):
        raise UserError("VideoUrl is not supported in Mistral user prompts")
    if isinstance(item, UploadedFile):
        raise UserError("UploadedFile is not supported in Mistral user prompts")
    return None  # a CachePoint: Mistral has no explicit cache breakpoints


def _map_user_prompt(content: str | Sequence[UserContent]) -> JSON:
    if isinstance(content, str):
        return {"content": content, "role": "user"}
    chunks = [mapped for item in content if (mapped := _map_content_item(item)) is not None]
    return {"content": chunks, "role": "user"}


def _assistant_message(response: ModelResponse) -> JSON | None:
    """One response → one assistant message (``None`` when it has neither content nor tool calls)."""
    content: list[JSON] = []
    thinking: list[JSON] = []
    calls: list[JSON] = []
    for part in response.parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.content})
        elif isinstance(part, ThinkingPart):
            thinking.append({"type": "text", "text": part.content})
        elif isinstance(part, ToolCallPart):
            calls.append(
                {
                    "id": part.tool_call_id or generate_tool_call_id(),
                    "type": "function",
                    "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
                    "index": 0,
                }
            )
        # native tool parts, files and compaction parts are not sent back to Mistral
    if thinking:
        content.insert(0, {"type": "thinking", "thinking": thinking})
    if not content and not calls:
        return None
    return {"content": content, "tool_calls": calls, "prefix": False, "role": "assistant"}


_OK_MESSAGE: Final[JSON] = {"content": [{"type": "text", "text": "OK"}], "prefix": False, "role": "assistant"}


def _separate_tool_and_user_messages(messages: list[JSON]) -> list[JSON]:
    # Mistral rejects `user` right after `tool` ("Unexpected role 'user' after role 'tool'")
    out: list[JSON] = []
    for i, message in enumerate(messages):
        out.append(message)
        if message["role"] == "tool" and i + 1 < len(messages) and messages[i + 1]["role"] == "user":
            out.append(dict(_OK_MESSAGE))
    return out


def _has_retry_prompt(messages: Sequence[ModelMessage]) -> bool:
    return any(
        isinstance(part, RetryPromptPart)
        for message in messages
        if isinstance(message, ModelRequest)
        for part in message.parts
    )


def map_mistral_messages(
    messages: Sequence[ModelMessage], instructions: Sequence[InstructionPart]
) -> list[JSON]:
    """The ``messages`` array: one message per part in order, the instructions after the leading system run.

    The history is used as given: :func:`build_mistral_body` fits the tool call IDs first when needed.
    """
    out: list[JSON] = []
    announced = False
    for message in messages:
        if isinstance(message, ModelRequest):
            files: list[UserContent] = []
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"content": part.content, "role": "system"})
                elif isinstance(part, UserPromptPart):
                    out.append(_map_user_prompt(part.content))
                elif isinstance(part, ToolReturnPart):
                    text, tool_files = tool_return_text(part)
                    files.extend(tool_files)
                    out.append({"content": text, "tool_call_id": part.tool_call_id, "role": "tool"})
                elif isinstance(part, RetryPromptPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                    announce = part.tool_name is None and not announced
                    announced = announced or announce
                    for retry in retry_messages(part, "system", announce):
                        out.append(_retry_message(retry))
            if files:
                out.append(_map_user_prompt(files))
        elif (assistant := _assistant_message(message)) is not None:
            out.append(assistant)
    if instructions:
        leading = next((i for i, m in enumerate(out) if m["role"] != "system"), len(out))
        out[leading:leading] = [{"content": p.content, "role": "system"} for p in instructions]
    return _separate_tool_and_user_messages(out)


def _retry_message(message: JSON) -> JSON:
    # the OpenAI helper's messages, in Mistral's key order
    if message["role"] == "tool":
        return {"content": message["content"], "tool_call_id": message["tool_call_id"], "role": "tool"}
    return {"content": message["content"], "role": message["role"]}


def _tool(tool: ToolDefinition) -> JSON:
    return {
        "function": {
            "name": tool.name,
            "parameters": tool.parameters_json_schema,
            "description": tool.description or "",
        },
        "type": "function",
    }


def _tools_and_choice(settings: Mapping[str, Any], params: ModelRequestParameters) -> tuple[list[JSON], Any]:
    """The tools to send and ``tool_choice`` (``[]``, None: neither goes out); 2.68's ``_get_tool_choice``."""
    resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
    tools = params.tool_defs
    choice: Any
    if resolved == "none":
        # Mistral garbles its answers with tool_choice='none' and tools present: send no tools at all
        return [], None
    if resolved == "auto":
        choice = "auto"
    elif resolved == "required":
        choice = "any"
    else:
        mode, names = resolved
        if mode == "required" and len(names) == 1:
            # name the forced tool and keep them all, so the tools prefix stays cacheable
            choice = {"type": "function", "function": {"name": next(iter(names))}}
        else:
            tools = {name: tool for name, tool in tools.items() if name in names}
            choice = "auto" if mode == "auto" else "any"
    if not tools:
        return [], None
    return [_tool(t) for t in tools.values()], choice


def reasoning_effort(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: MistralProfile
) -> Literal["none", "high"] | None:
    """``reasoning_effort`` for unified ``thinking``: only on adjustable-reasoning models (2.68)."""
    thinking = params.thinking if params.thinking is not None else settings.get("thinking")
    if thinking is None or not profile.supports_thinking or profile.thinking_always_enabled:
        return None
    return "none" if thinking is False else "high"


def build_mistral_body(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: Mapping[str, Any],
    params: ModelRequestParameters,
    profile: MistralProfile,
    *,
    stream: bool,
) -> JSON:
    """The chat completions request body (pure), with the SDK's key presence rules (reference §2).

    Raises:
        UserError: native structured output was asked for, an item of the prompt cannot be sent, or
            ``tool_choice`` names no known tool.
    """
    if params.output_mode == "native":
        raise UserError("Native structured output is not supported by this model.")
    s = settings
    if _has_retry_prompt(messages):
        # the direct API prepares messages (fitting tool call IDs) only for a history with a retry
        messages = fit_tool_call_ids(messages, TOOL_CALL_ID_LENGTH)
    body: JSON = {
        "model": model_name,
        "messages": map_mistral_messages(messages, request_instructions(messages, params)),
    }
    tools, tool_choice = _tools_and_choice(s, params)
    if "temperature" in s:
        body["temperature"] = s["temperature"]
    if "top_p" in s:
        body["top_p"] = s["top_p"]
    elif not stream or tools or params.output_tools:
        body["top_p"] = 1.0
    else:
        body["top_p"] = None
    if "max_tokens" in s:
        body["max_tokens"] = s["max_tokens"]
    body["stream"] = stream
    body["stop"] = s.get("stop_sequences")
    if "seed" in s:
        body["random_seed"] = s["seed"]
    if tools:
        body["tools"] = tools
        body["tool_choice"] = tool_choice
    body["presence_penalty"] = s.get("presence_penalty")
    body["frequency_penalty"] = s.get("frequency_penalty")
    if not stream or tools:
        body["n"] = 1
    if s.get("parallel_tool_calls") is not None:
        body["parallel_tool_calls"] = s["parallel_tool_calls"]
    if (effort := reasoning_effort(s, params, profile)) is not None:
        body["reasoning_effort"] = effort
    if "mistral_prompt_cache_key" in s:
        body["prompt_cache_key"] = s["mistral_prompt_cache_key"]
    return body


# =============================================================================================
# Response
# =============================================================================================

FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",
    "error": "error",
    "tool_calls": "tool_call",
}
_USAGE_TOTALS: Final = ("prompt_tokens", "completion_tokens", "total_tokens")


def map_mistral_usage(usage: Any) -> RequestUsage:
    """A ``usage`` object → :class:`RequestUsage` (genai-prices' Mistral extractor, as 2.68 runs it).

    ``details`` holds every other top-level integer (``num_cached_tokens``...); nested objects are left
    out. No ``usage`` at all counts as one unmeasured request.
    """
    if not isinstance(usage, dict):
        return RequestUsage(unmeasured_requests=1)
    u = cast(JSON, usage)
    details = {k: v for k, v in u.items() if k not in _USAGE_TOTALS and isinstance(v, int)}
    prompt = json_dict(u.get("prompt_tokens_details")) or {}
    completion = json_dict(u.get("completion_tokens_details")) or {}
    return RequestUsage(
        input_tokens=count(u.get("prompt_tokens")),
        output_tokens=count(u.get("completion_tokens")),
        cache_read_tokens=count(prompt.get("cached_tokens")),
        output_reasoning_tokens=count(completion.get("reasoning_tokens")),
        details=details,
    )


def _split_content(content: Any) -> tuple[str | None, list[str]]:
    """``content`` (a string, a list of chunks, or null) → (all text joined, the thinking texts).

    Raises:
        TypeError: ``content`` or one of its chunks has the wrong shape.
    """
    if not content:
        return None, []
    if isinstance(content, str):
        return content, []
    chunks = json_array(content)
    if chunks is None:
        raise TypeError(f"`content` is {type(content).__name__}")
    text: str | None = None
    thinking: list[str] = []
    for item in chunks:
        chunk = json_dict(item)
        if chunk is None:
            raise TypeError("a content chunk is not an object")
        kind = chunk.get("type")
        if kind == "text":
            piece = chunk["text"]
            if not isinstance(piece, str):
                raise TypeError("a text chunk's `text` is not a string")
            text = (text or "") + piece
        elif kind == "thinking":
            thoughts = json_array(chunk["thinking"])
            if thoughts is None:
                raise TypeError("a thinking chunk's `thinking` is not a list")
            for entry in thoughts:
                thought = json_dict(entry)
                if thought is None:
                    raise TypeError("a thinking item is not an object")
                if thought.get("type") == "text":
                    piece = thought["text"]
                    if not isinstance(piece, str):
                        raise TypeError("a thinking item's `text` is not a string")
                    thinking.append(piece)
        # reference, image, document, file, audio and unknown chunks carry no text
    return text, thinking


def _tool_call_part(item: Any) -> ToolCallPart:
    call = json_dict(item)
    function = json_dict(call["function"]) if call is not None else None
    if call is None or function is None:
        raise TypeError("a tool call or its `function` is not an object")
    name, arguments, call_id = function["name"], function["arguments"], call.get("id")
    if not isinstance(name, str) or not isinstance(arguments, str | dict):
        raise TypeError("a tool call's name must be a string and its arguments a string or an object")
    if call_id is not None and not isinstance(call_id, str):
        raise TypeError("a tool call's `id` is not a string")
    return ToolCallPart(name, cast(str | dict[str, Any], arguments), call_id or generate_tool_call_id())


def parse_mistral_completion(body: bytes, *, provider_name: str, provider_url: str | None) -> ModelResponse:
    """A 200 chat completions body → :class:`ModelResponse` (pure), as 2.68's ``MistralModel`` maps it.

    Raises:
        UnexpectedModelBehavior: the body is not JSON, or not a chat completion; the message quotes it.
    """
    return parse_json_body(
        body,
        f"{provider_name} chat completions endpoint",
        lambda data: _parse_completion(data, provider_name, provider_url),
    )


def _parse_completion(data: Any, provider_name: str, provider_url: str | None) -> ModelResponse:
    if not isinstance(data, dict):
        raise TypeError("the body is not a JSON object")
    completion = cast(JSON, data)
    choices = json_array(completion["choices"])
    if not choices:
        raise ValueError("`choices` is empty or not a list")
    choice = choices[0]
    if not isinstance(choice, dict) or not isinstance(cast(JSON, choice).get("message"), dict):
        raise TypeError("`choices[0].message` is not an object")
    message = cast(JSON, choice["message"])
    model = completion["model"]
    response_id = completion.get("id")
    raw_finish = cast(JSON, choice).get("finish_reason")
    if not isinstance(model, str):
        raise TypeError("`model` is not a string")
    if response_id is not None and not isinstance(response_id, str):
        raise TypeError("`id` is not a string")
    if raw_finish is not None and not isinstance(raw_finish, str):
        raise TypeError("`finish_reason` is not a string")

    parts: list[ModelResponsePart] = []
    text, thinking = _split_content(message.get("content"))
    parts.extend(ThinkingPart(thought) for thought in thinking)
    if text:
        parts.append(TextPart(text))
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        calls = json_array(tool_calls)
        if calls is None:
            raise TypeError("`tool_calls` is not a list")
        parts.extend(_tool_call_part(call) for call in calls)

    details: JSON = {"finish_reason": raw_finish}
    if (timestamp := timestamp_of(completion.get("created"))) is not None:
        details["timestamp"] = timestamp
    return ModelResponse(
        parts,
        usage=map_mistral_usage(completion.get("usage")),
        model_name=model,
        provider_name=provider_name,
        provider_url=provider_url,
        provider_details=details,
        provider_response_id=response_id,
        finish_reason=FINISH_REASONS.get(raw_finish) if raw_finish is not None else None,
    )


# =============================================================================================
# Errors
# =============================================================================================


def _code_type_message(error: object) -> tuple[str | None, str | None, object]:
    if not isinstance(error, dict):
        return None, None, None
    fields = cast(JSON, error)
    code, error_type = fields.get("code"), fields.get("type")
    # Mistral sends its numeric codes as strings ('3051'); either way they compare as strings
    return (
        str(code) if isinstance(code, str | int) else None,
        error_type if isinstance(error_type, str) else None,
        fields.get("message"),
    )


def mistral_http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A 4xx/5xx as 2.68's ``MistralModel`` raises it: ``body`` is the raw response *text*, the category
    comes from the status (code ``"3051"`` → :class:`ModelContextWindowExceededError`)."""
    text = body.decode("utf-8", "replace")
    try:
        parsed: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    code, error_type, message = _code_type_message(parsed)
    category = ModelContextWindowExceededError if code == "3051" else http_status_category(status, message)
    return ModelHTTPError.for_category(
        category,
        status_code=status,
        model_name=model_name,
        body=text,
        headers=headers,
        provider_error_code=code,
        provider_error_type=error_type,
    )


def _stream_error(model_name: str, error: JSON) -> ModelAPIError:
    """An error object inside a 200 stream: no status to go by, so only the code and message categorise it."""
    code, error_type, message = _code_type_message(error)
    category: type[ModelAPIError] = ModelAPIError
    if code == "3051":
        category = ModelContextWindowExceededError
    elif says_overloaded(message, error_type):
        category = ModelOverloadedError
    return category(
        model_name,
        message if isinstance(message, str) and message else "An error occurred during streaming",
        body=error,
        provider_error_code=code,
        provider_error_type=error_type,
        in_stream=True,
    )


# =============================================================================================
# Partial JSON (what pydantic_core.from_json(allow_partial='trailing-strings') makes of a prefix)
# =============================================================================================


class _Incomplete(Exception):
    """The text ended (or stopped making sense) where partial parsing may simply stop."""


class _Invalid(Exception):
    """Malformed JSON that no continuation can fix."""


class JSONSyntaxError(ValueError):
    """``text`` is not JSON (or, for partial parsing, not the beginning of JSON)."""


_WHITESPACE: Final = frozenset(" \t\n\r")
_DIGITS: Final = frozenset("0123456789")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_ESCAPES: Final = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MAX_DEPTH: Final = 200  # jiter's recursion limit: values nested in more containers are refused


class _JSONReader:
    """A JSON reader that behaves as jiter does, in strict or in partial (trailing-strings) mode.

    Partial mode closes unfinished containers, drops an unfinished key or scalar, keeps an unfinished
    string value (up to any unfinished escape), and stops at the first value not followed by ``,`` or a
    closing bracket. Both modes accept ``NaN``, ``Infinity`` and ``-Infinity``.
    """

    __slots__ = ("depth", "i", "n", "partial", "s")

    def __init__(self, text: str, partial: bool) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)
        self.partial = partial
        self.depth = 0

    def document(self) -> Any:
        self._skip()
        if self.i >= self.n:
            raise _Invalid("EOF while parsing a value")
        value = self._value()
        if not self.partial:
            self._skip()
            if self.i < self.n:
                raise _Invalid("trailing characters")
        return value

    def _skip(self) -> None:
        s, i, n = self.s, self.i, self.n
        while i < n and s[i] in _WHITESPACE:
            i += 1
        self.i = i

    def _value(self) -> Any:
        if self.depth > _MAX_DEPTH:
            raise _Invalid("recursion limit exceeded")
        c = self.s[self.i]
        if c == "{":
            return self._object()
        if c == "[":
            return self._array()
        if c == '"':
            return self._string(value=True)
        if c == "-" or c in _DIGITS:
            return self._number()
        if c == "t":
            return self._literal("true", True)
        if c == "f":
            return self._literal("false", False)
        if c == "n":
            return self._literal("null", None)
        if c == "N":
            return self._literal("NaN", math.nan)
        if c == "I":
            return self._literal("Infinity", math.inf)
        raise _Invalid("expected value")

    def _literal(self, word: str, value: Any) -> Any:
        s, i, n = self.s, self.i, self.n
        for k, ch in enumerate(word):
            if i + k >= n:
                raise _Incomplete("EOF while parsing a value")
            if s[i + k] != ch:
                raise _Invalid("expected ident")
        self.i = i + len(word)
        return value

    def _digits(self) -> None:
        s, i, n = self.s, self.i, self.n
        while i < n and s[i] in _DIGITS:
            i += 1
        self.i = i

    def _number(self) -> Any:
        s, n = self.s, self.n
        start = self.i
        if s[self.i] == "-":
            self.i += 1
            if self.i >= n:
                raise _Incomplete("EOF while parsing a value")
            if s[self.i] == "I":
                return -self._literal("Infinity", math.inf)
        c = s[self.i]
        if c == "0":
            self.i += 1
            if self.i < n and s[self.i] in _DIGITS:
                raise _Invalid("invalid number")
        elif c in _DIGITS:
            self._digits()
        else:
            raise _Invalid("invalid number")
        is_float = False
        if self.i < n and s[self.i] == ".":
            is_float = True
            self.i += 1
            if self.i >= n:
                raise _Incomplete("EOF while parsing a value")
            if s[self.i] not in _DIGITS:
                raise _Invalid("invalid number")
            self._digits()
        if self.i < n and s[self.i] in "eE":
            is_float = True
            self.i += 1
            if self.i < n and s[self.i] in "+-":
                self.i += 1
            if self.i >= n:
                raise _Incomplete("EOF while parsing a value")
            if s[self.i] not in _DIGITS:
                raise _Invalid("invalid number")
            self._digits()
        text = s[start : self.i]
        return float(text) if is_float else int(text)

    def _string(self, *, value: bool) -> str:
        """A string at ``self.i`` (the opening quote). An unfinished one is returned cut short when it is
        a value in partial mode; otherwise the text ending inside it is :class:`_Incomplete`."""
        s, n = self.s, self.n
        i = self.i + 1
        out: list[str] = []
        while True:
            end = i
            while end < n and s[end] not in '"\\' and s[end] >= " ":
                end += 1
            out.append(s[i:end])
            i = end
            if i >= n:
                break
            c = s[i]
            if c == '"':
                self.i = i + 1
                return "".join(out)
            if c != "\\":
                raise _Invalid("control character (\\u0000-\\u001F) found while parsing a string")
            if i + 1 >= n:
                break
            escape = s[i + 1]
            if escape in _ESCAPES:
                out.append(_ESCAPES[escape])
                i += 2
                continue
            if escape != "u":
                raise _Invalid("invalid escape")
            code = self._hex(i + 2)
            if code is None:
                break
            i += 6
            if 0xDC00 <= code <= 0xDFFF:
                raise _Invalid("lone leading surrogate in hex escape")
            if 0xD800 <= code <= 0xDBFF:
                if i >= n or (s[i] == "\\" and i + 1 >= n):
                    break
                if s[i] != "\\" or s[i + 1] != "u":
                    raise _Invalid("unexpected end of hex escape")
                low = self._hex(i + 2)
                if low is None:
                    break
                if not 0xDC00 <= low <= 0xDFFF:
                    raise _Invalid("lone leading surrogate in hex escape")
                i += 6
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            out.append(chr(code))
        # the text ended inside the string
        if value and self.partial:
            self.i = n
            return "".join(out)
        raise _Incomplete("EOF while parsing a string")

    def _hex(self, at: int) -> int | None:
        """The four hex digits at ``at`` (None when the text ends first)."""
        if at + 4 > self.n:
            return None
        digits = self.s[at : at + 4]
        if not all(d in _HEX for d in digits):
            raise _Invalid("invalid escape")
        return int(digits, 16)

    def _container(self, fill: Callable[[], None]) -> None:
        """Run ``fill``; in partial mode, text ending (or going wrong) inside just closes the container."""
        self.depth += 1
        self.i += 1
        try:
            fill()
        except _Incomplete:
            if not self.partial:
                raise
        finally:
            self.depth -= 1

    def _next(self, eof: str) -> str:
        """The next character after whitespace; :class:`_Incomplete` (saying ``eof``) at the end."""
        self._skip()
        if self.i >= self.n:
            raise _Incomplete(eof)
        return self.s[self.i]

    def _array(self) -> list[Any]:
        out: list[Any] = []

        def fill() -> None:
            if self._next("EOF while parsing a list") == "]":
                self.i += 1
                return
            while True:
                out.append(self._value())
                c = self._next("EOF while parsing a list")
                if c == "]":
                    self.i += 1
                    return
                if c != ",":
                    raise _Incomplete("expected `,` or `]`")
                self.i += 1
                if self._next("EOF while parsing a value") == "]":
                    raise _Invalid("trailing comma")

        self._container(fill)
        return out

    def _object(self) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def fill() -> None:
            c = self._next("EOF while parsing an object")
            if c == "}":
                self.i += 1
                return
            while True:
                if c != '"':
                    raise _Invalid("key must be a string")
                key = self._string(value=False)
                if self._next("EOF while parsing an object") != ":":
                    raise _Invalid("expected `:`")
                self.i += 1
                self._next("EOF while parsing a value")
                out[key] = self._value()
                c = self._next("EOF while parsing an object")
                if c == "}":
                    self.i += 1
                    return
                if c != ",":
                    raise _Incomplete("expected `,` or `}`")
                self.i += 1
                c = self._next("EOF while parsing a value")
                if c == "}":
                    raise _Invalid("trailing comma")

        self._container(fill)
        return out


def _parse(text: str, partial: bool) -> Any:
    try:
        return _JSONReader(text, partial).document()
    except (_Incomplete, _Invalid, ValueError) as exc:  # ValueError: an int too long for int()
        raise JSONSyntaxError(str(exc)) from None


def parse_json(text: str) -> Any:
    """``text`` as JSON, as ``pydantic_core.from_json`` reads it (``NaN``/``Infinity`` allowed).

    Raises:
        JSONSyntaxError: ``text`` is not one JSON value.
    """
    return _parse(text, False)


def parse_partial_json(text: str) -> Any:
    """What ``pydantic_core.from_json(text, allow_partial='trailing-strings')`` makes of ``text``: the
    beginning of a JSON value, with unfinished containers closed and an unfinished string value kept.

    Raises:
        JSONSyntaxError: ``text`` cannot begin a JSON value (or is empty).
    """
    return _parse(text, True)


# -- output tools from streamed text (2.68's MistralStreamedResponse._try_get_output_tool_from_text) --

_JSON_TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "string": str,
    "boolean": bool,
    "array": list,
    "object": dict,
    "null": type(None),
}


def _matches_json_type(value: Any, json_type: Any, *, widened: bool) -> bool:
    if json_type == "number":
        return isinstance(value, float) or (
            widened and isinstance(value, int) and not isinstance(value, bool)
        )
    if json_type == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            widened and isinstance(value, float) and value.is_integer()
        )
    return isinstance(value, _JSON_TYPES[json_type])


def _matches_param_type(value: Any, schema: Mapping[str, Any], *, widened: bool) -> bool:
    param_type = schema.get("type")
    items = schema.get("items", {})
    items_type = None if isinstance(items, list) else items.get("type")
    if param_type == "array" and items_type:
        values = json_array(value)
        return values is not None and all(
            _matches_json_type(item, items_type, widened=widened) for item in values
        )
    return not param_type or _matches_json_type(value, param_type, widened=widened)


def _has_required(obj: Mapping[str, Any], schema: Mapping[str, Any], *, widened: bool = True) -> bool:
    properties = schema.get("properties", {})
    for param in schema.get("required", []):
        if param not in obj:
            return False
        param_schema = properties.get(param, {})
        value = obj[param]
        if not _matches_param_type(value, param_schema, widened=widened):
            return False
        if (
            isinstance(value, dict)
            and "properties" in param_schema
            and not _has_required(cast(dict[str, Any], value), param_schema, widened=widened)
        ):
            return False
    return True


def _matches_schema(text: str, obj: dict[str, Any], schema: Mapping[str, Any]) -> bool:
    try:
        if not _has_required(obj, schema):
            return False
        if not _has_required(obj, schema, widened=False):
            # a number at the end of a partial document may still grow (`4` → `4.5`): needs the whole text
            try:
                parse_json(text)
            except JSONSyntaxError:
                return False
        elif text[-1:].isdigit():
            # would a decimal continuation break the match?
            try:
                extended = parse_partial_json(f"{text}.5")
            except JSONSyntaxError:
                return False
            if not isinstance(extended, dict) or not _has_required(cast(dict[str, Any], extended), schema):
                return False
    except (TypeError, KeyError, AttributeError):
        # a schema this check cannot read (a `type` list, ...); upstream fails with the same exception
        return False
    return True


def output_tool_call_from_text(
    text: str, output_tools: Iterable[ToolDefinition]
) -> tuple[str, dict[str, Any]] | None:
    """The output tool call streamed ``text`` already amounts to: ``(tool name, args)``, or None.

    Raises:
        JSONSyntaxError: ``text`` is not the beginning of a JSON value.
    """
    value = parse_partial_json(text)
    if not isinstance(value, dict) or not value:
        return None
    args = cast(dict[str, Any], value)
    for tool in {t.name: t for t in output_tools}.values():
        if _matches_schema(text, args, tool.parameters_json_schema):
            return tool.name, args
    return None


# =============================================================================================
# Stream
# =============================================================================================


class MistralStreamMapper:
    """Mistral's SSE chunks → raw part events and :class:`StreamMeta` (one per stream, pure).

    Per chunk, as 2.68: usage adds up, the id updates, then for ``choices[0]`` the finish reason, the
    thinking deltas (one thinking part), the text deltas (one text part — or, with output tools, a
    buffer parsed into an output tool call) and the tool calls (by wire ``index``). The model name and
    ``provider_details['timestamp']`` come from the first chunk.
    """

    __slots__ = (
        "_chunks",
        "_done",
        "_has_finish",
        "_output_text",
        "_output_tools",
        "_usage_seen",
        "meta",
        "parts",
    )

    def __init__(
        self,
        parts: PartsManager,
        *,
        model_name: str,
        provider_name: str,
        provider_url: str | None,
        output_tools: Sequence[ToolDefinition] = (),
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name, provider_name=provider_name, provider_url=provider_url)
        self._output_tools = tuple(output_tools)
        self._output_text = ""
        self._chunks = 0
        self._done = False
        self._has_finish = False
        self._usage_seen = False

    @property
    def done(self) -> bool:
        """The end marker (``data: [DONE]``) arrived: the stream finishes here (see ``StreamMapper``)."""
        return self._done

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            ModelAPIError: an error object arrived in the stream (``in_stream=True``).
            UnexpectedModelBehavior: the event is not a chat completion chunk, or (with output tools)
                the streamed text is not JSON.
        """
        if self._done:
            return
        data = event.data
        if data.startswith("[DONE]"):
            self._done = True
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UnexpectedModelBehavior("Invalid chunk in the Mistral stream", data) from None
        if not isinstance(chunk, dict):
            raise UnexpectedModelBehavior("Invalid chunk in the Mistral stream", data)
        chunk = cast(JSON, chunk)
        if (error := json_dict(chunk.get("error"))) is not None:
            raise _stream_error(self.meta.model_name or "", error)
        if chunk.get("object") == "error" or event.event == "error":
            raise _stream_error(self.meta.model_name or "", chunk)
        try:
            self._chunk(chunk, out)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnexpectedModelBehavior(
                f"Invalid chunk in the Mistral stream: {type(exc).__name__}: {exc}", data
            ) from None

    def _chunk(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        self._chunks += 1
        meta = self.meta
        changes: JSON = {}
        if self._chunks == 1:
            model = chunk.get("model")
            if isinstance(model, str):
                changes["model_name"] = model
            if (timestamp := timestamp_of(chunk.get("created"))) is not None:
                changes["provider_details"] = {"timestamp": timestamp}
        usage = chunk.get("usage")
        if usage is not None:
            if not isinstance(usage, dict):
                raise TypeError("`usage` is not an object")
            self._usage_seen = True
            changes["usage"] = meta.usage + map_mistral_usage(usage)
        chunk_id = chunk.get("id")
        if chunk_id and chunk_id != meta.provider_response_id:
            if not isinstance(chunk_id, str):
                raise TypeError("`id` is not a string")
            changes["provider_response_id"] = chunk_id
        choices = json_array(chunk["choices"])
        if choices is None:
            raise TypeError("`choices` is not a list")
        choice = json_dict(choices[0]) if choices else None
        if choices and choice is None:
            raise TypeError("`choices[0]` is not an object")
        if choice is not None and (raw_finish := choice.get("finish_reason")):
            if not isinstance(raw_finish, str):
                raise TypeError("`finish_reason` is not a string")
            self._has_finish = True
            details = changes.get("provider_details", meta.provider_details)
            changes["provider_details"] = {**(details or {}), "finish_reason": raw_finish}
            changes["finish_reason"] = FINISH_REASONS.get(raw_finish)
        if changes:
            self.meta = attrs.evolve(meta, **changes)
        if choice is None:
            return
        delta = json_dict(choice["delta"])
        if delta is None:
            raise TypeError("`delta` is not an object")
        text, thinking = _split_content(delta.get("content"))
        parts = self.parts
        for thought in thinking:
            out.extend(parts.handle_thinking_delta(vendor_part_id="thinking", content=thought))
        if text:
            self._text(text, out)
        tool_calls = delta.get("tool_calls")
        if tool_calls is not None:
            calls = json_array(tool_calls)
            if calls is None:
                raise TypeError("`tool_calls` is not a list")
            for call in calls:
                self._tool_call(call, out)

    def _text(self, text: str, out: list[ModelResponseStreamEvent]) -> None:
        if not self._output_tools:
            out.extend(self.parts.handle_text_delta(vendor_part_id="content", content=text))
            return
        # 2.68: with output tools, the text is taken for the JSON of an output tool call
        self._output_text += text
        try:
            found = output_tool_call_from_text(self._output_text, self._output_tools)
        except JSONSyntaxError as exc:
            raise UnexpectedModelBehavior(
                f"The streamed text is not JSON for an output tool ({exc})", self._output_text
            ) from None
        if found is not None:
            name, args = found
            out.extend(self.parts.handle_tool_call_part(vendor_part_id="output", tool_name=name, args=args))

    def _tool_call(self, call: Any, out: list[ModelResponseStreamEvent]) -> None:
        if not isinstance(call, dict):
            raise TypeError("a tool call is not an object")
        call = cast(JSON, call)
        function = call["function"]
        if not isinstance(function, dict):
            raise TypeError("a tool call's `function` is not an object")
        function = cast(JSON, function)
        name, arguments = function.get("name"), function.get("arguments")
        index, call_id = call.get("index", 0), call.get("id")
        if (
            not isinstance(name, str | None)
            or not isinstance(arguments, str | dict | None)
            or not isinstance(call_id, str | None)
            or type(index) is not int
        ):
            raise TypeError("a tool call has a name, arguments, id or index of the wrong type")
        out.extend(
            self.parts.handle_tool_call_delta(
                vendor_part_id=index,
                tool_name=name or None,
                args=cast(str | dict[str, Any] | None, arguments),
                # the SDK fills an absent id with 'null'; 2.68 ignores it
                tool_call_id=None if call_id == "null" else call_id,
            )
        )

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: report a truncation, or count a stream without usage as unmeasured.

        Raises:
            ModelConnectionError: neither ``[DONE]`` nor a finish reason arrived.
            UnexpectedModelBehavior: the body held no chunk at all.
        """
        check_stream_end(
            self.meta,
            api="Mistral",
            any_chunk=bool(self._chunks),
            finished=bool(self._done or self._has_finish),
        )
        if not self._usage_seen:
            self.meta = attrs.evolve(self.meta, usage=self.meta.usage + RequestUsage(unmeasured_requests=1))


# =============================================================================================
# The model
# =============================================================================================


class MistralModel(HTTPModel):
    """A Mistral model (``mistral:<model>``) over ``POST {base_url}/v1/chat/completions``.

    Args:
        model_name: ``'mistral-large-latest'``, ``'magistral-medium-latest'``, ...
        api_key: the API key; default ``MISTRAL_API_KEY``.
        base_url: the server root; default ``MISTRAL_BASE_URL``, else ``https://api.mistral.ai``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``.
        settings: default settings (:class:`MistralModelSettings`).

    Raises:
        UserError: no API key was given and ``MISTRAL_API_KEY`` is not set.
    """

    http_error = staticmethod(mistral_http_error)

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: Provider | None = None,
        settings: MistralModelSettings | None = None,
    ) -> None:
        if provider is None:
            provider = provider_from_args(
                PROVIDER_NAME,
                api_key=api_key,
                base_url=base_url,
                key_vars=("MISTRAL_API_KEY",),
                url_vars=("MISTRAL_BASE_URL",),
                default_base_url=DEFAULT_BASE_URL,
                missing_key="Set the `MISTRAL_API_KEY` environment variable or pass it via "
                "`MistralModel(..., api_key=...)` to use the Mistral provider.",
            )
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = mistral_profile(model_name)
        self._url = provider.url(_PATH)
        self._provider_url = provider.base_url.rstrip("/")
        headers = bearer_headers(provider)  # the key as a bearer token, as the OpenAI SDK
        self._headers = {**headers, "accept": "application/json"}
        self._stream_headers = {**headers, "accept": "text/event-stream"}

    @property
    def base_url(self) -> str:
        return self._provider_url

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        for name in _WARNED_SETTINGS:
            if name in settings:
                warn_unsupported_setting(name, self.model_id, stacklevel=4)
        body = build_mistral_body(self._model_name, messages, settings, params, self.profile, stream=stream)
        return _http.HTTPRequest.json(self._url, body, self._stream_headers if stream else self._headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return parse_mistral_completion(body, provider_name=self.system, provider_url=self._provider_url)

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> MistralStreamMapper:
        return MistralStreamMapper(
            parts,
            model_name=self._model_name,
            provider_name=self.system,
            provider_url=self._provider_url,
            output_tools=params.output_tools,
        )
