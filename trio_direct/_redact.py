"""Keeping credentials out of errors and logs, in every form they can take.

* :func:`secret_forms` — a secret as it can appear in text: as is, Python-escaped (``repr`` of the
  string, of its UTF-8 bytes: httpx's ``Illegal header value b'Bearer sk-...'``), JSON-escaped and
  percent-encoded. Redaction replaces every form, not only the exact text.
* :func:`request_secrets` — while a request is in flight, its credentials are known to the logging
  filter (a context variable, so it holds for the task sending the request and nothing else).
* :class:`RedactingFilter` — installed on our loggers and on the HTTP stack's (``httpx``,
  ``httpcore.*``, ``hpack``): a record that holds a credential of the request being logged about is
  rewritten with ``***`` before any handler sees it. A server that echoes the key in a response
  header — including a redirect's ``Location`` — puts it into httpcore's DEBUG records; this is
  what takes it out.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Final
from urllib.parse import quote

__all__ = ["REDACTED", "LOGGERS", "RedactingFilter", "install_log_filter", "request_secrets", "secret_forms"]

#: What a credential is replaced with.
REDACTED: Final = "***"

#: The loggers a record about a request can come from: ours and the HTTP stack's. A filter on a
#: logger applies only to records logged on that very logger, so each one is named.
LOGGERS: Final = (
    "trio_direct",
    "trio_direct.http",
    "trio_direct.retries",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "hpack",
    "hpack.hpack",
    "hpack.table",
    "h11",
    "h2",
    "h2.connection",
)

_SECRETS: ContextVar[tuple[str, ...]] = ContextVar("trio_direct_request_secrets", default=())


def secret_forms(secrets: Sequence[str]) -> tuple[str, ...]:
    """Every text form of each of ``secrets`` (longest first, so a form is replaced before its parts)."""
    return _forms(tuple(secrets))


@functools.lru_cache(maxsize=64)  # a process talks to few keys; computed once per key, not per request
def _forms(secrets: tuple[str, ...]) -> tuple[str, ...]:
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        encoded = secret.encode("utf-8", "surrogatepass")
        forms.update(
            {
                secret,
                repr(secret)[1:-1],
                repr(encoded)[2:-1],
                secret.encode("unicode_escape").decode("ascii"),
                json.dumps(secret)[1:-1],
                json.dumps(secret, ensure_ascii=False)[1:-1],
                quote(secret, safe=""),
                encoded.decode("latin-1"),  # UTF-8 bytes read back as Latin-1 (header decoding)
            }
        )
    return tuple(sorted((form for form in forms if form), key=len, reverse=True))


def scrub_text(text: str, forms: Sequence[str]) -> str:
    """``text`` with every one of ``forms`` replaced by ``***``."""
    for form in forms:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


@contextmanager
def request_secrets(secrets: Sequence[str]) -> Generator[None]:
    """Let the log filter know ``secrets`` while the block runs (in this task's context only).

    Cancellation:
        No I/O; the previous value is restored however the block is left.
    """
    token = _SECRETS.set(secret_forms(secrets) if secrets else ())
    try:
        yield
    finally:
        _SECRETS.reset(token)


class RedactingFilter(logging.Filter):
    """Rewrites a log record that holds a credential of the request in flight; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        forms = _SECRETS.get()
        if not forms:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken record is the handler's to report, not ours
            return True
        scrubbed = scrub_text(message, forms)
        if scrubbed is not message and scrubbed != message:
            record.msg = scrubbed
            record.args = None
        if record.exc_info and record.exc_text is None:
            # Render the traceback now, scrubbed; handlers reuse exc_text.
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info), forms)
        elif record.exc_text:
            record.exc_text = scrub_text(record.exc_text, forms)
        return True


_FILTER: Final = RedactingFilter("trio_direct")


def install_log_filter() -> None:
    """Put the redacting filter on every logger of :data:`LOGGERS` (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
