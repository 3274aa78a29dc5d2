"""The package version, in a module of its own so that any module can import it without a cycle."""

from __future__ import annotations

__all__ = ["__version__"]

#: Kept equal to ``version`` in pyproject.toml (tests/test_exports.py checks it).
__version__ = "0.1.0"
