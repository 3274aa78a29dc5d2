"""What OpenAI's two APIs (Chat Completions, Responses) share: environment, instructions, reasoning, retries.

Moved here from :mod:`trio_direct.models.openai` so that :mod:`trio_direct.models.openai_responses`
can use the same code without reaching into the other module's private names. Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from ..exceptions import UserError
from ..messages import ModelMessage, ModelRequest
from ..tools import InstructionPart, ModelRequestParameters
from ._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from ._common import NOTE_ANNOUNCEMENT as FRAMING_ANNOUNCEMENT
from ._common import RETRY_FEEDBACK_FRAMING as RETRY_FEEDBACK_FRAMING
from ._common import USER_AGENT as USER_AGENT
from ._common import dump_error_details as dump_error_details
from ._common import env_value as env_value
from ._common import prompted_output_instructions as prompted_output_instructions
from .base import Provider

if TYPE_CHECKING:
    from .openai import ChatProfile

__all__ = [
    "DEFAULT_PROMPTED_OUTPUT_TEMPLATE",
    "FRAMING_ANNOUNCEMENT",
    "PLACEHOLDER_API_KEY",
    "RETRY_FEEDBACK_FRAMING",
    "SAMPLING_SETTINGS",
    "USER_AGENT",
    "dump_error_details",
    "env_value",
    "instruction_parts",
    "openai_headers",
    "prompted_output_instructions",
    "provider_from_env",
    "reasoning_active",
    "with_extra_headers",
]

#: The placeholder key a keyless local server receives, as the OpenAI SDK sends it.
PLACEHOLDER_API_KEY: Final = "api-key-not-set"

#: Settings OpenAI reasoning models reject while reasoning (pydantic-ai's ``SAMPLING_PARAMS``).
SAMPLING_SETTINGS: Final = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "openai_logprobs",
    "openai_top_logprobs",
)


# -- environment -------------------------------------------------------------------------------


def provider_from_env(
    prefix: str,
    *,
    name: str,
    env: str,
    default_base_url: str | None,
    key_required: bool = True,
    headers: Sequence[tuple[str, str]] = (),
    alt_key_envs: Sequence[str] = (),
) -> Provider:
    """The :class:`Provider` for an OpenAI-style host from ``<ENV>_API_KEY`` / ``<ENV>_BASE_URL``.

    Raises:
        UserError: the API key is missing (naming the variable), or a host without a default has no
            base URL.
    """
    key_var, url_var = f"{env}_API_KEY", f"{env}_BASE_URL"
    base_url = env_value(url_var)
    api_key = env_value(key_var) or next((k for v in alt_key_envs if (k := env_value(v))), None)
    if base_url is None:
        if default_base_url is None:
            raise UserError(
                f"Set the `{url_var}` environment variable to the server's base URL "
                f"(for example http://localhost:8000/v1) to use the {prefix!r} provider."
            )
        base_url = default_base_url
    if api_key is None:
        # As the OpenAI SDK: a server given by URL may be keyless (vLLM, llama.cpp, LM Studio).
        if key_required and (env != "OPENAI" or env_value(url_var) is None):
            raise UserError(
                f"Set the `{key_var}` environment variable or pass `api_key` to use the {name!r} provider."
            )
        api_key = PLACEHOLDER_API_KEY
    extra = dict(headers)
    if env == "OPENAI":
        if org := env_value("OPENAI_ORG_ID"):
            extra["OpenAI-Organization"] = org
        if project := env_value("OPENAI_PROJECT_ID"):
            extra["OpenAI-Project"] = project
    elif env == "OPENROUTER":
        if app_url := env_value("OPENROUTER_APP_URL"):
            extra["HTTP-Referer"] = app_url
        if app_title := env_value("OPENROUTER_APP_TITLE"):
            extra["X-Title"] = app_title
    return Provider(name, base_url, api_key, extra)


def openai_headers(provider: Provider) -> dict[str, str]:
    """The headers every request to ``provider`` carries (the key as a bearer token)."""
    headers = {"accept": "application/json", "user-agent": USER_AGENT, **provider.headers}
    if provider.api_key is not None:
        headers["authorization"] = f"Bearer {provider.api_key}"
    return headers


def with_extra_headers(headers: dict[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """``headers`` with the ``extra_headers`` setting applied (a same-named default is replaced)."""
    if not extra:
        return headers
    merged = dict(headers)
    for name, value in extra.items():
        lowered = name.lower()
        if lowered in ("authorization", "user-agent", "accept"):
            merged.pop(lowered, None)
        merged[name] = value
    return merged


# -- instructions ------------------------------------------------------------------------------


def instruction_parts(
    messages: Sequence[ModelMessage], params: ModelRequestParameters
) -> list[InstructionPart]:
    """The request's instructions: the parameters', else the latest request's, plus prompted output's."""
    parts = list(params.instruction_parts or [])
    if params.instruction_parts is None:
        for message in reversed(messages):
            if isinstance(message, ModelRequest):
                if message.instructions is not None:
                    parts = [InstructionPart(message.instructions)]
                break
    if (
        params.output_mode == "prompted"
        and params.output_object is not None
        and params.prompted_output_template is not False
    ):
        parts.append(
            InstructionPart(
                prompted_output_instructions(params.output_object, params.prompted_output_template)
            )
        )
        parts = InstructionPart.sorted(parts)
    return parts


# -- reasoning and retries ---------------------------------------------------------------------


def reasoning_active(settings: Mapping[str, Any], thinking: object, profile: ChatProfile) -> bool:
    """Whether reasoning is on for this request: explicit effort, then unified thinking, then the default."""
    effort = settings.get("openai_reasoning_effort")
    if effort is not None:
        return bool(effort != "none")
    if thinking is not None:
        return thinking is not False or profile.thinking_always_enabled
    return profile.thinking_enabled_by_default
