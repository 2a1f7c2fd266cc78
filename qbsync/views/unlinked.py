"""Finalized ledger documents with no live link to QuickBooks: what the wizard's history step
looks for in QuickBooks."""

from __future__ import annotations

from typing import Any

from qbsync.store.database import Database


def unlinked_documents(db: Database, company: str) -> list[dict[str, Any]]:
    """id, number, type, client_id, subtotal of each, by id (a deleted link counts as none)."""
    return list(
        db.query(
            "SELECT i.id, i.number, i.type, i.client_id, i.subtotal FROM ledger_invoices i "
            "LEFT JOIN qbo_links l ON l.company = i.company AND l.local_type = 'invoice' "
            "AND l.local_id = i.id AND l.state != 'deleted' "
            "WHERE i.company = ? AND i.status = 'finalized' AND l.local_id IS NULL ORDER BY i.id",
            [company],
        )
    )
