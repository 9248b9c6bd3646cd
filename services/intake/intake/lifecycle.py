"""What may happen to a ticket, by whom, and what each step announces. Pure: (ticket, actor, input) -> (ticket, events)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from opsdesk_shared.contracts import (
    AssignmentWithdrawnV1,
    TicketAssignedV1,
    TicketClosedV1,
    TicketReopenedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
)
from opsdesk_shared.contracts.envelope import EventData

from .access import Forbidden, before_work, require
from .catalog import CatalogService
from .domain import (
    DISPATCH,
    GUIDANCE_CAP_MINUTES,
    Actor,
    Assignee,
    Comment,
    InvalidField,
    PartUsed,
    PendingReason,
    ServiceRecord,
    Status,
    StatusChange,
    Suggestion,
    Ticket,
    audit_entry,
    check_service,
    refuse_desk_fields,
    to_millis,
)
from .priority import Level, Priority, priority_of
from .texts import Said

TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    # Waiting for the agency (authorization.py): its approval makes it new (dispatch assigns), a decline cancels it;
    # the requester or the desk may still call it off. Nobody works on it before.
    "awaiting_authorization": ("new", "cancelled"),
    "new": ("assigned", "in_progress", "pending", "resolved", "cancelled"),
    "assigned": ("in_progress", "pending", "resolved", "cancelled"),
    "in_progress": ("pending", "resolved", "cancelled"),
    "pending": ("in_progress", "resolved", "cancelled"),
    # in_progress or new from resolved is a reopen, inside the window: new when the desk resolved it (back to first contact)
    "resolved": ("closed", "in_progress", "new"),
    "closed": (),
    "cancelled": (),
}
DEFAULT_REOPEN_WINDOW = timedelta(days=7)
Changed = tuple[Ticket, list[EventData]]


class IllegalTransition(Exception):
    """A state change the lifecycle does not allow from where the ticket is; carries the allowed ones for a 409."""

    def __init__(self, current: Status, target: str, allowed: tuple[str, ...], why: str | None = None) -> None:
        super().__init__(why or Said("err.cannot_become", current=current, target=target))
        self.current = current
        self.target = target
        self.allowed = allowed


class StaleVersion(Exception):
    """The client edited an older version than the stored one (If-Match failed)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(Said("err.stale", actual=actual, expected=expected))
        self.expected = expected
        self.actual = actual


def check_version(ticket: Ticket, expected: int | None) -> None:
    if expected is not None and expected != ticket.version:
        raise StaleVersion(expected, ticket.version)


def allowed_from(ticket: Ticket) -> tuple[Status, ...]:
    return TRANSITIONS[ticket.status]


def _action_for(ticket: Ticket, target: Status) -> str | None:
    """The act (access.Action) a client takes to move the ticket to `target`; None: no client moves it there
    (`assigned` is dispatch's)."""
    if target == "assigned" or (ticket.status == "awaiting_authorization" and target == "new"):
        return None  # dispatch's, and the agency's authorization (POST /tickets/{id}/authorization)
    if ticket.status == "resolved" and target in ("in_progress", "new"):
        return "reopen"
    return {"in_progress": "work", "pending": "work", "resolved": "work", "cancelled": "cancel", "closed": "close"}[target]


def allowed_for(ticket: Ticket, actor: Actor) -> tuple[Status, ...]:
    """The states this caller may move the ticket to next: the transition table filtered by what their role (and
    their relation to the ticket) lets them do, so a requester is not offered a step they would get a 403 for."""
    allowed: list[Status] = []
    for target in allowed_from(ticket):
        action = _action_for(ticket, target)
        if action is None:
            continue
        if target == "closed" and ticket.service_record is not None and ticket.service_record.review in ("pending", "returned"):
            continue  # nobody closes while the record waits (see close)
        if action == "reopen" and target != ("new" if back_to_desk(ticket) else "in_progress"):
            continue  # a reopen goes one way (see reopen)
        if action == "cancel" and _requester_too_late(ticket, actor):
            continue  # a requester cancels only before work starts (see change_status)
        if _may(actor, action, ticket):
            allowed.append(target)
    return tuple(allowed)


def _requester_too_late(ticket: Ticket, actor: Actor) -> bool:
    """A requester calling off their ticket after the engineer accepted or started: the state no longer allows it."""
    return actor.role == "requester" and ticket.status in ("assigned", "in_progress", "pending") and not before_work(ticket)


def _may(actor: Actor, action: str, ticket: Ticket) -> bool:
    try:
        require(actor, action, ticket)  # type: ignore[arg-type]
    except Forbidden:
        return False
    return True


def _move(ticket: Ticket, target: Status, *, reason: str | None = None) -> None:
    if ticket.status == "awaiting_authorization" and target not in ("new", "cancelled"):
        # No work before the agency authorizes it: only calling it off is open (the authorization is the agency's).
        raise IllegalTransition(ticket.status, target, ("cancelled",), Said("err.awaiting_authorization", target=target))
    if target not in TRANSITIONS[ticket.status]:
        raise IllegalTransition(ticket.status, target, TRANSITIONS[ticket.status])
    if target == "assigned" and ticket.assignee is None:
        raise IllegalTransition(ticket.status, target, TRANSITIONS[ticket.status], Said("err.nobody_assigned"))


def _status_update(
    ticket: Ticket, target: Status, actor: Actor, now: datetime, *, action: str, reason: str | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[Ticket, TicketStatusChangedV1]:
    changes: dict[str, dict[str, Any]] = {"status": {"old": ticket.status, "new": target}}
    for field, value in (extra or {}).items():
        old = getattr(ticket, field)
        if old != value and field not in ("history", "audit", "resolution_announced"):
            changes[field] = {"old": _plain(old), "new": _plain(value)}
    if reason:
        changes["reason"] = {"old": None, "new": reason}
    updated = ticket.model_copy(
        update={
            **(extra or {}),
            "status": target,
            "updated_at": now,
            "history": (*ticket.history, StatusChange(status=target, at=now, by=actor.subject, reason=reason)),
            "audit": (*ticket.audit, audit_entry(actor, action, now, changes)),
        }
    )
    event = TicketStatusChangedV1(
        ticket_id=ticket.id, number=ticket.number, old_status=ticket.status, new_status=target, reason=reason,
        pending_reason=updated.pending_reason if target == "pending" else None,
        service_code=ticket.service_code, priority=ticket.priority, by=actor.subject, changed_at=now,
    )
    return updated, event


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def assign(ticket: Ticket, event: TicketAssignedV1, *, actor: Actor = DISPATCH) -> Changed | None:
    """Dispatch's decision shown on the ticket; None when this assignment is shown already (a redelivery). A new
    ticket becomes assigned through the transition table like every other status change, and the change is
    announced (ticket.status_changed), so reporting's open-ticket gauge and everyone else see it; a ticket already
    in work (or done) shows the new engineer and keeps its state. `actor`: who decided (dispatch's automatic choice,
    or the desk agent who gave the ticket its engineer), as the history shows them."""
    if ticket.assignee is not None and ticket.assignee.assignment_id == event.assignment_id:
        return None
    at = to_millis(event.assigned_at)
    # Dispatch's reason and a person's words are kept apart: one field, one meaning (the desk reads both).
    by_dispatch = actor.subject == DISPATCH.subject
    assignee = Assignee(
        assignment_id=event.assignment_id, engineer_id=event.engineer_id, engineer_name=event.engineer_name,
        reason=event.reason if by_dispatch else None, note=None if by_dispatch else event.reason, decided_by=actor.subject,
        reason_code=event.reason_code if by_dispatch else None, reason_params=dict(event.reason_params) if by_dispatch else {},
        assigned_at=at,
    )
    old = ticket.assignee.engineer_id if ticket.assignee else None
    if ticket.status != "new":
        changes: dict[str, dict[str, Any]] = {"assignee": {"old": old, "new": event.engineer_id}}
        shown = ticket.model_copy(
            update={"assignee": assignee, "updated_at": at, "audit": (*ticket.audit, audit_entry(actor, "assigned", at, changes))}
        )
        return shown, []
    with_assignee = ticket.model_copy(update={"assignee": assignee})
    _move(with_assignee, "assigned")
    updated, changed = _status_update(with_assignee, "assigned", actor, at, action="assigned")
    # The audit names the engineer, not the whole assignee record.
    entry = updated.audit[-1]
    entry = entry.model_copy(update={"changes": {**entry.changes, "assignee": {"old": old, "new": event.engineer_id}}})
    return updated.model_copy(update={"audit": (*updated.audit[:-1], entry)}), [changed]


def withdraw_assignee(ticket: Ticket, event: AssignmentWithdrawnV1) -> Changed | None:
    """Dispatch withdrew the engineer (a desk resolution, a cancellation): the ticket keeps the assignment for the
    record but marks it withdrawn, so nobody reads the engineer as its assignee. None when it is marked already
    or the ticket shows another assignment by now. No state change (the desk's step that ended the ticket was
    announced when it happened); the field change is announced (ticket.updated), so every replica's index hears it."""
    current = ticket.assignee
    if current is None or current.assignment_id != event.assignment_id or not current.active:
        return None
    at = to_millis(event.withdrawn_at)
    marked = current.model_copy(update={
        "withdrawn_at": at, "withdrawn_reason": event.reason, "withdrawn_reason_code": event.reason_code,
        "withdrawn_reason_params": dict(event.reason_params),
    })
    changes: dict[str, dict[str, Any]] = {"assignee": {"old": current.engineer_id, "new": None}}
    updated = ticket.model_copy(
        update={"assignee": marked, "updated_at": at, "audit": (*ticket.audit, audit_entry(DISPATCH, "withdrawn", at, changes))}
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=DISPATCH.subject, updated_at=at)]


def change_status(
    ticket: Ticket, *, target: Status, actor: Actor, now: datetime, reason: str | None = None,
    pending_reason: PendingReason | None = None,
) -> Changed:
    """Start work, put on hold (pending, with why) or cancel. Resolve, close and reopen have steps of their own."""
    now = to_millis(now)
    if target in ("resolved", "closed"):
        raise InvalidField(("body", "status"), Said("err.use_step", status=target, step="close" if target == "closed" else "resolve"))
    require(actor, "work" if target in ("in_progress", "pending") else "cancel", ticket)
    if target == "cancelled" and _requester_too_late(ticket, actor):
        raise IllegalTransition(ticket.status, target, allowed_for(ticket, actor), Said("err.cancel_after_work"))
    if ticket.status == "resolved" and target in ("in_progress", "new"):
        raise IllegalTransition(ticket.status, target, allowed_from(ticket), Said("err.reopen_to_work"))
    _move(ticket, target)
    extra: dict[str, Any] = {"pending_reason": None}
    if target == "pending":
        if pending_reason is None:
            raise InvalidField(("body", "pending_reason"), Said("err.pending_reason"))
        extra["pending_reason"] = pending_reason
    if target == "cancelled" and not reason:
        raise InvalidField(("body", "reason"), Said("err.cancel_reason"))
    updated, event = _status_update(ticket, target, actor, now, action=f"status:{target}", reason=reason, extra=extra)
    return updated, [event]


def resolve(
    ticket: Ticket, *, actor: Actor, now: datetime, resolution: str, at_desk: bool = False,
    guidance_minutes: float | None = None, article_id: str | None = None, department: str | None = None,
) -> Changed:
    """Resolve by an engineer's work, or at the desk on first contact with remote guidance (capped at 5 minutes)."""
    now = to_millis(now)
    require(actor, "resolve_at_desk" if at_desk else "work", ticket)
    _move(ticket, "resolved")
    if at_desk:
        if ticket.status not in ("new", "assigned"):
            raise IllegalTransition(ticket.status, "resolved", allowed_from(ticket), Said("err.desk_resolution_first_contact"))
        if guidance_minutes is None and ticket.guidance_started_at is not None:
            guidance_minutes = round((now - ticket.guidance_started_at).total_seconds() / 60, 1)
        if guidance_minutes is None:
            raise InvalidField(("body", "guidance_minutes"), Said("err.guidance_minutes"))
        if guidance_minutes > GUIDANCE_CAP_MINUTES:
            raise InvalidField(
                ("body", "guidance_minutes"),
                Said("err.guidance_cap", cap=f"{GUIDANCE_CAP_MINUTES:g}"),
            )
    extra = {
        "resolution": resolution, "resolved_at": now, "resolved_by": actor.subject, "resolved_at_desk": at_desk,
        "guidance_minutes": guidance_minutes if at_desk else None, "article_id": article_id, "pending_reason": None,
        "resolution_announced": True,
    }
    updated, changed = _status_update(ticket, "resolved", actor, now, action="resolved", extra=extra)
    if ticket.resolution_announced:
        # Back to resolved after the desk returned the service record: the same resolution, announced once (every
        # consumer counts ticket.resolved as one resolution); the state change itself is announced as always.
        return updated, [changed]
    resolved = TicketResolvedV1(
        ticket_id=ticket.id, number=ticket.number, service_code=ticket.service_code, ticket_type=ticket.ticket_type,
        priority=ticket.priority, channel=ticket.channel, department=department or ticket.requester.department,
        asset_tag=ticket.asset_tag, resolved_at_desk=at_desk, guidance_minutes=updated.guidance_minutes,
        article_id=article_id, resolution=resolution, reported_at=ticket.reported_at, resolved_at=now, by=actor.subject,
        requester_id=ticket.requester_id,
    )
    return updated, [changed, resolved]


def start_guidance(ticket: Ticket, *, actor: Actor, now: datetime) -> Changed:
    """The desk starts guiding the requester remotely: the SLA monitor's 5-minute remote guidance clock starts."""
    now = to_millis(now)
    require(actor, "resolve_at_desk", ticket)
    # At first contact, before an engineer has it: once dispatch assigned (or was asked to), the engineer's clocks run
    # and guiding the requester would race them. `allowed` names the state guidance is allowed in.
    held = ticket.assignee is not None and ticket.assignee.active
    if ticket.status != "new" or held or ticket.dispatch_requested_at is not None:
        # `allowed` names the state guidance is allowed in; a new ticket already sent on is in it and still refused,
        # so there nothing is allowed (not "new" while it is new).
        if ticket.status == "new":
            raise IllegalTransition(ticket.status, "guidance", (), Said("err.guidance_sent"))
        raise IllegalTransition(ticket.status, "guidance", ("new",), Said("err.guidance_first_contact"))
    if ticket.guidance_started_at is not None:
        return ticket, []
    changes: dict[str, dict[str, Any]] = {"guidance_started_at": {"old": None, "new": now.isoformat()}}
    updated = ticket.model_copy(
        update={"guidance_started_at": now, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, "guidance_started", now, changes))}
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)]


def close(
    ticket: Ticket, *, actor: Actor, now: datetime, satisfaction: int | None = None, comment: str | None = None,
) -> Changed:
    """Close a resolved ticket; the requester's satisfaction (1-5) is taken here, from them only (see access)."""
    now = to_millis(now)
    require(actor, "close", ticket)
    if satisfaction is not None or comment is not None:
        require(actor, "rate", ticket)
    _move(ticket, "closed")
    # Nobody closes while the service record waits: for the desk's review (pending), or for the engineer's new
    # completion (returned). The requester too: closing would end the ticket under a record no one has accepted.
    record = ticket.service_record
    if record is not None and record.review in ("pending", "returned"):
        why = Said("err.record_waits_review") if record.review == "pending" else Said("err.record_returned")
        raise IllegalTransition(ticket.status, "closed", allowed_for(ticket, actor), why)
    extra = {"closed_at": now, "satisfaction": satisfaction, "satisfaction_comment": comment}
    updated, changed = _status_update(ticket, "closed", actor, now, action="closed", extra=extra)
    closed = TicketClosedV1(
        ticket_id=ticket.id, number=ticket.number, service_code=ticket.service_code, satisfaction=satisfaction,
        satisfaction_comment=comment, closed_at=now, by=actor.subject,
    )
    return updated, [changed, closed]


def back_to_desk(ticket: Ticket) -> bool:
    """Where a reopened ticket goes: the engineer whose work resolved it (still holding it) takes it back in
    progress; one resolved at the desk (nobody held it, or the engineer was withdrawn) goes back to the desk's
    first-contact hold."""
    engineer_resolved = ticket.assignee is not None and ticket.assignee.active and not ticket.resolved_at_desk
    return not engineer_resolved


def reopen(ticket: Ticket, *, actor: Actor, now: datetime, reason: str, window: timedelta = DEFAULT_REOPEN_WINDOW) -> Changed:
    """Back to work from resolved, inside the reopen window; afterwards the requester opens a new ticket. The
    engineer who resolved it gets it back in progress; a ticket resolved at the desk is the desk's again (new, held
    for first contact with a fresh window)."""
    now = to_millis(now)
    require(actor, "reopen", ticket)
    if ticket.status != "resolved":
        raise IllegalTransition(ticket.status, "in_progress", allowed_from(ticket), Said("err.reopen_only_resolved"))
    assert ticket.resolved_at is not None
    if now - ticket.resolved_at > window:
        raise IllegalTransition(ticket.status, "in_progress", ("closed",), Said("err.reopen_window", window=str(window)))
    extra: dict[str, Any] = {
        "reopen_count": ticket.reopen_count + 1, "resolved_at": None, "resolved_by": None, "resolved_at_desk": False,
        "resolution_announced": False,  # a reopened ticket's next resolution is a new one
    }
    target: Status = "in_progress"
    if back_to_desk(ticket):
        # Resolved at the desk: back to the desk's first contact with a fresh guidance window, after which (or when
        # an agent sends it on) it goes to dispatch like any desk-first ticket (desk_first.py, handover.py).
        target = "new"
        extra.update({"desk_first": True, "desk_since": now, "dispatch_requested_at": None, "guidance_started_at": None})
    _move(ticket, target)
    updated, changed = _status_update(ticket, target, actor, now, action="reopened", reason=reason, extra=extra)
    reopened = TicketReopenedV1(ticket_id=ticket.id, number=ticket.number, reason=reason, reopened_at=now, by=actor.subject)
    return updated, [changed, reopened]


EDITABLE = ("title", "description", "asset_tag", "site", "major_incident", "service_code", "impact", "urgency")
REQUIRED_FIELDS = frozenset({"title", "description", "major_incident", "service_code"})


def update_fields(
    ticket: Ticket, *, actor: Actor, now: datetime, fields: dict[str, Any], service: CatalogService | None = None,
    priority: Priority | None = None, priority_reason: str | None = None,
) -> Changed:
    """Edit what the desk recorded; priority follows impact x urgency unless an agent overrides it with a reason."""
    now = to_millis(now)
    # A requester naming a triage field hears which one, as when they open a ticket (then: requesters do not edit).
    refuse_desk_fields(actor, {**fields, "priority": priority, "priority_reason": priority_reason})
    require(actor, "edit", ticket)
    if ticket.status in ("closed", "cancelled"):
        raise IllegalTransition(ticket.status, ticket.status, (), Said("err.cannot_edit", status=ticket.status))
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise InvalidField(("body", sorted(unknown)[0]), Said("err.not_editable"))
    for name in REQUIRED_FIELDS & {n for n, v in fields.items() if v is None}:
        raise InvalidField(("body", name), Said("err.not_null"))
    update = dict(fields)
    if "service_code" in fields:
        found = check_service(fields["service_code"], service)
        update["ticket_type"] = found.ticket_type
    if (priority is None) != (priority_reason is None):
        raise InvalidField(("body", "priority_reason"), Said("err.priority_reason"))
    if priority is not None:
        require(actor, "override_priority", ticket)
        update["priority"] = priority
        update["priority_reason"] = priority_reason
    elif "impact" in fields or "urgency" in fields:
        impact: Level | None = fields.get("impact", ticket.impact)
        urgency: Level | None = fields.get("urgency", ticket.urgency)
        update["priority"] = priority_of(impact, urgency, default=ticket.priority)  # type: ignore[arg-type]
        update["priority_reason"] = None
    changes = {
        name: {"old": _plain(getattr(ticket, name)), "new": _plain(value)}
        for name, value in update.items()
        if getattr(ticket, name) != value
    }
    if not changes:
        return ticket, []
    updated = ticket.model_copy(
        update={**update, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, "updated", now, changes))}
    )
    event = TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)
    return updated, [event]


def add_comment(ticket: Ticket, *, actor: Actor, now: datetime, body: str, internal: bool) -> tuple[Ticket, Comment, list[EventData]]:
    """Public comments reach the requester; internal work notes stay with the desk and engineers."""
    now = to_millis(now)
    require(actor, "internal_note" if internal else "comment", ticket)
    comment = Comment(id=str(uuid.uuid4()), body=body, internal=internal, author=actor.subject, author_name=actor.name, at=now)
    kind = "work_note" if internal else "comment"
    updated = ticket.model_copy(
        update={
            "comments": (*ticket.comments, comment),
            "updated_at": now,
            "audit": (*ticket.audit, audit_entry(actor, kind, now, {kind: {"old": None, "new": comment.id}})),
        }
    )
    event = TicketUpdatedV1(
        ticket_id=ticket.id, number=ticket.number, changes={kind: {"old": None, "new": comment.id}}, by=actor.subject,
        updated_at=now,
    )
    return updated, comment, [event]


def submit_service_record(
    ticket: Ticket, *, actor: Actor, now: datetime, work_done: str, parts_used: list[PartUsed], minutes_on_site: int,
) -> Changed:
    """The engineer who holds the ticket records what was done; a returned record can be submitted again."""
    now = to_millis(now)
    require(actor, "service_record", ticket)
    if ticket.status in ("closed", "cancelled", "new"):
        raise IllegalTransition(ticket.status, ticket.status, (), Said("err.no_record_on", status=ticket.status))
    if ticket.service_record is not None and ticket.service_record.review == "approved":
        raise IllegalTransition(ticket.status, ticket.status, (), Said("err.record_approved"))
    record = ServiceRecord(
        work_done=work_done, parts_used=tuple(parts_used), minutes_on_site=minutes_on_site, submitted_by=actor.subject,
        submitted_by_name=actor.name, submitted_at=now,
    )
    changes = {"service_record": {"old": _plain(ticket.service_record), "new": _plain(record)}}
    updated = ticket.model_copy(
        update={"service_record": record, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, "service_record", now, changes))}
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)]


def review_service_record(ticket: Ticket, *, actor: Actor, now: datetime, approve: bool, note: str | None) -> Changed:
    """The desk approves the engineer's record, or returns it with a note saying what is missing."""
    now = to_millis(now)
    require(actor, "review", ticket)
    record = ticket.service_record
    if record is None or record.review != "pending":
        raise IllegalTransition(ticket.status, ticket.status, (), Said("err.no_record_waiting"))
    if not approve and not note:
        raise InvalidField(("body", "note"), Said("err.return_note"))
    reviewed = record.model_copy(
        update={"review": "approved" if approve else "returned", "review_note": note, "reviewed_by": actor.subject,
                "reviewed_by_name": actor.name or None, "reviewed_at": now}
    )
    # Field names in `changes` are stored as document keys (audit, outbox): no dots, which the database refuses.
    changes: dict[str, dict[str, Any]] = {"service_record_review": {"old": record.review, "new": reviewed.review}}
    updated = ticket.model_copy(
        update={"service_record": reviewed, "updated_at": now, "audit": (*ticket.audit, audit_entry(actor, "review", now, changes))}
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=now)]


MAX_SUGGESTIONS = 6


def attach_suggestions(ticket: Ticket, suggestions: list[Suggestion], *, actor: Actor, now: datetime) -> Ticket | None:
    """Knowledge suggested articles for this ticket: added after the ones it shows already (an engineer's help question
    brings more; it used to replace the articles found for the ticket itself, walk 15), up to MAX_SUGGESTIONS. None
    when nothing is new (a redelivered event)."""
    shown = {s.article_id for s in ticket.suggestions}
    merged = (*ticket.suggestions, *(s for s in suggestions if s.article_id not in shown))[:MAX_SUGGESTIONS]
    if merged == ticket.suggestions:
        return None
    changes = {"suggestions": {"old": [s.article_id for s in ticket.suggestions], "new": [s.article_id for s in merged]}}
    return ticket.model_copy(
        update={"suggestions": merged, "audit": (*ticket.audit, audit_entry(actor, "suggested", to_millis(now), changes))}
    )


def thread_mail(ticket: Ticket, *, message_id: str, actor: Actor, now: datetime, body: str) -> tuple[Ticket, list[EventData]] | None:
    """A reply mail becomes a public comment on its ticket; None when this Message-ID is threaded already."""
    if message_id in ticket.mail_ids:
        return None
    updated, _, events = add_comment(ticket, actor=actor, now=now, body=body, internal=False)
    return updated.model_copy(update={"mail_ids": (*ticket.mail_ids, message_id)}), events


def tell_requester(ticket: Ticket, *, comment_id: str, body: str, actor: Actor, now: datetime) -> Ticket | None:
    """A public note the requester sees on their ticket (e.g. it went to another engineer); None when already told.
    The body is a requester's template (messages.py), never a staff member's or a service's own words."""
    return _note_once(ticket, comment_id=comment_id, body=body, actor=actor, now=now, internal=False)


def note_for_staff(ticket: Ticket, *, comment_id: str, body: str, actor: Actor, now: datetime, text_key: str | None = None,
                   text_params: dict[str, Any] | None = None) -> Ticket | None:
    """An internal work note from another service's decision (a delay reason, dispatch's scoring, a desk agent's
    reassign reason): staff read it, requesters never do. None when it is on the ticket already (a redelivery).
    `text_key`/`text_params`: a templated note (messages.STAFF_NOTES) read in each reader's language."""
    return _note_once(ticket, comment_id=comment_id, body=body, actor=actor, now=now, internal=True, text_key=text_key,
                      text_params=text_params)


def _note_once(ticket: Ticket, *, comment_id: str, body: str, actor: Actor, now: datetime, internal: bool,
               text_key: str | None = None, text_params: dict[str, Any] | None = None) -> Ticket | None:
    if any(c.id == comment_id for c in ticket.comments):
        return None
    now = to_millis(now)
    comment = Comment(id=comment_id, body=body, internal=internal, author=actor.subject, author_name=actor.name, at=now,
                      text_key=text_key, text_params=text_params or {})
    action = "work_note" if internal else "requester_told"
    return ticket.model_copy(
        update={
            "comments": (*ticket.comments, comment),
            "audit": (*ticket.audit, audit_entry(actor, action, now, {"comment": {"old": None, "new": comment_id}})),
        }
    )


def assignee_accepted(ticket: Ticket, *, assignment_id: str, accepted_at: datetime, actor: Actor) -> Changed | None:
    """The engineer accepted the job (dispatch's assignment.accepted): the ticket shows it, requesters included, and
    an assigned ticket goes into work (in_progress) through the transition table, announced like every status
    change; a ticket the desk already moved (in progress, pending, resolved) keeps its state. None when it is shown
    already or the ticket holds another assignment by now. `actor`: the engineer (or the desk on their behalf)."""
    shown = _assignee_progress(ticket, assignment_id=assignment_id, at=accepted_at, action="accepted", actor=actor, accepted_at=accepted_at)
    if shown is None:
        return None
    updated, events = shown
    if updated.status != "assigned":
        return shown
    _move(updated, "in_progress")
    started, changed = _status_update(updated, "in_progress", actor, to_millis(accepted_at), action="status:in_progress")
    return started, [*events, changed]


def assignee_confirmed(
    ticket: Ticket, *, assignment_id: str, confirmed_at: datetime, eta: datetime | None, actor: Actor
) -> Changed | None:
    """The desk confirmed the engineer is going, with their ETA (dispatch's assignment.confirmed); as above, without
    a state change (the acceptance started the work). `actor`: the desk agent who confirmed."""
    return _assignee_progress(
        ticket, assignment_id=assignment_id, at=confirmed_at, action="confirmed", actor=actor, confirmed_at=confirmed_at, eta=eta
    )


def _assignee_progress(
    ticket: Ticket, *, assignment_id: str, at: datetime, action: str, actor: Actor, **fields: datetime | None
) -> Changed | None:
    current = ticket.assignee
    if current is None or current.assignment_id != assignment_id or not current.active:
        return None
    values = {name: to_millis(v) if v is not None else None for name, v in fields.items()}
    if all(getattr(current, name) == value for name, value in values.items()):
        return None
    at = to_millis(at)
    changes = {name: {"old": _plain(getattr(current, name)), "new": _plain(value)} for name, value in values.items()}
    updated = ticket.model_copy(
        update={
            "assignee": current.model_copy(update=values), "updated_at": at,
            "audit": (*ticket.audit, audit_entry(actor, action, at, changes)),
        }
    )
    return updated, [TicketUpdatedV1(ticket_id=ticket.id, number=ticket.number, changes=changes, by=actor.subject, updated_at=at)]
