"""The outbox: outbound operations queued by ledger changes, drained by the sync engine.

This module is the only code that names the `outbox` table. The ledger queues an op inside the
transaction that makes the change causing it (rule 2 in DESIGN.md: an op exists exactly when
its cause was committed); the sync engine claims, completes, fails and releases ops; commands
reset, cancel and read them.

An op's states: pending -> in_progress (claimed: its request may leave) -> done; or failed
(retried after a backoff), errored (gave up at the attempt cap, or nothing can help), cancelled.
`uncertain` marks an op whose request may have reached QuickBooks without its answer being
recorded: the next attempt looks for what it may have created before creating anything.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


class OpKind(StrEnum):
    EXPORT_INVOICE = "export_invoice"
    EXPORT_CREDIT_MEMO = "export_credit_memo"
    APPLY_CREDIT = "apply_credit"
    PUSH_PAYMENT = "push_payment"
    VOID_INVOICE = "void_invoice"
    DELETE_CREDIT_MEMO = "delete_credit_memo"
    # A credit application the ledger took off (`invoices void --unapply`): its zero Payment,
    # which applied the credit in QuickBooks, is deleted there.
    UNAPPLY_CREDIT = "unapply_credit"
    REEXPORT = "reexport"


class SubjectType(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    CREDIT_APPLICATION = "credit_application"


# The ops that create a document in QuickBooks (held back before the go-live date).
EXPORT_KINDS = (OpKind.EXPORT_INVOICE.value, OpKind.EXPORT_CREDIT_MEMO.value)
# Not finished yet: an op in one of these states is still to be sent (or being sent).
OPEN_STATES = ("pending", "in_progress", "failed")


@dataclass
class Op:
    id: int
    kind: str
    subject_type: str
    subject_id: str
    state: str
    attempts: int
    request_id: str
    uncertain: bool
    qbo_id: str | None

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Op:
        return cls(
            r["id"],
            r["kind"],
            r["subject_type"],
            r["subject_id"],
            r["state"],
            r["attempts"],
            r["request_id"],
            bool(r["uncertain"]),
            r["qbo_id"],
        )


def _marks(values: list[Any]) -> str:
    return ",".join("?" for _ in values)


# --- queueing ------------------------------------------------------------------------------


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
        [company, kind.value, subject_type.value, subject_id, _new_request_id(), now, now],
    )
    return int(cursor.lastrowid or 0)


def enqueue_many(db: Database, company: str, ops: list[tuple[OpKind, SubjectType, str]]) -> None:
    """enqueue() for many ops at once (an import's chunk): each is queued unless a pending op
    of the same kind and subject is there already, or earlier in `ops`. The ops waiting are
    found with one query per 500 subjects (a check per insert took twice the insert's time);
    called inside the caller's transaction, as enqueue() is, so nothing comes in between."""
    now = utc_now_iso()
    seen = _waiting(db, company, ops)
    rows = []
    for kind, subject_type, subject_id in ops:
        key = (kind.value, subject_type.value, subject_id)
        if key not in seen:
            seen.add(key)
            rows.append((company, *key, _new_request_id(), now, now))
    db.conn.executemany(
        "INSERT INTO outbox (company, kind, subject_type, subject_id, state, request_id, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)",
        rows,
    )


def _waiting(
    db: Database, company: str, ops: list[tuple[OpKind, SubjectType, str]]
) -> set[tuple[str, str, str]]:
    """(kind, subject type, subject id) of the ops on these subjects not yet settled."""
    subjects: dict[str, set[str]] = {}
    for _, subject_type, subject_id in ops:
        subjects.setdefault(subject_type.value, set()).add(subject_id)
    found: set[tuple[str, str, str]] = set()
    for type_name, ids in subjects.items():
        listed = sorted(ids)
        for start in range(0, len(listed), 500):
            part = listed[start : start + 500]
            rows = db.execute(
                "SELECT kind, subject_type, subject_id FROM outbox WHERE company = ? "
                f"AND subject_type = ? AND subject_id IN ({', '.join('?' for _ in part)}) "
                "AND state IN ('pending', 'in_progress', 'failed')",
                [company, type_name, *part],
            ).fetchall()
            found.update((k, t, s) for k, t, s in rows)
    return found


# --- the sync engine's transitions ---------------------------------------------------------


def claim(db: Database, op_ids: list[int], cycle_id: int | None) -> None:
    """In progress, one attempt more, uncertain: committed before the request leaves, so that a
    crash from here on leaves the op to be settled by looking for what it may have created."""
    now = utc_now_iso()
    for op_id in op_ids:
        db.execute(
            "UPDATE outbox SET state = 'in_progress', attempts = attempts + 1, "
            "uncertain = 1, cycle_id = ?, updated_at = ? WHERE id = ?",
            [cycle_id, now, op_id],
        )


def complete(db: Database, op_id: int, qbo_id: str | None, sync_token: str | None) -> None:
    """Done, with what QuickBooks holds; in the transaction that records the result."""
    db.execute(
        "UPDATE outbox SET state = 'done', uncertain = 0, qbo_id = ?, qbo_sync_token = ?, "
        "last_error = NULL, last_error_code = NULL, next_attempt_at = NULL, updated_at = ? "
        "WHERE id = ?",
        [qbo_id, sync_token, utc_now_iso(), op_id],
    )


def release(db: Database, op_id: int, retry_at: datetime, reason: str) -> None:
    """Back to pending until `retry_at`, without spending an attempt (a prerequisite is still on
    its way)."""
    db.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?, "
        "updated_at = ? WHERE id = ?",
        [retry_at.isoformat(), reason, utc_now_iso(), op_id],
    )


def backoff(attempts: int, base: float) -> float:
    """Seconds before the next attempt: doubling with each attempt spent, with jitter so that
    ops failed together do not retry together."""
    return base * (2 ** max(attempts - 1, 0)) * random.uniform(0.9, 1.1)


def _new_request_id() -> str:
    """A fresh requestid: 128 random bits in 32 hex digits, within Intuit's 36 characters for a
    batch. Straight from os.urandom: uuid4() made a UUID object per op (a large import makes
    one per invoice) and loaded `platform` on the way."""
    return os.urandom(16).hex()


def fail(
    db: Database,
    op_id: int,
    message: str,
    *,
    retry_at: datetime | None,
    uncertain: bool = False,
    code: str | None = None,
    tid: str | None = None,
) -> None:
    """A failed attempt: failed (tried again at `retry_at`), or errored when `retry_at` is None
    (given up: only a person can put it back, by a reset)."""
    db.execute(
        "UPDATE outbox SET state = ?, uncertain = ?, last_error = ?, last_error_code = ?, "
        "intuit_tid = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?",
        [
            "errored" if retry_at is None else "failed",
            int(uncertain),
            message,
            code,
            tid,
            None if retry_at is None else retry_at.isoformat(),
            utc_now_iso(),
            op_id,
        ],
    )


def renew_request_id(db: Database, op_id: int) -> str:
    """A new requestid (and so a new marker) for the op's next attempt; returns it."""
    request_id = _new_request_id()
    db.execute(
        "UPDATE outbox SET request_id = ?, updated_at = ? WHERE id = ?",
        [request_id, utc_now_iso(), op_id],
    )
    return request_id


def recover(db: Database, company: str) -> int:
    """Ops a dead run left in progress: their requests may have reached QuickBooks, so they
    become failed and uncertain. Returns how many."""
    cursor = db.execute(
        "UPDATE outbox SET state = 'failed', uncertain = 1, updated_at = ?, "
        "last_error = COALESCE(last_error, 'interrupted') "
        "WHERE company = ? AND state = 'in_progress'",
        [utc_now_iso(), company],
    )
    return cursor.rowcount


# --- what a person does --------------------------------------------------------------------


def reset_for_retry(
    db: Database,
    company: str,
    *,
    op_id: int | None = None,
    cycle_id: int | None = None,
    errored_only: bool = False,
    subject: tuple[str, str] | None = None,
) -> int:
    """Put the company's failed or errored ops back in the queue, attempts cleared: one op, the
    ops of one cycle, every errored op, or the ops of one subject (type, id). Returns how many."""
    where: list[str] = ["company = ?"]
    params: list[Any] = [company]
    if op_id is not None:
        where.append("id = ?")
        params.append(op_id)
    if cycle_id is not None:
        where.append("cycle_id = ?")
        params.append(cycle_id)
    if errored_only:
        where.append("state = 'errored'")
    if subject is not None:
        where.append("subject_type = ? AND subject_id = ?")
        params += list(subject)
    cursor = db.execute(
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, "
        f"updated_at = ? WHERE state IN ('failed', 'errored') AND {' AND '.join(where)}",
        [utc_now_iso(), *params],
    )
    return cursor.rowcount


def make_due_now(db: Database, op_ids: list[int]) -> None:
    """Ops asked for by a person go now, whatever their backoff said."""
    db.execute(f"UPDATE outbox SET next_attempt_at = NULL WHERE id IN ({_marks(op_ids)})", op_ids)


def cancel(db: Database, op_id: int) -> None:
    db.execute(
        "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE id = ?",
        [utc_now_iso(), op_id],
    )


def cancel_waiting(db: Database, company: str, subject_type: str, subject_id: str) -> int:
    """Cancel a subject's ops that are waiting to go (pending or failed); returns how many."""
    cursor = db.execute(
        "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE company = ? AND "
        "subject_type = ? AND subject_id = ? AND state IN ('pending', 'failed')",
        [utc_now_iso(), company, subject_type, subject_id],
    )
    return cursor.rowcount


# --- reads ---------------------------------------------------------------------------------


def due(db: Database, company: str, op_ids: list[int] | None = None) -> list[Op]:
    """Pending or failed ops whose time has come (of `op_ids` only, when given), oldest first."""
    params: list[Any] = [company, utc_now_iso()]
    sql = (
        "SELECT * FROM outbox WHERE company = ? AND state IN ('pending', 'failed') "
        "AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
    )
    if op_ids is not None:
        sql += f" AND id IN ({_marks(op_ids)})"
        params += op_ids
    return [Op.from_row(r) for r in db.query(sql + " ORDER BY id", params)]


def claimed(db: Database, cycle_id: int) -> list[int]:
    """The ops a cycle claimed and has not settled (still in progress), oldest first."""
    rows = db.execute(
        "SELECT id FROM outbox WHERE cycle_id = ? AND state = 'in_progress' ORDER BY id",
        [cycle_id],
    ).fetchall()
    return [int(r[0]) for r in rows]


def outcomes(db: Database, op_ids: list[int]) -> list[dict[str, Any]]:
    """Where these ops stand: op, kind, subject, state, error."""
    rows = db.execute(
        f"SELECT id, kind, subject_id, state, last_error FROM outbox WHERE id IN "
        f"({_marks(op_ids)}) ORDER BY id",
        op_ids,
    ).fetchall()
    return [dict(zip(("op", "kind", "subject", "state", "error"), r, strict=True)) for r in rows]


def for_subject(
    db: Database, company: str, subject_type: str, subject_id: str
) -> list[dict[str, Any]]:
    """A subject's ops, oldest first: id, kind, state, attempts, last_error."""
    return list(
        db.query(
            "SELECT id, kind, state, attempts, last_error FROM outbox WHERE company = ? AND "
            "subject_type = ? AND subject_id = ? ORDER BY id",
            [company, subject_type, subject_id],
        )
    )


@dataclass
class ExportState:
    op_id: int
    state: str
    uncertain: bool


def latest_export(db: Database, company: str, invoice_id: str) -> ExportState | None:
    """The newest export op of a document, if it was ever queued."""
    row = db.execute(
        "SELECT id, state, uncertain FROM outbox WHERE company = ? AND subject_type = "
        "'invoice' AND subject_id = ? AND kind IN ('export_invoice', 'export_credit_memo') "
        "ORDER BY id DESC LIMIT 1",
        [company, invoice_id],
    ).fetchone()
    return ExportState(int(row[0]), row[1], bool(row[2])) if row else None


def has_request(db: Database, company: str, request_id: str) -> bool:
    """Whether a requestid (as found in a marker) is one of the company's ops."""
    row = db.execute(
        "SELECT 1 FROM outbox WHERE company = ? AND request_id = ?", [company, request_id]
    ).fetchone()
    return row is not None


def count_by_state(
    db: Database, company: str, states: tuple[str, ...] | None = None
) -> dict[str, int]:
    """The company's ops per state, of `states` only when given (states without any are left
    out). Name the states you need: counting the done ones walks every op ever queued."""
    sql, params = "SELECT state, COUNT(*) FROM outbox WHERE company = ?", [company]
    if states:
        sql += f" AND state IN ({_marks(list(states))})"
        params += states
    return {state: n for state, n in db.execute(sql + " GROUP BY state", params)}


def exported_qbo_ids(db: Database, company: str) -> dict[str, str | None]:
    """Document id -> the QuickBooks id its latest completed export op recorded."""
    cursor = db.execute(
        "SELECT subject_id, qbo_id FROM outbox WHERE company = ? AND subject_type = 'invoice' "
        "AND state = 'done' AND kind IN ('export_invoice', 'export_credit_memo') ORDER BY id",
        [company],
    )
    return dict(cursor.fetchall())  # ordered by id: the latest op wins
