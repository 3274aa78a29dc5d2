"""Regenerate the ``openai_responses_*.json`` fixtures from pydantic-ai-slim 2.68.

Not a test and not shipped: it drives pydantic-ai's ``OpenAIResponsesModel`` (the ``openai`` SDK and
``httpx2`` come with the ``bench`` extra) through ``pydantic_ai.direct`` with an ``httpx2.MockTransport``,
and writes what it sent for each request scenario, and what it made of each canned reply (the response,
the stream events, or the error), next to this file::

    .venv/bin/python tests/data/make_openai_responses_fixtures.py
"""

import asyncio
import base64
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
from openai import AsyncOpenAI
from pydantic_ai import messages as m
from pydantic_ai._output import OutputObjectDefinition
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.messages import ModelMessagesTypeAdapter
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.settings import ToolOrOutput
from pydantic_ai.tools import ToolDefinition

HERE = Path(__file__).parent
TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
URL = "https://api.openai.com/v1/"
REPLY = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "status": "completed",
    "model": "m",
    "output": [],
    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
}

# -- history helpers -------------------------------------------------------------------------------


def req(*parts: Any, instructions: str | None = None) -> m.ModelRequest:
    return m.ModelRequest(parts=list(parts), timestamp=TS, instructions=instructions)


def user(content: Any) -> m.UserPromptPart:
    return m.UserPromptPart(content=content, timestamp=TS)


def system(content: str) -> m.SystemPromptPart:
    return m.SystemPromptPart(content=content, timestamp=TS)


def resp(*parts: Any, provider_name: str | None = "openai", **kw: Any) -> m.ModelResponse:
    kw.setdefault("provider_url", URL if provider_name == "openai" else None)
    return m.ModelResponse(parts=list(parts), timestamp=TS, provider_name=provider_name, model_name="x", **kw)


def ret(content: Any, call_id: str = "call_1", **kw: Any) -> m.ToolReturnPart:
    return m.ToolReturnPart(tool_name="f", content=content, tool_call_id=call_id, timestamp=TS, **kw)


def retry(content: Any, tool_name: str | None = None, call_id: str = "call_1") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return m.RetryPromptPart(content=content, tool_name=tool_name, tool_call_id=call_id, timestamp=TS)


def tool(name: str = "get_weather", **kw: Any) -> ToolDefinition:
    kw.setdefault(
        "parameters_json_schema",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
    return ToolDefinition(name=name, **kw)


def tool_spec(t: ToolDefinition) -> dict[str, Any]:
    return {
        "name": t.name,
        "parameters_json_schema": t.parameters_json_schema,
        "description": t.description,
        "strict": t.strict,
        "kind": t.kind,
    }


def params(
    function_tools: list[ToolDefinition] = (),  # type: ignore[assignment]
    output_tools: list[ToolDefinition] = (),  # type: ignore[assignment]
    *,
    allow_text_output: bool = True,
    allow_image_output: bool = False,
    output_mode: str = "text",
    output_object: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "function_tools": [tool_spec(t) for t in function_tools],
        "output_tools": [tool_spec(t) for t in output_tools],
        "allow_text_output": allow_text_output,
        "allow_image_output": allow_image_output,
        "output_mode": output_mode,
        "output_object": output_object,
    }


def make_params(spec: dict[str, Any] | None) -> ModelRequestParameters:
    if spec is None:
        return ModelRequestParameters()
    obj = spec["output_object"]
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec["function_tools"]],
        output_tools=[ToolDefinition(**t) for t in spec["output_tools"]],
        allow_text_output=spec["allow_text_output"],
        allow_image_output=spec["allow_image_output"],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**obj) if obj else None,
    )


def make_settings(raw: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (raw or {}).items():
        if isinstance(value, dict) and "__tool_or_output__" in value:
            value = ToolOrOutput(function_tools=value["__tool_or_output__"])
        out[key] = value
    return out


def model_for(name: str, handler: Any) -> OpenAIResponsesModel:
    client = AsyncOpenAI(
        api_key="sk-fixture", http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    )
    return OpenAIResponsesModel(name, provider=OpenAIProvider(openai_client=client))


# -- request scenarios -----------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\nfake"
PDF = b"%PDF-1.4 x"
TOOLS_AB = [tool("a"), tool("b")]
HISTORY = [
    req(user("hi")),
    resp(
        m.ThinkingPart(content="sum A", id="rs_1", signature="ENC", provider_name="openai"),
        m.ThinkingPart(content="sum B", id="rs_1", provider_name="openai"),
        m.TextPart(content="Calling", id="msg_1", provider_name="openai"),
        m.ToolCallPart(
            tool_name="f", args={"a": 1}, tool_call_id="call_1", id="fc_1", provider_name="openai"
        ),
    ),
    req(ret("result text")),
]
NATIVE_HISTORY = [
    req(user("search and run")),
    resp(
        m.NativeToolCallPart(
            tool_name="web_search",
            args={"query": "q", "type": "search", "sources": None},
            tool_call_id="ws_1",
            id="ws_1",
            provider_name="openai",
        ),
        m.NativeToolReturnPart(
            tool_name="web_search",
            content={"status": "completed"},
            tool_call_id="ws_1",
            provider_name="openai",
        ),
        m.NativeToolCallPart(
            tool_name="code_execution",
            args={"container_id": "cntr_1", "code": "print(1)"},
            tool_call_id="ci_1",
            provider_name="openai",
        ),
        m.FilePart(content=m.BinaryImage(data=PNG, media_type="image/png"), id="ci_1"),
        m.NativeToolReturnPart(
            tool_name="code_execution",
            content={"status": "completed", "logs": ["1"]},
            tool_call_id="ci_1",
            provider_name="openai",
        ),
        m.NativeToolCallPart(
            tool_name="file_search",
            args={"queries": ["x"]},
            tool_call_id="fs_1",
            id="fs_1",
            provider_name="openai",
        ),
        m.NativeToolReturnPart(
            tool_name="file_search",
            content={"status": "searching"},
            tool_call_id="fs_1",
            provider_name="openai",
        ),
        m.NativeToolCallPart(tool_name="image_generation", tool_call_id="ig_1", provider_name="openai"),
        m.NativeToolReturnPart(
            tool_name="image_generation",
            content={"status": "completed"},
            tool_call_id="ig_1",
            provider_name="openai",
        ),
        m.NativeToolCallPart(
            tool_name="mcp_server:deepwiki",
            args={"action": "call_tool", "tool_name": "ask", "tool_args": {"q": 1}},
            tool_call_id="mcp_1",
            provider_name="openai",
        ),
        m.NativeToolCallPart(
            tool_name="mcp_server:deepwiki",
            args={"action": "list_tools"},
            tool_call_id="mcpl_1",
            provider_name="openai",
        ),
        m.TextPart(content="done", id="msg_9", provider_name="openai"),
    ),
    req(user("again")),
]


def request_scenarios() -> list[dict[str, Any]]:
    s: list[dict[str, Any]] = []

    def add(
        name: str,
        messages: list[Any],
        model: str = "gpt-4o",
        settings: Any = None,
        spec: Any = None,
        *,
        stream: bool = False,
    ) -> None:
        s.append(
            {
                "name": name,
                "model": model,
                "messages": messages,
                "settings": settings,
                "params": spec,
                "stream": stream,
            }
        )

    hi = [req(user("hi"))]
    add("plain", hi)
    add("plain_stream", hi, stream=True)
    add(
        "every_setting",
        hi,
        settings={
            "max_tokens": 100,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 1,
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
            "logit_bias": {"50256": -100},
            "parallel_tool_calls": False,
            "extra_body": {"custom_field": True},
            "openai_user": "u1",
            "openai_service_tier": "flex",
            "openai_logprobs": True,
            "openai_top_logprobs": 2,
            "openai_store": False,
            "openai_prompt_cache_key": "k1",
            "openai_prompt_cache_retention": "24h",
            "openai_truncation": "auto",
            "openai_text_verbosity": "low",
            "openai_include_code_execution_outputs": True,
            "openai_include_web_search_sources": True,
            "openai_include_file_search_results": True,
            "openai_moderation": {"input": True},
            "openai_background": True,
        },
        spec=params(TOOLS_AB),
    )
    add("stop_sequences_warn", hi, settings={"stop_sequences": ["x"], "top_k": 3})
    add("unified_service_tier", hi, settings={"service_tier": "priority"})
    add("instructions_and_system", [req(system("be nice"), user("hi"), instructions="Answer briefly.")])
    add("o1_mini_user_role", [req(system("sys"), user("hi"))], model="o1-mini")
    add(
        "user_content",
        [
            req(
                user(
                    [
                        "Look at these",
                        m.ImageUrl(url="https://example.com/cat.png"),
                        m.ImageUrl(url="https://example.com/dog.png", vendor_metadata={"detail": "high"}),
                        m.BinaryContent(data=PNG, media_type="image/png"),
                        m.DocumentUrl(url="https://example.com/doc.pdf"),
                        m.BinaryContent(data=PDF, media_type="application/pdf"),
                        m.BinaryContent(data=b"plain text body", media_type="text/plain"),
                        m.AudioUrl(url="https://example.com/a.mp3"),
                        m.UploadedFile(file_id="file-img", provider_name="openai", media_type="image/png"),
                        m.UploadedFile(
                            file_id="file-doc", provider_name="openai", media_type="application/pdf"
                        ),
                        m.CachePoint(),
                        m.TextContent(content="text content"),
                    ]
                )
            )
        ],
    )
    add("uploaded_file_other_provider", [req(user([m.UploadedFile(file_id="f", provider_name="anthropic")]))])
    add("binary_audio", [req(user([m.BinaryContent(data=b"RIFF", media_type="audio/wav")]))])
    add("binary_json", [req(user([m.BinaryContent(data=b"{}", media_type="application/json")]))])
    add("video_url", [req(user([m.VideoUrl(url="https://example.com/v.mp4")]))])
    add("replay_o3_mini", HISTORY, model="o3-mini")
    add("replay_gpt_4o", HISTORY, model="gpt-4o")
    add("replay_o3_mini_no_ids", HISTORY, model="o3-mini", settings={"openai_send_reasoning_ids": False})
    add(
        "replay_other_endpoint",
        [*HISTORY[:1], resp(*HISTORY[1].parts, provider_url="https://proxy.example/v1/"), HISTORY[2]],
        model="o3-mini",
    )
    add(
        "replay_foreign_thinking",
        [
            req(user("hi")),
            resp(
                m.ThinkingPart(content="hmm", signature="sig", provider_name="anthropic"),
                m.TextPart(content="Hello"),
                provider_name="anthropic",
            ),
            req(user("more")),
        ],
        model="gpt-5",
    )
    add(
        "replay_chat_thinking_ids_and_raw",
        [
            req(user("hi")),
            resp(
                m.ThinkingPart(content="from chat", id="reasoning_content", provider_name="openai"),
                m.ThinkingPart(
                    content="",
                    id="rs_2",
                    provider_name="openai",
                    provider_details={"raw_content": ["raw 1", "raw 2"]},
                ),
                m.ThinkingPart(content="", id="rs_3", provider_name="openai"),
                m.TextPart(content="ok"),
            ),
            req(user("more")),
        ],
        model="gpt-5",
    )
    add(
        "replay_multiple_texts_and_phase",
        [
            req(user("hi")),
            resp(
                m.TextPart(
                    content="a", id="msg_1", provider_name="openai", provider_details={"phase": "commentary"}
                ),
                m.TextPart(content="b", id="msg_1", provider_name="openai"),
                m.TextPart(
                    content="c",
                    id="msg_2",
                    provider_name="openai",
                    provider_details={"phase": "final_answer"},
                ),
                m.TextPart(content="d", provider_name="openai", provider_details={"phase": "final_answer"}),
            ),
            req(user("more")),
        ],
        model="gpt-5.5",
    )
    add(
        "replay_citations",
        [
            req(user("hi")),
            resp(
                m.TextPart(
                    content="See https://e.x/a now",
                    id="msg_1",
                    provider_name="openai",
                    provider_details={
                        "citations": [
                            {
                                "type": "url_citation",
                                "url": "https://e.x/a",
                                "title": "A",
                                "start_index": 4,
                                "end_index": 17,
                            },
                            {
                                "type": "url_citation",
                                "url": "https://e.x/b",
                                "title": "B",
                                "start_index": 0,
                                "end_index": 3,
                            },
                            {"type": "file_citation", "file_id": "file-1", "filename": "f.txt", "index": 3},
                            {"type": "file_citation", "file_id": "", "filename": "f.txt", "index": 3},
                        ]
                    },
                ),
            ),
            req(user("more")),
        ],
        model="gpt-5",
    )
    add(
        "replay_tool_call_namespace_and_combined_id",
        [
            req(user("hi")),
            resp(
                m.ToolCallPart(
                    tool_name="f",
                    args='{"x": 1}',
                    tool_call_id="call_1|fc_1",
                    provider_name="openai",
                    provider_details={"namespace": "ns"},
                ),
                m.ToolCallPart(tool_name="g", args=None, tool_call_id="call_2", provider_name="anthropic"),
            ),
            req(ret("r1", call_id="call_1|fc_1"), ret({"k": [1, 2]}, call_id="call_2")),
        ],
        model="gpt-5",
    )
    add("replay_native_tools_gpt_5", NATIVE_HISTORY, model="gpt-5")
    add("replay_native_tools_store_false", NATIVE_HISTORY, model="gpt-5", settings={"openai_store": False})
    add("replay_native_tools_gpt_4o", NATIVE_HISTORY, model="gpt-4o")
    add(
        "tool_returns",
        [
            req(user("hi")),
            resp(m.ToolCallPart(tool_name="f", args={}, tool_call_id="call_1")),
            req(
                ret(
                    ["see", m.BinaryContent(data=PNG, media_type="image/png"), {"k": 1}, None],
                    call_id="call_1",
                ),
                ret("boom", call_id="call_2", outcome="failed"),
                ret(None, call_id="call_3"),
                ret({"a": 1}, call_id="call_4"),
                ret(m.ImageUrl(url="https://e.x/i.png"), call_id="call_5", outcome="failed"),
                ret(m.DocumentUrl(url="https://e.x/d.pdf"), call_id="call_6"),
            ),
        ],
    )
    add(
        "retries",
        [
            req(user("hi")),
            resp(m.ToolCallPart(tool_name="f", args={}, tool_call_id="call_1")),
            req(
                retry("bad args", tool_name="f", call_id="call_1"),
                retry(
                    [{"type": "missing", "loc": ("a",), "msg": "Field required", "input": {}}],
                    tool_name="f",
                    call_id="call_2",
                ),
            ),
            resp(m.TextPart(content="x")),
            req(retry("please fix")),
            resp(m.TextPart(content="y")),
            req(retry([{"type": "int_parsing", "loc": (), "msg": "bad", "input": "x", "ctx": {"a": 1}}])),
        ],
    )
    add(
        "tool_definitions",
        hi,
        spec=params(
            [
                tool("strict_tool", strict=True, description="Get weather"),
                tool("loose_tool", strict=False),
                tool(
                    "inferred",
                    parameters_json_schema={"type": "object", "properties": {}, "additionalProperties": True},
                ),
            ],
            [tool("final_result", kind="output", description="The final result")],
            allow_text_output=False,
            output_mode="tool",
        ),
    )
    three = [tool("a"), tool("b"), tool("c")]
    for name, choice, allow_text in [
        ("none", "none", True),
        ("required", "required", True),
        ("one", ["a"], False),
        ("two", ["a", "b"], True),
        ("tool_or_output", {"__tool_or_output__": ["a"]}, False),
        ("none_with_output_tools", "none", False),
    ]:
        add(
            f"tool_choice_{name}",
            hi,
            settings={"tool_choice": choice},
            spec=params(
                three, [tool("final_result", kind="output")], allow_text_output=allow_text, output_mode="tool"
            ),
        )
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "title": "CityLocation",
    }
    add(
        "native_output",
        hi,
        spec=params(
            output_mode="native",
            output_object={
                "json_schema": schema,
                "name": "CityLocation",
                "description": "A city",
                "strict": True,
            },
        ),
    )
    add("native_output_unnamed", hi, spec=params(output_mode="native", output_object={"json_schema": schema}))
    add(
        "prompted_output",
        [req(system("sys 1"), system("sys 2"), user("hi"), instructions="Be brief.")],
        spec=params(output_mode="prompted", output_object={"json_schema": schema, "name": "CityLocation"}),
    )
    add("image_output", hi, spec=params(allow_image_output=True, output_mode="image"))
    add(
        "native_tools_setting",
        hi,
        settings={
            "openai_native_tools": [
                {"type": "web_search"},
                {"type": "code_interpreter", "container": {"type": "auto"}},
            ]
        },
        spec=params(allow_image_output=True),
    )
    add("thinking_high_o3_mini", hi, model="o3-mini", settings={"thinking": "high"})
    add("thinking_minimal_o3_mini", hi, model="o3-mini", settings={"thinking": "minimal"})
    add("thinking_false_gpt_5_1", hi, model="gpt-5.1", settings={"thinking": False, "temperature": 0.3})
    add(
        "gpt_5_drops_sampling",
        hi,
        model="gpt-5",
        settings={"temperature": 0.3, "top_p": 0.5, "openai_logprobs": True, "openai_top_logprobs": 1},
    )
    add(
        "explicit_effort_and_summary",
        hi,
        model="gpt-5",
        settings={"openai_reasoning_effort": "low", "openai_reasoning_summary": "detailed"},
    )
    add("gpt_5_6_defaults", hi, model="gpt-5.6-sol")
    add(
        "gpt_5_6_mode_context",
        hi,
        model="gpt-5.6-sol",
        settings={
            "openai_reasoning_mode": "pro",
            "openai_reasoning_context": "current_turn",
            "thinking": "minimal",
        },
    )
    add(
        "gpt_5_context_all_turns_unsupported",
        hi,
        model="gpt-5",
        settings={"openai_reasoning_context": "all_turns", "openai_reasoning_mode": "pro"},
    )
    add("gpt_4o_context_auto", hi, model="gpt-4o", settings={"openai_reasoning_context": "auto"})
    add(
        "gpt_5_6_cache_comparison",
        [req(user("hi")), resp(m.TextPart(content="a"), provider_response_id="resp_abc"), req(user("more"))],
        model="gpt-5.6-sol",
        settings={"openai_prompt_cache_options": {"ttl": "30m"}},
    )
    add("instructions_only", [req(instructions="Only instructions.")])
    add("empty_history", [])
    add("extra_headers", hi, settings={"extra_headers": {"X-Trace": "1"}})
    add("previous_response_id_seed", hi, settings={"openai_previous_response_id": "resp_seed"})
    add(
        "previous_response_id_auto",
        [*HISTORY, resp(m.TextPart(content="ok"), provider_response_id="resp_9"), req(user("next"))],
        settings={"openai_previous_response_id": "auto"},
    )
    add(
        "previous_response_id_seed_with_history",
        [*HISTORY, resp(m.TextPart(content="ok"), provider_response_id="resp_9"), req(user("next"))],
        settings={"openai_previous_response_id": "resp_seed"},
    )
    add(
        "conversation_auto",
        [
            req(user("a")),
            resp(m.TextPart(content="b"), provider_details={"conversation_id": "conv_1"}),
            req(user("c")),
        ],
        settings={"openai_conversation_id": "auto"},
    )
    add("conversation_explicit_new", [req(user("a"))], settings={"openai_conversation_id": "conv_9"})
    add(
        "compaction_trim",
        [
            req(system("standing"), user("first"), instructions="Old instructions."),
            resp(m.TextPart(content="one")),
            req(user("second")),
            resp(
                m.TextPart(content="two"),
                m.CompactionPart(
                    content=None,
                    id="cmp_1",
                    provider_name="openai",
                    provider_details={"encrypted_content": "ENCC", "type": "compaction", "id": "cmp_1"},
                ),
            ),
            req(user("third")),
        ],
    )
    return s


def capture_request(case: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen["body"] = json.loads(request.content)
        seen["path"] = request.url.path
        seen["headers"] = {k.lower(): v for k, v in request.headers.items()}
        if case["stream"]:
            event = {"type": "response.completed", "response": REPLY}
            return httpx2.Response(
                200,
                content=f"data: {json.dumps(event)}\n\n".encode(),
                headers={"content-type": "text/event-stream"},
            )
        return httpx2.Response(200, json=REPLY)

    model = model_for(case["model"], handler)
    messages = case["messages"]
    settings = make_settings(case["settings"])
    spec = make_params(case["params"])

    async def go() -> None:
        if case["stream"]:
            async with model_request_stream(
                model, messages, model_settings=settings, model_request_parameters=spec
            ) as st:
                async for _ in st:
                    pass
        else:
            await model_request(model, messages, model_settings=settings, model_request_parameters=spec)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            asyncio.run(go())
        except Exception as exc:
            if "body" not in seen:
                return {"error": type(exc).__name__, "message": str(exc)[:300]}
    expected: dict[str, Any] = {
        "body": seen["body"],
        "path": seen["path"],
        "warnings": [str(w.message) for w in caught if not issubclass(w.category, DeprecationWarning)],
    }
    if "x-trace" in seen["headers"]:
        expected["x_trace"] = seen["headers"]["x-trace"]
    return expected


# -- reply scenarios -------------------------------------------------------------------------------


def body(output: list[Any], **top: Any) -> str:
    data = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1743075629,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "model": "gpt-5-2025",
        "output": output,
        "usage": {
            "input_tokens": 10,
            "input_tokens_details": {"cached_tokens": 4},
            "output_tokens": 20,
            "output_tokens_details": {"reasoning_tokens": 7},
            "total_tokens": 30,
        },
    }
    data.update(top)
    return json.dumps(data)


def sse(events: list[dict[str, Any] | str]) -> str:
    out = []
    for i, event in enumerate(events):
        if isinstance(event, str):
            out.append(event + "\n\n")
            continue
        event = {**event, "sequence_number": i} if "sequence_number" not in event else event
        out.append(f"event: {event.get('type', 'x')}\ndata: {json.dumps(event)}\n\n")
    return "".join(out)


def created(**response: Any) -> dict[str, Any]:
    base = {
        "id": "resp_s",
        "object": "response",
        "created_at": 1743082657,
        "status": "in_progress",
        "model": "gpt-5-2025",
        "output": [],
        "usage": None,
    }
    base.update(response)
    return {"type": "response.created", "response": base}


def terminal(
    kind: str = "response.completed", output: list[Any] | None = None, **response: Any
) -> dict[str, Any]:
    base = {
        "id": "resp_s",
        "object": "response",
        "created_at": 1743082657,
        "status": "completed",
        "model": "gpt-5-2025",
        "output": output or [],
        "usage": {
            "input_tokens": 5,
            "output_tokens": 6,
            "output_tokens_details": {"reasoning_tokens": 2},
            "total_tokens": 11,
        },
        "service_tier": "default",
    }
    base.update(response)
    return {"type": kind, "response": base}


MSG = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Hi there", "annotations": []}],
}
REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "think A"}, {"type": "summary_text", "text": "think B"}],
    "encrypted_content": "ENC",
}
CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"city":"Paris"}',
    "status": "completed",
}
WEB = {
    "type": "web_search_call",
    "id": "ws_1",
    "status": "completed",
    "action": {
        "type": "search",
        "query": "weather",
        "sources": [{"type": "url", "url": "https://w.x"}],
        "extra": None,
    },
}
PNG_B64 = base64.b64encode(PNG).decode()


def reply_scenarios() -> list[dict[str, Any]]:
    s: list[dict[str, Any]] = []

    def add(name: str, kind: str, text: str, **kw: Any) -> None:
        s.append({"name": name, "kind": kind, "body": text, **kw})

    add("r_text", "request", body([MSG], service_tier="default"))
    add(
        "r_text_details",
        "request",
        body(
            [
                {
                    "type": "message",
                    "id": "msg_2",
                    "role": "assistant",
                    "phase": "final_answer",
                    "content": [
                        {
                            "type": "output_text",
                            "text": "Read https://e.x/a and the file.",
                            "annotations": [
                                {
                                    "type": "url_citation",
                                    "url": "https://e.x/a",
                                    "title": "A",
                                    "start_index": 5,
                                    "end_index": 18,
                                },
                                {
                                    "type": "file_citation",
                                    "file_id": "file-1",
                                    "filename": "f.txt",
                                    "index": 3,
                                },
                                {
                                    "type": "container_file_citation",
                                    "container_id": "c",
                                    "file_id": "f",
                                    "filename": "x",
                                    "start_index": 0,
                                    "end_index": 1,
                                },
                                {"type": "url_citation", "url": "https://e.x/b"},
                            ],
                            "logprobs": [
                                {
                                    "token": "Read",
                                    "bytes": [82],
                                    "logprob": -0.1,
                                    "top_logprobs": [{"token": "Read", "bytes": [82], "logprob": -0.1}],
                                }
                            ],
                        },
                        {"type": "output_text", "text": "", "annotations": []},
                        {"type": "output_text", "text": "Second.", "annotations": []},
                    ],
                }
            ],
            conversation={"id": "conv_1"},
            moderation={"input": {"type": "moderation_result", "flagged": False}},
            prompt_cache_diagnostics={"type": "cache_hit"},
        ),
    )
    add(
        "r_raw_annotations",
        "request",
        body(
            [
                {
                    **MSG,
                    "content": [
                        {
                            "type": "output_text",
                            "text": "x",
                            "annotations": [
                                {
                                    "type": "url_citation",
                                    "url": "u",
                                    "title": "t",
                                    "start_index": 0,
                                    "end_index": 1,
                                }
                            ],
                        }
                    ],
                }
            ]
        ),
        settings={"openai_include_raw_annotations": True},
    )
    add(
        "r_reasoning_and_calls",
        "request",
        body(
            [
                REASONING,
                {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "ENC2"},
                {
                    "type": "reasoning",
                    "id": "rs_3",
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": "raw"}],
                },
                {"type": "reasoning", "id": "rs_4", "summary": []},
                MSG,
                CALL,
                {
                    **CALL,
                    "id": "fc_2",
                    "call_id": "call_2",
                    "name": "lookup",
                    "arguments": "{}",
                    "namespace": "ns",
                },
            ]
        ),
    )
    add("r_refusal", "request", body([{**MSG, "content": [{"type": "refusal", "refusal": "I can't."}]}]))
    add(
        "r_incomplete_length",
        "request",
        body([MSG], status="incomplete", incomplete_details={"reason": "max_output_tokens"}),
    )
    add(
        "r_incomplete_filter",
        "request",
        body([MSG], status="incomplete", incomplete_details={"reason": "content_filter"}),
    )
    add("r_cancelled", "request", body([], status="cancelled"))
    add("r_background_queued", "request", body([], status="queued", background=True, usage=None))
    add("r_foreground_in_progress", "request", body([], status="in_progress", usage=None))
    add(
        "r_failed_error",
        "request",
        body([], status="failed", error={"code": "server_error", "message": "boom"}),
    )
    add(
        "r_failed_rate_limit",
        "request",
        body([], status="failed", error={"code": "rate_limit_exceeded", "message": "slow down"}),
    )
    add(
        "r_failed_unknown_code",
        "request",
        body([], status="failed", error={"code": "weird", "message": "odd"}),
    )
    add(
        "r_builtin_tools",
        "request",
        body(
            [
                WEB,
                {
                    "type": "web_search_call",
                    "id": "ws_2",
                    "status": "completed",
                    "action": {"type": "open_page", "url": "https://w.x"},
                },
                {
                    "type": "file_search_call",
                    "id": "fs_1",
                    "status": "completed",
                    "queries": ["q"],
                    "results": [{"file_id": "f1", "text": "t", "score": 0.5}],
                },
                {"type": "file_search_call", "id": "fs_2", "status": "completed", "queries": ["q2"]},
                {
                    "type": "code_interpreter_call",
                    "id": "ci_1",
                    "status": "completed",
                    "container_id": "cntr_1",
                    "code": "print(1)",
                    "outputs": [
                        {"type": "logs", "logs": "1\n"},
                        {"type": "image", "url": f"data:image/png;base64,{PNG_B64}"},
                    ],
                },
                {
                    "type": "code_interpreter_call",
                    "id": "ci_2",
                    "status": "completed",
                    "container_id": "cntr_1",
                    "code": None,
                    "outputs": None,
                },
                {
                    "type": "image_generation_call",
                    "id": "ig_1",
                    "status": "generating",
                    "result": PNG_B64,
                    "output_format": "png",
                    "size": "1024x1024",
                    "quality": "high",
                    "background": "opaque",
                    "revised_prompt": "a cat",
                },
                {"type": "image_generation_call", "id": "ig_2", "status": "in_progress", "result": None},
                {
                    "type": "mcp_call",
                    "id": "mcp_1",
                    "server_label": "deepwiki",
                    "name": "ask",
                    "arguments": '{"q": 1}',
                    "output": "answer",
                    "error": None,
                },
                {
                    "type": "mcp_list_tools",
                    "id": "mcpl_1",
                    "server_label": "deepwiki",
                    "tools": [{"name": "ask", "input_schema": {"type": "object"}}],
                    "error": None,
                },
                {"type": "compaction", "id": "cmp_1", "encrypted_content": "ENCC"},
                {"type": "computer_call", "id": "cc_1"},
            ],
            tool_usage={"web_search": {"num_requests": 9}},
        ),
    )
    add("r_no_usage_with_search", "request", body([WEB], usage=None))
    add(
        "r_usage_cache_write",
        "request",
        body(
            [MSG],
            usage={
                "input_tokens": 10,
                "input_tokens_details": {"cached_tokens": 1, "cache_write_tokens": 2},
                "output_tokens": 3,
                "total_tokens": 13,
                "extra_count": 4,
            },
        ),
    )
    add(
        "r_http_429",
        "request",
        json.dumps({"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}),
        status=429,
    )
    add(
        "r_http_400",
        "request",
        json.dumps(
            {
                "error": {
                    "message": "bad temperature",
                    "type": "invalid_request_error",
                    "param": "temperature",
                    "code": "decimal_below_min_value",
                }
            }
        ),
        status=400,
    )
    add("r_not_json", "request", "<html>nope</html>")

    # streams
    def text_events(item_id: str = "msg_1") -> list[dict[str, Any]]:
        return [
            {
                "type": "response.output_item.added",
                "output_index": 1,
                "item": {
                    "type": "message",
                    "id": item_id,
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                },
            },
            {
                "type": "response.content_part.added",
                "item_id": item_id,
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": 1,
                "content_index": 0,
                "delta": "Hi",
            },
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": 1,
                "content_index": 0,
                "delta": " there",
            },
            {
                "type": "response.output_text.done",
                "item_id": item_id,
                "output_index": 1,
                "content_index": 0,
                "text": "Hi there",
            },
            {
                "type": "response.content_part.done",
                "item_id": item_id,
                "output_index": 1,
                "content_index": 0,
                "part": {"type": "output_text", "text": "Hi there", "annotations": []},
            },
            {"type": "response.output_item.done", "output_index": 1, "item": MSG},
        ]

    add(
        "s_text",
        "stream",
        sse(
            [
                created(),
                {"type": "response.in_progress", "response": created()["response"]},
                *text_events(),
                terminal(output=[MSG]),
            ]
        ),
    )
    add(
        "s_reasoning",
        "stream",
        sse(
            [
                created(),
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {"type": "reasoning", "id": "rs_1", "summary": []},
                },
                {
                    "type": "response.reasoning_summary_part.added",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""},
                },
                {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 0,
                    "delta": "think A",
                },
                {
                    "type": "response.reasoning_summary_text.done",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 0,
                    "text": "think A",
                },
                {
                    "type": "response.reasoning_summary_part.done",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": "think A"},
                },
                {
                    "type": "response.reasoning_summary_part.added",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 1,
                    "part": {"type": "summary_text", "text": ""},
                },
                {
                    "type": "response.reasoning_summary_text.delta",
                    "item_id": "rs_1",
                    "output_index": 0,
                    "summary_index": 1,
                    "delta": "think B",
                },
                {"type": "response.output_item.done", "output_index": 0, "item": REASONING},
                {
                    "type": "response.output_item.added",
                    "output_index": 1,
                    "item": {"type": "reasoning", "id": "rs_2", "summary": []},
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 1,
                    "item": {"type": "reasoning", "id": "rs_2", "summary": [], "encrypted_content": "ENC2"},
                },
                {
                    "type": "response.reasoning_text.delta",
                    "item_id": "rs_3",
                    "output_index": 2,
                    "content_index": 0,
                    "delta": "raw ",
                },
                {
                    "type": "response.reasoning_text.delta",
                    "item_id": "rs_3",
                    "output_index": 2,
                    "content_index": 0,
                    "delta": "one",
                },
                {
                    "type": "response.reasoning_text.delta",
                    "item_id": "rs_3",
                    "output_index": 2,
                    "content_index": 1,
                    "delta": "two",
                },
                {
                    "type": "response.reasoning_text.done",
                    "item_id": "rs_3",
                    "output_index": 2,
                    "content_index": 1,
                    "text": "two",
                },
                *text_events(),
                terminal(output=[REASONING, MSG]),
            ]
        ),
    )
    call_added = {**CALL, "arguments": "", "status": "in_progress"}
    add(
        "s_function_calls",
        "stream",
        sse(
            [
                created(),
                {"type": "response.output_item.added", "output_index": 0, "item": call_added},
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": "fc_1",
                    "output_index": 0,
                    "delta": '{"city":',
                },
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": "fc_1",
                    "output_index": 0,
                    "delta": '"Paris"}',
                },
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": "fc_1",
                    "output_index": 0,
                    "arguments": '{"city":"Paris"}',
                },
                {"type": "response.output_item.done", "output_index": 0, "item": CALL},
                {
                    "type": "response.output_item.added",
                    "output_index": 1,
                    "item": {**call_added, "id": "fc_2", "call_id": "call_2"},
                },
                {
                    "type": "response.function_call_arguments.done",
                    "item_id": "fc_2",
                    "output_index": 1,
                    "arguments": '{"city":"Rome"}',
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 1,
                    "item": {**CALL, "id": "fc_2", "call_id": "call_2", "arguments": '{"city":"Rome"}'},
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 2,
                    "item": {**CALL, "id": "fc_3", "call_id": "call_3", "namespace": "ns"},
                },
                terminal(),
            ]
        ),
        tools=True,
    )
    add(
        "s_refusal",
        "stream",
        sse(
            [
                created(),
                {
                    "type": "response.refusal.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "I can",
                },
                {
                    "type": "response.refusal.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "'t",
                },
                {
                    "type": "response.refusal.done",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "refusal": "I can't.",
                },
                terminal(),
            ]
        ),
    )
    add(
        "s_incomplete",
        "stream",
        sse(
            [
                created(),
                *text_events(),
                terminal(
                    "response.incomplete",
                    status="incomplete",
                    incomplete_details={"reason": "max_output_tokens"},
                ),
            ]
        ),
    )
    add(
        "s_failed_error",
        "stream",
        sse(
            [
                created(),
                *text_events(),
                terminal(
                    "response.failed",
                    status="failed",
                    error={"code": "rate_limit_exceeded", "message": "slow down"},
                ),
            ]
        ),
    )
    add(
        "s_failed_unknown_error",
        "stream",
        sse(
            [
                created(),
                terminal("response.failed", status="failed", error={"code": "weird", "message": "odd"}),
            ]
        ),
    )
    add(
        "s_failed_no_error",
        "stream",
        sse([created(), *text_events(), terminal("response.failed", status="failed", error=None)]),
    )
    add(
        "s_error_event_first",
        "stream",
        sse([{"type": "error", "code": "server_error", "message": "boom", "param": None}]),
    )
    add(
        "s_error_event_mid",
        "stream",
        sse(
            [
                created(),
                *text_events(),
                {"type": "error", "code": "server_error", "message": "boom", "param": None},
            ]
        ),
    )
    add(
        "s_error_object",
        "stream",
        sse(
            [
                created(),
                {"error": {"message": "quota", "type": "insufficient_quota", "code": "insufficient_quota"}},
            ]
        ),
    )
    add("s_no_terminal", "stream", sse([created(), *text_events()]))
    add(
        "s_background_resumed",
        "stream",
        sse(
            [
                {"type": "response.in_progress", "response": {**created()["response"], "background": True}},
                *text_events(),
            ]
        ),
    )
    add(
        "s_background_completed",
        "stream",
        sse(
            [
                created(status="queued", background=True),
                {
                    "type": "response.queued",
                    "response": {**created()["response"], "status": "queued", "background": True},
                },
                *text_events(),
                terminal(background=True, output=[MSG]),
            ]
        ),
    )
    add("s_empty", "stream", "")
    add("s_done_only", "stream", "data: [DONE]\n\n")
    add(
        "s_builtin_tools",
        "stream",
        sse(
            [
                created(),
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {
                        "type": "web_search_call",
                        "id": "ws_1",
                        "status": "in_progress",
                        "action": {"type": "search"},
                    },
                },
                {"type": "response.web_search_call.in_progress", "item_id": "ws_1", "output_index": 0},
                {"type": "response.output_item.done", "output_index": 0, "item": WEB},
                {
                    "type": "response.output_item.added",
                    "output_index": 1,
                    "item": {
                        "type": "code_interpreter_call",
                        "id": "ci_1",
                        "status": "in_progress",
                        "container_id": "cntr_1",
                        "code": "",
                        "outputs": None,
                    },
                },
                {
                    "type": "response.code_interpreter_call_code.delta",
                    "item_id": "ci_1",
                    "output_index": 1,
                    "delta": 'print("hi")\n',
                },
                {
                    "type": "response.code_interpreter_call_code.done",
                    "item_id": "ci_1",
                    "output_index": 1,
                    "code": 'print("hi")\n',
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 1,
                    "item": {
                        "type": "code_interpreter_call",
                        "id": "ci_1",
                        "status": "completed",
                        "container_id": "cntr_1",
                        "code": 'print("hi")\n',
                        "outputs": [
                            {"type": "logs", "logs": "hi"},
                            {"type": "image", "url": f"data:image/png;base64,{PNG_B64}"},
                        ],
                    },
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 2,
                    "item": {
                        "type": "image_generation_call",
                        "id": "ig_1",
                        "status": "in_progress",
                        "result": None,
                    },
                },
                {
                    "type": "response.image_generation_call.partial_image",
                    "item_id": "ig_1",
                    "output_index": 2,
                    "partial_image_index": 0,
                    "partial_image_b64": PNG_B64,
                    "output_format": "webp",
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 2,
                    "item": {
                        "type": "image_generation_call",
                        "id": "ig_1",
                        "status": "generating",
                        "result": PNG_B64,
                        "output_format": "png",
                    },
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 3,
                    "item": {
                        "type": "mcp_call",
                        "id": "mcp_1",
                        "server_label": "deepwiki",
                        "name": "ask",
                        "arguments": "",
                        "output": None,
                        "error": None,
                    },
                },
                {
                    "type": "response.mcp_call_arguments.delta",
                    "item_id": "mcp_1",
                    "output_index": 3,
                    "delta": '{"q":',
                },
                {
                    "type": "response.mcp_call_arguments.delta",
                    "item_id": "mcp_1",
                    "output_index": 3,
                    "delta": "1}",
                },
                {
                    "type": "response.mcp_call_arguments.done",
                    "item_id": "mcp_1",
                    "output_index": 3,
                    "arguments": '{"q":1}',
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 3,
                    "item": {
                        "type": "mcp_call",
                        "id": "mcp_1",
                        "server_label": "deepwiki",
                        "name": "ask",
                        "arguments": '{"q":1}',
                        "output": "ans",
                        "error": None,
                    },
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 4,
                    "item": {
                        "type": "mcp_list_tools",
                        "id": "mcpl_1",
                        "server_label": "deepwiki",
                        "tools": [],
                    },
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 5,
                    "item": {
                        "type": "file_search_call",
                        "id": "fs_1",
                        "status": "in_progress",
                        "queries": [],
                    },
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 5,
                    "item": {
                        "type": "file_search_call",
                        "id": "fs_1",
                        "status": "completed",
                        "queries": ["q"],
                        "results": None,
                    },
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 6,
                    "item": {"type": "compaction", "id": "cmp_1", "encrypted_content": ""},
                },
                {
                    "type": "response.output_item.done",
                    "output_index": 6,
                    "item": {"type": "compaction", "id": "cmp_1", "encrypted_content": "ENCC"},
                },
                terminal(
                    output=[
                        WEB,
                        {
                            "type": "mcp_list_tools",
                            "id": "mcpl_1",
                            "server_label": "deepwiki",
                            "tools": [{"name": "ask", "input_schema": {}}],
                            "error": None,
                        },
                    ]
                ),
            ]
        ),
    )
    add(
        "s_annotations_logprobs_phase",
        "stream",
        sse(
            [
                created(),
                {
                    "type": "response.output_item.added",
                    "output_index": 0,
                    "item": {
                        "type": "message",
                        "id": "msg_1",
                        "role": "assistant",
                        "status": "in_progress",
                        "content": [],
                        "phase": "final_answer",
                    },
                },
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": "See https://e.x/a",
                },
                {
                    "type": "response.output_text.annotation.added",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "annotation_index": 0,
                    "annotation": {
                        "type": "url_citation",
                        "url": "https://e.x/a",
                        "title": "A",
                        "start_index": 4,
                        "end_index": 17,
                    },
                },
                {
                    "type": "response.output_text.done",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "text": "See https://e.x/a",
                    "logprobs": [{"token": "See", "logprob": -0.5, "top_logprobs": []}],
                },
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 1,
                    "delta": "More",
                },
                {
                    "type": "response.output_text.done",
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 1,
                    "text": "Different",
                },
                {
                    "type": "response.output_item.added",
                    "output_index": 1,
                    "item": {
                        "type": "message",
                        "id": "msg_2",
                        "role": "assistant",
                        "status": "in_progress",
                        "content": [],
                        "phase": "commentary",
                    },
                },
                {
                    "type": "response.output_text.done",
                    "item_id": "msg_2",
                    "output_index": 1,
                    "content_index": 0,
                    "text": "",
                },
                {
                    "type": "response.output_text.delta",
                    "item_id": "msg_2",
                    "output_index": 1,
                    "content_index": 0,
                    "delta": None,
                },
                terminal(
                    conversation={"id": "conv_1"},
                    moderation={"output": {"flagged": False}},
                    prompt_cache_diagnostics={"type": "cache_miss"},
                ),
            ]
        ),
    )
    add(
        "s_http_429",
        "stream",
        json.dumps({"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}),
        status=429,
    )
    add("s_not_json_event", "stream", "data: {nope\n\n")
    return s


def jsonable(o: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(o, serialize_unknown=True, bytes_mode="base64")


def run_reply(case: dict[str, Any]) -> dict[str, Any]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        content_type = (
            "text/event-stream"
            if case["kind"] == "stream" and case.get("status", 200) == 200
            else "application/json"
        )
        return httpx2.Response(
            case.get("status", 200), content=case["body"].encode(), headers={"content-type": content_type}
        )

    model = model_for("gpt-5", handler)
    client_settings = {**(case.get("settings") or {}), "max_retries": 0}
    spec = ModelRequestParameters(function_tools=[tool()]) if case.get("tools") else ModelRequestParameters()
    prompt = [req(user("hi"))]
    events: list[Any] = []

    async def go() -> Any:
        if case["kind"] == "stream":
            async with model_request_stream(
                model, prompt, model_settings=client_settings, model_request_parameters=spec
            ) as stream:
                async for event in stream:
                    events.append(event)
                return stream.get()
        return await model_request(
            model, prompt, model_settings=client_settings, model_request_parameters=spec
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            response = asyncio.run(go())
        except Exception as exc:
            error = {
                "type": type(exc).__name__,
                "message": str(exc),
                "status_code": getattr(exc, "status_code", None),
                "in_stream": getattr(exc, "in_stream", None),
                "provider_error_code": getattr(exc, "provider_error_code", None),
                "provider_error_type": getattr(exc, "provider_error_type", None),
                "body": jsonable(getattr(exc, "body", None)),
            }
            return {"error": error, "events": jsonable(events)}
    dumped = json.loads(ModelMessagesTypeAdapter.dump_json([response]))[0]
    out: dict[str, Any] = {"response": dumped}
    if case["kind"] == "stream":
        out["events"] = jsonable(events)
    return out


def main() -> None:
    requests = []
    for case in request_scenarios():
        expected = capture_request(case)
        requests.append(
            {
                **{k: v for k, v in case.items() if k != "messages"},
                "messages": json.loads(ModelMessagesTypeAdapter.dump_json(case["messages"])),
                "expected": expected,
            }
        )
    (HERE / "openai_responses_requests.json").write_text(json.dumps(requests, indent=1) + "\n")
    replies = [{**case, "expected": run_reply(case)} for case in reply_scenarios()]
    (HERE / "openai_responses_responses.json").write_text(json.dumps(replies, indent=1) + "\n")
    print(f"{len(requests)} request scenarios, {len(replies)} reply scenarios")


if __name__ == "__main__":
    main()
