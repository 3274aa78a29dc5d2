"""Google's Gemini API (``'google-gla:<model>'``, ``'gemini:<model>'``, ``'google:<model>'``) and Gemini on
Google Cloud's Vertex AI (``'google-cloud:<model>'``) over raw httpx.

The generativelanguage API: ``POST {base}/v1beta/models/{model}:generateContent`` and, streamed,
``:streamGenerateContent?alt=sse`` (``:countTokens`` for ``count_tokens``), authenticated by the
``x-goog-api-key`` header (never the URL). Vertex AI takes the same bodies at the URLs
:mod:`trio_direct.models._gcp` resolves, with an OAuth2 bearer token (or an express-mode API key):
:class:`GoogleCloudModel`. Where 2.68's ``GoogleModel`` behaves differently on Google Cloud, the
profile's ``cloud`` flag says so (provider name ``google-cloud``, file URLs sent as references,
``gs://`` uploads, service-tier headers instead of ``serviceTier``, no server-side tool invocation
parts, two thinking rules).

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
from typing import Final

import orjson

from ... import _http  # pyright: ignore[reportPrivateUsage]
from ..._exports import show_public_module as _show_public_module
from ..._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from ..._validate import path_segment  # pyright: ignore[reportPrivateUsage]
from ...exceptions import (
    ModelAPIError,
    ModelHTTPError,
    TrioDirectError,
    UserError,
)
from ...messages import (
    ModelMessage,
    ModelResponse,
)
from ...settings import ModelSettings
from ...tools import ModelRequestParameters
from ...usage import RequestUsage
from .._common import DEFAULT_PROMPTED_OUTPUT_TEMPLATE as DEFAULT_PROMPTED_OUTPUT_TEMPLATE
from .._common import (
    USER_AGENT,
    provider_from_args,
)
from .._gateway import resolve_gateway
from .._gcp import Credentials, TokenSource, VertexTarget, resolve_vertex
from .._json import JSON as JSON
from .._json import parse_token_count
from ..base import Emit, HTTPModel, Provider, SSEEventSource, StreamContext, open_event_stream
from ._errors import api_error as api_error
from ._errors import http_error as http_error
from ._errors import stream_error as stream_error
from ._profile import API_VERSION as API_VERSION
from ._profile import CLOUD_PROVIDER_NAME as CLOUD_PROVIDER_NAME
from ._profile import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from ._profile import PROVIDER_NAME as PROVIDER_NAME
from ._profile import GoogleModelSettings as GoogleModelSettings
from ._profile import GoogleProfile as GoogleProfile
from ._profile import ThinkingLevelName as ThinkingLevelName
from ._request import build_generate_content_request as build_generate_content_request
from ._request import cloud_service_tier_headers as cloud_service_tier_headers
from ._request import map_messages as map_messages
from ._request import transform_schema as transform_schema
from ._response import FINISH_REASONS as FINISH_REASONS
from ._response import map_usage as map_usage
from ._response import parse_generate_content as parse_generate_content
from ._stream import GoogleStreamMapper as GoogleStreamMapper

__all__ = [
    "API_VERSION",
    "CLOUD_PROVIDER_NAME",
    "DEFAULT_BASE_URL",
    "FINISH_REASONS",
    "GoogleCloudModel",
    "GoogleModel",
    "GoogleModelSettings",
    "GoogleProfile",
    "GoogleStreamMapper",
    "api_error",
    "build_generate_content_request",
    "cloud_service_tier_headers",
    "from_cloud_name",
    "from_gateway_name",
    "from_name",
    "http_error",
    "map_messages",
    "map_usage",
    "parse_generate_content",
    "stream_error",
    "transform_schema",
    "vertex_cached_content_name",
    "vertex_count_tokens_body",
]


# =============================================================================================
# The model
# =============================================================================================


def _model_path(model_name: str) -> str:
    # hardening: the name is one path segment whatever it holds (`../`, `?`, `#` cannot rewrite the URL)
    collection, _, name = model_name.partition("/")
    if collection not in ("models", "tunedModels") or not _:
        collection, name = "models", model_name
    return f"{collection}/{path_segment(name, what='Gemini model name')}"


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
        self._count_url = f"{root}/{API_VERSION}/{path}:countTokens"
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
        body, extra_headers = self._body(messages, settings, params)
        return _http.HTTPRequest.json(
            self._stream_url if stream else self._url, body, self._with(extra_headers)
        )

    def _body(
        self, messages: Sequence[ModelMessage], settings: ModelSettings, params: ModelRequestParameters
    ) -> tuple[JSON, dict[str, str]]:
        """The ``generateContent`` body and the extra headers for this model (pure).

        Raises:
            UserError: the request cannot be built.
        """
        return build_generate_content_request(
            self._model_name, messages, settings, params, profile=self.profile
        )

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """``POST {base_url}/v1beta/models/{model}:countTokens`` for what :meth:`build_request` would send.

        The request is built (and validated, with its warnings) as a live one, then only its
        ``contents`` go out: the Gemini API's ``countTokens`` takes no system instruction, tools or
        generation config, so 2.68 (through the SDK) sends none and the count leaves them out.

        Raises:
            UserError: the request cannot be built (as :meth:`build_request` would raise).
        """
        body, extra_headers = build_generate_content_request(
            self._model_name, messages, settings, params, profile=self.profile
        )
        return _http.HTTPRequest.json(
            self._count_url, {"contents": body["contents"]}, self._with(extra_headers)
        )

    def parse_count_tokens(self, body: bytes, headers: Mapping[str, str]) -> RequestUsage:
        """``{"totalTokens": N, ...}`` → ``RequestUsage(input_tokens=N)``.

        Raises:
            UnexpectedModelBehavior: the body is not such an object (2.68: "Total tokens missing from
                Gemini response"); the message quotes it.
        """
        return parse_token_count(body, "the Gemini countTokens endpoint", "totalTokens")

    def _with(self, extra_headers: Mapping[str, str]) -> dict[str, str]:
        """The model's headers with ``extra_headers`` replacing any of the same name (in any case)."""
        headers = dict(self._headers)
        for name, value in extra_headers.items():
            lowered = name.lower()
            for own in [k for k in headers if k.lower() == lowered]:
                del headers[own]
            headers[name] = value
        return headers

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


# =============================================================================================
# Google Cloud (Vertex AI)
# =============================================================================================


class GoogleCloudModel(GoogleModel):
    """A Gemini (or other publisher) model on Google Cloud's Vertex AI, as 2.68's ``GoogleModel`` on a
    ``GoogleCloudProvider``: the Gemini request bodies, sent to the Vertex URL with an OAuth2 access token
    (project mode) or an API key (express mode).

    Args:
        model_name: ``'gemini-2.5-flash'``, ``'anthropic/claude-x'``, or a ``publishers/...``,
            ``models/...`` or full ``projects/...`` resource name.
        api_key: an express-mode API key (default: ``GOOGLE_API_KEY``, then ``GEMINI_API_KEY``, read only
            when ``GOOGLE_APPLICATION_CREDENTIALS`` is unset and no credentials/project/location is given).
        credentials: OAuth2 credentials (see :mod:`trio_direct.models._gcp`) or a shared
            :class:`TokenSource`; default Application Default Credentials.
        project: default ``GOOGLE_CLOUD_PROJECT`` (then ``GCLOUD_PROJECT``, then the credentials').
        location: default ``GOOGLE_CLOUD_LOCATION``, else ``us-central1``.
        base_url: replaces the Vertex host (default ``GOOGLE_VERTEX_BASE_URL``).
        target: a ready :class:`VertexTarget` instead of the arguments above.
        settings: default settings (:class:`GoogleModelSettings`).

    Raises:
        UserError: no credentials or project can be found, or a credentials file is unusable (see
            :func:`resolve_vertex`); the model name cannot be put in a URL.

    A request whose access token the server rejects with a 401 fetches a new token and is sent once
    more (a token can be revoked or expire early); a second 401 is raised.
    """

    def __init__(
        self,
        model_name: str,
        *,
        api_key: str | None = None,
        credentials: Credentials | TokenSource | None = None,
        project: str | None = None,
        location: str | None = None,
        base_url: str | None = None,
        target: VertexTarget | None = None,
        settings: GoogleModelSettings | None = None,
    ) -> None:
        if target is None:
            target = resolve_vertex(
                api_key=api_key,
                credentials=credentials,
                project=project,
                location=location,
                base_url=base_url,
            )
        self.vertex = target
        provider = Provider(CLOUD_PROVIDER_NAME, target.provider_url)
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = GoogleProfile.for_model(model_name, cloud=True)
        # checked now, so a name that cannot be a URL is a UserError when the model is made
        self._url = target.url(model_name, stream=False)
        self._stream_url = target.url(model_name, stream=True)
        self._count_url = target.url(model_name, stream=False, method="countTokens")
        # the credentials go on per request (authorize), never into the stored headers
        self._headers.pop("x-goog-api-key", None)

    def _body(
        self, messages: Sequence[ModelMessage], settings: ModelSettings, params: ModelRequestParameters
    ) -> tuple[JSON, dict[str, str]]:
        body, headers = super()._body(messages, settings, params)
        if isinstance(cached := body.get("cachedContent"), str):
            # the SDK completes a short cache name with the project and location on Vertex AI
            body["cachedContent"] = vertex_cached_content_name(cached, self.vertex)
        return body, headers

    def __repr__(self) -> str:
        return f"GoogleCloudModel(model_name={self._model_name!r}, vertex={self.vertex!r})"

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send a non-streamed ``generateContent`` request to Vertex AI and parse the reply.

        Raises:
            ModelHTTPError: Vertex (or the token endpoint) answered 4xx/5xx (a categorized subclass).
            ModelConnectionError: Vertex or the token endpoint could not be reached.
            UnexpectedModelBehavior: the reply could not be understood.
            UserError: the credentials cannot be used.

        Cancellation:
            Safe at any point; the connection is discarded and no token is left half-fetched.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        unsigned = self._with_timeout(self.build_request(messages, settings, params, stream=False), settings)
        headers, body = await self._send_authorized(unsigned)
        return self.parse_response(body, headers, params, settings)

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """``POST …/{model}:countTokens`` on Vertex AI for what :meth:`build_request` would send, without
        its credentials (:meth:`count_tokens` adds them).

        Unlike the Gemini API's, Vertex's ``countTokens`` takes the system instruction, the tools (native
        tools too, for an accurate count) and the generation settings it knows, so 2.68 sends those
        with the contents: :func:`vertex_count_tokens_body`. The headers are the request's (service-tier
        routing, ``extra_headers``).

        Raises:
            UserError: the request cannot be built (as :meth:`build_request` would raise).
        """
        body, extra_headers = self._body(messages, settings, params)
        return _http.HTTPRequest.json(
            self._count_url, vertex_count_tokens_body(body), self._with(extra_headers)
        )

    async def count_tokens(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> RequestUsage:
        """Count a request's input tokens with Vertex AI's ``countTokens`` (2.68's
        ``GoogleModel.count_tokens`` on Google Cloud), authorized as :meth:`request` is (a rejected token
        is refreshed once).

        Raises:
            ModelHTTPError: Vertex (or the token endpoint) answered 4xx/5xx (a categorized subclass).
            ModelConnectionError: Vertex or the token endpoint could not be reached.
            UnexpectedModelBehavior: the reply has no ``totalTokens``.
            UserError: the request cannot be built, or the credentials cannot be used.

        Cancellation:
            Safe at any point; the connection is discarded and no token is left half-fetched.
        """
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        unsigned = self._with_timeout(self.build_count_tokens_request(messages, settings, params), settings)
        headers, body = await self._send_authorized(unsigned)
        return self.parse_count_tokens(body, headers)

    async def _send_authorized(self, unsigned: _http.HTTPRequest) -> tuple[Mapping[str, str], bytes]:
        """Send ``unsigned`` with Vertex credentials: the headers and body of its 2xx reply. A 401 for the
        access token fetches a new one and sends once more.

        Raises:
            ModelHTTPError, ModelConnectionError, UserError: as :meth:`request`; credentials redacted.
        """
        sent: list[_http.HTTPRequest] = []
        try:
            for attempt in range(2):
                request = await self.vertex.authorize(unsigned, model_name=self._model_name)
                sent.append(request)
                try:
                    _, headers, body = await _http.send(
                        request, model_name=self._model_name, error_builder=self.http_error
                    )
                except ModelHTTPError as exc:
                    if attempt == 0 and _token_rejected(self.vertex, exc):
                        continue
                    raise
                return headers, body
            raise AssertionError("unreachable: the second attempt returns or raises")
        except TrioDirectError as exc:
            # A server may echo a token or key in an error body; the caller never sees one.
            _http.redact_error(exc, [s for r in sent for s in _http.credentials_of(r)])
            raise

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        settings, params = self.prepare_request(model_settings, model_request_parameters)
        request = self._with_timeout(
            self.build_request(messages, settings, params, stream=True),
            settings,
            read=settings.get("stream_inactivity_timeout"),
        )
        parts = PartsManager()
        source = _VertexEventSource(
            self.vertex,
            request,
            self.stream_mapper(params, parts, settings),
            parts,
            model_name=self._model_name,
            error_builder=self.http_error,
        )
        return open_event_stream(source, params)


#: The generation settings Vertex's ``countTokens`` takes (2.68 copies these into its
#: ``GenerationConfigDict``; ``responseModalities``, image and logprob settings are not among them).
_COUNT_GENERATION_KEYS: Final = (
    "temperature",
    "topP",
    "topK",
    "maxOutputTokens",
    "stopSequences",
    "presencePenalty",
    "frequencyPenalty",
    "seed",
    "thinkingConfig",
    "mediaResolution",
    "responseMimeType",
    "responseJsonSchema",
)


def vertex_count_tokens_body(body: JSON) -> JSON:
    """The Vertex AI ``countTokens`` body for a ``generateContent`` body (2.68 on Google Cloud): its
    ``contents``, ``systemInstruction`` and ``tools`` (one per function declaration), and the generation
    settings the count takes (the ``generationConfig`` object is always sent, empty or not). No tool
    config, safety settings, labels or cached content. Pure."""
    count: JSON = {"contents": body["contents"]}
    if "systemInstruction" in body:
        count["systemInstruction"] = body["systemInstruction"]
    if "tools" in body:
        # 2.68 builds one tool per function declaration; the SDK merges them for generateContent but
        # sends them as built to countTokens
        tools: list[JSON] = []
        for tool in body["tools"]:
            if list(tool) == ["functionDeclarations"]:
                tools.extend(
                    {"functionDeclarations": [declaration]} for declaration in tool["functionDeclarations"]
                )
            else:
                tools.append(tool)
        count["tools"] = tools
    generation: JSON = body.get("generationConfig") or {}
    count["generationConfig"] = {k: generation[k] for k in _COUNT_GENERATION_KEYS if k in generation}
    return count


def vertex_cached_content_name(name: str, target: VertexTarget) -> str:
    """``google_cached_content`` as the google-genai SDK completes it for Vertex AI (2.68 sends it through
    the SDK): ``cachedContents/x`` or a bare ``x`` gets the target's ``projects/{p}/locations/{l}/``,
    ``locations/...`` its project; a full ``projects/...`` name, or any name in express mode (no project),
    is kept. Pure."""
    project, location = target.project, target.location
    if project is None or name.startswith("projects/"):
        return name
    if name.startswith("locations/"):
        return f"projects/{project}/{name}"
    if name.startswith("cachedContents/"):
        return f"projects/{project}/locations/{location}/{name}"
    if "/" not in name:
        return f"projects/{project}/locations/{location}/cachedContents/{name}"
    return name


def _token_rejected(target: VertexTarget, exc: ModelHTTPError) -> bool:
    """Whether ``exc`` is Vertex refusing the access token at the start of a response; if so the token is
    forgotten, so the next :meth:`VertexTarget.authorize` fetches a new one."""
    if exc.status_code != 401 or exc.in_stream or target.tokens is None:
        return False
    target.tokens.invalidate()
    return True


class _VertexEventSource(SSEEventSource):
    """A Vertex AI stream: authorized when it opens (fetching a token first when needed), and opened once
    more with a new token when the first is refused with a 401 before any event."""

    def __init__(
        self,
        target: VertexTarget,
        request: _http.HTTPRequest,
        mapper: GoogleStreamMapper,
        parts: PartsManager,
        *,
        model_name: str,
        error_builder: _http.ErrorBuilder,
    ) -> None:
        super().__init__(request, mapper, parts, model_name=model_name, error_builder=error_builder)
        self._target = target
        self._unsigned = request

    async def run(self, emit: Emit) -> None:
        stale: tuple[str, ...] = ()
        for attempt in range(2):
            try:
                self.request = await self._target.authorize(self._unsigned, model_name=self._model_name)
            except TrioDirectError as exc:
                _http.redact_error(exc, stale)
                raise
            try:
                await super().run(emit)  # redacts this request's own credentials
                return
            except ModelHTTPError as exc:
                _http.redact_error(exc, stale)
                if attempt == 0 and _token_rejected(self._target, exc):
                    stale = _http.credentials_of(self.request)
                    continue
                raise
            except TrioDirectError as exc:
                _http.redact_error(exc, stale)
                raise


def from_cloud_name(name: str, prefix: str) -> GoogleCloudModel:
    """The registry factory for ``'google-cloud:<model>'``: credentials, project and location from the
    environment (see :class:`GoogleCloudModel`)."""
    if not name:
        raise UserError(f"a Gemini model name is needed: '{prefix}:gemini-2.5-flash'")
    return GoogleCloudModel(name)


def from_gateway_name(name: str, prefix: str) -> GoogleCloudModel:
    """The registry factory for ``'gateway/google-cloud:<model>'`` and ``'gateway/google:<model>'``: Gemini on
    Vertex AI at the Pydantic AI Gateway's ``/google-vertex`` route, in express mode
    (``{route}/v1beta1/publishers/google/models/{model}:generateContent``), the Gateway key as
    ``Authorization: Bearer`` and as the express-mode ``x-goog-api-key``, no OAuth2 (see
    :mod:`trio_direct.models._gateway`).

    Raises:
        UserError: the model name is empty or cannot be put in a URL, ``PYDANTIC_AI_GATEWAY_API_KEY`` is
            not set, or no base URL can be found.
    """
    if not name:
        raise UserError(f"a Gemini model name is needed: '{prefix}:gemini-2.5-flash'")
    gateway = resolve_gateway(prefix)
    target = VertexTarget(
        gateway.base_url,
        None,
        None,
        api_key=gateway.api_key,
        headers=tuple(gateway.auth_headers().items()),
    )
    return GoogleCloudModel(name, target=target)


_show_public_module(globals(), __all__, __name__)
