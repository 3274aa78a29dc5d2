"""``ModelSettings['tool_choice']`` resolved into the canonical form every provider module maps.

Shared by the provider modules, as pydantic-ai's ``resolve_tool_choice`` is. Pure.
"""

from __future__ import annotations

import warnings
from typing import Literal, TypeAlias

from ..exceptions import UserError
from ..settings import ModelSettings, ToolOrOutput
from ..tools import ModelRequestParameters

__all__ = ["ResolvedToolChoice", "resolve_tool_choice"]

#: ``'none'`` / ``'auto'`` / ``'required'``, or a mode restricted to a set of tool names.
ResolvedToolChoice: TypeAlias = (
    Literal["none", "auto", "required"] | tuple[Literal["auto", "required"], frozenset[str]]
)


def _check_names(chosen: set[str], known: set[str], label: str) -> None:
    invalid = chosen - known
    if not invalid:
        return
    if invalid == chosen:
        raise UserError(
            f"Invalid tool names in `tool_choice`: {sorted(invalid)}. {label}: {sorted(known) or 'none'}"
        )
    warnings.warn(
        f"Some tools in `tool_choice` are not currently available and will be ignored: {sorted(invalid)}. "
        f"{label}: {sorted(known)}",
        UserWarning,
        stacklevel=4,
    )


def resolve_tool_choice(settings: ModelSettings, params: ModelRequestParameters) -> ResolvedToolChoice:
    """The canonical tool choice, as pydantic-ai 2.68 resolves it.

    * unset / ``'auto'`` → ``'auto'`` when text (or image) output is allowed, else ``'required'``;
    * ``'none'`` / ``[]`` → function tools off: ``'none'``, or the output tools in the right mode;
    * ``'required'`` → ``'required'`` (needs function tools);
    * a list of names → ``('required', names)``, or ``'required'`` when it names every tool;
    * ``ToolOrOutput`` → those function tools plus the output tools.

    Raises:
        UserError: the choice names no known tool, or asks for a tool when there is none.
    """
    choice = settings.get("tool_choice")
    direct_output = params.allow_text_output or params.allow_image_output
    if choice is None or choice == "auto":
        return "auto" if direct_output else "required"
    output_names = frozenset(t.name for t in params.output_tools)
    if choice == "none" or (isinstance(choice, list) and not choice):
        if output_names:
            if direct_output:
                return ("auto", output_names)
            if params.function_tools:
                return ("required", output_names)
            return "required"
        if direct_output:
            return "none"
        raise UserError("`tool_choice='none'` needs text output or output tools")
    if choice == "required":
        if not params.function_tools:
            raise UserError(
                '`tool_choice` was set to "required", but no function tools are defined. '
                'Please define function tools or change `tool_choice` to "auto" or "none".'
            )
        return "required"
    known = {t.name for t in params.function_tools} | output_names
    if isinstance(choice, list):
        chosen = set(choice)
        _check_names(chosen, known, "Known tools")
        chosen &= known
        if chosen == known:
            return "required"
        return ("required", frozenset(chosen))
    if isinstance(choice, ToolOrOutput):  # pyright: ignore[reportUnnecessaryIsInstance]
        mode: Literal["auto", "required"] = "auto" if direct_output else "required"
        if not choice.function_tools:
            return (mode, output_names) if output_names else "none"
        function_names = {t.name for t in params.function_tools}
        chosen = set(choice.function_tools)
        _check_names(chosen, function_names, "Known function tools")
        return (mode, frozenset((chosen & function_names) | output_names))
    raise UserError(f"unsupported `tool_choice` value: {choice!r}")
