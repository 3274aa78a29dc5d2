"""AWS Signature Version 4, sans-IO: a request's parts and credentials in, the headers to add out.

Follows AWS's published algorithm (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html)
the way botocore applies it to every service but S3:

* the canonical URI is the path with dot segments removed, then percent-encoded *again* (``%3A`` in a
  Bedrock model id is signed as ``%253A``), ``/`` and RFC 3986 unreserved characters kept;
* the canonical query sorts the ``key=value`` pairs, each side encoded with RFC 3986 (a ``+`` is sent
  and signed as ``%2B``, a space as ``%20``);
* every header the caller passes is signed (names lower-cased, values trimmed, inner runs of spaces
  collapsed) except ``user-agent``, ``expect`` and ``x-amzn-trace-id``, which proxies rewrite; ``host``
  comes from the URL (without a default port), and ``x-amz-date`` / ``x-amz-security-token`` are added.

Pure: the time is an argument. The secret key never leaves this module except as the HMAC it keys.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, unquote, urlsplit

from .keys import AWSCredentials

__all__ = [
    "ALGORITHM",
    "UNSIGNED_HEADERS",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "sign_request",
    "signing_key",
]

ALGORITHM: Final = "AWS4-HMAC-SHA256"
#: Headers left out of the signature, as botocore leaves them out: hop-by-hop headers and ones that
#: proxies and tracing rewrite (plus ``authorization``, which carries the signature itself).
UNSIGNED_HEADERS: Final = frozenset(
    {
        "authorization",
        "baggage",
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "traceparent",
        "tracestate",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    }
)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The SigV4 signing key for ``date`` (``YYYYMMDD``), ``region`` and ``service``."""
    k_date = _hmac(("AWS4" + secret_access_key).encode("utf-8"), date)
    k_region = _hmac(k_date, region)
    k_service = _hmac(k_region, service)
    return _hmac(k_service, "aws4_request")


def _normalize_path(path: str) -> str:
    # RFC 3986 dot-segment removal as botocore's `normalize_url_path` does it: AWS also wants runs of
    # slashes collapsed; a trailing slash stays when something is left before it.
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


def canonical_uri(path: str) -> str:
    """The canonical URI of a (percent-encoded) URL path, as botocore signs it for non-S3 services."""
    return quote(_normalize_path(path), safe="/~")


def canonical_query(query: str) -> str:
    """The canonical query string of a URL's (percent-encoded) query."""
    if not query:
        return ""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _host(url: str) -> str:
    # The `Host` httpx sends: the lower-cased host name, with the port unless it is the scheme's default.
    parts = urlsplit(url)
    name = parts.hostname or ""
    if ":" in name:
        name = f"[{name}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        return f"{name}:{parts.port}"
    return name


def canonical_request(
    method: str, url: str, headers: Mapping[str, str], payload_hash: str
) -> tuple[str, str]:
    """The canonical request and the signed-headers list for ``headers`` (which must hold ``host``)."""
    parts = urlsplit(url)
    canonical: dict[str, str] = {}
    for name, value in headers.items():
        key = name.lower()
        if key in UNSIGNED_HEADERS:
            continue
        canonical[key] = " ".join(value.split())
    signed = ";".join(sorted(canonical))
    lines = "".join(f"{k}:{canonical[k]}\n" for k in sorted(canonical))
    request = "\n".join(
        [
            method.upper(),
            canonical_uri(parts.path),
            canonical_query(parts.query),
            lines,
            signed,
            payload_hash,
        ]
    )
    return request, signed


def sign_request(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    credentials: AWSCredentials,
    region: str,
    service: str,
    now: datetime.datetime,
) -> dict[str, str]:
    """The headers that sign this request: ``x-amz-date``, ``x-amz-security-token`` (with a session
    token) and ``authorization``. Send them together with ``headers`` and ``host``.

    Args:
        method: the HTTP method.
        url: the full URL exactly as it will be sent (its path already percent-encoded).
        headers: the other headers that will be sent; all of them are signed (see the module doc).
        body: the exact body bytes.
        credentials: the access key id, secret key and optional session token.
        region: the signing region (``us-east-1``).
        service: the signing name (``bedrock``).
        now: the signing time (an aware datetime; converted to UTC).

    Raises:
        ValueError: ``now`` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("the signing time must be timezone-aware")
    now = now.astimezone(datetime.UTC)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    to_sign: dict[str, str] = {k.lower(): v for k, v in headers.items()}
    to_sign["host"] = _host(url)
    to_sign["x-amz-date"] = amz_date
    added = {"x-amz-date": amz_date}
    if credentials.session_token:
        to_sign["x-amz-security-token"] = credentials.session_token
        added["x-amz-security-token"] = credentials.session_token
    payload_hash = hashlib.sha256(body).hexdigest()
    request, signed = canonical_request(method, url, to_sign, payload_hash)
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join(
        [ALGORITHM, amz_date, scope, hashlib.sha256(request.encode("utf-8")).hexdigest()]
    )
    key = signing_key(credentials.secret_access_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key_id}/{scope}, "
        f"SignedHeaders={signed}, Signature={signature}"
    )
    return added
