"""Dispatch's HTTP edge: read the roster and assignments."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.logs import correlation_id

from .. import service
from ..domain import Assignment, Engineer, EngineerStatus, IllegalStep, NoEngineerAvailable, Role
from ..duty import Shift
from ..ports import ConcurrentUpdate

router = APIRouter(prefix="/api/v1")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


@router.get("/engineers", response_model=list[Engineer], tags=["roster"])
async def list_engineers(wired: Wired) -> list[Engineer]:
    return await wired.roster.engineers()  # type: ignore[no-any-return]


@router.get("/assignments/{ticket_id}", response_model=Assignment, tags=["assignments"])
async def read_assignment(ticket_id: str, wired: Wired) -> Assignment:
    assignment = await wired.assignments.get(ticket_id)
    if assignment is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {ticket_id} has no assignment")
    return assignment  # type: ignore[no-any-return]


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engineer_id: str = Field(min_length=1, max_length=64)


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100, description="The desk agent confirming")
    eta: datetime | None = Field(default=None, description="The engineer's ETA or on-site time (ISO 8601 with offset)")


class DelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)
    cannot_go: bool = False


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engineer_id: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=1000)
    by: str = Field(min_length=1, max_length=100)


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["technical", "other"]
    description: str = Field(min_length=1, max_length=4000)


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=100)


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    record: str = Field(min_length=1, max_length=10_000, description="The service record")


def _context() -> dict[str, Any]:
    return {"now": datetime.now(UTC), "correlation_id": correlation_id.get() or str(uuid.uuid4())}


async def _run(call: Awaitable[Assignment]) -> Assignment:
    """Maps the lifecycle's refusals to status codes with what would have been allowed."""
    try:
        return await call
    except service.UnknownAssignment as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {exc} has no assignment") from None
    except LookupError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except IllegalStep as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": str(exc), "allowed": exc.allowed}) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": "the assignment changed meanwhile; reload and retry"}) from None
    except NoEngineerAvailable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": str(exc)}) from None


@router.post("/assignments/{ticket_id}/accept", response_model=Assignment, tags=["assignments"])
async def accept(ticket_id: str, body: AcceptIn, wired: Wired) -> Assignment:
    return await _run(service.accept(ticket_id, engineer_id=body.engineer_id, assignments=wired.assignments, outbox=wired.outbox, **_context()))


@router.post("/assignments/{ticket_id}/confirm", response_model=Assignment, tags=["assignments"])
async def confirm(ticket_id: str, body: ConfirmIn, wired: Wired) -> Assignment:
    """The desk confirms execution (the contract: within 30 minutes of assignment)."""
    return await _run(service.confirm(ticket_id, eta=body.eta, by=body.by, assignments=wired.assignments, outbox=wired.outbox, **_context()))


@router.post("/assignments/{ticket_id}/delay", response_model=Assignment, tags=["assignments"])
async def delay(ticket_id: str, body: DelayIn, wired: Wired) -> Assignment:
    """The engineer is late or cannot go: re-dispatched to someone else at once."""
    return await _run(service.delay(
        ticket_id, reason=body.reason, cannot_go=body.cannot_go, roster=wired.roster, assignments=wired.assignments,
        outbox=wired.outbox, **_context(),
    ))


@router.post("/assignments/{ticket_id}/reassign", response_model=Assignment, tags=["assignments"])
async def reassign(ticket_id: str, body: ReassignIn, wired: Wired) -> Assignment:
    """A desk agent's override, with its reason."""
    return await _run(service.reassign(
        ticket_id, engineer_id=body.engineer_id, reason=body.reason, by=body.by, roster=wired.roster,
        assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ))


@router.post("/assignments/{ticket_id}/escalations", response_model=Assignment, tags=["assignments"])
async def escalate(ticket_id: str, body: EscalateIn, wired: Wired) -> Assignment:
    """An abnormal event: to the project manager (and a senior engineer when technical)."""
    return await _run(service.escalate(
        ticket_id, kind=body.kind, description=body.description, roster=wired.roster, assignments=wired.assignments,
        outbox=wired.outbox, **_context(),
    ))


@router.post("/assignments/{ticket_id}/escalations/{escalation_id}/acknowledge", response_model=Assignment, tags=["assignments"])
async def acknowledge(ticket_id: str, escalation_id: str, body: AcknowledgeIn, wired: Wired) -> Assignment:
    return await _run(service.acknowledge(
        ticket_id, escalation_id=escalation_id, by=body.by, assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ))


@router.post("/assignments/{ticket_id}/complete", response_model=Assignment, tags=["assignments"])
async def complete(ticket_id: str, body: CompleteIn, wired: Wired) -> Assignment:
    """The engineer's service record; the desk reviews it."""
    return await _run(service.complete(
        ticket_id, record=body.record, roster=wired.roster, assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ))


class EngineerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    skills: list[str] = Field(default_factory=list, max_length=30)
    status: EngineerStatus = "available"
    capacity: int = Field(default=8, ge=1, le=100)
    home_site: str | None = Field(default=None, max_length=100)
    shifts: list[Shift] = Field(default_factory=list, max_length=50, description="Duty rota; none means always on duty")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: EngineerStatus


@router.put("/engineers/{engineer_id}", response_model=Engineer, tags=["roster"])
async def put_engineer(engineer_id: str, body: EngineerIn, wired: Wired) -> Engineer:
    """Create or replace an engineer and their duty rota (the open load is kept)."""
    engineer = Engineer(id=engineer_id, **{**body.model_dump(), "skills": tuple(body.skills), "shifts": tuple(body.shifts)})
    return await wired.roster.save(engineer)  # type: ignore[no-any-return]


@router.patch("/engineers/{engineer_id}/status", response_model=Engineer, tags=["roster"])
async def set_status(engineer_id: str, body: StatusIn, wired: Wired) -> Engineer:
    """Engineers set their own status: available, busy, off duty, on leave."""
    engineer = await wired.roster.set_status(engineer_id, body.status)
    if engineer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no engineer {engineer_id}")
    if body.status == "available" and wired.waiting is not None:
        await wired.waiting.retry()  # someone is free: waiting tickets need not wait for the next round
    return engineer  # type: ignore[no-any-return]


class HelpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=4000)


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approved: bool
    by: str = Field(min_length=1, max_length=100)
    comment: str | None = Field(default=None, max_length=4000)


@router.post("/assignments/{ticket_id}/help", response_model=Assignment, tags=["assignments"])
async def ask_for_help(ticket_id: str, body: HelpIn, wired: Wired) -> Assignment:
    """The engineer asks the desk for help; published as assignment.help_requested."""
    return await _run(service.ask_for_help(ticket_id, question=body.question, assignments=wired.assignments, outbox=wired.outbox, **_context()))


@router.post("/assignments/{ticket_id}/review", response_model=Assignment, tags=["assignments"])
async def review(ticket_id: str, body: ReviewIn, wired: Wired) -> Assignment:
    """The desk reviews the service record: approved, or back to the engineer with a comment."""
    return await _run(service.review(
        ticket_id, approved=body.approved, comment=body.comment, by=body.by, roster=wired.roster,
        assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ))
