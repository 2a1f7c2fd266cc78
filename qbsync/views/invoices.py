"""Invoices with what other rooms know of them: `invoices show` (the ledger's invoice, its
QuickBooks link, the ops queued for it) and `ledger export invoices` (with the QuickBooks id its
export got). Reads only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlite_utils import Database

from qbsync import outbox
from qbsync.errors import NotFoundError
from qbsync.ledger import export, queries
from qbsync.sync import links
from qbsync.views import sync_state


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
    """The rows of `ledger export payments|invoices`; invoices carry the QuickBooks id of their
    latest completed export."""
    if what == "payments":
        return export.payment_rows(db, company, since)
    return export.invoice_rows(db, company, since, outbox.exported_qbo_ids(db, company))
