"""Payments recorded in QuickBooks, applied to the ledger through its rules for them.

A payment on invoices the ledger knows is recorded there (`ledger.quickbooks`), replacing what
it recorded before; one naming an invoice the ledger does not know waits for it to be linked;
one paying more than an invoice owes is held for a person. qbsync's own payments (pushed, or
created and not yet recorded) are never counted as QuickBooks payments. A payment voided or
deleted there, or taken off an invoice QuickBooks voided or deleted, is reversed in the ledger
and named (`qbo_void_reversed`), once.

A payment in a foreign currency (multi-currency company) carries its amounts in the document's
currency and an `ExchangeRate` (home-currency units per unit): the ledger keeps the amount as
QuickBooks gives it and, per line, the home-currency amount, amount x rate rounded half-up to
the cent (QuickBooks' Payment has no home amount per line; `HomeTotalAmt`, where given, is the
same product for the whole payment).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from qbsync import outbox
from qbsync.companies.records import read_facts
from qbsync.ledger import lookup, quickbooks, settling
from qbsync.ledger.reversals import Reversed, numbers
from qbsync.money import cents, dec
from qbsync.sync import links, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions
from qbsync.sync.inbound.window import deleted
from qbsync.sync.payment_check import check_payment

# payloads.marker() writes "qbsync:<request id>"; anyone may type "qbsync:" in a note.
_MARKER = re.compile(r"qbsync:(\S+)")
SETTLE_KINDS = [
    Kind.QBO_PAYMENT_UNKNOWN_INVOICE,
    Kind.QBO_PAYMENT_SETTLED_INVOICE,
    Kind.QBO_CREDIT_USED,
]


def _our_request(ctx: CycleContext, obj: dict[str, Any]) -> bool:
    found = _MARKER.search(obj.get("PrivateNote") or "")
    if found is None:
        return False
    return outbox.has_request(ctx.db, ctx.company, found.group(1))


def _lines(
    ctx: CycleContext, obj: dict[str, Any]
) -> tuple[list[quickbooks.PaymentLine], list[str], list[settling.CreditLine]]:
    """The money the payment puts on each linked invoice, one line per QuickBooks invoice (lines
    on the same invoice added up), net of the credit its credit memo lines move; the QuickBooks
    documents not linked ("invoice 12", "credit memo 14"); and that credit, as credit
    applications."""
    amounts: dict[str, Decimal] = {}
    local: dict[str, str] = {}
    unknown: list[str] = []
    credits: list[tuple[str, Any]] = []
    for line in obj.get("Line") or []:
        for txn in line.get("LinkedTxn") or []:
            txn_id = str(txn.get("TxnId"))
            if txn.get("TxnType") == "Invoice":
                link = links.by_qbo(ctx.db, ctx.company, "Invoice", txn_id)
                if link is None:
                    unknown.append(f"invoice {txn_id}")
                    continue
                local[txn_id] = link.local_id
                amounts[txn_id] = amounts.get(txn_id, Decimal(0)) + dec(line.get("Amount"))
            elif txn.get("TxnType") == "CreditMemo":
                memo = links.by_qbo(ctx.db, ctx.company, "CreditMemo", txn_id)
                if memo is not None and memo.local_type == "invoice":
                    credits.append((memo.local_id, line.get("Amount")))
                else:
                    # Credit the ledger cannot name is still not cash: held, like an unknown
                    # invoice, rather than counted as money on the invoice it pays.
                    unknown.append(f"credit memo {txn_id}")
    keys = list(amounts)
    net, moved = settling.split_credits(
        ctx.db, ctx.company, [(local[k], amounts[k]) for k in keys], credits
    )
    found = [
        quickbooks.PaymentLine(key, invoice_id, amount)
        for key, (invoice_id, amount) in zip(keys, net, strict=True)
    ]
    return found, unknown, moved


def _qbo_total(ctx: CycleContext, invoice_id: str) -> Decimal:
    """The invoice's total as QuickBooks last held it (tax included)."""
    link = links.by_local(ctx.db, ctx.company, "invoice", invoice_id)
    return dec((link.baseline or {}).get("total")) if link else dec(0)


def _home_rate(ctx: CycleContext, obj: dict[str, Any]) -> Decimal | None:
    """The payment's exchange rate when it is in a foreign currency, else None. Foreign: its
    CurrencyRef is not the company's home currency (as last read from QuickBooks); when that is
    not known yet, a rate other than 1."""
    if obj.get("ExchangeRate") in (None, "") or not obj.get("CurrencyRef"):
        return None
    rate = dec(obj["ExchangeRate"])
    currency = str((obj.get("CurrencyRef") or {}).get("value") or "")
    facts = ctx._facts.__dict__ if ctx._facts is not None else None
    if facts is None:
        stored = read_facts(ctx.db, ctx.company)
        facts = stored[0] if stored else None
    if facts and facts.get("home_currency"):
        return rate if currency != facts["home_currency"] else None
    return rate if rate != 1 else None


def _close_unapplied(ctx: CycleContext, obj: dict[str, Any]) -> None:
    """A payment qbsync pushed with money left unapplied: once the accountant has applied (or
    refunded) the rest in QuickBooks, or deleted the payment, the exception about it closes."""
    if not deleted(obj) and ("UnappliedAmt" not in obj or dec(obj["UnappliedAmt"]) > 0):
        return
    link = links.by_qbo(ctx.db, ctx.company, "Payment", str(obj["Id"]))
    if link is not None:
        close_exceptions(ctx.db, ctx.company, [Kind.PAYMENT_UNAPPLIED], "payment", link.local_id)


def _check_ours(ctx: CycleContext, obj: dict[str, Any]) -> None:
    """A new version of a payment qbsync pushed (edited in QuickBooks), checked again."""
    link = links.by_qbo(ctx.db, ctx.company, "Payment", str(obj["Id"]))
    pay = None if link is None else lookup.payment(ctx.db, ctx.company, link.local_id)
    if link is not None and link.local_type == "payment" and pay is not None:
        check_payment(ctx, link.local_id, pay, obj)


def apply_payment(ctx: CycleContext, obj: dict[str, Any], *, retry: bool = False) -> None:
    db, company = ctx.db, ctx.company
    qbo_id = str(obj["Id"])
    token = str(obj.get("SyncToken"))
    prev = qbo_payments.get(db, company, qbo_id)
    if prev and prev.state == "ours":
        if not deleted(obj):
            qbo_payments.set_sync_token(db, company, qbo_id, token)
            if prev.sync_token != token and not voided(obj):
                _check_ours(ctx, obj)
        _close_unapplied(ctx, obj)
        if deleted(obj) or voided(obj):
            # The ledger's own payment (or credit application) pushed as it is gone there.
            taken = quickbooks.reverse_payment(db, company, qbo_id, _pushed_credits(ctx, qbo_id))
            _raise_reversed(ctx, obj, taken, "deleted" if deleted(obj) else "voided")
        return  # qbsync pushed it: its echo is never counted again
    subject = ("qbo_payment", qbo_id)
    was_applied = bool(prev and prev.state == "applied")
    if deleted(obj):
        if was_applied:
            _raise_reversed(ctx, obj, quickbooks.reverse_payment(db, company, qbo_id), "deleted")
        if prev:
            qbo_payments.mark_deleted(db, company, qbo_id)
        close_exceptions(db, company, SETTLE_KINDS, *subject, resolution="auto")
        return
    if not retry and prev and prev.sync_token == token:
        return  # a re-read inside the overlap
    if _our_request(ctx, obj):
        # Created by qbsync, but the answer was lost before it was recorded: the outbox settles
        # it by its marker. Never count it as a QuickBooks payment.
        qbo_payments.store(db, company, obj, "ours")
        return
    if voided(obj):
        # Whatever held it (an unknown invoice, an overpayment) is moot: it moves nothing now.
        if was_applied:
            _raise_reversed(ctx, obj, quickbooks.reverse_payment(db, company, qbo_id), "voided")
        qbo_payments.store(db, company, obj, "applied")
        close_exceptions(db, company, SETTLE_KINDS, *subject, resolution="auto")
        return

    found, unknown, moved = _lines(ctx, obj)
    label = f"QuickBooks payment {obj.get('PaymentRefNum') or qbo_id}"
    if unknown:
        if was_applied:
            quickbooks.remove_payment(db, company, qbo_id)
        qbo_payments.store(db, company, obj, "waiting")
        ctx.raise_exception(
            Kind.QBO_PAYMENT_UNKNOWN_INVOICE,
            *subject,
            label=label,
            qbo_entity="Payment",
            qbo_id=qbo_id,
            message=f"{label} of {cents(obj.get('TotalAmt'))} is applied to QuickBooks "
            f"{', '.join(unknown)}, which the ledger does not know; nothing was applied",
            hint="link those documents with `qbsync wizard history`; the payment is applied "
            "then (credit keyed only into QuickBooks has no credit note in the ledger: add one, "
            f"or dismiss this). Open it: {ctx.qbo_url('Payment', qbo_id)}",
        )
        return
    settles: dict[str, Decimal] = {}  # money and credit together, per invoice
    for invoice_id, amount in [(p.invoice_id, p.amount) for p in found] + [
        (c.invoice_id, c.amount) for c in moved
    ]:
        settles[invoice_id] = settles.get(invoice_id, Decimal(0)) + amount
    over = settling.overpaid(
        db, company, qbo_id, list(settles.items()), lambda i: _qbo_total(ctx, i)
    )
    if over is not None:
        if was_applied:
            quickbooks.remove_payment(db, company, qbo_id)
        qbo_payments.store(db, company, obj, "rejected")
        inv = lookup.invoice(db, company, over.invoice_id) or {}
        ctx.raise_exception(
            Kind.QBO_PAYMENT_SETTLED_INVOICE,
            *subject,
            label=label,
            qbo_entity="Payment",
            qbo_id=qbo_id,
            message=f"{label} applies {cents(over.amount)} to invoice "
            f"{inv.get('number', over.invoice_id)}, which owes only {cents(over.owed)} in the "
            "ledger; nothing was applied",
            hint="check for a double payment in QuickBooks (refund or re-apply it), then "
            "resolve with --retry",
        )
        return
    spent = _credit_already_used(ctx, qbo_id, moved)
    if spent is not None:
        if was_applied:
            quickbooks.remove_payment(db, company, qbo_id)
        qbo_payments.store(db, company, obj, "rejected")
        note_id, moving, left, holders = spent
        note = lookup.invoice(db, company, note_id) or {}
        ctx.raise_exception(
            Kind.QBO_CREDIT_USED,
            *subject,
            label=label,
            qbo_entity="Payment",
            qbo_id=qbo_id,
            message=f"{label} applies {cents(moving)} of credit note "
            f"{note.get('number', note_id)}, which has {cents(left)} left in the ledger "
            f"({holders}); nothing was applied, so the credit is not counted twice",
            hint="QuickBooks applied the credit itself (Automatically apply credits) or by hand: "
            "take it off there, then retry the ledger's application; or take the ledger's "
            "application off in the billing system. Then resolve with --retry. Open it: "
            f"{ctx.qbo_url('Payment', qbo_id)}",
        )
        return
    before = quickbooks.settlement(db, company, qbo_id)
    quickbooks.record_payment(
        db,
        company,
        quickbooks.QuickBooksPayment(
            qbo_id=qbo_id,
            sync_token=token,
            date=obj.get("TxnDate"),
            method=(obj.get("PaymentMethodRef") or {}).get("name"),
            reference=obj.get("PaymentRefNum"),
            lines=found,
            credits=moved,
        ),
    )
    rate = _home_rate(ctx, obj)
    quickbooks.set_home_amounts(
        db,
        company,
        qbo_id,
        {p.line: None if rate is None else cents(p.amount * rate) for p in found},
    )
    taken = quickbooks.reversed_since(before, quickbooks.settlement(db, company, qbo_id))
    gone = _on_gone_documents(ctx, taken)
    if gone:
        _raise_reversed(ctx, obj, taken, f"taken off {gone} (voided or deleted there)")
    qbo_payments.store(db, company, obj, "applied")
    if found or moved:
        ctx.stats.payments_applied += 1
    close_exceptions(db, company, SETTLE_KINDS, *subject, resolution="auto")


def _credit_already_used(
    ctx: CycleContext, qbo_id: str, moved: list[settling.CreditLine]
) -> tuple[str, Decimal, Decimal, str] | None:
    """The first credit note this QuickBooks payment would apply beyond the credit it has left
    in the ledger (its total less every application but this payment's own): (its id, what the
    payment moves from it, what is left, who holds the rest). The ledger's own application that
    QuickBooks refused because it had spent the credit elsewhere holds it, for one."""
    moving: dict[str, Decimal] = {}
    for credit in moved:
        moving[credit.credit_note_id] = moving.get(credit.credit_note_id, Decimal(0)) + dec(
            credit.amount
        )
    for note_id, amount in moving.items():
        left, held = settling.credit_left(ctx.db, ctx.company, note_id, qbo_id)
        if cents(amount) > cents(left):
            named = ", ".join(f"{h[0]} {cents(h[2])} on {h[1]}" for h in held)
            return note_id, amount, left, f"applied: {named}" if named else "none applied"
    return None


def voided(obj: dict[str, Any]) -> bool:
    """A payment voided in QuickBooks: it stays, at a zero total with every line at zero and
    "Voided" in front of its note. (A payment that only moves credit is at zero too, but its
    lines are not, and its note says nothing of a void.)"""
    return (
        not deleted(obj)
        and dec(obj.get("TotalAmt")) == 0
        and all(dec(line.get("Amount")) == 0 for line in obj.get("Line") or [])
        and (obj.get("PrivateNote") or "").startswith("Voided")
    )


def _pushed_credits(ctx: CycleContext, qbo_id: str) -> list[str]:
    """The ledger's credit application pushed as this Payment, if it is one."""
    link = links.by_qbo(ctx.db, ctx.company, "Payment", qbo_id)
    return [link.local_id] if link and link.local_type == "credit_application" else []


def _on_gone_documents(ctx: CycleContext, taken: Reversed) -> str:
    """The documents, voided or deleted in QuickBooks, that the rows taken off were on ("" when
    none: an edit that moved money between live invoices is followed, not a reversal)."""
    names = numbers(ctx.db, ctx.company, taken)
    gone = []
    for row in [*taken.payments, *taken.credits]:
        for doc_id in (row["invoice_id"], row.get("credit_note_id")):
            link = links.by_local(ctx.db, ctx.company, "invoice", doc_id) if doc_id else None
            if link is not None and link.state in ("voided", "deleted"):
                name = f"{'credit note' if link.qbo_entity == 'CreditMemo' else 'invoice'} "
                name += names.get(link.local_id, link.local_id)
                if name not in gone:
                    gone.append(name)
    return ", ".join(gone)


def _raise_reversed(ctx: CycleContext, obj: dict[str, Any], taken: Reversed, how: str) -> None:
    """Name what the ledger reversed because of a void or delete in QuickBooks (nothing when
    nothing was: a re-read of a void already reversed)."""
    if not taken:
        return
    qbo_id = str(obj["Id"])
    local = [r["id"] for r in taken.payments if r["source"] != "quickbooks"]
    credits = [r["id"] for r in taken.credits if r["qbo_id"] is None]
    label = f"QuickBooks payment {obj.get('PaymentRefNum') or qbo_id}"
    if local:
        label = f"payment {', '.join(local)} ({label})"
    elif credits:
        label = f"credit application {', '.join(credits)} ({label})"
    ctx.raise_exception(
        Kind.QBO_VOID_REVERSED,
        "qbo_payment",
        qbo_id,
        label=label,
        qbo_entity="Payment",
        qbo_id=qbo_id,
        message=f"{label} was {how} in QuickBooks; the ledger reversed "
        f"{taken.describe(numbers(ctx.db, ctx.company, taken))} ({cents(taken.total)} in all): those invoices "
        "owe it again",
        hint="if the money did arrive, record the payment again (in QuickBooks, or in billing "
        "and import it); dismiss this once seen: it closes by itself when each invoice is "
        f"settled again or void ({ctx.qbo_url('Payment', qbo_id)})",
        data={"how": how, "reversed": taken.as_data()},
    )


def retry_waiting_payments(ctx: CycleContext) -> int:
    """Payments held for an invoice the ledger did not know: apply those now linked."""
    applied = 0
    for obj in qbo_payments.waiting(ctx.db, ctx.company):
        _, unknown, _ = _lines(ctx, obj)
        if not unknown:
            apply_payment(ctx, obj, retry=True)
            applied += 1
    return applied
