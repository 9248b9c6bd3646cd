"""How each event changes the read models: pure functions of (entity document, event) -> (new document, effects).

Entities are per-ticket, per-repair, per-asset, per-problem and per-inspection documents keyed by their id. Effects
are increments to per-month bucket documents (`m:2026-11`), to the live `state` bucket (open tickets by status,
repairs at vendors), and capped lists (the month's SLA breaches, major incidents, inspections). A report reads a
month's buckets only, never the tickets. The entity remembers the events it has applied, so a redelivery changes
nothing, and an event arriving before its ticket's ticket.created still counts once both ends of a duration are known.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opsdesk_shared.contracts import (
    REGISTRY,
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    AssignmentDelayedV1,
    AssignmentReviewedV1,
    AssignmentWithdrawnV1,
    Envelope,
    EscalationAcknowledgedV1,
    EscalationRaisedV1,
    EventData,
    HelpRequestedV1,
    NoEngineerAvailableV1,
    RepairUpdatedV1,
    ServiceRecordReviewedV1,
    SlaBreachedV1,
    SlaTimerStartedV1,
    SlaTimerStoppedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketClosedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    TicketReassignedV1,
    TicketReopenedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
)
from opsdesk_shared.contracts.cmdb import InspectionRecordedV1, SpareIssuedV1, SpareIssueReversedV1
from opsdesk_shared.contracts.knowledge import (
    ProblemCreatedV1,
    ProblemEscalatedV1,
    ProblemKnownErrorV1,
    ProblemResolvedV1,
)

from . import periods, sketch

Document = dict[str, Any]
STATE = "state"
ASSET_SHARDS = 16
SEEN_KEEP = 64
LIST_CAP = 2000
REPEAT_WINDOW_DAYS = 90
TIMERS = ("first_response", "dispatch", "confirmation", "resolution")


def enc(value: object) -> str:
    """A label value as a safe field name: no '.', '$' or empty names; reversible with dec()."""
    text = "" if value is None else str(value)
    if not text:
        return "~"
    return text.replace("%", "%25").replace(".", "%2E").replace("$", "%24").replace("~", "%7E")


def dec(name: str) -> str:
    if name == "~":
        return ""
    return name.replace("%7E", "~").replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def month_bucket(at: datetime) -> str:
    return f"m:{periods.month_key(at)}"


def asset_bucket(month: str, tag: str) -> str:
    return f"m:{month}:asset:{zlib.crc32(tag.encode()) % ASSET_SHARDS:02d}"


def list_id(month: str, name: str) -> str:
    return f"m:{month}:{name}"


@dataclass
class Effects:
    incs: dict[str, dict[str, float]] = field(default_factory=dict)
    sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    appends: list[tuple[str, Document]] = field(default_factory=list)

    def inc(self, bucket: str, path: str, amount: float = 1) -> None:
        fields = self.incs.setdefault(bucket, {})
        fields[path] = fields.get(path, 0) + amount

    def set(self, bucket: str, path: str, value: Any) -> None:
        self.sets.setdefault(bucket, {})[path] = value

    def duration(self, at: datetime, timer: str, seconds: float, *, prefix: str = "dur", sign: int = 1) -> None:
        """One observed duration in `at`'s month; sign=-1 takes back one counted before (a later-known earlier end)."""
        bucket = month_bucket(at)
        self.inc(bucket, f"{prefix}.{timer}.h.{sketch.bucket_of(max(seconds, 0.0))}", sign)
        self.inc(bucket, f"{prefix}.{timer}.sum", sign * max(seconds, 0.0))

    def to_doc(self) -> Document:
        """Storable form: lists of small documents, since field paths contain dots a stored document may not use
        as names, and FerretDB refuses arrays of arrays."""
        return {
            "incs": [{"b": b, "p": path, "v": n} for b, fields in self.incs.items() for path, n in fields.items()],
            "sets": [{"b": b, "p": path, "v": v} for b, fields in self.sets.items() for path, v in fields.items()],
            "appends": [{"b": name, "v": item} for name, item in self.appends],
        }

    @classmethod
    def from_doc(cls, doc: Document) -> Effects:
        fx = cls()
        for entry in doc.get("incs", []):
            fx.inc(entry["b"], entry["p"], entry["v"])
        for entry in doc.get("sets", []):
            fx.set(entry["b"], entry["p"], entry["v"])
        fx.appends = [(entry["b"], entry["v"]) for entry in doc.get("appends", [])]
        return fx

    def __bool__(self) -> bool:
        return bool(self.incs or self.sets or self.appends)


def _dt(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _seconds(start: Any, end: Any) -> float:
    a, b = _dt(start), _dt(end)
    assert a is not None and b is not None
    return (b - a).total_seconds()


# ----------------------------------------------------------------------------------------------------- routing

# The ticket's own events and dispatch's on it: every one names the ticket it is about.
TicketScoped = (
    TicketCreatedV1 | TicketUpdatedV1 | TicketStatusChangedV1 | TicketResolvedV1 | TicketClosedV1 | TicketReopenedV1
    | TicketAssignedV1 | TicketReassignedV1 | TicketDispatchRequestedV1 | ServiceRecordReviewedV1
    | AssignmentAcceptedV1 | AssignmentConfirmedV1 | AssignmentDelayedV1 | AssignmentCompletedV1 | AssignmentReviewedV1
    | AssignmentWithdrawnV1 | HelpRequestedV1 | NoEngineerAvailableV1 | EscalationRaisedV1 | EscalationAcknowledgedV1
)
ProblemEvent = ProblemCreatedV1 | ProblemKnownErrorV1 | ProblemResolvedV1 | ProblemEscalatedV1


def typed(envelope: Envelope) -> EventData | None:
    """The event as its contract model (the registry's, by type and version); None for what reporting does not know.
    The bus edge validated it already; a rebuild reads the same stored events."""
    model = REGISTRY.get((envelope.type, envelope.version))
    return model.model_validate(envelope.data) if model is not None else None


def entity_of(envelope: Envelope) -> tuple[str, str] | None:
    """(collection, key) of the read model an event belongs to; None for events reporting does not project."""
    event = typed(envelope)
    if isinstance(event, TicketScoped):
        return ("tickets", event.ticket_id) if event.ticket_id else None
    if isinstance(event, SlaTimerStoppedV1) and event.repair_id:
        return "repairs", event.repair_id  # its verdict counts for the repair's vendor
    if isinstance(event, SlaTimerStartedV1):
        # A ticket's cycle is counted as it starts; a repair's from its verdicts, so its start projects nothing.
        return ("tickets", event.ticket_id) if event.ticket_id and not event.repair_id else None
    if isinstance(event, SlaBreachedV1 | SlaWarningV1 | SlaTimerStoppedV1):
        if event.ticket_id:
            return "tickets", event.ticket_id
        return ("repairs", event.repair_id) if event.repair_id else None
    if isinstance(event, RepairUpdatedV1):
        return "repairs", event.repair_id
    if isinstance(event, ProblemEvent):
        return ("problems", event.problem_id) if event.problem_id else None
    if isinstance(event, InspectionRecordedV1):
        return "inspections", event.inspection_id or str(envelope.event_id)
    if isinstance(event, SpareIssuedV1 | SpareIssueReversedV1):
        return ("tickets", event.ticket_id) if event.ticket_id else None
    return None


# ----------------------------------------------------------------------------------------------------- decide


def apply(doc: Document | None, envelope: Envelope) -> tuple[Document, Effects] | None:
    """The entity after the event and what it adds to the aggregates; None when the entity has seen it already."""
    event_id = str(envelope.event_id)
    current: Document = dict(doc or {})
    if event_id in current.get("seen", []):
        return None
    fx = Effects()
    event = typed(envelope)
    handler = _HANDLERS.get(type(event)) if event is not None else None
    if handler is not None:
        handler(current, event, envelope, fx)
    current["seen"] = [*current.get("seen", []), event_id][-SEEN_KEEP:]
    return current, fx


def _status(doc: Document, new: str, at: datetime, fx: Effects) -> None:
    """The latest status change wins, whatever order the changes arrive in."""
    seen = _dt(doc.get("status_at"))
    if seen is not None and at < seen:
        return
    doc["status_at"] = at
    old = doc.get("status")
    if old == new:
        return
    if old is not None:
        fx.inc(STATE, f"status.{enc(old)}", -1)
    fx.inc(STATE, f"status.{enc(new)}", 1)
    doc["status"] = new


def _first_response(doc: Document, fx: Effects, at: datetime | None = None) -> None:
    """First response runs from the report to the first human act on the ticket: the engineer accepting the job, the
    desk sending it on to dispatch, or a resolution. Automatic assignment is not a response (it happens within
    milliseconds, so the median read 0.0 minutes). The earliest act wins whatever order the events arrive in: an
    earlier act arriving later takes back the duration counted before. Without `at`: the report time just became
    known, count an act that arrived first."""
    earliest = _dt(doc.get("first_human_at"))
    if at is not None and (earliest is None or at < earliest):
        doc["first_human_at"] = earliest = at
    reported = _dt(doc.get("reported_at"))
    if earliest is None or reported is None:
        return
    if doc.get("obs_first_response") and not doc.get("first_response_at"):
        return  # counted by an older version of this projection (at the assignment); a rebuild recounts it
    counted = _dt(doc.get("first_response_at"))
    if counted == earliest:
        return
    if counted is not None:
        fx.duration(counted, "first_response", _seconds(reported, counted), sign=-1)
    doc.update(obs_first_response=True, first_response_at=earliest)
    fx.duration(earliest, "first_response", _seconds(reported, earliest))


def _on_created(doc: Document, ev: TicketCreatedV1, e: Envelope, fx: Effects) -> None:
    if doc.get("created"):
        return
    requester = ev.requester
    reported = ev.reported_at
    doc.update(
        created=True, number=ev.number, title=ev.title, channel=ev.channel,
        service_code=ev.service_code, priority=ev.priority, ticket_type=ev.ticket_type,
        department=requester.department, requester=requester.name, phone=requester.phone,
        requester_id=ev.requester_id,
        asset_tag=ev.asset_tag, site=ev.site, description=ev.description,
        major=ev.major_incident, reported_at=reported, created_at=e.occurred_at,
    )
    _status(doc, "new", reported, fx)
    bucket = month_bucket(reported)
    fx.inc(bucket, "created.total")
    for dim, value in (("service", doc["service_code"]), ("channel", doc["channel"]), ("priority", doc["priority"]),
                       ("department", doc["department"]), ("type", doc["ticket_type"])):
        fx.inc(bucket, f"created.{dim}.{enc(value)}")
    if doc["asset_tag"]:
        month = periods.month_key(reported)
        fx.inc(asset_bucket(month, doc["asset_tag"]), enc(doc["asset_tag"]))
    if doc["major"]:
        fx.inc(bucket, "major.total")
        fx.appends.append((list_id(periods.month_key(reported), "majors"), {"ticket_id": ev.ticket_id, "number": ev.number, "title": ev.title, "reported_at": reported}))
    # No clock is counted here: which clocks start, and when, is the SLA monitor's rule (an authorized ticket's dispatch
    # clock starts at authorization, a declined one never): reporting counts the cycles it announces (_cycle).
    # Ends that arrived first: the durations can be known now.
    _first_response(doc, fx)
    if doc.get("assigned_at"):
        assigned = _dt(doc["assigned_at"])
        assert assigned is not None
        if not doc.get("obs_dispatch"):
            doc["obs_dispatch"] = True
            fx.duration(assigned, "dispatch", _seconds(e.occurred_at, assigned))


def _assigned(doc: Document, fx: Effects, *, engineer_id: str, name: str, at: datetime, assignment_id: str, by: str) -> None:
    bucket = month_bucket(at)
    fx.inc(bucket, f"engineer.{enc(engineer_id)}.assigned")
    fx.set(bucket, f"engineer_names.{enc(engineer_id)}", name)
    # The latest assignment by time names who holds the ticket (and who may read its forms), whatever the arrival order.
    latest = _dt(doc.get("last_assigned_at"))
    if latest is None or at >= latest:
        doc.update(engineer_id=engineer_id, engineer_name=name, last_assigned_at=at)
    _engineer_resolved(doc, fx)
    doc["assignments"] = [*doc.get("assignments", []), {"assignment_id": assignment_id, "engineer_id": engineer_id, "engineer_name": name, "at": at, "by": by}][-20:]


def _on_assigned(doc: Document, ev: TicketAssignedV1, e: Envelope, fx: Effects) -> None:
    at = ev.assigned_at
    fx.inc(month_bucket(at), "assigned.total")
    _assigned(doc, fx, engineer_id=ev.engineer_id, name=ev.engineer_name, at=at, assignment_id=ev.assignment_id, by="dispatch")
    if not doc.get("assigned_at"):
        doc["assigned_at"] = at
        if doc.get("created_at") and not doc.get("obs_dispatch"):
            doc["obs_dispatch"] = True
            fx.duration(at, "dispatch", _seconds(doc["created_at"], at))
        if doc.get("confirmed_at") and not doc.get("obs_confirmation"):
            doc["obs_confirmation"] = True
            fx.duration(_dt(doc["confirmed_at"]) or at, "confirmation", _seconds(at, doc["confirmed_at"]))


def _on_reassigned(doc: Document, ev: TicketReassignedV1, e: Envelope, fx: Effects) -> None:
    at = ev.reassigned_at
    bucket = month_bucket(at)
    fx.inc(bucket, "reassigned.total")
    fx.inc(bucket, f"reassigned.by.{'dispatch' if ev.by == 'dispatch' else 'desk'}")
    _assigned(doc, fx, engineer_id=ev.engineer_id, name=ev.engineer_name, at=at, assignment_id=ev.assignment_id, by=ev.by)


def _on_accepted(doc: Document, ev: AssignmentAcceptedV1, e: Envelope, fx: Effects) -> None:
    at = ev.accepted_at
    fx.inc(month_bucket(at), "assignment.accepted")
    doc.setdefault("accepted_at", at)
    _first_response(doc, fx, at)  # the engineer's acceptance is the first human act after an automatic assignment


def _on_confirmed(doc: Document, ev: AssignmentConfirmedV1, e: Envelope, fx: Effects) -> None:
    at = ev.confirmed_at
    fx.inc(month_bucket(at), "assignment.confirmed")
    if not doc.get("confirmed_at"):
        doc["confirmed_at"] = at
        if doc.get("assigned_at") and not doc.get("obs_confirmation"):
            doc["obs_confirmation"] = True
            fx.duration(at, "confirmation", _seconds(doc["assigned_at"], at))


def _on_delayed(doc: Document, ev: AssignmentDelayedV1, e: Envelope, fx: Effects) -> None:
    bucket = month_bucket(ev.delayed_at)
    fx.inc(bucket, "assignment.delayed")
    fx.inc(bucket, f"engineer.{enc(ev.engineer_id)}.delayed")


def _on_completed(doc: Document, ev: AssignmentCompletedV1, e: Envelope, fx: Effects) -> None:
    at = ev.completed_at
    bucket = month_bucket(at)
    fx.inc(bucket, "assignment.completed")
    fx.inc(bucket, f"engineer.{enc(ev.engineer_id)}.completed")
    doc["completed_at"] = at
    doc["record"] = ev.record


def _on_reviewed(doc: Document, ev: AssignmentReviewedV1, e: Envelope, fx: Effects) -> None:
    bucket = month_bucket(ev.reviewed_at)
    fx.inc(bucket, "assignment.reviewed")
    fx.inc(bucket, f"assignment.reviewed_{'approved' if ev.approved else 'returned'}")


def _on_status(doc: Document, ev: TicketStatusChangedV1, e: Envelope, fx: Effects) -> None:
    _status(doc, ev.new_status, ev.changed_at, fx)
    doc.setdefault("number", ev.number)
    doc.setdefault("service_code", ev.service_code)


def _on_resolved(doc: Document, ev: TicketResolvedV1, e: Envelope, fx: Effects) -> None:
    at = ev.resolved_at
    bucket = month_bucket(at)
    desk = ev.resolved_at_desk
    fx.inc(bucket, "resolved.total")
    fx.inc(bucket, f"resolved.service.{enc(ev.service_code)}")
    if desk:
        fx.inc(bucket, "resolved.desk")
    if ev.article_id:
        fx.inc(bucket, "resolved.with_article")
    fx.duration(at, "resolution", _seconds(ev.reported_at, at))
    doc["resolved_at"], doc["resolved_at_desk"] = at, desk
    _engineer_resolved(doc, fx)
    doc.setdefault("reported_at", ev.reported_at)
    _first_response(doc, fx, at)  # a resolution (at the desk, or by an engineer who never accepted) is a response
    doc.update(resolved_at=at, resolved_at_desk=desk, resolution=ev.resolution, resolved_by=ev.by)
    for key, value in (("number", ev.number), ("service_code", ev.service_code), ("priority", ev.priority),
                       ("channel", ev.channel), ("department", ev.department), ("asset_tag", ev.asset_tag)):
        if doc.get(key) is None and value is not None:
            doc[key] = value


def _on_dispatch_requested(doc: Document, ev: TicketDispatchRequestedV1, e: Envelope, fx: Effects) -> None:
    """A desk-first ticket leaves the desk: an agent sending it on is a human act; a guidance window that ran out is not."""
    if ev.reason == "desk":
        _first_response(doc, fx, ev.requested_at)


def _engineer_resolved(doc: Document, fx: Effects) -> None:
    """Credit the resolution to the engineer once both the assignment and the resolution are known."""
    if doc.get("engineer_id") and doc.get("resolved_at") and not doc.get("resolved_at_desk") and not doc.get("obs_engineer_resolved"):
        doc["obs_engineer_resolved"] = True
        fx.inc(month_bucket(_dt(doc["resolved_at"]) or datetime.now(UTC)), f"engineer.{enc(doc['engineer_id'])}.resolved")


def _on_closed(doc: Document, ev: TicketClosedV1, e: Envelope, fx: Effects) -> None:
    at = ev.closed_at
    bucket = month_bucket(at)
    fx.inc(bucket, "closed.total")
    score = ev.satisfaction
    if score is not None:
        fx.inc(bucket, "satisfaction.n")
        fx.inc(bucket, "satisfaction.sum", float(score))
        fx.inc(bucket, f"satisfaction.score.{int(score)}")
    doc.update(closed_at=at, satisfaction=score, satisfaction_comment=ev.satisfaction_comment)


def _on_reopened(doc: Document, ev: TicketReopenedV1, e: Envelope, fx: Effects) -> None:
    fx.inc(month_bucket(ev.reopened_at), "reopened.total")
    doc["reopened"] = int(doc.get("reopened", 0)) + 1


CYCLES_KEEP = 200


def _cycle(doc: Document, fx: Effects, *, timer: str, started_at: datetime) -> None:
    """A clock cycle the SLA monitor announced (its start, a warning, a breach or its verdict, whichever comes first)
    is counted once, as started in the month it started. The monitor owns which clocks run: a ticket awaiting the
    agency's authorization has no dispatch clock, a declined one never gets one, so reporting never infers clocks
    from ticket events. sla.timer_started counts a running cycle nobody has warned about yet; the later events of
    the same cycle (keyed by timer and start) add nothing to the count."""
    key = f"{timer}|{started_at.astimezone(UTC).isoformat()}"
    cycles = list(doc.get("cycles", []))
    if key in cycles:
        return
    doc["cycles"] = [*cycles, key][-CYCLES_KEEP:]
    fx.inc(month_bucket(started_at), f"sla.{enc(timer)}.started")


def _on_sla_timer_started(doc: Document, ev: SlaTimerStartedV1, e: Envelope, fx: Effects) -> None:
    """Counted in the entity write and the month's bucket write every projected event makes: no write of its own."""
    _cycle(doc, fx, timer=ev.timer, started_at=ev.started_at)


def _on_sla_warning(doc: Document, ev: SlaWarningV1, e: Envelope, fx: Effects) -> None:
    if not ev.repair_id:  # a repair's cycles are counted on the repair, from their verdicts
        _cycle(doc, fx, timer=ev.timer, started_at=ev.started_at)
    fx.inc(f"m:{periods.month_key(ev.warning_at)}", f"sla.{enc(ev.timer)}.warned")


def _on_sla_breached(doc: Document, ev: SlaBreachedV1, e: Envelope, fx: Effects) -> None:
    at = ev.breached_at
    month = periods.month_key(at)
    if not ev.repair_id:
        _cycle(doc, fx, timer=ev.timer, started_at=ev.started_at)
    fx.inc(f"m:{month}", f"sla.{enc(ev.timer)}.breached")
    doc["breaches"] = [*doc.get("breaches", []), ev.timer][-20:]
    fx.appends.append((list_id(month, "breaches"), {
        "ticket_id": ev.ticket_id or None, "repair_id": ev.repair_id, "number": doc.get("number"),
        "timer": ev.timer, "policy": ev.policy, "due_at": ev.due_at, "breached_at": at,
    }))


def _on_escalation(doc: Document, ev: EscalationRaisedV1, e: Envelope, fx: Effects) -> None:
    bucket = month_bucket(ev.raised_at)
    fx.inc(bucket, "escalations.total")
    fx.inc(bucket, f"escalations.kind.{enc(ev.kind)}")
    doc["escalations"] = int(doc.get("escalations", 0)) + 1


AT_VENDOR = ("sent_to_vendor", "in_progress")
REPAIR_PROGRESS, REPAIR_RETURN = "repair_progress", "repair_return"
BACK = ("returned", "closed")


def _repair_contribution(doc: Document) -> Effects:
    """Everything one repair adds to the aggregates, from its whole history sorted by time: the same answer whatever
    order its updates arrived in. An update adds the difference between its repair's contribution after and before."""
    fx = Effects()
    history = sorted(doc.get("history", []), key=lambda h: (_dt(h["at"]) or datetime.min.replace(tzinfo=UTC), h.get("n", 0)))
    if not history:
        return fx
    vendor = next((h["vendor"] for h in reversed(history) if h.get("vendor")), "") or ""
    v = f"vendor.{enc(vendor)}"
    first = _dt(history[0]["at"])
    assert first is not None
    fx.inc(month_bucket(first), "repairs.opened")
    sent: datetime | None = None
    returned: datetime | None = None
    for h in history:
        at = _dt(h["at"])
        assert at is not None
        status = h["status"]
        if sent is None and status in AT_VENDOR:
            sent = at
            fx.inc(month_bucket(at), "repairs.sent")
            fx.inc(month_bucket(at), f"{v}.sent")
        elif sent is not None and returned is None and status in BACK:
            returned = at
            fx.inc(month_bucket(at), f"{v}.returned")
            fx.duration(at, enc(vendor), (at - sent).total_seconds(), prefix="turnaround")
    # Whether updates and returns were in time is the SLA monitor's verdict (sla.timer_stopped), never judged here:
    # it owns the working-day calendar, uploaded holiday years included.
    for verdict in doc.get("verdicts", {}).values():
        at = _dt(verdict["at"])
        assert at is not None
        if verdict["outcome"] == "cancelled":
            continue
        met = verdict["outcome"] == "met"
        if verdict["timer"] == REPAIR_PROGRESS:
            fx.inc(month_bucket(at), f"{v}.updates_{'ok' if met else 'late'}")
        elif verdict["timer"] == REPAIR_RETURN:
            fx.inc(month_bucket(at), f"{v}.{'on_time' if met else 'late'}")
    closed = next((_dt(h["at"]) for h in history if h["status"] == "closed"), None)
    if closed is not None:
        fx.inc(month_bucket(closed), "repairs.closed")
    if sent is not None and returned is None:
        fx.inc(STATE, f"at_vendor.{enc(vendor)}")
    return fx


def _subtract(after: Effects, before: Effects) -> Effects:
    out = Effects()
    for bucket in {*after.incs, *before.incs}:
        a, b = after.incs.get(bucket, {}), before.incs.get(bucket, {})
        for path in {*a, *b}:
            delta = a.get(path, 0) - b.get(path, 0)
            if delta:
                out.inc(bucket, path, delta)
    return out


def _on_repair(doc: Document, ev: RepairUpdatedV1, e: Envelope, fx: Effects) -> None:
    at = ev.updated_at
    before = _repair_contribution(doc)
    history = [*doc.get("history", []), {"status": ev.status, "at": at, "note": ev.note, "vendor": ev.vendor,
                                         "n": len(doc.get("history", []))}]
    history.sort(key=lambda h: (_dt(h["at"]) or at, h.get("n", 0)))
    doc["history"] = history[-60:]
    latest = history[-1]
    vendor = next((h["vendor"] for h in reversed(history) if h.get("vendor")), None)
    doc.update(repair_id=ev.repair_id, asset_tag=ev.asset_tag, vendor=vendor, status=latest["status"])
    if ev.ticket_id:
        doc["ticket_id"] = ev.ticket_id
    doc["opened_at"] = _dt(history[0]["at"])
    doc["sent_at"] = next((_dt(h["at"]) for h in history if h["status"] in AT_VENDOR), None)
    doc["returned_at"] = next((_dt(h["at"]) for h in history if h["status"] in BACK and doc["sent_at"] and (_dt(h["at"]) or at) >= doc["sent_at"]), None)
    doc["closed_at"] = next((_dt(h["at"]) for h in history if h["status"] == "closed"), None)
    delta = _subtract(_repair_contribution(doc), before)
    for bucket, fields in delta.incs.items():
        for path, n in fields.items():
            fx.inc(bucket, path, n)


def _on_timer_stopped(doc: Document, ev: SlaTimerStoppedV1, e: Envelope, fx: Effects) -> None:
    """The SLA monitor's verdict on one clock cycle: counted per timer (met, missed, cancelled) in the month it
    stopped; a repair's verdicts also count for its vendor, through the repair's contribution."""
    at = ev.stopped_at
    timer, outcome = ev.timer, ev.outcome
    # "breached" is counted by sla.breached when it happens; its verdict is the cycle that missed.
    _cycle(doc, fx, timer=timer, started_at=ev.started_at)
    fx.inc(month_bucket(at), f"sla.{enc(timer)}.{'missed' if outcome == 'breached' else outcome}")
    if not ev.repair_id:
        return
    before = _repair_contribution(doc)
    cycle = f"{timer}:{e.data['started_at']}"  # as announced: the key older read models were written with
    doc["verdicts"] = {**doc.get("verdicts", {}), enc(cycle): {"timer": timer, "outcome": outcome, "at": at}}
    delta = _subtract(_repair_contribution(doc), before)
    for bucket, fields in delta.incs.items():
        for path, n in fields.items():
            fx.inc(bucket, path, n)


def _on_problem(kind: str) -> Handler:
    def handle(doc: Document, ev: ProblemCreatedV1 | ProblemKnownErrorV1 | ProblemResolvedV1, e: Envelope, fx: Effects) -> None:
        if isinstance(ev, ProblemCreatedV1):
            at = ev.created_at
        elif isinstance(ev, ProblemKnownErrorV1):
            at = ev.at
        else:
            at = ev.resolved_at
        bucket = month_bucket(at)
        fx.inc(bucket, f"problems.{kind}")
        doc.update(number=ev.number, title=ev.title, service_code=ev.service_code)
        if isinstance(ev, ProblemCreatedV1):
            fx.inc(bucket, "problems.linked_incidents", len(ev.incident_ids))
        if isinstance(ev, ProblemResolvedV1):
            fx.inc(bucket, "problems.incident_count", ev.incident_count)
            fx.inc(bucket, "problems.recurrence_count", ev.recurrence_count)
    return handle


def _finding_text(finding: Any) -> str:
    if isinstance(finding, dict):
        severity = finding.get("severity")
        return f"{finding.get('text', '')}" + (f" ({severity})" if severity and severity != "ok" else "")
    return str(finding)


def _on_inspection(doc: Document, ev: InspectionRecordedV1, e: Envelope, fx: Effects) -> None:
    at = ev.performed_at
    month = periods.month_key(at)
    findings = [f.model_dump() for f in ev.findings]
    result = "needs_work" if ev.needs_work else "ok"
    fx.inc(f"m:{month}", "inspections.total")
    fx.inc(f"m:{month}", f"inspections.result.{result}")
    fx.inc(f"m:{month}", f"inspections.kind.{enc(ev.kind)}")
    fx.inc(f"m:{month}", "inspections.findings", sum(1 for f in findings if f.get("severity") != "ok"))
    item = {
        "inspection_id": ev.inspection_id or str(e.event_id), "asset_tag": ev.asset_tag, "kind": ev.kind,
        "site": ev.ticket.site if ev.ticket is not None else None, "inspector": ev.performed_by, "result": result,
        "findings": [_finding_text(f) for f in findings], "inspected_at": at,
    }
    doc.update(item)
    fx.appends.append((list_id(month, "inspections"), item))


def _on_spare_issued(doc: Document, ev: SpareIssuedV1, e: Envelope, fx: Effects) -> None:
    at = ev.issued_at
    fx.inc(month_bucket(at), "spares.issued", ev.quantity)
    if ev.issue_id in doc.get("reversed_issues", []):
        return  # its reversal arrived first (another consumer): counted, taken back, never listed
    doc["spares"] = [*doc.get("spares", []), {"issue_id": ev.issue_id, "part": ev.part_type, "quantity": ev.quantity,
                                               "site": ev.site, "by": ev.issued_by, "at": at}][-20:]


def _on_spare_issue_reversed(doc: Document, ev: SpareIssueReversedV1, e: Envelope, fx: Effects) -> None:
    """An issue taken back is no consumption: the issue's month loses its quantity (whichever of the two events
    arrives first, the sum comes out right) and the ticket no longer lists the part."""
    fx.inc(month_bucket(ev.issued_at), "spares.issued", -ev.quantity)
    fx.inc(month_bucket(ev.reversed_at), "spares.reversed", ev.quantity)
    doc["reversed_issues"] = [*doc.get("reversed_issues", []), ev.issue_id][-SEEN_KEEP:]
    doc["spares"] = [s for s in doc.get("spares", []) if s.get("issue_id") != ev.issue_id]


def asset_step(doc: Document | None, *, ticket_id: str, reported_at: datetime) -> tuple[Document, list[datetime]] | None:
    """Add an incident to its asset's history. An incident is a repeat when the asset had another one in the 90 days
    before it; returns the report times of the incidents that became repeats now (this one, or a later one that
    arrived first), so each repeat is counted once whatever the arrival order."""
    current: Document = dict(doc or {})
    tickets = [dict(t) for t in current.get("tickets", [])]
    if any(t["id"] == ticket_id for t in tickets):
        return None
    window = REPEAT_WINDOW_DAYS * 86400

    def within(earlier: datetime, later: datetime) -> bool:
        return 0 < (later - earlier).total_seconds() <= window

    new = {"id": ticket_id, "at": reported_at, "repeat": any(within(_dt(t["at"]) or reported_at, reported_at) for t in tickets)}
    repeats = [reported_at] if new["repeat"] else []
    for t in tickets:
        at = _dt(t["at"]) or reported_at
        if not t.get("repeat") and within(reported_at, at):
            t["repeat"] = True
            repeats.append(at)
    tickets.append(new)
    tickets.sort(key=lambda t: _dt(t["at"]) or reported_at)
    current["tickets"] = tickets[-SEEN_KEEP:]
    current["incidents"] = int(current.get("incidents", 0)) + 1
    return current, repeats


# One handler per contract model: the event arrives typed (projection.typed), never as a dictionary read by name.
Handler = Callable[[Document, Any, Envelope, Effects], None]
_HANDLERS: dict[type[EventData], Handler] = {
    TicketCreatedV1: _on_created,
    TicketAssignedV1: _on_assigned,
    TicketReassignedV1: _on_reassigned,
    TicketStatusChangedV1: _on_status,
    TicketResolvedV1: _on_resolved,
    TicketClosedV1: _on_closed,
    TicketReopenedV1: _on_reopened,
    TicketDispatchRequestedV1: _on_dispatch_requested,
    AssignmentAcceptedV1: _on_accepted,
    AssignmentConfirmedV1: _on_confirmed,
    AssignmentDelayedV1: _on_delayed,
    AssignmentCompletedV1: _on_completed,
    AssignmentReviewedV1: _on_reviewed,
    SlaBreachedV1: _on_sla_breached,
    SlaWarningV1: _on_sla_warning,
    SlaTimerStoppedV1: _on_timer_stopped,
    SlaTimerStartedV1: _on_sla_timer_started,
    EscalationRaisedV1: _on_escalation,
    RepairUpdatedV1: _on_repair,
    ProblemCreatedV1: _on_problem("created"),
    ProblemKnownErrorV1: _on_problem("known_error"),
    ProblemResolvedV1: _on_problem("resolved"),
    InspectionRecordedV1: _on_inspection,
    SpareIssuedV1: _on_spare_issued,
    SpareIssueReversedV1: _on_spare_issue_reversed,
}
PROJECTED = tuple(model.event_type for model in _HANDLERS)
