"""Invoices the CSV fallback wrote to a file for QuickBooks' invoice import, marked in the ledger.

A mark says: this invoice may reach QuickBooks through the file, so the sync must not create it
on its own. The next connected cycle looks for it by number: found, it is linked; not found, it
is held until it is found (the file imported) or a person releases it (then it is created).
Writing it to a file again puts the hold back.
"""

from __future__ import annotations

from dataclasses import dataclass

from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


@dataclass
class Mark:
    invoice_id: str
    file: str
    written_at: str
    released_at: str | None
    outcome: str | None  # linked (found in QuickBooks) or released (by a person)

    @property
    def holding(self) -> bool:
        return self.released_at is None

    def why(self) -> str:
        """Why the sync holds the invoice, and the two ways on."""
        return (
            f"written to CSV on {self.written_at[:10]} ({self.file}); import the file into "
            f"QuickBooks, or release with `qbsync invoices release {self.invoice_id}` to "
            "create it"
        )


def mark_written(db: Database, company: str, invoice_ids: list[str], file: str) -> str:
    """Mark these invoices as written to `file` now (a release before is undone). Returns the
    time written. Call inside a transaction."""
    now = utc_now_iso()
    db.conn.executemany(
        "INSERT INTO ledger_csv_written (company, invoice_id, file, written_at, released_at) "
        "VALUES (?, ?, ?, ?, NULL) ON CONFLICT (company, invoice_id) DO UPDATE SET "
        "file = excluded.file, written_at = excluded.written_at, released_at = NULL, "
        "outcome = NULL",
        [(company, invoice_id, file, now) for invoice_id in invoice_ids],
    )
    return now


def marks(db: Database, company: str, invoice_ids: list[str] | None = None) -> dict[str, Mark]:
    """invoice id -> its mark, for these invoices (all marked ones when None)."""
    sql = "SELECT invoice_id, file, written_at, released_at, outcome FROM ledger_csv_written WHERE company = ?"
    params: list[str] = [company]
    if invoice_ids is not None:
        if not invoice_ids:
            return {}
        sql += f" AND invoice_id IN ({','.join('?' for _ in invoice_ids)})"
        params += invoice_ids
    return {r[0]: Mark(*r) for r in db.execute(sql, params).fetchall()}


def holding(db: Database, company: str, invoice_ids: list[str]) -> dict[str, Mark]:
    """Those of these invoices a CSV mark holds back from being created (not released)."""
    return {k: v for k, v in marks(db, company, invoice_ids).items() if v.holding}


def release(db: Database, company: str, invoice_id: str, outcome: str = "released") -> bool:
    """End the hold: a person lets the sync create the invoice after all (`released`), or the
    sync found it in QuickBooks and linked it (`linked`; a later export, after a delete there,
    is not held again). True when it was held."""
    cursor = db.execute(
        "UPDATE ledger_csv_written SET released_at = ?, outcome = ? WHERE company = ? "
        "AND invoice_id = ? AND released_at IS NULL",
        [utc_now_iso(), outcome, company, invoice_id],
    )
    return bool(cursor.rowcount)
