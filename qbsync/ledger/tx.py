"""One transaction for a ledger change and the outbound ops it causes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

_savepoints = itertools.count(1)


@contextmanager
def atomic(db: Database) -> Iterator[Database]:
    """Commit everything done inside, or nothing. Nested inside a caller's transaction it is a
    savepoint, so the caller's transaction decides (and a failure here still undoes only this)."""
    conn = db.conn
    if conn.in_transaction:
        name = f"ledger_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
