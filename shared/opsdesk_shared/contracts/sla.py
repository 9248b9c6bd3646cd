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
