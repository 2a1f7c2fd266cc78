"""Things a person does to the sync outside the cycle: export now, retry, resolve, cancel."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from typing import Any

from qbsync import outbox
from qbsync.companies.records import require_connected
from qbsync.errors import InputError, LockHeld, NotFoundError, UsageError
from qbsync.ledger import lookup, quickbooks
from qbsync.outbox import OpKind, SubjectType, enqueue
from qbsync.store.tx import transaction
from qbsync.sync import context, customer_baselines, cycles, links, qbo_payments
from qbsync.sync import exceptions as exc_mod
from qbsync.sync.exceptions import RESOLUTIONS, Kind, set_status
from qbsync.sync.lock import company_lock
from qbsync.sync.outbound import FATAL, Outbound, recover
from qbsync.workspace import Workspace


def reset_ops(
    ws: Workspace,
    company: str,
    *,
    op_id: int | None = None,
    cycle_id: int | None = None,
    errored_only: bool = False,
    subject: tuple[str, str] | None = None,
) -> int:
    """Put matching failed or errored ops back in the queue with their attempts cleared. The
    ops of a cycle are those it sent and those that failed there before being sent (named by
    the exceptions it raised)."""
    if cycle_id is not None:
        row = cycles.get(ws.store, cycle_id)
        if row is None or row["company"] != company:
            raise NotFoundError(f"no cycle {cycle_id} of {company}", "see qbsync sync history")
    with transaction(ws.store):
        count = outbox.reset_for_retry(
            ws.store,
            company,
            op_id=op_id,
            cycle_id=cycle_id,
            errored_only=errored_only,
            subject=subject,
        )
        if cycle_id is not None:
            for failed in exc_mod.ops_failed_in_cycle(ws.store, company, cycle_id):
                count += outbox.reset_for_retry(ws.store, company, op_id=failed)
        return count


def run_ops_now(ws: Workspace, company: str, op_ids: list[int]) -> dict[str, Any]:
    """Send these ops at once, outside the cycle; the caller holds the company lock
    (_locked)."""
    from qbsync.companies.session import open_client

    _, settings = ws.company(company)

    async def go() -> dict[str, Any]:
        client = open_client(ws, company)
        async with client:
            ctx = context.for_company(ws, company, settings, client=client)
            recover(ctx)
            # Ops asked for by a person go now, whatever their backoff said.
            with transaction(ws.store):
                outbox.make_due_now(ws.store, op_ids)
            try:
                await Outbound(ctx).drain(op_ids)
            except FATAL:
                raise
            return {"ops": outbox.outcomes(ws.store, op_ids), "api_calls": client.calls}

    return asyncio.run(go())


def _locked(company: str, purpose: str) -> ExitStack:
    """The company lock, taken now (LockHeld, holding nothing, when a run has it); leaving the
    returned stack's `with` block lets it go."""
    held = ExitStack()
    held.enter_context(company_lock(company, purpose))
    return held


def export_now(ws: Workspace, company: str, invoice_ids: list[str]) -> dict[str, Any]:
    """Queue these invoices' exports and send them now. The lock is taken first: while a run
    holds it nothing is queued (the cycle holds back an invoice dated before go-live, which
    would then wait in the queue for nothing) and LockHeld says to ask again."""
    require_connected(ws.store, company)
    try:
        held = _locked(company, "export now")
    except LockHeld as err:
        raise LockHeld(
            err.message,
            "nothing was queued or sent; run the same qbsync invoices export again once that "
            "run ends",
        ) from None
    with held:
        op_ids = []
        with transaction(ws.store):
            for invoice_id in invoice_ids:
                inv = lookup.invoice(ws.store, company, invoice_id)
                if inv is None:
                    raise NotFoundError(f"invoice {invoice_id!r} is not in the ledger of {company}")
                if inv["status"] != "finalized":
                    raise InputError(
                        f"invoice {inv['number']} is {inv['status']}; only finalized "
                        "invoices are exported"
                    )
                kind = (
                    OpKind.EXPORT_CREDIT_MEMO
                    if inv["type"] == "credit_note"
                    else OpKind.EXPORT_INVOICE
                )
                op_ids.append(enqueue(ws.store, company, kind, SubjectType.INVOICE, invoice_id))
        return run_ops_now(ws, company, op_ids)


def resolve(ws: Workspace, exception_id: int, action: str, note: str | None) -> dict[str, Any]:
    db = ws.store
    item = exc_mod.get(db, exception_id)
    if item is None:
        raise NotFoundError(f"no exception {exception_id}", "list them: qbsync exceptions list")
    if item["status"] != "open":
        raise UsageError(f"exception {exception_id} is already {item['status']}")
    kind = Kind(item["kind"])
    if action != "dismiss" and action not in RESOLUTIONS.get(kind, ()):
        allowed = ", ".join(f"--{a}" for a in (*RESOLUTIONS.get(kind, ()), "dismiss"))
        raise UsageError(
            f"a {item['title']} exception cannot be resolved with --{action}", f"use {allowed}"
        )
    company = item["company"]
    outcome: dict[str, Any] = {"exception": exception_id, "action": action}
    if action == "dismiss":
        with transaction(db):
            set_status(db, exception_id, "dismissed", "dismiss", note)
    elif action == "accept" and kind is Kind.CUSTOMER_CHANGED:
        _accept_customer(ws, item, note)
    elif action == "accept":
        _accept(ws, item, note)
    elif action == "reexport" and kind is Kind.CUSTOMER_CHANGED:
        with transaction(db):
            customer_baselines.request_push(db, company, item["subject_id"])
            set_status(db, exception_id, "resolved", "reexport", note)
        outcome["queued"] = "the ledger's version is sent to the customer on the next cycle"
    elif action == "reexport":
        require_connected(db, company)
        with transaction(db):
            op_id = enqueue(db, company, OpKind.REEXPORT, SubjectType.INVOICE, item["subject_id"])
        try:
            held = _locked(company, "exceptions resolve")
        except LockHeld as err:
            # Queued, which is harmless: a cycle sends a re-export whatever go-live says, and
            # closes the exception once QuickBooks takes it. Not sent now, not resolved yet.
            outcome["queued"] = (
                f"the re-export of {item['subject_label']} is queued, not sent now: "
                f"{err.message}; that run or the next sends it, and the exception closes once "
                "QuickBooks takes it (qbsync exceptions show "
                f"{exception_id})"
            )
            outcome["run"] = {"ops": outbox.outcomes(db, [op_id]), "api_calls": 0}
            return outcome
        with held:
            outcome["run"] = run_ops_now(ws, company, [op_id])
        state = outcome["run"]["ops"][0]["state"]
        if state != "done":
            raise InputError(
                f"re-export of {item['subject_label']} did not go through: "
                f"{outcome['run']['ops'][0]['error']}",
                "see qbsync exceptions list for the new exception",
            )
        if kind in (Kind.TOTAL_MISMATCH, Kind.TAX_MISMATCH):
            # Resolved only by QuickBooks agreeing: the re-export's verification decides.
            after = exc_mod.get(db, exception_id)
            if after is not None and after["status"] == "open":
                raise InputError(
                    f"re-sent {item['subject_label']}, but QuickBooks still differs: "
                    f"{after['message']}",
                    "correct it in QuickBooks or in the billing system, or --dismiss it",
                )
        else:
            with transaction(db):
                set_status(db, exception_id, "resolved", "reexport", note)
    elif action == "retry":
        if item["subject_type"] == "qbo_payment":
            with transaction(db):
                qbo_payments.set_waiting(db, company, item["subject_id"])
                set_status(db, exception_id, "resolved", "retry", note)
            outcome["queued"] = "the payment is applied again on the next cycle"
        else:
            count = reset_ops(ws, company, subject=(item["subject_type"], item["subject_id"]))
            with transaction(db):
                set_status(db, exception_id, "resolved", "retry", note)
            outcome["ops_requeued"] = count
    return outcome


def _accept_customer(ws: Workspace, item: dict[str, Any], note: str | None) -> None:
    """Take the customer's version (as QuickBooks held it when the drift was seen) into the
    ledger's client, and make it the new baseline."""
    from qbsync.ledger import clients as ledger_clients

    db = ws.store
    company, client_id = item["company"], item["subject_id"]
    theirs = (item.get("data") or {}).get("qbo") or {}
    with transaction(db):
        ledger_clients.accept_from_quickbooks(db, company, client_id, theirs)
        customer_baselines.save(db, company, client_id, str(item["qbo_id"]), theirs)
        set_status(db, item["id"], "resolved", "accept", note)


def _accept(ws: Workspace, item: dict[str, Any], note: str | None) -> None:
    """Adopt QuickBooks' version as the new baseline (or its void or delete in the ledger)."""
    db = ws.store
    company, invoice_id = item["company"], item["subject_id"]
    link = links.by_local(db, company, "invoice", invoice_id)
    if link is None:
        raise NotFoundError(f"{item['subject_label']} is not linked to QuickBooks any more")
    if Kind(item["kind"]) is Kind.DRIFT_CHANGED:
        _refuse_books_apart(ws, item)
    with transaction(db):
        if Kind(item["kind"]) is Kind.DRIFT_CHANGED:
            data = item.get("data") or {}
            links.adopt_baseline(db, company, invoice_id, data.get("qbo"), data.get("seen_token"))
        else:
            # Voided or deleted in QuickBooks: the ledger's copy follows; nothing is sent.
            quickbooks.accept_void(db, company, invoice_id)
            outbox.cancel_waiting(db, company, "invoice", invoice_id)
        set_status(db, item["id"], "resolved", "accept", note)


def _refuse_books_apart(ws: Workspace, item: dict[str, Any]) -> None:
    """An edit in QuickBooks that changes what the customer owes (the total, who owes it, or
    the exchange rate that says what it comes to in the home currency) cannot be accepted: the
    ledger keeps the billing system's figures, so the two books would disagree from then on
    with nothing left open to say so. Such a change is made in the billing system (a credit
    note, or a void and a new invoice); QuickBooks' edit is undone with --reexport."""
    from qbsync.mappings.store import lookup as mapped_id
    from qbsync.money import cents, dec
    from qbsync.money import text as m_text

    db, company, invoice_id = ws.store, item["company"], item["subject_id"]
    theirs = (item.get("data") or {}).get("qbo") or {}
    ours = lookup.invoice(db, company, invoice_id)
    if ours is None or not theirs:
        return
    differences = []
    if theirs.get("total") is not None and cents(dec(theirs["total"])) != cents(dec(ours["total"])):
        differences.append(f"total {theirs['total']} there, {ours['total']} in the ledger")
    rate, their_rate = ours.get("exchange_rate"), theirs.get("exchange_rate")
    if rate is not None and their_rate is not None and dec(rate) != dec(their_rate):
        differences.append(
            f"exchange rate {their_rate} there, {m_text(dec(rate))} in the ledger (what it "
            "comes to in the home currency)"
        )
    customer = mapped_id(db, company, "customers", ours["client_id"])
    if customer is not None and theirs.get("customer") not in (None, str(customer)):
        differences.append(
            f"billed to customer {theirs['customer']} there, to customer {customer} (client "
            f"{ours['client_id']}) in the ledger"
        )
    if differences:
        raise UsageError(
            f"{item['subject_label']}: QuickBooks' version changes what is owed "
            f"({'; '.join(differences)}): accepting it would leave the two books apart",
            "--reexport sends the ledger's version again; a change of money is made in the "
            "billing system (a credit note, or a void and a new invoice) and comes from there",
        )


def cancel_cycle(ws: Workspace, cycle_id: int) -> dict[str, Any]:
    row = cycles.get(ws.store, cycle_id)
    if row is None:
        raise NotFoundError(f"no cycle {cycle_id}", "see qbsync sync history")
    if row["result"] != "running":
        raise UsageError(f"cycle {cycle_id} is not running (it {row['result']})")
    with transaction(ws.store):
        cycles.request_cancel(ws.store, cycle_id)
    return {
        "cycle": cycle_id,
        "company": row["company"],
        "cancel_requested": True,
        "note": "the cycle stops at the next operation boundary",
    }
