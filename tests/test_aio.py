"""The async API under asyncio (trio_direct/_aio.py): the work runs on the portal, awaited without blocking.

Every test here is a plain ``def`` that runs a real asyncio loop (``asyncio.run``, or anyio on its asyncio
backend); trio_mode only runs ``async def`` tests inside ``trio.run``. Each loop body sits in an
``asyncio.timeout(HANG)`` that only turns a deadlock into a failure; no test asserts a wall-clock figure.
HTTP tests point ``openai:`` at the loopback server.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import signal
import threading
import time
import traceback
import warnings
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import anyio
import attrs
import httpx
import orjson
import pytest
import sniffio
import trio

import trio_direct
from tests.loopback import LoopbackServer, Reply, stall
from tests.reliability import chunk, completion, sse_text
from trio_direct import (
    ModelHTTPError,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    PortalClosedError,
    RequestUsage,
    TextPart,
    TextPartDelta,
    UserError,
    _aio,
    model_request,
    model_request_stream,
    model_request_stream_sync,
    model_request_sync,
)
from trio_direct._portal import THREAD_NAME
from trio_direct.events import ModelResponseStreamEvent
from trio_direct.messages import ModelMessage
from trio_direct.models import StreamClosedError, StreamedResponse
from trio_direct.models.function import AgentInfo, FunctionModel
from trio_direct.models.test import TestModel
from trio_direct.serialization import messages_from_json, messages_to_json

HANG = 30.0  # seconds; only turns a deadlock into a failure
QUICK = 5.0  # hang guard for "at once"

MESSAGES: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TAG: contextvars.ContextVar[str] = contextvars.ContextVar("TAG", default="unset")

T = TypeVar("T")


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(main())`` with a hang guard around it."""

    async def guarded() -> T:
        async with asyncio.timeout(HANG):
            return await main()

    return asyncio.run(guarded())


# -- module-wide hygiene ----------------------------------------------------------------------------


def _portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture(scope="module", autouse=True)
def _no_leaks() -> Iterator[None]:
    """After the module: no thread left but the portal's, no ResourceWarning (sockets); then shut down."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + HANG
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        leaked = [t for t in extra if t.name != THREAD_NAME]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert leaked == [], leaked
    assert len(_portal_threads()) <= 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trio_direct.shutdown()
        gc.collect()
    assert _portal_threads() == []
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []


@pytest.fixture
def openai_env(loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_BASE_URL", f"{loopback.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    return "openai:gpt-4o"


# -- helpers ----------------------------------------------------------------------------------------


def slow_sse(count: int = 200, interval: float = 0.1) -> Reply:
    """A chunk every ``interval`` seconds (20 s by default): far longer than any test waits."""
    return Reply.sse(
        [chunk(f"w{i} ") for i in range(count)] + [chunk(finish="stop"), "data: [DONE]"], interval
    )


def text_of(events: list[ModelResponseStreamEvent]) -> str:
    out: list[str] = []
    for event in events:
        if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
            out.append(event.part.content)
        elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
            out.append(event.delta.content_delta)
    return "".join(out)


def normalized(response: ModelResponse) -> ModelResponse:
    return attrs.evolve(response, timestamp=EPOCH)


def words_stream(count: int) -> Callable[[list[ModelMessage], AgentInfo], AsyncIterator[str]]:
    async def words(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for i in range(count):
            yield f"w{i} "

    return words


async def tool_and_text(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
    from trio_direct.models.function import DeltaThinkingPart, DeltaToolCall

    yield {0: DeltaThinkingPart(content="let me ")}
    yield {0: DeltaThinkingPart(content="think")}
    for word in ["The ", "answer ", "is ", "42."]:
        yield word
    yield {1: DeltaToolCall(name="lookup", json_args='{"q": ', tool_call_id="call_1")}
    yield {1: DeltaToolCall(json_args='"x"}')}


class Boom(Exception):
    """Raised by a function model; must reach the asyncio caller as the very same object."""


# -- requests ---------------------------------------------------------------------------------------


def test_model_request_under_asyncio_test_model() -> None:
    async def main() -> ModelResponse:
        return await model_request("test", MESSAGES)

    response = run(main)
    assert response.text == "success (no tool calls)"
    assert normalized(response) == normalized(model_request_sync("test", MESSAGES))


def test_model_request_under_asyncio_over_http(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.json(completion("hello from loopback")))

    async def main() -> ModelResponse:
        return await model_request(openai_env, MESSAGES)

    response = run(main)
    assert response.text == "hello from loopback"
    assert response.usage.input_tokens == 3
    assert loopback.requests[0].json["messages"] == [{"role": "user", "content": "hi"}]


def test_model_request_under_anyio_on_asyncio() -> None:
    async def main() -> tuple[str, ModelResponse]:
        return sniffio.current_async_library(), await model_request("test", MESSAGES)

    library, response = anyio.run(main, backend="asyncio")
    assert library == "asyncio"
    assert response.text == "success (no tool calls)"


def test_anyio_on_trio_stays_native() -> None:
    async def main() -> tuple[object, ModelResponse]:
        cm = model_request_stream("test", MESSAGES)
        async with cm as stream:
            async for _ in stream:
                pass
        return cm, await model_request("test", MESSAGES)

    cm, response = anyio.run(main, backend="trio")
    assert not isinstance(cm, _aio.AsyncioStreamContext | _aio.LazyStreamContext)
    assert response.text == "success (no tool calls)"


async def test_trio_callers_get_the_native_stream_context() -> None:
    # Under Trio nothing changes: the model's own context manager, entered in this run.
    cm = model_request_stream("test", MESSAGES)
    assert not isinstance(cm, _aio.AsyncioStreamContext | _aio.LazyStreamContext)
    async with cm as stream:
        assert [e async for e in stream]
    assert _aio.on_trio("x()", "x_sync()")


def test_contextvars_travel_to_the_portal() -> None:
    async def echo(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await trio.lowlevel.checkpoint()
        return ModelResponse([TextPart(TAG.get())])

    async def main() -> str | None:
        TAG.set("from-asyncio")
        return (await model_request(FunctionModel(echo), MESSAGES)).text

    assert run(main) == "from-asyncio"


def test_exceptions_arrive_unchanged() -> None:
    error = Boom("no luck")

    async def fail(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        await trio.lowlevel.checkpoint()
        raise error

    async def main() -> BaseException:
        try:
            await model_request(FunctionModel(fail), MESSAGES)
        except BaseException as exc:
            return exc
        raise AssertionError("no error")

    assert run(main) is error


def test_http_error_arrives_as_the_same_class(loopback: LoopbackServer, openai_env: str) -> None:
    body = {"error": {"message": "bad things", "type": "invalid_request_error"}}
    loopback.enqueue(Reply.json(body, status=400), Reply.json(body, status=400))

    async def main() -> None:
        await model_request(openai_env, MESSAGES)

    with pytest.raises(ModelHTTPError) as in_asyncio:
        run(main)
    with pytest.raises(ModelHTTPError) as in_sync:
        model_request_sync(openai_env, MESSAGES)
    assert type(in_asyncio.value) is type(in_sync.value)
    assert in_asyncio.value.status_code == 400
    assert str(in_asyncio.value) == str(in_sync.value)


def test_bad_model_name_raises_user_error_before_any_io() -> None:
    async def main() -> None:
        await model_request("nope:model", MESSAGES)

    with pytest.raises(UserError):
        run(main)


def test_cancellation_unwinds_the_portal_task_before_returning(monkeypatch: pytest.MonkeyPatch) -> None:
    # The grace the caller waits for the unwinding is a hang guard here, not a race to win.
    monkeypatch.setattr(_aio, "_CANCEL_GRACE", HANG)
    started = threading.Event()
    unwound = threading.Event()

    async def forever(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            unwound.set()
        raise AssertionError("unreachable")

    async def main() -> None:
        task = asyncio.create_task(model_request(FunctionModel(forever), MESSAGES))
        while not started.is_set():
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The cancellation reached the portal task, and it had unwound before the caller resumed.
        assert unwound.is_set()

    run(main)


def test_ctrl_c_in_asyncio_run_cancels_the_portal_task(monkeypatch: pytest.MonkeyPatch) -> None:
    # asyncio.run turns Ctrl-C into the cancellation of its main task, then raises KeyboardInterrupt.
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Ctrl-C is delivered to the main thread only")
    monkeypatch.setattr(_aio, "_CANCEL_GRACE", HANG)
    started = threading.Event()
    unwound = threading.Event()

    async def forever(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            unwound.set()
        raise AssertionError("unreachable")

    main_thread = threading.main_thread().ident
    assert main_thread is not None

    def press_ctrl_c() -> None:
        # A real SIGINT to the main thread, as a terminal's Ctrl-C: it interrupts the loop's select(),
        # which a simulated one (_thread.interrupt_main) would not, leaving asyncio's handler unrun.
        if started.wait(HANG):
            signal.pthread_kill(main_thread, signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c, name="test-ctrl-c")
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run(lambda: model_request(FunctionModel(forever), MESSAGES))
    finally:
        presser.join(HANG)
    assert unwound.is_set()


def test_anyio_cancel_scope_unwinds_the_portal_task_before_returning(monkeypatch: pytest.MonkeyPatch) -> None:
    # anyio delivers a cancellation again at every await inside a cancelled scope; that must not cut
    # the wait for the portal task's unwinding short.
    monkeypatch.setattr(_aio, "_CANCEL_GRACE", HANG)
    started = threading.Event()
    unwound = threading.Event()

    async def forever(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            unwound.set()
        raise AssertionError("unreachable")

    async def main() -> bool:
        with anyio.move_on_after(HANG) as scope:
            async with anyio.create_task_group() as tg:

                async def cancel_when_started() -> None:
                    while not started.is_set():
                        await anyio.sleep(0.005)
                    scope.cancel()

                tg.start_soon(cancel_when_started)
                await model_request(FunctionModel(forever), MESSAGES)
        assert scope.cancelled_caught
        return unwound.is_set()

    assert anyio.run(main, backend="asyncio") is True


def test_asyncio_timeout_closes_the_connection_at_once(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.of(stall()))

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await model_request(openai_env, MESSAGES)

    run(main)
    loopback.wait_for_client_close(timeout=QUICK)


def test_200_concurrent_tasks_are_in_flight_together() -> None:
    # Each call waits until all 200 have arrived in the portal: they can only finish if the asyncio
    # tasks really run concurrently there (a serialized bridge would deadlock into the hang guard).
    count = 200
    arrived = 0
    everyone: trio.Event | None = None

    async def barrier(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        nonlocal arrived, everyone
        if everyone is None:
            everyone = trio.Event()
        gate = everyone
        arrived += 1
        if arrived == count:
            gate.set()
        await gate.wait()
        return ModelResponse([TextPart(f"{TAG.get()}")])

    model = FunctionModel(barrier)

    async def one(i: int) -> str | None:
        TAG.set(f"task-{i}")
        return (await model_request(model, MESSAGES)).text

    async def main() -> list[str | None]:
        return await asyncio.gather(*(one(i) for i in range(count)))

    assert run(main) == [f"task-{i}" for i in range(count)]


def test_200_concurrent_http_requests_share_the_portal_pool(
    loopback: LoopbackServer, openai_env: str
) -> None:
    count = 200
    loopback.handler = lambda request: Reply.json(completion(request.json["messages"][0]["content"]))

    async def wave() -> list[str | None]:
        async def one(i: int) -> str | None:
            response = await model_request(openai_env, [ModelRequest.user_text_prompt(f"q{i}")])
            return response.text

        return await asyncio.gather(*(one(i) for i in range(count)))

    assert run(wave) == [f"q{i}" for i in range(count)]
    assert len(loopback.requests) == count

    async def single() -> str | None:
        return (await model_request(openai_env, [ModelRequest.user_text_prompt("again")])).text

    # Each asyncio.run is a new loop (as a script's next step or a notebook cell would be), yet they all
    # share the portal's client: a sequential request reuses a keep-alive connection instead of opening
    # one per loop.
    assert run(single) == "again"
    opened = loopback.connection_count
    for _ in range(3):
        assert run(single) == "again"
    assert loopback.connection_count == opened


def test_other_event_loops_get_a_clear_error() -> None:
    async def main() -> None:
        token = sniffio.current_async_library_cvar.set("curio")
        try:
            with pytest.raises(UserError, match=r"model_request_sync\(") as request_error:
                await model_request("test", MESSAGES)
            assert "curio" in str(request_error.value)
            with pytest.raises(UserError, match=r"model_request_stream_sync\("):
                model_request_stream("test", MESSAGES)
        finally:
            sniffio.current_async_library_cvar.reset(token)

    run(main)


def test_use_http_client_under_asyncio_is_a_clear_error() -> None:
    async def main() -> None:
        async with httpx.AsyncClient() as client:
            with pytest.raises(UserError, match=r"inside trio\.run only"):
                async with trio_direct.use_http_client(client):
                    raise AssertionError("entered")

    run(main)


def test_awaited_outside_any_event_loop_is_a_clear_error() -> None:
    coro = model_request("test", MESSAGES)
    with pytest.raises(UserError, match=r"model_request_sync\("):
        coro.send(None)
    coro.close()


# -- streams ----------------------------------------------------------------------------------------


def test_stream_under_asyncio_matches_the_sync_stream() -> None:
    model = FunctionModel(stream_function=tool_and_text)

    async def main() -> tuple[list[ModelResponseStreamEvent], ModelResponse, RequestUsage, object]:
        async with model_request_stream(model, MESSAGES) as stream:
            events = [event async for event in stream]
            return events, stream.get(), stream.usage, stream

    events, response, usage, stream = run(main)
    assert isinstance(stream, StreamedResponse)
    with model_request_stream_sync(model, MESSAGES) as sync_stream:
        sync_events = list(sync_stream)
    assert events == sync_events
    assert normalized(response) == normalized(sync_stream.get())
    assert response.state == "complete"
    assert usage == sync_stream.usage


def test_stream_over_http_under_asyncio(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.sse(sse_text("Hello", ", ", "world")))

    async def main() -> tuple[str, ModelResponse]:
        async with model_request_stream(openai_env, MESSAGES) as stream:
            assert stream.model_name == "gpt-4o"
            text = text_of([event async for event in stream])
            return text, stream.get()

    text, response = run(main)
    assert text == "Hello, world"
    assert response.text == "Hello, world"
    assert response.model_name == "gpt-4o-2024"


def test_state_reflects_exactly_the_events_seen() -> None:
    async def main() -> None:
        async with model_request_stream(FunctionModel(stream_function=words_stream(30)), MESSAGES) as stream:
            seen: list[ModelResponseStreamEvent] = []
            async for event in stream:
                seen.append(event)
                assert stream.get().text == (text_of(seen) or None)
            assert stream.get().state == "complete"

    run(main)


def test_events_arrive_in_batches() -> None:
    # The producer gets well ahead before the consumer starts: one portal round trip then takes every
    # batch already buffered, instead of one round trip per event.
    ahead = threading.Event()

    async def words(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for i in range(6):
            yield f"w{i} "
        ahead.set()
        for i in range(6, 12):
            yield f"w{i} "

    fetched: list[int] = []  # batches per portal round trip
    real_next_batches = _aio._next_batches  # pyright: ignore[reportPrivateUsage]

    async def counting(receive: Any) -> Any:
        batches = await real_next_batches(receive)
        fetched.append(len(batches))
        return batches

    async def main() -> list[ModelResponseStreamEvent]:
        async with model_request_stream(FunctionModel(stream_function=words), MESSAGES) as stream:
            while not ahead.is_set():
                await asyncio.sleep(0.005)
            return [event async for event in stream]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_aio, "_next_batches", counting)
        events = run(main)
    assert text_of(events) == "".join(f"w{i} " for i in range(12))
    # Each chunk is its own batch: the first round trip took the six already buffered at once.
    assert fetched[0] >= 6
    assert fetched[-1] == 0  # the end of the stream
    assert len(fetched) < sum(fetched)


def test_early_break_then_leaving_the_block_closes_the_connection(
    loopback: LoopbackServer, openai_env: str
) -> None:
    loopback.enqueue(slow_sse())

    async def main() -> ModelResponse:
        async with model_request_stream(openai_env, MESSAGES) as stream:
            seen = 0
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break
        return stream.get()

    response = run(main)
    loopback.wait_for_client_close(timeout=QUICK)
    assert (response.text or "").startswith("w0 ")
    assert response.state != "complete"


def test_break_then_reiterate_resumes_without_losing_events() -> None:
    async def main() -> list[ModelResponseStreamEvent]:
        async with model_request_stream(FunctionModel(stream_function=words_stream(20)), MESSAGES) as stream:
            events: list[ModelResponseStreamEvent] = []
            async for event in stream:
                events.append(event)
                if len(events) == 5:
                    break
            events.extend([event async for event in stream])
            return events

    events = run(main)
    assert text_of(events) == "".join(f"w{i} " for i in range(20))


def test_cancelling_the_task_mid_stream_closes_the_connection(
    loopback: LoopbackServer, openai_env: str
) -> None:
    loopback.enqueue(slow_sse())
    first = asyncio.Event()

    async def consume() -> None:
        async with model_request_stream(openai_env, MESSAGES) as stream:
            async for _ in stream:
                first.set()

    async def main() -> None:
        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    run(main)
    loopback.wait_for_client_close(timeout=QUICK)


def test_cancelling_while_the_stream_opens_closes_the_connection(
    loopback: LoopbackServer, openai_env: str
) -> None:
    loopback.enqueue(Reply.of(stall()))

    async def main() -> None:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3), model_request_stream(openai_env, MESSAGES):
                raise AssertionError("the stream never opens")

    run(main)
    loopback.wait_for_client_close(timeout=QUICK)


def test_stream_cancel_method_under_asyncio(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())

    async def main() -> ModelResponse:
        async with model_request_stream(openai_env, MESSAGES) as stream:
            async for _ in stream:
                break
            await stream.cancel()
            with pytest.raises(StreamClosedError):
                await stream.__anext__()
            return stream.get()

    response = run(main)
    assert response.state == "interrupted"
    loopback.wait_for_client_close(timeout=QUICK)


def test_open_error_raises_from_async_with_unchanged() -> None:
    error = Boom("cannot open")

    async def fail(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise error
        yield "unreachable"

    async def main() -> BaseException:
        try:
            async with model_request_stream(FunctionModel(stream_function=fail), MESSAGES):
                raise AssertionError("should not open")
        except BaseException as exc:
            return exc
        raise AssertionError("no error")

    assert run(main) is error


def test_http_error_raises_from_async_with(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.json({"error": {"message": "slow down"}}, status=429))

    async def main() -> None:
        async with model_request_stream(openai_env, MESSAGES):
            raise AssertionError("should not open")

    with pytest.raises(ModelHTTPError) as caught:
        run(main)
    assert caught.value.status_code == 429


def test_mid_stream_error_raises_from_async_for_unchanged() -> None:
    error = Boom("half way")

    async def fail_later(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "one "
        yield "two "
        raise error

    async def main() -> tuple[BaseException, str | None]:
        async with model_request_stream(FunctionModel(stream_function=fail_later), MESSAGES) as stream:
            try:
                async for _ in stream:
                    pass
            except BaseException as exc:
                return exc, stream.get().text
        raise AssertionError("no error")

    exc, text = run(main)
    assert exc is error
    assert text == "one two "


def test_body_exception_propagates_and_closes_the_stream(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())

    async def main() -> None:
        async with model_request_stream(openai_env, MESSAGES) as stream:
            async for _ in stream:
                raise Boom("in the body")

    with pytest.raises(Boom, match="in the body") as caught:
        run(main)
    loopback.wait_for_client_close(timeout=QUICK)
    # The traceback is the caller's: no portal or concurrent.futures frames from carrying it across.
    files = [frame.filename for frame in traceback.extract_tb(caught.value.__traceback__)]
    foreign = ("concurrent/futures/_base.py", "trio_direct/_portal.py", "trio_direct/_aio.py")
    assert not [f for f in files if f.endswith(foreign)], files


def test_use_after_the_block_raises_and_state_remains() -> None:
    async def main() -> StreamedResponse:
        async with model_request_stream(FunctionModel(stream_function=words_stream(30)), MESSAGES) as stream:
            async for _ in stream:
                break
        with pytest.raises(StreamClosedError):
            await stream.__anext__()
        return stream

    stream = run(main)
    assert stream.get().text == "w0 "


def test_entering_twice_raises() -> None:
    async def main() -> None:
        cm = model_request_stream("test", MESSAGES)
        async with cm as stream:
            async for _ in stream:
                pass
        with pytest.raises(UserError, match="only once"):
            await cm.__aenter__()

    run(main)


def test_200_concurrent_streams() -> None:
    count = 200
    model = FunctionModel(stream_function=words_stream(10))

    async def one() -> str | None:
        async with model_request_stream(model, MESSAGES) as stream:
            async for _ in stream:
                await asyncio.sleep(0)
            return stream.get().text

    async def main() -> list[str | None]:
        return await asyncio.gather(*(one() for _ in range(count)))

    expected = "".join(f"w{i} " for i in range(10))
    assert run(main) == [expected] * count


def test_portal_shutdown_mid_stream_raises_portal_closed() -> None:
    async def forever(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "one "
        await trio.sleep_forever()
        yield "never"

    async def main() -> None:
        async with model_request_stream(FunctionModel(stream_function=forever), MESSAGES) as stream:
            async for _ in stream:
                break
            # shutdown() blocks until the portal thread has stopped: run it off the loop.
            await asyncio.get_running_loop().run_in_executor(None, trio_direct.shutdown)
            with pytest.raises(PortalClosedError):
                async for _ in stream:
                    pass

    run(main)
    assert model_request_sync("test", MESSAGES).text  # a fresh portal serves later calls


def test_stream_context_made_outside_a_loop_picks_the_loop_when_entered() -> None:
    for_asyncio = model_request_stream("test", MESSAGES)
    for_trio = model_request_stream("test", MESSAGES)
    assert isinstance(for_asyncio, _aio.LazyStreamContext)

    async def consume(cm: Any) -> str | None:
        async with cm as stream:
            async for _ in stream:
                pass
            text: str | None = stream.get().text
            return text

    assert run(lambda: consume(for_asyncio)) == "success (no tool calls)"
    assert trio.run(consume, for_trio) == "success (no tool calls)"


# -- stream.usage: a property that can also be called -------------------------------------------------


async def test_usage_property_and_call_on_the_async_stream() -> None:
    async with model_request_stream(TestModel(), MESSAGES) as stream:
        async for _ in stream:
            pass
        assert isinstance(stream.usage, RequestUsage)
        assert stream.usage() is stream.usage
        assert stream.usage.input_tokens == stream.usage().input_tokens == 51
        assert stream.usage == stream.get().usage


def test_usage_property_and_call_on_the_sync_stream() -> None:
    with model_request_stream_sync(TestModel(), MESSAGES) as stream:
        for _ in stream:
            pass
        assert stream.usage() is stream.usage
        assert stream.usage.output_tokens == stream.usage().output_tokens == 4
        assert stream.usage == stream.get().usage


def test_callable_usage_keeps_equality_repr_and_json() -> None:
    usage = RequestUsage(input_tokens=3, output_tokens=2, details={"reasoning_tokens": 1})
    assert usage() is usage
    assert usage == RequestUsage(input_tokens=3, output_tokens=2, details={"reasoning_tokens": 1})
    assert repr(usage()) == "RequestUsage(details={'reasoning_tokens': 1}, input_tokens=3, output_tokens=2)"
    response = ModelResponse([TextPart("x")], usage=usage(), timestamp=EPOCH)
    dumped = messages_to_json([response])
    assert orjson.loads(dumped)[0]["usage"]["input_tokens"] == 3
    assert messages_from_json(dumped) == [response]
