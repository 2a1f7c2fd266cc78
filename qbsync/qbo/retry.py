"""How long the client keeps trying: capped exponential backoff with jitter, and a higher start
after a throttle. Which failures are retried at all is the client's rule (client.py)."""

from __future__ import annotations

import random
from dataclasses import dataclass


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
