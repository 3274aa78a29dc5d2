"""Reading what a server sends without letting it make us raise anything but our own errors.

* Nesting: orjson parses JSON nested up to 1024 levels but serializes only 254, and ``repr`` and the
  standard ``json`` module recurse in Python. A reply nested deeper than :data:`MAX_NESTING` is
  refused as :class:`UnexpectedModelBehavior` (:func:`check_nesting`), and a response's parts are
  checked to serialize before the response is handed out (:func:`check_parts_serialize`): whatever the
  library accepts, ``messages_to_json`` can write.

Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final, cast

import orjson

from .exceptions import UnexpectedModelBehavior
from .messages import ModelResponsePart

__all__ = ["MAX_NESTING", "check_nesting", "check_parts_serialize", "nesting_ok"]

#: The deepest JSON nesting accepted from a server. orjson writes at most 254 levels, and a stored
#: message wraps a reply's values in a few levels of its own; real replies nest a dozen levels or so.
MAX_NESTING: Final = 200

#: Wrapping a value in this many lists makes orjson refuse it exactly when it nests deeper than
#: MAX_NESTING (orjson's own limit is 254 levels).
_WRAP: Final = 254 - MAX_NESTING


def _wrapped(value: object) -> object:
    for _ in range(_WRAP):
        value = [value]
    return value


def _fits(value: object) -> bool:
    try:
        orjson.dumps(_wrapped(value), default=_opaque)
    except orjson.JSONEncodeError as exc:
        return "Recursion" not in str(exc)  # other refusals (a non-str key) are not about nesting
    return True


def _opaque(value: object) -> object:
    # Objects orjson does not know (datetimes it does; bytes, attrs values) count as leaves here:
    # only nesting is being measured.
    return None


def nesting_ok(data: str | bytes) -> bool:
    """Whether the JSON text ``data`` nests at most :data:`MAX_NESTING` levels (not valid JSON: True).

    Cheap for ordinary text: fewer brackets than the limit cannot nest deeper, so only text with
    many brackets is parsed to measure it.
    """
    if isinstance(data, str):
        if data.count("{") + data.count("[") <= MAX_NESTING:
            return True
    elif data.count(b"{") + data.count(b"[") <= MAX_NESTING:
        return True
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return "depth" not in str(exc)  # orjson's own limit (1024) is too deep as well
    return _fits(parsed)


def check_nesting(data: str | bytes, what: str) -> None:
    """Raise unless ``data`` nests at most :data:`MAX_NESTING` levels.

    Raises:
        UnexpectedModelBehavior: quoting the start of ``data``.
    """
    if not nesting_ok(data):
        text = data if isinstance(data, str) else data.decode("utf-8", "replace")
        raise UnexpectedModelBehavior(
            f"{what} is JSON nested deeper than {MAX_NESTING} levels, which no real reply is; refused",
            text[:200] + ("...(truncated)" if len(text) > 200 else ""),
        )


#: The fields of a response part that hold whatever JSON the server sent.
_FREE_FIELDS: Final = ("args", "content", "provider_details", "metadata")


def check_parts_serialize(parts: Iterable[ModelResponsePart]) -> None:
    """Raise unless every free-form value of ``parts`` (tool arguments, native tool content,
    provider details) nests at most :data:`MAX_NESTING` levels, so that the response serializes.

    Raises:
        UnexpectedModelBehavior: naming the part.
    """
    for part in parts:
        for name in _FREE_FIELDS:
            value: Any = getattr(part, name, None)
            if isinstance(value, dict | list) and not _fits(cast(object, value)):
                raise UnexpectedModelBehavior(
                    f"the provider sent a {type(part).__name__} whose {name} is nested deeper than "
                    f"{MAX_NESTING} levels; refused (it could not be stored or sent back)"
                )
