"""Cohere's v2 chat API over raw httpx (no ``cohere`` SDK).

``POST {CO_BASE_URL or https://api.cohere.com}/v2/chat`` for both modes; streams add ``"stream": true``
and answer with server-sent events. The behaviour is pydantic-ai 2.68's ``CohereModel`` over ``cohere``
7.3 (``tests/data/cohere_requests.json`` and ``cohere_responses.json`` hold what it sent and made of
canned replies): the same request JSON and the same ``ModelResponse`` for the same bytes.

* **Request:** ``model``, ``messages``, ``tools`` (every function and output tool, ``description``
  always present, ``null`` when unset), the sampling settings under Cohere's names (``top_p`` → ``p``,
  ``top_k`` → ``k``), ``tool_choice`` (``'REQUIRED'``/``'NONE'``; ``'auto'`` is the default and is not
  sent; a choice of named tools keeps only those tools, as Cohere cannot name one), ``thinking`` on the
  reasoning models, ``stream``. Messages: one per part — ``system`` for system prompts and each
  instruction part (placed after the leading system prompts), ``user`` (plain text, or text items: Cohere
  takes no files), ``tool`` per tool return, one ``assistant`` per response with its tool calls and its
  thinking and texts each joined by blank lines (a response with none of them is left out). A history
  with a retry prompt is sent as 2.68's direct API prepares it: a tool retry as that call's ``tool``
  result ``{"error": ...}``, any other as framed feedback in a ``user`` message, announced once by a
  ``system`` message.
* **Response:** thinking and text items in order (one part each), then the tool calls that have a name
  (ids generated where Cohere gives none; ``tool_plan`` and citations are dropped, as upstream);
  ``finish_reason`` ``COMPLETE``/``STOP_SEQUENCE`` → ``stop``, ``MAX_TOKENS`` → ``length``, ``TOOL_CALL``
  → ``tool_call``, ``ERROR`` → ``error``, the raw value in ``provider_details``. Usage as genai-prices'
  ``tokens`` extractor reads it (``tokens.input_tokens``/``output_tokens``, ``cached_tokens`` as cache
  reads), with the non-zero ``billed_units`` as ``details``.
* **Stream:** ``message-start`` gives the id, ``content-delta`` text or thinking (one part per content
  index), ``tool-call-start`` a call's name and id and ``tool-call-delta`` its argument text (one part
  per tool index), ``message-end`` the finish reason and usage; ``content-start``/``-end``,
  ``tool-plan-delta``, ``tool-call-end``, citations and ``debug`` carry nothing upstream keeps.
* **Errors:** the body is the whole JSON error (Cohere's ``{"message": ...}``) or the text; the category
  comes from the status, except a 400 whose message starts with ``too many tokens`` →
  :class:`ModelContextWindowExceededError`.

Deliberate differences from upstream, all documented where they happen:

* ``timeout`` is honoured as the inactivity limit it is everywhere in trio_direct (upstream ignores it
  with a warning). ``extra_headers``, ``extra_body`` and ``parallel_tool_calls=False`` are ignored with
  2.68's warning.
* Items upstream rejects with ``RuntimeError``/``NotImplementedError`` (files in a user prompt or in a
  tool return) raise :class:`UserError` (a ``RuntimeError``) before any I/O.
* A stream that ends without ``message-end`` raises :class:`ModelConnectionError` (upstream returns the
  truncated parts as complete); an SSE event whose data is not JSON raises
  :class:`UnexpectedModelBehavior` (the SDK logs and skips it). A 200 body that is not JSON is a
  :class:`ModelAPIError` as upstream; one of the wrong shape is :class:`UnexpectedModelBehavior`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, cast

import attrs
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent
from ..exceptions import (
    ModelAPIError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import (
    CachePoint,
    FinishReason,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserContent,
    UserPromptPart,
    generate_tool_call_id,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._common import (
    NOTE_ANNOUNCEMENT,
    bearer_headers,
    dump_error_details,
    http_status_category,
    provider_from_args,
    retry_feedback_text,
    warn_unsupported_setting,
)
from ._instructions import request_instructions
from ._json import JSON, count, json_array, json_dict
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamMeta

__all__ = [
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "THINKING_TOKEN_BUDGETS",
    "CohereModel",
    "CohereModelSettings",
    "CohereProfile",
    "CohereStreamMapper",
    "build_cohere_body",
    "cohere_http_error",
    "cohere_profile",
    "from_name",
    "map_cohere_messages",
    "map_cohere_usage",
    "parse_cohere_response",
    "validate_model_name",
]

DEFAULT_BASE_URL: Final = "https://api.cohere.com"
PROVIDER_NAME: Final = "cohere"
_PATH: Final = "v2/chat"

#: Unified ``thinking`` effort → Cohere's ``thinking.token_budget`` (pydantic-ai 2.68's table; Cohere
#: suggests 31K for maximum reasoning, leaving room for the answer).
THINKING_TOKEN_BUDGETS: Final[Mapping[str, int]] = {
    "minimal": 512,
    "low": 2048,
    "medium": 8192,
    "high": 16384,
    "xhigh": 31000,
    "max": 31000,
}

FINISH_REASONS: Final[Mapping[str, FinishReason]] = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_call",
    "ERROR": "error",
}

#: The settings 2.68's ``CohereModel`` ignores that change what a request guarantees, in the order it
#: warns about them (``parallel_tool_calls`` only when ``False`` with function tools).
_WARNED_SETTINGS: Final = ("parallel_tool_calls", "extra_headers", "extra_body")
_MULTIMODAL_ERROR: Final = (
    "Cohere does not yet support multi-modal inputs: its chat API takes text only "
    "(send the text of a document, or use another provider for images, audio and video)."
)
_TOOL_RETURN_FILES_ERROR: Final = (
    "Files are not supported in Cohere tool returns: return text or JSON from the tool instead."
)


class CohereModelSettings(ModelSettings, total=False):
    """``ModelSettings`` for Cohere; pydantic-ai 2.68 defines no ``cohere_`` keys yet."""


@attrs.frozen(slots=True)
class CohereProfile:
    """What pydantic-ai 2.68's Cohere profile says about a model."""

    #: the ``*-reasoning-*`` models think by default; ``thinking=False`` turns it off
    supports_thinking: bool = False


def cohere_profile(model_name: str) -> CohereProfile:
    """The profile of ``model_name``: the models with ``reasoning`` in their name can think."""
    return CohereProfile(supports_thinking="reasoning" in model_name)


def validate_model_name(model_name: str) -> str:
    """``model_name`` if it can be sent as Cohere's ``model`` field.

    Raises:
        UserError: the name is empty, has surrounding whitespace, or holds control characters.
    """
    if not model_name:
        raise UserError("model name missing: use 'cohere:<model name>', e.g. 'cohere:command-a-03-2025'")
    if model_name != model_name.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in model_name):
        raise UserError(
            f"invalid Cohere model name {model_name!r}: no whitespace around it, no control characters"
        )
    return model_name


def from_name(model_name: str, prefix: str) -> CohereModel:
    """The registry factory for ``'cohere:<model>'``: ``CO_API_KEY``, ``CO_BASE_URL``.

    Raises:
        UserError: no API key is set, or the model name is invalid.
    """
    del prefix
    return CohereModel(model_name)


# =============================================================================================
# Request
# =============================================================================================


def _user_message(content: str | Sequence[UserContent]) -> JSON:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    items: list[JSON] = []
    for item in content:
        if isinstance(item, str):
            items.append({"type": "text", "text": item})
        elif isinstance(item, TextContent):
            items.append({"type": "text", "text": item.content})
        elif isinstance(item, CachePoint):
            continue  # Cohere caches on its own; there are no explicit breakpoints
        else:
            raise UserError(_MULTIMODAL_ERROR)
    return {"role": "user", "content": items}


def _tool_message(part: ToolReturnPart) -> JSON:
    if part.files:
        raise UserError(_TOOL_RETURN_FILES_ERROR)
    return {
        "role": "tool",
        "tool_call_id": part.tool_call_id or generate_tool_call_id(),
        "content": part.model_response_str(),
    }


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _retry_messages(part: RetryPromptPart, announce: bool) -> list[JSON]:
    """A retry prompt as 2.68's direct API prepares it for Cohere (which has mid-conversation system
    messages): a tool retry is the call's result again, wrapped as an error; any other retry is framed
    feedback in the user's turn, the first one announced by a system message."""
    content = part.content
    if part.tool_name is not None:
        value: Any = content if isinstance(content, str) else dump_error_details(content)
        return [
            {
                "role": "tool",
                "tool_call_id": part.tool_call_id or generate_tool_call_id(),
                "content": _json_text({"error": value}),
            }
        ]
    out: list[JSON] = [{"role": "system", "content": NOTE_ANNOUNCEMENT}] if announce else []
    out.append({"role": "user", "content": retry_feedback_text(content)})
    return out


def _assistant_message(response: ModelResponse) -> JSON | None:
    """One response → one assistant message, or None when it has nothing Cohere would accept."""
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[JSON] = []
    for part in response.parts:
        if isinstance(part, TextPart):
            texts.append(part.content)
        elif isinstance(part, ThinkingPart):
            thinking.append(part.content)
        elif isinstance(part, ToolCallPart):
            calls.append(
                {
                    "id": part.tool_call_id or generate_tool_call_id(),
                    "type": "function",
                    "function": {"name": part.tool_name, "arguments": part.args_as_json_str()},
                }
            )
        # native tool parts, files and compaction parts are not sent back to Cohere
    if not texts and not thinking and not calls:
        # Cohere rejects an assistant message with neither content nor tool calls
        return None
    message: JSON = {"role": "assistant"}
    if calls:
        message["tool_calls"] = calls
    content: list[JSON] = []
    if thinking:
        content.append({"type": "thinking", "thinking": "\n\n".join(thinking)})
    if texts:
        content.append({"type": "text", "text": "\n\n".join(texts)})
    if content:
        message["content"] = content
    return message


def map_cohere_messages(
    messages: Sequence[ModelMessage], instructions: Sequence[InstructionPart]
) -> list[JSON]:
    """The ``messages`` array: one message per part in order, instructions after the leading system run.

    Raises:
        UserError: a user prompt or tool return holds a file (Cohere takes text only).
    """
    out: list[JSON] = []
    announced = False
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    out.append({"role": "system", "content": part.content})
                elif isinstance(part, UserPromptPart):
                    out.append(_user_message(part.content))
                elif isinstance(part, ToolReturnPart):
                    out.append(_tool_message(part))
                elif isinstance(part, RetryPromptPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                    announce = part.tool_name is None and not announced
                    announced = announced or announce
                    out.extend(_retry_messages(part, announce))
        elif (assistant := _assistant_message(message)) is not None:
            out.append(assistant)
    if instructions:
        leading = next((i for i, m in enumerate(out) if m["role"] != "system"), len(out))
        out[leading:leading] = [{"role": "system", "content": p.content} for p in instructions]
    return out


def _tool(tool: ToolDefinition) -> JSON:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters_json_schema,
        },
    }


def _tools_and_choice(
    settings: ModelSettings, params: ModelRequestParameters
) -> tuple[list[JSON], Literal["REQUIRED", "NONE"] | None]:
    """The tools and ``tool_choice`` to send (None: not sent, Cohere decides); 2.68's ``_get_tool_choice``.

    Raises:
        UserError: ``tool_choice`` names no known tool, or asks for a tool when there is none.
    """
    resolved = resolve_tool_choice(settings, params)
    tools = params.tool_defs
    mode: Literal["none", "auto", "required"]
    if isinstance(resolved, tuple):
        # Cohere cannot name a tool: keep only the chosen ones and allow or force tool use
        mode, names = resolved
        tools = {name: tool for name, tool in tools.items() if name in names}
    else:
        mode = resolved
    # 'none' keeps the tools: unlike Mistral, Cohere honours NONE with tools present
    choice: Literal["REQUIRED", "NONE"] | None = (
        "NONE" if mode == "none" else "REQUIRED" if mode == "required" else None
    )
    return [_tool(t) for t in tools.values()], choice


def thinking_param(
    settings: ModelSettings, params: ModelRequestParameters, profile: CohereProfile
) -> JSON | None:
    """Cohere's ``thinking`` object for unified thinking (None: not sent).

    An explicit ``params.thinking`` goes out as given; the ``thinking`` setting only on the reasoning
    models, as 2.68's ``prepare_request`` passes it on. ``False`` disables thinking, ``True`` enables it,
    an effort level enables it with a token budget.
    """
    thinking: object = params.thinking
    if thinking is None and profile.supports_thinking:
        thinking = settings.get("thinking")
    if thinking is None:
        return None
    if thinking is False:
        return {"type": "disabled"}
    if thinking is True:
        return {"type": "enabled"}
    budget = THINKING_TOKEN_BUDGETS.get(str(thinking))
    if budget is None:
        raise UserError(
            f"unsupported `thinking` value {thinking!r}: "
            f"use True, False or one of {', '.join(THINKING_TOKEN_BUDGETS)}"
        )
    return {"type": "enabled", "token_budget": budget}


def build_cohere_body(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings,
    params: ModelRequestParameters,
    profile: CohereProfile,
    *,
    stream: bool,
) -> JSON:
    """The ``/v2/chat`` request body (pure), with the keys 2.68 sends through the SDK, in its order.

    Raises:
        UserError: native structured output was asked for, an item of the history cannot be sent, the
            ``thinking`` value is unknown, or ``tool_choice`` names no known tool.
    """
    if params.output_mode == "native":
        raise UserError("Native structured output is not supported by this model.")
    if params.output_tools and params.output_mode not in ("tool", "auto"):
        # 2.68's prepare_request drops output tools outside tool output mode
        params = attrs.evolve(params, output_tools=[])
    s = settings
    tools, tool_choice = _tools_and_choice(s, params)
    body: JSON = {
        "model": model_name,
        "messages": map_cohere_messages(messages, request_instructions(messages, params)),
    }
    if tools:
        body["tools"] = tools
    for name, key in (
        ("max_tokens", "max_tokens"),
        ("stop_sequences", "stop_sequences"),
        ("temperature", "temperature"),
        ("seed", "seed"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
        ("top_k", "k"),
        ("top_p", "p"),
    ):
        if name in s:
            body[key] = s[name]  # type: ignore[literal-required]
    if tool_choice is not None:
        body["tool_choice"] = tool_choice
    if (thinking := thinking_param(s, params, profile)) is not None:
        body["thinking"] = thinking
    body["stream"] = stream
    return body


# =============================================================================================
# Response
# =============================================================================================


def map_cohere_usage(usage: Any) -> RequestUsage:
    """A ``usage`` object (a response's, or ``message-end``'s) → :class:`RequestUsage`, as 2.68 maps it.

    ``tokens.input_tokens``/``output_tokens`` and ``cached_tokens`` (cache reads) are the counts (Cohere
    sends them as floats at times; they become ints); the non-zero ``billed_units`` counters are the
    ``details``. Without ``tokens`` and ``cached_tokens`` only the details remain.
    """
    u = json_dict(usage) or {}
    details: dict[str, int] = {}
    billed = json_dict(u.get("billed_units")) or {}
    for key in ("input_tokens", "output_tokens", "search_units", "classifications"):
        if value := _number(billed.get(key)):
            details[key] = value
    tokens = json_dict(u.get("tokens"))
    cached = u.get("cached_tokens")
    if not tokens and not _number(cached):
        return RequestUsage(details=details)
    tokens = tokens or {}
    return RequestUsage(
        input_tokens=_number(tokens.get("input_tokens")),
        output_tokens=_number(tokens.get("output_tokens")),
        cache_read_tokens=_number(cached),
        details=details,
    )


def _number(value: Any) -> int:
    """A count Cohere may send as a float (``12.0``); anything else is 0."""
    if isinstance(value, float) and value == value and abs(value) < 2**63:
        return int(value)
    return count(value)


def _finish(raw: Any) -> tuple[FinishReason | None, dict[str, Any]]:
    if raw is not None and not isinstance(raw, str):
        raise TypeError("`finish_reason` is not a string")
    return (FINISH_REASONS.get(raw) if raw is not None else None), {"finish_reason": raw}


def _content_parts(content: Any) -> list[ModelResponsePart]:
    parts: list[ModelResponsePart] = []
    if content is None:
        return parts
    items = json_array(content)
    if items is None:
        raise TypeError("`message.content` is not a list")
    for item in items:
        entry = json_dict(item)
        if entry is None:
            raise TypeError("a content item is not an object")
        kind = entry.get("type")
        if kind == "text":
            text = entry.get("text")
            if not isinstance(text, str):
                raise TypeError("a text item's `text` is not a string")
            parts.append(TextPart(text))
        elif kind == "thinking":
            thought = entry.get("thinking")
            if not isinstance(thought, str):
                raise TypeError("a thinking item's `thinking` is not a string")
            parts.append(ThinkingPart(thought))
    return parts


def _tool_call_parts(tool_calls: Any) -> list[ModelResponsePart]:
    parts: list[ModelResponsePart] = []
    if tool_calls is None:
        return parts
    calls = json_array(tool_calls)
    if calls is None:
        raise TypeError("`message.tool_calls` is not a list")
    for item in calls:
        call = json_dict(item)
        if call is None:
            raise TypeError("a tool call is not an object")
        function = json_dict(call.get("function"))
        name = function.get("name") if function is not None else None
        if function is None or not name:
            continue  # 2.68 keeps only calls with a function name
        arguments, call_id = function.get("arguments"), call.get("id")
        if not isinstance(name, str) or not isinstance(arguments, str | dict | None):
            raise TypeError("a tool call's name must be a string and its arguments a string or an object")
        if call_id is not None and not isinstance(call_id, str):
            raise TypeError("a tool call's `id` is not a string")
        parts.append(
            ToolCallPart(
                name, cast(str | dict[str, Any] | None, arguments), call_id or generate_tool_call_id()
            )
        )
    return parts


def parse_cohere_response(
    body: bytes, *, model_name: str, provider_name: str = PROVIDER_NAME, provider_url: str | None = None
) -> ModelResponse:
    """A 200 ``/v2/chat`` body → :class:`ModelResponse` (pure), as 2.68's ``CohereModel`` maps it.

    Raises:
        ModelAPIError: the body is not JSON (what the SDK raises for it).
        UnexpectedModelBehavior: the JSON is not a chat response; the message quotes it.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace")
        shown = text if len(text) <= 2000 else text[:2000] + "...(truncated)"
        raise ModelAPIError(
            model_name, f"Cohere answered HTTP 200 with a body that is not JSON: {shown!r}"
        ) from None
    try:
        return _parse_response(data, model_name, provider_name, provider_url)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        text = body.decode("utf-8", "replace")
        if len(text) > 4000:
            text = text[:4000] + "...(truncated)"
        raise UnexpectedModelBehavior(
            f"Invalid response from the Cohere chat endpoint: {type(exc).__name__}: {exc}", text
        ) from None


def _parse_response(
    data: Any, model_name: str, provider_name: str, provider_url: str | None
) -> ModelResponse:
    response = json_dict(data)
    if response is None:
        raise TypeError("the body is not a JSON object")
    message = json_dict(response["message"])
    if message is None:
        raise TypeError("`message` is not an object")
    response_id = response.get("id")
    if response_id is not None and not isinstance(response_id, str):
        raise TypeError("`id` is not a string")
    parts = _content_parts(message.get("content")) + _tool_call_parts(message.get("tool_calls"))
    finish_reason, details = _finish(response.get("finish_reason"))
    usage = response.get("usage")
    return ModelResponse(
        parts,
        usage=RequestUsage(unmeasured_requests=1) if usage is None else map_cohere_usage(usage),
        model_name=model_name,
        provider_name=provider_name,
        provider_url=provider_url,
        finish_reason=finish_reason,
        provider_details=details,
        provider_response_id=response_id,
    )


# =============================================================================================
# Errors
# =============================================================================================


def cohere_http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A 4xx/5xx as 2.68's ``CohereModel`` raises it: the whole JSON body (or the text) as ``body``, the
    category from the status and message (a 400 saying ``too many tokens`` is a context-window error)."""
    try:
        parsed: object = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace")
        parsed = text if len(text) <= 2000 else text[:2000] + "...(truncated)"
    fields = json_dict(parsed)
    message = fields.get("message") if fields is not None else None
    category = http_status_category(status, message)
    if status == 400 and isinstance(message, str) and message.lower().startswith("too many tokens"):
        category = ModelContextWindowExceededError
    return ModelHTTPError.for_category(
        category, status_code=status, model_name=model_name, body=parsed, headers=headers
    )


# =============================================================================================
# Stream
# =============================================================================================


class CohereStreamMapper:
    """Cohere's v2 SSE events → raw part events and :class:`StreamMeta` (one per stream, pure).

    Text and thinking deltas go to one part per ``(kind, content index)``, tool calls to one part per tool
    index; ``message-end`` sets the finish reason and replaces the usage.
    """

    __slots__ = ("_ended", "_events", "_usage_seen", "meta", "parts")

    def __init__(
        self, parts: PartsManager, *, model_name: str, provider_name: str, provider_url: str | None
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name, provider_name=provider_name, provider_url=provider_url)
        self._events = 0
        self._ended = False
        self._usage_seen = False

    @property
    def done(self) -> bool:
        """The end marker (``message-end``) arrived: the stream finishes here (see ``StreamMapper``)."""
        return self._ended

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            UnexpectedModelBehavior: the event's data is not a JSON object of the right shape.
        """
        data = event.data
        if not data or data.startswith("[DONE]"):
            return
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UnexpectedModelBehavior("Invalid event in the Cohere stream", data) from None
        chunk = json_dict(parsed)
        if chunk is None:
            raise UnexpectedModelBehavior("Invalid event in the Cohere stream", data)
        try:
            self._event(chunk, event.event, out)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnexpectedModelBehavior(
                f"Invalid event in the Cohere stream: {type(exc).__name__}: {exc}", data
            ) from None

    def _event(self, chunk: JSON, sse_type: str | None, out: list[ModelResponseStreamEvent]) -> None:
        self._events += 1
        kind = chunk.get("type", sse_type)
        if kind == "message-start":
            response_id = chunk.get("id")
            if response_id:
                if not isinstance(response_id, str):
                    raise TypeError("`id` is not a string")
                self.meta = attrs.evolve(self.meta, provider_response_id=response_id)
        elif kind == "content-delta":
            content = _delta_message(chunk).get("content")
            content = json_dict(content) if content is not None else None
            if content is None:
                return
            index = chunk.get("index")
            if thinking := content.get("thinking"):
                if not isinstance(thinking, str):
                    raise TypeError("`thinking` is not a string")
                out.extend(
                    self.parts.handle_thinking_delta(vendor_part_id=("thinking", index), content=thinking)
                )
            elif text := content.get("text"):
                if not isinstance(text, str):
                    raise TypeError("`text` is not a string")
                out.extend(self.parts.handle_text_delta(vendor_part_id=("text", index), content=text))
        elif kind in ("tool-call-start", "tool-call-delta"):
            self._tool_call(chunk, kind == "tool-call-start", out)
        elif kind == "message-end":
            self._ended = True
            delta = json_dict(chunk.get("delta")) or {}
            changes: JSON = {}
            if raw := delta.get("finish_reason"):
                changes["finish_reason"], changes["provider_details"] = _finish(raw)
            if (usage := delta.get("usage")) is not None:
                # reported usage replaces the running one, even when it counts nothing
                self._usage_seen = True
                changes["usage"] = map_cohere_usage(usage)
            if changes:
                self.meta = attrs.evolve(self.meta, **changes)
        # content-start/-end, tool-plan-delta, tool-call-end, citation-*, debug: nothing 2.68 keeps

    def _tool_call(self, chunk: JSON, start: bool, out: list[ModelResponseStreamEvent]) -> None:
        index = chunk.get("index")
        call = _delta_message(chunk).get("tool_calls")
        if index is None or not call:
            return
        call = json_dict(call)
        if call is None:
            raise TypeError("`tool_calls` is not an object")
        function = json_dict(call.get("function"))
        if start:
            # the start names the call; its arguments (if any) are not taken, as upstream
            name = function.get("name") if function is not None else None
            call_id = call.get("id")
            if not isinstance(name, str | None) or not isinstance(call_id, str | None):
                raise TypeError("a tool call's name or id is not a string")
            out.extend(
                self.parts.handle_tool_call_delta(
                    vendor_part_id=("tool", index), tool_name=name or None, tool_call_id=call_id or None
                )
            )
            return
        args = function.get("arguments") if function is not None else None
        if not isinstance(args, str | None):
            raise TypeError("a tool call's `arguments` is not a string")
        out.extend(self.parts.handle_tool_call_delta(vendor_part_id=("tool", index), args=args))

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: report an empty or truncated stream, or count missing usage as unmeasured.

        Raises:
            UnexpectedModelBehavior: the body held no event at all.
            ModelConnectionError: no ``message-end`` arrived.
        """
        if not self._events:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        if not self._ended:
            raise ModelConnectionError(
                self.meta.model_name or "",
                "the Cohere stream ended without a `message-end` event; the response is probably truncated",
                phase="read",
                in_stream=True,
            )
        if not self._usage_seen:
            self.meta = attrs.evolve(self.meta, usage=RequestUsage(unmeasured_requests=1))


def _delta_message(chunk: JSON) -> JSON:
    delta = json_dict(chunk.get("delta")) or {}
    return json_dict(delta.get("message")) or {}


# =============================================================================================
# The model
# =============================================================================================


class CohereModel(HTTPModel):
    """A Cohere model (``cohere:<model>``) over ``POST {base_url}/v2/chat``, streamed and not.

    Args:
        model_name: ``'command-a-03-2025'``, ``'command-a-reasoning-08-2025'``, ``'command-r7b-12-2024'``, ...
        api_key: the API key; default ``CO_API_KEY`` (then ``COHERE_API_KEY``, which the SDK reads too).
        base_url: the server root; default ``CO_BASE_URL`` (then ``COHERE_BASE_URL``), else
            ``https://api.cohere.com``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``.
        settings: default settings.

    Raises:
        UserError: no API key was given or found, or the model name cannot be sent.
    """

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: Provider | None = None,
        settings: CohereModelSettings | None = None,
    ) -> None:
        validate_model_name(model_name)
        if provider is None:
            provider = provider_from_args(
                PROVIDER_NAME,
                api_key=api_key,
                base_url=base_url,
                key_vars=("CO_API_KEY", "COHERE_API_KEY"),
                url_vars=("CO_BASE_URL", "COHERE_BASE_URL"),
                default_base_url=DEFAULT_BASE_URL,
                missing_key="Set the `CO_API_KEY` environment variable or pass it via "
                "`CohereModel(..., api_key=...)` to use the Cohere provider.",
            )
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = cohere_profile(model_name)
        self._url = provider.url(_PATH)
        self._provider_url = provider.base_url.rstrip("/")
        headers = bearer_headers(provider)
        self._headers = {**headers, "accept": "application/json"}
        self._stream_headers = {**headers, "accept": "text/event-stream"}

    @property
    def base_url(self) -> str:
        return self._provider_url

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        """The ``/v2/chat`` request (pure); warns about the settings Cohere ignores, as 2.68 does.

        Raises:
            UserError: see :func:`build_cohere_body`.
        """
        for name in _WARNED_SETTINGS:
            if name not in settings:
                continue
            if name == "parallel_tool_calls" and (
                settings.get("parallel_tool_calls") is not False or not params.function_tools
            ):
                continue
            warn_unsupported_setting(name, self.model_id, stacklevel=4)
        body = build_cohere_body(self._model_name, messages, settings, params, self.profile, stream=stream)
        return _http.HTTPRequest.json(self._url, body, self._stream_headers if stream else self._headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return parse_cohere_response(
            body, model_name=self._model_name, provider_name=self.system, provider_url=self._provider_url
        )

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> CohereStreamMapper:
        return CohereStreamMapper(
            parts, model_name=self._model_name, provider_name=self.system, provider_url=self._provider_url
        )

    http_error = staticmethod(cohere_http_error)
