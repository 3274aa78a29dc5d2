"""A Converse response body → :class:`ModelResponse`, as 2.68 maps it. Pure."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, Final, cast

from ...exceptions import ModelAPIError
from ...messages import (
    FinishReason,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from ...usage import RequestUsage
from .._json import JSON, json_dict, json_list
from ._profile import PROVIDER_NAME, BedrockProfile

# ---------------------------------------------------------------------------------------------
# Responses
# ---------------------------------------------------------------------------------------------

FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "content_filtered": "content_filter",
    "end_turn": "stop",
    "guardrail_intervened": "content_filter",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop",
    "malformed_model_output": "error",
    "malformed_tool_use": "error",
    "tool_use": "tool_call",
}


def map_usage(usage: object) -> RequestUsage:
    """Converse ``usage`` → :class:`RequestUsage` (input tokens include cache reads and writes, as 2.68)."""
    data = json_dict(usage) or {}

    def tokens(key: str) -> int:
        value = data.get(key)
        return value if type(value) is int else 0

    read, write = tokens("cacheReadInputTokens"), tokens("cacheWriteInputTokens")
    # `cacheDetails` splits the cache writes by TTL: 1-hour writes have their own counter, 5-minute ones
    # are the ad-hoc `cache_write_5m_tokens` pydantic-ai (through genai-prices) adds.
    by_ttl: dict[str, int] = {}
    for entry in json_list(data.get("cacheDetails")):
        detail = json_dict(entry) or {}
        ttl, count = detail.get("ttl"), detail.get("inputTokens")
        if isinstance(ttl, str) and type(count) is int:
            by_ttl[ttl] = by_ttl.get(ttl, 0) + count
    extra: dict[str, Any] = {}
    if "5m" in by_ttl:
        extra["cache_write_5m_tokens"] = by_ttl["5m"]
    return RequestUsage(
        input_tokens=tokens("inputTokens") + read + write,
        output_tokens=tokens("outputTokens"),
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=by_ttl.get("1h", 0),
        extra=extra,
    )


def _citation_source(citation: JSON) -> JSON | None:
    title = citation.get("title")
    excerpts = [
        text
        for content in json_list(citation.get("sourceContent"))
        if isinstance(text := (json_dict(content) or {}).get("text"), str) and text
    ]
    url = (json_dict((json_dict(citation.get("location")) or {}).get("web")) or {}).get("url")
    if isinstance(url, str) and url:
        return {"url": url, "title": title, "excerpts": excerpts, "kind": "web"}
    if not (title or excerpts):
        return None
    # where in the document stays in the raw citation (provider_details)
    return {"document_id": None, "title": title, "excerpts": excerpts, "kind": "document"}


def map_citations(citations: Sequence[Any], text: str) -> list[JSON] | None:
    """Bedrock citations → pydantic-ai's ``Citation`` JSON (one covering the whole block), or None."""
    sources = [src for raw in citations if (c := json_dict(raw)) is not None and (src := _citation_source(c))]
    if not sources:
        return None
    anchor = {"start": 0, "end": len(text), "kind": "content"} if text else None
    return [{"sources": sources, "anchor": anchor}]


def redacted_signature(value: object) -> str:
    # Converse sends `redactedContent` as a base64 blob; 2.68 keeps its bytes as UTF-8 text.
    if not isinstance(value, str):
        raise TypeError("redactedContent must be a base64 string")
    return base64.b64decode(value).decode("utf-8")


def _reasoning_part(reasoning: JSON) -> ThinkingPart | None:
    if redacted := reasoning.get("redactedContent"):
        return ThinkingPart(
            "", id="redacted_content", signature=redacted_signature(redacted), provider_name=PROVIDER_NAME
        )
    text = json_dict(reasoning.get("reasoningText"))
    if text:
        signature = text.get("signature")
        return ThinkingPart(
            str(text["text"]),
            signature=signature if isinstance(signature, str) else None,
            provider_name=PROVIDER_NAME if signature else None,
        )
    return None


def _code_execution_call(tool_use: JSON) -> NativeToolCallPart:
    return NativeToolCallPart(
        "code_execution",
        cast(dict[str, Any], tool_use.get("input")),
        str(tool_use["toolUseId"]),
        provider_name=PROVIDER_NAME,
    )


def _code_execution_return(tool_use_id: str, content: object, status: object) -> NativeToolReturnPart:
    items = json_list(content)
    first = json_dict(items[0]) if items else None
    return NativeToolReturnPart(
        "code_execution",
        first.get("json") if first else None,
        tool_use_id,
        provider_name=PROVIDER_NAME,
        provider_details={"status": status} if status is not None else {},
    )


def parse_converse_response(
    data: Any, *, model_name: str, provider_url: str | None, profile: BedrockProfile, response_id: str | None
) -> ModelResponse:
    """A Converse response body (parsed JSON) → :class:`ModelResponse`, as 2.68 maps it.

    Raises:
        ModelAPIError: the body has no ``output``.
        KeyError, TypeError, ValueError: the body has the wrong shape (the caller quotes it).
    """
    if not isinstance(data, dict) or "output" not in data:
        raise ModelAPIError(model_name, "Response has no 'output' field")
    body = cast(JSON, data)
    parts: list[ModelResponsePart] = []
    message = json_dict(cast(JSON, body["output"]).get("message"))
    for raw in json_list(message.get("content")) if message else []:
        item = json_dict(raw)
        if item is None:
            continue
        if (reasoning := json_dict(item.get("reasoningContent"))) and (
            part := _reasoning_part(reasoning)
        ) is not None:
            parts.append(part)
        if text := item.get("text"):
            parts.append(TextPart(str(text)))
        elif cited := json_dict(item.get("citationsContent")):
            joined = "".join(
                str(c.get("text", "")) for c in (json_dict(x) or {} for x in json_list(cited.get("content")))
            )
            raw_citations = json_list(cited.get("citations"))
            citations = map_citations(raw_citations, joined)
            # a block without text makes no part: there is nothing to cite
            if joined:
                parts.append(
                    TextPart(
                        joined,
                        provider_name=PROVIDER_NAME if citations else None,
                        provider_details={"citations": raw_citations} if citations else None,
                        citations=citations,
                    )
                )
        elif tool_use := json_dict(item.get("toolUse")):
            if tool_use.get("type") == "server_tool_use":
                if tool_use.get("name") == "nova_code_interpreter":
                    parts.append(_code_execution_call(tool_use))
            else:
                parts.append(
                    ToolCallPart(
                        str(tool_use["name"]),
                        cast(dict[str, Any], tool_use.get("input")),
                        str(tool_use["toolUseId"]),
                    )
                )
        elif (tool_result := json_dict(item.get("toolResult"))) and tool_result.get(
            "type"
        ) == "nova_code_interpreter_result":
            parts.append(
                _code_execution_return(
                    str(tool_result.get("toolUseId")),
                    tool_result.get("content"),
                    tool_result.get("status"),
                )
            )
    stop_reason = body.get("stopReason")
    details: JSON = {"finish_reason": stop_reason}
    if "trace" in body:
        details["trace"] = body["trace"]
    return ModelResponse(
        parts,
        usage=map_usage(body.get("usage")),
        model_name=model_name,
        provider_response_id=response_id,
        provider_name=PROVIDER_NAME,
        provider_url=provider_url,
        canonical_system="anthropic" if profile.is_claude else None,
        finish_reason=FINISH_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None,
        provider_details=details,
    )
