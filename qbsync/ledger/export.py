"""`ledger export`: what came back from QuickBooks, for the billing system.

payments: the payments recorded in QuickBooks (source quickbooks), as handed over to the
billing system: one row per movement, a reversal when QuickBooks voids, deletes or reduces a
payment already handed over (qbsync/ledger/handover.py). invoices: every finalized or void document with its ledger-side status and amounts (subtotal,
discount, tax, total, paid, credited, balance, currency; exchange_rate and home_total when set).
The command reads them through qbsync/views/invoices.py, which adds each invoice's current
QuickBooks id (its link) and, for payments, what QuickBooks did to one the ledger no longer holds.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync.ledger import handover
from qbsync.ledger.balances import balance_of, settled, status_of
from qbsync.store.database import Database

PAYMENT_COLUMNS = (
    "id",
    "invoice",
    "amount",
    "date",
    "method",
    "reference",
    "qbo_id",
    "updated_at",
    "kind",
    "original_id",
    "reason",
    "home_amount",  # a foreign-currency payment in the home currency (only when set)
)
INVOICE_COLUMNS = (
    "id",
    "number",
    "type",
    "client",
    "status",
    "subtotal",
    "discount",
    "tax",
    "total",
    "paid",
    "credited",
    "balance",
    "currency",
    "exchange_rate",
    "home_total",
    "qbo_id",
    "qbo_number",
    "voided_at",
    "updated_at",
)


def _since_text(since: dt.date | None) -> str:
    return since.isoformat() if since else ""


def payment_rows(
    db: Database, company: str, since: dt.date | None, reason_of: handover.ReasonOf
) -> list[dict[str, Any]]:
    """Hand over what is new since the last export (qbsync/ledger/handover.py), then list every
    row handed over that changed on or after `since`. `reason_of(QuickBooks payment id)` says
    why a payment the ledger no longer holds went: voided, deleted or reduced."""
    handover.hand_over(db, company, reason_of)
    rows = [
        {
            "id": r["id"],
            "invoice": r["invoice_id"],
            "amount": r["amount"],
            "date": r["date"],
            "method": r["method"],
            "reference": r["reference"],
            "qbo_id": r["qbo_id"],
            "updated_at": r["updated_at"],
            "kind": r["kind"],
            "original_id": None if r["id"] == r["payment_id"] else r["payment_id"],
            "reason": r["reason"],
            "home_amount": r["home_amount"],
        }
        for r in handover.handed_rows(db, company, _since_text(since))
    ]
    for row in rows:
        if row["home_amount"] is None:  # only when set (CSV leaves the cell empty)
            del row["home_amount"]
    return rows


def invoice_rows(
    db: Database, company: str, since: dt.date | None, qbo_ids: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """Finalized and void documents changed on or after `since`, with the QuickBooks id each
    is linked to now (`qbo_ids`: see qbsync/views/invoices.py) and the number QuickBooks gave
    it when it numbers documents itself."""
    # "Changed" covers the invoice itself and anything settled against it.
    sql = """
        SELECT i.id, i.number, i.type, i.client_id, i.status, i.subtotal, i.discount, i.tax,
               i.total, i.currency, i.exchange_rate, i.home_total, i.voided_at, i.qbo_number,
               MAX(i.updated_at,
                   COALESCE((SELECT MAX(p.updated_at) FROM ledger_payments p
                             WHERE p.company = i.company AND p.invoice_id = i.id), ''),
                   COALESCE((SELECT MAX(c.created_at) FROM ledger_credit_applications c
                             WHERE c.company = i.company
                               AND (c.invoice_id = i.id OR c.credit_note_id = i.id)), '')
               ) AS changed_at
        FROM ledger_invoices i
        WHERE i.company = ? AND i.status != 'draft'
        ORDER BY i.date, i.id
        """
    rows = []
    since_text = _since_text(since)
    for r in db.query(sql, [company]):
        if r["changed_at"] < since_text:
            continue
        iid = r["id"]
        paid, credited = settled(db, company, iid)
        total = Decimal(r["total"])
        row: dict[str, Any] = {
            "id": iid,
            "number": r["number"],
            "type": r["type"],
            "client": r["client_id"],
            "status": status_of(total, r["status"], paid, credited).value,
            "subtotal": r["subtotal"],
            "discount": r["discount"],
            "tax": r["tax"],
            "total": r["total"],
            "paid": m.text(paid),
            "credited": m.text(credited),
            "balance": m.text(balance_of(total, r["status"], paid, credited)),
            "currency": r["currency"],
        }
        if r["exchange_rate"] is not None:  # only when set (CSV leaves the cells empty)
            row["exchange_rate"] = r["exchange_rate"]
            row["home_total"] = r["home_total"]
        row |= {
            "qbo_id": qbo_ids.get(iid),
            "qbo_number": r["qbo_number"],
            "voided_at": r["voided_at"],
            "updated_at": r["changed_at"],
        }
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], what: str, fmt: str, *, ascii_only: bool = False) -> str:
    """CSV with a header (amounts as exact text), or a JSON array (amounts as strings);
    `ascii_only`: JSON's own escapes for every other character (they read back as the same
    text), for an output that cannot hold UTF-8."""
    if fmt == "json":
        return json.dumps(rows, indent=2, ensure_ascii=ascii_only) + "\n"
    columns: tuple[str, ...] = PAYMENT_COLUMNS if what == "payments" else INVOICE_COLUMNS
    if what == "clients":
        from qbsync.ledger.clients import EXPORT_COLUMNS, flat

        columns, rows = EXPORT_COLUMNS, [flat(r) for r in rows]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n", restval="")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()
