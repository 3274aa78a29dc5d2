"""Gemini: settings, constants and the per-model profile pydantic-ai 2.68 keys its behaviour on. Pure."""

from __future__ import annotations

import base64
from typing import Any, Final, Literal, TypeAlias

import attrs

from ...settings import ModelSettings
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._json import JSON as JSON

ThinkingLevelName: TypeAlias = Literal["MINIMAL", "LOW", "MEDIUM", "HIGH"]

DEFAULT_BASE_URL: Final = "https://generativelanguage.googleapis.com"
API_VERSION: Final = "v1beta"
PROVIDER_NAME: Final = "google"
#: The provider name of Gemini on Google Cloud (Vertex AI), ``google-cloud:``.
CLOUD_PROVIDER_NAME: Final = "google-cloud"
#: Every name this transport's parts have carried (pre-v2 histories say ``google-gla``).
OWN_PROVIDER_NAMES: Final = frozenset({"google", "google-gla"})
#: The same on Google Cloud (pre-v2 histories say ``google-vertex``).
CLOUD_PROVIDER_NAMES: Final = frozenset({"google-cloud", "google-vertex"})
#: ``X-Server-Timeout``: pydantic-ai asks for at least Google's 20-minute long-decode figure.
LONG_DECODE_TIMEOUT: Final = 20 * 60
#: The documented placeholder for a first function call that carries no signature of this API's own.
DUMMY_THOUGHT_SIGNATURE: Final = base64.b64encode(b"skip_thought_signature_validator").decode()
TOOL_CALL_ID_PREFIX: Final = "pyd_ai_"
MEDIA_PROCESSING: Final = "media_processing"


class GoogleModelSettings(ModelSettings, total=False):
    """``ModelSettings`` plus the Gemini keys (all prefixed ``google_``, so they merge with others).

    Attributes:
        google_safety_settings: top-level ``safetySettings`` (``[{"category": ..., "threshold": ...}]``).
        google_thinking_config: ``generationConfig.thinkingConfig`` verbatim; wins over ``thinking``.
        google_labels: top-level ``labels``.
        google_video_resolution: ``generationConfig.mediaResolution`` (``'MEDIA_RESOLUTION_LOW'``...).
        google_cached_content: top-level ``cachedContent``; the system instruction, tools and tool config
            are then left out (the cached content owns them), with a warning when that drops any.
        google_logprobs: ``generationConfig.responseLogprobs`` (Vertex AI only, upstream notes).
        google_top_logprobs: ``generationConfig.logprobs`` (with ``google_logprobs``).
        google_model_armor_config: top-level ``modelArmorConfig`` (Vertex AI only).
        google_cloud_service_tier: accepted for settings shared with Vertex AI; not used by the Gemini API.
    """

    google_safety_settings: list[dict[str, Any]]
    google_thinking_config: dict[str, Any]
    google_labels: dict[str, str]
    google_video_resolution: str
    google_cached_content: str
    google_logprobs: bool
    google_top_logprobs: int
    google_model_armor_config: dict[str, Any]
    google_cloud_service_tier: str


# =============================================================================================
# 1. Profile
# =============================================================================================

_LEVEL_SCALE: Final[tuple[ThinkingLevelName, ...]] = ("MINIMAL", "LOW", "MEDIUM", "HIGH")
LEVEL_ORDER: Final[dict[str, int]] = {level: order for order, level in enumerate(_LEVEL_SCALE)}
_ALL_LEVELS: Final[frozenset[str]] = frozenset(_LEVEL_SCALE)
#: Documented per-model thinking levels, most specific prefix first (pydantic-ai 2.68's table).
_MODEL_THINKING_LEVELS: Final[tuple[tuple[str, frozenset[str]], ...]] = (
    ("gemini-3.1-flash-lite-image", frozenset(("MINIMAL", "HIGH"))),
    ("gemini-3.7-flash", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3.8-flash", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3.1-pro-preview", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-3-pro-preview", frozenset(("LOW", "HIGH"))),
    ("gemini-4-argon", frozenset(("LOW", "MEDIUM", "HIGH"))),
    ("gemini-4-carbon", frozenset(("LOW", "MEDIUM", "HIGH"))),
)
#: MIME types a Gemini 3+ ``functionResponse`` carries in its own ``parts``.
_TOOL_RETURN_MIME_TYPES: Final = ("image/png", "image/jpeg", "image/webp", "application/pdf", "text/plain")


@attrs.frozen(slots=True)
class GoogleProfile:
    """What pydantic-ai 2.68's Google profile says about a model name, on the Gemini API or (``cloud``)
    on Google Cloud's Vertex AI, where 2.68's ``GoogleModel`` keys a few rules on the transport."""

    supports_thinking: bool
    thinking_level: bool  # `thinkingLevel` (Gemini 3+) rather than `thinkingBudget` (2.5)
    thinking_always_enabled: bool
    thinking_levels: frozenset[str] | None
    strict_tool_definition: bool  # `VALIDATED` function calling
    tool_combination: bool  # function tools + native tools + native output in one request (Gemini 3+)
    server_side_tool_invocations: bool  # `includeServerSideToolInvocations` (Gemini 3+)
    tool_return_mime_types: tuple[str, ...]
    image_output: bool
    json_schema_output: bool
    json_object_output: bool
    supports_tools: bool
    web_search_billed_per_prompt: bool
    disables_thinking_with_zero_budget: bool = False
    cloud: bool = False  # Google Cloud (Vertex AI) rather than the Gemini API

    @property
    def provider_name(self) -> str:
        """``provider_name`` on responses and parts: ``google``, or ``google-cloud`` on Vertex AI."""
        return CLOUD_PROVIDER_NAME if self.cloud else PROVIDER_NAME

    @property
    def own_provider_names(self) -> frozenset[str]:
        """The provider names whose signed parts and uploaded files this transport takes back."""
        return CLOUD_PROVIDER_NAMES if self.cloud else OWN_PROVIDER_NAMES

    @classmethod
    def for_model(cls, name: str, *, cloud: bool = False) -> GoogleProfile:
        """The profile for ``name`` (substring and prefix rules, as upstream); ``cloud`` for Vertex AI."""
        is_image = "image" in name
        is_2_5 = "gemini-2.5" in name
        is_pre_2_5 = "gemini-1" in name or ("gemini-2." in name and not is_2_5) or name == "gemini-pro"
        is_older = is_2_5 or is_pre_2_5
        is_gemma = "gemma" in name
        if is_gemma or is_pre_2_5 or "gemini-2.5-flash-image" in name:
            thinking, level = False, False
        elif is_2_5:
            thinking, level = True, False
        else:
            thinking, level = True, True
        modern = not is_older and not is_gemma
        is_pro = "pro" in name and "flash" not in name
        levels = next((lv for prefix, lv in _MODEL_THINKING_LEVELS if name.startswith(prefix)), None)
        if levels is None and name.startswith("gemini-3.1-flash-image") and not cloud:
            # the Gemini API (not Vertex) takes only these two for this model, as 2.68's GoogleModel sets
            levels = frozenset(("MINIMAL", "HIGH"))
        # Vertex accepts a zero thinking budget on Gemini 3.1 Pro (the Gemini API rejects it), as 2.68
        zero_budget_off = cloud and name.startswith("gemini-3.1-pro-preview")
        return cls(
            supports_thinking=thinking,
            thinking_level=level,
            thinking_always_enabled=thinking and is_pro and not zero_budget_off,
            thinking_levels=levels,
            strict_tool_definition=thinking and not is_image,
            tool_combination=modern,
            # Vertex has no `toolCall`/`toolResponse` parts (2.68 neither asks for nor replays them there)
            server_side_tool_invocations=modern and not cloud,
            tool_return_mime_types=_TOOL_RETURN_MIME_TYPES if modern else (),
            image_output=is_image,
            json_schema_output=modern or not is_image,
            json_object_output=modern or not is_image,
            supports_tools=not is_image,
            web_search_billed_per_prompt=is_older,
            disables_thinking_with_zero_budget=zero_budget_off,
            cloud=cloud,
        )
