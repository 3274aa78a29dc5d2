"""Amazon Bedrock's Converse API (``bedrock:``): ``POST {endpoint}/model/{modelId}/converse`` and
``/converse-stream``, signed with AWS SigV4 or sent with a Bedrock API key.

A package with one module per piece, each pure (no I/O, no global state); the package exports the
public names, so ``trio_direct.models.bedrock.X`` works as before the split:

1. ``_profile`` — :class:`BedrockModelSettings`, model-id checks and :func:`converse_url`, and
   :class:`BedrockProfile`: what pydantic-ai 2.68's Bedrock profiles say about a model id (Claude, Nova,
   Llama, Mistral, Cohere, DeepSeek, Qwen, gpt-oss, Kimi, GLM, Grok, Writer, MiniMax, NVIDIA, Gemma):
   tool choice, thinking shape, caching, media in tool results, which content may share a turn with a
   ``toolResult``, sampling settings, the JSON-schema transform for tools;
2. ``_schema`` — :func:`transform_tool_schema`: a tool's JSON schema as that transform sends it;
3. ``_request`` — :func:`build_converse_request`: messages, settings and parameters → the Converse JSON
   body;
4. ``_response`` — :func:`parse_converse_response`: a Converse JSON body → :class:`ModelResponse`;
5. ``_errors`` — :func:`http_error` / :func:`stream_exception`: Bedrock's errors → the categorized errors
   2.68 raises;
6. ``_stream`` — :class:`ConverseStreamMapper`: ``application/vnd.amazon.eventstream`` messages → part
   events.

:class:`BedrockConverseModel` (here) glues them to the HTTP layer: it signs each request (credentials come
from :mod:`trio_direct._aws`, read once when the model is built) and streams through
:class:`trio_direct._aws.source.EventStreamSource`.

Deliberate differences from 2.68 (which goes through boto3):

* no botocore retries: retry policy is trio_direct's (:mod:`trio_direct.retries`);
* files given by URL (other than ``s3://``) are not downloaded while building a request: a
  :class:`UserError` asks for :class:`BinaryContent` instead;
* a profile that needs a login flow (SSO, ``credential_process``, role assumption) is refused with a
  :class:`UserError`; export temporary keys instead;
* a stream that ends without ``messageStop`` is accepted as 2.68 accepts it, but one with no event at all
  raises :class:`UnexpectedModelBehavior`.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, cast

import attrs
import httpx
import orjson

from ... import _http  # pyright: ignore[reportPrivateUsage]
from ..._aws.credentials import AWSConfig, resolve_aws_config
from ..._aws.lookup import AfterLookup
from ..._aws.sigv4 import sign_request
from ..._aws.source import EVENTSTREAM_MEDIA_TYPE, EventStreamSource
from ..._exports import show_public_module as _show_public_module
from ..._parts import PartsManager
from ...exceptions import ModelAPIError, TrioDirectError, UnexpectedModelBehavior, UserError
from ...messages import ModelMessage, ModelResponse
from ...settings import ModelSettings
from ...tools import ModelRequestParameters
from ...usage import RequestUsage, gateway_header_cost
from .._bedrock_ids import remove_geo_prefix
from .._bedrock_ids import split_model_id as split_model_id
from .._common import USER_AGENT
from .._gateway import resolve_gateway
from .._json import SHAPE_ERRORS, parse_token_count
from ..base import HTTPModel, Provider, StreamContext, open_event_stream
from ._errors import code_category as code_category
from ._errors import http_error as http_error
from ._errors import stream_exception as stream_exception
from ._profile import DEFAULT_ENDPOINT as DEFAULT_ENDPOINT
from ._profile import GATEWAY_REGION as GATEWAY_REGION
from ._profile import PROVIDER_NAME as PROVIDER_NAME
from ._profile import SIGNING_SERVICE as SIGNING_SERVICE
from ._profile import BedrockModelSettings as BedrockModelSettings
from ._profile import BedrockProfile as BedrockProfile
from ._profile import JSONContent as JSONContent
from ._profile import MediaKind as MediaKind
from ._profile import SchemaTransform as SchemaTransform
from ._profile import ThinkingVariant as ThinkingVariant
from ._profile import converse_url as converse_url
from ._profile import count_tokens_url as count_tokens_url
from ._profile import validate_model_id as validate_model_id
from ._request import COUNT_TOKENS_FIELDS as COUNT_TOKENS_FIELDS
from ._request import build_converse_request as build_converse_request
from ._request import encode_body as encode_body
from ._request import prepare_settings as prepare_settings
from ._response import FINISH_REASONS as FINISH_REASONS
from ._response import map_citations as map_citations
from ._response import map_usage as map_usage
from ._response import parse_converse_response as parse_converse_response
from ._schema import transform_tool_schema as transform_tool_schema
from ._stream import ConverseStreamMapper as ConverseStreamMapper

__all__ = [
    "BedrockConverseModel",
    "BedrockModelSettings",
    "BedrockProfile",
    "ConverseStreamMapper",
    "build_converse_request",
    "converse_url",
    "count_tokens_url",
    "from_gateway_name",
    "from_name",
    "http_error",
    "parse_converse_response",
    "stream_exception",
    "validate_model_id",
]

# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class _Timeouts(TypedDict):
    connect: float
    read: float


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError:
        raise UserError(f"{name}={value!r} is not a number of seconds") from None


class BedrockConverseModel(HTTPModel):
    """A model on Amazon Bedrock's Converse API.

    Args:
        model_name: a Bedrock model id or inference profile (``'us.amazon.nova-micro-v1:0'``), or an ARN.
        region_name: default ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` / the profile's region.
        aws_access_key_id, aws_secret_access_key, aws_session_token: SigV4 keys; default the AWS
            environment variables, then the shared credentials/config files.
        api_key: a Bedrock API key (``Authorization: Bearer``); default ``AWS_BEARER_TOKEN_BEDROCK``.
        profile_name: an AWS profile; default ``AWS_PROFILE``.
        base_url: the endpoint; default ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL``, else
            ``https://bedrock-runtime.{region}.amazonaws.com``.
        aws_read_timeout, aws_connect_timeout: inactivity limits; default ``AWS_READ_TIMEOUT`` (300 s) and
            ``AWS_CONNECT_TIMEOUT`` (60 s), as 2.68.
        config: a ready :class:`AWSConfig` instead of the arguments above.
        settings: default settings (:class:`BedrockModelSettings`).

    Raises:
        UserError: the model id cannot be one, the model is served only on Bedrock Mantle, or the
            credentials / region cannot be found (reads the AWS config files, no network).
    """

    def __init__(
        self,
        model_name: str,
        *,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        api_key: str | None = None,
        profile_name: str | None = None,
        base_url: str | None = None,
        aws_read_timeout: float | None = None,
        aws_connect_timeout: float | None = None,
        config: AWSConfig | None = None,
        settings: BedrockModelSettings | None = None,
    ) -> None:
        validate_model_id(model_name)
        profile = BedrockProfile.for_model(model_name)
        if not profile.on_converse:
            raise UserError(
                f"Model {model_name!r} is not served by the Bedrock Converse API. Use the `bedrock-mantle:` "
                "prefix to reach it through Bedrock Mantle's OpenAI-compatible API."
            )
        if config is None:
            config = resolve_aws_config(
                service_env_name="BEDROCK_RUNTIME",
                default_endpoint=DEFAULT_ENDPOINT,
                access_key_id=aws_access_key_id,
                secret_access_key=aws_secret_access_key,
                session_token=aws_session_token,
                bearer_token=api_key,
                bearer_env="AWS_BEARER_TOKEN_BEDROCK",
                region=region_name,
                profile=profile_name,
                endpoint_url=base_url,
            )
        if config.bearer_token is not None and not config.bearer_allowed():
            # as botocore: a long-lived API key never goes over plain HTTP (resolve_aws_config checks too);
            # a config made for a local gateway may send it to this machine
            raise UserError(
                f"a Bedrock API key is sent only over HTTPS, but the endpoint is {config.endpoint_url!r}"
            )
        super().__init__(model_name, provider=Provider(PROVIDER_NAME, config.endpoint_url), settings=settings)
        self.aws = config
        self.profile = profile
        self._timeouts = _Timeouts(
            connect=aws_connect_timeout or _env_float("AWS_CONNECT_TIMEOUT", 60.0),
            read=aws_read_timeout or _env_float("AWS_READ_TIMEOUT", 300.0),
        )

    def __repr__(self) -> str:
        return f"BedrockConverseModel(model_name={self.model_name!r}, region={self.aws.region!r})"

    @property
    def system(self) -> str:
        return PROVIDER_NAME

    def customize_request_parameters(self, params: ModelRequestParameters) -> ModelRequestParameters:
        """Drop what the output mode does not use, as 2.68's ``prepare_request`` does; native output is
        always strict on Bedrock.

        Raises:
            UserError: native output on a model without structured output.
        """
        if params.output_tools and params.output_mode != "tool":
            params = attrs.evolve(params, output_tools=[])
        if params.output_object is not None and params.output_mode not in ("native", "prompted"):
            params = attrs.evolve(params, output_object=None)
        if params.output_mode == "native":
            if not self.profile.json_schema_output:
                raise UserError("Native structured output is not supported by this model.")
            if params.output_object is not None:
                params = attrs.evolve(params, output_object=attrs.evolve(params.output_object, strict=True))
        return params

    def _prepared_settings(self, settings: ModelSettings, params: ModelRequestParameters) -> ModelSettings:
        return prepare_settings(self._model_name, settings, params, self.profile)

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        """The signed Converse request (SigV4 over the exact bytes, or the bearer token).

        Raises:
            UserError: see :func:`build_converse_request`.
        """
        settings = self._prepared_settings(settings, params)
        body = encode_body(build_converse_request(self._model_name, messages, settings, params, self.profile))
        model_id = cast(Mapping[str, Any], settings).get("bedrock_inference_profile") or self._model_name
        url = converse_url(self.aws.endpoint_url, validate_model_id(str(model_id)), stream=stream)
        return self._signed(
            url, body, settings, accept=EVENTSTREAM_MEDIA_TYPE if stream else "application/json"
        )

    def build_count_tokens_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
    ) -> _http.HTTPRequest:
        """The signed CountTokens request (``POST {endpoint}/model/{modelId}/count-tokens``) for what
        :meth:`build_request` would send, as 2.68 builds it: the Converse request's ``messages``, ``system``,
        ``toolConfig`` and ``additionalModelRequestFields`` under ``input.converse``, for the model id
        without its cross-region prefix (``us.``, ``eu.``...). Bedrock counts for a few models only (Claude).

        Raises:
            UserError: see :func:`build_converse_request`.
        """
        settings = self._prepared_settings(settings, params)
        converse = build_converse_request(self._model_name, messages, settings, params, self.profile)
        counted = {key: converse[key] for key in COUNT_TOKENS_FIELDS if key in converse}
        model_id = validate_model_id(remove_geo_prefix(self._model_name))
        url = count_tokens_url(self.aws.endpoint_url, model_id)
        return self._signed(
            url, encode_body({"input": {"converse": counted}}), settings, accept="application/json"
        )

    def parse_count_tokens(self, body: bytes, headers: Mapping[str, str]) -> RequestUsage:
        """``{"inputTokens": N}`` → ``RequestUsage(input_tokens=N)``.

        Raises:
            UnexpectedModelBehavior: the body is not such an object; the message quotes it.
        """
        return parse_token_count(body, "the Bedrock CountTokens endpoint", "inputTokens")

    def _signed(self, url: str, body: bytes, settings: ModelSettings, *, accept: str) -> _http.HTTPRequest:
        """A POST of ``body`` to ``url`` with the ``extra_headers`` setting, authenticated by the bearer
        token or a SigV4 signature over the exact bytes, and 2.68's botocore timeouts unless a setting
        gives one.

        Raises:
            UserError: SigV4 credentials from botocore's chain have not been looked up yet.
        """
        headers: dict[str, str] = {"content-type": "application/json", "accept": accept}
        for name, value in (settings.get("extra_headers") or {}).items():
            if name.lower() not in ("authorization", "host", "x-amz-date", "x-amz-security-token"):
                headers[name] = value
        if self.aws.bearer_token is not None:
            headers["authorization"] = f"Bearer {self.aws.bearer_token}"
        else:
            credentials = self.aws.credentials
            if credentials is None and self.aws.credential_source is not None:
                credentials = self.aws.credential_source.current
            if credentials is None:
                raise UserError(
                    "the AWS credentials have not been looked up yet: send requests through "
                    "request() / request_stream(), which look them up first"
                )
            headers.update(
                sign_request(
                    method="POST",
                    url=url,
                    headers=headers,
                    body=body,
                    credentials=credentials,
                    region=self.aws.region,
                    service=SIGNING_SERVICE,
                    now=datetime.datetime.now(datetime.UTC),
                )
            )
        # The user agent is not signed (proxies rewrite it), so it goes on after signing.
        headers["user-agent"] = USER_AGENT
        timeout = None
        if settings.get("timeout") is None and settings.get("stream_inactivity_timeout") is None:
            # 2.68's botocore limits (AWS_READ_TIMEOUT / AWS_CONNECT_TIMEOUT); a `timeout` setting wins.
            timeout = httpx.Timeout(self._timeouts["read"], connect=self._timeouts["connect"], pool=None)
        return _http.HTTPRequest(url, body, headers, timeout=timeout)

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
        try:
            response = parse_converse_response(
                data,
                model_name=self._model_name,
                provider_url=self.aws.endpoint_url,
                profile=self.profile,
                response_id=headers.get("x-amzn-requestid"),
            )
        except SHAPE_ERRORS as exc:
            text = body.decode("utf-8", "replace")
            raise UnexpectedModelBehavior(
                f"Invalid response from Bedrock Converse: {type(exc).__name__}: {exc}",
                text if len(text) <= 4000 else text[:4000] + "...(truncated)",
            ) from None
        # the Pydantic AI Gateway's cost travels in a header (the Converse body has no place for it)
        if (cost := gateway_header_cost(headers)) is not None:
            response.usage.cost = cost
        return response

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> Any:
        """Not an SSE API: see :meth:`event_stream_mapper`.

        Raises:
            NotImplementedError: always.
        """
        raise NotImplementedError("Bedrock streams are AWS event streams; use event_stream_mapper")

    def event_stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> ConverseStreamMapper:
        """A fresh mapper for one ConverseStream body (pure)."""
        del params, settings
        return ConverseStreamMapper(
            parts, model_name=self._model_name, provider_url=self.aws.endpoint_url, profile=self.profile
        )

    http_error = staticmethod(http_error)

    def _secrets(self) -> tuple[str, ...]:
        return self.aws.secrets()

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """Send one Converse request.

        Claude models asked for no ``max_tokens`` get their full output budget, which can take longer than
        the read timeout to generate: as 2.68, such a request is streamed behind the scenes and collected.

        Raises:
            ModelHTTPError: a 4xx/5xx (categorized as 2.68 does).
            ModelConnectionError: the endpoint could not be reached.
            UnexpectedModelBehavior: the reply could not be understood.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        if self.aws.credential_source is not None:
            await self.aws.credential_source.get()
        settings, _ = self.prepare_request(model_settings, model_request_parameters)
        if self.profile.max_output_tokens and not settings.get("max_tokens"):
            async with self.request_stream(messages, model_settings, model_request_parameters) as stream:
                async for _ in stream:
                    pass
                return stream.get()
        try:
            return await super().request(messages, model_settings, model_request_parameters)
        except TrioDirectError as exc:
            _http.redact_error(exc, self._secrets())
            raise

    async def count_tokens(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> RequestUsage:
        """Count a request's input tokens with Bedrock's CountTokens API (see
        :meth:`build_count_tokens_request`); credentials from botocore's chain are looked up first.

        Raises:
            ModelHTTPError: a 4xx/5xx, categorized as for :meth:`request` (a model that cannot count
                answers a ``ValidationException``).
            ModelConnectionError: the endpoint could not be reached.
            UnexpectedModelBehavior: the reply has no ``inputTokens``.
            UserError: the request cannot be built.

        Cancellation:
            Safe at any point; the connection is discarded.
        """
        if self.aws.credential_source is not None:
            await self.aws.credential_source.get()
        try:
            return await super().count_tokens(messages, model_settings, model_request_parameters)
        except TrioDirectError as exc:
            _http.redact_error(exc, self._secrets())
            raise

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        source = self.aws.credential_source
        if source is not None:
            return AfterLookup(
                source.get, lambda: self._open_stream(messages, model_settings, model_request_parameters)
            )
        return self._open_stream(messages, model_settings, model_request_parameters)

    def _open_stream(
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
        mapper = self.event_stream_mapper(params, parts, settings)
        source = EventStreamSource(
            request,
            mapper,
            parts,
            model_name=self._model_name,
            error_builder=self.http_error,
            secrets=self._secrets(),
        )
        return open_event_stream(source, params)


def from_gateway_name(name: str, prefix: str) -> BedrockConverseModel:
    """The registry factory for ``'gateway/bedrock:<model id>'`` and ``'gateway/converse:<model id>'``: the
    Converse API at the Pydantic AI Gateway's ``/bedrock`` route, the Gateway key as ``Authorization:
    Bearer`` instead of a SigV4 signature; no AWS credentials, region or config files are read (the region
    is 2.68's placeholder, ``pydantic-ai-gateway``). See :mod:`trio_direct.models._gateway`.

    The key goes over HTTPS only, as botocore sends it, or over plain HTTP to this machine (a local
    gateway), where 2.68 refuses.

    Raises:
        UserError: the model id is empty or cannot be one, ``PYDANTIC_AI_GATEWAY_API_KEY`` is not set, no
            base URL can be found, or the base URL is plain HTTP to another machine.
    """
    if not name:
        raise UserError(f"a Bedrock model id is needed: '{prefix}:us.amazon.nova-micro-v1:0'")
    gateway = resolve_gateway(prefix)
    config = AWSConfig(
        region=GATEWAY_REGION,
        endpoint_url=gateway.base_url,
        bearer_token=gateway.api_key,
        source="the Pydantic AI Gateway key",
        bearer_over_loopback_http=True,
    )
    return BedrockConverseModel(name, config=config)


def from_name(name: str, prefix: str) -> BedrockConverseModel:
    """The registry factory for ``'bedrock:<model id>'``: credentials, region and endpoint from the
    environment and the AWS config files."""
    del prefix
    if not name:
        raise UserError("a Bedrock model id is needed: 'bedrock:us.amazon.nova-micro-v1:0'")
    return BedrockConverseModel(name)


_show_public_module(globals(), __all__, __name__)
