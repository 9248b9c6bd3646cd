"""Ticket events, produced by intake (created) and dispatch (assigned)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData

Channel = Literal["hotline", "email", "web", "api", "remote_desktop", "walk_in"]


class Requester(EventData):
    name: str
    phone: str | None = None
    email: str | None = None
    department: str | None = None


class TicketCreatedV1(EventData):
    """A ticket was recorded at the service desk; SLA clocks start at `reported_at`."""

    event_type: ClassVar[str] = subjects.TICKET_CREATED
    event_version: ClassVar[int] = 1

    ticket_id: str = Field(description="Intake's ticket id (UUID)")
    number: str = Field(description="Human ticket number, e.g. INC-2026-000001")
    title: str
    channel: Channel
    service_code: str = Field(description="Catalog service the ticket names")
    priority: str = Field(default="P3", description="P1 (highest) to P4")
    requester: Requester
    asset_tag: str | None = None
    reported_at: datetime = Field(description="When the requester reported it (UTC)")
    site: str | None = Field(default=None, description="Building where the requester is, for dispatch's visit plan")


class TicketAssignedV1(EventData):
    """Dispatch chose an engineer for a ticket."""

    event_type: ClassVar[str] = subjects.TICKET_ASSIGNED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    engineer_name: str
    reason: str = Field(description="Why this engineer was chosen, for the desk to see")
    assigned_at: datetime
