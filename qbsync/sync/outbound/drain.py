"""The drain: the due ops of a company, dependencies first (exports, then voids, payments,
credits), exports in concurrent batches (and single creates beside them when there is more
than the batch lane can take), the others one by one; stopped at an op boundary when the cycle
is cancelled."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING

from qbsync import outbox
from qbsync.ledger import lookup
from qbsync.outbox import EXPORT_KINDS, Op, OpKind
from qbsync.qbo.errors import QboError, UnknownOutcome
from qbsync.store.tx import transaction
from qbsync.sync import customer_baselines
from qbsync.sync.context import CycleContext
from qbsync.sync.outbound.opstate import FATAL, fail, fail_from_error

if TYPE_CHECKING:
    from qbsync.sync.outbound.numbers import Verdict

EXPORTS = (OpKind.EXPORT_INVOICE.value, OpKind.EXPORT_CREDIT_MEMO.value, OpKind.REEXPORT.value)
ORDER = {
    OpKind.EXPORT_INVOICE.value: 0,
    OpKind.EXPORT_CREDIT_MEMO.value: 0,
    OpKind.REEXPORT.value: 0,
    # A credit taken off comes out of QuickBooks before the documents it joined are voided.
    OpKind.UNAPPLY_CREDIT.value: 1,
    OpKind.VOID_INVOICE.value: 2,
    OpKind.DELETE_CREDIT_MEMO.value: 2,
    OpKind.PUSH_PAYMENT.value: 3,
    OpKind.APPLY_CREDIT.value: 4,
}
# Batch requests in flight at once: a 30-item batch takes seconds, so one at a time cannot reach
# Intuit's 40 batches a minute; the pacer still holds every request within the limits.
BATCH_CONCURRENCY = 3
# Single creates in flight at once, in the single-request lane (the ~460 requests a minute the
# batch lane leaves): at a quarter of a second each, four keep it full.
SINGLE_CONCURRENCY = 4


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
    off = switched_off(ctx)
    ops = [op for op in ops if op.kind not in off]  # they wait until switched on
    ops.sort(key=lambda op: (ORDER.get(op.kind, 9), op.id))
    return ops


def switched_off(ctx: CycleContext) -> set[str]:
    """Op kinds the company's per-area switches hold back."""
    off: set[str] = set()
    if not ctx.settings.payment_push:
        off.add(OpKind.PUSH_PAYMENT.value)
    if not ctx.settings.credit_memos:
        off |= {
            OpKind.EXPORT_CREDIT_MEMO.value,
            OpKind.DELETE_CREDIT_MEMO.value,
            OpKind.APPLY_CREDIT.value,
            OpKind.UNAPPLY_CREDIT.value,
        }
    return off


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
        # What a lookup by number found for ops checked before their batch (numbers.check).
        self.verdicts: dict[int, Verdict] = {}
        self.checked: set[int] = set()
        # QuickBooks customer id -> its currency, read once per drain (verify.currency_guard).
        self.customer_currencies: dict[str, str] = {}
        # One batch at a time finds or makes customers: concurrent batches holding invoices of
        # the same new client would both try to create its customer.
        self.customer_lock = asyncio.Lock()

    async def drain(self, op_ids: list[int] | None = None) -> None:
        if op_ids is None and not self.ctx.dry_run and self.ctx.settings.customer_sync:
            await self.push_customer_updates()
        ops = due_ops(self.ctx, op_ids)
        self.done_count = 0
        if not ops:
            return
        # Exports, numbering and verification load only with work for them: cron's usual cycle
        # has nothing to send.
        from qbsync.sync.outbound import exports

        total = len(ops)
        exported = [op for op in ops if op.kind in EXPORTS]
        others = [op for op in ops if op.kind not in EXPORTS]
        # Plain exports of documents with one export op each may go in concurrent batches; a
        # document with several export ops (an export and a re-export) keeps their order.
        subjects: dict[str, int] = defaultdict(int)
        for op in exported:
            subjects[op.subject_id] += 1
        parallel = [
            op
            for op in exported
            if op.kind != OpKind.REEXPORT.value and subjects[op.subject_id] == 1
        ]
        serial = [
            op for op in exported if op.kind == OpKind.REEXPORT.value or subjects[op.subject_id] > 1
        ]
        if parallel:
            await self.ctx.facts()  # once, before the batches share it
        await self.look_up_numbers(exported)
        await self.export_concurrently(parallel, total)
        index = 0
        while index < len(serial) and not self.cancelled:
            if self.ctx.cancelled():
                self.cancelled = True
                return
            chunk = serial[index : index + self.batch_size]
            sent = await exports.export_batch(self, chunk)
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

    async def push_customer_updates(self) -> None:
        """Clients changed since their customer was last written, and those the accountant chose
        to send over QuickBooks' changes (customers.py loads only when there are any)."""
        every = self.ctx.settings.customers.update
        candidates = customer_baselines.candidates(self.db, self.ctx.company, every=every)
        if candidates:
            from qbsync.sync.outbound.customers import push_updates

            await push_updates(self.ctx, candidates)

    async def look_up_numbers(self, ops: list[Op]) -> None:
        """The numbers of every document about to be created, looked up at once (one query per
        entity and numbers.LOOKUP_NUMBERS numbers) rather than once per batch. Should QuickBooks
        not answer, each batch looks its own up."""
        from qbsync.sync import links

        fresh = [op for op in ops if op.kind != OpKind.REEXPORT.value and not op.uncertain]
        fresh = [
            op
            for op in fresh
            if not links.by_local(self.db, self.ctx.company, "invoice", op.subject_id)
        ]
        if not fresh:
            return
        from qbsync.sync.outbound import numbers

        try:
            self.verdicts = await numbers.check(self.ctx, fresh)
        except FATAL:
            raise
        except QboError:
            return
        self.checked = {op.id for op in fresh}

    async def export_concurrently(self, ops: list[Op], total: int) -> None:
        """Two lanes at once. Up to BATCH_CONCURRENCY batch requests in flight take chunks from
        the front; while more remains than the batch lane's minute still allows, up to
        SINGLE_CONCURRENCY single creates take documents one by one from the back (and so do
        the batch workers while the batch lane's minute is spent). The pacer
        keeps each lane within Intuit's limits. Each batch or single claims and completes its
        own ops in its own transactions. A connection failure stops new work; what is in flight
        finishes, then it is raised."""
        from qbsync.sync.outbound import exports

        head, tail = 0, len(ops)
        fatal: list[Exception] = []

        def going() -> bool:
            if head >= tail or fatal or self.cancelled:
                return False
            if self.ctx.cancelled():
                self.cancelled = True
                return False
            return True

        async def send(chunk: list[Op], single: bool) -> bool:
            try:
                sent = await exports.export_batch(self, chunk, single=single)
            except Exception as err:  # FATAL, or a bug: stop the others, raise it below
                fatal.append(err)
                return False
            self.done_count += sent
            self.ctx.tick("outbound", self.done_count, total)
            return True

        pacer = getattr(self.ctx.client, "pacer", None)
        lanes = not self.ctx.dry_run and pacer is not None
        in_flight = 0  # batch chunks taken and not finished (their slots may not be drawn yet)

        def batch_room() -> int:
            return max(0, pacer.batch_room() - in_flight) if pacer is not None else 1

        async def single() -> bool:
            nonlocal tail
            tail -= 1
            return await send([ops[tail]], True)

        async def batch_worker() -> None:
            nonlocal head, in_flight
            while going():
                if lanes and batch_room() == 0:
                    # The batch lane's minute is spent: the single lane, rather than holding a
                    # chunk until a batch slot frees.
                    if not await single():
                        return
                    continue
                chunk = ops[head : min(head + self.batch_size, tail)]
                head += len(chunk)
                in_flight += 1
                try:
                    if not await send(chunk, False):
                        return
                finally:
                    in_flight -= 1

        async def single_worker() -> None:
            # Only while the batch lane cannot take the rest in what its minute has left.
            while going() and tail - head > batch_room() * self.batch_size:
                if not await single():
                    return

        await asyncio.gather(
            *(batch_worker() for _ in range(BATCH_CONCURRENCY)),
            *(single_worker() for _ in range(SINGLE_CONCURRENCY if lanes else 0)),
        )
        if fatal:
            raise fatal[0]

    async def one(self, op: Op) -> None:
        from qbsync.sync.outbound import payments, voids

        handler = {
            OpKind.VOID_INVOICE.value: voids.void,
            OpKind.DELETE_CREDIT_MEMO.value: voids.void,
            OpKind.UNAPPLY_CREDIT.value: voids.unapply_credit,
            OpKind.PUSH_PAYMENT.value: payments.push_payment,
            OpKind.APPLY_CREDIT.value: payments.apply_credit,
        }[op.kind]
        try:
            await handler(self.ctx, op)
        except FATAL:
            raise
        except UnknownOutcome as err:
            fail(self.ctx, op, err.message, code=err.qbo_code, tid=err.intuit_tid, uncertain=True)
        except QboError as err:
            fail_from_error(self.ctx, op, err)
