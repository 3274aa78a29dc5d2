"""Regenerate ``gateway_requests.json``: what pydantic-ai-slim 2.68 sends through the Pydantic AI Gateway.

Not a test and not shipped: the captures need the SDKs pydantic-ai drives each route with (anthropic,
groq, google-genai, boto3), which trio_direct never depends on. Install them in a venv aside and run it
there::

    python -m venv /tmp/oracle-gateway
    /tmp/oracle-gateway/bin/pip install "pydantic-ai-slim[anthropic,groq,google,bedrock]==2.68.0"
    /tmp/oracle-gateway/bin/python tests/data/make_gateway_fixtures.py

For each ``gateway/<route>:<model>`` scenario it sets ``PYDANTIC_AI_GATEWAY_API_KEY`` and
``PYDANTIC_AI_GATEWAY_BASE_URL`` (a loopback recording server's ``/proxy``), clears every upstream
provider's own key variables, and runs ``pydantic_ai.direct.model_request`` (or ``model_request_stream``)
on the model string. It records the method, path, query, headers and JSON body of the request, and the
``ModelResponse`` 2.68 made of a canned reply, with the server's root written as ``ROOT``. Then, on the
Anthropic, Groq and Gemini routes, the usage 2.68 reads from replies and streams carrying the cost the
Gateway reports (``COSTS``: in the body, the deprecated body field, the header, both, zero, negative).

The HTTP routes go to the recording server. Bedrock goes through botocore, which sends a bearer token
only over HTTPS: its request is taken from botocore's ``before-send`` event (the exact bytes it would put
on the wire, with the gateway URL) and answered there.
"""

import asyncio
import json
import os
import struct
import sys
import threading
import warnings
import zlib
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.messages import ModelMessagesTypeAdapter
from pydantic_ai.models import ModelRequestParameters, infer_model
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
KEY = "pylf_v1_us_0123456789abcdefGATEWAYkey"
#: headers not worth keeping: the SDKs' own (user agent, retries, platform), and the transport's
DROP = ("user-agent", "x-stainless", "host", "content-length", "accept-encoding", "connection", "amz-sdk")

WEATHER = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
MESSAGES = [
    m.ModelRequest(
        parts=[m.SystemPromptPart("Be terse.", timestamp=T), m.UserPromptPart("Hello", timestamp=T)],
        timestamp=T,
    )
]
SETTINGS = {"max_tokens": 100}
PARAMS = {"tools": [{"name": "get_weather", "description": "Weather", "schema": WEATHER}]}

#: route → the model the scenario uses
MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "groq": "llama-3.3-70b-versatile",
    "google": "gemini-2.5-flash",
    "google-cloud": "gemini-2.5-flash",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "converse": "amazon.nova-micro-v1:0",
}


def sse(events: list[Any], *, named: bool = False) -> bytes:
    out = ""
    for event in events:
        if named:
            out += f"event: {event['type']}\n"
        out += "data: " + json.dumps(event) + "\n\n"
    return out.encode()


ANTHROPIC_REPLY = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "usage": {"input_tokens": 3, "output_tokens": 1},
}
ANTHROPIC_STREAM = sse(
    [
        {"type": "message_start", "message": {**ANTHROPIC_REPLY, "content": [], "stop_reason": None}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "o"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "k"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 1}},
        {"type": "message_stop"},
    ],
    named=True,
)
GROQ_REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1767323045,
    "model": "llama-3.3-70b-versatile",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}


def _groq_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1767323045,
        "model": "llama-3.3-70b-versatile",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


GROQ_STREAM = (
    sse(
        [
            _groq_chunk({"role": "assistant", "content": ""}),
            _groq_chunk({"content": "o"}),
            _groq_chunk({"content": "k"}),
            _groq_chunk(
                {},
                "stop",
                x_groq={
                    "id": "req_1",
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                },
            ),
        ]
    )
    + b"data: [DONE]\n\n"
)
GOOGLE_REPLY = {
    "candidates": [{"content": {"role": "model", "parts": [{"text": "ok"}]}, "finishReason": "STOP"}],
    "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 1, "totalTokenCount": 4},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-1",
}
GOOGLE_STREAM = b"".join(
    b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"
    for chunk in (
        {"candidates": [{"content": {"role": "model", "parts": [{"text": "o"}]}}], "responseId": "resp-1"},
        {
            **GOOGLE_REPLY,
            "candidates": [
                {**GOOGLE_REPLY["candidates"][0], "content": {"role": "model", "parts": [{"text": "k"}]}}
            ],
        },
    )
)
BEDROCK_REPLY = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
    "metrics": {"latencyMs": 1},
}


def _frame(event_type: str, payload: Any) -> bytes:
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        headers += (
            bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        )
    data = json.dumps(payload).encode()
    total = 12 + len(headers) + len(data) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + headers + data
    return body + struct.pack(">I", zlib.crc32(body))


BEDROCK_STREAM = b"".join(
    [
        _frame("messageStart", {"role": "assistant"}),
        _frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "o"}}),
        _frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "k"}}),
        _frame("contentBlockStop", {"contentBlockIndex": 0}),
        _frame("messageStop", {"stopReason": "end_turn"}),
        _frame(
            "metadata",
            {"usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4}, "metrics": {"latencyMs": 1}},
        ),
    ]
)


#: The cost each scenario has the Gateway report (``COSTS``): where, and how. ``body`` is the usage
#: block the Gateway injects (in a stream: Anthropic's ``message_delta`` usage, Groq's final chunk's
#: top-level ``usage``, an empty last part's ``partMetadata`` on Gemini); ``deprecated`` the older
#: ``pydantic_ai_gateway.cost_estimate`` (a JSON number); ``header`` the ``logfire-ai-gateway-cost``
#: response header; ``negative`` a body cost 2.68 refuses.
COSTS = {
    "body": ({"logfire_ai_gateway": {"cost": "0.0038"}}, None),
    "deprecated": ({"pydantic_ai_gateway": {"cost_estimate": 0.0041}}, None),
    "header": (None, "0.0052USD"),
    "header_and_body": ({"logfire_ai_gateway": {"cost": "0.0038"}}, "0.0052USD"),
    "zero": ({"logfire_ai_gateway": {"cost": "0"}}, None),
    "negative": ({"logfire_ai_gateway": {"cost": "-1"}}, None),
}
#: the cost scenario being captured (None: the plain ones)
COST: list[str | None] = [None]


def with_cost(path: str, data: bytes, streamed: bool) -> bytes:
    """``data`` (the plain reply) with the current scenario's body cost, where the Gateway puts it."""
    block = COSTS[COST[0]][0] if COST[0] else None
    if block is None:
        return data
    if not streamed:
        reply = json.loads(data)
        key = "usageMetadata" if "usageMetadata" in reply else "usage"
        reply[key] = {**reply[key], **block}
        return json.dumps(reply).encode()
    if path.startswith("/proxy/anthropic/"):
        events = [json.loads(line[6:]) for line in data.decode().splitlines() if line.startswith("data: ")]
        for event in events:
            if event["type"] == "message_delta":
                event["usage"] = {**event["usage"], **block}
        return sse(events, named=True)
    if path.startswith("/proxy/groq/"):
        chunks = [
            json.loads(line[6:])
            for line in data.decode().splitlines()
            if line.startswith("data: ") and line != "data: [DONE]"
        ]
        chunks[-1]["usage"] = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4, **block}
        return sse(chunks) + b"data: [DONE]\n\n"
    chunks = [json.loads(line[6:]) for line in data.decode().split("\r\n\r\n") if line.startswith("data: ")]
    chunks[-1]["candidates"][0]["content"]["parts"].append({"text": "", "partMetadata": block})
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


def reply_for(path: str) -> tuple[str, bytes]:
    """(content type, body) the recording server answers ``path`` with."""
    if path.startswith("/proxy/anthropic/"):
        return ("application/json", json.dumps(ANTHROPIC_REPLY).encode())
    if path.startswith("/proxy/groq/"):
        return ("application/json", json.dumps(GROQ_REPLY).encode())
    return ("application/json", json.dumps(GOOGLE_REPLY).encode())


def stream_for(path: str) -> bytes:
    if path.startswith("/proxy/anthropic/"):
        return ANTHROPIC_STREAM
    if path.startswith("/proxy/groq/"):
        return GROQ_STREAM
    return GOOGLE_STREAM


class Recorder(BaseHTTPRequestHandler):
    seen: list[dict[str, Any]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        path, _, query = self.path.partition("?")
        payload = json.loads(body)
        Recorder.seen.append(
            {
                "method": "POST",
                "path": path,
                "query": query,
                "headers": keep(self.headers.items()),
                "body": payload,
            }
        )
        streamed = payload.get("stream") is True or "streamGenerateContent" in path
        if streamed:
            data, kind = stream_for(path), "text/event-stream"
        else:
            kind, data = reply_for(path)
        data = with_cost(path, data, streamed)
        self.send_response(200)
        self.send_header("content-type", kind)
        if COST[0] and (header := COSTS[COST[0]][1]):
            self.send_header("logfire-ai-gateway-cost", header)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def keep(items: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in items if not k.lower().startswith(DROP)}


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, amt: int = 1024, decode_content: Any = None) -> Any:
        for i in range(0, len(self.data), amt):
            yield self.data[i : i + amt]

    def read(self, amt: int | None = None) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


def params() -> ModelRequestParameters:
    return ModelRequestParameters(
        function_tools=[
            ToolDefinition(name=t["name"], description=t["description"], parameters_json_schema=t["schema"])
            for t in PARAMS["tools"]
        ]
    )


def run(route: str, stream: bool, root: str) -> dict[str, Any]:
    Recorder.seen.clear()
    model = infer_model(f"gateway/{route}:{MODELS[route]}")
    if route in ("bedrock", "converse"):

        def before_send(request: Any, **_: Any) -> Any:
            path = request.url.split("/proxy", 1)[1]
            Recorder.seen.append(
                {
                    "method": request.method,
                    "path": "/proxy" + path.split("?", 1)[0],
                    "query": path.partition("?")[2],
                    "headers": keep(
                        (k, v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()
                    ),
                    "body": json.loads(request.body),
                    "url_root": request.url.split("/proxy", 1)[0],
                }
            )
            if request.url.endswith("/converse-stream"):
                headers = {"content-type": "application/vnd.amazon.eventstream"}
                return AWSResponse(request.url, 200, headers, _Raw(BEDROCK_STREAM))
            return AWSResponse(
                request.url,
                200,
                {"content-type": "application/json"},
                _Raw(json.dumps(BEDROCK_REPLY).encode()),
            )

        model.client.meta.events.register("before-send.bedrock-runtime.*", before_send)

    async def go() -> Any:
        if stream:
            async with model_request_stream(
                model, MESSAGES, model_settings=SETTINGS, model_request_parameters=params()
            ) as s:
                async for _ in s:
                    pass
                return s.get()
        return await model_request(
            model, MESSAGES, model_settings=SETTINGS, model_request_parameters=params()
        )

    response = asyncio.run(go())
    assert len(Recorder.seen) == 1, Recorder.seen
    sent = dict(Recorder.seen[0])
    url_root = sent.pop("url_root", None)
    dumped = json.loads(ModelMessagesTypeAdapter.dump_json([response]))[0]
    text = json.dumps({"request": sent, "response": dumped})
    text = text.replace(root, "ROOT")
    if url_root is not None:
        text = text.replace(url_root, "ROOT")
    return json.loads(text)


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = f"http://127.0.0.1:{server.server_address[1]}"
    for var in list(os.environ):
        if var.startswith(
            ("ANTHROPIC_", "GROQ_", "GOOGLE_", "GEMINI_", "AWS_", "PYDANTIC_AI_GATEWAY", "PAIG_")
        ):
            del os.environ[var]
    os.environ["PYDANTIC_AI_GATEWAY_API_KEY"] = KEY
    out = []
    for route in MODELS:
        # botocore only sends a bearer token over HTTPS; its request never leaves the process anyway
        base = "https://gateway.invalid" if route in ("bedrock", "converse") else root
        os.environ["PYDANTIC_AI_GATEWAY_BASE_URL"] = base + "/proxy"
        for stream in (False, True):
            captured = run(route, stream, base)
            out.append({"route": route, "model": MODELS[route], "stream": stream, **captured})
    # what 2.68 makes of the cost the Gateway reports, on the routes with a plain HTTP reply
    costs = []
    os.environ["PYDANTIC_AI_GATEWAY_BASE_URL"] = root + "/proxy"
    for route in ("anthropic", "groq", "google"):
        for name in COSTS:
            COST[0] = name
            for stream in (False, True):
                captured = run(route, stream, root)
                usage = captured["response"]["usage"]
                costs.append({"route": route, "stream": stream, "cost": name, "usage": usage})
    COST[0] = None
    server.shutdown()
    fixture = {
        "key": KEY,
        "messages": json.loads(ModelMessagesTypeAdapter.dump_json(MESSAGES)),
        "settings": SETTINGS,
        "params": PARAMS,
        "cases": out,
        "cost_cases": costs,
    }
    (HERE / "gateway_requests.json").write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"{len(out)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
