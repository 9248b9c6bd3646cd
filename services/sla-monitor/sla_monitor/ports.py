from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.outbox import HandlerOutbox

from .calendar import BusinessCalendar
from .domain import Timer
from .escalation import Notification
from .holiday_data import YearSchedule
from .listing import TimerCursor, TimerFilter

# Given the stored timer (None when there is none): what it becomes and the events that go with it, or None.
Settle = Callable[[Timer | None], "tuple[Timer, Sequence[Envelope]] | None"]
StopOutcome = Literal["stopped", "late", "not_running", "missing"]


class Settled(NamedTuple):
    """What `TimerStore.settle` read (None: no timer), what it wrote (None: nothing), and the events the document it
    read still held (its outbox): events a write left unsent (its publish failed, its process died). The caller
    sends them with its own and clears them in the same clean-up (issue 17)."""

    current: Timer | None
    written: Timer | None
    stored: tuple[Envelope, ...] = ()


# The shared outbox as a JetStream handler uses it (marked=False: opsdesk_shared.outbox).
EventOutbox = HandlerOutbox


class TimerStore(Protocol):
    async def get(self, key: str) -> Timer | None: ...
    async def add(self, timer: Timer, *, events: Sequence[Envelope] = ()) -> bool:
        """Insert unless a timer with this key exists (then False), with `events` in the same write (the outbox)."""
        ...
    async def stop(self, key: str, *, at: datetime) -> bool:
        """Stop a running timer; False if it was not running."""
        ...
    async def stop_if(self, key: str, *, at: datetime, in_time: Callable[[Timer], bool]) -> StopOutcome:
        """Stop the timer if it is running and `in_time` says so, reading and writing it once."""
        ...
    async def pause_if(self, key: str, *, at: datetime) -> Timer | None:
        """Hold the timer if it runs and is not overdue at `at`; the paused timer, or None when nothing changed."""
        ...
    async def replace_early_stop(self, timer: Timer) -> bool:
        """Turn a stop-before-start record into this running timer; False if it changed meanwhile."""
        ...
    async def replace(self, timer: Timer, *, expect: Timer, events: Sequence[Envelope] = ()) -> bool:
        """Write `timer` over the stored one while that still has `expect`'s status, start and stop, with `events`
        in the same write (the outbox); False when it changed meanwhile."""
        ...
    async def settle(self, key: str, decide: Settle) -> Settled:
        """Read the timer once, let `decide` say what it becomes (with the events stored in the same write, the
        outbox) or None, and write that unless the timer changed meanwhile: one read and one write by `_id`.
        Returns what was read, what was written (or None), and the events the read document still held."""
        ...
    async def restart(self, timer: Timer) -> bool:
        """Replace an existing timer with this new running cycle (a repair's next progress update, a new engineer)."""
        ...
    async def due(self, now: datetime, *, limit: int) -> list[Timer]: ...
    async def warnings_due(self, now: datetime, *, limit: int) -> list[Timer]: ...
    async def page(self, query: TimerFilter, *, after: TimerCursor | None, limit: int) -> list[Timer]:
        """Up to `limit` matching clocks in (due_at, key) order, after the cursor's clock."""
        ...
    async def mark_warned(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        """Record the warning if the timer still runs and has not warned; False otherwise."""
        ...
    async def mark_breached(self, timer: Timer, events: Sequence[Envelope]) -> bool:
        """Record the breach if the timer is still running; False when it was stopped meanwhile."""
        ...


class HolderStore(Protocol):
    """Who holds each ticket (from ticket.assigned / ticket.reassigned): a timer about a ticket is an engineer's to
    read only while they hold it."""

    async def hold(self, ticket_id: str, *, engineer_id: str, at: datetime) -> bool:
        """Record the engineer unless a later assignment is stored already (then False: a late, older event)."""
        ...
    async def holder(self, ticket_id: str) -> str | None: ...


class CalendarStore(Protocol):
    """Admin-edited calendar data: uploaded holiday years and calendar definitions."""

    async def schedules(self) -> list[YearSchedule]: ...
    async def save_schedule(self, schedule: YearSchedule) -> None: ...
    async def definitions(self) -> list[BusinessCalendar]: ...
    async def save_definition(self, calendar: BusinessCalendar) -> None: ...


class NotificationStore(Protocol):
    async def add(self, notification: Notification) -> bool:
        """Insert unless one with this id exists (a redelivered breach)."""
        ...
    async def get(self, notification_id: str) -> Notification | None: ...
    async def due(self, now: datetime, *, limit: int) -> list[Notification]: ...
    async def save(self, notification: Notification) -> None: ...
    async def cancel(self, notification_id: str) -> bool:
        """Cancel if still pending; False when it was sent, failed or unknown."""
        ...
    async def listed(self, *, status: str | None, limit: int) -> list[Notification]:
        """The latest notifications (by due time), of one status or all: what an admin checks nothing was lost."""
        ...


class EmailSender(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> None: ...


class WebhookSender(Protocol):
    async def post(self, *, url: str, payload: dict[str, Any]) -> None: ...
