"""Drift and reversal exceptions that close by themselves once the ledger agrees with
QuickBooks: checked on every cycle, so kept apart from the appliers (drift.py, payments.py),
which load only when a change is read."""

from __future__ import annotations

from qbsync.ledger import lookup
from qbsync.ledger.balances import invoice_balance
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, list_exceptions, open_with_qbo_id


def close_voided_in_ledger(ctx: CycleContext) -> int:
    """Drift about a document voided or deleted in QuickBooks closes once the ledger has voided
    it too (by `invoices void`, or any other way): both sides agree, nothing is left for a
    person. Returns how many closed."""
    closed = 0
    for invoice_id, _ in open_with_qbo_id(ctx.db, ctx.company, Kind.DRIFT_VOIDED_DELETED):
        inv = lookup.invoice(ctx.db, ctx.company, invoice_id)
        if inv is not None and inv["status"] == "void":
            closed += close_exceptions(
                ctx.db,
                ctx.company,
                [Kind.DRIFT_VOIDED_DELETED],
                "invoice",
                invoice_id,
                note="voided in the ledger as well",
            )
    return closed + close_settled_reversals(ctx)


def close_settled_reversals(ctx: CycleContext) -> int:
    """A reversal of a QuickBooks void or delete closes once nothing is left owing because of
    it: the credit note whose credit was reversed is void in the ledger too; each invoice a
    reversed payment or credit was on is void, or settled again. Returns how many closed."""
    closed = 0
    for item in list_exceptions(
        ctx.db, ctx.company, status="open", kind=Kind.QBO_VOID_REVERSED.value
    ):
        subject_type, subject_id = item["subject_type"], item["subject_id"]
        rows = (item.get("data") or {}).get("reversed") or {}
        invoices = {r["invoice_id"] for r in [*rows.get("payments", []), *rows.get("credits", [])]}
        if subject_type == "invoice":
            done = _is_void(ctx, subject_id)
            note = "the credit note is void in the ledger as well"
        else:
            done = all(_is_void(ctx, i) or _settled(ctx, i) for i in invoices)
            note = "each invoice it was on is settled again or void"
        if done:
            closed += close_exceptions(
                ctx.db, ctx.company, [Kind.QBO_VOID_REVERSED], subject_type, subject_id, note=note
            )
    return closed


def _is_void(ctx: CycleContext, doc_id: str) -> bool:
    inv = lookup.invoice(ctx.db, ctx.company, doc_id)
    return inv is None or inv["status"] == "void"


def _settled(ctx: CycleContext, invoice_id: str) -> bool:
    return invoice_balance(ctx.db, ctx.company, invoice_id) <= 0
