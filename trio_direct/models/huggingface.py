"""Hugging Face Inference Providers (``'huggingface:<org>/<model>'``) over raw httpx.

The wire is OpenAI Chat Completions (``POST {base}/chat/completions``, ``data:`` events when streamed),
served by Hugging Face's router: ``https://router.huggingface.co/v1`` picks an inference provider for the
model (the first of yours at hf.co/settings/inference-providers that serves it), ``<org>/<model>:<provider>``
pins one (``:together``, ``:nebius``, …) and ``:fastest`` / ``:cheapest`` choose by policy. A base URL
of a provider route (``https://router.huggingface.co/together/v1``) or of your own endpoint (a TGI server
or an Inference Endpoint, ``https://….endpoints.huggingface.cloud/v1``) goes there directly.

A thin dialect on :mod:`._chat` rather than a :class:`~trio_direct.models._registry.ChatHost` row,
because pydantic-ai 2.68 maps this API with its own ``HuggingFaceModel`` (over ``huggingface_hub``), not
``OpenAIChatModel``, and the two map the same bytes differently:

* requests: no ``stream_options``, ``max_tokens`` (never ``max_completion_tokens``), tools without
  ``strict``, a single forced tool as ``{"function": {"name": ...}}``, ``tools`` sent even when empty,
  only images in prompts (``image_url``), thinking sent back as ``<think>`` text;
* replies: thinking only from ``<think>`` tags in ``content`` (``reasoning``/``reasoning_content`` fields
  are ignored) and without a part id; the finish reasons of Text Generation Inference (``eos_token``,
  ``stop_sequence`` → ``stop``); usage is the prompt and completion token counts only; ``finish_reason``
  and ``timestamp`` in ``provider_details``;
* errors: the category from the status (a TGI ``error_type: overloaded`` body → ``ModelOverloadedError``),
  and an ``{"error": ...}`` event inside a stream → ``ModelAPIError`` (``ModelOverloadedError`` 429 when
  overloaded), ``in_stream=True``.

The messages themselves (system prompts, instructions after the leading system run, tool returns with
their files relocated to a following user message, retries) are the shared Chat mapping.

Deliberate differences from upstream: ``timeout`` is honoured (an inactivity limit; 2.68 ignores it with
a warning); a stream that ends with neither ``data: [DONE]`` nor a finish reason raises
``ModelConnectionError``; null-valued fields the SDK writes (``"name": null`` on messages) are left out;
the API key is looked up in ``HF_TOKEN`` and then the token file ``huggingface-cli login`` writes
(``HF_TOKEN_PATH``, else ``$HF_HOME/token``, else ``~/.cache/huggingface/token``), and a missing key is a
``UserError`` instead of an anonymous request.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, cast

import attrs
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._exports import show_public_module as _show_public_module
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent
from ..exceptions import (
    ModelAPIError,
    ModelHTTPError,
    ModelOverloadedError,
    UnexpectedModelBehavior,
    UserError,
)
from ..messages import (
    BinaryContent,
    CachePoint,
    FinishReason,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    TextContent,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
    generate_tool_call_id,
)
from ..settings import ModelSettings
from ..tools import ModelRequestParameters, ToolDefinition
from ..usage import RequestUsage
from ._chat import (
    check_stream_end,
    content_text,
    map_messages,
    split_thinking,
    timestamp_of,
    tool_return_text,
)
from ._chat_profile import DEFAULT_THINKING_TAGS, ChatProfile
from ._common import bearer_headers, env_value, http_status_category, warn_unsupported_setting
from ._instructions import request_instructions
from ._json import JSON, count, json_array, json_dict, parse_json_body
from ._prepare import carries_retry
from ._retry_prepare import prepare_retry_history
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamMeta

__all__ = [
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "HuggingFaceModel",
    "HuggingFaceStreamMapper",
    "build_chat_request",
    "from_name",
    "http_error",
    "huggingface_profile",
    "parse_chat_output",
]

PROVIDER_NAME: Final = "huggingface"
#: Hugging Face's OpenAI-compatible router.
DEFAULT_BASE_URL: Final = "https://router.huggingface.co/v1"
#: 2.68's map, with Text Generation Inference's own finish reasons.
FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "length": "length",
    "eos_token": "stop",
    "stop_sequence": "stop",
    "stop": "stop",
    "tool_calls": "tool_call",
}
#: Settings 2.68 ignores with a warning because they change what a request guarantees (``timeout`` is
#: honoured here, ``parallel_tool_calls`` warns only as ``False`` with tools).
_WARNED_SETTINGS: Final = ("extra_headers", "max_retries")
#: Families whose streams drop whitespace-only text at the start (2.68's Qwen, DeepSeek-R1, Kimi profiles).
_LEADING_WHITESPACE_FAMILIES: Final = ("qwen", "moonshotai")


#: The organisations 2.68's Hugging Face provider has a model profile for: their models (only theirs)
#: get the mid-conversation system role (``supports_inline_system_prompts``).
_PROFILED_ORGS: Final = ("deepseek-ai", "google", "qwen", "meta-llama", "mistralai", "moonshotai")


def huggingface_profile(model_name: str) -> ChatProfile:
    """The Chat profile 2.68's Hugging Face provider gives ``model_name`` (``<org>/<model>``, any
    ``:provider`` suffix ignored): ``<think>`` tags, thinking sent back as tagged text, no strict tools,
    ``max_tokens``, and for Qwen, DeepSeek-R1 and Kimi models leading whitespace dropped from streams.

    On the retry path (:func:`~trio_direct.models._retry_prepare.prepare_retry_history`): the organisations
    2.68 has a profile for take a mid-conversation system message (others, ``openai/gpt-oss`` and
    ``zai-org`` included, get ``<system>`` blocks), and Mistral's tool call IDs are fitted to 9 characters.
    """
    name = model_name.split(":", 1)[0].lower()
    org, _, bare = name.rpartition("/")
    leading = org in _LEADING_WHITESPACE_FAMILIES or (org == "deepseek-ai" and "r1" in bare)
    return ChatProfile(
        send_back_thinking="tags",
        thinking_tags=DEFAULT_THINKING_TAGS,
        ignore_streamed_leading_whitespace=leading,
        supports_strict_tools=False,
        supports_max_completion_tokens=False,
        supports_json_schema_output=False,
        openai_schema=False,
        inline_system_prompts=org in _PROFILED_ORGS,
        tool_call_id_length=9 if org == "mistralai" else None,
    )


# =============================================================================================
# Request
# =============================================================================================


def _check_user_content(messages: Sequence[ModelMessage]) -> None:
    """Hugging Face's chat API takes text and images only (2.68 raises for other files).

    Raises:
        UserError: a prompt (or a tool return's files) holds audio, video, a document or an uploaded file.
    """
    for message in messages:
        if not isinstance(message, ModelRequest):
            continue
        for part in message.parts:
            items: Sequence[object]
            if isinstance(part, UserPromptPart):
                items = [] if isinstance(part.content, str) else part.content
            elif isinstance(part, ToolReturnPart):
                items = tool_return_text(part)[1]
            else:
                continue
            for item in items:
                if isinstance(item, str | TextContent | CachePoint | ImageUrl):
                    continue
                if isinstance(item, BinaryContent) and item.is_image:
                    continue
                kind = item.media_type if isinstance(item, BinaryContent) else type(item).__name__
                raise UserError(f"{kind} is not supported for Hugging Face (it takes text and images)")


def _tool_param(tool: ToolDefinition) -> JSON:
    function: JSON = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters_json_schema
    return {"type": "function", "function": function}


def _tools_and_choice(settings: ModelSettings, params: ModelRequestParameters) -> tuple[list[JSON], Any]:
    """``tools`` and ``tool_choice`` as 2.68's ``HuggingFaceModel._get_tool_choice`` sends them."""
    declared = {t.name: t for t in [*params.function_tools, *params.output_tools]}
    resolved = resolve_tool_choice(settings, params)
    choice: Any
    if isinstance(resolved, str):
        choice = resolved
    else:
        mode, names = resolved
        if mode == "required" and len(names) == 1:
            choice = {"function": {"name": next(iter(names))}}
        else:
            # the API cannot limit the tools by name, so only the allowed ones are sent
            declared = {k: v for k, v in declared.items() if k in names}
            choice = mode
    if not declared:
        return [], None
    return [_tool_param(t) for t in declared.values()], choice


def build_chat_request(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings,
    params: ModelRequestParameters,
    *,
    stream: bool,
    profile: ChatProfile | None = None,
) -> JSON:
    """The JSON body 2.68's ``HuggingFaceModel`` sends (through ``huggingface_hub``'s ``chat_completion``).

    Raises:
        UserError: a file Hugging Face does not take, or native structured output (not supported).
    """
    profile = profile or huggingface_profile(model_name)
    s = cast(Mapping[str, Any], settings)
    ignored = [key for key in _WARNED_SETTINGS if key in s]
    if s.get("parallel_tool_calls") is False and params.function_tools:
        ignored.append("parallel_tool_calls")
    for key in ignored:
        warn_unsupported_setting(key, "huggingface:" + model_name, stacklevel=4)
    if params.output_mode == "native":
        raise UserError("Native structured output is not supported by this model.")
    _check_user_content(messages)
    tools, choice = _tools_and_choice(settings, params)
    # 2.68's direct API runs the model's whole `prepare_messages` only on a history holding a retry;
    # here for a direct `Model.request` call too (after the direct API's pass, a no-op). Where the
    # model has no mid-conversation system role, the system prompt then carries the announcement.
    prepared = carries_retry(messages)
    if prepared:
        messages = prepare_retry_history(messages, params, profile)
    mapped = map_messages(
        messages,
        request_instructions(messages, params),
        profile,
        PROVIDER_NAME,
        announce_frames=not (prepared and not profile.inline_system_prompts),
    )
    body: JSON = {
        "model": model_name,
        "messages": mapped,
        "stream": stream,
        "tools": tools,
    }
    if choice is not None:
        body["tool_choice"] = choice
    for setting, key in (
        ("max_tokens", "max_tokens"),
        ("stop_sequences", "stop"),
        ("temperature", "temperature"),
        ("top_p", "top_p"),
        ("seed", "seed"),
        ("presence_penalty", "presence_penalty"),
        ("frequency_penalty", "frequency_penalty"),
        ("logit_bias", "logit_bias"),
        ("logprobs", "logprobs"),
        ("top_logprobs", "top_logprobs"),
    ):
        if s.get(setting) is not None:
            body[key] = s[setting]
    if isinstance(extra := s.get("extra_body"), Mapping):
        body.update(cast(Mapping[str, Any], extra))
    return body


# =============================================================================================
# Response
# =============================================================================================


def _usage(raw: object) -> RequestUsage:
    usage = json_dict(raw)
    if usage is None:
        return RequestUsage(unmeasured_requests=1)
    return RequestUsage(
        input_tokens=count(usage.get("prompt_tokens")), output_tokens=count(usage.get("completion_tokens"))
    )


def _text_parts(content: str, profile: ChatProfile) -> list[ModelResponsePart]:
    # 2.68 splits `<think>` tags with no part id or provider name
    return [
        attrs.evolve(p, id=None) if isinstance(p, ThinkingPart) else p
        for p in split_thinking(content, profile.thinking_tags, None)
    ]


def parse_chat_output(
    body: bytes, *, model_name: str, provider_url: str | None, profile: ChatProfile | None = None
) -> ModelResponse:
    """A 200 body → :class:`ModelResponse`, as 2.68's ``HuggingFaceModel._process_response``.

    Raises:
        UnexpectedModelBehavior: the body is not JSON or not a chat completion; the message quotes it.
    """
    profile = profile or huggingface_profile(model_name)

    def parse(data: Any) -> ModelResponse:
        completion = json_dict(data)
        if completion is None:
            raise TypeError("the body is not a JSON object")
        choices = json_array(completion["choices"])
        if not choices or (choice := json_dict(choices[0])) is None:
            raise ValueError("`choices` is empty or not a list of objects")
        message = json_dict(choice["message"])
        if message is None:
            raise TypeError("`choices[0].message` is not an object")
        parts: list[ModelResponsePart] = []
        if text := content_text(message.get("content")):
            parts.extend(_text_parts(text, profile))
        for raw in json_array(message.get("tool_calls")) or []:
            call = json_dict(raw)
            function = json_dict(call.get("function")) if call is not None else None
            if call is None or function is None or not isinstance(function.get("name"), str):
                raise TypeError("a tool call needs a function with a name")
            arguments = function.get("arguments")
            if arguments is not None and not isinstance(arguments, str | dict):
                raise TypeError("tool call arguments must be a string or an object")
            call_id = call.get("id")
            parts.append(
                ToolCallPart(
                    function["name"],
                    cast("str | dict[str, Any] | None", arguments),
                    call_id if isinstance(call_id, str) and call_id else generate_tool_call_id(),
                )
            )
        raw_finish = choice.get("finish_reason")
        details: JSON = {"finish_reason": raw_finish}
        if (ts := timestamp_of(completion.get("created"))) is not None:
            details["timestamp"] = ts
        model = completion.get("model")
        response_id = completion.get("id")
        return ModelResponse(
            parts,
            usage=_usage(completion.get("usage")),
            model_name=model if isinstance(model, str) and model else model_name,
            provider_name=PROVIDER_NAME,
            provider_url=provider_url,
            provider_details=details,
            provider_response_id=response_id if isinstance(response_id, str) and response_id else None,
            finish_reason=FINISH_REASONS.get(raw_finish) if isinstance(raw_finish, str) else None,
        )

    return parse_json_body(body, "Hugging Face chat completions endpoint", parse)


# =============================================================================================
# Stream
# =============================================================================================


def _in_stream_error(model_name: str, chunk: JSON) -> ModelAPIError:
    """An ``{"error": ...}`` event (a TGI server failing after the 200), as ``huggingface_hub`` raises it."""
    error = chunk.get("error")
    message = error if isinstance(error, str) else orjson.dumps(error).decode()
    if chunk.get("error_type") == "overloaded":
        return ModelHTTPError.for_category(
            ModelOverloadedError, status_code=429, model_name=model_name, body=message, in_stream=True
        )
    return ModelAPIError(model_name, message, in_stream=True)


class HuggingFaceStreamMapper:
    """Chat completion chunks → raw part events and :class:`StreamMeta`, as 2.68's
    ``HuggingFaceStreamedResponse``: ``content`` through the parts manager with ``<think>`` tags, tool-call
    deltas by ``index``, usage added up, the TGI finish reasons."""

    __slots__ = ("_chunks", "_done", "_finished", "_profile", "_usage_seen", "meta", "parts")

    def __init__(
        self, parts: PartsManager, *, model_name: str, provider_url: str | None, profile: ChatProfile
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name, provider_name=PROVIDER_NAME, provider_url=provider_url)
        self._profile = profile
        self._chunks = 0
        self._done = False
        self._finished = False
        self._usage_seen = False

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            ModelAPIError: an ``{"error": ...}`` event (``ModelOverloadedError`` when overloaded).
            UnexpectedModelBehavior: the event is not a JSON chat completion chunk.
        """
        if self._done:
            return
        data = event.data
        if data.startswith("[DONE]"):
            self._done = True
            return
        try:
            chunk = json_dict(orjson.loads(data))
        except orjson.JSONDecodeError:
            chunk = None
        if chunk is None:
            raise UnexpectedModelBehavior("Invalid chunk in the Hugging Face chat completions stream", data)
        if chunk.get("error") is not None:
            raise _in_stream_error(self.meta.model_name or "", chunk)
        try:
            self._chunk(chunk, out)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise UnexpectedModelBehavior(
                f"Invalid chunk in the Hugging Face chat completions stream: {type(exc).__name__}: {exc}",
                data,
            ) from None

    def _chunk(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        meta = self.meta
        changes: dict[str, Any] = {}
        if not self._chunks:
            if isinstance(model := chunk.get("model"), str) and model:
                changes["model_name"] = model
            if (ts := timestamp_of(chunk.get("created"))) is not None:
                changes["provider_details"] = {"timestamp": ts}
        self._chunks += 1
        if (usage := chunk.get("usage")) is not None:
            self._usage_seen = True
            changes["usage"] = meta.usage + _usage(usage)
        if (
            isinstance(chunk_id := chunk.get("id"), str)
            and chunk_id
            and chunk_id != meta.provider_response_id
        ):
            changes["provider_response_id"] = chunk_id
        choices = json_array(chunk.get("choices"))
        choice = json_dict(choices[0]) if choices else None
        if choice is not None and isinstance(raw_finish := choice.get("finish_reason"), str) and raw_finish:
            self._finished = True
            details: dict[str, Any] = changes.get("provider_details", meta.provider_details) or {}
            changes["provider_details"] = {**details, "finish_reason": raw_finish}
            changes["finish_reason"] = FINISH_REASONS.get(raw_finish)
        if changes:
            self.meta = attrs.evolve(meta, **changes)
        if choice is None:
            return
        delta = json_dict(choice.get("delta")) or {}
        content = content_text(delta.get("content"))
        if content:
            out.extend(
                self.parts.handle_text_delta(
                    vendor_part_id="content",
                    content=content,
                    thinking_tags=self._profile.thinking_tags,
                    ignore_leading_whitespace=self._profile.ignore_streamed_leading_whitespace,
                )
            )
        for raw in json_array(delta.get("tool_calls")) or []:
            call = json_dict(raw)
            if call is None:
                raise TypeError("a tool call delta is not an object")
            function = json_dict(call.get("function")) or {}
            vendor: Hashable = ("tool", call["index"])
            out.extend(
                self.parts.handle_tool_call_delta(
                    vendor_part_id=vendor,
                    tool_name=function.get("name"),
                    args=function.get("arguments"),
                    tool_call_id=call.get("id"),
                )
            )

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended.

        Raises:
            UnexpectedModelBehavior: it held no chunk.
            ModelConnectionError: it ended with neither ``data: [DONE]`` nor a finish reason (truncated).
        """
        del out
        check_stream_end(
            self.meta,
            api="Hugging Face chat completions",
            any_chunk=bool(self._chunks),
            finished=self._done or self._finished,
        )
        if not self._usage_seen:
            self.meta = attrs.evolve(self.meta, usage=self.meta.usage + RequestUsage(unmeasured_requests=1))


# =============================================================================================
# Errors
# =============================================================================================


def http_error(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
    """A 4xx/5xx as 2.68's Hugging Face model categorizes it: by status, a TGI ``overloaded`` error type
    as :class:`ModelOverloadedError`; the parsed JSON (or the text) as ``body``."""
    parsed: object
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace")
        parsed = text if len(text) <= 4000 else text[:4000] + "...(truncated)"
    fields = json_dict(parsed) or {}
    category = (
        ModelOverloadedError
        if fields.get("error_type") == "overloaded"
        else http_status_category(status, None)
    )
    return ModelHTTPError.for_category(
        category, status_code=status, model_name=model_name, body=parsed, headers=headers
    )


# =============================================================================================
# The model
# =============================================================================================


def _token_file() -> Path:
    if path := env_value("HF_TOKEN_PATH"):
        return Path(path).expanduser()
    home = env_value("HF_HOME") or os.path.join(env_value("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    return Path(home).expanduser() / "token"


def _stored_token() -> str | None:
    """The token ``huggingface-cli login`` stored, if any (read once, when the model is made)."""
    try:
        token = _token_file().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


class HuggingFaceModel(HTTPModel):
    """A model on Hugging Face Inference Providers (or a TGI / Inference Endpoint server).

    Args:
        model_name: ``'<org>/<model>'`` (``'Qwen/Qwen3-235B-A22B'``), optionally ``':<provider>'`` or
            ``':fastest'`` / ``':cheapest'`` to route it.
        api_key: default ``HF_TOKEN``, then the stored login token.
        base_url: default ``HUGGINGFACE_BASE_URL``, else ``https://router.huggingface.co/v1``.
        provider_name: an inference provider to route to (``'together'``, ``'nebius'``...): appended to
            the model name as ``:<provider>``; not with a ``base_url``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``.
        settings: default settings.

    Raises:
        UserError: no token was found, or both ``base_url`` and ``provider_name`` were given.
    """

    http_error = staticmethod(http_error)

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider_name: str | None = None,
        provider: Provider | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        if base_url is not None and provider_name is not None:
            raise UserError("Cannot provide both `base_url` and `provider_name`.")
        if provider is None:
            key = api_key or env_value("HF_TOKEN") or _stored_token()
            if not key:
                raise UserError(
                    "Set the `HF_TOKEN` environment variable (or log in with `hf auth login`) or pass "
                    "`api_key` to use the Hugging Face provider."
                )
            url = base_url or env_value("HUGGINGFACE_BASE_URL") or DEFAULT_BASE_URL
            provider = Provider(PROVIDER_NAME, url.rstrip("/"), key)
        if provider_name:
            model_name = f"{model_name.split(':', 1)[0]}:{provider_name}"
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = huggingface_profile(model_name)
        self._url = provider.url("chat/completions")
        self._headers = bearer_headers(provider)

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history as this model is sent it (see :meth:`Model.prepare_messages`); one holding a retry
        also gets the steps 2.68's ``prepare_messages`` takes on the Chat layer
        (:func:`~trio_direct.models._retry_prepare.prepare_retry_history`): tool results first, Mistral's tool
        call IDs fitted, and ``<system>`` blocks with their announcement on a model without a
        mid-conversation system role (see :func:`huggingface_profile`).

        Done here as well as when the body is built because translating the retry can leave no retry
        part behind (the framework's ``no_output`` text becomes a system prompt).
        """
        prepared = super().prepare_messages(messages, model_request_parameters)
        if carries_retry(messages):
            prepared = prepare_retry_history(
                prepared, model_request_parameters or ModelRequestParameters(), self.profile
            )
        return prepared

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        body = build_chat_request(
            self._model_name, messages, settings, params, stream=stream, profile=self.profile
        )
        return _http.HTTPRequest.json(self._url, body, self._headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return parse_chat_output(
            body, model_name=self._model_name, provider_url=self.base_url, profile=self.profile
        )

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> HuggingFaceStreamMapper:
        return HuggingFaceStreamMapper(
            parts, model_name=self._model_name, provider_url=self.base_url, profile=self.profile
        )


def from_name(model_name: str, prefix: str) -> HuggingFaceModel:
    """The registry factory for ``'huggingface:<org>/<model>'``: ``HF_TOKEN``, ``HUGGINGFACE_BASE_URL``.

    Raises:
        UserError: no token, or an empty model name.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:<org>/<model>'")
    return HuggingFaceModel(model_name)


_show_public_module(globals(), __all__, __name__)
