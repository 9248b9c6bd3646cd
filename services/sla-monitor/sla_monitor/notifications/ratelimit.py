"""A token bucket per target (robot, gateway, mail server): robots take about 20 messages a minute.

Pure and clock-injected: `take(now)` answers whether a message may go now; `next_at(now)` says when the next may.
A notification without a token is not attempted and not dropped: its record waits (due_at moved to `next_at`).
The buckets live in the delivering process (one notifier per replica; with several replicas each keeps its own
buckets, so set per_minute to the robot's limit divided by the replicas).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

EPSILON = 1e-6


@dataclass
class TokenBucket:
    per_minute: float
    burst: int
    tokens: float = field(init=False)
    updated: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def _refill(self, now: datetime) -> None:
        if self.updated is not None and now > self.updated:
            self.tokens = min(float(self.burst), self.tokens + (now - self.updated).total_seconds() * self.per_minute / 60)
        if self.updated is None or now > self.updated:
            self.updated = now

    def take(self, now: datetime) -> bool:
        self._refill(now)
        if self.tokens >= 1 - EPSILON:  # datetimes keep microseconds: a token due "now" may read 0.9999999
            self.tokens = max(0.0, self.tokens - 1)
            return True
        return False

    def next_at(self, now: datetime) -> datetime:
        """The first moment a token is free (now if one is)."""
        self._refill(now)
        missing = max(0.0, 1 - self.tokens)
        return now + timedelta(microseconds=math.ceil(missing * 60_000_000 / self.per_minute))


class Buckets:
    """One bucket per target, created on first use with that target's rate."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}

    def get(self, target: str, *, per_minute: float, burst: int) -> TokenBucket:
        bucket = self._buckets.get(target)
        if bucket is None or bucket.per_minute != per_minute or bucket.burst != burst:
            bucket = self._buckets[target] = TokenBucket(per_minute=per_minute, burst=burst)
        return bucket
