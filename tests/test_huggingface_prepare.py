"""A history holding a retry, on Hugging Face, against pydantic-ai 2.68.

2.68's direct API runs the model's whole ``prepare_messages`` on such a history: tool results go ahead
of the other parts of their request in the order of the calls they answer; the models of the
organisations 2.68's Hugging Face provider has a profile for keep mid-conversation system messages, and
the others (``openai/gpt-oss``...) get them as ``<system>`` user text, announced in the system prompt;
Mistral's tool call IDs are fitted to 9 characters. The same histories without the retry go out as
stored.

``tests/data/huggingface_retry_requests.json`` holds what 2.68's ``HuggingFaceModel`` sent, captured by
``tests/data/make_huggingface_retry_fixtures.py``; each request trio_direct sends to a loopback server is
compared with it whole (both without null-valued keys, as tests/test_huggingface.py compares).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.captured import first_difference
from tests.loopback import LoopbackServer, Reply
from tests.reliability import completion
from tests.test_huggingface import _compact  # pyright: ignore[reportPrivateUsage]
from tests.test_openai_chat_prepare import params_of
from trio_direct import model_request
from trio_direct.models.huggingface import HuggingFaceModel, huggingface_profile
from trio_direct.serialization import messages_from_python

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "huggingface_retry_requests.json").read_text()
)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
async def test_request_body_matches_pydantic_ai(case: dict[str, Any], loopback: LoopbackServer) -> None:
    model = HuggingFaceModel(case["model"], api_key="hf_test-0123456789", base_url=loopback.url + "/v1")
    loopback.enqueue(Reply.json(completion("ok")))
    response = await model_request(
        model, messages_from_python(case["messages"]), model_request_parameters=params_of(case["params"])
    )
    assert response.text == "ok"
    sent, expected = _compact(loopback.requests[0].json), _compact(case["expected"]["body"])
    assert first_difference(sent, expected) is None


def test_the_captures_show_each_behaviour() -> None:
    """The captures are the ones this file is about: a reorder, a wrap with its announcement, fitted IDs."""
    by_name = {c["name"]: c["expected"]["body"]["messages"] for c in CASES}

    def results(name: str) -> list[str]:
        return [m["tool_call_id"] for m in by_name[name] if m["role"] == "tool"]

    assert results("llama_out_of_order_retry") == ["call_a", "call_b"]
    assert results("llama_out_of_order_no_retry") == ["call_b", "call_a"]
    assert {"role": "system", "content": "Answer in French."} in _compact(by_name["llama_mid_system_retry"])
    wrapped = _compact(by_name["gptoss_mid_system_retry"])
    assert wrapped[0]["content"].startswith("Mid-conversation system messages from the application")
    assert {"role": "user", "content": "<system>Answer in French.</system>"} in wrapped
    assert all(len(i) == 9 for i in results("mistral_out_of_order_retry"))


def test_profiles_say_which_models_have_a_mid_conversation_system_role() -> None:
    """2.68's Hugging Face provider: the organisations it has a profile for, whatever the route suffix."""
    assert huggingface_profile("meta-llama/Llama-3.3-70B-Instruct:together").inline_system_prompts
    assert huggingface_profile("Qwen/Qwen3-235B-A22B").inline_system_prompts
    assert huggingface_profile("deepseek-ai/DeepSeek-R1").inline_system_prompts
    assert not huggingface_profile("openai/gpt-oss-120b").inline_system_prompts
    assert not huggingface_profile("zai-org/GLM-4.6").inline_system_prompts
    assert not huggingface_profile("some-org/model").inline_system_prompts
    assert huggingface_profile("mistralai/Mistral-7B-Instruct-v0.3").tool_call_id_length == 9
    assert huggingface_profile("Qwen/Qwen3-235B-A22B").tool_call_id_length is None
