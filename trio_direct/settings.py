"""Per-request model settings: a TypedDict with pydantic-ai's keys."""

from __future__ import annotations

from typing import Literal, TypeAlias, TypedDict

import attrs
import httpx

__all__ = [
    "CacheConfig",
    "CacheRetention",
    "CacheSetting",
    "FramingAnnouncement",
    "ModelSettingName",
    "ModelSettings",
    "ServiceTier",
    "ThinkingEffort",
    "ThinkingLevel",
    "ToolChoice",
    "ToolChoiceScalar",
    "ToolOrOutput",
    "merge_model_settings",
]

ThinkingLevel: TypeAlias = bool | Literal["minimal", "low", "medium", "high", "xhigh"]

# pydantic-ai 2.68's names for setting values, so annotations move over. Which settings a model
# honours is up to each provider module; these only name the values.
ThinkingEffort: TypeAlias = Literal["minimal", "low", "medium", "high", "xhigh", "max"]
CacheRetention: TypeAlias = Literal["5m", "30m", "1h", "12h"]


class CacheConfig(TypedDict, total=False):
    """Detailed prompt-cache configuration (pydantic-ai's ``cache`` setting): ``retention``, and whether
    to also cache the growing conversation (``messages``)."""

    retention: CacheRetention
    messages: bool


CacheSetting: TypeAlias = bool | CacheRetention | CacheConfig
ToolChoiceScalar: TypeAlias = Literal["none", "required", "auto"]
FramingAnnouncement: TypeAlias = Literal["always", "when_needed", "never"]
ServiceTier: TypeAlias = Literal["auto", "default", "flex", "priority"]
ModelSettingName: TypeAlias = Literal[
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "timeout",
    "request_timeout",
    "first_event_timeout",
    "framing_announcement",
    "max_retries",
    "parallel_tool_calls",
    "tool_choice",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "stop_sequences",
    "extra_headers",
    "thinking",
    "citations",
    "cache",
    "service_tier",
    "extra_body",
]


@attrs.frozen(slots=True)
class ToolOrOutput:
    """A ``tool_choice`` value: only these function tools, plus output tools or text."""

    function_tools: list[str]


ToolChoice: TypeAlias = ToolChoiceScalar | list[str] | ToolOrOutput | None


class ModelSettings(TypedDict, total=False):
    """Settings for one request; every key is optional and each provider uses the ones it supports.

    Provider-specific keys (``openai_reasoning_effort``, ``anthropic_thinking``...) are accepted too
    and read by the matching model; unknown keys are ignored.

    ``timeout`` is an *inactivity* limit (seconds, or an ``httpx.Timeout``) for one attempt: for a
    stream it bounds the gap between chunks. Total deadlines are the caller's ``trio.fail_after``.
    ``stream_inactivity_timeout`` overrides the gap limit for streams only.

    ``max_response_bytes`` (default 64 MiB) bounds a non-streamed reply's body and any single line or
    event of a stream, counted after decompression; past it the request fails with
    ``ResponseTooLargeError`` and nothing more is read. ``max_error_body_bytes`` (default 1 MiB) is how
    much of an error body is read. Set them on a model (``settings=``) or per call.
    """

    max_tokens: int
    temperature: float
    top_p: float
    top_k: int
    timeout: float | httpx.Timeout
    stream_inactivity_timeout: float
    max_response_bytes: int
    max_error_body_bytes: int
    parallel_tool_calls: bool
    tool_choice: Literal["auto", "none", "required"] | list[str] | ToolOrOutput | None
    seed: int
    presence_penalty: float
    frequency_penalty: float
    logit_bias: dict[str, int]
    stop_sequences: list[str]
    extra_headers: dict[str, str]
    thinking: ThinkingLevel
    service_tier: Literal["auto", "default", "flex", "priority"]
    extra_body: object


def merge_model_settings(base: ModelSettings | None, overrides: ModelSettings | None) -> ModelSettings | None:
    """``base | overrides`` when both are set (overrides win), else whichever is set."""
    if base and overrides:
        return ModelSettings(**{**base, **overrides})  # pyright: ignore[reportArgumentType]
    return overrides or base
