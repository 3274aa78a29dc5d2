"""How long a provider asks us to wait, read from response headers: the one home of that parsing.

* :func:`retry_after_seconds` reads ``retry-after-ms`` and ``Retry-After`` (seconds or an HTTP date);
  :class:`~trio_direct.exceptions.ModelAPIError` fills ``retry_after`` with it.
* :func:`reset_wait` reads the rate-limit reset headers (OpenAI's and Groq's ``x-ratelimit-reset-*``,
  Anthropic's ``anthropic-ratelimit-*-reset``); :mod:`trio_direct.retries` falls back to it for a
  rate limit without ``Retry-After``.

Pure functions of the headers (and the wall clock, for absolute times); nothing here raises on a
malformed value: it reads as "no wait given" (``None``).
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from collections.abc import Mapping
from datetime import datetime

__all__ = ["parse_reset", "reset_wait", "retry_after_seconds"]


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            millis = float(ms)
        except ValueError:
            pass
        else:
            if math.isfinite(millis):  # "nan"/"inf" parse as floats but are no wait at all
                return max(millis / 1000.0, 0.0)
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # hardening: year 99999999999 overflows
        return None
    return max(when.timestamp() - time.time(), 0.0)


# (reset header, remaining header, is a token budget), for OpenAI/Groq and Anthropic.
_RESET_HEADERS: tuple[tuple[str, str, bool], ...] = (
    ("x-ratelimit-reset-requests", "x-ratelimit-remaining-requests", False),
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens", True),
    ("anthropic-ratelimit-requests-reset", "anthropic-ratelimit-requests-remaining", False),
    ("anthropic-ratelimit-tokens-reset", "anthropic-ratelimit-tokens-remaining", True),
    ("anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-input-tokens-remaining", True),
    ("anthropic-ratelimit-output-tokens-reset", "anthropic-ratelimit-output-tokens-remaining", True),
)

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str, now: float) -> float | None:
    """Seconds until a reset header's moment, or None if it cannot be read.

    Accepts a Go-style duration (``'1s'``, ``'6m0s'``, ``'250ms'``: OpenAI, Groq), plain seconds, an
    epoch timestamp (a number past 10⁹, seconds or milliseconds), an RFC 3339 timestamp (Anthropic)
    or an HTTP date.
    """
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            return None
        if number > 1e12:  # epoch milliseconds
            number = number / 1000.0 - now
        elif number > 1e9:  # epoch seconds
            number -= now
        return max(number, 0.0)
    if text and _DURATION_PART.sub("", text) == "":
        return sum(float(n) * _DURATION_UNITS[unit] for n, unit in _DURATION_PART.findall(text))
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):  # hardening: an absurd year
            return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


def _remaining(headers: Mapping[str, str], name: str) -> float | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def reset_wait(headers: Mapping[str, str], now: float) -> float | None:
    """The wait the rate-limit reset headers suggest.

    The limits that are exhausted (remaining 0) decide; if none says so, the token budgets (a request
    bigger than what is left); else any. The latest reset among those wins, so that one retry fits
    them all.
    """
    found: list[tuple[float, float | None, bool]] = []
    for reset_name, remaining_name, is_tokens in _RESET_HEADERS:
        value = headers.get(reset_name)
        if value is None:
            continue
        seconds = parse_reset(value, now)
        if seconds is not None:
            found.append((seconds, _remaining(headers, remaining_name), is_tokens))
    if not found:
        return None
    exhausted = [s for s, remaining, _ in found if remaining is not None and remaining <= 0]
    tokens = [s for s, _, is_tokens in found if is_tokens]
    return max(exhausted or tokens or [s for s, _, _ in found])
