"""The benchmark fake provider (benchmarks/fake_provider.py), exercised over real HTTP with httpx.Client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from benchmarks.fake_provider import get_stats, reset_stats, start_fake_provider

ROOT = Path(__file__).resolve().parent.parent
BODY: dict[str, Any] = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with start_fake_provider(chunks=5, chunk_chars=3) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        yield c


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """(event name, data) per SSE event, for the simple one-data-line events this server sends."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        name = None
        data = []
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        events.append((name, "\n".join(data)))
    return events


def test_openai_json(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat/completions", json=BODY, headers={"x-fake-chunks": "4", "x-fake-chunk-chars": "5"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert int(r.headers["content-length"]) == len(r.content)
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert len(choice["message"]["content"]) == 20
    usage = body["usage"]
    assert usage["completion_tokens"] == 4
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_openai_sse_with_usage(client: httpx.Client) -> None:
    headers = {"x-fake-chunks": "7", "x-fake-chunk-chars": "6"}
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    r = client.post("/v1/chat/completions", json=body, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    assert r.headers["transfer-encoding"] == "chunked"
    events = sse_events(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "gpt-4o-mini" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    content = [c["choices"][0]["delta"]["content"] for c in chunks[1:-2]]
    assert len(content) == 7
    assert all(len(piece) == 6 for piece in content)
    assert chunks[-2]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 7
    # The non-streamed reply carries the same text.
    plain = client.post("/v1/chat/completions", json=BODY, headers=headers).json()
    assert plain["choices"][0]["message"]["content"] == "".join(content)


def test_openai_sse_without_usage_uses_server_defaults(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json={**BODY, "stream": True})
    events = sse_events(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    assert len(chunks) == 1 + 5 + 1  # role, 5 deltas (server default), finish; no usage chunk
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(len(c["choices"][0]["delta"].get("content") or "abc") == 3 for c in chunks)


def test_anthropic_json(client: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    r = client.post("/v1/messages", json=body, headers={"x-fake-chunks": "3"})
    assert r.status_code == 200
    msg = r.json()
    assert msg["type"] == "message"
    assert msg["role"] == "assistant"
    assert msg["model"] == "claude-sonnet-4-5"
    assert msg["id"].startswith("msg_")
    assert msg["stop_reason"] == "end_turn"
    assert msg["content"] == [{"type": "text", "text": msg["content"][0]["text"]}]
    assert len(msg["content"][0]["text"]) == 9
    assert msg["usage"]["output_tokens"] == 3
    assert msg["usage"]["input_tokens"] >= 1


def test_anthropic_sse_sequence(client: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": True, "messages": []}
    r = client.post("/v1/messages", json=body, headers={"x-fake-chunks": "4", "x-fake-chunk-chars": "2"})
    assert r.status_code == 200
    assert r.headers["transfer-encoding"] == "chunked"
    events = sse_events(r.text)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    datas = [json.loads(data) for _, data in events]
    assert [d["type"] for d in datas] == names
    assert datas[0]["message"]["model"] == "claude-sonnet-4-5"
    assert datas[1]["content_block"] == {"type": "text", "text": ""}
    deltas = [d["delta"] for d in datas[3:7]]
    assert all(d["type"] == "text_delta" and len(d["text"]) == 2 for d in deltas)
    assert datas[-2]["delta"]["stop_reason"] == "end_turn"
    assert datas[-2]["usage"]["output_tokens"] == 4


def test_error_status_bodies(client: httpx.Client) -> None:
    r = client.post(
        "/v1/chat/completions",
        json={**BODY, "stream": True},
        headers={"x-fake-status": "429", "x-fake-retry-after": "2"},
    )
    assert r.status_code == 429
    assert r.headers["retry-after"] == "2"
    err = r.json()["error"]
    assert err["code"] == "rate_limit_exceeded"
    assert set(err) == {"message", "type", "param", "code"}

    r = client.post("/v1/messages", json=BODY, headers={"x-fake-status": "529"})
    assert r.status_code == 529
    body = r.json()
    assert body["type"] == "error"
    assert body["error"]["type"] == "overloaded_error"
    assert body["request_id"].startswith("req_")

    r = client.post("/v1/messages", json=BODY, headers={"x-fake-status": "401"})
    assert (r.status_code, r.json()["error"]["type"]) == (401, "authentication_error")

    # Bad control headers and bad JSON are provider-shaped 400s; unknown routes 404.
    r = client.post("/v1/chat/completions", json=BODY, headers={"x-fake-chunks": "many"})
    assert r.status_code == 400
    assert "x-fake-chunks" in r.json()["error"]["message"]
    r = client.post("/v1/messages", content=b"{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["type"]) == (400, "invalid_request_error")
    assert client.get("/v1/nope").status_code == 404


def test_keep_alive_reuses_one_connection(client: httpx.Client) -> None:
    client.post("/_stats/reset")  # opens the connection; the counters start after it
    for _ in range(3):
        assert client.post("/v1/chat/completions", json=BODY).status_code == 200
        assert client.post("/v1/messages", json={**BODY, "stream": True}).status_code == 200
        assert client.post("/v1/messages", json=BODY, headers={"x-fake-status": "500"}).status_code == 500
    stats = client.get("/_stats").json()
    assert stats["connections_opened"] == 0
    assert stats["requests"] == 9
    assert stats["streams_completed"] == 3
    assert stats["error_responses"] == 3


def test_early_disconnect_is_counted_as_aborted(client: httpx.Client, base_url: str) -> None:
    reset_stats(base_url)
    headers = {"x-fake-chunks": "50", "x-fake-delay-ms": "20"}
    body = {**BODY, "stream": True}
    seen = 0
    with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                seen += 1
                if seen == 3:
                    break
    left_ns = time.monotonic_ns()  # closing the unfinished response closed the connection
    deadline = time.monotonic() + 5
    while (stats := get_stats(base_url))["streams_aborted"] == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert stats["streams_aborted"] == 1
    assert stats["streams_completed"] == 0
    assert stats["active_streams"] == 0
    assert 3 <= stats["last_abort_chunks_sent"] < 50
    assert stats["last_abort_last_chunk_monotonic_ns"] <= stats["last_abort_monotonic_ns"]
    # Same system-wide clock: the server noticed within a moment of the client leaving.
    assert -1_000_000_000 < stats["last_abort_monotonic_ns"] - left_ns < 1_000_000_000
    time.sleep(0.1)  # the stopped stream sends nothing more
    assert get_stats(base_url)["chunks_sent"] == stats["chunks_sent"]


def test_delays_and_long_burst_streams(client: httpx.Client) -> None:
    t0 = time.monotonic()
    r = client.post(
        "/v1/chat/completions",
        json={**BODY, "stream": True},
        headers={"x-fake-chunks": "5", "x-fake-delay-ms": "30", "x-fake-ttft-ms": "40"},
    )
    assert time.monotonic() - t0 >= 0.04 + 4 * 0.03 - 0.005
    assert len(sse_events(r.text)) == 1 + 5 + 1 + 1

    t0 = time.monotonic()
    r = client.post("/v1/messages", json=BODY, headers={"x-fake-ttft-ms": "50"})
    assert r.status_code == 200
    assert time.monotonic() - t0 >= 0.045

    # Delay 0: many deltas written as fast as the socket takes them (flow control pauses the writer).
    n = 20_000
    with client.stream(
        "POST", "/v1/messages", json={**BODY, "stream": True}, headers={"x-fake-chunks": str(n)}
    ) as r:
        names = [name for name, _ in sse_events(r.read().decode())]
    assert names.count("content_block_delta") == n
    assert names[-1] == "message_stop"


def test_connection_close_is_honoured(base_url: str) -> None:
    with httpx.Client(base_url=base_url, headers={"connection": "close"}) as c:
        r = c.post("/v1/chat/completions", json=BODY)
        assert r.headers["connection"] == "close"
        assert c.post("/v1/chat/completions", json=BODY).status_code == 200


def test_cli_prints_url_and_writes_ready_file(tmp_path: Path) -> None:
    ready = tmp_path / "port"
    cmd = [sys.executable, "-m", "benchmarks.fake_provider", "--port", "0", "--ready-file", str(ready)]
    with subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            port = int(ready.read_text())
            assert line == f"http://127.0.0.1:{port}"
            assert httpx.get(f"{line}/_stats").json()["requests"] == 0
        finally:
            proc.terminate()
            assert proc.wait(5) == 0


def test_context_manager_stops_the_process() -> None:
    with start_fake_provider() as url:
        port = int(url.rsplit(":", 1)[1])
        assert httpx.get(f"{url}/health").status_code == 200
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def _raw_chunks(base_url: str, headers: dict[str, str], body: dict[str, Any]) -> list[bytes]:
    """POST over a raw socket and return the HTTP chunks of the reply as the server framed them."""
    host, port = base_url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\nconnection: close\r\n{head}\r\n"
    ).encode() + payload
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    rest = data.split(b"\r\n\r\n", 1)[1]
    chunks = []
    while True:
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line, 16)
        if size == 0:
            return chunks
        chunks.append(rest[:size])
        rest = rest[size + 2 :]


def test_one_sse_event_per_http_chunk_by_default(base_url: str) -> None:
    """Real providers flush every event: by default each content delta is an HTTP chunk of its own."""
    body = {**BODY, "stream": True}
    chunks = _raw_chunks(base_url, {"x-fake-chunks": "40"}, body)
    deltas = [c for c in chunks if b'"content":"' in c and b'"role"' not in c]
    assert len(deltas) == 40
    assert all(c.count(b"data: ") == 1 for c in deltas)


def test_burst_packs_many_events_per_chunk(base_url: str) -> None:
    body = {**BODY, "stream": True}
    chunks = _raw_chunks(base_url, {"x-fake-chunks": "400", "x-fake-burst": "1"}, body)
    assert max(c.count(b"data: ") for c in chunks) > 100
    assert sum(c.count(b'"delta":{"content":') for c in chunks) == 400


def test_last_stream_reports_paced_write_times(client: httpx.Client) -> None:
    body = {**BODY, "stream": True}
    r = client.post("/v1/chat/completions", json=body, headers={"x-fake-chunks": "6", "x-fake-delay-ms": "2"})
    assert r.status_code == 200
    writes = client.get("/_stats/last_stream").json()["write_ns"]
    assert len(writes) == 6
    assert writes == sorted(writes)
    assert writes[-1] - writes[0] >= 5 * 2_000_000 * 0.9  # paced ~2 ms apart (the server's own clock)


# --- x-fake-tool: one tool call whose JSON arguments stream as fragments -----------------------------

TOOL_HEADERS = {"x-fake-tool": "1", "x-fake-chunks": "6", "x-fake-chunk-chars": "5"}


def _tool_args(chunks: int, chunk_chars: int) -> str:
    """What the fake's tool-call arguments add up to: ``{"text": <the reply text>}``, compact."""
    from benchmarks.fake_provider import _cyclic_text

    return json.dumps({"text": _cyclic_text(0, chunks * chunk_chars)}, separators=(",", ":"))


def test_openai_tool_stream_shape(client: httpx.Client) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    r = client.post("/v1/chat/completions", json=body, headers=TOOL_HEADERS)
    assert r.status_code == 200
    events = sse_events(r.text)
    assert events[-1] == (None, "[DONE]")
    chunks = [json.loads(data) for _, data in events[:-1]]
    # first chunk, opening fragment, 6 fragments, closing fragment, finish, usage
    assert len(chunks) == 1 + 1 + 6 + 1 + 1 + 1
    first = chunks[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["content"] is None
    (call,) = first["tool_calls"]
    assert call["index"] == 0 and call["type"] == "function" and call["id"].startswith("call_")
    assert call["function"] == {"name": "record_text", "arguments": ""}
    fragments = []
    for c in chunks[1:-2]:
        (tc,) = c["choices"][0]["delta"]["tool_calls"]
        assert tc.keys() == {"index", "function"} and tc["index"] == 0  # no id or name after the first
        assert c["choices"][0]["finish_reason"] is None
        fragments.append(tc["function"]["arguments"])
    assert [len(f) for f in fragments[1:-1]] == [5] * 6
    assert "".join(fragments) == _tool_args(6, 5)
    assert chunks[-2]["choices"] == [
        {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "tool_calls"}
    ]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 6


def test_openai_tool_json(client: httpx.Client) -> None:
    r = client.post("/v1/chat/completions", json=BODY, headers=TOOL_HEADERS)
    choice = r.json()["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert call["function"]["name"] == "record_text"
    assert call["function"]["arguments"] == _tool_args(6, 5)


def test_anthropic_tool_stream_shape(client: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "stream": True, "messages": []}
    r = client.post("/v1/messages", json=body, headers=TOOL_HEADERS)
    assert r.status_code == 200
    events = sse_events(r.text)
    names = [name for name, _ in events]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        *["content_block_delta"] * (1 + 1 + 6 + 1),  # empty, opening, 6 fragments, closing
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    datas = [json.loads(data) for _, data in events]
    assert [d["type"] for d in datas] == names
    block = datas[1]["content_block"]
    assert block["type"] == "tool_use" and block["id"].startswith("toolu_")
    assert block["name"] == "record_text" and block["input"] == {}
    deltas = [d["delta"] for d in datas[3:12]]
    assert all(d["type"] == "input_json_delta" for d in deltas)
    assert all(d["index"] == 0 for d in datas[3:13])
    assert deltas[0]["partial_json"] == ""
    assert "".join(d["partial_json"] for d in deltas) == _tool_args(6, 5)
    assert datas[-2]["delta"]["stop_reason"] == "tool_use"
    assert datas[-2]["usage"]["output_tokens"] == 6


def test_anthropic_tool_json(client: httpx.Client) -> None:
    body = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": []}
    msg = client.post("/v1/messages", json=body, headers=TOOL_HEADERS).json()
    assert msg["stop_reason"] == "tool_use"
    (block,) = msg["content"]
    assert block["type"] == "tool_use" and block["name"] == "record_text"
    assert block["input"] == json.loads(_tool_args(6, 5))


def test_tool_stream_one_fragment_per_http_chunk(base_url: str) -> None:
    body = {**BODY, "stream": True}
    chunks = _raw_chunks(base_url, {"x-fake-tool": "1", "x-fake-chunks": "30"}, body)
    fragment = b'"tool_calls":[{"index":0,"function":{"arguments":'
    assert sum(c.count(fragment) for c in chunks) == 30 + 2  # with the opening and closing fragments
    # the 30 argument deltas each travel alone; the opening and closing events share their chunks
    alone = [c for c in chunks if c.count(b"data: ") == 1 and fragment in c]
    assert len(alone) == 30


def test_tool_default_from_the_command_line() -> None:
    with start_fake_provider(chunks=3, chunk_chars=4, tool=True) as url:
        r = httpx.post(url + "/v1/chat/completions", json=BODY, timeout=10)
        assert r.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] == _tool_args(3, 4)
        r = httpx.post(url + "/v1/chat/completions", json=BODY, headers={"x-fake-tool": "0"}, timeout=10)
        assert r.json()["choices"][0]["message"]["content"] == _tool_args(3, 4)[9:-2]


# --- our client against the fake: the tool stream parses to the full call ----------------------------


def _tool_params() -> Any:
    from trio_direct.tools import ModelRequestParameters, ToolDefinition

    schema = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    return ModelRequestParameters(
        function_tools=[ToolDefinition(name="record_text", parameters_json_schema=schema)]
    )


async def _stream_tool_call(model: Any) -> tuple[Any, int]:
    from trio_direct import ModelRequest, model_request_stream

    deltas = 0
    async with model_request_stream(
        model,
        [ModelRequest.user_text_prompt("hello")],
        model_request_parameters=_tool_params(),
    ) as stream:
        async for event in stream:
            if event.event_kind == "part_delta":
                deltas += 1
        return stream.get(), deltas


async def test_trio_direct_parses_the_openai_tool_stream(base_url: str) -> None:
    from trio_direct.messages import ToolCallPart
    from trio_direct.models import openai as oa
    from trio_direct.models.base import Provider

    model = oa.OpenAIChatModel(
        "gpt-4o",
        provider=Provider("openai", base_url + "/v1", "sk-test"),
        settings={"extra_headers": TOOL_HEADERS},
    )
    response, deltas = await _stream_tool_call(model)
    (part,) = response.parts
    assert isinstance(part, ToolCallPart)
    assert part.tool_name == "record_text" and part.tool_call_id.startswith("call_fake")
    assert part.args == _tool_args(6, 5)
    assert part.args_as_dict() == json.loads(_tool_args(6, 5))
    assert deltas == 6 + 2  # every fragment after the start is a delta event
    assert response.finish_reason == "tool_call"
    assert response.usage.output_tokens == 6


async def test_trio_direct_parses_the_anthropic_tool_stream(base_url: str) -> None:
    from trio_direct.messages import ToolCallPart
    from trio_direct.models.anthropic import AnthropicModel

    model = AnthropicModel(
        "claude-sonnet-4-5",
        api_key="sk-ant-test",
        base_url=base_url,
        settings={"extra_headers": TOOL_HEADERS},
    )
    response, deltas = await _stream_tool_call(model)
    (part,) = response.parts
    assert isinstance(part, ToolCallPart)
    assert part.tool_name == "record_text" and part.tool_call_id.startswith("toolu_fake")
    assert part.args == _tool_args(6, 5)
    assert deltas == 1 + 6 + 2  # the empty first input_json_delta is an event too (as in 2.68)
    assert response.finish_reason == "tool_call"
    assert response.usage.output_tokens == 6
