"""The queued exports and the go-live date: which documents the cycle sends and which it holds
back (dated before go-live), for `status` and the wizard's go-live preview."""

from __future__ import annotations

import datetime as dt
from typing import Any

from qbsync.outbox import EXPORT_KINDS
from qbsync.store.database import Database


def held_exports(db: Database, company: str, go_live: dt.date) -> int:
    """Export ops waiting (pending or failed) for documents dated before go-live."""
    row = db.execute(
        "SELECT COUNT(*) FROM outbox o JOIN ledger_invoices i ON i.company = o.company "
        "AND i.id = o.subject_id WHERE o.company = ? AND o.state IN ('pending', 'failed') "
        "AND o.subject_type = 'invoice' "
        "AND o.kind IN ('export_invoice', 'export_credit_memo') AND i.date < ?",
        [company, go_live.isoformat()],
    ).fetchone()
    return int(row[0]) if row and row[0] else 0


def queued_exports(db: Database, company: str) -> list[dict[str, Any]]:
    """The finalized documents not linked to QuickBooks whose export is queued, by date and
    number: id, number, type, date, client_id, subtotal, total (tax included), currency, op."""
    return list(
        db.query(
            "SELECT i.id, i.number, i.type, i.date, i.client_id, i.subtotal, i.total, "
            "i.currency, o.id AS op "
            "FROM outbox o JOIN ledger_invoices i ON i.company = o.company AND i.id = o.subject_id "
            "LEFT JOIN qbo_links l ON l.company = i.company AND l.local_type = 'invoice' "
            "AND l.local_id = i.id AND l.state != 'deleted' "
            "WHERE o.company = ? AND o.subject_type = 'invoice' AND o.kind IN (?, ?) "
            "AND o.state IN ('pending', 'failed') AND i.status = 'finalized' "
            "AND l.local_id IS NULL ORDER BY i.date, i.number",
            [company, *EXPORT_KINDS],
        )
    )
