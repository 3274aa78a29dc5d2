"""The benchmark harness runs end to end: every scenario once for trio_direct and the raw floor, tiny sizes.

No thresholds: figures from a loaded test machine mean nothing. This catches a harness that no longer
runs (a renamed API, a worker that crashes) before a real benchmark run does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_benchmarks_smoke_run(tmp_path: Path) -> None:
    json_out = tmp_path / "results.jsonl"
    md_out = tmp_path / "table.md"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--smoke",
            "--clients",
            "trio_direct,floor",
            "--json-out",
            str(json_out),
            "--markdown-out",
            str(md_out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,  # a hang guard, not a figure: the smoke run takes ~80 s alone, more on a loaded machine
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [json.loads(line) for line in json_out.read_text().splitlines()]
    assert "machine" in lines[0]
    records = lines[1:]
    scenarios = {r["scenario"] for r in records}
    assert {"import", "nonstream", "stream", "concurrent", "early_exit"} <= scenarios
    assert not [r for r in records if "error" in r["result"]]
    ran = [r for r in records if r["client"] == "trio_direct" and "na" not in r["result"]]
    assert {"nonstream", "stream", "concurrent"} <= {r["scenario"] for r in ran}
    # the tool-call argument stream and the Anthropic wire (their checks compare the whole call / text)
    wires = {"stream_tool", "anthropic_nonstream", "anthropic_stream", "anthropic_stream_tool"}
    assert wires <= {r["scenario"] for r in ran}
    assert wires <= {r["scenario"] for r in records if r["client"] == "floor" and "na" not in r["result"]}
    table = md_out.read_text()
    assert "| scenario | trio_direct | floor (httpx) |" in table
    assert "non-streamed, CPU / request" in table
    assert "| tool-call arguments streamed (60 deltas), CPU / delta |" in table  # labels carry the sizes
    assert "| Anthropic streamed (60 deltas), CPU / delta |" in table
