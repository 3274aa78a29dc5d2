"""trio_direct.models.mistral: pure request building, response parsing, chunk mapping, partial JSON.

Request bodies are checked against ``reference/providers/mistral.md`` (observed from pydantic-ai 2.68
on mistralai 3.7) and against the bodies pydantic-ai sent in the conformance recordings; no sockets here
(see test_mistral_stream.py for the loopback tests). The partial JSON reader and the output-tool check
are compared with pydantic-ai's own code (pydantic_core, and the upstream functions read from the
installed source, since ``mistralai`` itself is not installed).
"""

from __future__ import annotations

import ast
import functools
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import orjson
import pytest
from hypothesis import HealthCheck, given, settings

from tests import strategies as tds
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
from trio_direct.events import PartDeltaEvent, PartStartEvent
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
from trio_direct.models import _prepare as prep
from trio_direct.models import infer_model
from trio_direct.models import mistral as mi
from trio_direct.models.base import Provider
from trio_direct.settings import ModelSettings, ToolOrOutput
from trio_direct.tools import InstructionPart, ModelRequestParameters, OutputObjectDefinition, ToolDefinition

KEY = "mistral-test-secret-key-123"
GOLDENS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "goldens" / "mistral"


def model(name: str = "mistral-large-latest", base_url: str = "https://api.mistral.ai") -> mi.MistralModel:
    return mi.MistralModel(name, provider=Provider("mistral", base_url, KEY))


def body_of(
    messages: list[Any],
    settings: dict[str, Any] | None = None,
    params: ModelRequestParameters | None = None,
    *,
    name: str = "mistral-large-latest",
    stream: bool = False,
) -> dict[str, Any]:
    m = model(name)
    merged, prepared = m.prepare_request(settings, params)  # type: ignore[arg-type]
    request = m.build_request(messages, merged, prepared, stream=stream)
    parsed: dict[str, Any] = orjson.loads(request.body)
    return parsed


def hi() -> list[Any]:
    return [ModelRequest([UserPromptPart("hi")])]


def tools(*names: str, kind: str = "function") -> list[ToolDefinition]:
    return [ToolDefinition(name=n, kind=kind) for n in names]  # type: ignore[arg-type]


# =================================================================================================
# Request: the body, settings and headers
# =================================================================================================


def test_reference_body_byte_for_byte() -> None:
    """mistral.md §2: the verified non-streamed body, key order included."""
    messages = [
        ModelRequest([SystemPromptPart("sys1"), UserPromptPart("hello")], instructions="Be terse."),
    ]
    m = model()
    merged, params = m.prepare_request(None, None)
    request = m.build_request(messages, merged, params, stream=False)
    assert request.body == (
        b'{"model":"mistral-large-latest",'
        b'"messages":[{"content":"sys1","role":"system"},{"content":"Be terse.","role":"system"},'
        b'{"content":"hello","role":"user"}],'
        b'"top_p":1.0,"stream":false,"stop":null,"presence_penalty":null,"frequency_penalty":null,"n":1}'
    )
    assert request.url == "https://api.mistral.ai/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"


def test_stream_presence_rules() -> None:
    """§2 table: `n` only with tools and `top_p` null without tools or output tools, when streaming."""
    assert body_of(hi(), stream=True) == {
        "model": "mistral-large-latest",
        "messages": [{"content": "hi", "role": "user"}],
        "top_p": None,
        "stream": True,
        "stop": None,
        "presence_penalty": None,
        "frequency_penalty": None,
    }
    with_tools = body_of(hi(), params=ModelRequestParameters(function_tools=tools("a")), stream=True)
    assert (with_tools["n"], with_tools["top_p"], with_tools["tool_choice"]) == (1, 1.0, "auto")
    output_only = ModelRequestParameters(
        output_tools=tools("final_result", kind="output"), allow_text_output=False
    )
    body = body_of(hi(), params=output_only, stream=True)
    assert (body["n"], body["top_p"], body["tool_choice"]) == (1, 1.0, "any")
    # tool_choice='none' with output tools allowed as text: no tools go out, but top_p still defaults to 1.0
    text_or_output = ModelRequestParameters(
        function_tools=tools("a"), output_tools=tools("final_result", kind="output")
    )
    body = body_of(hi(), {"tool_choice": "none"}, text_or_output, stream=True)
    assert body["top_p"] == 1.0 and body["tool_choice"] == "auto"
    assert [t["function"]["name"] for t in body["tools"]] == ["final_result"]
    request = model().build_request(hi(), ModelSettings(), ModelRequestParameters(), stream=True)
    assert request.headers["accept"] == "text/event-stream"


def test_settings_mapping() -> None:
    settings = {
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "seed": 7,
        "stop_sequences": ["END"],
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "parallel_tool_calls": False,
        "mistral_prompt_cache_key": "k1",
        # never sent (MistralModel.unsupported_settings); the tuning knobs are ignored silently
        "logit_bias": {"1": 2},
        "service_tier": "flex",
        "top_k": 3,
        "timeout": 12.0,
        "max_retries": 0,
    }
    body = body_of(hi(), settings, ModelRequestParameters(function_tools=tools("a")))
    assert list(body) == [
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_tokens",
        "stream",
        "stop",
        "random_seed",
        "tools",
        "tool_choice",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "parallel_tool_calls",
        "prompt_cache_key",
    ]
    assert {k: v for k, v in body.items() if k not in ("messages", "tools")} == {
        "model": "mistral-large-latest",
        "temperature": 0.5,
        "top_p": 0.9,
        "max_tokens": 100,
        "stream": False,
        "stop": ["END"],
        "random_seed": 7,
        "tool_choice": "auto",
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "n": 1,
        "parallel_tool_calls": False,
        "prompt_cache_key": "k1",
    }


def test_timeout_setting_becomes_an_httpx_timeout() -> None:
    m = model()
    merged, params = m.prepare_request({"timeout": 3.0}, None)
    request = m._with_timeout(m.build_request(hi(), merged, params, stream=False), merged)  # pyright: ignore[reportPrivateUsage]
    assert request.timeout is not None and request.timeout.read == 3.0


@pytest.mark.parametrize("name", ["extra_headers", "extra_body"])
def test_guarantee_settings_warn_and_are_not_sent(name: str) -> None:
    value = {"x-custom": "1"} if name == "extra_headers" else {"custom": True}
    m = model()
    merged, params = m.prepare_request({name: value}, None)  # type: ignore[misc]
    with pytest.warns(UserWarning, match=f"`{name}` setting is not supported by model 'mistral:"):
        request = m.build_request(hi(), merged, params, stream=False)
    assert "custom" not in orjson.loads(request.body) and "x-custom" not in request.headers


@pytest.mark.parametrize(
    ("name", "thinking", "expected"),
    [
        ("mistral-medium-latest", True, "high"),
        ("mistral-medium-latest", "low", "high"),
        ("mistral-small-2603", "xhigh", "high"),
        ("magistral-medium-latest", False, "none"),
        ("mistral-large-4", "minimal", "high"),
        ("magistral-medium-2509", True, None),  # dated magistral: always on, nothing sent
        ("magistral-medium-2509", False, None),
        ("mistral-large-latest", True, None),  # no reasoning: the setting is dropped
        ("mistral-medium-2505", True, None),
        ("mistral-medium-latest", None, None),
    ],
)
def test_thinking_becomes_reasoning_effort(name: str, thinking: Any, expected: str | None) -> None:
    settings = {} if thinking is None else {"thinking": thinking}
    assert body_of(hi(), settings, name=name).get("reasoning_effort") == expected
    params = ModelRequestParameters(thinking=thinking)
    assert body_of(hi(), None, params, name=name).get("reasoning_effort") == expected


def test_profiles() -> None:
    assert mi.mistral_profile("magistral-small-latest") == mi.MistralProfile(supports_thinking=True)
    assert mi.mistral_profile("magistral-small-2509").thinking_always_enabled
    assert mi.mistral_profile("codestral-latest") == mi.MistralProfile()


def test_conformance_request_bodies_match_pydantic_ai() -> None:
    """The bodies pydantic-ai 2.68 sent for the recorded cases, built here from the same inputs."""
    goldens = sorted(GOLDENS.glob("*.json"))
    if not goldens:
        pytest.skip(f"no goldens in {GOLDENS}")
    for path in goldens:
        golden = json.loads(path.read_text())
        case = golden["case"]
        params = ModelRequestParameters(
            function_tools=[
                ToolDefinition(name=t["name"], parameters_json_schema=t["parameters_json_schema"])
                for t in case.get("tools") or []
            ]
        )
        m = model(case["model"])
        merged, prepared = m.prepare_request(golden["model_settings"] or None, params)
        request = m.build_request(
            [ModelRequest.user_text_prompt(golden["prompt"])],
            merged,
            prepared,
            stream=case["mode"] == "stream",
        )
        sent = golden["requests"][0]
        assert orjson.loads(request.body) == sent["body"], path.name
        assert "/" + request.url.split("/", 3)[3] == sent["path"]


# =================================================================================================
# Request: messages
# =================================================================================================


def test_history_one_message_per_part_and_assistant_chunks() -> None:
    history: list[Any] = [
        ModelRequest([SystemPromptPart("sys"), UserPromptPart("q1"), UserPromptPart("")]),
        ModelResponse(
            [
                TextPart("first"),
                ThinkingPart("t1", signature="sig", provider_name="anthropic"),
                ToolCallPart("get", '{"city": "Rome"}', "abcDEF123"),
                ThinkingPart("t2"),
                TextPart(""),
                ToolCallPart("put", {"a": [1, 2]}, "xyzXYZ789"),
            ]
        ),
        ModelRequest(
            [
                ToolReturnPart("get", "sunny", "abcDEF123"),
                ToolReturnPart("put", {"temp": 20}, "xyzXYZ789"),
                UserPromptPart("thanks"),
            ],
            instructions="Ignored: only the latest request's instructions count.",
        ),
        ModelResponse([TextPart("bye")]),
        ModelResponse([]),  # nothing to send: omitted
        ModelRequest([SystemPromptPart("late system"), UserPromptPart("again")], instructions="Be terse."),
    ]
    assert body_of(history)["messages"] == [
        {"content": "sys", "role": "system"},
        {"content": "Be terse.", "role": "system"},
        {"content": "q1", "role": "user"},
        {"content": "", "role": "user"},
        {
            "content": [
                {
                    "type": "thinking",
                    "thinking": [{"type": "text", "text": "t1"}, {"type": "text", "text": "t2"}],
                },
                {"type": "text", "text": "first"},
                {"type": "text", "text": ""},
            ],
            "tool_calls": [
                {
                    "id": "abcDEF123",
                    "type": "function",
                    "function": {"name": "get", "arguments": '{"city":"Rome"}'},
                    "index": 0,
                },
                {
                    "id": "xyzXYZ789",
                    "type": "function",
                    "function": {"name": "put", "arguments": '{"a":[1,2]}'},
                    "index": 0,
                },
            ],
            "prefix": False,
            "role": "assistant",
        },
        {"content": "sunny", "tool_call_id": "abcDEF123", "role": "tool"},
        {"content": '{"temp":20}', "tool_call_id": "xyzXYZ789", "role": "tool"},
        {"content": [{"type": "text", "text": "OK"}], "prefix": False, "role": "assistant"},
        {"content": "thanks", "role": "user"},
        {
            "content": [{"type": "text", "text": "bye"}],
            "tool_calls": [],
            "prefix": False,
            "role": "assistant",
        },
        {"content": "late system", "role": "system"},  # system prompts stay where they are
        {"content": "again", "role": "user"},
    ]


def test_tool_call_ids_go_out_unchanged_without_a_retry() -> None:
    history: list[Any] = [
        ModelRequest([UserPromptPart("q")]),
        ModelResponse([ToolCallPart("get", "{}", "call_1")]),
        ModelRequest([ToolReturnPart("get", "ok", "call_1")]),
    ]
    messages = body_of(history)["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "call_1" and messages[2]["tool_call_id"] == "call_1"


def test_retries_as_2_68_sends_them_with_fitted_tool_call_ids() -> None:
    """§2.4/§2.5: a history with a retry prompt is prepared: IDs fitted to 9 alphanumerics."""
    history: list[Any] = [
        ModelRequest([UserPromptPart("q")]),
        ModelResponse([ToolCallPart("get", {"x": 1}, "call_1"), ToolCallPart("get", {"x": 2}, "abcDEF123")]),
        ModelRequest(
            [
                RetryPromptPart("bad x", tool_name="get", tool_call_id="call_1"),
                ToolReturnPart("get", "fine", "abcDEF123"),
            ]
        ),
        ModelResponse([TextPart("not json")]),
        ModelRequest([RetryPromptPart("Please return JSON")]),
    ]
    messages = body_of(history)["messages"]
    assert [c["id"] for c in messages[1]["tool_calls"]] == ["RksXkbv4v", "abcDEF123"]
    assert messages[2] == {"content": '{"error":"bad x"}', "tool_call_id": "RksXkbv4v", "role": "tool"}
    assert messages[3] == {"content": "fine", "tool_call_id": "abcDEF123", "role": "tool"}
    assert messages[5]["role"] == "system" and messages[5]["content"].startswith("When a user message")
    assert messages[6] == {
        "content": "Your previous response failed the application's validation (this is automated feedback, "
        "not a message from the user):\n<pyai:retry_feedback>\nPlease return JSON\n</pyai:retry_feedback>",
        "role": "user",
    }


def test_fit_tool_call_ids_collisions_and_stability() -> None:
    first = prep._hashed_tool_call_id("long-id-1", 9)  # pyright: ignore[reportPrivateUsage]
    history: list[Any] = [
        # an ID that already fits and equals the hash of a later one: the later one is rehashed
        ModelResponse([ToolCallPart("a", None, first), ToolCallPart("b", None, "long-id-1")]),
        ModelRequest([ToolReturnPart("b", "x", "long-id-1"), ToolReturnPart("a", "y", first)]),
    ]
    fitted = prep.fit_tool_call_ids(history, 9)
    calls = [p.tool_call_id for p in fitted[0].parts]
    returns = [p.tool_call_id for p in fitted[1].parts]
    rehashed = prep._hashed_tool_call_id("long-id-1#1", 9)  # pyright: ignore[reportPrivateUsage]
    assert calls == [first, rehashed] and returns == [rehashed, first]
    with pytest.raises(UserError, match="more distinct tool call IDs"):
        two_calls = ModelResponse([ToolCallPart("a", None, "x"), ToolCallPart("a", None, "y")])
        prep.fit_tool_call_ids([two_calls], 0)


@given(st.text(max_size=30))
@settings(deadline=None)  # the first example imports pydantic-ai
def test_hashed_tool_call_id_matches_pydantic_ai(tool_call_id: str) -> None:
    from pydantic_ai.models import _hashed_tool_call_id as upstream  # pyright: ignore[reportPrivateUsage]

    try:
        tool_call_id.encode()
    except UnicodeEncodeError:
        return
    assert prep._hashed_tool_call_id(tool_call_id, 9) == upstream(tool_call_id, 9)  # pyright: ignore[reportPrivateUsage]


def test_user_content_chunks() -> None:
    pdf = BinaryContent(b"%PDF-1.4", media_type="application/pdf")
    png = BinaryContent(b"\x89PNG", media_type="image/png", vendor_metadata={"detail": "low"})
    text_file = BinaryContent(b"hello text", media_type="text/plain")
    content = [
        "look",
        ImageUrl("https://x/cat.png"),
        ImageUrl("https://x/dog.png", vendor_metadata={}),
        ImageUrl("https://x/fox.png", vendor_metadata={"quality": 1}),
        png,
        pdf,
        DocumentUrl("https://x/doc.pdf"),
        text_file,
        CachePoint(),
    ]
    assert body_of([ModelRequest([UserPromptPart(content)])])["messages"] == [
        {
            "content": [
                {"type": "text", "text": "look"},
                {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
                {"type": "image_url", "image_url": {"url": "https://x/dog.png"}},
                {"type": "image_url", "image_url": {"url": "https://x/fox.png", "detail": "auto"}},
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64,iVBORw==", "detail": "low"},
                },
                {"type": "document_url", "document_url": "data:application/pdf;base64,JVBERi0xLjQ="},
                {"type": "document_url", "document_url": "https://x/doc.pdf"},
                {
                    "type": "text",
                    "text": '-----BEGIN FILE id="e52dcc" type="text/plain"-----\nhello text\n'
                    '-----END FILE id="e52dcc"-----',
                },
            ],
            "role": "user",
        }
    ]


@pytest.mark.parametrize(
    "item",
    [
        AudioUrl("https://x/a.mp3"),
        VideoUrl("https://x/v.mp4"),
        UploadedFile(file_id="f1", provider_name="mistral", media_type="application/pdf"),
        ImageUrl("https://x/i.png", force_download=True),
        DocumentUrl("https://x/d.pdf", force_download=True),
        DocumentUrl("https://x/notes.txt"),  # text documents are downloaded upstream
        DocumentUrl("https://x/sheet.xlsx"),
        DocumentUrl("https://x/no-extension"),
        BinaryContent(b"RIFF", media_type="audio/wav"),
        BinaryContent(b"\xff\xfe", media_type="text/plain"),  # not UTF-8
    ],
)
def test_items_that_cannot_be_sent_raise_user_error(item: Any) -> None:
    with pytest.raises(UserError):
        body_of([ModelRequest([UserPromptPart([item])])])


def test_tool_return_files_follow_in_a_user_message_after_ok() -> None:
    image = BinaryContent(b"\x89PNG", media_type="image/png")
    history: list[Any] = [
        ModelRequest([UserPromptPart("q")]),
        ModelResponse([ToolCallPart("get_image", "{}", "FI5qQGzDE")]),
        ModelRequest([ToolReturnPart("get_image", image, "FI5qQGzDE")]),
    ]
    messages = body_of(history)["messages"]
    identifier = image.identifier
    assert messages[2:] == [
        {"content": f"See file {identifier}.", "tool_call_id": "FI5qQGzDE", "role": "tool"},
        {"content": [{"type": "text", "text": "OK"}], "prefix": False, "role": "assistant"},
        {
            "content": [
                {
                    "type": "text",
                    "text": '<pyai:tool_result tool_name="get_image" tool_call_id="FI5qQGzDE" '
                    f'file_id="{identifier}">',
                },
                {"type": "image_url", "image_url": {"url": image.data_uri}},
                {"type": "text", "text": "</pyai:tool_result>"},
            ],
            "role": "user",
        },
    ]


def test_failed_tool_return_is_wrapped_as_error() -> None:
    history: list[Any] = [ModelRequest([ToolReturnPart("get", "boom", "abcDEF123", outcome="failed")])]
    assert body_of(history)["messages"][0]["content"] == '{"error":"boom"}'


# =================================================================================================
# Request: tools, tool_choice and output
# =================================================================================================


def test_tool_definitions_as_sent() -> None:
    schema = {"type": "object", "properties": {"x": {"type": "integer", "title": "X"}}, "required": ["x"]}
    params = ModelRequestParameters(
        function_tools=[
            ToolDefinition(name="a", parameters_json_schema=schema, description="does a", strict=True)
        ],
        output_tools=tools("final_result", kind="output"),
    )
    body = body_of(hi(), params=params)
    assert body["tools"] == [
        {"function": {"name": "a", "parameters": schema, "description": "does a"}, "type": "function"},
        {
            "function": {
                "name": "final_result",
                "parameters": {"type": "object", "properties": {}},
                "description": "",
            },
            "type": "function",
        },
    ]
    assert body["tool_choice"] == "auto"


@pytest.mark.parametrize(
    ("choice", "allow_text", "names", "expected"),
    [
        (None, True, ["a", "b", "c"], "auto"),
        ("auto", False, ["a", "b", "c", "final_result"], "any"),
        ("required", True, ["a", "b", "c"], "any"),
        (["b"], True, ["a", "b", "c"], {"type": "function", "function": {"name": "b"}}),
        (["a", "c"], True, ["a", "c"], "any"),
        (["a", "b", "c"], True, ["a", "b", "c"], "any"),
        (ToolOrOutput(function_tools=["a"]), True, ["a"], "auto"),
        ("none", True, None, None),
        # tool_choice='none' with only output tools left: one forced output tool, every tool kept
        (
            "none",
            False,
            ["a", "b", "c", "final_result"],
            {"type": "function", "function": {"name": "final_result"}},
        ),
    ],
)
def test_tool_choice_mapping(choice: Any, allow_text: bool, names: list[str] | None, expected: Any) -> None:
    output = tools("final_result", kind="output") if not allow_text else []
    params = ModelRequestParameters(
        function_tools=tools("a", "b", "c"), output_tools=output, allow_text_output=allow_text
    )
    body = body_of(hi(), {} if choice is None else {"tool_choice": choice}, params)
    if names is None:
        assert "tools" not in body and "tool_choice" not in body
    else:
        assert [t["function"]["name"] for t in body["tools"]] == names
        assert body["tool_choice"] == expected


def test_tool_choice_errors() -> None:
    with pytest.raises(UserError, match="no function tools"):
        body_of(hi(), {"tool_choice": "required"})
    with pytest.raises(UserError, match="Invalid tool names"):
        body_of(hi(), {"tool_choice": ["nope"]}, ModelRequestParameters(function_tools=tools("a")))


def test_native_output_is_refused_and_prompted_output_is_a_system_message() -> None:
    output = OutputObjectDefinition(json_schema={"type": "object", "properties": {"a": {"type": "integer"}}})
    with pytest.raises(UserError, match="Native structured output is not supported"):
        body_of(hi(), params=ModelRequestParameters(output_mode="native", output_object=output))
    params = ModelRequestParameters(output_mode="prompted", output_object=output, instruction_parts=[])
    body = body_of(hi(), params=params)
    assert "response_format" not in body
    system = body["messages"][0]
    assert system["role"] == "system" and "Always respond with a JSON object" in system["content"]
    assert body["messages"][1] == {"content": "hi", "role": "user"}
    explicit = ModelRequestParameters(instruction_parts=[InstructionPart("one"), InstructionPart("two")])
    assert [m["content"] for m in body_of(hi(), params=explicit)["messages"][:2]] == ["one", "two"]


# =================================================================================================
# Registry and environment
# =================================================================================================


def test_registry_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_BASE_URL", raising=False)
    with pytest.raises(UserError, match="MISTRAL_API_KEY"):
        infer_model("mistral:mistral-large-latest")
    with pytest.raises(UserError, match="model name missing"):
        infer_model("mistral:")
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    m = infer_model("mistral:mistral-large-latest")
    assert isinstance(m, mi.MistralModel) and m.system == "mistral" and m.base_url == "https://api.mistral.ai"
    assert m.model_id == "mistral:mistral-large-latest"
    monkeypatch.setenv("MISTRAL_BASE_URL", "http://127.0.0.1:9/")
    m = infer_model("mistral:x")
    assert isinstance(m, mi.MistralModel) and m.base_url == "http://127.0.0.1:9"
    merged, params = m.prepare_request(None, None)
    assert m.build_request(hi(), merged, params, stream=False).url == "http://127.0.0.1:9/v1/chat/completions"
    explicit = mi.MistralModel("x", api_key="k2", base_url="https://eu.example")
    assert explicit.provider.api_key == "k2" and explicit.base_url == "https://eu.example"
    assert KEY not in repr(m.provider) and KEY not in repr(m)


# =================================================================================================
# Response
# =================================================================================================


def completion(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> bytes:
    body: dict[str, Any] = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1757111400,
        "model": "magistral-medium-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 664, "completion_tokens": 747, "total_tokens": 1411},
    }
    body.update(extra)
    return orjson.dumps(body)


def parse(body: bytes) -> ModelResponse:
    return mi.parse_mistral_completion(body, provider_name="mistral", provider_url="https://api.mistral.ai")


def test_reference_response_thinking_then_text() -> None:
    content = [
        {"type": "thinking", "thinking": [{"type": "text", "text": "hmm"}, {"type": "text", "text": "so"}]},
        {"type": "text", "text": "Cross "},
        {"type": "reference", "reference_ids": [1]},
        {"type": "text", "text": "carefully."},
    ]
    response = parse(completion({"content": content, "tool_calls": None}))
    assert response.parts == [ThinkingPart("hmm"), ThinkingPart("so"), TextPart("Cross carefully.")]
    assert response.model_name == "magistral-medium-latest"
    assert response.provider_name == "mistral" and response.provider_url == "https://api.mistral.ai"
    assert response.provider_response_id == "cmpl-1" and response.finish_reason == "stop"
    assert response.provider_details == {
        "finish_reason": "stop",
        "timestamp": datetime(2025, 9, 5, 22, 30, tzinfo=UTC),
    }
    assert list(response.provider_details) == ["finish_reason", "timestamp"]
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.details) == (
        664,
        747,
        {},
    )


def test_reference_tool_call_keeps_arguments_as_received() -> None:
    call = {
        "id": "abcDEF123",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
        "index": 0,
    }
    response = parse(completion({"content": "", "tool_calls": [call]}, "tool_calls"))
    assert response.parts == [ToolCallPart("get_weather", '{"city": "Paris"}', "abcDEF123")]
    assert response.finish_reason == "tool_call"
    no_id = {"function": {"name": "f", "arguments": {"a": 1}}}
    part = parse(completion({"content": "x", "tool_calls": [no_id]})).parts[1]
    assert (
        isinstance(part, ToolCallPart) and part.args == {"a": 1} and part.tool_call_id.startswith("pyd_ai_")
    )


@pytest.mark.parametrize(
    ("raw", "mapped"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("model_length", "length"),
        ("tool_calls", "tool_call"),
        ("error", "error"),
        ("content_filter", None),
        (None, None),
    ],
)
def test_finish_reasons(raw: str | None, mapped: str | None) -> None:
    response = parse(completion({"content": "x"}, raw))
    assert response.finish_reason == mapped
    assert response.provider_details is not None and response.provider_details["finish_reason"] == raw


def test_usage_mapping() -> None:
    usage = {
        "prompt_tokens": 268,
        "completion_tokens": 5,
        "total_tokens": 273,
        "prompt_tokens_details": {"cached_tokens": 224},
        "completion_tokens_details": {"reasoning_tokens": 3},
        "num_cached_tokens": 69,
        "prompt_audio_seconds": None,
        "note": "text",
    }
    mapped = mi.map_mistral_usage(usage)
    assert (mapped.input_tokens, mapped.output_tokens, mapped.cache_read_tokens) == (268, 5, 224)
    assert mapped.output_reasoning_tokens == 3 and mapped.details == {"num_cached_tokens": 69}
    assert parse(completion({"content": "x"}, usage=None)).usage.unmeasured_requests == 1
    assert mi.map_mistral_usage({}).unmeasured_requests == 0


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"choices": []}',
        b'{"choices": [{"message": null}], "model": "m"}',
        b'{"choices": [{"message": {"content": "x"}}]}',
        b'{"choices": [{"message": {"content": 5}}], "model": "m"}',
        b'{"choices": [{"message": {"content": [{"type": "text"}]}}], "model": "m"}',
        b'{"choices": [{"message": {"content": [{"type": "thinking", "thinking": "x"}]}}], "model": "m"}',
        b'{"choices": [{"message": {"tool_calls": [{"function": {"name": 1, "arguments": "{}"}}]}}], '
        b'"model": "m"}',
        b'{"choices": [{"message": {"tool_calls": {}}}], "model": "m"}',
        b'{"choices": [{"message": {}, "finish_reason": 3}], "model": "m"}',
    ],
)
def test_unusable_200_bodies(body: bytes) -> None:
    with pytest.raises(UnexpectedModelBehavior, match="Invalid response from mistral"):
        parse(body)


@given(tds.json_values(), st.binary(max_size=40))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_parsing_raises_only_trio_direct_errors(value: Any, raw: bytes) -> None:
    candidates = [
        raw,
        orjson.dumps(value),
        completion({"content": value}),
        completion({"content": "x", "tool_calls": value}),
        completion({"content": [value]}),
        completion({"content": "x"}, usage=value, created=value, id=value),
    ]
    for body in candidates:
        try:
            parse(body)
        except TrioDirectError:
            pass


# =================================================================================================
# Errors
# =================================================================================================


@pytest.mark.parametrize(
    ("status", "body", "category"),
    [
        (
            400,
            {"object": "error", "message": "bad", "type": "invalid_request_message_error", "code": "3001"},
            ModelRequestRejectedError,
        ),
        (
            400,
            {
                "object": "error",
                "message": "too long",
                "type": "invalid_request_message_error",
                "code": "3051",
            },
            ModelContextWindowExceededError,
        ),
        (400, {"message": "bad", "code": 3051}, ModelContextWindowExceededError),
        (
            422,
            {"object": "error", "message": {"detail": [{"type": "missing", "loc": ["body"], "msg": "x"}]}},
            ModelRequestRejectedError,
        ),
        (401, {"message": "Unauthorized", "request_id": "r1"}, ModelAuthenticationError),
        (403, {"message": "Forbidden"}, ModelAuthenticationError),
        (404, {"message": "Invalid model"}, ModelNotFoundError),
        (402, {"message": "pay"}, ModelQuotaExceededError),
        (429, {"message": "Requests rate limit exceeded"}, ModelRateLimitError),
        (503, {"message": "Service unavailable"}, ModelUnavailableError),
        (503, {"message": "The model is Overloaded"}, ModelOverloadedError),
        (529, {"message": "busy"}, ModelOverloadedError),
        (500, {"message": "oops"}, ModelServerError),
        (502, "<html>Bad gateway</html>", ModelServerError),
        (408, {"message": "context_length_exceeded maximum context length"}, None),  # status alone decides
        (413, "", None),
    ],
)
def test_http_error_categories(status: int, body: Any, category: type[Exception] | None) -> None:
    raw = body.encode() if isinstance(body, str) else orjson.dumps(body)
    exc = mi.mistral_http_error(status, {"x-a": "1"}, raw, "mistral-large-latest")
    assert isinstance(exc, ModelHTTPError) and exc.status_code == status
    assert exc.body == raw.decode()  # the raw text, as 2.68 passes the SDK's body
    assert exc.model_name == "mistral-large-latest" and exc.headers == {"x-a": "1"}
    if category is None:
        assert type(exc) is ModelHTTPError
    else:
        assert isinstance(exc, category) and type(exc).__name__ == category.__name__


def test_http_error_reference_example() -> None:
    raw = (
        b'{"object":"error","message":"Prompt contains 50000 tokens",'
        b'"type":"invalid_request_message_error","param":null,"code":"3051"}'
    )
    exc = mi.mistral_http_error(400, {}, raw, "m")
    assert isinstance(exc, ModelContextWindowExceededError) and isinstance(exc, ModelHTTPError)
    assert (exc.provider_error_code, exc.provider_error_type, exc.in_stream) == (
        "3051",
        "invalid_request_message_error",
        False,
    )
    assert exc.body == raw.decode()


@given(st.integers(400, 599), st.binary(max_size=60))
def test_fuzz_http_errors(status: int, body: bytes) -> None:
    exc = mi.mistral_http_error(status, {}, body, "m")
    assert isinstance(exc, ModelHTTPError) and exc.status_code == status


# =================================================================================================
# Stream mapper
# =================================================================================================


def mapper(output_tools: list[ToolDefinition] | None = None) -> mi.MistralStreamMapper:
    return mi.MistralStreamMapper(
        PartsManager(),
        model_name="requested",
        provider_name="mistral",
        provider_url="https://api.mistral.ai",
        output_tools=output_tools or [],
    )


def feed(mp: mi.MistralStreamMapper, *chunks: Any) -> list[Any]:
    out: list[Any] = []
    for item in chunks:
        data = item if isinstance(item, str) else json.dumps(item)
        mp.feed(ServerSentEvent(None, data), out)
    return out


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "9f9d",
        "object": "chat.completion.chunk",
        "created": 1764296393,
        "model": "magistral-medium-latest",
        "choices": [{"index": 0, "delta": delta if delta is not None else {}, "finish_reason": finish}],
    }
    base.update(extra)
    return base


def think(text: str) -> dict[str, Any]:
    return {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]}


def kinds(events: list[Any]) -> list[tuple[str, int, str]]:
    return [
        (
            e.event_kind,
            e.index,
            e.part.part_kind if isinstance(e, PartStartEvent) else e.delta.part_delta_kind,
        )
        for e in events
    ]


def test_reference_stream_thinking_then_text() -> None:
    mp = mapper()
    events = feed(
        mp,
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": ""}),
        chunk(think("Okay")),
        chunk(think(", the")),
        chunk({"content": "To cross"}),
        chunk({"content": [{"type": "text", "text": " safely"}, {"type": "text", "text": "."}]}),
        chunk(
            {"content": ""},
            "stop",
            usage={"prompt_tokens": 10, "total_tokens": 242, "completion_tokens": 232},
        ),
        "[DONE]",
    )
    mp.finish(events)
    assert kinds(events) == [
        ("part_start", 0, "thinking"),
        ("part_delta", 0, "thinking"),
        ("part_start", 1, "text"),
        ("part_delta", 1, "text"),
    ]
    assert mp.parts.get_parts() == [ThinkingPart("Okay, the"), TextPart("To cross safely.")]
    meta = mp.meta
    assert (meta.model_name, meta.provider_response_id, meta.finish_reason) == (
        "magistral-medium-latest",
        "9f9d",
        "stop",
    )
    assert meta.provider_details == {
        "timestamp": datetime(2025, 11, 28, 2, 19, 53, tzinfo=UTC),
        "finish_reason": "stop",
    }
    assert list(meta.provider_details) == ["timestamp", "finish_reason"]
    assert (meta.usage.input_tokens, meta.usage.output_tokens, meta.usage.unmeasured_requests) == (10, 232, 0)


def test_whole_tool_calls_by_wire_index() -> None:
    """§4: calls arriving in separate chunks (each at position 0) are kept apart by their `index`."""
    mp = mapper()
    call_a = {
        "id": "aaaaaaaa1",
        "type": "function",
        "index": 0,
        "function": {"name": "a", "arguments": '{"x": 1}'},
    }
    call_b = {"id": "bbbbbbbb2", "type": "function", "index": 1, "function": {"name": "b", "arguments": "{}"}}
    events = feed(
        mp, chunk({"tool_calls": [call_a]}), chunk({"tool_calls": [call_b]}), chunk({}, "tool_calls")
    )
    assert kinds(events) == [("part_start", 0, "tool-call"), ("part_start", 1, "tool-call")]
    assert mp.parts.get_parts() == [
        ToolCallPart("a", '{"x": 1}', "aaaaaaaa1"),
        ToolCallPart("b", "{}", "bbbbbbbb2"),
    ]
    assert mp.meta.finish_reason == "tool_call"


def test_tool_call_continuation_fragments_null_id_and_empty_name() -> None:
    mp = mapper()
    events = feed(
        mp,
        chunk(
            {"tool_calls": [{"id": "callid123", "index": 0, "function": {"name": "f", "arguments": '{"a"'}}]}
        ),
        chunk({"tool_calls": [{"id": "null", "index": 0, "function": {"name": "", "arguments": ": 1}"}}]}),
    )
    assert isinstance(events[1], PartDeltaEvent)
    assert mp.parts.get_parts() == [ToolCallPart("f", '{"a": 1}', "callid123")]
    # no `index`: the SDK's default 0; dict arguments stay a dict
    mp = mapper()
    feed(mp, chunk({"tool_calls": [{"id": "null", "function": {"name": "g", "arguments": {"k": 2}}}]}))
    (part,) = mp.parts.get_parts()
    assert isinstance(part, ToolCallPart) and (part.tool_name, part.args) == ("g", {"k": 2})
    assert part.tool_call_id.startswith("pyd_ai_")


def test_output_tool_streaming_quirk() -> None:
    """§4 (verified): `{"a": 42}` in 3 pieces with output tool final_result → one ToolCallPart, no text."""
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    mp = mapper([ToolDefinition(name="final_result", parameters_json_schema=schema, kind="output")])
    events = feed(
        mp, chunk({"content": '{"a"'}), chunk({"content": ": 4"}), chunk({"content": "2}"}), "[DONE]"
    )
    mp.finish(events)
    # `{"a": 4` could still become `{"a": 4.5}`, which is no integer: the call starts with the last piece
    assert [type(e).__name__ for e in events] == ["PartStartEvent"]
    (part,) = mp.parts.get_parts()
    assert isinstance(part, ToolCallPart) and (part.tool_name, part.args) == ("final_result", {"a": 42})
    assert part.tool_call_id.startswith("pyd_ai_")
    # not JSON at all: upstream fails with a ValueError, here a typed error quoting the text
    mp = mapper([ToolDefinition(name="final_result", parameters_json_schema=schema, kind="output")])
    with pytest.raises(UnexpectedModelBehavior, match="not JSON for an output tool"):
        feed(mp, chunk({"content": "Sure!"}))


def test_stream_endings() -> None:
    mp = mapper()
    feed(mp, chunk({"content": "x"}))
    with pytest.raises(ModelConnectionError, match="truncated"):
        mp.finish([])
    mp = mapper()
    feed(mp, chunk({"content": "x"}, "stop"))
    mp.finish([])
    assert mp.meta.usage.unmeasured_requests == 1 and mp.meta.model_name == "magistral-medium-latest"
    with pytest.raises(UnexpectedModelBehavior, match="ended without content"):
        mapper().finish([])
    mp = mapper()
    feed(mp, {"id": "x", "model": "m", "choices": []}, "[DONE]", "garbage after done")
    mp.finish([])
    assert mp.meta.provider_details is None and mp.meta.model_name == "m"


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (
            {
                "object": "error",
                "message": "Prompt too long",
                "type": "invalid_request_error",
                "code": "3051",
            },
            ModelContextWindowExceededError,
        ),
        ({"error": {"message": "Service overloaded", "code": None}}, ModelOverloadedError),
        ({"object": "error", "message": "", "code": 1000}, ModelAPIError),
    ],
)
def test_in_stream_errors(error: dict[str, Any], category: type[Exception]) -> None:
    mp = mapper()
    feed(mp, chunk({"content": "x"}))
    with pytest.raises(ModelAPIError) as info:
        feed(mp, error)
    assert type(info.value) is category and info.value.in_stream
    assert not isinstance(info.value, ModelHTTPError)


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[1]",
        '{"choices": 1}',
        '{"choices": [1]}',
        '{"choices": [{"delta": 1}]}',
        '{"choices": [{"delta": {"content": 1}}]}',
        '{"choices": [{"delta": {"tool_calls": [{"function": {"name": 1}}]}}]}',
        '{"choices": [{"delta": {"tool_calls": [{"index": "0", "function": {}}]}}]}',
        '{"choices": [{"delta": {}, "finish_reason": 1}]}',
        '{"choices": [], "usage": 5}',
    ],
)
def test_invalid_chunks(data: str) -> None:
    with pytest.raises(UnexpectedModelBehavior, match="Invalid chunk in the Mistral stream"):
        feed(mapper(), data)


_chunk_values = st.recursive(
    tds.json_values(),
    lambda inner: (
        st.dictionaries(
            st.sampled_from(
                [
                    "choices",
                    "delta",
                    "content",
                    "tool_calls",
                    "function",
                    "name",
                    "arguments",
                    "index",
                    "id",
                    "type",
                    "text",
                    "thinking",
                    "usage",
                    "finish_reason",
                    "model",
                    "created",
                    "error",
                    "object",
                ]
            ),
            inner,
            max_size=4,
        )
        | st.lists(inner, max_size=3)
    ),
    max_leaves=12,
)


@given(st.lists(_chunk_values | st.text(max_size=10), max_size=5), st.booleans())
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_fuzz_stream_raises_only_trio_direct_errors(chunks: list[Any], with_output_tools: bool) -> None:
    mp = mapper(tools("final_result", kind="output") if with_output_tools else None)
    out: list[Any] = []
    try:
        for item in chunks:
            mp.feed(ServerSentEvent(None, item if isinstance(item, str) else json.dumps(item)), out)
        mp.finish(out)
    except TrioDirectError:
        pass


# =================================================================================================
# Partial JSON and the output-tool check, against pydantic-ai's own code
# =================================================================================================


def _oracle(text: str, partial: bool) -> tuple[str, str]:
    from pydantic_core import from_json

    try:
        return "ok", repr(from_json(text, allow_partial="trailing-strings" if partial else False))
    except ValueError:
        return "error", ""


def _ours(text: str, partial: bool) -> tuple[str, str]:
    try:
        return "ok", repr((mi.parse_partial_json if partial else mi.parse_json)(text))
    except mi.JSONSyntaxError:
        return "error", ""


_json_docs = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


@given(_json_docs, st.booleans(), st.booleans())
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_partial_json_matches_pydantic_core_on_every_prefix(
    value: Any, ascii_only: bool, indent: bool
) -> None:
    doc = json.dumps(value, ensure_ascii=ascii_only, indent=1 if indent else None)
    for end in range(len(doc) + 1):
        for partial in (True, False):
            assert _ours(doc[:end], partial) == _oracle(doc[:end], partial), (doc[:end], partial)


@given(
    st.text(st.sampled_from(list('{}[]",:. \n-+eE0123456789truefalsnNaIiy\\/u\tb8d')), max_size=16),
    st.sampled_from(["", "{", '{"a": ', "[", '"']),
)
@settings(max_examples=1000)
def test_partial_json_matches_pydantic_core_on_noise(text: str, prefix: str) -> None:
    for partial in (True, False):
        assert _ours(prefix + text, partial) == _oracle(prefix + text, partial)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 4', {"a": 4}),
        ('{"a": 4.', {}),
        ('{"a": "x\\u00', {"a": "x"}),
        ('{"a": [1, "b', {"a": [1, "b"]}),
        ('{"a": 1 x}', {"a": 1}),
        ('{"a": NaN1', {"a": math.nan}),
    ],
)
def test_partial_json_examples(text: str, expected: Any) -> None:
    assert repr(mi.parse_partial_json(text)) == repr(expected)


def test_recursion_limit_as_jiter() -> None:
    assert mi.parse_json("[" * 201 + "]" * 201) is not None
    for text in ("[" * 202 + "]" * 202, '{"a":' * 201 + "1" + "}" * 201):
        with pytest.raises(mi.JSONSyntaxError, match="recursion"):
            mi.parse_json(text)
    assert mi.parse_partial_json('{"a":' * 201) is not None


@functools.cache
def _upstream_output_tool_check() -> Callable[[str, dict[str, ToolDefinition]], Any]:
    """pydantic-ai 2.68's `_try_get_output_tool_from_text` and helpers, read from the installed source
    (the module itself needs the `mistralai` SDK, which is not installed)."""
    import pydantic_ai.models

    source = (Path(pydantic_ai.models.__file__).parent / "mistral.py").read_text()
    tree = ast.parse(source)
    wanted_methods = {
        "_try_get_output_tool_from_text",
        "_output_json_matches_schema",
        "_validate_required_json_schema",
        "_matches_param_type",
    }
    body: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "MistralStreamedResponse":
            methods = [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name in wanted_methods]
            assert len(methods) == len(wanted_methods)
            body.append(ast.ClassDef("MistralStreamedResponse", [], [], methods, [], type_params=[]))
        elif (isinstance(node, ast.FunctionDef) and node.name == "_matches_json_type") or (
            isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "VALID_JSON_TYPE_MAPPING"
        ):
            body.append(node)
    module = ast.fix_missing_locations(ast.Module(body, type_ignores=[]))
    import pydantic_core
    from pydantic import JsonValue
    from pydantic_ai.messages import ToolCallPart as UpstreamToolCallPart

    namespace: dict[str, Any] = {
        "__name__": "upstream_mistral",
        "annotations": __import__("__future__").annotations,
        "pydantic_core": pydantic_core,
        "JsonValue": JsonValue,
        "Any": Any,
        "cast": lambda _t, v: v,
        "ToolCallPart": UpstreamToolCallPart,
        "ToolDefinition": Any,
    }
    exec(compile("from __future__ import annotations\n", "upstream", "exec"), namespace)
    exec(compile(module, "upstream_mistral", "exec"), namespace)
    return namespace["MistralStreamedResponse"]._try_get_output_tool_from_text  # type: ignore[no-any-return]


_SCHEMAS = [
    {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]},
    {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "string"}},
        "required": ["a", "b"],
    },
    {
        "type": "object",
        "properties": {
            "xs": {"type": "array", "items": {"type": "integer"}},
            "o": {"type": "object", "properties": {"k": {"type": "boolean"}}, "required": ["k"]},
        },
        "required": ["xs", "o"],
    },
    {
        "type": "object",
        "properties": {"n": {"type": "null"}, "t": {"type": "array", "items": [{"type": "string"}]}},
        "required": ["n", "t"],
    },
    {"type": "object", "properties": {}},
]


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.integers(-50, 50) | st.floats(-5, 5) | st.text(max_size=3),
            "b": st.text(max_size=3) | st.integers(0, 9),
            "xs": st.lists(st.integers(0, 99) | st.floats(0, 2), max_size=3),
            "o": st.fixed_dictionaries({}, optional={"k": st.booleans() | st.integers(0, 1)}),
            "n": st.none() | st.integers(0, 3),
            "t": st.lists(st.text(max_size=2), max_size=2),
        },
    ),
    st.sets(st.integers(0, len(_SCHEMAS) - 1), min_size=1, max_size=3),
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_output_tool_check_matches_pydantic_ai(value: dict[str, Any], schema_indexes: set[int]) -> None:
    upstream = _upstream_output_tool_check()
    output_tools = [
        ToolDefinition(name=f"out{i}", parameters_json_schema=_SCHEMAS[i], kind="output")
        for i in sorted(schema_indexes)
    ]
    doc = json.dumps(value)
    for end in range(1, len(doc) + 1):
        text = doc[:end]
        try:
            found = upstream(text, {t.name: t for t in output_tools})
            expected = ("ok", None if found is None else (found.tool_name, repr(found.args)))
        except ValueError:
            expected = ("error", None)
        try:
            ours = mi.output_tool_call_from_text(text, output_tools)
            actual = ("ok", None if ours is None else (ours[0], repr(ours[1])))
        except mi.JSONSyntaxError:
            actual = ("error", None)
        assert actual == expected, text


def test_output_tool_check_with_unreadable_schema_never_matches() -> None:
    odd = ToolDefinition(
        name="odd",
        parameters_json_schema={"properties": {"a": {"type": ["string", "null"]}}, "required": ["a"]},
    )
    assert mi.output_tool_call_from_text('{"a": "x"}', [odd]) is None
