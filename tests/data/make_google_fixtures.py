"""Regenerate ``google_requests.json`` and ``google_responses.json`` from pydantic-ai-slim 2.68.

Not a test and not shipped: the captures need pydantic-ai's ``GoogleModel``, which needs the
``google-genai`` SDK that trio_direct never depends on. Install both in a venv aside and run it there::

    python -m venv /tmp/oracle
    /tmp/oracle/bin/pip install "pydantic-ai-slim[google]==2.68.0" "google-genai==2.34.0"
    /tmp/oracle/bin/python tests/data/make_google_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with an ``httpx2.MockTransport``: the request bodies
it sent (and the path and headers), and the responses, events or errors it made of canned replies, are
written next to this file.
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
from pydantic_ai.models.google import GoogleModel
from pydantic_ai.native_tools import CodeExecutionTool, FileSearchTool, WebFetchTool, WebSearchTool
from pydantic_ai.providers.google import GoogleProvider
from pydantic_ai.settings import ToolOrOutput
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent

REPLY = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
    "modelVersion": "m",
    "responseId": "r",
}


def capture(model_name, messages, settings=None, params=None, stream=False):
    seen = {}

    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        seen["headers"] = {k.lower(): v for k, v in request.headers.items()}
        seen["path"] = request.url.path
        seen["query"] = (
            request.url.query.decode() if isinstance(request.url.query, bytes) else str(request.url.query)
        )
        if stream:
            sse = "data: " + json.dumps(REPLY) + "\r\n\r\n"
            return httpx2.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=REPLY)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = GoogleModel(model_name, provider=GoogleProvider(api_key="k", http_client=client))

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
        if "Deprecat" not in type(x.message).__name__ and "google/genai" not in x.filename.replace("\\", "/")
    ]
    return seen


T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
PNG = base64.b64decode("iVBORw0KGgo=")
PDF = b"%PDF-1.4 x"
SIG = base64.b64encode(b"\xfb\xff signature ~~").decode()  # standard base64 with '+' and '/'


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def system(content):
    return m.SystemPromptPart(content, timestamp=T)


def resp(*parts, provider_name="google", provider_url="https://generativelanguage.googleapis.com/"):
    return m.ModelResponse(
        parts=list(parts),
        provider_name=provider_name,
        provider_url=provider_url,
        timestamp=T,
        model_name="gemini-x",
        canonical_system="google" if provider_name == "google" else None,
    )


def tool_return(name, content, call_id="call_1", **kw):
    return m.ToolReturnPart(tool_name=name, content=content, tool_call_id=call_id, timestamp=T, **kw)


def retry(content, tool_name=None, call_id="call_1"):
    return m.RetryPromptPart(content=content, tool_name=tool_name, tool_call_id=call_id, timestamp=T)


W = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
COMPLEX = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Args",
    "type": "object",
    "properties": {
        "kind": {"const": "a", "title": "Kind"},
        "flag": {"const": True},
        "when": {"type": "string", "format": "date-time", "description": "When"},
        "day": {"type": "string", "format": "date"},
        "n": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10, "examples": [1]},
        "pet": {"$ref": "#/$defs/Pet"},
        "maybe": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Maybe"},
        "one": {"anyOf": [{"type": "integer", "title": "Only"}], "description": "single"},
        "color": {
            "anyOf": [
                {"const": "red", "type": "string", "description": "Warm"},
                {"const": "blue", "type": "string", "description": "Cold"},
            ],
            "description": "Pick",
        },
        "tags": {"type": "array", "items": {"type": "string", "title": "Tag"}},
    },
    "$defs": {
        "Pet": {
            "title": "Pet",
            "type": "object",
            "discriminator": {"propertyName": "t"},
            "properties": {"t": {"const": "cat"}},
        }
    },
    "required": ["kind"],
}


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
        "return_schema": t.return_schema,
        "include_return_schema": t.include_return_schema,
    }


def params_spec(
    function_tools=(),
    output_tools=(),
    allow_text_output=True,
    output_mode="text",
    output_object=None,
    native_tools=(),
    allow_image_output=False,
):
    return {
        "function_tools": [td_spec(t) for t in function_tools],
        "output_tools": [td_spec(t) for t in output_tools],
        "allow_text_output": allow_text_output,
        "allow_image_output": allow_image_output,
        "output_mode": output_mode,
        "output_object": output_object,
        "native_tools": list(native_tools),
    }


NATIVE = {
    "web_search": lambda spec: WebSearchTool(),
    "web_fetch": lambda spec: WebFetchTool(),
    "code_execution": lambda spec: CodeExecutionTool(),
    "file_search": lambda spec: FileSearchTool(file_store_ids=spec["file_store_ids"]),
}


def make_params(spec):
    if spec is None:
        return None
    oo = spec["output_object"]
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec["function_tools"]],
        output_tools=[ToolDefinition(**t) for t in spec["output_tools"]],
        allow_text_output=spec["allow_text_output"],
        allow_image_output=spec["allow_image_output"],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**oo) if oo else None,
        native_tools=[NATIVE[t["kind"]](t) for t in spec["native_tools"]],
    )


def dump_messages(msgs):
    return json.loads(m.ModelMessagesTypeAdapter.dump_json(msgs))


HELLO = [req(user("Hello"))]
TOOL_CALL = resp(m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"))

CASES = [
    ("plain", "gemini-2.5-flash", HELLO, None, None, False),
    ("plain_stream", "gemini-2.5-flash", HELLO, None, None, True),
    ("empty_user_prompt", "gemini-2.5-flash", [req(user(""))], None, None, False),
    (
        "system_and_instructions",
        "gemini-2.5-flash",
        [req(system("sys1"), system("sys2"), user("Hi"), instructions="Be terse.")],
        None,
        None,
        False,
    ),
    (
        "system_prompts_across_requests",
        "gemini-2.5-flash",
        [req(system("a"), user("q1")), resp(m.TextPart("r1")), req(system("b"), user("q2"))],
        None,
        None,
        False,
    ),
    (
        "instructions_latest_request",
        "gemini-2.5-flash",
        [req(user("q1"), instructions="old"), resp(m.TextPart("r1")), req(user("q2"), instructions="new")],
        None,
        None,
        False,
    ),
    (
        "multimodal_binary",
        "gemini-2.0-flash",
        [
            req(
                user(
                    [
                        "look",
                        m.TextContent("meta text", metadata={"x": 1}),
                        m.BinaryContent(PNG, media_type="image/png"),
                        m.BinaryContent(PDF, media_type="application/pdf"),
                        m.BinaryContent(b"RIFF", media_type="audio/wav"),
                        m.BinaryContent(
                            b"vid",
                            media_type="video/mp4",
                            vendor_metadata={
                                "start_offset": "1s",
                                "media_resolution": {"level": "MEDIA_RESOLUTION_LOW"},
                            },
                        ),
                        m.BinaryContent(b"hello", media_type="text/plain"),
                        m.CachePoint(),
                    ]
                )
            )
        ],
        None,
        None,
        False,
    ),
    (
        "file_references",
        "gemini-2.5-flash",
        [
            req(
                user(
                    [
                        m.VideoUrl("https://www.youtube.com/watch?v=abc", vendor_metadata={"fps": 2}),
                        m.VideoUrl("https://youtu.be/xyz"),
                        m.DocumentUrl(
                            "https://generativelanguage.googleapis.com/v1beta/files/f1",
                            media_type="application/pdf",
                        ),
                        m.UploadedFile(
                            "https://generativelanguage.googleapis.com/v1beta/files/f2",
                            provider_name="google",
                            media_type="image/png",
                        ),
                        m.ImageUrl(
                            "https://generativelanguage.googleapis.com/v1beta/files/f3",
                            media_type="image/jpeg",
                            vendor_metadata={"media_resolution": {"level": "MEDIA_RESOLUTION_HIGH"}},
                        ),
                    ]
                )
            )
        ],
        None,
        None,
        False,
    ),
    (
        "tool_call_and_returns",
        "gemini-2.5-pro",
        [
            req(user("Weather?")),
            resp(
                m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
                m.ToolCallPart("get_time", '{"tz": "CET"}', tool_call_id="call_2"),
                m.ToolCallPart("noop", None, tool_call_id="call_3"),
                m.ToolCallPart("schema", {}, tool_call_id="call_4"),
            ),
            req(
                tool_return("get_weather", {"temp": 20}, "call_1"),
                tool_return("get_time", "12:00", "call_2"),
                tool_return("noop", None, "call_3"),
                tool_return("schema", {"$defs": {"A": {}}, "x": {"$ref": "#/$defs/A"}}, "call_4"),
            ),
        ],
        None,
        None,
        False,
    ),
    (
        "tool_return_split",
        "gemini-2.5-flash",
        [
            req(user("Weather?")),
            resp(
                m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
                m.ToolCallPart("get_weather", {"city": "Rome"}, tool_call_id="call_2"),
            ),
            req(
                tool_return("get_weather", "sunny", "call_1"),
                tool_return("get_weather", [1, 2], "call_2"),
                user("and more"),
            ),
        ],
        None,
        None,
        False,
    ),
    (
        "tool_return_error_outcomes",
        "gemini-2.5-flash",
        [
            req(user("Weather?")),
            TOOL_CALL,
            req(tool_return("get_weather", "boom", "call_1", outcome="failed")),
        ],
        None,
        None,
        False,
    ),
    (
        "tool_return_files_gemini_2_5",
        "gemini-2.5-flash",
        [
            req(user("Weather?")),
            TOOL_CALL,
            req(
                tool_return(
                    "get_weather",
                    ["chart", m.BinaryContent(PNG, media_type="image/png", identifier="img1")],
                    "call_1",
                ),
                user("thanks"),
            ),
        ],
        None,
        None,
        False,
    ),
    (
        "tool_return_files_gemini_3",
        "gemini-3-pro-preview",
        [
            req(user("Weather?")),
            TOOL_CALL,
            req(
                tool_return(
                    "get_weather",
                    [
                        "chart",
                        m.BinaryContent(PNG, media_type="image/png", identifier="img1"),
                        m.BinaryContent(b"RIFF", media_type="audio/wav", identifier="aud1"),
                    ],
                    "call_1",
                ),
            ),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_tool_bound",
        "gemini-2.5-pro",
        [
            req(user("Weather?")),
            TOOL_CALL,
            req(retry("Wrong city", tool_name="get_weather")),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_tool_bound_validation",
        "gemini-2.5-pro",
        [
            req(user("Weather?")),
            TOOL_CALL,
            req(
                retry(
                    [
                        {
                            "type": "missing",
                            "loc": ("city",),
                            "msg": "Field required",
                            "input": {},
                            "ctx": {"a": 1},
                        },
                    ],
                    tool_name="get_weather",
                )
            ),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_toolless_no_system",
        "gemini-2.5-flash",
        [req(user("Give JSON")), resp(m.TextPart("nope")), req(retry("Not JSON"))],
        None,
        None,
        False,
    ),
    (
        "retry_toolless_with_system",
        "gemini-2.5-flash",
        [
            req(system("Be good"), user("Give JSON")),
            resp(m.TextPart("nope")),
            req(retry([{"type": "json_invalid", "loc": (), "msg": "Invalid JSON", "input": "nope"}])),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_toolless_with_instructions_and_mid_system",
        "gemini-2.5-flash",
        [
            req(user("Give JSON"), instructions="Answer in JSON."),
            resp(m.TextPart("nope")),
            req(system("Mid-conversation note"), retry("Not JSON"), instructions="Answer in JSON."),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_mid_system_prompt_only",
        "gemini-2.5-flash",
        [
            req(system("Standing"), user("q1")),
            TOOL_CALL,
            req(retry("again", tool_name="get_weather"), system("note")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_thinking_and_signatures",
        "gemini-3-pro-preview",
        [
            req(user("Think")),
            resp(
                m.ThinkingPart(
                    "thought", provider_name="google", provider_details={"thought_signature": SIG}
                ),
                m.TextPart("answer", provider_name="google", provider_details={"thought_signature": SIG}),
                m.ThinkingPart(""),
                m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
                m.ToolCallPart("get_weather", {"city": "Rome"}, tool_call_id="call_2"),
            ),
            req(tool_return("get_weather", "sunny", "call_1"), tool_return("get_weather", "rain", "call_2")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_signed_function_call",
        "gemini-3-pro-preview",
        [
            req(user("Weather")),
            resp(
                m.ToolCallPart(
                    "get_weather",
                    {"city": "Paris"},
                    tool_call_id="call_1",
                    provider_name="google",
                    provider_details={"thought_signature": SIG},
                ),
                m.ToolCallPart("get_weather", {"city": "Rome"}, tool_call_id="call_2"),
            ),
            req(tool_return("get_weather", "sunny", "call_1"), tool_return("get_weather", "rain", "call_2")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_legacy_thinking_signature",
        "gemini-2.5-flash",
        [
            req(user("Think")),
            resp(m.ThinkingPart("t", signature="c2ln", provider_name="google"), m.TextPart("after")),
            req(user("again")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_foreign_thinking",
        "gemini-2.5-flash",
        [
            req(user("Think")),
            resp(
                m.ThinkingPart("claude thought", signature="anthropic-sig", provider_name="anthropic"),
                m.TextPart("answer", provider_name="anthropic", provider_details={"thought_signature": SIG}),
                m.ToolCallPart(
                    "get_weather", {"city": "Paris"}, tool_call_id="toolu_1", provider_name="anthropic"
                ),
                provider_name="anthropic",
                provider_url="https://api.anthropic.com",
            ),
            req(tool_return("get_weather", "sunny", "toolu_1")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_vertex_signature_dropped",
        "gemini-3-pro-preview",
        [
            req(user("Hi")),
            m.ModelResponse(
                parts=[
                    m.TextPart("hello", provider_name="google", provider_details={"thought_signature": SIG})
                ],
                provider_name="google",
                provider_url="https://aiplatform.googleapis.com/",
                canonical_system="google-cloud",
                timestamp=T,
            ),
            req(user("again")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_files_and_empty_text",
        "gemini-2.5-flash-image",
        [
            req(user("Draw")),
            resp(m.TextPart(""), m.FilePart(m.BinaryContent(PNG, media_type="image/png"))),
            req(user("again")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_starts_with_model",
        "gemini-2.5-flash",
        [resp(m.TextPart("I start")), req(user("ok"))],
        None,
        None,
        False,
    ),
    (
        "history_native_tools_gemini_3",
        "gemini-3-pro-preview",
        [
            req(user("Search")),
            resp(
                m.NativeToolCallPart(
                    "code_execution",
                    {"code": "print(1)", "language": "PYTHON"},
                    tool_call_id="pyd_ai_c1",
                    provider_name="google",
                ),
                m.NativeToolReturnPart(
                    "code_execution",
                    {"outcome": "OUTCOME_OK", "output": "1\n"},
                    tool_call_id="pyd_ai_c1",
                    provider_name="google",
                ),
                m.NativeToolCallPart(
                    "web_search", {"queries": ["q"]}, tool_call_id="srv_1", provider_name="google"
                ),
                m.NativeToolReturnPart(
                    "web_search",
                    {"results": 1, "sources": [{"uri": "x"}]},
                    tool_call_id="srv_1",
                    provider_name="google",
                ),
                m.NativeToolCallPart(
                    "web_fetch", {"urls": ["u"]}, tool_call_id="pyd_ai_gen", provider_name="google"
                ),
                m.NativeToolReturnPart(
                    "web_fetch", [{"x": 1}], tool_call_id="pyd_ai_gen", provider_name="google"
                ),
                m.NativeToolReturnPart("file_search", ["ctx"], tool_call_id="srv_2", provider_name="google"),
                m.TextPart("done"),
            ),
            req(user("again")),
        ],
        None,
        None,
        False,
    ),
    (
        "history_native_tools_gemini_2_5",
        "gemini-2.5-flash",
        [
            req(user("Search")),
            resp(
                m.NativeToolCallPart(
                    "code_execution", {"code": "print(1)"}, tool_call_id="pyd_ai_c1", provider_name="google"
                ),
                m.NativeToolCallPart(
                    "web_search", {"queries": ["q"]}, tool_call_id="srv_1", provider_name="google"
                ),
                m.NativeToolReturnPart("web_search", None, tool_call_id="srv_1", provider_name="google"),
                m.TextPart("done"),
            ),
            req(user("again")),
        ],
        None,
        None,
        False,
    ),
    (
        "settings_sampling",
        "gemini-2.5-flash",
        HELLO,
        {
            "max_tokens": 100,
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 3,
            "stop_sequences": ["END"],
            "seed": 7,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
        },
        None,
        False,
    ),
    (
        "settings_google",
        "gemini-2.5-flash",
        HELLO,
        {
            "google_safety_settings": [
                {"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_LOW_AND_ABOVE"}
            ],
            "google_labels": {"team": "a"},
            "google_video_resolution": "MEDIA_RESOLUTION_LOW",
            "google_logprobs": True,
            "google_top_logprobs": 2,
            "service_tier": "flex",
            "extra_headers": {"x-foo": "bar"},
        },
        None,
        False,
    ),
    ("service_tier_default", "gemini-2.5-flash", HELLO, {"service_tier": "default"}, None, False),
    ("service_tier_auto", "gemini-2.5-flash", HELLO, {"service_tier": "auto"}, None, False),
    (
        "server_timeout_header_override",
        "gemini-2.5-flash",
        HELLO,
        {"extra_headers": {"x-server-timeout": "60"}, "timeout": 30},
        None,
        False,
    ),
    ("extra_body_warns", "gemini-2.5-flash", HELLO, {"extra_body": {"a": 1}}, None, False),
    (
        "parallel_tool_calls_warns",
        "gemini-2.5-flash",
        HELLO,
        {"parallel_tool_calls": False},
        params_spec(function_tools=[tool()]),
        False,
    ),
    (
        "cached_content",
        "gemini-2.5-flash",
        [req(system("sys"), user("Hi"))],
        {"google_cached_content": "cachedContents/abc"},
        params_spec(function_tools=[tool()]),
        False,
    ),
    (
        "thinking_config_explicit",
        "gemini-2.5-flash",
        HELLO,
        {"google_thinking_config": {"thinking_budget": 1024, "include_thoughts": True}, "thinking": "high"},
        None,
        False,
    ),
]

for model_name in (
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-3-pro-preview",
    "gemini-3-flash-preview",
    "gemini-2.0-flash",
    "gemini-3.1-flash-image-preview",
):
    for level in (True, False, "minimal", "low", "medium", "high", "xhigh"):
        CASES.append((f"thinking_{model_name}_{level}", model_name, HELLO, {"thinking": level}, None, False))

CASES += [
    (
        "tools_schema_transform",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(function_tools=[tool("complex", schema=COMPLEX, description=None)]),
        False,
    ),
    (
        "tools_return_schema",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(
            function_tools=[
                tool("a", return_schema={"type": "integer"}, include_return_schema=True),
                tool("b", return_schema={"type": "integer"}),
            ]
        ),
        False,
    ),
    (
        "tools_two_function_tools",
        "gemini-2.0-flash",
        HELLO,
        None,
        params_spec(function_tools=[tool(), tool("get_time")]),
        False,
    ),
    (
        "tools_strict_false_auto",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(function_tools=[tool(strict=False), tool("b")]),
        False,
    ),
    (
        "tools_output_tool_any",
        "gemini-2.0-flash",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            output_tools=[tool("final_result", kind="output")],
            allow_text_output=False,
            output_mode="tool",
        ),
        False,
    ),
    (
        "tools_output_tool_only",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(
            output_tools=[tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"
        ),
        False,
    ),
    (
        "tool_choice_none",
        "gemini-2.5-flash",
        HELLO,
        {"tool_choice": "none"},
        params_spec(function_tools=[tool(), tool("b")]),
        False,
    ),
    (
        "tool_choice_required",
        "gemini-2.5-flash",
        HELLO,
        {"tool_choice": "required"},
        params_spec(function_tools=[tool(), tool("b")]),
        False,
    ),
    (
        "tool_choice_list",
        "gemini-2.5-flash",
        HELLO,
        {"tool_choice": ["b"]},
        params_spec(function_tools=[tool(), tool("b")]),
        False,
    ),
    (
        "tool_choice_tool_or_output",
        "gemini-2.5-flash",
        HELLO,
        {"tool_choice": ToolOrOutput(function_tools=["b"])},
        params_spec(
            function_tools=[tool(), tool("b")],
            output_tools=[tool("final_result", kind="output")],
            output_mode="tool",
        ),
        False,
    ),
    (
        "native_output",
        "gemini-2.0-flash",
        HELLO,
        None,
        params_spec(
            output_mode="native",
            output_object={"json_schema": COMPLEX, "name": "City", "description": "A city"},
        ),
        False,
    ),
    (
        "native_output_with_tools_gemini_2_5",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            output_mode="native",
            output_object={"json_schema": W, "name": None, "description": None},
        ),
        False,
    ),
    (
        "native_output_with_tools_gemini_3",
        "gemini-3-pro-preview",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            output_mode="native",
            output_object={"json_schema": W, "name": "Out", "description": None},
        ),
        False,
    ),
    (
        "prompted_output",
        "gemini-2.0-flash",
        [req(user("Hi"), instructions="Be brief.")],
        None,
        params_spec(
            output_mode="prompted", output_object={"json_schema": W, "name": "City", "description": "A city"}
        ),
        False,
    ),
    (
        "prompted_output_with_tools",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            output_mode="prompted",
            output_object={"json_schema": COMPLEX, "name": None, "description": None},
        ),
        False,
    ),
    (
        "image_model",
        "gemini-2.5-flash-image",
        HELLO,
        None,
        params_spec(allow_image_output=True, output_mode="image"),
        False,
    ),
    (
        "image_model_no_text",
        "gemini-2.5-flash-image",
        HELLO,
        None,
        params_spec(allow_image_output=True, allow_text_output=False, output_mode="image"),
        False,
    ),
    (
        "native_tools_gemini_3",
        "gemini-3-pro-preview",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            native_tools=[
                {"kind": "web_search"},
                {"kind": "web_fetch"},
                {"kind": "code_execution"},
                {"kind": "file_search", "file_store_ids": ["fileSearchStores/s1"]},
            ],
        ),
        False,
    ),
    (
        "native_tools_gemini_2_5",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(native_tools=[{"kind": "web_search"}, {"kind": "code_execution"}]),
        False,
    ),
    (
        "native_tools_with_function_tools_gemini_2_5",
        "gemini-2.5-flash",
        HELLO,
        None,
        params_spec(function_tools=[tool()], native_tools=[{"kind": "web_search"}]),
        False,
    ),
    (
        "tools_image_model_error",
        "gemini-2.5-flash-image",
        HELLO,
        None,
        params_spec(function_tools=[tool()]),
        False,
    ),
]


def make_requests():
    out = []
    for name, model, msgs, settings, spec, stream in CASES:
        try:
            got = capture(model, msgs, settings, make_params(spec), stream=stream)
            expected = {
                "body": got["body"],
                "path": got["path"],
                "query": got["query"],
                "warnings": got["warnings"],
                "headers": {
                    k: v
                    for k, v in got["headers"].items()
                    if k in ("x-foo", "x-server-timeout", "x-goog-api-key")
                },
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
    import dataclasses
    import datetime

    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    if isinstance(o, datetime.datetime):
        return None
    if isinstance(o, bytes):
        return base64.b64encode(o).decode()
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
    if hasattr(o, "value"):
        return o.value
    return repr(o)


def run(case):
    def handler(request):
        default = "text/event-stream" if case["kind"] == "stream" else "application/json"
        return httpx2.Response(
            case.get("status", 200),
            content=case["body"].encode(),
            headers={"content-type": case.get("content_type", default), **case.get("headers", {})},
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = GoogleModel(
        case.get("model", "gemini-2.5-flash"), provider=GoogleProvider(api_key="k", http_client=client)
    )
    params = ModelRequestParameters(
        native_tools=[FileSearchTool(file_store_ids=["s"])] if case.get("file_search") else []
    )
    out = {}

    async def go():
        if case["kind"] == "stream":
            out["events"] = []
            async with model_request_stream(
                model, [m.ModelRequest.user_text_prompt("hi")], model_request_parameters=params
            ) as s:
                async for e in s:
                    out["events"].append(jsonable(e))
                out["response"] = json.loads(m.ModelMessagesTypeAdapter.dump_json([s.get()]))[0]
        else:
            r = await model_request(
                model, [m.ModelRequest.user_text_prompt("hi")], model_request_parameters=params
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
            "provider_error_code": getattr(e, "provider_error_code", None),
            "retry_after": getattr(e, "retry_after", None),
            "suggested_model_id": getattr(e, "suggested_model_id", None),
            "message": str(e)[:300],
        }
    return out


def body(parts=None, finish="STOP", usage=None, candidate_extra=None, **top):
    candidate = {"content": {"role": "model", "parts": parts or []}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    candidate.update(candidate_extra or {})
    data = {
        "candidates": [candidate],
        "usageMetadata": usage if usage is not None else {"promptTokenCount": 9, "candidatesTokenCount": 9},
        "modelVersion": "gemini-2.5-flash-001",
        "responseId": "resp_1",
    }
    data.update(top)
    return json.dumps(data)


def sse(chunks):
    return "".join("data: " + (c if isinstance(c, str) else json.dumps(c)) + "\r\n\r\n" for c in chunks)


def chunk(parts=None, finish=None, usage=None, candidate_extra=None, **top):
    return json.loads(body(parts, finish, usage, candidate_extra, **top))


GROUNDING = {
    "groundingChunks": [
        {"web": {"uri": "https://a.example", "title": "A"}},
        {"web": {"uri": "https://b.example", "title": "B", "domain": "b.example"}},
        {"retrievedContext": {"uri": "gs://x", "title": "Doc", "text": "ctx text", "documentName": "docs/1"}},
    ],
    "groundingSupports": [
        {"segment": {"startIndex": 0, "endIndex": 5, "text": "Paris"}, "groundingChunkIndices": [0]},
        {
            "segment": {"startIndex": 6, "endIndex": 8, "text": "is"},
            "groundingChunkIndices": [1, 2],
            "confidenceScores": [0.5, 0.7],
        },
        {"segment": {"endIndex": 3, "text": "zzz"}, "groundingChunkIndices": [0]},
        {
            "segment": {"partIndex": 1, "startIndex": 0, "endIndex": 4, "text": "nice"},
            "groundingChunkIndices": [5],
        },
    ],
    "webSearchQueries": ["paris", " ", "paris weather"],
}

ERROR_429 = {
    "error": {
        "code": 429,
        "message": "You exceeded your current quota",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "14s"},
        ],
    }
}

RESPONSE_CASES = [
    {
        "name": "r_text_thoughts_usage",
        "kind": "request",
        "body": body(
            [{"text": "thinking", "thought": True}, {"text": "Hello", "thoughtSignature": SIG}, {"text": ""}],
            usage={
                "promptTokenCount": 9,
                "candidatesTokenCount": 9,
                "thoughtsTokenCount": 34,
                "cachedContentTokenCount": 4,
                "toolUsePromptTokenCount": 5,
                "promptTokensDetails": [
                    {"modality": "TEXT", "tokenCount": 7},
                    {"modality": "IMAGE", "tokenCount": 2},
                ],
                "cacheTokensDetails": [{"modality": "TEXT", "tokenCount": 4}],
                "candidatesTokensDetails": [{"modality": "TEXT", "tokenCount": 9}],
                "toolUsePromptTokensDetails": [{"modality": "TEXT", "tokenCount": 5}],
                "totalTokenCount": 61,
                "trafficType": "ON_DEMAND",
            },
            createTime="2026-01-02T03:04:05.123456789Z",
        ),
    },
    {
        "name": "r_function_calls",
        "kind": "request",
        "body": body(
            [
                {"functionCall": {"name": "f", "args": {"a": 1}, "id": "fc1"}, "thoughtSignature": "c2ln"},
                {"functionCall": {"name": "g", "args": {}}},
                {"functionCall": {"name": "h"}},
            ]
        ),
    },
    {
        "name": "r_no_usage",
        "kind": "request",
        "body": json.dumps(
            {
                "candidates": [
                    {"content": {"parts": [{"text": "x"}], "role": "model"}, "finishReason": "MAX_TOKENS"}
                ]
            }
        ),
    },
    {"name": "r_empty_usage", "kind": "request", "body": body([{"text": "x"}], usage={"totalTokenCount": 0})},
    {
        "name": "r_blocked_prompt",
        "kind": "request",
        "body": json.dumps(
            {
                "promptFeedback": {
                    "blockReason": "SAFETY",
                    "blockReasonMessage": "nope",
                    "safetyRatings": [
                        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH", "blocked": True}
                    ],
                },
                "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5},
                "modelVersion": "gemini-2.5-flash",
                "responseId": "blk",
            }
        ),
    },
    {
        "name": "r_safety_finish",
        "kind": "request",
        "body": body(
            None,
            finish="SAFETY",
            candidate_extra={
                "safetyRatings": [
                    {
                        "category": "HARM_CATEGORY_HATE_SPEECH",
                        "probability": "MEDIUM",
                        "probabilityScore": 0.5,
                    }
                ]
            },
        ),
    },
    {"name": "r_unknown_finish", "kind": "request", "body": body([{"text": "x"}], finish="SOMETHING_NEW")},
    {
        "name": "r_malformed_function_call",
        "kind": "request",
        "body": body(None, finish="MALFORMED_FUNCTION_CALL"),
    },
    {
        "name": "r_inline_image",
        "kind": "request",
        "model": "gemini-2.5-flash-image",
        "body": body(
            [
                {"text": "here"},
                {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}},
            ]
        ),
    },
    {
        "name": "r_signature_only_part",
        "kind": "request",
        "body": body([{"thoughtSignature": SIG}, {"text": "x"}]),
    },
    {
        "name": "r_unsupported_part",
        "kind": "request",
        "body": body([{"fileData": {"fileUri": "u", "mimeType": "a/b"}}]),
    },
    {
        "name": "r_code_execution",
        "kind": "request",
        "body": body(
            [
                {"executableCode": {"code": "print(1)", "language": "PYTHON"}},
                {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}},
                {"text": "It is 1."},
            ]
        ),
    },
    {
        "name": "r_grounding_citations",
        "kind": "request",
        "model": "gemini-2.5-pro",
        "body": body(
            [{"text": "Paris is"}, {"text": "nice place"}],
            candidate_extra={"groundingMetadata": GROUNDING},
        ),
    },
    {
        "name": "r_grounding_gemini_3",
        "kind": "request",
        "model": "gemini-3-pro-preview",
        "body": body([{"text": "Paris is"}], candidate_extra={"groundingMetadata": GROUNDING}),
    },
    {
        "name": "r_url_context",
        "kind": "request",
        "body": body(
            [{"text": "Page says hi"}],
            candidate_extra={
                "urlContextMetadata": {
                    "urlMetadata": [
                        {
                            "retrievedUrl": "https://a.example",
                            "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS",
                        },
                        {"urlRetrievalStatus": "URL_RETRIEVAL_STATUS_ERROR"},
                    ]
                }
            },
        ),
    },
    {
        "name": "r_server_side_tool_parts",
        "kind": "request",
        "model": "gemini-3-pro-preview",
        "body": body(
            [
                {
                    "toolCall": {"id": "tc1", "toolType": "GOOGLE_SEARCH_WEB", "args": {"queries": ["q"]}},
                    "thoughtSignature": SIG,
                },
                {
                    "toolResponse": {
                        "id": "tc1",
                        "toolType": "GOOGLE_SEARCH_WEB",
                        "response": {"status": "ok"},
                    }
                },
                {"toolCall": {"id": "tc2", "toolType": "FILE_SEARCH", "args": {"query": "x"}}},
                {"toolResponse": {"id": "tc2", "toolType": "FILE_SEARCH"}},
                {"toolCall": {"id": "tc3", "toolType": "URL_CONTEXT", "args": {"urls": ["u"]}}},
                {"toolResponse": {"id": "tc3", "toolType": "URL_CONTEXT", "response": {"ok": True}}},
                {"text": "Done"},
            ],
            candidate_extra={
                "groundingMetadata": GROUNDING,
                "urlContextMetadata": {"urlMetadata": [{"retrievedUrl": "u"}]},
            },
        ),
    },
    {
        "name": "r_file_search_code",
        "kind": "request",
        "file_search": True,
        "body": body(
            [
                {
                    "executableCode": {
                        "code": 'print(file_search.query(query="what\'s \\"up\\""))',
                        "language": "PYTHON",
                    }
                },
                {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "..."}},
                {"text": "Found"},
            ],
            candidate_extra={
                "groundingMetadata": {"groundingChunks": [{"retrievedContext": {"text": "t1", "title": "T"}}]}
            },
        ),
    },
    {"name": "r_invalid_json", "kind": "request", "body": "{not json"},
    {"name": "e_429_retry_info", "kind": "request", "status": 429, "body": json.dumps(ERROR_429)},
    {
        "name": "e_429_retry_after_header",
        "kind": "request",
        "status": 429,
        "body": json.dumps(ERROR_429),
        "headers": {"retry-after": "3"},
    },
    {
        "name": "e_429_daily_quota",
        "kind": "request",
        "status": 429,
        "body": json.dumps(
            {
                "error": {
                    "code": 429,
                    "message": "quota",
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {"violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}
                    ],
                }
            }
        ),
    },
    {
        "name": "e_400_api_key_invalid",
        "kind": "request",
        "status": 400,
        "body": json.dumps(
            {
                "error": {
                    "code": 400,
                    "message": "API key not valid.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
                    ],
                }
            }
        ),
    },
    {
        "name": "e_400_context_window",
        "kind": "request",
        "status": 400,
        "body": json.dumps(
            {
                "error": {
                    "code": 400,
                    "message": "The input token count (2000000) exceeds the maximum number of tokens "
                    "allowed (1048576).",
                    "status": "INVALID_ARGUMENT",
                }
            }
        ),
    },
    {
        "name": "e_400_invalid",
        "kind": "request",
        "status": 400,
        "body": json.dumps({"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}),
    },
    {
        "name": "e_403_permission",
        "kind": "request",
        "status": 403,
        "body": json.dumps({"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}}),
    },
    {
        "name": "e_404_model",
        "kind": "request",
        "model": "gemini-2.5-flsh",
        "status": 404,
        "body": json.dumps(
            {
                "error": {
                    "code": 404,
                    "message": "models/gemini-2.5-flsh is not found for API version v1beta, or is not "
                    "supported for generateContent.",
                    "status": "NOT_FOUND",
                }
            }
        ),
    },
    {
        "name": "e_400_billing",
        "kind": "request",
        "status": 400,
        "body": json.dumps(
            {
                "error": {
                    "code": 400,
                    "message": "Please enable billing on your project.",
                    "status": "FAILED_PRECONDITION",
                }
            }
        ),
    },
    {
        "name": "e_503_overloaded",
        "kind": "request",
        "status": 503,
        "body": json.dumps(
            {
                "error": {
                    "code": 503,
                    "message": "The model is overloaded. Please try again later.",
                    "status": "UNAVAILABLE",
                }
            }
        ),
    },
    {
        "name": "e_503_unavailable",
        "kind": "request",
        "status": 503,
        "body": json.dumps({"error": {"code": 503, "message": "down", "status": "UNAVAILABLE"}}),
    },
    {
        "name": "e_500_internal",
        "kind": "request",
        "status": 500,
        "body": json.dumps({"error": {"code": 500, "message": "oops", "status": "INTERNAL"}}),
    },
    {
        "name": "e_502_html",
        "kind": "request",
        "status": 502,
        "body": "<html>Bad gateway</html>",
        "content_type": "text/html",
    },
    {
        "name": "e_409_unknown_status",
        "kind": "request",
        "status": 409,
        "body": json.dumps({"error": {"code": 409, "message": "conflict", "status": "ABORTED"}}),
    },
    {
        "name": "e_stream_404",
        "kind": "stream",
        "status": 404,
        "body": json.dumps({"error": {"code": 404, "message": "nope", "status": "NOT_FOUND"}}),
        "content_type": "application/json",
    },
    {
        "name": "s_text_and_thinking",
        "kind": "stream",
        "body": sse(
            [
                chunk(
                    [{"text": "thinking", "thought": True}],
                    usage={"promptTokenCount": 15, "cachedContentTokenCount": 3},
                    createTime="2026-01-02T03:04:05Z",
                ),
                chunk(
                    [{"text": " more", "thought": True}],
                    usage={"promptTokenCount": 15, "thoughtsTokenCount": 4},
                ),
                chunk(
                    [{"text": "Hello "}, {"text": "world", "thoughtSignature": "c2ln"}],
                    usage={"promptTokenCount": 15, "candidatesTokenCount": 2, "thoughtsTokenCount": 4},
                ),
                chunk(
                    [{"text": ""}],
                    finish="STOP",
                    usage={"promptTokenCount": 13, "candidatesTokenCount": 8, "thoughtsTokenCount": 4},
                ),
            ]
        ),
    },
    {
        "name": "s_function_calls",
        "kind": "stream",
        "body": sse(
            [
                chunk([{"text": "Let me check"}]),
                chunk(
                    [
                        {
                            "functionCall": {"name": "f", "args": {"a": 1}, "id": "fc1"},
                            "thoughtSignature": "c2ln",
                        },
                        {"functionCall": {"name": "f", "args": {"a": 2}}},
                    ],
                    finish="STOP",
                ),
            ]
        ),
    },
    {
        "name": "s_text_runs",
        "kind": "stream",
        "body": sse(
            [
                chunk([{"text": "a"}, {"thoughtSignature": SIG}, {"text": "b"}]),
                chunk([{"functionResponse": {"name": "x", "response": {}}}, {"text": "c"}]),
                chunk(
                    [
                        {"executableCode": {"code": "1", "language": "PYTHON"}},
                        {"codeExecutionResult": {"outcome": "OUTCOME_OK"}},
                        {"text": "d"},
                    ]
                ),
                chunk(
                    [
                        {"text": "t", "thought": True},
                        {"text": "e"},
                        {"inlineData": {"mimeType": "image/png", "data": "aGk="}},
                        {"text": "f"},
                    ],
                    finish="STOP",
                ),
            ]
        ),
    },
    {
        "name": "s_no_usage",
        "kind": "stream",
        "body": sse([{"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": "STOP"}]}]),
    },
    {"name": "s_empty", "kind": "stream", "body": ""},
    {
        "name": "s_error_first",
        "kind": "stream",
        "body": sse([{"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}]),
    },
    {
        "name": "s_error_mid",
        "kind": "stream",
        "body": sse(
            [
                chunk([{"text": "x"}]),
                {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}},
            ]
        ),
    },
    {
        "name": "s_grounding",
        "kind": "stream",
        "model": "gemini-2.5-pro",
        "body": sse(
            [
                chunk([{"text": "Paris "}], candidate_extra={"groundingMetadata": {}}),
                chunk([{"text": "is"}], candidate_extra={"groundingMetadata": {}}),
                chunk([{"text": ""}], finish="STOP", candidate_extra={"groundingMetadata": GROUNDING}),
            ]
        ),
    },
    {
        "name": "s_url_context",
        "kind": "stream",
        "body": sse(
            [
                chunk(
                    [{"text": "Page"}],
                    candidate_extra={
                        "urlContextMetadata": {
                            "urlMetadata": [
                                {
                                    "retrievedUrl": "https://a",
                                    "urlRetrievalStatus": "URL_RETRIEVAL_STATUS_SUCCESS",
                                }
                            ]
                        }
                    },
                ),
                chunk([{"text": " says"}], finish="STOP"),
            ]
        ),
    },
    {
        "name": "s_blocked",
        "kind": "stream",
        "body": sse(
            [
                {
                    "promptFeedback": {"blockReason": "OTHER"},
                    "usageMetadata": {"promptTokenCount": 3},
                    "modelVersion": "gemini-2.5-flash",
                    "responseId": "b1",
                }
            ]
        ),
    },
    {"name": "s_invalid_json", "kind": "stream", "body": "data: {nope\r\n\r\n"},
]


def make_responses():
    results = []
    for c in RESPONSE_CASES:
        got = run(c)
        results.append({**c, "expected": got})
        print(c["name"], "error " + got["error"]["type"] if "error" in got else "ok", file=sys.stderr)
    return results


if __name__ == "__main__":
    (HERE / "google_requests.json").write_text(json.dumps(make_requests(), indent=1))
    (HERE / "google_responses.json").write_text(json.dumps(make_responses(), indent=1))
