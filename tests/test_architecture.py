"""The package's import graph, read with ``ast`` from the source: no cycles, providers as peers.

Every import counts — module level, inside functions, under ``TYPE_CHECKING``, relative or absolute —
because each one is a dependency a reader has to follow. Importing a package counts as importing its
``__init__``; ``from pkg import name`` counts as importing the submodule ``pkg.name`` when there is
one, else ``pkg`` itself.
"""

from __future__ import annotations

import ast
from pathlib import Path

import trio_direct
from trio_direct.models import _registry

PACKAGE_DIR = Path(trio_direct.__file__).parent
ROOT = "trio_direct"


def _module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in PACKAGE_DIR.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


MODULES = _module_files()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(module: str, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    if level == 0:
        return target or ""
    base = module.split(".") if _is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imports_of(module: str) -> set[str]:
    """The package modules ``module`` imports, anywhere in its source."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, node.level, node.module)
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in MODULES else source)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_the_graph_reader_sees_every_kind_of_import() -> None:
    # relative submodule, relative name, function-level, TYPE_CHECKING: all read
    assert "trio_direct.models.base" in GRAPH["trio_direct.models.openai"]
    assert "trio_direct.models._registry" in GRAPH["trio_direct.models"]
    assert (
        "trio_direct.models" in GRAPH["trio_direct.models.fallback"]
    )  # `from . import infer_model` in a function
    assert "trio_direct._http" in GRAPH["trio_direct.models.base"]  # `from .. import _http`
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def provider_modules() -> set[str]:
    """The modules the registry names as provider modules (dialects and the Chat host factory)."""
    return set(_registry.dialect_modules())


def test_the_registry_names_the_provider_modules() -> None:
    providers = provider_modules()
    assert {
        "trio_direct.models.openai",
        "trio_direct.models.anthropic",
        "trio_direct.models.google",
        "trio_direct.models.groq",
        "trio_direct.models.mistral",
        "trio_direct.models.openai_responses",
    } <= providers
    assert providers <= set(MODULES)


def test_no_provider_module_imports_another() -> None:
    providers = provider_modules()

    def owner(module: str) -> str | None:
        # a module inside a provider package belongs to that provider
        return next((p for p in providers if module == p or module.startswith(p + ".")), None)

    offences = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if (mine := owner(module)) is not None
        for target in targets
        if (theirs := owner(target)) is not None and theirs != mine
    )
    assert not offences, "provider modules import each other: " + "; ".join(offences)


def test_the_shared_layer_imports_no_provider_module() -> None:
    providers = provider_modules()
    shared = [m for m in MODULES if m.startswith("trio_direct.models._") and m not in providers]
    offences = sorted(
        f"{m} imports {t}"
        for m in shared
        for t in GRAPH[m]
        if any(t == p or t.startswith(p + ".") for p in providers)
    )
    assert not offences, "; ".join(offences)
