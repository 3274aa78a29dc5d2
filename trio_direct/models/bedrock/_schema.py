"""Tool JSON schemas as 2.68's Bedrock transformers send them, per model family. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

import orjson

from .._json import JSON, json_array, json_list
from ._profile import SchemaTransform

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
