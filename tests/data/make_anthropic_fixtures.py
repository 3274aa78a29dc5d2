"""Regenerate ``anthropic_requests.json`` and ``anthropic_responses.json`` from pydantic-ai-slim 2.68.

Not a test and not shipped: the captures need pydantic-ai's ``AnthropicModel``, which needs the
``anthropic`` SDK that trio_direct never depends on. Install it somewhere aside and put it on the path::

    python -m pip install --target /tmp/anthropic_sdk anthropic==2.12.0
    PYTHONPATH=/tmp/anthropic_sdk .venv/bin/python tests/data/make_anthropic_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with an ``httpx2.MockTransport``; the request bodies
it sent, and the responses, events or errors it made of canned replies, are written next to this file.
"""

import asyncio
import base64
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from pydantic_ai import messages as m
from pydantic_ai._output import OutputObjectDefinition
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.native_tools import WebSearchTool
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.settings import ToolOrOutput
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent

REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-x",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def capture(model_name, messages, settings=None, params=None, stream=False):
    seen = {}

    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        seen["headers"] = {k.lower(): v for k, v in request.headers.items()}
        seen["path"] = request.url.path
        if seen["body"].get("stream"):
            sse = (
                "event: message_start\ndata: "
                + json.dumps({"type": "message_start", "message": {**REPLY, "content": []}})
                + "\n\n"
                'event: message_stop\ndata: {"type":"message_stop"}\n\n'
            )
            return httpx2.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=REPLY)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = AnthropicModel(model_name, provider=AnthropicProvider(api_key="k", http_client=client))

    async def go():
        if stream:
            async with model_request_stream(
                model, messages, model_settings=settings, model_request_parameters=params
            ) as s:
                async for _ in s:
                    pass
        else:
            await model_request(model, messages, model_settings=settings, model_request_parameters=params)

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        asyncio.run(go())
    seen["warnings"] = [str(x.message) for x in w if "Deprecat" not in type(x.message).__name__]
    return seen


T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PNG = base64.b64decode("iVBORw0KGgo=")
PDF = b"%PDF-1.4 x"


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def resp(*parts, provider_name="anthropic"):
    return m.ModelResponse(
        parts=list(parts), provider_name=provider_name, timestamp=T, model_name="claude-sonnet-4-5"
    )


W = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def tool(name="get_weather", **kw):
    return ToolDefinition(
        name=name,
        parameters_json_schema=kw.pop("schema", W),
        description=kw.pop("description", "Weather"),
        **kw,
    )


def params_spec(
    function_tools=(), output_tools=(), allow_text_output=True, output_mode="text", output_object=None
):
    return {
        "function_tools": [td_spec(t) for t in function_tools],
        "output_tools": [td_spec(t) for t in output_tools],
        "allow_text_output": allow_text_output,
        "output_mode": output_mode,
        "output_object": output_object,
    }


def td_spec(t):
    return {
        "name": t.name,
        "parameters_json_schema": t.parameters_json_schema,
        "description": t.description,
        "strict": t.strict,
        "kind": t.kind,
    }


def make_params(spec):
    if spec is None:
        return None
    oo = spec["output_object"]
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**s) for s in spec["function_tools"]],
        output_tools=[ToolDefinition(**s) for s in spec["output_tools"]],
        allow_text_output=spec["allow_text_output"],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**oo) if oo else None,
    )


CASES = []


def case(name, model, messages, settings=None, params=None, stream=False):
    CASES.append((name, model, messages, settings, params, stream))


MT = {"max_tokens": 1000}
hi = [req(user("Hello"))]
case("plain", "claude-sonnet-4-5", hi, MT)
case("plain_stream", "claude-sonnet-4-5", hi, MT, stream=True)
case(
    "system_and_instructions",
    "claude-sonnet-4-5",
    [req(m.SystemPromptPart("You are helpful.", timestamp=T), user("Hi"), instructions="Be terse.")],
    MT,
)
case(
    "system_only",
    "claude-sonnet-4-5",
    [req(m.SystemPromptPart("A", timestamp=T), m.SystemPromptPart("B", timestamp=T), user("Hi"))],
    MT,
)
case(
    "cache_instructions",
    "claude-sonnet-4-5",
    [req(m.SystemPromptPart("Sys", timestamp=T), user("Hi"))],
    {**MT, "anthropic_cache_instructions": True},
)
case(
    "cache_instructions_1h_messages",
    "claude-sonnet-4-5",
    [req(m.SystemPromptPart("Sys", timestamp=T), user("Hi"), instructions="Ins")],
    {**MT, "anthropic_cache_instructions": True, "anthropic_cache_messages": "1h"},
)
case(
    "later_system_prompt_hoisted",
    "claude-sonnet-4-5",
    [
        req(m.SystemPromptPart("S1", timestamp=T), user("one")),
        resp(m.TextPart("r1")),
        req(m.SystemPromptPart("S2", timestamp=T), user("two")),
    ],
    MT,
)
case(
    "later_system_prompt_inline",
    "claude-opus-5",
    [
        req(m.SystemPromptPart("S1", timestamp=T), user("one")),
        resp(m.TextPart("r1")),
        req(m.SystemPromptPart("S2", timestamp=T), user("two")),
    ],
    MT,
)
case(
    "multimodal",
    "claude-sonnet-4-5",
    [
        req(
            user(
                [
                    "look",
                    m.ImageUrl("https://example.com/a.png"),
                    m.BinaryContent(PNG, media_type="image/png"),
                    m.DocumentUrl("https://example.com/a.pdf"),
                    m.BinaryContent(PDF, media_type="application/pdf"),
                    m.BinaryContent(b"hello text", media_type="text/plain"),
                    "",
                    m.CachePoint(),
                    "after",
                ]
            )
        )
    ],
    MT,
)
case("cache_point_ttl", "claude-sonnet-4-5", [req(user(["a", m.CachePoint(ttl="1h"), "b"]))], MT)
tools_hist = [
    req(user("weather?")),
    resp(
        m.TextPart("Checking"),
        m.ToolCallPart("get_weather", {"city": "Paris"}, "toolu_1"),
        m.ToolCallPart("get_weather", '{"city": "Rome"}', "toolu_2"),
        m.ToolCallPart("get_weather", "not json", "toolu_3"),
        m.ToolCallPart("get_weather", None, "toolu_4"),
    ),
    req(
        m.ToolReturnPart("get_weather", {"temp": 20}, "toolu_1", timestamp=T),
        m.ToolReturnPart("get_weather", "sunny", "toolu_2", timestamp=T),
        m.ToolReturnPart("get_weather", ["a", {"b": 1}, 2], "toolu_3", timestamp=T),
        m.ToolReturnPart("get_weather", None, "toolu_4", timestamp=T, outcome="failed"),
        user("thanks"),
    ),
]
case("tool_history", "claude-sonnet-4-5", tools_hist, MT, params_spec([tool()]))
case(
    "tool_return_files",
    "claude-sonnet-4-5",
    [
        req(user("x")),
        resp(m.ToolCallPart("f", {}, "t1")),
        req(m.ToolReturnPart("f", ["see", m.BinaryContent(PNG, media_type="image/png")], "t1", timestamp=T)),
    ],
    MT,
    params_spec([tool("f")]),
)
case(
    "tool_return_empty_list",
    "claude-sonnet-4-5",
    [req(user("x")), resp(m.ToolCallPart("f", {}, "t1")), req(m.ToolReturnPart("f", [], "t1", timestamp=T))],
    MT,
    params_spec([tool("f")]),
)
case(
    "retries",
    "claude-sonnet-4-5",
    [
        req(user("x")),
        resp(m.ToolCallPart("f", {"a": 1}, "t1"), m.ToolCallPart("f", {"a": 2}, "t2")),
        req(
            m.RetryPromptPart("bad args", tool_name="f", tool_call_id="t1", timestamp=T),
            m.RetryPromptPart(
                [{"type": "int_parsing", "loc": ("x",), "msg": "bad int", "input": "nope"}],
                tool_name="f",
                tool_call_id="t2",
                timestamp=T,
            ),
        ),
        resp(m.TextPart("plain")),
        req(m.RetryPromptPart("Plain text not allowed", timestamp=T)),
        resp(m.TextPart("again")),
        req(
            m.RetryPromptPart(
                [
                    {"type": "missing", "loc": ("a",), "msg": "Field required", "input": {}},
                    {"type": "missing", "loc": ("b",), "msg": "Field required", "input": {}},
                ],
                timestamp=T,
            )
        ),
    ],
    MT,
    params_spec([tool("f")]),
)
case(
    "thinking_history",
    "claude-sonnet-4-5",
    [
        req(user("q")),
        resp(
            m.ThinkingPart("mine", signature="SIG", provider_name="anthropic"),
            m.ThinkingPart("", id="redacted_thinking", signature="ENC", provider_name="anthropic"),
            m.ThinkingPart("unsigned", provider_name="anthropic"),
            m.ThinkingPart("empty sig", signature="", provider_name="anthropic"),
            m.TextPart("answer"),
            m.TextPart(""),
        ),
        req(user("q2")),
        resp(
            m.ThinkingPart("foreign", signature="x", provider_name="openai"),
            m.ThinkingPart(""),
            m.TextPart("a2"),
            provider_name="openai",
        ),
        req(user("q3")),
    ],
    MT,
)
case(
    "empty_response_and_assistant_first",
    "claude-sonnet-4-5",
    [resp(m.TextPart("I start")), req(user("ok")), resp(), req(user("again"))],
    MT,
)
case(
    "sampling",
    "claude-haiku-4-5",
    hi,
    {
        **MT,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 5,
        "stop_sequences": ["END"],
        "anthropic_metadata": {"user_id": "123"},
        "service_tier": "default",
        "extra_headers": {"X-Custom": "v", "Anthropic-Beta": "b1, b2"},
        "anthropic_betas": ["b3"],
        "extra_body": {"top_k": 7, "foo": "bar"},
    },
)
case("sampling_dropped", "claude-opus-4-7", hi, {**MT, "temperature": 0.5, "extra_body": {"top_p": 0.5}})
case(
    "service_tier_explicit",
    "claude-haiku-4-5",
    hi,
    {**MT, "service_tier": "auto", "anthropic_service_tier": "standard_only"},
)
case("service_tier_flex_dropped", "claude-haiku-4-5", hi, {**MT, "service_tier": "flex"})
case("thinking_budget", "claude-sonnet-4-5", hi, {"max_tokens": 20000, "thinking": True})
case("thinking_budget_high", "claude-sonnet-4-5", hi, {"max_tokens": 20000, "thinking": "high"})
case("thinking_adaptive_effort", "claude-sonnet-4-6", hi, {**MT, "thinking": "high"})
case("thinking_adaptive_xhigh", "claude-opus-4-6", hi, {**MT, "thinking": "xhigh"})
case("thinking_adaptive_xhigh_supported", "claude-opus-4-7", hi, {**MT, "thinking": "xhigh"})
case("thinking_minimal_opus45", "claude-opus-4-5", hi, {**MT, "thinking": "minimal"})
case("thinking_false_default_on", "claude-opus-5", hi, {**MT, "thinking": False})
case("thinking_false_default_off", "claude-sonnet-4-5", hi, {**MT, "thinking": False})
case("thinking_false_always", "claude-fable-5", hi, {**MT, "thinking": False})
case(
    "anthropic_thinking_explicit",
    "claude-sonnet-4-5",
    hi,
    {**MT, "anthropic_thinking": {"type": "enabled", "budget_tokens": 2048}, "thinking": "low"},
)
case("anthropic_effort", "claude-opus-4-6", hi, {**MT, "anthropic_effort": "low"})
case("max_tokens_default_sonnet45_stream", "claude-sonnet-4-5", hi, None, stream=True)
case("max_tokens_default_opus46_stream", "claude-opus-4-6", hi, None, stream=True)
case("max_tokens_default_haiku3", "claude-3-5-haiku-latest", hi, None)
case("max_tokens_default_unknown", "claude-unknown-9", hi, None)
case("max_tokens_default_budget", "claude-3-7-sonnet-latest", hi, {"thinking": "xhigh"})
case("max_tokens_capped", "claude-sonnet-4-5", hi, {"max_tokens": 100000}, stream=True)
case(
    "max_tokens_output_beta",
    "claude-sonnet-4-5",
    hi,
    {"max_tokens": 100000, "anthropic_betas": ["output-128k-2025-02-19"]},
    stream=True,
)
case("tools_auto", "claude-sonnet-4-5", hi, MT, params_spec([tool(), tool("other", description=None)]))
case(
    "tools_strict",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec(
        [
            tool(
                strict=True,
                schema={
                    "type": "object",
                    "title": "X",
                    "properties": {
                        "n": {"type": "integer", "minimum": 1, "description": "num"},
                        "s": {"type": "string", "format": "uri"},
                        "u": {"type": "string", "format": "weird"},
                        "l": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                        "e": {"enum": ["a", "b"]},
                        "o": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        "r": {"$ref": "#/$defs/D"},
                    },
                    "required": ["n"],
                    "$defs": {"D": {"type": "object", "properties": {}, "additionalProperties": True}},
                },
            )
        ]
    ),
)
case("tools_strict_unsupported_model", "claude-sonnet-4-0", hi, MT, params_spec([tool(strict=True)]))
case(
    "output_tool_required",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec([], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)
case(
    "output_tool_with_function",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec([tool()], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)
case("tool_choice_none", "claude-sonnet-4-5", hi, {**MT, "tool_choice": "none"}, params_spec([tool()]))
case(
    "tool_choice_required", "claude-sonnet-4-5", hi, {**MT, "tool_choice": "required"}, params_spec([tool()])
)
case(
    "tool_choice_one",
    "claude-sonnet-4-5",
    hi,
    {**MT, "tool_choice": ["b"]},
    params_spec([tool("a"), tool("b")]),
)
case(
    "tool_choice_subset",
    "claude-sonnet-4-5",
    hi,
    {**MT, "tool_choice": ["a", "b"]},
    params_spec([tool("a"), tool("b"), tool("c")]),
)
case(
    "tool_choice_parallel_off",
    "claude-sonnet-4-5",
    hi,
    {**MT, "parallel_tool_calls": False},
    params_spec([tool()]),
)
case(
    "tool_choice_none_parallel",
    "claude-sonnet-4-5",
    hi,
    {**MT, "tool_choice": "none", "parallel_tool_calls": False},
    params_spec([tool()]),
)
case(
    "output_tool_extended_thinking",
    "claude-sonnet-4-5",
    hi,
    {"max_tokens": 20000, "anthropic_thinking": {"type": "enabled", "budget_tokens": 1024}},
    params_spec([tool()], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)
case(
    "output_tool_adaptive_thinking",
    "claude-opus-4-6",
    hi,
    {**MT, "thinking": True},
    params_spec([], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)
case(
    "cache_tool_definitions",
    "claude-sonnet-4-5",
    hi,
    {**MT, "anthropic_cache_tool_definitions": "1h"},
    params_spec([tool("a"), tool("b")]),
)
case("cache_auto", "claude-sonnet-4-5", hi, {**MT, "anthropic_cache": True})
case(
    "cache_auto_with_cache_point",
    "claude-sonnet-4-5",
    [req(user(["x", m.CachePoint(ttl="1h")]))],
    {**MT, "anthropic_cache": True},
)
case(
    "cache_messages",
    "claude-sonnet-4-5",
    tools_hist,
    {**MT, "anthropic_cache_messages": True},
    params_spec([tool()]),
)
case(
    "cache_too_many_points",
    "claude-sonnet-4-5",
    [
        req(
            user(
                [
                    "a",
                    m.CachePoint(),
                    "b",
                    m.CachePoint(),
                    "c",
                    m.CachePoint(),
                    "d",
                    m.CachePoint(),
                    "e",
                    m.CachePoint(),
                ]
            )
        )
    ],
    {**MT, "anthropic_cache": True},
)
case(
    "native_output",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec(
        output_mode="native",
        output_object={
            "json_schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
            "name": "Out",
            "strict": None,
        },
    ),
)
case(
    "eager_input_streaming",
    "claude-sonnet-4-5",
    hi,
    {**MT, "anthropic_eager_input_streaming": True},
    params_spec([tool()]),
)
case(
    "native_tool_history",
    "claude-sonnet-4-5",
    [
        req(user("search")),
        resp(
            m.TextPart("Let me search"),
            m.NativeToolCallPart("web_search", {"query": "x"}, "srvtoolu_1", provider_name="anthropic"),
            m.NativeToolReturnPart(
                "web_search",
                [{"type": "web_search_result", "url": "https://a", "title": "A", "encrypted_content": "E"}],
                "srvtoolu_1",
                provider_name="anthropic",
                timestamp=T,
            ),
            m.NativeToolCallPart(
                "code_execution",
                {"command": "ls"},
                "srvtoolu_2",
                provider_name="anthropic",
                provider_details={"anthropic_tool_name": "bash_code_execution"},
            ),
            m.NativeToolReturnPart(
                "code_execution",
                {
                    "type": "bash_code_execution_result",
                    "stdout": "x",
                    "stderr": "",
                    "return_code": 0,
                    "content": [],
                },
                "srvtoolu_2",
                provider_name="anthropic",
                provider_details={"anthropic_tool_name": "bash_code_execution"},
                timestamp=T,
            ),
            m.NativeToolCallPart(
                "web_search", {"query": "unpaired"}, "srvtoolu_3", provider_name="anthropic"
            ),
            m.NativeToolCallPart(
                "mcp_server:deepwiki",
                {"action": "call_tool", "tool_name": "ask", "tool_args": {"q": 1}},
                "mcptoolu_1",
                provider_name="anthropic",
            ),
            m.NativeToolReturnPart(
                "mcp_server:deepwiki",
                {"content": [{"type": "text", "text": "ans"}], "is_error": False},
                "mcptoolu_1",
                provider_name="anthropic",
                timestamp=T,
            ),
            m.NativeToolCallPart("web_search", {"query": "foreign"}, "ws_1", provider_name="openai"),
            m.TextPart("Found"),
        ),
        req(user("thanks")),
    ],
    MT,
)
case(
    "compaction_history",
    "claude-sonnet-4-6",
    [
        req(user("long")),
        resp(
            m.CompactionPart(
                content="summary", provider_name="anthropic", provider_details={"encrypted_content": "ENC"}
            ),
            m.TextPart("ok"),
        ),
        req(user("more")),
    ],
    MT,
)

case(
    "compaction_signed",
    "claude-sonnet-4-6",
    [
        req(m.SystemPromptPart("Sys", timestamp=T), user("long")),
        resp(
            m.CompactionPart(
                content="summary", provider_name="anthropic", provider_details={"signature": "SIG"}
            )
        ),
        req(user("more")),
    ],
    MT,
)
case(
    "compaction_explicit_context_management",
    "claude-sonnet-4-6",
    [
        req(m.SystemPromptPart("Sys", timestamp=T), user("long")),
        resp(m.TextPart("a")),
        req(user("x")),
        resp(m.CompactionPart(content="summary", provider_name="anthropic"), m.TextPart("ok")),
        req(user("more")),
    ],
    {
        **MT,
        "anthropic_context_management": {
            "edits": [{"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 50000}}]
        },
    },
)
case(
    "compaction_foreign_not_a_boundary",
    "claude-sonnet-4-6",
    [
        req(user("long")),
        resp(
            m.CompactionPart(content="summary", provider_name="openai"),
            m.TextPart("ok"),
            provider_name="openai",
        ),
        req(user("more")),
    ],
    MT,
)
case(
    "error_budget_thinking_on_adaptive_only",
    "claude-opus-4-7",
    hi,
    {**MT, "anthropic_thinking": {"type": "enabled", "budget_tokens": 2048}},
)
case(
    "error_forced_choice_with_extended_thinking",
    "claude-sonnet-4-5",
    hi,
    {"max_tokens": 20000, "thinking": True, "tool_choice": "required"},
    params_spec([tool()]),
)
case("error_audio", "claude-sonnet-4-5", [req(user(["x", m.AudioUrl("https://example.com/a.mp3")]))], MT)
case("error_cache_point_first", "claude-sonnet-4-5", [req(user([m.CachePoint(), "x"]))], MT)
case(
    "error_cache_and_cache_messages",
    "claude-sonnet-4-5",
    hi,
    {**MT, "anthropic_cache": True, "anthropic_cache_messages": True},
)
case("error_tool_choice_required_without_tools", "claude-sonnet-4-5", hi, {**MT, "tool_choice": "required"})
case(
    "error_effort_xhigh_thinking_disabled",
    "claude-opus-5",
    hi,
    {**MT, "anthropic_effort": "max", "thinking": False},
)
case(
    "tool_choice_tool_or_output",
    "claude-sonnet-4-5",
    hi,
    {**MT, "tool_choice": ToolOrOutput(function_tools=["a"])},
    params_spec(
        [tool("a"), tool("b")],
        [tool("final_result", kind="output")],
        allow_text_output=False,
        output_mode="tool",
    ),
)
case(
    "strict_output_const",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec(
        [
            tool(
                strict=True,
                schema={
                    "type": "object",
                    "properties": {
                        "k": {"const": "x", "title": "K"},
                        "u": {"anyOf": [{"type": "integer", "title": "I"}]},
                    },
                    "required": ["k"],
                },
            )
        ]
    ),
)
case(
    "nonstrict_schema_walk",
    "claude-sonnet-4-5",
    hi,
    MT,
    params_spec(
        [
            tool(
                schema={
                    "$schema": "x",
                    "title": "Args",
                    "type": "object",
                    "properties": {
                        "a": {"title": "A", "anyOf": [{"$ref": "#/$defs/B"}], "description": "d"},
                        "l": {"type": "array", "items": {"title": "Item", "type": "string"}},
                    },
                    "$defs": {
                        "B": {
                            "title": "B",
                            "type": "object",
                            "properties": {"x": {"title": "X", "type": "integer"}},
                        }
                    },
                }
            )
        ]
    ),
)
case(
    "mid_request_system_after_tool_result",
    "claude-sonnet-4-5",
    [
        req(m.SystemPromptPart("S0", timestamp=T), user("q")),
        resp(m.ToolCallPart("f", {}, "t1")),
        req(m.ToolReturnPart("f", "r", "t1", timestamp=T), m.SystemPromptPart("late", timestamp=T)),
    ],
    MT,
    params_spec([tool("f")]),
)
case(
    "text_citations_replay",
    "claude-sonnet-4-5",
    [
        req(user("q")),
        resp(
            m.TextPart(
                "Cited text",
                provider_name="anthropic",
                provider_details={
                    "citations": [
                        {
                            "type": "web_search_result_location",
                            "url": "https://a",
                            "title": "A",
                            "cited_text": "c",
                            "encrypted_index": "EI",
                        },
                        {
                            "type": "char_location",
                            "cited_text": "x",
                            "document_index": 0,
                            "start_char_index": 0,
                            "end_char_index": 1,
                        },
                    ]
                },
                citations=[
                    m.Citation(
                        sources=[m.WebCitationSource(url="https://a", title="A", excerpts=["c"])],
                        anchor=m.ContentCitationAnchor(start=0, end=10),
                    )
                ],
            )
        ),
        req(user("q2")),
    ],
    MT,
)


# A retry in the history makes 2.68's direct API run `prepare_messages`: tool results first and in call order,
# mid-conversation system prompts as `<system>` text, and the framing announcement.
def retry_history(system=True, instructions=None):
    return [
        req(
            *([m.SystemPromptPart("Sys", timestamp=T)] if system else []),
            user("one"),
            instructions=instructions,
        ),
        resp(m.ToolCallPart("f", {"a": 1}, "c1"), m.ToolCallPart("f", {"a": 2}, "c2")),
        req(
            user("note"),
            m.ToolReturnPart("f", "two", "c2", timestamp=T),
            m.RetryPromptPart("bad", tool_name="f", tool_call_id="c1", timestamp=T),
        ),
        resp(m.TextPart("plain")),
        req(
            m.SystemPromptPart("Later", timestamp=T),
            user("y"),
            m.RetryPromptPart("No plain text", timestamp=T),
        ),
    ]


for model in ("claude-sonnet-4-5", "claude-sonnet-4-6", "claude-opus-5"):
    case(f"prepared_{model}", model, retry_history(), MT, params_spec([tool("f")]))
case(
    "prepared_instructions_only",
    "claude-sonnet-4-5",
    retry_history(False, "Ins"),
    MT,
    params_spec([tool("f")]),
)
case("prepared_nothing_to_join", "claude-sonnet-4-5", retry_history(False), MT, params_spec([tool("f")]))
case(
    "prepared_tool_retry_only",
    "claude-haiku-4-5",
    [
        req(m.SystemPromptPart("Sys", timestamp=T), user("q")),
        resp(m.ToolCallPart("f", {}, "t1")),
        req(m.RetryPromptPart("bad", tool_name="f", tool_call_id="t1", timestamp=T)),
    ],
    MT,
    params_spec([tool("f")]),
)


case(
    "prompted_output",
    "claude-sonnet-4-5",
    [req(user("q"), instructions="Be brief.")],
    MT,
    params_spec(
        output_mode="prompted",
        allow_text_output=True,
        output_object={
            "json_schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
            "name": "Out",
            "description": "An output",
            "strict": None,
        },
    ),
)


def dump_messages(msgs):
    return json.loads(m.ModelMessagesTypeAdapter.dump_json(msgs))


def make_requests():
    out = []
    for name, model, msgs, settings, spec, stream in CASES:
        try:
            got = capture(model, msgs, settings, make_params(spec), stream=stream)
            expected = {
                "body": got["body"],
                "beta": got["headers"].get("anthropic-beta"),
                "warnings": got["warnings"],
                "extra_headers": {k: v for k, v in got["headers"].items() if k in ("x-custom",)},
            }
        except Exception as e:
            expected = {"error": type(e).__name__, "message": str(e)}
        js_settings = (
            None
            if settings is None
            else {
                k: ({"__tool_or_output__": v.function_tools} if isinstance(v, ToolOrOutput) else v)
                for k, v in settings.items()
            }
        )
        out.append(
            {
                "name": name,
                "model": model,
                "messages": dump_messages(msgs),
                "settings": js_settings,
                "params": spec,
                "stream": stream,
                "expected": expected,
            }
        )
        print(
            name,
            "ERROR " + expected["error"] + ": " + expected["message"][:150] if "error" in expected else "ok",
            file=sys.stderr,
        )

    return out


def jsonable(o):
    import dataclasses
    import datetime

    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    if isinstance(o, (datetime.datetime,)):
        return None
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if dataclasses.is_dataclass(o):
        d = {f.name: getattr(o, f.name) for f in dataclasses.fields(o) if not f.name.startswith("_")}
        for tag in ("event_kind", "part_kind", "part_delta_kind"):
            if isinstance(getattr(o, tag, None), str):
                d[tag] = getattr(o, tag)
        return {k: jsonable(v) for k, v in d.items() if k not in ("timestamp",)}
    return repr(o)


def sse(events):
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)


def run(case):
    def handler(request):
        if case["kind"] == "stream":
            return httpx2.Response(
                case.get("status", 200),
                content=case["body"].encode(),
                headers={"content-type": case.get("content_type", "text/event-stream")},
            )
        return httpx2.Response(
            case.get("status", 200),
            content=case["body"].encode(),
            headers={"content-type": case.get("content_type", "application/json"), **case.get("headers", {})},
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = AnthropicModel(
        case.get("model", "claude-sonnet-4-5"), provider=AnthropicProvider(api_key="k", http_client=client)
    )
    params = ModelRequestParameters(native_tools=[WebSearchTool()] if case.get("web_search") else [])
    settings = {"max_tokens": 1000, "max_retries": 0}
    out = {}

    async def go():
        if case["kind"] == "stream":
            out["events"] = []
            async with model_request_stream(
                model,
                [m.ModelRequest.user_text_prompt("hi")],
                model_settings=settings,
                model_request_parameters=params,
            ) as s:
                async for e in s:
                    out["events"].append(jsonable(e))
                out["response"] = json.loads(m.ModelMessagesTypeAdapter.dump_json([s.get()]))[0]
        else:
            r = await model_request(
                model,
                [m.ModelRequest.user_text_prompt("hi")],
                model_settings=settings,
                model_request_parameters=params,
            )
            out["response"] = json.loads(m.ModelMessagesTypeAdapter.dump_json([r]))[0]

    try:
        asyncio.run(go())
    except Exception as e:
        out["error"] = {
            "type": type(e).__name__,
            "status_code": getattr(e, "status_code", None),
            "in_stream": getattr(e, "in_stream", None),
            "body": jsonable(getattr(e, "body", None)),
            "provider_error_type": getattr(e, "provider_error_type", None),
            "suggested_model_id": getattr(e, "suggested_model_id", None),
            "message": str(e)[:300],
        }
    return out


U = {"input_tokens": 10, "output_tokens": 5}


def msg(content, stop="end_turn", usage=U, **extra):
    return json.dumps(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
            **extra,
        }
    )


def err(kind, message):
    return json.dumps({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"})


START = {
    "type": "message_start",
    "message": {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 50,
            "cache_read_input_tokens": 10,
            "cache_creation_input_tokens": 0,
            "output_tokens": 1,
        },
    },
}


def bstart(i, block):
    return {"type": "content_block_start", "index": i, "content_block": block}


def bdelta(i, delta):
    return {"type": "content_block_delta", "index": i, "delta": delta}


def bstop(i):
    return {"type": "content_block_stop", "index": i}


def mdelta(stop="end_turn", usage=None, **delta):
    return {
        "type": "message_delta",
        "delta": {"stop_reason": stop, "stop_sequence": None, **delta},
        "usage": usage or {"output_tokens": 42},
    }


STOP = {"type": "message_stop"}
PING = {"type": "ping"}

RESPONSE_CASES = [
    {
        "name": "r_text_cache_usage",
        "kind": "request",
        "body": msg(
            [{"type": "text", "text": "Hello"}],
            usage={
                "input_tokens": 20,
                "output_tokens": 30,
                "cache_creation_input_tokens": 15,
                "cache_read_input_tokens": 100,
                "cache_creation": {"ephemeral_1h_input_tokens": 5, "ephemeral_5m_input_tokens": 10},
                "output_tokens_details": {"thinking_tokens": 7},
                "server_tool_use": {"web_search_requests": 2},
                "service_tier": "standard",
            },
        ),
    },
    {
        "name": "r_blocks",
        "kind": "request",
        "body": msg(
            [
                {"type": "thinking", "thinking": "Let me think", "signature": "SIG=="},
                {"type": "redacted_thinking", "data": "ENCRYPTED"},
                {"type": "text", "text": "Calling tool"},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
            ],
            stop="tool_use",
        ),
    },
    {
        "name": "r_max_tokens",
        "kind": "request",
        "body": msg([{"type": "text", "text": "cut"}], stop="max_tokens"),
    },
    {
        "name": "r_stop_sequence",
        "kind": "request",
        "body": msg([{"type": "text", "text": "x"}], stop="stop_sequence"),
    },
    {
        "name": "r_refusal",
        "kind": "request",
        "body": msg(
            [], stop="refusal", stop_details={"type": "refusal", "explanation": "no", "category": "cyber"}
        ),
    },
    {
        "name": "r_pause_turn",
        "kind": "request",
        "body": msg([{"type": "text", "text": "x"}], stop="pause_turn"),
    },
    {
        "name": "r_context_window",
        "kind": "request",
        "body": msg([{"type": "text", "text": "x"}], stop="model_context_window_exceeded"),
    },
    {
        "name": "r_unknown_stop",
        "kind": "request",
        "body": msg([{"type": "text", "text": "x"}], stop="brand_new"),
    },
    {"name": "r_no_stop", "kind": "request", "body": msg([{"type": "text", "text": "x"}], stop=None)},
    {
        "name": "r_container_speed",
        "kind": "request",
        "body": msg(
            [{"type": "text", "text": "x"}],
            container={"id": "container_1", "expires_at": "2026-01-01T00:00:00Z"},
            usage={"input_tokens": 1, "output_tokens": 1, "speed": "fast"},
        ),
    },
    {
        "name": "r_server_tool_dropped",
        "kind": "request",
        "body": msg(
            [
                {"type": "text", "text": "x"},
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
            ],
            stop="pause_turn",
        ),
    },
    {
        "name": "r_server_tool_enabled",
        "kind": "request",
        "web_search": True,
        "body": msg(
            [
                {
                    "type": "server_tool_use",
                    "id": "srvtoolu_1",
                    "name": "web_search",
                    "input": {"query": "q"},
                },
                {
                    "type": "web_search_tool_result",
                    "tool_use_id": "srvtoolu_1",
                    "content": [
                        {
                            "type": "web_search_result",
                            "url": "https://a",
                            "title": "A",
                            "encrypted_content": "E",
                            "page_age": None,
                        }
                    ],
                },
                {
                    "type": "text",
                    "text": "Paris",
                    "citations": [
                        {
                            "type": "web_search_result_location",
                            "url": "https://a",
                            "title": "A",
                            "cited_text": "Paris is",
                            "encrypted_index": "EI",
                        }
                    ],
                },
            ]
        ),
    },
    {
        "name": "r_tool_input_empty",
        "kind": "request",
        "body": msg([{"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}], stop="tool_use"),
    },
    {
        "name": "e_400",
        "kind": "request",
        "status": 400,
        "body": err("invalid_request_error", "max_tokens: bad"),
    },
    {
        "name": "e_400_prompt_too_long",
        "kind": "request",
        "status": 400,
        "body": err("invalid_request_error", "prompt is too long: 300000 tokens > 200000 maximum"),
    },
    {
        "name": "e_400_credit",
        "kind": "request",
        "status": 400,
        "body": err("invalid_request_error", "Your credit balance is too low to access the Anthropic API."),
    },
    {
        "name": "e_400_schema_complex",
        "kind": "request",
        "status": 400,
        "body": err("invalid_request_error", "The schema is too complex for the grammar"),
    },
    {
        "name": "e_401",
        "kind": "request",
        "status": 401,
        "body": err("authentication_error", "invalid x-api-key"),
    },
    {"name": "e_402", "kind": "request", "status": 402, "body": err("billing_error", "pay up")},
    {"name": "e_403", "kind": "request", "status": 403, "body": err("permission_error", "nope")},
    {
        "name": "e_404_model",
        "kind": "request",
        "status": 404,
        "model": "claude-sonet-4-5",
        "body": err("not_found_error", "model: claude-sonet-4-5"),
    },
    {"name": "e_413", "kind": "request", "status": 413, "body": err("request_too_large", "too big")},
    {
        "name": "e_429",
        "kind": "request",
        "status": 429,
        "headers": {"retry-after": "7"},
        "body": err("rate_limit_error", "slow down"),
    },
    {"name": "e_500", "kind": "request", "status": 500, "body": err("api_error", "boom")},
    {
        "name": "e_503_overloaded",
        "kind": "request",
        "status": 503,
        "body": err("api_error", "Service overloaded"),
    },
    {"name": "e_503", "kind": "request", "status": 503, "body": err("api_error", "down")},
    {"name": "e_504", "kind": "request", "status": 504, "body": err("timeout_error", "slow")},
    {"name": "e_529", "kind": "request", "status": 529, "body": err("overloaded_error", "Overloaded")},
    {
        "name": "e_502_html",
        "kind": "request",
        "status": 502,
        "content_type": "text/html",
        "body": "<h1>Bad gateway</h1>",
    },
    {
        "name": "e_418_unknown",
        "kind": "request",
        "status": 418,
        "body": err("teapot_error", "short and stout"),
    },
    {
        "name": "e_stream_529",
        "kind": "stream",
        "status": 529,
        "content_type": "application/json",
        "body": err("overloaded_error", "Overloaded"),
    },
    {
        "name": "s_text",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "text", "text": ""}),
                PING,
                bdelta(0, {"type": "text_delta", "text": "Hel"}),
                bdelta(0, {"type": "text_delta", "text": "lo"}),
                bstop(0),
                mdelta(),
                STOP,
            ]
        ),
    },
    {
        "name": "s_text_nonempty_start",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "text", "text": "Hi"}),
                bdelta(0, {"type": "text_delta", "text": "!"}),
                bstop(0),
                mdelta(),
                STOP,
            ]
        ),
    },
    {
        "name": "s_tool_call",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "text", "text": ""}),
                bdelta(0, {"type": "text_delta", "text": "Checking"}),
                bstop(0),
                bstart(1, {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {}}),
                bdelta(1, {"type": "input_json_delta", "partial_json": ""}),
                bdelta(1, {"type": "input_json_delta", "partial_json": '{"city": "Pa'}),
                bdelta(1, {"type": "input_json_delta", "partial_json": 'ris"}'}),
                bstop(1),
                mdelta("tool_use"),
                STOP,
            ]
        ),
    },
    {
        "name": "s_two_tools",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "tool_use", "id": "toolu_1", "name": "a", "input": {}}),
                bstop(0),
                bstart(1, {"type": "tool_use", "id": "toolu_2", "name": "b", "input": {}}),
                bdelta(1, {"type": "input_json_delta", "partial_json": ""}),
                bstop(1),
                mdelta("tool_use"),
                STOP,
            ]
        ),
    },
    {
        "name": "s_thinking",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "thinking", "thinking": "", "signature": ""}),
                bdelta(0, {"type": "thinking_delta", "thinking": "Let me"}),
                bdelta(0, {"type": "thinking_delta", "thinking": ""}),
                bdelta(0, {"type": "thinking_delta", "thinking": " think"}),
                bdelta(0, {"type": "signature_delta", "signature": "SIG=="}),
                bstop(0),
                bstart(1, {"type": "redacted_thinking", "data": "ENC"}),
                bstop(1),
                bstart(2, {"type": "text", "text": ""}),
                bdelta(2, {"type": "text_delta", "text": "Answer"}),
                bstop(2),
                mdelta(usage={"output_tokens": 282, "input_tokens": 50, "cache_read_input_tokens": 10}),
                STOP,
            ]
        ),
    },
    {
        "name": "s_error_first",
        "kind": "stream",
        "body": sse([{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]),
    },
    {
        "name": "s_error_mid",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "text", "text": ""}),
                bdelta(0, {"type": "text_delta", "text": "Hel"}),
                {"type": "error", "error": {"type": "api_error", "message": "Internal"}},
            ]
        ),
    },
    {
        "name": "s_error_unknown_type",
        "kind": "stream",
        "body": sse([START, {"type": "error", "error": {"type": "weird_error", "message": "huh"}}]),
    },
    {
        "name": "s_error_prompt_too_long",
        "kind": "stream",
        "body": sse(
            [
                START,
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "prompt is too long"},
                },
            ]
        ),
    },
    {"name": "s_empty", "kind": "stream", "body": ""},
    {
        "name": "s_pause_turn",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "text", "text": ""}),
                bdelta(0, {"type": "text_delta", "text": "x"}),
                bstop(0),
                mdelta("pause_turn"),
                STOP,
            ]
        ),
    },
    {
        "name": "s_server_tool_enabled",
        "kind": "stream",
        "web_search": True,
        "body": sse(
            [
                START,
                bstart(0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
                bdelta(0, {"type": "input_json_delta", "partial_json": '{"query": '}),
                bdelta(0, {"type": "input_json_delta", "partial_json": '"q"}'}),
                bstop(0),
                bstart(
                    1,
                    {
                        "type": "web_search_tool_result",
                        "tool_use_id": "srvtoolu_1",
                        "content": [
                            {
                                "type": "web_search_result",
                                "url": "https://a",
                                "title": "A",
                                "encrypted_content": "E",
                                "page_age": None,
                            }
                        ],
                    },
                ),
                bstop(1),
                bstart(2, {"type": "text", "text": ""}),
                bdelta(2, {"type": "text_delta", "text": "Paris"}),
                bdelta(
                    2,
                    {
                        "type": "citations_delta",
                        "citation": {
                            "type": "web_search_result_location",
                            "url": "https://a",
                            "title": "A",
                            "cited_text": "Paris is",
                            "encrypted_index": "EI",
                        },
                    },
                ),
                bstop(2),
                mdelta(usage={"output_tokens": 9, "server_tool_use": {"web_search_requests": 1}}),
                STOP,
            ]
        ),
    },
    {
        "name": "s_server_tool_disabled",
        "kind": "stream",
        "body": sse(
            [
                START,
                bstart(0, {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}),
                bdelta(0, {"type": "input_json_delta", "partial_json": '{"query": "q"}'}),
                bstop(0),
                bstart(1, {"type": "text", "text": ""}),
                bdelta(1, {"type": "text_delta", "text": "x"}),
                bstop(1),
                mdelta(),
                STOP,
            ]
        ),
    },
]


def make_responses():
    results = []
    for c in RESPONSE_CASES:
        got = run(c)
        results.append({**c, "expected": got})
        print(c["name"], "error " + got["error"]["type"] if "error" in got else "ok", file=sys.stderr)
    return results


if __name__ == "__main__":
    (HERE / "anthropic_requests.json").write_text(json.dumps(make_requests(), indent=1))
    (HERE / "anthropic_responses.json").write_text(json.dumps(make_responses(), indent=1))
