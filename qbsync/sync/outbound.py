"""Outbound: drain the outbox into QuickBooks.

Every op is claimed (attempts + 1, marked uncertain) in its own committed transaction before its
request leaves, and completed (QBO Id and SyncToken, the link, the op done) in one transaction
after the answer. An op found uncertain (a lost answer, a crash) is settled by looking for the
document's marker before anything is created again: no duplicate reaches QuickBooks.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

from qbsync import outbox
from qbsync.ledger import lookup, quickbooks
from qbsync.money import cents, dec, to_json_number
from qbsync.outbox import EXPORT_KINDS, Op, OpKind
from qbsync.qbo.client import BatchItem
from qbsync.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    InvalidGrant,
    ObjectNotFound,
    QboError,
    StaleObjectError,
    UnknownOutcome,
)
from qbsync.store.tx import transaction
from qbsync.sync import links, payloads, qbo_payments
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions
from qbsync.sync.payloads import PayloadError
from qbsync.timeutil import utc_now

# Errors that end the cycle rather than one op: the connection itself is gone.
FATAL = (AuthenticationError, AuthorizationError, InvalidGrant)

EXPORTS = (OpKind.EXPORT_INVOICE.value, OpKind.EXPORT_CREDIT_MEMO.value, OpKind.REEXPORT.value)
ORDER = {
    OpKind.EXPORT_INVOICE.value: 0,
    OpKind.EXPORT_CREDIT_MEMO.value: 0,
    OpKind.REEXPORT.value: 0,
    OpKind.VOID_INVOICE.value: 1,
    OpKind.DELETE_CREDIT_MEMO.value: 1,
    OpKind.PUSH_PAYMENT.value: 2,
    OpKind.APPLY_CREDIT.value: 3,
}
FAILURE_KIND = {
    OpKind.EXPORT_INVOICE.value: Kind.EXPORT_FAILING,
    OpKind.EXPORT_CREDIT_MEMO.value: Kind.EXPORT_FAILING,
    OpKind.REEXPORT.value: Kind.EXPORT_FAILING,
    OpKind.VOID_INVOICE.value: Kind.VOID_FAILING,
    OpKind.DELETE_CREDIT_MEMO.value: Kind.VOID_FAILING,
    # A refused push in general; "invoice not in QuickBooks" and "customer not mapped" are
    # raised by name where those are the cause.
    OpKind.PUSH_PAYMENT.value: Kind.PAYMENT_PUSH_FAILING,
    OpKind.APPLY_CREDIT.value: Kind.CREDIT_FAILING,
}
WAIT_RETRY = timedelta(minutes=1)
# Batch requests in flight at once: a 30-item batch takes seconds, so one at a time cannot reach
# Intuit's 40 batches a minute; the pacer still holds every request within the limits.
BATCH_CONCURRENCY = 3
LOOKUP_DATES = 50  # dates per marker lookup query


def recover(ctx: CycleContext) -> int:
    """Ops a dead run left in progress: their requests may have reached QuickBooks."""
    with transaction(ctx.db):
        return outbox.recover(ctx.db, ctx.company)


def due_ops(ctx: CycleContext, op_ids: list[int] | None = None) -> list[Op]:
    """Pending or failed ops whose time has come, dependencies first. Exports of documents dated
    before the go-live date are held back (they stay pending until go-live moves)."""
    ops = outbox.due(ctx.db, ctx.company, op_ids)
    go_live = ctx.settings.go_live
    if go_live and op_ids is None:
        # Held back from the automatic cycle only; ops asked for by id (invoices export) go.
        cutoff = go_live.isoformat()
        dates = lookup.invoice_dates(
            ctx.db,
            ctx.company,
            [
                op.subject_id
                for op in ops
                if op.kind in EXPORT_KINDS and op.subject_type == "invoice"
            ],
        )
        ops = [op for op in ops if not _held(op, dates, cutoff)]
    ops.sort(key=lambda op: (ORDER.get(op.kind, 9), op.id))
    return ops


def _held(op: Op, dates: dict[str, str], cutoff: str) -> bool:
    if op.kind not in EXPORT_KINDS:
        return False
    date = dates.get(op.subject_id) if op.subject_type == "invoice" else None
    # A document the ledger does not hold has no date on or after go-live: held as well.
    return date is None or date < cutoff


class Outbound:
    def __init__(self, ctx: CycleContext):
        self.ctx = ctx
        self.db = ctx.db
        self.batch_size = ctx.sync.batch_size
        self.cancelled = False
        self.done_count = 0

    # --- bookkeeping -------------------------------------------------------------------------

    def claim(self, ops: list[Op]) -> None:
        """Committed before the request leaves: a crash from here on leaves the op uncertain."""
        with transaction(self.db):
            outbox.claim(self.db, [op.id for op in ops], self.ctx.cycle_id)
        for op in ops:
            op.attempts += 1

    def done(self, op: Op, qbo_id: str | None, sync_token: str | None) -> None:
        """Mark done; call inside the transaction that records the result."""
        outbox.complete(self.db, op.id, qbo_id, sync_token)
        self.ctx.stats.ops_processed += 1
        close_exceptions(
            self.db,
            self.ctx.company,
            [
                Kind.EXPORT_FAILING,
                Kind.VOID_FAILING,
                Kind.CREDIT_FAILING,
                Kind.PAYMENT_INVOICE_NOT_IN_QBO,
                Kind.PAYMENT_CUSTOMER_NOT_MAPPED,
                Kind.PAYMENT_PUSH_FAILING,
            ],
            op.subject_type,
            op.subject_id,
        )

    def wait(self, op: Op, reason: str) -> None:
        """A prerequisite is still on its way (the invoice a payment needs): try again soon,
        without spending an attempt."""
        with transaction(self.db):
            outbox.release(self.db, op.id, utc_now() + WAIT_RETRY, reason)

    def fail(
        self,
        op: Op,
        message: str,
        *,
        code: str | None = None,
        tid: str | None = None,
        uncertain: bool = False,
        kind: Kind | None = None,
        hint: str | None = None,
        needs_person: bool = False,
        final: bool = False,
    ) -> None:
        """Record a failed attempt: retry with backoff, or error at the attempt cap.

        Attempts are spent only by claim(), when a request is sent: a document that could not
        even be built (a missing mapping) waits for a person without using any up.
        `needs_person`: raise the exception now, retry each interval, so fixing the cause is
        enough. `final`: no retry can help (QuickBooks already applied the credit)."""
        errored = final or op.attempts >= self.ctx.sync.attempt_cap
        if needs_person:
            delay = self.ctx.sync.interval or self.ctx.sync.backoff
        else:
            delay = outbox.backoff(op.attempts, self.ctx.sync.backoff)
        with transaction(self.db):
            outbox.fail(
                self.db,
                op.id,
                message,
                retry_at=None if errored else utc_now() + timedelta(seconds=delay),
                uncertain=uncertain,
                code=code,
                tid=tid,
            )
            if errored or needs_person:
                label = self.label(op)
                suffix = f" (after {op.attempts} attempts)" if errored and not final else ""
                self.ctx.raise_exception(
                    kind or FAILURE_KIND.get(op.kind, Kind.EXPORT_FAILING),
                    op.subject_type,
                    op.subject_id,
                    label=label,
                    message=f"{label}: {message}{suffix}",
                    hint=hint or "fix the cause, then: qbsync exceptions resolve ID --retry",
                    data={"op": op.id, "code": code, "intuit_tid": tid},
                )
        self.ctx.stats.ops_failed += 1

    def label(self, op: Op) -> str:
        if op.subject_type == "invoice":
            inv = lookup.invoice(self.db, self.ctx.company, op.subject_id)
            kind = "credit note" if inv and inv["type"] == "credit_note" else "invoice"
            return f"{kind} {inv['number'] if inv else op.subject_id}"
        return f"{op.subject_type.replace('_', ' ')} {op.subject_id}"

    def fail_from_error(self, op: Op, err: QboError, *, uncertain: bool = False) -> None:
        person = err.status is not None and 400 <= err.status < 500 and err.status != 429
        self.fail(
            op,
            err.message,
            code=err.qbo_code,
            tid=err.intuit_tid,
            uncertain=uncertain,
            needs_person=person,
        )
        if not uncertain:
            self.new_request_id(op)

    def new_request_id(self, op: Op) -> None:
        """QuickBooks refused the request: nothing was written under its requestid, and
        QuickBooks would answer that id with the same refusal forever (it replays a repeated
        requestid's first answer, faults included). The next attempt, after the cause is
        fixed, goes under a new id (and marker). A lost answer keeps its id: its replay, or a
        lookup by its marker, is how the next attempt finds what it may have created."""
        with transaction(self.db):
            op.request_id = outbox.renew_request_id(self.db, op.id)

    # --- the drain ---------------------------------------------------------------------------

    async def drain(self, op_ids: list[int] | None = None) -> None:
        ops = due_ops(self.ctx, op_ids)
        total = len(ops)
        exports = [op for op in ops if op.kind in EXPORTS]
        others = [op for op in ops if op.kind not in EXPORTS]
        # Plain exports of documents with one export op each may go in concurrent batches; a
        # document with several export ops (an export and a re-export) keeps their order.
        subjects: dict[str, int] = defaultdict(int)
        for op in exports:
            subjects[op.subject_id] += 1
        parallel = [
            op
            for op in exports
            if op.kind != OpKind.REEXPORT.value and subjects[op.subject_id] == 1
        ]
        serial = [
            op for op in exports if op.kind == OpKind.REEXPORT.value or subjects[op.subject_id] > 1
        ]
        self.done_count = 0
        if parallel:
            await self.ctx.facts()  # once, before the batches share it
        await self.export_concurrently(parallel, total)
        index = 0
        while index < len(serial) and not self.cancelled:
            if self.ctx.cancelled():
                self.cancelled = True
                return
            chunk = serial[index : index + self.batch_size]
            sent = await self.export_batch(chunk)
            index += sent
            self.done_count += sent
            self.ctx.tick("outbound", self.done_count, total)
        if self.cancelled:
            return
        for op in others:
            if self.ctx.cancelled():
                self.cancelled = True
                return
            await self.one(op)
            self.done_count += 1
            self.ctx.tick("outbound", self.done_count, total)

    async def export_concurrently(self, ops: list[Op], total: int) -> None:
        """Up to BATCH_CONCURRENCY batch requests in flight (the pacer keeps them within
        Intuit's limits). Each batch claims and completes its own ops in its own transactions,
        as a lone batch does. A connection failure stops new batches; those in flight finish,
        then it is raised."""
        index = 0
        fatal: list[Exception] = []

        async def worker() -> None:
            nonlocal index
            while index < len(ops) and not fatal and not self.cancelled:
                if self.ctx.cancelled():
                    self.cancelled = True
                    return
                chunk = ops[index : index + self.batch_size]
                index += len(chunk)
                try:
                    sent = await self.export_batch(chunk)
                except Exception as err:  # FATAL, or a bug: stop the others, raise it below
                    fatal.append(err)
                    return
                self.done_count += sent
                self.ctx.tick("outbound", self.done_count, total)

        await asyncio.gather(*(worker() for _ in range(BATCH_CONCURRENCY)))
        if fatal:
            raise fatal[0]

    async def one(self, op: Op) -> None:
        handler = {
            OpKind.VOID_INVOICE.value: self.void,
            OpKind.DELETE_CREDIT_MEMO.value: self.void,
            OpKind.PUSH_PAYMENT.value: self.push_payment,
            OpKind.APPLY_CREDIT.value: self.apply_credit,
        }[op.kind]
        try:
            await handler(op)
        except FATAL:
            raise
        except UnknownOutcome as err:
            self.fail(op, err.message, code=err.qbo_code, tid=err.intuit_tid, uncertain=True)
        except QboError as err:
            self.fail_from_error(op, err)

    # --- exports -----------------------------------------------------------------------------

    async def export_batch(self, chunk: list[Op]) -> int:
        """Export up to one batch; returns how many ops of `chunk` were handled."""
        ctx = self.ctx
        facts = await ctx.facts()
        found = await self.lookup([op for op in chunk if op.uncertain])
        ready: list[tuple[Op, str, dict[str, Any]]] = []
        for op in chunk:
            if op.kind == OpKind.REEXPORT.value:
                await self.reexport(op)
                continue
            existing = links.by_local(self.db, ctx.company, "invoice", op.subject_id)
            if existing and existing.state != "deleted":
                # Linked already (the wizard found it in QuickBooks, or an earlier op made it).
                with transaction(self.db):
                    self.done(op, existing.qbo_id, existing.sync_token)
                continue
            if op.id in found:
                entity, doc = found[op.id]
                with transaction(self.db):
                    links.save(
                        self.db,
                        ctx.company,
                        "invoice",
                        op.subject_id,
                        entity,
                        doc,
                        linked_by="lookup",
                    )
                    self.done(op, str(doc["Id"]), str(doc.get("SyncToken")))
                    ctx.stats.exported += 1
                continue
            try:
                entity, body = payloads.document(
                    self.db, ctx.company, ctx.settings, facts, op.subject_id, op.request_id
                )
            except PayloadError as err:
                self.fail(op, err.message, hint=err.hint, needs_person=True)
                continue
            ready.append((op, entity, body))
        if not ready:
            return len(chunk)
        if ctx.dry_run:
            for op, entity, body in ready:
                ctx.stats.would_send.append({"op": op.id, "create": entity, "body": body})
            return len(chunk)

        self.claim([op for op, _, _ in ready])
        items = [
            BatchItem(bid=str(op.id), operation="create", entity=entity, body=body)
            for op, entity, body in ready
        ]
        # The same ops sent together again replay under the same id; any other mix gets its own.
        batch_rid = hashlib.sha256(
            "|".join(op.request_id for op, _, _ in ready).encode()
        ).hexdigest()[:36]
        try:
            results = await ctx.client.batch(items, request_id=batch_rid)
        except FATAL:
            raise
        except UnknownOutcome as err:
            self.batch_size = max(1, self.batch_size // 2)  # smaller after timeouts
            for op, _, _ in ready:
                self.fail(op, err.message, code=err.qbo_code, tid=err.intuit_tid, uncertain=True)
            return len(chunk)
        except QboError as err:
            for op, _, _ in ready:
                self.fail_from_error(op, err)
            return len(chunk)

        by_bid = {r.bid: r for r in results}
        for op, entity, _ in ready:
            result = by_bid.get(str(op.id))
            if result is None:
                self.fail(op, "QuickBooks' batch answer left this item out", uncertain=True)
            elif result.fault is not None:
                self.fail_from_error(op, result.fault)
            else:
                doc = result.body or {}
                with transaction(self.db):
                    links.save(
                        self.db,
                        ctx.company,
                        "invoice",
                        op.subject_id,
                        entity,
                        doc,
                        linked_by="export",
                    )
                    self.done(op, str(doc.get("Id")), str(doc.get("SyncToken")))
                    ctx.stats.exported += 1
        return len(chunk)

    async def lookup(self, ops: list[Op]) -> dict[int, tuple[str, dict[str, Any]]]:
        """Find what uncertain export ops may have created, by their markers: one query per
        entity for all their dates (TxnDate IN ...), however many ops and dates there are, so
        that settling a batch cut off by a crash costs one request, not one per date."""
        if not ops:
            return {}
        groups: dict[str, list[tuple[Op, str]]] = defaultdict(list)
        for op in ops:
            inv = lookup.invoice(self.db, self.ctx.company, op.subject_id)
            if inv is None:
                continue
            entity = "CreditMemo" if inv["type"] == "credit_note" else "Invoice"
            groups[entity].append((op, inv["date"]))
        found: dict[int, tuple[str, dict[str, Any]]] = {}
        for entity, members in groups.items():
            dates = sorted({date for _, date in members})
            marks = {payloads.marker(op.request_id): op for op, _ in members}
            for start in range(0, len(dates), LOOKUP_DATES):
                chunk = ", ".join(f"'{d}'" for d in dates[start : start + LOOKUP_DATES])
                for doc in await self.ctx.client.query_all(entity, f"TxnDate IN ({chunk})"):
                    note = doc.get("PrivateNote") or ""
                    for mark, op in marks.items():
                        if mark in note:
                            found[op.id] = (entity, doc)
        return found

    async def find_payment(self, op: Op, txn_date: str) -> dict[str, Any] | None:
        docs = await self.ctx.client.query_all("Payment", f"TxnDate = '{txn_date}'")
        mark = payloads.marker(op.request_id)
        return next((d for d in docs if mark in (d.get("PrivateNote") or "")), None)

    async def reexport(self, op: Op) -> None:
        """Send qbsync's version again over a drifted document, under its live SyncToken."""
        ctx = self.ctx
        link = links.by_local(self.db, ctx.company, "invoice", op.subject_id)
        if link is None or link.state == "deleted":
            # Nothing to update: create it anew (the deleted link is replaced on success).
            op.kind = OpKind.EXPORT_INVOICE.value
            with transaction(self.db):
                links.delete(self.db, ctx.company, "invoice", op.subject_id)
            await self.export_batch([op])
            return
        facts = await ctx.facts()
        try:
            _, body = payloads.document(
                self.db, ctx.company, ctx.settings, facts, op.subject_id, op.request_id
            )
        except PayloadError as err:
            self.fail(op, err.message, hint=err.hint, needs_person=True)
            return
        self.claim([op])
        try:
            live = await ctx.client.read(link.qbo_entity, link.qbo_id)
            body.update({"Id": link.qbo_id, "SyncToken": live["SyncToken"]})
            doc = await ctx.client.update(
                link.qbo_entity, body, sparse=True, request_id=op.request_id
            )
        except FATAL:
            raise
        except UnknownOutcome as err:
            self.fail(op, err.message, uncertain=True)
            return
        except QboError as err:
            self.fail_from_error(op, err)
            return
        with transaction(self.db):
            links.save(
                self.db,
                ctx.company,
                "invoice",
                op.subject_id,
                link.qbo_entity,
                doc,
                linked_by=link.linked_by,
            )
            self.done(op, str(doc["Id"]), str(doc["SyncToken"]))
            close_exceptions(
                self.db,
                ctx.company,
                [Kind.DRIFT_CHANGED, Kind.DRIFT_VOIDED_DELETED],
                "invoice",
                op.subject_id,
                resolution="reexport",
            )

    # --- voids ---------------------------------------------------------------------------------

    async def void(self, op: Op) -> None:
        ctx = self.ctx
        link = links.by_local(self.db, ctx.company, "invoice", op.subject_id)
        if link is None:
            export = outbox.latest_export(self.db, ctx.company, op.subject_id)
            if export and export.uncertain:
                self.wait(op, "waiting for the export's outcome to be settled")
                return
            # Never reached QuickBooks: cancel the export, nothing to void.
            with transaction(self.db):
                if export and export.state != "done":
                    outbox.cancel(self.db, export.op_id)
                self.done(op, None, None)
            return
        if link.state in ("voided", "deleted"):
            with transaction(self.db):
                self.done(op, link.qbo_id, link.sync_token)
            return
        if ctx.dry_run:
            ctx.stats.would_send.append({"op": op.id, "void": link.qbo_entity, "id": link.qbo_id})
            return
        self.claim([op])
        deleting = op.kind == OpKind.DELETE_CREDIT_MEMO.value or (
            link.qbo_entity == "Invoice" and ctx.settings.on_cancel == "delete"
        )
        for attempt in range(2):
            try:
                live = await ctx.client.read(link.qbo_entity, link.qbo_id)
            except ObjectNotFound:
                with transaction(self.db):
                    links.set_state(self.db, link, "deleted")
                    self.done(op, link.qbo_id, None)
                return
            if links.is_void_shape(live, link.baseline):
                with transaction(self.db):
                    links.set_state(self.db, link, "voided", str(live["SyncToken"]))
                    self.done(op, link.qbo_id, str(live["SyncToken"]))
                return
            try:
                if deleting:
                    result = await ctx.client.delete(
                        link.qbo_entity,
                        link.qbo_id,
                        str(live["SyncToken"]),
                        request_id=op.request_id,
                    )
                else:
                    result = await ctx.client.void(
                        link.qbo_entity,
                        link.qbo_id,
                        str(live["SyncToken"]),
                        request_id=op.request_id,
                    )
            except StaleObjectError:
                if attempt == 0:
                    continue  # someone changed it between our read and our write: read again
                raise
            token = result.get("SyncToken")
            with transaction(self.db):
                links.set_state(
                    self.db,
                    link,
                    "deleted" if deleting else "voided",
                    str(token) if token is not None else None,
                )
                self.done(op, link.qbo_id, str(token) if token is not None else None)
            return

    # --- payments and credits --------------------------------------------------------------

    def _prerequisite(self, op: Op, invoice_id: str, what: str) -> links.Link | None:
        """The QuickBooks document a payment or credit needs; None after deciding to wait/fail."""
        link = links.by_local(self.db, self.ctx.company, "invoice", invoice_id)
        if link is not None and link.state not in ("deleted",):
            return link
        export = outbox.latest_export(self.db, self.ctx.company, invoice_id)
        inv = lookup.invoice(self.db, self.ctx.company, invoice_id)
        number = inv["number"] if inv else invoice_id
        go_live = self.ctx.settings.go_live
        held = bool(inv and go_live and inv["date"] < go_live.isoformat())
        if export and export.state in ("pending", "failed", "in_progress") and not held:
            self.wait(op, f"waiting for {what} {invoice_id} to be exported")
            return None
        self.fail(
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

    async def push_payment(self, op: Op) -> None:
        ctx = self.ctx
        pay = lookup.payment(self.db, ctx.company, op.subject_id)
        if pay is None:
            self.fail(op, "payment is no longer in the ledger", final=True)
            return
        link = self._prerequisite(op, pay["invoice_id"], "invoice")
        if link is None:
            return
        try:
            body = payloads.payment(
                self.db, ctx.company, ctx.settings, op.subject_id, link.qbo_id, op.request_id
            )
        except PayloadError as err:
            self.fail(op, err.message, hint=err.hint, kind=err.kind, needs_person=True)
            return
        if ctx.dry_run:
            ctx.stats.would_send.append({"op": op.id, "create": "Payment", "body": body})
            return
        doc = await self.find_payment(op, pay["date"]) if op.uncertain else None
        if doc is None:
            self.claim([op])
            try:
                doc = await ctx.client.create("Payment", body, request_id=op.request_id)
            except QboError as err:
                capped = await self._capped_to_balance(err, body, link.qbo_id)
                if capped is None:
                    raise
                # QuickBooks owes less than the payment (paid there meanwhile): apply what it
                # owes and leave the rest as the customer's credit, raised below.
                doc = await ctx.client.create("Payment", capped, request_id=f"{op.request_id}-cap")
        self.record_payment(op, doc, pay)

    async def _capped_to_balance(
        self, err: QboError, body: dict[str, Any], invoice_qbo_id: str
    ) -> dict[str, Any] | None:
        """The payment body with its invoice line cut to the invoice's open balance, when a
        business-rule refusal (6000) came from the payment being larger than that balance."""
        if err.qbo_code != "6000":
            return None
        live = await self.ctx.client.read("Invoice", invoice_qbo_id)
        balance = dec(live.get("Balance"))
        line = body["Line"][0]
        if balance >= dec(line["Amount"]):
            return None
        capped = {**body, "Line": []}
        if balance > 0:
            capped["Line"] = [{**line, "Amount": to_json_number(cents(balance))}]
        return capped

    def record_payment(self, op: Op, doc: dict[str, Any], pay: dict[str, Any]) -> None:
        ctx = self.ctx
        with transaction(self.db):
            links.save(
                self.db,
                ctx.company,
                "payment",
                op.subject_id,
                "Payment",
                doc,
                linked_by="export",
                with_baseline=False,
            )
            quickbooks.mark_pushed(
                self.db, ctx.company, op.subject_id, str(doc["Id"]), str(doc.get("SyncToken"))
            )
            # Remembered as ours, so that its echo in the change feed is never counted again.
            qbo_payments.remember_pushed(self.db, ctx.company, doc)
            self.done(op, str(doc["Id"]), str(doc.get("SyncToken")))
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

    async def apply_credit(self, op: Op) -> None:
        ctx = self.ctx
        app = lookup.credit_application(self.db, ctx.company, op.subject_id)
        if app is None:
            self.fail(op, "credit application is no longer in the ledger", final=True)
            return
        inv_link = self._prerequisite(op, app["invoice_id"], "invoice")
        if inv_link is None:
            return
        cm_link = self._prerequisite(op, app["credit_note_id"], "credit note")
        if cm_link is None:
            return
        inv = lookup.invoice(self.db, ctx.company, app["invoice_id"]) or {}
        customer = payloads.mapped(self.db, ctx.company, "customers", inv.get("client_id"))
        if customer is None:
            self.fail(
                op, f"client {inv.get('client_id')} has no QuickBooks customer", needs_person=True
            )
            return
        existing = await self.find_payment(op, app["date"]) if op.uncertain else None
        if existing is not None:
            self.record_credit(op, existing)
            return
        if ctx.dry_run:
            ctx.stats.would_send.append({"op": op.id, "apply_credit": op.subject_id})
            return
        # QuickBooks may have applied the credit itself (AutoApplyCredit): never apply twice.
        memo = await ctx.client.read("CreditMemo", cm_link.qbo_id)
        remaining = dec(memo.get("RemainingCredit", memo.get("TotalAmt")))
        amount = cents(app["amount"])
        if remaining < amount:
            self.fail(
                op,
                f"QuickBooks has already used this credit (remaining {cents(remaining)}, "
                f"application {amount}); probably AutoApplyCredit applied it to an invoice",
                final=True,
                kind=Kind.CREDIT_FAILING,
                hint="check where QuickBooks applied the credit; turn off Automatically apply "
                f"credits in QuickBooks to avoid this; open it: {ctx.qbo_url('CreditMemo', cm_link.qbo_id)}",
            )
            return
        body = payloads.credit_application(
            customer, inv_link.qbo_id, cm_link.qbo_id, amount, app["date"], op.request_id
        )
        self.claim([op])
        doc = await ctx.client.create("Payment", body, request_id=op.request_id)
        self.record_credit(op, doc)

    def record_credit(self, op: Op, doc: dict[str, Any]) -> None:
        with transaction(self.db):
            links.save(
                self.db,
                self.ctx.company,
                "credit_application",
                op.subject_id,
                "Payment",
                doc,
                linked_by="export",
                with_baseline=False,
            )
            qbo_payments.remember_credit(self.db, self.ctx.company, doc)
            self.done(op, str(doc["Id"]), str(doc.get("SyncToken")))
