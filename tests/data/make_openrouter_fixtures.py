"""Regenerate ``openrouter_requests.json``: what pydantic-ai-slim 2.68's ``OpenRouterModel`` sends.

Not a test and not shipped. Runs in the project venv (it has pydantic-ai-slim 2.68 and the ``openai``
SDK)::

    .venv/bin/python tests/data/make_openrouter_fixtures.py

The scenarios are the OpenRouter request extensions beyond its routing settings: prompt-cache
breakpoints (``CachePoint`` and the ``openrouter_cache_*`` settings, on Anthropic, Gemini and other
routes), ``video_url`` parts, the web search and advisor server tools, where mid-conversation system
messages go per routed vendor, and the 9-character tool call IDs of ``mistralai/`` routes. Each goes through
``pydantic_ai.direct.model_request`` (and ``model_request_stream`` for some) with an
``httpx2.MockTransport`` that records the body and path, or the error raised.
"""

import asyncio
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openrouter import OpenRouterModel
from pydantic_ai.native_tools import AdvisorTool, WebSearchTool
from pydantic_ai.providers.openrouter import OpenRouterProvider
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
MP4 = b"\x00\x00\x00\x18ftypmp42"

REPLY = {
    "id": "gen-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "m",
    "provider": "Anthropic",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
CHUNKS = [
    {
        "id": "gen-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "provider": "Anthropic",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    }
]

CLAUDE = "anthropic/claude-sonnet-4.5"
GEMINI = "google/gemini-2.5-flash"
GPT = "openai/gpt-4o"


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def system(content):
    return m.SystemPromptPart(content, timestamp=T)


def resp(*parts):
    return m.ModelResponse(parts=list(parts), timestamp=T, model_name="m", provider_name="openrouter")


def tool_def(name):
    return {
        "name": name,
        # already strict-shaped: how each side transforms a loose schema for OpenRouter is not what
        # these captures are about
        "parameters_json_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "description": "Weather",
    }


def make_params(spec):
    if spec is None:
        return None
    native = []
    for tool in spec.get("native_tools", []):
        kwargs = {k: v for k, v in tool.items() if k != "kind"}
        native.append(WebSearchTool(**kwargs) if tool["kind"] == "web_search" else AdvisorTool(**kwargs))
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec.get("function_tools", [])],
        native_tools=native,
        instruction_parts=[m.InstructionPart(**p) for p in spec["instruction_parts"]]
        if "instruction_parts" in spec
        else None,
    )


HELLO = [req(user("Hello"))]
CACHED_TURN = [req(user(["Context", m.CachePoint(), "Question"]))]
WIDE = [
    req(user("Start")),
    resp(*[m.ToolCallPart("get_weather", {"city": f"c{i}"}, tool_call_id=f"call_{i}") for i in range(10)]),
    req(
        *[m.ToolReturnPart("get_weather", "sunny", tool_call_id=f"call_{i}", timestamp=T) for i in range(10)]
    ),
]
TOOLS = {"function_tools": [tool_def("get_weather"), tool_def("get_time")]}
ALL_CACHE = {
    "openrouter_cache_instructions": True,
    "openrouter_cache_messages": True,
    "openrouter_cache_tool_definitions": True,
}

CASES = [
    # CachePoint in user content
    ("cache_point_claude", CLAUDE, CACHED_TURN, None, None),
    ("cache_point_claude_1h", CLAUDE, [req(user(["Context", m.CachePoint(ttl="1h"), "Q"]))], None, None),
    ("cache_point_gemini", GEMINI, CACHED_TURN, None, None),
    ("cache_point_openai_dropped", GPT, CACHED_TURN, None, None),
    (
        "cache_point_leading_moves_back",
        CLAUDE,
        [req(user("First")), resp(m.TextPart("ok")), req(user([m.CachePoint(), "Second"]))],
        None,
        None,
    ),
    ("cache_point_leading_error", CLAUDE, [req(system("sys"), user([m.CachePoint(), "Hi"]))], None, None),
    (
        "cache_point_only_error",
        CLAUDE,
        [req(user("a")), resp(m.TextPart("b")), req(user([m.CachePoint()]))],
        None,
        None,
    ),
    # settings
    (
        "cache_messages_claude",
        CLAUDE,
        [req(user("a")), resp(m.TextPart("b")), req(user("c"))],
        {"openrouter_cache_messages": True},
        None,
    ),
    ("cache_messages_1h_claude", CLAUDE, HELLO, {"openrouter_cache_messages": "1h"}, None),
    (
        "cache_messages_gemini",
        GEMINI,
        [req(user("a")), resp(m.TextPart("b")), req(user("c"))],
        {"openrouter_cache_messages": True},
        None,
    ),
    ("cache_messages_openai_ignored", GPT, HELLO, {"openrouter_cache_messages": True}, None),
    ("cache_messages_wide_turn", CLAUDE, WIDE, {"openrouter_cache_messages": "5m"}, TOOLS),
    (
        "cache_instructions_claude",
        CLAUDE,
        [req(user("Hi"), instructions="Be terse.")],
        {"openrouter_cache_instructions": True},
        None,
    ),
    (
        "cache_instructions_system_prompt",
        CLAUDE,
        [req(system("You are helpful."), user("Hi"))],
        {"openrouter_cache_instructions": "1h"},
        None,
    ),
    (
        "cache_instructions_gemini",
        GEMINI,
        [req(system("sys"), user("Hi"), instructions="Be terse.")],
        {"openrouter_cache_instructions": True},
        None,
    ),
    (
        "cache_instructions_dynamic_claude",
        CLAUDE,
        [req(user("Hi"))],
        {"openrouter_cache_instructions": True},
        {
            "instruction_parts": [
                {"content": "Static.", "dynamic": False},
                {"content": "Now is T.", "dynamic": True},
            ]
        },
    ),
    (
        "cache_instructions_dynamic_gemini_off",
        GEMINI,
        [req(user("Hi"))],
        {"openrouter_cache_instructions": True},
        {
            "instruction_parts": [
                {"content": "Static.", "dynamic": False},
                {"content": "Now is T.", "dynamic": True},
            ]
        },
    ),
    ("cache_tools_claude", CLAUDE, HELLO, {"openrouter_cache_tool_definitions": "1h"}, TOOLS),
    ("cache_tools_gemini_ignored", GEMINI, HELLO, {"openrouter_cache_tool_definitions": True}, TOOLS),
    (
        "cache_all_claude_ttl_raised",
        CLAUDE,
        [req(system("sys"), user(["a", m.CachePoint(ttl="1h"), "b"]), instructions="Be terse.")],
        {**ALL_CACHE, "openrouter_cache_messages": "5m"},
        TOOLS,
    ),
    (
        "cache_too_many_points_claude",
        CLAUDE,
        [
            req(user(["a", m.CachePoint(), "b", m.CachePoint()])),
            resp(m.TextPart("x")),
            req(user(["c", m.CachePoint(), "d", m.CachePoint()])),
        ],
        ALL_CACHE,
        TOOLS,
    ),
    (
        "cache_gemini_trailing_moved",
        GEMINI,
        [req(user("a")), resp(m.TextPart("b")), req(user(["c", m.CachePoint()]))],
        {"openrouter_cache_messages": True},
        None,
    ),
    (
        "cache_gemini_tool_result_moved",
        GEMINI,
        [
            req(user("a")),
            resp(m.ToolCallPart("get_weather", {"city": "x"}, tool_call_id="call_1")),
            req(m.ToolReturnPart("get_weather", "sunny", tool_call_id="call_1", timestamp=T)),
        ],
        {"openrouter_cache_messages": True},
        TOOLS,
    ),
    ("cache_all_stream", CLAUDE, [req(user("Hi"), instructions="Be terse.")], ALL_CACHE, TOOLS),
    # video
    ("video_url", GEMINI, [req(user(["Describe", m.VideoUrl("https://example.com/v.mp4")]))], None, None),
    (
        "video_binary",
        GEMINI,
        [req(user(["Describe", m.BinaryContent(MP4, media_type="video/mp4")]))],
        None,
        None,
    ),
    # server tools
    ("web_search_default", GPT, HELLO, None, {"native_tools": [{"kind": "web_search"}]}),
    (
        "web_search_full",
        CLAUDE,
        HELLO,
        None,
        {
            "native_tools": [
                {
                    "kind": "web_search",
                    "search_context_size": "high",
                    "user_location": {"city": "Paris", "country": "FR"},
                    "allowed_domains": ["example.com"],
                    "max_uses": 3,
                    "provider_settings": {"openrouter": {"engine": "exa", "max_results": 5, "unknown": 1}},
                }
            ]
        },
    ),
    (
        "web_search_blocked_domains",
        GPT,
        HELLO,
        None,
        {"native_tools": [{"kind": "web_search", "blocked_domains": ["bad.com"]}]},
    ),
    (
        "web_search_external_access_off",
        GPT,
        HELLO,
        None,
        {"native_tools": [{"kind": "web_search", "external_web_access": False}]},
    ),
    (
        "web_search_with_tools_cached",
        CLAUDE,
        HELLO,
        {"openrouter_cache_tool_definitions": True},
        {**TOOLS, "native_tools": [{"kind": "web_search"}]},
    ),
    (
        "advisor",
        CLAUDE,
        HELLO,
        None,
        {"native_tools": [{"kind": "advisor", "model": "anthropic/claude-opus-4.5"}]},
    ),
    (
        "advisor_and_web_search",
        CLAUDE,
        HELLO,
        None,
        {
            "native_tools": [
                {"kind": "web_search"},
                {
                    "kind": "advisor",
                    "model": "anthropic/claude-opus-4.5",
                    "max_tokens": 2048,
                    "provider_settings": {"openrouter": {"forward_transcript": True}},
                },
            ]
        },
    ),
]
# mid-conversation system messages, per routed vendor: kept in place (OpenAI except gpt-oss), moved
# past the user and tool messages after them (Anthropic models that keep the role), else `<system>` text
MID_SYSTEM = [
    req(system("You are helpful."), user("Hi")),
    resp(m.ToolCallPart("get_weather", {"city": "x"}, tool_call_id="call_1")),
    req(
        system("Answer in French."),
        m.ToolReturnPart("get_weather", "sunny", tool_call_id="call_1", timestamp=T),
        user("And tomorrow?"),
    ),
    resp(m.TextPart("Demain")),
    req(user("Thanks"), system("Be brief.")),
]
for vendor_model in (
    CLAUDE,
    "anthropic/claude-opus-4.8",
    "anthropic/claude-opus-5",
    "~anthropic/claude-mythos-5",
    GPT,
    "openai/gpt-oss-120b",
    GEMINI,
    "mistralai/mistral-large",
    "meta-llama/llama-3.3-70b-instruct",
):
    CASES.append((f"mid_system_{vendor_model.replace('/', '_')}", vendor_model, MID_SYSTEM, None, TOOLS))
CASES.append(
    (
        "mid_system_cached_claude",
        "anthropic/claude-opus-5",
        MID_SYSTEM,
        {"openrouter_cache_messages": True},
        TOOLS,
    )
)
# a history with a retry goes through 2.68's `prepare_messages` on the direct path: where the route keeps
# no mid-conversation system message, those become `<system>` user text
MID_SYSTEM_RETRY = [
    *MID_SYSTEM[:4],
    req(m.RetryPromptPart("Say it in one word.", timestamp=T), system("Be brief.")),
]
for vendor_model in (CLAUDE, "anthropic/claude-opus-5", GPT, "openai/gpt-oss-120b", GEMINI):
    CASES.append(
        (f"mid_system_retry_{vendor_model.replace('/', '_')}", vendor_model, MID_SYSTEM_RETRY, None, TOOLS)
    )
# Mistral's chat template takes tool call ids of exactly 9 alphanumerics: 2.68 replaces the others with
# stable hashes, the same for a call and its return
MISTRAL_TOOLS = [
    req(user("Weather?")),
    resp(
        m.ToolCallPart("get_weather", {"city": "a"}, tool_call_id="call_abc_1234567890"),
        m.ToolCallPart("get_weather", {"city": "b"}, tool_call_id="abcDEF123"),
        m.ToolCallPart("get_time", {"city": "c"}, tool_call_id="toolu_01XyZ"),
    ),
    req(
        m.ToolReturnPart("get_weather", "sunny", tool_call_id="call_abc_1234567890", timestamp=T),
        m.ToolReturnPart("get_weather", "rain", tool_call_id="abcDEF123", timestamp=T),
        m.RetryPromptPart("bad city", tool_name="get_time", tool_call_id="toolu_01XyZ", timestamp=T),
    ),
]
for vendor_model in ("mistralai/mistral-large", "mistralai/devstral-small:free", GPT):
    CASES.append((f"tool_ids_{vendor_model.replace('/', '_')}", vendor_model, MISTRAL_TOOLS, None, TOOLS))
CASES.append(("tool_ids_mistral_stream", "mistralai/mistral-large", MISTRAL_TOOLS, None, TOOLS))
# the direct API prepares (and so fits the ids of) only a history holding a retry, as on Mistral itself
CASES.append(("tool_ids_mistral_no_retry", "mistralai/mistral-large", MISTRAL_TOOLS[:2], None, TOOLS))

# a loose tool schema per routed vendor: OpenAI's strict-mode transformer unless the vendor's profile
# brings its own
LOOSE = {
    "function_tools": [
        {
            "name": "t",
            "parameters_json_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            "description": "d",
        }
    ]
}
for vendor_model in (
    CLAUDE,
    GEMINI,
    GPT,
    "openai/gpt-oss-120b",
    "meta-llama/llama-3.3-70b-instruct",
    "qwen/qwen3-235b-a22b",
    "amazon/nova-pro-v1",
    "mistralai/mistral-large",
    "x-ai/grok-4",
    "deepseek/deepseek-chat",
    "z-ai/glm-4.6",
    "nousresearch/hermes-4-70b",
):
    CASES.append((f"tool_schema_{vendor_model.replace('/', '_')}", vendor_model, HELLO, None, LOOSE))

STREAMED = {"cache_all_stream", "video_url", "tool_ids_mistral_stream"}


def capture(model_name, messages, settings, params, stream):
    seen = {}

    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        seen["path"] = request.url.path
        if stream:
            text = "".join(f"data: {json.dumps(c)}\n\n" for c in CHUNKS) + "data: [DONE]\n\n"
            return httpx2.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=REPLY)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = OpenRouterModel(model_name, provider=OpenRouterProvider(api_key="k", http_client=client))

    async def go():
        if stream:
            async with model_request_stream(
                model, messages, model_settings=settings, model_request_parameters=params
            ) as s:
                async for _ in s:
                    pass
        else:
            await model_request(model, messages, model_settings=settings, model_request_parameters=params)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            asyncio.run(go())
        except Exception as exc:
            return {"error": type(exc).__name__, "message": str(exc)[:400]}
    seen["warnings"] = [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)]
    return seen


def main():
    out = []
    for name, model_name, messages, settings, spec in CASES:
        stream = name in STREAMED
        expected = capture(model_name, messages, settings, make_params(spec), stream)
        out.append(
            {
                "name": name,
                "model": model_name,
                "messages": json.loads(m.ModelMessagesTypeAdapter.dump_json(messages)),
                "settings": settings,
                "params": spec,
                "stream": stream,
                "expected": expected,
            }
        )
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    (HERE / "openrouter_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
