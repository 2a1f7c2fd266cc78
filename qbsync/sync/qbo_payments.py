"""Payments as QuickBooks holds them, last seen: the only code that names `qbo_payments`.

A row per QuickBooks Payment qbsync has seen, with its state:
- `ours`: qbsync created it (a pushed payment, an applied credit): its echo is never counted;
- `applied`: recorded in the ledger (as `quickbooks` payments);
- `waiting`: applied to an invoice the ledger does not know yet; tried again each cycle;
- `rejected`: it pays more than the ledger's invoice owes, or applies credit the ledger has
  used already; held for a person;
- `deleted`: deleted in QuickBooks (its ledger rows removed).
(Id, SyncToken) dedupes re-reads inside the inbound overlap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from qbsync.money import cents
from qbsync.store.database import Database
from qbsync.timeutil import utc_now_iso


@dataclass
class Seen:
    sync_token: str | None
    state: str


def get(db: Database, company: str, qbo_id: str) -> Seen | None:
    row = db.execute(
        "SELECT sync_token, state FROM qbo_payments WHERE company = ? AND qbo_id = ?",
        [company, qbo_id],
    ).fetchone()
    return Seen(row[0], row[1]) if row else None


def store(db: Database, company: str, obj: dict[str, Any], state: str) -> None:
    """Remember a payment read from QuickBooks (the whole object, to apply it again later)."""
    db.execute(
        "INSERT INTO qbo_payments (company, qbo_id, sync_token, customer_qbo_id, total, txn_date, "
        "lines, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (company, qbo_id) "
        "DO UPDATE SET sync_token = excluded.sync_token, customer_qbo_id = excluded.customer_qbo_id, "
        "total = excluded.total, txn_date = excluded.txn_date, lines = excluded.lines, "
        "state = excluded.state, updated_at = excluded.updated_at",
        [
            company,
            str(obj["Id"]),
            str(obj.get("SyncToken")),
            (obj.get("CustomerRef") or {}).get("value"),
            str(cents(obj.get("TotalAmt"))),
            obj.get("TxnDate"),
            json.dumps(obj, default=str),
            state,
            utc_now_iso(),
        ],
    )


def remember_pushed(db: Database, company: str, doc: dict[str, Any]) -> None:
    """A payment qbsync pushed: remembered as ours, so that its echo is never counted again."""
    db.execute(
        "INSERT INTO qbo_payments (company, qbo_id, sync_token, customer_qbo_id, total, "
        "txn_date, lines, state, updated_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 'ours', ?) "
        "ON CONFLICT (company, qbo_id) DO UPDATE SET sync_token = excluded.sync_token, "
        "state = 'ours', updated_at = excluded.updated_at",
        [
            company,
            str(doc["Id"]),
            str(doc.get("SyncToken")),
            (doc.get("CustomerRef") or {}).get("value"),
            str(cents(doc.get("TotalAmt"))),
            doc.get("TxnDate"),
            utc_now_iso(),
        ],
    )


def remember_credit(db: Database, company: str, doc: dict[str, Any]) -> None:
    """The zero-amount Payment that applies a credit note: ours as well, moving no money."""
    db.execute(
        "INSERT INTO qbo_payments (company, qbo_id, sync_token, total, txn_date, state, "
        "updated_at) VALUES (?, ?, ?, '0.00', ?, 'ours', ?) ON CONFLICT (company, qbo_id) "
        "DO UPDATE SET sync_token = excluded.sync_token, state = 'ours'",
        [company, str(doc["Id"]), str(doc.get("SyncToken")), doc.get("TxnDate"), utc_now_iso()],
    )


def set_sync_token(db: Database, company: str, qbo_id: str, sync_token: str) -> None:
    db.execute(
        "UPDATE qbo_payments SET sync_token = ?, updated_at = ? WHERE company = ? AND qbo_id = ?",
        [sync_token, utc_now_iso(), company, qbo_id],
    )


def mark_deleted(db: Database, company: str, qbo_id: str) -> None:
    db.execute(
        "UPDATE qbo_payments SET state = 'deleted', updated_at = ? WHERE company = ? "
        "AND qbo_id = ?",
        [utc_now_iso(), company, qbo_id],
    )


def set_waiting(db: Database, company: str, qbo_id: str) -> None:
    """Apply it again on the next cycle (a person fixed what held it)."""
    db.execute(
        "UPDATE qbo_payments SET state = 'waiting' WHERE company = ? AND qbo_id = ?",
        [company, qbo_id],
    )


def waiting(db: Database, company: str) -> list[dict[str, Any]]:
    """The QuickBooks objects of the payments waiting for an invoice the ledger did not know."""
    rows = db.execute(
        "SELECT lines FROM qbo_payments WHERE company = ? AND state = 'waiting'", [company]
    ).fetchall()
    return [json.loads(raw) for (raw,) in rows]


def count_waiting(db: Database, company: str) -> int:
    return int(
        db.execute(
            "SELECT COUNT(*) FROM qbo_payments WHERE company = ? AND state = 'waiting'", [company]
        ).fetchone()[0]
    )


def known_ids(db: Database, company: str) -> set[str]:
    """Every payment Id seen, whatever its state."""
    return {
        r[0] for r in db.execute("SELECT qbo_id FROM qbo_payments WHERE company = ?", [company])
    }
