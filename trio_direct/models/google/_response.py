"""Gemini: a 200 ``generateContent`` body → :class:`ModelResponse` (parts, grounding, usage, provider
details). Pure.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, TypeAlias, cast

import attrs
import orjson

from ...exceptions import (
    UnexpectedModelBehavior,
)
from ...messages import (
    BinaryContent,
    FilePart,
    FinishReason,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    generate_tool_call_id,
)
from ...tools import ModelRequestParameters
from ...usage import RequestUsage, gateway_header_cost
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._common import b64 as _b64
from .._json import JSON as JSON
from .._json import SHAPE_ERRORS, json_dict, json_list
from ._profile import MEDIA_PROCESSING, PROVIDER_NAME, GoogleProfile
from ._request import NATIVE_TOOL_NAMES

# =============================================================================================
# 3. Response
# =============================================================================================

#: ``finishReason`` → ``finish_reason`` (unknown values → None).
FINISH_REASONS: Final[dict[str, FinishReason | None]] = {
    "FINISH_REASON_UNSPECIFIED": None,
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "CONTINUATION": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "LANGUAGE": "error",
    "OTHER": None,
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "IMAGE_SAFETY": "content_filter",
    "UNEXPECTED_TOOL_CALL": "error",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "NO_IMAGE": "error",
    "MODEL_ARMOR": "content_filter",
}
#: The fields of the SDK's ``Part`` (a part with a signature and none of the others is signature-only).
_PART_FIELDS: Final = (
    "text",
    "thought",
    "inlineData",
    "fileData",
    "functionCall",
    "functionResponse",
    "executableCode",
    "codeExecutionResult",
    "toolCall",
    "toolResponse",
    "videoMetadata",
    "mediaResolution",
    "partMetadata",
)
_SAFETY_RATING_FIELDS: Final = (
    "blocked",
    "category",
    "overwrittenThreshold",
    "probability",
    "probabilityScore",
    "severity",
    "severityScore",
)
_FILE_SEARCH_QUERY: Final = re.compile(r'file_search\.query\(query=(["\'])((?:\\.|(?!\1)[^\\])*)\1\)')
_CAMEL_BOUNDARY: Final = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(value: object, *, drop_none: bool = True) -> Any:
    """A response object as the SDK's ``model_dump(mode='json')`` gives it: snake_case keys."""
    if isinstance(value, dict):
        return {
            _CAMEL_BOUNDARY.sub("_", str(k)).lower(): _snake(v, drop_none=drop_none)
            for k, v in cast(dict[object, object], value).items()
            if v is not None or not drop_none
        }
    if isinstance(value, list):
        return [_snake(v, drop_none=drop_none) for v in cast(list[object], value)]
    return value


def signature_details(part: JSON) -> dict[str, Any] | None:
    """``{'thought_signature': <standard base64>}`` for a part that carries one."""
    signature = part.get("thoughtSignature")
    if not signature:
        return None
    if not isinstance(signature, str):
        raise TypeError("thoughtSignature must be a base64 string")
    if len(signature) % 4 or "-" in signature or "_" in signature:
        # the SDK decodes either alphabet and pydantic-ai stores standard, padded base64
        normalized = signature.replace("-", "+").replace("_", "/")
        normalized += "=" * (-len(normalized) % 4)
        signature = _b64(base64.b64decode(normalized, validate=True))
    return {"thought_signature": signature}


def is_signature_only(part: JSON) -> bool:
    return bool(part.get("thoughtSignature")) and all(part.get(k) is None for k in _PART_FIELDS)


def binary(inline: JSON) -> BinaryContent:
    data, mime_type = inline.get("data"), inline.get("mimeType")
    if not isinstance(data, str) or not data or not isinstance(mime_type, str) or not mime_type:
        raise TypeError("inline data must have data and a mime type")
    normalized = data.replace("-", "+").replace("_", "/")
    raw = base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
    if not raw:
        raise TypeError("inline data must have data")
    return BinaryContent.narrow_type(BinaryContent(raw, media_type=mime_type))


def _is_media_processing(tool: JSON, payload_key: str) -> bool:
    tool_type = tool.get("toolType")
    return tool_type == "MEDIA_PROCESSING" or (tool_type is None and not tool.get(payload_key))


def _native_tool_name(tool: JSON, payload_key: str) -> str:
    if _is_media_processing(tool, payload_key):
        return MEDIA_PROCESSING
    tool_type = tool.get("toolType")
    if tool_type is None:
        raise UnexpectedModelBehavior("Missing tool_type on native tool part")
    name = NATIVE_TOOL_NAMES.get(tool_type) if isinstance(tool_type, str) else None
    if name is None:
        raise UnexpectedModelBehavior(f"Unknown tool type on native tool part: {tool_type!r}")
    return name


def _tool_id(value: object) -> str:
    if value is None:
        return generate_tool_call_id()
    if not isinstance(value, str):
        raise TypeError("a tool id must be a string")
    return value or generate_tool_call_id()


def native_call(tool_call: JSON, *, provider_name: str = PROVIDER_NAME) -> NativeToolCallPart:
    args = tool_call.get("args")
    if args is not None and not isinstance(args, dict):
        raise TypeError("toolCall.args must be an object")
    return NativeToolCallPart(
        _native_tool_name(tool_call, "args"),
        cast(JSON | None, args),
        _tool_id(tool_call.get("id")),
        provider_name=provider_name,
    )


def native_return(tool_response: JSON, *, provider_name: str = PROVIDER_NAME) -> NativeToolReturnPart:
    response = tool_response.get("response")
    if response is not None and not isinstance(response, dict):
        raise TypeError("toolResponse.response must be an object")
    return NativeToolReturnPart(
        _native_tool_name(tool_response, "response"),
        response,
        _tool_id(tool_response.get("id")),
        provider_name=provider_name,
    )


def has_native_invocations(parts: Sequence[JSON]) -> bool:
    """Whether the parts carry Gemini 3 ``toolCall``/``toolResponse`` parts (other than media processing):
    then the grounding and URL-context metadata are not turned into parts of their own."""
    for part in parts:
        if (tool := json_dict(part.get("toolCall"))) is not None and not _is_media_processing(tool, "args"):
            return True
        if (tool := json_dict(part.get("toolResponse"))) is not None and not _is_media_processing(
            tool, "response"
        ):
            return True
    return False


def executable_code_call(
    code: JSON, *, file_search: bool, provider_name: str = PROVIDER_NAME
) -> NativeToolCallPart:
    """``executableCode`` as a code-execution call, or a file-search call for ``file_search.query(...)``."""
    tool_call_id = generate_tool_call_id()
    source = code.get("code")
    if file_search and isinstance(source, str) and source and (match := _FILE_SEARCH_QUERY.search(source)):
        query = match.group(2).replace("\\\\", "\\").replace('\\"', '"').replace("\\'", "'")
        return NativeToolCallPart("file_search", {"query": query}, tool_call_id, provider_name=provider_name)
    return NativeToolCallPart("code_execution", _snake(code), tool_call_id, provider_name=provider_name)


def code_result(
    result: JSON, tool_call_id: str | None, *, provider_name: str = PROVIDER_NAME
) -> NativeToolReturnPart:
    if tool_call_id is None:
        raise UnexpectedModelBehavior("codeExecutionResult without a preceding executableCode")
    return NativeToolReturnPart("code_execution", _snake(result), tool_call_id, provider_name=provider_name)


def file_search_enabled(params: ModelRequestParameters) -> bool:
    return any(
        getattr(t, "kind", t if isinstance(t, str) else None) == "file_search" for t in params.native_tools
    )


# -- grounding --------------------------------------------------------------------------------


def _character_index(text: str, byte_index: object) -> int | None:
    if type(byte_index) is not int:
        return None
    encoded = text.encode()
    if not 0 <= byte_index <= len(encoded):
        return None
    try:
        return len(encoded[:byte_index].decode())
    except UnicodeDecodeError:
        return None


def _segment_anchor(text: str, segment: JSON, byte_offset: int = 0) -> JSON | None:
    start_index = segment.get("startIndex") or 0
    end_index = segment.get("endIndex") or 0
    if type(start_index) is not int or type(end_index) is not int:
        return None
    start = _character_index(text, start_index - byte_offset)
    end = _character_index(text, end_index - byte_offset)
    if start is not None and end is not None and start < end and text[start:end] == segment.get("text"):
        return {"start": start, "end": end, "kind": "content"}
    return None


def _locate_segment(text_parts: dict[int, str], segment: JSON) -> tuple[int | None, JSON | None]:
    """The text part a grounding segment belongs to, and its anchor there (as 2.68 locates it)."""
    index = segment.get("partIndex")
    if type(index) is int and index in text_parts:
        if anchor := _segment_anchor(text_parts[index], segment):
            return index, anchor
    else:
        offset = 0
        for i, text in text_parts.items():
            if anchor := _segment_anchor(text, segment, offset):
                return i, anchor
            offset += len(text.encode())
    found = _segment_part_index(text_parts, segment)
    seg_text = segment.get("text")
    if found is None or not isinstance(seg_text, str) or not seg_text:
        return found, None
    # the offsets are sometimes a byte off; a text that occurs once still anchors the citation
    text = text_parts[found]
    start = text.find(seg_text)
    if start != -1 and text.find(seg_text, start + 1) == -1:
        return found, {"start": start, "end": start + len(seg_text), "kind": "content"}
    return found, None


def _segment_part_index(text_parts: dict[int, str], segment: JSON) -> int | None:
    index = segment.get("partIndex")
    seg_text = segment.get("text")
    if not isinstance(seg_text, str):
        seg_text = None
    if type(index) is int and index in text_parts and (seg_text is None or seg_text in text_parts[index]):
        return index
    if seg_text is not None:
        candidates = [i for i, text in text_parts.items() if seg_text in text]
        if len(candidates) == 1:
            return candidates[0]
    if len(text_parts) == 1:
        return next(iter(text_parts))
    return None


def _citation_source(chunk: JSON) -> JSON | None:
    if (web := json_dict(chunk.get("web"))) and web.get("uri"):
        return {"url": web["uri"], "title": web.get("title"), "excerpts": [], "kind": "web"}
    if (maps := json_dict(chunk.get("maps"))) and maps.get("uri"):
        excerpts = [maps["text"]] if maps.get("text") else []
        return {"url": maps["uri"], "title": maps.get("title"), "excerpts": excerpts, "kind": "web"}
    if (image := json_dict(chunk.get("image"))) and image.get("sourceUri"):
        return {"url": image["sourceUri"], "title": image.get("title"), "excerpts": [], "kind": "web"}
    if (context := json_dict(chunk.get("retrievedContext"))) is not None:
        rag = json_dict(context.get("ragChunk")) or {}
        excerpts = list(dict.fromkeys(t for t in (context.get("text"), rag.get("text")) if t))
        if context.get("documentName") or context.get("title") or excerpts:
            return {
                "document_id": context.get("documentName"),
                "title": context.get("title"),
                "excerpts": excerpts,
                "kind": "document",
            }
    return None


def grounding_citations(
    text_parts: dict[int, str], grounding: JSON | None
) -> dict[int, tuple[list[JSON], JSON]]:
    """Grounding supports → the citations, and the raw citation data, of the text part each one belongs to."""
    if not grounding:
        return {}
    supports = json_list(grounding.get("groundingSupports"))
    if not supports:
        return {}
    chunks = json_list(grounding.get("groundingChunks"))
    by_part: dict[int, tuple[list[JSON], JSON]] = {}
    for raw in supports:
        support = json_dict(raw)
        if support is None:
            continue
        segment = json_dict(support.get("segment"))
        if segment is None or segment.get("endIndex") is None:
            continue
        index, anchor = _locate_segment(text_parts, segment)
        if index is None:
            continue
        support_chunks = [
            json_dict(chunks[i]) if type(i) is int and 0 <= i < len(chunks) else None
            for i in json_list(support.get("groundingChunkIndices"))
        ]
        sources = [source for c in support_chunks if c and (source := _citation_source(c))]
        if not sources:
            continue
        details = {**_snake(support), "grounding_chunks": [_snake(c) if c else None for c in support_chunks]}
        citations, provider_details = by_part.setdefault(index, ([], {"citations": []}))
        citations.append({"sources": sources, "anchor": anchor})
        provider_details["citations"].append(details)
    return by_part


def _web_search_sources(grounding: JSON | None) -> list[JSON]:
    out: list[JSON] = []
    for chunk in json_list((grounding or {}).get("groundingChunks")):
        if (c := json_dict(chunk)) is not None and (web := json_dict(c.get("web"))) is not None:
            out.append({"domain": web.get("domain"), "title": web.get("title"), "uri": web.get("uri")})
    return out


def _web_search_parts(grounding: JSON | None, provider_name: str) -> list[ModelResponsePart]:
    queries = json_list((grounding or {}).get("webSearchQueries"))
    if not grounding or not queries:
        return []
    tool_call_id = generate_tool_call_id()
    return [
        NativeToolCallPart("web_search", {"queries": queries}, tool_call_id, provider_name=provider_name),
        NativeToolReturnPart(
            "web_search",
            _web_search_sources(grounding) if grounding.get("groundingChunks") else None,
            tool_call_id,
            provider_name=provider_name,
        ),
    ]


def _retrieved_contexts(grounding: JSON | None) -> list[JSON]:
    out: list[JSON] = []
    for chunk in json_list((grounding or {}).get("groundingChunks")):
        if (c := json_dict(chunk)) is not None and (
            context := json_dict(c.get("retrievedContext"))
        ) is not None:
            out.append(_snake(context))
    return out


def grounding_parts_after_text(
    grounding: JSON | None, file_search_ids: list[str], *, provider_name: str = PROVIDER_NAME
) -> list[ModelResponsePart]:
    """The file-search and web-search parts built from the grounding metadata, after the text it grounds."""
    parts: list[ModelResponsePart] = []
    contexts = _retrieved_contexts(grounding)
    if not file_search_ids and contexts:
        tool_call_id = generate_tool_call_id()
        parts += [
            NativeToolCallPart("file_search", {}, tool_call_id, provider_name=provider_name),
            NativeToolReturnPart("file_search", contexts, tool_call_id, provider_name=provider_name),
        ]
    for tool_call_id in file_search_ids:
        if contexts:
            parts.append(
                NativeToolReturnPart("file_search", contexts, tool_call_id, provider_name=provider_name)
            )
    parts += _web_search_parts(grounding, provider_name)
    return parts


def url_context_parts(
    url_context: JSON | None, *, provider_name: str = PROVIDER_NAME
) -> list[ModelResponsePart]:
    """The web-fetch call and return built from ``urlContextMetadata`` (it comes before the text)."""
    entries = json_list((url_context or {}).get("urlMetadata"))
    if not entries:
        return []
    metadata = [cast(JSON, m) for m in entries if isinstance(m, dict)]
    tool_call_id = generate_tool_call_id()
    urls = [m["retrievedUrl"] for m in metadata if m.get("retrievedUrl")]
    return [
        NativeToolCallPart(
            "web_fetch", {"urls": urls} if urls else None, tool_call_id, provider_name=provider_name
        ),
        NativeToolReturnPart(
            "web_fetch",
            [
                {"retrieved_url": m.get("retrievedUrl"), "url_retrieval_status": m.get("urlRetrievalStatus")}
                for m in metadata
            ],
            tool_call_id,
            provider_name=provider_name,
        ),
    ]


def fill_file_search(part: NativeToolReturnPart, grounding: JSON | None) -> NativeToolReturnPart:
    if part.tool_name != "file_search" or part.content is not None:
        return part
    contexts = _retrieved_contexts(grounding)
    return attrs.evolve(part, content=contexts) if contexts else part


def fill_web_search(part: NativeToolReturnPart, grounding: JSON | None) -> NativeToolReturnPart:
    sources = _web_search_sources(grounding)
    if not sources:
        return part
    content: object = part.content
    base = cast(JSON, content) if isinstance(content, dict) else {}
    return attrs.evolve(part, content={**base, "sources": sources})


def _grounding_searches(candidates: Sequence[object]) -> tuple[set[str], bool]:
    queries: set[str] = set()
    returned = False
    for raw in candidates:
        candidate = json_dict(raw)
        grounding = json_dict(candidate.get("groundingMetadata")) if candidate is not None else None
        if grounding is None:
            continue
        queries.update(
            q for q in json_list(grounding.get("webSearchQueries")) if isinstance(q, str) and q.strip()
        )
        for chunk in json_list(grounding.get("groundingChunks")):
            if (c := json_dict(chunk)) is not None and (web := json_dict(c.get("web"))) and web.get("uri"):
                returned = True
    return queries, returned


def with_web_searches(
    usage: RequestUsage, candidates: Sequence[object], *, billed_per_prompt: bool
) -> RequestUsage:
    """``usage`` with Google Search grounding counted (``web_search_requests`` detail, ``web_searches``)."""
    queries, returned = _grounding_searches(candidates)
    if not queries:
        return usage
    usage = attrs.evolve(
        usage, details={**usage.details, "web_search_requests": len(queries)}, extra=dict(usage.extra)
    )
    searches = (1 if returned else 0) if billed_per_prompt else len(queries)
    if searches:
        usage.extra["web_searches"] = searches
    return usage


# -- usage ------------------------------------------------------------------------------------

_NAMED_USAGE: Final = frozenset(
    {"input_tokens", "cache_read_tokens", "output_tokens", "output_reasoning_tokens", "input_audio_tokens",
     "cache_audio_read_tokens", "output_audio_tokens"}
)  # fmt: skip
#: genai-prices' Google extractor, summed per destination: the usageMetadata counts ...
_SCALAR_DESTINATIONS: Final[tuple[tuple[str, tuple[str, ...], str | None], ...]] = (
    ("promptTokenCount", ("input_tokens",), None),
    ("cachedContentTokenCount", ("cache_read_tokens",), "cached_content_tokens"),
    ("candidatesTokenCount", ("output_tokens",), None),
    ("thoughtsTokenCount", ("output_tokens", "output_reasoning_tokens"), "thoughts_tokens"),
    ("toolUsePromptTokenCount", ("input_tokens", "input_tool_tokens"), "tool_use_prompt_tokens"),
)


def _by_modality(prefix: str, *, tool: bool = False) -> dict[str, tuple[str, ...]]:
    image = f"{prefix}_image_tokens" if prefix != "cache" else "cache_image_read_tokens"

    def dest(modality: str) -> tuple[str, ...]:
        name = (
            image
            if modality in ("image", "document")
            else (f"cache_{modality}_read_tokens" if prefix == "cache" else f"{prefix}_{modality}_tokens")
        )
        return (
            (name, f"input_{'image' if modality == 'document' else modality}_tool_tokens")
            if tool
            else (name,)
        )

    return {m.upper(): dest(m) for m in ("text", "audio", "image", "document", "video")}


#: ... and the first entry of each modality in the details lists, with this prefix in ``details``.
_DETAIL_LISTS: Final[tuple[tuple[str, str, dict[str, tuple[str, ...]]], ...]] = (
    ("promptTokensDetails", "prompt", _by_modality("input")),
    ("cacheTokensDetails", "cache", _by_modality("cache")),
    ("candidatesTokensDetails", "candidates", _by_modality("output")),
    ("toolUsePromptTokensDetails", "tool_use_prompt", _by_modality("input", tool=True)),
)


#: What one details list adds: its ``details`` entries, its extracted counts, and whether they are valid.
Contribution: TypeAlias = tuple[dict[str, int], dict[str, int], bool]


def _list_contribution(
    entries: list[object], prefix: str, by_modality: dict[str, tuple[str, ...]]
) -> Contribution:
    details: dict[str, int] = {}
    values: dict[str, int] = {}
    valid = True
    seen: set[str] = set()
    for entry in entries:
        if type(entry) is not dict:
            continue
        item = cast(JSON, entry)
        modality, count = item.get("modality"), item.get("tokenCount")
        if not modality or type(modality) is not str:
            continue
        if type(count) is int and count:
            details[f"{modality.lower()}_{prefix}_tokens"] = count
        if modality not in seen and (found := by_modality.get(modality)) is not None:
            seen.add(modality)  # genai-prices reads the first entry of a modality
            if count is None:
                continue
            if type(count) is not int or count < 0:
                valid = False  # genai-prices rejects the whole extraction
                continue
            for dest in found:
                values[dest] = values.get(dest, 0) + count
    return details, values, valid


def map_usage(
    metadata: JSON,
    existing: RequestUsage | None = None,
    cache: dict[str, tuple[object, Contribution]] | None = None,
) -> RequestUsage:
    """``usageMetadata`` → :class:`RequestUsage` as 2.68 maps it (genai-prices' Google extractor + details).

    ``existing`` is the usage so far of a stream: its details survive unless replaced, and token fields a
    later (cumulative) snapshot drops keep their earlier values. ``cache`` (one per stream) keeps what
    each details list added, for the next snapshot that repeats it (most of them do).
    """
    g = metadata.get
    details: dict[str, int] = {}
    values: dict[str, int] = {}
    valid, reported = True, False
    for key, destinations, detail in _SCALAR_DESTINATIONS:
        value = g(key)
        if value is None:
            continue
        if type(value) is not int or value < 0:
            reported = reported or bool(value)
            valid = False
            continue
        if value:
            reported = True
            if detail is not None:
                details[detail] = value
        for dest in destinations:
            values[dest] = values.get(dest, 0) + value
    for key, prefix, by_modality in _DETAIL_LISTS:
        entries = g(key)
        if not entries or type(entries) is not list:
            continue
        reported = True
        known = cache.get(key) if cache is not None else None
        if known is not None and known[0] == entries:
            contribution = known[1]
        else:
            contribution = _list_contribution(cast(list[object], entries), prefix, by_modality)
            if cache is not None:
                cache[key] = (entries, contribution)
        details.update(contribution[0])
        for dest, count in contribution[1].items():
            values[dest] = values.get(dest, 0) + count
        valid = valid and contribution[2]
    if not reported:
        return existing if existing is not None else RequestUsage()
    if existing is not None:
        details = {**existing.details, **details}
    if not valid:
        values = {}  # genai-prices rejects the whole extraction; only the details are kept
    extra = {k: n for k, n in values.items() if k not in _NAMED_USAGE}
    v = values.get
    if existing is None:
        return RequestUsage(
            input_tokens=v("input_tokens", 0),
            cache_read_tokens=v("cache_read_tokens", 0),
            output_tokens=v("output_tokens", 0),
            output_reasoning_tokens=v("output_reasoning_tokens", 0),
            input_audio_tokens=v("input_audio_tokens", 0),
            cache_audio_read_tokens=v("cache_audio_read_tokens", 0),
            output_audio_tokens=v("output_audio_tokens", 0),
            details=details,
            extra=extra,
        )
    # a later (cumulative) snapshot that drops a token field keeps its earlier value (not the details'
    # modality counters, nor reasoning tokens: genai-prices' fields only, as upstream backfills)
    e = existing
    return RequestUsage(
        input_tokens=v("input_tokens") or e.input_tokens,
        cache_write_tokens=e.cache_write_tokens,
        cache_read_tokens=v("cache_read_tokens") or e.cache_read_tokens,
        output_tokens=v("output_tokens") or e.output_tokens,
        output_reasoning_tokens=v("output_reasoning_tokens", 0),
        input_audio_tokens=v("input_audio_tokens") or e.input_audio_tokens,
        cache_audio_read_tokens=v("cache_audio_read_tokens") or e.cache_audio_read_tokens,
        output_audio_tokens=v("output_audio_tokens") or e.output_audio_tokens,
        details=details,
        extra=extra,
    )


def context_metadata(metadata: JSON | None) -> dict[str, Any] | None:
    """The first request's input tokens, when the usage sums several (a long decode)."""
    if metadata is None:
        return None
    initial = metadata.get("initialPromptTokenCount")
    if type(initial) is not int or initial == metadata.get("promptTokenCount"):
        return None
    return {"__pydantic_ai__": {"context_input_tokens": initial}}


# -- provider details -------------------------------------------------------------------------


def _safety_ratings(raw: object) -> list[JSON]:
    return [
        {k: r.get(k) for k in _SAFETY_RATING_FIELDS}
        for item in json_list(raw)
        if (r := json_dict(item)) is not None
    ]


def finish_details(candidate: JSON) -> tuple[FinishReason | None, JSON] | None:
    reason = candidate.get("finishReason")
    if not reason:
        return None
    if not isinstance(reason, str):
        raise TypeError("finishReason must be a string")
    details: JSON = {"finish_reason": reason}
    if ratings := _safety_ratings(candidate.get("safetyRatings")):
        details["safety_ratings"] = ratings
    return FINISH_REASONS.get(reason), details


def blocked_details(data: JSON) -> JSON | None:
    feedback = json_dict(data.get("promptFeedback"))
    if feedback is None or not feedback.get("blockReason"):
        return None
    details: JSON = {"block_reason": feedback["blockReason"]}
    if feedback.get("blockReasonMessage"):
        details["block_reason_message"] = feedback["blockReasonMessage"]
    if ratings := _safety_ratings(feedback.get("safetyRatings")):
        details["safety_ratings"] = ratings
    return details


_FRACTION: Final = re.compile(r"\.(\d+)")


def timestamp(value: object) -> datetime | None:
    """``createTime`` (RFC 3339, nanoseconds allowed) as an aware datetime."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), value.replace("Z", "+00:00"), count=1)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _traffic_type(data: JSON) -> str | None:
    usage = json_dict(data.get("usageMetadata"))
    traffic = usage.get("trafficType") if usage is not None else None
    return traffic if isinstance(traffic, str) and traffic else None


def _candidate_details(
    data: JSON, candidate: JSON | None, headers: Mapping[str, str] | None
) -> tuple[FinishReason | None, JSON]:
    finish_reason: FinishReason | None = None
    details: JSON = {}
    if candidate is not None and (finished := finish_details(candidate)) is not None:
        finish_reason, details = finished
    elif candidate is None and (blocked := blocked_details(data)) is not None:
        details, finish_reason = blocked, "content_filter"
    if (created := timestamp(data.get("createTime"))) is not None:
        details["timestamp"] = created
    if headers is not None and (tier := headers.get("x-gemini-service-tier")):
        details["service_tier"] = tier.lower()
    if (traffic := _traffic_type(data)) is not None:
        details["traffic_type"] = traffic
    if candidate is not None and (logprobs := json_dict(candidate.get("logprobsResult"))) is not None:
        details["logprobs"] = _snake(logprobs, drop_none=False)
        details["avg_logprobs"] = candidate.get("avgLogprobs")
    return finish_reason, details


# -- parsing ----------------------------------------------------------------------------------


def parse_generate_content(
    data: Any,
    params: ModelRequestParameters,
    *,
    model_name: str,
    provider_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    profile: GoogleProfile | None = None,
) -> ModelResponse:
    """The :class:`ModelResponse` for a decoded ``GenerateContentResponse``.

    Raises:
        UnexpectedModelBehavior: the body does not have the shape of a response, or holds a part
            Gemini is not known to send.
    """
    try:
        return _parse(
            data, params, model_name, provider_url, headers, profile or GoogleProfile.for_model(model_name)
        )
    except UnexpectedModelBehavior:
        raise
    except SHAPE_ERRORS as exc:
        raise UnexpectedModelBehavior(
            f"the Gemini response has an unexpected shape ({type(exc).__name__}: {exc})",
            orjson.dumps(data, default=repr).decode()[:2000],
        ) from exc


def _parse(
    data: Any,
    params: ModelRequestParameters,
    model_name: str,
    provider_url: str | None,
    headers: Mapping[str, str] | None,
    profile: GoogleProfile,
) -> ModelResponse:
    body = json_dict(data)
    if body is None:
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    candidates = json_list(body.get("candidates"))
    candidate = json_dict(candidates[0]) if candidates else None
    if candidates and candidate is None:
        raise TypeError("candidates must be objects")
    finish_reason, provider_details = _candidate_details(body, candidate, headers)
    content = json_dict(candidate.get("content")) if candidate is not None else None
    raw_parts = json_list(content.get("parts")) if content is not None else []
    parts_json: list[JSON] = []
    for raw in raw_parts:
        if (p := json_dict(raw)) is None:
            raise TypeError("parts must be objects")
        parts_json.append(p)

    metadata = json_dict(body.get("usageMetadata"))
    usage = map_usage(metadata) if metadata is not None else RequestUsage(unmeasured_requests=1)
    usage = with_web_searches(usage, candidates, billed_per_prompt=profile.web_search_billed_per_prompt)
    if headers is not None and (cost := gateway_header_cost(headers)) is not None:
        # through the Pydantic AI Gateway: the cost is in a header (2.68 reads no body cost here)
        usage.cost = cost

    grounding = json_dict(candidate.get("groundingMetadata")) if candidate is not None else None
    invocations = has_native_invocations(parts_json)
    name = profile.provider_name
    items: list[ModelResponsePart] = []
    if not invocations and candidate is not None:
        items += url_context_parts(json_dict(candidate.get("urlContextMetadata")), provider_name=name)
    text_parts = {
        i: p["text"]
        for i, p in enumerate(parts_json)
        if isinstance(p.get("text"), str) and p["text"] and not p.get("thought")
    }
    citations = grounding_citations(text_parts, grounding)
    file_search = file_search_enabled(params)
    code_call_id: str | None = None
    file_search_ids: list[str] = []
    last_web_search: int | None = None
    media_call_id: str | None = None
    media_call_without_id: int | None = None
    for index, part in enumerate(parts_json):
        details = signature_details(part)
        item: ModelResponsePart | None
        if (code := part.get("executableCode")) is not None:
            item = executable_code_call(
                expect_obj(code, "executableCode"), file_search=file_search, provider_name=name
            )
            if item.tool_name == "code_execution":
                code_call_id = item.tool_call_id
            else:
                file_search_ids.append(item.tool_call_id)
        elif (result := part.get("codeExecutionResult")) is not None:
            item = code_result(expect_obj(result, "codeExecutionResult"), code_call_id, provider_name=name)
        else:
            item = _response_part(part, name)
        if item is None:
            continue
        if details:
            item = attrs.evolve(
                item,
                provider_name=name,
                provider_details={**(item.provider_details or {}), **details},
            )
        if isinstance(item, TextPart) and (cited := citations.get(index)) is not None:
            item = attrs.evolve(
                item,
                citations=cited[0],
                provider_name=name,
                provider_details={**(item.provider_details or {}), **cited[1]},
            )
        elif isinstance(item, NativeToolReturnPart):
            if item.tool_name == MEDIA_PROCESSING:
                tool_response = json_dict(part.get("toolResponse")) or {}
                if tool_response.get("id") is None and media_call_id is not None:
                    item = attrs.evolve(item, tool_call_id=media_call_id)
                elif media_call_without_id is not None:
                    call = items[media_call_without_id]
                    if isinstance(call, NativeToolCallPart):
                        items[media_call_without_id] = attrs.evolve(call, tool_call_id=item.tool_call_id)
                media_call_id = media_call_without_id = None
            elif item.tool_name == "web_search":
                last_web_search = len(items)
            else:
                item = fill_file_search(item, grounding)
        elif isinstance(item, NativeToolCallPart):
            if item.tool_name == "file_search":
                file_search_ids.append(item.tool_call_id)
            elif item.tool_name == MEDIA_PROCESSING:
                media_call_id = item.tool_call_id
                tool_call = json_dict(part.get("toolCall")) or {}
                media_call_without_id = len(items) if tool_call.get("id") is None else None
        items.append(item)
    if last_web_search is not None:
        items[last_web_search] = fill_web_search(
            cast(NativeToolReturnPart, items[last_web_search]), grounding
        )
    if not invocations:
        items += grounding_parts_after_text(grounding, file_search_ids, provider_name=name)

    model_version = body.get("modelVersion")
    response_id = body.get("responseId")
    return ModelResponse(
        items,
        usage=usage,
        model_name=model_version if isinstance(model_version, str) and model_version else model_name,
        provider_name=name,
        provider_url=provider_url,
        canonical_system=name,
        provider_details=provider_details or None,
        provider_response_id=response_id if isinstance(response_id, str) else None,
        finish_reason=finish_reason,
        metadata=context_metadata(metadata),
    )


def expect_obj(value: object, what: str) -> JSON:
    if (found := json_dict(value)) is None:
        raise TypeError(f"{what} must be an object")
    return found


def _response_part(part: JSON, provider_name: str = PROVIDER_NAME) -> ModelResponsePart | None:
    """A part other than a code-execution step (None for a part the response leaves out)."""
    text = part.get("text")
    if text is not None:
        if not isinstance(text, str):
            raise TypeError("text must be a string")
        if not text and not part.get("thoughtSignature"):
            return None  # Gemini sends empty text parts; they are not kept
        return ThinkingPart(text) if part.get("thought") else TextPart(text)
    if (call := part.get("functionCall")) is not None:
        function_call = expect_obj(call, "functionCall")
        name = function_call.get("name")
        if not isinstance(name, str):
            raise UnexpectedModelBehavior(
                f"Unsupported response from Gemini: a function call without a name: {part!r}"
            )
        args = function_call.get("args")
        if args is not None and not isinstance(args, dict):
            raise TypeError("functionCall.args must be an object")
        return ToolCallPart(name, cast(JSON | None, args), _tool_id(function_call.get("id")))
    if (tool_call := part.get("toolCall")) is not None:
        return native_call(expect_obj(tool_call, "toolCall"), provider_name=provider_name)
    if (tool_response := part.get("toolResponse")) is not None:
        return native_return(expect_obj(tool_response, "toolResponse"), provider_name=provider_name)
    if (inline := part.get("inlineData")) is not None:
        return FilePart(binary(expect_obj(inline, "inlineData")))
    if is_signature_only(part):
        return None  # an agentic media-processing step: nothing to show, and rejected when replayed
    raise UnexpectedModelBehavior(f"Unsupported response from Gemini: {part!r}")
