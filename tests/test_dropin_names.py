"""Differential: every public name of pydantic-ai 2.68's direct-API modules is importable from the
matching ``trio_direct`` module, or listed with its reason in ``trio_direct.compat``."""

from __future__ import annotations

import ast
import importlib
import inspect
from types import ModuleType

import pytest

from trio_direct.compat import PYDANTIC_AI_FIELD_OMISSIONS, PYDANTIC_AI_OMISSIONS

pytest.importorskip("pydantic_ai", reason="the differential suite needs pydantic-ai-slim 2.68 (dev extra)")

MODULES = [
    "direct",
    "messages",
    "models",
    "models.test",
    "models.function",
    "models.fallback",
    "models.wrapper",
    "models.instrumented",
    "settings",
    "usage",
    "exceptions",
]


def upstream(module: str) -> ModuleType:
    return importlib.import_module(f"pydantic_ai.{module}")


def upstream_public_names(module: str) -> set[str]:
    """What 2.68's module defines at top level (classes, functions, aliases, constants) and its
    ``__all__``: the names a user imports from it, not the ones it imports itself."""
    mod = upstream(module)
    tree = ast.parse(inspect.getsource(mod))
    names: set[str] = set(getattr(mod, "__all__", ()))
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return {name for name in names if not name.startswith("_") and hasattr(mod, name)}


@pytest.mark.parametrize("module", MODULES)
def test_every_upstream_name_is_here_or_omitted_on_purpose(module: str) -> None:
    ours = importlib.import_module(f"trio_direct.{module}")
    omitted = PYDANTIC_AI_OMISSIONS.get(module, {})
    missing = sorted(n for n in upstream_public_names(module) if not hasattr(ours, n) and n not in omitted)
    assert missing == [], f"add to trio_direct.{module} or list in trio_direct.compat: {missing}"


@pytest.mark.parametrize("module", sorted(PYDANTIC_AI_OMISSIONS))
def test_omissions_are_real_and_really_omitted(module: str) -> None:
    """Each listed name is public in 2.68, absent here, and has a reason."""
    ours = importlib.import_module(f"trio_direct.{module}")
    theirs = upstream(module)
    for name, reason in PYDANTIC_AI_OMISSIONS[module].items():
        assert hasattr(theirs, name), f"pydantic_ai.{module}.{name} does not exist: drop it from the list"
        assert not hasattr(ours, name), f"trio_direct.{module}.{name} exists: drop it from the list"
        assert len(reason) > 20


def test_names_users_import_from_messages_and_models() -> None:
    """The imports the issue reports as broken, and the ``__all__`` of messages naming them."""
    import trio_direct.events
    import trio_direct.messages
    from trio_direct.messages import (  # noqa: F401 - the import is the test
        InstructionPart,
        ModelMessagesTypeAdapter,
        PartDeltaEvent,
        PartEndEvent,
        PartStartEvent,
        TextPartDelta,
    )
    from trio_direct.models import ModelRequestParameters, ToolDefinition  # noqa: F401

    assert trio_direct.messages.PartStartEvent is trio_direct.events.PartStartEvent
    assert "PartStartEvent" in dir(trio_direct.messages)
    for name in trio_direct.messages.__all__:
        assert getattr(trio_direct.messages, name) is not None
    assert trio_direct.messages.__all__ == sorted(trio_direct.messages.__all__)
    with pytest.raises(AttributeError):
        trio_direct.messages.NoSuchName  # type: ignore[attr-defined]  # noqa: B018


@pytest.mark.parametrize("module", MODULES)
def test_shared_classes_keep_upstream_field_names(module: str) -> None:
    """A class both libraries define under one name takes the same constructor keywords here (so code
    building it moves over), apart from the ones upstream marks private."""
    ours = importlib.import_module(f"trio_direct.{module}")
    theirs = upstream(module)
    import attrs

    for name in upstream_public_names(module):
        mine, their = getattr(ours, name, None), getattr(theirs, name)
        if not (inspect.isclass(mine) and attrs.has(mine) and inspect.isclass(their)):
            continue
        fields = getattr(their, "__dataclass_fields__", None)
        if fields is None:
            continue
        upstream_fields = {f for f, spec in fields.items() if not f.startswith("_") and spec.init}
        our_fields = {a.alias or a.name for a in attrs.fields(mine)} | set(inspect.signature(mine).parameters)
        omitted = PYDANTIC_AI_FIELD_OMISSIONS.get(name, (frozenset[str](), ""))[0]
        assert upstream_fields - our_fields - {"kind", "part_kind"} == omitted, name
