"""Work lists: which assignments and escalations a caller may list, with what filters, in what order. Pure rules.

Assignments are listed newest ticket first: by ticket number, descending, then ticket id. Numbers are
zero-padded (INC-2026-000009) and never change, so the order is stable while assignments move between engineers
and a cursor page never repeats or skips one. Escalations are listed newest first by when they were raised.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .domain import (
    ENGINEER_ROLE,
    Actor,
    Assignment,
    AssignmentStatus,
    Escalation,
    Forbidden,
    assignment_view,
    ended_at,
    is_ticket_number,
)
from .texts import Said


class BadCursor(Said, ValueError):
    """The cursor is not one this list handed out."""


class AssignmentFilter(BaseModel):
    """What one list request asks for; None means no condition. Filters combine with AND, values of one with OR."""

    model_config = ConfigDict(frozen=True)

    engineer_ids: frozenset[str] | None = None
    statuses: frozenset[AssignmentStatus] | None = None
    overdue: bool | None = None
    ticket_id: str | None = None
    ticket_number: str | None = None

    def matches(self, a: Assignment) -> bool:
        """The memory store's query; the Mongo store builds the same conditions as a query document."""
        return (
            (self.engineer_ids is None or a.engineer_id in self.engineer_ids)
            and (self.statuses is None or a.status in self.statuses)
            and (self.overdue is None or a.overdue == self.overdue)
            and (self.ticket_id is None or a.ticket_id == self.ticket_id)
            and (self.ticket_number is None or a.ticket_number == self.ticket_number)
        )


# An engineer's own list by default: the work still theirs (to do, or done and waiting for the desk's review). Work
# withdrawn from them or reviewed is asked for by status (or by ticket).
ENGINEER_DEFAULT_STATUSES: frozenset[AssignmentStatus] = frozenset({"open", "accepted", "confirmed", "completed"})


def assignment_filter(
    actor: Actor, *, engineers: Sequence[str] | None, statuses: Sequence[AssignmentStatus] | None, overdue: bool | None,
    ticket: str | None,
) -> AssignmentFilter:
    """The filter the actor may run: the desk and readers list anyone's; an engineer only their own (by the token's
    roster link), by default and always, and by default only the active ones (ENGINEER_DEFAULT_STATUSES). Asking for
    someone else's is refused, not quietly narrowed."""
    view = assignment_view(actor)
    if view == "none":
        raise Forbidden("err.read_assignments", role=actor.role)
    engineer_ids = frozenset(engineers) if engineers else None
    if view == "held":
        own = frozenset({actor.engineer_id}) if actor.engineer_id else frozenset()
        if engineer_ids is not None and engineer_ids != own:
            raise Forbidden("err.own_list", subject=actor.subject)
        engineer_ids = own  # an engineer without a roster link holds nothing: an empty list
    by_number = ticket is not None and is_ticket_number(ticket)
    chosen = frozenset(statuses) if statuses else None
    if chosen is None and ticket is None and view == "held":
        chosen = ENGINEER_DEFAULT_STATUSES
    return AssignmentFilter(
        engineer_ids=engineer_ids,
        statuses=chosen,
        overdue=overdue,
        ticket_id=ticket if ticket is not None and not by_number else None,
        ticket_number=ticket if by_number else None,
    )


AssignmentKey = tuple[str, str]  # (ticket number, ticket id): the list's order, descending


def assignment_key(a: Assignment) -> AssignmentKey:
    return (a.ticket_number, a.ticket_id)


def _encode(kind: str, key: tuple[str, str]) -> str:
    raw = json.dumps([kind, *key], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(kind: str, cursor: str) -> tuple[str, str]:
    try:
        got_kind, first, second = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError) as exc:
        raise BadCursor("err.cursor") from exc
    if got_kind != kind or not isinstance(first, str) or not isinstance(second, str):
        raise BadCursor("err.cursor_list", kind=kind)
    return first, second


def encode_assignment_cursor(key: AssignmentKey) -> str:
    return _encode("assignments", key)


def decode_assignment_cursor(cursor: str) -> AssignmentKey:
    return _decode("assignments", cursor)


def page_of(found: Sequence[Assignment], *, limit: int) -> tuple[list[Assignment], str | None]:
    """The store returns up to limit + 1 in order; the extra one only says there is a next page."""
    items = list(found[:limit])
    more = len(found) > limit and bool(items)
    return items, encode_assignment_cursor(assignment_key(items[-1])) if more else None


# --- escalations ---

# closed: never acknowledged, closed when the assignment was withdrawn (the ticket ended without the work).
EscalationStatus = Literal["open", "acknowledged", "closed"]


def escalation_status(e: Escalation, a: Assignment | None = None) -> EscalationStatus:
    """An escalation nobody acknowledged is closed once its assignment is withdrawn (closed then; one withdrawn before
    escalations were closed counts as closed too, by its assignment)."""
    if e.acknowledged_at is not None:
        return "acknowledged"
    return "closed" if e.closed_at is not None or (a is not None and a.status == "withdrawn") else "open"


class EscalationView(BaseModel):
    """One escalation with the ticket and the engineer it is about, as the project manager's list shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    ticket_id: str
    ticket_number: str
    engineer_id: str = Field(description="The engineer holding the assignment when the list was read")
    engineer_name: str
    assignment_status: AssignmentStatus
    kind: Literal["technical", "other"]
    description: str
    notify: tuple[str, ...] = Field(description="Roster engineers it was raised to (the project manager, a senior)")
    raised_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    closed_at: datetime | None = None
    closed_reason: str | None = Field(default=None, description="Why it was closed unacknowledged (the ticket ended)")
    overdue: bool = Field(description="The SLA monitor announced its acknowledgement clock as run out")


def may_see_escalation(actor: Actor, escalation: Escalation) -> bool:
    """The project manager (role manager) and the desk see all, as do readers who see every assignment; an engineer
    sees those naming them (the senior called in), by the token's roster link."""
    view = assignment_view(actor)
    if view == "all":
        return True
    return view == "held" and actor.role == ENGINEER_ROLE and bool(actor.engineer_id) and actor.engineer_id in escalation.notify


def escalation_views(actor: Actor, assignments: Iterable[Assignment], *, status: EscalationStatus) -> list[EscalationView]:
    """Every escalation of the given status the actor may see, newest raised first (ties by id)."""
    if assignment_view(actor) == "none":
        raise Forbidden("err.read_escalations", role=actor.role)
    views = [
        EscalationView(
            id=e.id, ticket_id=a.ticket_id, ticket_number=a.ticket_number, engineer_id=a.engineer_id,
            engineer_name=a.engineer_name, assignment_status=a.status, kind=e.kind, description=e.description,
            notify=e.notify, raised_at=e.raised_at, acknowledged_at=e.acknowledged_at, acknowledged_by=e.acknowledged_by,
            closed_at=e.closed_at if e.closed_at or not closed else ended_at(a),
            closed_reason=e.closed_reason if e.closed_reason or not closed else a.history[-1].note if a.history else None,
            overdue=not closed and e.acknowledged_at is None and any(b.timer == "escalation" for b in a.breaches),
        )
        for a in assignments
        for e in a.escalations
        if escalation_status(e, a) == status and may_see_escalation(actor, e)
        for closed in (escalation_status(e, a) == "closed",)
    ]
    return sorted(views, key=lambda v: (v.raised_at, v.id), reverse=True)


def page_escalations(views: Sequence[EscalationView], *, cursor: str | None, limit: int) -> tuple[list[EscalationView], str | None]:
    """Cursor paging over the sorted views: the cursor is the last one's (raised at, id)."""
    rest = list(views)
    if cursor is not None:
        raised, last_id = _decode("escalations", cursor)
        try:
            after = (datetime.fromisoformat(raised), last_id)
        except ValueError as exc:
            raise BadCursor("err.cursor") from exc
        rest = [v for v in rest if (v.raised_at, v.id) < after]
    items = rest[:limit]
    more = len(rest) > limit and bool(items)
    return items, _encode("escalations", (items[-1].raised_at.isoformat(), items[-1].id)) if more else None
