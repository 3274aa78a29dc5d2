"""Issue 12's rows on more wire shapes: a streamed tool call, and the Anthropic Messages API (stdlib only).

* ``stream_tool`` -- OpenAI Chat: one tool call whose JSON arguments arrive as N argument deltas, one SSE
  event per HTTP chunk (the fake provider's ``--tool`` shape).
* ``anthropic_nonstream`` / ``anthropic_stream`` / ``anthropic_stream_tool`` -- the non-streamed row, the
  text stream and the ``tool_use`` stream on ``POST /v1/messages``.

Every client's ``run`` hands these scenarios to its own ``run_wire``; what they share lives here: the
scenario names and the checks that a client really received what the fake sent.
"""

from __future__ import annotations

from typing import Any

from ._scenario_common import BenchmarkCheckError

#: scenario key -> (wire, streamed, tool call)
WIRE_SCENARIOS: dict[str, tuple[str, bool, bool]] = {
    "stream_tool": ("openai", True, True),
    "anthropic_nonstream": ("anthropic", False, False),
    "anthropic_stream": ("anthropic", True, False),
    "anthropic_stream_tool": ("anthropic", True, True),
}


def expected_tool_args(params: dict[str, Any]) -> str:
    """The arguments the fake's tool call streams: ``{"text":"<chunks * chunk_chars characters>"}``."""
    from .fake_provider import _cyclic_text

    return '{"text":"' + _cyclic_text(0, params["chunks"] * params["chunk_chars"]) + '"}'


def check_tool_call(tool_name: str | None, args: object, params: dict[str, Any]) -> None:
    """The client assembled the whole call: the fake's tool name and every argument fragment, in order."""
    from .fake_provider import TOOL_NAME

    if tool_name != TOOL_NAME:
        raise BenchmarkCheckError(f"expected a call of {TOOL_NAME!r}, got {tool_name!r}")
    want = expected_tool_args(params)
    if args != want:
        got = args if not isinstance(args, str) else f"{len(args)} characters ({args[:40]!r}...)"
        raise BenchmarkCheckError(f"expected tool arguments of {len(want)} characters, got {got}")
