"""The record of sync cycles: one row per cycle, from its start to its result and summary.

The only code that names the `sync_cycles` table. A row says `running` while its cycle runs;
asking a running cycle to stop sets its `cancel_requested`, which the cycle checks at each
operation boundary.
"""

from __future__ import annotations

from typing import Any

from qbsync import outbox
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now, utc_now_iso

# The columns `finish` sets besides finished_at and result.
RESULT_FIELDS = (
    "cursor_before",
    "cursor_after",
    "inbound_changes",
    "ops_processed",
    "ops_failed",
    "drift_found",
    "payments_applied",
    "exceptions_raised",
    "api_calls",
    "summary",
    "error",
)


def start(db: Database, company: str, trigger: str, pid: int) -> int:
    """Record a cycle starting; call it holding the company lock. A cycle of the company still
    marked running was cut off (killed, power lost): it is recorded as failed first."""
    db.execute(
        "UPDATE sync_cycles SET result = 'failed', finished_at = ?, "
        "error = COALESCE(error, 'interrupted before it finished') "
        "WHERE company = ? AND result = 'running'",
        [utc_now_iso(), company],
    )
    cursor = db.execute(
        "INSERT INTO sync_cycles (company, started_at, result, trigger, pid) "
        "VALUES (?, ?, 'running', ?, ?)",
        [company, utc_now_iso(), trigger, pid],
    )
    return int(cursor.lastrowid or 0)


def finish(db: Database, cycle_id: int | None, result: str, **fields: Any) -> str:
    """Record a cycle's end: its result and the RESULT_FIELDS given. Returns when it finished."""
    unknown = set(fields) - set(RESULT_FIELDS)
    if unknown:
        raise ValueError(f"unknown sync_cycles columns: {sorted(unknown)}")
    finished = utc_now_iso()
    values = [fields.get(name) for name in RESULT_FIELDS]
    db.execute(
        "UPDATE sync_cycles SET finished_at = ?, result = ?, cursor_before = ?, cursor_after = ?, "
        "inbound_changes = ?, ops_processed = ?, ops_failed = ?, drift_found = ?, "
        "payments_applied = ?, exceptions_raised = ?, api_calls = ?, summary = ?, error = ? "
        "WHERE id = ?",
        [finished, result, *values, cycle_id],
    )
    return finished


def request_cancel(db: Database, cycle_id: int) -> None:
    db.execute("UPDATE sync_cycles SET cancel_requested = 1 WHERE id = ?", [cycle_id])


def request_cancel_of_process(db: Database, pid: int) -> None:
    """Ask every cycle this process runs to stop (the daemon shutting down)."""
    db.execute(
        "UPDATE sync_cycles SET cancel_requested = 1 WHERE result = 'running' AND pid = ?", [pid]
    )


def _stop_running(
    db: Database,
    pid: int,
    company: str | None,
    result: str,
    error: str,
    summary: str,
    released: str,
) -> list[int]:
    """End the cycles this process runs (of `company`, or all) with `result` and `error`; the
    ops each claimed go back to pending, still uncertain, so that the next cycle first looks
    for what their requests may have created. Returns the cycles' ids."""
    where = "result = 'running' AND pid = ?"
    params: list[Any] = [pid]
    if company is not None:
        where += " AND company = ?"
        params.append(company)
    with transaction(db):
        ids = [
            int(r[0])
            for r in db.execute(f"SELECT id FROM sync_cycles WHERE {where}", params).fetchall()
        ]
        for cycle_id in ids:
            for op_id in outbox.claimed(db, cycle_id):
                outbox.release(db, op_id, utc_now(), released)
            db.execute(
                "UPDATE sync_cycles SET result = ?, finished_at = ?, error = ?, "
                "summary = COALESCE(summary, ?) WHERE id = ?",
                [result, utc_now_iso(), error, f"cycle {cycle_id} {summary}", cycle_id],
            )
    return ids


def interrupt(db: Database, pid: int, how: str = "Ctrl-C") -> list[int]:
    """The cycles this process runs, stopped by Ctrl-C (or `how`, as SIGTERM): each is recorded
    as `interrupted`."""
    stopped = f"interrupted ({how})"
    return _stop_running(db, pid, None, "interrupted", stopped, stopped, stopped)


STOPPED = "the daemon stopped while the cycle waited to retry a QuickBooks request"


def stopped(db: Database, pid: int, company: str) -> list[int]:
    """The company's cycles this process runs, given up by the daemon stopping while they
    waited to retry: each is recorded as `cancelled`, as a stop at an operation boundary is."""
    why = f"cancelled: {STOPPED}"
    return _stop_running(db, pid, company, "cancelled", STOPPED, why, why)


def crashed(db: Database, company: str, pid: int, error: str) -> list[int]:
    """The company's cycles this process runs, stopped by an unexpected error: each is
    recorded as failed with the error."""
    failed = f"failed: {error}"
    return _stop_running(db, pid, company, "failed", error, failed, f"cycle {failed}")


def cancel_requested(db: Database, cycle_id: int) -> bool:
    row = db.execute("SELECT cancel_requested FROM sync_cycles WHERE id = ?", [cycle_id]).fetchone()
    return bool(row and row[0])


def get(db: Database, cycle_id: int | None) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM sync_cycles WHERE id = ?", [cycle_id]))
    return rows[0] if rows else None


def recent(db: Database, company: str | None, limit: int = 20) -> list[dict[str, Any]]:
    """The newest cycles first, of one company or of all."""
    where, params = ("WHERE company = ?", [company]) if company else ("", [])
    return list(
        db.query(f"SELECT * FROM sync_cycles {where} ORDER BY id DESC LIMIT ?", [*params, limit])
    )


def count(db: Database, company: str | None) -> int:
    """How many cycles there are, of one company or of all."""
    where, params = ("WHERE company = ?", [company]) if company else ("", [])
    return int(db.execute(f"SELECT COUNT(*) FROM sync_cycles {where}", params).fetchone()[0])


_BRIEF = "SELECT id, started_at, finished_at, result, summary, error, trigger FROM sync_cycles "


def latest(db: Database, company: str) -> dict[str, Any] | None:
    """The company's newest cycle, running or not (its main columns)."""
    rows = list(db.query(_BRIEF + "WHERE company = ? ORDER BY id DESC LIMIT 1", [company]))
    return rows[0] if rows else None


def latest_finished(db: Database, company: str) -> dict[str, Any] | None:
    """The company's newest cycle that is not running (its main columns)."""
    rows = list(
        db.query(
            _BRIEF + "WHERE company = ? AND result != 'running' ORDER BY id DESC LIMIT 1",
            [company],
        )
    )
    return rows[0] if rows else None


def running(db: Database, company: str) -> int | None:
    """The company's latest cycle still marked running (doctor names it for `sync cancel`)."""
    row = db.execute(
        "SELECT id FROM sync_cycles WHERE company = ? AND result = 'running' "
        "ORDER BY id DESC LIMIT 1",
        [company],
    ).fetchone()
    return int(row[0]) if row else None
