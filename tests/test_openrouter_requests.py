"""OpenRouter's request extensions against pydantic-ai 2.68: prompt-cache breakpoints, ``video_url``
parts and the web search and advisor server tools.

``tests/data/openrouter_requests.json`` holds what 2.68's ``OpenRouterModel`` sent (or raised) for each
scenario, captured by ``tests/data/make_openrouter_fixtures.py``; each body is compared whole. A loopback
test checks a cached, tool-using request end to end over a real socket.
"""

from __future__ import annotations

import json
import types
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.captured import first_difference
from tests.loopback import LoopbackServer, Reply
from tests.reliability import completion, sse_text
from trio_direct import (
    CachePoint,
    ModelRequest,
    ModelResponse,
    TextPart,
    UserError,
    VideoUrl,
    model_request,
    model_request_stream,
)
from trio_direct.models._chat import build_chat_body
from trio_direct.models._chat_profile import openrouter_profile
from trio_direct.models._instructions import with_instructions
from trio_direct.models._openrouter import (
    LOOKBACK_SAFE_BLOCKS,
    LeadingCachePoint,
    place_system_messages_before_generation,
)
from trio_direct.models.base import Provider
from trio_direct.models.openai import OpenAIChatModel
from trio_direct.serialization import messages_from_python
from trio_direct.settings import ModelSettings
from trio_direct.tools import InstructionPart, ModelRequestParameters, ToolDefinition

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "openrouter_requests.json").read_text()
)


def params_of(spec: dict[str, Any] | None, messages: list[Any]) -> ModelRequestParameters:
    params = ModelRequestParameters()
    if spec:
        parts = spec.get("instruction_parts")
        params = ModelRequestParameters(
            function_tools=[ToolDefinition(**t) for t in spec.get("function_tools", [])],
            native_tools=[types.SimpleNamespace(**t) for t in spec.get("native_tools", [])],
            instruction_parts=[InstructionPart(p["content"], dynamic=p["dynamic"]) for p in parts]
            if parts is not None
            else None,
        )
    return with_instructions(messages, params)


def build(case: dict[str, Any]) -> dict[str, Any]:
    messages = messages_from_python(case["messages"])
    return build_chat_body(
        case["model"],
        messages,
        ModelSettings(**(case["settings"] or {})),  # type: ignore[typeddict-item]
        params_of(case["params"], messages),
        openrouter_profile(case["model"]),
        stream=case["stream"],
        provider_name="openrouter",
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(UserError) as raised:
            build(case)
        if "external_web_access" in expected["message"]:
            # 2.68's wording points at its local fallbacks, which trio_direct has not: ours names the
            # setting and says what to do
            assert "external_web_access" in str(raised.value)
        else:
            assert str(raised.value) == expected["message"]
        return
    body = json.loads(json.dumps(build(case)))
    assert first_difference(body, expected["body"]) is None


def test_the_captures_cover_each_extension() -> None:
    bodies = json.dumps([c["expected"].get("body") for c in CASES])
    for needle in (
        '"cache_control"',
        '"ttl": "1h"',
        '"video_url"',
        "openrouter:web_search",
        "openrouter:advisor",
    ):
        assert needle in bodies, needle
    assert LOOKBACK_SAFE_BLOCKS == 18


def test_no_placeholder_survives_a_built_request() -> None:
    messages = [
        ModelRequest.user_text_prompt("first"),
        *messages_from_python(CASES[0]["messages"]),
        ModelRequest.user_text_prompt([CachePoint(), "second"]),  # type: ignore[arg-type]
    ]
    body = build_chat_body(
        "anthropic/claude-sonnet-4.5",
        messages,
        ModelSettings(),
        ModelRequestParameters(),
        openrouter_profile("anthropic/claude-sonnet-4.5"),
        stream=False,
        provider_name="openrouter",
    )
    parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
    assert not any(isinstance(p, LeadingCachePoint) for p in parts)
    assert body["messages"][-1]["content"] == [{"type": "text", "text": "second"}]


async def test_cached_request_with_video_and_web_search_over_loopback(loopback: LoopbackServer) -> None:
    model = OpenAIChatModel(
        "anthropic/claude-sonnet-4.5",
        provider=Provider("openrouter", loopback.url + "/api/v1", "sk-or-key-0123456789"),
        profile=openrouter_profile("anthropic/claude-sonnet-4.5"),
    )
    tool = ToolDefinition(name="get_weather", parameters_json_schema={"type": "object", "properties": {}})
    params = ModelRequestParameters(
        function_tools=[tool], native_tools=[types.SimpleNamespace(kind="web_search")]
    )
    prompt = [ModelRequest.user_text_prompt(["Watch", VideoUrl("https://example.com/v.mp4"), CachePoint()])]  # type: ignore[list-item]
    loopback.enqueue(Reply.json(completion("done")))
    response = await model_request(
        model,
        prompt,
        model_settings={"openrouter_cache_tool_definitions": "1h"},  # type: ignore[typeddict-unknown-key]
        model_request_parameters=params,
    )
    assert response.text == "done"
    sent = loopback.requests[0].json
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "Watch"},
        {
            "type": "video_url",
            "video_url": {"url": "https://example.com/v.mp4"},
            "cache_control": {"type": "ephemeral", "ttl": "5m"},  # a later 5m point keeps its TTL
        },
    ]
    assert sent["tools"][0]["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert sent["tools"][1] == {
        "type": "openrouter:web_search",
        "parameters": {"search_context_size": "medium"},
    }


async def test_a_cached_stream_sends_the_same_breakpoints_and_can_be_left_early(
    loopback: LoopbackServer,
) -> None:
    model = OpenAIChatModel(
        "anthropic/claude-sonnet-4.5",
        provider=Provider("openrouter", loopback.url + "/api/v1", "sk-or-key-0123456789"),
        profile=openrouter_profile("anthropic/claude-sonnet-4.5"),
    )
    loopback.enqueue(Reply.sse(sse_text("a", "b", "c"), delay=0.01))
    prompt = [ModelRequest.user_text_prompt(["Context", CachePoint(ttl="1h"), "Question"])]  # type: ignore[list-item]
    async with model_request_stream(
        model,
        prompt,
        model_settings={"openrouter_cache_messages": True},  # type: ignore[typeddict-unknown-key]
    ) as stream:
        async for _ in stream:
            break
    sent = loopback.requests[0].json
    assert sent["stream"] is True
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "Context", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
        # the conversation breakpoint: TTLs are only raised backwards, so a later 5m one stays 5m
        {"type": "text", "text": "Question", "cache_control": {"type": "ephemeral", "ttl": "5m"}},
    ]


# --------------------------------------------------------------------------------------------------
# properties of the breakpoint placement

_TEXT = st.text(alphabet="abc ", min_size=1, max_size=5)
_ITEM = st.one_of(_TEXT, st.builds(CachePoint, ttl=st.sampled_from(["5m", "1h"])))


@st.composite
def _conversations(draw: st.DrawFn) -> list[Any]:
    turns: list[Any] = []
    for index in range(draw(st.integers(1, 4))):
        if index:
            turns.append(ModelResponse([TextPart(draw(_TEXT))]))
        items = draw(st.lists(_ITEM, min_size=1, max_size=5))
        if isinstance(items[0], CachePoint):
            items.insert(0, "lead")  # a leading CachePoint is its own (error) case, tested from the goldens
        turns.append(ModelRequest.user_text_prompt(items))
    return turns


_TTL = st.sampled_from([True, "5m", "1h"])


@given(
    conversation=_conversations(),
    vendor=st.sampled_from(["anthropic/claude-sonnet-4.5", "google/gemini-2.5-flash", "openai/gpt-4o"]),
    settings=st.fixed_dictionaries(
        {},
        optional={
            "openrouter_cache_messages": _TTL,
            "openrouter_cache_instructions": _TTL,
            "openrouter_cache_tool_definitions": _TTL,
        },
    ),
    instructions=st.booleans(),
)
@hypothesis_settings(max_examples=200, deadline=None)
def test_breakpoints_stay_within_the_routed_providers_rules(
    conversation: list[Any], vendor: str, settings: dict[str, Any], instructions: bool
) -> None:
    if instructions:
        conversation[-1] = attrs.evolve(conversation[-1], instructions="Be terse.")
    tool = ToolDefinition(name="t", parameters_json_schema={"type": "object", "properties": {}})
    profile = openrouter_profile(vendor)
    body = build_chat_body(
        vendor,
        conversation,
        ModelSettings(**settings),  # type: ignore[typeddict-item]
        ModelRequestParameters(function_tools=[tool]),
        profile,
        stream=False,
        provider_name="openrouter",
    )
    blocks = [
        *body["tools"],
        *(p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]),
    ]
    controls = [b["cache_control"] for b in blocks if "cache_control" in b]
    assert not any(isinstance(b, LeadingCachePoint) for b in blocks)
    if not profile.openrouter_cache_control:
        assert controls == []
        return
    if profile.openrouter_max_cache_points is not None:
        assert len(controls) <= profile.openrouter_max_cache_points
    if profile.openrouter_cache_ttl:
        ttls = [c["ttl"] for c in controls]
        assert ttls == sorted(ttls, key=lambda t: t == "5m")  # every 1h breakpoint before every 5m one
    else:
        assert all(c == {"type": "ephemeral"} for c in controls)
    if not profile.openrouter_trailing_cache_control:
        last = body["messages"][-1]
        assert not (isinstance(last["content"], list) and "cache_control" in last["content"][-1])
    # the text is untouched: only `cache_control` keys were added
    texts = [p["text"] for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
    assert all(isinstance(t, str) and t for t in texts)


# --------------------------------------------------------------------------------------------------
# mid-conversation system messages (Anthropic routes that keep the role) and Mistral's tool call IDs

_ROLES = st.lists(st.sampled_from(["system", "user", "tool", "assistant"]), max_size=12)


@given(leading=st.integers(0, 2), roles=_ROLES)
def test_system_messages_move_only_past_user_and_tool_messages(leading: int, roles: list[str]) -> None:
    messages: list[dict[str, Any]] = [{"role": "system", "content": f"lead{i}"} for i in range(leading)]
    messages += [{"role": r, "content": f"{r}{i}"} for i, r in enumerate(roles)]
    before = [dict(m) for m in messages]
    # the system prompt: the leading run of system messages, however the roles began
    leading = next((i for i, m in enumerate(before) if m["role"] != "system"), len(before))
    place_system_messages_before_generation(messages)
    assert sorted(map(str, messages)) == sorted(map(str, before))  # a permutation
    assert messages[:leading] == before[:leading]  # the system prompt stays
    # every other kind keeps its order, and so do the system messages among themselves
    for kind in ("system", "user", "tool", "assistant"):
        assert [m for m in messages if m["role"] == kind] == [m for m in before if m["role"] == kind]
    # a moved system message is followed by an assistant turn, another system message, or nothing
    for i in range(leading, len(messages)):
        if messages[i]["role"] == "system" and i + 1 < len(messages):
            assert messages[i + 1]["role"] in ("assistant", "system")


def test_only_the_claude_models_keeping_the_role_move_system_messages() -> None:
    assert openrouter_profile("anthropic/claude-opus-4.8").system_messages_precede_generation
    assert openrouter_profile("~anthropic/claude-mythos-5").system_messages_precede_generation
    assert not openrouter_profile("anthropic/claude-sonnet-4.5").system_messages_precede_generation
    assert not openrouter_profile("openai/gpt-4o").system_messages_precede_generation
    assert openrouter_profile("mistralai/mistral-large").tool_call_id_length == 9
    assert openrouter_profile("openai/gpt-4o").tool_call_id_length is None


async def test_mistral_route_fits_tool_call_ids_over_loopback(loopback: LoopbackServer) -> None:
    """A retry history on a ``mistralai/`` route: a call and its answer keep one 9-character ID, and a
    second request with the history grown sends the same IDs (so the prompt cache keeps hitting)."""
    case = next(c for c in CASES if c["name"] == "tool_ids_mistralai_mistral-large")
    messages = messages_from_python(case["messages"])
    model = OpenAIChatModel(
        "mistralai/mistral-large",
        provider=Provider("openrouter", loopback.url + "/api/v1", "sk-or-key-0123456789"),
        profile=openrouter_profile("mistralai/mistral-large"),
    )
    loopback.enqueue(Reply.json(completion("ok")))
    loopback.enqueue(Reply.sse(sse_text("a", "b"), delay=0.01))
    await model_request(model, messages)
    grown = [*messages, ModelResponse([TextPart("ok")]), ModelRequest.user_text_prompt("more")]
    async with model_request_stream(model, grown) as stream:
        async for _ in stream:
            break
    first, second = (r.json["messages"] for r in loopback.requests)
    expected = case["expected"]["body"]["messages"]
    assert first == expected
    assert second[: len(expected)] == expected
    ids = [c["id"] for c in first[1]["tool_calls"]]
    assert [m["tool_call_id"] for m in first[2:]] == ids
    assert all(len(i) == 9 and i.isalnum() for i in ids)


async def test_system_message_moves_before_generation_over_loopback(loopback: LoopbackServer) -> None:
    case = next(c for c in CASES if c["name"] == "mid_system_anthropic_claude-opus-5")
    model = OpenAIChatModel(
        "anthropic/claude-opus-5",
        provider=Provider("openrouter", loopback.url + "/api/v1", "sk-or-key-0123456789"),
        profile=openrouter_profile("anthropic/claude-opus-5"),
    )
    loopback.enqueue(Reply.json(completion("ok")))
    await model_request(model, messages_from_python(case["messages"]))
    assert loopback.requests[0].json["messages"] == case["expected"]["body"]["messages"]
