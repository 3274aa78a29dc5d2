"""xAI (``xai:``) over its REST Responses API, on a real loopback server: resolution, the body (reasoning
effort per Grok model, encrypted reasoning asked for), replies, streams and early exit, errors, and the
key kept secret. ``grok:`` (Chat Completions) keeps working alongside."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
import trio

from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ModelRequest,
    ModelSettings,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    model_request,
    model_request_stream,
)
from trio_direct.exceptions import ModelAuthenticationError, ModelHTTPError, ModelRateLimitError, UserError
from trio_direct.models import infer_model, known_prefixes
from trio_direct.models.openai import OpenAIChatModel
from trio_direct.models.openai_responses import OpenAIResponsesModel, xai_profile

KEY = "xai-loopback-secret-key-1234567890"
PROMPT = [ModelRequest.user_text_prompt("Hello")]


@pytest.fixture
def xai_env(loopback: LoopbackServer) -> Iterator[None]:
    with mock.patch.dict(os.environ, {"XAI_API_KEY": KEY, "XAI_BASE_URL": loopback.url + "/v1"}):
        yield


def grok(name: str = "grok-4.3") -> OpenAIResponsesModel:
    model = infer_model(f"xai:{name}")
    assert isinstance(model, OpenAIResponsesModel)
    return model


def response(*output: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "resp_xai",
        "object": "response",
        "created_at": 1769546683,
        "status": "completed",
        "model": "grok-4.3",
        "output": list(output),
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
    }


MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
}
REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "thinking"}],
    "encrypted_content": "enc-xai",
}


def test_resolution_and_the_grok_row() -> None:
    assert {"xai", "grok"} <= set(known_prefixes())
    with mock.patch.dict(os.environ, {"XAI_API_KEY": KEY}):
        os.environ.pop("XAI_BASE_URL", None)
        model = infer_model("xai:grok-4.3")
        chat = infer_model("grok:grok-3")
    assert isinstance(model, OpenAIResponsesModel) and model.system == "xai"
    assert model.base_url == "https://api.x.ai/v1/"
    assert isinstance(chat, OpenAIChatModel)  # `grok:` stays the Chat Completions host
    assert KEY not in repr(model) and KEY not in repr(model.provider)
    with mock.patch.dict(os.environ, {}, clear=True), pytest.raises(UserError, match="XAI_API_KEY"):
        infer_model("xai:grok-4.3")


def test_reasoning_efforts_per_model() -> None:
    assert xai_profile("grok-3-mini").chat.reasoning_efforts == frozenset({"none", "low", "high"})
    assert xai_profile("grok-4.7").chat.thinking_always_enabled
    assert not xai_profile("grok-3").chat.supports_thinking


async def test_request_and_reply(loopback: LoopbackServer, xai_env: None) -> None:
    loopback.enqueue(Reply.json(response(REASONING, MESSAGE)))
    result = await model_request(grok("grok-3-mini"), PROMPT, model_settings=ModelSettings(thinking="high"))
    assert isinstance(result.parts[0], ThinkingPart) and result.parts[0].signature == "enc-xai"
    assert result.parts[1] == TextPart("Hi", id="msg_1", provider_name="xai")
    assert result.provider_name == "xai" and result.canonical_system == "xai"
    sent = loopback.requests[0]
    assert sent.path == "/v1/responses"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["reasoning"] == {"effort": "high"}
    assert sent.json["include"] == ["reasoning.encrypted_content"]


async def test_thinking_off_where_the_model_allows(loopback: LoopbackServer, xai_env: None) -> None:
    loopback.enqueue(Reply.json(response(MESSAGE)))
    await model_request(
        grok("grok-4.3"), PROMPT, model_settings=ModelSettings(thinking=False, temperature=0.2)
    )
    sent = loopback.requests[0].json
    assert sent["reasoning"] == {"effort": "none"} and sent["temperature"] == 0.2


def _sse(*events: dict[str, Any]) -> list[str]:
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events]


async def test_stream_and_early_exit(loopback: LoopbackServer, xai_env: None) -> None:
    created = {
        "type": "response.created",
        "sequence_number": 0,
        "response": {**response(), "status": "in_progress"},
    }
    added = {
        "type": "response.output_item.added",
        "sequence_number": 1,
        "output_index": 0,
        "item": {**MESSAGE, "content": []},
    }
    delta = {
        "type": "response.output_text.delta",
        "sequence_number": 2,
        "output_index": 0,
        "content_index": 0,
        "item_id": "msg_1",
        "delta": "Hi",
    }
    done = {"type": "response.completed", "sequence_number": 3, "response": response(MESSAGE)}
    loopback.enqueue(Reply.sse(_sse(created, added, delta, done)))
    async with model_request_stream(grok(), PROMPT) as stream:
        async for _ in stream:
            pass
        assert stream.get().parts == [TextPart("Hi", id="msg_1", provider_name="xai")]
    loopback.enqueue(Reply.sse(_sse(created, added, delta), then=stall()))
    async with model_request_stream(grok(), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


@pytest.mark.parametrize(("status", "error"), [(401, ModelAuthenticationError), (429, ModelRateLimitError)])
async def test_errors_without_the_key(
    loopback: LoopbackServer, xai_env: None, status: int, error: type[ModelHTTPError]
) -> None:
    loopback.enqueue(Reply.json({"code": "x", "error": f"Incorrect API key provided: {KEY}"}, status=status))
    with pytest.raises(error) as caught:
        await model_request(grok(), PROMPT)
    assert caught.value.status_code == status
    assert KEY not in f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"
