"""Vertex AI authentication and URLs (``trio_direct.models._gcp``).

Tokens come from a real HTTP token server on loopback (tests/loopback.py) that checks what a Google
token endpoint checks: the RS256 signature of a service-account JWT (with an RSA key generated here) and
its claims, or the refresh-token form of user credentials, or the metadata server's header. Expiry and
refresh run on Trio's ``MockClock`` (rate 0: time moves only when the test jumps it). Secrets — private
key, refresh token, client secret, access token — are checked against reprs, errors and logs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
import pytest
import trio
import trio.testing
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given
from hypothesis import strategies as st

from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import _http
from trio_direct.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelServerError,
    UserError,
)
from trio_direct.models import _gcp as gcp

ACCESS = "ya29.access-token-canary-1234567890"
REFRESH = "1//refresh-token-canary-abcdefgh"
CLIENT_SECRET = "client-secret-canary-zyxwvu"
#: The real check, before ``clean_env`` replaces it (this machine may well run on Google Cloud).
ON_GOOGLE_CLOUD = gcp._on_google_cloud  # pyright: ignore[reportPrivateUsage]


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token: str, public_key: rsa.RSAPublicKey) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (header, claims) of an RS256 JWT whose signature checks out (raises otherwise)."""
    head, body, signature = token.split(".")
    public_key.verify(_b64decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return json.loads(_b64decode(head)), json.loads(_b64decode(body))


class TokenServer:
    """A loopback token endpoint: checks each grant and hands out numbered access tokens."""

    def __init__(self, srv: LoopbackServer, public_key: rsa.RSAPublicKey | None = None) -> None:
        self.srv = srv
        self.public_key = public_key
        self.issued = 0
        self.expires_in: Any = 3600
        self.delay = 0.0
        self.claims: list[dict[str, Any]] = []
        self.headers: list[dict[str, Any]] = []
        srv.handler = self.handle

    @property
    def token_uri(self) -> str:
        return self.srv.url + "/token"

    def handle(self, request: Any) -> Reply:
        if self.delay:
            time.sleep(self.delay)
        if request.method == "GET":
            assert request.headers["metadata-flavor"] == "Google"
            assert request.path == "/computeMetadata/v1/instance/service-accounts/default/token"
            assert request.query == {"scopes": gcp.CLOUD_PLATFORM_SCOPE}
        else:
            assert request.path == "/token"
            assert request.headers["content-type"] == "application/x-www-form-urlencoded"
            form = dict(urllib.parse.parse_qsl(request.body.decode()))
            if form["grant_type"] == "refresh_token":
                assert form == {
                    "grant_type": "refresh_token",
                    "client_id": "client-id.apps",
                    "client_secret": CLIENT_SECRET,
                    "refresh_token": REFRESH,
                }
            else:
                assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
                assert self.public_key is not None
                header, claims = verify_jwt(form["assertion"], self.public_key)
                self.headers.append(header)
                self.claims.append(claims)
        self.issued += 1
        return Reply.json(
            {"access_token": f"{ACCESS}-{self.issued}", "expires_in": self.expires_in, "token_type": "Bearer"}
        )


def service_account_info(key: rsa.RSAPrivateKey, token_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": "my-project",
        "private_key_id": "kid-1",
        "private_key": _pem(key),
        "client_email": "svc@my-project.iam.gserviceaccount.com",
        "client_id": "123",
        "token_uri": token_uri,
        **extra,
    }


def user_info(token_uri: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "authorized_user",
        "client_id": "client-id.apps",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH,
        "token_uri": token_uri,
        **extra,
    }


@pytest.fixture
def clean_env() -> Iterator[None]:
    names = (
        "GOOGLE_APPLICATION_CREDENTIALS",
        "GOOGLE_API_KEY",
        "GEMINI_API_KEY",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "GOOGLE_CLOUD_LOCATION",
        "GOOGLE_VERTEX_BASE_URL",
        "CLOUDSDK_CONFIG",
        "GCE_METADATA_HOST",
        "GCE_METADATA_ROOT",
    )
    env = {k: v for k, v in os.environ.items() if k not in names}
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(gcp, "_on_google_cloud", lambda: False),
    ):
        yield


# --------------------------------------------------------------------------------------------------
# tokens over real HTTP


async def test_service_account_token_is_signed_fetched_and_cached(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey, mock_clock: trio.testing.MockClock
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    creds = gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri), "test key")
    source = gcp.TokenSource(creds)
    before = int(time.time())
    assert await source.token() == f"{ACCESS}-1"
    assert await source.token() == f"{ACCESS}-1"  # cached: one request
    assert server.issued == 1
    (header,) = server.headers
    (claims,) = server.claims
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "kid-1"}
    assert claims["iss"] == "svc@my-project.iam.gserviceaccount.com"
    assert claims["aud"] == server.token_uri
    assert claims["scope"] == gcp.CLOUD_PLATFORM_SCOPE
    assert before <= claims["iat"] <= int(time.time()) and claims["exp"] == claims["iat"] + 3600
    assert await source.headers() == {"authorization": f"Bearer {ACCESS}-1"}


async def test_refresh_ahead_of_expiry(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey, mock_clock: trio.testing.MockClock
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    source = gcp.TokenSource(gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri)))
    assert await source.token() == f"{ACCESS}-1"
    mock_clock.jump(3600 - 300 - 1)  # just before the refresh margin
    assert await source.token() == f"{ACCESS}-1"
    mock_clock.jump(2)  # inside the margin: refreshed while the old one is still valid
    assert await source.token() == f"{ACCESS}-2"
    mock_clock.jump(10_000)  # long expired
    assert await source.token() == f"{ACCESS}-3"
    assert server.issued == 3


async def test_short_lived_tokens_refresh_at_half_life(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey, mock_clock: trio.testing.MockClock
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    server.expires_in = "120"  # some endpoints send a string
    source = gcp.TokenSource(gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri)))
    assert await source.token() == f"{ACCESS}-1"
    mock_clock.jump(59)
    assert await source.token() == f"{ACCESS}-1"
    mock_clock.jump(2)
    assert await source.token() == f"{ACCESS}-2"


async def test_concurrent_callers_share_one_refresh(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey, mock_clock: trio.testing.MockClock
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    server.delay = 0.2  # every caller arrives while the first fetch is in flight
    source = gcp.TokenSource(gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri)))
    got: list[str] = []

    async def call() -> None:
        got.append(await source.token())

    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(call)
    assert got == [f"{ACCESS}-1"] * 20
    assert server.issued == 1
    mock_clock.jump(3600)
    async with trio.open_nursery() as nursery:
        for _ in range(20):
            nursery.start_soon(call)
    assert got[20:] == [f"{ACCESS}-2"] * 20
    assert server.issued == 2


async def test_each_trio_run_has_its_own_token_state(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    source = gcp.TokenSource(gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri)))
    assert await source.token() == f"{ACCESS}-1"
    # another run (a thread, like the portal) fetches its own, on its own clock and lock
    other = await trio.to_thread.run_sync(lambda: trio.run(source.token))
    assert other == f"{ACCESS}-2"
    assert await source.token() == f"{ACCESS}-1"


async def test_authorized_user_refresh_and_quota_project(loopback: LoopbackServer) -> None:
    server = TokenServer(loopback)
    creds = gcp.credentials_from_info(user_info(server.token_uri, quota_project_id="billing-proj"))
    source = gcp.TokenSource(creds)
    assert await source.headers() == {
        "authorization": f"Bearer {ACCESS}-1",
        "x-goog-user-project": "billing-proj",
    }
    source.invalidate()
    assert await source.token() == f"{ACCESS}-2"


async def test_metadata_server(loopback: LoopbackServer) -> None:
    TokenServer(loopback)
    host = loopback.url.removeprefix("http://")
    source = gcp.TokenSource(gcp.MetadataServerCredentials(host=host))
    assert await source.token() == f"{ACCESS}-1"
    assert loopback.requests[0].method == "GET"


async def test_cancelled_fetch_leaves_nothing_behind(loopback: LoopbackServer) -> None:
    TokenServer(loopback)
    source = gcp.TokenSource(gcp.credentials_from_info(user_info(loopback.url + "/token")))
    loopback.enqueue(Reply.of(stall()))
    with trio.move_on_after(0.3) as scope:
        await source.token()
    assert scope.cancelled_caught
    assert len(loopback.requests) == 1  # it was cancelled while waiting for the stalled endpoint
    # the lock was released and no token was stored: the next caller fetches
    with trio.fail_after(10):
        assert await source.token() == f"{ACCESS}-1"


# --------------------------------------------------------------------------------------------------
# token endpoint failures


def _user_source(srv: LoopbackServer) -> gcp.TokenSource:
    return gcp.TokenSource(gcp.credentials_from_info(user_info(srv.url + "/token"), "ADC file 'x.json'"))


def _assert_no_secrets(text: str) -> None:
    for secret in (REFRESH, CLIENT_SECRET, ACCESS):
        assert secret not in text, text


async def test_rejected_grant_is_an_authentication_error_without_secrets(loopback: LoopbackServer) -> None:
    # a token endpoint echoing what it got back must not put the refresh token into our error
    loopback.enqueue(
        Reply.json(
            {"error": "invalid_grant", "error_description": f"Token has been expired or revoked: {REFRESH}"},
            status=400,
        )
    )
    with pytest.raises(ModelAuthenticationError) as raised:
        await _user_source(loopback).token(model_name="gemini-2.5-flash")
    error = raised.value
    assert isinstance(error, ModelHTTPError) and error.status_code == 400
    assert error.provider_error_code == "invalid_grant"
    assert error.model_name == "gemini-2.5-flash"
    assert "gcloud auth application-default login" in str(error) and "ADC file 'x.json'" in str(error)
    _assert_no_secrets(str(error))
    _assert_no_secrets(repr(error.body))


@pytest.mark.parametrize(
    ("reply", "category"),
    [
        (Reply.json({"error": "internal_failure"}, status=500), ModelServerError),
        (Reply.json({"error": "invalid_client"}, status=401), ModelAuthenticationError),
        (Reply.json({"token_type": "Bearer"}), ModelAPIError),
        (Reply.json({"access_token": "t", "expires_in": -5}), ModelAPIError),
        (Reply.body(b"<html>oops", content_type="text/html"), ModelAPIError),
    ],
)
async def test_token_endpoint_failures_are_typed(
    loopback: LoopbackServer, reply: Reply, category: type[Exception]
) -> None:
    loopback.enqueue(reply)
    with pytest.raises(category):
        await _user_source(loopback).token()


async def test_unreachable_token_endpoint() -> None:
    source = gcp.TokenSource(gcp.credentials_from_info(user_info("http://127.0.0.1:9/token")))
    with pytest.raises(ModelConnectionError):
        await source.token()


async def test_failed_refresh_keeps_the_valid_token(
    loopback: LoopbackServer, mock_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    server = TokenServer(loopback)
    source = _user_source(loopback)
    assert await source.token() == f"{ACCESS}-1"
    mock_clock.jump(3400)  # inside the refresh margin, still valid
    loopback.enqueue(Reply.json({"error": "backend_error"}, status=503))
    with caplog.at_level(logging.WARNING, logger="trio_direct.gcp"):
        assert await source.token() == f"{ACCESS}-1"
    assert "could not refresh" in caplog.text
    assert await source.token() == f"{ACCESS}-1"  # no new attempt right away
    assert len(loopback.requests) == 2
    mock_clock.jump(31)
    assert await source.token() == f"{ACCESS}-2"
    mock_clock.jump(10_000)
    loopback.enqueue(Reply.json({"error": "backend_error"}, status=503))
    with pytest.raises(ModelHTTPError):  # expired: nothing to fall back on
        await source.token()
    assert server.issued == 2


async def test_logs_and_reprs_never_show_secrets(
    loopback: LoopbackServer, rsa_key: rsa.RSAPrivateKey, caplog: pytest.LogCaptureFixture
) -> None:
    server = TokenServer(loopback, rsa_key.public_key())
    sa = gcp.credentials_from_info(service_account_info(rsa_key, server.token_uri))
    user = gcp.credentials_from_info(user_info(server.token_uri))
    with caplog.at_level(logging.DEBUG):
        for creds in (sa, user):
            source = gcp.TokenSource(creds)
            await source.token()
            state = source._state()  # pyright: ignore[reportPrivateUsage]
            for text in (repr(creds), repr(source), repr(state.token), str(creds)):
                _assert_no_secrets(text)
                assert "PRIVATE KEY" not in text
    target = gcp.VertexTarget("https://x", None, None, api_key="AIza-express-canary")
    assert "AIza-express-canary" not in repr(target)
    for record in caplog.records:
        _assert_no_secrets(record.getMessage())
        assert "PRIVATE KEY" not in record.getMessage()


# --------------------------------------------------------------------------------------------------
# signing


def test_sign_jwt_rs256_verifies(rsa_key: rsa.RSAPrivateKey) -> None:
    token = gcp.sign_jwt_rs256({"a": 1, "b": "é"}, _pem(rsa_key), key_id="k")
    header, claims = verify_jwt(token, rsa_key.public_key())
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "k"}
    assert claims == {"a": 1, "b": "é"}
    assert "=" not in token


def test_bad_private_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(UserError, match="not a PEM-encoded private key") as raised:
        gcp.sign_jwt_rs256(
            {}, "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n", source="k.json"
        )
    assert "k.json" in str(raised.value)
    from cryptography.hazmat.primitives.asymmetric import ec

    ec_pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(UserError, match="not an RSA key"):
        gcp.sign_jwt_rs256({}, ec_pem)


def test_missing_cryptography_names_the_extra(rsa_key: rsa.RSAPrivateKey) -> None:
    with (
        mock.patch.dict("sys.modules", {"cryptography.hazmat.primitives": None}),
        pytest.raises(UserError, match=r"trio_direct\[vertex\]"),
    ):
        gcp.sign_jwt_rs256({}, _pem(rsa_key))


# --------------------------------------------------------------------------------------------------
# credentials files and discovery


def _write(path: Path, data: Any) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def test_credentials_file_errors(tmp_path: Path, clean_env: None) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(UserError, match="GOOGLE_APPLICATION_CREDENTIALS") as raised:
        gcp.load_credentials_file(missing, variable="GOOGLE_APPLICATION_CREDENTIALS")
    assert "nope.json" in str(raised.value)
    with pytest.raises(UserError, match="not JSON"):
        gcp.load_credentials_file(_write(tmp_path / "a.json", "{nope"))
    with pytest.raises(UserError, match="not a JSON object"):
        gcp.load_credentials_file(_write(tmp_path / "b.json", [1]))
    with pytest.raises(UserError, match="'external_account'"):
        gcp.load_credentials_file(_write(tmp_path / "c.json", {"type": "external_account"}))
    with pytest.raises(UserError, match="'refresh_token'"):
        gcp.load_credentials_file(
            _write(tmp_path / "d.json", {"type": "authorized_user", "client_id": "x", "client_secret": "y"})
        )


def test_default_credentials_discovery(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, clean_env: None) -> None:
    with mock.patch.dict(os.environ, {"HOME": str(tmp_path)}):
        with pytest.raises(UserError, match="No Google Cloud credentials found") as raised:
            gcp.default_credentials()
        assert "gcloud auth application-default login" in str(raised.value)
        # gcloud's well-known file under CLOUDSDK_CONFIG
        config = tmp_path / "gcloud-config"
        config.mkdir()
        _write(
            config / "application_default_credentials.json", user_info("https://oauth2.googleapis.com/token")
        )
        os.environ["CLOUDSDK_CONFIG"] = str(config)
        assert isinstance(gcp.default_credentials(), gcp.AuthorizedUserCredentials)
        # GOOGLE_APPLICATION_CREDENTIALS wins
        key = _write(
            tmp_path / "sa.json", service_account_info(rsa_key, "https://oauth2.googleapis.com/token")
        )
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(key)
        found = gcp.default_credentials()
        assert isinstance(found, gcp.ServiceAccountCredentials) and found.project_id == "my-project"
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "gone.json")
        with pytest.raises(UserError, match="GOOGLE_APPLICATION_CREDENTIALS"):
            gcp.default_credentials()
        # on Google Cloud, the metadata server
        del os.environ["GOOGLE_APPLICATION_CREDENTIALS"], os.environ["CLOUDSDK_CONFIG"]
        os.environ["GCE_METADATA_HOST"] = "169.254.169.254"
        with mock.patch.object(gcp, "_on_google_cloud", ON_GOOGLE_CLOUD):
            assert gcp.default_credentials() == gcp.MetadataServerCredentials(host="169.254.169.254")


# --------------------------------------------------------------------------------------------------
# resolution (2.68's GoogleCloudProvider precedence) and authorizing requests


def test_resolve_express_mode(clean_env: None) -> None:
    with mock.patch.dict(os.environ, {"GOOGLE_API_KEY": "AIza-google", "GEMINI_API_KEY": "AIza-gemini"}):
        target = gcp.resolve_vertex()
        assert (target.api_key, target.project, target.location) == ("AIza-google", None, None)
        assert target.provider_url == "https://aiplatform.googleapis.com/"
        assert (
            target.url("gemini-2.5-flash", stream=True)
            == "https://aiplatform.googleapis.com/v1beta1/publishers/google/models/gemini-2.5-flash"
            ":streamGenerateContent?alt=sse"
        )
        assert gcp.resolve_vertex(api_key="AIza-explicit").api_key == "AIza-explicit"


def test_resolve_project_mode(tmp_path: Path, rsa_key: rsa.RSAPrivateKey, clean_env: None) -> None:
    key = _write(tmp_path / "sa.json", service_account_info(rsa_key, "https://oauth2.googleapis.com/token"))
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key), "GOOGLE_API_KEY": "AIza-ignored"}
    with mock.patch.dict(os.environ, env):
        # a credentials file in the environment beats an API key in the environment
        target = gcp.resolve_vertex()
        assert target.api_key is None and target.tokens is not None
        assert (target.project, target.location) == ("my-project", "us-central1")
        assert target.provider_url == "https://us-central1-aiplatform.googleapis.com/"
        assert target.url("gemini-2.5-pro", stream=False) == (
            "https://us-central1-aiplatform.googleapis.com/v1beta1/projects/my-project/locations/us-central1"
            "/publishers/google/models/gemini-2.5-pro:generateContent"
        )
        os.environ |= {"GOOGLE_CLOUD_PROJECT": "env-proj", "GOOGLE_CLOUD_LOCATION": "global"}
        target = gcp.resolve_vertex()
        assert (target.project, target.location, target.base_url) == (
            "env-proj",
            "global",
            "https://aiplatform.googleapis.com",
        )
    # an explicit project or location drops even an explicit API key (2.68)
    creds = gcp.credentials_from_info(user_info("https://oauth2.googleapis.com/token"))
    target = gcp.resolve_vertex(api_key="AIza-x", credentials=creds, project="p", location="eu")
    assert target.api_key is None and target.base_url == "https://aiplatform.eu.rep.googleapis.com"
    with pytest.raises(UserError, match="GOOGLE_CLOUD_PROJECT"):
        gcp.resolve_vertex(credentials=creds)
    with mock.patch.dict(os.environ, {"GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:1234/"}):
        target = gcp.resolve_vertex(credentials=creds, project="p")
        assert target.url("m", stream=False) == (
            "http://127.0.0.1:1234/v1beta1/projects/p/locations/us-central1/publishers/google/models/m:generateContent"
        )


async def test_authorize_adds_the_credentials(loopback: LoopbackServer) -> None:
    server = TokenServer(loopback)
    request = _http.HTTPRequest.json("https://x/v1beta1/m:generateContent", {}, {"user-agent": "t"})
    express = gcp.VertexTarget("https://aiplatform.googleapis.com", None, None, api_key="AIza-k")
    authorized = await express.authorize(request, model_name="m")
    assert authorized.headers["x-goog-api-key"] == "AIza-k" and authorized.headers["user-agent"] == "t"
    assert "x-goog-api-key" not in request.headers  # the original is left alone
    tokens = gcp.TokenSource(gcp.credentials_from_info(user_info(server.token_uri)))
    project = gcp.VertexTarget("https://x", "p", "us-central1", tokens=tokens)
    authorized = await project.authorize(request, model_name="m")
    assert authorized.headers["authorization"] == f"Bearer {ACCESS}-1"
    # the redaction helper treats the bearer token as a secret
    assert f"{ACCESS}-1" in _http.credentials_of(authorized)


# --------------------------------------------------------------------------------------------------
# URLs


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("gemini-2.5-flash", "publishers/google/models/gemini-2.5-flash"),
        ("anthropic/claude-sonnet-4@20250514", "publishers/anthropic/models/claude-sonnet-4@20250514"),
        ("publishers/meta/models/llama", "publishers/meta/models/llama"),
        ("models/tuned-1", "models/tuned-1"),
        ("a b:c", "publishers/google/models/a%20b%3Ac"),
        ("weird%2F", "publishers/google/models/weird%252F"),
    ],
)
def test_vertex_model_path(model: str, path: str) -> None:
    assert gcp.vertex_model_path(model) == path


def test_full_resource_names_and_locations() -> None:
    assert gcp.vertex_url(
        "projects/p2/locations/europe-west4/publishers/google/models/m",
        stream=False,
        project="p",
        location="us",
    ) == (
        "https://aiplatform.us.rep.googleapis.com/v1beta1/projects/p2/locations/europe-west4/"
        "publishers/google/models/m:generateContent"
    )
    assert gcp.vertex_base_url("europe-west4") == "https://europe-west4-aiplatform.googleapis.com"
    assert gcp.vertex_base_url(None) == gcp.vertex_base_url("global") == "https://aiplatform.googleapis.com"


@pytest.mark.parametrize(
    "bad", ["", "..", "a/../b", "publishers//models/x", "x?alt=json", "x#f", "a&b", "x\ny", "models/."]
)
def test_vertex_model_path_rejects(bad: str) -> None:
    with pytest.raises(UserError):
        gcp.vertex_model_path(bad)


@pytest.mark.parametrize("location", ["us-central1/../x", "evil.com", "", "us central", "us-é"])
def test_locations_are_validated(location: str) -> None:
    with pytest.raises(UserError, match="location"):
        gcp.vertex_base_url(location)


def test_project_needs_a_location() -> None:
    with pytest.raises(UserError, match="location"):
        gcp.vertex_url("m", stream=False, project="p")


_segment_text = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="/?#&"), min_size=1, max_size=20
).filter(lambda s: s not in (".", "..") and all(ord(c) >= 0x20 and ord(c) != 0x7F for c in s))


@given(project=_segment_text, model=_segment_text, stream=st.booleans())
def test_vertex_url_segments_round_trip(project: str, model: str, stream: bool) -> None:
    """Whatever the project and model, each lands in exactly one path segment that decodes back to it."""
    url = gcp.vertex_url(model, stream=stream, project=project, location="us-central1")
    parts = urllib.parse.urlsplit(url)
    assert parts.netloc == "us-central1-aiplatform.googleapis.com"
    assert parts.query == ("alt=sse" if stream else "") and not parts.fragment
    segments = parts.path.split("/")
    assert segments[:4] == ["", "v1beta1", "projects", segments[3]]
    assert urllib.parse.unquote(segments[3]) == project
    last, _, method = segments[-1].rpartition(":")
    assert method == ("streamGenerateContent" if stream else "generateContent")
    assert urllib.parse.unquote(last) == model
    assert len(segments) == 10


def test_tokens_are_plain_data() -> None:
    token = gcp.AccessToken("secret-value-123", 10.0, 5.0)
    assert "secret-value-123" not in repr(token)
    assert orjson.loads(orjson.dumps({"t": token.value}))["t"] == "secret-value-123"


async def test_the_wiring_the_gemini_module_will_use(loopback: LoopbackServer, clean_env: None) -> None:
    """What ``google-cloud:`` will do after the provider-layer merge, end to end over loopback: a Gemini
    body, the Vertex URL from :func:`resolve_vertex`, a bearer token from the token endpoint."""
    from trio_direct import ModelRequest, ModelRequestParameters, ModelSettings
    from trio_direct.models.google import GoogleModel

    server = TokenServer(loopback)
    creds = gcp.credentials_from_info(user_info(server.token_uri))
    with mock.patch.dict(os.environ, {"GOOGLE_VERTEX_BASE_URL": loopback.url}):
        target = gcp.resolve_vertex(credentials=creds, project="my-proj", location="europe-west4")
    gemini = GoogleModel("gemini-2.5-flash", api_key="unused", base_url="http://unused")
    built = gemini.build_request(
        [ModelRequest.user_text_prompt("hi")], ModelSettings(), ModelRequestParameters(), stream=False
    )
    headers = {k: v for k, v in built.headers.items() if k.lower() != "x-goog-api-key"}
    request = _http.HTTPRequest(target.url("gemini-2.5-flash", stream=False), built.body, headers)
    request = await target.authorize(request, model_name="gemini-2.5-flash")
    loopback.enqueue(
        Reply.json(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}
                ]
            }
        )
    )
    # the token request went first (answered by the token server); the model request takes the reply
    status, _, _ = await _http.send(request, model_name="gemini-2.5-flash")
    assert status == 200
    sent = loopback.requests[-1]
    assert sent.path == (
        "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    assert sent.headers["authorization"] == f"Bearer {ACCESS}-1"
    assert "x-goog-api-key" not in sent.headers
    assert sent.json["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
