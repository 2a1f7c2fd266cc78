"""An invoice's canonical content and its hash: what "the same invoice" means.

An issued invoice cannot change, so importing it again must be recognised as the same: the
content is keyed by the file's field names, written as stored text, and hashed. When the hash
differs, first_difference names the first field that does, for the problem message.

The content comes two ways, which must agree: from an import's record (invoice_content, to
compare with what is stored) and from the rows written for it (stored_content). The hash an
import writes is taken from the rows (store.apply_plan), so it is always the hash of what the
store holds, and the import's helper process computes it while the importer plans on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from qbsync import money as m
from qbsync.ledger.queries import invoice_discounts, invoice_lines
from qbsync.store.database import Database

if TYPE_CHECKING:  # the models load pydantic, which the import's writer does without
    from qbsync.ledger.models import DiscountLineIn, InvoiceIn, LineIn


def opt_text(value: Any) -> str | None:
    """An optional date or amount as stored text."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return m.text(value)
    return str(value)


def _item(line: LineIn) -> dict[str, Any]:
    content = {
        "service": line.service,
        "description": line.description,
        "quantity": m.text(line.quantity),
        "unit_price": m.text(line.unit_price),
        "tax_region": line.tax_region,
        "service_date": opt_text(line.service_date),
    }
    if line.tax_amount is not None:
        content["tax_amount"] = m.text(line.tax_amount)
    return content


def _discount(line: DiscountLineIn) -> dict[str, Any]:
    return {
        "kind": "discount",
        "description": line.description,
        "amount": opt_text(line.amount),
        "percent": opt_text(line.percent),
        "taxable": line.taxable,
    }


def _line(line: LineIn | DiscountLineIn) -> dict[str, Any]:
    # A discount line is the one kind of line with a `kind` (models.AnyLine).
    if getattr(line, "kind", None) == "discount":
        return _discount(cast("DiscountLineIn", line))
    return _item(cast("LineIn", line))


def _extras(content: dict[str, Any], amounts: str, tax_total: Any, exchange_rate: Any) -> None:
    # Fields added with tax and discounts enter the content only when they say something, so
    # an untaxed, undiscounted invoice keeps the content (and hash) it always had.
    if amounts != "exclusive":
        content["amounts"] = amounts
    if tax_total is not None:
        content["tax_total"] = opt_text(tax_total)
    if exchange_rate is not None:
        content["exchange_rate"] = opt_text(exchange_rate)


def invoice_content(inv: InvoiceIn, currency: str | None) -> dict[str, Any]:
    """The immutable content of an invoice, keyed by the file's field names (so a difference
    can be pointed at in the file). Status is not content: it has its own transitions."""
    content = {
        "number": inv.number,
        "client": inv.client,
        "type": inv.type,
        "date": inv.date.isoformat(),
        "due_date": opt_text(inv.due_date),
        "terms": inv.terms,
        "currency": currency,
        "memo": inv.memo,
        "lines": [_line(ln) for ln in inv.lines],
    }
    _extras(content, inv.amounts, inv.tax_total, inv.exchange_rate)
    return content


# One encoder for every hash: json.dumps with options builds a new one per call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(_CANONICAL.encode(content).encode()).hexdigest()


def _stored_item(ln: Mapping[str, Any]) -> dict[str, Any]:
    content = {
        "service": ln["service_id"],
        "description": ln["description"],
        "quantity": ln["quantity"],
        "unit_price": ln["unit_price"],
        "tax_region": ln["tax_region_id"],
        "service_date": ln["service_date"],
    }
    if ln["tax_amount"] is not None:
        content["tax_amount"] = ln["tax_amount"]
    return content


def _stored_discount(ln: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": "discount",
        "description": ln["description"],
        "amount": ln["amount"],
        "percent": ln["percent"],
        "taxable": bool(ln["taxable"]),
    }


def rows_content(
    row: Mapping[str, Any],
    items: Iterable[Mapping[str, Any]],
    discounts: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The content of an invoice as its rows hold it: the invoice's row and its item and
    discount lines (keyed by column name), lines in line_no order."""
    lines = [(ln["line_no"], _stored_item(ln)) for ln in items]
    lines += [(ln["line_no"], _stored_discount(ln)) for ln in discounts]
    content = {
        "number": row["number"],
        "client": row["client_id"],
        "type": row["type"],
        "date": row["date"],
        "due_date": row["due_date"],
        "terms": row["terms_id"],
        "currency": row["currency"],
        "memo": row["memo"],
        "lines": [content for _, content in sorted(lines, key=lambda pair: pair[0])],
    }
    _extras(content, row["amounts"], row["tax_total"], row["exchange_rate"])
    return content


def stored_content(db: Database, company: str, row: dict[str, Any]) -> dict[str, Any]:
    """The content of a stored invoice (`row`, its invoice row)."""
    return rows_content(
        row, invoice_lines(db, company, row["id"]), invoice_discounts(db, company, row["id"])
    )


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
