"""Google's Gemini API (``'google-gla:<model>'``, ``'gemini:<model>'``, ``'google:<model>'``) over raw httpx.

The generativelanguage API: ``POST {base}/v1beta/models/{model}:generateContent`` and, streamed,
``:streamGenerateContent?alt=sse``, authenticated by the ``x-goog-api-key`` header (never the URL).
A package with one module per piece, each pure; the package exports the public names, so
``trio_direct.models.google.X`` works as before the split:

1. ``_profile`` — :class:`GoogleProfile`: what pydantic-ai 2.68's Google profile says about a model name
   (thinking budget or level, ``VALIDATED`` function calling, tool combination, image output...).
2. ``_request`` — :func:`build_generate_content_request`: messages, settings and parameters → the JSON
   body (``contents``, ``systemInstruction``, ``tools``, ``toolConfig``, ``generationConfig``...).
3. ``_response`` — :func:`parse_generate_content`: a 200 body → :class:`ModelResponse`, including the
   native tool parts and citations pydantic-ai builds from grounding and URL-context metadata.
4. ``_stream`` — :class:`GoogleStreamMapper`: each SSE ``data:`` is a whole partial
   ``GenerateContentResponse``; its parts extend the response and its usage replaces the last.
5. ``_errors`` — :func:`api_error`: Google's ``{"error": {"code", "status", "details"}}`` → the 2.68
   error categories, ``retry_after`` from ``google.rpc.RetryInfo``; also for in-stream error chunks.

:class:`GoogleModel` (here) wires them into :class:`~trio_direct.models.base.HTTPModel`. Behaviour is
pydantic-ai-slim 2.68's ``GoogleModel`` on the Gemini API (``reference/providers/google.md``). The
request JSON is written in camelCase throughout (the google-genai SDK mixes in snake_case for the
dicts it passes through; the API accepts either spelling); dicts a caller passes verbatim
(``google_thinking_config``, ``google_safety_settings``, file ``vendor_metadata``) go out as given.

Deliberate differences from upstream:

* URLs upstream downloads before sending (every ``ImageUrl``/``AudioUrl``/``DocumentUrl``/``VideoUrl``
  that is neither a Google Files API URL nor a YouTube video, and any with ``force_download``) raise
  :class:`UserError`: building a request does no I/O here. Pass the bytes as ``BinaryContent`` or
  upload the file (``UploadedFile``). ``data:`` URLs are decoded inline.
* No long-decode continuation: a ``CONTINUATION`` finish is reported as ``finish_reason='length'``
  (upstream's SDK transparently sends follow-up requests).
* In a stream, a Gemini 3 ``web_search``/``file_search`` tool response that upstream completes from
  the final chunk's grounding metadata starts its part when it is complete, not at the index
  upstream reserves for it earlier; the ``x-gemini-service-tier`` header is read for non-streamed
  responses only.
* When the history holds a retry, 2.68 runs its full message preparation; the parts of it that change
  a Gemini request are reproduced (retries as function-response errors or framed feedback, tool
  results first, mid-conversation system prompts as ``<system>`` blocks, the framing announcement),
  but not the notes on user text that merely resembles a framework frame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import orjson

from ... import _http  # pyright: ignore[reportPrivateUsage]
from ..._exports import show_public_module as _show_public_module
from ..._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from ...exceptions import (
    ModelAPIError,
    UserError,
)
from ...messages import (
    ModelMessage,
    ModelResponse,
)
from ...settings import ModelSettings
from ...tools import ModelRequestParameters
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._common import (
    USER_AGENT,
    provider_from_args,
)
from .._json import JSON as JSON
from ..base import HTTPModel, Provider
from ._errors import api_error as api_error
from ._errors import http_error as http_error
from ._errors import stream_error as stream_error
from ._profile import API_VERSION as API_VERSION
from ._profile import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from ._profile import PROVIDER_NAME as PROVIDER_NAME
from ._profile import GoogleModelSettings as GoogleModelSettings
from ._profile import GoogleProfile as GoogleProfile
from ._profile import ThinkingLevelName as ThinkingLevelName
from ._request import build_generate_content_request as build_generate_content_request
from ._request import map_messages as map_messages
from ._request import transform_schema as transform_schema
from ._response import FINISH_REASONS as FINISH_REASONS
from ._response import map_usage as map_usage
from ._response import parse_generate_content as parse_generate_content
from ._stream import GoogleStreamMapper as GoogleStreamMapper

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "GoogleModel",
    "GoogleModelSettings",
    "GoogleProfile",
    "GoogleStreamMapper",
    "api_error",
    "build_generate_content_request",
    "from_name",
    "http_error",
    "map_messages",
    "map_usage",
    "parse_generate_content",
    "stream_error",
    "transform_schema",
]


# =============================================================================================
# The model
# =============================================================================================


def _model_path(model_name: str) -> str:
    if model_name.startswith(("models/", "tunedModels/")):
        return model_name
    return f"models/{model_name}"


class GoogleModel(HTTPModel):
    """A Gemini model behind Google's Gemini API (``{base_url}/v1beta/models/{model}:generateContent``).

    Args:
        model_name: ``'gemini-2.5-flash'``, ``'gemini-3-pro-preview'``, ...
        api_key: the API key; default ``GOOGLE_API_KEY``, then ``GEMINI_API_KEY`` (as the SDK and
            pydantic-ai read them). Sent as the ``x-goog-api-key`` header, never in the URL.
        base_url: default ``GEMINI_BASE_URL``, then ``GOOGLE_GEMINI_BASE_URL``, else
            ``https://generativelanguage.googleapis.com``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``.
        settings: default settings (:class:`GoogleModelSettings`).

    Raises:
        UserError: no API key was given and neither variable is set.
    """

    http_error = staticmethod(http_error)

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: Provider | None = None,
        settings: GoogleModelSettings | None = None,
    ) -> None:
        if provider is None:
            provider = provider_from_args(
                PROVIDER_NAME,
                api_key=api_key or None,  # an empty key falls back to the environment, as the SDK's
                base_url=base_url,
                key_vars=("GOOGLE_API_KEY", "GEMINI_API_KEY"),
                url_vars=("GEMINI_BASE_URL", "GOOGLE_GEMINI_BASE_URL"),
                default_base_url=DEFAULT_BASE_URL,
                missing_key="Set the `GEMINI_API_KEY` (or `GOOGLE_API_KEY`) environment variable or pass "
                "it via `GoogleModel(..., api_key=...)` to use the Google Gemini provider.",
            )
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = GoogleProfile.for_model(model_name)
        root = provider.base_url.rstrip("/")
        path = _model_path(model_name)
        self._url = f"{root}/{API_VERSION}/{path}:generateContent"
        self._stream_url = f"{root}/{API_VERSION}/{path}:streamGenerateContent?alt=sse"
        #: ``provider_url`` as the SDK reports its base URL: with a trailing slash
        self._provider_url = root + "/"
        self._headers = {
            "user-agent": USER_AGENT,
            "x-goog-api-key": provider.api_key or "",
            **provider.headers,
        }

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
        body, extra_headers = build_generate_content_request(
            self._model_name, messages, settings, params, profile=self.profile
        )
        headers = dict(self._headers)
        for name, value in extra_headers.items():
            lowered = name.lower()
            for own in [k for k in headers if k.lower() == lowered]:
                del headers[own]
            headers[name] = value
        return _http.HTTPRequest.json(self._stream_url if stream else self._url, body, headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(self._model_name, f"Failed to decode response as JSON: {exc}") from exc
        return parse_generate_content(
            data,
            params,
            model_name=self._model_name,
            provider_url=self._provider_url,
            headers=headers,
            profile=self.profile,
        )

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> GoogleStreamMapper:
        return GoogleStreamMapper(
            parts, params, model_name=self._model_name, provider_url=self._provider_url, profile=self.profile
        )


def from_name(name: str, prefix: str) -> GoogleModel:
    """The registry factory for ``'google-gla:<model>'``, ``'gemini:<model>'`` and ``'google:<model>'``."""
    if not name:
        raise UserError(f"a Gemini model name is needed: '{prefix}:gemini-2.5-flash'")
    return GoogleModel(name)


_show_public_module(globals(), __all__, __name__)
