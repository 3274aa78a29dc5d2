"""Reading provider JSON: typed accessors with one name and one meaning each, and the "a 200 body we
cannot read" error. Pure; no I/O.

Every provider module reads server JSON through these, so a body of the wrong shape fails the same
way everywhere: a reader either returns a neutral value (``json_list``, ``json_dict``, ``count``...) or
raises one of :data:`SHAPE_ERRORS`, which :func:`parse_json_body` (and each stream mapper) turns into
:class:`UnexpectedModelBehavior` quoting the body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeAlias, TypeVar

import orjson

from ..exceptions import UnexpectedModelBehavior

__all__ = [
    "JSON",
    "SHAPE_ERRORS",
    "count",
    "int_or_none",
    "invalid_response",
    "json_array",
    "json_dict",
    "json_list",
    "json_object",
    "json_str",
    "parse_json_body",
]

JSON: TypeAlias = dict[str, Any]
_T = TypeVar("_T")

#: What reading a JSON body of the wrong shape raises: ``data["x"]`` on a list, ``int(None)``, a
#: missing index, a method of the wrong type... ``RecursionError`` belongs here too: orjson accepts
#: nesting up to 1,024 levels, deeper than Python's default recursion limit, so a recursive walk over a
#: valid but hostile body (Gemini's key conversion, schema readers) can exhaust the stack, and that is
#: a fact about the body, not a bug of ours.
SHAPE_ERRORS: Final[tuple[type[Exception], ...]] = (
    KeyError,
    TypeError,
    ValueError,
    IndexError,
    AttributeError,
    RecursionError,
)


def json_list(value: object) -> list[Any]:
    """``value`` if it is a JSON array, else ``[]`` (typed for the checkers)."""
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return items
    return []


def json_array(value: object) -> list[Any] | None:
    """``value`` if it is a JSON array, else None (typed for the checkers)."""
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        return items
    return None


def json_dict(value: object) -> JSON | None:
    """``value`` if it is a JSON object, else None (typed for the checkers)."""
    if isinstance(value, dict):
        mapping: JSON = value  # pyright: ignore[reportUnknownVariableType]
        return mapping
    return None


def json_object(value: object) -> JSON:
    """``value``, which must be a JSON object.

    Raises:
        TypeError: it is not (one of :data:`SHAPE_ERRORS`).
    """
    if isinstance(value, dict):
        mapping: JSON = value  # pyright: ignore[reportUnknownVariableType]
        return mapping
    raise TypeError(f"expected an object, got {type(value).__name__}")


def json_str(value: object, what: str) -> str:
    """``value``, which must be a JSON string (``what`` names it in the error).

    Raises:
        TypeError: it is not (one of :data:`SHAPE_ERRORS`).
    """
    if type(value) is not str:
        raise TypeError(f"expected a string for the {what}, got {type(value).__name__}")
    return value


def count(value: object) -> int:
    """A token count: ``value`` when it is an int (not a bool), else 0."""
    return value if type(value) is int else 0


def int_or_none(value: object) -> int | None:
    """``value`` when it is an int (not a bool), else None (an absent count stays absent)."""
    return value if type(value) is int else None


def invalid_response(endpoint: str, what: str, body: bytes | str) -> UnexpectedModelBehavior:
    """``Invalid response from <endpoint><what>``, quoting the body (cut at 4,000 characters)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if len(text) > 4000:
        text = text[:4000] + "...(truncated)"
    return UnexpectedModelBehavior(f"Invalid response from {endpoint}{what}", text)


def parse_json_body(
    body: bytes,
    endpoint: str,
    parse: Callable[[Any], _T],
    errors: tuple[type[Exception], ...] = SHAPE_ERRORS,
) -> _T:
    """``parse`` applied to the JSON in ``body``.

    Raises:
        UnexpectedModelBehavior: ``body`` is not JSON, or ``parse`` raised one of ``errors`` (its shape
            is wrong); the message names ``endpoint`` and quotes the body.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid_response(endpoint, ", expected JSON data", body) from None
    try:
        return parse(data)
    except errors as exc:
        raise invalid_response(endpoint, f": {type(exc).__name__}: {exc}", body) from None
