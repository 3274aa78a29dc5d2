"""Azure OpenAI with Microsoft Entra ID: a bearer token, or a token provider asked before every request.

2.68 reaches this through ``AzureProvider(openai_client=AsyncAzureOpenAI(azure_ad_token_provider=...))``;
the SDK sends ``Authorization: Bearer <token>`` instead of ``api-key`` and calls the provider on every
request. ``azure_model(...)`` is trio_direct's equivalent; ``AZURE_OPENAI_AD_TOKEN`` is read as the SDK
reads it. Real loopback servers throughout.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import trio

from tests.loopback import LoopbackServer, Reply
from tests.reliability import CANARY_KEY, PROMPT, completion, sse_text
from tests.test_hosts import responses_body
from tests.test_secrets import all_text_of, assert_logs_clean, debug_logs, echoing_replies
from trio_direct import (
    ModelAPIError,
    ModelHTTPError,
    TrioDirectError,
    UserError,
    model_request,
    model_request_stream,
    model_request_sync,
)
from trio_direct.models import azure_model, infer_model

__all__ = ["debug_logs"]  # the fixture, imported for its name

#: the suite's canary secret, so the echoing servers and log checks of tests/test_secrets.py apply as they are
TOKEN = CANARY_KEY
VERSION = "2024-10-21"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in (
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_AD_TOKEN",
        "OPENAI_API_VERSION",
    ):
        monkeypatch.delenv(var, raising=False)


class Counter:
    """A sync token provider: a new token per call, and the thread each call ran in."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: list[int] = []

    def __call__(self) -> str:
        self.calls += 1
        self.threads.append(threading.get_ident())
        return f"{TOKEN}-{self.calls}"


async def test_a_sync_token_provider_is_asked_per_request_in_a_worker_thread(
    loopback: LoopbackServer,
) -> None:
    provider = Counter()
    model = azure_model(
        "my deployment", azure_endpoint=loopback.url, api_version=VERSION, azure_ad_token_provider=provider
    )
    assert provider.calls == 0  # building the model asks for nothing
    loopback.enqueue(Reply.json(completion("a")), Reply.json(completion("b")))
    first = await model_request(model, PROMPT)
    second = await model_request(model, PROMPT)
    assert (first.text, second.text) == ("a", "b")
    one, two = loopback.requests
    assert one.path == "/openai/deployments/my%20deployment/chat/completions"
    assert one.query == {"api-version": VERSION}
    assert one.headers["authorization"] == f"Bearer {TOKEN}-1"
    assert two.headers["authorization"] == f"Bearer {TOKEN}-2"
    assert "api-key" not in one.headers and "api-key" not in two.headers
    assert threading.get_ident() not in provider.threads  # never on the Trio loop's thread


async def test_an_async_token_provider_is_awaited_and_a_stream_asks_when_it_opens(
    loopback: LoopbackServer,
) -> None:
    calls: list[str] = []

    async def provider() -> str:
        await trio.sleep(0)
        calls.append("token")
        return TOKEN

    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=provider
    )
    loopback.enqueue(Reply.sse(sse_text("a", "b", "c"), delay=0.01))
    context = model_request_stream(model, PROMPT)
    assert calls == []
    async with context as stream:
        async for _ in stream:
            break  # early exit: the connection is closed, nothing is left running
    assert calls == ["token"]
    (request,) = loopback.requests
    assert (request.path, request.query) == ("/openai/v1/chat/completions", {})
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert "api-key" not in request.headers


async def test_responses_api_and_a_fixed_token(loopback: LoopbackServer) -> None:
    model = azure_model(
        "gpt-5", api="responses", azure_endpoint=loopback.url, api_version=VERSION, azure_ad_token=TOKEN
    )
    loopback.enqueue(Reply.json(responses_body("hi")))
    assert (await model_request(model, PROMPT)).text == "hi"
    (request,) = loopback.requests
    assert (request.path, request.query) == ("/openai/responses", {"api-version": VERSION})
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


def test_the_sync_api_runs_an_async_provider_on_the_portal(loopback: LoopbackServer) -> None:
    async def provider() -> str:
        return TOKEN

    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=provider
    )
    loopback.enqueue(Reply.json(completion("sync")))
    assert model_request_sync(model, PROMPT).text == "sync"
    assert loopback.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_an_authorization_extra_header_wins_as_in_the_sdk(loopback: LoopbackServer) -> None:
    provider = Counter()
    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=provider
    )
    loopback.enqueue(Reply.json(completion()))
    await model_request(model, PROMPT, model_settings={"extra_headers": {"Authorization": "Bearer mine"}})
    assert loopback.requests[0].headers["authorization"] == "Bearer mine"
    assert provider.calls == 0


async def test_azure_openai_ad_token_is_read_when_no_key_is_set(
    loopback: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", loopback.url)
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", TOKEN)
    loopback.enqueue(Reply.json(completion()), Reply.json(responses_body()))
    await model_request("azure:gpt-4o", PROMPT)
    await model_request("azure-responses:gpt-5", PROMPT)
    for request in loopback.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert "api-key" not in request.headers
    # the resource key wins when both are set: 2.68's AzureProvider passes it to the SDK explicitly
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "resource-key-0123456789")
    loopback.enqueue(Reply.json(completion()))
    await model_request("azure:gpt-4o", PROMPT)
    last = loopback.requests[-1]
    assert last.headers["api-key"] == "resource-key-0123456789" and "authorization" not in last.headers


def test_configuration_errors_say_what_to_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="mutually exclusive"):
        azure_model("d", azure_endpoint="https://r.openai.azure.com", api_key="k" * 20, azure_ad_token=TOKEN)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com")
    monkeypatch.setenv("OPENAI_API_VERSION", VERSION)
    with pytest.raises(UserError, match="AZURE_OPENAI_AD_TOKEN"):
        infer_model("azure:gpt-4o")
    with pytest.raises(UserError, match="non-empty"):
        azure_model("d", azure_ad_token=" ")
    with pytest.raises(UserError, match="callable"):
        azure_model("d", azure_ad_token_provider="not callable")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="'chat' or 'responses'"):
        azure_model("d", api="batch", azure_ad_token=TOKEN)  # type: ignore[arg-type]


@pytest.mark.parametrize("result", ["", None, 42])
async def test_a_provider_returning_no_token_is_a_user_error_before_any_io(
    loopback: LoopbackServer, result: Any
) -> None:
    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=lambda: result
    )
    with pytest.raises(UserError, match="non-empty string"):
        await model_request(model, PROMPT)
    with pytest.raises(UserError, match="non-empty string"):
        async with model_request_stream(model, PROMPT) as stream:
            async for _ in stream:
                pass
    assert loopback.requests == []


async def test_a_provider_that_raises_is_a_model_api_error_with_its_cause(loopback: LoopbackServer) -> None:
    class CredentialUnavailable(Exception):
        pass

    def provider() -> str:
        raise CredentialUnavailable("no az login")

    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=provider
    )
    with pytest.raises(ModelAPIError, match="CredentialUnavailable") as info:
        await model_request(model, PROMPT)
    assert isinstance(info.value.__cause__, CredentialUnavailable)
    assert loopback.requests == []


async def test_a_slow_async_provider_is_cancelled_with_the_caller(loopback: LoopbackServer) -> None:
    started = trio.Event()

    async def provider() -> str:
        started.set()
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url + "/openai/v1", azure_ad_token_provider=provider
    )
    with trio.move_on_after(5) as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(model_request, model, PROMPT)
            await started.wait()
            nursery.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert loopback.requests == []


async def test_the_token_never_shows(loopback: LoopbackServer) -> None:
    """Reprs, and errors from a server that echoes the token back."""
    model = azure_model("gpt-4o", azure_endpoint=loopback.url, api_version=VERSION, azure_ad_token=TOKEN)
    assert TOKEN not in repr(model) and TOKEN not in repr(model.provider)  # type: ignore[attr-defined]
    with_provider = azure_model(
        "gpt-4o", azure_endpoint=loopback.url, api_version=VERSION, azure_ad_token_provider=lambda: TOKEN
    )
    assert TOKEN not in repr(with_provider.provider)  # type: ignore[attr-defined]
    for name, reply in echoing_replies(loopback):
        for stream in (False, True):
            loopback.enqueue(reply)
            with pytest.raises(TrioDirectError) as info:
                if stream:
                    async with model_request_stream(with_provider, PROMPT) as response:
                        async for _ in response:
                            pass
                else:
                    await model_request(model, PROMPT)
            assert TOKEN not in all_text_of(info.value), name


async def test_the_token_stays_out_of_the_logs(
    loopback: LoopbackServer, debug_logs: pytest.LogCaptureFixture
) -> None:
    model = azure_model(
        "gpt-4o", azure_endpoint=loopback.url, api_version=VERSION, azure_ad_token_provider=lambda: TOKEN
    )
    loopback.enqueue(Reply.json(completion()), Reply.json({"error": {"message": f"bad {TOKEN}"}}, 401))
    await model_request(model, PROMPT)
    with pytest.raises(ModelHTTPError) as info:
        await model_request(model, PROMPT)
    assert TOKEN not in all_text_of(info.value)
    assert_logs_clean(debug_logs)


async def test_count_tokens_on_azure_responses_keeps_api_version_and_the_token(
    loopback: LoopbackServer,
) -> None:
    provider = Counter()
    model = azure_model(
        "gpt-5",
        api="responses",
        azure_endpoint=loopback.url,
        api_version=VERSION,
        azure_ad_token_provider=provider,
    )
    loopback.enqueue(Reply.json({"object": "response.input_tokens", "input_tokens": 12}))
    usage = await model.count_tokens(PROMPT, None, None)
    assert usage.input_tokens == 12
    (request,) = loopback.requests
    assert (request.path, request.query) == ("/openai/responses/input_tokens", {"api-version": VERSION})
    assert request.headers["authorization"] == f"Bearer {TOKEN}-1"


async def test_any_http_model_takes_a_token_source_on_its_provider(loopback: LoopbackServer) -> None:
    """The hook is not Azure's own: an OpenAI-compatible server behind rotating bearer tokens."""
    from trio_direct.models import BearerTokenSource, Provider
    from trio_direct.models.openai import OpenAIChatModel

    tokens = iter(["rotating-token-aaaaaaaa", "rotating-token-bbbbbbbb"])

    async def next_token() -> str:
        return next(tokens)

    source = BearerTokenSource(provider=next_token)
    model = OpenAIChatModel("m", provider=Provider("acme", loopback.url + "/v1", token=source))
    assert "rotating" not in repr(model.provider) and "next_token" in repr(source)
    loopback.enqueue(Reply.json(completion()), Reply.sse(sse_text("x")))
    await model_request(model, PROMPT)
    async with model_request_stream(model, PROMPT) as stream:
        async for _ in stream:
            pass
    first, second = loopback.requests
    assert first.headers["authorization"] == "Bearer rotating-token-aaaaaaaa"
    assert second.headers["authorization"] == "Bearer rotating-token-bbbbbbbb"
    with pytest.raises(UserError, match="exactly one"):
        BearerTokenSource()
