"""Token usage of one model request."""

from __future__ import annotations

from decimal import Decimal

import attrs

__all__ = ["RequestUsage"]

_COUNTERS = (
    "input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "output_reasoning_tokens",
    "input_audio_tokens",
    "cache_audio_read_tokens",
    "output_audio_tokens",
    "audio_seconds",
)


@attrs.define(slots=True, repr=False, kw_only=True)
class RequestUsage:
    """Token counts of one request, as pydantic-ai 2.68 reports them.

    ``input_tokens`` includes cached and audio input tokens. ``details`` holds the provider's extra
    counters (``reasoning_tokens``, ``cache_creation_input_tokens``...). Unlike the rest of the message
    model this is mutable, because adapters and callers accumulate it with :meth:`incr`.
    """

    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    output_reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    cache_audio_read_tokens: int = 0
    output_audio_tokens: int = 0
    audio_seconds: float = 0.0
    details: dict[str, int] = attrs.field(factory=dict)
    cost: Decimal | None = None

    @property
    def requests(self) -> int:
        """Always 1: this is the usage of one request."""
        return 1

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cache_hit_ratio(self) -> float:
        """Share of input tokens read from the cache (0.0 without input)."""
        return self.cache_read_tokens / self.input_tokens if self.input_tokens else 0.0

    def has_values(self) -> bool:
        """Whether any counter is non-zero."""
        return any(getattr(self, name) for name in _COUNTERS) or any(self.details.values())

    def incr(self, other: RequestUsage) -> None:
        """Add ``other`` into this usage: every counter, each ``details`` key, and ``cost`` (None-aware)."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.details.items():
            self.details[key] = self.details.get(key, 0) + value
        if other.cost is not None:
            self.cost = other.cost if self.cost is None else self.cost + other.cost

    def __add__(self, other: RequestUsage) -> RequestUsage:
        result = attrs.evolve(self, details=dict(self.details))
        result.incr(other)
        return result

    def __repr__(self) -> str:
        shown = [f"{name}={getattr(self, name)!r}" for name in _COUNTERS if getattr(self, name)]
        if self.details:
            shown.append(f"details={self.details!r}")
        if self.cost is not None:
            shown.append(f"cost={self.cost!r}")
        return f"RequestUsage({', '.join(sorted(shown))})"

    def opentelemetry_attributes(self) -> dict[str, int]:
        """The ``gen_ai.usage.*`` span attributes (zero values left out)."""
        attributes = {
            "gen_ai.usage.input_tokens": self.input_tokens,
            "gen_ai.usage.output_tokens": self.output_tokens,
            "gen_ai.usage.cache_creation.input_tokens": self.cache_write_tokens,
            "gen_ai.usage.cache_read.input_tokens": self.cache_read_tokens,
        }
        for key, value in self.details.items():
            attributes[f"gen_ai.usage.details.{key}"] = value
        for name in ("cache_write_tokens", "cache_read_tokens", "input_audio_tokens", "cache_audio_read_tokens",
                     "output_audio_tokens"):
            if value := getattr(self, name):
                attributes[f"gen_ai.usage.details.{name}"] = value
        return {k: v for k, v in attributes.items() if v}
