"""Anthropic: the SSE events of one streamed reply → raw part events and :class:`StreamMeta`. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
    CompactionPart,
    NativeToolCallPart,
    TextPart,
)
from ...tools import ModelRequestParameters
from ...usage import gateway_usage_cost
from .._json import JSON as JSON
from .._json import SHAPE_ERRORS, json_dict, json_str
from ..base import StreamMeta
from ._errors import api_error
from ._profile import PROVIDER_NAME
from ._response import (
    FINISH_REASONS,
    SERVER_RESULT_TYPES,
    compaction_part,
    container_id,
    context_metadata,
    enabled_server_tools,
    fetched_page,
    map_citations,
    map_usage,
    mcp_call_part,
    mcp_return_part,
    message_details,
    refusal_details,
    server_tool_call_part,
    server_tool_return_part,
    tool_search_args,
    usage_details,
)

# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


class AnthropicStreamMapper:
    """SSE events of one streamed Messages reply → raw part events (one content block = one part).

    Kept lean because it runs per delta: one ``orjson.loads`` per event, dispatch on the SSE event name,
    the delta kinds tested most-frequent first, and no allocation beyond the event the parts manager
    returns. Malformed data raises :class:`UnexpectedModelBehavior`; an ``error`` event raises the
    categorized :class:`ModelHTTPError` (``in_stream=True``).
    """

    __slots__ = (
        "_calls",
        "_current",
        "_details",
        "_enabled",
        "_fetched_pages",
        "_gateway_cost",
        "_ignored",
        "_parts",
        "_pending_citations",
        "_seen",
        "_stopped",
        "_usage_details",
        "meta",
    )

    def __init__(
        self,
        parts: PartsManager,
        params: ModelRequestParameters,
        *,
        model_name: str,
        provider_url: str | None = None,
    ) -> None:
        self._parts = parts
        self._enabled = enabled_server_tools(params)
        self._ignored: set[int] = set()
        self._calls: dict[str, NativeToolCallPart] = {}
        self._pending_citations: dict[int, list[Any]] = {}
        self._fetched_pages: list[tuple[str, str]] = []
        self._current: JSON | None = None
        self._details: dict[str, Any] | None = None
        self._usage_details: dict[str, int] = {}
        # the cost a Pydantic AI Gateway put in the latest usage object: each one replaces it (2.68)
        self._gateway_cost: Decimal | None = None
        self._seen = False
        self._stopped = False
        self.meta = StreamMeta(model_name=model_name, provider_name=PROVIDER_NAME, provider_url=provider_url)

    @property
    def done(self) -> bool:
        """The end marker (``message_stop``) arrived: the stream finishes here (see ``StreamMapper``)."""
        return self._stopped

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event, appending the raw events it produces to ``out``.

        As the Anthropic SDK: ``ping`` and unnamed events are skipped, an ``error`` event raises, and
        every other event with data is dispatched on its JSON ``type`` (unknown types are ignored).

        Raises:
            ModelHTTPError: an ``error`` event, ``in_stream=True`` (``ModelAPIError`` for unknown types).
            ModelAPIError: the data is not JSON (what pydantic-ai raises for an undecodable chunk).
            UnexpectedModelBehavior: the JSON does not have the shape of its event.
        """
        name = event.event
        if name == "ping" or name is None:
            return
        raw = event.data
        if name == "error":
            self._seen = True
            self._error(raw)
        if not raw:
            return
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(
                self.meta.model_name or "", f"Failed to decode response as JSON: {exc}"
            ) from exc
        self._seen = True
        try:
            kind = data["type"]
            if kind == "content_block_delta":
                index = data["index"]
                if self._ignored and index in self._ignored:
                    return
                delta = data["delta"]
                delta_kind = delta["type"]
                parts = self._parts
                if delta_kind == "text_delta":
                    text = delta["text"]
                    if type(text) is not str or type(index) is not int:
                        raise TypeError("text_delta needs a string text and an int index")
                    out += parts.handle_text_delta(vendor_part_id=index, content=text)
                elif delta_kind == "input_json_delta":
                    partial = delta["partial_json"]
                    if type(partial) is not str or type(index) is not int:
                        raise TypeError("input_json_delta needs a string partial_json and an int index")
                    out += parts.handle_tool_call_delta(vendor_part_id=index, args=partial)
                elif delta_kind == "thinking_delta":
                    thinking = delta["thinking"]
                    if type(thinking) is not str or type(index) is not int:
                        raise TypeError("thinking_delta needs a string thinking and an int index")
                    out += parts.handle_thinking_delta(
                        vendor_part_id=index, content=thinking, provider_name=PROVIDER_NAME
                    )
                elif delta_kind == "signature_delta":
                    signature = delta["signature"]
                    if type(signature) is not str or type(index) is not int:
                        raise TypeError("signature_delta needs a string signature and an int index")
                    out += parts.handle_thinking_delta(
                        vendor_part_id=index, signature=signature, provider_name=PROVIDER_NAME
                    )
                elif delta_kind == "citations_delta":
                    self._pending_citations.setdefault(index, []).append(delta["citation"])
                elif delta_kind == "compaction_delta":
                    content = delta.get("content")
                    if content:
                        details = {k: delta[k] for k in ("encrypted_content",) if delta.get(k) is not None}
                        part = CompactionPart(
                            content if isinstance(content, str) else None,
                            provider_name=PROVIDER_NAME,
                            provider_details=details or None,
                        )
                        out += parts.handle_part(vendor_part_id=index, part=part)
            elif kind == "content_block_start":
                self._block_start(data, out)
            elif kind == "content_block_stop":
                self._block_stop(data, out)
            elif kind == "message_start":
                self._message_start(data)
            elif kind == "message_delta":
                self._message_delta(data)
            elif kind == "message_stop":
                self._stopped = True
                self._current = None
            # other types (newer than this module) are ignored, as pydantic-ai does
        except SHAPE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"could not understand the Anthropic stream event {name!r} ({type(exc).__name__}: {exc})",
                raw[:2000],
            ) from exc

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended.

        Raises:
            UnexpectedModelBehavior: nothing arrived, or the message never finished (no ``message_stop``).
        """
        del out
        if not self._seen:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        if not self._stopped:
            raise UnexpectedModelBehavior("the Anthropic stream ended before `message_stop`")

    # -- events --------------------------------------------------------------------------

    def _message_start(self, data: JSON) -> None:
        message = data["message"]
        msg = json_dict(message)
        if msg is None:
            raise TypeError("message_start needs a message object")
        model, response_id, usage = msg.get("model"), msg.get("id"), msg.get("usage")
        self._usage_details = (
            usage_details(usage_dict, message_usage=True)
            if (usage_dict := json_dict(usage)) is not None
            else {}
        )
        self._gateway_cost = gateway_usage_cost(usage)
        details = message_details(msg)
        if details:
            self._details = {**(self._details or {}), **details}
        self.meta = attrs.evolve(
            self.meta,
            model_name=model if isinstance(model, str) else self.meta.model_name,
            provider_response_id=response_id if isinstance(response_id, str) else None,
            usage=map_usage(dict(self._usage_details), cost=self._gateway_cost),
            provider_details=self._details,
        )

    def _message_delta(self, data: JSON) -> None:
        delta = data.get("delta")
        delta = json_dict(delta) or {}
        usage = json_dict(data.get("usage"))
        if usage is not None:
            self._usage_details = self._usage_details | usage_details(usage, message_usage=False)
            self._gateway_cost = gateway_usage_cost(usage)
        details = dict(self._details or {})
        stop_reason = delta.get("stop_reason")
        finish_reason = self.meta.finish_reason
        state = self.meta.state
        if stop_reason:
            details["finish_reason"] = stop_reason
            finish_reason = FINISH_REASONS.get(stop_reason) if isinstance(stop_reason, str) else None
            state = "suspended" if stop_reason == "pause_turn" else None
        if delta.get("stop_details") is not None:
            details.update(refusal_details(delta["stop_details"]))
        if (cid := container_id(delta.get("container"))) is not None:
            details["container_id"] = cid
        if transformations := data.get("input_transformations"):
            details["input_transformations"] = transformations
        self._details = details or None
        self.meta = attrs.evolve(
            self.meta,
            usage=map_usage(dict(self._usage_details), cost=self._gateway_cost),
            provider_details=self._details,
            finish_reason=finish_reason,
            state=state,
            metadata=context_metadata(usage) or self.meta.metadata,
        )

    def _block_start(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["index"]
        block = data["content_block"]
        b = json_dict(block)
        if type(index) is not int or b is None:
            raise TypeError("content_block_start needs an int index and a content_block object")
        self._current = b
        kind = b.get("type")
        parts = self._parts
        if kind == "text":
            text = json_str(b.get("text"), "text block")
            if text:
                out += parts.handle_text_delta(vendor_part_id=index, content=text)
        elif kind == "thinking":
            signature = b.get("signature")
            out += parts.handle_thinking_delta(
                vendor_part_id=index,
                content=json_str(b.get("thinking"), "thinking"),
                signature=signature if isinstance(signature, str) else None,
                provider_name=PROVIDER_NAME,
            )
        elif kind == "redacted_thinking":
            out += parts.handle_thinking_delta(
                vendor_part_id=index,
                id="redacted_thinking",
                signature=json_str(b.get("data"), "data"),
                provider_name=PROVIDER_NAME,
            )
        elif kind == "tool_use":
            tool_input = b.get("input")
            out += parts.handle_tool_call_delta(
                vendor_part_id=index,
                tool_name=json_str(b.get("name"), "tool name"),
                args=json_dict(tool_input) or None,
                tool_call_id=json_str(b.get("id"), "tool_use id"),
            )
        elif kind == "server_tool_use":
            if b.get("name") not in self._enabled:
                # unlike a whole reply, a stream cannot look ahead for the result, as upstream
                self._ignored.add(index)
                return
            call = server_tool_call_part(b)
            self._calls[call.tool_call_id] = call
            if not b.get("input"):
                call = attrs.evolve(call, args=None)
            out += parts.handle_part(vendor_part_id=index, part=call)
        elif kind in SERVER_RESULT_TYPES:
            if kind == "web_fetch_tool_result" and (page := fetched_page(b)):
                self._fetched_pages.append(page)
            out += parts.handle_part(vendor_part_id=index, part=server_tool_return_part(b))
        elif kind == "mcp_tool_use":
            call = mcp_call_part(b)
            self._calls[call.tool_call_id] = call
            prefix = call.args_as_json_str()[:-3]  # drop the final `{}}`: the input arrives as deltas
            out += parts.handle_part(vendor_part_id=index, part=attrs.evolve(call, args=None))
            out += parts.handle_tool_call_delta(vendor_part_id=index, args=prefix)
        elif kind == "mcp_tool_result":
            tool_use_id = b.get("tool_use_id")
            call_part = self._calls.get(tool_use_id) if isinstance(tool_use_id, str) else None
            out += parts.handle_part(vendor_part_id=index, part=mcp_return_part(b, call_part))
        elif kind == "compaction":
            out += parts.handle_part(vendor_part_id=index, part=compaction_part(b))

    def _block_stop(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["index"]
        if type(index) is not int:
            raise TypeError("content_block_stop needs an int index")
        pending = self._pending_citations.pop(index, None)
        if pending:
            part = self._parts.get_part_by_vendor_id(index)
            if isinstance(part, TextPart) and (
                citations := map_citations(pending, part.content, self._fetched_pages)
            ):
                out += self._parts.handle_text_delta(
                    vendor_part_id=index,
                    content="",
                    provider_name=PROVIDER_NAME,
                    provider_details={"citations": pending},
                    citations=citations,
                )
        current = self._current
        self._current = None
        if index in self._ignored:
            self._ignored.discard(index)
        elif current is not None and current.get("type") == "mcp_tool_use":
            out += self._parts.handle_tool_call_delta(vendor_part_id=index, args="}")
        elif (
            current is not None
            and current.get("type") == "server_tool_use"
            and current.get("name")
            in (
                "tool_search_tool_regex",
                "tool_search_tool_bm25",
            )
        ):
            existing = self._parts.get_part_by_vendor_id(index)
            if isinstance(existing, NativeToolCallPart) and not isinstance(existing.args, dict):
                try:
                    parsed = orjson.loads(existing.args) if existing.args else None
                except orjson.JSONDecodeError:
                    parsed = None
                args = tool_search_args(json_dict(parsed), current["name"])
                out += self._parts.handle_part(vendor_part_id=index, part=attrs.evolve(existing, args=args))

    def _error(self, raw: str) -> None:
        try:
            body: object = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = raw
        raise api_error(self.meta.model_name or "", status=None, body=body, in_stream=True)
