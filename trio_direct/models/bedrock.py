"""Amazon Bedrock's Converse API (``bedrock:``): ``POST {endpoint}/model/{modelId}/converse`` and
``/converse-stream``, signed with AWS SigV4 or sent with a Bedrock API key.

Sans-IO pieces and a thin model, like every dialect module:

* :class:`BedrockProfile` — what pydantic-ai 2.68's Bedrock profiles say about a model id (Claude, Nova,
  Llama, Mistral, Cohere, DeepSeek, Qwen, gpt-oss, Kimi, GLM, Grok, Writer, MiniMax, NVIDIA, Gemma):
  tool choice, thinking shape, caching, media in tool results, which content may share a turn with a
  ``toolResult``, sampling settings, the JSON-schema transform for tools;
* :func:`build_converse_request` — messages, settings and parameters → the Converse JSON body;
* :func:`parse_converse_response` — a Converse JSON body → :class:`ModelResponse`;
* :class:`ConverseStreamMapper` — ``application/vnd.amazon.eventstream`` messages → part events;
* :func:`http_error` / :func:`stream_exception` — Bedrock's errors → the categorized errors 2.68 raises.

:class:`BedrockConverseModel` glues them to the HTTP layer: it signs each request (credentials come
from :mod:`trio_direct._aws`, read once when the model is built) and streams through
:class:`trio_direct._aws.source.EventStreamSource`.

Deliberate differences from 2.68 (which goes through boto3):

* no botocore retries: retry policy is trio_direct's (:mod:`trio_direct.retries`);
* files given by URL (other than ``s3://``) are not downloaded while building a request: a
  :class:`UserError` asks for :class:`BinaryContent` instead;
* a profile that needs a login flow (SSO, ``credential_process``, role assumption) is refused with a
  :class:`UserError`; export temporary keys instead;
* a stream that ends without ``messageStop`` is accepted as 2.68 accepts it, but one with no event at all
  raises :class:`UnexpectedModelBehavior`.
"""

from __future__ import annotations

import base64
import datetime
import itertools
import os
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, Literal, TypedDict, cast
from urllib.parse import quote

import attrs
import httpx
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._aws.credentials import AWSConfig, resolve_aws_config
from .._aws.eventstream import EventStreamMessage
from .._aws.lookup import AfterLookup
from .._aws.sigv4 import sign_request
from .._aws.source import EVENTSTREAM_MEDIA_TYPE, EventStreamSource
from .._json import to_json
from .._parts import PartsManager
from ..events import ModelResponseStreamEvent
from ..exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelServerError,
    ModelUnavailableError,
    TrioDirectError,
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
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
)
from ..settings import ModelSettings
from ..tools import ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._bedrock_ids import split_model_id as split_model_id
from ._claude import (
    CLAUDE_ADAPTIVE_THINKING,
    CLAUDE_EFFORT,
    CLAUDE_JSON_SCHEMA_OUTPUT,
    CLAUDE_MAX_OUTPUT_128K,
    CLAUDE_NO_FORCED_TOOL_CHOICE,
    CLAUDE_THINKING_ALWAYS,
    CLAUDE_THINKING_BY_DEFAULT,
    CLAUDE_XHIGH_EFFORT,
)
from ._common import (
    SYSTEM_BLOCKS_ANNOUNCEMENT,
    USER_AGENT,
    dump_error_details,
    http_status_category,
    provenance_tags,
    retry_feedback_text,
    says_overloaded,
)
from ._instructions import request_instructions
from ._json import JSON, SHAPE_ERRORS, json_array, json_dict, json_list
from ._prepare import unprepared_part_error
from ._registry import suggest_model
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamContext, StreamMeta, open_event_stream

__all__ = [
    "BedrockConverseModel",
    "BedrockModelSettings",
    "BedrockProfile",
    "ConverseStreamMapper",
    "build_converse_request",
    "converse_url",
    "from_name",
    "http_error",
    "parse_converse_response",
    "stream_exception",
    "validate_model_id",
]

PROVIDER_NAME: Final = "bedrock"
#: The SigV4 signing name of the Bedrock runtime.
SIGNING_SERVICE: Final = "bedrock"
DEFAULT_ENDPOINT: Final = "https://bedrock-runtime.{region}.amazonaws.com"

JSONContent = list[JSON]


class BedrockModelSettings(ModelSettings, total=False):
    """Settings for Bedrock models: the ``bedrock_*`` keys of pydantic-ai 2.68's ``BedrockModelSettings``."""

    bedrock_guardrail_config: Mapping[str, Any]
    bedrock_performance_configuration: Mapping[str, Any]
    bedrock_request_metadata: dict[str, str]
    bedrock_additional_model_response_fields_paths: list[str]
    bedrock_prompt_variables: Mapping[str, Any]
    bedrock_additional_model_requests_fields: Mapping[str, Any]
    bedrock_cache_tool_definitions: bool | Literal["5m", "1h"]
    bedrock_cache_instructions: bool | Literal["5m", "1h"]
    bedrock_cache_messages: bool | Literal["5m", "1h"]
    bedrock_service_tier: Mapping[str, Any]
    bedrock_inference_profile: str


# ---------------------------------------------------------------------------------------------
# Model ids and profiles
# ---------------------------------------------------------------------------------------------

#: What a model id or ARN may hold: no whitespace, control characters, or URL delimiters (`?`, `#`).
_MODEL_ID: Final = re.compile(r"^[A-Za-z0-9._:/@+\-]{1,2048}$")


def validate_model_id(model_id: str) -> str:
    """``model_id`` if it can be a Bedrock model id, inference profile or ARN.

    Raises:
        UserError: it is empty, too long, has an empty or dot (``.``/``..``) segment, or holds characters
            no model id has.
    """
    if not _MODEL_ID.match(model_id) or any(seg in ("", ".", "..") for seg in model_id.split("/")):
        raise UserError(
            f"{model_id!r} is not a Bedrock model id: expected something like "
            "'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-micro-v1:0' or an ARN"
        )
    return model_id


def converse_url(endpoint_url: str, model_id: str, *, stream: bool) -> str:
    """The Converse URL, the model id percent-encoded as one path segment (``:`` → ``%3A``, ``/`` → ``%2F``).

    ``stream`` picks ``/converse-stream`` over ``/converse``.
    """
    segment = quote(model_id, safe="")
    return f"{endpoint_url.rstrip('/')}/model/{segment}/{'converse-stream' if stream else 'converse'}"


MediaKind = Literal["text", "image", "document", "video"]
_ALL_KINDS: Final[frozenset[MediaKind]] = frozenset({"text", "image", "document", "video"})
SchemaTransform = Literal["none", "bedrock", "bedrock_no_contains", "claude", "inline_defs"]
ThinkingVariant = Literal[
    "anthropic", "deepseek", "openai", "openai_responses", "qwen", "xai", "zai", "zai_effort"
]

# Claude facts Bedrock needs (the same prefix rules as pydantic-ai 2.68's Anthropic profile).
_CLAUDE_ONE_HOUR_CACHE: Final = (
    "claude-fable-5", "claude-haiku-4-5", "claude-haiku-5-5", "claude-mythos-5", "claude-opus-4-5",
    "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-sonnet-4-5",
    "claude-sonnet-4-6", "claude-sonnet-5",
)  # fmt: skip
_OPENAI_ON_CONVERSE: Final = frozenset(
    {"gpt-5.6-sol", "gpt-5.6-luna", "gpt-5.6-terra", "gpt-6-sol", "gpt-6-luna", "gpt-6-astra", "gpt-6.1-sol"}
)
_OPENAI_NO_EFFORT_NONE: Final = frozenset({"gpt-6-astra", "gpt-6.1-sol"})


@attrs.frozen(slots=True)
class BedrockProfile:
    """What pydantic-ai 2.68's Bedrock profile says about a model id; see :meth:`for_model`."""

    vendor: str | None = None
    supports_tool_choice: bool = False
    tool_result_format: Literal["text", "json"] = "text"
    send_back_thinking: bool = False
    prompt_caching: bool = False
    tool_caching: bool = False
    tool_return_media: frozenset[MediaKind] = frozenset({"image"})
    colocatable: frozenset[MediaKind] = _ALL_KINDS
    leading_assistant_ok: bool = False
    citations: bool = False
    tool_result_status: bool = True
    strict_tools: bool = False
    json_schema_output: bool = False
    thinking_variant: ThinkingVariant | None = None
    adaptive_thinking: bool = False
    effort: bool = False
    xhigh_effort: bool = False
    max_effort: bool = True
    thinking_by_default: bool = False
    thinking_always: bool = False
    top_k_variant: Literal["anthropic", "nova"] | None = None
    tool_choice_none_variant: Literal["anthropic"] | None = None
    document_cache_point_variant: Literal["anthropic"] | None = None
    disallows_sampling: bool = False
    on_converse: bool = True
    max_output_tokens: int | None = None
    forced_tool_choice: bool = True
    supports_video: bool = False
    code_execution: bool = False
    ignore_leading_whitespace: bool = False
    schema_transform: SchemaTransform = "none"

    @property
    def is_claude(self) -> bool:
        return self.thinking_variant == "anthropic"

    @classmethod
    def for_model(cls, model_id: str) -> BedrockProfile:
        """The profile of ``model_id`` (unknown vendors get the conservative defaults)."""
        vendor, name = split_model_id(model_id)
        p = cls(vendor=vendor)
        if vendor == "anthropic":
            json_schema = name.startswith(CLAUDE_JSON_SCHEMA_OUTPUT)
            max_output = (
                128_000
                if name.startswith(CLAUDE_MAX_OUTPUT_128K)
                else 64_000
                if name.startswith(("claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5"))
                else None
            )
            adaptive = name.startswith(CLAUDE_ADAPTIVE_THINKING)
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                send_back_thinking=True,
                prompt_caching=True,
                tool_caching=True,
                tool_return_media=frozenset({"image", "document"}),
                colocatable=frozenset({"text", "image"}),
                leading_assistant_ok=True,
                citations=True,
                thinking_variant="anthropic",
                adaptive_thinking=adaptive,
                effort=adaptive and name.startswith(CLAUDE_EFFORT),
                xhigh_effort=name.startswith(CLAUDE_XHIGH_EFFORT),
                max_effort=not name.startswith("claude-opus-4-5"),
                thinking_by_default=name.startswith(CLAUDE_THINKING_BY_DEFAULT),
                thinking_always=name.startswith(CLAUDE_THINKING_ALWAYS),
                top_k_variant="anthropic",
                tool_choice_none_variant="anthropic",
                document_cache_point_variant="anthropic",
                disallows_sampling=name.startswith(CLAUDE_XHIGH_EFFORT),
                max_output_tokens=max_output,
                forced_tool_choice=not name.startswith(CLAUDE_NO_FORCED_TOOL_CHOICE),
                json_schema_output=json_schema,
                strict_tools=json_schema,
                schema_transform="claude" if json_schema else "bedrock",
            )
        if vendor == "amazon":
            nova = "nova" in name
            return attrs.evolve(
                p,
                supports_tool_choice=nova,
                prompt_caching=nova,
                top_k_variant="nova" if nova else None,
                supports_video=nova and "nova-micro" not in name,
                code_execution="nova-2" in name,
                schema_transform="inline_defs",
            )
        if vendor == "meta":
            return attrs.evolve(
                p,
                colocatable=frozenset(),
                tool_return_media=frozenset({"image", "document"}),
                schema_transform="inline_defs",
            )
        if vendor == "mistral":
            structured = name.startswith(("magistral-small", "ministral-3", "mistral-large-3", "voxtral"))
            return attrs.evolve(
                p,
                tool_result_format="json",
                json_schema_output=structured,
                strict_tools=structured,
                colocatable=frozenset(),
                tool_return_media=frozenset({"document"}),
                thinking_always=name.startswith("magistral"),
                schema_transform="bedrock",
            )
        if vendor == "deepseek":
            r1 = name == "r1" or name.startswith("deepseek-r1")
            if r1:
                return attrs.evolve(
                    p, send_back_thinking=True, thinking_always=True, ignore_leading_whitespace=True
                )
            if name == "v3.2":
                return attrs.evolve(p, thinking_variant="deepseek")
            return p
        if vendor == "qwen":
            structured = name.startswith("qwen3")
            return attrs.evolve(
                p,
                leading_assistant_ok=True,
                thinking_variant="qwen",
                json_schema_output=structured,
                strict_tools=structured,
                tool_return_media=frozenset(),
                ignore_leading_whitespace=True,
                schema_transform="bedrock_no_contains" if structured else "bedrock",
            )
        if vendor == "google":
            structured = name.startswith(("gemma-3-12b-it", "gemma-3-27b-it"))
            return attrs.evolve(
                p,
                json_schema_output=structured,
                strict_tools=structured,
                schema_transform="bedrock_no_contains" if structured else "bedrock",
            )
        if vendor == "zai":
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                leading_assistant_ok=True,
                json_schema_output=True,
                strict_tools=True,
                thinking_variant="zai_effort" if name.startswith("glm-5.3") else "zai",
                schema_transform="bedrock_no_contains",
            )
        if vendor in ("moonshot", "moonshotai"):
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                leading_assistant_ok=True,
                json_schema_output=True,
                strict_tools=True,
                tool_return_media=frozenset(),
                ignore_leading_whitespace=True,
                schema_transform="bedrock",
            )
        if vendor == "xai":
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                thinking_variant="xai",
                disallows_sampling=True,
                thinking_always=True,
            )
        if vendor == "openai":
            if name in _OPENAI_ON_CONVERSE:
                return attrs.evolve(
                    p,
                    disallows_sampling=True,
                    thinking_variant="openai_responses",
                    thinking_always=name in _OPENAI_NO_EFFORT_NONE,
                )
            if not name.startswith("gpt-oss"):
                return attrs.evolve(p, on_converse=False)
            return attrs.evolve(
                p, thinking_variant="openai", thinking_always=True, schema_transform="inline_defs"
            )
        if vendor == "writer":
            return attrs.evolve(
                p, colocatable=frozenset(), tool_result_status=False, schema_transform="bedrock"
            )
        if vendor == "minimax":
            structured = name.startswith("minimax-m2")
            return attrs.evolve(
                p, json_schema_output=structured, strict_tools=structured, schema_transform="bedrock"
            )
        if vendor == "nvidia":
            structured = name.startswith("nemotron-nano")
            return attrs.evolve(
                p, json_schema_output=structured, strict_tools=structured, schema_transform="bedrock"
            )
        return p

    def cache_retentions(self, model_id: str) -> tuple[str, ...]:
        """The cache TTLs the model takes (Claude models with a 1-hour tier, else 5 minutes)."""
        _, name = split_model_id(model_id)
        return ("5m", "1h") if self.is_claude and name.startswith(_CLAUDE_ONE_HOUR_CACHE) else ("5m",)


# ---------------------------------------------------------------------------------------------
# Tool schemas
# ---------------------------------------------------------------------------------------------

_STRICT_UNSUPPORTED: Final[dict[str, tuple[str, ...]]] = {
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "integer": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "array": ("maxItems",),
}
_REGEX_UNSUPPORTED: Final = ("(?=", "(?!", "(?<=", "(?<!", "(?P=")
_SCHEMA_LISTS: Final = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_MAPS: Final = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_SINGLE: Final = ("items", "additionalProperties", "not", "if", "then", "else", "contains")


def _regex_unsupported(pattern: str) -> bool:
    escaped = in_class = False
    for i, char in enumerate(pattern):
        if escaped:
            if char.isdigit():
                return True
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif pattern.startswith(_REGEX_UNSUPPORTED, i):
            return True
    return False


def _walk(node: Any, fix: Any) -> Any:
    """``node`` with ``fix`` applied to every subschema, bottom-up (``fix`` gets a fresh dict)."""
    if not isinstance(node, dict):
        return node
    schema: JSON = dict(cast(JSON, node))
    for key in _SCHEMA_MAPS:
        if isinstance(sub := schema.get(key), dict):
            schema[key] = {k: _walk(v, fix) for k, v in cast(JSON, sub).items()}
    for key in _SCHEMA_LISTS:
        if isinstance(schema.get(key), list):
            schema[key] = [_walk(v, fix) for v in json_list(schema[key])]
    for key in _SCHEMA_SINGLE:
        if isinstance(schema.get(key), dict):
            schema[key] = _walk(schema[key], fix)
    return fix(schema)


def _inline_defs(schema: JSON) -> JSON:
    """``schema`` with local ``$ref``\\ s replaced by their ``$defs`` (recursive ones kept as refs)."""
    defs = cast(JSON, schema.get("$defs") or {})

    def resolve(node: Any, seen: frozenset[str]) -> Any:
        items = json_array(node)
        if items is not None:
            return [resolve(v, seen) for v in items]
        if not isinstance(node, dict):
            return node
        obj = cast(JSON, node)
        ref = obj.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            name = ref.removeprefix("#/$defs/")
            if name in defs and name not in seen:
                target = resolve(defs[name], seen | {name})
                rest = {k: resolve(v, seen) for k, v in obj.items() if k != "$ref"}
                return {**target, **rest} if rest else target
            return obj
        return {k: resolve(v, seen) for k, v in obj.items() if k != "$defs"}

    recursive = any("#/$defs/" in orjson.dumps(v).decode() for v in defs.values())
    if recursive:
        return schema  # a self-referencing model cannot be inlined; send it as it is
    result = resolve(schema, frozenset())
    return cast(JSON, result)


def transform_tool_schema(schema: Mapping[str, Any], transform: SchemaTransform, *, strict: bool) -> JSON:
    """A tool's JSON schema as 2.68's Bedrock transformer for the model family sends it."""
    if transform == "none":
        return dict(schema)
    if transform == "inline_defs":
        return _inline_defs(dict(schema))
    drop_contains = transform in ("bedrock_no_contains", "claude")

    def fix(node: JSON) -> JSON:
        node.pop("title", None)
        node.pop("$schema", None)
        if not strict:
            return node
        kind = node.get("type")
        if kind == "object":
            node["additionalProperties"] = False
        bad: dict[str, Any] = {}
        if isinstance(kind, str):
            unsupported = _STRICT_UNSUPPORTED.get(kind, ())
            if kind == "array" and drop_contains:
                unsupported = (*unsupported, "contains")
            for key in unsupported:
                if key in node:
                    bad[key] = node[key]
            if kind == "array" and isinstance(node.get("minItems"), int) and node["minItems"] > 1:
                bad["minItems"] = node["minItems"]
        pattern = node.get("pattern")
        if isinstance(pattern, str) and _regex_unsupported(pattern):
            bad["pattern"] = pattern
        if transform == "claude" and isinstance(kind, list) and "array" in kind and "contains" in node:
            bad["contains"] = node["contains"]
        if bad:
            notes = ", ".join(f"{k}={v}" for k, v in bad.items())
            for key in bad:
                node.pop(key)
            description = node.get("description")
            node["description"] = f"{description} ({notes})" if description else notes
        return node

    return cast(JSON, _walk(dict(schema), fix))


# ---------------------------------------------------------------------------------------------
# Request building
# ---------------------------------------------------------------------------------------------

_IMAGE_FORMATS: Final = ("jpeg", "png", "gif", "webp")
_VIDEO_FORMATS: Final = ("mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp")
_DOCUMENT_FORMATS: Final = ("pdf", "txt", "csv", "doc", "docx", "xls", "xlsx", "html", "md")
_SAMPLING: Final = ("temperature", "top_p", "top_k")
_THINKING_BUDGETS: Final[dict[object, int]] = {
    True: 10000, "minimal": 1024, "low": 2048, "medium": 10000, "high": 16384, "xhigh": 32768, "max": 32768,
}  # fmt: skip
_ANTHROPIC_EFFORTS: Final[dict[object, str]] = {
    True: "high", "minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "max",
    "max": "max",
}  # fmt: skip
_GPT_OSS_EFFORTS: Final[dict[object, str]] = {
    True: "medium", False: "low", "minimal": "low", "low": "low", "medium": "medium", "high": "high",
    "xhigh": "high", "max": "high",
}  # fmt: skip
_HIGH_ONLY_EFFORTS: Final[dict[object, str]] = {
    False: "none", True: "high", "minimal": "high", "low": "high", "medium": "high", "high": "high",
    "xhigh": "high", "max": "high",
}  # fmt: skip
_GLM_EFFORTS: Final[dict[object, str]] = {
    False: "low", True: "max", "minimal": "low", "low": "low", "medium": "medium", "high": "high",
    "xhigh": "xhigh", "max": "max",
}  # fmt: skip
_QWEN_REASONING: Final[dict[object, str]] = {
    False: "none", True: "high", "minimal": "low", "low": "low", "medium": "high", "high": "high",
    "xhigh": "high", "max": "high",
}  # fmt: skip
_GROK_EFFORTS: Final[dict[object, str]] = {
    False: "low", True: "medium", "minimal": "low", "low": "low", "medium": "medium", "high": "high",
    "xhigh": "xhigh", "max": "xhigh",
}  # fmt: skip
_OPENAI_EFFORTS: Final[dict[object, str]] = {
    True: "medium", False: "none", "minimal": "low", "low": "low", "medium": "medium", "high": "high",
    "xhigh": "xhigh", "max": "xhigh",
}  # fmt: skip
_EFFORT_MAPS: Final[dict[str, dict[object, str]]] = {
    "openai": _GPT_OSS_EFFORTS,
    "deepseek": _HIGH_ONLY_EFFORTS,
    "zai": _HIGH_ONLY_EFFORTS,
    "zai_effort": _GLM_EFFORTS,
}


def _mime_format(media_type: str) -> str:
    return media_type.split("/", 1)[-1].split(";", 1)[0].strip()


def _file_format(item: BinaryContent | ImageUrl | DocumentUrl | VideoUrl | UploadedFile) -> str:
    """The Converse ``format`` of a file: from its media type, as :attr:`BinaryContent.format` maps it."""
    try:
        if isinstance(item, UploadedFile):
            # one home for the media type → format table
            return BinaryContent(b"", media_type=item.media_type).format
        return item.format
    except (KeyError, ValueError):
        if isinstance(item, UploadedFile):
            raise UserError(f"Unsupported media type for Bedrock UploadedFile: {item.media_type}") from None
        return _mime_format(item.media_type)


def _image_block(fmt: str, source: JSON) -> JSON:
    if fmt not in _IMAGE_FORMATS:
        raise UserError(f"Unsupported image format: {fmt}")
    return {"image": {"format": fmt, "source": source}}


def _video_block(fmt: str, source: JSON) -> JSON:
    if fmt not in _VIDEO_FORMATS:
        raise UserError(f"Unsupported video format: {fmt}")
    return {"video": {"format": fmt, "source": source}}


def _document_block(name: str, fmt: str, source: JSON, *, citations: bool) -> JSON:
    if fmt not in _DOCUMENT_FORMATS:
        raise UserError(f"Unsupported document format: {fmt}")
    document: JSON = {"name": name, "format": fmt, "source": source}
    if citations and fmt in ("txt", "pdf") and "s3Location" not in source:
        document["citations"] = {"enabled": True}
    return {"document": document}


def _document_source(data: bytes, media_type: str, *, citations: bool) -> JSON:
    if citations and media_type == "text/plain":
        try:
            return {"text": data.decode()}
        except UnicodeDecodeError:
            raise UserError("Bedrock citations require UTF-8 text documents") from None
    return {"bytes": data}


def _s3_source(url: str) -> JSON:
    rest = url.removeprefix("s3://")
    location, _, query = rest.partition("?")
    s3: JSON = {"uri": f"s3://{location}"}
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if key == "bucketOwner" and value:
            s3["bucketOwner"] = value
            break
    return {"s3Location": s3}


_ERROR_OUTCOMES: Final = ("failed", "retried")
_FILE_TYPES: Final = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)


def _content_items(part: ToolReturnPart, *, text_mode: bool) -> list[Any]:
    """2.68's ``content_items(mode='str'|'jsonable', wrap_if_error=False)``: one item per list entry,
    files as they are, other values as JSON text (``str``) or JSON values (``jsonable``)."""
    content = part.content
    was_list = isinstance(content, list)
    items: list[Any] = list(cast(list[Any], content)) if was_list else [content]
    if part.outcome == "retried" and was_list and not part.files:
        # a retry's validation errors are one JSON array, shown whole
        return [
            part.model_response_str(wrap_if_error=False)
            if text_mode
            else orjson.loads(_tool_return_json(items))
        ]
    out: list[Any] = []
    for item in items:
        if isinstance(item, (*_FILE_TYPES, str)):
            out.append(item)
        elif text_mode:
            text = _tool_return_json(item)
            out.append(orjson.loads(text) if text.startswith('"') else text)
        else:
            out.append(orjson.loads(_tool_return_json(item)))
    return out


def _tool_return_json(value: Any) -> str:
    # Compact JSON as pydantic-ai writes tool data: one home, the core's encoder.
    return to_json(value).decode()


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def _retry_feedback(part: RetryPromptPart) -> str:
    """A tool-less retry as 2.68 renders it: user-voice feedback in a fence behind an attribution line."""
    return retry_feedback_text(part.content)


def _cache_point(setting: bool | str) -> JSON:
    point: JSON = {"type": "default"}
    if isinstance(setting, str):
        point["ttl"] = setting
    return {"cachePoint": point}


def _is_trailing_media(block: JSON) -> bool:
    return "document" in block or "video" in block


def _insert_cache_point(
    content: JSONContent, point: JSON, *, raise_if_cannot: bool = False, replace_existing: bool = False
) -> None:
    """Put ``point`` at the end of ``content``, or before its trailing documents/videos (Bedrock rejects
    a cache point right after them)."""
    start: int | None = None
    for i in range(len(content) - 1, -1, -1):
        if not _is_trailing_media(content[i]):
            break
        start = i
    if start is None:
        content.append(point)
        return
    if start == 0:
        if raise_if_cannot:
            raise UserError(
                "CachePoint cannot be placed when the user message contains only a document or video, "
                "due to Bedrock API restrictions. Add text content before or after your document or video "
                "to enable caching."
            )
        return
    if "cachePoint" in content[start - 1]:
        if replace_existing:
            content[start - 1] = point
        return
    content.insert(start, point)


def _stays_in_place(block: JSON) -> bool:
    document = cast(JSON, block.get("document") or {})
    return document.get("format") == "pdf" or "citations" in document


@attrs.define
class _Mapper:
    """Messages → Converse ``system`` and ``messages`` (2.68's ``_map_messages``)."""

    profile: BedrockProfile
    citations: bool
    system: JSONContent = attrs.field(factory=list[JSON])
    messages: list[JSON] = attrs.field(factory=list[JSON])
    deferred: JSONContent = attrs.field(factory=list[JSON])
    documents: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def flush_deferred(self) -> None:
        if self.deferred:
            self.messages.append({"role": "user", "content": list(self.deferred)})
            self.deferred.clear()

    def file_block(self, item: BinaryContent | ImageUrl | DocumentUrl | VideoUrl | UploadedFile) -> JSON:
        if isinstance(item, BinaryContent):
            if item.is_image:
                return _image_block(item.format, {"bytes": item.data})
            if item.is_document:
                return _document_block(
                    f"Document {next(self.documents)}",
                    item.format,
                    _document_source(item.data, item.media_type, citations=self.citations),
                    citations=self.citations,
                )
            if item.is_video:
                return _video_block(item.format, {"bytes": item.data})
            raise UserError(f"Unsupported binary content type for Bedrock: {item.media_type}")
        if isinstance(item, UploadedFile):
            if not item.file_id.startswith("s3://"):
                raise UserError(
                    f"UploadedFile for Bedrock must use an S3 URL (s3://bucket/key), got: {item.file_id}"
                )
            source = _s3_source(item.file_id)
            media_type = item.media_type
            if media_type.startswith("audio/"):
                raise UserError("Audio files are not supported for Bedrock UploadedFile")
            fmt = _file_format(item)
            if media_type.startswith("image/"):
                return _image_block(fmt, source)
            if media_type.startswith("video/"):
                return _video_block(fmt, source)
            return _document_block(f"Document {next(self.documents)}", fmt, source, citations=self.citations)
        if not item.url.startswith("s3://"):
            raise UserError(
                f"{type(item).__name__}({item.url!r}) needs a download, which trio_direct does not do while "
                "building a request; fetch the file and pass it as BinaryContent, or use an s3:// URL"
            )
        source = _s3_source(item.url)
        fmt = _file_format(item)
        if isinstance(item, ImageUrl):
            return _image_block(fmt, source)
        if isinstance(item, DocumentUrl):
            return _document_block(f"Document {next(self.documents)}", fmt, source, citations=self.citations)
        return _video_block(fmt, source)

    def user_prompt(self, part: UserPromptPart) -> None:
        content: JSONContent = []
        if isinstance(part.content, str):
            content.append({"text": part.content})
        else:
            for item in part.content:
                if isinstance(item, str):
                    content.append({"text": item})
                elif isinstance(item, TextContent):
                    content.append({"text": item.content})
                elif isinstance(item, CachePoint):
                    self.cache_point(item, content)
                elif isinstance(item, AudioUrl) or (isinstance(item, BinaryContent) and item.is_audio):
                    raise UserError(
                        "Bedrock's Converse API takes no audio: AudioUrl and audio files are not supported"
                    )
                else:
                    content.append(self.file_block(item))
        if any("document" in b for b in content) and not any("text" in b for b in content):
            # Converse: a message with a document must also hold a text block.
            content.insert(0, {"text": "See attached document(s)."})
        if content:
            self.messages.append({"role": "user", "content": content})

    def cache_point(self, item: CachePoint, content: JSONContent) -> None:
        if not self.profile.prompt_caching:
            return
        point = _cache_point(item.ttl)
        if not content:
            for message in reversed(self.messages):
                if message["role"] == "user" and message["content"]:
                    target = cast(JSONContent, message["content"])
                    if "cachePoint" in target[-1]:
                        target[-1] = point
                    else:
                        _insert_cache_point(target, point, replace_existing=True)
                    return
            raise UserError(
                "CachePoint cannot be the first content in a user message - there must be previous content "
                "to cache when using Bedrock. To cache system instructions or tool definitions, use the "
                "`bedrock_cache_instructions` or `bedrock_cache_tool_definitions` settings instead."
            )
        if "cachePoint" in content[-1]:
            raise UserError(
                "CachePoint cannot be preceded by another CachePoint - there must be content between cache "
                "points when using Bedrock."
            )
        if self.profile.document_cache_point_variant == "anthropic" and _stays_in_place(content[-1]):
            content.append(point)
        else:
            _insert_cache_point(content, point, raise_if_cannot=True)

    def tool_return(self, part: ToolReturnPart) -> None:
        errored = part.outcome in _ERROR_OUTCOMES
        text_mode = self.profile.tool_result_format == "text"
        content: JSONContent = []
        colocated: JSONContent = []
        items: list[Any]
        if errored and not self.profile.tool_result_status:
            # no native error status: the failure goes in the wrapped text, then only the files
            content.append({"text": part.model_response_str()})
            items = list(part.files)
        else:
            items = _content_items(part, text_mode=text_mode)
        for item in items:
            if not isinstance(item, _FILE_TYPES):
                content.append({"text": item} if isinstance(item, str) else {"json": item})
                continue
            if isinstance(item, AudioUrl) or (isinstance(item, BinaryContent) and item.is_audio):
                raise UserError("Bedrock's Converse API takes no audio in tool returns")
            block = self.file_block(item)
            if isinstance(item, UploadedFile):
                content.append(block)
                continue
            kind = next((k for k in ("image", "document", "video") if k in block), None)
            if kind in self.profile.tool_return_media:
                content.append(block)
                continue
            # This media travels on the user channel, framed with the call it came from.
            open_tag, close_tag = provenance_tags(part.tool_name, part.tool_call_id, item.identifier)
            framed: JSONContent = [{"text": open_tag}, block, {"text": close_tag}]
            if kind in self.profile.colocatable:
                colocated.extend(framed)
            else:
                self.deferred.extend(framed)
            content.append({"text": f"See file {item.identifier}."})
        if not content:
            content.append({"text": str(part.content)} if text_mode else {"json": part.content})
        result: JSON = {"toolUseId": part.tool_call_id, "content": content}
        if self.profile.tool_result_status:
            result["status"] = "error" if errored else "success"
        self.messages.append({"role": "user", "content": [{"toolResult": result}, *colocated]})

    def retry(self, part: RetryPromptPart) -> None:
        if part.tool_name is not None:
            body = (
                part.content
                if isinstance(part.content, str)
                else _json_text(dump_error_details(part.content))
            )
            result: JSON = {"toolUseId": part.tool_call_id, "content": [{"text": body}]}
            if self.profile.tool_result_status:
                result["status"] = "error"
            else:
                result["content"] = [{"text": _json_text({"error": body})}]
            self.messages.append({"role": "user", "content": [{"toolResult": result}]})
        else:
            self.messages.append({"role": "user", "content": [{"text": _retry_feedback(part)}]})

    def request(self, message: ModelRequest) -> None:
        for part in message.parts:
            if isinstance(part, SystemPromptPart):
                if part.content:
                    self.system.append({"text": part.content})
            elif isinstance(part, UserPromptPart):
                self.flush_deferred()
                self.user_prompt(part)
            elif isinstance(part, ToolReturnPart):
                self.tool_return(part)
            elif isinstance(part, RetryPromptPart):
                self.retry(part)
            else:
                raise unprepared_part_error(part)

    def response(self, message: ModelResponse) -> None:
        content: JSONContent = []
        carried: JSONContent = []
        for part in message.parts:
            if isinstance(part, TextPart):
                content.append({"text": part.content})
            elif isinstance(part, ThinkingPart):
                self.thinking(part, message, content, carried)
            elif isinstance(part, ToolCallPart):
                content.append(
                    {
                        "toolUse": {
                            "toolUseId": part.tool_call_id,
                            "name": part.tool_name,
                            "input": part.args_as_dict(),
                        }
                    }
                )
            elif isinstance(part, NativeToolCallPart):
                if part.provider_name == PROVIDER_NAME and part.tool_name == "code_execution":
                    content.append(
                        {
                            "toolUse": {
                                "toolUseId": part.tool_call_id,
                                "name": "nova_code_interpreter",
                                "input": part.args_as_dict(),
                                "type": "server_tool_use",
                            }
                        }
                    )
            elif (
                isinstance(part, NativeToolReturnPart)
                and part.provider_name == PROVIDER_NAME
                and part.tool_name == "code_execution"
            ):
                result: JSON = {
                    "toolUseId": part.tool_call_id,
                    "content": [{"json": part.content}],
                    "type": "nova_code_interpreter_result",
                }
                details = part.provider_details if isinstance(part.provider_details, dict) else {}  # pyright: ignore[reportUnnecessaryIsInstance]
                if "status" in details:
                    result["status"] = details["status"]
                content.append({"toolResult": result})
            # file, compaction and other parts are not sent back to Bedrock (as 2.68)
        if carried:
            previous: JSONContent = (
                self.messages[-1]["content"] if self.messages and self.messages[-1]["role"] == "user" else []
            )
            if previous and "cachePoint" in previous[-1]:
                # keep a user's trailing cache point last, where it was put
                self.messages[-1] = {"role": "user", "content": [*previous[:-1], *carried, previous[-1]]}
            else:
                self.messages.append({"role": "user", "content": carried})
        if content:
            self.messages.append({"role": "assistant", "content": content})

    def thinking(
        self, part: ThinkingPart, message: ModelResponse, content: JSONContent, carried: JSONContent
    ) -> None:
        """A thinking part as a signed reasoning block, or as text where it cannot be one: in its own turn
        with the model's thinking tags, or (Claude, which copies what it sees in its own turns) carried into
        a following user turn."""
        if (
            part.signature
            and self.profile.send_back_thinking
            and self.accepts_artifact(message, part.provider_name)
        ):
            if part.id in ("redacted_content", "redacted_thinking"):
                content.append({"reasoningContent": {"redactedContent": part.signature.encode("utf-8")}})
            else:
                content.append(
                    {
                        "reasoningContent": {
                            "reasoningText": {"text": part.content, "signature": part.signature}
                        }
                    }
                )
        elif self.profile.is_claude:
            if part.content:
                carried.append({"text": f"<assistant_thinking>\n{part.content}\n</assistant_thinking>"})
        else:
            content.append({"text": f"<think>\n{part.content}\n</think>"})

    def accepts_artifact(self, message: ModelResponse, provider_name: str | None) -> bool:
        """Whether signed data from ``provider_name`` in ``message`` can be verified by this model.

        2.68's rule: the data's canonical system is the model's, or it comes from ``bedrock`` by name.
        """
        if provider_name is None:
            return False
        if provider_name == message.provider_name and message.canonical_system is not None:
            system, from_name = message.canonical_system, False
        else:
            system, from_name = provider_name, True
        canonical = "anthropic" if self.profile.is_claude else PROVIDER_NAME
        return system == canonical or (from_name and provider_name == PROVIDER_NAME)


def _merge_user_turns(messages: list[JSON], colocatable: frozenset[MediaKind]) -> list[JSON]:
    """Consecutive user turns merged into one, unless a ``toolResult`` would share a turn with content the
    model rejects next to it: then a ``.`` assistant turn keeps them apart (Bedrock re-merges same-role
    turns)."""
    out: list[JSON] = []
    last: JSON | None = None
    for message in messages:
        if last is not None and message["role"] == "user" and last["role"] == "user":
            merged = [*last["content"], *message["content"]]
            has_result = any("toolResult" in b for b in merged)
            blocked = any(
                "toolResult" not in b and "cachePoint" not in b and next(iter(b)) not in colocatable
                for b in merged
            )
            if not (has_result and blocked):
                last["content"] = merged
                continue
            out.append({"role": "assistant", "content": [{"text": "."}]})
        message = {"role": message["role"], "content": list(message["content"])}
        out.append(message)
        last = message
    return out


#: Content blocks Bedrock's cache lookback reliably spans back from a breakpoint (2.68's figure).
_LOOKBACK_SAFE_BLOCKS: Final = 18


def _previous_tail(messages: list[JSON]) -> int | None:
    """The message that ended the previous request, when the new breakpoint is out of its lookback.

    The previous request put its automatic breakpoint at the end of its last user-side message; with
    more than the lookback's worth of blocks after it, that message gets a breakpoint of its own (as
    2.68), so the earlier cache write stays reachable.
    """
    roles = [m["role"] for m in messages]
    last_assistant = next((i for i in range(len(roles) - 1, -1, -1) if roles[i] == "assistant"), None)
    if last_assistant is None or last_assistant == len(roles) - 1:
        return None
    previous = next((i for i in range(last_assistant - 1, -1, -1) if roles[i] != "assistant"), None)
    if previous is None or sum(len(m["content"]) for m in messages[previous + 1 :]) < _LOOKBACK_SAFE_BLOCKS:
        return None
    return previous


def _has_cited_document(value: object) -> bool:
    """Whether the messages hold a document block with citations on (tool results included)."""
    if (items := json_array(value)) is not None:
        return any(_has_cited_document(item) for item in items)
    if (obj := json_dict(value)) is not None:
        document = json_dict(obj.get("document"))
        if document is not None and "citations" in document:
            return True
        return any(_has_cited_document(item) for item in obj.values())
    return False


def _has_tool_blocks(messages: list[JSON]) -> bool:
    return any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])


def _thinking_level(settings: Mapping[str, Any], params: ModelRequestParameters) -> object:
    return settings.get("thinking", params.thinking)


def _thinking_type(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: BedrockProfile
) -> Literal["adaptive", "enabled"] | None:
    """How the request will think (``'adaptive'``, ``'enabled'``) or None, as 2.68's guards see it."""
    fields = settings.get("bedrock_additional_model_requests_fields")
    if profile.is_claude and isinstance(fields, Mapping) and "thinking" in fields:
        config = cast(Mapping[str, Any], fields)["thinking"]
        kind = (json_dict(config) or {}).get("type")
        return kind if kind in ("adaptive", "enabled") else None
    level = _thinking_level(settings, params)
    if level:
        return "adaptive" if profile.is_claude and profile.adaptive_thinking else "enabled"
    if profile.is_claude and (level is None or profile.thinking_always) and profile.thinking_by_default:
        return "adaptive"
    return None


_FORCING_UNSUPPORTED: Final = (
    "This model does not support forcing tool use. Use `tool_choice='auto'` instead."
)


def _forcing_supported(
    model_id: str, settings: Mapping[str, Any], params: ModelRequestParameters, profile: BedrockProfile
) -> bool:
    """Whether to send a forced ``toolChoice``, as 2.68 decides.

    A forced choice resolved from the output type falls back to ``auto`` where forcing is unavailable (no
    tool choice on the model, or extended thinking); an explicit forcing ``tool_choice`` raises instead. On
    Claude, forcing turns adaptive thinking off, so only an explicit one is sent then.

    Raises:
        UserError: ``tool_choice`` explicitly forces a tool where the model or the request cannot.
    """
    thinking = _thinking_type(settings, params, profile)
    reason: str | None = None
    if not profile.supports_tool_choice or not profile.forced_tool_choice:
        reason = _FORCING_UNSUPPORTED
    elif thinking == "enabled" and profile.thinking_variant not in ("xai", "openai_responses"):
        if not profile.is_claude:
            reason = (
                "Bedrock doesn't support forcing tool use with thinking enabled for this model. "
                "Disable thinking or use `tool_choice='auto'`."
            )
        else:
            reason = (
                "Extended thinking doesn't support forcing tool use. Disable thinking or use "
                "`tool_choice='auto'`."
            )
            if profile.adaptive_thinking:
                reason += (
                    " Alternatively, `bedrock_additional_model_requests_fields="
                    "{'thinking': {'type': 'adaptive'}}` supports forcing."
                )
    explicit = settings.get("tool_choice")
    explicit_forcing = explicit == "required" or (isinstance(explicit, list) and explicit != [])
    if reason is not None:
        if explicit_forcing:
            raise UserError(f"tool_choice={explicit!r} is not supported by model {model_id!r}. {reason}")
        return False
    return explicit_forcing or not (thinking == "adaptive" and profile.is_claude)


def _tool_declarations(
    model_id: str, settings: Mapping[str, Any], params: ModelRequestParameters, profile: BedrockProfile
) -> tuple[list[ToolDefinition], JSON | None] | None:
    """The tools to declare and the ``toolChoice``; None for ``tool_choice='none'``."""
    resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
    tools = [*params.function_tools, *params.output_tools]
    forcing = _forcing_supported(model_id, settings, params, profile)
    if resolved == "auto":
        return tools, {"auto": {}}
    if resolved == "required":
        return tools, {"any": {}} if forcing else {"auto": {}}
    if resolved == "none":
        return None
    mode, names = resolved
    if mode == "required" and len(names) == 1 and forcing:
        return tools, {"tool": {"name": next(iter(names))}}
    kept = [t for t in tools if t.name in names]
    return kept, {"auto": {}} if mode == "auto" or not forcing else {"any": {}}


def _tool_spec(tool: ToolDefinition, profile: BedrockProfile) -> JSON:
    strict = bool(tool.strict) and profile.strict_tools
    spec: JSON = {
        "name": tool.name,
        "inputSchema": {
            "json": transform_tool_schema(
                tool.parameters_json_schema, profile.schema_transform, strict=strict
            )
        },
    }
    if tool.description:
        spec["description"] = tool.description
    if strict:
        spec["strict"] = True
    return {"toolSpec": spec}


def _tool_config(
    model_id: str,
    settings: Mapping[str, Any],
    params: ModelRequestParameters,
    profile: BedrockProfile,
    messages: list[JSON],
) -> JSON | None:
    declared = _tool_declarations(model_id, settings, params, profile)
    if declared is None:
        if not _has_tool_blocks(messages):
            return None
        tools, choice = [*params.function_tools, *params.output_tools], None
    else:
        tools, choice = declared
    specs = [_tool_spec(t, profile) for t in tools]
    for tool in params.native_tools:
        kind = getattr(tool, "kind", None)
        if kind == "code_execution" and profile.code_execution:
            specs.append({"systemTool": {"name": "nova_code_interpreter"}})
        else:
            raise UserError(
                f"Bedrock does not support the native tool {kind or type(tool).__name__!r} for this model"
            )
    if not specs:
        return None
    cache_tools = settings.get("bedrock_cache_tool_definitions")
    if cache_tools and profile.tool_caching:
        specs.append(_cache_point(cache_tools))
    config: JSON = {"tools": specs}
    if choice is not None and profile.supports_tool_choice:
        config["toolChoice"] = choice
    return config


def _additional_fields(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: BedrockProfile, messages: list[JSON]
) -> JSON | None:
    """``additionalModelRequestFields``: the user's, plus unified ``top_k`` and ``thinking`` and Claude's
    ``none`` tool choice."""
    fields: JSON = dict(settings.get("bedrock_additional_model_requests_fields") or {})
    top_k = settings.get("top_k")
    if top_k is not None:
        if profile.top_k_variant == "anthropic" and "top_k" not in fields:
            fields["top_k"] = top_k
        elif profile.top_k_variant == "nova":
            inference = json_dict(fields.get("inferenceConfig") or {})
            if inference is not None and "topK" not in inference:
                fields["inferenceConfig"] = {**inference, "topK": top_k}
    if (
        profile.tool_choice_none_variant == "anthropic"
        and "tool_choice" not in fields
        and (params.function_tools or params.output_tools)
        and resolve_tool_choice(cast(ModelSettings, settings), params) == "none"
        and _has_tool_blocks(messages)
    ):
        fields["tool_choice"] = {"type": "none"}
    level = _thinking_level(settings, params)
    if level is not None:
        _thinking_fields(fields, level, profile)
    return fields or None


def _thinking_fields(fields: JSON, level: object, profile: BedrockProfile) -> None:
    variant = profile.thinking_variant
    if variant == "anthropic":
        if "thinking" in fields:
            return
        if not profile.adaptive_thinking:
            if level is False:
                fields["thinking"] = {"type": "disabled"}
            else:
                budget = _THINKING_BUDGETS.get(level)
                if budget is None:
                    raise UserError(f"unknown thinking level {level!r}")
                fields["thinking"] = {"type": "enabled", "budget_tokens": budget}
        elif level is not False:
            fields["thinking"] = {"type": "adaptive"}
            if profile.effort and isinstance(level, str) and "output_config" not in fields:
                if level == "xhigh" and profile.xhigh_effort:
                    effort = "xhigh"
                else:
                    effort = _ANTHROPIC_EFFORTS[level]
                    if effort == "max" and not profile.max_effort:
                        effort = "xhigh" if profile.xhigh_effort else "high"
                fields["output_config"] = {"effort": effort}
        elif profile.thinking_always:
            if profile.effort:
                fields["thinking"] = {"type": "adaptive"}
                fields.setdefault("output_config", {"effort": "low"})
        elif profile.thinking_by_default:
            fields["thinking"] = {"type": "disabled"}
    elif variant in _EFFORT_MAPS:
        if "reasoning_effort" not in fields:
            fields["reasoning_effort"] = _EFFORT_MAPS[variant][level]
    elif variant == "openai_responses":
        if "reasoning" not in fields:
            effort = "low" if level is False and profile.thinking_always else _OPENAI_EFFORTS[level]
            fields["reasoning"] = {"effort": effort}
    elif variant == "qwen":
        if "reasoning_config" not in fields:
            fields["reasoning_config"] = _QWEN_REASONING[level]
    elif variant == "xai" and "reasoning" not in fields:
        fields["reasoning"] = {"effort": _GROK_EFFORTS[level]}


def _add_auto_cache_point(content: JSONContent, point: JSON, profile: BedrockProfile) -> None:
    if profile.document_cache_point_variant == "anthropic":
        if _stays_in_place(content[-1]):
            content.append(point)
            return
        start = len(content)
        while start > 0 and "document" in content[start - 1] and not _stays_in_place(content[start - 1]):
            start -= 1
        if (
            0 < start < len(content)
            and not _stays_in_place(content[start - 1])
            and not any("cachePoint" in b for b in content)
        ):
            content[start - 1 :] = [*content[start:], content[start - 1], point]
            return
    _insert_cache_point(content, point)


_TTL_ORDER: Final = {"5m": 0, "1h": 1}


def _limit_and_order_cache_points(system: JSONContent, messages: list[JSON], tools: JSONContent) -> None:
    """At most four cache points (the oldest message ones go first), and no TTL shorter than a later one."""
    reserved = sum(1 for b in system if "cachePoint" in b) + sum(1 for t in tools if "cachePoint" in t)
    if reserved > 4:
        raise UserError(
            f"Too many cache points for Bedrock request: the system prompt and tool definitions already use "
            f"{reserved} of the 4 allowed."
        )
    message_points = [(m, b) for m in messages for b in m["content"] if "cachePoint" in b]
    excess = len(message_points) - (4 - reserved)
    if excess > 0:
        drop = {id(b) for _, b in message_points[:excess]}
        for message in messages:
            message["content"] = [b for b in message["content"] if id(b) not in drop]
    carriers = [b for b in [*tools, *system] if "cachePoint" in b]
    carriers += [b for m in messages for b in m["content"] if "cachePoint" in b]
    longest = 0
    for carrier in reversed(carriers):
        ttl = carrier["cachePoint"].get("ttl", "5m")
        rank = _TTL_ORDER.get(ttl, 0)
        if rank < longest:
            carrier["cachePoint"] = {**carrier["cachePoint"], "ttl": "1h"}
        longest = max(longest, rank)


def _prepared_history(messages: Sequence[ModelMessage]) -> tuple[list[ModelMessage], bool]:
    """Tool results first in each request that follows a response, in the order of the calls (as 2.68's
    ``prepare_messages``); and whether a tool-less retry puts feedback on the user channel."""
    out: list[ModelMessage] = []
    previous: ModelMessage | None = None
    framed = False
    for message in messages:
        if isinstance(message, ModelRequest):
            parts = list(message.parts)
            framed = framed or any(isinstance(p, RetryPromptPart) and p.tool_name is None for p in parts)
            if isinstance(previous, ModelResponse):

                def answers(p: object) -> bool:
                    return isinstance(p, ToolReturnPart) or (
                        isinstance(p, RetryPromptPart) and p.tool_name is not None
                    )

                order: dict[str, int] = {}
                for call in previous.parts:
                    if isinstance(call, ToolCallPart):
                        order.setdefault(call.tool_call_id, len(order))
                results = sorted(
                    (p for p in parts if answers(p)),
                    key=lambda p: order.get(
                        cast(ToolReturnPart | RetryPromptPart, p).tool_call_id, len(order)
                    ),
                )
                parts = [*results, *(p for p in parts if not answers(p))]
                message = attrs.evolve(message, parts=parts)
        out.append(message)
        previous = message
    return out, framed


def prepare_settings(
    model_id: str, settings: ModelSettings, params: ModelRequestParameters, profile: BedrockProfile
) -> ModelSettings:
    """The settings as 2.68's ``prepare_request`` leaves them: ``max_tokens`` capped at the model's most,
    sampling settings dropped (with a warning) for models that reject them, unified cache translated."""
    out: dict[str, Any] = dict(settings)
    if profile.max_output_tokens and isinstance(out.get("max_tokens"), int):
        out["max_tokens"] = min(out["max_tokens"], profile.max_output_tokens)
    if profile.disallows_sampling:
        dropped = [k for k in _SAMPLING if k in out]
        for key in dropped:
            del out[key]
        if dropped:
            warnings.warn(
                f"Sampling parameters {dropped} are not supported by {model_id!r}. "
                "These settings will be ignored.",
                UserWarning,
                stacklevel=4,
            )
    return cast(ModelSettings, out)


def build_converse_request(
    model_id: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings,
    params: ModelRequestParameters,
    profile: BedrockProfile,
) -> JSON:
    """The Converse / ConverseStream JSON body (without ``modelId``, which goes in the path).

    Raises:
        UserError: content Bedrock cannot take (audio, an unsupported format, a URL that would need a
            download), misplaced cache points, an impossible tool choice.
    """
    s = cast(Mapping[str, Any], settings)
    has_retry = any(
        isinstance(p, RetryPromptPart) for m in messages if isinstance(m, ModelRequest) for p in m.parts
    )
    # 2.68's direct API runs `prepare_messages` (tool results first, in call order) only for a history
    # that holds a retry.
    prepared, framed = _prepared_history(messages) if has_retry else (list(messages), False)
    citations = bool(s.get("citations")) and profile.citations and params.output_mode == "text"
    mapper = _Mapper(profile, citations)
    for message in prepared:
        if isinstance(message, ModelRequest):
            mapper.request(message)
        else:
            mapper.flush_deferred()
            mapper.response(message)
    mapper.flush_deferred()
    system = mapper.system
    bedrock_messages = _merge_user_turns(mapper.messages, profile.colocatable)

    instructions = request_instructions(messages, params)
    for part in instructions:
        system.append({"text": part.content})
    if framed and system:
        system.insert(0, {"text": SYSTEM_BLOCKS_ANNOUNCEMENT})
    cache_instructions = s.get("bedrock_cache_instructions")
    if system and cache_instructions and profile.prompt_caching:
        dynamic = sum(1 for p in instructions if p.dynamic)
        boundary = len(system) - dynamic
        if boundary > 0:
            system.insert(boundary, _cache_point(cache_instructions))
    cache_messages = s.get("bedrock_cache_messages")
    if cache_messages and profile.prompt_caching and bedrock_messages:
        previous = _previous_tail(bedrock_messages)
        if previous is not None and "cachePoint" not in (tail := bedrock_messages[previous]["content"])[-1]:
            _add_auto_cache_point(tail, _cache_point(cache_messages), profile)
        users = [m for m in bedrock_messages if m["role"] == "user"]
        if users and users[-1]["content"] and "cachePoint" not in users[-1]["content"][-1]:
            _add_auto_cache_point(users[-1]["content"], _cache_point(cache_messages), profile)

    if citations and _has_cited_document(bedrock_messages):
        choice = resolve_tool_choice(settings, params)
        if choice == "required" or (isinstance(choice, tuple) and choice[0] == "required"):
            raise UserError(
                "`Citations()` can't be used with a `tool_choice` that forces a tool call on Anthropic "
                "models: the model writes its citation markup into the tool's arguments. "
                "Remove `Citations()`, or let the model choose whether to call the tool."
            )

    if not bedrock_messages or (bedrock_messages[0]["role"] != "user" and not profile.leading_assistant_ok):
        # Converse needs a first user turn; several models reject whitespace-only text.
        bedrock_messages.insert(0, {"role": "user", "content": [{"text": "."}]})

    inference: JSON = {}
    if max_tokens := s.get("max_tokens"):
        inference["maxTokens"] = max_tokens
    elif profile.max_output_tokens:
        inference["maxTokens"] = profile.max_output_tokens
    if (temperature := s.get("temperature")) is not None:
        inference["temperature"] = temperature
    if (top_p := s.get("top_p")) is not None:
        inference["topP"] = top_p
    if stop := s.get("stop_sequences"):
        inference["stopSequences"] = stop

    body: JSON = {"messages": bedrock_messages, "system": system, "inferenceConfig": inference}
    tool_config = _tool_config(model_id, s, params, profile, bedrock_messages)
    if tool_config:
        body["toolConfig"] = tool_config
    _limit_and_order_cache_points(system, bedrock_messages, tool_config["tools"] if tool_config else [])
    if params.output_mode == "native" and params.output_object is not None:
        output = params.output_object
        schema_config: JSON = {
            "name": output.name or "final_result",
            "schema": orjson.dumps(
                transform_tool_schema(output.json_schema, profile.schema_transform, strict=True)
            ).decode(),
        }
        if output.description:
            schema_config["description"] = output.description
        body["outputConfig"] = {
            "textFormat": {"type": "json_schema", "structure": {"jsonSchema": schema_config}}
        }
    if guardrail := s.get("bedrock_guardrail_config"):
        body["guardrailConfig"] = dict(guardrail)
    if performance := s.get("bedrock_performance_configuration"):
        body["performanceConfig"] = dict(performance)
    if metadata := s.get("bedrock_request_metadata"):
        body["requestMetadata"] = dict(metadata)
    if paths := s.get("bedrock_additional_model_response_fields_paths"):
        body["additionalModelResponseFieldPaths"] = list(paths)
    if variables := s.get("bedrock_prompt_variables"):
        body["promptVariables"] = dict(variables)
    if tier := s.get("bedrock_service_tier"):
        body["serviceTier"] = dict(tier)
    elif (unified := s.get("service_tier")) and unified != "auto":
        body["serviceTier"] = {"type": unified}
    if extra := _additional_fields(s, params, profile, bedrock_messages):
        body["additionalModelRequestFields"] = extra
    return body


def _json_default(value: object) -> object:
    # Converse's `bytes` fields (images, documents, redacted reasoning) travel as base64 in JSON.
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot send {type(value).__name__} to Bedrock")


def encode_body(body: JSON) -> bytes:
    """The request body bytes (``bytes`` values as base64, as botocore sends blobs)."""
    return orjson.dumps(body, default=_json_default)


# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "content_filtered": "content_filter",
    "end_turn": "stop",
    "guardrail_intervened": "content_filter",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
    "tool_use": "tool_call",
}


def map_usage(usage: object) -> RequestUsage:
    """Converse ``usage`` → :class:`RequestUsage` (input tokens include cache reads and writes, as 2.68)."""
    data = json_dict(usage) or {}

    def tokens(key: str) -> int:
        value = data.get(key)
        return value if type(value) is int else 0

    read, write = tokens("cacheReadInputTokens"), tokens("cacheWriteInputTokens")
    # `cacheDetails` splits the cache writes by TTL: 1-hour writes have their own counter, 5-minute ones
    # are the ad-hoc `cache_write_5m_tokens` pydantic-ai (through genai-prices) adds.
    by_ttl: dict[str, int] = {}
    for entry in json_list(data.get("cacheDetails")):
        detail = json_dict(entry) or {}
        ttl, count = detail.get("ttl"), detail.get("inputTokens")
        if isinstance(ttl, str) and type(count) is int:
            by_ttl[ttl] = by_ttl.get(ttl, 0) + count
    extra: dict[str, Any] = {}
    if "5m" in by_ttl:
        extra["cache_write_5m_tokens"] = by_ttl["5m"]
    return RequestUsage(
        input_tokens=tokens("inputTokens") + read + write,
        output_tokens=tokens("outputTokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=by_ttl.get("1h", 0),
        extra=extra,
    )


def _citation_source(citation: JSON) -> JSON | None:
    title = citation.get("title")
    excerpts = [
        text
        for content in json_list(citation.get("sourceContent"))
        if isinstance(text := (json_dict(content) or {}).get("text"), str) and text
    ]
    url = (json_dict((json_dict(citation.get("location")) or {}).get("web")) or {}).get("url")
    if isinstance(url, str) and url:
        return {"url": url, "title": title, "excerpts": excerpts, "kind": "web"}
    if not (title or excerpts):
        return None
    # where in the document stays in the raw citation (provider_details)
    return {"document_id": None, "title": title, "excerpts": excerpts, "kind": "document"}


def map_citations(citations: Sequence[Any], text: str) -> list[JSON] | None:
    """Bedrock citations → pydantic-ai's ``Citation`` JSON (one covering the whole block), or None."""
    sources = [src for raw in citations if (c := json_dict(raw)) is not None and (src := _citation_source(c))]
    if not sources:
        return None
    anchor = {"start": 0, "end": len(text), "kind": "content"} if text else None
    return [{"sources": sources, "anchor": anchor}]


def _redacted_signature(value: object) -> str:
    # Converse sends `redactedContent` as a base64 blob; 2.68 keeps its bytes as UTF-8 text.
    if not isinstance(value, str):
        raise TypeError("redactedContent must be a base64 string")
    return base64.b64decode(value).decode("utf-8")


def _reasoning_part(reasoning: JSON) -> ThinkingPart | None:
    if redacted := reasoning.get("redactedContent"):
        return ThinkingPart(
            "", id="redacted_content", signature=_redacted_signature(redacted), provider_name=PROVIDER_NAME
        )
    text = json_dict(reasoning.get("reasoningText"))
    if text:
        signature = text.get("signature")
        return ThinkingPart(
            str(text["text"]),
            signature=signature if isinstance(signature, str) else None,
            provider_name=PROVIDER_NAME if signature else None,
        )
    return None


def _code_execution_call(tool_use: JSON) -> NativeToolCallPart:
    return NativeToolCallPart(
        "code_execution",
        cast(dict[str, Any], tool_use.get("input")),
        str(tool_use["toolUseId"]),
        provider_name=PROVIDER_NAME,
    )


def _code_execution_return(tool_use_id: str, content: object, status: object) -> NativeToolReturnPart:
    items = json_list(content)
    first = json_dict(items[0]) if items else None
    return NativeToolReturnPart(
        "code_execution",
        first.get("json") if first else None,
        tool_use_id,
        provider_name=PROVIDER_NAME,
        provider_details={"status": status} if status is not None else {},
    )


def parse_converse_response(
    data: Any, *, model_name: str, provider_url: str | None, profile: BedrockProfile, response_id: str | None
) -> ModelResponse:
    """A Converse response body (parsed JSON) → :class:`ModelResponse`, as 2.68 maps it.

    Raises:
        ModelAPIError: the body has no ``output``.
        KeyError, TypeError, ValueError: the body has the wrong shape (the caller quotes it).
    """
    if not isinstance(data, dict) or "output" not in data:
        raise ModelAPIError(model_name, "Response has no 'output' field")
    body = cast(JSON, data)
    parts: list[ModelResponsePart] = []
    message = json_dict(cast(JSON, body["output"]).get("message"))
    for raw in json_list(message.get("content")) if message else []:
        item = json_dict(raw)
        if item is None:
            continue
        if (reasoning := json_dict(item.get("reasoningContent"))) and (
            part := _reasoning_part(reasoning)
        ) is not None:
            parts.append(part)
        if text := item.get("text"):
            parts.append(TextPart(str(text)))
        elif cited := json_dict(item.get("citationsContent")):
            joined = "".join(
                str(c.get("text", "")) for c in (json_dict(x) or {} for x in json_list(cited.get("content")))
            )
            raw_citations = json_list(cited.get("citations"))
            citations = map_citations(raw_citations, joined)
            # a block without text makes no part: there is nothing to cite
            if joined:
                parts.append(
                    TextPart(
                        joined,
                        provider_name=PROVIDER_NAME if citations else None,
                        provider_details={"citations": raw_citations} if citations else None,
                        citations=citations,
                    )
                )
        elif tool_use := json_dict(item.get("toolUse")):
            if tool_use.get("type") == "server_tool_use":
                if tool_use.get("name") == "nova_code_interpreter":
                    parts.append(_code_execution_call(tool_use))
            else:
                parts.append(
                    ToolCallPart(
                        str(tool_use["name"]),
                        cast(dict[str, Any], tool_use.get("input")),
                        str(tool_use["toolUseId"]),
                    )
                )
        elif (tool_result := json_dict(item.get("toolResult"))) and tool_result.get(
            "type"
        ) == "nova_code_interpreter_result":
            parts.append(
                _code_execution_return(
                    str(tool_result.get("toolUseId")),
                    tool_result.get("content"),
                    tool_result.get("status"),
                )
            )
    stop_reason = body.get("stopReason")
    details: JSON = {"finish_reason": stop_reason}
    if "trace" in body:
        details["trace"] = body["trace"]
    return ModelResponse(
        parts,
        usage=map_usage(body.get("usage")),
        model_name=model_name,
        provider_response_id=response_id,
        provider_name=PROVIDER_NAME,
        provider_url=provider_url,
        canonical_system="anthropic" if profile.is_claude else None,
        finish_reason=FINISH_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None,
        provider_details=details,
    )


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------

_CONTEXT_WINDOW_MESSAGES: Final = ("input is too long", "input tokens exceeded", "prompt is too long")
#: The status Bedrock documents for each exception event of a stream.
_STREAM_EXCEPTION_STATUS: Final = {
    "throttlingexception": 429,
    "serviceunavailableexception": 503,
    "internalserverexception": 500,
    "validationexception": 400,
    "modelstreamerrorexception": 424,
    "modeltimeoutexception": 408,
}
_INVALID_MODEL_MESSAGE: Final = "The provided model identifier is invalid."
_DATA_RETENTION_HINT: Final = (
    "Bedrock rejected this model under the account's data retention mode for this Region. Models that "
    "require human review need the account's data retention mode set to `aws_review` (or the legacy "
    "`provider_data_share`) with the Bedrock control plane's `PutAccountDataRetention` API, as it can't be "
    "set per request. See https://docs.aws.amazon.com/bedrock/latest/userguide/data-retention.html"
)


def code_category(code: str | None, message: object) -> type[ModelAPIError] | None:
    """The category 2.68 gives a Bedrock error code (case-insensitive), or None."""
    match (code or "").lower():
        case "throttlingexception":
            return ModelRateLimitError
        case "servicequotaexceededexception":
            return ModelQuotaExceededError
        case "modelstreamerrorexception":
            return ModelServerError
        case "serviceunavailableexception" | "modelnotreadyexception":
            return ModelOverloadedError if says_overloaded(message) else ModelUnavailableError
        case "mpagreementbeingcreated":
            return ModelUnavailableError
        case "validationexception" if isinstance(message, str) and any(
            m in message.lower() for m in _CONTEXT_WINDOW_MESSAGES
        ):
            return ModelContextWindowExceededError
        case (
            "accessdeniedexception"
            | "unrecognizedclientexception"
            | "invalidsignatureexception"
            | "expiredtokenexception"
            | "expiredtoken"
        ):
            return ModelAuthenticationError
        case "resourcenotfoundexception":
            return ModelNotFoundError
        case _:
            return None


def _error_code(headers: Mapping[str, str], parsed: object, status: int) -> str:
    # botocore's order: the `x-amzn-ErrorType` header (`Code:uri`), the body's `__type` (`ns#Code`),
    # its `code`; else the status.
    header = headers.get("x-amzn-errortype") or headers.get("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0]
    body = json_dict(parsed) or {}
    for key in ("__type", "code", "Code"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return value.rsplit("#", 1)[-1]
    return str(status)


def http_error(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    model_name: str,
    *,
    suggest_prefix: str = PROVIDER_NAME,
) -> ModelHTTPError:
    """The categorized error 2.68 raises for a Bedrock 4xx/5xx.

    The body 2.68 exposes is botocore's: ``{'Error': {'Message', 'Code'}, 'ResponseMetadata': {...}}``.
    """
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = body.decode("utf-8", "replace")[:2000]
    fields = json_dict(parsed) or {}
    raw_message = fields.get("message", fields.get("Message"))
    message = raw_message if isinstance(raw_message, str) else (parsed if isinstance(parsed, str) else "")
    code = _error_code(headers, parsed, status)
    lowered = {k.lower(): v for k, v in headers.items()}
    metadata: JSON = {"HTTPStatusCode": status, "HTTPHeaders": lowered}
    if request_id := lowered.get("x-amzn-requestid"):
        metadata = {"RequestId": request_id, **metadata}
    error_body: JSON = {"Error": {"Message": message, "Code": code}, "ResponseMetadata": metadata}
    category = code_category(code, message)
    suggested = None
    if message == _INVALID_MODEL_MESSAGE:
        category = ModelNotFoundError
        suggested = suggest_model(suggest_prefix, model_name)
    hint = _DATA_RETENTION_HINT if "data retention mode" in message.lower() else None
    return ModelHTTPError.for_category(
        category or http_status_category(status, message),
        status_code=status,
        model_name=model_name,
        body=error_body,
        headers=headers,
        suggested_model_id=suggested,
        hint=hint,
        provider_error_code=code,
    )


def stream_exception(message: EventStreamMessage, model_name: str) -> ModelAPIError:
    """The error for an ``exception`` (or ``error``) message inside a ConverseStream body, as 2.68 raises it:
    with the status Bedrock documents for that exception, ``in_stream=True``."""
    headers = message.headers
    code_value = headers.get(":exception-type") or headers.get(":error-code")
    code = code_value if isinstance(code_value, str) else None
    try:
        payload: object = orjson.loads(message.payload) if message.payload else None
    except orjson.JSONDecodeError:
        payload = message.payload.decode("utf-8", "replace")
    fields = json_dict(payload) or {}
    raw_text = fields.get("message", fields.get("Message", headers.get(":error-message")))
    text = raw_text if isinstance(raw_text, str) else ""
    body: JSON = {"Error": {"Message": text, "Code": code}}
    if "originalStatusCode" in fields:
        body["originalStatusCode"] = fields["originalStatusCode"]
    category = code_category(code, text)
    status = _STREAM_EXCEPTION_STATUS.get((code or "").lower())
    if status is not None:
        return ModelHTTPError.for_category(
            category or http_status_category(status, text),
            status_code=status,
            model_name=model_name,
            body=body,
            provider_error_code=code,
            in_stream=True,
        )
    error_class = category or ModelAPIError
    return error_class(
        model_name,
        f"An error occurred ({code}) when calling the ConverseStream operation: {text}",
        body=body,
        provider_error_code=code,
        in_stream=True,
    )


# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


class ConverseStreamMapper:
    """ConverseStream event-stream messages → raw part events (one content block index = one part).

    ``exception`` messages raise the categorized error (:func:`stream_exception`); payloads of the wrong
    shape raise :class:`UnexpectedModelBehavior`. Unknown event types are ignored, as botocore does.
    """

    __slots__ = ("_citations", "_model_name", "_parts", "_profile", "_returns", "_seen", "_tool_ids", "meta")

    def __init__(
        self,
        parts: PartsManager,
        *,
        model_name: str,
        provider_url: str | None,
        profile: BedrockProfile,
        response_id: str | None = None,
    ) -> None:
        self._parts = parts
        self._profile = profile
        self._model_name = model_name
        self._tool_ids: dict[int, str] = {}
        self._returns: dict[int, NativeToolReturnPart] = {}
        self._citations: dict[int, list[Any]] = {}
        self._seen = False
        self.meta = StreamMeta(
            model_name=model_name,
            provider_name=PROVIDER_NAME,
            provider_url=provider_url,
            provider_response_id=response_id,
            canonical_system="anthropic" if profile.is_claude else None,
        )

    def feed(self, message: EventStreamMessage, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one event-stream message.

        Raises:
            ModelHTTPError: an exception message (``in_stream=True``), or ``ModelAPIError`` for an
                unknown exception type.
            UnexpectedModelBehavior: an event whose payload is not JSON of the event's shape.
        """
        kind = message.message_type
        if kind in ("exception", "error"):
            self._seen = True
            raise stream_exception(message, self._model_name)
        if kind not in (None, "event"):
            return
        event = message.event_type
        try:
            parsed: object = orjson.loads(message.payload) if message.payload else {}
        except orjson.JSONDecodeError as exc:
            raise UnexpectedModelBehavior(
                f"could not decode the Bedrock stream event {event!r} as JSON ({exc})",
                message.payload[:2000].decode("utf-8", "replace"),
            ) from exc
        data = json_dict(parsed)
        if data is None:
            raise UnexpectedModelBehavior(
                f"the Bedrock stream event {event!r} is not a JSON object",
                message.payload[:2000].decode("utf-8", "replace"),
            )
        self._seen = True
        try:
            if event == "contentBlockDelta":
                self._delta(data, out)
            elif event == "contentBlockStart":
                self._start(data, out)
            elif event == "contentBlockStop":
                self._stop(data, out)
            elif event == "messageStop":
                reason = data.get("stopReason")
                details = {**(self.meta.provider_details or {}), "finish_reason": reason}
                self.meta = attrs.evolve(
                    self.meta,
                    provider_details=details,
                    finish_reason=FINISH_REASONS.get(reason) if isinstance(reason, str) else None,
                )
            elif event == "metadata":
                meta = self.meta
                if "usage" in data:
                    meta = attrs.evolve(meta, usage=map_usage(data["usage"]))
                if "trace" in data:
                    meta = attrs.evolve(
                        meta, provider_details={**(meta.provider_details or {}), "trace": data["trace"]}
                    )
                self.meta = meta
            # messageStart and unknown events carry nothing we keep
        except SHAPE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"could not understand the Bedrock stream event {event!r} ({type(exc).__name__}: {exc})",
                message.payload[:2000].decode("utf-8", "replace"),
            ) from exc

    def _start(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        start = cast(JSON, data["start"])
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        if tool_use := json_dict(start.get("toolUse")):
            tool_id = str(tool_use["toolUseId"])
            self._tool_ids[index] = tool_id
            name = tool_use["name"]
            if tool_use.get("type") != "server_tool_use":
                out += self._parts.handle_tool_call_delta(
                    vendor_part_id=index, tool_name=str(name), tool_call_id=tool_id
                )
            elif name == "nova_code_interpreter":
                part = NativeToolCallPart("code_execution", None, tool_id, provider_name=PROVIDER_NAME)
                out += self._parts.handle_part(vendor_part_id=index, part=part)
        elif (result := json_dict(start.get("toolResult"))) and result.get(
            "type"
        ) == "nova_code_interpreter_result":
            status = result.get("status")
            self._returns[index] = NativeToolReturnPart(
                "code_execution",
                None,
                str(result["toolUseId"]),
                provider_name=PROVIDER_NAME,
                provider_details={"status": status} if status is not None else {},
            )

    def _delta(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        delta = cast(JSON, data["delta"])
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        parts = self._parts
        if (reasoning := json_dict(delta.get("reasoningContent"))) is not None:
            if redacted := reasoning.get("redactedContent"):
                out += parts.handle_thinking_delta(
                    vendor_part_id=index,
                    id="redacted_content",
                    signature=_redacted_signature(redacted),
                    provider_name=PROVIDER_NAME,
                )
            else:
                signature = reasoning.get("signature")
                text = reasoning.get("text")
                out += parts.handle_thinking_delta(
                    vendor_part_id=index,
                    content=text if isinstance(text, str) else None,
                    signature=signature if isinstance(signature, str) else None,
                    provider_name=PROVIDER_NAME if signature else None,
                )
        text = delta.get("text")
        if text:
            out += parts.handle_text_delta(
                vendor_part_id=index,
                content=str(text),
                ignore_leading_whitespace=self._profile.ignore_leading_whitespace,
            )
        if (tool_use := json_dict(delta.get("toolUse"))) is not None:
            name = tool_use.get("name")
            args = tool_use.get("input")
            out += parts.handle_tool_call_delta(
                vendor_part_id=index,
                tool_name=name if isinstance(name, str) else None,
                args=args if isinstance(args, str) else json_dict(args),
                tool_call_id=self._tool_ids.get(index),
            )
        if (citation := json_dict(delta.get("citation"))) is not None:
            self._citations.setdefault(index, []).append(citation)
        if "toolResult" in delta and (pending := self._returns.get(index)) is not None:
            items = json_list(delta["toolResult"])
            if items:
                first = json_dict(items[0]) or {}
                self._returns[index] = attrs.evolve(pending, content=first.get("json"))

    def _stop(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        cited = self._citations.pop(index, [])
        part = self._parts.get_part_by_vendor_id(index)
        text = part.content if isinstance(part, TextPart) else ""
        if text and cited and (citations := map_citations(cited, text)):
            out += self._parts.handle_text_delta(
                vendor_part_id=index,
                content="",
                provider_name=PROVIDER_NAME,
                provider_details={"citations": cited},
                citations=citations,
            )
        if (returned := self._returns.pop(index, None)) is not None:
            out += self._parts.handle_part(vendor_part_id=index, part=returned)
        self._tool_ids.pop(index, None)

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended.

        Raises:
            UnexpectedModelBehavior: not a single event arrived.
        """
        del out
        if not self._seen:
            raise UnexpectedModelBehavior("the Bedrock stream ended without any event")


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class _Timeouts(TypedDict):
    connect: float
    read: float


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise UserError(f"{name}={value!r} is not a number of seconds") from None


class BedrockConverseModel(HTTPModel):
    """A model on Amazon Bedrock's Converse API.

    Args:
        model_name: a Bedrock model id or inference profile (``'us.amazon.nova-micro-v1:0'``), or an ARN.
        region_name: default ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile's region.
        aws_access_key_id, aws_secret_access_key, aws_session_token: SigV4 keys; default the AWS
            environment variables, then the shared credentials/config files.
        api_key: a Bedrock API key (``Authorization: Bearer``); default ``AWS_BEARER_TOKEN_BEDROCK``.
        profile_name: an AWS profile; default ``AWS_PROFILE``.
        base_url: the endpoint; default ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL``, else
            ``https://bedrock-runtime.{region}.amazonaws.com``.
        aws_read_timeout, aws_connect_timeout: inactivity limits; default ``AWS_READ_TIMEOUT`` (300 s) and
            ``AWS_CONNECT_TIMEOUT`` (60 s), as 2.68.
        config: a ready :class:`AWSConfig` instead of the arguments above.
        settings: default settings (:class:`BedrockModelSettings`).

    Raises:
        UserError: the model id cannot be one, the model is served only on Bedrock Mantle, or the
            credentials / region cannot be found (reads the AWS config files, no network).
    """

    def __init__(
        self,
        model_name: str,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        profile_name: str | None = None,
        base_url: str | None = None,
        aws_read_timeout: float | None = None,
        aws_connect_timeout: float | None = None,
        config: AWSConfig | None = None,
        settings: BedrockModelSettings | None = None,
    ) -> None:
        validate_model_id(model_name)
        profile = BedrockProfile.for_model(model_name)
        if not profile.on_converse:
            raise UserError(
                f"Model {model_name!r} is not served by the Bedrock Converse API. Use the `bedrock-mantle:` "
                "prefix to reach it through Bedrock Mantle's OpenAI-compatible API."
            )
        if config is None:
            config = resolve_aws_config(
                service_env_name="BEDROCK_RUNTIME",
                default_endpoint=DEFAULT_ENDPOINT,
                access_key_id=aws_access_key_id,
                secret_access_key=aws_secret_access_key,
                session_token=aws_session_token,
                bearer_token=api_key,
                bearer_env="AWS_BEARER_TOKEN_BEDROCK",
                region=region_name,
                profile=profile_name,
                endpoint_url=base_url,
            )
        if config.bearer_token is not None and not config.endpoint_url.lower().startswith("https://"):
            # as botocore: a long-lived API key never goes over plain HTTP (resolve_aws_config checks too)
            raise UserError(
                f"a Bedrock API key is sent only over HTTPS, but the endpoint is {config.endpoint_url!r}"
            )
        super().__init__(model_name, provider=Provider(PROVIDER_NAME, config.endpoint_url), settings=settings)
        self.aws = config
        self.profile = profile
        self._timeouts = _Timeouts(
            connect=aws_connect_timeout or _env_float("AWS_CONNECT_TIMEOUT", 60.0),
            read=aws_read_timeout or _env_float("AWS_READ_TIMEOUT", 300.0),
        )

    def __repr__(self) -> str:
        return f"BedrockConverseModel(model_name={self.model_name!r}, region={self.aws.region!r})"

    @property
    def system(self) -> str:
        return PROVIDER_NAME

    def customize_request_parameters(self, params: ModelRequestParameters) -> ModelRequestParameters:
        """Drop what the output mode does not use, as 2.68's ``prepare_request`` does; native output is
        always strict on Bedrock.

        Raises:
            UserError: native output on a model without structured output.
        """
        if params.output_tools and params.output_mode != "tool":
            params = attrs.evolve(params, output_tools=[])
        if params.output_object is not None and params.output_mode not in ("native", "prompted"):
            params = attrs.evolve(params, output_object=None)
        if params.output_mode == "native":
            if not self.profile.json_schema_output:
                raise UserError("Native structured output is not supported by this model.")
            if params.output_object is not None:
                params = attrs.evolve(params, output_object=attrs.evolve(params.output_object, strict=True))
        return params

    def _prepared_settings(self, settings: ModelSettings, params: ModelRequestParameters) -> ModelSettings:
        return prepare_settings(self._model_name, settings, params, self.profile)

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        """The signed Converse request (SigV4 over the exact bytes, or the bearer token).

        Raises:
            UserError: see :func:`build_converse_request`.
        """
        settings = self._prepared_settings(settings, params)
        body = encode_body(build_converse_request(self._model_name, messages, settings, params, self.profile))
        model_id = cast(Mapping[str, Any], settings).get("bedrock_inference_profile") or self._model_name
        url = converse_url(self.aws.endpoint_url, validate_model_id(str(model_id)), stream=stream)
        headers: dict[str, str] = {
            "content-type": "application/json",
            "accept": EVENTSTREAM_MEDIA_TYPE if stream else "application/json",
        }
        for name, value in (settings.get("extra_headers") or {}).items():
            if name.lower() not in ("authorization", "host", "x-amz-date", "x-amz-security-token"):
                headers[name] = value
        if self.aws.bearer_token is not None:
            headers["authorization"] = f"Bearer {self.aws.bearer_token}"
        else:
            credentials = self.aws.credentials
            if credentials is None and self.aws.credential_source is not None:
                credentials = self.aws.credential_source.current
            if credentials is None:
                raise UserError(
                    "the AWS credentials have not been looked up yet: send requests through "
                    "request() / request_stream(), which look them up first"
                )
            headers.update(
                sign_request(
                    method="POST",
                    url=url,
                    headers=headers,
                    body=body,
                    credentials=credentials,
                    region=self.aws.region,
                    service=SIGNING_SERVICE,
                    now=datetime.datetime.now(datetime.UTC),
                )
            )
        # The user agent is not signed (proxies rewrite it), so it goes on after signing.
        headers["user-agent"] = USER_AGENT
        timeout = None
        if settings.get("timeout") is None and settings.get("stream_inactivity_timeout") is None:
            # 2.68's botocore limits (AWS_READ_TIMEOUT / AWS_CONNECT_TIMEOUT); a `timeout` setting wins.
            timeout = httpx.Timeout(self._timeouts["read"], connect=self._timeouts["connect"], pool=None)
        return _http.HTTPRequest(url, body, headers, timeout=timeout)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(self._model_name, f"Failed to decode response as JSON: {exc}") from exc
        try:
            return parse_converse_response(
                data,
                model_name=self._model_name,
                provider_url=self.aws.endpoint_url,
                profile=self.profile,
                response_id=headers.get("x-amzn-requestid"),
            )
        except SHAPE_ERRORS as exc:
            text = body.decode("utf-8", "replace")
            raise UnexpectedModelBehavior(
                f"Invalid response from Bedrock Converse: {type(exc).__name__}: {exc}",
                text if len(text) <= 4000 else text[:4000] + "...(truncated)",
            ) from None

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> Any:
        """Not an SSE API: see :meth:`event_stream_mapper`.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("Bedrock streams are AWS event streams; use event_stream_mapper")

    def event_stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> ConverseStreamMapper:
        """A fresh mapper for one ConverseStream body (pure)."""
        del params, settings
        return ConverseStreamMapper(
            parts, model_name=self._model_name, provider_url=self.aws.endpoint_url, profile=self.profile
        )

    http_error = staticmethod(http_error)

    def _secrets(self) -> tuple[str, ...]:
        return self.aws.secrets()

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send one Converse request.

        Claude models asked for no ``max_tokens`` get their full output budget, which can take longer than
        the read timeout to generate: as 2.68, such a request is streamed behind the scenes and collected.

        Raises:
            ModelHTTPError: a 4xx/5xx (categorized as 2.68 does).
            ModelConnectionError: the endpoint could not be reached.
            UnexpectedModelBehavior: the reply could not be understood.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        if self.aws.credential_source is not None:
            await self.aws.credential_source.get()
        settings, _ = self.prepare_request(model_settings, model_request_parameters)
        if self.profile.max_output_tokens and not settings.get("max_tokens"):
            async with self.request_stream(messages, model_settings, model_request_parameters) as stream:
                async for _ in stream:
                    pass
                return stream.get()
        try:
            return await super().request(messages, model_settings, model_request_parameters)
        except TrioDirectError as exc:
            _http.redact_error(exc, self._secrets())
            raise

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        source = self.aws.credential_source
        if source is not None:
            return AfterLookup(
                source.get, lambda: self._open_stream(messages, model_settings, model_request_parameters)
            )
        return self._open_stream(messages, model_settings, model_request_parameters)

    def _open_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        request = self._with_timeout(
            self.build_request(messages, settings, params, stream=True),
            settings,
            read=settings.get("stream_inactivity_timeout"),
        )
        parts = PartsManager()
        mapper = self.event_stream_mapper(params, parts, settings)
        source = EventStreamSource(
            request,
            mapper,
            parts,
            model_name=self._model_name,
            error_builder=self.http_error,
            secrets=self._secrets(),
        )
        return open_event_stream(source, params)


def from_name(name: str, prefix: str) -> BedrockConverseModel:
    """The registry factory for ``'bedrock:<model id>'``: credentials, region and endpoint from the
    environment and the AWS config files."""
    del prefix
    if not name:
        raise UserError("a Bedrock model id is needed: 'bedrock:us.amazon.nova-micro-v1:0'")
    return BedrockConverseModel(name)
