"""Opening the store: WAL, a busy timeout, foreign keys, and migrations applied on open.

Which steps a store has applied is read with one query; sqlite-utils' Migrations (and with it
sqlite-utils) is loaded only when a step is pending: on a new store, or after an upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qbsync import paths
from qbsync.store.database import Database
from qbsync.store.schema import STEPS, Step

if TYPE_CHECKING:
    from sqlite_utils import Migrations

BUSY_TIMEOUT_MS = 15_000
MIGRATION_SET = "qbsync"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite-utils' record of applied steps


def configure(db: Database) -> Database:
    # No implicit transactions (the connection is in autocommit mode): a lone statement commits
    # on its own; anything larger goes through store.tx.transaction (BEGIN IMMEDIATE).
    db.conn.isolation_level = None
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
    return db


def open_store(path: Path | None = None, *, memory: bool = False, migrate: bool = True) -> Database:
    """Open (and create, 0600) the store, apply pending migrations, return the Database."""
    if memory:
        db = Database(memory=True)
    else:
        path = path or paths.database_file()
        paths.create_private(path)  # never opened here: see create_private
        db = Database(path)
    configure(db)
    if migrate and pending_migrations(db):
        apply_migrations(db)
    return db


def migrations() -> Migrations:
    """sqlite-utils' Migrations holding every step; each step gets the store's own Database
    over the same connection."""
    from sqlite_utils import Migrations

    registry = Migrations(MIGRATION_SET)
    for name, step in STEPS:
        registry(name=name)(_over_connection(step, name))
    return registry


def _over_connection(step: Step, name: str) -> Any:
    def run(sdb: Any) -> None:
        step(Database(conn=sdb.conn))

    run.__name__ = name
    return run


def apply_migrations(db: Database, *, stop_before: str | None = None) -> None:
    from sqlite_utils import Database as UtilsDatabase

    migrations().apply(UtilsDatabase(db.conn, execute_plugins=False), stop_before=stop_before)


def applied_migrations(db: Database) -> list[str]:
    """The names of the steps this store has applied, in the order applied."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone()
    if not exists:
        return []
    rows = db.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET],
    )
    return [r[0] for r in rows]


def pending_migrations(db: Database) -> list[str]:
    done = set(applied_migrations(db))
    return [name for name, _ in STEPS if name not in done]
