"""Helpers shared by the reliability tests (test_retries, test_faults, test_secrets, test_stress).

Provider bodies and models pointed at a :class:`~tests.loopback.LoopbackServer`, plus leak probes.
"""

from __future__ import annotations

import gc
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.loopback import LoopbackServer
from trio_direct import ModelRequest, ModelSettings
from trio_direct.models import openai as oa
from trio_direct.models.base import Provider

PROMPT = [ModelRequest.user_text_prompt("hi")]

#: No httpx timers at all: with a MockClock, autojump then only ever jumps to our own sleeps and
#: deadlines, never to an httpx read timeout while the (real) loopback socket is being waited on.
NO_HTTP_TIMEOUTS = ModelSettings(timeout=httpx.Timeout(None))

CANARY_KEY = "sk-CANARY-0123456789abcdefSECRET"


def completion(text: str = "ok", model: str = "gpt-4o-2024") -> dict[str, Any]:
    """A minimal OpenAI chat completion body."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    """One OpenAI chat completion chunk."""
    delta: dict[str, Any] = {} if content is None else {"content": content}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-4o-2024",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse_text(*pieces: str) -> list[object]:
    """A complete OpenAI stream of text ``pieces``: chunks, a finish chunk and ``[DONE]``."""
    return [*(chunk(p) for p in pieces), chunk(None, "stop"), "data: [DONE]"]


def openai_model(
    srv: LoopbackServer | str, *, api_key: str = "sk-test", settings: ModelSettings | None = None
) -> oa.OpenAIChatModel:
    """An OpenAI Chat model talking to the loopback server (or any base URL)."""
    base = srv if isinstance(srv, str) else srv.url + "/v1"
    return oa.OpenAIChatModel("gpt-4o", provider=Provider("openai", base, api_key), settings=settings)


def unused_port() -> int:
    """A local port nothing listens on (connecting to it is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def non_loopback_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith("loopback-")}


@contextmanager
def no_new_threads() -> Iterator[None]:
    """Fail if the block leaves a thread running that was not there before (loopback's excepted)."""
    before = non_loopback_threads()
    yield
    gc.collect()
    leaked = {t for t in non_loopback_threads() - before if t.is_alive()}
    assert not leaked, f"threads left running: {sorted(t.name for t in leaked)}"


def assert_all_connections_closed(srv: LoopbackServer, timeout: float = 5.0) -> None:
    """Every connection the server accepted has been closed (by either side) within ``timeout``."""
    with srv._cond:  # pyright: ignore[reportPrivateUsage]
        ok = srv._cond.wait_for(  # pyright: ignore[reportPrivateUsage]
            lambda: all(c.closed_at is not None for c in srv._connections),  # pyright: ignore[reportPrivateUsage]
            timeout,
        )
    if not ok:
        open_ = [c.id for c in srv.connections if c.closed_at is None]
        raise AssertionError(f"loopback connections still open after {timeout}s: {open_}")
