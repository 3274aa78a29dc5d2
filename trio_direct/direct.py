"""The direct API: one request to a model, async or sync, whole or streamed.

The async functions run in the caller's ``trio.run``; deadlines are the caller's cancel scopes. The
sync functions run the same code on the process's Trio portal thread (see :mod:`trio_direct._portal`)
so every sync caller shares one event loop, one HTTP client and one connection pool.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .messages import ModelMessage, ModelRequest, ModelResponse
from .models import KnownModelName, Model, StreamContext, infer_model
from .settings import ModelSettings
from .tools import InstructionPart, ModelRequestParameters

__all__ = ["model_request", "model_request_stream"]


def _prepare(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    model_request_parameters: ModelRequestParameters | None,
) -> tuple[Model, list[ModelMessage], ModelRequestParameters]:
    """Resolve the model and bridge ``ModelRequest.instructions`` into the parameters.

    Only the latest request's instructions reach the model (they are not cumulative), and explicit
    ``instruction_parts`` (even ``[]``) win, as upstream.
    """
    resolved = infer_model(model)
    params = model_request_parameters or ModelRequestParameters()
    if params.instruction_parts is None:
        for message in reversed(messages):
            if isinstance(message, ModelRequest) and message.instructions is not None:
                params = attrs.evolve(params, instruction_parts=[InstructionPart(message.instructions)])
                break
    return resolved, list(messages), params


async def model_request(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: bool | None = None,
) -> ModelResponse:
    """Send one non-streamed request and return the model's response.

    Args:
        model: a :class:`Model`, or a name such as ``'openai:gpt-4o'``, ``'anthropic:claude-sonnet-4-5'``
            or ``'test'``.
        messages: the history, ending with the request to answer.
        model_settings: per-call settings, merged over the model's defaults.
        model_request_parameters: tools and output mode.
        instrument: wrap the model in OpenTelemetry instrumentation (needs ``opentelemetry-api``).

    Raises:
        UserError: unknown model name or missing API key (before any I/O).
        ModelHTTPError: the provider answered 4xx/5xx (a categorized subclass such as
            ``ModelRateLimitError``).
        ModelConnectionError: the provider could not be reached; ``ModelTimeoutError`` when an
            inactivity limit ran out.
        UnexpectedModelBehavior: the reply could not be understood.

    Cancellation:
        Use ``trio.fail_after``/``move_on_after`` around the call for a total deadline. Cancelling
        at any point leaves nothing running and discards the connection.
    """
    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    return await resolved.request(history, model_settings, params)


def model_request_stream(
    model: Model | KnownModelName | str,
    messages: Sequence[ModelMessage],
    *,
    model_settings: ModelSettings | None = None,
    model_request_parameters: ModelRequestParameters | None = None,
    instrument: bool | None = None,
) -> StreamContext:
    """Open a streamed request: ``async with model_request_stream(...) as stream: async for event in stream``.

    The model is resolved now (so a bad name or missing key raises here); the request is sent when
    the block is entered, and errors that arrive before the first chunk raise from ``async with``.

    Raises:
        UserError: unknown model name or missing API key (at call time).
        ModelHTTPError, ModelConnectionError, UnexpectedModelBehavior: from ``async with`` or from the
            iteration, unchanged (never wrapped in an exception group).

    Cancellation:
        Leaving the block — normally, by ``break``, by an exception or by cancellation — cancels the
        stream's pump task and closes the connection at once, without reading the rest. Put
        ``trio.fail_after`` around the block for a total deadline.
    """
    resolved, history, params = _prepare(model, messages, model_request_parameters)
    resolved = _instrumented(resolved, instrument)
    return resolved.request_stream(history, model_settings, params)


def _instrumented(model: Model, instrument: bool | None) -> Model:
    if not instrument:
        return model
    from .models.instrumented import instrument_model

    return instrument_model(model)
