"""Invoices with what other rooms know of them: `invoices list` (with what holds an invoice
back from QuickBooks), `invoices show` (the ledger's invoice, its QuickBooks link, the ops queued
for it) and `ledger export` (invoices with the QuickBooks id they are linked to now; for
payments, what QuickBooks did to one the ledger no longer holds). Reads only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from qbsync import outbox
from qbsync.errors import NotFoundError
from qbsync.ledger import csvmarks, export, handover, queries
from qbsync.money import cents
from qbsync.store.database import Database
from qbsync.sync import links
from qbsync.views import sync_state

WIZARD_REVIEW = "wizard review"
CSV_FALLBACK = "csv fallback"


def invoice_list(
    db: Database, company: str, *, limit: int = 50, sync_state_filter: str | None = None
) -> list[dict[str, Any]]:
    """`invoices list`: the listing rows, each with what holds it back from QuickBooks, if
    anything: `held` ("wizard review": QuickBooks holds its number on another document, as the
    history wizard's review lists it, and nothing is created until someone decides; "csv
    fallback": written to the CSV file for QuickBooks' import and not found there yet) and
    `held_reason`, what it says and the way on. The list speaks in totals (tax included) and
    balances; `invoices show` has the subtotal, discount and tax."""
    rows = sync_state.invoice_rows(db, company, limit=limit, sync_state=sync_state_filter)
    unlinked = [r["id"] for r in rows if r["qbo_id"] is None and r["status"] == "finalized"]
    csv_held = csvmarks.holding(db, company, unlinked)
    review = _duplicate_numbers(db, company, unlinked)
    for r in rows:
        del r["subtotal"]
        r["held"], r["held_reason"] = None, None
        if r["id"] in review:
            r["held"] = WIZARD_REVIEW
            r["held_reason"] = (
                f"{review[r['id']]} Decide it with `qbsync wizard history` (link it to theirs), "
                "or as the exception says."
            )
        elif r["id"] in csv_held:
            r["held"], r["held_reason"] = CSV_FALLBACK, csv_held[r["id"]].why()
    return rows


def _duplicate_numbers(db: Database, company: str, invoice_ids: list[str]) -> dict[str, str]:
    """invoice id -> the message of the open duplicate_number exception holding it."""
    if not invoice_ids:
        return {}
    marks = ",".join("?" for _ in invoice_ids)
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT subject_id, message FROM sync_exceptions WHERE company = ? "
            "AND status = 'open' AND kind = 'duplicate_number' AND subject_type = 'invoice' "
            f"AND subject_id IN ({marks})",
            [company, *invoice_ids],
        )
    }


def invoice_detail(
    db: Database, company: str, invoice_id: str, qbo_url: Callable[[str, str], str]
) -> dict[str, Any]:
    """One invoice: its listing row, its QuickBooks link (qbo_url gives the address of a
    linked document, from its entity and id), lines, payments and the ops queued for it."""
    rows = sync_state.invoice_rows(db, company, invoice_ids=[invoice_id], limit=1)
    if not rows:
        raise NotFoundError(f"invoice {invoice_id!r} is not in the ledger of {company}")
    data = rows[0]
    link = links.by_local(db, company, "invoice", invoice_id)
    data["qbo_entity"] = link.qbo_entity if link else None
    data["qbo_sync_token"] = link.sync_token if link else None
    if link:
        data["qbo_url"] = qbo_url(link.qbo_entity, link.qbo_id)
    data["lines"] = [
        {k: v for k, v in line.items() if k not in ("service_date", "tax_amount")}
        for line in queries.invoice_lines(db, company, invoice_id)
    ]
    discounts = queries.invoice_discounts(db, company, invoice_id)
    if discounts:
        data["discounts"] = discounts
    taxes = queries.invoice_taxes(db, company, invoice_id)
    if taxes:
        data["taxes"] = taxes
    data["payments"] = queries.invoice_payments(db, company, invoice_id)
    data["ops"] = outbox.for_subject(db, company, "invoice", invoice_id)
    return data


def ledger_export_rows(
    db: Database, company: str, what: str, since: dt.date | None
) -> list[dict[str, Any]]:
    """The rows of `ledger export invoices`, each with the QuickBooks id it is linked to now.
    (`ledger export payments` writes what it hands over: qbsync/ledger/export.py, with
    payment_reasons from here.)"""
    if what != "invoices":
        raise ValueError(f"{what!r}: only invoices are read here")
    return export.invoice_rows(db, company, since, current_qbo_ids(db, company))


def current_qbo_ids(db: Database, company: str) -> dict[str, str | None]:
    """Document id -> the QuickBooks id it is linked to now. A document deleted in QuickBooks
    has none (until it is exported again, under its new id); one voided there keeps its id."""
    return {
        r[0]: (None if r[2] == "deleted" else r[1])
        for r in db.execute(
            "SELECT local_id, qbo_id, state FROM qbo_links WHERE company = ? "
            "AND local_type = 'invoice'",
            [company],
        )
    }


def payment_reasons(db: Database, company: str) -> handover.ReasonOf:
    """Why a QuickBooks payment the ledger no longer holds went, as the sync engine last saw it:
    `deleted` (deleted in QuickBooks), `voided` (voided there: a zero total), else `reduced`
    (edited so that it puts less, or nothing, on that invoice)."""
    seen = {
        r[0]: (r[1], r[2])
        for r in db.execute(
            "SELECT qbo_id, state, total FROM qbo_payments WHERE company = ?", [company]
        )
    }

    def reason_of(qbo_id: str | None) -> str:
        state, total = seen.get(qbo_id or "", (None, None))
        if state == "deleted":
            return "deleted"
        if state == "voided" or (state is not None and cents(total) == 0):
            return "voided"
        return "reduced"

    return reason_of
