"""Intake's bus edge: dispatch's decisions become visible on the ticket."""

from __future__ import annotations

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import Envelope, TicketAssignedV1, TicketReassignedV1, subjects
from opsdesk_shared.settings import ServiceSettings

from .. import metrics, service
from ..ports import TicketStore


def register(broker: NatsBroker, *, store: TicketStore, settings: ServiceSettings) -> None:
    async def on_ticket_assigned(envelope: Envelope, event: TicketAssignedV1) -> None:
        if await service.record_assignment(event, store=store):
            metrics.assignments_recorded.inc()

    async def on_ticket_reassigned(envelope: Envelope, moved: TicketReassignedV1) -> None:
        # The desk sees the new engineer exactly as a first assignment, with the reason it moved.
        as_assigned = TicketAssignedV1(
            ticket_id=moved.ticket_id, assignment_id=moved.assignment_id, engineer_id=moved.engineer_id,
            engineer_name=moved.engineer_name, reason=moved.reason, assigned_at=moved.reassigned_at,
        )
        if await service.record_assignment(as_assigned, store=store):
            metrics.assignments_recorded.inc()

    for subject, durable, handler in (
        (subjects.TICKET_ASSIGNED, "intake-ticket-assigned", on_ticket_assigned),
        (subjects.TICKET_REASSIGNED, "intake-ticket-reassigned", on_ticket_reassigned),
    ):
        subscribe_events(
            broker, subject=subject, durable=durable, handler=handler,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
            on_dead_letter=lambda subj, reason: metrics.dead_letters.labels(subj, reason).inc(),
        )
