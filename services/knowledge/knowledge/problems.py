"""Problems: candidate detection over recent incidents, the problem lifecycle, known errors and escalation. Pure."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.contracts.knowledge import (
    ProblemCreatedV1,
    ProblemEscalatedV1,
    ProblemKnownErrorV1,
    ProblemResolvedV1,
)

from .domain import IllegalTransition, LogEntry

ProblemState = Literal["open", "investigating", "known_error", "resolved"]
CandidateStatus = Literal["pending", "confirmed", "dismissed"]


class Incident(BaseModel):
    """The knowledge service's own compact projection of a ticket.created, for detection."""

    model_config = ConfigDict(frozen=True)

    ticket_id: str
    number: str
    title: str
    terms: list[str] = Field(description="Distinct index terms of title and description")
    service_code: str
    asset_tag: str | None = None
    reported_at: datetime
    group_id: str | None = None
    problem_id: str | None = None


@dataclass(frozen=True)
class DetectionRules:
    window: timedelta = timedelta(days=30)
    asset_threshold: float = 0.25
    service_threshold: float = 0.5


@dataclass(frozen=True)
class Match:
    ticket_id: str
    score: float
    same_asset: bool


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard similarity of two term sets."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def find_matches(new: Incident, recent: Iterable[Incident], *, rules: DetectionRules) -> list[Match]:
    """Earlier incidents inside the window on the same asset (looser text match) or the same service (stricter)."""
    matches: dict[str, Match] = {}
    for old in recent:
        if old.ticket_id == new.ticket_id or abs(new.reported_at - old.reported_at) > rules.window:
            continue
        same_asset = bool(new.asset_tag) and old.asset_tag == new.asset_tag
        if not same_asset and old.service_code != new.service_code:
            continue
        score = similarity(new.terms, old.terms)
        if score >= (rules.asset_threshold if same_asset else rules.service_threshold):
            matches[old.ticket_id] = Match(old.ticket_id, round(score, 4), same_asset)
    return sorted(matches.values(), key=lambda m: (-m.score, m.ticket_id))


@dataclass(frozen=True)
class Placement:
    """Where a new incident goes: a recurrence of a problem, into a pending candidate group, a new group, or nowhere."""

    kind: Literal["recurrence", "join", "new_group", "none"]
    target_id: str | None = None
    matched: tuple[str, ...] = ()


def place(matches: Sequence[Match], matched: dict[str, Incident]) -> Placement:
    """Best match first: an incident already in a problem makes this a recurrence; else join its pending group."""
    ids = tuple(m.ticket_id for m in matches if m.ticket_id in matched)
    for m in matches:
        inc = matched.get(m.ticket_id)
        if inc is not None and inc.problem_id:
            return Placement("recurrence", inc.problem_id, ids)
    for m in matches:
        inc = matched.get(m.ticket_id)
        if inc is not None and inc.group_id:
            return Placement("join", inc.group_id, ids)
    return Placement("new_group", None, ids) if ids else Placement("none")


class Candidate(BaseModel):
    """Incidents that look like one root cause, waiting for the desk to confirm (a problem) or dismiss them."""

    model_config = ConfigDict(frozen=True)

    id: str
    status: CandidateStatus = "pending"
    title: str
    service_code: str
    asset_tag: str | None = None
    incident_ids: list[str]
    score: float
    created_at: datetime
    updated_at: datetime
    problem_id: str | None = None
    decided_by: str | None = None
    rev: int = 0


def new_candidate(new: Incident, matches: Sequence[Match], *, now: datetime) -> Candidate:
    assets = any(m.same_asset for m in matches)
    return Candidate(
        id=str(uuid.uuid4()), title=new.title, service_code=new.service_code,
        asset_tag=new.asset_tag if assets else None,
        incident_ids=[*(m.ticket_id for m in reversed(matches)), new.ticket_id],
        score=max(m.score for m in matches), created_at=now, updated_at=now,
    )


def join_candidate(candidate: Candidate, ticket_id: str, score: float, *, now: datetime) -> Candidate:
    if ticket_id in candidate.incident_ids:
        return candidate
    return candidate.model_copy(update={
        "incident_ids": [*candidate.incident_ids, ticket_id], "score": max(candidate.score, score), "updated_at": now,
    })


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    number: str
    title: str
    description: str = ""
    state: ProblemState = "open"
    service_code: str | None = None
    asset_tag: str | None = None
    incident_ids: list[str] = Field(default_factory=list)
    recurrence_ids: list[str] = Field(default_factory=list, description="Incidents that matched after it was recorded")
    candidate_id: str | None = None
    root_cause: str | None = None
    workaround: str | None = None
    permanent_fix: str | None = None
    prevention: str | None = None
    article_id: str | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime
    known_error_at: datetime | None = None
    resolved_at: datetime | None = None
    escalated_at: datetime | None = None
    escalated_to: list[str] = Field(default_factory=list)
    log: list[LogEntry] = Field(default_factory=list)
    rev: int = 0


class ProblemFields(BaseModel):
    """What the desk and engineers fill in while investigating; None leaves a field as it is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    root_cause: str | None = Field(default=None, max_length=10_000)
    workaround: str | None = Field(default=None, max_length=10_000)
    permanent_fix: str | None = Field(default=None, max_length=10_000)
    prevention: str | None = Field(default=None, max_length=10_000)
    article_id: str | None = Field(default=None, max_length=64)


PROBLEM_TRANSITIONS: dict[str, tuple[frozenset[str], ProblemState]] = {
    "investigate": (frozenset({"open"}), "investigating"),
    "known_error": (frozenset({"open", "investigating"}), "known_error"),
    "resolve": (frozenset({"open", "investigating", "known_error"}), "resolved"),
    "reopen": (frozenset({"resolved"}), "investigating"),
}


def open_problem(
    *, number: str, title: str, by: str, now: datetime, description: str = "", service_code: str | None = None,
    asset_tag: str | None = None, incident_ids: Sequence[str] = (), candidate_id: str | None = None,
    escalate_to: Sequence[str] = (), problem_id: str | None = None,
) -> tuple[Problem, ProblemCreatedV1]:
    problem = Problem(
        id=problem_id or str(uuid.uuid4()), number=number, title=title, description=description,
        service_code=service_code, asset_tag=asset_tag, incident_ids=list(dict.fromkeys(incident_ids)),
        candidate_id=candidate_id, created_by=by, created_at=now, updated_at=now,
        escalated_at=now if escalate_to else None, escalated_to=list(escalate_to),
        log=[LogEntry(at=now, by=by, action="create", to_state="open")],
    )
    event = ProblemCreatedV1(
        problem_id=problem.id, number=number, title=title, service_code=service_code, asset_tag=asset_tag,
        incident_ids=problem.incident_ids, candidate_id=candidate_id, escalate_to=list(escalate_to),
        created_by=by, created_at=now,
    )
    return problem, event


def update_problem(problem: Problem, fields: ProblemFields, *, by: str, now: datetime) -> Problem:
    if problem.state == "resolved":
        raise IllegalTransition("a resolved problem must be reopened before it is changed")
    changes: dict[str, Any] = {k: v for k, v in fields.model_dump(exclude_none=True).items()}
    if not changes:
        return problem
    log = LogEntry(at=now, by=by, action="update", from_state=problem.state, to_state=problem.state, note=", ".join(sorted(changes)))
    return problem.model_copy(update={**changes, "updated_at": now, "log": [*problem.log, log]})


def problem_transition(
    problem: Problem, action: str, fields: ProblemFields, *, by: str, now: datetime, note: str | None = None
) -> tuple[Problem, list[EventData]]:
    """Known error needs a root cause and a workaround; resolved needs a permanent fix."""
    if action not in PROBLEM_TRANSITIONS:
        raise IllegalTransition(f"unknown action {action}")
    sources, target = PROBLEM_TRANSITIONS[action]
    if problem.state not in sources:
        raise IllegalTransition(f"cannot {action} a problem that is {problem.state}")
    merged = problem.model_copy(update=fields.model_dump(exclude_none=True))
    events: list[EventData] = []
    changes: dict[str, Any] = {"state": target, "updated_at": now}
    if target == "known_error":
        if not merged.root_cause or not merged.workaround:
            raise IllegalTransition("a known error needs a root cause and a workaround")
        changes["known_error_at"] = now
        events.append(ProblemKnownErrorV1(
            problem_id=problem.id, number=problem.number, title=merged.title, service_code=problem.service_code,
            root_cause=merged.root_cause, workaround=merged.workaround, article_id=merged.article_id,
            incident_count=len(problem.incident_ids), by=by, at=now,
        ))
    if target == "resolved":
        if not merged.permanent_fix:
            raise IllegalTransition("resolving a problem needs its permanent fix")
        changes["resolved_at"] = now
        events.append(ProblemResolvedV1(
            problem_id=problem.id, number=problem.number, title=merged.title, service_code=problem.service_code,
            root_cause=merged.root_cause, permanent_fix=merged.permanent_fix, prevention=merged.prevention,
            incident_count=len(problem.incident_ids), recurrence_count=len(problem.recurrence_ids), by=by, resolved_at=now,
        ))
    if action == "reopen":
        changes["resolved_at"] = None
    log = LogEntry(at=now, by=by, action=action, from_state=problem.state, to_state=target, note=note)
    return merged.model_copy(update={**changes, "log": [*problem.log, log]}), events


def record_recurrence(problem: Problem, ticket_id: str, *, now: datetime) -> Problem:
    """A new incident matched an incident of this problem: link it and count it."""
    if ticket_id in problem.incident_ids:
        return problem
    return problem.model_copy(update={
        "incident_ids": [*problem.incident_ids, ticket_id],
        "recurrence_ids": [*problem.recurrence_ids, ticket_id],
        "updated_at": now,
    })


def escalate(problem: Problem, *, notify: Sequence[str], reason: str, by: str, now: datetime) -> tuple[Problem, ProblemEscalatedV1]:
    """Unknown problems (no root cause yet) go to senior engineers with the project manager."""
    if problem.state == "resolved":
        raise IllegalTransition("a resolved problem is not escalated")
    if problem.root_cause:
        raise IllegalTransition("the root cause is known: nothing to escalate")
    log = LogEntry(at=now, by=by, action="escalate", from_state=problem.state, to_state=problem.state, note=reason)
    updated = problem.model_copy(update={
        "escalated_at": now, "escalated_to": list(notify), "updated_at": now, "log": [*problem.log, log],
    })
    event = ProblemEscalatedV1(
        problem_id=problem.id, number=problem.number, title=problem.title, reason=reason, notify=list(notify),
        by=by, escalated_at=now,
    )
    return updated, event


def due_for_escalation(problem: Problem, *, after: timedelta, now: datetime) -> bool:
    """Still no root cause `after` its creation, and never escalated."""
    return (
        problem.state in ("open", "investigating") and not problem.root_cause
        and problem.escalated_at is None and now - problem.created_at >= after
    )
