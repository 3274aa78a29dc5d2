"""Shared pytest fixtures.  Each block says which helper module it belongs to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# --- loopback HTTP server (tests/loopback.py) -----------------------------------------------------
from tests.loopback import LoopbackServer


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started :class:`LoopbackServer`; stopped (all threads joined) after the test.

    A plain sync fixture, so it serves trio-mode async tests and sync tests alike.  Teardown raises
    if a handler or the server raised during the test (clear ``loopback.errors`` if intended).
    """
    with LoopbackServer() as srv:
        yield srv


# --- end loopback ---------------------------------------------------------------------------------
