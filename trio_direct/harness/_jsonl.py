"""Batch files: the OpenAI Batch JSONL input and output formats, and the simple ``{id, prompt}`` form.

Input lines (one JSON object each):

* OpenAI Batch API / vLLM ``run-batch``: ``{"custom_id", "method": "POST", "url", "body"}`` where
  ``url`` is ``/v1/chat/completions`` (the body is a Chat Completions request) or ``/v1/responses``
  (a Responses request). The body maps faithfully to messages, settings and parameters (see
  :func:`chat_body_to_request` and :func:`responses_body_to_request`); a field that cannot be honoured
  makes that item fail with a :class:`UserError` naming it, never silently ignored.
* simple: ``{"id", "prompt"}`` or ``{"id", "messages"}`` (Chat Completions messages, or pydantic-ai
  messages JSON when they carry ``kind``), with optional ``"model"``, ``"system"``, ``"settings"``.

Output lines follow the OpenAI batch output shape: ``{"id", "custom_id", "response": {"status_code",
"request_id", "body"}, "error"}``; the body is a Chat Completions (or Responses) object built from the
:class:`ModelResponse`.
"""

# This module walks untyped JSON (dicts of Any); every value is checked where it is used, so the
# "partially unknown" reports would only repeat that.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, Final, TypeAlias, cast

import orjson

from ..exceptions import ModelHTTPError, UserError
from ..messages import (
    BinaryContent,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from ..serialization import messages_from_python
from ..settings import ModelSettings
from ..tools import ModelRequestParameters, OutputObjectDefinition, ToolDefinition
from ._items import Item, Outcome, error_to_python

__all__ = [
    "CHAT_URL",
    "RESPONSES_URL",
    "chat_body_to_request",
    "outcome_to_batch_line",
    "parse_line",
    "responses_body_to_request",
]

CHAT_URL: Final = "/v1/chat/completions"
RESPONSES_URL: Final = "/v1/responses"

Parsed: TypeAlias = "tuple[list[ModelMessage], ModelSettings, ModelRequestParameters, str | None]"

# Chat Completions fields mapped one to one onto settings.
_CHAT_SETTINGS: Final = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
    "logit_bias": "logit_bias",
    "parallel_tool_calls": "parallel_tool_calls",
    "service_tier": "service_tier",
    "reasoning_effort": "openai_reasoning_effort",
    "user": "openai_user",
    "logprobs": "openai_logprobs",
    "top_logprobs": "openai_top_logprobs",
    "store": "openai_store",
    "prompt_cache_key": "openai_prompt_cache_key",
}
# Fields with no effect on the answer, accepted and dropped.
_IGNORED: Final = frozenset({"model", "metadata", "stream_options"})


def _user_content(content: Any, where: str) -> str | list[Any]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise UserError(f"{where}: content must be a string or a list of parts")
    parts: list[Any] = []
    for index, part in enumerate(content):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if not isinstance(part, dict):
            raise UserError(f"{where}.content[{index}] must be an object")
        kind = part.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if kind in ("text", "input_text"):
            parts.append(str(part.get("text", "")))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
        elif kind in ("image_url", "input_image"):
            image = part.get("image_url")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            url = image.get("url") if isinstance(image, dict) else image  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if not isinstance(url, str):
                raise UserError(f"{where}.content[{index}]: image_url needs a url")
            parts.append(BinaryContent.from_data_uri(url) if url.startswith("data:") else ImageUrl(url))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            fmt = str(audio.get("format", "wav"))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            data = base64.b64decode(str(audio.get("data", "")))  # pyright: ignore[reportUnknownMemberType, reportUnknownArgumentType]
            parts.append(BinaryContent(data, media_type=f"audio/{'mpeg' if fmt == 'mp3' else fmt}"))
        else:
            raise UserError(f"{where}.content[{index}]: content part type {kind!r} is not supported")
    return parts


def _text_content(content: Any, where: str) -> str:
    value = _user_content(content, where)
    if isinstance(value, str):
        return value
    if not all(isinstance(p, str) for p in value):
        raise UserError(f"{where}: only text content is supported here")
    return "".join(value)


def _chat_messages(raw: Any) -> list[ModelMessage]:
    """Chat Completions messages → requests and responses (consecutive non-assistant ones grouped)."""
    if not isinstance(raw, list) or not raw:
        raise UserError("messages must be a non-empty list")
    out: list[ModelMessage] = []
    parts: list[Any] = []
    names: dict[str, str] = {}  # tool_call_id -> tool name, for tool results
    for index, message in enumerate(raw):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise UserError(f"{where} must be an object")
        msg: dict[str, Any] = message  # pyright: ignore[reportUnknownVariableType]
        role = msg.get("role")
        if role in ("system", "developer"):
            parts.append(SystemPromptPart(_text_content(msg.get("content"), where)))
        elif role == "user":
            parts.append(UserPromptPart(_user_content(msg.get("content"), where)))
        elif role == "tool":
            call_id = str(msg.get("tool_call_id", ""))
            parts.append(
                ToolReturnPart(names.get(call_id, ""), _text_content(msg.get("content"), where), call_id)
            )
        elif role == "assistant":
            if parts:
                out.append(ModelRequest(parts))
                parts = []
            response_parts: list[Any] = []
            if msg.get("content"):
                response_parts.append(TextPart(_text_content(msg["content"], where)))
            for call in msg.get("tool_calls") or []:
                function = call.get("function") or {}
                name = str(function.get("name", ""))
                call_id = str(call.get("id", ""))
                names[call_id] = name
                response_parts.append(ToolCallPart(name, function.get("arguments"), call_id))
            out.append(ModelResponse(response_parts))
        else:
            raise UserError(f"{where}: role {role!r} is not supported")
    if parts:
        out.append(ModelRequest(parts))
    if not isinstance(out[-1], ModelRequest):
        raise UserError("the last message must not be an assistant message")
    return out


def _function_tool(spec: Mapping[str, Any], where: str) -> ToolDefinition:
    if spec.get("type") != "function":
        raise UserError(f"{where}: tool type {spec.get('type')!r} is not supported (only 'function')")
    fn: Mapping[str, Any] = spec.get("function", spec)  # Responses tools are flat
    name = fn.get("name")
    if not isinstance(name, str) or not name:
        raise UserError(f"{where}: a function tool needs a name")
    return ToolDefinition(
        name=name,
        description=fn.get("description"),
        parameters_json_schema=fn.get("parameters") or {"type": "object", "properties": {}},
        strict=fn.get("strict"),
    )


def _tool_choice(value: Any) -> Any:
    if value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict):
        choice: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        name = (choice.get("function") or {}).get("name") or choice.get("name")
        if choice.get("type") == "function" and isinstance(name, str):
            return [name]
    raise UserError(f"tool_choice {value!r} is not supported")


def _schema_output(spec: Mapping[str, Any], where: str) -> OutputObjectDefinition:
    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise UserError(f"{where}: json_schema needs a 'schema' object")
    return OutputObjectDefinition(
        json_schema=schema,  # pyright: ignore[reportUnknownArgumentType]
        name=spec.get("name"),
        description=spec.get("description"),
        strict=spec.get("strict"),
    )


def chat_body_to_request(body: Mapping[str, Any]) -> Parsed:
    """A Chat Completions request body → ``(messages, settings, parameters, model)``.

    Raises:
        UserError: a field that cannot be honoured (``n`` > 1, ``stream``, ``json_object`` output, an
            unknown field, a non-function tool, an unknown role or content part), named in the message.
    """
    messages = _chat_messages(body.get("messages"))
    settings = ModelSettings()
    tools: list[ToolDefinition] = []
    params = ModelRequestParameters()
    output: OutputObjectDefinition | None = None
    for key, value in body.items():
        if key == "messages" or key in _IGNORED or value is None:
            continue
        if key in _CHAT_SETTINGS:
            settings[_CHAT_SETTINGS[key]] = value  # type: ignore[literal-required]
        elif key in ("max_tokens", "max_completion_tokens"):
            settings["max_tokens"] = int(value)
        elif key == "stop":
            settings["stop_sequences"] = [value] if isinstance(value, str) else list(value)
        elif key == "tools":
            tools = [_function_tool(t, f"tools[{i}]") for i, t in enumerate(value)]
        elif key == "tool_choice":
            settings["tool_choice"] = _tool_choice(value)
        elif key == "n":
            if value != 1:
                raise UserError("n > 1 is not supported: send one item per completion")
        elif key == "stream":
            if value:
                raise UserError("stream: true is not supported in a batch")
        elif key == "response_format":
            kind = value.get("type")
            if kind == "json_schema":
                output = _schema_output(value.get("json_schema") or {}, "response_format")
            elif kind != "text":
                raise UserError(f"response_format type {kind!r} is not supported (use 'json_schema')")
        else:
            raise UserError(f"the Chat Completions field {key!r} is not supported")
    if tools or output is not None:
        params = ModelRequestParameters(
            function_tools=tools,
            output_mode="native" if output is not None else "text",
            output_object=output,
        )
    model = body.get("model")
    return messages, settings, params, model if isinstance(model, str) else None


def _responses_input(raw: Any, instructions: str | None) -> list[ModelMessage]:
    if isinstance(raw, str):
        return [ModelRequest([UserPromptPart(raw)], instructions=instructions)]
    if not isinstance(raw, list):
        raise UserError("input must be a string or a list")
    chat: list[dict[str, Any]] = []
    for index, entry in enumerate(raw):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if not isinstance(entry, dict):
            raise UserError(f"input[{index}] must be an object")
        item: dict[str, Any] = entry  # pyright: ignore[reportUnknownVariableType]
        kind = item.get("type", "message")
        if kind == "message":
            chat.append({"role": item.get("role"), "content": item.get("content")})
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "function": {"name": item.get("name"), "arguments": item.get("arguments")},
            }
            if chat and chat[-1]["role"] == "assistant":
                chat[-1].setdefault("tool_calls", []).append(call)
            else:
                chat.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            chat.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": item.get("output")})
        else:
            raise UserError(f"input[{index}]: item type {kind!r} is not supported")
    messages = _chat_messages(chat)
    if instructions is not None:
        last = messages[-1]
        assert isinstance(last, ModelRequest)
        messages[-1] = ModelRequest(list(last.parts), instructions=instructions)
    return messages


def responses_body_to_request(body: Mapping[str, Any]) -> Parsed:
    """A Responses API request body → ``(messages, settings, parameters, model)``.

    Raises:
        UserError: a field that cannot be honoured, named in the message.
    """
    instructions = body.get("instructions")
    messages = _responses_input(body.get("input"), instructions if isinstance(instructions, str) else None)
    settings = ModelSettings()
    tools: list[ToolDefinition] = []
    output: OutputObjectDefinition | None = None
    for key, value in body.items():
        if key in ("input", "instructions") or key in _IGNORED or value is None:
            continue
        if key in ("temperature", "top_p", "parallel_tool_calls", "service_tier"):
            settings[key] = value  # type: ignore[literal-required]
        elif key == "max_output_tokens":
            settings["max_tokens"] = int(value)
        elif key == "tools":
            tools = [_function_tool(t, f"tools[{i}]") for i, t in enumerate(value)]
        elif key == "tool_choice":
            settings["tool_choice"] = _tool_choice(value)
        elif key == "reasoning":
            if value.get("effort") is not None:
                settings["openai_reasoning_effort"] = value["effort"]  # type: ignore[typeddict-unknown-key]
        elif key == "user":
            settings["openai_user"] = value  # type: ignore[typeddict-unknown-key]
        elif key == "store":
            settings["openai_store"] = value  # type: ignore[typeddict-unknown-key]
        elif key == "stream":
            if value:
                raise UserError("stream: true is not supported in a batch")
        elif key == "text":
            fmt = value.get("format") or {}
            if fmt.get("type") == "json_schema":
                output = _schema_output(fmt, "text.format")
            elif fmt.get("type") not in (None, "text"):
                raise UserError(f"text.format type {fmt.get('type')!r} is not supported (use 'json_schema')")
        else:
            raise UserError(f"the Responses field {key!r} is not supported")
    params = ModelRequestParameters(
        function_tools=tools, output_mode="native" if output is not None else "text", output_object=output
    )
    model = body.get("model")
    return messages, settings, params, model if isinstance(model, str) else None


def _simple(data: Mapping[str, Any]) -> Parsed:
    if "prompt" in data:
        parts: list[Any] = [SystemPromptPart(str(data["system"]))] if data.get("system") else []
        parts.append(UserPromptPart(str(data["prompt"])))
        messages: list[ModelMessage] = [ModelRequest(parts)]
    elif "messages" in data:
        raw = data["messages"]
        if isinstance(raw, list) and raw and isinstance(raw[0], dict) and "kind" in raw[0]:
            messages = messages_from_python(raw)
        else:
            messages = _chat_messages(raw)
    else:
        raise UserError("a simple item needs 'prompt' or 'messages'")
    raw_settings = data.get("settings") or {}
    if not isinstance(raw_settings, dict):
        raise UserError("'settings' must be an object")
    settings = cast(ModelSettings, dict(raw_settings))  # pyright: ignore[reportUnknownArgumentType]
    model = data.get("model")
    return messages, settings, ModelRequestParameters(), model if isinstance(model, str) else None


def _to_item(record: dict[str, Any], item_id: str, url: str, default_model: str | None) -> Item:
    if "custom_id" in record:
        if record.get("method", "POST") != "POST":
            raise UserError(f"method {record.get('method')!r} is not supported (only POST)")
        body = record.get("body")
        if not isinstance(body, dict):
            raise UserError("'body' must be an object")
        if url.rstrip("/").endswith("/chat/completions"):
            messages, settings, params, body_model = chat_body_to_request(body)  # pyright: ignore[reportUnknownArgumentType]
            prefix = "openai"
        elif url.rstrip("/").endswith("/responses"):
            messages, settings, params, body_model = responses_body_to_request(body)  # pyright: ignore[reportUnknownArgumentType]
            prefix = "openai-responses"
        else:
            raise UserError(f"url {url!r} is not supported ({CHAT_URL} or {RESPONSES_URL})")
        model = default_model or (f"{prefix}:{body_model}" if body_model else None)
    else:
        messages, settings, params, item_model = _simple(record)
        model = item_model or default_model
    if model is None:
        raise UserError("no model: pass --model or name one in the item")
    return Item(
        id=item_id,
        messages=messages,
        model=model,
        model_settings=settings or None,
        model_request_parameters=params,
    )


def parse_line(line: bytes, number: int, default_model: str | None) -> tuple[str, str, Item | UserError]:
    """One input line → ``(item id, url, Item or the UserError that makes the item fail)``.

    The url is the OpenAI endpoint (``/v1/chat/completions`` for simple items), which decides the
    output body's shape. A model named in the body is used when ``default_model`` is None, prefixed
    ``openai:`` (or ``openai-responses:``).

    Raises:
        UserError: the line is not a JSON object with an id (the whole file is then unusable).
    """
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise UserError(f"line {number}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UserError(f"line {number}: expected a JSON object")
    record: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    item_id = record.get("custom_id", record.get("id"))
    if not isinstance(item_id, str) or not item_id:
        raise UserError(f"line {number}: needs a 'custom_id' (OpenAI batch) or an 'id' (simple form)")
    url = str(record.get("url", "")) if "custom_id" in record else CHAT_URL
    try:
        item = _to_item(record, item_id, url, default_model)
    except UserError as exc:
        return item_id, url, UserError(f"item {item_id!r} (line {number}): {exc}")
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return item_id, url, UserError(f"item {item_id!r} (line {number}): malformed request: {exc}")
    return item_id, url, item


def _chat_body(response: ModelResponse) -> dict[str, Any]:
    text = "".join(p.content for p in response.parts if isinstance(p, TextPart)) or None
    calls = [
        {
            "id": p.tool_call_id,
            "type": "function",
            "function": {"name": p.tool_name, "arguments": p.args_as_json_str()},
        }
        for p in response.parts
        if isinstance(p, ToolCallPart)
    ]
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    finish = {
        "stop": "stop",
        "length": "length",
        "tool_call": "tool_calls",
        "content_filter": "content_filter",
    }
    return {
        "id": response.provider_response_id,
        "object": "chat.completion",
        "created": int(response.timestamp.timestamp()),
        "model": response.model_name,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish.get(response.finish_reason or "", "stop"),
            }
        ],
        "usage": {
            "prompt_tokens": response.usage.input_tokens,
            "completion_tokens": response.usage.output_tokens,
            "total_tokens": response.usage.input_tokens + response.usage.output_tokens,
        },
    }


def _responses_body(response: ModelResponse) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    texts = [p.content for p in response.parts if isinstance(p, TextPart)]
    if texts:
        output.append(
            {
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "".join(texts), "annotations": []}],
            }
        )
    for part in response.parts:
        if isinstance(part, ToolCallPart):
            output.append(
                {
                    "type": "function_call",
                    "call_id": part.tool_call_id,
                    "name": part.tool_name,
                    "arguments": part.args_as_json_str(),
                    "status": "completed",
                }
            )
    return {
        "id": response.provider_response_id,
        "object": "response",
        "created_at": int(response.timestamp.timestamp()),
        "model": response.model_name,
        "status": "completed",
        "output": output,
        "usage": {
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
            "total_tokens": response.usage.input_tokens + response.usage.output_tokens,
        },
    }


def outcome_to_batch_line(outcome: Outcome, url: str) -> bytes:
    """One line of OpenAI batch output (no newline) for ``outcome``.

    Success: ``response.status_code`` 200 and a Chat Completions (or Responses, by ``url``) body. An
    HTTP error from the provider: its status and error body in ``response``. Any other error:
    ``response`` null and ``error: {"code": <error class>, "message"}``.
    """
    line_id = "batch_req_" + hashlib.sha256(outcome.item_id.encode()).hexdigest()[:24]
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    if outcome.response is not None:
        body = (
            _responses_body(outcome.response)
            if url.rstrip("/").endswith("/responses")
            else _chat_body(outcome.response)
        )
        response = {"status_code": 200, "request_id": outcome.response.provider_response_id, "body": body}
    elif isinstance(outcome.error, ModelHTTPError) or getattr(outcome.error, "status_code", None):
        status = getattr(outcome.error, "status_code", 500)
        body_obj = getattr(outcome.error, "body", None)
        if not isinstance(body_obj, dict):
            body_obj = {"error": {"message": str(outcome.error), "type": outcome.kind}}
        response = {"status_code": status, "request_id": None, "body": body_obj}
    elif outcome.error is not None:
        error = {"code": outcome.kind, "message": error_to_python(outcome.error)["message"]}
    return orjson.dumps({"id": line_id, "custom_id": outcome.item_id, "response": response, "error": error})
