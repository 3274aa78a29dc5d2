"""trio_direct._aws.chain: botocore's full credential chain (the ``aws`` extra), looked up at request time.

ECS-style container credentials served by the loopback server stand in for every botocore provider:
the first request looks them up in a worker thread, later ones reuse them until botocore wants a
refresh, and the request is signed with them."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.eventstream import eventstream_reply, text_stream
from tests.loopback import LoopbackServer, Reply
from trio_direct import ModelRequest, UserError, model_request, model_request_stream
from trio_direct._aws.chain import BotocoreCredentials
from trio_direct._aws.credentials import resolve_aws_config
from trio_direct.models import infer_model

pytest.importorskip("botocore")

PROMPT = [ModelRequest.user_text_prompt("hi")]
SECRET = "cHaInSeCrEt/0123456789abcdefABCDEF"
TOKEN = "cHaInToKeN-0123456789"
REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
}


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No keys anywhere, no instance metadata, empty shared files, a region."""
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ENDPOINT_URL",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "TRIO_DIRECT_AWS_CREDENTIAL_CHAIN",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return monkeypatch


def _serve(srv: LoopbackServer, expires_in: datetime.timedelta) -> list[int]:
    """Container credentials at /creds (a new key id per fetch), Bedrock everywhere else."""
    fetches: list[int] = []

    def handler(request: Any) -> Reply:
        if request.path == "/creds":
            fetches.append(1)
            expiry = datetime.datetime.now(datetime.UTC) + expires_in
            return Reply.json(
                {
                    "AccessKeyId": f"ASIACHAIN{len(fetches)}",
                    "SecretAccessKey": SECRET,
                    "Token": TOKEN,
                    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        if request.path.endswith("/converse-stream"):
            return eventstream_reply(text_stream(["ok"]))
        return Reply.json(REPLY)

    srv.handler = handler  # type: ignore[method-assign]
    return fetches


async def test_container_credentials_are_looked_up_once_and_signed_with(
    loopback: LoopbackServer, aws_env: pytest.MonkeyPatch
) -> None:
    fetches = _serve(loopback, datetime.timedelta(hours=6))
    aws_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{loopback.url}/creds")
    aws_env.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", loopback.url)
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    assert "botocore" in repr(model.aws)  # type: ignore[attr-defined]
    assert fetches == []  # resolution does no network I/O
    await model_request(model, PROMPT)
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
    assert len(fetches) == 1
    bedrock_requests = [r for r in loopback.requests if r.path != "/creds"]
    for request in bedrock_requests:
        assert "Credential=ASIACHAIN1/" in request.headers["authorization"]
        assert request.headers["x-amz-security-token"] == TOKEN


async def test_credentials_near_expiry_are_refreshed(
    loopback: LoopbackServer, aws_env: pytest.MonkeyPatch
) -> None:
    # inside botocore's 15-minute advisory window, outside its 10-minute mandatory one
    fetches = _serve(loopback, datetime.timedelta(minutes=12))
    aws_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{loopback.url}/creds")
    aws_env.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", loopback.url)
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    await model_request(model, PROMPT)
    after_first = len(fetches)
    await model_request(model, PROMPT)
    assert len(fetches) > after_first  # botocore refreshed them for the second request
    last = [r for r in loopback.requests if r.path != "/creds"][-1]
    assert f"Credential=ASIACHAIN{len(fetches)}/" in last.headers["authorization"]


async def test_no_credentials_anywhere_is_a_user_error_at_request_time(
    loopback: LoopbackServer, aws_env: pytest.MonkeyPatch
) -> None:
    aws_env.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", loopback.url)
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    with pytest.raises(UserError, match="botocore's credential chain"):
        await model_request(model, PROMPT)
    assert loopback.requests == []


def test_login_profiles_go_to_botocore(aws_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    aws_env.delenv("AWS_REGION")
    (tmp_path / "config").write_text("[profile sso]\nsso_session = corp\nregion = eu-west-1\n")
    aws_env.setenv("AWS_PROFILE", "sso")
    config = resolve_aws_config(service_env_name="BEDROCK_RUNTIME", default_endpoint="https://x.{region}")
    assert isinstance(config.credential_source, BotocoreCredentials)
    assert config.region == "eu-west-1" and config.credentials is None


def test_chain_can_be_turned_off(aws_env: pytest.MonkeyPatch) -> None:
    aws_env.setenv("TRIO_DIRECT_AWS_CREDENTIAL_CHAIN", "off")
    with pytest.raises(UserError, match=r"trio_direct\[aws\]"):
        resolve_aws_config(service_env_name="BEDROCK_RUNTIME", default_endpoint="https://x")


def test_without_botocore_the_error_says_how_to_get_it(aws_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    aws_env.setitem(sys.modules, "botocore", None)  # import botocore → ImportError
    aws_env.setitem(sys.modules, "botocore.session", None)
    (tmp_path / "config").write_text("[profile sso]\nsso_session = corp\n")
    aws_env.setenv("AWS_PROFILE", "sso")
    with pytest.raises(UserError, match=r"needs botocore \(pip install 'trio_direct\[aws\]'\)"):
        resolve_aws_config(service_env_name="BEDROCK_RUNTIME", default_endpoint="https://x")


async def test_chain_secrets_stay_out_of_errors(
    loopback: LoopbackServer, aws_env: pytest.MonkeyPatch
) -> None:
    def handler(request: Any) -> Reply:
        if request.path == "/creds":
            expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)
            return Reply.json(
                {
                    "AccessKeyId": "ASIAX",
                    "SecretAccessKey": SECRET,
                    "Token": TOKEN,
                    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            )
        return Reply.body(
            orjson.dumps({"message": str(request.headers)}), status=403, content_type="application/json"
        )

    loopback.handler = handler  # type: ignore[method-assign]
    aws_env.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{loopback.url}/creds")
    aws_env.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", loopback.url)
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    with pytest.raises(Exception) as info:
        await model_request(model, PROMPT)
    assert TOKEN not in str(info.value) and TOKEN not in repr(getattr(info.value, "body", None))
    assert SECRET not in repr(model.aws) and TOKEN not in repr(model.aws)  # type: ignore[attr-defined]
