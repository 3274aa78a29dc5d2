"""``python -m trio_direct batch``: the batch file formats, the CLI end to end against the fake provider
(rate limits included), resume after SIGKILL at random points, and the live progress line on a pty.

Everything that runs the CLI runs it as a real subprocess. Assertions are on counts and ratios
(items in the output, 429s among requests), never on wall-clock times.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.fake_provider import get_stats, start_fake_provider
from trio_direct import (
    ModelHTTPError,
    ModelRateLimitError,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserError,
    UserPromptPart,
)
from trio_direct.harness import Item, Outcome
from trio_direct.harness._jsonl import outcome_to_batch_line, parse_line

ROOT = Path(__file__).resolve().parent.parent


def batch_line(custom_id: str, body: dict[str, Any], url: str = "/v1/chat/completions") -> bytes:
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": url, "body": body}).encode()


def parsed(line: bytes, model: str | None = "test") -> Item:
    _, _, item = parse_line(line, 1, model)
    assert isinstance(item, Item), item
    return item


# --- the formats ----------------------------------------------------------------------------------


def test_chat_body_maps_messages_tools_and_settings() -> None:
    body = {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {
                "role": "user",
                "content": [{"type": "text", "text": "Weather in "}, {"type": "text", "text": "Paris?"}],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "temperature": 0.2,
        "max_completion_tokens": 50,
        "stop": "END",
        "seed": 7,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "w", "schema": {"type": "object"}},
        },
    }
    item = parsed(batch_line("a", body), model=None)
    assert item.id == "a" and item.model == "openai:gpt-4o-mini"
    first, response, last = item.messages
    assert [type(p) for p in first.parts] == [SystemPromptPart, UserPromptPart]
    assert isinstance(response, ModelResponse) and isinstance(response.parts[0], ToolCallPart)
    assert isinstance(last.parts[0], ToolReturnPart) and last.parts[0].tool_name == "weather"
    assert item.model_settings == {
        "temperature": 0.2,
        "max_tokens": 50,
        "stop_sequences": ["END"],
        "seed": 7,
        "tool_choice": ["weather"],
    }
    params = item.model_request_parameters
    assert params is not None and params.function_tools[0].name == "weather"
    assert params.output_mode == "native" and params.output_object is not None
    assert params.output_object.name == "w"


def test_responses_body_maps_input_and_instructions() -> None:
    body = {
        "model": "gpt-4.1",
        "instructions": "Answer in French.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hello"}]}],
        "max_output_tokens": 30,
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}}},
    }
    item = parsed(batch_line("r", body, url="/v1/responses"), model=None)
    assert item.model == "openai-responses:gpt-4.1"
    assert item.messages[-1].instructions == "Answer in French."
    assert item.model_settings == {"max_tokens": 30}


@pytest.mark.parametrize(
    ("body", "url", "words"),
    [
        ({"messages": [{"role": "user", "content": "x"}], "n": 2}, "/v1/chat/completions", "n > 1"),
        (
            {"messages": [{"role": "user", "content": "x"}], "frobnicate": 1},
            "/v1/chat/completions",
            "'frobnicate'",
        ),
        (
            {"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}},
            "/v1/chat/completions",
            "json_object",
        ),
        ({"messages": [{"role": "function", "content": "x"}]}, "/v1/chat/completions", "role 'function'"),
        ({"messages": [{"role": "user", "content": "x"}]}, "/v1/embeddings", "not supported"),
        (
            {"messages": [{"role": "user", "content": "x"}], "tools": [{"type": "web_search"}]},
            "/v1/chat/completions",
            "only 'function'",
        ),
    ],
)
def test_unsupported_fields_fail_the_item_with_a_clear_error(
    body: dict[str, Any], url: str, words: str
) -> None:
    item_id, _, result = parse_line(batch_line("bad", body, url), 3, "test")
    assert item_id == "bad" and isinstance(result, UserError)
    assert words in str(result) and "line 3" in str(result)


def test_simple_lines_and_broken_lines() -> None:
    item = parsed(b'{"id": "s", "prompt": "hi", "system": "terse", "settings": {"temperature": 0}}')
    assert item.model == "test" and item.model_settings == {"temperature": 0}
    chat = parsed(b'{"id": "m", "messages": [{"role": "user", "content": "yo"}], "model": "openai:gpt-4o"}')
    assert chat.model == "openai:gpt-4o"
    with pytest.raises(UserError, match="not JSON"):
        parse_line(b"{nope", 9, "test")
    with pytest.raises(UserError, match="custom_id"):
        parse_line(b'{"prompt": "no id"}', 2, "test")
    _, _, no_model = parse_line(b'{"id": "x", "prompt": "hi"}', 1, None)
    assert isinstance(no_model, UserError) and "--model" in str(no_model)


def test_output_lines_follow_the_openai_batch_shape() -> None:
    response = ModelResponse([TextPart("hi")], model_name="gpt-4o", provider_response_id="chatcmpl-1")
    ok = json.loads(outcome_to_batch_line(Outcome(item_id="a", response=response), "/v1/chat/completions"))
    assert set(ok) == {"id", "custom_id", "response", "error"} and ok["error"] is None
    assert ok["response"]["status_code"] == 200 and ok["response"]["request_id"] == "chatcmpl-1"
    assert ok["response"]["body"]["choices"][0]["message"] == {"role": "assistant", "content": "hi"}
    resp = json.loads(outcome_to_batch_line(Outcome(item_id="a", response=response), "/v1/responses"))
    assert resp["response"]["body"]["output"][0]["content"][0]["text"] == "hi"
    error = ModelHTTPError.for_category(
        ModelRateLimitError, status_code=429, model_name="m", body={"error": {"message": "slow down"}}
    )
    failed = json.loads(outcome_to_batch_line(Outcome(item_id="b", error=error), "/v1/chat/completions"))
    assert (
        failed["response"]["status_code"] == 429
        and failed["response"]["body"]["error"]["message"] == "slow down"
    )
    other = json.loads(
        outcome_to_batch_line(Outcome(item_id="c", error=UserError("no")), "/v1/chat/completions")
    )
    assert other["response"] is None and other["error"] == {"code": "UserError", "message": "no"}


# --- the CLI end to end ---------------------------------------------------------------------------


def cli(*args: str, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trio_direct", "batch", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        **kw,
    )


def write_batch(path: Path, n: int) -> list[str]:
    ids = [f"req-{i}" for i in range(n)]
    with path.open("wb") as f:
        for i, item_id in enumerate(ids):
            body = {
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": f"question {i}"}],
                "max_tokens": 5,
            }
            f.write(batch_line(item_id, body) + b"\n")
    return ids


def read_output(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    with start_fake_provider(chunks=5, ttft_ms=20) as url:
        yield url


@pytest.mark.parametrize("limit", [["--rpm", "3000"], ["--tpm", "60000"]], ids=["rpm", "tpm"])
def test_cli_against_a_rate_limited_provider(tmp_path: Path, limit: list[str]) -> None:
    """The provider allows 50 req/s (or ~40 by tokens) with a 1 s burst; the client is told nothing and
    learns the budget from the headers. Every item succeeds, and 429s stay rare."""
    ids = write_batch(tmp_path / "in.jsonl", 250)
    extra = [*limit, "--burst-s", "1", "--load-latency-ms", "1"]
    with start_fake_provider(chunks=5, ttft_ms=20, extra_args=extra) as url:
        proc = cli(
            str(tmp_path / "in.jsonl"),
            "-o",
            str(tmp_path / "out.jsonl"),
            "--progress",
            "none",
            env={"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-test"},
        )
        stats = get_stats(url)
    assert proc.returncode == 0, proc.stderr
    lines = read_output(tmp_path / "out.jsonl")
    assert [line["custom_id"] for line in lines] == ids
    assert all(line["response"]["status_code"] == 200 for line in lines)
    assert lines[0]["response"]["body"]["model"] == "gpt-4o-mini"
    refused = stats["rl_refused_requests"] + stats["rl_refused_tokens"]
    assert stats["rl_admitted"] == 250
    assert refused <= 0.03 * stats["requests"], stats  # the burst, then the client keeps to the budget
    assert "250 items" in proc.stderr


def test_cli_per_item_errors_and_exit_status(tmp_path: Path, fake: str) -> None:
    lines = [
        batch_line("ok", {"messages": [{"role": "user", "content": "hi"}]}),
        batch_line("unsupported", {"messages": [{"role": "user", "content": "hi"}], "n": 3}),
        json.dumps({"id": "simple", "prompt": "hi"}).encode(),
    ]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    proc = cli(
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--model",
        "openai:gpt-4o",
        "--progress",
        "none",
        env={"OPENAI_BASE_URL": fake + "/v1", "OPENAI_API_KEY": "sk-test"},
    )
    assert proc.returncode == 1, proc.stderr  # some items failed
    out = {line["custom_id"]: line for line in read_output(tmp_path / "out.jsonl")}
    assert out["ok"]["response"]["status_code"] == 200 and out["simple"]["response"]["status_code"] == 200
    assert (
        out["unsupported"]["error"]["code"] == "UserError"
        and "n > 1" in out["unsupported"]["error"]["message"]
    )


def test_cli_usage_errors(tmp_path: Path) -> None:
    assert cli(str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "o.jsonl")).returncode == 2
    assert cli(str(tmp_path / "x.jsonl")).returncode == 2  # no -o


def test_cli_cache_and_budget(tmp_path: Path) -> None:
    ids = write_batch(tmp_path / "in.jsonl", 20)
    common = ["--model", "test", "--progress", "none", "--cache", str(tmp_path / "cache.sqlite")]
    first = cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "a.jsonl"), *common)
    assert first.returncode == 0, first.stderr
    second = cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "b.jsonl"), *common)
    assert "20 from cache" in second.stderr and "requests sent: 0" in second.stderr
    budget = cli(
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "c.jsonl"),
        "--model",
        "test",
        "--progress",
        "none",
        "--token-budget",
        "100",
        "--concurrency",
        "1",
        "--no-adaptive",
    )
    assert budget.returncode == 3 and "budget" in budget.stderr and "resume" in budget.stderr
    assert 0 < len(read_output(tmp_path / "c.jsonl")) < len(ids)
    resumed = cli(
        str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "c.jsonl"), "--model", "test", "--progress", "none"
    )
    assert resumed.returncode == 0 and [x["custom_id"] for x in read_output(tmp_path / "c.jsonl")] == ids


def test_cli_first_ctrl_c_stops_admitting_and_leaves_a_journal(tmp_path: Path) -> None:
    ids = write_batch(tmp_path / "in.jsonl", 300)
    with start_fake_provider(chunks=5, ttft_ms=100) as url:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "trio_direct",
                "batch",
                str(tmp_path / "in.jsonl"),
                "-o",
                str(tmp_path / "out.jsonl"),
                "--concurrency",
                "4",
                "--no-adaptive",
                "--progress",
                "none",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "OPENAI_BASE_URL": url + "/v1",
                "OPENAI_API_KEY": "sk-test",
            },
            stderr=subprocess.PIPE,
            text=True,
        )
        journal = tmp_path / "out.jsonl.journal"
        deadline = time.monotonic() + 60
        while not journal.exists() and time.monotonic() < deadline:  # started: the journal is open
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 3, stderr  # incomplete, resumable
        assert "interrupted" in stderr
        done = read_output(tmp_path / "out.jsonl")
        assert 0 < len(done) < 300 and all(x["response"]["status_code"] == 200 for x in done)
        again = cli(
            str(tmp_path / "in.jsonl"),
            "-o",
            str(tmp_path / "out.jsonl"),
            "--progress",
            "none",
            env={"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-test"},
        )
    assert again.returncode == 0, again.stderr
    assert [x["custom_id"] for x in read_output(tmp_path / "out.jsonl")] == ids


# --- resume after kill -9 -------------------------------------------------------------------------


def journal_count(path: Path) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM items").fetchone()[0])
    except sqlite3.OperationalError:  # killed between creating the file and its table
        return 0
    finally:
        db.close()


@pytest.mark.slow
def test_sigkill_at_random_points_then_resume_gives_every_item_exactly_once(tmp_path: Path) -> None:
    """20 trials: the job is killed with SIGKILL at a random moment (once or twice), then run to the end.
    The output must hold every item exactly once, all successful.

    The kill times are drawn over the duration of a calibration run on this machine, so they land
    across start-up, the requests and the export however loaded the machine is."""
    rng = random.Random(1234)
    n = 40
    with start_fake_provider(chunks=5, ttft_ms=60) as url:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "OPENAI_BASE_URL": url + "/v1",
            "OPENAI_API_KEY": "sk-test",
        }

        def command(work: Path) -> list[str]:
            return [
                sys.executable,
                "-m",
                "trio_direct",
                "batch",
                str(work / "in.jsonl"),
                "-o",
                str(work / "out.jsonl"),
                "--concurrency",
                "4",
                "--no-adaptive",
                "--progress",
                "none",
            ]

        calibration = tmp_path / "calibration"
        calibration.mkdir()
        write_batch(calibration / "in.jsonl", n)
        started = time.monotonic()
        subprocess.run(command(calibration), cwd=ROOT, env=env, capture_output=True, timeout=120, check=True)
        duration = time.monotonic() - started
        kills_mid_run = 0
        for trial in range(20):
            work = tmp_path / f"t{trial}"
            work.mkdir()
            ids = write_batch(work / "in.jsonl", n)
            for _ in range(rng.choice((1, 2))):
                proc = subprocess.Popen(
                    command(work), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )
                if trial < 5:
                    # aimed kills: as soon as some (not all) items are recorded, so that kills mid-run
                    # are certain whatever the machine's load does to the random ones below
                    deadline = time.monotonic() + 3 * duration + 5
                    while proc.poll() is None and time.monotonic() < deadline:
                        if 0 < journal_count(work / "out.jsonl.journal") < n:
                            break
                        time.sleep(0.005)
                else:
                    time.sleep(rng.uniform(0.0, duration))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                recorded = journal_count(work / "out.jsonl.journal")
                kills_mid_run += proc.returncode == -signal.SIGKILL and 0 < recorded < n
            final = subprocess.run(
                command(work), cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert final.returncode == 0, final.stderr
            out = read_output(work / "out.jsonl")
            assert [line["custom_id"] for line in out] == ids, f"trial {trial}"
            assert all(line["response"]["status_code"] == 200 for line in out)
            assert journal_count(work / "out.jsonl.journal") == n
    assert kills_mid_run >= 3, kills_mid_run  # some kills did land among the requests


# --- the live line through a pseudo-terminal ------------------------------------------------------


def test_live_progress_line_on_a_pty(tmp_path: Path) -> None:
    write_batch(tmp_path / "in.jsonl", 60)
    with start_fake_provider(chunks=5, ttft_ms=50) as url:
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "trio_direct",
                    "batch",
                    str(tmp_path / "in.jsonl"),
                    "-o",
                    str(tmp_path / "out.jsonl"),
                    "--concurrency",
                    "4",
                    "--no-adaptive",
                    "--progress-interval",
                    "0.05",
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "PYTHONPATH": str(ROOT),
                    "OPENAI_BASE_URL": url + "/v1",
                    "OPENAI_API_KEY": "sk-test",
                },
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=slave,
            )
            os.close(slave)
            chunks: list[bytes] = []
            while True:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            assert proc.wait(timeout=120) == 0
        finally:
            os.close(master)
    text = b"".join(chunks).decode()
    # The terminal turns "\n" into "\r\n", so the summary's lines split on "\r" too: keep the line's.
    redraws = [part for part in text.split("\r") if " | ok " in part]
    # 60 items, 4 at a time, 50 ms each: at least 0.75 s of run, redrawn every 0.05 s.
    assert len(redraws) >= 3, text
    assert all(part.endswith("\x1b[K") or part.endswith("\x1b[K\n") for part in redraws), text
    final = next(part for part in reversed(redraws) if part.startswith("60/60"))
    assert "ok 60" in final and "limit 4" in final and "req/s" in final
    assert "60 items in" in text  # the summary follows the line


def test_progress_off_a_terminal_is_log_lines(tmp_path: Path) -> None:
    write_batch(tmp_path / "in.jsonl", 5)
    proc = cli(str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "out.jsonl"), "--model", "test")
    assert proc.returncode == 0
    assert "\r" not in proc.stderr and "progress: 5/5 | ok 5" in proc.stderr


def test_cli_second_ctrl_c_cancels_in_flight_requests(tmp_path: Path) -> None:
    ids = write_batch(tmp_path / "in.jsonl", 100)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "sk-test"}
    with start_fake_provider(chunks=5, ttft_ms=3_000) as url:  # every request takes 3 s
        env["OPENAI_BASE_URL"] = url + "/v1"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "trio_direct",
                "batch",
                str(tmp_path / "in.jsonl"),
                "-o",
                str(tmp_path / "out.jsonl"),
                "--concurrency",
                "4",
                "--no-adaptive",
                "--progress",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while get_stats(url)["requests"] < 4 and time.monotonic() < deadline:  # four in flight
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert read_output(tmp_path / "out.jsonl") == []  # nothing had finished; nothing half-written
        stats = get_stats(url)
        assert stats["requests"] == 4
    with start_fake_provider(chunks=5) as url:
        again = cli(
            str(tmp_path / "in.jsonl"),
            "-o",
            str(tmp_path / "out.jsonl"),
            "--progress",
            "none",
            env={"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "sk-test"},
        )
    assert again.returncode == 0, again.stderr
    assert [x["custom_id"] for x in read_output(tmp_path / "out.jsonl")] == ids
