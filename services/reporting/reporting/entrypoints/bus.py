"""Reporting's bus edge: every event of the projected families is counted (tally) and applied to the read models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import REGISTRY, Envelope, EventData, subjects
from opsdesk_shared.settings import ServiceSettings

from .. import metrics, service
from ..domain import Tally
from ..ports import EventProjection
from ..rebuild import Projection

# One durable consumer per family keeps each family's events in stream order (a ticket's status changes, a repair's
# updates). Families whose producers are still being written are consumed once their contracts are registered.
FAMILIES = ("ticket.>", "assignment.>", "escalation.>", "sla.>", "repair.>", "problem.>")
# A reversed spare issue takes its quantity back out of the month's consumption.
OPTIONAL = (subjects.CMDB_INSPECTION_RECORDED, subjects.CMDB_SPARE_ISSUED, subjects.CMDB_SPARE_ISSUE_REVERSED)


def consumed() -> list[str]:
    registered = {event_type for event_type, _ in REGISTRY}
    return [*FAMILIES, *(s for s in OPTIONAL if s in registered)]


MajorIncidentResolved = Callable[[dict[str, Any]], Awaitable[object]]


def register(
    broker: NatsBroker, *, projection: EventProjection, tally: Tally, holder: Projection, settings: ServiceSettings,
    on_major_incident_resolved: MajorIncidentResolved | None = None,
) -> None:
    async def on_event(envelope: Envelope, data: EventData) -> None:
        await service.project_event(envelope, data, projection=projection, tally=tally)
        if await service.project(envelope, models=holder.models, live=holder.live):
            metrics.events_projected.labels(envelope.type).inc()
        if envelope.type == subjects.TICKET_RESOLVED and on_major_incident_resolved is not None:
            ticket = await holder.models.entity("tickets", envelope.subject_id)
            if ticket is not None and ticket.get("major"):
                await on_major_incident_resolved(ticket)  # the contract's per-incident report

    for subject in consumed():
        family = subject.removesuffix(".>").replace(".", "-")
        subscribe_events(
            broker, subject=subject, durable=f"reporting-{family}", handler=on_event,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
            on_dead_letter=lambda subj, reason: metrics.dead_letters.labels(subj, reason).inc(),
        )
