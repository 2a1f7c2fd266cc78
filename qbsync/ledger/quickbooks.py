"""What QuickBooks did, recorded by the ledger.

The sync engine reads QuickBooks and decides what happened there (a payment recorded, edited or
deleted; a local payment pushed; a document voided or deleted and accepted as such); the
ledger, through this module, decides what that does to its books and writes it. Payments
recorded in QuickBooks become `quickbooks` payments here, under the ledger's rules for them:
what a linked credit note paid is counted as credit, not money, and no invoice takes more than
it owes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from qbsync.ledger import reversals
from qbsync.ledger.reversals import Reversed
from qbsync.ledger.settling import CreditLine
from qbsync.money import cents, dec
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso


@dataclass
class PaymentLine:
    """What one line of a QuickBooks payment puts on one invoice. `line` keys the line within
    its payment: the Id of the QuickBooks invoice it settles (QuickBooks gives payment lines no
    Id of their own; lines on the same invoice are added up)."""

    line: str
    invoice_id: str
    amount: Decimal


@dataclass
class QuickBooksPayment:
    """A payment recorded in QuickBooks, as the ledger records it: one row per line."""

    qbo_id: str
    sync_token: str
    date: str | None
    method: str | None
    reference: str | None
    lines: list[PaymentLine] = field(default_factory=list)
    credits: list[CreditLine] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentTotals:
    """A document's figures as QuickBooks should hold them: `total` is after discount and tax
    included. `knows_tax`: the ledger holds the tax (from rates or the billing system's
    figures); without it the tax is left to QuickBooks and `tax` is 0.00."""

    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    knows_tax: bool


def document_totals(db: Database, company: str) -> dict[str, DocumentTotals]:
    """Each finalized invoice's and credit note's totals, by id (what the wizard's history step
    compares with QuickBooks' TotalAmt)."""
    rows = db.execute(
        "SELECT i.id, i.subtotal, i.discount, i.tax, i.total, i.tax_total IS NOT NULL OR EXISTS "
        "(SELECT 1 FROM ledger_invoice_taxes t WHERE t.company = i.company "
        "AND t.invoice_id = i.id) FROM ledger_invoices i "
        "WHERE i.company = ? AND i.status = 'finalized'",
        [company],
    ).fetchall()
    return {
        row[0]: DocumentTotals(
            cents(row[1]), cents(row[2]), cents(row[3]), cents(row[4]), bool(row[5])
        )
        for row in rows
    }


def remove_payment(db: Database, company: str, qbo_id: str) -> None:
    """Take a QuickBooks payment's rows, and the credit it moved, out of the ledger (deleted,
    or no longer applicable)."""
    with transaction(db):
        db.execute(
            "DELETE FROM ledger_payments WHERE company = ? AND source = 'quickbooks' "
            "AND qbo_id = ?",
            [company, qbo_id],
        )
        db.execute(
            "DELETE FROM ledger_credit_applications WHERE company = ? AND qbo_id = ?",
            [company, qbo_id],
        )


def _record_credits(db: Database, company: str, payment: QuickBooksPayment) -> None:
    """The credit applications a QuickBooks payment makes, as it now holds them: one per credit
    note and invoice; an unchanged one is left as it is."""
    want: dict[tuple[str, str], Decimal] = {}
    for credit in payment.credits:
        key = (credit.credit_note_id, credit.invoice_id)
        want[key] = want.get(key, Decimal(0)) + dec(credit.amount)
    have = {
        (row[0], row[1]): row[2]
        for row in db.execute(
            "SELECT credit_note_id, invoice_id, amount FROM ledger_credit_applications "
            "WHERE company = ? AND qbo_id = ?",
            [company, payment.qbo_id],
        ).fetchall()
    }
    for key, text in have.items():
        if key not in want or str(cents(want[key])) != text:
            db.execute(
                "DELETE FROM ledger_credit_applications WHERE company = ? AND qbo_id = ? "
                "AND credit_note_id = ? AND invoice_id = ?",
                [company, payment.qbo_id, *key],
            )
    for (credit_note_id, invoice_id), amount in want.items():
        if cents(amount) == 0 or have.get((credit_note_id, invoice_id)) == str(cents(amount)):
            continue
        db.execute(
            "INSERT INTO ledger_credit_applications (company, id, credit_note_id, invoice_id, "
            "amount, date, created_at, qbo_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                company,
                f"qbo-{payment.qbo_id}-{credit_note_id}-{invoice_id}",
                credit_note_id,
                invoice_id,
                str(cents(amount)),
                payment.date,
                utc_now_iso(),
                payment.qbo_id,
            ],
        )


def record_payment(db: Database, company: str, payment: QuickBooksPayment) -> None:
    """Record a QuickBooks payment: one row per line, keyed by the payment's Id and the line (the
    QuickBooks invoice it settles). A line QuickBooks no longer holds (an edit moved its money
    to another invoice), or one at zero (a voided payment keeps its lines), leaves the ledger;
    a changed line is updated; an unchanged one is left as it is. Money QuickBooks holds
    unapplied settles no invoice and is not recorded. Credit the payment moves is recorded as
    credit applications (`credits`), never as money."""
    with transaction(db):
        _record_credits(db, company, payment)
        # Rows written before payments were kept by line hold none: rewrite them.
        db.execute(
            "DELETE FROM ledger_payments WHERE company = ? AND source = 'quickbooks' "
            "AND qbo_id = ? AND qbo_line IS NULL",
            [company, payment.qbo_id],
        )
        have = {
            row[0]: row[1:]
            for row in db.execute(
                "SELECT qbo_line, invoice_id, amount, date, method, reference, qbo_sync_token "
                "FROM ledger_payments WHERE company = ? AND source = 'quickbooks' AND qbo_id = ?",
                [company, payment.qbo_id],
            ).fetchall()
        }
        lines = [line for line in payment.lines if cents(line.amount) != 0]
        now = utc_now_iso()
        for gone in set(have) - {line.line for line in lines}:
            db.execute(
                "DELETE FROM ledger_payments WHERE company = ? AND source = 'quickbooks' "
                "AND qbo_id = ? AND qbo_line = ?",
                [company, payment.qbo_id, gone],
            )
        for line in lines:
            fields = (
                line.invoice_id,
                str(cents(line.amount)),
                payment.date,
                payment.method,
                payment.reference,
            )
            before = have.get(line.line)
            if before is not None and tuple(before[:5]) == fields:
                if before[5] != payment.sync_token:
                    db.execute(
                        "UPDATE ledger_payments SET qbo_sync_token = ? WHERE company = ? AND "
                        "source = 'quickbooks' AND qbo_id = ? AND qbo_line = ?",
                        [payment.sync_token, company, payment.qbo_id, line.line],
                    )
                continue
            if before is not None:
                db.execute(
                    "UPDATE ledger_payments SET invoice_id = ?, amount = ?, date = ?, method = ?, "
                    "reference = ?, qbo_sync_token = ?, updated_at = ? WHERE company = ? AND "
                    "source = 'quickbooks' AND qbo_id = ? AND qbo_line = ?",
                    [*fields, payment.sync_token, now, company, payment.qbo_id, line.line],
                )
                continue
            db.execute(
                "INSERT INTO ledger_payments (company, id, invoice_id, amount, date, method, "
                "reference, source, qbo_id, qbo_line, qbo_sync_token, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'quickbooks', ?, ?, ?, ?, ?)",
                [
                    company,
                    f"qbo-{payment.qbo_id}-{line.line}",
                    *fields,
                    payment.qbo_id,
                    line.line,
                    payment.sync_token,
                    now,
                    now,
                ],
            )


def set_home_amounts(
    db: Database, company: str, qbo_id: str, home_amounts: dict[str, Decimal | None]
) -> None:
    """What each line of a QuickBooks payment came to in the home currency (None: a payment in
    the home currency), keyed by line as `record_payment` wrote them. A changed figure updates
    the row's `updated_at`, so that `ledger export payments --since` hands it on."""
    now = utc_now_iso()
    with transaction(db):
        for line, home in home_amounts.items():
            text = None if home is None else str(cents(home))
            db.execute(
                "UPDATE ledger_payments SET home_amount = ?, updated_at = ? WHERE company = ? "
                "AND source = 'quickbooks' AND qbo_id = ? AND qbo_line = ? "
                "AND home_amount IS NOT ?",
                [text, now, company, qbo_id, line, text],
            )


def mark_pushed(
    db: Database, company: str, payment_id: str, qbo_id: str, sync_token: str | None
) -> None:
    """A local payment now in QuickBooks: its Id and SyncToken there."""
    db.execute(
        "UPDATE ledger_payments SET qbo_id = ?, qbo_sync_token = ?, updated_at = ? "
        "WHERE company = ? AND id = ?",
        [qbo_id, sync_token, utc_now_iso(), company, payment_id],
    )


def accept_void(db: Database, company: str, invoice_id: str) -> Reversed:
    """A document voided or deleted in QuickBooks, accepted by a person: void in the ledger too,
    and take off the money the ledger still counted against it (QuickBooks already unapplied
    it: a payment there is the customer's credit now). Nothing is queued (QuickBooks already
    has it so). Returns what was taken off."""
    with transaction(db):
        taken = reversals.on_document(db, company, invoice_id)
        reversals.remove(db, company, taken, f"{invoice_id} voided or deleted in QuickBooks")
        db.execute(
            "UPDATE ledger_invoices SET status = 'void', voided_at = ?, updated_at = ? "
            "WHERE company = ? AND id = ?",
            [utc_now_iso(), utc_now_iso(), company, invoice_id],
        )
    return taken


def record_number(db: Database, company: str, invoice_id: str, number: str | None) -> bool:
    """The number QuickBooks gave a document it numbered itself (`numbering: quickbooks`), kept
    beside the ledger's own (`ledger export invoices` shows it as qbo_number). True when it
    changed."""
    if not number:
        return False
    cursor = db.execute(
        "UPDATE ledger_invoices SET qbo_number = ?, updated_at = ? WHERE company = ? AND id = ? "
        "AND qbo_number IS NOT ?",
        [str(number), utc_now_iso(), company, invoice_id, str(number)],
    )
    return bool(cursor.rowcount)


# Voids and deletes made in QuickBooks -------------------------------------------------------


def settlement(
    db: Database, company: str, qbo_id: str, credit_ids: list[str] | None = None
) -> Reversed:
    """What a QuickBooks Payment settles in the ledger now (see reversals.of_qbo_payment)."""
    return reversals.of_qbo_payment(db, company, qbo_id, credit_ids)


def reverse_payment(
    db: Database, company: str, qbo_id: str, credit_ids: list[str] | None = None
) -> Reversed:
    """A Payment voided or deleted in QuickBooks: every ledger row it settles leaves the ledger,
    whether recorded from QuickBooks or the ledger's own payment (or credit application,
    `credit_ids`) pushed as it. The invoices owe that money again. Returns what was reversed
    (nothing when it was reversed already)."""
    with transaction(db):
        taken = reversals.of_qbo_payment(db, company, qbo_id, credit_ids)
        reversals.remove(db, company, taken, f"QuickBooks payment {qbo_id} voided or deleted")
    return taken


def reverse_credit_note(db: Database, company: str, credit_note_id: str) -> Reversed:
    """A credit memo deleted (or voided) in QuickBooks: the credit its ledger credit note
    applied to invoices is reversed (QuickBooks took it off them). Returns what was reversed."""
    with transaction(db):
        taken = reversals.from_credit_note(db, company, credit_note_id)
        reversals.remove(
            db, company, taken, f"credit note {credit_note_id} deleted or voided in QuickBooks"
        )
    return taken


def money_on(db: Database, company: str, doc_id: str) -> Reversed:
    """What the ledger counts against a document (its payments and credit), not removed."""
    return reversals.on_document(db, company, doc_id)


def reversed_since(before: Reversed, after: Reversed) -> Reversed:
    """What a change took off (reversals.less)."""
    return reversals.less(before, after)
