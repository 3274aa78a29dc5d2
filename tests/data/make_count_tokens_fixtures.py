"""Regenerate ``count_tokens_<provider>.json``: what pydantic-ai-slim 2.68's ``Model.count_tokens`` sends.

Not a test and not shipped. For every non-streamed request scenario of the provider's own fixture
generator (``make_<provider>_fixtures.py`` beside this file), it prepares the history as 2.68's direct
API prepares it for ``model_request`` (instruction parts bridged, retries prepared), calls the model's
``count_tokens`` against an ``httpx2.MockTransport`` and records the path, query, headers and body it
sent, or the exception it raised. Each provider needs its SDK, as its fixture generator does::

    python -m pip install --target /tmp/anthropic_sdk anthropic==2.12.0
    PYTHONPATH=/tmp/anthropic_sdk .venv/bin/python tests/data/make_count_tokens_fixtures.py anthropic
    .venv/bin/python tests/data/make_count_tokens_fixtures.py openai_responses
    /tmp/oracle/bin/python tests/data/make_count_tokens_fixtures.py google   # see make_google_fixtures.py
    .venv/bin/python tests/data/make_count_tokens_fixtures.py bedrock   # boto3 (the dev extra)

Bedrock goes through botocore rather than httpx2: its request is taken from botocore's ``before-send``
event (the bytes it would put on the wire) and answered there, with botocore's retries off.
"""

import asyncio
import importlib
import json
import sys
import warnings
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import httpx2  # noqa: E402
from pydantic_ai import direct  # noqa: E402
from pydantic_ai.messages import ModelMessagesTypeAdapter  # noqa: E402
from pydantic_ai.models import ModelRequestParameters  # noqa: E402
from pydantic_ai.settings import ToolOrOutput  # noqa: E402

#: What each provider's count endpoint answers.
REPLIES = {
    "anthropic": {"input_tokens": 7},
    "google": {"totalTokens": 7},
    "openai_responses": {"object": "response.input_tokens", "input_tokens": 7},
    "bedrock": {"inputTokens": 7},
}
#: Headers worth comparing (everything else is the SDK's own: user agent, retries, platform).
HEADERS = ("anthropic-beta", "x-custom", "x-foo", "x-trace", "x-goog-api-key", "x-server-timeout")


def scenarios(provider: str) -> list[tuple[str, str, list[Any], Any, Any]]:
    """``(name, model, messages, settings, params)`` of the provider's non-streamed request scenarios."""
    module: Any = importlib.import_module(f"make_{provider}_fixtures")
    if provider == "bedrock":
        return list(module.CASES)
    if provider == "openai_responses":
        return [
            (c["name"], c["model"], c["messages"], module.make_settings(c["settings"]), c["params"])
            for c in module.request_scenarios()
            if not c["stream"]
        ]
    return [
        (name, model, msgs, settings, spec)
        for name, model, msgs, settings, spec, stream in module.CASES
        if not stream
    ]


def model_for(provider: str, model_name: str, client: httpx2.AsyncClient) -> Any:
    if provider == "anthropic":
        from pydantic_ai.models.anthropic import AnthropicModel
        from pydantic_ai.providers.anthropic import AnthropicProvider

        return AnthropicModel(model_name, provider=AnthropicProvider(api_key="k", http_client=client))
    if provider == "google":
        from pydantic_ai.models.google import GoogleModel
        from pydantic_ai.providers.google import GoogleProvider

        return GoogleModel(model_name, provider=GoogleProvider(api_key="k", http_client=client))
    from openai import AsyncOpenAI
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    return OpenAIResponsesModel(
        model_name,
        provider=OpenAIProvider(openai_client=AsyncOpenAI(api_key="sk-fixture", http_client=client)),
    )


def bedrock_model(model_name: str, answer: Any) -> Any:
    """2.68's ``BedrockConverseModel`` on a boto3 client whose ``before-send`` hook calls ``answer(request)``
    for the reply instead of sending anything; botocore's retries are off."""
    import boto3
    from botocore.config import Config
    from pydantic_ai.models.bedrock import BedrockConverseModel
    from pydantic_ai.providers.bedrock import BedrockProvider

    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key="SECRET",
        config=Config(retries={"total_max_attempts": 1}),
    )
    client.meta.events.register("before-send.bedrock-runtime.*", lambda request, **_: answer(request))
    return BedrockConverseModel(model_name, provider=BedrockProvider(bedrock_client=client))


def _aws_response(request: Any, status: int, body: Any) -> Any:
    import io

    from botocore.awsrequest import AWSResponse

    class Raw(io.BytesIO):
        def stream(self, amt: int = 1024, decode_content: Any = None) -> Any:
            while chunk := self.read(amt):
                yield chunk

    headers = {"content-type": "application/json"}
    return AWSResponse(request.url, status, headers, Raw(json.dumps(body).encode()))


def capture(
    provider: str, model_name: str, messages: list[Any], settings: Any, params: Any
) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def answer(request: Any) -> Any:
        seen["body"] = json.loads(request.body)
        url = request.url.split("amazonaws.com", 1)[1]
        seen["path"], _, seen["query"] = url.partition("?")
        seen["headers"] = {
            k.lower(): (v.decode() if isinstance(v, bytes) else v)
            for k, v in request.headers.items()
            if k.lower() in HEADERS
        }
        return _aws_response(request, 200, REPLIES[provider])

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen["body"] = json.loads(request.content)
        seen["path"] = request.url.path
        query = request.url.query
        seen["query"] = query.decode() if isinstance(query, bytes) else str(query)
        seen["headers"] = {k.lower(): v for k, v in request.headers.items() if k.lower() in HEADERS}
        return httpx2.Response(200, json=REPLIES[provider])

    if provider == "bedrock":
        model = bedrock_model(model_name, answer)
    else:
        model = model_for(provider, model_name, httpx2.AsyncClient(transport=httpx2.MockTransport(handler)))
    module: Any = importlib.import_module(f"make_{provider}_fixtures")
    mrp = module.make_params(params) or ModelRequestParameters()

    async def go() -> Any:
        # what 2.68's direct API does before `Model.request`, so the count sees the same history
        bridged = direct._ensure_instruction_parts(messages, mrp)
        prepared = direct._prepare_messages_carrying_a_retry(model, messages, settings, bridged)
        return await model.count_tokens(prepared, settings, bridged)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            usage = asyncio.run(go())
        except Exception as exc:  # the error is the expectation
            return {"error": type(exc).__name__, "message": str(exc)[:300], "sent": "body" in seen}
    return {
        **seen,
        "input_tokens": usage.input_tokens,
        "warnings": [
            str(w.message)
            for w in caught
            if not issubclass(w.category, DeprecationWarning) and "google/genai" not in w.filename
        ],
    }


#: ``(status, body)`` error replies per provider: what 2.68 raises for each is recorded.
ERRORS = {
    "anthropic": [
        (status, {"type": "error", "error": {"type": kind, "message": f"{kind} happened"}})
        for status, kind in (
            (400, "invalid_request_error"),
            (401, "authentication_error"),
            (404, "not_found_error"),
            (413, "request_too_large"),
            (429, "rate_limit_error"),
            (500, "api_error"),
            (529, "overloaded_error"),
        )
    ],
    "openai_responses": [
        (status, {"error": {"message": f"{code} happened", "type": kind, "param": None, "code": code}})
        for status, kind, code in (
            (400, "invalid_request_error", "context_length_exceeded"),
            (400, "invalid_request_error", None),
            (401, "invalid_request_error", "invalid_api_key"),
            (404, "invalid_request_error", "model_not_found"),
            (429, "requests", "rate_limit_exceeded"),
            (429, "insufficient_quota", "insufficient_quota"),
            (500, "server_error", None),
            (503, "server_error", None),
        )
    ],
    "google": [
        (status, {"error": {"code": status, "message": f"{kind} happened", "status": kind}})
        for status, kind in (
            (400, "INVALID_ARGUMENT"),
            (403, "PERMISSION_DENIED"),
            (404, "NOT_FOUND"),
            (429, "RESOURCE_EXHAUSTED"),
            (500, "INTERNAL"),
            (503, "UNAVAILABLE"),
        )
    ],
}
ERRORS["bedrock"] = [
    (status, {"__type": code, "message": message})
    for status, code, message in (
        (400, "ValidationException", "The provided model identifier is invalid."),
        (400, "ValidationException", "Input is too long for requested model."),
        (400, "ValidationException", "This model doesn't support counting tokens."),
        (403, "AccessDeniedException", "You don't have access to the model."),
        (404, "ResourceNotFoundException", "Model not found."),
        (429, "ThrottlingException", "Too many requests."),
        (500, "InternalServerException", "Internal error."),
        (503, "ServiceUnavailableException", "The service is overloaded."),
    )
]
MODELS = {
    "anthropic": "claude-sonnet-4-5",
    "openai_responses": "gpt-4o",
    "google": "gemini-2.5-flash",
    "bedrock": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
}


def capture_error(provider: str, status: int, body: dict[str, Any]) -> dict[str, Any]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json=body)

    if provider == "bedrock":
        model = bedrock_model(MODELS[provider], lambda request: _aws_response(request, status, body))
    else:
        client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        model = model_for(provider, MODELS[provider], client)
    settings = {"max_retries": 0}
    try:
        asyncio.run(
            model.count_tokens(
                [direct.messages.ModelRequest.user_text_prompt("hi")], settings, ModelRequestParameters()
            )
        )
    except Exception as exc:
        return {
            "type": type(exc).__name__,
            "status_code": getattr(exc, "status_code", None),
            **(
                {"suggested_model_id": exc.suggested_model_id}
                if getattr(exc, "suggested_model_id", None)
                else {}
            ),
        }
    raise AssertionError("no error")


def jsonable_settings(settings: Any) -> Any:
    if settings is None:
        return None
    return {
        k: ({"__tool_or_output__": v.function_tools} if isinstance(v, ToolOrOutput) else v)
        for k, v in settings.items()
    }


def main(provider: str) -> None:
    out = []
    for name, model_name, messages, settings, params in scenarios(provider):
        expected = capture(provider, model_name, messages, settings, params)
        out.append(
            {
                "name": name,
                "model": model_name,
                "messages": json.loads(ModelMessagesTypeAdapter.dump_json(messages)),
                "settings": jsonable_settings(settings),
                "params": params,
                "expected": expected,
            }
        )
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    errors = [
        {"status": status, "body": body, "expected": capture_error(provider, status, body)}
        for status, body in ERRORS[provider]
    ]
    data = {"requests": out, "errors": errors}
    (HERE / f"count_tokens_{provider}.json").write_text(json.dumps(data, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1])
