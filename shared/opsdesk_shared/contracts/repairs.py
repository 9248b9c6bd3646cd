"""Repair events, produced by assets when a repair record changes."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData

RepairStatus = Literal["open", "sent_to_vendor", "in_progress", "returned", "closed"]
# The repair's full state, carried in `stage`. `status` keeps the five values above, which the SLA monitor reads:
# at_vendor and repaired are still "sent_to_vendor" (away, clocks running), written_off is "closed" (clocks stop).
RepairStage = Literal["open", "in_progress", "sent_to_vendor", "at_vendor", "repaired", "returned", "written_off", "closed"]


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
    stage: RepairStage | None = Field(default=None, description="Full state; `status` is its compatible summary")
    repair_kind: Literal["in_house", "vendor"] | None = None
    billing: Literal["warranty", "paid"] | None = None
    transport_arranged: bool | None = None
    loaner_tag: str | None = Field(default=None, description="Loaner device given to the user meanwhile")
    sent_at: datetime | None = Field(default=None, description="When it left for the vendor: the return clock's start")
    last_progress_at: datetime | None = Field(
        default=None, description="Last written progress (send-out, vendor update or status change while away): "
        "the 3-working-day progress clock's start"
    )
    progress: bool = Field(default=False, description="This change is a written progress update without a state change")
