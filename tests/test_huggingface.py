"""Hugging Face Inference Providers (``huggingface:``) over a real loopback server: request bodies
against the ones pydantic-ai 2.68 sent (``tests/data/huggingface_requests.json``), replies, streams
(and leaving one early), the status → error mapping 2.68 has, routing, and the token kept secret."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import trio

from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ImageUrl,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    ModelSettings,
    OutputObjectDefinition,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    UserPromptPart,
    model_request,
    model_request_stream,
)
from trio_direct.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelUnavailableError,
    UserError,
)
from trio_direct.messages import AudioUrl
from trio_direct.models import infer_model
from trio_direct.models.huggingface import DEFAULT_BASE_URL, HuggingFaceModel, build_chat_request

TOKEN = "hf_loopback-secret-token-1234567890"
PROMPT = [ModelRequest.user_text_prompt("hi")]
MODEL = "deepseek-ai/DeepSeek-R1"


def hf(srv: LoopbackServer, name: str = MODEL) -> HuggingFaceModel:
    return HuggingFaceModel(name, api_key=TOKEN, base_url=srv.url + "/together/v1")


def completion(content: str | None = "ok", *, finish: str = "stop", **message: Any) -> dict[str, Any]:
    return {
        "id": "hf-1",
        "object": "chat.completion",
        "created": 1769546683,
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, **message},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12, "extra_count": 3},
    }


def chunk(content: str | None = None, *, finish: str | None = None, usage: bool = False, **delta: Any) -> str:
    data: dict[str, Any] = {
        "id": "hf-s",
        "created": 1769546683,
        "model": MODEL,
        "choices": [
            {"index": 0, "delta": {"role": "assistant", "content": content, **delta}, "finish_reason": finish}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4} if usage else None,
    }
    return f"data: {json.dumps(data)}\n\n"


# --------------------------------------------------------------------------------------------------
# resolution


def test_resolves_from_the_environment(tmp_path: Path) -> None:
    env = {"HF_TOKEN": TOKEN, "HF_TOKEN_PATH": str(tmp_path / "none")}
    with mock.patch.dict(os.environ, env):
        os.environ.pop("HUGGINGFACE_BASE_URL", None)
        model = infer_model(f"huggingface:{MODEL}")
    assert isinstance(model, HuggingFaceModel)
    assert model.system == "huggingface" and model.base_url == DEFAULT_BASE_URL
    assert TOKEN not in repr(model) and TOKEN not in repr(model.provider)


def test_the_stored_login_token_is_used(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_TOKEN_PATH")}
    with mock.patch.dict(os.environ, {**env, "HF_HOME": str(tmp_path)}, clear=True):
        model = infer_model(f"huggingface:{MODEL}")
    assert isinstance(model, HuggingFaceModel) and model.provider.api_key == TOKEN


def test_a_missing_token_names_the_variable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    with (
        mock.patch.dict(os.environ, {**env, "HF_HOME": str(tmp_path)}, clear=True),
        pytest.raises(UserError, match="HF_TOKEN"),
    ):
        infer_model(f"huggingface:{MODEL}")


def test_provider_routing() -> None:
    model = HuggingFaceModel("Qwen/Qwen3-235B-A22B", api_key=TOKEN, provider_name="nebius")
    assert model.model_name == "Qwen/Qwen3-235B-A22B:nebius"
    body = build_chat_request(
        model.model_name, PROMPT, ModelSettings(), ModelRequestParameters(), stream=False
    )
    assert body["model"] == "Qwen/Qwen3-235B-A22B:nebius"
    with pytest.raises(UserError, match="both"):
        HuggingFaceModel(MODEL, api_key=TOKEN, base_url="http://x/v1", provider_name="together")


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68's

CAPTURES = Path(__file__).parent / "data" / "huggingface_requests.json"


def _scenarios() -> list[dict[str, Any]]:
    if not CAPTURES.exists():
        return []
    return json.loads(CAPTURES.read_text())


def _params(spec: dict[str, Any] | None) -> ModelRequestParameters:
    if spec is None:
        return ModelRequestParameters()
    tools = [
        [ToolDefinition(**{k: v for k, v in t.items() if v is not None}) for t in spec[key]]
        for key in ("function_tools", "output_tools")
    ]
    output_object = spec.get("output_object")
    return ModelRequestParameters(
        function_tools=tools[0],
        output_tools=tools[1],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**output_object) if output_object else None,
        allow_text_output=spec["allow_text_output"],
    )


def _compact(value: Any) -> Any:
    """The body without the null-valued keys the SDK writes (trio_direct leaves them out)."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


@pytest.mark.parametrize("scenario", _scenarios(), ids=lambda s: s["name"])
def test_request_body_matches_2_68(scenario: dict[str, Any]) -> None:
    from trio_direct.serialization import messages_from_json

    messages = messages_from_json(json.dumps(scenario["messages"]).encode())
    settings = ModelSettings(**(scenario["settings"] or {}))
    params = _params(scenario["params"])
    if scenario["error"] is not None:
        # 2.68 raises NotImplementedError for a file Hugging Face does not take; here it is a UserError
        with pytest.raises(UserError):
            build_chat_request(scenario["model"], messages, settings, params, stream=scenario["stream"])
        return
    body = build_chat_request(scenario["model"], messages, settings, params, stream=scenario["stream"])
    assert _compact(body) == _compact(scenario["expected"]["body"])


def test_there_are_captures() -> None:
    assert len(_scenarios()) >= 8


# --------------------------------------------------------------------------------------------------
# replies over loopback


async def test_request_reply_and_headers(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(completion("<think>\nhmm\n</think>\n\nParis")))
    response = await model_request(hf(loopback), PROMPT)
    assert response.parts == [ThinkingPart("\nhmm\n"), TextPart("\n\nParis")]
    assert response.finish_reason == "stop" and response.provider_name == "huggingface"
    assert (
        response.usage.input_tokens == 5 and response.usage.output_tokens == 7 and not response.usage.details
    )
    assert response.provider_url == loopback.url + "/together/v1"
    assert response.provider_details is not None and response.provider_details["finish_reason"] == "stop"
    sent = loopback.requests[0]
    assert sent.path == "/together/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert sent.json == {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "tools": [],
    }


async def test_reasoning_fields_are_not_thinking_and_tgi_finish_reasons(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(completion("done", finish="eos_token", reasoning_content="hidden")))
    response = await model_request(hf(loopback), PROMPT)
    assert response.parts == [TextPart("done")] and response.finish_reason == "stop"


async def test_tool_calls(loopback: LoopbackServer) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": '{"a": 1}'}}
    loopback.enqueue(Reply.json(completion(None, finish="tool_calls", tool_calls=[call])))
    tool = ToolDefinition(
        name="get",
        description="Get it",
        parameters_json_schema={"type": "object", "properties": {"a": {"type": "integer"}}},
    )
    response = await model_request(
        hf(loopback), PROMPT, model_request_parameters=ModelRequestParameters(function_tools=[tool])
    )
    assert response.parts == [ToolCallPart("get", '{"a": 1}', "call_1")]
    assert response.finish_reason == "tool_call"
    assert loopback.requests[0].json["tools"] == [
        {
            "type": "function",
            "function": {"name": "get", "description": "Get it", "parameters": tool.parameters_json_schema},
        }
    ]
    assert loopback.requests[0].json["tool_choice"] == "auto"


async def test_streamed_thinking_text_and_usage(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                chunk("<think>"),
                chunk("pondering"),
                chunk("</think>"),
                chunk("Par"),
                chunk("is", finish="stop", usage=True),
                "data: [DONE]\n\n",
            ]
        )
    )
    async with model_request_stream(hf(loopback), PROMPT) as stream:
        events = [e async for e in stream]
        response = stream.get()
    assert response.parts == [ThinkingPart("pondering"), TextPart("Paris")]
    assert isinstance(events[0], PartStartEvent)
    assert response.usage.input_tokens == 3 and response.usage.output_tokens == 4
    assert response.provider_response_id == "hf-s" and response.finish_reason == "stop"
    assert loopback.requests[0].json["stream"] is True and "stream_options" not in loopback.requests[0].json


async def test_streamed_tool_call(loopback: LoopbackServer) -> None:
    first = {"index": 0, "id": "c1", "type": "function", "function": {"name": "get", "arguments": '{"a"'}}
    rest = {"index": 0, "function": {"arguments": ": 1}"}}
    loopback.enqueue(
        Reply.sse(
            [chunk(tool_calls=[first]), chunk(tool_calls=[rest], finish="tool_calls"), "data: [DONE]\n\n"]
        )
    )
    async with model_request_stream(hf(loopback), PROMPT) as stream:
        async for _ in stream:
            pass
        assert stream.get().parts == [ToolCallPart("get", '{"a": 1}', "c1")]


async def test_leaving_a_stream_early_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk("first"), chunk(" second")], then=stall()))
    async with model_request_stream(hf(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


async def test_a_truncated_stream_is_a_connection_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([chunk("partial")]))
    with pytest.raises(ModelConnectionError):
        async with model_request_stream(hf(loopback), PROMPT) as stream:
            async for _ in stream:
                pass


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"error": "Model is overloaded", "error_type": "overloaded"}, ModelOverloadedError),
        ({"error": "something broke", "error_type": "generation"}, ModelAPIError),
    ],
)
async def test_in_stream_errors(
    loopback: LoopbackServer, body: dict[str, Any], error: type[Exception]
) -> None:
    loopback.enqueue(Reply.sse([chunk("a"), f"data: {json.dumps(body)}\n\n"]))
    with pytest.raises(error) as caught:
        async with model_request_stream(hf(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    assert getattr(caught.value, "in_stream", False)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"error": "bad"}, ModelRequestRejectedError),
        (401, {"error": "Invalid credentials in Authorization header"}, ModelAuthenticationError),
        (404, {"error": "Model not found"}, ModelNotFoundError),
        (429, {"error": "rate limited"}, ModelRateLimitError),
        (429, {"error": "busy", "error_type": "overloaded"}, ModelOverloadedError),
        (500, {"error": "boom"}, ModelServerError),
        (503, {"error": "unavailable"}, ModelUnavailableError),
    ],
)
async def test_status_to_error_class(
    loopback: LoopbackServer, status: int, body: dict[str, Any], error: type[ModelHTTPError]
) -> None:
    loopback.enqueue(Reply.json(body, status=status))
    with pytest.raises(error) as caught:
        await model_request(hf(loopback), PROMPT)
    assert caught.value.status_code == status


async def test_the_token_never_leaks_from_an_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json({"error": f"bad token {TOKEN}"}, status=401))
    with pytest.raises(ModelAuthenticationError) as caught:
        await model_request(hf(loopback), PROMPT)
    assert TOKEN not in f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"
    loopback.enqueue(Reply.sse([chunk("a"), f"data: {json.dumps({'error': f'echo {TOKEN}'})}\n\n"]))
    with pytest.raises(ModelAPIError) as caught_stream:
        async with model_request_stream(hf(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    assert TOKEN not in f"{caught_stream.value}\n{caught_stream.value!r}"


def test_only_images_are_taken() -> None:
    with pytest.raises(UserError, match="Hugging Face"):
        build_chat_request(
            MODEL,
            [ModelRequest([UserPromptPart(["hi", AudioUrl("https://x/a.mp3")])])],
            ModelSettings(),
            ModelRequestParameters(),
            stream=False,
        )
    body = build_chat_request(
        MODEL,
        [ModelRequest([UserPromptPart(["hi", ImageUrl("https://x/cat.png")])])],
        ModelSettings(),
        ModelRequestParameters(),
        stream=False,
    )
    assert body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://x/cat.png"},
    }


def test_thinking_goes_back_as_tags() -> None:
    history = [
        *PROMPT,
        ModelResponse([ThinkingPart("why"), TextPart("because")]),
        ModelRequest.user_text_prompt("ok"),
    ]
    body = build_chat_request(MODEL, history, ModelSettings(), ModelRequestParameters(), stream=False)
    assert body["messages"][1] == {"role": "assistant", "content": "<think>\nwhy\n</think>\n\nbecause"}
