"""Schema for sync health (steps 0080-0089): indexes that keep `qbsync status` to indexed counts
on large ledgers, and the alerts already sent about a token's expiry."""

from __future__ import annotations

from qbsync.store.database import Database


def m0080_health_indexes(db: Database) -> None:
    # Drift is counted per company and link state; without this the count scans every link.
    db.execute("CREATE INDEX IF NOT EXISTS qbo_links_state ON qbo_links(company, state)")
    # Open exceptions per company (the unique partial index also covers kind and subject).
    db.execute(
        "CREATE INDEX IF NOT EXISTS sync_exceptions_company_status "
        "ON sync_exceptions(company, status)"
    )


def m0081_notify_expiry_sent(db: Database) -> None:
    # One row per expiry warning delivered: (company, target, threshold) for the token that
    # ends at `expires_at`. A token that rotates (a new end) is warned about afresh.
    db.execute(
        """
        CREATE TABLE notify_expiry_sent (
            company TEXT NOT NULL,
            target TEXT NOT NULL,
            threshold_days INTEGER NOT NULL,
            expires_at TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (company, target, threshold_days, expires_at)
        )
        """
    )


STEPS = [m0080_health_indexes, m0081_notify_expiry_sent]
