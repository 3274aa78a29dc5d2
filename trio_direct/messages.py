"""The message model: requests, responses, their parts and multimodal content.

Every class is a frozen, slotted attrs class with pydantic-ai 2.68's field names, defaults and
discriminators (``kind``, ``part_kind``), so a history moves between the two libraries unchanged
(see :mod:`trio_direct.serialization`). Discriminators are real fields declared where upstream
declares them, which is what fixes the key order of the JSON. Collections inside a frozen value
(``parts``, ``details``) are ordinary lists and dicts: freeze the value, not your data.

The stream events and deltas are defined here too (as in pydantic-ai; :mod:`trio_direct.events`
re-exports them), and so is ``ModelMessagesTypeAdapter``, whose wire-format functions
:mod:`trio_direct.serialization` installs at import (:func:`install_codec`), so this module imports
neither of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import os
import pathlib
import posixpath
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, TypeAlias, TypeGuard, cast, final
from urllib.parse import unquote_to_bytes

import attrs
import orjson

from ._json import to_json
from .exceptions import CostCalculationError, DeltaApplyError, ToolArgsError, UserError
from .tools import InstructionPart as InstructionPart
from .usage import RequestUsage

__all__ = [
    "AudioFormat",
    "AudioMediaType",
    "AudioUrl",
    "BaseToolCallPart",
    "BaseToolReturnPart",
    "BinaryAudio",
    "BinaryContent",
    "BinaryImage",
    "CONTEXT_DIFF_TAG",
    "CONTEXT_TAG",
    "CONVERSATION_SUMMARY_TAG",
    "CachePoint",
    "Citation",
    "CitationAnchor",
    "CitationSource",
    "CompactionPart",
    "ContentCitationAnchor",
    "DocumentCitationSource",
    "DocumentFormat",
    "DocumentMediaType",
    "DocumentUrl",
    "ERROR_OUTCOMES",
    "FilePart",
    "FileUrl",
    "FinalResultEvent",
    "FinishReason",
    "ForceDownloadMode",
    "INTERRUPTED_TOOL_RETURN_CONTENT",
    "INVALID_JSON_KEY",
    "ImageFormat",
    "ImageMediaType",
    "ImageUrl",
    "InstructionPart",
    "MULTI_MODAL_CONTENT_TYPES",
    "MarkerCitationAnchor",
    "ModelMessage",
    "ModelMessagesTypeAdapter",
    "ModelRequest",
    "ModelRequestAttempt",
    "ModelRequestPart",
    "ModelRequestState",
    "ModelResponse",
    "ModelResponsePart",
    "ModelResponsePartDelta",
    "ModelResponseState",
    "ModelResponseStreamEvent",
    "MultiModalContent",
    "NativeToolCallPart",
    "NativeToolReturnPart",
    "PartDeltaEvent",
    "PartEndEvent",
    "PartStartEvent",
    "ProviderDetailsDelta",
    "RETRY_FEEDBACK_TAG",
    "RETURN_VALUE_KEY",
    "RetryFeedbackCause",
    "RetryFeedbackPart",
    "RetryInfo",
    "RetryPromptPart",
    "SpeechPart",
    "SpeechPartDelta",
    "SpeechTimestamp",
    "SpeechTimestampGranularity",
    "StructuredContent",
    "StructuredContentFormat",
    "SystemPromptPart",
    "TOOL_RESULT_TAG",
    "TextContent",
    "TextPart",
    "TextPartDelta",
    "ThinkingPart",
    "ThinkingPartDelta",
    "ToolCallPart",
    "ToolCallPartDelta",
    "ToolPartKind",
    "ToolRetryCause",
    "ToolReturn",
    "ToolReturnOutcome",
    "ToolReturnPart",
    "UploadedFile",
    "UploadedFileProviderName",
    "UserContent",
    "UserPromptPart",
    "VALIDATION_ERRORS_TAG",
    "VideoFormat",
    "VideoMediaType",
    "VideoUrl",
    "WebCitationSource",
    "generate_tool_call_id",
    "is_multi_modal_content",
    "post_compaction_window",
]

INVALID_JSON_KEY = "INVALID_JSON"
RETURN_VALUE_KEY = "return_value"

FinishReason: TypeAlias = Literal["stop", "length", "content_filter", "tool_call", "error"]
ModelResponseState: TypeAlias = Literal["complete", "incomplete", "suspended", "interrupted"]
ModelRequestState: TypeAlias = Literal["complete", "interrupted"]
ToolReturnOutcome: TypeAlias = Literal["success", "failed", "denied", "interrupted", "retried"]
ForceDownloadMode: TypeAlias = bool | Literal["allow-local"]

# The media types and formats the providers know by name (pydantic-ai 2.68's literals; any other
# string is accepted where a media type is taken).
AudioMediaType: TypeAlias = Literal[
    "audio/wav", "audio/mpeg", "audio/ogg", "audio/flac", "audio/aiff", "audio/aac"
]
ImageMediaType: TypeAlias = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
DocumentMediaType: TypeAlias = Literal[
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "text/html",
    "text/markdown",
    "application/msword",
    "application/vnd.ms-excel",
]
VideoMediaType: TypeAlias = Literal[
    "video/x-matroska",
    "video/quicktime",
    "video/mp4",
    "video/webm",
    "video/x-flv",
    "video/mpeg",
    "video/x-ms-wmv",
    "video/3gpp",
]
AudioFormat: TypeAlias = Literal["wav", "mp3", "oga", "flac", "aiff", "aac"]
ImageFormat: TypeAlias = Literal["jpeg", "png", "gif", "webp"]
DocumentFormat: TypeAlias = Literal["csv", "doc", "docx", "html", "md", "pdf", "txt", "xls", "xlsx"]
VideoFormat: TypeAlias = Literal["mkv", "mov", "mp4", "webm", "flv", "mpeg", "mpg", "wmv", "three_gp"]
UploadedFileProviderName: TypeAlias = Literal[
    "anthropic", "openai", "google", "google-cloud", "google-gla", "google-vertex", "bedrock", "xai"
]
StructuredContentFormat: TypeAlias = Literal["json", "xml"]
SpeechTimestampGranularity: TypeAlias = Literal["word", "segment"]
ToolPartKind: TypeAlias = str
ToolRetryCause: TypeAlias = Literal["validation_error", "model_retry", "unknown_tool", "unavailable_tool"]
RetryFeedbackCause: TypeAlias = Literal["validation_error", "no_output", "model_retry"]

ERROR_OUTCOMES: tuple[Literal["failed", "retried"], ...] = ("failed", "retried")
"""Tool-return outcomes that reach the model as an error (the provider's native error channel, or the
``{"error": ...}`` wrapper where it has none)."""
INTERRUPTED_TOOL_RETURN_CONTENT = "The tool call was interrupted before a result was produced."

# The framework's own prompt frames (pydantic-ai reserves the `pyai:` prefix for them).
TOOL_RESULT_TAG = "pyai:tool_result"
CONTEXT_TAG = "pyai:context"
CONTEXT_DIFF_TAG = "pyai:context_diff"
VALIDATION_ERRORS_TAG = "pyai:validation_errors"
RETRY_FEEDBACK_TAG = "pyai:retry_feedback"
CONVERSATION_SUMMARY_TAG = "pyai:conversation_summary"
_FRAMING_TAG_NAMES = frozenset(
    {
        "system",
        "tool_result",
        "assistant_thinking",
        "context",
        "context_diff",
        "validation_errors",
        "retry_feedback",
        "conversation_summary",
    }
)


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


_CODEC: dict[str, Callable[..., Any]] = {}
"""The wire-format functions :mod:`trio_direct.serialization` installs here when it is imported (the
package imports it), so this module can offer them (``ModelMessagesTypeAdapter``, citations given as
JSON) without importing the module that imports it."""


def install_codec(**functions: Callable[..., Any]) -> None:
    """Called by :mod:`trio_direct.serialization` at import: the functions the message model borrows."""
    _CODEC.update(functions)


def _codec(name: str) -> Callable[..., Any]:
    try:
        return _CODEC[name]
    except KeyError:  # only reachable when importing this module without the package
        raise RuntimeError("trio_direct.serialization is not imported; `import trio_direct` first") from None


def _otel_message_parts(self: Any, settings: Any) -> list[dict[str, Any]]:
    """The part as OpenTelemetry GenAI message parts, as ``settings`` (an
    :class:`~trio_direct.models.instrumented.InstrumentationSettings`) records them on a span."""
    parts: list[dict[str, Any]] = settings.part_to_otel(self)
    return parts


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
class FileUrl:
    """A file by URL: the base of :class:`ImageUrl`, :class:`AudioUrl`, :class:`DocumentUrl` and
    :class:`VideoUrl` (for ``isinstance`` checks; build one of those)."""

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
class ImageUrl(FileUrl):
    """An image by URL."""

    kind: Literal["image-url"] = attrs.field(default="image-url", init=False)

    @property
    def format(self) -> str:
        """The image format (``png``, ``jpeg``...). Raises ValueError for unknown media types."""
        return _format_of(self.media_type, _IMAGE_FORMATS, "image")


@attrs.frozen(slots=True, repr=False)
class AudioUrl(FileUrl):
    """An audio file by URL."""

    kind: Literal["audio-url"] = attrs.field(default="audio-url", init=False)

    @property
    def format(self) -> str:
        """The audio format (``mp3``, ``wav``...). Raises ValueError for unknown media types."""
        return _format_of(self.media_type, _AUDIO_FORMATS, "audio")


@attrs.frozen(slots=True, repr=False)
class DocumentUrl(FileUrl):
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
class VideoUrl(FileUrl):
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
        return FileUrl._infer_media_type(self)

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
    def from_path(cls, path: str | os.PathLike[str]) -> BinaryContent:
        """Read a local file; the media type is guessed from its name (``application/octet-stream``
        when unknown), and an image comes back as a :class:`BinaryImage`.

        Raises:
            FileNotFoundError: the file does not exist.
            PermissionError: the file cannot be read.
        """
        file = pathlib.Path(path)
        if not file.exists():
            raise FileNotFoundError(f"File not found: {file}")
        media_type = mimetypes.guess_type(file)[0] or "application/octet-stream"
        return BinaryContent.narrow_type(BinaryContent(file.read_bytes(), media_type=media_type))

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
    """Binary content known to be an image (what a :class:`FilePart` holds).

    Raises:
        ValueError: the media type is not ``image/...`` (as pydantic-ai 2.68 refuses it).
    """

    def __attrs_post_init__(self) -> None:
        if not self.is_image:
            raise ValueError('`BinaryImage` must have a media type that starts with "image/"')


@attrs.frozen(slots=True, repr=False)
class BinaryAudio(BinaryContent):
    """Binary content known to be audio (a speech model's output, say).

    Raises:
        ValueError: the media type is not ``audio/...``.
    """

    def __attrs_post_init__(self) -> None:
        if not self.is_audio:
            raise ValueError('`BinaryAudio` must have a media type that starts with "audio/"')


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

    @property
    def format(self) -> str:
        """The file format derived from the media type (``png``, ``mp4``, ``mp3``, ``pdf``...).

        Raises:
            ValueError: the media type has no known format.
        """
        media_type = self.media_type
        if media_type.startswith("image/"):
            table = _IMAGE_FORMATS
        elif media_type.startswith("video/"):
            table = _VIDEO_FORMATS
        elif media_type.startswith("audio/"):
            table = _AUDIO_FORMATS
        else:
            table = _DOCUMENT_FORMATS
        try:
            return table[media_type]
        except KeyError:
            raise ValueError(f"Unknown media type: {media_type}") from None


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


_MODEL_VISIBLE_NAME = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
_LEGACY_NAME = re.compile(r"[a-z_][a-z0-9_]*")


@attrs.frozen(slots=True, repr=False, init=False)
class StructuredContent(TextContent):
    """A value sent to the model as text rendered once, when the item is created, and kept with it.

    ``content`` is the rendered text (compact JSON by default, wrapped in ``<tag>`` when given and
    preceded by ``description``); ``value`` stays structured in the history. After a JSON round trip
    ``value`` is the JSON form of the original value and ``content`` is the text rendered then.

    Args:
        value: the value.
        content: the text, when already rendered (as on load); rendered from ``value`` when empty.
        format: ``'json'`` (the default), ``'xml'``, or a function from the value to the text (then
            ``tag`` and ``description`` are not added). Not stored.
        tag: a lowercase snake_case tag to wrap the JSON in (not one of the framework's framing tags).
        description: a line put before the rendered value.
        metadata: application data, never sent to the model.

    Raises:
        ValueError: a bad ``tag``, or the value renders to empty text.
    """

    # Redeclared in full (with TextContent's order first) so the JSON keys come out in upstream's order.
    content: str = attrs.field(default="", kw_only=True)
    metadata: Any = attrs.field(default=None, kw_only=True)
    kind: Literal["structured-content"] = attrs.field(default="structured-content", kw_only=True)  # type: ignore[assignment]
    value: Any = attrs.field(default=None, kw_only=True)
    tag: str | None = attrs.field(default=None, kw_only=True)
    description: str | None = attrs.field(default=None, kw_only=True)

    def __init__(
        self,
        value: Any,
        *,
        content: str = "",
        format: StructuredContentFormat | Callable[[Any], str] | None = None,
        tag: str | None = None,
        description: str | None = None,
        metadata: Any = None,
    ) -> None:
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            content=content,
            metadata=metadata,
            kind="structured-content",
            value=value,
            tag=tag,
            description=description,
        )
        if content:
            # Already rendered (as on load): the tag is only data then, so a stored history never fails
            # to load because a later release reserved its tag.
            return
        if tag is not None:
            if tag.lower().startswith("pyai:"):
                raise ValueError(
                    "`StructuredContent.tag` cannot start with 'pyai:', which is reserved for Pydantic AI;"
                    f" got {tag!r}."
                )
            if not _MODEL_VISIBLE_NAME.fullmatch(tag) and not _LEGACY_NAME.fullmatch(tag):
                raise ValueError(
                    "`StructuredContent.tag` must be lowercase snake_case, like `judge_feedback`;"
                    f" got {tag!r}."
                )
            if tag in _FRAMING_TAG_NAMES:
                raise ValueError(f"`StructuredContent.tag` cannot be {tag!r}, a built-in framing tag.")
        if format is None:
            text = self.render()
        elif callable(format):
            text = format(value)
        else:
            text = self._render_as(format)
        if not text:
            raise ValueError(
                "`StructuredContent` rendered to empty text, which a model cannot be sent; give it a `tag`"
                " or a `format` that renders the value as text."
            )
        object.__setattr__(self, "content", text)

    def render(self) -> str:
        """The text for the value when no ``content`` or ``format`` is given; override to render a kind of
        value the same way everywhere (compact JSON by default)."""
        return self._render_as("json")

    def _render_as(self, format: StructuredContentFormat) -> str:
        if format == "json":
            text = _tool_return_json(self.value)
            # Escaped so that a value can never close the tag it is wrapped in.
            text = text.replace("<", r"\u003c").replace(">", r"\u003e").replace("&", r"\u0026")
            if self.tag is not None:
                text = f"<{self.tag}>{text}</{self.tag}>"
        elif format == "xml":
            text = _format_as_xml(orjson.loads(_tool_return_json(self.value)), self.tag)
        else:
            raise ValueError(f"unknown StructuredContent format {format!r}; use 'json', 'xml' or a function")
        return text if self.description is None else f"{self.description}\n{text}"


_XML_NAME = re.compile(r"[^\W\d][\w\-.\u00b7]*")


def _format_as_xml(value: Any, root_tag: str | None, indent: str = "  ") -> str:
    """JSON-like data as XML, as pydantic-ai's ``format_as_xml`` writes it: object keys as elements (a key
    that is not an XML name as ``<item key="...">``), array items as ``<item>``, ``None`` as ``null``,
    other scalars as their ``str``, indented two spaces."""
    # imported here: ElementTree (with pyexpat) costs ~1 ms of every `import trio_direct`, and only
    # StructuredContent's xml format uses it
    from xml.etree import ElementTree

    def build(tag: str, item: Any) -> ElementTree.Element:
        element = ElementTree.Element(tag)
        if isinstance(item, dict):
            mapping: dict[Any, Any] = item  # pyright: ignore[reportUnknownVariableType]
            for key, sub in mapping.items():
                name = str(key)
                is_name = _XML_NAME.fullmatch(name) is not None
                child = build(name if is_name else "item", sub)
                if not is_name:
                    child.set("key", name)
                element.append(child)
        elif isinstance(item, list):
            sequence: list[Any] = item  # pyright: ignore[reportUnknownVariableType]
            for sub in sequence:
                element.append(build("item", sub))
        else:
            element.text = "null" if item is None else str(item)
        return element

    root = build(root_tag or "item", value)
    if root_tag is None and root.text is None:
        pieces: list[str] = []
        for child in root:
            ElementTree.indent(child, space=indent)
            pieces.append(ElementTree.tostring(child, encoding="unicode"))
        return "\n".join(pieces)
    ElementTree.indent(root, space=indent)
    return ElementTree.tostring(root, encoding="unicode")


MultiModalContent: TypeAlias = ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile
UserContent: TypeAlias = str | StructuredContent | TextContent | MultiModalContent | CachePoint
MULTI_MODAL_CONTENT_TYPES: tuple[type, ...] = (
    ImageUrl,
    AudioUrl,
    DocumentUrl,
    VideoUrl,
    BinaryContent,
    UploadedFile,
)
"""The multimodal content classes, for ``isinstance`` checks."""


def is_multi_modal_content(obj: Any) -> TypeGuard[MultiModalContent]:
    """Whether ``obj`` is a file item (a URL, inline bytes or an uploaded file)."""
    return isinstance(obj, MULTI_MODAL_CONTENT_TYPES)


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
    otel_message_parts = _otel_message_parts


@attrs.frozen(slots=True, repr=False)
class UserPromptPart:
    """What the user said: a string, or a sequence of text and multimodal items."""

    content: str | Sequence[UserContent]
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    part_kind: Literal["user-prompt"] = attrs.field(default="user-prompt", init=False)

    __repr__ = _no_defaults_repr
    otel_message_parts = _otel_message_parts


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


_FILE_TYPES = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)


@attrs.frozen(slots=True, repr=False)
class RetryInfo:
    """Why a retry happened (``cause``) and how far into its budget it is; never sent to the model.

    Carried by a retried :class:`ToolReturnPart` (a :data:`ToolRetryCause`) and by every
    :class:`RetryFeedbackPart` (a :data:`RetryFeedbackCause`). Not generic here, unlike upstream.
    """

    cause: str
    attempt: int | None = attrs.field(default=None, kw_only=True)
    max_retries: int | None = attrs.field(default=None, kw_only=True)

    __repr__ = _no_defaults_repr


@attrs.frozen(slots=True, repr=False)
class ToolReturn:
    """A tool result (``return_value``) plus content sent to the model separately, as a user prompt.

    The direct API never runs tools; this is here so code and histories that use it keep working.
    """

    return_value: Any
    content: str | Sequence[UserContent] | None = attrs.field(default=None, kw_only=True)
    metadata: Any = attrs.field(default=None, kw_only=True)
    tools: list[str] | None = attrs.field(default=None, kw_only=True)
    kind: Literal["tool-return"] = attrs.field(default="tool-return", init=False)

    __repr__ = _no_defaults_repr


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
    otel_message_parts = _otel_message_parts

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
        if wrap_if_error and self.outcome in ERROR_OUTCOMES:
            return _tool_return_json({"error": self._error_value(value, text)})
        return text

    def model_response_object(self, *, wrap_if_error: bool = True) -> dict[str, Any]:
        """The content as a JSON object (what Gemini wants): objects as-is, other values under
        ``return_value``; files left out; errors wrapped as in :meth:`model_response_str`."""
        value = self._unwrap_data()
        if wrap_if_error and self.outcome in ERROR_OUTCOMES:
            return {"error": self._error_value(value, self.model_response_str(wrap_if_error=False))}
        if value is None:
            return {}
        jsonable = orjson.loads(_tool_return_json(value))
        if isinstance(jsonable, dict):
            return jsonable  # pyright: ignore[reportUnknownVariableType]
        return {RETURN_VALUE_KEY: jsonable}

    def has_content(self) -> bool:
        return self.content is not None

    @property
    def typed_content(self) -> Any:
        """The content when the call succeeded, else ``None`` (then the content is an error).

        trio_direct has no typed tool parts (pydantic-ai's ``ToolKind`` registry), so this is the
        content as it is.
        """
        return self.content if self.outcome == "success" else None

    def content_items(
        self, *, mode: Literal["raw", "str", "jsonable"] = "raw", wrap_if_error: bool = True
    ) -> list[Any]:
        """The content as a flat list.

        Args:
            mode: ``'raw'`` gives the items as they are; ``'str'`` turns every non-file item into the
                text a model reads (strings as-is, other values as compact JSON); ``'jsonable'`` into
                JSON-mode Python. Files pass through unchanged in every mode.
            wrap_if_error: for a ``failed``/``retried`` outcome (ignored in ``'raw'`` mode), collapse the
                data into one ``{"error": ...}`` item ahead of the files.
        """
        items: list[Any]
        if isinstance(self.content, list):
            whole: list[Any] = self.content  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType]
            items, was_list = whole, True
        else:
            items, was_list = [self.content], False
        if mode == "raw":
            return items
        if wrap_if_error and self.outcome in ERROR_OUTCOMES:
            wrapped: Any = self.model_response_str() if mode == "str" else self.model_response_object()
            return [wrapped, *self.files]
        if self.outcome == "retried" and was_list and not self.files:
            # A retry's validation errors are one JSON array shown whole, not one item per error.
            return [
                self.model_response_str(wrap_if_error=False)
                if mode == "str"
                else orjson.loads(_tool_return_json(items))
            ]
        result: list[Any] = []
        for item in items:
            if isinstance(item, (*_FILE_TYPES, str)):
                result.append(item)
            elif mode == "str":
                result.append(_tool_return_text(item))
            else:
                result.append(orjson.loads(_tool_return_json(item)))
        return result

    def structured_content(self) -> dict[str, Any] | list[Any] | None:
        """The content as structured JSON data: a JSON string parsed, a dict or list as it is; ``None``
        for plain text, other scalars and files."""
        content = self.content
        if isinstance(content, str):
            try:
                content = orjson.loads(content)
            except orjson.JSONDecodeError:
                return None
        if isinstance(content, dict | list):
            return cast("dict[str, Any] | list[Any]", content)
        return None


@attrs.frozen(slots=True, repr=False)
class ToolReturnPart(_BaseToolReturn):
    """The result of a function tool call, sent back to the model.

    ``outcome='retried'`` makes it a retry: the call must be made again, and ``content`` is the feedback
    (``retry`` says why, for your code only).
    """

    retry: RetryInfo | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["tool-return"] = attrs.field(default="tool-return", init=False)

    @staticmethod
    def narrow_type(part: ToolReturnPart, *, tool_kind: ToolPartKind | None = None) -> ToolReturnPart:
        """The part with ``tool_kind`` set (trio_direct has no typed subclasses to promote it to)."""
        kind = tool_kind if tool_kind is not None else part.tool_kind
        return part if kind == part.tool_kind else attrs.evolve(part, tool_kind=kind)


@attrs.frozen(slots=True, repr=False)
class RetryPromptPart:
    """Asks the model to try again: after a failed tool call (``tool_name`` set) or bad output."""

    content: list[dict[str, Any]] | str
    tool_name: str | None = attrs.field(default=None, kw_only=True)
    tool_call_id: str = attrs.field(factory=generate_tool_call_id, kw_only=True)
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    part_kind: Literal["retry-prompt"] = attrs.field(default="retry-prompt", init=False)

    __repr__ = _no_defaults_repr
    otel_message_parts = _otel_message_parts

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

    @classmethod
    def from_error(
        cls, error: Exception, *, tool_name: str | None = None, tool_call_id: str | None = None
    ) -> RetryPromptPart:
        """A retry prompt from a validation error (its ``errors(include_url=False, include_context=False)``,
        for pydantic's ``ValidationError``) or from any exception with a ``message`` (pydantic-ai's
        ``ModelRetry``), else the exception's text."""
        errors: Any = getattr(error, "errors", None)
        content: list[dict[str, Any]] | str
        if callable(errors):
            details: Any = errors(include_url=False, include_context=False)
            content = list(details)
        else:
            message = getattr(error, "message", None)
            content = message if isinstance(message, str) else str(error)
        if tool_call_id:
            return cls(content, tool_name=tool_name, tool_call_id=tool_call_id)
        return cls(content, tool_name=tool_name)

    def translated(self) -> ToolReturnPart | RetryFeedbackPart:
        """The part this legacy retry means in pydantic-ai 2.68: a :class:`ToolReturnPart` with
        ``outcome='retried'`` when it names a tool, else a :class:`RetryFeedbackPart`.

        This is what 2.68 loads a stored ``retry-prompt`` as, and what it sends in its place.
        """
        if self.tool_name is not None:
            return ToolReturnPart(
                self.tool_name,
                self.content if isinstance(self.content, str) else _error_details(self.content),
                self.tool_call_id,
                timestamp=self.timestamp,
                outcome="retried",
                # A message alone cannot say whether the tool, a hook or the tool manager asked.
                retry=None if isinstance(self.content, str) else RetryInfo("validation_error"),
            )
        return RetryFeedbackPart(
            self.content,
            retry=RetryInfo("model_retry" if isinstance(self.content, str) else "validation_error"),
            timestamp=self.timestamp,
        )


RETRY_FEEDBACK_FRAMING = (
    "Your previous response failed the application's validation "
    "(this is automated feedback, not a message from the user):"
)
"""The line pydantic-ai 2.68 puts ahead of retry feedback it sends in the user voice."""


def dump_error_details(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors as pydantic-ai 2.68 shows them to a model: no ``ctx``; a root ``input`` repeated
    by a later root error only once."""
    out: list[dict[str, Any]] = []
    root_input: Any = None
    seen_root = False
    for error in errors:
        drop = {"ctx"}
        if len(error.get("loc", ())) <= 1:
            if not seen_root:
                root_input, seen_root = error.get("input"), True
            elif error.get("input") == root_input:
                drop.add("input")
        out.append({k: (list(v) if k == "loc" else v) for k, v in error.items() if k not in drop})
    return out


_error_details = dump_error_details


def frame_retry_feedback(text: str, *, validation_errors: bool) -> str:
    """Feedback in the user voice as 2.68 frames it: the attribution line, then ``text`` fenced in
    ``<pyai:validation_errors>`` (when it is validation errors) or ``<pyai:retry_feedback>``. The one
    renderer of that frame, for :class:`RetryFeedbackPart` and for tool-less retry prompts alike."""
    tag = VALIDATION_ERRORS_TAG if validation_errors else RETRY_FEEDBACK_TAG
    return f"{RETRY_FEEDBACK_FRAMING}\n<{tag}>\n{text}\n</{tag}>"


def retry_feedback_text(content: str | list[dict[str, Any]]) -> str:
    """A tool-less :class:`RetryPromptPart`'s content framed for the user channel: a message as-is, validation
    errors as compact JSON (as :meth:`RetryFeedbackPart.feedback_text` renders them)."""
    if isinstance(content, str):
        return frame_retry_feedback(content, validation_errors=False)
    return frame_retry_feedback(_tool_return_json(_error_details(content)), validation_errors=True)


_NO_OUTPUT_TEXTS: frozenset[str] = frozenset(
    "Please " + " or ".join(chosen) + "."
    for chosen in (
        tuple(x for x in (a, b, c) if x)
        for a in ("", "return text")
        for b in ("", "include your response in a tool call", "call a tool")
        for c in ("", "return an image")
    )
)
"""Every fixed text pydantic-ai's agent loop writes into ``no_output`` feedback: the only feedback that
reaches the model in the system voice rather than fenced in the user voice."""


@attrs.frozen(slots=True, repr=False)
class RetryFeedbackPart:
    """Feedback about a response that could not be used (bad structured output, a ``ModelRetry`` from
    output validation, no output at all); answers no tool call.

    Sent to the model fenced in ``<pyai:validation_errors>`` or ``<pyai:retry_feedback>`` behind a line
    saying the application speaks, or, for the framework's fixed ``no_output`` texts, as a system prompt.
    """

    content: list[dict[str, Any]] | str
    retry: RetryInfo = attrs.field(kw_only=True)
    timestamp: datetime = attrs.field(factory=_now_utc, kw_only=True)
    part_kind: Literal["retry-feedback"] = attrs.field(default="retry-feedback", init=False)

    __repr__ = _no_defaults_repr
    otel_message_parts = _otel_message_parts

    @property
    def speaks_for_the_harness(self) -> bool:
        """Whether the feedback goes out as a system prompt (only ``no_output`` with a framework text)."""
        return (
            self.retry.cause == "no_output"
            and isinstance(self.content, str)
            and self.content in _NO_OUTPUT_TEXTS
        )

    def feedback_text(self) -> str:
        """The content as text: a message as-is, validation errors as compact JSON."""
        if isinstance(self.content, str):
            return self.content
        return _tool_return_json(_error_details(self.content))

    def model_response(self) -> str:
        """The text the model is shown, in the voice ``retry.cause`` calls for."""
        text = self.feedback_text()
        if self.speaks_for_the_harness:
            return text
        return frame_retry_feedback(text, validation_errors=self.retry.cause == "validation_error")


# ---------------------------------------------------------------------------------------------
# Speech (realtime sessions) and citations
# ---------------------------------------------------------------------------------------------


@attrs.frozen(slots=True, repr=False)
class SpeechTimestamp:
    """When a piece of the model's speech is heard in its part's audio."""

    text: str = attrs.field(kw_only=True)
    start_ms: int = attrs.field(kw_only=True)
    duration_ms: int = attrs.field(kw_only=True)
    granularity: SpeechTimestampGranularity = attrs.field(default="word", kw_only=True)

    __repr__ = _no_defaults_repr


@attrs.frozen(slots=True, repr=False)
class SpeechPart:
    """Spoken audio from a realtime session with its transcript; ``speaker`` is ``'user'`` in a request
    and ``'assistant'`` in a response. Non-realtime models are sent the transcript as text."""

    speaker: Literal["user", "assistant"] = attrs.field(kw_only=True)
    transcript: str | None = attrs.field(default=None, kw_only=True)
    audio: BinaryContent | None = attrs.field(default=None, kw_only=True)
    interrupted_at_ms: int | None = attrs.field(default=None, kw_only=True)
    timestamps: list[SpeechTimestamp] | None = attrs.field(default=None, kw_only=True)
    id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_kind: Literal["speech"] = attrs.field(default="speech", init=False)

    __repr__ = _no_defaults_repr
    otel_message_parts = _otel_message_parts

    @property
    def content(self) -> str:
        """The transcript, or ``''`` (so generic code can treat speech like text)."""
        return self.transcript or ""

    def has_content(self) -> bool:
        return bool(self.transcript) or self.audio is not None


def _check_anchor(start: int, end: int) -> None:
    if start < 0 or end <= start:
        raise ValueError("Citation anchor must satisfy 0 <= start < end")


@attrs.frozen(slots=True, repr=False)
class WebCitationSource:
    """A web page a citation points to."""

    url: str
    title: str | None = attrs.field(default=None, kw_only=True)
    excerpts: list[str] = attrs.field(factory=list[str], kw_only=True)
    kind: Literal["web"] = attrs.field(default="web", init=False)

    __repr__ = _no_defaults_repr


@attrs.frozen(slots=True, repr=False)
class DocumentCitationSource:
    """Any other source a citation points to (a document you sent, a file in the provider's store).

    Raises:
        ValueError: none of ``document_id``, ``title``, ``excerpts`` is given.
    """

    document_id: str | None = attrs.field(default=None, kw_only=True)
    title: str | None = attrs.field(default=None, kw_only=True)
    excerpts: list[str] = attrs.field(factory=list[str], kw_only=True)
    kind: Literal["document"] = attrs.field(default="document", init=False)

    __repr__ = _no_defaults_repr

    def __attrs_post_init__(self) -> None:
        if not any((self.document_id, self.title, self.excerpts)):
            raise ValueError("A document citation source must have at least one source field")


@attrs.frozen(slots=True, repr=False)
class ContentCitationAnchor:
    """The cited text, as ``content[start:end]`` of the part."""

    start: int = attrs.field(kw_only=True)
    end: int = attrs.field(kw_only=True)
    kind: Literal["content"] = attrs.field(default="content", init=False)

    __repr__ = _no_defaults_repr

    def __attrs_post_init__(self) -> None:
        _check_anchor(self.start, self.end)


@attrs.frozen(slots=True, repr=False)
class MarkerCitationAnchor:
    """A marker the model wrote (``[1]``, a link), as ``content[start:end]`` of the part."""

    start: int = attrs.field(kw_only=True)
    end: int = attrs.field(kw_only=True)
    kind: Literal["marker"] = attrs.field(default="marker", init=False)

    __repr__ = _no_defaults_repr

    def __attrs_post_init__(self) -> None:
        _check_anchor(self.start, self.end)


CitationSource: TypeAlias = WebCitationSource | DocumentCitationSource
CitationAnchor: TypeAlias = ContentCitationAnchor | MarkerCitationAnchor


@attrs.frozen(slots=True, repr=False)
class Citation:
    """Links part of a model's answer to the sources that back it.

    Raises:
        ValueError: ``sources`` is empty.
    """

    sources: list[CitationSource]
    anchor: CitationAnchor | None = attrs.field(default=None, kw_only=True)

    __repr__ = _no_defaults_repr

    def __attrs_post_init__(self) -> None:
        if not self.sources:
            raise ValueError("A citation must have at least one source")


def _to_citations(value: Sequence[Citation | dict[str, Any]] | None) -> list[Citation] | None:
    """Citations as :class:`Citation` objects; a citation given in its JSON form (as some provider
    modules build them) is loaded."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(item, Citation) for item in value):
        return cast("list[Citation]", value)
    load = _codec("citation_from_python")
    return [item if isinstance(item, Citation) else load(item) for item in value]


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
    citations: list[Citation] | None = attrs.field(default=None, kw_only=True, converter=_to_citations)
    part_kind: Literal["text"] = attrs.field(default="text", init=False)

    __repr__ = _no_defaults_repr
    otel_message_parts = _otel_message_parts

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
    otel_message_parts = _otel_message_parts

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
    otel_message_parts = _otel_message_parts

    def args_as_dict(self, *, raise_if_invalid: bool = False) -> dict[str, Any]:
        """The arguments as a dict.

        Empty args give ``{}``; a JSON string is parsed. Malformed JSON, or JSON that is not an
        object, gives ``{"INVALID_JSON": "<raw>"}``.

        Raises:
            ToolArgsError: the JSON is malformed or not an object and ``raise_if_invalid`` is true (also
                a ``ValueError`` and an ``AssertionError``, what pydantic-ai raises there).
        """
        if not self.args:
            return {}
        if isinstance(self.args, dict):
            return self.args
        try:
            parsed = orjson.loads(self.args)
        except orjson.JSONDecodeError as exc:
            if raise_if_invalid:
                raise ToolArgsError(f"tool call args are not valid JSON ({exc}): {self.args!r}") from None
            return {INVALID_JSON_KEY: self.args}
        if not isinstance(parsed, dict):
            if raise_if_invalid:
                raise ToolArgsError(f"tool call args are not a JSON object: {self.args!r}")
            return {INVALID_JSON_KEY: self.args}
        return parsed  # pyright: ignore[reportUnknownVariableType]

    @property
    def typed_args(self) -> dict[str, Any] | None:
        """The arguments as a dict, or ``None`` while they are not (yet) a valid JSON object.

        trio_direct has no typed tool parts (pydantic-ai's ``ToolKind`` registry), so this is
        :meth:`args_as_dict` without the ``INVALID_JSON`` fallback.
        """
        try:
            return self.args_as_dict(raise_if_invalid=True)
        except ToolArgsError:
            return None

    def args_as_json_str(self) -> str:
        """The arguments as compact JSON text (``'{}'`` when empty), keys in their original order."""
        return orjson.dumps(self.args_as_dict()).decode()

    def has_content(self) -> bool:
        return bool(self.args)


@attrs.frozen(slots=True, repr=False)
class ToolCallPart(_BaseToolCall):
    """The model asks for a function tool to be called."""

    part_kind: Literal["tool-call"] = attrs.field(default="tool-call", init=False)

    @staticmethod
    def narrow_type(part: ToolCallPart, *, tool_kind: ToolPartKind | None = None) -> ToolCallPart:
        """The part with ``tool_kind`` set (trio_direct has no typed subclasses to promote it to)."""
        kind = tool_kind if tool_kind is not None else part.tool_kind
        return part if kind == part.tool_kind else attrs.evolve(part, tool_kind=kind)


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
    otel_message_parts = _otel_message_parts

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
    otel_message_parts = _otel_message_parts

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
    | SpeechPart
)

ModelRequestPart: TypeAlias = (
    SystemPromptPart
    | UserPromptPart
    | SpeechPart
    | ToolReturnPart
    | RetryPromptPart
    | RetryFeedbackPart
    | CompactionPart
)
"""A request part; a :class:`CompactionPart` in a request is a summary the application wrote."""


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


@attrs.frozen(slots=True, repr=False, kw_only=True)
class ModelRequestAttempt:
    """An attempt at a request that did not produce the response it is recorded on.

    A :class:`~trio_direct.models.fallback.FallbackModel` records one for each model it moved on from,
    on the response of the model that answered (:attr:`ModelResponse.failed_attempts`), or on the
    :class:`~trio_direct.exceptions.FallbackExceptionGroup` when every model failed.
    ``outcome`` is ``'error'`` (``error`` is ``'ExceptionType: message'``) or ``'rejected'`` (a
    ``fallback_on`` response handler rejected the response; ``usage`` is what it cost).
    """

    model_name: str
    provider_name: str | None = None
    outcome: Literal["error", "rejected"]
    error: str | None = None
    timestamp: datetime
    duration: timedelta
    usage: RequestUsage | None = None

    __repr__ = _no_defaults_repr


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
    failed_attempts: list[ModelRequestAttempt] | None = attrs.field(default=None, kw_only=True)
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

    def otel_message_parts(self, settings: Any) -> list[dict[str, Any]]:
        """The response's parts as OpenTelemetry GenAI message parts, as ``settings`` (an
        :class:`~trio_direct.models.instrumented.InstrumentationSettings`) records them."""
        parts: list[dict[str, Any]] = settings.response_to_otel(self)
        return parts

    def price_context(self) -> dict[str, str]:
        """What selects a price variant in genai-prices: the response's string-valued
        ``provider_details`` (``service_tier``...), as pydantic-ai 2.68 passes them, plus
        ``processing='batch'`` when the provider says the request ran in its batch tier (Anthropic's
        ``service_tier='batch'``) or ``metadata`` marks it (``{'processing': 'batch'}``), so batch
        prices come out right where 2.68 charges the standard price."""
        context = {k: v for k, v in (self.provider_details or {}).items() if isinstance(v, str)}
        processing = (self.metadata or {}).get("processing")
        if processing == "batch" or context.get("service_tier") == "batch":
            context["processing"] = "batch"
        return context

    def cost(self) -> Any:
        """The price of this response from `genai-prices <https://github.com/pydantic/genai-prices>`_
        (a ``genai_prices.types.PriceCalculation``: ``total_price``, ``input_price``, ``output_price``).

        Matches on ``provider_url`` first, then ``provider_name``, at the response's ``timestamp``, with
        :meth:`price_context` selecting batch or service-tier prices.

        Raises:
            UserError: genai-prices is not installed (``pip install 'trio-direct[prices]'``), or the
                response has no ``model_name``.
            CostCalculationError: the model or provider is unknown to genai-prices, or the response
                omitted its usage (``usage.unmeasured_requests``), so its cost would be incomplete.
        """
        try:
            from genai_prices import calc_price
        except ImportError:
            raise UserError(
                "ModelResponse.cost() needs genai-prices: install the `prices` extra "
                "(pip install 'trio-direct[prices]')"
            ) from None
        if not self.model_name:
            raise UserError("a response without a model_name cannot be priced")
        if self.usage.unmeasured_requests:
            raise CostCalculationError(
                "Cannot calculate the price of a response that omitted usage information "
                "(`usage.unmeasured_requests` is non-zero)"
            )
        context = self.price_context() or None
        try:
            if self.provider_url and self.provider_name != "openai-decisions":
                try:
                    return calc_price(
                        self.usage,
                        self.model_name,
                        provider_api_url=self.provider_url,
                        genai_request_timestamp=self.timestamp,
                        price_context=context,
                    )
                except LookupError:
                    pass  # an unknown URL: the provider name may still resolve
            return calc_price(
                self.usage,
                self.model_name,
                provider_id=self.provider_name,
                genai_request_timestamp=self.timestamp,
                price_context=context,
            )
        except (LookupError, ValueError) as exc:
            raise CostCalculationError(f"cannot price {self.model_name!r}: {exc}") from exc


ModelMessage: TypeAlias = ModelRequest | ModelResponse

BaseToolCallPart = _BaseToolCall
"""The base of :class:`ToolCallPart` and :class:`NativeToolCallPart` (for ``isinstance`` checks)."""
BaseToolReturnPart = _BaseToolReturn
"""The base of :class:`ToolReturnPart` and :class:`NativeToolReturnPart` (for ``isinstance`` checks)."""
ProviderDetailsDelta: TypeAlias = dict[str, Any] | Callable[[dict[str, Any] | None], dict[str, Any]] | None
"""A delta's ``provider_details``: a dict merged into the part's, a callable from the old details to the
new, or None. A callable has no JSON form and is written as null."""


def post_compaction_window(messages: Sequence[ModelMessage]) -> list[ModelMessage]:
    """The messages from the latest :class:`CompactionPart` on: what the model effectively works from.

    A compaction part in a response (the provider's) opens the window at that part, dropping the
    response's earlier parts; one in a request (a summary the application wrote) opens it at the start
    of that request's turn (the run of consecutive requests around it). Without a compaction part the
    whole history is returned, as a new list.
    """
    for message_index in range(len(messages) - 1, -1, -1):
        message = messages[message_index]
        if isinstance(message, ModelResponse):
            for part_index in range(len(message.parts) - 1, -1, -1):
                if isinstance(message.parts[part_index], CompactionPart):
                    return [
                        attrs.evolve(message, parts=list(message.parts[part_index:])),
                        *(messages[i] for i in range(message_index + 1, len(messages))),
                    ]
        elif any(isinstance(part, CompactionPart) for part in message.parts):
            start = message_index
            while start > 0 and isinstance(messages[start - 1], ModelRequest):
                start -= 1
            return [*(messages[i] for i in range(start, len(messages)))]
    return list(messages)


# ---------------------------------------------------------------------------------------------
# Stream events and the deltas they carry (also importable from trio_direct.events)
#
# Stream events and the deltas they carry.
#
# A streamed response is a sequence of :data:`ModelResponseStreamEvent`: a part starts
# (:class:`PartStartEvent`), grows by deltas (:class:`PartDeltaEvent`), ends (:class:`PartEndEvent`),
# and once the answer is known to be final a :class:`FinalResultEvent` is emitted. Each delta knows
# how to ``apply`` itself to the part it extends; that pure function is what both the producer-side
# parts manager and the consumer-side accumulator use.
#
# Events and deltas are slotted but not frozen: a stream builds two of them per token, and frozen
# attrs classes cost about twice as much to construct. Treat them as read-only all the same.
# ---------------------------------------------------------------------------------------------

PartKind: TypeAlias = Literal[
    "text",
    "thinking",
    "tool-call",
    "builtin-tool-call",
    "builtin-tool-return",
    "file",
    "compaction",
    "speech",
]


def _merge_details(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    if not new:
        return old
    merged = {**(old or {}), **new}
    return merged or None


@attrs.define(slots=True, repr=False)
class TextPartDelta:
    """More text for a :class:`TextPart`."""

    content_delta: str
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    citations_delta: list[Any] | None = attrs.field(default=None, kw_only=True)
    part_delta_kind: Literal["text"] = attrs.field(default="text", init=False)

    __repr__ = _no_defaults_repr

    def apply(self, part: ModelResponsePart) -> TextPart:
        """A new text part with this delta's content appended.

        Raises:
            DeltaApplyError: ``part`` is not a :class:`TextPart`.
        """
        if not isinstance(part, TextPart):
            raise DeltaApplyError(f"cannot apply a text delta to {part!r}")
        return TextPart(
            part.content + self.content_delta,
            id=part.id,
            provider_name=self.provider_name or part.provider_name,
            provider_details=_merge_details(part.provider_details, self.provider_details),
            citations=(
                (part.citations or []) + self.citations_delta if self.citations_delta else part.citations
            ),
        )


_DetailsUpdate: TypeAlias = dict[str, Any] | Callable[[dict[str, Any] | None], dict[str, Any]]


@attrs.define(slots=True, repr=False)
class ThinkingPartDelta:
    """More thinking, and/or a new signature, for a :class:`ThinkingPart`.

    ``provider_details`` may be a callable mapping the old details to the new (it serializes as null).
    """

    content_delta: str | None = attrs.field(default=None, kw_only=True)
    signature_delta: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: _DetailsUpdate | None = attrs.field(default=None, kw_only=True)
    part_delta_kind: Literal["thinking"] = attrs.field(default="thinking", init=False)

    __repr__ = _no_defaults_repr

    def _details_for(self, old: dict[str, Any] | None) -> dict[str, Any] | None:
        # A callable computes an update from the old details; like a dict, the update is merged in.
        update = self.provider_details(old) if callable(self.provider_details) else self.provider_details
        return _merge_details(old, update)

    def _chained_details(self, earlier: _DetailsUpdate | None) -> _DetailsUpdate | None:
        """This delta's details update applied after ``earlier`` (as pydantic-ai chains them)."""
        new = self.provider_details
        if new is None:
            return earlier
        if callable(new):
            if callable(earlier):
                first = earlier
                return lambda d: new(first(d))
            if earlier:
                merged = earlier
                return lambda d: new({**(d or {}), **merged})
            return new
        if callable(earlier):
            first = earlier
            return lambda d: {**first(d), **new}
        return {**(earlier or {}), **new}

    def apply(self, part: ModelResponsePart | ThinkingPartDelta) -> ThinkingPart | ThinkingPartDelta:
        """Content appended, signature replaced, provider name replaced, details merged.

        Applied to another :class:`ThinkingPartDelta` the two coalesce into one delta.

        Raises:
            DeltaApplyError: ``part`` is neither a thinking part nor a thinking delta, or this delta
                carries neither content nor a signature and is applied to a delta (as pydantic-ai 2.68).
        """
        if isinstance(part, ThinkingPartDelta):
            if self.content_delta is None and self.signature_delta is None:
                raise DeltaApplyError("Cannot apply ThinkingPartDelta with no content or signature")
            content = (
                None
                if part.content_delta is None and self.content_delta is None
                else ((part.content_delta or "") + (self.content_delta or ""))
            )
            return ThinkingPartDelta(
                content_delta=content,
                signature_delta=(
                    self.signature_delta if self.signature_delta is not None else part.signature_delta
                ),
                provider_name=self.provider_name or part.provider_name,
                provider_details=self._chained_details(part.provider_details),
            )
        if not isinstance(part, ThinkingPart):
            raise DeltaApplyError(f"cannot apply a thinking delta to {part!r}")
        return ThinkingPart(
            part.content + (self.content_delta or ""),
            id=part.id,
            signature=self.signature_delta if self.signature_delta is not None else part.signature,
            provider_name=self.provider_name or part.provider_name,
            provider_details=self._details_for(part.provider_details),
        )


@attrs.define(slots=True, repr=False)
class ToolCallPartDelta:
    """A fragment of a tool call: more name, more arguments, or its id.

    String arguments concatenate; dict arguments merge shallowly; mixing the two is an error.
    """

    tool_name_delta: str | None = attrs.field(default=None, kw_only=True)
    args_delta: str | dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    tool_call_id: str | None = attrs.field(default=None, kw_only=True)
    provider_name: str | None = attrs.field(default=None, kw_only=True)
    provider_details: dict[str, Any] | None = attrs.field(default=None, kw_only=True)
    part_delta_kind: Literal["tool_call"] = attrs.field(default="tool_call", init=False)

    __repr__ = _no_defaults_repr

    def _merge_args(self, args: str | dict[str, Any] | None) -> str | dict[str, Any] | None:
        delta = self.args_delta
        if delta is None:
            return args
        if args is None:
            return delta
        if isinstance(args, str) and isinstance(delta, str):
            return args + delta
        if isinstance(args, dict) and isinstance(delta, dict):
            return {**args, **delta}
        raise DeltaApplyError(f"cannot mix string and dict tool-call arguments: {args!r} then {delta!r}")

    def apply(
        self, part: ModelResponsePart | ToolCallPartDelta
    ) -> ToolCallPart | NativeToolCallPart | ToolCallPartDelta:
        """Name appended, arguments merged, id replaced, details merged.

        Applied to another delta the two accumulate; the result becomes a :class:`ToolCallPart` as
        soon as a name is known.

        Raises:
            DeltaApplyError: ``part`` is not a tool call, or string and dict args are mixed.
        """
        if isinstance(part, ToolCallPartDelta):
            merged = ToolCallPartDelta(
                tool_name_delta=(part.tool_name_delta or "") + (self.tool_name_delta or "") or None,
                args_delta=self._merge_args(part.args_delta),
                tool_call_id=self.tool_call_id or part.tool_call_id,
                provider_name=self.provider_name or part.provider_name,
                provider_details=_merge_details(part.provider_details, self.provider_details),
            )
            return merged.as_part() or merged
        if not isinstance(part, ToolCallPart | NativeToolCallPart):
            raise DeltaApplyError(f"cannot apply a tool-call delta to {part!r}")
        return type(part)(
            part.tool_name + (self.tool_name_delta or ""),
            self._merge_args(part.args),
            self.tool_call_id or part.tool_call_id,
            tool_kind=part.tool_kind,
            id=part.id,
            provider_name=self.provider_name or part.provider_name,
            provider_details=_merge_details(part.provider_details, self.provider_details),
        )

    def as_part(self) -> ToolCallPart | None:
        """The :class:`ToolCallPart` this delta describes, or None while it has no name."""
        if not self.tool_name_delta:
            return None
        return ToolCallPart(
            self.tool_name_delta,
            self.args_delta,
            self.tool_call_id or generate_tool_call_id(),
            provider_name=self.provider_name,
            provider_details=self.provider_details,
        )


@attrs.define(slots=True, repr=False)
class SpeechPartDelta:
    """More transcript and/or audio for a :class:`~trio_direct.messages.SpeechPart` (realtime sessions).

    ``transcript``, when set, is the turn's whole transcript so far and replaces the part's (how a
    provider revises what it transcribed); otherwise ``transcript_delta`` is appended.
    """

    speaker: Literal["user", "assistant"] | None = attrs.field(default=None, kw_only=True)
    transcript_delta: str | None = attrs.field(default=None, kw_only=True)
    transcript: str | None = attrs.field(default=None, kw_only=True)
    audio_chunk: bytes | None = attrs.field(default=None, kw_only=True)
    timestamps: list[SpeechTimestamp] | None = attrs.field(default=None, kw_only=True)
    part_delta_kind: Literal["speech"] = attrs.field(default="speech", init=False)

    __repr__ = _no_defaults_repr

    def apply(self, part: ModelResponsePart) -> SpeechPart:
        """The part with the transcript replaced or extended, the audio chunk appended (only when the
        part retains audio) and the timestamps added.

        Raises:
            DeltaApplyError: ``part`` is not a speech part.
        """
        if not isinstance(part, SpeechPart):
            raise DeltaApplyError("Cannot apply SpeechPartDeltas to non-SpeechParts")
        transcript = part.transcript
        if self.transcript is not None:
            transcript = self.transcript
        elif self.transcript_delta:
            transcript = (transcript or "") + self.transcript_delta
        audio = part.audio
        if self.audio_chunk and audio is not None:
            audio = attrs.evolve(audio, data=audio.data + self.audio_chunk)
        timestamps = part.timestamps
        if self.timestamps:
            timestamps = [*(timestamps or ()), *self.timestamps]
        return attrs.evolve(part, transcript=transcript, audio=audio, timestamps=timestamps)


ModelResponsePartDelta: TypeAlias = TextPartDelta | ThinkingPartDelta | ToolCallPartDelta | SpeechPartDelta


@attrs.define(slots=True, repr=False)
class PartStartEvent:
    """A new part begins at ``index`` (a second start at the same index replaces that part)."""

    index: int
    part: ModelResponsePart
    previous_part_kind: PartKind | None = None
    canonical_system: str | None = None
    event_kind: Literal["part_start"] = attrs.field(default="part_start", init=False)

    __repr__ = _no_defaults_repr


@attrs.define(slots=True, repr=False)
class PartDeltaEvent:
    """The part at ``index`` grows by ``delta``."""

    index: int
    delta: ModelResponsePartDelta
    event_kind: Literal["part_delta"] = attrs.field(default="part_delta", init=False)

    __repr__ = _no_defaults_repr


@attrs.define(slots=True, repr=False)
class PartEndEvent:
    """The part at ``index`` is complete; ``part`` is its final value."""

    index: int
    part: ModelResponsePart
    next_part_kind: PartKind | None = None
    canonical_system: str | None = None
    event_kind: Literal["part_end"] = attrs.field(default="part_end", init=False)

    __repr__ = _no_defaults_repr


@attrs.define(slots=True, repr=False)
class FinalResultEvent:
    """The response is known to be the final result: text, or a call to the named output tool."""

    tool_name: str | None
    tool_call_id: str | None
    event_kind: Literal["final_result"] = attrs.field(default="final_result", init=False)

    __repr__ = _no_defaults_repr


ModelResponseStreamEvent: TypeAlias = PartStartEvent | PartDeltaEvent | PartEndEvent | FinalResultEvent


# ---------------------------------------------------------------------------------------------------
# pydantic-ai's ModelMessagesTypeAdapter, over trio_direct.serialization's converter
# ---------------------------------------------------------------------------------------------------

_IGNORED_OPTIONS: Final = frozenset(
    {
        "by_alias",
        "by_name",
        "strict",
        "context",
        "round_trip",
        "warnings",
        "serialize_as_any",
        "from_attributes",
    }
)
"""pydantic TypeAdapter keywords that change nothing for this model (it has no aliases, loading is
always as strict as described above, and dumping always round-trips); accepted so calls move over."""


def _check_options(method: str, options: Mapping[str, Any]) -> None:
    unknown = sorted(key for key, value in options.items() if key not in _IGNORED_OPTIONS and value)
    if unknown:
        raise UserError(
            f"ModelMessagesTypeAdapter.{method}() does not support {', '.join(unknown)}: trio_direct writes "
            "every field, as pydantic-ai does by default; filter the JSON-mode output of "
            "dump_python(mode='json') instead"
        )


def _history_items(data: Any) -> list[Any]:
    if isinstance(data, list | tuple):
        return list(data)  # pyright: ignore[reportUnknownArgumentType]
    return [data]


@final
class _MessagesTypeAdapter:
    """``pydantic.TypeAdapter(list[ModelMessage])`` as pydantic-ai users call it, over the cattrs
    converter: ``validate_json`` / ``validate_python`` load a history, ``dump_json`` / ``dump_python``
    write one, with exactly the JSON pydantic-ai 2.68 writes.

    ``indent`` (``dump_json``) and ``mode`` (``dump_python``) are honoured; ``by_alias``, ``strict``,
    ``context``, ``round_trip`` and the like are accepted and change nothing; filtering options
    (``include``, ``exclude``, ``exclude_none``...) raise :class:`~trio_direct.exceptions.UserError`.
    """

    def validate_json(self, data: str | bytes | bytearray, /, **options: Any) -> list[ModelMessage]:
        """Load a history from JSON.

        Raises:
            MessageFormatError: not valid JSON, or not a valid history (the message names the item).
            UserError: an unsupported option.
        """
        _check_options("validate_json", options)
        return _codec("messages_from_json")(data)  # type: ignore[no-any-return]

    def validate_python(self, data: Any, /, **options: Any) -> list[ModelMessage]:
        """Load a history from Python: JSON-mode dicts (as ``json.loads`` gives), Python-mode values
        (datetimes, bytes), or messages already built (kept as they are).

        Raises:
            MessageFormatError: not a valid history.
            UserError: an unsupported option.
        """
        _check_options("validate_python", options)
        if isinstance(data, list | tuple) and all(
            isinstance(item, ModelRequest | ModelResponse)
            for item in data  # pyright: ignore[reportUnknownVariableType]
        ):
            return list(cast("list[ModelMessage]", data))
        items = _history_items(data)
        built = [
            item
            if isinstance(item, ModelRequest | ModelResponse)
            else _codec("messages_from_python")([item])[0]
            for item in items
        ]
        return built

    def dump_json(
        self, messages: Sequence[ModelMessage], /, *, indent: int | None = None, **options: Any
    ) -> bytes:
        """The history as pydantic-ai 2.68's JSON; ``indent`` pretty-prints it as pydantic does.

        Raises:
            TypeError: an object in the history is not part of the message model.
            UserError: an unsupported option.
        """
        _check_options("dump_json", options)
        if indent is None:
            return _codec("messages_to_json")(messages)  # type: ignore[no-any-return]
        if indent == 2:
            return orjson.dumps(
                orjson.loads(_codec("messages_to_json")(messages)), option=orjson.OPT_INDENT_2
            )
        return json.dumps(_codec("messages_to_python")(messages), indent=indent, ensure_ascii=False).encode()

    def dump_python(
        self,
        messages: Sequence[ModelMessage],
        /,
        *,
        mode: Literal["python", "json"] = "python",
        **options: Any,
    ) -> list[Any]:
        """The history as Python: ``mode='json'`` gives exactly ``json.loads(dump_json(...))``;
        ``mode='python'`` (the default, as in pydantic) keeps datetimes as ``datetime`` objects, but
        writes bytes as base64 text and costs as decimal strings, as the JSON does.

        Raises:
            TypeError: an object in the history is not part of the message model.
            UserError: an unsupported option.
        """
        _check_options("dump_python", options)
        if mode == "json":
            return _codec("messages_to_python")(messages)  # type: ignore[no-any-return]
        if mode != "python":
            raise UserError(f"mode must be 'python' or 'json', got {mode!r}")
        return _codec("messages_to_python_mode")(messages)  # type: ignore[no-any-return]


ModelMessagesTypeAdapter: Final = _MessagesTypeAdapter()
"""Reads and writes message histories as pydantic-ai's ``ModelMessagesTypeAdapter`` does."""
