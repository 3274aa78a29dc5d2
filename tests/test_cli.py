"""The command line, ``python -m trio_direct``: in a subprocess with a clean environment, and in-process.

Subprocess tests prove the installed entry point works with no API key at all; in-process tests call
``trio_direct.__main__.main([...])`` for the options and error paths. HTTP cases point ``openai:``
at the loopback server.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import trio

import trio_direct.__main__ as cli
from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import ModelResponse
from trio_direct.serialization import messages_from_json

HANG = 60.0  # subprocess hang guard only
TEST_ANSWER = "success (no tool calls)"


def completion(text: str) -> dict[str, Any]:
    """A non-streamed OpenAI Chat completion."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "gpt-4o",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def sse_chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [
            {"index": 0, "delta": {} if content is None else {"content": content}, "finish_reason": finish}
        ],
    }


def clean_env(**extra: str) -> dict[str, str]:
    """The parent's environment without any API key, base URL or default model, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL", "_ORG_ID", "_PROJECT_ID"))
        and k not in (cli.DEFAULT_MODEL_ENV, "PYTHONWARNINGS")
    }
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "trio_direct", *args],
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        cwd=cwd,
        timeout=HANG,
        check=False,
    )


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs see no API key and no default model unless a test sets one."""
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_BASE_URL")) or name == cli.DEFAULT_MODEL_ENV:
            monkeypatch.delenv(name)


@pytest.fixture
def openai_env(loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {"OPENAI_BASE_URL": f"{loopback.url}/v1", "OPENAI_API_KEY": "x"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


# -- subprocess, clean environment ------------------------------------------------------------------


def test_subprocess_prints_the_response(tmp_path: Path) -> None:
    result = run_cli("--model", "test", "hi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TEST_ANSWER + "\n"
    assert result.stderr == ""


def test_subprocess_without_model_uses_test(tmp_path: Path) -> None:
    result = run_cli("hello", "there", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == TEST_ANSWER + "\n"


def test_subprocess_stream_prints_streamed_text() -> None:
    result = run_cli("--model", "test", "--stream", "hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == TEST_ANSWER + "\n"
    assert result.stderr == ""


@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
def test_subprocess_json_loads_as_pydantic_ai_messages(stream: bool) -> None:
    result = run_cli("--model", "test", "--json", *(["--stream"] if stream else []), "hi")
    assert result.returncode == 0, result.stderr
    messages = messages_from_json(result.stdout)
    assert len(messages) == 1
    response = messages[0]
    assert isinstance(response, ModelResponse)
    assert response.text == TEST_ANSWER
    assert response.model_name == "test"
    assert response.state == "complete"
    assert response.usage.output_tokens == 4
    assert result.stdout.count("\n") == 1  # one JSON document on one line


def test_subprocess_unknown_model_exits_2_with_a_clear_message() -> None:
    result = run_cli("--model", "nope:thing", "hi")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Unknown model: 'nope:thing'" in result.stderr
    assert "Traceback" not in result.stderr


def test_subprocess_missing_key_exits_2_naming_the_variable() -> None:
    result = run_cli("--model", "anthropic:claude-haiku-4-5", "hi")
    assert result.returncode == 2
    assert "ANTHROPIC_API_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_subprocess_default_model_from_environment(loopback: LoopbackServer) -> None:
    loopback.enqueue(Reply.json(completion("from the loopback")))
    env = clean_env(
        TRIO_DIRECT_MODEL="openai:gpt-4o", OPENAI_BASE_URL=f"{loopback.url}/v1", OPENAI_API_KEY="x"
    )
    result = run_cli("hi", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "from the loopback\n"
    assert loopback.requests[0].json["model"] == "gpt-4o"


def test_subprocess_model_option_beats_environment() -> None:
    result = run_cli("--model", "test", "hi", env=clean_env(TRIO_DIRECT_MODEL="nope:env"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == TEST_ANSWER + "\n"
    result = run_cli("hi", env=clean_env(TRIO_DIRECT_MODEL="nope:env"))
    assert result.returncode == 2
    assert "'nope:env'" in result.stderr


def test_subprocess_usage_errors_exit_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "prompt" in result.stderr
    result = run_cli("--timeout", "-1", "hi")
    assert result.returncode == 2
    assert "positive number of seconds" in result.stderr


# -- in-process ---------------------------------------------------------------------------------------


def test_main_prints_the_response(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model", "test", "hi"]) == 0
    assert capsys.readouterr().out == TEST_ANSWER + "\n"


def test_main_default_model_is_test(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["hi"]) == 0
    assert capsys.readouterr().out == TEST_ANSWER + "\n"


def test_main_default_model_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(cli.DEFAULT_MODEL_ENV, "nope:from-env")
    assert cli.main(["hi"]) == 2
    assert "'nope:from-env'" in capsys.readouterr().err


def test_main_stream(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model", "test", "--stream", "hi"]) == 0
    assert capsys.readouterr().out == TEST_ANSWER + "\n"


@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
def test_main_json(stream: bool, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", *(["--stream"] if stream else []), "hi"]) == 0
    (response,) = messages_from_json(capsys.readouterr().out)
    assert isinstance(response, ModelResponse)
    assert response.text == TEST_ANSWER


def test_main_unknown_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--model", "gpt-4o-turbo-nope", "hi"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: UserError: Unknown model: 'gpt-4o-turbo-nope'")


def test_main_sends_options_to_the_model(
    loopback: LoopbackServer, openai_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply.json(completion("configured")))
    argv = [
        "--model",
        "openai:gpt-4o",
        "--system",
        "be terse",
        "--instructions",
        "answer in French",
        "--max-tokens",
        "7",
        "--temperature",
        "0.25",
        "--timeout",
        "30",
        "two",
        "words",
    ]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == "configured\n"
    body = loopback.requests[0].json
    assert body["temperature"] == 0.25
    assert 7 in (body.get("max_tokens"), body.get("max_completion_tokens"))
    contents = [m["content"] for m in body["messages"]]
    assert "two words" in contents
    assert "be terse" in contents
    assert any("answer in French" in str(c) for c in contents)


def test_main_stream_over_http(
    loopback: LoopbackServer, openai_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(
        Reply.sse(
            [sse_chunk("Hel"), sse_chunk("lo "), sse_chunk("world"), sse_chunk(finish="stop"), "data: [DONE]"]
        )
    )
    assert cli.main(["--model", "openai:gpt-4o", "--stream", "hi"]) == 0
    assert capsys.readouterr().out == "Hello world\n"


def test_main_http_error_exits_1(
    loopback: LoopbackServer, openai_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply.json({"error": {"message": "kaput", "type": "server_error"}}, status=500))
    assert cli.main(["--model", "openai:gpt-4o", "hi"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert "500" in captured.err or "kaput" in captured.err


def test_main_timeout_exits_1(
    loopback: LoopbackServer, openai_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    loopback.enqueue(Reply.of(stall()))
    assert cli.main(["--model", "openai:gpt-4o", "--timeout", "0.3", "hi"]) == 1
    assert (
        capsys.readouterr().err == "error: no complete answer within 0.3 s; raise --timeout to wait longer\n"
    )


def test_main_timeout_mid_stream_ends_the_partial_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The deadline running out after part of the answer was printed (the real deadline's message is
    # checked above); scripted so that a loaded machine cannot run it out before the first words.
    async def too_slow(args: object, printer: cli._Printer) -> ModelResponse:  # pyright: ignore[reportPrivateUsage]
        printer.write("Hel")
        printer.write("lo")
        await trio.lowlevel.checkpoint()
        raise trio.TooSlowError

    monkeypatch.setattr(cli, "_run", too_slow)
    assert cli.main(["--stream", "--timeout", "5", "hi"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Hello\n"
    assert captured.err == "error: no complete answer within 5 s; raise --timeout to wait longer\n"


def test_main_error_mid_stream_ends_the_partial_line(
    loopback: LoopbackServer, openai_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    error = {"error": {"message": "kaput mid-stream", "type": "server_error"}}
    loopback.enqueue(Reply.sse([sse_chunk("Hel"), sse_chunk("lo"), error, "data: [DONE]"]))
    assert cli.main(["--model", "openai:gpt-4o", "--stream", "hi"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "Hello\n"
    assert captured.err.startswith("error: ") and "kaput mid-stream" in captured.err


def test_main_ctrl_c_mid_stream_ends_the_partial_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async def interrupted(args: object, printer: cli._Printer) -> ModelResponse:  # pyright: ignore[reportPrivateUsage]
        printer.write("partial answ")
        await trio.lowlevel.checkpoint()
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run", interrupted)
    assert cli.main(["--stream", "hi"]) == 130
    assert capsys.readouterr().out == "partial answ\n"


def test_main_ctrl_c_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    async def interrupted(args: object, printer: object) -> ModelResponse:
        await trio.lowlevel.checkpoint()
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run", interrupted)
    assert cli.main(["hi"]) == 130
