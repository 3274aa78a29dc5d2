"""Messages, settings and parameters → the Converse JSON body (2.68's ``_map_messages`` and friends). Pure."""

from __future__ import annotations

import base64
import itertools
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final, Literal, cast

import attrs
import orjson

from ..._json import to_json
from ...exceptions import UserError
from ...messages import (
    AudioUrl,
    BinaryContent,
    CachePoint,
    DocumentUrl,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
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
from ...settings import ModelSettings
from ...tools import ModelRequestParameters, ToolDefinition
from .._common import SYSTEM_BLOCKS_ANNOUNCEMENT, dump_error_details, provenance_tags, retry_feedback_text
from .._instructions import request_instructions
from .._json import JSON, json_array, json_dict
from .._prepare import unprepared_part_error
from .._tool_choice import resolve_tool_choice
from ._profile import PROVIDER_NAME, BedrockProfile, JSONContent, MediaKind
from ._schema import transform_tool_schema

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


#: What of a Converse request the CountTokens API takes (under ``input.converse``), as 2.68 sends it.
COUNT_TOKENS_FIELDS: Final = ("messages", "system", "toolConfig", "additionalModelRequestFields")


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
