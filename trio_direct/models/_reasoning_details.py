"""The ``reasoning_details`` wire format: reasoning carried as a list of typed details. Pure.

OpenRouter introduced it on Chat Completions and other OpenAI-compatible APIs took it up (Snowflake
Cortex). A detail is ``{"type": "reasoning.text" | "reasoning.summary" | "reasoning.encrypted", "id",
"format", "index", ...}`` with ``text`` (+ ``signature``), ``summary`` or ``data``; ``format`` names the
upstream model's own representation (``anthropic-claude-v1``, ``openai-responses-v1``...), so a detail
goes back unchanged to the host that made it. As pydantic-ai 2.68 (``models/_reasoning_details.py``),
each detail is one :class:`ThinkingPart` whose ``provider_details`` keep ``type``, ``format`` and
``index``, which is what turns it back into the same detail.
"""

from __future__ import annotations

from typing import Any, Final

from ..messages import ThinkingPart
from ._json import JSON, json_dict

__all__ = ["REASONING_DETAIL_TYPES", "detail_fields", "thinking_from_detail", "thinking_to_detail"]

REASONING_DETAIL_TYPES: Final = frozenset({"reasoning.text", "reasoning.summary", "reasoning.encrypted"})


def detail_fields(raw: Any) -> tuple[str, str | None, str, str | None, dict[str, Any]] | None:
    """``(type, id, content, signature, provider_details)`` of one detail; None for something that is
    not a detail of a known type (skipped, so a new detail type does not break a response)."""
    detail = json_dict(raw)
    if detail is None:
        return None
    kind = detail.get("type")
    if kind not in REASONING_DETAIL_TYPES:
        return None
    detail_id = detail.get("id")
    fmt = detail.get("format")
    index = detail.get("index")
    details: dict[str, Any] = {
        "format": fmt if isinstance(fmt, str) else None,
        "index": index if isinstance(index, int) and not isinstance(index, bool) else None,
        "type": kind,
    }
    ident = detail_id if isinstance(detail_id, str) else None
    if kind == "reasoning.text":
        text, signature = detail.get("text"), detail.get("signature")
        return (
            kind,
            ident,
            text if isinstance(text, str) else "",
            signature if isinstance(signature, str) else None,
            details,
        )
    if kind == "reasoning.summary":
        summary = detail.get("summary")
        return kind, ident, summary if isinstance(summary, str) else "", None, details
    data = detail.get("data")
    return kind, ident, "", data if isinstance(data, str) else "", details


def thinking_from_detail(raw: Any, provider_name: str) -> ThinkingPart | None:
    """One detail → a :class:`ThinkingPart` (None when it is not a known detail)."""
    fields = detail_fields(raw)
    if fields is None:
        return None
    _, ident, content, signature, details = fields
    return ThinkingPart(
        content, id=ident, signature=signature, provider_name=provider_name, provider_details=details
    )


def thinking_to_detail(part: ThinkingPart) -> JSON | None:
    """A :class:`ThinkingPart` made from a detail → that detail again; None for other thinking."""
    details = part.provider_details
    if not details or details.get("type") not in REASONING_DETAIL_TYPES:
        return None
    kind = details["type"]
    out: JSON = {"id": part.id, "format": details.get("format"), "index": details.get("index"), "type": kind}
    if kind == "reasoning.text":
        out["text"] = part.content
        out["signature"] = part.signature
    elif kind == "reasoning.summary":
        out["summary"] = part.content
    else:
        if part.signature is None:
            return None  # encrypted reasoning without its data cannot be sent back
        out["data"] = part.signature
    return out
