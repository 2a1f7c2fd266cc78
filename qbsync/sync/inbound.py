"""Inbound: what changed in QuickBooks since the cursor, applied to the ledger.

The window is read whole (split, never skipped, when QuickBooks caps an answer at 1000 objects),
then applied with the new cursor in one transaction. The new cursor is the time the cycle started
reading, never later; re-reads inside the overlap are harmless because every applier dedupes on
(Id, SyncToken).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from qbsync import outbox
from qbsync.ledger import lookup, quickbooks
from qbsync.mappings.store import list_mappings
from qbsync.mappings.store import lookup as mapped_id
from qbsync.money import cents, dec
from qbsync.sync import links, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions, open_data, open_with_qbo_id
from qbsync.timeutil import parse_iso, utc_now, utc_now_iso

# payloads.marker() writes "qbsync:<request id>"; anyone may type "qbsync:" in a note.
_MARKER = re.compile(r"qbsync:(\S+)")

ENTITIES = ("Customer", "Invoice", "CreditMemo", "Payment")
CDC_CAP = 1000
CDC_MAX_AGE = dt.timedelta(days=29)

Change = tuple[str, dict[str, Any]]


def stored_cursor(db: Database, company: str) -> str | None:
    """The cursor as stored (ISO text), None before the first cycle."""
    row = db.execute("SELECT cursor FROM sync_cursors WHERE company = ?", [company]).fetchone()
    return row[0] if row else None


def get_cursor(ctx: CycleContext) -> dt.datetime | None:
    value = stored_cursor(ctx.db, ctx.company)
    return parse_iso(value) if value is not None else None


def initial_cursor(connected_at: str | None) -> dt.datetime:
    """The first cycle reads from when the company was connected (a day back if unknown)."""
    if connected_at:
        return parse_iso(connected_at)
    return utc_now() - dt.timedelta(days=1)


def set_cursor(ctx: CycleContext, value: dt.datetime) -> None:
    ctx.db.execute(
        "INSERT INTO sync_cursors (company, cursor, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (company) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        [ctx.company, value.isoformat(), utc_now_iso()],
    )


def deleted(obj: dict[str, Any]) -> bool:
    """A deletion as the change feed reports it."""
    return str(obj.get("status", "")).lower() == "deleted"


def _updated(obj: dict[str, Any]) -> dt.datetime:
    stamp = (obj.get("MetaData") or {}).get("LastUpdatedTime")
    return parse_iso(stamp) if stamp else dt.datetime.min.replace(tzinfo=dt.UTC)


def _qbo_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


async def read_window(ctx: CycleContext, since: dt.datetime, until: dt.datetime) -> list[Change]:
    """Every change since `since`, latest version of each object, oldest first."""
    latest: dict[tuple[str, str], Change] = {}

    def keep(entity: str, obj: dict[str, Any]) -> None:
        key = (entity, str(obj.get("Id")))
        seen = latest.get(key)
        if seen is None or _updated(obj) >= _updated(seen[1]):
            latest[key] = (entity, obj)

    if until - since > CDC_MAX_AGE:
        for entity, obj in await _read_by_query(ctx, since):
            keep(entity, obj)
    else:
        start = since
        while True:
            answer = await ctx.client.cdc(list(ENTITIES), start)
            objects = [(e, o) for e, items in answer.items() for o in items]
            for entity, obj in objects:
                keep(entity, obj)
            ctx.tick("inbound", len(latest), len(latest))
            if len(objects) < CDC_CAP:
                break
            # Capped: QuickBooks gave the oldest 1000. Go on from the newest time among them
            # (inclusive, so that same-second neighbours are read again, deduped above).
            newest = max(_updated(o) for _, o in objects)
            if newest <= start:
                # 1000+ changes inside one second: read that second by query instead.
                for entity, obj in await _read_by_query(
                    ctx, start, start + dt.timedelta(seconds=1)
                ):
                    keep(entity, obj)
                newest = start + dt.timedelta(seconds=1)
            start = newest
    return sorted(latest.values(), key=lambda c: (ENTITIES.index(c[0]), _updated(c[1])))


async def _read_by_query(
    ctx: CycleContext, since: dt.datetime, before: dt.datetime | None = None
) -> list[Change]:
    """For a cursor older than the change feed reaches back: queries by LastUpdatedTime. They
    cannot see deletions; drift checks on linked documents catch those later."""
    out: list[Change] = []
    where = f"MetaData.LastUpdatedTime >= '{_qbo_time(since)}'"
    if before is not None:
        where += f" AND MetaData.LastUpdatedTime < '{_qbo_time(before)}'"
    for entity in ENTITIES:
        for obj in await ctx.client.query_all(entity, where):
            out.append((entity, obj))
        if entity == "Customer":  # plain queries hide inactive customers
            for obj in await ctx.client.query_all(entity, f"Active = false AND {where}"):
                out.append((entity, obj))
    return out


# --- customers --------------------------------------------------------------------------------


class ClientsByCustomer:
    """QuickBooks customer id -> the ledger client mapped to it (the first by client id), read
    once per window: the appliers never change mappings."""

    def __init__(self, ctx: CycleContext):
        self.ctx = ctx
        self._index: dict[str, str] | None = None

    def get(self, qbo_id: str) -> str | None:
        if self._index is None:
            self._index = {}
            for mapping in list_mappings(self.ctx.db, self.ctx.company, "customers"):
                self._index.setdefault(str(mapping.qbo_id), mapping.local_id)
        return self._index.get(qbo_id)


def apply_customer(ctx: CycleContext, obj: dict[str, Any], clients: ClientsByCustomer) -> None:
    client_id = clients.get(str(obj["Id"]))
    if client_id is None:
        return
    client = lookup.client(ctx.db, ctx.company, client_id) or {}
    if deleted(obj) or obj.get("Active") is False:
        how = "deleted" if deleted(obj) else "made inactive (or merged into another customer)"
        name = obj.get("DisplayName") or f"id {obj['Id']}"
        ctx.raise_exception(
            Kind.CUSTOMER_UNAVAILABLE,
            "client",
            client_id,
            label=f"client {client.get('name', client_id)}",
            qbo_entity="Customer",
            qbo_id=str(obj["Id"]),
            message=f"client {client.get('name', client_id)}: its QuickBooks customer {name} was {how}",
            hint="map the client to the surviving customer (qbsync mappings set customers "
            f"{client_id} QBO_ID), or make the customer active again in QuickBooks",
        )
    else:
        close_exceptions(ctx.db, ctx.company, [Kind.CUSTOMER_UNAVAILABLE], "client", client_id)


def heal_remapped_clients(ctx: CycleContext) -> None:
    """A client mapped to another customer since its customer went away (merged, deleted) has
    nothing left to fix: its exception resolves itself."""
    for client_id, gone in open_with_qbo_id(ctx.db, ctx.company, Kind.CUSTOMER_UNAVAILABLE):
        now = mapped_id(ctx.db, ctx.company, "customers", client_id)
        if now is not None and now != gone:
            close_exceptions(ctx.db, ctx.company, [Kind.CUSTOMER_UNAVAILABLE], "client", client_id)


# --- invoices and credit memos: drift ------------------------------------------------------


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


# --- payments ------------------------------------------------------------------------------

SETTLE_KINDS = [Kind.QBO_PAYMENT_UNKNOWN_INVOICE, Kind.QBO_PAYMENT_SETTLED_INVOICE]


def _our_request(ctx: CycleContext, obj: dict[str, Any]) -> bool:
    found = _MARKER.search(obj.get("PrivateNote") or "")
    if found is None:
        return False
    return outbox.has_request(ctx.db, ctx.company, found.group(1))


def _allocations(
    ctx: CycleContext, obj: dict[str, Any]
) -> tuple[list[tuple[str, Decimal]], list[str]]:
    """(ledger invoice id, amount) per linked invoice line, net of the ledger's own credits, and
    the QBO invoice ids not linked."""
    found: list[quickbooks.Allocation] = []
    unknown: list[str] = []
    credits: list[tuple[str, Any]] = []
    for line in obj.get("Line") or []:
        for txn in line.get("LinkedTxn") or []:
            if txn.get("TxnType") != "Invoice":
                continue
            link = links.by_qbo(ctx.db, ctx.company, "Invoice", str(txn["TxnId"]))
            if link is None:
                unknown.append(str(txn["TxnId"]))
            else:
                found.append((link.local_id, line.get("Amount")))
    for line in obj.get("Line") or []:
        for txn in line.get("LinkedTxn") or []:
            if txn.get("TxnType") != "CreditMemo":
                continue
            memo = links.by_qbo(ctx.db, ctx.company, "CreditMemo", str(txn["TxnId"]))
            if memo is not None and memo.local_type == "invoice":
                credits.append((memo.local_id, line.get("Amount")))
    return quickbooks.net_of_ledger_credits(ctx.db, ctx.company, found, credits), unknown


def _qbo_total(ctx: CycleContext, invoice_id: str) -> Decimal:
    """The invoice's total as QuickBooks last held it (tax included)."""
    link = links.by_local(ctx.db, ctx.company, "invoice", invoice_id)
    return dec((link.baseline or {}).get("total")) if link else dec(0)


def apply_payment(ctx: CycleContext, obj: dict[str, Any], *, retry: bool = False) -> None:
    db, company = ctx.db, ctx.company
    qbo_id = str(obj["Id"])
    token = str(obj.get("SyncToken"))
    prev = qbo_payments.get(db, company, qbo_id)
    if prev and prev.state == "ours":
        if not deleted(obj):
            qbo_payments.set_sync_token(db, company, qbo_id, token)
        return  # qbsync pushed it: its echo is never counted again
    subject = ("qbo_payment", qbo_id)
    was_applied = bool(prev and prev.state == "applied")
    if deleted(obj):
        if was_applied:
            quickbooks.remove_payment(db, company, qbo_id)
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

    found, unknown = _allocations(ctx, obj)
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
            message=f"{label} of {cents(obj.get('TotalAmt'))} is applied to QuickBooks invoice(s) "
            f"{', '.join(unknown)} that the ledger does not know; nothing was applied",
            hint="link those invoices with `qbsync wizard history`; the payment is applied then. "
            f"Open it: {ctx.qbo_url('Payment', qbo_id)}",
        )
        return
    over = quickbooks.overpaid(db, company, qbo_id, found, lambda i: _qbo_total(ctx, i))
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
    quickbooks.record_payment(
        db,
        company,
        quickbooks.QuickBooksPayment(
            qbo_id=qbo_id,
            sync_token=token,
            date=obj.get("TxnDate"),
            method=(obj.get("PaymentMethodRef") or {}).get("name"),
            reference=obj.get("PaymentRefNum"),
            allocations=list(found),
        ),
    )
    qbo_payments.store(db, company, obj, "applied")
    if found:
        ctx.stats.payments_applied += 1
    close_exceptions(db, company, SETTLE_KINDS, *subject, resolution="auto")


def retry_waiting_payments(ctx: CycleContext) -> int:
    """Payments held for an invoice the ledger did not know: apply those now linked."""
    applied = 0
    for obj in qbo_payments.waiting(ctx.db, ctx.company):
        _, unknown = _allocations(ctx, obj)
        if not unknown:
            apply_payment(ctx, obj, retry=True)
            applied += 1
    return applied


# --- a whole window ------------------------------------------------------------------------


def apply_changes(ctx: CycleContext, changes: list[Change]) -> None:
    """Apply a window; the caller commits it together with the new cursor."""
    clients = ClientsByCustomer(ctx)
    for entity, obj in changes:
        if entity == "Customer":
            apply_customer(ctx, obj, clients)
        elif entity in ("Invoice", "CreditMemo"):
            apply_document(ctx, entity, obj)
        elif entity == "Payment":
            apply_payment(ctx, obj)
    ctx.stats.inbound_changes += len(changes)
    retry_waiting_payments(ctx)
    heal_remapped_clients(ctx)
