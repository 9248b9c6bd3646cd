"""The assets bus edge: asset.lookup and rpc.cmdb.* requests (core NATS request/reply, not persisted), and the
ticket events that keep each asset's list of open tickets and who holds them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsMessage

from opsdesk_shared.bus import KeyedLocks, subscribe_events
from opsdesk_shared.contracts import AssignmentCompletedV1, Envelope, ServiceRecordReviewedV1, subjects
from opsdesk_shared.contracts.authorizations import TicketAuthorizedV1
from opsdesk_shared.settings import ServiceSettings

from .. import metrics, oversight, parts_used, service, service_ops
from ..ports import AssetRegister, Docs, RepairStore
from ..service import Ctx
from ..service_graph import RelationGraph

# ticket.assigned / ticket.reassigned say who holds each ticket: the overview shows engineers only their own.
AUTHORIZED_DURABLE = "assets-" + subjects.TICKET_AUTHORIZED.replace(".", "-")
TICKET_SUBJECTS = (
    subjects.TICKET_CREATED, subjects.TICKET_STATUS_CHANGED, subjects.TICKET_RESOLVED, subjects.TICKET_CLOSED,
    subjects.TICKET_ASSIGNED, subjects.TICKET_REASSIGNED,
)

SLA_BREACHED_DURABLE = "assets-sla-breached"
COMPLETED_DURABLE = "assets-assignment-completed"
REVIEWED_DURABLE = "assets-ticket-service_record_reviewed"


@dataclass(frozen=True)
class SpareDocs:
    """The stock, its issues and the completions whose parts were refused: what issuing a record's parts needs."""

    spares: Docs
    issues: Docs
    outcomes: Docs


def _tag_request(body: bytes) -> dict[str, Any]:
    request = json.loads(body)
    if not isinstance(request, dict):
        raise ValueError("request must be an object")
    tag = request["tag"]
    if not isinstance(tag, str) or not tag:
        raise ValueError("tag must be a non-empty string")
    return request


def register(
    broker: NatsBroker, *, assets: AssetRegister, links: Docs | None = None, repairs: RepairStore | None = None,
    graph: RelationGraph | None = None, settings: ServiceSettings | None = None, repair_clocks: Docs | None = None,
    spare_docs: SpareDocs | None = None, authorized: Docs | None = None,
) -> None:
    @broker.subscriber(subjects.ASSET_LOOKUP, queue="assets", description="Request {'tag': str}; reply {'found': bool, 'asset': {...}}")
    async def on_asset_lookup(msg: NatsMessage) -> dict[str, Any]:
        try:
            tag = _tag_request(msg.body)["tag"]
        except (ValueError, KeyError, TypeError) as exc:
            return {"found": False, "error": f"bad request: {exc}"}
        asset = await service.lookup_asset(tag, register=assets)
        metrics.lookups.labels(str(asset is not None).lower()).inc()
        if asset is None:
            return {"found": False}
        return {"found": True, "asset": asset.model_dump(mode="json")}

    if links is not None and repairs is not None:
        @broker.subscriber(subjects.RPC_CMDB_ASSET_SUMMARY, queue="assets",
                           description="Request {'tag': str}; reply {'found': bool, 'asset', 'open_tickets', 'repairs'}")
        async def on_asset_summary(msg: NatsMessage) -> dict[str, Any]:
            try:
                tag = _tag_request(msg.body)["tag"]
            except (ValueError, KeyError, TypeError) as exc:
                return {"found": False, "error": f"bad request: {exc}"}
            found = await service_ops.asset_overview(tag, register=assets, links=links, repairs=repairs)
            return {"found": False} if found is None else {"found": True, **found}

    if graph is not None:
        @broker.subscriber(subjects.RPC_CMDB_IMPACT, queue="assets",
                           description="Request {'tag', 'depth'?: 1-10, 'direction'?: impact|depends, 'limit'?}; reply {'found', 'impact'}")
        async def on_impact(msg: NatsMessage) -> dict[str, Any]:
            try:
                request = _tag_request(msg.body)
                depth = int(request.get("depth", 5))
                direction = request.get("direction", "impact")
                limit = int(request.get("limit", 200))
                if not 1 <= depth <= 10 or direction not in ("impact", "depends") or not 1 <= limit <= 5000:
                    raise ValueError("depth 1-10, direction impact|depends, limit 1-5000")
            except (ValueError, KeyError, TypeError) as exc:
                return {"found": False, "error": f"bad request: {exc}"}
            if await assets.get(request["tag"]) is None:
                return {"found": False}
            result = await graph.impact(request["tag"], depth=depth, direction=direction, limit=limit)
            metrics.impact_queries.inc()
            return {"found": True, "impact": result.model_dump(mode="json")}

    if links is not None and settings is not None:
        # One set of locks for the six ticket consumers: their batches write the same ticket and asset documents.
        ticket_locks = KeyedLocks()

        async def on_ticket_event(envelope: Envelope, event: Any) -> None:
            if await service_ops.on_ticket_event(event, links=links, locks=ticket_locks):
                metrics.ticket_events.labels(envelope.type).inc()

        if authorized is not None:
            authorized_docs = authorized

            async def on_ticket_authorized(envelope: Envelope, event: TicketAuthorizedV1) -> None:
                """The agency authorized a ticket: a change or a send-out of the asset it names is covered (oversight)."""
                await oversight.note_authorized(event, authorized=authorized_docs)

            subscribe_events(
                broker, subject=subjects.TICKET_AUTHORIZED, durable=AUTHORIZED_DURABLE, handler=on_ticket_authorized,
                max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
                on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
            )

        if repair_clocks is not None:
            clocks = repair_clocks

            async def on_sla_breached(envelope: Envelope, event: Any) -> None:
                """The SLA monitor owns the repair clocks; the repairs list shows its breaches as overdue."""
                if await service_ops.on_repair_breached(event, clocks=clocks):
                    metrics.repair_breaches.inc()

            subscribe_events(
                broker, subject=subjects.SLA_BREACHED, durable=SLA_BREACHED_DURABLE, handler=on_sla_breached,
                max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
                on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
            )

        if spare_docs is not None:
            stock_docs, ticket_links = spare_docs, links

            async def on_assignment_completed(envelope: Envelope, completed: AssignmentCompletedV1) -> None:
                """The engineer's stock parts leave the stock against the ticket; the actor is who completed."""
                ctx = Ctx(by=completed.by or completed.engineer_id, now=completed.completed_at,
                          correlation_id=envelope.correlation_id, causation_id=str(envelope.event_id))
                outcome = await parts_used.issue_parts_used(
                    completed, completion_event_id=str(envelope.event_id), spares=stock_docs.spares,
                    issues=stock_docs.issues, links=ticket_links, outcomes=stock_docs.outcomes, ctx=ctx,
                )
                for result, count in (("issued", len(outcome.issued)), ("refused", len(outcome.refused)),
                                      ("reversed", outcome.reversed)):
                    if count:
                        metrics.parts_used.labels(result).inc(count)

            async def on_record_reviewed(envelope: Envelope, review: ServiceRecordReviewedV1) -> None:
                """A returned record's parts go back to stock (its redo issues them again); the actor is the desk."""
                ctx = Ctx(by=review.by, now=review.reviewed_at, correlation_id=envelope.correlation_id,
                          causation_id=str(envelope.event_id))
                taken_back = await parts_used.on_record_reviewed(review, spares=stock_docs.spares,
                                                                 issues=stock_docs.issues, ctx=ctx)
                if taken_back:
                    metrics.parts_used.labels("reversed").inc(taken_back)

            subscribe_events(
                broker, subject=subjects.TICKET_SERVICE_RECORD_REVIEWED, durable=REVIEWED_DURABLE,
                handler=on_record_reviewed, max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
                on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
            )

            subscribe_events(
                broker, subject=subjects.ASSIGNMENT_COMPLETED, durable=COMPLETED_DURABLE, handler=on_assignment_completed,
                max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
                on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
            )

        for subject in TICKET_SUBJECTS:
            subscribe_events(
                broker, subject=subject, durable=f"assets-{subject.replace('.', '-')}", handler=on_ticket_event,
                max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
                on_dead_letter=lambda subject, reason: metrics.dead_letters.labels(subject, reason).inc(),
            )
