"""An op's transitions as the drain makes them, each in its own transaction or in the one that
records a result: claimed before its request leaves, completed with what QuickBooks holds,
released to wait for a prerequisite, failed with a backoff (an exception for a person at the
attempt cap, or at once when a person must fix the cause)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from qbsync import outbox
from qbsync.ledger import lookup
from qbsync.outbox import Op, OpKind
from qbsync.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    InvalidGrant,
    InvalidReference,
    QboError,
)
from qbsync.store.tx import transaction
from qbsync.sync.context import CycleContext
from qbsync.sync.exceptions import Kind, close_exceptions
from qbsync.timeutil import utc_now

# Errors that end the cycle rather than one op: the connection itself is gone.
FATAL = (AuthenticationError, AuthorizationError, InvalidGrant)

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
    OpKind.UNAPPLY_CREDIT.value: Kind.CREDIT_FAILING,
}
# What an op that went through settles.
SETTLED_BY_DONE = [
    Kind.EXPORT_FAILING,
    Kind.VOID_FAILING,
    Kind.CREDIT_FAILING,
    Kind.PAYMENT_INVOICE_NOT_IN_QBO,
    Kind.PAYMENT_CUSTOMER_NOT_MAPPED,
    Kind.PAYMENT_PUSH_FAILING,
    Kind.DUPLICATE_NUMBER,
    Kind.CSV_NOT_IMPORTED,
    Kind.CUSTOMER_MISSING,
    Kind.CUSTOMER_CLASH,
]
WAIT_RETRY = timedelta(minutes=1)


def claim(ctx: CycleContext, ops: list[Op]) -> None:
    """Committed before the request leaves: a crash from here on leaves the op uncertain."""
    with transaction(ctx.db):
        outbox.claim(ctx.db, [op.id for op in ops], ctx.cycle_id)
    for op in ops:
        op.attempts += 1


def done(ctx: CycleContext, op: Op, qbo_id: str | None, sync_token: str | None) -> None:
    """Mark done; call inside the transaction that records the result."""
    outbox.complete(ctx.db, op.id, qbo_id, sync_token)
    ctx.stats.ops_processed += 1
    close_exceptions(ctx.db, ctx.company, SETTLED_BY_DONE, op.subject_type, op.subject_id)


def wait(ctx: CycleContext, op: Op, reason: str) -> None:
    """A prerequisite is still on its way (the invoice a payment needs): try again soon,
    without spending an attempt."""
    with transaction(ctx.db):
        outbox.release(ctx.db, op.id, utc_now() + WAIT_RETRY, reason)


def fail(
    ctx: CycleContext,
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
    data: dict[str, Any] | None = None,
) -> None:
    """Record a failed attempt: retry with backoff, or error at the attempt cap.

    Attempts are spent only by claim(), when a request is sent: a document that could not
    even be built (a missing mapping) waits for a person without using any up.
    `needs_person`: raise the exception now, retry each interval, so fixing the cause is
    enough. `final`: no retry can help (QuickBooks already applied the credit). `data`: what
    the exception shows beyond the op and QuickBooks' codes."""
    errored = final or op.attempts >= ctx.sync.attempt_cap
    if needs_person:
        delay = ctx.sync.interval or ctx.sync.backoff
    else:
        delay = outbox.backoff(op.attempts, ctx.sync.backoff)
    with transaction(ctx.db):
        outbox.fail(
            ctx.db,
            op.id,
            message,
            retry_at=None if errored else utc_now() + timedelta(seconds=delay),
            uncertain=uncertain,
            code=code,
            tid=tid,
        )
        if errored or needs_person:
            name = label(ctx, op)
            suffix = f" (after {op.attempts} attempts)" if errored and not final else ""
            ctx.raise_exception(
                kind or FAILURE_KIND.get(op.kind, Kind.EXPORT_FAILING),
                op.subject_type,
                op.subject_id,
                label=name,
                message=f"{name}: {message}{suffix}",
                hint=hint or "fix the cause, then: qbsync exceptions resolve ID --retry",
                data={"op": op.id, "code": code, "intuit_tid": tid, **(data or {})},
            )
    ctx.stats.ops_failed += 1


def label(ctx: CycleContext, op: Op) -> str:
    """The op's subject as an accountant names it: "invoice 1042", "payment PAY-7"."""
    if op.subject_type == "invoice":
        inv = lookup.invoice(ctx.db, ctx.company, op.subject_id)
        kind = "credit note" if inv and inv["type"] == "credit_note" else "invoice"
        return f"{kind} {inv['number'] if inv else op.subject_id}"
    return f"{op.subject_type.replace('_', ' ')} {op.subject_id}"


def needs_person(err: QboError) -> bool:
    """QuickBooks refused the request for what it says (a 4xx, or a batch item's validation
    fault, which comes without a status of its own): retrying on a timer cannot help, a person
    must act. Throttles and server faults pass on their own."""
    if err.status is not None:
        return 400 <= err.status < 500 and err.status != 429
    return (err.fault_type or "").lower() in ("validationfault", "validation")


def fail_from_error(ctx: CycleContext, op: Op, err: QboError, *, uncertain: bool = False) -> None:
    hint = None
    if isinstance(err, InvalidReference):
        hint = (
            "a customer, item or account it names is inactive or deleted in QuickBooks: make it "
            "active there, or map it to another (qbsync mappings set), then: "
            "qbsync exceptions resolve ID --retry"
        )
    fail(
        ctx,
        op,
        err.message,
        code=err.qbo_code,
        tid=err.intuit_tid,
        uncertain=uncertain,
        needs_person=needs_person(err),
        hint=hint,
    )
    if not uncertain:
        new_request_id(ctx, op)


def new_request_id(ctx: CycleContext, op: Op) -> None:
    """QuickBooks refused the request: nothing was written under its requestid, and
    QuickBooks would answer that id with the same refusal forever (it replays a repeated
    requestid's first answer, faults included). The next attempt, after the cause is
    fixed, goes under a new id (and marker). A lost answer keeps its id: its replay, or a
    lookup by its marker, is how the next attempt finds what it may have created."""
    with transaction(ctx.db):
        op.request_id = outbox.renew_request_id(ctx.db, op.id)
