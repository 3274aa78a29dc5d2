"""OpenAI Chat Completions, and every server that speaks it (the registry's :class:`ChatHost` rows).

The dialect itself — request body, response parsing, stream mapping, errors — is
:mod:`trio_direct.models._chat`; the per-model and per-host quirks are
:mod:`trio_direct.models._chat_profile`; the hosts are rows in :mod:`trio_direct.models._registry`.
This module is the thin part: :class:`OpenAIChatModel` plugs the dialect into
:class:`~trio_direct.models.base.HTTPModel`'s hooks, and :func:`from_host` / :func:`from_name` build one
from a registry row and the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from .. import _http  # pyright: ignore[reportPrivateUsage]
from .._exports import show_public_module as _show_public_module
from .._parts import PartsManager  # pyright: ignore[reportPrivateUsage]
from ..exceptions import UserError
from ..messages import ModelMessage, ModelResponse
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ._chat import ChatStreamMapper as ChatStreamMapper
from ._chat import build_chat_body as build_chat_body
from ._chat import chat_tool_param
from ._chat import map_chat_usage as map_chat_usage
from ._chat import openai_http_error as openai_http_error
from ._chat import parse_chat_completion as parse_chat_completion
from ._chat import stream_error as stream_error
from ._chat_profile import USAGE_DEEPSEEK as USAGE_DEEPSEEK
from ._chat_profile import ChatProfile as ChatProfile
from ._chat_profile import UsageFlavor as UsageFlavor
from ._chat_profile import deepseek_profile as deepseek_profile
from ._chat_profile import generic_profile as generic_profile
from ._chat_profile import ollama_profile as ollama_profile
from ._chat_profile import openai_model_profile as openai_model_profile
from ._chat_profile import openrouter_profile as openrouter_profile
from ._common import PLACEHOLDER_API_KEY as PLACEHOLDER_API_KEY
from ._common import ToolParamCache, bearer_headers, with_extra_headers
from ._prepare import carries_retry
from ._registry import ChatHost, chat_host
from ._retry_prepare import prepare_retry_history
from .base import HTTPModel, Provider

__all__ = [
    "ChatProfile",
    "ChatStreamMapper",
    "OpenAIChatModel",
    "UsageFlavor",
    "build_chat_body",
    "from_host",
    "from_name",
    "map_chat_usage",
    "openai_http_error",
    "openai_model_profile",
    "parse_chat_completion",
    "stream_error",
]


def from_host(host: ChatHost, model_name: str, prefix: str) -> OpenAIChatModel:
    """The model ``model_name`` on the OpenAI-compatible ``host`` (a registry row), from the environment.

    Reads ``<ENV>_API_KEY`` and ``<ENV>_BASE_URL`` for the host, or what its row's resolver reads (see
    :class:`ChatHost`). Does no I/O.

    Raises:
        UserError: the model name is empty, the API key is missing (naming the variable), a host
            without a default base URL has none, or the row speaks another API.
    """
    if not model_name:
        raise UserError(f"model name missing: use '{prefix}:<model name>'")
    if host.api != "chat":
        raise UserError(f"the {prefix!r} row speaks the {host.api!r} API, not Chat Completions")
    provider, path = host.endpoint(prefix, model_name)
    return OpenAIChatModel(
        model_name,
        provider=provider,
        profile=host.profile(model_name),
        canonical_system=host.canonical_system,
        path=path,
    )


def from_name(model_name: str, prefix: str) -> OpenAIChatModel:
    """Build the model for ``'<prefix>:<model_name>'`` when ``prefix`` is a :class:`ChatHost` row.

    Raises:
        UserError: ``prefix`` has no :class:`ChatHost` row (the message shows the row to register),
            or as :func:`from_host`.
    """
    host = chat_host(prefix)
    if host is None:
        env = prefix.upper().replace("-", "_")
        raise UserError(
            f"{prefix!r} is not an OpenAI-compatible host in the registry, so "
            f"'trio_direct.models.openai:from_name' cannot build {prefix + ':' + model_name!r}. Register "
            f"the host as a row instead: register_prefix({prefix!r}, ChatHost(name={prefix!r}, "
            f"base_url='https://.../v1', env={env!r}, profile=generic_profile)) (both from "
            "trio_direct.models); or use 'openai-compatible:<model>' with OPENAI_COMPATIBLE_BASE_URL set."
        )
    return from_host(host, model_name, prefix)


class OpenAIChatModel(HTTPModel):
    """A model spoken to over the OpenAI Chat Completions API (OpenAI or any compatible server).

    Args:
        model_name: the model as the server knows it (``'gpt-4o'``, ``'llama3.2'``).
        provider: where and how to reach it; :func:`from_name` builds one from the environment.
        profile: the model's quirks; defaults to :func:`openai_model_profile`.
        settings: default settings, under each call's.
        canonical_system: ``ModelResponse.canonical_system`` (``'openai'`` for OpenAI itself).
        path: the endpoint after the base URL, query included (Azure deployments); defaults to
            :attr:`path`.
    """

    path: str = "chat/completions"
    http_error = staticmethod(openai_http_error)

    def __init__(
        self,
        model_name: str,
        *,
        provider: Provider,
        profile: ChatProfile | None = None,
        settings: ModelSettings | None = None,
        canonical_system: str | None = None,
        path: str | None = None,
    ) -> None:
        super().__init__(model_name, provider=provider, settings=settings)
        self.profile = profile or openai_model_profile(model_name)
        #: ``ModelResponse.canonical_system``: ``'openai'`` for OpenAI itself, None for other hosts (2.68)
        self.canonical_system = canonical_system
        self._url = provider.url(path or self.path)
        base = provider.base_url
        self._provider_url = base if not self.profile.url_trailing_slash or base.endswith("/") else base + "/"
        self._headers = bearer_headers(provider)
        self._tool_param = ToolParamCache(lambda tool: chat_tool_param(tool, self.profile))

    @property
    def base_url(self) -> str:
        return self._provider_url

    def _request_headers(self, settings: ModelSettings) -> dict[str, str]:
        return with_extra_headers(self._headers, settings.get("extra_headers"))

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        """The history as this model is sent it (see :meth:`Model.prepare_messages`); one holding a retry
        also gets the steps 2.68's ``prepare_messages`` takes on Chat Completions
        (:func:`~trio_direct.models._retry_prepare.prepare_retry_history`): tool results first, and
        ``<system>`` blocks with their announcement on a model without a mid-conversation system role.

        Done here as well as when the body is built because translating the retry can leave no retry
        part behind (the framework's ``no_output`` text becomes a system prompt).
        """
        prepared = super().prepare_messages(messages, model_request_parameters)
        if carries_retry(messages):
            prepared = prepare_retry_history(
                prepared, model_request_parameters or ModelRequestParameters(), self.profile
            )
        return prepared

    def build_request(
        self,
        messages: Sequence[ModelMessage],
        settings: ModelSettings,
        params: ModelRequestParameters,
        *,
        stream: bool,
    ) -> _http.HTTPRequest:
        body = build_chat_body(
            self._model_name,
            messages,
            settings,
            params,
            self.profile,
            stream=stream,
            provider_name=self.system,
            tool_param=self._tool_param,
        )
        return _http.HTTPRequest.json(self._url, body, self._request_headers(settings))

    def parse_response(
        self,
        body: bytes,
        headers: Mapping[str, str],
        params: ModelRequestParameters,
        settings: ModelSettings,
    ) -> ModelResponse:
        return parse_chat_completion(
            body,
            profile=self.profile,
            provider_name=self.system,
            provider_url=self._provider_url,
            canonical_system=self.canonical_system,
        )

    def stream_mapper(
        self, params: ModelRequestParameters, parts: PartsManager, settings: ModelSettings
    ) -> ChatStreamMapper:
        mapper = ChatStreamMapper(
            parts,
            profile=self.profile,
            model_name=self._model_name,
            provider_name=self.system,
            provider_url=self._provider_url,
            continuous_usage=bool(settings.get("openai_continuous_usage_stats")),
        )
        if self.canonical_system is not None:
            mapper.meta = attrs.evolve(mapper.meta, canonical_system=self.canonical_system)
        return mapper


_show_public_module(globals(), __all__, __name__)
