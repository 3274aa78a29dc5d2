"""trio_direct's direct API with its ``openai:`` model pointed at the fake provider, under ``trio.run``.

The model is resolved once per process from ``'openai:gpt-4o'`` (``OPENAI_BASE_URL``/``OPENAI_API_KEY``
are set by the runner), as a caller holding a model would. Sync scenarios call
``model_request_sync``/``model_request_stream_sync`` from a plain thread (they run on the portal).
The ``httpx2`` variant sets ``TRIO_DIRECT_HTTP=httpx2`` before importing trio_direct.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import trio

import trio_direct
from trio_direct import ModelRequest, model_request, model_request_stream
from trio_direct.exceptions import UserError
from trio_direct.models import Model, infer_model

from . import _openai_wire as wire
from ._measure import NotAvailable, Sampler, peak_rss_mib, raise_fd_limit

MESSAGES = [ModelRequest.user_text_prompt(wire.PROMPT)]


def make_model(base_url: str, variant: str | None) -> Model:
    if variant is not None:
        from trio_direct import _http

        library = getattr(_http, "HTTP_LIBRARY", "httpx")
        if variant != library:
            raise NotAvailable(
                f"trio_direct did not select {variant!r} "
                f"(TRIO_DIRECT_HTTP={os.environ.get('TRIO_DIRECT_HTTP')!r}, in use: {library!r})"
            )
    os.environ["OPENAI_BASE_URL"] = base_url + "/v1"
    os.environ.setdefault("OPENAI_API_KEY", "x")
    try:
        return infer_model(f"openai:{wire.MODEL}")
    except UserError as exc:
        raise NotAvailable(f"the openai: adapter has not landed ({exc})") from exc


async def stream_text(model: Model, *, stop_after: int | None = None) -> tuple[str, int]:
    events = 0
    async with model_request_stream(model, MESSAGES) as stream:
        async for _ in stream:
            events += 1
            if stop_after is not None and events >= stop_after:
                break
        text = stream.get().text or ""
    return text, events


def _sync_api(name: str) -> Any:
    fn = getattr(trio_direct, name, None)
    if fn is None:
        raise NotAvailable(f"trio_direct.{name} has not landed")
    return fn


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


def _tool_parameters() -> Any:
    from trio_direct.tools import ModelRequestParameters, ToolDefinition

    tool = ToolDefinition(name=wire.TOOL_NAME, parameters_json_schema=wire.TOOL_SCHEMA)
    return ModelRequestParameters(function_tools=[tool])


def run_wire(openai_model: Model, scenario: str, base_url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The rows of :mod:`benchmarks._scenario_wires`: the OpenAI tool-call stream (``openai:``, with the
    tool declared) and the Anthropic Messages wire (``anthropic:``, ``ANTHROPIC_BASE_URL`` at the fake)."""
    from . import _anthropic_wire as awire
    from . import _scenario_common as common
    from ._scenario_wires import WIRE_SCENARIOS, check_tool_call

    wire_name, streamed, tool = WIRE_SCENARIOS[scenario]
    if wire_name == "openai":
        model = openai_model
    else:
        os.environ["ANTHROPIC_BASE_URL"] = base_url
        os.environ.setdefault("ANTHROPIC_API_KEY", "x")
        model = infer_model(f"anthropic:{awire.MODEL}")
    mrp = _tool_parameters() if tool else None
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

    trio.run(main)
    return {"samples": sampler.samples}


def run(scenario: str, base_url: str, params: dict[str, Any], variant: str | None) -> dict[str, Any]:
    from . import _scenario_common as common

    model = make_model(base_url, variant)
    sampler = Sampler()

    from ._scenario_wires import WIRE_SCENARIOS

    if scenario in WIRE_SCENARIOS:
        return run_wire(model, scenario, base_url, params)

    if scenario == "first_reply":
        response = trio.run(model_request, model, MESSAGES)
        return {"chars": len(response.text or "")}

    if scenario == "nonstream":

        async def nonstream() -> None:
            for _ in range(params["warmup"]):
                await model_request(model, MESSAGES)
            for _ in range(params["rounds"]):
                with sampler.round(params["n"], unit_name="request"):
                    for _ in range(params["n"]):
                        await model_request(model, MESSAGES)

        trio.run(nonstream)
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

        trio.run(stream)
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

        return {"samples": trio.run(paced)}

    if scenario in ("concurrent", "open_streams"):
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
            async with trio.open_nursery() as nursery:
                for _ in range(params["streams"]):
                    nursery.start_soon(one)
            c1, w1 = time.process_time(), time.perf_counter()
            return common.concurrent_result(c1 - c0, w1 - w0, rss0, errors, deltas, params)

        return trio.run(concurrent)

    if scenario == "sync_request":
        model_request_sync = _sync_api("model_request_sync")

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
        model_request_stream_sync = _sync_api("model_request_stream_sync")

        def one_stream() -> tuple[str, int]:
            events = 0
            with model_request_stream_sync(model, MESSAGES) as stream:
                for _ in stream:
                    events += 1
                text = stream.get().text or ""
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

        return {"samples": trio.run(early)}

    if scenario == "early_exit_sync":
        model_request_stream_sync = _sync_api("model_request_stream_sync")

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

    if scenario == "fragments":
        from ._scenario_fragments import fragments_samples, trio_direct_feed

        return {"samples": fragments_samples(trio_direct_feed, params["sizes"], params["rounds"])}

    raise NotAvailable(f"scenario {scenario!r} is not implemented for trio_direct")
