"""The desk's queues: which tickets each one holds, decided from what the API returns (pure functions).

Listed queues are one `GET /tickets` query each, with the API's own filters (held, unassigned, review, handled_by),
and their counts come in one `GET /tickets/counts`. At risk and breached come from the SLA monitor's list of running
clocks (`GET /timers`): the clocks due within 15 minutes and those past their warning time, grouped by ticket and
decided with the same rules as a ticket's detail, so their counts are exact; the page says `+` only when the clocks
ran past the pages the console reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import parse_instant

OPEN_STATES = ("new", "assigned", "in_progress", "pending")
AT_RISK_WITHIN = timedelta(minutes=15)
_OPEN = tuple(("status", s) for s in OPEN_STATES)


@dataclass(frozen=True)
class Queue:
    key: str
    label: str  # message id; translated when shown
    statuses: tuple[str, ...]
    derived: bool = False
    # The GET /tickets filters that list it (listed queues); its count is GET /tickets/counts' field of the same key.
    params: tuple[tuple[str, str], ...] = ()


QUEUES: tuple[Queue, ...] = (
    Queue("open", "Open", OPEN_STATES, params=_OPEN),
    Queue("mine", "Mine", OPEN_STATES, params=(*_OPEN, ("handled_by", "me"))),
    Queue("held", "Held at the desk", ("new",), params=(("held", "true"),)),
    Queue("unassigned", "Unassigned", ("new",), params=(("unassigned", "true"),)),
    Queue("at_risk", "At risk", OPEN_STATES, derived=True),
    Queue("breached", "Breached", OPEN_STATES, derived=True),
    Queue("waiting", "Waiting (vendor or requester)", ("pending",), params=(("status", "pending"),)),
    Queue("review", "Resolved, awaiting review", ("resolved",), params=(("status", "resolved"), ("review", "pending"))),
    # Open work for the desk before anyone works on it: the desk acknowledges it (its response clock runs).
    Queue("authorization", "awaiting_authorization", ("awaiting_authorization",), params=(("status", "awaiting_authorization"),)),
)
BY_KEY = {q.key: q for q in QUEUES}


def queue(key: str | None) -> Queue:
    return BY_KEY.get(key or "", QUEUES[0])


def is_held(detail: dict[str, Any]) -> bool:
    """A desk-first ticket the desk still holds, from its detail (the ticket page's send-on button)."""
    return detail.get("status") == "new" and bool(detail.get("desk_first")) and not detail.get("dispatch_requested_at")


def awaits_review(detail: dict[str, Any]) -> bool:
    """Resolved with a service record waiting for the desk's review, from its detail (the ticket page's review)."""
    record = detail.get("service_record") or {}
    return detail.get("status") == "resolved" and record.get("review") == "pending"


def _running(detail: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in (detail.get("sla") or []) if t.get("state") in ("running", "breached")]


def is_breached(detail: dict[str, Any], now: datetime) -> bool:
    for timer in _running(detail):
        due = parse_instant(timer.get("due_at"))
        if timer.get("state") == "breached" or (due is not None and due <= now):
            return True
    return False


def is_at_risk(detail: dict[str, Any], now: datetime) -> bool:
    """Due within 15 minutes or past its warning time, and not breached yet."""
    if is_breached(detail, now):
        return False
    for timer in _running(detail):
        due = parse_instant(timer.get("due_at"))
        warning = parse_instant(timer.get("warning_at"))
        if (due is not None and due - now <= AT_RISK_WITHIN) or (warning is not None and warning <= now):
            return True
    return False


def in_derived(key: str, detail: dict[str, Any], now: datetime) -> bool:
    if key == "at_risk":
        return detail.get("status") in OPEN_STATES and is_at_risk(detail, now)
    if key == "breached":
        return detail.get("status") in OPEN_STATES and is_breached(detail, now)
    raise KeyError(key)


# The SLA monitor's clock lists the two derived queues are decided on (with state=running, each paged): every clock
# at risk or breached is due within 15 minutes (a breached one is past due) or past its warning time.
def clock_queries(now: datetime) -> list[list[tuple[str, str]]]:
    return [[("state", "running"), ("due_before", (now + AT_RISK_WITHIN).isoformat())], [("state", "running"), ("warned", "true")]]


def clocks_by_ticket(timers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The listed clocks of each ticket, once each (the two lists overlap); a repair's clocks are no ticket's."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for t in timers:
        ticket = t.get("ticket_id")
        if ticket and not t.get("repair_id"):
            out.setdefault(str(ticket), {})[str(t.get("name"))] = t
    return {ticket: list(named.values()) for ticket, named in out.items()}


def derived_members(key: str, clocks: dict[str, list[dict[str, Any]]], now: datetime) -> list[str]:
    """The tickets in at risk or breached, the most urgent clock first (as the rows are shown)."""
    if key not in ("at_risk", "breached"):
        raise KeyError(key)
    found: list[tuple[datetime, str]] = []
    for ticket, timers in clocks.items():
        as_detail = {"sla": timers}
        if is_at_risk(as_detail, now) if key == "at_risk" else is_breached(as_detail, now):
            due = parse_instant((most_urgent_clock(as_detail) or {}).get("due_at"))
            found.append((due or datetime.max.replace(tzinfo=now.tzinfo), ticket))
    return [ticket for _, ticket in sorted(found)]


def summary_of(detail: dict[str, Any]) -> dict[str, Any]:
    """A ticket's detail in the list's shape (what a queue row shows): requester and assignee names flattened."""
    requester = detail.get("requester") or {}
    assignee = detail.get("assignee") or {}
    return {
        **detail, "requester_name": requester.get("name", ""), "department": requester.get("department"),
        "assignee_name": assignee.get("engineer_name"), "assignee_id": assignee.get("engineer_id"),
    }


def most_urgent_clock(detail: dict[str, Any]) -> dict[str, Any] | None:
    """The running clock due first (the one a row shows)."""
    running = [(parse_instant(t.get("due_at")), t) for t in _running(detail)]
    dated = [(due, t) for due, t in running if due is not None]
    return min(dated, key=lambda pair: pair[0])[1] if dated else None
