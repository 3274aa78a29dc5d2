"""Regenerate ``cohere_requests.json`` and ``cohere_responses.json`` from pydantic-ai-slim 2.68.

Not a test and not shipped: the captures need pydantic-ai's ``CohereModel``, which needs the ``cohere``
SDK that trio_direct never depends on. Install both in a venv aside and run it there::

    python -m venv /tmp/oracle-cohere
    /tmp/oracle-cohere/bin/pip install "pydantic-ai-slim[cohere]==2.68.0"    # cohere 7.3.1 at capture time
    /tmp/oracle-cohere/bin/python tests/data/make_cohere_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with an ``httpx.MockTransport`` (the Cohere SDK is
built on httpx): the request bodies it sent (and the path and headers), and the responses, events or
errors it made of canned replies, are written next to this file.
"""

import asyncio
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic_ai import messages as m
from pydantic_ai._output import OutputObjectDefinition
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.cohere import CohereModel
from pydantic_ai.providers.cohere import CohereProvider
from pydantic_ai.settings import ToolOrOutput
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent

REPLY = {
    "id": "r1",
    "finish_reason": "COMPLETE",
    "message": {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
    "usage": {
        "billed_units": {"input_tokens": 1, "output_tokens": 1},
        "tokens": {"input_tokens": 2, "output_tokens": 2},
    },
}
STREAM_REPLY = [
    {"type": "message-start", "id": "r1", "delta": {"message": {"role": "assistant"}}},
    {"type": "content-start", "index": 0, "delta": {"message": {"content": {"type": "text", "text": ""}}}},
    {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "ok"}}}},
    {"type": "content-end", "index": 0},
    {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}},
]


def sse(events):
    return "".join(
        (f"event: {e['type']}\n" if isinstance(e, dict) and "type" in e else "")
        + "data: "
        + (e if isinstance(e, str) else json.dumps(e))
        + "\n\n"
        for e in events
    )


def capture(model_name, messages, settings=None, params=None, stream=False):
    seen = {}

    def handler(request: httpx.Request):
        seen["body"] = json.loads(request.content)
        seen["headers"] = {k.lower(): v for k, v in request.headers.items()}
        seen["path"] = request.url.path
        if stream:
            return httpx.Response(
                200, content=sse(STREAM_REPLY).encode(), headers={"content-type": "text/event-stream"}
            )
        return httpx.Response(200, json=REPLY)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = CohereModel(model_name, provider=CohereProvider(api_key="k", http_client=client))

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
    seen["warnings"] = [
        str(x.message)
        for x in w
        if "Deprecat" not in type(x.message).__name__ and "site-packages/cohere/" not in x.filename
    ]
    return seen


T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def system(content):
    return m.SystemPromptPart(content, timestamp=T)


def resp(*parts):
    return m.ModelResponse(
        parts=list(parts), provider_name="cohere", provider_url="https://api.cohere.com", timestamp=T,
        model_name="command-r7b-12-2024",
    )  # fmt: skip


def tool_return(name, content, call_id="call_1", **kw):
    return m.ToolReturnPart(tool_name=name, content=content, tool_call_id=call_id, timestamp=T, **kw)


def retry(content, tool_name=None, call_id="call_1"):
    return m.RetryPromptPart(content=content, tool_name=tool_name, tool_call_id=call_id, timestamp=T)


W = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def tool(name="get_weather", **kw):
    return ToolDefinition(
        name=name,
        parameters_json_schema=kw.pop("schema", W),
        description=kw.pop("description", "Weather"),
        **kw,
    )


def td_spec(t):
    return {
        "name": t.name,
        "parameters_json_schema": t.parameters_json_schema,
        "description": t.description,
        "strict": t.strict,
        "kind": t.kind,
    }


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


def make_params(spec):
    if spec is None:
        return None
    oo = spec["output_object"]
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec["function_tools"]],
        output_tools=[ToolDefinition(**t) for t in spec["output_tools"]],
        allow_text_output=spec["allow_text_output"],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**oo) if oo else None,
    )


def dump_messages(msgs):
    return json.loads(m.ModelMessagesTypeAdapter.dump_json(msgs))


R7B = "command-r7b-12-2024"
REASONING = "command-a-reasoning-08-2025"
HELLO = [req(user("Hello"))]
WEATHER = params_spec(function_tools=[tool()])
TWO_TOOLS = params_spec(function_tools=[tool(), tool("get_time", description=None)])
OUTPUT = params_spec(
    function_tools=[tool()], output_tools=[tool("final_result", kind="output")], allow_text_output=False,
    output_mode="tool",
)  # fmt: skip
HISTORY = [
    req(system("Be nice."), user("Weather?")),
    resp(m.TextPart("Let me check.")),
    req(user("Please.")),
    resp(
        m.ThinkingPart("I should call"),
        m.ThinkingPart("the tool"),
        m.TextPart("Calling"),
        m.TextPart("now"),
        m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
        m.ToolCallPart("get_time", '{"tz": "CET"}', tool_call_id="call_2"),
        m.ToolCallPart("noop", None, tool_call_id="call_3"),
    ),
    req(
        tool_return("get_weather", {"temp": 20}, "call_1"),
        tool_return("get_time", "12:00", "call_2"),
        tool_return("noop", None, "call_3"),
        user("Thanks"),
    ),
    resp(),
    resp(m.ThinkingPart("only thinking")),
    req(user("Bye")),
]

CASES = [
    ("plain", R7B, HELLO, None, None, False),
    ("plain_stream", R7B, HELLO, None, None, True),
    ("empty_user_prompt", R7B, [req(user(""))], None, None, False),
    (
        "system_and_instructions",
        R7B,
        [req(system("sys1"), system("sys2"), user("Hi"), instructions="Be terse.")],
        None,
        None,
        False,
    ),
    (
        "system_prompts_across_requests",
        R7B,
        [req(system("a"), user("q1")), resp(m.TextPart("r1")), req(system("b"), user("q2"))],
        None,
        None,
        False,
    ),
    (
        "instructions_latest_request",
        R7B,
        [req(user("q1"), instructions="old"), resp(m.TextPart("r1")), req(user("q2"), instructions="new")],
        None,
        None,
        False,
    ),
    ("instructions_only", R7B, [req(user("q"), instructions="Do it.")], None, None, False),
    (
        "user_list_content",
        R7B,
        [req(user(["look", m.TextContent("meta text", metadata={"x": 1}), m.CachePoint(), "again"]))],
        None,
        None,
        False,
    ),
    (
        "user_image_rejected",
        R7B,
        [req(user(["look", m.ImageUrl("https://example.com/a.png")]))],
        None,
        None,
        False,
    ),
    (
        "user_binary_rejected",
        R7B,
        [req(user([m.BinaryContent(b"%PDF", media_type="application/pdf")]))],
        None,
        None,
        False,
    ),
    ("history", R7B, HISTORY, None, TWO_TOOLS, False),
    ("history_stream", R7B, HISTORY, None, TWO_TOOLS, True),
    (
        "tool_return_with_file",
        R7B,
        [
            req(user("x")),
            resp(m.ToolCallPart("f", {}, tool_call_id="c1")),
            req(tool_return("f", ["see", m.BinaryContent(b"\x89PNG", media_type="image/png")], "c1")),
        ],
        None,
        None,
        False,
    ),
    (
        "tool_return_failed",
        R7B,
        [
            req(user("x")),
            resp(m.ToolCallPart("f", {}, tool_call_id="c1")),
            req(tool_return("f", {"why": "bad"}, "c1", outcome="failed")),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_tool",
        R7B,
        [
            req(user("x")),
            resp(m.ToolCallPart("get_weather", {"city": 1}, tool_call_id="c1")),
            req(retry("city must be a string", tool_name="get_weather", call_id="c1")),
        ],
        None,
        WEATHER,
        False,
    ),
    (
        "retry_tool_errors",
        R7B,
        [
            req(user("x")),
            resp(m.ToolCallPart("get_weather", {"city": 1}, tool_call_id="c1")),
            req(
                retry(
                    [
                        {
                            "type": "string_type",
                            "loc": ["city"],
                            "msg": "Input should be a valid string",
                            "input": 1,
                        }
                    ],
                    tool_name="get_weather",
                    call_id="c1",
                )
            ),
        ],
        None,
        WEATHER,
        False,
    ),
    (
        "retry_toolless",
        R7B,
        [req(user("x")), resp(m.TextPart("nope")), req(retry("Please answer in JSON"))],
        None,
        None,
        False,
    ),
    (
        "retry_toolless_with_system",
        R7B,
        [req(system("sys"), user("x")), resp(m.TextPart("nope")), req(retry("Please answer in JSON"))],
        None,
        None,
        False,
    ),
    (
        "retry_toolless_errors",
        R7B,
        [
            req(user("x"), instructions="Answer."),
            resp(m.TextPart("{}")),
            req(retry([{"type": "missing", "loc": ["a"], "msg": "Field required", "input": {}}])),
        ],
        None,
        None,
        False,
    ),
    (
        "settings_all",
        R7B,
        HELLO,
        {
            "max_tokens": 100,
            "stop_sequences": ["END"],
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "seed": 7,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "max_retries": 2,
        },
        None,
        False,
    ),
    (
        "settings_unsupported",
        R7B,
        HELLO,
        {
            "extra_headers": {"X-Foo": "bar"},
            "extra_body": {"a": 1},
            "logit_bias": {"1": 2},
            "service_tier": "flex",
            "timeout": 5,
            "parallel_tool_calls": False,
        },
        WEATHER,
        False,
    ),
    ("settings_parallel_true", R7B, HELLO, {"parallel_tool_calls": False}, None, False),
    ("tools_auto", R7B, HELLO, None, TWO_TOOLS, False),
    ("tools_auto_stream", R7B, HELLO, None, TWO_TOOLS, True),
    ("tool_choice_auto", R7B, HELLO, {"tool_choice": "auto"}, TWO_TOOLS, False),
    ("tool_choice_none", R7B, HELLO, {"tool_choice": "none"}, TWO_TOOLS, False),
    ("tool_choice_required", R7B, HELLO, {"tool_choice": "required"}, TWO_TOOLS, False),
    ("tool_choice_list_one", R7B, HELLO, {"tool_choice": ["get_time"]}, TWO_TOOLS, False),
    ("tool_choice_list_all", R7B, HELLO, {"tool_choice": ["get_time", "get_weather"]}, TWO_TOOLS, False),
    ("tool_choice_list_unknown", R7B, HELLO, {"tool_choice": ["nope"]}, TWO_TOOLS, False),
    ("tool_choice_list_partly_unknown", R7B, HELLO, {"tool_choice": ["get_time", "nope"]}, TWO_TOOLS, False),
    ("tool_choice_required_no_tools", R7B, HELLO, {"tool_choice": "required"}, None, False),
    ("tool_choice_tool_or_output", R7B, HELLO, {"tool_choice": ToolOrOutput(["get_weather"])}, OUTPUT, False),
    ("tool_choice_none_with_output", R7B, HELLO, {"tool_choice": "none"}, OUTPUT, False),
    ("output_tools", R7B, HELLO, None, OUTPUT, False),
    (
        "output_tools_text_allowed",
        R7B,
        HELLO,
        None,
        params_spec(output_tools=[tool("final_result", kind="output")], output_mode="tool"),
        False,
    ),
    (
        "prompted_output",
        R7B,
        [req(user("q"), instructions="Be brief.")],
        None,
        params_spec(
            output_mode="prompted",
            allow_text_output=True,
            output_object={"json_schema": W, "name": "Weather", "description": "A city", "strict": None},
        ),
        False,
    ),
    (
        "native_output",
        R7B,
        HELLO,
        None,
        params_spec(
            output_mode="native", output_object={"json_schema": W, "name": None, "description": None}
        ),
        False,
    ),
    ("thinking_true", REASONING, HELLO, {"thinking": True}, None, False),
    ("thinking_false", REASONING, HELLO, {"thinking": False}, None, False),
    ("thinking_minimal", REASONING, HELLO, {"thinking": "minimal"}, None, False),
    ("thinking_low", REASONING, HELLO, {"thinking": "low"}, None, False),
    ("thinking_medium", REASONING, HELLO, {"thinking": "medium"}, None, False),
    ("thinking_high", REASONING, HELLO, {"thinking": "high"}, None, False),
    ("thinking_xhigh", REASONING, HELLO, {"thinking": "xhigh"}, None, False),
    ("thinking_high_stream", REASONING, HELLO, {"thinking": "high"}, None, True),
    ("thinking_on_plain_model", R7B, HELLO, {"thinking": True}, None, False),
    ("reasoning_model_default", REASONING, HELLO, None, None, False),
]


def make_requests():
    out = []
    for name, model, msgs, settings, spec, stream in CASES:
        try:
            got = capture(model, msgs, settings, make_params(spec), stream=stream)
            expected = {
                "body": got["body"],
                "path": got["path"],
                "warnings": got["warnings"],
                "headers": {k: v for k, v in got["headers"].items() if k in ("x-foo", "authorization")},
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
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    return out


# --------------------------------------------------------------------------------------------------
# responses


def jsonable(o):
    if hasattr(o, "__dataclass_fields__"):
        import dataclasses

        d = {}
        for f in dataclasses.fields(o):
            v = getattr(o, f.name)
            d[f.name] = jsonable(v)
        return d
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [jsonable(v) for v in o]
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, bytes):
        return o.decode("latin-1")
    if o is None or isinstance(o, str | int | float | bool):
        return o
    return repr(o)


def run(case):
    def handler(request):
        default = "text/event-stream" if case["kind"] == "stream" else "application/json"
        return httpx.Response(
            case.get("status", 200),
            content=case["body"].encode(),
            headers={"content-type": case.get("content_type", default), **case.get("headers", {})},
        )

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    model = CohereModel(case.get("model", R7B), provider=CohereProvider(api_key="k", http_client=client))
    out = {}

    async def go():
        if case["kind"] == "stream":
            out["events"] = []
            async with model_request_stream(model, [m.ModelRequest.user_text_prompt("hi")]) as s:
                async for e in s:
                    out["events"].append(jsonable(e))
                out["response"] = json.loads(m.ModelMessagesTypeAdapter.dump_json([s.get()]))[0]
        else:
            r = await model_request(model, [m.ModelRequest.user_text_prompt("hi")])
            out["response"] = json.loads(m.ModelMessagesTypeAdapter.dump_json([r]))[0]

    try:
        asyncio.run(go())
    except Exception as e:
        out["error"] = {
            "type": type(e).__name__,
            "status_code": getattr(e, "status_code", None),
            "body": jsonable(getattr(e, "body", None)),
            "message": str(e)[:300],
        }
    return out


def body(content=None, finish="COMPLETE", usage="default", tool_calls=None, **message_extra):
    message = {"role": "assistant"}
    if content is not None:
        message["content"] = content
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    message.update(message_extra)
    data = {"id": "resp_1", "finish_reason": finish, "message": message}
    if usage == "default":
        usage = {
            "billed_units": {"input_tokens": 5, "output_tokens": 7},
            "tokens": {"input_tokens": 50, "output_tokens": 9},
        }
    if usage is not None:
        data["usage"] = usage
    return json.dumps(data)


def text(t):
    return {"type": "text", "text": t}


TOOL_CALL = {
    "id": "c1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
}


def ev(type_, **kw):
    return {"type": type_, **kw}


def content_delta(i, **content):
    return ev("content-delta", index=i, delta={"message": {"content": content}})


END_USAGE = {
    "billed_units": {"input_tokens": 3, "output_tokens": 4},
    "tokens": {"input_tokens": 30, "output_tokens": 40},
    "cached_tokens": 10,
}

RESPONSE_CASES = [
    {"name": "r_text", "kind": "request", "body": body([text("Hello"), text(" world")])},
    {
        "name": "r_thinking_text",
        "kind": "request",
        "body": body([{"type": "thinking", "thinking": "hmm"}, text("Hello")]),
    },
    {
        "name": "r_tool_calls",
        "kind": "request",
        "body": body(
            None,
            finish="TOOL_CALL",
            tool_calls=[
                TOOL_CALL,
                {"id": "c2", "type": "function", "function": {"name": "noop", "arguments": "{}"}},
                {"type": "function", "function": {"name": "noid", "arguments": "{}"}},
                {"id": "c4", "type": "function", "function": {"arguments": "{}"}},
                {"id": "c5", "type": "function"},
            ],
            tool_plan="I will call tools",
        ),
    },
    {"name": "r_max_tokens", "kind": "request", "body": body([text("cut")], finish="MAX_TOKENS")},
    {"name": "r_stop_sequence", "kind": "request", "body": body([text("x")], finish="STOP_SEQUENCE")},
    {"name": "r_error_finish", "kind": "request", "body": body([text("x")], finish="ERROR")},
    {"name": "r_timeout_finish", "kind": "request", "body": body([text("x")], finish="TIMEOUT")},
    {"name": "r_no_usage", "kind": "request", "body": body([text("x")], usage=None)},
    {
        "name": "r_billed_only",
        "kind": "request",
        "body": body(
            [text("x")], usage={"billed_units": {"input_tokens": 5, "output_tokens": 0, "search_units": 2}}
        ),
    },
    {
        "name": "r_cached_tokens",
        "kind": "request",
        "body": body(
            [text("x")],
            usage={
                "billed_units": {"input_tokens": 5.0, "output_tokens": 6, "classifications": 1},
                "tokens": {"input_tokens": 100.0, "output_tokens": 8.0},
                "cached_tokens": 64.0,
            },
        ),
    },
    {"name": "r_cached_only", "kind": "request", "body": body([text("x")], usage={"cached_tokens": 12})},
    {"name": "r_empty_usage", "kind": "request", "body": body([text("x")], usage={})},
    {"name": "r_empty_content", "kind": "request", "body": body([])},
    {"name": "r_no_content", "kind": "request", "body": body(None)},
    {
        "name": "r_citations",
        "kind": "request",
        "body": body([text("x")], citations=[{"start": 0, "end": 1, "text": "x"}]),
    },
    # errors
    {
        "name": "e_400_too_many_tokens",
        "kind": "request",
        "status": 400,
        "body": json.dumps({"message": "too many tokens: size limit exceeded by 1234 tokens"}),
    },
    {"name": "e_400", "kind": "request", "status": 400, "body": json.dumps({"message": "invalid request"})},
    {"name": "e_401", "kind": "request", "status": 401, "body": json.dumps({"message": "invalid api token"})},
    {"name": "e_402", "kind": "request", "status": 402, "body": json.dumps({"message": "pay up"})},
    {"name": "e_403", "kind": "request", "status": 403, "body": json.dumps({"message": "forbidden"})},
    {
        "name": "e_404",
        "kind": "request",
        "status": 404,
        "body": json.dumps({"message": "model 'x' not found"}),
    },
    {"name": "e_408", "kind": "request", "status": 408, "body": json.dumps({"message": "timeout"})},
    {"name": "e_422", "kind": "request", "status": 422, "body": json.dumps({"message": "bad"})},
    {
        "name": "e_429",
        "kind": "request",
        "status": 429,
        "body": json.dumps({"message": "rate limited"}),
        "headers": {"retry-after": "7"},
    },
    {"name": "e_498", "kind": "request", "status": 498, "body": json.dumps({"message": "invalid token"})},
    {"name": "e_499", "kind": "request", "status": 499, "body": json.dumps({"message": "closed"})},
    {"name": "e_500", "kind": "request", "status": 500, "body": json.dumps({"message": "internal"})},
    {"name": "e_501", "kind": "request", "status": 501, "body": json.dumps({"message": "nope"})},
    {"name": "e_503", "kind": "request", "status": 503, "body": json.dumps({"message": "unavailable"})},
    {
        "name": "e_503_overloaded",
        "kind": "request",
        "status": 503,
        "body": json.dumps({"message": "server overloaded"}),
    },
    {"name": "e_504", "kind": "request", "status": 504, "body": json.dumps({"message": "gateway"})},
    {"name": "e_529", "kind": "request", "status": 529, "body": json.dumps({"message": "busy"})},
    {
        "name": "e_502_html",
        "kind": "request",
        "status": 502,
        "body": "<html>bad gateway</html>",
        "content_type": "text/html",
    },
    {"name": "e_400_list", "kind": "request", "status": 400, "body": json.dumps(["a"])},
    {"name": "e_500_stream", "kind": "stream", "status": 500, "body": json.dumps({"message": "internal"})},
    {"name": "e_429_stream", "kind": "stream", "status": 429, "body": json.dumps({"message": "slow down"})},
    # streams
    {
        "name": "s_text",
        "kind": "stream",
        "body": sse(
            [
                ev(
                    "message-start",
                    id="s1",
                    delta={
                        "message": {
                            "role": "assistant",
                            "content": [],
                            "tool_plan": "",
                            "tool_calls": [],
                            "citations": [],
                        }
                    },
                ),
                ev("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}),
                content_delta(0, text="Hello"),
                content_delta(0, text=""),
                content_delta(0, text=" world"),
                ev("content-end", index=0),
                ev("message-end", delta={"finish_reason": "COMPLETE", "usage": END_USAGE}),
            ]
        ),
    },
    {
        "name": "s_thinking_text",
        "kind": "stream",
        "model": REASONING,
        "body": sse(
            [
                ev("message-start", id="s2", delta={"message": {"role": "assistant"}}),
                ev(
                    "content-start",
                    index=0,
                    delta={"message": {"content": {"type": "thinking", "thinking": ""}}},
                ),
                content_delta(0, thinking="Let me"),
                content_delta(0, thinking=" think"),
                ev("content-end", index=0),
                ev("content-start", index=1, delta={"message": {"content": {"type": "text", "text": ""}}}),
                content_delta(1, text="Answer"),
                ev("content-end", index=1),
                ev(
                    "message-end",
                    delta={
                        "finish_reason": "MAX_TOKENS",
                        "usage": {
                            "billed_units": {"input_tokens": 1, "output_tokens": 2},
                            "tokens": {"input_tokens": 3, "output_tokens": 4},
                        },
                    },
                ),
            ]
        ),
    },
    {
        "name": "s_tool_calls",
        "kind": "stream",
        "body": sse(
            [
                ev("message-start", id="s3", delta={"message": {"role": "assistant"}}),
                ev("tool-plan-delta", delta={"message": {"tool_plan": "I will"}}),
                ev("tool-plan-delta", delta={"message": {"tool_plan": " call"}}),
                ev(
                    "tool-call-start",
                    index=0,
                    delta={
                        "message": {
                            "tool_calls": {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        }
                    },
                ),
                ev(
                    "tool-call-delta",
                    index=0,
                    delta={"message": {"tool_calls": {"function": {"arguments": '{"city"'}}}},
                ),
                ev(
                    "tool-call-delta",
                    index=0,
                    delta={"message": {"tool_calls": {"function": {"arguments": ':"Paris"}'}}}},
                ),
                ev("tool-call-end", index=0),
                ev(
                    "tool-call-start",
                    index=1,
                    delta={
                        "message": {
                            "tool_calls": {
                                "id": "c2",
                                "type": "function",
                                "function": {"name": "noop", "arguments": "{}"},
                            }
                        }
                    },
                ),
                ev("tool-call-end", index=1),
                ev("message-end", delta={"finish_reason": "TOOL_CALL", "usage": END_USAGE}),
            ]
        ),
    },
    {
        "name": "s_citations",
        "kind": "stream",
        "body": sse(
            [
                ev("message-start", id="s4", delta={"message": {"role": "assistant"}}),
                ev("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}),
                content_delta(0, text="Paris"),
                ev(
                    "citation-start",
                    index=0,
                    delta={"message": {"citations": {"start": 0, "end": 5, "text": "Paris", "sources": []}}},
                ),
                ev("citation-end", index=0),
                ev("content-end", index=0),
                ev("debug", prompt="p"),
                ev("message-end", delta={"finish_reason": "COMPLETE"}),
            ]
        ),
    },
    {
        "name": "s_no_message_end",
        "kind": "stream",
        "body": sse(
            [
                ev("message-start", id="s5", delta={"message": {"role": "assistant"}}),
                content_delta(0, text="cut"),
            ]
        ),
    },
    {
        "name": "s_done_marker",
        "kind": "stream",
        "body": sse(
            [
                ev("message-start", id="s6", delta={"message": {"role": "assistant"}}),
                content_delta(0, text="x"),
                ev("message-end", delta={"finish_reason": "COMPLETE"}),
                "[DONE]",
            ]
        ),
    },
    {"name": "s_empty", "kind": "stream", "body": ""},
    {"name": "s_only_done", "kind": "stream", "body": "data: [DONE]\n\n"},
]


def make_responses():
    results = []
    for c in RESPONSE_CASES:
        got = run(c)
        results.append({**c, "expected": got})
        print(c["name"], "error " + got["error"]["type"] if "error" in got else "ok", file=sys.stderr)
    return results


if __name__ == "__main__":
    (HERE / "cohere_requests.json").write_text(json.dumps(make_requests(), indent=1))
    (HERE / "cohere_responses.json").write_text(json.dumps(make_responses(), indent=1))
