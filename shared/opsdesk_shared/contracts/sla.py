"""SLA events, produced by the SLA monitor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

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
