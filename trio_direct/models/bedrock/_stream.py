"""ConverseStream event-stream messages → raw part events. Pure."""

from __future__ import annotations

from typing import Any, cast

import attrs
import orjson

from ..._aws.eventstream import EventStreamMessage
from ..._parts import PartsManager
from ...events import ModelResponseStreamEvent
from ...exceptions import UnexpectedModelBehavior
from ...messages import NativeToolCallPart, NativeToolReturnPart, TextPart
from ...usage import gateway_usage_cost
from .._json import JSON, SHAPE_ERRORS, json_dict, json_list
from ..base import StreamMeta
from ._errors import stream_exception
from ._profile import PROVIDER_NAME, BedrockProfile
from ._response import FINISH_REASONS, map_citations, map_usage, redacted_signature

# ---------------------------------------------------------------------------------------------
# Streams
# ---------------------------------------------------------------------------------------------


class ConverseStreamMapper:
    """ConverseStream event-stream messages → raw part events (one content block index = one part).

    ``exception`` messages raise the categorized error (:func:`stream_exception`); payloads of the wrong
    shape raise :class:`UnexpectedModelBehavior`. Unknown event types are ignored, as botocore does.
    """

    __slots__ = ("_citations", "_model_name", "_parts", "_profile", "_returns", "_seen", "_tool_ids", "meta")

    def __init__(
        self,
        parts: PartsManager,
        *,
        model_name: str,
        provider_url: str | None,
        profile: BedrockProfile,
        response_id: str | None = None,
    ) -> None:
        self._parts = parts
        self._profile = profile
        self._model_name = model_name
        self._tool_ids: dict[int, str] = {}
        self._returns: dict[int, NativeToolReturnPart] = {}
        self._citations: dict[int, list[Any]] = {}
        self._seen = False
        self.meta = StreamMeta(
            model_name=model_name,
            provider_name=PROVIDER_NAME,
            provider_url=provider_url,
            provider_response_id=response_id,
            canonical_system="anthropic" if profile.is_claude else None,
        )

    def feed(self, message: EventStreamMessage, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one event-stream message.

        Raises:
            ModelHTTPError: an exception message (``in_stream=True``), or ``ModelAPIError`` for an
                unknown exception type.
            UnexpectedModelBehavior: an event whose payload is not JSON of the event's shape.
        """
        kind = message.message_type
        if kind in ("exception", "error"):
            self._seen = True
            raise stream_exception(message, self._model_name)
        if kind not in (None, "event"):
            return
        event = message.event_type
        try:
            parsed: object = orjson.loads(message.payload) if message.payload else {}
        except orjson.JSONDecodeError as exc:
            raise UnexpectedModelBehavior(
                f"could not decode the Bedrock stream event {event!r} as JSON ({exc})",
                message.payload[:2000].decode("utf-8", "replace"),
            ) from exc
        data = json_dict(parsed)
        if data is None:
            raise UnexpectedModelBehavior(
                f"the Bedrock stream event {event!r} is not a JSON object",
                message.payload[:2000].decode("utf-8", "replace"),
            )
        self._seen = True
        try:
            if event == "contentBlockDelta":
                self._delta(data, out)
            elif event == "contentBlockStart":
                self._start(data, out)
            elif event == "contentBlockStop":
                self._stop(data, out)
            elif event == "messageStop":
                reason = data.get("stopReason")
                details = {**(self.meta.provider_details or {}), "finish_reason": reason}
                self.meta = attrs.evolve(
                    self.meta,
                    provider_details=details,
                    finish_reason=FINISH_REASONS.get(reason) if isinstance(reason, str) else None,
                )
                # the Pydantic AI Gateway reports a stream's cost here (2.68 reads it so)
                fields = data.get("additionalModelResponseFields")
                if (cost := gateway_usage_cost(fields)) is not None:
                    self.meta.usage.cost = cost
            elif event == "metadata":
                meta = self.meta
                if "usage" in data:
                    usage = map_usage(data["usage"])
                    usage.cost = meta.usage.cost  # a cost the Gateway reported at messageStop stays
                    meta = attrs.evolve(meta, usage=usage)
                if "trace" in data:
                    meta = attrs.evolve(
                        meta, provider_details={**(meta.provider_details or {}), "trace": data["trace"]}
                    )
                self.meta = meta
            # messageStart and unknown events carry nothing we keep
        except SHAPE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"could not understand the Bedrock stream event {event!r} ({type(exc).__name__}: {exc})",
                message.payload[:2000].decode("utf-8", "replace"),
            ) from exc

    def _start(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        start = cast(JSON, data["start"])
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        if tool_use := json_dict(start.get("toolUse")):
            tool_id = str(tool_use["toolUseId"])
            self._tool_ids[index] = tool_id
            name = tool_use["name"]
            if tool_use.get("type") != "server_tool_use":
                out += self._parts.handle_tool_call_delta(
                    vendor_part_id=index, tool_name=str(name), tool_call_id=tool_id
                )
            elif name == "nova_code_interpreter":
                part = NativeToolCallPart("code_execution", None, tool_id, provider_name=PROVIDER_NAME)
                out += self._parts.handle_part(vendor_part_id=index, part=part)
        elif (result := json_dict(start.get("toolResult"))) and result.get(
            "type"
        ) == "nova_code_interpreter_result":
            status = result.get("status")
            self._returns[index] = NativeToolReturnPart(
                "code_execution",
                None,
                str(result["toolUseId"]),
                provider_name=PROVIDER_NAME,
                provider_details={"status": status} if status is not None else {},
            )

    def _delta(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        delta = cast(JSON, data["delta"])
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        parts = self._parts
        if (reasoning := json_dict(delta.get("reasoningContent"))) is not None:
            if redacted := reasoning.get("redactedContent"):
                out += parts.handle_thinking_delta(
                    vendor_part_id=index,
                    id="redacted_content",
                    signature=redacted_signature(redacted),
                    provider_name=PROVIDER_NAME,
                )
            else:
                signature = reasoning.get("signature")
                text = reasoning.get("text")
                out += parts.handle_thinking_delta(
                    vendor_part_id=index,
                    content=text if isinstance(text, str) else None,
                    signature=signature if isinstance(signature, str) else None,
                    provider_name=PROVIDER_NAME if signature else None,
                )
        text = delta.get("text")
        if text:
            out += parts.handle_text_delta(
                vendor_part_id=index,
                content=str(text),
                ignore_leading_whitespace=self._profile.ignore_leading_whitespace,
            )
        if (tool_use := json_dict(delta.get("toolUse"))) is not None:
            name = tool_use.get("name")
            args = tool_use.get("input")
            out += parts.handle_tool_call_delta(
                vendor_part_id=index,
                tool_name=name if isinstance(name, str) else None,
                args=args if isinstance(args, str) else json_dict(args),
                tool_call_id=self._tool_ids.get(index),
            )
        if (citation := json_dict(delta.get("citation"))) is not None:
            self._citations.setdefault(index, []).append(citation)
        if "toolResult" in delta and (pending := self._returns.get(index)) is not None:
            items = json_list(delta["toolResult"])
            if items:
                first = json_dict(items[0]) or {}
                self._returns[index] = attrs.evolve(pending, content=first.get("json"))

    def _stop(self, data: JSON, out: list[ModelResponseStreamEvent]) -> None:
        index = data["contentBlockIndex"]
        if type(index) is not int:
            raise TypeError("contentBlockIndex must be an int")
        cited = self._citations.pop(index, [])
        part = self._parts.get_part_by_vendor_id(index)
        text = part.content if isinstance(part, TextPart) else ""
        if text and cited and (citations := map_citations(cited, text)):
            out += self._parts.handle_text_delta(
                vendor_part_id=index,
                content="",
                provider_name=PROVIDER_NAME,
                provider_details={"citations": cited},
                citations=citations,
            )
        if (returned := self._returns.pop(index, None)) is not None:
            out += self._parts.handle_part(vendor_part_id=index, part=returned)
        self._tool_ids.pop(index, None)

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended.

        Raises:
            UnexpectedModelBehavior: not a single event arrived.
        """
        del out
        if not self._seen:
            raise UnexpectedModelBehavior("the Bedrock stream ended without any event")
