"""What the raw floor sends and reads on the Anthropic Messages wire: a minimal client, plain JSON (stdlib).

The counterpart of :mod:`benchmarks._openai_wire` for ``POST /v1/messages``: the request body and headers a
hand-written client sends, the text of a non-streamed reply, and a reader that ``json.loads`` every SSE
``data:`` line and collects ``text_delta`` text or ``input_json_delta`` argument fragments.
"""

from __future__ import annotations

import json
from typing import Any

from ._openai_wire import PROMPT, TOOL_NAME, TOOL_SCHEMA

MODEL = "claude-sonnet-4-5"
MAX_TOKENS = 4096
PATH = "/v1/messages"
HEADERS = {"x-api-key": "x", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def body(*, stream: bool, tool: bool = False) -> bytes:
    """The request body, built per request with ``json.dumps`` as a hand-written client would."""
    payload: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": MAX_TOKENS,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    if tool:
        payload["tools"] = [{"name": TOOL_NAME, "input_schema": TOOL_SCHEMA}]
    if stream:
        payload["stream"] = True
    return json.dumps(payload).encode()


def reply_text(content: bytes) -> str:
    """The text of a non-streamed reply (``json.loads`` of the whole body)."""
    data = json.loads(content)
    return "".join(block["text"] for block in data["content"] if block["type"] == "text")


class StreamReader:
    """``json.loads`` per SSE ``data:`` line (``event:`` lines are skipped: the JSON names its type too).

    Text deltas and tool-input fragments each go into a list, joined once at the end; the tool block's id
    and name are kept from its ``content_block_start``.
    """

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
        event = json.loads(line[5:])
        kind = event["type"]
        if kind == "content_block_delta":
            delta = event["delta"]
            dtype = delta["type"]
            if dtype == "text_delta":
                self.pieces.append(delta["text"])
                self.deltas += 1
            elif dtype == "input_json_delta":
                self.pieces.append(delta["partial_json"])
                self.deltas += 1
        elif kind == "content_block_start":
            block = event["content_block"]
            if block["type"] == "tool_use":
                self.call_id = block["id"]
                self.tool_name = block["name"]
        elif kind == "message_stop":
            self.done = True
        elif kind == "error":
            raise RuntimeError(f"stream error: {event['error']}")

    @property
    def text(self) -> str:
        return "".join(self.pieces)
