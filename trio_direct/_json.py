"""Compact JSON as pydantic writes it: the layer below the message model and its wire format.

The message model (:mod:`trio_direct.messages`) needs JSON for tool-return values and
:mod:`trio_direct.serialization` needs it for whole histories; both use these functions, and neither
imports the other. How an attrs instance inside a free-form value is written (a file's JSON form, say)
belongs to the wire format, so :mod:`trio_direct.serialization` installs that function here when it
is imported, which the first attrs value to write does if nothing imported it before.
"""

from __future__ import annotations

import base64
import importlib
import json
import math
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import PurePath
from typing import Any, Final, cast

import attrs
import orjson

__all__ = [
    "JSON_OPTIONS",
    "dump_bytes",
    "install_attrs_dumper",
    "jsonable",
    "orjson_default",
    "to_json",
    "to_python",
]

JSON_OPTIONS: Final = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS
# orjson writes datetimes exactly as pydantic does once UTC is spelled `Z`: microseconds only when
# non-zero, other offsets as `+HH:MM` (seconds dropped), naive values without a suffix. So timestamps
# are handed to orjson as they are and never formatted in Python on the hot path.

_attrs_dumper: Callable[[object], Any] | None = None


def install_attrs_dumper(dump: Callable[[object], Any]) -> None:
    """Set how attrs instances inside free-form values are written (called by the serialization module)."""
    global _attrs_dumper
    _attrs_dumper = dump


def dump_bytes(value: bytes) -> str:
    """Bytes as pydantic writes them in JSON: URL-safe base64."""
    return base64.urlsafe_b64encode(value).decode("ascii")


def orjson_default(value: object) -> Any:
    """What orjson cannot write by itself, the way pydantic writes it inside free-form (``Any``) fields.

    Raises:
        TypeError: the value has no JSON form.
    """
    if isinstance(value, bytes | bytearray):
        return dump_bytes(bytes(value))
    if isinstance(value, memoryview):
        return dump_bytes(value.tobytes())
    if isinstance(value, Decimal):
        return str(value)
    if attrs.has(type(value)):
        dumper = _attrs_dumper
        if dumper is None:
            # The wire format is loaded on first need, not with the package (its converters cost
            # tens of milliseconds of import); importing it installs the dumper.
            importlib.import_module("trio_direct.serialization")
            dumper = _attrs_dumper
            if dumper is None:  # pragma: no cover - serialization always installs it
                raise TypeError(f"{type(value).__name__} cannot be written: no attrs dumper installed")
        return dumper(value)
    if isinstance(value, set | frozenset):
        return list(cast("set[Any]", value))
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _format_datetime(value: datetime) -> str:
    """The text orjson (and pydantic) write for a datetime; only used by the big-integer fallback."""
    text = value.replace(tzinfo=None).isoformat()
    offset = value.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60 if offset.days >= 0 else -(int(-offset.total_seconds()) // 60)
    if minutes == 0:
        return f"{text}Z"
    sign = "+" if minutes > 0 else "-"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def jsonable(value: Any) -> Any:
    """JSON-mode Python built without orjson (for integers beyond 64 bits, which orjson refuses)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {
            k if isinstance(k, str) else str(jsonable(k)): jsonable(v)
            for k, v in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, datetime):
        return _format_datetime(value)
    if isinstance(value, date | time):
        return value.isoformat()
    return jsonable(orjson_default(value))


def to_json(value: Any) -> bytes:
    """Compact JSON of ``value`` as pydantic writes it.

    Raises:
        TypeError: part of the value has no JSON form.
    """
    try:
        return orjson.dumps(value, default=orjson_default, option=JSON_OPTIONS)
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    return json.dumps(jsonable(value), ensure_ascii=False, separators=(",", ":")).encode()


def to_python(value: Any) -> Any:
    """``value`` as JSON-mode Python: what ``json.loads(to_json(value))`` gives.

    Raises:
        TypeError: part of the value has no JSON form.
    """
    try:
        return orjson.loads(orjson.dumps(value, default=orjson_default, option=JSON_OPTIONS))
    except orjson.JSONEncodeError as exc:
        if "64-bit" not in str(exc):
            raise
    return jsonable(value)
