"""The sync direct API on the portal: model_request_sync, model_request_stream_sync, StreamedResponseSync.

Sync tests are plain ``def`` (trio_mode only runs ``async def`` tests inside ``trio.run``). Every wait
carries a generous hang guard (``HANG``) so a deadlock fails a test instead of stalling the suite; no
test asserts a tight wall-clock figure. HTTP tests point the ``openai:`` provider at the loopback
server and serve OpenAI Chat SSE chunks.
"""

from __future__ import annotations

import _thread
import asyncio
import contextlib
import contextvars
import gc
import threading
import time
import warnings
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
import trio

import trio_direct
from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ModelHTTPError,
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    PortalClosedError,
    RequestTimeoutError,
    StreamedResponseSync,
    TextPart,
    TextPartDelta,
    TrioDirectError,
    UserError,
    model_request_stream,
    model_request_stream_sync,
    model_request_sync,
)
from trio_direct._portal import THREAD_NAME, get_portal
from trio_direct.events import ModelResponseStreamEvent
from trio_direct.messages import ModelMessage, UserPromptPart
from trio_direct.models import Model, StreamClosedError
from trio_direct.models.function import AgentInfo, FunctionModel
from trio_direct.models.test import TestModel

HANG = 20.0  # seconds; only turns a deadlock into a failure
QUICK = 5.0  # "well under a second" in practice; asserted only as a hang guard

MESSAGES: list[ModelMessage] = [ModelRequest.user_text_prompt("hi")]
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

TAG: contextvars.ContextVar[str] = contextvars.ContextVar("TAG", default="unset")


# -- module-wide hygiene ----------------------------------------------------------------------------


def _portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


@pytest.fixture(scope="module", autouse=True)
def _no_leaks() -> Iterator[None]:
    """After the module: no thread left but the default portal's, no ResourceWarning; then shut down."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + HANG
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        leaked = [t for t in extra if t.name != THREAD_NAME]
        if (not leaked and len(extra) <= 1) or time.monotonic() > deadline:
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
    """Point ``openai:`` at the loopback server; returns the model name to use."""
    monkeypatch.setenv("OPENAI_BASE_URL", f"{loopback.url}/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    return "openai:gpt-4o"


# -- helpers ----------------------------------------------------------------------------------------


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    """One OpenAI Chat streaming chunk."""
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish}
        ],
    }


def slow_sse(count: int = 200, interval: float = 0.1) -> Reply:
    """A chunk every ``interval`` seconds (20 s by default), then the end: far longer than any test."""
    return Reply.sse(
        [chunk(f"w{i} ") for i in range(count)] + [chunk(finish="stop"), "data: [DONE]"], interval
    )


def quick_sse(words: list[str]) -> Reply:
    return Reply.sse([chunk(w) for w in words] + [chunk(finish="stop"), "data: [DONE]"])


def prompt_of(messages: list[ModelMessage]) -> str:
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    part = last.parts[-1]
    assert isinstance(part, UserPromptPart) and isinstance(part.content, str)
    return part.content


async def echo(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    await trio.lowlevel.checkpoint()
    return ModelResponse([TextPart(f"{TAG.get()}|{prompt_of(messages)}")])


def words_stream(count: int) -> Callable[[list[ModelMessage], AgentInfo], AsyncIterator[str]]:
    async def words(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        for i in range(count):
            yield f"w{i} "

    return words


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


@contextlib.contextmanager
def interrupt_main_when(ready: threading.Event, delay: float = 0.05) -> Iterator[None]:
    """Deliver a KeyboardInterrupt (as Ctrl-C would) to the main thread once ``ready`` is set."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("KeyboardInterrupt is delivered to the main thread only")

    def fire() -> None:
        if ready.wait(HANG):
            time.sleep(delay)
            _thread.interrupt_main()

    thread = threading.Thread(target=fire, name="test-interrupter")
    thread.start()
    try:
        yield
    finally:
        thread.join(HANG)
        assert not thread.is_alive()


def run_threads(target: Callable[[int], None], count: int) -> None:
    """Run ``target(i)`` in ``count`` threads started together; re-raise the first failure."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def main(i: int) -> None:
        try:
            barrier.wait(HANG)
            target(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=main, args=(i,), name=f"test-caller-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0.0))
    assert not any(t.is_alive() for t in threads), "deadlock: caller threads still running"
    if errors:
        raise errors[0]


# -- many threads through one portal ---------------------------------------------------------------


def test_32_threads_x_50_calls_test_model() -> None:
    shared = TestModel()

    def caller(i: int) -> None:
        own = TestModel(custom_output_text=f"thread {i}", model_name=f"test-{i}")
        for n in range(50):
            if n % 2:
                response = model_request_sync(own, [ModelRequest.user_text_prompt(f"{i}-{n}")])
                assert response.text == f"thread {i}"
                assert response.model_name == f"test-{i}"
            else:
                response = model_request_sync(shared if n % 4 else "test", MESSAGES)
                assert response.text == "success (no tool calls)"
                assert response.model_name == "test"

    run_threads(caller, 32)
    assert len(_portal_threads()) == 1


def test_32_threads_x_50_calls_function_model() -> None:
    model = FunctionModel(echo)

    def caller(i: int) -> None:
        TAG.set(f"t{i}")  # each thread's own context travels with its calls
        for n in range(50):
            response = model_request_sync(model, [ModelRequest.user_text_prompt(f"{i}-{n}")])
            assert response.text == f"t{i}|{i}-{n}"

    run_threads(caller, 32)


def test_16_threads_x_10_streams() -> None:
    model = FunctionModel(stream_function=words_stream(20))
    with model_request_stream_sync(model, MESSAGES) as stream:
        expected = list(stream)

    def caller(i: int) -> None:
        for _ in range(10):
            with model_request_stream_sync(model, MESSAGES) as stream:
                assert list(stream) == expected
                assert stream.get().text == "".join(f"w{k} " for k in range(20))

    run_threads(caller, 16)


# -- where the sync API may be called from ---------------------------------------------------------


def test_sync_calls_from_a_running_asyncio_loop() -> None:
    async def notebook_cell() -> tuple[str | None, str | None]:
        asyncio.get_running_loop()  # a loop is running in this thread
        response = model_request_sync("test", MESSAGES)
        with model_request_stream_sync("test", MESSAGES) as stream:
            for _ in stream:
                pass
        return response.text, stream.get().text

    assert asyncio.run(notebook_cell()) == ("success (no tool calls)", "success (no tool calls)")


def test_sync_calls_from_a_thread_with_a_running_asyncio_loop() -> None:
    results: list[str | None] = []

    async def cell() -> None:
        results.append(model_request_sync(FunctionModel(echo), MESSAGES).text)

    run_threads(lambda i: asyncio.run(cell()), 4)
    assert results == ["unset|hi"] * 4


async def test_model_request_sync_inside_trio_run_raises() -> None:
    with pytest.raises(RuntimeError, match=r"inside trio\.run.*`await model_request\(\.\.\.\)`"):
        model_request_sync("test", MESSAGES)


async def test_model_request_stream_sync_inside_trio_run_raises() -> None:
    stream = model_request_stream_sync("test", MESSAGES)
    with pytest.raises(RuntimeError, match=r"inside trio\.run.*model_request_stream\(\.\.\.\)"), stream:
        pytest.fail("entered")  # pragma: no cover


def test_iterating_a_sync_stream_inside_trio_run_raises() -> None:
    with model_request_stream_sync("test", MESSAGES) as stream:

        async def consume() -> None:
            for _ in stream:
                pytest.fail("iterated")  # pragma: no cover

        with pytest.raises(RuntimeError, match="async for"):
            trio.run(consume)
        assert text_of(list(stream)) == "success (no tool calls)"  # still usable from sync code


def test_sync_calls_from_the_portal_thread_raise() -> None:
    portal = get_portal()

    def request_in_portal() -> object:
        return model_request_sync("test", MESSAGES)

    def stream_in_portal() -> None:
        with model_request_stream_sync("test", MESSAGES):
            pytest.fail("entered")  # pragma: no cover

    with pytest.raises(RuntimeError, match=r"portal thread.*await model_request\(\.\.\.\)"):
        portal.run_sync(request_in_portal)
    with pytest.raises(RuntimeError, match=r"portal thread.*model_request_stream\(\.\.\.\)"):
        portal.run_sync(stream_in_portal)
    assert model_request_sync("test", MESSAGES).text == "success (no tool calls)"  # portal unharmed


# -- leaving a slow stream early --------------------------------------------------------------------


async def test_break_out_of_slow_stream_async(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())
    start = trio.current_time()
    with trio.fail_after(QUICK):
        async with model_request_stream(openai_env, MESSAGES) as stream:
            seen = 0
            async for _ in stream:
                seen += 1
                if seen == 3:
                    break
    assert trio.current_time() - start < QUICK
    await loopback.wait_for_client_close_async(timeout=QUICK)
    assert stream.get().state != "complete"


def test_break_out_of_slow_stream_sync(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())
    start = time.monotonic()
    with model_request_stream_sync(openai_env, MESSAGES) as stream:
        for seen, _ in enumerate(stream, 1):
            if seen == 3:
                break
    assert time.monotonic() - start < QUICK
    loopback.wait_for_client_close(timeout=QUICK)
    assert (stream.get().text or "").startswith("w0 ")
    assert stream.get().state != "complete"


# -- StreamedResponseSync: events and state ---------------------------------------------------------


async def tool_and_text(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
    from trio_direct.models.function import DeltaThinkingPart, DeltaToolCall

    yield {0: DeltaThinkingPart(content="let me ")}
    yield {0: DeltaThinkingPart(content="think")}
    for word in ["The ", "answer ", "is ", "42."]:
        yield word
    yield {1: DeltaToolCall(name="lookup", json_args='{"q": ', tool_call_id="call_1")}
    yield {1: DeltaToolCall(json_args='"x"}')}


STREAM_MODELS: list[Callable[[], Model]] = [
    TestModel,
    lambda: FunctionModel(stream_function=words_stream(40)),
    lambda: FunctionModel(stream_function=tool_and_text),
]


Snapshot = tuple[ModelResponseStreamEvent, ModelResponse, Any, str | None]


@pytest.mark.parametrize("make_model", STREAM_MODELS, ids=["test", "words", "tool-and-text"])
def test_sync_stream_matches_async_stream(make_model: Callable[[], Model]) -> None:
    async def async_snapshots() -> tuple[list[Snapshot], ModelResponse]:
        out: list[Snapshot] = []
        async with model_request_stream(make_model(), MESSAGES) as stream:
            async for event in stream:
                out.append((event, normalized(stream.get()), stream.usage(), stream.model_name))
        return out, normalized(stream.get())

    expected, expected_final = trio.run(async_snapshots)
    assert expected  # the model streams something

    got: list[Snapshot] = []
    with model_request_stream_sync(make_model(), MESSAGES) as stream:
        for event in stream:
            got.append((event, normalized(stream.get()), stream.usage(), stream.model_name))
    assert [g[0] for g in got] == [e[0] for e in expected]
    assert got == expected
    assert normalized(stream.get()) == expected_final
    assert stream.get().state == "complete"


def test_state_reflects_exactly_the_yielded_events() -> None:
    # The consumer is slow, so the pump runs ahead and one portal round trip fetches many batches;
    # get()/usage() must still follow the events handed out, never the ones merely fetched.
    count = 60
    model = FunctionModel(stream_function=words_stream(count), model_name="fn")
    with model_request_stream_sync(model, MESSAGES) as stream:
        assert stream.get().parts == []
        assert stream.usage().output_tokens == 0
        assert stream.model_name == "fn"
        seen: list[ModelResponseStreamEvent] = []
        text_events = 0
        for event in stream:
            seen.append(event)
            if isinstance(event, PartStartEvent | PartDeltaEvent):
                text_events += 1
            response = stream.get()
            assert (response.text or "") == text_of(seen)
            assert stream.response == response
            assert stream.usage() == response.usage
            assert stream.usage().output_tokens == text_events  # one estimated token per word
            assert stream.model_name == response.model_name == "fn"
            assert stream.timestamp == response.timestamp
            assert response.state == "incomplete"  # "complete" only once the end has been seen
            if len(seen) in (3, 20):
                time.sleep(0.05)  # let the pump run ahead and fill the channel
    final = stream.get()
    assert final.text == "".join(f"w{i} " for i in range(count))
    assert final.state == "complete"
    assert isinstance(stream.timestamp, datetime) and stream.timestamp.tzinfo is not None
    assert stream.get() == final  # still available after the block


def test_use_outside_with_raises_with_hint() -> None:
    stream = model_request_stream_sync("test", MESSAGES)
    hint = r"with model_request_stream_sync\(\.\.\.\) as stream"
    with pytest.raises(RuntimeError, match=hint):
        iter(stream).__next__()
    with pytest.raises(RuntimeError, match=hint):
        stream.get()
    with pytest.raises(RuntimeError, match=hint):
        _ = stream.response
    with pytest.raises(RuntimeError, match=hint):
        stream.usage()
    with pytest.raises(RuntimeError, match=hint):
        _ = stream.model_name
    with pytest.raises(RuntimeError, match=hint):
        _ = stream.timestamp
    assert repr(stream) == "StreamedResponseSync(context_entered=False)"
    assert isinstance(stream, StreamedResponseSync)


def test_after_the_block_iteration_raises_and_state_remains() -> None:
    with model_request_stream_sync("test", MESSAGES) as stream:
        first = next(iter(stream))
    with pytest.raises(RuntimeError, match="closed"):
        list(stream)
    assert first == PartStartEvent(index=0, part=TextPart(""))
    assert stream.get().parts == [TextPart("")]  # exactly what was yielded before the block ended
    assert "StreamedResponse" in repr(stream)
    with pytest.raises(RuntimeError, match="already entered"):
        stream.__enter__()
    stream.__exit__(None, None, None)  # idempotent: a second exit does nothing


def test_reiteration_after_exhaustion_yields_nothing() -> None:
    with model_request_stream_sync("test", MESSAGES) as stream:
        events = list(stream)
        assert events
        assert list(stream) == []
        assert list(stream) == []
        assert stream.get().text == "success (no tool calls)"


@pytest.mark.parametrize("break_after", [[1], [2, 3], [1, 1, 1, 1, 1], [5, 20]])
def test_break_then_reiterate_resumes_without_losing_events(break_after: list[int]) -> None:
    model = FunctionModel(stream_function=words_stream(30))
    with model_request_stream_sync(model, MESSAGES) as stream:
        expected = list(stream)

    got: list[ModelResponseStreamEvent] = []
    with model_request_stream_sync(model, MESSAGES) as stream:
        for limit in break_after:
            for n, event in enumerate(stream, 1):
                got.append(event)
                if n == limit:
                    break
        got.extend(stream)
    assert got == expected
    assert stream.get().state == "complete"


def test_consumed_from_another_thread() -> None:
    with model_request_stream_sync(FunctionModel(stream_function=words_stream(10)), MESSAGES) as stream:
        collected: list[ModelResponseStreamEvent] = []
        run_threads(lambda i: collected.extend(stream), 1)
    assert text_of(collected) == "".join(f"w{i} " for i in range(10))


# -- errors -----------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_open_error_raises_from_enter_with_original_type() -> None:
    async def fails_first(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        raise Boom("before the first item")
        yield ""  # pragma: no cover

    stream = model_request_stream_sync(FunctionModel(stream_function=fails_first), MESSAGES)
    with pytest.raises(Boom, match="before the first item") as info, stream:
        pytest.fail("entered")  # pragma: no cover
    assert type(info.value) is Boom

    async def nothing(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        return
        yield ""  # pragma: no cover

    with (
        pytest.raises(ValueError, match="at least one item"),
        model_request_stream_sync(FunctionModel(stream_function=nothing), MESSAGES),
    ):
        pytest.fail("entered")  # pragma: no cover


def test_http_error_raises_from_enter(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.json({"error": {"message": "kaput", "type": "server_error"}}, status=500))
    with pytest.raises(ModelHTTPError) as info, model_request_stream_sync(openai_env, MESSAGES):
        pytest.fail("entered")  # pragma: no cover
    assert info.value.status_code == 500
    assert "kaput" in str(info.value.body)


def test_bad_model_and_bad_timeout_raise_at_call_time() -> None:
    with pytest.raises(UserError, match="Unknown model"):
        model_request_stream_sync("no-such-model", MESSAGES)
    with pytest.raises(UserError, match="Unknown model"):
        model_request_sync("no-such-model", MESSAGES)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="timeout"):
            model_request_stream_sync("test", MESSAGES, timeout=bad)
        with pytest.raises(ValueError, match="timeout"):
            model_request_sync("test", MESSAGES, timeout=bad)


def test_mid_stream_error_raises_from_for_unchanged() -> None:
    error = Boom("mid-stream")

    async def fails_later(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "one "
        yield "two "
        raise error

    seen: list[ModelResponseStreamEvent] = []
    with (
        pytest.raises(Boom) as info,
        model_request_stream_sync(FunctionModel(stream_function=fails_later), MESSAGES) as stream,
    ):
        for event in stream:
            seen.append(event)
    assert info.value is error
    assert text_of(seen) == "one two "
    assert stream.get().text == "one two "
    assert stream.get().state == "incomplete"


def test_mid_stream_error_is_raised_once() -> None:
    async def fails_later(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "one "
        raise Boom("once")

    with model_request_stream_sync(FunctionModel(stream_function=fails_later), MESSAGES) as stream:
        with pytest.raises(Boom):
            list(stream)
        assert list(stream) == []


def test_model_request_sync_errors_unchanged() -> None:
    error = Boom("from the function")

    async def fails(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        raise error

    with pytest.raises(Boom) as info:
        model_request_sync(FunctionModel(fails), MESSAGES)
    assert info.value is error


class BodyError(Exception):
    pass


def test_exception_in_body_propagates_and_closes_stream(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())
    error = BodyError("in the body")
    start = time.monotonic()
    with pytest.raises(BodyError) as info, model_request_stream_sync(openai_env, MESSAGES) as stream:
        for _ in stream:
            raise error
    assert info.value is error
    assert time.monotonic() - start < QUICK
    # The traceback is the caller's: the portal frames that re-raised it inside __aexit__ were undone.
    assert all("_portal.py" not in str(entry.path) for entry in info.traceback)
    loopback.wait_for_client_close(timeout=QUICK)


def test_exception_in_body_closes_the_stream_function() -> None:
    closed = threading.Event()

    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            while True:
                yield "more "
                await trio.sleep(0.01)
        finally:
            closed.set()

    with (
        pytest.raises(BodyError),
        model_request_stream_sync(FunctionModel(stream_function=endless), MESSAGES) as stream,
    ):
        next(iter(stream))
        raise BodyError
    assert closed.is_set()  # closed before __exit__ returned, not later


def test_timeout_on_slow_stream(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())
    seen: list[ModelResponseStreamEvent] = []
    start = time.monotonic()
    with (
        pytest.raises(RequestTimeoutError) as info,
        model_request_stream_sync(openai_env, MESSAGES, timeout=1.0) as stream,
    ):
        for event in stream:
            seen.append(event)
    assert time.monotonic() - start < QUICK
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, TrioDirectError)
    assert seen  # some chunks arrived before the deadline
    assert stream.get().text == text_of(seen)
    loopback.wait_for_client_close(timeout=QUICK)


def test_timeout_while_opening(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(Reply.of(stall()))
    with (
        pytest.raises(RequestTimeoutError) as info,
        model_request_stream_sync(openai_env, MESSAGES, timeout=1.0),
    ):
        pytest.fail("entered")  # pragma: no cover
    assert isinstance(info.value, TimeoutError)
    assert "opening the stream" in str(info.value)
    loopback.wait_for_requests(1, timeout=0)  # the request went out, so the close below is ours
    loopback.wait_for_client_close(timeout=QUICK)


def test_timeout_not_reached() -> None:
    with model_request_stream_sync("test", MESSAGES, timeout=HANG) as stream:
        assert text_of(list(stream)) == "success (no tool calls)"
    assert model_request_sync("test", MESSAGES, timeout=HANG).text == "success (no tool calls)"


def test_model_request_sync_timeout() -> None:
    cancelled = threading.Event()

    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        try:
            await trio.sleep(HANG)
        except trio.Cancelled:
            cancelled.set()
            raise
        return ModelResponse([TextPart("late")])  # pragma: no cover

    with pytest.raises(RequestTimeoutError) as info:
        model_request_sync(FunctionModel(slow), MESSAGES, timeout=0.2)
    assert isinstance(info.value, TimeoutError)
    assert cancelled.is_set()


def test_two_threads_iterating_at_once_raises() -> None:
    release = threading.Event()
    iterating = threading.Event()

    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield "a "
        await trio.sleep(HANG)

    with model_request_stream_sync(FunctionModel(stream_function=endless), MESSAGES) as stream:

        def first_consumer(i: int) -> None:
            for _ in stream:
                iterating.set()
                release.wait(HANG)
                break

        worker = threading.Thread(target=first_consumer, args=(0,))
        worker.start()
        try:
            assert iterating.wait(HANG)
            with pytest.raises(RuntimeError, match="another thread"):
                next(iter(stream))
        finally:
            release.set()
            worker.join(HANG)
        assert not worker.is_alive()
        # Once the first consumer has left, this thread may iterate: the rest of the first batch.
        assert next(iter(stream)) is not None


def test_dropped_stream_is_cleaned_up_by_the_finalizer(loopback: LoopbackServer, openai_env: str) -> None:
    loopback.enqueue(slow_sse())

    def enter_and_forget() -> None:
        stream = model_request_stream_sync(openai_env, MESSAGES)
        stream.__enter__()
        for _ in stream:
            break

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enter_and_forget()
        gc.collect()
        loopback.wait_for_client_close(timeout=QUICK)
        gc.collect()
    assert caught == []


def test_dropped_stream_closes_the_stream_function() -> None:
    closed = threading.Event()

    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            while True:
                yield "more "
                await trio.sleep(0.01)
        finally:
            closed.set()

    stream = model_request_stream_sync(FunctionModel(stream_function=endless), MESSAGES)
    stream.__enter__()
    next(iter(stream))
    del stream
    gc.collect()
    assert closed.wait(HANG)


def test_portal_shutdown_mid_stream() -> None:
    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        while True:
            yield "more "
            await trio.sleep(0.01)

    with model_request_stream_sync(FunctionModel(stream_function=endless), MESSAGES) as stream:
        next(iter(stream))
        trio_direct.shutdown()
        with pytest.raises(PortalClosedError):
            for _ in stream:
                pass
    # Leaving the block after the portal closed the stream is quiet; the next call gets a fresh portal.
    assert model_request_sync("test", MESSAGES).text == "success (no tool calls)"


def test_stream_closed_under_the_consumer_is_not_passed_off_as_complete() -> None:
    async def endless(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        while True:
            yield "more "
            await trio.sleep(0.01)

    with model_request_stream_sync(FunctionModel(stream_function=endless), MESSAGES) as stream:
        next(iter(stream))
        # White box: cancel the portal task holding the stream, as the finalizer would, while the
        # portal keeps running; the channel then ends without the stream having finished.
        handle = stream._handle  # pyright: ignore[reportPrivateUsage]
        assert handle is not None
        handle.cancel()
        with pytest.raises(StreamClosedError, match="before it finished"):
            for _ in stream:
                pass
        assert list(stream) == []  # reported once, like any stream error
    assert stream.get().state == "incomplete"


# -- contextvars ------------------------------------------------------------------------------------


def test_contextvars_travel_into_the_portal() -> None:
    async def tagged(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        yield TAG.get()

    token = TAG.set("from the caller")
    try:
        assert model_request_sync(FunctionModel(echo), MESSAGES).text == "from the caller|hi"
        with model_request_stream_sync(FunctionModel(stream_function=tagged), MESSAGES) as stream:
            assert text_of(list(stream)) == "from the caller"
    finally:
        TAG.reset(token)
    assert model_request_sync(FunctionModel(echo), MESSAGES).text == "unset|hi"


# -- Ctrl-C -----------------------------------------------------------------------------------------


def test_ctrl_c_cancels_model_request_sync() -> None:
    started = threading.Event()
    cancelled = threading.Event()
    finished = threading.Event()
    leaked: list[BaseException] = []

    async def slow(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        started.set()
        try:
            await trio.sleep(HANG)
        except trio.Cancelled:
            cancelled.set()
            raise
        except BaseException as exc:  # pragma: no cover - would be a bug
            leaked.append(exc)
            raise
        finally:
            finished.set()
        return ModelResponse([TextPart("late")])  # pragma: no cover

    start = time.monotonic()
    with interrupt_main_when(started), pytest.raises(KeyboardInterrupt) as info:
        model_request_sync(FunctionModel(slow), MESSAGES)
    assert type(info.value) is KeyboardInterrupt
    assert not isinstance(info.value.__context__, trio.Cancelled)
    assert time.monotonic() - start < QUICK
    assert cancelled.is_set() and finished.is_set()  # the portal task unwound before the caller saw it
    assert leaked == []
    assert model_request_sync("test", MESSAGES).text == "success (no tool calls)"  # portal unharmed


def test_ctrl_c_pending_at_submission_still_cancels_the_task() -> None:
    # The interrupt is already pending while the call is being submitted and waited for: wherever
    # the caller notices it, the portal task must not run on unobserved.
    finished = threading.Event()

    async def interrupts(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        try:
            _thread.interrupt_main()
            await trio.sleep(HANG)
        finally:
            finished.set()
        return ModelResponse([TextPart("late")])  # pragma: no cover

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("KeyboardInterrupt is delivered to the main thread only")
    for _ in range(20):
        finished.clear()
        with pytest.raises(KeyboardInterrupt):
            model_request_sync(FunctionModel(interrupts), MESSAGES)
        assert finished.wait(QUICK)


def test_ctrl_c_while_opening_a_stream() -> None:
    started = threading.Event()
    closed = threading.Event()

    async def slow_start(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        started.set()
        try:
            await trio.sleep(HANG)
            yield "late"  # pragma: no cover
        finally:
            closed.set()

    with (
        interrupt_main_when(started),
        pytest.raises(KeyboardInterrupt),
        model_request_stream_sync(FunctionModel(stream_function=slow_start), MESSAGES),
    ):
        pytest.fail("entered")  # pragma: no cover
    assert closed.is_set()


def test_ctrl_c_just_as_the_stream_opens_does_not_leave_it_open() -> None:
    # The interrupt is pending while the stream opens, so the caller sees it right after (or just
    # before) the portal reports the stream open; either way nobody will ever exit the held
    # context, so it must be cancelled rather than left open until shutdown.
    closed = threading.Event()

    async def interrupts(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            _thread.interrupt_main()
            yield "first "
            await trio.sleep(HANG)
        finally:
            closed.set()

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("KeyboardInterrupt is delivered to the main thread only")
    with (
        pytest.raises(KeyboardInterrupt),
        model_request_stream_sync(FunctionModel(stream_function=interrupts), MESSAGES),
    ):
        time.sleep(HANG)  # pragma: no cover - the interrupt is already pending
    assert closed.wait(QUICK)


def test_ctrl_c_during_iteration_closes_the_stream() -> None:
    waiting = threading.Event()
    closed = threading.Event()

    async def stalls(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            yield "first "
            waiting.set()
            await trio.sleep(HANG)
            yield "late"  # pragma: no cover
        finally:
            closed.set()

    seen: list[ModelResponseStreamEvent] = []
    with (
        interrupt_main_when(waiting, delay=0.3),
        pytest.raises(KeyboardInterrupt),
        model_request_stream_sync(FunctionModel(stream_function=stalls), MESSAGES) as stream,
    ):
        for event in stream:  # blocked waiting for the second chunk when Ctrl-C lands
            seen.append(event)
    assert closed.is_set()
    assert text_of(seen) == "first "
    assert stream.get().text == "first "


def test_ctrl_c_during_http_iteration_closes_the_connection(
    loopback: LoopbackServer, openai_env: str
) -> None:
    loopback.enqueue(slow_sse())
    first = threading.Event()
    start = time.monotonic()
    with (
        interrupt_main_when(first, delay=0.2),
        pytest.raises(KeyboardInterrupt),
        model_request_stream_sync(openai_env, MESSAGES) as stream,
    ):
        for _ in stream:
            first.set()
    assert time.monotonic() - start < QUICK
    loopback.wait_for_client_close(timeout=QUICK)


def test_model_request_sync_is_one_portal_hop_and_a_sync_stream_one_per_fetch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Issue 12: a sync call hands its work to the portal once (the task it starts replies through its
    # future); a sync stream enters, fetches whole buffered batches and exits, one hop each.
    model_request_sync("test", MESSAGES)  # the portal is up
    hops: list[str] = []
    real = trio.lowlevel.TrioToken.run_sync_soon

    def spy(self: trio.lowlevel.TrioToken, fn: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        hops.append(getattr(fn, "__qualname__", repr(fn)))
        real(self, fn, *args, **kwargs)

    monkeypatch.setattr(trio.lowlevel.TrioToken, "run_sync_soon", spy)
    assert model_request_sync("test", MESSAGES).text
    assert len(hops) == 1
    hops.clear()
    with model_request_stream_sync("test", MESSAGES) as stream:
        events = list(stream)
    assert events and stream.get().text
    assert 2 <= len(hops) <= 2 + len(events)  # enter and exit, plus at most one fetch per event
