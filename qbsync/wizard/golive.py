"""Go-live: the cutover date. Exports of documents dated before it are held back by the cycle;
this shows what the first cycle will export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from qbsync import config as config_mod
from qbsync.money import cents
from qbsync.store.database import Database
from qbsync.sync import links
from qbsync.views.golive import queued_exports
from qbsync.workspace import Workspace


def set_go_live(ws: Workspace, company: str, date: dt.date | None) -> None:
    raw = date.isoformat() if date else ""
    ws.save_config(config_mod.set_value(ws.config, f"companies.{company}.go_live", raw))


def proposed_go_live(db: Database, company: str) -> dt.date | None:
    """The date of the earliest finalized document not yet in QuickBooks (its export queued,
    not linked by the wizard): a go-live on it holds none of them back. None: nothing waits."""
    rows = queued_exports(db, company)
    return dt.date.fromisoformat(rows[0]["date"]) if rows else None


def preview(db: Database, company: str, go_live: dt.date | None) -> dict[str, Any]:
    """The queued exports of finalized, unlinked documents: those the first cycle sends (dated
    on or after go-live) and those held back (dated before it)."""
    rows = queued_exports(db, company)
    cutoff = go_live.isoformat() if go_live else None
    send = [r for r in rows if cutoff is None or r["date"] >= cutoff]
    held = [r for r in rows if cutoff is not None and r["date"] < cutoff]
    linked = links.count_documents_linked_by(db, company, "wizard")

    def shape(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "invoice": r["id"],
            "number": r["number"],
            "type": r["type"],
            "date": r["date"],
            "client": r["client_id"],
            "subtotal": cents(r["subtotal"]),
            "total": cents(r["total"]),
            "currency": r["currency"],
        }

    # What the first cycle adds to receivables, tax included, one sum per currency (amounts in
    # two currencies are never added together); a credit note counts against it.
    totals: dict[str, Any] = {}
    for r in send:
        key = r["currency"] or "home"
        sign = -1 if r["type"] == "credit_note" else 1
        totals[key] = totals.get(key, cents(0)) + sign * cents(r["total"])

    return {
        "company": company,
        "go_live": go_live,
        "proposed": dt.date.fromisoformat(rows[0]["date"]) if rows else None,
        "will_export": [shape(r) for r in send],
        "held_back": len(held),
        "linked_by_wizard": int(linked),
        "total_to_export": totals,
    }
