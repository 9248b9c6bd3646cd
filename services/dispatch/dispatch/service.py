"""Dispatch use cases."""

from __future__ import annotations

from datetime import datetime

from opsdesk_shared.contracts import Envelope, TicketCreatedV1

from . import domain
from .domain import Assignment
from .ports import AssignmentStore, EventOutbox, Roster

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
) -> Assignment:
    """Give a new ticket its engineer; a redelivered or concurrent request never assigns twice.

    No read first: the store refuses a second assignment for the ticket, which is the check that counts anyway.
    """
    assignment, assigned = domain.assign(ticket, await roster.engineers(), now=now)
    event = Envelope.wrap(
        assigned, producer=PRODUCER, correlation_id=correlation_id, causation_id=causation_id,
        subject_id=ticket.ticket_id, occurred_at=now,
    )
    if not await assignments.add(assignment, [event]):
        existing = await assignments.get(ticket.ticket_id)
        assert existing is not None
        return existing
    await roster.add_load(assignment.engineer_id, 1)
    await outbox.deliver(assignment.ticket_id, [event])
    return assignment
