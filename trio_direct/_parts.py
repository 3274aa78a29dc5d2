"""Deltas into parts, and parts into stream events. Pure, synchronous, no I/O.

Three pieces, all shared by every model and by the async and sync consumers:

* :class:`PartsManager` is what a provider's stream mapper calls ("more text under vendor id X",
  "a tool-call fragment for index 2"). It keeps the parts built so far and returns the raw
  ``PartStartEvent``/``PartDeltaEvent`` for each call.
* :class:`EventDecorator` turns raw events into the sequence callers see: it inserts
  ``PartEndEvent`` before each new part (and at the end) and one ``FinalResultEvent`` right after the
  first part that is a final result, exactly where pydantic-ai emits them.
* :class:`ResponseAccumulator` rebuilds the parts on the *consumer* side from the events the caller
  has actually received, so ``get()`` never runs ahead of the iteration.

Text, thinking and string tool arguments grow by appending; all three keep the appended pieces in a
list per part and join them only when the part is read, so a response of N deltas costs O(N), not
O(N^2) as rebuilding the part per delta would.

Unlike pydantic-ai, a tool-call fragment that has no name yet does not occupy an event index: it
waits in a side table and takes the next index when its name arrives. Upstream counts such fragments
in the indices but leaves them out of the parts, so a fragment that never gets a name shifts every
later ``PartEndEvent`` onto the wrong part.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import attrs

from .events import (
    FinalResultEvent,
    ModelResponsePartDelta,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
)
from .exceptions import UnexpectedModelBehavior
from .messages import (
    BinaryImage,
    FilePart,
    ModelResponsePart,
    NativeToolCallPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from .tools import ModelRequestParameters

__all__ = ["EventDecorator", "PartsManager", "ResponseAccumulator"]

_ToolCall = ToolCallPart | NativeToolCallPart


class _PartList:
    """Parts by index, with string growth buffered per index and joined lazily."""

    __slots__ = ("_buffers", "_parts")

    def __init__(self) -> None:
        self._parts: list[ModelResponsePart] = []
        # index -> pieces appended to the part's growing string (text/thinking content or tool args)
        self._buffers: dict[int, list[str]] = {}

    def __len__(self) -> int:
        return len(self._parts)

    def append(self, part: ModelResponsePart) -> int:
        self._parts.append(part)
        return len(self._parts) - 1

    def replace(self, index: int, part: ModelResponsePart) -> None:
        if index == len(self._parts):
            self._parts.append(part)
        else:
            self._parts[index] = part
            self._buffers.pop(index, None)

    def raw(self, index: int) -> ModelResponsePart:
        """The part without its buffered growth: right type, stale content."""
        return self._parts[index]

    def get(self, index: int) -> ModelResponsePart:
        """The complete part at ``index``."""
        buffer = self._buffers.pop(index, None)
        part = self._parts[index]
        if buffer:
            grown = "".join(buffer)
            if isinstance(part, TextPart | ThinkingPart):
                part = attrs.evolve(part, content=part.content + grown)
            elif isinstance(part, ToolCallPart | NativeToolCallPart):
                part = attrs.evolve(part, args=(part.args or "") + grown)  # type: ignore[operator]
            self._parts[index] = part
        return part

    def all(self) -> list[ModelResponsePart]:
        return [self.get(i) for i in range(len(self._parts))]

    def grow(self, index: int, piece: str) -> None:
        """Append ``piece`` to the part's string (the caller checked the part's type)."""
        buffer = self._buffers.get(index)
        if buffer is None:
            self._buffers[index] = [piece]
        else:
            buffer.append(piece)

    def apply(self, index: int, delta: ModelResponsePartDelta) -> None:
        """Apply ``delta`` to the part at ``index``, buffering plain string growth.

        Raises:
            UnexpectedModelBehavior: the delta does not fit the part.
        """
        part = self._parts[index]
        if type(delta) is TextPartDelta:
            if type(part) is not TextPart:
                raise UnexpectedModelBehavior(f"cannot apply a text delta to {self.get(index)!r}")
            if (
                delta.provider_details is None
                and delta.citations_delta is None
                and (delta.provider_name is None or delta.provider_name == part.provider_name)
            ):
                if delta.content_delta:
                    self.grow(index, delta.content_delta)
                return
        elif type(delta) is ThinkingPartDelta:
            if type(part) is not ThinkingPart:
                raise UnexpectedModelBehavior(f"cannot apply a thinking delta to {self.get(index)!r}")
            if (
                delta.signature_delta is None
                and delta.provider_details is None
                and (delta.provider_name is None or delta.provider_name == part.provider_name)
            ):
                if delta.content_delta:
                    self.grow(index, delta.content_delta)
                return
        elif type(delta) is ToolCallPartDelta:
            if not isinstance(part, ToolCallPart | NativeToolCallPart):
                raise UnexpectedModelBehavior(f"cannot apply a tool-call delta to {self.get(index)!r}")
            if (
                isinstance(delta.args_delta, str)
                and not isinstance(part.args, dict)
                and delta.tool_name_delta is None
                and delta.provider_details is None
                and (delta.tool_call_id is None or delta.tool_call_id == part.tool_call_id)
                and (delta.provider_name is None or delta.provider_name == part.provider_name)
            ):
                self.grow(index, delta.args_delta)
                return
        # Any other delta (details, citations, a signature, a new id): its string still only grows the
        # buffer, and the rest is applied to the part as it is, so no delta copies the text so far.
        piece, rest = _split_string(delta, part)
        if rest is not None:
            updated = rest.apply(part)
            if isinstance(updated, ToolCallPartDelta | ThinkingPartDelta):  # pragma: no cover
                raise UnexpectedModelBehavior(f"delta {delta!r} did not produce a part")
            self._parts[index] = updated
            if piece:
                self.grow(index, piece)
            return
        current = self.get(index)
        updated = delta.apply(current)
        # never true: a delta applied to a part always gives a part
        if isinstance(updated, ToolCallPartDelta | ThinkingPartDelta):  # pragma: no cover
            raise UnexpectedModelBehavior(f"delta {delta!r} did not produce a part")
        self._parts[index] = updated


def _split_string(
    delta: ModelResponsePartDelta, part: ModelResponsePart
) -> tuple[str | None, ModelResponsePartDelta | None]:
    """``delta``'s appended string and the delta without it, when the two can be applied apart.

    ``(None, None)`` when they cannot (dict tool arguments: merging them is not appending).
    """
    if type(delta) is TextPartDelta:
        return delta.content_delta, attrs.evolve(delta, content_delta="")
    if type(delta) is ThinkingPartDelta:
        return delta.content_delta, attrs.evolve(delta, content_delta=None)
    if type(delta) is ToolCallPartDelta and isinstance(delta.args_delta, str) and isinstance(
        getattr(part, "args", None), str
    ):
        # (arguments still None become the delta's string, even "": materialised once, below)
        return delta.args_delta, attrs.evolve(delta, args_delta=None)
    return None, None


class _PendingCall:
    """Tool-call fragments that have no name yet.

    String argument fragments are kept as a list and joined once, when the name arrives: merging each
    fragment into the text so far would copy it every time (25k fragments: 0.2 s, 100k: 5 s).
    """

    __slots__ = ("chunks", "delta")

    def __init__(self) -> None:
        self.delta: ToolCallPartDelta | None = None  # everything but the string argument fragments
        self.chunks: list[str] = []

    def merge(self, delta: ToolCallPartDelta) -> ToolCallPart | NativeToolCallPart | None:
        """Take ``delta`` in; the complete part once a name is known, else None (kept here).

        Raises:
            UnexpectedModelBehavior: string and dict arguments are mixed.
        """
        earlier = self.delta
        args = delta.args_delta
        if (
            type(args) is str
            and earlier is not None
            and earlier.args_delta is None
            and delta.tool_name_delta is None
            and delta.tool_call_id is None
            and delta.provider_name is None
            and delta.provider_details is None
        ):
            self.chunks.append(args)  # the common fragment: more argument text, nothing else
            return None
        if isinstance(args, str) and not (earlier is not None and isinstance(earlier.args_delta, dict)):
            self.chunks.append(args)
            delta = attrs.evolve(delta, args_delta=None)
        elif isinstance(args, dict) and self.chunks:
            raise UnexpectedModelBehavior(
                f"cannot mix string and dict tool-call arguments: {''.join(self.chunks)!r} then {args!r}"
            )
        merged = (delta.as_part() or delta) if earlier is None else delta.apply(earlier)
        if isinstance(merged, ToolCallPartDelta):
            self.delta = merged
            return None
        # The name arrived: the part gets the argument text, joined once.
        if self.chunks:
            text = "".join(self.chunks)
            if isinstance(merged.args, dict):
                raise UnexpectedModelBehavior(
                    f"cannot mix string and dict tool-call arguments: {text!r} then {merged.args!r}"
                )
            merged = attrs.evolve(merged, args=text)
        return merged


class PartsManager:
    """Builds the response parts from a provider's deltas and returns the raw events.

    ``vendor_part_id`` is whatever the provider uses to say "the same part" across chunks (a content
    block index, a tool-call index, a field name); None means "the latest part, if of the right kind".
    """

    def __init__(self) -> None:
        self._parts = _PartList()
        self._vendor_index: dict[Hashable, int] = {}
        # tool-call fragments that have no name yet, by vendor id (None for anonymous ones)
        self._pending: dict[Hashable | None, _PendingCall] = {}
        self._latest_pending: Hashable | None = None
        self._has_latest_pending = False
        self._thinking_tag_ids: set[Hashable] = set()
        # started index -> (index of the part it follows, that part as it was then); see _start
        self._end_snapshots: dict[int, tuple[int, ModelResponsePart]] = {}

    # -- reading -----------------------------------------------------------------------------

    def get_parts(self) -> list[ModelResponsePart]:
        """The complete parts so far (pending nameless tool-call fragments excluded)."""
        return self._parts.all()

    def part_at_end(self, ended: int, started: int) -> ModelResponsePart:
        """Part ``ended`` as it was when part ``started`` began (what its PartEndEvent carries)."""
        snapshot = self._end_snapshots.pop(started, None)
        if snapshot is not None and snapshot[0] == ended:
            return snapshot[1]
        return self._parts.get(ended)

    def part(self, index: int) -> ModelResponsePart:
        return self._parts.get(index)

    def __len__(self) -> int:
        return len(self._parts)

    def get_part_by_vendor_id(self, vendor_part_id: Hashable) -> ModelResponsePart | None:
        """The complete part started under ``vendor_part_id``, or None."""
        index = self._vendor_index.get(vendor_part_id)
        return None if index is None else self._parts.get(index)

    def _latest(self) -> tuple[int, ModelResponsePart] | None:
        if not len(self._parts):
            return None
        index = len(self._parts) - 1
        return index, self._parts.raw(index)

    def _start(self, part: ModelResponsePart, vendor_part_id: Hashable | None) -> PartStartEvent:
        if len(self._parts):
            # The part this one follows ends *now*. Keep it as it is at this moment for its
            # PartEndEvent: the decorator runs after the whole network read has been mapped, and a
            # later delta to the earlier part in the same read must not leak into its end event (the
            # consumer would apply that delta twice). One materialisation per part start.
            previous = len(self._parts) - 1
            self._end_snapshots[previous + 1] = (previous, self._parts.get(previous))
        index = self._parts.append(part)
        if vendor_part_id is not None:
            self._vendor_index[vendor_part_id] = index
        self._has_latest_pending = False
        return PartStartEvent(index=index, part=part)

    # -- text and thinking -------------------------------------------------------------------

    def handle_text_delta(
        self,
        *,
        vendor_part_id: Hashable | None,
        content: str,
        id: str | None = None,
        provider_name: str | None = None,
        provider_details: dict[str, Any] | None = None,
        thinking_tags: tuple[str, str] | None = None,
        ignore_leading_whitespace: bool = False,
        citations: list[Any] | None = None,
    ) -> list[ModelResponseStreamEvent]:
        """More text: starts a text part or extends the one for ``vendor_part_id``.

        ``citations`` are added to the part (a delta carries them as ``citations_delta``).

        With ``thinking_tags=(start, end)``, a chunk equal to ``start`` opens a thinking part that
        collects the following chunks until a chunk equal to ``end``.

        Raises:
            UnexpectedModelBehavior: the vendor id belongs to a part that is not text.
        """
        if (
            vendor_part_id is not None
            and thinking_tags is None
            and provider_name is None
            and provider_details is None
            and citations is None
        ):
            # The hot path of every text stream: plain text for an existing text part. Equivalent to
            # the general path below (the delta carries no name, details or citations, so applying it
            # is appending the content), at a fraction of its cost.
            found = self._vendor_index.get(vendor_part_id)
            if found is not None and type(self._parts.raw(found)) is TextPart:
                if content:
                    self._parts.grow(found, content)
                return [PartDeltaEvent(index=found, delta=TextPartDelta(content))]
        index: int | None = None
        if vendor_part_id is None:
            latest = self._latest()
            if latest is not None and type(latest[1]) is TextPart:
                index = latest[0]
        elif (found := self._vendor_index.get(vendor_part_id)) is not None:
            existing = self._parts.raw(found)
            if thinking_tags and vendor_part_id in self._thinking_tag_ids and type(existing) is ThinkingPart:
                if content == thinking_tags[1]:
                    self._thinking_tag_ids.discard(vendor_part_id)
                    del self._vendor_index[vendor_part_id]
                    return []
                return self.handle_thinking_delta(vendor_part_id=vendor_part_id, content=content)
            if type(existing) is not TextPart:
                raise UnexpectedModelBehavior(f"cannot apply a text delta to {self._parts.get(found)!r}")
            index = found
        if thinking_tags and content == thinking_tags[0]:
            # pydantic-ai opens the embedded thinking part under the same vendor id
            event = self._start(ThinkingPart(""), vendor_part_id)
            if vendor_part_id is not None:
                self._thinking_tag_ids.add(vendor_part_id)
            return [event]
        if index is None:
            if ignore_leading_whitespace and (not content or content.isspace()):
                return []
            part = TextPart(
                content,
                id=id,
                provider_name=provider_name,
                provider_details=provider_details,
                citations=citations,
            )
            return [self._start(part, vendor_part_id)]
        existing_part = self._parts.raw(index)
        delta = TextPartDelta(
            content,
            provider_name=provider_name if provider_name != existing_part.provider_name else None,
            provider_details=provider_details,
            citations_delta=citations,
        )
        self._parts.apply(index, delta)
        return [PartDeltaEvent(index=index, delta=delta)]

    def handle_thinking_delta(
        self,
        *,
        vendor_part_id: Hashable | None,
        content: str | None = None,
        id: str | None = None,
        signature: str | None = None,
        provider_name: str | None = None,
        provider_details: dict[str, Any] | None = None,
    ) -> list[ModelResponseStreamEvent]:
        """More thinking (content, signature or details) for the part of ``vendor_part_id``.

        Raises:
            UnexpectedModelBehavior: a new part would have nothing in it, or the vendor id belongs to
                a part that is not thinking.
        """
        index: int | None = None
        if vendor_part_id is None:
            latest = self._latest()
            if latest is not None and type(latest[1]) is ThinkingPart:
                index = latest[0]
        elif (found := self._vendor_index.get(vendor_part_id)) is not None:
            if type(self._parts.raw(found)) is not ThinkingPart:
                raise UnexpectedModelBehavior(f"cannot apply a thinking delta to {self._parts.get(found)!r}")
            index = found
        if index is None:
            if content is None and signature is None and provider_details is None:
                raise UnexpectedModelBehavior(
                    "cannot start a thinking part with no content, signature or details"
                )
            part = ThinkingPart(
                content or "",
                id=id,
                signature=signature,
                provider_name=provider_name,
                provider_details=provider_details,
            )
            return [self._start(part, vendor_part_id)]
        if content is None and signature is None and provider_name is None and provider_details is None:
            return []
        existing = self._parts.raw(index)
        delta = ThinkingPartDelta(
            content_delta=content,
            signature_delta=signature,
            provider_name=provider_name if provider_name != existing.provider_name else None,
            provider_details=provider_details,
        )
        self._parts.apply(index, delta)
        return [PartDeltaEvent(index=index, delta=delta)]

    # -- tool calls --------------------------------------------------------------------------

    def handle_tool_call_delta(
        self,
        *,
        vendor_part_id: Hashable | None,
        tool_name: str | None = None,
        args: str | dict[str, Any] | None = None,
        tool_call_id: str | None = None,
        provider_name: str | None = None,
        provider_details: dict[str, Any] | None = None,
    ) -> list[ModelResponseStreamEvent]:
        """A tool-call fragment: name, argument text or dict, and/or id.

        Fragments without a name are held back (no event) until a name arrives; then one
        ``PartStartEvent`` carries everything so far. Later fragments give ``PartDeltaEvent``\\ s that
        always carry the call's id.

        Raises:
            UnexpectedModelBehavior: the vendor id belongs to a part that is not a tool call, or
                string and dict arguments are mixed.
        """
        if (
            vendor_part_id is not None
            and tool_name is None
            and tool_call_id is None
            and provider_name is None
            and provider_details is None
            and type(args) is str
        ):
            # The hot path of a streamed tool call: more argument text for a call that has started.
            # Equivalent to the general path below (nothing but the string to apply, so applying the
            # delta appends it, and the event's delta carries the call's id as that path's does),
            # without building a delta, evolving it for the id and re-checking it in ``apply``.
            found = self._vendor_index.get(vendor_part_id)
            if found is not None:
                part = self._parts.raw(found)
                if type(part) is ToolCallPart and not isinstance(part.args, dict):
                    self._parts.grow(found, args)
                    delta = ToolCallPartDelta(args_delta=args, tool_call_id=part.tool_call_id)
                    return [PartDeltaEvent(index=found, delta=delta)]
        delta = ToolCallPartDelta(
            tool_name_delta=tool_name,
            args_delta=args,
            tool_call_id=tool_call_id,
            provider_name=provider_name,
            provider_details=provider_details,
        )
        index: int | None = None
        pending_key: Hashable | None = None
        has_pending = False
        if vendor_part_id is None:
            if tool_name is None:
                if self._has_latest_pending:
                    pending_key, has_pending = self._latest_pending, True
                else:
                    latest = self._latest()
                    if latest is not None and isinstance(latest[1], ToolCallPart | NativeToolCallPart):
                        index = latest[0]
        elif (found := self._vendor_index.get(vendor_part_id)) is not None:
            if not isinstance(self._parts.raw(found), ToolCallPart | NativeToolCallPart):
                raise UnexpectedModelBehavior(f"cannot apply a tool-call delta to {self._parts.get(found)!r}")
            index = found
        elif vendor_part_id in self._pending:
            pending_key, has_pending = vendor_part_id, True

        if index is not None:
            existing = self._parts.raw(index)
            if provider_name is not None and provider_name == existing.provider_name:
                delta = attrs.evolve(delta, provider_name=None)
            self._parts.apply(index, delta)
            if delta.tool_call_id is None:
                current = self._parts.raw(index)
                delta = attrs.evolve(delta, tool_call_id=current.tool_call_id)  # type: ignore[union-attr]
            return [PartDeltaEvent(index=index, delta=delta)]

        key = pending_key if has_pending else vendor_part_id
        pending = self._pending.get(key) if has_pending else None
        if pending is None:
            pending = _PendingCall()
            has_pending = False
        merged = pending.merge(delta)
        if merged is None:
            self._pending[key] = pending
            self._latest_pending = key
            self._has_latest_pending = True
            return []
        if has_pending:
            del self._pending[key]
        return [self._start(merged, key)]

    def handle_tool_call_part(
        self,
        *,
        vendor_part_id: Hashable | None,
        tool_name: str,
        args: str | dict[str, Any] | None,
        tool_call_id: str | None = None,
        id: str | None = None,
        provider_name: str | None = None,
        provider_details: dict[str, Any] | None = None,
    ) -> list[ModelResponseStreamEvent]:
        """A whole tool call at once; replaces the call already under ``vendor_part_id``, if any."""
        part = ToolCallPart(
            tool_name,
            args,
            tool_call_id or _fresh_id(),
            id=id,
            provider_name=provider_name,
            provider_details=provider_details,
        )
        return self.handle_part(vendor_part_id=vendor_part_id, part=part)

    def handle_part(
        self, *, vendor_part_id: Hashable | None, part: ModelResponsePart
    ) -> list[ModelResponseStreamEvent]:
        """Any complete part (file, native tool call/return...); replaces a same-typed part under the id."""
        found = None if vendor_part_id is None else self._vendor_index.get(vendor_part_id)
        if found is not None and type(self._parts.raw(found)) is type(part):
            self._parts.replace(found, part)
            return [PartStartEvent(index=found, part=part)]
        return [self._start(part, vendor_part_id)]


def _fresh_id() -> str:
    from .messages import generate_tool_call_id

    return generate_tool_call_id()


_ENDS_TRACKED = (TextPart, ThinkingPart, ToolCallPart, NativeToolCallPart)


class EventDecorator:
    """Adds ``PartEndEvent`` and ``FinalResultEvent`` to raw events, as pydantic-ai's stream does.

    Feed it every raw event in order with :meth:`process`, then call :meth:`finish` once at the end of
    a naturally exhausted stream.
    """

    __slots__ = (
        "_canonical_system",
        "_final_seen",
        "_last_start",
        "_params",
        "_parts",
        "_provider_name",
        "_tool_defs",
        "final_result_event",
    )

    def __init__(
        self,
        parts: PartsManager,
        params: ModelRequestParameters,
        *,
        provider_name: str | None = None,
        canonical_system: str | None = None,
    ) -> None:
        self._parts = parts
        self._params = params
        # start/end events of the response's own provider's parts carry its canonical system (2.68)
        self._provider_name = provider_name
        self._canonical_system = canonical_system
        self._tool_defs = params.tool_defs
        self._last_start: PartStartEvent | None = None
        self._final_seen = False
        self.final_result_event: FinalResultEvent | None = None

    def _final_for(self, part: ModelResponsePart) -> FinalResultEvent | None:
        params = self._params
        if isinstance(part, TextPart):
            return FinalResultEvent(None, None) if params.allow_text_output else None
        if isinstance(part, FilePart):
            ok = params.allow_image_output and isinstance(part.content, BinaryImage)
            return FinalResultEvent(None, None) if ok else None
        if type(part) is ToolCallPart and (definition := self._tool_defs.get(part.tool_name)) is not None:
            # By the definition's kind, as upstream: a tool is an output tool because it says so.
            if definition.kind == "output":
                return FinalResultEvent(part.tool_name, part.tool_call_id)
            if definition.defer:
                return FinalResultEvent(None, None)
        return None

    def process(
        self, events: Sequence[ModelResponseStreamEvent], out: list[ModelResponseStreamEvent]
    ) -> None:
        """Append ``events`` to ``out`` with part-end and final-result events inserted."""
        for event in events:
            if type(event) is PartStartEvent:
                last = self._last_start
                if last is not None:
                    # Every start names the part before it; only parts that grow by deltas get an end.
                    ended = self._parts.part_at_end(last.index, event.index)
                    if isinstance(ended, _ENDS_TRACKED):
                        out.append(
                            PartEndEvent(
                                index=last.index,
                                part=ended,
                                next_part_kind=event.part.part_kind,
                                canonical_system=self._canonical_for(ended),
                            )
                        )
                    event.previous_part_kind = last.part.part_kind
                if self._canonical_system is not None:
                    event.canonical_system = self._canonical_for(event.part)
                self._last_start = event
                out.append(event)
                if not self._final_seen and (final := self._final_for(event.part)) is not None:
                    self._final_seen = True
                    self.final_result_event = final
                    out.append(final)
            else:
                out.append(event)

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """Append the last ``PartEndEvent`` (called when the stream ends normally)."""
        last = self._last_start
        if last is not None:
            ended = self._parts.part(last.index)
            if isinstance(ended, _ENDS_TRACKED):
                out.append(
                    PartEndEvent(index=last.index, part=ended, canonical_system=self._canonical_for(ended))
                )
            self._last_start = None

    def _canonical_for(self, part: ModelResponsePart) -> str | None:
        if self._canonical_system is None or part.provider_name is None:
            return None
        return self._canonical_system if part.provider_name == self._provider_name else None


class ResponseAccumulator:
    """The parts as the consumer has seen them, rebuilt from the events it received."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts = _PartList()

    def apply(self, event: ModelResponseStreamEvent) -> None:
        """Apply one event.

        Raises:
            UnexpectedModelBehavior: a delta does not fit its part, or an index is out of order.
        """
        kind = type(event)
        if kind is PartDeltaEvent:
            self._parts.apply(event.index, event.delta)  # type: ignore[union-attr]
        elif kind is PartStartEvent or kind is PartEndEvent:
            index = event.index  # type: ignore[union-attr]
            if index > len(self._parts):
                raise UnexpectedModelBehavior(f"part index {index} skips ahead of {len(self._parts)} parts")
            self._parts.replace(index, event.part)  # type: ignore[union-attr]

    def apply_all(self, events: Sequence[ModelResponseStreamEvent]) -> None:
        """Apply ``events`` in order; same as :meth:`apply` on each, faster for runs of plain text deltas.

        Raises:
            UnexpectedModelBehavior: a delta does not fit its part, or an index is out of order.
        """
        parts = self._parts
        plist = parts._parts  # pyright: ignore[reportPrivateUsage]
        buffers = parts._buffers  # pyright: ignore[reportPrivateUsage]
        for event in events:
            if type(event) is PartDeltaEvent:
                delta = event.delta
                index = event.index
                if (
                    type(delta) is TextPartDelta
                    and delta.provider_name is None
                    and delta.provider_details is None
                    and delta.citations_delta is None
                    and index < len(plist)
                    and type(plist[index]) is TextPart
                ):
                    # What _PartList.apply does for this delta: buffer the content.
                    content = delta.content_delta
                    if content:
                        buffer = buffers.get(index)
                        if buffer is None:
                            buffers[index] = [content]
                        else:
                            buffer.append(content)
                    continue
            self.apply(event)

    def get_parts(self) -> list[ModelResponsePart]:
        return self._parts.all()
