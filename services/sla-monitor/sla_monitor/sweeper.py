"""Runs the breach sweep on an interval. The timers live in the database, so a restart loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from . import metrics, service
from .ports import EventOutbox, TimerStore

log = logging.getLogger(__name__)


class BreachSweeper:
    """Sweeps warnings and breaches every interval; now and then reloads the running timers from the database,
    so timers another replica started (and still holds only in its own memory) are watched here too."""

    def __init__(
        self,
        *,
        store: TimerStore,
        outbox: EventOutbox,
        interval_s: float,
        reload: Callable[[], Awaitable[None]] | None = None,
        reload_interval_s: float = 60.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._interval_s = interval_s
        self._reload = reload
        self._reload_interval_s = reload_interval_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        next_reload = time.monotonic() + self._reload_interval_s
        while True:
            try:
                if self._reload is not None and time.monotonic() >= next_reload:
                    await self._reload()
                    next_reload = time.monotonic() + self._reload_interval_s
                now = self._clock()
                warned = await service.sweep_warnings(now=now, store=self._store, outbox=self._outbox)
                breached = await service.sweep_breaches(now=now, store=self._store, outbox=self._outbox)
                if warned:
                    metrics.warnings.inc(warned)
                if breached:
                    metrics.breaches.inc(breached)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("breach sweep failed")
            await asyncio.sleep(self._interval_s)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="breach-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
