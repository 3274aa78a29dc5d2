"""Chat Completions profiles: what varies between the models and hosts that speak the same wire.

A :class:`ChatProfile` says which field carries reasoning, ``max_tokens`` or
``max_completion_tokens``, strict tools and so on (pydantic-ai 2.68's profile flags); the functions
below build one from a model name, one per host family. Registry rows for OpenAI-compatible hosts
name one of them (:mod:`trio_direct.models._registry`), so this module stays light: attrs only.
"""

from __future__ import annotations

from typing import Any, Final, Literal, TypeAlias

import attrs

from ._claude import CLAUDE_INLINE_SYSTEM_PROMPTS

__all__ = [
    "DEFAULT_OUTPUT_TOOL_NAME",
    "DEFAULT_THINKING_TAGS",
    "USAGE_CEREBRAS",
    "USAGE_DEEPSEEK",
    "USAGE_OPENAI",
    "ChatProfile",
    "Effort",
    "UsageFlavor",
    "azure_profile",
    "cerebras_profile",
    "crusoe_profile",
    "deepseek_profile",
    "fireworks_profile",
    "generic_profile",
    "github_profile",
    "heroku_profile",
    "moonshotai_profile",
    "ollama_profile",
    "openai_model_profile",
    "openrouter_profile",
    "sambanova_profile",
    "snowflake_profile",
    "vllm_profile",
    "zai_profile",
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
    #: reasoning comes (and goes back) as a ``reasoning_details`` list (OpenRouter, Snowflake Cortex)
    reasoning_details: bool = False
    #: OpenRouter's extensions: ``openrouter_*`` settings and ``reasoning`` in the body, the routed
    #: provider, cost and BYOK in ``provider_details``, ``error`` objects inside a 200
    openrouter_extensions: bool = False
    #: OpenRouter's ``video_url`` content part for ``VideoUrl`` and video ``BinaryContent``
    video_url_parts: bool = False
    #: OpenRouter passes ``cache_control`` on message parts to the routed provider (Anthropic, Gemini):
    #: ``CachePoint`` and the ``openrouter_cache_instructions``/``_messages`` settings take effect
    openrouter_cache_control: bool = False
    #: a breakpoint may end the request (not on Gemini routes, where it doubles the billed prompt)
    openrouter_trailing_cache_control: bool = True
    #: ``cache_control`` carries a ``ttl`` (Anthropic routes)
    openrouter_cache_ttl: bool = False
    #: ``openrouter_cache_tool_definitions`` marks the last function tool (Anthropic routes)
    openrouter_tool_cache: bool = False
    #: the static instructions are cached ahead of dynamic ones (else dynamic instructions turn
    #: instruction caching off: Gemini caches its system instruction whole)
    openrouter_dynamic_instruction_cache: bool = False
    #: the routed provider's limit on breakpoints per request (None: no limit)
    openrouter_max_cache_points: int | None = None
    #: a mid-conversation ``system`` message is moved past the user and tool messages after it, to just
    #: before the next assistant turn or the end of the request (OpenRouter's Anthropic routes that keep
    #: the role: elsewhere OpenRouter turns it into user text)
    system_messages_precede_generation: bool = False
    #: the model takes a ``system`` message mid-conversation (2.68's ``supports_inline_system_prompts``,
    #: False unless a profile says so). Without it, a history the direct API prepares (one holding a
    #: retry) sends each mid-conversation system prompt as ``<system>``-tagged user text, with the
    #: announcement of what those blocks mean ahead of the standing system prompt
    inline_system_prompts: bool = False
    #: tool call IDs must be exactly this many ASCII alphanumerics (Mistral's chat template: 9); others
    #: are replaced with stable hashes in a history the direct API prepares (one holding a retry)
    tool_call_id_length: int | None = None
    #: finish reasons the host sends beyond OpenAI's, and what they mean (Z.AI's ``sensitive``...)
    extra_finish_reasons: tuple[tuple[str, str], ...] = ()
    #: a missing or empty ``finish_reason`` is ``tool_call`` when the reply calls tools (Snowflake)
    finish_from_parts: bool = False
    #: Z.AI's ``thinking: {type, clear_thinking}`` object instead of ``reasoning_effort`` for unified
    #: ``thinking`` (``zai_clear_thinking`` setting)
    zai_thinking: bool = False
    #: GLM-5.2+ also take ``reasoning_effort`` for an effort level, with these substitutions
    zai_efforts: tuple[tuple[str, str], ...] | None = None
    #: unified ``thinking`` goes out as a ``reasoning: {effort}`` object (Snowflake Cortex's Claude;
    #: ``snowflake_reasoning`` overrides), with ``temperature`` 1 unless set
    reasoning_object: bool = False


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
        inline_system_prompts=True,
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
            # 2.68 builds a gpt-oss profile on a host from OpenAI's, which has the role
            inline_system_prompts=True,
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
    # the routed provider decides what caching does (2.68's OpenRouterProvider.model_profile)
    vendor = model_name.removeprefix("~").partition("/")[0]
    anthropic_cache = vendor == "anthropic"
    bare = model_name.partition("/")[2].partition(":")[0].lower()
    # OpenRouter keeps a mid-conversation system message as one only on the Claude models Anthropic
    # serves the role on (named with dots here: `claude-opus-4.8`), and only right before generation
    inline_system = vendor == "anthropic" and bare.replace(".", "-").startswith(CLAUDE_INLINE_SYSTEM_PROMPTS)
    # and 2.68 sends one as a system message on OpenAI's routes too (but not to gpt-oss, whose chat
    # template has no such turn); elsewhere it is `<system>` user text on the prepared path
    inline_route = inline_system or (vendor == "openai" and not bare.startswith("gpt-oss-"))
    # 2.68 puts OpenAI's strict-mode schema transformer under every routed profile that does not bring
    # its own (Gemini's, or the inline-$defs one of Llama, Qwen, Nova and GLM-5.3)
    own_transformer = vendor in ("google", "meta-llama", "qwen", "amazon") or (
        vendor == "z-ai" and bare.startswith("glm-5.3")
    )
    return _vendor_family_profile(
        model_name,
        openai_schema=not own_transformer,
        video_url_parts=True,
        openrouter_cache_control=vendor in ("anthropic", "google"),
        openrouter_trailing_cache_control=vendor != "google",
        openrouter_cache_ttl=anthropic_cache,
        openrouter_tool_cache=anthropic_cache,
        openrouter_dynamic_instruction_cache=anthropic_cache,
        openrouter_max_cache_points=4 if anthropic_cache else None,
        system_messages_precede_generation=inline_system,
        inline_system_prompts=inline_route,
        tool_call_id_length=9 if vendor == "mistralai" else None,
        reasoning_details=True,
        openrouter_extensions=True,
        extra_finish_reasons=(("error", "error"),),
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
    # 2.68 gives Fireworks' gpt-oss its schema profile, not OpenAI's: no mid-conversation system role
    return _vendor_family_profile(model_name, usage=USAGE_DEEPSEEK, inline_system_prompts=False)


def sambanova_profile(model_name: str) -> ChatProfile:
    """SambaNova: the family's profile; 2.68 builds none of them (gpt-oss included) from OpenAI's, so
    no model has a mid-conversation system role."""
    return _vendor_family_profile(model_name, inline_system_prompts=False)


def github_profile(model_name: str) -> ChatProfile:
    """GitHub Models: the family's profile; 2.68 takes a bare name and ``microsoft/`` for OpenAI's (with
    its mid-conversation system role) and has no profile for ``openai/`` names (no such role)."""
    vendor = model_name.lower().partition("/")[0] if "/" in model_name else None
    return _vendor_family_profile(model_name, inline_system_prompts=vendor in (None, "microsoft"))


# Z.AI's GLM finish reasons beyond OpenAI's (2.68's ``_ZAI_FINISH_REASON_MAP``)
_ZAI_FINISH_REASONS: Final = (
    ("sensitive", "content_filter"),
    ("model_context_window_exceeded", "length"),
    ("network_error", "error"),
)
_GLM_5_3_EFFORTS: Final = (("minimal", "low"), ("medium", "high"), ("xhigh", "max"))


def _glm_profile(bare: str, **overrides: Any) -> ChatProfile | None:
    """Z.AI's GLM family (``glm-4.5`` and later think; GLM-5.2+ take an effort; GLM-5.3 always thinks)."""
    if not bare.startswith(("glm-5", "glm-4.7", "glm-4.6", "glm-4.5")):
        return None
    efforts: tuple[tuple[str, str], ...] | None = None
    if bare.startswith("glm-5.3"):
        efforts = _GLM_5_3_EFFORTS
    elif bare.startswith("glm-5.2"):
        efforts = ()
    return ChatProfile(
        supports_thinking=True,
        thinking_always_enabled=bare.startswith("glm-5.3"),
        zai_efforts=efforts,
        openai_schema=False,
        **overrides,
    )


def zai_profile(model_name: str) -> ChatProfile:
    """Z.AI (2.68's ``ZaiProvider``): reasoning in ``reasoning_content`` and sent back in it, JSON
    mode, the ``thinking`` object, GLM finish reasons."""
    common: dict[str, Any] = {
        "thinking_field": "reasoning_content",
        "send_back_thinking": "field",
        "supports_json_object_output": True,
        "zai_thinking": True,
        "extra_finish_reasons": _ZAI_FINISH_REASONS,
    }
    glm = _glm_profile(model_name.lower(), **common)
    return glm if glm is not None else ChatProfile(openai_schema=True, **common)


def crusoe_profile(model_name: str) -> ChatProfile:
    """Crusoe: the family named by the vendor prefix; guided decoding makes every model take
    ``json_schema`` and ``json_object`` output (2.68)."""
    vendor, _, bare = model_name.lower().partition("/")
    base: ChatProfile | None = None
    if vendor in ("zai", "zai-org"):
        base = _glm_profile(bare)
    elif vendor == "deepseek-ai":
        base = deepseek_profile(bare)
    if base is None:
        base = _vendor_family_profile(model_name)
    # 2.68 gives Crusoe's gpt-oss the Harmony profile, not OpenAI's: no mid-conversation system role
    return attrs.evolve(
        base, supports_json_schema_output=True, supports_json_object_output=True, inline_system_prompts=False
    )


def snowflake_profile(model_name: str) -> ChatProfile:
    """Snowflake Cortex: no ``strict`` on tools, ``reasoning_details``, a missing finish reason read
    from the parts; Claude takes ``json_schema`` only and thinks through a ``reasoning`` object (2.68)."""
    lower = model_name.lower()
    common: dict[str, Any] = {
        "supports_strict_tools": False,
        "reasoning_details": True,
        "finish_from_parts": True,
    }
    if lower.startswith("claude"):
        return ChatProfile(
            supports_json_schema_output=True,
            supports_json_object_output=False,
            supports_thinking=True,
            reasoning_object=True,
            openai_schema=False,
            **common,
        )
    if lower.startswith("openai-"):
        return attrs.evolve(openai_model_profile(lower.removeprefix("openai-")), **common)
    return _vendor_family_profile(model_name, **common)


def heroku_profile(model_name: str) -> ChatProfile:
    """Heroku Managed Inference: bare names of several families, each with its family's quirks."""
    lower = model_name.lower()
    if lower.startswith("glm"):
        glm = _glm_profile(lower)
        if glm is not None:
            return attrs.evolve(glm, openai_schema=True)
    return attrs.evolve(_vendor_family_profile(model_name), openai_schema=True)


def moonshotai_profile(model_name: str) -> ChatProfile:
    """Moonshot AI (Kimi): no forced tool choice, reasoning in ``reasoning_content`` and sent back in
    it, JSON mode, thinking on the Kimi K2.5+/thinking models (2.68)."""
    reasoning = model_name.lower().startswith(
        ("kimi-k2.5", "kimi-k2.6", "kimi-k2.7", "kimi-k2-thinking", "kimi-k3", "kimi-thinking")
    )
    return ChatProfile(
        supports_forced_tool_choice=False,
        thinking_field="reasoning_content",
        send_back_thinking="field",
        supports_json_object_output=True,
        supports_thinking=reasoning,
        ignore_streamed_leading_whitespace=True,
    )


def vllm_profile(model_name: str) -> ChatProfile:
    """vLLM: reasoning in ``reasoning_content`` (its reasoning parsers), no ``strict`` guarantee."""
    return _vendor_family_profile(model_name, thinking_field="reasoning_content")


def azure_profile(model_name: str) -> ChatProfile:
    """Azure OpenAI / AI Foundry (2.68's ``AzureProvider``): OpenAI models by their bare names, other
    families by prefix; Chat Completions takes no document input; Mistral wants ``max_tokens``."""
    lower = model_name.lower()
    if lower.startswith(
        ("llama", "meta-", "deepseek", "mistral", "ministral", "magistral", "cohere-", "grok")
    ):
        base = _vendor_family_profile(lower.removeprefix("meta-").removeprefix("cohere-"))
        if lower.startswith(("mistral", "ministral", "magistral")):
            base = attrs.evolve(base, supports_max_completion_tokens=False)
    else:
        base = openai_model_profile(model_name)
    return attrs.evolve(base, supports_document_input=False)
