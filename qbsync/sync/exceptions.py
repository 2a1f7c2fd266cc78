"""Sync exceptions: what qbsync cannot reconcile on its own, for an accountant to act on.

One open exception per (company, kind, subject): raising it again bumps its count and refreshes
its message. Each resolves itself when its cause goes away (the export succeeds, the connection
comes back), or by `qbsync exceptions resolve`. The only code that names `sync_exceptions`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


class Kind(StrEnum):
    AUTH_FAILED = "connection_auth_failed"
    CONNECTION_EXPIRING = "connection_expiring"
    EXPORT_FAILING = "export_failing"
    TOTAL_MISMATCH = "total_mismatch"
    TAX_MISMATCH = "tax_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    VOID_FAILING = "void_failing"
    PAYMENT_INVOICE_NOT_IN_QBO = "payment_invoice_not_in_qbo"
    PAYMENT_CUSTOMER_NOT_MAPPED = "payment_customer_not_mapped"
    PAYMENT_PUSH_FAILING = "payment_push_failing"
    QBO_PAYMENT_UNKNOWN_INVOICE = "qbo_payment_unknown_invoice"
    QBO_PAYMENT_SETTLED_INVOICE = "qbo_payment_settled_invoice"
    QBO_CREDIT_USED = "qbo_credit_already_used"
    CREDIT_FAILING = "credit_application_failing"
    CUSTOMER_UNAVAILABLE = "customer_unavailable"
    DRIFT_CHANGED = "drift_changed"
    DRIFT_VOIDED_DELETED = "drift_voided_or_deleted"
    PAYMENT_UNAPPLIED = "pushed_payment_unapplied"
    PAYMENT_MISMATCH = "payment_mismatch"
    DUPLICATE_NUMBER = "duplicate_number"
    CSV_NOT_IMPORTED = "csv_not_imported"
    QBO_VOID_REVERSED = "qbo_void_reversed"
    CUSTOMER_MISSING = "customer_missing"
    CUSTOMER_CLASH = "customer_name_clash"
    CUSTOMER_CHANGED = "customer_changed_in_qbo"
    FALLBACK_USED = "fallback_used"


TITLES: dict[Kind, str] = {
    Kind.AUTH_FAILED: "connection failed authentication",
    Kind.CONNECTION_EXPIRING: "connection expires soon",
    Kind.EXPORT_FAILING: "export keeps failing",
    Kind.TOTAL_MISMATCH: "QuickBooks' total differs from the ledger's",
    Kind.TAX_MISMATCH: "QuickBooks' tax differs from the ledger's",
    Kind.CURRENCY_MISMATCH: "document currency differs from its QuickBooks customer's",
    Kind.VOID_FAILING: "void keeps failing",
    Kind.PAYMENT_INVOICE_NOT_IN_QBO: "payment push: invoice not in QuickBooks",
    Kind.PAYMENT_CUSTOMER_NOT_MAPPED: "payment push: customer not mapped",
    Kind.PAYMENT_PUSH_FAILING: "payment push keeps failing",
    Kind.QBO_PAYMENT_UNKNOWN_INVOICE: "QuickBooks payment references an unknown invoice",
    Kind.QBO_PAYMENT_SETTLED_INVOICE: "QuickBooks payment targets an already-settled invoice",
    Kind.QBO_CREDIT_USED: "QuickBooks applies credit the ledger has already used",
    Kind.CREDIT_FAILING: "credit application keeps failing",
    Kind.CUSTOMER_UNAVAILABLE: "linked customer no longer available",
    Kind.DRIFT_CHANGED: "drift: changed in QuickBooks",
    Kind.DRIFT_VOIDED_DELETED: "drift: voided or deleted in QuickBooks",
    Kind.PAYMENT_UNAPPLIED: "pushed payment left unapplied",
    Kind.PAYMENT_MISMATCH: "QuickBooks' payment differs from the ledger's",
    Kind.DUPLICATE_NUMBER: "QuickBooks already holds another document with this number",
    Kind.CSV_NOT_IMPORTED: "written to the CSV file, not in QuickBooks yet",
    Kind.QBO_VOID_REVERSED: "reversed in the ledger: voided or deleted in QuickBooks",
    Kind.CUSTOMER_MISSING: "client has no QuickBooks customer",
    Kind.CUSTOMER_CLASH: "client's name is taken by another QuickBooks customer",
    Kind.CUSTOMER_CHANGED: "drift: customer changed in QuickBooks",
    Kind.FALLBACK_USED: "warning: sent with a fallback item or tax code",
}

# How an exception of each kind may be resolved by hand (beyond --dismiss).
RESOLUTIONS: dict[Kind, tuple[str, ...]] = {
    Kind.DRIFT_CHANGED: ("accept", "reexport"),
    Kind.DRIFT_VOIDED_DELETED: ("accept", "reexport"),
    Kind.EXPORT_FAILING: ("retry",),
    Kind.DUPLICATE_NUMBER: ("retry",),
    Kind.VOID_FAILING: ("retry",),
    Kind.CREDIT_FAILING: ("retry",),
    Kind.PAYMENT_INVOICE_NOT_IN_QBO: ("retry",),
    Kind.PAYMENT_CUSTOMER_NOT_MAPPED: ("retry",),
    Kind.PAYMENT_PUSH_FAILING: ("retry",),
    Kind.QBO_PAYMENT_UNKNOWN_INVOICE: ("retry",),
    Kind.QBO_PAYMENT_SETTLED_INVOICE: ("retry",),
    Kind.QBO_CREDIT_USED: ("retry",),
    Kind.CURRENCY_MISMATCH: ("retry",),
    Kind.CUSTOMER_CHANGED: ("accept", "reexport"),
    Kind.CUSTOMER_MISSING: ("retry",),
    Kind.CUSTOMER_CLASH: ("retry",),
    # Send the ledger's version again; the verification that follows closes it, or not.
    Kind.TOTAL_MISMATCH: ("reexport",),
    Kind.TAX_MISMATCH: ("reexport",),
}


@dataclass
class Raised:
    id: int
    new: bool


def open_exception(
    db: Database,
    company: str,
    kind: Kind,
    subject_type: str,
    subject_id: str,
    *,
    message: str,
    hint: str | None = None,
    label: str | None = None,
    qbo_entity: str | None = None,
    qbo_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Raised:
    """Raise (or refresh) the open exception for this kind and subject."""
    now = utc_now_iso()
    encoded = json.dumps(data, default=str) if data else None
    row = db.execute(
        "SELECT id FROM sync_exceptions WHERE company = ? AND kind = ? AND subject_type = ? "
        "AND subject_id = ? AND status = 'open'",
        [company, kind.value, subject_type, subject_id],
    ).fetchone()
    if row:
        db.execute(
            "UPDATE sync_exceptions SET occurrences = occurrences + 1, message = ?, hint = ?, "
            "data = COALESCE(?, data), qbo_entity = COALESCE(?, qbo_entity), "
            "qbo_id = COALESCE(?, qbo_id), subject_label = COALESCE(?, subject_label), "
            "updated_at = ? WHERE id = ?",
            [message, hint, encoded, qbo_entity, qbo_id, label, now, row[0]],
        )
        return Raised(int(row[0]), False)
    cursor = db.execute(
        "INSERT INTO sync_exceptions (company, kind, subject_type, subject_id, subject_label, "
        "qbo_entity, qbo_id, message, hint, data, status, raised_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
        [
            company,
            kind.value,
            subject_type,
            subject_id,
            label,
            qbo_entity,
            qbo_id,
            message,
            hint,
            encoded,
            now,
            now,
        ],
    )
    return Raised(int(cursor.lastrowid or 0), True)


def close_exceptions(
    db: Database,
    company: str,
    kinds: list[Kind] | tuple[Kind, ...],
    subject_type: str,
    subject_id: str,
    *,
    resolution: str = "auto",
    note: str | None = None,
) -> int:
    """Resolve the open exceptions of these kinds for one subject; returns how many."""
    if not kinds:
        return 0
    marks = ",".join("?" for _ in kinds)
    cursor = db.execute(
        f"UPDATE sync_exceptions SET status = 'resolved', resolution = ?, note = COALESCE(?, note), "
        f"resolved_at = ?, updated_at = ? WHERE company = ? AND subject_type = ? AND subject_id = ? "
        f"AND status = 'open' AND kind IN ({marks})",
        [
            resolution,
            note,
            utc_now_iso(),
            utc_now_iso(),
            company,
            subject_type,
            subject_id,
            *[k.value for k in kinds],
        ],
    )
    return cursor.rowcount


def set_status(
    db: Database, exception_id: int, status: str, resolution: str, note: str | None
) -> None:
    now = utc_now_iso()
    db.execute(
        "UPDATE sync_exceptions SET status = ?, resolution = ?, note = COALESCE(?, note), "
        "resolved_at = ?, updated_at = ? WHERE id = ?",
        [status, resolution, note, now, now, exception_id],
    )


def get(db: Database, exception_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM sync_exceptions WHERE id = ?", [exception_id]))
    return _decode(rows[0]) if rows else None


def list_exceptions(
    db: Database,
    company: str | None,
    *,
    status: str | None = None,
    kind: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    where, params = ["1 = 1"], []
    if company:
        where.append("company = ?")
        params.append(company)
    if status:
        where.append("status = ?")
        params.append(status)
    if kind:
        where.append("kind = ?")
        params.append(kind)
    sql = f"SELECT * FROM sync_exceptions WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?"
    return [_decode(r) for r in db.query(sql, [*params, limit])]


def count_exceptions(
    db: Database, company: str | None, *, status: str | None = None, kind: str | None = None
) -> int:
    """How many `list_exceptions` would list without a limit."""
    where, params = ["1 = 1"], []
    for column, value in (("company", company), ("status", status), ("kind", kind)):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT COUNT(*) FROM sync_exceptions WHERE {' AND '.join(where)}"
    return int(db.execute(sql, params).fetchone()[0])


def count_open(db: Database, company: str) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*) FROM sync_exceptions WHERE company = ? AND status = 'open'", [company]
        ).fetchone()[0]
    )


def open_data(
    db: Database, company: str, kind: Kind, subject_type: str, subject_id: str
) -> dict[str, Any] | None:
    """The data of the open exception of this kind and subject (None: none open, or no data)."""
    row = db.execute(
        "SELECT data FROM sync_exceptions WHERE company = ? AND kind = ? AND subject_type = "
        "? AND subject_id = ? AND status = 'open'",
        [company, kind.value, subject_type, subject_id],
    ).fetchone()
    return json.loads(row[0]) if row and row[0] else None


def ops_failed_in_cycle(db: Database, company: str, cycle_id: int) -> list[int]:
    """The ops the exceptions raised (or last raised again) in cycle `cycle_id` name: they
    include ops that failed before anything was sent, which the outbox never tied to a cycle."""
    return [
        int(r[0])
        for r in db.execute(
            "SELECT DISTINCT json_extract(data, '$.op') FROM sync_exceptions WHERE company = ? "
            "AND json_extract(data, '$.cycle') = ? AND json_extract(data, '$.op') IS NOT NULL",
            [company, cycle_id],
        )
    ]


def open_with_qbo_id(db: Database, company: str, kind: Kind) -> list[tuple[str, str]]:
    """(subject id, QuickBooks id) of the open exceptions of a kind that name a QuickBooks
    object."""
    return [
        (r[0], r[1])
        for r in db.execute(
            "SELECT subject_id, qbo_id FROM sync_exceptions WHERE company = ? AND kind = ? "
            "AND status = 'open' AND qbo_id IS NOT NULL",
            [company, kind.value],
        )
    ]


def count_open_by_kind(db: Database, company: str) -> dict[str, int]:
    return {
        kind: n
        for kind, n in db.execute(
            "SELECT kind, COUNT(*) FROM sync_exceptions WHERE company = ? AND status = 'open' "
            "GROUP BY kind ORDER BY kind",
            [company],
        )
    }


def first_open_id(db: Database, company: str) -> int | None:
    row = db.execute(
        "SELECT id FROM sync_exceptions WHERE company = ? AND status = 'open'", [company]
    ).fetchone()
    return row[0] if row else None


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["title"] = (
        TITLES.get(Kind(row["kind"]), row["kind"])
        if row["kind"] in Kind._value2member_map_
        else row["kind"]
    )
    row["data"] = json.loads(row["data"]) if row.get("data") else None
    return row


def last_id(db: Database) -> int:
    """The newest exception's id (0: none yet): what a cycle notes at its start, so that
    `opened_after` finds the exceptions it opened."""
    row = db.execute("SELECT MAX(id) FROM sync_exceptions").fetchone()
    return int(row[0] or 0) if row else 0


def opened_after(db: Database, company: str, after_id: int) -> list[dict[str, Any]]:
    """The company's exceptions opened after `after_id` that are still open, oldest first,
    each with its kind's title."""
    rows = db.query(
        "SELECT * FROM sync_exceptions WHERE company = ? AND id > ? AND status = 'open' "
        "ORDER BY id",
        [company, after_id],
    )
    found = []
    for row in rows:
        decoded = _decode(row)
        title = TITLES.get(Kind(decoded["kind"])) if decoded["kind"] in set(Kind) else None
        found.append({**decoded, "title": title})
    return found
