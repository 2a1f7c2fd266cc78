"""Invoices and credit memos changed in QuickBooks: drift on documents qbsync exported or linked.

An edit under a SyncToken qbsync did not write, measured against the link's baseline, is drift
for a person (accept QuickBooks' version or send the ledger's again); a void or delete there is
drift too, and never leaves money counted twice: a deleted credit memo's applied credit is
reversed in the ledger, the money on a voided invoice is named (`_gone`). Echoes of qbsync's own
writes and changes that are not edits (a payment applied, a note) only move the remembered
SyncToken. The exceptions that close by themselves once the ledger agrees are in settled.py.
"""

from __future__ import annotations

from typing import Any

from qbsync.ledger import lookup, quickbooks
from qbsync.ledger.reversals import Reversed, numbers
from qbsync.money import cents
from qbsync.sync import links
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, open_data
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
    if link.baseline is None or links.same_content(link.baseline, now):
        # A change that is not an edit (a payment applied, a note): remember the token, and
        # the content in full when the baseline was stored before some of it was compared.
        if link.baseline is not None and set(now) - set(link.baseline):
            links.adopt_baseline(ctx.db, ctx.company, link.local_id, now, token)
        else:
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
    """A linked document voided or deleted by someone in QuickBooks: drift, for a person. The
    money on it is never left counted twice: a credit memo's applied credit is reversed in the
    ledger at once (QuickBooks took it off the invoices); the payments and credit on an invoice
    are named, those recorded from QuickBooks follow QuickBooks (reversed as their change is
    read), the ledger's own dangle until a person decides."""
    links.set_state(ctx.db, link, how, token)
    ctx.stats.drift_found += 1
    message = f"{label} was {how} in QuickBooks"
    data: dict[str, Any] = {"how": how}
    accept = "--accept to void it in the ledger as well"
    if entity == "CreditMemo":
        taken = quickbooks.reverse_credit_note(ctx.db, ctx.company, link.local_id)
        if taken:
            message += f"; the ledger reversed the credit it had applied ({cents(taken.total)})"
            data["reversed"] = taken.as_data()
            _raise_credit_reversed(ctx, link, label, how, taken)
    else:
        held = quickbooks.money_on(ctx.db, ctx.company, link.local_id)
        if held:
            message += _dangling(ctx, held)
            data["settled"] = held.as_data()
            accept += " (this takes off the ledger's payments and credit still on it)"
    ctx.raise_exception(
        Kind.DRIFT_VOIDED_DELETED,
        "invoice",
        link.local_id,
        label=label,
        qbo_entity=entity,
        qbo_id=link.qbo_id,
        message=message,
        hint=f"{accept}, or --reexport to {again}",
        data=data,
    )


def _dangling(ctx: CycleContext, held: Reversed) -> str:
    """The words for the money the ledger counts on an invoice QuickBooks voided or deleted:
    QuickBooks unapplied all of it (a payment there is the customer's credit now)."""
    names = numbers(ctx.db, ctx.company, held)
    theirs = Reversed(
        [p for p in held.payments if p["source"] == "quickbooks"],
        [c for c in held.credits if c["qbo_id"] is not None],
    )
    ours = Reversed(
        [p for p in held.payments if p["source"] != "quickbooks"],
        [c for c in held.credits if c["qbo_id"] is None],
    )
    out = f" while {cents(held.total)} was settled on it in the ledger"
    if theirs:
        out += (
            f"; recorded from QuickBooks, {theirs.describe(names)}: unapplied there, so "
            "reversed in the ledger as its payment is read (counted once)"
        )
    if ours:
        out += (
            f"; the ledger's own {ours.describe(names)} now dangles: QuickBooks unapplied it "
            "(a payment is the customer's credit there now, a credit is back on its memo)"
        )
    return out


def _raise_credit_reversed(
    ctx: CycleContext, link: links.Link, label: str, how: str, taken: Reversed
) -> None:
    ctx.raise_exception(
        Kind.QBO_VOID_REVERSED,
        "invoice",
        link.local_id,
        label=label,
        qbo_entity=link.qbo_entity,
        qbo_id=link.qbo_id,
        message=f"{label} was {how} in QuickBooks; the ledger reversed "
        f"{taken.describe(numbers(ctx.db, ctx.company, taken))} ({cents(taken.total)} in all): those invoices "
        "owe it again",
        hint="void the credit note in the ledger too (qbsync invoices void "
        f"{link.local_id} --reason ...), or issue the credit again; this closes by itself when "
        "the credit note is void in the ledger",
        data={"how": how, "reversed": taken.as_data()},
    )
