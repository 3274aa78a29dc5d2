"""Gemini on Google Cloud's Vertex AI (``google-cloud:``): the Gemini dialect on Vertex URLs, end to end.

Two real loopback servers: a token endpoint (``tests.test_gcp.TokenServer``, which checks the grant it is
sent) and a fake Vertex endpoint that records each request's path and headers. Covers project mode with
an OAuth2 token, express mode with an API key, streams (and leaving one early), a 401 that gets one
token refresh and one resend, Vertex's transport rules on the request body, and secrets (access tokens,
refresh tokens, private keys, API keys) kept out of errors, reprs and logs.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.loopback import LoopbackServer, Reply, stall
from tests.test_gcp import (
    ACCESS,
    CLIENT_SECRET,
    REFRESH,
    TokenServer,
    service_account_info,
    user_info,
)
from trio_direct import (
    ImageUrl,
    ModelRequest,
    ModelResponse,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    UploadedFile,
    UserPromptPart,
    model_request,
    model_request_stream,
    model_request_sync,
)
from trio_direct.exceptions import (
    ModelAuthenticationError,
    ModelHTTPError,
    ModelRateLimitError,
    UserError,
)
from trio_direct.models import _gcp as gcp
from trio_direct.models import infer_model, known_prefixes
from trio_direct.models.google import GoogleCloudModel, GoogleModel, GoogleProfile

PROMPT = [ModelRequest.user_text_prompt("hi")]
API_KEY = "AIza-vertex-express-canary-0987654321"
MODEL_PATH = "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash"


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
    )
    env = {k: v for k, v in os.environ.items() if k not in names}
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(gcp, "_on_google_cloud", lambda: False),
    ):
        yield


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def vertex() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def reply(text: str = "ok", **top: Any) -> dict[str, Any]:
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "vertex-1",
        **top,
    }


def sse_chunk(text: str, *, finish: str | None = None) -> str:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    return f"data: {json.dumps({'candidates': [candidate], 'modelVersion': 'gemini-2.5-flash'})}\r\n\r\n"


def unauthenticated(echo: str = "") -> Reply:
    return Reply.json(
        {
            "error": {
                "code": 401,
                "message": f"Request had invalid credentials {echo}",
                "status": "UNAUTHENTICATED",
            }
        },
        status=401,
    )


def project_model(
    tokens: TokenServer, vertex: LoopbackServer, name: str = "gemini-2.5-flash"
) -> GoogleCloudModel:
    creds = gcp.credentials_from_info(user_info(tokens.token_uri), "test credentials")
    return GoogleCloudModel(
        name, credentials=creds, project="my-proj", location="europe-west4", base_url=vertex.url
    )


# --------------------------------------------------------------------------------------------------
# resolution


def test_prefix_is_known_and_resolves_express_mode_from_the_environment(clean_env: None) -> None:
    assert "google-cloud" in known_prefixes()
    with mock.patch.dict(os.environ, {"GOOGLE_API_KEY": API_KEY}):
        model = infer_model("google-cloud:gemini-2.5-flash")
    assert isinstance(model, GoogleCloudModel)
    assert model.system == "google-cloud"
    assert model.base_url == "https://aiplatform.googleapis.com/"
    assert API_KEY not in repr(model)


def test_project_mode_from_the_environment(clean_env: None, tmp_path: Any) -> None:
    key_file = tmp_path / "adc.json"
    key_file.write_text(json.dumps(user_info("https://oauth2.example/token", quota_project_id="quota-proj")))
    env = {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file), "GOOGLE_API_KEY": API_KEY}
    with mock.patch.dict(os.environ, env):
        model = infer_model("google-cloud:gemini-2.5-pro")
    assert isinstance(model, GoogleCloudModel)
    # GOOGLE_APPLICATION_CREDENTIALS set: the API key is not used (2.68's order)
    assert model.vertex.api_key is None and model.vertex.project == "quota-proj"
    assert model.base_url == "https://us-central1-aiplatform.googleapis.com/"
    for secret in (REFRESH, CLIENT_SECRET, API_KEY):
        assert secret not in repr(model)


def test_google_vertex_is_not_a_prefix_in_2_68(clean_env: None) -> None:
    with pytest.raises(UserError, match="google-vertex"):
        infer_model("google-vertex:gemini-2.5-flash")


def test_missing_credentials_and_project_are_user_errors(clean_env: None, tmp_path: Any) -> None:
    with mock.patch.dict(os.environ, {"CLOUDSDK_CONFIG": str(tmp_path)}), pytest.raises(UserError):
        infer_model("google-cloud:gemini-2.5-flash")
    creds = gcp.credentials_from_info(user_info("https://oauth2.example/token"))
    with pytest.raises(UserError, match="GOOGLE_CLOUD_PROJECT"):
        GoogleCloudModel("gemini-2.5-flash", credentials=creds)
    with pytest.raises(UserError):
        GoogleCloudModel("bad?name", api_key=API_KEY)


# --------------------------------------------------------------------------------------------------
# project mode over loopback


async def test_request_goes_to_the_vertex_path_with_a_bearer_token(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(Reply.json(reply("Paris")))
    vertex.enqueue(Reply.json(reply("again")))
    response = await model_request(model, PROMPT)
    second = await model_request(model, PROMPT)
    assert response.parts == [TextPart("Paris")] and second.parts == [TextPart("again")]
    assert tokens.issued == 1  # cached between requests
    sent = vertex.requests[0]
    assert sent.path == MODEL_PATH + ":generateContent"
    assert sent.headers["authorization"] == f"Bearer {ACCESS}-1"
    assert "x-goog-api-key" not in sent.headers
    assert sent.json["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert response.provider_name == "google-cloud" and response.canonical_system == "google-cloud"
    assert response.provider_url == vertex.url + "/"
    assert response.provider_response_id == "vertex-1"


async def test_service_account_key_signs_a_jwt(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None, rsa_key: rsa.RSAPrivateKey
) -> None:
    tokens = TokenServer(loopback, rsa_key.public_key())
    creds = gcp.credentials_from_info(service_account_info(rsa_key, tokens.token_uri))
    model = GoogleCloudModel("gemini-2.5-flash", credentials=creds, location="global", base_url=vertex.url)
    vertex.enqueue(Reply.json(reply()))
    await model_request(model, PROMPT)
    # the project comes from the key file
    assert vertex.requests[0].path.startswith("/v1beta1/projects/my-project/locations/global/")
    assert tokens.claims[0]["scope"] == gcp.CLOUD_PLATFORM_SCOPE


async def test_stream_goes_to_the_streaming_path(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(Reply.sse([sse_chunk("Hel"), sse_chunk("lo", finish="STOP")]))
    async with model_request_stream(model, PROMPT) as stream:
        events = [event async for event in stream]
        response = stream.get()
    assert events and response.parts == [TextPart("Hello")]
    assert response.provider_name == "google-cloud"
    sent = vertex.requests[0]
    assert sent.path == MODEL_PATH + ":streamGenerateContent"
    assert sent.query == {"alt": "sse"}
    assert sent.headers["authorization"] == f"Bearer {ACCESS}-1"


async def test_leaving_a_stream_early_closes_the_connection(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    model = project_model(TokenServer(loopback), vertex)
    vertex.enqueue(Reply.sse([sse_chunk("first"), sse_chunk(" second")], then=stall()))
    async with model_request_stream(model, PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await vertex.wait_for_client_close_async()


async def test_a_rejected_token_is_refreshed_once(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(unauthenticated())
    vertex.enqueue(Reply.json(reply("after refresh")))
    response = await model_request(model, PROMPT)
    assert response.parts == [TextPart("after refresh")]
    assert tokens.issued == 2
    assert [r.headers["authorization"] for r in vertex.requests] == [
        f"Bearer {ACCESS}-1",
        f"Bearer {ACCESS}-2",
    ]


async def test_a_rejected_token_is_refreshed_once_for_a_stream(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(unauthenticated())
    vertex.enqueue(Reply.sse([sse_chunk("ok", finish="STOP")]))
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
        assert stream.get().parts == [TextPart("ok")]
    assert tokens.issued == 2
    assert vertex.requests[1].headers["authorization"] == f"Bearer {ACCESS}-2"


async def test_a_second_401_is_raised_without_any_token(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    # the server echoes the token it was sent, as some proxies do
    vertex.enqueue(unauthenticated(f"{ACCESS}-1"))
    vertex.enqueue(unauthenticated(f"{ACCESS}-2"))
    with pytest.raises(ModelAuthenticationError) as caught:
        await model_request(model, PROMPT)
    assert caught.value.status_code == 401
    assert len(vertex.requests) == 2 and tokens.issued == 2
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"
    assert ACCESS not in text

    # the stream starts with the token the last refresh left (-2), then refreshes to -3
    vertex.enqueue(unauthenticated(f"{ACCESS}-2"))
    vertex.enqueue(unauthenticated(f"{ACCESS}-3"))
    with pytest.raises(ModelAuthenticationError) as caught:
        async with model_request_stream(model, PROMPT) as stream:
            async for _ in stream:
                pass
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"
    assert ACCESS not in text
    assert tokens.issued == 3


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (
            429,
            {"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}},
            ModelRateLimitError,
        ),
        (403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}, ModelHTTPError),
    ],
)
async def test_other_errors_are_not_retried(
    loopback: LoopbackServer,
    vertex: LoopbackServer,
    clean_env: None,
    status: int,
    body: dict[str, Any],
    error: type[Exception],
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(Reply.json(body, status=status))
    with pytest.raises(error):
        await model_request(model, PROMPT)
    assert len(vertex.requests) == 1 and tokens.issued == 1


async def test_token_endpoint_failure_is_typed_and_secret_free(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    loopback.handler = lambda request: Reply.json(
        {"error": "invalid_grant", "error_description": f"bad token {REFRESH} {CLIENT_SECRET}"}, status=400
    )
    creds = gcp.credentials_from_info(user_info(loopback.url + "/token"))
    model = GoogleCloudModel("gemini-2.5-flash", credentials=creds, project="p", base_url=vertex.url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ModelAuthenticationError) as caught:
        await model_request(model, PROMPT)
    assert not vertex.requests
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}\n{caplog.text}\n{model!r}"
    for secret in (REFRESH, CLIENT_SECRET):
        assert secret not in text


def test_sync_api_reaches_vertex(loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(Reply.json(reply("sync")))
    vertex.enqueue(Reply.json(reply("sync again")))
    assert model_request_sync(model, PROMPT).parts == [TextPart("sync")]
    assert model_request_sync(model, PROMPT).parts == [TextPart("sync again")]
    assert vertex.requests[0].headers["authorization"].startswith(f"Bearer {ACCESS}-")


# --------------------------------------------------------------------------------------------------
# express mode


async def test_express_mode_sends_the_key_in_a_header(vertex: LoopbackServer, clean_env: None) -> None:
    with mock.patch.dict(os.environ, {"GEMINI_API_KEY": API_KEY, "GOOGLE_VERTEX_BASE_URL": vertex.url}):
        model = infer_model("google-cloud:gemini-2.5-flash")
    vertex.enqueue(Reply.json(reply()))
    await model_request(model, PROMPT)
    sent = vertex.requests[0]
    assert sent.path == "/v1beta1/publishers/google/models/gemini-2.5-flash:generateContent"
    assert sent.headers["x-goog-api-key"] == API_KEY
    assert "authorization" not in sent.headers and API_KEY not in sent.target


async def test_express_mode_401_is_not_retried_and_hides_the_key(
    vertex: LoopbackServer, clean_env: None
) -> None:
    model = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY, base_url=vertex.url)
    vertex.enqueue(unauthenticated(API_KEY))
    with pytest.raises(ModelAuthenticationError) as caught:
        await model_request(model, PROMPT)
    assert len(vertex.requests) == 1
    assert API_KEY not in f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"


# --------------------------------------------------------------------------------------------------
# Vertex's rules on the request (2.68's GoogleModel keyed on the transport)


def build(model: GoogleModel, messages: list[Any], **settings: Any) -> tuple[dict[str, Any], dict[str, str]]:
    from trio_direct import ModelRequestParameters, ModelSettings

    request = model.build_request(messages, ModelSettings(**settings), ModelRequestParameters(), stream=False)
    return json.loads(request.body), dict(request.headers)


def test_file_urls_go_as_references_on_vertex() -> None:
    cloud = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY)
    gla = GoogleModel("gemini-2.5-flash", api_key=API_KEY)
    image = ImageUrl("https://example.com/cat.png")
    messages = [ModelRequest([UserPromptPart(["look", image])])]
    body, _ = build(cloud, messages)
    assert body["contents"][0]["parts"][1] == {
        "fileData": {"fileUri": "https://example.com/cat.png", "mimeType": "image/png"}
    }
    with pytest.raises(UserError, match="download"):
        build(gla, messages)
    uploaded = [
        ModelRequest(
            [UserPromptPart([UploadedFile("gs://b/doc.pdf", "google-cloud", media_type="application/pdf")])]
        )
    ]
    assert build(cloud, uploaded)[0]["contents"][0]["parts"][0]["fileData"]["fileUri"] == "gs://b/doc.pdf"
    with pytest.raises(UserError, match="GCS URI"):
        build(
            cloud,
            [
                ModelRequest(
                    [
                        UserPromptPart(
                            [UploadedFile("https://x/f", "google-cloud", media_type="application/pdf")]
                        )
                    ]
                )
            ],
        )
    with pytest.raises(UserError, match="cannot be used"):
        build(
            cloud,
            [
                ModelRequest(
                    [UserPromptPart([UploadedFile("gs://b/f", "google", media_type="application/pdf")])]
                )
            ],
        )


def test_service_tier_is_headers_on_vertex() -> None:
    cloud = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY)
    body, headers = build(cloud, PROMPT, service_tier="flex")
    assert "serviceTier" not in body
    assert headers["X-Vertex-AI-LLM-Shared-Request-Type"] == "flex"
    _, headers = build(cloud, PROMPT, google_cloud_service_tier="priority_only")
    assert headers["X-Vertex-AI-LLM-Request-Type"] == "shared"
    assert headers["X-Vertex-AI-LLM-Shared-Request-Type"] == "priority"
    _, headers = build(cloud, PROMPT)
    assert not any(h.startswith("X-Vertex") for h in headers)
    with pytest.raises(UserError):
        build(cloud, PROMPT, google_cloud_service_tier="fastest")


def test_thought_signatures_go_back_only_to_their_transport() -> None:
    cloud = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY)
    gla = GoogleModel("gemini-2.5-flash", api_key=API_KEY)
    signed = {"thought_signature": "c2ln"}

    def history(provider: str) -> list[Any]:
        response = ModelResponse(
            [TextPart("hi", provider_name=provider, provider_details=signed)],
            provider_name=provider,
            canonical_system=provider if provider != "google-vertex" else None,
        )
        return [*PROMPT, response, ModelRequest.user_text_prompt("more")]

    def signature(model: GoogleModel, provider: str) -> str | None:
        body, _ = build(model, history(provider))
        return body["contents"][1]["parts"][0].get("thoughtSignature")

    assert signature(cloud, "google-cloud") == "c2ln"
    assert signature(cloud, "google-vertex") == "c2ln"  # a pre-v2 history
    assert signature(cloud, "google") is None
    assert signature(gla, "google-cloud") is None
    assert signature(gla, "google") == "c2ln"


def test_vertex_profile_rules() -> None:
    assert GoogleProfile.for_model("gemini-3.1-flash-image", cloud=False).thinking_levels == frozenset(
        {"MINIMAL", "HIGH"}
    )
    assert GoogleProfile.for_model("gemini-3.1-flash-image", cloud=True).thinking_levels is None
    pro = GoogleProfile.for_model("gemini-3.1-pro-preview", cloud=True)
    assert pro.disables_thinking_with_zero_budget and not pro.thinking_always_enabled
    assert not GoogleProfile.for_model("gemini-3-flash-preview", cloud=True).server_side_tool_invocations
    body, _ = build(GoogleCloudModel("gemini-3.1-pro-preview", api_key=API_KEY), PROMPT, thinking=False)
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}


async def test_thinking_parts_are_stamped_google_cloud(vertex: LoopbackServer, clean_env: None) -> None:
    model = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY, base_url=vertex.url)
    vertex.enqueue(
        Reply.json(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"text": "hmm", "thought": True, "thoughtSignature": "c2ln"},
                                {"text": "done"},
                            ],
                        },
                        "finishReason": "STOP",
                    }
                ]
            }
        )
    )
    response = await model_request(model, PROMPT)
    thinking = response.parts[0]
    assert isinstance(thinking, ThinkingPart) and thinking.provider_name == "google-cloud"
