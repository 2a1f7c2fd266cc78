"""Schema for sync health (steps 0080-0089): indexes that keep `qbsync status` to indexed counts
on large ledgers."""

from __future__ import annotations

from sqlite_utils import Database


def m0080_health_indexes(db: Database) -> None:
    # Drift is counted per company and link state; without this the count scans every link.
    db.execute("CREATE INDEX IF NOT EXISTS qbo_links_state ON qbo_links(company, state)")
    # Open exceptions per company (the unique partial index also covers kind and subject).
    db.execute(
        "CREATE INDEX IF NOT EXISTS sync_exceptions_company_status "
        "ON sync_exceptions(company, status)"
    )


STEPS = [m0080_health_indexes]
