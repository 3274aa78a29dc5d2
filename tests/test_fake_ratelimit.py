"""benchmarks/fake_ratelimit.py and the fake provider's rate-limit options: buckets, 429s, headers."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from benchmarks.fake_provider import get_stats, start_fake_provider
from benchmarks.fake_ratelimit import FakeRateLimiter


def test_buckets_refuse_with_retry_after_and_refill() -> None:
    now = [100.0]
    limiter = FakeRateLimiter(rpm=60, tpm=600, burst_s=2, clock=lambda: now[0])  # 1 req/s, 10 tok/s, 2 s
    assert not limiter.check(8).refused and not limiter.check(8).refused  # the 2 s burst: 2 requests
    refused = limiter.check(1)
    assert refused.refused and b"retry-after-ms: 1000" in refused.headers
    assert b"x-ratelimit-limit-requests: 60" in refused.headers
    assert b"x-ratelimit-remaining-tokens: 4" in refused.headers
    assert "requests per min" in (refused.message or "")
    now[0] += 1.0  # one request and 10 tokens more: 14 tokens
    tokens = limiter.check(16)
    assert tokens.refused and "tokens" in (tokens.message or "") and b"retry-after-ms: 200" in tokens.headers
    assert not limiter.check(14).refused
    assert (limiter.admitted, limiter.refused_requests, limiter.refused_tokens) == (3, 1, 1)


def test_anthropic_header_names() -> None:
    verdict = FakeRateLimiter(rpm=50).check(1, anthropic=True)
    assert b"anthropic-ratelimit-requests-limit: 50" in verdict.headers
    assert b"anthropic-ratelimit-requests-reset: " in verdict.headers


def post(url: str, path: str) -> tuple[int, dict[str, str], dict[str, object]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request(
            "POST", path, json.dumps({"model": "m", "messages": []}), {"content-type": "application/json"}
        )
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(resp.read())
    finally:
        conn.close()


def test_the_server_answers_429_with_headers_once_the_budget_is_spent() -> None:
    with start_fake_provider(chunks=1, extra_args=["--rpm", "120", "--burst-s", "1"]) as url:  # 2 per second
        first = post(url, "/v1/chat/completions")
        second = post(url, "/v1/chat/completions")
        third = post(url, "/v1/chat/completions")
        stats = get_stats(url)
    assert first[0] == 200 and first[1]["x-ratelimit-limit-requests"] == "120"
    assert second[0] == 200
    assert third[0] == 429 and "retry-after" in third[1]
    assert third[2]["error"]["code"] == "rate_limit_exceeded"  # type: ignore[index]
    assert stats["rl_admitted"] == 2 and stats["rl_refused_requests"] == 1
