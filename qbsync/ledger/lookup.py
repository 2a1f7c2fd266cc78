"""Plain reads of ledger rows for the sync engine and the wizard: a document, its lines, a
client, a payment, a credit application, as stored (dicts of columns)."""

from __future__ import annotations

from typing import Any

from qbsync.store.database import Database

ID_CHUNK = 500  # ids per `IN (...)`, well under SQLite's limit on bound parameters


def _row(db: Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    rows = list(db.query(sql, params))
    return rows[0] if rows else None


def invoice(db: Database, company: str, invoice_id: str) -> dict[str, Any] | None:
    """An invoice or credit note (without its lines)."""
    return _row(
        db, "SELECT * FROM ledger_invoices WHERE company = ? AND id = ?", [company, invoice_id]
    )


def invoice_lines(db: Database, company: str, invoice_id: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT * FROM ledger_invoice_lines WHERE company = ? AND invoice_id = ? ORDER BY line_no",
            [company, invoice_id],
        )
    )


def invoice_dates(db: Database, company: str, invoice_ids: list[str]) -> dict[str, str]:
    """Invoice id -> its date, for those of `invoice_ids` the ledger holds."""
    ids = sorted(set(invoice_ids))
    dates: dict[str, str] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        dates.update(
            db.execute(
                f"SELECT id, date FROM ledger_invoices WHERE company = ? AND id IN "
                f"({','.join('?' for _ in chunk)})",
                [company, *chunk],
            ).fetchall()
        )
    return dates


def client(db: Database, company: str, client_id: str) -> dict[str, Any] | None:
    return _row(
        db, "SELECT * FROM ledger_clients WHERE company = ? AND id = ?", [company, client_id]
    )


def clients(db: Database, company: str) -> list[dict[str, Any]]:
    """Every client's id, name and email, by id."""
    return list(
        db.query(
            "SELECT id, name, email FROM ledger_clients WHERE company = ? ORDER BY id", [company]
        )
    )


def payment(db: Database, company: str, payment_id: str) -> dict[str, Any] | None:
    return _row(
        db, "SELECT * FROM ledger_payments WHERE company = ? AND id = ?", [company, payment_id]
    )


def credit_application(db: Database, company: str, app_id: str) -> dict[str, Any] | None:
    return _row(
        db,
        "SELECT * FROM ledger_credit_applications WHERE company = ? AND id = ?",
        [company, app_id],
    )
