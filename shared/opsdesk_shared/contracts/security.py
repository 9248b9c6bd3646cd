"""Acts beyond the agency's authorization (contract 1.3.1/1.3.3: acting beyond an authorization is a security
incident) and the agency's oversight of the team's engineers.

Each service detects its own acts and announces them in its own family (one publisher per subject, as every event):
dispatch `assignment.violation_detected` (an engineer's act), assets `cmdb.violation_detected` (a CI change, a
repair); the payload is the same model. Intake (which holds tickets and their authorizations) records each one as an incident,
once per event id (its own desk acts directly, once per refused request), and announces `security.incident_raised`, which
the SLA monitor's notifications bring to the agency, the project manager and auditors. Dispatch owns engineers, so it
owns the agency's requests to replace one (`replacement.requested`, `replacement.answered`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import Field

from . import subjects
from .envelope import EventData

# The rules an act can break (one per kind of act the issue names).
Rule = Literal[
    "unauthorized_ticket_act",  # an engineer or the desk acted on a ticket the agency has not authorized
    "unauthorized_ci_change",  # a configuration item whose type requires authorization changed with no authorized ticket
    "unauthorized_repair",  # a device with storage sent out for repair without an authorized ticket
]
# low: an attempt that was refused, nothing happened (intake rates incidents; issue 16's severity policy).
Severity = Literal["low", "normal", "high", "major", "critical"]


class ViolationDetected(EventData):
    """A service refused or noticed an act beyond the agency's authorization. The event id is the violation's
    identity: intake records one incident per event id however often it is delivered."""

    rule: Rule = Field(description="The rule broken")
    actor: str = Field(description="Who acted: the verified caller's user id (never a body field)")
    actor_role: str = Field(description="The actor's role (engineer, agent, manager, admin...)")
    actor_name: str | None = Field(default=None, description="Display name, when the service knows it")
    act: str = Field(description="What was attempted, as a short code, e.g. assignment.accept, ticket.status:in_progress")
    what: str = Field(description="What was attempted, in words (zh-CN), shown in the incident and its notices")
    occurred_at: datetime = Field(description="When the act was attempted (UTC)")
    refused: bool = Field(default=True, description="true: the act was refused (409); false: it happened and was noticed")
    ticket_id: str | None = Field(default=None, description="The ticket acted on or missing")
    ticket_number: str | None = None
    ticket_status: str | None = Field(default=None, description="The ticket's state then, e.g. awaiting_authorization")
    asset_tag: str | None = Field(default=None, description="The configuration item concerned")
    repair_id: str | None = Field(default=None, description="The repair concerned")
    detected_by: str = Field(description="The service that detected it")
    severity: Severity = Field(default="high", description="high and above reach people outside duty time")


class AssignmentViolationDetectedV1(ViolationDetected):
    """Dispatch refused an engineer's act on work the agency has not authorized (awaiting, declined or cancelled)."""

    event_type: ClassVar[str] = subjects.ASSIGNMENT_VIOLATION_DETECTED
    event_version: ClassVar[int] = 1


class CmdbViolationDetectedV1(ViolationDetected):
    """Assets noticed an act beyond authorization that it let happen (the register stays true to the world): a
    configuration item whose type requires authorization changed with no authorized ticket naming it, or a device
    with storage sent out for repair without one."""

    event_type: ClassVar[str] = subjects.CMDB_VIOLATION_DETECTED
    event_version: ClassVar[int] = 1


class SecurityIncidentRaisedV1(EventData):
    """Intake recorded a security incident from a detected violation: who, what, when, which ticket, CI or repair,
    and the rule broken. The project manager closes it after the agency acknowledges it."""

    event_type: ClassVar[str] = subjects.SECURITY_INCIDENT_RAISED
    event_version: ClassVar[int] = 1

    incident_id: str = Field(description="Intake's incident id (GET /api/v1/security-incidents/{id})")
    kind: Rule = Field(description="The rule broken")
    severity: Severity = "high"
    raised_at: datetime = Field(description="When the incident was recorded (UTC)")
    occurred_at: datetime = Field(description="When the act was attempted (UTC)")
    actor: str = Field(description="Who acted (user id)")
    actor_role: str
    what: str = Field(description="What was attempted, in words")
    act: str
    refused: bool = True
    actor_name: str | None = Field(default=None, description="The actor's name as people read it, when known")
    ticket_id: str | None = None
    ticket_number: str | None = None
    asset_tag: str | None = None
    repair_id: str | None = None
    detected_by: str
    violation_id: str = Field(description="The violation it was recorded from: the detecting event's id, or intake's own")


class ReplacementRequestedV1(EventData):
    """The agency asked for an engineer to be replaced; the project manager's answer is due by `answer_due_at`
    (working days on the SLA monitor's calendar)."""

    event_type: ClassVar[str] = subjects.REPLACEMENT_REQUESTED
    event_version: ClassVar[int] = 1

    request_id: str
    engineer_id: str
    engineer_name: str | None = None
    reason: str
    requested_at: datetime
    by: str = Field(description="The agency user who asked")
    answer_due_at: datetime | None = Field(default=None, description="When the answer is due (None: calendar unknown)")


class ReplacementAnsweredV1(EventData):
    """The project manager answered a replacement request with a plan and the date the engineer is replaced by."""

    event_type: ClassVar[str] = subjects.REPLACEMENT_ANSWERED
    event_version: ClassVar[int] = 1

    request_id: str
    engineer_id: str
    plan: str
    replace_by: date
    answered_at: datetime
    by: str = Field(description="The manager who answered")
    late: bool = Field(default=False, description="Answered after answer_due_at")


MODELS: tuple[type[EventData], ...] = (
    AssignmentViolationDetectedV1, CmdbViolationDetectedV1, SecurityIncidentRaisedV1, ReplacementRequestedV1, ReplacementAnsweredV1,
)
