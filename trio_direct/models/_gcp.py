"""Google Cloud (Vertex AI) for the Gemini dialect: credentials, OAuth2 access tokens and request URLs.

The shared layer ``google-cloud:`` stands on: the Gemini module builds the same request bodies for Vertex
as for the Gemini API; this module says where they go and how they are authenticated. No Google SDK:
tokens are fetched over the library's own HTTP client (:mod:`trio_direct._http`), never blocking the Trio
loop; signing a service-account JWT needs the ``cryptography`` package (``pip install
'trio_direct[vertex]'``).

How pydantic-ai 2.68 reaches Vertex (``GoogleCloudProvider`` over google-genai 2.34)
-------------------------------------------------------------------------------

* **Prefix.** ``google-cloud:<model>`` is a ``GoogleModel`` on a ``GoogleCloudProvider``
  (``provider_name='google-cloud'``, ``canonical_system='google-cloud'``). ``google-vertex`` is no longer a
  model prefix in 2.68; it survives only as the legacy ``provider_name`` of stored histories, read as
  ``google-cloud`` (so thought signatures from either replay on Vertex).
* **Which authentication** (:func:`resolve_vertex` follows it):

  1. explicit ``credentials``, ``project`` or ``location`` → OAuth2 (project mode), any API key dropped;
  2. else an explicit ``api_key``, or — only when ``GOOGLE_APPLICATION_CREDENTIALS`` is unset —
     ``GOOGLE_API_KEY`` then ``GEMINI_API_KEY`` → **express mode**;
  3. else OAuth2 with Application Default Credentials.

* **Project mode:** ``project`` = argument, ``GOOGLE_CLOUD_PROJECT`` (then ``GCLOUD_PROJECT``), then the
  credentials' own (a service-account key's ``project_id``; for user credentials google-auth asks the
  ``gcloud`` CLI, which we do not run: we take the file's ``quota_project_id``); ``location`` = argument,
  ``GOOGLE_CLOUD_LOCATION``, else ``us-central1``. Credentials: ``GOOGLE_APPLICATION_CREDENTIALS`` (a JSON
  key file), else gcloud's ``application_default_credentials.json`` (in ``$CLOUDSDK_CONFIG``, else
  ``~/.config/gcloud``, on Windows ``%APPDATA%\\gcloud``), else the GCE metadata server when running on
  Google Cloud. Requests carry ``Authorization: Bearer <access token>`` (scope
  ``https://www.googleapis.com/auth/cloud-platform``), plus ``x-goog-user-project`` for user credentials
  with a quota project.

  ``POST {host}/v1beta1/projects/{project}/locations/{location}/publishers/google/models/{model}``
  ``:generateContent`` (streams: ``:streamGenerateContent?alt=sse``), where the host is
  ``https://aiplatform.googleapis.com`` for ``global``, ``https://aiplatform.{us,eu}.rep.googleapis.com``
  for the ``us``/``eu`` multi-regions, and ``https://{location}-aiplatform.googleapis.com`` otherwise.
* **Express mode:** ``POST https://aiplatform.googleapis.com/v1beta1/publishers/google/models/{model}``
  ``:generateContent`` with the key in ``x-goog-api-key`` (never in the URL); ``provider_url`` is
  ``https://aiplatform.googleapis.com/``.
* **Model names** (google-genai's ``t_model``): ``gemini-2.5-flash`` →
  ``publishers/google/models/gemini-2.5-flash``; ``anthropic/claude-x`` →
  ``publishers/anthropic/models/claude-x``; names starting with ``publishers/``, ``models/`` or
  ``projects/`` go as given (a full ``projects/...`` name replaces the project prefix).
* **Base URL:** ``base_url=`` or ``GOOGLE_VERTEX_BASE_URL`` replaces the host; the path stays as above.

The Gemini module wires it as: ``target = resolve_vertex(...)`` when the model is resolved (reads files
and the environment, no network), ``target.url(model, stream=...)`` instead of the Gemini API URL, and
``request = await target.authorize(request, model_name=...)`` right before sending.

Tokens (:class:`TokenSource`): fetched on first use, cached, and refreshed ahead of expiry (five
minutes, or half the lifetime of a short-lived token); one refresh at a time per event loop — concurrent
requests wait for it. A refresh that fails while the old token is still valid falls back to the old token.
Private keys, refresh tokens, client secrets and access tokens never appear in a repr, an error or a log.
"""

from __future__ import annotations

import base64
import logging
import os
import sys
import time
import urllib.parse
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, TypeAlias

import attrs
import orjson
import trio

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._validate import path_segment  # pyright: ignore[reportPrivateUsage]
from ..exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelHTTPError,
    TrioDirectError,
    UserError,
)
from ._common import env_value, http_status_category
from ._json import json_dict

__all__ = [
    "API_VERSION",
    "CLOUD_PLATFORM_SCOPE",
    "DEFAULT_LOCATION",
    "DEFAULT_TOKEN_URI",
    "AccessToken",
    "AuthorizedUserCredentials",
    "Credentials",
    "MetadataServerCredentials",
    "ServiceAccountCredentials",
    "TokenSource",
    "VertexTarget",
    "credentials_from_info",
    "default_credentials",
    "load_credentials_file",
    "resolve_vertex",
    "sign_jwt_rs256",
    "vertex_base_url",
    "vertex_model_path",
    "vertex_url",
]

logger = logging.getLogger("trio_direct.gcp")

CLOUD_PLATFORM_SCOPE: Final = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_TOKEN_URI: Final = "https://oauth2.googleapis.com/token"
DEFAULT_LOCATION: Final = "us-central1"
API_VERSION: Final = "v1beta1"
EXPRESS_BASE_URL: Final = "https://aiplatform.googleapis.com"
METADATA_HOST: Final = "metadata.google.internal"
_MULTI_REGIONS: Final = frozenset({"us", "eu"})
#: Refresh a token this long before it expires (google-auth refreshes 3m45s ahead; a little more here).
REFRESH_MARGIN: Final = 300.0
#: What a service-account JWT asks for (the longest Google grants).
_JWT_LIFETIME: Final = 3600
#: After a failed refresh (with the old token still valid), the next attempt waits this long.
_RETRY_FAILED_REFRESH: Final = 30.0
_JWT_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_VERTEX_EXTRA: Final = "pip install 'trio_direct[vertex]'"
_REFRESH_USER_FIX: Final = "run `gcloud auth application-default login` again"


# =============================================================================================
# Credentials
# =============================================================================================


@attrs.frozen(slots=True, repr=False)
class ServiceAccountCredentials:
    """A service-account key (``"type": "service_account"``): a JWT signed with its key buys a token."""

    client_email: str
    private_key: str = attrs.field(repr=False)
    private_key_id: str | None = None
    token_uri: str = DEFAULT_TOKEN_URI
    project_id: str | None = None
    source: str = "service-account key"

    def __repr__(self) -> str:
        return f"ServiceAccountCredentials(client_email={self.client_email!r}, source={self.source!r})"


@attrs.frozen(slots=True, repr=False)
class AuthorizedUserCredentials:
    """User credentials from ``gcloud auth application-default login`` (``"type": "authorized_user"``)."""

    client_id: str
    client_secret: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    token_uri: str = DEFAULT_TOKEN_URI
    quota_project_id: str | None = None
    source: str = "authorized-user credentials"

    def __repr__(self) -> str:
        return f"AuthorizedUserCredentials(client_id={self.client_id!r}, source={self.source!r})"


@attrs.frozen(slots=True)
class MetadataServerCredentials:
    """The service account of the Google Cloud machine this runs on, from its metadata server."""

    host: str = METADATA_HOST
    service_account: str = "default"
    source: str = "the GCE metadata server"


Credentials: TypeAlias = ServiceAccountCredentials | AuthorizedUserCredentials | MetadataServerCredentials


def _required(info: Mapping[str, Any], key: str, source: str) -> str:
    value = info.get(key)
    if not isinstance(value, str) or not value:
        raise UserError(f"{source} has no {key!r}: it is not a complete Google credentials file")
    return value


def _optional(info: Mapping[str, Any], key: str) -> str | None:
    value = info.get(key)
    return value if isinstance(value, str) and value else None


def credentials_from_info(info: Mapping[str, Any], source: str = "the credentials") -> Credentials:
    """Credentials from the parsed JSON of a key file (``source`` names it in errors).

    Raises:
        UserError: the ``type`` is missing or not one supported here (``service_account``,
            ``authorized_user``), or a required field is missing.
    """
    kind = info.get("type")
    if kind == "service_account":
        return ServiceAccountCredentials(
            client_email=_required(info, "client_email", source),
            private_key=_required(info, "private_key", source),
            private_key_id=_optional(info, "private_key_id"),
            token_uri=_optional(info, "token_uri") or DEFAULT_TOKEN_URI,
            project_id=_optional(info, "project_id"),
            source=source,
        )
    if kind == "authorized_user":
        return AuthorizedUserCredentials(
            client_id=_required(info, "client_id", source),
            client_secret=_required(info, "client_secret", source),
            refresh_token=_required(info, "refresh_token", source),
            token_uri=_optional(info, "token_uri") or DEFAULT_TOKEN_URI,
            quota_project_id=_optional(info, "quota_project_id"),
            source=source,
        )
    raise UserError(
        f"{source} holds credentials of type {kind!r}; trio_direct reads 'service_account' keys and "
        "'authorized_user' credentials (gcloud auth application-default login); workload identity "
        "federation and impersonated credentials are not supported: use a service-account key"
    )


def load_credentials_file(path: str | os.PathLike[str], *, variable: str | None = None) -> Credentials:
    """Credentials from a JSON key file. Reads the file now (synchronously: call it when a model is
    resolved, not on the event loop's hot path).

    Raises:
        UserError: the file is missing, unreadable, not JSON, or not supported credentials; the message
            names the file, and ``variable`` when the path came from one.
    """
    source = f"{variable}={os.fspath(path)!r}" if variable else f"the credentials file {os.fspath(path)!r}"
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror or exc}") from None
    try:
        info = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UserError(f"{source} is not JSON: it should be a Google credentials file") from None
    fields = json_dict(info)
    if fields is None:
        raise UserError(f"{source} is not a JSON object: it should be a Google credentials file")
    return credentials_from_info(fields, source)


def _adc_path() -> Path:
    """Where gcloud keeps Application Default Credentials (google-auth's ``_cloud_sdk`` rule)."""
    if config := env_value("CLOUDSDK_CONFIG"):
        return Path(config) / "application_default_credentials.json"
    if sys.platform == "win32":
        root = env_value("APPDATA") or str(Path.home())
        return Path(root) / "gcloud" / "application_default_credentials.json"
    return Path.home() / ".config" / "gcloud" / "application_default_credentials.json"


def _on_google_cloud() -> bool:
    """Whether the metadata server is the place to ask: an explicit ``GCE_METADATA_HOST``, or a Google
    machine by its DMI product name (google-auth's cheap Linux check; no network)."""
    if env_value("GCE_METADATA_HOST") or env_value("GCE_METADATA_ROOT"):
        return True
    try:
        return Path("/sys/class/dmi/id/product_name").read_text().strip().startswith("Google")
    except OSError:
        return False


def default_credentials() -> Credentials:
    """Application Default Credentials, found as google-auth finds them (without running ``gcloud``).

    ``GOOGLE_APPLICATION_CREDENTIALS``, else gcloud's ``application_default_credentials.json``, else the
    metadata server on Google Cloud. Reads files now (synchronously).

    Raises:
        UserError: none is found, or the file found is unusable; the message says how to set one up.
    """
    if path := env_value("GOOGLE_APPLICATION_CREDENTIALS"):
        return load_credentials_file(path, variable="GOOGLE_APPLICATION_CREDENTIALS")
    adc = _adc_path()
    if adc.is_file():
        return load_credentials_file(adc)
    if _on_google_cloud():
        host = env_value("GCE_METADATA_HOST") or env_value("GCE_METADATA_ROOT") or METADATA_HOST
        return MetadataServerCredentials(host=host)
    raise UserError(
        "No Google Cloud credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key "
        f"file, run `gcloud auth application-default login` (it writes {str(adc)!r}), or use an express-mode "
        "API key (GOOGLE_API_KEY)"
    )


# =============================================================================================
# Signing
# =============================================================================================


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_jwt_rs256(
    claims: Mapping[str, Any], private_key_pem: str, *, key_id: str | None = None, source: str = "the key"
) -> str:
    """A compact JWT of ``claims`` signed with RS256 (RSASSA-PKCS1-v1_5 over SHA-256). Blocking and
    CPU-bound (about a millisecond for a 2048-bit key): :class:`TokenSource` runs it in a thread.

    Raises:
        UserError: the ``cryptography`` package is missing (the ``vertex`` extra), or the key is not an
            RSA private key in PEM (``source`` names where it came from).
    """
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa
    except ImportError:
        raise UserError(
            f"signing a Google service-account token needs the `cryptography` package: {_VERTEX_EXTRA}"
        ) from None
    try:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    except (ValueError, TypeError):
        # the library's message may quote key material; ours names the file only
        raise UserError(f"the private key in {source} is not a PEM-encoded private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise UserError(f"the private key in {source} is not an RSA key (Google keys are RSA)")
    header: dict[str, str] = {"alg": "RS256", "typ": "JWT"}
    if key_id:
        header["kid"] = key_id
    signing_input = f"{_b64url(orjson.dumps(header))}.{_b64url(orjson.dumps(dict(claims)))}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


# =============================================================================================
# Tokens
# =============================================================================================


@attrs.frozen(slots=True, repr=False)
class AccessToken:
    """An OAuth2 access token and when to stop using it, on the Trio clock of the run that fetched it."""

    value: str = attrs.field(repr=False)
    expires_at: float
    refresh_at: float

    def __repr__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at!r}, refresh_at={self.refresh_at!r})"


@attrs.define(slots=True)
class _RunState:
    lock: trio.Lock = attrs.field(factory=trio.Lock)
    token: AccessToken | None = None


class TokenSource:
    """Access tokens for one set of credentials: fetched on first use, cached, refreshed ahead of expiry.

    State is kept per ``trio.run`` (the portal's run and each of yours): a token's expiry is measured on
    that run's clock, and its lock only ever parks that run's tasks. Everything else is immutable, so one
    source may serve a model used from several threads.

    Args:
        credentials: whose tokens to fetch (see :func:`default_credentials`).
        scopes: the OAuth2 scopes asked for (``cloud-platform`` by default).
        refresh_margin: seconds before expiry at which the next request refreshes the token (at most
            half the token's lifetime).
    """

    def __init__(
        self,
        credentials: Credentials,
        *,
        scopes: tuple[str, ...] = (CLOUD_PLATFORM_SCOPE,),
        refresh_margin: float = REFRESH_MARGIN,
    ) -> None:
        self.credentials = credentials
        self.scopes = scopes
        self.refresh_margin = refresh_margin
        self._runs: weakref.WeakKeyDictionary[trio.lowlevel.Task, _RunState] = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"TokenSource({self.credentials!r})"

    def _state(self) -> _RunState:
        root = trio.lowlevel.current_root_task()
        assert root is not None  # inside trio.run there is always a root task
        state = self._runs.get(root)
        if state is None:
            state = self._runs[root] = _RunState()
        return state

    async def token(self, *, model_name: str = "google-cloud") -> str:
        """A valid access token, fetching or refreshing it first when needed.

        Concurrent callers share one fetch: the first takes the lock and fetches, the others wait for it
        and use its token. A failed refresh while the previous token is still valid returns that token
        (the failure is logged) and a request 30 seconds later tries again.

        Raises:
            ModelHTTPError: the token endpoint refused (``ModelAuthenticationError`` for rejected
                credentials, ``ModelRateLimitError``, ``ModelServerError``...).
            ModelConnectionError: the endpoint could not be reached.
            ModelAPIError: it answered 200 without a usable token.
            UserError: the credentials cannot be used (a bad private key, ``cryptography`` missing).

        Cancellation:
            Safe at any point: a cancelled fetch leaves no token and releases the lock, and the next
            caller fetches again.
        """
        state = self._state()
        current = state.token
        now = trio.current_time()
        if current is not None and now < current.refresh_at:
            return current.value
        async with state.lock:
            current = state.token
            now = trio.current_time()
            if current is not None and now < current.refresh_at:
                return current.value  # another task refreshed it while we waited
            try:
                fresh = await self._fetch(model_name)
            except TrioDirectError as exc:
                if current is not None and now < current.expires_at:
                    # Keep serving the old token, and leave the endpoint alone for a while rather than
                    # making every request wait for another failing refresh.
                    retry_at = min(current.expires_at, now + _RETRY_FAILED_REFRESH)
                    state.token = attrs.evolve(current, refresh_at=retry_at)
                    logger.warning(
                        "could not refresh the Google access token from %s (%s); using the current one, "
                        "valid for %.0f more seconds",
                        self.credentials.source,
                        type(exc).__name__,
                        current.expires_at - now,
                    )
                    return current.value
                raise
            state.token = fresh
            return fresh.value

    def invalidate(self) -> None:
        """Forget this run's token (after the server rejected it), so the next call fetches a new one."""
        self._state().token = None

    async def headers(self, *, model_name: str = "google-cloud") -> dict[str, str]:
        """The headers that authenticate a request: ``authorization`` (and ``x-goog-user-project`` for
        user credentials with a quota project). Raises what :meth:`token` raises."""
        headers = {"authorization": f"Bearer {await self.token(model_name=model_name)}"}
        credentials = self.credentials
        if isinstance(credentials, AuthorizedUserCredentials) and credentials.quota_project_id:
            headers["x-goog-user-project"] = credentials.quota_project_id
        return headers

    # -- fetching ----------------------------------------------------------------------------

    async def _fetch(self, model_name: str) -> AccessToken:
        credentials = self.credentials
        secrets: list[str] = []
        if isinstance(credentials, ServiceAccountCredentials):
            issued = int(time.time())
            claims = {
                "iss": credentials.client_email,
                "scope": " ".join(self.scopes),
                "aud": credentials.token_uri,
                "iat": issued,
                "exp": issued + _JWT_LIFETIME,
            }
            assertion = await trio.to_thread.run_sync(
                lambda: sign_jwt_rs256(
                    claims,
                    credentials.private_key,
                    key_id=credentials.private_key_id,
                    source=credentials.source,
                )
            )
            secrets = [assertion, credentials.private_key]
            request = _form_request(credentials.token_uri, {"grant_type": _JWT_GRANT, "assertion": assertion})
            fix = "check that the key is still active in IAM and that this machine's clock is right"
        elif isinstance(credentials, AuthorizedUserCredentials):
            secrets = [credentials.refresh_token, credentials.client_secret]
            request = _form_request(
                credentials.token_uri,
                {
                    "grant_type": "refresh_token",
                    "client_id": credentials.client_id,
                    "client_secret": credentials.client_secret,
                    "refresh_token": credentials.refresh_token,
                },
            )
            fix = _REFRESH_USER_FIX
        else:
            host = credentials.host.removeprefix("http://").rstrip("/")
            account = urllib.parse.quote(credentials.service_account, safe="@.")
            query = urllib.parse.urlencode({"scopes": ",".join(self.scopes)})
            request = _http.HTTPRequest(
                f"http://{host}/computeMetadata/v1/instance/service-accounts/{account}/token?{query}",
                b"",
                {"metadata-flavor": "Google"},
                method="GET",
            )
            fix = "check the service account attached to this machine and its access scopes"
        started = trio.current_time()
        try:
            _, _, body = await _http.send(
                request, model_name=model_name, error_builder=_token_error_builder(credentials.source, fix)
            )
            value, lifetime = _parse_token(body, model_name, credentials.source)
        except TrioDirectError as exc:
            # A token endpoint may echo what it was sent; none of it may reach an error.
            _http.redact_error(exc, [s for s in secrets if s])
            raise
        margin = min(self.refresh_margin, lifetime / 2)
        logger.debug("fetched a Google access token from %s, valid for %d s", credentials.source, lifetime)
        return AccessToken(value, started + lifetime, started + lifetime - margin)


def _form_request(url: str, fields: Mapping[str, str]) -> _http.HTTPRequest:
    body = urllib.parse.urlencode(fields).encode()
    return _http.HTTPRequest(
        url, body, {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
    )


def _parse_token(body: bytes, model_name: str, source: str) -> tuple[str, float]:
    """``(access_token, expires_in)`` from a token endpoint's 200.

    Raises:
        ModelAPIError: the body has no usable token (never quoted: it may hold one).
    """
    try:
        data = json_dict(orjson.loads(body))
    except orjson.JSONDecodeError:
        data = None
    token = data.get("access_token") if data is not None else None
    expires_in = data.get("expires_in", 3600) if data is not None else None
    if isinstance(expires_in, str) and expires_in.isdigit():
        expires_in = int(expires_in)
    if (
        not isinstance(token, str)
        or not token
        or not isinstance(expires_in, int | float)
        or isinstance(expires_in, bool)
        or expires_in <= 0
    ):
        raise ModelAPIError(
            model_name,
            f"the Google token endpoint for {source} answered 200 without a usable access token "
            "(expected JSON with `access_token` and a positive `expires_in`)",
        )
    return token, float(expires_in)


_REJECTED_GRANTS: Final = frozenset(
    {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied"}
)


def _token_error_builder(source: str, fix: str) -> _http.ErrorBuilder:
    def build(status: int, headers: Mapping[str, str], body: bytes, model_name: str) -> Exception:
        parsed: object
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            text = body.decode("utf-8", "replace")
            parsed = text if len(text) <= 2000 else text[:2000] + "...(truncated)"
        fields = json_dict(parsed) or {}
        code = fields.get("error")
        code = code if isinstance(code, str) else None
        description = fields.get("error_description")
        category = http_status_category(status, description)
        if code in _REJECTED_GRANTS or status in (401, 403):
            category = ModelAuthenticationError
        return ModelHTTPError.for_category(
            category,
            status_code=status,
            model_name=model_name,
            body=parsed,
            headers=headers,
            provider_error_code=code,
            hint=f"Google's token endpoint refused the credentials from {source}: {fix}",
        )

    return build


# =============================================================================================
# URLs
# =============================================================================================


def _segment(value: str, what: str) -> str:
    """``value`` percent-encoded as one URL path segment (the shared rule: ``_validate.path_segment``).

    Raises:
        UserError: empty, ``.``/``..``, or holding a control character.
    """
    return path_segment(value, what=f"{what} (Vertex AI)")


def _location_host_part(location: str) -> str:
    lowered = location.strip()
    if not lowered or not all(c.isascii() and (c.isalnum() or c == "-") for c in lowered):
        raise UserError(
            f"invalid Google Cloud location {location!r}: "
            "a region such as 'us-central1', 'global', 'us' or 'eu'"
        )
    return lowered


def vertex_base_url(location: str | None) -> str:
    """The Vertex AI host for ``location`` (None: express mode, the global endpoint), without a slash.

    Raises:
        UserError: ``location`` is not a region name.
    """
    if location is None or location == "global":
        return EXPRESS_BASE_URL
    location = _location_host_part(location)
    if location in _MULTI_REGIONS:
        return f"https://aiplatform.{location}.rep.googleapis.com"
    return f"https://{location}-aiplatform.googleapis.com"


def vertex_model_path(model: str) -> str:
    """The resource path of ``model`` as google-genai names it for Vertex, each segment encoded.

    ``gemini-2.5-flash`` → ``publishers/google/models/gemini-2.5-flash``; ``anthropic/claude`` →
    ``publishers/anthropic/models/claude``; ``publishers/...``, ``models/...`` and ``projects/...`` names
    are kept (segment by segment).

    Raises:
        UserError: an empty name or segment, ``.``/``..``, ``?``/``&``/``#`` or control characters.
    """
    if not model or any(c in model for c in "?&#"):
        raise UserError(f"invalid Vertex AI model name {model!r}")
    if model.startswith(("projects/", "models/", "publishers/")):
        segments = model.split("/")
    elif "/" in model:
        publisher, model_id = model.split("/", 1)
        segments = ["publishers", publisher, "models", *model_id.split("/")]
    else:
        segments = ["publishers", "google", "models", model]
    return "/".join(_segment(s, "model name part") for s in segments)


def vertex_url(
    model: str,
    *,
    stream: bool,
    project: str | None = None,
    location: str | None = None,
    base_url: str | None = None,
    api_version: str = API_VERSION,
    method: str | None = None,
) -> str:
    """The ``generateContent`` (or streaming, or another ``method`` such as ``countTokens``) URL of
    ``model`` on Vertex AI. Pure.

    With ``project`` (project mode) the path is ``{api_version}/projects/{project}/locations/{location}/
    {model path}``, without it (express mode) ``{api_version}/{model path}``; a model given as a full
    ``projects/...`` name is used as it is. ``base_url`` replaces the host chosen from ``location``.

    Raises:
        UserError: ``project`` without ``location``, or a value that cannot be a URL segment.
    """
    path = vertex_model_path(model)
    if project is not None and not path.startswith("projects/"):
        if location is None:
            raise UserError("a Vertex AI project needs a location (GOOGLE_CLOUD_LOCATION)")
        path = (
            f"projects/{_segment(project, 'Google Cloud project')}"
            f"/locations/{_segment(location, 'Google Cloud location')}/{path}"
        )
    root = (base_url or vertex_base_url(location)).rstrip("/")
    if method is None:
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return f"{root}/{_segment(api_version, 'API version')}/{path}:{method}"


# =============================================================================================
# Resolution
# =============================================================================================


@attrs.frozen(slots=True, repr=False)
class VertexTarget:
    """Where Vertex AI requests go and how they are authenticated: the result of :func:`resolve_vertex`.

    Exactly one of ``api_key`` (express mode) and ``tokens`` (project mode) is set. ``headers`` (name,
    value pairs) are sent with every request besides them (the Pydantic AI Gateway's bearer key).
    """

    base_url: str
    project: str | None
    location: str | None
    api_key: str | None = attrs.field(default=None, repr=False)
    tokens: TokenSource | None = None
    headers: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)

    def __repr__(self) -> str:
        auth = "api_key='***'" if self.api_key is not None else f"tokens={self.tokens!r}"
        return (
            f"VertexTarget(base_url={self.base_url!r}, project={self.project!r}, "
            f"location={self.location!r}, {auth})"
        )

    @property
    def provider_url(self) -> str:
        """What 2.68 reports as ``provider_url``: the base URL with its trailing slash."""
        return self.base_url + "/"

    def url(self, model: str, *, stream: bool, method: str | None = None) -> str:
        """The request URL for ``model`` (see :func:`vertex_url`).

        Raises:
            UserError: the model name cannot be put in a URL.
        """
        return vertex_url(
            model,
            stream=stream,
            project=self.project,
            location=self.location,
            base_url=self.base_url,
            method=method,
        )

    async def authorize(self, request: _http.HTTPRequest, *, model_name: str) -> _http.HTTPRequest:
        """``request`` with its credentials: ``x-goog-api-key`` in express mode, else a bearer token
        (fetched or refreshed first when needed).

        Raises:
            ModelHTTPError, ModelConnectionError, ModelAPIError, UserError: see :meth:`TokenSource.token`.

        Cancellation:
            Safe; nothing is left behind.
        """
        if self.api_key is not None:
            extra = {"x-goog-api-key": self.api_key}
        else:
            assert self.tokens is not None
            extra = await self.tokens.headers(model_name=model_name)
        return attrs.evolve(request, headers={**request.headers, **extra, **dict(self.headers)})


def resolve_vertex(
    *,
    api_key: str | None = None,
    credentials: Credentials | TokenSource | None = None,
    project: str | None = None,
    location: str | None = None,
    base_url: str | None = None,
) -> VertexTarget:
    """Where and how to reach Vertex AI, decided as pydantic-ai 2.68's ``GoogleCloudProvider`` decides
    (see the module docstring). Reads the environment and credentials files; no network.

    Raises:
        UserError: no credentials can be found, a credentials file is unusable, no project is known in
            project mode (the message names ``GOOGLE_CLOUD_PROJECT``), or a location is not a region.
    """
    api_key = api_key or None
    if credentials is not None or project is not None or location is not None:
        api_key = None
    elif api_key is None and not env_value("GOOGLE_APPLICATION_CREDENTIALS"):
        api_key = env_value("GOOGLE_API_KEY") or env_value("GEMINI_API_KEY")
    base_url = (base_url or env_value("GOOGLE_VERTEX_BASE_URL") or "").rstrip("/") or None
    if api_key is not None:
        return VertexTarget(base_url or EXPRESS_BASE_URL, None, None, api_key=api_key.strip())
    tokens = (
        credentials
        if isinstance(credentials, TokenSource)
        else TokenSource(credentials or default_credentials())
    )
    found = tokens.credentials
    project = (
        project
        or env_value("GOOGLE_CLOUD_PROJECT")
        or env_value("GCLOUD_PROJECT")
        or (found.project_id if isinstance(found, ServiceAccountCredentials) else None)
        or (found.quota_project_id if isinstance(found, AuthorizedUserCredentials) else None)
    )
    if not project:
        raise UserError(
            f"No Google Cloud project for Vertex AI: set GOOGLE_CLOUD_PROJECT (the credentials from "
            f"{found.source} name none) or pass project=..."
        )
    location = location or env_value("GOOGLE_CLOUD_LOCATION") or DEFAULT_LOCATION
    root = base_url or vertex_base_url(location)
    return VertexTarget(root, project, location, tokens=tokens)
