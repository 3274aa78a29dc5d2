"""The portal: one dedicated thread running ``trio.run`` that every sync entry point goes through.

Sync callers (scripts, notebooks, thread pools) share one long-lived Trio run, so they share one HTTP
client and one connection pool, and a keep-alive connection is never reused by a different run
(pydantic-ai#6436). Work is submitted as a task in the portal's nursery with its own cancel scope and a
:class:`concurrent.futures.Future`; the caller blocks on the future. ``design/portal-and-streaming.md``
(a), (b) and (e) hold the reasoning and the measured costs.

Guarantees:

* Whatever the async function raises reaches the caller unchanged, ``BaseException`` subclasses
  included; it is captured into the caller's future and never ends the portal's run.
* ``trio.Cancelled`` never reaches sync code: a task cancelled because the portal shut down raises
  :class:`~trio_direct.exceptions.PortalClosedError`.
* A caller interrupted while waiting (Ctrl-C) cancels its task and waits a bounded grace for it to
  unwind before re-raising, so no work is left running behind its back (pydantic-ai#5975).
* The caller's contextvars travel into the task.

The process-wide portal is :func:`get_portal`; :func:`shutdown` stops it and a later call starts a fresh
one. An ``atexit`` hook stops every running portal with a bounded grace; after it has run, calls raise
``PortalClosedError``. ``with Portal() as portal:`` owns a portal thread of its own.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import enum
import logging
import math
import os
import threading
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Generic, TypeVar, TypeVarTuple, Unpack, cast, final

import attrs
import trio

from .exceptions import PortalClosedError, RequestTimeoutError

__all__ = [
    "AsyncContextHandle",
    "Portal",
    "PortalFuture",
    "get_portal",
    "shutdown",
]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_log = logging.getLogger("trio_direct")

THREAD_NAME = "trio_direct-portal"

# How long a blocked caller sleeps between checks. Waiting without a timeout cannot be interrupted by
# Ctrl-C on Windows before Python 3.14 (python/cpython#74157); a short timeout in a loop can, and it
# also lets the caller notice a portal thread that died without settling its future.
_POLL_INTERVAL = 0.25

# After an interrupted caller has asked for its task to be cancelled, how long it waits for the task to
# unwind (close responses, run ``finally`` blocks) before re-raising anyway.
_INTERRUPT_GRACE = 1.0

# How long ``close()``, ``shutdown()`` and the atexit hook wait for the portal thread to finish.
_DEFAULT_GRACE = 2.0

# Startup is a thread start plus a trio.run (well under a millisecond); this only guards against hangs.
_START_TIMEOUT = 30.0

# Default bound on ``AsyncContextHandle.exit``: leaving a sync ``with`` block must not hang forever on
# a misbehaving ``__aexit__``.
_EXIT_TIMEOUT = 10.0

_CLOSED = "the trio_direct portal is closed"
_EXITING = "the trio_direct portal is closed: the interpreter is exiting"
_SHUT_DOWN = "the trio_direct portal was shut down during the call"


class _State(enum.Enum):
    NEW = "new"
    RUNNING = "running"
    CLOSING = "closing"
    CLOSED = "closed"


@attrs.frozen(eq=False)
class _Run:
    """What a running portal publishes to other threads. Only ``token`` is used off the portal thread."""

    token: trio.lowlevel.TrioToken
    nursery: trio.Nursery
    stop: trio.Event
    thread: threading.Thread
    ident: int


# -- helpers shared by every blocking operation ----------------------------------------------------------


def _cancel_soon(token: trio.lowlevel.TrioToken, scope: trio.CancelScope, reason: str) -> None:
    """Ask the portal to cancel ``scope``. Thread-safe, never blocks, never raises."""
    # CancelScope.cancel() may only be called in the run's own thread; run_sync_soon is thread- and
    # signal-safe, so this is also safe from a weakref.finalize callback running in any thread.
    try:
        token.run_sync_soon(scope.cancel, reason)
    except trio.RunFinishedError:
        pass  # the run is over, so the scope is long gone


def _settle_exception(fut: concurrent.futures.Future[T], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def _settle_cancelled(fut: concurrent.futures.Future[T]) -> None:
    # cancel() alone leaves the state at CANCELLED, which concurrent.futures.wait() does not count as
    # done; set_running_or_notify_cancel() moves it to CANCELLED_AND_NOTIFIED and wakes such waiters.
    if fut.cancel():
        fut.set_running_or_notify_cancel()


def _record_failure(fut: concurrent.futures.Future[T], exc: BaseException) -> BaseException | None:
    """Put what a portal task raised into its future; return what must be re-raised into Trio.

    Each task runs inside its own cancel scope, which absorbs its own cancellation. A ``Cancelled``
    that escapes it therefore comes from the portal's nursery, i.e. shutdown: the caller gets
    ``PortalClosedError`` and the ``Cancelled`` goes back to Trio, which needs it to unwind. Everything
    else, ``BaseException`` included, belongs to the caller and stays in the future: re-raising it would
    end the portal run for every other caller (the anyio BlockingPortal pitfall).
    """
    if isinstance(exc, trio.Cancelled):
        _settle_exception(fut, PortalClosedError(_SHUT_DOWN))
        return exc
    cancelled, rest = _split_cancelled(exc)
    if cancelled is not None:
        _settle_exception(fut, rest if rest is not None else PortalClosedError(_SHUT_DOWN))
        return cancelled
    _settle_exception(fut, exc)
    return None


def _split_cancelled(exc: BaseException) -> tuple[BaseException | None, BaseException | None]:
    """Split an exception group into its ``Cancelled`` part and the rest; (None, exc) for a plain one."""
    if not isinstance(exc, BaseExceptionGroup):
        return None, exc
    return cast("BaseExceptionGroup[BaseException]", exc).split(trio.Cancelled)


def _wait_settled(
    fut: concurrent.futures.Future[T],
    run: _Run,
    cancel: Callable[[], object],
    timeout: float | None = None,
) -> bool:
    """Block until ``fut`` is settled; False if ``timeout`` passed first (the task is left alone).

    On any ``BaseException`` while waiting (KeyboardInterrupt from Ctrl-C, an async exception injected
    into the thread) the task is cancelled through ``cancel`` and given ``_INTERRUPT_GRACE`` seconds to
    unwind before the exception propagates.

    Raises:
        PortalClosedError: the portal thread ended without settling ``fut`` (a crashed run).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while True:
            poll = _POLL_INTERVAL
            if deadline is not None:
                poll = min(poll, deadline - time.monotonic())
                if poll <= 0:
                    return False
            try:
                # exception() rather than result(): result() raises the task's own TimeoutError, which
                # is indistinguishable from a poll timeout (concurrent.futures.TimeoutError is the builtin).
                fut.exception(timeout=poll)
                return True
            except concurrent.futures.CancelledError:
                return True
            except TimeoutError:
                if not run.thread.is_alive() and not fut.done():
                    break
    except BaseException:
        if not fut.done():
            cancel()
            with contextlib.suppress(TimeoutError, concurrent.futures.CancelledError):
                fut.exception(timeout=_INTERRUPT_GRACE)
        raise
    raise PortalClosedError("the trio_direct portal thread exited before the call finished")


def _wait_for(fut: concurrent.futures.Future[T], run: _Run, cancel: Callable[[], object]) -> T:
    """Block until ``fut`` is settled (see :func:`_wait_settled`), then return or raise its outcome."""
    _wait_settled(fut, run, cancel)
    return fut.result()


def _check_timeout(timeout: float | None) -> None:
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError(f"timeout must be a non-negative number of seconds or None, not {timeout!r}")


def _check_caller(run: _Run | None, api_name: str, async_alternative: str | None) -> None:
    """The misuse guards, checked before anything is submitted: both cases would deadlock or stall."""
    if run is not None and threading.get_ident() == run.ident:
        raise RuntimeError(
            f"{api_name} cannot be called from the trio_direct portal thread: it would wait for itself "
            "and deadlock. Code running in the portal is async; await the async API there"
            + (f" (`{async_alternative}`)" if async_alternative else "")
            + "."
        )
    if trio.lowlevel.in_trio_run():
        alternative = f"`{async_alternative}`" if async_alternative else "the async function with `await`"
        raise RuntimeError(
            f"{api_name} cannot be called from inside trio.run (it would block the event loop); "
            f"use {alternative} instead"
        )


def _spawn(
    run: _Run,
    async_fn: Callable[[Unpack[Ts]], Awaitable[T]],
    args: tuple[*Ts],
    timeout: float | None,
) -> tuple[concurrent.futures.Future[T], trio.CancelScope]:
    """Start ``async_fn(*args)`` as a task in the portal nursery; return its future and cancel scope."""
    fut: concurrent.futures.Future[T] = concurrent.futures.Future()
    # Built here, cancelled only in the portal thread (construction is thread-agnostic; cancel() is
    # not). A cancel requested before the task starts makes it start cancelled.
    scope = trio.CancelScope()

    async def job() -> None:
        # No deadline scope without a timeout: a cancel scope per call is measurable in the sync API.
        deadline = trio.move_on_after(timeout) if timeout is not None else None
        try:
            with scope:
                # Settled inside the scopes: there is no checkpoint left at which to be cancelled.
                if deadline is None:
                    fut.set_result(await async_fn(*args))
                else:
                    with deadline:
                        fut.set_result(await async_fn(*args))
        except BaseException as exc:
            reraise = _record_failure(fut, exc)
            if reraise is not None:
                raise reraise from None
            return
        if fut.done():
            return
        if deadline is not None and deadline.cancelled_caught:
            fut.set_exception(RequestTimeoutError(timeout if timeout is not None else 0.0))
        else:
            _settle_cancelled(fut)  # our scope caught its own cancellation (cancel(), interrupted caller)

    def spawn() -> None:
        # A run_sync_soon callback that raises kills the whole run (TrioInternalError), so this must
        # never raise: a nursery closed by shutdown becomes PortalClosedError for this caller only.
        try:
            run.nursery.start_soon(job)
        except BaseException:
            _settle_exception(fut, PortalClosedError(_SHUT_DOWN))

    # The caller's context, copied here in the caller's thread: start_soon gives the new task a copy of
    # the context current when it is called, so running spawn inside ctx hands the caller's contextvars
    # (tracing spans, settings overrides) to the job. Changes the job makes do not leak back.
    ctx = contextvars.copy_context()
    try:
        run.token.run_sync_soon(ctx.run, spawn)
    except trio.RunFinishedError:
        raise PortalClosedError(_CLOSED) from None
    except BaseException:
        # Interrupted (Ctrl-C) inside run_sync_soon, possibly after the job was queued (its wakeup
        # write comes last): the caller never gets the scope, so cancel it here. If the job was not
        # queued, cancelling a scope nobody enters is harmless.
        _cancel_soon(run.token, scope, "the caller was interrupted while submitting")
        raise
    return fut, scope


# -- handles -----------------------------------------------------------------------------------------


@final
class PortalFuture(Generic[T]):
    """A task started with :meth:`Portal.submit`. Made by the portal, not constructed directly.

    Unlike a bare ``concurrent.futures.Future``, cancelling it really cancels the Trio task, and a
    caller interrupted while waiting in :meth:`result` cancels the task before re-raising.
    """

    __slots__ = ("_fut", "_run", "_scope")

    def __init__(self, fut: concurrent.futures.Future[T], run: _Run, scope: trio.CancelScope) -> None:
        self._fut = fut
        self._run = run
        self._scope = scope

    def result(self, timeout: float | None = None) -> T:
        """Wait for the task and return its value, or raise its exception unchanged.

        Args:
            timeout: seconds to wait; None waits as long as it takes.

        Returns:
            What the async function returned.

        Raises:
            TimeoutError: ``timeout`` passed; the task keeps running (as with ``concurrent.futures``).
            concurrent.futures.CancelledError: the task was cancelled through :meth:`cancel` before it
                finished.
            RequestTimeoutError: the ``timeout=`` given to :meth:`Portal.submit` ran out.
            PortalClosedError: the portal shut down before the task finished.

        Cancellation:
            If the waiting thread is interrupted (``KeyboardInterrupt``), the task is cancelled and
            given a bounded grace (1 s) to unwind, then the interrupt propagates.
        """
        _check_timeout(timeout)
        if not _wait_settled(self._fut, self._run, self.cancel, timeout):
            raise TimeoutError(f"the portal task did not finish within {timeout:g} seconds")
        return self._fut.result()

    def cancel(self) -> bool:
        """Ask the portal to cancel the task. Thread-safe and non-blocking; safe in finalizers.

        Returns:
            False if the task had already finished, True if cancellation was requested. The task can
            still end with a value or an error if it finishes before the request is processed.
        """
        if self._fut.done():
            return False
        _cancel_soon(self._run.token, self._scope, "cancelled through PortalFuture.cancel()")
        return True

    def done(self) -> bool:
        """True once the task has finished, failed or been cancelled."""
        return self._fut.done()

    def add_done_callback(self, fn: Callable[[], object]) -> None:
        """Call ``fn()`` once the task has finished, failed or been cancelled (at once if it has).

        For waiting without blocking a thread, as the asyncio bridge (``trio_direct._aio``) does. ``fn``
        runs in the thread that settles the task, usually the portal's: it must be quick, must not
        block, and should not raise (an exception is logged and ignored, as ``concurrent.futures`` does).
        """
        self._fut.add_done_callback(lambda _: fn())


class _Hold(Generic[T]):
    """The portal-side state of an :class:`AsyncContextHandle` (all of it, so the handle stays thin)."""

    def __init__(self, acm: AbstractAsyncContextManager[T], run: _Run) -> None:
        self.acm = acm
        self.run = run
        self.scope = trio.CancelScope()
        self.enter_fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self.exit_fut: concurrent.futures.Future[bool] = concurrent.futures.Future()
        # trio.Event is a plain object until used, so it may be built here; it is only used in the portal.
        self.exit_requested = trio.Event()
        self.exit_exc: BaseException | None = None
        self.exit_timeout: float | None = None
        self.exit_lock = threading.Lock()
        self.exit_sent = False
        self.cancel_requested = False

    async def main(self) -> None:
        """The one task that enters, holds and exits the context manager."""
        entered = False
        exit_exc: BaseException | None = None
        saved_tb: TracebackType | None = None
        try:
            with self.scope:
                async with self.acm as value:
                    entered = True
                    self.enter_fut.set_result(value)
                    await self.exit_requested.wait()
                    exit_exc = self.exit_exc
                    if exit_exc is not None:
                        saved_tb = exit_exc.__traceback__
                        # Thrown into the body so __aexit__ sees it, as a sync `with` would.
                        raise exit_exc  # noqa: TRY301
        except BaseException as exc:
            if exc is exit_exc:
                self.exit_fut.set_result(False)  # __aexit__ let the body's exception through
                return
            reraise = _record_failure(self.exit_fut, exc) if entered else _record_failure(self.enter_fut, exc)
            if reraise is not None:
                raise reraise from None
            return
        finally:
            if exit_exc is not None:
                # Raising it here added portal frames to the caller's exception; undo that, so that when
                # the caller's `with` re-raises it the traceback shows the caller's frames only.
                exit_exc.__traceback__ = saved_tb
        if not entered:
            _settle_cancelled(self.enter_fut)  # cancelled in __aenter__: only an interrupted enter does that
        elif self.scope.cancelled_caught and not self.cancel_requested:
            timeout = self.exit_timeout if self.exit_timeout is not None else 0.0
            self.exit_fut.set_exception(RequestTimeoutError(timeout, "exiting the async context"))
        elif self.scope.cancelled_caught:
            self.exit_fut.set_result(False)
        else:
            self.exit_fut.set_result(exit_exc is not None)  # no exception left: __aexit__ suppressed it

    def request_exit(self, exc: BaseException | None, timeout: float | None) -> None:
        # Runs in the portal thread (run_sync_soon), so touching the scope and the event is safe.
        self.exit_exc = exc
        self.exit_timeout = timeout
        if timeout is not None:
            self.scope.deadline = min(self.scope.deadline, trio.current_time() + timeout)
        self.exit_requested.set()

    def cancel_in_trio(self) -> None:
        self.cancel_requested = True
        self.scope.cancel("cancelled through AsyncContextHandle.cancel()")

    def cancel(self) -> None:
        if self.exit_fut.done():
            return
        try:
            self.run.token.run_sync_soon(self.cancel_in_trio)
        except trio.RunFinishedError:
            pass

    def exit(self, exc: BaseException | None, timeout: float | None) -> bool:
        with self.exit_lock:
            first = not self.exit_sent
            self.exit_sent = True
        if first:
            try:
                self.run.token.run_sync_soon(self.request_exit, exc, timeout)
            except trio.RunFinishedError:
                pass  # shutdown already ended the task and settled exit_fut with PortalClosedError
        # Wait past the portal-side deadline by a grace, so a shielded __aexit__ cannot hang us either.
        wait = None if timeout is None else timeout + _INTERRUPT_GRACE
        if not _wait_settled(self.exit_fut, self.run, self.cancel, wait):
            self.cancel()
            raise RequestTimeoutError(timeout if timeout is not None else 0.0, "exiting the async context")
        return self.exit_fut.result()


@final
class AsyncContextHandle(Generic[T]):
    """An async context manager held open in the portal; see :meth:`Portal.enter_async_context`.

    One portal task runs ``async with acm as value:`` and then waits for :meth:`exit`, so
    ``__aenter__`` and ``__aexit__`` run in the same task and cancel scopes and nurseries inside the
    context manager stay correctly nested. Made by the portal, not constructed directly.
    """

    __slots__ = ("__weakref__", "_hold")

    def __init__(self, hold: _Hold[T]) -> None:
        self._hold = hold

    @property
    def value(self) -> T:
        """What ``__aenter__`` returned. It lives in the portal: use it only through the portal."""
        return self._hold.enter_fut.result()

    def exit(self, exc: BaseException | None = None, *, timeout: float | None = _EXIT_TIMEOUT) -> bool:
        """Leave the context: run ``__aexit__`` in the portal and wait for it. Idempotent.

        Works like a sync ``__exit__``: ``exc`` (the exception leaving the ``with`` body, if any) is
        raised inside the ``async with`` so ``__aexit__`` sees it, as anyio's
        ``wrap_async_context_manager`` does, and a sync wrapper can implement ``__exit__`` as
        ``return handle.exit(exc_value)``. ``exc``'s traceback is restored afterwards. A context manager
        that owns a nursery may wrap ``exc`` in an exception group, which then raises from here.

        Args:
            exc: the body's exception, or None for a clean exit.
            timeout: seconds ``__aexit__`` may take before the context's task is cancelled; None for no
                bound. Later calls wait for the first call's outcome and ignore their arguments.

        Returns:
            True if the context manager suppressed ``exc``; False otherwise, also after :meth:`cancel`.

        Raises:
            RequestTimeoutError: ``__aexit__`` did not finish within ``timeout``.
            PortalClosedError: the portal shut down while the context was open.
            RuntimeError: called from the portal thread or from inside ``trio.run``.
            BaseException: whatever ``__aexit__`` raised other than ``exc`` itself.

        Cancellation:
            Cancels nothing but this context's own task, and only when ``timeout`` runs out or the
            caller is interrupted (``KeyboardInterrupt``): then it waits a bounded grace for the task
            to unwind and re-raises.
        """
        _check_timeout(timeout)
        _check_caller(self._hold.run, "AsyncContextHandle.exit()", None)
        return self._hold.exit(exc, timeout)

    def cancel(self) -> None:
        """Cancel the context's task, so ``__aexit__`` runs with ``trio.Cancelled``. Never blocks.

        Safe from any thread, including ``weakref.finalize`` callbacks and the portal thread itself: it
        only schedules the cancellation. Does nothing once the context has been exited.
        """
        self._hold.cancel()


# -- the portal --------------------------------------------------------------------------------------


class _Core:
    """A portal's thread and state machine: NEW → RUNNING → CLOSING → CLOSED, never back.

    Kept apart from :class:`Portal` so that the module's lifecycle code (atexit, fork) can reach it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.state = _State.NEW
        self.closed_reason = _CLOSED
        self.run: _Run | None = None

    def ensure_running(self) -> _Run:
        # Double-checked: the common case (already running) takes no lock.
        run = self.run
        if run is not None and self.state is _State.RUNNING:
            return run
        with self.lock:
            if self.state is _State.RUNNING and self.run is not None:
                return self.run
            if self.state is not _State.NEW:
                raise PortalClosedError(self.closed_reason)
            return self._start_locked()

    def _start_locked(self) -> _Run:
        with _global_lock:
            if _exiting:
                self.state = _State.CLOSED
                self.closed_reason = _EXITING
                raise PortalClosedError(self.closed_reason)
            _live.add(self)
        ready: concurrent.futures.Future[_Run] = concurrent.futures.Future()
        # daemon=True: CPython joins non-daemon threads *before* it runs atexit hooks, so a non-daemon
        # portal stopped from atexit would hang interpreter exit (measured; anyio 4.5 made the same
        # switch). The atexit hook below stops the run with a bounded grace instead, so the daemon
        # thread is not frozen mid-cleanup at finalization.
        thread = threading.Thread(target=self._thread_main, args=(ready,), name=THREAD_NAME, daemon=True)
        try:
            thread.start()
            run = ready.result(timeout=_START_TIMEOUT)
        except BaseException:
            self.state = _State.CLOSED
            self.closed_reason = "the trio_direct portal failed to start"
            # If the run comes up after all (the wait was interrupted), stop it at once.
            ready.add_done_callback(_stop_when_ready)
            raise
        self.run = run
        self.state = _State.RUNNING
        return run

    def _thread_main(self, ready: concurrent.futures.Future[_Run]) -> None:
        try:
            # A fresh Context: the portal must not inherit the context of whichever thread started it
            # (free-threaded 3.14 threads inherit the creator's, agronholm/anyio#1224). Tasks get their
            # caller's context explicitly instead.
            contextvars.Context().run(trio.run, self._main, ready)
        except BaseException as exc:
            if ready.done():
                raise  # a bug: let threading.excepthook report it
            ready.set_exception(exc)
        finally:
            with self.lock:
                self.state = _State.CLOSED
            with _global_lock:
                _live.discard(self)

    async def _main(self, ready: concurrent.futures.Future[_Run]) -> None:
        stop = trio.Event()
        async with trio.open_nursery() as nursery:
            ready.set_result(
                _Run(
                    token=trio.lowlevel.current_trio_token(),
                    nursery=nursery,
                    stop=stop,
                    thread=threading.current_thread(),
                    ident=threading.get_ident(),
                )
            )
            await stop.wait()
            # Tasks see Cancelled and report PortalClosedError; their own shielded cleanup still runs.
            # Once this task ends, trio cancels system tasks (the per-run HTTP client closer) and
            # finalizes async generators before trio.run returns.
            nursery.cancel_scope.cancel("the trio_direct portal is closing")

    def request_stop(self, reason: str) -> _Run | None:
        """Move to CLOSING and ask the run to stop. Non-blocking; returns the run to join, if any."""
        with self.lock:
            if self.state is _State.NEW:
                self.state = _State.CLOSED
                self.closed_reason = reason
                return None
            if self.state is _State.RUNNING:
                self.state = _State.CLOSING
                self.closed_reason = reason
            run = self.run
        if run is not None:
            try:
                run.token.run_sync_soon(run.stop.set)
            except trio.RunFinishedError:
                pass
        return run

    @staticmethod
    def join(run: _Run, timeout: float) -> None:
        if threading.get_ident() == run.ident:
            return  # a portal task closing its own portal: the stop request is all we can do
        run.thread.join(max(timeout, 0.0))
        if run.thread.is_alive():
            _log.warning("the trio_direct portal thread did not stop within %.1f seconds", timeout)

    def forget_after_fork(self) -> None:
        # The thread did not survive the fork; the lock may have been held by a thread that did not
        # either. Nothing of the parent's run may be touched in the child.
        self.lock = threading.Lock()
        self.state = _State.CLOSED
        self.closed_reason = "this trio_direct portal belongs to the parent process (os.fork)"
        self.run = None


def _stop_when_ready(ready: concurrent.futures.Future[_Run]) -> None:
    if ready.cancelled() or ready.exception() is not None:
        return
    run = ready.result()
    try:
        run.token.run_sync_soon(run.stop.set)
    except trio.RunFinishedError:
        pass


@final
class Portal:
    """A thread named ``trio_direct-portal`` running ``trio.run``, for calling async code from sync code.

    The thread starts lazily on first use (or on ``__enter__``) and stops on :meth:`close`. Most code
    uses the process-wide :func:`get_portal`; ``with Portal() as portal:`` owns a thread of its own.
    Methods are thread-safe and may be called from any thread except the portal's own, and not from
    inside ``trio.run`` (use the async API there). A thread whose asyncio loop is running (a notebook)
    may call them: the work runs in the portal thread, not on that loop.

    A closed ``Portal`` stays closed: calls raise :class:`PortalClosedError`. :func:`get_portal`
    replaces a closed default portal with a fresh one.
    """

    __slots__ = ("_core",)

    def __init__(self) -> None:
        self._core = _Core()

    def __repr__(self) -> str:
        return f"<trio_direct.Portal {self._core.state.value}>"

    def __enter__(self) -> Portal:
        """Start the portal thread now, instead of on first use.

        Cancellation:
            Blocks while the thread starts (well under a millisecond); an interrupt propagates and the
            portal is then closed.
        """
        self._core.ensure_running()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def running(self) -> bool:
        """True while the portal thread is up and accepting work."""
        return self._core.state is _State.RUNNING

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (or the portal's run ended); calls then raise."""
        return self._core.state in (_State.CLOSING, _State.CLOSED)

    def close(self, grace: float = _DEFAULT_GRACE) -> None:
        """Stop the portal: cancel its tasks and wait up to ``grace`` seconds for the thread. Idempotent.

        Calls in flight end with :class:`PortalClosedError`; later calls on this object raise it too.
        Called from a task in the portal itself, it only requests the stop.

        Args:
            grace: seconds to wait for the tasks' cleanup and the thread to finish. If it runs out, a
                warning is logged and the daemon thread is left to finish on its own.

        Cancellation:
            Blocks up to ``grace``. An interrupt while waiting propagates; the portal still stops.
        """
        run = self._core.request_stop(_CLOSED)
        if run is not None:
            _Core.join(run, grace)

    def _checked_run(self, api_name: str, async_alternative: str | None) -> _Run:
        # Guard before starting anything: misuse must not start a thread. A portal not started yet
        # cannot be the current thread, so checking the current run (or None) is enough.
        _check_caller(self._core.run, api_name, async_alternative)
        return self._core.ensure_running()

    def run(
        self,
        async_fn: Callable[[Unpack[Ts]], Awaitable[T]],
        *args: *Ts,
        timeout: float | None = None,
        api_name: str = "Portal.run()",
        async_alternative: str | None = None,
    ) -> T:
        """Run ``await async_fn(*args)`` as a task in the portal and wait for its outcome.

        Args:
            async_fn: the async function; it runs in the portal thread with the caller's contextvars.
            *args: positional arguments for it (use ``functools.partial`` for keywords).
            timeout: total seconds for the task (a deadline inside the portal), or None.
            api_name: how the public sync API names itself in misuse errors, e.g.
                ``"model_request_sync()"``.
            async_alternative: the async call to suggest in misuse errors, e.g.
                ``"await model_request(...)"``.

        Returns:
            What ``async_fn`` returned.

        Raises:
            RequestTimeoutError: ``timeout`` ran out (also a builtin ``TimeoutError``).
            PortalClosedError: the portal is closed, or was shut down during the call.
            RuntimeError: called from the portal thread or from inside ``trio.run``.
            BaseException: whatever ``async_fn`` raised, unchanged (``trio.Cancelled`` excepted).

        Cancellation:
            If the caller is interrupted while waiting (``KeyboardInterrupt``), the task's cancel scope
            is cancelled, the caller waits a bounded grace (1 s) for it to unwind, and the interrupt
            propagates. The wait polls every 0.25 s, so Ctrl-C is seen on every platform.
        """
        _check_timeout(timeout)
        run = self._checked_run(api_name, async_alternative)
        fut, scope = _spawn(run, async_fn, args, timeout)
        try:
            return _wait_for(fut, run, lambda: _cancel_soon(run.token, scope, f"{api_name} was interrupted"))
        except BaseException:
            # Also covers an interrupt that lands before the wait starts; cancelling is idempotent.
            if not fut.done():
                _cancel_soon(run.token, scope, f"{api_name} was interrupted")
            raise

    def submit(
        self,
        async_fn: Callable[[Unpack[Ts]], Awaitable[T]],
        *args: *Ts,
        timeout: float | None = None,
        api_name: str = "Portal.submit()",
        async_alternative: str | None = None,
    ) -> PortalFuture[T]:
        """Start ``async_fn(*args)`` as a task in the portal without waiting for it.

        Args:
            async_fn: the async function; it runs in the portal thread with the caller's contextvars.
            *args: positional arguments for it.
            timeout: total seconds for the task, surfacing as ``RequestTimeoutError``; None for none.
            api_name: how the public sync API names itself in misuse errors.
            async_alternative: the async call to suggest in misuse errors.

        Returns:
            A :class:`PortalFuture` to wait for or cancel the task.

        Raises:
            PortalClosedError: the portal is closed.
            RuntimeError: called from the portal thread or from inside ``trio.run``.

        Cancellation:
            Does not block. The task runs until it finishes or is cancelled through the returned future
            or by shutdown; dropping the future does not cancel it.
        """
        _check_timeout(timeout)
        run = self._checked_run(api_name, async_alternative)
        fut, scope = _spawn(run, async_fn, args, timeout)
        return PortalFuture(fut, run, scope)

    def run_sync(self, fn: Callable[[Unpack[Ts]], T], *args: *Ts) -> T:
        """Call a cheap synchronous ``fn(*args)`` in the portal thread and return its result.

        For non-blocking operations on portal-side objects (``receive_nowait``, closing a channel,
        reading state). It spawns no task: one ``trio.from_thread.run_sync`` round trip.

        Args:
            fn: a synchronous function that must not block; it runs with the caller's contextvars.
            *args: positional arguments for it.

        Returns:
            What ``fn`` returned.

        Raises:
            PortalClosedError: the portal is closed.
            RuntimeError: called from the portal thread or from inside ``trio.run``.
            BaseException: whatever ``fn`` raised, unchanged.

        Cancellation:
            ``fn`` runs to completion in the portal and cannot be cancelled, which is why it must be
            short. An interrupt while waiting propagates at once; ``fn`` still runs.
        """
        run = self._checked_run("Portal.run_sync()", None)
        try:
            return trio.from_thread.run_sync(fn, *args, trio_token=run.token)
        except trio.RunFinishedError:
            raise PortalClosedError(_CLOSED) from None

    def enter_async_context(
        self,
        acm: AbstractAsyncContextManager[T],
        *,
        api_name: str = "Portal.enter_async_context()",
        async_alternative: str | None = None,
    ) -> AsyncContextHandle[T]:
        """Enter an async context manager in the portal and keep it open across sync calls.

        One portal task runs ``async with acm as value:`` and waits for :meth:`AsyncContextHandle.exit`.
        For portal-side resources that a sync wrapper holds across calls, such as a stream whose pump
        task lives in a nursery inside the context manager.

        Args:
            acm: the async context manager; it is entered and exited in the portal thread.
            api_name: how the public sync API names itself in misuse errors.
            async_alternative: the async call to suggest in misuse errors.

        Returns:
            An :class:`AsyncContextHandle`; its ``value`` is what ``__aenter__`` returned.

        Raises:
            PortalClosedError: the portal is closed, or was shut down during ``__aenter__``.
            RuntimeError: called from the portal thread or from inside ``trio.run``.
            BaseException: whatever ``__aenter__`` raised, unchanged.

        Cancellation:
            If the caller is interrupted during ``__aenter__``, the task is cancelled and given a bounded
            grace (1 s) to unwind, and the interrupt propagates.
        """
        run = self._checked_run(api_name, async_alternative)
        hold = _Hold(acm, run)
        try:
            spawned, _ = _spawn(run, hold.main, (), None)
            # The hold task settles its own futures; `spawned` only matters if the task never started
            # (the portal was closing), and then it carries the PortalClosedError.
            spawned.add_done_callback(lambda f: _forward_failure(f, hold.enter_fut))
            _wait_for(hold.enter_fut, run, hold.cancel)
            return AsyncContextHandle(hold)
        except BaseException:
            # No handle reaches the caller, so nobody will ever call exit(): never leave the context
            # held open until shutdown. This matters when an interrupt (Ctrl-C) lands between queueing
            # the task and handing back the handle, possibly just after __aenter__ succeeded. After a
            # failed __aenter__ the task is over and this is a no-op.
            hold.cancel()
            raise


def _forward_failure(spawned: concurrent.futures.Future[None], target: concurrent.futures.Future[T]) -> None:
    if spawned.cancelled() or target.done():
        return
    exc = spawned.exception()
    if exc is not None:
        try:
            target.set_exception(exc)
        except concurrent.futures.InvalidStateError:
            pass  # the task settled it concurrently


# -- the process-wide portal -------------------------------------------------------------------------

_global_lock = threading.Lock()
_default: Portal | None = None
_exiting = False
# Cores whose thread is running; the atexit hook stops them all. A running thread keeps its core alive
# anyway (its bound method is the thread's target), so strong references cost nothing.
_live: set[_Core] = set()


def get_portal() -> Portal:
    """The process-wide portal that every sync entry point uses. Its thread starts on first use.

    Call it at each use rather than keeping the result: after :func:`shutdown` (or ``close()`` of the
    default portal) it returns a fresh portal, and in a forked child one of the child's own.

    Raises:
        PortalClosedError: the interpreter is exiting (the atexit hook has run).
    """
    global _default
    portal = _default
    if portal is not None and not portal.closed:
        return portal
    with _global_lock:
        if _exiting:
            raise PortalClosedError(_EXITING)
        if _default is None or _default.closed:
            _default = Portal()
        return _default


def shutdown(grace: float = _DEFAULT_GRACE) -> None:
    """Stop the process-wide portal; the next sync call starts a fresh one.

    For harnesses and tests. Calls in flight end with :class:`PortalClosedError`.

    Args:
        grace: seconds to wait for in-flight tasks to clean up and the thread to finish.

    Cancellation:
        Blocks up to ``grace``; see :meth:`Portal.close`.
    """
    global _default
    with _global_lock:
        portal, _default = _default, None
    if portal is not None:
        portal.close(grace)


def shutdown_at_exit(grace: float = _DEFAULT_GRACE) -> None:
    """The atexit hook: stop every running portal within one shared, bounded grace."""
    global _exiting, _default
    with _global_lock:
        _exiting = True
        _default = None
        cores = list(_live)
    # Ask all of them first, then join against one deadline, so N portals cost one grace, not N.
    runs = [core.request_stop(_EXITING) for core in cores]
    deadline = time.monotonic() + grace
    for run in runs:
        if run is not None:
            _Core.join(run, deadline - time.monotonic())


def _forget_after_fork() -> None:
    """In a forked child: no portal thread survived the fork, so forget them all; the child starts its own."""
    global _global_lock, _default, _live
    _global_lock = threading.Lock()
    _default = None
    for core in _live:
        core.forget_after_fork()
    _live = set()


# The atexit hook is registered by the package's __init__ (this module loads with the first sync call):
# atexit runs hooks last-in first-out, so hooks that were registered after importing trio_direct (and
# may still make sync calls) run while the portal is up.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
