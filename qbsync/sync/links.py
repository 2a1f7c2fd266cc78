"""Links between ledger documents and QuickBooks objects, and the comparable shape of a document
that drift is measured against. The only code that names the `qbo_links` table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qbsync.money import cents, dec, number_text
from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


@dataclass
class Link:
    company: str
    local_type: str
    local_id: str
    qbo_entity: str
    qbo_id: str
    sync_token: str | None
    baseline: dict[str, Any] | None
    state: str
    linked_by: str


def _from_row(r: dict[str, Any]) -> Link:
    return Link(
        company=r["company"],
        local_type=r["local_type"],
        local_id=r["local_id"],
        qbo_entity=r["qbo_entity"],
        qbo_id=r["qbo_id"],
        sync_token=r["sync_token"],
        baseline=json.loads(r["baseline"]) if r["baseline"] else None,
        state=r["state"],
        linked_by=r["linked_by"],
    )


def by_local(db: Database, company: str, local_type: str, local_id: str) -> Link | None:
    rows = list(
        db.query(
            "SELECT * FROM qbo_links WHERE company = ? AND local_type = ? AND local_id = ?",
            [company, local_type, local_id],
        )
    )
    return _from_row(rows[0]) if rows else None


def by_qbo(db: Database, company: str, qbo_entity: str, qbo_id: str) -> Link | None:
    rows = list(
        db.query(
            "SELECT * FROM qbo_links WHERE company = ? AND qbo_entity = ? AND qbo_id = ?",
            [company, qbo_entity, qbo_id],
        )
    )
    return _from_row(rows[0]) if rows else None


def save(
    db: Database,
    company: str,
    local_type: str,
    local_id: str,
    qbo_entity: str,
    doc: dict[str, Any],
    *,
    linked_by: str,
    state: str = "synced",
    with_baseline: bool = True,
) -> None:
    """Record (or refresh) the link and, for documents, the baseline QuickBooks now holds."""
    now = utc_now_iso()
    baseline = json.dumps(canonical(doc)) if with_baseline else None
    db.execute(
        "INSERT INTO qbo_links (company, local_type, local_id, qbo_entity, qbo_id, sync_token, "
        "baseline, state, linked_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (company, local_type, local_id) DO UPDATE SET qbo_entity = excluded.qbo_entity, "
        "qbo_id = excluded.qbo_id, sync_token = excluded.sync_token, "
        "baseline = COALESCE(excluded.baseline, qbo_links.baseline), state = excluded.state, "
        "updated_at = excluded.updated_at",
        [
            company,
            local_type,
            local_id,
            qbo_entity,
            str(doc["Id"]),
            str(doc.get("SyncToken")),
            baseline,
            state,
            linked_by,
            now,
            now,
        ],
    )


def set_state(db: Database, link: Link, state: str, sync_token: str | None = None) -> None:
    db.execute(
        "UPDATE qbo_links SET state = ?, sync_token = COALESCE(?, sync_token), updated_at = ? "
        "WHERE company = ? AND local_type = ? AND local_id = ?",
        [state, sync_token, utc_now_iso(), link.company, link.local_type, link.local_id],
    )


def set_sync_token(db: Database, link: Link, sync_token: str) -> None:
    db.execute(
        "UPDATE qbo_links SET sync_token = ?, updated_at = ? "
        "WHERE company = ? AND local_type = ? AND local_id = ?",
        [sync_token, utc_now_iso(), link.company, link.local_type, link.local_id],
    )


def adopt_baseline(
    db: Database, company: str, invoice_id: str, baseline: Any, sync_token: str | None
) -> None:
    """Take QuickBooks' version of a drifted document as the new baseline: synced again."""
    db.execute(
        "UPDATE qbo_links SET baseline = ?, sync_token = ?, state = 'synced', updated_at = ? "
        "WHERE company = ? AND local_type = 'invoice' AND local_id = ?",
        [json.dumps(baseline), sync_token, utc_now_iso(), company, invoice_id],
    )


def delete(db: Database, company: str, local_type: str, local_id: str) -> None:
    db.execute(
        "DELETE FROM qbo_links WHERE company = ? AND local_type = ? AND local_id = ?",
        [company, local_type, local_id],
    )


def qbo_index(db: Database, company: str) -> dict[tuple[str, str], str]:
    """(QuickBooks entity, Id) -> local id, for every link of the company."""
    return {
        (r[0], r[1]): r[2]
        for r in db.execute(
            "SELECT qbo_entity, qbo_id, local_id FROM qbo_links WHERE company = ?", [company]
        )
    }


def linked_ids(db: Database, company: str, local_type: str) -> set[str]:
    """The local ids of a type QuickBooks holds a document for (deleted there: not counted)."""
    return {
        r[0]
        for r in db.execute(
            "SELECT local_id FROM qbo_links WHERE company = ? AND local_type = ? "
            "AND state != 'deleted'",
            [company, local_type],
        )
    }


def count_in_state(db: Database, company: str, state: str) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*) FROM qbo_links WHERE company = ? AND state = ?", [company, state]
        ).fetchone()[0]
    )


def count_documents_linked_by(db: Database, company: str, linked_by: str) -> int:
    """Ledger documents linked by the wizard, an export or a lookup."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM qbo_links WHERE company = ? AND local_type = 'invoice' "
            "AND linked_by = ?",
            [company, linked_by],
        ).fetchone()[0]
    )


def _ref(value: Any) -> str | None:
    return (
        str(value["value"]) if isinstance(value, dict) and value.get("value") is not None else None
    )


def sales_lines(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        line for line in doc.get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail"
    ]


def canonical(doc: dict[str, Any]) -> dict[str, Any]:
    """What an accountant would call the document's content: customer, number, dates, lines and
    amounts. Not SyncToken, balance, links or notes, which change without anyone editing it."""
    lines = []
    for line in sales_lines(doc):
        detail = line.get("SalesItemLineDetail") or {}
        lines.append(
            {
                "item": _ref(detail.get("ItemRef")),
                "description": line.get("Description") or None,
                "qty": number_text(detail["Qty"]) if detail.get("Qty") is not None else None,
                "unit_price": (
                    number_text(detail["UnitPrice"])
                    if detail.get("UnitPrice") is not None
                    else None
                ),
                "amount": str(cents(line.get("Amount"))),
                "tax_code": _ref(detail.get("TaxCodeRef")),
                "service_date": detail.get("ServiceDate"),
            }
        )
    return {
        "customer": _ref(doc.get("CustomerRef")),
        "doc_number": doc.get("DocNumber"),
        "txn_date": doc.get("TxnDate"),
        "due_date": doc.get("DueDate"),
        "currency": _ref(doc.get("CurrencyRef")),
        # The rate decides what the document comes to in the home currency: money too.
        "exchange_rate": (
            number_text(doc["ExchangeRate"]) if doc.get("ExchangeRate") is not None else None
        ),
        "lines": lines,
        "total": str(cents(doc.get("TotalAmt"))),
    }


def same_content(baseline: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether `now` (canonical) holds what the baseline does. A baseline stored before a field
    was part of the content (exchange_rate) does not hold it, and that field is not compared:
    the document was never seen with it, so it cannot be said to have changed."""
    return all(now.get(key) == value for key, value in baseline.items())


def is_void_shape(doc: dict[str, Any], baseline: dict[str, Any] | None) -> bool:
    """A voided invoice keeps its lines with every amount at zero and a zero total. Recognized
    by that shape (not by the "Voided" note text), and only for a document that had a value."""
    if baseline is None or dec(baseline.get("total")) == 0:
        return False
    lines = sales_lines(doc)
    return (
        dec(doc.get("TotalAmt")) == 0
        and dec(doc.get("Balance")) == 0
        and all(dec(line.get("Amount")) == 0 for line in lines)
    )


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Human-readable list of what changed, for the drift exception."""
    out = []
    keys = ("customer", "doc_number", "txn_date", "due_date", "currency", "exchange_rate", "total")
    for key in keys:
        if key in before and before.get(key) != after.get(key):
            out.append(f"{key}: {before.get(key)} -> {after.get(key)}")
    old_lines, new_lines = before.get("lines") or [], after.get("lines") or []
    if len(old_lines) != len(new_lines):
        out.append(f"lines: {len(old_lines)} -> {len(new_lines)}")
    for index, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), start=1):
        for key in a:
            if a.get(key) != b.get(key):
                out.append(f"line {index} {key}: {a.get(key)} -> {b.get(key)}")
    return out
