"""What a QuickBooks payment may settle in the ledger: the money and the credit it moves (a
credit memo line is credit, never money), what an invoice still owes, and the credit a note
has left. ledger/quickbooks.py records what is decided here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from qbsync.money import cents, dec
from qbsync.store.database import Database

# (ledger invoice id, amount) a QuickBooks payment line puts on an invoice.
Allocation = tuple[str, Any]


@dataclass
class CreditLine:
    """Credit a QuickBooks payment moves from a ledger credit note onto an invoice: a credit
    application, never money received."""

    credit_note_id: str
    invoice_id: str
    amount: Decimal


@dataclass
class Overpaid:
    """The invoice a QuickBooks payment would pay beyond what it owes."""

    invoice_id: str
    amount: Any
    owed: Decimal


def credited_invoices(db: Database, company: str, credit_note_id: str) -> dict[str, Decimal]:
    """The invoices the ledger applied a credit note to itself (not through QuickBooks), with
    how much of it each holds."""
    held: dict[str, Decimal] = {}
    for invoice_id, amount in db.execute(
        "SELECT invoice_id, amount FROM ledger_credit_applications WHERE company = ? AND "
        "credit_note_id = ? AND qbo_id IS NULL",
        [company, credit_note_id],
    ).fetchall():
        held[invoice_id] = held.get(invoice_id, Decimal(0)) + dec(amount)
    return held


def split_credits(
    db: Database,
    company: str,
    allocations: list[Allocation],
    credits: list[tuple[str, Any]],
) -> tuple[list[tuple[str, Decimal]], list[CreditLine]]:
    """Split what a QuickBooks payment puts on invoices into money and credit.

    `allocations`: (ledger invoice id, amount) per invoice the payment settles; `credits`:
    (ledger credit note id, amount) per credit memo line. A credit memo line is credit, not
    money: where the ledger already holds that credit note applied to the invoice (QuickBooks'
    AutoApplyCredit spending the credit the ledger applies itself), up to what the ledger's
    application holds it is taken out and counted once, as the ledger's application; what is
    left becomes a credit application from QuickBooks, on the payment's invoices in line order.
    Returns the money per invoice and those credit applications."""
    amounts = [dec(a) for _, a in allocations]
    moved: list[CreditLine] = []
    for credit_note_id, amount in credits:
        left = dec(amount)
        for invoice_id, held in credited_invoices(db, company, credit_note_id).items():
            for index, (local_id, _) in enumerate(allocations):
                if local_id == invoice_id and left > 0 and held > 0:
                    take = min(left, amounts[index], held)
                    amounts[index] -= take
                    left -= take
                    held -= take
        for index, (local_id, _) in enumerate(allocations):
            if left <= 0:
                break
            take = min(left, amounts[index])
            if take > 0:
                amounts[index] -= take
                left -= take
                moved.append(CreditLine(credit_note_id, local_id, take))
    money = [(local_id, amounts[i]) for i, (local_id, _) in enumerate(allocations)]
    return money, moved


def credit_left(
    db: Database, company: str, credit_note_id: str, excluding_qbo_id: str
) -> tuple[Decimal, list[tuple[str, str, Decimal]]]:
    """What a credit note has left to apply (its total less every application of it but those
    of the QuickBooks payment `excluding_qbo_id`), and those applications: (id, invoice id,
    amount) each."""
    row = db.execute(
        "SELECT total FROM ledger_invoices WHERE company = ? AND id = ?",
        [company, credit_note_id],
    ).fetchone()
    held = [
        (str(r[0]), str(r[1]), dec(r[2]))
        for r in db.execute(
            "SELECT id, invoice_id, amount FROM ledger_credit_applications WHERE company = ? "
            "AND credit_note_id = ? AND (qbo_id IS NULL OR qbo_id != ?) ORDER BY id",
            [company, credit_note_id, excluding_qbo_id],
        )
    ]
    return dec(row[0] if row else 0) - sum((h[2] for h in held), Decimal(0)), held


def owed(db: Database, company: str, invoice_id: str, total: Decimal, excluding_qbo_id: str) -> Any:
    """What the invoice still owes of `total` (QuickBooks' total, tax included), ignoring the
    QuickBooks payment `excluding_qbo_id` (its money and the credit it moved)."""
    paid = sum(
        (
            dec(r[0])
            for r in db.execute(
                "SELECT amount FROM ledger_payments WHERE company = ? AND invoice_id = ? "
                "AND (qbo_id IS NULL OR qbo_id != ? OR source != 'quickbooks')",
                [company, invoice_id, excluding_qbo_id],
            )
        ),
        dec(0),
    )
    credited = sum(
        (
            dec(r[0])
            for r in db.execute(
                "SELECT amount FROM ledger_credit_applications WHERE company = ? AND invoice_id = ? "
                "AND (qbo_id IS NULL OR qbo_id != ?)",
                [company, invoice_id, excluding_qbo_id],
            )
        ),
        dec(0),
    )
    return total - paid - credited


def overpaid(
    db: Database,
    company: str,
    qbo_id: str,
    allocations: list[Allocation],
    total_of: Callable[[str], Decimal],
) -> Overpaid | None:
    """The first invoice the payment `qbo_id` would pay more than it owes (to the cent), if
    any; `total_of(invoice id)` is the invoice's total in QuickBooks."""
    for invoice_id, amount in allocations:
        due = owed(db, company, invoice_id, total_of(invoice_id), qbo_id)
        if cents(amount) > cents(due):
            return Overpaid(invoice_id, amount, due)
    return None
