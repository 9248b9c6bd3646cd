"""The agency's authorization of work (contract 1.3.1: every piece of work happens only after the information centre's
managers authorize it). Intake owns the decision; dispatch assigns on `ticket.authorized` when the ticket waited for
it, and the SLA monitor starts the dispatch clock there and stops the `authorization` clock of emergency work."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData
from .tickets import Channel, Requester


class TicketAuthorizedV1(EventData):
    """The agency authorized the ticket's work, or a standing authorization covered it. Carries the ticket as it is
    now, so dispatch assigns from this event alone when `dispatch` is true."""

    event_type: ClassVar[str] = subjects.TICKET_AUTHORIZED
    event_version: ClassVar[int] = 1

    ticket_id: str = Field(description="Intake's ticket id (UUID)")
    number: str = Field(description="Human ticket number, e.g. INC-2026-000001")
    title: str
    channel: Channel
    service_code: str = Field(description="Catalog service the ticket names")
    priority: str = Field(default="P3", description="P1 (highest) to P4")
    requester: Requester
    requester_id: str | None = None
    asset_tag: str | None = None
    reported_at: datetime = Field(description="When the requester reported it (UTC)")
    site: str | None = None
    ticket_type: str = Field(default="incident")
    description: str | None = None
    major_incident: bool = False
    sla_profile: str = Field(default="responsive", description="Which clocks apply, from the catalog")
    skill: str | None = Field(default=None, description="The skill the catalog service needs; dispatch matches engineers on it")
    authorized_at: datetime = Field(description="When the authorization was given (UTC); the dispatch clock starts here")
    by: str = Field(description="The agency user who approved, or `standing:<id>` for a standing authorization")
    basis: Literal["decision", "standing"] = Field(
        description="decision: the agency approved this ticket (POST /tickets/{id}/authorization); standing: a standing "
        "authorization of the agency covered it",
    )
    standing_authorization_id: str | None = Field(default=None, description="The standing authorization that covered it")
    note: str | None = Field(default=None, description="The agency's note with its approval")
    dispatch: bool = Field(
        description="true: the ticket waited for this (status awaiting_authorization -> new): dispatch assigns on it "
        "and the SLA monitor starts the dispatch clock at `authorized_at`. false: the work was sent to dispatch already "
        "(emergency work, or authorized as it was recorded), nothing to assign",
    )
    emergency: bool = Field(default=False, description="Emergency work authorized after the fact")


class TicketAuthorizationDeclinedV1(EventData):
    """The agency declined the ticket's work: a waiting ticket is cancelled with the note as the reason the requester
    reads (announced as ticket.status_changed too); emergency work declined after the fact keeps its state."""

    event_type: ClassVar[str] = subjects.TICKET_AUTHORIZATION_DECLINED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    service_code: str
    note: str = Field(description="The agency's reason, shown to the requester")
    declined_at: datetime
    by: str = Field(description="The agency user who declined")
    emergency: bool = Field(default=False, description="Emergency work declined after the fact")


MODELS: tuple[type[EventData], ...] = (TicketAuthorizedV1, TicketAuthorizationDeclinedV1)
