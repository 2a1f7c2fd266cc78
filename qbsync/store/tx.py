"""The one way to open a transaction on the store.

`transaction(db)` begins IMMEDIATE: the write lock is taken at the start and, when another process
holds it, the busy timeout is waited out. A DEFERRED transaction (sqlite-utils' `atomic()`, a bare
`BEGIN`) that reads first and writes later can instead fail at once with "database is locked"
when cron and the daemon meet. Nested inside a caller's transaction it is a savepoint: the
caller's transaction decides, and a failure inside still undoes only the inner part.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

from qbsync.store.database import Database

_savepoints = itertools.count(1)


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """Commit everything done inside, or nothing."""
    conn = db.conn
    if conn.in_transaction:
        name = f"qbsync_{next(_savepoints)}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield db
        except BaseException:
            # An error that already ended the transaction leaves no savepoint to roll back to.
            if conn.in_transaction:
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
