"""Desk-first use cases (rules in desk_first.py): the agent sends a ticket on, and the periodic checker sends on every
ticket whose guidance window ran out. The due times are persisted (ports.PendingHandovers) before the ticket is
stored, and the hand-over event is stored in the ticket's own write (outbox), so a crash anywhere in between loses
no hand-over and a repeated check, on any replica, sends nothing twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from . import desk_first, lifecycle, service
from .domain import Actor, Ticket, to_millis
from .lifecycle import Changed
from .service import Desk, TicketNotFound

log = logging.getLogger(__name__)
BATCH = 100


async def send_on(
    ticket_id: str, *, desk: Desk, actor: Actor, now: datetime, correlation_id: str, expected_version: int | None = None
) -> Ticket:
    """The agent sends a desk-first ticket to dispatch now (409 when it is not the desk's to send)."""

    def step(ticket: Ticket) -> Changed:
        return desk_first.send_on(ticket, actor=actor, now=now, service=desk.catalog.get(ticket.service_code))

    sent = await service.act(
        ticket_id, step, desk=desk, actor=actor, now=now, correlation_id=correlation_id, expected_version=expected_version
    )
    if desk.handovers is not None:
        await desk.handovers.remove(sent.id)  # tidy only: the checker would find nothing to do for it
    return sent


async def hand_over_due(*, desk: Desk, now: datetime) -> int:
    """Send on every desk-first ticket whose window ran out; returns how many went. Each entry is removed only once
    its ticket has left the desk or ended, so an entry survives a failure here and is tried on the next round."""
    if desk.handovers is None:
        return 0
    sent = 0
    for ticket_id in await desk.handovers.due(now, limit=BATCH):
        went = False

        def step(ticket: Ticket) -> Changed:
            nonlocal went
            decided = desk_first.hand_over_if_due(
                ticket, now=now, window=desk.guidance_window, service=desk.catalog.get(ticket.service_code)
            )
            went = decided is not None
            return decided if decided is not None else (ticket, [])

        try:
            await service.act(ticket_id, step, desk=desk, actor=desk_first.INTAKE, now=now, correlation_id=ticket_id)
        except TicketNotFound:
            # The due time is written before the ticket; a crash in between leaves an entry with no ticket.
            log.warning("pending hand-over for a ticket that was never stored", extra={"fields": {"ticket_id": ticket_id}})
        except Exception:
            log.exception("hand-over failed; tried again next round", extra={"fields": {"ticket_id": ticket_id}})
            continue
        sent += went
        await desk.handovers.remove(ticket_id)
    return sent


async def reopen(
    ticket_id: str, *, desk: Desk, actor: Actor, now: datetime, reason: str, window: timedelta, correlation_id: str,
    expected_version: int | None = None,
) -> Ticket:
    """Reopen a resolved ticket (lifecycle.reopen decides where it goes). One resolved at the desk goes back to the
    desk's first-contact hold with a fresh guidance window: its new due time is written before the ticket (as on
    creation), replacing the old one, so the checker sends it on when the window runs out."""
    current = await service.get_ticket(ticket_id, desk=desk, actor=actor)
    held = current.status == "resolved" and lifecycle.back_to_desk(current)
    if held and desk.handovers is not None:
        await desk.handovers.remove(current.id)  # the first hold's due time, long past, must not send it at once
        await desk.handovers.put(current.id, to_millis(now + desk.guidance_window))

    def step(ticket: Ticket) -> Changed:
        return lifecycle.reopen(ticket, actor=actor, now=now, reason=reason, window=window)

    return await service.act(
        current.id, step, desk=desk, actor=actor, now=now, correlation_id=correlation_id, expected_version=expected_version
    )
