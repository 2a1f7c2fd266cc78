"""Payments and credits: a local payment pushed to QuickBooks, a credit note applied to an
invoice there (a zero-amount Payment linking the two). Both follow one skeleton (`_push`):
the ledger row, the QuickBooks documents it needs, a dry run's preview, an earlier write found
by its marker before anything is created again, the create, and the record of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from qbsync import outbox
from qbsync.ledger import lookup, quickbooks
from qbsync.money import cents, dec, to_json_number
from qbsync.outbox import Op, OpKind
from qbsync.qbo.errors import QboError
from qbsync.store.tx import transaction
from qbsync.sync import links, payloads, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind
from qbsync.sync.outbound.opstate import claim, done, fail, wait
from qbsync.sync.payloads import PayloadError
from qbsync.sync.payment_check import check_payment

Doc = dict[str, Any]


@dataclass
class Prepared:
    """A payment-shaped op ready to go, once its prerequisites are in QuickBooks."""

    preview: Doc  # what a dry run reports it would send
    build: Callable[[], Awaitable[Doc | None]]  # the body; None after failing the op
    send: Callable[[Doc], Awaitable[Doc]]  # create it in QuickBooks
    record: Callable[[Doc], None]  # record what QuickBooks created


async def _push(
    ctx: CycleContext,
    op: Op,
    what: str,
    load: Callable[[Any, str, str], Doc | None],
    prepare: Callable[[CycleContext, Op, Doc], Prepared | None],
) -> None:
    subject = load(ctx.db, ctx.company, op.subject_id)
    if subject is None:
        fail(ctx, op, f"{what} is no longer in the ledger", final=True)
        return
    prepared = prepare(ctx, op, subject)
    if prepared is None:
        return  # waiting for a prerequisite, or failed for a person to fix
    if ctx.dry_run:
        ctx.stats.would_send.append({"op": op.id, **prepared.preview})
        return
    doc = await find_payment(ctx, op, subject["date"]) if op.uncertain else None
    if doc is None:
        body = await prepared.build()
        if body is None:
            return
        claim(ctx, [op])
        doc = await prepared.send(body)
    prepared.record(doc)


async def find_payment(ctx: CycleContext, op: Op, txn_date: str) -> Doc | None:
    """The Payment an earlier attempt of the op created, found by its marker."""
    docs = await ctx.client.query_all("Payment", f"TxnDate = '{txn_date}'")
    mark = payloads.marker(op.request_id)
    return next((d for d in docs if mark in (d.get("PrivateNote") or "")), None)


def _prerequisite(ctx: CycleContext, op: Op, invoice_id: str, what: str) -> links.Link | None:
    """The QuickBooks document a payment or credit needs; None after deciding to wait/fail."""
    link = links.by_local(ctx.db, ctx.company, "invoice", invoice_id)
    if link is not None and link.state not in ("deleted",):
        return link
    export = outbox.latest_export(ctx.db, ctx.company, invoice_id)
    inv = lookup.invoice(ctx.db, ctx.company, invoice_id)
    number = inv["number"] if inv else invoice_id
    go_live = ctx.settings.go_live
    held = bool(inv and go_live and inv["date"] < go_live.isoformat())
    if export and export.state in ("pending", "failed", "in_progress") and not held:
        wait(ctx, op, f"waiting for {what} {invoice_id} to be exported")
        return None
    fail(
        ctx,
        op,
        f"{what} {number} is not in QuickBooks",
        needs_person=True,
        kind=Kind.PAYMENT_INVOICE_NOT_IN_QBO
        if op.kind == OpKind.PUSH_PAYMENT.value
        else Kind.CREDIT_FAILING,
        hint=(
            f"{what} {number} is dated before the go-live date, so the cycle holds it back; "
            if held
            else ""
        )
        + f"export it (qbsync invoices export {invoice_id}) or link it with the wizard; "
        "the payment follows on the next cycle",
    )
    return None


# --- a local payment ---------------------------------------------------------------------


async def push_payment(ctx: CycleContext, op: Op) -> None:
    await _push(ctx, op, "payment", lookup.payment, _prepare_payment)


def _prepare_payment(ctx: CycleContext, op: Op, pay: Doc) -> Prepared | None:
    link = _prerequisite(ctx, op, pay["invoice_id"], "invoice")
    if link is None:
        return None
    try:
        body = payloads.payment(
            ctx.db, ctx.company, ctx.settings, op.subject_id, link.qbo_id, op.request_id
        )
    except PayloadError as err:
        fail(ctx, op, err.message, hint=err.hint, kind=err.kind, needs_person=True)
        return None

    async def build() -> Doc:
        return body

    async def send(body: Doc) -> Doc:
        try:
            return await ctx.client.create("Payment", body, request_id=op.request_id)
        except QboError as err:
            capped = await _capped_to_balance(ctx, err, body, link.qbo_id)
            if capped is None:
                raise
            # QuickBooks owes less than the payment (paid there meanwhile): apply what it
            # owes and leave the rest as the customer's credit, raised when recorded.
            return await ctx.client.create("Payment", capped, request_id=f"{op.request_id}-cap")

    return Prepared(
        preview={"create": "Payment", "body": body},
        build=build,
        send=send,
        record=lambda doc: _record_payment(ctx, op, doc, pay),
    )


async def _capped_to_balance(
    ctx: CycleContext, err: QboError, body: Doc, invoice_qbo_id: str
) -> Doc | None:
    """The payment body with its invoice line cut to the invoice's open balance, when a
    business-rule refusal (6000) came from the payment being larger than that balance."""
    if err.qbo_code != "6000":
        return None
    live = await ctx.client.read("Invoice", invoice_qbo_id)
    balance = dec(live.get("Balance"))
    line = body["Line"][0]
    if balance >= dec(line["Amount"]):
        return None
    capped = {**body, "Line": []}
    if balance > 0:
        capped["Line"] = [{**line, "Amount": to_json_number(cents(balance))}]
    return capped


def _record_payment(ctx: CycleContext, op: Op, doc: Doc, pay: Doc) -> None:
    db, company = ctx.db, ctx.company
    with transaction(db):
        links.save(
            db,
            company,
            "payment",
            op.subject_id,
            "Payment",
            doc,
            linked_by="export",
            with_baseline=False,
        )
        quickbooks.mark_pushed(
            db, company, op.subject_id, str(doc["Id"]), str(doc.get("SyncToken"))
        )
        # Remembered as ours, so that its echo in the change feed is never counted again.
        qbo_payments.remember_pushed(db, company, doc)
        done(ctx, op, str(doc["Id"]), str(doc.get("SyncToken")))
        check_payment(ctx, op.subject_id, pay, doc)
        unapplied = dec(doc.get("UnappliedAmt"))
        if unapplied > 0:
            ctx.raise_exception(
                Kind.PAYMENT_UNAPPLIED,
                "payment",
                op.subject_id,
                label=f"payment {op.subject_id}",
                qbo_entity="Payment",
                qbo_id=str(doc["Id"]),
                message=(
                    f"payment {op.subject_id} of {cents(pay['amount'])} left "
                    f"{cents(unapplied)} unapplied in QuickBooks (customer credit)"
                ),
                hint="apply the credit to another invoice in QuickBooks, or refund it; "
                f"open it: {ctx.qbo_url('Payment', str(doc['Id']))}",
            )


# --- a credit note applied to an invoice -------------------------------------------------


async def apply_credit(ctx: CycleContext, op: Op) -> None:
    await _push(ctx, op, "credit application", lookup.credit_application, _prepare_credit)


def _prepare_credit(ctx: CycleContext, op: Op, app: Doc) -> Prepared | None:
    inv_link = _prerequisite(ctx, op, app["invoice_id"], "invoice")
    if inv_link is None:
        return None
    cm_link = _prerequisite(ctx, op, app["credit_note_id"], "credit note")
    if cm_link is None:
        return None
    inv = lookup.invoice(ctx.db, ctx.company, app["invoice_id"]) or {}
    customer = payloads.mapped(ctx.db, ctx.company, "customers", inv.get("client_id"))
    if customer is None:
        fail(
            ctx, op, f"client {inv.get('client_id')} has no QuickBooks customer", needs_person=True
        )
        return None

    async def build() -> Doc | None:
        # QuickBooks may have applied the credit itself (AutoApplyCredit): never apply twice.
        memo = await ctx.client.read("CreditMemo", cm_link.qbo_id)
        remaining = dec(memo.get("RemainingCredit", memo.get("TotalAmt")))
        amount = cents(app["amount"])
        held = cents(memo.get("TotalAmt"))
        if held < amount:
            # Not a question of who spent it: QuickBooks' credit memo is smaller than this.
            note = lookup.invoice(ctx.db, ctx.company, app["credit_note_id"]) or {}
            fail(
                ctx,
                op,
                f"credit note {note.get('number', app['credit_note_id'])} is {held} in "
                f"QuickBooks, less than this application of {amount} (the ledger's is "
                f"{cents(note.get('total') or 0)})",
                final=True,
                kind=Kind.CREDIT_FAILING,
                hint="the two books differ on the credit note (its tax or lines: see its "
                "exceptions); apply no more than QuickBooks holds, from the billing system; "
                f"open it: {ctx.qbo_url('CreditMemo', cm_link.qbo_id)}",
            )
            return None
        if remaining < amount:
            fail(
                ctx,
                op,
                f"QuickBooks has already used this credit (remaining {cents(remaining)}, "
                f"application {amount}); probably AutoApplyCredit applied it to an invoice",
                final=True,
                kind=Kind.CREDIT_FAILING,
                hint="check where QuickBooks applied the credit; turn off Automatically apply "
                f"credits in QuickBooks to avoid this; open it: {ctx.qbo_url('CreditMemo', cm_link.qbo_id)}",
            )
            return None
        return payloads.credit_application(
            customer, inv_link.qbo_id, cm_link.qbo_id, amount, app["date"], op.request_id
        )

    async def send(body: Doc) -> Doc:
        return await ctx.client.create("Payment", body, request_id=op.request_id)

    return Prepared(
        preview={"apply_credit": op.subject_id},
        build=build,
        send=send,
        record=lambda doc: _record_credit(ctx, op, doc),
    )


def _record_credit(ctx: CycleContext, op: Op, doc: Doc) -> None:
    with transaction(ctx.db):
        links.save(
            ctx.db,
            ctx.company,
            "credit_application",
            op.subject_id,
            "Payment",
            doc,
            linked_by="export",
            with_baseline=False,
        )
        qbo_payments.remember_credit(ctx.db, ctx.company, doc)
        done(ctx, op, str(doc["Id"]), str(doc.get("SyncToken")))
