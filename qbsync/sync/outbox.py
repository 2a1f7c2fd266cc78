"""The outbox: outbound operations queued by ledger changes, drained by the sync cycle.

`enqueue` must be called inside the transaction that makes the ledger change (rule 2 in
DESIGN.md): an op exists exactly when its cause was committed.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

from sqlite_utils import Database

from qbsync.timeutil import utc_now_iso


class OpKind(StrEnum):
    EXPORT_INVOICE = "export_invoice"
    EXPORT_CREDIT_MEMO = "export_credit_memo"
    APPLY_CREDIT = "apply_credit"
    PUSH_PAYMENT = "push_payment"
    VOID_INVOICE = "void_invoice"
    DELETE_CREDIT_MEMO = "delete_credit_memo"
    REEXPORT = "reexport"


class SubjectType(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_APPLICATION = "credit_application"


def enqueue(
    db: Database, company: str, kind: OpKind, subject_type: SubjectType, subject_id: str
) -> int:
    """Queue one op and return its id. A pending op of the same kind and subject is reused, so
    that importing the same finalized document twice cannot queue it twice."""
    existing = db.execute(
        "SELECT id FROM outbox WHERE company = ? AND kind = ? AND subject_type = ? "
        "AND subject_id = ? AND state IN ('pending', 'in_progress', 'failed')",
        [company, kind.value, subject_type.value, subject_id],
    ).fetchone()
    if existing:
        return int(existing[0])
    now = utc_now_iso()
    cursor = db.execute(
        "INSERT INTO outbox (company, kind, subject_type, subject_id, state, request_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        [company, kind.value, subject_type.value, subject_id, uuid.uuid4().hex, now, now],
    )
    return int(cursor.lastrowid or 0)
