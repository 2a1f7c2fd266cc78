"""The import plan: validated records checked against the store (references, currencies,
transitions) and turned into the writes and outbound ops to make.

Nothing is written here (store.apply_plan writes a plan); problems are collected and raised
together, so a file is fixed in one pass.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbsync import money as m
from qbsync.ledger import tax
from qbsync.ledger.balances import settled
from qbsync.ledger.changes import Plan, Rows
from qbsync.ledger.content import (
    content_hash,
    first_difference,
    invoice_content,
    opt_text,
    stored_content,
)
from qbsync.ledger.models import CreditApplicationIn, InvoiceIn, LineIn, PaymentIn
from qbsync.ledger.readers import RawRecord
from qbsync.ledger.rows import invoice_rows
from qbsync.ledger.rules import (
    Document,
    NoPayment,
    TooMuchCredit,
    changed_fields,
    credit_refusals,
    export_op,
    only_finalized_takes_payments,
    payment_refusal,
    payment_row,
    replay,
    void_op,
    void_refusal,
)
from qbsync.ledger.tax import Rates
from qbsync.ledger.validate import Problems
from qbsync.outbox import OpKind, SubjectType
from qbsync.store.database import Database

ZERO = Decimal("0.00")


def simple_kind(
    plan: Plan,
    kind: str,
    parsed: list[tuple[RawRecord, Any]],
    existing: dict[str, dict[str, Any]],
    columns: tuple[str, ...],
) -> None:
    for _, item in parsed:
        row = {c: getattr(item, c) for c in columns}
        old = existing.get(item.id)
        if old is None:
            plan.kinds[kind].added.append(row)
        elif any(old[c] != row[c] for c in columns):
            plan.kinds[kind].updated.append(row)
        else:
            plan.kinds[kind].unchanged += 1


def plan_invoice(
    db: Database,
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    inv: InvoiceIn,
    old: dict[str, Any] | None,
    client_currency: dict[str, str | None],
    service_ids: set[str],
    region_ids: set[str],
    terms_ids: set[str],
    region_rates: dict[str, Rates | None],
) -> str | None:
    """Plan one invoice; its total (tax included) as the ledger holds it once written (None
    when the invoice has problems): the file's figures for a new invoice or a draft, the
    stored total for one already issued (an issued invoice does not change)."""
    before = problems.count
    if inv.client not in client_currency:
        problems.add(record.where(("client",)), f"unknown client {inv.client!r}")
    if inv.terms is not None and inv.terms not in terms_ids:
        problems.add(record.where(("terms",)), f"unknown terms {inv.terms!r}")
    for index, line in enumerate(inv.lines):
        if not isinstance(line, LineIn):
            continue
        if line.service not in service_ids:
            problems.add(
                record.where(("lines", index, "service")), f"unknown service {line.service!r}"
            )
        if line.tax_region is not None and line.tax_region not in region_ids:
            problems.add(
                record.where(("lines", index, "tax_region")),
                f"unknown tax region {line.tax_region!r}",
            )
    own = client_currency.get(inv.client)
    issued = old is not None and old["status"] != "draft"
    if inv.currency and own and inv.currency != own and not issued:
        problems.add(
            record.where(("currency",)),
            f"{inv.currency} differs from client {inv.client}'s currency {own} "
            "(QuickBooks fixes a customer's currency)",
        )
    figures = tax.figures(inv, region_rates)
    for path, message in figures.problems:
        problems.add(record.where(path), message)
    if not issued:  # an invoice issued before this was checked is kept as it was issued
        for path, message in figures.untaxed:
            problems.add(record.where(path), message)
    subtotal = figures.subtotal
    if subtotal < 0 or (inv.type == "credit_note" and subtotal == 0):
        what = "a credit note's" if inv.type == "credit_note" else "an invoice's"
        need = "greater than 0" if inv.type == "credit_note" else "0 or more"
        problems.add(
            record.where(("lines",)),
            f"{what} subtotal must be {need} (it is {m.text(subtotal)}); "
            "credit notes carry positive amounts",
        )
    if problems.count > before:
        return None

    # No currency in the file: the client's; for an invoice already issued, the one it was
    # issued in (a later change to the client does not make the same file "different").
    currency = inv.currency or (old["currency"] if issued and old else own)
    # A new invoice's hash is taken from the rows written for it (store.apply_plan); one
    # already stored is compared by the content the file gives.
    content = None if old is None else invoice_content(inv, currency)
    digest = None if content is None else content_hash(content)
    row = {
        "id": inv.id,
        "number": inv.number,
        "client_id": inv.client,
        "type": inv.type,
        "status": inv.status,
        "date": inv.date.isoformat(),
        "due_date": opt_text(inv.due_date),
        "terms_id": inv.terms,
        "currency": currency,
        "memo": inv.memo,
        "subtotal": m.text(subtotal),
        "content_hash": digest,
        "discount": m.text(figures.discount),
        "tax": m.text(figures.tax),
        "total": m.text(figures.total),
        "amounts": inv.amounts,
        "tax_total": opt_text(inv.tax_total),
        "exchange_rate": opt_text(inv.exchange_rate),
        "home_total": opt_text(tax.home_total(figures.total, inv.exchange_rate)),
    }
    kind_plan = plan.kinds["invoices"]
    total: str | None = row["total"] if old is None or old["status"] == "draft" else old["total"]

    if old is None:
        kind_plan.added.append(row)
        _plan_rows(plan, inv.id, invoice_rows(plan.company, inv, figures))
        if inv.status == "finalized":
            plan.ops.append((export_op(inv.type), SubjectType.INVOICE, inv.id))
        return total

    was = old["status"]
    same = old["content_hash"] == digest
    if was == "draft":
        if same and inv.status == "draft":
            kind_plan.unchanged += 1
            return total
        kind_plan.updated.append(row)
        _plan_rows(plan, inv.id, invoice_rows(plan.company, inv, figures))
        if inv.status == "finalized":
            plan.ops.append((export_op(inv.type), SubjectType.INVOICE, inv.id))
        return total

    noun = "credit note" if old["type"] == "credit_note" else "invoice"
    if not same:
        assert content is not None
        diff = first_difference(stored_content(db, plan.company, old), content)
        path, stored, given = diff if diff else (("lines",), "?", "?")
        fix = (
            "void it and re-issue it under a new id"
            if was == "finalized"
            else "issue a new one under a new id"
        )
        problems.add(
            record.where(path),
            f"{noun} {inv.id} is {was} and cannot change (stored {stored!r}, file {given!r}); "
            + fix,
        )
        return total
    if was == "void":
        if inv.status == "void":
            kind_plan.unchanged += 1
        elif inv.status == "finalized" and old["finalized_at"] is not None:
            # Issued, then voided in the ledger (qbsync invoices void, or a QuickBooks void
            # accepted): the billing system's export still lists it as it issued it. It stays
            # void, as a payment the ledger took off stays off.
            kind_plan.kept_void += 1
        else:
            problems.add(
                record.where(("status",)),
                f"{noun} {inv.id} is void and cannot be un-voided; issue a new one under a new id",
            )
        return total
    # was finalized
    if inv.status == "finalized":
        kind_plan.unchanged += 1
    elif inv.status == "draft":
        problems.add(
            record.where(("status",)),
            f"{noun} {inv.id} is finalized and cannot go back to draft; "
            "void it and re-issue it under a new id",
        )
    else:
        refusal = void_refusal(old["type"], inv.id, *settled(db, plan.company, inv.id))
        if refusal is not None:
            problems.add(record.where(("status",)), refusal)
            return total
        # finalized -> void: the same content, only the status changes. The figures stay as
        # stored: they may be QuickBooks' tax taken by verification (tax.source: quickbooks), or
        # figured by rules older than today's, and a void changes no amount.
        kind_plan.updated.append({key: old[key] for key in row} | {"status": "void"})
        op = void_op(inv.type, was)
        if op is not None:
            plan.ops.append((op, SubjectType.INVOICE, inv.id))
    return total


def _plan_rows(plan: Plan, invoice_id: str, rows: tuple[Rows, Rows, Rows]) -> None:
    plan.lines[invoice_id], plan.discounts[invoice_id], plan.taxes[invoice_id] = rows


def plan_payment(
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    pay: PaymentIn,
    old: dict[str, Any] | None,
    docs: dict[str, Document],
) -> None:
    row = payment_row(pay)
    if old is not None:
        again = replay(old, row)
        if again.from_quickbooks:
            problems.add(
                record.where(("id",)),
                f"payment {pay.id} came from QuickBooks; choose another id for a local payment",
            )
        elif again.changed:
            key = again.changed[0]
            name = "invoice" if key == "invoice_id" else key
            problems.add(
                record.where((name,)),
                f"payment {pay.id} is recorded and cannot change (stored {old[key]!r}, "
                f"file {row[key]!r}); record a new payment (or a refund) under a new id",
            )
        else:
            plan.kinds["payments"].unchanged += 1
        return
    doc = docs.get(pay.invoice)
    refusal = payment_refusal(doc)
    if refusal is not None:
        if refusal is NoPayment.UNKNOWN:
            message = f"unknown invoice {pay.invoice!r}"
        elif refusal is NoPayment.CREDIT_NOTE:
            message = f"{pay.invoice} is a credit note; apply it with a credit application instead"
        else:
            assert doc is not None
            message = only_finalized_takes_payments(pay.invoice, doc.status)
        problems.add(record.where(("invoice",)), message)
        return
    plan.kinds["payments"].added.append(row)
    plan.ops.append((OpKind.PUSH_PAYMENT, SubjectType.PAYMENT, pay.id))


def plan_application(
    plan: Plan,
    problems: Problems,
    record: RawRecord,
    app: CreditApplicationIn,
    old: dict[str, Any] | None,
    docs: dict[str, Document],
    used_by: dict[str, Decimal],
    settled_by: dict[str, Decimal],
) -> bool:
    """Plan one credit application; True when it is added. `used_by`: the credit already
    applied from each credit note, `settled_by`: what each invoice has had paid and credited
    (the store's and this import's so far); an added application counts in both. Only a new
    application is held to the credit left: one recorded already is a fact, not asked again."""
    row = {
        "id": app.id,
        "credit_note_id": app.credit_note,
        "invoice_id": app.invoice,
        "amount": m.text(app.amount),
        "date": app.date.isoformat(),
    }
    if old is not None:
        changed = changed_fields(old, row)
        if changed:
            key = changed[0]
            problems.add(
                record.where((key.removesuffix("_id"),)),
                f"credit application {app.id} is recorded and cannot change (stored "
                f"{old[key]!r}, file {row[key]!r}); record a new one under a new id",
            )
        else:
            plan.kinds["credit_applications"].unchanged += 1
        return False
    before = problems.count
    note, invoice = docs.get(app.credit_note), docs.get(app.invoice)
    if note is None:
        problems.add(record.where(("credit_note",)), f"unknown credit note {app.credit_note!r}")
    elif note.type != "credit_note":
        problems.add(record.where(("credit_note",)), f"{app.credit_note} is not a credit note")
    elif note.status != "finalized":
        problems.add(
            record.where(("credit_note",)),
            f"credit note {app.credit_note} is {note.status}; only a finalized one can be applied",
        )
    if invoice is None:
        problems.add(record.where(("invoice",)), f"unknown invoice {app.invoice!r}")
    elif invoice.type != "standard":
        problems.add(record.where(("invoice",)), f"{app.invoice} is not a standard invoice")
    elif invoice.status != "finalized":
        problems.add(
            record.where(("invoice",)),
            f"invoice {app.invoice} is {invoice.status}; credit applies to finalized invoices",
        )
    if note and invoice and note.client != invoice.client:
        problems.add(
            record.where(("invoice",)),
            f"credit note {app.credit_note} (client {note.client}) and invoice {app.invoice} "
            f"(client {invoice.client}) belong to different clients",
        )
    if problems.count > before:
        return False
    assert note is not None and invoice is not None
    if note.total is None or invoice.total is None:  # a document with problems of its own
        return False
    note_total, invoice_total = m.dec(note.total), m.dec(invoice.total)
    note_used = used_by.get(app.credit_note, ZERO)
    invoice_settled = settled_by.get(app.invoice, ZERO)
    left, owes = note_total - note_used, invoice_total - invoice_settled
    for refusal in credit_refusals(app.amount, left, owes):
        if refusal is TooMuchCredit.NOTE:
            message = (
                f"credit note {app.credit_note} has {m.text(left)} of credit left (of "
                f"{m.text(note_total)}, {m.text(note_used)} applied); credit application "
                f"{app.id} asks for {m.text(app.amount)}; a note's credit cannot be applied "
                "beyond what it holds"
            )
        elif owes <= 0:
            message = (
                f"invoice {app.invoice} owes nothing (balance {m.text(owes)}: total "
                f"{m.text(invoice_total)}, {m.text(invoice_settled)} paid and credited); "
                f"credit application {app.id} asks for {m.text(app.amount)}; an invoice "
                "paid in full takes no credit"
            )
        else:
            message = (
                f"invoice {app.invoice} owes {m.text(owes)} (total {m.text(invoice_total)}, "
                f"{m.text(invoice_settled)} paid and credited); credit application {app.id} "
                f"asks for {m.text(app.amount)}; credit applies up to what an invoice owes"
            )
        problems.add(record.where(("amount",)), message)
    if problems.count > before:
        return False
    used_by[app.credit_note] = note_used + app.amount
    settled_by[app.invoice] = invoice_settled + app.amount
    plan.kinds["credit_applications"].added.append(row)
    plan.ops.append((OpKind.APPLY_CREDIT, SubjectType.CREDIT_APPLICATION, app.id))
    return True
