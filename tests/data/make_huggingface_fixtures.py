"""Regenerate ``huggingface_requests.json`` from pydantic-ai-slim 2.68.

Not a test and not shipped: the captures need pydantic-ai's ``HuggingFaceModel``, which needs the
``huggingface_hub`` SDK that trio_direct never depends on. Install both in a venv aside and run it there::

    python -m venv /tmp/oracle-hf
    /tmp/oracle-hf/bin/pip install "pydantic-ai-slim[huggingface]==2.68.0"
    /tmp/oracle-hf/bin/python tests/data/make_huggingface_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` against a small HTTP server on 127.0.0.1 (the SDK
builds its own HTTP client, so no mock transport can be injected): the body it POSTed, and the
exception it raised while building the request, are written next to this file.
"""

import asyncio
import json
import threading
import warnings
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from pydantic_ai import messages as m
from pydantic_ai._output import OutputObjectDefinition
from pydantic_ai.direct import model_request, model_request_stream
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.huggingface import HuggingFaceModel
from pydantic_ai.providers.huggingface import HuggingFaceProvider
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
SEEN: list[dict] = []

REPLY = {
    "id": "r1",
    "object": "chat.completion",
    "created": 1769546683,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
CHUNK = {
    "id": "r1",
    "object": "chat.completion.chunk",
    "created": 1769546683,
    "model": "m",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        SEEN.append({"body": body, "path": self.path})
        if body.get("stream"):
            data = f"data: {json.dumps(CHUNK)}\n\ndata: [DONE]\n\n".encode()
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
        else:
            data = json.dumps(REPLY).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def system(content):
    return m.SystemPromptPart(content, timestamp=T)


def resp(*parts):
    return m.ModelResponse(parts=list(parts), provider_name="huggingface", timestamp=T, model_name="m")


def tool_return(name, content, call_id="call_1", **kw):
    return m.ToolReturnPart(tool_name=name, content=content, tool_call_id=call_id, timestamp=T, **kw)


def retry(content, tool_name=None, call_id="call_1"):
    return m.RetryPromptPart(content=content, tool_name=tool_name, tool_call_id=call_id, timestamp=T)


W = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def tool(name="get_weather", **kw):
    return ToolDefinition(
        name=name,
        parameters_json_schema=kw.pop("schema", W),
        description=kw.pop("description", "Weather"),
        **kw,
    )


def td_spec(t):
    return {
        "name": t.name,
        "parameters_json_schema": t.parameters_json_schema,
        "description": t.description,
        "strict": t.strict,
        "kind": t.kind,
    }


def params_spec(
    function_tools=(), output_tools=(), allow_text_output=True, output_mode="text", output_object=None
):
    return {
        "function_tools": [td_spec(t) for t in function_tools],
        "output_tools": [td_spec(t) for t in output_tools],
        "allow_text_output": allow_text_output,
        "output_mode": output_mode,
        "output_object": output_object,
    }


def make_params(spec):
    if spec is None:
        return None
    oo = spec["output_object"]
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec["function_tools"]],
        output_tools=[ToolDefinition(**t) for t in spec["output_tools"]],
        allow_text_output=spec["allow_text_output"],
        output_mode=spec["output_mode"],
        output_object=OutputObjectDefinition(**oo) if oo else None,
    )


MODEL = "deepseek-ai/DeepSeek-R1"
HELLO = [req(user("Hello"))]
WEATHER = params_spec(function_tools=[tool()])
TWO_TOOLS = params_spec(function_tools=[tool(), tool("get_time", description=None)])
HISTORY = [
    req(system("Be nice."), user("Weather?")),
    resp(
        m.ThinkingPart("I should call"),
        m.TextPart("Calling"),
        m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
        m.ToolCallPart("get_time", '{"tz": "CET"}', tool_call_id="call_2"),
    ),
    req(
        tool_return("get_weather", {"temp": 20}, "call_1"),
        tool_return("get_time", "12:00", "call_2"),
        user("Thanks"),
    ),
    resp(m.TextPart("Bye")),
    req(user("Again")),
]
PROMPTED = params_spec(
    output_mode="prompted",
    output_object={"json_schema": W, "name": "City", "description": "A city", "strict": None},
)

CASES = [
    ("plain", HELLO, None, None, False),
    ("plain_stream", HELLO, None, None, True),
    (
        "system_and_instructions",
        [req(system("sys1"), system("sys2"), user("Hi"), instructions="Be terse.")],
        None,
        None,
        False,
    ),
    (
        "user_list_content",
        [req(user(["look", m.TextContent("meta"), m.CachePoint(), "again"]))],
        None,
        None,
        False,
    ),
    (
        "user_images",
        [
            req(
                user(
                    [
                        "look",
                        m.ImageUrl("https://example.com/a.png"),
                        m.BinaryContent(b"\x89PNG", media_type="image/png"),
                    ]
                )
            )
        ],
        None,
        None,
        False,
    ),
    ("user_document_rejected", [req(user([m.DocumentUrl("https://example.com/a.pdf")]))], None, None, False),
    (
        "settings",
        HELLO,
        {
            "max_tokens": 50,
            "temperature": 0.5,
            "top_p": 0.9,
            "seed": 7,
            "stop_sequences": ["x"],
            "presence_penalty": 0.1,
            "frequency_penalty": 0.2,
        },
        None,
        False,
    ),
    ("tools_auto", HELLO, None, TWO_TOOLS, False),
    ("tool_choice_none", HELLO, {"tool_choice": "none"}, TWO_TOOLS, False),
    ("tool_choice_required", HELLO, {"tool_choice": "required"}, TWO_TOOLS, False),
    ("tool_choice_one", HELLO, {"tool_choice": ["get_time"]}, TWO_TOOLS, False),
    (
        "output_tool",
        HELLO,
        None,
        params_spec(
            function_tools=[tool()],
            output_tools=[tool("final_result", kind="output")],
            allow_text_output=False,
            output_mode="tool",
        ),
        False,
    ),
    ("prompted_output", HELLO, None, PROMPTED, False),
    ("history", HISTORY, None, TWO_TOOLS, False),
    ("history_stream", HISTORY, None, TWO_TOOLS, True),
    (
        "tool_return_with_image",
        [
            req(user("x")),
            resp(m.ToolCallPart("f", {}, tool_call_id="c1")),
            req(tool_return("f", ["see", m.BinaryContent(b"\x89PNG", media_type="image/png")], "c1")),
        ],
        None,
        None,
        False,
    ),
    (
        "retry_tool",
        [
            req(user("x")),
            resp(m.ToolCallPart("get_weather", {"city": 1}, tool_call_id="c1")),
            req(retry("city must be a string", tool_name="get_weather", call_id="c1")),
        ],
        None,
        WEATHER,
        False,
    ),
    (
        "retry_plain",
        [req(user("x")), resp(m.TextPart("no")), req(retry("Please answer in JSON"))],
        None,
        None,
        False,
    ),
]


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_port}/v1"
    out = []
    for name, messages, settings, params, stream in CASES:
        model = HuggingFaceModel(MODEL, provider=HuggingFaceProvider(base_url=base_url, api_key="k"))
        SEEN.clear()
        error = None

        async def go(model=model, messages=messages, settings=settings, params=params, stream=stream):
            p = make_params(params)
            if stream:
                async with model_request_stream(
                    model, messages, model_settings=settings, model_request_parameters=p
                ) as s:
                    async for _ in s:
                        pass
            else:
                await model_request(model, messages, model_settings=settings, model_request_parameters=p)

        try:
            asyncio.run(go())
        except Exception as exc:
            error = {"type": type(exc).__name__, "message": str(exc)}
        out.append(
            {
                "name": name,
                "model": MODEL,
                "messages": json.loads(m.ModelMessagesTypeAdapter.dump_json(messages)),
                "settings": settings,
                "params": params,
                "stream": stream,
                "expected": {"body": SEEN[0]["body"], "path": SEEN[0]["path"]}
                if SEEN and not error
                else None,
                "error": error,
            }
        )
    server.shutdown()
    (HERE / "huggingface_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} cases")


if __name__ == "__main__":
    main()
