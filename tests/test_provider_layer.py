"""The shared provider layer: one instruction rule, merged settings in every hook, one registry.

Regression tests for the three bugs of issue 10, over real loopback sockets where HTTP is involved.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import strategies as tds
from tests.loopback import LoopbackServer, Reply
from trio_direct import ModelRequest, ModelResponse, TextPart, model_request, model_request_stream
from trio_direct.exceptions import UserError
from trio_direct.messages import ModelMessage, ToolCallPart, ToolReturnPart
from trio_direct.models import (
    ChatHost,
    Dialect,
    _registry,
    generic_profile,
    infer_model,
    known_prefixes,
    register_prefix,
)
from trio_direct.models import openai as oa
from trio_direct.models._instructions import choose_instructions, with_instructions
from trio_direct.models.base import Provider
from trio_direct.serialization import messages_to_json
from trio_direct.tools import InstructionPart, ModelRequestParameters

HISTORY: list[ModelMessage] = [
    ModelRequest.user_text_prompt("first", instructions="Old instructions"),
    ModelResponse([TextPart("answer")]),
    ModelRequest.user_text_prompt("second", instructions="New instructions"),
    ModelResponse([TextPart("answer")]),
    ModelRequest.user_text_prompt("third"),
]

COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "gpt-4o",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}


def chat(srv: LoopbackServer) -> oa.OpenAIChatModel:
    return oa.OpenAIChatModel("gpt-4o", provider=Provider("openai", srv.url + "/v1", "sk-test"))


# -- bug 1: one instruction rule ----------------------------------------------------------------


def test_the_rule_explicit_parts_win_even_empty() -> None:
    mine = [InstructionPart("Mine")]
    assert choose_instructions(HISTORY, ModelRequestParameters(instruction_parts=mine)) == mine
    assert choose_instructions(HISTORY, ModelRequestParameters(instruction_parts=[])) is None


def test_the_rule_takes_the_most_recent_request_that_has_instructions() -> None:
    assert choose_instructions(HISTORY, None) == [InstructionPart("New instructions")]
    assert choose_instructions(HISTORY[:1], ModelRequestParameters()) == [InstructionPart("Old instructions")]
    assert choose_instructions([ModelRequest.user_text_prompt("x")], None) is None
    tool_turn: list[ModelMessage] = [
        ModelRequest.user_text_prompt("go", instructions="Use tools"),
        ModelResponse([ToolCallPart("t", {}, "c1")]),
        ModelRequest([ToolReturnPart("t", "done", "c1")]),
    ]
    assert choose_instructions(tool_turn, None) == [InstructionPart("Use tools")]


def test_with_instructions_leaves_the_callers_parameters_alone() -> None:
    params = ModelRequestParameters()
    bridged = with_instructions(HISTORY, params)
    assert bridged.instruction_parts == [InstructionPart("New instructions")]
    assert params.instruction_parts is None
    nothing = ModelRequestParameters()
    assert with_instructions([ModelRequest.user_text_prompt("x")], nothing) is nothing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tds.histories(), st.none() | st.lists(st.builds(InstructionPart, tds.texts), max_size=2))
def test_the_rule_is_pydantic_ai_direct_apis(history: list[ModelMessage], explicit: Any) -> None:
    """The rule agrees with 2.68's direct API (``_ensure_instruction_parts``) on any valid history."""
    from pydantic_ai import direct as upstream_direct
    from pydantic_ai.messages import InstructionPart as UpPart
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models import ModelRequestParameters as UpParams

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 2.68 warns while building a legacy RetryPromptPart
        upstream_history = ModelMessagesTypeAdapter.validate_json(messages_to_json(history))
    up_explicit = None if explicit is None else [UpPart(content=p.content) for p in explicit]
    up_params = upstream_direct._ensure_instruction_parts(  # pyright: ignore[reportPrivateUsage]
        upstream_history, UpParams(instruction_parts=up_explicit)
    )
    expected = [p.content for p in up_params.instruction_parts or []] or None
    chosen = choose_instructions(history, ModelRequestParameters(instruction_parts=explicit))
    assert ([p.content for p in chosen] if chosen else None) == expected
    # bridging is idempotent, and a model given the bridged parameters reaches the same answer
    bridged = with_instructions(history, ModelRequestParameters(instruction_parts=explicit))
    assert with_instructions(history, bridged) is bridged
    assert choose_instructions(history, bridged) == chosen


async def test_model_request_and_model_request_send_the_same_instructions(loopback: LoopbackServer) -> None:
    # Bug 1: when the latest request had no instructions, `model_request` sent an older request's
    # while a bare `Model.request` sent none.
    loopback.enqueue(Reply.json(COMPLETION), Reply.json(COMPLETION))
    model = chat(loopback)
    await model_request(model, HISTORY)
    await model.request(list(HISTORY), None, None)
    via_direct, via_model = (r.json["messages"] for r in loopback.requests)
    assert via_direct == via_model
    assert via_direct[0] == {"role": "system", "content": "New instructions"}


# -- bug 2: every hook sees the merged settings -------------------------------------------------


def _chunk(content: str | None, completion_tokens: int, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": content} if content else {}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": completion_tokens,
            "total_tokens": 10 + completion_tokens,
        },
    }


async def test_per_call_continuous_usage_reaches_the_stream_mapper(loopback: LoopbackServer) -> None:
    # Bug 2: the mapper was built from the model's default settings, so running totals were summed
    # (30/6) although the per-call setting had asked the server for them.
    loopback.enqueue(
        Reply.sse([_chunk("a", 1), _chunk("b", 2), _chunk(None, 3, finish="stop"), "data: [DONE]"])
    )
    settings: Any = {"openai_continuous_usage_stats": True}
    prompt = [ModelRequest.user_text_prompt("hi")]
    async with model_request_stream(chat(loopback), prompt, model_settings=settings) as s:
        [_ async for _ in s]
        response = s.get()
    assert loopback.requests[0].json["stream_options"] == {
        "include_usage": True,
        "continuous_usage_stats": True,
    }
    assert (response.usage.input_tokens, response.usage.output_tokens) == (10, 3)


# -- bug 3 and the registry -----------------------------------------------------------------------


@pytest.fixture
def registry() -> Iterator[None]:
    saved = dict(_registry._ROUTES)  # pyright: ignore[reportPrivateUsage]
    try:
        yield
    finally:
        _registry._ROUTES.clear()  # pyright: ignore[reportPrivateUsage]
        _registry._ROUTES.update(saved)  # pyright: ignore[reportPrivateUsage]


@pytest.mark.usefixtures("registry")
def test_the_chat_factory_for_an_unknown_host_says_to_register_a_row() -> None:
    register_prefix("myhost", "trio_direct.models.openai:from_name")
    with pytest.raises(UserError, match=r"register_prefix\('myhost', ChatHost\(") as info:
        infer_model("myhost:x")
    assert not isinstance(info.value, KeyError)


@pytest.mark.usefixtures("registry")
@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no-colon", "is not 'module:factory'"),
        ("trio_direct.models.nope:from_name", "cannot import"),
        ("trio_direct.models.openai:nope", "has no callable 'nope'"),
        ("trio_direct.models.openai:__all__", "has no callable"),
    ],
)
def test_register_prefix_validates_its_target(target: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        register_prefix("myhost", target)
    assert "myhost" not in known_prefixes()


@pytest.mark.usefixtures("registry")
def test_register_prefix_rejects_bad_prefixes() -> None:
    for prefix in ("", "a:b"):
        with pytest.raises(UserError, match="prefix"):
            register_prefix(prefix, "trio_direct.models.test:from_name")


@pytest.mark.usefixtures("registry")
def test_a_compatible_host_is_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    register_prefix(
        "acme",
        ChatHost(name="acme", base_url="https://api.acme.test/v1", env="ACME", profile=generic_profile),
    )
    monkeypatch.delenv("ACME_API_KEY", raising=False)
    with pytest.raises(UserError, match="ACME_API_KEY"):
        infer_model("acme:m1")
    monkeypatch.setenv("ACME_API_KEY", "k")
    model = infer_model("acme:m1")
    assert isinstance(model, oa.OpenAIChatModel)
    assert (model.system, model.base_url, model.model_name) == ("acme", "https://api.acme.test/v1", "m1")
    monkeypatch.setenv("ACME_BASE_URL", "http://127.0.0.1:9/v1")
    assert infer_model("acme:m1").base_url == "http://127.0.0.1:9/v1"


@pytest.mark.usefixtures("registry")
def test_a_dialect_row_and_a_factory_that_returns_no_model() -> None:
    register_prefix("again", Dialect("trio_direct.models.test:from_name"))
    assert infer_model("again").model_name == "test"
    register_prefix("broken", "trio_direct.models._registry:suggest_model")
    with pytest.raises(UserError, match="not a Model"):
        infer_model("broken:x")


def test_every_dialect_module_has_a_factory() -> None:
    for module in _registry.dialect_modules():
        assert module.startswith("trio_direct.models.")
    assert "trio_direct.models.openai" in _registry.dialect_modules()
