"""Hypothesis strategies for the whole message model.

Every discriminated union has a strategy: messages (``kind``), request parts and response parts
(``part_kind``), user content (``kind``), stream events (``event_kind``) and deltas
(``part_delta_kind``). Values are *valid pydantic-ai 2.68 histories*: free-form fields hold JSON,
typed 2.68 fields that trio_direct keeps as plain JSON (``workspace_ref``...) stay ``None``. So anything
drawn here serializes, loads back equal (modulo the narrowing loading does, see :func:`narrowed`), and
loads in pydantic-ai too (except ``RetryPromptPart``, which 2.68 migrates on load; pass
``retry_prompts=False``).

Usage::

    from tests import strategies as tds

    @given(tds.histories())
    def test_something(history): ...
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import attrs
from hypothesis import strategies as st

from trio_direct.events import (
    FinalResultEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    SpeechPartDelta,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
)
from trio_direct.messages import (
    AudioUrl,
    BinaryAudio,
    BinaryContent,
    CachePoint,
    Citation,
    CompactionPart,
    ContentCitationAnchor,
    DocumentCitationSource,
    DocumentUrl,
    FilePart,
    ImageUrl,
    MarkerCitationAnchor,
    ModelRequest,
    ModelResponse,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryFeedbackPart,
    RetryInfo,
    RetryPromptPart,
    SpeechPart,
    SpeechTimestamp,
    StructuredContent,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
    WebCitationSource,
)
from trio_direct.usage import RequestUsage

__all__ = [
    "binary_contents",
    "datetimes",
    "deltas",
    "events",
    "file_urls",
    "histories",
    "json_values",
    "messages",
    "model_requests",
    "model_responses",
    "narrowed",
    "request_parts",
    "response_parts",
    "texts",
    "tool_return_contents",
    "usages",
    "user_contents",
]

# -- scalars -------------------------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
"""Any text JSON can carry (no lone surrogates)."""
short_texts = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=8)
maybe_texts = st.none() | texts
int64 = st.integers(-(2**63), 2**63 - 1)
counts = st.integers(0, 2**40)

json_scalars = st.none() | st.booleans() | int64 | st.floats(allow_nan=False, allow_infinity=False) | texts


def json_values(keys: st.SearchStrategy[str] = texts) -> st.SearchStrategy[Any]:
    """Any JSON value (64-bit integers, finite floats)."""
    return st.recursive(
        json_scalars,
        lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
        max_leaves=12,
    )


json_objects = st.dictionaries(texts, json_values(), max_size=4)
maybe_json_objects = st.none() | json_objects

_offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
datetimes = st.one_of(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=_offsets),
    st.datetimes(),  # naive stays naive
)
"""UTC, whole-minute offsets (JSON keeps no offset seconds), and naive datetimes."""

# -- user content --------------------------------------------------------------------------------------

_EXTENSIONS = st.sampled_from(
    ["png", "jpg", "gif", "webp", "mp3", "wav", "pdf", "txt", "mp4", "md", "csv", "bin9"]
)
_urls = st.builds(
    lambda host, path, ext: f"https://{host}.example/{path}.{ext}",
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"[a-zA-Z0-9_/-]{1,12}", fullmatch=True),
    _EXTENSIONS,
) | st.sampled_from(["https://youtu.be/abc", "https://example.com/no-extension", "https://e.x/a.png?sig=1"])
_media_types = st.sampled_from(
    ["image/png", "image/jpeg", "audio/mpeg", "audio/wav", "application/pdf", "text/plain", "video/mp4"]
)
_vendor_metadata = st.none() | st.dictionaries(short_texts, json_scalars, max_size=2)


def file_urls() -> st.SearchStrategy[ImageUrl | AudioUrl | DocumentUrl | VideoUrl]:
    """URL content of every kind, with and without explicit media type / identifier."""
    return st.builds(
        lambda cls, url, media_type, identifier, force_download, vendor_metadata: cls(
            url,
            media_type=media_type,
            identifier=identifier,
            force_download=force_download,
            vendor_metadata=vendor_metadata,
        ),
        st.sampled_from([ImageUrl, AudioUrl, DocumentUrl, VideoUrl]),
        _urls,
        st.none() | _media_types,
        st.none() | short_texts,
        st.sampled_from([False, True, "allow-local"]),
        _vendor_metadata,
    )


def binary_contents() -> st.SearchStrategy[BinaryContent]:
    """Inline bytes; images come both as plain :class:`BinaryContent` and as :class:`BinaryImage`."""

    def build(
        data: bytes, media_type: str, identifier: str | None, vendor: Any, narrow: bool
    ) -> BinaryContent:
        content = BinaryContent(data, media_type=media_type, identifier=identifier, vendor_metadata=vendor)
        return BinaryContent.narrow_type(content) if narrow else content

    return st.builds(
        build, st.binary(max_size=24), _media_types, st.none() | short_texts, _vendor_metadata, st.booleans()
    )


_uploaded_files = st.builds(
    lambda file_id, provider, media_type, identifier: UploadedFile(
        file_id, provider, media_type=media_type, identifier=identifier
    ),
    short_texts,
    st.sampled_from(["anthropic", "openai", "google", "google-gla", "bedrock", "xai"]),
    st.none() | _media_types,
    st.none() | short_texts,
)
multimodal_contents = st.one_of(file_urls(), binary_contents(), _uploaded_files)
structured_contents = st.builds(
    lambda value, tag, description, metadata, content: StructuredContent(
        value, tag=tag, description=description, metadata=metadata, content=content
    ),
    json_values(),
    st.none()
    | st.from_regex(r"[a-z][a-z0-9]{0,5}(_[a-z0-9]{1,4})?", fullmatch=True).filter(
        lambda t: t not in ("system", "context", "tool_result")
    ),
    maybe_texts,
    json_values(),
    st.just("") | texts,
)
"""Structured content: rendered on construction, or with its text given (as a stored item is)."""
user_contents = st.one_of(
    texts,
    st.builds(lambda content, metadata: TextContent(content, metadata=metadata), texts, json_values()),
    structured_contents,
    multimodal_contents,
    st.sampled_from(["5m", "1h"]).map(lambda ttl: CachePoint(ttl=ttl)),  # type: ignore[arg-type]
)
"""One user-content item of each ``kind`` (and plain strings, which carry none)."""

# -- request parts -------------------------------------------------------------------------------------

# Tool-return content is arbitrary JSON, plus file items anywhere in it. JSON objects here never use
# the key "kind": a dict shaped like a binary item *is* rebuilt as one on load, in pydantic-ai too.
_tool_json = json_values(keys=texts.filter(lambda k: k != "kind"))
tool_return_contents = st.recursive(
    _tool_json | multimodal_contents,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(texts.filter(lambda k: k != "kind"), children, max_size=3)
    ),
    max_leaves=8,
)


def _retry_info(causes: list[str]) -> st.SearchStrategy[RetryInfo]:
    return st.builds(
        lambda cause, attempt, max_retries: RetryInfo(cause, attempt=attempt, max_retries=max_retries),
        st.sampled_from(causes),
        st.none() | st.integers(1, 5),
        st.none() | st.integers(1, 5),
    )


_retry_infos = st.none() | _retry_info(
    ["validation_error", "model_retry", "unknown_tool", "unavailable_tool"]
)
speech_timestamps = st.builds(
    lambda text, start, duration, granularity: SpeechTimestamp(
        text=text, start_ms=start, duration_ms=duration, granularity=granularity
    ),
    texts,
    st.integers(0, 10**6),
    st.integers(0, 10**5),
    st.sampled_from(["word", "segment"]),
)


def speech_parts(speaker: str) -> st.SearchStrategy[SpeechPart]:
    """A speech part of one speaker (``'user'`` in requests, ``'assistant'`` in responses)."""
    audio = st.none() | st.builds(
        lambda data, media_type: BinaryContent(data, media_type=media_type),
        st.binary(max_size=16),
        st.sampled_from(["audio/wav", "audio/pcm", "audio/mpeg"]),
    )
    return st.fixed_dictionaries(
        {
            "speaker": st.just(speaker),
            "transcript": maybe_texts,
            "audio": audio,
            "interrupted_at_ms": st.none() | st.integers(0, 10**6),
            "timestamps": st.none() | st.lists(speech_timestamps, max_size=2),
            "id": maybe_texts,
            "provider_name": maybe_texts,
            "provider_details": maybe_json_objects,
        }
    ).map(lambda kw: SpeechPart(**kw))


_tool_kinds = st.none() | st.sampled_from(["custom", "my-kind"])  # not core's typed kinds (tool-search...)
_error_details = st.lists(
    st.fixed_dictionaries(
        {
            "type": short_texts,
            "loc": st.lists(short_texts | st.integers(0, 9), max_size=3),
            "msg": texts,
            "input": _tool_json,
        }
    ),
    min_size=1,
    max_size=3,
)


def _tool_return(cls: type[Any]) -> st.SearchStrategy[Any]:
    common: dict[str, st.SearchStrategy[Any]] = {
        "tool_name": short_texts,
        "content": tool_return_contents,
        "tool_call_id": short_texts,
        "tool_kind": _tool_kinds,
        "metadata": json_values(),
        "timestamp": datetimes,
        "outcome": st.sampled_from(["success", "failed", "denied", "interrupted", "retried"]),
    }
    if cls is ToolReturnPart:
        common["retry"] = _retry_infos
    else:
        common["provider_name"] = maybe_texts
        common["provider_details"] = maybe_json_objects
    return st.fixed_dictionaries(common).map(lambda kw: cls(**kw))


def request_parts(*, retry_prompts: bool = True) -> st.SearchStrategy[Any]:
    """A request part of each ``part_kind``."""
    parts = [
        st.builds(
            lambda content, ts, ref, ctx, scope, meta: SystemPromptPart(
                content, timestamp=ts, dynamic_ref=ref, context_id=ctx, scope=scope, metadata=meta
            ),
            texts,
            datetimes,
            maybe_texts,
            maybe_texts,
            st.sampled_from(["conversation", "request"]),
            maybe_json_objects,
        ),
        st.builds(
            lambda content, ts: UserPromptPart(content, timestamp=ts),
            texts | st.lists(user_contents, max_size=4),
            datetimes,
        ),
        _tool_return(ToolReturnPart),
    ]
    parts.append(
        st.builds(
            lambda content, retry, ts: RetryFeedbackPart(content, retry=retry, timestamp=ts),
            texts | _error_details,
            _retry_info(["validation_error", "no_output", "model_retry"]),
            datetimes,
        )
    )
    parts.append(speech_parts("user"))
    # a request-side compaction part is a summary the application wrote: text and metadata only
    parts.append(
        st.builds(
            lambda content, meta: CompactionPart(content, metadata=meta), maybe_texts, maybe_json_objects
        )
    )
    if retry_prompts:
        parts.append(
            st.builds(
                lambda content, name, call_id, ts: RetryPromptPart(
                    content, tool_name=name, tool_call_id=call_id, timestamp=ts
                ),
                texts | _error_details,
                maybe_texts,
                short_texts,
                datetimes,
            )
        )
    return st.one_of(parts)


# -- response parts ------------------------------------------------------------------------------------

_provider = {"provider_name": maybe_texts, "provider_details": maybe_json_objects}
_args = st.none() | texts | st.dictionaries(texts, json_values(), max_size=3)


def _tool_call(cls: type[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {
            "tool_name": short_texts,
            "args": _args,
            "tool_call_id": short_texts,
            "tool_kind": _tool_kinds,
            "id": maybe_texts,
            **_provider,
        }
    ).map(lambda kw: cls(**kw))


_citation_sources = st.one_of(
    st.builds(
        lambda url, title, excerpts: WebCitationSource(url, title=title, excerpts=excerpts),
        texts,
        maybe_texts,
        st.lists(texts, max_size=2),
    ),
    st.builds(
        lambda doc, title, excerpts: DocumentCitationSource(document_id=doc, title=title, excerpts=excerpts),
        short_texts,  # a document source needs at least one of its fields
        maybe_texts,
        st.lists(texts, max_size=2),
    ),
)
_anchors = st.none() | st.builds(
    lambda cls, start, length: cls(start=start, end=start + length),
    st.sampled_from([ContentCitationAnchor, MarkerCitationAnchor]),
    st.integers(0, 100),
    st.integers(1, 100),
)
citations = st.builds(
    lambda sources, anchor: Citation(sources, anchor=anchor),
    st.lists(_citation_sources, min_size=1, max_size=2),
    _anchors,
)


def response_parts() -> st.SearchStrategy[Any]:
    """A response part of each ``part_kind``."""
    return st.one_of(
        st.fixed_dictionaries(
            {
                "content": texts,
                "id": maybe_texts,
                **_provider,
                "citations": st.none() | st.lists(citations, max_size=2),
            }
        ).map(lambda kw: TextPart(**kw)),
        speech_parts("assistant"),
        st.fixed_dictionaries(
            {"content": texts, "id": maybe_texts, "signature": maybe_texts, **_provider}
        ).map(lambda kw: ThinkingPart(**kw)),
        _tool_call(ToolCallPart),
        _tool_call(NativeToolCallPart),
        _tool_return(NativeToolReturnPart),
        st.fixed_dictionaries({"content": binary_contents(), "id": maybe_texts, **_provider}).map(
            lambda kw: FilePart(**kw)
        ),
        st.fixed_dictionaries(
            {"content": maybe_texts, "id": maybe_texts, "metadata": maybe_json_objects, **_provider}
        ).map(lambda kw: CompactionPart(**kw)),
    )


# -- messages ------------------------------------------------------------------------------------------

usages = st.builds(
    lambda counters, audio_seconds, details, cost, extra: RequestUsage(
        **counters, audio_seconds=audio_seconds, details=details, cost=cost, extra=extra
    ),
    st.fixed_dictionaries(
        {
            name: counts
            for name in (
                "input_tokens",
                "cache_write_tokens",
                "cache_write_1h_tokens",
                "cache_read_tokens",
                "output_tokens",
                "unmeasured_requests",
                "output_reasoning_tokens",
                "input_audio_tokens",
                "cache_audio_read_tokens",
                "output_audio_tokens",
            )
        }
    ),
    st.floats(0, 1e6, allow_nan=False),
    st.dictionaries(short_texts, counts, max_size=3),
    st.none() | st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False, allow_infinity=False),
    st.dictionaries(
        st.sampled_from(["web_searches", "input_text_tokens", "output_text_tokens"]), counts, max_size=2
    ),
)
"""Token usage, including the ad-hoc counters pydantic-ai keeps (``extra``)."""


def model_requests(*, retry_prompts: bool = True) -> st.SearchStrategy[ModelRequest]:
    return st.builds(
        lambda parts, ts, instructions, run_id, conv, metadata, state: ModelRequest(
            parts,
            timestamp=ts,
            instructions=instructions,
            run_id=run_id,
            conversation_id=conv,
            metadata=metadata,
            state=state,
        ),
        st.lists(request_parts(retry_prompts=retry_prompts), max_size=4),
        st.none() | datetimes,
        maybe_texts,
        maybe_texts,
        maybe_texts,
        maybe_json_objects,
        st.sampled_from(["complete", "interrupted"]),
    )


def model_responses() -> st.SearchStrategy[ModelResponse]:
    return st.fixed_dictionaries(
        {
            "parts": st.lists(response_parts(), max_size=4),
            "usage": usages,
            "model_name": maybe_texts,
            "model_id": maybe_texts,
            "timestamp": datetimes,
            "provider_name": maybe_texts,
            "provider_url": maybe_texts,
            "canonical_system": maybe_texts,
            "provider_details": maybe_json_objects,
            "provider_response_id": maybe_texts,
            "finish_reason": st.none()
            | st.sampled_from(["stop", "length", "content_filter", "tool_call", "error"]),
            "run_id": maybe_texts,
            "conversation_id": maybe_texts,
            "metadata": maybe_json_objects,
            "state": st.sampled_from(["complete", "incomplete", "suspended", "interrupted"]),
        }
    ).map(lambda kw: ModelResponse(**kw))


def messages(*, retry_prompts: bool = True) -> st.SearchStrategy[ModelRequest | ModelResponse]:
    """A message of each ``kind``."""
    return model_requests(retry_prompts=retry_prompts) | model_responses()


def histories(*, retry_prompts: bool = True, max_size: int = 4) -> st.SearchStrategy[list[Any]]:
    """A list of messages (not necessarily a coherent conversation)."""
    return st.lists(messages(retry_prompts=retry_prompts), max_size=max_size)


# -- stream events ------------------------------------------------------------------------------------

_part_kinds = st.none() | st.sampled_from(
    [
        "text",
        "thinking",
        "tool-call",
        "builtin-tool-call",
        "builtin-tool-return",
        "file",
        "compaction",
        "speech",
    ]
)


def deltas() -> st.SearchStrategy[Any]:
    """A delta of each ``part_delta_kind``."""
    return st.one_of(
        st.fixed_dictionaries({"content_delta": texts, **_provider}).map(lambda kw: TextPartDelta(**kw)),
        st.fixed_dictionaries(
            {"content_delta": maybe_texts, "signature_delta": maybe_texts, **_provider}
        ).map(lambda kw: ThinkingPartDelta(**kw)),
        st.fixed_dictionaries(
            {
                "tool_name_delta": maybe_texts,
                "args_delta": _args,
                "tool_call_id": maybe_texts,
                **_provider,
            }
        ).map(lambda kw: ToolCallPartDelta(**kw)),
        st.fixed_dictionaries(
            {
                "speaker": st.none() | st.sampled_from(["user", "assistant"]),
                "transcript_delta": maybe_texts,
                "transcript": maybe_texts,
                "audio_chunk": st.none() | st.binary(max_size=8),
                "timestamps": st.none() | st.lists(speech_timestamps, max_size=2),
            }
        ).map(lambda kw: SpeechPartDelta(**kw)),
    )


def events() -> st.SearchStrategy[Any]:
    """A stream event of each ``event_kind``."""
    index = st.integers(0, 1000)
    return st.one_of(
        st.builds(
            lambda i, part, prev, system: PartStartEvent(i, part, prev, system),
            index,
            response_parts(),
            _part_kinds,
            maybe_texts,
        ),
        st.builds(PartDeltaEvent, index, deltas()),
        st.builds(
            lambda i, part, nxt, system: PartEndEvent(i, part, nxt, system),
            index,
            response_parts(),
            _part_kinds,
            maybe_texts,
        ),
        st.builds(FinalResultEvent, maybe_texts, maybe_texts),
    )


# -- normalisation -------------------------------------------------------------------------------------


def narrowed(value: Any) -> Any:
    """``value`` as loading gives it back: every image :class:`BinaryContent` a :class:`BinaryImage`,
    and :class:`BinaryAudio` plain binary content (as pydantic-ai does both), so
    ``load(dump(x)) == narrowed(x)``.
    """
    if isinstance(value, BinaryAudio):
        return BinaryContent(
            value.data,
            media_type=value.media_type,
            vendor_metadata=value.vendor_metadata,
            identifier=value._identifier,
        )
    if isinstance(value, BinaryContent):
        return BinaryContent.narrow_type(value)
    if isinstance(value, SpeechPart) and value.audio is not None:
        return attrs.evolve(value, audio=narrowed(value.audio))
    if isinstance(value, list):
        return [narrowed(v) for v in value]
    if isinstance(value, dict):
        return {k: narrowed(v) for k, v in value.items()}
    if isinstance(value, ModelRequest | ModelResponse):
        return attrs.evolve(value, parts=[narrowed(p) for p in value.parts])
    if isinstance(value, UserPromptPart | FilePart | ToolReturnPart | NativeToolReturnPart):
        return attrs.evolve(value, content=narrowed(value.content))
    if isinstance(value, PartStartEvent | PartEndEvent):
        return attrs.evolve(value, part=narrowed(value.part))
    return value
