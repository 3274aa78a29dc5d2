"""Tool definitions and the per-request parameters that carry them."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import attrs

__all__ = [
    "InstructionPart",
    "ModelRequestParameters",
    "OutputMode",
    "OutputObjectDefinition",
    "ToolDefinition",
    "ToolKind",
]

ToolKind: TypeAlias = Literal["function", "output", "external", "unapproved"]
OutputMode: TypeAlias = Literal["text", "tool", "native", "prompted", "image", "auto", "tool_or_text"]


def _empty_object_schema() -> dict[str, Any]:
    return {"type": "object", "properties": {}}


@attrs.frozen(slots=True, kw_only=True)
class ToolDefinition:
    """A tool the model may call: its name, JSON schema and description.

    ``kind='output'`` marks a tool whose call *is* the final result; ``strict`` asks providers that
    support it for strict schema adherence (None lets the provider module decide).
    """

    name: str
    parameters_json_schema: dict[str, Any] = attrs.field(factory=_empty_object_schema)
    description: str | None = None
    outer_typed_dict_key: str | None = None
    strict: bool | None = None
    sequential: bool = False
    kind: ToolKind = "function"
    metadata: dict[str, Any] | None = None
    timeout: float | None = None
    defer_loading: bool = False
    tool_kind: str | None = None
    return_schema: dict[str, Any] | None = None
    include_return_schema: bool | None = None

    @property
    def defer(self) -> bool:
        """Whether the call is handled outside the run (``external`` or ``unapproved`` tools)."""
        return self.kind in ("external", "unapproved")


@attrs.frozen(slots=True, kw_only=True)
class OutputObjectDefinition:
    """The JSON schema for native or prompted structured output."""

    json_schema: dict[str, Any]
    name: str | None = None
    description: str | None = None
    strict: bool | None = None


@attrs.frozen(slots=True)
class InstructionPart:
    """One piece of instructions; the direct API builds these from ``ModelRequest.instructions``."""

    content: str
    dynamic: bool = attrs.field(default=False, kw_only=True)
    part_kind: Literal["instruction"] = attrs.field(default="instruction", init=False)

    @staticmethod
    def join(parts: list[InstructionPart]) -> str | None:
        """Contents joined by blank lines, outer whitespace stripped; None when empty."""
        text = "\n\n".join(p.content for p in InstructionPart.sorted(parts)).strip()
        return text or None

    @staticmethod
    def sorted(parts: list[InstructionPart]) -> list[InstructionPart]:
        """Static parts before dynamic ones, otherwise in order."""
        return [p for p in parts if not p.dynamic] + [p for p in parts if p.dynamic]


@attrs.frozen(slots=True, kw_only=True)
class ModelRequestParameters:
    """What the request asks of the model beyond the messages: tools and the output mode.

    Build a changed copy with ``attrs.evolve(params, ...)``.
    """

    function_tools: list[ToolDefinition] = attrs.field(factory=list[ToolDefinition])
    native_tools: list[Any] = attrs.field(factory=list[Any])
    output_mode: OutputMode = "text"
    output_object: OutputObjectDefinition | None = None
    output_tools: list[ToolDefinition] = attrs.field(factory=list[ToolDefinition])
    prompted_output_template: str | Literal[False] | None = None
    allow_text_output: bool = True
    allow_image_output: bool = False
    instruction_parts: list[InstructionPart] | None = None
    thinking: bool | str | None = None

    @property
    def tool_defs(self) -> dict[str, ToolDefinition]:
        """Function and output tools by name."""
        return {t.name: t for t in [*self.function_tools, *self.output_tools]}

    @property
    def instructions(self) -> str | None:
        """The instruction parts joined (see :meth:`InstructionPart.join`)."""
        return InstructionPart.join(self.instruction_parts) if self.instruction_parts else None
