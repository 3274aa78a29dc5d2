"""trio_direct.models.bedrock: Converse request bodies (against pydantic-ai 2.68's), responses, errors."""

from __future__ import annotations

import base64
import json
import warnings
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from trio_direct import ModelRequest, ModelRequestParameters, ToolDefinition, UserError
from trio_direct._aws.credentials import AWSConfig, AWSCredentials
from trio_direct.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelContextWindowExceededError,
    ModelHTTPError,
    ModelNotFoundError,
    ModelOverloadedError,
    ModelQuotaExceededError,
    ModelRateLimitError,
    ModelRequestRejectedError,
    ModelServerError,
    ModelUnavailableError,
    UnexpectedModelBehavior,
)
from trio_direct.messages import (
    Citation,
    ContentCitationAnchor,
    DocumentCitationSource,
    NativeToolCallPart,
    NativeToolReturnPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
)
from trio_direct.models import bedrock as br
from trio_direct.models import infer_model
from trio_direct.serialization import messages_from_python

from ._aws_helpers import SIGV4_CONFIG
from .captured import first_difference, params_from_capture, settings_from_capture
from .eventstream import encode_message

DATA = Path(__file__).parent / "data"
REQUEST_CASES: list[dict[str, Any]] = json.loads((DATA / "bedrock_requests.json").read_text())


def _model(
    model_id: str = "us.amazon.nova-micro-v1:0", config: AWSConfig = SIGV4_CONFIG
) -> br.BedrockConverseModel:
    return br.BedrockConverseModel(model_id, config=config)


# -- request bodies against pydantic-ai 2.68 ------------------------------------------------------


@pytest.mark.parametrize("case", REQUEST_CASES, ids=[c["name"] for c in REQUEST_CASES])
def test_request_body_matches_pydantic_ai(case: dict[str, Any]) -> None:
    """Each scenario's Converse body, path and warnings are what pydantic-ai 2.68 (through botocore) sent."""
    messages = messages_from_python(case["messages"])
    expected = case["expected"]
    settings = settings_from_capture(case["settings"])
    params = params_from_capture(case["params"], messages)
    model = _model(case["model"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        merged, params = model.prepare_request(settings, params)
        if "error" in expected:
            with pytest.raises(UserError) as info:
                model.build_request(messages, merged, params, stream=False)
            assert str(info.value) == expected["message"]
            return
        stream = expected["path"].endswith("/converse-stream")
        request = model.build_request(messages, merged, params, stream=stream)
    body = orjson.loads(request.body)
    assert first_difference(body, expected["body"]) is None
    assert request.url.removeprefix(SIGV4_CONFIG.endpoint_url) == expected["path"]
    assert [str(w.message) for w in caught] == expected["warnings"]


# -- requests: URL, auth, validation ---------------------------------------------------------------


def test_model_id_is_one_path_segment() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5"
    assert br.converse_url("https://h", arn, stream=True) == (
        "https://h/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2F"
        "us.anthropic.claude-sonnet-4-5/converse-stream"
    )
    request = _model("us.amazon.nova-micro-v1:0").build_request(
        [ModelRequest.user_text_prompt("hi")], {}, ModelRequestParameters(), stream=False
    )
    assert request.url == f"{SIGV4_CONFIG.endpoint_url}/model/us.amazon.nova-micro-v1%3A0/converse"
    assert httpx.URL(request.url).raw_path == b"/model/us.amazon.nova-micro-v1%3A0/converse"


@pytest.mark.parametrize("bad", ["", "a b", "../x", "x?y", "x#y", "é", "a\nb", "x" * 3000, ".", ".."])
def test_ids_that_cannot_be_names_are_refused_before_io(bad: str) -> None:
    with pytest.raises(UserError):
        br.BedrockConverseModel(bad, config=SIGV4_CONFIG)


def test_bedrock_inference_profile_setting_is_validated() -> None:
    model = _model()
    with pytest.raises(UserError):
        model.build_request(
            [ModelRequest.user_text_prompt("hi")],
            {"bedrock_inference_profile": "a/../b?x"},
            ModelRequestParameters(),
            stream=False,
        )  # type: ignore[typeddict-unknown-key]


def test_sigv4_headers() -> None:
    config = AWSConfig(
        region="eu-west-1",
        endpoint_url="https://bedrock-runtime.eu-west-1.amazonaws.com",
        credentials=AWSCredentials("AKIDEXAMPLE", "secret", "session-token-123"),
    )
    request = _model(config=config).build_request(
        [ModelRequest.user_text_prompt("hi")],
        {"extra_headers": {"x-custom": "1"}},
        ModelRequestParameters(),
        stream=True,
    )
    headers = dict(request.headers)
    assert headers["accept"] == "application/vnd.amazon.eventstream"
    assert headers["x-amz-security-token"] == "session-token-123"
    assert headers["x-custom"] == "1"
    auth = headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/bedrock/aws4_request" in auth
    assert "SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token;x-custom," in auth


def test_bearer_token_header() -> None:
    config = AWSConfig(
        region="us-east-1",
        endpoint_url="https://bedrock-runtime.us-east-1.amazonaws.com",
        bearer_token="tok-123456789",
    )
    request = _model(config=config).build_request(
        [ModelRequest.user_text_prompt("hi")], {}, ModelRequestParameters(), stream=False
    )
    assert request.headers["authorization"] == "Bearer tok-123456789"
    assert "x-amz-date" not in request.headers


def test_bearer_token_is_refused_over_plain_http() -> None:
    config = AWSConfig(region="us-east-1", endpoint_url="http://127.0.0.1:9", bearer_token="tok-123456789")
    with pytest.raises(UserError, match="only over HTTPS") as info:
        br.BedrockConverseModel("us.amazon.nova-micro-v1:0", config=config)
    assert "tok-123456789" not in str(info.value)


def test_models_only_on_mantle_are_refused() -> None:
    with pytest.raises(UserError, match="bedrock-mantle"):
        br.BedrockConverseModel("openai.gpt-5.4", config=SIGV4_CONFIG)


def test_infer_model_reads_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for var in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_BEARER_TOKEN_BEDROCK",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    monkeypatch.setenv("TRIO_DIRECT_AWS_CREDENTIAL_CHAIN", "off")  # else botocore's chain is asked, later
    with pytest.raises(UserError, match="no AWS credentials"):
        infer_model("bedrock:us.amazon.nova-micro-v1:0")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKID")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-key-123")
    model = infer_model("bedrock:us.amazon.nova-micro-v1:0")
    assert isinstance(model, br.BedrockConverseModel)
    assert model.base_url == "https://bedrock-runtime.us-west-2.amazonaws.com"
    assert model.model_id == "bedrock:us.amazon.nova-micro-v1:0"
    with pytest.raises(UserError, match="model id is needed"):
        infer_model("bedrock:")


# -- profiles ---------------------------------------------------------------------------------------


def test_profiles() -> None:
    claude = br.BedrockProfile.for_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    assert claude.is_claude and claude.max_output_tokens == 64_000 and not claude.adaptive_thinking
    assert claude.cache_retentions("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == ("5m", "1h")
    assert br.BedrockProfile.for_model("us.anthropic.claude-sonnet-4-6").adaptive_thinking
    nova = br.BedrockProfile.for_model("us.amazon.nova-lite-v1:0")
    assert (
        nova.supports_tool_choice
        and nova.prompt_caching
        and nova.supports_video
        and nova.top_k_variant == "nova"
    )
    assert not br.BedrockProfile.for_model("amazon.nova-micro-v1:0").supports_video
    assert br.BedrockProfile.for_model("us.meta.llama4-maverick-17b-instruct-v1:0").colocatable == frozenset()
    assert br.BedrockProfile.for_model("mistral.mistral-large-2407-v1:0").tool_result_format == "json"
    assert br.BedrockProfile.for_model("writer.palmyra-x5-v1:0").tool_result_status is False
    assert br.BedrockProfile.for_model("openai.gpt-5.4").on_converse is False
    assert br.BedrockProfile.for_model(
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-opus-4-8"
    ).is_claude
    assert br.split_model_id("us.anthropic.claude-haiku-4-5-20251001-v1:0") == (
        "anthropic",
        "claude-haiku-4-5-20251001",
    )


# -- responses --------------------------------------------------------------------------------------


def _parse(
    data: Any, model_id: str = "us.amazon.nova-micro-v1:0", headers: dict[str, str] | None = None
) -> Any:
    return _model(model_id).parse_response(
        # the HTTP layer hands over a case-insensitive mapping (httpx.Headers): lower-case keys here
        orjson.dumps(data), {k.lower(): v for k, v in (headers or {}).items()}, ModelRequestParameters(), {}
    )


def test_parse_text_tools_usage_and_finish_reason() -> None:
    response = _parse(
        {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"text": "Let me check."},
                        {"text": ""},
                        {"toolUse": {"toolUseId": "tu_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    ],
                }
            },
            "stopReason": "tool_use",
            "usage": {
                "inputTokens": 10,
                "outputTokens": 5,
                "totalTokens": 15,
                "cacheReadInputTokens": 100,
                "cacheWriteInputTokens": 7,
                "cacheDetails": [{"inputTokens": 7, "ttl": "1h"}],
            },
            "metrics": {"latencyMs": 12},
            "trace": {"guardrail": {}},
        },
        headers={"x-amzn-RequestId": "req-1"},
    )
    assert response.parts == [
        TextPart("Let me check."),
        ToolCallPart("get_weather", {"city": "Paris"}, "tu_1"),
    ]
    assert response.finish_reason == "tool_call"
    assert response.provider_details == {"finish_reason": "tool_use", "trace": {"guardrail": {}}}
    assert response.provider_response_id == "req-1"
    assert response.provider_name == "bedrock"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens, usage.cache_write_tokens) == (
        117,
        5,
        100,
        7,
    )
    assert usage.cache_write_1h_tokens == 7


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("stop_sequence", "stop"),
        ("malformed_tool_use", "error"),
        ("model_context_window_exceeded", "length"),
        ("something_new", None),
    ],
)
def test_finish_reasons(stop: str, finish: str | None) -> None:
    response = _parse({"output": {"message": {"content": []}}, "stopReason": stop, "usage": {}})
    assert response.finish_reason == finish


def test_parse_reasoning_claude() -> None:
    redacted = base64.b64encode(b"opaque-redacted").decode()
    response = _parse(
        {
            "output": {
                "message": {
                    "content": [
                        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "sig"}}},
                        {"reasoningContent": {"redactedContent": redacted}},
                        {"reasoningContent": {"reasoningText": {"text": "no signature"}}},
                        {"text": "done"},
                    ]
                }
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1},
        },
        model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    )
    assert response.parts == [
        ThinkingPart("hmm", signature="sig", provider_name="bedrock"),
        ThinkingPart("", id="redacted_content", signature="opaque-redacted", provider_name="bedrock"),
        ThinkingPart("no signature"),
        TextPart("done"),
    ]
    assert response.canonical_system == "anthropic"


def test_parse_code_interpreter() -> None:
    response = _parse(
        {
            "output": {
                "message": {
                    "content": [
                        {
                            "toolUse": {
                                "toolUseId": "c1",
                                "name": "nova_code_interpreter",
                                "input": {"snippet": "1+1"},
                                "type": "server_tool_use",
                            }
                        },
                        {
                            "toolResult": {
                                "toolUseId": "c1",
                                "content": [{"json": {"stdOut": "2"}}],
                                "status": "success",
                                "type": "nova_code_interpreter_result",
                            }
                        },
                    ]
                }
            },
            "stopReason": "end_turn",
            "usage": {},
        },
        model_id="us.amazon.nova-2-lite-v1:0",
    )
    call, result = response.parts
    assert call == NativeToolCallPart("code_execution", {"snippet": "1+1"}, "c1", provider_name="bedrock")
    assert isinstance(result, NativeToolReturnPart)
    assert (
        result.tool_name,
        result.content,
        result.tool_call_id,
        result.provider_name,
        result.provider_details,
    ) == ("code_execution", {"stdOut": "2"}, "c1", "bedrock", {"status": "success"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"not json", ModelAPIError),
        (b"{}", ModelAPIError),
        (b'{"output": {"message": {"content": [{"toolUse": {"name": "x"}}]}}}', UnexpectedModelBehavior),
    ],
)
def test_unreadable_bodies(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        _model().parse_response(body, {}, ModelRequestParameters(), {})


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "headers", "body", "category"),
    [
        (400, {}, {"message": "The provided model identifier is invalid."}, ModelNotFoundError),
        (400, {}, {"message": "Malformed input request"}, ModelRequestRejectedError),
        (
            400,
            {"x-amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/"},
            {"message": "Input is too long for requested model."},
            ModelContextWindowExceededError,
        ),
        (
            429,
            {"x-amzn-ErrorType": "ThrottlingException:http://internal"},
            {"message": "Too many requests"},
            ModelRateLimitError,
        ),
        (400, {"x-amzn-ErrorType": "ThrottlingException"}, {"message": "slow down"}, ModelRateLimitError),
        (
            403,
            {"x-amzn-ErrorType": "AccessDeniedException"},
            {"message": "no access"},
            ModelAuthenticationError,
        ),
        (
            403,
            {"x-amzn-ErrorType": "UnrecognizedClientException"},
            {"message": "bad token"},
            ModelAuthenticationError,
        ),
        (404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, {"message": "nope"}, ModelNotFoundError),
        (
            400,
            {"x-amzn-ErrorType": "ServiceQuotaExceededException"},
            {"message": "quota"},
            ModelQuotaExceededError,
        ),
        (500, {"x-amzn-ErrorType": "InternalServerException"}, {"message": "oops"}, ModelServerError),
        (
            503,
            {"x-amzn-ErrorType": "ServiceUnavailableException"},
            {"message": "try later"},
            ModelUnavailableError,
        ),
        (503, {}, {"message": "The model is overloaded"}, ModelOverloadedError),
        (424, {"x-amzn-ErrorType": "ModelStreamErrorException"}, {"message": "x"}, ModelServerError),
        (
            400,
            {},
            {"__type": "com.amazon#ValidationException", "message": "prompt is too long"},
            ModelContextWindowExceededError,
        ),
    ],
)
def test_http_errors_are_categorized_as_upstream(
    status: int, headers: dict[str, str], body: dict[str, Any], category: type[Exception]
) -> None:
    error = br.http_error(status, headers, orjson.dumps(body), "us.amazon.nova-micro-v1:0")
    assert isinstance(error, ModelHTTPError) and isinstance(error, category)
    assert type(error).__name__ == category.__name__
    assert error.status_code == status
    assert isinstance(error.body, dict) and error.body["Error"]["Message"] == body["message"]
    assert error.body["ResponseMetadata"]["HTTPStatusCode"] == status


def test_http_error_body_as_botocore_shows_it() -> None:
    error = br.http_error(400, {"x-amzn-requestid": "r-1"}, b'{"message": "bad"}', "m")
    assert error.body == {
        "Error": {"Message": "bad", "Code": "400"},
        "ResponseMetadata": {
            "RequestId": "r-1",
            "HTTPStatusCode": 400,
            "HTTPHeaders": {"x-amzn-requestid": "r-1"},
        },
    }
    assert error.provider_error_code == "400"
    assert (
        br.http_error(502, {}, b"<html>bad gateway</html>", "m").body["Error"]["Message"]
        == "<html>bad gateway</html>"
    )  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "message", "category", "status"),
    [
        ("throttlingException", "slow", ModelRateLimitError, 429),
        ("serviceUnavailableException", "down", ModelUnavailableError, 503),
        ("internalServerException", "oops", ModelServerError, 500),
        ("validationException", "bad", ModelRequestRejectedError, 400),
        ("modelStreamErrorException", "broke", ModelServerError, 424),
        ("modelTimeoutException", "slow", ModelHTTPError, 408),  # 408 has no category of its own (2.68)
    ],
)
def test_stream_exceptions(kind: str, message: str, category: type[Exception], status: int) -> None:
    frame = encode_message(
        {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"},
        orjson.dumps({"message": message}),
    )
    from trio_direct._aws.eventstream import EventStreamDecoder

    [decoded] = EventStreamDecoder().feed(frame)
    error = br.stream_exception(decoded, "m")
    assert isinstance(error, category) and isinstance(error, ModelHTTPError)
    assert error.status_code == status and error.in_stream


def test_unknown_stream_exception_is_an_api_error() -> None:
    from trio_direct._aws.eventstream import EventStreamMessage

    error = br.stream_exception(
        EventStreamMessage({":exception-type": "weirdException"}, b'{"message": "?"}'), "m"
    )
    assert type(error) is ModelAPIError and error.in_stream and "weirdException" in str(error)


# -- tool schemas -----------------------------------------------------------------------------------


def test_tool_schema_transforms() -> None:
    schema = {
        "type": "object",
        "title": "T",
        "properties": {"title": {"type": "string", "title": "Title"}, "n": {"type": "integer", "maximum": 3}},
        "$defs": {"X": {"type": "object", "properties": {}}},
    }
    plain = br.transform_tool_schema(schema, "bedrock", strict=False)
    assert (
        "title" not in plain
        and "title" in plain["properties"]
        and "title" not in plain["properties"]["title"]
    )
    strict = br.transform_tool_schema(schema, "bedrock", strict=True)
    assert strict["additionalProperties"] is False
    assert strict["properties"]["n"] == {"type": "integer", "description": "maximum=3"}
    recursive = {
        "type": "object",
        "properties": {"a": {"$ref": "#/$defs/A"}},
        "$defs": {"A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/A"}}}},
    }
    assert br.transform_tool_schema(recursive, "inline_defs", strict=False) == recursive


def test_a_tool_param_list_round_trips_through_the_request() -> None:
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="t", description="d")])
    request = _model().build_request([ModelRequest.user_text_prompt("hi")], {}, params, stream=False)
    assert orjson.loads(request.body)["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "t",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                    "description": "d",
                }
            }
        ],
        "toolChoice": {"auto": {}},
    }


def test_citations_as_pydantic_ai_maps_them() -> None:
    # expected: what 2.68's BedrockConverseModel made of the same body (run once against it)
    raw = [
        {
            "title": "Doc 1",
            "sourceContent": [{"text": "Paris is the capital of France"}],
            "location": {"documentChar": {"documentIndex": 0, "start": 0, "end": 30}},
        },
        {"location": {"web": {"url": "https://ex.com", "domain": "ex.com"}}, "title": "Ex"},
    ]
    response = _parse(
        {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {
                            "citationsContent": {
                                "content": [{"text": "Paris is "}, {"text": "the capital."}],
                                "citations": raw,
                            }
                        },
                        {"citationsContent": {"content": [], "citations": []}},
                        {"text": "plain"},
                    ],
                }
            },
            "stopReason": "end_turn",
            "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
        },
        model_id="us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    )
    from trio_direct.serialization import messages_to_python

    parts = messages_to_python([response])[0]["parts"]
    assert parts == [
        {
            "content": "Paris is the capital.",
            "id": None,
            "provider_name": "bedrock",
            "provider_details": {"citations": raw},
            "citations": [
                {
                    "sources": [
                        {
                            "document_id": None,
                            "title": "Doc 1",
                            "excerpts": ["Paris is the capital of France"],
                            "kind": "document",
                        },
                        {"url": "https://ex.com", "title": "Ex", "excerpts": [], "kind": "web"},
                    ],
                    "anchor": {"start": 0, "end": 21, "kind": "content"},
                }
            ],
            "part_kind": "text",
        },
        {
            "content": "plain",
            "id": None,
            "provider_name": None,
            "provider_details": None,
            "citations": None,
            "part_kind": "text",
        },
    ]


def test_streamed_citations_land_on_the_part_at_block_stop() -> None:
    from trio_direct._aws.eventstream import EventStreamDecoder
    from trio_direct._parts import PartsManager

    from .eventstream import event

    model = _model("us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    parts = PartsManager()
    mapper = model.event_stream_mapper(ModelRequestParameters(), parts, {})
    citation = {"title": "Doc", "sourceContent": [{"text": "x"}]}
    wire = b"".join(
        [
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "cited"}}),
            event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"citation": citation}}),
            event("contentBlockStop", {"contentBlockIndex": 0}),
        ]
    )
    out: list[Any] = []
    for message in EventStreamDecoder().feed(wire):
        mapper.feed(message, out)
    [part] = parts.get_parts()
    assert isinstance(part, TextPart) and part.content == "cited"
    assert part.provider_name == "bedrock"
    # the citation the provider builds in its JSON form is a Citation on the part
    assert part.citations == [
        Citation(
            [DocumentCitationSource(title="Doc", excerpts=["x"])],
            anchor=ContentCitationAnchor(start=0, end=5),
        )
    ]


def test_timeouts_from_the_environment_and_the_timeout_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_READ_TIMEOUT", "12.5")
    monkeypatch.setenv("AWS_CONNECT_TIMEOUT", "3")
    model = _model()
    request = model.build_request(
        [ModelRequest.user_text_prompt("hi")], {}, ModelRequestParameters(), stream=False
    )
    assert request.timeout == httpx.Timeout(12.5, connect=3.0, pool=None)
    # a `timeout` setting wins: the request leaves it to the HTTP layer's conversion of the setting
    request = model.build_request(
        [ModelRequest.user_text_prompt("hi")], {"timeout": 7}, ModelRequestParameters(), stream=False
    )
    assert request.timeout is None
    monkeypatch.setenv("AWS_READ_TIMEOUT", "soon")
    with pytest.raises(UserError, match="AWS_READ_TIMEOUT"):
        _model()
