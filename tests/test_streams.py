"""The one streaming mechanism: EventSource → pump task → bounded channel → StreamedResponse.

A scripted EventSource gives exact control over what each "network read" produces and when; the
FunctionModel checks run the same machinery through a model. No wall-clock thresholds: only
generous hang guards.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest
import trio
import trio.testing

from trio_direct import (
    FinalResultEvent,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequest,
    ModelRequestParameters,
    PartDeltaEvent,
    PartEndEvent,
    PartStartEvent,
    RequestUsage,
    StreamedResponseSync,
    TextPart,
    UserError,
    model_request_stream,
)
from trio_direct._parts import PartsManager
from trio_direct.messages import ModelMessage
from trio_direct.models import EventSource, StreamClosedError, StreamedResponse, StreamMeta, open_event_stream
from trio_direct.models.base import BATCH_COALESCE_EVENTS, STREAM_BUFFER_BATCHES, Emit
from trio_direct.models.function import AgentInfo, FunctionModel

HANG_GUARD = 20  # seconds; only to turn a hang into a failure

Read = tuple[str, int] | BaseException | Callable[[], Awaitable[object]]


class Script(EventSource):
    """Reads: ``(text, output_tokens)`` (one batch), an exception to raise, or an async callable to await."""

    def __init__(self, reads: Iterable[Read]) -> None:
        self.reads = reads
        self.parts = PartsManager()
        self.meta = StreamMeta(model_name="m0", timestamp=datetime(2026, 1, 1, tzinfo=UTC))
        self.emitted = 0
        self.finished = False
        self.cancelled = False

    async def run(self, emit: Emit) -> None:
        try:
            for read in self.reads:
                if isinstance(read, BaseException):
                    raise read
                if callable(read):
                    await read()
                    continue
                content, tokens = read
                self.meta = attrs.evolve(
                    self.meta,
                    usage=RequestUsage(output_tokens=tokens),
                    model_name=f"m{tokens}",
                    timestamp=datetime(2026, 1, 1 + tokens % 28, tzinfo=UTC),
                )
                await emit(self.parts.handle_text_delta(vendor_part_id="c", content=content))
                self.emitted += 1
        except trio.Cancelled:
            self.cancelled = True
            raise
        finally:
            self.finished = True


def open_script(reads: Iterable[Read], params: ModelRequestParameters | None = None) -> tuple[Any, Script]:
    source = Script(reads)
    return open_event_stream(source, params or ModelRequestParameters()), source


def rate_limited() -> ModelHTTPError:
    return ModelHTTPError.for_category(ModelRateLimitError, status_code=429, model_name="m")


# --------------------------------------------------------------------------------------------------
# Iteration and the consumer's view


async def test_iteration_yields_decorated_events_and_completes() -> None:
    cm, _ = open_script([("a", 1), ("b", 2), ("c", 3)])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            assert isinstance(stream, StreamedResponse)
            events = [e async for e in stream]
            assert [e async for e in stream] == []  # exhausted: a second loop yields nothing
    assert events == [
        PartStartEvent(index=0, part=TextPart("a")),
        FinalResultEvent(None, None),
        PartDeltaEvent(index=0, delta=events[2].delta),  # type: ignore[union-attr]
        PartDeltaEvent(index=0, delta=events[3].delta),  # type: ignore[union-attr]
        PartEndEvent(index=0, part=TextPart("abc")),
    ]
    response = stream.get()
    assert response.parts == [TextPart("abc")]
    assert response.state == "complete"
    assert response.usage == RequestUsage(output_tokens=3) == stream.usage()
    assert response.model_name == stream.model_name == "m3"


async def test_the_view_never_runs_ahead_of_consumed_events() -> None:
    cm, source = open_script([("a", 1), ("b", 2), ("c", 3)])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            # before any iteration the pump has already buffered every batch...
            await trio.testing.wait_all_tasks_blocked()
            assert source.emitted == 3
            # ...but the stream shows nothing of it
            assert stream.get().parts == []
            assert stream.get().state == "incomplete"
            first = await stream.__anext__()
            assert first == PartStartEvent(index=0, part=TextPart("a"))
            assert stream.get().parts == [TextPart("a")]
            assert stream.usage() == RequestUsage(output_tokens=1)
            assert stream.model_name == "m1"
            assert stream.timestamp == datetime(2026, 1, 2, tzinfo=UTC)
            await stream.__anext__()  # FinalResultEvent, same batch
            assert stream.usage().output_tokens == 1
            await stream.__anext__()  # the delta of batch 2
            assert stream.get().parts == [TextPart("ab")]
            assert stream.usage().output_tokens == 2 and stream.model_name == "m2"
            assert stream.get().state == "incomplete"
    assert stream.get().parts == [TextPart("ab")]  # still readable after the block


class SameMeta(EventSource):
    """``count`` reads of one text delta each that leave the meta alone, then (optionally) a usage update."""

    def __init__(self, count: int, *, usage_at_end: bool = False) -> None:
        self.count = count
        self.usage_at_end = usage_at_end
        self.parts = PartsManager()
        self.meta = StreamMeta(model_name="m")

    async def run(self, emit: Emit) -> None:
        for i in range(self.count):
            await emit(self.parts.handle_text_delta(vendor_part_id="c", content=str(i % 10)))
        if self.usage_at_end:
            self.meta = attrs.evolve(self.meta, usage=RequestUsage(output_tokens=self.count))
            await emit([])


async def test_open_batches_coalesce_until_taken_and_never_past_a_meta_change() -> None:
    # Reads the consumer has not come for yet join the last batch it has not received (one channel
    # item, one consumer step for many reads), up to BATCH_COALESCE_EVENTS events; a meta change
    # starts a new batch, so usage never runs ahead of the events it came with.
    count = BATCH_COALESCE_EVENTS + 10
    source = SameMeta(count, usage_at_end=True)
    with trio.fail_after(HANG_GUARD):
        async with open_event_stream(source, ModelRequestParameters()) as stream:
            await trio.testing.wait_all_tasks_blocked()
            batches = stream._poll_batches()
            assert batches is not None
            sizes = [len(b.events) for b in batches]
            # start, final result and deltas up to the bound | the other deltas | the usage update,
            # which the end event joined (same meta)
            assert sizes == [BATCH_COALESCE_EVENTS, count + 1 - BATCH_COALESCE_EVENTS, 1]
            assert [b.meta.usage.output_tokens for b in batches] == [0, 0, count]
            assert not any(b.open for b in batches)  # received: the pump no longer touches them
            stream._accept(batches)
            events = []
            while (event := stream._next_event()) is not None:
                events.append(event)
                if len(events) == count + 1:  # every delta handed out, the end event not yet
                    assert stream.usage().output_tokens == 0
            assert stream.usage().output_tokens == count
            assert stream.get().parts == [TextPart("".join(str(i % 10) for i in range(count)))]
            assert isinstance(events[-1], PartEndEvent) and len(events) == count + 2


async def test_consumer_may_be_another_task() -> None:
    cm, _ = open_script([("a", 1), ("b", 2)])
    seen: list[Any] = []
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:

            async def consume() -> None:
                seen.extend([e async for e in stream])

            async with trio.open_nursery() as nursery:
                nursery.start_soon(consume)
    assert len(seen) == 4
    assert stream.get().state == "complete"


async def test_batch_protocol_is_what_anext_uses_so_the_two_consumers_interleave() -> None:
    # The internal protocol the sync wrapper drives through the portal: fetched batches queue on the
    # stream, events leave one at a time, and `async for` continues exactly where it stopped.
    gate = trio.Event()
    cm, _ = open_script([("a", 1), ("b", 2), gate.wait, ("c", 3)])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            await trio.testing.wait_all_tasks_blocked()
            batches = stream._poll_batches()
            assert batches is not None and len(batches) == 2  # everything buffered, in one call
            assert stream._poll_batches() is None  # nothing more yet: the caller must wait
            stream._accept(batches)
            first = stream._next_event()
            assert first == PartStartEvent(index=0, part=TextPart("a"))
            assert stream.get().parts == [TextPart("a")]  # applied lazily, but never behind
            rest = []
            async for event in stream:  # continues in the queued batch, then fetches the next read
                rest.append(type(event).__name__)
                if len(rest) == 2:
                    gate.set()  # let the pump send the third read
                if len(rest) == 3:
                    break
            assert rest == ["FinalResultEvent", "PartDeltaEvent", "PartDeltaEvent"]
            # The pump ended the stream before this consumer ran again, so the end event joined the
            # batch this consumer had been handed but not yet taken (see test_open_batches_coalesce).
            assert await stream._receive_batches(drain=True) == []  # the channel has ended
            stream._accept([])
            assert stream.get().state == "incomplete"  # the end event is queued, not handed out yet
            assert stream._next_event() == PartEndEvent(0, TextPart("abc"))
            assert stream._next_event() is None and stream._exhausted
            assert [e async for e in stream] == []
    assert stream.get().state == "complete"


def test_iteration_is_not_an_async_generator() -> None:
    """`async for` runs StreamedResponse.__anext__, a plain coroutine: no generator frame holds a scope."""
    assert not inspect.isasyncgenfunction(StreamedResponse.__anext__)
    assert not inspect.isasyncgenfunction(StreamedResponse.__aiter__)
    assert not inspect.isasyncgenfunction(FunctionModel.request_stream)


# --------------------------------------------------------------------------------------------------
# Errors


async def test_error_before_the_first_batch_raises_from_async_with_unwrapped() -> None:
    error = rate_limited()
    cm, source = open_script([error])
    with pytest.raises(ModelRateLimitError) as info:
        async with cm:
            raise AssertionError("not reached")  # pragma: no cover
    assert info.value is error
    assert not isinstance(info.value, BaseExceptionGroup)
    assert source.finished


async def test_error_after_a_wait_but_before_any_batch_also_raises_from_async_with() -> None:
    cm, _ = open_script([trio.lowlevel.checkpoint, KeyError("x")])
    with pytest.raises(KeyError):
        async with cm:
            raise AssertionError("not reached")  # pragma: no cover


async def test_mid_stream_errors_raise_from_iteration_unchanged() -> None:
    error = rate_limited()
    cm, _ = open_script([("a", 1), ("b", 2), error])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            seen: list[Any] = []
            with pytest.raises(ModelRateLimitError) as info:
                async for event in stream:
                    seen.append(event)
            assert info.value is error
            assert len(seen) == 3  # every event before the error was delivered first
            assert stream.get().parts == [TextPart("ab")]
            assert stream.get().state == "incomplete"
            assert [e async for e in stream] == []  # the error is raised once


def _with_cause() -> ModelHTTPError:
    error = rate_limited()
    error.__cause__ = ConnectionResetError("the transport error behind it")
    return error


async def test_a_mid_stream_error_keeps_its_cause_async() -> None:
    error = _with_cause()
    cm, _ = open_script([("a", 1), error])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            with pytest.raises(ModelRateLimitError) as info:
                async for _ in stream:
                    pass
    assert info.value is error
    assert isinstance(info.value.__cause__, ConnectionResetError)


def test_a_mid_stream_error_keeps_its_cause_sync() -> None:
    # The same protocol raises it for the sync wrapper: the cause survives there too.
    error = _with_cause()
    cm, _ = open_script([("a", 1), error])
    with StreamedResponseSync(cm) as stream, pytest.raises(ModelRateLimitError) as info:
        for _ in stream:
            pass
    assert info.value is error
    assert isinstance(info.value.__cause__, ConnectionResetError)


async def test_body_exceptions_propagate_unchanged_and_stop_the_pump() -> None:
    cm, source = open_script(itertools.repeat(("x", 1)))
    with trio.fail_after(HANG_GUARD), pytest.raises(KeyError) as info:
        async with cm as stream:
            await stream.__anext__()
            raise KeyError("mine")
    assert info.value.args == ("mine",)
    assert not isinstance(info.value, BaseExceptionGroup)
    assert source.finished and source.cancelled


async def test_entering_twice_is_a_user_error() -> None:
    cm, _ = open_script([("a", 1)])
    async with cm as stream:
        [_ async for _ in stream]
    with pytest.raises(UserError, match="only once"):
        async with cm:
            pass  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# Closing, state, backpressure, cancellation


async def test_break_then_leave_closes_promptly_and_cancels_the_source() -> None:
    never = trio.Event()
    cm, source = open_script([("a", 1), ("b", 2), never.wait, ("c", 3)])
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            async for event in stream:
                if isinstance(event, PartDeltaEvent):
                    break
            assert stream.get().state == "incomplete"
            assert not source.finished  # leaving the block is what stops it, not the break
        assert source.finished and source.cancelled
    assert stream.get().state == "incomplete"
    assert stream.get().parts == [TextPart("ab")]


async def test_use_after_the_block_raises_stream_closed() -> None:
    cm, _ = open_script(itertools.repeat(("x", 1)))
    async with cm as stream:
        await stream.__anext__()
    with pytest.raises(StreamClosedError, match="async with"):
        await stream.__anext__()
    assert isinstance(StreamClosedError("x"), RuntimeError)
    assert stream.get().parts == [TextPart("x")]


async def test_state_interrupted_after_cancel() -> None:
    cm, source = open_script(itertools.repeat(("x", 1)))
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            await stream.__anext__()
            await stream.cancel()
            await stream.cancel()  # idempotent
            assert stream.get().state == "interrupted"
            await trio.testing.wait_all_tasks_blocked()
            assert source.cancelled


async def test_cancel_stops_the_stream_not_the_callers_block() -> None:
    """``await stream.cancel()`` stops the pump; the rest of the ``async with`` body and the code after it
    run (the pump's scope is its own, not the nursery's, which surrounds the body)."""
    cm, source = open_script(itertools.repeat(("x", 1)))
    reached: list[str] = []
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            await stream.__anext__()
            await stream.cancel()
            await trio.sleep(0)  # a checkpoint in the body after cancel(): not cancelled
            await trio.testing.wait_all_tasks_blocked()
            assert source.cancelled
            reached.append("body")
        reached.append("after")
    assert reached == ["body", "after"]
    assert stream.get().state == "interrupted"


async def test_not_iterating_at_all() -> None:
    cm, _ = open_script([("a", 1)])
    async with cm as stream:
        response = stream.get()
    assert response.parts == [] and response.state == "incomplete"


async def test_backpressure_a_slow_consumer_stops_the_producer() -> None:
    cm, source = open_script(itertools.repeat(("x", 1)))
    with trio.fail_after(HANG_GUARD):
        async with cm as stream:
            await trio.testing.wait_all_tasks_blocked()
            # the channel holds STREAM_BUFFER_BATCHES batches; the pump is blocked sending the next
            assert source.emitted == STREAM_BUFFER_BATCHES
            for _ in range(3):  # start + final result (batch 1), then one delta per batch
                await stream.__anext__()
            await trio.testing.wait_all_tasks_blocked()
            assert source.emitted == STREAM_BUFFER_BATCHES + 2
            await trio.sleep(0.05)
            assert source.emitted == STREAM_BUFFER_BATCHES + 2  # and it stays there


async def test_outer_cancellation_leaves_no_task_behind() -> None:
    live: set[trio.lowlevel.Task] = set()

    class Tracker(trio.abc.Instrument):
        def task_spawned(self, task: trio.lowlevel.Task) -> None:
            live.add(task)

        def task_exited(self, task: trio.lowlevel.Task) -> None:
            live.discard(task)

    tracker = Tracker()
    trio.lowlevel.add_instrument(tracker)
    try:
        never = trio.Event()
        cm, source = open_script([("a", 1), never.wait])
        with trio.move_on_after(0.05) as scope:
            async with cm as stream:
                async for _ in stream:
                    pass
        assert scope.cancelled_caught
        assert source.finished and source.cancelled
        assert live == set()  # the pump task (and anything it spawned) has exited

        # cancelled while entering, too
        cm, source = open_script([never.wait])
        with trio.move_on_after(0.05) as scope:
            async with cm:
                raise AssertionError("not reached")  # pragma: no cover
        assert scope.cancelled_caught and source.cancelled
        assert live == set()
    finally:
        trio.lowlevel.remove_instrument(tracker)


# --------------------------------------------------------------------------------------------------
# The same through a model


async def test_function_model_stream_view_and_closing() -> None:
    produced: list[str] = []
    finished = trio.Event()

    async def stream_function(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[str]:
        try:
            for i in itertools.count():
                produced.append(str(i))
                yield f"{i} "
        finally:
            finished.set()

    prompt: list[ModelMessage] = [ModelRequest.user_text_prompt("count")]
    with trio.fail_after(HANG_GUARD):
        async with model_request_stream(FunctionModel(stream_function=stream_function), prompt) as stream:
            await trio.testing.wait_all_tasks_blocked()
            assert len(produced) == STREAM_BUFFER_BATCHES + 1  # bounded read-ahead
            seen = 0
            async for event in stream:
                seen += isinstance(event, PartDeltaEvent)
                if seen == 3:
                    break
            assert stream.get().parts == [TextPart("0 1 2 3 ")]
            assert stream.usage() == RequestUsage(input_tokens=50, output_tokens=4)
        assert finished.is_set()
