"""Regenerate ``openai_chat_requests.json``: what pydantic-ai-slim 2.68's ``OpenAIChatModel`` sends for a
history its direct API prepares.

Not a test and not shipped. Runs in the project venv (it has pydantic-ai-slim 2.68 and the ``openai``
SDK)::

    .venv/bin/python tests/data/make_openai_chat_fixtures.py

2.68's direct API runs the model's whole ``prepare_messages`` on a history holding a retry (a
``RetryPromptPart`` or ``RetryFeedbackPart``): tool results go ahead of the other parts of their request,
in the order of the calls they answer, and on a model without a mid-conversation system role
(``supports_inline_system_prompts``) mid-conversation system prompts become ``<system>`` user text behind
an announcement in the system prompt. The scenarios send such histories to OpenAI (which has the role)
and to DeepSeek (which has not, as most OpenAI-compatible hosts), plus the same histories without the
retry, which go out unprepared. Each goes through ``pydantic_ai.direct.model_request`` with an
``httpx2.MockTransport`` that records the body, or the error raised.
"""

import asyncio
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path

import httpx2
from pydantic_ai import messages as m
from pydantic_ai.direct import model_request
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.deepseek import DeepSeekProvider
from pydantic_ai.providers.openai import OpenAIProvider
from pydantic_ai.tools import ToolDefinition

warnings.simplefilter("ignore")
HERE = Path(__file__).parent
T = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1700000000,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}

#: host -> (model name, provider class)
HOSTS = {"openai": ("gpt-4o", OpenAIProvider), "deepseek": ("deepseek-chat", DeepSeekProvider)}


def req(*parts, instructions=None):
    return m.ModelRequest(parts=list(parts), instructions=instructions, timestamp=T)


def user(content):
    return m.UserPromptPart(content, timestamp=T)


def system(content):
    return m.SystemPromptPart(content, timestamp=T)


def resp(*parts):
    return m.ModelResponse(parts=list(parts), timestamp=T, model_name="m")


def call(call_id, city="x", name="get_weather"):
    return m.ToolCallPart(name, {"city": city}, tool_call_id=call_id)


def ret(call_id, content="sunny", name="get_weather"):
    return m.ToolReturnPart(name, content, tool_call_id=call_id, timestamp=T)


def feedback(content, cause):
    return m.RetryFeedbackPart(content, retry=m.RetryInfo(cause), timestamp=T)


TOOL = {
    "name": "get_weather",
    "parameters_json_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "description": "Weather",
}
TOOLS = {"function_tools": [TOOL]}
INSTRUCTIONS = {"function_tools": [TOOL], "instruction_parts": [{"content": "Be kind.", "dynamic": False}]}


def make_params(spec):
    if spec is None:
        return None
    return ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in spec.get("function_tools", [])],
        instruction_parts=[m.InstructionPart(**p) for p in spec["instruction_parts"]]
        if "instruction_parts" in spec
        else None,
    )


# a mid-conversation system prompt stored ahead of the tool result it follows, then a tool-less retry
MID_SYSTEM = [
    req(system("You are helpful."), user("Hi")),
    resp(call("call_1")),
    req(system("Answer in French."), ret("call_1"), user("And tomorrow?")),
    resp(m.TextPart("Demain")),
]
MID_SYSTEM_RETRY = [
    *MID_SYSTEM,
    req(m.RetryPromptPart("Say it in one word.", timestamp=T), system("Be brief.")),
]
MID_SYSTEM_PLAIN = [*MID_SYSTEM, req(user("One word?"), system("Be brief."))]
# two calls answered out of order, with user text and a system prompt stored first; one answer is a retry
OUT_OF_ORDER = [
    req(system("You are helpful."), user("Weather in a and b?")),
    resp(call("call_a", "a"), call("call_b", "b")),
    req(
        user("Hurry."),
        system("Use Celsius."),
        ret("call_b", "rain"),
        m.RetryPromptPart("unknown city", tool_name="get_weather", tool_call_id="call_a", timestamp=T),
    ),
]
OUT_OF_ORDER_PLAIN = [
    *OUT_OF_ORDER[:2],
    req(user("Hurry."), system("Use Celsius."), ret("call_b", "rain"), ret("call_a")),
]
# retry feedback as the agent records it: a validation retry and the framework's own no-output text
FEEDBACK = [
    req(system("You are helpful."), user("Hi")),
    resp(m.TextPart("hello")),
    req(feedback("Answer with a number.", "model_retry"), system("Numbers only.")),
    resp(m.TextPart("x")),
    req(feedback("Please include your response in a tool call.", "no_output")),
]
# only the framework's own no-output feedback: a system prompt, mid-conversation
NO_OUTPUT_ONLY = [
    req(system("You are helpful."), user("Hi")),
    resp(m.TextPart("hello")),
    req(feedback("Please include your response in a tool call.", "no_output")),
]
# no standing system prompt: the announcement needs instructions to join, or is left out
NO_STANDING = [
    req(user("Hi")),
    resp(m.TextPart("hello")),
    req(m.RetryPromptPart("Say it in one word.", timestamp=T), system("Be brief.")),
]
# a retry and no mid-conversation system prompt at all
RETRY_ONLY = [
    req(system("You are helpful."), user("Hi")),
    resp(m.TextPart("hello")),
    req(m.RetryPromptPart("Say it in one word.", timestamp=T)),
]
# only a retry bound to a tool: no frame on the user channel
TOOL_RETRY_ONLY = [
    req(system("You are helpful."), user("Weather?")),
    resp(call("call_1")),
    req(m.RetryPromptPart("bad city", tool_name="get_weather", tool_call_id="call_1", timestamp=T)),
]

CASES = []
for host in HOSTS:
    CASES += [
        (f"{host}_mid_system_retry", host, MID_SYSTEM_RETRY, TOOLS),
        (f"{host}_mid_system_no_retry", host, MID_SYSTEM_PLAIN, TOOLS),
        (f"{host}_out_of_order_retry", host, OUT_OF_ORDER, TOOLS),
        (f"{host}_out_of_order_no_retry", host, OUT_OF_ORDER_PLAIN, TOOLS),
        (f"{host}_feedback", host, FEEDBACK, TOOLS),
        (f"{host}_no_output_only", host, NO_OUTPUT_ONLY, TOOLS),
        (f"{host}_no_standing_instructions", host, NO_STANDING, INSTRUCTIONS),
        (f"{host}_no_standing_bare", host, NO_STANDING, TOOLS),
        (f"{host}_retry_only", host, RETRY_ONLY, TOOLS),
        (f"{host}_tool_retry_only", host, TOOL_RETRY_ONLY, TOOLS),
    ]


def capture(host, messages, params):
    seen = {}

    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        return httpx2.Response(200, json=REPLY)

    model_name, provider_class = HOSTS[host]
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    model = OpenAIChatModel(model_name, provider=provider_class(api_key="k", http_client=client))
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
    (HERE / "openai_chat_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
