"""The one registry: model-name prefix → how to build the model.

A row is either a :class:`Dialect` (``"module:factory"``, a module of its own that speaks a wire
protocol: Anthropic Messages, Gemini, Mistral...) or a :class:`ChatHost` (a server that speaks OpenAI
Chat Completions: data only — base URL, environment variables, profile quirks — built by
:func:`trio_direct.models.openai.from_host`). Modules are imported on first use, so
``import trio_direct`` stays cheap. Pure apart from reading the environment; no I/O.

Adding a provider
-----------------
* **An OpenAI-compatible host** is one row in :data:`_ROUTES` (or, from user code, one
  ``register_prefix('myhost', ChatHost(...))`` call)::

      "acme": ChatHost(name="acme", base_url="https://api.acme.ai/v1", env="ACME", profile=generic_profile),

  ``env="ACME"`` means the key comes from ``ACME_API_KEY`` and an override URL from ``ACME_BASE_URL``.
  ``profile`` builds the :class:`~trio_direct.models._chat_profile.ChatProfile` for a model name (write
  a new ``*_profile`` function in :mod:`._chat_profile` when the host has quirks). ``api='responses'``
  puts the row on the Responses dialect; ``resolve=`` takes a function for an endpoint that is more
  than a base URL and a bearer key (Azure, Snowflake, the Gateway). :data:`KnownModelName` is
  pydantic-ai 2.68's list (:mod:`._known_names`); any name with a registered prefix works.
* **A new dialect** is one module under ``trio_direct/models/`` built on the shared layer
  (:mod:`._json`, :mod:`._common`, :mod:`._instructions`, :mod:`._tool_choice`, and :mod:`._chat` if it
  is a Chat Completions variant) with pure request/response/stream functions, a thin
  :class:`~trio_direct.models.base.HTTPModel` subclass and a ``from_name(model_name, prefix)`` factory;
  then one ``Dialect("trio_direct.models.<module>:from_name")`` row here. It never imports another
  provider module (``tests/test_architecture.py`` checks).
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Callable
from typing import Final, Literal, TypeAlias, cast
from urllib.parse import quote, urlsplit

import attrs

from ..exceptions import UserError
from ._bearer import BearerTokenSource, TokenProvider
from ._chat_profile import (
    ChatProfile,
    azure_profile,
    cerebras_profile,
    crusoe_profile,
    deepseek_profile,
    fireworks_profile,
    generic_profile,
    github_profile,
    heroku_profile,
    moonshotai_profile,
    ollama_profile,
    openai_model_profile,
    openrouter_profile,
    sambanova_profile,
    snowflake_profile,
    vllm_profile,
    zai_profile,
)
from ._common import PLACEHOLDER_API_KEY, env_value
from ._gateway import resolve_gateway
from ._known_names import KnownModelName
from .base import Model, Provider

__all__ = [
    "CHAT_HOST_FACTORY",
    "OPENAI_HOST",
    "ChatHost",
    "Dialect",
    "KnownModelName",
    "Unavailable",
    "azure_model",
    "chat_host",
    "dialect_modules",
    "infer_model",
    "known_model_names",
    "known_prefixes",
    "register_prefix",
    "suggest_model",
    "unavailable_prefixes",
]


#: The factory that builds a model for a :class:`ChatHost` row speaking Chat Completions.
CHAT_HOST_FACTORY: Final = "trio_direct.models.openai:from_host"
#: The factory that builds a model for a :class:`ChatHost` row speaking the Responses API.
RESPONSES_HOST_FACTORY: Final = "trio_direct.models.openai_responses:from_host"
#: The endpoint path after the base URL, per API.
DEFAULT_PATHS: Final[dict[str, str]] = {"chat": "chat/completions", "responses": "responses"}

HostAPI: TypeAlias = Literal["chat", "responses"]


@attrs.frozen(slots=True)
class Dialect:
    """A registry row for a provider module: ``"module:factory"``, the factory called as
    ``factory(model_name, prefix)`` (it reads the environment and raises :class:`UserError` for a
    missing key)."""

    target: str

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]


@attrs.frozen(slots=True)
class Unavailable:
    """A registry row for a prefix pydantic-ai 2.68 knows that trio_direct deliberately does not serve:
    resolving it raises :class:`UserError` with ``reason``. Not in :func:`known_prefixes`."""

    reason: str


@attrs.frozen(slots=True, kw_only=True)
class ChatHost:
    """A registry row for a server that speaks OpenAI Chat Completions: data only.

    Args:
        name: the provider name models report (``ModelResponse.provider_name``).
        base_url: the default base URL; None when the user must give one (``<ENV>_BASE_URL``).
        env: the prefix of the ``<ENV>_API_KEY`` and ``<ENV>_BASE_URL`` variables.
        profile: builds the model's :class:`ChatProfile` from its name (the host's quirks).
        api: ``'chat'`` (Chat Completions) or ``'responses'`` (the Responses API).
        key_var: the key variable when it is not ``<ENV>_API_KEY`` (``HEROKU_INFERENCE_KEY``).
        url_var: the base URL variable when it is not ``<ENV>_BASE_URL``.
        resolve: the row's own endpoint resolution, for hosts whose URL, path or authentication is
            more than a base URL and a bearer key (Azure deployments, Snowflake accounts, the Gateway).
        key_required: a missing key is an error (False for local servers, which get a placeholder).
        keyless_with_base_url: a key may be missing when ``<ENV>_BASE_URL`` is set (as the OpenAI SDK
            allows for a self-hosted server).
        headers: headers every request carries.
        alt_key_envs: more variables tried, in order, when ``<ENV>_API_KEY`` is unset.
        header_envs: ``(variable, header)`` pairs: the header is sent when the variable is set.
        canonical_system: ``ModelResponse.canonical_system`` (``'openai'`` for OpenAI itself).
    """

    name: str
    base_url: str | None
    env: str
    profile: Callable[[str], ChatProfile]
    key_required: bool = True
    keyless_with_base_url: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    alt_key_envs: tuple[str, ...] = ()
    header_envs: tuple[tuple[str, str], ...] = ()
    canonical_system: str | None = None
    api: HostAPI = "chat"
    key_var: str | None = None
    url_var: str | None = None
    resolve: Callable[[ChatHost, str, str], tuple[Provider, str]] | None = None

    @property
    def key_env(self) -> str:
        return self.key_var or f"{self.env}_API_KEY"

    @property
    def url_env(self) -> str:
        return self.url_var or f"{self.env}_BASE_URL"

    @property
    def factory(self) -> str:
        """The ``module:factory`` that builds this row's models."""
        return RESPONSES_HOST_FACTORY if self.api == "responses" else CHAT_HOST_FACTORY

    def endpoint(self, prefix: str, model_name: str) -> tuple[Provider, str]:
        """The :class:`Provider` and the path after its base URL for ``model_name``, from the environment.

        Raises:
            UserError: a key, base URL or other setting the host needs is missing (naming the variable).
        """
        if self.resolve is not None:
            return self.resolve(self, prefix, model_name)
        return self.provider(prefix), DEFAULT_PATHS[self.api]

    def provider(self, prefix: str) -> Provider:
        """The :class:`Provider` for this host from the environment.

        Raises:
            UserError: the API key is missing (naming the variable), or a host without a default has
                no base URL.
        """
        base_url = env_value(self.url_env)
        api_key = env_value(self.key_env) or next(
            (key for var in self.alt_key_envs if (key := env_value(var))), None
        )
        if base_url is None:
            if self.base_url is None:
                raise UserError(
                    f"Set the `{self.url_env}` environment variable to the server's base URL "
                    f"(for example http://localhost:8000/v1) to use the {prefix!r} provider."
                )
            base_url = self.base_url
        if api_key is None:
            keyless = not self.key_required or (
                self.keyless_with_base_url and env_value(self.url_env) is not None
            )
            if not keyless:
                raise UserError(
                    f"Set the `{self.key_env}` environment variable or pass `api_key` to use the "
                    f"{self.name!r} provider."
                )
            api_key = PLACEHOLDER_API_KEY
        extra = dict(self.headers)
        for var, header in self.header_envs:
            if value := env_value(var):
                extra[header] = value
        return Provider(self.name, base_url, api_key, extra)


#: OpenAI itself; :mod:`trio_direct.models.openai_responses` reaches the same account.
OPENAI_HOST: Final = ChatHost(
    name="openai",
    base_url="https://api.openai.com/v1",
    env="OPENAI",
    profile=openai_model_profile,
    keyless_with_base_url=True,
    header_envs=(("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")),
    canonical_system="openai",
)


def _require(var: str, what: str, prefix: str) -> str:
    value = env_value(var)
    if value is None:
        raise UserError(f"Set the `{var}` environment variable ({what}) to use the {prefix!r} provider.")
    return value


def _azure_v1_base(endpoint: str) -> str | None:
    """The OpenAI-compatible ``/v1`` base URL an Azure endpoint serves, or None for a resource endpoint
    that takes ``api-version`` (2.68: a path ending in ``/v1``, or a ``*.models.ai.azure.com`` host)."""
    stripped = endpoint.rstrip("/")
    if stripped.endswith("/v1"):
        return stripped
    if (urlsplit(stripped).hostname or "").endswith(".models.ai.azure.com"):
        return stripped + "/v1"
    return None


def _azure_endpoint(host: ChatHost, prefix: str, model_name: str) -> tuple[Provider, str]:
    """Azure OpenAI from the environment, as 2.68's ``AzureProvider`` with the ``openai`` SDK reaches it
    (see :func:`_azure_resolve`)."""
    return _azure_resolve(host, prefix, model_name)


def _azure_resolve(
    host: ChatHost,
    prefix: str,
    model_name: str,
    *,
    endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    azure_ad_token: str | None = None,
    azure_ad_token_provider: TokenProvider | None = None,
) -> tuple[Provider, str]:
    """Azure OpenAI, as 2.68's ``AzureProvider`` with the ``openai`` SDK's ``AsyncAzureOpenAI`` reaches it.

    The endpoint is ``endpoint`` or ``AZURE_OPENAI_ENDPOINT``. A v1 endpoint (``…/openai/v1``, or an AI
    Foundry ``*.models.ai.azure.com`` host) is an OpenAI-compatible base URL with no ``api-version``; a
    resource endpoint takes ``api_version`` (or ``OPENAI_API_VERSION``) as the ``api-version`` query and
    Chat Completions per deployment (``/openai/deployments/{model}/chat/completions``).

    Credentials, at most one given: a resource key (``api_key``) goes in the ``api-key`` header (as a
    bearer key on a v1 endpoint); a Microsoft Entra ID token (``azure_ad_token``) or token provider
    (``azure_ad_token_provider``, asked before every request) goes in ``Authorization: Bearer``. With none
    given: ``AZURE_OPENAI_API_KEY`` (what 2.68 reads), else ``AZURE_OPENAI_AD_TOKEN`` (what the SDK reads).

    Raises:
        UserError: no endpoint, no credential, more than one credential, or a resource endpoint without
            an API version; each message names what to set.
    """
    given = [c for c in (api_key, azure_ad_token, azure_ad_token_provider) if c is not None]
    if len(given) > 1:
        raise UserError(
            "`api_key`, `azure_ad_token` and `azure_ad_token_provider` are mutually exclusive: pass one."
        )
    endpoint = endpoint or _require(
        "AZURE_OPENAI_ENDPOINT", "your resource endpoint, https://<resource>.openai.azure.com", prefix
    )
    token: BearerTokenSource | None = None
    if azure_ad_token_provider is not None:
        token = BearerTokenSource(provider=azure_ad_token_provider, what="azure_ad_token_provider")
    elif azure_ad_token is not None:
        token = BearerTokenSource(token=azure_ad_token, what="azure_ad_token")
    elif api_key is None:
        api_key = env_value(host.key_env)
        if api_key is None and (env_token := env_value("AZURE_OPENAI_AD_TOKEN")) is not None:
            token = BearerTokenSource(token=env_token, what="AZURE_OPENAI_AD_TOKEN")
        elif api_key is None:
            raise UserError(
                f"Set the `{host.key_env}` environment variable (the resource key) or "
                "`AZURE_OPENAI_AD_TOKEN` (a Microsoft Entra ID token), or pass `api_key`, `azure_ad_token` "
                f"or `azure_ad_token_provider` to `azure_model`, to use the {prefix!r} provider."
            )
    path = DEFAULT_PATHS[host.api]
    if (v1 := _azure_v1_base(endpoint)) is not None:
        return Provider(host.name, v1, api_key, token=token), path
    version = api_version or env_value("OPENAI_API_VERSION")
    if version is None:
        raise UserError(
            "Set the `OPENAI_API_VERSION` environment variable (for example 2024-10-21) to use the "
            f"{prefix!r} provider with a resource endpoint, or set `AZURE_OPENAI_ENDPOINT` to the v1 API "
            "(https://<resource>.openai.azure.com/openai/v1), which takes none."
        )
    base = endpoint.rstrip("/") + "/openai"
    if host.api == "chat":
        path = f"deployments/{quote(model_name, safe='')}/{path}"
    query = f"?api-version={quote(version, safe='')}"
    # a resource key goes in `api-key`, not `Authorization` (no `api_key` on the Provider); an Entra ID
    # token goes in `Authorization: Bearer`, asked for per request
    headers = {} if api_key is None else {"api-key": api_key}
    return Provider(host.name, base, None, headers, token=token), path + query


def azure_model(
    model_name: str,
    *,
    api: HostAPI = "chat",
    azure_endpoint: str | None = None,
    api_version: str | None = None,
    api_key: str | None = None,
    azure_ad_token: str | None = None,
    azure_ad_token_provider: TokenProvider | None = None,
) -> Model:
    """An Azure OpenAI model with explicit configuration: what 2.68's ``AzureProvider(azure_endpoint=...,
    api_version=..., api_key=...)`` or ``AzureProvider(openai_client=AsyncAzureOpenAI(...,
    azure_ad_token_provider=...))`` reaches; ``'azure:<deployment>'`` reads the same from the environment.

    Microsoft Entra ID: pass ``azure_ad_token_provider``, a callable returning a bearer token, asked before
    every request (streams: when they open); a sync callable runs in a worker thread, so it may do
    blocking I/O; an async one is awaited. With ``azure-identity``::

        from azure.identity import DefaultAzureCredential, get_bearer_token_provider
        token_provider = get_bearer_token_provider(
            DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default"
        )
        model = azure_model("my-deployment", azure_ad_token_provider=token_provider)

    Args:
        model_name: the deployment (resource endpoint) or model (v1 endpoint).
        api: ``'chat'`` (Chat Completions, ``azure:``) or ``'responses'`` (``azure-responses:``).
        azure_endpoint: default ``AZURE_OPENAI_ENDPOINT``.
        api_version: default ``OPENAI_API_VERSION``; not used on a v1 endpoint.
        api_key: the resource key.
        azure_ad_token: a fixed Microsoft Entra ID token.
        azure_ad_token_provider: a callable returning a Microsoft Entra ID token.

    Raises:
        UserError: as :func:`_azure_resolve`; ``api`` is neither ``'chat'`` nor ``'responses'``; the model
            name is empty. No I/O.
    """
    prefix = {"chat": "azure", "responses": "azure-responses"}.get(api)
    if prefix is None:
        raise UserError(f"`api` is 'chat' or 'responses', got {api!r}")
    host = _ROUTES[prefix]
    assert isinstance(host, ChatHost)
    resolved = _azure_resolve(
        host,
        prefix,
        model_name,
        endpoint=azure_endpoint,
        api_version=api_version,
        api_key=api_key,
        azure_ad_token=azure_ad_token,
        azure_ad_token_provider=azure_ad_token_provider,
    )

    def already_resolved(_host: ChatHost, _prefix: str, _name: str) -> tuple[Provider, str]:
        return resolved

    row = attrs.evolve(host, resolve=already_resolved)
    from_host = cast("Callable[[ChatHost, str, str], Model]", _load(row.factory))
    return from_host(row, model_name, prefix)


_SNOWFLAKE_ACCOUNT = re.compile(r"[A-Za-z0-9._-]+")


def _snowflake_endpoint(host: ChatHost, prefix: str, model_name: str) -> tuple[Provider, str]:
    """Snowflake Cortex: ``SNOWFLAKE_TOKEN``; ``SNOWFLAKE_BASE_URL``, else the account's URL from
    ``SNOWFLAKE_ACCOUNT`` (a bare identifier, validated so it cannot redirect the key, as 2.68)."""
    base = env_value(host.url_env)
    if base is None:
        account = _require("SNOWFLAKE_ACCOUNT", f"your account identifier, or {host.url_env}", prefix)
        account = account.removeprefix("https://").removeprefix("http://").removesuffix("/")
        account = account.removesuffix(".snowflakecomputing.com")
        if not _SNOWFLAKE_ACCOUNT.fullmatch(account):
            raise UserError(
                f"Invalid Snowflake account identifier {account!r} in SNOWFLAKE_ACCOUNT: use a bare "
                f"identifier like myorg-myaccount, or set {host.url_env} to a custom endpoint."
            )
        base = f"https://{account}.snowflakecomputing.com/api/v2/cortex/v1"
    api_key = _require(host.key_env, "a programmatic access token", prefix)
    return Provider(host.name, base, api_key), DEFAULT_PATHS[host.api]


def _heroku_endpoint(host: ChatHost, prefix: str, model_name: str) -> tuple[Provider, str]:
    """Heroku Managed Inference: ``HEROKU_INFERENCE_KEY``; ``HEROKU_INFERENCE_URL`` (the add-on's URL,
    ``/v1`` added unless present), else ``https://us.inference.heroku.com``."""
    base = (env_value(host.url_env) or "https://us.inference.heroku.com").rstrip("/")
    if not base.endswith("/v1"):
        base += "/v1"
    api_key = _require(host.key_env, "the add-on's inference key", prefix)
    return Provider(host.name, base, api_key), DEFAULT_PATHS[host.api]


def _gateway_endpoint(host: ChatHost, prefix: str, model_name: str) -> tuple[Provider, str]:
    """The Pydantic AI Gateway's OpenAI route (:mod:`._gateway`: ``PYDANTIC_AI_GATEWAY_API_KEY`` as a bearer
    key, ``PYDANTIC_AI_GATEWAY_BASE_URL`` or the key's region, then ``/openai``)."""
    endpoint = resolve_gateway(prefix)
    return Provider(host.name, endpoint.base_url, endpoint.api_key), DEFAULT_PATHS[host.api]


def _github_endpoint(host: ChatHost, prefix: str, model_name: str) -> tuple[Provider, str]:
    """GitHub Models, retired on 2026-07-30: still resolved as 2.68 does, with its deprecation warning."""
    warnings.warn(
        "The 'github' provider is deprecated: GitHub Models was retired on 2026-07-30, so its inference "
        "API is no longer available. See https://docs.github.com/en/github-models.",
        DeprecationWarning,
        stacklevel=5,
    )
    return host.provider(prefix), DEFAULT_PATHS[host.api]


def _azure_host(api: HostAPI) -> ChatHost:
    return ChatHost(
        name="azure",
        base_url=None,
        env="AZURE_OPENAI",
        profile=azure_profile,
        api=api,
        url_var="AZURE_OPENAI_ENDPOINT",
        resolve=_azure_endpoint,
    )


def _gateway_host(api: HostAPI) -> ChatHost:
    return ChatHost(
        name="openai",
        base_url=None,
        env="PYDANTIC_AI_GATEWAY",
        profile=openai_model_profile,
        api=api,
        resolve=_gateway_endpoint,
    )


#: prefix → row. Order does not matter; prefixes are unique.
_ROUTES: dict[str, Dialect | ChatHost] = {
    "test": Dialect("trio_direct.models.test:from_name"),
    "anthropic": Dialect("trio_direct.models.anthropic:from_name"),
    "groq": Dialect("trio_direct.models.groq:from_name"),
    "openai-responses": Dialect("trio_direct.models.openai_responses:from_name"),
    "google-gla": Dialect("trio_direct.models.google:from_name"),
    "gemini": Dialect("trio_direct.models.google:from_name"),
    "google": Dialect("trio_direct.models.google:from_name"),
    "google-cloud": Dialect("trio_direct.models.google:from_cloud_name"),
    "mistral": Dialect("trio_direct.models.mistral:from_name"),
    "cohere": Dialect("trio_direct.models.cohere:from_name"),
    "bedrock": Dialect("trio_direct.models.bedrock:from_name"),
    "huggingface": Dialect("trio_direct.models.huggingface:from_name"),
    "bedrock-mantle": Dialect("trio_direct.models.openai_responses:from_mantle_name"),
    "xai": Dialect("trio_direct.models.openai_responses:from_xai_name"),
    # OpenAI Chat Completions and the servers that speak it
    "openai": OPENAI_HOST,
    "openai-chat": OPENAI_HOST,
    "deepseek": ChatHost(
        name="deepseek", base_url="https://api.deepseek.com", env="DEEPSEEK", profile=deepseek_profile
    ),
    "deepseek-responses": ChatHost(
        name="deepseek",
        base_url="https://api.deepseek.com",
        env="DEEPSEEK",
        profile=deepseek_profile,
        api="responses",
    ),
    "openrouter-responses": ChatHost(
        name="openrouter",
        base_url="https://openrouter.ai/api/v1",
        env="OPENROUTER",
        profile=openrouter_profile,
        header_envs=(("OPENROUTER_APP_URL", "HTTP-Referer"), ("OPENROUTER_APP_TITLE", "X-Title")),
        api="responses",
    ),
    "azure": _azure_host("chat"),
    "azure-responses": _azure_host("responses"),
    "zai": ChatHost(name="zai", base_url="https://api.z.ai/api/paas/v4", env="ZAI", profile=zai_profile),
    "crusoe": ChatHost(
        name="crusoe",
        base_url="https://api.inference.crusoecloud.com/v1",
        env="CRUSOE",
        profile=crusoe_profile,
    ),
    "snowflake": ChatHost(
        name="snowflake",
        base_url=None,
        env="SNOWFLAKE",
        profile=snowflake_profile,
        key_var="SNOWFLAKE_TOKEN",
        resolve=_snowflake_endpoint,
    ),
    "heroku": ChatHost(
        name="heroku",
        base_url="https://us.inference.heroku.com/v1",
        env="HEROKU",
        profile=heroku_profile,
        key_var="HEROKU_INFERENCE_KEY",
        url_var="HEROKU_INFERENCE_URL",
        resolve=_heroku_endpoint,
    ),
    "moonshotai": ChatHost(
        name="moonshotai", base_url="https://api.moonshot.ai/v1", env="MOONSHOTAI", profile=moonshotai_profile
    ),
    "alibaba": ChatHost(
        name="alibaba",
        base_url="https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        env="ALIBABA",
        profile=generic_profile,
        alt_key_envs=("DASHSCOPE_API_KEY",),
    ),
    "github": ChatHost(
        name="github",
        base_url="https://models.github.ai/inference",
        env="GITHUB",
        profile=github_profile,
        resolve=_github_endpoint,
    ),
    "litellm": ChatHost(
        name="litellm", base_url=None, env="LITELLM", profile=generic_profile, key_required=False
    ),
    "nebius": ChatHost(
        name="nebius", base_url="https://api.studio.nebius.com/v1", env="NEBIUS", profile=generic_profile
    ),
    "ovhcloud": ChatHost(
        name="ovhcloud",
        base_url="https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        env="OVHCLOUD",
        profile=generic_profile,
    ),
    "sambanova": ChatHost(
        name="sambanova", base_url="https://api.sambanova.ai/v1", env="SAMBANOVA", profile=sambanova_profile
    ),
    "vercel": ChatHost(
        name="vercel",
        base_url="https://ai-gateway.vercel.sh/v1",
        env="VERCEL",
        profile=generic_profile,
        key_var="VERCEL_AI_GATEWAY_API_KEY",
        alt_key_envs=("VERCEL_OIDC_TOKEN",),
        headers=(("http-referer", "https://pydantic.dev/docs/ai/"), ("x-title", "pydantic-ai")),
    ),
    "vllm": ChatHost(name="vllm", base_url=None, env="VLLM", profile=vllm_profile, key_required=False),
    # Meta's API serves its reasoning and `phase` only through the Responses API (2.68)
    "meta": ChatHost(
        name="meta", base_url="https://api.meta.ai/v1", env="META", profile=generic_profile, api="responses"
    ),
    # the Pydantic AI Gateway (models/_gateway.py): its OpenAI route (`gateway/openai` is Chat, as
    # `openai:` is here), and each other upstream's dialect in gateway mode
    "gateway/anthropic": Dialect("trio_direct.models.anthropic:from_gateway_name"),
    "gateway/groq": Dialect("trio_direct.models.groq:from_gateway_name"),
    "gateway/google": Dialect("trio_direct.models.google:from_gateway_name"),
    "gateway/google-cloud": Dialect("trio_direct.models.google:from_gateway_name"),
    "gateway/bedrock": Dialect("trio_direct.models.bedrock:from_gateway_name"),
    "gateway/converse": Dialect("trio_direct.models.bedrock:from_gateway_name"),
    "gateway/openai": _gateway_host("chat"),
    "gateway/openai-chat": _gateway_host("chat"),
    "gateway/chat": _gateway_host("chat"),
    "gateway/openai-responses": _gateway_host("responses"),
    "gateway/responses": _gateway_host("responses"),
    "openrouter": ChatHost(
        name="openrouter",
        base_url="https://openrouter.ai/api/v1",
        env="OPENROUTER",
        profile=openrouter_profile,
        header_envs=(("OPENROUTER_APP_URL", "HTTP-Referer"), ("OPENROUTER_APP_TITLE", "X-Title")),
    ),
    "together": ChatHost(
        name="together", base_url="https://api.together.xyz/v1", env="TOGETHER", profile=generic_profile
    ),
    "fireworks": ChatHost(
        name="fireworks",
        base_url="https://api.fireworks.ai/inference/v1",
        env="FIREWORKS",
        profile=fireworks_profile,
    ),
    "cerebras": ChatHost(
        name="cerebras",
        base_url="https://api.cerebras.ai/v1",
        env="CEREBRAS",
        profile=cerebras_profile,
        headers=(("X-Cerebras-3rd-Party-Integration", "pydantic-ai"),),
    ),
    "grok": ChatHost(
        name="grok",
        base_url="https://api.x.ai/v1",
        env="GROK",
        profile=generic_profile,
        alt_key_envs=("XAI_API_KEY",),
    ),
    "ollama": ChatHost(
        name="ollama",
        base_url="http://localhost:11434/v1",
        env="OLLAMA",
        profile=ollama_profile,
        key_required=False,
    ),
    "openai-compatible": ChatHost(
        name="openai-compatible",
        base_url=None,
        env="OPENAI_COMPATIBLE",
        profile=generic_profile,
        key_required=False,
    ),
}


_LOGIN = (
    "it authenticates through a subscription login flow (OAuth device/browser sign-in and token refresh), "
    "which trio_direct does not implement; use an API key with the matching API-key provider instead"
)
_DECISIONS = (
    "it serves decision models (answers to choice/score questions), not chat models, and trio_direct "
    "implements only the direct chat API"
)
#: prefixes pydantic-ai 2.68 knows that trio_direct deliberately leaves out, and why (never in
#: :func:`known_prefixes`; a row registered in :data:`_ROUTES` under the same prefix wins)
_UNAVAILABLE: Final[dict[str, Unavailable]] = {
    "openai-codex": Unavailable(_LOGIN + " ('openai-responses:')"),
    "openai-chatgpt": Unavailable(_LOGIN + " ('openai-responses:')"),
    "github-copilot": Unavailable(_LOGIN),
    "typesafe": Unavailable(_DECISIONS),
    "openai-decisions": Unavailable(_DECISIONS),
    "google-decisions": Unavailable(_DECISIONS),
    "system-one": Unavailable(_DECISIONS),
}


def unavailable_prefixes() -> dict[str, str]:
    """The prefixes pydantic-ai 2.68 knows that trio_direct leaves out, each with the reason."""
    return {p: row.reason for p, row in sorted(_UNAVAILABLE.items()) if p not in _ROUTES}


def _load(target: str) -> Callable[..., object]:
    """The callable ``"module:factory"`` names.

    Raises:
        UserError: the target is malformed, its module cannot be imported, or the name is missing or
            not callable; the message says what to pass instead.
    """
    module_name, sep, factory_name = target.partition(":")
    if not sep or not module_name or not factory_name or ":" in factory_name:
        raise UserError(
            f"registry target {target!r} is not 'module:factory' "
            "(for example 'trio_direct.models.openai:from_name'); "
            "pass a ChatHost(...) for an OpenAI-compatible server"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"registry target {target!r}: cannot import {module_name!r} ({exc})") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UserError(
            f"registry target {target!r}: {module_name!r} has no callable {factory_name!r}; "
            "a factory is called as factory(model_name, prefix) and returns a Model"
        )
    return factory  # type: ignore[no-any-return]


def register_prefix(prefix: str, target: str | Dialect | ChatHost) -> None:
    """Add (or replace) the registry row for ``prefix``.

    ``target`` is ``"module:factory"`` (or a :class:`Dialect`) for a provider module — the factory is
    called as ``factory(model_name, prefix)`` — or a :class:`ChatHost` for a server that speaks OpenAI
    Chat Completions. A string target is imported now, so a mistake surfaces here.

    Raises:
        UserError: the prefix is empty or contains ``':'``, or the target is not an importable
            callable. (``'trio_direct.models.openai:from_name'`` is importable, but builds only the
            hosts that have a :class:`ChatHost` row: ``infer_model`` then raises a UserError showing
            the row to register.)
    """
    if not isinstance(prefix, str) or not prefix or ":" in prefix:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"a registry prefix is a non-empty string without ':', got {prefix!r}")
    row: Dialect | ChatHost
    if isinstance(target, ChatHost | Dialect):
        row = target
    elif isinstance(target, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        row = Dialect(target)
    else:
        raise UserError(
            f"register_prefix({prefix!r}, ...) takes 'module:factory', a Dialect or a ChatHost, "
            f"got {type(target).__name__}"
        )
    if isinstance(row, Dialect):
        _load(row.target)
    _ROUTES[prefix] = row


def chat_host(prefix: str) -> ChatHost | None:
    """The :class:`ChatHost` row for ``prefix``, or None when it is not an OpenAI-compatible host."""
    row = _ROUTES.get(prefix)
    return row if isinstance(row, ChatHost) else None


def dialect_modules() -> list[str]:
    """The modules the registry names (each a provider module), sorted; the host factories' modules
    (Chat Completions and Responses) included."""
    modules = {row.module for row in _ROUTES.values() if isinstance(row, Dialect)}
    modules.add(CHAT_HOST_FACTORY.partition(":")[0])
    modules.add(RESPONSES_HOST_FACTORY.partition(":")[0])
    return sorted(modules)


def known_prefixes() -> list[str]:
    """Every provider prefix ``infer_model`` understands."""
    return sorted(_ROUTES)


def known_model_names() -> list[str]:
    """The names in :data:`KnownModelName` (any model name with a known prefix works too)."""
    return list(KnownModelName.__args__)  # type: ignore[attr-defined]


#: prefixes whose names :data:`KnownModelName` lists under another one (2.68 lists Gemini as ``google:``)
_NAME_NAMESPACES: Final = {"google-gla": "google", "gemini": "google"}


def suggest_model(prefix: str, model_name: str) -> str | None:
    """The known ``'<prefix>:<name>'`` closest to ``model_name``, for a 404 naming an unknown model."""
    import difflib  # only error messages use it; not paid at import

    prefix = _NAME_NAMESPACES.get(prefix, prefix)
    wanted = f"{prefix}:{model_name}"
    known = [n for n in known_model_names() if n.startswith(f"{prefix}:")]
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return close[0] if close and close[0] != wanted else None


def _suggest(name: str) -> str:
    """`` Did you mean '<model string>'?`` for a close, valid model string, else ``""``.

    A suggestion is always a string :func:`infer_model` resolves: a known model name close to what
    was typed (``gpt-4o`` → ``openai:gpt-4o``), or what was typed with its misspelt prefix corrected
    (``opnai:gpt-4o`` → ``openai:gpt-4o``). A bare prefix (``openai:``) is never suggested: it is not
    a model; nothing close enough means no suggestion (``nope``, ``nope:foo``).
    """
    found = _suggest_model_string(name, list(_ROUTES), known_model_names())
    return f" Did you mean {found!r}?" if found else ""


#: For a bare model name several prefixes serve, the one to suggest: the vendor's own API first, a
#: host or gateway reselling it after.
_SUGGESTION_ORDER: Final = ("openai", "anthropic", "google-gla", "google", "mistral", "groq", "cohere", "xai")


def _suggestion_rank(name: str) -> tuple[int, str]:
    prefix = name.partition(":")[0]
    order = _SUGGESTION_ORDER.index(prefix) if prefix in _SUGGESTION_ORDER else len(_SUGGESTION_ORDER)
    return (order + (1 if prefix.startswith("gateway/") else 0), name)


def _suggest_model_string(typed: str, prefixes: list[str], known: list[str]) -> str | None:
    """A valid model string close to ``typed`` (see :func:`_suggest`), or None. Pure."""
    import difflib  # only error messages use it; not paid at import

    prefix, colon, model = typed.partition(":")
    if typed.startswith("gateway") and (gateway := _suggest_gateway_name(typed, known)):
        return gateway
    if colon and model:
        close = difflib.get_close_matches(prefix, prefixes, n=1, cutoff=0.75)
        if close and close[0] != "test":
            return f"{close[0]}:{model}"
    if not colon:
        # a model name without its prefix: the known name it is (or is close to)
        by_model: dict[str, str] = {}
        for name in known:
            if ":" in name:
                model_part = name.partition(":")[2]
                current = by_model.get(model_part)
                if current is None or _suggestion_rank(name) < _suggestion_rank(current):
                    by_model[model_part] = name
        close = difflib.get_close_matches(typed, list(by_model), n=1, cutoff=0.8)
        return by_model[close[0]] if close else None
    if not model:
        return None  # 'prefix:' with nothing after it names no model to be close to
    close = difflib.get_close_matches(typed, known, n=1, cutoff=0.8)
    return close[0] if close else None


def _suggest_gateway_name(typed: str, known: list[str]) -> str | None:
    """A known ``gateway/<upstream>:<model>`` name for what was typed as a gateway name that is not
    one, as 2.68 suggests gateway names for them: ``gateway/anthropic-claude-…`` or
    ``gateway/anthropic/claude-…`` (the colon misplaced), ``gateway/claude-…`` or ``gateway:claude-…``
    (the upstream left out). A typed name whose ``gateway/<upstream>:`` prefix is only misspelt is left
    to the prefix correction, which keeps the model name as typed. Pure."""
    import difflib

    gateway_names = [n for n in known if n.startswith("gateway/") and ":" in n]
    prefix, colon, model = typed.partition(":")
    if colon and prefix != "gateway":
        return None
    if not colon:
        # the whole name with its colon read as a separator like the others typed in its place
        flat = {n.replace(":", "-", 1): n for n in gateway_names}
        flat.update({n.replace(":", "/", 1): n for n in gateway_names})
        close = difflib.get_close_matches(typed, list(flat), n=1, cutoff=0.9)
        if close:
            return flat[close[0]]
        model = typed.removeprefix("gateway").lstrip("/-")
    by_model: dict[str, str] = {}
    for name in sorted(gateway_names, key=_suggestion_rank):
        by_model.setdefault(name.partition(":")[2], name)
    close = difflib.get_close_matches(model, list(by_model), n=1, cutoff=0.8)
    return by_model[close[0]] if close else None


def infer_model(model: Model | KnownModelName | str) -> Model:
    """Resolve a model name (``'provider:model'`` or ``'test'``) to a :class:`Model`; instances pass through.

    Reads API keys and base URLs from the environment (``<PROVIDER>_API_KEY``,
    ``<PROVIDER>_BASE_URL``). Does no I/O.

    Raises:
        UserError: the name has no known prefix, the prefix is one trio_direct does not serve (the
            message says why), the provider's API key is missing (the message names the variable to
            set), or the prefix's registry row is broken.
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"expected a Model or a model name string, got {type(model).__name__}")
    if model in _ROUTES:
        prefix, name = model, ""
    elif ":" in model:
        prefix, name = model.split(":", 1)
    else:
        raise UserError(
            f"Unknown model: {model!r}. Model names look like 'provider:model' "
            f"(prefixes: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    row = _ROUTES.get(prefix)
    if row is None and (unavailable := _UNAVAILABLE.get(prefix)) is not None:
        raise UserError(
            f"{model!r}: the {prefix!r} provider is not available in trio_direct: {unavailable.reason}"
        )
    if row is None:
        raise UserError(
            f"Unknown model: {model!r}: no provider with the prefix {prefix!r} "
            f"(known: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    if isinstance(row, ChatHost):
        from_host = cast("Callable[[ChatHost, str, str], Model]", _load(row.factory))
        return from_host(row, name, prefix)
    resolved = _load(row.target)(name, prefix)
    if not isinstance(resolved, Model):
        raise UserError(
            f"the registry factory {row.target!r} returned {type(resolved).__name__}, not a Model"
        )
    return resolved
