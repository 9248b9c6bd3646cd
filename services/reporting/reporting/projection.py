"""How each event changes the read models: pure functions of (entity document, event) -> (new document, effects).

Entities are per-ticket, per-repair, per-asset, per-problem and per-inspection documents keyed by their id. Effects
are increments to per-month bucket documents (`m:2026-11`), to the live `state` bucket (open tickets by status,
repairs at vendors), and capped lists (the month's SLA breaches, major incidents, inspections). A report reads a
month's buckets only, never the tickets. The entity remembers the events it has applied, so a redelivery changes
nothing, and an event arriving before its ticket's ticket.created still counts once both ends of a duration are known.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opsdesk_shared.contracts import Envelope

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


def entity_of(envelope: Envelope) -> tuple[str, str] | None:
    """(collection, key) of the read model an event belongs to; None for events reporting does not project."""
    data, kind = envelope.data, envelope.type
    family = kind.split(".", 1)[0]
    if family in ("ticket", "assignment", "escalation"):
        return ("tickets", str(data["ticket_id"])) if data.get("ticket_id") else None
    if kind == "sla.timer_stopped" and data.get("repair_id"):
        return "repairs", str(data["repair_id"])  # its verdict counts for the repair's vendor
    if family == "sla":
        if data.get("ticket_id"):
            return "tickets", str(data["ticket_id"])
        return ("repairs", str(data["repair_id"])) if data.get("repair_id") else None
    if kind == "repair.updated":
        return "repairs", str(data["repair_id"])
    if family == "problem":
        return ("problems", str(data["problem_id"])) if data.get("problem_id") else None
    if kind == "cmdb.inspection_recorded":
        return "inspections", str(data.get("inspection_id") or envelope.event_id)
    if kind in ("cmdb.spare_issued", "cmdb.spare_issue_reversed"):
        return ("tickets", str(data["ticket_id"])) if data.get("ticket_id") else None
    return None


# ----------------------------------------------------------------------------------------------------- decide


def apply(doc: Document | None, envelope: Envelope) -> tuple[Document, Effects] | None:
    """The entity after the event and what it adds to the aggregates; None when the entity has seen it already."""
    event_id = str(envelope.event_id)
    current: Document = dict(doc or {})
    if event_id in current.get("seen", []):
        return None
    fx = Effects()
    handler = _HANDLERS.get(envelope.type)
    if handler is not None:
        handler(current, envelope, fx)
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


def _on_created(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    if doc.get("created"):
        return
    requester = d.get("requester") or {}
    reported = _dt(d["reported_at"])
    assert reported is not None
    doc.update(
        created=True, number=d.get("number"), title=d.get("title"), channel=d.get("channel"),
        service_code=d.get("service_code"), priority=d.get("priority", "P3"), ticket_type=d.get("ticket_type", "incident"),
        department=requester.get("department"), requester=requester.get("name"), phone=requester.get("phone"),
        requester_id=d.get("requester_id"),
        asset_tag=d.get("asset_tag"), site=d.get("site"), description=d.get("description"),
        major=bool(d.get("major_incident")), reported_at=reported, created_at=e.occurred_at,
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
        fx.appends.append((list_id(periods.month_key(reported), "majors"), {"ticket_id": d["ticket_id"], "number": d.get("number"), "title": d.get("title"), "reported_at": reported}))
    fx.inc(bucket, "sla.response.started")
    fx.inc(bucket, "sla.dispatch.started")
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
    fx.inc(bucket, "sla.confirmation.started")
    # The latest assignment by time names who holds the ticket (and who may read its forms), whatever the arrival order.
    latest = _dt(doc.get("last_assigned_at"))
    if latest is None or at >= latest:
        doc.update(engineer_id=engineer_id, engineer_name=name, last_assigned_at=at)
    _engineer_resolved(doc, fx)
    doc["assignments"] = [*doc.get("assignments", []), {"assignment_id": assignment_id, "engineer_id": engineer_id, "engineer_name": name, "at": at, "by": by}][-20:]


def _on_assigned(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d["assigned_at"])
    assert at is not None
    fx.inc(month_bucket(at), "assigned.total")
    _assigned(doc, fx, engineer_id=d["engineer_id"], name=d.get("engineer_name", ""), at=at, assignment_id=d.get("assignment_id", ""), by="dispatch")
    if not doc.get("assigned_at"):
        doc["assigned_at"] = at
        if doc.get("created_at") and not doc.get("obs_dispatch"):
            doc["obs_dispatch"] = True
            fx.duration(at, "dispatch", _seconds(doc["created_at"], at))
        if doc.get("confirmed_at") and not doc.get("obs_confirmation"):
            doc["obs_confirmation"] = True
            fx.duration(_dt(doc["confirmed_at"]) or at, "confirmation", _seconds(at, doc["confirmed_at"]))


def _on_reassigned(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d["reassigned_at"])
    assert at is not None
    bucket = month_bucket(at)
    fx.inc(bucket, "reassigned.total")
    fx.inc(bucket, f"reassigned.by.{'dispatch' if d.get('by') == 'dispatch' else 'desk'}")
    _assigned(doc, fx, engineer_id=d["engineer_id"], name=d.get("engineer_name", ""), at=at, assignment_id=d.get("assignment_id", ""), by=str(d.get("by")))


def _assignment_step(name: str, at_field: str) -> Any:
    def handle(doc: Document, e: Envelope, fx: Effects) -> None:
        d = e.data
        at = _dt(d[at_field])
        assert at is not None
        bucket = month_bucket(at)
        fx.inc(bucket, f"assignment.{name}")
        engineer = enc(d.get("engineer_id"))
        if name == "confirmed" and not doc.get("confirmed_at"):
            doc["confirmed_at"] = at
            if doc.get("assigned_at") and not doc.get("obs_confirmation"):
                doc["obs_confirmation"] = True
                fx.duration(at, "confirmation", _seconds(doc["assigned_at"], at))
        elif name == "accepted":
            doc.setdefault("accepted_at", at)
            _first_response(doc, fx, at)  # the engineer's acceptance is the first human act after an automatic assignment
        elif name == "delayed":
            fx.inc(bucket, f"engineer.{engineer}.delayed")
            fx.inc(bucket, "sla.redispatch.started")
        elif name == "completed":
            fx.inc(bucket, f"engineer.{engineer}.completed")
            doc["completed_at"] = at
            doc["record"] = d.get("record")
        elif name == "reviewed":
            fx.inc(bucket, f"assignment.reviewed_{'approved' if d.get('approved') else 'returned'}")
    return handle


def _on_status(doc: Document, e: Envelope, fx: Effects) -> None:
    _status(doc, e.data["new_status"], _dt(e.data["changed_at"]) or e.occurred_at, fx)
    doc.setdefault("number", e.data.get("number"))
    doc.setdefault("service_code", e.data.get("service_code"))


def _on_resolved(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d["resolved_at"])
    assert at is not None
    bucket = month_bucket(at)
    desk = bool(d.get("resolved_at_desk"))
    fx.inc(bucket, "resolved.total")
    fx.inc(bucket, f"resolved.service.{enc(d.get('service_code'))}")
    if desk:
        fx.inc(bucket, "resolved.desk")
    if d.get("article_id"):
        fx.inc(bucket, "resolved.with_article")
    fx.duration(at, "resolution", _seconds(d["reported_at"], at))
    doc["resolved_at"], doc["resolved_at_desk"] = at, desk
    _engineer_resolved(doc, fx)
    doc.setdefault("reported_at", _dt(d["reported_at"]))
    _first_response(doc, fx, at)  # a resolution (at the desk, or by an engineer who never accepted) is a response
    doc.update(resolved_at=at, resolved_at_desk=desk, resolution=d.get("resolution"), resolved_by=d.get("by"))
    for key in ("number", "service_code", "priority", "channel", "department", "asset_tag"):
        if doc.get(key) is None and d.get(key) is not None:
            doc[key] = d[key]


def _on_dispatch_requested(doc: Document, e: Envelope, fx: Effects) -> None:
    """A desk-first ticket leaves the desk: an agent sending it on is a human act; a guidance window that ran out is not."""
    d = e.data
    if d.get("reason") == "desk":
        at = _dt(d.get("requested_at")) or e.occurred_at
        _first_response(doc, fx, at)


def _engineer_resolved(doc: Document, fx: Effects) -> None:
    """Credit the resolution to the engineer once both the assignment and the resolution are known."""
    if doc.get("engineer_id") and doc.get("resolved_at") and not doc.get("resolved_at_desk") and not doc.get("obs_engineer_resolved"):
        doc["obs_engineer_resolved"] = True
        fx.inc(month_bucket(_dt(doc["resolved_at"]) or datetime.now(UTC)), f"engineer.{enc(doc['engineer_id'])}.resolved")


def _on_closed(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d["closed_at"])
    assert at is not None
    bucket = month_bucket(at)
    fx.inc(bucket, "closed.total")
    score = d.get("satisfaction")
    if score is not None:
        fx.inc(bucket, "satisfaction.n")
        fx.inc(bucket, "satisfaction.sum", float(score))
        fx.inc(bucket, f"satisfaction.score.{int(score)}")
    doc.update(closed_at=at, satisfaction=score, satisfaction_comment=d.get("satisfaction_comment"))


def _on_reopened(doc: Document, e: Envelope, fx: Effects) -> None:
    at = _dt(e.data["reopened_at"])
    assert at is not None
    fx.inc(month_bucket(at), "reopened.total")
    doc["reopened"] = int(doc.get("reopened", 0)) + 1


def _on_sla(kind: str) -> Any:
    def handle(doc: Document, e: Envelope, fx: Effects) -> None:
        d = e.data
        timer = str(d.get("timer"))
        at = _dt(d["breached_at"] if kind == "breached" else d["warning_at"])
        assert at is not None
        month = periods.month_key(at)
        fx.inc(f"m:{month}", f"sla.{enc(timer)}.{kind}")
        if kind == "breached":
            doc["breaches"] = [*doc.get("breaches", []), timer][-20:]
            fx.appends.append((list_id(month, "breaches"), {
                "ticket_id": d.get("ticket_id") or None, "repair_id": d.get("repair_id"), "number": doc.get("number"),
                "timer": timer, "policy": d.get("policy"), "due_at": _dt(d["due_at"]), "breached_at": at,
            }))
    return handle


def _on_escalation(doc: Document, e: Envelope, fx: Effects) -> None:
    at = _dt(e.data["raised_at"])
    assert at is not None
    bucket = month_bucket(at)
    fx.inc(bucket, "escalations.total")
    fx.inc(bucket, f"escalations.kind.{enc(e.data.get('kind'))}")
    fx.inc(bucket, "sla.escalation.started")
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
            fx.inc(month_bucket(at), "sla.repair_progress.started")
            fx.inc(month_bucket(at), "sla.repair_return.started")
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


def _on_repair(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d["updated_at"])
    assert at is not None
    before = _repair_contribution(doc)
    history = [*doc.get("history", []), {"status": d["status"], "at": at, "note": d.get("note"), "vendor": d.get("vendor"),
                                         "n": len(doc.get("history", []))}]
    history.sort(key=lambda h: (_dt(h["at"]) or at, h.get("n", 0)))
    doc["history"] = history[-60:]
    latest = history[-1]
    vendor = next((h["vendor"] for h in reversed(history) if h.get("vendor")), None)
    doc.update(repair_id=d["repair_id"], asset_tag=d.get("asset_tag"), vendor=vendor, status=latest["status"])
    if d.get("ticket_id"):
        doc["ticket_id"] = d["ticket_id"]
    doc["opened_at"] = _dt(history[0]["at"])
    doc["sent_at"] = next((_dt(h["at"]) for h in history if h["status"] in AT_VENDOR), None)
    doc["returned_at"] = next((_dt(h["at"]) for h in history if h["status"] in BACK and doc["sent_at"] and (_dt(h["at"]) or at) >= doc["sent_at"]), None)
    doc["closed_at"] = next((_dt(h["at"]) for h in history if h["status"] == "closed"), None)
    delta = _subtract(_repair_contribution(doc), before)
    for bucket, fields in delta.incs.items():
        for path, n in fields.items():
            fx.inc(bucket, path, n)


def _on_timer_stopped(doc: Document, e: Envelope, fx: Effects) -> None:
    """The SLA monitor's verdict on one clock cycle: counted per timer (met, missed, cancelled) in the month it
    stopped; a repair's verdicts also count for its vendor, through the repair's contribution."""
    d = e.data
    at = _dt(d["stopped_at"])
    assert at is not None
    timer, outcome = str(d["timer"]), str(d["outcome"])
    # "breached" is counted by sla.breached when it happens; its verdict is the cycle that missed.
    fx.inc(month_bucket(at), f"sla.{enc(timer)}.{'missed' if outcome == 'breached' else outcome}")
    if not d.get("repair_id"):
        return
    before = _repair_contribution(doc)
    cycle = f"{timer}:{d['started_at']}"
    doc["verdicts"] = {**doc.get("verdicts", {}), enc(cycle): {"timer": timer, "outcome": outcome, "at": at}}
    delta = _subtract(_repair_contribution(doc), before)
    for bucket, fields in delta.incs.items():
        for path, n in fields.items():
            fx.inc(bucket, path, n)


def _on_problem(kind: str) -> Any:
    def handle(doc: Document, e: Envelope, fx: Effects) -> None:
        d = e.data
        at = _dt(d.get("created_at") or d.get("at") or d.get("resolved_at") or e.occurred_at)
        assert at is not None
        bucket = month_bucket(at)
        fx.inc(bucket, f"problems.{kind}")
        doc.update(number=d.get("number"), title=d.get("title"), service_code=d.get("service_code"))
        if kind == "created":
            fx.inc(bucket, "problems.linked_incidents", len(d.get("incident_ids") or []))
        if kind == "resolved":
            fx.inc(bucket, "problems.incident_count", int(d.get("incident_count") or 0))
            fx.inc(bucket, "problems.recurrence_count", int(d.get("recurrence_count") or 0))
    return handle


def _finding_text(finding: Any) -> str:
    if isinstance(finding, dict):
        severity = finding.get("severity")
        return f"{finding.get('text', '')}" + (f" ({severity})" if severity and severity != "ok" else "")
    return str(finding)


def _on_inspection(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d.get("performed_at") or d.get("inspected_at") or e.occurred_at)
    assert at is not None
    month = periods.month_key(at)
    findings = d.get("findings") or []
    result = "needs_work" if d.get("needs_work") else "ok"
    fx.inc(f"m:{month}", "inspections.total")
    fx.inc(f"m:{month}", f"inspections.result.{result}")
    fx.inc(f"m:{month}", f"inspections.kind.{enc(d.get('kind'))}")
    fx.inc(f"m:{month}", "inspections.findings", sum(1 for f in findings if not isinstance(f, dict) or f.get("severity") != "ok"))
    item = {
        "inspection_id": d.get("inspection_id") or str(e.event_id), "asset_tag": d.get("asset_tag"), "kind": d.get("kind"),
        "site": (d.get("ticket") or {}).get("site"), "inspector": d.get("performed_by"), "result": result,
        "findings": [_finding_text(f) for f in findings], "inspected_at": at,
    }
    doc.update(item)
    fx.appends.append((list_id(month, "inspections"), item))


def _on_spare_issued(doc: Document, e: Envelope, fx: Effects) -> None:
    d = e.data
    at = _dt(d.get("issued_at") or e.occurred_at)
    assert at is not None
    fx.inc(month_bucket(at), "spares.issued", int(d.get("quantity") or 1))
    if d.get("issue_id") in doc.get("reversed_issues", []):
        return  # its reversal arrived first (another consumer): counted, taken back, never listed
    doc["spares"] = [*doc.get("spares", []), {"issue_id": d.get("issue_id"), "part": d.get("part_type"), "quantity": d.get("quantity"),
                                               "site": d.get("site"), "by": d.get("issued_by"), "at": at}][-20:]


def _on_spare_issue_reversed(doc: Document, e: Envelope, fx: Effects) -> None:
    """An issue taken back is no consumption: the issue's month loses its quantity (whichever of the two events
    arrives first, the sum comes out right) and the ticket no longer lists the part."""
    d = e.data
    issued = _dt(d["issued_at"])
    at = _dt(d.get("reversed_at") or e.occurred_at)
    assert issued is not None and at is not None
    quantity = int(d.get("quantity") or 1)
    fx.inc(month_bucket(issued), "spares.issued", -quantity)
    fx.inc(month_bucket(at), "spares.reversed", quantity)
    doc["reversed_issues"] = [*doc.get("reversed_issues", []), d["issue_id"]][-SEEN_KEEP:]
    doc["spares"] = [s for s in doc.get("spares", []) if s.get("issue_id") != d["issue_id"]]


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


_HANDLERS: dict[str, Any] = {
    "ticket.created": _on_created,
    "ticket.assigned": _on_assigned,
    "ticket.reassigned": _on_reassigned,
    "ticket.status_changed": _on_status,
    "ticket.resolved": _on_resolved,
    "ticket.closed": _on_closed,
    "ticket.reopened": _on_reopened,
    "assignment.accepted": _assignment_step("accepted", "accepted_at"),
    "assignment.confirmed": _assignment_step("confirmed", "confirmed_at"),
    "assignment.delayed": _assignment_step("delayed", "delayed_at"),
    "assignment.completed": _assignment_step("completed", "completed_at"),
    "assignment.reviewed": _assignment_step("reviewed", "reviewed_at"),
    "sla.breached": _on_sla("breached"),
    "sla.warning": _on_sla("warned"),
    "sla.timer_stopped": _on_timer_stopped,
    "escalation.raised": _on_escalation,
    "repair.updated": _on_repair,
    "problem.created": _on_problem("created"),
    "problem.known_error": _on_problem("known_error"),
    "problem.resolved": _on_problem("resolved"),
    "cmdb.inspection_recorded": _on_inspection,
    "cmdb.spare_issued": _on_spare_issued,
    "cmdb.spare_issue_reversed": _on_spare_issue_reversed,
    # Sent on by the desk (desk-first tickets): by name, as the contract is newer than some producers.
    "ticket.dispatch_requested": _on_dispatch_requested,
}
PROJECTED = tuple(_HANDLERS)
