"""Checks on what users hand us, made before any I/O: messages, API keys, base URLs, URL path segments.

Each check raises :class:`UserError` saying what to fix. None of them ever quotes an API key or a
header value: a malformed key is still a key.

* :func:`check_messages` — every entry point's ``messages`` (a string, a list of strings or a single
  request is the commonest first mistake).
* :func:`check_api_key` / :func:`check_header_value` — what goes into a request header must be
  printable ASCII, else httpx fails later with an error that holds the whole value.
* :func:`check_base_url` — an absolute ``http``/``https`` URL with a host.
* :func:`path_segment` — a name (model, deployment, project, region, batch id) made safe to put
  into a URL path: it can never add a segment, a query or a fragment. Every provider uses it for every
  value it puts into a path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import quote, urlsplit

from .exceptions import UserError
from .messages import ModelRequest, ModelResponse

__all__ = [
    "check_api_key",
    "check_base_url",
    "check_header_value",
    "check_messages",
    "check_provider",
    "path_segment",
    "proxy_environment_error",
]


def check_messages(messages: object) -> None:
    """Raise unless ``messages`` is a sequence of ``ModelRequest`` / ``ModelResponse``.

    Raises:
        UserError: a string, a single message, a list holding strings or other things; the message
            shows the call that works (``[ModelRequest.user_text_prompt('...')]``).
    """
    fix = "pass a list of messages, e.g. [ModelRequest.user_text_prompt({text})]"
    if isinstance(messages, str):
        raise UserError(
            f"`messages` must be a list of messages, not a string: {fix.format(text=_shown(messages))}"
        )
    if isinstance(messages, ModelRequest | ModelResponse):
        raise UserError(
            f"`messages` must be a list of messages, not a single {type(messages).__name__}: "
            f"wrap it in a list, e.g. [ModelRequest.user_text_prompt('...')]"
        )
    if not isinstance(messages, Sequence) or isinstance(messages, bytes | bytearray):
        raise UserError(
            f"`messages` must be a list of messages, not {type(messages).__name__}: "
            f"{fix.format(text=repr('...'))}"
        )
    items: Sequence[object] = messages  # pyright: ignore[reportUnknownVariableType]
    for index, item in enumerate(items):
        if isinstance(item, ModelRequest | ModelResponse):
            continue
        if isinstance(item, str):
            raise UserError(
                f"`messages[{index}]` is a string, not a message: {fix.format(text=_shown(item))}"
            )
        kind = type(item).__name__
        hint = "; load saved JSON with trio_direct.serialization.messages_from_json" if kind == "dict" else ""
        raise UserError(f"`messages[{index}]` is a {kind}, not a ModelRequest or ModelResponse{hint}")


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


#: Why a header value is refused, by the first offending character class.
def _header_problem(value: str) -> str | None:
    if value.isascii() and value.isprintable():
        if value != value.strip():
            return "leading or trailing whitespace"
        return None
    for char in value:
        if char in "\r\n":
            return "a line break"
        if char == "\x00":
            return "a NUL character"
        if char == "\ufeff":
            return "a byte order mark (U+FEFF)"
        if char in "\u2028\u2029":
            return "a Unicode line separator (U+2028/U+2029)"
        if not char.isascii():
            return "a non-ASCII character"
        if not char.isprintable():
            return "a control character"
    return None  # pragma: no cover - unreachable: something above failed


def check_api_key(key: str | None, *, provider: str) -> None:
    """Raise unless ``key`` can be sent in a header as it is (printable ASCII, no surrounding space).

    Raises:
        UserError: naming what is wrong with the key, never the key itself.
    """
    if key is None:
        return
    if not isinstance(key, str):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"the API key for {provider!r} must be a string, not {type(key).__name__}")
    problem = _header_problem(key)
    if problem is not None:
        raise UserError(
            f"the API key for {provider!r} contains {problem}, so it cannot be sent in a header; "
            "copy it again without it (check the environment variable or the api_key argument)"
        )


def check_header_value(name: str, value: str, *, provider: str) -> None:
    """Raise unless ``value`` can be sent as header ``name``; the value is never quoted.

    Raises:
        UserError: naming the header and what is wrong.
    """
    problem = _header_problem(value) if isinstance(value, str) else "a value that is not a string"  # pyright: ignore[reportUnnecessaryIsInstance]
    if problem is not None:
        raise UserError(f"the {name!r} header for {provider!r} contains {problem}; it cannot be sent")


def check_base_url(url: str, *, provider: str) -> None:
    """Raise unless ``url`` is an absolute ``http://`` or ``https://`` URL with a host.

    Raises:
        UserError: saying what the URL lacks (a scheme is the usual miss: ``127.0.0.1:8000/v1``).
    """
    example = "for example http://localhost:8000/v1"
    if not isinstance(url, str) or not url:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"the base URL for {provider!r} is empty; set it to an http(s) URL, {example}")
    if not url.isascii() or not url.isprintable() or any(c.isspace() for c in url):
        raise UserError(
            f"the base URL for {provider!r} contains spaces, control or non-ASCII characters; "
            f"percent-encode them ({example})"
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port raises ValueError when it is not a number
    except ValueError as exc:
        raise UserError(
            f"the base URL {_no_query(url)!r} for {provider!r} is not a valid URL: {exc}"
        ) from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise UserError(
            f"the base URL {_no_query(url)!r} for {provider!r} is not an absolute http(s) URL; "
            f"include the scheme and host, {example} (check the *_BASE_URL environment variable "
            "or the base_url argument)"
        )
    if parts.fragment:
        raise UserError(f"the base URL {_no_query(url)!r} for {provider!r} has a #fragment; remove it")


def check_provider(name: str, base_url: str, api_key: str | None, headers: Mapping[str, str]) -> None:
    """All of a provider's configuration: base URL, key and extra headers.

    Raises:
        UserError: the first problem found (see the checks above).
    """
    check_base_url(base_url, provider=name)
    check_api_key(api_key, provider=name)
    for header, value in headers.items():
        check_header_value(header, value, provider=name)


_PROXY_VARIABLES: Final = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def proxy_environment_error(exc: ImportError | ValueError) -> UserError:
    """The error for an HTTP client that could not be built from the proxy environment.

    httpx reads ``HTTP_PROXY``/``HTTPS_PROXY``/``ALL_PROXY`` when it builds a client: a SOCKS proxy
    without the ``socksio`` package raises ImportError, a scheme it does not know ValueError. Neither
    message is quoted: a proxy URL may carry a password.
    """
    names = [name for name in _PROXY_VARIABLES if os.environ.get(name)]
    where = ", ".join(names) if names else "the proxy environment variables"
    if isinstance(exc, ImportError):
        why = "names a SOCKS proxy, which needs the socksio package: pip install 'httpx[socks]'"
    else:
        why = "names a proxy httpx cannot use (use an http://, https://, socks5:// or socks5h:// URL)"
    return UserError(f"the HTTP client could not be built: {where} {why}; fix or unset it")


def _no_query(url: str) -> str:
    # A query string may hold a key (some gateways take ?key=...), and user:password@ a password:
    # never echo either.
    url = url.split("?", 1)[0]
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if sep and "@" in authority:
        url = f"{scheme}://***@{authority.rsplit('@', 1)[1]}{slash}{path}"
    return url


#: Characters kept as they are in a path segment: RFC 3986's unreserved ones and "@". Everything else
#: ("/", "?", "#", "%", ":", "&", "=", spaces, non-ASCII) is percent-encoded.
_SEGMENT_SAFE: Final = "-._~@"


def path_segment(value: str, *, what: str) -> str:
    """``value`` as one URL path segment: percent-encoded so it can never leave its segment.

    Everything but letters, digits and ``-._~@`` is encoded (``/``, ``?``, ``#``, ``%``, ``:``, non-ASCII),
    so a name cannot add a path segment, start a query or cut the URL short, and it decodes back to
    itself. Names that cannot be meant as names are refused. The one home of this rule: every
    provider and URL builder (Gemini's model names, Vertex AI's project, location and model) uses it.

    Args:
        value: the name (model, deployment, project, region, batch id...).
        what: what it is, for the message (``'Gemini model name'``).

    Raises:
        UserError: empty, ``.`` or ``..``, or holding a control character (a line break, NUL, DEL).
    """
    if not isinstance(value, str) or not value:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"invalid {what} {value!r} for a URL: it is empty")
    if value in (".", ".."):
        raise UserError(f"invalid {what} {value!r} for a URL: not a name (it would change the URL's path)")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise UserError(f"invalid {what} {value!r} for a URL: it holds control characters or line breaks")
    return quote(value, safe=_SEGMENT_SAFE)
