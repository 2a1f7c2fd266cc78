"""Schema for the reconciliation wizard (steps 0070-0079)."""

from __future__ import annotations

from qbsync.store.database import Database


def m0070_wizard_decisions(db: Database) -> None:
    # Every decision the wizard was given, saved as it is made, so that a session cut short
    # resumes where it stopped. A link also lives where the sync engine reads it (mappings for
    # customers, qbo_links for invoices); a skip lives only here.
    db.execute(
        """
        CREATE TABLE wizard_decisions (
            company TEXT NOT NULL,
            step TEXT NOT NULL,
            subject_id TEXT NOT NULL,
            action TEXT NOT NULL,
            qbo_id TEXT,
            qbo_name TEXT,
            source TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (company, step, subject_id),
            CHECK (step IN ('customers', 'history')),
            CHECK (action IN ('link', 'create', 'skip'))
        )
        """
    )


STEPS = [m0070_wizard_decisions]
