"""Command line: send one prompt to a model and print the answer.

    python -m trio_direct "What is the capital of France?"    # model: $TRIO_DIRECT_MODEL, else 'test'
    python -m trio_direct --model openai:gpt-4o-mini --stream "Tell me a story"
    python -m trio_direct --model anthropic:claude-haiku-4-5 --json "hi"   # pydantic-ai JSON
    python -m trio_direct batch IN.jsonl -o OUT.jsonl --model openai:gpt-4o-mini   # many requests

Installed, the same command is the ``trio-direct`` console script. With no API key at all, the embedded
``test`` model answers (always ``success (no tool calls)``, as pydantic-ai's ``TestModel`` does when no
tools are offered), so the command always works. ``--json`` prints a message history holding the one
response, a one-element JSON list in pydantic-ai's format that ``messages_from_json`` loads as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

import trio

from .direct import model_request, model_request_stream
from .events import PartDeltaEvent, PartStartEvent, TextPartDelta
from .exceptions import TrioDirectError, UserError
from .messages import ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart
from .settings import ModelSettings

DEFAULT_MODEL_ENV = "TRIO_DIRECT_MODEL"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


class _Printer:
    """Writes streamed text and remembers whether the last line is still open."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.line_open = False

    def write(self, text: str) -> None:
        if text:
            self.stream.write(text)
            self.stream.flush()
            self.line_open = not text.endswith("\n")

    def end_line(self) -> None:
        """Finish a partial answer with a newline, so what follows (an error, the prompt) starts clean."""
        if self.line_open:
            self.stream.write("\n")
            self.stream.flush()
            self.line_open = False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m trio_direct",
        description=(
            "Send one prompt to a language model and print the response. Without an API key the "
            "'test' model answers 'success (no tool calls)'."
        ),
    )
    parser.add_argument("prompt", nargs="+", help="the user prompt")
    parser.add_argument(
        "-m",
        "--model",
        default=os.environ.get(DEFAULT_MODEL_ENV, "test"),
        help=f"'provider:model' (default: ${DEFAULT_MODEL_ENV}, else 'test', which needs no API key)",
    )
    parser.add_argument("-s", "--stream", action="store_true", help="print the answer as it arrives")
    parser.add_argument("--system", help="a system prompt")
    parser.add_argument("--instructions", help="instructions for this request")
    parser.add_argument("--max-tokens", type=int, help="maximum output tokens")
    parser.add_argument("--temperature", type=float, help="sampling temperature")
    parser.add_argument("--timeout", type=_seconds, help="total deadline in seconds")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a one-message history holding the response, as pydantic-ai's JSON list "
        "(trio_direct.serialization.messages_from_json loads it)",
    )
    return parser


def _messages(args: argparse.Namespace) -> list[ModelRequest]:
    parts: list[SystemPromptPart | UserPromptPart] = []
    if args.system:
        parts.append(SystemPromptPart(args.system))
    parts.append(UserPromptPart(" ".join(args.prompt)))
    return [ModelRequest(parts, instructions=args.instructions)]


def _settings(args: argparse.Namespace) -> ModelSettings:
    settings = ModelSettings()
    if args.max_tokens is not None:
        settings["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        settings["temperature"] = args.temperature
    return settings


async def _run(args: argparse.Namespace, printer: _Printer) -> ModelResponse:
    messages = _messages(args)
    settings = _settings(args)
    with trio.fail_after(args.timeout) if args.timeout else trio.CancelScope():
        if not args.stream:
            return await model_request(args.model, messages, model_settings=settings)
        async with model_request_stream(args.model, messages, model_settings=settings) as stream:
            async for event in stream:
                if args.json:
                    continue
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    printer.write(event.part.content)
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    printer.write(event.delta.content_delta)
            return stream.get()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 ok, 1 model error, 2 usage error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["batch"]:
        from .harness._cli import main as batch_main

        return batch_main(argv[1:])
    args = _parser().parse_args(argv)
    printer = _Printer(sys.stdout)
    try:
        response = trio.run(_run, args, printer)
    except trio.TooSlowError:
        printer.end_line()
        print(
            f"error: no complete answer within {args.timeout:g} s; raise --timeout to wait longer",
            file=sys.stderr,
        )
        return 1
    except TrioDirectError as exc:
        printer.end_line()
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UserError) else 1
    except KeyboardInterrupt:
        printer.end_line()
        return 130
    if args.json:
        from .serialization import messages_to_json

        print(messages_to_json([response]).decode())
    elif args.stream:
        print()
    else:
        print(response.text or "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
