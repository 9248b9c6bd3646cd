"""SLA timers: pure rules for starting, stopping and breaching."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsdesk_shared.contracts import SlaBreachedV1

TimerStatus = Literal["running", "stopped", "breached"]


class Timer(BaseModel):
    model_config = ConfigDict(frozen=True)

    ticket_id: str
    name: str
    status: TimerStatus
    started_at: datetime | None = None
    due_at: datetime | None = None
    stopped_at: datetime | None = None
    breached_at: datetime | None = None
    correlation_id: str | None = None

    @property
    def key(self) -> str:
        return timer_key(self.ticket_id, self.name)


def timer_key(ticket_id: str, name: str) -> str:
    return f"{ticket_id}:{name}"


def start_timer(
    *, ticket_id: str, name: str, started_at: datetime, duration: timedelta, correlation_id: str | None = None
) -> Timer:
    return Timer(
        ticket_id=ticket_id, name=name, status="running", started_at=started_at, due_at=started_at + duration,
        correlation_id=correlation_id,
    )


def stopped_before_start(*, ticket_id: str, name: str, at: datetime) -> Timer:
    """The stop event can overtake the start event on the bus; remember it so the late start changes nothing."""
    return Timer(ticket_id=ticket_id, name=name, status="stopped", stopped_at=at)


def stops_in_time(timer: Timer, *, at: datetime) -> bool:
    """Only a stop before the due time stops the clock; a late one leaves it running for the sweep to breach."""
    return timer.status == "running" and (timer.due_at is None or at < timer.due_at)


def late_start_after_early_stop(existing: Timer, started: Timer) -> bool:
    """A stop that overtook its start on the bus, but came after the deadline the start now reveals."""
    return (
        existing.status == "stopped"
        and existing.started_at is None
        and existing.stopped_at is not None
        and started.due_at is not None
        and existing.stopped_at >= started.due_at
    )


def breach(timer: Timer, *, now: datetime) -> tuple[Timer, SlaBreachedV1] | None:
    """The breached timer and its event, or None if it has not run out or is not running."""
    if timer.status != "running" or timer.due_at is None or timer.started_at is None or now < timer.due_at:
        return None
    breached = timer.model_copy(update={"status": "breached", "breached_at": now})
    event = SlaBreachedV1(
        ticket_id=timer.ticket_id, timer=timer.name, started_at=timer.started_at, due_at=timer.due_at, breached_at=now
    )
    return breached, event
