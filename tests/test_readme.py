"""Every ```python block of README.md runs as written, so the README can never drift from the code.

Each block runs alone — a fresh interpreter with ``-W error``, its own imports only — against the bundled
fake provider (benchmarks/fake_provider.py), which the environment points the ``openai:`` and
``anthropic:`` routes at, or the keyless ``test`` model. A block passes when it exits 0 and leaves no
unraisable exception behind (an unclosed socket's ``ResourceWarning`` is one), checked after the portal
is shut down and the garbage collected. Blocks are found afresh on every run, so a section someone adds
is tested without touching this file.

A block that cannot run here is marked by an HTML comment on the line right before its fence:

* ``<!-- readme-test: needs-key -->``: it needs a real provider and API key (skipped, saying so);
* ``<!-- readme-test: skip <reason> -->``: skipped for the reason given.

Any other ``readme-test`` directive fails the test, so a typo never skips a block silently.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks.fake_provider import start_fake_provider

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
HANG = 120.0  # seconds per block; a hang guard only

_FENCE_OPEN = re.compile(r"^```\s*(?:python|py)\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<directive>[\w-]+)\s*(?P<reason>.*?)\s*-->\s*$")
_DIRECTIVES = ("needs-key", "skip")

# Runs one block in the child interpreter: the code comes on stdin, padded so that tracebacks show
# README.md line numbers. Unraisable exceptions (a ResourceWarning from a socket nobody closed, under
# -W error) are collected and fail the run after the portal has stopped and the garbage is collected.
_RUNNER = """
import gc, sys
unraisable = []
sys.unraisablehook = unraisable.append
first_line = int(sys.argv[1])
code = compile("\\n" * (first_line - 1) + sys.stdin.read(), "README.md", "exec")
namespace = {"__name__": "__main__"}
exec(code, namespace)
namespace.clear()
if "trio_direct" in sys.modules:
    sys.modules["trio_direct"].shutdown()
gc.collect()
if unraisable:
    for u in unraisable:
        print(f"unraisable: {u.exc_type.__name__}: {u.exc_value} (in {u.object!r})", file=sys.stderr)
    sys.exit(3)
"""


@attrs.frozen
class Block:
    """One ```python block: where it starts (the first code line), its code, and why to skip it."""

    line: int
    code: str
    heading: str
    skip: str | None = None

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-") or "top"
        return f"L{self.line}-{slug}"


def python_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, each with its nearest heading and skip marker.

    Raises:
        ValueError: a block is never closed, or a ``readme-test`` marker has an unknown directive.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    heading = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if not _FENCE_OPEN.match(line):
            i += 1
            continue
        skip = _skip_reason(lines[i - 1] if i > 0 else "", i)
        start = i + 1
        end = start
        while end < len(lines) and not _FENCE_CLOSE.match(lines[end]):
            end += 1
        if end == len(lines):
            raise ValueError(f"README.md:{i + 1}: a ```python block is never closed")
        blocks.append(Block(start + 1, "\n".join(lines[start:end]) + "\n", heading, skip))
        i = end + 1
    return blocks


def _skip_reason(previous: str, index: int) -> str | None:
    if "readme-test" not in previous:
        return None
    match = _MARKER.match(previous.strip())
    if match is None or match["directive"] not in _DIRECTIVES:
        raise ValueError(
            f"README.md:{index}: unknown readme-test marker {previous.strip()!r}; use "
            "<!-- readme-test: needs-key --> or <!-- readme-test: skip <reason> -->"
        )
    if match["directive"] == "needs-key":
        return "needs a real provider and API key"
    return match["reason"] or "marked skip"


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fake_provider() -> Iterator[str]:
    with start_fake_provider(chunks=8, chunk_chars=5) as base_url:
        yield base_url


def _block_env(base_url: str) -> dict[str, str]:
    """The parent's environment without provider keys or URLs, pointing OpenAI and Anthropic at the fake."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL", "_ORG_ID", "_PROJECT_ID"))
        and k not in ("TRIO_DIRECT_MODEL", "PYTHONWARNINGS")
    }
    env.update(
        OPENAI_BASE_URL=f"{base_url}/v1",
        OPENAI_API_KEY="sk-readme-test",
        ANTHROPIC_BASE_URL=base_url,
        ANTHROPIC_API_KEY="sk-ant-readme-test",
        PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    return env


def test_the_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 5, [b.id for b in BLOCKS]


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs_as_written(block: Block, fake_provider: str, tmp_path: Path) -> None:
    if block.skip is not None:
        pytest.skip(f"README.md:{block.line}: {block.skip}")
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _RUNNER, str(block.line)],
        input=block.code,
        capture_output=True,
        text=True,
        env=_block_env(fake_provider),
        cwd=tmp_path,
        timeout=HANG,
        check=False,
    )
    assert result.returncode == 0, f"README.md:{block.line} ({block.heading}) failed:\n{result.stderr}"
    assert result.stderr == "", f"README.md:{block.line} ({block.heading}) wrote to stderr:\n{result.stderr}"


# -- the extractor itself ------------------------------------------------------------------------------


def test_extractor_finds_blocks_headings_and_markers() -> None:
    text = "\n".join(
        [
            "# Title",
            "```python",
            "print(1)",
            "```",
            "## Keys",
            "<!-- readme-test: needs-key -->",
            "```python",
            "print(2)",
            "```",
            "<!-- readme-test: skip draws a window -->",
            "```py",
            "print(3)",
            "```",
            "```bash",
            "echo not python",
            "```",
        ]
    )
    assert python_blocks(text) == [
        Block(3, "print(1)\n", "Title"),
        Block(8, "print(2)\n", "Keys", "needs a real provider and API key"),
        Block(12, "print(3)\n", "Keys", "draws a window"),
    ]


# A code line: no fence (a line starting with ```), no line breaks.
_code_line = st.text(
    st.characters(
        blacklist_categories=("Cs",), blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    ),
    max_size=30,
).filter(lambda line: not line.lstrip().startswith("```") and not line.startswith("#"))
_marker = st.sampled_from([None, "needs-key", "skip"])


@given(
    st.lists(
        st.tuples(st.lists(_code_line, min_size=1, max_size=5), _marker, st.booleans()),
        max_size=6,
    )
)
def test_extractor_round_trips_any_blocks(specs: list[tuple[list[str], str | None, bool]]) -> None:
    lines: list[str] = []
    expected: list[Block] = []
    heading = ""
    for n, (code, marker, new_heading) in enumerate(specs):
        if new_heading:
            heading = f"Section {n}"
            lines.append(f"## {heading}")
        lines.append("Some prose.")
        if marker == "needs-key":
            lines.append("<!-- readme-test: needs-key -->")
        elif marker == "skip":
            lines.append(f"<!-- readme-test: skip reason {n} -->")
        lines.append("```python")
        first = len(lines) + 1
        lines.extend(code)
        lines.append("```")
        reason = {None: None, "needs-key": "needs a real provider and API key", "skip": f"reason {n}"}[marker]
        expected.append(Block(first, "\n".join(code) + "\n", heading, reason))
    assert python_blocks("\n".join(lines)) == expected


@pytest.mark.parametrize(
    "text",
    ["```python\nprint(1)\n", "<!-- readme-test: needs-kye -->\n```python\nprint(1)\n```\n"],
    ids=["unclosed", "typo-in-marker"],
)
def test_extractor_rejects_broken_markdown(text: str) -> None:
    with pytest.raises(ValueError, match=r"README\.md:\d+"):
        python_blocks(text)


def test_a_failing_block_fails(fake_provider: str, tmp_path: Path) -> None:
    # The runner really reports failures: an exception, and a socket left open for the GC to find.
    leaky = Block(1, "import socket\ns = socket.socket()\n", "leak")
    broken = Block(1, "from trio_direct import model_request_sync\nmodel_request_sync('nope:x', [])\n", "x")
    for block in (leaky, broken):
        with pytest.raises(AssertionError, match=r"README\.md:1"):
            test_readme_block_runs_as_written(block, fake_provider, tmp_path)
