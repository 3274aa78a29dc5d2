"""Gemini: the SSE chunks of one streamed reply → raw part events and :class:`StreamMeta`. Pure."""

from __future__ import annotations

from typing import Final, cast

import attrs
import orjson

from ..._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from ..._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ...events import ModelResponseStreamEvent
from ...exceptions import (
    ModelAPIError,
    UnexpectedModelBehavior,
)
from ...messages import (
    FilePart,
    NativeToolReturnPart,
    TextPart,
)
from ...tools import ModelRequestParameters
from ...usage import RequestUsage, gateway_usage_cost
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._json import JSON as JSON
from .._json import SHAPE_ERRORS, json_dict
from ..base import StreamMeta
from ._errors import stream_error
from ._profile import MEDIA_PROCESSING, GoogleProfile
from ._response import (
    Contribution,
    binary,
    blocked_details,
    code_result,
    context_metadata,
    executable_code_call,
    expect_obj,
    file_search_enabled,
    fill_file_search,
    fill_web_search,
    finish_details,
    grounding_citations,
    grounding_parts_after_text,
    has_native_invocations,
    is_signature_only,
    map_usage,
    native_call,
    native_return,
    signature_details,
    timestamp,
    url_context_parts,
    with_web_searches,
)

# =============================================================================================
# 4. Stream
# =============================================================================================


_META_FIELDS: Final = tuple(f.name for f in attrs.fields(StreamMeta))
_set: Final = object.__setattr__


def _meta_with(meta: StreamMeta, changes: JSON) -> StreamMeta:
    """``attrs.evolve(meta, **changes)`` at a fraction of the cost (once per chunk, on the hot path).

    StreamMeta is a frozen, slotted attrs class without validators or converters, so a copy can be
    filled slot by slot.
    """
    new = StreamMeta.__new__(StreamMeta)
    get = changes.get
    for name in _META_FIELDS:
        _set(new, name, get(name, getattr(meta, name)))
    return new


class GoogleStreamMapper:
    """SSE events of one ``streamGenerateContent?alt=sse`` reply → raw part events.

    Each event is a whole ``GenerateContentResponse`` holding only the new parts and a cumulative usage
    snapshot. Consecutive text parts (across events too) extend one :class:`TextPart`; thoughts extend
    the latest :class:`ThinkingPart`; anything else starts a part of its own. Kept lean because it runs
    per delta: one ``orjson.loads`` per event, the usage recomputed only when its snapshot changed, and
    the meta rebuilt only when something in it did. Grounding metadata (web search, citations) arrives
    on the final event and becomes parts in :meth:`finish`.
    """

    __slots__ = (
        "_billed_per_prompt",
        "_blocked",
        "_code_call_id",
        "_continue_text_run",
        "_details",
        "_file_search",
        "_file_search_ids",
        "_grounding",
        "_invocations",
        "_last_metadata",
        "_media_call_id",
        "_media_call_vendor",
        "_new_request_vendor",
        "_next_vendor",
        "_parts",
        "_pending_file_search",
        "_pending_web_search",
        "_provider_name",
        "_seen",
        "_text_runs",
        "_usage_cache",
        "_usage_received",
        "meta",
    )

    def __init__(
        self,
        parts: PartsManager,
        params: ModelRequestParameters,
        *,
        model_name: str,
        provider_url: str | None = None,
        profile: GoogleProfile | None = None,
    ) -> None:
        self._parts = parts
        self._file_search = file_search_enabled(params)
        profile = profile or GoogleProfile.for_model(model_name)
        self._billed_per_prompt = profile.web_search_billed_per_prompt
        self._provider_name = name = profile.provider_name
        self._seen = False
        self._usage_received = False
        self._last_metadata: JSON | None = None
        self._usage_cache: dict[str, tuple[object, Contribution]] = {}
        self._details: JSON | None = None
        self._blocked = False
        self._invocations = False
        self._grounding: JSON | None = None
        self._text_runs: list[int] = []  # vendor ids of the text parts, for citations
        self._continue_text_run = False
        self._new_request_vendor: int | None = None
        self._next_vendor = 0
        self._code_call_id: str | None = None
        self._file_search_ids: list[str] = []
        self._media_call_id: str | None = None
        self._media_call_vendor: int | None = None
        self._pending_web_search: NativeToolReturnPart | None = None
        self._pending_file_search: list[NativeToolReturnPart] = []
        self.meta = StreamMeta(
            model_name=model_name,
            provider_name=name,
            provider_url=provider_url,
            canonical_system=name,
        )

    def _vendor(self) -> int:
        self._next_vendor += 1
        return self._next_vendor

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event (one ``GenerateContentResponse``), appending its raw events to ``out``.

        Raises:
            ModelAPIError: the event's data is not JSON (as the SDK reports it).
            UnexpectedModelBehavior: the event's data cannot be understood.
            ModelHTTPError: an error chunk (categorized, ``in_stream=True``).
        """
        raw = event.data
        if not raw:
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ModelAPIError(
                self.meta.model_name or "",
                "Failed to decode response as JSON: Failed to parse response as JSON. "
                f"Raw response: {raw[:2000]}",
            ) from None
        try:
            if type(data) is not dict:
                raise TypeError(f"expected a JSON object, got {type(data).__name__}")
            chunk = cast(JSON, data)
            if (error := chunk.get("error")) is not None:
                raise stream_error(self.meta.model_name or "", chunk, error)
            first = not self._seen
            self._seen = True
            self._chunk(chunk, first, out)
        except (ModelAPIError, UnexpectedModelBehavior):
            raise
        except SHAPE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"could not understand a Gemini stream event ({type(exc).__name__}: {exc})", raw[:2000]
            ) from exc

    def _chunk(self, chunk: JSON, first: bool, out: list[ModelResponseStreamEvent]) -> None:
        meta = self.meta
        changes: JSON = {}
        if first:
            model_version = chunk.get("modelVersion")
            if isinstance(model_version, str) and model_version:
                changes["model_name"] = model_version
            if (created := timestamp(chunk.get("createTime"))) is not None:
                self._details = {"timestamp": created}
                changes["provider_details"] = self._details
        candidates = chunk.get("candidates")
        metadata = chunk.get("usageMetadata")
        if metadata is not None:
            if type(metadata) is not dict:
                raise TypeError("usageMetadata must be an object")
            self._usage_received = True
            if metadata != self._last_metadata:
                usage_metadata = self._last_metadata = cast(JSON, metadata)
                changes["usage"] = map_usage(usage_metadata, meta.usage, self._usage_cache)
                if (traffic := usage_metadata.get("trafficType")) and isinstance(traffic, str):
                    self._details = {**(self._details or {}), "traffic_type": traffic}
                    changes["provider_details"] = self._details
                if "initialPromptTokenCount" in usage_metadata and (
                    context := context_metadata(usage_metadata)
                ):
                    changes["metadata"] = context
        if not candidates:
            if (blocked := blocked_details(chunk)) is not None:
                self._blocked = True
                self._details = {**(self._details or {}), **blocked}
                changes["provider_details"] = self._details
                changes["finish_reason"] = "content_filter"
                if isinstance(response_id := chunk.get("responseId"), str) and response_id:
                    changes["provider_response_id"] = response_id
            if changes:
                self.meta = _meta_with(meta, changes)
            return
        if type(candidates) is not list:
            raise TypeError("candidates must be a list")
        candidate_list = cast(list[object], candidates)
        first_candidate = candidate_list[0]
        if type(first_candidate) is not dict:
            raise TypeError("candidates must be objects")
        candidate = cast(JSON, first_candidate)
        response_id = chunk.get("responseId")
        if isinstance(response_id, str) and response_id and response_id != meta.provider_response_id:
            if meta.provider_response_id is not None:
                self._new_request_vendor = self._vendor()  # a continuation's first output starts a new part
            changes["provider_response_id"] = response_id
        if candidate.get("finishReason") and not self._blocked and (finished := finish_details(candidate)):
            self._details = {**(self._details or {}), **finished[1]}
            changes["provider_details"] = self._details
            changes["finish_reason"] = finished[0]
        grounding = candidate.get("groundingMetadata")
        if grounding is not None:
            self._grounding = json_dict(grounding)
            changes["usage"] = with_web_searches(
                changes.get("usage", meta.usage), candidate_list, billed_per_prompt=self._billed_per_prompt
            )
        if changes:
            self.meta = _meta_with(meta, changes)
        if not self._invocations and (url_context := candidate.get("urlContextMetadata")) is not None:
            for part in url_context_parts(json_dict(url_context), provider_name=self._provider_name):
                out += self._parts.handle_part(vendor_part_id=None, part=part)
        content = candidate.get("content")
        if content is None:
            return
        if type(content) is not dict:
            raise TypeError("content must be an object")
        raw_parts = cast(JSON, content).get("parts")
        if not raw_parts:
            return
        if type(raw_parts) is not list:
            raise TypeError("parts must be a list")
        for raw in cast(list[object], raw_parts):
            if type(raw) is not dict:
                raise TypeError("parts must be objects")
            part_json = cast(JSON, raw)
            if not self._invocations and ("toolCall" in part_json or "toolResponse" in part_json):
                self._invocations = has_native_invocations([part_json])
            self._part(part_json, out)

    def _part(self, part: JSON, out: list[ModelResponseStreamEvent]) -> None:
        if "partMetadata" in part and (cost := gateway_usage_cost(part["partMetadata"])) is not None:
            # the Pydantic AI Gateway reports a stream's cost on the last part of the final chunk (often
            # an empty text part it adds), after that chunk's usage (2.68)
            usage = self.meta.usage + RequestUsage()  # a copy: usage handed out earlier keeps its own
            usage.cost = cost
            self.meta = attrs.evolve(self.meta, usage=usage)
        text = part.get("text")
        signature = part.get("thoughtSignature")
        details = signature_details(part) if signature else None
        if text is not None:
            if type(text) is not str:
                raise TypeError("text must be a string")
            if not text and details is None:
                return  # Gemini's trailing empty text (often with the finish reason)
            provider_name = self._provider_name if details else None
            if part.get("thought"):
                self._continue_text_run = False
                out += self._parts.handle_thinking_delta(
                    vendor_part_id=self._new_request_vendor,
                    content=text,
                    provider_name=provider_name,
                    provider_details=details,
                )
            else:
                if not self._continue_text_run or self._new_request_vendor is not None:
                    self._text_runs.append(self._vendor())
                    self._continue_text_run = True
                out += self._parts.handle_text_delta(
                    vendor_part_id=self._text_runs[-1],
                    content=text,
                    provider_name=provider_name,
                    provider_details=details,
                )
            self._new_request_vendor = None
            return
        if part.get("functionResponse") is not None or (details is not None and is_signature_only(part)):
            return  # neither makes a part of its own, and neither ends a text run
        self._continue_text_run = False
        if (call := part.get("functionCall")) is not None:
            function_call = expect_obj(call, "functionCall")
            name = function_call.get("name")
            args = function_call.get("args")
            if not isinstance(name, str) or (args is not None and type(args) is not dict):
                raise TypeError("a function call needs a name and object args")
            tool_call_id = function_call.get("id")
            if tool_call_id is not None and not isinstance(tool_call_id, str):
                raise TypeError("functionCall.id must be a string")
            out += self._parts.handle_tool_call_part(
                vendor_part_id=None,
                tool_name=name,
                args=cast(JSON | None, args),
                tool_call_id=tool_call_id or None,
                provider_name=self._provider_name if details else None,
                provider_details=details,
            )
        elif (inline := part.get("inlineData")) is not None:
            if part.get("thought"):
                return  # interim images of an image model's thinking are not exposed
            file_part = FilePart(
                binary(expect_obj(inline, "inlineData")),
                provider_name=self._provider_name if details else None,
                provider_details=details,
            )
            out += self._parts.handle_part(vendor_part_id=None, part=file_part)
        elif (tool_call := part.get("toolCall")) is not None:
            self._native_call(expect_obj(tool_call, "toolCall"), details, out)
        elif (tool_response := part.get("toolResponse")) is not None:
            self._native_return(expect_obj(tool_response, "toolResponse"), details, out)
        elif (code := part.get("executableCode")) is not None:
            call_part = executable_code_call(
                expect_obj(code, "executableCode"),
                file_search=self._file_search,
                provider_name=self._provider_name,
            )
            if call_part.tool_name == "file_search":
                self._file_search_ids.append(call_part.tool_call_id)
            else:
                self._code_call_id = call_part.tool_call_id
            out += self._parts.handle_part(
                vendor_part_id=None, part=attrs.evolve(call_part, provider_details=details)
            )
        elif (result := part.get("codeExecutionResult")) is not None:
            return_part = code_result(
                expect_obj(result, "codeExecutionResult"),
                self._code_call_id,
                provider_name=self._provider_name,
            )
            out += self._parts.handle_part(
                vendor_part_id=None, part=attrs.evolve(return_part, provider_details=details)
            )
        elif details is None or not is_signature_only(part):
            raise UnexpectedModelBehavior(f"Unsupported response from Gemini: {part!r}")

    def _native_call(
        self, tool_call: JSON, details: JSON | None, out: list[ModelResponseStreamEvent]
    ) -> None:
        call = attrs.evolve(
            native_call(tool_call, provider_name=self._provider_name), provider_details=details
        )
        vendor = self._vendor()
        if call.tool_name == MEDIA_PROCESSING:
            self._media_call_id = call.tool_call_id
            self._media_call_vendor = vendor if tool_call.get("id") is None else None
        out += self._parts.handle_part(vendor_part_id=vendor, part=call)

    def _native_return(
        self, tool_response: JSON, details: JSON | None, out: list[ModelResponseStreamEvent]
    ) -> None:
        part = attrs.evolve(
            native_return(tool_response, provider_name=self._provider_name), provider_details=details
        )
        if part.tool_name == MEDIA_PROCESSING:
            if tool_response.get("id") is None and self._media_call_id is not None:
                part = attrs.evolve(part, tool_call_id=self._media_call_id)
            elif self._media_call_vendor is not None:
                # the response supplies the id the call left out; tell stream consumers too
                out += self._parts.handle_tool_call_delta(
                    vendor_part_id=self._media_call_vendor, tool_call_id=part.tool_call_id
                )
            self._media_call_id = self._media_call_vendor = None
            out += self._parts.handle_part(vendor_part_id=None, part=part)
        elif part.tool_name == "web_search":
            # only the response's last web_search return gets the sources: an earlier one is complete now
            if (previous := self._pending_web_search) is not None:
                out += self._parts.handle_part(vendor_part_id=None, part=previous)
            self._pending_web_search = part
        elif part.tool_name == "file_search" and part.content is None:
            self._pending_file_search.append(part)
        else:
            out += self._parts.handle_part(vendor_part_id=None, part=part)

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: grounding citations and parts, then the final usage.

        Raises:
            UnexpectedModelBehavior: the stream held no response at all.
        """
        if not self._seen:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        parts = self._parts
        grounding = self._grounding
        if grounding is not None and self._text_runs:
            texts: dict[int, str] = {}
            for i, vendor in enumerate(self._text_runs):
                found = parts.get_part_by_vendor_id(vendor)
                if isinstance(found, TextPart) and found.content:
                    texts[i] = found.content
            for i, (citations, details) in grounding_citations(texts, grounding).items():
                out += parts.handle_text_delta(
                    vendor_part_id=self._text_runs[i],
                    content="",
                    provider_name=self._provider_name,
                    provider_details=details,
                    citations=citations,
                )
        for pending in self._pending_file_search:
            out += parts.handle_part(vendor_part_id=None, part=fill_file_search(pending, grounding))
        if (web_search := self._pending_web_search) is not None:
            out += parts.handle_part(vendor_part_id=None, part=fill_web_search(web_search, grounding))
        if not self._invocations:
            for part in grounding_parts_after_text(
                grounding, self._file_search_ids, provider_name=self._provider_name
            ):
                out += parts.handle_part(vendor_part_id=None, part=part)
        if not self._usage_received:
            usage = attrs.evolve(self.meta.usage, unmeasured_requests=1)
            self.meta = attrs.evolve(self.meta, usage=usage)
