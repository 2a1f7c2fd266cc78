"""Pacing below Intuit's per-realm limits, so that the client waits instead of provoking a 429.

Two lanes share a realm's budget: batch requests (at most `batch_requests_per_minute`) and
single requests (the rest of `requests_per_minute`). While batches are in use (one sent in the
last minute), single requests leave the batch lane its share of the minute (500 - 40 = 460) and
one slot of each second, so that an exporter using both lanes keeps both at their ceiling;
with no batch in the window a single request may use the whole budget.

The windows are slightly wider than Intuit's, because the server counts arrival times and a
request can arrive a little sooner after its predecessor than it was sent.

`Pacer` keeps its windows in memory (one process; tests with a fake clock). `pacer_for` hands
out the realm's pacer shared by every qbsync process on the machine (qbsync.qbo.budget).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from qbsync.qbo.budget import (
    CONCURRENCY_POLL,
    LatencyFloor,
    RealmPacer,
    SharedPacer,
    acquire_from,
    default_budget_file,
)
from qbsync.qbo.limits import MINUTE_MARGIN, SECOND_MARGIN, Limits, lane_delay

__all__ = ["MINUTE_MARGIN", "SECOND_MARGIN", "Pacer", "RealmPacer", "pacer_for", "reset_pacers"]


class Pacer:
    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        second_window: float = 1.0 + SECOND_MARGIN,
        minute_window: float = 60.0 + MINUTE_MARGIN,
    ) -> None:
        self.limits = limits
        self._clock = clock
        self._second = second_window
        self._minute = minute_window
        self._singles: deque[float] = deque()
        self._batches: deque[float] = deque()
        self._lock = threading.Lock()  # plain lock: pacers are shared across event loops
        self._open = 0  # requests drawn and not yet answered
        self._floors = LatencyFloor()
        self.waited = 0.0  # total seconds spent waiting, for diagnostics and tests

    def _expire(self, now: float) -> None:
        horizon = now - self._minute
        for window in (self._singles, self._batches):
            while window and window[0] <= horizon:
                window.popleft()

    def try_acquire(self, batch: bool = False) -> float:
        """Record a send and return 0 when it fits; else the seconds to wait before trying again."""
        return self.draw(batch, in_flight=False)[0]

    def draw(
        self, batch: bool = False, *, in_flight: bool = True
    ) -> tuple[float, tuple[bool, float] | None]:
        """As try_acquire, the send counted in flight until `settle(ticket)`; its lane and time
        as the ticket (None when it must wait)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            delay = lane_delay(
                self.limits,
                list(self._singles),
                list(self._batches),
                now,
                batch,
                second=self._second,
                minute=self._minute,
            )
            if in_flight and delay <= 0 and self._open >= self.limits.concurrent_requests:
                delay = CONCURRENCY_POLL
            if delay <= 0:
                (self._batches if batch else self._singles).append(now)
                self._open += int(in_flight)
                return delay, (batch, now)
            return delay, None

    def settle(self, ticket: tuple[bool, float] | None) -> None:
        """The request was answered: it counts from when it may have reached QuickBooks
        (LatencyFloor)."""
        if ticket is None:
            return
        batch, sent = ticket
        window = self._batches if batch else self._singles
        with self._lock:
            self._open = max(0, self._open - 1)
            if sent in window:
                window.remove(sent)
                at = sent + self._floors.delay(batch, self._clock() - sent)
                # Kept in order: the windows are read as sorted lists.
                index = next((i for i, t in enumerate(window) if t > at), len(window))
                window.insert(index, at)

    def batch_room(self) -> int:
        """Batch requests the minute window still allows now."""
        with self._lock:
            self._expire(self._clock())
            return max(0, self.limits.batch_requests_per_minute - len(self._batches))

    async def acquire(self, batch: bool = False) -> tuple[bool, float] | None:
        ticket: tuple[bool, float] | None = await acquire_from(self, batch)
        return ticket

    def reset(self) -> None:
        with self._lock:
            self._singles.clear()
            self._batches.clear()
            self._open = 0


_registry: dict[tuple[str, str], RealmPacer] = {}
_registry_lock = threading.Lock()


def pacer_for(realm_id: str, limits: Limits, budget_file: Path | None = None) -> RealmPacer:
    """The realm's pacer, one object per process and file, its windows shared with every
    process on the machine through `budget_file` (default: the state directory's)."""
    path = budget_file or default_budget_file()
    with _registry_lock:
        pacer = _registry.get((realm_id, str(path)))
        if pacer is None:
            pacer = _registry[(realm_id, str(path))] = SharedPacer(realm_id, limits, path)
        else:
            pacer.limits = limits
        return pacer


def reset_pacers() -> None:
    with _registry_lock:
        _registry.clear()
