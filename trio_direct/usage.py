"""Token usage of one model request."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Self

import attrs

__all__ = ["RequestUsage"]

_COUNTERS = (
    "input_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "output_tokens",
    "unmeasured_requests",
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

    ``extra`` holds the counters pydantic-ai keeps as ad-hoc attributes of its usage objects
    (``web_searches``, ``input_text_tokens``...): they serialize as top-level keys after ``cost``, read
    as attributes (``usage.web_searches``), and add up in :meth:`incr` like the named counters.
    ``unmeasured_requests`` is non-zero when the provider omitted usage (then it is serialized).
    """

    input_tokens: int = 0
    cache_write_tokens: int = 0
    cache_write_1h_tokens: int = 0
    cache_read_tokens: int = 0
    output_tokens: int = 0
    unmeasured_requests: int = 0
    output_reasoning_tokens: int = 0
    input_audio_tokens: int = 0
    cache_audio_read_tokens: int = 0
    output_audio_tokens: int = 0
    audio_seconds: float = 0.0
    details: dict[str, int] = attrs.field(factory=dict[str, int])
    cost: Decimal | None = None
    extra: dict[str, Any] = attrs.field(factory=dict[str, Any])

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: the ad-hoc counters pydantic-ai exposes as attributes.
        # (`extra` itself is excluded, or a half-built instance would recurse.)
        if name != "extra":
            try:
                return self.extra[name]
            except KeyError:
                pass
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __call__(self) -> Self:
        """This usage itself, so that ``stream.usage`` and ``stream.usage()`` are the same value.

        pydantic-ai 2.68 made the streams' ``usage`` a property; earlier versions (and this library's
        seed API) called it as a method. Both spellings work on :class:`StreamedResponse` and
        :class:`StreamedResponseSync` because the property's value can be called. Equality, ``repr`` and
        JSON are the ordinary ones of this class.
        """
        return self

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
        """Whether any counter, detail, extra counter or the cost is non-zero (not counting
        ``unmeasured_requests``, which records that usage was missing)."""
        return (
            any(getattr(self, name) for name in _COUNTERS if name != "unmeasured_requests")
            or any(self.details.values())
            or any(self.extra.values())
            or bool(self.cost)
        )

    def incr(self, other: RequestUsage) -> None:
        """Add ``other`` into this usage: every counter, each ``details`` key, and ``cost`` (None-aware)."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, value in other.details.items():
            self.details[key] = self.details.get(key, 0) + value
        for key, value in other.extra.items():
            mine = self.extra.get(key, 0)
            if isinstance(mine, int | float) and isinstance(value, int | float):
                self.extra[key] = mine + value
        if other.cost is not None:
            self.cost = other.cost if self.cost is None else self.cost + other.cost

    def __add__(self, other: RequestUsage) -> RequestUsage:
        result = attrs.evolve(self, details=dict(self.details), extra=dict(self.extra))
        result.incr(other)
        return result

    def __repr__(self) -> str:
        shown = [f"{name}={getattr(self, name)!r}" for name in _COUNTERS if getattr(self, name)]
        shown.extend(f"{name}={value!r}" for name, value in self.extra.items() if value)
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
        for name in (
            "cache_write_tokens",
            "cache_read_tokens",
            "input_audio_tokens",
            "cache_audio_read_tokens",
            "output_audio_tokens",
        ):
            if value := getattr(self, name):
                attributes[f"gen_ai.usage.details.{name}"] = value
        return {k: v for k, v in attributes.items() if v}
