"""Gemini: messages, settings and parameters → the ``generateContent`` request body (contents, system
instruction, JSON schema transform, tools and generation config). Pure; no I/O.
"""

from __future__ import annotations

import binascii
import copy
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Final, cast

import attrs
import orjson

from ...exceptions import (
    UserError,
)
from ...messages import (
    AudioUrl,
    BinaryContent,
    CachePoint,
    DocumentUrl,
    FilePart,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
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
    UserPromptPart,
    VideoUrl,
)
from ...settings import ModelSettings
from ...tools import InstructionPart, ModelRequestParameters, ToolDefinition
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._common import (
    SYSTEM_BLOCKS_ANNOUNCEMENT,
    provenance_tags,
    retry_feedback_text,
    warn_unsupported_setting,
)
from .._common import b64 as _b64
from .._common import dump_error_details as _dump_error_details
from .._common import json_default as _json_default
from .._instructions import request_instructions
from .._json import JSON as JSON
from .._prepare import unprepared_part_error
from .._tool_choice import resolve_tool_choice
from ._profile import (
    CLOUD_PROVIDER_NAME,
    DUMMY_THOUGHT_SIGNATURE,
    LEVEL_ORDER,
    LONG_DECODE_TIMEOUT,
    MEDIA_PROCESSING,
    PROVIDER_NAME,
    TOOL_CALL_ID_PREFIX,
    GoogleModelSettings,
    GoogleProfile,
    ThinkingLevelName,
)

# =============================================================================================
# 2. Request
# =============================================================================================

_FILES_API_PREFIX: Final = "https://generativelanguage.googleapis.com/v1beta/files"
_FILE_ITEMS: Final = (ImageUrl, AudioUrl, DocumentUrl, VideoUrl, BinaryContent, UploadedFile)
_ERROR_OUTCOMES: Final = ("failed", "retried")
_GLA_SERVICE_TIERS: Final[dict[str, str]] = {"default": "standard", "flex": "flex", "priority": "priority"}
_THINKING_BUDGETS: Final[dict[str, int]] = {
    "minimal": 128,
    "low": 2048,
    "medium": 8192,
    "high": 24576,
    "xhigh": 24576,
    "max": 24576,
}
_THINKING_LEVELS_BY_EFFORT: Final[dict[str, ThinkingLevelName]] = {
    "minimal": "MINIMAL",
    "low": "LOW",
    "medium": "MEDIUM",
    "high": "HIGH",
    "xhigh": "HIGH",
    "max": "HIGH",
}
#: Gemini 2.5 Pro cannot turn thinking off; its smallest budget stands in for ``thinking=False``.
_MIN_THINKING_BUDGET: Final = 128
_NATIVE_TOOL_TYPES: Final[dict[str, str]] = {
    "web_search": "GOOGLE_SEARCH_WEB",
    "web_fetch": "URL_CONTEXT",
    "file_search": "FILE_SEARCH",
}
NATIVE_TOOL_NAMES: Final[dict[str, str]] = {v: k for k, v in _NATIVE_TOOL_TYPES.items()}
_SERVER_SIDE_KINDS: Final = frozenset({"web_search", "web_fetch", "file_search", "code_execution"})


def _json_text(value: Any) -> str:
    """Compact JSON as pydantic-ai renders tool data (a JSON string stays unquoted text)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value, default=_json_default).decode()


def _contains_ref(node: object) -> bool:
    if isinstance(node, dict):
        mapping = cast(dict[str, object], node)
        return "$ref" in mapping or any(_contains_ref(v) for v in mapping.values())
    if isinstance(node, list):
        return any(_contains_ref(v) for v in cast(list[object], node))
    return False


def _media_type(item: ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile) -> str:
    try:
        return item.media_type
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _file_part(
    item: ImageUrl | AudioUrl | DocumentUrl | VideoUrl | BinaryContent | UploadedFile,
    profile: GoogleProfile,
    *,
    function_response: bool = False,
) -> JSON:
    """An ``inlineData`` or ``fileData`` part for a file (a ``functionResponse`` part carries no metadata).

    On the Gemini API only Google Files API and YouTube URLs go as references; Vertex AI (``profile.cloud``)
    fetches any URL itself (``gs://`` included), as 2.68 sends them there.

    Raises:
        UserError: the file needs a download (we do no I/O while building a request), or an
            ``UploadedFile`` that is not this provider's.
    """
    own_names = profile.own_provider_names
    if isinstance(item, BinaryContent):
        part: JSON = {"inlineData": {"data": _b64(item.data), "mimeType": item.media_type}}
    elif isinstance(item, UploadedFile):
        if item.provider_name not in own_names:
            raise UserError(
                f"UploadedFile with `provider_name={item.provider_name!r}` cannot be used with GoogleModel. "
                f"Expected `provider_name` to be one of {sorted(own_names)!r}."
            )
        if profile.cloud:
            if not item.file_id.startswith("gs://"):
                raise UserError(
                    "UploadedFile for GoogleModel (Google Cloud) must use a GCS URI (gs://bucket/path), "
                    f"got: {item.file_id}"
                )
        elif not item.file_id.startswith("https://"):
            raise UserError(
                "UploadedFile for GoogleModel (Gemini API) must use a file URI from the Google Files API "
                f"(https://generativelanguage.googleapis.com/...), got: {item.file_id}"
            )
        part = {"fileData": {"fileUri": item.file_id, "mimeType": item.media_type}}
    elif isinstance(item, VideoUrl) and item.is_youtube and not item.force_download:
        part = {"fileData": {"fileUri": item.url, "mimeType": _media_type(item)}}
    elif item.url.startswith("data:") and ";base64," in item.url:
        try:
            decoded = BinaryContent.from_data_uri(item.url)
        except (ValueError, binascii.Error) as exc:
            raise UserError(f"invalid data URI: {exc}") from None
        part = {"inlineData": {"data": _b64(decoded.data), "mimeType": decoded.media_type}}
    elif item.force_download and profile.cloud:
        raise UserError(
            f"{type(item).__name__} {item.url!r} has `force_download=True`, which trio_direct does not do "
            "while building a request; fetch the file and pass it as BinaryContent"
        )
    elif not profile.cloud and (item.force_download or not item.url.startswith(_FILES_API_PREFIX)):
        raise UserError(
            f"{type(item).__name__} {item.url!r} needs a download on the Gemini API (only Google Files API "
            "and YouTube URLs are sent as references), which trio_direct does not do while building a "
            "request; fetch the file and pass it as BinaryContent, or upload it and pass an UploadedFile"
        )
    else:
        part = {"fileData": {"fileUri": item.url, "mimeType": _media_type(item)}}
    if function_response or not item.vendor_metadata:
        return part
    metadata = dict(item.vendor_metadata)
    if "media_resolution" in metadata:
        part["mediaResolution"] = metadata.pop("media_resolution")
    if "media_processing" in metadata:
        part["mediaProcessing"] = metadata.pop("media_processing")
    if metadata and isinstance(item, BinaryContent | VideoUrl | UploadedFile):
        part["videoMetadata"] = metadata
    return part


def _user_parts(part: UserPromptPart, profile: GoogleProfile) -> list[JSON]:
    if isinstance(part.content, str):
        return [{"text": part.content}]
    out: list[JSON] = []
    for item in part.content:
        if isinstance(item, str):
            out.append({"text": item})
        elif isinstance(item, TextContent):
            out.append({"text": item.content})
        elif isinstance(item, CachePoint):
            continue  # Gemini caches through `google_cached_content`, not inline markers
        else:
            out.append(_file_part(item, profile))
    return out


def _function_response(part: ToolReturnPart, profile: GoogleProfile) -> tuple[JSON, list[JSON]]:
    """The ``functionResponse`` for a tool return, and the framed files that follow on the user channel."""
    inner_parts: list[JSON] = []
    fallback: list[JSON] = []
    refs: list[str] = []
    for file in part.files:
        if _media_type(file) in profile.tool_return_mime_types:
            inner_parts.append(_file_part(file, profile, function_response=True))
        else:
            identifier = file.identifier
            refs.append(f"See file {identifier}.")
            open_tag, close_tag = provenance_tags(part.tool_name, part.tool_call_id, identifier)
            fallback.extend(({"text": open_tag}, _file_part(file, profile), {"text": close_tag}))
    if part.outcome in _ERROR_OUTCOMES:
        # Gemini's own error channel: the failure message as a plain string
        response: JSON = {"error": part.model_response_str(wrap_if_error=False)}
    else:
        response = part.model_response_object(wrap_if_error=False)
        if _contains_ref(response):
            # Gemini would read `$ref` as a reference to a named function-response part
            response = {"output": part.model_response_str(wrap_if_error=False)}
        if refs:
            response = {"output": [response, *refs]}
    function_response: JSON = {"id": part.tool_call_id, "name": part.tool_name, "response": response}
    if inner_parts:
        function_response["parts"] = inner_parts
    return {"functionResponse": function_response}, fallback


def _retry_function_response(part: RetryPromptPart) -> JSON:
    """A tool-bound retry: the call's own result again, as an error (2.68's ``outcome='retried'``)."""
    content = part.content
    text = content if isinstance(content, str) else _json_text(_dump_error_details(content))
    assert part.tool_name is not None
    return {
        "functionResponse": {"id": part.tool_call_id, "name": part.tool_name, "response": {"error": text}}
    }


def _retry_feedback_text(part: RetryPromptPart) -> str:
    """A tool-less retry as 2.68 renders it: user-voice feedback in a fence behind an attribution line."""
    return retry_feedback_text(part.content)


def _split_function_responses(parts: list[JSON]) -> list[JSON]:
    """User contents, a new one wherever other parts follow a ``functionResponse`` (Gemini reads a mixed
    content as model-authored)."""
    if not parts:
        return []
    contents: list[JSON] = []
    current: list[JSON] = []
    for part in parts:
        if current and "functionResponse" in current[-1] and "functionResponse" not in part:
            contents.append({"role": "user", "parts": current})
            current = []
        current.append(part)
    contents.append({"role": "user", "parts": current})
    return contents


def _artifact_accepted(response: ModelResponse, provider_name: str | None, profile: GoogleProfile) -> bool:
    """Whether signed data (thought signatures, native tool parts) from ``provider_name`` in ``response``
    came from this transport (the Gemini API, or Vertex AI for ``profile.cloud``) and can go back to it
    (pydantic-ai's ``accepts_stateless_artifacts``)."""
    if provider_name is None:
        return False
    if provider_name == response.provider_name:
        if response.canonical_system is not None:
            return response.canonical_system == profile.provider_name
        host = _host_of(response.provider_url)
        if provider_name in (PROVIDER_NAME, CLOUD_PROVIDER_NAME) and host is not None:
            if host == "generativelanguage.googleapis.com":
                return not profile.cloud
            if _GOOGLE_CLOUD_HOST.fullmatch(host):
                return profile.cloud
    return provider_name in profile.own_provider_names


_GOOGLE_CLOUD_HOST: Final = re.compile(
    r"(?:[a-z0-9-]+-)?aiplatform\.googleapis\.com|aiplatform\.[a-z0-9-]+\.rep\.googleapis\.com"
)


def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    rest = url.split("://", 1)[-1]
    host = rest.split("/", 1)[0].split("@")[-1].split(":", 1)[0].lower()
    return host or None


def _with_signature(part: JSON, signature: str | None) -> JSON:
    if signature is not None:
        part["thoughtSignature"] = signature
    return part


def _model_content(message: ModelResponse, profile: GoogleProfile) -> JSON | None:
    """A history response as a ``role: model`` content, or None when nothing in it goes back."""
    # Vertex has no `toolCall`/`toolResponse` parts, so native tool parts are dropped there as on models
    # without tool combination (2.68)
    tool_combination = profile.tool_combination and not profile.cloud
    response_accepted = _artifact_accepted(message, message.provider_name, profile)
    parts: list[JSON] = []
    pending: str | None = None  # a legacy ThinkingPart.signature, carried to the next part
    needs_signature = True  # the first functionCall of a turn must carry one (Gemini 3)
    for item in message.parts:
        signature: str | None = None
        details = item.provider_details
        if details and (response_accepted or _artifact_accepted(message, item.provider_name, profile)):
            raw = details.get("thought_signature")
            if raw and isinstance(raw, str):
                signature = raw
        if signature is None and pending is not None:
            signature = pending
        pending = None
        part: JSON | None
        if isinstance(item, ToolCallPart):
            call: JSON = {"name": item.tool_name, "args": item.args_as_dict(), "id": item.tool_call_id}
            part = _with_signature({"functionCall": call}, signature)
            if signature is None and needs_signature:
                part["thoughtSignature"] = DUMMY_THOUGHT_SIGNATURE
            needs_signature = False
        elif isinstance(item, TextPart):
            part = _with_signature({"text": item.content}, signature)
        elif isinstance(item, ThinkingPart):
            if item.signature and _artifact_accepted(message, item.provider_name, profile):
                pending = item.signature
            part = (
                _with_signature({"text": item.content, "thought": True}, signature) if item.content else None
            )
        elif isinstance(item, NativeToolCallPart):
            part = _native_call_part(item, message, signature, profile, tool_combination=tool_combination)
        elif isinstance(item, NativeToolReturnPart):
            part = _native_return_part(item, message, signature, profile, tool_combination=tool_combination)
        elif isinstance(item, FilePart):
            inline: JSON = {"data": _b64(item.content.data), "mimeType": item.content.media_type}
            part = _with_signature({"inlineData": inline}, signature)
        else:  # a compaction part is not sent back to Gemini
            part = None
        if part is not None:
            parts.append(part)
    return {"role": "model", "parts": parts} if parts else None


def _echoes(tool_call_id: str, *, tool_combination: bool) -> bool:
    # Pre-Gemini-3 models reject `toolCall`/`toolResponse`; ids pydantic-ai made up were never Google's.
    return tool_combination and not tool_call_id.startswith(TOOL_CALL_ID_PREFIX)


def _native_call_part(
    item: NativeToolCallPart,
    message: ModelResponse,
    signature: str | None,
    profile: GoogleProfile,
    *,
    tool_combination: bool,
) -> JSON | None:
    if not _artifact_accepted(message, item.provider_name, profile):
        return None
    if item.tool_name == "code_execution":
        return _with_signature({"executableCode": item.args_as_dict()}, signature)
    if item.tool_name == MEDIA_PROCESSING:
        return None  # Gemini rejects replayed media-processing steps
    tool_type = _NATIVE_TOOL_TYPES.get(item.tool_name)
    if tool_type is None:
        raise UserError(f"Unknown native tool name: {item.tool_name!r}")
    if not _echoes(item.tool_call_id, tool_combination=tool_combination):
        return None
    call: JSON = {"id": item.tool_call_id, "toolType": tool_type, "args": item.args_as_dict()}
    return _with_signature({"toolCall": call}, signature)


def _native_return_part(
    item: NativeToolReturnPart,
    message: ModelResponse,
    signature: str | None,
    profile: GoogleProfile,
    *,
    tool_combination: bool,
) -> JSON | None:
    if not _artifact_accepted(message, item.provider_name, profile):
        return None
    content: object = item.content
    if item.tool_name == "code_execution" and isinstance(content, dict):
        return _with_signature({"codeExecutionResult": content}, signature)
    if item.tool_name == MEDIA_PROCESSING:
        return None
    tool_type = _NATIVE_TOOL_TYPES.get(item.tool_name)
    if tool_type is None:
        raise UserError(f"Unknown native tool name: {item.tool_name!r}")
    if not _echoes(item.tool_call_id, tool_combination=tool_combination):
        return None
    if isinstance(content, dict) and all(isinstance(k, str) for k in cast(dict[object, object], content)):
        response: JSON = dict(cast(JSON, content))
    else:
        response = {"result": content}
    if item.tool_name == "web_search":
        response.pop("sources", None)  # added from the grounding metadata; Gemini did not send it
    tool_response: JSON = {"id": item.tool_call_id, "toolType": tool_type, "response": response}
    return _with_signature({"toolResponse": tool_response}, signature)


def _standing_count(request: ModelRequest) -> int:
    """How many of the first request's opening parts are the standing system prompt."""
    count = 0
    for part in request.parts:
        if not isinstance(part, SystemPromptPart) or part.scope == "request":
            break
        count += 1
    return count


def _is_tool_result(part: ModelRequestPart) -> bool:
    return isinstance(part, ToolReturnPart) or (
        isinstance(part, RetryPromptPart) and part.tool_name is not None
    )


@attrs.define(slots=True)
class _Mapped:
    """The history being mapped: the system instruction parts and the contents."""

    profile: GoogleProfile
    prepared: bool  # 2.68's `prepare_messages` ran (the history holds a retry)
    system: list[JSON] = attrs.field(factory=list[JSON])
    contents: list[JSON] = attrs.field(factory=list[JSON])
    framed: bool = False  # framed feedback, framed tool files or `<system>` blocks went on the user channel

    def request(self, message: ModelRequest, *, standing: int, after_response: bool) -> None:
        parts: Sequence[ModelRequestPart] = message.parts
        if self.prepared and after_response:
            # 2.68 puts a request's tool results ahead of its other parts
            parts = sorted(parts, key=lambda p: not _is_tool_result(p))
        mapped: list[JSON] = []
        tool_media: list[JSON] = []
        for index, part in enumerate(parts):
            if isinstance(part, SystemPromptPart):
                if self.prepared and index >= standing:
                    mapped.append({"text": f"<system>{part.content}</system>"})
                    self.framed = True
                else:
                    self.system.append({"text": part.content})
            elif isinstance(part, UserPromptPart):
                mapped.extend(_user_parts(part, self.profile))
            elif isinstance(part, ToolReturnPart):
                response, media = _function_response(part, self.profile)
                mapped.append(response)
                tool_media.extend(media)
            elif not isinstance(part, RetryPromptPart):
                raise unprepared_part_error(part)
            elif part.tool_name is not None:
                mapped.append(_retry_function_response(part))
            else:
                mapped.append({"text": _retry_feedback_text(part)})
                self.framed = True
        if tool_media:
            # after the last function response, so no framed file shares a content with one
            self.framed = True
            at = max(i for i, p in enumerate(mapped) if "functionResponse" in p) + 1
            mapped[at:at] = tool_media
        self.contents.extend(_split_function_responses(mapped))


def _instruction_parts(
    messages: Sequence[ModelMessage], params: ModelRequestParameters, output_schema: JSON | None = None
) -> list[InstructionPart]:
    """This request's instructions (:func:`request_instructions`); prompted output's instruction shows
    the schema as Gemini's transformer leaves it (``output_schema`` when the caller has it)."""
    output = params.output_object
    schema: JSON | None = None
    if params.output_mode == "prompted" and output is not None:
        # the schema as the transformer left it, then named, as 2.68 builds the instruction
        schema = output_schema if output_schema is not None else transform_schema(output.json_schema)
    return request_instructions(messages, params, output_schema=schema)


def map_messages(
    messages: Sequence[ModelMessage],
    params: ModelRequestParameters,
    profile: GoogleProfile,
    *,
    output_schema: JSON | None = None,
) -> tuple[JSON | None, list[JSON]]:
    """``systemInstruction`` and ``contents`` for a history, as 2.68's ``GoogleModel._map_messages``."""
    prepared = any(
        isinstance(m, ModelRequest) and any(isinstance(p, RetryPromptPart) for p in m.parts) for m in messages
    )
    mapped = _Mapped(profile, prepared)
    first = next((m for m in messages if isinstance(m, ModelRequest)), None)
    standing = _standing_count(first) if first is not None else 0
    after_response = False
    for message in messages:
        if isinstance(message, ModelRequest):
            mapped.request(
                message, standing=standing if message is first else 0, after_response=after_response
            )
        else:
            after_response = True
            content = _model_content(message, profile)
            if content is not None:
                mapped.contents.append(content)
    contents = mapped.contents
    if not contents or contents[0]["role"] == "model":
        contents.insert(0, {"role": "user", "parts": [{"text": ""}]})
    instructions = _instruction_parts(messages, params, output_schema)
    system = mapped.system
    if prepared and mapped.framed and (standing or instructions):
        # 2.68 announces what its `<system>` blocks and fences mean, ahead of the standing prompt
        system.insert(0, {"text": SYSTEM_BLOCKS_ANNOUNCEMENT})
    system.extend({"text": part.content} for part in instructions)
    return ({"role": "user", "parts": system} if system else None), contents


# -- JSON schema ------------------------------------------------------------------------------


def _fold_described_options(schema: JSON) -> None:
    """An ``anyOf`` of one-value ``enum``s (an Enum with member docstrings) back into one ``enum``."""
    options = schema.get("anyOf")
    if not isinstance(options, list) or not options:
        return
    members = cast(list[object], options)
    for option in members:
        if not isinstance(option, dict):
            return
        o = cast(JSON, option)
        enum = o.get("enum")
        if not isinstance(enum, list) or len(cast(list[object], enum)) != 1:
            return
        if not set(o) <= {"enum", "type", "description"}:
            return
    typed = cast(list[JSON], members)
    types = {repr(o.get("type")) for o in typed}
    first_type = typed[0].get("type")
    if len(types) != 1 or "enum" in schema or schema.get("type", first_type) != first_type:
        return
    schema.pop("anyOf")
    schema["enum"] = [o["enum"][0] for o in typed]
    if first_type is not None:
        schema["type"] = first_type
    described = [f"{o['enum'][0]}: {o['description']}" for o in typed if o.get("description")]
    if described:
        schema["description"] = "\n".join([*filter(None, [schema.get("description")]), *described])


def _google_transform(schema: JSON) -> JSON:
    """pydantic-ai 2.68's ``GoogleJsonSchemaTransformer.transform`` on one node."""
    schema.pop("$schema", None)
    if (const := schema.pop("const", None)) is not None:
        schema["enum"] = [const]
        if "type" not in schema:
            if isinstance(const, str):
                schema["type"] = "string"
            elif isinstance(const, bool):
                schema["type"] = "boolean"
            elif isinstance(const, int):
                schema["type"] = "integer"
            elif isinstance(const, float):
                schema["type"] = "number"
    schema.pop("discriminator", None)
    schema.pop("examples", None)
    _fold_described_options(schema)
    schema.pop("title", None)
    if schema.get("type") == "string" and (fmt := schema.pop("format", None)):
        description = schema.get("description")
        schema["description"] = f"{description} (format: {fmt})" if description else f"Format: {fmt}"
    schema.pop("exclusiveMinimum", None)
    schema.pop("exclusiveMaximum", None)
    return schema


def _walk(node: object) -> object:
    """pydantic-ai's ``JsonSchemaTransformer._handle`` (no inlining) with the Google transform."""
    if not isinstance(node, dict):
        return node
    schema = cast(JSON, node)
    type_ = schema.get("type")
    if type_ == "object":
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            schema["properties"] = {k: _walk(v) for k, v in cast(JSON, properties).items()}
        additional = schema.get("additionalProperties")
        if isinstance(additional, dict):
            schema["additionalProperties"] = _walk(cast(JSON, additional))
        pattern = schema.get("patternProperties")
        if isinstance(pattern, dict):
            schema["patternProperties"] = {k: _walk(v) for k, v in cast(JSON, pattern).items()}
    elif type_ == "array":
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            schema["prefixItems"] = [_walk(v) for v in cast(list[object], prefix)]
        items = schema.get("items")
        if isinstance(items, list):
            schema["items"] = [_walk(v) for v in cast(list[object], items)]
        elif isinstance(items, dict) and items:
            schema["items"] = _walk(cast(JSON, items))
    elif type_ is None:
        for kind in ("allOf", "anyOf", "oneOf"):
            members = schema.get(kind)
            if not isinstance(members, list):
                continue
            del schema[kind]
            handled = [_walk(m) for m in cast(list[object], members)]
            if len(handled) == 1 and isinstance(handled[0], dict) and cast(JSON, handled[0]).get("not") != {}:
                schema = cast(JSON, handled[0]) | schema
            else:
                schema = dict(schema)
                schema[kind] = handled
    if type_ is not None:
        for kind in ("allOf", "anyOf", "oneOf"):
            members = schema.get(kind)
            if isinstance(members, list) and members:
                schema[kind] = [_walk(m) for m in cast(list[object], members)]
    return _google_transform(schema)


def transform_schema(schema: Mapping[str, Any]) -> JSON:
    """A tool or output JSON schema as pydantic-ai 2.68's ``GoogleJsonSchemaTransformer`` sends it:
    no ``$schema``/``title``/``discriminator``/``examples``/exclusive bounds, ``const`` as a one-value
    ``enum``, string ``format`` moved into the description; ``$defs`` kept."""
    copied = copy.deepcopy(dict(schema))
    defs = copied.pop("$defs", None)
    walked = _walk(copied)
    result = cast(JSON, walked) if isinstance(walked, dict) else {}
    if isinstance(defs, dict) and defs:
        result["$defs"] = {k: _walk(v) for k, v in cast(JSON, defs).items()}
    return result


def _function_declaration(tool: ToolDefinition) -> JSON:
    declaration: JSON = {
        "name": tool.name,
        "description": tool.description or "",
        "parametersJsonSchema": transform_schema(tool.parameters_json_schema),
    }
    if tool.include_return_schema and tool.return_schema:
        declaration["responseJsonSchema"] = tool.return_schema
    return declaration


# -- settings, tools and output ---------------------------------------------------------------


def _snap_level(level: ThinkingLevelName, levels: frozenset[str] | None) -> str:
    if levels is None:
        return level
    if not levels:
        raise UserError("the model's thinking levels must contain at least one level when `thinking` is set")
    wanted = LEVEL_ORDER[level]
    return min(levels, key=lambda c: (abs(LEVEL_ORDER.get(c, 0) - wanted), LEVEL_ORDER.get(c, 0)))


def _thinking_config(settings: GoogleModelSettings, thinking: object, profile: GoogleProfile) -> JSON | None:
    """``generationConfig.thinkingConfig``: the explicit setting, else unified ``thinking`` translated."""
    if explicit := settings.get("google_thinking_config"):
        return explicit
    if thinking is None:
        return None
    if thinking is False:
        if not profile.thinking_level:
            budget = _MIN_THINKING_BUDGET if profile.thinking_always_enabled else 0
            return {"thinkingBudget": budget}
        if profile.disables_thinking_with_zero_budget:
            return {"thinkingBudget": 0}
        return {"thinkingLevel": _snap_level("MINIMAL", profile.thinking_levels)}
    if thinking is True:
        return {"includeThoughts": True}
    if not isinstance(thinking, str) or thinking not in _THINKING_BUDGETS:
        raise UserError(f"unsupported `thinking` value: {thinking!r}")
    if not profile.thinking_level:
        return {"includeThoughts": True, "thinkingBudget": _THINKING_BUDGETS[thinking]}
    return {
        "includeThoughts": True,
        "thinkingLevel": _snap_level(_THINKING_LEVELS_BY_EFFORT[thinking], profile.thinking_levels),
    }


def _native_tools(
    params: ModelRequestParameters, profile: GoogleProfile
) -> tuple[list[JSON], JSON | None, bool]:
    """The native tool entries, the ``imageConfig``, and whether a server-side tool is among them."""
    tools: list[JSON] = []
    image_config: JSON | None = None
    server_side = False
    if not params.native_tools:
        return tools, image_config, server_side
    if params.function_tools and not profile.tool_combination:
        raise UserError("This model does not support function tools and built-in tools at the same time.")
    for tool in params.native_tools:
        kind = getattr(tool, "kind", tool if isinstance(tool, str) else None)
        if kind == "web_search":
            tools.append({"googleSearch": {}})
        elif kind == "web_fetch":
            tools.append({"urlContext": {}})
        elif kind == "code_execution":
            tools.append({"codeExecution": {}})
        elif kind == "file_search":
            if profile.cloud:
                # the google-genai SDK refuses it before sending (2.68 lets its ValueError through)
                raise UserError(
                    "`FileSearchTool` is only supported by the Gemini API (`google-gla:`), not on Vertex AI "
                    "(`google-cloud:`): file search stores live in the Gemini API."
                )
            stores: object = getattr(tool, "file_store_ids", None) or []
            names = list(cast(Sequence[str], stores))
            tools.append({"fileSearch": {"fileSearchStoreNames": names}})
        elif kind == "image_generation":
            if not profile.image_output and not getattr(tool, "optional", False):
                raise UserError(
                    "`ImageGenerationTool` is not supported by this model. "
                    "Use a model with 'image' in the name, or `ImageGeneration(local=...)` for a local "
                    "fallback."
                )
            image_config = {}
            if (aspect := getattr(tool, "aspect_ratio", None)) is not None:
                image_config["aspectRatio"] = aspect
            if (size := getattr(tool, "size", None)) is not None:
                if size not in ("512", "1K", "2K", "4K"):
                    raise UserError(
                        "Google image generation only supports `size` values: ('512', '1K', '2K', '4K'). "
                        f"Got: {size!r}. Omit `size` to use the default (1K)."
                    )
                image_config["imageSize"] = size
        else:
            raise UserError(f"`{type(tool).__name__}` ({kind!r}) is not supported by GoogleModel.")
        server_side = server_side or kind in _SERVER_SIDE_KINDS
    return tools, image_config, server_side


def _tools_and_config(
    settings: GoogleModelSettings, params: ModelRequestParameters, profile: GoogleProfile
) -> tuple[list[JSON] | None, JSON | None, JSON | None]:
    """``tools``, ``toolConfig`` and ``imageConfig``: declarations per ``tool_choice``, then native tools."""
    native, image_config, server_side = _native_tools(params, profile)
    output_tools = params.output_tools
    if native and output_tools and not profile.tool_combination:
        raise UserError(
            "This model does not support output tools and built-in tools at the same time. "
            "Use `output_type=PromptedOutput(...)` instead."
        )
    declared: dict[str, ToolDefinition] = {t.name: t for t in [*params.function_tools, *output_tools]}
    resolved = resolve_tool_choice(cast(ModelSettings, settings), params)
    allowed: list[str] = []
    if isinstance(resolved, str):
        mode = resolved
    else:
        mode, names = resolved
        if mode == "auto":
            # Gemini has no AUTO with allowed names: the declarations themselves are filtered
            declared = {k: v for k, v in declared.items() if k in names}
        else:
            allowed = [name for name in declared if name in names]
    tool_config: JSON = {}
    if declared:
        api_mode = {"auto": "AUTO", "none": "NONE", "required": "ANY"}[mode]
        if (
            api_mode == "AUTO"
            and profile.strict_tool_definition
            and not any(t.strict is False for t in declared.values())
        ):
            api_mode = "VALIDATED"
        calling: JSON = {"mode": api_mode}
        if allowed:
            calling["allowedFunctionNames"] = allowed
        tool_config["functionCallingConfig"] = calling
    if server_side and profile.server_side_tool_invocations:
        tool_config["includeServerSideToolInvocations"] = True
    # The SDK sends the declarations merged into one tool, after the native tools
    tools: list[JSON] = list(native)
    if declared:
        tools.append({"functionDeclarations": [_function_declaration(t) for t in declared.values()]})
    if not tools:
        return None, None, image_config
    return tools, tool_config or None, image_config


def _response_format(
    params: ModelRequestParameters, profile: GoogleProfile, has_tools: bool, output_schema: JSON | None
) -> tuple[str | None, JSON | None]:
    """``responseMimeType`` and ``responseJsonSchema`` for native (schema) or prompted (JSON mode) output."""
    if params.output_mode == "native":
        if not profile.json_schema_output:
            raise UserError("Native structured output is not supported by this model.")
        if params.function_tools and not profile.tool_combination:
            raise UserError(
                "This model does not support `NativeOutput` and function tools at the same time. "
                "Use `output_type=ToolOutput(...)` instead."
            )
        output = params.output_object
        if output is None or output_schema is None:
            raise UserError("`output_mode='native'` needs an `output_object`")
        schema = dict(output_schema)
        if output.name:
            schema["title"] = output.name
        if output.description:
            schema["description"] = output.description
        return "application/json", schema
    if params.output_mode == "prompted" and not has_tools:
        if not profile.json_object_output:
            raise UserError("JSON output is not supported by this model.")
        return "application/json", None
    return None, None


def _resolve_thinking(
    settings: Mapping[str, Any], params: ModelRequestParameters, profile: GoogleProfile
) -> object:
    """Unified ``thinking``: a setting replaces the parameters' value when the model can think (as 2.68)."""
    if "thinking" in settings and (profile.supports_thinking or profile.thinking_always_enabled):
        return settings["thinking"]
    return params.thinking


def _resolved_output(params: ModelRequestParameters) -> ModelRequestParameters:
    """The output fields 2.68's ``prepare_request`` resets: ``'auto'`` becomes tool output (Google's default
    structured mode), output tools go only with tool output, an output object only with native or prompted."""
    if params.output_mode == "auto":
        params = attrs.evolve(params, output_mode="tool", allow_text_output=False)
    if params.output_tools and params.output_mode != "tool":
        params = attrs.evolve(params, output_tools=[])
    if params.output_object is not None and params.output_mode not in ("native", "prompted"):
        params = attrs.evolve(params, output_object=None)
    return params


def _warn_unsupported(model_id: str, settings: Mapping[str, Any], params: ModelRequestParameters) -> None:
    if "extra_body" in settings:
        warn_unsupported_setting("extra_body", model_id, stacklevel=5)
    if settings.get("parallel_tool_calls") is False and params.function_tools:
        warn_unsupported_setting("parallel_tool_calls", model_id, stacklevel=5)


def build_generate_content_request(
    model_name: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings,
    params: ModelRequestParameters,
    *,
    profile: GoogleProfile | None = None,
) -> tuple[JSON, dict[str, str]]:
    """The JSON body and the extra headers of one ``generateContent`` request, as 2.68 builds it.

    The headers are the caller's ``extra_headers`` plus ``X-Server-Timeout`` (no API key).

    Raises:
        UserError: something the model or the Gemini API cannot take (a URL that needs a download,
            a tool combination pre-Gemini-3 models reject, an ``httpx.Timeout`` ``timeout``...).
    """
    s = cast(GoogleModelSettings, settings)
    profile = profile or GoogleProfile.for_model(model_name)
    timeout = s.get("timeout")
    # a timeout is a number or an httpx.Timeout (ModelSettings), so "not a number" is the latter;
    # checked this way so that request building needs no httpx
    if timeout is not None and not isinstance(timeout, int | float):
        raise UserError("Google does not support setting ModelSettings.timeout to a httpx.Timeout")
    if params.function_tools and not profile.supports_tools:
        raise UserError("Tools are not supported by this model.")
    if params.output_mode == "tool" and params.output_tools and not profile.supports_tools:
        raise UserError("Tool output is not supported by this model.")
    if params.allow_image_output and not profile.image_output:
        raise UserError("Image output is not supported by this model.")
    _warn_unsupported(f"{profile.provider_name}:{model_name}", s, params)
    params = _resolved_output(params)
    output_schema = transform_schema(params.output_object.json_schema) if params.output_object else None

    tools, tool_config, image_config = _tools_and_config(s, params, profile)
    cached_content = s.get("google_cached_content")
    effective_tools = None if cached_content else tools
    mime_type, response_schema = _response_format(params, profile, bool(effective_tools), output_schema)
    system_instruction, contents = map_messages(messages, params, profile, output_schema=output_schema)

    modalities = ["TEXT"]
    if profile.image_output:
        modalities.append("IMAGE")
        if not params.allow_text_output:
            modalities.remove("TEXT")

    if cached_content and (system_instruction is not None or tools is not None):
        dropped = ["system_instruction"] if system_instruction is not None else []
        if tools is not None:
            dropped += ["tools", "tool_config"]
        names = ", ".join(f"`{n}`" for n in dropped)
        warnings.warn(
            f"`google_cached_content` is set; the cached content resource owns {names}, so these fields are "
            "stripped from the outgoing request and any agent instructions or registered tools are ignored. "
            "See https://ai.google.dev/gemini-api/docs/caching.",
            UserWarning,
            stacklevel=4,
        )

    generation: JSON = {}
    for key, wire in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("top_k", "topK"),
        ("max_tokens", "maxOutputTokens"),
        ("stop_sequences", "stopSequences"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ):
        if (value := s.get(key)) is not None:
            generation[wire] = value
    if mime_type is not None:
        generation["responseMimeType"] = mime_type
    if response_schema is not None:
        generation["responseJsonSchema"] = response_schema
    generation["responseModalities"] = modalities
    if (thinking := _thinking_config(s, _resolve_thinking(s, params, profile), profile)) is not None:
        generation["thinkingConfig"] = thinking
    if (resolution := s.get("google_video_resolution")) is not None:
        generation["mediaResolution"] = resolution
    if image_config is not None:
        generation["imageConfig"] = image_config
    if s.get("google_logprobs"):
        generation["responseLogprobs"] = True
        if "google_top_logprobs" in s:
            generation["logprobs"] = s.get("google_top_logprobs")

    body: JSON = {"contents": contents}
    if system_instruction is not None and not cached_content:
        body["systemInstruction"] = system_instruction
    if effective_tools is not None:
        body["tools"] = effective_tools
    if tool_config is not None and not cached_content:
        body["toolConfig"] = tool_config
    if (safety := s.get("google_safety_settings")) is not None:
        body["safetySettings"] = safety
    body["generationConfig"] = generation
    if (labels := s.get("google_labels")) is not None:
        body["labels"] = labels
    if cached_content:
        body["cachedContent"] = cached_content
    if not profile.cloud and (tier := _GLA_SERVICE_TIERS.get(cast(str, s.get("service_tier") or ""))):
        body["serviceTier"] = tier
    if (armor := s.get("google_model_armor_config")) is not None:
        body["modelArmorConfig"] = armor

    headers: dict[str, str] = {}
    if profile.cloud:
        headers.update(cloud_service_tier_headers(s))
    extra = s.get("extra_headers") or {}
    if not any(name.lower() == "x-server-timeout" for name in extra):
        headers["X-Server-Timeout"] = str(LONG_DECODE_TIMEOUT)
    headers.update(extra)
    return body, headers


#: ``service_tier`` → the Google Cloud tier it means (2.68's table).
_CLOUD_TIER_OF_SERVICE_TIER: Final[dict[str, str]] = {
    "auto": "pt_then_on_demand",
    "default": "pt_then_on_demand",
    "flex": "pt_then_flex",
    "priority": "pt_then_priority",
}
#: Google Cloud tier → the Provisioned Throughput / PayGo routing headers Vertex AI reads.
_CLOUD_TIER_HEADERS: Final[dict[str, dict[str, str]]] = {
    "pt_then_on_demand": {},
    "pt_only": {"X-Vertex-AI-LLM-Request-Type": "dedicated"},
    "on_demand": {"X-Vertex-AI-LLM-Request-Type": "shared"},
    "pt_then_flex": {"X-Vertex-AI-LLM-Shared-Request-Type": "flex"},
    "pt_then_priority": {"X-Vertex-AI-LLM-Shared-Request-Type": "priority"},
    "flex_only": {"X-Vertex-AI-LLM-Request-Type": "shared", "X-Vertex-AI-LLM-Shared-Request-Type": "flex"},
    "priority_only": {
        "X-Vertex-AI-LLM-Request-Type": "shared",
        "X-Vertex-AI-LLM-Shared-Request-Type": "priority",
    },
}


def cloud_service_tier_headers(settings: GoogleModelSettings) -> dict[str, str]:
    """The Vertex AI routing headers for ``google_cloud_service_tier`` (else ``service_tier``), as 2.68.

    Raises:
        UserError: an unknown tier.
    """
    tier = settings.get("google_cloud_service_tier")
    if not tier and (top := settings.get("service_tier")):
        tier = _CLOUD_TIER_OF_SERVICE_TIER.get(cast(str, top))
        if tier is None:
            raise UserError(
                f"unsupported `service_tier` {top!r} on Google Cloud: "
                f"one of {sorted(_CLOUD_TIER_OF_SERVICE_TIER)}"
            )
    headers = _CLOUD_TIER_HEADERS.get(tier or "pt_then_on_demand")
    if headers is None:
        raise UserError(
            f"unsupported `google_cloud_service_tier` {tier!r}: one of {sorted(_CLOUD_TIER_HEADERS)}"
        )
    return dict(headers)
