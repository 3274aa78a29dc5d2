"""Amazon Bedrock Mantle (``bedrock-mantle:``): OpenAI models on Mantle's Responses API over a real
loopback server — routing per model, response-scoped tool-call ids (qualified when read and streamed,
unqualified when sent back), the bearer key and SigV4 signing (checked with botocore's own verifier
inputs), request bodies against pydantic-ai 2.68's (run live against the same server), streams and early
exit, errors, and secrets kept out of errors and reprs."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import trio

from tests.loopback import LoopbackServer, Reply, stall
from trio_direct import (
    ModelRequest,
    ModelRequestParameters,
    ModelResponse,
    PartStartEvent,
    TextPart,
    ToolCallPart,
    ToolDefinition,
    ToolReturnPart,
    model_request,
    model_request_stream,
)
from trio_direct._aws.credentials import is_loopback_url
from trio_direct.exceptions import (
    ModelAuthenticationError,
    ModelHTTPError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    UserError,
)
from trio_direct.models import infer_model, known_prefixes
from trio_direct.models.openai_responses import (
    BedrockMantleResponsesModel,
    mantle_interface,
    mantle_origin,
)

KEY = "ABSKbedrock-mantle-api-key-canary-123456"
SECRET = "mantle-secret-access-key-canary-abcdef"
PROMPT = [ModelRequest.user_text_prompt("Hello")]
GPT = "openai.gpt-5.6-luna"
TOOL = ToolDefinition(
    name="get_weather",
    description="Weather",
    parameters_json_schema={
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
)


@pytest.fixture
def aws_env() -> Iterator[None]:
    names = [k for k in os.environ if k.startswith(("AWS_", "BEDROCK_MANTLE"))]
    env = {k: v for k, v in os.environ.items() if k not in names}
    env |= {
        "AWS_REGION": "us-east-1",
        "TRIO_DIRECT_AWS_CREDENTIAL_CHAIN": "off",
        "AWS_CONFIG_FILE": "/nonexistent",
    }
    env |= {"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def mantle(srv: LoopbackServer, name: str = GPT, **kw: Any) -> BedrockMantleResponsesModel:
    kw.setdefault("api_key", KEY)
    return BedrockMantleResponsesModel(name, base_url=srv.url, region_name="us-east-1", **kw)


def response(*output: dict[str, Any], rid: str = "resp_abc") -> dict[str, Any]:
    return {
        "id": rid,
        "object": "response",
        "created_at": 1769546683,
        "status": "completed",
        "model": GPT,
        "output": list(output),
        "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8},
    }


def call(call_id: str = "call_0", item_id: str = "fc_1") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id,
        "call_id": call_id,
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
        "status": "completed",
    }


def message(text: str = "ok") -> dict[str, Any]:
    return {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


# --------------------------------------------------------------------------------------------------
# resolution and routing


def test_routing_per_model() -> None:
    assert mantle_interface("openai.gpt-5.6-luna") == "openai-responses"
    assert mantle_interface("us.openai.gpt-oss-120b-1:0") == "responses"
    assert mantle_interface("openai.gpt-oss-safeguard-20b") == "chat"
    with pytest.raises(UserError, match="not an OpenAI model"):
        mantle_interface("anthropic.claude-sonnet-4-5")
    assert mantle_origin("https://bedrock-mantle.us-east-1.api.aws/openai/v1/") == (
        "https://bedrock-mantle.us-east-1.api.aws"
    )
    assert mantle_origin("http://127.0.0.1:9/v1") == "http://127.0.0.1:9"


def test_resolves_from_the_environment(aws_env: None) -> None:
    assert "bedrock-mantle" in known_prefixes()
    with mock.patch.dict(os.environ, {"AWS_BEARER_TOKEN_BEDROCK": KEY}):
        gpt = infer_model(f"bedrock-mantle:{GPT}")
        oss = infer_model("bedrock-mantle:openai.gpt-oss-120b")
    assert isinstance(gpt, BedrockMantleResponsesModel) and isinstance(oss, BedrockMantleResponsesModel)
    assert gpt.base_url == "https://bedrock-mantle.us-east-1.api.aws/openai/v1/"
    assert oss.base_url == "https://bedrock-mantle.us-east-1.api.aws/v1/"
    assert gpt.system == "bedrock-mantle"
    assert KEY not in repr(gpt)
    with pytest.raises(UserError, match="Chat Completions"):
        infer_model("bedrock-mantle:openai.gpt-oss-safeguard-20b")


def test_the_api_key_goes_over_plain_http_only_to_loopback(aws_env: None) -> None:
    assert is_loopback_url("http://127.0.0.1:8080") and is_loopback_url("http://localhost/v1")
    assert is_loopback_url("http://[::1]:9/") and not is_loopback_url("http://10.0.0.1/")
    with (
        mock.patch.dict(
            os.environ, {"AWS_BEARER_TOKEN_BEDROCK": KEY, "BEDROCK_MANTLE_BASE_URL": "http://10.1.2.3"}
        ),
        pytest.raises(UserError, match="HTTPS"),
    ):
        infer_model(f"bedrock-mantle:{GPT}")
    with mock.patch.dict(
        os.environ, {"AWS_BEARER_TOKEN_BEDROCK": KEY, "BEDROCK_MANTLE_BASE_URL": "http://127.0.0.1:1"}
    ):
        assert infer_model(f"bedrock-mantle:{GPT}").base_url == "http://127.0.0.1:1/openai/v1/"


def test_missing_credentials_are_a_user_error(aws_env: None) -> None:
    with pytest.raises(UserError, match="AWS_BEARER_TOKEN_BEDROCK"):
        infer_model(f"bedrock-mantle:{GPT}")


# --------------------------------------------------------------------------------------------------
# over loopback


async def test_request_with_the_bearer_key(loopback: LoopbackServer, aws_env: None) -> None:
    loopback.enqueue(Reply.json(response(message("hi"))))
    result = await model_request(mantle(loopback), PROMPT)
    assert result.parts[0] == TextPart("hi", id="msg_1", provider_name="bedrock-mantle")
    assert result.provider_name == "bedrock-mantle" and result.canonical_system is None
    sent = loopback.requests[0]
    assert sent.path == "/openai/v1/responses"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == GPT


async def test_gpt_oss_goes_to_v1_without_forced_tool_choice(loopback: LoopbackServer, aws_env: None) -> None:
    loopback.enqueue(Reply.json(response(message())))
    params = ModelRequestParameters(output_tools=[TOOL], output_mode="tool", allow_text_output=False)
    await model_request(mantle(loopback, "openai.gpt-oss-120b"), PROMPT, model_request_parameters=params)
    sent = loopback.requests[0]
    assert sent.path == "/v1/responses"
    assert sent.json["tool_choice"] == "auto"


async def test_sigv4_signed_request(loopback: LoopbackServer, aws_env: None) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    model = BedrockMantleResponsesModel(
        GPT,
        base_url=loopback.url,
        region_name="us-west-2",
        aws_access_key_id="AKIDMANTLE",
        aws_secret_access_key=SECRET,
    )
    loopback.enqueue(Reply.json(response(message())))
    await model_request(model, PROMPT)
    sent = loopback.requests[0]
    auth = sent.headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDMANTLE/")
    assert "/us-west-2/bedrock-mantle/aws4_request" in auth
    # botocore signs the same request to the same signature
    signed_names = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    headers = {name: sent.headers[name] for name in signed_names if name != "host"}
    botocore_request = AWSRequest("POST", loopback.url + sent.path, data=sent.body, headers=headers)
    signer = SigV4Auth(Credentials("AKIDMANTLE", SECRET), "bedrock-mantle", "us-west-2")
    with mock.patch("botocore.auth.datetime") as clock:
        import datetime

        clock.datetime.now.return_value = datetime.datetime.strptime(
            sent.headers["x-amz-date"], "%Y%m%dT%H%M%SZ"
        )
        clock.datetime.utcnow.return_value = clock.datetime.now.return_value
        signer.add_auth(botocore_request)
    assert botocore_request.headers["Authorization"].split("Signature=")[1] == auth.split("Signature=")[1]


async def test_tool_call_ids_are_response_scoped(loopback: LoopbackServer, aws_env: None) -> None:
    model = mantle(loopback)
    params = ModelRequestParameters(function_tools=[TOOL])
    loopback.enqueue(Reply.json(response(call("call_0"), rid="resp_one")))
    first = await model_request(model, PROMPT, model_request_parameters=params)
    (tool_call,) = first.parts
    assert isinstance(tool_call, ToolCallPart) and tool_call.tool_call_id == "resp_one:call_0"
    history = [
        *PROMPT,
        first,
        ModelRequest([ToolReturnPart("get_weather", "sunny", tool_call.tool_call_id)]),
    ]
    loopback.enqueue(Reply.json(response(call("call_0", "fc_2"), rid="resp_two")))
    second = await model_request(model, history, model_request_parameters=params)
    assert isinstance(second.parts[0], ToolCallPart) and second.parts[0].tool_call_id == "resp_two:call_0"
    items = loopback.requests[1].json["input"]
    sent_call = next(i for i in items if i.get("type") == "function_call")
    sent_output = next(i for i in items if i.get("type") == "function_call_output")
    assert sent_call["call_id"] == "call_0" and sent_output["call_id"] == "call_0"


def test_ids_from_elsewhere_are_sent_as_they_are(aws_env: None) -> None:
    model = BedrockMantleResponsesModel(GPT, api_key=KEY, region_name="us-east-1")
    other = ModelResponse([ToolCallPart("get_weather", {}, "resp_x:call_0")], provider_name="openai")
    history = [*PROMPT, other, ModelRequest([ToolReturnPart("get_weather", "ok", "resp_x:call_0")])]
    from trio_direct import ModelSettings

    request = model.build_request(
        history, ModelSettings(), ModelRequestParameters(function_tools=[TOOL]), stream=False
    )
    items = json.loads(request.body)["input"]
    assert [i["call_id"] for i in items if "call_id" in i] == ["resp_x:call_0", "resp_x:call_0"]


def _sse(*events: dict[str, Any]) -> list[str]:
    return [f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events]


async def test_streamed_tool_call_is_qualified(loopback: LoopbackServer, aws_env: None) -> None:
    created = {
        "type": "response.created",
        "sequence_number": 0,
        "response": {**response(), "status": "in_progress"},
    }
    added = {
        "type": "response.output_item.added",
        "sequence_number": 1,
        "output_index": 0,
        "item": {**call(), "arguments": ""},
    }
    done = {"type": "response.output_item.done", "sequence_number": 2, "output_index": 0, "item": call()}
    completed = {"type": "response.completed", "sequence_number": 3, "response": response(call())}
    loopback.enqueue(Reply.sse(_sse(created, added, done, completed)))
    async with model_request_stream(
        mantle(loopback), PROMPT, model_request_parameters=ModelRequestParameters(function_tools=[TOOL])
    ) as stream:
        async for _ in stream:
            pass
        parts = stream.get().parts
    assert isinstance(parts[0], ToolCallPart) and parts[0].tool_call_id == "resp_abc:call_0"


async def test_leaving_a_stream_early_closes_the_connection(loopback: LoopbackServer, aws_env: None) -> None:
    created = {
        "type": "response.created",
        "sequence_number": 0,
        "response": {**response(), "status": "in_progress"},
    }
    added = {
        "type": "response.output_item.added",
        "sequence_number": 1,
        "output_index": 0,
        "item": {**message(""), "content": []},
    }
    delta = {
        "type": "response.output_text.delta",
        "sequence_number": 2,
        "output_index": 0,
        "content_index": 0,
        "item_id": "msg_1",
        "delta": "Hi",
    }
    loopback.enqueue(Reply.sse(_sse(created, added, delta), then=stall()))
    async with model_request_stream(mantle(loopback), PROMPT) as stream:
        async for event in stream:
            assert isinstance(event, PartStartEvent)
            break
    with trio.fail_after(5):
        await loopback.wait_for_client_close_async()


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, ModelRequestRejectedError), (401, ModelAuthenticationError), (429, ModelRateLimitError)],
)
async def test_errors_are_categorized_and_secret_free(
    loopback: LoopbackServer, aws_env: None, status: int, error: type[ModelHTTPError]
) -> None:
    body = {
        "error": {
            "message": f"bad request with {KEY} and {SECRET}",
            "type": "invalid_request_error",
            "code": None,
        }
    }
    loopback.enqueue(Reply.json(body, status=status))
    with pytest.raises(error) as caught:
        await model_request(mantle(loopback), PROMPT)
    assert caught.value.status_code == status
    text = f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}"
    assert KEY not in text

    signing = BedrockMantleResponsesModel(
        GPT,
        base_url=loopback.url,
        region_name="us-east-1",
        aws_access_key_id="AKID",
        aws_secret_access_key=SECRET,
    )
    loopback.enqueue(Reply.json(body, status=status))
    with pytest.raises(error) as caught:
        await model_request(signing, PROMPT)
    assert SECRET not in f"{caught.value}\n{caught.value!r}\n{caught.value.body!r}\n{signing!r}"


# --------------------------------------------------------------------------------------------------
# request bodies against pydantic-ai 2.68 (tests/data/make_bedrock_mantle_fixtures.py captured them)

CAPTURES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "data" / "bedrock_mantle_requests.json").read_text()
)


@pytest.mark.parametrize("case", CAPTURES, ids=lambda c: c["name"])
def test_request_body_matches_2_68(aws_env: None, case: dict[str, Any]) -> None:
    from trio_direct import ModelSettings
    from trio_direct.serialization import messages_from_json

    model = BedrockMantleResponsesModel(
        case["model"],
        api_key=KEY,
        base_url="https://bedrock-mantle.us-east-1.api.aws",
        region_name="us-east-1",
    )
    output_tools = [ToolDefinition(**t, kind="output") for t in case["output_tools"]]
    params = ModelRequestParameters(
        function_tools=[ToolDefinition(**t) for t in case["function_tools"]],
        output_tools=output_tools,
        output_mode="tool" if output_tools else "text",
        allow_text_output=not output_tools,
    )
    messages = messages_from_json(json.dumps(case["messages"]).encode())
    with warnings.catch_warnings(record=True):  # 2.68 warns the same (dropped sampling settings)
        warnings.simplefilter("always")
        request = model.build_request(
            messages, ModelSettings(**(case["settings"] or {})), params, stream=False
        )
    assert request.url.endswith(case["expected"]["path"])
    assert json.loads(request.body) == case["expected"]["body"]


def test_there_are_captures() -> None:
    assert len(CAPTURES) >= 15
