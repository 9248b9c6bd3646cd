"""A synthetic month of events with its known answers, for tests, the benchmark and demos.

Every figure the reports show is computed here straight from the parameters that generated the events (plain lists
and exact nearest-rank percentiles), independently of the projection, so a test can compare the two.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    Envelope,
    EscalationRaisedV1,
    EventData,
    RepairUpdatedV1,
    Requester,
    SlaBreachedV1,
    SlaTimerStartedV1,
    SlaTimerStoppedV1,
    SlaWarningV1,
    TicketAssignedV1,
    TicketClosedV1,
    TicketCreatedV1,
    TicketReopenedV1,
    TicketResolvedV1,
)

from .periods import TZ

SERVICES = ("RS-PRINT", "RS-PC", "RS-NET", "SEC-AV", "RS-REPAIR")
CHANNELS = ("hotline", "email", "web", "walk_in")
PRIORITIES = ("P1", "P2", "P3", "P3", "P4")
DEPARTMENTS = ("办公室", "财务处", "信息中心", "登记注册处", "法规处", "市场监管处")
ENGINEERS = (("eng-1", "李华"), ("eng-2", "张伟"), ("eng-3", "陈静"), ("eng-4", "刘洋"))
VENDORS = ("惠普", "联想")
_NS = uuid.UUID("6c1f4e0a-2b7d-4d7e-9a51-0c9b3e1d2f11")


def nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


@dataclass
class Month:
    """The events in publication order and the answers a correct projection gives for `period`."""

    period: str
    events: list[Envelope] = field(default_factory=list)
    expected: dict[str, Any] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)


def _wrap(data: EventData, subject: str, n: int, at: datetime, producer: str = "test") -> Envelope:
    return Envelope.wrap(data, producer=producer, correlation_id=f"c-{subject}", subject_id=subject, occurred_at=at,
                         event_id=uuid.uuid5(_NS, f"{subject}:{n}:{data.event_type}"))


def generate(*, tickets: int = 200, year: int = 2026, month: int = 11, seed_text: str = "m") -> Month:
    start = datetime(year, month, 1, tzinfo=TZ)
    hours = (datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TZ) - start).total_seconds() / 3600
    step = timedelta(hours=(hours - 30) / tickets)  # every ticket, and its resolution, inside the month
    m = Month(period=f"{year:04d}-{month:02d}")
    ev = m.events
    d: dict[str, list[float]] = {"first_response": [], "dispatch": [], "confirmation": [], "resolution": []}
    by: dict[str, dict[str, int]] = {k: {} for k in ("service", "channel", "priority", "department")}
    engineers: dict[str, dict[str, int]] = {}
    assets_seen: dict[str, datetime] = {}
    assets: dict[str, int] = {}
    repeat = desk = resolved = 0
    sat: list[int] = []
    breaches: list[str] = []
    warnings = 0
    majors = 0
    for i in range(tickets):
        tid = str(uuid.uuid5(_NS, f"{seed_text}:{i}"))
        number = f"INC-{year}-{i + 1:06d}"
        reported = start + i * step
        logged = reported + timedelta(minutes=2)
        service, channel = SERVICES[i % len(SERVICES)], CHANNELS[i % len(CHANNELS)]
        priority, dept = PRIORITIES[i % len(PRIORITIES)], DEPARTMENTS[i % len(DEPARTMENTS)]
        tag = f"GZ-{year}-{i % 37:06d}" if i % 3 else None
        major = i == 7
        majors += major
        for dim, value in (("service", service), ("channel", channel), ("priority", priority), ("department", dept)):
            by[dim][value] = by[dim].get(value, 0) + 1
        if tag:
            assets[tag] = assets.get(tag, 0) + 1
            if tag in assets_seen and (reported - assets_seen[tag]) <= timedelta(days=90):
                repeat += 1
            assets_seen[tag] = reported
        ev.append(_wrap(TicketCreatedV1(
            ticket_id=tid, number=number, title=f"故障 {i}", channel=channel, service_code=service, priority=priority,  # type: ignore[arg-type]
            requester=Requester(name=f"用户{i}", department=dept, phone="020-8888"), asset_tag=tag, reported_at=reported,
            major_incident=major, description="打印机无法打印"), tid, 0, logged, "intake"))
        at_desk = i % 10 < 4
        if at_desk:
            solved = reported + timedelta(minutes=5 + i % 5)
            d["first_response"].append((solved - reported).total_seconds())
        else:
            eng_id, eng_name = ENGINEERS[i % len(ENGINEERS)]
            assigned = reported + timedelta(minutes=3 + i % 20)
            accepted = assigned + timedelta(minutes=1 + i % 5)
            confirmed = assigned + timedelta(minutes=10 + i % 30)
            solved = reported + timedelta(minutes=60 + 7 * i % 900)
            # The engineer's acceptance is the first response: the automatic assignment is no one's act.
            d["first_response"].append((accepted - reported).total_seconds())
            d["dispatch"].append((assigned - logged).total_seconds())
            d["confirmation"].append((confirmed - assigned).total_seconds())
            e = engineers.setdefault(eng_id, {"assigned": 0, "completed": 0, "resolved": 0})
            e["assigned"] += 1
            e["completed"] += 1
            e["resolved"] += 1
            ev.append(_wrap(TicketAssignedV1(ticket_id=tid, assignment_id=f"a-{i}", engineer_id=eng_id, engineer_name=eng_name,
                                             reason="nearest", assigned_at=assigned), tid, 1, assigned, "dispatch"))
            ev.append(_wrap(AssignmentAcceptedV1(ticket_id=tid, assignment_id=f"a-{i}", engineer_id=eng_id, accepted_at=accepted),
                            tid, 4, accepted, "dispatch"))
            ev.append(_wrap(AssignmentConfirmedV1(ticket_id=tid, assignment_id=f"a-{i}", engineer_id=eng_id, confirmed_at=confirmed),
                            tid, 2, confirmed, "dispatch"))
            ev.append(_wrap(AssignmentCompletedV1(ticket_id=tid, assignment_id=f"a-{i}", engineer_id=eng_id, record="更换硒鼓",
                                                  completed_at=solved - timedelta(minutes=1)), tid, 3, solved, "dispatch"))
        resolved += 1
        desk += at_desk
        d["resolution"].append((solved - reported).total_seconds())
        ev.append(_wrap(TicketResolvedV1(
            ticket_id=tid, number=number, service_code=service, priority=priority, channel=channel,  # type: ignore[arg-type]
            resolved_at_desk=at_desk, resolution="已解决", reported_at=reported, resolved_at=solved, by="desk",
            article_id="kb-1" if i % 5 == 0 else None), tid, 4, solved, "intake"))
        if i % 2 == 0:
            score = 3 + i % 3
            sat.append(score)
            ev.append(_wrap(TicketClosedV1(ticket_id=tid, number=number, service_code=service, satisfaction=score,
                                           closed_at=solved + timedelta(hours=1), by="desk"), tid, 5, solved, "intake"))
        # The SLA monitor's verdict on the response clock (it owns the clocks; reporting counts what it decides):
        # met at the first response, missed for the tickets whose response clock breached (below).
        responded = reported + timedelta(seconds=d["first_response"][-1])
        late = i % 25 == 0
        # ...announced started first (sla.timer_started): the cycle is counted once, whichever of its events comes.
        ev.append(_wrap(SlaTimerStartedV1(ticket_id=tid, timer="response", started_at=reported, due_at=reported + timedelta(hours=1),
                                          policy="response"), tid, 12, reported, "sla-monitor"))
        ev.append(_wrap(SlaTimerStoppedV1(ticket_id=tid, timer="response", outcome="breached" if late else "met", started_at=reported,
                                          due_at=reported + timedelta(hours=1),
                                          stopped_at=max(responded, reported + timedelta(hours=1, minutes=5)) if late else responded),
                        tid, 11, responded, "sla-monitor"))
        if late:
            breaches.append(tid)
            ev.append(_wrap(SlaBreachedV1(ticket_id=tid, timer="response", started_at=reported, due_at=reported + timedelta(hours=1),
                                          breached_at=reported + timedelta(hours=1), policy="response/office-hours/60"),
                            tid, 6, reported + timedelta(hours=1), "sla-monitor"))
        if i % 40 == 1:
            warnings += 1
            ev.append(_wrap(SlaWarningV1(ticket_id=tid, timer="dispatch", started_at=logged, warning_at=logged + timedelta(minutes=8),
                                         due_at=logged + timedelta(minutes=10)), tid, 7, logged, "sla-monitor"))
        if i % 60 == 3:
            ev.append(_wrap(EscalationRaisedV1(escalation_id=f"x-{i}", ticket_id=tid, engineer_id="eng-1", kind="technical",
                                               description="服务器宕机", notify=["pm"], raised_at=reported + timedelta(minutes=30)),
                            tid, 8, reported, "dispatch"))
        if i in (11, 12):
            ev.append(_wrap(TicketReopenedV1(ticket_id=tid, number=number, reason="又坏了", reopened_at=solved + timedelta(hours=2),
                                             by="desk"), tid, 9, solved, "intake"))
    # Repairs: sent on a Monday, progress notes, back after some days.
    vendor_rows: dict[str, dict[str, Any]] = {}
    monday = start + timedelta(days=(7 - start.weekday()) % 7, hours=10)
    for r in range(12):
        rid = f"R-{r}"
        vendor = VENDORS[r % 2]
        sent = monday + timedelta(days=7 * (r % 3))
        ok_gap, late_gap = timedelta(days=2), timedelta(days=7)  # 2 working days, and a 5-working-day gap
        update = sent + (late_gap if r % 4 == 0 else ok_gap)
        back = sent + timedelta(days=3 + r)
        if update >= back:
            update = sent + timedelta(days=1)
        row = vendor_rows.setdefault(vendor, {"sent": 0, "returned": 0, "turnaround": [], "ok": 0, "late": 0, "on_time": 0})
        row["sent"] += 1
        row["returned"] += 1
        row["turnaround"].append((back - sent).total_seconds())
        # The SLA monitor's verdicts on the repair clocks (sla.timer_stopped): reporting counts them, it judges
        # nothing. Here the sample plays the monitor with a rough rule of its own (gaps of 2 days met, 7 missed;
        # back within 9 days met); the report must show exactly these verdicts.
        verdicts = [("repair_progress", a, b, b - a <= timedelta(days=3)) for a, b in ((sent, update), (update, back))]
        verdicts.append(("repair_return", sent, back, back - sent <= timedelta(days=9)))
        for k, (timer, a, b, met) in enumerate(verdicts):
            if timer == "repair_progress":
                row["ok" if met else "late"] += 1
            else:
                row["on_time"] += met
            ev.append(_wrap(SlaTimerStoppedV1(ticket_id="", repair_id=rid, timer=timer, outcome="met" if met else "breached",
                                              started_at=a, due_at=None, stopped_at=b), rid, 10 + k, b, "sla-monitor"))
        for n, (status, at) in enumerate((("open", sent - timedelta(hours=1)), ("sent_to_vendor", sent), ("in_progress", update),
                                          ("returned", back))):
            ev.append(_wrap(RepairUpdatedV1(repair_id=rid, asset_tag=f"GZ-{year}-{r:06d}", status=status, vendor=vendor,  # type: ignore[arg-type]
                                            note=f"第{n}次", updated_at=at), rid, n, at, "assets"))
    # Inspections (assets' cmdb.inspection_recorded), built as plain envelopes so this works before the contract lands.
    findings_needing_work = 0
    for k in range(6):
        at = start + timedelta(days=3 + 4 * k, hours=2)
        needs = k % 3 == 0
        findings = [{"text": "风扇积尘", "severity": "ok"}] + ([{"text": "硬盘告警", "severity": "needs_work"}] if needs else [])
        findings_needing_work += needs
        ev.append(Envelope(event_id=uuid.uuid5(_NS, f"insp-{k}"), type="cmdb.inspection_recorded", version=1, occurred_at=at,
                           producer="assets", correlation_id=f"c-insp-{k}", subject_id=f"GZ-{year}-{k:06d}", data={
                               "inspection_id": f"insp-{k}", "asset_tag": f"GZ-{year}-{k:06d}", "kind": "monthly_inspection",
                               "findings": findings, "needs_work": needs, "performed_by": "李华", "performed_at": at.isoformat()}))
    m.durations = d
    top_assets = sorted(assets.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    m.expected = {
        "total": tickets, "by": by, "desk": desk, "resolved": resolved, "repeat_asset": repeat,
        "with_article": sum(1 for i in range(tickets) if i % 5 == 0), "satisfaction": sat, "breaches": len(breaches),
        "warnings": warnings, "majors": majors, "engineers": engineers, "vendors": vendor_rows, "top_assets": top_assets,
        "escalations": sum(1 for i in range(tickets) if i % 60 == 3), "reopened": 2,
        "quantiles": {k: (nearest_rank(v, 0.5), nearest_rank(v, 0.9)) for k, v in d.items()},
        "inspections": 6, "inspections_needing_work": findings_needing_work,
    }
    return m
