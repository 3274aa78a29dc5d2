"""OpenTelemetry spans of a run: one per item, one per attempt, with limiter and retry events.

Opt-in (``run_batch(..., instrument=True)``; needs ``opentelemetry-api``). The attempt spans follow
the OpenTelemetry GenAI semantic conventions: ``chat <model>``, kind CLIENT, ``gen_ai.operation.name``,
``gen_ai.request.model``, ``gen_ai.response.model``/``id``/``finish_reasons``,
``gen_ai.usage.input_tokens``/``output_tokens``, ``server.address``/``port`` and ``error.type``. The
provider attribute is the stable ``gen_ai.system`` by default and the newer ``gen_ai.provider.name``
when ``OTEL_SEMCONV_STABILITY_OPT_IN`` contains ``gen_ai_latest_experimental`` (the opt-in the
OpenTelemetry instrumentations use). The item span (``harness item``) carries the item id, attempts,
source, outcome kind and cost. Retries and limiter changes are span events (``gen_ai.retry``,
``trio_direct.limiter.<kind>``) on the span current where they happen.

Like :mod:`trio_direct.models.instrumented`, nothing here reads request headers: no API key reaches
a span.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from contextlib import contextmanager
from typing import Any, final
from urllib.parse import urlparse

from ..exceptions import UserError
from ..messages import ModelResponse
from ..models.base import Model
from ..retries import RetryAttempt
from ._items import Item, Outcome
from ._limits import LimiterEvent

__all__ = ["Tracer"]


def _latest_conventions() -> bool:
    opt_in = os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    return "gen_ai_latest_experimental" in {part.strip() for part in opt_in.split(",")}


@final
class _Span:
    """A span handle that is a no-op when tracing is off."""

    __slots__ = ("_span",)

    def __init__(self, span: Any) -> None:
        self._span = span

    def set(self, key: str, value: Any) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, value)

    def response(self, response: ModelResponse) -> None:
        """Record an attempt's response (GenAI response and usage attributes)."""
        if self._span is None:
            return
        self.set("gen_ai.response.model", response.model_name)
        self.set("gen_ai.response.id", response.provider_response_id)
        if response.finish_reason is not None:
            self._span.set_attribute("gen_ai.response.finish_reasons", [response.finish_reason])
        self.set("gen_ai.usage.input_tokens", response.usage.input_tokens)
        self.set("gen_ai.usage.output_tokens", response.usage.output_tokens)

    def finish(self, outcome: Outcome) -> None:
        """Record an item's outcome."""
        if self._span is None:
            return
        self.set("trio_direct.harness.attempts", outcome.attempts)
        self.set("trio_direct.harness.source", outcome.source)
        self.set("trio_direct.harness.outcome", outcome.kind)
        if outcome.cost is not None:
            self.set("trio_direct.harness.cost", float(outcome.cost))
        if outcome.error is not None:
            from opentelemetry.trace import Status, StatusCode

            self.set("error.type", outcome.kind)
            self._span.set_status(Status(StatusCode.ERROR, str(outcome.error)[:500]))


_OFF = _Span(None)


@final
class Tracer:
    """Makes the spans of one run, or nothing when ``enabled`` is False.

    Raises:
        UserError: enabled without ``opentelemetry-api`` installed.
    """

    def __init__(self, *, enabled: bool) -> None:
        self._tracer: Any = None
        self._trace: Any = None
        if not enabled:
            return
        try:
            from opentelemetry import trace
        except ImportError as exc:
            raise UserError("instrument=True needs OpenTelemetry: pip install 'trio_direct[otel]'") from exc
        self._trace = trace
        self._tracer = trace.get_tracer("trio_direct.harness")
        self._latest = _latest_conventions()

    @contextmanager
    def item(self, item: Item, model: Model) -> Generator[_Span]:
        """The span of one item, current while the item runs."""
        if self._tracer is None:
            yield _OFF
            return
        with self._tracer.start_as_current_span(
            "harness item",
            attributes={"trio_direct.harness.item_id": item.id, "gen_ai.request.model": model.model_name},
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield _Span(span)

    @contextmanager
    def attempt(self, model: Model, number: int) -> Generator[_Span]:
        """The GenAI CLIENT span of one attempt; an exception sets ``error.type`` and is re-raised."""
        if self._tracer is None:
            yield _OFF
            return
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model.model_name,
            ("gen_ai.provider.name" if self._latest else "gen_ai.system"): model.system,
            "trio_direct.harness.attempt": number,
        }
        if model.base_url:
            parsed = urlparse(model.base_url)
            if parsed.hostname:
                attributes["server.address"] = parsed.hostname
            if parsed.port:
                attributes["server.port"] = parsed.port
        with self._tracer.start_as_current_span(
            f"chat {model.model_name}",
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            handle = _Span(span)
            try:
                yield handle
            except Exception as exc:
                from opentelemetry.trace import Status, StatusCode

                handle.set("error.type", type(exc).__name__)
                status = getattr(exc, "status_code", None)
                if isinstance(status, int):
                    handle.set("http.response.status_code", status)
                span.set_status(Status(StatusCode.ERROR, str(exc)[:500]))
                raise

    def retry(self, attempt: RetryAttempt) -> None:
        """A ``gen_ai.retry`` event on the current span."""
        if self._trace is None:
            return
        self._trace.get_current_span().add_event(
            "gen_ai.retry",
            {
                "trio_direct.retry.attempt": attempt.attempt,
                "trio_direct.retry.wait_s": attempt.wait,
                "trio_direct.retry.source": attempt.source,
                "error.type": type(attempt.error).__name__,
            },
        )

    def limiter(self, event: LimiterEvent) -> None:
        """A ``trio_direct.limiter.<kind>`` event on the current span."""
        if self._trace is None:
            return
        self._trace.get_current_span().add_event(
            f"trio_direct.limiter.{event.kind}",
            {"trio_direct.limiter.limit": event.limit, "trio_direct.limiter.reason": event.reason},
        )
