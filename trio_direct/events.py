"""Stream events and the deltas they carry.

A streamed response is a sequence of :data:`ModelResponseStreamEvent`: a part starts
(:class:`PartStartEvent`), grows by deltas (:class:`PartDeltaEvent`), ends (:class:`PartEndEvent`),
and once the answer is known to be final a :class:`FinalResultEvent` is emitted. Each delta knows
how to ``apply`` itself to the part it extends; that pure function is what both the producer-side
parts manager and the consumer-side accumulator use.

Events and deltas are slotted but not frozen: a stream builds two of them per token, and frozen
attrs classes cost about twice as much to construct. Treat them as read-only all the same.

The classes are defined in :mod:`trio_direct.messages` (where pydantic-ai defines them too, so
``from trio_direct.messages import PartStartEvent`` works) and re-exported here.
"""

from __future__ import annotations

from .messages import (
    FinalResultEvent as FinalResultEvent,
)
from .messages import (
    ModelResponsePartDelta as ModelResponsePartDelta,
)
from .messages import (
    ModelResponseStreamEvent as ModelResponseStreamEvent,
)
from .messages import (
    PartDeltaEvent as PartDeltaEvent,
)
from .messages import (
    PartEndEvent as PartEndEvent,
)
from .messages import (
    PartStartEvent as PartStartEvent,
)
from .messages import (
    SpeechPartDelta as SpeechPartDelta,
)
from .messages import (
    TextPartDelta as TextPartDelta,
)
from .messages import (
    ThinkingPartDelta as ThinkingPartDelta,
)
from .messages import (
    ToolCallPartDelta as ToolCallPartDelta,
)

__all__ = [
    "FinalResultEvent",
    "ModelResponsePartDelta",
    "ModelResponseStreamEvent",
    "PartDeltaEvent",
    "PartEndEvent",
    "PartStartEvent",
    "SpeechPartDelta",
    "TextPartDelta",
    "ThinkingPartDelta",
    "ToolCallPartDelta",
]
