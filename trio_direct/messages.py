"""The message model: requests, responses, their parts and multimodal content.

Every class is a frozen, slotted attrs class with pydantic-ai 2.68's field names, defaults and
discriminators (``kind``, ``part_kind``), so a history moves between the two libraries unchanged
(see :mod:`trio_direct.serialization`). Discriminators are real fields declared where upstream
declares them, which is what fixes the key order of the JSON. Collections inside a frozen value
(``parts``, ``details``) are ordinary lists and dicts: freeze the value, not your data.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import posixpath
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias
from urllib.parse import unquote_to_bytes

import attrs
import orjson

from ._json import to_json
from .usage import RequestUsage

__all__ = [
    "INVALID_JSON_KEY",
    "RETURN_VALUE_KEY",
    "AudioUrl",
    "BinaryContent",
    "BinaryImage",
    "CachePoint",
    "CompactionPart",
    "DocumentUrl",
    "FilePart",
    "FinishReason",
    "ImageUrl",
    "ModelMessage",
    "ModelRequest",
    "ModelRequestPart",
    "ModelResponse",
    "ModelResponsePart",
    "ModelResponseState",
    "MultiModalContent",
    "NativeToolCallPart",
    "NativeToolReturnPart",
    "RetryPromptPart",
    "SystemPromptPart",
    "TextContent",
    "TextPart",
    "ThinkingPart",
    "ToolCallPart",
    "ToolReturnPart",
    "UploadedFile",
    "UserContent",
    "UserPromptPart",
    "VideoUrl",
    "generate_tool_call_id",
]

INVALID_JSON_KEY = "INVALID_JSON"
RETURN_VALUE_KEY = "return_value"

FinishReason: TypeAlias = Literal["stop", "length", "content_filter", "tool_call", "error"]
ModelResponseState: TypeAlias = Literal["complete", "incomplete", "suspended", "interrupted"]
ToolReturnOutcome: TypeAlias = Literal["success", "failed", "denied", "interrupted", "retried"]


def _now_utc() -> datetime:
    return datetime.now(tz=UTC)


def generate_tool_call_id() -> str:
    """A tool-call id in pydantic-ai's format (``pyd_ai_<32 hex>``), for calls the provider left unnamed."""
    return f"pyd_ai_{uuid.uuid4().hex}"


def _no_defaults_repr(self: Any) -> str:
    """repr that shows only fields differing from their defaults, as pydantic-ai's reprs do."""
    shown: list[str] = []
    for a in attrs.fields(type(self)):  # pyright: ignore[reportUnknownArgumentType]
        if not a.repr:
            continue
        value = getattr(self, a.name)
        default: Any = a.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            if a.name == "timestamp":
                continue
            default = default.factory() if not default.takes_self else attrs.NOTHING
        if default is not attrs.NOTHING and value == default:
            continue
        shown.append(f"{a.alias or a.name}={value!r}")
    return f"{type(self).__name__}({', '.join(shown)})"


# ---------------------------------------------------------------------------------------------
# Multimodal content
# ---------------------------------------------------------------------------------------------

_EXTRA_MEDIA_TYPES = {
    ".md": "text/markdown",
    ".mdx": "text/markdown",
    ".webp": "image/webp",
    ".mkv": "video/x-matroska",
    ".wmv": "video/x-ms-wmv",
    ".flv": "video/x-flv",
    ".three_gp": "video/3gpp",
    ".aac": "audio/aac",
    ".aiff": "audio/aiff",
    ".flac": "audio/flac",
    ".oga": "audio/ogg",
    ".wav": "audio/wav",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".toml": "application/toml",
    ".xml": "application/xml",
    ".rtf": "application/rtf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".asciidoc": "text/x-asciidoc",
    ".mp3": "audio/mpeg",
    ".mp4": "video/mp4",
    ".pdf": "application/pdf",
}

_IMAGE_FORMATS = {"image/jpeg": "jpeg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}
_AUDIO_FORMATS = {
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/flac": "flac",
    "audio/ogg": "oga",
    "audio/aiff": "aiff",
    "audio/aac": "aac",
}
_DOCUMENT_FORMATS = {
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/csv": "csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "text/html": "html",
    "text/markdown": "md",
    "application/msword": "doc",
    "application/vnd.ms-excel": "xls",
}
_VIDEO_FORMATS = {
    "video/x-matroska": "mkv",
    "video/quicktime": "mov",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/x-flv": "flv",
    "video/mpeg": "mpeg",
    "video/x-ms-wmv": "wmv",
    "video/3gpp": "three_gp",
}
_YOUTUBE_HOSTS = frozenset({"youtu.be", "youtube.com", "www.youtube.com", "m.youtube.com"})


def _guess_media_type(url: str) -> str | None:
    # As pydantic-ai: the whole URL goes to `mimetypes`, query string included, so
    # `https://x/a.png?sig=1` has no known extension and needs an explicit media type there too.
    if url[:5].lower() != "data:":
        ext = posixpath.splitext(url)[1]
        if (known := _EXTRA_MEDIA_TYPES.get(ext) or _EXTRA_MEDIA_TYPES.get(ext.lower())) is not None:
            return known
    return mimetypes.guess_type(url)[0]


def _identifier_of(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return hashlib.sha1(raw).hexdigest()[:6]


def _document_format(media_type: str) -> str | None:
    """The known document format, else the extension ``mimetypes`` knows the type by (the one spelling
    the subtype if it is among them, as pydantic-ai picks), else None."""
    if (known := _DOCUMENT_FORMATS.get(media_type)) is not None:
        return known
    extensions = [ext.removeprefix(".") for ext in mimetypes.guess_all_extensions(media_type)]
    extensions += [ext.removeprefix(".") for ext, t in _EXTRA_MEDIA_TYPES.items() if t == media_type]
    if not extensions:
        return None
    subtype = media_type.partition("/")[2]
    return subtype if subtype in extensions else extensions[0]


def _is_text_like(media_type: str) -> bool:
    bare = media_type.split(";", 1)[0].strip()
    return (
        bare.startswith("text/")
        or bare in ("application/json", "application/xml", "application/x-yaml", "application/yaml")
        or bare == "application/toml"
        or bare.endswith(("+json", "+xml"))
    )


def _format_of(media_type: str, table: dict[str, str], what: str) -> str:
    try:
        return table[media_type]
    except KeyError:
        raise ValueError(f"unknown {what} media type: {media_type!r}") from None


@attrs.frozen(slots=True, repr=False)
class _FileUrl:
    url: str
    force_download: bool | Literal["allow-local"] = attrs.field(default=False, kw_only=True)
    vendor_metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    # Not compared, as upstream: an explicit media type or identifier equal to the computed one (what a
    # JSON round trip gives) must not make two otherwise equal items differ.
    _media_type: str | None = attrs.field(default=None, kw_only=True, alias="media_type", eq=False)
    _identifier: str | None = attrs.field(default=None, kw_only=True, alias="identifier", eq=False)

    __repr__ = _no_defaults_repr

    def _infer_media_type(self) -> str:
        if (guessed := _guess_media_type(self.url)) is None:
            raise ValueError(f"could not infer a media type from {self.url!r}; pass media_type=")
        return guessed

    @property
    def media_type(self) -> str:
        """The explicit media type, else one guessed from the URL's extension.

        Raises:
            ValueError: none was given and none can be guessed.
        """
        return self._media_type or self._infer_media_type()

    @property
    def identifier(self) -> str:
        """The explicit identifier, else the first 6 hex digits of the SHA-1 of the URL."""
        return self._identifier or _identifier_of(self.url)


@attrs.frozen(slots=True, repr=False)
class ImageUrl(_FileUrl):
    """An image by URL."""

    kind: Literal["image-url"] = attrs.field(default="image-url", init=False)

    @property
    def format(self) -> str:
        """The image format (``png``, ``jpeg``...). Raises ValueError for unknown media types."""
        return _format_of(self.media_type, _IMAGE_FORMATS, "image")


@attrs.frozen(slots=True, repr=False)
class AudioUrl(_FileUrl):
    """An audio file by URL."""

    kind: Literal["audio-url"] = attrs.field(default="audio-url", init=False)

    @property
    def format(self) -> str:
        """The audio format (``mp3``, ``wav``...). Raises ValueError for unknown media types."""
        return _format_of(self.media_type, _AUDIO_FORMATS, "audio")


@attrs.frozen(slots=True, repr=False)
class DocumentUrl(_FileUrl):
    """A document by URL."""

    kind: Literal["document-url"] = attrs.field(default="document-url", init=False)

    @property
    def format(self) -> str:
        """The document format (``pdf``, ``txt``, or the extension ``mimetypes`` knows the type by).

        Raises:
            ValueError: the media type has no known format.
        """
        if (found := _document_format(self.media_type)) is None:
            raise ValueError(f"unknown document media type: {self.media_type!r}")
        return found


@attrs.frozen(slots=True, repr=False)
class VideoUrl(_FileUrl):
    """A video by URL (YouTube links are recognised and typed ``video/mp4``)."""

    kind: Literal["video-url"] = attrs.field(default="video-url", init=False)

    @property
    def is_youtube(self) -> bool:
        """Whether the URL points at YouTube."""
        rest = self.url.split("://", 1)[-1]
        return rest.split("/", 1)[0].split(":", 1)[0].lower() in _YOUTUBE_HOSTS

    def _infer_media_type(self) -> str:
        if self.is_youtube:
            return "video/mp4"
        return _FileUrl._infer_media_type(self)

    @property
    def format(self) -> str:
        """The video format (``mp4``, ``webm``...). Raises ValueError for unknown media types."""
        return _format_of(self.media_type, _VIDEO_FORMATS, "video")


@attrs.frozen(slots=True, repr=False)
class BinaryContent:
    """Inline bytes with a media type (an image, audio clip, PDF...)."""

    data: bytes
    media_type: str = attrs.field(kw_only=True)
    vendor_metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    _identifier: str | None = attrs.field(default=None, kw_only=True, alias="identifier", eq=False)
    kind: Literal["binary"] = attrs.field(default="binary", init=False)

    __repr__ = _no_defaults_repr

    @property
    def identifier(self) -> str:
        """The explicit identifier, else the first 6 hex digits of the SHA-1 of the data."""
        return self._identifier or _identifier_of(self.data)

    @property
    def base64(self) -> str:
        """The data in standard base64 (what data URIs and most providers want)."""
        return base64.b64encode(self.data).decode()

    @property
    def data_uri(self) -> str:
        """``data:<media type>;base64,<data>``."""
        return f"data:{self.media_type};base64,{self.base64}"

    @property
    def is_image(self) -> bool:
        return self.media_type.startswith("image/")

    @property
    def is_audio(self) -> bool:
        return self.media_type.startswith("audio/")

    @property
    def is_video(self) -> bool:
        return self.media_type.startswith("video/")

    @property
    def is_document(self) -> bool:
        """A known document type, or any other non-media, non-text type ``mimetypes`` has an extension for."""
        if self.media_type in _DOCUMENT_FORMATS:
            return True
        if self.is_audio or self.is_image or self.is_video or _is_text_like(self.media_type):
            return False
        return _document_format(self.media_type) is not None

    @property
    def format(self) -> str:
        """The file format derived from the media type (``png``, ``mp3``, ``pdf``, ``json``...).

        Raises:
            ValueError: the media type has no known format.
        """
        if self.is_audio:
            found = _AUDIO_FORMATS.get(self.media_type)
        elif self.is_image:
            found = _IMAGE_FORMATS.get(self.media_type)
        elif self.is_video:
            found = _VIDEO_FORMATS.get(self.media_type)
        else:
            found = _document_format(self.media_type)
        if found is None:
            raise ValueError(f"unknown media type: {self.media_type!r}")
        return found

    @classmethod
    def from_data_uri(cls, uri: str) -> BinaryContent:
        """Build from a ``data:<type>;base64,<data>`` URI (an image becomes a :class:`BinaryImage`).

        Raises:
            ValueError: the string is not a base64 data URI.
        """
        if not uri.startswith("data:") or ";base64," not in uri:
            raise ValueError("expected a data URI of the form data:<media type>;base64,<data>")
        media_type, data = uri[5:].split(";base64,", 1)
        return BinaryContent.narrow_type(cls(base64.b64decode(unquote_to_bytes(data)), media_type=media_type))

    @staticmethod
    def narrow_type(content: BinaryContent) -> BinaryContent:
        """Return a :class:`BinaryImage` for image content, the value unchanged otherwise."""
        if content.is_image and not isinstance(content, BinaryImage):
            return BinaryImage(
                content.data,
                media_type=content.media_type,
                vendor_metadata=content.vendor_metadata,
                identifier=content._identifier,
            )
        return content


@attrs.frozen(slots=True, repr=False)
class BinaryImage(BinaryContent):
    """Binary content known to be an image (what a :class:`FilePart` holds)."""


@attrs.frozen(slots=True, repr=False)
class UploadedFile:
    """A file already uploaded to the provider, referred to by its id."""

    file_id: str
    provider_name: str
    vendor_metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    # Not compared, as upstream: an explicit media type or identifier equal to the computed one (what a
    # JSON round trip gives) must not make two otherwise equal items differ.
    _media_type: str | None = attrs.field(default=None, kw_only=True, alias="media_type", eq=False)
    _identifier: str | None = attrs.field(default=None, kw_only=True, alias="identifier", eq=False)
    kind: Literal["uploaded-file"] = attrs.field(default="uploaded-file", init=False)

    __repr__ = _no_defaults_repr

    @property
    def media_type(self) -> str:
        return self._media_type or _guess_media_type(self.file_id) or "application/octet-stream"

    @property
    def identifier(self) -> str:
        return self._identifier or _identifier_of(self.file_id)


@attrs.frozen(slots=True, repr=False)
class TextContent:
    """Text with application metadata that is never sent to the model."""

    content: str
    metadata: Any = attrs.field(default=None, kw_only=True)
    kind: Literal["text-content"] = attrs.field(default="text-content", init=False)

    __repr__ = _no_defaults_repr


@attrs.frozen(slots=True, repr=False)
class CachePoint:
    """A prompt-caching marker (Anthropic); models without prompt caching drop it."""

    kind: Literal["cache-point"] = attrs.field(default="cache-point", init=False)
    ttl: Literal["5m", "1h"] = "5m"

    __repr__ = _no_defaults_repr


MultiModalContent: TypeAlias = ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile
UserContent: TypeAlias = str | TextContent | MultiModalContent | CachePoint


# ---------------------------------------------------------------------------------------------
# Request parts
# ---------------------------------------------------------------------------------------------


@attrs.frozen(slots=True, repr=False)
class SystemPromptPart:
    """A system prompt."""

    content: str
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    dynamic_ref: str | None = attrs.field(default=None, kw_only=True)
    context_id: str | None = attrs.field(default=None, kw_only=True)
    scope: Literal["conversation", "request"] = attrs.field(default="conversation", kw_only=True)
    metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["system-prompt"] = attrs.field(default="system-prompt", init=False)

    __repr__ = _no_defaults_repr


@attrs.frozen(slots=True, repr=False)
class UserPromptPart:
    """What the user said: a string, or a sequence of text and multimodal items."""

    content: str | Sequence[UserContent]
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    part_kind: Literal["user-prompt"] = attrs.field(default="user-prompt", init=False)

    __repr__ = _no_defaults_repr


def _tool_return_json(value: Any) -> str:
    """Compact JSON of a tool-return value, written as pydantic-ai writes it (files in their JSON form)."""
    return to_json(value).decode()


def _tool_return_text(value: Any) -> str:
    # A value whose JSON is a string (a datetime, a UUID) is sent as that string, unquoted, so the text
    # is the same before and after the history goes through JSON (where it becomes that string).
    text = _tool_return_json(value)
    if text.startswith('"'):
        decoded: str = orjson.loads(text)
        return decoded
    return text


_ERROR_OUTCOMES = ("failed", "retried")
"""Outcomes that reach the model as an error (and get the ``{"error": ...}`` wrapper)."""


_FILE_TYPES = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)


@attrs.frozen(slots=True, repr=False)
class _BaseToolReturn:
    tool_name: str
    content: Any
    tool_call_id: str = attrs.field(factory=generate_tool_call_id)
    tool_kind: str | None = attrs.field(default=None, kw_only=True)
    metadata: Any = attrs.field(default=None, kw_only=True)
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    outcome: ToolReturnOutcome = attrs.field(default="success", kw_only=True)

    __repr__ = _no_defaults_repr

    @property
    def files(self) -> list[MultiModalContent]:
        """The multimodal items in ``content`` (itself, or the items of a list)."""
        return self._split_content()[1]

    def _split_content(self) -> tuple[list[Any], list[MultiModalContent], bool]:
        if isinstance(self.content, _FILE_TYPES):
            return [], [self.content], False
        if isinstance(self.content, list):
            items: list[Any] = self.content  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            data = [x for x in items if not isinstance(x, _FILE_TYPES)]
            return data, [x for x in items if isinstance(x, _FILE_TYPES)], True
        return [self.content], [], False

    def _unwrap_data(self) -> Any:
        # A single remaining item is unwrapped when the content was not a list, or when taking the
        # files out of a list left one item; `[x]` on its own stays a list.
        data, files, was_list = self._split_content()
        if not data:
            return None
        if len(data) == 1 and (not was_list or files):
            return data[0]
        return data

    def _error_value(self, value: Any, text: str) -> Any:
        # A retried return's structured content goes into the wrapper as JSON, not as a string of JSON.
        if self.outcome == "retried" and value is not None and not isinstance(value, str):
            return orjson.loads(_tool_return_json(value))
        return text

    def model_response_str(self, *, wrap_if_error: bool = True) -> str:
        """The content as the text a model reads: strings as-is, ``None`` as ``''``, anything else as
        compact JSON (a value whose JSON is a string, like a datetime, as that string).

        Files are left out. A ``failed`` or ``retried`` outcome is wrapped as ``{"error": ...}`` unless
        ``wrap_if_error`` is false (for providers with a native error channel).
        """
        value = self._unwrap_data()
        if value is None:
            text = ""
        elif isinstance(value, str):
            text = value
        else:
            text = _tool_return_text(value)
        if wrap_if_error and self.outcome in _ERROR_OUTCOMES:
            return _tool_return_json({"error": self._error_value(value, text)})
        return text

    def model_response_object(self, *, wrap_if_error: bool = True) -> dict[str, Any]:
        """The content as a JSON object (what Gemini wants): objects as-is, other values under
        ``return_value``; files left out; errors wrapped as in :meth:`model_response_str`."""
        value = self._unwrap_data()
        if wrap_if_error and self.outcome in _ERROR_OUTCOMES:
            return {"error": self._error_value(value, self.model_response_str(wrap_if_error=False))}
        if value is None:
            return {}
        jsonable = orjson.loads(_tool_return_json(value))
        if isinstance(jsonable, dict):
            return jsonable  # pyright: ignore[reportUnknownVariableType]
        return {RETURN_VALUE_KEY: jsonable}

    def has_content(self) -> bool:
        return self.content is not None


@attrs.frozen(slots=True, repr=False)
class ToolReturnPart(_BaseToolReturn):
    """The result of a function tool call, sent back to the model."""

    retry: Any = attrs.field(default=None, kw_only=True)
    part_kind: Literal["tool-return"] = attrs.field(default="tool-return", init=False)


@attrs.frozen(slots=True, repr=False)
class RetryPromptPart:
    """Asks the model to try again: after a failed tool call (``tool_name`` set) or bad output."""

    content: list[dict[str, Any]] | str
    tool_name: str | None = attrs.field(default=None, kw_only=True)
    tool_call_id: str = attrs.field(factory=generate_tool_call_id, kw_only=True)
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    part_kind: Literal["retry-prompt"] = attrs.field(default="retry-prompt", init=False)

    __repr__ = _no_defaults_repr

    def model_response(self) -> str:
        """The text sent to the model: the feedback plus "Fix the errors and try again."."""
        if isinstance(self.content, str):
            description = (
                self.content if self.tool_name is not None else f"Validation feedback:\n{self.content}"
            )
        else:
            errors: list[dict[str, Any]] = []
            for error in self.content:
                drop = {"ctx"}
                if self.tool_name is None and len(error.get("loc", ())) <= 1:
                    drop.add("input")
                errors.append({k: v for k, v in error.items() if k not in drop})
            rendered = orjson.dumps(errors, option=orjson.OPT_INDENT_2).decode()
            plural = "s" if len(self.content) != 1 else ""
            description = f"{len(self.content)} validation error{plural}:\n```json\n{rendered}\n```"
        return f"{description}\n\nFix the errors and try again."


ModelRequestPart: TypeAlias = SystemPromptPart | UserPromptPart | ToolReturnPart | RetryPromptPart


# ---------------------------------------------------------------------------------------------
# Response parts
# ---------------------------------------------------------------------------------------------


@attrs.frozen(slots=True, repr=False)
class TextPart:
    """Plain text from the model."""

    content: str
    id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    citations: list[Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["text"] = attrs.field(default="text", init=False)

    __repr__ = _no_defaults_repr

    def has_content(self) -> bool:
        return bool(self.content)


@attrs.frozen(slots=True, repr=False)
class ThinkingPart:
    """The model's reasoning, with the provider's signature where it gives one."""

    content: str
    id: str | None = attrs.field(default=None, kw_only=True)
    signature: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["thinking"] = attrs.field(default="thinking", init=False)

    __repr__ = _no_defaults_repr

    def has_content(self) -> bool:
        return bool(self.content)


@attrs.frozen(slots=True, repr=False)
class _BaseToolCall:
    tool_name: str
    args: str | dict[str, Any] | None = None
    tool_call_id: str = attrs.field(factory=generate_tool_call_id)
    tool_kind: str | None = attrs.field(default=None, kw_only=True)
    id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)

    __repr__ = _no_defaults_repr

    def args_as_dict(self, *, raise_if_invalid: bool = False) -> dict[str, Any]:
        """The arguments as a dict.

        Empty args give ``{}``; a JSON string is parsed. Malformed JSON, or JSON that is not an
        object, gives ``{"INVALID_JSON": "<raw>"}``.

        Raises:
            ValueError: the JSON is malformed or not an object and ``raise_if_invalid`` is true.
        """
        if not self.args:
            return {}
        if isinstance(self.args, dict):
            return self.args
        try:
            parsed = orjson.loads(self.args)
        except orjson.JSONDecodeError:
            if raise_if_invalid:
                raise ValueError(f"tool call args are not valid JSON: {self.args!r}") from None
            return {INVALID_JSON_KEY: self.args}
        if not isinstance(parsed, dict):
            if raise_if_invalid:
                raise ValueError(f"tool call args are not a JSON object: {self.args!r}")
            return {INVALID_JSON_KEY: self.args}
        return parsed  # pyright: ignore[reportUnknownVariableType]

    def args_as_json_str(self) -> str:
        """The arguments as compact JSON text (``'{}'`` when empty), keys in their original order."""
        return orjson.dumps(self.args_as_dict()).decode()

    def has_content(self) -> bool:
        return bool(self.args)


@attrs.frozen(slots=True, repr=False)
class ToolCallPart(_BaseToolCall):
    """The model asks for a function tool to be called."""

    part_kind: Literal["tool-call"] = attrs.field(default="tool-call", init=False)


@attrs.frozen(slots=True, repr=False)
class NativeToolCallPart(_BaseToolCall):
    """A tool the provider ran itself (web search, code execution); JSON kind ``builtin-tool-call``."""

    part_kind: Literal["builtin-tool-call"] = attrs.field(default="builtin-tool-call", init=False)


@attrs.frozen(slots=True, repr=False)
class NativeToolReturnPart(_BaseToolReturn):
    """The result of a provider-run tool; JSON kind ``builtin-tool-return``."""

    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["builtin-tool-return"] = attrs.field(default="builtin-tool-return", init=False)


@attrs.frozen(slots=True, repr=False)
class FilePart:
    """A file the model produced (an image, usually)."""

    content: BinaryContent
    id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["file"] = attrs.field(default="file", init=False)

    __repr__ = _no_defaults_repr

    def has_content(self) -> bool:
        return bool(self.content.data)


@attrs.frozen(slots=True, repr=False)
class CompactionPart:
    """A provider-side summary of earlier turns (Anthropic / OpenAI Responses compaction)."""

    content: str | None = None
    id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["compaction"] = attrs.field(default="compaction", init=False)

    __repr__ = _no_defaults_repr

    def has_content(self) -> bool:
        return bool(self.content)


ModelResponsePart: TypeAlias = (
    TextPart
    | ThinkingPart
    | ToolCallPart
    | NativeToolCallPart
    | NativeToolReturnPart
    | FilePart
    | CompactionPart
)


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------


@attrs.frozen(slots=True, repr=False)
class ModelRequest:
    """A request to the model: system prompts, user prompts, tool results, retries."""

    parts: Sequence[ModelRequestPart]
    timestamp: datetime | None = attrs.field(default=None, kw_only=True)
    instructions: str | None = attrs.field(default=None, kw_only=True)
    kind: Literal["request"] = attrs.field(default="request", init=False)
    run_id: str | None = attrs.field(default=None, kw_only=True)
    conversation_id: str | None = attrs.field(default=None, kw_only=True)
    metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    state: Literal["complete", "interrupted"] = attrs.field(default="complete", kw_only=True)

    __repr__ = _no_defaults_repr

    @classmethod
    def user_text_prompt(cls, user_prompt: str, *, instructions: str | None = None) -> ModelRequest:
        """A request holding one :class:`UserPromptPart` with ``user_prompt``."""
        return cls([UserPromptPart(user_prompt)], instructions=instructions)


@attrs.frozen(slots=True, repr=False)
class ModelResponse:
    """What the model answered: its parts, usage, and provider metadata."""

    parts: Sequence[ModelResponsePart]
    usage: RequestUsage = attrs.field(factory=RequestUsage, kw_only=True)
    model_name: str | None = attrs.field(default=None, kw_only=True)
    model_id: str | None = attrs.field(default=None, kw_only=True)
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    kind: Literal["response"] = attrs.field(default="response", init=False)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_url: str | None = attrs.field(default=None, kw_only=True)
    canonical_system: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    provider_response_id: str | None = attrs.field(default=None, kw_only=True)
    finish_reason: FinishReason | None = attrs.field(default=None, kw_only=True)
    run_id: str | None = attrs.field(default=None, kw_only=True)
    conversation_id: str | None = attrs.field(default=None, kw_only=True)
    metadata: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    workspace_ref: Any = attrs.field(default=None, kw_only=True)
    history_digest: Any = attrs.field(default=None, kw_only=True)
    failed_attempts: Any = attrs.field(default=None, kw_only=True)
    state: ModelResponseState = attrs.field(default="complete", kw_only=True)

    __repr__ = _no_defaults_repr

    @property
    def text(self) -> str | None:
        """The text parts joined: adjacent ones directly, runs split by other parts with a blank line."""
        runs: list[str] = []
        adjacent = False
        for part in self.parts:
            if isinstance(part, TextPart):
                if adjacent:
                    runs[-1] += part.content
                else:
                    runs.append(part.content)
                adjacent = True
            else:
                adjacent = False
        return "\n\n".join(runs) if runs else None

    @property
    def thinking(self) -> str | None:
        """The thinking parts joined with blank lines, or None."""
        found = [part.content for part in self.parts if isinstance(part, ThinkingPart)]
        return "\n\n".join(found) if found else None

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """The function tool calls (not the provider-run ones)."""
        return [part for part in self.parts if isinstance(part, ToolCallPart)]

    @property
    def native_tool_calls(self) -> list[tuple[NativeToolCallPart, NativeToolReturnPart]]:
        """Provider-run tool calls paired with their returns by ``tool_call_id``."""
        returns = {p.tool_call_id: p for p in self.parts if isinstance(p, NativeToolReturnPart)}
        return [
            (p, returns[p.tool_call_id])
            for p in self.parts
            if isinstance(p, NativeToolCallPart) and p.tool_call_id in returns
        ]

    @property
    def files(self) -> list[BinaryContent]:
        """The contents of the file parts."""
        return [part.content for part in self.parts if isinstance(part, FilePart)]

    @property
    def images(self) -> list[BinaryImage]:
        """The image files among :attr:`files`."""
        return [f for f in self.files if isinstance(f, BinaryImage)]


ModelMessage: TypeAlias = ModelRequest | ModelResponse
