"""Problems and known errors over HTTP, under /api/v1/problems."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from .. import problem_service as ps
from ..problems import Candidate, Problem, ProblemFields
from .common import Caller, Wired, cid, now, run

router = APIRouter(prefix="/api/v1/problems", tags=["problems"])


class ProblemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    service_code: str | None = Field(default=None, max_length=64)
    asset_tag: str | None = Field(default=None, max_length=64)
    incident_ids: list[str] = Field(default_factory=list, max_length=500)
    escalate: bool = Field(default=False, description="Unknown cause: tell senior engineers and the PM at once")


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, min_length=1, max_length=200, description="Defaults to the first incident's")
    description: str = Field(default="", max_length=10_000)
    escalate: bool = False


class ProblemActionIn(ProblemFields):
    note: str | None = Field(default=None, max_length=1000)


class EscalateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="asked for by the desk", min_length=1, max_length=1000)


@router.get("", response_model=list[Problem])
async def list_problems(
    wired: Wired, actor: Caller, state: Literal["open", "investigating", "known_error", "resolved"] | None = None
) -> list[Problem]:
    return await run(ps.list_problems(actor=actor, problems_=wired.problems, state=state))


@router.post("", response_model=Problem, status_code=status.HTTP_201_CREATED, summary="Record a problem by hand")
async def create_problem(body: ProblemIn, wired: Wired, actor: Caller) -> Problem:
    return await run(ps.create_problem(
        actor=actor, title=body.title, description=body.description, service_code=body.service_code,
        asset_tag=body.asset_tag, incident_ids=body.incident_ids, escalate=body.escalate,
        notify=wired.settings.escalation_notify, problems_=wired.problems, incidents=wired.incidents,
        outbox=wired.problem_outbox, now=now(), correlation_id=cid(),
    ))


@router.get("/stats", summary="Recurrence and problems by state, for reporting")
async def problem_stats(wired: Wired, actor: Caller) -> dict[str, object]:
    return await run(ps.problem_stats(actor=actor, problems_=wired.problems, candidates=wired.candidates))


@router.get("/candidates", response_model=list[Candidate], summary="Detected groups of incidents with one likely cause")
async def list_candidates(
    wired: Wired, actor: Caller,
    status_: Annotated[Literal["pending", "confirmed", "dismissed"] | None, Query(alias="status")] = "pending",
) -> list[Candidate]:
    return await run(ps.list_candidates(actor=actor, candidates=wired.candidates, status=status_))


@router.post("/candidates/{candidate_id}/confirm", response_model=Problem, status_code=status.HTTP_201_CREATED)
async def confirm_candidate(candidate_id: str, wired: Wired, actor: Caller, body: ConfirmIn | None = None) -> Problem:
    body = body or ConfirmIn()
    return await run(ps.confirm_candidate(
        candidate_id, actor=actor, title=body.title, description=body.description, escalate=body.escalate,
        notify=wired.settings.escalation_notify, candidates=wired.candidates, problems_=wired.problems,
        incidents=wired.incidents, outbox=wired.problem_outbox, now=now(), correlation_id=cid(),
    ))


@router.post("/candidates/{candidate_id}/dismiss", response_model=Candidate)
async def dismiss_candidate(candidate_id: str, wired: Wired, actor: Caller) -> Candidate:
    return await run(ps.dismiss_candidate(candidate_id, actor=actor, candidates=wired.candidates, now=now()))


@router.get("/{problem_id}", response_model=Problem)
async def read_problem(problem_id: str, wired: Wired, actor: Caller) -> Problem:
    return await run(ps.read_problem(problem_id, actor=actor, problems_=wired.problems))


@router.patch("/{problem_id}", response_model=Problem, summary="Root cause, workaround, permanent fix, prevention")
async def update_problem(problem_id: str, body: ProblemFields, wired: Wired, actor: Caller) -> Problem:
    return await run(ps.update_problem(problem_id, body, actor=actor, problems_=wired.problems, now=now()))


@router.post("/{problem_id}/escalate", response_model=Problem, summary="To senior engineers with the project manager")
async def escalate_problem(problem_id: str, wired: Wired, actor: Caller, body: EscalateIn | None = None) -> Problem:
    body = body or EscalateIn()
    return await run(ps.escalate_problem(
        problem_id, actor=actor, reason=body.reason, notify=wired.settings.escalation_notify,
        problems_=wired.problems, outbox=wired.problem_outbox, now=now(), correlation_id=cid(),
    ))


@router.post(
    "/{problem_id}/{action}", response_model=Problem,
    summary="investigate, known_error (needs root cause and workaround), resolve (needs permanent fix), reopen",
)
async def problem_action(
    problem_id: str, action: Literal["investigate", "known_error", "resolve", "reopen"], wired: Wired, actor: Caller,
    body: ProblemActionIn | None = None,
) -> Problem:
    body = body or ProblemActionIn()
    fields = ProblemFields.model_validate(body.model_dump(exclude={"note"}))
    return await run(ps.act_on_problem(
        problem_id, action, fields, actor=actor, note=body.note, problems_=wired.problems,
        outbox=wired.problem_outbox, now=now(), correlation_id=cid(),
    ))
