"""The store's connection: the standard library's sqlite3 with the two calls every module uses.

`execute` returns the cursor; `query` returns rows as dicts. The connection is in autocommit mode
(isolation_level None): a lone statement commits on its own, and anything larger goes through
store.tx.transaction. sqlite-utils is imported only to apply schema steps (store.db): importing it
costs every command 35-45 ms (it loads click, pluggy and dateutil), and its `query` wraps each
read in a savepoint.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

Params = Sequence[Any] | dict[str, Any] | None


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
            conn = sqlite3.connect(":memory:" if memory else str(path), isolation_level=None)
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
