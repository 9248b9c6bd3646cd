"""What a live client is sent: bus events turned into small, caller-shaped messages, who may see each, the ring that
lets a reconnect resume, and the caps on open streams. Pure: no awaits, no NATS, no HTTP.

One rule, one owner: who sees a ticket is `access.py`'s (the ticket routes decide with it too). The stream applies
it to the ticket as the gateway read it when the event arrived:
- the desk (agent, manager, admin), auditors and the agency: every event;
- an engineer: events of tickets they hold (`access.holds`) and events that name them (their assignment, a job
  moved away from them, an escalation they are told of);
- a requester: events of their own tickets only (`access.own`; not their department's: the stream is "my
  tickets"), and only in the requester's view: no work notes, no dispatch scoring or delay reasons, no SLA or
  escalation events, the desk's words about the ticket left out.
"""

from __future__ import annotations

import bisect
import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opsdesk_shared.localtime import to_local
from opsdesk_shared.roles import reads_everything

from ..access import holds, own
from ..domain import Actor, Ticket

View = Literal["staff", "requester"]
# Text fields are cut here: the message says what changed, the ticket says everything (GET /api/v1/tickets/{id}).
MAX_TEXT = 300


@dataclass(frozen=True)
class Kind:
    """How one bus subject is shown: its SSE event name, the fields staff read, the fields a requester reads (None:
    never sent to requesters)."""

    name: str
    staff: tuple[str, ...]
    requester: tuple[str, ...] | None


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("ticket.created", ("title", "priority", "service_code", "channel", "major_incident", "desk_first", "reported_at"),
             ("title", "channel", "reported_at")),
        Kind("ticket.status_changed", ("old_status", "new_status", "reason", "pending_reason", "by", "changed_at"),
             ("old_status", "new_status", "pending_reason", "changed_at")),
        # Dispatch's reason is its scoring: staff only (the requester reads the engineer's name).
        Kind("ticket.assigned", ("engineer_id", "engineer_name", "reason", "assigned_at"), ("engineer_name", "assigned_at")),
        Kind("ticket.reassigned", ("previous_engineer_id", "engineer_id", "engineer_name", "reason", "by", "reassigned_at"),
             ("engineer_name", "reassigned_at")),
        Kind("ticket.resolved", ("resolved_at_desk", "resolution", "article_id", "by", "resolved_at"), ("resolution", "resolved_at")),
        Kind("ticket.closed", ("satisfaction", "by", "closed_at"), ("closed_at",)),
        Kind("ticket.reopened", ("reason", "by", "reopened_at"), ("reopened_at",)),
        Kind("ticket.dispatch_requested", ("reason", "by", "requested_at"), None),
        Kind("ticket.service_record_reviewed", ("decision", "note", "engineer_id", "by", "reviewed_at"), None),
        Kind("assignment.accepted", ("engineer_id", "accepted_at"), ("accepted_at",)),
        Kind("assignment.confirmed", ("engineer_id", "eta", "confirmed_at"), ("eta", "confirmed_at")),
        # The engineer's delay reason is a work note for the desk; requesters are told by the desk, not by the stream.
        Kind("assignment.delayed", ("engineer_id", "reason", "cannot_go", "delayed_at"), None),
        Kind("assignment.completed", ("engineer_id", "minutes_on_site", "completed_at"), ("completed_at",)),
        Kind("assignment.help_requested", ("engineer_id", "question", "requested_at"), None),
        Kind("assignment.withdrawn", ("engineer_id", "reason", "withdrawn_at"), None),
        Kind("assignment.unassigned", ("service_code", "reason", "at"), None),
        Kind("escalation.raised", ("escalation_id", "engineer_id", "kind", "raised_at"), None),
        Kind("escalation.acknowledged", ("escalation_id", "by", "acknowledged_at"), None),
        Kind("sla.warning", ("timer", "due_at", "warning_at", "repair_id"), None),
        Kind("sla.breached", ("timer", "due_at", "breached_at", "repair_id"), None),
    )
}
# ticket.updated is split by what changed: a public comment, a work note (staff only), or other fields.
COMMENTED, NOTED, UPDATED = "ticket.commented", "ticket.noted", "ticket.updated"
# Names of changed fields a requester is not told about (the desk's own reasoning).
STAFF_ONLY_FIELDS = frozenset({"work_note", "priority_reason", "audit", "service_record_review"})
# The bus subjects the stream follows (the SSE names above come from them); sla.timer_stopped is bookkeeping.
FOLLOWED_SUBJECTS = ("ticket.>", "assignment.>", "escalation.>", "sla.warning", "sla.breached")
EVENT_NAMES = (*KINDS, COMMENTED, NOTED, UPDATED)


@dataclass(frozen=True)
class LiveEvent:
    """One bus event as the stream keeps it: its id (the JetStream stream sequence), the ticket as read when it
    arrived (trimmed to what visibility needs), and the message for staff and, when allowed, for its requester."""

    seq: int
    name: str
    ticket_id: str | None
    ticket: Ticket | None
    engineers: frozenset[str]
    staff_frame: bytes
    requester_frame: bytes | None

    def frame(self, view: View) -> bytes | None:
        return self.staff_frame if view == "staff" else self.requester_frame


def _shown(value: Any) -> Any:
    """Times in the site's local time with offset; long texts cut."""
    if isinstance(value, datetime):
        return to_local(value).isoformat()
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            return value[: MAX_TEXT - 1] + "…"
        # Contract times travel as ISO strings with Z; shown local like every time a person reads.
        if len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T" and (value.endswith("Z") or value[-6] in "+-"):
            try:
                return to_local(datetime.fromisoformat(value)).isoformat()
            except ValueError:
                return value
        return value
    return value


def _pick(data: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {n: _shown(data[n]) for n in names if n in data and data[n] is not None}


def changes_of(subject: str, data: Mapping[str, Any]) -> tuple[str, dict[str, Any], dict[str, Any] | None] | None:
    """(SSE event name, what changed for staff, what changed for the requester or None); None: not a live event."""
    if subject == UPDATED:
        changes = data.get("changes")
        changed: Mapping[str, Any] = changes if isinstance(changes, Mapping) else {}
        for key, name, public in (("comment", COMMENTED, True), ("work_note", NOTED, False)):
            if key in changed:
                entry = changed[key]
                comment_id = entry.get("new") if isinstance(entry, Mapping) else None
                body = {"comment_id": comment_id}
                return name, body, (dict(body) if public else None)
        fields = sorted(str(f) for f in changed)
        shown = [f for f in fields if f not in STAFF_ONLY_FIELDS]
        return UPDATED, {"fields": fields}, ({"fields": shown} if shown else None)
    kind = KINDS.get(subject)
    if kind is None:
        return None
    requester = _pick(data, kind.requester) if kind.requester is not None else None
    return kind.name, _pick(data, kind.staff), requester


def engineers_named(data: Mapping[str, Any]) -> frozenset[str]:
    """Engineers an event is addressed to, whatever the ticket shows yet (dispatch's events arrive before intake
    has recorded them on the ticket)."""
    named = {str(data[k]) for k in ("engineer_id", "previous_engineer_id") if data.get(k)}
    notify = data.get("notify")
    if isinstance(notify, list):
        named.update(str(n) for n in notify if n)
    return frozenset(named)


def trimmed(ticket: Ticket) -> Ticket:
    """The ticket as the ring keeps it: what visibility and the message need, not its comments and audit trail."""
    return ticket.model_copy(update={"comments": (), "audit": (), "history": (), "suggestions": (), "description": "", "mail_ids": ()})


def sse_frame(*, event_id: int | None, name: str, data: Mapping[str, Any]) -> bytes:
    """One server-sent event: `id:`, `event:` and one line of JSON `data:` (JSON escapes every newline)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n".encode()


def heartbeat_frame() -> bytes:
    """A comment line: keeps proxies and idle timers from closing a quiet stream; clients ignore it."""
    return b": keep-alive\n\n"


def live_event(*, seq: int, subject: str, data: Mapping[str, Any], occurred_at: datetime, subject_id: str | None,
               ticket: Ticket | None) -> LiveEvent | None:
    """The stream's message for one bus event; None for a subject the stream does not show."""
    shaped = changes_of(subject, data)
    if shaped is None:
        return None
    name, staff, public = shaped
    ticket_id = ticket.id if ticket is not None else (str(data.get("ticket_id") or subject_id or "") or None)

    def body(changed: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(seq),
            "type": name,
            "ticket_id": ticket_id,
            "number": ticket.number if ticket is not None else data.get("number"),
            "status": ticket.status if ticket is not None else None,
            "version": ticket.version if ticket is not None else None,
            "changed": changed,
            "occurred_at": to_local(occurred_at).isoformat(),
        }

    return LiveEvent(
        seq=seq, name=name, ticket_id=ticket_id, ticket=trimmed(ticket) if ticket is not None else None,
        engineers=engineers_named(data),
        staff_frame=sse_frame(event_id=seq, name=name, data=body(staff)),
        requester_frame=sse_frame(event_id=seq, name=name, data=body(public)) if public is not None else None,
    )


def view_of(actor: Actor) -> View:
    return "requester" if not reads_everything(actor.role) and actor.role != "engineer" else "staff"


def visible(actor: Actor, event: LiveEvent) -> bool:
    """May this caller see this event at all (see the module's docstring)."""
    if reads_everything(actor.role):
        return True
    if actor.role == "engineer":
        if actor.engineer_id is None:
            return False
        return actor.engineer_id in event.engineers or (event.ticket is not None and holds(actor, event.ticket))
    return event.requester_frame is not None and event.ticket is not None and own(actor, event.ticket)


def frame_for(actor: Actor, event: LiveEvent) -> bytes | None:
    """The bytes this caller is sent for the event, or None when it is not theirs to see."""
    return event.frame(view_of(actor)) if visible(actor, event) else None


# --- resuming -------------------------------------------------------------------------------------------------------

ReloadReason = Literal["too_old", "unknown_id", "too_slow"]


@dataclass(frozen=True)
class Resume:
    """What a (re)connecting client gets before live events: the events it missed, or a reload when they are gone."""

    missed: tuple[LiveEvent, ...] = ()
    reload: ReloadReason | None = None


@dataclass
class Ring:
    """The last `capacity` events in stream order. `floor` is the last sequence before the ring's complete coverage:
    every followed event after `floor` is in the ring, so a client whose last id is at or after it can resume."""

    capacity: int
    floor: int = 0
    _events: deque[LiveEvent] = field(default_factory=deque)
    _seqs: deque[int] = field(default_factory=deque)
    _tail: int = 0  # a sequence past the last event up to which every followed event is known (advance)

    @property
    def head(self) -> int:
        """The newest sequence this stream knows: its last event's (or the tail it was advanced to past it), or the
        floor before any arrived."""
        return max(self._seqs[-1], self._tail) if self._seqs else self.floor

    def __len__(self) -> int:
        return len(self._events)

    def advance(self, sequence: int) -> None:
        """Every followed event up to `sequence` is known (the feed caught up with the stream's tail as it was at
        start-up): an id up to there is resumable even when the last messages were not followed events."""
        if sequence > self.head:
            if self._seqs:
                self._tail = sequence
            else:
                self.floor = sequence

    def append(self, event: LiveEvent) -> bool:
        """Keep an event; False for one at or before the head (a redelivery after the consumer was re-created)."""
        if event.seq <= self.head:
            return False
        if len(self._events) >= self.capacity:
            self._events.popleft()
            self.floor = self._seqs.popleft()
        self._events.append(event)
        self._seqs.append(event.seq)
        return True

    def after(self, last_id: str | None) -> Resume:
        """Events after `last_id` (a `Last-Event-ID`): all of them when the ring still covers it, else a reload."""
        if last_id is None:
            return Resume()
        text = last_id.strip()
        if not text.isdigit():
            return Resume(reload="unknown_id")
        last = int(text)
        if last < self.floor:
            return Resume(reload="too_old")
        if last > self.head:
            # Not an id of this stream (the stream was rebuilt, or a made-up id): the client cannot know what it missed.
            return Resume(reload="unknown_id")
        start = bisect.bisect_right(self._seqs, last)
        return Resume(missed=tuple(list(self._events)[start:]))


def reload_frame(*, reason: ReloadReason, position: int) -> bytes:
    """Tells the client its view may miss events: read the tickets again; later events follow from `position`."""
    return sse_frame(event_id=position, name="reload", data={"id": str(position), "reason": reason})


def ready_frame(*, position: int, resumed: bool) -> bytes:
    """First message of every stream: the current position, so a client that disconnects before any event arrives
    still resumes from here."""
    return sse_frame(event_id=position, name="ready", data={"id": str(position), "resumed": resumed})


# --- caps -----------------------------------------------------------------------------------------------------------

Refusal = Literal["user", "total"]


@dataclass
class Limiter:
    """Open streams per user and in total; a browser tab or two per person, a few hundred consoles per gateway."""

    per_user: int
    total: int
    _open: dict[str, int] = field(default_factory=dict)

    @property
    def open_total(self) -> int:
        return sum(self._open.values())

    def acquire(self, subject: str) -> Refusal | None:
        """Count one more stream for `subject`; the reason when refused (nothing is counted then)."""
        if self.open_total >= self.total:
            return "total"
        if self._open.get(subject, 0) >= self.per_user:
            return "user"
        self._open[subject] = self._open.get(subject, 0) + 1
        return None

    def release(self, subject: str) -> None:
        left = self._open.get(subject, 0) - 1
        if left > 0:
            self._open[subject] = left
        else:
            self._open.pop(subject, None)
