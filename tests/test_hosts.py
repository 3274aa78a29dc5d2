"""Every OpenAI-compatible host row, over loopback: path, authentication, query and body quirks.

Registry-driven (:mod:`tests.hosts`): a new row is tested by the parametrized tests without a change
here. Then what differs per host: Azure's deployments, ``api-version`` and ``api-key`` header; the
Snowflake account URL; Heroku's and the Gateway's URLs; OpenRouter's extensions (routing settings,
``reasoning``, ``reasoning_details`` both ways, errors inside a 200); Z.AI's ``thinking`` object and
finish reasons; Snowflake's ``reasoning`` object and inferred finish reason.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.hosts import MODEL_NAMES, expected_path, host_env, host_prefixes, host_row
from tests.loopback import LoopbackServer, Reply
from tests.reliability import chunk, completion
from trio_direct import (
    ModelAPIError,
    ModelRequest,
    ModelRequestRejectedError,
    ModelResponse,
    ModelSettings,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UserError,
    model_request,
    model_request_stream,
    model_request_sync,
)
from trio_direct.exceptions import ModelRateLimitError
from trio_direct.models import infer_model
from trio_direct.models._chat import build_chat_body, parse_chat_completion
from trio_direct.models._chat_profile import openrouter_profile, snowflake_profile, zai_profile
from trio_direct.tools import ModelRequestParameters, ToolDefinition

KEY = "host-loopback-key-0123456789"
PROMPT = [ModelRequest.user_text_prompt("hi")]
TOOL = ToolDefinition(
    name="get_weather",
    description="Weather for a city",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)
PARAMS = ModelRequestParameters(function_tools=[TOOL])


def _setenv(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> None:
    for var, value in env.items():
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)


def _model(prefix: str) -> str:
    return MODEL_NAMES.get(prefix, "gpt-4o")


def responses_body(text: str = "hi", model: str = "gpt-4o") -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "model": model,
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
    }


def _reply(prefix: str) -> Reply:
    model = _model(prefix)
    if host_row(prefix).api == "responses":
        return Reply.json(responses_body("hi", model))
    return Reply.json(completion("hi", model))


# ---------------------------------------------------------------------------------------------
# Every row
# ---------------------------------------------------------------------------------------------


def test_the_rows_2_68_names_are_registered() -> None:
    wanted = {
        "azure", "azure-responses", "openrouter", "openrouter-responses", "deepseek", "deepseek-responses",
        "cerebras", "ollama", "zai", "crusoe", "snowflake", "heroku", "moonshotai", "alibaba", "github",
        "litellm", "nebius", "ovhcloud", "sambanova", "together", "fireworks", "vercel", "vllm",
        "gateway/openai", "gateway/openai-chat", "gateway/openai-responses",
    }  # fmt: skip
    assert wanted <= set(host_prefixes())


@pytest.mark.parametrize("prefix", host_prefixes())
async def test_a_request_reaches_the_rows_endpoint(
    prefix: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = host_row(prefix)
    _setenv(monkeypatch, host_env(prefix, f"{loopback.url}/base", KEY))
    loopback.enqueue(_reply(prefix))
    with pytest.warns(DeprecationWarning) if prefix == "github" else _nothing():
        model = infer_model(f"{prefix}:{_model(prefix)}")
    response = await model_request(
        model, PROMPT, model_settings=ModelSettings(max_tokens=7), model_request_parameters=PARAMS
    )

    (request,) = loopback.requests
    assert request.method == "POST"
    assert request.path == expected_path(prefix, "/base")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    for header, value in row.headers:
        assert request.headers[header.lower()] == value
    body = request.json
    assert body["model"] == _model(prefix)
    profile = row.profile(_model(prefix))
    if row.api == "responses":
        assert body["max_output_tokens"] == 7
        tool = body["tools"][0]
    else:
        max_key = "max_completion_tokens" if profile.supports_max_completion_tokens else "max_tokens"
        other = "max_tokens" if max_key == "max_completion_tokens" else "max_completion_tokens"
        assert (body[max_key], other in body) == (7, False)
        tool = body["tools"][0]["function"]
        if not profile.supports_strict_tools:
            assert "strict" not in tool
    assert tool["name"] == "get_weather"
    assert isinstance(response, ModelResponse)
    assert response.text == "hi"
    assert response.provider_name == row.name


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.parametrize("prefix", [p for p in host_prefixes() if host_row(p).api == "chat"])
async def test_a_stream_reaches_the_rows_endpoint(
    prefix: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(monkeypatch, host_env(prefix, f"{loopback.url}/base", KEY))
    loopback.enqueue(Reply.sse([chunk("hel"), chunk("lo"), chunk(None, "stop"), "data: [DONE]"]))
    with pytest.warns(DeprecationWarning) if prefix == "github" else _nothing():
        model = infer_model(f"{prefix}:{_model(prefix)}")
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
    assert stream.get().text == "hello"
    (request,) = loopback.requests
    assert request.path == expected_path(prefix, "/base")
    assert request.json["stream"] is True


@pytest.mark.parametrize("prefix", host_prefixes())
def test_a_missing_key_names_the_variable(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    row = host_row(prefix)
    env = host_env(prefix, "http://127.0.0.1:9", KEY)
    env[row.key_env] = None
    if prefix.startswith("gateway/"):
        env["PAIG_API_KEY"] = None
    _setenv(monkeypatch, env)
    if not row.key_required or row.keyless_with_base_url:
        infer_model(f"{prefix}:{_model(prefix)}")  # keyless local servers get a placeholder
        return
    with (
        pytest.warns(DeprecationWarning) if prefix == "github" else _nothing(),
        pytest.raises(UserError, match=row.key_env),
    ):
        infer_model(f"{prefix}:{_model(prefix)}")


@pytest.mark.parametrize("prefix", host_prefixes())
async def test_an_error_status_is_categorized_on_every_row(
    prefix: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(monkeypatch, host_env(prefix, f"{loopback.url}/base", KEY))
    loopback.enqueue(Reply.json({"error": {"message": "slow down", "type": "rate_limit"}}, status=429))
    with pytest.warns(DeprecationWarning) if prefix == "github" else _nothing():
        model = infer_model(f"{prefix}:{_model(prefix)}")
    with pytest.raises(ModelRateLimitError) as info:
        await model_request(model, PROMPT)
    assert info.value.status_code == 429
    assert KEY not in repr(info.value) and KEY not in str(info.value.body)


# ---------------------------------------------------------------------------------------------
# Azure
# ---------------------------------------------------------------------------------------------


async def test_azure_resource_endpoint_deployments_api_version_and_api_key(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(
        monkeypatch,
        {
            "AZURE_OPENAI_ENDPOINT": loopback.url + "/",
            "AZURE_OPENAI_API_KEY": KEY,
            "OPENAI_API_VERSION": "2024-10-21",
        },
    )
    loopback.enqueue(Reply.json(completion("hi", "gpt-4o")))
    loopback.enqueue(Reply.json(responses_body("hi")))
    await model_request("azure:my deployment", PROMPT)
    await model_request("azure-responses:gpt-5", PROMPT)
    chat, responses = loopback.requests
    assert chat.path == "/openai/deployments/my%20deployment/chat/completions"
    assert chat.query == {"api-version": "2024-10-21"}
    assert responses.path == "/openai/responses"
    assert responses.query == {"api-version": "2024-10-21"}
    for request in (chat, responses):
        assert request.headers["api-key"] == KEY
        assert "authorization" not in request.headers


async def test_azure_v1_endpoints_take_a_bearer_key_and_no_api_version(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(
        monkeypatch,
        {
            "AZURE_OPENAI_ENDPOINT": loopback.url + "/openai/v1/",
            "AZURE_OPENAI_API_KEY": KEY,
            "OPENAI_API_VERSION": None,
        },
    )
    loopback.enqueue(Reply.json(completion("hi", "gpt-4o")))
    await model_request("azure:gpt-4o", PROMPT)
    (request,) = loopback.requests
    assert (request.path, request.query) == ("/openai/v1/chat/completions", {})
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "api-key" not in request.headers


def test_azure_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    _setenv(
        monkeypatch, {"AZURE_OPENAI_ENDPOINT": None, "AZURE_OPENAI_API_KEY": KEY, "OPENAI_API_VERSION": None}
    )
    with pytest.raises(UserError, match="AZURE_OPENAI_ENDPOINT"):
        infer_model("azure:gpt-4o")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com")
    with pytest.raises(UserError, match="OPENAI_API_VERSION"):
        infer_model("azure:gpt-4o")
    # an AI Foundry serverless host serves the v1 API at its root
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://m.eastus.models.ai.azure.com")
    assert infer_model("azure:Mistral-large").base_url == "https://m.eastus.models.ai.azure.com/v1"


def test_azure_profiles_follow_the_model_family() -> None:
    azure = host_row("azure")
    assert azure.profile("gpt-5").supports_thinking
    assert not azure.profile("gpt-4o").supports_document_input
    assert not azure.profile("mistral-large-2411").supports_max_completion_tokens


# ---------------------------------------------------------------------------------------------
# Snowflake, Heroku, the Gateway, GitHub
# ---------------------------------------------------------------------------------------------


def test_snowflake_builds_the_account_url(monkeypatch: pytest.MonkeyPatch) -> None:
    _setenv(
        monkeypatch, {"SNOWFLAKE_TOKEN": KEY, "SNOWFLAKE_BASE_URL": None, "SNOWFLAKE_ACCOUNT": "myorg-acct"}
    )
    model = infer_model("snowflake:claude-sonnet-4-6")
    assert model.base_url == "https://myorg-acct.snowflakecomputing.com/api/v2/cortex/v1"
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "https://myorg-acct.snowflakecomputing.com/")
    assert infer_model("snowflake:x").base_url == "https://myorg-acct.snowflakecomputing.com/api/v2/cortex/v1"
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "evil.example/steal?")
    with pytest.raises(UserError, match="account identifier"):
        infer_model("snowflake:x")
    monkeypatch.delenv("SNOWFLAKE_ACCOUNT")
    with pytest.raises(UserError, match="SNOWFLAKE_ACCOUNT"):
        infer_model("snowflake:x")


def test_heroku_url(monkeypatch: pytest.MonkeyPatch) -> None:
    _setenv(monkeypatch, {"HEROKU_INFERENCE_KEY": KEY, "HEROKU_INFERENCE_URL": None})
    assert infer_model("heroku:claude-4-sonnet").base_url == "https://us.inference.heroku.com/v1"
    monkeypatch.setenv("HEROKU_INFERENCE_URL", "https://eu.inference.heroku.com/v1/")
    assert infer_model("heroku:claude-4-sonnet").base_url == "https://eu.inference.heroku.com/v1"


def test_gateway_base_url_from_the_key_region(monkeypatch: pytest.MonkeyPatch) -> None:
    _setenv(
        monkeypatch,
        {
            "PYDANTIC_AI_GATEWAY_API_KEY": "pylf_v1_us_abc123",
            "PYDANTIC_AI_GATEWAY_BASE_URL": None,
            "PAIG_BASE_URL": None,
        },
    )
    assert infer_model("gateway/openai:gpt-5").base_url == "https://gateway-us.pydantic.dev/proxy/openai"
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_API_KEY", "pylf_v1_staging_abc")
    assert infer_model("gateway/responses:gpt-5").base_url == "https://gateway.pydantic.info/proxy/openai/"
    monkeypatch.setenv("PYDANTIC_AI_GATEWAY_API_KEY", "no-region")
    with pytest.raises(UserError, match="PYDANTIC_AI_GATEWAY_BASE_URL"):
        infer_model("gateway/openai:gpt-5")


def test_github_models_is_retired_and_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_KEY", KEY)
    with pytest.warns(DeprecationWarning, match="retired"):
        infer_model("github:openai/gpt-4.1")


# ---------------------------------------------------------------------------------------------
# OpenRouter
# ---------------------------------------------------------------------------------------------

_OR = "anthropic/claude-sonnet-4.5"


def _or_body(settings: dict[str, Any], params: ModelRequestParameters = PARAMS, **kw: Any) -> dict[str, Any]:
    return build_chat_body(
        kw.get("model", _OR), PROMPT, settings, params, openrouter_profile(kw.get("model", _OR)),
        stream=False, provider_name="openrouter",
    )  # fmt: skip


def test_openrouter_routing_settings_and_reasoning_go_in_the_body() -> None:
    body = _or_body(
        {
            "openrouter_models": ["a/b"],
            "openrouter_provider": {"order": ["anthropic"], "allow_fallbacks": False},
            "openrouter_preset": "@preset/x",
            "openrouter_transforms": ["middle-out"],
            "openrouter_usage": {"include": True},
            "extra_body": {"provider": {"order": ["overridden"]}, "other": 1},
            "anthropic_eager_input_streaming": True,
        },
        ModelRequestParameters(function_tools=[TOOL], thinking="xhigh"),
    )
    assert body["models"] == ["a/b"]
    assert body["provider"] == {"order": ["anthropic"], "allow_fallbacks": False}
    assert (body["preset"], body["transforms"], body["usage"], body["other"]) == (
        "@preset/x", ["middle-out"], {"include": True}, 1,
    )  # fmt: skip
    assert body["reasoning"] == {"effort": "high", "enabled": True}
    assert "reasoning_effort" not in body
    assert body["tools"][0]["eager_input_streaming"] is True
    assert _or_body({"openrouter_reasoning": {"max_tokens": 100}})["reasoning"] == {"max_tokens": 100}
    off = _or_body({}, ModelRequestParameters(thinking=False), model="openai/gpt-4o")
    assert off["reasoning"] == {"effort": "none"}
    assert (
        "eager_input_streaming"
        not in _or_body({"anthropic_eager_input_streaming": True}, model="openai/gpt-4o")["tools"][0]
    )


_DETAILS = [
    {
        "type": "reasoning.text",
        "text": "step",
        "signature": "sig",
        "format": "anthropic-claude-v1",
        "index": 0,
    },
    {"type": "reasoning.encrypted", "data": "enc", "id": "r1", "format": "google-gemini-v1", "index": 1},
    {"type": "reasoning.summary", "summary": "sum", "format": None, "index": 2},
    {"type": "reasoning.future", "whatever": 1},
]


def test_openrouter_reasoning_details_become_thinking_and_go_back() -> None:
    body = completion("answer", _OR)
    body["provider"] = "Anthropic"
    body["choices"][0]["message"]["reasoning"] = "step"
    body["choices"][0]["message"]["reasoning_details"] = _DETAILS
    body["choices"][0]["native_finish_reason"] = "end_turn"
    body["usage"] |= {"cost": 0.5, "is_byok": True, "cost_details": {"upstream_inference_cost": 0.4}}
    response = parse_chat_completion(
        orjson.dumps(body), profile=openrouter_profile(_OR), provider_name="openrouter", provider_url=None
    )
    thinking = [p for p in response.parts if isinstance(p, ThinkingPart)]
    assert [(p.content, p.signature, p.id) for p in thinking] == [
        ("step", "sig", None),
        ("", "enc", "r1"),
        ("sum", None, None),
    ]
    assert thinking[0].provider_details == {
        "format": "anthropic-claude-v1",
        "index": 0,
        "type": "reasoning.text",
    }
    assert response.usage.details["is_byok"] == 1
    d = response.provider_details or {}
    assert (d["downstream_provider"], d["finish_reason"], d["cost"], d["is_byok"]) == (
        "Anthropic",
        "end_turn",
        0.5,
        True,
    )
    # sent back unchanged to OpenRouter, on the assistant message
    history = [*PROMPT, response, ModelRequest.user_text_prompt("more")]
    sent = build_chat_body(
        _OR,
        history,
        {},
        ModelRequestParameters(),
        openrouter_profile(_OR),
        stream=False,
        provider_name="openrouter",
    )
    assistant = sent["messages"][1]
    assert assistant["reasoning_details"] == [
        {
            "id": None,
            "format": "anthropic-claude-v1",
            "index": 0,
            "type": "reasoning.text",
            "text": "step",
            "signature": "sig",
        },
        {"id": "r1", "format": "google-gemini-v1", "index": 1, "type": "reasoning.encrypted", "data": "enc"},
        {"id": None, "format": None, "index": 2, "type": "reasoning.summary", "summary": "sum"},
    ]
    assert assistant["content"] == "answer"


def test_openrouter_error_bodies_inside_a_200() -> None:
    profile = openrouter_profile(_OR)

    def parse(body: dict[str, Any]) -> ModelResponse:
        return parse_chat_completion(
            orjson.dumps(body), profile=profile, provider_name="openrouter", provider_url=None
        )

    with pytest.raises(ModelRateLimitError) as info:
        parse({"error": {"code": 429, "message": "Rate limit exceeded"}, "model": _OR})
    assert (info.value.status_code, info.value.body) == (429, "Rate limit exceeded")
    with pytest.raises(ModelRequestRejectedError):
        parse({"error": {"code": 403, "message": "flagged", "metadata": {"flagged_input": "x"}}})
    with pytest.raises(ModelAPIError, match="null `choices`"):
        parse({"choices": None, "provider": "Google", "model": _OR})
    nested = completion("inside", _OR)
    nested["provider"] = None
    response = parse({"provider": nested, "created": 1700000001})
    assert response.text == "inside"
    assert (response.provider_details or {})["downstream_provider"] == "unknown"


async def test_openrouter_stream_reasoning_details_and_in_stream_errors(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(monkeypatch, host_env("openrouter", loopback.url, KEY))

    def delta_chunk(**delta: Any) -> dict[str, Any]:
        c = chunk()
        c["choices"][0]["delta"] = delta
        c["provider"] = "Anthropic"
        return c

    detail = {"type": "reasoning.text", "format": "anthropic-claude-v1", "index": 0}
    loopback.enqueue(
        Reply.sse(
            [
                delta_chunk(reasoning="a", reasoning_details=[{**detail, "text": "a"}]),
                delta_chunk(reasoning="b", reasoning_details=[{**detail, "text": "b"}]),
                delta_chunk(reasoning_details=[{**detail, "signature": "s"}]),
                delta_chunk(content="done"),
                {**chunk(None, "stop"), "provider": "Anthropic"},
                "data: [DONE]",
            ]
        )
    )
    async with model_request_stream(f"openrouter:{_OR}", PROMPT) as stream:
        async for _ in stream:
            pass
    thinking, text = stream.get().parts
    assert isinstance(thinking, ThinkingPart) and isinstance(text, TextPart)
    assert (thinking.content, thinking.signature, thinking.id) == ("ab", "s", None)
    assert (stream.get().provider_details or {})["downstream_provider"] == "Anthropic"

    flagged = delta_chunk(content="x")
    flagged["error"] = {"code": 403, "message": "flagged", "metadata": {"flagged_input": True}}
    loopback.enqueue(Reply.sse([delta_chunk(content="partial"), flagged]))
    with pytest.raises(ModelRequestRejectedError) as info:
        async with model_request_stream(f"openrouter:{_OR}", PROMPT) as stream:
            async for _ in stream:
                pass
    assert info.value.in_stream and info.value.status_code == 403


# ---------------------------------------------------------------------------------------------
# Z.AI and Snowflake
# ---------------------------------------------------------------------------------------------


def test_zai_thinking_object_and_effort() -> None:
    def body(
        model: str, params: ModelRequestParameters, settings: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return build_chat_body(
            model, PROMPT, settings or {}, params, zai_profile(model), stream=False, provider_name="zai"
        )

    assert body("glm-4.7", ModelRequestParameters())["thinking"] == {"clear_thinking": False}
    b = body("glm-4.7", ModelRequestParameters(thinking="high"))
    assert (b["thinking"], "reasoning_effort" in b) == ({"type": "enabled", "clear_thinking": False}, False)
    b = body("glm-5.3", ModelRequestParameters(thinking=False), {"zai_clear_thinking": True})
    assert (b["thinking"], b["reasoning_effort"]) == ({"type": "enabled", "clear_thinking": True}, "low")
    assert body("glm-5.2", ModelRequestParameters(thinking="xhigh"))["reasoning_effort"] == "xhigh"
    assert body("glm-5.3", ModelRequestParameters(thinking="medium"))["reasoning_effort"] == "high"
    assert "thinking" not in body("charglm-3", ModelRequestParameters())


def test_zai_finish_reasons() -> None:
    for raw, mapped in (
        ("sensitive", "content_filter"),
        ("network_error", "error"),
        ("model_context_window_exceeded", "length"),
    ):
        body = completion("x", "glm-4.7")
        body["choices"][0]["finish_reason"] = raw
        response = parse_chat_completion(
            orjson.dumps(body), profile=zai_profile("glm-4.7"), provider_name="zai", provider_url=None
        )
        assert response.finish_reason == mapped


def test_snowflake_claude_reasoning_object_and_inferred_finish() -> None:
    profile = snowflake_profile("claude-sonnet-4-6")
    body = build_chat_body(
        "claude-sonnet-4-6",
        PROMPT,
        {},
        ModelRequestParameters(function_tools=[TOOL], thinking="xhigh"),
        profile,
        stream=False,
        provider_name="snowflake",
    )
    assert (body["reasoning"], body["temperature"], "reasoning_effort" in body) == (
        {"effort": "high"},
        1,
        False,
    )
    assert "strict" not in body["tools"][0]["function"]
    reply = completion("", "claude-sonnet-4-6")
    reply["choices"][0]["finish_reason"] = ""
    reply["choices"][0]["message"]["tool_calls"] = [
        {"id": "t1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    ]
    response = parse_chat_completion(
        orjson.dumps(reply), profile=profile, provider_name="snowflake", provider_url=None
    )
    assert response.finish_reason == "tool_call"
    assert isinstance(response.parts[-1], ToolCallPart)
    assert "finish_reason" not in (response.provider_details or {})


def test_hosts_run_under_the_sync_portal_too(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setenv(monkeypatch, host_env("zai", loopback.url, KEY))
    loopback.enqueue(Reply.json(completion("sync", "glm-4.7")))
    response = model_request_sync("zai:glm-4.7", PROMPT, timeout=30)
    assert response.text == "sync"
