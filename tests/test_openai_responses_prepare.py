"""A history holding a retry, on OpenAI's Responses API, against pydantic-ai 2.68.

2.68's direct API runs the model's whole ``prepare_messages`` on such a history: tool results go ahead of
the other parts of their request, in the order of the calls they answer, and on a model without a
mid-conversation system role (DeepSeek's Responses endpoint; OpenAI's models have one) system prompts past
the standing one become ``<system>`` user text, announced in the system prompt. The same histories
without the retry go out as stored.

``tests/data/openai_responses_retry_requests.json`` holds what 2.68's ``OpenAIResponsesModel`` sent on
OpenAI and DeepSeek, captured by ``tests/data/make_openai_responses_retry_fixtures.py``; each request
trio_direct sends to a loopback server is compared with it whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.captured import first_difference
from tests.hosts import host_row
from tests.loopback import LoopbackServer, Reply
from tests.test_openai_chat_prepare import params_of
from trio_direct import model_request
from trio_direct.models.base import Provider
from trio_direct.models.openai_responses import OpenAIResponsesModel, host_profile
from trio_direct.serialization import messages_from_python

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "openai_responses_retry_requests.json").read_text()
)


def reply(text: str) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": "gpt-4o",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        ],
        "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
    }


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_request_body_matches_pydantic_ai(case: dict[str, Any], loopback: LoopbackServer) -> None:
    provider = Provider(case["host"], loopback.url + "/v1", "sk-test-0123456789")
    if case["host"] == "openai":
        model = OpenAIResponsesModel(case["model"], provider=provider)
    else:
        profile = host_profile(host_row(f"{case['host']}-responses"), case["model"])
        model = OpenAIResponsesModel(case["model"], provider=provider, profile=profile, canonical_system=None)
    loopback.enqueue(Reply.json(reply("ok")))
    response = await model_request(
        model, messages_from_python(case["messages"]), model_request_parameters=params_of(case["params"])
    )
    assert response.text == "ok"
    assert first_difference(loopback.requests[0].json, case["expected"]["body"]) is None


def test_the_captures_show_each_behaviour() -> None:
    """The captures are the ones this file is about: results first on a retry (as stored without one), and
    the wrap with its announcement on DeepSeek."""
    by_name = {c["name"]: c["expected"]["body"]["input"] for c in CASES}

    def outputs(name: str) -> list[str]:
        return [i["call_id"] for i in by_name[name] if i.get("type") == "function_call_output"]

    assert outputs("openai_out_of_order_retry") == ["call_a", "call_b"]
    assert outputs("openai_out_of_order_no_retry") == ["call_b", "call_a"]
    assert outputs("deepseek_out_of_order_retry") == ["call_a", "call_b"]
    mid = by_name["openai_mid_system_retry"]
    assert mid.index({"type": "function_call_output", "call_id": "call_1", "output": "sunny"}) < mid.index(
        {"role": "system", "content": "Answer in French."}
    )
    wrapped = by_name["deepseek_mid_system_retry"]
    assert wrapped[0]["content"].startswith("Mid-conversation system messages from the application")
    assert {"role": "user", "content": "<system>Answer in French.</system>"} in wrapped
