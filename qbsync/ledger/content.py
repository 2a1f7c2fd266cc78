"""An invoice's canonical content and its hash: what "the same invoice" means.

An issued invoice cannot change, so importing it again must be recognised as the same: the
content is keyed by the file's field names, written as stored text, and hashed. When the hash
differs, first_difference names the first field that does, for the problem message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from qbsync import money as m
from qbsync.ledger.models import InvoiceIn
from qbsync.ledger.queries import invoice_lines


def opt_text(value: Any) -> str | None:
    """An optional date or amount as stored text."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return m.text(value)
    return str(value)


def invoice_content(inv: InvoiceIn, currency: str | None) -> dict[str, Any]:
    """The immutable content of an invoice, keyed by the file's field names (so a difference
    can be pointed at in the file). Status is not content: it has its own transitions."""
    return {
        "number": inv.number,
        "client": inv.client,
        "type": inv.type,
        "date": inv.date.isoformat(),
        "due_date": opt_text(inv.due_date),
        "terms": inv.terms,
        "currency": currency,
        "memo": inv.memo,
        "lines": [
            {
                "service": line.service,
                "description": line.description,
                "quantity": m.text(line.quantity),
                "unit_price": m.text(line.unit_price),
                "tax_region": line.tax_region,
                "service_date": opt_text(line.service_date),
            }
            for line in inv.lines
        ],
    }


def content_hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def stored_content(db: Database, company: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": row["number"],
        "client": row["client_id"],
        "type": row["type"],
        "date": row["date"],
        "due_date": row["due_date"],
        "terms": row["terms_id"],
        "currency": row["currency"],
        "memo": row["memo"],
        "lines": [
            {
                "service": ln["service_id"],
                "description": ln["description"],
                "quantity": ln["quantity"],
                "unit_price": ln["unit_price"],
                "tax_region": ln["tax_region_id"],
                "service_date": ln["service_date"],
            }
            for ln in invoice_lines(db, company, row["id"])
        ],
    }


def first_difference(
    old: dict[str, Any], new: dict[str, Any]
) -> tuple[tuple[str | int, ...], Any, Any] | None:
    for key in new:
        if key == "lines":
            continue
        if old.get(key) != new[key]:
            return (key,), old.get(key), new[key]
    old_lines, new_lines = old["lines"], new["lines"]
    for index, (a, b) in enumerate(zip(old_lines, new_lines, strict=False)):
        for key in b:
            if a.get(key) != b[key]:
                return ("lines", index, key), a.get(key), b[key]
    if len(old_lines) != len(new_lines):
        return ("lines",), f"{len(old_lines)} lines", f"{len(new_lines)} lines"
    return None
