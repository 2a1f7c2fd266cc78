"""Helpers for ledger tests: whole-database fingerprints."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from qbsync.store.database import Database

VOLATILE = {"created_at", "updated_at", "finalized_at", "voided_at", "request_id"}


def tables(db: Database) -> list[str]:
    return sorted(t for t in db.table_names() if not t.startswith("_"))


def dump(db: Database, *, stable: bool = False) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, ordered; `stable` drops timestamps and generated ids."""
    out = {}
    for table in tables(db):
        rows = [dict(r) for r in db.query(f"SELECT * FROM [{table}]")]
        if stable:
            drop = VOLATILE | ({"id"} if table == "outbox" else set())
            rows = [{k: v for k, v in r.items() if k not in drop} for r in rows]
        out[table] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
    return out


def fingerprint(db: Database) -> str:
    """A content hash of the whole database (all tables, all columns)."""
    text = json.dumps(dump(db), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
