"""Ledger invoices with their QuickBooks sync state, for `invoices list` and `invoices show`.

The state is derived, not stored: it follows from the ledger, the outbox, the links and the
open exceptions, joined here."""

from __future__ import annotations

from typing import Any

from qbsync.ledger.balances import balance_of
from qbsync.ledger.store import settled
from qbsync.money import cents, dec
from qbsync.store.database import Database

SYNC_STATE_SQL = """
CASE
  WHEN l.state IN ('voided', 'deleted') THEN 'voided'
  WHEN l.state = 'drift' THEN 'drift'
  WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.company = i.company AND o.subject_type = 'invoice'
               AND o.subject_id = i.id AND o.state = 'errored') THEN 'error'
  WHEN EXISTS (SELECT 1 FROM sync_exceptions e WHERE e.company = i.company AND e.status = 'open'
               AND e.subject_type = 'invoice' AND e.subject_id = i.id
               AND e.kind IN ('export_failing', 'void_failing')) THEN 'error'
  WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.company = i.company AND o.subject_type = 'invoice'
               AND o.subject_id = i.id AND o.state IN ('pending', 'in_progress', 'failed'))
       THEN 'queued'
  WHEN l.qbo_id IS NOT NULL THEN 'synced'
  ELSE 'not synced'
END
"""

STATES = ("not synced", "queued", "synced", "drift", "error", "voided")


def invoice_rows(
    db: Database,
    company: str,
    *,
    limit: int = 50,
    sync_state: str | None = None,
    invoice_ids: list[str] | None = None,
) -> list[dict[str, Any]]:
    where = ["i.company = ?"]
    params: list[Any] = [company]
    if invoice_ids is not None:
        where.append(f"i.id IN ({','.join('?' for _ in invoice_ids)})")
        params += invoice_ids
    sql = f"""
        SELECT * FROM (
          SELECT i.id, i.number, i.type, i.status, i.date, i.client_id, c.name AS client,
                 i.subtotal, i.total, i.currency, l.qbo_id, {SYNC_STATE_SQL} AS sync_state
          FROM ledger_invoices i
          LEFT JOIN ledger_clients c ON c.company = i.company AND c.id = i.client_id
          LEFT JOIN qbo_links l ON l.company = i.company AND l.local_type = 'invoice'
                                AND l.local_id = i.id
          WHERE {" AND ".join(where)}
          ORDER BY i.date DESC, i.id DESC
        ) {"WHERE sync_state = ?" if sync_state else ""} LIMIT ?
    """
    if sync_state:
        params.append(sync_state)
    rows = []
    for r in db.query(sql, [*params, limit]):
        paid, credited = settled(db, company, r["id"])
        r["paid"] = str(cents(paid + credited))
        # What is still owed, tax included (a credit note: the credit not yet used).
        r["balance"] = str(cents(balance_of(dec(r["total"]), r["status"], paid, credited)))
        rows.append(r)
    return rows


def invoice_count(db: Database, company: str, *, sync_state: str | None = None) -> int:
    """How many rows `invoice_rows` would list without a limit."""
    if not sync_state:
        return _all_invoices(db, company)
    sql = f"""
        SELECT count(*) FROM (
          SELECT {SYNC_STATE_SQL} AS sync_state
          FROM ledger_invoices i
          LEFT JOIN qbo_links l ON l.company = i.company AND l.local_type = 'invoice'
                                AND l.local_id = i.id
          WHERE i.company = ?
        ) {"WHERE sync_state = ?" if sync_state else ""}
    """
    params = [company, sync_state] if sync_state else [company]
    return int(db.execute(sql, params).fetchone()[0])


def _all_invoices(db: Database, company: str) -> int:
    """The company's invoices, counted on an index (no sync state derived for each)."""
    sql = "SELECT COUNT(*) FROM ledger_invoices WHERE company = ?"
    return int(db.execute(sql, [company]).fetchone()[0])
