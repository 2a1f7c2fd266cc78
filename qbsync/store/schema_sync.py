"""Schema for the sync engine (steps 0040-0069): the outbox of outbound operations."""

from __future__ import annotations

from sqlite_utils import Database

from qbsync.store.migrations import MIGRATIONS


@MIGRATIONS(name="0040_outbox")
def m0040_outbox(db: Database) -> None:
    # One row per outbound operation. Written in the same transaction as the ledger change that
    # causes it; its request_id is sent to QuickBooks as ?requestid= on every attempt.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            company TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject_type TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            request_id TEXT NOT NULL UNIQUE,
            qbo_id TEXT,
            qbo_sync_token TEXT,
            last_error TEXT,
            last_error_code TEXT,
            intuit_tid TEXT,
            cycle_id INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            CHECK (state IN ('pending', 'in_progress', 'done', 'failed', 'errored', 'cancelled'))
        )
        """
    )
    db.execute("CREATE INDEX outbox_company_state ON outbox(company, state, next_attempt_at)")
    db.execute("CREATE INDEX outbox_subject ON outbox(company, subject_type, subject_id)")
