"""The expiry warnings already delivered: the only code that names `notify_expiry_sent`.

A warning is remembered per company, target and threshold for the token that ends at
`expires_at`. The same token seen with an end that moved by less than a day (QuickBooks hands
back the same refresh token for a while, its end recomputed) counts as the same token; a token
whose end moved further (rotated, or reconnected) is a new one and is warned about afresh.
"""

from __future__ import annotations

from qbsync.store.database import Database
from qbsync.store.tx import transaction
from qbsync.timeutil import utc_now_iso

SAME_TOKEN_DAYS = 1.0


def already_sent(db: Database, company: str, target: str, threshold: int, expires_at: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM notify_expiry_sent WHERE company = ? AND target = ? AND threshold_days = ? "
        "AND abs(julianday(expires_at) - julianday(?)) < ? LIMIT 1",
        [company, target, threshold, expires_at, SAME_TOKEN_DAYS],
    ).fetchone()
    return row is not None


def remember(db: Database, company: str, target: str, threshold: int, expires_at: str) -> None:
    with transaction(db):
        db.execute(
            "INSERT OR IGNORE INTO notify_expiry_sent "
            "(company, target, threshold_days, expires_at, sent_at) VALUES (?, ?, ?, ?, ?)",
            [company, target, threshold, expires_at, utc_now_iso()],
        )
