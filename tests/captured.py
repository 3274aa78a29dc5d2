"""Reading the pydantic-ai 2.68 captures under ``tests/data/`` (made by ``tests/data/make_*_fixtures.py``).

Shared by the provider tests that compare request bodies and replies with what pydantic-ai produced:
the captured settings and parameters back into trio_direct values, and a readable first difference.
"""

from __future__ import annotations

import json
import types
from typing import Any

from trio_direct.messages import ModelMessage
from trio_direct.models._instructions import with_instructions
from trio_direct.settings import ModelSettings, ToolOrOutput
from trio_direct.tools import ModelRequestParameters, OutputObjectDefinition, ToolDefinition


def settings_from_capture(raw: dict[str, Any] | None) -> ModelSettings:
    """The captured settings; ``{"__tool_or_output__": [...]}`` stands for a :class:`ToolOrOutput`."""
    out: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        if isinstance(value, dict) and "__tool_or_output__" in value:
            value = ToolOrOutput(value["__tool_or_output__"])
        out[key] = value
    return ModelSettings(**out)  # type: ignore[typeddict-item]


def params_from_capture(spec: dict[str, Any] | None, messages: list[ModelMessage]) -> ModelRequestParameters:
    """The captured parameters, with the instructions the direct API would bridge from ``messages``.

    Native tools are captured as plain dicts and given back as attribute bags (``kind`` and friends).
    """
    params = ModelRequestParameters()
    if spec:
        output_object = spec["output_object"]
        params = ModelRequestParameters(
            function_tools=[ToolDefinition(**t) for t in spec["function_tools"]],
            output_tools=[ToolDefinition(**t) for t in spec["output_tools"]],
            allow_text_output=spec["allow_text_output"],
            allow_image_output=spec.get("allow_image_output", False),
            output_mode=spec["output_mode"],
            output_object=OutputObjectDefinition(**output_object) if output_object else None,
            native_tools=[types.SimpleNamespace(**t) for t in spec.get("native_tools", [])],
        )
    return with_instructions(messages, params)


def first_difference(got: Any, expected: Any, path: str = "") -> str | None:
    """Where two JSON values first differ (a readable assertion message), or None when equal."""
    if isinstance(got, dict) and isinstance(expected, dict):
        for key in sorted(set(got) | set(expected)):
            if key not in got:
                return f"{path}.{key}: missing, expected {json.dumps(expected[key])[:200]}"
            if key not in expected:
                return f"{path}.{key}: unexpected {json.dumps(got[key])[:200]}"
            if (found := first_difference(got[key], expected[key], f"{path}.{key}")) is not None:
                return found
        return None
    if isinstance(got, list) and isinstance(expected, list):
        if len(got) != len(expected):
            return f"{path}: {len(got)} items, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            if (found := first_difference(g, e, f"{path}[{i}]")) is not None:
                return found
        return None
    return None if got == expected else f"{path}: got {got!r:.200}, expected {expected!r:.200}"
