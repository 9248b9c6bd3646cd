"""The desk's ticket search, its pure part: what a ticket is found by and how a query reads. FerretDB indexes
nothing but `_id` and neither it nor MongoDB segments Chinese, so the gateway keeps its own index
(search_store.py: a SQLite file per replica, kept in step by index_feed.py). Free text is English words and Chinese
character bigrams (a query's bigrams must all occur) over text folded by OpenCC to mainland simplified script and
words, which finds "打印机" in "三樓印表機卡紙" whatever a word segmenter would have made of it; departments are
filtered in folded form too (財務科 is 财务科); order is stable (the sort value, then the id).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opsdesk_shared.hanzi import fold_key, to_search_form
from opsdesk_shared.roles import reads_everything

from .domain import SYSTEM_SUBJECTS, Actor, Ticket

FILTER_FIELDS: tuple[str, ...] = (
    "status", "priority", "service_code", "channel", "assignee", "requester", "department", "asset_tag", "ticket_type",
    "held", "unassigned", "review", "handled_by",
    # The agency's authorization (issue 16): its state (awaiting, approved, declined) and emergency work (started
    # first, decided after): authorization=awaiting&emergency=true is the emergency work still waiting for a decision.
    "authorization", "emergency",
)

# Fields people type in either script; the others are codes and ids, matched exactly.
FOLDED_FIELDS = frozenset({"department"})
SortField = Literal["created_at", "reported_at", "updated_at", "priority", "number"]
_WORD = re.compile(r"[0-9a-z][0-9a-z._\-@]*")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Long descriptions add little to finding a ticket and a lot to memory: index their beginning only.
INDEXED_DESCRIPTION = 160


def terms(text: str, *, unigrams: bool = False) -> set[str]:
    """English words and numbers as they are; Chinese runs folded to mainland simplified script and words (the desk
    writes both scripts) as overlapping character pairs, and single characters where asked, for titles, so a
    one-character query finds something."""
    lowered = to_search_form(text.lower())
    found = set(_WORD.findall(lowered))
    for run in _CJK.findall(lowered):
        if len(run) == 1 or unigrams:
            found.update(run)
        found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def query_terms(text: str) -> set[str]:
    """A query's terms: a single Chinese character stays one, longer runs become their pairs."""
    return terms(text)


@dataclass(frozen=True)
class Query:
    filters: dict[str, frozenset[str]] = field(default_factory=dict)
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    reported_from: datetime | None = None
    reported_to: datetime | None = None
    sort: SortField = "created_at"
    descending: bool = True
    limit: int = 50
    cursor: str | None = None
    # Only these tickets (by id): a client that knows ids from elsewhere (the SLA monitor's clocks) asks which of
    # them match its filters in one call instead of reading every match.
    ids: frozenset[str] = frozenset()


class BadCursor(ValueError):
    """The cursor is not one this index handed out (or belongs to another sort)."""


def handler_of(ticket: Ticket) -> tuple[str | None, str | None]:
    """(subject, name) of the desk person who last acted on the ticket (domain.handled: took the call, changed its
    state, replied, sent it on, resolved or reviewed it); for a ticket recorded before the record kept it, read from
    its audit trail when loaded with one."""
    if ticket.handled_by is not None:
        return ticket.handled_by, ticket.handled_by_name or ticket.handled_by
    for entry in reversed(ticket.audit):
        if entry.role in ("agent", "admin") and entry.by not in SYSTEM_SUBJECTS and not entry.by.startswith("key:"):
            return entry.by, entry.by_name or entry.by
    return None, None


def held_at_desk(ticket: Ticket) -> bool:
    """A desk-first ticket the desk still holds: new and not yet sent to dispatch (desk_first.with_desk)."""
    held = ticket.assignee is not None and ticket.assignee.active
    return ticket.desk_first and ticket.dispatch_requested_at is None and ticket.status == "new" and not held


def fields_of(ticket: Ticket) -> dict[str, str | None]:
    """The values a filter matches, one per FILTER_FIELDS name (and `desk`, the desk share's mark)."""
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "service_code": ticket.service_code,
        "channel": ticket.channel,
        "assignee": ticket.assignee.engineer_id if ticket.assignee and ticket.assignee.active else None,
        "requester": ticket.requester_id,
        # Folded: a filter or a requester's department written in the other script meets it (see _folded).
        "department": fold_key(ticket.requester.department),
        "asset_tag": ticket.asset_tag,
        "ticket_type": ticket.ticket_type,
        "desk": "yes" if ticket.resolved_at_desk else None,
        "held": "true" if held_at_desk(ticket) else None,
        "unassigned": "true" if ticket.status == "new" and not (ticket.assignee and ticket.assignee.active) else None,
        "review": ticket.service_record.review if ticket.service_record is not None else None,
        "handled_by": handler_of(ticket)[0],
        "authorization": ticket.authorization.state if ticket.authorization is not None else None,
        "emergency": "true" if ticket.authorization is not None and ticket.authorization.emergency else None,
    }


def terms_of(ticket: Ticket) -> set[str]:
    """What free text finds a ticket by: its number, the beginning of its description, the requester, the asset tag
    (pairs), and its title (pairs and single characters)."""
    text = " ".join(
        filter(None, (ticket.number, ticket.description[:INDEXED_DESCRIPTION], ticket.requester.name, ticket.asset_tag))
    )
    return terms(text) | terms(ticket.title, unigrams=True)


def sort_keys_of(ticket: Ticket) -> tuple[str, str, str, str, str]:
    """The value each sort orders by (SORT_POSITION), as strings; a cursor carries one of them."""
    return (
        ticket.created_at.isoformat(), ticket.reported_at.isoformat(), (ticket.updated_at or ticket.created_at).isoformat(),
        ticket.priority, ticket.number,
    )


@dataclass(frozen=True)
class Visibility:
    """Which tickets an actor may find: all (None fields), an engineer's held ones, or a requester's own and their
    department's. `nothing` for an engineer account not linked to the roster."""

    assignee: str | None = None
    requester: str | None = None
    department: str | None = None
    nothing: bool = False

    @property
    def everything(self) -> bool:
        return not self.nothing and self.assignee is None and self.requester is None and self.department is None


def visibility(actor: Actor) -> Visibility:
    """access.py's rule as the index applies it: who reads everything does; engineers see what they hold through the
    roster link of their account (never by the user name); requesters their own and their department's tickets."""
    if reads_everything(actor.role):
        return Visibility()
    if actor.role == "engineer":
        return Visibility(assignee=actor.engineer_id) if actor.engineer_id else Visibility(nothing=True)
    return Visibility(requester=actor.subject, department=fold_key(actor.department) if actor.department else None)


def summary_of(ticket: Ticket) -> dict[str, Any]:
    """What a result list shows per ticket, kept in the index so a page needs no database round trip."""
    handler, handler_name = handler_of(ticket)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "title": ticket.title,
        "status": ticket.status,
        "priority": ticket.priority,
        "ticket_type": ticket.ticket_type,
        "service_code": ticket.service_code,
        "channel": ticket.channel,
        "major_incident": ticket.major_incident,
        "asset_tag": ticket.asset_tag,
        "requester_name": ticket.requester.name,
        "department": ticket.requester.department,
        "assignee_name": ticket.assignee.engineer_name if ticket.assignee and ticket.assignee.active else None,
        "assignee_id": ticket.assignee.engineer_id if ticket.assignee and ticket.assignee.active else None,
        "desk_first": ticket.desk_first,
        "held_at_desk": held_at_desk(ticket),
        "held_since": (ticket.desk_since or ticket.created_at) if held_at_desk(ticket) else None,
        "review": ticket.service_record.review if ticket.service_record is not None else None,
        "handled_by": handler,
        "handled_by_name": handler_name,
        "pending_reason": ticket.pending_reason,
        "authorization_state": ticket.authorization.state if ticket.authorization is not None else None,
        "emergency": bool(ticket.authorization is not None and ticket.authorization.emergency),
        "reported_at": ticket.reported_at,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at or ticket.created_at,
        "version": ticket.version,
    }


SORT_POSITION: dict[str, int] = {"created_at": 0, "reported_at": 1, "updated_at": 2, "priority": 3, "number": 4}


def encode_cursor(sort: SortField, descending: bool, key: tuple[str, str]) -> str:
    raw = json.dumps([sort, descending, *key], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortField, descending: bool) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_sort, got_desc, value, ticket_id = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not valid") from exc
    if got_sort != sort or got_desc != descending or not isinstance(value, str) or not isinstance(ticket_id, str):
        raise BadCursor("cursor belongs to another sort order")
    return value, ticket_id


def _folded(name: str, value: str) -> str:
    """A filter value in the form the index keeps it: free-text fields folded to simplified, codes and ids as given."""
    return (fold_key(value) or "") if name in FOLDED_FIELDS else value


from .search_store import TicketIndex as TicketIndex  # noqa: E402  (the store uses the pure helpers above)
