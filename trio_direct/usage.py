"""Token usage of one model request."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Self, cast

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


@attrs.define(slots=True, repr=False, kw_only=True, init=False)
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

    def __init__(
        self,
        *,
        input_tokens: int = 0,
        cache_write_tokens: int = 0,
        cache_write_1h_tokens: int = 0,
        cache_read_tokens: int = 0,
        output_tokens: int = 0,
        unmeasured_requests: int = 0,
        output_reasoning_tokens: int = 0,
        input_audio_tokens: int = 0,
        cache_audio_read_tokens: int = 0,
        output_audio_tokens: int = 0,
        audio_seconds: float = 0.0,
        details: dict[str, int] | None = None,
        cost: Decimal | None = None,
        extra: dict[str, Any] | None = None,
        **counters: Any,
    ) -> None:
        """Every counter by keyword; any other keyword (``web_searches=2``) is an ad-hoc counter kept
        in :attr:`extra`, as pydantic-ai 2.68's ``RequestUsage(**kwargs)`` keeps it as an attribute."""
        self.__attrs_init__(  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
            input_tokens=input_tokens,
            cache_write_tokens=cache_write_tokens,
            cache_write_1h_tokens=cache_write_1h_tokens,
            cache_read_tokens=cache_read_tokens,
            output_tokens=output_tokens,
            unmeasured_requests=unmeasured_requests,
            output_reasoning_tokens=output_reasoning_tokens,
            input_audio_tokens=input_audio_tokens,
            cache_audio_read_tokens=cache_audio_read_tokens,
            output_audio_tokens=output_audio_tokens,
            audio_seconds=audio_seconds,
            details={} if details is None else details,
            cost=cost,
            extra={**(extra or {}), **counters},
        )

    @classmethod
    def extract(
        cls,
        data: Any,
        *,
        provider: str,
        provider_url: str,
        provider_fallback: str,
        api_flavor: str = "default",
        details: dict[str, Any] | None = None,
    ) -> RequestUsage:
        """The usage in a provider's response body, read by genai-prices as pydantic-ai 2.68 reads it.

        Providers are tried by ``provider_url``, then ``provider``, then ``provider_fallback``. A cost a
        Pydantic AI Gateway reported in the body's ``usage`` becomes :attr:`cost`. ``details`` becomes the
        result's ``details``.

        Raises:
            UserError: genai-prices is not installed (the ``prices`` extra).

        Warns:
            UsageExtractionFailedWarning: a provider was found but its usage could not be read (the
                result then holds only ``details`` and the gateway cost).
        """
        from .exceptions import UsageExtractionFailedWarning, UserError

        try:
            from genai_prices import data_snapshot
        except ImportError:
            raise UserError(
                "RequestUsage.extract() needs genai-prices: install the `prices` extra "
                "(pip install 'trio-direct[prices]')"
            ) from None
        details = details or {}
        cost = _gateway_cost(data)
        failure: Exception | None = None
        for provider_id, api_url in ((None, provider_url), (provider, None), (provider_fallback, None)):
            if not (provider_id or api_url):
                continue
            try:
                found = data_snapshot.get_snapshot().find_provider(None, provider_id, api_url)
            except LookupError:
                continue
            except Exception as exc:  # genai-prices' own failure: reported once below, never raised
                failure = exc
                continue
            try:
                _, extracted = found.extract_usage(data, api_flavor=api_flavor)
                usage = cls(**{k: v for k, v in vars(extracted).items() if v is not None}, details=details)
            except Exception as exc:
                failure = exc
                continue
            if cost is not None:
                usage.cost = cost
            return usage
        if failure is not None:
            warnings.warn(
                f"Failed to extract usage with `genai-prices`: {type(failure).__name__}: {failure}",
                UsageExtractionFailedWarning,
                stacklevel=2,
            )
        return cls(details=details, cost=cost)

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
        """The ``gen_ai.usage.*`` span attributes, exactly as pydantic-ai 2.68 emits them.

        Non-zero input/output/cache counts as the first-class attributes; then every ``details`` entry
        (zero values included: zero is a measurement) followed by the non-zero cache and audio counters
        as ``gen_ai.usage.details.<name>``. A detail named ``input_tokens``/``output_tokens`` is left
        out, as it would double-count the first-class attribute.
        """
        result: dict[str, int] = {}
        if self.input_tokens:
            result["gen_ai.usage.input_tokens"] = self.input_tokens
        if self.output_tokens:
            result["gen_ai.usage.output_tokens"] = self.output_tokens
        details: dict[str, int] = dict(self.details)
        if self.cache_write_tokens:
            result["gen_ai.usage.cache_creation.input_tokens"] = self.cache_write_tokens
            details["cache_write_tokens"] = self.cache_write_tokens
        if self.cache_read_tokens:
            result["gen_ai.usage.cache_read.input_tokens"] = self.cache_read_tokens
            details["cache_read_tokens"] = self.cache_read_tokens
        for name in ("input_audio_tokens", "cache_audio_read_tokens", "output_audio_tokens"):
            if value := getattr(self, name):
                details[name] = value
        for key, count in details.items():
            if key in ("input_tokens", "output_tokens") or count is None:  # pyright: ignore[reportUnnecessaryComparison]
                continue
            result[f"gen_ai.usage.details.{key}"] = count
        return result


def _mapping(value: object) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _parse_cost(value: object) -> Decimal | None:
    """A reported cost (a decimal string or a JSON number) as a finite, non-negative :class:`Decimal`,
    else None (as 2.68: NaN or a negative cost would break sums and limits)."""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            cost = Decimal(str(value))
        except InvalidOperation:
            return None
        if cost.is_finite() and cost >= 0:
            return cost
    return None


def gateway_usage_cost(usage: object) -> Decimal | None:
    """The cost a Pydantic AI Gateway put in a ``usage`` object (``logfire_ai_gateway.cost``, or the
    older ``pydantic_ai_gateway.cost_estimate``); a reported ``0`` (a gateway cache hit) is a real cost.

    ``usage`` is the response's usage object as the wire has it (Anthropic's message or
    ``message_delta`` usage, a Groq completion's or final chunk's ``usage``), or a Gemini stream part's
    ``partMetadata``, where the Gateway puts a stream's cost. Anything else gives None.
    """
    for block_name, field in (("logfire_ai_gateway", "cost"), ("pydantic_ai_gateway", "cost_estimate")):
        if (cost := _parse_cost(_mapping(_mapping(usage).get(block_name)).get(field))) is not None:
            return cost
    return None


def _gateway_cost(data: Any) -> Decimal | None:
    """:func:`gateway_usage_cost` of a response body's ``usage``."""
    return gateway_usage_cost(_mapping(data).get("usage"))


def gateway_header_cost(headers: Mapping[str, str]) -> Decimal | None:
    """The cost a Pydantic AI Gateway put in the ``logfire-ai-gateway-cost`` response header
    (``'0.0038USD'``), for APIs whose body has no place for it (Bedrock, Gemini); as 2.68, the deprecated
    ``pydantic-ai-gateway-price-estimate`` header (rounded) is not read."""
    value = headers.get("logfire-ai-gateway-cost")
    if value is None or not value.endswith("USD"):
        return None
    return _parse_cost(value[:-3])
