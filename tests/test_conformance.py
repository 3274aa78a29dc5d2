"""The shared conformance suite (``../shared/conformance/check.py``): recorded provider traffic replayed
through trio_direct and compared with pydantic-ai 2.68's results, one run per provider regex.

Skipped when the shared folder is not beside the project. Add a provider by adding its regex to
:data:`PROVIDERS` (match case ids from the start: ``openai/`` must not catch ``openai-responses/``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CHECK = PROJECT.parent / "shared" / "conformance" / "check.py"

#: one check.py run per entry: (test id, --only regex)
PROVIDERS: list[tuple[str, str]] = [
    ("openai-chat+groq", r"^(openai|groq)/"),
    ("anthropic", r"^anthropic/"),
    ("mistral", r"^mistral/"),
    ("google-gla", r"^google-gla/"),
    ("openai-responses", r"^openai-responses/"),
    ("cohere", r"^cohere/"),
    ("bedrock", r"^bedrock/"),
]


@pytest.mark.skipif(not CHECK.is_file(), reason=f"{CHECK} is not present")
@pytest.mark.parametrize("regex", [regex for _, regex in PROVIDERS], ids=[name for name, _ in PROVIDERS])
def test_conformance(regex: str) -> None:
    result = subprocess.run(
        [sys.executable, str(CHECK), "--project", str(PROJECT), "--only", regex],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    summary = re.findall(r"^(\d+) passed, (\d+) failed$", result.stdout, flags=re.MULTILINE)
    assert summary, f"check.py printed no summary:\n{output[-4000:]}"
    passed, failed = map(int, summary[-1])
    print(f"conformance {regex}: {passed} passed, {failed} failed")
    assert result.returncode == 0, output[-4000:]
    assert failed == 0 and passed > 0
