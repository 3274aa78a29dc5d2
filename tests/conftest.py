"""Shared pytest fixtures.  Each block says which helper module it belongs to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.loopback import LoopbackServer

# --- hypothesis ------------------------------------------------------------------------------------
# This machine (and CI's) is a shared 2-core VM: a property test that takes 300 ms under load is not a
# bug. No per-example deadline and no "too slow" health check, here and in every test file; examples
# counts stay per test.
settings.register_profile(
    "trio_direct", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("trio_direct")
# --- end hypothesis --------------------------------------------------------------------------------

# --- loopback HTTP server (tests/loopback.py) -----------------------------------------------------


@pytest.fixture
def loopback() -> Iterator[LoopbackServer]:
    """A started :class:`LoopbackServer`; stopped (all threads joined) after the test.

    A plain sync fixture, so it serves trio-mode async tests and sync tests alike.  Teardown raises
    if a handler or the server raised during the test (clear ``loopback.errors`` if intended).
    """
    with LoopbackServer() as srv:
        yield srv


# --- end loopback ---------------------------------------------------------------------------------
