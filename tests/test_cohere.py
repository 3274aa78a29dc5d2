"""Cohere's v2 chat dialect (``trio_direct.models.cohere``).

Most expectations are not hand-written: ``tests/data/cohere_requests.json`` and
``cohere_responses.json`` hold what pydantic-ai 2.68's ``CohereModel`` (over the ``cohere`` 7.3 SDK)
sent and returned for each scenario, captured with a mock transport by
``tests/data/make_cohere_fixtures.py``. Request bodies are compared as JSON; replies are replayed through
``httpx.MockTransport`` (parsing only) and compared field by field. The loopback tests at the end run
real sockets: streaming, early exit, HTTP errors and the API key kept out of errors.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings
from pathlib import Path
from typing import Any
from unittest import mock

import attrs
import httpx
import orjson
import pytest
import trio
from hypothesis import given
from hypothesis import strategies as st

import trio_direct
from tests.captured import first_difference, params_from_capture, settings_from_capture
from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolDefinition,
    TrioDirectError,
    use_http_client,
)
from trio_direct._parts import PartsManager
from trio_direct._sse import ServerSentEvent, SSEDecoder
from trio_direct.events import ModelResponseStreamEvent
from trio_direct.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelServerError,
    UnexpectedModelBehavior,
    UserError,
)
from trio_direct.messages import ModelMessage, UserPromptPart
from trio_direct.models import cohere as co
from trio_direct.models import infer_model
from trio_direct.serialization import messages_from_python, messages_to_python
from trio_direct.settings import ModelSettings

DATA = Path(__file__).parent / "data"
REQUEST_CASES: list[dict[str, Any]] = json.loads((DATA / "cohere_requests.json").read_text())
RESPONSE_CASES: list[dict[str, Any]] = json.loads((DATA / "cohere_responses.json").read_text())
PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
KEY = "co-loopback-secret-123456"

#: Upstream raises these for items Cohere cannot take; ours is a UserError (a RuntimeError) with the fix.
_UPSTREAM_RUNTIME_ERRORS = {"RuntimeError", "NotImplementedError"}
#: The `timeout` setting is honoured as an inactivity limit here; upstream ignores it with this warning.
_TIMEOUT_WARNING = "The `timeout` setting is not supported"
#: Stream cases where we raise on purpose and upstream returns the truncated parts (module docstring).
_TRUNCATED_STREAMS = {"s_no_message_end"}


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68


def _build(case: dict[str, Any]) -> tuple[Any, list[str], dict[str, str], str]:
    messages = messages_from_python(case["messages"])
    model = co.CohereModel(case["model"], api_key="k", base_url="https://api.cohere.com")
    settings = settings_from_capture(case["settings"])
    params = params_from_capture(case["params"], messages)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        request = model.build_request(messages, settings, params, stream=case["stream"])
    return orjson.loads(request.body), [str(w.message) for w in caught], dict(request.headers), request.url


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """Each scenario's body, warnings and auth header are what pydantic-ai 2.68 sent (or both raise)."""
    expected = case["expected"]
    if "error" in expected:
        with pytest.raises(UserError) as raised:
            _build(case)
        if expected["error"] == "UserError" and "Invalid tool names" not in expected["message"]:
            assert str(raised.value) == expected["message"]
        elif expected["error"] in _UPSTREAM_RUNTIME_ERRORS:
            assert isinstance(raised.value, RuntimeError)
            assert str(raised.value).startswith(expected["message"].rstrip("."))
        return
    body, caught, headers, url = _build(case)
    assert first_difference(body, expected["body"]) is None
    want_warnings = [
        w
        for w in expected["warnings"]
        if not w.startswith(_TIMEOUT_WARNING) and not w.startswith("Pydantic serializer")
    ]
    assert [w.replace("'cohere:", "'cohere:") for w in caught] == want_warnings
    assert url == "https://api.cohere.com" + expected["path"]
    assert headers["authorization"] == expected["headers"]["authorization"]
    assert headers["accept"] == ("text/event-stream" if case["stream"] else "application/json")


def test_request_cases_cover_the_dialect() -> None:
    names = {c["name"] for c in REQUEST_CASES}
    assert len(REQUEST_CASES) >= 45
    for needed in ("history", "retry_toolless", "retry_tool_errors", "thinking_xhigh", "prompted_output"):
        assert needed in names


def test_url_headers_and_key_never_shown() -> None:
    model = co.CohereModel("command-a-03-2025", api_key="co-secret-key", base_url="https://proxy.example/x/")
    request = model.build_request(PROMPT, ModelSettings(), ModelRequestParameters(), stream=False)
    assert request.url == "https://proxy.example/x/v2/chat"
    assert request.headers["authorization"] == "Bearer co-secret-key"
    assert request.headers["content-type"] == "application/json"
    assert model.base_url == "https://proxy.example/x"
    assert (model.system, model.model_id) == ("cohere", "cohere:command-a-03-2025")
    for text in (repr(model), repr(model.provider), repr(request)):
        assert "co-secret-key" not in text


def test_environment_and_registry() -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CO_", "COHERE_"))}
    with mock.patch.dict(os.environ, clean, clear=True):
        with pytest.raises(UserError, match="CO_API_KEY"):
            infer_model("cohere:command-a-03-2025")
        os.environ["COHERE_API_KEY"] = "from-cohere-var"
        model = infer_model("cohere:command-r7b-12-2024")
        assert isinstance(model, co.CohereModel)
        assert model.provider.api_key == "from-cohere-var"
        assert model.base_url == "https://api.cohere.com"
        os.environ |= {"CO_API_KEY": "from-co-var", "CO_BASE_URL": "http://127.0.0.1:9/"}
        model = infer_model("cohere:command-r7b-12-2024")
        assert isinstance(model, co.CohereModel)
        assert (model.provider.api_key, model.base_url) == ("from-co-var", "http://127.0.0.1:9")
        # an explicit argument beats the environment
        assert co.CohereModel("m", api_key="explicit").provider.api_key == "explicit"
    assert "cohere" in trio_direct.models.known_prefixes()
    assert "cohere:command-a-reasoning-08-2025" in trio_direct.models.known_model_names()


@pytest.mark.parametrize("name", ["", " command-a", "command-a\n", "a\x00b", "x\x7f"])
def test_model_names_are_validated(name: str) -> None:
    with pytest.raises(UserError, match="model name"):
        co.CohereModel(name, api_key="k")


def test_explicit_thinking_parameter_and_unknown_level() -> None:
    # an explicit params.thinking goes out even on a model the profile says cannot think (as 2.68)
    body = co.build_cohere_body(
        "command-r7b-12-2024",
        PROMPT,
        ModelSettings(),
        ModelRequestParameters(thinking="low"),
        co.cohere_profile("command-r7b-12-2024"),
        stream=False,
    )
    assert body["thinking"] == {"type": "enabled", "token_budget": 2048}
    with pytest.raises(UserError, match="thinking"):
        co.build_cohere_body(
            "command-a-reasoning-08-2025",
            PROMPT,
            ModelSettings(thinking="extreme"),  # type: ignore[typeddict-item]
            ModelRequestParameters(),
            co.cohere_profile("command-a-reasoning-08-2025"),
            stream=False,
        )


def test_tool_call_without_id_gets_one() -> None:
    history: list[ModelMessage] = [
        ModelRequest.user_text_prompt("x"),
        ModelResponse([ToolCallPart("f", {"a": 1}, "")]),
    ]
    messages = co.map_cohere_messages(history, [])
    call_id = messages[1]["tool_calls"][0]["id"]
    assert call_id.startswith("pyd_ai_")


# --------------------------------------------------------------------------------------------------
# responses, streams and errors against pydantic-ai 2.68

_VOLATILE = {"timestamp", "provider_url"}


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _scrub(v) for k, v in value.items() if k not in _VOLATILE}
        if isinstance(out.get("tool_call_id"), str) and out["tool_call_id"].startswith("pyd_ai_"):
            out["tool_call_id"] = "<generated>"
        return out
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _transport(case: dict[str, Any]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        default_type = "text/event-stream" if case["kind"] == "stream" else "application/json"
        headers = {"content-type": case.get("content_type", default_type), **case.get("headers", {})}
        return httpx.Response(case.get("status", 200), content=case["body"].encode(), headers=headers)

    return httpx.MockTransport(handler)


def _event_shape(event: Any) -> tuple[Any, ...]:
    if isinstance(event, dict):
        part = event.get("part") or event.get("delta") or {}
        return (event["event_kind"], event.get("index"), part.get("part_kind") or part.get("part_delta_kind"))
    as_dict = attrs.asdict(event, recurse=False)
    part = as_dict.get("part") or as_dict.get("delta")
    kind = getattr(part, "part_kind", None) or getattr(part, "part_delta_kind", None)
    return (event.event_kind, as_dict.get("index"), kind)


@pytest.mark.parametrize("case", RESPONSE_CASES, ids=[c["name"] for c in RESPONSE_CASES])
async def test_response_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """The same reply bytes give pydantic-ai 2.68's response (every field), event sequence, or error."""
    model = co.CohereModel(case.get("model", "command-r7b-12-2024"), api_key="k", base_url="http://test")
    expected = case["expected"]
    events: list[ModelResponseStreamEvent] = []
    response: ModelResponse | None = None
    async with httpx.AsyncClient(transport=_transport(case)) as client, use_http_client(client):
        try:
            if case["kind"] == "stream":
                async with trio_direct.model_request_stream(model, PROMPT) as stream:
                    async for event in stream:
                        events.append(event)
                    response = stream.get()
            else:
                response = await trio_direct.model_request(model, PROMPT)
        except TrioDirectError as exc:
            if case["name"] in _TRUNCATED_STREAMS:
                assert isinstance(exc, ModelConnectionError) and exc.in_stream
                assert "message-end" in str(exc)
                return
            assert "error" in expected, f"raised {exc!r}"
            error = expected["error"]
            assert type(exc).__name__ == error["type"], exc
            assert getattr(exc, "status_code", None) == error["status_code"]
            if isinstance(exc, ModelAPIError):
                assert exc.body == error["body"]
            if error["type"] in ("ModelHTTPError",) or error["type"].startswith("Model"):
                assert str(exc) == error["message"]
            if isinstance(exc, UnexpectedModelBehavior):
                assert str(exc) == error["message"]
            return
    assert case["name"] not in _TRUNCATED_STREAMS
    assert "error" not in expected, f"expected {expected['error']['type']}"
    assert response is not None
    got = _scrub(messages_to_python([response])[0])
    assert first_difference(got, _scrub(expected["response"])) is None
    if case["kind"] == "stream":
        assert [_event_shape(e) for e in events] == [_event_shape(e) for e in expected["events"]]


def test_response_cases_cover_the_dialect() -> None:
    names = {c["name"] for c in RESPONSE_CASES}
    for needed in ("r_tool_calls", "r_cached_tokens", "e_400_too_many_tokens", "s_tool_calls", "s_empty"):
        assert needed in names


def test_retry_after_from_a_429() -> None:
    error = co.cohere_http_error(429, {"retry-after": "7"}, b'{"message": "slow down"}', "m")
    assert isinstance(error, ModelRateLimitError) and isinstance(error, ModelHTTPError)
    assert error.retry_after == 7.0


def test_unreadable_bodies() -> None:
    with pytest.raises(ModelAPIError, match="not JSON"):
        co.parse_cohere_response(b"<html>", model_name="m")
    with pytest.raises(UnexpectedModelBehavior, match="Invalid response from the Cohere chat endpoint"):
        co.parse_cohere_response(b'{"id": "x"}', model_name="m")
    with pytest.raises(UnexpectedModelBehavior):
        co.parse_cohere_response(b'{"message": {"content": "text"}}', model_name="m")


# --------------------------------------------------------------------------------------------------
# usage (genai-prices' "tokens" extractor, as 2.68 runs it)

_counts = st.one_of(st.none(), st.integers(0, 10**9), st.floats(0, 1e9, allow_nan=False), st.text(max_size=3))


@given(
    billed=st.dictionaries(
        st.sampled_from(["input_tokens", "output_tokens", "search_units", "classifications", "other"]),
        _counts,
    ),
    tokens=st.one_of(st.none(), st.dictionaries(st.sampled_from(["input_tokens", "output_tokens"]), _counts)),
    cached=_counts,
)
def test_usage_mapping_properties(billed: dict[str, Any], tokens: dict[str, Any] | None, cached: Any) -> None:
    usage: dict[str, Any] = {"billed_units": billed}
    if tokens is not None:
        usage["tokens"] = tokens
    if cached is not None:
        usage["cached_tokens"] = cached
    mapped = co.map_cohere_usage(usage)
    # details are exactly the non-zero numeric billed units Cohere defines
    for key, value in mapped.details.items():
        assert key in ("input_tokens", "output_tokens", "search_units", "classifications")
        assert value == int(billed[key]) and value != 0
    # counts come from `tokens` and `cached_tokens` only, as ints
    want_input = tokens.get("input_tokens") if tokens else None
    if isinstance(want_input, int | float) and not isinstance(want_input, bool):
        assert mapped.input_tokens == int(want_input)
    else:
        assert mapped.input_tokens == 0
    assert all(isinstance(getattr(mapped, n), int) for n in ("input_tokens", "output_tokens"))
    assert mapped.unmeasured_requests == 0
    assert messages_to_python([ModelResponse([TextPart("x")], usage=mapped)])  # serializes


# --------------------------------------------------------------------------------------------------
# the stream mapper, event by event


def _sse(data: dict[str, Any] | str) -> ServerSentEvent:
    return ServerSentEvent(
        data["type"] if isinstance(data, dict) else None, data if isinstance(data, str) else json.dumps(data)
    )


def test_stream_mapper_events() -> None:
    parts = PartsManager()
    mapper = co.CohereStreamMapper(parts, model_name="m", provider_name="cohere", provider_url="u")
    out: list[ModelResponseStreamEvent] = []
    for data in (
        {"type": "message-start", "id": "r1", "delta": {"message": {"role": "assistant"}}},
        {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"thinking": "hm"}}}},
        {"type": "content-delta", "index": 1, "delta": {"message": {"content": {"text": "Hi"}}}},
        {"type": "content-delta", "index": 1, "delta": {"message": {"content": {"text": "!"}}}},
        {"type": "tool-plan-delta", "delta": {"message": {"tool_plan": "plan"}}},
        {
            "type": "tool-call-start",
            "index": 0,
            "delta": {"message": {"tool_calls": {"id": "c1", "function": {"name": "f", "arguments": ""}}}},
        },
        {
            "type": "tool-call-delta",
            "index": 0,
            "delta": {"message": {"tool_calls": {"function": {"arguments": "{}"}}}},
        },
        {"type": "tool-call-end", "index": 0},
        {"type": "something-new"},
        {
            "type": "message-end",
            "delta": {"finish_reason": "TOOL_CALL", "usage": {"tokens": {"input_tokens": 3}}},
        },
    ):
        mapper.feed(_sse(data), out)
    mapper.feed(_sse("[DONE]"), out)
    mapper.finish(out)
    assert parts.get_parts() == [ThinkingPart("hm"), TextPart("Hi!"), ToolCallPart("f", "{}", "c1")]
    assert [type(e) for e in out] == [
        PartStartEvent,
        PartStartEvent,
        PartDeltaEvent,
        PartStartEvent,
        PartDeltaEvent,
    ]
    meta = mapper.meta
    assert (meta.provider_response_id, meta.finish_reason, meta.provider_details) == (
        "r1",
        "tool_call",
        {"finish_reason": "TOOL_CALL"},
    )
    assert meta.usage.input_tokens == 3 and meta.usage.unmeasured_requests == 0


@pytest.mark.parametrize(
    "data",
    ["{nope", "[1]", '{"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": 5}}}}'],
)
def test_stream_mapper_rejects_unreadable_events(data: str) -> None:
    mapper = co.CohereStreamMapper(PartsManager(), model_name="m", provider_name="cohere", provider_url=None)
    with pytest.raises(UnexpectedModelBehavior, match="Cohere stream"):
        mapper.feed(ServerSentEvent(None, data), [])


def test_stream_mapper_end_states() -> None:
    empty = co.CohereStreamMapper(PartsManager(), model_name="m", provider_name="cohere", provider_url=None)
    with pytest.raises(UnexpectedModelBehavior, match="ended without content"):
        empty.finish([])
    cut = co.CohereStreamMapper(PartsManager(), model_name="m", provider_name="cohere", provider_url=None)
    cut.feed(_sse({"type": "message-start", "id": "x"}), [])
    with pytest.raises(ModelConnectionError, match="truncated") as raised:
        cut.finish([])
    assert raised.value.in_stream
    done = co.CohereStreamMapper(PartsManager(), model_name="m", provider_name="cohere", provider_url=None)
    done.feed(_sse({"type": "message-end", "delta": {"finish_reason": "COMPLETE"}}), [])
    done.finish([])
    assert done.meta.usage.unmeasured_requests == 1


# --------------------------------------------------------------------------------------------------
# real sockets


def _event(type_: str, **fields: Any) -> str:
    return f"event: {type_}\ndata: {json.dumps({'type': type_, **fields})}\n\n"


def _text_delta(text: str, index: int = 0) -> str:
    return _event("content-delta", index=index, delta={"message": {"content": {"text": text}}})


def cohere(srv: LoopbackServer, name: str = "command-a-03-2025") -> co.CohereModel:
    return co.CohereModel(name, api_key=KEY, base_url=srv.url)


async def test_streamed_text_over_loopback(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                _event("message-start", id="s1", delta={"message": {"role": "assistant"}}),
                _event(
                    "content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}
                ),
                _text_delta("Hello"),
                _text_delta(" world"),
                _event("content-end", index=0),
                _event(
                    "message-end",
                    delta={
                        "finish_reason": "COMPLETE",
                        "usage": {"tokens": {"input_tokens": 5, "output_tokens": 2}},
                    },
                ),
            ],
            delay=0.005,
        )
    )
    async with trio_direct.model_request_stream(cohere(loopback), PROMPT) as stream:
        texts = [e.delta.content_delta for e in [e async for e in stream] if isinstance(e, PartDeltaEvent)]
        response = stream.get()
    assert texts == [" world"]
    assert response.parts == [TextPart("Hello world")]
    assert (response.finish_reason, response.provider_response_id, response.state) == (
        "stop",
        "s1",
        "complete",
    )
    assert (response.usage.input_tokens, response.usage.output_tokens) == (5, 2)
    sent = loopback.requests[0]
    assert sent.path == "/v2/chat"
    assert sent.json == {
        "model": "command-a-03-2025",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["accept"] == "text/event-stream"


async def test_non_streamed_over_loopback(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {
                "id": "r9",
                "finish_reason": "TOOL_CALL",
                "message": {
                    "role": "assistant",
                    "tool_plan": "call f",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                "usage": {
                    "billed_units": {"input_tokens": 1, "output_tokens": 2},
                    "tokens": {"input_tokens": 3},
                },
            }
        )
    )
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="f")])
    response = await trio_direct.model_request(
        cohere(loopback),
        PROMPT,
        model_settings=ModelSettings(tool_choice="required"),
        model_request_parameters=params,
    )
    assert response.parts == [ToolCallPart("f", "{}", "c1")]
    assert response.usage.details == {"input_tokens": 1, "output_tokens": 2}
    assert loopback.requests[0].json["tool_choice"] == "REQUIRED"
    assert loopback.requests[0].json["stream"] is False


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [_event("message-start", id="x"), _text_delta("first"), _text_delta(" second")], then=stall()
        )
    )
    async with trio_direct.model_request_stream(cohere(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


async def test_truncated_stream_raises_from_the_loop(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([_event("message-start", id="x"), _text_delta("partial")]))
    async with trio_direct.model_request_stream(cohere(loopback), PROMPT) as stream:
        seen: list[Any] = []
        with pytest.raises(ModelConnectionError, match="message-end"):
            async for event in stream:
                seen.append(event)
        assert stream.get().parts == [TextPart("partial")]


@pytest.mark.parametrize(
    ("status", "body", "category"),
    [
        (
            400,
            {"message": "too many tokens: size limit exceeded by 10 tokens"},
            ModelContextWindowExceededError,
        ),
        (401, {"message": "invalid api token"}, ModelAuthenticationError),
        (429, {"message": "slow down"}, ModelRateLimitError),
        (500, {"message": "internal"}, ModelServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
async def test_http_errors_over_loopback(
    loopback: LoopbackServer, status: int, body: dict[str, Any], category: type[Exception], stream: bool
) -> None:
    loopback.enqueue(Reply.json(body, status=status))
    with pytest.raises(category) as raised:
        if stream:
            async with trio_direct.model_request_stream(cohere(loopback), PROMPT):
                pass  # pragma: no cover - the error raises on entry
        else:
            await trio_direct.model_request(cohere(loopback), PROMPT)
    assert isinstance(raised.value, ModelHTTPError)
    assert raised.value.status_code == status and raised.value.body == body


async def test_the_key_never_reaches_an_error(loopback: LoopbackServer) -> None:
    """A server echoing the API key back (in a 401 body, in a stream) never gets it into our errors."""
    loopback.enqueue(
        Reply.json({"message": f"invalid api token {KEY}"}, status=401),
        Reply.sse([f"data: {{not json {KEY}\n\n"]),
        Reply.body(f"<html>{KEY}".encode(), content_type="text/html"),
    )
    errors: list[BaseException] = []
    for attempt in range(3):
        try:
            if attempt == 1:
                async with trio_direct.model_request_stream(cohere(loopback), PROMPT) as stream:
                    async for _ in stream:
                        pass
            else:
                await trio_direct.model_request(cohere(loopback), PROMPT)
        except TrioDirectError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for exc in errors:
        assert KEY not in str(exc) and KEY not in repr(exc)
        assert KEY not in repr(vars(exc)) and KEY not in repr(exc.args)


def test_sync_api_over_loopback(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.json(
            {"id": "r", "finish_reason": "COMPLETE", "message": {"content": [{"type": "text", "text": "ok"}]}}
        )
    )
    response = trio_direct.model_request_sync(
        cohere(loopback), [ModelRequest([UserPromptPart("hi")])], timeout=30
    )
    assert response.text == "ok" and response.usage.unmeasured_requests == 1


def test_sync_stream_over_loopback(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse(
            [
                _event("message-start", id="s1"),
                _text_delta("a"),
                _text_delta("b"),
                _event("message-end", delta={"finish_reason": "COMPLETE"}),
            ]
        )
    )
    with trio_direct.model_request_stream_sync(cohere(loopback), PROMPT, timeout=30) as stream:
        events = list(stream)
        response = stream.get()
    assert [type(e) for e in events][:2] == [PartStartEvent, trio_direct.FinalResultEvent]
    assert response.text == "ab" and response.usage.unmeasured_requests == 1


async def test_timeout_setting_is_an_inactivity_limit(loopback: LoopbackServer) -> None:
    """Upstream ignores `timeout` for Cohere; here it bounds the wait for the reply, as for every provider."""
    loopback.enqueue(Reply.of(stall()))
    with trio.fail_after(10), pytest.raises(trio_direct.ModelTimeoutError):
        await trio_direct.model_request(cohere(loopback), PROMPT, model_settings=ModelSettings(timeout=0.3))


_STREAM = "".join(
    [
        _event("message-start", id="p1"),
        _event("content-delta", index=0, delta={"message": {"content": {"thinking": "th"}}}),
        _event("content-delta", index=1, delta={"message": {"content": {"text": "Hé"}}}),
        _event("content-delta", index=1, delta={"message": {"content": {"text": "llo"}}}),
        _event(
            "tool-call-start",
            index=0,
            delta={"message": {"tool_calls": {"id": "c1", "function": {"name": "f", "arguments": ""}}}},
        ),
        _event(
            "tool-call-delta",
            index=0,
            delta={"message": {"tool_calls": {"function": {"arguments": '{"a":'}}}},
        ),
        _event(
            "tool-call-delta", index=0, delta={"message": {"tool_calls": {"function": {"arguments": "1}"}}}}
        ),
        _event(
            "message-end", delta={"finish_reason": "TOOL_CALL", "usage": {"tokens": {"output_tokens": 2}}}
        ),
    ]
).encode()


def _run_stream(chunks: list[bytes]) -> tuple[list[Any], Any]:
    parts = PartsManager()
    mapper = co.CohereStreamMapper(parts, model_name="m", provider_name="cohere", provider_url=None)
    decoder = SSEDecoder()
    out: list[ModelResponseStreamEvent] = []
    for chunk in chunks:
        for event in decoder.feed(chunk):
            mapper.feed(event, out)
    for event in decoder.close():
        mapper.feed(event, out)
    mapper.finish(out)
    return parts.get_parts(), mapper.meta


@given(st.lists(st.integers(0, len(_STREAM)), max_size=12))
def test_any_chunking_gives_the_same_response(cuts: list[int]) -> None:
    """The mapper is sans-IO: however the network splits the bytes, the parts and metadata are the same."""
    points = [0, *sorted(set(cuts)), len(_STREAM)]
    chunks = [_STREAM[a:b] for a, b in itertools.pairwise(points)]
    parts, meta = _run_stream(chunks)
    assert parts == [ThinkingPart("th"), TextPart("Héllo"), ToolCallPart("f", '{"a":1}', "c1")]
    assert (meta.provider_response_id, meta.finish_reason, meta.usage.output_tokens) == ("p1", "tool_call", 2)
