"""Dispatch's HTTP edge: the roster and each ticket's assignment, acted on by the verified caller.

Who acts is always the caller the gateway's signed token names (`VerifiedCaller`); a request body says what is
done, never who does it. Who may do what is decided in `domain` (STEP_PARTIES, may_*); this module only maps the
refusals to status codes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from opsdesk_shared.errors import error_response, language
from opsdesk_shared.internal_auth import VerifiedCaller
from opsdesk_shared.localtime import AwareDatetime
from opsdesk_shared.logs import correlation_id

from .. import domain, service
from ..agency import service as agency_service
from ..agency.domain import UnauthorizedWork
from ..domain import (
    Actor,
    Assignment,
    AssignmentStatus,
    Engineer,
    EngineerStatus,
    Forbidden,
    IllegalStep,
    NoEngineerAvailable,
    Role,
)
from ..duty import Shift
from ..listing import BadCursor, EscalationStatus, EscalationView
from ..ports import ConcurrentUpdate
from ..texts import Said, render


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


def _actor(caller: VerifiedCaller) -> Actor:
    """The verified caller as the domain knows it."""
    return Actor(subject=caller.subject, role=caller.role, engineer_id=caller.engineer_id)


def _gate(actor: Annotated[Actor, Depends(_actor)]) -> None:
    """Refuses requesters before anything else, so even a malformed body gets them a 403, not a 422."""
    if not domain.may_use_dispatch(actor):
        raise Refusal(status.HTTP_403_FORBIDDEN, Forbidden("err.no_access", role=actor.role))


router = APIRouter(prefix="/api/v1", dependencies=[Depends(_gate)])
T = TypeVar("T")
Wired = Annotated[Any, Depends(_adapters)]
Acting = Annotated[Actor, Depends(_actor)]
TicketRef = Annotated[str, Path(description="Intake's ticket id, or the ticket number people say on the phone (INC-2026-000009)")]


def _context() -> dict[str, Any]:
    return {"now": datetime.now(UTC), "correlation_id": correlation_id.get() or str(uuid.uuid4())}


class Refusal(Exception):
    """A refusal on its way to the one error shape, its text rendered in the caller's language by `install_errors`."""

    def __init__(
        self, status_code: int, said: Said, *, code: str | None = None, loc: list[str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(str(said))
        self.status_code = status_code
        self.code = code
        self.said = said
        self.loc = loc
        self.extra = extra or {}


def install_errors(app: FastAPI) -> None:
    """Dispatch's refusals in the services' one shape (opsdesk_shared.errors), texts in the caller's language:
    403 who, 404 what is not there, 409 a state conflict with what is allowed, 422 the field and the real reason."""

    @app.exception_handler(Refusal)
    async def refused(request: Request, exc: Refusal) -> JSONResponse:
        text = exc.said.text(language(request))
        detail: Any = [{"loc": exc.loc, "msg": text, "type": "value_error"}] if exc.loc else text
        return error_response(request, exc.status_code, code=exc.code, detail=detail, extra=exc.extra)


async def _run(call: Awaitable[T]) -> T:
    """Maps the refusals to status codes: 403 for who, 404 for what is not there (or not theirs to see), 409 for when
    (with the steps that would fit), 422 for a request naming what cannot be (an engineer not on the roster)."""
    try:
        return await call
    except Forbidden as exc:
        raise Refusal(status.HTTP_403_FORBIDDEN, exc) from None
    except BadCursor as exc:
        raise Refusal(422, exc, loc=["query", "cursor"]) from None
    except service.NotOnRoster as exc:
        raise Refusal(422, exc, loc=["body", exc.field]) from None
    except domain.EtaInPast as exc:
        raise Refusal(422, exc, loc=["body", "eta"]) from None
    except (service.UnknownAssignment, service.UnknownEngineer, domain.UnknownEscalation) as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, exc) from None
    except IllegalStep as exc:
        raise Refusal(status.HTTP_409_CONFLICT, exc, code="illegal_transition", extra={"allowed": exc.allowed}) from None
    except ConcurrentUpdate:
        raise Refusal(status.HTTP_409_CONFLICT, Said("err.changed"), extra={"allowed": []}) from None
    except NoEngineerAvailable as exc:
        raise Refusal(status.HTTP_409_CONFLICT, exc, extra={"allowed": ["reassign"]}) from None


def _localized(a: Assignment, lang: str) -> Assignment:
    """The assignment as the caller reads it: dispatch's reason, visit note and its own history notes said in their language
    (the code and parameters stay for programs); free text people wrote (a delay reason, a question) as written."""
    steps = tuple(
        s.model_copy(update={"note": render(s.code, s.params, lang)}) if s.code else s for s in a.history
    )
    reason = render(a.reason_code, a.reason_params, lang) if a.reason_code else a.reason
    note = render(a.visit_note_code, a.visit_note_params, lang) if a.visit_note_code else a.visit_note
    return a.model_copy(update={"reason": reason, "history": steps, "visit_note": note})


async def _shown(call: Awaitable[Assignment], request: Request) -> Assignment:
    return _localized(await _run(call), language(request))


async def _engineer_act(
    call: Awaitable[Assignment], request: Request, *, ticket_id: str, step: str, actor: Actor, wired: Any,
) -> Assignment:
    """An engineer's step on a job. Refused on a ticket the agency has not authorized (waiting for it, or declined):
    then the refusal says so (409, nothing allowed) and the attempt is announced as a violation (agency/)."""
    try:
        return await _shown(call, request)
    except Refusal as refusal:
        oversight = getattr(wired, "oversight", None)
        if refusal.status_code not in (status.HTTP_404_NOT_FOUND, status.HTTP_409_CONFLICT) or oversight is None:
            raise
        try:
            await agency_service.refuse_if_unauthorized(ticket_id, actor=actor, step=step, oversight=oversight, **_context())
        except UnauthorizedWork as exc:
            raise Refusal(status.HTTP_409_CONFLICT, exc, code="unauthorized_work", extra={"allowed": []}) from None
        raise


# --- the roster ---


class EngineerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "陈志强", "role": "onsite", "skills": ["desktop", "printer"], "home_site": "主楼",
        "shifts": [{"weekdays": [0, 1, 2, 3, 4], "start": "08:30", "end": "17:30", "mode": "onsite"}],
    }]})

    name: str = Field(min_length=1, max_length=100)
    role: Role
    skills: list[str] = Field(default_factory=list, max_length=30)
    status: EngineerStatus = "available"
    capacity: int = Field(default=8, ge=1, le=100)
    home_site: str | None = Field(default=None, max_length=100)
    shifts: list[Shift] = Field(default_factory=list, max_length=50, description="Duty rota; none means always on duty")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "on_leave"}]})
    status: EngineerStatus


@router.get("/engineers", response_model=list[Engineer], tags=["roster"])
async def list_engineers(actor: Acting, wired: Wired) -> list[Engineer]:
    """The roster with each engineer's open load (staff and services; requesters may not)."""
    return await _run(service.list_engineers(actor=actor, roster=wired.roster))


@router.get("/engineers/{engineer_id}", response_model=Engineer, tags=["roster"])
async def read_engineer(engineer_id: str, actor: Acting, wired: Wired) -> Engineer:
    """One engineer; the gateway (as a service) checks a user's engineer link against it."""
    return await _run(service.read_engineer(engineer_id, actor=actor, roster=wired.roster))


@router.put("/engineers/{engineer_id}", response_model=Engineer, tags=["roster"])
async def put_engineer(engineer_id: str, body: EngineerIn, actor: Acting, wired: Wired) -> Engineer:
    """Create or replace an engineer and their duty rota (the open load is kept); the desk only."""
    engineer = Engineer(id=engineer_id, **{**body.model_dump(), "skills": tuple(body.skills), "shifts": tuple(body.shifts)})
    return await _run(service.save_engineer(engineer, actor=actor, roster=wired.roster))


@router.patch("/engineers/{engineer_id}/status", response_model=Engineer, tags=["roster"])
async def set_status(engineer_id: str, body: StatusIn, actor: Acting, wired: Wired) -> Engineer:
    """An engineer sets their own status (available, busy, off duty, on leave); the desk sets anyone's."""
    engineer = await _run(service.set_engineer_status(engineer_id, body.status, actor=actor, roster=wired.roster))
    if body.status == "available" and wired.waiting is not None:
        await wired.waiting.retry()  # someone is free: waiting tickets need not wait for the next round
    return engineer


# --- assignments ---


class NoBodyIn(BaseModel):
    """Steps that need no input take no body; one that names an actor (`by`, `engineer_id`) is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"eta": "2026-11-26T10:30:00+08:00"}]})
    eta: AwareDatetime | None = Field(default=None, description="The engineer's ETA or on-site time (ISO 8601 with offset)")


class DelayIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "車輛故障", "cannot_go": True}]})
    reason: str = Field(min_length=1, max_length=1000)
    cannot_go: bool = False


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"to": "eng-onsite-2", "reason": "需要網絡技能"}]})
    to: str = Field(min_length=1, max_length=64, description="The roster engineer the ticket goes to")
    reason: str = Field(min_length=1, max_length=1000)


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"kind": "technical", "description": "服務器宕機"}]})
    kind: Literal["technical", "other"]
    description: str = Field(min_length=1, max_length=4000)


class PartIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    part: str | None = Field(default=None, min_length=1, max_length=100, description="The part in the engineer's words")
    sku: str | None = Field(default=None, min_length=1, max_length=100, description="The spare stock's part type, when taken from stock")
    quantity: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _named(self) -> PartIn:
        if self.part is None and self.sku is None:
            raise ValueError("name the part (part) or its stock part type (sku)")
        return self


class CompleteIn(BaseModel):
    """The service record the engineer completes with; the desk reviews it on the ticket."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [{
        "work_done": "更換硒鼓並清潔定影器,打印正常", "parts_used": [{"part": "HP 26A 硒鼓", "sku": "toner-hp26a", "quantity": 1}],
        "minutes_on_site": 25,
    }]})
    work_done: str = Field(min_length=1, max_length=5000, description="What was found and done")
    parts_used: list[PartIn] = Field(default_factory=list, max_length=50)
    minutes_on_site: int = Field(default=0, ge=0, le=24 * 60)


class HelpIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "E-302 是什麼錯誤?"}]})
    question: str = Field(min_length=1, max_length=4000)


class AssignmentPage(BaseModel):
    items: list[Assignment]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


class EscalationPage(BaseModel):
    items: list[EscalationView]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


@router.get("/assignments", response_model=AssignmentPage, tags=["assignments"], summary="List assignments (my work, the desk's view)")
async def list_assignments(
    actor: Acting,
    wired: Wired,
    request: Request,
    engineer: Annotated[list[str] | None, Query(max_length=64, description="Roster engineer id; repeat for several")] = None,
    status_: Annotated[list[AssignmentStatus] | None, Query(alias="status")] = None,
    overdue: Annotated[bool | None, Query(
        description="true: a clock the SLA monitor announced as run out (confirmation, an escalation's "
        "acknowledgement) waits for its step; false: none does",
    )] = None,
    ticket: Annotated[str | None, Query(max_length=64, description="Ticket id or number (INC-2026-000009)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> AssignmentPage:
    """Newest ticket first (by ticket number, then id: a stable order, so cursor pages never repeat or skip one).
    Filters combine with AND, repeated values of one filter with OR. An engineer lists their own assignments (the
    token's roster link), by default and only those: naming another engineer is a 403. The desk, auditors and
    services list everyone's and filter by engineer."""
    items, next_cursor = await _run(service.list_assignments(
        actor=actor, engineers=engineer, statuses=status_, overdue=overdue, ticket=ticket, cursor=cursor, limit=limit,
        assignments=wired.assignments,
    ))
    lang = language(request)
    return AssignmentPage(items=[_localized(a, lang) for a in items], next_cursor=next_cursor)


@router.get("/escalations", response_model=EscalationPage, tags=["assignments"], summary="List escalations")
async def list_escalations(
    actor: Acting,
    wired: Wired,
    status_: Annotated[EscalationStatus, Query(alias="status", description="open: not acknowledged yet; acknowledged; closed: the ticket ended first (the assignment withdrawn)")] = "open",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> EscalationPage:
    """Newest raised first. The project manager (role manager) and the desk see all; an engineer those naming them
    (by the token's roster link)."""
    items, next_cursor = await _run(service.list_escalations(
        actor=actor, status=status_, cursor=cursor, limit=limit, assignments=wired.assignments,
    ))
    return EscalationPage(items=items, next_cursor=next_cursor)


@router.get("/assignments/{ticket_id}", response_model=Assignment, tags=["assignments"])
async def read_assignment(ticket_id: TicketRef, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """A ticket's assignment with history and score; an engineer sees only the ones they hold (404 for others)."""
    return await _shown(service.read_assignment(ticket_id, actor=actor, assignments=wired.assignments), request)


@router.post("/assignments/{ticket_id}/accept", response_model=Assignment, tags=["assignments"])
async def accept(ticket_id: TicketRef, actor: Acting, wired: Wired, request: Request, body: NoBodyIn | None = None) -> Assignment:
    """The engineer who holds the assignment takes it on."""
    return await _engineer_act(
        service.accept(ticket_id, actor=actor, assignments=wired.assignments, outbox=wired.outbox, **_context()), request,
        ticket_id=ticket_id, step="accept", actor=actor, wired=wired,
    )


@router.post("/assignments/{ticket_id}/confirm", response_model=Assignment, tags=["assignments"])
async def confirm(ticket_id: TicketRef, body: ConfirmIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """The desk confirms execution (the contract: within 30 minutes of assignment)."""
    return await _shown(service.confirm(
        ticket_id, eta=body.eta, actor=actor, assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request)


@router.post("/assignments/{ticket_id}/delay", response_model=Assignment, tags=["assignments"])
async def delay(ticket_id: TicketRef, body: DelayIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """The engineer (or the desk they rang) reports being late or unable: re-dispatched to someone else at once."""
    return await _engineer_act(service.delay(
        ticket_id, reason=body.reason, cannot_go=body.cannot_go, actor=actor, roster=wired.roster,
        assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request, ticket_id=ticket_id, step="delay", actor=actor, wired=wired)


@router.post("/assignments/{ticket_id}/reassign", response_model=Assignment, tags=["assignments"])
async def reassign(ticket_id: TicketRef, body: ReassignIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """The desk's override, with its reason."""
    return await _shown(service.reassign(
        ticket_id, engineer_id=body.to, reason=body.reason, actor=actor, roster=wired.roster,
        assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request)


@router.post("/assignments/{ticket_id}/escalations", response_model=Assignment, tags=["assignments"])
async def escalate(ticket_id: TicketRef, body: EscalateIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """An abnormal event: to the project manager (and a senior engineer when technical)."""
    return await _engineer_act(service.escalate(
        ticket_id, kind=body.kind, description=body.description, actor=actor, roster=wired.roster,
        assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request, ticket_id=ticket_id, step="escalate", actor=actor, wired=wired)


@router.post("/assignments/{ticket_id}/escalations/{escalation_id}/acknowledge", response_model=Assignment, tags=["assignments"])
async def acknowledge(ticket_id: TicketRef, escalation_id: str, actor: Acting, wired: Wired, request: Request, body: NoBodyIn | None = None) -> Assignment:
    """One of the people the escalation was raised to (a manager, or an engineer it names) has it in hand."""
    return await _shown(service.acknowledge(
        ticket_id, escalation_id=escalation_id, actor=actor, assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request)


@router.post("/assignments/{ticket_id}/complete", response_model=Assignment, tags=["assignments"])
async def complete(ticket_id: TicketRef, body: CompleteIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """The engineer completes with the service record (work done, parts used, minutes on site), published as
    assignment.completed: intake puts it on the ticket, where the desk approves or returns it
    (`POST /api/v1/tickets/{id}/service-record/review`); the assignment follows that verdict."""
    parts = [domain.PartUsed(part=p.part, sku=p.sku, quantity=p.quantity) for p in body.parts_used]
    return await _engineer_act(service.complete(
        ticket_id, work_done=body.work_done, parts_used=parts, minutes_on_site=body.minutes_on_site, actor=actor, roster=wired.roster, assignments=wired.assignments, outbox=wired.outbox,
        **_context(),
    ), request, ticket_id=ticket_id, step="complete", actor=actor, wired=wired)


@router.post("/assignments/{ticket_id}/help", response_model=Assignment, tags=["assignments"])
async def ask_for_help(ticket_id: TicketRef, body: HelpIn, actor: Acting, wired: Wired, request: Request) -> Assignment:
    """The engineer on the job asks the desk for help; published as assignment.help_requested."""
    return await _engineer_act(service.ask_for_help(
        ticket_id, question=body.question, actor=actor, assignments=wired.assignments, outbox=wired.outbox, **_context(),
    ), request, ticket_id=ticket_id, step="help", actor=actor, wired=wired)
