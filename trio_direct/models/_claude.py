"""Claude model families: the prefix tables pydantic-ai 2.68's Anthropic profile keys its behaviour on.

One home for what the Anthropic Messages dialect (``anthropic:``) and Bedrock Converse (Claude on
``bedrock:``) both read. Bare model names (``claude-opus-4-6``, no vendor or version decoration), matched
with ``str.startswith``. Pure data.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CLAUDE_ADAPTIVE_THINKING",
    "CLAUDE_EFFORT",
    "CLAUDE_INLINE_SYSTEM_PROMPTS",
    "CLAUDE_JSON_SCHEMA_OUTPUT",
    "CLAUDE_LEGACY_MAX_TOKENS",
    "CLAUDE_MAX_OUTPUT_128K",
    "CLAUDE_NO_FORCED_TOOL_CHOICE",
    "CLAUDE_THINKING_ALWAYS",
    "CLAUDE_THINKING_BY_DEFAULT",
    "CLAUDE_XHIGH_EFFORT",
]

#: adaptive thinking (``thinking: {"type": "adaptive"}``) rather than a token budget
CLAUDE_ADAPTIVE_THINKING: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-mythos-preview", "claude-sonnet-4-6", "claude-sonnet-5",
    "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-haiku-5-5",
)  # fmt: skip
#: ``output_config.effort``
CLAUDE_EFFORT: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7",
    "claude-opus-4-8", "claude-opus-5", "claude-sonnet-4-6", "claude-sonnet-5", "claude-haiku-5-5",
)  # fmt: skip
#: the ``xhigh`` effort (also: no budget thinking, and no sampling settings, in 2.68's lists)
CLAUDE_XHIGH_EFFORT: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5",
    "claude-sonnet-5", "claude-haiku-5-5",
)  # fmt: skip
#: native JSON-schema output
CLAUDE_JSON_SCHEMA_OUTPUT: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-6",
    "claude-opus-4-1", "claude-opus-4-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8",
    "claude-opus-5", "claude-sonnet-5", "claude-haiku-5-5",
)  # fmt: skip
#: a 128,000-token output budget
CLAUDE_MAX_OUTPUT_128K: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8",
    "claude-opus-5", "claude-sonnet-4-6", "claude-sonnet-5", "claude-haiku-5-5",
)  # fmt: skip
#: older models with the legacy default ``max_tokens``
CLAUDE_LEGACY_MAX_TOKENS: Final = (
    "claude-3", "claude-4-", "claude-opus-4-0", "claude-opus-4-1", "claude-opus-4-2", "claude-opus-4@",
    "claude-sonnet-4-0", "claude-sonnet-4-2", "claude-sonnet-4@",
)  # fmt: skip
#: thinking on unless turned off
CLAUDE_THINKING_BY_DEFAULT: Final = (
    "claude-fable-5", "claude-mythos-5", "claude-mythos-preview", "claude-opus-5", "claude-sonnet-5",
    "claude-haiku-5-5",
)  # fmt: skip
#: thinking that cannot be turned off
CLAUDE_THINKING_ALWAYS: Final = (
    "claude-fable-5",
    "claude-mythos-5",
    "claude-mythos-preview",
    "claude-opus-5-5",
)
#: system prompts allowed inline, mid-conversation
CLAUDE_INLINE_SYSTEM_PROMPTS: Final = (
    "claude-fable-5",
    "claude-mythos-5",
    "claude-opus-4-8",
    "claude-opus-5",
)
#: no forced ``tool_choice``
CLAUDE_NO_FORCED_TOOL_CHOICE: Final = (
    "claude-fable-5-1", "claude-fable-5-2", "claude-mythos-5-1", "claude-mythos-5-2", "claude-opus-5-5",
    "claude-sonnet-5-5",
)  # fmt: skip
