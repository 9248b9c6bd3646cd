"""The fault campaign's checks, as pure functions of what was observed: each returns the violations it found
(empty when the promise held). Kept apart from the stack so that test_checks.py can feed every one of them a
violation planted on purpose: a check that cannot fail is caught there, not trusted here."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# What a careful client may see from the gateway while a part of the system is down: refusal to connect, a timeout,
# or 503 with Retry-After. Any other 5xx is a defect (issue 14 item 4).
ALLOWED_5XX = frozenset({503})


@dataclass
class Attempt:
    """One request of one careful client (one ticket, one Idempotency-Key)."""

    key: str
    status: int | None  # None: no answer (connection refused, reset, timeout)
    error: str = ""
    ticket_id: str | None = None
    seconds: float = 0.0  # from sending to the answer (or to giving up on it)


@dataclass
class ClientOutcome:
    """Everything one careful client saw for its ticket, its last answer deciding the outcome."""

    key: str
    marker: str
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def ticket_id(self) -> str | None:
        for attempt in reversed(self.attempts):
            if attempt.status in (200, 201) and attempt.ticket_id:
                return attempt.ticket_id
        return None


@dataclass
class Observed:
    """What the campaign read back after settling; every mapping is ticket id -> value unless said otherwise."""

    clients: list[ClientOutcome]
    # Source: intake's stored tickets, id -> (status, version, marker, asset tag)
    stored: dict[str, tuple[str, int, str, str | None]]
    # The gateway's search: id -> (status, version)
    search: dict[str, tuple[str, int]]
    # Dispatch's assignments (source of assignment): ticket id -> (engineer id, assignment status)
    assignments: dict[str, tuple[str, str]]
    # Dispatch's engineers' loads (view): engineer id -> open_load
    loads: dict[str, int]
    # Reporting's tally (view): counter name -> total; and tickets_assigned per engineer
    reporting_created: int
    reporting_assigned: dict[str, int]
    # Assets' ticket view: ticket id -> status (tickets naming an asset only)
    assets_view: dict[str, str]
    # From JetStream: ticket id -> ids of ticket.assigned events; ticket ids with a ticket.created
    assigned_events: dict[str, set[str]]
    created_events: set[str]
    # Dead letters: (subject, consumer, reason, error) per record
    dead_letters: list[tuple[str, str, str, str]]
    # Events still stored in some document's outbox: (database, collection, document id, count)
    outboxes: list[tuple[str, str, Any, int]]
    # Tickets the SLA monitor keeps a timer for
    timed: set[str] = field(default_factory=set)
    # The source read again AFTER the view, for the tickets whose first reading differed from search: id -> (status,
    # version). The view is judged against the source's latest reading (see stale_search).
    stored_after: dict[str, tuple[str, int]] = field(default_factory=dict)
    # Not judged: what helps read a violation (e.g. ticket id -> when search and the source last changed it)
    details: dict[str, str] = field(default_factory=dict)


def lost_writes(clients: Iterable[ClientOutcome], stored: Mapping[str, Any]) -> list[str]:
    """A ticket the gateway acknowledged (201/200 with its id) that is not stored."""
    return [f"{c.key}: acknowledged as {c.ticket_id}, not stored" for c in clients if c.ticket_id and c.ticket_id not in stored]


def unanswered(clients: Iterable[ClientOutcome]) -> list[str]:
    """A careful client that gave up: no 201/200 for its ticket before its deadline (the last answer named)."""
    out = []
    for c in clients:
        if c.ticket_id is None:
            last = c.attempts[-1] if c.attempts else None
            out.append(f"{c.key}: never acknowledged after {len(c.attempts)} tries (last: "
                       f"{last.status if last else None} {last.error[:80] if last else ''})")
    return out


def duplicates(clients: Iterable[ClientOutcome], stored: Mapping[str, tuple[str, int, str, str | None]]) -> list[str]:
    """More than one stored ticket for one client's request, or one key answered with two ticket ids."""
    out = []
    by_marker: dict[str, list[str]] = defaultdict(list)
    for tid, (_s, _v, marker, _tag) in stored.items():
        if marker:
            by_marker[marker].append(tid)
    for marker, ids in sorted(by_marker.items()):
        if len(ids) > 1:
            out.append(f"{marker}: stored {len(ids)} times ({', '.join(sorted(ids))})")
    for c in clients:
        answered = {a.ticket_id for a in c.attempts if a.status in (200, 201) and a.ticket_id}
        if len(answered) > 1:
            out.append(f"{c.key}: answered with {len(answered)} different tickets")
    return out


def double_assignments(assigned_events: Mapping[str, set[str]]) -> list[str]:
    """A ticket assigned by more than one ticket.assigned event (the campaign reassigns nothing)."""
    return [f"{tid}: {len(ids)} ticket.assigned events" for tid, ids in sorted(assigned_events.items()) if len(ids) > 1]


def dead_letters_from_valid_input(records: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """Every input of the campaign is valid, so any dead letter is a defect."""
    counts = Counter((subject, consumer, reason, error.split(":", 1)[0]) for subject, consumer, reason, error in records)
    return [f"{n} x {subject} by {consumer} ({reason}: {err})" for (subject, consumer, reason, err), n in sorted(counts.items())]


def stale_search(
    stored: Mapping[str, tuple[str, int, str, str | None]], search: Mapping[str, tuple[str, int]],
    stored_after: Mapping[str, tuple[str, int]] | None = None,
) -> list[str]:
    """The gateway's search shows every stored ticket with the stored status and version, and nothing else.

    Judged against the source as read AFTER the view (`stored_after`, the tickets whose first reading differed, read
    again once search was read). Why: intake writes a ticket and then its own search entry from what the store
    returned (service._apply_quietly / _apply_announced upsert the index with the stored ticket; the `ticket.>`
    handler's refresh_index reads the store and keeps the newer version). So search can lag the store, never lead
    it. The campaign reads the database first and the search pages afterwards, up to minutes later on a loaded
    machine; a change landing in between (knowledge's kb.suggested, applied by intake as v3 while the database
    reading held v2: runs 3 and 4, 51 tickets, read while knowledge still had 560 ticket.created pending) makes
    search look AHEAD of a source snapshot that was simply older. That is the reading's skew, not a stale view. The
    promise judged here stays whole: search behind the latest source, ahead of it, missing, or extra is a violation."""
    latest = dict(stored_after or {})
    out = []
    for tid, (status, version, _m, _t) in sorted(stored.items()):
        seen = search.get(tid)
        status, version = latest.get(tid, (status, version))
        if seen is None:
            out.append(f"{tid}: missing from search")
        elif seen != (status, version):
            out.append(f"{tid}: search shows {seen[0]} v{seen[1]}, stored {status} v{version}")
    out += [f"{tid}: in search, not stored" for tid in sorted(set(search) - set(stored))]
    return out


def reporting_differs(
    stored: Mapping[str, Any], assignments: Mapping[str, tuple[str, str]], created: int, assigned: Mapping[str, int]
) -> list[str]:
    """Reporting counts every stored ticket once and every engineer's assignments as dispatch stored them."""
    out = []
    if created != len(stored):
        out.append(f"reporting counts {created} tickets created, {len(stored)} stored")
    expected = Counter(engineer for engineer, _status in assignments.values())
    for engineer in sorted(set(expected) | set(assigned)):
        if expected.get(engineer, 0) != assigned.get(engineer, 0):
            out.append(f"{engineer}: reporting counts {assigned.get(engineer, 0)} assigned, dispatch stored {expected.get(engineer, 0)}")
    return out


def assets_view_differs(stored: Mapping[str, tuple[str, int, str, str | None]], view: Mapping[str, str]) -> list[str]:
    """Each ticket naming an asset is listed on the asset with the stored status."""
    out = []
    for tid, (status, _v, _m, tag) in sorted(stored.items()):
        if not tag:
            continue
        if tid not in view:
            out.append(f"{tid}: missing from asset {tag}'s tickets")
        elif view[tid] != status:
            out.append(f"{tid}: asset {tag} shows {view[tid]}, stored {status}")
    return out


# An engineer's load is the work still theirs to do: open, accepted or confirmed (dispatch.domain.HELD, written down
# again here so the check does not take the rule it checks from the code under test); ended work frees the engineer.
OPEN_ASSIGNMENT = frozenset({"open", "accepted", "confirmed"})


def loads_differ(assignments: Mapping[str, tuple[str, str]], loads: Mapping[str, int]) -> list[str]:
    """Each engineer's load equals the open assignments dispatch stored for them."""
    expected = Counter(engineer for engineer, status in assignments.values() if status in OPEN_ASSIGNMENT)
    return [
        f"{engineer}: load {loads.get(engineer, 0)}, open assignments {expected.get(engineer, 0)}"
        for engineer in sorted(set(expected) | set(loads))
        if expected.get(engineer, 0) != loads.get(engineer, 0)
    ]


def unsent_events(
    outboxes: Iterable[tuple[str, str, Any, int]], stored: Mapping[str, Any], created_events: set[str],
    assignments: Mapping[str, tuple[str, str]], assigned_events: Mapping[str, set[str]],
) -> list[str]:
    """No event waits in an outbox; every stored ticket's ticket.created and every assignment's ticket.assigned
    reached JetStream."""
    out = [f"{db}.{coll} {doc_id}: {n} event(s) still in its outbox" for db, coll, doc_id, n in outboxes]
    out += [f"{tid}: stored, no ticket.created on the bus" for tid in sorted(set(stored) - created_events)]
    out += [f"{tid}: assigned by dispatch, no ticket.assigned on the bus" for tid in sorted(assignments) if not assigned_events.get(tid)]
    return out


def server_errors(clients: Iterable[ClientOutcome]) -> list[str]:
    """No answer in 5xx but 503 (the client is told to come back), whatever was down."""
    counts = Counter(a.status for c in clients for a in c.attempts if a.status is not None and a.status >= 500 and a.status not in ALLOWED_5XX)
    return [f"{n} answer(s) {status}" for status, n in sorted(counts.items())]


def assignments_match_tickets(stored: Mapping[str, tuple[str, int, str, str | None]], assignments: Mapping[str, tuple[str, str]]) -> list[str]:
    """Every assignment names a stored ticket, and no stored ticket still reads `new` while dispatch assigned it."""
    out = [f"{tid}: assigned by dispatch, not stored by intake" for tid in sorted(set(assignments) - set(stored))]
    out += [f"{tid}: assigned by dispatch, still new at intake" for tid, (status, *_r) in sorted(stored.items())
            if status == "new" and tid in assignments]
    return out


def untimed(stored: Mapping[str, Any], timed: set[str]) -> list[str]:
    """Every stored ticket has its SLA clock (the SLA monitor consumed its ticket.created)."""
    return [f"{tid}: no SLA timer" for tid in sorted(set(stored) - timed)]


def evaluate(o: Observed) -> dict[str, list[str]]:
    """Check name -> violations, in the order the campaign's table prints them."""
    return {
        "lost writes": lost_writes(o.clients, o.stored),
        "unanswered requests": unanswered(o.clients),
        "duplicates": duplicates(o.clients, o.stored),
        "double assignments": double_assignments(o.assigned_events),
        "dead letters": dead_letters_from_valid_input(o.dead_letters),
        "search = source": stale_search(o.stored, o.search, o.stored_after),
        "reporting = source": reporting_differs(o.stored, o.assignments, o.reporting_created, o.reporting_assigned),
        "assets view = source": assets_view_differs(o.stored, o.assets_view),
        "engineer loads = source": loads_differ(o.assignments, o.loads),
        "assignments = tickets": assignments_match_tickets(o.stored, o.assignments),
        "every ticket timed": untimed(o.stored, o.timed),
        "events unsent": unsent_events(o.outboxes, o.stored, o.created_events, o.assignments, o.assigned_events),
        "5xx other than 503": server_errors(o.clients),
    }


def table(results: Mapping[str, list[str]], *, extra: Mapping[str, str] = ()) -> str:  # type: ignore[assignment]
    """The campaign's result as a table: one row per check, its count of violations and the first few."""
    width = max(len(name) for name in results)
    lines = [f"{'check'.ljust(width)}  violations  first"]
    for name, found in results.items():
        first = "; ".join(found[:3])
        lines.append(f"{name.ljust(width)}  {len(found):>10}  {first[:160]}")
    lines += [f"{k}: {v}" for k, v in dict(extra).items()]
    return "\n".join(lines)
