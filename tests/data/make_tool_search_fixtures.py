"""Regenerate ``openai_responses_tool_search.json``: what pydantic-ai-slim 2.68 makes of tool search.

Not a test and not shipped. 2.68's ``OpenAIResponsesModel`` (the ``openai`` SDK and ``httpx2`` come with
the ``bench`` extra) talks to the loopback server of ``tests/loopback.py``, which replays constructed
``tool_search_call`` / ``tool_search_output`` payloads (server- and client-executed, whole and
streamed); what it returned (the response and the stream events, or the error) is recorded. Then each
history scenario (those responses followed by a new turn, and client-executed searches answered by
the caller) goes out through 2.68 again, and the request body it sent is recorded::

    .venv/bin/python tests/data/make_tool_search_fixtures.py
"""

import asyncio
import json
import sys
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

import httpx2  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402
from pydantic_ai import messages as m  # noqa: E402
from pydantic_ai.direct import model_request, model_request_stream  # noqa: E402
from pydantic_ai.messages import ModelMessagesTypeAdapter  # noqa: E402
from pydantic_ai.models import ModelRequestParameters  # noqa: E402
from pydantic_ai.models.openai import OpenAIResponsesModel  # noqa: E402
from pydantic_ai.native_tools._tool_search import ToolSearchTool  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402
from pydantic_ai.tools import ToolDefinition  # noqa: E402

from tests.loopback import LoopbackServer, Reply  # noqa: E402

TS = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
WEATHER = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
SEARCH = {"type": "object", "properties": {"queries": {"type": "array", "items": {"type": "string"}}}}


def response_body(output: list[Any], **top: Any) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1743075629,
        "status": "completed",
        "model": "gpt-5.4-2026",
        "output": output,
        "usage": {"input_tokens": 10, "output_tokens": 20, "total_tokens": 30},
        **top,
    }


def call(
    item_id: str, call_id: str | None, arguments: Any, execution: str = "server", **kw: Any
) -> dict[str, Any]:
    return {
        "type": "tool_search_call",
        "id": item_id,
        "call_id": call_id,
        "execution": execution,
        "status": kw.pop("status", "completed"),
        "arguments": arguments,
        **kw,
    }


def output(item_id: str, call_id: str | None, names: list[str], execution: str = "server") -> dict[str, Any]:
    tools = [
        {
            "type": "function",
            "name": n,
            "parameters": WEATHER,
            "strict": True,
            "description": None,
            "defer_loading": True,
        }
        for n in names
    ]
    tools.append({"type": "web_search"})  # not a function: never a discovered tool
    return {
        "type": "tool_search_output",
        "id": item_id,
        "call_id": call_id,
        "execution": execution,
        "status": "completed",
        "tools": tools,
    }


FUNCTION = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_w",
    "name": "get_weather",
    "namespace": "get_weather",
    "arguments": '{"city":"Paris"}',
    "status": "completed",
}
TEXT = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "content": [{"type": "output_text", "text": "Looking.", "annotations": []}],
}

OUTPUTS: dict[str, list[dict[str, Any]]] = {
    "server_anonymous": [
        call("tsc_1", None, {"paths": ["get_weather"]}),
        output("tso_1", None, ["get_weather"]),
        FUNCTION,
    ],
    "server_with_call_ids": [
        TEXT,
        call("tsc_1", "call_ts_1", {"paths": ["get_weather", "get_time"]}),
        output("tso_1", "call_ts_1", ["get_weather", "get_time"]),
        FUNCTION,
    ],
    "server_two_anonymous_fifo": [
        call("tsc_1", None, {"paths": ["get_weather"]}),
        call("tsc_2", None, {"paths": ["get_time"]}),
        output("tso_1", None, ["get_weather"]),
        output("tso_2", None, ["get_time"]),
    ],
    "server_output_for_unknown_call": [output("tso_9", "call_elsewhere", ["get_weather"])],
    "server_call_without_output": [call("tsc_1", None, {"paths": []}, status="incomplete")],
    "client": [
        TEXT,
        call("tsc_c", "call_c1", {"queries": ["weather in a city"]}, execution="client"),
    ],
    "client_empty_arguments": [call("tsc_c", "call_c1", {}, execution="client")],
    "unrecognised_arguments": [call("tsc_1", None, {"query": "x"})],
}


def stream_events(
    items: list[dict[str, Any]], *, changed_client_call_id: bool = False
) -> list[dict[str, Any]]:
    """``created``, each item ``added`` (tool searches with empty arguments) and ``done``, ``completed``."""
    events: list[dict[str, Any]] = [
        {
            "type": "response.created",
            "response": {**response_body([]), "status": "in_progress", "usage": None},
        }
    ]
    for index, item in enumerate(items):
        added = dict(item)
        if item["type"] == "tool_search_call":
            added["arguments"] = {}
            added["status"] = "in_progress"
            if changed_client_call_id and item["execution"] == "client":
                added["call_id"] = "call_early"
        if item["type"] == "message":
            added["content"] = []
        if item["type"] == "function_call":
            added["arguments"] = ""
        events.append({"type": "response.output_item.added", "output_index": index, "item": added})
        if item["type"] == "message":
            text = item["content"][0]["text"]
            events.append(
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "content_index": 0,
                    "delta": text,
                }
            )
        if item["type"] == "function_call":
            events.append(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item["id"],
                    "output_index": index,
                    "delta": item["arguments"],
                }
            )
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response_body(items)})
    return [{**e, "sequence_number": i} for i, e in enumerate(events)]


def reply_scenarios() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for name, items in OUTPUTS.items():
        out.append({"name": name, "kind": "json", "body": response_body(items)})
        out.append({"name": f"{name}_stream", "kind": "stream", "events": stream_events(items)})
    out.append(
        {
            "name": "client_call_id_changes_stream",
            "kind": "stream",
            "events": stream_events(OUTPUTS["client"], changed_client_call_id=True),
        }
    )
    return out


def reply_for(case: dict[str, Any]) -> Reply:
    if case["kind"] == "json":
        return Reply.json(case["body"])
    return Reply.sse([f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in case["events"]])


def jsonable(o: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(o, serialize_unknown=True, bytes_mode="base64")


def run(
    base_url: str, messages: list[Any], params: ModelRequestParameters, stream: bool, settings: Any = None
) -> Any:
    events: list[Any] = []

    async def go() -> Any:
        async with httpx2.AsyncClient() as http:
            client = AsyncOpenAI(api_key="sk-fixture", base_url=base_url, http_client=http)
            model = OpenAIResponsesModel("gpt-5.4", provider=OpenAIProvider(openai_client=client))
            merged = {"max_retries": 0, **(settings or {})}
            if stream:
                async with model_request_stream(
                    model, messages, model_settings=merged, model_request_parameters=params
                ) as s:
                    async for event in s:
                        events.append(event)
                    return s.get()
            return await model_request(
                model, messages, model_settings=merged, model_request_parameters=params
            )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        response = asyncio.run(go())
    return response, events


def capture_replies(srv: LoopbackServer) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    results = []
    parsed: dict[str, Any] = {}
    for case in reply_scenarios():
        srv.enqueue(reply_for(case))
        try:
            response, events = run(
                srv.url + "/v1",
                [m.ModelRequest.user_text_prompt("hi")],
                ModelRequestParameters(),
                case["kind"] == "stream",
            )
        except Exception as exc:
            expected: dict[str, Any] = {"error": {"type": type(exc).__name__, "message": str(exc)}}
        else:
            parsed[case["name"]] = response
            expected = {"response": json.loads(ModelMessagesTypeAdapter.dump_json([response]))[0]}
            if case["kind"] == "stream":
                expected["events"] = jsonable(events)
        results.append({**case, "expected": expected})
        print(case["name"], "error" if "error" in expected else "ok", file=sys.stderr)
    return results, parsed


def tool(name: str, **kw: Any) -> ToolDefinition:
    return ToolDefinition(
        name=name, parameters_json_schema=kw.pop("schema", WEATHER), description=f"{name} tool", **kw
    )


def history_scenarios(parsed: dict[str, Any]) -> list[dict[str, Any]]:
    """``(name, messages, function tools, tool search on)`` for the request-side scenarios."""
    hi = m.ModelRequest(parts=[m.UserPromptPart("hi", timestamp=TS)], timestamp=TS)
    more = m.ModelRequest(parts=[m.UserPromptPart("more", timestamp=TS)], timestamp=TS)
    weather, time_tool = tool("get_weather"), tool("get_time")
    search_tool = tool("search_tools", schema=SEARCH, tool_kind="tool-search")
    client = parsed["client"]
    answered = m.ModelRequest(
        parts=[
            m.ToolReturnPart(
                tool_name="search_tools",
                content={"discovered_tools": [{"name": "get_weather"}, {"name": "not_a_tool"}]},
                tool_call_id="call_c1",
                tool_kind="tool-search",
                timestamp=TS,
            )
        ],
        timestamp=TS,
    )
    server = parsed["server_with_call_ids"]
    stripped = m.ModelResponse(
        parts=[
            p
            if not isinstance(p, m.NativeToolReturnPart)
            else m.NativeToolReturnPart(
                tool_name=p.tool_name,
                content=p.content,
                tool_call_id=p.tool_call_id,
                provider_name=p.provider_name,
                tool_kind=p.tool_kind,
                timestamp=TS,
            )
            for p in server.parts
        ],
        provider_name=server.provider_name,
        provider_url=server.provider_url,
        model_name=server.model_name,
        timestamp=TS,
    )
    foreign = m.ModelResponse(
        parts=list(server.parts), provider_name="anthropic", model_name="claude", timestamp=TS
    )
    return [
        {
            "name": "server_replay",
            "messages": [hi, server, more],
            "tools": [weather, time_tool],
            "search": True,
        },
        {
            "name": "server_replay_anonymous",
            "messages": [hi, parsed["server_anonymous"], more],
            "tools": [weather],
            "search": True,
        },
        {
            "name": "server_replay_without_search",
            "messages": [hi, server, more],
            "tools": [weather, time_tool],
            "search": False,
        },
        {
            "name": "server_replay_no_item_ids",
            "messages": [hi, server, more],
            "tools": [weather, time_tool],
            "search": True,
            "settings": {"openai_send_reasoning_ids": False},
        },
        {
            "name": "server_replay_output_without_identity",
            "messages": [hi, stripped, more],
            "tools": [weather, time_tool],
            "search": True,
        },
        {
            "name": "server_replay_from_another_provider",
            "messages": [hi, foreign, more],
            "tools": [weather, time_tool],
            "search": True,
        },
        {
            "name": "client_replay",
            "messages": [hi, client, answered],
            "tools": [weather, search_tool],
            "search": True,
        },
        {
            "name": "client_replay_without_search",
            "messages": [hi, client, answered],
            "tools": [weather, search_tool],
            "search": False,
        },
    ]


def spec(t: ToolDefinition) -> dict[str, Any]:
    return {
        "name": t.name,
        "parameters_json_schema": t.parameters_json_schema,
        "description": t.description,
        "strict": t.strict,
        "kind": t.kind,
        "tool_kind": t.tool_kind,
    }


def capture_requests(srv: LoopbackServer, parsed: dict[str, Any]) -> list[dict[str, Any]]:
    results = []
    for case in history_scenarios(parsed):
        srv.enqueue(Reply.json(response_body([TEXT])))
        params = ModelRequestParameters(
            function_tools=case["tools"], native_tools=[ToolSearchTool()] if case["search"] else []
        )
        before = len(srv.requests)
        try:
            run(srv.url + "/v1", case["messages"], params, False, case.get("settings"))
            expected: dict[str, Any] = {"body": srv.requests[before].json}
        except Exception as exc:
            expected = {"error": type(exc).__name__, "message": str(exc)}
        results.append(
            {
                "name": case["name"],
                "messages": json.loads(ModelMessagesTypeAdapter.dump_json(case["messages"])),
                "tools": [spec(t) for t in case["tools"]],
                "search": case["search"],
                "settings": case.get("settings"),
                "expected": expected,
            }
        )
        print(case["name"], "error" if "error" in expected else "ok", file=sys.stderr)
    return results


def main() -> None:
    with LoopbackServer() as srv:
        replies, parsed = capture_replies(srv)
        requests = capture_requests(srv, parsed)
    data = {"replies": replies, "requests": requests}
    (HERE / "openai_responses_tool_search.json").write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
