"""The Pydantic AI Gateway's non-OpenAI routes: ``gateway/anthropic``, ``gateway/groq``, ``gateway/google``
and ``gateway/google-cloud`` (Vertex AI), ``gateway/bedrock`` and ``gateway/converse``.

Against ``tests/data/gateway_requests.json`` (what pydantic-ai 2.68 sent and made of each route's reply,
captured by ``tests/data/make_gateway_fixtures.py``): each request reaches a real loopback server at the
same path, with the same authentication headers and the same JSON body, and the response is the one 2.68
made. Streams end early without leaking; the Gateway key never shows in a repr or an error.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.eventstream import event, eventstream_reply
from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ModelHTTPError,
    ModelRequestParameters,
    ToolDefinition,
    UserError,
    model_request,
    model_request_stream,
    model_request_stream_sync,
)
from trio_direct.models import infer_model, known_prefixes
from trio_direct.models._gateway import (
    GatewayEndpoint,
    gateway_provider,
    gateway_route,
    infer_gateway_base_url,
    normalize_gateway_provider,
    resolve_gateway,
)
from trio_direct.models._registry import unavailable_prefixes
from trio_direct.models.anthropic import AnthropicModel
from trio_direct.models.bedrock import BedrockConverseModel
from trio_direct.models.google import GoogleCloudModel
from trio_direct.models.groq import GroqModel
from trio_direct.serialization import messages_from_python, messages_to_python

FIXTURE = json.loads((Path(__file__).parent / "data" / "gateway_requests.json").read_text())
KEY: str = FIXTURE["key"]
CASES: list[dict[str, Any]] = FIXTURE["cases"]
MESSAGES = messages_from_python(FIXTURE["messages"])
PARAMS = ModelRequestParameters(
    function_tools=[
        ToolDefinition(name=t["name"], description=t["description"], parameters_json_schema=t["schema"])
        for t in FIXTURE["params"]["tools"]
    ]
)
ROUTES = ("anthropic", "groq", "google", "google-cloud", "bedrock", "converse")
#: the variables a route could read besides the Gateway's own; cleared so the machine's never leak in
OTHER_VARS = (
    "PAIG_API_KEY",
    "PAIG_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "GROQ_API_KEY",
    "GROQ_BASE_URL",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_VERTEX_BASE_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
)


@pytest.fixture
def gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in OTHER_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_API_KEY", KEY)
    monkeypatch.delenv("PYDANTIC_AI_GATEWAY_BASE_URL", raising=False)


def _point_at(monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_BASE_URL", f"{srv.url}/proxy")


# ---------------------------------------------------------------------------------------------
# Replies each route's server gives (the same content as the capture's)
# ---------------------------------------------------------------------------------------------

ANTHROPIC_REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
GROQ_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1767323045,
    "model": "llama-3.3-70b-versatile",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
GOOGLE_REPLY = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-1",
}
BEDROCK_REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    "metrics": {"latencyMs": 1},
}


def _groq_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1767323045,
        "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def _anthropic_events() -> list[dict[str, Any]]:
    start = {**ANTHROPIC_REPLY, "content": [], "stop_reason": None}
    return [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "o"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "k"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        {"type": "message_stop"},
    ]


def _stream_payloads(route: str) -> list[Any]:
    """The stream's events in order: SSE ``data`` objects, or Bedrock event-stream messages."""
    if route == "anthropic":
        return _anthropic_events()
    if route == "groq":
        usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
        return [
            _groq_chunk({"role": "assistant", "content": ""}),
            _groq_chunk({"content": "o"}),
            _groq_chunk({"content": "k"}),
            _groq_chunk({}, "stop", x_groq={"id": "req_1", "usage": usage}),
        ]
    if route in ("google", "google-cloud"):
        last = {**GOOGLE_REPLY["candidates"][0], "content": {"role": "model", "parts": [{"text": "k"}]}}
        return [
            {
                "candidates": [{"content": {"role": "model", "parts": [{"text": "o"}]}}],
                "responseId": "resp-1",
            },
            {**GOOGLE_REPLY, "candidates": [last]},
        ]
    usage = {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}
    return [
        event("messageStart", {"role": "assistant"}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "o"}}),
        event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "k"}}),
        event("contentBlockStop", {"contentBlockIndex": 0}),
        event("messageStop", {"stopReason": "end_turn"}),
        event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
    ]


def _stream_reply(route: str, *, cut: int | None = None) -> Reply:
    """The route's streamed reply; with ``cut``, only its first ``cut`` events, then a stalled server."""
    payloads = _stream_payloads(route)
    then = [stall()] if cut is not None else None
    payloads = payloads[:cut] if cut is not None else payloads
    if route in ("bedrock", "converse"):
        return eventstream_reply(payloads, then=then)
    if route == "anthropic":
        events: list[Any] = [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads]
    else:
        events = list(payloads)
    if route == "groq" and cut is None:
        events.append("data: [DONE]")
    return Reply.sse(events, then=then) if then is not None else Reply.sse(events)


def _reply(route: str) -> Reply:
    if route == "anthropic":
        return Reply.json(ANTHROPIC_REPLY)
    if route == "groq":
        return Reply.json(GROQ_REPLY)
    if route in ("google", "google-cloud"):
        return Reply.json(GOOGLE_REPLY)
    return Reply.json(BEDROCK_REPLY)


# ---------------------------------------------------------------------------------------------
# The shared helper
# ---------------------------------------------------------------------------------------------


def test_routes_and_aliases_as_2_68_names_them() -> None:
    assert [normalize_gateway_provider(f"gateway/{r}") for r in ROUTES] == [
        "anthropic", "groq", "google-cloud", "google-cloud", "bedrock", "bedrock",
    ]  # fmt: skip
    assert normalize_gateway_provider("chat") == "openai-chat"
    assert normalize_gateway_provider("gateway/responses") == "openai-responses"
    assert [gateway_route(u) for u in ("openai-chat", "openai-responses", "google-cloud", "bedrock")] == [
        "openai", "openai", "google-vertex", "bedrock",
    ]  # fmt: skip


def test_base_url_from_the_key_region() -> None:
    assert infer_gateway_base_url("pylf_v1_us_abc") == "https://gateway-us.pydantic.dev/proxy"
    assert infer_gateway_base_url("pylf_v2_eu_a-b_c") == "https://gateway-eu.pydantic.dev/proxy"
    assert infer_gateway_base_url("pylf_v1_stagingx_abc") == "https://gateway.pydantic.info/proxy"
    with pytest.raises(UserError, match="PYDANTIC_AI_GATEWAY_BASE_URL") as info:
        infer_gateway_base_url("sk-not-a-gateway-key")
    assert "sk-not-a-gateway-key" not in str(info.value)


@pytest.mark.usefixtures("gateway_env")
def test_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint = resolve_gateway("gateway/converse")
    assert (endpoint.upstream, endpoint.base_url) == (
        "bedrock",
        "https://gateway-us.pydantic.dev/proxy/bedrock",
    )
    monkeypatch.setenv("PAIG_BASE_URL", "https://paig.example/proxy/")
    assert resolve_gateway("anthropic").base_url == "https://paig.example/proxy/anthropic"
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_BASE_URL", "https://gw.example/p")
    assert resolve_gateway("google").base_url == "https://gw.example/p/google-vertex"
    assert resolve_gateway("groq", base_url="https://arg.example").base_url == "https://arg.example/groq"
    assert resolve_gateway("groq", route="/my-groq/").base_url == "https://gw.example/p/my-groq"
    assert resolve_gateway("groq", api_key="pylf_v1_eu_x").api_key == "pylf_v1_eu_x"
    monkeypatch.delenv("PYDANTIC_AI_GATEWAY_API_KEY")
    monkeypatch.setenv("PAIG_API_KEY", "pylf_v1_us_paig")
    assert resolve_gateway("groq").api_key == "pylf_v1_us_paig"
    monkeypatch.delenv("PAIG_API_KEY")
    with pytest.raises(UserError, match="PYDANTIC_AI_GATEWAY_API_KEY"):
        resolve_gateway("groq")
    with pytest.raises(UserError, match="Unknown upstream provider"):
        resolve_gateway("gateway/mistral", api_key="k")


@pytest.mark.usefixtures("gateway_env")
def test_the_key_is_never_in_a_repr() -> None:
    endpoint = resolve_gateway("anthropic")
    assert isinstance(endpoint, GatewayEndpoint)
    assert KEY not in repr(endpoint) and "***" in repr(endpoint)
    provider = gateway_provider("anthropic")
    assert (provider.name, provider.api_key) == ("anthropic", None)
    assert provider.headers == {"authorization": f"Bearer {KEY}"}
    assert KEY not in repr(provider)
    for route in ROUTES:
        model = infer_model(f"gateway/{route}:m1")
        assert KEY not in repr(model), route
        assert KEY not in repr(vars(model).get("vertex")) and KEY not in repr(vars(model).get("aws"))
    with pytest.raises(UserError, match="infer_model"):
        gateway_provider("bedrock")


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("gateway_env")
def test_every_route_resolves_to_its_dialect() -> None:
    prefixes = {f"gateway/{r}" for r in ROUTES}
    assert prefixes <= set(known_prefixes())
    assert not prefixes & set(unavailable_prefixes())
    kinds = {
        "anthropic": AnthropicModel,
        "groq": GroqModel,
        "google": GoogleCloudModel,
        "google-cloud": GoogleCloudModel,
        "bedrock": BedrockConverseModel,
        "converse": BedrockConverseModel,
    }
    urls = {
        "anthropic": "https://gateway-us.pydantic.dev/proxy/anthropic",
        "groq": "https://gateway-us.pydantic.dev/proxy/groq",
        "google": "https://gateway-us.pydantic.dev/proxy/google-vertex",
        "google-cloud": "https://gateway-us.pydantic.dev/proxy/google-vertex",
        "bedrock": "https://gateway-us.pydantic.dev/proxy/bedrock",
        "converse": "https://gateway-us.pydantic.dev/proxy/bedrock",
    }
    for route in ROUTES:
        model = infer_model(f"gateway/{route}:{_model(route)}")
        assert type(model) is kinds[route]
        assert model.base_url.rstrip("/") == urls[route]
    with pytest.raises(UserError, match="model"):
        infer_model("gateway/anthropic:")


@pytest.mark.usefixtures("gateway_env")
def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYDANTIC_AI_GATEWAY_API_KEY")
    for route in ROUTES:
        with pytest.raises(UserError, match="PYDANTIC_AI_GATEWAY_API_KEY"):
            infer_model(f"gateway/{route}:{_model(route)}")


@pytest.mark.usefixtures("gateway_env")
def test_no_upstream_credentials_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Gateway key replaces each upstream's: theirs are neither needed nor sent."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")  # would be a UserError for `bedrock:`
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/no/such/file.json")
    model = infer_model("gateway/bedrock:amazon.nova-micro-v1:0")
    assert isinstance(model, BedrockConverseModel)
    assert model.aws.region == "pydantic-ai-gateway" and model.aws.credentials is None
    assert isinstance(infer_model("gateway/google:gemini-2.5-flash"), GoogleCloudModel)


@pytest.mark.usefixtures("gateway_env")
def test_bedrock_key_never_goes_over_plain_http_to_another_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_BASE_URL", "http://gateway.example/proxy")
    with pytest.raises(UserError, match="HTTPS") as info:
        infer_model("gateway/bedrock:amazon.nova-micro-v1:0")
    assert KEY not in str(info.value)
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_BASE_URL", "http://localhost:8787/proxy")
    assert (
        infer_model("gateway/bedrock:amazon.nova-micro-v1:0").base_url
        == "http://localhost:8787/proxy/bedrock"
    )


# ---------------------------------------------------------------------------------------------
# Against 2.68's requests, on a loopback server
# ---------------------------------------------------------------------------------------------


def _model(route: str) -> str:
    return next(c["model"] for c in CASES if c["route"] == route)


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['route']}-{'stream' if case['stream'] else 'request'}"


#: the headers that say how a request authenticates; each is compared with 2.68's (present or absent)
AUTH_HEADERS = ("authorization", "x-api-key", "x-goog-api-key")


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(value: Any) -> Any:
    """A JSON value with every object key in snake_case."""
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def _normalized(response: Any, root: str) -> dict[str, Any]:
    (data,) = messages_to_python([response])
    text = orjson.dumps(data).decode().replace(root, "ROOT")
    out: dict[str, Any] = orjson.loads(text)
    for key in ("timestamp", "model_id", "run_id", "conversation_id"):
        out.pop(key, None)
    return out


@pytest.mark.parametrize("case", CASES, ids=_case_id)
@pytest.mark.usefixtures("gateway_env")
async def test_the_request_and_response_are_2_68s(
    case: dict[str, Any], loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, loopback)
    route = case["route"]
    loopback.enqueue(_stream_reply(route) if case["stream"] else _reply(route))
    model = infer_model(f"gateway/{route}:{case['model']}")
    if case["stream"]:
        async with model_request_stream(
            model, MESSAGES, model_settings=FIXTURE["settings"], model_request_parameters=PARAMS
        ) as stream:
            async for _ in stream:
                pass
        response = stream.get()
    else:
        response = await model_request(
            model, MESSAGES, model_settings=FIXTURE["settings"], model_request_parameters=PARAMS
        )

    (sent,) = loopback.requests
    want = case["request"]
    assert sent.path == want["path"]
    assert sent.target.partition("?")[2] == want["query"]
    for header in AUTH_HEADERS:
        assert sent.headers.get(header) == want["headers"].get(header), header
    if route in ("google", "google-cloud"):
        # google-genai writes some keys in snake_case where trio_direct writes camelCase (the API reads both)
        assert _snake(sent.json) == _snake(want["body"])
    else:
        assert sent.json == want["body"]

    got = _normalized(response, loopback.url)
    expected = {k: v for k, v in case["response"].items() if k not in ("timestamp", "model_id", "run_id")}
    expected.pop("conversation_id", None)
    # the SDKs report their base URL with or without a trailing slash; 2.68 compares URLs without it
    assert got.pop("provider_url").rstrip("/") == expected.pop("provider_url").rstrip("/")
    for part in [*got["parts"], *expected["parts"]]:
        part.pop("timestamp", None)
    assert got == expected


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.usefixtures("gateway_env")
async def test_a_stream_left_early_closes_its_connection(
    route: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, loopback)
    loopback.enqueue(_stream_reply(route, cut=3))
    model = infer_model(f"gateway/{route}:{_model(route)}")
    async with model_request_stream(
        model, MESSAGES, model_settings=FIXTURE["settings"], model_request_parameters=PARAMS
    ) as stream:
        async for _ in stream:
            break
    await loopback.wait_for_client_close_async()
    assert stream.get().parts  # the part that had started
    (sent,) = loopback.requests
    assert sent.headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.usefixtures("gateway_env")
def test_a_stream_left_early_from_sync_code(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, loopback)
    loopback.enqueue(_stream_reply("bedrock", cut=3))
    model = infer_model(f"gateway/bedrock:{_model('bedrock')}")
    with model_request_stream_sync(
        model, MESSAGES, model_settings=FIXTURE["settings"], model_request_parameters=PARAMS
    ) as stream:
        for _ in stream:
            break
    loopback.wait_for_client_close()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.usefixtures("gateway_env")
async def test_an_error_echoing_the_key_never_shows_it(
    route: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, loopback)
    echo = f"invalid key: Bearer {KEY}"
    if route == "anthropic":
        body: Any = {"type": "error", "error": {"type": "authentication_error", "message": echo}}
    elif route in ("google", "google-cloud"):
        body = {"error": {"code": 401, "message": echo, "status": "UNAUTHENTICATED"}}
    elif route == "groq":
        body = {"error": {"message": echo, "type": "invalid_request_error", "code": "invalid_api_key"}}
    else:
        body = {"message": echo}
    loopback.enqueue(Reply.json(body, status=401, headers={"x-echo": KEY}))
    model = infer_model(f"gateway/{route}:{_model(route)}")
    with pytest.raises(ModelHTTPError) as info:
        await model_request(model, MESSAGES)
    assert info.value.status_code == 401
    error = info.value
    for text in (str(error), repr(error), repr(error.body), repr(getattr(error, "headers", None))):
        assert KEY not in text, route


@pytest.mark.parametrize(
    ("route", "path", "reply"),
    [
        (
            "bedrock",
            "/proxy/bedrock/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens",
            {"inputTokens": 5},
        ),
        ("anthropic", "/proxy/anthropic/v1/messages/count_tokens", {"input_tokens": 5}),
        (
            "google",
            "/proxy/google-vertex/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens",
            {"totalTokens": 5},
        ),
    ],
)
@pytest.mark.usefixtures("gateway_env")
async def test_token_counting_through_the_gateway(
    route: str, path: str, reply: dict[str, Any], loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, loopback)
    loopback.enqueue(Reply.json(reply))
    model = infer_model(f"gateway/{route}:{_model(route)}")
    usage = await model.count_tokens(MESSAGES, None, PARAMS)
    assert usage.input_tokens == 5
    (sent,) = loopback.requests
    assert sent.path == path
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in sent.headers


@pytest.mark.usefixtures("gateway_env")
async def test_bedrock_reads_the_cost_the_gateway_reports(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As 2.68 (checked against it): the ``logfire-ai-gateway-cost`` header of a Converse reply, and a
    stream's ``messageStop.additionalModelResponseFields``, kept when the ``metadata`` usage follows."""
    _point_at(monkeypatch, loopback)
    model = infer_model(f"gateway/bedrock:{_model('converse')}")
    loopback.enqueue(Reply.json(BEDROCK_REPLY, headers={"logfire-ai-gateway-cost": "0.0038USD"}))
    response = await model_request(model, MESSAGES)
    assert (response.usage.cost, response.usage.input_tokens) == (Decimal("0.0038"), 3)

    usage = {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}
    stop = {
        "stopReason": "end_turn",
        "additionalModelResponseFields": {"logfire_ai_gateway": {"cost": "0.0042"}},
    }
    loopback.enqueue(
        eventstream_reply(
            [
                event("messageStart", {"role": "assistant"}),
                event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "ok"}}),
                event("contentBlockStop", {"contentBlockIndex": 0}),
                event("messageStop", stop),
                event("metadata", {"usage": usage, "metrics": {"latencyMs": 1}}),
            ]
        )
    )
    async with model_request_stream(model, MESSAGES) as stream:
        async for _ in stream:
            pass
    assert (stream.get().usage.cost, stream.get().usage.input_tokens) == (Decimal("0.0042"), 3)

    # no header, or one that is not a USD amount: no cost, as 2.68
    loopback.enqueue(Reply.json(BEDROCK_REPLY, headers={"logfire-ai-gateway-cost": "0.0038"}))
    assert (await model_request(model, MESSAGES)).usage.cost is None


# --------------------------------------------------------------------------------------------------
# "Did you mean" for gateway names (2.68 suggests `gateway/<upstream>:` names for them)


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [
        # the colon typed as another separator: 2.68 suggests the same
        ("gateway/anthropic-claude-sonnet-4-6", "gateway/anthropic:claude-sonnet-4-6"),
        ("gateway/anthropic/claude-sonnet-4-6", "gateway/anthropic:claude-sonnet-4-6"),
        # the upstream left out: the gateway name, where 2.68 suggests the plain upstream one
        ("gateway/claude-sonnet-4-6", "gateway/anthropic:claude-sonnet-4-6"),
        ("gateway:claude-sonet-4-6", "gateway/anthropic:claude-sonnet-4-6"),
        # a misspelt route keeps the model as typed
        ("gateway/antropic:my-model", "gateway/anthropic:my-model"),
        ("gateway/grok:llama-3.3-70b-versatile", "gateway/groq:llama-3.3-70b-versatile"),
        ("gatway/openai:gpt-4o", "gateway/openai:gpt-4o"),
        ("gateway/xyz:foo", None),
        ("gateway/nothing-like-it", None),
    ],
)
def test_unknown_gateway_names_suggest_gateway_names(
    typed: str, suggestion: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_API_KEY", KEY)
    with pytest.raises(UserError, match="Unknown model") as info:
        infer_model(typed)
    if suggestion is None:
        assert "Did you mean" not in str(info.value)
        return
    assert f"Did you mean {suggestion!r}?" in str(info.value)
    assert infer_model(suggestion)  # what is suggested resolves


# --------------------------------------------------------------------------------------------------
# The cost the Gateway reports on the Anthropic, Groq and Gemini routes, against 2.68's reading

#: the cost scenarios of ``make_gateway_fixtures.py``: (usage block in the body, response header)
GATEWAY_COSTS: dict[str, tuple[dict[str, Any] | None, str | None]] = {
    "body": ({"logfire_ai_gateway": {"cost": "0.0038"}}, None),
    "deprecated": ({"pydantic_ai_gateway": {"cost_estimate": 0.0041}}, None),
    "header": (None, "0.0052USD"),
    "header_and_body": ({"logfire_ai_gateway": {"cost": "0.0038"}}, "0.0052USD"),
    "zero": ({"logfire_ai_gateway": {"cost": "0"}}, None),
    "negative": ({"logfire_ai_gateway": {"cost": "-1"}}, None),
}
COST_CASES: list[dict[str, Any]] = FIXTURE["cost_cases"]


def _costed_reply(route: str, stream: bool, scenario: str) -> Reply:
    """The route's reply with the scenario's cost where the Gateway puts it (as the capture script)."""
    block, header = GATEWAY_COSTS[scenario]
    headers = {"logfire-ai-gateway-cost": header} if header else None
    if not stream:
        plain = {"anthropic": ANTHROPIC_REPLY, "groq": GROQ_REPLY}.get(route, GOOGLE_REPLY)
        reply = json.loads(json.dumps(plain))
        key = "usageMetadata" if route == "google" else "usage"
        reply[key] = {**reply[key], **(block or {})}
        return Reply.json(reply, headers=headers)
    payloads = json.loads(json.dumps(_stream_payloads(route)))
    if block is not None:
        if route == "anthropic":
            payloads[-2]["usage"] = {**payloads[-2]["usage"], **block}  # message_delta
        elif route == "groq":
            payloads[-1]["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, **block}
        else:
            payloads[-1]["candidates"][0]["content"]["parts"].append({"text": "", "partMetadata": block})
    if route == "anthropic":
        events: list[Any] = [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads]
    else:
        events = payloads + (["data: [DONE]"] if route == "groq" else [])
    return Reply.sse(events, headers=headers)


@pytest.mark.usefixtures("gateway_env")
@pytest.mark.parametrize("case", COST_CASES, ids=[f"{_case_id(c)}-{c['cost']}" for c in COST_CASES])
async def test_the_gateway_cost_is_read_as_2_68_reads_it(
    case: dict[str, Any], loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anthropic and Groq read the body's usage block (a stream's ``message_delta`` usage, Groq's
    final chunk's ``usage``) and not the header; Gemini reads the header on a plain reply and an
    empty last part's ``partMetadata`` in a stream. A negative cost is none; a zero is a real one."""
    _point_at(monkeypatch, loopback)
    route = case["route"]
    model = infer_model(f"gateway/{route}:{_model(route)}")
    loopback.enqueue(_costed_reply(route, case["stream"], case["cost"]))
    if case["stream"]:
        async with model_request_stream(model, MESSAGES, model_settings={"max_tokens": 100}) as stream:
            async for _ in stream:
                pass
        response = stream.get()
    else:
        response = await model_request(model, MESSAGES, model_settings={"max_tokens": 100})
    expected = case["usage"]
    cost = response.usage.cost
    assert (str(cost) if cost is not None else None) == expected["cost"]
    assert (response.usage.input_tokens, response.usage.output_tokens) == (
        expected["input_tokens"],
        expected["output_tokens"],
    )
    # the whole response still dumps as 2.68's usage does
    dumped = messages_to_python([response])[0]["usage"]
    assert dumped.get("cost") == expected["cost"]


_OPENAI_CHAT_REPLY: dict[str, Any] = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def _openai_chunks(usage_block: dict[str, Any]) -> list[Any]:
    head = {"id": "c1", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o"}
    return [
        {
            **head,
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "hi"}, "finish_reason": None}],
        },
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {
            **head,
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, **usage_block},
        },
        "data: [DONE]",
    ]


@pytest.mark.usefixtures("gateway_env")
async def test_openai_routes_read_the_cost_in_the_usage_object(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As 2.68 (checked against its OpenAIChatModel / OpenAIResponsesModel on the same bodies: 0.0038,
    0.0042, 0.005): the Gateway's ``usage.logfire_ai_gateway.cost`` (or the deprecated
    ``pydantic_ai_gateway.cost_estimate``) of a Chat reply, a Chat stream's final usage chunk and a
    Responses reply becomes ``usage.cost``."""
    _point_at(monkeypatch, loopback)
    chat = json.loads(json.dumps(_OPENAI_CHAT_REPLY))
    chat["usage"]["logfire_ai_gateway"] = {"cost": "0.0038"}
    loopback.enqueue(Reply.json(chat))
    model = infer_model("gateway/openai:gpt-4o")
    assert (await model_request(model, MESSAGES)).usage.cost == Decimal("0.0038")

    loopback.enqueue(Reply.sse(_openai_chunks({"pydantic_ai_gateway": {"cost_estimate": 0.0042}})))
    async with model_request_stream(model, MESSAGES) as stream:
        async for _ in stream:
            pass
    assert stream.get().usage.cost == Decimal("0.0042")

    responses_reply = {
        "id": "r1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": "gpt-4o",
        "output": [
            {
                "type": "message",
                "id": "m1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "hi", "annotations": []}],
            }
        ],
        "usage": {
            "input_tokens": 3,
            "output_tokens": 1,
            "total_tokens": 4,
            "logfire_ai_gateway": {"cost": "0.005"},
        },
    }
    loopback.enqueue(Reply.json(responses_reply))
    response = await model_request(infer_model("gateway/openai-responses:gpt-4o"), MESSAGES)
    assert response.usage.cost == Decimal("0.005")
    assert "logfire_ai_gateway" not in response.usage.details
