"""Applying a change window: each change to its applier, in the window's order; then the
payments that were waiting for an invoice, and clients remapped since their customer went away.
The caller commits it together with the new cursor.

The appliers load only with work for them: cron's usual cycle reads an empty window, with no
payment waiting and no client remapped."""

from __future__ import annotations

from qbsync.sync import qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, open_with_qbo_id
from qbsync.sync.inbound.window import Change


def apply_changes(ctx: CycleContext, changes: list[Change]) -> None:
    """Apply a window; the caller commits it together with the new cursor."""
    if changes:
        _apply_window(ctx, changes)
    ctx.stats.inbound_changes += len(changes)
    if qbo_payments.count_waiting(ctx.db, ctx.company):
        from qbsync.sync.inbound.payments import retry_waiting_payments

        retry_waiting_payments(ctx)
    if open_with_qbo_id(ctx.db, ctx.company, Kind.CUSTOMER_UNAVAILABLE):
        from qbsync.sync.inbound.customers import heal_remapped_clients

        heal_remapped_clients(ctx)


def _apply_window(ctx: CycleContext, changes: list[Change]) -> None:
    from qbsync.sync.inbound.customers import ClientsByCustomer, apply_customer
    from qbsync.sync.inbound.drift import apply_document
    from qbsync.sync.inbound.payments import apply_payment

    clients = ClientsByCustomer(ctx)
    for entity, obj in changes:
        if entity == "Customer":
            apply_customer(ctx, obj, clients)
        elif entity in ("Invoice", "CreditMemo"):
            apply_document(ctx, entity, obj)
        elif entity == "Payment" and ctx.settings.payment_pull:
            apply_payment(ctx, obj)
