"""Regenerate ``google_cloud_requests.json``: what pydantic-ai-slim 2.68's ``GoogleModel`` sends to Vertex AI.

Not a test and not shipped. The same oracle venv as ``make_google_fixtures.py`` (the captures need the
``google-genai`` SDK, which trio_direct never depends on)::

    python -m venv /tmp/oracle
    /tmp/oracle/bin/pip install "pydantic-ai-slim[google]==2.68.0" "google-genai==2.34.0"
    /tmp/oracle/bin/python tests/data/make_google_cloud_fixtures.py

Each scenario goes through ``pydantic_ai.direct`` with ``GoogleCloudProvider`` (project mode: fixed OAuth2
credentials whose token never expires, project ``my-proj``, a location; or express mode: an API key)
over an ``httpx2.MockTransport``, which records the path, query, Vertex headers and body the SDK sent. The
scenarios are ``make_google_fixtures.py``'s (the Gemini API's) plus Vertex's own: file URLs sent as
references, ``gs://`` uploads, service-tier headers, histories from ``google-cloud``, publisher models,
locations. ``count_tokens`` is recorded for the non-streamed ones (Vertex's ``countTokens`` takes the
system instruction, tools and generation config as well as the contents).
"""

import asyncio
import json
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import httpx2  # noqa: E402
from google.oauth2.credentials import Credentials  # noqa: E402
from make_google_fixtures import (  # noqa: E402
    CASES,
    HELLO,
    PNG,
    REPLY,
    SIG,
    T,
    dump_messages,
    make_params,
    params_spec,
    req,
    resp,
    tool,
    user,
)
from pydantic_ai import direct  # noqa: E402
from pydantic_ai import messages as m  # noqa: E402
from pydantic_ai.direct import model_request, model_request_stream  # noqa: E402
from pydantic_ai.models import ModelRequestParameters  # noqa: E402
from pydantic_ai.models.google import GoogleModel  # noqa: E402
from pydantic_ai.providers.google_cloud import GoogleCloudProvider  # noqa: E402
from pydantic_ai.settings import ToolOrOutput  # noqa: E402

warnings.simplefilter("ignore")

TOKEN = "ya29.fixture-token"
API_KEY = "AIza-fixture"
#: Headers worth comparing (the rest is the SDK's own: user agent, client info, retries).
HEADERS = (
    "authorization",
    "x-goog-api-key",
    "x-foo",
    "x-server-timeout",
    "x-vertex-ai-llm-request-type",
    "x-vertex-ai-llm-shared-request-type",
)

CLOUD = {"provider_name": "google-cloud", "provider_url": "https://us-central1-aiplatform.googleapis.com/"}

#: Vertex's own scenarios: ``(name, model, messages, settings, params spec, stream, target)``; the
#: target is ``{"location": ...}`` (project mode) or ``{"express": True}``.
VERTEX_CASES = [
    ("v_plain_global", "gemini-2.5-flash", HELLO, None, None, False, {"location": "global"}),
    ("v_plain_eu", "gemini-2.5-flash", HELLO, None, None, False, {"location": "eu"}),
    ("v_plain_europe_west4", "gemini-2.5-pro", HELLO, None, None, True, {"location": "europe-west4"}),
    ("v_express", "gemini-2.5-flash", HELLO, None, None, False, {"express": True}),
    ("v_express_stream", "gemini-2.5-flash", HELLO, None, None, True, {"express": True}),
    ("v_publisher_model", "anthropic/claude-sonnet-4-5", HELLO, None, None, False, {"location": "us-east5"}),
    (
        "v_file_urls_as_references",
        "gemini-2.5-flash",
        [
            req(
                user(
                    [
                        "Describe",
                        m.ImageUrl("https://example.com/cat.png"),
                        m.DocumentUrl("gs://bucket/doc.pdf", media_type="application/pdf"),
                        m.VideoUrl("https://example.com/v.mp4"),
                        m.AudioUrl("gs://bucket/a.mp3", media_type="audio/mpeg"),
                    ]
                )
            )
        ],
        None,
        None,
        False,
        {"location": "us-central1"},
    ),
    (
        "v_gs_upload",
        "gemini-2.5-flash",
        [
            req(
                user(
                    [
                        "Read",
                        m.UploadedFile(
                            "gs://bucket/f.pdf", provider_name="google-cloud", media_type="application/pdf"
                        ),
                    ]
                )
            )
        ],
        None,
        None,
        False,
        {"location": "us-central1"},
    ),
    (
        "v_binary_and_video_metadata",
        "gemini-2.5-flash",
        [
            req(
                user(
                    [
                        m.BinaryContent(PNG, media_type="image/png"),
                        m.VideoUrl(
                            "gs://bucket/v.mp4",
                            vendor_metadata={"start_offset": "1s", "end_offset": "5s", "fps": 2},
                        ),
                    ]
                )
            )
        ],
        None,
        None,
        False,
        {"location": "us-central1"},
    ),
    (
        "v_service_tier_flex",
        "gemini-2.5-flash",
        HELLO,
        {"google_cloud_service_tier": "pt_then_flex"},
        None,
        False,
        {"location": "us-central1"},
    ),
    (
        "v_service_tier_priority",
        "gemini-2.5-flash",
        HELLO,
        {"service_tier": "priority"},
        None,
        False,
        {"location": "us-central1"},
    ),
    (
        "v_service_tier_provisioned",
        "gemini-2.5-flash",
        HELLO,
        {"google_cloud_service_tier": "pt_only"},
        None,
        True,
        {"location": "us-central1"},
    ),
    (
        "v_history_signed_from_google_cloud",
        "gemini-2.5-flash",
        [
            req(user("Weather?")),
            resp(
                m.ThinkingPart("hmm", signature=SIG, provider_name="google-cloud"),
                m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
                **CLOUD,
            ),
            req(m.ToolReturnPart("get_weather", "sunny", tool_call_id="call_1", timestamp=T)),
        ],
        None,
        params_spec(function_tools=[tool()]),
        False,
        {"location": "us-central1"},
    ),
    (
        "v_history_signed_from_gla",
        "gemini-2.5-flash",
        [
            req(user("Weather?")),
            resp(
                m.ThinkingPart("hmm", signature=SIG, provider_name="google"),
                m.ToolCallPart("get_weather", {"city": "Paris"}, tool_call_id="call_1"),
            ),
            req(m.ToolReturnPart("get_weather", "sunny", tool_call_id="call_1", timestamp=T)),
        ],
        None,
        params_spec(function_tools=[tool()]),
        False,
        {"location": "us-central1"},
    ),
    (
        "v_native_tools",
        "gemini-2.5-flash",
        [req(user("Search"), instructions="Be brief.")],
        {"temperature": 0.2, "max_tokens": 100, "seed": 3, "stop_sequences": ["END"]},
        params_spec(native_tools=[{"kind": "web_search"}, {"kind": "code_execution"}]),
        False,
        {"location": "us-central1"},
    ),
    (
        "v_thinking_gemini_3",
        "gemini-3-pro-preview",
        [req(user("Think"), instructions="Be exact.")],
        {"thinking": "high", "top_p": 0.9, "top_k": 20, "presence_penalty": 0.1, "frequency_penalty": 0.2},
        None,
        False,
        {"location": "global"},
    ),
    (
        "v_native_output",
        "gemini-2.5-flash",
        HELLO,
        None,
        {
            **params_spec(
                output_mode="native",
                allow_text_output=False,
                output_object={
                    "json_schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
                    "name": "Out",
                    "description": None,
                    "strict": None,
                },
            )
        },
        False,
        {"location": "us-central1"},
    ),
    (
        "v_extra_headers_and_timeout",
        "gemini-2.5-flash",
        HELLO,
        {"extra_headers": {"x-foo": "bar"}, "timeout": 30},
        None,
        False,
        {"location": "us-central1"},
    ),
]


def make_model(model_name, target, handler):
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    if target.get("express"):
        provider = GoogleCloudProvider(api_key=API_KEY, http_client=client)
    else:
        provider = GoogleCloudProvider(
            credentials=Credentials(token=TOKEN),
            project="my-proj",
            location=target["location"],
            http_client=client,
        )
    return GoogleModel(model_name, provider=provider)


def recorder(seen, stream, reply):
    def handler(request: httpx2.Request):
        seen["body"] = json.loads(request.content)
        seen["path"] = request.url.path
        query = request.url.query
        seen["query"] = query.decode() if isinstance(query, bytes) else str(query)
        seen["host"] = request.url.host
        seen["headers"] = {k.lower(): v for k, v in request.headers.items() if k.lower() in HEADERS}
        if stream:
            sse = "data: " + json.dumps(reply) + "\r\n\r\n"
            return httpx2.Response(200, content=sse.encode(), headers={"content-type": "text/event-stream"})
        return httpx2.Response(200, json=reply)

    return handler


def warnings_of(caught):
    return [
        str(x.message)
        for x in caught
        if "Deprecat" not in type(x.message).__name__ and "google/genai" not in x.filename.replace("\\", "/")
    ]


def capture(model_name, messages, settings, params, stream, target):
    seen = {}
    model = make_model(model_name, target, recorder(seen, stream, REPLY))

    async def go():
        if stream:
            async with model_request_stream(
                model, messages, model_settings=settings, model_request_parameters=params
            ) as s:
                async for _ in s:
                    pass
        else:
            await model_request(model, messages, model_settings=settings, model_request_parameters=params)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            asyncio.run(go())
        except Exception as exc:
            return {"error": type(exc).__name__, "message": str(exc)[:300]}
    return {**seen, "warnings": warnings_of(caught)}


def capture_count(model_name, messages, settings, params, target):
    seen = {}
    model = make_model(model_name, target, recorder(seen, False, {"totalTokens": 7}))
    mrp = params or ModelRequestParameters()

    async def go():
        # what 2.68's direct API does before `Model.request`, so the count sees the same history
        bridged = direct._ensure_instruction_parts(messages, mrp)
        prepared = direct._prepare_messages_carrying_a_retry(model, messages, settings, bridged)
        return await model.count_tokens(prepared, settings, bridged)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            usage = asyncio.run(go())
        except Exception as exc:
            return {"error": type(exc).__name__, "message": str(exc)[:300], "sent": "body" in seen}
    return {**seen, "input_tokens": usage.input_tokens, "warnings": warnings_of(caught)}


def jsonable_settings(settings):
    if settings is None:
        return None
    return {
        k: ({"__tool_or_output__": v.function_tools} if isinstance(v, ToolOrOutput) else v)
        for k, v in settings.items()
    }


def main():
    out = []
    scenarios = [(*case, {"location": "us-central1"}) for case in CASES] + VERTEX_CASES
    for name, model_name, messages, settings, spec, stream, target in scenarios:
        expected = capture(model_name, messages, settings, make_params(spec), stream, target)
        entry = {
            "name": name,
            "model": model_name,
            "target": target,
            "messages": dump_messages(messages),
            "settings": jsonable_settings(settings),
            "params": spec,
            "stream": stream,
            "expected": expected,
        }
        if not stream:
            entry["count_tokens"] = capture_count(model_name, messages, settings, make_params(spec), target)
        out.append(entry)
        print(name, "error " + expected["error"] if "error" in expected else "ok", file=sys.stderr)
    (HERE / "google_cloud_requests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(out)} scenarios", file=sys.stderr)


if __name__ == "__main__":
    main()
