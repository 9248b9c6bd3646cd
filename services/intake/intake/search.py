"""The desk's ticket search: an in-memory index over every ticket, because FerretDB indexes nothing but `_id` and
neither it nor MongoDB segments Chinese. Filters are posting sets intersected smallest first; free text is English
words and Chinese character bigrams (a query's bigrams must all occur) over text folded by OpenCC to mainland
simplified script and words, which finds "打印机" in "三樓印表機卡紙" whatever a word segmenter would have made of it;
departments are filtered in folded form too (財務科 is 财务科); order is stable.

Each replica keeps its own index: filled from the database at start, updated by its own writes at once and by
every ticket event on the bus (core subscription, so every replica hears it), and reloaded in full now and then
to heal anything a disconnect lost.
"""

from __future__ import annotations

import base64
import heapq
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from opsdesk_shared.hanzi import fold_key, to_search_form

from .domain import SYSTEM_SUBJECTS, Actor, Ticket

FILTER_FIELDS = (
    "status", "priority", "service_code", "channel", "assignee", "requester", "department", "asset_tag", "ticket_type",
    "held", "unassigned", "review", "handled_by",
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


@dataclass(frozen=True)
class Entry:
    id: str
    number: str
    created_at: datetime
    reported_at: datetime
    fields: dict[str, str | None]
    terms: tuple[str, ...]
    summary: dict[str, Any]
    # Sort values computed once here, not per entry per query (isoformat over 100,000 tickets was most of a query).
    sort_keys: tuple[str, str, str, str, str]
    # When it was resolved (None while open or after a reopen): the desk share of one month counts by it.
    resolved_at: datetime | None = None


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


def _entry(ticket: Ticket) -> Entry:
    text = " ".join(
        filter(None, (ticket.number, ticket.description[:INDEXED_DESCRIPTION], ticket.requester.name, ticket.asset_tag))
    )
    return Entry(
        id=ticket.id,
        number=ticket.number,
        created_at=ticket.created_at,
        reported_at=ticket.reported_at,
        fields={
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
        },
        # Interned: every ticket's "打印" is then one string shared with the postings, not one copy per ticket.
        terms=tuple(sys.intern(t) for t in terms(text) | terms(ticket.title, unigrams=True)),
        summary=summary_of(ticket),
        sort_keys=(
            ticket.created_at.isoformat(), ticket.reported_at.isoformat(), (ticket.updated_at or ticket.created_at).isoformat(),
            ticket.priority, ticket.number,
        ),
        resolved_at=ticket.resolved_at,
    )


def summary_of(ticket: Ticket) -> dict[str, Any]:
    """What a result list shows per ticket, kept in memory so a page needs no database round trip."""
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


class TicketIndex:
    LOCAL_MEMORY = 20_000

    def __init__(self) -> None:
        self._changed_during_reload: set[str] | None = None
        self._local: dict[str, None] = {}
        self._entries: dict[str, Entry] = {}
        self._postings: dict[tuple[str, str], set[str]] = {}
        self._terms: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def mark_local(self, event_ids: Iterable[str]) -> None:
        """Events this replica produced: its index has them already, so hearing them back needs no re-read."""
        for event_id in event_ids:
            self._local[event_id] = None
        while len(self._local) > self.LOCAL_MEMORY:
            del self._local[next(iter(self._local))]

    def is_local(self, event_id: str) -> bool:
        return event_id in self._local

    def start_reload(self) -> None:
        """From now on, remember which tickets change: a fresh index built meanwhile may have read them too early."""
        self._changed_during_reload = set()

    def upsert(self, ticket: Ticket) -> bool:
        """Index the ticket as read; False (nothing changed) when the entry already shows a newer version.

        Reads race: the bus handler's read of version 1 can come back after this replica's own write of version 2
        was indexed, and writing it would show `new` for an `assigned` ticket until the next full reload (issue 14,
        defect 2). The same version replaces (a redelivery or a re-read writes the same)."""
        current = self._entries.get(ticket.id)
        if current is not None and int(current.summary.get("version") or 0) > ticket.version:
            return False
        if self._changed_during_reload is not None:
            self._changed_during_reload.add(ticket.id)
        self.remove(ticket.id)
        entry = _entry(ticket)
        self._entries[ticket.id] = entry
        for name, value in entry.fields.items():
            if value is not None:
                self._postings.setdefault((name, value), set()).add(ticket.id)
        for term in entry.terms:
            self._terms.setdefault(term, set()).add(ticket.id)
        return True

    def remove(self, ticket_id: str) -> None:
        old = self._entries.pop(ticket_id, None)
        if old is None:
            return
        for name, value in old.fields.items():
            if value is not None and (ids := self._postings.get((name, value))) is not None:
                ids.discard(ticket_id)
                if not ids:
                    del self._postings[(name, value)]
        for term in old.terms:
            if (ids := self._terms.get(term)) is not None:
                ids.discard(ticket_id)
                if not ids:
                    del self._terms[term]

    def replace_all(self, tickets: Iterable[Ticket]) -> None:
        fresh = TicketIndex()
        for ticket in tickets:
            fresh.upsert(ticket)
        self.take(fresh)

    def take(self, fresh: TicketIndex) -> set[str]:
        """Swap in an index built beside this one (a full reload), in one step; returns the tickets that changed
        here since start_reload, which the caller reads again."""
        self._entries, self._postings, self._terms = fresh._entries, fresh._postings, fresh._terms
        changed, self._changed_during_reload = self._changed_during_reload or set(), None
        return changed

    def id_of_number(self, number: str) -> str | None:
        return next((tid for tid in self._terms.get(number.lower(), ()) if self._entries[tid].number == number), None)

    def assignee_of(self, ticket_id: str) -> str | None:
        entry = self._entries.get(ticket_id)
        return entry.fields["assignee"] if entry is not None else None

    def counts(self, name: str) -> dict[str, int]:
        """How many tickets per value of one field, e.g. open tickets by status for the metrics."""
        return {value: len(ids) for (field_name, value), ids in self._postings.items() if field_name == name}

    def _visible(self, actor: Actor) -> set[str] | None:
        """None means no restriction (desk, managers, auditors)."""
        if actor.role in ("agent", "manager", "admin", "auditor"):
            return None
        if actor.role == "engineer":
            # Held through the roster link of their account, as access.holds decides; never by the user name.
            return set(self._postings.get(("assignee", actor.engineer_id), ())) if actor.engineer_id else set()
        mine = set(self._postings.get(("requester", actor.subject), ()))
        if actor.department:
            mine |= self._postings.get(("department", fold_key(actor.department) or ""), set())
        return mine

    def resolution_counts(self, *, start: datetime | None = None, end: datetime | None = None) -> tuple[int, int]:
        """(resolved or closed, of which resolved at the desk), the desk share's numerator and denominator; with
        start/end, only the tickets resolved in [start, end) (the contract's first-contact figure is monthly)."""
        done = self._postings.get(("status", "resolved"), set()) | self._postings.get(("status", "closed"), set())
        if start is not None or end is not None:
            done = {
                i for i in done
                if (at := self._entries[i].resolved_at) is not None and (start is None or at >= start) and (end is None or at < end)
            }
        return len(done), len(done & self._postings.get(("desk", "yes"), set()))

    def summaries(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        return [self._entries[i].summary for i in ids if i in self._entries]

    def count(self, query: Query, *, actor: Actor) -> int:
        """How many tickets the query matches in all (its filters, text and ranges; no cursor, no limit)."""
        return sum(1 for _ in self._matching(query, actor=actor))

    def search(self, query: Query, *, actor: Actor) -> tuple[list[str], str | None]:
        """Ticket ids of one page in order, and the cursor of the next page (None on the last)."""
        after = decode_cursor(query.cursor, query.sort, query.descending) if query.cursor else None
        position = SORT_POSITION[query.sort]
        keyed = ((e.sort_keys[position], e.id) for e in self._matching(query, actor=actor))
        if after is not None:
            keyed = (k for k in keyed if (k < after if query.descending else k > after))
        pick = heapq.nlargest if query.descending else heapq.nsmallest
        page = pick(query.limit + 1, keyed)
        more = len(page) > query.limit
        page = page[: query.limit]
        cursor = encode_cursor(query.sort, query.descending, page[-1]) if more and page else None
        return [ticket_id for _, ticket_id in page], cursor

    def _matching(self, query: Query, *, actor: Actor) -> Iterable[Entry]:
        """The entries the actor may see that match every filter, the text and the time ranges, in no order."""
        sets: list[set[str]] = []
        visible = self._visible(actor)
        if visible is not None:
            sets.append(visible)
        for name, values in query.filters.items():
            union: set[str] = set()
            for value in values:
                union |= self._postings.get((name, _folded(name, value)), set())
            sets.append(union)
        if query.text:
            wanted = query_terms(query.text)
            if not wanted:
                return ()
            for term in wanted:
                sets.append(self._terms.get(term, set()))
        if sets:
            sets.sort(key=len)
            candidates: Iterable[str] = sets[0].intersection(*sets[1:]) if len(sets) > 1 else sets[0]
        else:
            candidates = self._entries.keys()

        ranges = (
            ("created_at", query.created_from, query.created_to),
            ("reported_at", query.reported_from, query.reported_to),
        )

        def keep(entry: Entry) -> bool:
            for attr, low, high in ranges:
                moment = getattr(entry, attr)
                if (low is not None and moment < low) or (high is not None and moment >= high):
                    return False
            return True

        entries: Iterable[Entry] = (self._entries[i] for i in candidates)
        if any(low is not None or high is not None for _, low, high in ranges):
            entries = (e for e in entries if keep(e))
        return entries
