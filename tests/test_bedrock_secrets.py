"""Bedrock credentials never show: a SigV4 secret key, a session token and a Bedrock API key are kept out
of reprs, exception messages and bodies, tracebacks and log records — even when the server echoes the
request's headers back in an error body or an exception frame."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

import orjson
import pytest

from tests.eventstream import encode_message, eventstream_reply, text_stream
from tests.loopback import LoopbackServer, Reply
from trio_direct import ModelRequest, TrioDirectError, model_request, model_request_stream
from trio_direct._aws.credentials import AWSConfig, AWSCredentials, resolve_aws_config
from trio_direct.models import infer_model
from trio_direct.models.bedrock import BedrockConverseModel

SECRET_KEY = "cAnArYsEcReTkEy/0123456789+abcdefABCDEF"
SESSION_TOKEN = "cAnArYsEsSiOnToKeN-IQoJb3JpZ2luX2VjEXAMPLE-0123456789"
BEARER = "ABSKcAnArYbEaReRtOkEn0123456789abcdef"
PROMPT = [ModelRequest.user_text_prompt("hi")]


def assert_clean(text: str, where: str) -> None:
    for secret in (SECRET_KEY, SESSION_TOKEN, BEARER):
        assert secret not in text, f"a credential leaked into {where}: {text[:300]!r}"


def sigv4(srv: LoopbackServer) -> BedrockConverseModel:
    return BedrockConverseModel(
        "us.amazon.nova-micro-v1:0",
        config=AWSConfig(
            region="us-east-1",
            endpoint_url=srv.url,
            credentials=AWSCredentials("AKIDCANARY", SECRET_KEY, SESSION_TOKEN),
        ),
    )


def _echo(request_headers: dict[str, str]) -> bytes:
    # a misbehaving proxy that quotes every request header back
    return orjson.dumps({"message": f"denied: {request_headers}"})


def _check_error(exc: BaseException) -> None:
    assert_clean(str(exc), "str(error)")
    assert_clean(repr(exc), "repr(error)")
    assert_clean(repr(getattr(exc, "body", None)), "error.body")
    assert_clean("".join(traceback.format_exception(exc)), "the traceback")


def test_reprs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "c"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "c"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDCANARY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_BEARER_TOKEN_BEDROCK", raising=False)
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    assert isinstance(model, BedrockConverseModel)
    for text in (repr(model), str(model), repr(model.aws), repr(model.aws.credentials), repr(model.provider)):
        assert_clean(text, "a repr")
    request = model.build_request(PROMPT, {}, model.prepare_request(None, None)[1], stream=False)
    assert_clean(repr(request), "repr(HTTPRequest)")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", BEARER)
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:9")
    with pytest.raises(TrioDirectError) as info:  # bearer over plain HTTP is refused, without quoting it
        infer_model("bedrock:us.amazon.nova-micro-v1:0")
    _check_error(info.value)


async def test_echoed_error_body_is_redacted(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    loopback.handler = lambda request: Reply.body(
        _echo(request.headers), status=403, content_type="application/json"
    )  # type: ignore[method-assign]
    with pytest.raises(TrioDirectError) as info:
        await model_request(sigv4(loopback), PROMPT)
    assert "x-amz-security-token" in str(info.value)  # the echo did arrive...
    _check_error(info.value)  # ...without the token
    assert SESSION_TOKEN in loopback.requests[0].headers["x-amz-security-token"]
    for record in caplog.records:
        assert_clean(record.getMessage(), "a log record")


async def test_echoed_stream_exception_is_redacted(loopback: LoopbackServer) -> None:
    def reply(request: object) -> Reply:
        frame = encode_message(
            {":exception-type": "validationException", ":message-type": "exception"},
            _echo(request.headers),  # type: ignore[attr-defined]
        )
        return eventstream_reply([text_stream(["a"])[0], frame])

    loopback.handler = reply  # type: ignore[method-assign]
    with pytest.raises(TrioDirectError) as info:
        async with model_request_stream(sigv4(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    _check_error(info.value)


def test_resolution_errors_never_quote_credentials(tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(f"[p]\naws_secret_access_key = {SECRET_KEY}\n[broken")
    env = {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "x"),
        "AWS_PROFILE": "p",
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_BEARER_TOKEN_BEDROCK": BEARER,
    }
    with pytest.raises(TrioDirectError) as info:
        resolve_aws_config(
            service_env_name="BEDROCK_RUNTIME", default_endpoint="https://x", environ=env, chain=False
        )
    _check_error(info.value)
