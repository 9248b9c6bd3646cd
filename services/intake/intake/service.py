"""Desk use cases: load through a port, decide in the domain, store the change with its events, relay them."""

from __future__ import annotations

import logging
from datetime import datetime

from opsdesk_shared.contracts import Envelope, TicketAssignedV1

from . import domain
from .domain import NewTicket, Ticket
from .ports import ConcurrentUpdate, EventOutbox, TicketStore

log = logging.getLogger(__name__)
PRODUCER = "intake"
NUMBER_ATTEMPTS = 5


async def open_ticket(
    cmd: NewTicket,
    *,
    store: TicketStore,
    outbox: EventOutbox,
    now: datetime,
    correlation_id: str,
    idempotency_key: str | None = None,
) -> tuple[Ticket, bool]:
    """Record a ticket and announce it; returns (ticket, created). A replayed Idempotency-Key returns the original."""
    domain.check_new_ticket(cmd, now=now)
    ticket_id = domain.ticket_id_for(idempotency_key)
    if idempotency_key and (existing := await store.get(ticket_id)) is not None:
        return existing, False
    series = domain.number_series(now)
    for _ in range(NUMBER_ATTEMPTS):
        number = domain.format_number(series, await store.next_number(series))
        ticket, created = domain.open_ticket(cmd, ticket_id=ticket_id, number=number, now=now)
        event = Envelope.wrap(created, producer=PRODUCER, correlation_id=correlation_id, subject_id=ticket.id, occurred_at=now)
        if await store.add(ticket, [event]):
            await outbox.deliver(ticket.id, [event])
            return ticket, True
        if (existing := await store.get(ticket_id)) is not None:
            return existing, False  # the same Idempotency-Key won a race
        # Otherwise the number was taken (another replica on a store without atomic counters): draw again.
    raise RuntimeError(f"could not draw a free ticket number in {series}")


async def record_assignment(event: TicketAssignedV1, *, store: TicketStore, attempts: int = 5) -> bool:
    """Dispatch assigned someone: show it on the ticket. Idempotent; True when the ticket changed."""
    for _ in range(attempts):
        try:
            return await store.change(event.ticket_id, lambda ticket: domain.apply_assignment(ticket, event))
        except ConcurrentUpdate:
            continue
    raise ConcurrentUpdate(f"ticket {event.ticket_id} kept changing")


async def get_ticket(ticket_id: str, *, store: TicketStore) -> Ticket | None:
    return await store.get(ticket_id)
