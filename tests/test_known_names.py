"""``KnownModelName`` is pydantic-ai 2.68's list, and every name in it resolves (or says why not)."""

from __future__ import annotations

import warnings
from typing import get_args

import pytest

from tests.hosts import host_env, host_prefixes
from trio_direct import UserError
from trio_direct.models import KnownModelName, Model, infer_model, known_model_names, known_prefixes
from trio_direct.models._registry import unavailable_prefixes


def test_known_model_name_is_2_68s_list() -> None:
    names = known_model_names()
    assert names == list(get_args(KnownModelName))
    assert len(names) == 263 and len(set(names)) == 263
    assert names == sorted(names)
    assert {
        "test",
        "zai:glm-5.3",
        "snowflake:claude-sonnet-4-6",
        "crusoe:zai-org/GLM-5.3",
    } <= set(names)


@pytest.fixture
def every_key(monkeypatch: pytest.MonkeyPatch) -> None:
    env: dict[str, str | None] = {}
    for prefix in host_prefixes():
        env |= host_env(prefix, "http://127.0.0.1:9", "known-key-123")
    env |= {
        "OPENAI_API_KEY": "k",
        "ANTHROPIC_API_KEY": "k",
        "GROQ_API_KEY": "k",
        "MISTRAL_API_KEY": "k",
        "GEMINI_API_KEY": "k",
        "CO_API_KEY": "k",
        "HF_TOKEN": "hf_k",
        "XAI_API_KEY": "k",
        "GOOGLE_APPLICATION_CREDENTIALS": None,  # google-cloud: express mode with GEMINI_API_KEY
        "AWS_ACCESS_KEY_ID": "AKIDKNOWN",
        "AWS_SECRET_ACCESS_KEY": "known",
        "AWS_REGION": "us-east-1",
        "PYDANTIC_AI_GATEWAY_API_KEY": "pylf_v1_us_known",
    }
    for var, value in env.items():
        if value is None:
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, value)


@pytest.mark.usefixtures("every_key")
def test_every_known_name_resolves_or_says_why_not() -> None:
    resolved, left_out = 0, set()
    for name in known_model_names():
        prefix = name.partition(":")[0]
        if prefix in unavailable_prefixes():
            with pytest.raises(UserError, match="not available in trio_direct: "):
                infer_model(name)
            left_out.add(prefix)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                assert isinstance(infer_model(name), Model), name
            resolved += 1
    assert resolved >= 150
    assert left_out == {"typesafe", "openai-decisions", "google-decisions"}


def test_known_prefixes_lists_exactly_what_resolves() -> None:
    unavailable = unavailable_prefixes()
    assert not set(unavailable) & set(known_prefixes())
    for prefix, reason in unavailable.items():
        with pytest.raises(UserError, match=f"'{prefix}' provider is not available") as info:
            infer_model(f"{prefix}:some-model")
        assert reason in str(info.value)
    assert "login flow" in unavailable["openai-codex"] and "decision models" in unavailable["typesafe"]
