"""The OpenAI-compatible host rows of the registry, and the environment that points each at a server.

Registry-driven: a new :class:`~trio_direct.models.ChatHost` row is picked up by every test that uses
:func:`host_prefixes` and :func:`host_env`, with no test change, as long as it reads its key from
``row.key_env`` and its base URL from ``row.url_env``. Rows whose endpoint is more than
``{base URL}/{path}`` say so in :data:`BASE_SUFFIX`.
"""

from __future__ import annotations

from trio_direct.models import _registry
from trio_direct.models._registry import ChatHost, chat_host, known_prefixes

#: Variables some rows read besides their key and base URL, removed so the machine's own never leak in.
OTHER_VARS = (
    "OPENAI_API_VERSION",
    "SNOWFLAKE_ACCOUNT",
    "PAIG_API_KEY",
    "PAIG_BASE_URL",
    "VERCEL_OIDC_TOKEN",
    "DASHSCOPE_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_APP_URL",
    "OPENROUTER_APP_TITLE",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
)

#: What a row adds to the base URL it is given (``url_env``), before the API path.
BASE_SUFFIX = {
    "heroku": "/v1",  # HEROKU_INFERENCE_URL is the add-on root
    "gateway/openai": "/openai",  # the Gateway's route segment
    "gateway/openai-chat": "/openai",
    "gateway/chat": "/openai",
    "gateway/openai-responses": "/openai",
    "gateway/responses": "/openai",
}

#: A model name each row knows (anything works; these make the profiles interesting).
MODEL_NAMES = {
    "openrouter": "anthropic/claude-sonnet-4.5",
    "openrouter-responses": "openai/gpt-5",
    "deepseek": "deepseek-chat",
    "deepseek-responses": "deepseek-v4-flash",
    "zai": "glm-4.7",
    "crusoe": "zai-org/GLM-5.3",
    "snowflake": "claude-sonnet-4-6",
    "heroku": "claude-4-sonnet",
    "moonshotai": "kimi-k2.5",
    "cerebras": "llama-3.3-70b",
    "ollama": "llama3.2",
    "vllm": "Qwen/Qwen3-8B",
}


def host_prefixes() -> list[str]:
    """Every prefix whose registry row is an OpenAI-compatible host."""
    return [p for p in known_prefixes() if chat_host(p) is not None]


def host_row(prefix: str) -> ChatHost:
    row = chat_host(prefix)
    assert row is not None, prefix
    return row


def host_env(prefix: str, base_url: str, key: str) -> dict[str, str | None]:
    """The variables that point ``prefix`` at ``base_url`` with ``key`` (None: remove the variable).

    Azure gets a v1 endpoint (``…/openai/v1``), which needs no ``api-version``.
    """
    row = host_row(prefix)
    env: dict[str, str | None] = dict.fromkeys(OTHER_VARS)
    for var in row.alt_key_envs:
        env[var] = None
    env[row.key_env] = key
    env[row.url_env] = f"{base_url}/openai/v1" if row.resolve is _registry._azure_endpoint else base_url  # pyright: ignore[reportPrivateUsage]
    return env


def expected_path(prefix: str, base_path: str) -> str:
    """The request path ``prefix`` uses when :func:`host_env` gave it a base URL ending in ``base_path``."""
    row = host_row(prefix)
    if row.resolve is _registry._azure_endpoint:  # pyright: ignore[reportPrivateUsage]
        base_path += "/openai/v1"
    return f"{base_path}{BASE_SUFFIX.get(prefix, '')}/{_registry.DEFAULT_PATHS[row.api]}"
