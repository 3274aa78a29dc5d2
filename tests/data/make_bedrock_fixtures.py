"""Regenerate ``bedrock_requests.json`` from pydantic-ai-slim 2.68's ``BedrockConverseModel``.

Not a test and not shipped: the captures need boto3/botocore (the ``dev`` extra installs them)::

    .venv/bin/python tests/data/make_bedrock_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with a real boto3 ``bedrock-runtime`` client whose
``before-send`` hook records the exact bytes botocore would put on the wire and answers with a canned
reply (a JSON body, or for ``converse-stream`` a minimal AWS event stream), so nothing leaves the
machine. The request bodies (as JSON, blobs as base64 the way botocore sends them) and paths are
written next to this file.
"""

import asyncio
import base64
import datetime
import io
import json
import struct
import sys
import warnings
import zlib
from pathlib import Path

import boto3
from botocore.awsrequest import AWSResponse
from pydantic_ai import messages as m
from pydantic_ai._output import OutputObjectDefinition
from pydantic_ai.direct import model_request
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.bedrock import BedrockConverseModel
from pydantic_ai.native_tools import CodeExecutionTool
from pydantic_ai.providers.bedrock import BedrockProvider
from pydantic_ai.settings import ToolOrOutput
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
T = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
PNG = base64.b64decode("iVBORw0KGgo=")
PDF = b"%PDF-1.4 x"
MP4 = b"\x00\x00\x00\x18ftypmp42"
REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
    "metrics": {"latencyMs": 1},
}


def _frame(event_type, payload):
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += (
            bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        )
    data = json.dumps(payload).encode()
    total = 12 + len(headers) + len(data) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + data
    return body + struct.pack(">I", zlib.crc32(body))


STREAM_BODY = b"".join(
    [
        _frame("messageStart", {"role": "assistant"}),
        _frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        _frame("contentBlockStop", {"contentBlockIndex": 0}),
        _frame("messageStop", {"stopReason": "end_turn"}),
        _frame(
            "metadata",
            {"usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2}, "metrics": {"latencyMs": 1}},
        ),
    ]
)


class _Raw(io.BytesIO):
    def stream(self, amt=1024, decode_content=None):  # what botocore's event stream reads
        while chunk := self.read(amt):
            yield chunk


def capture(model_name, messages, settings=None, params=None):
    seen = {}

    def before_send(request, **_):
        seen["body"] = json.loads(request.body)
        seen["path"] = request.url.split("amazonaws.com", 1)[1]
        if request.url.endswith("/converse-stream"):
            headers = {"content-type": "application/vnd.amazon.eventstream"}
            return AWSResponse(request.url, 200, headers, _Raw(STREAM_BODY))
        return AWSResponse(
            request.url, 200, {"content-type": "application/json"}, _Raw(json.dumps(REPLY).encode())
        )

    client = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="SECRET"
    )
    client.meta.events.register("before-send.bedrock-runtime.*", before_send)
    model = BedrockConverseModel(model_name, provider=BedrockProvider(bedrock_client=client))

    async def go():
        await model_request(model, messages, model_settings=settings, model_request_parameters=params)

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        asyncio.run(go())
    seen["warnings"] = [str(x.message) for x in w if "Deprecat" not in type(x.message).__name__]
    return seen


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def resp(*parts, provider_name="bedrock", model_name="us.anthropic.claude-sonnet-4-5-20250929-v1:0"):
    return m.ModelResponse(parts=list(parts), provider_name=provider_name, timestamp=T, model_name=model_name)


W = {
    "type": "object",
    "properties": {"city": {"type": "string", "title": "City"}},
    "required": ["city"],
    "title": "W",
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
    }


def params_spec(
    function_tools=(),
    output_tools=(),
    allow_text_output=True,
    output_mode="text",
    output_object=None,
    native_tools=(),
):
    return {
        "function_tools": [td_spec(t) for t in function_tools],
        "output_tools": [td_spec(t) for t in output_tools],
        "allow_text_output": allow_text_output,
        "output_mode": output_mode,
        "output_object": output_object,
        "native_tools": [{"kind": k} for k in native_tools],
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
        native_tools=[
            CodeExecutionTool() for k in spec.get("native_tools", []) if k["kind"] == "code_execution"
        ],
    )


CASES = []


def case(name, model, messages, settings=None, params=None):
    CASES.append((name, model, messages, settings, params))


CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE46 = "us.anthropic.claude-sonnet-4-6"
CLAUDE37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
NOVA = "us.amazon.nova-micro-v1:0"
NOVA_LITE = "us.amazon.nova-lite-v1:0"
NOVA2 = "us.amazon.nova-2-lite-v1:0"
LLAMA = "us.meta.llama4-maverick-17b-instruct-v1:0"
MISTRAL = "us.mistral.pixtral-large-2502-v1:0"
MT = {"max_tokens": 1000}
hi = [req(user("Hello"))]

case("plain_nova", NOVA, hi)
case("plain_claude", CLAUDE, hi, MT)
case("claude_default_max_tokens", CLAUDE, hi)
case("claude_max_tokens_capped", CLAUDE, hi, {"max_tokens": 1_000_000})
case(
    "system_and_instructions",
    NOVA,
    [req(m.SystemPromptPart("You are helpful.", timestamp=T), user("Hi"), instructions="Be terse.")],
)
case(
    "later_system_prompt",
    NOVA,
    [
        req(m.SystemPromptPart("S1", timestamp=T), user("one")),
        resp(m.TextPart("r1"), model_name=NOVA),
        req(m.SystemPromptPart("S2", timestamp=T), user("two")),
    ],
)
case(
    "sampling_claude",
    CLAUDE,
    hi,
    {**MT, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END"]},
)
case("sampling_nova", NOVA, hi, {"temperature": 0.1, "top_k": 5})
case("sampling_llama_top_k_dropped", LLAMA, hi, {"temperature": 0.1, "top_k": 5})
case("thinking_claude_enabled", CLAUDE, hi, {**MT, "thinking": True})
case("thinking_claude_low", CLAUDE, hi, {**MT, "thinking": "low"})
case("thinking_claude_off", CLAUDE, hi, {**MT, "thinking": False})
case("thinking_claude46_high", CLAUDE46, hi, {**MT, "thinking": "high"})
case("thinking_claude46_xhigh", CLAUDE46, hi, {**MT, "thinking": "xhigh"})
case("thinking_gpt_oss", "openai.gpt-oss-120b-1:0", hi, {"thinking": "high"})
case("thinking_gpt_oss_off", "openai.gpt-oss-120b-1:0", hi, {"thinking": False})
case("thinking_qwen", "qwen.qwen3-32b-v1:0", hi, {"thinking": "medium"})
case("thinking_qwen_off", "qwen.qwen3-32b-v1:0", hi, {"thinking": False})
case("thinking_deepseek_v32", "deepseek.v3.2", hi, {"thinking": True})
case("thinking_glm", "zai.glm-4.7", hi, {"thinking": "low"})
case(
    "additional_fields_and_settings",
    NOVA,
    hi,
    {
        "bedrock_additional_model_requests_fields": {"inferenceConfig": {"topK": 3}, "x": 1},
        "top_k": 9,
        "bedrock_guardrail_config": {
            "guardrailIdentifier": "g1",
            "guardrailVersion": "1",
            "trace": "enabled",
        },
        "bedrock_performance_configuration": {"latency": "optimized"},
        "bedrock_request_metadata": {"team": "a"},
        "bedrock_additional_model_response_fields_paths": ["/stop_sequence"],
        "bedrock_service_tier": {"type": "priority"},
    },
)
case("service_tier_unified", NOVA, hi, {"service_tier": "flex"})
case("service_tier_auto", NOVA, hi, {"service_tier": "auto"})
case(
    "inference_profile",
    NOVA,
    hi,
    {"bedrock_inference_profile": "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc"},
)

tools_hist = [
    req(user("weather?")),
    resp(
        m.TextPart("Checking"),
        m.ToolCallPart("get_weather", {"city": "Paris"}, "t1"),
        m.ToolCallPart("get_weather", '{"city": "Rome"}', "t2"),
        m.ToolCallPart("get_weather", None, "t3"),
    ),
    req(
        m.ToolReturnPart("get_weather", {"temp": 20}, "t2", timestamp=T),
        m.ToolReturnPart("get_weather", "sunny", "t1", timestamp=T),
        m.ToolReturnPart("get_weather", None, "t3", timestamp=T, outcome="failed"),
        user("thanks"),
    ),
]
for label, model in (("claude", CLAUDE), ("nova", NOVA), ("llama", LLAMA), ("mistral", MISTRAL)):
    case(f"tool_history_{label}", model, tools_hist, MT, params_spec([tool()]))
case(
    "tool_return_list_json",
    MISTRAL,
    [
        req(user("x")),
        resp(m.ToolCallPart("f", {}, "t1")),
        req(m.ToolReturnPart("f", ["a", {"b": 1}, 2], "t1", timestamp=T)),
    ],
    None,
    params_spec([tool("f")]),
)
case(
    "tool_return_list_text",
    NOVA,
    [
        req(user("x")),
        resp(m.ToolCallPart("f", {}, "t1")),
        req(m.ToolReturnPart("f", ["a", {"b": 1}, 2], "t1", timestamp=T)),
    ],
    None,
    params_spec([tool("f")]),
)
retries = [
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
    req(m.RetryPromptPart("Please answer in JSON", tool_call_id="r1", timestamp=T)),
]
case("retries_claude", CLAUDE, retries, MT, params_spec([tool("f")]))
case("retries_nova", NOVA, retries, None, params_spec([tool("f")]))
case(
    "retries_with_system",
    NOVA,
    [
        req(m.SystemPromptPart("Sys", timestamp=T), user("x")),
        resp(m.TextPart("plain")),
        req(m.RetryPromptPart("again", tool_call_id="r2", timestamp=T)),
    ],
)
for choice_name, choice in (
    ("auto", "auto"),
    ("required", "required"),
    ("none", "none"),
    ("list_one", ["get_weather"]),
    ("list_two", ["get_weather", "other"]),
    ("tool_or_output", ToolOrOutput(function_tools=["get_weather"])),
):
    for label, model in (("claude", CLAUDE), ("nova", NOVA), ("llama", LLAMA)):
        case(
            f"tool_choice_{choice_name}_{label}",
            model,
            hi,
            {**MT, "tool_choice": choice},
            params_spec(
                [tool(), tool("other")],
                [tool("final_result", kind="output")] if choice_name == "tool_or_output" else (),
            ),
        )
case(
    "tool_choice_none_with_history_claude",
    CLAUDE,
    tools_hist,
    {**MT, "tool_choice": "none"},
    params_spec([tool()]),
)
case("tool_choice_none_with_history_nova", NOVA, tools_hist, {"tool_choice": "none"}, params_spec([tool()]))
case(
    "output_tool_claude",
    CLAUDE,
    hi,
    MT,
    params_spec([], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)
case(
    "output_tool_thinking_claude",
    CLAUDE,
    hi,
    {**MT, "thinking": True},
    params_spec([tool()], allow_text_output=True),
)
case(
    "strict_tool_claude",
    CLAUDE,
    hi,
    MT,
    params_spec(
        [
            tool(
                "s",
                strict=True,
                schema={
                    "type": "object",
                    "title": "S",
                    "properties": {
                        "n": {"type": "integer", "minimum": 1, "description": "count"},
                        "xs": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 5},
                        "p": {"type": "string", "pattern": "^(?=a)b"},
                    },
                    "required": ["n"],
                },
            )
        ]
    ),
)
case(
    "defs_inlined_nova",
    NOVA,
    hi,
    None,
    params_spec(
        [
            tool(
                "d",
                schema={
                    "type": "object",
                    "properties": {"a": {"$ref": "#/$defs/A"}},
                    "$defs": {
                        "A": {"type": "object", "title": "A", "properties": {"x": {"type": "integer"}}}
                    },
                },
            )
        ]
    ),
)
case(
    "native_output_claude",
    CLAUDE,
    hi,
    MT,
    params_spec(
        output_mode="native",
        output_object={"json_schema": W, "name": "city", "description": "A city", "strict": True},
    ),
)
case(
    "prompted_output_nova",
    NOVA,
    hi,
    None,
    params_spec(
        output_mode="prompted",
        output_object={"json_schema": W, "name": "city", "description": None, "strict": None},
    ),
)
case("code_execution_nova2", NOVA2, hi, None, params_spec(native_tools=["code_execution"]))
case(
    "multimodal_nova",
    NOVA_LITE,
    [
        req(
            user(
                [
                    "look",
                    m.BinaryContent(PNG, media_type="image/png"),
                    m.BinaryContent(PDF, media_type="application/pdf"),
                    m.BinaryContent(b"hello text", media_type="text/plain"),
                    m.BinaryContent(MP4, media_type="video/mp4"),
                    m.ImageUrl("s3://bucket/a.png"),
                    m.DocumentUrl("s3://bucket/a.pdf?bucketOwner=123456789012", media_type="application/pdf"),
                ]
            )
        )
    ],
)
case("document_only", NOVA, [req(user([m.BinaryContent(PDF, media_type="application/pdf")]))])
case(
    "cache_claude",
    CLAUDE,
    [req(m.SystemPromptPart("Sys", timestamp=T), user(["a", m.CachePoint(), "b"]), instructions="Ins")],
    {
        **MT,
        "bedrock_cache_instructions": True,
        "bedrock_cache_messages": "1h",
        "bedrock_cache_tool_definitions": True,
    },
    params_spec([tool()]),
)
case(
    "cache_nova",
    NOVA,
    [req(m.SystemPromptPart("Sys", timestamp=T), user(["a", m.CachePoint(), "b"]))],
    {
        "bedrock_cache_instructions": True,
        "bedrock_cache_messages": True,
        "bedrock_cache_tool_definitions": True,
    },
    params_spec([tool()]),
)
case("cache_llama_ignored", LLAMA, [req(user(["a", m.CachePoint(), "b"]))], {"bedrock_cache_messages": True})
case(
    "cache_messages_trailing_document_claude",
    CLAUDE,
    [req(user(["read", m.BinaryContent(b"some text", media_type="text/plain")]))],
    {**MT, "bedrock_cache_messages": True},
)
case(
    "cache_messages_trailing_pdf_claude",
    CLAUDE,
    [req(user(["read", m.BinaryContent(PDF, media_type="application/pdf")]))],
    {**MT, "bedrock_cache_messages": True},
)
case(
    "cache_messages_trailing_document_nova",
    NOVA_LITE,
    [req(user(["read", m.BinaryContent(PDF, media_type="application/pdf")]))],
    {"bedrock_cache_messages": True},
)
case(
    "cache_point_first_in_part",
    CLAUDE,
    [req(user("earlier"), user([m.CachePoint(), "later"]))],
    MT,
)
thinking_hist = [
    req(user("q")),
    resp(
        m.ThinkingPart("thoughts", signature="sig-1", provider_name="bedrock"),
        m.ThinkingPart("", id="redacted_content", signature="cmVkYWN0ZWQ=", provider_name="bedrock"),
        m.TextPart("answer"),
    ),
    req(user("more")),
]
case("thinking_history_claude", CLAUDE, thinking_hist, MT)
case(
    "thinking_history_nova",
    NOVA,
    [
        thinking_hist[0],
        resp(m.ThinkingPart("thoughts"), m.TextPart("answer"), model_name=NOVA),
        thinking_hist[2],
    ],
)
case(
    "thinking_history_from_anthropic",
    CLAUDE,
    [
        thinking_hist[0],
        resp(
            m.ThinkingPart("t", signature="s", provider_name="anthropic"),
            m.TextPart("a"),
            provider_name="anthropic",
            model_name="claude-sonnet-4-5",
        ),
        thinking_hist[2],
    ],
    MT,
)
case(
    "leading_assistant_nova", NOVA, [resp(m.TextPart("Hi, how can I help?"), model_name=NOVA), req(user("x"))]
)
case("leading_assistant_claude", CLAUDE, [resp(m.TextPart("Hi, how can I help?")), req(user("x"))], MT)
case("only_instructions", NOVA, [req(instructions="Say hi")])
tool_files = [
    req(user("x")),
    resp(m.ToolCallPart("f", {}, "t1")),
    req(
        m.ToolReturnPart(
            "f",
            [
                "see",
                m.BinaryContent(PNG, media_type="image/png"),
                m.BinaryContent(PDF, media_type="application/pdf"),
            ],
            "t1",
            timestamp=T,
        ),
        user("and then"),
    ),
]
for label, model in (
    ("claude", CLAUDE),
    ("nova", NOVA_LITE),
    ("llama", LLAMA),
    ("mistral", MISTRAL),
    ("qwen", "qwen.qwen3-32b-v1:0"),
):
    case(f"tool_return_files_{label}", model, tool_files, MT, params_spec([tool("f")]))
case("writer_no_status", "writer.palmyra-x5-v1:0", tools_hist, None, params_spec([tool()]))
case(
    "native_tool_history_nova2",
    NOVA2,
    [
        req(user("compute")),
        resp(
            m.NativeToolCallPart("code_execution", {"snippet": "1+1"}, "c1", provider_name="bedrock"),
            m.NativeToolReturnPart(
                "code_execution",
                {"stdOut": "2"},
                "c1",
                provider_name="bedrock",
                provider_details={"status": "success"},
            ),
            m.TextPart("2"),
            model_name=NOVA2,
        ),
        req(user("thanks")),
    ],
    None,
    params_spec(native_tools=["code_execution"]),
)

cited_docs = [
    req(
        user(
            [
                "summarise",
                m.BinaryContent(b"plain text doc", media_type="text/plain"),
                m.BinaryContent(PDF, media_type="application/pdf"),
                m.BinaryContent(b"a,b", media_type="text/csv"),
            ]
        )
    )
]
case("citations_claude", CLAUDE, cited_docs, {**MT, "citations": True})
case("citations_nova_ignored", NOVA_LITE, cited_docs, {"citations": True})
case(
    "citations_forced_tool_claude",
    CLAUDE,
    cited_docs,
    {**MT, "citations": True, "tool_choice": "required"},
    params_spec([tool()]),
)
case(
    "citations_with_output_tool_claude",
    CLAUDE,
    cited_docs,
    {**MT, "citations": True},
    params_spec([], [tool("final_result", kind="output")], allow_text_output=False, output_mode="tool"),
)

long_turn = [
    req(user("first question")),
    resp(m.TextPart("first answer")),
    req(user([f"block {i}" for i in range(20)])),
]
case("cache_messages_previous_tail_claude", CLAUDE, long_turn, {**MT, "bedrock_cache_messages": True})
case(
    "cache_messages_short_turn_claude",
    CLAUDE,
    [*long_turn[:2], req(user("short"))],
    {**MT, "bedrock_cache_messages": True},
)
case(
    "cache_messages_tool_turn_nova",
    NOVA,
    [*tools_hist, resp(m.TextPart("done"), model_name=NOVA), req(user([f"b{i}" for i in range(19)]))],
    {"bedrock_cache_messages": True},
    params_spec([tool()]),
)


def dump_messages(msgs):
    return json.loads(m.ModelMessagesTypeAdapter.dump_json(msgs))


def make_requests():
    out = []
    for name, model, msgs, settings, spec in CASES:
        try:
            got = capture(model, msgs, settings, make_params(spec))
            expected = {"body": got["body"], "path": got["path"], "warnings": got["warnings"]}
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
                "expected": expected,
            }
        )
        print(
            name,
            "ERROR " + expected["error"] + ": " + expected["message"][:150] if "error" in expected else "ok",
            file=sys.stderr,
        )
    return out


if __name__ == "__main__":
    (HERE / "bedrock_requests.json").write_text(json.dumps(make_requests(), indent=1))
