"""``Model.count_tokens``: Anthropic ``count_tokens``, Responses ``input_tokens``, Gemini ``countTokens``,
Bedrock ``CountTokens``.

The request bodies are compared with what pydantic-ai-slim 2.68's ``count_tokens`` sent for every
non-streamed request scenario of each provider's fixtures (``tests/data/count_tokens_<provider>.json``,
made by ``tests/data/make_count_tokens_fixtures.py``), and so are the error classes it raised for the
same error replies. The HTTP side runs against the real loopback server (tests/loopback.py): path,
headers and body as the server saw them, the count, categorised errors, unreadable bodies, timeouts,
and no key in any error.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.captured import first_difference, params_from_capture, settings_from_capture
from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import ModelRequest, ModelRequestParameters, ToolDefinition
from trio_direct._aws.credentials import AWSConfig, AWSCredentials
from trio_direct.exceptions import (
    ModelConnectionError,
    ModelHTTPError,
    ModelTimeoutError,
    NotSupportedError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.models import infer_model
from trio_direct.models._json import parse_token_count
from trio_direct.models.anthropic import AnthropicModel
from trio_direct.models.base import HTTPModel, Model, Provider
from trio_direct.models.bedrock import BedrockConverseModel
from trio_direct.models.fallback import FallbackModel
from trio_direct.models.function import FunctionModel
from trio_direct.models.google import GoogleModel
from trio_direct.models.instrumented import InstrumentedModel
from trio_direct.models.openai_responses import OpenAIResponsesModel
from trio_direct.models.test import TestModel
from trio_direct.models.wrapper import WrapperModel
from trio_direct.serialization import messages_from_python
from trio_direct.settings import ModelSettings
from trio_direct.usage import RequestUsage

DATA = Path(__file__).parent / "data"
PROVIDERS = ("anthropic", "openai_responses", "google", "bedrock")
CAPTURES: dict[str, Any] = {p: json.loads((DATA / f"count_tokens_{p}.json").read_text()) for p in PROVIDERS}
KEY = "sk-secret-key-0123456789"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
HI = [ModelRequest.user_text_prompt("hi")]


def make(provider: str, model_name: str, base_url: str) -> HTTPModel:
    if provider == "anthropic":
        return AnthropicModel(model_name, api_key=KEY, base_url=base_url)
    if provider == "google":
        return GoogleModel(model_name, api_key=KEY, base_url=base_url)
    if provider == "bedrock":
        # a Bedrock API key, allowed over plain HTTP to the loopback server; SigV4 is tested below
        config = AWSConfig(
            region="us-east-1", endpoint_url=base_url, bearer_token=KEY, bearer_over_loopback_http=True
        )
        if not base_url.startswith("http://127.0.0.1"):  # request building only: signed, no I/O
            config = AWSConfig(
                region="us-east-1", endpoint_url=base_url, credentials=AWSCredentials("AKID", SECRET)
            )
        return BedrockConverseModel(model_name, config=config)
    return OpenAIResponsesModel(model_name, provider=Provider("openai", base_url + "/v1", KEY))


#: The providers' real roots: replayed history keeps server-side items only for the same endpoint.
ROOTS = {
    "anthropic": "https://api.anthropic.com",
    "openai_responses": "https://api.openai.com",
    "google": "https://generativelanguage.googleapis.com",
    "bedrock": "https://bedrock-runtime.us-east-1.amazonaws.com",
}
#: Where each provider's count goes, under the loopback root, for its default test model.
PATHS = {
    "anthropic": "/v1/messages/count_tokens",
    "openai_responses": "/v1/responses/input_tokens",
    "google": "/v1beta/models/gemini-2.5-flash:countTokens",
    "bedrock": "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens",
}
MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "openai_responses": "gpt-4o",
    "google": "gemini-2.5-flash",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}
REPLIES = {
    "anthropic": {"input_tokens": 42},
    "openai_responses": {"object": "response.input_tokens", "input_tokens": 42},
    "google": {"totalTokens": 42, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 42}]},
    "bedrock": {"inputTokens": 42},
}
FIELDS = {
    "anthropic": "input_tokens",
    "openai_responses": "input_tokens",
    "google": "totalTokens",
    "bedrock": "inputTokens",
}


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68


def _request_cases() -> list[Any]:
    return [
        pytest.param(provider, case, id=f"{provider}-{case['name']}")
        for provider in PROVIDERS
        for case in CAPTURES[provider]["requests"]
    ]


@pytest.mark.parametrize(("provider", "case"), _request_cases())
def test_count_request_matches_pydantic_ai(provider: str, case: dict[str, Any]) -> None:
    """Body, path, listed headers and warnings are what 2.68's ``count_tokens`` sent (or both raise)."""
    messages = messages_from_python(case["messages"])
    expected = case["expected"]
    root = ROOTS[provider]
    model = make(provider, case["model"], root)
    settings, params = model.prepare_request(
        settings_from_capture(case["settings"]), params_from_capture(case["params"], messages)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            # 2.68's NotImplementedError/RuntimeError for unsendable content is a UserError here, as
            # in the live request tests
            assert not expected["sent"]
            with pytest.raises(UserError) as raised:
                model.build_count_tokens_request(messages, settings, params)
            if expected["error"] == "UserError" and provider == "google":  # as test_google checks it
                assert str(raised.value) == expected["message"]
            return
        request = model.build_count_tokens_request(messages, settings, params)
    body = orjson.loads(request.body)
    if provider == "google":
        from tests.test_google import _canon  # the camelCase/snake_case and base64 spellings

        assert first_difference(_canon(body), _canon(expected["body"])) is None
    else:
        assert first_difference(body, expected["body"]) is None
    query = expected.get("query")
    assert request.url == root + expected["path"] + (f"?{query}" if query else "")
    assert [str(w.message) for w in caught] == expected["warnings"]
    lowered = {k.lower(): v for k, v in request.headers.items()}
    for name, value in expected["headers"].items():
        assert lowered[name] == (KEY if name == "x-goog-api-key" else value), name
    assert set(expected["headers"]) >= {n for n in lowered if n in ("anthropic-beta", "x-server-timeout")}


def test_captures_cover_the_interesting_cases() -> None:
    """The captures hold enough scenarios, and the ones where the count differs from the live request."""
    names = {p: {c["name"] for c in CAPTURES[p]["requests"]} for p in PROVIDERS}
    assert len(names["anthropic"]) > 70 and len(names["google"]) > 90 and len(names["openai_responses"]) > 50
    assert {"every_setting", "gpt_5_drops_sampling", "empty_history", "extra_headers"} <= names[
        "openai_responses"
    ]
    assert {"cache_auto", "compaction_history", "native_tool_history"} <= names["anthropic"]
    assert {"settings_google", "cached_content", "native_tools_gemini_3"} <= names["google"]
    assert len(names["bedrock"]) > 80
    assert {"cache_messages_previous_tail_claude", "citations_claude", "tool_choice_required_llama"} <= names[
        "bedrock"
    ]


def test_anthropic_count_drops_what_only_generation_uses() -> None:
    """Same request as live, minus max_tokens/stream/sampling/stop/metadata/service tier; extra_body kept."""
    model = AnthropicModel("claude-sonnet-4-5", api_key=KEY)
    settings = ModelSettings(
        max_tokens=100,
        temperature=0.5,
        top_p=0.9,
        stop_sequences=["x"],
        extra_body={"temperature": 0.1, "custom": 1},
        anthropic_metadata={"user_id": "u"},  # type: ignore[typeddict-unknown-key]
        anthropic_betas=["b-1"],  # type: ignore[typeddict-unknown-key]
    )
    params = ModelRequestParameters(
        function_tools=[ToolDefinition(name="f", parameters_json_schema={"type": "object"})]
    )
    live = model.build_request(HI, settings, params, stream=False)
    count = model.build_count_tokens_request(HI, settings, params)
    live_body, count_body = orjson.loads(live.body), orjson.loads(count.body)
    assert count_body == {
        key: value
        for key, value in live_body.items()
        if key not in ("max_tokens", "stream", "top_p", "stop_sequences", "metadata")
    }
    assert count_body["temperature"] == 0.1 and count_body["custom"] == 1  # from extra_body
    assert live.headers["anthropic-beta"] == "b-1"
    assert count.headers["anthropic-beta"] == "b-1,token-counting-2024-11-01"
    assert count.url == "https://api.anthropic.com/v1/messages/count_tokens"


def test_responses_count_needs_something_to_count() -> None:
    model = make("openai_responses", "gpt-4o", "https://api.example")
    settings, params = model.prepare_request(None, None)
    with pytest.raises(UserError, match="Cannot count tokens without any messages or a previous response ID"):
        model.build_count_tokens_request([], settings, params)
    with_previous = ModelSettings(openai_previous_response_id="resp_1")  # type: ignore[typeddict-unknown-key]
    request = model.build_count_tokens_request([], with_previous, params)
    assert orjson.loads(request.body) == {"model": "gpt-4o", "previous_response_id": "resp_1", "input": []}


# --------------------------------------------------------------------------------------------------
# over the loopback server


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_count_over_http(provider: str, loopback: LoopbackServer) -> None:
    """The server sees the count path, the auth header, a JSON body; the count comes back as input tokens."""
    loopback.enqueue(Reply.json(REPLIES[provider]))
    model = make(provider, MODELS[provider], loopback.url)
    usage = await model.count_tokens(
        [ModelRequest.user_text_prompt("how many tokens?", instructions="Be brief.")],
        ModelSettings(max_tokens=50, extra_headers={"X-Custom": "yes"}),
        None,
    )
    assert usage == RequestUsage(input_tokens=42)
    (request,) = loopback.requests
    assert request.method == "POST" and request.path == PATHS[provider]
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-custom"] == "yes"
    auth = {
        "anthropic": "x-api-key",
        "google": "x-goog-api-key",
        "openai_responses": "authorization",
        "bedrock": "authorization",
    }[provider]
    assert KEY in request.headers[auth] and KEY not in request.target
    body = request.json
    text = json.dumps(body)
    assert "how many tokens?" in text
    if provider == "anthropic":
        assert (
            body["system"] == [{"type": "text", "text": "Be brief."}]
            and "max_tokens" not in body
            and "stream" not in body
        )
        assert request.headers["anthropic-beta"] == "token-counting-2024-11-01"
        assert request.headers["anthropic-version"]
    elif provider == "openai_responses":
        assert (
            body["instructions"] == "Be brief." and "max_output_tokens" not in body and "stream" not in body
        )
    elif provider == "bedrock":
        converse = body["input"]["converse"]  # no inferenceConfig: maxTokens is for generation
        assert set(body) == {"input"} and set(converse) == {"messages", "system"}
        assert converse["system"] == [{"text": "Be brief."}]
    else:
        assert set(body) == {"contents"}  # the Gemini API counts contents only, as 2.68 sends it


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_count_errors_are_categorised_as_in_2_68(provider: str, loopback: LoopbackServer) -> None:
    """Each error reply raises the class (and status) 2.68 raised for it, and never shows the key."""
    model = make(provider, MODELS[provider], loopback.url)
    for case in CAPTURES[provider]["errors"]:
        body = dict(case["body"])
        loopback.enqueue(Reply.json({**body, "echo": f"your key {KEY}"}, status=case["status"]))
        with pytest.raises(ModelHTTPError) as raised:
            await model.count_tokens(HI, None, None)
        assert type(raised.value).__name__ == case["expected"]["type"], case
        assert raised.value.status_code == case["expected"]["status_code"]
        assert KEY not in str(raised.value) and KEY not in repr(raised.value.body)
    assert all(r.path == PATHS[provider] for r in loopback.requests)


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize(
    "reply",
    [
        Reply.body(b"not json", content_type="application/json"),
        Reply.json({"something": "else"}),
        Reply.json({"input_tokens": "12", "totalTokens": None}),
        Reply.json([1, 2]),
    ],
    ids=["not-json", "no-field", "not-a-count", "not-an-object"],
)
async def test_unreadable_count_is_unexpected_model_behavior(
    provider: str, reply: Reply, loopback: LoopbackServer
) -> None:
    loopback.enqueue(reply)
    model = make(provider, MODELS[provider], loopback.url)
    with pytest.raises(UnexpectedModelBehavior, match=r"Invalid response from the .* endpoint"):
        await model.count_tokens(HI, None, None)


async def test_count_honours_the_timeout_setting(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(stall()))
    model = make("anthropic", "claude-sonnet-4-5", loopback.url)
    with pytest.raises(ModelTimeoutError):
        await model.count_tokens(HI, ModelSettings(timeout=0.2), None)


async def test_count_is_cancellable(loopback: LoopbackServer) -> None:
    """A caller's cancel scope ends the count at once and the connection is dropped."""
    loopback.enqueue(Reply.of(stall()))
    model = make("openai_responses", "gpt-4o", loopback.url)
    with trio.move_on_after(0.2) as scope:
        await model.count_tokens(HI, None, None)
    assert scope.cancelled_caught


async def test_count_connection_refused() -> None:
    with trio.socket.socket() as sock:  # a port nobody listens on
        await sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = make("google", "gemini-2.5-flash", f"http://127.0.0.1:{port}")
    with pytest.raises(ModelConnectionError):
        await model.count_tokens(HI, None, None)


async def test_wrappers_delegate_the_count(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(REPLIES["anthropic"]), Reply.json(REPLIES["anthropic"]))
    inner = make("anthropic", "claude-sonnet-4-5", loopback.url)
    assert await WrapperModel(inner).count_tokens(HI, None, None) == RequestUsage(input_tokens=42)
    assert await InstrumentedModel(inner).count_tokens(HI, None, None) == RequestUsage(input_tokens=42)
    assert len(loopback.requests) == 2


# --------------------------------------------------------------------------------------------------
# models without token counting


@pytest.mark.parametrize("name", ["test", "function", "openai-chat", "fallback"])
async def test_models_without_counting_raise(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """2.68 raises ``NotImplementedError``; here it is also a ``UserError`` naming the model class."""
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    model: Model
    if name == "test":
        model = TestModel()
    elif name == "function":
        model = FunctionModel(lambda messages, info: None)  # type: ignore[arg-type,return-value]
    elif name == "openai-chat":
        model = infer_model("openai-chat:gpt-4o")
    else:
        model = FallbackModel(TestModel(), TestModel())
    with pytest.raises(NotImplementedError) as raised:
        await model.count_tokens(HI, None, None)
    assert isinstance(raised.value, NotSupportedError) and isinstance(raised.value, UserError)
    assert f"Token counting ahead of the request is not supported by {type(model).__name__}" in str(
        raised.value
    )
    with pytest.raises(NotSupportedError):
        await WrapperModel(model).count_tokens(HI, None, None)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=8,
)


@given(st.one_of(JSON_VALUES, st.dictionaries(st.sampled_from(["input_tokens", "x"]), JSON_VALUES)))
@settings(max_examples=200)
def test_a_count_is_read_or_refused(value: Any) -> None:
    """Any JSON body gives the count it holds, or UnexpectedModelBehavior quoting it; nothing else."""
    body = orjson.dumps(value)
    count = value.get("input_tokens") if isinstance(value, dict) else None
    if type(count) is int and count >= 0:
        assert parse_token_count(body, "e", "input_tokens") == RequestUsage(input_tokens=count)
    else:
        with pytest.raises(UnexpectedModelBehavior) as raised:
            parse_token_count(body, "e", "input_tokens")
        assert raised.value.body == body.decode()


# --------------------------------------------------------------------------------------------------
# Bedrock: SigV4 and the model id


async def test_bedrock_count_is_signed_with_sigv4(loopback: LoopbackServer) -> None:
    """The CountTokens request carries a SigV4 signature botocore computes the same; no secret is sent."""
    from unittest import mock

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    credentials = AWSCredentials("AKIDCOUNT", SECRET, "session-token-0123456789")
    config = AWSConfig(region="eu-west-1", endpoint_url=loopback.url, credentials=credentials)
    model = BedrockConverseModel("eu.anthropic.claude-sonnet-4-5-20250929-v1:0", config=config)
    loopback.enqueue(Reply.json({"inputTokens": 9}))
    assert await model.count_tokens(HI, None, None) == RequestUsage(input_tokens=9)
    (sent,) = loopback.requests
    assert sent.path == "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens"  # no `eu.`
    auth = sent.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDCOUNT/")
    assert "/eu-west-1/bedrock/aws4_request" in auth
    assert sent.headers["x-amz-security-token"] == "session-token-0123456789"
    assert SECRET not in sent.target and SECRET.encode() not in sent.body
    assert all(SECRET not in value for value in sent.headers.values())
    signed_names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {name: sent.headers[name] for name in signed_names if name != "host"}
    botocore_request = AWSRequest("POST", loopback.url + sent.path, data=sent.body, headers=headers)
    signer = SigV4Auth(Credentials("AKIDCOUNT", SECRET, "session-token-0123456789"), "bedrock", "eu-west-1")
    with mock.patch("botocore.auth.datetime") as clock:
        import datetime

        clock.datetime.now.return_value = datetime.datetime.strptime(
            sent.headers["x-amz-date"], "%Y%m%dT%H%M%SZ"
        )
        clock.datetime.utcnow.return_value = clock.datetime.now.return_value
        signer.add_auth(botocore_request)
    assert botocore_request.headers["Authorization"].split("Signature=")[1] == auth.split("Signature=")[1]


async def test_bedrock_count_error_never_shows_a_credential(loopback: LoopbackServer) -> None:
    credentials = AWSCredentials("AKIDCOUNT", SECRET, "session-token-0123456789")
    config = AWSConfig(region="us-east-1", endpoint_url=loopback.url, credentials=credentials)
    model = BedrockConverseModel("us.amazon.nova-micro-v1:0", config=config)
    echo = f"bad request signed with {SECRET} and session-token-0123456789"
    loopback.enqueue(
        Reply.json(
            {"message": echo},
            status=400,
            headers={"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/"},
        )
    )
    with pytest.raises(ModelHTTPError) as raised:
        await model.count_tokens(HI, None, None)
    assert raised.value.status_code == 400
    assert raised.value.body["Error"]["Code"] == "ValidationException"
    for text in (str(raised.value), repr(raised.value), repr(raised.value.body)):
        assert SECRET not in text and "session-token-0123456789" not in text
    assert loopback.requests[0].path == "/model/amazon.nova-micro-v1%3A0/count-tokens"
