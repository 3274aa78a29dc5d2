"""Chat Completions profiles: what varies between the models and hosts that speak the same wire.

A :class:`ChatProfile` says which field carries reasoning, ``max_tokens`` or
``max_completion_tokens``, strict tools and so on (pydantic-ai 2.68's profile flags); the functions
below build one from a model name, one per host family. Registry rows for OpenAI-compatible hosts
name one of them (:mod:`trio_direct.models._registry`), so this module stays light: attrs only.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import attrs

__all__ = [
    "DEFAULT_OUTPUT_TOOL_NAME",
    "DEFAULT_THINKING_TAGS",
    "USAGE_CEREBRAS",
    "USAGE_DEEPSEEK",
    "USAGE_OPENAI",
    "ChatProfile",
    "Effort",
    "UsageFlavor",
    "cerebras_profile",
    "deepseek_profile",
    "fireworks_profile",
    "generic_profile",
    "ollama_profile",
    "openai_model_profile",
    "openrouter_profile",
]

Effort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh"]

DEFAULT_THINKING_TAGS: Final = ("<think>", "</think>")
DEFAULT_OUTPUT_TOOL_NAME: Final = "final_result"


@attrs.frozen(slots=True, kw_only=True)
class UsageFlavor:
    """Which optional usage paths a host's price extractor reads (genai-prices' ``chat`` extractors).

    ``input_tokens``, ``output_tokens`` and ``output_reasoning_tokens`` are always read.
    """

    cache_read: bool = True  # prompt_tokens_details.cached_tokens
    input_audio: bool = True  # prompt_tokens_details.audio_tokens
    output_audio: bool = True  # completion_tokens_details.audio_tokens
    cache_write: bool = True  # prompt_tokens_details.cache_write_tokens


USAGE_OPENAI: Final = UsageFlavor()
USAGE_DEEPSEEK: Final = UsageFlavor(input_audio=False)  # also Fireworks
USAGE_CEREBRAS: Final = UsageFlavor(cache_read=False, input_audio=False, output_audio=False)


@attrs.frozen(slots=True, kw_only=True)
class ChatProfile:
    """What varies between models and hosts that speak Chat Completions (pydantic-ai's profile flags).

    Built once per model; every field is read per request, so keep it cheap.
    """

    #: extra message field checked first for reasoning, and the one ``send_back_thinking='field'`` uses
    thinking_field: str | None = None
    #: how ``ThinkingPart``\\ s go back: in their field (``'auto'`` when they came from one), as tags, or not
    send_back_thinking: Literal["auto", "tags", "field", False] = "auto"
    thinking_tags: tuple[str, str] = DEFAULT_THINKING_TAGS
    #: drop whitespace-only text at the start of a streamed text part (Qwen/DeepSeek-R1 style)
    ignore_streamed_leading_whitespace: bool = False
    supports_strict_tools: bool = True
    #: ``max_completion_tokens`` (OpenAI) or ``max_tokens`` (most other hosts)
    supports_max_completion_tokens: bool = True
    system_prompt_role: Literal["system", "developer", "user"] = "system"
    supports_multiple_system_messages: bool = True
    unsupported_settings: frozenset[str] = frozenset()
    supports_file_urls: bool = False
    audio_input_encoding: Literal["base64", "uri"] = "base64"
    supports_document_input: bool = True
    supports_json_schema_output: bool = True
    supports_json_object_output: bool = False
    #: whether unified ``thinking`` reaches the request at all
    supports_thinking: bool = False
    thinking_always_enabled: bool = False
    thinking_enabled_by_default: bool = False
    #: OpenAI reasoning models reject sampling parameters while reasoning
    drops_sampling_while_reasoning: bool = False
    supports_effort_none: bool = False
    supports_minimal_effort: bool = True
    #: the efforts the model accepts, when pinned (``thinking`` maps to the closest)
    reasoning_efforts: frozenset[str] | None = None
    supports_forced_tool_choice: bool = True
    supports_allowed_tools: bool = False
    #: OpenAI's strict-mode schema clean-up (adds ``additionalProperties: false``, infers ``strict``)
    openai_schema: bool = True
    usage: UsageFlavor = USAGE_OPENAI
    #: ``provider_url`` ends with a slash, as the OpenAI SDK's client URL does
    url_trailing_slash: bool = False


# prefix -> (supported, always on, on by default, can be disabled, pinned efforts); first match wins
_Reasoning: TypeAlias = tuple[bool, bool, bool, bool, frozenset[str] | None]
_NO_REASONING: Final[_Reasoning] = (False, False, False, False, None)
_OPT_IN: Final[_Reasoning] = (True, False, False, True, None)
_ON_BY_DEFAULT: Final[_Reasoning] = (True, False, True, True, None)
_ALWAYS: Final[_Reasoning] = (True, True, True, False, None)
_PRO_EFFORTS: Final = frozenset(("medium", "high", "xhigh"))
_REASONING_BY_PREFIX: Final[tuple[tuple[str, _Reasoning], ...]] = (
    ("gpt-6", _ON_BY_DEFAULT),
    ("gpt-5.6", _ON_BY_DEFAULT),
    ("gpt-5.5-pro", (True, True, True, False, _PRO_EFFORTS)),
    ("gpt-5.5", _ON_BY_DEFAULT),
    ("gpt-5.4-pro", (True, True, True, False, _PRO_EFFORTS)),
    ("gpt-5.4", _OPT_IN),
    ("gpt-5.3-chat", (True, True, True, False, frozenset(("medium",)))),
    ("gpt-5.3", _OPT_IN),
    ("gpt-5.2-pro", (True, True, True, False, _PRO_EFFORTS)),
    ("gpt-5.2-chat", (True, True, True, False, frozenset(("medium",)))),
    ("gpt-5.2", _OPT_IN),
    ("gpt-5.1-codex", _ALWAYS),
    ("gpt-5.1-chat", (True, True, True, False, frozenset(("medium",)))),
    ("gpt-5.1", _OPT_IN),
    ("gpt-5-chat", _NO_REASONING),
    ("gpt-5-pro", (True, True, True, False, frozenset(("high",)))),
    ("gpt-5-codex", _ALWAYS),
    ("gpt-5", (True, True, True, False, frozenset(("minimal", "low", "medium", "high")))),
    ("o1", (True, True, True, False, frozenset(("low", "medium", "high")))),
    ("o3", (True, True, True, False, frozenset(("low", "medium", "high")))),
    ("o4", (True, True, True, False, frozenset(("low", "medium", "high")))),
)


def openai_model_profile(model_name: str) -> ChatProfile:
    """The profile of an OpenAI model (also used for OpenAI models served by other hosts)."""
    supported, always, default_on, can_disable, efforts = next(
        (r for prefix, r in _REASONING_BY_PREFIX if model_name.startswith(prefix)), _NO_REASONING
    )
    return ChatProfile(
        # o1-mini rejects the system role (https://github.com/pydantic/pydantic-ai/issues/974)
        system_prompt_role="user" if model_name.startswith("o1-mini") else "system",
        supports_json_object_output=True,
        supports_thinking=supported,
        thinking_always_enabled=always,
        thinking_enabled_by_default=default_on,
        drops_sampling_while_reasoning=supported,
        supports_effort_none=can_disable,
        supports_minimal_effort=not model_name.startswith(("gpt-5.6", "gpt-6")),
        reasoning_efforts=efforts,
        supports_allowed_tools=True,
    )


def _vendor_family_profile(model_name: str, **overrides: Any) -> ChatProfile:
    """A profile for a model served by a third-party host, from the model family its name names."""
    bare = model_name.rsplit("/", 1)[-1].lower()
    if bare.startswith(("gpt-", "o1", "o3", "o4")) and not bare.startswith("gpt-oss"):
        base = openai_model_profile(bare)
        base = attrs.evolve(base, supports_allowed_tools=False)
    elif bare.startswith("gpt-oss"):
        # Harmony models: reasoning in `reasoning`, no forced tool choice
        base = ChatProfile(
            thinking_field="reasoning",
            supports_thinking=True,
            thinking_always_enabled=True,
            supports_forced_tool_choice=False,
            ignore_streamed_leading_whitespace=True,
            openai_schema=False,
            supports_json_object_output=True,
        )
    elif "deepseek-r1" in bare or "qwq" in bare or "qwen3" in bare:
        base = ChatProfile(ignore_streamed_leading_whitespace=True, openai_schema=False)
    else:
        base = ChatProfile(openai_schema=False)
    return attrs.evolve(base, **overrides) if overrides else base


def deepseek_profile(model_name: str) -> ChatProfile:
    reasoner = model_name.startswith("deepseek-reasoner") or model_name.startswith("deepseek-v4")
    return ChatProfile(
        thinking_field="reasoning_content",
        send_back_thinking="field",
        supports_max_completion_tokens=False,
        supports_json_object_output=True,
        supports_json_schema_output=False,
        supports_thinking=True,
        thinking_always_enabled=reasoner,
        supports_forced_tool_choice=not reasoner,
        ignore_streamed_leading_whitespace=reasoner,
        openai_schema=False,
        usage=USAGE_DEEPSEEK,
    )


def openrouter_profile(model_name: str) -> ChatProfile:
    return _vendor_family_profile(
        model_name,
        supports_max_completion_tokens=False,
        thinking_field="reasoning",
        send_back_thinking="field",
        supports_file_urls=True,
        supports_thinking=True,
        thinking_tags=("<thinking>", "</thinking>")
        if model_name.startswith("anthropic/")
        else DEFAULT_THINKING_TAGS,
    )


def ollama_profile(model_name: str) -> ChatProfile:
    return _vendor_family_profile(
        model_name,
        thinking_field="reasoning",
        supports_strict_tools=False,
        supports_json_object_output=True,
        supports_json_schema_output=True,
        supports_max_completion_tokens=True,
        url_trailing_slash=True,
    )


def cerebras_profile(model_name: str) -> ChatProfile:
    return _vendor_family_profile(
        model_name,
        unsupported_settings=frozenset({"logit_bias"}),
        send_back_thinking="tags" if model_name.startswith("zai-glm") else "auto",
        usage=USAGE_CEREBRAS,
    )


def generic_profile(model_name: str) -> ChatProfile:
    return _vendor_family_profile(model_name)


def fireworks_profile(model_name: str) -> ChatProfile:
    return _vendor_family_profile(model_name, usage=USAGE_DEEPSEEK)
