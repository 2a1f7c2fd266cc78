"""Drift, reversal and mismatch exceptions that close by themselves once the ledger agrees
with QuickBooks: checked on every cycle, so kept apart from the appliers (drift.py, payments.py),
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
    return closed + close_settled_reversals(ctx) + close_void_mismatches(ctx)


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


def close_void_mismatches(ctx: CycleContext) -> int:
    """A total or tax that QuickBooks and the ledger disagreed on no longer matters once the
    document is void on both sides: nothing is owed on it in either book. Returns how many
    closed."""
    open_mismatches = [
        item
        for kind in (Kind.TOTAL_MISMATCH, Kind.TAX_MISMATCH)
        for item in list_exceptions(ctx.db, ctx.company, status="open", kind=kind.value)
        if item["subject_type"] == "invoice"
    ]
    if not open_mismatches:
        return 0
    from qbsync.sync import links  # loaded only with a mismatch open

    closed = 0
    for item in open_mismatches:
        invoice_id = item["subject_id"]
        link = links.by_local(ctx.db, ctx.company, "invoice", invoice_id)
        gone_there = link is None or link.state in ("voided", "deleted")
        if gone_there and _is_void(ctx, invoice_id):
            closed += close_exceptions(
                ctx.db,
                ctx.company,
                [Kind(item["kind"])],
                "invoice",
                invoice_id,
                note="void in QuickBooks and in the ledger",
            )
    return closed


def _is_void(ctx: CycleContext, doc_id: str) -> bool:
    inv = lookup.invoice(ctx.db, ctx.company, doc_id)
    return inv is None or inv["status"] == "void"


def _settled(ctx: CycleContext, invoice_id: str) -> bool:
    return invoice_balance(ctx.db, ctx.company, invoice_id) <= 0
