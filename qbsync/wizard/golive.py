"""Go-live: the cutover date. Exports of documents dated before it are held back by the cycle;
this shows what the first cycle will export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from qbsync import config as config_mod
from qbsync.money import cents
from qbsync.sync import links
from qbsync.workspace import Workspace

EXPORT_KINDS = ("export_invoice", "export_credit_memo")


def set_go_live(ws: Workspace, company: str, date: dt.date | None) -> None:
    raw = date.isoformat() if date else ""
    ws.save_config(config_mod.set_value(ws.config, f"companies.{company}.go_live", raw))


def preview(db: Database, company: str, go_live: dt.date | None) -> dict[str, Any]:
    """The queued exports of finalized, unlinked documents: those the first cycle sends (dated
    on or after go-live) and those held back (dated before it)."""
    rows = list(
        db.query(
            "SELECT i.id, i.number, i.type, i.date, i.client_id, i.subtotal, o.id AS op "
            "FROM outbox o JOIN ledger_invoices i ON i.company = o.company AND i.id = o.subject_id "
            "LEFT JOIN qbo_links l ON l.company = i.company AND l.local_type = 'invoice' "
            "AND l.local_id = i.id AND l.state != 'deleted' "
            "WHERE o.company = ? AND o.subject_type = 'invoice' AND o.kind IN (?, ?) "
            "AND o.state IN ('pending', 'failed') AND i.status = 'finalized' "
            "AND l.local_id IS NULL ORDER BY i.date, i.number",
            [company, *EXPORT_KINDS],
        )
    )
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
        }

    return {
        "company": company,
        "go_live": go_live,
        "will_export": [shape(r) for r in send],
        "held_back": len(held),
        "linked_by_wizard": int(linked),
        "total_to_export": sum((cents(r["subtotal"]) for r in send), cents(0)),
    }
