"""pydantic-ai 2.68's JSON for the message model, both ways.

One cattrs converter, built on :mod:`cattrs.preconf.orjson` at import, turns messages and stream events
into exactly the JSON pydantic-ai's ``ModelMessagesTypeAdapter`` writes, and reads that JSON back (also
older pydantic-ai JSON, and JSON with keys missing or extra). A history dumped here loads in
pydantic-ai, and one pydantic-ai dumped loads here.

The wire format, in short (``reference/upstream-api.md`` §6 has the full table):

* every field is written, ``null`` included, in field declaration order; the discriminators (``kind``,
  ``part_kind``, ``event_kind``, ``part_delta_kind``) sit where they are declared, and the computed
  ``media_type`` / ``identifier`` keys of file content come after ``kind``;
* bytes are URL-safe base64 with padding; timestamps are RFC 3339 with ``Z`` for UTC and microseconds
  only when non-zero, naive datetimes stay naive; ``usage.cost`` is a decimal string;
* a tool return whose content is not a scalar ends with ``content_file_digests``: the sorted SHA-256
  digests of the URL and uploaded-file items its content holds, so that on load only those items are
  rebuilt from dicts and a tool's own dict that happens to look like a file stays a dict.

Loading is tolerant the way pydantic-ai is: missing keys take their defaults (part and response
timestamps default to now), extra keys are ignored, legacy keys (``vendor_details``, ``vendor_id``,
usage ``request_tokens``/``response_tokens``) are read, base64 may use either alphabet with or without
padding, and timestamps may be ISO 8601 in any common spelling or Unix seconds. Image
:class:`~trio_direct.messages.BinaryContent` comes back as
:class:`~trio_direct.messages.BinaryImage`, as in pydantic-ai. Anything else raises
:class:`~trio_direct.exceptions.MessageFormatError` naming the path of the offending item.

Unknown keys inside ``usage`` are the exception to "extra keys are ignored": pydantic-ai keeps them
(``web_searches``, ``input_text_tokens``...) and writes them back after ``cost``; here they live in
:attr:`RequestUsage.extra <trio_direct.usage.RequestUsage.extra>`.

Validation error details are read and written as pydantic's ``ErrorDetails`` (its keys only, in its
order).

What is not reproduced: pydantic-ai 2.68 loads a stored ``retry-prompt`` part as the part it means (a
retried ``ToolReturnPart`` or a ``RetryFeedbackPart``); here it stays a
:class:`~trio_direct.messages.RetryPromptPart`, so it dumps back byte for byte, and is translated the
same way only when it is sent (:meth:`RetryPromptPart.translated
<trio_direct.messages.RetryPromptPart.translated>`, run by ``Model.prepare_messages``). The request
parts only pydantic-ai's Agent writes (``instruction-delta``,
``instruction-baseline``, ``tool-availability-delta``, ``capability-load-delta``,
``model-settings-delta``) raise :class:`~trio_direct.exceptions.MessageFormatError`; typed tool parts
(``tool_kind='tool-search'`` and the like) load as plain tool parts with that ``tool_kind``, which dump
to the same JSON. Integers beyond 64 bits inside free-form JSON (tool arguments, provider details) load
as floats, because orjson reads them so; they dump exactly (through the stdlib encoder, which orjson
falls back to).

Performance: the per-class functions are generated once at import by cattrs with an explicit hook per
field (``detailed_validation=False``); the error path alone pays for naming the offending item, by
re-running the failed load field by field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import NoneType, UnionType
from typing import Any, Final, Literal, TypeAlias, Union, cast, get_args, get_origin
from urllib.parse import urlsplit

import attrs
import orjson
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override
from cattrs.preconf.orjson import OrjsonConverter, make_converter

from . import _json
from . import messages as _messages_module
from ._json import dump_bytes as _dump_bytes
from ._json import to_json as _to_json
from ._json import to_python as _to_python
from .events import (
    FinalResultEvent,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    SpeechPartDelta,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
)
from .exceptions import MessageFormatError
from .messages import (
    AudioUrl,
    BinaryAudio,
    BinaryContent,
    BinaryImage,
    CachePoint,
    Citation,
    CompactionPart,
    ContentCitationAnchor,
    DocumentCitationSource,
    DocumentUrl,
    FilePart,
    ImageUrl,
    MarkerCitationAnchor,
    ModelMessage,
    ModelRequest,
    ModelRequestAttempt,
    ModelResponse,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryFeedbackPart,
    RetryInfo,
    RetryPromptPart,
    SpeechPart,
    SpeechTimestamp,
    StructuredContent,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
    WebCitationSource,
)
from .usage import RequestUsage

__all__ = [
    "ModelMessagesTypeAdapter",
    "citation_from_python",
    "event_from_json",
    "event_from_python",
    "event_to_json",
    "event_to_python",
    "messages_from_json",
    "messages_from_python",
    "messages_to_json",
    "messages_to_python",
    "response_to_python",
]

_Hook: TypeAlias = Callable[..., Any]
"""A structure hook: ``(value, type=None) -> loaded value``; raises on malformed input."""
_Dumper: TypeAlias = Callable[[Any], Any]
"""An unstructure hook: ``value -> JSON-ready value`` (datetimes are left for orjson to write)."""

_converter: Final[OrjsonConverter] = make_converter(detailed_validation=False)
"""The converter. Its per-class functions are generated once below, with explicit hooks per field."""


class _Unknown(Exception):
    """A discriminator value with no class behind it (only raised while loading)."""


# ---------------------------------------------------------------------------------------------------
# Scalar hooks (loading). Strict like pydantic: a number is not a string, a string is not a number.
# ---------------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _load_str(value: Any, _: Any = None) -> str:
    if value.__class__ is str or isinstance(value, str):
        return value
    raise TypeError(f"expected a string, got {_describe(value)}")


def _load_optional_str(value: Any, _: Any = None) -> str | None:
    if value is None or value.__class__ is str or isinstance(value, str):
        return value
    raise TypeError(f"expected a string or null, got {_describe(value)}")


def _load_int(value: Any, _: Any = None) -> int:
    if value.__class__ is int or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected an integer, got {_describe(value)}")


def _load_float(value: Any, _: Any = None) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {_describe(value)}")


def _load_dict(value: Any, _: Any = None) -> dict[str, Any]:
    # Free-form JSON objects are kept as they are (not copied): the loaders own what orjson parsed.
    if isinstance(value, dict):
        return value  # pyright: ignore[reportUnknownVariableType]
    raise TypeError(f"expected an object, got {_describe(value)}")


def _load_optional_dict(value: Any, _: Any = None) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value  # pyright: ignore[reportUnknownVariableType]
    raise TypeError(f"expected an object or null, got {_describe(value)}")


def _load_list(value: Any, _: Any = None) -> list[Any]:
    if isinstance(value, list):
        return value  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, tuple):
        return list(value)  # pyright: ignore[reportUnknownArgumentType]
    raise TypeError(f"expected an array, got {_describe(value)}")


def _load_any(value: Any, _: Any = None) -> Any:
    return value


def _load_force_download(value: Any, _: Any = None) -> bool | Literal["allow-local"]:
    if value is True or value is False or value == "allow-local":
        return value  # type: ignore[no-any-return]
    raise TypeError(f"expected true, false or 'allow-local', got {value!r}")


def _literal_loader(values: tuple[Any, ...]) -> _Hook:
    allowed = frozenset(values)

    def load(value: Any, _: Any = None) -> Any:
        if value.__class__ is str and value in allowed:
            return value
        raise ValueError(f"expected one of {sorted(allowed)}, got {value!r}")

    return load


def _optional(load: _Hook) -> _Hook:
    if load is _load_str:
        return _load_optional_str
    if load is _load_dict:
        return _load_optional_dict

    def load_optional(value: Any, _: Any = None) -> Any:
        return None if value is None else load(value)

    return load_optional


_UNIX_MS_THRESHOLD: Final = 2e10  # pydantic's rule: larger Unix timestamps are milliseconds


def _from_unix(seconds: float) -> datetime:
    if abs(seconds) > _UNIX_MS_THRESHOLD:
        seconds /= 1000
    return datetime.fromtimestamp(seconds, tz=UTC)


def _load_datetime(value: Any, _: Any = None) -> datetime:
    """ISO 8601 (``Z``, offsets, ``T`` or space, any fraction length, bare dates) or Unix seconds."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
        try:
            return datetime.fromisoformat(value.upper())  # lower-case `t` / `z`
        except ValueError:
            pass
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"not a datetime: {value!r}") from None
        return _from_unix(number)
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_unix(value)
    raise TypeError(f"expected a datetime string or Unix timestamp, got {_describe(value)}")


_TO_STANDARD_ALPHABET: Final = bytes.maketrans(b"-_", b"+/")


def _decode_base64(text: str) -> bytes:
    raw = text.encode("ascii").rstrip(b"=").translate(_TO_STANDARD_ALPHABET)
    return base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)


def _load_bytes(value: Any, _: Any = None) -> bytes:
    if isinstance(value, str):
        try:
            return _decode_base64(value)
        except (binascii.Error, UnicodeEncodeError):
            raise ValueError("not valid base64") from None
    if isinstance(value, bytes):
        return value
    raise TypeError(f"expected base64 text, got {_describe(value)}")


def _load_decimal(value: Any, _: Any = None) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
        if result.is_finite():
            return result
    raise TypeError(f"expected a decimal number, got {value!r}")


def _load_details(value: Any, _: Any = None) -> dict[str, int]:
    if not value:  # pydantic-ai reads `details: null` (any empty value) as `{}`
        return {}
    details = _load_dict(value)
    for key, count in details.items():
        if not isinstance(count, int) or isinstance(count, bool):
            raise TypeError(f"details[{key!r}]: expected an integer, got {_describe(count)}")
    return details


def _load_thinking_details(value: Any, _: Any = None) -> dict[str, Any] | None:
    return None if value is None else _load_dict(value)


def _load_args(value: Any, _: Any = None) -> str | dict[str, Any] | None:
    if value is None or isinstance(value, str | dict):
        return value  # pyright: ignore[reportUnknownVariableType]
    raise TypeError(f"expected a string, an object or null, got {_describe(value)}")


_ERROR_DETAIL_KEYS: Final = ("type", "loc", "msg", "input", "ctx", "url")
"""pydantic-core's ``ErrorDetails`` keys in declaration order: the order 2.68 writes them in."""


def _load_error_detail(value: Any) -> dict[str, Any]:
    # Loaded as pydantic-ai loads an ``ErrorDetails``: required keys checked, unknown keys dropped,
    # keys put in declaration order (which is how they are written back).
    error = _load_dict(value)
    for key in ("type", "loc", "msg", "input"):
        if key not in error:
            raise KeyError(key)
    _load_str(error["type"])
    _load_str(error["msg"])
    for item in _load_list(error["loc"]):
        if not isinstance(item, str) and not (isinstance(item, int) and not isinstance(item, bool)):
            raise TypeError(f"loc: expected strings and integers, got {_describe(item)}")
    if "ctx" in error:
        _load_dict(error["ctx"])
    if "url" in error:
        _load_str(error["url"])
    ordered: dict[str, Any] = {key: error[key] for key in _ERROR_DETAIL_KEYS if key in error}
    if isinstance(ordered["loc"], tuple):  # Python-mode input: the JSON form is a list
        ordered["loc"] = list(ordered["loc"])  # pyright: ignore[reportUnknownArgumentType]
        return ordered
    return error if list(error) == list(ordered) else ordered


def _dump_retry_content(value: list[dict[str, Any]] | str) -> Any:
    # Written as pydantic writes an ``ErrorDetails``: its keys only, in declaration order.
    if isinstance(value, str):
        return value
    return [{key: error[key] for key in _ERROR_DETAIL_KEYS if key in error} for error in value]


def _load_retry_content(value: Any, _: Any = None) -> list[dict[str, Any]] | str:
    if isinstance(value, str):
        return value
    return [_load_error_detail(error) for error in _load_list(value)]


_SCALAR_LOADERS: Final[dict[Any, _Hook]] = {
    str: _load_str,
    str | None: _load_optional_str,
    dict[str, Any] | None: _load_optional_dict,
    int: _load_int,
    float: _load_float,
    datetime: _load_datetime,
    bytes: _load_bytes,
    Decimal: _load_decimal,
    Any: _load_any,
    dict[str, Any]: _load_dict,
    list[Any]: _load_list,
    dict[str, int]: _load_details,
    bool | Literal["allow-local"]: _load_force_download,
}


def _loader_for(tp: Any) -> _Hook:
    """The structure hook for a scalar-ish field type; fails at import for a type nobody planned for."""
    if tp in _SCALAR_LOADERS:
        return _SCALAR_LOADERS[tp]
    if get_origin(tp) is Literal:
        return _literal_loader(get_args(tp))
    if isinstance(tp, UnionType) or get_origin(tp) is Union:
        members = [arg for arg in get_args(tp) if arg is not NoneType]
        if len(members) == 1 and len(get_args(tp)) == 2:
            return _optional(_loader_for(members[0]))
    raise TypeError(f"serialization has no loader for field type {tp!r}")


# ---------------------------------------------------------------------------------------------------
# Dumping helpers
# ---------------------------------------------------------------------------------------------------


def _is_attrs_instance(value: object) -> bool:
    return attrs.has(type(value))


def _dump_decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _dump_float(value: float) -> float:
    return float(value)


def _dump_thinking_details(value: Any) -> Any:
    return None if callable(value) else value  # a callable details update has no JSON form: null


# ---------------------------------------------------------------------------------------------------
# Per-class functions, generated once by the converter
# ---------------------------------------------------------------------------------------------------

_LOADERS: dict[type, _Hook] = {}
"""Class -> generated loader (a dict in, an instance out)."""
_FIELD_LOADERS: dict[type, dict[str, _Hook]] = {}
"""Class -> JSON key -> field hook: what the error diagnosis re-runs field by field."""
_DUMPERS: dict[type, _Dumper] = {}
"""Class -> dumper (an instance in, a JSON-ready dict out)."""

_COMPUTED_KEYS: Final = ("_media_type", "_identifier")


def _register(
    cls: type,
    *,
    load: Mapping[str, _Hook] | None = None,
    dump: Mapping[str, _Dumper] | None = None,
    skip: Iterable[str] = (),
) -> None:
    """Generate the loader and dumper of ``cls`` with explicit hooks for every field.

    ``load``/``dump`` map attribute names to hooks for the fields that need more than a scalar hook
    (nested classes, unions) or more than passing the value through to orjson (bytes, decimals).
    Fields named in ``skip`` are not JSON keys at all; a wrapper handles them.
    """
    attrs.resolve_types(cls)
    load = load or {}
    dump = dump or {}
    load_overrides: dict[str, Any] = {}
    field_loaders: dict[str, _Hook] = {}
    dump_overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        if field.name in skip:
            load_overrides[field.name] = dump_overrides[field.name] = override(omit=True)
            continue
        if field.name in _COMPUTED_KEYS:
            dump_overrides[field.name] = override(omit=True)
        else:
            dump_overrides[field.name] = override(unstruct_hook=dump.get(field.name, identity))
        if field.init:
            hook = load[field.name] if field.name in load else _loader_for(field.type)
            # `Any` fields get no hook at all, so the generated code reads the value straight through.
            load_overrides[field.name] = override(struct_hook=None if hook is _load_any else hook)
            field_loaders[field.alias or field.name] = hook
    _LOADERS[cls] = make_dict_structure_fn(
        cls, _converter, _cattrs_detailed_validation=False, _cattrs_use_alias=True, **load_overrides
    )
    _FIELD_LOADERS[cls] = field_loaders
    _DUMPERS[cls] = make_dict_unstructure_fn(
        cls, _converter, _cattrs_omit_if_default=False, _cattrs_include_init_false=True, **dump_overrides
    )


def _dispatch_dump(table: Mapping[type, _Dumper], what: str) -> _Dumper:
    def dump(value: Any) -> Any:
        try:
            dumper = table[type(value)]
        except KeyError:
            raise TypeError(f"cannot serialize {type(value).__name__} as {what}") from None
        return dumper(value)

    return dump


def _dump_attrs(value: object) -> Any:
    dumper = _DUMPERS.get(type(value))
    return dumper(value) if dumper is not None else _converter.unstructure(value)


# Free-form values (tool arguments and returns, details) may hold message classes and other attrs
# instances; the JSON layer below writes them with this module's dumpers.
_json.install_attrs_dumper(_dump_attrs)


# --- multimodal content -----------------------------------------------------------------------------

_FILE_URL_TYPES: Final = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl)


def _with_computed_keys(cls: type, media_type: bool) -> None:
    """Wrap the dumper of a file class so that the computed keys follow ``kind``, as upstream writes them."""
    plain = _DUMPERS[cls]

    if media_type:

        def dump(value: Any) -> dict[str, Any]:
            result: dict[str, Any] = plain(value)
            try:
                result["media_type"] = value.media_type
            except ValueError:  # no extension to infer from: pydantic-ai writes null, not an error
                result["media_type"] = None
            result["identifier"] = value.identifier
            return result

    else:

        def dump(value: Any) -> dict[str, Any]:
            result: dict[str, Any] = plain(value)
            result["identifier"] = value.identifier
            return result

    _DUMPERS[cls] = dump


_cls: type
for _cls in _FILE_URL_TYPES:
    _register(_cls)
    _with_computed_keys(_cls, media_type=True)
_UPLOADED_FILE_PROVIDERS: Final = (
    "anthropic",
    "openai",
    "google",
    "google-cloud",
    "google-gla",
    "google-vertex",
    "bedrock",
    "xai",
)
_register(UploadedFile, load={"provider_name": _literal_loader(_UPLOADED_FILE_PROVIDERS)})
_with_computed_keys(UploadedFile, media_type=True)
for _cls in (BinaryContent, BinaryImage, BinaryAudio):
    _register(_cls, dump={"data": _dump_bytes})
    _with_computed_keys(_cls, media_type=False)
_register(TextContent)
_register(CachePoint)
_register(StructuredContent)


def _load_structured_content(value: Any, _: Any = None) -> StructuredContent:
    # Built through the constructor: an empty `content` is rendered from `value`, as upstream does.
    value = _load_dict(value)
    if value.get("kind", "structured-content") != "structured-content":
        raise ValueError(f"expected kind 'structured-content', got {value.get('kind')!r}")
    return StructuredContent(
        value.get("value"),
        content=_load_str(value.get("content", "")),
        tag=_load_optional_str(value.get("tag")),
        description=_load_optional_str(value.get("description")),
        metadata=value.get("metadata"),
    )


_LOADERS[StructuredContent] = _load_structured_content


def _load_binary(value: Any, _: Any = None) -> BinaryContent:
    """Binary content; an image becomes a :class:`BinaryImage` (pydantic-ai narrows it on load too)."""
    value = _load_dict(value)
    if value.get("kind", "binary") != "binary":
        raise ValueError(f"expected kind 'binary', got {value.get('kind')!r}")
    media_type = value.get("media_type")
    if isinstance(media_type, str) and media_type.startswith("image/"):
        return _LOADERS[BinaryImage](value)  # type: ignore[no-any-return]
    return _LOADERS[BinaryContent](value)  # type: ignore[no-any-return]


_USER_CONTENT_LOADERS: Final[dict[str, Callable[[Any], Any]]] = {
    "image-url": _LOADERS[ImageUrl],
    "audio-url": _LOADERS[AudioUrl],
    "document-url": _LOADERS[DocumentUrl],
    "video-url": _LOADERS[VideoUrl],
    "binary": _load_binary,
    "uploaded-file": _LOADERS[UploadedFile],
    "text-content": _LOADERS[TextContent],
    "structured-content": _load_structured_content,
    "cache-point": _LOADERS[CachePoint],
}
_USER_CONTENT_CLASSES: Final[dict[str, type]] = {
    "image-url": ImageUrl,
    "audio-url": AudioUrl,
    "document-url": DocumentUrl,
    "video-url": VideoUrl,
    "binary": BinaryContent,
    "uploaded-file": UploadedFile,
    "text-content": TextContent,
    "structured-content": StructuredContent,
    "cache-point": CachePoint,
}
_dump_user_item = _dispatch_dump(_DUMPERS, "user content")


def _load_user_item(item: Any) -> Any:
    if isinstance(item, str):
        return item
    loader = _USER_CONTENT_LOADERS.get(item["kind"])
    if loader is None:
        raise _Unknown(f"unknown user content kind {item['kind']!r}")
    return loader(item)


def _load_user_content(value: Any, _: Any = None) -> str | list[Any]:
    if isinstance(value, str):
        return value
    return [_load_user_item(item) for item in _load_list(value)]


def _dump_user_content(value: Any) -> Any:
    if isinstance(value, str):
        return value
    return [item if isinstance(item, str) else _dump_user_item(item) for item in value]


# --- tool-return content ----------------------------------------------------------------------------
#
# pydantic-ai 2.68 records, next to a tool return's content, the SHA-256 of each URL / uploaded-file
# item serialized inside it (of the item's JSON with sorted keys and compact separators), and on load
# rebuilds a dict claiming such a `kind` only if its digest was recorded. History written before
# records existed (no `content_file_digests` key) rebuilds only http(s) URLs, with force_download
# reset. Binary items are not recorded: a dict with kind 'binary' that validates is always rebuilt.

_FILE_DIGESTS_KEY: Final = "content_file_digests"
_URL_ITEM_KEYS: Final = frozenset(
    {"url", "force_download", "vendor_metadata", "kind", "media_type", "identifier"}
)
_RECORDED_ITEM_KEYS: Final[dict[str, frozenset[str]]] = {
    "image-url": _URL_ITEM_KEYS,
    "audio-url": _URL_ITEM_KEYS,
    "document-url": _URL_ITEM_KEYS,
    "video-url": _URL_ITEM_KEYS,
    "uploaded-file": frozenset(
        {"file_id", "provider_name", "vendor_metadata", "kind", "media_type", "identifier"}
    ),
}
_RECORDED_TYPES: Final = (*_FILE_URL_TYPES, UploadedFile)
_FILE_TYPES: Final = (*_RECORDED_TYPES, BinaryContent)


def _file_digest(item: Mapping[str, Any]) -> str | None:
    try:
        canonical = json.dumps(item, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        try:
            canonical = json.dumps(_to_python(item), sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None  # no JSON form: not recorded, as upstream
    return hashlib.sha256(canonical.encode()).hexdigest()


def _dump_tool_content(value: Any, digests: list[str]) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dict):
        return {k: _dump_tool_content(v, digests) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [_dump_tool_content(v, digests) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, _FILE_TYPES):
        dumped = _DUMPERS[type(value)](value)
        if isinstance(value, _RECORDED_TYPES) and (digest := _file_digest(dumped)) is not None:
            digests.append(digest)
        return dumped
    if isinstance(value, Mapping):
        return {k: _dump_tool_content(v, digests) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if _is_attrs_instance(value):
        return _dump_attrs(value)
    return value  # orjson (and its default hook) writes the rest


def _rebuild_file(value: dict[str, Any], kind: str, record: frozenset[str] | None) -> Any:
    """The file item a tool-return dict stands for, or None when it must stay a dict."""
    if kind == "binary":
        return _load_binary(value)
    if record is not None:
        if not (value.keys() <= _RECORDED_ITEM_KEYS[kind] and _file_digest(value) in record):
            return None
    else:
        url = value.get("url")
        if (
            kind == "uploaded-file"
            or not isinstance(url, str)
            or urlsplit(url).scheme.lower() not in ("http", "https")
        ):
            return None
        if value.get("force_download", False) is not False:
            value = {**value, "force_download": False}
    if kind == "uploaded-file":
        return _LOADERS[UploadedFile](value)
    media_type = value.get("media_type", "")  # a URL dump always has the key, non-empty or null
    if media_type is not None and not (isinstance(media_type, str) and media_type):
        return None
    return _USER_CONTENT_LOADERS[kind](value)


def _load_tool_content(value: Any, record: frozenset[str] | None) -> Any:
    if isinstance(value, dict):
        mapping = cast("dict[str, Any]", value)
        kind = mapping.get("kind")
        if (
            isinstance(kind, str)
            and kind in _USER_CONTENT_CLASSES
            and kind not in ("text-content", "structured-content", "cache-point")
        ):
            try:
                item = _rebuild_file(mapping, kind, record)
            except Exception:  # not a valid file item: it stays the tool's dict
                item = None
            if item is not None:
                return item
        return {k: _load_tool_content(v, record) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        return [_load_tool_content(v, record) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _tool_return_wrappers(cls: type) -> None:
    plain_load = _LOADERS[cls]
    plain_dump = _DUMPERS[cls]

    def load(value: Any, _: Any = None) -> Any:
        content = value.get("content")
        if content is None or isinstance(content, str | int | float):
            return plain_load(value)
        digests = value.get(_FILE_DIGESTS_KEY)
        record: frozenset[str] | None = None
        if isinstance(digests, list):
            if not all(isinstance(d, str) for d in digests):  # pyright: ignore[reportUnknownVariableType]
                raise TypeError(f"{_FILE_DIGESTS_KEY} must be a list of strings")
            record = frozenset(digests)  # pyright: ignore[reportUnknownArgumentType]
        return plain_load({**value, "content": _load_tool_content(content, record)})

    def dump(value: Any) -> dict[str, Any]:
        result: dict[str, Any] = plain_dump(value)
        content = value.content
        if content is None or isinstance(content, str | int | float):
            return result
        digests: list[str] = []
        result["content"] = _dump_tool_content(content, digests)
        result[_FILE_DIGESTS_KEY] = sorted(set(digests))
        return result

    _LOADERS[cls] = load
    _DUMPERS[cls] = dump


def _union_loader(tag_key: str, members: Mapping[str, type], what: str) -> Callable[[Any], Any]:
    """Tagged-union disambiguation: read the discriminator, run that member's loader."""
    loaders = {tag: _LOADERS[cls] for tag, cls in members.items()}

    def load(value: Any, _: Any = None) -> Any:
        loader = loaders.get(value[tag_key])
        if loader is None:
            raise _Unknown(f"unknown {what} {tag_key} {value[tag_key]!r}")
        return loader(value)

    return load


def _list_loader(item: Callable[[Any], Any]) -> _Hook:
    def load(value: Any, _: Any = None) -> list[Any]:
        return [item(v) for v in (value if value.__class__ is list else _load_list(value))]

    return load


def _list_dumper(table: Mapping[type, _Dumper], what: str) -> _Dumper:
    """Dump a list of union members, dispatching on each one's class."""

    def dump(values: Iterable[Any]) -> list[Any]:
        try:
            return [table[v.__class__](v) for v in values]
        except KeyError:
            for v in values:
                if v.__class__ not in table:
                    raise TypeError(f"cannot serialize {type(v).__name__} as {what}") from None
            raise

    return dump


# --- parts --------------------------------------------------------------------------------------------

_register(RetryInfo, load={"cause": _load_str})
_load_retry_info = _LOADERS[RetryInfo]
_register(SystemPromptPart)
_register(UserPromptPart, load={"content": _load_user_content}, dump={"content": _dump_user_content})
_register(
    ToolReturnPart,
    load={"retry": _optional(_load_retry_info)},
    dump={"retry": _optional(_DUMPERS[RetryInfo])},
)
_register(NativeToolReturnPart)
for _cls in (ToolReturnPart, NativeToolReturnPart):
    _tool_return_wrappers(_cls)
_register(RetryPromptPart, load={"content": _load_retry_content}, dump={"content": _dump_retry_content})
_register(
    RetryFeedbackPart,
    load={"content": _load_retry_content, "retry": _load_retry_info},
    dump={"content": _dump_retry_content, "retry": _DUMPERS[RetryInfo]},
)


# --- speech and citations -------------------------------------------------------------------------


def _load_str_list(value: Any, _: Any = None) -> list[str]:
    return [_load_str(item) for item in _load_list(value)]


def _optional_list_dumper(item: _Dumper) -> _Dumper:
    def dump(values: Iterable[Any] | None) -> list[Any] | None:
        return None if values is None else [item(v) for v in values]

    return dump


_register(SpeechTimestamp)
_register(
    SpeechPart,
    load={
        "audio": _optional(_load_binary),
        "timestamps": _optional(_list_loader(_LOADERS[SpeechTimestamp])),
    },
    dump={
        "audio": _optional(_dispatch_dump(_DUMPERS, "speech audio")),
        "timestamps": _optional_list_dumper(_DUMPERS[SpeechTimestamp]),
    },
)
for _cls in (WebCitationSource, DocumentCitationSource):
    _register(_cls, load={"excerpts": _load_str_list})
for _cls in (ContentCitationAnchor, MarkerCitationAnchor):
    _register(_cls)
_CITATION_SOURCES: Final[dict[str, type]] = {"web": WebCitationSource, "document": DocumentCitationSource}
_CITATION_ANCHORS: Final[dict[str, type]] = {"content": ContentCitationAnchor, "marker": MarkerCitationAnchor}
_register(
    Citation,
    load={
        "sources": _list_loader(_union_loader("kind", _CITATION_SOURCES, "citation source")),
        "anchor": _optional(_union_loader("kind", _CITATION_ANCHORS, "citation anchor")),
    },
    dump={
        "sources": _list_dumper({c: _DUMPERS[c] for c in _CITATION_SOURCES.values()}, "a citation source"),
        "anchor": _optional(
            _dispatch_dump({c: _DUMPERS[c] for c in _CITATION_ANCHORS.values()}, "an anchor")
        ),
    },
)
_register(
    TextPart,
    load={"citations": _optional(_list_loader(_LOADERS[Citation]))},
    dump={"citations": _optional_list_dumper(_DUMPERS[Citation])},
)
_register(ThinkingPart)
for _cls in (ToolCallPart, NativeToolCallPart):
    _register(_cls, load={"args": _load_args})
# A file part's content dumper dispatches on the class: the content may be a narrowed BinaryImage.
_register(
    FilePart, load={"content": _load_binary}, dump={"content": _dispatch_dump(_DUMPERS, "file content")}
)
_register(CompactionPart)

_REQUEST_PARTS: Final[dict[str, type]] = {
    "system-prompt": SystemPromptPart,
    "user-prompt": UserPromptPart,
    "speech": SpeechPart,
    "tool-return": ToolReturnPart,
    "retry-prompt": RetryPromptPart,
    "retry-feedback": RetryFeedbackPart,
    "compaction": CompactionPart,
}
_RESPONSE_PARTS: Final[dict[str, type]] = {
    "text": TextPart,
    "thinking": ThinkingPart,
    "tool-call": ToolCallPart,
    "builtin-tool-call": NativeToolCallPart,
    "builtin-tool-return": NativeToolReturnPart,
    "file": FilePart,
    "compaction": CompactionPart,
    "speech": SpeechPart,
}


_load_request_part = _union_loader("part_kind", _REQUEST_PARTS, "request part")
_load_response_part = _union_loader("part_kind", _RESPONSE_PARTS, "response part")
_REQUEST_PART_DUMPERS: Final = {cls: _DUMPERS[cls] for cls in _REQUEST_PARTS.values()}
_RESPONSE_PART_DUMPERS: Final = {cls: _DUMPERS[cls] for cls in _RESPONSE_PARTS.values()}
_dump_response_part = _dispatch_dump(_RESPONSE_PART_DUMPERS, "a response part")

# --- usage and messages -------------------------------------------------------------------------------

# pydantic-ai 2.68 keeps unknown usage keys as attributes and writes them back after `cost`; here they
# live in `RequestUsage.extra`. `unmeasured_requests` is written only when non-zero.
_register(RequestUsage, dump={"audio_seconds": _dump_float, "cost": _dump_decimal}, skip=("extra",))
_USAGE_ALIASES: Final = {"request_tokens": "input_tokens", "response_tokens": "output_tokens"}
_USAGE_RESERVED: Final = frozenset(
    {
        *(f.name for f in attrs.fields(RequestUsage)),
        *dir(RequestUsage),
        "requests",
        "total_tokens",
        *_USAGE_ALIASES,
    }
)
_RESPONSE_ALIASES: Final = {"vendor_details": "provider_details", "vendor_id": "provider_response_id"}


def _renamed(value: Mapping[str, Any], aliases: Mapping[str, str]) -> dict[str, Any]:
    """``value`` with legacy keys renamed, unless the current key is there too (it wins)."""
    result = dict(value)
    for old, new in aliases.items():
        if old in result:
            legacy = result.pop(old)
            result.setdefault(new, legacy)
    return result


_plain_load_usage = _LOADERS[RequestUsage]
_plain_dump_usage = _DUMPERS[RequestUsage]


def _load_usage(value: Any, _: Any = None) -> RequestUsage:
    value = _load_dict(value)
    if "request_tokens" in value or "response_tokens" in value:
        # Older pydantic-ai stored `null` counts under the legacy names.
        value = {k: 0 if v is None and k in _USAGE_ALIASES else v for k, v in value.items()}
        value = _renamed(value, _USAGE_ALIASES)
    usage: RequestUsage = _plain_load_usage(value)
    if not value.keys() <= _USAGE_RESERVED:
        usage.extra = {k: v for k, v in value.items() if k not in _USAGE_RESERVED}
    return usage


def _dump_usage(usage: RequestUsage) -> dict[str, Any]:
    result: dict[str, Any] = _plain_dump_usage(usage)
    if not usage.unmeasured_requests:
        del result["unmeasured_requests"]
    if usage.extra:
        result.update(usage.extra)
    return result


_LOADERS[RequestUsage] = _load_usage
_DUMPERS[RequestUsage] = _dump_usage

_register(
    ModelRequest,
    load={"parts": _list_loader(_load_request_part)},
    dump={"parts": _list_dumper(_REQUEST_PART_DUMPERS, "a request part")},
)
_DURATION = re.compile(
    r"([-+])?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?",
    re.ASCII,
)


def _dump_timedelta(value: timedelta) -> str:
    """A duration as pydantic writes it: ISO 8601 with years of 365 days, seconds with only the
    fraction it needs (``PT1.5S``, ``P1DT1H``, ``-PT1S``, ``PT0S``)."""
    sign = "-" if value < timedelta(0) else ""
    value = abs(value)
    years, days = divmod(value.days, 365)
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    date_part = (f"{years}Y" if years else "") + (f"{days}D" if days else "")
    second_text = (
        f"{seconds}.{value.microseconds:06d}".rstrip("0").rstrip(".") if value.microseconds else str(seconds)
    )
    time_part = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{second_text}S" if seconds or value.microseconds else "")
    )
    if not date_part and not time_part:
        return "PT0S"
    return f"{sign}P{date_part}" + (f"T{time_part}" if time_part else "")


def _load_timedelta(value: Any, _: Any = None) -> timedelta:
    """An ISO 8601 duration (``PT1.5S``, ``P1DT2H``; a year is 365 days, a month 30) or seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.fullmatch(value)
        if match is not None and value not in ("P", "-P", "+P") and not value.endswith("T"):
            sign, years, months, weeks, days, hours, minutes, seconds = match.groups()
            total = timedelta(
                days=int(years or 0) * 365 + int(months or 0) * 30 + int(weeks or 0) * 7 + int(days or 0),
                hours=int(hours or 0),
                minutes=int(minutes or 0),
                seconds=float(seconds or 0),
            )
            return -total if sign == "-" else total
        try:
            return timedelta(seconds=float(value))
        except ValueError:
            raise ValueError(f"not a duration: {value!r}") from None
    raise TypeError(f"expected an ISO 8601 duration or seconds, got {_describe(value)}")


_register(
    ModelRequestAttempt,
    load={"duration": _load_timedelta, "usage": _optional(_load_usage)},
    dump={"duration": _dump_timedelta, "usage": _optional(_DUMPERS[RequestUsage])},
)
_register(
    ModelResponse,
    load={
        "parts": _list_loader(_load_response_part),
        "usage": _load_usage,
        "failed_attempts": _optional(_list_loader(_LOADERS[ModelRequestAttempt])),
    },
    dump={
        "parts": _list_dumper(_RESPONSE_PART_DUMPERS, "a response part"),
        "usage": _DUMPERS[RequestUsage],
        "failed_attempts": _optional_list_dumper(_DUMPERS[ModelRequestAttempt]),
    },
)
_plain_load_response = _LOADERS[ModelResponse]


def _load_response(value: Any, _: Any = None) -> ModelResponse:
    if "vendor_details" in value or "vendor_id" in value:
        value = _renamed(value, _RESPONSE_ALIASES)
    return _plain_load_response(value)  # type: ignore[no-any-return]


_LOADERS[ModelResponse] = _load_response
_MESSAGES: Final[dict[str, type]] = {"request": ModelRequest, "response": ModelResponse}
_load_message = _union_loader("kind", _MESSAGES, "message")
_dump_messages = _list_dumper({cls: _DUMPERS[cls] for cls in _MESSAGES.values()}, "a message")

# --- stream events ------------------------------------------------------------------------------------

_register(TextPartDelta)
_register(
    ThinkingPartDelta,
    load={"provider_details": _load_thinking_details},
    dump={"provider_details": _dump_thinking_details},
)
_register(ToolCallPartDelta, load={"args_delta": _load_args})
_register(
    SpeechPartDelta,
    load={
        "audio_chunk": _optional(_load_bytes),
        "timestamps": _optional(_list_loader(_LOADERS[SpeechTimestamp])),
    },
    dump={
        "audio_chunk": _optional(_dump_bytes),
        "timestamps": _optional_list_dumper(_DUMPERS[SpeechTimestamp]),
    },
)
_DELTAS: Final[dict[str, type]] = {
    "text": TextPartDelta,
    "thinking": ThinkingPartDelta,
    "tool_call": ToolCallPartDelta,
    "speech": SpeechPartDelta,
}
_load_delta = _union_loader("part_delta_kind", _DELTAS, "delta")
_dump_delta = _dispatch_dump({cls: _DUMPERS[cls] for cls in _DELTAS.values()}, "a delta")

_register(PartStartEvent, load={"part": _load_response_part}, dump={"part": _dump_response_part})
_register(PartDeltaEvent, load={"delta": _load_delta}, dump={"delta": _dump_delta})
_register(PartEndEvent, load={"part": _load_response_part}, dump={"part": _dump_response_part})
_register(FinalResultEvent)
_EVENTS: Final[dict[str, type]] = {
    "part_start": PartStartEvent,
    "part_delta": PartDeltaEvent,
    "part_end": PartEndEvent,
    "final_result": FinalResultEvent,
}
_load_event = _union_loader("event_kind", _EVENTS, "event")
_dump_event = _dispatch_dump({cls: _DUMPERS[cls] for cls in _EVENTS.values()}, "a stream event")

# The finished functions (wrappers included) are the converter's hooks, so `_converter.structure(d,
# TextPart)` and `_converter.unstructure(part)` agree with the module's API.
for _cls in _LOADERS:
    _converter.register_structure_hook(_cls, _LOADERS[_cls])
for _cls in _DUMPERS:
    _converter.register_unstructure_hook(_cls, _DUMPERS[_cls])
del _cls


# ---------------------------------------------------------------------------------------------------
# Error diagnosis: only runs after a load failed, to name the offending item
# ---------------------------------------------------------------------------------------------------

_UNIONS: Final[dict[_Hook, tuple[str, Mapping[str, type]]]] = {
    _load_message: ("kind", _MESSAGES),
    _load_request_part: ("part_kind", _REQUEST_PARTS),
    _load_response_part: ("part_kind", _RESPONSE_PARTS),
    _load_delta: ("part_delta_kind", _DELTAS),
    _load_event: ("event_kind", _EVENTS),
}
_NESTED_LISTS: Final[dict[tuple[type, str], _Hook]] = {
    (ModelRequest, "parts"): _load_request_part,
    (ModelResponse, "parts"): _load_response_part,
}
_NESTED: Final[dict[tuple[type, str], type]] = {
    (ModelResponse, "usage"): RequestUsage,
    (FilePart, "content"): BinaryContent,
}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"missing key {exc.args[0]!r}"
    text = str(exc)
    return text if text else type(exc).__name__


def _locate_union(value: Any, load: _Hook, path: str) -> tuple[str, str]:
    tag_key, members = _UNIONS[load]
    if not isinstance(value, dict):
        return path, f"expected an object, got {_describe(value)}"
    if tag_key not in value:
        return path, f"missing discriminator {tag_key!r}"
    tag = cast("dict[str, Any]", value)[tag_key]
    cls = members.get(tag) if isinstance(tag, str) else None
    if cls is None:
        return (
            f"{path}.{tag_key}",
            f"unknown {tag_key} {value[tag_key]!r}; trio_direct reads {sorted(members)}",
        )
    return _locate_class(value, cls, path)


def _locate_user_content(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, str):
        return None
    if not isinstance(value, list | tuple):
        return path, f"expected a string or an array, got {_describe(value)}"
    for i, item in enumerate(cast("list[Any]", value)):
        if isinstance(item, str):
            continue
        here = f"{path}[{i}]"
        if not isinstance(item, dict):
            return here, f"expected a string or an object, got {_describe(item)}"
        kind = cast("dict[str, Any]", item).get("kind")
        if not isinstance(kind, str) or (cls := _USER_CONTENT_CLASSES.get(kind)) is None:
            known = sorted(_USER_CONTENT_CLASSES)
            return f"{here}.kind", f"unknown user content kind {kind!r}; trio_direct reads {known}"
        try:
            _USER_CONTENT_LOADERS[kind](item)
        except Exception:
            return _locate_class(item, cls, here)
    return None


def _locate_class(data: Any, cls: type, path: str) -> tuple[str, str]:
    if not isinstance(data, dict):
        return path, f"expected an object, got {_describe(data)}"
    value = cast("dict[str, Any]", data)
    for field in attrs.fields(cls):
        key = field.alias or field.name
        if field.init and field.default is attrs.NOTHING and key not in value:
            return path, f"missing required key {key!r}"
    for key, hook in _FIELD_LOADERS[cls].items():
        if key not in value:
            continue
        here = f"{path}.{key}"
        if (cls, key) in _NESTED_LISTS:
            if not isinstance(value[key], list | tuple):
                return here, f"expected an array, got {_describe(value[key])}"
            for i, item in enumerate(cast("list[Any]", value[key])):
                try:
                    _NESTED_LISTS[cls, key](item)
                except Exception:
                    return _locate_union(item, _NESTED_LISTS[cls, key], f"{here}[{i}]")
            continue
        if cls is UserPromptPart and key == "content":
            if (found := _locate_user_content(value[key], here)) is not None:
                return found
            continue
        try:
            hook(value[key])
        except Exception as exc:
            if hook in _UNIONS:
                return _locate_union(value[key], hook, here)
            if (nested := _NESTED.get((cls, key))) is not None and isinstance(value[key], dict):
                return _locate_class(value[key], nested, here)
            return here, _reason(exc)
    return path, ""


def _format_error(
    data: Any, exc: Exception, root: str, locate: Callable[[Any], tuple[str, str]]
) -> MessageFormatError:
    try:
        path, reason = locate(data)
    except Exception:  # the diagnosis must never hide the real error
        path, reason = root, ""
    what = "message history" if root == "messages" else "stream event"
    return MessageFormatError(f"invalid {what} at {path}: {reason or _reason(exc)}")


def _locate_messages(data: Any) -> tuple[str, str]:
    if not isinstance(data, list | tuple):
        return "messages", f"expected an array of messages, got {_describe(data)}"
    for i, item in enumerate(cast("list[Any]", data)):
        try:
            _load_message(item)
        except Exception:
            return _locate_union(item, _load_message, f"messages[{i}]")
    return "messages", ""


def _parse_json(data: str | bytes | bytearray | memoryview) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        try:  # the stdlib parser reads what orjson refuses (numbers beyond double range)
            return json.loads(bytes(data) if isinstance(data, memoryview) else data)
        except (ValueError, TypeError):
            raise MessageFormatError(f"not valid JSON: {exc}") from None


# ---------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------


def messages_to_python(messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
    """The messages as JSON-mode Python: exactly what ``json.loads(messages_to_json(messages))`` gives.

    Raises:
        TypeError: an object in the history is not part of the message model.
    """
    return _to_python(_dump_messages(messages))  # type: ignore[no-any-return]


def messages_to_json(messages: Sequence[ModelMessage]) -> bytes:
    """The messages as pydantic-ai 2.68's JSON (compact, UTF-8).

    Raises:
        TypeError: an object in the history is not part of the message model.
    """
    return _to_json(_dump_messages(messages))


def messages_from_python(data: Any) -> list[ModelMessage]:
    """Load messages from JSON-mode Python (a list of dicts, as ``json.loads`` returns).

    Also accepts Python-mode values where JSON has text: ``datetime`` for timestamps, ``bytes`` for
    binary data. Nested free-form objects (provider details, tool arguments, metadata) are used as
    they are, not copied.

    Raises:
        MessageFormatError: ``data`` is not a valid history; the message names the offending item.
    """
    try:
        return [_load_message(item) for item in _load_list(data)]
    except Exception as exc:
        raise _format_error(data, exc, "messages", _locate_messages) from exc


def messages_from_json(data: str | bytes | bytearray | memoryview) -> list[ModelMessage]:
    """Load messages from pydantic-ai's JSON (any version's: missing keys take their defaults).

    Raises:
        MessageFormatError: ``data`` is not valid JSON or not a valid history.
    """
    return messages_from_python(_parse_json(data))


def response_to_python(response: ModelResponse) -> dict[str, Any]:
    """One response as JSON-mode Python (what pydantic-ai's ``TypeAdapter(ModelResponse)`` dumps)."""
    return _to_python(_DUMPERS[ModelResponse](response))  # type: ignore[no-any-return]


def event_to_python(event: ModelResponseStreamEvent) -> dict[str, Any]:
    """One stream event as JSON-mode Python (what pydantic-ai's ``ModelResponseStreamEvent`` adapter dumps).

    Raises:
        TypeError: ``event`` is not a stream event.
    """
    return _to_python(_dump_event(event))  # type: ignore[no-any-return]


def event_to_json(event: ModelResponseStreamEvent) -> bytes:
    """One stream event as compact JSON.

    Raises:
        TypeError: ``event`` is not a stream event.
    """
    return _to_json(_dump_event(event))


def event_from_python(data: Any) -> ModelResponseStreamEvent:
    """Load one stream event from JSON-mode Python.

    Raises:
        MessageFormatError: ``data`` is not a valid stream event.
    """
    try:
        return _load_event(data)  # type: ignore[no-any-return]
    except Exception as exc:
        raise _format_error(data, exc, "event", lambda d: _locate_union(d, _load_event, "event")) from exc


def event_from_json(data: str | bytes | bytearray | memoryview) -> ModelResponseStreamEvent:
    """Load one stream event from JSON.

    Raises:
        MessageFormatError: ``data`` is not valid JSON or not a valid stream event.
    """
    return event_from_python(_parse_json(data))


def citation_from_python(data: Any) -> Citation:
    """One :class:`~trio_direct.messages.Citation` from its JSON-mode form (what provider modules
    build from a provider's grounding data).

    Raises:
        MessageFormatError: ``data`` is not a valid citation.
    """
    try:
        citation: Citation = _LOADERS[Citation](_load_dict(data))
    except Exception as exc:
        raise MessageFormatError(f"invalid citation: {_reason(exc)}") from exc
    return citation


def _python_mode_messages(messages: Sequence[ModelMessage]) -> list[Any]:
    """A history as Python-mode values (``ModelMessagesTypeAdapter.dump_python(mode='python')``)."""
    return _python_mode(_dump_messages(messages))  # type: ignore[no-any-return]


def _python_mode(value: Any) -> Any:
    """Dumped values with their nested attrs objects and mappings turned into plain dicts and lists
    (datetimes stay datetimes)."""
    if isinstance(value, dict):
        mapping: dict[Any, Any] = value  # pyright: ignore[reportUnknownVariableType]
        return {k: _python_mode(v) for k, v in mapping.items()}
    if isinstance(value, list | tuple):
        return [_python_mode(v) for v in cast("list[Any]", value)]
    if isinstance(value, bytes | Decimal) or _is_attrs_instance(value):
        return _python_mode(_json.orjson_default(value))
    return value


# The message model borrows these (ModelMessagesTypeAdapter, citations given as JSON) without importing
# this module: see trio_direct.messages.install_codec.
_messages_module.install_codec(
    messages_from_json=messages_from_json,
    messages_from_python=messages_from_python,
    messages_to_json=messages_to_json,
    messages_to_python=messages_to_python,
    messages_to_python_mode=_python_mode_messages,
    citation_from_python=citation_from_python,
)
ModelMessagesTypeAdapter = _messages_module.ModelMessagesTypeAdapter
