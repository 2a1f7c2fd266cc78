"""Invoices and credit memos changed in QuickBooks: drift on documents qbsync exported or linked.

An edit under a SyncToken qbsync did not write, measured against the link's baseline, is drift
for a person (accept QuickBooks' version or send the ledger's again); a void or delete there is
drift too. Echoes of qbsync's own writes and changes that are not edits (a payment applied, a
note) only move the remembered SyncToken.
"""

from __future__ import annotations

from typing import Any

from qbsync.ledger import lookup
from qbsync.sync import links
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, open_data, open_with_qbo_id
from qbsync.sync.inbound.window import deleted


def apply_document(ctx: CycleContext, entity: str, obj: dict[str, Any]) -> None:
    link = links.by_qbo(ctx.db, ctx.company, entity, str(obj["Id"]))
    if link is None or link.local_type != "invoice":
        return  # not a document qbsync exported or linked
    inv = lookup.invoice(ctx.db, ctx.company, link.local_id) or {}
    label = f"{'credit note' if entity == 'CreditMemo' else 'invoice'} {inv.get('number', link.local_id)}"
    url = ctx.qbo_url(entity, link.qbo_id)
    if deleted(obj):
        if link.state != "deleted":
            _gone(ctx, link, entity, label, "deleted", None, "create it again")
        return
    token = str(obj.get("SyncToken"))
    if token == link.sync_token or link.state in ("voided", "deleted"):
        return  # an echo of qbsync's own write, a re-read, or a document already settled
    if links.is_void_shape(obj, link.baseline):
        _gone(ctx, link, entity, label, "voided", token, f"issue it again ({url})")
        return
    now = links.canonical(obj)
    if link.baseline is None or now == link.baseline:
        # A change that is not an edit (a payment applied, a note): remember the token.
        links.set_sync_token(ctx.db, link, token)
        if link.state == "drift":
            links.set_state(ctx.db, link, "synced")
            close_exceptions(ctx.db, ctx.company, [Kind.DRIFT_CHANGED], "invoice", link.local_id)
        return
    seen = open_data(ctx.db, ctx.company, Kind.DRIFT_CHANGED, "invoice", link.local_id)
    if seen is not None and seen.get("seen_token") == token:
        return  # the same edit, read again inside the overlap
    links.set_state(ctx.db, link, "drift")
    changed = links.differences(link.baseline, now)
    ctx.stats.drift_found += 1
    ctx.raise_exception(
        Kind.DRIFT_CHANGED,
        "invoice",
        link.local_id,
        label=label,
        qbo_entity=entity,
        qbo_id=link.qbo_id,
        message=f"{label} was changed in QuickBooks: {'; '.join(changed[:6])}"
        + (f" (+{len(changed) - 6} more)" if len(changed) > 6 else ""),
        hint=f"--accept to keep QuickBooks' version, --reexport to send the ledger's again ({url})",
        data={"seen_token": token, "changes": changed, "qbo": now},
    )


def _gone(
    ctx: CycleContext,
    link: links.Link,
    entity: str,
    label: str,
    how: str,
    token: str | None,
    again: str,
) -> None:
    """A linked document voided or deleted by someone in QuickBooks: drift, for a person."""
    links.set_state(ctx.db, link, how, token)
    ctx.stats.drift_found += 1
    ctx.raise_exception(
        Kind.DRIFT_VOIDED_DELETED,
        "invoice",
        link.local_id,
        label=label,
        qbo_entity=entity,
        qbo_id=link.qbo_id,
        message=f"{label} was {how} in QuickBooks",
        hint=f"--accept to void it in the ledger as well, or --reexport to {again}",
        data={"how": how},
    )


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
    return closed
