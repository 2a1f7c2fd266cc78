"""Intuit's per-realm limits and the API minor version, as the client and its pacer use them,
and the rule of the two lanes (batch and single requests) that every pacer applies.

Plain values: whoever opens a client (qbsync.companies, from config.yaml's `qbo` section) passes
them in, so the client reads no configuration of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int = 500
    requests_per_second: int = 10
    batch_requests_per_minute: int = 40
    batch_items: int = 30
    minor_version: int = 75
    concurrent_requests: int = 10  # in flight at once, every process of the machine together


SECOND_MARGIN = 0.15  # free: at 500/min the minute window binds long before this one
MINUTE_MARGIN = 0.5


def _wait_for(times: Sequence[float], cap: int, window: float, now: float) -> float:
    """Seconds until fewer than `cap` of `times` (ascending) lie within `window` of now."""
    if cap <= 0:
        return window
    if len(times) < cap:
        return 0.0
    return times[-cap] + window - now


def lane_delay(
    limits: Limits,
    singles: Sequence[float],
    batches: Sequence[float],
    now: float,
    batch: bool,
    *,
    second: float,
    minute: float,
) -> float:
    """Seconds until one more request of its lane fits every window (0 when it fits now).

    `singles` and `batches` are the send times (ascending) within the minute window."""
    lim = limits
    sends = sorted([*singles, *batches]) if singles and batches else (singles or batches)
    waits = [
        0.0,
        _wait_for(sends, lim.requests_per_minute, minute, now),
    ]
    recent = [t for t in sends if t > now - second]
    if batch:
        waits.append(_wait_for(recent, lim.requests_per_second, second, now))
        waits.append(_wait_for(batches, lim.batch_requests_per_minute, minute, now))
        if len(recent) > sum(1 for t in batches if t > now - second):
            # Singles are flowing: one batch a second (52 a minute, more than its 40) leaves
            # them the rest of each second, instead of a burst of batches stopping them.
            waits.append(_wait_for([t for t in batches if t > now - second], 1, second, now))
    elif batches:
        # The batch lane is in use: leave it its share of the minute and a slot of the second.
        single_cap = max(1, lim.requests_per_minute - lim.batch_requests_per_minute)
        waits.append(_wait_for(singles, single_cap, minute, now))
        # One batch a second at most while singles flow (below): the singles keep the rest.
        per_second = lim.requests_per_second - 1 if lim.requests_per_second > 1 else 1
        waits.append(_wait_for([t for t in singles if t > now - second], per_second, second, now))
        waits.append(_wait_for(recent, lim.requests_per_second, second, now))
    else:
        waits.append(_wait_for(recent, lim.requests_per_second, second, now))
    return max(waits)
