"""trio_direct._aws.sigv4: AWS's published SigV4 examples, and botocore's signer as an oracle."""

from __future__ import annotations

import datetime
from unittest import mock
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_direct._aws.credentials import AWSCredentials
from trio_direct._aws.sigv4 import canonical_uri, sign_request, signing_key

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
EXAMPLE = AWSCredentials("AKIDEXAMPLE", SECRET)
WHEN = datetime.datetime(2015, 8, 30, 12, 36, 0, tzinfo=datetime.UTC)


def _sign(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    service: str = "service",
    credentials: AWSCredentials = EXAMPLE,
    region: str = "us-east-1",
) -> dict[str, str]:
    return sign_request(
        method=method,
        url=url,
        headers=headers,
        body=body,
        credentials=credentials,
        region=region,
        service=service,
        now=WHEN,
    )


def _signature(headers: dict[str, str]) -> str:
    return headers["authorization"].rsplit("Signature=", 1)[1]


# -- AWS's documented examples ------------------------------------------------------------------


def test_signing_key_of_the_documented_derivation_example() -> None:
    # "Examples of how to derive a signing key for Signature Version 4" (IAM, 2012-02-15).
    key = signing_key(SECRET, "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def test_documented_iam_list_users_example() -> None:
    # The worked example of AWS's "Create a signed request" guide: GET ListUsers on IAM.
    added = _sign(
        "GET",
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        {"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
        service="iam",
    )
    assert signing_key(SECRET, "20150830", "us-east-1", "iam").hex() == (
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
    )
    assert added["x-amz-date"] == "20150830T123600Z"
    assert added["authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date, "
        "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    )


@pytest.mark.parametrize(
    ("method", "url", "signature"),
    [  # the aws-sig-v4-test-suite cases: get-vanilla, post-vanilla, get-vanilla-query-order-key-case
        (
            "GET",
            "https://example.amazonaws.com/",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "POST",
            "https://example.amazonaws.com/",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
        (
            "GET",
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ],
)
def test_sig_v4_test_suite(method: str, url: str, signature: str) -> None:
    assert _signature(_sign(method, url, {})) == signature


def test_session_token_is_sent_and_signed() -> None:
    added = _sign(
        "POST", "https://example.amazonaws.com/", {}, credentials=AWSCredentials("AK", "SK", "TOKEN-1")
    )
    assert added["x-amz-security-token"] == "TOKEN-1"
    assert "x-amz-security-token" in added["authorization"].split("SignedHeaders=")[1].split(",")[0]


def test_bedrock_model_id_path_is_double_encoded() -> None:
    # botocore signs the already-encoded path encoded once more: `%3A` is signed as `%253A`.
    assert (
        canonical_uri("/model/us.amazon.nova-micro-v1%3A0/converse")
        == "/model/us.amazon.nova-micro-v1%253A0/converse"
    )
    assert canonical_uri("/a/./b/../c//d/") == "/a/c/d/"
    assert canonical_uri("") == "/"


def test_unsigned_headers_and_naive_time() -> None:
    added = _sign(
        "POST", "https://example.amazonaws.com/", {"User-Agent": "x", "X-Amzn-Trace-Id": "y", "A": " b  c "}
    )
    assert "SignedHeaders=a;host;x-amz-date," in added["authorization"]
    with pytest.raises(ValueError):
        sign_request(
            method="GET",
            url="https://x/",
            headers={},
            body=b"",
            credentials=EXAMPLE,
            region="us-east-1",
            service="s",
            now=datetime.datetime(2020, 1, 1),
        )


def test_host_port_rules() -> None:
    # A default port is not part of the signed host; another port is (as httpx sends `Host`).
    a = _sign("GET", "https://example.amazonaws.com:443/", {})
    b = _sign("GET", "https://example.amazonaws.com/", {})
    c = _sign("GET", "http://127.0.0.1:8080/", {})
    assert a == b
    assert c != _sign("GET", "http://127.0.0.1/", {})


# -- botocore as an oracle ----------------------------------------------------------------------

botocore_auth = pytest.importorskip("botocore.auth")
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402


def _botocore(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    creds: AWSCredentials,
    service: str,
    region: str,
) -> dict[str, str]:
    request = botocore.awsrequest.AWSRequest(method=method, url=url, headers=headers, data=body)
    naive = WHEN.replace(tzinfo=None)
    with mock.patch("botocore.auth.get_current_datetime", return_value=naive):
        botocore_auth.SigV4Auth(
            botocore.credentials.Credentials(
                creds.access_key_id, creds.secret_access_key, creds.session_token
            ),
            service,
            region,
        ).add_auth(request)
    return {k.lower(): v for k, v in request.headers.items()}


_segment = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s not in (".", ".."))
_query_part = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8)
_header_value = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.just(" "), max_size=20
).map(lambda s: s.strip())


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(_segment, min_size=1, max_size=4),
    query=st.lists(st.tuples(_query_part.filter(bool), _query_part), max_size=3),
    body=st.binary(max_size=200),
    token=st.none() | st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/+=", min_size=1, max_size=40),
    extra=st.dictionaries(
        st.sampled_from(["x-custom", "content-type", "x-amz-meta-a"]), _header_value, max_size=2
    ),
    trailing_slash=st.booleans(),
)
def test_matches_botocore(
    segments: list[str],
    query: list[tuple[str, str]],
    body: bytes,
    token: str | None,
    extra: dict[str, str],
    trailing_slash: bool,
) -> None:
    # Paths with reserved characters, each segment percent-encoded as Bedrock model ids are.
    path = "/" + "/".join(quote(s, safe="") for s in segments) + ("/" if trailing_slash else "")
    qs = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in query)
    url = f"https://bedrock-runtime.us-west-2.amazonaws.com{path}" + (f"?{qs}" if qs else "")
    creds = AWSCredentials("AKIDEXAMPLE", SECRET, token)
    ours = _sign("POST", url, extra, body, service="bedrock", credentials=creds, region="us-west-2")
    theirs = _botocore("POST", url, dict(extra), body, creds, "bedrock", "us-west-2")
    assert ours["authorization"] == theirs["authorization"]
    assert ours["x-amz-date"] == theirs["x-amz-date"]
    assert ours.get("x-amz-security-token") == theirs.get("x-amz-security-token")


@pytest.mark.parametrize(
    "model_id",
    [
        "us.amazon.nova-micro-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x",
    ],
)
def test_bedrock_urls_match_botocore(model_id: str) -> None:
    url = f"https://bedrock-runtime.us-east-1.amazonaws.com/model/{quote(model_id, safe='')}/converse"
    headers = {"content-type": "application/json"}
    ours = _sign("POST", url, headers, b"{}", service="bedrock")
    assert (
        ours["authorization"]
        == _botocore("POST", url, dict(headers), b"{}", EXAMPLE, "bedrock", "us-east-1")["authorization"]
    )
