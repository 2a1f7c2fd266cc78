"""The store's connection: the standard library's sqlite3 with the two calls every module uses.

`execute` returns the cursor; `query` returns rows as dicts. The connection is in autocommit mode
(isolation_level None): a lone statement commits on its own, and anything larger goes through
store.tx.transaction. sqlite-utils is imported only to apply schema steps (store.db): importing it
costs every command 35-45 ms (it loads click, pluggy and dateutil), and its `query` wraps each
read in a savepoint.

A store whose file is damaged (not a database, or a malformed page) raises StoreDamaged, a
domain error naming the file and what to do, wherever SQLite notices it: on opening, on a
statement, on a fetched row. Every command gets the one line, not a traceback.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qbsync.errors import QbsyncError

Params = Sequence[Any] | dict[str, Any] | None


# SQLite's primary result codes for a file it cannot read as a database.
SQLITE_CORRUPT = 11  # "database disk image is malformed"
SQLITE_NOTADB = 26  # "file is not a database"


DAMAGED_HINT = (
    "stop cron and the daemon; keep the damaged file, and restore this file from a backup of it "
    "(qbsync keeps no copy of its own; docs/health.md says how); do not delete it: a new, empty "
    "store would forget what was already sent to QuickBooks"
)


class StoreDamaged(QbsyncError):
    """The store's file is damaged: SQLite cannot read it as a database."""


def raise_if_damaged(err: sqlite3.DatabaseError, path: str | None) -> None:
    """Raise StoreDamaged, naming the file and what to do, when `err` says the file is damaged;
    return for any other error (a lock, a constraint), which the caller re-raises as it is."""
    if (getattr(err, "sqlite_errorcode", 0) & 0xFF) not in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return
    where = path or "the in-memory store"
    raise StoreDamaged(
        f"the store {where} is damaged and cannot be read ({err})",
        DAMAGED_HINT,
    ) from err


class _Cursor(sqlite3.Cursor):
    """A cursor whose every read and write turns a damaged file into StoreDamaged."""

    def _path(self) -> str | None:
        return getattr(self.connection, "store_path", None)

    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> _Cursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise

    def fetchmany(self, size: int | None = 1) -> list[Any]:
        try:
            return super().fetchmany(size)
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        # Rows still come from the C fetch; only the loop around them is a generator.
        try:
            yield from iter(functools.partial(sqlite3.Cursor.fetchone, self), None)
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self._path())
            raise


class _Connection(sqlite3.Connection):
    """The store's connection: statements and copies that meet a damaged file raise
    StoreDamaged (see _Cursor). A damaged page shows on the statement that reads or writes it,
    before the transaction (store/tx.py) commits."""

    store_path: str | None = None

    def cursor(self, factory: Any = _Cursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def backup(self, target: sqlite3.Connection, **kwargs: Any) -> None:
        try:
            super().backup(target, **kwargs)
        except sqlite3.DatabaseError as err:
            raise_if_damaged(err, self.store_path)
            raise


def connect(path: str | Path | None) -> sqlite3.Connection:
    """A connection to the store at `path` (None: in memory) that reports a damaged file as
    StoreDamaged."""
    conn = sqlite3.connect(
        ":memory:" if path is None else str(path), isolation_level=None, factory=_Connection
    )
    conn.store_path = None if path is None else str(path)
    return conn


class Database:
    def __init__(
        self,
        path: str | Path | None = None,
        *,
        memory: bool = False,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        if conn is None:
            if (path is None) != memory:
                raise ValueError("give a path, or memory=True")
            conn = connect(None if memory else path)
        self.conn = conn

    def execute(self, sql: str, parameters: Params = None) -> sqlite3.Cursor:
        if parameters is None:
            return self.conn.execute(sql)
        return self.conn.execute(sql, parameters)

    def query(self, sql: str, params: Params = None) -> Iterator[dict[str, Any]]:
        """The rows of a statement that returns rows, as dicts. The statement runs now; rows are
        fetched as the result is iterated. A name that repeats (a join's two `id`s) gets `_2`."""
        cursor = self.execute(sql, params)
        if cursor.description is None:
            raise ValueError("query() is for statements that return rows; use execute()")
        keys = _unique([d[0] for d in cursor.description])
        return (dict(zip(keys, row, strict=True)) for row in cursor)

    def table_names(self) -> list[str]:
        return [r[0] for r in self.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]

    def close(self) -> None:
        self.conn.close()


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        candidate, n = name, 1
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        seen.add(candidate)
        out.append(candidate)
    return out
