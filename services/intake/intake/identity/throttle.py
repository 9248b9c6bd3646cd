"""Sign-in throttling that slows guessers down without letting anyone lock a user out.

Failures are counted per (account, source address) and per source address across accounts. Each key gets a few
free failures, then every further attempt waits a delay that doubles with each failure up to a cap; a success from
that address clears its (account, address) count. There is no hard lock: an outsider who fails a thousand times for
the administrator delays only themselves (and their own address), and the administrator signing in from another
address is not slowed at all. A key forgets its failures after a quiet `forget_s`.

The state here is per process (a restart or another replica starts counting afresh; an attacker spreading guesses
over replicas gets `replicas` times the attempts). It sits behind the `Throttle` port so a shared store can replace it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

MAX_KEYS = 100_000


class Throttle(Protocol):
    async def retry_after(self, *, account: str, source: str) -> float:
        """Seconds before this account may be tried again from this address; 0 when it may be tried now."""
        ...

    async def failed(self, *, account: str, source: str) -> None: ...

    async def succeeded(self, *, account: str, source: str) -> None: ...


@dataclass
class _Count:
    failures: int
    last: float


class Backoff:
    """Failure counts per key with a doubling delay after `free` failures, forgotten after `forget_s` quiet."""

    def __init__(self, *, free: int, base_s: float, cap_s: float, forget_s: float, clock: Callable[[], float]) -> None:
        self.free = free
        self.base_s = base_s
        self.cap_s = cap_s
        self.forget_s = forget_s
        self._clock = clock
        # Oldest-touched first, so a flood of new keys evicts the stalest counts, not everyone's at once.
        self._counts: OrderedDict[str, _Count] = OrderedDict()

    def delay(self, failures: int) -> float:
        """How long to wait after the n-th failure: nothing for the free ones, then base, 2 base, 4 base ... cap."""
        if failures < self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(failures - self.free, 32))

    def retry_after(self, key: str) -> float:
        count = self._current(key)
        if count is None:
            return 0.0
        return max(0.0, count.last + self.delay(count.failures) - self._clock())

    def failed(self, key: str) -> None:
        count = self._current(key)
        now = self._clock()
        if count is None:
            count = _Count(failures=0, last=now)
        count.failures += 1
        count.last = now
        self._counts[key] = count
        self._counts.move_to_end(key)
        while len(self._counts) > MAX_KEYS:
            self._counts.popitem(last=False)

    def forget(self, key: str) -> None:
        self._counts.pop(key, None)

    def _current(self, key: str) -> _Count | None:
        count = self._counts.get(key)
        if count is not None and self._clock() - count.last > self.forget_s:
            del self._counts[key]
            return None
        return count


class LoginThrottle:
    """The in-process `Throttle`: per (account, address) and per address, each with its own free failures.

    Defaults: 5 free failures per account and address, then 1 s, 2 s, 4 s ... up to 15 minutes; 30 free failures per
    address across accounts (an office behind one NAT mistypes too), then the same doubling. Counts are forgotten
    after an hour without failures.
    """

    def __init__(
        self,
        *,
        free_per_account: int = 5,
        free_per_source: int = 30,
        base_s: float = 1.0,
        cap_s: float = 900.0,
        forget_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.pairs = Backoff(free=free_per_account, base_s=base_s, cap_s=cap_s, forget_s=forget_s, clock=clock)
        self.sources = Backoff(free=free_per_source, base_s=base_s, cap_s=cap_s, forget_s=forget_s, clock=clock)

    @staticmethod
    def _pair(account: str, source: str) -> str:
        return f"{account}\x00{source}"

    async def retry_after(self, *, account: str, source: str) -> float:
        return max(self.pairs.retry_after(self._pair(account, source)), self.sources.retry_after(source))

    async def failed(self, *, account: str, source: str) -> None:
        self.pairs.failed(self._pair(account, source))
        self.sources.failed(source)

    async def succeeded(self, *, account: str, source: str) -> None:
        # Only the pair is cleared: one account an attacker knows must not reset the address's count for the rest.
        self.pairs.forget(self._pair(account, source))
