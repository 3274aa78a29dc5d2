"""Models: the :class:`Model` base, streamed responses, and ``'provider:model'`` name resolution.

Provider modules are imported only when a name needs them, so ``import trio_direct`` stays cheap.
A new provider is one module plus one line in :data:`_REGISTRY`.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Literal, TypeAlias

from ..exceptions import UserError
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
    "EventSource",
    "HTTPModel",
    "KnownModelName",
    "Model",
    "Provider",
    "SSEEventSource",
    "StreamClosedError",
    "StreamContext",
    "StreamMapper",
    "StreamMeta",
    "StreamedResponse",
    "infer_model",
    "known_model_names",
    "known_prefixes",
    "open_event_stream",
    "register_prefix",
]

KnownModelName: TypeAlias = Literal[
    "test",
    "anthropic:claude-haiku-4-5",
    "anthropic:claude-opus-4-5",
    "anthropic:claude-opus-4-6",
    "anthropic:claude-sonnet-4-5",
    "anthropic:claude-sonnet-4-6",
    "openai:gpt-4.1",
    "openai:gpt-4.1-mini",
    "openai:gpt-4.1-nano",
    "openai:gpt-4o",
    "openai:gpt-4o-mini",
    "openai:gpt-5",
    "openai:gpt-5-mini",
    "openai:gpt-5-nano",
    "openai:o3",
    "openai:o3-mini",
    "openai:o4-mini",
    "openai-chat:gpt-4o",
    "openai-chat:gpt-4o-mini",
    "openai-chat:gpt-5",
    "groq:llama-3.3-70b-versatile",
    "groq:llama-3.1-8b-instant",
    "groq:qwen/qwen3-32b",
    "deepseek:deepseek-chat",
    "deepseek:deepseek-reasoner",
    "cerebras:llama-3.3-70b",
    "mistral:mistral-large-latest",
    "google-gla:gemini-2.5-flash",
    "google-gla:gemini-2.5-pro",
]

#: prefix -> "module:factory"; the factory is called as ``factory(model_name, prefix)`` and reads the
#: environment for keys and base URLs. Modules are imported on first use.
_REGISTRY: dict[str, str] = {
    "test": "trio_direct.models.test:from_name",
    "anthropic": "trio_direct.models.anthropic:from_name",
    "openai": "trio_direct.models.openai:from_name",
    "openai-chat": "trio_direct.models.openai:from_name",
    "openai-compatible": "trio_direct.models.openai:from_name",
    "deepseek": "trio_direct.models.openai:from_name",
    "openrouter": "trio_direct.models.openai:from_name",
    "together": "trio_direct.models.openai:from_name",
    "fireworks": "trio_direct.models.openai:from_name",
    "cerebras": "trio_direct.models.openai:from_name",
    "grok": "trio_direct.models.openai:from_name",
    "ollama": "trio_direct.models.openai:from_name",
    "groq": "trio_direct.models.groq:from_name",
    "openai-responses": "trio_direct.models.openai_responses:from_name",
    "google-gla": "trio_direct.models.google:from_name",
    "gemini": "trio_direct.models.google:from_name",
    "google": "trio_direct.models.google:from_name",
    "mistral": "trio_direct.models.mistral:from_name",
}


def register_prefix(prefix: str, target: str) -> None:
    """Add (or replace) a ``prefix`` → ``"module:factory"`` entry of the registry."""
    _REGISTRY[prefix] = target


def known_prefixes() -> list[str]:
    """Every provider prefix ``infer_model`` understands."""
    return sorted(_REGISTRY)


def known_model_names() -> list[str]:
    """The names in :data:`KnownModelName` (any model name with a known prefix works too)."""
    return list(KnownModelName.__args__)  # type: ignore[attr-defined]


def _suggest(name: str) -> str:
    """`` Did you mean '<model string>'?`` for a close, valid model string, else ``""``.

    A suggestion is always a string :func:`infer_model` resolves: a known model name close to what
    was typed (``gpt-4o`` → ``openai:gpt-4o``), or what was typed with its misspelt prefix corrected
    (``opnai:gpt-4o`` → ``openai:gpt-4o``). A bare prefix (``openai:``) is never suggested: it is not
    a model; nothing close enough means no suggestion (``nope``, ``nope:foo``).
    """
    found = _suggest_model_string(name, list(_REGISTRY), known_model_names())
    return f" Did you mean {found!r}?" if found else ""


def _suggest_model_string(typed: str, prefixes: list[str], known: list[str]) -> str | None:
    """A valid model string close to ``typed`` (see :func:`_suggest`), or None. Pure."""
    prefix, colon, model = typed.partition(":")
    if colon and model:
        close = difflib.get_close_matches(prefix, prefixes, n=1, cutoff=0.75)
        if close and close[0] != "test":
            return f"{close[0]}:{model}"
    if not colon:
        # a model name without its prefix: the known name it is (or is close to)
        by_model: dict[str, str] = {}
        for name in known:
            if ":" in name:
                by_model.setdefault(name.partition(":")[2], name)  # the first prefix listed wins
        close = difflib.get_close_matches(typed, list(by_model), n=1, cutoff=0.8)
        return by_model[close[0]] if close else None
    if not model:
        return None  # 'prefix:' with nothing after it names no model to be close to
    close = difflib.get_close_matches(typed, known, n=1, cutoff=0.8)
    return close[0] if close else None


def infer_model(model: Model | KnownModelName | str) -> Model:
    """Resolve a model name (``'provider:model'`` or ``'test'``) to a :class:`Model`; instances pass through.

    Reads API keys and base URLs from the environment (``<PROVIDER>_API_KEY``,
    ``<PROVIDER>_BASE_URL``). Does no I/O.

    Raises:
        UserError: the name has no known prefix, or the provider's API key is missing (the message
            names the variable to set).
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"expected a Model or a model name string, got {type(model).__name__}")
    if model in _REGISTRY:
        prefix, name = model, ""
    elif ":" in model:
        prefix, name = model.split(":", 1)
    else:
        raise UserError(
            f"Unknown model: {model!r}. Model names look like 'provider:model' "
            f"(prefixes: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    target = _REGISTRY.get(prefix)
    if target is None:
        raise UserError(
            f"Unknown model: {model!r}: no provider with the prefix {prefix!r} "
            f"(known: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    module_name, factory_name = target.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name)
    resolved = factory(name, prefix)
    assert isinstance(resolved, Model)
    return resolved
