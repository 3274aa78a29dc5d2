"""``trio_direct.models.openai_responses`` without sockets: requests, response parsing, the stream mapper.

Most expectations are captures, not hand-written: ``tests/data/openai_responses_requests.json`` and
``tests/data/openai_responses_responses.json`` hold what pydantic-ai-slim 2.68's ``OpenAIResponsesModel``
sent and returned for each scenario (``tests/data/make_openai_responses_fixtures.py`` regenerates them).
Histories cross over as pydantic-ai's own JSON. The loopback (real socket) tests are in
``test_openai_responses_stream.py``.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trio_direct
from tests.captured import first_difference, params_from_capture, settings_from_capture
from trio_direct import (
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    use_http_client,
)
from trio_direct._parts import PartsManager
from trio_direct._sse import ServerSentEvent
from trio_direct.events import (
    ModelResponseStreamEvent,
    PartDeltaEvent,
    PartStartEvent,
    TextPartDelta,
    ThinkingPartDelta,
    ToolCallPartDelta,
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
from trio_direct.models import infer_model
from trio_direct.models import openai_responses as orr
from trio_direct.models._chat import timestamp_of
from trio_direct.models._chat_profile import openai_model_profile
from trio_direct.models.base import Provider
from trio_direct.serialization import event_to_python, messages_from_python, messages_to_python
from trio_direct.settings import ModelSettings

DATA = Path(__file__).parent / "data"
REQUEST_CASES: list[dict[str, Any]] = json.loads((DATA / "openai_responses_requests.json").read_text())
RESPONSE_CASES: list[dict[str, Any]] = json.loads((DATA / "openai_responses_responses.json").read_text())
KEY = "sk-test-secret-key-123"

#: Deliberate: a body (or an event) that is not JSON is UnexpectedModelBehavior here, as for Chat
#: Completions (2.68 raises a bare ModelAPIError "Failed to decode response as JSON").
NOT_JSON = {"r_not_json", "s_not_json_event"}


# --------------------------------------------------------------------------------------------------
# helpers


def model(name: str = "gpt-4o", base_url: str = "https://api.openai.com/v1") -> orr.OpenAIResponsesModel:
    return orr.OpenAIResponsesModel(name, provider=Provider("openai", base_url, KEY))


def body_of(
    messages: list[ModelMessage],
    settings: ModelSettings | None = None,
    params: ModelRequestParameters | None = None,
    *,
    name: str = "gpt-4o",
    stream: bool = False,
) -> dict[str, Any]:
    m = model(name)
    merged, prepared = m.prepare_request(settings, params)
    parsed: dict[str, Any] = orjson.loads(m.build_request(messages, merged, prepared, stream=stream).body)
    return parsed


def hi() -> list[ModelMessage]:
    return [ModelRequest.user_text_prompt("hi")]


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """Each scenario's body, path, warnings and extra headers are what pydantic-ai 2.68 sent."""
    messages = messages_from_python(case["messages"])
    expected = case["expected"]
    m = model(case["model"])
    merged, params = m.prepare_request(
        settings_from_capture(case["settings"]), params_from_capture(case["params"], messages)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "error" in expected:
            # upstream's NotImplementedError/RuntimeError for unsendable content is a UserError here
            with pytest.raises(UserError):
                m.build_request(messages, merged, params, stream=case["stream"])
            return
        request = m.build_request(messages, merged, params, stream=case["stream"])
    assert first_difference(orjson.loads(request.body), expected["body"]) is None
    assert request.url.removeprefix("https://api.openai.com") == expected["path"]
    assert [str(w.message) for w in caught] == expected["warnings"]
    if "x_trace" in expected:
        assert request.headers["X-Trace"] == expected["x_trace"]


def test_url_headers_and_no_key_in_reprs() -> None:
    m = model(base_url="https://proxy.example/v1/")
    merged, params = m.prepare_request(ModelSettings(extra_headers={"User-Agent": "mine"}), None)
    request = m.build_request(hi(), merged, params, stream=True)
    assert request.url == "https://proxy.example/v1/responses"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["User-Agent"] == "mine" and "user-agent" not in request.headers
    assert m.base_url == "https://proxy.example/v1/"
    assert orjson.loads(request.body) == {
        "model": "gpt-4o",
        "input": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    for text in (repr(m), repr(m.provider), repr(request)):
        assert KEY not in text


def test_timeout_setting_becomes_an_httpx_timeout() -> None:
    m = model()
    merged, params = m.prepare_request(ModelSettings(timeout=7.0), None)
    request = m._with_timeout(m.build_request(hi(), merged, params, stream=False), merged)  # pyright: ignore[reportPrivateUsage]
    assert request.timeout is not None and request.timeout.read == 7.0


def test_tool_mapping_is_cached_per_definition() -> None:
    m = model()
    tool = ToolDefinition(name="a")
    first = m._tool_param(tool)  # pyright: ignore[reportPrivateUsage]
    assert m._tool_param(tool) is first  # pyright: ignore[reportPrivateUsage]
    # no `required` list: not strict-compatible, so `strict` is false (as 2.68 infers it)
    assert first == {
        "name": "a",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": False},
        "type": "function",
        "description": None,
        "strict": False,
    }


def test_native_tools_must_be_raw_entries() -> None:
    with pytest.raises(UserError, match="raw Responses `tools` entries"):
        body_of(hi(), params=ModelRequestParameters(native_tools=[object()]))
    body = body_of(hi(), params=ModelRequestParameters(native_tools=[{"type": "web_search"}]))
    assert body["tools"] == [{"type": "web_search"}] and body["tool_choice"] == "auto"


def test_force_download_and_both_server_states_are_user_errors() -> None:
    from trio_direct import ImageUrl, UserPromptPart

    with pytest.raises(UserError, match="force_download"):
        body_of([ModelRequest([UserPromptPart([ImageUrl("https://e.x/a.png", force_download=True)])])])
    with pytest.raises(UserError, match="cannot both be set"):
        body_of(hi(), ModelSettings(openai_previous_response_id="r", openai_conversation_id="c"))  # type: ignore[typeddict-unknown-key]


def test_profiles() -> None:
    assert orr.responses_profile("gpt-4o") == orr.ResponsesProfile(chat=openai_model_profile("gpt-4o"))
    o3 = orr.responses_profile("o3-mini")
    assert o3.encrypted_reasoning and not o3.reasoning_context and not o3.phase
    five_six = orr.responses_profile("gpt-5.6-sol")
    assert (
        five_six.reasoning_context
        and five_six.reasoning_mode
        and five_six.phase
        and five_six.cache_diagnostics
    )
    five_four = orr.responses_profile("gpt-5.4-mini")
    assert five_four.reasoning_context and five_four.phase and not five_four.reasoning_mode
    assert orr.responses_profile("gpt-5.3-codex").phase


def test_registry_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(UserError, match="OPENAI_API_KEY"):
        infer_model("openai-responses:gpt-5")
    with pytest.raises(UserError, match="model name"):
        infer_model("openai-responses:")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    resolved = infer_model("openai-responses:gpt-5")
    assert isinstance(resolved, orr.OpenAIResponsesModel)
    assert (resolved.model_name, resolved.system, resolved.base_url) == (
        "gpt-5",
        "openai",
        "https://api.openai.com/v1/",
    )
    assert resolved.provider.api_key == KEY and KEY not in repr(resolved)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.delenv("OPENAI_API_KEY")
    keyless = infer_model("openai-responses:local")
    assert isinstance(keyless, orr.OpenAIResponsesModel)
    assert keyless.base_url == "http://127.0.0.1:9/v1/" and keyless.provider.api_key == "api-key-not-set"
    # bare `openai:` stays Chat Completions
    assert not isinstance(infer_model("openai:gpt-5"), orr.OpenAIResponsesModel)


def test_http_errors_are_categorised_without_the_key() -> None:
    error = model().http_error(
        429,
        {"retry-after": "2"},
        json.dumps({"error": {"message": f"bad key {KEY[:3]}", "code": "rate_limit_exceeded"}}).encode(),
        "gpt-4o",
    )
    assert isinstance(error, ModelRateLimitError) and isinstance(error, ModelHTTPError)
    assert error.status_code == 429 and error.retry_after == 2
    assert KEY not in str(error) and KEY not in repr(error)


# --------------------------------------------------------------------------------------------------
# replies against pydantic-ai 2.68

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
    if isinstance(value, str) and value.startswith("<function "):
        return None  # a details updater (raw chain of thought): pydantic-ai dumps its repr, we null
    return value


class _EventByEvent(httpx.AsyncByteStream):
    """An SSE body delivered one event per read, as a real server's writes arrive."""

    def __init__(self, body: str) -> None:
        self._events = [e + "\n\n" for e in body.split("\n\n") if e]

    async def __aiter__(self) -> Any:
        for event in self._events:
            yield event.encode()


def _transport(case: dict[str, Any]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        status = case.get("status", 200)
        if case["kind"] == "stream" and status == 200:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(status, stream=_EventByEvent(case["body"]), headers=headers)
        return httpx.Response(
            status, content=case["body"].encode(), headers={"content-type": "application/json"}
        )

    return httpx.MockTransport(handler)


def _check_error(error: BaseException, expected: dict[str, Any]) -> None:
    assert type(error).__name__ == expected["type"], error
    assert isinstance(error, ModelAPIError)
    assert getattr(error, "status_code", None) == expected["status_code"]
    assert error.in_stream == bool(expected["in_stream"])
    assert error.provider_error_code == expected["provider_error_code"]
    assert error.provider_error_type == expected["provider_error_type"]
    assert error.body == expected["body"]
    if not isinstance(error, ModelHTTPError):
        assert str(error) == expected["message"]


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=[c["name"] for c in RESPONSE_CASES])
async def test_reply_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """The same reply bytes give pydantic-ai 2.68's response (every field), events, or error."""
    m = model("gpt-5", base_url="http://test/v1")
    expected = case["expected"]
    prompt: list[ModelMessage] = hi()
    params = (
        ModelRequestParameters(function_tools=[ToolDefinition(name="get_weather")])
        if case.get("tools")
        else None
    )
    call_settings = settings_from_capture(case.get("settings"))
    events: list[ModelResponseStreamEvent] = []
    response: ModelResponse | None = None
    async with httpx.AsyncClient(transport=_transport(case)) as client, use_http_client(client):
        try:
            if case["kind"] == "stream":
                async with trio_direct.model_request_stream(
                    m, prompt, model_settings=call_settings, model_request_parameters=params
                ) as stream:
                    async for event in stream:
                        events.append(event)
                    response = stream.get()
            else:
                response = await trio_direct.model_request(
                    m, prompt, model_settings=call_settings, model_request_parameters=params
                )
        except TrioDirectError as exc:
            if case["name"] in NOT_JSON:
                assert isinstance(exc, UnexpectedModelBehavior)
                return
            assert "error" in expected, f"raised {exc!r}"
            if isinstance(exc, UnexpectedModelBehavior):
                assert expected["error"]["type"] == "UnexpectedModelBehavior"
            else:
                _check_error(exc, expected["error"])
            if case["kind"] == "stream":
                assert len(events) == len(expected["events"])
            return
    assert "error" not in expected, f"expected {expected['error']['type']}"
    assert response is not None
    got = _scrub(messages_to_python([response])[0])
    assert first_difference(got, _scrub(expected["response"])) is None
    if case["kind"] == "stream":
        have = _scrub([event_to_python(e) for e in events])
        want = _scrub(expected["events"])
        assert first_difference(have, want) is None


# --------------------------------------------------------------------------------------------------
# parsing by hand


def parse(body: Any, **kw: Any) -> ModelResponse:
    return orr.parse_responses_body(orjson.dumps(body), model_name="gpt-5", **kw)


def test_reference_response() -> None:
    """openai-responses.md §3: the simple-response cassette's body."""
    response = parse(
        {
            "id": "resp_68c2",
            "object": "response",
            "created_at": 1757604033,
            "status": "completed",
            "error": None,
            "incomplete_details": None,
            "model": "gpt-4o-2024-08-06",
            "service_tier": "default",
            "background": False,
            "output": [
                {
                    "type": "message",
                    "id": "msg_68c2",
                    "role": "assistant",
                    "status": "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "text": "The capital of France is Paris.",
                            "annotations": [],
                            "logprobs": [],
                        }
                    ],
                }
            ],
            "usage": {
                "input_tokens": 14,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 8,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 22,
            },
        }
    )
    assert response.parts == [
        TextPart("The capital of France is Paris.", id="msg_68c2", provider_name="openai")
    ]
    assert (response.model_name, response.provider_response_id, response.finish_reason) == (
        "gpt-4o-2024-08-06",
        "resp_68c2",
        "stop",
    )
    assert response.provider_details is not None
    assert response.provider_details["finish_reason"] == "completed"
    assert response.provider_details["service_tier"] == "default"
    assert (response.usage.input_tokens, response.usage.output_tokens, response.usage.details) == (
        14,
        8,
        {"reasoning_tokens": 0},
    )
    assert response.state == "complete" and response.canonical_system == "openai"


@pytest.mark.parametrize(
    ("body", "what"),
    [
        (b"not json", "expected JSON"),
        (b"[1, 2]", "expected an object"),
        (b'{"output": [3]}', "expected an object"),
        (b'{"output": [{"type": "function_call", "name": 1}]}', "function_call name"),
        (b'{"output": [{"type": "image_generation_call", "id": "i", "result": "A"}]}', "Error"),
        (b'{"model": 5, "output": []}', "model"),
    ],
)
def test_unusable_bodies(body: bytes, what: str) -> None:
    with pytest.raises(UnexpectedModelBehavior, match=what):
        orr.parse_responses_body(body, model_name="m")


def test_failed_body_without_status_categorises_by_code() -> None:
    with pytest.raises(ModelServerError) as info:
        parse({"status": "failed", "error": {"code": "server_error", "message": "boom"}, "output": []})
    assert str(info.value) == "server_error: boom" and not info.value.in_stream
    assert not isinstance(info.value, ModelHTTPError)


# --------------------------------------------------------------------------------------------------
# the stream mapper, event by event


def sse(kind: str, **data: Any) -> ServerSentEvent:
    return ServerSentEvent(kind, json.dumps({"type": kind, **data}))


def mapper(**kw: Any) -> orr.ResponsesStreamMapper:
    return orr.ResponsesStreamMapper(PartsManager(), model_name="gpt-5", **kw)


def feed(mp: orr.ResponsesStreamMapper, *events: ServerSentEvent) -> list[ModelResponseStreamEvent]:
    out: list[ModelResponseStreamEvent] = []
    for event in events:
        mp.feed(event, out)
    return out


CREATED = sse(
    "response.created",
    response={"id": "resp_1", "model": "gpt-5-x", "created_at": 1, "status": "in_progress"},
)


def test_text_deltas_keep_the_meta_and_key_by_content_index() -> None:
    mp = mapper()
    assert mp.meta.model_name == "gpt-5" and mp.meta.canonical_system == "openai"
    out = feed(mp, CREATED)
    meta = mp.meta
    assert (meta.model_name, meta.provider_response_id, meta.state) == ("gpt-5-x", "resp_1", None)
    out = feed(
        mp,
        sse("response.output_text.delta", item_id="m", content_index=0, delta="a"),
        sse("response.output_text.delta", item_id="m", content_index=0, delta="b"),
        sse("response.output_text.delta", item_id="m", content_index=1, delta="c"),
    )
    assert mp.meta is meta  # text deltas do not rebuild the meta
    assert out == [
        PartStartEvent(index=0, part=TextPart("a", id="m", provider_name="openai")),
        PartDeltaEvent(index=0, delta=TextPartDelta("b")),
        PartStartEvent(index=1, part=TextPart("c", id="m", provider_name="openai")),
    ]


def test_reasoning_signature_and_raw_chain_of_thought() -> None:
    mp = mapper()
    out = feed(
        mp,
        CREATED,
        sse("response.reasoning_summary_text.delta", item_id="rs", summary_index=0, delta="A"),
        sse("response.output_item.done", item={"type": "reasoning", "id": "rs", "encrypted_content": "ENC"}),
        sse("response.reasoning_text.delta", item_id="raw", content_index=1, delta="x"),
        sse("response.reasoning_text.delta", item_id="raw", content_index=0, delta="y"),
    )
    assert out[0] == PartStartEvent(index=0, part=ThinkingPart("A", id="rs", provider_name="openai"))
    assert out[1] == PartDeltaEvent(index=0, delta=ThinkingPartDelta(signature_delta="ENC"))
    assert out[2] == PartStartEvent(
        index=1,
        part=ThinkingPart("", id="raw", provider_name="openai", provider_details={"raw_content": ["", "x"]}),
    )
    assert mp.parts.get_parts()[1] == ThinkingPart(
        "", id="raw", provider_name="openai", provider_details={"raw_content": ["y", "x"]}
    )


def test_arguments_only_in_done_events_and_a_differing_snapshot() -> None:
    mp = mapper()
    added = {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": ""}
    out = feed(
        mp,
        CREATED,
        sse("response.output_item.added", item=added),
        sse("response.function_call_arguments.done", item_id="fc", arguments='{"a":1}'),
        sse("response.function_call_arguments.delta", item_id="fc", delta="late"),  # after done: ignored
    )
    assert out[1] == PartDeltaEvent(index=0, delta=ToolCallPartDelta(args_delta='{"a":1}', tool_call_id="c"))
    out = feed(mp, sse("response.output_item.added", item={**added, "id": "fc2", "call_id": "c2"}))
    out = feed(mp, sse("response.function_call_arguments.delta", item_id="fc2", delta='{"x"'))
    with pytest.warns(UserWarning, match="differ from the streamed"):
        feed(mp, sse("response.function_call_arguments.done", item_id="fc2", arguments='{"y":2}'))
    assert mp.parts.get_parts()[1] == ToolCallPart("f", '{"x"', "c2", id="fc2", provider_name="openai")


def test_terminal_events_and_finish() -> None:
    mp = mapper()
    feed(mp, CREATED, sse("response.in_progress", response={"status": "in_progress", "usage": None}))
    assert mp.meta.usage.input_tokens == 0
    feed(
        mp,
        sse(
            "response.incomplete",
            response={
                "status": "incomplete",
                "incomplete_details": {"reason": "max_output_tokens"},
                "usage": {"input_tokens": 3, "output_tokens": 4},
                "service_tier": "flex",
            },
        ),
    )
    out: list[ModelResponseStreamEvent] = []
    mp.finish(out)
    meta = mp.meta
    assert (meta.finish_reason, meta.state) == ("length", None)
    assert meta.provider_details == {
        "timestamp": timestamp_of(1),
        "finish_reason": "max_output_tokens",
        "service_tier": "flex",
    }
    assert (meta.usage.input_tokens, meta.usage.output_tokens, meta.usage.unmeasured_requests) == (3, 4, 0)


def test_streams_without_a_terminal_event() -> None:
    foreground = mapper()
    feed(foreground, CREATED)
    foreground.finish([])
    assert foreground.meta.state == "incomplete" and foreground.meta.usage.unmeasured_requests == 1
    resumed = mapper()
    feed(
        resumed,
        ServerSentEvent(
            None,
            json.dumps(
                {"type": "response.in_progress", "sequence_number": 7, "response": {"status": "in_progress"}}
            ),
        ),
    )
    resumed.finish([])
    assert resumed.meta.state == "suspended"
    assert resumed.meta.provider_details == {"background": True, "last_sequence_number": 7}
    with pytest.raises(UnexpectedModelBehavior, match="without content"):
        mapper().finish([])


def test_in_stream_errors() -> None:
    with pytest.raises(ModelServerError) as info:
        feed(mapper(), CREATED, sse("error", code="server_error", message="boom"))
    assert isinstance(info.value, ModelHTTPError) and info.value.status_code == 500 and info.value.in_stream
    assert info.value.model_name == "gpt-5-x"
    failed = mapper()
    with pytest.raises(ModelRateLimitError):
        feed(
            failed,
            sse(
                "response.failed",
                response={"status": "failed", "error": {"code": "rate_limit_exceeded", "message": "m"}},
            ),
        )
    assert failed.meta.state is None  # the state was recorded before the raise
    quiet = mapper()
    feed(quiet, sse("response.failed", response={"status": "failed", "error": None}))
    assert (quiet.meta.finish_reason, (quiet.meta.provider_details or {}).get("finish_reason")) == (
        "error",
        "failed",
    )
    with pytest.raises(UnexpectedModelBehavior, match="Invalid event"):
        feed(mapper(), ServerSentEvent(None, "[1]"))
    with pytest.raises(UnexpectedModelBehavior, match="Invalid event"):
        feed(mapper(), sse("response.output_text.delta", item_id="m", content_index=0, delta=5))


def test_unknown_and_ignored_events_are_skipped() -> None:
    mp = mapper()
    assert (
        feed(
            mp,
            CREATED,
            sse("response.some_future_event", x=1),
            sse("response.content_part.added"),
            ServerSentEvent(None, "[DONE]"),
        )
        == []
    )


# --------------------------------------------------------------------------------------------------
# fuzzing: arbitrary JSON raises only our own errors

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_ITEM_TYPES = [
    "message",
    "reasoning",
    "function_call",
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "mcp_call",
    "mcp_list_tools",
    "compaction",
]
items = st.fixed_dictionaries(
    {"type": st.sampled_from(_ITEM_TYPES)},
    optional={
        "id": st.text(max_size=4) | st.none(),
        "content": json_values,
        "summary": json_values,
        "name": st.text(max_size=4),
        "call_id": st.text(max_size=4),
        "arguments": st.text(max_size=6) | json_values,
        "action": json_values,
        "outputs": json_values,
        "result": st.text(max_size=6) | st.none(),
        "server_label": st.text(max_size=4),
        "tools": json_values,
        "encrypted_content": json_values,
    },
)
response_like = st.fixed_dictionaries(
    {},
    optional={
        "output": st.lists(items | json_values, max_size=4),
        "status": st.sampled_from(["completed", "failed", "incomplete", "queued", "in_progress"])
        | json_values,
        "usage": json_values,
        "error": json_values,
        "model": st.text(max_size=4) | json_values,
        "incomplete_details": json_values,
        "created_at": json_values,
        "background": json_values,
    },
)
_EVENT_TYPES = [
    "response.created",
    "response.in_progress",
    "response.completed",
    "response.failed",
    "response.incomplete",
    "response.output_item.added",
    "response.output_item.done",
    "response.output_text.delta",
    "response.output_text.done",
    "response.output_text.annotation.added",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.reasoning_summary_part.added",
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
    "response.refusal.delta",
    "response.refusal.done",
    "response.code_interpreter_call_code.delta",
    "response.mcp_call_arguments.delta",
    "response.image_generation_call.partial_image",
    "error",
]
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(_EVENT_TYPES)},
    optional={
        "response": response_like | json_values,
        "item": items | json_values,
        "item_id": st.sampled_from(["a", "b"]) | json_values,
        "content_index": st.integers(-1, 2) | json_values,
        "summary_index": st.integers(0, 2) | json_values,
        "delta": st.text(max_size=4) | json_values,
        "text": st.text(max_size=4) | json_values,
        "arguments": st.text(max_size=4) | json_values,
        "annotation": json_values,
        "logprobs": json_values,
        "part": json_values,
        "partial_image_b64": st.text(max_size=4),
        "code": json_values,
        "message": json_values,
    },
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(json_values, response_like))
def test_parse_response_fuzz(value: Any) -> None:
    try:
        orr.parse_responses_body(json.dumps(value).encode(), model_name="m")
    except TrioDirectError:
        pass


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(st.one_of(event_like, json_values), max_size=6))
def test_stream_mapper_fuzz(events: list[Any]) -> None:
    mp = mapper()
    out: list[ModelResponseStreamEvent] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for event in events:
                mp.feed(ServerSentEvent(None, json.dumps(event)), out)
            mp.finish(out)
        except TrioDirectError:
            pass
