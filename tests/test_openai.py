"""trio_direct.models.openai (and groq): pure request building, response parsing, chunk mapping.

Request bodies are checked against the examples of ``reference/providers/openai-chat.md`` (observed
from pydantic-ai 2.68); no sockets here (see test_openai_stream.py for the loopback tests).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import hypothesis.strategies as st
import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from trio_direct import (
    AudioUrl,
    BinaryContent,
    CachePoint,
    DocumentUrl,
    ImageUrl,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
)
from trio_direct._parts import PartsManager
from trio_direct._sse import ServerSentEvent
from trio_direct.events import PartDeltaEvent, PartStartEvent, ToolCallPartDelta
from trio_direct.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelUnavailableError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.models import infer_model
from trio_direct.models import openai as oa
from trio_direct.models._common import NOTE_ANNOUNCEMENT
from trio_direct.models.base import Provider
from trio_direct.models.groq import GroqModel, GroqStreamMapper, groq_http_error, parse_groq_completion
from trio_direct.settings import ModelSettings, ToolOrOutput
from trio_direct.tools import InstructionPart, ModelRequestParameters, OutputObjectDefinition, ToolDefinition

KEY = "sk-test-secret-key-123"


def model(name: str = "gpt-4o", **kwargs: Any) -> oa.OpenAIChatModel:
    return oa.OpenAIChatModel(name, provider=Provider("openai", "https://api.openai.com/v1", KEY), **kwargs)


def body_of(
    messages: list[Any],
    settings: ModelSettings | None = None,
    params: ModelRequestParameters | None = None,
    *,
    name: str = "gpt-4o",
    stream: bool = False,
    m: oa.OpenAIChatModel | None = None,
) -> dict[str, Any]:
    m = m or model(name)
    merged, prepared = m.prepare_request(settings, params)
    request = m.build_request(messages, merged, prepared, stream=stream)
    parsed: dict[str, Any] = orjson.loads(request.body)
    return parsed


def hi() -> list[Any]:
    return [ModelRequest([UserPromptPart("hi")])]


# =================================================================================================
# Request: settings
# =================================================================================================


def test_minimal_body_and_headers() -> None:
    m = model()
    merged, params = m.prepare_request(None, None)
    request = m.build_request(hi(), merged, params, stream=False)
    assert request.url == "https://api.openai.com/v1/chat/completions"
    assert orjson.loads(request.body) == {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


def test_every_mapped_setting_reference_example() -> None:
    """openai-chat.md §2.1: the observed body for the full settings set on gpt-4o with two tools."""
    tools = [ToolDefinition(name="a"), ToolDefinition(name="b")]
    settings: dict[str, Any] = {
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "seed": 1,
        "stop_sequences": ["END"],
        "parallel_tool_calls": False,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "extra_body": {"custom_field": True},
        "openai_user": "u1",
        "openai_service_tier": "flex",
        "openai_logprobs": True,
        "openai_top_logprobs": 2,
        "openai_store": False,
        "openai_prompt_cache_key": "k1",
    }
    body = body_of(hi(), settings, ModelRequestParameters(function_tools=tools))  # type: ignore[arg-type]
    tools_json = body.pop("tools")
    assert [t["function"]["name"] for t in tools_json] == ["a", "b"]
    assert body == {
        "model": "gpt-4o",
        "stream": False,
        "service_tier": "flex",
        "messages": [{"role": "user", "content": "hi"}],
        "frequency_penalty": 0.2,
        "logit_bias": {"50256": -100},
        "logprobs": True,
        "max_completion_tokens": 100,
        "parallel_tool_calls": False,
        "presence_penalty": 0.1,
        "prompt_cache_key": "k1",
        "seed": 1,
        "stop": ["END"],
        "store": False,
        "temperature": 0.5,
        "tool_choice": "auto",
        "top_logprobs": 2,
        "top_p": 0.9,
        "user": "u1",
        "custom_field": True,
    }


def test_stream_options() -> None:
    body = body_of(hi(), stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    body = body_of(hi(), {"openai_continuous_usage_stats": True}, stream=True)  # type: ignore[typeddict-unknown-key]
    assert body["stream_options"] == {"include_usage": True, "continuous_usage_stats": True}


def test_max_tokens_vs_max_completion_tokens_per_profile() -> None:
    assert body_of(hi(), {"max_tokens": 5})["max_completion_tokens"] == 5
    deepseek = oa.OpenAIChatModel(
        "deepseek-chat",
        provider=Provider("deepseek", "https://api.deepseek.com", KEY),
        profile=oa.deepseek_profile("deepseek-chat"),
    )
    body = body_of(hi(), {"max_tokens": 5}, m=deepseek)
    assert body["max_tokens"] == 5 and "max_completion_tokens" not in body


def test_parallel_tool_calls_only_with_tools() -> None:
    assert "parallel_tool_calls" not in body_of(hi(), {"parallel_tool_calls": False})


def test_unified_service_tier_and_openai_override() -> None:
    assert body_of(hi(), {"service_tier": "priority"})["service_tier"] == "priority"
    assert (
        body_of(hi(), {"service_tier": "priority", "openai_service_tier": "flex"})["service_tier"] == "flex"
    )  # type: ignore[typeddict-unknown-key]


def test_extra_headers_and_user_agent_override() -> None:
    m = model()
    merged, params = m.prepare_request({"extra_headers": {"X-Custom": "1", "User-Agent": "mine"}}, None)
    headers = m.build_request(hi(), merged, params, stream=False).headers
    assert headers["X-Custom"] == "1"
    assert headers["User-Agent"] == "mine"
    assert "user-agent" not in headers


def test_timeout_setting_becomes_httpx_timeout() -> None:
    m = model()
    merged, params = m.prepare_request({"timeout": 3}, None)
    request = m._with_timeout(m.build_request(hi(), merged, params, stream=False), merged)  # pyright: ignore[reportPrivateUsage]
    assert request.timeout is not None and request.timeout.read == 3


def test_reasoning_effort_from_thinking() -> None:
    """§2.7: o3-mini + thinking='high' → effort high, temperature dropped with a warning; gpt-4o → nothing."""
    with pytest.warns(UserWarning, match="Sampling parameters"):
        body = body_of(hi(), {"thinking": "high", "temperature": 0.3, "max_tokens": 5}, name="o3-mini")
    assert body == {
        "model": "o3-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
        "max_completion_tokens": 5,
        "reasoning_effort": "high",
    }
    assert "reasoning_effort" not in body_of(hi(), {"thinking": True})
    assert body_of(hi(), {"openai_reasoning_effort": "low"}, name="o3-mini")["reasoning_effort"] == "low"  # type: ignore[typeddict-unknown-key]


def test_thinking_false_keeps_sampling_on_models_that_can_turn_it_off() -> None:
    body = body_of(hi(), {"thinking": False, "temperature": 0.2}, name="gpt-5.1")
    assert body["reasoning_effort"] == "none"
    assert body["temperature"] == 0.2
    # gpt-5 cannot turn reasoning off: it reasons as little as it can (2.68)
    assert body_of(hi(), {"thinking": False}, name="gpt-5")["reasoning_effort"] == "minimal"


def test_unsupported_top_k_warns() -> None:
    with pytest.warns(UserWarning, match="top_k"):
        body = body_of(hi(), {"top_k": 3})
    assert "top_k" not in body


# =================================================================================================
# Request: messages
# =================================================================================================


def test_system_prompt_then_instructions() -> None:
    """§2.2.1: system prompt, then the instruction block after the leading system run."""
    messages = [
        ModelRequest([SystemPromptPart("You are terse."), UserPromptPart("hi")], instructions="Be nice.")
    ]
    params = ModelRequestParameters(instruction_parts=[InstructionPart("Be nice.")])
    assert body_of(messages, None, params)["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "hi"},
    ]
    # without instruction_parts, the latest request's instructions are read (direct API fallback)
    assert body_of(messages)["messages"][1] == {"role": "system", "content": "Be nice."}


def test_o1_mini_uses_the_user_role() -> None:
    params = ModelRequestParameters(instruction_parts=[InstructionPart("Be nice.")])
    assert body_of(hi(), None, params, name="o1-mini")["messages"] == [
        {"role": "user", "content": "hi"},
        {"role": "user", "content": "Be nice."},
    ]


def test_user_content_items_reference_example() -> None:
    """§2.2.2: image URL, image bytes, PDF bytes and a text file inlined."""
    content = [
        "Look at these",
        ImageUrl("https://example.com/cat.png"),
        BinaryContent(b"\x89PNG....", media_type="image/png"),
        BinaryContent(b"%PDF-1.4 x", media_type="application/pdf"),
        BinaryContent(b"plain text body", media_type="text/plain"),
    ]
    message = body_of([ModelRequest([UserPromptPart(content)])])["messages"][0]
    assert message == {
        "role": "user",
        "content": [
            {"text": "Look at these", "type": "text"},
            {"image_url": {"url": "https://example.com/cat.png"}, "type": "image_url"},
            {"image_url": {"url": "data:image/png;base64,iVBORy4uLi4="}, "type": "image_url"},
            {
                "file": {
                    "file_data": "data:application/pdf;base64,JVBERi0xLjQgeA==",
                    "filename": "filename.pdf",
                },
                "type": "file",
            },
            {
                "text": '-----BEGIN FILE id="124133" type="text/plain"-----\nplain text body\n'
                '-----END FILE id="124133"-----',
                "type": "text",
            },
        ],
    }


def test_image_detail_audio_uploaded_file_and_cache_point() -> None:
    content = [
        ImageUrl("https://e.com/d.png", vendor_metadata={"detail": "low"}),
        BinaryContent(b"RIFF", media_type="audio/wav"),
        UploadedFile("file-123", "openai", media_type="application/pdf"),
        CachePoint(),
    ]
    parts = body_of([ModelRequest([UserPromptPart(content)])])["messages"][0]["content"]
    assert parts == [
        {"type": "image_url", "image_url": {"url": "https://e.com/d.png", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_id": "file-123"}},
    ]


@pytest.mark.parametrize(
    "item",
    [
        AudioUrl("https://e.com/a.mp3"),
        DocumentUrl("https://e.com/a.pdf"),
        ImageUrl("https://e.com/a.png", force_download=True),
        VideoUrl("https://e.com/a.mp4"),
        BinaryContent(b"x", media_type="audio/ogg"),
        UploadedFile("file-1", "openai", media_type="image/png"),
    ],
)
def test_items_that_cannot_be_sent_raise_user_error(item: Any) -> None:
    with pytest.raises(UserError):
        body_of([ModelRequest([UserPromptPart([item])])])


def test_document_url_on_file_url_hosts() -> None:
    m = oa.OpenAIChatModel(
        "openai/gpt-4o",
        provider=Provider("openrouter", "https://openrouter.ai/api/v1", KEY),
        profile=oa.openrouter_profile("openai/gpt-4o"),
    )
    parts = body_of([ModelRequest([UserPromptPart([DocumentUrl("https://e.com/a.pdf")])])], m=m)["messages"][
        0
    ]["content"]
    assert parts == [
        {"type": "file", "file": {"file_data": "https://e.com/a.pdf", "filename": "filename.pdf"}}
    ]


def test_assistant_replay_tool_calls_and_returns() -> None:
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse(
            [
                ToolCallPart("t", {"a": 1}, "c1"),
                ToolCallPart("u", None, "c2"),
                ToolCallPart("v", '{"tz": "CET"}', "c3"),
                ToolCallPart("w", "not json", "c4"),
            ]
        ),
        ModelRequest(
            [
                ToolReturnPart("t", {"x": "é"}, "c1"),
                ToolReturnPart("u", None, "c2"),
                ToolReturnPart("v", "ok", "c3"),
            ]
        ),
    ]
    out = body_of(messages)["messages"]
    assert out[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "t", "arguments": '{"a":1}'}},
            {"id": "c2", "type": "function", "function": {"name": "u", "arguments": "{}"}},
            {"id": "c3", "type": "function", "function": {"name": "v", "arguments": '{"tz":"CET"}'}},
            {
                "id": "c4",
                "type": "function",
                "function": {"name": "w", "arguments": '{"INVALID_JSON":"not json"}'},
            },
        ],
    }
    assert out[2:] == [
        {"role": "tool", "tool_call_id": "c1", "content": '{"x":"é"}'},
        {"role": "tool", "tool_call_id": "c2", "content": ""},
        {"role": "tool", "tool_call_id": "c3", "content": "ok"},
    ]


def test_tool_return_with_a_file_goes_on_the_user_channel() -> None:
    img = BinaryContent(b"\x89PNG....", media_type="image/png")
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse([ToolCallPart("t", {}, "c1"), ToolCallPart("t", {}, "c2")]),
        ModelRequest(
            [ToolReturnPart("t", ["text", img], "c1"), ToolReturnPart("t", img, "c2", outcome="failed")]
        ),
    ]
    out = body_of(messages)["messages"]
    assert out[2] == {"role": "tool", "tool_call_id": "c1", "content": '["text","See file a7ae49."]'}
    assert out[3] == {"role": "tool", "tool_call_id": "c2", "content": '[{"error":""},"See file a7ae49."]'}
    frame = '<pyai:tool_result tool_name="t" tool_call_id="c1" file_id="a7ae49">'
    assert out[4]["role"] == "user"
    assert out[4]["content"][:3] == [
        {"type": "text", "text": frame},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORy4uLi4="}},
        {"type": "text", "text": "</pyai:tool_result>"},
    ]


def test_failed_tool_return_is_wrapped_as_error() -> None:
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse([ToolCallPart("t", {}, "c1")]),
        ModelRequest([ToolReturnPart("t", "boom", "c1", outcome="failed")]),
    ]
    assert body_of(messages)["messages"][2]["content"] == '{"error":"boom"}'


def test_retry_prompts_as_2_68_sends_them() -> None:
    """§8: a tool retry is an ``{"error": ...}`` tool message; a tool-less one is framed user text,
    announced once by a system message."""
    errors = [
        {
            "type": "int_parsing",
            "loc": ("a",),
            "msg": "Input should be a valid integer",
            "input": "x",
            "ctx": {},
        }
    ]
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse([ToolCallPart("t", {"a": 1}, "c1")]),
        ModelRequest([RetryPromptPart("bad", tool_name="t", tool_call_id="c1"), RetryPromptPart("also bad")]),
        ModelResponse([TextPart("b")]),
        ModelRequest([RetryPromptPart(errors)]),
    ]
    out = body_of(messages)["messages"]
    assert out[2] == {"role": "tool", "tool_call_id": "c1", "content": '{"error":"bad"}'}
    assert out[3] == {"role": "system", "content": NOTE_ANNOUNCEMENT}
    assert out[4] == {
        "role": "user",
        "content": "Your previous response failed the application's validation (this is automated feedback, "
        "not a message from the user):\n<pyai:retry_feedback>\nalso bad\n</pyai:retry_feedback>",
    }
    assert out[6]["content"].endswith(
        '<pyai:validation_errors>\n[{"type":"int_parsing","loc":["a"],'
        '"msg":"Input should be a valid integer",'
        '"input":"x"}]\n</pyai:validation_errors>'
    )
    assert sum(m["content"] == NOTE_ANNOUNCEMENT for m in out) == 1


def test_thinking_replay_field_vs_tags() -> None:
    """§2.2.4: same-provider field thinking goes back in its field; anything else as <think> text."""
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse(
            [
                ThinkingPart("r1", id="reasoning_content", provider_name="deepseek"),
                ThinkingPart("tagged"),
                TextPart("a"),
                TextPart("b"),
            ]
        ),
        ModelRequest([UserPromptPart("x")]),
    ]
    assert body_of(messages)["messages"][1] == {
        "role": "assistant",
        "content": "<think>\nr1\n</think>\n\n<think>\ntagged\n</think>\n\na\n\nb",
    }
    deepseek = oa.OpenAIChatModel(
        "deepseek-chat",
        provider=Provider("deepseek", "https://api.deepseek.com", KEY),
        profile=oa.deepseek_profile("deepseek-chat"),
    )
    assert body_of(messages, m=deepseek)["messages"][1] == {
        "role": "assistant",
        "reasoning_content": "r1\n\ntagged",
        "content": "a\n\nb",
    }


def test_responses_thinking_quirk_and_empty_response() -> None:
    """§2.2.4: a Responses reasoning id replayed to Chat becomes a literal field; an empty response: none."""
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse(
            [
                ThinkingPart("let me think", id="rs_1", provider_name="openai"),
                TextPart("Calling tool"),
                ToolCallPart("get_weather", {"city": "Paris"}, "call_1"),
            ]
        ),
        ModelResponse([]),
    ]
    out = body_of(messages)["messages"]
    assert out[1] == {
        "role": "assistant",
        "rs_1": "let me think",
        "content": "Calling tool",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert len(out) == 2


def test_deepseek_backfills_the_thinking_field_on_tool_calls() -> None:
    deepseek = oa.OpenAIChatModel(
        "deepseek-chat",
        provider=Provider("deepseek", "https://api.deepseek.com", KEY),
        profile=oa.deepseek_profile("deepseek-chat"),
    )
    messages = [
        ModelRequest([UserPromptPart("hi")]),
        ModelResponse(
            [ThinkingPart("r", id="reasoning_content", provider_name="deepseek"), ToolCallPart("t", {}, "c1")]
        ),
        ModelRequest([ToolReturnPart("t", "ok", "c1")]),
        ModelResponse([ToolCallPart("t", {}, "c2")]),
    ]
    out = body_of(messages, m=deepseek)["messages"]
    assert out[3]["reasoning_content"] == ""


# =================================================================================================
# Request: tools and output
# =================================================================================================


def test_tool_definition_reference_example() -> None:
    """§2.3: a strict-compatible schema gets additionalProperties: false and strict: true."""
    schema = {
        "properties": {"country": {"type": "string"}},
        "required": ["country"],
        "type": "object",
        "title": "X",
    }
    tool = ToolDefinition(name="get_capital", parameters_json_schema=schema)
    assert body_of(hi(), None, ModelRequestParameters(function_tools=[tool]))["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_capital",
                "description": "",
                "parameters": {
                    "additionalProperties": False,
                    "properties": {"country": {"type": "string"}},
                    "required": ["country"],
                    "type": "object",
                },
                "strict": True,
            },
        }
    ]


def test_strictness_inference_and_explicit_strict() -> None:
    loose = ToolDefinition(
        name="a",
        parameters_json_schema={"type": "object", "properties": {"x": {"type": "string", "default": "d"}}},
    )
    forced = ToolDefinition(
        name="b",
        strict=True,
        parameters_json_schema={"type": "object", "properties": {"x": {"type": "string", "maxLength": 3}}},
    )
    tools = body_of(hi(), None, ModelRequestParameters(function_tools=[loose, forced]))["tools"]
    assert "strict" not in tools[0]["function"]
    assert tools[1]["function"]["strict"] is True
    assert tools[1]["function"]["parameters"] == {
        "type": "object",
        "properties": {"x": {"type": "string", "description": "maxLength=3"}},
        "additionalProperties": False,
        "required": ["x"],
    }


def test_no_strict_on_hosts_without_it() -> None:
    ollama = oa.OpenAIChatModel(
        "qwen3",
        provider=Provider("ollama", "http://localhost:11434/v1", "x"),
        profile=oa.ollama_profile("qwen3"),
    )
    tool = ToolDefinition(name="a", strict=True)
    assert (
        "strict"
        not in body_of(hi(), None, ModelRequestParameters(function_tools=[tool]), m=ollama)["tools"][0][
            "function"
        ]
    )


def test_output_tools_and_tool_choice_required() -> None:
    params = ModelRequestParameters(
        function_tools=[ToolDefinition(name="f")],
        output_tools=[ToolDefinition(name="final_result", kind="output")],
        output_mode="tool",
        allow_text_output=False,
    )
    body = body_of(hi(), None, params)
    assert [t["function"]["name"] for t in body["tools"]] == ["f", "final_result"]
    assert body["tool_choice"] == "required"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        (["a"], {"type": "function", "function": {"name": "a"}}),
        (
            ["a", "b"],
            {
                "type": "allowed_tools",
                "allowed_tools": {
                    "mode": "required",
                    "tools": [
                        {"type": "function", "function": {"name": "a"}},
                        {"type": "function", "function": {"name": "b"}},
                    ],
                },
            },
        ),
        (["a", "b", "c"], "required"),
        (
            ToolOrOutput(function_tools=["a"]),
            {
                "type": "allowed_tools",
                "allowed_tools": {"mode": "auto", "tools": [{"type": "function", "function": {"name": "a"}}]},
            },
        ),
    ],
)
def test_tool_choice_mapping(choice: Any, expected: Any) -> None:
    params = ModelRequestParameters(function_tools=[ToolDefinition(name=n) for n in "abc"])
    body = body_of(hi(), {"tool_choice": choice}, params)
    assert body["tool_choice"] == expected
    assert len(body["tools"]) == 3


def test_tool_choice_filters_tools_on_hosts_without_allowed_tools() -> None:
    together = oa.OpenAIChatModel(
        "meta-llama/Llama-3.3-70B",
        provider=Provider("together", "https://api.together.xyz/v1", KEY),
        profile=oa.generic_profile("x"),
    )
    params = ModelRequestParameters(function_tools=[ToolDefinition(name=n) for n in "abc"])
    body = body_of(hi(), {"tool_choice": ["a", "b"]}, params, m=together)
    assert [t["function"]["name"] for t in body["tools"]] == ["a", "b"]
    assert body["tool_choice"] == "required"


def test_tool_choice_errors() -> None:
    with pytest.raises(UserError, match="required"):
        body_of(
            hi(),
            {"tool_choice": "required"},
            ModelRequestParameters(output_tools=[ToolDefinition(name="o", kind="output")]),
        )
    with pytest.raises(UserError, match="Invalid tool names"):
        body_of(
            hi(), {"tool_choice": ["zzz"]}, ModelRequestParameters(function_tools=[ToolDefinition(name="a")])
        )


def test_native_output_json_schema() -> None:
    output = OutputObjectDefinition(
        json_schema={"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
        name="MyOut",
        description="d",
    )
    body = body_of(hi(), None, ModelRequestParameters(output_mode="native", output_object=output))
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "MyOut",
            "schema": {
                "type": "object",
                "properties": {"a": {"type": "integer"}},
                "required": ["a"],
                "additionalProperties": False,
            },
            "description": "d",
            "strict": True,
        },
    }


def test_prompted_output_template_reference_example() -> None:
    """§2.5: the prompted instruction (leading/trailing newline kept) and json_object."""
    output = OutputObjectDefinition(
        json_schema={
            "type": "object",
            "properties": {"a": {"type": "integer"}},
            "required": ["a"],
            "additionalProperties": False,
        },
        name="MyOut",
    )
    body = body_of(hi(), None, ModelRequestParameters(output_mode="prompted", output_object=output))
    assert body["response_format"] == {"type": "json_object"}
    assert body["messages"][0] == {
        "role": "system",
        "content": "\nAlways respond with a JSON object that's compatible with this schema:\n\n"
        '{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"], '
        '"additionalProperties": false, "title": "MyOut"}\n\n'
        "Don't include any text or Markdown fencing before or after.\n",
    }


def test_tool_mapping_is_cached_per_definition() -> None:
    m = model()
    tool = ToolDefinition(name="a")
    params = ModelRequestParameters(function_tools=[tool])
    first = body_of(hi(), None, params, m=m)["tools"]
    assert m._tool_param(tool) is m._tool_param(tool)  # pyright: ignore[reportPrivateUsage]
    assert body_of(hi(), None, params, m=m)["tools"] == first


# =================================================================================================
# Registry and environment
# =================================================================================================


def test_registry_prefixes_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI", "DEEPSEEK", "OPENROUTER", "TOGETHER", "FIREWORKS", "CEREBRAS", "GROK", "GROQ"):
        monkeypatch.setenv(f"{var}_API_KEY", "k")
        monkeypatch.delenv(f"{var}_BASE_URL", raising=False)
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", "http://localhost:8000/v1")
    expected = {
        "openai": ("openai", "https://api.openai.com/v1"),
        "openai-chat": ("openai", "https://api.openai.com/v1"),
        "deepseek": ("deepseek", "https://api.deepseek.com"),
        "openrouter": ("openrouter", "https://openrouter.ai/api/v1"),
        "together": ("together", "https://api.together.xyz/v1"),
        "fireworks": ("fireworks", "https://api.fireworks.ai/inference/v1"),
        "cerebras": ("cerebras", "https://api.cerebras.ai/v1"),
        "grok": ("grok", "https://api.x.ai/v1"),
        "ollama": ("ollama", "http://localhost:11434/v1/"),
        "openai-compatible": ("openai-compatible", "http://localhost:8000/v1"),
        "groq": ("groq", "https://api.groq.com"),
    }
    for prefix, (system, base_url) in expected.items():
        resolved = infer_model(f"{prefix}:some-model")
        # Groq is a dialect of its own on the shared Chat layer, not an OpenAIChatModel (as upstream)
        assert isinstance(resolved, GroqModel if prefix == "groq" else oa.OpenAIChatModel)
        assert (resolved.system, resolved.base_url) == (system, base_url)


def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        infer_model("openai:gpt-4o")
    with pytest.raises(UserError, match="DEEPSEEK_API_KEY"):
        infer_model("deepseek:deepseek-chat")
    with pytest.raises(UserError, match="GROQ_API_KEY"):
        infer_model("groq:llama")
    monkeypatch.delenv("OPENAI_COMPATIBLE_BASE_URL", raising=False)
    with pytest.raises(UserError, match="OPENAI_COMPATIBLE_BASE_URL"):
        infer_model("openai-compatible:m")


def test_base_url_without_key_uses_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
    resolved = infer_model("openai:local")
    assert isinstance(resolved, oa.OpenAIChatModel)
    assert resolved.provider.api_key == oa.PLACEHOLDER_API_KEY
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)
    ollama = infer_model("ollama:llama3.2")
    assert isinstance(ollama, oa.OpenAIChatModel)
    assert ollama.provider.api_key == oa.PLACEHOLDER_API_KEY


def test_provider_headers_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OPENAI_ORG_ID", "org-1")
    monkeypatch.setenv("CEREBRAS_API_KEY", "k")
    m = infer_model("openai:gpt-4o")
    assert isinstance(m, oa.OpenAIChatModel)
    assert m.provider.headers["OpenAI-Organization"] == "org-1"
    c = infer_model("cerebras:llama-3.3-70b")
    assert isinstance(c, oa.OpenAIChatModel)
    assert c.provider.headers["X-Cerebras-3rd-Party-Integration"] == "pydantic-ai"


def test_key_never_in_repr_or_errors() -> None:
    m = model()
    assert KEY not in repr(m) and KEY not in repr(m.provider)
    merged, params = m.prepare_request(None, None)
    assert KEY not in repr(m.build_request(hi(), merged, params, stream=False))
    error = oa.openai_http_error(
        401, {}, b'{"error": {"message": "bad key", "code": "invalid_api_key"}}', "gpt-4o"
    )
    assert KEY not in str(error)


# =================================================================================================
# Response
# =================================================================================================

REFERENCE_BODY = {
    "choices": [
        {
            "finish_reason": "stop",
            "index": 0,
            "logprobs": None,
            "message": {
                "annotations": [],
                "content": "The capital of France is Paris.",
                "refusal": None,
                "role": "assistant",
            },
        }
    ],
    "created": 1744043456,
    "id": "chatcmpl-BJjf61mLb9z5H45ClJzbx0UWKwjo1",
    "model": "gpt-4o-2024-08-06",
    "object": "chat.completion",
    "service_tier": "default",
    "system_fingerprint": "fp_898ac29719",
    "usage": {
        "completion_tokens": 8,
        "prompt_tokens": 24,
        "total_tokens": 32,
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
        "prompt_tokens_details": {"audio_tokens": 0, "cached_tokens": 0},
    },
}


def parse(body: Any, m: oa.OpenAIChatModel | None = None) -> ModelResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (m or model()).parse_response(raw, None, ModelRequestParameters(), {})  # type: ignore[arg-type]


def test_reference_response() -> None:
    response = parse(REFERENCE_BODY)
    assert response.parts == [TextPart("The capital of France is Paris.")]
    assert response.model_name == "gpt-4o-2024-08-06"
    assert response.provider_name == "openai"
    assert response.provider_response_id == "chatcmpl-BJjf61mLb9z5H45ClJzbx0UWKwjo1"
    assert response.finish_reason == "stop"
    assert response.provider_details == {
        "finish_reason": "stop",
        "service_tier": "default",
        "timestamp": datetime(2025, 4, 7, 16, 30, 56, tzinfo=UTC),
    }
    assert response.usage.input_tokens == 24 and response.usage.output_tokens == 8
    assert response.usage.details == {
        "accepted_prediction_tokens": 0,
        "audio_tokens": 0,
        "reasoning_tokens": 0,
        "rejected_prediction_tokens": 0,
    }


def test_usage_mapping_reference_example() -> None:
    usage = oa.map_chat_usage(
        {
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 3},
            "completion_tokens_details": {
                "reasoning_tokens": 7,
                "audio_tokens": 2,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
    )
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (100, 20, 64)
    assert (usage.input_audio_tokens, usage.output_audio_tokens, usage.output_reasoning_tokens) == (3, 2, 7)
    assert usage.details == {
        "accepted_prediction_tokens": 0,
        "audio_tokens": 2,
        "reasoning_tokens": 7,
        "rejected_prediction_tokens": 0,
    }
    deepseek_usage = {
        "prompt_tokens": 12,
        "completion_tokens": 789,
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 12,
        "completion_tokens_details": {"reasoning_tokens": 415},
        "queue_time": 0.1,
    }
    deepseek = oa.map_chat_usage(deepseek_usage, oa.USAGE_DEEPSEEK)
    assert deepseek.details == {
        "prompt_cache_hit_tokens": 0,
        "prompt_cache_miss_tokens": 12,
        "reasoning_tokens": 415,
    }
    assert oa.map_chat_usage(None).unmeasured_requests == 1


def test_parts_in_upstream_order_with_think_tags_and_reasoning_field() -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "finish_reason": "tool_calls",
                "message": {
                    "reasoning_content": "R2",
                    "reasoning": "R1",
                    "content": "<think>\nhmm\n</think>\n\nAnswer",
                    "tool_calls": [
                        {"id": "", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}},
                        {"id": "call_2", "type": "function", "function": {"name": "g", "arguments": ""}},
                    ],
                },
            }
        ],
    }
    response = parse(body)
    assert response.parts[:3] == [
        ThinkingPart("R1", id="reasoning", provider_name="openai"),
        ThinkingPart("\nhmm\n", id="content", provider_name="openai"),
        TextPart("\n\nAnswer"),
    ]
    call = response.parts[3]
    assert (
        isinstance(call, ToolCallPart) and call.args == '{"a": 1}' and call.tool_call_id.startswith("pyd_ai_")
    )
    assert response.parts[4] == ToolCallPart("g", "", "call_2")
    assert response.finish_reason == "tool_call"
    assert response.usage.unmeasured_requests == 1


def test_refusal_missing_and_unknown_finish_reasons_and_logprobs() -> None:
    refusal = parse(
        {
            "id": "x",
            "model": "m",
            "created": 0,
            "choices": [{"finish_reason": "stop", "message": {"refusal": "I can't help."}}],
        }
    )
    assert refusal.parts == [] and refusal.finish_reason == "content_filter"
    assert refusal.provider_details == {"refusal": "I can't help."}
    missing = parse(
        {"id": "x", "model": "m", "choices": [{"finish_reason": None, "message": {"content": "hi"}}]}
    )
    assert missing.finish_reason == "stop" and missing.provider_details is None
    unknown = parse(
        {
            "id": "x",
            "model": "m",
            "choices": [{"finish_reason": "guardrail_intervened", "message": {"content": "hi"}}],
        }
    )
    assert unknown.finish_reason is None and unknown.provider_details == {
        "finish_reason": "guardrail_intervened"
    }
    lp = {
        "content": [
            {
                "token": "hi",
                "bytes": [104, 105],
                "logprob": -0.1,
                "top_logprobs": [{"token": "hi", "bytes": None, "logprob": -0.1}],
            }
        ]
    }
    with_logprobs = parse(
        {
            "id": "x",
            "model": "m",
            "choices": [{"finish_reason": "length", "logprobs": lp, "message": {"content": "hi"}}],
        }
    )
    assert with_logprobs.finish_reason == "length"
    assert with_logprobs.provider_details is not None
    assert with_logprobs.provider_details["logprobs"] == lp["content"]


def test_list_content_is_joined() -> None:
    body = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "finish_reason": "stop",
                "message": {"content": [{"type": "text", "text": "a"}, {"type": "ref"}, "b"]},
            }
        ],
    }
    assert parse(body).parts == [TextPart("ab")]


@pytest.mark.parametrize(
    "body",
    [
        b"Hello, I am plain text",
        b"[]",
        b'{"choices": []}',
        b'{"choices": [{"message": null}], "model": "m"}',
        b'{"model": "m"}',
    ],
)
def test_unusable_200_bodies(body: bytes) -> None:
    with pytest.raises(UnexpectedModelBehavior) as info:
        parse(body)
    assert "Invalid response from openai chat completions endpoint" in str(info.value)
    assert info.value.body == body.decode()


# =================================================================================================
# Errors
# =================================================================================================


@pytest.mark.parametrize(
    ("status", "error", "category"),
    [
        (400, {"code": "unsupported_value", "message": "x"}, ModelRequestRejectedError),
        (400, {"code": "context_length_exceeded", "message": "x"}, ModelContextWindowExceededError),
        (
            400,
            {"code": None, "message": "This model's maximum context length is 8192 tokens"},
            ModelContextWindowExceededError,
        ),
        (401, {"code": "invalid_api_key", "message": "x"}, ModelAuthenticationError),
        (403, {"message": "x"}, ModelAuthenticationError),
        (404, {"code": "model_not_found", "message": "x"}, ModelNotFoundError),
        (429, {"code": "rate_limit_exceeded", "message": "x"}, ModelRateLimitError),
        (429, {"code": "insufficient_quota", "message": "x"}, ModelQuotaExceededError),
        (402, {"message": "x"}, ModelQuotaExceededError),
        (500, {"message": "x"}, ModelServerError),
        (503, {"message": "The engine is currently overloaded"}, ModelOverloadedError),
        (503, {"message": "x"}, ModelUnavailableError),
        (529, {"message": "x"}, ModelOverloadedError),
        (422, {"message": "x"}, ModelRequestRejectedError),
    ],
)
def test_http_error_categories(status: int, error: dict[str, Any], category: type[Exception]) -> None:
    exc = oa.openai_http_error(status, {"retry-after": "2"}, json.dumps({"error": error}).encode(), "gpt-4o")
    assert isinstance(exc, ModelHTTPError) and isinstance(exc, category)
    assert exc.status_code == status
    assert exc.body == error
    assert exc.retry_after == 2.0


def test_http_error_reference_example() -> None:
    body = {
        "error": {
            "code": "unsupported_value",
            "message": "Unsupported value: 'messages[0].role' does not support 'developer' with this model.",
            "param": "messages[0].role",
            "type": "invalid_request_error",
        }
    }
    exc = oa.openai_http_error(400, {}, json.dumps(body).encode(), "o1-mini")
    assert isinstance(exc, ModelHTTPError)
    assert type(exc).__name__ == "ModelRequestRejectedError"
    assert exc.provider_error_code == "unsupported_value"
    assert exc.provider_error_type == "invalid_request_error"
    assert str(exc).startswith("status_code: 400, model_name: o1-mini, body: {")


@pytest.mark.parametrize(
    ("error", "status", "category"),
    [
        (
            {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"},
            429,
            ModelRateLimitError,
        ),
        ({"code": 400, "message": "Token limit reached"}, 400, ModelRequestRejectedError),
        ({"code": "server_error", "message": "oops"}, 500, ModelServerError),
    ],
)
def test_in_stream_errors(error: dict[str, Any], status: int, category: type[Exception]) -> None:
    exc = oa.stream_error("m", error)
    assert isinstance(exc, ModelHTTPError) and isinstance(exc, category)
    assert (exc.status_code, exc.in_stream, exc.headers) == (status, True, None)


def test_in_stream_error_without_status() -> None:
    exc = oa.stream_error("m", {"message": "weird"})
    assert type(exc) is ModelAPIError and exc.in_stream and not isinstance(exc, ModelHTTPError)
    assert isinstance(oa.stream_error("m", {"code": "model_not_found", "message": "x"}), ModelNotFoundError)


# =================================================================================================
# Stream mapper (pure)
# =================================================================================================


def mapper(
    m: oa.OpenAIChatModel | None = None, params: ModelRequestParameters | None = None
) -> oa.ChatStreamMapper:
    m = m or model()
    return m.stream_mapper(params or ModelRequestParameters(), PartsManager(), m.settings or {})


def feed(mp: Any, *chunks: Any) -> list[Any]:
    out: list[Any] = []
    for chunk in chunks:
        data = chunk if isinstance(chunk, str) else json.dumps(chunk)
        mp.feed(ServerSentEvent(None, data), out)
    return out


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "c1",
        "model": "gpt-4o-x",
        "created": 1700000000,
        "object": "chat.completion.chunk",
    }
    base["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    base.update(extra)
    return base


def kinds(events: list[Any]) -> list[tuple[str, int, str]]:
    return [
        (e.event_kind, e.index, (getattr(e, "part", None) and e.part.part_kind) or e.delta.part_delta_kind)
        for e in events
    ]


def test_text_stream_and_meta() -> None:
    mp = mapper()
    events = feed(
        mp,
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, "stop"),
        chunk(None, usage={"prompt_tokens": 3, "completion_tokens": 2}) | {"choices": []},
        "[DONE]",
    )
    mp.finish(events)
    assert kinds(events) == [("part_start", 0, "text"), ("part_delta", 0, "text")]
    assert mp.parts.get_parts() == [TextPart("Hello")]
    assert mp.meta.model_name == "gpt-4o-x" and mp.meta.provider_response_id == "c1"
    assert mp.meta.finish_reason == "stop"
    assert (mp.meta.usage.input_tokens, mp.meta.usage.output_tokens) == (3, 2)
    assert mp.meta.provider_details == {
        "timestamp": datetime.fromtimestamp(1700000000, tz=UTC),
        "finish_reason": "stop",
    }


def test_meta_object_is_reused_while_nothing_changes() -> None:
    mp = mapper()
    feed(mp, chunk({"content": "a"}))
    meta = mp.meta
    feed(mp, chunk({"content": "b"}), chunk({"content": "c"}))
    assert mp.meta is meta


def test_parallel_tool_calls_keyed_by_index_with_late_names_and_ids() -> None:
    mp = mapper()
    events = feed(
        mp,
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a"'}}]}),  # no name yet: held back
        chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ": 1}"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "function": {"name": "g", "arguments": ""}}]}),
        chunk(
            {"tool_calls": [{"index": 0, "id": "call_a", "function": {"arguments": ""}}]}
        ),  # late id replaces
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    )
    mp.finish(events)
    assert kinds(events) == [
        ("part_start", 0, "tool-call"),
        ("part_start", 1, "tool-call"),
        ("part_delta", 0, "tool_call"),
        ("part_delta", 1, "tool_call"),
    ]
    assert isinstance(events[2], PartDeltaEvent) and isinstance(events[2].delta, ToolCallPartDelta)
    assert events[2].delta.tool_call_id == "call_a"
    assert mp.parts.get_parts() == [
        ToolCallPart("f", '{"a": 1}', "call_a"),
        ToolCallPart("g", "{}", "call_b"),
    ]
    assert mp.meta.finish_reason == "tool_call"


def test_reasoning_field_then_text_then_reasoning() -> None:
    mp = mapper(
        oa.OpenAIChatModel(
            "deepseek-reasoner",
            provider=Provider("deepseek", "http://u", "k"),
            profile=oa.deepseek_profile("deepseek-reasoner"),
        )
    )
    events = feed(
        mp,
        chunk({"reasoning_content": "R", "content": None}),
        chunk({"reasoning_content": "R2"}),
        chunk({"content": "A"}),
        chunk({"reasoning_content": "S"}),
        chunk({"content": "B"}, "stop"),
        "[DONE]",
    )
    mp.finish(events)
    assert mp.parts.get_parts() == [
        ThinkingPart("RR2", id="reasoning_content", provider_name="deepseek"),
        TextPart("A"),
        ThinkingPart("S", id="reasoning_content", provider_name="deepseek"),
        TextPart("B"),
    ]


def test_think_tags_split_across_chunks() -> None:
    mp = mapper()
    events = feed(
        mp,
        chunk({"content": "<think>"}),
        chunk({"content": "pondering"}),
        chunk({"content": "</think>"}),
        chunk({"content": "Answer"}, "stop"),
    )
    mp.finish(events)
    assert mp.parts.get_parts() == [
        ThinkingPart("pondering", id="content", provider_name="openai"),
        TextPart("Answer"),
    ]
    assert isinstance(events[0], PartStartEvent) and events[0].part == ThinkingPart(
        "", id="content", provider_name="openai"
    )


def test_refusal_stream() -> None:
    mp = mapper()
    events = feed(
        mp, chunk({"refusal": "I can't"}), chunk({"refusal": " help."}), chunk({}, "stop"), "[DONE]"
    )
    mp.finish(events)
    assert events == [] and mp.meta.finish_reason == "content_filter"
    assert mp.meta.provider_details is not None
    assert mp.meta.provider_details["refusal"] == "I can't help."
    assert "finish_reason" not in mp.meta.provider_details


def test_usage_only_final_chunk_and_missing_usage() -> None:
    mp = mapper()
    out = feed(mp, chunk({"content": "x"}, "stop"), "[DONE]")
    mp.finish(out)
    assert mp.meta.usage.unmeasured_requests == 1
    mp = mapper()
    out = feed(mp, chunk({"content": "x"}, "stop", usage={"prompt_tokens": 1, "completion_tokens": 1}))
    mp.finish(out)  # no [DONE], but a finish reason: a normal end
    assert mp.meta.usage.unmeasured_requests == 0 and mp.meta.usage.input_tokens == 1


def test_stream_without_done_or_finish_reason_is_a_truncation() -> None:
    mp = mapper()
    out = feed(mp, chunk({"content": "partial"}))
    with pytest.raises(ModelConnectionError, match="probably truncated") as info:
        mp.finish(out)
    assert info.value.in_stream


def test_done_without_finish_reason_defaults_to_stop_and_empty_stream_raises() -> None:
    mp = mapper()
    out = feed(mp, chunk({"content": "x"}), "[DONE]", chunk({"content": "ignored after DONE"}))
    mp.finish(out)
    assert mp.meta.finish_reason == "stop" and mp.parts.get_parts() == [TextPart("x")]
    with pytest.raises(UnexpectedModelBehavior, match="without content"):
        mapper().finish([])


def test_in_stream_error_object_raises() -> None:
    mp = mapper()
    with pytest.raises(ModelRateLimitError) as info:
        feed(
            mp,
            {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}},
        )
    assert info.value.in_stream and info.value.status_code == 429


def test_leading_whitespace_is_ignored_on_profiles_that_ask() -> None:
    mp = mapper(
        oa.OpenAIChatModel(
            "deepseek-reasoner",
            provider=Provider("deepseek", "http://u", "k"),
            profile=oa.deepseek_profile("deepseek-reasoner"),
        )
    )
    events = feed(mp, chunk({"content": "\n\n"}), chunk({"content": "Hi"}, "stop"))
    assert mp.parts.get_parts() == [TextPart("Hi")]
    assert kinds(events) == [("part_start", 0, "text")]


def test_continuous_usage_replaces() -> None:
    m = model(settings={"openai_continuous_usage_stats": True})  # type: ignore[typeddict-unknown-key]
    mp = mapper(m)
    feed(
        mp,
        chunk({"content": "a"}, usage={"prompt_tokens": 5, "completion_tokens": 1}),
        chunk({}, "stop", usage={"prompt_tokens": 5, "completion_tokens": 2}),
    )
    assert mp.meta.usage.output_tokens == 2


def test_groq_stream_mapper_reasoning_and_usage() -> None:
    m = GroqModel("openai/gpt-oss-120b", provider=Provider("groq", "https://api.groq.com", "k"))
    mp = m.stream_mapper(ModelRequestParameters(), PartsManager(), {})
    assert isinstance(mp, GroqStreamMapper)
    out = feed(
        mp,
        chunk({"reasoning": "a"}),
        chunk({"reasoning": "b"}),
        chunk({"content": "x"}),
        chunk({"reasoning": "c"}),
        chunk({}, "stop")
        | {"x_groq": {"usage": {"prompt_tokens": 3, "completion_tokens": 4, "queue_time": 0.1}}},
        "[DONE]",
    )
    mp.finish(out)
    assert mp.parts.get_parts() == [ThinkingPart("ab"), TextPart("x"), ThinkingPart("c")]
    assert (mp.meta.usage.input_tokens, mp.meta.usage.output_tokens, mp.meta.usage.details) == (3, 4, {})


def test_groq_tool_use_failed_in_stream_and_http() -> None:
    m = GroqModel("openai/gpt-oss-120b", provider=Provider("groq", "https://api.groq.com", "k"))
    mp = m.stream_mapper(ModelRequestParameters(), PartsManager(), {})
    error = {
        "error": {
            "message": "failed",
            "type": "invalid_request_error",
            "code": "tool_use_failed",
            "failed_generation": '{"name": "f", "arguments": {"a": 1}}',
            "status_code": 400,
        }
    }
    out: list[Any] = []
    mp.feed(ServerSentEvent("error", json.dumps(error)), out)
    mp.finish(out)
    [part] = mp.parts.get_parts()
    assert isinstance(part, ToolCallPart) and part.args == {"a": 1}
    exc = groq_http_error(404, {}, b'{"error": {"code": "model_not_found", "message": "x"}}', "m")
    assert isinstance(exc, ModelNotFoundError) and exc.body == {
        "error": {"code": "model_not_found", "message": "x"}
    }


def test_groq_response_parsing() -> None:
    body = {
        "id": "g1",
        "model": "qwen",
        "created": 1,
        "choices": [
            {
                "finish_reason": None,
                "message": {
                    "reasoning": "r",
                    "content": "<think>t</think>A",
                    "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": "{}"}}],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 1,
            "completion_tokens": 2,
            "queue_time": 0.5,
            "completion_tokens_details": {"reasoning_tokens": 1},
        },
    }
    response = parse_groq_completion(
        json.dumps(body).encode(), profile=oa.ChatProfile(), provider_name="groq", provider_url="u"
    )
    assert response.parts == [
        ThinkingPart("r"),
        ThinkingPart("t"),
        TextPart("A"),
        ToolCallPart("f", "{}", "c"),
    ]
    assert response.provider_details == {
        "finish_reason": None,
        "timestamp": datetime.fromtimestamp(1, tz=UTC),
    }
    assert response.finish_reason is None and response.usage.details == {"reasoning_tokens": 1}


def test_groq_request_body() -> None:
    m = GroqModel("openai/gpt-oss-120b", provider=Provider("groq", "https://api.groq.com", "k"))
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="f", strict=True)])
    body = body_of(
        [ModelRequest([SystemPromptPart("s"), UserPromptPart("hi")])],
        {"max_tokens": 9, "thinking": True},
        params,
        m=m,
    )
    assert body["n"] == 1 and body["max_tokens"] == 9 and "stream_options" not in body
    assert "strict" not in body["tools"][0]["function"]
    assert body["reasoning_format"] == "parsed" and body["reasoning_effort"] == "medium"
    request = m.build_request([], *m.prepare_request(None, None), stream=True)
    assert request.url == "https://api.groq.com/openai/v1/chat/completions"


# =================================================================================================
# Fuzzing: arbitrary JSON only ever raises trio_direct's own errors
# =================================================================================================

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
chunk_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values,
        "model": json_values,
        "created": json_values,
        "usage": json_values,
        "error": json_values,
        "choices": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "finish_reason": json_values,
                    "logprobs": json_values,
                    "delta": st.fixed_dictionaries(
                        {},
                        optional={
                            "content": json_values,
                            "reasoning": json_values,
                            "reasoning_content": json_values,
                            "refusal": json_values,
                            "tool_calls": st.lists(
                                st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "index": json_values,
                                        "id": json_values,
                                        "function": json_values,
                                    },
                                ),
                                max_size=3,
                            )
                            | json_values,
                        },
                    )
                    | json_values,
                    "message": json_values,
                },
            ),
            max_size=2,
        )
        | json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(json_values, chunk_like))
def test_parse_response_fuzz(value: Any) -> None:
    for m in (model(), GroqModel("g", provider=Provider("groq", "http://u", "k"))):
        try:
            parse(value, m)
        except TrioDirectError:
            pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.one_of(chunk_like, json_values), max_size=5))
def test_chunk_mapper_fuzz(chunks: list[Any]) -> None:
    for make in (
        mapper,
        lambda: GroqModel("g", provider=Provider("groq", "http://u", "k")).stream_mapper(
            ModelRequestParameters(), PartsManager(), {}
        ),
    ):
        mp = make()
        out: list[Any] = []
        try:
            for value in chunks:
                mp.feed(ServerSentEvent(None, json.dumps(value)), out)
            mp.finish(out)
        except TrioDirectError:
            pass
