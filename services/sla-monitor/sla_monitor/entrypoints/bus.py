"""The SLA monitor's bus edge: ticket.created starts the response and dispatch clocks, ticket.assigned stops them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage
from pydantic import Field, TypeAdapter, ValidationError

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import (
    AssignmentConfirmedV1,
    AssignmentDelayedV1,
    Envelope,
    EscalationAcknowledgedV1,
    EscalationRaisedV1,
    RepairUpdatedV1,
    SlaBreachedV1,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    TicketReassignedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
    subjects,
)
from opsdesk_shared.contracts.authorizations import TicketAuthorizationDeclinedV1, TicketAuthorizedV1
from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery, TimersQuery, TimersReply

from .. import calendar_service, domain, metrics, notify, service
from ..calendar_book import BookHolder
from ..policy_service import PolicyHolder
from ..ports import EventOutbox, HolderStore, NotificationStore, TimerStore
from ..settings import SlaSettings

CALENDAR_QUERIES: TypeAdapter[DeadlineQuery | ElapsedQuery] = TypeAdapter(
    Annotated[DeadlineQuery | ElapsedQuery, Field(discriminator="op")]
)


# Which policies a ticket's events start and stop, and from which moment the clock counts (work awaiting the agency's
# authorization: domain.clocks_on_created / clocks_on_authorized).
STARTED_BY_TICKET_CREATED = ("response", "dispatch")
STOPPED_BY_TICKET_ASSIGNED = ("response", "dispatch")
# A ticket in one of these states needs no clock any more.
CLOSING_STATES = frozenset({"resolved", "cancelled", "closed"})


def register(
    broker: NatsBroker, *, store: TimerStore, holder: BookHolder, notifications: NotificationStore, settings: SlaSettings,
    outbox: EventOutbox, holders: HolderStore | None = None, policies: PolicyHolder | None = None,
) -> None:
    """`outbox` relays the verdicts (sla.timer_stopped, and a breach a late stop reveals) each stop writes. `policies`
    holds the policies and escalation chain an administrator saved (the environment's without one): each clock takes
    the policy in force when it starts, so a change applies to clocks started after it."""
    rules = policies if policies is not None else PolicyHolder(policies=settings.policy_set(), contacts=settings.contact_set())

    async def on_ticket_created(envelope: Envelope, ticket: TicketCreatedV1) -> None:
        if ticket.sla_profile != "responsive":
            return  # a scheduled or project deliverable (a monthly report, an assessment) has no response clock
        # Response runs from when the requester reported it (a phone call logged later); dispatch from intake, and
        # the agency's authorization of emergency work from when it went out.
        starts = {"response": ticket.reported_at, "dispatch": envelope.occurred_at, domain.AUTHORIZATION: envelope.occurred_at}
        for name in domain.clocks_on_created(awaiting_authorization=ticket.awaiting_authorization, emergency=ticket.emergency):
            policy = rules.policy_for(name, service_code=ticket.service_code, priority=ticket.priority)
            if await service.start_policy_timer(
                policy, ticket_id=ticket.ticket_id, started_at=starts[name], book=holder.book, store=store,
                correlation_id=envelope.correlation_id, outbox=outbox,
            ):
                metrics.timers_started.labels(name).inc()

    async def start(name: str, ticket_id: str, at: datetime, envelope: Envelope) -> None:
        if await service.start_new_cycle(
            rules.timer_policy(name), ticket_id=ticket_id, started_at=at, book=holder.book, store=store,
            correlation_id=envelope.correlation_id, outbox=outbox,
        ):
            metrics.timers_started.labels(name).inc()

    async def stop(name: str, ticket_id: str, at: datetime) -> None:
        if await service.stop_timer(name, ticket_id=ticket_id, at=at, store=store, outbox=outbox):
            metrics.timers_stopped.labels(name).inc()

    async def on_ticket_assigned(envelope: Envelope, assigned: TicketAssignedV1) -> None:
        if holders is not None:
            await service.record_holder(assigned.ticket_id, engineer_id=assigned.engineer_id, at=assigned.assigned_at, holders=holders)
        for name in STOPPED_BY_TICKET_ASSIGNED:
            await stop(name, assigned.ticket_id, assigned.assigned_at)
        if await service.stop_if_running(
            "remote_guidance", ticket_id=assigned.ticket_id, at=assigned.assigned_at, store=store, outbox=outbox
        ):
            metrics.timers_stopped.labels("remote_guidance").inc()
        await start("confirmation", assigned.ticket_id, assigned.assigned_at, envelope)
        await notify.cancel_escalation(
            assigned.ticket_id, timers=STOPPED_BY_TICKET_ASSIGNED, chain=rules.cancellable, store=notifications
        )

    async def on_ticket_reassigned(envelope: Envelope, moved: TicketReassignedV1) -> None:
        if holders is not None:
            await service.record_holder(moved.ticket_id, engineer_id=moved.engineer_id, at=moved.reassigned_at, holders=holders)
        await stop("redispatch", moved.ticket_id, moved.reassigned_at)
        await start("confirmation", moved.ticket_id, moved.reassigned_at, envelope)  # the new engineer, confirmed anew

    async def on_assignment_confirmed(envelope: Envelope, confirmed: AssignmentConfirmedV1) -> None:
        await stop("confirmation", confirmed.ticket_id, confirmed.confirmed_at)

    async def on_assignment_delayed(envelope: Envelope, delayed: AssignmentDelayedV1) -> None:
        await start("redispatch", delayed.ticket_id, delayed.delayed_at, envelope)

    async def on_escalation_raised(envelope: Envelope, raised: EscalationRaisedV1) -> None:
        await start("escalation", raised.ticket_id, raised.raised_at, envelope)

    async def on_escalation_acknowledged(envelope: Envelope, ack: EscalationAcknowledgedV1) -> None:
        await stop("escalation", ack.ticket_id, ack.acknowledged_at)

    async def on_repair_updated(envelope: Envelope, update: RepairUpdatedV1) -> None:
        done = await service.on_repair_updated(
            update, book=holder.book, store=store, correlation_id=envelope.correlation_id, outbox=outbox,
            progress_working_days=rules.policies.repair_progress_working_days,
        )
        if done == "started":
            for name in service.REPAIR_TIMERS:
                metrics.timers_started.labels(name).inc()

    async def on_ticket_updated(envelope: Envelope, updated: TicketUpdatedV1) -> None:
        started = updated.changes.get("guidance_started_at", {}).get("new")
        if isinstance(started, str):
            await start("remote_guidance", updated.ticket_id, datetime.fromisoformat(started), envelope)
        acknowledged = updated.changes.get("acknowledged_at", {}).get("new")
        if isinstance(acknowledged, str):
            # The desk acknowledged a ticket that waits for the agency: that is the response the clock measures.
            await stop("response", updated.ticket_id, datetime.fromisoformat(acknowledged))

    async def on_ticket_authorized(envelope: Envelope, authorized: TicketAuthorizedV1) -> None:
        started, stopped = domain.clocks_on_authorized(dispatch=authorized.dispatch)
        for name in stopped:
            if await service.stop_if_running(name, ticket_id=authorized.ticket_id, at=authorized.authorized_at, store=store, outbox=outbox):
                metrics.timers_stopped.labels(name).inc()
        if authorized.sla_profile != "responsive":
            return
        for name in started:
            policy = rules.policy_for(name, service_code=authorized.service_code, priority=authorized.priority)
            if await service.start_policy_timer(
                policy, ticket_id=authorized.ticket_id, started_at=authorized.authorized_at, book=holder.book, store=store,
                correlation_id=envelope.correlation_id, outbox=outbox,
            ):
                metrics.timers_started.labels(name).inc()

    async def on_ticket_authorization_declined(envelope: Envelope, declined: TicketAuthorizationDeclinedV1) -> None:
        # The agency decided (a waiting ticket is cancelled by its own ticket.status_changed): its clock stops.
        if await service.stop_if_running(
            domain.AUTHORIZATION, ticket_id=declined.ticket_id, at=declined.declined_at, store=store, outbox=outbox
        ):
            metrics.timers_stopped.labels(domain.AUTHORIZATION).inc()

    async def on_ticket_dispatch_requested(envelope: Envelope, sent: TicketDispatchRequestedV1) -> None:
        # The desk sent the ticket on (or its window ran out): guidance is over, met if within the window. A hold
        # after hours in dispatch is dispatch's wait, not the desk's, and must not breach the guidance clock.
        if await service.stop_if_running("remote_guidance", ticket_id=sent.ticket_id, at=sent.requested_at, store=store, outbox=outbox):
            metrics.timers_stopped.labels("remote_guidance").inc()

    async def on_ticket_status_changed(envelope: Envelope, changed: TicketStatusChangedV1) -> None:
        if changed.new_status in CLOSING_STATES:
            for name in await service.close_ticket_timers(
                changed.ticket_id, at=changed.changed_at, store=store, outbox=outbox, new_status=changed.new_status
            ):
                metrics.timers_stopped.labels(name).inc()
        elif changed.new_status == "pending" and (changed.pending_reason or "requester") in settings.pause_on_pending:
            for name in await service.pause_ticket_timers(changed.ticket_id, at=changed.changed_at, store=store):
                metrics.timers_paused.labels(name).inc()
        elif changed.old_status == "pending":
            await service.resume_ticket_timers(changed.ticket_id, at=changed.changed_at, book=holder.book, store=store)

    async def on_sla_breached(envelope: Envelope, breach: SlaBreachedV1) -> None:
        await notify.escalate_breach(breach, chain=rules.chain, store=notifications, now=envelope.occurred_at)

    def dead_letter(subject: str, reason: str) -> None:
        metrics.dead_letters.labels(subject, reason).inc()

    for subject, durable, handler in (
        (subjects.TICKET_CREATED, "sla-ticket-created", on_ticket_created),
        (subjects.TICKET_ASSIGNED, "sla-ticket-assigned", on_ticket_assigned),
        (subjects.TICKET_STATUS_CHANGED, "sla-ticket-status-changed", on_ticket_status_changed),
        (subjects.TICKET_UPDATED, "sla-ticket-updated", on_ticket_updated),
        (subjects.TICKET_DISPATCH_REQUESTED, "sla-ticket-dispatch-requested", on_ticket_dispatch_requested),
        (subjects.SLA_BREACHED, "sla-escalation", on_sla_breached),
        (subjects.REPAIR_UPDATED, "sla-repair-updated", on_repair_updated),
        (subjects.TICKET_REASSIGNED, "sla-ticket-reassigned", on_ticket_reassigned),
        (subjects.ASSIGNMENT_CONFIRMED, "sla-assignment-confirmed", on_assignment_confirmed),
        (subjects.ASSIGNMENT_DELAYED, "sla-assignment-delayed", on_assignment_delayed),
        (subjects.ESCALATION_RAISED, "sla-escalation-raised", on_escalation_raised),
        (subjects.ESCALATION_ACKNOWLEDGED, "sla-escalation-acknowledged", on_escalation_acknowledged),
        (subjects.TICKET_AUTHORIZED, "sla-ticket-authorized", on_ticket_authorized),
        (subjects.TICKET_AUTHORIZATION_DECLINED, "sla-ticket-authorization-declined", on_ticket_authorization_declined),
    ):
        subscribe_events(
            broker, subject=subject, durable=durable, handler=handler,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s, on_dead_letter=dead_letter,
        )


def register_calendar_queries(broker: NatsBroker, *, holder: BookHolder) -> None:
    """Answers calendar.query (core request/reply) from the gateway."""

    @broker.subscriber(subjects.CALENDAR_QUERY, queue="sla-monitor", description="Deadline/elapsed in business time")
    async def on_calendar_query(msg: NatsMessage) -> dict[str, Any]:
        try:
            query = CALENDAR_QUERIES.validate_json(msg.body)
        except ValidationError as exc:
            errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
            return CalendarReply(status=422, errors=errors).model_dump(mode="json")
        return calendar_service.answer(query, holder.book).model_dump(mode="json")


def register_timer_queries(broker: NatsBroker, *, store: TimerStore, settings: SlaSettings) -> None:
    """Answers timers.query (core request/reply): the gateway shows a ticket's commitments."""
    names = tuple(settings.timer_policies())

    @broker.subscriber(subjects.TIMERS_QUERY, queue="sla-monitor", description="A ticket's SLA timers")
    async def on_timers_query(msg: NatsMessage) -> dict[str, Any]:
        try:
            query = TimersQuery.model_validate_json(msg.body)
        except ValidationError as exc:
            return {"error": str(exc)}
        timers = await service.ticket_timers(query.ticket_id, names=names, store=store)
        return TimersReply(ticket_id=query.ticket_id, timers=timers).model_dump(mode="json")
