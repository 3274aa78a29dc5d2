"""Tests for trio_direct._portal: the Trio portal thread behind every sync entry point.

Sync tests are plain ``def`` (pytest-trio's trio_mode only runs ``async def`` tests inside trio.run).
Waits carry generous timeouts so a bug hangs a test for seconds, not forever; no test asserts speed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import trio

from trio_direct._portal import THREAD_NAME, Portal, get_portal, shutdown
from trio_direct.exceptions import PortalClosedError, RequestTimeoutError, TrioDirectError

HANG = 20.0  # seconds; only to turn a deadlock into a failure


def portal_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


def default_thread() -> threading.Thread:
    """The default portal's thread (starting it if needed)."""
    return get_portal().run_sync(threading.current_thread)


@pytest.fixture(scope="module", autouse=True)
def _no_leftover_portal_threads() -> Iterator[None]:
    yield
    # Every owned Portal() was closed by its test; only the default portal may still be running.
    deadline = time.monotonic() + HANG
    while True:
        threads = portal_threads()
        default = get_portal()
        expected = [default_thread()] if default.running else []
        if threads == expected or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert threads == expected
    shutdown()
    assert portal_threads() == []


@pytest.fixture
def portal() -> Iterator[Portal]:
    with Portal() as p:
        yield p
    assert p.closed


async def add(a: int, b: int) -> int:
    await trio.lowlevel.checkpoint()
    return a + b


class Boom(BaseException):
    """A BaseException that is not an Exception: must reach the caller without killing the portal."""


# -- run: values, exceptions ---------------------------------------------------------------------------


def test_run_returns_value(portal: Portal) -> None:
    assert portal.run(add, 2, 3) == 5


def test_run_raises_exceptions_unchanged_and_portal_survives(portal: Portal) -> None:
    value_error = ValueError("bad")
    boom = Boom("base")
    group = ExceptionGroup("many", [KeyError("k"), ValueError("v")])

    async def raise_(exc: BaseException) -> None:
        await trio.lowlevel.checkpoint()
        raise exc

    for exc in (value_error, boom, group, KeyboardInterrupt("not a real one"), SystemExit(3)):
        with pytest.raises(type(exc)) as info:
            portal.run(raise_, exc)
        assert info.value is exc
        assert portal.run(add, 1, 1) == 2  # the portal still works after each


def test_run_task_raising_timeout_error_is_not_mistaken_for_a_poll_timeout(portal: Portal) -> None:
    err = TimeoutError("the task's own")

    async def raise_timeout() -> None:
        await trio.sleep(0.3)  # longer than one 0.25 s poll
        raise err

    with pytest.raises(TimeoutError) as info:
        portal.run(raise_timeout)
    assert info.value is err


def test_run_sync(portal: Portal) -> None:
    assert portal.run_sync(lambda a, b: a * b, 6, 7) == 42
    assert portal.run_sync(threading.current_thread).name == THREAD_NAME
    with pytest.raises(Boom):
        portal.run_sync(_raise_boom)
    assert portal.run_sync(int, "3") == 3


def _raise_boom() -> None:
    raise Boom


def test_many_threads_concurrently(portal: Portal) -> None:
    n_threads, n_calls = 32, 50
    barrier = threading.Barrier(n_threads)

    def worker(k: int) -> list[int]:
        barrier.wait(timeout=HANG)
        return [portal.run(add, k, i) for i in range(n_calls)]

    with concurrent.futures.ThreadPoolExecutor(n_threads) as pool:
        futures = [pool.submit(worker, k) for k in range(n_threads)]
        results = [f.result(timeout=HANG) for f in futures]
    assert results == [[k + i for i in range(n_calls)] for k in range(n_threads)]


# -- contextvars -------------------------------------------------------------------------------------

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def test_contextvars_travel_to_the_task_and_do_not_leak_back(portal: Portal) -> None:
    async def read_and_set() -> str:
        seen = request_id.get()
        request_id.set("changed in the portal")
        return seen

    token = request_id.set("caller-1")
    try:
        assert portal.run(read_and_set) == "caller-1"
        assert portal.submit(read_and_set).result(timeout=HANG) == "caller-1"
        assert portal.run_sync(request_id.get) == "caller-1"
        assert request_id.get() == "caller-1"
    finally:
        request_id.reset(token)
    assert portal.run(read_and_set) == "unset"


# -- interruption (Ctrl-C) ---------------------------------------------------------------------------


@contextlib.contextmanager
def sigint_when(ready: threading.Event) -> Iterator[None]:
    """Send SIGINT to this (the main) thread once ``ready`` is set, as Ctrl-C would."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.get_ident()

    def fire() -> None:
        if ready.wait(HANG):
            time.sleep(0.1)  # let the caller settle into its wait
            signal.pthread_kill(main, signal.SIGINT)

    timer = threading.Thread(target=fire, daemon=True)
    timer.start()
    try:
        yield
    finally:
        timer.join(HANG)
        signal.signal(signal.SIGINT, previous)


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_ctrl_c_cancels_the_portal_task(portal: Portal) -> None:
    started = threading.Event()
    cleaned_up = threading.Event()
    seen: list[type[BaseException]] = []

    async def long_job() -> None:
        started.set()
        try:
            await trio.sleep_forever()
        except BaseException as exc:
            seen.append(type(exc))
            raise
        finally:
            cleaned_up.set()

    with sigint_when(started), pytest.raises(KeyboardInterrupt):
        portal.run(long_job)
    # The caller waits a grace for the task to unwind before re-raising, so this is already true.
    assert cleaned_up.is_set()
    assert seen == [trio.Cancelled]
    assert portal.run(add, 1, 2) == 3


@pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="needs signal.pthread_kill")
def test_ctrl_c_while_waiting_on_a_portal_future_cancels_it(portal: Portal) -> None:
    started = threading.Event()
    cleaned_up = threading.Event()

    async def long_job() -> None:
        started.set()
        try:
            await trio.sleep_forever()
        finally:
            cleaned_up.set()

    fut = portal.submit(long_job)
    with sigint_when(started), pytest.raises(KeyboardInterrupt):
        fut.result()
    assert cleaned_up.is_set()
    assert fut.done()


# -- timeouts ------------------------------------------------------------------------------------------


def test_timeout_raises_request_timeout_error(portal: Portal) -> None:
    with pytest.raises(RequestTimeoutError) as info:
        portal.run(trio.sleep_forever, timeout=0.05)
    assert isinstance(info.value, TimeoutError)
    assert isinstance(info.value, TrioDirectError)
    assert info.value.timeout == 0.05
    assert portal.run(trio.sleep, 0, timeout=HANG) is None


def test_inner_too_slow_error_is_not_converted(portal: Portal) -> None:
    async def own_deadline() -> None:
        with trio.fail_after(0.01):
            await trio.sleep_forever()

    with pytest.raises(trio.TooSlowError):
        portal.run(own_deadline, timeout=HANG)


def test_bad_timeout_is_rejected(portal: Portal) -> None:
    with pytest.raises(ValueError, match="timeout"):
        portal.run(add, 1, 2, timeout=-1)
    with pytest.raises(ValueError, match="timeout"):
        portal.submit(add, 1, 2, timeout=float("nan"))


# -- misuse guards -------------------------------------------------------------------------------------


async def test_calling_from_inside_trio_run_names_the_async_alternative() -> None:
    portal = Portal()  # never started: the guard comes before any thread
    with pytest.raises(RuntimeError) as info:
        portal.run(add, 1, 2, api_name="model_request_sync()", async_alternative="await model_request(...)")
    assert str(info.value) == (
        "model_request_sync() cannot be called from inside trio.run (it would block the event loop); "
        "use `await model_request(...)` instead"
    )
    with pytest.raises(RuntimeError, match=r"inside trio\.run"):
        portal.submit(add, 1, 2)
    with pytest.raises(RuntimeError, match=r"inside trio\.run"):
        portal.run_sync(int, "1")
    assert not portal.running
    portal.close()


def test_calling_from_the_portal_thread_raises(portal: Portal) -> None:
    def call_from_inside() -> int:
        return portal.run(add, 1, 2, async_alternative="await add(1, 2)")

    with pytest.raises(RuntimeError, match=r"portal thread.*deadlock") as info:
        portal.run_sync(call_from_inside)
    assert "`await add(1, 2)`" in str(info.value)

    async def submit_from_inside() -> None:
        portal.submit(add, 1, 2)

    with pytest.raises(RuntimeError, match="portal thread"):
        portal.run(submit_from_inside)
    with pytest.raises(RuntimeError, match="portal thread"):
        portal.run_sync(portal.run_sync, int, "1")


def test_calling_from_a_thread_with_a_running_asyncio_loop_works(portal: Portal) -> None:
    async def notebook_cell() -> int:
        asyncio.get_running_loop()  # a loop is running in this thread, as in Jupyter
        return portal.run(add, 20, 22)

    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(notebook_cell())))
    thread.start()
    thread.join(HANG)
    assert result == [42]
    assert asyncio.run(notebook_cell()) == 42  # and in the main thread too


# -- lifecycle -----------------------------------------------------------------------------------------


def test_portal_context_manager_owns_its_thread() -> None:
    before = set(portal_threads())
    with Portal() as p:
        assert p.running
        thread = p.run_sync(threading.current_thread)
        assert thread.name == THREAD_NAME
        assert thread.daemon
        assert thread not in before
    assert p.closed
    assert not thread.is_alive()
    with pytest.raises(PortalClosedError):
        p.run(add, 1, 2)
    with pytest.raises(PortalClosedError):
        p.run_sync(int, "1")
    p.close()  # idempotent


def test_portal_starts_lazily_and_closes_unstarted() -> None:
    p = Portal()
    assert not p.running
    assert p.run(add, 1, 2) == 3
    assert p.running
    p.close()
    p.close()
    assert p.closed

    unstarted = Portal()
    unstarted.close()
    with pytest.raises(PortalClosedError):
        unstarted.run(add, 1, 2)


def test_close_ends_calls_in_flight_with_portal_closed_error() -> None:
    p = Portal()
    started = threading.Barrier(4)
    cleaned = []

    async def job() -> None:
        try:
            await trio.to_thread.run_sync(started.wait, HANG)
            await trio.sleep_forever()
        finally:
            cleaned.append(1)

    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(p.run, job) for _ in range(3)]
        started.wait(HANG)
        p.close()
        for f in futures:
            with pytest.raises(PortalClosedError):
                f.result(timeout=HANG)
    assert cleaned == [1, 1, 1]


def test_shutdown_ends_calls_in_flight_and_a_later_call_restarts() -> None:
    first = get_portal()
    first_thread = default_thread()
    started = threading.Event()

    async def wait_forever() -> None:
        started.set()
        await trio.sleep_forever()

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(first.run, wait_forever)
        assert started.wait(HANG)
        shutdown()
        with pytest.raises(PortalClosedError):
            in_flight.result(timeout=HANG)
    assert first.closed
    assert not first_thread.is_alive()
    with pytest.raises(PortalClosedError):
        first.run(add, 1, 2)  # a stale reference stays closed

    assert get_portal().run(add, 1, 2) == 3  # the default restarts
    assert get_portal() is not first
    assert default_thread() is not first_thread
    shutdown()
    shutdown()  # idempotent


def test_explicit_close_of_the_default_portal_restarts_lazily() -> None:
    get_portal().close()
    assert get_portal().run(add, 2, 2) == 4


def test_closing_from_a_portal_task_does_not_deadlock() -> None:
    p = Portal()

    async def close_myself() -> None:
        p.close()  # only requests the stop: a thread cannot join itself
        await trio.sleep_forever()

    with pytest.raises(PortalClosedError):
        p.run(close_myself)
    p.close()


# -- submit / PortalFuture -------------------------------------------------------------------------------


def test_submit_result_done_cancel(portal: Portal) -> None:
    fut = portal.submit(add, 1, 2)
    assert fut.result(timeout=HANG) == 3
    assert fut.done()
    assert fut.cancel() is False  # already finished

    release = threading.Event()
    slow = portal.submit(trio.to_thread.run_sync, release.wait)
    with pytest.raises(TimeoutError):
        slow.result(timeout=0.05)  # the wait times out; the task keeps running
    assert not slow.done()
    release.set()
    assert slow.result(timeout=HANG) is True

    cancelled_seen = threading.Event()

    async def until_cancelled() -> None:
        try:
            await trio.sleep_forever()
        except trio.Cancelled:
            cancelled_seen.set()
            raise

    fut2 = portal.submit(until_cancelled)
    assert fut2.cancel() is True
    with pytest.raises(concurrent.futures.CancelledError):
        fut2.result(timeout=HANG)
    assert cancelled_seen.is_set()


def test_submit_timeout(portal: Portal) -> None:
    with pytest.raises(RequestTimeoutError):
        portal.submit(trio.sleep_forever, timeout=0.05).result(timeout=HANG)


def test_cancel_from_a_finalizer_thread_does_not_block(portal: Portal) -> None:
    fut = portal.submit(trio.sleep_forever)
    t = threading.Thread(target=fut.cancel)
    t.start()
    t.join(HANG)
    assert not t.is_alive()
    with pytest.raises(concurrent.futures.CancelledError):
        fut.result(timeout=HANG)


# -- enter_async_context ----------------------------------------------------------------------------


class Recorder:
    """An async context manager that records, in the portal, what happened to it."""

    def __init__(self, suppress: bool = False, exit_error: BaseException | None = None) -> None:
        self.suppress = suppress
        self.exit_error = exit_error
        self.events: list[Any] = []
        self.task: trio.lowlevel.Task | None = None

    async def __aenter__(self) -> str:
        await trio.lowlevel.checkpoint()
        self.task = trio.lowlevel.current_task()
        self.events.append("enter")
        return "the value"

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        self.events.append(("exit", exc_type))
        assert trio.lowlevel.current_task() is self.task  # entered and exited in the same task
        await trio.lowlevel.checkpoint()
        if self.exit_error is not None:
            raise self.exit_error
        return self.suppress


def test_enter_async_context_enter_and_exit(portal: Portal) -> None:
    cm = Recorder()
    handle = portal.enter_async_context(cm)
    assert handle.value == "the value"
    assert cm.events == ["enter"]
    assert handle.exit() is False
    assert cm.events == ["enter", ("exit", None)]
    assert handle.exit() is False  # idempotent
    assert cm.events == ["enter", ("exit", None)]


def test_enter_async_context_throws_the_body_exception_in(portal: Portal) -> None:
    cm = Recorder()
    handle = portal.enter_async_context(cm)
    try:
        raise ValueError("from the with body")
    except ValueError as exc:
        tb_before = exc.__traceback__
        assert handle.exit(exc) is False  # not suppressed: the caller re-raises it
        assert exc.__traceback__ is tb_before  # the portal's frames were not added to it
    assert cm.events == ["enter", ("exit", ValueError)]

    suppressing = Recorder(suppress=True)
    handle = portal.enter_async_context(suppressing)
    assert handle.exit(KeyError("k")) is True
    assert suppressing.events == ["enter", ("exit", KeyError)]


def test_enter_async_context_exit_error_reaches_the_caller(portal: Portal) -> None:
    error = OSError("closing failed")
    handle = portal.enter_async_context(Recorder(exit_error=error))
    with pytest.raises(OSError) as info:
        handle.exit()
    assert info.value is error


def test_enter_async_context_aenter_error_reaches_the_caller_unchanged(portal: Portal) -> None:
    error = ConnectionError("status 500")

    @contextlib.asynccontextmanager
    async def failing() -> AsyncIterator[None]:
        await trio.lowlevel.checkpoint()
        raise error
        yield

    with pytest.raises(ConnectionError) as info:
        portal.enter_async_context(failing())
    assert info.value is error
    assert portal.run(add, 1, 2) == 3


def test_enter_async_context_cancel(portal: Portal) -> None:
    cm = Recorder()
    handle = portal.enter_async_context(cm)
    handle.cancel()  # returns at once
    assert handle.exit() is False
    assert cm.events == ["enter", ("exit", trio.Cancelled)]
    handle.cancel()  # harmless after the end


def test_enter_async_context_cancel_from_a_weakref_finalizer(portal: Portal) -> None:
    import weakref

    class Wrapper:
        pass

    cm = Recorder()
    handle = portal.enter_async_context(cm)
    wrapper = Wrapper()
    weakref.finalize(wrapper, handle.cancel)
    del wrapper
    gc.collect()
    assert handle.exit() is False
    assert cm.events == ["enter", ("exit", trio.Cancelled)]


def test_enter_async_context_holds_a_nursery_across_sync_calls(portal: Portal) -> None:
    ticks: list[int] = []

    @contextlib.asynccontextmanager
    async def background() -> AsyncIterator[trio.MemoryReceiveChannel[int]]:
        send, receive = trio.open_memory_channel[int](0)

        async def producer() -> None:
            with send:
                for i in range(1000):
                    await send.send(i)
                    ticks.append(i)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(producer)
            try:
                yield receive
            finally:
                nursery.cancel_scope.cancel()
                receive.close()

    handle = portal.enter_async_context(background())
    assert [portal.run(handle.value.receive) for _ in range(3)] == [0, 1, 2]
    assert handle.exit() is False  # cancels the producer: early exit never drains
    assert len(ticks) < 10


def test_enter_async_context_exit_timeout(portal: Portal) -> None:
    class SlowExit:
        async def __aenter__(self) -> None:
            return None

        async def __aexit__(self, *exc_info: object) -> None:
            await trio.sleep_forever()

    handle = portal.enter_async_context(SlowExit())
    with pytest.raises(RequestTimeoutError):
        handle.exit(timeout=0.05)


def test_shutdown_while_a_context_is_held() -> None:
    p = Portal()
    cm = Recorder()
    handle = p.enter_async_context(cm)
    p.close()
    assert cm.events == ["enter", ("exit", trio.Cancelled)]
    with pytest.raises(PortalClosedError):
        handle.exit()
    handle.cancel()  # never raises, even after the run ended


# -- processes -----------------------------------------------------------------------------------------


def test_script_using_the_default_portal_exits_cleanly_without_shutdown(tmp_path: Any) -> None:
    script = tmp_path / "uses_portal.py"
    script.write_text(
        textwrap.dedent(
            """
            import atexit

            def after_portal_hook():  # registered before the import, so it runs after its atexit hook
                from trio_direct._portal import get_portal
                from trio_direct.exceptions import PortalClosedError
                try:
                    get_portal()
                except PortalClosedError:
                    print("closed after exit", flush=True)

            atexit.register(after_portal_hook)

            import trio
            from trio_direct._portal import get_portal

            async def left_running():
                try:
                    await trio.sleep_forever()
                finally:
                    print("cleaned up", flush=True)

            async def add(a, b):
                await trio.sleep(0)
                return a + b

            print(get_portal().run(add, 1, 2), flush=True)
            get_portal().submit(left_running)
            get_portal().run(trio.sleep, 0.05)
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd(), *sys.path]))
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        capture_output=True,
        text=True,
        timeout=HANG,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout.split("\n") == ["3", "cleaned up", "closed after exit", ""]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_starts_its_own_portal() -> None:
    parent_thread = default_thread()
    assert get_portal().run(add, 1, 1) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+ warns about fork with threads
        pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            ok = get_portal().run(add, 2, 3) == 5
            threads = [t for t in threading.enumerate() if t.name == THREAD_NAME]
            code = 0 if ok and len(threads) == 1 else 2
            shutdown()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert default_thread() is parent_thread  # the parent's portal is untouched
