"""A stream whose AWS credentials are looked up before it opens.

botocore's credential chain (:mod:`.chain`) is asked at request time, in a worker thread, so a model
that signs with it cannot build its request until the lookup is done. :class:`AfterLookup` is the
stream context for that: on entry it awaits the lookup, then opens the stream the model builds now.
Shared by every model that signs with SigV4 (Bedrock Converse, Bedrock Mantle).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType

from ..models.base import StreamContext, StreamedResponse

__all__ = ["AfterLookup"]


class AfterLookup:
    """A :class:`StreamContext` that runs ``lookup`` on entry, then opens ``open_stream()``.

    Cancellation: a cancelled lookup leaves nothing open; once the stream is open, leaving the block
    closes it as the inner context does.
    """

    def __init__(
        self, lookup: Callable[[], Awaitable[object]], open_stream: Callable[[], StreamContext]
    ) -> None:
        self._lookup = lookup
        self._open_stream = open_stream
        self._inner: StreamContext | None = None

    async def __aenter__(self) -> StreamedResponse:
        await self._lookup()
        self._inner = self._open_stream()
        return await self._inner.__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        if self._inner is None:
            return None
        return await self._inner.__aexit__(exc_type, exc, tb)
