"""The ledger's rules for payments and voids, written once for every door that changes the
ledger: an import (plan.py), a command (store.py), and what QuickBooks recorded.

A rule returns a verdict, not a sentence: each door words it for its reader (an import points
at the file's line and field, a command at the ids it was given).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from qbsync import money as m
from qbsync.outbox import OpKind

if TYPE_CHECKING:
    from qbsync.ledger.models import PaymentIn


@dataclass(frozen=True, slots=True)
class Document:
    """What the rules need to know of an invoice or credit note."""

    type: str
    status: str
    client: str
    total: str | None = None  # tax included, as stored text; None where no rule needs it


# Payments ------------------------------------------------------------------------------------


class NoPayment(StrEnum):
    """Why an invoice cannot take a new payment."""

    UNKNOWN = "unknown"  # no such invoice in the ledger
    CREDIT_NOTE = "credit_note"  # a credit note is applied to invoices, never paid
    NOT_FINALIZED = "not_finalized"  # a draft, or void


def payment_refusal(invoice: Document | None) -> NoPayment | None:
    """Why `invoice` cannot take a new payment, or None when it can: only a finalized standard
    invoice takes payments."""
    if invoice is None:
        return NoPayment.UNKNOWN
    if invoice.type != "standard":
        return NoPayment.CREDIT_NOTE
    if invoice.status != "finalized":
        return NoPayment.NOT_FINALIZED
    return None


def only_finalized_takes_payments(invoice_id: str, status: str) -> str:
    """The words for NoPayment.NOT_FINALIZED (the same from every door)."""
    return f"invoice {invoice_id} is {status}; only a finalized invoice takes payments"


def payment_row(pay: PaymentIn) -> dict[str, Any]:
    """A payment as the ledger stores it (amount and date as text), in column order."""
    return {
        "id": pay.id,
        "invoice_id": pay.invoice,
        "amount": m.text(pay.amount),
        "date": pay.date.isoformat(),
        "method": pay.method,
        "reference": pay.reference,
        "home_amount": None if pay.home_amount is None else m.text(pay.home_amount),
    }


def changed_fields(stored: dict[str, Any], row: dict[str, Any]) -> list[str]:
    """The fields of `row` that differ from the stored record, in row order. A recorded payment
    or credit application is immutable: any change is refused (record a new one instead)."""
    return [key for key, value in row.items() if stored[key] != value]


@dataclass(frozen=True)
class Replay:
    """A payment given again under an id the ledger already holds. Only the identical local
    payment is accepted (as a no-op); one that came from QuickBooks, or one with other details,
    is refused."""

    from_quickbooks: bool
    changed: list[str]

    @property
    def identical(self) -> bool:
        return not self.from_quickbooks and not self.changed


def replay(stored: dict[str, Any], row: dict[str, Any]) -> Replay:
    """How a payment row compares with the stored payment under the same id."""
    return Replay(stored["source"] != "local", changed_fields(stored, row))


# Credit --------------------------------------------------------------------------------------


class TooMuchCredit(StrEnum):
    """Why a new credit application cannot take the amount it asks for.

    Payments may overpay: a payment is money the customer sent, and refusing it would lose
    money that was received (the invoice shows `overpaid`, and the surplus is there to refund
    or move). Credit is not money received: a credit note holds a finite credit, moved onto
    invoices. Applying more than the note holds would create credit out of nothing, and
    applying more than an invoice owes would leave credit on nothing; QuickBooks refuses both.
    """

    NOTE = "note"  # more than the credit note has left
    INVOICE = "invoice"  # more than the invoice still owes (nothing, once paid in full)


def credit_refusals(
    amount: Decimal, note_left: Decimal, invoice_owes: Decimal
) -> list[TooMuchCredit]:
    """Why a new credit application of `amount` cannot be applied, given the credit its note
    has left and what its invoice still owes (after payments and credit already applied);
    empty when it can. An application already recorded is a fact and is not held to this
    again."""
    refusals = []
    if amount > note_left:
        refusals.append(TooMuchCredit.NOTE)
    if amount > invoice_owes:
        refusals.append(TooMuchCredit.INVOICE)
    return refusals


# Finalizing and voiding ----------------------------------------------------------------------


def export_op(doc_type: str) -> OpKind:
    """The op that finalizing a document queues: QuickBooks gets an invoice or a credit memo."""
    return OpKind.EXPORT_CREDIT_MEMO if doc_type == "credit_note" else OpKind.EXPORT_INVOICE


def void_op(doc_type: str, status: str) -> OpKind | None:
    """The op that voiding a document in `status` queues. A finalized invoice is voided in
    QuickBooks, a finalized credit note deleted there (QuickBooks cannot void credit memos); a
    draft never reached QuickBooks and a void document stays void (voiding it again changes
    nothing), so neither queues anything."""
    if status != "finalized":
        return None
    return OpKind.DELETE_CREDIT_MEMO if doc_type == "credit_note" else OpKind.VOID_INVOICE


def void_refusal(doc_type: str, doc_id: str, paid: Decimal, credited: Decimal) -> str | None:
    """Why a document cannot be voided, or None. Money against it would dangle: a payment on a
    void invoice, or a credit still counted from a void credit note. It has to be taken off
    first (in QuickBooks: refund or move the payment, unapply the credit)."""
    if paid == 0 and credited == 0:
        return None
    if doc_type == "credit_note":
        return (
            f"credit note {doc_id} has {m.text(credited)} applied to invoices; unapply the credit "
            "first (in QuickBooks, then sync), and void it after"
        )
    held = []
    if paid != 0:
        held.append(f"{m.text(paid)} paid")
    if credited != 0:
        held.append(f"{m.text(credited)} credited")
    return (
        f"invoice {doc_id} has {' and '.join(held)} against it; refund or move the payments and "
        "unapply the credits first (in QuickBooks, then sync), and void it after"
    )
