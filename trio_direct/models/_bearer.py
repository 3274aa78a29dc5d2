"""Bearer tokens that change while a model lives: a fixed token, or a callable asked before every request.

Azure OpenAI with Microsoft Entra ID is the user: the ``openai`` SDK's ``AsyncAzureOpenAI`` takes an
``azure_ad_token`` or an ``azure_ad_token_provider`` (called on every request, sync or async) and sends
``Authorization: Bearer <token>`` instead of the ``api-key`` header. A :class:`BearerTokenSource` on a
:class:`~trio_direct.models.base.Provider` does the same for any HTTP model: the model asks it for the
header just before each request goes out (streams too, when they open).

A sync callable runs in a worker thread, so a token fetch that does network I/O (``azure-identity``'s
``get_bearer_token_provider``) never blocks the Trio loop; an async callable is awaited on the loop.
Caching and refresh are the callable's business (``azure-identity`` caches until shortly before
expiry), as they are the SDK's. The token never appears in a repr.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Final, TypeAlias

import trio

from ..exceptions import ModelAPIError, UserError

__all__ = ["BearerTokenSource", "TokenProvider"]

#: A callable returning a bearer token: sync (run in a worker thread) or async (awaited on the loop).
TokenProvider: TypeAlias = Callable[[], str | Awaitable[str]]

_AUTHORIZATION: Final = "authorization"


class BearerTokenSource:
    """A fixed bearer token or a callable asked for one before every request.

    Args:
        token: a fixed token (Azure's ``azure_ad_token``).
        provider: a callable returning a token (Azure's ``azure_ad_token_provider``); a plain function
            runs in a worker thread, a coroutine function is awaited.
        what: how errors name the source (``'azure_ad_token_provider'``).

    Raises:
        UserError: both or neither of ``token`` and ``provider`` are given, the token is empty, or the
            provider is not callable.
    """

    __slots__ = ("_is_async", "_provider", "_token", "_what")

    def __init__(
        self, *, token: str | None = None, provider: TokenProvider | None = None, what: str = "token provider"
    ) -> None:
        if (token is None) == (provider is None):
            raise UserError(f"pass exactly one of a bearer token or a token provider to the {what}")
        if token is not None and (not isinstance(token, str) or not token.strip()):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"the {what} token must be a non-empty string")
        if provider is not None and not callable(provider):
            raise UserError(f"the {what} must be a callable returning a token, got {type(provider).__name__}")
        self._token = token.strip() if token is not None else None
        self._provider = provider
        self._what = what
        self._is_async = provider is not None and (
            inspect.iscoroutinefunction(provider)
            or inspect.iscoroutinefunction(getattr(provider, "__call__", None))  # noqa: B004
        )

    def __repr__(self) -> str:
        kind = "token='***'" if self._token is not None else f"provider={_name_of(self._provider)}"
        return f"BearerTokenSource({kind})"

    async def token(self, *, model_name: str) -> str:
        """The token to send now: the fixed one, or a fresh answer from the provider.

        Raises:
            UserError: the provider returned something other than a non-empty string.
            ModelAPIError: the provider raised (its exception is the ``__cause__``; the message names
                its type and says what to check).

        Cancellation:
            An async provider is cancelled with the caller. A sync provider runs to completion in its
            worker thread first (a thread cannot be interrupted), then the cancellation is delivered.
        """
        if self._token is not None:
            return self._token
        provider = self._provider
        assert provider is not None
        try:
            if self._is_async:
                result: object = await provider()  # type: ignore[misc]
            else:
                result = await trio.to_thread.run_sync(provider)
                if inspect.isawaitable(result):
                    result = await result
        except (UserError, ModelAPIError):
            raise
        except Exception as exc:
            raise ModelAPIError(
                model_name,
                f"The {self._what} raised {type(exc).__name__} while fetching a bearer token; check the "
                "credential it uses (for Microsoft Entra ID: `az login`, the managed identity, or the "
                "service principal's environment variables).",
            ) from exc
        if isinstance(result, str):
            result = str.__str__(result)  # a str subclass cannot smuggle its own formatting in
        if not isinstance(result, str) or not result.strip():
            got = "an empty string" if isinstance(result, str) else type(result).__name__  # pyright: ignore[reportUnknownArgumentType]
            raise UserError(f"The {self._what} must return a non-empty string (the bearer token), got {got}.")
        return result.strip()

    async def authorize(self, headers: Mapping[str, str], *, model_name: str) -> dict[str, str]:
        """``headers`` with ``Authorization: Bearer <token>`` added, unless they already carry an
        ``Authorization`` header (one the caller set through ``extra_headers`` wins, as in the SDK).

        Raises:
            UserError, ModelAPIError: see :meth:`token`.

        Cancellation:
            As :meth:`token`; nothing is left behind.
        """
        if any(name.lower() == _AUTHORIZATION for name in headers):
            return dict(headers)
        return {**headers, _AUTHORIZATION: f"Bearer {await self.token(model_name=model_name)}"}


def _name_of(provider: object) -> str:
    return getattr(provider, "__qualname__", None) or type(provider).__name__
