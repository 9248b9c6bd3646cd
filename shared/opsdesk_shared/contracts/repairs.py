"""Repair events, produced by assets when a repair record changes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData

RepairStatus = Literal["open", "sent_to_vendor", "in_progress", "returned", "closed"]


class RepairUpdatedV1(EventData):
    """A repair record was opened or changed status."""

    event_type: ClassVar[str] = subjects.REPAIR_UPDATED
    event_version: ClassVar[int] = 1

    repair_id: str
    asset_tag: str
    status: RepairStatus
    vendor: str | None = None
    note: str | None = None
    ticket_id: str | None = None
    updated_at: datetime = Field(description="When the repair record changed (UTC)")
