"""_http against a real loopback server: per-run clients, error mapping, streams that close for real."""

from __future__ import annotations

import gc
import json
import socket
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest
import trio

from tests.loopback import LoopbackServer, Reply, reset, stall
from trio_direct import (
    ModelAuthenticationError,
    ModelConnectionError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    ModelServerError,
    ModelTimeoutError,
    TextPart,
    UnexpectedModelBehavior,
    _http,
    model_request,
    model_request_stream,
    use_http_client,
)
from trio_direct._parts import PartsManager
from trio_direct._sse import ServerSentEvent
from trio_direct.events import ModelResponseStreamEvent
from trio_direct.messages import ModelMessage
from trio_direct.models import HTTPModel, Provider, StreamMeta
from trio_direct.settings import ModelSettings

HANG_GUARD = 20
PROMPT: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
SECRET = "sk-loopback-secret-42"


class EchoMapper:
    """A trivial SSE mapper: each event's JSON ``{"t": ...}`` is more text; ``[DONE]`` ends the stream."""

    def __init__(self, parts: PartsManager, model_name: str) -> None:
        self.parts = parts
        self.meta = StreamMeta(model_name=model_name, provider_name="echo")
        self.done = False

    def feed(self, event: ServerSentEvent, out: list[ModelResponseStreamEvent]) -> None:
        if event.data == "[DONE]":
            self.done = True
            return
        out += self.parts.handle_text_delta(vendor_part_id="c", content=json.loads(event.data)["t"])

    def finish(self, out: list[ModelResponseStreamEvent]) -> None:
        if not self.done:
            raise UnexpectedModelBehavior("the stream ended without [DONE]")


class EchoModel(HTTPModel):
    """The smallest HTTP model: POST /chat, JSON ``{"text": ...}`` back, or SSE when streaming."""

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        headers = {"authorization": f"Bearer {self.provider.api_key}"}
        return _http.HTTPRequest.json(self.provider.url("/chat"), {"stream": stream}, headers)

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return ModelResponse([TextPart(json.loads(body)["text"])], model_name=self.model_name)

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> EchoMapper:
        return EchoMapper(parts, self.model_name)


def echo(server: LoopbackServer | str) -> EchoModel:
    url = server if isinstance(server, str) else server.url
    return EchoModel("echo-1", provider=Provider("echo", url, api_key=SECRET))


# --------------------------------------------------------------------------------------------------
# One client per run


def test_one_client_per_run_closed_at_run_end() -> None:
    async def grab() -> httpx.AsyncClient:
        client = _http.current_client()
        assert _http.current_client() is client  # the same for the whole run
        return client

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        first = trio.run(grab)
        second = trio.run(grab)
        assert first is not second
        assert first.is_closed and second.is_closed
        del first, second
        gc.collect()


def test_current_client_outside_a_run() -> None:
    with pytest.raises(RuntimeError):
        _http.current_client()


async def test_each_test_run_and_use_http_client_scoping(loopback: LoopbackServer) -> None:
    default = _http.current_client()
    async with httpx.AsyncClient() as mine:
        async with use_http_client(mine) as given:
            assert given is mine and _http.current_client() is mine
            loopback.enqueue(Reply.json({"text": "via mine"}))
            assert (await model_request(echo(loopback), PROMPT)).text == "via mine"
        assert _http.current_client() is default
        assert not mine.is_closed  # the caller's client stays the caller's
    loopback.enqueue(Reply.json({"text": "via default"}))
    assert (await model_request(echo(loopback), PROMPT)).text == "via default"


async def test_keep_alive_reuses_one_connection(loopback: LoopbackServer) -> None:
    for i in range(3):
        loopback.enqueue(Reply.json({"text": str(i)}))
        assert (await model_request(echo(loopback), PROMPT)).text == str(i)
    assert loopback.connection_count == 1
    assert [r.path for r in loopback.requests] == ["/chat"] * 3
    assert loopback.requests[0].headers["authorization"] == f"Bearer {SECRET}"
    assert loopback.requests[0].json == {"stream": False}


# --------------------------------------------------------------------------------------------------
# Status errors


async def test_json_error_bodies_become_categorized_errors(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.rate_limited(7))
    with pytest.raises(ModelHTTPError) as info:
        await model_request(echo(loopback), PROMPT)
    error = info.value
    assert isinstance(error, ModelRateLimitError)
    assert type(error).__name__ == "ModelRateLimitError"
    assert error.status_code == 429 and error.model_name == "echo-1"
    assert error.body == {"message": "Rate limit exceeded", "type": "rate_limit_error"}  # unwrapped
    assert error.retry_after == 7
    assert error.headers is not None and error.headers["retry-after"] == "7"

    loopback.enqueue(Reply.json({"error": {"message": "bad key", "code": "invalid_api_key"}}, status=401))
    with pytest.raises(ModelAuthenticationError) as auth:
        await model_request(echo(loopback), PROMPT)
    assert SECRET not in str(auth.value) and SECRET not in repr(auth.value.__dict__)


async def test_html_and_empty_error_bodies(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.html("<h1>Bad gateway</h1>", status=502))
    with pytest.raises(ModelServerError) as info:
        await model_request(echo(loopback), PROMPT)
    assert info.value.status_code == 502  # type: ignore[attr-defined]
    assert info.value.body == "<h1>Bad gateway</h1>"

    loopback.enqueue(Reply.body(b"", status=500, content_type=None))
    with pytest.raises(ModelServerError) as empty:
        await model_request(echo(loopback), PROMPT)
    assert empty.value.body is None


async def test_stream_status_errors_raise_from_async_with(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.rate_limited(1))
    with pytest.raises(ModelRateLimitError) as info:
        async with model_request_stream(echo(loopback), PROMPT):
            raise AssertionError("not reached")  # pragma: no cover
    assert not isinstance(info.value, BaseExceptionGroup)


# --------------------------------------------------------------------------------------------------
# Transport errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_connection_refused() -> None:
    model = echo(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ModelConnectionError) as info:
        await model_request(model, PROMPT)
    assert info.value.phase == "connect"
    assert not isinstance(info.value, ModelTimeoutError)
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    with pytest.raises(ModelConnectionError) as streamed:
        async with model_request_stream(model, PROMPT):
            raise AssertionError("not reached")  # pragma: no cover
    assert streamed.value.phase == "connect"


async def test_read_timeout_is_a_timeout_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.of(stall()))
    with trio.fail_after(HANG_GUARD), pytest.raises(ModelTimeoutError) as info:
        await model_request(echo(loopback), PROMPT, model_settings={"timeout": 0.2})
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, ModelConnectionError)
    assert info.value.phase == "read"

    # a stream whose body stalls: the inactivity limit applies between chunks
    loopback.enqueue(Reply.sse([{"t": "a"}], then=stall()))
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(
            echo(loopback), PROMPT, model_settings={"stream_inactivity_timeout": 0.2}
        ) as stream:
            with pytest.raises(ModelTimeoutError) as streamed:
                async for _ in stream:
                    pass
    assert streamed.value.in_stream and streamed.value.phase == "read"
    assert stream.get().parts == [TextPart("a")]


async def test_reset_mid_body(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.truncated(json.dumps({"text": "x" * 100}), at=10, end=reset()))
    with pytest.raises(ModelConnectionError) as info:
        await model_request(echo(loopback), PROMPT)
    assert info.value.phase == "read"

    loopback.enqueue(Reply.sse([{"t": "a"}], then=reset()))
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            with pytest.raises(ModelConnectionError) as streamed:
                async for _ in stream:
                    pass
    assert streamed.value.in_stream
    assert stream.get().parts == [TextPart("a")]


async def test_a_stream_cut_short_by_the_server_is_the_mappers_error(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([{"t": "a"}]))  # a clean end of the body, but no [DONE]
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            with pytest.raises(UnexpectedModelBehavior, match="without"):
                async for _ in stream:
                    pass


# --------------------------------------------------------------------------------------------------
# Streams close for real


async def test_full_stream_over_http(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse([{"t": "Hello"}, {"t": " world"}, "data: [DONE]"]))
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            events = [e async for e in stream]
    assert [e.event_kind for e in events] == ["part_start", "final_result", "part_delta", "part_end"]
    response = stream.get()
    assert response.parts == [TextPart("Hello world")] and response.state == "complete"
    assert response.provider_name == "echo"
    assert loopback.requests[0].json == {"stream": True}


async def test_early_exit_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        Reply.sse_forever([{"t": "a"}, {"t": "b"}], heartbeat=b'data: {"t": "."}\n\n', interval=0.01)
    )
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            async for event in stream:
                if event.event_kind == "part_delta":
                    break
        closed_at = await loopback.wait_for_client_close_async(timeout=HANG_GUARD)
    assert closed_at is not None
    assert stream.get().state == "incomplete"
    # the run's client still works afterwards (a fresh connection: the broken one was not pooled)
    loopback.enqueue(Reply.json({"text": "again"}))
    assert (await model_request(echo(loopback), PROMPT)).text == "again"
    assert loopback.connection_count == 2


async def test_cancelling_the_caller_closes_the_connection(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.sse_forever([{"t": "a"}], interval=0.01))
    with trio.move_on_after(0.2) as scope:
        async with model_request_stream(echo(loopback), PROMPT) as stream:
            async for _ in stream:
                pass
    assert scope.cancelled_caught
    with trio.fail_after(HANG_GUARD):
        await loopback.wait_for_client_close_async(timeout=HANG_GUARD)


def test_keys_never_in_provider_or_request_reprs() -> None:
    model = echo("http://127.0.0.1:1")
    request = model.build_request(PROMPT, ModelSettings(), ModelRequestParameters(), stream=False)
    assert SECRET not in repr(model.provider)
    assert SECRET not in repr(request)
    any_value: Any = model
    assert SECRET not in repr(any_value)
