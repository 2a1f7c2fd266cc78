"""Pacing below Intuit's per-realm limits, so that the client waits instead of provoking a 429.

One Pacer per realm in the process (a registry), shared by every client and event loop: sliding
windows of send times for requests per second, per minute, and batch requests per minute. The
windows are slightly wider than Intuit's, because the server counts arrival times and a request
can arrive a little sooner after its predecessor than it was sent.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

from qbsync.qbo.limits import Limits

SECOND_MARGIN = 0.15  # free: at 500/min the minute window binds long before this one
MINUTE_MARGIN = 0.5


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
        self._sends: deque[float] = deque()
        self._batches: deque[float] = deque()
        self._lock = threading.Lock()  # plain lock: pacers are shared across event loops
        self.waited = 0.0  # total seconds spent waiting, for diagnostics and tests

    def _delay(self, now: float, batch: bool) -> float:
        """Seconds until one more request fits every window (0 when it fits now)."""
        horizon = now - self._minute
        while self._sends and self._sends[0] <= horizon:
            self._sends.popleft()
        while self._batches and self._batches[0] <= horizon:
            self._batches.popleft()
        lim = self.limits
        waits = [0.0]
        if len(self._sends) >= lim.requests_per_minute:
            waits.append(self._sends[-lim.requests_per_minute] + self._minute - now)
        if len(self._sends) >= lim.requests_per_second:
            waits.append(self._sends[-lim.requests_per_second] + self._second - now)
        if batch and len(self._batches) >= lim.batch_requests_per_minute:
            waits.append(self._batches[-lim.batch_requests_per_minute] + self._minute - now)
        return max(waits)

    def try_acquire(self, batch: bool = False) -> float:
        """Record a send and return 0 when it fits; else the seconds to wait before trying again."""
        with self._lock:
            now = self._clock()
            delay = self._delay(now, batch)
            if delay <= 0:
                self._sends.append(now)
                if batch:
                    self._batches.append(now)
            return delay

    async def acquire(self, batch: bool = False) -> None:
        while True:
            delay = self.try_acquire(batch)
            if delay <= 0:
                return
            self.waited += delay
            await asyncio.sleep(delay)

    def reset(self) -> None:
        with self._lock:
            self._sends.clear()
            self._batches.clear()


_registry: dict[str, Pacer] = {}
_registry_lock = threading.Lock()


def pacer_for(realm_id: str, limits: Limits) -> Pacer:
    """The process-wide pacer of a realm (limits updated when config changed them)."""
    with _registry_lock:
        pacer = _registry.get(realm_id)
        if pacer is None:
            pacer = _registry[realm_id] = Pacer(limits)
        else:
            pacer.limits = limits
        return pacer


def reset_pacers() -> None:
    with _registry_lock:
        _registry.clear()
