"""In-memory adapters for unit tests only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox

from ..calendar import BusinessCalendar
from ..domain import Timer
from ..holiday_data import YearSchedule


class MemoryTimerStore:
    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}

    async def get(self, key: str) -> Timer | None:
        return self.timers.get(key)

    async def add(self, timer: Timer) -> bool:
        if timer.key in self.timers:
            return False
        self.timers[timer.key] = timer
        return True

    async def stop(self, key: str, *, at: datetime) -> bool:
        timer = self.timers.get(key)
        if timer is None or timer.status != "running":
            return False
        self.timers[key] = timer.model_copy(update={"status": "stopped", "stopped_at": at})
        return True

    async def replace_early_stop(self, timer: Timer) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "stopped" or current.started_at is not None:
            return False
        self.timers[timer.key] = timer
        return True

    async def due(self, now: datetime, *, limit: int) -> list[Timer]:
        running = [t for t in self.timers.values() if t.status == "running" and t.due_at is not None and t.due_at <= now]
        return sorted(running, key=lambda t: t.due_at or now)[:limit]

    async def warnings_due(self, now: datetime, *, limit: int) -> list[Timer]:
        waiting = [
            t for t in self.timers.values()
            if t.status == "running" and t.warned_at is None and t.warning_at is not None and t.warning_at <= now
        ]
        return sorted(waiting, key=lambda t: t.warning_at or now)[:limit]

    async def mark_warned(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "running" or current.warned_at is not None:
            return False
        self.timers[timer.key] = timer
        return True

    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "running":
            return False
        self.timers[timer.key] = timer
        return True


class MemoryCalendarStore:
    def __init__(self) -> None:
        self.years: dict[int, YearSchedule] = {}
        self.calendars: dict[str, BusinessCalendar] = {}

    async def schedules(self) -> list[YearSchedule]:
        return list(self.years.values())

    async def save_schedule(self, schedule: YearSchedule) -> None:
        self.years[schedule.year] = schedule

    async def definitions(self) -> list[BusinessCalendar]:
        return list(self.calendars.values())

    async def save_definition(self, calendar: BusinessCalendar) -> None:
        self.calendars[calendar.name] = calendar
