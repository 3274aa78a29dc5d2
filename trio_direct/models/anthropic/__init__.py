"""Anthropic's Messages API (``'anthropic:<model>'``) over raw httpx.

A package with one module per piece, each pure (no I/O, no global state); the package exports the
public names, so ``trio_direct.models.anthropic.X`` works as before the split:

1. ``_profile`` — :class:`AnthropicProfile`: what pydantic-ai 2.68 keys on the model name (default
   and maximum ``max_tokens``, adaptive or budget thinking, effort levels, strict tools, sampling).
2. ``_request`` — :func:`build_messages_request`: messages, settings and parameters → the JSON body
   and the ``anthropic-beta`` header (system prompt and instructions as text blocks, user text and
   files, assistant text / tool use / signed and redacted thinking, tool results, retries,
   builtin-tool history, cache breakpoints, thinking and effort, sampling, tools, ``tool_choice``).
3. ``_response`` — :func:`parse_messages_response`: a 200 body → :class:`ModelResponse`, with the
   builtin-tool blocks (web search, web fetch, code execution, MCP, advisor) as builtin-tool parts.
4. ``_errors`` — :func:`api_error`: an error body or an in-stream ``error`` event → the categorized
   :class:`ModelHTTPError` 2.68 raises.
5. ``_stream`` — :class:`AnthropicStreamMapper`: one SSE event at a time (``message_start``,
   ``content_block_start/delta/stop``, ``message_delta``, ``ping``, ``error``) → raw part events and
   :class:`StreamMeta`, through the shared parts manager: one content block is one part, keyed by the
   block's ``index``.

:class:`AnthropicModel` (here) plugs those into :class:`~trio_direct.models.base.HTTPModel`'s hooks and
:func:`from_name` is the registry factory (``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``). The behaviour
is ``reference/providers/anthropic.md`` at 2.68: the same request JSON, and the same ``ModelResponse``
for the same bytes (``tests/data/anthropic_*.json`` hold captures of pydantic-ai doing it).

Deliberate differences from upstream, documented where they happen:

* A non-streamed request is never turned into a streamed one behind the caller's back. When
  ``max_tokens`` is not set the model's full output budget is requested, as upstream does, and a long
  generation then has to fit the read inactivity timeout (600 s by default): set ``max_tokens`` or
  ``timeout``, or stream.
* Files upstream downloads first (a plain-text ``DocumentUrl``, ``ImageUrl(force_download=True)``)
  raise :class:`UserError`, as do audio and video: building a request does no I/O. Pass the bytes as
  ``BinaryContent``.
* The SDK's automatic retries are not reproduced; retry in the caller.
* A stream that ends without ``message_stop`` raises :class:`UnexpectedModelBehavior` instead of
  passing for complete; so does a 200 whose body is an error object (upstream crashes with a
  ``TypeError``). Usage that cannot be read is left at zero without a warning.
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
from ...usage import RequestUsage
from .._common import provider_from_args
from .._gateway import gateway_provider
from .._json import JSON as JSON
from .._json import parse_token_count
from ..base import HTTPModel, Provider
from ._errors import ERROR_TYPE_STATUS as ERROR_TYPE_STATUS
from ._errors import api_error as api_error
from ._errors import http_error as http_error
from ._profile import ANTHROPIC_VERSION as ANTHROPIC_VERSION
from ._profile import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from ._profile import JSON_SCHEMA_OUTPUT as JSON_SCHEMA_OUTPUT
from ._profile import PROVIDER_NAME as PROVIDER_NAME
from ._profile import AnthropicModelSettings as AnthropicModelSettings
from ._profile import AnthropicProfile as AnthropicProfile
from ._profile import CacheTTL as CacheTTL
from ._request import build_messages_request as build_messages_request
from ._request import transform_schema as transform_schema
from ._response import FINISH_REASONS as FINISH_REASONS
from ._response import SERVER_RESULT_TYPES as SERVER_RESULT_TYPES
from ._response import compaction_part as compaction_part
from ._response import enabled_server_tools as enabled_server_tools
from ._response import fetched_page as fetched_page
from ._response import last_pass_input_tokens as last_pass_input_tokens
from ._response import map_citations as map_citations
from ._response import map_usage as map_usage
from ._response import mcp_call_part as mcp_call_part
from ._response import mcp_return_part as mcp_return_part
from ._response import parse_messages_response as parse_messages_response
from ._response import server_tool_call_part as server_tool_call_part
from ._response import server_tool_return_part as server_tool_return_part
from ._response import usage_details as usage_details
from ._stream import AnthropicStreamMapper as AnthropicStreamMapper

__all__ = [
    "ANTHROPIC_VERSION",
    "DEFAULT_BASE_URL",
    "AnthropicModel",
    "AnthropicModelSettings",
    "AnthropicStreamMapper",
    "build_messages_request",
    "from_gateway_name",
    "from_name",
    "parse_messages_response",
]


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class AnthropicModel(HTTPModel):
    """A Claude model behind Anthropic's Messages API (``POST {base_url}/v1/messages``); counts tokens
    with ``POST {base_url}/v1/messages/count_tokens``.

    Args:
        model_name: ``'claude-sonnet-4-5'``, ...
        api_key: the API key; default ``ANTHROPIC_API_KEY``.
        base_url: default ``ANTHROPIC_BASE_URL``, else ``https://api.anthropic.com``.
        provider: a ready :class:`Provider` instead of ``api_key``/``base_url``; one without an ``api_key``
            sends no ``x-api-key`` and authenticates with its own headers (the Gateway's bearer key).
        settings: default settings (:class:`AnthropicModelSettings`).

    Raises:
        UserError: no API key was given and ``ANTHROPIC_API_KEY`` is not set.
    """

    http_error = staticmethod(http_error)

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        provider: Provider | None = None,
        settings: AnthropicModelSettings | None = None,
    ) -> None:
        if provider is None:
            provider = provider_from_args(
                PROVIDER_NAME,
                api_key=api_key,
                base_url=base_url,
                key_vars=("ANTHROPIC_API_KEY",),
                url_vars=("ANTHROPIC_BASE_URL",),
                default_base_url=DEFAULT_BASE_URL,
                missing_key="Set the `ANTHROPIC_API_KEY` environment variable or pass it via "
                "`AnthropicModel(..., api_key=...)` to use the Anthropic provider.",
            )
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = AnthropicProfile.for_model(model_name)

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        body, extra_headers = build_messages_request(
            self._model_name, messages, settings, params, stream=stream, profile=self.profile
        )
        return self._request("v1/messages", body, extra_headers, stream=stream)

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """``POST {base_url}/v1/messages/count_tokens`` for the request :meth:`build_request` would send."""
        body, extra_headers = build_messages_request(
            self._model_name,
            messages,
            settings,
            params,
            stream=False,
            profile=self.profile,
            count_tokens=True,
        )
        return self._request("v1/messages/count_tokens", body, extra_headers, stream=False)

    def _request(
        self, path: str, body: JSON, extra_headers: dict[str, str], *, stream: bool
    ) -> _http.HTTPRequest:
        headers = {
            **self.provider.headers,
            **extra_headers,
            "anthropic-version": ANTHROPIC_VERSION,
            "accept": "text/event-stream" if stream else "application/json",
        }
        if self.provider.api_key is not None:
            headers["x-api-key"] = self.provider.api_key
        return _http.HTTPRequest.json(self.provider.url(path), body, headers)

    def parse_count_tokens(self, body: bytes, headers: Mapping[str, str]) -> RequestUsage:
        """``{"input_tokens": N}`` → ``RequestUsage(input_tokens=N)``.

        Raises:
            UnexpectedModelBehavior: the body is not such an object; the message quotes it.
        """
        return parse_token_count(body, "the Anthropic count_tokens endpoint", "input_tokens")

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        content_type = headers.get("content-type", "application/json")
        if "json" not in content_type:
            raise ModelAPIError(
                self._model_name, f"Expected a JSON response, got: {body[:2000].decode('utf-8', 'replace')!r}"
            )
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise ModelAPIError(self._model_name, f"Failed to decode response as JSON: {exc}") from exc
        return parse_messages_response(data, params, provider_url=self.provider.base_url)

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> AnthropicStreamMapper:
        return AnthropicStreamMapper(
            parts, params, model_name=self._model_name, provider_url=self.provider.base_url
        )


def from_name(name: str, prefix: str) -> AnthropicModel:
    """The registry factory for ``'anthropic:<model>'``: key and base URL from the environment."""
    del prefix
    if not name:
        raise UserError("an Anthropic model name is needed: 'anthropic:claude-sonnet-4-5'")
    return AnthropicModel(name)


def from_gateway_name(name: str, prefix: str) -> AnthropicModel:
    """The registry factory for ``'gateway/anthropic:<model>'``: the Messages API at the Pydantic AI Gateway's
    ``/anthropic`` route, the Gateway key as ``Authorization: Bearer`` instead of ``x-api-key`` (see
    :mod:`trio_direct.models._gateway`).

    Raises:
        UserError: the model name is empty, ``PYDANTIC_AI_GATEWAY_API_KEY`` is not set, or no base URL can
            be found.
    """
    if not name:
        raise UserError(f"an Anthropic model name is needed: '{prefix}:claude-sonnet-4-5'")
    return AnthropicModel(name, provider=gateway_provider(prefix))


_show_public_module(globals(), __all__, __name__)
