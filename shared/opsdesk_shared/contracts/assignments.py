"""What happens to an assignment after dispatch: produced by dispatch, timed by the SLA monitor."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData


class AssignmentAcceptedV1(EventData):
    """The engineer took the job."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_ACCEPTED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    accepted_at: datetime
    by: str | None = Field(
        default=None, description="Who accepted: the verified caller's subject (the engineer, or the desk on their behalf)"
    )


class AssignmentConfirmedV1(EventData):
    """The desk confirmed execution (the contract: within 30 minutes of assignment), with the engineer's ETA."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_CONFIRMED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    eta: datetime | None = Field(default=None, description="When the engineer expects to be on site or start")
    confirmed_at: datetime
    by: str | None = Field(default=None, description="Who confirmed: the verified caller's subject (a desk agent)")


class AssignmentDelayedV1(EventData):
    """The engineer is late or cannot go: dispatch must send someone else within 10 minutes."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_DELAYED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    reason: str
    cannot_go: bool = False
    delayed_at: datetime


class TicketReassignedV1(EventData):
    """The ticket's live assignment moved to another engineer (after a delay, or a desk agent's override)."""

    event_type: ClassVar[str] = subjects.TICKET_REASSIGNED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    previous_engineer_id: str
    engineer_id: str
    engineer_name: str
    reason: str
    by: str = Field(description="Who decided: `dispatch` (its automatic re-dispatch) or the desk agent's subject (user name)")
    reassigned_at: datetime
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
    number: str | None = Field(
        default=None, description="Intake's ticket number (INC-2026-000009), as ticket.created told dispatch (added later, "
        "optional, so the version stays 1)",
    )


class EscalationRaisedV1(EventData):
    """An engineer reported an abnormal event: the project manager must have it within 20 minutes."""

    event_type: ClassVar[str] = subjects.ESCALATION_RAISED
    event_version: ClassVar[int] = 1

    escalation_id: str
    ticket_id: str
    engineer_id: str
    kind: Literal["technical", "other"]
    description: str
    notify: list[str] = Field(description="Engineer ids told: the project manager, and a senior engineer if technical")
    raised_at: datetime
    engineer_name: str | None = Field(default=None, description="The escalating engineer's name as people read it")


class EscalationAcknowledgedV1(EventData):
    """The project manager has the escalation in hand."""

    event_type: ClassVar[str] = subjects.ESCALATION_ACKNOWLEDGED
    event_version: ClassVar[int] = 1

    escalation_id: str
    ticket_id: str
    by: str
    acknowledged_at: datetime


class PartUsedV1(EventData):
    """One line of the parts the engineer used: a spare-stock part type (`sku`) is issued from the stock against the
    ticket; a part named only in words (`part`) is recorded, not issued."""

    part: str | None = Field(default=None, description="The part in the engineer's words (e.g. HP 26A 硒鼓)")
    sku: str | None = Field(default=None, description="The spare stock's part type (assets' part_type), when the part came from stock")
    quantity: int = Field(default=1, ge=1)


class AssignmentCompletedV1(EventData):
    """The engineer completed the work with the service record; intake puts the record on the ticket for the desk's
    review (the one review: `ticket.service_record_reviewed`), assets issues the stock parts against the ticket."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_COMPLETED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    record: str = Field(description="The service record's text: what was found and done (the same as work_done)")
    completed_at: datetime
    # Added (optional, so the version stays 1): the whole service record.
    work_done: str | None = Field(default=None, description="What was found and done")
    parts_used: list[PartUsedV1] = Field(default_factory=list, description="Parts used, each with its quantity")
    minutes_on_site: int | None = Field(default=None, ge=0, description="Minutes the engineer spent on the job")
    site: str | None = Field(default=None, description="The ticket's site (building): where stock parts are issued from")
    by: str | None = Field(default=None, description="Who completed: the verified caller's subject")


class HelpRequestedV1(EventData):
    """The engineer asks the desk for help (and the knowledge base, once it exists)."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_HELP_REQUESTED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    question: str
    requested_at: datetime
    engineer_name: str | None = Field(default=None, description="The engineer's name as people read it")


class AssignmentReviewedV1(EventData):
    """The desk reviewed the engineer's service record: approved, or sent back for more work."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_REVIEWED
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    approved: bool
    comment: str | None = None
    by: str
    reviewed_at: datetime


class NoEngineerAvailableV1(EventData):
    """Nobody on the roster can take the ticket now: said at once, and dispatch keeps trying."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_UNASSIGNED
    event_version: ClassVar[int] = 1

    ticket_id: str
    service_code: str
    reason: str
    at: datetime
    # Added (optional, so the version stays 1): the reason as a code, and a hold outside service hours.
    reason_code: str | None = Field(
        default=None, description="The reason as a code for programs and for rendering in the reader's language "
        "(dispatch's texts catalogue): chosen, redispatch, desk, no_engineer, held_after_hours, withdrawn; `reason` is "
        "the English text for staff",
    )
    reason_params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The reason code's parameters (e.g. skill, duty, load, capacity, role, score)",
    )
    held_until: datetime | None = Field(
        default=None, description="Work on site that arrived outside service hours (on site 5x8, by phone at other "
        "times) is held until this moment, when the engineers on site duty take it; None: retried as engineers free up",
    )


class AssignmentWithdrawnV1(EventData):
    """Dispatch withdrew an engineer's assignment because the ticket ended without their work (resolved at the desk,
    cancelled, closed): the engineer is free, and the ticket no longer shows them as its assignee."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_WITHDRAWN
    event_version: ClassVar[int] = 1

    ticket_id: str
    assignment_id: str
    engineer_id: str
    reason: str = Field(description="Why, e.g. 'ticket resolved by agent1'")
    withdrawn_at: datetime
    # Added (optional, so the version stays 1): the reason as a code.
    reason_code: str | None = Field(
        default=None, description="The reason as a code for programs and for rendering in the reader's language "
        "(dispatch's texts catalogue): chosen, redispatch, desk, no_engineer, held_after_hours, withdrawn; `reason` is "
        "the English text for staff",
    )
    reason_params: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, description="The reason code's parameters (e.g. skill, duty, load, capacity, role, score)",
    )
