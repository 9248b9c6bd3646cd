"""Dispatch use cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Literal

from opsdesk_shared.contracts import (
    AssignmentWithdrawnV1,
    Envelope,
    EventData,
    ServiceRecordReviewedV1,
    TicketCreatedV1,
    TicketReopenedV1,
)

from . import domain, listing
from .domain import Actor, Assignment, AssignmentStatus, Engineer, EngineerStatus
from .listing import EscalationStatus, EscalationView
from .ports import AssignmentStore, EventOutbox, Roster
from .texts import Said

PRODUCER = "dispatch"


async def assign_ticket(
    ticket: TicketCreatedV1,
    *,
    roster: Roster,
    assignments: AssignmentStore,
    outbox: EventOutbox,
    now: datetime,
    correlation_id: str,
    causation_id: str | None,
    handed_over_at: datetime | None = None,
) -> Assignment:
    """Give a ticket handed over to dispatch its engineer; a redelivered or concurrent request never assigns twice.

    No read first: the store refuses a second assignment for the ticket, which is the check that counts anyway.
    When nobody can take it, a visible waiting record and an assignment.unassigned event say so at once;
    `assign_waiting` tries again when the roster changes and on an interval. A ticket the desk ended left a withdrawn
    record: a hand-over from after that (`handed_over_at`, intake's clock: the ticket was reopened and sent on again)
    opens the slot anew with a new assignment, its engineer's load counted once; an earlier one assigns nobody.
    The assignment's id comes from the hand-over event (`causation_id`), so a redelivery names the same assignment.
    """
    handed_over_at = handed_over_at or now
    assignment, event = _decide(ticket, await roster.engineers(), now=now, handed_over_at=handed_over_at,
                                cause=causation_id, correlation_id=correlation_id)
    # Counted at once, before anything is awaited: the decisions made meanwhile see this engineer's load with it.
    release = roster.reserve(assignment.engineer_id) if assignment.engineer_id else None
    try:
        return await _store_assignment(ticket, assignment, event, roster=roster, assignments=assignments, outbox=outbox,
                                       handed_over_at=handed_over_at)
    finally:
        if release is not None:
            release()


async def _store_assignment(
    ticket: TicketCreatedV1, assignment: Assignment, event: Envelope, *, roster: Roster, assignments: AssignmentStore,
    outbox: EventOutbox, handed_over_at: datetime,
) -> Assignment:
    stored = assignment
    if not await assignments.add(assignment, [event]):
        existing = await assignments.get(ticket.ticket_id)
        assert existing is not None
        if domain.reopens(existing, handed_over_at=handed_over_at):
            stored = await assignments.save(domain.reopened(existing, assignment), [event])
        else:
            # A redelivery finds the assignment stored: the first attempt may have died (or its database did) before
            # counting the engineer's load and sending its event. Both happen now, each once (issue 14, defect 3:
            # the ticket.assigned waited for the 300-second sweep and the engineer's load drifted by one).
            await settle_load(existing, roster=roster)
            await outbox.relay_now(existing.ticket_id)
            return existing
    await settle_load(stored, roster=roster)
    await outbox.deliver(assignment.ticket_id, [event])
    return stored


def _decide(
    ticket: TicketCreatedV1, engineers: list[Engineer], *, now: datetime, handed_over_at: datetime, cause: str | None,
    correlation_id: str,
) -> tuple[Assignment, Envelope]:
    """The hand-over's assignment (an engineer, or a waiting record) and its event, wrapped."""
    decided: EventData
    assignment_id = domain.handover_assignment_id(ticket.ticket_id, cause)
    try:
        assignment, decided = domain.assign(
            ticket, engineers, now=now, assignment_id=assignment_id, handed_over_at=handed_over_at,
        )
    except domain.NoEngineerAvailable as exc:  # OutsideServiceHours too: work on site held for the next period
        assignment, decided = domain.waiting(
            ticket, why=exc, now=now, assignment_id=assignment_id, handed_over_at=handed_over_at,
        )
    event = Envelope.wrap(
        decided, producer=PRODUCER, correlation_id=correlation_id, causation_id=cause,
        subject_id=ticket.ticket_id, occurred_at=now,
    )
    return assignment, event


async def settle_load(after: Assignment, *, roster: Roster, before: Assignment | None = None) -> None:
    """Make the engineers' loads agree with an assignment as stored: the engineer it moved away from (`before`, when
    it changed hands) lets it go; its engineer holds it while it is theirs to do (domain.in_load), else lets it go.
    Each step is keyed by the assignment's id, so settling again changes nothing: a redelivered event whose change is
    already stored settles what a crash may have left between the two writes (issue 14)."""
    if before is not None and before.engineer_id and (before.engineer_id, before.id) != (after.engineer_id, after.id):
        await roster.release(before.engineer_id, before.id)
    if after.engineer_id:
        await (roster.hold if domain.in_load(after) else roster.release)(after.engineer_id, after.id)


async def assign_waiting(
    ticket_id: str, *, roster: Roster, assignments: AssignmentStore, outbox: EventOutbox, now: datetime, correlation_id: str
) -> Assignment | None:
    """Try a waiting ticket again; None while nobody is available (or when it is not waiting any more)."""
    engineers = await roster.engineers()

    decide = _one(lambda a: domain.assign_waiting(a, engineers, now=now))

    try:
        _, after = await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now)
    except (domain.NoEngineerAvailable, domain.IllegalStep):
        return None
    await settle_load(after, roster=roster)
    return after


class UnknownAssignment(Said, LookupError):
    """The ticket has no assignment (or none the actor may see: existence is not revealed)."""

    def __init__(self, ticket: str) -> None:
        super().__init__("err.no_assignment", ticket=ticket)


class NotOnRoster(Said, ValueError):
    """The engineer a request names is not on the roster: bad input (422 on the field), not a state conflict."""

    def __init__(self, engineer_id: str, *, field: str) -> None:
        super().__init__("err.no_engineer", engineer=engineer_id)
        self.field = field


class UnknownEngineer(Said, LookupError):
    """No engineer with that id on the roster."""

    def __init__(self, engineer_id: str) -> None:
        super().__init__("err.no_engineer", engineer=engineer_id)


async def _load(ticket: str, assignments: AssignmentStore) -> Assignment | None:
    """A ticket's assignment by intake's id or by its number (INC-2026-000009), which ticket.created told us."""
    return await (assignments.by_number(ticket) if domain.is_ticket_number(ticket) else assignments.get(ticket))


async def read_assignment(ticket_id: str, *, actor: Actor, assignments: AssignmentStore) -> Assignment:
    """A ticket's assignment (by id or number), if the actor may see it: engineers only the ones they hold, 404 for the rest."""
    if domain.assignment_view(actor) == "none":
        raise domain.Forbidden("err.read_assignments", role=actor.role)
    found = await _load(ticket_id, assignments)
    if found is None or not domain.may_read(actor, found):
        raise UnknownAssignment(ticket_id)
    return found


async def list_assignments(
    *, actor: Actor, engineers: Sequence[str] | None, statuses: Sequence[AssignmentStatus] | None, overdue: bool | None,
    ticket: str | None, cursor: str | None, limit: int, assignments: AssignmentStore,
) -> tuple[list[Assignment], str | None]:
    """One page of the assignments the actor may list (an engineer's own work; anyone's for the desk), and the
    cursor of the next page (None on the last)."""
    query = listing.assignment_filter(actor, engineers=engineers, statuses=statuses, overdue=overdue, ticket=ticket)
    if query.engineer_ids == frozenset():
        return [], None  # an engineer without a roster link holds nothing
    after = listing.decode_assignment_cursor(cursor) if cursor else None
    found = await assignments.page(query, after=after, limit=limit + 1)
    return listing.page_of(found, limit=limit)


async def list_escalations(
    *, actor: Actor, status: EscalationStatus, cursor: str | None, limit: int, assignments: AssignmentStore,
) -> tuple[list[EscalationView], str | None]:
    """Escalations of a status the actor may see (the project manager and the desk all, an engineer those naming
    them), newest first. Open ones are few (each is acknowledged within minutes), so they are paged in process."""
    if domain.assignment_view(actor) == "none":
        raise domain.Forbidden("err.read_escalations", role=actor.role)
    views = listing.escalation_views(actor, await assignments.with_escalations(status), status=status)
    return listing.page_escalations(views, cursor=cursor, limit=limit)


async def record_breach(
    ticket_id: str, *, timer: str, due_at: datetime, breached_at: datetime, assignments: AssignmentStore
) -> Assignment | None:
    """The SLA monitor said a clock ran out: record it on the assignment (None when there is nothing to record).
    A concurrent change raises ConcurrentUpdate, and the redelivered event records it then."""
    before = await assignments.get(ticket_id)
    after = None if before is None else domain.record_breach(before, timer=timer, due_at=due_at, breached_at=breached_at)
    return None if after is None else await assignments.save(after, [])


async def list_engineers(*, actor: Actor, roster: Roster) -> list[Engineer]:
    if not domain.may_read_roster(actor):
        raise domain.Forbidden("err.read_roster", role=actor.role)
    return await roster.engineers()


async def read_engineer(engineer_id: str, *, actor: Actor, roster: Roster) -> Engineer:
    """One roster entry; the gateway (role service) asks it to check a user's engineer link."""
    for engineer in await list_engineers(actor=actor, roster=roster):
        if engineer.id == engineer_id:
            return engineer
    raise UnknownEngineer(engineer_id)


async def save_engineer(engineer: Engineer, *, actor: Actor, roster: Roster) -> Engineer:
    """Create or replace an engineer and their rota: the desk's job, never an engineer's own."""
    if not domain.may_edit_roster(actor):
        raise domain.Forbidden("err.edit_roster", role=actor.role)
    return await roster.save(engineer)


async def set_engineer_status(engineer_id: str, status: EngineerStatus, *, actor: Actor, roster: Roster) -> Engineer:
    """An engineer's own status, or anyone's set by the desk."""
    if not domain.may_set_status(actor, engineer_id):
        raise domain.Forbidden("err.set_status", subject=actor.subject, engineer=engineer_id)
    engineer = await roster.set_status(engineer_id, status)
    if engineer is None:
        raise UnknownEngineer(engineer_id)
    return engineer


Decide = Callable[[Assignment], tuple[Assignment, Sequence[EventData]]]


def _one(step: Callable[[Assignment], tuple[Assignment, EventData]]) -> Decide:
    """Most lifecycle steps produce one event; _apply takes a list."""

    def decide(a: Assignment) -> tuple[Assignment, Sequence[EventData]]:
        updated, event = step(a)
        return updated, [event]

    return decide


async def _apply(
    ticket_id: str, decide: Decide, *, assignments: AssignmentStore, outbox: EventOutbox, correlation_id: str, now: datetime
) -> tuple[Assignment, Assignment]:
    """Load (by id or number), decide, store with the events in one write, relay. Returns (before, after)."""
    before = await _load(ticket_id, assignments)
    if before is None:
        raise UnknownAssignment(ticket_id)
    ticket_id = before.ticket_id  # a number was resolved: events and the outbox name intake's id
    updated, events = decide(before)
    envelopes = [
        Envelope.wrap(e, producer=PRODUCER, correlation_id=correlation_id, subject_id=ticket_id, occurred_at=now) for e in events
    ]
    stored = await assignments.save(updated, envelopes)
    await outbox.deliver(ticket_id, envelopes)
    return before, stored


async def accept(ticket_id: str, *, actor: Actor, assignments: AssignmentStore, outbox: EventOutbox, now: datetime, correlation_id: str) -> Assignment:
    domain.authorize(actor, "accept")
    decide = _one(lambda a: domain.accept(a, actor=actor, now=now))

    return (await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now))[1]


async def confirm(
    ticket_id: str, *, eta: datetime | None, actor: Actor, assignments: AssignmentStore, outbox: EventOutbox, now: datetime,
    correlation_id: str,
) -> Assignment:
    domain.authorize(actor, "confirm")
    decide = _one(lambda a: domain.confirm(a, eta=eta, actor=actor, now=now))

    return (await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now))[1]


async def delay(
    ticket_id: str, *, reason: str, cannot_go: bool, actor: Actor, roster: Roster, assignments: AssignmentStore,
    outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Assignment:
    """Record the delay and re-dispatch to someone else at once (the contract: within 10 minutes)."""
    domain.authorize(actor, "delay")
    engineers = await roster.engineers()

    def decide(a: Assignment) -> tuple[Assignment, Sequence[EventData]]:
        return domain.delay(a, reason=reason, cannot_go=cannot_go, actor=actor, roster=engineers, now=now)

    before, after = await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now)
    await settle_load(after, roster=roster, before=before)
    return after


async def reassign(
    ticket_id: str, *, engineer_id: str, reason: str, actor: Actor, roster: Roster, assignments: AssignmentStore,
    outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Assignment:
    """A desk agent's override, with the reason kept in the history; `engineer_id` is whom it goes to."""
    domain.authorize(actor, "reassign")
    to = next((e for e in await roster.engineers() if e.id == engineer_id), None)
    if to is None:
        raise NotOnRoster(engineer_id, field="to")

    decide = _one(lambda a: domain.reassign(a, to=to, reason=reason, actor=actor, now=now))

    before, after = await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now)
    await settle_load(after, roster=roster, before=before)
    return after


async def escalate(
    ticket_id: str, *, kind: Literal["technical", "other"], description: str, actor: Actor, roster: Roster,
    assignments: AssignmentStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Assignment:
    domain.authorize(actor, "escalate")
    engineers = await roster.engineers()

    decide = _one(lambda a: domain.escalate(a, kind=kind, description=description, actor=actor, roster=engineers, now=now))

    return (await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now))[1]


async def acknowledge(
    ticket_id: str, *, escalation_id: str, actor: Actor, assignments: AssignmentStore, outbox: EventOutbox, now: datetime,
    correlation_id: str,
) -> Assignment:
    domain.authorize_acknowledge(actor)
    decide = _one(lambda a: domain.acknowledge(a, escalation_id=escalation_id, actor=actor, now=now))

    return (await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now))[1]


async def complete(
    ticket_id: str, *, work_done: str, parts_used: Sequence[domain.PartUsed] = (), minutes_on_site: int = 0, actor: Actor,
    roster: Roster, assignments: AssignmentStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Assignment:
    """The engineer completes with the service record (assignment.completed carries it to the ticket)."""
    domain.authorize(actor, "complete")
    decide = _one(lambda a: domain.complete(
        a, work_done=work_done, parts_used=tuple(parts_used), minutes_on_site=minutes_on_site, actor=actor, now=now,
    ))

    _, after = await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now)
    await settle_load(after, roster=roster)
    return after


async def withdraw(
    ticket_id: str, *, number: str, status: str, by: str, roster: Roster, assignments: AssignmentStore, now: datetime,
    outbox: EventOutbox | None = None, correlation_id: str | None = None, ended_at: datetime | None = None,
) -> Literal["withdrawn", "remembered", "unchanged"]:
    """The ticket was resolved, cancelled or closed at the desk (at `ended_at`, intake's clock): free the engineer,
    stop offering it to others. If its hand-over has not arrived yet, a withdrawn record makes that late event assign
    nobody (a hand-over from after the end, of the reopened ticket, assigns again: assign_ticket). A withdrawn
    engineer is announced (assignment.withdrawn), so the ticket stops showing them as its assignee."""
    for _ in range(2):
        before = await assignments.get(ticket_id)
        if before is None:
            remembered = domain.withdrawn_before_assignment(
                ticket_id=ticket_id, number=number, status=status, by=by, now=now, ended_at=ended_at,
            )
            if await assignments.add(remembered, []):
                return "remembered"
            continue  # ticket.created got in between: withdraw what it assigned
        after = domain.withdraw(before, status=status, by=by, now=now, ended_at=ended_at)
        if after is None:
            await settle_load(before, roster=roster)  # withdrawn already: its engineer's release may not have followed
            return "unchanged"
        envelopes: list[Envelope] = []
        if outbox is not None and before.engineer_id:
            withdrawn = AssignmentWithdrawnV1(
                ticket_id=before.ticket_id, assignment_id=before.id, engineer_id=before.engineer_id,
                reason=after.history[-1].note or "", withdrawn_at=now, reason_code="withdrawn",
                reason_params=after.history[-1].params,
            )
            envelopes = [Envelope.wrap(withdrawn, producer=PRODUCER, correlation_id=correlation_id or before.ticket_id,
                                       subject_id=before.ticket_id, occurred_at=now)]
        stored = await assignments.save(after, envelopes)
        if outbox is not None and envelopes:
            await outbox.deliver(before.ticket_id, envelopes)
        await settle_load(stored, roster=roster, before=before)
        return "withdrawn"
    return "unchanged"


async def reopen_for_engineer(
    reopened: TicketReopenedV1, *, roster: Roster, assignments: AssignmentStore,
) -> Assignment | None:
    """A ticket the engineer's work resolved was reopened: the assignment goes back to them (their load counts it
    again), so they can complete it again. None when there is nothing to change (domain.reopen_for_engineer).
    A concurrent change raises ConcurrentUpdate, and the redelivered event applies it then."""
    before = await assignments.get(reopened.ticket_id)
    after = None if before is None else domain.reopen_for_engineer(
        before, by=reopened.by, reason=reopened.reason, reopened_at=reopened.reopened_at,
    )
    if after is None:
        if before is not None:
            await settle_load(before, roster=roster)  # reopened already: its engineer's hold may not have followed
        return None
    stored = await assignments.save(after, [])
    await settle_load(stored, roster=roster)  # back on the engineer's list
    return stored


async def ask_for_help(
    ticket_id: str, *, question: str, actor: Actor, assignments: AssignmentStore, outbox: EventOutbox, now: datetime,
    correlation_id: str,
) -> Assignment:
    domain.authorize(actor, "help")
    decide = _one(lambda a: domain.help_request(a, question=question, actor=actor, now=now))

    return (await _apply(ticket_id, decide, assignments=assignments, outbox=outbox, correlation_id=correlation_id, now=now))[1]


async def record_review(
    reviewed: ServiceRecordReviewedV1, *, roster: Roster, assignments: AssignmentStore, outbox: EventOutbox, now: datetime,
    correlation_id: str, causation_id: str | None = None,
) -> Assignment | None:
    """The desk reviewed the record on the ticket (intake owns the review): mark the assignment reviewed, or give it
    back to the engineer. Idempotent: None when there is nothing to change (a redelivery, another assignment).
    A concurrent change raises ConcurrentUpdate, and the redelivered event applies it then."""
    before = await assignments.get(reviewed.ticket_id)
    decided = None if before is None else domain.apply_review(before, reviewed)
    if before is None or decided is None:
        if before is not None:
            await settle_load(before, roster=roster)
        return None
    updated, event = decided
    envelope = Envelope.wrap(
        event, producer=PRODUCER, correlation_id=correlation_id, causation_id=causation_id, subject_id=before.ticket_id,
        occurred_at=now,
    )
    stored = await assignments.save(updated, [envelope])
    await outbox.deliver(before.ticket_id, [envelope])
    await settle_load(stored, roster=roster)  # given back: on the engineer's list again
    return stored
