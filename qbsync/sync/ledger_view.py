"""The sync engine's read-only view of the ledger and the mappings (plain SQL on their tables)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def row(db: Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def invoice(db: Database, company: str, invoice_id: str) -> dict[str, Any] | None:
    return row(
        db, "SELECT * FROM ledger_invoices WHERE company = ? AND id = ?", [company, invoice_id]
    )


def invoice_lines(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM ledger_invoice_lines WHERE company = ? AND invoice_id = ? ORDER BY line_no",
            [company, invoice_id],
        )
    )


def client(db: Database, company: str, client_id: str) -> dict[str, Any] | None:
    return row(
        db, "SELECT * FROM ledger_clients WHERE company = ? AND id = ?", [company, client_id]
    )


def payment(db: Database, company: str, payment_id: str) -> dict[str, Any] | None:
    return row(
        db, "SELECT * FROM ledger_payments WHERE company = ? AND id = ?", [company, payment_id]
    )


def credit_application(db: Database, company: str, app_id: str) -> dict[str, Any] | None:
    return row(
        db,
        "SELECT * FROM ledger_credit_applications WHERE company = ? AND id = ?",
        [company, app_id],
    )


def mapping(db: Database, company: str, kind: str, local_id: str | None) -> str | None:
    if local_id is None:
        return None
    found = row(
        db,
        "SELECT qbo_id FROM mappings WHERE company = ? AND kind = ? AND local_id = ?",
        [company, kind, local_id],
    )
    return str(found["qbo_id"]) if found and found["qbo_id"] is not None else None


def client_for_customer(db: Database, company: str, customer_qbo_id: str) -> str | None:
    found = row(
        db,
        "SELECT local_id FROM mappings WHERE company = ? AND kind = 'customers' AND qbo_id = ?",
        [company, customer_qbo_id],
    )
    return str(found["local_id"]) if found else None
