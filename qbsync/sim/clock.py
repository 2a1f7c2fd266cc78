"""The simulator's clock: wall time plus a movable offset, rendered as QBO does.

QBO renders times in the company's zone. The simulated companies live in US Pacific time with
daylight saving: -07:00 from the second Sunday of March to the first Sunday of November, -08:00
otherwise. "Today" is the Pacific date of the (movable) clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

COMPANY_TZ = ZoneInfo("America/Los_Angeles")


class Clock:
    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds

    def set_offset(self, offset: float) -> None:
        with self._lock:
            self._offset = offset

    def timestamp(self) -> float:
        return time.time() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=COMPANY_TZ)

    def today(self) -> date:
        return self.now().date()


def iso_seconds(dt: datetime) -> str:
    """Entity times: second precision with offset, e.g. 2026-11-20T10:33:39-08:00 (winter) or
    2026-07-01T10:33:39-07:00 (summer)."""
    return dt.astimezone(COMPANY_TZ).replace(microsecond=0).isoformat()


def iso_millis(dt: datetime) -> str:
    """The `time` field of a response: milliseconds with offset."""
    return dt.astimezone(COMPANY_TZ).isoformat(timespec="milliseconds")


def parse_datetime(text: str) -> datetime:
    """Parse an ISO date or date-time; naive values are taken in the company's zone."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=COMPANY_TZ)
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=COMPANY_TZ)
    return dt


def utc_now() -> datetime:
    return datetime.now(UTC)
