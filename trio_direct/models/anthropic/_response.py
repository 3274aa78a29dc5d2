"""Anthropic: a 200 Messages body → :class:`ModelResponse` (usage, finish reasons, parts). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import orjson

from ...exceptions import (
    UnexpectedModelBehavior,
)
from ...messages import (
    CompactionPart,
    FinishReason,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from ...tools import ModelRequestParameters
from ...usage import RequestUsage, gateway_usage_cost
from .._json import JSON as JSON
from .._json import int_or_none, json_array, json_dict, json_list, json_str
from ._profile import PROVIDER_NAME
from ._request import CODE_EXECUTION_NAMES

# ---------------------------------------------------------------------------------------------
# Responses: usage, finish reasons, parts
# ---------------------------------------------------------------------------------------------

FINISH_REASONS: Final[dict[str, FinishReason | None]] = {
    "compaction": "stop",
    "end_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "stop_sequence": "stop",
    "tool_use": "tool_call",
    "pause_turn": None,
    "refusal": "content_filter",
}
_TOKEN_KEYS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def usage_details(usage: Mapping[str, Any], *, message_usage: bool) -> dict[str, int]:
    """The flat ``details`` of one usage object (``message_usage``: a message's, with the cache split)."""
    details: dict[str, int] = {}
    for key in _TOKEN_KEYS:
        if (value := int_or_none(usage.get(key))) is not None:
            details[key] = value
    cache_creation = usage.get("cache_creation")
    if (
        message_usage
        and (cache_split := json_dict(cache_creation)) is not None
        and (one_hour := int_or_none(cache_split.get("ephemeral_1h_input_tokens")))
    ):
        details["ephemeral_1h_input_tokens"] = one_hour
    output_details = usage.get("output_tokens_details")
    if (output_dict := json_dict(output_details)) is not None and (
        thinking := int_or_none(output_dict.get("thinking_tokens"))
    ):
        details["thinking_tokens"] = thinking
    server_tool_use = usage.get("server_tool_use")
    if (server_dict := json_dict(server_tool_use)) is not None and (
        searches := int_or_none(server_dict.get("web_search_requests"))
    ):
        details["web_search_requests"] = searches
    if iterations := json_list(usage.get("iterations")):
        details.update(_iteration_details(iterations))
    return details


def _iteration_details(iterations: list[Any]) -> dict[str, int]:
    items = [d for it in iterations if (d := json_dict(it)) is not None]
    compaction = [it for it in items if it.get("type") == "compaction"]
    advisor = [it for it in items if it.get("type") == "advisor_message"]
    if not compaction and not advisor:
        return {}
    details = {"message_iterations": len(iterations) - len(compaction) - len(advisor)}
    for kind, group in (("compaction", compaction), ("advisor", advisor)):
        if not group:
            continue
        details[f"{kind}_iterations"] = len(group)
        for key in _TOKEN_KEYS:
            if total := sum(int_or_none(it.get(key)) or 0 for it in group):
                details[f"{kind}_{key}"] = total
        if kind == "compaction":
            one_hour = 0
            for it in group:
                cache_creation = it.get("cache_creation")
                if (split := json_dict(cache_creation)) is not None:
                    one_hour += int_or_none(split.get("ephemeral_1h_input_tokens")) or 0
            if one_hour:
                details["compaction_ephemeral_1h_input_tokens"] = one_hour
    return details


def map_usage(details: dict[str, int], *, cost: Decimal | None = None) -> RequestUsage:
    """A :class:`RequestUsage` from merged usage details, as genai-prices' Anthropic extractor maps them.

    ``input_tokens`` includes cache reads and writes; compaction iterations are added back in; advisor
    iterations stay in ``details`` only. ``details`` is stored as given (after capping the one-hour
    cache-write count at the cache-write total). ``cost`` is the one a Pydantic AI Gateway reported in
    the usage object (:func:`~trio_direct.usage.gateway_usage_cost`), kept even where the counts are not.
    """
    if "ephemeral_1h_input_tokens" in details:
        if capped := min(details["ephemeral_1h_input_tokens"], details.get("cache_creation_input_tokens", 0)):
            details["ephemeral_1h_input_tokens"] = capped
        else:
            del details["ephemeral_1h_input_tokens"]
    get = details.get
    if "input_tokens" not in details or "output_tokens" not in details:
        # upstream cannot extract it either and leaves zeros (but keeps the Gateway's cost)
        return RequestUsage(details=details, cost=cost)
    cache_write = get("cache_creation_input_tokens", 0) + get("compaction_cache_creation_input_tokens", 0)
    cache_read = get("cache_read_input_tokens", 0) + get("compaction_cache_read_input_tokens", 0)
    usage = RequestUsage(
        input_tokens=details["input_tokens"] + get("compaction_input_tokens", 0) + cache_write + cache_read,
        output_tokens=details["output_tokens"] + get("compaction_output_tokens", 0),
        cache_write_tokens=cache_write,
        cache_read_tokens=cache_read,
        cache_write_1h_tokens=get("ephemeral_1h_input_tokens", 0)
        + get("compaction_ephemeral_1h_input_tokens", 0),
        output_reasoning_tokens=get("thinking_tokens", 0),
        details=details,
        cost=cost,
    )
    if searches := get("web_search_requests"):
        usage.extra["web_searches"] = searches
    return usage


def last_pass_input_tokens(usage: Mapping[str, Any]) -> int | None:
    """The input tokens (cache included) of the last sampling pass, when the usage reports its ``iterations``.

    A server-side tool loop or a compaction samples the model more than once and the top-level usage sums
    the passes; pydantic-ai stamps the last pass's input on the response as its context size.
    """
    for it in reversed(json_list(usage.get("iterations"))):
        if (it_dict := json_dict(it)) is not None and it_dict.get("type") in ("message", "fallback_message"):
            get = it_dict.get
            return sum(
                int_or_none(get(k)) or 0
                for k in ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
            )
    return None


def context_metadata(usage: object) -> dict[str, Any] | None:
    usage_dict = json_dict(usage)
    if usage_dict is None:
        return None
    tokens = last_pass_input_tokens(usage_dict)
    return None if tokens is None else {"__pydantic_ai__": {"context_input_tokens": tokens}}


def _citation_sources(citations: Sequence[Any], fetched_pages: Sequence[tuple[str, str]]) -> list[JSON]:
    sources: list[JSON] = []
    for raw in citations:
        c = json_dict(raw)
        if c is None:
            continue
        kind = c.get("type")
        cited = c.get("cited_text")
        excerpts = [cited] if isinstance(cited, str) and cited else []
        if kind == "web_search_result_location":
            sources.append(
                {"url": c.get("url"), "title": c.get("title"), "excerpts": excerpts, "kind": "web"}
            )
        elif kind in ("char_location", "page_location", "content_block_location"):
            url = None
            if kind == "char_location" and excerpts:
                start, end = int_or_none(c.get("start_char_index")), int_or_none(c.get("end_char_index"))
                if start is not None and end is not None:
                    urls = {u for u, page in fetched_pages if page[start:end] == cited}
                    url = next(iter(urls)) if len(urls) == 1 else None
            if url is not None:
                sources.append(
                    {"url": url, "title": c.get("document_title"), "excerpts": excerpts, "kind": "web"}
                )
            elif c.get("file_id") or c.get("document_title") or excerpts:
                sources.append(
                    {
                        "document_id": c.get("file_id"),
                        "title": c.get("document_title"),
                        "excerpts": excerpts,
                        "kind": "document",
                    }
                )
    return sources


def map_citations(
    citations: Sequence[Any], text: str, fetched_pages: Sequence[tuple[str, str]] = ()
) -> list[JSON] | None:
    """The part's ``citations`` (pydantic-ai's ``Citation`` JSON shape), or None when nothing is cited.

    Anthropic cites whole text blocks, so one citation covers the whole part.
    """
    sources = _citation_sources(citations, fetched_pages)
    if not sources:
        return None
    anchor = {"start": 0, "end": len(text), "kind": "content"} if text else None
    return [{"sources": sources, "anchor": anchor}]


def fetched_page(block: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (url, text) of a page web fetch read, from a ``web_fetch_tool_result`` block."""
    content = block.get("content")
    c = json_dict(content)
    if c is None:
        return None
    document, url = c.get("content"), c.get("url")
    document_dict = json_dict(document)
    if c.get("type") != "web_fetch_result" or not isinstance(url, str) or document_dict is None:
        return None
    source = json_dict(document_dict.get("source"))
    if source is not None and source.get("type") == "text":
        data = source.get("data")
        if isinstance(data, str):
            return url, data
    return None


def _text_part(block: Mapping[str, Any], fetched_pages: Sequence[tuple[str, str]]) -> TextPart:
    text = json_str(block.get("text"), "text block")
    raw = json_array(block.get("citations"))
    if raw is not None and (citations := map_citations(raw, text, fetched_pages)):
        return TextPart(
            text,
            provider_name=PROVIDER_NAME,
            provider_details={"citations": raw},
            citations=list[Any](citations),
        )
    return TextPart(text)


def _dict_or_none(value: object) -> dict[str, Any] | None:
    return json_dict(value) or None


def _caller_details(block: Mapping[str, Any]) -> dict[str, Any]:
    caller = block.get("caller")
    if (caller_dict := json_dict(caller)) is not None and caller_dict.get("type") != "direct":
        return {"anthropic_caller": caller}
    return {}


_KIND_BY_SERVER_TOOL = {
    "web_search": "web_search",
    "code_execution": "code_execution",
    "web_fetch": "web_fetch",
}


def server_tool_call_part(block: Mapping[str, Any]) -> NativeToolCallPart:
    """The builtin-tool call part for a ``server_tool_use`` block."""
    name = json_str(block.get("name"), "server tool name")
    tool_id = json_str(block.get("id"), "server tool id")
    args = _dict_or_none(block.get("input"))
    caller = _caller_details(block)
    if name in _KIND_BY_SERVER_TOOL:
        return NativeToolCallPart(
            _KIND_BY_SERVER_TOOL[name],
            args,
            tool_id,
            provider_name=PROVIDER_NAME,
            provider_details=caller or None,
        )
    if name in ("tool_search_tool_regex", "tool_search_tool_bm25"):
        return NativeToolCallPart(
            "tool_search",
            tool_search_args(args, name),
            tool_id,
            tool_kind="tool-search",
            provider_name=PROVIDER_NAME,
            provider_details={"strategy": "regex" if name == "tool_search_tool_regex" else "bm25", **caller},
        )
    if name in ("bash_code_execution", "text_editor_code_execution"):
        return NativeToolCallPart(
            "code_execution",
            args,
            tool_id,
            provider_name=PROVIDER_NAME,
            provider_details={"anthropic_tool_name": name, **caller},
        )
    # `advisor` and server tools newer than this module keep their own name
    return NativeToolCallPart(
        name, args, tool_id, provider_name=PROVIDER_NAME, provider_details=caller or None
    )


def tool_search_args(args: Mapping[str, Any] | None, name: str) -> dict[str, Any]:
    raw = (args or {}).get("pattern" if name == "tool_search_tool_regex" else "query", "")
    return {"queries": [raw] if isinstance(raw, str) else []}


_RESULT_KINDS: Final[dict[str, tuple[str, str | None]]] = {
    # block type -> (tool name, anthropic_tool_name detail)
    "web_search_tool_result": ("web_search", None),
    "code_execution_tool_result": ("code_execution", None),
    "bash_code_execution_tool_result": ("code_execution", "bash_code_execution"),
    "text_editor_code_execution_tool_result": ("code_execution", "text_editor_code_execution"),
    "web_fetch_tool_result": ("web_fetch", None),
    "advisor_tool_result": ("advisor", None),
}
SERVER_RESULT_TYPES: Final = frozenset({*_RESULT_KINDS, "tool_search_tool_result"})


def server_tool_return_part(block: Mapping[str, Any]) -> NativeToolReturnPart:
    """The builtin-tool return part for a ``*_tool_result`` block (the content kept as the wire gave it)."""
    kind = json_str(block.get("type"), "block type")
    tool_use_id = json_str(block.get("tool_use_id"), "tool_use_id")
    content = block.get("content")
    if kind == "tool_search_tool_result":
        c = json_dict(content) or {}
        if c.get("type") == "tool_search_tool_search_result":
            refs = c.get("tool_references")
            matches = [{"name": r.get("tool_name")} for r in map(json_dict, json_list(refs)) if r is not None]
            return NativeToolReturnPart(
                "tool_search",
                {"discovered_tools": matches},
                tool_use_id,
                tool_kind="tool-search",
                provider_name=PROVIDER_NAME,
            )
        return NativeToolReturnPart(
            "tool_search",
            {"discovered_tools": []},
            tool_use_id,
            tool_kind="tool-search",
            provider_name=PROVIDER_NAME,
            provider_details={"error_code": c.get("error_code"), "error_message": c.get("error_message")},
        )
    tool_name, detail = _RESULT_KINDS[kind]
    if detail is not None:
        details: dict[str, Any] | None = {"anthropic_tool_name": detail}
    elif kind in ("web_search_tool_result", "web_fetch_tool_result"):
        details = _caller_details(block) or None
    else:
        details = None
    return NativeToolReturnPart(
        tool_name, content, tool_use_id, provider_name=PROVIDER_NAME, provider_details=details
    )


def mcp_call_part(block: Mapping[str, Any]) -> NativeToolCallPart:
    server = json_str(block.get("server_name"), "MCP server name")
    return NativeToolCallPart(
        f"mcp_server:{server}",
        {"action": "call_tool", "tool_name": block.get("name"), "tool_args": block.get("input")},
        json_str(block.get("id"), "MCP tool use id"),
        provider_name=PROVIDER_NAME,
    )


def mcp_return_part(block: Mapping[str, Any], call: NativeToolCallPart | None) -> NativeToolReturnPart:
    return NativeToolReturnPart(
        call.tool_name if call is not None else "mcp_server",
        {"content": block.get("content"), "is_error": block.get("is_error")},
        json_str(block.get("tool_use_id"), "MCP tool_use_id"),
        provider_name=PROVIDER_NAME,
    )


def compaction_part(block: Mapping[str, Any]) -> CompactionPart:
    content = block.get("content")
    details = {k: block[k] for k in ("encrypted_content", "signature") if block.get(k) is not None}
    return CompactionPart(
        content if isinstance(content, str) else None,
        provider_name=PROVIDER_NAME,
        provider_details=details or None,
    )


def enabled_server_tools(params: ModelRequestParameters) -> frozenset[str]:
    """The ``server_tool_use`` names the request's native tools allow (by their ``kind``)."""
    names: set[str] = set()
    for tool in params.native_tools:
        kind = getattr(tool, "kind", tool if isinstance(tool, str) else None)
        if kind == "code_execution":
            names.update(CODE_EXECUTION_NAMES)
        elif kind == "tool_search":
            names.update(("tool_search_tool_regex", "tool_search_tool_bm25"))
        elif isinstance(kind, str) and kind != "memory":
            names.add(kind)
    return frozenset(names)


def refusal_details(stop_details: object) -> dict[str, Any]:
    sd = json_dict(stop_details)
    if sd is None:
        return {}
    out: dict[str, Any] = {}
    if sd.get("explanation") is not None:
        out["refusal"] = sd["explanation"]
    if sd.get("category") is not None:
        out["refusal_category"] = sd["category"]
    return out


def container_id(container: object) -> str | None:
    if (container_dict := json_dict(container)) is not None:
        cid = container_dict.get("id")
        return cid if isinstance(cid, str) else None
    return None


def message_details(message: Mapping[str, Any]) -> dict[str, Any]:
    """The ``provider_details`` keys a message object (non-streamed, or ``message_start``) carries."""
    details: dict[str, Any] = {}
    if (cid := container_id(message.get("container"))) is not None:
        details["container_id"] = cid
    if transformations := message.get("input_transformations"):
        details["input_transformations"] = transformations
    if message.get("diagnostics") is not None:
        details["cache_diagnostics"] = message["diagnostics"]
    usage = message.get("usage")
    if (usage_dict := json_dict(usage)) is not None and usage_dict.get("speed") == "fast":
        details["speed"] = "fast"
    return details


def parse_messages_response(
    data: Any, params: ModelRequestParameters, *, provider_url: str | None = None
) -> ModelResponse:
    """The :class:`ModelResponse` for a decoded non-streamed Messages API reply.

    Raises:
        UnexpectedModelBehavior: the reply does not have the shape of a message.
    """
    try:
        return _parse(data, params, provider_url)
    except (KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise UnexpectedModelBehavior(
            f"the Anthropic reply has an unexpected shape ({type(exc).__name__}: {exc})",
            orjson.dumps(data, default=repr).decode()[:2000],
        ) from exc


def _parse(data: Any, params: ModelRequestParameters, provider_url: str | None) -> ModelResponse:
    message = json_dict(data)
    if message is None:
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    if message.get("type") == "error":
        # upstream crashes on this (a TypeError); say what the server said instead
        error = json_dict(message.get("error")) or {}
        raise UnexpectedModelBehavior(
            f"Anthropic answered 200 with an error object: {error.get('message', message)}",
            orjson.dumps(message, default=repr).decode()[:2000],
        )
    content = message.get("content")
    blocks: list[JSON] = []
    for item in json_list(content):
        if (block_dict := json_dict(item)) is None:
            raise TypeError(f"expected content blocks to be objects, got {type(item).__name__}")
        blocks.append(block_dict)
    enabled = enabled_server_tools(params)
    result_ids = {b.get("tool_use_id") for b in blocks if b.get("type") in SERVER_RESULT_TYPES}
    pages = [page for b in blocks if b.get("type") == "web_fetch_tool_result" and (page := fetched_page(b))]
    parts: list[ModelResponsePart] = []
    calls: dict[str, NativeToolCallPart] = {}
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append(_text_part(block, pages))
        elif kind == "tool_use":
            tool_input = block.get("input")
            parts.append(
                ToolCallPart(
                    json_str(block.get("name"), "tool name"),
                    json_dict(tool_input),
                    json_str(block.get("id"), "tool_use id"),
                )
            )
        elif kind == "thinking":
            signature = block.get("signature")
            parts.append(
                ThinkingPart(
                    json_str(block.get("thinking"), "thinking"),
                    signature=signature if isinstance(signature, str) else None,
                    provider_name=PROVIDER_NAME,
                )
            )
        elif kind == "redacted_thinking":
            parts.append(
                ThinkingPart(
                    "",
                    id="redacted_thinking",
                    signature=json_str(block.get("data"), "data"),
                    provider_name=PROVIDER_NAME,
                )
            )
        elif kind == "server_tool_use":
            if block.get("name") not in enabled and block.get("id") not in result_ids:
                continue
            call = server_tool_call_part(block)
            calls[call.tool_call_id] = call
            parts.append(call)
        elif kind in SERVER_RESULT_TYPES:
            parts.append(server_tool_return_part(block))
        elif kind == "mcp_tool_use":
            call = mcp_call_part(block)
            calls[call.tool_call_id] = call
            parts.append(call)
        elif kind == "mcp_tool_result":
            tool_use_id = block.get("tool_use_id")
            parts.append(
                mcp_return_part(block, calls.get(tool_use_id) if isinstance(tool_use_id, str) else None)
            )
        elif kind == "compaction":
            parts.append(compaction_part(block))
        # unknown block types (newer than this module) are skipped
    stop_reason = message.get("stop_reason")
    provider_details: dict[str, Any] = {}
    if stop_reason:
        provider_details["finish_reason"] = stop_reason
    if message.get("stop_details") is not None:
        provider_details.update(refusal_details(message["stop_details"]))
    provider_details.update(message_details(message))
    usage = message.get("usage")
    model = message.get("model")
    response_id = message.get("id")
    return ModelResponse(
        parts,
        usage=map_usage(
            usage_details(usage_dict, message_usage=True)
            if (usage_dict := json_dict(usage)) is not None
            else {},
            # through the Pydantic AI Gateway (2.68 reads it on any Anthropic reply)
            cost=gateway_usage_cost(usage),
        ),
        model_name=model if isinstance(model, str) else None,
        provider_name=PROVIDER_NAME,
        provider_url=provider_url,
        provider_response_id=response_id if isinstance(response_id, str) else None,
        finish_reason=FINISH_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None,
        provider_details=provider_details or None,
        metadata=context_metadata(usage),
        state="suspended" if stop_reason == "pause_turn" else "complete",
    )
