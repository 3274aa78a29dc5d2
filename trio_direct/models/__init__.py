"""Models: the :class:`Model` base, streamed responses, and ``'provider:model'`` name resolution.

Provider modules are imported only when a name needs them, so ``import trio_direct`` stays cheap.
The registry (prefix → dialect module or OpenAI-compatible host row) is
:mod:`trio_direct.models._registry`; its docstring says how to add a provider.
"""

from __future__ import annotations

from .._exports import show_public_module as _show_public_module
from ..tools import ModelRequestParameters, ToolDefinition
from ._bearer import BearerTokenSource
from ._chat_profile import generic_profile
from ._registry import (
    ChatHost,
    Dialect,
    KnownModelName,
    azure_model,
    infer_model,
    known_model_names,
    known_prefixes,
    register_prefix,
)
from .base import (
    EventSource,
    HTTPModel,
    Model,
    Provider,
    SSEEventSource,
    StreamClosedError,
    StreamContext,
    StreamedResponse,
    StreamMapper,
    StreamMeta,
    open_event_stream,
)

__all__ = [
    "BearerTokenSource",
    "ChatHost",
    "Dialect",
    "EventSource",
    "HTTPModel",
    "KnownModelName",
    "Model",
    "ModelRequestParameters",
    "Provider",
    "SSEEventSource",
    "StreamClosedError",
    "StreamContext",
    "StreamMapper",
    "StreamMeta",
    "StreamedResponse",
    "ToolDefinition",
    "azure_model",
    "generic_profile",
    "infer_model",
    "known_model_names",
    "known_prefixes",
    "open_event_stream",
    "register_prefix",
]

_show_public_module(globals(), __all__, __name__)
