"""What an invoice is for and what it still owes: its total (tax included, after discounts),
payments and applied credit, balance and status. store.py re-exports these for its callers.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from qbsync.errors import NotFoundError
from qbsync.store.database import Database


class InvoiceStatus(StrEnum):
    """Where an invoice stands, ledger-side, against its total including tax. A credit note is
    `paid` once fully applied."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERPAID = "overpaid"
    VOID = "void"


def _one(db: Database, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cursor = db.execute(sql, params)
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _sum(db: Database, sql: str, params: list[Any]) -> Decimal:
    # Summed in Python from the exact text: SQLite's SUM() would go through REAL.
    return sum((Decimal(r[0]) for r in db.execute(sql, params)), Decimal("0.00"))


def settled(db: Database, company: str, id: str) -> tuple[Decimal, Decimal]:
    """(payments, credit applied) against an invoice; for a credit note, (0, credit used)."""
    paid = _sum(
        db,
        "SELECT amount FROM ledger_payments WHERE company = ? AND invoice_id = ?",
        [company, id],
    )
    credited = _sum(
        db,
        "SELECT amount FROM ledger_credit_applications WHERE company = ? "
        "AND (invoice_id = ? OR credit_note_id = ?)",
        [company, id, id],
    )
    return paid, credited


def _total(db: Database, company: str, id: str) -> tuple[Decimal, str]:
    row = _one(
        db,
        "SELECT total, status FROM ledger_invoices WHERE company = ? AND id = ?",
        [company, id],
    )
    if row is None:
        raise NotFoundError(f"no invoice {id!r} in the ledger of {company}")
    return Decimal(row["total"]), row["status"]


def amount_due(db: Database, company: str, id: str) -> Decimal:
    """What an invoice is for: its total, tax included, after discounts (for a credit note,
    the credit it gives)."""
    return _total(db, company, id)[0]


def balance_of(total: Decimal, status: str, paid: Decimal, credited: Decimal) -> Decimal:
    """total - paid - credited; 0.00 for a void document. Negative when overpaid."""
    return Decimal("0.00") if status == "void" else total - paid - credited


def status_of(total: Decimal, status: str, paid: Decimal, credited: Decimal) -> InvoiceStatus:
    """draft and void as stored; otherwise open (nothing settled), partially_paid, paid (to
    the cent) or overpaid, against the total including tax."""
    if status in ("draft", "void"):
        return InvoiceStatus(status)
    settled_total = paid + credited
    if settled_total <= 0:
        return InvoiceStatus.OPEN
    if settled_total == total:
        return InvoiceStatus.PAID
    if settled_total > total:
        return InvoiceStatus.OVERPAID
    return InvoiceStatus.PARTIALLY_PAID


def invoice_balance(db: Database, company: str, id: str) -> Decimal:
    """The total (tax included, after discounts) minus payments and applied credit; for a
    credit note, the credit not yet applied. 0.00 once paid, negative when overpaid."""
    total, status = _total(db, company, id)
    paid, credited = settled(db, company, id)
    return balance_of(total, status, paid, credited)


def invoice_status(db: Database, company: str, id: str) -> InvoiceStatus:
    """draft, open, partially_paid, paid, overpaid or void, against the total including tax.
    A credit note is `paid` once fully applied."""
    total, status = _total(db, company, id)
    paid, credited = settled(db, company, id)
    return status_of(total, status, paid, credited)
