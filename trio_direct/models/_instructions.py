"""Which instructions a request carries: one rule, used by :mod:`trio_direct.direct` and every model.

Pure; no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..messages import ModelMessage, ModelRequest
from ..tools import InstructionPart, ModelRequestParameters
from ._common import prompted_output_instructions

__all__ = ["choose_instructions", "request_instructions", "with_instructions"]


def choose_instructions(
    messages: Sequence[ModelMessage], params: ModelRequestParameters | None
) -> list[InstructionPart] | None:
    """The instruction parts in force for the request that ends ``messages``.

    The rule pydantic-ai 2.68's direct API follows (``pydantic_ai.direct._ensure_instruction_parts``,
    applied before every ``model_request*`` call):

    1. ``params.instruction_parts``, when set, win — even ``[]``, which means "no instructions"
       (an agent always sets them).
    2. Otherwise the ``instructions`` of the most recent :class:`ModelRequest` in ``messages`` that has
       any — the latest request's own, or, when it has none (a tool-return or retry request, a new
       turn written without them), the nearest earlier request's. Instructions are not cumulative:
       only that one request's text applies.
    3. Otherwise none.

    2.68's bare ``Model.request`` falls back to a narrower rule when no parameters carry parts (the
    latest request, or the one before it only when the latest answers tool calls), so in 2.68 the two
    entry points can disagree. trio_direct applies this one rule on both paths, and the request bodies
    2.68's direct API produced (``tests/data`` captures such as ``compaction_trim``) pin it.

    Returns None for "no instructions" (never an empty list).
    """
    if params is not None and params.instruction_parts is not None:
        return list(params.instruction_parts) or None
    for message in reversed(messages):
        if isinstance(message, ModelRequest) and message.instructions is not None:
            return [InstructionPart(message.instructions)]
    return None


def with_instructions(
    messages: Sequence[ModelMessage], params: ModelRequestParameters
) -> ModelRequestParameters:
    """``params`` with :func:`choose_instructions`' answer as explicit ``instruction_parts``.

    Unchanged when the parameters already carry parts, or when no instructions are in force (so a
    model given the result applies the same rule and reaches the same answer).
    """
    if params.instruction_parts is not None:
        return params
    chosen = choose_instructions(messages, params)
    return params if chosen is None else attrs.evolve(params, instruction_parts=chosen)


def request_instructions(
    messages: Sequence[ModelMessage],
    params: ModelRequestParameters,
    *,
    output_schema: Mapping[str, Any] | None = None,
) -> list[InstructionPart]:
    """What a provider sends as instructions: :func:`choose_instructions`, plus prompted output's.

    With ``output_mode='prompted'`` (and a template that is not ``False``) the instruction asking for
    JSON matching the output schema is added — ``output_schema`` replaces the output's own schema for
    a provider that sends its transform of it — and the parts are put in their sending order.
    """
    parts = choose_instructions(messages, params) or []
    if (
        params.output_mode == "prompted"
        and params.output_object is not None
        and params.prompted_output_template is not False
    ):
        parts.append(
            InstructionPart(
                prompted_output_instructions(
                    params.output_object, params.prompted_output_template, output_schema
                )
            )
        )
        parts = InstructionPart.sorted(parts)
    return parts
