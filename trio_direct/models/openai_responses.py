"""OpenAI's Responses API (``'openai-responses:<model>'``) over raw httpx: ``POST {base}/responses``.

Built on the shared layer, including the Chat Completions dialect (:mod:`trio_direct.models._chat`),
whose profile, schema, effort and error helpers the two OpenAI APIs share; everything here is pure
and falls in five pieces, top to bottom:

1. **Profile** (:class:`ResponsesProfile`): the Chat profile of the model plus what only this API keys
   on the name (encrypted reasoning and item ids, ``reasoning.context``/``mode``, message ``phase``).
2. **Request** (:func:`build_responses_body`): messages, settings and parameters → the JSON body. Input
   items for every message part (replayed reasoning items with their encrypted content and ids when
   they go back to the provider that made them, function calls and outputs, server-side tool items,
   tool searches as ``tool_search_call``/``tool_search_output``), ``instructions``, multimodal input,
   tools, output tools, ``text.format``, ``tool_choice`` and the settings. With ``count_tokens`` the
   same request's ``POST {base}/responses/input_tokens`` body.
3. **Response** (:func:`parse_responses_body`): a 200 body → :class:`ModelResponse`, output items to
   parts in order (reasoning summaries as thinking, messages as text with citations, function calls,
   web search / file search / code interpreter / image generation / MCP items as builtin-tool parts;
   a server-executed tool search as the builtin tool-search call and return parts, ``tool_kind=
   'tool-search'``, a client-executed one as a ``search_tools`` call for the caller to answer).
4. **Errors**: HTTP errors as Chat's (:func:`~trio_direct.models.openai.openai_http_error`); a failed
   response body, a ``response.failed`` or an ``error`` event raise as 2.68 does (:func:`response_error`).
5. **Stream** (:class:`ResponsesStreamMapper`): one SSE event at a time → raw part events and
   :class:`StreamMeta`, keyed by output item id (``<item_id>``, ``<item_id>-call``, ``<item_id>-return``,
   ``<item_id>-file-<n>``), text by ``(item_id, content_index)`` as 2.68 does.

:class:`OpenAIResponsesModel` plugs those into :class:`~trio_direct.models.base.HTTPModel` and
:func:`from_name` is the registry factory (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``). Behaviour is
``reference/providers/openai-responses.md`` at pydantic-ai 2.68.

Deliberate differences from upstream:

* Files upstream downloads first (``force_download=True``) raise :class:`UserError`, and so do audio
  and video, which the API cannot take: building a request does no I/O.
* ``openai_previous_response_id`` continues only from a seed id: 2.68 chains automatically from a
  response only when it can prove, with the history digest it records, that the history is unchanged;
  trio_direct records no digest, so (as 2.68 with such a response in the history) it resends the
  whole history instead of continuing.
* Unknown stream events and output items are skipped silently (2.68 warns), so new server-side
  event types do not break older clients.
* Native tools are passed as raw ``tools`` entries (``ModelRequestParameters.native_tools`` dicts, or
  the ``openai_native_tools`` setting); pydantic-ai's native tool classes do not exist here. Tool
  search is on when one of them is ``{"type": "tool_search"}`` (2.68's ``ToolSearchTool()``); deferred
  tool visibility (``defer_loading`` on the wire, ``additional_tools`` items) is not resolved here, so
  a function tool always goes out whole.
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeGuard, cast
from urllib.parse import urlsplit

import attrs
import orjson

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._aws.credentials import AWSConfig, resolve_aws_config
from .._aws.lookup import AfterLookup
from .._aws.sigv4 import sign_request
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from .._sse import ServerSentEvent  # pyright: ignore[reportPrivateUsage]
from ..events import ModelResponseStreamEvent
from ..exceptions import ModelAPIError, ModelHTTPError, TrioDirectError, UnexpectedModelBehavior, UserError
from ..messages import (
    AudioUrl,
    BinaryContent,
    BinaryImage,
    CachePoint,
    CompactionPart,
    DocumentUrl,
    FilePart,
    FinishReason,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelResponse,
    ModelResponsePart,
    ModelResponseState,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryPromptPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserContent,
    UserPromptPart,
    VideoUrl,
)
from ..settings import ModelSettings
from ..tools import InstructionPart, ModelRequestParameters, OutputObjectDefinition, ToolDefinition
from ..usage import RequestUsage, gateway_usage_cost
from ._bedrock_ids import split_model_id
from ._chat import (
    drop_sampling_while_reasoning,
    map_logprobs,
    openai_compatible_category,
    openai_compatible_status,
    openai_http_error,
    reasoning_effort,
    resolve_thinking,
    stream_error,
    timestamp_of,
    transform_tool_schema,
)
from ._chat_profile import DEFAULT_OUTPUT_TOOL_NAME, ChatProfile, openai_model_profile
from ._common import (
    NOTE_ANNOUNCEMENT,
    ToolParamCache,
    bearer_headers,
    dump_error_details,
    env_value,
    needs_download,
    retry_feedback_text,
    warn_unsupported_setting,
    with_extra_headers,
)
from ._instructions import request_instructions
from ._json import (
    JSON,
    SHAPE_ERRORS,
    count,
    json_array,
    json_dict,
    json_list,
    json_object,
    json_str,
    parse_json_body,
    parse_token_count,
)
from ._prepare import carries_retry
from ._registry import OPENAI_HOST, ChatHost
from ._retry_prepare import prepare_retry_history
from ._tool_choice import resolve_tool_choice
from .base import HTTPModel, Provider, StreamContext, StreamMeta

__all__ = [
    "MANTLE_PROVIDER_NAME",
    "BedrockMantleResponsesModel",
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "OpenAIResponsesModel",
    "PROVIDER_NAME",
    "ResponsesProfile",
    "ResponsesStreamMapper",
    "build_responses_body",
    "from_host",
    "from_mantle_name",
    "from_name",
    "from_xai_name",
    "host_profile",
    "mantle_interface",
    "mantle_origin",
    "mantle_profile",
    "map_responses_usage",
    "parse_responses_body",
    "response_error",
    "responses_profile",
    "tool_param",
    "xai_profile",
]

DEFAULT_BASE_URL: Final = "https://api.openai.com/v1"
PROVIDER_NAME: Final = "openai"

# =============================================================================================
# 1. Profile
# =============================================================================================

_GPT_6: Final = ("gpt-6-astra", "gpt-6-sol", "gpt-6-luna", "gpt-6.1-sol", "gpt-6.1-terra")


@attrs.frozen(slots=True, kw_only=True)
class ResponsesProfile:
    """What the Responses API keys on the model name, on top of the model's Chat profile."""

    chat: ChatProfile
    #: ``include: ["reasoning.encrypted_content"]``, and item ids sent back by default
    encrypted_reasoning: bool = False
    #: ``reasoning.context`` (``'all_turns'`` by default) is accepted: GPT-5.4 and later
    reasoning_context: bool = False
    #: ``reasoning.mode`` is accepted: GPT-5.6 and GPT-6
    reasoning_mode: bool = False
    #: a message's ``phase`` is replayed: GPT-5.3-codex, GPT-5.4 and later
    phase: bool = False
    #: ``prompt_cache_options.comparison_response_id`` is sent: GPT-5.6 and GPT-6
    cache_diagnostics: bool = False
    #: ``ModelResponse.canonical_system`` stamped on replies, and the system whose encrypted reasoning
    #: goes back (``'openai'``; None for a host that stamps none and takes back only its own)
    canonical_system: str | None = PROVIDER_NAME
    #: the server numbers tool calls per response (Bedrock Mantle's ``call_0``...): call ids are
    #: qualified with the response id when read (``resp_x:call_0``) and sent back unqualified
    response_scoped_tool_call_ids: bool = False


def responses_profile(model_name: str) -> ResponsesProfile:
    """The profile of an OpenAI model on the Responses API (pydantic-ai 2.68's flags)."""
    chat = openai_model_profile(model_name)
    newest = model_name.startswith(("gpt-5.6", *_GPT_6))
    return ResponsesProfile(
        chat=chat,
        encrypted_reasoning=chat.supports_thinking,
        reasoning_context=model_name.startswith(("gpt-5.4", "gpt-5.5", "gpt-5.6", *_GPT_6)),
        reasoning_mode=newest,
        phase=model_name.startswith(("gpt-5.3-codex", "gpt-5.4", "gpt-5.5", "gpt-5.6", *_GPT_6)),
        cache_diagnostics=newest,
    )


def from_name(model_name: str, prefix: str) -> OpenAIResponsesModel:
    """The registry factory for ``'openai-responses:<model>'``: ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``.

    Does no I/O.

    Raises:
        UserError: the model name is empty or the API key is missing (naming the variable).
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:<model name>'")
    provider = OPENAI_HOST.provider(prefix)
    return OpenAIResponsesModel(model_name, provider=provider)


def host_profile(host: ChatHost, model_name: str) -> ResponsesProfile:
    """The Responses profile of ``model_name`` on ``host``: OpenAI's flags for the OpenAI model the
    name names (a vendor prefix such as ``openai/`` dropped), on top of the host's Chat profile."""
    bare = model_name.rsplit("/", 1)[-1]
    return attrs.evolve(responses_profile(bare), chat=host.profile(model_name))


def from_host(host: ChatHost, model_name: str, prefix: str) -> OpenAIResponsesModel:
    """The model ``model_name`` on ``host``'s Responses API (a registry row with ``api='responses'``).

    Reads the host's variables as :meth:`ChatHost.endpoint` does. Does no I/O.

    Raises:
        UserError: the model name is empty, the API key or another setting is missing (naming the
            variable), or the row speaks another API.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:<model name>'")
    if host.api != "responses":
        raise UserError(f"the {prefix!r} row speaks the {host.api!r} API, not the Responses API")
    provider, path = host.endpoint(prefix, model_name)
    return OpenAIResponsesModel(
        model_name,
        provider=provider,
        profile=host_profile(host, model_name),
        canonical_system=host.canonical_system,
        path=path,
    )


# =============================================================================================
# 2. Request
# =============================================================================================


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _file_item(item: UserContent, what: str, provider_name: str) -> JSON:
    """A multimodal item → an ``input_image`` / ``input_file`` content part."""
    if isinstance(item, BinaryContent):
        if item.is_image:
            detail = (item.vendor_metadata or {}).get("detail", "auto")
            return {"type": "input_image", "image_url": item.data_uri, "detail": detail}
        if item.is_document:
            return {"type": "input_file", "file_data": item.data_uri, "filename": f"filename.{item.format}"}
        if item.is_audio or item.is_video:
            kind = "audio" if item.is_audio else "video"
            raise UserError(f"BinaryContent with {kind} is not supported in OpenAI Responses {what}")
        raise UserError(f"Unsupported binary content type: {item.media_type}")
    if isinstance(item, ImageUrl | DocumentUrl | AudioUrl) and item.force_download:
        raise needs_download(f"{type(item).__name__}(force_download=True)", "file")
    if isinstance(item, ImageUrl):
        detail = (item.vendor_metadata or {}).get("detail", "auto")
        return {"type": "input_image", "image_url": item.url, "detail": detail}
    if isinstance(item, DocumentUrl | AudioUrl):
        return {"type": "input_file", "file_url": item.url}
    if isinstance(item, UploadedFile):
        if item.provider_name != provider_name:
            raise UserError(
                f"UploadedFile {item.file_id!r} was uploaded to {item.provider_name!r}, "
                f"not {provider_name!r}; upload it to this provider first"
            )
        if item.media_type.startswith("image/"):
            detail = (item.vendor_metadata or {}).get("detail", "auto")
            return {"type": "input_image", "file_id": item.file_id, "detail": detail}
        return {"type": "input_file", "file_id": item.file_id}
    if isinstance(item, VideoUrl):
        raise UserError(f"VideoUrl is not supported in OpenAI Responses {what}")
    raise UserError(f"unsupported content in OpenAI Responses {what}: {type(item).__name__}")


def _user_message(content: str | Sequence[UserContent], provider_name: str) -> JSON:
    if isinstance(content, str):
        return {"role": "user", "content": content}
    parts: list[JSON] = []
    for item in content:
        if isinstance(item, str):
            parts.append({"type": "input_text", "text": item})
        elif isinstance(item, TextContent):
            parts.append({"type": "input_text", "text": item.content})
        elif not isinstance(item, CachePoint):  # breakpoints only exist from GPT-5.6 on; not sent
            parts.append(_file_item(item, "user prompts", provider_name))
    return {"role": "user", "content": parts}


def _tool_output(part: ToolReturnPart, provider_name: str) -> str | list[JSON]:
    """A tool result's ``output``: its text, or with files a list of content parts in content order."""
    if not part.files:
        return part.model_response_str()
    if part.outcome in ("failed", "retried"):
        items: list[Any] = [part.model_response_str(), *part.files]
    else:
        listed = json_array(part.content)
        items = listed if listed is not None else [part.content]
    out: list[JSON] = []
    for item in items:
        if isinstance(item, ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile):
            out.append(_file_item(item, "tool returns", provider_name))
        elif isinstance(item, str):
            out.append({"type": "input_text", "text": item})
        else:
            text = (
                "null"
                if item is None
                else attrs.evolve(part, content=item, outcome="success").model_response_str()
            )
            out.append({"type": "input_text", "text": text})
    return out


def _call_id(tool_call_id: str) -> str:
    # A legacy combined `call_id|item_id` sends only its call id.
    return tool_call_id.split("|", 1)[0]


def _same_endpoint(url: str, base_url: str) -> bool:
    """Whether two base URLs reach the same stored state (scheme/host case, default port, ``/`` aside)."""

    def normalized(value: str) -> tuple[str, str, int | None, str]:
        split = urlsplit(value)
        scheme = split.scheme.lower()
        try:
            port = split.port
        except ValueError:
            port = None
        if port == {"http": 80, "https": 443}.get(scheme):
            port = None
        return scheme, (split.hostname or "").lower(), port, split.path.rstrip("/")

    return normalized(url) == normalized(base_url)


@attrs.define(slots=True)
class _Replay:
    """What mapping the history carries from part to part (2.68's message-mapping contexts)."""

    provider_name: str
    base_url: str | None
    profile: ResponsesProfile
    send_item_ids: bool
    store_disabled: bool
    #: the `tool_search` builtin is on: local searches replay as client-executed search items
    tool_search: bool = False
    #: the request's function tools by name (what a search discovered goes out as) and their mapping
    function_tools: dict[str, ToolDefinition] = attrs.field(factory=dict[str, ToolDefinition])
    map_tool: Callable[[ToolDefinition], JSON] | None = None
    items: list[JSON] = attrs.field(factory=list[JSON])
    announced: bool = False
    #: the id of the last response of this endpoint, for unqualifying response-scoped tool-call ids
    response_id: str | None = None
    #: call ids of local searches replayed as `tool_search_call` items: their results follow suit
    client_searches: set[str] = attrs.field(factory=set[str])
    # per response
    message_item: JSON | None = None
    reasoning_item: JSON | None = None
    builtin_items: dict[str, JSON] = attrs.field(factory=dict[str, JSON])

    def accepts_server_state(self, response: ModelResponse) -> bool:
        if response.provider_name != self.provider_name:
            return False
        if response.provider_url is None or self.base_url is None:
            return True
        return _same_endpoint(response.provider_url, self.base_url)

    def accepts_stateless(self, response: ModelResponse, part_provider: str | None) -> bool:
        """Whether encrypted data from ``part_provider`` in ``response`` can go back (by canonical system)."""
        if part_provider is None:
            return False
        own = self.profile.canonical_system
        if part_provider == response.provider_name and response.canonical_system is not None:
            return response.canonical_system == (own or self.provider_name)
        return part_provider == self.provider_name or (own is not None and part_provider == own)

    def unscoped(self, tool_call_id: str, response_id: str | None) -> str:
        """A tool-call id as the server knows it: without the response-id qualifier it was given
        when read (only for servers with response-scoped ids)."""
        call_id = _call_id(tool_call_id)
        if not self.profile.response_scoped_tool_call_ids or response_id is None:
            return call_id
        return call_id.removeprefix(f"{response_id}:")

    # -- requests ------------------------------------------------------------------------------

    def request(self, message: ModelRequest) -> None:
        role = self.profile.chat.system_prompt_role
        for part in message.parts:
            if isinstance(part, SystemPromptPart):
                self.items.append({"role": role, "content": part.content})
            elif isinstance(part, UserPromptPart):
                self.items.append(_user_message(part.content, self.provider_name))
            elif isinstance(part, ToolReturnPart):
                call_id = self.unscoped(part.tool_call_id, self.response_id)
                names = _discovered(part) if call_id in self.client_searches else None
                if names is not None:
                    self.items.append(self.search_output(names, call_id, "client", "completed"))
                    continue
                output = _tool_output(part, self.provider_name)
                self.items.append({"type": "function_call_output", "call_id": call_id, "output": output})
            elif isinstance(part, RetryPromptPart):  # pyright: ignore[reportUnnecessaryIsInstance]
                self.retry(part, role)

    def retry(self, part: RetryPromptPart, role: str) -> None:
        # As 2.68's direct API: a tool's retry is that call's result again, with the error wrapper; a
        # tool-less one is framed feedback in the user voice, after a one-time announcement.
        content = part.content
        if part.tool_name is not None:
            value: Any = content if isinstance(content, str) else dump_error_details(content)
            output = _json_text({"error": value})
            call_id = self.unscoped(part.tool_call_id, self.response_id)
            self.items.append({"type": "function_call_output", "call_id": call_id, "output": output})
            return
        if not self.announced:
            self.announced = True
            self.items.append({"role": role, "content": NOTE_ANNOUNCEMENT})
        self.items.append({"role": "user", "content": retry_feedback_text(content)})

    # -- responses -----------------------------------------------------------------------------

    def response(self, message: ModelResponse) -> None:
        self.message_item = self.reasoning_item = None
        self.builtin_items = {}
        mine = message.provider_name == self.provider_name
        same_endpoint = not mine or self.accepts_server_state(message)
        # the tool results that follow answer this response's calls (2.68 keys this on the response)
        scope = message.provider_response_id if mine and same_endpoint else None
        self.response_id = scope
        for part in message.parts:
            part_provider = getattr(part, "provider_name", None)
            from_same = same_endpoint and (
                part_provider == self.provider_name or (part_provider is None and mine)
            )
            send_id = self.send_item_ids and from_same
            if isinstance(part, TextPart):
                self.text(part, send_id)
            elif isinstance(part, ToolCallPart):
                self.tool_call(part, send_id, scope)
            elif isinstance(part, ThinkingPart):
                self.thinking(part, message, send_id)
            elif isinstance(part, NativeToolCallPart):
                # a hosted search carries its state inline: it goes back wherever its data is accepted,
                # its item id only to the same provider
                if (
                    part.tool_name == TOOL_SEARCH
                    and part.tool_call_id
                    and (from_same or self.accepts_stateless(message, part.provider_name))
                ):
                    self.search_call(part, send_id)
                elif send_id:
                    self.native_call(part)
            elif isinstance(part, NativeToolReturnPart):
                names = _discovered(part)
                output_id = (part.provider_details or {}).get("id")
                if (
                    names is not None
                    and isinstance(output_id, str)
                    and output_id
                    and (from_same or self.accepts_stateless(message, part.provider_name))
                ):
                    # only an output that came from a real `tool_search_output` item (it has its id)
                    call_id, status = _search_identity(part)
                    item = self.search_output(names, call_id, "server", status)
                    if send_id:
                        item["id"] = output_id
                    self.items.append(item)
                elif send_id:
                    self.native_return(part)
            elif isinstance(part, CompactionPart):
                details = part.provider_details or {}
                if self.accepts_stateless(message, part.provider_name) and "encrypted_content" in details:
                    self.items.append(
                        {
                            "id": part.id,
                            "encrypted_content": details["encrypted_content"],
                            "type": "compaction",
                        }
                    )
            # a FilePart came from a native tool whose call item stands for it: nothing to send

    def text(self, part: TextPart, send_id: bool) -> None:
        phase = (part.provider_details or {}).get("phase")
        send_phase = (
            self.profile.phase
            and part.provider_name == self.provider_name
            and phase in ("commentary", "final_answer")
        )
        if part.id and send_id:
            item = self.message_item
            if item is None or item["id"] != part.id:
                new: JSON = {
                    "role": "assistant",
                    "id": part.id,
                    "content": [],
                    "type": "message",
                    "status": "completed",
                }
                self.message_item = item = new
                self.items.append(new)
            annotations = _replay_annotations((part.provider_details or {}).get("citations"), part.content)
            item["content"] = [
                *item["content"],
                {"text": part.content, "type": "output_text", "annotations": annotations},
            ]
            if send_phase:
                item["phase"] = phase
        else:
            easy: JSON = {"role": "assistant", "content": part.content}
            if send_phase:
                easy["phase"] = phase
            self.items.append(easy)

    def tool_call(self, part: ToolCallPart, send_id: bool, scope: str | None) -> None:
        _, _, legacy_id = part.tool_call_id.partition("|")
        call_id = self.unscoped(part.tool_call_id, scope)
        item_id = legacy_id or part.id
        if self.tool_search and part.tool_kind == TOOL_SEARCH_KIND and _search_args(part) is not None:
            # a local search (from any provider) goes back as the builtin's client-executed call
            self.client_searches.add(call_id)
            search: JSON = {
                "type": "tool_search_call",
                "execution": "client",
                "arguments": part.args_as_dict(),
                "call_id": call_id,
                "status": "completed",
            }
            if item_id and send_id:
                search["id"] = item_id
            self.items.append(search)
            return
        item: JSON = {
            "name": part.tool_name,
            "arguments": part.args_as_json_str(),
            "call_id": call_id,
            "type": "function_call",
        }
        if item_id and send_id:
            item["id"] = item_id
        details = part.provider_details
        if part.provider_name == self.provider_name and details and (namespace := details.get("namespace")):
            item["namespace"] = namespace
        self.items.append(item)

    def thinking(self, part: ThinkingPart, message: ModelResponse, send_id: bool) -> None:
        raw: list[Any] | None = None
        if part.provider_name == self.provider_name:
            raw = json_array((part.provider_details or {}).get("raw_content"))
        # Chat Completions records the field its reasoning came in as a synthetic id.
        native = part.id not in ("content", "reasoning", "reasoning_content") or bool(part.signature or raw)
        signature: str | None = None
        if (
            part.signature
            and self.profile.encrypted_reasoning
            and self.accepts_stateless(message, part.provider_name)
        ):
            signature = part.signature
        if part.id and native and (send_id or raw or (self.send_item_ids and signature)):
            item = self.reasoning_item
            if (item is None or item["id"] != part.id) and (signature or part.content or raw):
                new: JSON = {
                    "id": part.id,
                    "summary": [],
                    "encrypted_content": signature,
                    "type": "reasoning",
                }
                self.reasoning_item = item = new
                self.items.append(new)
            if item is not None:
                if part.content:
                    item["summary"] = [*item["summary"], {"text": part.content, "type": "summary_text"}]
                if raw:
                    item["content"] = [{"text": text, "type": "reasoning_text"} for text in raw]
            return
        start, end = self.profile.chat.thinking_tags
        self.items.append({"role": "assistant", "content": f"{start}\n{part.content}\n{end}"})

    def search_call(self, part: NativeToolCallPart, send_id: bool) -> None:
        """A hosted tool search, replayed whole (``call_id`` and status as the item had them)."""
        call_id, status = _search_identity(part)
        item: JSON = {
            "call_id": call_id,
            "arguments": part.args_as_dict(),
            "type": "tool_search_call",
            "execution": "server",
            "status": status,
        }
        if send_id and part.id:
            item["id"] = part.id
        self.items.append(item)

    def search_output(self, names: list[str], call_id: str | None, execution: str, status: str) -> JSON:
        """A ``tool_search_output`` item: the definitions of the discovered tools this request has."""
        tools = [
            self.map_tool(tool) if self.map_tool is not None else tool_param(tool, self.profile.chat)
            for name in names
            if (tool := self.function_tools.get(name)) is not None
        ]
        return {
            "type": "tool_search_output",
            "execution": execution,
            "tools": tools,
            "call_id": call_id,
            "status": status,
        }

    def native_call(self, part: NativeToolCallPart) -> None:
        """A server-side tool call, replayed by its item id (the server still has the rest)."""
        name, call_id = part.tool_name, part.tool_call_id
        if not call_id:
            return
        args = part.args_as_dict()
        item: JSON | None = None
        if name == "code_execution" and args and (container := args.get("container_id")):
            item = {
                "id": call_id,
                "code": args.get("code"),
                "container_id": container,
                "outputs": None,
                "status": "completed",
                "type": "code_interpreter_call",
            }
            self.builtin_items[name] = item
        elif name == "web_search" and args:
            action = {k: v for k, v in args.items() if v is not None}
            item = {
                "id": part.id or call_id,
                "action": action,
                "status": "completed",
                "type": "web_search_call",
            }
            self.builtin_items[name] = item
        elif name == "file_search" and args:
            queries = args.get("queries", [])
            item = {
                "id": part.id or call_id,
                "queries": queries,
                "status": "completed",
                "type": "file_search_call",
            }
            self.builtin_items[name] = item
        elif name == "image_generation":
            # resolved by its id on the server, which an unstored response does not have
            if not self.store_disabled:
                item = {"id": call_id, "type": "image_generation_call"}
        elif name.startswith("mcp_server") and ":" in name and (mcp_action := args.get("action")):
            server = name.split(":", 1)[1]
            if mcp_action == "list_tools":
                item = {"id": call_id, "type": "mcp_list_tools", "server_label": server, "tools": []}
            elif (
                mcp_action == "call_tool"
                and (tool := args.get("tool_name"))
                and args.get("tool_args") is not None
            ):
                item = {
                    "id": call_id,
                    "server_label": server,
                    "name": tool,
                    "arguments": _json_text(args["tool_args"]),
                    "error": None,
                    "output": None,
                    "type": "mcp_call",
                }
        if item is not None:
            self.items.append(item)

    def native_return(self, part: NativeToolReturnPart) -> None:
        content = json_dict(part.content)
        status = content.get("status") if content is not None else None
        if status and (item := self.builtin_items.get(part.tool_name)) is not None:
            item["status"] = status


def _search_args(part: ToolCallPart) -> list[str] | None:
    """The queries of a tool-search call whose arguments have the cross-provider shape, else None."""
    try:
        queries = part.args_as_dict().get("queries")
    except ValueError:
        return None
    values = json_array(queries)
    return None if values is None or not all(isinstance(v, str) for v in values) else values


def _discovered(part: ToolReturnPart | NativeToolReturnPart) -> list[str] | None:
    """The tool names a tool-search result discovered, when it is one (2.68's typed tool-search returns:
    ``tool_kind='tool-search'`` and ``{"discovered_tools": [{"name": ...}, ...]}`` content), else None."""
    content = json_dict(part.content)
    if part.tool_kind != TOOL_SEARCH_KIND or content is None:
        return None
    matches = json_array(content.get("discovered_tools"))
    if matches is None:
        return None
    names: list[str] = []
    for match in matches:
        name = (json_dict(match) or {}).get("name")
        if not isinstance(name, str):
            return None
        names.append(name)
    return names


def _search_identity(part: NativeToolCallPart | NativeToolReturnPart) -> tuple[str | None, str]:
    """The ``call_id`` and ``status`` a hosted search's item had (the part's own id and ``'completed'``
    for history that did not keep them)."""
    details = part.provider_details or {}
    call_id = details.get("call_id", part.tool_call_id)
    if not (call_id is None or isinstance(call_id, str)):
        call_id = part.tool_call_id
    status = details.get("status")
    return call_id, status if status in ("in_progress", "completed", "incomplete") else "completed"


def _replay_annotations(citations: object, text: str) -> list[JSON]:
    """The URL and file citation annotations a text part recorded, if they still fit its text."""
    out: list[JSON] = []
    for citation in json_list(citations):
        c = json_dict(citation)
        if c is None:
            continue
        kind = c.get("type")
        if kind == "url_citation":
            url, title, start, end = c.get("url"), c.get("title"), c.get("start_index"), c.get("end_index")
            if (
                isinstance(url, str)
                and url
                and isinstance(title, str)
                and _is_int(start)
                and _is_int(end)
                and 0 <= start <= end <= len(text)
                and url in text[start:end]
            ):
                out.append(
                    {
                        "type": "url_citation",
                        "url": url,
                        "title": title,
                        "start_index": start,
                        "end_index": end,
                    }
                )
        elif kind == "file_citation":
            file_id, filename, index = c.get("file_id"), c.get("filename"), c.get("index")
            if isinstance(file_id, str) and file_id and isinstance(filename, str) and _is_int(index):
                out.append(
                    {"type": "file_citation", "file_id": file_id, "filename": filename, "index": index}
                )
    return out


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _accepts_stateless_compaction(message: ModelResponse, part: CompactionPart) -> bool:
    if part.provider_name is None:
        return False
    if part.provider_name == message.provider_name and message.canonical_system is not None:
        accepted = message.canonical_system == PROVIDER_NAME
    else:
        accepted = part.provider_name == PROVIDER_NAME
    return accepted and bool(part.provider_details) and "encrypted_content" in (part.provider_details or {})


def _trim_before_compaction(messages: Sequence[ModelMessage]) -> list[ModelMessage]:
    """History from the latest compaction item the request will send (the API bills what precedes it).

    The standing system prompt (the first request's opening system parts) is kept, unless the item
    says the compact call that made it planted the prompt; the latest instructions are kept too.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, ModelResponse):
            continue
        for part_index in range(len(message.parts) - 1, -1, -1):
            part = message.parts[part_index]
            if not isinstance(part, CompactionPart) or not _accepts_stateless_compaction(message, part):
                continue
            tail: list[ModelMessage] = [attrs.evolve(message, parts=message.parts[part_index:])]
            tail.extend(messages[index + 1 :])
            prefix = messages[:index]
            retained = bool((part.provider_details or {}).get("pydantic_ai_standing_prompt_planted"))
            first = next((m for m in prefix if isinstance(m, ModelRequest)), None)
            opening: list[Any] = []
            if first is not None and not retained:
                for request_part in first.parts:
                    if not isinstance(request_part, SystemPromptPart) or request_part.scope == "request":
                        break
                    opening.append(request_part)
            instructions = next(
                (m.instructions for m in reversed(prefix) if isinstance(m, ModelRequest) and m.instructions),
                None,
            )
            if opening or instructions is not None:
                tail.insert(0, ModelRequest(opening, instructions=instructions))
            return tail
    return list(messages)


def _previous_response_id(setting: object, messages: Sequence[ModelMessage], replay: _Replay) -> str | None:
    """``previous_response_id`` as 2.68 resolves it for responses that carry no history digest.

    A response from this endpoint in the history (or a compaction boundary) means the history has to be
    resent whole; otherwise a concrete seed id is sent with it.
    """
    if not isinstance(setting, str) or setting == "auto":
        return None
    for message in messages:
        if isinstance(message, ModelResponse) and (
            replay.accepts_server_state(message)
            or any(
                isinstance(p, CompactionPart) and _accepts_stateless_compaction(message, p)
                for p in message.parts
            )
        ):
            return None
    return setting


def _conversation(
    setting: object, messages: list[ModelMessage], replay: _Replay
) -> tuple[str | None, list[ModelMessage]]:
    """``conversation`` and the messages still to send: those after the latest response in it."""
    if not isinstance(setting, str):
        return None, messages
    own_id = messages[-1].conversation_id if setting == "auto" and messages else None
    trimmed: list[ModelMessage] = []
    for message in reversed(messages):
        if isinstance(message, ModelResponse) and replay.accepts_server_state(message):
            candidate = (message.provider_details or {}).get("conversation_id")
            if (
                own_id is not None
                and message.conversation_id is not None
                and message.conversation_id != own_id
            ):
                trimmed.append(message)
                continue
            if isinstance(candidate, str) and (setting == "auto" or candidate == setting):
                return candidate, trimmed[::-1]
        trimmed.append(message)
    return (None if setting == "auto" else setting), messages


def _cache_comparison_id(messages: Sequence[ModelMessage], replay: _Replay) -> str | None:
    """The latest stored response of this endpoint, for GPT-5.6's prompt cache diagnostics."""
    for message in reversed(messages):
        if not isinstance(message, ModelResponse):
            continue
        if replay.accepts_server_state(message):
            if (message.provider_details or {}).get("compaction"):
                return None
            rid = message.provider_response_id
            return rid if rid and rid.startswith("resp_") else None
        if any(
            isinstance(p, CompactionPart) and _accepts_stateless_compaction(message, p) for p in message.parts
        ):
            return None
    return None


_IMAGE_TOOLS: Final = ("image_generation", "code_interpreter")


def _native_tool(tool: object) -> JSON:
    entry = json_dict(tool)
    if entry is None:
        raise UserError(
            f"native tools are passed as raw Responses `tools` entries (dicts), not {type(tool).__name__}"
        )
    return entry


def _json_schema_format(output: OutputObjectDefinition, profile: ChatProfile) -> JSON:
    schema, strict = transform_tool_schema(output.json_schema, output.strict, profile)
    fmt: JSON = {"type": "json_schema", "name": output.name or DEFAULT_OUTPUT_TOOL_NAME, "schema": schema}
    if output.description:
        fmt["description"] = output.description
    if profile.supports_strict_tools:
        fmt["strict"] = strict
    return fmt


def tool_param(tool: ToolDefinition, profile: ChatProfile) -> JSON:
    """A function tool: flat, ``description`` as given (null when unset), ``strict`` always present."""
    parameters, strict = transform_tool_schema(tool.parameters_json_schema, tool.strict, profile)
    return {
        "name": tool.name,
        "parameters": parameters,
        "type": "function",
        "description": tool.description,
        "strict": bool(strict and profile.supports_strict_tools),
    }


def _tool_choice(resolved: Any, params: ModelRequestParameters, profile: ChatProfile) -> Any:
    forcing = profile.supports_forced_tool_choice
    if isinstance(resolved, str):
        return "auto" if resolved == "required" and not forcing else resolved
    mode, names = resolved
    if mode == "required" and len(names) == 1 and forcing:
        (name,) = names
        return {"type": "function", "name": name}
    return {
        "type": "allowed_tools",
        "mode": "auto" if mode == "auto" or not forcing else mode,
        "tools": [{"type": "function", "name": n} for n in params.tool_defs if n in names],
    }


def _reasoning(settings: Mapping[str, Any], thinking: object, profile: ResponsesProfile) -> JSON:
    reasoning: JSON = {}
    if effort := reasoning_effort(settings, thinking, profile.chat):
        reasoning["effort"] = effort
    if (mode := settings.get("openai_reasoning_mode")) and profile.reasoning_mode:
        reasoning["mode"] = mode
    context = settings.get("openai_reasoning_context")
    if context is None:
        if profile.reasoning_context:
            reasoning["context"] = "all_turns"
    elif profile.reasoning_context if context == "all_turns" else profile.chat.supports_thinking:
        reasoning["context"] = context
    if summary := settings.get("openai_reasoning_summary"):
        reasoning["summary"] = summary
    return reasoning


_INCLUDE_SETTINGS: Final = (
    ("openai_include_code_execution_outputs", "code_interpreter_call.outputs"),
    ("openai_include_web_search_sources", "web_search_call.action.sources"),
    ("openai_include_file_search_results", "file_search_call.results"),
    ("openai_logprobs", "message.output_text.logprobs"),
)
#: settings copied to the body unchanged: (setting, JSON key)
_PLAIN_SETTINGS: Final = (
    ("openai_truncation", "truncation"),
    ("openai_context_management", "context_management"),
    ("max_tokens", "max_output_tokens"),
    ("temperature", "temperature"),
    ("top_p", "top_p"),
    ("openai_top_logprobs", "top_logprobs"),
    ("openai_store", "store"),
    ("openai_user", "user"),
    ("openai_prompt_cache_key", "prompt_cache_key"),
    ("openai_prompt_cache_retention", "prompt_cache_retention"),
    ("openai_moderation", "moderation"),
    ("openai_background", "background"),
)


#: What ``POST /responses/input_tokens`` takes of a ``/responses`` body, in the order the SDK writes it.
_COUNT_TOKENS_KEYS: Final = (
    "model",
    "conversation",
    "input",
    "instructions",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "text",
    "tool_choice",
    "tools",
    "truncation",
)


def build_responses_body(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: Mapping[str, Any],
    params: ModelRequestParameters,
    profile: ResponsesProfile,
    *,
    stream: bool,
    provider_name: str = PROVIDER_NAME,
    base_url: str | None = None,
    map_tool: Callable[[ToolDefinition], JSON] | None = None,
    count_tokens: bool = False,
) -> JSON:
    """The ``POST /responses`` body for one request (pure), as pydantic-ai 2.68 builds it.

    ``settings`` are the merged model settings, ``openai_*`` keys of pydantic-ai's
    ``OpenAIResponsesModelSettings`` included. ``base_url`` is where the request goes (server-side
    state from another endpoint is not sent back); ``map_tool`` maps one tool (the model passes a
    cached one). With ``count_tokens``, the ``POST /responses/input_tokens`` body for that same request
    instead: only what the count endpoint takes (input, instructions, tools and tool choice, previous
    response or conversation, reasoning, text format, truncation; ``extra_body`` still applies), and no
    warning about sampling settings it would not send anyway, as 2.68 sends it.

    Raises:
        UserError: something in the request cannot be sent (see the module docstring).
    """
    chat = profile.chat
    s: dict[str, Any] = dict(settings)
    if "stop_sequences" in s:
        warn_unsupported_setting("stop_sequences", f"openai:{model_name}", stacklevel=4)
    include = ["reasoning.encrypted_content"] if profile.encrypted_reasoning else []
    include += [value for setting, value in _INCLUDE_SETTINGS if s.get(setting)]

    # tools: native (raw entries; image generation added when images may be the output), then the
    # `openai_native_tools` setting's, then function and output tools
    tools: list[JSON] = [_native_tool(t) for t in params.native_tools]
    if params.allow_image_output and not any(t.get("type") in _IMAGE_TOOLS for t in tools):
        tools.append({"type": "image_generation"})
    tools.extend(_native_tool(t) for t in s.get("openai_native_tools") or ())
    resolved = resolve_tool_choice(cast(ModelSettings, s), params)

    def map_one(tool: ToolDefinition) -> JSON:
        return map_tool(tool) if map_tool is not None else tool_param(tool, chat)

    # With the `tool_search` builtin on, the local `search_tools` tool it stands for is not sent as a
    # function too (the model would call it instead of searching), and past searches replay as
    # `tool_search_call`/`tool_search_output` items (2.68).
    tool_search = any(t.get("type") == TOOL_SEARCH for t in tools)
    for tool in [*params.function_tools, *params.output_tools]:
        if not (tool_search and tool.tool_kind == TOOL_SEARCH_KIND):
            tools.append(map_one(tool))

    replay = _Replay(
        provider_name,
        base_url,
        profile,
        send_item_ids=bool(s.get("openai_send_reasoning_ids", profile.encrypted_reasoning)),
        store_disabled=s.get("openai_store") is False,
        tool_search=tool_search,
        function_tools={tool.name: tool for tool in params.function_tools},
        map_tool=map_one,
    )
    previous_id = s.get("openai_previous_response_id")
    conversation_setting = s.get("openai_conversation_id")
    if previous_id is not None and conversation_setting is not None:
        raise UserError(
            "`openai_previous_response_id` and `openai_conversation_id` cannot both be set because "
            "the OpenAI Responses API does not support `previous_response_id` with `conversation`."
        )
    # 2.68's direct API runs the model's whole `prepare_messages` only on a history holding a retry;
    # here for a direct `Model.request` call too (after the direct API's pass, a no-op). Where the
    # model has no mid-conversation system role, the `<system>`-blocks announcement that pass puts in
    # the system prompt already says what the feedback frames mean: no second note goes out.
    if carries_retry(messages):
        messages = prepare_retry_history(messages, params, chat)
        replay.announced = not chat.inline_system_prompts
    conversation, history = _conversation(conversation_setting, list(messages), replay)
    previous_response_id = _previous_response_id(previous_id, history, replay)
    history = _trim_before_compaction(history)
    for message in history:
        if isinstance(message, ModelRequest):
            replay.request(message)
        else:
            replay.response(message)
    items = replay.items
    if params.output_mode == "prompted" and params.output_object is not None:
        # the prompt shows the schema as the strict-mode transformer leaves it (2.68)
        output = params.output_object
        schema, _ = transform_tool_schema(output.json_schema, output.strict, chat)
        params = attrs.evolve(params, output_object=attrs.evolve(output, json_schema=schema))
    instructions = InstructionPart.join(request_instructions(history, params))

    thinking = resolve_thinking(s, params, chat)
    reasoning = _reasoning(s, thinking, profile)

    text: JSON = {}
    role = chat.system_prompt_role
    if params.output_mode == "native" and params.output_object is not None:
        text["format"] = _json_schema_format(params.output_object, chat)
    elif params.output_mode == "prompted" and chat.supports_json_object_output:
        text["format"] = {"type": "json_object"}
        # `json_object` needs the word JSON in an input message; instructions do not count.
        if instructions is not None:
            leading = next((i for i, m in enumerate(items) if m.get("role") != role), len(items))
            items.insert(leading, {"role": role, "content": instructions})
            instructions = None
    if verbosity := s.get("openai_text_verbosity"):
        text["verbosity"] = verbosity
    if not items and not previous_response_id and not conversation:
        items.append({"role": "user", "content": ""})

    # reasoning models reject sampling settings while reasoning (`include` is already decided); a
    # count sends none, so it does not warn about them
    if not count_tokens:
        drop_sampling_while_reasoning(s, thinking, chat)

    body: JSON = {"model": model_name, "input": items, "stream": stream}
    if instructions is not None:
        body["instructions"] = instructions
    if tools:
        body["tools"] = tools
        body["tool_choice"] = _tool_choice(resolved, params, chat)
        if "parallel_tool_calls" in s:
            body["parallel_tool_calls"] = s["parallel_tool_calls"]
    if previous_response_id:
        body["previous_response_id"] = previous_response_id
    if conversation:
        body["conversation"] = conversation
    if reasoning:
        body["reasoning"] = reasoning
    if text:
        body["text"] = text
    if include:
        body["include"] = include
    service_tier = s.get("openai_service_tier") or s.get("service_tier")
    if service_tier:
        body["service_tier"] = service_tier
    for setting, body_key in _PLAIN_SETTINGS:
        if setting in s:
            body[body_key] = s[setting]
    cache_options = s.get("openai_prompt_cache_options")
    comparison = (
        _cache_comparison_id(messages, replay)
        if profile.cache_diagnostics and s.get("openai_prompt_cache_diagnostics", True)
        else None
    )
    if cache_options is not None or comparison is not None:
        options = dict(cache_options or {})
        if comparison is not None:
            options["comparison_response_id"] = comparison
        body["prompt_cache_options"] = options
    if count_tokens:
        body = {key: body[key] for key in _COUNT_TOKENS_KEYS if key in body}
    extra_body = s.get("extra_body")
    if isinstance(extra_body, Mapping):
        body.update(cast(Mapping[str, Any], extra_body))
    return body


# =============================================================================================
# 3. Response
# =============================================================================================

FINISH_REASONS: Final[dict[str, FinishReason]] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
    "completed": "stop",
    "cancelled": "error",
    "failed": "error",
}
_PENDING: Final = ("queued", "in_progress")
_USAGE_TOTALS: Final = ("prompt_tokens", "completion_tokens", "input_tokens", "output_tokens", "total_tokens")


def _state(status: object, background: bool) -> ModelResponseState:
    if status in _PENDING:
        return "suspended" if background else "incomplete"
    return "complete"


def _billed_web_searches(response: JSON) -> int:
    """Billed searches: 2.68 counts the ``search`` actions of the output's web search calls."""
    if response.get("status") in _PENDING:
        return 0
    count = 0
    for item in json_list(response.get("output")):
        d = json_dict(item)
        if d is not None and d.get("type") == "web_search_call":
            action = json_dict(d.get("action"))
            count += action is not None and action.get("type") == "search"
    return count


def map_responses_usage(response: JSON) -> RequestUsage:
    """A response's ``usage`` → :class:`RequestUsage`, as 2.68 maps it (via genai-prices' responses flavor).

    ``details`` holds the integer top-level counters but the totals, ``reasoning_tokens`` (0 when
    unreported) and the billed web searches; no ``usage`` counts as one unmeasured request. A cost a
    Pydantic AI Gateway put in the usage object becomes ``cost``, as 2.68 reads it.
    """
    searches = _billed_web_searches(response)
    extra = {"web_searches": searches} if searches else {}
    usage = json_dict(response.get("usage"))
    if usage is None:
        details = {"web_search_requests": searches} if searches else {}
        return RequestUsage(unmeasured_requests=1, details=details, extra=extra)
    details = {k: v for k, v in usage.items() if k not in _USAGE_TOTALS and _is_int(v)}
    input_details = json_dict(usage.get("input_tokens_details")) or {}
    output_details = json_dict(usage.get("output_tokens_details"))
    details["reasoning_tokens"] = count(output_details.get("reasoning_tokens")) if output_details else 0
    if searches:
        details["web_search_requests"] = searches
    return RequestUsage(
        input_tokens=count(usage.get("input_tokens")),
        output_tokens=count(usage.get("output_tokens")),
        cache_read_tokens=count(input_details.get("cached_tokens")),
        cache_write_tokens=count(input_details.get("cache_write_tokens")),
        output_reasoning_tokens=count((output_details or {}).get("reasoning_tokens")),
        details=details,
        extra=extra,
        cost=gateway_usage_cost(usage),
    )


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else json_str(value, what)


def _thinking_parts(item: JSON, provider_name: str) -> list[ModelResponsePart]:
    """One part per summary entry; the first carries the encrypted content and raw chain of thought."""
    item_id = _opt_str(item.get("id"), "reasoning id")
    signature = _opt_str(item.get("encrypted_content"), "encrypted_content")
    raw = [
        json_str(c.get("text"), "reasoning text") for c in map(json_object, json_list(item.get("content")))
    ]
    details: JSON | None = {"raw_content": raw} if raw else None
    parts: list[ModelResponsePart] = []
    for summary in json_list(item.get("summary")):
        text = json_str(json_object(summary).get("text"), "summary text")
        parts.append(
            ThinkingPart(
                text, id=item_id, signature=signature, provider_name=provider_name, provider_details=details
            )
        )
        signature = details = None
    if not parts and (signature or details):
        parts.append(
            ThinkingPart(
                "", id=item_id, signature=signature, provider_name=provider_name, provider_details=details
            )
        )
    return parts


def _valid_citations(annotations: object) -> list[JSON]:
    """The URL and file citations among a text's annotations (the ones the SDK's types accept)."""
    out: list[JSON] = []
    for annotation in json_list(annotations):
        a = json_dict(annotation)
        if a is None:
            continue
        kind = a.get("type")
        if kind == "url_citation":
            if all(_is_int(a.get(k)) for k in ("start_index", "end_index")) and all(
                isinstance(a.get(k), str) for k in ("title", "url")
            ):
                out.append(a)
        elif (
            kind == "file_citation"
            and isinstance(a.get("file_id"), str)
            and isinstance(a.get("filename"), str)
            and _is_int(a.get("index"))
        ):
            out.append(a)
    return out


def _citations(valid: list[JSON], text: str) -> list[Any] | None:
    """pydantic-ai's ``Citation`` JSON for the valid annotations of ``text``."""
    citations: list[Any] = []
    for a in valid:
        if a["type"] == "url_citation":
            start, end = a["start_index"], a["end_index"]
            anchor = {"start": start, "end": end, "kind": "marker"} if 0 <= start < end <= len(text) else None
            source: JSON = {"url": a["url"], "title": a["title"], "excerpts": [], "kind": "web"}
            citations.append({"sources": [source], "anchor": anchor})
        elif a["file_id"] or a["filename"]:
            doc: JSON = {
                "document_id": a["file_id"],
                "title": a["filename"],
                "excerpts": [],
                "kind": "document",
            }
            citations.append({"sources": [doc], "anchor": None})
    return citations or None


def _text_details(content: JSON, phase: object, raw_annotations: bool) -> tuple[JSON, list[Any] | None]:
    """A text part's ``provider_details`` and ``citations`` from an ``output_text`` entry."""
    text = json_str(content.get("text"), "output_text")
    annotations = content.get("annotations")
    details: JSON = {}
    valid = _valid_citations(annotations)
    citations = _citations(valid, text)
    if citations:
        details["citations"] = valid
    if logprobs := content.get("logprobs"):
        details["logprobs"] = map_logprobs(logprobs)
    if raw_annotations and annotations:
        details["annotations"] = annotations
    if phase is not None:
        details["phase"] = phase
    return details, citations


def _web_search(item: JSON, provider_name: str) -> tuple[NativeToolCallPart, NativeToolReturnPart]:
    item_id = json_str(item.get("id"), "web_search_call id")
    args: JSON | None = None
    result: JSON = {"status": item.get("status")}
    action = json_dict(item.get("action"))
    if action is not None:
        args = _without_nulls(action)
        if sources := args.pop("sources", None):
            result["sources"] = sources
    return (
        NativeToolCallPart("web_search", args, item_id, id=item_id, provider_name=provider_name),
        NativeToolReturnPart("web_search", result, item_id, provider_name=provider_name),
    )


def _without_nulls(value: JSON) -> JSON:
    out: JSON = {}
    for key, v in value.items():
        if v is None:
            continue
        d = json_dict(v)
        if d is not None:
            out[key] = _without_nulls(d)
        elif (items := json_array(v)) is not None:
            out[key] = [
                _without_nulls(d) if (d := json_dict(x)) is not None else x for x in items if x is not None
            ]
        else:
            out[key] = v
    return out


_FILE_SEARCH_RESULT_FIELDS: Final = ("attributes", "file_id", "filename", "score", "text")


def _file_search(item: JSON, provider_name: str) -> tuple[NativeToolCallPart, NativeToolReturnPart]:
    item_id = json_str(item.get("id"), "file_search_call id")
    result: JSON = {"status": item.get("status")}
    if (results := item.get("results")) is not None:
        result["results"] = [
            {**dict.fromkeys(_FILE_SEARCH_RESULT_FIELDS), **json_object(r)} for r in json_list(results)
        ]
    return (
        NativeToolCallPart(
            "file_search", {"queries": item.get("queries")}, item_id, id=item_id, provider_name=provider_name
        ),
        NativeToolReturnPart("file_search", result, item_id, provider_name=provider_name),
    )


def _code_interpreter(
    item: JSON, provider_name: str
) -> tuple[NativeToolCallPart, NativeToolReturnPart, list[FilePart]]:
    item_id = json_str(item.get("id"), "code_interpreter_call id")
    result: JSON = {"status": item.get("status")}
    files: list[FilePart] = []
    logs: list[Any] = []
    for output in json_list(item.get("outputs")):
        o = json_object(output)
        if o.get("type") == "image":
            files.append(
                FilePart(BinaryContent.from_data_uri(json_str(o.get("url"), "image url")), id=item_id)
            )
        elif o.get("type") == "logs":
            logs.append(o.get("logs"))
    if logs:
        result["logs"] = logs
    args = {"container_id": item.get("container_id"), "code": item.get("code") or ""}
    return (
        NativeToolCallPart("code_execution", args, item_id, provider_name=provider_name),
        NativeToolReturnPart("code_execution", result, item_id, provider_name=provider_name),
        files,
    )


def _image_generation(
    item: JSON, provider_name: str
) -> tuple[NativeToolCallPart, NativeToolReturnPart, FilePart | None]:
    item_id = json_str(item.get("id"), "image_generation_call id")
    result: JSON = {"status": item.get("status")}
    for key in ("background", "quality", "size", "revised_prompt"):
        if value := item.get(key):
            result[key] = value
    file_part: FilePart | None = None
    if data := item.get("result"):
        image = BinaryImage(
            base64.b64decode(json_str(data, "image result")), media_type=f"image/{item.get('output_format')}"
        )
        file_part = FilePart(image, id=item_id)
        # a streamed item still says `generating` once the image is there
        result["status"] = "completed"
    return (
        NativeToolCallPart("image_generation", None, item_id, provider_name=provider_name),
        NativeToolReturnPart("image_generation", result, item_id, provider_name=provider_name),
        file_part,
    )


def _mcp_call(item: JSON, provider_name: str) -> tuple[NativeToolCallPart, NativeToolReturnPart]:
    item_id = json_str(item.get("id"), "mcp_call id")
    name = f"mcp_server:{json_str(item.get('server_label'), 'server_label')}"
    arguments = _opt_str(item.get("arguments"), "mcp_call arguments")
    args: JSON = {
        "action": "call_tool",
        "tool_name": item.get("name"),
        "tool_args": orjson.loads(arguments) if arguments else {},
    }
    content = {"output": item.get("output"), "error": item.get("error")}
    return (
        NativeToolCallPart(name, args, item_id, provider_name=provider_name),
        NativeToolReturnPart(name, content, item_id, provider_name=provider_name),
    )


def _mcp_list_tools(item: JSON, provider_name: str) -> tuple[NativeToolCallPart, NativeToolReturnPart]:
    item_id = json_str(item.get("id"), "mcp_list_tools id")
    name = f"mcp_server:{json_str(item.get('server_label'), 'server_label')}"
    tools = [
        {"annotations": None, "description": None, **json_object(t)} for t in json_list(item.get("tools"))
    ]
    return (
        NativeToolCallPart(name, {"action": "list_tools"}, item_id, provider_name=provider_name),
        NativeToolReturnPart(
            name, {"tools": tools, "error": item.get("error")}, item_id, provider_name=provider_name
        ),
    )


def _compaction(item: JSON, provider_name: str) -> CompactionPart:
    details = {"created_by": None, **item}
    return CompactionPart(
        None,
        id=_opt_str(item.get("id"), "compaction id"),
        provider_name=provider_name,
        provider_details=details,
    )


def _function_call(item: JSON, provider_name: str, response_id: str | None = None) -> ToolCallPart:
    """A ``function_call`` item; its call id qualified as ``{response_id}:{call_id}`` when the server's
    ids are response-scoped (``response_id`` given), so ids stay unique across a history."""
    namespace = item.get("namespace")
    name = json_str(item.get("name"), "function_call name")
    arguments = _opt_str(item.get("arguments"), "function_call arguments")
    call_id = json_str(item.get("call_id"), "function_call call_id")
    return ToolCallPart(
        name,
        arguments,
        f"{response_id}:{call_id}" if response_id is not None else call_id,
        id=_opt_str(item.get("id"), "function_call id"),
        provider_name=provider_name,
        provider_details={"namespace": namespace} if namespace else None,
    )


#: The builtin tool's name, and the local function tool a client-executed search stands for (2.68's
#: ``ToolSearchTool.kind`` and ``TOOL_SEARCH_FUNCTION_TOOL_NAME``); both parts carry this ``tool_kind``.
TOOL_SEARCH: Final = "tool_search"
SEARCH_TOOLS: Final = "search_tools"
TOOL_SEARCH_KIND: Final = "tool-search"


def _tool_search_args(raw: object) -> JSON:
    """A ``tool_search_call``'s ``arguments`` as the cross-provider ``{"queries": [...]}`` (2.68).

    Server-executed searches report the tool ``paths`` they picked, client-executed ones the
    ``queries`` of the schema they were given; an empty object (a call just added to a stream) is no
    query yet.

    Raises:
        UnexpectedModelBehavior: any other shape (schema drift should be loud, as 2.68 has it).
    """
    if isinstance(raw, dict):
        args = cast(JSON, raw)
        if not args:
            return {"queries": []}
        for key in ("queries", "paths"):
            if (values := json_array(args.get(key))) is not None:
                return {"queries": [v for v in values if isinstance(v, str)]}
    raise UnexpectedModelBehavior(f"Unrecognized tool_search arguments shape: {raw!r}")


def _tool_search_call(item: JSON, provider_name: str) -> NativeToolCallPart:
    """A server-executed ``tool_search_call`` → the builtin tool-search call part (its output is another)."""
    item_id = json_str(item.get("id"), "tool_search_call id")
    call_id = _opt_str(item.get("call_id"), "tool_search_call call_id")
    return NativeToolCallPart(
        TOOL_SEARCH,
        _tool_search_args(item.get("arguments")),
        call_id or item_id,
        id=item_id,
        tool_kind=TOOL_SEARCH_KIND,
        provider_name=provider_name,
        provider_details={
            "call_id": call_id,
            "execution": item.get("execution"),
            "status": item.get("status"),
        },
    )


def _client_tool_search_call(item: JSON, provider_name: str) -> ToolCallPart:
    """A client-executed ``tool_search_call`` → a call of the local ``search_tools`` tool, for the caller."""
    item_id = json_str(item.get("id"), "tool_search_call id")
    call_id = _opt_str(item.get("call_id"), "tool_search_call call_id")
    return ToolCallPart(
        SEARCH_TOOLS,
        _tool_search_args(item.get("arguments")),
        call_id or item_id,
        id=item_id,
        tool_kind=TOOL_SEARCH_KIND,
        provider_name=provider_name,
    )


def _tool_search_return(call_id: str, item: JSON, provider_name: str) -> NativeToolReturnPart:
    """A server-executed ``tool_search_output`` → the builtin tool-search return part: the names of the
    function tools it discovered (their definitions go out again on the next request), and the item's
    identity for replay."""
    matches = [
        {"name": tool["name"]}
        for tool in map(json_dict, json_list(item.get("tools")))
        if tool is not None and tool.get("type") == "function" and isinstance(tool.get("name"), str)
    ]
    return NativeToolReturnPart(
        TOOL_SEARCH,
        {"discovered_tools": matches},
        call_id,
        tool_kind=TOOL_SEARCH_KIND,
        provider_name=provider_name,
        provider_details={
            "id": item.get("id"),
            "call_id": item.get("call_id"),
            "execution": item.get("execution"),
            "status": item.get("status"),
        },
    )


def _claim_tool_search_call(output_call_id: object, pending: collections.deque[str]) -> str | None:
    """The call a server ``tool_search_output`` answers: its own ``call_id`` when it names one, else the
    oldest call still waiting (anonymous outputs follow their calls in order)."""
    if isinstance(output_call_id, str):
        if output_call_id in pending:
            pending.remove(output_call_id)
        return output_call_id
    return pending.popleft() if pending else None


def _tool_search_pairs(output: list[Any]) -> dict[str, tuple[str, JSON]]:
    """Server ``tool_search_output`` items of a whole response by the call id they answer: ``{call id:
    (output item id, item)}``; an output naming a call that is not in the response stays unpaired."""
    calls = [
        item
        for item in map(json_dict, output)
        if item is not None and item.get("type") == "tool_search_call" and item.get("execution") == "server"
    ]
    pending = collections.deque(str(c.get("id")) for c in calls if c.get("call_id") is None)
    server_ids = {c.get("call_id") or c.get("id") for c in calls}
    pairs: dict[str, tuple[str, JSON]] = {}
    for item in map(json_dict, output):
        if item is None or item.get("type") != "tool_search_output" or item.get("execution") != "server":
            continue
        if item.get("call_id") is not None and item.get("call_id") not in server_ids:
            continue
        if (call_id := _claim_tool_search_call(item.get("call_id"), pending)) is not None:
            pairs[call_id] = (json_str(item.get("id"), "tool_search_output id"), item)
    return pairs


# The SDK dumps these response fields with every declared key of their union member (None when
# absent); a member it cannot tell by `type` is the union's first.
_MODERATION_RESULT: Final = (
    "categories",
    "category_applied_input_types",
    "category_scores",
    "flagged",
    "model",
    "type",
)
_MODERATION_FIELDS: Final = {"moderation_result": _MODERATION_RESULT, "error": ("code", "message", "type")}
_CACHE_MISS: Final = ("cache_missed_tokens", "reason", "type", "comparison_reusable_tokens")
_CACHE_DIAGNOSTICS_FIELDS: Final = {
    "cache_miss": _CACHE_MISS,
    "cache_hit": ("type",),
    "comparison_response_not_found": ("type",),
    "unavailable": ("type",),
}


def _declared(value: object, fields: Mapping[str, tuple[str, ...]], first: tuple[str, ...]) -> object:
    d = json_dict(value)
    if d is None:
        return value
    kind = d.get("type")
    declared = fields.get(kind, first) if isinstance(kind, str) else first
    return {**dict.fromkeys(declared), **d}


def _moderation(value: object) -> object:
    d = json_dict(value)
    if d is None:
        return value
    return {
        **d,
        **{k: _declared(d.get(k), _MODERATION_FIELDS, _MODERATION_RESULT) for k in ("input", "output")},
    }


def _response_details(response: JSON) -> JSON:
    """The ``provider_details`` a response object gives, finish reason and refusal aside."""
    details: JSON = {}
    if (ts := timestamp_of(response.get("created_at"))) is not None:
        details["timestamp"] = ts
    if conversation := json_dict(response.get("conversation")):
        details["conversation_id"] = conversation.get("id")
    if response.get("background"):
        details["background"] = True
    if moderation := response.get("moderation"):
        details["moderation"] = _moderation(moderation)
    if service_tier := response.get("service_tier"):
        details["service_tier"] = service_tier
    if (diagnostics := response.get("prompt_cache_diagnostics")) is not None:
        details["prompt_cache_diagnostics"] = _declared(diagnostics, _CACHE_DIAGNOSTICS_FIELDS, _CACHE_MISS)
    return details


def _raw_finish_reason(response: JSON) -> object:
    incomplete = json_dict(response.get("incomplete_details"))
    return incomplete.get("reason") if incomplete else response.get("status")


def response_error(
    model_name: str, code: object, message: object, *, error_type: object = None, in_stream: bool
) -> ModelAPIError:
    """The error for a failure reported in a 200 body or stream, categorised as 2.68 does.

    In a stream it gets the status the same error has before a stream opens, where that is clear; a
    failed response body has no status to report.
    """
    code_str = code if isinstance(code, str) else None
    type_str = error_type if isinstance(error_type, str) else None
    text = message if isinstance(message, str) else ""
    if in_stream:
        body: JSON = {"code": code_str, "message": text}
        if type_str is not None:
            body["type"] = type_str
        error = stream_error(model_name, body)
        if isinstance(error, ModelHTTPError):
            return error
    status = openai_compatible_status(code_str, type_str)
    category = openai_compatible_category(status, code_str, type_str, text)
    return (category or ModelAPIError)(
        model_name,
        f"{code_str}: {text}" if code_str else text,
        provider_error_code=code_str,
        provider_error_type=type_str,
        in_stream=in_stream,
    )


_PARSE_ERRORS: Final[tuple[type[Exception], ...]] = (*SHAPE_ERRORS, binascii.Error)


def parse_responses_body(
    body: bytes,
    *,
    model_name: str,
    provider_name: str = PROVIDER_NAME,
    provider_url: str | None = None,
    include_raw_annotations: bool = False,
    canonical_system: str | None = PROVIDER_NAME,
    response_scoped_tool_call_ids: bool = False,
) -> ModelResponse:
    """A 200 ``/responses`` body → :class:`ModelResponse` (pure), as pydantic-ai 2.68 maps it.

    ``canonical_system`` is stamped on the response; with ``response_scoped_tool_call_ids`` each tool
    call id is qualified with the response id (see :class:`ResponsesProfile`).

    Raises:
        ModelAPIError: the body reports a failed response (``error`` set), categorised as 2.68 does.
        UnexpectedModelBehavior: the body is not JSON, or not a response; the message quotes it.
    """
    return parse_json_body(
        body,
        "the OpenAI Responses endpoint",
        lambda data: _parse(
            json_object(data),
            model_name,
            provider_name,
            provider_url,
            include_raw_annotations,
            canonical_system,
            response_scoped_tool_call_ids,
        ),
        _PARSE_ERRORS,
    )


def _parse(
    response: JSON,
    model_name: str,
    provider_name: str,
    provider_url: str | None,
    raw_annotations: bool,
    canonical_system: str | None = PROVIDER_NAME,
    response_scoped: bool = False,
) -> ModelResponse:
    if error := json_dict(response.get("error")):
        raise response_error(
            model_name, error.get("code"), error.get("message"), error_type=error.get("type"), in_stream=False
        )
    parts: list[ModelResponsePart] = []
    refusal: str | None = None
    output = json_list(response.get("output"))
    searches = _tool_search_pairs(output)
    paired_outputs = {output_id for output_id, _ in searches.values()}
    for raw_item in output:
        item = json_object(raw_item)
        kind = item.get("type")
        if kind == "reasoning":
            parts.extend(_thinking_parts(item, provider_name))
        elif kind == "message":
            for raw_content in json_list(item.get("content")):
                content = json_object(raw_content)
                if content.get("type") == "refusal":
                    refusal = json_str(content.get("refusal"), "refusal")
                elif content.get("type") == "output_text" and content.get("text"):
                    details, citations = _text_details(content, item.get("phase"), raw_annotations)
                    parts.append(
                        TextPart(
                            content["text"],
                            id=_opt_str(item.get("id"), "message id"),
                            provider_name=provider_name,
                            provider_details=details or None,
                            citations=citations,
                        )
                    )
        elif kind == "function_call":
            scope = _opt_str(response.get("id"), "response id") if response_scoped else None
            parts.append(_function_call(item, provider_name, scope))
        elif kind == "code_interpreter_call":
            call, ret, files = _code_interpreter(item, provider_name)
            parts.extend([call, *files, ret])
        elif kind == "web_search_call":
            parts.extend(_web_search(item, provider_name))
        elif kind == "file_search_call":
            parts.extend(_file_search(item, provider_name))
        elif kind == "image_generation_call":
            call, ret, file_part = _image_generation(item, provider_name)
            parts.extend([call, ret] if file_part is None else [call, file_part, ret])
        elif kind == "mcp_call":
            parts.extend(_mcp_call(item, provider_name))
        elif kind == "mcp_list_tools":
            parts.extend(_mcp_list_tools(item, provider_name))
        elif kind == "compaction":
            parts.append(_compaction(item, provider_name))
        elif kind == "tool_search_call":
            if item.get("execution") == "client":
                # the caller runs the search; the return part is theirs to add
                parts.append(_client_tool_search_call(item, provider_name))
            else:
                call = _tool_search_call(item, provider_name)
                parts.append(call)
                if (found := searches.get(call.tool_call_id)) is not None:
                    parts.append(_tool_search_return(call.tool_call_id, found[1], provider_name))
        elif (
            kind == "tool_search_output"
            and item.get("execution") == "server"
            and item.get("id") not in paired_outputs
        ):
            call_id = item.get("call_id") or json_str(item.get("id"), "tool_search_output id")
            parts.append(_tool_search_return(call_id, item, provider_name))
        # computer, custom tool, local shell calls and MCP approval requests are not supported (as 2.68)

    details = _response_details(response)
    finish_reason: FinishReason | None = None
    raw_finish = _raw_finish_reason(response)
    if raw_finish:
        details["finish_reason"] = raw_finish
        finish_reason = FINISH_REASONS.get(raw_finish) if isinstance(raw_finish, str) else None
    if refusal is not None:
        parts = []
        finish_reason = "content_filter"
        details.pop("finish_reason", None)
        details["refusal"] = refusal
    response_id = response.get("id")
    model = response.get("model")
    return ModelResponse(
        parts,
        usage=map_responses_usage(response),
        model_name=_opt_str(model, "model"),
        provider_name=provider_name,
        provider_url=provider_url,
        canonical_system=canonical_system,
        provider_details=details or None,
        provider_response_id=_opt_str(response_id, "id"),
        finish_reason=finish_reason,
        state=_state(response.get("status"), bool(response.get("background"))),
    )


# =============================================================================================
# 4. Stream
# =============================================================================================

#: what closes a server-side tool's streamed arguments: the code string, or the MCP tool's arguments
_ARGS_CLOSERS: Final = {
    "response.code_interpreter_call_code.done": '"}',
    "response.mcp_call_arguments.done": "}",
}


class ResponsesStreamMapper:
    """Responses SSE events → raw part events and :class:`StreamMeta` (one per stream, pure).

    Each event is dispatched on its JSON ``type`` (the ``event:`` line is ignored, as the SDK does);
    text deltas cost one ``orjson.loads`` and one parts-manager call, and the meta is rebuilt only
    after events that change it.
    """

    __slots__ = (
        "_annotations",
        "_background",
        "_details",
        "_dirty",
        "_ended",
        "_events",
        "_fc_args",
        "_finalized",
        "_finish_reason",
        "_has_refusal",
        "_last_sequence",
        "_listed_tools",
        "_model_name",
        "_pending_searches",
        "_phase",
        "_phase_started",
        "_provider_name",
        "_raw_annotations",
        "_refusal",
        "_response_id",
        "_response_scoped",
        "_state",
        "_usage",
        "_usage_seen",
        "meta",
        "parts",
    )

    def __init__(
        self,
        parts: PartsManager,
        *,
        model_name: str,
        provider_name: str = PROVIDER_NAME,
        provider_url: str | None = None,
        include_raw_annotations: bool = False,
        canonical_system: str | None = PROVIDER_NAME,
        response_scoped_tool_call_ids: bool = False,
    ) -> None:
        self.parts = parts
        self.meta = StreamMeta(
            model_name,
            provider_name=provider_name,
            provider_url=provider_url,
            canonical_system=canonical_system,
        )
        self._response_scoped = response_scoped_tool_call_ids
        self._provider_name = provider_name
        self._raw_annotations = include_raw_annotations
        self._model_name = model_name
        self._response_id: str | None = None
        self._details: JSON = {}
        self._finish_reason: FinishReason | None = None
        self._usage = RequestUsage()
        self._usage_seen = False
        self._state: ModelResponseState = "incomplete"
        self._background = False
        self._events = 0
        self._last_sequence: object = None
        self._ended = False  # response.completed / incomplete arrived: the stream is over
        self._dirty = False
        self._has_refusal = False
        self._refusal = ""
        self._fc_args: dict[str, str] = {}
        self._finalized: set[str] = set()
        self._annotations: dict[tuple[Any, Any], list[Any]] = {}
        self._phase: dict[Any, Any] = {}
        self._phase_started: set[tuple[Any, Any]] = set()
        self._listed_tools: set[str] = set()
        self._pending_searches: collections.deque[str] = collections.deque()

    # -- SSE -----------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """``response.completed`` or ``response.incomplete`` arrived: the stream finishes here."""
        return self._ended

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        """Handle one SSE event.

        Raises:
            ModelHTTPError: an ``error`` event or a failed response with a recognisable status
                (``in_stream=True``).
            ModelAPIError: the same without one.
            UnexpectedModelBehavior: the event is not a JSON object, or not a Responses event.
        """
        data = event.data
        if data.startswith("[DONE]"):
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UnexpectedModelBehavior("Invalid event in the Responses stream", data) from None
        if not isinstance(chunk, dict):
            raise UnexpectedModelBehavior("Invalid event in the Responses stream", data)
        chunk = cast(JSON, chunk)
        if error := chunk.get("error"):
            # what the SDK raises for any event carrying an `error` object
            raise stream_error(self._model_name, error)
        try:
            self._event(chunk, out)
        except _PARSE_ERRORS as exc:
            raise UnexpectedModelBehavior(
                f"Invalid event in the Responses stream: {type(exc).__name__}: {exc}", data
            ) from None
        finally:
            if self._dirty:
                self._publish()

    def _event(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        kind = chunk.get("type")
        self._events += 1
        if "sequence_number" in chunk:
            self._last_sequence = chunk["sequence_number"]
        parts = self.parts
        if kind == "response.output_text.delta":
            delta = chunk.get("delta")
            if delta is None:  # some gateways send null deltas
                return
            item_id = chunk.get("item_id")
            key = (item_id, chunk.get("content_index"))
            details: JSON | None = None
            if key not in self._phase_started and (phase := self._phase.get(item_id)) is not None:
                details = {"phase": phase}
                self._phase_started.add(key)
            out.extend(
                parts.handle_text_delta(
                    vendor_part_id=key,
                    content=json_str(delta, "text delta"),
                    id=item_id,
                    provider_name=self._provider_name,
                    provider_details=details,
                )
            )
        elif kind == "response.function_call_arguments.delta":
            item_id = chunk.get("item_id")
            if item_id in self._fc_args and item_id not in self._finalized:
                delta = json_str(chunk.get("delta"), "arguments delta")
                self._fc_args[item_id] += delta
                out.extend(parts.handle_tool_call_delta(vendor_part_id=item_id, args=delta))
        elif kind in ("response.reasoning_summary_text.delta", "response.reasoning_summary_part.added"):
            item_id = json_str(chunk.get("item_id"), "item_id")
            index = chunk.get("summary_index")
            text = (
                chunk.get("delta") if kind.endswith("delta") else json_object(chunk.get("part")).get("text")
            )
            out.extend(
                parts.handle_thinking_delta(
                    vendor_part_id=item_id if index == 0 else f"{item_id}-{index}",
                    content=_opt_str(text, "summary text"),
                    id=item_id,
                    provider_name=self._provider_name,
                )
            )
        elif kind == "response.output_item.added":
            self._item_added(json_object(chunk.get("item")), out)
        elif kind == "response.output_item.done":
            self._item_done(json_object(chunk.get("item")), out)
        elif kind == "response.function_call_arguments.done":
            self._finalize_call(chunk.get("item_id"), chunk.get("arguments"), out)
        elif kind == "response.output_text.done":
            self._text_done(chunk, out)
        elif kind == "response.output_text.annotation.added":
            key = (chunk.get("item_id"), chunk.get("content_index"))
            self._annotations.setdefault(key, []).append(chunk.get("annotation"))
        elif kind in ("response.created", "response.in_progress", "response.queued"):
            self._status(kind, json_object(chunk.get("response")))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._terminal(kind, json_object(chunk.get("response")), out)
        elif kind == "response.reasoning_text.delta":
            self._raw_thinking(chunk, out)
        elif kind in ("response.refusal.delta", "response.refusal.done"):
            self._has_refusal = True
            if kind.endswith("delta"):
                self._refusal += json_str(chunk.get("delta"), "refusal delta")
            else:  # the whole refusal replaces the deltas
                self._refusal = json_str(chunk.get("refusal"), "refusal")
            self._set_finish("content_filter")
        elif kind in ("response.code_interpreter_call_code.delta", "response.mcp_call_arguments.delta"):
            delta = json_str(chunk.get("delta"), "arguments delta")
            if kind.startswith("response.code"):
                delta = orjson.dumps(delta).decode()[1:-1]  # the code goes into a JSON string
            out.extend(
                parts.handle_tool_call_delta(vendor_part_id=f"{chunk.get('item_id')}-call", args=delta)
            )
        elif kind in _ARGS_CLOSERS:
            closer = _ARGS_CLOSERS[kind]
            out.extend(
                parts.handle_tool_call_delta(vendor_part_id=f"{chunk.get('item_id')}-call", args=closer)
            )
        elif kind == "response.image_generation_call.partial_image":
            item_id = chunk.get("item_id")
            data = base64.b64decode(json_str(chunk.get("partial_image_b64"), "partial image"))
            image = BinaryImage(data, media_type=f"image/{chunk.get('output_format')}")
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-file", part=FilePart(image, id=item_id)))
        elif kind == "error":
            raise response_error(self._model_name, chunk.get("code"), chunk.get("message"), in_stream=True)
        # content-part, progress and `*.done` summary events carry nothing new; unknown ones are skipped

    # -- items ---------------------------------------------------------------------------------

    def _function_call(self, item: JSON) -> list[ModelResponseStreamEvent]:
        # response-scoped ids are qualified with the id `response.created` announced
        part = _function_call(item, self._provider_name, self._response_id if self._response_scoped else None)
        if part.id is not None:
            self._fc_args[part.id] = part.args if isinstance(part.args, str) else ""
        return self.parts.handle_tool_call_part(
            vendor_part_id=part.id,
            tool_name=part.tool_name,
            args=part.args,
            tool_call_id=part.tool_call_id,
            id=part.id,
            provider_name=part.provider_name,
            provider_details=part.provider_details,
        )

    def _item_added(self, item: JSON, out: list[ModelResponseStreamEvent]) -> None:
        kind = item.get("type")
        parts, name = self.parts, self._provider_name
        item_id = item.get("id")
        call_id = f"{item_id}-call"
        if kind == "function_call":
            out.extend(self._function_call(item))
        elif kind == "message":
            if (phase := item.get("phase")) is not None:
                self._phase[item_id] = phase
        elif kind in ("web_search_call", "file_search_call"):
            call, _ = _web_search(item, name) if kind == "web_search_call" else _file_search(item, name)
            out.extend(parts.handle_part(vendor_part_id=call_id, part=attrs.evolve(call, args=None)))
        elif kind == "code_interpreter_call":
            call, _, _ = _code_interpreter(item, name)
            out.extend(parts.handle_part(vendor_part_id=call_id, part=attrs.evolve(call, args=None)))
            # the code streams into the arguments: open them up to the code string
            out.extend(
                parts.handle_tool_call_delta(vendor_part_id=call_id, args=call.args_as_json_str()[:-2])
            )
        elif kind == "image_generation_call":
            call, _, _ = _image_generation(item, name)
            out.extend(parts.handle_part(vendor_part_id=call_id, part=call))
        elif kind == "mcp_call":
            call, _ = _mcp_call(item, name)
            out.extend(parts.handle_part(vendor_part_id=call_id, part=attrs.evolve(call, args=None)))
            # the tool's arguments stream in: open them up to `"tool_args":`
            out.extend(
                parts.handle_tool_call_delta(vendor_part_id=call_id, args=call.args_as_json_str()[:-3])
            )
        elif kind == "mcp_list_tools":
            call, _ = _mcp_list_tools(item, name)
            out.extend(parts.handle_part(vendor_part_id=call_id, part=call))
        elif kind == "compaction":
            out.extend(parts.handle_part(vendor_part_id=item_id, part=_compaction(item, name)))
        elif kind == "tool_search_call":
            if item.get("execution") == "client":
                # as 2.68 streams it: a plain call of the local tool, its arguments completed on `done`
                client = _client_tool_search_call(item, name)
                out.extend(
                    parts.handle_tool_call_part(
                        vendor_part_id=item_id,
                        tool_name=client.tool_name,
                        args=None,
                        tool_call_id=client.tool_call_id,
                        id=client.id,
                        provider_name=name,
                    )
                )
            else:
                search = _tool_search_call(item, name)
                if item.get("call_id") is None:
                    self._pending_searches.append(search.tool_call_id)
                out.extend(parts.handle_part(vendor_part_id=call_id, part=attrs.evolve(search, args=None)))
        # a `tool_search_output` becomes its part on `done`

    def _item_done(self, item: JSON, out: list[ModelResponseStreamEvent]) -> None:
        kind = item.get("type")
        parts, name = self.parts, self._provider_name
        item_id = item.get("id")
        if kind == "function_call" and item_id:
            # Codex-style servers can send a call only here, without `added` or deltas
            if not isinstance(parts.get_part_by_vendor_id(item_id), ToolCallPart):
                out.extend(self._function_call(item))
                self._finalized.add(item_id)
            else:
                self._finalize_call(item_id, item.get("arguments"), out)
        elif kind == "reasoning":
            if signature := item.get("encrypted_content"):
                out.extend(
                    parts.handle_thinking_delta(
                        vendor_part_id=item_id,
                        id=_opt_str(item_id, "reasoning id"),
                        signature=json_str(signature, "encrypted_content"),
                        provider_name=name,
                    )
                )
        elif kind == "code_interpreter_call":
            _, ret, files = _code_interpreter(item, name)
            for i, file_part in enumerate(files):
                out.extend(parts.handle_part(vendor_part_id=f"{item_id}-file-{i}", part=file_part))
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-return", part=ret))
        elif kind in ("web_search_call", "file_search_call"):
            call, ret = _web_search(item, name) if kind == "web_search_call" else _file_search(item, name)
            out.extend(parts.handle_tool_call_delta(vendor_part_id=f"{item_id}-call", args=call.args))
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-return", part=ret))
        elif kind == "image_generation_call":
            _, ret, image = _image_generation(item, name)
            if image is not None:
                out.extend(parts.handle_part(vendor_part_id=f"{item_id}-file", part=image))
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-return", part=ret))
        elif kind == "mcp_call":
            _, ret = _mcp_call(item, name)
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-return", part=ret))
        elif kind == "mcp_list_tools":
            _, ret = _mcp_list_tools(item, name)
            out.extend(parts.handle_part(vendor_part_id=f"{item_id}-return", part=ret))
            self._listed_tools.add(json_str(item_id, "mcp_list_tools id"))
        elif kind == "compaction":
            out.extend(parts.handle_part(vendor_part_id=item_id, part=_compaction(item, name)))
        elif kind == "tool_search_call":
            if item.get("execution") == "client":
                # `done` may carry another call id than `added`: the server's record is this one
                client = _client_tool_search_call(item, name)
                out.extend(
                    parts.handle_tool_call_delta(
                        vendor_part_id=item_id,
                        args=client.args_as_json_str(),
                        tool_call_id=client.tool_call_id,
                    )
                )
            else:
                search = _tool_search_call(item, name)
                out.extend(
                    parts.handle_tool_call_delta(
                        vendor_part_id=f"{item_id}-call",
                        args=search.args,
                        provider_details=search.provider_details,
                    )
                )
        elif kind == "tool_search_output" and item.get("execution") == "server":
            answered = _claim_tool_search_call(item.get("call_id"), self._pending_searches)
            output_id = json_str(item_id, "tool_search_output id")
            out.extend(
                parts.handle_part(
                    vendor_part_id=f"{item_id}-return",
                    part=_tool_search_return(answered if answered is not None else output_id, item, name),
                )
            )

    def _finalize_call(self, item_id: object, final: object, out: list[ModelResponseStreamEvent]) -> None:
        """The complete arguments arrived: add whatever the deltas did not carry (2.68)."""
        if not isinstance(item_id, str) or item_id in self._finalized or not final:
            return
        final_args = json_str(final, "arguments")
        existing = self.parts.get_part_by_vendor_id(item_id)
        if not isinstance(existing, ToolCallPart):
            return  # a resumed stream: `output_item.done` creates the part from the whole item
        received = self._fc_args.get(item_id, "")
        if received != final_args:
            if not final_args.startswith(received):
                # replacing the part would start it twice; keep what streamed
                self._finalized.add(item_id)
                warnings.warn(
                    "The provider sent a `function_call_arguments.done`/`output_item.done` snapshot whose "
                    f"arguments differ from the streamed argument deltas for function call item {item_id!r} "
                    f"(tool {existing.tool_name!r}); the streamed arguments were kept.",
                    UserWarning,
                    stacklevel=2,
                )
                return
            out.extend(
                self.parts.handle_tool_call_delta(vendor_part_id=item_id, args=final_args[len(received) :])
            )
            self._fc_args[item_id] = final_args
        self._finalized.add(item_id)

    def _text_done(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        item_id = chunk.get("item_id")
        key = (item_id, chunk.get("content_index"))
        text = chunk.get("text")
        raw = self._annotations.pop(key, [])
        details: JSON = {}
        if raw and self._raw_annotations:
            details["annotations"] = raw
        if logprobs := chunk.get("logprobs"):
            details["logprobs"] = map_logprobs(logprobs)
        if key not in self._phase_started and (phase := self._phase.get(item_id)) is not None:
            details["phase"] = phase
            self._phase_started.add(key)
        existing = self.parts.get_part_by_vendor_id(key)
        citations: list[Any] | None = None
        # annotation offsets count into the final text: they only fit streamed text that equals it
        if isinstance(existing, TextPart) and isinstance(text, str) and existing.content == text:
            valid = _valid_citations(raw)
            citations = _citations(valid, text)
            if citations:
                details["citations"] = valid
        if details and text:
            out.extend(
                self.parts.handle_text_delta(
                    vendor_part_id=key,
                    content="",
                    provider_name=self._provider_name,
                    provider_details=details,
                    citations=citations,
                )
            )

    def _raw_thinking(self, chunk: JSON, out: list[ModelResponseStreamEvent]) -> None:
        """Raw chain of thought (gpt-oss) goes into the part's ``provider_details['raw_content']``."""
        item_id = json_str(chunk.get("item_id"), "item_id")
        delta = json_str(chunk.get("delta"), "reasoning delta")
        index = chunk.get("content_index")
        if not _is_int(index) or index < 0:
            raise ValueError("`content_index` is not a non-negative integer")

        def update(existing: dict[str, Any] | None) -> dict[str, Any]:
            raw = [str(x) for x in json_list((existing or {}).get("raw_content"))]
            raw.extend([""] * (index + 1 - len(raw)))
            raw[index] += delta
            return {**(existing or {}), "raw_content": raw}

        existing = self.parts.get_part_by_vendor_id(item_id)
        out.extend(
            self.parts.handle_thinking_delta(
                vendor_part_id=item_id,
                id=item_id,
                provider_name=self._provider_name,
                # a new part takes the details themselves; an existing one the update
                provider_details=update(None) if existing is None else update,  # type: ignore[arg-type]
            )
        )

    # -- status and meta -----------------------------------------------------------------------

    def _status(self, kind: str, response: JSON) -> None:
        if self._events == 1 and kind != "response.created":
            # a resumed background stream starts mid-way, without `response.created`
            self._background = True
            self._details["background"] = True
        self._track_background(response)
        if kind == "response.created":
            if rid := response.get("id"):
                self._response_id = json_str(rid, "response id")
            if model := response.get("model"):
                self._model_name = json_str(model, "model")
            if "timestamp" not in self._details and (ts := timestamp_of(response.get("created_at"))):
                self._details["timestamp"] = ts
            self._conversation(response)
        else:
            self._record_usage(response)
        self._set_state(response.get("status"))
        self._dirty = True

    def _terminal(self, kind: str, response: JSON, out: list[ModelResponseStreamEvent]) -> None:
        """``response.completed`` / ``incomplete`` / ``failed``: what the complete response reports."""
        self._track_background(response)
        if model := response.get("model"):
            self._model_name = json_str(model, "model")
        if self._response_id is None and (rid := response.get("id")):
            self._response_id = json_str(rid, "response id")
        if "timestamp" not in self._details and (ts := timestamp_of(response.get("created_at"))):
            self._details["timestamp"] = ts
        if service_tier := response.get("service_tier"):
            self._details["service_tier"] = service_tier
        if (diagnostics := response.get("prompt_cache_diagnostics")) is not None:
            self._details["prompt_cache_diagnostics"] = _declared(
                diagnostics, _CACHE_DIAGNOSTICS_FIELDS, _CACHE_MISS
            )
        self._dirty = True
        self._ended = kind != "response.failed"
        if kind == "response.completed":
            # list-tools results a stream left out of `output_item.done` (2.68 back-fills them)
            for raw_item in json_list(response.get("output")):
                item = json_dict(raw_item)
                if (
                    item is not None
                    and item.get("type") == "mcp_list_tools"
                    and item.get("id") not in self._listed_tools
                ):
                    _, ret = _mcp_list_tools(item, self._provider_name)
                    out.extend(self.parts.handle_part(vendor_part_id=f"{item['id']}-return", part=ret))
                    self._listed_tools.add(item["id"])
            self._record_usage(response)
            self._conversation(response)
            self._set_state(response.get("status"))
            raw_finish = _raw_finish_reason(response)
            if raw_finish and not self._has_refusal:
                self._details["finish_reason"] = raw_finish
                self._set_finish(FINISH_REASONS.get(raw_finish) if isinstance(raw_finish, str) else None)
            if moderation := response.get("moderation"):
                self._details["moderation"] = _moderation(moderation)
        elif kind == "response.incomplete":
            self._record_usage(response)
            incomplete = json_dict(response.get("incomplete_details"))
            raw_finish = incomplete.get("reason") if incomplete else None
            if raw_finish and not self._has_refusal:
                self._details["finish_reason"] = raw_finish
                self._set_finish(FINISH_REASONS.get(raw_finish) if isinstance(raw_finish, str) else None)
            self._set_state(response.get("status"))
        else:  # failed
            self._record_usage(response)
            self._set_state(response.get("status"))
            if error := json_dict(response.get("error")):
                self._publish()
                raise response_error(
                    self._model_name,
                    error.get("code"),
                    error.get("message"),
                    error_type=error.get("type"),
                    in_stream=True,
                )
            if not self._has_refusal:
                self._details["finish_reason"] = "failed"
                self._set_finish("error")

    def _track_background(self, response: JSON) -> None:
        if response.get("background"):
            self._background = True
            self._details["background"] = True

    def _conversation(self, response: JSON) -> None:
        if conversation := json_dict(response.get("conversation")):
            self._details["conversation_id"] = conversation.get("id")

    def _record_usage(self, response: JSON) -> None:
        usage = map_responses_usage(response)
        usage.unmeasured_requests = 0
        if response.get("usage") is not None:
            self._usage_seen = True
        self._usage = self._usage + usage

    def _set_state(self, status: object) -> None:
        self._state = _state(status, self._background)

    def _set_finish(self, reason: FinishReason | None) -> None:
        self._finish_reason = reason
        self._dirty = True

    def _publish(self) -> None:
        self._dirty = False
        self.meta = attrs.evolve(
            self.meta,
            model_name=self._model_name,
            provider_response_id=self._response_id,
            provider_details=dict(self._details) or None,
            finish_reason=self._finish_reason,
            usage=self._usage,
            # only `suspended` is stamped while streaming; the stream's own state decides the rest
            state="suspended" if self._state == "suspended" else None,
        )

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        """The body ended: the refusal, a suspended job's resume point, an unreported usage.

        Raises:
            UnexpectedModelBehavior: the body held no event at all.
        """
        if not self._events:
            raise UnexpectedModelBehavior("Streamed response ended without content or tool calls")
        if self._refusal:
            self._details["refusal"] = self._refusal
        if self._state == "suspended" and self._last_sequence is not None:
            self._details["last_sequence_number"] = self._last_sequence
        if not self._usage_seen:
            self._usage = self._usage + RequestUsage(unmeasured_requests=1)
        self._publish()
        if self._state == "incomplete":
            # no terminal event: the response was cut short (a foreground stream cannot be resumed)
            self.meta = attrs.evolve(self.meta, state="incomplete")


# =============================================================================================
# The model
# =============================================================================================


class OpenAIResponsesModel(HTTPModel):
    """A model spoken to over OpenAI's Responses API (``POST {base_url}/responses``).

    Args:
        model_name: the model as the server knows it (``'gpt-5'``).
        provider: where and how to reach it; :func:`from_name` builds one from the environment.
        profile: the model's quirks; defaults to :func:`responses_profile`.
        settings: default settings, under each call's.
    """

    http_error = staticmethod(openai_http_error)

    path: str = "responses"

    def __init__(
        self,
        model_name: str,
        *,
        provider: Provider,
        profile: ResponsesProfile | None = None,
        settings: ModelSettings | None = None,
        canonical_system: str | None = PROVIDER_NAME,
        path: str | None = None,
    ) -> None:
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = profile or responses_profile(model_name)
        #: ``ModelResponse.canonical_system``: ``'openai'`` for OpenAI itself, None for other hosts (2.68)
        self.canonical_system = canonical_system
        self._url = provider.url(path or self.path)
        # the count endpoint keeps the path's query (Azure's `api-version`, which the SDK sends on every call)
        endpoint, mark, query = (path or self.path).partition("?")
        self._count_url = provider.url(f"{endpoint}/input_tokens{mark}{query}")
        base = provider.base_url
        # as the SDK's client URL, with a trailing slash
        self._provider_url = base if base.endswith("/") else base + "/"
        self._headers = bearer_headers(provider)
        self._tool_param = ToolParamCache(lambda tool: tool_param(tool, self.profile.chat))

    @property
    def base_url(self) -> str:
        return self._provider_url

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history as this model is sent it (see :meth:`Model.prepare_messages`); one holding a retry
        also gets the steps 2.68's ``prepare_messages`` takes on the Responses API, the Chat layer's
        (:func:`~trio_direct.models._retry_prepare.prepare_retry_history` on the profile's Chat half): tool
        results first, and ``<system>`` blocks with their announcement on a model without a
        mid-conversation system role (DeepSeek's endpoint, for one).

        Done here as well as when the body is built because translating the retry can leave no retry
        part behind (the framework's ``no_output`` text becomes a system prompt).
        """
        prepared = super().prepare_messages(messages, model_request_parameters)
        if carries_retry(messages):
            prepared = prepare_retry_history(
                prepared, model_request_parameters or ModelRequestParameters(), self.profile.chat
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
        body = build_responses_body(
            self._model_name,
            messages,
            settings,
            params,
            self.profile,
            stream=stream,
            provider_name=self.system,
            base_url=self._provider_url,
            map_tool=self._tool_param,
        )
        headers = with_extra_headers(self._headers, settings.get("extra_headers"))
        return _http.HTTPRequest.json(self._url, body, headers)

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """``POST {base_url}/responses/input_tokens`` for the request :meth:`build_request` would send.

        Raises:
            UserError: there is nothing to count (no messages, previous response or conversation), or
                the request cannot be built.
        """
        if (
            not messages
            and not settings.get("openai_previous_response_id")
            and not settings.get("openai_conversation_id")
        ):
            raise UserError("Cannot count tokens without any messages or a previous response ID.")
        body = build_responses_body(
            self._model_name,
            messages,
            settings,
            params,
            self.profile,
            stream=False,
            provider_name=self.system,
            base_url=self._provider_url,
            map_tool=self._tool_param,
            count_tokens=True,
        )
        headers = with_extra_headers(self._headers, settings.get("extra_headers"))
        return _http.HTTPRequest.json(self._count_url, body, headers)

    def parse_count_tokens(self, body: bytes, headers: Mapping[str, str]) -> RequestUsage:
        """``{"object": "response.input_tokens", "input_tokens": N}`` → ``RequestUsage(input_tokens=N)``.

        Raises:
            UnexpectedModelBehavior: the body is not such an object; the message quotes it.
        """
        return parse_token_count(body, "the OpenAI Responses input_tokens endpoint", "input_tokens")

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        # `openai_include_raw_annotations` is a per-call setting
        response = parse_responses_body(
            body,
            model_name=self._model_name,
            provider_name=self.system,
            provider_url=self._provider_url,
            include_raw_annotations=bool(settings.get("openai_include_raw_annotations")),
            canonical_system=self.profile.canonical_system,
            response_scoped_tool_call_ids=self.profile.response_scoped_tool_call_ids,
        )
        if self.canonical_system != PROVIDER_NAME:
            response = attrs.evolve(response, canonical_system=self.canonical_system)
        return response

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> ResponsesStreamMapper:
        mapper = ResponsesStreamMapper(
            parts,
            model_name=self._model_name,
            provider_name=self.system,
            provider_url=self._provider_url,
            include_raw_annotations=bool(settings.get("openai_include_raw_annotations")),
            canonical_system=self.profile.canonical_system,
            response_scoped_tool_call_ids=self.profile.response_scoped_tool_call_ids,
        )
        if self.canonical_system != PROVIDER_NAME:
            mapper.meta = attrs.evolve(mapper.meta, canonical_system=self.canonical_system)
        return mapper


# =============================================================================================
# 6. Amazon Bedrock Mantle (`bedrock-mantle:`)
# =============================================================================================

MANTLE_PROVIDER_NAME: Final = "bedrock-mantle"
#: The SigV4 signing name of Bedrock Mantle (as the OpenAI SDK's Bedrock client signs).
MANTLE_SIGNING_SERVICE: Final = "bedrock-mantle"
MANTLE_DEFAULT_ENDPOINT: Final = "https://bedrock-mantle.{region}.api.aws"


def mantle_interface(model_name: str) -> str:
    """Which Mantle endpoint serves ``model_name`` (2.68's ``bedrock_mantle_interface``):
    ``'openai-responses'`` (GPT-5.x, ``/openai/v1/responses``), ``'responses'`` (GPT-OSS,
    ``/v1/responses``) or ``'chat'`` (GPT-OSS Safeguard, ``/v1/chat/completions``).

    Raises:
        UserError: not an OpenAI model (Mantle serves only those through this prefix).
    """
    vendor, base = split_model_id(model_name)
    if vendor != "openai":
        raise UserError(
            f"Model {model_name!r} is not an OpenAI model on Bedrock Mantle. "
            "Bedrock Mantle currently serves OpenAI models through the `bedrock-mantle:` prefix."
        )
    if base.startswith("gpt-oss-safeguard"):
        return "chat"
    return "responses" if base.startswith("gpt-oss") else "openai-responses"


def mantle_profile(model_name: str) -> ResponsesProfile:
    """The Responses profile of an OpenAI model on Bedrock Mantle (2.68's ``bedrock_mantle_model_profile``):
    the OpenAI model's own, no canonical system stamped (Mantle takes back only its own encrypted
    reasoning), response-scoped tool-call ids on ``/openai/v1``, no forced tool choice on GPT-OSS
    (``/v1/responses`` accepts only ``auto``)."""
    interface = mantle_interface(model_name)
    _, base = split_model_id(model_name)
    profile = responses_profile(base)
    chat = profile.chat
    if interface == "responses":
        chat = attrs.evolve(chat, supports_forced_tool_choice=False)
    return attrs.evolve(
        profile,
        chat=chat,
        canonical_system=None,
        response_scoped_tool_call_ids=interface == "openai-responses",
        # prompt cache diagnostics are OpenAI's own (2.68 sends no comparison id to Mantle)
        cache_diagnostics=False,
    )


def mantle_origin(base_url: str) -> str:
    """The scheme and host of a Mantle base URL, any ``/openai/v1`` or ``/v1`` suffix removed: Mantle
    serves both endpoint families under one origin."""
    origin = base_url.rstrip("/")
    for suffix in ("/openai/v1", "/v1"):
        if origin.endswith(suffix):
            return origin[: -len(suffix)]
    return origin


class BedrockMantleResponsesModel(OpenAIResponsesModel):
    """An OpenAI model on Amazon Bedrock Mantle's Responses API (2.68's ``BedrockMantleResponsesModel``).

    GPT-5.x goes to ``{origin}/openai/v1/responses``, GPT-OSS to ``{origin}/v1/responses``; the origin is
    ``base_url`` (or ``BEDROCK_MANTLE_BASE_URL``, ``AWS_ENDPOINT_URL_BEDROCK_MANTLE``), else
    ``https://bedrock-mantle.{region}.api.aws``. Authenticated with a Bedrock API key (``api_key``, or
    ``AWS_BEARER_TOKEN_BEDROCK``) as a bearer token, or SigV4-signed (service ``bedrock-mantle``) with the
    AWS credentials Bedrock uses (explicit keys, the environment, the profile, botocore's chain).

    Args:
        model_name: ``'openai.gpt-5.6-luna'``, ``'openai.gpt-oss-120b'``...
        region_name, base_url, api_key, aws_access_key_id, aws_secret_access_key, aws_session_token,
        profile_name: as :class:`~trio_direct.models.bedrock.BedrockConverseModel` takes them.
        config: a ready :class:`AWSConfig` instead.
        settings: default settings.

    Raises:
        UserError: not an OpenAI model, a GPT-OSS Safeguard model (served on Chat Completions, which this
            prefix does not reach), no credentials or region, or an API key over plain HTTP to another
            machine.
    """

    def __init__(
        self,
        model_name: str,
        *,
        region_name: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        config: AWSConfig | None = None,
        settings: ModelSettings | None = None,
    ) -> None:
        interface = mantle_interface(model_name)
        if interface == "chat":
            raise UserError(
                f"Model {model_name!r} is served on the Bedrock Mantle Chat Completions API, which "
                "trio_direct does not reach yet; use a GPT-5.x or GPT-OSS model"
            )
        if config is None:
            config = resolve_aws_config(
                service_env_name="BEDROCK_MANTLE",
                default_endpoint=MANTLE_DEFAULT_ENDPOINT,
                access_key_id=aws_access_key_id,
                secret_access_key=aws_secret_access_key,
                session_token=aws_session_token,
                bearer_token=api_key,
                bearer_env="AWS_BEARER_TOKEN_BEDROCK",
                region=region_name,
                profile=profile_name,
                endpoint_url=base_url or env_value("BEDROCK_MANTLE_BASE_URL"),
                # The OpenAI SDK 2.68 uses sends the key to any URL; here it goes over plain HTTP only to
                # this machine (a local gateway or test server), never across a network.
                bearer_over_loopback_http=True,
            )
        self.aws = config
        origin = mantle_origin(config.endpoint_url)
        path = "/openai/v1" if interface == "openai-responses" else "/v1"
        super().__init__(
            model_name,
            provider=Provider(MANTLE_PROVIDER_NAME, origin + path),
            profile=mantle_profile(model_name),
            settings=settings,
        )
        # the credentials go on per request (a bearer token, or a SigV4 signature over the exact bytes)
        self._headers.pop("authorization", None)

    def __repr__(self) -> str:
        return f"BedrockMantleResponsesModel(model_name={self.model_name!r}, aws={self.aws!r})"

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        """The Responses request, with a bearer token or signed with SigV4.

        Raises:
            UserError: see :func:`build_responses_body`; or botocore's credentials were not looked up yet.
        """
        request = super().build_request(messages, settings, params, stream=stream)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
        if self.aws.bearer_token is not None:
            headers["authorization"] = f"Bearer {self.aws.bearer_token}"
            return attrs.evolve(request, headers=headers)
        credentials = self.aws.credentials
        if credentials is None and self.aws.credential_source is not None:
            credentials = self.aws.credential_source.current
        if credentials is None:
            raise UserError(
                "the AWS credentials have not been looked up yet: send requests through "
                "request() / request_stream(), which look them up first"
            )
        # The user agent is not signed (proxies rewrite it), so it goes on after signing.
        agent = {k: v for k, v in headers.items() if k.lower() == "user-agent"}
        signed = {k: v for k, v in headers.items() if k.lower() != "user-agent"}
        signed.update(
            sign_request(
                method="POST",
                url=request.url,
                headers=signed,
                body=request.body,
                credentials=credentials,
                region=self.aws.region,
                service=MANTLE_SIGNING_SERVICE,
                now=datetime.datetime.now(datetime.UTC),
            )
        )
        return attrs.evolve(request, headers={**signed, **agent})

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send one Responses request (looking botocore's credentials up first when they come from it).

        Raises:
            ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: as
            :meth:`OpenAIResponsesModel.request`; UserError: no credentials.

        Cancellation:
            Safe at any point.
        """
        if self.aws.credential_source is not None:
            await self.aws.credential_source.get()
        try:
            return await super().request(messages, model_settings, model_request_parameters)
        except TrioDirectError as exc:
            _http.redact_error(exc, self.aws.secrets())
            raise

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        def open_stream() -> StreamContext:
            return super(BedrockMantleResponsesModel, self).request_stream(
                messages, model_settings, model_request_parameters
            )

        source = self.aws.credential_source
        if source is not None:
            return AfterLookup(source.get, open_stream)
        return open_stream()


def from_mantle_name(model_name: str, prefix: str) -> BedrockMantleResponsesModel:
    """The registry factory for ``'bedrock-mantle:<model id>'``: credentials, region and origin from the
    environment (see :class:`BedrockMantleResponsesModel`).

    Raises:
        UserError: as :class:`BedrockMantleResponsesModel`, or an empty model name.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:openai.gpt-5.6-luna'")
    return BedrockMantleResponsesModel(model_name)


# =============================================================================================
# 7. xAI (`xai:`), over its REST Responses API
# =============================================================================================

XAI_PROVIDER_NAME: Final = "xai"
XAI_DEFAULT_BASE_URL: Final = "https://api.x.ai/v1"
#: Grok models and the ``reasoning.effort`` values each accepts (pydantic-ai 2.68's Grok profile);
#: ``none`` turns reasoning off. First matching prefix wins; models not listed reason (or not) on
#: their own and get no effort.
_GROK_EFFORTS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("grok-3-mini", frozenset(("none", "low", "high"))),
    ("grok-4.3", frozenset(("none", "low", "medium", "high"))),
    ("grok-latest", frozenset(("none", "low", "medium", "high"))),
    ("grok-4.5", frozenset(("low", "medium", "high"))),
    ("grok-4.6", frozenset(("low", "medium", "high"))),
    ("grok-4.7", frozenset(("low", "medium", "high"))),
    ("grok-build-latest", frozenset(("low", "medium", "high"))),
)


def xai_profile(model_name: str) -> ResponsesProfile:
    """The Responses profile of a Grok model on xAI: ``reasoning.effort`` from ``thinking`` where the model
    takes one (snapped to its accepted values), encrypted reasoning sent back, sampling settings kept
    (xAI accepts them while reasoning), no OpenAI-only features (phases, reasoning context/mode, prompt
    cache diagnostics), ``xai`` as the canonical system."""
    efforts = next((e for prefix, e in _GROK_EFFORTS if model_name.startswith(prefix)), None)
    chat = ChatProfile(
        supports_thinking=efforts is not None,
        thinking_always_enabled=efforts is not None and "none" not in efforts,
        supports_effort_none=efforts is not None and "none" in efforts,
        reasoning_efforts=efforts,
        supports_json_object_output=True,
        openai_schema=False,
    )
    return ResponsesProfile(
        chat=chat,
        encrypted_reasoning=efforts is not None or model_name.startswith(("grok-4", "grok-build")),
        canonical_system=XAI_PROVIDER_NAME,
    )


def from_xai_name(model_name: str, prefix: str) -> OpenAIResponsesModel:
    """The registry factory for ``'xai:<model>'``: xAI's REST Responses API
    (``POST {XAI_BASE_URL}/responses``, default ``https://api.x.ai/v1``), ``XAI_API_KEY`` as a bearer token.

    Raises:
        UserError: the model name is empty or ``XAI_API_KEY`` is not set.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:grok-4.3'")
    key = env_value("XAI_API_KEY")
    if not key:
        raise UserError(
            "Set the `XAI_API_KEY` environment variable or pass `api_key` to use the xAI provider."
        )
    base_url = (env_value("XAI_BASE_URL") or XAI_DEFAULT_BASE_URL).rstrip("/")
    return OpenAIResponsesModel(
        model_name, provider=Provider(XAI_PROVIDER_NAME, base_url, key), profile=xai_profile(model_name)
    )
