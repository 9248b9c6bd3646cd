"""Reporting's bus edge: every contract event is projected and counted."""

from __future__ import annotations

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import Envelope, EventData, subjects
from opsdesk_shared.settings import ServiceSettings

from .. import metrics, service
from ..domain import Tally
from ..ports import EventProjection

CONSUMED = (
    subjects.TICKET_CREATED,
    subjects.TICKET_ASSIGNED,
    subjects.TICKET_REASSIGNED,
    subjects.ESCALATION_RAISED,
    subjects.SLA_WARNING,
    subjects.SLA_BREACHED,
    subjects.REPAIR_UPDATED,
)


def register(broker: NatsBroker, *, projection: EventProjection, tally: Tally, settings: ServiceSettings) -> None:
    async def on_event(envelope: Envelope, data: EventData) -> None:
        await service.project_event(envelope, data, projection=projection, tally=tally)

    for subject in CONSUMED:
        subscribe_events(
            broker, subject=subject, durable=f"reporting-{subject.replace('.', '-')}", handler=on_event,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
            on_dead_letter=lambda subj, reason: metrics.dead_letters.labels(subj, reason).inc(),
        )
