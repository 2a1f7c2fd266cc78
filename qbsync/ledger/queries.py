"""Ledger reads that hand back rows as plain dicts: the stored records an import is checked
against, an invoice's lines and payments, payments newest first, the names in the ledger's
lists. (store.py hands back whole documents, their balance and status.)

Only ledger tables are read here; a read that joins another owner's tables is a view
(qbsync/views/). Amounts stay the stored decimal text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from qbsync.store.database import Database

# The ledger's lists, by record kind.
LIST_TABLES = {
    "clients": "ledger_clients",
    "services": "ledger_services",
    "tax_regions": "ledger_tax_regions",
    "terms": "ledger_terms",
}
# Every kind of record an import holds (invoice lines go with their invoice).
TABLES = {
    **LIST_TABLES,
    "invoices": "ledger_invoices",
    "payments": "ledger_payments",
    "credit_applications": "ledger_credit_applications",
}


def records_by_id(db: Database, company: str, kind: str) -> dict[str, dict[str, Any]]:
    """Every stored record of a kind, all columns, by id (what an import is checked against)."""
    cursor = db.execute(f"SELECT * FROM {TABLES[kind]} WHERE company = ?", [company])
    columns = [d[0] for d in cursor.description]
    return {row[columns.index("id")]: dict(zip(columns, row, strict=True)) for row in cursor}


def records_by_ids(
    db: Database, company: str, kind: str, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The stored records of a kind with these ids (an import's chunk), all columns, by id."""
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        cursor = db.execute(
            f"SELECT * FROM {TABLES[kind]} WHERE company = ? AND id IN ({marks})", [company, *part]
        )
        columns = [d[0] for d in cursor.description]
        at = columns.index("id")
        found.update({row[at]: dict(zip(columns, row, strict=True)) for row in cursor})
    return found


def amounts_by(
    db: Database, company: str, kind: str, column: str, ids: list[str]
) -> list[tuple[str, str, str]]:
    """(id, `column`, amount) of the stored payments or credit applications whose `column`
    (invoice_id, credit_note_id) is one of `ids` (an import's chunk): a query per 500 ids."""
    assert kind in ("payments", "credit_applications") and column in (
        "invoice_id",
        "credit_note_id",
    )
    found: list[tuple[str, str, str]] = []
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ", ".join("?" for _ in part)
        found += db.execute(
            f"SELECT id, {column}, amount FROM {TABLES[kind]} "
            f"WHERE company = ? AND {column} IN ({marks})",
            [company, *part],
        ).fetchall()
    return found


def names(db: Database, company: str, kind: str) -> dict[str, str]:
    """Local id -> name, for one of the ledger's lists (clients, services, ...)."""
    table = LIST_TABLES[kind]
    return dict(db.execute(f"SELECT id, name FROM {table} WHERE company = ?", [company]))


def terms_due_days(db: Database, company: str) -> dict[str, int]:
    """Terms id -> days until due."""
    return dict(db.execute("SELECT id, due_days FROM ledger_terms WHERE company = ?", [company]))


def invoice_lines(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    """An invoice's item lines as stored, in order: line_no, service_id, description,
    quantity, unit_price, amount, tax_region_id, service_date, tax_amount (as the file gave
    it), discount, tax, total."""
    return list(
        db.query(
            "SELECT line_no, service_id, description, quantity, unit_price, amount, "
            "tax_region_id, service_date, tax_amount, discount, tax, total "
            "FROM ledger_invoice_lines "
            "WHERE company = ? AND invoice_id = ? ORDER BY line_no",
            [company, invoice_id],
        )
    )


def invoice_discounts(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    """An invoice's discount lines as stored, in order: line_no (its place among the lines),
    description, amount or percent (as the file gave them), taxable, discount (what it came
    to)."""
    return list(
        db.query(
            "SELECT line_no, description, amount, percent, taxable, discount "
            "FROM ledger_invoice_discounts WHERE company = ? AND invoice_id = ? ORDER BY line_no",
            [company, invoice_id],
        )
    )


def invoice_taxes(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    """An invoice's tax per region and rate: tax_region_id, name, rate, base, amount."""
    return list(
        db.query(
            "SELECT tax_region_id, name, rate, base, amount FROM ledger_invoice_taxes "
            "WHERE company = ? AND invoice_id = ? ORDER BY tax_region_id, name",
            [company, invoice_id],
        )
    )


def finalized_invoices(db: Database, company: str, since: dt.date | None) -> list[dict[str, Any]]:
    """Finalized invoices and credit notes dated on or after `since`, oldest first."""
    where = "company = ? AND status = 'finalized'"
    params: list[Any] = [company]
    if since is not None:
        where += " AND date >= ?"
        params.append(since.isoformat())
    return list(
        db.query(
            f"SELECT id, number, type, client_id, date, due_date, terms_id, memo, discount "
            f"FROM ledger_invoices WHERE {where} ORDER BY date, number",
            params,
        )
    )


def invoice_payments(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    """The payments against one invoice, oldest first."""
    return list(
        db.query(
            "SELECT id, amount, date, source, qbo_id FROM ledger_payments WHERE company = ? AND "
            "invoice_id = ? ORDER BY date, id",
            [company, invoice_id],
        )
    )


def payments(
    db: Database, company: str, *, invoice: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Payments newest first, local and from QuickBooks; only one invoice's with `invoice`."""
    where, params = "company = ?", [company]
    if invoice:
        where += " AND invoice_id = ?"
        params.append(invoice)
    return list(
        db.query(
            f"SELECT id, invoice_id AS invoice, amount, date, method, reference, source, qbo_id "
            f"FROM ledger_payments WHERE {where} ORDER BY date DESC, id DESC LIMIT ?",
            [*params, limit],
        )
    )


def reversed_ids(db: Database, company: str, kind: str) -> dict[str, str]:
    """id -> why, of the rows of a kind (payment, credit_application) taken off the ledger."""
    return {
        str(r[0]): str(r[1])
        for r in db.execute(
            "SELECT id, reason FROM ledger_reversed WHERE company = ? AND kind = ?",
            [company, kind],
        ).fetchall()
    }
