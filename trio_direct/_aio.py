"""The async API on asyncio: run the work on the portal and await it without blocking the loop.

Under Trio the async entry points run natively in the caller's run; nothing here is involved beyond one
cheap check (:func:`on_trio`). Under asyncio (``asyncio.run``, anyio on its asyncio backend, a Jupyter
cell with a top-level ``await``) there is no Trio run to use, so the work runs as a task on the portal
(:mod:`trio_direct._portal`), the same thread and connection pool the sync API uses, and the asyncio
task awaits it:

* the portal task's outcome wakes the asyncio task through ``loop.call_soon_threadsafe``; the loop is
  never blocked, so many asyncio tasks share the portal (and its pool) at once;
* cancelling the asyncio task (``task.cancel()``, ``asyncio.timeout``) cancels the portal task, which
  closes its connection at once; the asyncio task then waits a bounded grace for it to unwind before
  the ``CancelledError`` propagates, so no work is left running behind the caller's back;
* what the portal task raised reaches the caller unchanged; ``trio.Cancelled`` never does;
* a stream lives in the portal, and its consumer fetches every batch already buffered in one round trip
  (real backpressure: the stream's bounded channel still stops the pump when the consumer is slow).

Which event loop is running is decided with sniffio's rules (``sniffio`` is one of Trio's own
dependencies, so this adds nothing to install): ``"trio"`` runs natively, ``"asyncio"`` goes through the
portal, anything else is a :class:`~trio_direct.exceptions.UserError` naming the sync API.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import weakref
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, TypeVarTuple, Unpack, final

import sniffio
import trio

from .exceptions import PortalClosedError, StreamClosedError, UserError

if TYPE_CHECKING:
    import asyncio

    from ._portal import PortalFuture
    from .models.base import Batch, StreamContext, StreamedResponse

__all__ = [
    "AsyncioStreamContext",
    "LazyStreamContext",
    "current_loop",
    "on_trio",
    "run_on_portal",
    "stream_context",
]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

# After a cancelled asyncio caller has asked for its portal task to be cancelled, how long it waits for
# the task to unwind (close the connection, run `finally` blocks) before re-raising anyway. Unwinding a
# cancelled request takes well under a millisecond; this only bounds a misbehaving task.
_CANCEL_GRACE: Final = 1.0


def current_loop(api_name: str, sync_alternative: str) -> Literal["trio", "asyncio"]:
    """Which supported event loop runs the current task, by sniffio's rules.

    Args:
        api_name: the public call, for the error message (``"model_request()"``).
        sync_alternative: the sync call to suggest (``"model_request_sync(...)"``).

    Raises:
        UserError: no event loop is running this code, or one that is neither Trio nor asyncio.
    """
    try:
        name = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        raise UserError(
            f"{api_name} must be awaited inside trio.run or a running asyncio event loop; "
            f"from synchronous code call {sync_alternative} instead"
        ) from None
    if name == "trio":
        return "trio"
    if name == "asyncio":
        return "asyncio"
    raise UserError(
        f"{api_name} supports Trio and asyncio, not {name!r}; call the sync API ({sync_alternative}) from "
        f"a worker thread of your event loop instead"
    )


def on_trio(api_name: str, sync_alternative: str) -> bool:
    """True under Trio (run natively), False under asyncio (go through the portal).

    On the hot path of every Trio call, so it costs one thread-local read there (Trio publishes its name
    to sniffio while it runs a task).

    Raises:
        UserError: see :func:`current_loop`.
    """
    if sniffio.thread_local.name == "trio":
        return True
    return current_loop(api_name, sync_alternative) == "trio"


# -- waiting on the portal from asyncio --------------------------------------------------------------


def _waker(loop: asyncio.AbstractEventLoop, event: asyncio.Event) -> Callable[[], None]:
    """A callback, safe from any thread, that sets ``event`` on ``loop``."""

    def wake() -> None:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more

    return wake


_Subscribe = Callable[[Callable[[], None]], None]


async def _until_settled(subscribe: _Subscribe, cancel: Callable[[], object]) -> None:
    """Wait, without blocking the loop, until ``subscribe``'s callback fires.

    Cancellation:
        On ``CancelledError`` it calls ``cancel`` (which must ask the portal to cancel the work), waits
        up to ``_CANCEL_GRACE`` seconds for the work to settle, and re-raises. Further cancellations
        during that grace do not cut it short: anyio delivers a cancellation again at every await inside
        a cancelled scope, which would otherwise leave the work unwinding behind the caller's back.
    """
    import asyncio  # here, not at module level: Trio users never pay its import

    loop = asyncio.get_running_loop()
    settled = asyncio.Event()
    subscribe(_waker(loop, settled))
    try:
        await settled.wait()
    except asyncio.CancelledError:
        cancel()
        deadline = loop.time() + _CANCEL_GRACE
        while not settled.is_set() and (remaining := deadline - loop.time()) > 0:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(settled.wait(), remaining)
        raise


async def _await_portal(future: PortalFuture[T]) -> T:
    """The outcome of a portal task, awaited from asyncio; see :func:`_until_settled` for cancellation."""
    import asyncio  # here, not at module level: Trio users never pay its import

    await _until_settled(future.add_done_callback, future.cancel)
    try:
        return future.result()
    except concurrent.futures.CancelledError:
        # Only a cancellation of ours settles the task this way, and then we are already raising.
        raise asyncio.CancelledError from None


async def run_on_portal(
    async_fn: Callable[[Unpack[Ts]], Awaitable[T]], *args: *Ts, api_name: str, sync_alternative: str
) -> T:
    """``await async_fn(*args)`` on the portal, awaited from an asyncio task.

    Args:
        async_fn: the Trio async function; it runs in the portal thread with the caller's contextvars.
        *args: its positional arguments.
        api_name: the public call, for misuse errors.
        sync_alternative: the sync call to name in misuse errors.

    Returns:
        What ``async_fn`` returned.

    Raises:
        PortalClosedError: the portal is closed, or shut down during the call.
        BaseException: whatever ``async_fn`` raised, unchanged (never ``trio.Cancelled``).

    Cancellation:
        Cancelling the asyncio task cancels the portal task (its connection is closed at once), waits a
        bounded grace (1 s) for it to unwind, and re-raises ``CancelledError``.
    """
    from ._portal import get_portal  # the portal loads with the first call that needs it

    future = get_portal().submit(async_fn, *args, api_name=api_name, async_alternative=sync_alternative)
    return await _await_portal(future)


# -- streams -----------------------------------------------------------------------------------------

_STREAM: Final = "StreamedResponse"
_SYNC_STREAM: Final = "model_request_stream_sync(...)"


async def _next_batches(stream: StreamedResponse) -> list[Batch]:
    """Runs in the portal: the stream's fetch side, waiting for the next batch and draining the rest.

    Returns ``[]`` once the channel has ended or the stream was closed. A cancelled wait loses nothing.
    """
    return await stream._receive_batches(drain=True)  # pyright: ignore[reportPrivateUsage]


@final
class _PortalFeed:
    """How a portal-side :class:`StreamedResponse` is consumed from an asyncio task."""

    __slots__ = ("_future", "_hold", "_stream")

    def __init__(self, stream: StreamedResponse, hold: _StreamHold, future: PortalFuture[None]) -> None:
        self._stream = stream
        self._hold = hold
        self._future = future

    async def fetch(self) -> list[Batch]:
        """The next batches (``[]`` at the end), fetched through the portal in one round trip.

        Raises:
            PortalClosedError: the portal shut down.

        Cancellation:
            Cancels the waiting portal task (no batch is lost) and re-raises ``CancelledError``.
        """
        return await run_on_portal(
            _next_batches, self._stream, api_name=_STREAM, sync_alternative=_SYNC_STREAM
        )

    def closed_error(self) -> BaseException:
        """PortalClosedError if the portal's shutdown closed the stream, else StreamClosedError."""
        if self._future.done():
            try:
                self._future.result()
            except PortalClosedError:
                return PortalClosedError("the trio_direct portal shut down before the stream finished")
            except BaseException:  # the block's own outcome; the consumer only needs to know it is closed
                pass
        return StreamClosedError("the stream is closed; iterate it inside its `async with` block")

    async def close(self) -> None:
        """Close the stream now, as leaving the block does, and wait until the portal has done it.

        The portal task leaves the stream's ``async with``, which cancels the pump and closes the
        connection; the asyncio block's own exit then has nothing left to do.
        """
        self._hold.request_exit(None)
        await _until_settled(self._future.add_done_callback, self._future.cancel)


class _StreamHold:
    """The portal task that enters a stream context, holds it open for an asyncio consumer, and exits it.

    ``__aenter__`` and ``__aexit__`` run in this one task, so the stream's nursery and cancel scopes stay
    correctly nested. The body's exception is raised inside the ``async with`` so ``__aexit__`` sees it,
    as it would for an ``async with`` written in Trio.
    """

    def __init__(self, cm: StreamContext) -> None:
        self.cm = cm
        self.entered: concurrent.futures.Future[StreamedResponse] = concurrent.futures.Future()
        # A plain object until used; it is only used in the portal thread.
        self.exit_requested = trio.Event()
        self.exit_exc: BaseException | None = None
        self.token: trio.lowlevel.TrioToken | None = None

    async def main(self) -> None:
        self.token = trio.lowlevel.current_trio_token()
        exit_exc: BaseException | None = None
        saved_tb: TracebackType | None = None
        try:
            async with self.cm as stream:
                self.entered.set_result(stream)
                await self.exit_requested.wait()
                exit_exc = self.exit_exc
                if exit_exc is not None:
                    saved_tb = exit_exc.__traceback__
                    raise exit_exc
        finally:
            if exit_exc is not None:
                # Raising it here appended portal frames to the caller's exception: restore its own.
                exit_exc.__traceback__ = saved_tb

    def request_exit(self, exc: BaseException | None) -> None:
        """Thread-safe: ask the task to leave the context, raising ``exc`` inside it if given.

        Only the first request counts (a stream closed by ``cancel()`` is then left by its block).
        """

        def in_portal() -> None:
            if not self.exit_requested.is_set():
                self.exit_exc = exc
                self.exit_requested.set()

        if self.token is None:
            return  # the task never started; its future carries why
        try:
            self.token.run_sync_soon(in_portal)
        except trio.RunFinishedError:
            pass  # the portal shut down, which already ended the task


@final
class AsyncioStreamContext:
    """``async with model_request_stream(...)`` under asyncio: the stream runs in the portal.

    The value of the block is the real :class:`StreamedResponse` (living in the portal thread); its
    ``async for`` fetches batches through the portal, and ``get()``/``usage``/the properties reflect
    exactly the events the asyncio consumer has seen.
    """

    __slots__ = ("__weakref__", "_cm", "_finalizer", "_future", "_hold")

    def __init__(self, cm: StreamContext) -> None:
        self._cm = cm
        self._hold: _StreamHold | None = None
        self._future: PortalFuture[None] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    async def __aenter__(self) -> StreamedResponse:
        """Open the stream in the portal and wait, without blocking the loop, for its first batch.

        Raises:
            UserError: entered twice.
            PortalClosedError: the portal is closed or shut down while opening.
            ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: the stream failed to open,
                unchanged.

        Cancellation:
            Cancelling the task while the stream opens cancels it in the portal (the connection is
            closed) and re-raises ``CancelledError``.
        """
        import asyncio  # here, not at module level: Trio users never pay its import

        if self._hold is not None:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        hold = self._hold = _StreamHold(self._cm)
        from ._portal import get_portal  # the portal loads with the first call that needs it

        future = self._future = get_portal().submit(
            hold.main, api_name="model_request_stream()", async_alternative="model_request_stream_sync()"
        )
        # If the task ends before entering (an error in __aenter__, shutdown), `entered` carries why.
        future.add_done_callback(lambda: _forward_failure(future, hold.entered))
        # A consumer dropped without leaving the block still cancels the portal task (never blocks).
        self._finalizer = weakref.finalize(self, future.cancel)
        await _until_settled(lambda wake: hold.entered.add_done_callback(lambda _: wake()), future.cancel)
        try:
            stream = hold.entered.result()
        except concurrent.futures.CancelledError:
            raise asyncio.CancelledError from None
        stream._foreign = _PortalFeed(stream, hold, future)  # pyright: ignore[reportPrivateUsage]
        return stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Leave the block: close the stream in the portal (the connection at once) and wait for it.

        Never suppresses the body's exception.

        Raises:
            BaseException: whatever the stream's ``__aexit__`` raised other than the body's exception.

        Cancellation:
            Cancelling the task while it waits cancels the portal task and re-raises ``CancelledError``.
        """
        hold, future = self._hold, self._future
        if hold is None or future is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        saved_tb = exc.__traceback__ if exc is not None else None
        hold.request_exit(exc)
        await _until_settled(future.add_done_callback, future.cancel)
        try:
            future.result()
        except PortalClosedError:
            # The portal shut down while the block was open: the stream is closed, which is all leaving
            # the block has to do; iterating reported it if it mattered.
            pass
        except concurrent.futures.CancelledError:
            pass  # cancelled through the finalizer or a cancelled exit: the stream is closed
        except BaseException as raised:
            if raised is not exc:
                raise
            # The stream let the body's exception through; re-raising it here appended frames to it.
            raised.__traceback__ = saved_tb


def _forward_failure(future: PortalFuture[None], target: concurrent.futures.Future[Any]) -> None:
    if target.done():
        return
    try:
        future.result()
    except BaseException as exc:  # forwarded unchanged to whoever awaits `target`
        error: BaseException = exc
    else:
        error = PortalClosedError("the stream's portal task ended before the stream opened")
    try:
        if isinstance(error, concurrent.futures.CancelledError):
            target.cancel()
        else:
            target.set_exception(error)
    except concurrent.futures.InvalidStateError:
        pass  # settled concurrently


@final
class LazyStreamContext:
    """A stream context made where no event loop was running: it picks Trio or asyncio when entered."""

    __slots__ = ("_cm", "_inner")

    def __init__(self, cm: StreamContext) -> None:
        self._cm = cm
        self._inner: StreamContext | None = None

    async def __aenter__(self) -> StreamedResponse:
        """Enter natively under Trio, through the portal under asyncio; see :class:`AsyncioStreamContext`.

        Raises:
            UserError: entered under an event loop that is neither Trio nor asyncio, or twice.
        """
        if self._inner is not None:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        trio_native = on_trio("model_request_stream()", "model_request_stream_sync(...)")
        self._inner = self._cm if trio_native else AsyncioStreamContext(self._cm)
        return await self._inner.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if self._inner is None:
            return None
        return await self._inner.__aexit__(exc_type, exc, tb)


def stream_context(cm: StreamContext) -> StreamContext:
    """What ``model_request_stream`` hands out: ``cm`` itself under Trio, a portal bridge under asyncio.

    Decided now when the caller runs in an event loop (the usual ``async with model_request_stream(...)``),
    else when the block is entered.

    Raises:
        UserError: called under an event loop that is neither Trio nor asyncio.
    """
    if sniffio.thread_local.name == "trio":
        return cm
    try:
        name = sniffio.current_async_library()
    except sniffio.AsyncLibraryNotFoundError:
        return LazyStreamContext(cm)
    if name == "trio":
        return cm
    current_loop("model_request_stream()", "model_request_stream_sync(...)")  # raises for other loops
    return AsyncioStreamContext(cm)
