"""Core schema (steps 0001-0009): companies and the event trail."""

from __future__ import annotations

from qbsync.store.database import Database


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


STEPS = [m0001_companies, m0002_events]
