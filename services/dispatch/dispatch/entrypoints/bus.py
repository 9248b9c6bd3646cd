"""Dispatch's bus edge: every new ticket gets an engineer (a desk-first one when the desk hands it over, one awaiting
the agency's authorization when it is authorized); a ticket the desk resolved or cancelled frees them; a
clock the SLA monitor announces as run out marks the assignment overdue (the SLA monitor owns the clocks); the desk's
review of the service record on the ticket marks the assignment reviewed or gives it back to the engineer, and so does
a reopen of a ticket the engineer's work resolved."""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import (
    Envelope,
    ServiceRecordReviewedV1,
    SlaBreachedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    TicketReopenedV1,
    TicketStatusChangedV1,
    subjects,
)
from opsdesk_shared.contracts.authorizations import TicketAuthorizationDeclinedV1, TicketAuthorizedV1
from opsdesk_shared.settings import ServiceSettings

from .. import metrics, service
from ..agency import service as agency_service
from ..agency.service import Oversight
from ..ports import AssignmentStore, EventOutbox, Roster
from ..waiting import WaitingRoom

# Once a ticket is in one of these states, nobody needs to go.
CLOSING_STATES = frozenset({"resolved", "cancelled", "closed"})


def register(
    broker: NatsBroker, *, roster: Roster, assignments: AssignmentStore, outbox: EventOutbox, settings: ServiceSettings,
    waiting: WaitingRoom | None = None, oversight: Oversight | None = None,
) -> None:
    async def on_ticket_created(envelope: Envelope, ticket: TicketCreatedV1) -> None:
        if ticket.awaiting_authorization:
            # Nobody goes before the agency authorizes the work (ticket.authorized says when it is ours), and an
            # engineer's act on it meanwhile is refused and announced (agency/).
            if oversight is not None:
                await agency_service.hold(ticket.ticket_id, ticket.number, state="awaiting", now=envelope.occurred_at, oversight=oversight)
            return
        if ticket.desk_first:
            return  # the desk tries remote guidance first; ticket.dispatch_requested says when it is ours
        await assign(envelope, ticket)

    async def on_ticket_authorized(envelope: Envelope, authorized: TicketAuthorizedV1) -> None:
        # The agency authorized work that waited for it: assigned from this event alone, once (as a hand-over).
        # Emergency work and work a standing authorization covered went out with ticket.created already.
        if oversight is not None:
            await agency_service.release(authorized.ticket_id, oversight=oversight)
        if not authorized.dispatch:
            return
        await assign(envelope, TicketCreatedV1.model_validate(authorized.model_dump(include=set(TicketCreatedV1.model_fields))))

    async def on_authorization_declined(envelope: Envelope, declined: TicketAuthorizationDeclinedV1) -> None:
        # Work the agency declined: nobody may work on it (the cancellation withdraws any engineer on its own event).
        if oversight is not None:
            await agency_service.hold(declined.ticket_id, declined.number, state="declined", now=declined.declined_at, oversight=oversight)

    async def on_dispatch_requested(envelope: Envelope, requested: TicketDispatchRequestedV1) -> None:
        # The ticket as the desk hands it over (service, priority and site as they are now). Assigned once: the store
        # refuses a second assignment, and a ticket resolved meanwhile left a withdrawn record that assigns nobody.
        # A reopened ticket the desk resolved and sends on again is handed over anew, after its withdrawn record:
        # assign_ticket opens the slot again (the hand-over's time tells it from a late one).
        await assign(envelope, TicketCreatedV1.model_validate(requested.model_dump(include=set(TicketCreatedV1.model_fields))))

    async def assign(envelope: Envelope, ticket: TicketCreatedV1) -> None:
        now = datetime.now(UTC)
        assignment = await service.assign_ticket(
            ticket, roster=roster, assignments=assignments, outbox=outbox, now=now,
            correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id), handed_over_at=envelope.occurred_at,
        )
        if assignment.status == "unassigned":
            metrics.no_engineer.inc()
            if waiting is not None:
                waiting.add(ticket.ticket_id)
            return
        if assignment.assigned_at == now:
            metrics.assignments.labels(assignment.engineer_id).inc()
            metrics.assignment_latency.observe((now - envelope.occurred_at).total_seconds())

    async def on_ticket_status_changed(envelope: Envelope, changed: TicketStatusChangedV1) -> None:
        if changed.new_status not in CLOSING_STATES:
            return
        await service.withdraw(
            changed.ticket_id, number=changed.number, status=changed.new_status, by=changed.by,
            roster=roster, assignments=assignments, now=datetime.now(UTC), outbox=outbox,
            correlation_id=envelope.correlation_id, ended_at=changed.changed_at,
        )
        if waiting is not None:
            waiting.discard(changed.ticket_id)

    async def on_ticket_reopened(envelope: Envelope, reopened: TicketReopenedV1) -> None:
        # Intake gives a reopened ticket the engineer resolved back to them: so does dispatch, to complete it again.
        await service.reopen_for_engineer(reopened, roster=roster, assignments=assignments)

    async def on_sla_breached(envelope: Envelope, breached: SlaBreachedV1) -> None:
        if breached.repair_id is not None or not breached.ticket_id:
            return  # a repair's clock: nothing of dispatch's
        await service.record_breach(
            breached.ticket_id, timer=breached.timer, due_at=breached.due_at, breached_at=breached.breached_at,
            assignments=assignments,
        )

    async def on_service_record_reviewed(envelope: Envelope, reviewed: ServiceRecordReviewedV1) -> None:
        # The review is the ticket's (intake's); the assignment follows it, so ticket and assignment agree.
        await service.record_review(
            reviewed, roster=roster, assignments=assignments, outbox=outbox, now=datetime.now(UTC),
            correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id),
        )

    for subject, durable, handler in (
        (subjects.TICKET_CREATED, "dispatch-ticket-created", on_ticket_created),
        (subjects.TICKET_DISPATCH_REQUESTED, "dispatch-dispatch-requested", on_dispatch_requested),
        (subjects.TICKET_STATUS_CHANGED, "dispatch-ticket-status-changed", on_ticket_status_changed),
        (subjects.SLA_BREACHED, "dispatch-sla-breached", on_sla_breached),
        (subjects.TICKET_SERVICE_RECORD_REVIEWED, "dispatch-service-record-reviewed", on_service_record_reviewed),
        (subjects.TICKET_REOPENED, "dispatch-ticket-reopened", on_ticket_reopened),
        (subjects.TICKET_AUTHORIZED, "dispatch-ticket-authorized", on_ticket_authorized),
        (subjects.TICKET_AUTHORIZATION_DECLINED, "dispatch-ticket-authorization-declined", on_authorization_declined),
    ):
        subscribe_events(
            broker, subject=subject, durable=durable, handler=handler,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
            on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
        )
