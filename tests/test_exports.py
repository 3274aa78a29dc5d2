"""The public surface: ``__all__`` sorted, complete and importable, and the DESIGN.md contract present."""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

import trio_direct
import trio_direct.models

#: The names DESIGN.md's "Public surface" table promises at the top level.
DESIGN_TOP_LEVEL = {
    # entry points
    "model_request",
    "model_request_sync",
    "model_request_stream",
    "model_request_stream_sync",
    "StreamedResponse",
    "StreamedResponseSync",
    # messages
    "ModelRequest",
    "ModelResponse",
    "SystemPromptPart",
    "UserPromptPart",
    "ToolReturnPart",
    "RetryPromptPart",
    "TextPart",
    "ToolCallPart",
    "ThinkingPart",
    "NativeToolCallPart",
    "NativeToolReturnPart",
    "FilePart",
    "ImageUrl",
    "AudioUrl",
    "DocumentUrl",
    "VideoUrl",
    "BinaryContent",
    # events
    "PartStartEvent",
    "PartDeltaEvent",
    "PartEndEvent",
    "FinalResultEvent",
    "TextPartDelta",
    "ToolCallPartDelta",
    "ThinkingPartDelta",
    # config
    "ModelSettings",
    "ModelRequestParameters",
    "ToolDefinition",
    "RequestUsage",
    # portal
    "Portal",
    "shutdown",
    # errors
    "TrioDirectError",
    "UserError",
    "ModelHTTPError",
    "UnexpectedModelBehavior",
    "PortalClosedError",
}
DESIGN_MODELS = {"Model", "StreamedResponse", "infer_model", "KnownModelName"}
DESIGN_SERIALIZATION = {
    "messages_to_json",
    "messages_from_json",
    "messages_to_python",
    "messages_from_python",
}
OWN_MODEL_MODULES = ["test", "function", "fallback", "wrapper", "instrumented"]


def public_names(module: ModuleType, *, defined_under: str | None = None) -> set[str]:
    """Public non-module attributes; with ``defined_under``, only those defined in that package."""
    names: set[str] = set()
    for name in dir(module):
        if name.startswith("_") or name == "annotations":
            continue
        value = getattr(module, name)
        if inspect.ismodule(value):
            continue
        if defined_under is not None and not str(getattr(value, "__module__", "")).startswith(defined_under):
            continue
        names.add(name)
    return names


def check_all(module: ModuleType) -> list[str]:
    exported = list(module.__all__)
    assert exported == sorted(exported), f"{module.__name__}.__all__ is not sorted"
    assert len(exported) == len(set(exported)), f"{module.__name__}.__all__ has duplicates"
    for name in exported:
        assert not name.startswith("_"), f"{module.__name__}.__all__ exports private {name}"
        assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"
    return exported


def test_top_level_all_is_sorted_complete_and_importable() -> None:
    exported = check_all(trio_direct)
    assert public_names(trio_direct) == set(exported)
    namespace: dict[str, object] = {}
    exec("from trio_direct import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(exported)


def test_top_level_matches_the_design_table() -> None:
    missing = DESIGN_TOP_LEVEL - set(trio_direct.__all__)
    assert not missing, f"DESIGN.md promises {sorted(missing)} at the top level"
    timeouts = [
        getattr(trio_direct, n)
        for n in trio_direct.__all__
        if inspect.isclass(getattr(trio_direct, n)) and issubclass(getattr(trio_direct, n), TimeoutError)
    ]
    assert timeouts and all(issubclass(t, trio_direct.TrioDirectError) for t in timeouts)


def test_models_all() -> None:
    exported = check_all(trio_direct.models)
    assert public_names(trio_direct.models, defined_under="trio_direct.models") <= set(exported)
    assert set(exported) >= DESIGN_MODELS


@pytest.mark.parametrize("name", OWN_MODEL_MODULES)
def test_model_modules_all(name: str) -> None:
    module = importlib.import_module(f"trio_direct.models.{name}")
    exported = check_all(module)
    assert public_names(module, defined_under=module.__name__) <= set(exported)


def test_serialization_surface() -> None:
    module = importlib.import_module("trio_direct.serialization")
    assert set(check_all(module)) >= DESIGN_SERIALIZATION


def test_documented_members() -> None:
    response_members = [
        "text",
        "tool_calls",
        "usage",
        "model_name",
        "timestamp",
        "provider_name",
        "provider_response_id",
        "provider_details",
        "finish_reason",
    ]
    response = trio_direct.ModelResponse([trio_direct.TextPart("x")])
    for member in response_members:
        assert hasattr(response, member), member
    request = trio_direct.ModelRequest.user_text_prompt("hi", instructions="be brief")
    assert request.instructions == "be brief"
    for member in ["get", "usage", "model_name", "timestamp", "__aiter__", "__anext__"]:
        assert hasattr(trio_direct.StreamedResponse, member), member
    for member in [
        "get",
        "response",
        "usage",
        "model_name",
        "timestamp",
        "__iter__",
        "__enter__",
        "__exit__",
    ]:
        assert hasattr(trio_direct.StreamedResponseSync, member), member


def test_discriminators() -> None:
    assert trio_direct.ModelRequest([]).kind == "request"
    assert trio_direct.ModelResponse([]).kind == "response"
    assert trio_direct.TextPart("x").part_kind == "text"
    assert trio_direct.ToolCallPart("t").part_kind == "tool-call"
    assert trio_direct.NativeToolCallPart("t").part_kind == "builtin-tool-call"
    assert trio_direct.UserPromptPart("x").part_kind == "user-prompt"
    assert trio_direct.PartStartEvent(index=0, part=trio_direct.TextPart("")).event_kind == "part_start"
    assert trio_direct.FinalResultEvent(None, None).event_kind == "final_result"
    assert trio_direct.ToolCallPartDelta().part_delta_kind == "tool_call"
    assert trio_direct.TextPartDelta("x").part_delta_kind == "text"


def test_version_matches_pyproject() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert trio_direct.__version__ == pyproject["project"]["version"]


def test_the_message_model_writes_files_in_tool_returns_without_importing_serialization_itself() -> None:
    # messages.py writes tool-return JSON through _json, which serialization (imported by the package)
    # teaches how to write attrs values; a fresh interpreter importing only the messages module proves
    # the package import is enough.
    import subprocess
    import sys

    code = (
        "from trio_direct.messages import BinaryContent, ToolReturnPart\n"
        "part = ToolReturnPart('t', {'file': BinaryContent(b'x', media_type='image/png')})\n"
        "print(part.model_response_str())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    from trio_direct.messages import BinaryContent, ToolReturnPart

    expected = ToolReturnPart("t", {"file": BinaryContent(b"x", media_type="image/png")}).model_response_str()
    assert out.strip() == expected
    assert '"media_type":"image/png"' in expected


def _public_modules() -> list[ModuleType]:
    import pkgutil

    names = ["trio_direct"] + [
        info.name
        for info in pkgutil.walk_packages(trio_direct.__path__, "trio_direct.")
        if not any(part.startswith("_") for part in info.name.split("."))
    ]
    return [importlib.import_module(name) for name in names]


def test_public_names_show_a_public_module_they_can_be_imported_from() -> None:
    checked = 0
    for module in _public_modules():
        for name in getattr(module, "__all__", []):
            value = getattr(module, name)
            if not (inspect.isclass(value) or inspect.isfunction(value)):
                continue
            home = value.__module__
            if not home.startswith("trio_direct"):
                continue  # re-exported from elsewhere (none today)
            assert not any(part.startswith("_") for part in home.split(".")), (module.__name__, name, home)
            assert getattr(importlib.import_module(home), value.__qualname__) is value, (name, home)
            checked += 1
    assert checked > 100
    assert trio_direct.Portal.__module__ == "trio_direct"
    assert repr(trio_direct.Portal) == "<class 'trio_direct.Portal'>"
    assert trio_direct.shutdown.__module__ == trio_direct.use_http_client.__module__ == "trio_direct"


def test_the_package_import_leaves_what_a_first_request_does_not_need_for_later() -> None:
    # Import time: serialization (and cattrs), the portal and the retry layer load on first use; the
    # names are still there, with the same identity and public module.
    import subprocess
    import sys

    code = (
        "import sys, trio_direct\n"
        "lazy = ['trio_direct.serialization', 'cattrs', 'trio_direct._portal', 'trio_direct.retries']\n"
        "print([m for m in lazy if m in sys.modules])\n"
        "from trio_direct import Portal, RetryPolicy, serialization, shutdown\n"
        "import trio_direct._portal as p, trio_direct.retries as r\n"
        "print(Portal is p.Portal, shutdown is p.shutdown, RetryPolicy is r.RetryPolicy,\n"
        "      serialization is sys.modules['trio_direct.serialization'], Portal.__module__)\n"
        "print(all(n in dir(trio_direct) for n in trio_direct.__all__))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n") == ["[]", "True True True True trio_direct", "True", ""]
