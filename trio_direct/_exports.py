"""Public names defined in private modules show the public module they are imported from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def show_public_module(namespace: Mapping[str, object], names: Iterable[str], public: str) -> None:
    """Set ``__module__`` to ``public`` on each of ``names`` that is defined in a private module.

    As httpx does: a class or function defined in ``trio_direct._portal`` or
    ``trio_direct.models._registry`` says ``trio_direct`` / ``trio_direct.models`` in its repr, in
    tracebacks and to pickle, which is where users import it from. A name several public modules
    export keeps the first one that claims it.
    """
    for name in names:
        value = namespace[name]
        module = getattr(value, "__module__", None)
        if (
            isinstance(module, str)
            and module.startswith("trio_direct.")
            and any(part.startswith("_") for part in module.split("."))
        ):
            value.__module__ = public
