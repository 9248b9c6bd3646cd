"""SLA events, produced by the SLA monitor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData


class SlaBreachedV1(EventData):
    """A timer ran out before its stop event arrived."""

    event_type: ClassVar[str] = subjects.SLA_BREACHED
    event_version: ClassVar[int] = 1

    ticket_id: str
    timer: str = Field(description="Which commitment was missed, e.g. response")
    started_at: datetime
    due_at: datetime
    breached_at: datetime
    policy: str | None = Field(default=None, description="Policy the timer ran under, e.g. response/office-hours/60")
    calendar: str | None = Field(default=None, description="Business calendar the due time was computed in")
    approximate: bool = Field(default=False, description="Due time computed for a year without holiday data")
    repair_id: str | None = Field(default=None, description="Set for repair timers; ticket_id is then the repair's ticket or empty")


class SlaWarningV1(EventData):
    """A timer has used its warning share (80% by default) of the allowed business time."""

    event_type: ClassVar[str] = subjects.SLA_WARNING
    event_version: ClassVar[int] = 1

    ticket_id: str
    timer: str
    started_at: datetime
    warning_at: datetime
    due_at: datetime
    policy: str | None = None
    calendar: str | None = None
    approximate: bool = False
    repair_id: str | None = None


class SlaTimerStartedV1(EventData):
    """A clock cycle started: the SLA monitor decided this commitment now runs (one rule, one owner).

    Published once per cycle, when the monitor stores it (a ticket's response clock at ticket.created, its dispatch
    clock there or at the agency's authorization, confirmation at an assignment, the agency's authorization clock on
    emergency work...), so consumers count clocks running before any warning, breach or verdict speaks of them. The
    event id derives from the cycle (timer key and start), so a redelivered start announces nothing new.
    """

    event_type: ClassVar[str] = subjects.SLA_TIMER_STARTED
    event_version: ClassVar[int] = 1

    ticket_id: str = Field(description="The ticket; for a repair timer the repair's ticket, or empty when it has none")
    repair_id: str | None = Field(default=None, description="Set for repair timers (repair_progress, repair_return)")
    timer: str = Field(description="Which clock, e.g. response, dispatch, confirmation, authorization, repair_progress")
    started_at: datetime = Field(description="When the clock counts from (the start event's time, not when processed)")
    due_at: datetime | None = Field(description="Due time in the timer's business calendar")
    warning_at: datetime | None = Field(default=None, description="When the monitor will warn, if it warns")
    policy: str | None = None
    calendar: str | None = Field(default=None, description="Business calendar the due time was computed in")
    approximate: bool = Field(default=False, description="Due time computed for a year without holiday data")


TimerOutcome = Literal["met", "breached", "cancelled"]


class SlaTimerStoppedV1(EventData):
    """A timer's cycle ended, with the SLA monitor's verdict: the one answer to "was this commitment kept?".

    Published once per cycle for every clock (response, dispatch, confirmation, repair progress and return...), so
    consumers count compliance without a calendar of their own. A repair's progress clock runs one cycle per written
    update: each update ends a cycle (met when it came by the due time) and starts the next.
    """

    event_type: ClassVar[str] = subjects.SLA_TIMER_STOPPED
    event_version: ClassVar[int] = 1

    ticket_id: str = Field(description="The ticket; for a repair timer the repair's ticket, or empty when it has none")
    repair_id: str | None = Field(default=None, description="Set for repair timers (repair_progress, repair_return)")
    timer: str = Field(description="Which clock, e.g. response, dispatch, confirmation, repair_progress, repair_return")
    outcome: TimerOutcome = Field(
        description="met: stopped by its own stop event by the due time; breached: ran out first (an sla.breached "
        "was published then); cancelled: the commitment no longer applies (the ticket closed before it was due)"
    )
    started_at: datetime
    due_at: datetime | None = Field(description="Due time in the timer's business calendar (after any pauses)")
    stopped_at: datetime = Field(description="When the clock stopped: the stop event's time, not when it was processed")
    breached_at: datetime | None = Field(default=None, description="When the monitor declared the breach, if it did")
    policy: str | None = None
    calendar: str | None = Field(default=None, description="Business calendar the due time was computed in")
    approximate: bool = Field(default=False, description="Due time computed for a year without holiday data")
