"""Opening the store: WAL, a busy timeout, foreign keys, and migrations applied on open."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from qbsync import paths
from qbsync.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 15_000


def configure(db: Database) -> Database:
    # No implicit transactions: Python's sqlite3 would otherwise open a DEFERRED one before the
    # first write and keep it open. A lone statement commits on its own; anything larger goes
    # through store.tx.transaction (BEGIN IMMEDIATE).
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
        db = Database(memory=True, execute_plugins=False)
    else:
        path = path or paths.database_file()
        paths.touch_private(path)
        # No sqlite-utils plugins: loading them scans every installed package's entry points.
        db = Database(path, execute_plugins=False)
    configure(db)
    if migrate:
        MIGRATIONS.apply(db)
    return db


def pending_migrations(db: Database) -> list[str]:
    return [m.name for m in MIGRATIONS.pending(db)]
