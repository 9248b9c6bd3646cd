"""Intake's bus edge: dispatch's decisions and knowledge's suggestions become visible on the ticket. (Every ticket
event refreshing this replica's search index is index_feed.py's: an ordered consumer that resumes where the index
file left off.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from faststream.nats import NatsBroker

from opsdesk_shared.bus import subscribe_events
from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    AssignmentWithdrawnV1,
    Envelope,
    EscalationRaisedV1,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    TicketAssignedV1,
    TicketReassignedV1,
    TicketStatusChangedV1,
    subjects,
)
from opsdesk_shared.contracts.cmdb import CiChangedV1, InspectionRecordedV1, RegisterImportedV1, SpareIssueRefusedV1
from opsdesk_shared.contracts.envelope import EventData
from opsdesk_shared.settings import ServiceSettings

from .. import known_tags, metrics, notices, service
from ..domain import Suggestion
from ..service import Desk

log = logging.getLogger(__name__)


def register(
    broker: NatsBroker, *, desk: Desk, settings: ServiceSettings, requester_notices: notices.RequesterNotices | None = None
) -> None:
    async def on_ticket_assigned(envelope: Envelope, event: TicketAssignedV1) -> None:
        if await service.record_assignment(event, desk=desk, correlation_id=envelope.correlation_id):
            metrics.assignments_recorded.inc()

    async def on_ticket_reassigned(envelope: Envelope, moved: TicketReassignedV1) -> None:
        # The desk sees the new engineer as a first assignment, with the reason; the requester is told on the ticket.
        if await service.record_reassignment(moved, desk=desk, correlation_id=envelope.correlation_id):
            metrics.assignments_recorded.inc()

    async def on_kb_suggested(envelope: Envelope, event: EventData) -> None:
        data = event.model_dump()
        suggestions = [
            Suggestion(article_id=str(a["article_id"]), title=str(a.get("title", "")), score=float(a.get("score", 0.0)))
            for a in data.get("articles", [])
        ]
        try:
            await service.record_suggestions(str(data["ticket_id"]), suggestions, desk=desk, now=datetime.now(UTC))
        except LookupError:
            log.warning("suggestions for an unknown ticket", extra={"fields": {"ticket_id": data.get("ticket_id")}})

    async def on_inspection_recorded(envelope: Envelope, recorded: InspectionRecordedV1) -> None:
        opened = await service.open_for_inspection(
            recorded, desk=desk, now=datetime.now(UTC), correlation_id=envelope.correlation_id
        )
        if opened is not None and opened[1]:
            ticket = opened[0]
            metrics.tickets_created.labels(ticket.channel, ticket.service_code, ticket.priority).inc()

    async def on_assignment_completed(envelope: Envelope, completed: AssignmentCompletedV1) -> None:
        # The engineer's service record lands on the ticket; the desk reviews it here (the one review).
        await service.record_completion(completed, desk=desk, now=datetime.now(UTC), correlation_id=envelope.correlation_id)

    async def on_assignment_withdrawn(envelope: Envelope, withdrawn: AssignmentWithdrawnV1) -> None:
        # The desk resolved or cancelled the ticket and dispatch freed the engineer: the ticket stops showing them.
        await service.record_withdrawal(withdrawn, desk=desk, correlation_id=envelope.correlation_id)

    async def on_help_requested(envelope: Envelope, asked: HelpRequestedV1) -> None:
        # The engineer's question is a work note for the desk (knowledge answers it separately, as kb.suggested).
        await service.record_help_request(
            asked, event_id=str(envelope.event_id), desk=desk, correlation_id=envelope.correlation_id
        )

    async def on_escalation_raised(envelope: Envelope, raised: EscalationRaisedV1) -> None:
        # Why the engineer escalated, a work note for the desk (the project manager is told by the SLA monitor).
        await service.record_escalation(raised, event_id=str(envelope.event_id), desk=desk, correlation_id=envelope.correlation_id)

    async def on_assignment_unassigned(envelope: Envelope, unassigned: NoEngineerAvailableV1) -> None:
        # Nobody could take the ticket yet, or work on site waits for the on-site shift: the desk reads why (a work
        # note, the hold's end in local time), the requester of a held ticket when someone comes.
        await service.record_unassigned(
            unassigned, event_id=str(envelope.event_id), desk=desk, correlation_id=envelope.correlation_id
        )

    async def on_spare_issue_refused(envelope: Envelope, refused: SpareIssueRefusedV1) -> None:
        # Stock parts of the service record that assets could not issue: the desk sorts them out.
        await service.record_spare_refusal(refused, desk=desk, correlation_id=envelope.correlation_id)

    async def on_ci_changed(envelope: Envelope, changed: CiChangedV1) -> None:
        # Assets registered or changed an item: its tag exists, so a ticket may name it (item 9).
        if desk.tags is not None:
            await known_tags.record([changed.tag], desk.tags)

    async def on_register_imported(envelope: Envelope, imported: RegisterImportedV1) -> None:
        # An import announces its tags in parts of 1,000; each part is remembered on its own.
        if desk.tags is not None:
            await known_tags.record(imported.tags, desk.tags)

    async def on_assignment_accepted(envelope: Envelope, accepted: AssignmentAcceptedV1) -> None:
        # The requester sees the engineer took the job (and can no longer cancel it).
        await service.record_acceptance(accepted, desk=desk, correlation_id=envelope.correlation_id)

    async def on_assignment_confirmed(envelope: Envelope, confirmed: AssignmentConfirmedV1) -> None:
        # The requester sees the engineer is confirmed, and when they expect to be there.
        await service.record_confirmation(confirmed, desk=desk, correlation_id=envelope.correlation_id)

    async def on_status_changed_tell_requester(envelope: Envelope, changed: TicketStatusChangedV1) -> None:
        # Acked only once the mail server took the mail: a crash or a refusal redelivers (notices.py).
        if requester_notices is not None:
            outcome = await notices.notify_requester(
                changed, event_id=str(envelope.event_id), store=desk.store, notices=requester_notices
            )
            metrics.requester_notices.labels(outcome).inc()

    for subject, durable, handler in (
        (subjects.TICKET_ASSIGNED, "intake-ticket-assigned", on_ticket_assigned),
        (subjects.TICKET_REASSIGNED, "intake-ticket-reassigned", on_ticket_reassigned),
        (subjects.KB_SUGGESTED, "intake-kb-suggested", on_kb_suggested),
        (subjects.CMDB_INSPECTION_RECORDED, "intake-inspection-recorded", on_inspection_recorded),
        (subjects.ASSIGNMENT_COMPLETED, "intake-assignment-completed", on_assignment_completed),
        (subjects.ASSIGNMENT_WITHDRAWN, "intake-assignment-withdrawn", on_assignment_withdrawn),
        (subjects.ASSIGNMENT_ACCEPTED, "intake-assignment-accepted", on_assignment_accepted),
        (subjects.ASSIGNMENT_CONFIRMED, "intake-assignment-confirmed", on_assignment_confirmed),
        (subjects.TICKET_STATUS_CHANGED, "intake-requester-notices", on_status_changed_tell_requester),
        (subjects.CMDB_CI_CHANGED, "intake-ci-changed", on_ci_changed),
        (subjects.CMDB_REGISTER_IMPORTED, "intake-register-imported", on_register_imported),
        (subjects.ASSIGNMENT_HELP_REQUESTED, "intake-help-requested", on_help_requested),
        (subjects.ESCALATION_RAISED, "intake-escalation-raised", on_escalation_raised),
        (subjects.CMDB_SPARE_ISSUE_REFUSED, "intake-spare-issue-refused", on_spare_issue_refused),
        (subjects.ASSIGNMENT_UNASSIGNED, "intake-assignment-unassigned", on_assignment_unassigned),
    ):
        subscribe_events(
            broker, subject=subject, durable=durable, handler=handler,
            max_deliver=settings.max_deliver, ack_wait_s=settings.ack_wait_s,
            on_dead_letter=lambda subj, reason: metrics.dead_letters.labels(subj, reason).inc(),
        )
