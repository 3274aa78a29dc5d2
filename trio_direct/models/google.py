"""Google's Gemini API (``'google-gla:<model>'``, ``'gemini:<model>'``, ``'google:<model>'``) over raw httpx.

The generativelanguage API: ``POST {base}/v1beta/models/{model}:generateContent`` and, streamed,
``:streamGenerateContent?alt=sse``, authenticated by the ``x-goog-api-key`` header (never the URL).
The pieces, all pure, as in every provider module:

1. **Profile** (:class:`GoogleProfile`): what pydantic-ai 2.68's Google profile says about a model name
   (thinking budget or level, ``VALIDATED`` function calling, tool combination, image output...).
2. **Request** (:func:`build_generate_content_request`): messages, settings and parameters → the JSON
   body (``contents``, ``systemInstruction``, ``tools``, ``toolConfig``, ``generationConfig``...).
3. **Response** (:func:`parse_generate_content`): a 200 body → :class:`ModelResponse`, including the
   native tool parts and citations pydantic-ai builds from grounding and URL-context metadata.
4. **Stream** (:class:`GoogleStreamMapper`): each SSE ``data:`` is a whole partial
   ``GenerateContentResponse``; its parts extend the response and its usage replaces the last.
5. **Errors** (:func:`api_error`): Google's ``{"error": {"code", "status", "details"}}`` → the 2.68
   error categories, ``retry_after`` from ``google.rpc.RetryInfo``; also for in-stream error chunks.

:class:`GoogleModel` wires them into :class:`~trio_direct.models.base.HTTPModel`. Behaviour is
pydantic-ai-slim 2.68's ``GoogleModel`` on the Gemini API (``reference/providers/google.md``). The
request JSON is written in camelCase throughout (the google-genai SDK mixes in snake_case for the
dicts it passes through; the API accepts either spelling); dicts a caller passes verbatim
(``google_thinking_config``, ``google_safety_settings``, file ``vendor_metadata``) go out as given.

Deliberate differences from upstream:

* URLs upstream downloads before sending (every ``ImageUrl``/``AudioUrl``/``DocumentUrl``/``VideoUrl``
  that is neither a Google Files API URL nor a YouTube video, and any with ``force_download``) raise
  :class:`UserError`: building a request does no I/O here. Pass the bytes as ``BinaryContent`` or
  upload the file (``UploadedFile``). ``data:`` URLs are decoded inline.
* No long-decode continuation: a ``CONTINUATION`` finish is reported as ``finish_reason='length'``
  (upstream's SDK transparently sends follow-up requests).
* In a stream, a Gemini 3 ``web_search``/``file_search`` tool response that upstream completes from
  the final chunk's grounding metadata starts its part when it is complete, not at the index
  upstream reserves for it earlier; the ``x-gemini-service-tier`` header is read for non-streamed
  responses only.
* When the history holds a retry, 2.68 runs its full message preparation; the parts of it that change
  a Gemini request are reproduced (retries as function-response errors or framed feedback, tool
  results first, mid-conversation system prompts as ``<system>`` blocks, the framing announcement),
  but not the notes on user text that merely resembles a framework frame.
"""

from __future__ import annotations

import base64
import binascii
import copy
import html
import http
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypeAlias, cast

import attrs
import httpx
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from .._validate import path_segment  # pyright: ignore[reportPrivateUsage]
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
    ModelRequestRejectedError,
    ModelServerError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import (
    AudioUrl,
    BinaryContent,
    CachePoint,
    DocumentUrl,
    FilePart,
    FinishReason,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
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
    generate_tool_call_id,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from ._common import JSON as JSON
from ._common import RETRY_FEEDBACK_FRAMING as _RETRY_FEEDBACK_FRAMING
from ._common import SYSTEM_BLOCKS_ANNOUNCEMENT as FRAMING_ANNOUNCEMENT
from ._common import (
    USER_AGENT,
    http_status_category,
    prompted_output_instructions,
    provider_from_args,
    suggest_model,
)
from ._common import b64 as _b64
from ._common import dump_error_details as _dump_error_details
from ._common import json_default as _json_default
from ._common import json_dict as _obj
from ._common import json_list as _arr
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamMeta

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "GoogleModel",
    "GoogleModelSettings",
    "GoogleProfile",
    "GoogleStreamMapper",
    "api_error",
    "build_generate_content_request",
    "from_name",
    "http_error",
    "map_messages",
    "map_usage",
    "parse_generate_content",
    "stream_error",
    "transform_schema",
]

ThinkingLevelName: TypeAlias = Literal["MINIMAL", "LOW", "MEDIUM", "HIGH"]

DEFAULT_BASE_URL: Final = "https://generativelanguage.googleapis.com"
API_VERSION: Final = "v1beta"
PROVIDER_NAME: Final = "google"
#: Every name this transport's parts have carried (pre-v2 histories say ``google-gla``).
_OWN_PROVIDER_NAMES: Final = frozenset({"google", "google-gla"})
#: ``X-Server-Timeout``: pydantic-ai asks for at least Google's 20-minute long-decode figure.
_LONG_DECODE_TIMEOUT: Final = 20 * 60
#: The documented placeholder for a first function call that carries no signature of this API's own.
_DUMMY_THOUGHT_SIGNATURE: Final = base64.b64encode(b"skip_thought_signature_validator").decode()
_TOOL_CALL_ID_PREFIX: Final = "pyd_ai_"
_MEDIA_PROCESSING: Final = "media_processing"


class GoogleModelSettings(ModelSettings, total=False):
    """``ModelSettings`` plus the Gemini keys (all prefixed ``google_``, so they merge with others).

    Attributes:
        google_safety_settings: top-level ``safetySettings`` (``[{"category": ..., "threshold": ...}]``).
        google_thinking_config: ``generationConfig.thinkingConfig`` verbatim; wins over ``thinking``.
        google_labels: top-level ``labels``.
        google_video_resolution: ``generationConfig.mediaResolution`` (``'MEDIA_RESOLUTION_LOW'``...).
        google_cached_content: top-level ``cachedContent``; the system instruction, tools and tool config
            are then left out (the cached content owns them), with a warning when that drops any.
        google_logprobs: ``generationConfig.responseLogprobs`` (Vertex AI only, upstream notes).
        google_top_logprobs: ``generationConfig.logprobs`` (with ``google_logprobs``).
        google_model_armor_config: top-level ``modelArmorConfig`` (Vertex AI only).
        google_cloud_service_tier: accepted for settings shared with Vertex AI; not used by the Gemini API.
    """

    google_safety_settings: list[dict[str, Any]]
    google_thinking_config: dict[str, Any]
    google_labels: dict[str, str]
    google_video_resolution: str
    google_cached_content: str
    google_logprobs: bool
    google_top_logprobs: int
    google_model_armor_config: dict[str, Any]
    google_cloud_service_tier: str


# =============================================================================================
# 1. Profile
# =============================================================================================

_LEVEL_SCALE: Final[tuple[ThinkingLevelName, ...]] = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
_LEVEL_ORDER: Final[dict[str, int]] = {level: order for order, level in enumerate(_LEVEL_SCALE)}
_ALL_LEVELS: Final[frozenset[str]] = frozenset(_LEVEL_SCALE)
#: Documented per-model thinking levels, most specific prefix first (pydantic-ai 2.68's table).
_MODEL_THINKING_LEVELS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("gemini-3.1-flash-lite-image", frozenset(("MINIMAL", "HIGH"))),
    ("gemini-3.7-flash", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3.8-flash", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3.1-pro-preview", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3-pro-preview", frozenset(("LOW", "HIGH"))),
    ("gemini-4-argon", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-4-carbon", frozenset(("LOW", "MEDIUM", "HIGH"))),
)
#: MIME types a Gemini 3+ ``functionResponse`` carries in its own ``parts``.
_TOOL_RETURN_MIME_TYPES: Final = ("image/png", "image/jpeg", "image/webp", "application/pdf", "text/plain")


@attrs.frozen(slots=True)
class GoogleProfile:
    """What pydantic-ai 2.68's Google profile says about a model name, on the Gemini API."""

    supports_thinking: bool
    thinking_level: bool  # `thinkingLevel` (Gemini 3+) rather than `thinkingBudget` (2.5)
    thinking_always_enabled: bool
    thinking_levels: frozenset[str] | None
    strict_tool_definition: bool  # `VALIDATED` function calling
    tool_combination: bool  # function tools + native tools + native output in one request (Gemini 3+)
    server_side_tool_invocations: bool  # `includeServerSideToolInvocations` (Gemini 3+)
    tool_return_mime_types: tuple[str, ...]
    image_output: bool
    json_schema_output: bool
    json_object_output: bool
    supports_tools: bool
    web_search_billed_per_prompt: bool
    disables_thinking_with_zero_budget: bool = False

    @classmethod
    def for_model(cls, name: str) -> GoogleProfile:
        """The profile for ``name`` (substring and prefix rules, as upstream)."""
        is_image = "image" in name
        is_2_5 = "gemini-2.5" in name
        is_pre_2_5 = "gemini-1" in name or ("gemini-2." in name and not is_2_5) or name == "gemini-pro"
        is_older = is_2_5 or is_pre_2_5
        is_gemma = "gemma" in name
        if is_gemma or is_pre_2_5 or "gemini-2.5-flash-image" in name:
            thinking, level = False, False
        elif is_2_5:
            thinking, level = True, False
        else:
            thinking, level = True, True
        modern = not is_older and not is_gemma
        is_pro = "pro" in name and "flash" not in name
        levels = next((lv for prefix, lv in _MODEL_THINKING_LEVELS if name.startswith(prefix)), None)
        if levels is None and name.startswith("gemini-3.1-flash-image"):
            # the Gemini API (not Vertex) takes only these two for this model, as 2.68's GoogleModel sets
            levels = frozenset(("MINIMAL", "HIGH"))
        return cls(
            supports_thinking=thinking,
            thinking_level=level,
            thinking_always_enabled=thinking and is_pro,
            thinking_levels=levels,
            strict_tool_definition=thinking and not is_image,
            tool_combination=modern,
            server_side_tool_invocations=modern,
            tool_return_mime_types=_TOOL_RETURN_MIME_TYPES if modern else (),
            image_output=is_image,
            json_schema_output=modern or not is_image,
            json_object_output=modern or not is_image,
            supports_tools=not is_image,
            web_search_billed_per_prompt=is_older,
        )


# =============================================================================================
# 2. Request
# =============================================================================================

_FILES_API_PREFIX: Final = "https://generativelanguage.googleapis.com/v1beta/files"
_FILE_ITEMS: Final = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)
_ERROR_OUTCOMES: Final = ("failed", "retried")
_GLA_SERVICE_TIERS: Final[dict[str, str]] = {"default": "standard", "flex": "flex", "priority": "priority"}
_THINKING_BUDGETS: Final[dict[str, int]] = {
    "minimal": 128,
    "low": 2048,
    "medium": 8192,
    "high": 24576,
    "xhigh": 24576,
    "max": 24576,
}
_THINKING_LEVELS_BY_EFFORT: Final[dict[str, ThinkingLevelName]] = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "HIGH",
    "max": "HIGH",
}
#: Gemini 2.5 Pro cannot turn thinking off; its smallest budget stands in for ``thinking=False``.
_MIN_THINKING_BUDGET: Final = 128
_NATIVE_TOOL_TYPES: Final[dict[str, str]] = {
    "web_search": "GOOGLE_SEARCH_WEB",
    "web_fetch": "URL_CONTEXT",
    "file_search": "FILE_SEARCH",
}
_NATIVE_TOOL_NAMES: Final[dict[str, str]] = {v: k for k, v in _NATIVE_TOOL_TYPES.items()}
_SERVER_SIDE_KINDS: Final = frozenset({"web_search", "web_fetch", "file_search", "code_execution"})


def _json_text(value: Any) -> str:
    """Compact JSON as pydantic-ai renders tool data (a JSON string stays unquoted text)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=_json_default).decode()


def _contains_ref(node: object) -> bool:
    if isinstance(node, dict):
        mapping = cast(dict[str, object], node)
        return "$ref" in mapping or any(_contains_ref(v) for v in mapping.values())
    if isinstance(node, list):
        return any(_contains_ref(v) for v in cast(list[object], node))
    return False


def _media_type(item: ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile) -> str:
    try:
        return item.media_type
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _file_part(
    item: ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile,
    *,
    function_response: bool = False,
) -> JSON:
    """An ``inlineData`` or ``fileData`` part for a file (a ``functionResponse`` part carries no metadata).

    Raises:
        UserError: the file needs a download (we do no I/O while building a request), or an
            ``UploadedFile`` that is not this provider's.
    """
    if isinstance(item, BinaryContent):
        part: JSON = {"inlineData": {"data": _b64(item.data), "mimeType": item.media_type}}
    elif isinstance(item, UploadedFile):
        if item.provider_name not in _OWN_PROVIDER_NAMES:
            raise UserError(
                f"UploadedFile with `provider_name={item.provider_name!r}` cannot be used with GoogleModel. "
                f"Expected `provider_name` to be one of {sorted(_OWN_PROVIDER_NAMES)!r}."
            )
        if not item.file_id.startswith("https://"):
            raise UserError(
                "UploadedFile for GoogleModel (Gemini API) must use a file URI from the Google Files API "
                f"(https://generativelanguage.googleapis.com/...), got: {item.file_id}"
            )
        part = {"fileData": {"fileUri": item.file_id, "mimeType": item.media_type}}
    elif isinstance(item, VideoUrl) and item.is_youtube and not item.force_download:
        part = {"fileData": {"fileUri": item.url, "mimeType": _media_type(item)}}
    elif item.url.startswith("data:") and ";base64," in item.url:
        try:
            decoded = BinaryContent.from_data_uri(item.url)
        except (ValueError, binascii.Error) as exc:
            raise UserError(f"invalid data URI: {exc}") from None
        part = {"inlineData": {"data": _b64(decoded.data), "mimeType": decoded.media_type}}
    elif item.force_download or not item.url.startswith(_FILES_API_PREFIX):
        raise UserError(
            f"{type(item).__name__} {item.url!r} needs a download on the Gemini API (only Google Files API "
            "and YouTube URLs are sent as references), which trio_direct does not do while building a "
            "request; fetch the file and pass it as BinaryContent, or upload it and pass an UploadedFile"
        )
    else:
        part = {"fileData": {"fileUri": item.url, "mimeType": _media_type(item)}}
    if function_response or not item.vendor_metadata:
        return part
    metadata = dict(item.vendor_metadata)
    if "media_resolution" in metadata:
        part["mediaResolution"] = metadata.pop("media_resolution")
    if "media_processing" in metadata:
        part["mediaProcessing"] = metadata.pop("media_processing")
    if metadata and isinstance(item, BinaryContent | VideoUrl | UploadedFile):
        part["videoMetadata"] = metadata
    return part


def _user_parts(part: UserPromptPart) -> list[JSON]:
    if isinstance(part.content, str):
        return [{"text": part.content}]
    out: list[JSON] = []
    for item in part.content:
        if isinstance(item, str):
            out.append({"text": item})
        elif isinstance(item, TextContent):
            out.append({"text": item.content})
        elif isinstance(item, CachePoint):
            continue  # Gemini caches through `google_cached_content`, not inline markers
        else:
            out.append(_file_part(item))
    return out


def _provenance_tags(tool_name: str, tool_call_id: str, file_id: str) -> tuple[str, str]:
    attrs_text = "".join(
        f' {name}="{html.escape(value)}"'
        for name, value in (("tool_name", tool_name), ("tool_call_id", tool_call_id), ("file_id", file_id))
    )
    return f"<pyai:tool_result{attrs_text}>", "</pyai:tool_result>"


def _function_response(part: ToolReturnPart, profile: GoogleProfile) -> tuple[JSON, list[JSON]]:
    """The ``functionResponse`` for a tool return, and the framed files that follow on the user channel."""
    inner_parts: list[JSON] = []
    fallback: list[JSON] = []
    refs: list[str] = []
    for file in part.files:
        if _media_type(file) in profile.tool_return_mime_types:
            inner_parts.append(_file_part(file, function_response=True))
        else:
            identifier = file.identifier
            refs.append(f"See file {identifier}.")
            open_tag, close_tag = _provenance_tags(part.tool_name, part.tool_call_id, identifier)
            fallback.extend(({"text": open_tag}, _file_part(file), {"text": close_tag}))
    if part.outcome in _ERROR_OUTCOMES:
        # Gemini's own error channel: the failure message as a plain string
        response: JSON = {"error": part.model_response_str(wrap_if_error=False)}
    else:
        response = part.model_response_object(wrap_if_error=False)
        if _contains_ref(response):
            # Gemini would read `$ref` as a reference to a named function-response part
            response = {"output": part.model_response_str(wrap_if_error=False)}
        if refs:
            response = {"output": [response, *refs]}
    function_response: JSON = {"id": part.tool_call_id, "name": part.tool_name, "response": response}
    if inner_parts:
        function_response["parts"] = inner_parts
    return {"functionResponse": function_response}, fallback


def _retry_function_response(part: RetryPromptPart) -> JSON:
    """A tool-bound retry: the call's own result again, as an error (2.68's ``outcome='retried'``)."""
    content = part.content
    text = content if isinstance(content, str) else _json_text(_dump_error_details(content))
    assert part.tool_name is not None
    return {
        "functionResponse": {"id": part.tool_call_id, "name": part.tool_name, "response": {"error": text}}
    }


def _retry_feedback_text(part: RetryPromptPart) -> str:
    """A tool-less retry as 2.68 renders it: user-voice feedback in a fence behind an attribution line."""
    content = part.content
    if isinstance(content, str):
        tag, body = "pyai:retry_feedback", content
    else:
        tag, body = "pyai:validation_errors", _json_text(_dump_error_details(content))
    return f"{_RETRY_FEEDBACK_FRAMING}\n<{tag}>\n{body}\n</{tag}>"


def _split_function_responses(parts: list[JSON]) -> list[JSON]:
    """User contents, a new one wherever other parts follow a ``functionResponse`` (Gemini reads a mixed
    content as model-authored)."""
    if not parts:
        return []
    contents: list[JSON] = []
    current: list[JSON] = []
    for part in parts:
        if current and "functionResponse" in current[-1] and "functionResponse" not in part:
            contents.append({"role": "user", "parts": current})
            current = []
        current.append(part)
    contents.append({"role": "user", "parts": current})
    return contents


def _artifact_accepted(response: ModelResponse, provider_name: str | None) -> bool:
    """Whether signed data (thought signatures, native tool parts) from ``provider_name`` in ``response``
    came from the Gemini API and can go back to it (pydantic-ai's ``accepts_stateless_artifacts``)."""
    if provider_name is None:
        return False
    if provider_name == response.provider_name:
        if response.canonical_system is not None:
            return response.canonical_system == PROVIDER_NAME
        host = _host_of(response.provider_url)
        if provider_name in ("google", "google-cloud") and host is not None:
            if host == "generativelanguage.googleapis.com":
                return True
            if _GOOGLE_CLOUD_HOST.fullmatch(host):
                return False
    return provider_name in _OWN_PROVIDER_NAMES


_GOOGLE_CLOUD_HOST: Final = re.compile(
    r"(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com|aiplatform\.[a-z0-9-]+\.rep\.googleapis\.com"
)


def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("@")[-1].split(":", 1)[0].lower()
    return host or None


def _with_signature(part: JSON, signature: str | None) -> JSON:
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def _model_content(message: ModelResponse, *, tool_combination: bool) -> JSON | None:
    """A history response as a ``role: model`` content, or None when nothing in it goes back."""
    response_accepted = _artifact_accepted(message, message.provider_name)
    parts: list[JSON] = []
    pending: str | None = None  # a legacy ThinkingPart.signature, carried to the next part
    needs_signature = True  # the first functionCall of a turn must carry one (Gemini 3)
    for item in message.parts:
        signature: str | None = None
        details = item.provider_details
        if details and (response_accepted or _artifact_accepted(message, item.provider_name)):
            raw = details.get("thought_signature")
            if raw and isinstance(raw, str):
                signature = raw
        if signature is None and pending is not None:
            signature = pending
        pending = None
        part: JSON | None
        if isinstance(item, ToolCallPart):
            call: JSON = {"name": item.tool_name, "args": item.args_as_dict(), "id": item.tool_call_id}
            part = _with_signature({"functionCall": call}, signature)
            if signature is None and needs_signature:
                part["thoughtSignature"] = _DUMMY_THOUGHT_SIGNATURE
            needs_signature = False
        elif isinstance(item, TextPart):
            part = _with_signature({"text": item.content}, signature)
        elif isinstance(item, ThinkingPart):
            if item.signature and _artifact_accepted(message, item.provider_name):
                pending = item.signature
            part = (
                _with_signature({"text": item.content, "thought": True}, signature) if item.content else None
            )
        elif isinstance(item, NativeToolCallPart):
            part = _native_call_part(item, message, signature, tool_combination=tool_combination)
        elif isinstance(item, NativeToolReturnPart):
            part = _native_return_part(item, message, signature, tool_combination=tool_combination)
        elif isinstance(item, FilePart):
            inline: JSON = {"data": _b64(item.content.data), "mimeType": item.content.media_type}
            part = _with_signature({"inlineData": inline}, signature)
        else:  # a compaction part is not sent back to Gemini
            part = None
        if part is not None:
            parts.append(part)
    return {"role": "model", "parts": parts} if parts else None


def _echoes(tool_call_id: str, *, tool_combination: bool) -> bool:
    # Pre-Gemini-3 models reject `toolCall`/`toolResponse`; ids pydantic-ai made up were never Google's.
    return tool_combination and not tool_call_id.startswith(_TOOL_CALL_ID_PREFIX)


def _native_call_part(
    item: NativeToolCallPart, message: ModelResponse, signature: str | None, *, tool_combination: bool
) -> JSON | None:
    if not _artifact_accepted(message, item.provider_name):
        return None
    if item.tool_name == "code_execution":
        return _with_signature({"executableCode": item.args_as_dict()}, signature)
    if item.tool_name == _MEDIA_PROCESSING:
        return None  # Gemini rejects replayed media-processing steps
    tool_type = _NATIVE_TOOL_TYPES.get(item.tool_name)
    if tool_type is None:
        raise UserError(f"Unknown native tool name: {item.tool_name!r}")
    if not _echoes(item.tool_call_id, tool_combination=tool_combination):
        return None
    call: JSON = {"id": item.tool_call_id, "toolType": tool_type, "args": item.args_as_dict()}
    return _with_signature({"toolCall": call}, signature)


def _native_return_part(
    item: NativeToolReturnPart, message: ModelResponse, signature: str | None, *, tool_combination: bool
) -> JSON | None:
    if not _artifact_accepted(message, item.provider_name):
        return None
    content: object = item.content
    if item.tool_name == "code_execution" and isinstance(content, dict):
        return _with_signature({"codeExecutionResult": content}, signature)
    if item.tool_name == _MEDIA_PROCESSING:
        return None
    tool_type = _NATIVE_TOOL_TYPES.get(item.tool_name)
    if tool_type is None:
        raise UserError(f"Unknown native tool name: {item.tool_name!r}")
    if not _echoes(item.tool_call_id, tool_combination=tool_combination):
        return None
    if isinstance(content, dict) and all(isinstance(k, str) for k in cast(dict[object, object], content)):
        response: JSON = dict(cast(JSON, content))
    else:
        response = {"result": content}
    if item.tool_name == "web_search":
        response.pop("sources", None)  # added from the grounding metadata; Gemini did not send it
    tool_response: JSON = {"id": item.tool_call_id, "toolType": tool_type, "response": response}
    return _with_signature({"toolResponse": tool_response}, signature)


def _standing_count(request: ModelRequest) -> int:
    """How many of the first request's opening parts are the standing system prompt."""
    count = 0
    for part in request.parts:
        if not isinstance(part, SystemPromptPart) or part.scope == "request":
            break
        count += 1
    return count


def _is_tool_result(part: ModelRequestPart) -> bool:
    return isinstance(part, ToolReturnPart) or (
        isinstance(part, RetryPromptPart) and part.tool_name is not None
    )


@attrs.define(slots=True)
class _Mapped:
    """The history being mapped: the system instruction parts and the contents."""

    profile: GoogleProfile
    prepared: bool  # 2.68's `prepare_messages` ran (the history holds a retry)
    system: list[JSON] = attrs.field(factory=list[JSON])
    contents: list[JSON] = attrs.field(factory=list[JSON])
    framed: bool = False  # framed feedback, framed tool files or `<system>` blocks went on the user channel

    def request(self, message: ModelRequest, *, standing: int, after_response: bool) -> None:
        parts: Sequence[ModelRequestPart] = message.parts
        if self.prepared and after_response:
            # 2.68 puts a request's tool results ahead of its other parts
            parts = sorted(parts, key=lambda p: not _is_tool_result(p))
        mapped: list[JSON] = []
        tool_media: list[JSON] = []
        for index, part in enumerate(parts):
            if isinstance(part, SystemPromptPart):
                if self.prepared and index >= standing:
                    mapped.append({"text": f"<system>{part.content}</system>"})
                    self.framed = True
                else:
                    self.system.append({"text": part.content})
            elif isinstance(part, UserPromptPart):
                mapped.extend(_user_parts(part))
            elif isinstance(part, ToolReturnPart):
                response, media = _function_response(part, self.profile)
                mapped.append(response)
                tool_media.extend(media)
            elif part.tool_name is not None:
                mapped.append(_retry_function_response(part))
            else:
                mapped.append({"text": _retry_feedback_text(part)})
                self.framed = True
        if tool_media:
            # after the last function response, so no framed file shares a content with one
            self.framed = True
            at = max(i for i, p in enumerate(mapped) if "functionResponse" in p) + 1
            mapped[at:at] = tool_media
        self.contents.extend(_split_function_responses(mapped))


def _instruction_parts(
    messages: Sequence[ModelMessage], params: ModelRequestParameters, output_schema: JSON | None = None
) -> list[InstructionPart]:
    """This request's instructions: the parameters', else the latest request's, plus prompted output's."""
    if params.instruction_parts is not None:
        parts = list(params.instruction_parts)
    else:
        parts = []
        requests = [m for m in reversed(messages) if isinstance(m, ModelRequest)][:2]
        if requests and requests[0].instructions is not None:
            parts = [InstructionPart(requests[0].instructions)]
        elif (
            len(requests) == 2
            and all(isinstance(p, ToolReturnPart | RetryPromptPart) for p in requests[0].parts)
            and requests[1].instructions is not None
        ):
            parts = [InstructionPart(requests[1].instructions)]
    output = params.output_object
    if (
        params.output_mode == "prompted"
        and output is not None
        and params.prompted_output_template is not False
    ):
        # the schema as the transformer left it, then named, as 2.68 builds the instruction
        schema = output_schema if output_schema is not None else transform_schema(output.json_schema)
        text = prompted_output_instructions(output, params.prompted_output_template, schema)
        parts.append(InstructionPart(text))
        parts = InstructionPart.sorted(parts)
    return parts


def map_messages(
    messages: Sequence[ModelMessage],
    params: ModelRequestParameters,
    profile: GoogleProfile,
    *,
    output_schema: JSON | None = None,
) -> tuple[JSON | None, list[JSON]]:
    """``systemInstruction`` and ``contents`` for a history, as 2.68's ``GoogleModel._map_messages``."""
    prepared = any(
        isinstance(m, ModelRequest) and any(isinstance(p, RetryPromptPart) for p in m.parts) for m in messages
    )
    mapped = _Mapped(profile, prepared)
    first = next((m for m in messages if isinstance(m, ModelRequest)), None)
    standing = _standing_count(first) if first is not None else 0
    after_response = False
    for message in messages:
        if isinstance(message, ModelRequest):
            mapped.request(
                message, standing=standing if message is first else 0, after_response=after_response
            )
        else:
            after_response = True
            content = _model_content(message, tool_combination=profile.tool_combination)
            if content is not None:
                mapped.contents.append(content)
    contents = mapped.contents
    if not contents or contents[0]["role"] == "model":
        contents.insert(0, {"role": "user", "parts": [{"text": ""}]})
    instructions = _instruction_parts(messages, params, output_schema)
    system = mapped.system
    if prepared and mapped.framed and (standing or instructions):
        # 2.68 announces what its `<system>` blocks and fences mean, ahead of the standing prompt
        system.insert(0, {"text": FRAMING_ANNOUNCEMENT})
    system.extend({"text": part.content} for part in instructions)
    return ({"role": "user", "parts": system} if system else None), contents


# -- JSON schema ------------------------------------------------------------------------------


def _fold_described_options(schema: JSON) -> None:
    """An ``anyOf`` of one-value ``enum``s (an Enum with member docstrings) back into one ``enum``."""
    options = schema.get("anyOf")
    if not isinstance(options, list) or not options:
        return
    members = cast(list[object], options)
    for option in members:
        if not isinstance(option, dict):
            return
        o = cast(JSON, option)
        enum = o.get("enum")
        if not isinstance(enum, list) or len(cast(list[object], enum)) != 1:
            return
        if not set(o) <= {"enum", "type", "description"}:
            return
    typed = cast(list[JSON], members)
    types = {repr(o.get("type")) for o in typed}
    first_type = typed[0].get("type")
    if len(types) != 1 or "enum" in schema or schema.get("type", first_type) != first_type:
        return
    schema.pop("anyOf")
    schema["enum"] = [o["enum"][0] for o in typed]
    if first_type is not None:
        schema["type"] = first_type
    described = [f"{o['enum'][0]}: {o['description']}" for o in typed if o.get("description")]
    if described:
        schema["description"] = "\n".join([*filter(None, [schema.get("description")]), *described])


def _google_transform(schema: JSON) -> JSON:
    """pydantic-ai 2.68's ``GoogleJsonSchemaTransformer.transform`` on one node."""
    schema.pop("$schema", None)
    if (const := schema.pop("const", None)) is not None:
        schema["enum"] = [const]
        if "type" not in schema:
            if isinstance(const, str):
                schema["type"] = "string"
            elif isinstance(const, bool):
                schema["type"] = "boolean"
            elif isinstance(const, int):
                schema["type"] = "integer"
            elif isinstance(const, float):
                schema["type"] = "number"
    schema.pop("discriminator", None)
    schema.pop("examples", None)
    _fold_described_options(schema)
    schema.pop("title", None)
    if schema.get("type") == "string" and (fmt := schema.pop("format", None)):
        description = schema.get("description")
        schema["description"] = f"{description} (format: {fmt})" if description else f"Format: {fmt}"
    schema.pop("exclusiveMinimum", None)
    schema.pop("exclusiveMaximum", None)
    return schema


def _walk(node: object) -> object:
    """pydantic-ai's ``JsonSchemaTransformer._handle`` (no inlining) with the Google transform."""
    if not isinstance(node, dict):
        return node
    schema = cast(JSON, node)
    type_ = schema.get("type")
    if type_ == "object":
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            schema["properties"] = {k: _walk(v) for k, v in cast(JSON, properties).items()}
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            schema["additionalProperties"] = _walk(cast(JSON, additional))
        pattern = schema.get("patternProperties")
        if isinstance(pattern, dict):
            schema["patternProperties"] = {k: _walk(v) for k, v in cast(JSON, pattern).items()}
    elif type_ == "array":
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            schema["prefixItems"] = [_walk(v) for v in cast(list[object], prefix)]
        items = schema.get("items")
        if isinstance(items, list):
            schema["items"] = [_walk(v) for v in cast(list[object], items)]
        elif isinstance(items, dict) and items:
            schema["items"] = _walk(cast(JSON, items))
    elif type_ is None:
        for kind in ("allOf", "anyOf", "oneOf"):
            members = schema.get(kind)
            if not isinstance(members, list):
                continue
            del schema[kind]
            handled = [_walk(m) for m in cast(list[object], members)]
            if len(handled) == 1 and isinstance(handled[0], dict) and cast(JSON, handled[0]).get("not") != {}:
                schema = cast(JSON, handled[0]) | schema
            else:
                schema = dict(schema)
                schema[kind] = handled
    if type_ is not None:
        for kind in ("allOf", "anyOf", "oneOf"):
            members = schema.get(kind)
            if isinstance(members, list) and members:
                schema[kind] = [_walk(m) for m in cast(list[object], members)]
    return _google_transform(schema)


def transform_schema(schema: Mapping[str, Any]) -> JSON:
    """A tool or output JSON schema as pydantic-ai 2.68's ``GoogleJsonSchemaTransformer`` sends it:
    no ``$schema``/``title``/``discriminator``/``examples``/exclusive bounds, ``const`` as a one-value
    ``enum``, string ``format`` moved into the description; ``$defs`` kept."""
    copied = copy.deepcopy(dict(schema))
    defs = copied.pop("$defs", None)
    walked = _walk(copied)
    result = cast(JSON, walked) if isinstance(walked, dict) else {}
    if isinstance(defs, dict) and defs:
        result["$defs"] = {k: _walk(v) for k, v in cast(JSON, defs).items()}
    return result


def _function_declaration(tool: ToolDefinition) -> JSON:
    declaration: JSON = {
        "name": tool.name,
        "description": tool.description or "",
        "parametersJsonSchema": transform_schema(tool.parameters_json_schema),
    }
    if tool.include_return_schema and tool.return_schema:
        declaration["responseJsonSchema"] = tool.return_schema
    return declaration


# -- settings, tools and output ---------------------------------------------------------------


def _snap_level(level: ThinkingLevelName, levels: frozenset[str] | None) -> str:
    if levels is None:
        return level
    if not levels:
        raise UserError("the model's thinking levels must contain at least one level when `thinking` is set")
    wanted = _LEVEL_ORDER[level]
    return min(levels, key=lambda c: (abs(_LEVEL_ORDER.get(c, 0) - wanted), _LEVEL_ORDER.get(c, 0)))


def _thinking_config(settings: GoogleModelSettings, thinking: object, profile: GoogleProfile) -> JSON | None:
    """``generationConfig.thinkingConfig``: the explicit setting, else unified ``thinking`` translated."""
    if explicit := settings.get("google_thinking_config"):
        return explicit
    if thinking is None:
        return None
    if thinking is False:
        if not profile.thinking_level:
            budget = _MIN_THINKING_BUDGET if profile.thinking_always_enabled else 0
            return {"thinkingBudget": budget}
        if profile.disables_thinking_with_zero_budget:
            return {"thinkingBudget": 0}
        return {"thinkingLevel": _snap_level("MINIMAL", profile.thinking_levels)}
    if thinking is True:
        return {"includeThoughts": True}
    if not isinstance(thinking, str) or thinking not in _THINKING_BUDGETS:
        raise UserError(f"unsupported `thinking` value: {thinking!r}")
    if not profile.thinking_level:
        return {"includeThoughts": True, "thinkingBudget": _THINKING_BUDGETS[thinking]}
    return {
        "includeThoughts": True,
        "thinkingLevel": _snap_level(_THINKING_LEVELS_BY_EFFORT[thinking], profile.thinking_levels),
    }


def _native_tools(
    params: ModelRequestParameters, profile: GoogleProfile
) -> tuple[list[JSON], JSON | None, bool]:
    """The native tool entries, the ``imageConfig``, and whether a server-side tool is among them."""
    tools: list[JSON] = []
    image_config: JSON | None = None
    server_side = False
    if not params.native_tools:
        return tools, image_config, server_side
    if params.function_tools and not profile.tool_combination:
        raise UserError("This model does not support function tools and built-in tools at the same time.")
    for tool in params.native_tools:
        kind = getattr(tool, "kind", tool if isinstance(tool, str) else None)
        if kind == "web_search":
            tools.append({"googleSearch": {}})
        elif kind == "web_fetch":
            tools.append({"urlContext": {}})
        elif kind == "code_execution":
            tools.append({"codeExecution": {}})
        elif kind == "file_search":
            stores: object = getattr(tool, "file_store_ids", None) or []
            names = list(cast(Sequence[str], stores))
            tools.append({"fileSearch": {"fileSearchStoreNames": names}})
        elif kind == "image_generation":
            if not profile.image_output and not getattr(tool, "optional", False):
                raise UserError(
                    "`ImageGenerationTool` is not supported by this model. "
                    "Use a model with 'image' in the name, or `ImageGeneration(local=...)` for a local "
                    "fallback."
                )
            image_config = {}
            if (aspect := getattr(tool, "aspect_ratio", None)) is not None:
                image_config["aspectRatio"] = aspect
            if (size := getattr(tool, "size", None)) is not None:
                if size not in ("512", "1K", "2K", "4K"):
                    raise UserError(
                        "Google image generation only supports `size` values: ('512', '1K', '2K', '4K'). "
                        f"Got: {size!r}. Omit `size` to use the default (1K)."
                    )
                image_config["imageSize"] = size
        else:
            raise UserError(f"`{type(tool).__name__}` ({kind!r}) is not supported by GoogleModel.")
        server_side = server_side or kind in _SERVER_SIDE_KINDS
    return tools, image_config, server_side


def _tools_and_config(
    settings: GoogleModelSettings, params: ModelRequestParameters, profile: GoogleProfile
) -> tuple[list[JSON] | None, JSON | None, JSON | None]:
    """``tools``, ``toolConfig`` and ``imageConfig``: declarations per ``tool_choice``, then native tools."""
    native, image_config, server_side = _native_tools(params, profile)
    output_tools = params.output_tools
    if native and output_tools and not profile.tool_combination:
        raise UserError(
            "This model does not support output tools and built-in tools at the same time. "
            "Use `output_type=PromptedOutput(...)` instead."
        )
    declared: dict[str, ToolDefinition] = {t.name: t for t in [*params.function_tools, *output_tools]}
    resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
    allowed: list[str] = []
    if isinstance(resolved, str):
        mode = resolved
    else:
        mode, names = resolved
        if mode == "auto":
            # Gemini has no AUTO with allowed names: the declarations themselves are filtered
            declared = {k: v for k, v in declared.items() if k in names}
        else:
            allowed = [name for name in declared if name in names]
    tool_config: JSON = {}
    if declared:
        api_mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[mode]
        if (
            api_mode == "AUTO"
            and profile.strict_tool_definition
            and not any(t.strict is False for t in declared.values())
        ):
            api_mode = "VALIDATED"
        calling: JSON = {"mode": api_mode}
        if allowed:
            calling["allowedFunctionNames"] = allowed
        tool_config["functionCallingConfig"] = calling
    if server_side and profile.server_side_tool_invocations:
        tool_config["includeServerSideToolInvocations"] = True
    # The SDK sends the declarations merged into one tool, after the native tools
    tools: list[JSON] = list(native)
    if declared:
        tools.append({"functionDeclarations": [_function_declaration(t) for t in declared.values()]})
    if not tools:
        return None, None, image_config
    return tools, tool_config or None, image_config


def _response_format(
    params: ModelRequestParameters, profile: GoogleProfile, has_tools: bool, output_schema: JSON | None
) -> tuple[str | None, JSON | None]:
    """``responseMimeType`` and ``responseJsonSchema`` for native (schema) or prompted (JSON mode) output."""
    if params.output_mode == "native":
        if not profile.json_schema_output:
            raise UserError("Native structured output is not supported by this model.")
        if params.function_tools and not profile.tool_combination:
            raise UserError(
                "This model does not support `NativeOutput` and function tools at the same time. "
                "Use `output_type=ToolOutput(...)` instead."
            )
        output = params.output_object
        if output is None or output_schema is None:
            raise UserError("`output_mode='native'` needs an `output_object`")
        schema = dict(output_schema)
        if output.name:
            schema["title"] = output.name
        if output.description:
            schema["description"] = output.description
        return "application/json", schema
    if params.output_mode == "prompted" and not has_tools:
        if not profile.json_object_output:
            raise UserError("JSON output is not supported by this model.")
        return "application/json", None
    return None, None


def _resolve_thinking(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: GoogleProfile
) -> object:
    """Unified ``thinking``: a setting replaces the parameters' value when the model can think (as 2.68)."""
    if "thinking" in settings and (profile.supports_thinking or profile.thinking_always_enabled):
        return settings["thinking"]
    return params.thinking


def _resolved_output(params: ModelRequestParameters) -> ModelRequestParameters:
    """The output fields 2.68's ``prepare_request`` resets: ``'auto'`` becomes tool output (Google's default
    structured mode), output tools go only with tool output, an output object only with native or prompted."""
    if params.output_mode == "auto":
        params = attrs.evolve(params, output_mode="tool", allow_text_output=False)
    if params.output_tools and params.output_mode != "tool":
        params = attrs.evolve(params, output_tools=[])
    if params.output_object is not None and params.output_mode not in ("native", "prompted"):
        params = attrs.evolve(params, output_object=None)
    return params


def _warn_unsupported(model_id: str, settings: Mapping[str, Any], params: ModelRequestParameters) -> None:
    if "extra_body" in settings:
        warnings.warn(
            f"The `extra_body` setting is not supported by model {model_id!r} and will be ignored.",
            UserWarning,
            stacklevel=5,
        )
    if settings.get("parallel_tool_calls") is False and params.function_tools:
        warnings.warn(
            f"The `parallel_tool_calls` setting is not supported by model {model_id!r} and will be ignored.",
            UserWarning,
            stacklevel=5,
        )


def build_generate_content_request(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings,
    params: ModelRequestParameters,
    *,
    profile: GoogleProfile | None = None,
) -> tuple[JSON, dict[str, str]]:
    """The JSON body and the extra headers of one ``generateContent`` request, as 2.68 builds it.

    The headers are the caller's ``extra_headers`` plus ``X-Server-Timeout`` (no API key).

    Raises:
        UserError: something the model or the Gemini API cannot take (a URL that needs a download,
            a tool combination pre-Gemini-3 models reject, an ``httpx.Timeout`` ``timeout``...).
    """
    s = cast(GoogleModelSettings, settings)
    profile = profile or GoogleProfile.for_model(model_name)
    if isinstance(s.get("timeout"), httpx.Timeout):
        raise UserError("Google does not support setting ModelSettings.timeout to a httpx.Timeout")
    if params.function_tools and not profile.supports_tools:
        raise UserError("Tools are not supported by this model.")
    if params.output_mode == "tool" and params.output_tools and not profile.supports_tools:
        raise UserError("Tool output is not supported by this model.")
    if params.allow_image_output and not profile.image_output:
        raise UserError("Image output is not supported by this model.")
    _warn_unsupported(f"{PROVIDER_NAME}:{model_name}", s, params)
    params = _resolved_output(params)
    output_schema = transform_schema(params.output_object.json_schema) if params.output_object else None

    tools, tool_config, image_config = _tools_and_config(s, params, profile)
    cached_content = s.get("google_cached_content")
    effective_tools = None if cached_content else tools
    mime_type, response_schema = _response_format(params, profile, bool(effective_tools), output_schema)
    system_instruction, contents = map_messages(messages, params, profile, output_schema=output_schema)

    modalities = ["TEXT"]
    if profile.image_output:
        modalities.append("IMAGE")
        if not params.allow_text_output:
            modalities.remove("TEXT")

    if cached_content and (system_instruction is not None or tools is not None):
        dropped = ["system_instruction"] if system_instruction is not None else []
        if tools is not None:
            dropped += ["tools", "tool_config"]
        names = ", ".join(f"`{n}`" for n in dropped)
        warnings.warn(
            f"`google_cached_content` is set; the cached content resource owns {names}, so these fields are "
            "stripped from the outgoing request and any agent instructions or registered tools are ignored. "
            "See https://ai.google.dev/gemini-api/docs/caching.",
            UserWarning,
            stacklevel=4,
        )

    generation: JSON = {}
    for key, wire in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("max_tokens", "maxOutputTokens"),
        ("stop_sequences", "stopSequences"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ):
        if (value := s.get(key)) is not None:
            generation[wire] = value
    if mime_type is not None:
        generation["responseMimeType"] = mime_type
    if response_schema is not None:
        generation["responseJsonSchema"] = response_schema
    generation["responseModalities"] = modalities
    if (thinking := _thinking_config(s, _resolve_thinking(s, params, profile), profile)) is not None:
        generation["thinkingConfig"] = thinking
    if (resolution := s.get("google_video_resolution")) is not None:
        generation["mediaResolution"] = resolution
    if image_config is not None:
        generation["imageConfig"] = image_config
    if s.get("google_logprobs"):
        generation["responseLogprobs"] = True
        if "google_top_logprobs" in s:
            generation["logprobs"] = s.get("google_top_logprobs")

    body: JSON = {"contents": contents}
    if system_instruction is not None and not cached_content:
        body["systemInstruction"] = system_instruction
    if effective_tools is not None:
        body["tools"] = effective_tools
    if tool_config is not None and not cached_content:
        body["toolConfig"] = tool_config
    if (safety := s.get("google_safety_settings")) is not None:
        body["safetySettings"] = safety
    body["generationConfig"] = generation
    if (labels := s.get("google_labels")) is not None:
        body["labels"] = labels
    if cached_content:
        body["cachedContent"] = cached_content
    if (tier := _GLA_SERVICE_TIERS.get(cast(str, s.get("service_tier") or ""))) is not None:
        body["serviceTier"] = tier
    if (armor := s.get("google_model_armor_config")) is not None:
        body["modelArmorConfig"] = armor

    headers: dict[str, str] = {}
    extra = s.get("extra_headers") or {}
    if not any(name.lower() == "x-server-timeout" for name in extra):
        headers["X-Server-Timeout"] = str(_LONG_DECODE_TIMEOUT)
    headers.update(extra)
    return body, headers


# =============================================================================================
# 3. Response
# =============================================================================================

#: ``finishReason`` → ``finish_reason`` (unknown values → None).
FINISH_REASONS: Final[dict[str, FinishReason | None]] = {
    "FINISH_REASON_UNSPECIFIED": None,
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "error",
    "OTHER": None,
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "IMAGE_SAFETY": "content_filter",
    "UNEXPECTED_TOOL_CALL": "error",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "NO_IMAGE": "error",
    "MODEL_ARMOR": "content_filter",
}
#: The fields of the SDK's ``Part`` (a part with a signature and none of the others is signature-only).
_PART_FIELDS: Final = (
    "text",
    "thought",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
    "videoMetadata",
    "mediaResolution",
    "partMetadata",
)
_SAFETY_RATING_FIELDS: Final = (
    "blocked",
    "category",
    "overwrittenThreshold",
    "probability",
    "probabilityScore",
    "severity",
    "severityScore",
)
_FILE_SEARCH_QUERY: Final = re.compile(r'file_search\.query\(query=(["\'])((?:\\.|(?!\1)[^\\])*)\1\)')
_CAMEL_BOUNDARY: Final = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(value: object, *, drop_none: bool = True) -> Any:
    """A response object as the SDK's ``model_dump(mode='json')`` gives it: snake_case keys."""
    if isinstance(value, dict):
        return {
            _CAMEL_BOUNDARY.sub("_", str(k)).lower(): _snake(v, drop_none=drop_none)
            for k, v in cast(dict[object, object], value).items()
            if v is not None or not drop_none
        }
    if isinstance(value, list):
        return [_snake(v, drop_none=drop_none) for v in cast(list[object], value)]
    return value


def _signature_details(part: JSON) -> dict[str, Any] | None:
    """``{'thought_signature': <standard base64>}`` for a part that carries one."""
    signature = part.get("thoughtSignature")
    if not signature:
        return None
    if not isinstance(signature, str):
        raise TypeError("thoughtSignature must be a base64 string")
    if len(signature) % 4 or "-" in signature or "_" in signature:
        # the SDK decodes either alphabet and pydantic-ai stores standard, padded base64
        normalized = signature.replace("-", "+").replace("_", "/")
        normalized += "=" * (-len(normalized) % 4)
        signature = _b64(base64.b64decode(normalized, validate=True))
    return {"thought_signature": signature}


def _is_signature_only(part: JSON) -> bool:
    return bool(part.get("thoughtSignature")) and all(part.get(k) is None for k in _PART_FIELDS)


def _binary(inline: JSON) -> BinaryContent:
    data, mime_type = inline.get("data"), inline.get("mimeType")
    if not isinstance(data, str) or not data or not isinstance(mime_type, str) or not mime_type:
        raise TypeError("inline data must have data and a mime type")
    normalized = data.replace("-", "+").replace("_", "/")
    raw = base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
    if not raw:
        raise TypeError("inline data must have data")
    return BinaryContent.narrow_type(BinaryContent(raw, media_type=mime_type))


def _is_media_processing(tool: JSON, payload_key: str) -> bool:
    tool_type = tool.get("toolType")
    return tool_type == "MEDIA_PROCESSING" or (tool_type is None and not tool.get(payload_key))


def _native_tool_name(tool: JSON, payload_key: str) -> str:
    if _is_media_processing(tool, payload_key):
        return _MEDIA_PROCESSING
    tool_type = tool.get("toolType")
    if tool_type is None:
        raise UnexpectedModelBehavior("Missing tool_type on native tool part")
    name = _NATIVE_TOOL_NAMES.get(tool_type) if isinstance(tool_type, str) else None
    if name is None:
        raise UnexpectedModelBehavior(f"Unknown tool type on native tool part: {tool_type!r}")
    return name


def _tool_id(value: object) -> str:
    if value is None:
        return generate_tool_call_id()
    if not isinstance(value, str):
        raise TypeError("a tool id must be a string")
    return value or generate_tool_call_id()


def _native_call(tool_call: JSON) -> NativeToolCallPart:
    args = tool_call.get("args")
    if args is not None and not isinstance(args, dict):
        raise TypeError("toolCall.args must be an object")
    return NativeToolCallPart(
        _native_tool_name(tool_call, "args"),
        cast(JSON | None, args),
        _tool_id(tool_call.get("id")),
        provider_name=PROVIDER_NAME,
    )


def _native_return(tool_response: JSON) -> NativeToolReturnPart:
    response = tool_response.get("response")
    if response is not None and not isinstance(response, dict):
        raise TypeError("toolResponse.response must be an object")
    return NativeToolReturnPart(
        _native_tool_name(tool_response, "response"),
        response,
        _tool_id(tool_response.get("id")),
        provider_name=PROVIDER_NAME,
    )


def _has_native_invocations(parts: Sequence[JSON]) -> bool:
    """Whether the parts carry Gemini 3 ``toolCall``/``toolResponse`` parts (other than media processing):
    then the grounding and URL-context metadata are not turned into parts of their own."""
    for part in parts:
        if (tool := _obj(part.get("toolCall"))) is not None and not _is_media_processing(tool, "args"):
            return True
        if (tool := _obj(part.get("toolResponse"))) is not None and not _is_media_processing(
            tool, "response"
        ):
            return True
    return False


def _executable_code_call(code: JSON, *, file_search: bool) -> NativeToolCallPart:
    """``executableCode`` as a code-execution call, or a file-search call for ``file_search.query(...)``."""
    tool_call_id = generate_tool_call_id()
    source = code.get("code")
    if file_search and isinstance(source, str) and source and (match := _FILE_SEARCH_QUERY.search(source)):
        query = match.group(2).replace("\\\\", "\\").replace('\\"', '"').replace("\\'", "'")
        return NativeToolCallPart("file_search", {"query": query}, tool_call_id, provider_name=PROVIDER_NAME)
    return NativeToolCallPart("code_execution", _snake(code), tool_call_id, provider_name=PROVIDER_NAME)


def _code_result(result: JSON, tool_call_id: str | None) -> NativeToolReturnPart:
    if tool_call_id is None:
        raise UnexpectedModelBehavior("codeExecutionResult without a preceding executableCode")
    return NativeToolReturnPart("code_execution", _snake(result), tool_call_id, provider_name=PROVIDER_NAME)


def _file_search_enabled(params: ModelRequestParameters) -> bool:
    return any(
        getattr(t, "kind", t if isinstance(t, str) else None) == "file_search" for t in params.native_tools
    )


# -- grounding --------------------------------------------------------------------------------


def _character_index(text: str, byte_index: object) -> int | None:
    if type(byte_index) is not int:
        return None
    encoded = text.encode()
    if not 0 <= byte_index <= len(encoded):
        return None
    try:
        return len(encoded[:byte_index].decode())
    except UnicodeDecodeError:
        return None


def _segment_anchor(text: str, segment: JSON, byte_offset: int = 0) -> JSON | None:
    start_index = segment.get("startIndex") or 0
    end_index = segment.get("endIndex") or 0
    if type(start_index) is not int or type(end_index) is not int:
        return None
    start = _character_index(text, start_index - byte_offset)
    end = _character_index(text, end_index - byte_offset)
    if start is not None and end is not None and start < end and text[start:end] == segment.get("text"):
        return {"start": start, "end": end, "kind": "content"}
    return None


def _locate_segment(text_parts: dict[int, str], segment: JSON) -> tuple[int | None, JSON | None]:
    """The text part a grounding segment belongs to, and its anchor there (as 2.68 locates it)."""
    index = segment.get("partIndex")
    if type(index) is int and index in text_parts:
        if anchor := _segment_anchor(text_parts[index], segment):
            return index, anchor
    else:
        offset = 0
        for i, text in text_parts.items():
            if anchor := _segment_anchor(text, segment, offset):
                return i, anchor
            offset += len(text.encode())
    found = _segment_part_index(text_parts, segment)
    seg_text = segment.get("text")
    if found is None or not isinstance(seg_text, str) or not seg_text:
        return found, None
    # the offsets are sometimes a byte off; a text that occurs once still anchors the citation
    text = text_parts[found]
    start = text.find(seg_text)
    if start != -1 and text.find(seg_text, start + 1) == -1:
        return found, {"start": start, "end": start + len(seg_text), "kind": "content"}
    return found, None


def _segment_part_index(text_parts: dict[int, str], segment: JSON) -> int | None:
    index = segment.get("partIndex")
    seg_text = segment.get("text")
    if not isinstance(seg_text, str):
        seg_text = None
    if type(index) is int and index in text_parts and (seg_text is None or seg_text in text_parts[index]):
        return index
    if seg_text is not None:
        candidates = [i for i, text in text_parts.items() if seg_text in text]
        if len(candidates) == 1:
            return candidates[0]
    if len(text_parts) == 1:
        return next(iter(text_parts))
    return None


def _citation_source(chunk: JSON) -> JSON | None:
    if (web := _obj(chunk.get("web"))) and web.get("uri"):
        return {"url": web["uri"], "title": web.get("title"), "excerpts": [], "kind": "web"}
    if (maps := _obj(chunk.get("maps"))) and maps.get("uri"):
        excerpts = [maps["text"]] if maps.get("text") else []
        return {"url": maps["uri"], "title": maps.get("title"), "excerpts": excerpts, "kind": "web"}
    if (image := _obj(chunk.get("image"))) and image.get("sourceUri"):
        return {"url": image["sourceUri"], "title": image.get("title"), "excerpts": [], "kind": "web"}
    if (context := _obj(chunk.get("retrievedContext"))) is not None:
        rag = _obj(context.get("ragChunk")) or {}
        excerpts = list(dict.fromkeys(t for t in (context.get("text"), rag.get("text")) if t))
        if context.get("documentName") or context.get("title") or excerpts:
            return {
                "document_id": context.get("documentName"),
                "title": context.get("title"),
                "excerpts": excerpts,
                "kind": "document",
            }
    return None


def _citations(text_parts: dict[int, str], grounding: JSON | None) -> dict[int, tuple[list[JSON], JSON]]:
    """Grounding supports → the citations, and the raw citation data, of the text part each one belongs to."""
    if not grounding:
        return {}
    supports = _arr(grounding.get("groundingSupports"))
    if not supports:
        return {}
    chunks = _arr(grounding.get("groundingChunks"))
    by_part: dict[int, tuple[list[JSON], JSON]] = {}
    for raw in supports:
        support = _obj(raw)
        if support is None:
            continue
        segment = _obj(support.get("segment"))
        if segment is None or segment.get("endIndex") is None:
            continue
        index, anchor = _locate_segment(text_parts, segment)
        if index is None:
            continue
        support_chunks = [
            _obj(chunks[i]) if type(i) is int and 0 <= i < len(chunks) else None
            for i in _arr(support.get("groundingChunkIndices"))
        ]
        sources = [source for c in support_chunks if c and (source := _citation_source(c))]
        if not sources:
            continue
        details = {**_snake(support), "grounding_chunks": [_snake(c) if c else None for c in support_chunks]}
        citations, provider_details = by_part.setdefault(index, ([], {"citations": []}))
        citations.append({"sources": sources, "anchor": anchor})
        provider_details["citations"].append(details)
    return by_part


def _web_search_sources(grounding: JSON | None) -> list[JSON]:
    out: list[JSON] = []
    for chunk in _arr((grounding or {}).get("groundingChunks")):
        if (c := _obj(chunk)) is not None and (web := _obj(c.get("web"))) is not None:
            out.append({"domain": web.get("domain"), "title": web.get("title"), "uri": web.get("uri")})
    return out


def _web_search_parts(grounding: JSON | None) -> list[ModelResponsePart]:
    queries = _arr((grounding or {}).get("webSearchQueries"))
    if not grounding or not queries:
        return []
    tool_call_id = generate_tool_call_id()
    return [
        NativeToolCallPart("web_search", {"queries": queries}, tool_call_id, provider_name=PROVIDER_NAME),
        NativeToolReturnPart(
            "web_search",
            _web_search_sources(grounding) if grounding.get("groundingChunks") else None,
            tool_call_id,
            provider_name=PROVIDER_NAME,
        ),
    ]


def _retrieved_contexts(grounding: JSON | None) -> list[JSON]:
    out: list[JSON] = []
    for chunk in _arr((grounding or {}).get("groundingChunks")):
        if (c := _obj(chunk)) is not None and (context := _obj(c.get("retrievedContext"))) is not None:
            out.append(_snake(context))
    return out


def _grounding_parts_after_text(
    grounding: JSON | None, file_search_ids: list[str]
) -> list[ModelResponsePart]:
    """The file-search and web-search parts built from the grounding metadata, after the text it grounds."""
    parts: list[ModelResponsePart] = []
    contexts = _retrieved_contexts(grounding)
    if not file_search_ids and contexts:
        tool_call_id = generate_tool_call_id()
        parts += [
            NativeToolCallPart("file_search", {}, tool_call_id, provider_name=PROVIDER_NAME),
            NativeToolReturnPart("file_search", contexts, tool_call_id, provider_name=PROVIDER_NAME),
        ]
    for tool_call_id in file_search_ids:
        if contexts:
            parts.append(
                NativeToolReturnPart("file_search", contexts, tool_call_id, provider_name=PROVIDER_NAME)
            )
    parts += _web_search_parts(grounding)
    return parts


def _url_context_parts(url_context: JSON | None) -> list[ModelResponsePart]:
    """The web-fetch call and return built from ``urlContextMetadata`` (it comes before the text)."""
    entries = _arr((url_context or {}).get("urlMetadata"))
    if not entries:
        return []
    metadata = [cast(JSON, m) for m in entries if isinstance(m, dict)]
    tool_call_id = generate_tool_call_id()
    urls = [m["retrievedUrl"] for m in metadata if m.get("retrievedUrl")]
    return [
        NativeToolCallPart(
            "web_fetch", {"urls": urls} if urls else None, tool_call_id, provider_name=PROVIDER_NAME
        ),
        NativeToolReturnPart(
            "web_fetch",
            [
                {"retrieved_url": m.get("retrievedUrl"), "url_retrieval_status": m.get("urlRetrievalStatus")}
                for m in metadata
            ],
            tool_call_id,
            provider_name=PROVIDER_NAME,
        ),
    ]


def _fill_file_search(part: NativeToolReturnPart, grounding: JSON | None) -> NativeToolReturnPart:
    if part.tool_name != "file_search" or part.content is not None:
        return part
    contexts = _retrieved_contexts(grounding)
    return attrs.evolve(part, content=contexts) if contexts else part


def _fill_web_search(part: NativeToolReturnPart, grounding: JSON | None) -> NativeToolReturnPart:
    sources = _web_search_sources(grounding)
    if not sources:
        return part
    content: object = part.content
    base = cast(JSON, content) if isinstance(content, dict) else {}
    return attrs.evolve(part, content={**base, "sources": sources})


def _grounding_searches(candidates: Sequence[object]) -> tuple[set[str], bool]:
    queries: set[str] = set()
    returned = False
    for raw in candidates:
        candidate = _obj(raw)
        grounding = _obj(candidate.get("groundingMetadata")) if candidate is not None else None
        if grounding is None:
            continue
        queries.update(q for q in _arr(grounding.get("webSearchQueries")) if isinstance(q, str) and q.strip())
        for chunk in _arr(grounding.get("groundingChunks")):
            if (c := _obj(chunk)) is not None and (web := _obj(c.get("web"))) and web.get("uri"):
                returned = True
    return queries, returned


def _with_web_searches(
    usage: RequestUsage, candidates: Sequence[object], *, billed_per_prompt: bool
) -> RequestUsage:
    """``usage`` with Google Search grounding counted (``web_search_requests`` detail, ``web_searches``)."""
    queries, returned = _grounding_searches(candidates)
    if not queries:
        return usage
    usage = attrs.evolve(
        usage, details={**usage.details, "web_search_requests": len(queries)}, extra=dict(usage.extra)
    )
    searches = (1 if returned else 0) if billed_per_prompt else len(queries)
    if searches:
        usage.extra["web_searches"] = searches
    return usage


# -- usage ------------------------------------------------------------------------------------

_NAMED_USAGE: Final = frozenset(
    {"input_tokens", "cache_read_tokens", "output_tokens", "output_reasoning_tokens", "input_audio_tokens",
     "cache_audio_read_tokens", "output_audio_tokens"}
)  # fmt: skip
#: genai-prices' Google extractor, summed per destination: the usageMetadata counts ...
_SCALAR_DESTINATIONS: Final[tuple[tuple[str, tuple[str, ...], str | None], ...]] = (
    ("promptTokenCount", ("input_tokens",), None),
    ("cachedContentTokenCount", ("cache_read_tokens",), "cached_content_tokens"),
    ("candidatesTokenCount", ("output_tokens",), None),
    ("thoughtsTokenCount", ("output_tokens", "output_reasoning_tokens"), "thoughts_tokens"),
    ("toolUsePromptTokenCount", ("input_tokens", "input_tool_tokens"), "tool_use_prompt_tokens"),
)


def _by_modality(prefix: str, *, tool: bool = False) -> dict[str, tuple[str, ...]]:
    image = f"{prefix}_image_tokens" if prefix != "cache" else "cache_image_read_tokens"

    def dest(modality: str) -> tuple[str, ...]:
        name = (
            image
            if modality in ("image", "document")
            else (f"cache_{modality}_read_tokens" if prefix == "cache" else f"{prefix}_{modality}_tokens")
        )
        return (
            (name, f"input_{'image' if modality == 'document' else modality}_tool_tokens")
            if tool
            else (name,)
        )

    return {m.upper(): dest(m) for m in ("text", "audio", "image", "document", "video")}


#: ... and the first entry of each modality in the details lists, with this prefix in ``details``.
_DETAIL_LISTS: Final[tuple[tuple[str, str, dict[str, tuple[str, ...]]], ...]] = (
    ("promptTokensDetails", "prompt", _by_modality("input")),
    ("cacheTokensDetails", "cache", _by_modality("cache")),
    ("candidatesTokensDetails", "candidates", _by_modality("output")),
    ("toolUsePromptTokensDetails", "tool_use_prompt", _by_modality("input", tool=True)),
)


#: What one details list adds: its ``details`` entries, its extracted counts, and whether they are valid.
_Contribution: TypeAlias = tuple[dict[str, int], dict[str, int], bool]


def _list_contribution(
    entries: list[object], prefix: str, by_modality: dict[str, tuple[str, ...]]
) -> _Contribution:
    details: dict[str, int] = {}
    values: dict[str, int] = {}
    valid = True
    seen: set[str] = set()
    for entry in entries:
        if type(entry) is not dict:
            continue
        item = cast(JSON, entry)
        modality, count = item.get("modality"), item.get("tokenCount")
        if not modality or type(modality) is not str:
            continue
        if type(count) is int and count:
            details[f"{modality.lower()}_{prefix}_tokens"] = count
        if modality not in seen and (found := by_modality.get(modality)) is not None:
            seen.add(modality)  # genai-prices reads the first entry of a modality
            if count is None:
                continue
            if type(count) is not int or count < 0:
                valid = False  # genai-prices rejects the whole extraction
                continue
            for dest in found:
                values[dest] = values.get(dest, 0) + count
    return details, values, valid


def map_usage(
    metadata: JSON,
    existing: RequestUsage | None = None,
    cache: dict[str, tuple[object, _Contribution]] | None = None,
) -> RequestUsage:
    """``usageMetadata`` → :class:`RequestUsage` as 2.68 maps it (genai-prices' Google extractor + details).

    ``existing`` is the usage so far of a stream: its details survive unless replaced, and token fields a
    later (cumulative) snapshot drops keep their earlier values. ``cache`` (one per stream) keeps what
    each details list added, for the next snapshot that repeats it (most of them do).
    """
    g = metadata.get
    details: dict[str, int] = {}
    values: dict[str, int] = {}
    valid, reported = True, False
    for key, destinations, detail in _SCALAR_DESTINATIONS:
        value = g(key)
        if value is None:
            continue
        if type(value) is not int or value < 0:
            reported = reported or bool(value)
            valid = False
            continue
        if value:
            reported = True
            if detail is not None:
                details[detail] = value
        for dest in destinations:
            values[dest] = values.get(dest, 0) + value
    for key, prefix, by_modality in _DETAIL_LISTS:
        entries = g(key)
        if not entries or type(entries) is not list:
            continue
        reported = True
        known = cache.get(key) if cache is not None else None
        if known is not None and known[0] == entries:
            contribution = known[1]
        else:
            contribution = _list_contribution(cast(list[object], entries), prefix, by_modality)
            if cache is not None:
                cache[key] = (entries, contribution)
        details.update(contribution[0])
        for dest, count in contribution[1].items():
            values[dest] = values.get(dest, 0) + count
        valid = valid and contribution[2]
    if not reported:
        return existing if existing is not None else RequestUsage()
    if existing is not None:
        details = {**existing.details, **details}
    if not valid:
        values = {}  # genai-prices rejects the whole extraction; only the details are kept
    extra = {k: n for k, n in values.items() if k not in _NAMED_USAGE}
    v = values.get
    if existing is None:
        return RequestUsage(
            input_tokens=v("input_tokens", 0),
            cache_read_tokens=v("cache_read_tokens", 0),
            output_tokens=v("output_tokens", 0),
            output_reasoning_tokens=v("output_reasoning_tokens", 0),
            input_audio_tokens=v("input_audio_tokens", 0),
            cache_audio_read_tokens=v("cache_audio_read_tokens", 0),
            output_audio_tokens=v("output_audio_tokens", 0),
            details=details,
            extra=extra,
        )
    # a later (cumulative) snapshot that drops a token field keeps its earlier value (not the details'
    # modality counters, nor reasoning tokens: genai-prices' fields only, as upstream backfills)
    e = existing
    return RequestUsage(
        input_tokens=v("input_tokens") or e.input_tokens,
        cache_write_tokens=e.cache_write_tokens,
        cache_read_tokens=v("cache_read_tokens") or e.cache_read_tokens,
        output_tokens=v("output_tokens") or e.output_tokens,
        output_reasoning_tokens=v("output_reasoning_tokens", 0),
        input_audio_tokens=v("input_audio_tokens") or e.input_audio_tokens,
        cache_audio_read_tokens=v("cache_audio_read_tokens") or e.cache_audio_read_tokens,
        output_audio_tokens=v("output_audio_tokens") or e.output_audio_tokens,
        details=details,
        extra=extra,
    )


def _context_metadata(metadata: JSON | None) -> dict[str, Any] | None:
    """The first request's input tokens, when the usage sums several (a long decode)."""
    if metadata is None:
        return None
    initial = metadata.get("initialPromptTokenCount")
    if type(initial) is not int or initial == metadata.get("promptTokenCount"):
        return None
    return {"__pydantic_ai__": {"context_input_tokens": initial}}


# -- provider details -------------------------------------------------------------------------


def _safety_ratings(raw: object) -> list[JSON]:
    return [
        {k: r.get(k) for k in _SAFETY_RATING_FIELDS} for item in _arr(raw) if (r := _obj(item)) is not None
    ]


def _finish_details(candidate: JSON) -> tuple[FinishReason | None, JSON] | None:
    reason = candidate.get("finishReason")
    if not reason:
        return None
    if not isinstance(reason, str):
        raise TypeError("finishReason must be a string")
    details: JSON = {"finish_reason": reason}
    if ratings := _safety_ratings(candidate.get("safetyRatings")):
        details["safety_ratings"] = ratings
    return FINISH_REASONS.get(reason), details


def _blocked_details(data: JSON) -> JSON | None:
    feedback = _obj(data.get("promptFeedback"))
    if feedback is None or not feedback.get("blockReason"):
        return None
    details: JSON = {"block_reason": feedback["blockReason"]}
    if feedback.get("blockReasonMessage"):
        details["block_reason_message"] = feedback["blockReasonMessage"]
    if ratings := _safety_ratings(feedback.get("safetyRatings")):
        details["safety_ratings"] = ratings
    return details


_FRACTION: Final = re.compile(r"\.(\d+)")


def _timestamp(value: object) -> datetime | None:
    """``createTime`` (RFC 3339, nanoseconds allowed) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"), count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _traffic_type(data: JSON) -> str | None:
    usage = _obj(data.get("usageMetadata"))
    traffic = usage.get("trafficType") if usage is not None else None
    return traffic if isinstance(traffic, str) and traffic else None


def _candidate_details(
    data: JSON, candidate: JSON | None, headers: Mapping[str, str] | None
) -> tuple[FinishReason | None, JSON]:
    finish_reason: FinishReason | None = None
    details: JSON = {}
    if candidate is not None and (finished := _finish_details(candidate)) is not None:
        finish_reason, details = finished
    elif candidate is None and (blocked := _blocked_details(data)) is not None:
        details, finish_reason = blocked, "content_filter"
    if (created := _timestamp(data.get("createTime"))) is not None:
        details["timestamp"] = created
    if headers is not None and (tier := headers.get("x-gemini-service-tier")):
        details["service_tier"] = tier.lower()
    if (traffic := _traffic_type(data)) is not None:
        details["traffic_type"] = traffic
    if candidate is not None and (logprobs := _obj(candidate.get("logprobsResult"))) is not None:
        details["logprobs"] = _snake(logprobs, drop_none=False)
        details["avg_logprobs"] = candidate.get("avgLogprobs")
    return finish_reason, details


# -- parsing ----------------------------------------------------------------------------------

_SHAPE_ERRORS: Final = (KeyError, TypeError, ValueError, AttributeError, IndexError, RecursionError)


def parse_generate_content(
    data: Any,
    params: ModelRequestParameters,
    *,
    model_name: str,
    provider_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    profile: GoogleProfile | None = None,
) -> ModelResponse:
    """The :class:`ModelResponse` for a decoded ``GenerateContentResponse``.

    Raises:
        UnexpectedModelBehavior: the body does not have the shape of a response, or holds a part
            Gemini is not known to send.
    """
    try:
        return _parse(
            data, params, model_name, provider_url, headers, profile or GoogleProfile.for_model(model_name)
        )
    except UnexpectedModelBehavior:
        raise
    except _SHAPE_ERRORS as exc:
        raise UnexpectedModelBehavior(
            f"the Gemini response has an unexpected shape ({type(exc).__name__}: {exc})",
            orjson.dumps(data, default=repr).decode()[:2000],
        ) from exc


def _parse(
    data: Any,
    params: ModelRequestParameters,
    model_name: str,
    provider_url: str | None,
    headers: Mapping[str, str] | None,
    profile: GoogleProfile,
) -> ModelResponse:
    body = _obj(data)
    if body is None:
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    candidates = _arr(body.get("candidates"))
    candidate = _obj(candidates[0]) if candidates else None
    if candidates and candidate is None:
        raise TypeError("candidates must be objects")
    finish_reason, provider_details = _candidate_details(body, candidate, headers)
    content = _obj(candidate.get("content")) if candidate is not None else None
    raw_parts = _arr(content.get("parts")) if content is not None else []
    parts_json: list[JSON] = []
    for raw in raw_parts:
        if (p := _obj(raw)) is None:
            raise TypeError("parts must be objects")
        parts_json.append(p)

    metadata = _obj(body.get("usageMetadata"))
    usage = map_usage(metadata) if metadata is not None else RequestUsage(unmeasured_requests=1)
    usage = _with_web_searches(usage, candidates, billed_per_prompt=profile.web_search_billed_per_prompt)

    grounding = _obj(candidate.get("groundingMetadata")) if candidate is not None else None
    invocations = _has_native_invocations(parts_json)
    items: list[ModelResponsePart] = []
    if not invocations and candidate is not None:
        items += _url_context_parts(_obj(candidate.get("urlContextMetadata")))
    text_parts = {
        i: p["text"]
        for i, p in enumerate(parts_json)
        if isinstance(p.get("text"), str) and p["text"] and not p.get("thought")
    }
    citations = _citations(text_parts, grounding)
    file_search = _file_search_enabled(params)
    code_call_id: str | None = None
    file_search_ids: list[str] = []
    last_web_search: int | None = None
    media_call_id: str | None = None
    media_call_without_id: int | None = None
    for index, part in enumerate(parts_json):
        details = _signature_details(part)
        item: ModelResponsePart | None
        if (code := part.get("executableCode")) is not None:
            item = _executable_code_call(_expect_obj(code, "executableCode"), file_search=file_search)
            if item.tool_name == "code_execution":
                code_call_id = item.tool_call_id
            else:
                file_search_ids.append(item.tool_call_id)
        elif (result := part.get("codeExecutionResult")) is not None:
            item = _code_result(_expect_obj(result, "codeExecutionResult"), code_call_id)
        else:
            item = _response_part(part)
        if item is None:
            continue
        if details:
            item = attrs.evolve(
                item,
                provider_name=PROVIDER_NAME,
                provider_details={**(item.provider_details or {}), **details},
            )
        if isinstance(item, TextPart) and (cited := citations.get(index)) is not None:
            item = attrs.evolve(
                item,
                citations=cited[0],
                provider_name=PROVIDER_NAME,
                provider_details={**(item.provider_details or {}), **cited[1]},
            )
        elif isinstance(item, NativeToolReturnPart):
            if item.tool_name == _MEDIA_PROCESSING:
                tool_response = _obj(part.get("toolResponse")) or {}
                if tool_response.get("id") is None and media_call_id is not None:
                    item = attrs.evolve(item, tool_call_id=media_call_id)
                elif media_call_without_id is not None:
                    call = items[media_call_without_id]
                    if isinstance(call, NativeToolCallPart):
                        items[media_call_without_id] = attrs.evolve(call, tool_call_id=item.tool_call_id)
                media_call_id = media_call_without_id = None
            elif item.tool_name == "web_search":
                last_web_search = len(items)
            else:
                item = _fill_file_search(item, grounding)
        elif isinstance(item, NativeToolCallPart):
            if item.tool_name == "file_search":
                file_search_ids.append(item.tool_call_id)
            elif item.tool_name == _MEDIA_PROCESSING:
                media_call_id = item.tool_call_id
                tool_call = _obj(part.get("toolCall")) or {}
                media_call_without_id = len(items) if tool_call.get("id") is None else None
        items.append(item)
    if last_web_search is not None:
        items[last_web_search] = _fill_web_search(
            cast(NativeToolReturnPart, items[last_web_search]), grounding
        )
    if not invocations:
        items += _grounding_parts_after_text(grounding, file_search_ids)

    model_version = body.get("modelVersion")
    response_id = body.get("responseId")
    return ModelResponse(
        items,
        usage=usage,
        model_name=model_version if isinstance(model_version, str) and model_version else model_name,
        provider_name=PROVIDER_NAME,
        provider_url=provider_url,
        canonical_system=PROVIDER_NAME,
        provider_details=provider_details or None,
        provider_response_id=response_id if isinstance(response_id, str) else None,
        finish_reason=finish_reason,
        metadata=_context_metadata(metadata),
    )


def _expect_obj(value: object, what: str) -> JSON:
    if (found := _obj(value)) is None:
        raise TypeError(f"{what} must be an object")
    return found


def _response_part(part: JSON) -> ModelResponsePart | None:
    """A part other than a code-execution step (None for a part the response leaves out)."""
    text = part.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        if not text and not part.get("thoughtSignature"):
            return None  # Gemini sends empty text parts; they are not kept
        return ThinkingPart(text) if part.get("thought") else TextPart(text)
    if (call := part.get("functionCall")) is not None:
        function_call = _expect_obj(call, "functionCall")
        name = function_call.get("name")
        if not isinstance(name, str):
            raise UnexpectedModelBehavior(
                f"Unsupported response from Gemini: a function call without a name: {part!r}"
            )
        args = function_call.get("args")
        if args is not None and not isinstance(args, dict):
            raise TypeError("functionCall.args must be an object")
        return ToolCallPart(name, cast(JSON | None, args), _tool_id(function_call.get("id")))
    if (tool_call := part.get("toolCall")) is not None:
        return _native_call(_expect_obj(tool_call, "toolCall"))
    if (tool_response := part.get("toolResponse")) is not None:
        return _native_return(_expect_obj(tool_response, "toolResponse"))
    if (inline := part.get("inlineData")) is not None:
        return FilePart(_binary(_expect_obj(inline, "inlineData")))
    if _is_signature_only(part):
        return None  # an agentic media-processing step: nothing to show, and rejected when replayed
    raise UnexpectedModelBehavior(f"Unsupported response from Gemini: {part!r}")


# =============================================================================================
# 4. Stream
# =============================================================================================


_META_FIELDS: Final = tuple(f.name for f in attrs.fields(StreamMeta))
_set: Final = object.__setattr__


def _meta_with(meta: StreamMeta, changes: JSON) -> StreamMeta:
    """``attrs.evolve(meta, **changes)`` at a fraction of the cost (once per chunk, on the hot path).

    StreamMeta is a frozen, slotted attrs class without validators or converters, so a copy can be
    filled slot by slot.
    """
    new = StreamMeta.__new__(StreamMeta)
    get = changes.get
    for name in _META_FIELDS:
        _set(new, name, get(name, getattr(meta, name)))
    return new


class GoogleStreamMapper:
    """SSE events of one ``streamGenerateContent?alt=sse`` reply → raw part events.

    Each event is a whole ``GenerateContentResponse`` holding only the new parts and a cumulative usage
    snapshot. Consecutive text parts (across events too) extend one :class:`TextPart`; thoughts extend
    the latest :class:`ThinkingPart`; anything else starts a part of its own. Kept lean because it runs
    per delta: one ``orjson.loads`` per event, the usage recomputed only when its snapshot changed, and
    the meta rebuilt only when something in it did. Grounding metadata (web search, citations) arrives
    on the final event and becomes parts in :meth:`finish`.
    """

    __slots__ = (
        "_billed_per_prompt",
        "_blocked",
        "_code_call_id",
        "_continue_text_run",
        "_details",
        "_file_search",
        "_file_search_ids",
        "_grounding",
        "_invocations",
        "_last_metadata",
        "_media_call_id",
        "_media_call_vendor",
        "_new_request_vendor",
        "_next_vendor",
        "_parts",
        "_pending_file_search",
        "_pending_web_search",
        "_seen",
        "_text_runs",
        "_usage_cache",
        "_usage_received",
        "meta",
    )

    def __init__(
        self,
        parts: PartsManager,
        params: ModelRequestParameters,
        *,
        model_name: str,
        provider_url: str | None = None,
        profile: GoogleProfile | None = None,
    ) -> None:
        self._parts = parts
        self._file_search = _file_search_enabled(params)
        self._billed_per_prompt = (
            profile or GoogleProfile.for_model(model_name)
        ).web_search_billed_per_prompt
        self._seen = False
        self._usage_received = False
        self._last_metadata: JSON | None = None
        self._usage_cache: dict[str, tuple[object, _Contribution]] = {}
        self._details: JSON | None = None
        self._blocked = False
        self._invocations = False
        self._grounding: JSON | None = None
        self._text_runs: list[int] = []  # vendor ids of the text parts, for citations
        self._continue_text_run = False
        self._new_request_vendor: int | None = None
        self._next_vendor = 0
        self._code_call_id: str | None = None
        self._file_search_ids: list[str] = []
        self._media_call_id: str | None = None
        self._media_call_vendor: int | None = None
        self._pending_web_search: NativeToolReturnPart | None = None
        self._pending_file_search: list[NativeToolReturnPart] = []
        self.meta = StreamMeta(
            model_name=model_name,
            provider_name=PROVIDER_NAME,
            provider_url=provider_url,
            canonical_system=PROVIDER_NAME,
        )

    def _vendor(self) -> int:
        self._next_vendor += 1
        return self._next_vendor

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event (one ``GenerateContentResponse``), appending its raw events to ``out``.

        Raises:
            ModelAPIError: the event's data is not JSON (as the SDK reports it).
            UnexpectedModelBehavior: the event's data cannot be understood.
            ModelHTTPError: an error chunk (categorized, ``in_stream=True``).
        """
        raw = event.data
        if not raw:
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ModelAPIError(
                self.meta.model_name or "",
                "Failed to decode response as JSON: Failed to parse response as JSON. "
                f"Raw response: {raw[:2000]}",
            ) from None
        try:
            if type(data) is not dict:
                raise TypeError(f"expected a JSON object, got {type(data).__name__}")
            chunk = cast(JSON, data)
            if (error := chunk.get("error")) is not None:
                raise stream_error(self.meta.model_name or "", chunk, error)
            first = not self._seen
            self._seen = True
            self._chunk(chunk, first, out)
        except (ModelAPIError, UnexpectedModelBehavior):
            raise
        except _SHAPE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"could not understand a Gemini stream event ({type(exc).__name__}: {exc})", raw[:2000]
            ) from exc

    def _chunk(self, chunk: JSON, first: bool, out: list[ModelResponseStreamEvent]) -> None:
        meta = self.meta
        changes: JSON = {}
        if first:
            model_version = chunk.get("modelVersion")
            if isinstance(model_version, str) and model_version:
                changes["model_name"] = model_version
            if (created := _timestamp(chunk.get("createTime"))) is not None:
                self._details = {"timestamp": created}
                changes["provider_details"] = self._details
        candidates = chunk.get("candidates")
        metadata = chunk.get("usageMetadata")
        if metadata is not None:
            if type(metadata) is not dict:
                raise TypeError("usageMetadata must be an object")
            self._usage_received = True
            if metadata != self._last_metadata:
                usage_metadata = self._last_metadata = cast(JSON, metadata)
                changes["usage"] = map_usage(usage_metadata, meta.usage, self._usage_cache)
                if (traffic := usage_metadata.get("trafficType")) and isinstance(traffic, str):
                    self._details = {**(self._details or {}), "traffic_type": traffic}
                    changes["provider_details"] = self._details
                if "initialPromptTokenCount" in usage_metadata and (
                    context := _context_metadata(usage_metadata)
                ):
                    changes["metadata"] = context
        if not candidates:
            if (blocked := _blocked_details(chunk)) is not None:
                self._blocked = True
                self._details = {**(self._details or {}), **blocked}
                changes["provider_details"] = self._details
                changes["finish_reason"] = "content_filter"
                if isinstance(response_id := chunk.get("responseId"), str) and response_id:
                    changes["provider_response_id"] = response_id
            if changes:
                self.meta = _meta_with(meta, changes)
            return
        if type(candidates) is not list:
            raise TypeError("candidates must be a list")
        candidate_list = cast(list[object], candidates)
        first_candidate = candidate_list[0]
        if type(first_candidate) is not dict:
            raise TypeError("candidates must be objects")
        candidate = cast(JSON, first_candidate)
        response_id = chunk.get("responseId")
        if isinstance(response_id, str) and response_id and response_id != meta.provider_response_id:
            if meta.provider_response_id is not None:
                self._new_request_vendor = self._vendor()  # a continuation's first output starts a new part
            changes["provider_response_id"] = response_id
        if candidate.get("finishReason") and not self._blocked and (finished := _finish_details(candidate)):
            self._details = {**(self._details or {}), **finished[1]}
            changes["provider_details"] = self._details
            changes["finish_reason"] = finished[0]
        grounding = candidate.get("groundingMetadata")
        if grounding is not None:
            self._grounding = _obj(grounding)
            changes["usage"] = _with_web_searches(
                changes.get("usage", meta.usage), candidate_list, billed_per_prompt=self._billed_per_prompt
            )
        if changes:
            self.meta = _meta_with(meta, changes)
        if not self._invocations and (url_context := candidate.get("urlContextMetadata")) is not None:
            for part in _url_context_parts(_obj(url_context)):
                out += self._parts.handle_part(vendor_part_id=None, part=part)
        content = candidate.get("content")
        if content is None:
            return
        if type(content) is not dict:
            raise TypeError("content must be an object")
        raw_parts = cast(JSON, content).get("parts")
        if not raw_parts:
            return
        if type(raw_parts) is not list:
            raise TypeError("parts must be a list")
        for raw in cast(list[object], raw_parts):
            if type(raw) is not dict:
                raise TypeError("parts must be objects")
            part_json = cast(JSON, raw)
            if not self._invocations and ("toolCall" in part_json or "toolResponse" in part_json):
                self._invocations = _has_native_invocations([part_json])
            self._part(part_json, out)

    def _part(self, part: JSON, out: list[ModelResponseStreamEvent]) -> None:
        text = part.get("text")
        signature = part.get("thoughtSignature")
        details = _signature_details(part) if signature else None
        if text is not None:
            if type(text) is not str:
                raise TypeError("text must be a string")
            if not text and details is None:
                return  # Gemini's trailing empty text (often with the finish reason)
            provider_name = PROVIDER_NAME if details else None
            if part.get("thought"):
                self._continue_text_run = False
                out += self._parts.handle_thinking_delta(
                    vendor_part_id=self._new_request_vendor,
                    content=text,
                    provider_name=provider_name,
                    provider_details=details,
                )
            else:
                if not self._continue_text_run or self._new_request_vendor is not None:
                    self._text_runs.append(self._vendor())
                    self._continue_text_run = True
                out += self._parts.handle_text_delta(
                    vendor_part_id=self._text_runs[-1],
                    content=text,
                    provider_name=provider_name,
                    provider_details=details,
                )
            self._new_request_vendor = None
            return
        if part.get("functionResponse") is not None or (details is not None and _is_signature_only(part)):
            return  # neither makes a part of its own, and neither ends a text run
        self._continue_text_run = False
        if (call := part.get("functionCall")) is not None:
            function_call = _expect_obj(call, "functionCall")
            name = function_call.get("name")
            args = function_call.get("args")
            if not isinstance(name, str) or (args is not None and type(args) is not dict):
                raise TypeError("a function call needs a name and object args")
            tool_call_id = function_call.get("id")
            if tool_call_id is not None and not isinstance(tool_call_id, str):
                raise TypeError("functionCall.id must be a string")
            out += self._parts.handle_tool_call_part(
                vendor_part_id=None,
                tool_name=name,
                args=cast(JSON | None, args),
                tool_call_id=tool_call_id or None,
                provider_name=PROVIDER_NAME if details else None,
                provider_details=details,
            )
        elif (inline := part.get("inlineData")) is not None:
            if part.get("thought"):
                return  # interim images of an image model's thinking are not exposed
            file_part = FilePart(
                _binary(_expect_obj(inline, "inlineData")),
                provider_name=PROVIDER_NAME if details else None,
                provider_details=details,
            )
            out += self._parts.handle_part(vendor_part_id=None, part=file_part)
        elif (tool_call := part.get("toolCall")) is not None:
            self._native_call(_expect_obj(tool_call, "toolCall"), details, out)
        elif (tool_response := part.get("toolResponse")) is not None:
            self._native_return(_expect_obj(tool_response, "toolResponse"), details, out)
        elif (code := part.get("executableCode")) is not None:
            call_part = _executable_code_call(
                _expect_obj(code, "executableCode"), file_search=self._file_search
            )
            if call_part.tool_name == "file_search":
                self._file_search_ids.append(call_part.tool_call_id)
            else:
                self._code_call_id = call_part.tool_call_id
            out += self._parts.handle_part(
                vendor_part_id=None, part=attrs.evolve(call_part, provider_details=details)
            )
        elif (result := part.get("codeExecutionResult")) is not None:
            return_part = _code_result(_expect_obj(result, "codeExecutionResult"), self._code_call_id)
            out += self._parts.handle_part(
                vendor_part_id=None, part=attrs.evolve(return_part, provider_details=details)
            )
        elif details is None or not _is_signature_only(part):
            raise UnexpectedModelBehavior(f"Unsupported response from Gemini: {part!r}")

    def _native_call(
        self, tool_call: JSON, details: JSON | None, out: list[ModelResponseStreamEvent]
    ) -> None:
        call = attrs.evolve(_native_call(tool_call), provider_details=details)
        vendor = self._vendor()
        if call.tool_name == _MEDIA_PROCESSING:
            self._media_call_id = call.tool_call_id
            self._media_call_vendor = vendor if tool_call.get("id") is None else None
        out += self._parts.handle_part(vendor_part_id=vendor, part=call)

    def _native_return(
        self, tool_response: JSON, details: JSON | None, out: list[ModelResponseStreamEvent]
    ) -> None:
        part = attrs.evolve(_native_return(tool_response), provider_details=details)
        if part.tool_name == _MEDIA_PROCESSING:
            if tool_response.get("id") is None and self._media_call_id is not None:
                part = attrs.evolve(part, tool_call_id=self._media_call_id)
            elif self._media_call_vendor is not None:
                # the response supplies the id the call left out; tell stream consumers too
                out += self._parts.handle_tool_call_delta(
                    vendor_part_id=self._media_call_vendor, tool_call_id=part.tool_call_id
                )
            self._media_call_id = self._media_call_vendor = None
            out += self._parts.handle_part(vendor_part_id=None, part=part)
        elif part.tool_name == "web_search":
            # only the response's last web_search return gets the sources: an earlier one is complete now
            if (previous := self._pending_web_search) is not None:
                out += self._parts.handle_part(vendor_part_id=None, part=previous)
            self._pending_web_search = part
        elif part.tool_name == "file_search" and part.content is None:
            self._pending_file_search.append(part)
        else:
            out += self._parts.handle_part(vendor_part_id=None, part=part)

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: grounding citations and parts, then the final usage.

        Raises:
            UnexpectedModelBehavior: the stream held no response at all.
        """
        if not self._seen:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        parts = self._parts
        grounding = self._grounding
        if grounding is not None and self._text_runs:
            texts: dict[int, str] = {}
            for i, vendor in enumerate(self._text_runs):
                found = parts.get_part_by_vendor_id(vendor)
                if isinstance(found, TextPart) and found.content:
                    texts[i] = found.content
            for i, (citations, details) in _citations(texts, grounding).items():
                out += parts.handle_text_delta(
                    vendor_part_id=self._text_runs[i],
                    content="",
                    provider_name=PROVIDER_NAME,
                    provider_details=details,
                    citations=citations,
                )
        for pending in self._pending_file_search:
            out += parts.handle_part(vendor_part_id=None, part=_fill_file_search(pending, grounding))
        if (web_search := self._pending_web_search) is not None:
            out += parts.handle_part(vendor_part_id=None, part=_fill_web_search(web_search, grounding))
        if not self._invocations:
            for part in _grounding_parts_after_text(grounding, self._file_search_ids):
                out += parts.handle_part(vendor_part_id=None, part=part)
        if not self._usage_received:
            usage = attrs.evolve(self.meta.usage, unmeasured_requests=1)
            self.meta = attrs.evolve(self.meta, usage=usage)


# =============================================================================================
# 5. Errors
# =============================================================================================

_CONTEXT_WINDOW_MESSAGES: Final = ("input token count", "number of tokens allowed")


def _error_details(body: object) -> list[JSON]:
    b = _obj(body)
    error = _obj(b.get("error")) if b is not None else None
    return [
        d
        for item in _arr(error.get("details") if error is not None else None)
        if (d := _obj(item)) is not None
    ]


def _exceeds_daily_quota(details: list[JSON]) -> bool:
    for detail in details:
        for violation in _arr(detail.get("violations")):
            quota_id = v.get("quotaId") if (v := _obj(violation)) is not None else None
            if isinstance(quota_id, str) and "PerDay" in quota_id:
                return True
    return False


def _google_category(status: object, message: object, body: object) -> type[ModelAPIError] | None:
    """2.68's category for a google.rpc status name (``RESOURCE_EXHAUSTED``...) and the body's details."""
    details = _error_details(body)
    reason = next((d["reason"] for d in details if isinstance(d.get("reason"), str)), None)
    if reason == "API_KEY_INVALID":
        return ModelAuthenticationError
    text = message.lower() if isinstance(message, str) else None
    if status == "RESOURCE_EXHAUSTED":
        # a daily quota resets at midnight Pacific time: waiting will not help
        return ModelQuotaExceededError if _exceeds_daily_quota(details) else ModelRateLimitError
    if status == "FAILED_PRECONDITION" and text is not None and "billing" in text:
        return ModelQuotaExceededError
    if status == "UNAVAILABLE":
        overloaded = text is not None and ("overloaded" in text or "over capacity" in text)
        return ModelOverloadedError if overloaded else ModelUnavailableError
    if status == "INTERNAL":
        return ModelServerError
    if status == "INVALID_ARGUMENT":
        if text is not None and any(m in text for m in _CONTEXT_WINDOW_MESSAGES):
            return ModelContextWindowExceededError
        return ModelRequestRejectedError
    if status in ("UNAUTHENTICATED", "PERMISSION_DENIED"):
        return ModelAuthenticationError
    if status == "NOT_FOUND":
        return ModelNotFoundError
    return None


def _retry_delay(body: object) -> float | None:
    """Seconds from the ``google.rpc.RetryInfo`` detail (``'14s'``, ``'0.5s'``), if any."""
    for detail in _error_details(body):
        raw = detail.get("retryDelay")
        if isinstance(raw, str) and raw.endswith("s"):
            try:
                seconds = float(raw[:-1])
            except ValueError:
                continue
            if 0 <= seconds < float("inf"):
                return seconds
    return None


def _fields(body: JSON) -> tuple[object, object]:
    """``status`` and ``message`` as the SDK reads them: top level first, then under ``error``."""
    error = _obj(body.get("error")) or {}
    status = body["status"] if "status" in body else error.get("status")
    message = body["message"] if "message" in body else error.get("message")
    return status, message


def api_error(
    model_name: str,
    *,
    status_code: int,
    body: object,
    headers: Mapping[str, str] | None = None,
    in_stream: bool = False,
) -> ModelHTTPError:
    """The categorized :class:`ModelHTTPError` for a Gemini error body (the whole body, as 2.68 keeps it).

    ``provider_error_code`` is the google.rpc status name; ``retry_after`` comes from a ``Retry-After``
    header, else the body's ``RetryInfo``.
    """
    b = _obj(body) or {}
    status, message = _fields(b)
    status_name = status if isinstance(status, str) else None
    suggested = None
    if (
        status_name == "NOT_FOUND"
        and isinstance(message, str)
        and message.startswith(f"models/{model_name} is not found ")
    ):
        suggested = suggest_model("google-gla", model_name)
    category = _google_category(status_name, message, body) or http_status_category(status_code, message)
    error = ModelHTTPError.for_category(
        category,
        status_code=status_code,
        model_name=model_name,
        body=body,
        headers=headers,
        suggested_model_id=suggested,
        provider_error_code=status_name,
        in_stream=in_stream,
    )
    if error.retry_after is None:
        error.retry_after = _retry_delay(body)
    return error


def _error_json(body: bytes) -> JSON | None:
    try:
        parsed: object = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if (items := _arr(parsed)) and (first := _obj(items[0])) is not None:
        return first  # some Google front ends wrap the error in an array
    return _obj(parsed)


def http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """The error for a 4xx/5xx reply; a body that is not a JSON object reads as the SDK reads it
    (``{'message': <text>, 'status': <reason phrase>}``)."""
    error_body = _error_json(body)
    if error_body is None:
        text = body.decode("utf-8", "replace")
        if len(text) > 2000:
            text = text[:2000] + "...(truncated)"
        try:
            phrase: str | None = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = None
        error_body = {"message": text, "status": phrase}
    return api_error(model_name, status_code=status, body=error_body, headers=dict(headers.items()))


def stream_error(model_name: str, chunk: JSON, error: object) -> ModelAPIError:
    """An error chunk inside a 200 stream: a categorized :class:`ModelHTTPError` with ``in_stream=True``
    (a plain :class:`ModelAPIError` when it names no HTTP status)."""
    code = chunk.get("code")
    if code is None and (e := _obj(error)) is not None:
        code = e.get("code")
    if type(code) is int and code >= 400:
        return api_error(model_name, status_code=code, body=chunk, in_stream=True)
    status, _ = _fields(chunk)
    return ModelAPIError(model_name, f"{code} {status}. {chunk}", body=chunk, in_stream=True)


# =============================================================================================
# The model
# =============================================================================================


def _model_path(model_name: str) -> str:
    # hardening: the name is one path segment whatever it holds (`../`, `?`, `#` cannot rewrite the URL)
    collection, _, name = model_name.partition("/")
    if collection not in ("models", "tunedModels") or not _:
        collection, name = "models", model_name
    return f"{collection}/{path_segment(name, what='Gemini model name')}"


class GoogleModel(HTTPModel):
    """A Gemini model behind Google's Gemini API (``{base_url}/v1beta/models/{model}:generateContent``).

    Args:
        model_name: ``'gemini-2.5-flash'``, ``'gemini-3-pro-preview'``, ...
        api_key: the API key; default ``GOOGLE_API_KEY``, then ``GEMINI_API_KEY`` (as the SDK and
            pydantic-ai read them). Sent as the ``x-goog-api-key`` header, never in the URL.
        base_url: default ``GEMINI_BASE_URL``, then ``GOOGLE_GEMINI_BASE_URL``, else
            ``https://generativelanguage.googleapis.com``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``.
        settings: default settings (:class:`GoogleModelSettings`).

    Raises:
        UserError: no API key was given and neither variable is set.
    """

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: Provider | None = None,
        settings: GoogleModelSettings | None = None,
    ) -> None:
        if provider is None:
            provider = provider_from_args(
                PROVIDER_NAME,
                api_key=api_key or None,  # an empty key falls back to the environment, as the SDK's
                base_url=base_url,
                key_vars=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
                url_vars=("GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"),
                default_base_url=DEFAULT_BASE_URL,
                missing_key="Set the `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) environment variable or pass "
                "it via `GoogleModel(..., api_key=...)` to use the Google Gemini provider.",
            )
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = GoogleProfile.for_model(model_name)
        root = provider.base_url.rstrip("/")
        path = _model_path(model_name)
        self._url = f"{root}/{API_VERSION}/{path}:generateContent"
        self._stream_url = f"{root}/{API_VERSION}/{path}:streamGenerateContent?alt=sse"
        #: ``provider_url`` as the SDK reports its base URL: with a trailing slash
        self._provider_url = root + "/"
        self._headers = {
            "user-agent": USER_AGENT,
            "x-goog-api-key": provider.api_key or "",
            **provider.headers,
        }

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
        body, extra_headers = build_generate_content_request(
            self._model_name, messages, settings, params, profile=self.profile
        )
        headers = dict(self._headers)
        for name, value in extra_headers.items():
            lowered = name.lower()
            for own in [k for k in headers if k.lower() == lowered]:
                del headers[own]
            headers[name] = value
        return _http.HTTPRequest.json(self._stream_url if stream else self._url, body, headers)

    def parse_response(
        self, body: bytes, headers: httpx.Headers, params: ModelRequestParameters
    ) -> ModelResponse:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(self._model_name, f"Failed to decode response as JSON: {exc}") from exc
        return parse_generate_content(
            data,
            params,
            model_name=self._model_name,
            provider_url=self._provider_url,
            headers=headers,
            profile=self.profile,
        )

    def stream_mapper(self, params: ModelRequestParameters, parts: PartsManager) -> GoogleStreamMapper:
        return GoogleStreamMapper(
            parts, params, model_name=self._model_name, provider_url=self._provider_url, profile=self.profile
        )

    def http_error(self, status: int, headers: Any, body: bytes, model_name: str) -> Exception:
        return http_error(status, headers, body, model_name)


def from_name(name: str, prefix: str) -> GoogleModel:
    """The registry factory for ``'google-gla:<model>'``, ``'gemini:<model>'`` and ``'google:<model>'``."""
    if not name:
        raise UserError(f"a Gemini model name is needed: '{prefix}:gemini-2.5-flash'")
    return GoogleModel(name)
