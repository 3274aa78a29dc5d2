"""The opt-in response cache: SQLite, keyed on the canonical request, with a time to live.

The key is a SHA-256 of the canonical JSON of everything that decides the answer: the model id, the
messages (pydantic-ai's JSON), the settings and the request parameters. Settings that only shape the
transport (``timeout``, ``stream_inactivity_timeout``, ``extra_headers``) are left out, so changing a
timeout does not miss the cache. A hit costs no request and its outcome says ``source='cache'``.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, final

import attrs
import orjson

from ..exceptions import UserError
from ..messages import ModelMessage, ModelResponse
from ..serialization import messages_from_json, messages_to_json, messages_to_python
from ..settings import ModelSettings
from ..tools import ModelRequestParameters
from ._journal import open_sqlite

__all__ = ["ResponseCache", "request_key"]

#: Settings that change how a request travels, not what it asks.
_TRANSPORT_SETTINGS: Final = frozenset({"timeout", "stream_inactivity_timeout", "extra_headers"})


def _default(value: object) -> Any:
    if attrs.has(type(value)):
        return attrs.asdict(value)  # type: ignore[arg-type]
    return repr(value)


def request_key(
    model_id: str,
    messages: Sequence[ModelMessage],
    settings: ModelSettings | None,
    params: ModelRequestParameters | None,
) -> str:
    """The cache key of a request: a hex SHA-256 of its canonical JSON."""
    kept = {k: v for k, v in (settings or {}).items() if k not in _TRANSPORT_SETTINGS}
    canonical = {
        "model": model_id,
        "messages": _strip_timestamps(messages_to_python(list(messages))),
        "settings": kept,
        "parameters": attrs.asdict(params) if params is not None else None,
    }
    data = orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS, default=_default)
    return hashlib.sha256(data).hexdigest()


def _strip_timestamps(value: Any) -> Any:
    # A prompt built twice differs only in its timestamps; those do not change the answer.
    if isinstance(value, dict):
        return {k: _strip_timestamps(v) for k, v in value.items() if k != "timestamp"}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_strip_timestamps(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


@final
class ResponseCache:
    """Responses by canonical request, in a SQLite file.

    Args:
        path: the database file (created if missing).
        ttl: seconds an entry stays valid; None for ever.
        clock: the wall clock (``time.time``); for tests.

    Raises:
        UserError: the file is not a usable database, or ``ttl`` is not positive.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, ttl: float | None = None, clock: Any = time.time
    ) -> None:
        if ttl is not None and not ttl > 0:
            raise UserError(f"the cache TTL must be a positive number of seconds, not {ttl!r}")
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = open_sqlite(self.path)
        try:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response BLOB NOT NULL, "
                "created REAL NOT NULL)"
            )
        except sqlite3.Error as exc:
            self._conn.close()
            raise UserError(f"{os.fspath(path)!r} is not a trio_direct cache: {exc}") from exc
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"ResponseCache({os.fspath(self.path)!r}, ttl={self.ttl!r})"

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the database; later calls are no-ops."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UserError("the response cache is closed")
        return self._conn

    def get(self, key: str) -> ModelResponse | None:
        """The cached response for ``key`` if present and younger than the TTL, else None."""
        with self._lock:
            row = (
                self._db().execute("SELECT response, created FROM responses WHERE key = ?", (key,)).fetchone()
            )
        if row is None or (self.ttl is not None and self._clock() - row[1] > self.ttl):
            self.misses += 1
            return None
        self.hits += 1
        response = messages_from_json(row[0])[0]
        assert isinstance(response, ModelResponse)
        return response

    def put(self, key: str, response: ModelResponse) -> None:
        """Store ``response`` under ``key`` (one transaction)."""
        data = messages_to_json([response])
        with self._lock:
            self._db().execute(
                "INSERT OR REPLACE INTO responses (key, response, created) VALUES (?, ?, ?)",
                (key, data, self._clock()),
            )

    def purge_expired(self) -> int:
        """Delete expired entries; returns how many."""
        if self.ttl is None:
            return 0
        with self._lock:
            cursor = self._db().execute(
                "DELETE FROM responses WHERE created < ?", (self._clock() - self.ttl,)
            )
            return cursor.rowcount
