"""In-memory adapters for unit tests only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.mongo import check_document
from opsdesk_shared.outbox import MemoryOutbox as MemoryOutbox
from opsdesk_shared.outbox import outbox_fields

from .. import domain, listing
from ..calendar import BusinessCalendar
from ..domain import Timer
from ..escalation import Notification
from ..holiday_data import YearSchedule
from ..listing import TimerCursor, TimerFilter
from ..ports import Settle, Settled, StopOutcome

M = TypeVar("M", bound=BaseModel)


def _checked(model: M, events: Sequence[Envelope] = (), *, mode: str = "python") -> M:
    """The model, once its document (as the Mongo adapter writes it) passes what the real database would refuse."""
    check_document({**model.model_dump(mode=mode), **outbox_fields(events)})
    return model


def _version(timer: Timer) -> tuple[object, ...]:
    """What a conditional replace compares, as the Mongo adapter does."""
    return timer.status, timer.started_at, timer.stopped_at


class MemoryTimerStore:
    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {}

    async def get(self, key: str) -> Timer | None:
        return self.timers.get(key)

    async def add(self, timer: Timer, *, events: Sequence[Envelope] = ()) -> bool:
        if timer.key in self.timers:
            return False
        self.timers[timer.key] = _checked(timer, events)
        return True

    async def stop(self, key: str, *, at: datetime) -> bool:
        timer = self.timers.get(key)
        if timer is None or timer.status != "running":
            return False
        self.timers[key] = _checked(timer.model_copy(update={"status": "stopped", "stopped_at": at}))
        return True

    async def stop_if(self, key: str, *, at: datetime, in_time: Callable[[Timer], bool]) -> StopOutcome:
        timer = self.timers.get(key)
        if timer is None:
            return "missing"
        if timer.status not in ("running", "paused"):
            return "not_running"
        if not in_time(timer):
            return "late"
        self.timers[key] = _checked(timer.model_copy(update={"status": "stopped", "stopped_at": at, "paused_at": None}))
        return "stopped"

    async def pause_if(self, key: str, *, at: datetime) -> Timer | None:
        timer = self.timers.get(key)
        paused = domain.pause(timer, at=at) if timer is not None else None
        if paused is not None:
            self.timers[key] = _checked(paused)
        return paused

    async def replace_early_stop(self, timer: Timer) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "stopped" or current.started_at is not None:
            return False
        self.timers[timer.key] = _checked(timer)
        return True

    async def replace(self, timer: Timer, *, expect: Timer, events: Sequence[Envelope] = ()) -> bool:
        current = self.timers.get(timer.key)
        if current is None or _version(current) != _version(expect):
            return False
        self.timers[timer.key] = _checked(timer, events)
        return True

    async def settle(self, key: str, decide: Settle) -> Settled:
        current = self.timers.get(key)
        decision = decide(current)
        if current is None or decision is None:
            return Settled(current, None)
        timer, events = decision
        self.timers[key] = _checked(timer, events)
        return Settled(current, timer)

    async def restart(self, timer: Timer) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status not in ("running", "paused", "breached", "stopped", "cancelled"):
            return False
        self.timers[timer.key] = _checked(timer)
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

    async def page(self, query: TimerFilter, *, after: TimerCursor | None, limit: int) -> list[Timer]:
        found = [t for t in self.timers.values() if listing.matches(query, t) and listing.after(after, t)]
        return sorted(found, key=lambda t: (t.due_at, t.key))[:limit]

    async def mark_warned(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "running" or current.warned_at is not None:
            return False
        self.timers[timer.key] = _checked(timer, events)
        return True

    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        current = self.timers.get(timer.key)
        if current is None or current.status != "running":
            return False
        self.timers[timer.key] = _checked(timer, events)
        return True


class MemoryHolderStore:
    def __init__(self) -> None:
        self.held: dict[str, tuple[str, datetime]] = {}

    async def hold(self, ticket_id: str, *, engineer_id: str, at: datetime) -> bool:
        current = self.held.get(ticket_id)
        if current is not None and current[1] > at:
            return False
        check_document({"_id": ticket_id, "engineer_id": engineer_id, "at": at})
        self.held[ticket_id] = (engineer_id, at)
        return True

    async def holder(self, ticket_id: str) -> str | None:
        current = self.held.get(ticket_id)
        return current[0] if current else None


class MemoryCalendarStore:
    def __init__(self) -> None:
        self.years: dict[int, YearSchedule] = {}
        self.calendars: dict[str, BusinessCalendar] = {}

    async def schedules(self) -> list[YearSchedule]:
        return list(self.years.values())

    async def save_schedule(self, schedule: YearSchedule) -> None:
        self.years[schedule.year] = _checked(schedule, mode="json")

    async def definitions(self) -> list[BusinessCalendar]:
        return list(self.calendars.values())

    async def save_definition(self, calendar: BusinessCalendar) -> None:
        self.calendars[calendar.name] = _checked(calendar, mode="json")


class MemoryNotificationStore:
    def __init__(self) -> None:
        self.by_id: dict[str, Notification] = {}

    async def add(self, notification: Notification) -> bool:
        if notification.id in self.by_id:
            return False
        self.by_id[notification.id] = _checked(notification)
        return True

    async def get(self, notification_id: str) -> Notification | None:
        return self.by_id.get(notification_id)

    async def due(self, now: datetime, *, limit: int) -> list[Notification]:
        pending = [n for n in self.by_id.values() if n.status == "pending" and n.due_at <= now]
        return sorted(pending, key=lambda n: n.due_at)[:limit]

    async def save(self, notification: Notification) -> None:
        self.by_id[notification.id] = _checked(notification)

    async def listed(self, *, status: str | None, limit: int) -> list[Notification]:
        chosen = [n for n in self.by_id.values() if status is None or n.status == status]
        return sorted(chosen, key=lambda n: (n.due_at, n.id), reverse=True)[:limit]

    async def cancel(self, notification_id: str) -> bool:
        n = self.by_id.get(notification_id)
        if n is None or n.status != "pending":
            return False
        self.by_id[notification_id] = n.model_copy(update={"status": "cancelled"})
        return True


class RecordingSender:
    """Email and webhook sender for tests: records what was sent; fails the first `fail` times."""

    def __init__(self, *, fail: int = 0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail = fail

    def _attempt(self, target: str, what: str) -> None:
        if self.fail > 0:
            self.fail -= 1
            raise ConnectionError("channel down")
        self.sent.append((target, what))

    async def send(self, *, to: str, subject: str, body: str) -> None:
        self._attempt(to, subject)

    async def post(self, *, url: str, payload: dict[str, Any]) -> None:
        self._attempt(url, str(payload.get("event")))
