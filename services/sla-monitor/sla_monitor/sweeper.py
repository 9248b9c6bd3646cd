"""Runs the warning and breach sweeps on an interval. The timers live in the database, so a restart loses nothing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from opsdesk_shared.periodic import Periodic

from . import service
from .ports import EventOutbox, TimerStore


class BreachSweeper:
    """Sweeps warnings and breaches every interval; now and then calls `reload` (the due-queue horizon roll), so
    timers another replica started are watched here too."""

    def __init__(
        self,
        *,
        store: TimerStore,
        outbox: EventOutbox,
        interval_s: float,
        reload: Callable[[], Awaitable[None]] | None = None,
        reload_interval_s: float = 60.0,
        reload_first: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._reload = reload
        self._reload_interval_s = reload_interval_s
        self._clock = clock
        # reload_first: the horizon was loaded only partly at start-up; its first roll is the first step's.
        self._next_reload = time.monotonic() + (0.0 if reload_first else reload_interval_s)
        self._periodic = Periodic(self.step, interval_s=interval_s, name="breach-sweeper")

    async def step(self) -> None:
        if self._reload is not None and time.monotonic() >= self._next_reload:
            await self._reload()
            self._next_reload = time.monotonic() + self._reload_interval_s
        now = self._clock()
        # Counted per timer where each is recorded (service._sweep).
        await service.sweep_warnings(now=now, store=self._store, outbox=self._outbox)
        await service.sweep_breaches(now=now, store=self._store, outbox=self._outbox)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
