"""Vertex AI (``google-cloud:``) request URLs, bodies and headers, and ``count_tokens``, against 2.68.

``tests/data/google_cloud_requests.json`` holds what pydantic-ai-slim 2.68's ``GoogleModel`` with a
``GoogleCloudProvider`` (google-genai 2.34) sent for every Gemini API scenario of ``google_requests.json``
plus Vertex's own (locations, express mode, publisher models, file references, ``gs://`` uploads,
service-tier headers, histories from either Google provider), and what its ``count_tokens`` sent for the
non-streamed ones; made by ``tests/data/make_google_cloud_fixtures.py``. Bodies are compared with keys
and base64 normalized, as in ``test_google.py`` (the SDK mixes snake_case in; the API reads either).

The HTTP side of ``count_tokens`` runs against real loopback servers: a token endpoint and a fake
Vertex AI endpoint.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest

from tests.captured import first_difference, params_from_capture, settings_from_capture
from tests.loopback import LoopbackServer, Reply
from tests.test_gcp import ACCESS, TokenServer, user_info
from tests.test_google import _canon  # pyright: ignore[reportPrivateUsage]
from trio_direct import ModelRequest, ModelRequestParameters, ToolDefinition
from trio_direct.exceptions import (
    ModelAuthenticationError,
    ModelHTTPError,
    ModelRateLimitError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.models import _gcp as gcp
from trio_direct.models.google import GoogleCloudModel, vertex_count_tokens_body
from trio_direct.serialization import messages_from_python
from trio_direct.settings import ModelSettings
from trio_direct.usage import RequestUsage

DATA = Path(__file__).parent / "data"
CASES: list[dict[str, Any]] = json.loads((DATA / "google_cloud_requests.json").read_text())
API_KEY = "AIza-vertex-express-canary-0987654321"
HI = [ModelRequest.user_text_prompt("hi")]
#: headers the captures compare (the SDK's own user agent and client headers are not ours)
COMPARED = (
    "x-foo",
    "x-server-timeout",
    "x-vertex-ai-llm-request-type",
    "x-vertex-ai-llm-shared-request-type",
)


@pytest.fixture
def clean_env() -> Iterator[None]:
    names = ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_VERTEX_BASE_URL")
    env = {k: v for k, v in os.environ.items() if k not in names}
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(gcp, "_on_google_cloud", lambda: False),
    ):
        yield


def model_for(case: dict[str, Any]) -> GoogleCloudModel:
    """The model 2.68 was given: express mode with a key, or project ``my-proj`` in the case's location."""
    target = case["target"]
    if target.get("express"):
        return GoogleCloudModel(case["model"], api_key=API_KEY)
    credentials = gcp.credentials_from_info(user_info("https://oauth2.example/token"))
    return GoogleCloudModel(
        case["model"], credentials=credentials, project="my-proj", location=target["location"]
    )


def _where(url: str) -> tuple[str | None, str, str]:
    parts = urlsplit(url)
    return parts.hostname, parts.path, parts.query


def _inputs(case: dict[str, Any]) -> tuple[Any, ModelSettings, ModelRequestParameters]:
    messages = messages_from_python(case["messages"])
    return messages, settings_from_capture(case["settings"]), params_from_capture(case["params"], messages)


def _check(request: Any, expected: dict[str, Any], caught: list[warnings.WarningMessage]) -> None:
    assert _where(request.url) == (expected["host"], expected["path"], expected["query"])
    body = json.loads(request.body)
    assert first_difference(_canon(body), _canon(expected["body"])) is None
    headers = {k.lower(): v for k, v in request.headers.items()}
    for name in COMPARED:
        assert headers.get(name) == expected["headers"].get(name), name
    # the credentials go on when the request is sent, never into the built request
    assert "authorization" not in headers and "x-goog-api-key" not in headers
    assert [str(w.message) for w in caught] == expected["warnings"]


def test_the_captures_cover_vertex() -> None:
    names = {c["name"] for c in CASES}
    assert len(CASES) > 100
    assert {"v_express", "v_publisher_model", "v_file_urls_as_references", "v_service_tier_flex"} <= names
    assert sum("count_tokens" in c for c in CASES) > 80


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_request_matches_pydantic_ai_on_vertex(case: dict[str, Any], clean_env: None) -> None:
    """URL (host, path, query), body, routing headers and warnings are what 2.68 sent to Vertex AI."""
    model = model_for(case)
    messages, settings, params = _inputs(case)
    expected = case["expected"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            with pytest.raises(UserError) as raised:
                model.build_request(messages, *model.prepare_request(settings, params), stream=case["stream"])
            if expected["error"] == "UserError":
                assert str(raised.value) == expected["message"]
            return
        request = model.build_request(
            messages, *model.prepare_request(settings, params), stream=case["stream"]
        )
    _check(request, expected, caught)


COUNT_CASES = [c for c in CASES if "count_tokens" in c]


@pytest.mark.parametrize("case", COUNT_CASES, ids=[c["name"] for c in COUNT_CASES])
def test_count_tokens_request_matches_pydantic_ai_on_vertex(case: dict[str, Any], clean_env: None) -> None:
    """``:countTokens`` with the contents, system instruction, tools and generation settings 2.68 sends."""
    model = model_for(case)
    messages, settings, params = _inputs(case)
    expected = case["count_tokens"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            with pytest.raises(UserError) as raised:
                model.build_count_tokens_request(messages, *model.prepare_request(settings, params))
            if expected["error"] == "UserError":
                assert str(raised.value) == expected["message"]
            return
        request = model.build_count_tokens_request(messages, *model.prepare_request(settings, params))
    _check(request, expected, caught)


def test_count_body_keeps_what_vertex_counts_and_nothing_else() -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "be brief"}]},
        "tools": [{"googleSearch": {}}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}],
        "labels": {"team": "a"},
        "generationConfig": {
            "temperature": 0.5,
            "responseModalities": ["TEXT"],
            "thinkingConfig": {"thinkingBudget": 0},
            "imageConfig": {"aspectRatio": "1:1"},
            "responseLogprobs": True,
        },
    }
    assert vertex_count_tokens_body(body) == {
        "contents": body["contents"],
        "systemInstruction": body["systemInstruction"],
        "tools": body["tools"],
        "generationConfig": {"temperature": 0.5, "thinkingConfig": {"thinkingBudget": 0}},
    }
    assert vertex_count_tokens_body({"contents": []}) == {"contents": [], "generationConfig": {}}


# --------------------------------------------------------------------------------------------------
# count_tokens over loopback


@pytest.fixture
def vertex() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def project_model(tokens: TokenServer, vertex: LoopbackServer) -> GoogleCloudModel:
    credentials = gcp.credentials_from_info(user_info(tokens.token_uri))
    return GoogleCloudModel(
        "gemini-2.5-flash",
        credentials=credentials,
        project="my-proj",
        location="europe-west4",
        base_url=vertex.url,
    )


COUNT_PATH = (
    "/v1beta1/projects/my-proj/locations/europe-west4/publishers/google/models/gemini-2.5-flash:countTokens"
)


async def test_count_tokens_goes_to_vertex_with_a_bearer_token(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    vertex.enqueue(Reply.json({"totalTokens": 42, "promptTokensDetails": []}))
    tool = ToolDefinition(
        name="get_weather", parameters_json_schema={"type": "object", "properties": {}}, description="Weather"
    )
    usage = await model.count_tokens(
        [ModelRequest.user_text_prompt("hi", instructions="be brief")],
        ModelSettings(temperature=0.1, google_cloud_service_tier="pt_only"),  # type: ignore[typeddict-unknown-key]
        ModelRequestParameters(function_tools=[tool]),
    )
    assert usage == RequestUsage(input_tokens=42)
    (sent,) = vertex.requests
    assert sent.path == COUNT_PATH
    assert sent.headers["authorization"] == f"Bearer {ACCESS}-1"
    assert sent.headers["x-vertex-ai-llm-request-type"] == "dedicated"
    assert sent.json["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert sent.json["generationConfig"] == {"temperature": 0.1}
    assert sent.json["tools"][0]["functionDeclarations"][0]["name"] == "get_weather"
    assert sent.json["systemInstruction"] == {"role": "user", "parts": [{"text": "be brief"}]}
    assert "toolConfig" not in sent.json


async def test_count_tokens_in_express_mode_sends_the_key_in_a_header(
    vertex: LoopbackServer, clean_env: None
) -> None:
    model = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY, base_url=vertex.url)
    vertex.enqueue(Reply.json({"totalTokens": 3}))
    assert (await model.count_tokens(HI, None, None)).input_tokens == 3
    (sent,) = vertex.requests
    assert sent.path == "/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens"
    assert sent.headers["x-goog-api-key"] == API_KEY and API_KEY not in sent.target


async def test_count_tokens_refreshes_a_rejected_token_once(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    unauthenticated = {"error": {"code": 401, "message": "bad token", "status": "UNAUTHENTICATED"}}
    vertex.enqueue(Reply.json(unauthenticated, 401), Reply.json({"totalTokens": 5}))
    assert (await model.count_tokens(HI, None, None)).input_tokens == 5
    first, second = vertex.requests
    assert first.headers["authorization"] == f"Bearer {ACCESS}-1"
    assert second.headers["authorization"] == f"Bearer {ACCESS}-2"
    vertex.enqueue(Reply.json(unauthenticated, 401), Reply.json(unauthenticated, 401))
    with pytest.raises(ModelAuthenticationError):
        await model.count_tokens(HI, None, None)


async def test_count_tokens_errors_are_categorized_and_never_show_the_token(
    loopback: LoopbackServer, vertex: LoopbackServer, clean_env: None
) -> None:
    tokens = TokenServer(loopback)
    model = project_model(tokens, vertex)
    echo = f"quota for Bearer {ACCESS}-1"
    vertex.enqueue(Reply.json({"error": {"code": 429, "message": echo, "status": "RESOURCE_EXHAUSTED"}}, 429))
    with pytest.raises(ModelRateLimitError) as info:
        await model.count_tokens(HI, None, None)
    assert f"{ACCESS}-1" not in str(info.value) and f"{ACCESS}-1" not in repr(info.value.body)
    vertex.enqueue(Reply.json({"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}, 500))
    with pytest.raises(ModelHTTPError) as server:
        await model.count_tokens(HI, None, None)
    assert server.value.status_code == 500
    vertex.enqueue(Reply.json({"promptTokensDetails": []}))
    with pytest.raises(UnexpectedModelBehavior):
        await model.count_tokens(HI, None, None)


async def test_count_tokens_build_errors_happen_before_any_io(
    vertex: LoopbackServer, clean_env: None
) -> None:
    model = GoogleCloudModel("gemini-2.5-flash", api_key=API_KEY, base_url=vertex.url)
    with pytest.raises(TrioDirectError):
        await model.count_tokens(HI, ModelSettings(service_tier="bogus"), None)  # type: ignore[typeddict-item]
    assert vertex.requests == []
