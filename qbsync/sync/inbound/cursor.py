"""The inbound cursor: up to when a company's QuickBooks changes have been applied. The only
code that names the `sync_cursors` table."""

from __future__ import annotations

import datetime as dt

from qbsync.store.database import Database
from qbsync.timeutil import parse_iso, utc_now, utc_now_iso


def stored(db: Database, company: str) -> str | None:
    """The cursor as stored (ISO text), None before the first cycle."""
    row = db.execute("SELECT cursor FROM sync_cursors WHERE company = ?", [company]).fetchone()
    return row[0] if row else None


def get(db: Database, company: str) -> dt.datetime | None:
    value = stored(db, company)
    return parse_iso(value) if value is not None else None


def initial(connected_at: str | None) -> dt.datetime:
    """The first cycle reads from when the company was connected (a day back if unknown)."""
    if connected_at:
        return parse_iso(connected_at)
    return utc_now() - dt.timedelta(days=1)


def advance(db: Database, company: str, value: dt.datetime) -> None:
    """Set the cursor; in the transaction that applies the changes it covers."""
    db.execute(
        "INSERT INTO sync_cursors (company, cursor, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT (company) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at",
        [company, value.isoformat(), utc_now_iso()],
    )
