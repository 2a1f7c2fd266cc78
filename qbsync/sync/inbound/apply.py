"""Applying a change window: each change to its applier, in the window's order; then the
payments that were waiting for an invoice, and clients remapped since their customer went away.
The caller commits it together with the new cursor."""

from __future__ import annotations

from qbsync.sync.context import CycleContext
from qbsync.sync.inbound.customers import ClientsByCustomer, apply_customer, heal_remapped_clients
from qbsync.sync.inbound.drift import apply_document
from qbsync.sync.inbound.payments import apply_payment, retry_waiting_payments
from qbsync.sync.inbound.window import Change


def apply_changes(ctx: CycleContext, changes: list[Change]) -> None:
    """Apply a window; the caller commits it together with the new cursor."""
    clients = ClientsByCustomer(ctx)
    for entity, obj in changes:
        if entity == "Customer":
            apply_customer(ctx, obj, clients)
        elif entity in ("Invoice", "CreditMemo"):
            apply_document(ctx, entity, obj)
        elif entity == "Payment" and ctx.settings.payment_pull:
            apply_payment(ctx, obj)
    ctx.stats.inbound_changes += len(changes)
    retry_waiting_payments(ctx)
    heal_remapped_clients(ctx)
