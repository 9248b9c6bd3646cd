"""Keeps the in-memory due queues filled from the slot index, from where the last run swept up to a horizon ahead.

Start-up reads the slots since the stored watermark (by `_id`, a few per minute of downtime) instead of every
timer; with no watermark (a first start, or a database written before slots existed) or after a very long
outage it falls back to one scan. Each roll reads the slots that came within the horizon, re-reads the last few
minutes (a timer popped by a sweep that then failed is picked up again; one already handled is skipped by its
status) and moves the watermark.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from .adapters.slots import SLOT, TimerSlots
from .due_queue import ScheduledTimerStore

ScheduleRow = tuple[str, datetime | None, datetime | None]


class HorizonLoader:
    def __init__(
        self,
        *,
        slots: TimerSlots,
        store: ScheduledTimerStore,
        full_scan: Callable[[], Awaitable[list[ScheduleRow]]],
        horizon: timedelta = timedelta(minutes=15),
        first_horizon: timedelta = timedelta(minutes=2),
        recheck: timedelta = timedelta(minutes=5),
        max_lookback: timedelta = timedelta(days=7),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._slots = slots
        self._store = store
        self._full_scan = full_scan
        self._horizon = horizon
        self._first_horizon = min(first_horizon, horizon)
        self._recheck = recheck
        self._max_lookback = max_lookback
        self._clock = clock
        self.loaded_until: datetime | None = None
        self.scanned = False
        self.slots_read = 0

    async def _load(self, start: datetime, end: datetime) -> None:
        self.slots_read += max(0, int((end - start) / SLOT) + 1)
        self._store.load_schedule(await self._slots.read(start, end))

    async def start_up(self) -> None:
        """Loads what is due within `first_horizon` (readiness waits for this); the first roll, which the sweeper
        runs right after start (`roll_first`), loads the rest of the horizon. Reading the whole 15 minutes before
        answering ready took 41-47 s after a crash on a loaded machine (issue 14 follow-up)."""
        now = self._clock()
        mark = await self._slots.watermark()
        if mark is None or now - mark > self._max_lookback:
            self._store.load_schedule(await self._full_scan())
            self.scanned = True
        else:
            # The watermark is already `recheck` before the last roll's time: reading from it re-reads those minutes.
            await self._load(mark, now + self._first_horizon)
        self.loaded_until = now + (self._horizon if self.scanned else self._first_horizon)
        await self._slots.set_watermark(now - self._recheck)

    @property
    def roll_first(self) -> bool:
        """The start-up loaded less than the horizon: roll at the first sweep."""
        return not self.scanned

    async def roll(self) -> None:
        now = self._clock()
        start = self.loaded_until or now
        end = now + self._horizon
        await self._load(min(start, now - self._recheck), end)
        self.loaded_until = max(start, end)
        await self._slots.set_watermark(now - self._recheck)
