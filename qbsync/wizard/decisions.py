"""Decisions saved as they are made (resumable sessions), and customer mappings written through
the mappings' store in the shape the sync engine reads (kind 'customers')."""

from __future__ import annotations

from qbsync.mappings.store import Change, Diff, apply_diff, list_mappings
from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso

_UPSERT = (
    "INSERT INTO wizard_decisions (company, step, subject_id, action, qbo_id, qbo_name, "
    "source, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (company, step, "
    "subject_id) DO UPDATE SET action = excluded.action, qbo_id = excluded.qbo_id, "
    "qbo_name = excluded.qbo_name, source = excluded.source, decided_at = excluded.decided_at"
)


def record_many(
    db: Database,
    company: str,
    step: str,
    rows: list[tuple[str, str, str | None, str | None]],
    *,
    source: str,
) -> None:
    """(subject id, action, qbo id, qbo name) rows, one statement."""
    now = utc_now_iso()
    db.conn.executemany(_UPSERT, [(company, step, s, a, q, n, source, now) for s, a, q, n in rows])


def record(
    db: Database,
    company: str,
    step: str,
    subject_id: str,
    action: str,
    qbo_id: str | None = None,
    qbo_name: str | None = None,
    *,
    source: str,
) -> None:
    db.execute(
        _UPSERT, [company, step, subject_id, action, qbo_id, qbo_name, source, utc_now_iso()]
    )


def decided(db: Database, company: str, step: str) -> dict[str, str]:
    """subject id -> action, for what this step was already told."""
    return {
        r[0]: r[1]
        for r in db.execute(
            "SELECT subject_id, action FROM wizard_decisions WHERE company = ? AND step = ?",
            [company, step],
        )
    }


def forget(db: Database, company: str, step: str) -> int:
    return db.execute(
        "DELETE FROM wizard_decisions WHERE company = ? AND step = ? AND action = 'skip'",
        [company, step],
    ).rowcount


def customer_mappings(db: Database, company: str) -> dict[str, str]:
    """client id -> QuickBooks customer id."""
    return {m.local_id: m.qbo_id for m in list_mappings(db, company, "customers")}


def map_customer(
    db: Database,
    company: str,
    client_id: str,
    qbo_id: str,
    qbo_name: str,
    *,
    action: str = "link",
    source: str,
) -> None:
    """The client's mapping (what the sync engine sends) and the decision, in the caller's
    transaction."""
    apply_diff(db, company, Diff(added=[Change("customers", client_id, qbo_id, qbo_name)]))
    record(db, company, "customers", client_id, action, qbo_id, qbo_name, source=source)
