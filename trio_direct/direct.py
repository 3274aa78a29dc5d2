"""The direct API: one request to a model, async or sync, whole or streamed.

The async functions run in the caller's ``trio.run``; deadlines are the caller's cancel scopes. Under
asyncio (plain, anyio, a notebook's top-level ``await``) they run on the portal and are awaited without
blocking the loop (see :mod:`trio_direct._aio`); deadlines are then the caller's ``asyncio.timeout``. The
sync functions run the same code on the process's Trio portal thread (see :mod:`trio_direct._portal`)
so every sync caller shares one event loop, one HTTP client and one connection pool.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import weakref
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, final

import trio

from . import _aio
from ._validate import check_messages
from .events import ModelResponseStreamEvent
from .exceptions import PortalClosedError, RequestTimeoutError, StreamClosedError
from .messages import ModelMessage, ModelResponse
from .models import KnownModelName, Model, StreamContext, StreamedResponse, infer_model
from .models._instructions import with_instructions
from .settings import ModelSettings
from .tools import ModelRequestParameters
from .usage import RequestUsage

if TYPE_CHECKING:
    from ._portal import AsyncContextHandle, Portal
    from .models.instrumented import InstrumentationSettings

__all__ = [
    "StreamedResponseSync",
    "model_request",
    "model_request_stream",
    "model_request_stream_sync",
    "model_request_sync",
]


_SYNC_REQUEST = "model_request_sync(...)"


def _prepare(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    model_request_parameters: ModelRequestParameters | None,
) -> tuple[Model, list[ModelMessage], ModelRequestParameters]:
    """Resolve the model, put the instructions in force into the parameters, and prepare the history
    for the model (:meth:`Model.direct_history`), as pydantic-ai 2.68's direct API does.

    Which instructions apply is :func:`~trio_direct.models._instructions.choose_instructions`' rule
    (pydantic-ai 2.68's), the same one every model applies to a bare ``Model.request`` call.

    Raises:
        UserError: ``messages`` is not a list of messages, or the model cannot be resolved.
    """
    check_messages(messages)  # hardening: a string or a single request is the commonest first mistake
    resolved = infer_model(model)
    params = with_instructions(messages, model_request_parameters or ModelRequestParameters())
    return resolved, resolved.direct_history(messages, params), params


async def model_request(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: InstrumentationSettings | bool | None = None,
) -> ModelResponse:
    """Send one non-streamed request and return the model's response.

    Args:
        model: a :class:`Model`, or a name such as ``'openai:gpt-4o'``, ``'anthropic:claude-sonnet-4-5'``
            or ``'test'``.
        messages: the history, ending with the request to answer.
        model_settings: per-call settings, merged over the model's defaults.
        model_request_parameters: tools and output mode.
        instrument: wrap the model in OpenTelemetry instrumentation (needs ``opentelemetry-api``):
            ``True`` for the default :class:`InstrumentationSettings`, or your own settings.

    Works under Trio (natively) and under asyncio (on the portal thread, awaited without blocking the
    loop; many concurrent tasks share its connection pool).

    Raises:
        UserError: unknown model name or missing API key (before any I/O); awaited outside Trio and
            asyncio (use :func:`model_request_sync`).
        ModelHTTPError: the provider answered 4xx/5xx (a categorized subclass such as
            ``ModelRateLimitError``).
        ModelConnectionError: the provider could not be reached; ``ModelTimeoutError`` when an
            inactivity limit ran out.
        UnexpectedModelBehavior: the reply could not be understood.
        PortalClosedError: (asyncio only) the portal was shut down during the call.

    Cancellation:
        Use ``trio.fail_after``/``move_on_after`` (or ``asyncio.timeout``) around the call for a total
        deadline. Cancelling at any point leaves nothing running and discards the connection; under
        asyncio the task waits a bounded grace (1 s) for the portal side to unwind, then re-raises.
    """
    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    if _aio.on_trio("model_request()", _SYNC_REQUEST):
        return await resolved.request(history, model_settings, params)
    return await _aio.run_on_portal(
        resolved.request,
        history,
        model_settings,
        params,
        api_name="model_request()",
        sync_alternative=_SYNC_REQUEST,
    )


def model_request_stream(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: InstrumentationSettings | bool | None = None,
) -> StreamContext:
    """Open a streamed request: ``async with model_request_stream(...) as stream: async for event in stream``.

    The model is resolved now (so a bad name or missing key raises here); the request is sent when
    the block is entered, and errors that arrive before the first chunk raise from ``async with``.
    Under asyncio the stream runs on the portal thread and each step of ``async for`` fetches every
    batch already buffered in one round trip, without blocking the loop.

    Raises:
        UserError: unknown model name or missing API key (at call time); used outside Trio and asyncio
            (use :func:`model_request_stream_sync`).
        ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: from ``async with`` or from the
            iteration, unchanged (never wrapped in an exception group).

    Cancellation:
        Leaving the block — normally, by ``break``, by an exception or by cancellation — cancels the
        stream's pump task and closes the connection at once, without reading the rest. Put
        ``trio.fail_after`` (or ``asyncio.timeout``) around the block for a total deadline.
    """
    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    return _aio.stream_context(resolved.request_stream(history, model_settings, params))


def _instrumented(model: Model, instrument: InstrumentationSettings | bool | None) -> Model:
    if not instrument:
        return model
    from .models.instrumented import instrument_model

    return instrument_model(model, instrument)


# ---------------------------------------------------------------------------------------------
# Sync API: the same calls, run on the portal thread
# ---------------------------------------------------------------------------------------------


def model_request_sync(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: InstrumentationSettings | bool | None = None,
    timeout: float | None = None,
) -> ModelResponse:
    """:func:`model_request` from sync code: blocks until the response arrives.

    Runs on the process's Trio portal thread, so it works from any thread (including one whose
    asyncio loop is running, as in a notebook) and every sync caller shares one connection pool.

    Args:
        timeout: a total deadline in seconds for the whole request.

    Raises:
        UserError: unknown model name or missing API key (before any I/O).
        RequestTimeoutError: ``timeout`` ran out (it is also a builtin ``TimeoutError``).
        RuntimeError: called from inside ``trio.run`` (use ``await model_request(...)``) or from the
            portal thread.
        PortalClosedError: the portal was shut down during the call.
        ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: as :func:`model_request`.

    Cancellation:
        Ctrl-C (``KeyboardInterrupt``) in the caller cancels the request in the portal, closes its
        connection, and then propagates. ``trio.Cancelled`` never reaches the caller.
    """
    from ._portal import get_portal  # the portal loads with the first sync call

    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    return get_portal().run(
        resolved.request,
        history,
        model_settings,
        params,
        timeout=timeout,
        api_name="model_request_sync()",
        async_alternative="await model_request(...)",
    )


def model_request_stream_sync(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: InstrumentationSettings | bool | None = None,
    timeout: float | None = None,
) -> StreamedResponseSync:
    """:func:`model_request_stream` from sync code: ``with ... as stream: for event in stream``.

    The model is resolved now (a bad name or missing key raises here); the request is sent when the
    ``with`` block is entered.

    Args:
        timeout: a total deadline in seconds from entering the block; when it passes the stream is
            closed and iteration raises :class:`RequestTimeoutError`.

    Raises:
        UserError: unknown model name or missing API key (at call time).
        ValueError: ``timeout`` is negative or NaN (at call time).
        RuntimeError: (from ``with``) entered inside ``trio.run`` (use ``async with
            model_request_stream(...)``) or in the portal thread.
        ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: from ``with`` when the stream
            fails to open, or from the ``for`` loop when it fails later, unchanged.
        RequestTimeoutError: ``timeout`` ran out while opening (from ``with``) or while streaming
            (from the ``for`` loop).

    Cancellation:
        Leaving the ``with`` block (normally, by ``break``, by an exception, or by Ctrl-C) cancels the
        stream in the portal and closes its connection at once.
    """
    if timeout is not None and (math.isnan(timeout) or timeout < 0):
        raise ValueError(f"timeout must be a non-negative number of seconds or None, not {timeout!r}")
    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    return StreamedResponseSync(resolved.request_stream(history, model_settings, params), timeout=timeout)


class _Deadline:
    """Runs a stream context inside a cancel scope with a deadline, all in the portal's hold task."""

    def __init__(self, cm: StreamContext, timeout: float) -> None:
        self._cm = cm
        self.timeout = timeout
        self._stack: contextlib.AsyncExitStack | None = None
        self.scope: trio.CancelScope | None = None

    async def __aenter__(self) -> StreamedResponse:
        async with contextlib.AsyncExitStack() as stack:
            self.scope = stack.enter_context(trio.CancelScope(deadline=trio.current_time() + self.timeout))
            value = await stack.enter_async_context(self._cm)
            self._stack = stack.pop_all()
            return value
        # The scope swallowed its own deadline while the stream was opening.
        raise RequestTimeoutError(self.timeout, "opening the stream")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        assert self._stack is not None
        return await self._stack.__aexit__(exc_type, exc, tb)

    @property
    def expired(self) -> bool:
        return self.scope is not None and self.scope.cancel_called


_NOT_ENTERED = (
    "a sync stream must be used as a context manager: "
    "`with model_request_stream_sync(...) as stream: for event in stream: ...`"
)


@final
class StreamedResponseSync:
    """A streamed response consumed from sync code: ``for event in stream`` inside its ``with`` block.

    The stream runs in the portal thread; each step of the iteration fetches every batch already
    buffered in one round trip. ``get()`` and the properties reflect exactly the events this object
    has yielded, and cost nothing. Any thread may consume it, one at a time.

    Leaving the ``with`` block (normally, by ``break``, by an exception or Ctrl-C) cancels the
    stream and closes the connection at once; it never drains the rest. ``get()`` still works after
    the block.
    """

    def __init__(self, stream_cm: StreamContext, *, timeout: float | None = None) -> None:
        self._cm: StreamContext = _Deadline(stream_cm, timeout) if timeout is not None else stream_cm
        self._timeout = timeout
        self._portal: Portal | None = None
        self._handle: AsyncContextHandle[StreamedResponse] | None = None
        self._stream: StreamedResponse | None = None
        self._exited = False
        self._busy = threading.Lock()
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def __enter__(self) -> StreamedResponseSync:
        if self._handle is not None:
            raise RuntimeError("this sync stream was already entered; call model_request_stream_sync() again")
        from ._portal import get_portal  # the portal loads with the first sync call

        portal = get_portal()
        handle = portal.enter_async_context(
            self._cm,
            api_name="model_request_stream_sync()",
            async_alternative="async with model_request_stream(...)",
        )
        try:
            self._portal, self._handle, self._stream = portal, handle, handle.value
            # If the object is dropped without __exit__, at least cancel the portal task (never blocks).
            self._finalizer = weakref.finalize(self, handle.cancel)
        except BaseException:
            handle.cancel()  # interrupted before the `with` owns the stream: do not leave it open
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Never suppresses the body's exception (stream contexts do not), so the return type is None:
        # a `bool` would make type checkers treat names bound in the block as possibly unbound.
        if self._handle is None or self._exited:
            return
        self._exited = True
        if self._finalizer is not None:
            self._finalizer.detach()
        try:
            self._handle.exit(exc)
        except PortalClosedError:
            # The portal shut down while the block was open: the stream is already closed, which is
            # all leaving the block has to do. Iteration reported the shutdown if it was affected.
            pass

    def _entered(self) -> StreamedResponse:
        if self._stream is None:
            raise RuntimeError(_NOT_ENTERED)
        return self._stream

    def __iter__(self) -> Iterator[ModelResponseStreamEvent]:
        """The events, in order; a second loop after a ``break`` resumes where the first stopped.

        Raises:
            RuntimeError: used outside its ``with`` block, iterated by two threads at once, or
                iterated inside ``trio.run``.
            RequestTimeoutError: the ``timeout`` passed.
            PortalClosedError: the portal shut down before the stream finished.
            StreamClosedError: the stream was closed before it finished (by its finalizer, say).
            TrioDirectError: whatever the stream failed with, unchanged.

        Cancellation:
            Ctrl-C while waiting cancels the wait in the portal and propagates; the ``with`` block's
            exit then closes the stream.
        """
        stream = self._entered()
        if self._exited:
            raise RuntimeError("this sync stream is closed; iterate it inside its `with` block")
        if trio.lowlevel.in_trio_run():
            raise RuntimeError(
                "a StreamedResponseSync cannot be iterated inside trio.run (it would block the event "
                "loop); use `async with model_request_stream(...)` and `async for` instead"
            )
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("this sync stream is already being iterated in another thread")
        try:
            assert self._portal is not None
            portal = self._portal
            while True:
                event = stream._next_event()  # pyright: ignore[reportPrivateUsage]
                if event is not None:
                    yield event
                    continue
                if stream._exhausted:  # pyright: ignore[reportPrivateUsage]
                    return
                batches = self._fetch(portal, stream)
                stream._accept(batches)  # pyright: ignore[reportPrivateUsage]
                if not batches and stream._exhausted_early:  # pyright: ignore[reportPrivateUsage]
                    # The channel ended without the pump finishing and without an error: the stream
                    # was closed under us. Say why, once, instead of passing a truncated stream off
                    # as a complete one.
                    if isinstance(self._cm, _Deadline) and self._cm.expired:
                        raise RequestTimeoutError(self._cm.timeout, "the stream")
                    if portal.closed:
                        raise PortalClosedError("the trio_direct portal shut down before the stream finished")
                    raise StreamClosedError("the stream was closed before it finished")
        finally:
            self._busy.release()

    @staticmethod
    def _fetch(portal: Portal, stream: StreamedResponse) -> list[Any]:
        """The stream's next batches, fetched in the portal thread; ``[]`` once it has ended.

        The fast path is one cheap round trip (a synchronous poll of what is already buffered); only
        when nothing is buffered yet does it run a task that waits for the next batch and takes the
        rest buffered behind it, so each fetch pays for at most one task.
        """
        batches = portal.run_sync(stream._poll_batches)  # pyright: ignore[reportPrivateUsage]
        if batches is None:
            batches = portal.run(
                functools.partial(stream._receive_batches, drain=True),  # pyright: ignore[reportPrivateUsage]
                api_name="StreamedResponseSync",
            )
        return batches

    def get(self) -> ModelResponse:
        """The response as far as this object has iterated (also after the block)."""
        return self._entered().get()

    @property
    def response(self) -> ModelResponse:
        """Same as :meth:`get`."""
        return self.get()

    @property
    def usage(self) -> RequestUsage:
        """Token usage so far; ``stream.usage()`` works too (see :meth:`RequestUsage.__call__`)."""
        return self._entered().usage

    @property
    def model_name(self) -> str | None:
        return self._entered().model_name

    @property
    def timestamp(self) -> datetime:
        return self._entered().timestamp

    def __repr__(self) -> str:
        if self._stream is None:
            return "StreamedResponseSync(context_entered=False)"
        return f"StreamedResponseSync({self._stream!r})"
