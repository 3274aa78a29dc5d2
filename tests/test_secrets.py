"""API keys never show: reprs, exception messages and bodies, tracebacks, logs and spans.

A canary key is handed to every provider; then we search everything a user could print, log or
export for it — including errors from a server that echoes the key back in its error bodies, as
misconfigured proxies and some providers do.
"""

from __future__ import annotations

import json
import logging
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import trio

from tests.hosts import host_env, host_prefixes
from tests.loopback import LoopbackServer, Reply, stall
from tests.reliability import CANARY_KEY, PROMPT, chunk, completion, openai_model, sse_text
from trio_direct import (
    ModelHTTPError,
    ModelSettings,
    TrioDirectError,
    model_request,
    model_request_stream,
    model_request_sync,
)
from trio_direct.models import Model, infer_model
from trio_direct.models.anthropic import AnthropicModel
from trio_direct.models.base import HTTPModel, Provider
from trio_direct.models.fallback import FallbackModel
from trio_direct.models.groq import GroqModel
from trio_direct.models.wrapper import WrapperModel
from trio_direct.retries import RetryingModel, RetryPolicy

CANARY_BYTES = CANARY_KEY.encode()
#: A token that is only the end of the key (providers sometimes echo a masked prefix plus the tail).
PARTIAL = CANARY_KEY[-12:]


def assert_clean(text: str, where: str) -> None:
    assert CANARY_KEY not in text, f"the API key leaked into {where}: {text[:500]!r}"


@pytest.fixture(autouse=True)
def canary_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GROQ_API_KEY",
        "DEEPSEEK_API_KEY",
        "OPENROUTER_API_KEY",
    ):
        monkeypatch.setenv(var, CANARY_KEY)


def anthropic(srv: LoopbackServer | None = None, **settings: Any) -> AnthropicModel:
    url = srv.url if srv is not None else "https://api.anthropic.com"
    return AnthropicModel(
        "claude-sonnet-4-5",
        api_key=CANARY_KEY,
        base_url=url,
        settings={"max_tokens": 32, **settings},  # type: ignore[arg-type]
    )


def all_models() -> list[Model]:
    openai = openai_model(
        "https://api.openai.com/v1", api_key=CANARY_KEY, settings=ModelSettings(temperature=0)
    )
    groq = GroqModel("llama-3.3-70b-versatile", provider=Provider("groq", "https://api.groq.com", CANARY_KEY))
    models: list[Model] = [
        openai,
        anthropic(),
        groq,
        infer_model("openai:gpt-4o"),
        infer_model("anthropic:claude-sonnet-4-5"),
        infer_model("groq:llama-3.3-70b-versatile"),
        infer_model("deepseek:deepseek-chat"),
        infer_model("openrouter:openai/gpt-4o"),
        RetryingModel(openai, RetryPolicy()),
        FallbackModel(openai, anthropic()),
        WrapperModel(groq),
    ]
    try:
        from trio_direct.models.instrumented import InstrumentedModel

        models.append(InstrumentedModel(openai))
    except Exception:  # pragma: no cover - opentelemetry missing
        pass
    return models


# ---------------------------------------------------------------------------------------------
# Reprs
# ---------------------------------------------------------------------------------------------


def test_model_provider_settings_and_request_reprs() -> None:
    for model in all_models():
        assert_clean(repr(model), f"repr({type(model).__name__})")
        assert_clean(str(model), f"str({type(model).__name__})")
        assert_clean(repr(model.settings), f"{type(model).__name__}.settings")
        settings, params = model.prepare_request(ModelSettings(max_tokens=5), None)
        assert_clean(repr(settings) + repr(params), f"{type(model).__name__}.prepare_request()")
        provider = getattr(model, "provider", None)
        if provider is not None:
            assert_clean(repr(provider), f"repr({type(model).__name__}.provider)")
            assert_clean(str(provider), f"str({type(model).__name__}.provider)")
        if isinstance(model, HTTPModel):
            for stream in (False, True):
                request = model.build_request(PROMPT, settings, params, stream=stream)
                assert_clean(repr(request), f"repr(HTTPRequest) of {type(model).__name__}")
                assert_clean(repr(request.body), f"the request body of {type(model).__name__}")
                # ... while the key really is sent
                assert any(CANARY_KEY in value for value in request.headers.values())


def test_provider_repr_masks_the_key() -> None:
    provider = Provider("openai", "https://api.openai.com/v1", CANARY_KEY, {"x-extra": "1"})
    assert repr(provider) == "Provider(name='openai', base_url='https://api.openai.com/v1', api_key='***')"


# ---------------------------------------------------------------------------------------------
# Errors from a server that echoes the key back
# ---------------------------------------------------------------------------------------------


def echo_body(status: int) -> dict[str, Any]:
    auth = status in (200, 401)
    return {
        "type": "error",  # Anthropic's shape; OpenAI's has only "error"
        "error": {
            "message": f"Incorrect API key provided: {CANARY_KEY}. Also seen as Bearer {CANARY_KEY}",
            "type": "invalid_request_error" if auth else "server_error",
            "code": "invalid_api_key" if auth else None,
            "param": {"headers": {"authorization": f"Bearer {CANARY_KEY}"}, "list": [CANARY_KEY]},
        },
    }


def all_text_of(exc: BaseException) -> str:
    """Everything a user could print about an error: str, repr, attributes, notes, the whole chain."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        parts += [str(current), repr(current), repr(current.args), repr(getattr(current, "__notes__", None))]
        for name in ("body", "headers", "message"):
            parts.append(repr(getattr(current, name, None)))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


def echoing_replies(srv: LoopbackServer) -> list[tuple[str, Reply]]:
    text = f"<html><body>Bad gateway for Authorization: Bearer {CANARY_KEY}</body></html>"
    return [
        ("401 JSON", Reply.json(echo_body(401), 401)),
        ("429 JSON + headers", Reply.rate_limited(1, body=echo_body(429), headers={"x-echo": CANARY_KEY})),
        ("502 HTML", Reply.html(text, 502)),
        ("500 text", Reply.text(f"key={CANARY_KEY}", 500)),
        ("200 HTML", Reply.html(text)),
        ("200 error object", Reply.json(echo_body(200))),
        ("200 truncated JSON", Reply.body(b'{"echo": "' + CANARY_BYTES, content_type="application/json")),
    ]


async def test_errors_from_an_echoing_server_never_show_the_key(loopback: LoopbackServer) -> None:
    for name, reply in echoing_replies(loopback):
        for model in (openai_model(loopback, api_key=CANARY_KEY), anthropic(loopback)):
            loopback.enqueue(reply)
            with pytest.raises(TrioDirectError) as info:
                await model_request(model, PROMPT)
            assert_clean(all_text_of(info.value), f"{name} via {model.system}")


async def test_the_redacted_error_still_says_what_happened(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(echo_body(401), 401))
    with pytest.raises(ModelHTTPError) as info:
        await model_request(openai_model(loopback, api_key=CANARY_KEY), PROMPT)
    error = info.value
    assert error.status_code == 401 and error.provider_error_code == "invalid_api_key"
    assert isinstance(error.body, dict)
    assert error.body["message"] == "Incorrect API key provided: ***. Also seen as Bearer ***"
    assert error.body["param"] == {"headers": {"authorization": "Bearer ***"}, "list": ["***"]}
    assert "Incorrect API key provided: ***" in str(error)


async def test_stream_errors_never_show_the_key(loopback: LoopbackServer) -> None:
    echo = {"error": {"message": f"bad key {CANARY_KEY}", "type": "server_error"}}
    replies = [
        Reply.json(echo_body(401), 401),  # before the stream opens
        Reply.sse([echo]),  # an error event first
        Reply.sse([chunk("a"), echo], delay=0.01),  # an error event later
        Reply.sse([chunk("a"), f"data: not json {CANARY_KEY}"], delay=0.01),  # an unreadable chunk
        Reply.json(echo_body(200)),  # JSON instead of a stream
        Reply.html(f"<p>{CANARY_KEY}</p>"),  # HTML instead of a stream
    ]
    for reply in replies:
        loopback.enqueue(reply)
        with pytest.raises(TrioDirectError) as info:
            async with model_request_stream(openai_model(loopback, api_key=CANARY_KEY), PROMPT) as stream:
                async for _ in stream:
                    pass
        assert_clean(all_text_of(info.value), f"stream error {reply.actions[0]!r}")


async def test_anthropic_stream_errors_never_show_the_key(loopback: LoopbackServer) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": CANARY_KEY}}
    event = f"event: error\ndata: {json.dumps(error)}\n\n"
    loopback.enqueue(Reply.sse([event]), Reply.json({"type": "error", "error": {"message": CANARY_KEY}}, 529))
    for _ in range(2):
        with pytest.raises(TrioDirectError) as info:
            async with model_request_stream(anthropic(loopback), PROMPT) as stream:
                async for _ in stream:
                    pass
        assert_clean(all_text_of(info.value), "an Anthropic stream error")


async def test_retry_notes_never_show_the_key(loopback: LoopbackServer) -> None:
    loopback.enqueue(*[Reply.json(echo_body(500), 500)] * 3)
    model = RetryingModel(openai_model(loopback, api_key=CANARY_KEY), RetryPolicy(initial_delay=0.001))
    with pytest.raises(ModelHTTPError) as info:
        await model_request(model, PROMPT)
    assert "earlier attempts" in info.value.__notes__[0]
    assert_clean(all_text_of(info.value), "retry notes")


def test_sync_errors_never_show_the_key(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(echo_body(401), 401))
    with pytest.raises(ModelHTTPError) as info:
        model_request_sync(openai_model(loopback, api_key=CANARY_KEY), PROMPT)
    assert_clean(all_text_of(info.value), "a sync error")


# ---------------------------------------------------------------------------------------------
# Logs, at DEBUG, from every logger (ours, httpx, httpcore)
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def assert_logs_clean(caplog: pytest.LogCaptureFixture) -> None:
    assert caplog.records, "nothing was logged; the test would prove nothing"
    for record in caplog.records:
        formatted = logging.Formatter("%(name)s %(message)s").format(record)
        assert_clean(formatted + repr(record.args) + repr(record.__dict__), f"the log record {record.name}")
    assert_clean(caplog.text, "the captured log")


async def test_logs_never_show_the_key(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    model = RetryingModel(openai_model(loopback, api_key=CANARY_KEY), RetryPolicy(initial_delay=0.001))
    loopback.enqueue(
        Reply.json(echo_body(500), 500),  # retried, and logged by the retry loop
        Reply.json(completion()),
        Reply.json(echo_body(503), 503),
        Reply.sse(sse_text("streamed")),
        Reply.sse([chunk("a")], then=stall()),
    )
    await model_request(model, PROMPT)
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
    with trio.move_on_after(0.2):
        async with model_request_stream(model, PROMPT) as stream:
            async for _ in stream:
                pass
    loopback.enqueue(Reply.json(anthropic_ok()))
    await model_request(anthropic(loopback), PROMPT)
    assert any(r.name.startswith("httpx") or r.name.startswith("httpcore") for r in debug_logs.records)
    assert any(r.name == "trio_direct.retries" for r in debug_logs.records)
    assert_logs_clean(debug_logs)


def anthropic_ok() -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def test_sync_logs_never_show_the_key(loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture) -> None:
    loopback.enqueue(Reply.json(completion()), Reply.json(echo_body(401), 401))
    model_request_sync(openai_model(loopback, api_key=CANARY_KEY), PROMPT)
    with pytest.raises(ModelHTTPError):
        model_request_sync(openai_model(loopback, api_key=CANARY_KEY), PROMPT)
    assert_logs_clean(debug_logs)


# ---------------------------------------------------------------------------------------------
# Spans
# ---------------------------------------------------------------------------------------------


async def test_spans_never_show_the_key(loopback: LoopbackServer) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from trio_direct.models.instrumented import InstrumentationSettings, InstrumentedModel

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        settings = InstrumentationSettings(tracer_provider=provider, include_content=True)
        model = InstrumentedModel(openai_model(loopback, api_key=CANARY_KEY), settings)
        loopback.enqueue(
            Reply.json(completion()),
            Reply.json(echo_body(401), 401),
            Reply.sse(sse_text("ok")),
            Reply.sse([chunk("a"), {"error": {"message": f"bad {CANARY_KEY}", "type": "server_error"}}]),
        )
        await model_request(model, PROMPT)
        with pytest.raises(ModelHTTPError):
            await model_request(model, PROMPT)
        async with model_request_stream(model, PROMPT) as stream:
            async for _ in stream:
                pass
        with pytest.raises(TrioDirectError):
            async with model_request_stream(model, PROMPT) as stream:
                async for _ in stream:
                    pass
        spans = exporter.get_finished_spans()
        assert len(spans) == 4
        for span in spans:
            dumped = span.to_json()
            assert_clean(dumped, f"the span {span.name}")
        assert any(event.name == "exception" for span in spans for event in span.events)
    finally:
        provider.shutdown()


# ---------------------------------------------------------------------------------------------
# The redaction helpers
# ---------------------------------------------------------------------------------------------


def test_credentials_of_finds_header_and_query_keys() -> None:
    from trio_direct._http import HTTPRequest, credentials_of

    request = HTTPRequest(
        "https://example.com/v1/x?alt=sse&key=query-key-123456",
        b"",
        {
            "Authorization": "Bearer bearer-key-123456",
            "x-api-key": "anthropic-key-123456",
            "x-goog-api-key": "goog-key-1234567",
            "api-key": "azure-key-1234567",
            "x-other": "not-a-secret-123456",
            "proxy-authorization": "short",  # too short to be a key: left alone
        },
    )
    assert credentials_of(request) == (
        "bearer-key-123456",
        "anthropic-key-123456",
        "goog-key-1234567",
        "azure-key-1234567",
        "query-key-123456",
    )


def test_redact_error_walks_the_chain_and_keeps_types() -> None:
    from trio_direct._http import redact_error
    from trio_direct.exceptions import ModelConnectionError

    try:
        try:
            raise ValueError(f"inner {CANARY_KEY}")
        except ValueError as inner:
            raise ModelConnectionError("m", f"outer {CANARY_KEY}", body={"k": [CANARY_KEY, 1]}) from inner
    except ModelConnectionError as exc:
        exc.add_note(f"note {CANARY_KEY}")
        redact_error(exc, [CANARY_KEY])
        assert str(exc) == "outer ***" and exc.message == "outer ***"
        assert exc.body == {"k": ["***", 1]} and exc.__notes__ == ["note ***"]
        assert str(exc.__cause__) == "inner ***"
        assert_clean(all_text_of(exc), "a redacted chain")


# ---------------------------------------------------------------------------------------------
# Every OpenAI-compatible host row, with its own key variable (registry-driven)
# ---------------------------------------------------------------------------------------------


def _host_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str | None]) -> None:
    for var, value in env.items():
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)


@pytest.mark.parametrize("prefix", host_prefixes())
async def test_host_rows_never_show_their_key(
    prefix: str, loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _host_env(monkeypatch, host_env(prefix, loopback.url, CANARY_KEY))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the retired `github` row warns
        model = infer_model(f"{prefix}:some-model")
    assert_clean(repr(model), f"the repr of a {prefix} model")
    for name, reply in echoing_replies(loopback):
        loopback.enqueue(reply)
        with pytest.raises(TrioDirectError) as info:
            await model_request(model, PROMPT)
        assert_clean(all_text_of(info.value), f"{name} via {prefix}")


def _azure_env(monkeypatch: pytest.MonkeyPatch, srv: LoopbackServer) -> None:
    _host_env(
        monkeypatch,
        {
            "AZURE_OPENAI_ENDPOINT": srv.url,
            "AZURE_OPENAI_API_KEY": CANARY_KEY,
            "OPENAI_API_VERSION": "2024-10-21",
        },
    )


async def test_azure_api_key_header_never_shows(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resource endpoint sends the key in `api-key`, not `Authorization`: scrubbed all the same."""
    _azure_env(monkeypatch, loopback)
    for prefix in ("azure", "azure-responses"):
        model = infer_model(f"{prefix}:gpt-4o")
        assert_clean(repr(model), f"the repr of an {prefix} model")
        for name, reply in echoing_replies(loopback):
            loopback.enqueue(reply)
            with pytest.raises(TrioDirectError) as info:
                await model_request(model, PROMPT)
            assert_clean(all_text_of(info.value), f"{name} via {prefix}")
    assert all(r.headers.get("api-key") == CANARY_KEY for r in loopback.requests)


async def test_azure_api_key_header_stays_out_of_the_logs(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch, debug_logs: pytest.LogCaptureFixture
) -> None:
    _azure_env(monkeypatch, loopback)
    loopback.enqueue(Reply.json(completion()), Reply.json(echo_body(401), 401))
    await model_request("azure:gpt-4o", PROMPT)
    with pytest.raises(ModelHTTPError):
        await model_request("azure:gpt-4o", PROMPT)
    assert_logs_clean(debug_logs)
