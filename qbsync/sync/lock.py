"""One cycle per company at a time, across processes.

An OS file lock (flock on Unix) is released by the kernel when its process dies, so a lock left by
a killed run is simply taken over. A holder file beside it says who holds it, for the message the
loser prints (and exit code 75, which cron treats as "try later").
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from qbsync import paths
from qbsync.errors import LockHeld
from qbsync.oslock import FileLock, LockTimeout
from qbsync.timeutil import utc_now_iso


def _paths(company: str) -> tuple[str, str]:
    base = paths.ensure_dir(paths.locks_dir())
    return str(base / f"{company}.cycle.lock"), str(base / f"{company}.cycle.holder.json")


def holder(company: str) -> dict[str, Any] | None:
    """Who holds (or last held) the lock, and whether the lock is in fact held now."""
    lock_path, holder_path = _paths(company)
    try:
        with open(holder_path, encoding="utf-8") as fh:
            info: dict[str, Any] = json.load(fh)
    except (OSError, ValueError):
        return None
    probe = FileLock(lock_path, mode=0o600)
    try:
        probe.acquire(timeout=0)
    except LockTimeout:
        info["held"] = True
    else:
        probe.release()
        info["held"] = False  # a stale holder file: its process is gone
    return info


@contextmanager
def company_lock(company: str, purpose: str) -> Iterator[None]:
    lock_path, holder_path = _paths(company)
    lock = FileLock(lock_path, mode=0o600)
    try:
        lock.acquire(timeout=0)
    except LockTimeout:
        info = holder(company) or {}
        who = f"pid {info.get('pid', '?')} on {info.get('host', '?')}"
        since = f" since {info['started_at']}" if info.get("started_at") else ""
        raise LockHeld(
            f"{company} is being synced by {who} ({info.get('purpose', 'a sync')}{since})",
            "this run was skipped; the next scheduled run will sync it",
        ) from None
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "purpose": purpose,
            "started_at": utc_now_iso(),
        }
        paths.write_private(paths.Path(holder_path), json.dumps(record))
        yield
    finally:
        with suppress(OSError):
            os.unlink(holder_path)
        lock.release()
