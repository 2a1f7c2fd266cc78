"""The company's sync lock: free, stale, held by a running cycle, or held too long."""

from __future__ import annotations

from qbsync.doctor.check import Check, qbo_company
from qbsync.workspace import Workspace


def check_lock(ws: Workspace, company: str | None) -> list[Check]:
    from qbsync.sync.lock import holder
    from qbsync.timeutil import parse_iso, utc_now

    key = qbo_company(ws, company)
    if key is None:
        return []
    info = holder(key)
    if info is None:
        return [Check("lock", "ok", f"{key}: no cycle running")]
    who = f"pid {info.get('pid', '?')} on {info.get('host', '?')} ({info.get('purpose', 'sync')})"
    if not info["held"]:
        return [
            Check(
                "lock",
                "ok",
                f"{key}: a stale lock record from {who}, whose process is gone; the next run "
                "takes the lock over",
            )
        ]
    since = info.get("started_at")
    age = (utc_now() - parse_iso(since)).total_seconds() if since else 0.0
    limit = max(3600.0, 2 * ws.config.sync.interval)
    if age > limit:
        from qbsync.sync import cycles

        running = cycles.running(ws.store, key)
        fix = (
            f"qbsync sync cancel {running}"
            if running is not None
            else f"check on pid {info.get('pid')}; stop it if it hangs"
        )
        return [Check("lock", "warn", f"{key}: held by {who} for {age / 60:.0f} minutes", fix)]
    return [Check("lock", "ok", f"{key}: a cycle is running now: {who} since {since}")]
