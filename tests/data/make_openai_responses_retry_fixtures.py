"""Regenerate ``openai_responses_retry_requests.json``: what pydantic-ai-slim 2.68's
``OpenAIResponsesModel`` sends for a history its direct API prepares (one holding a retry).

Not a test and not shipped. Runs in the project venv (pydantic-ai-slim 2.68 and the ``openai`` SDK)::

    .venv/bin/python tests/data/make_openai_responses_retry_fixtures.py

The histories are the Chat Completions ones of ``make_openai_chat_fixtures.py`` (a retry with a
mid-conversation system prompt and tool results, and the same without the retry), sent to OpenAI's
Responses API through ``pydantic_ai.direct.model_request`` with an ``httpx2.MockTransport`` that records
the body, or the error raised: on OpenAI (whose models have a mid-conversation system role) and on
DeepSeek's Responses endpoint (whose have not, so system prompts past the standing one become
``<system>`` user text behind the announcement).
"""

import asyncio
import json
import sys
import warnings
from pathlib import Path

import httpx2
from make_openai_chat_fixtures import (
    FEEDBACK,
    INSTRUCTIONS,
    MID_SYSTEM_PLAIN,
    MID_SYSTEM_RETRY,
    NO_OUTPUT_ONLY,
    NO_STANDING,
    OUT_OF_ORDER,
    OUT_OF_ORDER_PLAIN,
    RETRY_ONLY,
    TOOL_RETRY_ONLY,
    TOOLS,
    make_params,
)
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request
from pydantic_ai.models.openai import OpenAIResponsesModel
from pydantic_ai.providers.deepseek import DeepSeekProvider
from pydantic_ai.providers.openai import OpenAIProvider

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
#: host -> (model name, provider class)
HOSTS = {"openai": ("gpt-4o", OpenAIProvider), "deepseek": ("deepseek-chat", DeepSeekProvider)}

REPLY = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1700000000,
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

SCENARIOS = [
    ("mid_system_retry", MID_SYSTEM_RETRY, TOOLS),
    ("mid_system_no_retry", MID_SYSTEM_PLAIN, TOOLS),
    ("out_of_order_retry", OUT_OF_ORDER, TOOLS),
    ("out_of_order_no_retry", OUT_OF_ORDER_PLAIN, TOOLS),
    ("feedback", FEEDBACK, TOOLS),
    ("no_output_only", NO_OUTPUT_ONLY, TOOLS),
    ("no_standing_instructions", NO_STANDING, INSTRUCTIONS),
    ("no_standing_bare", NO_STANDING, TOOLS),
    ("retry_only", RETRY_ONLY, TOOLS),
    ("tool_retry_only", TOOL_RETRY_ONLY, TOOLS),
]
CASES = [(f"{host}_{name}", host, messages, spec) for host in HOSTS for name, messages, spec in SCENARIOS]


def capture(host, messages, params):
    seen = {}

    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        return httpx2.Response(200, json=REPLY)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model_name, provider_class = HOSTS[host]
    model = OpenAIResponsesModel(model_name, provider=provider_class(api_key="k", http_client=client))
    try:
        asyncio.run(model_request(model, messages, model_request_parameters=params))
    except Exception as exc:
        return {"error": type(exc).__name__, "message": str(exc)[:400]}
    return seen


def main():
    out = []
    for name, host, messages, spec in CASES:
        expected = capture(host, messages, make_params(spec))
        out.append(
            {
                "name": name,
                "host": host,
                "model": HOSTS[host][0],
                "messages": json.loads(m.ModelMessagesTypeAdapter.dump_json(messages)),
                "params": spec,
                "expected": expected,
            }
        )
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    (HERE / "openai_responses_retry_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
