"""What the raw floor sends and reads: a minimal OpenAI Chat Completions client, plain JSON (stdlib only)."""

from __future__ import annotations

import json
import time
from typing import Any

MODEL = "gpt-4o"
PROMPT = "Hello, how are you?"


def body(*, stream: bool) -> bytes:
    """The request body, built per request with ``json.dumps`` as a hand-written client would."""
    payload: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return json.dumps(payload).encode()


HEADERS = {"authorization": "Bearer x", "content-type": "application/json"}


def reply_text(content: bytes) -> str:
    """The text of a non-streamed reply (``json.loads`` of the whole body)."""
    data = json.loads(content)
    text: str = data["choices"][0]["message"]["content"]
    return text


class StreamReader:
    """``json.loads`` per SSE ``data:`` line; collects the content deltas (what a bare-hands client does)."""

    __slots__ = ("deltas", "done", "pieces", "seen")

    def __init__(self, seen: list[int] | None = None) -> None:
        self.pieces: list[str] = []
        self.deltas = 0
        self.done = False
        self.seen = seen  # if given: time.monotonic_ns() of each content delta, as it is decoded

    def line(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        data = line[5:].lstrip()
        if data == "[DONE]":
            self.done = True
            return
        chunk = json.loads(data)
        choices = chunk["choices"]
        if choices:
            content = choices[0]["delta"].get("content")
            if content:
                self.pieces.append(content)
                self.deltas += 1
                if self.seen is not None:
                    self.seen.append(time.monotonic_ns())

    @property
    def text(self) -> str:
        return "".join(self.pieces)


# --- a tool-call stream (the fake provider's ``x-fake-tool: 1`` / ``--tool`` shape) ---------------------

TOOL_NAME = "record_text"
TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"text": {"type": "string"}},
    "required": ["text"],
}


def tool_body(*, stream: bool) -> bytes:
    """The request body with the one tool declared, as a hand-written client would send it."""
    payload: dict[str, Any] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": PROMPT}],
        "tools": [{"type": "function", "function": {"name": TOOL_NAME, "parameters": TOOL_SCHEMA}}],
    }
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    return json.dumps(payload).encode()


class ToolStreamReader:
    """``json.loads`` per SSE ``data:`` line; keeps the call's id and name and collects its argument
    fragments in a list, joined once at the end (the way :class:`StreamReader` collects text)."""

    __slots__ = ("call_id", "deltas", "done", "pieces", "tool_name")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.deltas = 0
        self.done = False
        self.call_id: str | None = None
        self.tool_name: str | None = None

    def line(self, line: str) -> None:
        if not line.startswith("data:"):
            return
        data = line[5:].lstrip()
        if data == "[DONE]":
            self.done = True
            return
        chunk = json.loads(data)
        choices = chunk["choices"]
        if choices:
            calls = choices[0]["delta"].get("tool_calls")
            if calls:
                for call in calls:
                    if "id" in call:
                        self.call_id = call["id"]
                    function = call.get("function")
                    if function:
                        name = function.get("name")
                        if name:
                            self.tool_name = name
                        args = function.get("arguments")
                        if args:
                            self.pieces.append(args)
                            self.deltas += 1

    @property
    def args(self) -> str:
        return "".join(self.pieces)
