"""Schema, as ordered sqlite-utils migration steps. Each step runs in its own transaction when
the store opens. Never edit a step that has shipped; append a new one.

Steps are named NNNN_what and registered in name order: 0001-0009 here (core), then each area's
module, imported at the bottom in order: 0010-0019 schema_connect, 0020-0039 schema_ledger,
0040-0069 schema_sync. Money columns hold integer cents or decimal text, never REAL.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

MIGRATIONS = Migrations("qbsync")


@MIGRATIONS(name="0001_companies")
def m0001_companies(db: Database) -> None:
    # Connection metadata per company. Tokens and secrets are in the secrets store, not here.
    db.execute(
        """
        CREATE TABLE companies (
            key TEXT PRIMARY KEY,
            name TEXT,
            realm_id TEXT,
            environment TEXT NOT NULL,
            connected INTEGER NOT NULL DEFAULT 0,
            needs_reconnect INTEGER NOT NULL DEFAULT 0,
            client_id TEXT,
            access_expires_at TEXT,
            refresh_expires_at TEXT,
            refresh_hard_expires_at TEXT,
            last_refresh_at TEXT,
            connected_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """
    )


@MIGRATIONS(name="0002_events")
def m0002_events(db: Database) -> None:
    # An audit trail of what qbsync did, per company, for `status` and support.
    db.execute(
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            company TEXT,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            message TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX events_company_at ON events(company, at)")


# Area modules register their steps on import; the order of these imports is the schema order.
from qbsync.store import schema_connect, schema_ledger, schema_sync, schema_wizard  # noqa: E402

# isort: split
from qbsync.store import schema_health  # noqa: E402

# isort: split
from qbsync.store import schema_perf  # noqa: E402

__all__ = [
    "MIGRATIONS",
    "schema_connect",
    "schema_health",
    "schema_ledger",
    "schema_perf",
    "schema_sync",
    "schema_wizard",
]
