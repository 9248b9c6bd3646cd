"""Pure rules of the agency's oversight at dispatch: which tickets are unauthorized, the violation an engineer's act
on one is, and a replacement request's steps (requested -> answered)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.security import AssignmentViolationDetectedV1
from opsdesk_shared.roles import AGENCY_ROLE, AUDITOR_ROLE, DESK_ROLES, ENGINEER_ROLE, SERVICE_ROLE

from ..domain import Actor
from ..texts import Said

Held = Literal["awaiting", "declined"]
STATE_WORDS = {"awaiting": "待授权", "declined": "已拒绝授权"}


class UnauthorizedTicket(BaseModel):
    """A ticket nobody may work on: it waits for the agency's authorization, or the agency declined it."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    number: str
    state: Held
    since: datetime


class UnauthorizedWork(Said):
    """An engineer's act on unauthorized work: refused (409, nothing allowed) and announced as a violation."""

    def __init__(self, held: UnauthorizedTicket, step: str) -> None:
        super().__init__("err.unauthorized_work", ticket=held.number, state=STATE_WORDS[held.state], step=step)


def acts_as_engineer(actor: Actor) -> bool:
    """An engineer (or a desk person linked to a roster engineer acting on a job as its engineer)."""
    return actor.role == ENGINEER_ROLE or (actor.role in DESK_ROLES and bool(actor.engineer_id))


def violation(held: UnauthorizedTicket, *, actor: Actor, step: str, now: datetime) -> AssignmentViolationDetectedV1:
    return AssignmentViolationDetectedV1(
        rule="unauthorized_ticket_act", actor=actor.subject, actor_role=actor.role, act=f"assignment.{step}",
        what=f"工程师对未经授权的工单 {held.number}（{STATE_WORDS[held.state]}）执行「{step}」被拒绝",
        occurred_at=now, refused=True, ticket_id=held.ticket_id, ticket_number=held.number,
        ticket_status="awaiting_authorization" if held.state == "awaiting" else "cancelled", detected_by="dispatch",
    )


# --- replacement requests ---

ASKER = AGENCY_ROLE
ANSWERER = "manager"
READERS = frozenset({AGENCY_ROLE, "manager", "admin", AUDITOR_ROLE, SERVICE_ROLE})
NAMESPACE = uuid.UUID("8d7c2b1a-16b0-4c3d-9e8f-7a6b5c4d3e16")


class ReplacementStep(BaseModel):
    """One step of a request's history (sealed in the audit chain by the Mongo store)."""

    model_config = ConfigDict(frozen=True)

    step: Literal["requested", "answered"]
    at: datetime
    by: str
    note: str = Field(description="The reason asked, or the plan answered")
    replace_by: date | None = None


class ReplacementRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    engineer_id: str
    engineer_name: str | None = None
    reason: str
    requested_at: datetime
    requested_by: str
    answer_due_at: datetime
    due_approximate: bool = False
    state: Literal["requested", "answered"] = "requested"
    plan: str | None = None
    replace_by: date | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    history: tuple[ReplacementStep, ...] = ()
    version: int = 1

    def is_late(self, now: datetime) -> bool:
        """The answer came (or is still missing) after its due time."""
        return (self.answered_at or now) > self.answer_due_at


class ReplacementRefused(Said):
    """A step the request's state does not allow (409 with what is allowed)."""

    def __init__(self, code: str, *, allowed: list[str], **params: Any) -> None:
        super().__init__(code, **params)
        self.allowed = allowed


def request_id_for(engineer_id: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{engineer_id}|{key}"))


def requested(
    *, request_id: str, engineer_id: str, engineer_name: str | None, reason: str, by: str, now: datetime,
    answer_due_at: datetime, approximate: bool,
) -> ReplacementRequest:
    return ReplacementRequest(
        id=request_id, engineer_id=engineer_id, engineer_name=engineer_name, reason=reason, requested_at=now,
        requested_by=by, answer_due_at=answer_due_at, due_approximate=approximate,
        history=(ReplacementStep(step="requested", at=now, by=by, note=reason),),
    )


def answered(r: ReplacementRequest, *, plan: str, replace_by: date, by: str, now: datetime, today: date) -> ReplacementRequest:
    if r.state != "requested":
        raise ReplacementRefused("err.replacement_answered", allowed=[], request=r.id)
    if replace_by < today:
        raise ValueError("replace_by")
    step = ReplacementStep(step="answered", at=now, by=by, note=plan, replace_by=replace_by)
    return r.model_copy(update={
        "state": "answered", "plan": plan, "replace_by": replace_by, "answered_at": now, "answered_by": by,
        "history": (*r.history, step),
    })
