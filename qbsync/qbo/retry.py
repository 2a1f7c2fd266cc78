"""How long the client keeps trying: capped exponential backoff with jitter, and a higher start
after a throttle. Which failures are retried at all is the client's rule (client.py).

A process that is stopping (the daemon on SIGTERM) calls stop_retries: a wait before a retry
ends at once, and so does any later one, with RetriesStopped. Nothing is in flight during such
a wait, so nothing is lost by it; the request is not tried again."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass


class RetriesStopped(asyncio.CancelledError):
    """The process is stopping: a wait before retrying a request was cut short. A cancellation,
    not a failure: it passes the sync's error handling, and the daemon records the cycle as
    cancelled."""


_stopping = False
_waits: set[asyncio.Future[None]] = set()


def stop_retries() -> None:
    """End every wait before a retry now, and each later one as it starts (call it from the
    event loop's thread, as a loop's signal handler runs)."""
    global _stopping
    _stopping = True
    for wait in list(_waits):
        if not wait.done():
            wait.set_result(None)


def resume_retries() -> None:
    """Retry again as usual (a daemon starting, or done stopping)."""
    global _stopping
    _stopping = False


async def pause(seconds: float) -> None:
    """Wait `seconds` before a retry; RetriesStopped when the process is stopping."""
    if _stopping:
        raise RetriesStopped("stopping: not retrying")
    loop = asyncio.get_running_loop()
    wait: asyncio.Future[None] = loop.create_future()

    def over() -> None:
        if not wait.done():
            wait.set_result(None)

    timer = loop.call_later(seconds, over)
    _waits.add(wait)
    try:
        await wait
    finally:
        timer.cancel()
        _waits.discard(wait)
    if _stopping:
        raise RetriesStopped("stopping: not retrying")


@dataclass
class RetryPolicy:
    attempts: int = 5  # tries in all, for retryable failures
    base_delay: float = 1.0
    max_delay: float = 60.0
    # Intuit asks for a minute's wait after a throttle: throttled retries start higher, so
    # that the attempts together outlast the one-minute window.
    throttle_base_delay: float = 8.0

    def delay(self, attempt: int, *, throttled: bool = False) -> float:
        """Exponential backoff with jitter (half to full of the capped delay)."""
        base = self.throttle_base_delay if throttled else self.base_delay
        capped = min(self.max_delay, base * (2**attempt))
        return capped * random.uniform(0.5, 1.0)
