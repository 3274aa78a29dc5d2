"""Scenario 7: tool-call argument fragments that arrive before the tool's name (issue 11, linear work).

Pure CPU, no server: ``fragments`` nameless argument fragments of 8 bytes each go into the client's
parts manager under one vendor id, then the name arrives and the call becomes a part. Accumulating
must be linear in the bytes, so the CPU per fragment stays flat from 25,000 to 100,000 fragments; a
manager that re-copies the argument text on every fragment grows with the count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._measure import cpu

FRAGMENT = '{"k":1},'


def fragments_samples(feed: Callable[[int], object], sizes: list[int], rounds: int) -> list[dict[str, Any]]:
    """One sample per round: CPU µs per fragment at the small and the large size (``feed(n)`` does one
    whole call); linear work gives the same figure for both."""
    small, large = sizes
    feed(10)  # imports and first-call costs stay out of the figures
    samples = []
    for _ in range(rounds):
        sample: dict[str, Any] = {"sizes": sizes}
        for name, n in (("small", small), ("large", large)):
            c0 = cpu()
            feed(n)
            sample[f"fragment_cpu_us_{name}"] = (cpu() - c0) / n * 1e6
        samples.append(sample)
    return samples


def trio_direct_feed(n: int) -> object:
    from trio_direct._parts import PartsManager

    manager = PartsManager()
    for _ in range(n):
        manager.handle_tool_call_delta(vendor_part_id=0, args=FRAGMENT)
    events = manager.handle_tool_call_delta(vendor_part_id=0, tool_name="f")
    assert len(manager.get_parts()[0].args) == n * len(FRAGMENT), events  # type: ignore[union-attr, arg-type]
    return events


def pydantic_ai_feed(n: int) -> object:
    from pydantic_ai._parts_manager import ModelResponsePartsManager
    from pydantic_ai.models import ModelRequestParameters

    manager = ModelResponsePartsManager(ModelRequestParameters())
    for _ in range(n):
        manager.handle_tool_call_delta(vendor_part_id=0, args=FRAGMENT)
    return manager.handle_tool_call_delta(vendor_part_id=0, tool_name="f")
