"""The resume journal: finished items in SQLite (standard library, WAL), one transaction per item.

A job that is run again with the same journal skips every item the journal holds as succeeded (and,
with ``rerun_failed=False``, as failed too). The journal survives ``kill -9`` at any moment: SQLite's
write-ahead log makes each commit atomic, so a record is either all there or not there at all, and
a killed run loses at most the requests that were in flight. Records are keyed by item id
(``INSERT OR REPLACE``), so no item is ever recorded twice.

Durability: ``synchronous=NORMAL`` (the default here) survives the process being killed; pass
``durable=True`` (``synchronous=FULL``) to also survive a power cut, at the cost of an fsync per item.

Writes run on the calling (Trio) thread: one small commit per finished item takes tens of
microseconds, far less than the request it records.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, final

import orjson

from ..exceptions import UserError
from ._items import Outcome

__all__ = ["Journal", "open_sqlite"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    item_id TEXT PRIMARY KEY,
    ok INTEGER NOT NULL,
    outcome BLOB NOT NULL,
    seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def open_sqlite(path: str | os.PathLike[str], *, durable: bool = False) -> sqlite3.Connection:
    """A SQLite connection in WAL mode, autocommit off, usable from any one thread at a time.

    Raises:
        UserError: the file cannot be opened as a database.
    """
    try:
        conn = sqlite3.connect(os.fspath(path), check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        conn.execute("PRAGMA busy_timeout=10000")
    except sqlite3.Error as exc:
        raise UserError(f"cannot open the SQLite database {os.fspath(path)!r}: {exc}") from exc
    return conn


@final
class Journal:
    """Outcomes of finished items, keyed by item id, in a SQLite file.

    Args:
        path: the database file (created if missing; parent directories too).
        durable: fsync every commit (survives power loss, not only ``kill -9``).

    Raises:
        UserError: the file is not a usable database.

    A ``Journal`` is a context manager; :meth:`close` is idempotent. It may be shared between runs
    in one process, but each item id belongs to one job.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = open_sqlite(self.path, durable=durable)
        try:
            self._conn.executescript(_SCHEMA)
            row = self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM items").fetchone()
        except sqlite3.Error as exc:
            self._conn.close()
            raise UserError(f"{os.fspath(path)!r} is not a trio_direct journal: {exc}") from exc
        self._seq = int(row[0])

    def __repr__(self) -> str:
        return f"Journal({os.fspath(self.path)!r})"

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise UserError("the journal is closed")
        return self._conn

    def __enter__(self) -> Journal:
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

    def record(self, outcome: Outcome) -> None:
        """Store ``outcome`` durably (replacing an earlier one for the same item), in one transaction."""
        data = orjson.dumps(outcome.to_python())
        with self._lock:
            db = self._db()
            self._seq += 1
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT OR REPLACE INTO items (item_id, ok, outcome, seq) VALUES (?, ?, ?, ?)",
                    (outcome.item_id, int(outcome.ok), data, self._seq),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def finished_ids(self, *, include_failed: bool = False) -> set[str]:
        """The ids of items that need not run again: succeeded ones, plus failed ones if asked."""
        query = "SELECT item_id FROM items" + ("" if include_failed else " WHERE ok = 1")
        with self._lock:
            return {row[0] for row in self._db().execute(query)}

    def get(self, item_id: str) -> Outcome | None:
        """The recorded outcome of ``item_id`` (``source='journal'``), or None."""
        with self._lock:
            row = self._db().execute("SELECT outcome FROM items WHERE item_id = ?", (item_id,)).fetchone()
        return Outcome.from_python(orjson.loads(row[0])) if row is not None else None

    def outcomes(self) -> Iterator[Outcome]:
        """Every recorded outcome, in the order they were recorded."""
        with self._lock:
            rows = self._db().execute("SELECT outcome FROM items ORDER BY seq").fetchall()
        for (data,) in rows:
            yield Outcome.from_python(orjson.loads(data))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db().execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-able value under ``key`` (job settings, provider batch ids, ...)."""
        with self._lock:
            self._db().execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, orjson.dumps(value).decode())
            )

    def meta_items(self, prefix: str) -> dict[str, Any]:
        """Every stored value whose key starts with ``prefix`` (provider batch jobs, ...), by key."""
        with self._lock:
            rows = (
                self._db()
                .execute("SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix))
                .fetchall()
            )
        return {key: orjson.loads(value) for key, value in rows}

    def get_meta(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default``."""
        with self._lock:
            row = self._db().execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return orjson.loads(row[0]) if row is not None else default
