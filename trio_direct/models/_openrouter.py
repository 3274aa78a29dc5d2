"""OpenRouter's request extensions to Chat Completions beyond its settings: prompt-cache breakpoints
(``cache_control`` on message parts and the last tool), ``video_url`` parts and its server tools.

What pydantic-ai 2.68's ``OpenRouterModel`` sends, on the Chat body :mod:`._chat` has built (plain JSON
in, plain JSON out; pure). The routed provider decides what a breakpoint does (the profile's
``openrouter_*`` cache flags, from the ``vendor/`` of the model name): Anthropic routes take a TTL, a
breakpoint on the last tool and up to 4 breakpoints; Gemini routes take message and instruction
breakpoints, but not one at the very end of the request; others take none (a ``CachePoint`` is dropped,
as on OpenAI).

* ``CachePoint`` in a user prompt marks the part before it; one that opens a message marks the end of
  the previous user message (an empty placeholder part carries it until the whole request is mapped).
* ``openrouter_cache_instructions``: the end of the static instructions (dynamic ones turn it off where
  the system instruction is cached whole); without instructions, the end of the system prompt.
* ``openrouter_cache_messages``: the end of the conversation, and the end of the previous request when
  more than :data:`LOOKBACK_SAFE_BLOCKS` content blocks came after it (Bedrock's lookback).
* ``openrouter_cache_tool_definitions``: the last function tool (server tools go after it).
* Over the routed provider's limit, the oldest message breakpoints go first; an earlier breakpoint's
  TTL is raised to the longest one after it (Anthropic rejects a 1h breakpoint after a 5m one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, cast

from ..exceptions import UserError
from ..tools import InstructionPart
from ._chat_profile import ChatProfile
from ._json import JSON

__all__ = [
    "LOOKBACK_SAFE_BLOCKS",
    "LeadingCachePoint",
    "add_cache_point",
    "apply_cache_settings",
    "place_system_messages_before_generation",
    "server_tools",
    "video_part",
]

CacheTTL = Literal["5m", "1h"]

#: How many content blocks after the previous request's breakpoint the routed provider's lookback
#: reaches for sure (about 20 on Bedrock and the Claude API); past it, that end gets a breakpoint too.
LOOKBACK_SAFE_BLOCKS: Final = 18

_CACHE_POINT_ERROR: Final = (
    "CachePoint cannot be the first content in a user message - there must be previous content to attach "
    "the CachePoint to. To cache system instructions or tool definitions, use the "
    "`openrouter_cache_instructions` or `openrouter_cache_tool_definitions` settings instead."
)


class LeadingCachePoint(dict[str, Any]):
    """The empty text part a ``CachePoint`` opening a user message sits on until
    :func:`apply_cache_settings` moves its ``cache_control`` to the previous user message."""


def place_system_messages_before_generation(messages: list[JSON]) -> None:
    """Move each mid-conversation ``system`` message, in place, past the ``user`` and ``tool`` messages
    that follow it, so it sits right before the next assistant turn or at the end of the request.

    For the Anthropic routes that keep the role (``ChatProfile.system_messages_precede_generation``):
    OpenRouter keeps a ``system`` message there only, and makes one anywhere else user text. It governs
    the same generation either way. Only user and tool messages are passed over, so two system messages
    keep their order; the leading ``system``/``developer`` run (the system prompt and instructions) stays.
    Pure list surgery, as 2.68's ``_place_system_messages_before_generation``.
    """
    leading = next(
        (i for i, m in enumerate(messages) if m["role"] not in ("system", "developer")), len(messages)
    )
    # from the end, so a message moved once is never looked at again
    for index in range(len(messages) - 1, leading - 1, -1):
        if messages[index]["role"] != "system":
            continue
        after = index + 1
        while after < len(messages) and messages[after]["role"] in ("user", "tool"):
            after += 1
        if after > index + 1:
            messages.insert(after - 1, messages.pop(index))


def video_part(url: str) -> JSON:
    """OpenRouter's ``video_url`` content part (a URL or a ``data:`` URI)."""
    return {"type": "video_url", "video_url": {"url": url}}


def cache_control(ttl: CacheTTL | bool, profile: ChatProfile) -> JSON:
    """``{"type": "ephemeral"}``, with the TTL on routes that take one (``True`` is ``'5m'``)."""
    control: JSON = {"type": "ephemeral"}
    if profile.openrouter_cache_ttl:
        control["ttl"] = "5m" if isinstance(ttl, bool) else ttl
    return control


def add_cache_point(parts: list[JSON], ttl: CacheTTL, profile: ChatProfile) -> None:
    """A ``CachePoint`` in a user prompt: ``cache_control`` on the part before it, or on a placeholder
    when it opens the message. Nothing on routes without cache control."""
    if not profile.openrouter_cache_control:
        return
    if not parts:
        parts.append(LeadingCachePoint(type="text", text=""))
    parts[-1]["cache_control"] = cache_control(ttl, profile)


def server_tools(params_native_tools: Sequence[Any]) -> list[JSON]:
    """OpenRouter's server tools for the request's native tools, in 2.68's order: the advisor, then
    web search. Other native tools are not OpenRouter's and are left to the caller.

    Raises:
        UserError: a web search with ``external_web_access=False``, which OpenRouter cannot honour.
    """
    out: list[JSON] = []
    advisor = next((t for t in params_native_tools if getattr(t, "kind", None) == "advisor"), None)
    if advisor is not None:
        settings = _provider_settings(advisor)
        parameters: JSON = {
            "model": getattr(advisor, "model", None),
            "forward_transcript": settings.get("forward_transcript", False),
        }
        if (max_tokens := getattr(advisor, "max_tokens", None)) is not None:
            parameters["max_completion_tokens"] = max_tokens
        out.append({"type": "openrouter:advisor", "parameters": parameters})
    search = next((t for t in params_native_tools if getattr(t, "kind", None) == "web_search"), None)
    if search is not None:
        out.append({"type": "openrouter:web_search", "parameters": _web_search_parameters(search)})
    return out


#: The OpenRouter-only web search options 2.68 forwards from ``provider_settings['openrouter']``.
_WEB_SEARCH_OPTIONS: Final = frozenset(
    {"engine", "mode", "max_results", "max_total_results", "max_characters"}
)


def _provider_settings(tool: Any) -> dict[str, Any]:
    """The tool's ``provider_settings['openrouter']``, or ``{}``."""
    settings: object = getattr(tool, "provider_settings", None)
    if not isinstance(settings, dict):
        return {}
    own: object = cast(dict[str, Any], settings).get("openrouter")
    return cast(dict[str, Any], own) if isinstance(own, dict) else {}


def _web_search_parameters(tool: Any) -> JSON:
    if getattr(tool, "external_web_access", None) is False:
        raise UserError(
            "OpenRouter's web search does not support `external_web_access=False`; "
            "leave it unset to use `WebSearchTool` with OpenRouter."
        )
    parameters: JSON = {"search_context_size": getattr(tool, "search_context_size", "medium")}
    if (location := getattr(tool, "user_location", None)) is not None:
        parameters["user_location"] = {"type": "approximate", **dict(location)}
    if (allowed := getattr(tool, "allowed_domains", None)) is not None:
        parameters["allowed_domains"] = allowed
    if (blocked := getattr(tool, "blocked_domains", None)) is not None:
        parameters["excluded_domains"] = blocked
    if (max_uses := getattr(tool, "max_uses", None)) is not None:
        parameters["max_uses"] = max_uses
    # options this version does not know are ignored, as model settings are
    extra = {k: v for k, v in _provider_settings(tool).items() if k in _WEB_SEARCH_OPTIONS}
    return {**parameters, **extra}


# -- breakpoints -----------------------------------------------------------------------------------


def apply_cache_settings(
    body: JSON,
    instructions: Sequence[InstructionPart],
    settings: dict[str, Any],
    profile: ChatProfile,
    *,
    function_tool_count: int,
) -> None:
    """Place OpenRouter's prompt-cache breakpoints in ``body`` (its ``messages`` and ``tools``), in
    2.68's order: a leading ``CachePoint`` moved back, the conversation, the instructions, the Gemini
    rule for the request's end, the routed provider's limit, the last function tool, the TTL order.

    ``body["tools"]`` holds the function tools first (``function_tool_count`` of them), server tools after.

    Raises:
        UserError: a ``CachePoint`` opens a user message with nothing to attach to, or the instruction
            and tool breakpoints alone exceed the routed provider's limit.
    """
    messages: list[JSON] = body["messages"]
    _move_leading_cache_points(messages)
    supports = profile.openrouter_cache_control
    if messages and supports and (ttl := settings.get("openrouter_cache_messages")):
        roles = [str(m["role"]) for m in messages]
        previous_tail = _previous_tail_needing_breakpoint(roles, [_block_count(m) for m in messages])
        if previous_tail is not None:
            _add_to_message(messages[previous_tail], ttl, profile)
        _add_to_message(messages[-1], ttl, profile)
    if supports and (ttl := settings.get("openrouter_cache_instructions")):
        _cache_instructions(messages, instructions, ttl, profile)
    if not profile.openrouter_trailing_cache_control:
        _move_trailing_cache_control(messages)
    tool_ttl = settings.get("openrouter_cache_tool_definitions")
    tool_point = bool(tool_ttl and function_tool_count and profile.openrouter_tool_cache)
    _limit_cache_points(messages, profile, has_tool_cache_point=tool_point)
    tools: list[JSON] = body.get("tools") or []
    if tool_point:
        tools[function_tool_count - 1]["cache_control"] = cache_control(cast(CacheTTL, tool_ttl), profile)
    _raise_earlier_ttls(tools, messages, profile)


def _move_leading_cache_points(messages: list[JSON]) -> None:
    """A placeholder's ``cache_control`` goes to the closest earlier user message (a longer TTL already
    there is kept); with only tool results and assistant turns before it, it is dropped.

    Raises:
        UserError: only system messages come before it, or the ``CachePoint`` is its message's only content.
    """
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list) or not content or not isinstance(content[0], LeadingCachePoint):
            continue
        placeholder, rest = cast(JSON, content[0]), cast(list[JSON], content[1:])
        earlier = [m for m in messages[:index] if m["role"] not in ("system", "developer")]
        if not earlier or not rest:
            raise UserError(_CACHE_POINT_ERROR)
        target = next((m for m in reversed(earlier) if m["role"] == "user" and m.get("content")), None)
        if target is not None:
            target_content = target["content"]
            if isinstance(target_content, str):
                target["content"] = [
                    {"type": "text", "text": target_content, "cache_control": placeholder["cache_control"]}
                ]
            elif target_content[-1].get("cache_control", {}).get("ttl") != "1h":
                target_content[-1]["cache_control"] = placeholder["cache_control"]
        message["content"] = rest


def _add_to_message(message: JSON, ttl: CacheTTL | bool, profile: ChatProfile) -> None:
    """``cache_control`` on a message's last content part (a string becomes one text part); a
    breakpoint already there stays."""
    content = message.get("content")
    if isinstance(content, str):
        message["content"] = [{"type": "text", "text": content, "cache_control": cache_control(ttl, profile)}]
    elif isinstance(content, list) and content:
        cast(JSON, content[-1]).setdefault("cache_control", cache_control(ttl, profile))


def _block_count(message: JSON) -> int:
    """The content blocks a message becomes downstream: its parts, plus an assistant's tool calls."""
    content = message.get("content")
    count = len(cast(list[object], content)) if isinstance(content, list) else int(bool(content))
    if message["role"] == "assistant":
        count += len(message.get("tool_calls") or [])
    return count


def _previous_tail_needing_breakpoint(roles: Sequence[str], block_counts: Sequence[int]) -> int | None:
    """The message that ended the previous request (the last user-side message before the latest
    assistant turn), when more than :data:`LOOKBACK_SAFE_BLOCKS` blocks follow it; else None."""
    last_assistant = next((i for i in range(len(roles) - 1, -1, -1) if roles[i] == "assistant"), None)
    if last_assistant is None or last_assistant == len(roles) - 1:
        return None  # no assistant turn, or a prefill: nothing newer to move past
    previous_tail = next((i for i in range(last_assistant - 1, -1, -1) if roles[i] != "assistant"), None)
    if previous_tail is None or sum(block_counts[previous_tail + 1 :]) < LOOKBACK_SAFE_BLOCKS:
        return None
    return previous_tail


def _system_prefix_count(messages: Sequence[JSON]) -> int:
    return next(
        (i for i, m in enumerate(messages) if m["role"] not in ("system", "developer")), len(messages)
    )


def _cache_instructions(
    messages: list[JSON], instructions: Sequence[InstructionPart], ttl: CacheTTL | bool, profile: ChatProfile
) -> None:
    """The instruction breakpoint: the end of the static instructions (each instruction is one message at
    the end of the leading system run), or of the system prompt when there are no instructions."""
    if not instructions:
        if count := _system_prefix_count(messages):
            _add_to_message(messages[count - 1], ttl, profile)
        return
    role = profile.system_prompt_role or "system"
    if role not in ("system", "developer"):
        return
    dynamic = any(part.dynamic for part in instructions)
    if dynamic and not profile.openrouter_dynamic_instruction_cache:
        # Gemini caches its system instruction whole: a dynamic tail would make every request a new entry
        return
    prefix = next((i for i, m in enumerate(messages) if m.get("role") != role), len(messages))
    if not profile.openrouter_dynamic_instruction_cache:
        _add_to_message(messages[prefix - 1], ttl, profile)
        return
    static_end = prefix - len(instructions) + sum(1 for part in instructions if not part.dynamic)
    if static_end > 0:
        _add_to_message(messages[static_end - 1], ttl, profile)


def _move_trailing_cache_control(messages: list[JSON]) -> None:
    """Gemini routes: only the last conversation breakpoint is kept, and moved off the request's final part
    and off tool results onto the closest earlier user or assistant message. System messages are not
    touched."""
    carriers = [
        (m_index, p_index, part)
        for m_index, message in enumerate(messages)
        if message["role"] not in ("system", "developer")
        and isinstance(content := message.get("content"), list)
        for p_index, part in enumerate(cast(list[JSON], content))
        if "cache_control" in part
    ]
    if not carriers:
        return
    m_index, p_index, last = carriers[-1]
    control = last["cache_control"]
    for _, _, part in carriers:
        del part["cache_control"]
    message = messages[m_index]
    at_end = m_index == len(messages) - 1 and p_index == len(message["content"]) - 1
    if message["role"] != "tool" and not at_end:
        last["cache_control"] = control
        return
    for earlier in reversed(messages[:m_index]):
        content = earlier.get("content")
        if earlier["role"] in ("user", "assistant") and content:
            if isinstance(content, str):
                earlier["content"] = [{"type": "text", "text": content, "cache_control": control}]
            else:
                cast(list[JSON], content)[-1]["cache_control"] = control
            return


def _limit_cache_points(messages: list[JSON], profile: ChatProfile, *, has_tool_cache_point: bool) -> None:
    """Drop the oldest message breakpoints over the routed provider's limit; the tool breakpoint and the
    first instruction breakpoint are kept, a second instruction one yields first.

    Raises:
        UserError: the kept breakpoints alone exceed the limit.
    """
    max_points = profile.openrouter_max_cache_points
    if max_points is None:
        return
    prefix = _system_prefix_count(messages)
    system_points = [
        part
        for message in messages[:prefix]
        if isinstance(content := message.get("content"), list)
        for part in cast(list[JSON], content)
        if "cache_control" in part
    ]
    reserved = min(len(system_points), 1) + int(has_tool_cache_point)
    optional = list(reversed(system_points[1:]))
    newest_first: Iterable[JSON] = (
        part
        for message in reversed(messages[prefix:])
        if isinstance(content := message.get("content"), list)
        for part in reversed(cast(list[JSON], content))
    )
    budget = max_points - reserved
    if budget < 0:
        raise UserError(
            "Too many cache points for downstream provider. System prompt and tool definitions already use "
            f"{reserved} cache points, which exceeds the maximum of {max_points}."
        )
    excess: list[JSON] = []
    for part in [*newest_first, *optional]:
        if "cache_control" in part:
            if budget > 0:
                budget -= 1
            else:
                excess.append(part)
    for part in excess:
        del part["cache_control"]


def _raise_earlier_ttls(tools: list[JSON], messages: list[JSON], profile: ChatProfile) -> None:
    """Each breakpoint's TTL raised to the longest of those after it (tools, then messages)."""
    if not profile.openrouter_cache_ttl:
        return
    blocks: list[JSON] = [*tools]
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            blocks.extend(cast(list[JSON], content))
    longest: CacheTTL = "5m"
    for carrier in reversed([b for b in blocks if b.get("cache_control")]):
        if carrier["cache_control"].get("ttl", "5m") == "1h":
            longest = "1h"
        elif longest == "1h":
            carrier["cache_control"] = cache_control("1h", profile)
