"""Exports: ledger documents created in QuickBooks in batches, and re-exports over drift.

A document already linked is done at once; an uncertain op is first settled by looking for its
marker (one query per entity for all the dates involved); the rest go in one batch request under
a requestid derived from its ops, so that the same ops sent together again replay.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from qbsync.ledger import lookup
from qbsync.outbox import Op, OpKind
from qbsync.qbo.batch import BatchItem, BatchResult
from qbsync.qbo.errors import QboError, UnknownOutcome
from qbsync.store.tx import transaction
from qbsync.sync import links, payloads
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions
from qbsync.sync.outbound import customers, numbers
from qbsync.sync.outbound.opstate import FATAL, claim, done, fail, fail_from_error
from qbsync.sync.outbound.verify import after_refusal, currency_guard, verify
from qbsync.sync.payloads import PayloadError

if TYPE_CHECKING:
    from qbsync.sync.outbound.drain import Outbound

LOOKUP_DATES = 50  # dates per marker lookup query


async def export_batch(out: Outbound, chunk: list[Op], *, single: bool = False) -> int:
    """Export up to one batch; returns how many ops of `chunk` were handled. `single`: one op
    sent as a plain create under its own requestid (the single-request lane), not a batch."""
    ctx = out.ctx
    db = ctx.db
    facts = await ctx.facts()
    found = await find_exported(ctx, [op for op in chunk if op.uncertain])
    creating: list[Op] = []
    for op in chunk:
        if op.kind == OpKind.REEXPORT.value:
            await reexport(out, op)
            continue
        existing = links.by_local(db, ctx.company, "invoice", op.subject_id)
        if existing and existing.state != "deleted":
            # Linked already (the wizard found it in QuickBooks, or an earlier op made it).
            with transaction(db):
                done(ctx, op, existing.qbo_id, existing.sync_token)
            continue
        if op.id in found:
            entity, doc = found[op.id]
            with transaction(db):
                links.save(
                    db, ctx.company, "invoice", op.subject_id, entity, doc, linked_by="lookup"
                )
                numbers.linked(ctx, op.subject_id, doc)
                done(ctx, op, str(doc["Id"]), str(doc.get("SyncToken")))
                verify(ctx, op.subject_id, entity, doc)
                ctx.stats.exported += 1
            continue
        creating.append(op)
    # Its own marker settles an uncertain op first; then nothing is created under a number
    # QuickBooks already holds (looked up for the whole drain at once, or here for the batch).
    verdicts = {op.id: out.verdicts[op.id] for op in creating if op.id in out.verdicts}
    unchecked = [op for op in creating if op.id not in out.checked]
    try:
        if unchecked:
            verdicts.update(await numbers.check(ctx, unchecked))
    except FATAL:
        raise
    except QboError as err:  # a lost answer included: nothing was written, look again later
        for op in unchecked:
            fail(ctx, op, f"could not look its number up in QuickBooks: {err.message}")
        creating = [op for op in creating if op.id in out.checked]
    # A client with no QuickBooks customer: found or made first (customers.create), or waits.
    async with out.customer_lock:
        creating = await customers.ensure(ctx, creating)
    ready: list[tuple[Op, str, dict[str, Any]]] = []
    for op in creating:
        verdict = verdicts.get(op.id)
        if verdict is not None:
            settle_by_number(ctx, op, verdict)
            continue
        used: list[str] = []
        try:
            entity, body = payloads.document(
                db, ctx.company, ctx.settings, facts, op.subject_id, op.request_id, used
            )
        except PayloadError as err:
            fail(ctx, op, err.message, hint=err.hint, needs_person=True)
            continue
        if used and not ctx.dry_run:
            customers.fallback_used(ctx, op, used)
        ready.append((op, entity, body))
    if not ready:
        return len(chunk)
    if ctx.dry_run:
        # Numbered in the order the batch requests would go.
        batch = 1 + max((s.get("batch", 0) for s in ctx.stats.would_send), default=0)
        for op, entity, body in ready:
            ctx.stats.would_send.append(
                {"op": op.id, "batch": batch, "create": entity, "body": body}
            )
        return len(chunk)

    ready = await currency_guard(ctx, ready, out.customer_currencies)
    if not ready:
        return len(chunk)
    claim(ctx, [op for op, _, _ in ready])
    items = [
        BatchItem(bid=str(op.id), operation="create", entity=entity, body=body)
        for op, entity, body in ready
    ]
    # The same ops sent together again replay under the same id; any other mix gets its own.
    batch_rid = hashlib.sha256("|".join(op.request_id for op, _, _ in ready).encode()).hexdigest()[
        :36
    ]
    try:
        if single and len(ready) == 1:
            results = await create_one(ctx, ready[0])
        else:
            results = await ctx.client.batch(items, request_id=batch_rid)
    except FATAL:
        raise
    except UnknownOutcome as err:
        if not single:
            out.batch_size = max(1, out.batch_size // 2)  # smaller after timeouts
        for op, _, _ in ready:
            fail(ctx, op, err.message, code=err.qbo_code, tid=err.intuit_tid, uncertain=True)
        return len(chunk)
    except QboError as err:
        for op, _, _ in ready:
            fail_from_error(ctx, op, err)
        await after_refusal(ctx, [err])
        return len(chunk)

    by_bid = {r.bid: r for r in results}
    refusals: list[QboError] = []
    for op, entity, _ in ready:
        result = by_bid.get(str(op.id))
        if result is None:
            fail(ctx, op, "QuickBooks' batch answer left this item out", uncertain=True)
        elif result.fault is not None:
            fail_from_error(ctx, op, result.fault)
            refusals.append(result.fault)
        else:
            doc = result.body or {}
            with transaction(db):
                links.save(
                    db, ctx.company, "invoice", op.subject_id, entity, doc, linked_by="export"
                )
                numbers.linked(ctx, op.subject_id, doc)
                done(ctx, op, str(doc.get("Id")), str(doc.get("SyncToken")))
                verify(ctx, op.subject_id, entity, doc)
                ctx.stats.exported += 1
    await after_refusal(ctx, refusals)
    return len(chunk)


async def create_one(ctx: CycleContext, item: tuple[Op, str, dict[str, Any]]) -> list[BatchResult]:
    """One document created by a plain POST under its op's requestid, answered as a batch item
    would be (a refusal is raised, as a refused batch request is)."""
    op, entity, body = item
    doc = await ctx.client.create(entity, body, request_id=op.request_id)
    return [BatchResult(str(op.id), entity, doc, None)]


def settle_by_number(ctx: CycleContext, op: Op, verdict: numbers.Verdict) -> None:
    """QuickBooks already holds the op's number: link the document when it is ours (same
    customer and currency, the same money to the cent: numbers.same), or raise
    `duplicate_number`; create nothing either way. A linked document is verified as a created
    one is (lines, discount, tax, total): what differs is a `total_mismatch` or `tax_mismatch`
    naming both figures, and QuickBooks' tax is taken where the ledger leaves it to QuickBooks."""
    db = ctx.db
    match = verdict.match
    if ctx.dry_run:
        note = "link" if match is not None else verdict.kind.value
        ids = [str(match["Id"])] if match is not None else [str(d["Id"]) for d in verdict.theirs]
        ctx.stats.would_send.append({"op": op.id, note: verdict.ours.entity, "ids": ids})
        return
    if match is not None:
        with transaction(db):
            links.save(
                db,
                ctx.company,
                "invoice",
                op.subject_id,
                verdict.ours.entity,
                match,
                linked_by=numbers.LINKED_BY,
            )
            numbers.linked(ctx, op.subject_id, match)
            done(ctx, op, str(match["Id"]), str(match.get("SyncToken")))
            verify(ctx, op.subject_id, verdict.ours.entity, match)
        return
    message, data = numbers.conflict_message(verdict)
    fail(
        ctx,
        op,
        message,
        kind=verdict.kind,
        hint=verdict.hint,
        needs_person=True,
        data=data,
    )


async def find_exported(ctx: CycleContext, ops: list[Op]) -> dict[int, tuple[str, dict[str, Any]]]:
    """Find what uncertain export ops may have created, by their markers: one query per
    entity for all their dates (TxnDate IN ...), however many ops and dates there are, so
    that settling a batch cut off by a crash costs one request, not one per date."""
    if not ops:
        return {}
    groups: dict[str, list[tuple[Op, str]]] = defaultdict(list)
    for op in ops:
        inv = lookup.invoice(ctx.db, ctx.company, op.subject_id)
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
            for doc in await ctx.client.query_all(entity, f"TxnDate IN ({chunk})"):
                note = doc.get("PrivateNote") or ""
                for mark, op in marks.items():
                    if mark in note:
                        found[op.id] = (entity, doc)
    return found


async def reexport(out: Outbound, op: Op) -> None:
    """Send qbsync's version again over a drifted document, under its live SyncToken."""
    ctx = out.ctx
    db = ctx.db
    link = links.by_local(db, ctx.company, "invoice", op.subject_id)
    if link is None or link.state == "deleted":
        # Nothing to update: create it anew (the deleted link is replaced on success).
        op.kind = OpKind.EXPORT_INVOICE.value
        with transaction(db):
            links.delete(db, ctx.company, "invoice", op.subject_id)
        await export_batch(out, [op])
        return
    facts = await ctx.facts()
    try:
        _, body = payloads.document(
            db, ctx.company, ctx.settings, facts, op.subject_id, op.request_id
        )
    except PayloadError as err:
        fail(ctx, op, err.message, hint=err.hint, needs_person=True)
        return
    if link.qbo_entity == "Invoice" and "DueDate" not in body and link.baseline:
        # No due date of its own: QuickBooks worked it out from the terms qbsync sent. An
        # update leaves an edited due date alone unless it is sent: send the one it had.
        due = link.baseline.get("due_date")
        if due:
            body["DueDate"] = due
    guarded = await currency_guard(ctx, [(op, link.qbo_entity, body)], out.customer_currencies)
    if not guarded:
        return
    claim(ctx, [op])
    try:
        live = await ctx.client.read(link.qbo_entity, link.qbo_id)
        body.update({"Id": link.qbo_id, "SyncToken": live["SyncToken"]})
        doc = await ctx.client.update(link.qbo_entity, body, sparse=True, request_id=op.request_id)
    except FATAL:
        raise
    except UnknownOutcome as err:
        fail(ctx, op, err.message, uncertain=True)
        return
    except QboError as err:
        fail_from_error(ctx, op, err)
        await after_refusal(ctx, [err])
        return
    missed = not_restored(body, doc)
    if missed:
        # QuickBooks took the update but not every field: the drift stays open, the op with it.
        fail(
            ctx,
            op,
            f"QuickBooks did not take back what qbsync sent: {'; '.join(missed)}",
            final=True,
            hint="change it back in QuickBooks by hand, or --accept QuickBooks' version "
            f"({ctx.qbo_url(link.qbo_entity, link.qbo_id)})",
            data={"not_restored": missed},
        )
        return
    with transaction(db):
        links.save(
            db,
            ctx.company,
            "invoice",
            op.subject_id,
            link.qbo_entity,
            doc,
            linked_by=link.linked_by,
        )
        done(ctx, op, str(doc["Id"]), str(doc["SyncToken"]))
        verify(ctx, op.subject_id, link.qbo_entity, doc)
        close_exceptions(
            db,
            ctx.company,
            [Kind.DRIFT_CHANGED, Kind.DRIFT_VOIDED_DELETED],
            "invoice",
            op.subject_id,
            resolution="reexport",
        )


_SENT_FIELDS = (
    ("customer", "CustomerRef"),
    ("doc_number", "DocNumber"),
    ("txn_date", "TxnDate"),
    ("due_date", "DueDate"),
    ("currency", "CurrencyRef"),
)


def not_restored(sent: dict[str, Any], answer: dict[str, Any]) -> list[str]:
    """The fields of a re-export body that QuickBooks' answer does not hold ("due_date: sent
    2026-11-04, QuickBooks holds 2027-03-01"); empty when every one came back."""
    want, got = links.canonical(sent), links.canonical(answer)
    out = [
        f"{key}: sent {want[key]}, QuickBooks holds {got[key]}"
        for key, field in _SENT_FIELDS
        if field in sent and want[key] != got[key]
    ]
    if "Line" in sent:
        if len(want["lines"]) != len(got["lines"]):
            out.append(f"lines: sent {len(want['lines'])}, QuickBooks holds {len(got['lines'])}")
        else:
            for index, (a, b) in enumerate(zip(want["lines"], got["lines"], strict=True), 1):
                out += [
                    f"line {index} {key}: sent {a[key]}, QuickBooks holds {b.get(key)}"
                    for key in a
                    if a[key] is not None and a[key] != b.get(key)
                ]
    return out
