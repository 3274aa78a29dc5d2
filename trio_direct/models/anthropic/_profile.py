"""Anthropic: settings, constants and the per-model profile pydantic-ai 2.68 keys its behaviour on. Pure."""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import attrs

from ...settings import ModelSettings
from .._claude import (
    CLAUDE_ADAPTIVE_THINKING,
    CLAUDE_EFFORT,
    CLAUDE_INLINE_SYSTEM_PROMPTS,
    CLAUDE_JSON_SCHEMA_OUTPUT,
    CLAUDE_LEGACY_MAX_TOKENS,
    CLAUDE_MAX_OUTPUT_128K,
    CLAUDE_NO_FORCED_TOOL_CHOICE,
    CLAUDE_THINKING_ALWAYS,
    CLAUDE_THINKING_BY_DEFAULT,
    CLAUDE_XHIGH_EFFORT,
)
from .._json import JSON as JSON

#: The ``anthropic-version`` header: the long-standing documented API version.
ANTHROPIC_VERSION: Final = "2023-06-01"
DEFAULT_BASE_URL: Final = "https://api.anthropic.com"
PROVIDER_NAME: Final = "anthropic"

CacheTTL: TypeAlias = Literal["5m", "1h"]


class AnthropicModelSettings(ModelSettings, total=False):
    """``ModelSettings`` plus the Anthropic keys (all prefixed ``anthropic_``, so they merge with others).

    Attributes:
        anthropic_metadata: the request's ``metadata`` (``{"user_id": ...}``).
        anthropic_thinking: the ``thinking`` object verbatim (``{"type": "enabled", "budget_tokens": 2048}``,
            ``{"type": "adaptive"}``, ``{"type": "disabled"}``); wins over the unified ``thinking``.
        anthropic_effort: ``output_config.effort`` (``low``/``medium``/``high``/``xhigh``/``max``).
        anthropic_cache: automatic caching, a top-level ``cache_control`` (``True`` = 5 minutes).
        anthropic_cache_instructions: a breakpoint on the last system block.
        anthropic_cache_tool_definitions: a breakpoint on the last tool definition.
        anthropic_cache_messages: a breakpoint on the last block of the last message.
        anthropic_service_tier: ``service_tier`` (``auto`` / ``standard_only``); wins over ``service_tier``.
        anthropic_betas: more names for the ``anthropic-beta`` header.
        anthropic_eager_input_streaming: ``eager_input_streaming`` on every tool definition.
        anthropic_context_management: ``context_management`` verbatim (server-side compaction edits).
    """

    anthropic_metadata: dict[str, Any]
    anthropic_thinking: dict[str, Any]
    anthropic_effort: Literal["low", "medium", "high", "xhigh", "max"] | None
    anthropic_cache: bool | CacheTTL
    anthropic_cache_instructions: bool | CacheTTL
    anthropic_cache_tool_definitions: bool | CacheTTL
    anthropic_cache_messages: bool | CacheTTL
    anthropic_service_tier: Literal["auto", "standard_only"]
    anthropic_betas: list[str]
    anthropic_eager_input_streaming: bool
    anthropic_context_management: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Model profile: the per-model facts pydantic-ai 2.68 keys its behaviour on
# ---------------------------------------------------------------------------------------------


def _starts(name: str, *prefixes: str) -> bool:
    return name.startswith(prefixes)


_ADAPTIVE: Final = CLAUDE_ADAPTIVE_THINKING
_EFFORT: Final = CLAUDE_EFFORT
_XHIGH: Final = CLAUDE_XHIGH_EFFORT
JSON_SCHEMA_OUTPUT: Final = CLAUDE_JSON_SCHEMA_OUTPUT
_MAX_OUTPUT_128K: Final = CLAUDE_MAX_OUTPUT_128K
_LEGACY_MAX_TOKENS: Final = CLAUDE_LEGACY_MAX_TOKENS
_THINKING_BY_DEFAULT: Final = CLAUDE_THINKING_BY_DEFAULT
_THINKING_ALWAYS: Final = CLAUDE_THINKING_ALWAYS
_INLINE_SYSTEM_PROMPTS: Final = CLAUDE_INLINE_SYSTEM_PROMPTS
_NO_FORCED_TOOL_CHOICE: Final = CLAUDE_NO_FORCED_TOOL_CHOICE


@attrs.frozen(slots=True)
class AnthropicProfile:
    """What pydantic-ai 2.68's Anthropic profile says about a model name (prefix rules, as upstream)."""

    max_output_tokens: int | None
    legacy_max_tokens: bool
    adaptive_thinking: bool
    effort: bool
    xhigh_effort: bool
    max_effort: bool
    disallows_budget_thinking: bool
    disallows_sampling: bool
    thinking_by_default: bool
    thinking_always: bool
    disables_thinking_with_between_tools: bool
    json_schema_output: bool
    forced_tool_choice: bool
    inline_system_prompts: bool
    sealed_system_blocks: bool

    @classmethod
    def for_model(cls, name: str) -> AnthropicProfile:
        if _starts(name, *_MAX_OUTPUT_128K):
            max_output: int | None = 128_000
        elif _starts(name, "claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5"):
            max_output = 64_000
        else:
            max_output = None
        no_sampling = _XHIGH  # the same model list in 2.68
        return cls(
            max_output_tokens=max_output,
            legacy_max_tokens=name in ("claude-opus-4", "claude-sonnet-4")
            or _starts(name, *_LEGACY_MAX_TOKENS),
            adaptive_thinking=_starts(name, *_ADAPTIVE),
            effort=_starts(name, *_EFFORT),
            xhigh_effort=_starts(name, *_XHIGH),
            max_effort=not name.startswith("claude-opus-4-5"),
            disallows_budget_thinking=_starts(name, *_XHIGH),
            disallows_sampling=_starts(name, *no_sampling),
            thinking_by_default=_starts(name, *_THINKING_BY_DEFAULT),
            thinking_always=_starts(name, *_THINKING_ALWAYS),
            disables_thinking_with_between_tools=name.startswith("claude-sonnet-5-5"),
            json_schema_output=_starts(name, *JSON_SCHEMA_OUTPUT),
            forced_tool_choice=not _starts(name, *_NO_FORCED_TOOL_CHOICE),
            inline_system_prompts=_starts(name, *_INLINE_SYSTEM_PROMPTS),
            sealed_system_blocks=_starts(name, "claude-sonnet-4-6", "claude-sonnet-5-5", "claude-haiku-5-5"),
        )
