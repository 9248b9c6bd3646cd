"""Problem use cases: detect candidates from new incidents, confirm them into problems, work problems to a fix."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from opsdesk_shared.contracts import TicketCreatedV1

from . import metrics, problems
from .domain import PROBLEM_READERS, PROBLEM_WRITERS, Actor, Forbidden, IllegalTransition, NotFound
from .ports import CandidateMoved, CandidateStore, EventOutbox, IncidentStore, ProblemStore
from .problems import Candidate, DetectionRules, Incident, Placement, Problem, ProblemFields
from .service import wrap
from .text import Analyzer

# Ids derived from what caused them, so a redelivered event or a retried request finds its earlier result.
_NS = uuid.UUID("5b0d3c9e-6c1f-4a57-9f53-8d6c1a2b7e40")


def _require(actor: Actor, roles: frozenset[str], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not {what}")


def incident_from(ticket: TicketCreatedV1, *, analyzer: Analyzer) -> Incident:
    return Incident(
        ticket_id=ticket.ticket_id, number=ticket.number, title=ticket.title,
        terms=analyzer.words(f"{ticket.title}\n{ticket.description or ''}"),
        service_code=ticket.service_code, asset_tag=ticket.asset_tag, reported_at=ticket.reported_at,
    )


def detection_keys(ticket: TicketCreatedV1) -> list[str]:
    """What detection of this ticket reads and changes: the recent incidents of its service and of its asset, and
    the candidates they belong to. The bus edge runs detections sharing a key one after the other, so a burst of
    alike tickets builds one candidate rather than one per concurrent handler."""
    if ticket.ticket_type not in DETECTED_TYPES:
        return []
    return [f"svc:{ticket.service_code}", *([f"asset:{ticket.asset_tag}"] if ticket.asset_tag else [])]


DETECTED_TYPES = ("incident", "repair")


# The best few matches decide where an incident goes; each one is a database read, so no more than these.
MATCHES_READ = 8


async def detect(
    ticket: TicketCreatedV1, *, analyzer: Analyzer, rules: DetectionRules, incidents: IncidentStore,
    candidates: CandidateStore, problems_: ProblemStore, now: datetime,
) -> Placement:
    """Project the incident, compare it with recent ones on its asset and service, and place it. Idempotent."""
    (placed,) = await detect_many(
        [ticket], analyzer=analyzer, rules=rules, incidents=incidents, candidates=candidates, problems_=problems_, now=now
    )
    if isinstance(placed, BaseException):
        raise placed
    return placed


async def detect_many(
    tickets: Sequence[TicketCreatedV1], *, analyzer: Analyzer, rules: DetectionRules, incidents: IncidentStore,
    candidates: CandidateStore, problems_: ProblemStore, now: datetime,
) -> list[Placement | BaseException]:
    """Place a batch of new incidents as if one after the other, in the order given, writing each candidate once.

    Issue 14: a burst of alike tickets all read and change one problem candidate. Placed one ticket at a time (each
    with its own insert, two bucket rewrites, up to eight incident reads, a candidate read, a join and a link) a
    burst drained at 0.3-6 tickets/s on a loaded machine. Here a batch is projected in one insert and one rewrite of
    each bucket it touches; the placements are decided in memory (an incident sees the recent ones before it in the
    batch, and where the earlier ones of the batch were placed); then each candidate is written once (a new one with
    every incident of the batch that joined it, an existing one by one merge of all its joins) and each incident is
    linked. Idempotent: a redelivered incident already placed is left alone; one projected but not placed (a crash
    between the writes) is placed again, and the merges ($addToSet, ids derived from the first incident) repeat
    nothing. One result a ticket, in order: its placement, or the error to redeliver it with (CandidateMoved when
    the candidate it was to join was confirmed or dismissed meanwhile)."""
    if not tickets:
        return []
    order = list(dict.fromkeys(t.ticket_id for t in tickets))
    by_id = {t.ticket_id: t for t in tickets}
    detected = [by_id[tid] for tid in order if by_id[tid].ticket_type in DETECTED_TYPES]
    placements: dict[str, Placement | BaseException] = {tid: Placement("none") for tid in order}
    news = [incident_from(t, analyzer=analyzer) for t in detected]
    added = await incidents.add_many(news)
    known: dict[str, Incident] = {}  # where incidents stand as this batch places them (else as stored)
    to_place: list[Incident] = []
    for new in news:
        if new.ticket_id in added:
            known[new.ticket_id] = new
            to_place.append(new)
            continue
        stored = await incidents.get(new.ticket_id)
        if stored is not None and (stored.group_id or stored.problem_id):
            continue  # placed on an earlier delivery
        known[new.ticket_id] = stored or new
        to_place.append(new)
    if not to_place:
        return [placements[tid] for tid in order]

    recent_by: dict[tuple[str, str | None], list[Incident]] = {}
    for new in to_place:
        pair = (new.service_code, new.asset_tag)
        if pair not in recent_by:
            since = min(i.reported_at for i in to_place if (i.service_code, i.asset_tag) == pair) - rules.window
            recent_by[pair] = await incidents.recent(service_code=new.service_code, asset_tag=new.asset_tag, since=since)
    position = {inc.ticket_id: n for n, inc in enumerate(to_place)}
    candidate_cache: dict[str, Candidate | None] = {}
    problem_cache: dict[str, Problem | None] = {}
    created: dict[str, Candidate] = {}  # new candidates of this batch, with every incident that joined them
    joins: dict[str, tuple[list[str], float]] = {}  # existing candidate -> (incidents joining it, best score)
    recurrences: dict[str, list[str]] = {}  # problem -> incidents recurring it
    group_links: dict[str, list[str]] = {}

    async def state_of(ticket_id: str) -> Incident | None:
        if ticket_id not in known:
            found = await incidents.get(ticket_id)
            if found is None:
                return None
            known[ticket_id] = found
        return known[ticket_id]

    async def candidate_of(candidate_id: str) -> Candidate | None:
        if candidate_id not in candidate_cache:
            candidate_cache[candidate_id] = await candidates.get(candidate_id)
        return candidate_cache[candidate_id]

    async def problem_of(problem_id: str) -> Problem | None:
        if problem_id not in problem_cache:
            problem_cache[problem_id] = await problems_.get(problem_id)
        return problem_cache[problem_id]

    def group(ticket_ids: Sequence[str], candidate_id: str) -> None:
        for tid in ticket_ids:
            if tid in known:
                known[tid] = known[tid].model_copy(update={"group_id": candidate_id})
            group_links.setdefault(candidate_id, [])
            if tid not in group_links[candidate_id]:
                group_links[candidate_id].append(tid)

    for n, new in enumerate(to_place):
        # What was recent for this incident placed alone: everything but the incidents after it in the batch.
        recent = [i for i in recent_by[(new.service_code, new.asset_tag)] if position.get(i.ticket_id, -1) < n]
        matches = problems.find_matches(new, recent, rules=rules)[:MATCHES_READ]
        matched = {m.ticket_id: inc for m in matches if (inc := await state_of(m.ticket_id)) is not None}
        placement = problems.place(matches, matched)
        if placement.kind == "join" and placement.target_id:
            score = max(m.score for m in matches)
            if placement.target_id in created:
                fresh = created[placement.target_id]
                created[placement.target_id] = fresh.model_copy(update={
                    "incident_ids": [*fresh.incident_ids, new.ticket_id], "score": max(fresh.score, score)})
                group([new.ticket_id], placement.target_id)
                placements[new.ticket_id] = placement
                continue
            candidate = await candidate_of(placement.target_id)
            if candidate is not None and candidate.status == "confirmed" and candidate.problem_id:
                placement = Placement("recurrence", candidate.problem_id, placement.matched)
            elif candidate is None or candidate.status != "pending":
                continue  # the desk dismissed that group: these are not one problem
            else:
                ids, best = joins.get(candidate.id, ([], 0.0))
                joins[candidate.id] = ([*ids, new.ticket_id], max(best, score))
                group([new.ticket_id], candidate.id)
                placements[new.ticket_id] = placement
                continue
        if placement.kind == "recurrence" and placement.target_id:
            if await problem_of(placement.target_id) is None:
                continue
            recurrences.setdefault(placement.target_id, []).append(new.ticket_id)
            known[new.ticket_id] = known[new.ticket_id].model_copy(update={"problem_id": placement.target_id})
            placements[new.ticket_id] = placement
            continue
        if placement.kind == "new_group":
            candidate = problems.new_candidate(new, matches, now=now).model_copy(
                update={"id": str(uuid.uuid5(_NS, f"candidate:{new.ticket_id}"))}
            )
            created[candidate.id] = candidate
            group(candidate.incident_ids, candidate.id)
            placements[new.ticket_id] = Placement("new_group", candidate.id, placement.matched)
            continue
        placements[new.ticket_id] = placement

    # The writes: each candidate once, then the links (a crash in between leaves incidents unplaced, placed again
    # on redelivery; the merges repeat nothing).
    failed: set[str] = set()
    for candidate in created.values():
        if await candidates.add(candidate):
            metrics.candidates.inc()
        elif await candidates.join_many(candidate.id, candidate.incident_ids, score=candidate.score, now=now) is None:
            failed.update(t for t in candidate.incident_ids if t in position)  # redelivered after a desk's decision
    for candidate_id, (ids, score) in joins.items():
        if await candidates.join_many(candidate_id, ids, score=score, now=now) is None:
            failed.update(ids)  # confirmed or dismissed meanwhile: placed again on redelivery
    for candidate_id, ids in group_links.items():
        linked = [t for t in ids if t not in failed]
        if linked:
            await incidents.link(linked, group_id=candidate_id)
    for problem_id, ids in recurrences.items():
        for tid in ids:
            if await problems_.add_recurrence(problem_id, tid, now=now):
                metrics.recurrences.inc()
        await incidents.link(ids, problem_id=problem_id)
    for tid in failed:
        was = placements[tid]
        placements[tid] = CandidateMoved(was.target_id if isinstance(was, Placement) and was.target_id else tid)
    return [placements[tid] for tid in order]


async def list_candidates(*, actor: Actor, candidates: CandidateStore, status: str | None = "pending") -> list[Candidate]:
    _require(actor, PROBLEM_READERS, "read problem candidates")
    return await candidates.list(status=status)


async def confirm_candidate(
    candidate_id: str, *, actor: Actor, title: str | None, description: str, escalate: bool, notify: Sequence[str],
    candidates: CandidateStore, problems_: ProblemStore, incidents: IncidentStore, outbox: EventOutbox, now: datetime,
    correlation_id: str,
) -> Problem:
    """The desk agrees the incidents share a root cause: a problem is recorded (problem.created)."""
    _require(actor, PROBLEM_WRITERS, "confirm problems")
    candidate = await candidates.get(candidate_id)
    if candidate is None:
        raise NotFound(f"candidate {candidate_id}")
    if candidate.status != "pending":
        raise IllegalTransition(f"candidate is {candidate.status}")
    problem_id = str(uuid.uuid5(_NS, f"problem:{candidate.id}"))
    problem = await problems_.get(problem_id)
    if problem is None:
        problem = await _open(
            actor=actor, title=title or candidate.title, description=description, service_code=candidate.service_code,
            asset_tag=candidate.asset_tag, incident_ids=candidate.incident_ids, candidate_id=candidate.id,
            escalate_to=notify if escalate else (), problem_id=problem_id, problems_=problems_, outbox=outbox,
            now=now, correlation_id=correlation_id,
        )
    await candidates.save(candidate.model_copy(update={
        "status": "confirmed", "problem_id": problem.id, "decided_by": actor.user, "updated_at": now,
    }))
    await incidents.link(candidate.incident_ids, problem_id=problem.id)
    return problem


async def dismiss_candidate(candidate_id: str, *, actor: Actor, candidates: CandidateStore, now: datetime) -> Candidate:
    _require(actor, PROBLEM_WRITERS, "dismiss problem candidates")
    candidate = await candidates.get(candidate_id)
    if candidate is None:
        raise NotFound(f"candidate {candidate_id}")
    if candidate.status != "pending":
        raise IllegalTransition(f"candidate is {candidate.status}")
    return await candidates.save(candidate.model_copy(update={"status": "dismissed", "decided_by": actor.user, "updated_at": now}))


async def _open(
    *, actor: Actor, title: str, description: str, service_code: str | None, asset_tag: str | None,
    incident_ids: Sequence[str], candidate_id: str | None, escalate_to: Sequence[str], problem_id: str | None,
    problems_: ProblemStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Problem:
    number = await problems_.next_number(now.year)
    problem, event = problems.open_problem(
        number=number, title=title, by=actor.user, now=now, description=description, service_code=service_code,
        asset_tag=asset_tag, incident_ids=incident_ids, candidate_id=candidate_id, escalate_to=escalate_to,
        problem_id=problem_id,
    )
    envelopes = wrap([event], subject_id=problem.id, correlation_id=correlation_id, now=now)
    if not await problems_.add(problem, envelopes):
        existing = await problems_.get(problem.id)
        assert existing is not None
        await outbox.relay_now(existing.id)  # a retried confirmation: its problem.created goes out now if still stored
        return existing
    await outbox.deliver(problem.id, envelopes)
    if escalate_to:
        metrics.escalations.labels("at_creation").inc()
    return problem


async def create_problem(
    *, actor: Actor, title: str, description: str, service_code: str | None, asset_tag: str | None,
    incident_ids: Sequence[str], escalate: bool, notify: Sequence[str], problems_: ProblemStore,
    incidents: IncidentStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Problem:
    """A problem recorded by hand (no detected group), e.g. from a monitoring alert or a report."""
    _require(actor, PROBLEM_WRITERS, "record problems")
    problem = await _open(
        actor=actor, title=title, description=description, service_code=service_code, asset_tag=asset_tag,
        incident_ids=incident_ids, candidate_id=None, escalate_to=notify if escalate else (), problem_id=None,
        problems_=problems_, outbox=outbox, now=now, correlation_id=correlation_id,
    )
    await incidents.link(problem.incident_ids, problem_id=problem.id)
    return problem


async def read_problem(problem_id: str, *, actor: Actor, problems_: ProblemStore) -> Problem:
    _require(actor, PROBLEM_READERS, "read problems")
    problem = await problems_.get(problem_id)
    if problem is None:
        raise NotFound(f"problem {problem_id}")
    return problem


async def list_problems(*, actor: Actor, problems_: ProblemStore, state: str | None = None) -> list[Problem]:
    _require(actor, PROBLEM_READERS, "read problems")
    return await problems_.list(state=state)


async def update_problem(
    problem_id: str, fields: ProblemFields, *, actor: Actor, problems_: ProblemStore, now: datetime
) -> Problem:
    _require(actor, PROBLEM_WRITERS, "change problems")
    problem = await read_problem(problem_id, actor=actor, problems_=problems_)
    return await problems_.save(problems.update_problem(problem, fields, by=actor.user, now=now), [])


async def act_on_problem(
    problem_id: str, action: str, fields: ProblemFields, *, actor: Actor, note: str | None = None,
    problems_: ProblemStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Problem:
    """investigate, known_error (problem.known_error), resolve (problem.resolved), reopen."""
    _require(actor, PROBLEM_WRITERS, "change problems")
    problem = await read_problem(problem_id, actor=actor, problems_=problems_)
    updated, events = problems.problem_transition(problem, action, fields, by=actor.user, now=now, note=note)
    envelopes = wrap(events, subject_id=problem.id, correlation_id=correlation_id, now=now)
    stored = await problems_.save(updated, envelopes)
    if envelopes:
        await outbox.deliver(stored.id, envelopes)
    return stored


async def escalate_problem(
    problem_id: str, *, actor: Actor, reason: str, notify: Sequence[str], problems_: ProblemStore,
    outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Problem:
    """On demand: an unknown problem goes to senior engineers with the project manager (problem.escalated)."""
    _require(actor, PROBLEM_WRITERS, "escalate problems")
    problem = await read_problem(problem_id, actor=actor, problems_=problems_)
    return await _escalate(problem, reason=reason, by=actor.user, notify=notify, problems_=problems_, outbox=outbox,
                           now=now, correlation_id=correlation_id, label="on_demand")


async def _escalate(
    problem: Problem, *, reason: str, by: str, notify: Sequence[str], problems_: ProblemStore, outbox: EventOutbox,
    now: datetime, correlation_id: str, label: str,
) -> Problem:
    updated, event = problems.escalate(problem, notify=notify, reason=reason, by=by, now=now)
    envelopes = wrap([event], subject_id=problem.id, correlation_id=correlation_id, now=now)
    stored = await problems_.save(updated, envelopes)
    await outbox.deliver(stored.id, envelopes)
    metrics.escalations.labels(label).inc()
    return stored


async def escalate_overdue(
    *, after: timedelta, notify: Sequence[str], problems_: ProblemStore, outbox: EventOutbox, now: datetime
) -> list[Problem]:
    """Periodic: problems still without a root cause after the configured days are escalated once."""
    escalated = []
    for problem in await problems_.list():
        if problems.due_for_escalation(problem, after=after, now=now):
            days = after.total_seconds() / 86400
            escalated.append(await _escalate(
                problem, reason=f"no root cause after {days:g} days", by="knowledge", notify=notify,
                problems_=problems_, outbox=outbox, now=now, correlation_id=f"problem-escalation-{problem.id}",
                label="overdue",
            ))
    return escalated


async def problem_stats(*, actor: Actor, problems_: ProblemStore, candidates: CandidateStore) -> dict[str, object]:
    """Recurrence for reporting: incidents that matched a recorded problem, and the problems by state."""
    _require(actor, PROBLEM_READERS, "read problem figures")
    all_problems = await problems_.list()
    by_state: dict[str, int] = {}
    for p in all_problems:
        by_state[p.state] = by_state.get(p.state, 0) + 1
    incidents = sum(len(p.incident_ids) for p in all_problems)
    recurrences = sum(len(p.recurrence_ids) for p in all_problems)
    return {
        "problems": len(all_problems),
        "by_state": by_state,
        "known_errors": by_state.get("known_error", 0),
        "incidents_linked": incidents,
        "recurrences": recurrences,
        "recurrence_rate": round(recurrences / incidents, 4) if incidents else 0.0,
        "candidates_pending": len(await candidates.list(status="pending")),
        "escalated": sum(1 for p in all_problems if p.escalated_at is not None),
    }
