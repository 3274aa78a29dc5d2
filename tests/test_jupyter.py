"""The direct API in a real Jupyter kernel: a notebook built here, executed by nbclient on ipykernel.

A notebook cell runs inside the kernel's running asyncio loop, so a top-level ``await model_request(...)``
takes the asyncio path (the portal, awaited without blocking the loop), and the sync API is called from a
thread whose asyncio loop is running. The notebook covers both entry points, streaming, early ``break``
over real HTTP (the bundled fake provider, which counts the streams its clients abandon), and concurrent
tasks. One kernel start for the whole notebook keeps the runtime modest. Skipped when the kernel
packages (the ``dev`` extra's ``nbclient``, ``nbformat``, ``ipykernel``) are not installed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.fake_provider import get_stats, start_fake_provider

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent
HANG = 120  # seconds per cell; a hang guard only

CELLS = [
    # Setup: this worktree's trio_direct, and the fake provider behind the openai: route.
    """
import asyncio, os, sys
sys.path.insert(0, {root!r})
os.environ["OPENAI_BASE_URL"] = {base_url!r} + "/v1"
os.environ["OPENAI_API_KEY"] = "sk-notebook"
import trio
import trio_direct
from trio_direct import (
    ModelRequest, PartDeltaEvent, model_request, model_request_stream, model_request_stream_sync,
    model_request_sync,
)
from trio_direct.models.function import FunctionModel
assert trio_direct.__file__.startswith({root!r}), trio_direct.__file__
asyncio.get_running_loop()  # cells run inside the kernel's asyncio loop
PROMPT = [ModelRequest.user_text_prompt("hi")]
""",
    # The async API with a top-level await.
    """
response = await model_request("test", PROMPT)
assert response.text == "success (no tool calls)", response
http_response = await model_request("openai:gpt-4o-mini", PROMPT)
assert http_response.text and http_response.model_name == "gpt-4o-mini", http_response
""",
    # The sync API from the loop's own thread.
    """
assert model_request_sync("test", PROMPT).text == "success (no tool calls)"
with model_request_stream_sync("test", PROMPT) as sync_stream:
    sync_events = list(sync_stream)
assert sync_stream.get().text == "success (no tool calls)" and sync_stream.usage.output_tokens == 4
""",
    # Streaming to the end, and the usage spelled both ways.
    """
async def words(messages, info):
    for i in range(50):
        yield f"w{{i}} "

async with model_request_stream(FunctionModel(stream_function=words), PROMPT) as stream:
    events = [event async for event in stream]
assert stream.get().text == "".join(f"w{{i}} " for i in range(50))
assert stream.get().state == "complete"
assert stream.usage() is stream.usage
""",
    # Early break over HTTP: leaving the block closes the connection (the server counts the abort).
    """
async with model_request_stream("openai:gpt-4o-mini", PROMPT) as slow:
    seen = 0
    async for event in slow:
        seen += 1
        if seen == 3:
            break
partial = slow.get()
assert partial.state != "complete" and partial.text, partial
""",
    # Early break from the sync stream too.
    """
with model_request_stream_sync("openai:gpt-4o-mini", PROMPT) as sync_slow:
    for n, event in enumerate(sync_slow, 1):
        if n == 3:
            break
assert sync_slow.get().state != "complete"
""",
    # Many tasks at once through the one portal.
    """
texts = await asyncio.gather(*(model_request("openai:gpt-4o-mini", PROMPT) for _ in range(20)))
assert len(texts) == 20 and all(r.text == http_response.text for r in texts)
""",
    # Cancellation from asyncio.
    """
async def forever(messages, info):
    await trio.sleep_forever()

try:
    async with asyncio.timeout(0.2):
        await model_request(FunctionModel(forever), PROMPT)
except TimeoutError:
    timed_out = True
assert timed_out
trio_direct.shutdown()
""",
]


@pytest.fixture(scope="module")
def slow_fake_provider() -> Iterator[str]:
    # Slow enough that a stream left after 3 events is still far from its end.
    with start_fake_provider(chunks=400, delay_ms=25, chunk_chars=3) as base_url:
        yield base_url


def _notebook(base_url: str) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(cell.format(root=str(ROOT), base_url=base_url).strip()) for cell in CELLS
    ]
    return notebook


def test_notebook_runs_the_async_and_sync_api(slow_fake_provider: str, tmp_path: Path) -> None:
    notebook = _notebook(slow_fake_provider)
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=HANG,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the cell's traceback, if any cell fails
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"cell {index} wrote to stderr: {output.get('text')}"
    # Both early exits closed their connections: the server saw two abandoned streams.
    deadline = time.monotonic() + 10
    while get_stats(slow_fake_provider)["streams_aborted"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stats = get_stats(slow_fake_provider)
    assert stats["streams_aborted"] == 2, stats
    assert stats["active_streams"] == 0, stats
