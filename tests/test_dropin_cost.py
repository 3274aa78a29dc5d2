"""``ModelResponse.cost()`` gives what pydantic-ai 2.68 gives for the same response, and uses the price
context (batch processing, service tier) the response carries."""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest

from trio_direct import messages as tm
from trio_direct.exceptions import CostCalculationError, UserError
from trio_direct.serialization import messages_from_python, messages_to_python
from trio_direct.usage import RequestUsage

pytest.importorskip("genai_prices")
pm: ModuleType = pytest.importorskip("pydantic_ai.messages")

# Priced now: price variants (flex, priority, batch) have start dates, and today's prices are the ones
# whose variants are sure to apply.
TS = datetime.now(UTC)

RESPONSES = [
    {
        "model_name": "gpt-4o",
        "provider_name": "openai",
        "usage": {"input_tokens": 1000, "output_tokens": 200},
    },
    {
        "model_name": "gpt-4o-2024-08-06",
        "provider_name": "openai",
        "provider_url": "https://api.openai.com/v1/",
        "usage": {"input_tokens": 5000, "output_tokens": 10, "cache_read_tokens": 1000},
    },
    {
        "model_name": "claude-sonnet-4-5",
        "provider_name": "anthropic",
        "provider_url": "https://api.anthropic.com",
        "usage": {
            "input_tokens": 300,
            "output_tokens": 40,
            "cache_write_tokens": 100,
            "cache_read_tokens": 50,
        },
    },
    {
        "model_name": "gpt-5",
        "provider_name": "openai",
        "provider_details": {"service_tier": "priority"},
        "usage": {"input_tokens": 100_000, "output_tokens": 2000},
    },
    {
        "model_name": "gpt-5",
        "provider_name": "openai",
        "provider_details": {"service_tier": "flex", "finish_reason": "stop", "n": 1},
        "usage": {"input_tokens": 100_000, "output_tokens": 2000},
    },
    {
        "model_name": "gemini-2.5-flash",
        "provider_name": "google-gla",
        "usage": {"input_tokens": 42, "output_tokens": 7},
    },
]


def pair(fields: dict[str, Any]) -> tuple[tm.ModelResponse, Any]:
    data = {"kind": "response", "parts": [{"part_kind": "text", "content": "x"}], "timestamp": TS, **fields}
    [ours] = messages_from_python([data])
    assert isinstance(ours, tm.ModelResponse)
    [theirs] = pm.ModelMessagesTypeAdapter.validate_python(messages_to_python([ours]))
    return ours, theirs


@pytest.mark.parametrize("fields", RESPONSES, ids=[f"{r['model_name']}-{i}" for i, r in enumerate(RESPONSES)])
def test_cost_matches_pydantic_ai(fields: dict[str, Any]) -> None:
    ours, theirs = pair(fields)
    mine, their = ours.cost(), theirs.cost()
    assert (mine.input_price, mine.output_price, mine.total_price) == (
        their.input_price,
        their.output_price,
        their.total_price,
    )
    assert mine.model.id == their.model.id and mine.provider.id == their.provider.id


def test_service_tier_prices_differ() -> None:
    """The price context really selects a variant (so the comparisons above are not vacuous)."""
    priority, _ = pair(RESPONSES[3])
    flex, _ = pair(RESPONSES[4])
    standard, _ = pair({**RESPONSES[3], "provider_details": None})
    assert flex.cost().total_price < standard.cost().total_price < priority.cost().total_price


def test_batch_processing_is_priced_as_batch_beyond_pydantic_ai() -> None:
    """A response the provider ran in its batch tier (or marked so in metadata) gets the batch price;
    2.68 charges the standard one."""
    fields = {
        "model_name": "claude-sonnet-4-5",
        "provider_name": "anthropic",
        "usage": {"input_tokens": 100_000},
    }
    standard, theirs = pair(fields)
    batched, _ = pair({**fields, "provider_details": {"service_tier": "batch"}})
    marked, _ = pair({**fields, "metadata": {"processing": "batch"}})
    assert batched.price_context() == {"service_tier": "batch", "processing": "batch"}
    assert batched.cost().total_price == marked.cost().total_price == standard.cost().total_price / 2
    assert standard.cost().total_price == theirs.cost().total_price == Decimal("0.3")


def test_cost_errors() -> None:
    unknown, their_unknown = pair({"model_name": "no-such-model-xyz", "provider_name": "nobody"})
    with pytest.raises(CostCalculationError) as info:
        unknown.cost()
    assert isinstance(info.value, LookupError)
    with pytest.raises(LookupError):
        their_unknown.cost()
    unmeasured = tm.ModelResponse([], model_name="gpt-4o", usage=RequestUsage(unmeasured_requests=1))
    with pytest.raises(CostCalculationError, match="omitted usage") as info:
        unmeasured.cost()
    assert isinstance(info.value, ValueError)
    with pytest.raises(UserError, match="model_name"):
        tm.ModelResponse([]).cost()


def test_cost_without_genai_prices_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_prices(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("genai_prices"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_prices)
    with pytest.raises(UserError, match=r"trio-direct\[prices\]"):
        tm.ModelResponse([], model_name="gpt-4o").cost()


# ---------------------------------------------------------------------------------------------------
# RequestUsage(**extra) and RequestUsage.extract
# ---------------------------------------------------------------------------------------------------

pusage: ModuleType = pytest.importorskip("pydantic_ai.usage")


def test_request_usage_takes_ad_hoc_counters_as_pydantic_ai() -> None:
    ours = RequestUsage(input_tokens=3, web_searches=2, details={"x": 1})
    theirs = pusage.RequestUsage(input_tokens=3, web_searches=2, details={"x": 1})
    assert ours.web_searches == theirs.web_searches == 2
    assert ours.extra == {"web_searches": 2}
    response = tm.ModelResponse([], usage=ours, timestamp=TS)
    [loaded] = pm.ModelMessagesTypeAdapter.validate_python(messages_to_python([response]))
    assert loaded.usage == theirs


BODIES = [
    (
        "openai",
        "https://api.openai.com/v1",
        "openai",
        "chat",
        {
            "model": "gpt-4o",
            "usage": {
                "prompt_tokens": 12,
                "completion_tokens": 5,
                "prompt_tokens_details": {"cached_tokens": 4},
            },
        },
    ),
    (
        "anthropic",
        "https://api.anthropic.com",
        "anthropic",
        "default",
        {
            "model": "claude-sonnet-4-5",
            "usage": {"input_tokens": 9, "output_tokens": 2, "cache_read_input_tokens": 1},
        },
    ),
    (
        "openai",
        "https://gateway.example/v1",
        "openai",
        "chat",
        {
            "model": "gpt-4o",
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "logfire_ai_gateway": {"cost": "0.0038"}},
        },
    ),
    ("nobody", "https://nowhere.example", "nobody", "default", {"usage": {}}),
]


@pytest.mark.parametrize(("provider", "url", "fallback", "flavor", "body"), BODIES)
def test_extract_matches_pydantic_ai(provider: str, url: str, fallback: str, flavor: str, body: Any) -> None:
    kwargs = {"provider": provider, "provider_url": url, "provider_fallback": fallback, "api_flavor": flavor}
    ours = RequestUsage.extract(body, **kwargs, details={"d": 1})
    theirs = pusage.RequestUsage.extract(body, **kwargs, details={"d": 1})
    response = tm.ModelResponse([], usage=ours, timestamp=TS)
    assert (
        messages_to_python([response])[0]["usage"]
        == json.loads(
            pm.ModelMessagesTypeAdapter.dump_json([pm.ModelResponse(parts=[], usage=theirs, timestamp=TS)])
        )[0]["usage"]
    )
