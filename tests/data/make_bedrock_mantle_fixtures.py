"""Regenerate ``bedrock_mantle_requests.json`` from pydantic-ai-slim 2.68.

Not a test and not shipped: the captures need pydantic-ai's ``BedrockMantleResponsesModel``, which needs the
``openai`` SDK that trio_direct never depends on (the project's dev environment has both, as the oracle)::

    python tests/data/make_bedrock_mantle_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with an ``httpx.MockTransport``: the body and path it sent
to ``https://bedrock-mantle.us-east-1.api.aws`` with a Bedrock API key are written next to this file.
"""

import asyncio
import json
import warnings
from datetime import UTC, datetime
from pathlib import Path

import httpx
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.bedrock_mantle import BedrockMantleResponsesModel
from pydantic_ai.providers.bedrock_mantle import BedrockMantleProvider
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
ORIGIN = "https://bedrock-mantle.us-east-1.api.aws"
T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
REPLY = {
    "id": "resp_reply",
    "object": "response",
    "created_at": 1769546683,
    "status": "completed",
    "model": "m",
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "ok", "annotations": []}],
        }
    ],
    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
}
W = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOL = {"name": "get_weather", "description": "Weather", "parameters_json_schema": W}


def history(model_name):
    path = "/openai/v1/" if "gpt-oss" not in model_name else "/v1/"
    return [
        m.ModelRequest(parts=[m.UserPromptPart("Weather?", timestamp=T)], timestamp=T),
        m.ModelResponse(
            parts=[
                m.ToolCallPart(
                    "get_weather", '{"city": "Paris"}', tool_call_id="resp_one:call_0", id="fc_1",
                    provider_name="bedrock-mantle",
                )
            ],
            provider_name="bedrock-mantle",
            provider_url=ORIGIN + path,
            provider_response_id="resp_one",
            model_name=model_name,
            timestamp=T,
        ),
        m.ModelRequest(
            parts=[m.ToolReturnPart("get_weather", "sunny", tool_call_id="resp_one:call_0", timestamp=T)],
            timestamp=T,
        ),
    ]  # fmt: skip


HELLO = [m.ModelRequest(parts=[m.UserPromptPart("Hello", timestamp=T)], timestamp=T)]


def cases():
    for model_name in ("openai.gpt-5.6-luna", "openai.gpt-5.5", "openai.gpt-oss-120b"):
        yield "plain", model_name, HELLO, [], None, None
        yield "tools", model_name, HELLO, [TOOL], None, None
        yield "history", model_name, history(model_name), [TOOL], None, None
        yield "output_tool", model_name, HELLO, [], [dict(TOOL, name="final_result")], None
        yield "settings", model_name, HELLO, [], None, {"max_tokens": 50, "temperature": 0.5}


def main():
    out = []
    for name, model_name, messages, tools, output_tools, settings in cases():
        seen = {}

        def handler(request: httpx.Request, seen=seen):
            seen["body"] = json.loads(request.content)
            seen["path"] = request.url.path
            return httpx.Response(200, json=REPLY)

        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        provider = BedrockMantleProvider(
            base_url=ORIGIN, api_key="k", region_name="us-east-1", http_client=client
        )
        model = BedrockMantleResponsesModel(model_name, provider=provider)
        params = ModelRequestParameters(
            function_tools=[ToolDefinition(**t) for t in tools],
            output_tools=[ToolDefinition(**t, kind="output") for t in output_tools or []],
            output_mode="tool" if output_tools else "text",
            allow_text_output=not output_tools,
        )
        asyncio.run(model_request(model, messages, model_settings=settings, model_request_parameters=params))
        out.append(
            {
                "name": f"{name}-{model_name}",
                "model": model_name,
                "messages": json.loads(m.ModelMessagesTypeAdapter.dump_json(messages)),
                "function_tools": tools,
                "output_tools": output_tools or [],
                "settings": settings,
                "expected": seen,
            }
        )
    (HERE / "bedrock_mantle_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} cases")


if __name__ == "__main__":
    main()
