"""What the harness runs and what it gives back: :class:`Item` in, :class:`Outcome` out.

Both are plain values with no reference to how the request was executed (live, cached, resumed
from a journal; a provider batch job or a Ray worker could fill them in the same way), and both
round-trip through JSON (:meth:`Outcome.to_python` / :meth:`Outcome.from_python`) for journals and
output files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Literal, TypeAlias, final

import attrs

from ..exceptions import ModelAPIError, ModelHTTPError, TrioDirectError, UserError
from ..messages import ModelMessage, ModelRequest, ModelResponse
from ..models.base import Model
from ..serialization import messages_from_python, messages_to_python
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ..usage import RequestUsage

__all__ = [
    "BudgetExceededError",
    "CostFunction",
    "Item",
    "Outcome",
    "OutcomeSource",
    "RecordedError",
    "default_cost",
]

OutcomeSource: TypeAlias = Literal["live", "cache", "journal", "batch"]
"""Where an outcome came from: a request just made, the response cache, a previous run's journal, or a
provider batch job."""

CostFunction: TypeAlias = Callable[[ModelResponse], "Decimal | float | None"]
"""Prices one response in your currency (USD by convention), or None when unknown."""


def _to_messages(value: Iterable[ModelMessage]) -> tuple[ModelMessage, ...]:
    return tuple(value)


def _check_id(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or not value:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"an Item needs a non-empty string id, not {value!r}")


@final
@attrs.frozen(kw_only=True)
class Item:
    """One request for the harness to run.

    Args:
        id: unique within a job; the journal and the cache of outcomes are keyed by it.
        messages: the history, ending with the request to answer.
        model: a :class:`~trio_direct.models.Model` or name; None uses the runner's model.
        model_settings: per-request settings.
        model_request_parameters: tools and output mode.
        metadata: anything JSON-able to carry through to the outcome (not sent to the model).

    Raises:
        UserError: an empty id or no messages.
    """

    id: str = attrs.field(validator=_check_id)
    messages: tuple[ModelMessage, ...] = attrs.field(converter=_to_messages)
    model: Model | str | None = None
    model_settings: ModelSettings | None = None
    model_request_parameters: ModelRequestParameters | None = None
    metadata: Mapping[str, Any] | None = None

    def __attrs_post_init__(self) -> None:
        if not self.messages:
            raise UserError(f"Item {self.id!r} has no messages")

    @classmethod
    def from_prompt(
        cls,
        id: str,
        prompt: str,
        *,
        system: str | None = None,
        instructions: str | None = None,
        model: Model | str | None = None,
        model_settings: ModelSettings | None = None,
        model_request_parameters: ModelRequestParameters | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> Item:
        """An item of one user prompt (and an optional system prompt or instructions)."""
        from ..messages import SystemPromptPart, UserPromptPart

        parts: list[Any] = [SystemPromptPart(system)] if system else []
        parts.append(UserPromptPart(prompt))
        return cls(
            id=id,
            messages=[ModelRequest(parts, instructions=instructions)],
            model=model,
            model_settings=model_settings,
            model_request_parameters=model_request_parameters,
            metadata=metadata,
        )


class BudgetExceededError(TrioDirectError):
    """A token or cost budget of the run was reached, so no further items were started.

    Attributes:
        what: ``'tokens'`` or ``'cost'``.
        budget: the budget.
        spent: what had been spent when admission stopped.
    """

    def __init__(self, what: str, budget: float, spent: float) -> None:
        self.what = what
        self.budget = budget
        self.spent = spent
        super().__init__(
            f"the {what} budget of {budget:g} was reached ({spent:g} spent): no further items were started; "
            "raise the budget and run the job again to resume"
        )


class RecordedError(TrioDirectError):
    """An error read back from a journal, standing in for the original exception.

    Attributes:
        error_type: the original exception's class name (``'ModelRateLimitError'``).
        status_code: its HTTP status, if it had one.
        body: the provider's error body, if it had one.
    """

    def __init__(
        self, error_type: str, message: str, status_code: int | None = None, body: object | None = None
    ) -> None:
        self.error_type = error_type
        self.status_code = status_code
        self.body = body
        super().__init__(f"{error_type}: {message}")


def error_to_python(error: BaseException) -> dict[str, Any]:
    """A JSON-able description of ``error``: type, message, HTTP status, provider code and body."""
    data: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    if isinstance(error, RecordedError):
        data["type"] = error.error_type
        data["message"] = str(error).removeprefix(f"{error.error_type}: ")
        data["status_code"] = error.status_code
        if error.body is not None:
            data["body"] = error.body
    if isinstance(error, ModelHTTPError):
        data["status_code"] = error.status_code
    if isinstance(error, ModelAPIError):
        data["code"] = error.provider_error_code
        body: object = error.body
        if isinstance(body, dict | list | str):
            data["body"] = body
    return data


def default_cost(response: ModelResponse) -> Decimal | None:
    """The response's price: ``response.cost()`` when the message model has it, else ``usage.cost``.

    ``cost()`` raises :class:`UserError` when its pricing extra is not installed; that counts as
    unknown (None), as does a model missing from the price list.
    """
    method = getattr(response, "cost", None)
    if callable(method):
        try:
            value = method()
        except (UserError, LookupError, ValueError):
            value = None
        if value is not None:
            return _as_decimal(getattr(value, "total_price", value))
    return response.usage.cost


def _as_decimal(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return Decimal(str(value))
    return None


@final
@attrs.frozen(kw_only=True)
class Outcome:
    """How one item ended: its response or its typed error, never both, never an exception group.

    Attributes:
        item_id: the item's id.
        response: the response, on success.
        error: the error, on failure: the exception the request raised (a
            :class:`~trio_direct.exceptions.TrioDirectError` subclass for everything the library
            raises), or a :class:`RecordedError` when read back from a journal.
        source: ``'live'``, ``'cache'`` (a cache hit: no request was made), ``'journal'`` (finished
            by an earlier run) or ``'batch'`` (a provider batch job, :func:`run_provider_batch`).
        attempts: requests made (0 for a cache hit).
        latency: seconds from the first attempt's admission to the end, waits between attempts included.
        usage: the response's token usage (empty on failure).
        cost: the price from the runner's cost function, or None when unknown.
        model_id: ``'<system>:<model>'`` of the model asked.
        metadata: the item's metadata.
    """

    item_id: str
    response: ModelResponse | None = None
    error: BaseException | None = None
    source: OutcomeSource = "live"
    attempts: int = 0
    latency: float = 0.0
    usage: RequestUsage = attrs.field(factory=RequestUsage)
    cost: Decimal | None = None
    model_id: str | None = None
    metadata: Mapping[str, Any] | None = None

    @property
    def ok(self) -> bool:
        """True when the item has a response."""
        return self.error is None and self.response is not None

    @property
    def cached(self) -> bool:
        """True when the response came from the cache."""
        return self.source == "cache"

    @property
    def kind(self) -> str:
        """``'ok'``, or the error's class name (``'ModelRateLimitError'``): the summary's categories."""
        if self.error is None:
            return "ok"
        if isinstance(self.error, RecordedError):
            return self.error.error_type
        return type(self.error).__name__

    def to_python(self) -> dict[str, Any]:
        """A JSON-able dict (the response as pydantic-ai JSON, the error as :func:`error_to_python`)."""
        return {
            "item_id": self.item_id,
            "response": messages_to_python([self.response])[0] if self.response is not None else None,
            "error": error_to_python(self.error) if self.error is not None else None,
            "source": self.source,
            "attempts": self.attempts,
            "latency": self.latency,
            "input_tokens": self.usage.input_tokens,
            "output_tokens": self.usage.output_tokens,
            "cost": str(self.cost) if self.cost is not None else None,
            "model_id": self.model_id,
            "metadata": dict(self.metadata) if self.metadata is not None else None,
        }

    @classmethod
    def from_python(cls, data: Mapping[str, Any], *, source: OutcomeSource = "journal") -> Outcome:
        """Rebuild an outcome written by :meth:`to_python`; errors come back as :class:`RecordedError`.

        Raises:
            MessageFormatError: the stored response does not fit the message model.
        """
        response: ModelResponse | None = None
        if data.get("response") is not None:
            loaded = messages_from_python([data["response"]])[0]
            assert isinstance(loaded, ModelResponse)
            response = loaded
        error: RecordedError | None = None
        if (err := data.get("error")) is not None:
            error = RecordedError(
                str(err.get("type")), str(err.get("message")), err.get("status_code"), err.get("body")
            )
        usage = response.usage if response is not None else RequestUsage()
        cost = data.get("cost")
        return cls(
            item_id=str(data["item_id"]),
            response=response,
            error=error,
            source=source,
            attempts=int(data.get("attempts") or 0),
            latency=float(data.get("latency") or 0.0),
            usage=usage,
            cost=Decimal(cost) if cost is not None else None,
            model_id=data.get("model_id"),
            metadata=data.get("metadata"),
        )
