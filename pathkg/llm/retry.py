"""Retry policy for LLM requests: exponential backoff with jitter, honouring `Retry-After`."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Retries on 429, 5xx, timeouts and connection errors.

    Attempt n (1-based) that fails waits `min(max_delay_s, base_delay_s * 2**(n-1))` scaled by a
    random factor in [1 - jitter, 1 + jitter]; a `Retry-After` (or `retry-after-ms`) header from the
    server is a floor on that wait (capped at `max_retry_after_s`).
    """

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 20.0
    jitter: float = 0.25
    max_retry_after_s: float = 120.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        rng = rng or random
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return max(0.0, delay * (1 + rng.uniform(-self.jitter, self.jitter)))

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random | None = None) -> float:
        backoff = self.backoff(attempt, rng)
        if retry_after is None:
            return backoff
        # Never earlier than asked; a little jitter so that many clients told the same do not stampede.
        floor = min(retry_after, self.max_retry_after_s)
        return max(floor, backoff) + (rng or random).uniform(0, 0.05 * floor)


def retry_after_seconds(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked us to wait: `retry-after-ms`, `Retry-After: <seconds>` or an HTTP date."""
    if not headers:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None
