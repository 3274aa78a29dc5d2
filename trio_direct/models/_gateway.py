"""The Pydantic AI Gateway, shared by every dialect's gateway mode: key, base URL and route.

pydantic-ai 2.68's ``gateway_provider`` (``providers/gateway.py``), which ``infer_model`` uses for every
``gateway/<upstream>:<model>`` name:

* **Key:** ``PYDANTIC_AI_GATEWAY_API_KEY``, else ``PAIG_API_KEY``.
* **Base URL:** ``PYDANTIC_AI_GATEWAY_BASE_URL``, else ``PAIG_BASE_URL``, else the region the key encodes
  (``pylf_v<n>_<region>_...`` → ``https://gateway-<region>.pydantic.dev/proxy``; a ``staging…`` region →
  ``https://gateway.pydantic.info/proxy``).
* **Route:** the upstream's path segment merged onto the base URL with exactly one slash: ``openai`` (for
  every OpenAI flavour), ``groq``, ``anthropic``, ``bedrock``, ``google-vertex`` (for ``google-cloud``).
  ``gateway/chat`` and ``gateway/responses`` are the OpenAI flavours, ``gateway/converse`` is Bedrock, and
  ``gateway/google`` is Google Cloud (the Gateway serves Gemini only through Vertex AI).
* **Authentication:** the key as ``Authorization: Bearer`` on every route — instead of ``x-api-key``
  (Anthropic), a SigV4 signature (Bedrock) or an OAuth2 token (Vertex AI, which also gets the key as its
  express-mode ``x-goog-api-key``, as the google-genai SDK sends it).

Each dialect's gateway factory reads a :class:`GatewayEndpoint` from :func:`resolve_gateway` and speaks its
own wire protocol to ``endpoint.base_url``. Pure apart from reading the environment; no I/O.
"""

from __future__ import annotations

import re
from typing import Final

import attrs

from ..exceptions import UserError
from ._common import env_value
from .base import Provider

__all__ = [
    "GatewayEndpoint",
    "gateway_provider",
    "gateway_route",
    "infer_gateway_base_url",
    "normalize_gateway_provider",
    "resolve_gateway",
]

KEY_VARS: Final = ("PYDANTIC_AI_GATEWAY_API_KEY", "PAIG_API_KEY")
URL_VARS: Final = ("PYDANTIC_AI_GATEWAY_BASE_URL", "PAIG_BASE_URL")

#: What a user may write after ``gateway/`` → the upstream it names (2.68's aliases).
_ALIASES: Final = {
    "chat": "openai-chat",
    "responses": "openai-responses",
    "converse": "bedrock",
    "google": "google-cloud",
}
#: The upstreams the Gateway serves.
UPSTREAMS: Final = frozenset(
    {"openai", "openai-chat", "openai-responses", "groq", "anthropic", "bedrock", "google-cloud"}
)
#: Upstream → the Gateway's URL route segment, where they differ.
_ROUTE_SEGMENTS: Final = {
    "openai-chat": "openai",
    "openai-responses": "openai",
    "google-cloud": "google-vertex",
}
_KEY_PATTERN: Final = re.compile(r"^pylf_v(?P<version>[0-9]+)_(?P<region>[a-z]+)_[a-zA-Z0-9-_]+$")


def normalize_gateway_provider(name: str) -> str:
    """``'gateway/converse'`` (or ``'converse'``) → ``'bedrock'``: the prefix without ``gateway/``, aliases
    resolved to the upstream they name."""
    name = name.removeprefix("gateway/")
    return _ALIASES.get(name, name)


def gateway_route(upstream: str) -> str:
    """The Gateway's URL route segment for an upstream (after :func:`normalize_gateway_provider`)."""
    return _ROUTE_SEGMENTS.get(upstream, upstream)


def infer_gateway_base_url(api_key: str) -> str:
    """The Gateway base URL for the region a Gateway key encodes.

    Raises:
        UserError: the key encodes no region; the message names the variable to set instead.
    """
    match = _KEY_PATTERN.match(api_key)
    if match is None:
        raise UserError(
            "Could not infer the Pydantic AI Gateway base URL: the API key does not encode a region. "
            "Generate a new key from the Pydantic AI Gateway, or set the `PYDANTIC_AI_GATEWAY_BASE_URL` "
            "environment variable explicitly."
        )
    region = match.group("region")
    if region.startswith("staging"):
        return "https://gateway.pydantic.info/proxy"
    return f"https://gateway-{region}.pydantic.dev/proxy"


@attrs.frozen(slots=True, repr=False)
class GatewayEndpoint:
    """Where one Gateway route is and the key that authenticates to it.

    Attributes:
        upstream: the upstream provider (``'anthropic'``, ``'bedrock'``, ``'google-cloud'``...).
        base_url: the Gateway base URL with the route merged in, without a trailing slash.
        api_key: the Gateway key (never in a repr).
    """

    upstream: str
    base_url: str
    api_key: str

    def __repr__(self) -> str:
        return f"GatewayEndpoint(upstream={self.upstream!r}, base_url={self.base_url!r}, api_key='***')"

    @property
    def namespace(self) -> str:
        """``'gateway/<upstream>'``: the prefix model ids through this route are known under."""
        return f"gateway/{self.upstream}"

    def auth_headers(self) -> dict[str, str]:
        """The header the Gateway authenticates a request by."""
        return {"authorization": f"Bearer {self.api_key}"}


def resolve_gateway(
    upstream: str, *, route: str | None = None, api_key: str | None = None, base_url: str | None = None
) -> GatewayEndpoint:
    """The Gateway endpoint for ``upstream`` (``'gateway/anthropic'``, ``'converse'``...), as 2.68 resolves
    it: explicit arguments first, then the environment (see the module docstring).

    Raises:
        UserError: no key (naming ``PYDANTIC_AI_GATEWAY_API_KEY``), no base URL and a key that encodes no
            region, or an upstream the Gateway does not serve.
    """
    canonical = normalize_gateway_provider(upstream)
    if canonical not in UPSTREAMS:
        raise UserError(
            f"Unknown upstream provider for the Pydantic AI Gateway: {upstream!r} "
            f"(known: {', '.join(sorted(UPSTREAMS | _ALIASES.keys()))})"
        )
    key = api_key or env_value(KEY_VARS[0]) or env_value(KEY_VARS[1])
    if not key:
        raise UserError(
            "Set the `PYDANTIC_AI_GATEWAY_API_KEY` environment variable or pass `api_key` to use the "
            f"Pydantic AI Gateway provider ({'gateway/' + upstream.removeprefix('gateway/')!r})."
        )
    root = base_url or env_value(URL_VARS[0]) or env_value(URL_VARS[1]) or infer_gateway_base_url(key)
    segment = route if route is not None else gateway_route(canonical)
    merged = root.rstrip("/") + "/" + segment.lstrip("/")
    return GatewayEndpoint(canonical, merged.rstrip("/"), key)


def gateway_provider(
    upstream: str, *, route: str | None = None, api_key: str | None = None, base_url: str | None = None
) -> Provider:
    """A :class:`Provider` for an HTTP dialect behind the Gateway: named after the upstream, at the route's
    URL, the key sent as ``Authorization: Bearer`` (a provider header, so a dialect that would send its
    ``api_key`` another way, as Anthropic's ``x-api-key``, sends none).

    Raises:
        UserError: see :func:`resolve_gateway`; also for Bedrock and Google Cloud, whose models are not
            built on a :class:`Provider` (use ``infer_model('gateway/bedrock:<model>')``).
    """
    endpoint = resolve_gateway(upstream, route=route, api_key=api_key, base_url=base_url)
    if endpoint.upstream in ("bedrock", "google-cloud"):
        raise UserError(
            f"the Gateway's {endpoint.upstream!r} route is not an HTTP-provider dialect: use "
            f"infer_model('{endpoint.namespace}:<model>')"
        )
    name = "openai" if endpoint.upstream.startswith("openai") else endpoint.upstream
    return Provider(name, endpoint.base_url, None, endpoint.auth_headers())
