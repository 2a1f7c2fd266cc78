"""Voids: a document voided in the ledger is voided in QuickBooks (a credit memo, which cannot
be voided there, is deleted; so is an invoice when the company says so). Its live SyncToken is
read first; a document already void or gone there is simply done. A credit application taken
off with it is undone there first (`unapply_credit`)."""

from __future__ import annotations

from qbsync import outbox
from qbsync.outbox import Op, OpKind
from qbsync.qbo.errors import ObjectNotFound, StaleObjectError
from qbsync.store.tx import transaction
from qbsync.sync import links, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.outbound.opstate import claim, done, wait


async def void(ctx: CycleContext, op: Op) -> None:
    db = ctx.db
    link = links.by_local(db, ctx.company, "invoice", op.subject_id)
    if link is None:
        export = outbox.latest_export(db, ctx.company, op.subject_id)
        if export and export.uncertain:
            wait(ctx, op, "waiting for the export's outcome to be settled")
            return
        # Never reached QuickBooks: cancel the export, nothing to void.
        with transaction(db):
            if export and export.state != "done":
                outbox.cancel(db, export.op_id)
            done(ctx, op, None, None)
        return
    if link.state in ("voided", "deleted"):
        with transaction(db):
            done(ctx, op, link.qbo_id, link.sync_token)
        return
    if ctx.dry_run:
        ctx.stats.would_send.append({"op": op.id, "void": link.qbo_entity, "id": link.qbo_id})
        return
    claim(ctx, [op])
    deleting = op.kind == OpKind.DELETE_CREDIT_MEMO.value or (
        link.qbo_entity == "Invoice" and ctx.settings.on_cancel == "delete"
    )
    for attempt in range(2):
        try:
            live = await ctx.client.read(link.qbo_entity, link.qbo_id)
        except ObjectNotFound:
            with transaction(db):
                links.set_state(db, link, "deleted")
                done(ctx, op, link.qbo_id, None)
            return
        if links.is_void_shape(live, link.baseline):
            with transaction(db):
                links.set_state(db, link, "voided", str(live["SyncToken"]))
                done(ctx, op, link.qbo_id, str(live["SyncToken"]))
            return
        try:
            if deleting:
                result = await ctx.client.delete(
                    link.qbo_entity, link.qbo_id, str(live["SyncToken"]), request_id=op.request_id
                )
            else:
                result = await ctx.client.void(
                    link.qbo_entity, link.qbo_id, str(live["SyncToken"]), request_id=op.request_id
                )
        except StaleObjectError:
            if attempt == 0:
                continue  # someone changed it between our read and our write: read again
            raise
        token = result.get("SyncToken")
        with transaction(db):
            links.set_state(
                db,
                link,
                "deleted" if deleting else "voided",
                str(token) if token is not None else None,
            )
            done(ctx, op, link.qbo_id, str(token) if token is not None else None)
        return


async def unapply_credit(ctx: CycleContext, op: Op) -> None:
    """A credit application the ledger took off (`invoices void --unapply`): the zero Payment
    that applied it in QuickBooks is deleted there, so that QuickBooks too has the invoice owe
    it again and the credit back on its memo, and no Payment of qbsync's is left joining a
    document about to be voided. One never sent has nothing to undo."""
    db = ctx.db
    link = links.by_local(db, ctx.company, "credit_application", op.subject_id)
    if link is None or link.state == "deleted":
        with transaction(db):
            done(ctx, op, link.qbo_id if link else None, None)
        return
    if ctx.dry_run:
        ctx.stats.would_send.append({"op": op.id, "delete": "Payment", "id": link.qbo_id})
        return
    claim(ctx, [op])
    for attempt in range(2):
        try:
            live = await ctx.client.read("Payment", link.qbo_id)
            await ctx.client.delete(
                "Payment", link.qbo_id, str(live["SyncToken"]), request_id=op.request_id
            )
        except ObjectNotFound:
            pass  # gone already (deleted there, or our delete's answer was lost)
        except StaleObjectError:
            if attempt == 0:
                continue  # changed between our read and our delete: read again
            raise
        with transaction(db):
            links.set_state(db, link, "deleted")
            qbo_payments.mark_deleted(db, ctx.company, link.qbo_id)
            done(ctx, op, link.qbo_id, None)
        return
