"""The retry path of the Chat-shaped providers (Chat Completions, the Responses API, Hugging Face):
pydantic-ai 2.68's ``prepare_messages`` on a history holding a retry, built from the pure steps of
:mod:`._prepare` on a model's :class:`~trio_direct.models._chat_profile.ChatProfile`.

Its own module rather than :mod:`._prepare` because it reads the announcement text and the request's
instructions (:mod:`._common`, :mod:`._instructions`), which :mod:`._prepare` must not import: the
provider base imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import attrs

from ..messages import ModelMessage, ModelRequest, RetryPromptPart, SystemPromptPart
from ._common import SYSTEM_BLOCKS_ANNOUNCEMENT
from ._instructions import request_instructions
from ._prepare import (
    answers_a_call,
    fit_tool_call_ids,
    is_summary_frame,
    tool_results_first,
    wrap_non_leading_system_prompts,
)

if TYPE_CHECKING:
    from ..tools import ModelRequestParameters
    from ._chat_profile import ChatProfile

__all__ = ["prepare_retry_history"]


def _standing_count(messages: Sequence[ModelMessage]) -> int:
    """How many system prompts the first request opens with (the standing system prompt)."""
    first = next((m for m in messages if isinstance(m, ModelRequest)), None)
    if first is None:
        return 0
    return next(
        (i for i, p in enumerate(first.parts) if not isinstance(p, SystemPromptPart)), len(first.parts)
    )


def _frames_or_system_blocks(messages: Sequence[ModelMessage]) -> bool:
    """Whether a prepared history needs the ``<system>``-blocks announcement on a model without a
    mid-conversation system role: it frames text on the user channel (retry feedback, a summary the
    application wrote) or holds a system prompt past the standing one (which goes out as a block)."""
    standing = _standing_count(messages)
    first = True
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for index, part in enumerate(message.parts):
            if isinstance(part, RetryPromptPart) and part.tool_name is None:
                return True
            if is_summary_frame(part):
                return True
            if isinstance(part, SystemPromptPart) and not (first and index < standing):
                return True
        first = False
    return False


def _announced(messages: Sequence[ModelMessage]) -> bool:
    """Whether the first request already opens with the ``<system>``-blocks announcement."""
    first = next((m for m in messages if isinstance(m, ModelRequest)), None)
    return (
        first is not None
        and bool(first.parts)
        and isinstance(lead := first.parts[0], SystemPromptPart)
        and lead.content == SYSTEM_BLOCKS_ANNOUNCEMENT
    )


def _announcement_first(messages: list[ModelMessage]) -> list[ModelMessage]:
    """The ``<system>``-blocks announcement back at the head of the first request where reordering put
    the results it was placed ahead of first (a history opening with a response): so preparing a
    prepared history changes nothing, where 2.68 (which prepares once) would wrap its own announcement."""
    index, first = next(((i, m) for i, m in enumerate(messages) if isinstance(m, ModelRequest)), (0, None))
    if first is None:
        return messages
    for position, part in enumerate(first.parts):
        if isinstance(part, SystemPromptPart) and part.content == SYSTEM_BLOCKS_ANNOUNCEMENT:
            if position:
                parts = [part, *first.parts[:position], *first.parts[position + 1 :]]
                messages[index] = attrs.evolve(first, parts=parts)
            break
        if not answers_a_call(part):
            break
    return messages


def prepare_retry_history(
    messages: Sequence[ModelMessage], params: ModelRequestParameters, profile: ChatProfile
) -> list[ModelMessage]:
    """What 2.68's ``prepare_messages`` does on the Chat Completions layer to a history holding a retry
    (the only one its direct API prepares), beyond the translation every model gets (pure, idempotent).
    The Responses API and Hugging Face take it too, on their Chat profile.

    In each request after a response, tool results go first, in the order of the calls they answer
    (:func:`tool_results_first`); tool call IDs are fitted where the profile wants a length. On a model
    without a mid-conversation system role (``profile.inline_system_prompts`` off) every system prompt
    past the standing one becomes ``<system>`` user text, and where the history frames text on the user
    channel or had such a prompt, the first request opens with the announcement of what those blocks
    mean, if there is a standing system prompt or instructions for it to join (so it goes out ahead of
    them, and the application's own text keeps the last word in the system prompt).
    """
    # whether the history opens with a standing system prompt is decided before the reorder (as 2.68
    # decides it): in a history opening with a response, results move ahead of that prompt
    opened_with_system = bool(_standing_count(messages))
    messages = _announcement_first(tool_results_first(messages))
    if profile.tool_call_id_length is not None:
        messages = fit_tool_call_ids(messages, profile.tool_call_id_length)
    if profile.inline_system_prompts:
        return messages
    needed = _frames_or_system_blocks(messages)
    messages = wrap_non_leading_system_prompts(messages)
    if (
        needed
        and not _announced(messages)
        and (opened_with_system or _standing_count(messages) or request_instructions(messages, params))
    ):
        index, first = next((i, m) for i, m in enumerate(messages) if isinstance(m, ModelRequest))
        announcement = SystemPromptPart(SYSTEM_BLOCKS_ANNOUNCEMENT)
        if first.timestamp is not None:
            announcement = attrs.evolve(announcement, timestamp=first.timestamp)
        messages[index] = attrs.evolve(first, parts=[announcement, *first.parts])
    return messages
