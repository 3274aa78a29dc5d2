"""``trio_direct.models.anthropic`` without sockets: request building, response parsing, the stream mapper.

Most expectations are not hand-written: ``tests/data/anthropic_requests.json`` and
``tests/data/anthropic_responses.json`` hold what pydantic-ai-slim 2.68's ``AnthropicModel`` (with the
``anthropic`` 2.12 SDK) sent and returned for each scenario, captured with a mock transport. Histories
cross over as pydantic-ai's own JSON, loaded with :mod:`trio_direct.serialization`. The loopback
(real socket) tests are in ``test_anthropic_stream.py``.
"""

from __future__ import annotations

import json
import types
import warnings
from pathlib import Path
from typing import Any

import attrs
import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_direct
from tests.captured import first_difference, params_from_capture, settings_from_capture
from trio_direct import (
    BinaryContent,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    UserPromptPart,
    use_http_client,
)
from trio_direct._parts import EventDecorator, PartsManager
from trio_direct._sse import ServerSentEvent, SSEDecoder
from trio_direct.events import (
    FinalResultEvent,
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
)
from trio_direct.exceptions import (
    ModelAPIError,
    ModelHTTPError,
    ModelOverloadedError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.messages import ModelMessage
from trio_direct.models import anthropic as an
from trio_direct.models import infer_model
from trio_direct.models.base import Provider
from trio_direct.serialization import messages_from_python, messages_to_python
from trio_direct.settings import ModelSettings

DATA = Path(__file__).parent / "data"
REQUEST_CASES: list[dict[str, Any]] = json.loads((DATA / "anthropic_requests.json").read_text())
RESPONSE_CASES: list[dict[str, Any]] = json.loads((DATA / "anthropic_responses.json").read_text())

#: Deliberate: upstream streams a non-streamed request when its defaulted `max_tokens` is large; we never do.
UPSTREAM_STREAMS_BEHIND_THE_SCENES = {"max_tokens_default_budget"}


# --------------------------------------------------------------------------------------------------
# helpers


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """Each scenario's body, ``anthropic-beta`` header and warnings are what pydantic-ai 2.68 sent."""
    messages = messages_from_python(case["messages"])
    expected = case["expected"]
    settings = settings_from_capture(case["settings"])
    params = params_from_capture(case["params"], messages)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            # upstream's NotImplementedError/RuntimeError for unsendable content is a UserError here
            with pytest.raises(UserError):
                an.build_messages_request(case["model"], messages, settings, params, stream=case["stream"])
            return
        body, headers = an.build_messages_request(
            case["model"], messages, settings, params, stream=case["stream"]
        )
    expected_body = dict(expected["body"])
    if case["name"] in UPSTREAM_STREAMS_BEHIND_THE_SCENES:
        assert expected_body["stream"] is True and body["stream"] is False
        expected_body["stream"] = False
    assert first_difference(orjson.loads(orjson.dumps(body)), expected_body) is None
    assert set((headers.get("anthropic-beta") or "").split(",")) == set((expected["beta"] or "").split(","))
    assert [str(w.message) for w in caught] == expected["warnings"]
    for name, value in expected["extra_headers"].items():
        assert {k.lower(): v for k, v in headers.items()}[name] == value


def test_http_request_auth_headers_and_url() -> None:
    model = an.AnthropicModel("claude-sonnet-4-5", api_key="sk-ant-secret", base_url="https://proxy.example/")
    request = model.build_request(
        [ModelRequest.user_text_prompt("hi")],
        ModelSettings(max_tokens=10),
        ModelRequestParameters(),
        stream=False,
    )
    assert request.url == "https://proxy.example/v1/messages"
    assert request.headers["x-api-key"] == "sk-ant-secret"
    assert request.headers["anthropic-version"] == an.ANTHROPIC_VERSION == "2023-06-01"
    assert request.headers["content-type"] == "application/json"
    assert "anthropic-beta" not in request.headers
    assert orjson.loads(request.body) == {
        "max_tokens": 10,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "model": "claude-sonnet-4-5",
        "stream": False,
    }
    streamed = model.build_request(
        [ModelRequest.user_text_prompt("hi")],
        ModelSettings(max_tokens=10, extra_headers={"anthropic-beta": "a, b", "X-Trace": "1"}),
        ModelRequestParameters(),
        stream=True,
    )
    assert streamed.headers["anthropic-beta"] == "a,b"
    assert streamed.headers["X-Trace"] == "1"
    assert streamed.headers["accept"] == "text/event-stream"
    assert orjson.loads(streamed.body)["stream"] is True
    # the key never shows in a repr
    assert (
        "secret" not in repr(model) and "secret" not in repr(model.provider) and "secret" not in repr(request)
    )


def test_a_non_streamed_request_is_never_streamed() -> None:
    """Unlike upstream, the model's full output budget is requested without switching to a stream."""
    model = an.AnthropicModel("claude-sonnet-4-5", api_key="k")
    request = model.build_request(
        [ModelRequest.user_text_prompt("hi")], ModelSettings(), ModelRequestParameters(), stream=False
    )
    body = orjson.loads(request.body)
    assert body["max_tokens"] == 64000 and body["stream"] is False


def test_environment_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with pytest.raises(UserError, match="ANTHROPIC_API_KEY"):
        infer_model("anthropic:claude-sonnet-4-5")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "env-key")
    model = infer_model("anthropic:claude-sonnet-4-5")
    assert isinstance(model, an.AnthropicModel)
    assert model.base_url == "https://api.anthropic.com"
    assert model.model_id == "anthropic:claude-sonnet-4-5"
    assert model.provider.api_key == "env-key"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9/")
    model = infer_model("anthropic:claude-haiku-4-5")
    assert model.base_url == "http://127.0.0.1:9"
    # explicit arguments beat the environment
    explicit = an.AnthropicModel("claude-haiku-4-5", api_key="arg-key", base_url="https://x.example")
    assert (explicit.provider.api_key, explicit.base_url) == ("arg-key", "https://x.example")
    with pytest.raises(UserError, match="model name"):
        infer_model("anthropic:")
    ready = an.AnthropicModel("claude-x", provider=Provider("anthropic", "https://p.example", "k"))
    assert ready.base_url == "https://p.example"


def test_missing_key_error_does_not_leak_other_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-show")
    with pytest.raises(UserError) as info:
        an.AnthropicModel("claude-sonnet-4-5")
    assert "sk-should-not-show" not in str(info.value)


# --------------------------------------------------------------------------------------------------
# request building: the pieces, by hand


def _body(messages: list[ModelMessage], model: str = "claude-sonnet-4-5", **settings: Any) -> dict[str, Any]:
    body, _ = an.build_messages_request(
        model, messages, ModelSettings(max_tokens=100, **settings), ModelRequestParameters(), stream=False
    )
    return body


def test_user_content_blocks() -> None:
    body = _body(
        [
            ModelRequest(
                [
                    UserPromptPart(
                        [
                            "see",
                            BinaryContent(b"\x89PNG", media_type="image/png"),
                            trio_direct.DocumentUrl("https://e.x/a.pdf"),
                            trio_direct.CachePoint(ttl="1h"),
                        ]
                    )
                ]
            )
        ]
    )
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "see"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="}},
        {
            "type": "document",
            "source": {"type": "url", "url": "https://e.x/a.pdf"},
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        },
    ]


@pytest.mark.parametrize(
    "item",
    [
        trio_direct.AudioUrl("https://e.x/a.mp3"),
        trio_direct.VideoUrl("https://e.x/a.mp4"),
        BinaryContent(b"x", media_type="audio/wav"),
        BinaryContent(b"x", media_type="text/csv"),
        trio_direct.DocumentUrl("https://e.x/a.txt"),
        trio_direct.ImageUrl("https://e.x/a.png", force_download=True),
        trio_direct.UploadedFile("file_1", "openai"),
    ],
)
def test_content_anthropic_cannot_take_is_a_user_error(item: Any) -> None:
    with pytest.raises(UserError):
        _body([ModelRequest([UserPromptPart(["x", item])])])


def test_uploaded_files() -> None:
    body = _body(
        [
            ModelRequest(
                [
                    UserPromptPart(
                        [
                            trio_direct.UploadedFile("file_img", "anthropic", media_type="image/png"),
                            trio_direct.UploadedFile("file_doc", "anthropic", media_type="application/pdf"),
                        ]
                    )
                ]
            )
        ]
    )
    assert body["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "file", "file_id": "file_img"}},
        {"type": "document", "source": {"type": "file", "file_id": "file_doc"}},
    ]


def test_thinking_from_anthropic_goes_back_signed_and_foreign_thinking_as_text() -> None:
    body = _body(
        [
            ModelRequest.user_text_prompt("q"),
            ModelResponse(
                [
                    ThinkingPart("mine", signature="SIG", provider_name="anthropic"),
                    ThinkingPart("", id="redacted_thinking", signature="ENC", provider_name="anthropic"),
                    TextPart("answer"),
                ],
                provider_name="anthropic",
            ),
            ModelResponse([ThinkingPart("theirs", signature="x", provider_name="openai"), TextPart("a2")]),
        ]
    )
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "mine", "signature": "SIG"},
            {"type": "redacted_thinking", "data": "ENC"},
            {"type": "text", "text": "answer"},
        ],
    }
    assert body["messages"][2] == {
        "role": "user",
        "content": [{"type": "text", "text": "<assistant_thinking>\ntheirs\n</assistant_thinking>"}],
    }
    assert body["messages"][3] == {"role": "assistant", "content": [{"type": "text", "text": "a2"}]}


def test_tool_results_and_retries() -> None:
    body = _body(
        [
            ModelRequest.user_text_prompt("q"),
            ModelResponse([ToolCallPart("f", {"a": 1}, "t1"), ToolCallPart("f", "oops", "t2")]),
            ModelRequest(
                [
                    trio_direct.ToolReturnPart("f", {"ok": True}, "t1"),
                    trio_direct.RetryPromptPart("bad", tool_name="f", tool_call_id="t2"),
                ]
            ),
        ]
    )
    assert body["messages"][1]["content"][1] == {
        "type": "tool_use",
        "id": "t2",
        "name": "f",
        "input": {"INVALID_JSON": "oops"},
    }
    assert body["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [{"type": "text", "text": '{"ok":true}'}],
            "is_error": False,
        },
        {
            "type": "tool_result",
            "tool_use_id": "t2",
            "content": [{"type": "text", "text": "bad"}],
            "is_error": True,
        },
    ]


def test_temperature_top_p_top_k_stop_sequences_and_extra_body() -> None:
    body = _body(
        [ModelRequest.user_text_prompt("q")],
        temperature=0.1,
        top_p=0.2,
        top_k=3,
        stop_sequences=["X"],
        extra_body={"top_k": 9, "custom": True},
    )
    assert (body["temperature"], body["top_p"], body["top_k"], body["stop_sequences"], body["custom"]) == (
        0.1,
        0.2,
        9,
        ["X"],
        True,
    )


def test_sampling_settings_dropped_with_a_warning_where_the_model_rejects_them() -> None:
    with pytest.warns(UserWarning, match="not supported by 'claude-opus-4-7'"):
        body = _body([ModelRequest.user_text_prompt("q")], model="claude-opus-4-7", temperature=0.1)
    assert "temperature" not in body


def test_thinking_budget_and_max_tokens_default() -> None:
    body, _ = an.build_messages_request(
        "claude-3-7-sonnet-latest",
        [ModelRequest.user_text_prompt("q")],
        ModelSettings(thinking="high"),
        ModelRequestParameters(),
        stream=True,
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert body["max_tokens"] == 16384 + 4096
    params = ModelRequestParameters(thinking="low")  # the parameters' thinking wins over the setting's
    body, _ = an.build_messages_request(
        "claude-opus-4-6",
        [ModelRequest.user_text_prompt("q")],
        ModelSettings(thinking=True),
        params,
        stream=True,
    )
    assert body["thinking"] == {"type": "adaptive"} and body["output_config"] == {"effort": "low"}


def test_strict_schema_transform() -> None:
    schema = {
        "type": "object",
        "title": "Args",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "description": "count"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3},
            "kind": {"const": "a"},
        },
        "required": ["n"],
    }
    assert an.transform_schema(schema, strict=True) == {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "description": "count\n\n{minimum: 1}"},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "description": "{minItems: 3}"},
            "kind": {"enum": ["a"]},
        },
        "additionalProperties": False,
        "required": ["n"],
    }
    assert an.transform_schema(schema, strict=False)["properties"]["kind"] == {"const": "a"}
    with pytest.raises(UserError):
        an.transform_schema({"type": "object", "properties": {"x": {}}}, strict=True)


def test_profile() -> None:
    assert an.AnthropicProfile.for_model("claude-sonnet-4-5").max_output_tokens == 64000
    assert an.AnthropicProfile.for_model("claude-opus-4-6").adaptive_thinking
    assert an.AnthropicProfile.for_model("claude-3-5-haiku-latest").legacy_max_tokens
    assert not an.AnthropicProfile.for_model("claude-sonnet-5-5").forced_tool_choice
    assert an.AnthropicProfile.for_model("claude-opus-5").inline_system_prompts


# --------------------------------------------------------------------------------------------------
# responses, streams and errors against pydantic-ai 2.68

_VOLATILE = {"timestamp", "provider_url"}


def _scrub(value: Any) -> Any:
    """pydantic-ai's and our JSON made comparable: no clock or URL, generated tool-call ids masked."""
    if isinstance(value, dict):
        out = {k: _scrub(v) for k, v in value.items() if k not in _VOLATILE}
        if isinstance(out.get("tool_call_id"), str) and out["tool_call_id"].startswith("pyd_ai_"):
            out["tool_call_id"] = "<generated>"
        return out
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _event_json(event: ModelResponseStreamEvent) -> dict[str, Any]:
    dumped: dict[str, Any] = json.loads(json.dumps(attrs.asdict(event, recurse=True), default=str))  # type: ignore[arg-type]
    return dumped


def _params_for(case: dict[str, Any]) -> ModelRequestParameters:
    tools = [types.SimpleNamespace(kind="web_search")] if case.get("web_search") else []
    return ModelRequestParameters(native_tools=tools)


def _transport(case: dict[str, Any]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        default_type = "text/event-stream" if case["kind"] == "stream" else "application/json"
        headers = {"content-type": case.get("content_type", default_type), **case.get("headers", {})}
        return httpx.Response(case.get("status", 200), content=case["body"].encode(), headers=headers)

    return httpx.MockTransport(handler)


def _check_error(error: BaseException, expected: dict[str, Any]) -> None:
    assert type(error).__name__ == expected["type"], error
    if isinstance(error, ModelAPIError):
        assert getattr(error, "status_code", None) == expected["status_code"]
        assert error.in_stream == bool(expected["in_stream"])
        assert error.provider_error_type == expected["provider_error_type"]
        assert error.body == expected["body"]
    if isinstance(error, ModelHTTPError):
        # each library suggests from its own list of known names
        assert (error.suggested_model_id is None) == (expected["suggested_model_id"] is None)


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=[c["name"] for c in RESPONSE_CASES])
async def test_response_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """The same reply bytes give pydantic-ai 2.68's response (every field), events, or error."""
    model = an.AnthropicModel(case.get("model", "claude-sonnet-4-5"), api_key="k", base_url="http://test")
    expected = case["expected"]
    prompt: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
    events: list[ModelResponseStreamEvent] = []
    response: ModelResponse | None = None
    async with httpx.AsyncClient(transport=_transport(case)) as client, use_http_client(client):
        try:
            if case["kind"] == "stream":
                async with trio_direct.model_request_stream(
                    model,
                    prompt,
                    model_settings={"max_tokens": 1000},
                    model_request_parameters=_params_for(case),
                ) as stream:
                    async for event in stream:
                        events.append(event)
                    response = stream.get()
            else:
                response = await trio_direct.model_request(
                    model,
                    prompt,
                    model_settings={"max_tokens": 1000},
                    model_request_parameters=_params_for(case),
                )
        except TrioDirectError as exc:
            assert "error" in expected, f"raised {exc!r}"
            _check_error(exc, expected["error"])
            return
    assert "error" not in expected, f"expected {expected['error']['type']}"
    assert response is not None
    got = _scrub(messages_to_python([response])[0])
    assert first_difference(got, _scrub(expected["response"])) is None
    if case["kind"] == "stream":
        want = _scrub(expected["events"])
        have = _scrub([_event_json(e) for e in events])
        assert [(e["event_kind"], e.get("index")) for e in have] == [
            (e["event_kind"], e.get("index")) for e in want
        ]
        for h, w in zip(have, want, strict=True):
            for key in ("part", "delta"):
                if key in w:
                    common = {k: v for k, v in w[key].items() if k in h[key]}
                    assert {k: h[key][k] for k in common} == common, (h, w)
            for key in ("previous_part_kind", "next_part_kind", "tool_name"):
                if key in w:
                    assert h.get(key) == w[key]


# --------------------------------------------------------------------------------------------------
# the stream mapper, event by event


def sse(kind: str, **data: Any) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **data}))


MESSAGE_START = sse(
    "message_start",
    message={"id": "msg_1", "model": "claude-x-1", "usage": {"input_tokens": 5, "output_tokens": 1}},
)


def _mapper(params: ModelRequestParameters | None = None) -> tuple[an.AnthropicStreamMapper, PartsManager]:
    parts = PartsManager()
    return an.AnthropicStreamMapper(parts, params or ModelRequestParameters(), model_name="claude-x"), parts


def _feed(mapper: an.AnthropicStreamMapper, *events: ServerSentEvent) -> list[ModelResponseStreamEvent]:
    out: list[ModelResponseStreamEvent] = []
    for event in events:
        mapper.feed(event, out)
    return out


def test_mapper_text_and_meta() -> None:
    mapper, parts = _mapper()
    assert mapper.meta.model_name == "claude-x"
    out = _feed(
        mapper,
        MESSAGE_START,
        sse("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        ServerSentEvent("ping", '{"type": "ping"}'),
        sse("content_block_delta", index=0, delta={"type": "text_delta", "text": "Hi"}),
        sse("content_block_delta", index=0, delta={"type": "text_delta", "text": " there"}),
        sse("content_block_stop", index=0),
        sse("message_delta", delta={"stop_reason": "max_tokens"}, usage={"output_tokens": 7}),
        sse("message_stop"),
    )
    assert out == [
        PartStartEvent(index=0, part=TextPart("Hi")),
        PartDeltaEvent(index=0, delta=TextPartDelta(" there")),
    ]
    mapper.finish(out)
    meta = mapper.meta
    assert (meta.model_name, meta.provider_response_id, meta.finish_reason) == (
        "claude-x-1",
        "msg_1",
        "length",
    )
    assert (meta.usage.input_tokens, meta.usage.output_tokens) == (5, 7)
    assert meta.provider_details == {"finish_reason": "max_tokens"}
    assert parts.get_parts() == [TextPart("Hi there")]


def test_mapper_tool_call_with_partial_json() -> None:
    mapper, parts = _mapper()
    out = _feed(
        mapper,
        MESSAGE_START,
        sse(
            "content_block_start",
            index=0,
            content_block={"type": "tool_use", "id": "t1", "name": "f", "input": {}},
        ),
        sse("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": ""}),
        sse("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": '{"a": '}),
        sse("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": "1}"}),
        sse("content_block_stop", index=0),
    )
    assert out[0] == PartStartEvent(index=0, part=ToolCallPart("f", None, "t1"))
    assert [e.delta for e in out[1:]] == [  # type: ignore[union-attr]
        ToolCallPartDelta(args_delta="", tool_call_id="t1"),
        ToolCallPartDelta(args_delta='{"a": ', tool_call_id="t1"),
        ToolCallPartDelta(args_delta="1}", tool_call_id="t1"),
    ]
    assert parts.get_parts() == [ToolCallPart("f", '{"a": 1}', "t1")]


def test_mapper_thinking_and_signature() -> None:
    mapper, parts = _mapper()
    out = _feed(
        mapper,
        MESSAGE_START,
        sse(
            "content_block_start",
            index=0,
            content_block={"type": "thinking", "thinking": "", "signature": ""},
        ),
        sse("content_block_delta", index=0, delta={"type": "thinking_delta", "thinking": "hmm"}),
        sse("content_block_delta", index=0, delta={"type": "signature_delta", "signature": "SIG"}),
    )
    assert out == [
        PartStartEvent(index=0, part=ThinkingPart("", signature="", provider_name="anthropic")),
        PartDeltaEvent(index=0, delta=ThinkingPartDelta(content_delta="hmm")),
        PartDeltaEvent(index=0, delta=ThinkingPartDelta(signature_delta="SIG")),
    ]
    assert parts.get_parts() == [ThinkingPart("hmm", signature="SIG", provider_name="anthropic")]


def test_mapper_in_stream_errors() -> None:
    mapper, _ = _mapper()
    with pytest.raises(ModelOverloadedError) as info:
        _feed(mapper, sse("error", error={"type": "overloaded_error", "message": "Overloaded"}))
    assert isinstance(info.value, ModelHTTPError)
    assert (info.value.status_code, info.value.in_stream, info.value.model_name) == (529, True, "claude-x")
    mapper, _ = _mapper()
    with pytest.raises(ModelAPIError) as unknown:
        _feed(mapper, MESSAGE_START, sse("error", error={"type": "new_error", "message": "?"}))
    assert not isinstance(unknown.value, ModelHTTPError) and unknown.value.in_stream
    assert unknown.value.model_name == "claude-x-1"
    mapper, _ = _mapper()
    with pytest.raises(ModelAPIError):
        _feed(mapper, ServerSentEvent("error", "not json"))


def test_mapper_finish() -> None:
    mapper, _ = _mapper()
    with pytest.raises(UnexpectedModelBehavior, match="without content"):
        mapper.finish([])
    _feed(mapper, ServerSentEvent("ping", "{}"))
    with pytest.raises(UnexpectedModelBehavior, match="without content"):
        mapper.finish([])  # a ping alone is nothing
    _feed(mapper, MESSAGE_START)
    with pytest.raises(UnexpectedModelBehavior, match="message_stop"):
        mapper.finish([])
    _feed(mapper, sse("message_stop"))
    mapper.finish([])


def test_mapper_ignores_unknown_events_and_blocks() -> None:
    mapper, parts = _mapper()
    out = _feed(
        mapper,
        MESSAGE_START,
        sse("brand_new_event", x=1),
        sse("content_block_start", index=0, content_block={"type": "brand_new_block"}),
        sse("content_block_delta", index=0, delta={"type": "brand_new_delta"}),
        sse("content_block_stop", index=0),
    )
    assert out == [] and parts.get_parts() == []


@pytest.mark.parametrize(
    "event",
    [
        ServerSentEvent("content_block_delta", "[]"),
        sse("content_block_delta", index=0, delta={"type": "text_delta", "text": 5}),
        sse("content_block_delta", index=[0], delta={"type": "text_delta", "text": "x"}),
        sse("content_block_delta", index=0),
        sse("content_block_start", index=0, content_block="text"),
        sse("message_start", message=[]),
        sse("content_block_stop"),
    ],
)
def test_mapper_malformed_events(event: ServerSentEvent) -> None:
    mapper, _ = _mapper()
    with pytest.raises(UnexpectedModelBehavior):
        _feed(mapper, MESSAGE_START, event)


def test_mapper_dispatches_on_the_json_type_as_the_sdk() -> None:
    """The SSE name matters only for ``ping``, ``error`` and unnamed events; the JSON ``type`` decides."""
    mapper, parts = _mapper()
    out = _feed(
        mapper,
        MESSAGE_START,
        ServerSentEvent(
            None,
            json.dumps(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "no"}}
            ),
        ),
        ServerSentEvent(
            "message",
            json.dumps(
                {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": "yes"}}
            ),
        ),
        ServerSentEvent("content_block_delta", ""),
    )
    assert out == [PartStartEvent(index=0, part=TextPart("yes"))] and parts.get_parts() == [TextPart("yes")]
    with pytest.raises(ModelAPIError, match="Failed to decode response as JSON") as info:
        _feed(mapper, ServerSentEvent("content_block_delta", "{not json"))
    assert not isinstance(info.value, ModelHTTPError) and info.value.model_name == "claude-x-1"


def test_decorated_events_of_a_tool_call_stream() -> None:
    """Part end and final-result events land where pydantic-ai puts them (the §4 example)."""
    parts = PartsManager()
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="get_weather")])
    mapper = an.AnthropicStreamMapper(parts, params, model_name="m")
    decorator = EventDecorator(parts, params)
    raw = _feed(
        mapper,
        MESSAGE_START,
        sse("content_block_start", index=0, content_block={"type": "text", "text": ""}),
        sse("content_block_delta", index=0, delta={"type": "text_delta", "text": "Checking"}),
        sse(
            "content_block_start",
            index=1,
            content_block={"type": "tool_use", "id": "t9", "name": "get_weather", "input": {}},
        ),
        sse(
            "content_block_delta",
            index=1,
            delta={"type": "input_json_delta", "partial_json": '{"city": "Paris"}'},
        ),
    )
    out: list[ModelResponseStreamEvent] = []
    decorator.process(raw, out)
    decorator.finish(out)
    assert [type(e) for e in out] == [
        PartStartEvent,
        FinalResultEvent,
        PartEndEvent,
        PartStartEvent,
        PartDeltaEvent,
        PartEndEvent,
    ]
    assert out[3].previous_part_kind == "text"  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------
# usage


def test_usage_mapping() -> None:
    usage = an.map_usage(
        an.usage_details(
            {
                "input_tokens": 20,
                "output_tokens": 30,
                "cache_creation_input_tokens": 15,
                "cache_read_input_tokens": 100,
                "cache_creation": {"ephemeral_1h_input_tokens": 5},
                "server_tool_use": {"web_search_requests": 2},
            },
            message_usage=True,
        )
    )
    assert (usage.input_tokens, usage.output_tokens, usage.cache_write_tokens, usage.cache_read_tokens) == (
        135,
        30,
        15,
        100,
    )
    assert usage.cache_write_1h_tokens == 5 and usage.extra == {"web_searches": 2}
    assert usage.details == {
        "input_tokens": 20,
        "output_tokens": 30,
        "cache_creation_input_tokens": 15,
        "cache_read_input_tokens": 100,
        "ephemeral_1h_input_tokens": 5,
        "web_search_requests": 2,
    }
    # the one-hour split is capped at the cache-write total, and dropped when that is zero
    capped = an.map_usage({"input_tokens": 1, "output_tokens": 1, "ephemeral_1h_input_tokens": 9})
    assert capped.cache_write_1h_tokens == 0 and "ephemeral_1h_input_tokens" not in capped.details
    # without both totals nothing can be read, as genai-prices
    assert an.map_usage({"output_tokens": 3}).output_tokens == 0


def test_usage_iterations() -> None:
    details = an.usage_details(
        {
            "input_tokens": 10,
            "output_tokens": 2,
            "iterations": [
                {"type": "compaction", "input_tokens": 100, "output_tokens": 5, "cache_read_input_tokens": 7},
                {"type": "advisor_message", "input_tokens": 50, "output_tokens": 1},
                {"type": "message", "input_tokens": 10, "output_tokens": 2, "cache_read_input_tokens": 3},
            ],
        },
        message_usage=True,
    )
    assert details["message_iterations"] == 1
    assert details["compaction_input_tokens"] == 100 and details["advisor_input_tokens"] == 50
    usage = an.map_usage(details)
    assert (
        usage.input_tokens == 10 + 100 + 7 and usage.output_tokens == 2 + 5 and usage.cache_read_tokens == 7
    )
    assert (
        an.last_pass_input_tokens(
            {"iterations": [{"type": "message", "input_tokens": 10, "cache_read_input_tokens": 3}]}
        )
        == 13
    )


# --------------------------------------------------------------------------------------------------
# errors


def test_http_error_body_and_category() -> None:
    body = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"r"}'
    error = an.http_error(529, {"retry-after": "2"}, body, "claude-x")
    assert isinstance(error, ModelOverloadedError) and isinstance(error, ModelHTTPError)
    assert error.status_code == 529 and error.retry_after == 2.0 and not error.in_stream
    assert error.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
        "request_id": "r",
    }
    assert error.provider_error_type == "overloaded_error"
    text = an.http_error(502, {}, b"  <h1>bad</h1> ", "m")
    assert isinstance(text, ModelHTTPError) and text.body == "<h1>bad</h1>"


def test_a_200_that_is_not_json() -> None:
    model = an.AnthropicModel("claude-x", api_key="k")
    with pytest.raises(ModelAPIError, match="Expected a JSON response"):
        model.parse_response(
            b"hello", httpx.Headers({"content-type": "text/plain"}), ModelRequestParameters(), {}
        )
    with pytest.raises(ModelAPIError, match="Failed to decode"):
        model.parse_response(
            b"{", httpx.Headers({"content-type": "application/json"}), ModelRequestParameters(), {}
        )
    with pytest.raises(UnexpectedModelBehavior):
        model.parse_response(
            b"[1]", httpx.Headers({"content-type": "application/json"}), ModelRequestParameters(), {}
        )
    error_object = b'{"type": "error", "error": {"type": "api_error", "message": "The server had an error"}}'
    with pytest.raises(UnexpectedModelBehavior, match="The server had an error"):  # upstream: a TypeError
        model.parse_response(
            error_object, httpx.Headers({"content-type": "application/json"}), ModelRequestParameters(), {}
        )


# --------------------------------------------------------------------------------------------------
# anything at all in: only trio_direct's own errors out

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = [
    "type",
    "index",
    "delta",
    "content_block",
    "message",
    "usage",
    "text",
    "partial_json",
    "thinking",
    "signature",
    "content",
    "id",
    "name",
    "input",
    "model",
    "stop_reason",
    "error",
    "citation",
    "data",
]
_TYPES = [
    "text",
    "tool_use",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "compaction",
    "text_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
    "citations_delta",
    "compaction_delta",
    "web_fetch_tool_result",
    "tool_search_tool_result",
    "message",
]
shaped = st.recursive(
    st.none() | st.integers(0, 3) | st.sampled_from(_TYPES) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), children, max_size=6)
    ),
    max_leaves=30,
)
_BLOCK_TYPES = [
    "text",
    "tool_use",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "compaction",
    "web_fetch_tool_result",
    "tool_search_tool_result",
    "bash_code_execution_tool_result",
    "advisor_tool_result",
]
_DELTA_TYPES = [
    "text_delta",
    "input_json_delta",
    "thinking_delta",
    "signature_delta",
    "citations_delta",
    "compaction_delta",
]
_value = st.one_of(st.text(max_size=6), st.integers(0, 3), st.none(), shaped)
_index = st.one_of(st.integers(0, 3), st.integers(0, 3), _value)


def _object(required: dict[str, Any], optional: list[str]) -> Any:
    return st.fixed_dictionaries(required, optional={k: _value for k in optional})


near_valid = st.one_of(
    st.tuples(
        st.just("content_block_start"),
        _object(
            {
                "index": _index,
                "content_block": _object(
                    {"type": st.sampled_from(_BLOCK_TYPES)},
                    [
                        "text",
                        "thinking",
                        "signature",
                        "data",
                        "id",
                        "name",
                        "input",
                        "tool_use_id",
                        "content",
                        "server_name",
                        "is_error",
                        "citations",
                        "caller",
                    ],
                ),
            },
            [],
        ),
    ),
    st.tuples(
        st.just("content_block_delta"),
        _object(
            {
                "index": _index,
                "delta": _object(
                    {"type": st.sampled_from(_DELTA_TYPES)},
                    ["text", "partial_json", "thinking", "signature", "citation", "content"],
                ),
            },
            [],
        ),
    ),
    st.tuples(st.just("content_block_stop"), _object({"index": _index}, [])),
    st.tuples(
        st.just("message_start"), _object({"message": _object({}, ["id", "model", "usage", "container"])}, [])
    ),
    st.tuples(st.just("message_delta"), _object({}, ["delta", "usage", "input_transformations"])),
    st.tuples(st.just("error"), _object({}, ["error"])),
    st.tuples(st.sampled_from(["message_stop", "ping"]), st.just({})),
)
_EVENTS = [
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
    "ping",
    "error",
    None,
    "other",
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(json_values, shaped))
def test_parse_response_raises_only_our_errors(data: Any) -> None:
    model = an.AnthropicModel("claude-x", api_key="k")
    try:
        response = model.parse_response(
            orjson.dumps(data),
            httpx.Headers({"content-type": "application/json"}),
            ModelRequestParameters(),
            {},
        )
    except TrioDirectError:
        return
    messages_to_python([response])  # whatever came out serializes


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(
        st.one_of(st.tuples(st.sampled_from(_EVENTS), st.one_of(json_values, shaped)), near_valid),
        max_size=10,
    ),
    st.booleans(),
)
def test_stream_mapper_raises_only_our_errors(events: list[tuple[str | None, Any]], web_search: bool) -> None:
    params = ModelRequestParameters(
        native_tools=[types.SimpleNamespace(kind="web_search")] if web_search else []
    )
    parts = PartsManager()
    mapper = an.AnthropicStreamMapper(parts, params, model_name="m")
    decorator = EventDecorator(parts, params)
    out: list[ModelResponseStreamEvent] = []
    try:
        for name, data in events:
            raw: list[ModelResponseStreamEvent] = []
            mapper.feed(ServerSentEvent(name, orjson.dumps(data).decode()), raw)
            decorator.process(raw, out)
        mapper.finish(out)
    except TrioDirectError:
        pass
    ModelResponse(parts.get_parts())
    messages_to_python([ModelResponse(parts.get_parts())])


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_stream_mapper_on_arbitrary_bytes(body: bytes) -> None:
    mapper, _ = _mapper()
    decoder = SSEDecoder()
    try:
        out: list[ModelResponseStreamEvent] = []
        for event in [*decoder.feed(body), *decoder.close()]:
            mapper.feed(event, out)
        mapper.finish(out)
    except TrioDirectError:
        pass


def test_module_exports() -> None:
    for name in an.__all__:
        assert hasattr(an, name), name
