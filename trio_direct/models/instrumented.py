"""OpenTelemetry instrumentation: one ``chat <model>`` CLIENT span per request, as pydantic-ai emits.

Needs ``opentelemetry-api`` (``pip install 'trio_direct[otel]'``); it is imported only when an
:class:`InstrumentationSettings` is built, so ``import trio_direct`` never pulls it in. Spans follow
pydantic-ai's instrumentation format version 5 (the GenAI semantic conventions): request attributes
when the span opens, the input/output messages, usage and response attributes when it finishes, and
token-usage / time-to-first-chunk metrics after it ends.

Span attributes are built from messages, settings and parameters only: request headers (and so API
keys) never reach a span.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast
from urllib.parse import urlparse

import attrs
import orjson

from .._version import __version__
from ..exceptions import UserError
from ..messages import (
    AudioUrl,
    BinaryContent,
    CachePoint,
    CompactionPart,
    DocumentUrl,
    FilePart,
    ImageUrl,
    ModelMessage,
    ModelRequest,
    ModelRequestPart,
    ModelResponse,
    ModelResponsePart,
    NativeToolCallPart,
    NativeToolReturnPart,
    RetryFeedbackPart,
    RetryPromptPart,
    SpeechPart,
    SystemPromptPart,
    TextContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolReturnPart,
    UploadedFile,
    UserPromptPart,
    VideoUrl,
)
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ..usage import RequestUsage
from .base import Model, StreamContext, StreamedResponse
from .function import get_instructions
from .wrapper import WrapperModel

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, TracerProvider
    from opentelemetry.util.types import AttributeValue

__all__ = ["InstrumentationSettings", "InstrumentedModel", "instrument_model", "note_answering_model"]

#: The instrumentation scope of spans and metrics: pydantic-ai's, so dashboards built for its spans work.
SCOPE_NAME: Final = "pydantic-ai"

_MODEL_SETTING_ATTRIBUTES: Final = (
    "max_tokens",
    "top_p",
    "seed",
    "temperature",
    "presence_penalty",
    "frequency_penalty",
)

Attributes: TypeAlias = "dict[str, AttributeValue]"


def _import_otel() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise UserError(
            "instrumentation needs OpenTelemetry: `pip install opentelemetry-api` "
            "(or `pip install 'trio_direct[otel]'`), plus an SDK or Logfire to export the spans"
        ) from None
    return trace


def instrument_model(model: Model, instrument: InstrumentationSettings | bool = True) -> Model:
    """``model`` wrapped in an :class:`InstrumentedModel` (unless ``instrument`` is false or it is one).

    Raises:
        UserError: ``opentelemetry-api`` is not installed.
    """
    if not instrument or isinstance(model, InstrumentedModel):
        return model
    settings = instrument if isinstance(instrument, InstrumentationSettings) else InstrumentationSettings()
    return InstrumentedModel(model, settings)


class InstrumentationSettings:
    """How requests are instrumented.

    Args:
        tracer_provider: defaults to OpenTelemetry's global tracer provider.
        meter_provider: defaults to OpenTelemetry's global meter provider.
        include_binary_content: record file bytes (base64) of messages; the media type is recorded either way.
        include_content: record prompts, completions, tool arguments and results; False keeps only
            the structure (part types, ids, tool names).
        include_model_request_parameters: record the ``model_request_parameters`` attribute (the tool
            and output definitions as JSON).
        version: pydantic-ai's instrumentation format: 5 (the default) or 6 (tool results in
            messages with role ``tool``).
        use_aggregated_usage_attribute_names: name usage on spans that sum many requests
            ``gen_ai.aggregated_usage.*`` (see :meth:`aggregated_usage_attributes`); the direct API's
            own ``chat`` spans always use ``gen_ai.usage.*``.

    Raises:
        UserError: ``opentelemetry-api`` is not installed.
        ValueError: an unsupported ``version``.
    """

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        include_binary_content: bool = True,
        include_content: bool = True,
        include_model_request_parameters: bool = True,
        version: Literal[5, 6] = 5,
        use_aggregated_usage_attribute_names: bool = True,
    ) -> None:
        _import_otel()
        from opentelemetry.metrics import get_meter_provider
        from opentelemetry.trace import get_tracer_provider

        if version not in (5, 6):
            raise ValueError("trio_direct supports instrumentation format versions 5 and 6")
        self.version = version
        self.include_binary_content = include_binary_content
        self.include_content = include_content
        self.include_model_request_parameters = include_model_request_parameters
        self.use_aggregated_usage_attribute_names = use_aggregated_usage_attribute_names
        self.tracer = (tracer_provider or get_tracer_provider()).get_tracer(SCOPE_NAME, __version__)
        self.meter = (meter_provider or get_meter_provider()).get_meter(SCOPE_NAME, __version__)
        self.tokens_histogram: Histogram = self.meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            description="Measures number of input and output tokens used",
        )
        self.cost_histogram: Histogram = self.meter.create_histogram(
            "operation.cost", unit="{USD}", description="Monetary cost"
        )
        self.time_to_first_chunk_histogram: Histogram = self.meter.create_histogram(
            "gen_ai.client.operation.time_to_first_chunk",
            unit="s",
            description="Time from issuing a streaming request to the first chunk surfacing to the consumer",
        )

    def aggregated_usage_attributes(self, usage: RequestUsage) -> dict[str, int]:
        """Usage attributes for a span that sums many requests (a run or session span you open): the
        ``gen_ai.usage.*`` names become ``gen_ai.aggregated_usage.*`` when
        ``use_aggregated_usage_attribute_names`` is set (the default, as in 2.68), so a backend that sums
        span attributes does not count the requests' ``chat`` spans twice."""
        attributes = usage.opentelemetry_attributes()
        if not self.use_aggregated_usage_attribute_names:
            return attributes
        return {
            key.replace("gen_ai.usage.", "gen_ai.aggregated_usage.", 1): value
            for key, value in attributes.items()
        }

    # -- messages as GenAI JSON --------------------------------------------------------------------

    def messages_to_otel_messages(self, messages: Sequence[ModelMessage]) -> list[dict[str, Any]]:
        """The messages in the GenAI semantic-convention shape: ``[{"role", "parts": [...]}, ...]``."""
        result: list[dict[str, Any]] = []
        for message in messages:
            if isinstance(message, ModelRequest):
                for role, group in itertools.groupby(message.parts, key=self._role):
                    parts: list[dict[str, Any]] = []
                    for part in group:
                        parts += self._request_part(part)
                    result.append({"role": role, "parts": parts})
            else:
                result.append(self._response_message(message))
        return result

    def _role(self, part: ModelRequestPart) -> str:
        if isinstance(part, SystemPromptPart):
            return "system"
        answers_a_call = isinstance(part, ToolReturnPart) or (
            isinstance(part, RetryPromptPart) and part.tool_name is not None
        )
        if self.version >= 6 and answers_a_call:
            return "tool"
        return "user"

    def _text(self, content: str) -> dict[str, Any]:
        return {"type": "text", "content": content} if self.include_content else {"type": "text"}

    def _blob(self, content: BinaryContent) -> dict[str, Any]:
        part: dict[str, Any] = {"type": "blob", "mime_type": content.media_type}
        if (modality := _modality(content.media_type)) is not None:
            part["modality"] = modality
        if self.include_content and self.include_binary_content:
            part["content"] = content.base64
        return part

    def _request_part(self, part: ModelRequestPart) -> list[dict[str, Any]]:
        if isinstance(part, SystemPromptPart):
            return [self._text(part.content)]
        if isinstance(part, UserPromptPart):
            items = [part.content] if isinstance(part.content, str) else part.content
            out: list[dict[str, Any]] = []
            for item in items:
                if isinstance(item, str):
                    out.append(self._text(item))
                elif isinstance(item, TextContent):
                    out.append(self._text(item.content))
                elif isinstance(item, ImageUrl | AudioUrl | DocumentUrl | VideoUrl):
                    uri: dict[str, Any] = {"type": "uri"}
                    if (modality := _URL_MODALITY.get(item.kind)) is not None:
                        uri["modality"] = modality
                    try:
                        uri["mime_type"] = item.media_type
                    except ValueError:
                        pass
                    if self.include_content:
                        uri["uri"] = item.url
                    out.append(uri)
                elif isinstance(item, BinaryContent):
                    out.append(self._blob(item))
                elif isinstance(item, UploadedFile):
                    file: dict[str, Any] = {"type": "file", "mime_type": item.media_type}
                    category = item.media_type.split("/", 1)[0]
                    if category in ("image", "audio", "video"):
                        file["modality"] = category
                    if self.include_content:
                        file["file_id"] = item.file_id
                    out.append(file)
                elif isinstance(item, CachePoint):  # pyright: ignore[reportUnnecessaryIsInstance]
                    continue  # a marker, not content
            return out
        if isinstance(part, ToolReturnPart):
            response = _call_response(part.tool_call_id, part.tool_name)
            if self.include_content and part.content is not None:
                response["result"] = self._jsonable(part.content)
            return [response]
        if isinstance(part, RetryFeedbackPart):
            return [self._text(part.model_response())]
        if isinstance(part, SpeechPart):
            return self._speech(part)
        if isinstance(part, CompactionPart):
            return [self._text(part.content)] if part.content else []
        # RetryPromptPart
        if part.tool_name is None:
            return [self._text(part.model_response())]
        retry = _call_response(part.tool_call_id, part.tool_name)
        if self.include_content:
            retry["result"] = part.model_response()
        return [retry]

    def _speech(self, part: SpeechPart) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if part.transcript is not None:
            parts.append(self._text(part.transcript))
        if part.audio is not None:
            parts.append(self._blob(part.audio))
        return parts

    def response_to_otel(self, response: ModelResponse) -> list[dict[str, Any]]:
        """A response's parts as the GenAI message parts these settings record (what
        ``response.otel_message_parts(settings)`` returns)."""
        parts: list[dict[str, Any]] = self._response_message(response)["parts"]
        return parts

    def part_to_otel(self, part: ModelRequestPart | ModelResponsePart) -> list[dict[str, Any]]:
        """One message part as the GenAI message parts these settings record (what a part's
        ``otel_message_parts(settings)`` returns)."""
        if isinstance(
            part, SystemPromptPart | UserPromptPart | ToolReturnPart | RetryPromptPart | RetryFeedbackPart
        ):
            return self._request_part(part)
        if isinstance(part, SpeechPart):
            return self._speech(part)
        if isinstance(part, CompactionPart):
            return [self._text(part.content)] if part.content else []
        message = self._response_message(ModelResponse([part]))
        parts: list[dict[str, Any]] = message["parts"]
        return parts

    def _response_message(self, message: ModelResponse) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        for part in message.parts:
            if isinstance(part, TextPart):
                parts.append(self._text(part.content))
            elif isinstance(part, ThinkingPart):
                thinking: dict[str, Any] = {"type": "thinking"}
                if self.include_content:
                    thinking["content"] = part.content
                parts.append(thinking)
            elif isinstance(part, FilePart):
                parts.append(self._blob(part.content))
            elif isinstance(part, ToolCallPart | NativeToolCallPart):
                call: dict[str, Any] = {"type": "tool_call", "id": part.tool_call_id, "name": part.tool_name}
                if isinstance(part, NativeToolCallPart):
                    call["builtin"] = True
                if self.include_content and part.args is not None:
                    call["arguments"] = part.args if isinstance(part.args, str) else self._jsonable(part.args)
                parts.append(call)
            elif isinstance(part, SpeechPart):
                parts += self._speech(part)
            elif isinstance(part, NativeToolReturnPart):
                returned = _call_response(part.tool_call_id, part.tool_name)
                returned["builtin"] = True
                if self.include_content and part.content is not None:
                    returned["result"] = self._jsonable(part.content)
                parts.append(returned)
            # compaction parts have no GenAI shape: left out, as upstream
        result: dict[str, Any] = {"role": "assistant", "parts": parts}
        if message.finish_reason is not None:
            result["finish_reason"] = message.finish_reason
        return result

    def _jsonable(self, value: Any) -> Any:
        return orjson.loads(orjson.dumps(value, default=self._json_default))

    def _json_default(self, value: object) -> object:
        if isinstance(value, BinaryContent):
            return self._blob(value)
        cls: type[object] = type(value)
        if attrs.has(cls):
            return {f.name: getattr(value, f.name) for f in attrs.fields(cls)}
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, set | frozenset | tuple):
            return list(cast(Iterable[object], value))
        return repr(value)


def _call_response(tool_call_id: str, tool_name: str) -> dict[str, Any]:
    return {"type": "tool_call_response", "id": tool_call_id, "name": tool_name}


_URL_MODALITY: Final = {"image-url": "image", "audio-url": "audio", "video-url": "video"}


def _modality(media_type: str) -> str | None:
    category = media_type.split("/", 1)[0]
    return category if category in ("image", "audio", "video") else None


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=repr).decode()


def _server_attributes(base_url: str | None) -> Attributes:
    attributes: Attributes = {}
    if base_url:
        try:
            parsed = urlparse(base_url)
            host, port = parsed.hostname, parsed.port  # never the userinfo: it may hold credentials
        except ValueError:
            return attributes
        if host:
            attributes["server.address"] = host
        if port:
            attributes["server.port"] = port
    return attributes


def _model_attributes(model: Model) -> Attributes:
    return {
        "gen_ai.provider.name": model.system,
        "gen_ai.system": model.system,
        **_server_attributes(model.base_url),
        "gen_ai.request.model": model.model_name,
    }


def _tool_definitions(params: ModelRequestParameters) -> list[dict[str, Any]]:
    definitions: list[dict[str, Any]] = []
    for tool in [*params.function_tools, *params.output_tools]:
        definition: dict[str, Any] = {"type": "function", "name": tool.name}
        if tool.description:
            definition["description"] = tool.description
        if tool.parameters_json_schema:
            definition["parameters"] = tool.parameters_json_schema
        definitions.append(definition)
    return definitions


def _parameters_json(params: ModelRequestParameters, *, include_content: bool) -> str:
    data = attrs.asdict(params)
    if not include_content:
        parts: list[dict[str, Any]] = data.get("instruction_parts") or []
        for part in parts:
            part.pop("content", None)
        if data.get("prompted_output_template") is not None:
            data["prompted_output_template"] = None
    return _dumps(data)


_ACTIVE_CHAT: ContextVar[_ChatSpan | None] = ContextVar("trio_direct_chat_span", default=None)


def note_answering_model(model: Model) -> None:
    """Point the surrounding ``chat`` span (if any) at ``model``: ``FallbackModel`` calls this."""
    chat = _ACTIVE_CHAT.get()
    if chat is not None:
        chat.set_model(model)


class _ChatSpan:
    """One ``chat`` span: open, annotate with the request, finish with the response, close.

    A context manager: entering makes the span current (so nested spans and ``FallbackModel`` see it);
    leaving records an escaping error, ends the span and then records the metrics.
    """

    def __init__(
        self,
        settings: InstrumentationSettings,
        model: Model,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        params: ModelRequestParameters | None,
    ) -> None:
        self._settings = settings
        self._model = model
        self._messages = messages
        self._model_settings = model_settings
        self._params = params
        self._prepared: ModelRequestParameters | None = None
        self._attributes: Attributes = {"gen_ai.operation.name": "chat"}
        self._finished: ModelResponse | None = None
        self._time_to_first_chunk: float | None = None
        self._span: Span | None = None
        self._otel_token: object = None
        self._chat_token: Token[_ChatSpan | None] | None = None

    def __enter__(self) -> _ChatSpan:
        from opentelemetry import context, trace

        settings = self._settings
        span = settings.tracer.start_span(
            f"chat {self._model.model_name}", kind=trace.SpanKind.CLIENT, attributes=self._attributes
        )
        self._span = span
        self._otel_token = context.attach(trace.set_span_in_context(span))
        self._chat_token = _ACTIVE_CHAT.set(self)
        try:
            self._annotate_request()
        except BaseException as exc:
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def _annotate_request(self) -> None:
        settings = self._settings
        # Prepared once, for the attributes only: the wrapped model prepares again itself, from the
        # originals (preparation is not idempotent in general).
        prepared_settings, prepared = self._model.prepare_request(self._model_settings, self._params)
        self._prepared = prepared
        attributes: Attributes = _model_attributes(self._model)
        schema_properties: dict[str, Any] = {}
        if settings.include_model_request_parameters:
            attributes["model_request_parameters"] = _parameters_json(
                prepared, include_content=settings.include_content
            )
            schema_properties["model_request_parameters"] = {"type": "object"}
        attributes["logfire.json_schema"] = _dumps({"type": "object", "properties": schema_properties})
        if definitions := _tool_definitions(prepared):
            attributes["gen_ai.tool.definitions"] = _dumps(definitions)
        for key in _MODEL_SETTING_ATTRIBUTES:
            value = prepared_settings.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                attributes[f"gen_ai.request.{key}"] = value
        self._set(attributes)

    def _set(self, attributes: Attributes) -> None:
        self._attributes.update(attributes)
        if self._span is not None:
            self._span.set_attributes(attributes)
            self._span.update_name(f"chat {self._attributes['gen_ai.request.model']!s}")

    def set_model(self, model: Model) -> None:
        self._set(_model_attributes(model))

    def finish(self, response: ModelResponse, time_to_first_chunk: float | None = None) -> None:
        """Record the response (call once, before leaving)."""
        self._finished = response
        self._time_to_first_chunk = time_to_first_chunk
        span = self._span
        if span is None or not span.is_recording():
            return
        settings = self._settings
        instructions = get_instructions(self._messages, self._prepared)
        attributes: Attributes = {
            "gen_ai.input.messages": _dumps(settings.messages_to_otel_messages(self._messages)),
            "gen_ai.output.messages": _dumps(settings.messages_to_otel_messages([response])),
        }
        properties: dict[str, Any] = {
            "gen_ai.input.messages": {"type": "array"},
            "gen_ai.output.messages": {"type": "array"},
        }
        if instructions and settings.include_content:
            attributes["gen_ai.system_instructions"] = _dumps([{"type": "text", "content": instructions}])
            properties["gen_ai.system_instructions"] = {"type": "array"}
        if settings.include_model_request_parameters:
            properties["model_request_parameters"] = {"type": "object"}
        attributes["logfire.json_schema"] = _dumps({"type": "object", "properties": properties})
        attributes.update(response.usage.opentelemetry_attributes())
        request_model = self._attributes["gen_ai.request.model"]
        attributes["gen_ai.response.model"] = response.model_name or str(request_model)
        if response.usage.cost is not None:
            attributes["operation.cost"] = float(response.usage.cost)
        if response.provider_response_id is not None:
            attributes["gen_ai.response.id"] = response.provider_response_id
        if response.finish_reason is not None:
            attributes["gen_ai.response.finish_reasons"] = [response.finish_reason]
        if time_to_first_chunk is not None:
            attributes["gen_ai.client.operation.time_to_first_chunk"] = time_to_first_chunk
        self._set(attributes)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        from opentelemetry import context
        from opentelemetry.trace import Status, StatusCode

        span = self._span
        try:
            if span is not None and isinstance(exc, Exception) and span.is_recording():
                include = self._settings.include_content
                if include:
                    span.record_exception(exc, escaped=False)
                else:
                    # the message may quote content (a provider error can echo the prompt): type only
                    event = {"exception.type": _qualified_name(type(exc)), "exception.escaped": "False"}
                    span.add_event("exception", event)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}" if include else None))
        finally:
            if self._chat_token is not None:
                _ACTIVE_CHAT.reset(self._chat_token)
                self._chat_token = None
            if self._otel_token is not None:
                context.detach(self._otel_token)  # type: ignore[arg-type]
                self._otel_token = None
            if span is not None:
                span.end()
            self._record_metrics()

    def _record_metrics(self) -> None:
        # After the span has ended, so backends that derive metrics from spans do not count twice.
        response = self._finished
        if response is None:
            return
        settings = self._settings
        request_model = self._attributes.get("gen_ai.request.model")
        system = self._attributes.get("gen_ai.system")
        attributes: Attributes = {"gen_ai.operation.name": "chat"}
        if system is not None:
            attributes["gen_ai.provider.name"] = system
            attributes["gen_ai.system"] = system
        if request_model is not None:
            attributes["gen_ai.request.model"] = request_model
        attributes["gen_ai.response.model"] = response.model_name or str(request_model)
        usage = response.usage
        for kind, tokens in (("input", usage.input_tokens), ("output", usage.output_tokens)):
            if tokens:
                settings.tokens_histogram.record(tokens, {**attributes, "gen_ai.token.type": kind})
        if response.usage.cost is not None:
            settings.cost_histogram.record(float(response.usage.cost), attributes)
        if self._time_to_first_chunk is not None:
            settings.time_to_first_chunk_histogram.record(self._time_to_first_chunk, attributes)


def _qualified_name(cls: type[BaseException]) -> str:
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class InstrumentedModel(WrapperModel):
    """Wraps a model so that each request and stream is an OpenTelemetry ``chat`` span.

    Args:
        wrapped: the model (or model name) to instrument.
        options: how; defaults to ``InstrumentationSettings()`` (global providers, content included).

    Raises:
        UserError: ``opentelemetry-api`` is not installed.
    """

    def __init__(self, wrapped: Model | str, options: InstrumentationSettings | None = None) -> None:
        super().__init__(wrapped)
        self.instrumentation_settings = options or InstrumentationSettings()

    async def request(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> ModelResponse:
        """The wrapped model's request inside a ``chat`` span.

        Cancellation:
            As the wrapped model's; the span ends either way.
        """
        with _ChatSpan(
            self.instrumentation_settings, self.wrapped, messages, model_settings, model_request_parameters
        ) as chat:
            response = await self.wrapped.request(messages, model_settings, model_request_parameters)
            chat.finish(response)
            return response

    def request_stream(
        self,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        model_request_parameters: ModelRequestParameters | None,
    ) -> StreamContext:
        """The wrapped model's stream inside a ``chat`` span that ends when the block is left.

        The span records the response as far as the caller consumed it (an early exit records the
        partial response) and the time from sending the request to the first chunk.
        """
        return _InstrumentedStream(self, messages, model_settings, model_request_parameters)


class _InstrumentedStream:
    def __init__(
        self,
        model: InstrumentedModel,
        messages: list[ModelMessage],
        model_settings: ModelSettings | None,
        params: ModelRequestParameters | None,
    ) -> None:
        self._model = model
        self._messages = messages
        self._model_settings = model_settings
        self._params = params
        self._chat: _ChatSpan | None = None
        self._inner: StreamContext | None = None
        self._stream: StreamedResponse | None = None
        self._time_to_first_chunk: float | None = None

    async def __aenter__(self) -> StreamedResponse:
        if self._chat is not None:
            raise UserError("a stream context can be entered only once; call model_request_stream() again")
        model = self._model
        chat = _ChatSpan(
            model.instrumentation_settings, model.wrapped, self._messages, self._model_settings, self._params
        )
        self._chat = chat
        chat.__enter__()
        start = time.perf_counter()
        try:
            inner = model.wrapped.request_stream(self._messages, self._model_settings, self._params)
            stream = await inner.__aenter__()
        except BaseException as exc:
            chat.__exit__(type(exc), exc, exc.__traceback__)
            raise
        # Entering returns once the first chunk has been read, so this is the time to the first chunk.
        self._time_to_first_chunk = time.perf_counter() - start
        self._inner, self._stream = inner, stream
        return stream

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        chat, inner, stream = self._chat, self._inner, self._stream
        assert chat is not None and inner is not None and stream is not None
        try:
            await inner.__aexit__(exc_type, exc, tb)
        except BaseException as error:
            chat.finish(stream.get(), self._time_to_first_chunk)
            chat.__exit__(type(error), error, error.__traceback__)
            raise
        chat.finish(stream.get(), self._time_to_first_chunk)
        chat.__exit__(exc_type, exc, tb)
        return None
