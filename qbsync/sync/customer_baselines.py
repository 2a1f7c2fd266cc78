"""What each linked QuickBooks customer last held of its client's fields, as qbsync wrote or
accepted it (the shape of qbsync.sync.payloads.client_shape), and whether the ledger's version
is to be pushed over it on the next cycle. The only code that names `customer_baselines`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


@dataclass
class Baseline:
    client_id: str
    qbo_id: str
    shape: dict[str, Any]
    push: bool


def get(db: Database, company: str, client_id: str) -> Baseline | None:
    rows = list(
        db.query(
            "SELECT * FROM customer_baselines WHERE company = ? AND client_id = ?",
            [company, client_id],
        )
    )
    if not rows:
        return None
    return _baseline(rows[0])


def candidates(db: Database, company: str, *, every: bool) -> list[Baseline]:
    """The baselines a cycle may push over, in client order: every one (customers.update: a
    changed client is sent), or only those marked to push (an indexed look-up that costs the
    same for ten customers as for ten thousand)."""
    sql = "SELECT * FROM customer_baselines WHERE company = ?"
    rows = db.query(sql + ("" if every else " AND push = 1") + " ORDER BY client_id", [company])
    return [_baseline(r) for r in rows]


def _baseline(row: dict[str, Any]) -> Baseline:
    return Baseline(row["client_id"], row["qbo_id"], json.loads(row["shape"]), bool(row["push"]))


def save(db: Database, company: str, client_id: str, qbo_id: str, shape: dict[str, Any]) -> None:
    """Record what the customer holds now (and clear a pending push)."""
    db.execute(
        "INSERT INTO customer_baselines (company, client_id, qbo_id, shape, push, updated_at) "
        "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (company, client_id) DO UPDATE SET "
        "qbo_id = excluded.qbo_id, shape = excluded.shape, push = 0, "
        "updated_at = excluded.updated_at",
        [company, client_id, qbo_id, json.dumps(shape, sort_keys=True), utc_now_iso()],
    )


def request_push(db: Database, company: str, client_id: str) -> None:
    """Send the ledger's version over the customer's on the next cycle."""
    db.execute(
        "UPDATE customer_baselines SET push = 1, updated_at = ? "
        "WHERE company = ? AND client_id = ?",
        [utc_now_iso(), company, client_id],
    )
