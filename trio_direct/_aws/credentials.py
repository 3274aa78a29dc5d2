"""AWS credentials, region and endpoint, found the way the AWS tools find them. No provider knowledge.

:func:`resolve_aws_config` looks, in order (an explicit argument always wins over the environment):

* **Bedrock API key** (a bearer token): the ``bearer_token`` argument, else ``AWS_BEARER_TOKEN_BEDROCK``
  unless SigV4 keys were passed explicitly. Sent as ``Authorization: Bearer``, and only over HTTPS.
* **SigV4 keys**: the ``access_key_id``/``secret_access_key``/``session_token`` arguments; else
  ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN`` (unless a profile was passed
  explicitly, as botocore); else the profile (``profile`` argument, ``AWS_PROFILE``,
  ``AWS_DEFAULT_PROFILE``, ``default``) in the shared credentials file (``AWS_SHARED_CREDENTIALS_FILE``,
  ``~/.aws/credentials``), then in the config file (``AWS_CONFIG_FILE``, ``~/.aws/config``, where it is
  ``[profile NAME]``); else, when botocore is installed (the ``aws`` extra), botocore's full chain (SSO,
  ``credential_process``, roles, container and instance metadata), looked up at request time in a
  worker thread (:mod:`.chain`). Without botocore, a profile that needs a login flow is refused with a
  :class:`UserError` that says what to do instead.
* **Region**: the argument, ``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile's ``region``.
* **Endpoint**: the argument, ``AWS_ENDPOINT_URL_<SERVICE>`` (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``),
  ``AWS_ENDPOINT_URL``, the profile's ``endpoint_url`` (the environment and file ones are ignored when
  ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is true), else the service's regional default.

Files are read here, synchronously, only when the environment leaves something open. Call it when a
model is resolved (a few small local reads, never network I/O), not per request. Secrets never appear
in a repr or an error message.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
import urllib.parse
from collections.abc import Mapping
from typing import Final

import attrs

from ..exceptions import UserError
from .keys import AWSCredentials, CredentialSource

__all__ = ["AWSConfig", "AWSCredentials", "CredentialSource", "is_loopback_url", "resolve_aws_config"]

_REGION: Final = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: Profile keys that mean "credentials come from somewhere trio_direct does not go".
_LOGIN_KEYS: Final = (
    "sso_session",
    "sso_start_url",
    "sso_account_id",
    "credential_process",
    "role_arn",
    "web_identity_token_file",
    "login_session",
)


@attrs.frozen(slots=True, repr=False)
class AWSConfig:
    """Where and how to reach one AWS service.

    Attributes:
        region: the region (``us-east-1``); also the SigV4 signing region.
        endpoint_url: the service's base URL, without a trailing slash.
        credentials: static SigV4 credentials, or None.
        bearer_token: a bearer token (a Bedrock API key), or None when SigV4 is used.
        credential_source: SigV4 credentials looked up at request time (botocore's chain), or None.
        source: where the credentials came from, for error messages (never the values).
        bearer_over_loopback_http: the bearer token may go over plain HTTP when the endpoint is this
            machine (a local gateway or test server); otherwise it goes over HTTPS only.
    """

    region: str
    endpoint_url: str
    credentials: AWSCredentials | None = None
    bearer_token: str | None = None
    source: str = ""
    credential_source: CredentialSource | None = None
    bearer_over_loopback_http: bool = False

    def bearer_allowed(self) -> bool:
        """Whether the bearer token (if any) may go to :attr:`endpoint_url`: over HTTPS, or over plain HTTP
        to this machine when :attr:`bearer_over_loopback_http` says so."""
        if self.endpoint_url.lower().startswith("https://"):
            return True
        return self.bearer_over_loopback_http and is_loopback_url(self.endpoint_url)

    def __repr__(self) -> str:
        if self.bearer_token is not None:
            auth = "bearer token"
        elif self.credential_source is not None:
            auth = repr(self.credential_source)
        else:
            auth = repr(self.credentials)
        return (
            f"AWSConfig(region={self.region!r}, endpoint_url={self.endpoint_url!r}, auth={auth}, "
            f"source={self.source!r})"
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret this configuration holds (to redact from errors)."""
        found = [self.bearer_token]
        live = self.credential_source.current if self.credential_source is not None else None
        for credentials in (self.credentials, live):
            if credentials is not None:
                found += [credentials.secret_access_key, credentials.session_token]
        return tuple(s for s in found if s)


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name)
    return value.strip() if value and value.strip() else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _read_ini(path: str, what: str) -> configparser.RawConfigParser | None:
    """The parsed file at ``path``, or None when it does not exist.

    Raises:
        UserError: the file exists but cannot be read or parsed.
    """
    parser = configparser.RawConfigParser()
    try:
        with open(path, encoding="utf-8") as f:
            parser.read_file(f)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        # The parser's message may quote a line of the file, which may hold a key: name the file only.
        raise UserError(
            f"cannot read the AWS {what} file {path!r} ({type(exc).__name__}); fix or move it, or set "
            "the AWS_* environment variables instead"
        ) from None
    return parser


def _section(parser: configparser.RawConfigParser | None, name: str) -> dict[str, str] | None:
    if parser is None or not parser.has_section(name):
        return None
    return {k.lower(): v.strip() for k, v in parser.items(name)}


@attrs.define
class _Profiles:
    """The shared credentials and config files, read on first use."""

    environ: Mapping[str, str]
    name: str
    explicit: bool
    _loaded: bool = False
    credentials_section: dict[str, str] | None = None
    config_section: dict[str, str] | None = None

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        creds_path = os.path.expanduser(
            _env(self.environ, "AWS_SHARED_CREDENTIALS_FILE") or os.path.join("~", ".aws", "credentials")
        )
        config_path = os.path.expanduser(
            _env(self.environ, "AWS_CONFIG_FILE") or os.path.join("~", ".aws", "config")
        )
        self.credentials_section = _section(_read_ini(creds_path, "shared credentials"), self.name)
        config = _read_ini(config_path, "config")
        self.config_section = _section(
            config, "default" if self.name == "default" else f"profile {self.name}"
        ) or (_section(config, self.name) if self.name == "default" else None)

    def exists(self) -> bool:
        self.load()
        return self.credentials_section is not None or self.config_section is not None

    def get(self, key: str) -> str | None:
        self.load()
        for section in (self.credentials_section, self.config_section):
            if section and section.get(key):
                return section[key]
        return None

    def credentials(self) -> tuple[AWSCredentials, str] | None:
        self.load()
        for section, where in (
            (self.credentials_section, "the shared credentials file"),
            (self.config_section, "the config file"),
        ):
            if section and section.get("aws_access_key_id") and section.get("aws_secret_access_key"):
                creds = AWSCredentials(
                    section["aws_access_key_id"],
                    section["aws_secret_access_key"],
                    section.get("aws_session_token") or None,
                )
                return creds, f"profile {self.name!r} in {where}"
        return None

    def login_key(self) -> str | None:
        self.load()
        for section in (self.credentials_section, self.config_section):
            for key in _LOGIN_KEYS:
                if section and section.get(key):
                    return key
        return None


def resolve_aws_config(
    *,
    service_env_name: str,
    default_endpoint: str,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    session_token: str | None = None,
    bearer_token: str | None = None,
    bearer_env: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    chain: bool | None = None,
    bearer_over_loopback_http: bool = False,
) -> AWSConfig:
    """Credentials, region and endpoint for one AWS service (see the module docstring for the order).

    Args:
        service_env_name: the service part of ``AWS_ENDPOINT_URL_<SERVICE>`` (``BEDROCK_RUNTIME``).
        default_endpoint: the regional endpoint, with ``{region}`` in it.
        access_key_id, secret_access_key, session_token: explicit SigV4 keys (both of the first two
            or neither).
        bearer_token: an explicit bearer token (a Bedrock API key).
        bearer_env: the variable a bearer token may come from (``AWS_BEARER_TOKEN_BEDROCK``), if any.
        region, profile, endpoint_url: explicit values.
        environ: the environment (default ``os.environ``).
        chain: when nothing above gives SigV4 keys, fall back on botocore's full chain (SSO,
            ``credential_process``, roles, container and instance metadata), looked up at request time.
            Default: when botocore is installed (the ``aws`` extra), unless
            ``TRIO_DIRECT_AWS_CREDENTIAL_CHAIN=off``.
        bearer_over_loopback_http: a bearer token may go over plain HTTP to this machine (``localhost``,
            ``127.0.0.0/8``, ``[::1]``): a local gateway or test server, where it crosses no network.

    Raises:
        UserError: no credentials or no region were found, a profile named explicitly or by
            ``AWS_PROFILE`` does not exist, a profile needs a login flow, a region is not a region
            name, or a bearer token would go over plain HTTP. The message names what to set.
    """
    env = os.environ if environ is None else environ
    if (access_key_id is None) != (secret_access_key is None):
        raise UserError("pass both `aws_access_key_id` and `aws_secret_access_key`, or neither")
    profile_name = profile or _env(env, "AWS_PROFILE") or _env(env, "AWS_DEFAULT_PROFILE")
    profiles = _Profiles(env, profile_name or "default", explicit=profile is not None)
    if profile_name is not None and not profiles.exists():
        raise UserError(
            f"the AWS profile {profile_name!r} was not found in the shared credentials or config file "
            "(AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, default ~/.aws/)"
        )

    credentials: AWSCredentials | None = None
    lookup: CredentialSource | None = None
    token: str | None = None
    source = ""
    if bearer_token is not None:
        token, source = bearer_token, "the `api_key` argument"
    elif access_key_id is not None and secret_access_key is not None:
        credentials, source = AWSCredentials(access_key_id, secret_access_key, session_token), "arguments"
    elif bearer_env is not None and (env_token := _env(env, bearer_env)) is not None:
        token, source = env_token, bearer_env
    else:
        key_id, secret = _env(env, "AWS_ACCESS_KEY_ID"), _env(env, "AWS_SECRET_ACCESS_KEY")
        if key_id and secret and profile is None:
            credentials = AWSCredentials(key_id, secret, _env(env, "AWS_SESSION_TOKEN"))
            source = "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        elif (found := profiles.credentials()) is not None:
            credentials, source = found
        elif _chain_enabled(chain, env):
            from .chain import BotocoreCredentials

            lookup, source = BotocoreCredentials(profile_name), "botocore's credential chain"
        else:
            login = profiles.login_key() if profiles.exists() else None
            if login is not None:
                raise UserError(
                    f"the AWS profile {profiles.name!r} gets its credentials through `{login}`, which "
                    "needs botocore (pip install 'trio_direct[aws]'); or export temporary keys "
                    "(`aws configure export-credentials --format env`) or set "
                    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
                    + (f", or a Bedrock API key in {bearer_env}" if bearer_env else "")
                )
            raise UserError(
                "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
                "AWS_SESSION_TOKEN for temporary keys), AWS_PROFILE with a profile in ~/.aws/credentials"
                + (f", or a Bedrock API key in {bearer_env}" if bearer_env else "")
                + "; for SSO, roles, container or instance credentials: pip install 'trio_direct[aws]'"
            )

    chosen_region = (
        region or _env(env, "AWS_REGION") or _env(env, "AWS_DEFAULT_REGION") or profiles.get("region")
    )
    if not chosen_region:
        raise UserError(
            "no AWS region set: set AWS_REGION (or AWS_DEFAULT_REGION), a `region` in your AWS profile, "
            "or pass `region_name`"
        )
    if not _REGION.match(chosen_region):
        raise UserError(f"{chosen_region!r} is not an AWS region name (like 'us-east-1')")

    url = endpoint_url
    if url is None and not _truthy(_env(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")):
        url = (
            _env(env, f"AWS_ENDPOINT_URL_{service_env_name}")
            or _env(env, "AWS_ENDPOINT_URL")
            or profiles.get("endpoint_url")
        )
    url = (url or default_endpoint.format(region=chosen_region)).rstrip("/")
    if not url.lower().startswith(("http://", "https://")):
        raise UserError(
            f"the AWS endpoint URL {url!r} must start with https:// (or http:// for a local server)"
        )
    if (
        token is not None
        and not url.lower().startswith("https://")
        and not (bearer_over_loopback_http and is_loopback_url(url))
    ):
        # As botocore: a bearer token is a long-lived secret; never send it in clear text.
        raise UserError(
            f"a Bedrock API key (from {source}) is sent only over HTTPS, but the endpoint is {url!r}; "
            "use an https:// endpoint, or SigV4 keys (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for a "
            "local test server"
        )
    return AWSConfig(
        region=chosen_region,
        endpoint_url=url,
        credentials=credentials,
        bearer_token=token,
        source=source,
        credential_source=lookup,
        bearer_over_loopback_http=bearer_over_loopback_http,
    )


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is this machine (``localhost``, ``127.0.0.0/8`` or ``[::1]``)."""
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _chain_enabled(chain: bool | None, env: Mapping[str, str]) -> bool:
    if chain is not None:
        return chain
    if (_env(env, "TRIO_DIRECT_AWS_CREDENTIAL_CHAIN") or "").lower() in ("off", "0", "false", "no"):
        return False
    from .chain import botocore_available

    return botocore_available()
