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
    requester_id: str | None = Field(
        default=None, description="The requester's user id when they have an account: services that hold ticket data "
        "show a requester their own tickets by it",
    )
    asset_tag: str | None = None
    reported_at: datetime = Field(description="When the requester reported it (UTC)")
    site: str | None = Field(default=None, description="Building where the requester is, for dispatch's visit plan")
    ticket_type: str = Field(default="incident", description="incident, service_request, repair or task, from the catalog")
    description: str | None = Field(default=None, description="The requester's words, for knowledge suggestions")
    major_incident: bool = False
    sla_profile: str = Field(
        default="responsive",
        description="Which clocks apply, from the catalog: responsive (response, dispatch, confirmation), "
        "scheduled or project (a deliverable without a response clock)",
    )
    skill: str | None = Field(
        default=None,
        description="The skill the catalog service needs (the catalog's editable `skill`, e.g. printer); dispatch "
        "matches engineers on it. None: any available engineer may take the ticket",
    )
    desk_first: bool = Field(
        default=False,
        description="The desk tries remote guidance first (up to the contract's 5 minutes): dispatch does not assign on "
        "this event but on ticket.dispatch_requested, which intake sends when the agent sends the ticket on or the "
        "guidance window runs out. The dispatch clock still runs from this event",
    )
    awaiting_authorization: bool = Field(
        default=False,
        description="The ticket waits for the agency's authorization (status awaiting_authorization): dispatch does not "
        "assign on this event but on ticket.authorized, and the SLA monitor starts only the response clock here (the "
        "dispatch clock starts at the authorization)",
    )
    emergency: bool = Field(
        default=False,
        description="Emergency work the desk sent on before the agency's authorization (its service requires one): "
        "dispatched at once, and the SLA monitor runs the `authorization` clock for the agency's decision after the fact",
    )


class TicketDispatchRequestedV1(EventData):
    """A desk-first ticket leaves the desk for dispatch: the agent sent it on, or its guidance window ran out.
    Carries the ticket as it is now (the desk may have corrected service, priority or site meanwhile), so dispatch
    assigns from this event alone. The dispatch clock is not restarted: it runs from ticket.created."""

    event_type: ClassVar[str] = subjects.TICKET_DISPATCH_REQUESTED
    event_version: ClassVar[int] = 1

    ticket_id: str = Field(description="Intake's ticket id (UUID)")
    number: str = Field(description="Human ticket number, e.g. INC-2026-000001")
    title: str
    channel: Channel
    service_code: str = Field(description="Catalog service the ticket names now")
    priority: str = Field(default="P3", description="P1 (highest) to P4")
    requester: Requester
    requester_id: str | None = None
    asset_tag: str | None = None
    reported_at: datetime = Field(description="When the requester reported it (UTC)")
    site: str | None = Field(default=None, description="Building where the requester is, for dispatch's visit plan")
    ticket_type: str = Field(default="incident", description="incident, service_request, repair or task, from the catalog")
    description: str | None = None
    major_incident: bool = False
    sla_profile: str = Field(default="responsive", description="Which clocks apply, from the catalog")
    skill: str | None = Field(default=None, description="The skill the catalog service needs; dispatch matches engineers on it")
    reason: Literal["desk", "window_elapsed"] = Field(
        description="desk: an agent sent it on (POST /api/v1/tickets/{id}/dispatch); window_elapsed: the guidance window ran out",
    )
    requested_at: datetime = Field(description="When the ticket left the desk")
    by: str = Field(description="The agent who sent it on, or intake for a window that ran out")


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
    # Added (optional, so the version stays 1): the reason as a code, the work and the engineer's duty.
    reason_code: str | None = Field(
        default=None, description="The reason as a code for programs and for rendering in the reader's language "
        "(dispatch's texts catalogue): chosen, redispatch, desk, no_engineer, held_after_hours, withdrawn; `reason` is "
        "the English text for staff",
    )
    reason_params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The reason code's parameters (e.g. skill, duty, load, capacity, role, score)",
    )
    mode: Literal["visit", "remote"] | None = Field(default=None, description="Whether the work needs someone on site")
    duty: Literal["onsite", "phone", "called_in"] | None = Field(
        default=None, description="The engineer's duty when given the ticket: on site, phone on-call (remote work only), "
        "or called in off duty",
    )
    by: str | None = Field(
        default=None, description="Who decided: `dispatch` (automatic) or the desk agent's subject who gave a waiting ticket an engineer",
    )
    number: str | None = Field(
        default=None, description="Intake's ticket number (INC-2026-000009), as ticket.created told dispatch: what people "
        "are told and say on the phone (added later, optional, so the version stays 1)",
    )


# awaiting_authorization: work on the ticket's catalog service happens only after the agency (信息中心) authorizes it
# (contract 1.3.1); nobody is dispatched until then (ticket.authorized).
TicketStatus = Literal[
    "awaiting_authorization", "new", "assigned", "in_progress", "pending", "resolved", "closed", "cancelled",
]
TicketType = Literal["incident", "service_request", "repair", "task"]


class TicketUpdatedV1(EventData):
    """Fields of a ticket changed at the desk (not its status); `changes` names each field with old and new values."""

    event_type: ClassVar[str] = subjects.TICKET_UPDATED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    changes: dict[str, dict[str, object]] = Field(description="field -> {'old': ..., 'new': ...}")
    by: str = Field(description="Who changed it (user id or API key name)")
    updated_at: datetime


class TicketStatusChangedV1(EventData):
    """A ticket moved from one state to another; sent for every transition, beside the specific events below."""

    event_type: ClassVar[str] = subjects.TICKET_STATUS_CHANGED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    old_status: TicketStatus
    new_status: TicketStatus
    reason: str | None = Field(default=None, description="Why, in the words of whoever changed it")
    pending_reason: str | None = Field(default=None, description="On pending: who is awaited (requester, vendor, parts)")
    service_code: str
    priority: str
    by: str
    changed_at: datetime


class TicketResolvedV1(EventData):
    """A ticket was resolved, by an engineer's work or at the desk on first contact."""

    event_type: ClassVar[str] = subjects.TICKET_RESOLVED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    service_code: str
    ticket_type: TicketType = "incident"
    priority: str
    channel: Channel
    department: str | None = None
    asset_tag: str | None = None
    resolved_at_desk: bool = Field(description="Resolved by the desk at first contact (remote guidance)")
    guidance_minutes: float | None = Field(default=None, description="Remote guidance time at the desk (cap 5)")
    article_id: str | None = Field(default=None, description="Knowledge article that resolved it, if any")
    resolution: str
    reported_at: datetime
    resolved_at: datetime
    by: str
    requester_id: str | None = Field(
        default=None, description="The requester's account (its username) when they filed it themselves or the desk "
        "linked one: the SLA monitor tells them in their console",
    )


class TicketClosedV1(EventData):
    """A resolved ticket was closed; carries the requester's satisfaction when given."""

    event_type: ClassVar[str] = subjects.TICKET_CLOSED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    service_code: str
    satisfaction: int | None = Field(default=None, ge=1, le=5)
    satisfaction_comment: str | None = None
    closed_at: datetime
    by: str


class TicketReopenedV1(EventData):
    """A resolved ticket was reopened inside the reopen window; the work starts again."""

    event_type: ClassVar[str] = subjects.TICKET_REOPENED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    reason: str
    reopened_at: datetime
    by: str


class ServiceRecordReviewedV1(EventData):
    """The desk reviewed the engineer's service record on the ticket (the only place it is reviewed): approved, or
    returned to the engineer with a note. Dispatch marks the assignment reviewed, or gives it back to the engineer."""

    event_type: ClassVar[str] = subjects.TICKET_SERVICE_RECORD_REVIEWED
    event_version: ClassVar[int] = 1

    ticket_id: str
    number: str
    assignment_id: str | None = Field(default=None, description="The assignment the record was completed on (none: written at the desk)")
    engineer_id: str | None = None
    decision: Literal["approved", "returned"]
    note: str | None = Field(default=None, description="What is missing (always given when returned)")
    by: str = Field(description="The desk member who reviewed: the verified caller's subject")
    reviewed_at: datetime
