"""What QuickBooks did, recorded by the ledger.

The sync engine reads QuickBooks and decides what happened there (a payment recorded, edited or
deleted; a local payment pushed; a document voided or deleted and accepted as such); the
ledger, through this module, decides what that does to its books and writes it. Payments
recorded in QuickBooks become `quickbooks` payments here, under the ledger's rules for them:
what a linked credit note paid is counted as credit, not money, and no invoice takes more than
it owes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from qbsync.money import allocate, cents, dec
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

# (ledger invoice id, amount) a QuickBooks payment line puts on an invoice.
Allocation = tuple[str, Any]


@dataclass
class PaymentLine:
    """What one line of a QuickBooks payment puts on one invoice. `line` keys the line within
    its payment: the Id of the QuickBooks invoice it settles (QuickBooks gives payment lines no
    Id of their own; lines on the same invoice are added up)."""

    line: str
    invoice_id: str
    amount: Decimal


@dataclass
class CreditLine:
    """Credit a QuickBooks payment moves from a ledger credit note onto an invoice: a credit
    application, never money received."""

    credit_note_id: str
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


@dataclass
class Overpaid:
    """The invoice a QuickBooks payment would pay beyond what it owes."""

    invoice_id: str
    amount: Any
    owed: Decimal


def credited_invoices(db: Database, company: str, credit_note_id: str) -> list[str]:
    """The invoices the ledger applied a credit note to itself (not through QuickBooks)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT invoice_id FROM ledger_credit_applications WHERE company = ? AND "
            "credit_note_id = ? AND qbo_id IS NULL",
            [company, credit_note_id],
        ).fetchall()
    ]


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
    AutoApplyCredit spending the credit the ledger applies itself), it is taken out and counted
    once, as the ledger's application; what is left becomes a credit application from QuickBooks,
    on the payment's invoices in line order. Returns the money per invoice and those credit
    applications."""
    amounts = [dec(a) for _, a in allocations]
    moved: list[CreditLine] = []
    for credit_note_id, amount in credits:
        left = dec(amount)
        for invoice_id in credited_invoices(db, company, credit_note_id):
            for index, (local_id, _) in enumerate(allocations):
                if local_id == invoice_id and left > 0:
                    take = min(left, amounts[index])
                    amounts[index] -= take
                    left -= take
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


@dataclass
class QuickBooksTaxLine:
    """One rate of the tax QuickBooks computed on a document (a TxnTaxDetail.TaxLine)."""

    name: str
    rate: Decimal | None
    base: Decimal
    amount: Decimal


def record_quickbooks_tax(
    db: Database,
    company: str,
    invoice_id: str,
    tax: Decimal,
    rates: list[QuickBooksTaxLine] | None = None,
) -> bool:
    """Take QuickBooks' tax as the document's (`tax.source: quickbooks`): its tax and total,
    each line's tax (QuickBooks' tax spread over the lines in proportion to the tax they held,
    else to the taxed lines' net amounts) and total, the tax per rate when QuickBooks gave its
    rates, and the home-currency total. Balance and status follow (they are read from the
    total). The document's content and content hash stay as the billing system sent them: this
    is a figure QuickBooks worked out, not a change to the document, so nothing is queued and
    a later import of the same file is still the same invoice. Returns whether anything
    changed."""
    row = db.execute(
        "SELECT subtotal, discount, tax, amounts, exchange_rate FROM ledger_invoices "
        "WHERE company = ? AND id = ?",
        [company, invoice_id],
    ).fetchone()
    if row is None:
        return False
    subtotal, discount, old_tax, amounts, exchange_rate = row
    tax = cents(tax)
    if tax == cents(old_tax) and not rates:
        return False
    lines = db.execute(
        "SELECT line_no, amount, discount, tax, tax_region_id FROM ledger_invoice_lines "
        "WHERE company = ? AND invoice_id = ? ORDER BY line_no",
        [company, invoice_id],
    ).fetchall()
    inclusive = amounts == "inclusive"
    zero = Decimal("0.00")
    weights = [max(dec(t), zero) for _, _, _, t, _ in lines]
    if sum(weights, zero) == 0:
        nets = [dec(a) - dec(d) for _, a, d, _, _ in lines]
        weights = [
            max(n, zero) if r is not None else zero for n, (*_, r) in zip(nets, lines, strict=True)
        ]
        if sum(weights, zero) == 0:
            weights = [max(n, zero) for n in nets]
    shares = allocate(tax, weights) if lines and sum(weights, zero) > 0 else [zero for _ in lines]
    now = utc_now_iso()
    with transaction(db):
        for (line_no, amount, line_discount, _, _), share in zip(lines, shares, strict=True):
            line_total = dec(amount) - dec(line_discount) + (zero if inclusive else share)
            db.execute(
                "UPDATE ledger_invoice_lines SET tax = ?, total = ? WHERE company = ? AND "
                "invoice_id = ? AND line_no = ?",
                [str(cents(share)), str(cents(line_total)), company, invoice_id, line_no],
            )
        total = cents(dec(subtotal) - dec(discount) + (zero if inclusive else tax))
        home = None if exchange_rate is None else cents(total * dec(exchange_rate))
        db.execute(
            "UPDATE ledger_invoices SET tax = ?, total = ?, home_total = ?, updated_at = ? "
            "WHERE company = ? AND id = ?",
            [str(tax), str(total), None if home is None else str(home), now, company, invoice_id],
        )
        if rates:
            regions = {r for *_, r in lines if r is not None}
            region = regions.pop() if len(regions) == 1 else "quickbooks"
            db.execute(
                "DELETE FROM ledger_invoice_taxes WHERE company = ? AND invoice_id = ?",
                [company, invoice_id],
            )
            seen: dict[str, QuickBooksTaxLine] = {}
            for line in rates:  # one row per rate name (the table's key)
                if line.name in seen:
                    before = seen[line.name]
                    line = QuickBooksTaxLine(
                        line.name, line.rate, before.base + line.base, before.amount + line.amount
                    )
                seen[line.name] = line
            for line in seen.values():
                db.execute(
                    "INSERT INTO ledger_invoice_taxes (company, invoice_id, tax_region_id, name, "
                    "rate, base, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        company,
                        invoice_id,
                        region,
                        line.name,
                        None if line.rate is None else format(line.rate, "f"),
                        str(cents(line.base)),
                        str(cents(line.amount)),
                    ],
                )
    return True


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


def mark_pushed(
    db: Database, company: str, payment_id: str, qbo_id: str, sync_token: str | None
) -> None:
    """A local payment now in QuickBooks: its Id and SyncToken there."""
    db.execute(
        "UPDATE ledger_payments SET qbo_id = ?, qbo_sync_token = ?, updated_at = ? "
        "WHERE company = ? AND id = ?",
        [qbo_id, sync_token, utc_now_iso(), company, payment_id],
    )


def accept_void(db: Database, company: str, invoice_id: str) -> None:
    """A document voided or deleted in QuickBooks, accepted by a person: void in the ledger too.
    Nothing is queued (QuickBooks already has it so)."""
    db.execute(
        "UPDATE ledger_invoices SET status = 'void', voided_at = ?, updated_at = ? "
        "WHERE company = ? AND id = ?",
        [utc_now_iso(), utc_now_iso(), company, invoice_id],
    )
