"""The one registry: model-name prefix → how to build the model.

A row is either a :class:`Dialect` (``"module:factory"``, a module of its own that speaks a wire
protocol: Anthropic Messages, Gemini, Mistral...) or a :class:`ChatHost` (a server that speaks OpenAI
Chat Completions: data only — base URL, environment variables, profile quirks — built by
:func:`trio_direct.models.openai.from_host`). Modules are imported on first use, so
``import trio_direct`` stays cheap. Pure apart from reading the environment; no I/O.

Adding a provider
-----------------
* **An OpenAI-compatible host** is one row in :data:`_ROUTES` (or, from user code, one
  ``register_prefix('myhost', ChatHost(...))`` call)::

      "acme": ChatHost(name="acme", base_url="https://api.acme.ai/v1", env="ACME", profile=generic_profile),

  ``env="ACME"`` means the key comes from ``ACME_API_KEY`` and an override URL from ``ACME_BASE_URL``.
  ``profile`` builds the :class:`~trio_direct.models._chat_profile.ChatProfile` for a model name (write
  a new ``*_profile`` function in :mod:`._chat_profile` when the host has quirks). Add known model
  names to :data:`KnownModelName`.
* **A new dialect** is one module under ``trio_direct/models/`` built on the shared layer
  (:mod:`._json`, :mod:`._common`, :mod:`._instructions`, :mod:`._tool_choice`, and :mod:`._chat` if it
  is a Chat Completions variant) with pure request/response/stream functions, a thin
  :class:`~trio_direct.models.base.HTTPModel` subclass and a ``from_name(model_name, prefix)`` factory;
  then one ``Dialect("trio_direct.models.<module>:from_name")`` row here. It never imports another
  provider module (``tests/test_architecture.py`` checks).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Final, Literal, TypeAlias, cast

import attrs

from ..exceptions import UserError
from ._chat_profile import (
    ChatProfile,
    cerebras_profile,
    deepseek_profile,
    fireworks_profile,
    generic_profile,
    ollama_profile,
    openai_model_profile,
    openrouter_profile,
)
from ._common import PLACEHOLDER_API_KEY, env_value
from .base import Model, Provider

__all__ = [
    "CHAT_HOST_FACTORY",
    "OPENAI_HOST",
    "ChatHost",
    "Dialect",
    "KnownModelName",
    "chat_host",
    "dialect_modules",
    "infer_model",
    "known_model_names",
    "known_prefixes",
    "register_prefix",
    "suggest_model",
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
    "cohere:command-a-03-2025",
    "cohere:command-a-plus-05-2026",
    "cohere:command-a-reasoning-08-2025",
    "cohere:command-a-vision-07-2025",
    "cohere:command-r-08-2024",
    "cohere:command-r-plus-08-2024",
    "cohere:command-r7b-12-2024",
    "google-gla:gemini-2.5-flash",
    "google-gla:gemini-2.5-pro",
]

#: The factory that builds a model for a :class:`ChatHost` row.
CHAT_HOST_FACTORY: Final = "trio_direct.models.openai:from_host"


@attrs.frozen(slots=True)
class Dialect:
    """A registry row for a provider module: ``"module:factory"``, the factory called as
    ``factory(model_name, prefix)`` (it reads the environment and raises :class:`UserError` for a
    missing key)."""

    target: str

    @property
    def module(self) -> str:
        return self.target.partition(":")[0]


@attrs.frozen(slots=True, kw_only=True)
class ChatHost:
    """A registry row for a server that speaks OpenAI Chat Completions: data only.

    Args:
        name: the provider name models report (``ModelResponse.provider_name``).
        base_url: the default base URL; None when the user must give one (``<ENV>_BASE_URL``).
        env: the prefix of the ``<ENV>_API_KEY`` and ``<ENV>_BASE_URL`` variables.
        profile: builds the model's :class:`ChatProfile` from its name (the host's quirks).
        key_required: a missing key is an error (False for local servers, which get a placeholder).
        keyless_with_base_url: a key may be missing when ``<ENV>_BASE_URL`` is set (as the OpenAI SDK
            allows for a self-hosted server).
        headers: headers every request carries.
        alt_key_envs: more variables tried, in order, when ``<ENV>_API_KEY`` is unset.
        header_envs: ``(variable, header)`` pairs: the header is sent when the variable is set.
        canonical_system: ``ModelResponse.canonical_system`` (``'openai'`` for OpenAI itself).
    """

    name: str
    base_url: str | None
    env: str
    profile: Callable[[str], ChatProfile]
    key_required: bool = True
    keyless_with_base_url: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    alt_key_envs: tuple[str, ...] = ()
    header_envs: tuple[tuple[str, str], ...] = ()
    canonical_system: str | None = None

    @property
    def key_env(self) -> str:
        return f"{self.env}_API_KEY"

    @property
    def url_env(self) -> str:
        return f"{self.env}_BASE_URL"

    def provider(self, prefix: str) -> Provider:
        """The :class:`Provider` for this host from the environment.

        Raises:
            UserError: the API key is missing (naming the variable), or a host without a default has
                no base URL.
        """
        base_url = env_value(self.url_env)
        api_key = env_value(self.key_env) or next(
            (key for var in self.alt_key_envs if (key := env_value(var))), None
        )
        if base_url is None:
            if self.base_url is None:
                raise UserError(
                    f"Set the `{self.url_env}` environment variable to the server's base URL "
                    f"(for example http://localhost:8000/v1) to use the {prefix!r} provider."
                )
            base_url = self.base_url
        if api_key is None:
            keyless = not self.key_required or (
                self.keyless_with_base_url and env_value(self.url_env) is not None
            )
            if not keyless:
                raise UserError(
                    f"Set the `{self.key_env}` environment variable or pass `api_key` to use the "
                    f"{self.name!r} provider."
                )
            api_key = PLACEHOLDER_API_KEY
        extra = dict(self.headers)
        for var, header in self.header_envs:
            if value := env_value(var):
                extra[header] = value
        return Provider(self.name, base_url, api_key, extra)


#: OpenAI itself; :mod:`trio_direct.models.openai_responses` reaches the same account.
OPENAI_HOST: Final = ChatHost(
    name="openai",
    base_url="https://api.openai.com/v1",
    env="OPENAI",
    profile=openai_model_profile,
    keyless_with_base_url=True,
    header_envs=(("OPENAI_ORG_ID", "OpenAI-Organization"), ("OPENAI_PROJECT_ID", "OpenAI-Project")),
    canonical_system="openai",
)

#: prefix → row. Order does not matter; prefixes are unique.
_ROUTES: dict[str, Dialect | ChatHost] = {
    "test": Dialect("trio_direct.models.test:from_name"),
    "anthropic": Dialect("trio_direct.models.anthropic:from_name"),
    "groq": Dialect("trio_direct.models.groq:from_name"),
    "openai-responses": Dialect("trio_direct.models.openai_responses:from_name"),
    "google-gla": Dialect("trio_direct.models.google:from_name"),
    "gemini": Dialect("trio_direct.models.google:from_name"),
    "google": Dialect("trio_direct.models.google:from_name"),
    "mistral": Dialect("trio_direct.models.mistral:from_name"),
    "cohere": Dialect("trio_direct.models.cohere:from_name"),
    "bedrock": Dialect("trio_direct.models.bedrock:from_name"),
    # OpenAI Chat Completions and the servers that speak it
    "openai": OPENAI_HOST,
    "openai-chat": OPENAI_HOST,
    "deepseek": ChatHost(
        name="deepseek", base_url="https://api.deepseek.com", env="DEEPSEEK", profile=deepseek_profile
    ),
    "openrouter": ChatHost(
        name="openrouter",
        base_url="https://openrouter.ai/api/v1",
        env="OPENROUTER",
        profile=openrouter_profile,
        header_envs=(("OPENROUTER_APP_URL", "HTTP-Referer"), ("OPENROUTER_APP_TITLE", "X-Title")),
    ),
    "together": ChatHost(
        name="together", base_url="https://api.together.xyz/v1", env="TOGETHER", profile=generic_profile
    ),
    "fireworks": ChatHost(
        name="fireworks",
        base_url="https://api.fireworks.ai/inference/v1",
        env="FIREWORKS",
        profile=fireworks_profile,
    ),
    "cerebras": ChatHost(
        name="cerebras",
        base_url="https://api.cerebras.ai/v1",
        env="CEREBRAS",
        profile=cerebras_profile,
        headers=(("X-Cerebras-3rd-Party-Integration", "pydantic-ai"),),
    ),
    "grok": ChatHost(
        name="grok",
        base_url="https://api.x.ai/v1",
        env="GROK",
        profile=generic_profile,
        alt_key_envs=("XAI_API_KEY",),
    ),
    "ollama": ChatHost(
        name="ollama",
        base_url="http://localhost:11434/v1",
        env="OLLAMA",
        profile=ollama_profile,
        key_required=False,
    ),
    "openai-compatible": ChatHost(
        name="openai-compatible",
        base_url=None,
        env="OPENAI_COMPATIBLE",
        profile=generic_profile,
        key_required=False,
    ),
}


def _load(target: str) -> Callable[..., object]:
    """The callable ``"module:factory"`` names.

    Raises:
        UserError: the target is malformed, its module cannot be imported, or the name is missing or
            not callable; the message says what to pass instead.
    """
    module_name, sep, factory_name = target.partition(":")
    if not sep or not module_name or not factory_name or ":" in factory_name:
        raise UserError(
            f"registry target {target!r} is not 'module:factory' "
            "(for example 'trio_direct.models.openai:from_name'); "
            "pass a ChatHost(...) for an OpenAI-compatible server"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"registry target {target!r}: cannot import {module_name!r} ({exc})") from None
    factory = getattr(module, factory_name, None)
    if not callable(factory):
        raise UserError(
            f"registry target {target!r}: {module_name!r} has no callable {factory_name!r}; "
            "a factory is called as factory(model_name, prefix) and returns a Model"
        )
    return factory  # type: ignore[no-any-return]


def register_prefix(prefix: str, target: str | Dialect | ChatHost) -> None:
    """Add (or replace) the registry row for ``prefix``.

    ``target`` is ``"module:factory"`` (or a :class:`Dialect`) for a provider module — the factory is
    called as ``factory(model_name, prefix)`` — or a :class:`ChatHost` for a server that speaks OpenAI
    Chat Completions. A string target is imported now, so a mistake surfaces here.

    Raises:
        UserError: the prefix is empty or contains ``':'``, or the target is not an importable
            callable. (``'trio_direct.models.openai:from_name'`` is importable, but builds only the
            hosts that have a :class:`ChatHost` row: ``infer_model`` then raises a UserError showing
            the row to register.)
    """
    if not isinstance(prefix, str) or not prefix or ":" in prefix:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"a registry prefix is a non-empty string without ':', got {prefix!r}")
    row: Dialect | ChatHost
    if isinstance(target, ChatHost | Dialect):
        row = target
    elif isinstance(target, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        row = Dialect(target)
    else:
        raise UserError(
            f"register_prefix({prefix!r}, ...) takes 'module:factory', a Dialect or a ChatHost, "
            f"got {type(target).__name__}"
        )
    if isinstance(row, Dialect):
        _load(row.target)
    _ROUTES[prefix] = row


def chat_host(prefix: str) -> ChatHost | None:
    """The :class:`ChatHost` row for ``prefix``, or None when it is not an OpenAI-compatible host."""
    row = _ROUTES.get(prefix)
    return row if isinstance(row, ChatHost) else None


def dialect_modules() -> list[str]:
    """The modules the registry names (each a provider module), sorted; the Chat Completions host
    factory's module included."""
    modules = {row.module for row in _ROUTES.values() if isinstance(row, Dialect)}
    modules.add(CHAT_HOST_FACTORY.partition(":")[0])
    return sorted(modules)


def known_prefixes() -> list[str]:
    """Every provider prefix ``infer_model`` understands."""
    return sorted(_ROUTES)


def known_model_names() -> list[str]:
    """The names in :data:`KnownModelName` (any model name with a known prefix works too)."""
    return list(KnownModelName.__args__)  # type: ignore[attr-defined]


def suggest_model(prefix: str, model_name: str) -> str | None:
    """The known ``'<prefix>:<name>'`` closest to ``model_name``, for a 404 naming an unknown model."""
    wanted = f"{prefix}:{model_name}"
    known = [n for n in known_model_names() if n.startswith(f"{prefix}:")]
    close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.6)
    return close[0] if close and close[0] != wanted else None


def _suggest(name: str) -> str:
    candidates = known_model_names() + [f"{p}:" for p in _ROUTES if p != "test"]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    if not close and ":" not in name:
        close = difflib.get_close_matches(f"openai:{name}", candidates, n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def infer_model(model: Model | KnownModelName | str) -> Model:
    """Resolve a model name (``'provider:model'`` or ``'test'``) to a :class:`Model`; instances pass through.

    Reads API keys and base URLs from the environment (``<PROVIDER>_API_KEY``,
    ``<PROVIDER>_BASE_URL``). Does no I/O.

    Raises:
        UserError: the name has no known prefix, the provider's API key is missing (the message
            names the variable to set), or the prefix's registry row is broken.
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"expected a Model or a model name string, got {type(model).__name__}")
    if model in _ROUTES:
        prefix, name = model, ""
    elif ":" in model:
        prefix, name = model.split(":", 1)
    else:
        raise UserError(
            f"Unknown model: {model!r}. Model names look like 'provider:model' "
            f"(prefixes: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    row = _ROUTES.get(prefix)
    if row is None:
        raise UserError(
            f"Unknown model: {model!r}: no provider with the prefix {prefix!r} "
            f"(known: {', '.join(known_prefixes())}).{_suggest(model)}"
        )
    if isinstance(row, ChatHost):
        from_host = cast("Callable[[ChatHost, str, str], Model]", _load(CHAT_HOST_FACTORY))
        return from_host(row, name, prefix)
    resolved = _load(row.target)(name, prefix)
    if not isinstance(resolved, Model):
        raise UserError(
            f"the registry factory {row.target!r} returned {type(resolved).__name__}, not a Model"
        )
    return resolved
