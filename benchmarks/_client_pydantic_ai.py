"""pydantic-ai-slim's direct API (``pydantic_ai.direct``), an ``OpenAIChatModel`` aimed at the fake provider.

Async scenarios run under asyncio (pydantic-ai's native loop); sync ones call ``model_request_sync`` /
``model_request_stream_sync`` from a plain thread. The model is built once per process, as a caller
would (building it per request would add pydantic-ai's provider/SDK-client construction to each call).
The OpenAI SDK's default pool (1,000 connections) suffices for the concurrency scenario.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from ._measure import NotAvailable, Sampler, peak_rss_mib, raise_fd_limit

try:
    from pydantic_ai.direct import (
        model_request,
        model_request_stream,
        model_request_stream_sync,
        model_request_sync,
    )
    from pydantic_ai.messages import ModelRequest
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
except ImportError as exc:  # the `bench` extra is optional
    raise NotAvailable(f"pydantic-ai-slim[openai] is not installed ({exc})") from exc

from . import _openai_wire as wire

MESSAGES = [ModelRequest.user_text_prompt(wire.PROMPT)]


def make_model(base_url: str) -> OpenAIChatModel:
    return OpenAIChatModel(wire.MODEL, provider=OpenAIProvider(base_url=base_url + "/v1", api_key="x"))


async def stream_text(model: OpenAIChatModel, *, stop_after: int | None = None) -> tuple[str, int]:
    events = 0
    async with model_request_stream(model, MESSAGES) as stream:
        async for _ in stream:
            events += 1
            if stop_after is not None and events >= stop_after:
                break
        text = stream.get().text or ""
    return text, events


def _in_thread(fn: Any) -> Any:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="bench-plain-thread")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def _anthropic_model(base_url: str) -> Any:
    """pydantic-ai's ``AnthropicModel`` at the fake (needs the ``anthropic`` SDK: the ``bench`` extra)."""
    from . import _anthropic_wire as awire

    try:
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider
    except ImportError as exc:
        raise NotAvailable(f"pydantic-ai-slim[anthropic] is not installed ({exc})") from exc
    return AnthropicModel(awire.MODEL, provider=AnthropicProvider(api_key="x", base_url=base_url))


def run_wire(scenario: str, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The rows of :mod:`benchmarks._scenario_wires`: ``OpenAIChatModel`` on the tool-call stream (the
    tool declared) and ``AnthropicModel`` on the Anthropic Messages wire, under asyncio."""
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.tools import ToolDefinition

    from . import _scenario_common as common
    from ._scenario_wires import WIRE_SCENARIOS, check_tool_call

    wire_name, streamed, tool = WIRE_SCENARIOS[scenario]
    model: Any = make_model(base_url) if wire_name == "openai" else _anthropic_model(base_url)
    mrp = (
        ModelRequestParameters(
            function_tools=[ToolDefinition(name=wire.TOOL_NAME, parameters_json_schema=wire.TOOL_SCHEMA)]
        )
        if tool
        else None
    )
    sampler = Sampler()

    async def stream_once() -> tuple[Any, int]:
        events = 0
        async with model_request_stream(model, MESSAGES, model_request_parameters=mrp) as stream:
            async for _ in stream:
                events += 1
            return stream.get(), events

    async def main() -> None:
        if not streamed:
            for _ in range(params["warmup"]):
                await model_request(model, MESSAGES)
            for _ in range(params["rounds"]):
                with sampler.round(params["n"], unit_name="request"):
                    for _ in range(params["n"]):
                        await model_request(model, MESSAGES)
            return
        for _ in range(params["warmup"]):
            await stream_once()
        for _ in range(params["rounds"]):
            with sampler.round(params["chunks"], unit_name="delta") as extra:
                response, events = await stream_once()
            if tool:
                (part,) = response.parts
                check_tool_call(getattr(part, "tool_name", None), getattr(part, "args", None), params)
            else:
                common.check_text(response.text or "", params)
            extra["events"] = events

    asyncio.run(main())
    return {"samples": sampler.samples}


def run(scenario: str, base_url: str, params: dict[str, Any], variant: str | None) -> dict[str, Any]:
    from . import _scenario_common as common

    if variant:
        raise NotAvailable(f"no {variant!r} variant for pydantic-ai")
    if scenario == "fragments":
        from ._scenario_fragments import fragments_samples, pydantic_ai_feed

        return {"samples": fragments_samples(pydantic_ai_feed, params["sizes"], params["rounds"])}

    from ._scenario_wires import WIRE_SCENARIOS

    if scenario in WIRE_SCENARIOS:
        return run_wire(scenario, base_url, params)
    model = make_model(base_url)
    sampler = Sampler()

    if scenario == "first_reply":
        response = asyncio.run(model_request(model, MESSAGES))
        return {"chars": len(response.text or "")}

    if scenario == "nonstream":

        async def nonstream() -> None:
            for _ in range(params["warmup"]):
                await model_request(model, MESSAGES)
            for _ in range(params["rounds"]):
                with sampler.round(params["n"], unit_name="request"):
                    for _ in range(params["n"]):
                        await model_request(model, MESSAGES)

        asyncio.run(nonstream())
        return {"samples": sampler.samples}

    if scenario in ("stream", "stream_burst", "stream_paced"):

        async def stream() -> None:
            for _ in range(params["warmup"]):
                await stream_text(model)
            for _ in range(params["rounds"]):
                with sampler.round(params["chunks"], unit_name="delta") as extra:
                    text, events = await stream_text(model)
                common.check_text(text, params)
                extra["events"] = events

        asyncio.run(stream())
        return {"samples": sampler.samples}

    if scenario == "paced":

        async def paced() -> list[dict[str, Any]]:
            out = []
            for _ in range(params["warmup"]):
                await stream_text(model)
            for _ in range(params["rounds"]):
                seen: list[int] = []
                call = time.monotonic_ns()
                async with model_request_stream(model, MESSAGES) as stream:
                    async for event in stream:
                        if common.event_text(event):
                            seen.append(time.monotonic_ns())
                out.append(common.paced_sample(call, seen, base_url, params))
            return out

        return {"samples": asyncio.run(paced())}

    if scenario == "concurrent":
        raise_fd_limit()

        async def concurrent() -> dict[str, Any]:
            errors: list[str] = []
            deltas = 0
            await stream_text(model)  # warm up (lazy imports, first connection)
            rss0 = peak_rss_mib()

            async def one() -> None:
                nonlocal deltas
                try:
                    text, _ = await stream_text(model)
                    deltas += len(text) // params["chunk_chars"]
                except Exception as exc:
                    errors.append(repr(exc))

            c0, w0 = time.process_time(), time.perf_counter()
            await asyncio.gather(*(one() for _ in range(params["streams"])))
            c1, w1 = time.process_time(), time.perf_counter()
            return common.concurrent_result(c1 - c0, w1 - w0, rss0, errors, deltas, params)

        return asyncio.run(concurrent())

    if scenario == "sync_request":

        def sync_request() -> None:
            for _ in range(params["warmup"]):
                model_request_sync(model, MESSAGES)
            for _ in range(params["rounds"]):
                with sampler.round(params["n"], unit_name="call"):
                    for _ in range(params["n"]):
                        model_request_sync(model, MESSAGES)

        _in_thread(sync_request)
        return {"samples": sampler.samples}

    if scenario == "sync_stream":

        def one_stream() -> tuple[str, int]:
            events = 0
            with model_request_stream_sync(model, MESSAGES) as stream:
                for _ in stream:
                    events += 1
                text = stream.response.text or ""  # 2.68's sync wrapper has `.response`, not `get()`
            return text, events

        def sync_stream() -> None:
            for _ in range(params["warmup"]):
                one_stream()
            for _ in range(params["rounds"]):
                with sampler.round(params["chunks"], unit_name="delta") as extra:
                    text, events = one_stream()
                common.check_text(text, params)
                extra["events"] = events

        _in_thread(sync_stream)
        return {"samples": sampler.samples}

    if scenario == "early_exit":

        async def early() -> list[dict[str, Any]]:
            out = []
            for _ in range(params["rounds"]):
                before = common.aborted_count(base_url)
                marks: dict[str, int] = {}
                async with model_request_stream(model, MESSAGES) as stream:
                    events = 0
                    async for _ in stream:
                        events += 1
                        if events >= params["events"]:
                            marks["break"] = time.monotonic_ns()
                            break
                marks["exited"] = time.monotonic_ns()
                out.append(common.early_exit_sample(base_url, before, marks))
            return out

        return {"samples": asyncio.run(early())}

    if scenario == "early_exit_sync":

        def early_sync() -> list[dict[str, Any]]:
            out = []
            for _ in range(params["rounds"]):
                before = common.aborted_count(base_url)
                marks: dict[str, int] = {}
                with model_request_stream_sync(model, MESSAGES) as stream:
                    for events, _ in enumerate(stream, 1):
                        if events >= params["events"]:
                            marks["break"] = time.monotonic_ns()
                            break
                marks["exited"] = time.monotonic_ns()
                out.append(common.early_exit_sample(base_url, before, marks))
            return out

        return {"samples": _in_thread(early_sync)}

    raise NotAvailable(f"scenario {scenario!r} is not implemented for pydantic-ai")
