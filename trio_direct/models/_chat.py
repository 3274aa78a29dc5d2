"""The OpenAI Chat Completions dialect: what every server that speaks it shares. Pure; no I/O.

:mod:`trio_direct.models.openai` (OpenAI and every OpenAI-compatible host in the registry),
:mod:`trio_direct.models.groq` and :mod:`trio_direct.models.mistral` build on it, as does
:mod:`trio_direct.models.openai_responses` for what its API shares with this one (content items,
reasoning effort, usage, errors). Top to bottom:

1. **Request** (:func:`build_chat_body`): messages, settings and parameters → the JSON body (content,
   tool-return and retry mapping, tool schemas, reasoning effort, sampling settings).
2. **Response** (:func:`parse_chat_completion`): a 200 body → :class:`ModelResponse`.
3. **Stream** (:class:`ChatStreamMapper`): one SSE event at a time → raw part events + meta.
4. **Errors** (:func:`openai_http_error`, :func:`stream_error`): a 4xx/5xx body or an in-stream
   ``error`` object → the categorized exception pydantic-ai 2.68 raises.

What varies between models and hosts on this wire is a :class:`ChatProfile`
(:mod:`trio_direct.models._chat_profile`). The behaviour is pydantic-ai 2.68's ``OpenAIChatModel``
(``reference/providers/openai-chat.md``): the same request JSON, and the same ``ModelResponse`` for the
same bytes.

Deliberate differences from upstream, all documented where they happen:

* Items upstream downloads before sending (``AudioUrl``, ``DocumentUrl`` on hosts without file URLs,
  ``ImageUrl(force_download=True)``) raise :class:`UserError`: building a request does no I/O here.
  Pass the bytes as ``BinaryContent``.
* A stream that ends with neither ``data: [DONE]`` nor any ``finish_reason`` raises
  :class:`ModelConnectionError` (upstream silently reports ``finish_reason='stop'``): without either
  marker the server cannot have finished, so returning the parts as complete would hide a truncation.
* An unusable 200 body (not JSON, no ``choices``, an empty ``choices``...) is always
  :class:`UnexpectedModelBehavior` quoting the body (upstream lets an ``IndexError`` escape for an
  empty ``choices``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

import attrs
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent, PartStartEvent
from ..exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRequestRejectedError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import (
    AudioUrl,
    BinaryContent,
    CachePoint,
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
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, OutputObjectDefinition, ToolDefinition
from ..usage import RequestUsage, gateway_usage_cost
from ._chat_profile import (
    DEFAULT_OUTPUT_TOOL_NAME,
    USAGE_OPENAI,
    ChatProfile,
    UsageFlavor,
)
from ._common import (
    NOTE_ANNOUNCEMENT,
    dump_error_details,
    http_status_category,
    needs_download,
    provenance_tags,
    retry_feedback_text,
    says_overloaded,
)
from ._instructions import request_instructions
from ._json import JSON, count, json_array, json_dict, json_list, parse_json_body
from ._openrouter import (
    add_cache_point,
    apply_cache_settings,
    place_system_messages_before_generation,
    server_tools,
    video_part,
)
from ._prepare import carries_retry, is_summary_frame
from ._reasoning_details import detail_fields, thinking_from_detail, thinking_to_detail
from ._retry_prepare import prepare_retry_history
from ._tool_choice import resolve_tool_choice
from .base import StreamMeta

__all__ = [
    "FINISH_REASONS",
    "SAMPLING_SETTINGS",
    "finish_reason_of",
    "ChatStreamMapper",
    "build_chat_body",
    "check_stream_end",
    "content_text",
    "drop_sampling_while_reasoning",
    "format_inlined_text_file",
    "is_text_like_media_type",
    "map_chat_usage",
    "map_content_item",
    "map_logprobs",
    "map_messages",
    "openai_compatible_category",
    "openai_compatible_status",
    "openai_http_error",
    "parse_chat_completion",
    "reasoning_active",
    "reasoning_effort",
    "resolve_thinking",
    "retry_messages",
    "split_thinking",
    "stream_error",
    "timestamp_of",
    "chat_tool_param",
    "tool_return_text",
    "transform_tool_schema",
]

#: Settings OpenAI reasoning models reject while reasoning (pydantic-ai's ``SAMPLING_PARAMS``).
SAMPLING_SETTINGS: Final = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "openai_logprobs",
    "openai_top_logprobs",
)

_EFFORT_ORDER: Final[tuple[str, ...]] = ("none", "minimal", "low", "medium", "high", "xhigh")
_EFFORT_MAP: Final[dict[object, str]] = {
    True: "medium",
    False: "none",
    "minimal": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "xhigh",
}


# =============================================================================================
# Request
# =============================================================================================

_TEXT_LIKE_EXACT: Final = frozenset(
    {"application/json", "application/xml", "application/x-yaml", "application/yaml", "application/toml"}
)
_ERROR_OUTCOMES: Final = ("failed", "retried")
_FILE_ITEMS: Final = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)


def is_text_like_media_type(media_type: str) -> bool:
    """``text/*``, JSON, XML, YAML, TOML and ``+json``/``+xml`` types: inlined as text, not sent as files."""
    bare = media_type.split(";", 1)[0].strip()
    return (
        bare.startswith("text/")
        or bare in _TEXT_LIKE_EXACT
        or bare.endswith("+json")
        or bare.endswith("+xml")
    )


def format_inlined_text_file(text: str, *, media_type: str, identifier: str) -> str:
    return (
        f'-----BEGIN FILE id="{identifier}" type="{media_type}"-----\n'
        f"{text}\n"
        f'-----END FILE id="{identifier}"-----'
    )


def _jsonable(value: Any) -> Any:
    return orjson.loads(_json_text(value))


def _json_text(value: Any) -> str:
    """Compact JSON (non-ASCII kept), as pydantic-ai writes tool results and arguments."""
    return orjson.dumps(value).decode()


def map_content_item(item: UserContent, profile: ChatProfile) -> JSON | None:
    """One user-prompt item → one Chat content part (``None`` drops it)."""
    if isinstance(item, str):
        return {"type": "text", "text": item}
    if isinstance(item, TextContent):
        return {"type": "text", "text": item.content}
    if isinstance(item, ImageUrl):
        if item.force_download:
            raise needs_download("ImageUrl(force_download=True)", "image")
        image_url: JSON = {"url": item.url}
        if item.vendor_metadata:
            image_url["detail"] = item.vendor_metadata.get("detail", "auto")
        return {"type": "image_url", "image_url": image_url}
    if isinstance(item, BinaryContent):
        if is_text_like_media_type(item.media_type):
            text = format_inlined_text_file(
                item.data.decode("utf-8"), media_type=item.media_type, identifier=item.identifier
            )
            return {"type": "text", "text": text}
        if item.is_image:
            image_url = {"url": item.data_uri}
            if item.vendor_metadata:
                image_url["detail"] = item.vendor_metadata.get("detail", "auto")
            return {"type": "image_url", "image_url": image_url}
        if item.is_audio:
            audio_format = item.format
            if audio_format not in ("wav", "mp3"):
                raise UserError(f"Chat Completions takes wav or mp3 audio, not {item.media_type!r}")
            data = item.data_uri if profile.audio_input_encoding == "uri" else item.base64
            return {"type": "input_audio", "input_audio": {"data": data, "format": audio_format}}
        if item.is_document:
            if not profile.supports_document_input:
                raise UserError("this provider does not support document input via the Chat Completions API")
            return {
                "type": "file",
                "file": {"file_data": item.data_uri, "filename": f"filename.{item.format}"},
            }
        if item.is_video:
            if profile.video_url_parts:
                return video_part(item.data_uri)
            raise UserError("video is not supported in OpenAI Chat Completions user prompts")
        raise UserError(f"unsupported binary content type: {item.media_type!r}")
    if isinstance(item, DocumentUrl):
        if profile.supports_file_urls and not item.force_download:
            return {"type": "file", "file": {"file_data": item.url, "filename": f"filename.{item.format}"}}
        raise UserError(
            "DocumentUrl needs a download on this provider, which trio_direct does not do while building a "
            "request; fetch the document and pass it as BinaryContent"
        )
    if isinstance(item, AudioUrl):
        raise needs_download("AudioUrl", "audio")
    if isinstance(item, VideoUrl):
        if profile.video_url_parts:
            if item.force_download:
                raise needs_download("VideoUrl(force_download=True)", "video")
            return video_part(item.url)
        raise UserError("VideoUrl is not supported in OpenAI Chat Completions user prompts")
    if isinstance(item, UploadedFile):
        if item.media_type.startswith("image/"):
            raise UserError(
                "Referencing an uploaded image by `file_id` is not supported by Chat Completions. "
                "Use `ImageUrl` or `BinaryContent` for images."
            )
        return {"type": "file", "file": {"file_id": item.file_id}}
    # what is left is a CachePoint: dropped (Chat has no explicit cache breakpoints before GPT-5.6)
    return None


def _map_user_prompt(content: str | Sequence[UserContent], profile: ChatProfile) -> JSON:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    parts: list[JSON] = []
    for item in content:
        if isinstance(item, CachePoint) and profile.openrouter_cache_control:
            add_cache_point(parts, item.ttl, profile)
            continue
        mapped = map_content_item(item, profile)
        if mapped is not None:
            parts.append(mapped)
    return {"role": "user", "content": parts}


def tool_return_text(part: ToolReturnPart) -> tuple[str, list[UserContent]]:
    """The tool message text and the files that must follow on the user channel (2.68 rules)."""
    content = part.content
    items = json_array(content)
    if items is None:
        items = [content]
    files = [item for item in items if isinstance(item, _FILE_ITEMS)]
    is_error = part.outcome in _ERROR_OUTCOMES
    if not files:
        text = part.model_response_str(wrap_if_error=False)
        if is_error:
            value: Any = text
            if part.outcome == "retried" and content is not None and not isinstance(content, str):
                value = _jsonable(content)
            return _json_text({"error": value}), []
        return text, []
    pieces: list[str] = []
    file_content: list[UserContent] = []
    for item in items:
        if isinstance(item, _FILE_ITEMS):
            identifier = item.identifier
            pieces.append(f"See file {identifier}.")
            open_tag, close_tag = provenance_tags(part.tool_name, part.tool_call_id, identifier)
            file_content.extend([open_tag, item, close_tag])
        elif isinstance(item, str):
            pieces.append(item)
        elif item is not None:
            pieces.append(_json_text(item))
    if is_error:
        refs = [f"See file {f.identifier}." for f in files]
        return _json_text([{"error": part.model_response_str(wrap_if_error=False)}, *refs]), file_content
    if isinstance(content, list):
        return _json_text(pieces), file_content
    return pieces[0], file_content


def retry_messages(part: RetryPromptPart, role: str, announce: bool) -> list[JSON]:
    """A legacy ``RetryPromptPart`` as 2.68's direct API sends it (``_legacy_retry_as_sendable``)."""
    content = part.content
    if part.tool_name is not None:
        value: Any = content if isinstance(content, str) else dump_error_details(content)
        return [{"role": "tool", "tool_call_id": part.tool_call_id, "content": _json_text({"error": value})}]
    text = retry_feedback_text(content)
    messages: list[JSON] = [{"role": role, "content": NOTE_ANNOUNCEMENT}] if announce else []
    messages.append({"role": "user", "content": text})
    return messages


def _args_json(part: ToolCallPart) -> str:
    return part.args_as_json_str()


def _assistant_message(response: ModelResponse, profile: ChatProfile, provider_name: str) -> JSON | None:
    """All parts of one response → one assistant message (``None`` when there is nothing to send)."""
    texts: list[str] = []
    thinkings: dict[str, list[str]] = {}
    tool_calls: list[JSON] = []
    reasoning_details: list[JSON] = []
    start_tag, end_tag = profile.thinking_tags
    for part in response.parts:
        if isinstance(part, TextPart):
            texts.append(part.content)
        elif (
            isinstance(part, ThinkingPart)
            and profile.reasoning_details
            and part.provider_name == provider_name
            and (detail := thinking_to_detail(part)) is not None
        ):
            # a detail this host made goes back to it unchanged (signatures, encrypted data)
            reasoning_details.append(detail)
        elif isinstance(part, ThinkingPart):
            mode = profile.send_back_thinking
            if mode == "auto":
                if (
                    part.id
                    and part.id != "content"
                    and part.provider_name == provider_name
                    and (not profile.thinking_field or part.id == profile.thinking_field)
                ):
                    thinkings.setdefault(part.id, []).append(part.content)
                else:
                    texts.append(f"{start_tag}\n{part.content}\n{end_tag}")
            elif mode == "tags":
                texts.append(f"{start_tag}\n{part.content}\n{end_tag}")
            elif mode == "field" and profile.thinking_field:
                thinkings.setdefault(profile.thinking_field, []).append(part.content)
        elif isinstance(part, ToolCallPart):
            call: JSON = {
                "id": part.tool_call_id,
                "type": "function",
                "function": {"name": part.tool_name, "arguments": _args_json(part)},
            }
            details = part.provider_details
            if details and (extra := details.get("extra_content")) and part.provider_name == provider_name:
                call["extra_content"] = extra
            tool_calls.append(call)
        # native tool calls/returns, files and compaction parts are not sent back on Chat
    if not texts and not tool_calls and not reasoning_details:
        return None
    message: JSON = {"role": "assistant"}
    for field_name, contents in thinkings.items():
        message[field_name] = "\n\n".join(contents)
    message["content"] = "\n\n".join(texts) if texts else None
    if tool_calls:
        message["tool_calls"] = tool_calls
    if reasoning_details:
        message["reasoning_details"] = reasoning_details
    return message


def map_messages(
    messages: Sequence[ModelMessage],
    instructions: Sequence[InstructionPart],
    profile: ChatProfile,
    provider_name: str,
    *,
    announce_frames: bool = True,
) -> list[JSON]:
    """The ``messages`` array: the history in order, then the instructions after the leading system run.

    ``announce_frames`` puts the announcement of what the application's frames mean (as a system message)
    ahead of the first retry feedback or summary on the user channel; off where the system prompt
    already carries it (:func:`build_chat_body` on a model without a mid-conversation system role).
    """
    role = profile.system_prompt_role
    out: list[JSON] = []
    announced = not announce_frames
    has_thinking = False
    backfill = profile.thinking_field if profile.send_back_thinking == "field" else None
    for message in messages:
        if isinstance(message, ModelRequest):
            files: list[UserContent] = []
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"role": role, "content": part.content})
                elif isinstance(part, UserPromptPart):
                    if not announced and is_summary_frame(part):
                        # a summary the application wrote is a frame too: the one announcement goes
                        # before the first frame, whichever kind it is (as 2.68 places it)
                        out.append({"role": role, "content": NOTE_ANNOUNCEMENT})
                        announced = True
                    out.append(_map_user_prompt(part.content, profile))
                elif isinstance(part, ToolReturnPart):
                    text, tool_files = tool_return_text(part)
                    files.extend(tool_files)
                    out.append({"role": "tool", "tool_call_id": part.tool_call_id, "content": text})
                elif isinstance(part, RetryPromptPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                    announce = part.tool_name is None and not announced
                    announced = announced or announce
                    out.extend(retry_messages(part, role, announce))
            if files:
                out.append(_map_user_prompt(files, profile))
        else:
            has_thinking = has_thinking or any(isinstance(p, ThinkingPart) for p in message.parts)
            mapped = _assistant_message(message, profile, provider_name)
            if mapped is not None:
                if backfill and has_thinking and mapped.get("tool_calls") and backfill not in mapped:
                    mapped[backfill] = ""
                out.append(mapped)
    if profile.send_back_thinking == "auto":
        _backfill_auto_thinking_field(out, profile)
    if instructions:
        leading = next((i for i, m in enumerate(out) if m["role"] != role), len(out))
        out[leading:leading] = [{"role": role, "content": p.content} for p in instructions]
    if not profile.supports_multiple_system_messages and role in ("system", "developer"):
        leading = next((i for i, m in enumerate(out) if m["role"] != role), len(out))
        if leading >= 2:
            merged = {**out[0], "content": "\n\n".join(m["content"] for m in out[:leading])}
            out[:leading] = [merged]
    return out


def _backfill_auto_thinking_field(out: list[JSON], profile: ChatProfile) -> None:
    """DeepSeek-style APIs reject a current-turn tool call without the thinking field (2.68 ``'auto'``)."""
    names = [n for n in (profile.thinking_field, "reasoning", "reasoning_content") if n]
    sent = {n for m in out if m["role"] == "assistant" for n in names if n in m}
    if len(sent) != 1:
        return
    (field_name,) = sent
    last_user = max((i for i, m in enumerate(out) if m["role"] == "user"), default=-1)
    for m in out[last_user + 1 :]:
        if m["role"] == "assistant" and m.get("tool_calls") and field_name not in m:
            m[field_name] = ""


# -- tool schemas --------------------------------------------------------------------------------

_STRICT_INCOMPATIBLE_KEYS: Final[tuple[str, ...]] = (
    "minLength",
    "maxLength",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "uniqueItems",
)
_STRICT_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_TYPE_KEYS: Final = ("type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "properties", "items")


_SCHEMA_LISTS: Final = ("anyOf", "oneOf", "allOf", "prefixItems")


class _StrictSchema:
    """pydantic-ai's ``OpenAIJsonSchemaTransformer``: strict-mode clean-up and strict inference."""

    def __init__(self, schema: JSON, strict: bool | None) -> None:
        self.strict = strict
        self.compatible = True
        self.root_ref: str | None = schema.get("$ref") if isinstance(schema.get("$ref"), str) else None
        self.schema = schema

    def run(self) -> JSON:
        result: JSON = self._walk(self.schema)
        defs = result.get("$defs")
        if self.root_ref is not None and isinstance(defs, dict):
            key = self.root_ref.removeprefix("#/$defs/")
            root = cast(JSON, defs).get(key)
            if isinstance(root, dict):
                result.pop("$ref", None)
                result.update(cast(JSON, root))
        return result

    def _walk(self, node: Any) -> Any:
        if (items := json_array(node)) is not None:
            return [self._walk(x) for x in items]
        if not isinstance(node, dict):
            return node
        schema: JSON = {}
        for key, value in cast(JSON, node).items():
            if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(value, dict):
                schema[key] = {k: self._walk(v) for k, v in cast(JSON, value).items()}
            elif key in ("items", "additionalProperties", "not", "if", "then", "else") and isinstance(
                value, dict
            ):
                schema[key] = self._walk(value)
            elif (
                key in ("anyOf", "oneOf", "allOf", "prefixItems") and (items := json_array(value)) is not None
            ):
                schema[key] = [self._walk(v) for v in items]
            else:
                schema[key] = value
        return self._transform(schema)

    def _transform(self, schema: JSON) -> JSON:
        schema.pop("title", None)
        schema.pop("$schema", None)
        schema.pop("discriminator", None)
        if "default" in schema:
            if self.strict is True:
                schema.pop("default")
            elif self.strict is None:
                self.compatible = False
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref == self.root_ref:
                schema["$ref"] = "#"
            if len(schema) > 1:
                schema["anyOf"] = [{"$ref": schema.pop("$ref")}]
        incompatible = {k: schema[k] for k in _STRICT_INCOMPATIBLE_KEYS if k in schema}
        fmt = schema.get("format")
        if fmt and fmt not in _STRICT_FORMATS:
            incompatible["format"] = fmt
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and any(x in pattern for x in ("(?=", "(?!", "(?<=", "(?<!")):
            incompatible["pattern"] = pattern
        if incompatible:
            if self.strict is True:
                notes = ", ".join(f"{k}={v}" for k, v in incompatible.items())
                for k in incompatible:
                    schema.pop(k)
                description = schema.get("description")
                schema["description"] = notes if not description else f"{description} ({notes})"
            elif self.strict is None:
                self.compatible = False
        if "oneOf" in schema:
            if self.strict is True:
                schema["anyOf"] = schema.pop("oneOf")
            else:
                self.compatible = False
        schema_type = schema.get("type")
        if schema_type == "object":
            if "properties" not in schema:
                schema["properties"] = {}
            properties = cast(JSON, schema["properties"]) if isinstance(schema["properties"], dict) else {}
            if self.strict is True:
                schema["additionalProperties"] = False
                schema["required"] = list(properties)
            elif self.strict is None:
                if schema.get("additionalProperties") not in (None, False):
                    self.compatible = False
                else:
                    schema["additionalProperties"] = False
                required = schema.get("required")
                if not isinstance(required, list) or any(k not in required for k in properties):
                    self.compatible = False
        elif schema_type == "array":
            items = schema.get("items")
            typed = isinstance(items, dict) and any(k in items for k in _TYPE_KEYS)
            if not typed and not schema.get("prefixItems"):
                if self.strict is True:
                    raise UserError(
                        "OpenAI strict mode requires array items to have a type, but got an untyped array; "
                        "add an item type or set strict=False"
                    )
                if self.strict is None:
                    self.compatible = False
        return schema


def transform_tool_schema(
    schema: JSON, strict: bool | None, profile: ChatProfile
) -> tuple[JSON, bool | None]:
    """The schema to send and the ``strict`` to use, after the profile's schema transformer."""
    if not profile.openai_schema:
        # Other model families keep their schema; strictness is inferred compatible, as upstream.
        return schema, True if strict is None else strict
    transformer = _StrictSchema(schema, strict)
    result = transformer.run()
    return result, transformer.compatible if strict is None else strict


def chat_tool_param(tool: ToolDefinition, profile: ChatProfile) -> JSON:
    parameters, strict = transform_tool_schema(tool.parameters_json_schema, tool.strict, profile)
    function: JSON = {"name": tool.name, "description": tool.description or "", "parameters": parameters}
    if strict and profile.supports_strict_tools:
        function["strict"] = True
    return {"type": "function", "function": function}


def _response_format(output: OutputObjectDefinition, profile: ChatProfile) -> JSON:
    schema, strict = transform_tool_schema(output.json_schema, output.strict, profile)
    json_schema: JSON = {"name": output.name or DEFAULT_OUTPUT_TOOL_NAME, "schema": schema}
    if output.description:
        json_schema["description"] = output.description
    if profile.supports_strict_tools:
        json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


# -- settings ------------------------------------------------------------------------------------


def reasoning_active(settings: Mapping[str, Any], thinking: object, profile: ChatProfile) -> bool:
    """Whether reasoning is on for this request: explicit effort, then unified thinking, then the default."""
    effort = settings.get("openai_reasoning_effort")
    if effort is not None:
        return bool(effort != "none")
    if thinking is not None:
        return thinking is not False or profile.thinking_always_enabled
    return profile.thinking_enabled_by_default


def drop_sampling_while_reasoning(s: dict[str, Any], thinking: object, profile: ChatProfile) -> None:
    """Remove from ``s`` (the request's settings, a private copy) the sampling settings an OpenAI
    reasoning model rejects while it reasons, with pydantic-ai's ``UserWarning`` naming them."""
    reasoning_off = profile.supports_effort_none and not reasoning_active(s, thinking, profile)
    if profile.drops_sampling_while_reasoning and not reasoning_off:
        dropped = [k for k in SAMPLING_SETTINGS if k in s]
        if dropped:
            # points at the caller of model_request, as before this helper existed
            warnings.warn(
                f"Sampling parameters {dropped} are not supported when reasoning is enabled. "
                "These settings will be ignored.",
                UserWarning,
                stacklevel=5,
            )
            for key in dropped:
                del s[key]


def resolve_thinking(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: ChatProfile
) -> object:
    """The unified thinking level that reaches this request (``None`` when the model cannot think)."""
    thinking = params.thinking if params.thinking is not None else settings.get("thinking")
    if thinking is None or not (profile.supports_thinking or profile.thinking_always_enabled):
        return None
    return thinking


def reasoning_effort(settings: Mapping[str, Any], thinking: object, profile: ChatProfile) -> str | None:
    """``reasoning_effort``: the explicit setting, else the closest effort to unified ``thinking``."""
    explicit = settings.get("openai_reasoning_effort")
    if explicit:
        return cast(str, explicit)
    if thinking is None:
        return None
    supported = profile.reasoning_efforts
    if supported is None:
        if thinking is False and profile.thinking_always_enabled:
            return None
        if thinking is False and not profile.supports_effort_none and profile.drops_sampling_while_reasoning:
            return None
        if thinking == "minimal" and not profile.supports_minimal_effort:
            return "low"
        return _EFFORT_MAP.get(thinking, "medium")
    accepted = sorted(supported, key=_EFFORT_ORDER.index)
    if thinking is False:
        return accepted[0] if accepted else None
    wanted = _EFFORT_ORDER.index(_EFFORT_MAP.get(thinking, "medium"))
    active = [e for e in accepted if e != "none"]
    for effort in active:
        if _EFFORT_ORDER.index(effort) >= wanted:
            return effort
    return active[-1] if active else None


def _tool_choice_and_tools(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: ChatProfile
) -> tuple[list[ToolDefinition], Any]:
    """The tools to send and the ``tool_choice`` JSON (``None`` when no tools go out)."""
    tools = [*params.function_tools, *params.output_tools]
    if not tools:
        return [], None
    resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
    forcing = profile.supports_forced_tool_choice
    explicit = settings.get("tool_choice")
    if not forcing and (explicit == "required" or isinstance(explicit, list)) and explicit:
        raise UserError(f"this model does not support forcing a tool call (tool_choice={explicit!r})")
    if isinstance(resolved, str):
        if resolved == "required" and not forcing:
            return tools, "auto"
        return tools, resolved
    mode, names = resolved
    effective = "auto" if mode == "auto" or not forcing else mode
    if mode == "required" and len(names) == 1 and forcing:
        (name,) = names
        return tools, {"type": "function", "function": {"name": name}}
    if profile.supports_allowed_tools:
        allowed = [{"type": "function", "function": {"name": t.name}} for t in tools if t.name in names]
        return tools, {"type": "allowed_tools", "allowed_tools": {"mode": effective, "tools": allowed}}
    return [t for t in tools if t.name in names], effective


def build_chat_body(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: Mapping[str, Any],
    params: ModelRequestParameters,
    profile: ChatProfile,
    *,
    stream: bool,
    provider_name: str,
    tool_param: Callable[[ToolDefinition], JSON] | None = None,
) -> JSON:
    """The Chat Completions request body for one request (pure).

    ``settings`` are the merged model settings; the ``openai_*`` keys of pydantic-ai's
    ``OpenAIChatModelSettings`` are read too. ``tool_param`` maps one tool definition (the model
    passes a cached one).

    Raises:
        UserError: something in the request cannot be sent to this model (see the module docstring).
    """
    s: dict[str, Any] = dict(settings)
    for key in profile.unsupported_settings:
        s.pop(key, None)
    if "top_k" in s:
        warnings.warn(
            "`top_k` is not supported by OpenAI Chat Completions and is ignored", UserWarning, stacklevel=4
        )
    thinking = resolve_thinking(s, params, profile)
    drop_sampling_while_reasoning(s, thinking, profile)

    # 2.68's direct API runs the model's whole `prepare_messages` only on a history holding a retry;
    # here for a direct `Model.request` call too (the direct API's pass already did it: a no-op then)
    prepared = carries_retry(messages)
    if prepared:
        messages = prepare_retry_history(messages, params, profile)
    instructions = request_instructions(messages, params)
    mapped = map_messages(
        messages,
        instructions,
        profile,
        provider_name,
        announce_frames=not (prepared and not profile.inline_system_prompts),
    )
    if profile.system_messages_precede_generation:
        place_system_messages_before_generation(mapped)
    body: JSON = {"model": model_name, "messages": mapped, "stream": stream}
    if stream:
        options: JSON = {"include_usage": True}
        if s.get("openai_continuous_usage_stats"):
            options["continuous_usage_stats"] = True
        body["stream_options"] = options
    tools, tool_choice = _tool_choice_and_tools(s, params, profile)
    if tools:
        body["tools"] = [tool_param(t) if tool_param else chat_tool_param(t, profile) for t in tools]
        body["tool_choice"] = tool_choice
        if "parallel_tool_calls" in s:
            body["parallel_tool_calls"] = s["parallel_tool_calls"]
    output_mode = params.output_mode
    if output_mode == "native" and params.output_object is not None:
        if not profile.supports_json_schema_output:
            raise UserError("Native structured output is not supported by this model.")
        body["response_format"] = _response_format(params.output_object, profile)
    elif output_mode == "prompted" and profile.supports_json_object_output:
        body["response_format"] = {"type": "json_object"}
    if "max_tokens" in s:
        body["max_completion_tokens" if profile.supports_max_completion_tokens else "max_tokens"] = s[
            "max_tokens"
        ]
    if "stop_sequences" in s:
        body["stop"] = s["stop_sequences"]
    if profile.openrouter_extensions or profile.zai_thinking or profile.reasoning_object:
        # these hosts take unified thinking in their own objects (below); only an explicit effort goes here
        effort = s.get("openai_reasoning_effort") or None
    else:
        effort = reasoning_effort(s, thinking, profile)
    if effort is not None:
        body["reasoning_effort"] = effort
    service_tier = s.get("openai_service_tier") or s.get("service_tier")
    if service_tier:
        body["service_tier"] = service_tier
    for setting, key in _PLAIN_SETTINGS:
        if setting in s:
            body[key] = s[setting]
    extra_body = s.get("extra_body")
    if isinstance(extra_body, Mapping):
        body.update(cast(Mapping[str, Any], extra_body))
    if profile.zai_thinking:
        zai_body_settings(body, s, thinking, profile)
    if profile.reasoning_object:
        reasoning = s.get("snowflake_reasoning")
        if reasoning is None and thinking is not None and thinking is not False:
            reasoning = {"effort": _REASONING_OBJECT_EFFORTS.get(thinking, "medium")}
        if reasoning:
            body["reasoning"] = reasoning
            # Cortex applies a non-1 default temperature, which reasoning rejects (2.68)
            body.setdefault("temperature", 1)
    if profile.openrouter_extensions:
        # after `extra_body`: 2.68 writes the `openrouter_*` settings over the user's extra_body keys
        openrouter_body_settings(body, s, thinking, profile)
        if tools and model_name.startswith("anthropic/") and s.get("anthropic_eager_input_streaming"):
            body["tools"] = [{**t, "eager_input_streaming": True} for t in body["tools"]]
        if extra_tools := server_tools(params.native_tools):
            # after the function tools, so the tool-definitions breakpoint stays on the last of those
            body["tools"] = [*body.get("tools", ()), *extra_tools]
        apply_cache_settings(body, instructions, s, profile, function_tool_count=len(tools) if tools else 0)
    return body


#: settings copied to the body unchanged: (setting, JSON key)
_PLAIN_SETTINGS: Final = (
    ("seed", "seed"),
    ("openai_user", "user"),
    ("openai_prediction", "prediction"),
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("presence_penalty", "presence_penalty"),
    ("frequency_penalty", "frequency_penalty"),
    ("logit_bias", "logit_bias"),
    ("openai_logprobs", "logprobs"),
    ("openai_top_logprobs", "top_logprobs"),
    ("openai_store", "store"),
    ("openai_moderation", "moderation"),
    ("openai_text_verbosity", "verbosity"),
    ("openai_prompt_cache_key", "prompt_cache_key"),
    ("openai_prompt_cache_retention", "prompt_cache_retention"),
    ("openai_prompt_cache_options", "prompt_cache_options"),
)


# =============================================================================================
# Response
# =============================================================================================

FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_call",
    "content_filter": "content_filter",
    "function_call": "tool_call",
}


def finish_reason_of(raw: str, profile: ChatProfile) -> FinishReason | None:
    """A raw ``finish_reason`` → pydantic-ai's, with the host's own reasons (None for unknown ones)."""
    reason = FINISH_REASONS.get(raw)
    if reason is None and profile.extra_finish_reasons:
        reason = cast("FinishReason | None", dict(profile.extra_finish_reasons).get(raw))
    return reason


def timestamp_of(created: Any) -> datetime | None:
    """``created`` (Unix seconds, or milliseconds when huge) as an aware UTC datetime; None if unusable."""
    if not created or isinstance(created, bool) or not isinstance(created, int | float):
        return None
    seconds = created / 1000 if abs(created) > 2e10 else created
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def map_chat_usage(usage: Any, flavor: UsageFlavor = USAGE_OPENAI) -> RequestUsage:
    """A Chat ``usage`` object → :class:`RequestUsage`, as pydantic-ai 2.68 (via genai-prices) maps it.

    ``details`` holds every integer (or boolean, as 1/0) top-level key but the three totals, plus every
    integer in ``completion_tokens_details``. No ``usage`` at all counts as one unmeasured request. A cost
    a Pydantic AI Gateway put in the usage object becomes ``cost`` (2.68 reads it from every Chat reply).
    """
    if not isinstance(usage, dict):
        return RequestUsage(unmeasured_requests=1)
    u = cast(JSON, usage)
    # bools count as 1/0, as 2.68 (``isinstance(v, int)``): OpenRouter's ``is_byok``
    details: dict[str, int] = {
        k: int(v)
        for k, v in u.items()
        if isinstance(v, int)
        and k not in ("prompt_tokens", "completion_tokens", "total_tokens", "input_tokens", "output_tokens")
    }
    completion = u.get("completion_tokens_details")
    completion = cast(JSON, completion) if isinstance(completion, dict) else {}
    details.update({k: int(v) for k, v in completion.items() if isinstance(v, int)})
    prompt = u.get("prompt_tokens_details")
    prompt = cast(JSON, prompt) if isinstance(prompt, dict) else {}
    result = RequestUsage(
        input_tokens=count(u.get("prompt_tokens")),
        output_tokens=count(u.get("completion_tokens")),
        output_reasoning_tokens=count(completion.get("reasoning_tokens")),
        details=details,
    )
    if flavor.cache_read:
        result.cache_read_tokens = count(prompt.get("cached_tokens"))
    if flavor.input_audio:
        result.input_audio_tokens = count(prompt.get("audio_tokens"))
    if flavor.output_audio:
        result.output_audio_tokens = count(completion.get("audio_tokens"))
    if flavor.cache_write:
        result.cache_write_tokens = count(prompt.get("cache_write_tokens"))
    if (cost := gateway_usage_cost(u)) is not None:
        result.cost = cost
    return result


def map_logprobs(entries: Any) -> list[JSON]:
    out: list[JSON] = []
    for lp in json_list(entries):
        entry = json_dict(lp)
        if entry is None:
            continue
        top = entry.get("top_logprobs")
        out.append(
            {
                "token": entry.get("token"),
                "bytes": entry.get("bytes"),
                "logprob": entry.get("logprob"),
                "top_logprobs": [
                    {"token": t.get("token"), "bytes": t.get("bytes"), "logprob": t.get("logprob")}
                    for t in (json_dict(x) for x in json_list(top))
                    if t is not None
                ],
            }
        )
    return out


def content_text(content: Any) -> str | None:
    """``content`` as a string; a list of parts (some vLLM servers) has its text parts joined."""
    if content is None or isinstance(content, str):
        return content
    if (items := json_array(content)) is not None:
        texts: list[str] = []
        for p in items:
            if isinstance(p, str):
                texts.append(p)
            elif (
                (d := json_dict(p)) is not None and d.get("type") == "text" and isinstance(d.get("text"), str)
            ):
                texts.append(d["text"])
        return "".join(texts) or None
    raise TypeError(f"content is {type(content).__name__}")


def split_thinking(content: str, tags: tuple[str, str], provider_name: str | None) -> list[ModelResponsePart]:
    """Text outside ``<think>…</think>`` → ``TextPart``; inside → ``ThinkingPart(id='content')``."""
    start_tag, end_tag = tags
    parts: list[ModelResponsePart] = []
    start = content.find(start_tag)
    while start >= 0:
        before, content = content[:start], content[start + len(start_tag) :]
        if before:
            parts.append(TextPart(before))
        end = content.find(end_tag)
        if end >= 0:
            thought, content = content[:end], content[end + len(end_tag) :]
            parts.append(ThinkingPart(thought, id="content", provider_name=provider_name))
        else:
            parts.append(TextPart(content))
            content = ""
        start = content.find(start_tag)
    if content:
        parts.append(TextPart(content))
    return parts


def _tool_call_part(call: JSON, provider_name: str) -> ToolCallPart:
    if call.get("type", "function") != "function":
        raise TypeError(f"unsupported tool call type {call.get('type')!r}")
    function = call["function"]
    name = function["name"]
    arguments = function.get("arguments")
    if not isinstance(name, str) or not (arguments is None or isinstance(arguments, str)):
        raise TypeError("tool call name/arguments must be strings")
    extra = call.get("extra_content")
    call_id = call.get("id")
    return ToolCallPart(
        name,
        arguments,
        call_id if isinstance(call_id, str) and call_id else _new_tool_call_id(),
        provider_name=provider_name if extra else None,
        provider_details={"extra_content": extra} if extra else None,
    )


def _new_tool_call_id() -> str:
    from ..messages import generate_tool_call_id

    return generate_tool_call_id()


def parse_chat_completion(
    body: bytes,
    *,
    profile: ChatProfile,
    provider_name: str,
    provider_url: str | None,
    canonical_system: str | None = None,
) -> ModelResponse:
    """A 200 Chat Completions body → :class:`ModelResponse` (pure), as pydantic-ai 2.68 maps it.

    ``canonical_system`` is the response's ``canonical_system`` (``'openai'`` for OpenAI itself).

    Raises:
        UnexpectedModelBehavior: the body is not JSON, or not a chat completion; the message quotes it.
    """
    return parse_json_body(
        body,
        f"{provider_name} chat completions endpoint",
        lambda data: _parse_completion(data, profile, provider_name, provider_url, canonical_system),
    )


def _parse_completion(
    data: Any,
    profile: ChatProfile,
    provider_name: str,
    provider_url: str | None,
    canonical_system: str | None,
) -> ModelResponse:
    if not isinstance(data, dict):
        raise TypeError("the body is not a JSON object")
    completion = cast(JSON, data)
    if profile.openrouter_extensions:
        completion = openrouter_completion(completion)
    choices = json_array(completion["choices"])
    if not choices:
        raise ValueError("`choices` is empty or not a list")
    choice = choices[0]
    if not isinstance(choice, dict):
        raise TypeError("`choices[0]` is not an object")
    choice = cast(JSON, choice)
    message = choice["message"]
    if not isinstance(message, dict):
        raise TypeError("`choices[0].message` is not an object")
    message = cast(JSON, message)
    model = completion.get("model")
    if not isinstance(model, str):
        raise TypeError("`model` is not a string")
    raw_finish = choice.get("finish_reason")
    if raw_finish is not None and not isinstance(raw_finish, str):
        raise TypeError("`finish_reason` is not a string")
    if raw_finish == "":
        if not profile.finish_from_parts:
            raise ValueError("`finish_reason` is empty")
        raw_finish = None
    if raw_finish is None and profile.finish_from_parts:
        # the reason is inferred; provider_details keep only what the server said
        finish_reason: FinishReason | None = "tool_call" if message.get("tool_calls") else "stop"
    else:
        finish_reason = finish_reason_of(raw_finish or "stop", profile)

    details: JSON = {}
    if (
        (logprobs := choice.get("logprobs"))
        and isinstance(logprobs, dict)
        and cast(JSON, logprobs).get("content")
    ):
        details["logprobs"] = map_logprobs(cast(JSON, logprobs)["content"])
    if raw_finish:
        details["finish_reason"] = raw_finish
    if moderation := completion.get("moderation"):
        details["moderation"] = moderation
    if service_tier := completion.get("service_tier"):
        details["service_tier"] = service_tier
    if profile.openrouter_extensions:
        details.update(openrouter_details(completion, choice))
        details.update(openrouter_usage_details(completion.get("usage")))
        if annotations := json_array(message.get("annotations")):
            details["annotations"] = annotations
    response_id = completion.get("id")
    usage = map_chat_usage(completion.get("usage"), profile.usage)
    timestamp = timestamp_of(completion.get("created"))

    refusal = message.get("refusal")
    if refusal:
        details.pop("finish_reason", None)
        details["refusal"] = refusal
        if timestamp is not None:
            details["timestamp"] = timestamp
        return ModelResponse(
            [],
            usage=usage,
            model_name=model,
            provider_name=provider_name,
            provider_url=provider_url,
            canonical_system=canonical_system,
            provider_details=details or None,
            provider_response_id=response_id or None,
            finish_reason="content_filter",
        )

    parts: list[ModelResponsePart] = []
    detail_list = json_array(message.get("reasoning_details")) if profile.reasoning_details else None
    if detail_list:
        parts.extend(p for d in detail_list if (p := thinking_from_detail(d, provider_name)) is not None)
    else:
        for field_name in (profile.thinking_field, "reasoning", "reasoning_content"):
            if not field_name:
                continue
            reasoning = message.get(field_name)
            if reasoning and isinstance(reasoning, str):
                parts.append(ThinkingPart(reasoning, id=field_name, provider_name=provider_name))
                break
    text = content_text(message.get("content"))
    if text:
        parts.extend(split_thinking(text, profile.thinking_tags, provider_name))
        _attach_annotations(parts, message.get("annotations"), provider_name)
    tool_calls = message.get("tool_calls")
    if tool_calls is not None:
        calls = json_array(tool_calls)
        if calls is None:
            raise TypeError("`tool_calls` is not a list")
        for call in calls:
            parts.append(_tool_call_part(call, provider_name))
    if timestamp is not None:
        details["timestamp"] = timestamp
    return ModelResponse(
        parts,
        usage=usage,
        model_name=model,
        provider_name=provider_name,
        provider_url=provider_url,
        canonical_system=canonical_system,
        provider_details=details or None,
        provider_response_id=response_id if isinstance(response_id, str) and response_id else None,
        finish_reason=finish_reason,
    )


def _valid_url_citation(raw: Any) -> JSON | None:
    """A ``url_citation`` annotation with the fields OpenAI's type requires, else None."""
    a = json_dict(raw)
    if a is None or a.get("type") != "url_citation":
        return None
    c = json_dict(a.get("url_citation"))
    if c is None:
        return None
    start, end = c.get("start_index"), c.get("end_index")
    if not (
        isinstance(c.get("url"), str)
        and isinstance(c.get("title"), str)
        and isinstance(start, int)
        and isinstance(end, int)
        and not isinstance(start, bool)
        and not isinstance(end, bool)
    ):
        return None
    return a


def chat_citations(annotations: Sequence[JSON], text: str) -> list[Any]:
    """pydantic-ai's ``Citation`` JSON for valid ``url_citation`` annotations of ``text`` (2.68's
    ``map_chat_citations``: the retrieved ``content`` some hosts add is the source's excerpt)."""
    citations: list[Any] = []
    for a in annotations:
        c = a["url_citation"]
        start, end = c["start_index"], c["end_index"]
        content = c.get("content")
        source: JSON = {
            "url": c["url"],
            "title": c["title"],
            "excerpts": [content] if isinstance(content, str) and content else [],
            "kind": "web",
        }
        anchor = {"start": start, "end": end, "kind": "marker"} if 0 <= start < end <= len(text) else None
        citations.append({"sources": [source], "anchor": anchor})
    return citations


def _attach_annotations(parts: list[ModelResponsePart], annotations: Any, provider_name: str) -> None:
    """URL citations on a lone text part become its ``citations``, the raw annotations its
    ``provider_details['citations']`` (2.68's ``map_chat_content``)."""
    items = json_array(annotations)
    if items is None or len(parts) != 1 or not isinstance(parts[0], TextPart):
        return
    valid = [v for a in items if (v := _valid_url_citation(a)) is not None]
    if valid:
        parts[0] = attrs.evolve(
            parts[0],
            citations=chat_citations(valid, parts[0].content),
            provider_name=provider_name,
            provider_details={"citations": valid},
        )


# =============================================================================================
# Stream
# =============================================================================================


def check_stream_end(meta: StreamMeta, *, api: str, any_chunk: bool, finished: bool) -> None:
    """The end-of-body rule of every Chat-style stream (Chat Completions, Groq, Mistral).

    Raises:
        UnexpectedModelBehavior: the body held no chunk at all (``any_chunk`` is false).
        ModelConnectionError: it did, but ended with neither ``data: [DONE]`` nor a finish reason
            (``finished`` is false): the response is probably truncated, so it is not passed off as
            complete. ``api`` names the stream in the message.
    """
    if not any_chunk:
        raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
    if not finished:
        raise ModelConnectionError(
            meta.model_name or "",
            f"the {api} stream ended without `data: [DONE]` or a finish reason; "
            "the response is probably truncated",
            phase="read",
            in_stream=True,
        )


class ChatStreamMapper:
    """Chat Completions SSE events → raw part events and :class:`StreamMeta` (one per stream, pure).

    Per chunk, in 2.68's order: the first ``created`` becomes ``provider_details['timestamp']``;
    usage adds up (replaces, with ``openai_continuous_usage_stats``); ``id`` and ``model`` update;
    then, for ``choices[0]``: a refusal, the finish reason, logprobs, and the deltas — the reasoning
    field, then ``content`` (``<think>`` tags split out), then ``tool_calls`` keyed by ``index``.

    The meta is rebuilt only when one of its values changes (a handful of times per stream); a text
    delta costs one ``orjson.loads`` and one parts-manager call.
    """

    __slots__ = (
        "_annotations",
        "_awaiting_text",
        "_chunks",
        "_content_gen",
        "_content_is_text",
        "_continuous_usage",
        "_done",
        "_finish_reason",
        "_has_finish",
        "_held_whitespace",
        "_in_think",
        "_logprobs",
        "_profile",
        "_provider_name",
        "_reasoning_gen",
        "_refusal",
        "_service_tier",
        "_thinking_fields",
        "_timestamp_seen",
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
        provider_url: str | None,
        continuous_usage: bool = False,
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name, provider_name=provider_name, provider_url=provider_url)
        self._profile = profile
        self._provider_name = provider_name
        self._continuous_usage = continuous_usage
        self._done = False
        self._chunks = 0
        self._has_finish = False
        self._usage_seen = False
        self._finish_reason: FinishReason | None = None
        self._refusal: list[str] = []
        self._logprobs: list[JSON] = []
        # vendor-id generations: text after reasoning, or reasoning after text, starts a new part (2.68)
        self._content_gen = 0
        self._reasoning_gen = 0
        self._content_is_text = False
        self._awaiting_text = False
        self._held_whitespace = ""
        self._in_think = False
        self._timestamp_seen = False
        self._service_tier: object = None
        self._annotations: list[Any] = []
        self._thinking_fields = tuple(
            dict.fromkeys(f for f in (profile.thinking_field, "reasoning", "reasoning_content") if f)
        )

    # -- meta ----------------------------------------------------------------------------------

    def _details(self, **changes: Any) -> None:
        current = self.meta.provider_details
        if current is not None and all(current.get(k, _MISSING) == v for k, v in changes.items()):
            return
        self.meta = attrs.evolve(self.meta, provider_details={**(current or {}), **changes})

    # -- SSE -----------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """The end marker (``data: [DONE]``) arrived: the stream finishes here (see ``StreamMapper``)."""
        return self._done

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            ModelHTTPError: an ``{"error": ...}`` object arrived (``in_stream=True``).
            ModelAPIError: the same, with no recognisable status.
            UnexpectedModelBehavior: the event is not a JSON chat completion chunk.
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
            raise UnexpectedModelBehavior("Invalid chunk in the chat completions stream", data) from None
        if not isinstance(chunk, dict):
            raise UnexpectedModelBehavior("Invalid chunk in the chat completions stream", data)
        chunk = cast(JSON, chunk)
        self._chunks += 1
        if error := chunk.get("error"):
            model_name = self.meta.model_name or ""
            error_object = json_dict(error)
            if self._profile.openrouter_extensions and error_object is not None:
                code = error_object.get("code")
                if isinstance(code, int) and not isinstance(code, bool):
                    raise openrouter_error(error_object, model_name, in_stream=True)
            raise stream_error(model_name, error_object if error_object is not None else error)
        try:
            text = self._plain_text(chunk)
            if text is not None:
                self._text(text, out)
                return
            self._chunk(chunk, out)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnexpectedModelBehavior(
                f"Invalid chunk in the chat completions stream: {type(exc).__name__}: {exc}", data
            ) from None

    def _plain_text(self, chunk: JSON) -> str | None:
        """The content of the commonest chunk, or ``None`` when it needs :meth:`_chunk`.

        That chunk is a bare text delta: non-empty ``content`` and nothing else ``_chunk`` would act
        on (no refusal, tool calls or reasoning field in the delta, no finish reason, logprobs or
        usage; the id, model and service tier already recorded; the same truth tests ``_chunk``
        applies), so everything ``_chunk`` does for it besides ``_text`` would change nothing.
        Checking that costs a handful of lookups instead of ``_chunk``'s walk over every field.
        """
        raw_choices: object = chunk.get("choices")
        if not raw_choices or type(raw_choices) is not list:
            return None
        raw_choice: object = cast("list[object]", raw_choices)[0]
        if type(raw_choice) is not dict:
            return None
        choice = cast(JSON, raw_choice)
        raw_delta: object = choice.get("delta")
        if type(raw_delta) is not dict:
            return None
        delta = cast(JSON, raw_delta)
        content: object = delta.get("content")
        if (
            type(content) is not str
            or not content
            or delta.get("refusal")
            or delta.get("tool_calls")
            or any(delta.get(name) for name in self._thinking_fields)
            or choice.get("finish_reason")
            or choice.get("logprobs")
            or chunk.get("usage") is not None
            or chunk.get("moderation")
            or (not self._timestamp_seen and chunk.get("created"))
        ):
            return None
        meta = self.meta
        chunk_id = chunk.get("id")
        if chunk_id and chunk_id != meta.provider_response_id:
            return None
        model = chunk.get("model")
        if model and model != meta.model_name:
            return None
        service_tier = chunk.get("service_tier")
        if service_tier and service_tier != self._service_tier:
            return None
        return content

    def _chunk(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        # Values that repeat in every chunk (id, model, service tier) are compared with the last
        # ones seen, so the meta is rebuilt only when something changes.
        if not self._timestamp_seen and (created := chunk.get("created")):
            ts = timestamp_of(created)
            if ts is not None:
                self._timestamp_seen = True
                self._details(timestamp=ts)
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            mapped = map_chat_usage(usage, self._profile.usage)
            self._usage_seen = True
            self.meta = attrs.evolve(
                self.meta, usage=mapped if self._continuous_usage else self.meta.usage + mapped
            )
            if self._profile.openrouter_extensions and (extra := openrouter_usage_details(usage)):
                self._details(**extra)
        chunk_id = chunk.get("id")
        if chunk_id and chunk_id != self.meta.provider_response_id:
            self.meta = attrs.evolve(self.meta, provider_response_id=chunk_id)
        model = chunk.get("model")
        if model and model != self.meta.model_name:
            self.meta = attrs.evolve(self.meta, model_name=model)
        if moderation := chunk.get("moderation"):
            self._details(moderation=moderation)
        service_tier = chunk.get("service_tier")
        if service_tier and service_tier != self._service_tier:
            self._service_tier = service_tier
            self._details(service_tier=service_tier)
        choices = chunk.get("choices")
        if not choices:
            return
        choice = choices[0]
        raw_finish = choice.get("finish_reason")
        if raw_finish:
            self._has_finish = True
        elif raw_finish == "" and self._profile.finish_from_parts:
            raw_finish = None
        delta = choice.get("delta")
        if delta is None:
            return
        if refusal := delta.get("refusal"):
            if not isinstance(refusal, str):
                raise TypeError("`delta.refusal` is not a string")
            self._refusal.append(refusal)
            self._set_finish("content_filter")
            return
        if raw_finish and not self._refusal:
            self._set_finish(finish_reason_of(raw_finish, self._profile))
            self._details(finish_reason=raw_finish)
        if self._profile.openrouter_extensions:
            self._details(**openrouter_details(chunk, choice))
            if annotations := json_array(delta.get("annotations")):
                self._annotations.extend(annotations)
                self._details(annotations=list(self._annotations))
        logprobs = choice.get("logprobs")
        if logprobs and (content := logprobs.get("content")):
            self._logprobs.extend(map_logprobs(content))
        self._deltas(delta, out)

    def _set_finish(self, reason: FinishReason | None) -> None:
        if reason != self.meta.finish_reason:
            self.meta = attrs.evolve(self.meta, finish_reason=reason)
        self._finish_reason = reason

    def _deltas(self, delta: JSON, out: list[ModelResponseStreamEvent]) -> None:
        parts = self.parts
        details = json_array(delta.get("reasoning_details")) if self._profile.reasoning_details else None
        if details:
            self._reasoning_details(details, out)
        for field_name in () if details else self._thinking_fields:
            reasoning = delta.get(field_name)
            if not reasoning or not isinstance(reasoning, str):
                continue
            events = parts.handle_thinking_delta(
                vendor_part_id=("reasoning", field_name, self._reasoning_gen),
                id=field_name,
                content=reasoning,
                provider_name=self._provider_name,
            )
            if events and type(events[0]) is PartStartEvent:
                self._boundary("reasoning")
            out.extend(events)
            break
        content = delta.get("content")
        if content is not None and not isinstance(content, str):
            content = content_text(content)
        if content:
            self._text(content, out)
        tool_calls = delta.get("tool_calls")
        if tool_calls:
            for call in tool_calls:
                function: JSON = call.get("function") or {}
                extra = call.get("extra_content")
                events = parts.handle_tool_call_delta(
                    vendor_part_id=("tool", call["index"]),
                    tool_name=function.get("name"),
                    args=function.get("arguments"),
                    tool_call_id=call.get("id"),
                    provider_name=self._provider_name if extra else None,
                    provider_details={"extra_content": extra} if extra else None,
                )
                if events and type(events[0]) is PartStartEvent:
                    self._boundary("tool")
                out.extend(events)

    def _reasoning_details(self, details: list[Any], out: list[ModelResponseStreamEvent]) -> None:
        for i, raw in enumerate(details):
            fields = detail_fields(raw)
            if fields is None:
                continue
            kind, ident, content, signature, provider_details = fields
            # OpenRouter's `index` is stable across chunks (the position in a chunk is not); the type
            # stays in the key because Gemini sends text and encrypted details with the same index
            index = provider_details["index"]
            events = self.parts.handle_thinking_delta(
                vendor_part_id=("reasoning_detail", kind, i if index is None else index),
                id=ident,
                content=content,
                signature=signature,
                provider_name=self._provider_name,
                provider_details=provider_details,
            )
            if events and type(events[0]) is PartStartEvent:
                self._boundary("reasoning")
            out.extend(events)

    def _boundary(self, source: Literal["reasoning", "content", "tool"]) -> None:
        # 2.68's `_advance_part_boundary`: a new part from another source ends the current segment.
        if source != "reasoning":
            self._reasoning_gen += 1
            self._awaiting_text = False
        if source != "content" and self._content_is_text:
            self._content_gen += 1
            self._content_is_text = False
            self._awaiting_text = source == "reasoning"

    def _text(self, content: str, out: list[ModelResponseStreamEvent]) -> None:
        profile = self._profile
        parts = self.parts
        start_tag, end_tag = profile.thinking_tags
        vendor_id: Hashable = ("content", self._content_gen)
        if self._in_think:
            if content == end_tag:
                # the tag closes the thinking part; the next text starts a new text part
                self._in_think = False
                self._content_gen += 1
                return
            out.extend(
                parts.handle_thinking_delta(vendor_part_id=("think", self._content_gen), content=content)
            )
            return
        if content == start_tag:
            self._in_think = True
            self._content_is_text = False
            self._content_gen += 1
            events = parts.handle_thinking_delta(
                vendor_part_id=("think", self._content_gen),
                content="",
                id="content",
                provider_name=self._provider_name,
            )
            self._boundary("content")
            out.extend(events)
            return
        if self._held_whitespace and not self._content_is_text and not content.isspace():
            # whitespace dropped right after reasoning interrupted a text part joins the next text (2.68)
            content, self._held_whitespace = self._held_whitespace + content, ""
        events = parts.handle_text_delta(
            vendor_part_id=vendor_id,
            content=content,
            ignore_leading_whitespace=profile.ignore_streamed_leading_whitespace,
        )
        if events:
            if type(events[0]) is PartStartEvent:
                self._boundary("content")
                self._content_is_text = True
            out.extend(events)
        elif content.isspace() and self._awaiting_text:
            self._held_whitespace += content

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: publish refusal/logprobs, default the finish reason, or report a truncation.

        Raises:
            ModelConnectionError: neither ``[DONE]`` nor a ``finish_reason`` arrived.
            UnexpectedModelBehavior: the body held no chunk at all.
        """
        check_stream_end(
            self.meta,
            api="chat completions",
            any_chunk=bool(self._chunks),
            finished=bool(self._done or self._has_finish or self._refusal),
        )
        changes: JSON = {}
        if self._refusal:
            changes["refusal"] = "".join(self._refusal)
        if self._logprobs:
            changes["logprobs"] = self._logprobs
        if changes:
            self._details(**changes)
        if not self._has_finish and not self._refusal:
            calls = self._profile.finish_from_parts and any(
                isinstance(p, ToolCallPart) for p in self.parts.get_parts()
            )
            self._set_finish("tool_call" if calls else "stop")
        if not self._usage_seen and not self._continuous_usage:
            self.meta = attrs.evolve(self.meta, usage=self.meta.usage + RequestUsage(unmeasured_requests=1))


_MISSING: Final = object()


# =============================================================================================
# Errors
# =============================================================================================

_QUOTA_CODES: Final = frozenset(
    {
        "insufficient_quota",
        "billing_hard_limit_reached",
        "credit_balance_exhausted",
        "organization_spend_limit_exceeded",
        "project_spend_limit_exceeded",
        "organization_usage_limit_exceeded",
    }
)
_STATUS_BY_CODE: Final[dict[str, int]] = {
    "rate_limit_exceeded": 429,
    "rate_limit_error": 429,
    "too_many_requests": 429,
    **dict.fromkeys(_QUOTA_CODES, 429),
    "context_length_exceeded": 400,
    "service_unavailable": 503,
    "service_unavailable_error": 503,
    "server_is_overloaded": 503,
    "overloaded": 503,
    "server_error": 500,
}
_CONTEXT_WINDOW_MESSAGES: Final = ("maximum context length", "reduce the length of the messages")


def openai_compatible_status(code: str | None, error_type: str | None) -> int | None:
    """The HTTP status an OpenAI-compatible API uses for an error reported without one (in a stream)."""
    status = _STATUS_BY_CODE.get(code or "") or _STATUS_BY_CODE.get(error_type or "")
    if status is not None:
        return status
    if code is not None and code.isdigit() and 400 <= int(code) < 600:
        return int(code)
    return None


def openai_compatible_category(
    status_code: int | None, code: str | None, error_type: str | None, message: object
) -> type[ModelAPIError] | None:
    """pydantic-ai 2.68's category for an OpenAI-compatible error (``_model_errors``)."""
    if code in _QUOTA_CODES or error_type in _QUOTA_CODES:
        return ModelQuotaExceededError
    if code == "context_length_exceeded" or (
        isinstance(message, str) and any(m in message.lower() for m in _CONTEXT_WINDOW_MESSAGES)
    ):
        return ModelContextWindowExceededError
    if says_overloaded(code, error_type):
        return ModelOverloadedError
    if code == "model_not_found":
        return ModelNotFoundError
    if code == "invalid_api_key":
        return ModelAuthenticationError
    if status_code is None:
        return None
    category = http_status_category(status_code, message)
    if category is None and 400 <= status_code < 500:
        return ModelRequestRejectedError  # the OpenAI-compatible rule: any other 4xx rejects the request
    return category


def _code_type_message(body: object) -> tuple[str | None, str | None, str | None]:
    if not isinstance(body, dict):
        return None, None, body if isinstance(body, str) else None
    b = cast(JSON, body)
    code, error_type, message = b.get("code"), b.get("type"), b.get("message")
    return (
        str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        error_type if isinstance(error_type, str) else None,
        message if isinstance(message, str) else None,
    )


def openai_http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A 4xx/5xx → the categorized :class:`ModelHTTPError` pydantic-ai 2.68 raises, with the parsed body.

    The body is unwrapped as the OpenAI SDK does (``{"error": {...}}`` → the inner object).
    """
    parsed = _http.parse_error_body(body)
    code, error_type, message = _code_type_message(parsed)
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


def stream_error(model_name: str, error: object) -> ModelAPIError:
    """An ``{"error": ...}`` object inside a 200 stream (2.68): the status and category the same error
    has before a stream opens, with ``in_stream=True``; without a recognisable status, a plain
    categorized :class:`ModelAPIError`.
    """
    code, error_type, message = _code_type_message(error)
    if not message:
        message = "An error occurred during streaming"
    status = openai_compatible_status(code, error_type)
    category = openai_compatible_category(status, code, error_type, message)
    if status is None:
        return (category or ModelAPIError)(
            model_name,
            message,
            body=error,
            provider_error_code=code,
            provider_error_type=error_type,
            in_stream=True,
        )
    return ModelHTTPError.for_category(
        category,
        status_code=status,
        model_name=model_name,
        body=error,
        provider_error_code=code,
        provider_error_type=error_type,
        in_stream=True,
    )


# =============================================================================================
# OpenRouter's extensions (``ChatProfile.openrouter_extensions``)
# =============================================================================================

#: pydantic-ai 2.68's mapping of unified ``thinking`` to OpenRouter's ``reasoning.effort``
_OPENROUTER_EFFORTS: Final[dict[object, str]] = {
    True: "medium",
    False: "none",
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "max",
}
#: ``openrouter_*`` settings → body keys, copied as they are (2.68 puts them in ``extra_body``)
_OPENROUTER_BODY_SETTINGS: Final = (
    ("openrouter_models", "models"),
    ("openrouter_provider", "provider"),
    ("openrouter_preset", "preset"),
    ("openrouter_transforms", "transforms"),
)


def openrouter_error(error: JSON, model_name: str, *, in_stream: bool = False) -> ModelHTTPError:
    """An ``{"code": <status>, "message": ...}`` error OpenRouter sends inside a 200 (2.68): ``code`` is
    the HTTP status OpenRouter gives the same error elsewhere; a 403 for flagged input rejects the
    request rather than the credentials."""
    code, message = error["code"], error.get("message")
    if not isinstance(code, int) or isinstance(code, bool) or not isinstance(message, str):
        raise TypeError("`error` is not an OpenRouter error object")
    category = openai_compatible_category(code, None, None, message)
    metadata = json_dict(error.get("metadata"))
    if code == 403 and metadata is not None and metadata.get("flagged_input"):
        category = ModelRequestRejectedError
    return ModelHTTPError.for_category(
        category,
        status_code=code,
        model_name=model_name,
        body=message,
        provider_error_code=str(code),
        in_stream=in_stream,
    )


def openrouter_completion(completion: JSON) -> JSON:
    """The completion in an OpenRouter 200 body, which comes in more shapes than OpenAI's (2.68).

    Raises:
        ModelHTTPError: the body is an error object (the categorized class for its ``code``).
        ModelAPIError: the body has ``choices: null`` and no error (a transient OpenRouter hiccup).
        TypeError: the body is none of the shapes OpenRouter sends.
    """
    model = completion.get("model")
    model_name = model if isinstance(model, str) else ""
    if (error := json_dict(completion.get("error"))) is not None:
        raise openrouter_error(error, model_name)
    if completion.get("choices") is not None:
        return completion
    provider = completion.get("provider")
    if provider is None or isinstance(provider, str):
        raise ModelAPIError(
            model_name, "OpenRouter returned a response with null `choices` and no error envelope"
        )
    # the completion nested in `provider` (https://github.com/pydantic/pydantic-ai/issues/3994)
    nested = json_dict(provider)
    if nested is None:
        raise TypeError("`choices` is missing")
    nested = dict(nested)
    if not isinstance(nested.get("provider"), str):
        nested["provider"] = "unknown"
    if not nested.get("created"):
        nested["created"] = completion.get("created") or 0
    return nested


def openrouter_details(completion: JSON, choice: JSON | None) -> JSON:
    """``provider_details`` from the routing fields: the downstream provider and its own finish reason."""
    out: JSON = {"downstream_provider": completion.get("provider")}
    if choice is not None and (native := choice.get("native_finish_reason")):
        out["finish_reason"] = native
    return out


def openrouter_usage_details(usage: Any) -> JSON:
    """``provider_details`` from OpenRouter's usage: cost, upstream costs, BYOK, server tool use (2.68)."""
    u = json_dict(usage)
    if u is None:
        return {}
    out: JSON = {}
    if cost := u.get("cost"):
        out["cost"] = cost
    if (cost_details := json_dict(u.get("cost_details"))) is not None:
        for key in (
            "upstream_inference_cost",
            "upstream_inference_prompt_cost",
            "upstream_inference_completions_cost",
        ):
            out[key] = cost_details.get(key)
    if isinstance(is_byok := u.get("is_byok"), bool):
        out["is_byok"] = is_byok
    if (tools := json_dict(u.get("server_tool_use_details"))) is not None:
        used = {
            k: v
            for k in ("tool_calls_requested", "tool_calls_executed", "web_search_requests")
            if (v := tools.get(k)) is not None
        }
        if used:
            out["server_tool_use"] = used
    return out


def openrouter_body_settings(
    body: JSON, settings: Mapping[str, Any], thinking: object, profile: ChatProfile
) -> None:
    """Add OpenRouter's request extensions to ``body`` (2.68's ``_openrouter_settings_to_openai_settings``).

    ``openrouter_models``/``_provider``/``_preset``/``_transforms``/``_usage`` go in as they are;
    ``openrouter_reasoning`` as ``reasoning``, else unified ``thinking`` as ``reasoning.effort`` (with
    ``enabled``; a model that always reasons gets its lowest effort for ``thinking=False``).
    """
    for setting, key in _OPENROUTER_BODY_SETTINGS:
        if value := settings.get(setting):
            body[key] = value
    reasoning: Any = settings.get("openrouter_reasoning")
    if "openrouter_reasoning" not in settings and thinking is not None:
        if thinking is False and profile.thinking_always_enabled:
            reasoning = {"effort": "low"}
        else:
            reasoning = {"effort": _OPENROUTER_EFFORTS.get(thinking, "medium")}
        if thinking is not False:
            reasoning["enabled"] = True
    if reasoning:
        body["reasoning"] = reasoning
    if usage := settings.get("openrouter_usage"):
        body["usage"] = usage


# =============================================================================================
# Z.AI's and Snowflake's thinking objects
# =============================================================================================

#: unified ``thinking`` → Snowflake Cortex's ``reasoning.effort`` (2.68)
_REASONING_OBJECT_EFFORTS: Final[dict[object, str]] = {
    True: "medium",
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
    "max": "high",
}


def zai_body_settings(
    body: JSON, settings: Mapping[str, Any], thinking: object, profile: ChatProfile
) -> None:
    """Z.AI's ``thinking: {type, clear_thinking}`` and, on GLM-5.2+, ``reasoning_effort`` (2.68's
    ``_zai_settings_to_openai_settings``). ``zai_clear_thinking`` defaults to False (thinking kept across
    turns) on models that think; a model that always thinks gets ``minimal`` for ``thinking=False``."""
    payload: JSON = {}
    if thinking is False and profile.thinking_always_enabled:
        thinking = "minimal"
    if thinking is False:
        payload["type"] = "disabled"
    elif thinking is not None:
        payload["type"] = "enabled"
    clear = settings.get("zai_clear_thinking")
    if clear is None and profile.supports_thinking:
        clear = False
    if clear is not None:
        payload["clear_thinking"] = clear
    extra: JSON = {}
    if payload:
        extra["thinking"] = payload
    if profile.zai_efforts is not None and isinstance(thinking, str):
        extra["reasoning_effort"] = dict(profile.zai_efforts).get(thinking, thinking)
    # 2.68 writes these into `extra_body`, over the user's own keys of the same name
    body.update(extra)
