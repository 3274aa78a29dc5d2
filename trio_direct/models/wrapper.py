"""``WrapperModel``: a model that delegates everything to another; the base for decorating models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..messages import ModelMessage, ModelResponse
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from .base import Model, StreamContext

__all__ = ["WrapperModel"]


class WrapperModel(Model):
    """Delegates requests, streams, request preparation and identity to ``wrapped``.

    Subclass it and override what you want to change (``InstrumentedModel`` does). Attributes not
    defined here are read from the wrapped model.

    Args:
        wrapped: a :class:`Model`, or a name that :func:`~trio_direct.models.infer_model` resolves.
    """

    def __init__(self, wrapped: Model | str) -> None:
        from . import infer_model

        super().__init__()
        self.wrapped: Model = infer_model(wrapped)

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """The wrapped model's :meth:`~Model.request`.

        Cancellation:
            As the wrapped model's.
        """
        return await self.wrapped.request(messages, model_settings, model_request_parameters)

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        return self.wrapped.request_stream(messages, model_settings, model_request_parameters)

    def prepare_request(
        self, model_settings: ModelSettings | None, model_request_parameters: ModelRequestParameters | None
    ) -> tuple[ModelSettings, ModelRequestParameters]:
        return self.wrapped.prepare_request(model_settings, model_request_parameters)

    def customize_request_parameters(self, params: ModelRequestParameters) -> ModelRequestParameters:
        return self.wrapped.customize_request_parameters(params)

    def prepare_messages(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        return self.wrapped.prepare_messages(messages, model_request_parameters)

    def direct_history(
        self, messages: Sequence[ModelMessage], model_request_parameters: ModelRequestParameters | None = None
    ) -> list[ModelMessage]:
        return self.wrapped.direct_history(messages, model_request_parameters)

    @property
    def settings(self) -> ModelSettings | None:
        return self.wrapped.settings

    @property
    def model_name(self) -> str:
        return self.wrapped.model_name

    @property
    def system(self) -> str:
        return self.wrapped.system

    @property
    def model_id(self) -> str:
        return self.wrapped.model_id

    @property
    def base_url(self) -> str | None:
        return self.wrapped.base_url

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally; `wrapped` itself must not recurse while unset.
        if name == "wrapped":
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r})"
