"""The `companies` and `company_facts` tables: the only code that writes them.

A company's row holds what people and doctor look at (name, realm, connection state, token
expiries); its tokens and the app's client secret live in the secrets store (tokens.py,
credentials.py). `company_facts` keeps the company's CompanyInfo and Preferences as the sync
cycle last read them, so that a cycle does not ask QuickBooks every time.
"""

from __future__ import annotations

import json
from typing import Any

from qbsync.errors import ReconnectRequired
from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

ROW_FIELDS = (
    "key",
    "name",
    "realm_id",
    "environment",
    "connected",
    "needs_reconnect",
    "client_id",
    "access_expires_at",
    "refresh_expires_at",
    "refresh_hard_expires_at",
    "last_refresh_at",
    "connected_at",
    "created_at",
    "updated_at",
)


def get_row(db: Database, key: str) -> dict[str, Any] | None:
    cursor = db.execute("SELECT * FROM companies WHERE key = ?", [key])
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([c[0] for c in cursor.description], found, strict=True))


def all_rows(db: Database) -> list[dict[str, Any]]:
    cursor = db.execute("SELECT * FROM companies ORDER BY key")
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(ROW_FIELDS)
    if unknown:
        raise ValueError(f"unknown companies columns: {sorted(unknown)}")


def upsert_row(db: Database, key: str, environment: str, **fields: Any) -> None:
    """Create the row when missing, then set `fields` (and updated_at)."""
    _check_fields(fields)
    now = utc_now_iso()
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO companies (key, environment, created_at, updated_at) "
            "VALUES (?, ?, ?, ?)",
            [key, environment, now, now],
        )
        values = {"environment": environment, **fields, "updated_at": now}
        assignments = ", ".join(f"{name} = ?" for name in values)
        db.execute(f"UPDATE companies SET {assignments} WHERE key = ?", [*values.values(), key])


def update_row(db: Database, key: str, **fields: Any) -> None:
    _check_fields(fields)
    values = {**fields, "updated_at": utc_now_iso()}
    assignments = ", ".join(f"{name} = ?" for name in values)
    with transaction(db):
        db.execute(f"UPDATE companies SET {assignments} WHERE key = ?", [*values.values(), key])


def require_connected(db: Database, key: str) -> dict[str, Any]:
    row = get_row(db, key)
    hint = f"run `qbsync connect --company {key}`"
    if row is None or not row["connected"] or not row["realm_id"]:
        raise ReconnectRequired(f"company {key!r} is not connected", hint)
    if row["needs_reconnect"]:
        raise ReconnectRequired(f"company {key!r} needs reconnecting (its grant was refused)", hint)
    return row


def read_facts(db: Database, company: str) -> tuple[dict[str, Any], str] | None:
    """The company's facts as last stored, with when they were read from QuickBooks."""
    row = db.execute(
        "SELECT data, fetched_at FROM company_facts WHERE company = ?", [company]
    ).fetchone()
    if row is None:
        return None
    return json.loads(row[0]), row[1]


def write_facts(db: Database, company: str, data: dict[str, Any]) -> None:
    """Keep the company's facts, read from QuickBooks just now."""
    with transaction(db):
        db.execute(
            "INSERT INTO company_facts (company, data, fetched_at) VALUES (?, ?, ?) "
            "ON CONFLICT (company) DO UPDATE SET data = excluded.data, "
            "fetched_at = excluded.fetched_at",
            [company, json.dumps(data), utc_now_iso()],
        )
