"""The security incident and its steps, pure: open -> acknowledged (the agency) -> closed (the project manager).

An incident is recorded from a detected violation (the detecting service's event id, or intake's own id for a desk
act); its id is derived from the violation's, so recording the same violation twice finds the same incident."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.security import Rule, SecurityIncidentRaisedV1, Severity, ViolationDetected
from opsdesk_shared.roles import AGENCY_ROLE, AUDITOR_ROLE

from ..texts import STATUS

State = Literal["open", "acknowledged", "closed"]
NAMESPACE = uuid.UUID("5e3c1d2a-16a0-4b7e-9c1d-0a6e5ec0de16")

# Who reads incidents (the agency, the project manager, auditors, admins); who takes each step.
READERS: frozenset[str] = frozenset({AGENCY_ROLE, "manager", AUDITOR_ROLE, "admin"})
ACKNOWLEDGER = AGENCY_ROLE
CLOSER = "manager"
# The ticket states in which nobody may act on it for the agency's want of authorization.
UNAUTHORIZED_STATUSES = frozenset({"awaiting_authorization"})

# Severity by kind of act (AUTHORIZATION.md, "Severity and folding"): an attempt that was refused (a desk's or an
# engineer's click on an unauthorized ticket; nothing happened) is low; an act that happened beyond authorization (a
# configuration item changed, a storage device sent out) is high. Repeated attempts by one actor on one ticket fold
# into the open incident while each comes within FOLD_WINDOW of the one before: one incident, a count and the times.
ATTEMPT: Severity = "low"
ACT: Severity = "high"
FOLD_WINDOW = timedelta(hours=1)
FOLD_KEEP = 100  # the times (and violation ids) kept on one incident; `attempts` counts them all


class Incident(BaseModel):
    """Who, what, when, which ticket / CI / repair, and the rule broken; then the agency's acknowledgement and the
    project manager's closing note."""

    model_config = ConfigDict(frozen=True)

    id: str
    violation_id: str = Field(description="The violation it was recorded from (idempotency key)")
    rule: Rule
    severity: Severity = "high"
    actor: str
    actor_role: str
    actor_name: str | None = None
    act: str
    what: str
    occurred_at: datetime
    raised_at: datetime
    refused: bool = True
    ticket_id: str | None = None
    ticket_number: str | None = None
    ticket_status: str | None = None
    asset_tag: str | None = None
    repair_id: str | None = None
    detected_by: str
    state: State = "open"
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledgement_note: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    closing_note: str | None = None
    attempts: int = Field(default=1, description="How many acts this incident stands for (refused attempts fold in)")
    occurrences: tuple[datetime, ...] = Field(default=(), description="When each folded act happened (the first too)")
    violation_ids: tuple[str, ...] = Field(default=(), description="The violations folded in (idempotency)")
    version: int = 1

    @property
    def last_occurred_at(self) -> datetime:
        return self.occurrences[-1] if self.occurrences else self.occurred_at


class StepRefused(Exception):
    """A step the incident's state does not allow: carries what is allowed, for the 409."""

    def __init__(self, current: State, step: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"a {current} incident cannot be {step}")
        self.current, self.step, self.allowed = current, step, allowed


class NotYours(Exception):
    """The caller's role does not take this step (403)."""

    def __init__(self, step: str, role: str) -> None:
        super().__init__(f"{role} cannot {step} an incident")
        self.step, self.role = step, role


def incident_id_for(violation_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, violation_id))


def record(
    violation: ViolationDetected, *, violation_id: str, now: datetime, actor_name: str | None = None,
) -> tuple[Incident, SecurityIncidentRaisedV1]:
    """The incident a violation becomes, and its announcement. `actor_name` is the actor's name as identity knows it,
    for a violation whose detector does not know people (dispatch, assets): the record says who, by name."""
    incident = Incident(
        id=incident_id_for(violation_id), violation_id=violation_id, raised_at=now,
        **violation.model_dump(include={
            "rule", "actor", "actor_role", "act", "what", "occurred_at", "refused", "ticket_id",
            "ticket_number", "ticket_status", "asset_tag", "repair_id", "detected_by",
        }),
        severity=severity_of(violation), actor_name=violation.actor_name or actor_name,
        occurrences=(violation.occurred_at,), violation_ids=(violation_id,),
    )
    return incident, raised(incident)


def severity_of(violation: ViolationDetected) -> Severity:
    """Intake owns the incidents, so it rates them: a refused attempt is low, an act that happened is high (or what
    its detector said, if higher)."""
    if violation.refused:
        return ATTEMPT
    return violation.severity if violation.severity in ("major", "critical") else ACT


def folds(violation: ViolationDetected) -> bool:
    """Only refused attempts fold; every act that happened beyond authorization is its own incident."""
    return violation.refused and violation.ticket_id is not None


def fold_into(incident: Incident, violation: ViolationDetected, *, violation_id: str) -> Incident | None:
    """The open incident with this attempt folded in (count and time), or None when it does not fold there: another
    actor, ticket or rule, an incident the agency has acknowledged already, or after the window."""
    if (
        incident.state != "open" or not incident.refused or not folds(violation)
        or (incident.rule, incident.actor, incident.ticket_id) != (violation.rule, violation.actor, violation.ticket_id)
        or violation.occurred_at - incident.last_occurred_at > FOLD_WINDOW
        or violation.occurred_at < incident.occurred_at
    ):
        return None
    times = tuple(sorted((*incident.occurrences, violation.occurred_at)))
    return incident.model_copy(update={
        "attempts": incident.attempts + 1, "occurrences": times[-FOLD_KEEP:],
        "violation_ids": (*incident.violation_ids, violation_id)[-FOLD_KEEP:], "version": incident.version + 1,
    })


def raised(incident: Incident) -> SecurityIncidentRaisedV1:
    return SecurityIncidentRaisedV1(
        incident_id=incident.id, kind=incident.rule, severity=incident.severity, raised_at=incident.raised_at,
        occurred_at=incident.occurred_at, actor=incident.actor, actor_role=incident.actor_role, what=incident.what,
        act=incident.act, actor_name=incident.actor_name, refused=incident.refused, ticket_id=incident.ticket_id, ticket_number=incident.ticket_number,
        asset_tag=incident.asset_tag, repair_id=incident.repair_id, detected_by=incident.detected_by,
        violation_id=incident.violation_id,
    )


def allowed_steps(incident: Incident) -> tuple[str, ...]:
    return {"open": ("acknowledge",), "acknowledged": ("close",), "closed": ()}[incident.state]


def acknowledge(incident: Incident, *, role: str, by: str, note: str | None, now: datetime) -> Incident:
    """The agency acknowledges it has been told (contract: closed with the agency's acknowledgement)."""
    if role != ACKNOWLEDGER:
        raise NotYours("acknowledge", role)
    if incident.state != "open":
        raise StepRefused(incident.state, "acknowledge", allowed_steps(incident))
    return incident.model_copy(update={
        "state": "acknowledged", "acknowledged_at": now, "acknowledged_by": by, "acknowledgement_note": note,
        "version": incident.version + 1,
    })


def close(incident: Incident, *, role: str, by: str, note: str, now: datetime) -> Incident:
    """The project manager closes it, with a note, only once the agency has acknowledged it."""
    if role != CLOSER:
        raise NotYours("close", role)
    if incident.state != "acknowledged":
        raise StepRefused(incident.state, "close", allowed_steps(incident))
    return incident.model_copy(update={
        "state": "closed", "closed_at": now, "closed_by": by, "closing_note": note, "version": incident.version + 1,
    })


def unauthorized(status: str, authorization_state: str | None) -> bool:
    """Nobody may act on the ticket for want of the agency's authorization: it waits for it, or the agency declined
    the work (a declined ticket is cancelled for it)."""
    return status in UNAUTHORIZED_STATUSES or authorization_state == "declined"


def desk_act_what(*, act: str, number: str, status: str) -> str:
    """The desk's refused act, in words (zh-CN, the incident's language of record)."""
    state = {"awaiting_authorization": "待信息中心授权", "cancelled": "信息中心已拒绝授权"}.get(status, status)
    return f"服务台对未经授权的工单 {number}（{state}）{_act_in_words(act)}被拒绝"


def _act_in_words(act: str) -> str:
    """`ticket.status:<target>` as the step a person took ("把工单改为「处理中」"); another act named as it is."""
    kind, _, target = act.partition(":")
    if kind == "ticket.status" and target:
        return f"把工单改为「{STATUS.get(target, (target,))[0]}」"
    return f"执行「{act}」"
