"""``python -m trio_direct batch --provider-batch`` end to end: a subprocess against the fake batch server.

Includes the crash-safety claim: a CLI killed with SIGKILL after submitting leaves the job ids in its
journal, and the same command run again collects those jobs without submitting (paying for) anything twice.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.fake_batch import FakeBatchServer

ROOT = Path(__file__).resolve().parent.parent


def write_input(path: Path, n: int, *, fail: int | None = None) -> list[str]:
    ids = [f"req-{i}" for i in range(n)]
    with path.open("w") as f:
        for i, item_id in enumerate(ids):
            text = f"question {i}" + (" [fail]" if i == fail else "")
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "max_tokens": 5}
            f.write(
                json.dumps(
                    {"custom_id": item_id, "method": "POST", "url": "/v1/chat/completions", "body": body}
                )
            )
            f.write("\n")
    return ids


def command(tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trio_direct",
        "batch",
        str(tmp_path / "in.jsonl"),
        "-o",
        str(tmp_path / "out.jsonl"),
        "--provider-batch",
        "--poll-interval",
        "0.05",
        "--max-poll-interval",
        "0.1",
        "--progress",
        "none",
        *extra,
    ]


def env_for(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_BASE_URL": url + "/v1",
        "OPENAI_API_KEY": "sk-test-key-1234",
    }


def read_output(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_cli_provider_batch_writes_openai_batch_output(tmp_path: Path) -> None:
    ids = write_input(tmp_path / "in.jsonl", 12, fail=5)
    with FakeBatchServer(processing_s=0.1) as srv:
        proc = subprocess.run(
            command(tmp_path, "--max-requests-per-job", "5"),
            env=env_for(srv.url),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert srv.stats["jobs_created"] == 3
    assert proc.returncode == 1, proc.stderr  # one item failed
    lines = read_output(tmp_path / "out.jsonl")
    assert [line["custom_id"] for line in lines] == ids
    assert lines[0]["response"]["status_code"] == 200
    assert lines[0]["response"]["body"]["choices"][0]["message"]["content"] == "echo: question 0"
    assert lines[5]["response"]["status_code"] == 400
    assert "The prompt asked to fail." in json.dumps(lines[5]["response"]["body"])


def _jobs_in_journal(path: Path) -> int:
    if not path.exists():
        return 0
    try:
        with sqlite3.connect(path, timeout=1) as db:
            rows = db.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 'provider_batch:%'").fetchone()
    except sqlite3.Error:
        return 0
    return int(rows[0])


def test_cli_killed_after_submitting_resumes_polling_and_pays_once(tmp_path: Path) -> None:
    ids = write_input(tmp_path / "in.jsonl", 9)
    journal = tmp_path / "out.jsonl.journal"
    with FakeBatchServer(processing_s=3600.0) as srv:
        proc = subprocess.Popen(
            command(tmp_path, "--max-requests-per-job", "3"),
            env=env_for(srv.url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while _jobs_in_journal(journal) < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert srv.stats["jobs_created"] == 3 and not (tmp_path / "out.jsonl").exists()

        srv.finish_all()  # the provider finishes the jobs while nobody watches
        again = subprocess.run(
            command(tmp_path), env=env_for(srv.url), capture_output=True, text=True, timeout=120
        )
        assert again.returncode == 0, again.stderr
        assert srv.stats["jobs_created"] == 3  # resumed polling: nothing submitted twice
    lines = read_output(tmp_path / "out.jsonl")
    assert [line["custom_id"] for line in lines] == ids
    assert all(line["response"]["status_code"] == 200 for line in lines)


def _readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(heading)
    end = text.index("\n### ", start + 1)
    (block,) = re.findall(r"```python\n(.*?)```", text[start:end], flags=re.S)
    return block


def test_readme_provider_batch_example_runs_as_written(tmp_path: Path) -> None:
    """The README's example, against the fake batch server (fewer items, a journal in tmp_path)."""
    code = _readme_block("### Provider batch mode").replace("range(20_000)", "range(20)")
    code = code.replace('"reviews.journal"', repr(str(tmp_path / "reviews.journal")))
    with FakeBatchServer(processing_s=0.0) as srv:
        proc = subprocess.run(
            [sys.executable, "-c", code],
            env={**env_for(srv.url), "ANTHROPIC_BASE_URL": srv.url, "ANTHROPIC_API_KEY": "sk-ant-test-1234"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert srv.created_by_provider["anthropic"] == 1
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("echo: Classify review #") == 20
