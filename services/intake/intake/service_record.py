"""The one service record: the engineer completes with it through dispatch (assignment.completed), it lands on the
ticket, and the desk reviews it here, the only place (ticket.service_record_reviewed tells dispatch). Pure: each
step is (ticket, input) -> (ticket, events), like `lifecycle`.

How ticket and assignment stay in step:
- completed (assignment) <-> resolved with the record pending review (ticket): the engineer's completion is the
  resolution, so nobody needs a second step to resolve, and the requester sees the work done;
- the desk approves -> the record approved, the assignment reviewed; the ticket may be closed;
- the desk returns -> the record returned, the ticket back in progress, the assignment back with the engineer, who
  completes again through dispatch;
- a record waiting for review (or returned) blocks closing for everyone (see `lifecycle.close`).
`PUT /tickets/{id}/service-record` is the desk's correction of a record that waits for review (or a record for a
ticket no engineer held); engineers complete through dispatch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from opsdesk_shared.contracts import AssignmentCompletedV1, ServiceRecordReviewedV1, TicketUpdatedV1

from . import lifecycle
from .access import Forbidden, require
from .domain import Actor, PartUsed, ServiceRecord, Ticket, audit_entry, to_millis
from .lifecycle import Changed, IllegalTransition, allowed_from
from .texts import Said

# A record in these states still waits for someone (the desk's review, or the engineer's new completion).
WAITING = frozenset({"pending", "returned"})
OPEN = ("new", "assigned", "in_progress", "pending")
COMPLETE_PATH = "POST /api/v1/assignments/{ticket}/complete"


def engineer_of(completed: AssignmentCompletedV1) -> Actor:
    """The engineer who completed, as the audit records them (dispatch verified the caller)."""
    return Actor(
        subject=completed.by or f"engineer:{completed.engineer_id}", role="engineer", engineer_id=completed.engineer_id,
        source="bus",
    )


def _parts(completed: AssignmentCompletedV1) -> tuple[PartUsed, ...]:
    return tuple(PartUsed(part=p.part or p.sku or "?", sku=p.sku, quantity=p.quantity) for p in completed.parts_used)


def receive(ticket: Ticket, completed: AssignmentCompletedV1, *, engineer: Actor | None = None) -> Changed | None:
    """The engineer's completion puts the record on the ticket (pending review) and resolves an open ticket with
    the work done. None for a redelivery, or when the ticket's record is approved already, unless the ticket was
    reopened since and is in work again: then the completion after the approval is the new work's record."""
    at = to_millis(completed.completed_at)
    current = ticket.service_record
    if current is not None and (
        (current.review == "approved" and not _after_approval_in_new_work(ticket, current.reviewed_at, at))
        or (current.assignment_id == completed.assignment_id and current.submitted_at == at)
    ):
        return None
    engineer = engineer or engineer_of(completed)
    work_done = completed.work_done or completed.record
    record = ServiceRecord(
        work_done=work_done, parts_used=_parts(completed), minutes_on_site=completed.minutes_on_site or 0,
        submitted_by=engineer.subject, submitted_by_name=engineer.name or "", submitted_at=at, assignment_id=completed.assignment_id,
        engineer_id=completed.engineer_id,
    )
    changes = {"service_record": {"old": lifecycle._plain(current), "new": lifecycle._plain(record)}}
    with_record = ticket.model_copy(update={
        "service_record": record, "updated_at": at,
        "audit": (*ticket.audit, audit_entry(engineer, "service_record", at, changes)),
    })
    events: list[Any] = [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=engineer.subject, updated_at=at)]
    holds = ticket.assignee is not None and ticket.assignee.engineer_id == completed.engineer_id
    if ticket.status in OPEN and holds:
        working = with_record
        if working.status == "assigned":
            # The acceptance may not have reached us yet (another consumer): the work passes through in_progress, as
            # the transition table has it, so every consumer sees the ticket start before it is resolved.
            working, started = lifecycle._status_update(working, "in_progress", engineer, at, action="status:in_progress")
            events.append(started)
        resolved, resolve_events = lifecycle.resolve(working, actor=engineer, now=at, resolution=work_done)
        return resolved, [*events, *resolve_events]
    # Not the engineer the ticket shows (an assignment not seen yet) or not open: the record lands, the state stays.
    return with_record, events


def _after_approval_in_new_work(ticket: Ticket, approved_at: datetime | None, completed_at: datetime) -> bool:
    """A reopened ticket (in work again, after its record was approved) completed anew: the completion is later than
    the approval. A redelivered or late completion of the approved work is not."""
    return ticket.status in OPEN and ticket.reopen_count > 0 and approved_at is not None and completed_at > approved_at


def review(ticket: Ticket, *, actor: Actor, now: datetime, approve: bool, note: str | None) -> Changed:
    """The desk approves the record or returns it (with what is missing); announced for dispatch. A returned
    record takes a ticket the completion resolved back into work."""
    now = to_millis(now)
    reviewed, events = lifecycle.review_service_record(ticket, actor=actor, now=now, approve=approve, note=note)
    record = reviewed.service_record
    assert record is not None
    announced = ServiceRecordReviewedV1(
        ticket_id=ticket.id, number=ticket.number, assignment_id=record.assignment_id, engineer_id=record.engineer_id,
        decision="approved" if approve else "returned", note=note, by=actor.subject, reviewed_at=now,
    )
    if approve or reviewed.status != "resolved" or record.assignment_id is None:
        return reviewed, [*events, announced]
    extra = {"resolved_at": None, "resolved_by": None, "resolution": None}
    back, changed = lifecycle._status_update(reviewed, "in_progress", actor, now, action="record_returned", reason=note, extra=extra)
    return back, [*events, changed, announced]


def correct(
    ticket: Ticket, *, actor: Actor, now: datetime, work_done: str, parts_used: list[PartUsed], minutes_on_site: int,
) -> Changed:
    """The desk corrects a record that waits for review (it stays pending, tied to its assignment), or writes one
    for a ticket no engineer holds. Engineers complete with the record through dispatch."""
    now = to_millis(now)
    if actor.role == "engineer":
        raise Forbidden(Said("err.engineer_record_dispatch", path=COMPLETE_PATH))
    require(actor, "service_record", ticket)
    if ticket.status in ("closed", "cancelled"):
        raise IllegalTransition(ticket.status, ticket.status, (), Said("err.no_record_on", status=ticket.status))
    current = ticket.service_record
    if current is None and ticket.assignee is not None:
        raise IllegalTransition(
            ticket.status, ticket.status, allowed_from(ticket),
            Said("err.holder_completes", path=COMPLETE_PATH),
        )
    if current is not None and current.review != "pending":
        why = (
            Said("err.record_approved") if current.review == "approved"
            else Said("err.record_returned_again", path=COMPLETE_PATH)
        )
        raise IllegalTransition(ticket.status, ticket.status, (), why)
    record = ServiceRecord(
        work_done=work_done, parts_used=tuple(parts_used), minutes_on_site=minutes_on_site,
        submitted_by=current.submitted_by if current else actor.subject,
        submitted_by_name=current.submitted_by_name if current else actor.name, submitted_at=current.submitted_at if current else now,
        assignment_id=current.assignment_id if current else None, engineer_id=current.engineer_id if current else None,
    )
    changes = {"service_record": {"old": lifecycle._plain(current), "new": lifecycle._plain(record)}}
    action = "service_record_corrected" if current else "service_record"
    updated = ticket.model_copy(
        update={"service_record": record, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, action, now, changes))}
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)]
