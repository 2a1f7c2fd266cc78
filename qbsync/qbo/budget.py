"""A realm's request budget shared by every qbsync process on the machine.

Cron's `sync run`, the daemon, the wizard and `qbsync qbo` lists each open their own client; a
budget kept per process lets each believe it owns the company's 500 requests a minute. The send
times of the last minute live instead in a small SQLite file under the state directory (not
the main store: nothing here is worth keeping), one table keyed by realm. A request counts as in flight until
its answer, so that the realm's concurrency cap holds across processes too. Each draw is one short
write transaction, the write lock taken at its start (isolation level IMMEDIATE), so that two
processes never both take the last slot of a window; the lane rules are qbsync.qbo.limits'.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from qbsync.paths import create_private, ensure_dir, state_dir
from qbsync.qbo.limits import MINUTE_MARGIN, SECOND_MARGIN, Limits, lane_delay

BUSY_TIMEOUT = 30.0  # seconds a draw waits for another process's draw (each takes microseconds)
CONCURRENCY_POLL = 0.05  # seconds between looks when the realm has its most requests in flight
STALE = 130.0  # a request unanswered this long is counted out (its process died; timeout 120 s)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS sends (realm TEXT NOT NULL, at REAL NOT NULL, "
    "batch INTEGER NOT NULL, sent REAL NOT NULL, open INTEGER NOT NULL DEFAULT 1, "
    "pid INTEGER NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS sends_realm_at ON sends (realm, at)",
)


def default_budget_file() -> Path:
    """The machine's budget file: under QBSYNC_HOME when set, else the platform's state dir."""
    return state_dir() / "budget.db"


class RealmPacer(Protocol):
    """What the client needs of a pacer (the in-memory one and the shared one)."""

    limits: Limits
    waited: float

    def try_acquire(self, batch: bool = False) -> float: ...

    def draw(self, batch: bool = False, *, in_flight: bool = True) -> tuple[float, Any]: ...

    def settle(self, ticket: Any) -> None: ...

    def batch_room(self) -> int: ...

    async def acquire(self, batch: bool = False) -> Any: ...

    def reset(self) -> None: ...


async def acquire_from(pacer: RealmPacer, batch: bool) -> Any:
    """Wait until the pacer records a send of this lane; its ticket for `settle`."""
    while True:
        delay, ticket = pacer.draw(batch)
        if delay <= 0:
            return ticket
        pacer.waited += delay
        await asyncio.sleep(delay)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LatencyFloor:
    """The quickest answer seen so far per lane, in this process. A request reached QuickBooks
    at some moment before its answer: at the latest, its send time plus how much longer than
    the quickest answer it took. A lane's first answers count from the answer itself (a
    process's first requests, slow to open their connections, are the ones that can reach the
    server later than their send time says)."""

    WARM_UP = 10  # answers of a lane counted from the answer itself: a second's worth

    def __init__(self) -> None:
        self._floor: dict[bool, float] = {}
        self._seen: dict[bool, int] = {}

    def delay(self, batch: bool, latency: float) -> float:
        """Seconds after its send from which an answered request counts."""
        floor = min(self._floor.get(batch, latency), latency)
        self._floor[batch] = floor
        self._seen[batch] = seen = self._seen.get(batch, 0) + 1
        return latency if seen <= self.WARM_UP else latency - floor


class SharedPacer:
    """A realm's pacer whose windows are in `path`, shared with every process that opens it.

    Times are wall-clock seconds (time.time), the one clock every process reads alike."""

    def __init__(
        self,
        realm_id: str,
        limits: Limits,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        second_window: float = 1.0 + SECOND_MARGIN,
        minute_window: float = 60.0 + MINUTE_MARGIN,
    ) -> None:
        self.realm_id = realm_id
        self.limits = limits
        self.path = path
        self._clock = clock
        self._second = second_window
        self._minute = minute_window
        self._lock = threading.Lock()  # one connection, shared by the process's event loops
        self._conn: sqlite3.Connection | None = None
        self._open = 0  # the realm's requests in flight at the last draw
        self._floors = LatencyFloor()
        self.waited = 0.0

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            ensure_dir(self.path.parent)
            create_private(self.path)  # 0600, and SQLite gives its log the same mode
            # isolation_level IMMEDIATE: the first write of a draw takes the write lock, and the
            # connection's context manager ends the draw (commit, or rollback on an error).
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT,
                isolation_level="IMMEDIATE",
                check_same_thread=False,
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            with conn:
                for statement in _SCHEMA:
                    conn.execute(statement)
            self._conn = conn
        return self._conn

    def _window(self, conn: sqlite3.Connection, now: float) -> tuple[list[float], list[float]]:
        """Drop sends older than the minute window (the first write: takes the lock), then
        return the rest of the realm's sends, singles and batches, oldest first."""
        conn.execute(
            "DELETE FROM sends WHERE realm = ? AND at <= ? AND (open = 0 OR sent <= ?)",
            (self.realm_id, now - self._minute, now - STALE),
        )
        rows = conn.execute(
            "SELECT at, batch, open AND sent > ? FROM sends WHERE realm = ? ORDER BY at",
            (now - STALE, self.realm_id),
        ).fetchall()
        horizon = now - self._minute
        self._open = sum(1 for _, _, o in rows if o)
        return (
            [at for at, b, _ in rows if not b and at > horizon],
            [at for at, b, _ in rows if b and at > horizon],
        )

    def try_acquire(self, batch: bool = False) -> float:
        """Record a send and return 0 when it fits; else the seconds to wait before trying again.
        (A send recorded so is not counted in flight: nothing will settle it.)"""
        return self.draw(batch, in_flight=False)[0]

    def draw(self, batch: bool = False, *, in_flight: bool = True) -> tuple[float, int | None]:
        """As try_acquire, the send counted in flight until `settle(ticket)`; returns the row
        id as its ticket (None when it must wait)."""
        ticket = None
        with self._lock:
            conn = self._db()
            with conn:
                now = self._clock()
                singles, batches = self._window(conn, now)
                delay = lane_delay(
                    self.limits,
                    singles,
                    batches,
                    now,
                    batch,
                    second=self._second,
                    minute=self._minute,
                )
                if in_flight and delay <= 0 and self._open >= self.limits.concurrent_requests:
                    self._open -= self._close_dead(conn)
                if in_flight and delay <= 0 and self._open >= self.limits.concurrent_requests:
                    delay = CONCURRENCY_POLL  # answers free the slots: look again shortly
                if delay <= 0:
                    ticket = conn.execute(
                        "INSERT INTO sends (realm, at, batch, sent, open, pid) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (self.realm_id, now, int(batch), now, int(in_flight), os.getpid()),
                    ).lastrowid
            return delay, ticket

    def _close_dead(self, conn: sqlite3.Connection) -> int:
        """Requests in flight of processes that died (killed mid-request) are no longer in
        flight; returns how many were closed."""
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT DISTINCT pid FROM sends WHERE realm = ? AND open = 1", (self.realm_id,)
            )
        ]
        closed = 0
        for pid in pids:
            if pid and pid != os.getpid() and not _alive(pid):
                closed += conn.execute(
                    "UPDATE sends SET open = 0 WHERE realm = ? AND pid = ? AND open = 1",
                    (self.realm_id, pid),
                ).rowcount
        return closed

    def settle(self, ticket: Any) -> None:
        """The request of `ticket` was answered (see LatencyFloor: it counts from when it may
        have reached QuickBooks, so that one slow to leave cannot crowd the server's window)."""
        if ticket is None:
            return
        with self._lock:
            conn = self._db()
            with conn:
                now = self._clock()
                row = conn.execute("SELECT sent, batch FROM sends WHERE rowid = ?", (ticket,))
                found = row.fetchone()
                if found is None:
                    return
                sent, batch = found
                at = sent + self._floors.delay(bool(batch), now - sent)
                conn.execute(
                    "UPDATE sends SET at = max(at, ?), open = 0 WHERE rowid = ?", (at, ticket)
                )

    def batch_room(self) -> int:
        """Batch requests the realm's minute window still allows now, all processes together."""
        with self._lock:
            conn = self._db()
            (count,) = conn.execute(
                "SELECT COUNT(*) FROM sends WHERE realm = ? AND batch = 1 AND at > ?",
                (self.realm_id, self._clock() - self._minute),
            ).fetchone()
            return max(0, self.limits.batch_requests_per_minute - int(count))

    async def acquire(self, batch: bool = False) -> Any:
        return await acquire_from(self, batch)

    def reset(self) -> None:
        with self._lock:
            conn = self._db()
            with conn:
                conn.execute("DELETE FROM sends WHERE realm = ?", (self.realm_id,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
