"""``trio_direct.models.google`` without sockets: request building, response parsing, the stream mapper.

Most expectations are not hand-written: ``tests/data/google_requests.json`` and
``tests/data/google_responses.json`` hold what pydantic-ai-slim 2.68's ``GoogleModel`` (with the
``google-genai`` 2.34 SDK) sent and returned for each scenario, captured with a mock transport by
``tests/data/make_google_fixtures.py``. The SDK writes some request keys in snake_case and bytes as
URL-safe base64 where we write camelCase and standard base64; the API reads either, so bodies are
compared with keys and base64 normalized. The loopback (real socket) tests are in
``test_google_stream.py``.
"""

from __future__ import annotations

import base64
import json
import re
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
from tests.strategies import histories
from trio_direct import (
    BinaryContent,
    ImageUrl,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    RetryPromptPart,
    SystemPromptPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
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
)
from trio_direct.exceptions import (
    ModelAPIError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelServerError,
    TrioDirectError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.messages import ModelMessage
from trio_direct.models import google as gg
from trio_direct.models import infer_model
from trio_direct.models._common import SYSTEM_BLOCKS_ANNOUNCEMENT
from trio_direct.serialization import messages_from_python, messages_to_python
from trio_direct.settings import ModelSettings

DATA = Path(__file__).parent / "data"
REQUEST_CASES: list[dict[str, Any]] = json.loads((DATA / "google_requests.json").read_text())
RESPONSE_CASES: list[dict[str, Any]] = json.loads((DATA / "google_responses.json").read_text())

#: Deliberate: upstream lets an AssertionError escape for a code result without its code; ours is typed.
UPSTREAM_ASSERTS = {"r_file_search_code"}


# --------------------------------------------------------------------------------------------------
# helpers


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_BYTES_KEYS = {"data", "thought_signature"}


def _canon(value: Any, key: str | None = None) -> Any:
    """A request body with keys in snake_case and base64 (either alphabet) as the bytes it encodes."""
    if isinstance(value, dict):
        return {(k2 := _CAMEL.sub("_", k).lower()): _canon(v, k2) for k, v in value.items()}
    if isinstance(value, list):
        return [_canon(v) for v in value]
    if key in _BYTES_KEYS and isinstance(value, str):
        padded = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(padded + "=" * (-len(padded) % 4)).hex()
    return value


def _build(
    model: str, messages: list[ModelMessage], settings: ModelSettings, params: ModelRequestParameters
) -> Any:
    return gg.build_generate_content_request(model, messages, settings, params)


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """Each scenario's body, headers and warnings are what pydantic-ai 2.68 sent (or it raises too)."""
    messages = messages_from_python(case["messages"])
    expected = case["expected"]
    settings = settings_from_capture(case["settings"])
    params = params_from_capture(case["params"], messages)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            with pytest.raises(UserError) as raised:
                _build(case["model"], messages, settings, params)
            if expected["error"] == "UserError":
                assert str(raised.value) == expected["message"]
            return
        body, headers = _build(case["model"], messages, settings, params)
    assert first_difference(_canon(orjson.loads(orjson.dumps(body))), _canon(expected["body"])) is None
    assert [str(w.message).replace("'google:", "'google:") for w in caught] == [
        w.replace("'google:", "'google:") for w in expected["warnings"]
    ]
    lowered = {k.lower(): v for k, v in headers.items()}
    for name, value in expected["headers"].items():
        if name != "x-goog-api-key":
            assert lowered[name] == value


def test_request_cases_cover_the_reference() -> None:
    names = {c["name"] for c in REQUEST_CASES}
    assert len(REQUEST_CASES) > 90
    for needed in (
        "retry_toolless_with_system",
        "history_signed_function_call",
        "tool_return_split",
        "native_output",
    ):
        assert needed in names


def test_http_request_auth_url_and_headers() -> None:
    model = gg.GoogleModel("gemini-2.5-flash", api_key="AIza-secret", base_url="https://proxy.example/")
    request = model.build_request(
        [ModelRequest.user_text_prompt("hi")], ModelSettings(), ModelRequestParameters(), stream=False
    )
    assert request.url == "https://proxy.example/v1beta/models/gemini-2.5-flash:generateContent"
    assert "AIza" not in request.url
    assert request.headers["x-goog-api-key"] == "AIza-secret"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["X-Server-Timeout"] == "1200"
    assert orjson.loads(request.body) == {
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "generationConfig": {"responseModalities": ["TEXT"]},
    }
    streamed = model.build_request(
        [ModelRequest.user_text_prompt("hi")],
        ModelSettings(extra_headers={"X-Foo": "bar", "x-server-timeout": "60", "User-Agent": "me"}),
        ModelRequestParameters(),
        stream=True,
    )
    assert (
        streamed.url == "https://proxy.example/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    lowered = [k.lower() for k in streamed.headers]
    assert len(lowered) == len(set(lowered))  # a caller's header replaces ours in any spelling
    assert streamed.headers["x-server-timeout"] == "60" and streamed.headers["User-Agent"] == "me"
    assert streamed.headers["X-Foo"] == "bar"
    # the key never shows in a repr
    for text in (repr(model), repr(model.provider), repr(request), repr(streamed)):
        assert "secret" not in text
    assert model.base_url == "https://proxy.example/"
    tuned = gg.GoogleModel("tunedModels/my-model", api_key="k")
    assert tuned.build_request(
        [ModelRequest.user_text_prompt("x")], ModelSettings(), ModelRequestParameters(), stream=False
    ).url.endswith("/v1beta/tunedModels/my-model:generateContent")


def test_timeout_must_be_a_number() -> None:
    with pytest.raises(UserError, match=r"httpx\.Timeout"):
        _build(
            "gemini-2.5-flash",
            [ModelRequest.user_text_prompt("x")],
            ModelSettings(timeout=httpx.Timeout(3)),
            ModelRequestParameters(),
        )


# --------------------------------------------------------------------------------------------------
# the reference's own examples (reference/providers/google.md)


def _contents(messages: list[ModelMessage], model: str = "gemini-2.5-flash", **kw: Any) -> Any:
    body, _ = _build(model, messages, ModelSettings(**kw), ModelRequestParameters())  # type: ignore[typeddict-item]
    return body


def test_system_prompts_and_instructions_become_separate_parts() -> None:
    body = _contents(
        [
            ModelRequest([SystemPromptPart("sys1"), UserPromptPart("hi")]),
            ModelResponse([TextPart("r")]),
            ModelRequest([UserPromptPart("again")], instructions="Be terse."),
        ]
    )
    assert body["systemInstruction"] == {
        "role": "user",
        "parts": [{"text": "sys1"}, {"text": "Be terse."}],
    }


def test_split_rule_and_empty_prompt_insertion() -> None:
    body = _contents(
        [
            ModelResponse([ToolCallPart("f", {}, "c1"), ToolCallPart("f", {}, "c2")]),
            ModelRequest(
                [
                    ToolReturnPart("f", "sunny", "c1"),
                    ToolReturnPart("f", None, "c2"),
                    UserPromptPart("and more"),
                ]
            ),
        ]
    )
    contents = body["contents"]
    assert contents[0] == {"role": "user", "parts": [{"text": ""}]}
    assert contents[1]["role"] == "model"
    assert contents[2] == {
        "role": "user",
        "parts": [
            {"functionResponse": {"id": "c1", "name": "f", "response": {"return_value": "sunny"}}},
            {"functionResponse": {"id": "c2", "name": "f", "response": {}}},
        ],
    }
    assert contents[3] == {"role": "user", "parts": [{"text": "and more"}]}


def test_thought_signatures_on_replay() -> None:
    signed = ModelResponse(
        [
            ThinkingPart("t", signature="c2ln", provider_name="google"),
            TextPart("after"),
            ToolCallPart("f", {"a": 1}, "c1"),
            ToolCallPart("f", {"a": 2}, "c2"),
        ],
        provider_name="google",
        canonical_system="google",
    )
    body = _contents([ModelRequest.user_text_prompt("x"), signed])
    assert body["contents"][1]["parts"] == [
        {"text": "t", "thought": True},
        {"text": "after", "thoughtSignature": "c2ln"},
        {
            "functionCall": {"name": "f", "args": {"a": 1}, "id": "c1"},
            "thoughtSignature": "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=",
        },
        {"functionCall": {"name": "f", "args": {"a": 2}, "id": "c2"}},
    ]


def test_retry_prompts_as_2_68_sends_them() -> None:
    body = _contents(
        [
            ModelRequest([SystemPromptPart("sys"), UserPromptPart("q")]),
            ModelResponse([ToolCallPart("f", {}, "c1")]),
            ModelRequest([RetryPromptPart("bad city", tool_name="f", tool_call_id="c1")]),
            ModelResponse([TextPart("nope")]),
            ModelRequest([RetryPromptPart("Not JSON")]),
        ]
    )
    assert body["systemInstruction"]["parts"] == [{"text": SYSTEM_BLOCKS_ANNOUNCEMENT}, {"text": "sys"}]
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"id": "c1", "name": "f", "response": {"error": "bad city"}}}
    ]
    assert body["contents"][4]["parts"] == [
        {
            "text": "Your previous response failed the application's validation (this is automated feedback, "
            "not a message from the user):\n<pyai:retry_feedback>\nNot JSON\n</pyai:retry_feedback>"
        }
    ]


def test_user_content_and_urls_needing_download() -> None:
    body = _contents(
        [
            ModelRequest(
                [
                    UserPromptPart(
                        [
                            "",
                            BinaryContent(b"\x89PNG", media_type="image/png"),
                            ImageUrl("data:image/png;base64,iVBORw=="),
                        ]
                    )
                ]
            )
        ]
    )
    assert body["contents"][0]["parts"] == [
        {"text": ""},
        {"inlineData": {"data": "iVBORw==", "mimeType": "image/png"}},
        {"inlineData": {"data": "iVBORw==", "mimeType": "image/png"}},
    ]
    with pytest.raises(UserError, match="needs a download"):
        _contents([ModelRequest([UserPromptPart([ImageUrl("https://example.com/cat.png")])])])


@pytest.mark.parametrize(
    ("model", "thinking", "config"),
    [
        ("gemini-2.5-flash", True, {"includeThoughts": True}),
        ("gemini-2.5-flash", "low", {"includeThoughts": True, "thinkingBudget": 2048}),
        ("gemini-2.5-flash", False, {"thinkingBudget": 0}),
        ("gemini-2.5-pro", False, {"thinkingBudget": 128}),
        ("gemini-3-pro-preview", "medium", {"includeThoughts": True, "thinkingLevel": "LOW"}),
        ("gemini-3-flash-preview", "xhigh", {"includeThoughts": True, "thinkingLevel": "HIGH"}),
        ("gemini-3-flash-preview", False, {"thinkingLevel": "MINIMAL"}),
        ("gemini-2.0-flash", True, None),
    ],
)
def test_unified_thinking(model: str, thinking: Any, config: Any) -> None:
    body = _contents([ModelRequest.user_text_prompt("x")], model, thinking=thinking)
    assert body["generationConfig"].get("thinkingConfig") == config


def test_tool_choice_and_validated_mode() -> None:
    tools = [ToolDefinition(name="a"), ToolDefinition(name="b")]
    params = ModelRequestParameters(function_tools=tools)
    body, _ = _build("gemini-2.5-flash", [ModelRequest.user_text_prompt("x")], ModelSettings(), params)
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "VALIDATED"}}
    assert [d["name"] for d in body["tools"][0]["functionDeclarations"]] == ["a", "b"]
    body, _ = _build(
        "gemini-2.5-flash", [ModelRequest.user_text_prompt("x")], ModelSettings(tool_choice=["b"]), params
    )
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["b"]}}
    body, _ = _build("gemini-2.0-flash", [ModelRequest.user_text_prompt("x")], ModelSettings(), params)
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}


def test_schema_transform() -> None:
    schema = {
        "$schema": "x",
        "title": "T",
        "type": "object",
        "properties": {"k": {"const": 1}, "d": {"type": "string", "format": "date", "description": "Day"}},
    }
    assert gg.transform_schema(schema) == {
        "type": "object",
        "properties": {
            "k": {"enum": [1], "type": "integer"},
            "d": {"type": "string", "description": "Day (format: date)"},
        },
    }
    assert schema["title"] == "T"  # the caller's schema is left alone


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


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def _public(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_public(v) for v in value]
    return value


def _event_json(event: ModelResponseStreamEvent) -> dict[str, Any]:
    as_dict = attrs.asdict(event, recurse=True)  # type: ignore[arg-type]
    dumped: dict[str, Any] = _public(json.loads(json.dumps(as_dict, default=_json_default)))
    return dumped


def _params_for(case: dict[str, Any]) -> ModelRequestParameters:
    tools = (
        [types.SimpleNamespace(kind="file_search", file_store_ids=["s"])] if case.get("file_search") else []
    )
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
        assert error.provider_error_code == expected["provider_error_code"]
        assert error.retry_after == expected["retry_after"]
        assert error.body == expected["body"]
        if not isinstance(error, ModelHTTPError):
            # the decoder's own words differ (orjson's, not json's)
            assert str(error).split(":")[0] == expected["message"].split(":")[0]
    if isinstance(error, ModelHTTPError):
        # each library suggests from its own list of known names
        assert (error.suggested_model_id is None) == (expected["suggested_model_id"] is None)
    if isinstance(error, UnexpectedModelBehavior) and expected["message"].startswith("Streamed"):
        assert str(error) == expected["message"]


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=[c["name"] for c in RESPONSE_CASES])
async def test_response_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """The same reply bytes give pydantic-ai 2.68's response (every field), events, or error."""
    model = gg.GoogleModel(case.get("model", "gemini-2.5-flash"), api_key="k", base_url="http://test")
    expected = dict(case["expected"])
    if case["name"] in UPSTREAM_ASSERTS:
        assert expected["error"]["type"] == "AssertionError"
        expected["error"] = {**expected["error"], "type": "UnexpectedModelBehavior"}
    prompt: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
    events: list[ModelResponseStreamEvent] = []
    response: ModelResponse | None = None
    async with httpx.AsyncClient(transport=_transport(case)) as client, use_http_client(client):
        try:
            if case["kind"] == "stream":
                async with trio_direct.model_request_stream(
                    model, prompt, model_request_parameters=_params_for(case)
                ) as stream:
                    async for event in stream:
                        events.append(event)
                    response = stream.get()
            else:
                response = await trio_direct.model_request(
                    model, prompt, model_request_parameters=_params_for(case)
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
# the stream mapper, chunk by chunk


def _mapper(model: str = "gemini-2.5-flash") -> tuple[gg.GoogleStreamMapper, PartsManager]:
    parts = PartsManager()
    return gg.GoogleStreamMapper(parts, ModelRequestParameters(), model_name=model), parts


def _chunk(
    parts: list[dict[str, Any]] | None = None, finish: str | None = None, **top: Any
) -> ServerSentEvent:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts or []}}
    if finish:
        candidate["finishReason"] = finish
    return ServerSentEvent(None, json.dumps({"candidates": [candidate], **top}))


def test_stream_mapper_reference_example() -> None:
    """§4's synthesised example: thinking, a signed text run across parts, two calls, one without id."""
    mapper, parts = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(
        _chunk([{"text": "thinking", "thought": True}], modelVersion="gemini-x", responseId="r1"), out
    )
    mapper.feed(_chunk([{"text": "Hello "}, {"text": "world", "thoughtSignature": "c2ln"}]), out)
    mapper.feed(
        _chunk(
            [
                {"functionCall": {"name": "f", "args": {"a": 1}, "id": "fc1"}},
                {"functionCall": {"name": "f", "args": {"a": 2}}},
            ],
            finish="STOP",
            usageMetadata={"promptTokenCount": 3, "candidatesTokenCount": 4},
        ),
        out,
    )
    mapper.finish(out)
    got = parts.get_parts()
    assert got[0] == ThinkingPart("thinking")
    assert got[1] == TextPart(
        "Hello world", provider_name="google", provider_details={"thought_signature": "c2ln"}
    )
    assert got[2] == ToolCallPart("f", {"a": 1}, "fc1")
    assert isinstance(got[3], ToolCallPart) and got[3].tool_call_id.startswith("pyd_ai_")
    assert [type(e) for e in out] == [
        PartStartEvent,
        PartStartEvent,
        PartDeltaEvent,
        PartStartEvent,
        PartStartEvent,
    ]
    delta = out[2]
    assert isinstance(delta, PartDeltaEvent) and delta.delta == TextPartDelta(
        "world", provider_name="google", provider_details={"thought_signature": "c2ln"}
    )
    meta = mapper.meta
    assert (meta.model_name, meta.provider_response_id, meta.finish_reason) == ("gemini-x", "r1", "stop")
    assert meta.provider_details == {"finish_reason": "STOP"}
    assert (meta.usage.input_tokens, meta.usage.output_tokens) == (3, 4)
    assert meta.canonical_system == "google" and meta.provider_name == "google"


def test_stream_usage_snapshots_keep_dropped_fields() -> None:
    mapper, _ = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(
        _chunk([{"text": "a"}], usageMetadata={"promptTokenCount": 15, "cachedContentTokenCount": 5}), out
    )
    assert mapper.meta.usage.cache_read_tokens == 5
    mapper.feed(
        _chunk([{"text": "b"}], usageMetadata={"promptTokenCount": 13, "candidatesTokenCount": 8}), out
    )
    usage = mapper.meta.usage
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (13, 5, 8)
    assert usage.details == {"cached_content_tokens": 5}
    first_usage = usage
    mapper.feed(
        _chunk([{"text": "c"}], usageMetadata={"promptTokenCount": 13, "candidatesTokenCount": 8}), out
    )
    assert mapper.meta.usage is first_usage  # an unchanged snapshot is not recomputed


def test_stream_thinking_extends_latest_thinking_part() -> None:
    mapper, parts = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(_chunk([{"text": "a", "thought": True}]), out)
    mapper.feed(_chunk([{"text": "b", "thought": True, "thoughtSignature": "c2ln"}]), out)
    assert isinstance(out[1], PartDeltaEvent) and out[1].delta == ThinkingPartDelta(
        content_delta="b", provider_name="google", provider_details={"thought_signature": "c2ln"}
    )
    assert parts.get_parts() == [
        ThinkingPart("ab", provider_name="google", provider_details={"thought_signature": "c2ln"})
    ]


def test_stream_empty_text_and_function_responses_do_not_break_runs() -> None:
    mapper, parts = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(_chunk([{"text": "a"}, {"text": ""}, {"functionResponse": {"name": "x"}}]), out)
    mapper.feed(_chunk([{"thoughtSignature": "c2ln"}, {"text": "b"}], finish="STOP"), out)
    mapper.finish(out)
    assert parts.get_parts() == [TextPart("ab")]


def test_stream_in_stream_error_chunk() -> None:
    mapper, _ = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(_chunk([{"text": "a"}], modelVersion="gemini-x"), out)
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.5s"}
    error = {
        "error": {"code": 429, "message": "slow", "status": "RESOURCE_EXHAUSTED", "details": [retry_info]}
    }
    with pytest.raises(ModelRateLimitError) as raised:
        mapper.feed(ServerSentEvent(None, json.dumps(error)), out)
    assert isinstance(raised.value, ModelHTTPError)
    assert (
        raised.value.in_stream and raised.value.retry_after == 0.5 and raised.value.model_name == "gemini-x"
    )
    assert raised.value.provider_error_code == "RESOURCE_EXHAUSTED"


def test_stream_without_events_and_without_usage() -> None:
    mapper, _ = _mapper()
    with pytest.raises(UnexpectedModelBehavior, match="ended without content"):
        mapper.finish([])
    mapper, _ = _mapper()
    out: list[ModelResponseStreamEvent] = []
    mapper.feed(_chunk([{"text": "a"}], finish="STOP"), out)
    mapper.finish(out)
    assert mapper.meta.usage.unmeasured_requests == 1


def test_stream_decorator_adds_final_result_and_ends() -> None:
    mapper, parts = _mapper()
    params = ModelRequestParameters()
    decorator = EventDecorator(parts, params)
    raw: list[ModelResponseStreamEvent] = []
    mapper.feed(_chunk([{"text": "a"}, {"functionCall": {"name": "f", "args": {}}}]), raw)
    out: list[ModelResponseStreamEvent] = []
    decorator.process(raw, out)
    decorator.finish(out)
    assert [type(e) for e in out] == [
        PartStartEvent,
        FinalResultEvent,
        PartEndEvent,
        PartStartEvent,
        PartEndEvent,
    ]


# --------------------------------------------------------------------------------------------------
# errors


def test_http_error_categories_and_retry_info() -> None:
    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "14s"}
    body = {
        "error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED", "details": [retry_info]}
    }
    error = gg.http_error(429, {}, json.dumps(body).encode(), "gemini-2.5-flash")
    assert isinstance(error, ModelRateLimitError) and isinstance(error, ModelHTTPError)
    assert error.retry_after == 14.0 and error.body == body and not error.in_stream
    assert type(error).__name__ == "ModelRateLimitError"
    with_header = gg.http_error(429, {"retry-after": "2"}, json.dumps(body).encode(), "m")
    assert isinstance(with_header, ModelHTTPError) and with_header.retry_after == 2.0
    html = gg.http_error(500, {}, b"<html>oops</html>", "m")
    assert isinstance(html, ModelServerError) and isinstance(html, ModelHTTPError)
    assert html.body == {"message": "<html>oops</html>", "status": "Internal Server Error"}


def test_http_error_never_shows_the_key() -> None:
    model = gg.GoogleModel("gemini-2.5-flash", api_key="AIza-topsecret")
    error = model.http_error(
        403, httpx.Headers({}), b'{"error": {"code": 403, "status": "PERMISSION_DENIED"}}', "m"
    )
    assert "topsecret" not in str(error) and "topsecret" not in repr(error)


# --------------------------------------------------------------------------------------------------
# registry and environment


@pytest.mark.parametrize("prefix", ["google-gla", "gemini", "google"])
def test_registry_prefixes(prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "gem-key")
    monkeypatch.setenv("GEMINI_BASE_URL", "http://127.0.0.1:9/")
    model = infer_model(f"{prefix}:gemini-2.5-flash")
    assert isinstance(model, gg.GoogleModel)
    assert model.system == "google" and model.model_name == "gemini-2.5-flash"
    assert model.provider.api_key == "gem-key"
    assert model.base_url == "http://127.0.0.1:9/"


def test_environment_precedence_and_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", "google-key")
    monkeypatch.setenv("GEMINI_API_KEY", "gem-key")
    monkeypatch.delenv("GEMINI_BASE_URL", raising=False)
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    model = gg.from_name("gemini-2.5-pro", "google-gla")
    assert model.provider.api_key == "google-key"  # the SDK's own name wins, as upstream
    assert model.base_url == "https://generativelanguage.googleapis.com/"
    assert gg.GoogleModel("x", api_key="explicit").provider.api_key == "explicit"
    monkeypatch.delenv("GOOGLE_API_KEY")
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(UserError, match="GEMINI_API_KEY"):
        infer_model("google-gla:gemini-2.5-flash")
    with pytest.raises(UserError, match="model name"):
        gg.from_name("", "gemini")


# --------------------------------------------------------------------------------------------------
# fuzzing: arbitrary JSON raises only our errors

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)
_KEYS = [
    "text", "thought", "thoughtSignature", "functionCall", "functionResponse", "inlineData", "executableCode",
    "codeExecutionResult", "toolCall", "toolResponse", "fileData", "name", "args", "id", "mimeType", "data",
    "toolType", "response", "code", "outcome",
]  # fmt: skip


def _object(required: dict[str, Any], optional: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(required, optional={k: json_values for k in optional})


_part = st.one_of(
    _object({}, _KEYS),
    st.fixed_dictionaries(
        {"text": st.text(max_size=5)},
        optional={"thought": st.booleans(), "thoughtSignature": st.sampled_from(["c2ln", "x", "-_"])},
    ),
    st.fixed_dictionaries({"functionCall": _object({"name": st.text(max_size=3)}, ["args", "id"])}),
    st.fixed_dictionaries(
        {
            "toolCall": _object(
                {"toolType": st.sampled_from(["GOOGLE_SEARCH_WEB", "X", "MEDIA_PROCESSING"])}, ["id", "args"]
            )
        }
    ),
    st.fixed_dictionaries({"inlineData": _object({"mimeType": st.text(max_size=4)}, ["data"])}),
)
_usage = _object(
    {},
    [
        "promptTokenCount",
        "candidatesTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
        "promptTokensDetails",
        "toolUsePromptTokenCount",
    ],
)
_grounding = _object({}, ["groundingChunks", "groundingSupports", "webSearchQueries"])
_candidate = st.fixed_dictionaries(
    {},
    optional={
        "content": st.one_of(json_values, st.fixed_dictionaries({"parts": st.lists(_part, max_size=4)})),
        "finishReason": st.one_of(json_values, st.sampled_from(list(gg.FINISH_REASONS))),
        "groundingMetadata": st.one_of(json_values, _grounding),
        "urlContextMetadata": json_values,
        "safetyRatings": json_values,
    },
)
shaped = st.fixed_dictionaries(
    {},
    optional={
        "candidates": st.one_of(json_values, st.lists(_candidate, max_size=2)),
        "usageMetadata": st.one_of(json_values, _usage),
        "modelVersion": json_values,
        "responseId": json_values,
        "promptFeedback": json_values,
        "createTime": json_values,
        "error": json_values,
    },
)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(json_values, shaped))
def test_parse_response_raises_only_our_errors(data: Any) -> None:
    model = gg.GoogleModel("gemini-2.5-flash", api_key="k")
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


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.one_of(json_values, shaped), max_size=6))
def test_stream_mapper_raises_only_our_errors(chunks: list[Any]) -> None:
    parts = PartsManager()
    params = ModelRequestParameters()
    mapper = gg.GoogleStreamMapper(parts, params, model_name="gemini-2.5-flash")
    decorator = EventDecorator(parts, params)
    out: list[ModelResponseStreamEvent] = []
    try:
        for data in chunks:
            raw: list[ModelResponseStreamEvent] = []
            mapper.feed(ServerSentEvent(None, orjson.dumps(data).decode()), raw)
            decorator.process(raw, out)
        mapper.finish(out)
    except TrioDirectError:
        pass
    messages_to_python([ModelResponse(parts.get_parts(), usage=mapper.meta.usage)])


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


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.integers(400, 599), st.one_of(json_values, shaped), st.booleans())
def test_http_error_on_arbitrary_bodies(status: int, data: Any, as_json: bool) -> None:
    raw = orjson.dumps(data) if as_json else repr(data).encode()
    error = gg.http_error(status, {}, raw, "m")
    assert isinstance(error, ModelHTTPError) and error.status_code == status


def test_module_exports() -> None:
    for name in gg.__all__:
        assert hasattr(gg, name), name


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(histories(), st.sampled_from(["gemini-2.0-flash", "gemini-2.5-flash", "gemini-3-pro-preview"]))
def test_any_history_builds_or_raises_user_error(history: list[Any], model: str) -> None:
    """Whatever a history holds, building the request either works (and is JSON) or is a UserError."""
    try:
        body, _ = _build(model, history, ModelSettings(), ModelRequestParameters())
    except UserError:
        return
    assert orjson.loads(orjson.dumps(body))["contents"]
