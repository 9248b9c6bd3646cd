"""Tickets at the desk: pure rules, no I/O. Functions return the new state and the events it implies."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from opsdesk_shared.contracts import Requester, TicketAssignedV1, TicketCreatedV1
from opsdesk_shared.contracts.tickets import Channel

from .catalog import BY_CODE

AGENCY_TZ = ZoneInfo("Asia/Shanghai")
MAX_BACKDATING = timedelta(days=7)
# Clients' clocks drift; a reported time this far ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=2)
IDEMPOTENCY_NAMESPACE = uuid.UUID("6c1e7f2a-5d4b-4c8e-9a51-3f0d2b7e8a10")

Status = Literal["new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled"]


class InvalidField(ValueError):
    """A request field breaks a business rule; carries the field path for a 422."""

    def __init__(self, loc: tuple[str, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc
        self.msg = msg


class NewTicket(BaseModel):
    """Command: record a ticket as the requester reported it."""

    model_config = ConfigDict(frozen=True)

    title: str
    description: str
    requester: Requester
    channel: Channel
    service_code: str
    asset_tag: str | None = None
    reported_at: datetime | None = None
    site: str | None = None


class Assignee(BaseModel):
    model_config = ConfigDict(frozen=True)

    assignment_id: str
    engineer_id: str
    engineer_name: str
    reason: str
    assigned_at: datetime


class StatusChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: Status
    at: datetime
    by: str


class Ticket(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: str
    title: str
    description: str
    requester: Requester
    channel: Channel
    service_code: str
    priority: str
    asset_tag: str | None
    reported_at: datetime
    created_at: datetime
    site: str | None = None
    status: Status
    assignee: Assignee | None = None
    history: tuple[StatusChange, ...] = ()
    version: int = 1


def ticket_id_for(idempotency_key: str | None) -> str:
    """A retried request with the same Idempotency-Key maps to the same ticket id."""
    if idempotency_key:
        return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, idempotency_key))
    return str(uuid.uuid4())


def number_series(now: datetime) -> str:
    """Ticket numbers restart every year of the agency's calendar."""
    return f"INC-{now.astimezone(AGENCY_TZ).year}"


def format_number(series: str, seq: int) -> str:
    return f"{series}-{seq:06d}"


def check_new_ticket(cmd: NewTicket, *, now: datetime) -> None:
    if cmd.service_code not in BY_CODE:
        raise InvalidField(("body", "service_code"), f"unknown service code {cmd.service_code!r}; known: {sorted(BY_CODE)}")
    if cmd.reported_at is not None:
        if cmd.reported_at.tzinfo is None:
            raise InvalidField(("body", "reported_at"), "reported_at needs a time zone offset")
        if cmd.reported_at > now + CLOCK_SKEW:
            raise InvalidField(("body", "reported_at"), "reported_at is in the future")
        if cmd.reported_at < now - MAX_BACKDATING:
            raise InvalidField(("body", "reported_at"), "reported_at is more than 7 days back")


def to_millis(moment: datetime) -> datetime:
    """Times are kept to the millisecond, the precision BSON dates keep, so a replayed ticket reads back identical."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def open_ticket(cmd: NewTicket, *, ticket_id: str, number: str, now: datetime) -> tuple[Ticket, TicketCreatedV1]:
    check_new_ticket(cmd, now=now)
    now = to_millis(now)
    service = BY_CODE[cmd.service_code]
    ticket = Ticket(
        id=ticket_id,
        number=number,
        title=cmd.title,
        description=cmd.description,
        requester=cmd.requester,
        channel=cmd.channel,
        service_code=cmd.service_code,
        priority=service.default_priority,
        asset_tag=cmd.asset_tag,
        site=cmd.site,
        reported_at=to_millis(cmd.reported_at) if cmd.reported_at else now,
        created_at=now,
        status="new",
        history=(StatusChange(status="new", at=now, by="desk"),),
    )
    event = TicketCreatedV1(
        ticket_id=ticket.id,
        number=ticket.number,
        title=ticket.title,
        channel=ticket.channel,
        service_code=ticket.service_code,
        priority=ticket.priority,
        requester=ticket.requester,
        asset_tag=ticket.asset_tag,
        reported_at=ticket.reported_at,
        site=ticket.site,
    )
    return ticket, event


def apply_assignment(ticket: Ticket, event: TicketAssignedV1) -> Ticket | None:
    """The ticket after dispatch's decision, or None when this assignment is already recorded."""
    if ticket.assignee is not None and ticket.assignee.assignment_id == event.assignment_id:
        return None
    assignee = Assignee(
        assignment_id=event.assignment_id,
        engineer_id=event.engineer_id,
        engineer_name=event.engineer_name,
        reason=event.reason,
        assigned_at=event.assigned_at,
    )
    status: Status = "assigned" if ticket.status in ("new", "assigned") else ticket.status
    return ticket.model_copy(
        update={
            "assignee": assignee,
            "status": status,
            "history": (*ticket.history, StatusChange(status=status, at=event.assigned_at, by="dispatch")),
        }
    )
