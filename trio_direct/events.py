"""Stream events and the deltas they carry.

A streamed response is a sequence of :data:`ModelResponseStreamEvent`: a part starts
(:class:`PartStartEvent`), grows by deltas (:class:`PartDeltaEvent`), ends (:class:`PartEndEvent`),
and once the answer is known to be final a :class:`FinalResultEvent` is emitted. Each delta knows
how to ``apply`` itself to the part it extends; that pure function is what both the producer-side
parts manager and the consumer-side accumulator use.

Events and deltas are slotted but not frozen: a stream builds two of them per token, and frozen
attrs classes cost about twice as much to construct. Treat them as read-only all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import attrs

from .exceptions import UnexpectedModelBehavior
from .messages import (
    ModelResponsePart,
    NativeToolCallPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    _no_defaults_repr,  # pyright: ignore[reportPrivateUsage]
    generate_tool_call_id,
)

__all__ = [
    "FinalResultEvent",
    "ModelResponsePartDelta",
    "ModelResponseStreamEvent",
    "PartDeltaEvent",
    "PartEndEvent",
    "PartStartEvent",
    "TextPartDelta",
    "ThinkingPartDelta",
    "ToolCallPartDelta",
]

PartKind: TypeAlias = Literal[
    "text", "thinking", "tool-call", "builtin-tool-call", "builtin-tool-return", "file", "compaction"
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
            UnexpectedModelBehavior: ``part`` is not a :class:`TextPart`.
        """
        if not isinstance(part, TextPart):
            raise UnexpectedModelBehavior(f"cannot apply a text delta to {part!r}")
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
            UnexpectedModelBehavior: ``part`` is neither a thinking part nor a thinking delta.
        """
        if isinstance(part, ThinkingPartDelta):
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
            raise UnexpectedModelBehavior(f"cannot apply a thinking delta to {part!r}")
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
        raise UnexpectedModelBehavior(
            f"cannot mix string and dict tool-call arguments: {args!r} then {delta!r}"
        )

    def apply(
        self, part: ModelResponsePart | ToolCallPartDelta
    ) -> ToolCallPart | NativeToolCallPart | ToolCallPartDelta:
        """Name appended, arguments merged, id replaced, details merged.

        Applied to another delta the two accumulate; the result becomes a :class:`ToolCallPart` as
        soon as a name is known.

        Raises:
            UnexpectedModelBehavior: ``part`` is not a tool call, or string and dict args are mixed.
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
            raise UnexpectedModelBehavior(f"cannot apply a tool-call delta to {part!r}")
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


ModelResponsePartDelta: TypeAlias = TextPartDelta | ThinkingPartDelta | ToolCallPartDelta


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
