"""The notification bus edge: events that reach a person become notification records (one durable per subject).

"Authorization waiting" is a ticket.created whose ticket waits for the agency (awaiting_authorization, or emergency
work authorized after the fact): intake decides that, this edge only reads it. A route whose subject constant is not
(yet) in the shared contracts is skipped rather than failing the start. bus_permissions.py lists the same durables (a
test checks they agree).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import Envelope, subjects

from .. import metrics
from ..calendar_book import BookHolder
from ..ports import HolderStore
from .service import NotificationWiring, notify_event


@dataclass(frozen=True)
class Route:
    subject_name: str  # the constant's name in opsdesk_shared.contracts.subjects
    durable: str
    kind: str
    fields: Callable[[dict[str, Any]], dict[str, Any]] = dict
    when: Callable[[dict[str, Any]], bool] = lambda _: True


def _help(d: dict[str, Any]) -> dict[str, Any]:
    # The engineer by name (dispatch's event carries it; an older one only the engineer id).
    return {**d, "description": d.get("question"), "engineer_name": d.get("engineer_name") or d.get("engineer_id")}


def _escalation(d: dict[str, Any]) -> dict[str, Any]:
    return {**d, "level": 1, "role": "project_manager"}


def _report(d: dict[str, Any]) -> dict[str, Any]:
    at = d.get("submitted_at") or d.get("returned_at")
    return {**d, "report": d.get("kind"), "at": at}


def _incident(d: dict[str, Any]) -> dict[str, Any]:
    # The actor by name where intake knows it (the username otherwise).
    return {**d, "at": d.get("raised_at") or d.get("occurred_at"), "who": d.get("actor_name") or d.get("actor") or d.get("who"),
            "severity": d.get("severity") or "normal"}


def _authorization(d: dict[str, Any]) -> dict[str, Any]:
    # The work by its title (what the agency decides on), not the catalog code (walk 6a: "INC-4（RS-ONSITE）").
    return {**d, "service": d.get("title") or d.get("service_code") or d.get("service")}


def _replacement(d: dict[str, Any]) -> dict[str, Any]:
    # The engineer by name where the event carries it (the request does; the answer names the engineer id only).
    return {**d, "engineer": d.get("engineer_name") or d.get("engineer_id")}


ROUTES: tuple[Route, ...] = (
    Route("TICKET_ASSIGNED", "sla-notify-assigned", "assigned"),
    # The engineer a ticket is moved to (a delay's re-dispatch, the desk's reassign) is told as the first one was.
    Route("TICKET_REASSIGNED", "sla-notify-reassigned", "assigned"),
    Route("ASSIGNMENT_HELP_REQUESTED", "sla-notify-help-requested", "needs_answer", _help),
    Route("TICKET_RESOLVED", "sla-notify-resolved", "resolved"),
    Route("SLA_BREACHED", "sla-notify-breached", "breach"),
    Route("ESCALATION_RAISED", "sla-notify-escalation-raised", "escalation", _escalation),
    Route("TICKET_CREATED", "sla-notify-authorization", "authorization_waiting", _authorization,
          when=lambda d: bool(d.get("awaiting_authorization") or d.get("emergency"))),
    Route("REPORT_SUBMITTED", "sla-notify-report-submitted", "report_submitted", _report),
    Route("REPORT_RETURNED", "sla-notify-report-returned", "report_returned", _report),
    Route("SECURITY_INCIDENT_RAISED", "sla-notify-incident", "incident_raised", _incident),
    Route("REPLACEMENT_REQUESTED", "sla-notify-replacement-requested", "replacement_requested", _replacement),
    Route("REPLACEMENT_ANSWERED", "sla-notify-replacement-answered", "replacement_answered", _replacement),
)


@dataclass(frozen=True)
class Settling:
    """An event after which a ticket's notices of some kinds ask nothing more of anyone: they are settled (read for
    everyone; the bell stops counting them)."""

    subject_name: str
    durable: str
    kinds: tuple[str, ...]


SETTLING: tuple[Settling, ...] = (
    # The agency decided the work it was asked to authorize.
    Settling("TICKET_AUTHORIZED", "sla-notify-settle-authorized", ("authorization_waiting",)),
    Settling("TICKET_AUTHORIZATION_DECLINED", "sla-notify-settle-declined", ("authorization_waiting",)),
)


def active_routes() -> list[tuple[str, Route]]:
    """(subject, route) for each route whose subject is defined in the shared contracts today."""
    return [(getattr(subjects, r.subject_name), r) for r in ROUTES if hasattr(subjects, r.subject_name)]


def register(broker: NatsBroker, *, wired: NotificationWiring, book: BookHolder, holders: HolderStore | None,
             max_deliver: int, ack_wait_s: float) -> None:
    def handler_for(route: Route) -> Callable[[Envelope, Any], Any]:
        async def on_event(envelope: Envelope, data: Any) -> None:
            raw = data.model_dump()
            if route.subject_name == "TICKET_CREATED" and raw.get("ticket_id") and raw.get("number"):
                # Every ticket's number and title, for the events that name it by id only (ticket.assigned).
                await wired.numbers.remember(str(raw["ticket_id"]), str(raw["number"]), raw.get("title"))
            if not route.when(raw):
                return
            ticket_id = str(raw.get("ticket_id") or "")
            holder = await holders.holder(ticket_id) if (holders is not None and ticket_id and route.kind == "resolved") else None
            await notify_event(
                event_id=str(envelope.event_id), kind=route.kind, fields=route.fields(raw), ticket_id=ticket_id,
                holder=holder, wired=wired, book=book.book, now=datetime.now(UTC),
            )
        return on_event

    def settler_for(settling: Settling) -> Callable[[Envelope, Any], Any]:
        async def on_event(envelope: Envelope, data: Any) -> None:
            ticket_id = str(getattr(data, "ticket_id", "") or "")
            if ticket_id:
                await wired.inbox.settle(ticket_id, settling.kinds)
        return on_event

    def dead_letter(subject: str, reason: str) -> None:
        metrics.dead_letters.labels(subject, reason).inc()

    for subject, route in active_routes():
        subscribe_events(
            broker, subject=subject, durable=route.durable, handler=handler_for(route),
            max_deliver=max_deliver, ack_wait_s=ack_wait_s, on_dead_letter=dead_letter,
            description=f"Notify people of {subject}",
        )
    for settling in SETTLING:
        if hasattr(subjects, settling.subject_name):
            subject = getattr(subjects, settling.subject_name)
            subscribe_events(
                broker, subject=subject, durable=settling.durable, handler=settler_for(settling),
                max_deliver=max_deliver, ack_wait_s=ack_wait_s, on_dead_letter=dead_letter,
                description=f"Settle the notices {subject} answers",
            )
