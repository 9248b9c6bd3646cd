"""The desk's first contact: a desk-first ticket stays with the desk for remote guidance (the contract allows up to
5 minutes, and 30-50% of requests should end at the desk) before dispatch assigns an engineer. Pure: it leaves the
desk when an agent sends it on, or when its guidance window runs out; a desk resolution needs no dispatch at all.

Worked example (window 5 minutes): created 09:00:00 desk-first -> due 09:05:00. The agent guides from 09:01; at
09:03 the fault persists and they send it on: ticket.dispatch_requested (reason desk) at 09:03, and the checker's
later look at 09:05 finds it handed over and does nothing. Had they resolved it at 09:04, nothing is sent at all.
The dispatch clock (SLA monitor) runs from ticket.created at 09:00 throughout: the guidance time counts against it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from opsdesk_shared.contracts import TicketDispatchRequestedV1

from .access import require
from .catalog import CatalogService
from .domain import Actor, Ticket, audit_entry, to_millis
from .lifecycle import Changed, IllegalTransition, allowed_from
from .texts import Said

DEFAULT_WINDOW = timedelta(minutes=5)
INTAKE = Actor(subject="intake", name="Guidance window", role="agent", source="internal")
# Open and not yet with an engineer: the desk may still guide, and the ticket may still go to dispatch.
WITH_DESK: tuple[str, ...] = ("new", "in_progress", "pending")
Reason = Literal["desk", "window_elapsed"]


def due_at(ticket: Ticket, *, window: timedelta = DEFAULT_WINDOW) -> datetime:
    """When the ticket goes to dispatch if the desk has not sent it on or resolved it: the start of its hold (its
    creation, or the reopen that brought it back to the desk) plus the window."""
    return to_millis((ticket.desk_since or ticket.created_at) + window)


def with_desk(ticket: Ticket) -> bool:
    """Still the desk's: desk-first, not handed over, open and nobody holding it (an engineer withdrawn by a desk
    resolution before a reopen holds nothing)."""
    return (
        ticket.desk_first and ticket.dispatch_requested_at is None and ticket.status in WITH_DESK and not _held(ticket)
    )


def _held(ticket: Ticket) -> bool:
    return ticket.assignee is not None and ticket.assignee.active


def send_on(ticket: Ticket, *, actor: Actor, now: datetime, service: CatalogService | None) -> Changed:
    """An agent sends a desk-first ticket to dispatch before its window runs out (POST /tickets/{id}/dispatch)."""
    require(actor, "resolve_at_desk", ticket)
    if ticket.status == "awaiting_authorization":
        # One rule, one answer: what the lifecycle says of any step before the agency decides (lifecycle._move).
        raise IllegalTransition(ticket.status, "dispatch", ("cancelled",), Said("err.awaiting_authorization", target="dispatch"))
    if not with_desk(ticket):
        raise IllegalTransition(ticket.status, "dispatch", allowed_from(ticket), _why_not(ticket))
    return _hand_over(ticket, actor=actor, now=now, reason="desk", service=service)


def hand_over_if_due(ticket: Ticket, *, now: datetime, window: timedelta, service: CatalogService | None) -> Changed | None:
    """The checker's step: the window ran out and the ticket is still the desk's -> to dispatch. None when there is
    nothing to do (sent on, resolved or cancelled already, or not due yet), so a repeated check sends nothing."""
    if not with_desk(ticket) or now < due_at(ticket, window=window):
        return None
    return _hand_over(ticket, actor=INTAKE, now=now, reason="window_elapsed", service=service)


def _why_not(ticket: Ticket) -> str:
    if not ticket.desk_first or ticket.dispatch_requested_at is not None or _held(ticket):
        return Said("err.with_dispatch")
    return Said("err.needs_no_engineer", status=ticket.status)


def _hand_over(ticket: Ticket, *, actor: Actor, now: datetime, reason: Reason, service: CatalogService | None) -> Changed:
    now = to_millis(now)
    changes: dict[str, dict[str, Any]] = {"dispatch_requested_at": {"old": None, "new": now.isoformat()}}
    updated = ticket.model_copy(
        update={
            "dispatch_requested_at": now, "updated_at": now,
            "audit": (*ticket.audit, audit_entry(actor, f"dispatch_requested:{reason}", now, changes)),
        }
    )
    event = TicketDispatchRequestedV1(
        ticket_id=ticket.id, number=ticket.number, title=ticket.title, channel=ticket.channel,
        service_code=ticket.service_code, priority=ticket.priority, requester=ticket.requester,
        requester_id=ticket.requester_id, asset_tag=ticket.asset_tag, reported_at=ticket.reported_at, site=ticket.site,
        ticket_type=ticket.ticket_type, description=ticket.description[:2000] or None,
        major_incident=ticket.major_incident,
        # The catalog is the one owner of clocks and skills, as in ticket.created; a retired service keeps the defaults.
        sla_profile=service.sla_profile if service is not None else "responsive",
        skill=(service.skill or None) if service is not None else None,
        reason=reason, requested_at=now, by=actor.subject,
    )
    return updated, [event]
