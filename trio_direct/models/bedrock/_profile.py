"""Bedrock: settings, constants, model ids and the per-model profile 2.68 keys its behaviour on. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote

import attrs

from ...exceptions import UserError
from ...settings import ModelSettings
from .._bedrock_ids import split_model_id
from .._claude import (
    CLAUDE_ADAPTIVE_THINKING,
    CLAUDE_EFFORT,
    CLAUDE_JSON_SCHEMA_OUTPUT,
    CLAUDE_MAX_OUTPUT_128K,
    CLAUDE_NO_FORCED_TOOL_CHOICE,
    CLAUDE_THINKING_ALWAYS,
    CLAUDE_THINKING_BY_DEFAULT,
    CLAUDE_XHIGH_EFFORT,
)
from .._json import JSON

PROVIDER_NAME: Final = "bedrock"
#: The SigV4 signing name of the Bedrock runtime.
SIGNING_SERVICE: Final = "bedrock"
DEFAULT_ENDPOINT: Final = "https://bedrock-runtime.{region}.amazonaws.com"
#: The region a Gateway route reports (2.68's placeholder: the Gateway, not AWS, picks the region).
GATEWAY_REGION: Final = "pydantic-ai-gateway"

JSONContent = list[JSON]


class BedrockModelSettings(ModelSettings, total=False):
    """Settings for Bedrock models: the ``bedrock_*`` keys of pydantic-ai 2.68's ``BedrockModelSettings``."""

    bedrock_guardrail_config: Mapping[str, Any]
    bedrock_performance_configuration: Mapping[str, Any]
    bedrock_request_metadata: dict[str, str]
    bedrock_additional_model_response_fields_paths: list[str]
    bedrock_prompt_variables: Mapping[str, Any]
    bedrock_additional_model_requests_fields: Mapping[str, Any]
    bedrock_cache_tool_definitions: bool | Literal["5m", "1h"]
    bedrock_cache_instructions: bool | Literal["5m", "1h"]
    bedrock_cache_messages: bool | Literal["5m", "1h"]
    bedrock_service_tier: Mapping[str, Any]
    bedrock_inference_profile: str


# ---------------------------------------------------------------------------------------------
# Model ids and profiles
# ---------------------------------------------------------------------------------------------

#: What a model id or ARN may hold: no whitespace, control characters, or URL delimiters (`?`, `#`).
_MODEL_ID: Final = re.compile(r"^[A-Za-z0-9._:/@+\-]{1,2048}$")


def validate_model_id(model_id: str) -> str:
    """``model_id`` if it can be a Bedrock model id, inference profile or ARN.

    Raises:
        UserError: it is empty, too long, has an empty or dot (``.``/``..``) segment, or holds characters
            no model id has.
    """
    if not _MODEL_ID.match(model_id) or any(seg in ("", ".", "..") for seg in model_id.split("/")):
        raise UserError(
            f"{model_id!r} is not a Bedrock model id: expected something like "
            "'us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'amazon.nova-micro-v1:0' or an ARN"
        )
    return model_id


def converse_url(endpoint_url: str, model_id: str, *, stream: bool) -> str:
    """The Converse URL, the model id percent-encoded as one path segment (``:`` → ``%3A``, ``/`` → ``%2F``).

    ``stream`` picks ``/converse-stream`` over ``/converse``.
    """
    segment = quote(model_id, safe="")
    return f"{endpoint_url.rstrip('/')}/model/{segment}/{'converse-stream' if stream else 'converse'}"


def count_tokens_url(endpoint_url: str, model_id: str) -> str:
    """The CountTokens URL, ``{endpoint}/model/{modelId}/count-tokens``, the model id encoded as one path
    segment as in :func:`converse_url`."""
    return f"{endpoint_url.rstrip('/')}/model/{quote(model_id, safe='')}/count-tokens"


MediaKind = Literal["text", "image", "document", "video"]
_ALL_KINDS: Final[frozenset[MediaKind]] = frozenset({"text", "image", "document", "video"})
SchemaTransform = Literal["none", "bedrock", "bedrock_no_contains", "claude", "inline_defs"]
ThinkingVariant = Literal[
    "anthropic", "deepseek", "openai", "openai_responses", "qwen", "xai", "zai", "zai_effort"
]

# Claude facts Bedrock needs (the same prefix rules as pydantic-ai 2.68's Anthropic profile).
_CLAUDE_ONE_HOUR_CACHE: Final = (
    "claude-fable-5", "claude-haiku-4-5", "claude-haiku-5-5", "claude-mythos-5", "claude-opus-4-5",
    "claude-opus-4-6", "claude-opus-4-7", "claude-opus-4-8", "claude-opus-5", "claude-sonnet-4-5",
    "claude-sonnet-4-6", "claude-sonnet-5",
)  # fmt: skip
_OPENAI_ON_CONVERSE: Final = frozenset(
    {"gpt-5.6-sol", "gpt-5.6-luna", "gpt-5.6-terra", "gpt-6-sol", "gpt-6-luna", "gpt-6-astra", "gpt-6.1-sol"}
)
_OPENAI_NO_EFFORT_NONE: Final = frozenset({"gpt-6-astra", "gpt-6.1-sol"})


@attrs.frozen(slots=True)
class BedrockProfile:
    """What pydantic-ai 2.68's Bedrock profile says about a model id; see :meth:`for_model`."""

    vendor: str | None = None
    supports_tool_choice: bool = False
    tool_result_format: Literal["text", "json"] = "text"
    send_back_thinking: bool = False
    prompt_caching: bool = False
    tool_caching: bool = False
    tool_return_media: frozenset[MediaKind] = frozenset({"image"})
    colocatable: frozenset[MediaKind] = _ALL_KINDS
    leading_assistant_ok: bool = False
    citations: bool = False
    tool_result_status: bool = True
    strict_tools: bool = False
    json_schema_output: bool = False
    thinking_variant: ThinkingVariant | None = None
    adaptive_thinking: bool = False
    effort: bool = False
    xhigh_effort: bool = False
    max_effort: bool = True
    thinking_by_default: bool = False
    thinking_always: bool = False
    top_k_variant: Literal["anthropic", "nova"] | None = None
    tool_choice_none_variant: Literal["anthropic"] | None = None
    document_cache_point_variant: Literal["anthropic"] | None = None
    disallows_sampling: bool = False
    on_converse: bool = True
    max_output_tokens: int | None = None
    forced_tool_choice: bool = True
    supports_video: bool = False
    code_execution: bool = False
    ignore_leading_whitespace: bool = False
    schema_transform: SchemaTransform = "none"

    @property
    def is_claude(self) -> bool:
        return self.thinking_variant == "anthropic"

    @classmethod
    def for_model(cls, model_id: str) -> BedrockProfile:
        """The profile of ``model_id`` (unknown vendors get the conservative defaults)."""
        vendor, name = split_model_id(model_id)
        p = cls(vendor=vendor)
        if vendor == "anthropic":
            json_schema = name.startswith(CLAUDE_JSON_SCHEMA_OUTPUT)
            max_output = (
                128_000
                if name.startswith(CLAUDE_MAX_OUTPUT_128K)
                else 64_000
                if name.startswith(("claude-haiku-4-5", "claude-opus-4-5", "claude-sonnet-4-5"))
                else None
            )
            adaptive = name.startswith(CLAUDE_ADAPTIVE_THINKING)
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                send_back_thinking=True,
                prompt_caching=True,
                tool_caching=True,
                tool_return_media=frozenset({"image", "document"}),
                colocatable=frozenset({"text", "image"}),
                leading_assistant_ok=True,
                citations=True,
                thinking_variant="anthropic",
                adaptive_thinking=adaptive,
                effort=adaptive and name.startswith(CLAUDE_EFFORT),
                xhigh_effort=name.startswith(CLAUDE_XHIGH_EFFORT),
                max_effort=not name.startswith("claude-opus-4-5"),
                thinking_by_default=name.startswith(CLAUDE_THINKING_BY_DEFAULT),
                thinking_always=name.startswith(CLAUDE_THINKING_ALWAYS),
                top_k_variant="anthropic",
                tool_choice_none_variant="anthropic",
                document_cache_point_variant="anthropic",
                disallows_sampling=name.startswith(CLAUDE_XHIGH_EFFORT),
                max_output_tokens=max_output,
                forced_tool_choice=not name.startswith(CLAUDE_NO_FORCED_TOOL_CHOICE),
                json_schema_output=json_schema,
                strict_tools=json_schema,
                schema_transform="claude" if json_schema else "bedrock",
            )
        if vendor == "amazon":
            nova = "nova" in name
            return attrs.evolve(
                p,
                supports_tool_choice=nova,
                prompt_caching=nova,
                top_k_variant="nova" if nova else None,
                supports_video=nova and "nova-micro" not in name,
                code_execution="nova-2" in name,
                schema_transform="inline_defs",
            )
        if vendor == "meta":
            return attrs.evolve(
                p,
                colocatable=frozenset(),
                tool_return_media=frozenset({"image", "document"}),
                schema_transform="inline_defs",
            )
        if vendor == "mistral":
            structured = name.startswith(("magistral-small", "ministral-3", "mistral-large-3", "voxtral"))
            return attrs.evolve(
                p,
                tool_result_format="json",
                json_schema_output=structured,
                strict_tools=structured,
                colocatable=frozenset(),
                tool_return_media=frozenset({"document"}),
                thinking_always=name.startswith("magistral"),
                schema_transform="bedrock",
            )
        if vendor == "deepseek":
            r1 = name == "r1" or name.startswith("deepseek-r1")
            if r1:
                return attrs.evolve(
                    p, send_back_thinking=True, thinking_always=True, ignore_leading_whitespace=True
                )
            if name == "v3.2":
                return attrs.evolve(p, thinking_variant="deepseek")
            return p
        if vendor == "qwen":
            structured = name.startswith("qwen3")
            return attrs.evolve(
                p,
                leading_assistant_ok=True,
                thinking_variant="qwen",
                json_schema_output=structured,
                strict_tools=structured,
                tool_return_media=frozenset(),
                ignore_leading_whitespace=True,
                schema_transform="bedrock_no_contains" if structured else "bedrock",
            )
        if vendor == "google":
            structured = name.startswith(("gemma-3-12b-it", "gemma-3-27b-it"))
            return attrs.evolve(
                p,
                json_schema_output=structured,
                strict_tools=structured,
                schema_transform="bedrock_no_contains" if structured else "bedrock",
            )
        if vendor == "zai":
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                leading_assistant_ok=True,
                json_schema_output=True,
                strict_tools=True,
                thinking_variant="zai_effort" if name.startswith("glm-5.3") else "zai",
                schema_transform="bedrock_no_contains",
            )
        if vendor in ("moonshot", "moonshotai"):
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                leading_assistant_ok=True,
                json_schema_output=True,
                strict_tools=True,
                tool_return_media=frozenset(),
                ignore_leading_whitespace=True,
                schema_transform="bedrock",
            )
        if vendor == "xai":
            return attrs.evolve(
                p,
                supports_tool_choice=True,
                thinking_variant="xai",
                disallows_sampling=True,
                thinking_always=True,
            )
        if vendor == "openai":
            if name in _OPENAI_ON_CONVERSE:
                return attrs.evolve(
                    p,
                    disallows_sampling=True,
                    thinking_variant="openai_responses",
                    thinking_always=name in _OPENAI_NO_EFFORT_NONE,
                )
            if not name.startswith("gpt-oss"):
                return attrs.evolve(p, on_converse=False)
            return attrs.evolve(
                p, thinking_variant="openai", thinking_always=True, schema_transform="inline_defs"
            )
        if vendor == "writer":
            return attrs.evolve(
                p, colocatable=frozenset(), tool_result_status=False, schema_transform="bedrock"
            )
        if vendor == "minimax":
            structured = name.startswith("minimax-m2")
            return attrs.evolve(
                p, json_schema_output=structured, strict_tools=structured, schema_transform="bedrock"
            )
        if vendor == "nvidia":
            structured = name.startswith("nemotron-nano")
            return attrs.evolve(
                p, json_schema_output=structured, strict_tools=structured, schema_transform="bedrock"
            )
        return p

    def cache_retentions(self, model_id: str) -> tuple[str, ...]:
        """The cache TTLs the model takes (Claude models with a 1-hour tier, else 5 minutes)."""
        _, name = split_model_id(model_id)
        return ("5m", "1h") if self.is_claude and name.startswith(_CLAUDE_ONE_HOUR_CACHE) else ("5m",)
