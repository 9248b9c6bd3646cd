"""Use cases of the agency's oversight at dispatch: keep the list of unauthorized tickets from intake's events,
refuse and announce an engineer's act on one, and run replacement requests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.security import ReplacementAnsweredV1, ReplacementRequestedV1
from opsdesk_shared.outbox import EventOutbox, MemoryOutbox

from ..domain import Actor, Forbidden
from ..ports import ConcurrentUpdate, Roster
from ..service import UnknownEngineer
from . import domain
from .calendar import Deadlines, FixedDeadlines
from .domain import ReplacementRequest, UnauthorizedTicket, UnauthorizedWork
from .stores import (
    MemoryReplacementStore,
    MemoryUnauthorizedTickets,
    MemoryViolationLog,
    ReplacementStore,
    UnauthorizedTickets,
    ViolationLog,
)

PRODUCER = "dispatch"
ATTEMPTS = 5


@dataclass
class Oversight:
    """The ports of the agency's oversight at dispatch; main wires the database's, tests the memory ones."""

    unauthorized: UnauthorizedTickets = field(default_factory=MemoryUnauthorizedTickets)
    violations: ViolationLog = field(default_factory=MemoryViolationLog)
    violation_outbox: EventOutbox = field(default_factory=MemoryOutbox)
    replacements: ReplacementStore = field(default_factory=MemoryReplacementStore)
    replacement_outbox: EventOutbox = field(default_factory=MemoryOutbox)
    deadlines: Deadlines = field(default_factory=lambda: FixedDeadlines(datetime(9999, 1, 1, tzinfo=UTC)))
    answer_working_days: int = 5


class UnknownReplacement(LookupError):
    def __init__(self, engineer_id: str, request_id: str) -> None:
        super().__init__(request_id)
        self.engineer_id, self.request_id = engineer_id, request_id


# --- unauthorized work ---


async def hold(ticket_id: str, number: str, *, state: domain.Held, now: datetime, oversight: Oversight) -> None:
    await oversight.unauthorized.mark(UnauthorizedTicket(ticket_id=ticket_id, number=number, state=state, since=now))


async def release(ticket_id: str, *, oversight: Oversight) -> None:
    await oversight.unauthorized.clear(ticket_id)


async def refuse_if_unauthorized(
    ticket_ref: str, *, actor: Actor, step: str, oversight: Oversight, now: datetime, correlation_id: str,
) -> None:
    """An engineer's act refused on a ticket nobody may work on is announced as a violation, then refused as
    unauthorized work (409); on any other ticket, nothing (the caller's own refusal stands)."""
    if not domain.acts_as_engineer(actor):
        return
    held = await oversight.unauthorized.find(ticket_ref)
    if held is None:
        return
    event = domain.violation(held, actor=actor, step=step, now=now)
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=held.ticket_id, occurred_at=now)
    violation_id = str(envelope.event_id)
    await oversight.violations.add(violation_id, held.ticket_id, [envelope])
    await oversight.violation_outbox.deliver(violation_id, [envelope])
    raise UnauthorizedWork(held, step)


# --- replacement requests ---


def _may_read(actor: Actor) -> None:
    if actor.role not in domain.READERS:
        raise Forbidden("err.read_replacements", role=actor.role)


async def request_replacement(
    engineer_id: str, *, reason: str, actor: Actor, roster: Roster, oversight: Oversight, now: datetime,
    correlation_id: str, idempotency_key: str | None = None,
) -> tuple[ReplacementRequest, bool]:
    """The agency asks for the engineer to be replaced; the answer is due N working days later. (request, created)."""
    if actor.role != domain.ASKER:
        raise Forbidden("err.agency_asks_replacement")
    engineer = next((e for e in await roster.engineers() if e.id == engineer_id), None)
    if engineer is None:
        raise UnknownEngineer(engineer_id)
    request_id = domain.request_id_for(engineer_id, f"{actor.subject}|{idempotency_key}") if idempotency_key else str(uuid.uuid4())
    if idempotency_key and (existing := await oversight.replacements.get(request_id)) is not None:
        await oversight.replacement_outbox.relay_now(request_id)
        return existing, False
    due_at, approximate = await oversight.deadlines.due(start=now, working_days=oversight.answer_working_days)
    made = domain.requested(
        request_id=request_id, engineer_id=engineer_id, engineer_name=engineer.name, reason=reason, by=actor.subject,
        now=now, answer_due_at=due_at, approximate=approximate,
    )
    event = ReplacementRequestedV1(
        request_id=made.id, engineer_id=engineer_id, engineer_name=engineer.name, reason=reason, requested_at=now,
        by=actor.subject, answer_due_at=due_at,
    )
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=engineer_id, occurred_at=now)
    if not await oversight.replacements.add(made, [envelope]):
        existing = await oversight.replacements.get(request_id)
        assert existing is not None
        return existing, False
    await oversight.replacement_outbox.deliver(made.id, [envelope])
    return made, True


async def answer_replacement(
    engineer_id: str, request_id: str, *, plan: str, replace_by: date, actor: Actor, oversight: Oversight, now: datetime,
    today: date, correlation_id: str,
) -> ReplacementRequest:
    """The project manager answers with a plan and the date the engineer is replaced by."""
    if actor.role != domain.ANSWERER:
        raise Forbidden("err.manager_answers_replacement")
    for _ in range(ATTEMPTS):
        current = await get_replacement(engineer_id, request_id, actor=actor, oversight=oversight)
        updated = domain.answered(current, plan=plan, replace_by=replace_by, by=actor.subject, now=now, today=today)
        event = ReplacementAnsweredV1(
            request_id=request_id, engineer_id=engineer_id, plan=plan, replace_by=replace_by, answered_at=now,
            by=actor.subject, late=updated.is_late(now),
        )
        envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=engineer_id, occurred_at=now)
        try:
            saved = await oversight.replacements.save(updated, [envelope], expected_version=current.version)
        except ConcurrentUpdate:
            continue
        await oversight.replacement_outbox.deliver(request_id, [envelope])
        return saved
    raise ConcurrentUpdate(request_id)


async def get_replacement(engineer_id: str, request_id: str, *, actor: Actor, oversight: Oversight) -> ReplacementRequest:
    _may_read(actor)
    found = await oversight.replacements.get(request_id)
    if found is None or found.engineer_id != engineer_id:
        raise UnknownReplacement(engineer_id, request_id)
    return found


async def list_replacements(engineer_id: str | None, *, actor: Actor, oversight: Oversight) -> list[ReplacementRequest]:
    _may_read(actor)
    return await oversight.replacements.list(engineer_id=engineer_id)
