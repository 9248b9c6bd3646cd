"""A period's figures from its month buckets: merged, never from the tickets themselves."""

from __future__ import annotations

from typing import Any

from . import periods, sketch
from .ports import ReadModels
from .projection import ASSET_SHARDS, TIMERS, dec, enc

Document = dict[str, Any]
DESK_TARGET = (0.30, 0.50)
SLA_TIMERS = (
    "response", "dispatch", "remote_guidance", "confirmation", "redispatch", "escalation", "repair_progress", "repair_return",
)
TOP = 10


def merge(into: Document, doc: Document) -> Document:
    """Add numbers field by field (nested); other values (names) are taken from the later month."""
    for key, value in doc.items():
        if key == "_id":
            continue
        if isinstance(value, dict):
            merge(into.setdefault(key, {}), value)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value
        else:
            into[key] = value
    return into


async def gather(models: ReadModels, period: str) -> Document:
    """Everything a report of `period` needs: the merged month buckets, asset shards and capped lists."""
    months = periods.months_of(period)
    main: Document = {}
    assets: Document = {}
    lists: dict[str, list[Document]] = {"breaches": [], "majors": [], "inspections": []}
    for month in months:
        merge(main, await models.bucket(f"m:{month}") or {})
        for shard in range(ASSET_SHARDS):
            merge(assets, await models.bucket(f"m:{month}:asset:{shard:02d}") or {})
        for name in lists:
            lists[name].extend(await models.items(f"m:{month}:{name}"))
    # A breach seen before its ticket.created has no number yet: look those few up by id.
    for item in lists["breaches"]:
        if not item.get("number") and item.get("ticket_id"):
            ticket = await models.entity("tickets", str(item["ticket_id"]))
            item["number"] = (ticket or {}).get("number")
    return {"period": period, "main": main, "assets": assets, **lists}


def _ranked(counts: Document | None, *, top: int | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"key": dec(k), "count": int(v)} for k, v in (counts or {}).items() if v]
    rows.sort(key=lambda r: (-int(r["count"]), str(r["key"])))
    return rows[:top] if top else rows


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def _times(group: Document, name: str) -> dict[str, Any]:
    entry = group.get(name) or {}
    hist = {str(k): float(v) for k, v in (entry.get("h") or {}).items()}
    n = sketch.count(hist)
    return {
        "count": n,
        "median_s": _round(sketch.quantile(hist, 0.5)),
        "p90_s": _round(sketch.quantile(hist, 0.9)),
        "mean_s": _round(entry.get("sum", 0) / n) if n else None,
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def compute(data: Document) -> Document:
    """The figures every report draws from, as plain JSON."""
    m: Document = data["main"]
    created = m.get("created", {})
    resolved = m.get("resolved", {})
    total = int(created.get("total", 0))
    resolved_total = int(resolved.get("total", 0))
    desk = int(resolved.get("desk", 0))
    share = _ratio(desk, resolved_total)
    sla = m.get("sla", {})
    sla_rows = []
    for timer in sorted(set(SLA_TIMERS) | {dec(t) for t in sla}):
        entry = sla.get(enc(timer), {}) or {}
        started, breached = int(entry.get("started", 0)), int(entry.get("breached", 0))
        met, missed, cancelled = (int(entry.get(k, 0)) for k in ("met", "missed", "cancelled"))
        if not (started or breached or entry.get("warned") or met or missed or cancelled):
            continue
        # Compliance is the SLA monitor's verdicts (sla.timer_stopped): cycles met of those decided. A breach with no
        # verdict yet is a cycle missed (0%); with nothing decided there is no rate (None, shown as "—"), never 100%.
        # A cancelled cycle (the ticket was cancelled, or a desk resolution made dispatch unnecessary) counts neither.
        decided = met + missed
        sla_rows.append({
            "timer": timer, "started": started, "warned": int(entry.get("warned", 0)), "breached": breached,
            "met": met, "missed": missed, "cancelled": cancelled,
            "compliance": _ratio(met, decided) if decided else (0.0 if breached else None),
        })
    vendors = []
    turnaround = m.get("turnaround", {})
    for name, v in sorted((m.get("vendor") or {}).items()):
        updates = int(v.get("updates_ok", 0)) + int(v.get("updates_late", 0))
        times = _times(turnaround, name)
        vendors.append({
            "vendor": dec(name) or "-", "sent": int(v.get("sent", 0)), "returned": int(v.get("returned", 0)),
            "on_time": int(v.get("on_time", 0)), "late": int(v.get("late", 0)),
            "on_time_share": _ratio(v.get("on_time", 0), v.get("returned", 0)),
            "updates_ok": int(v.get("updates_ok", 0)), "updates_late": int(v.get("updates_late", 0)),
            "update_compliance": _ratio(v.get("updates_ok", 0), updates),
            "turnaround_median_s": times["median_s"], "turnaround_p90_s": times["p90_s"],
        })
    names = m.get("engineer_names", {})
    engineers = [
        {"engineer_id": dec(k), "name": names.get(k, ""), "assigned": int(v.get("assigned", 0)),
         "completed": int(v.get("completed", 0)), "resolved": int(v.get("resolved", 0)), "delayed": int(v.get("delayed", 0))}
        for k, v in (m.get("engineer") or {}).items()
    ]
    engineers.sort(key=lambda r: (-r["assigned"], r["engineer_id"]))
    sat = m.get("satisfaction", {})
    problems = m.get("problems", {})
    # Lists are kept in arrival order; sort them so the figures do not depend on it.
    breaches = sorted(data["breaches"], key=lambda b: (str(b.get("breached_at")), str(b.get("ticket_id") or b.get("repair_id"))))
    majors = sorted(data["majors"], key=lambda x: (str(x.get("reported_at")), str(x.get("ticket_id"))))
    inspection_list = sorted(data["inspections"], key=lambda x: (str(x.get("inspected_at")), str(x.get("inspection_id"))))
    inspections = m.get("inspections", {})
    return {
        "period": data["period"],
        "volumes": {
            "total": total,
            **{f"by_{dim}": _ranked(created.get(dim)) for dim in ("service", "channel", "priority", "department", "type")},
        },
        "times": {name: _times(m.get("dur", {}), name) for name in TIMERS},
        "sla": sla_rows,
        "breaches_total": sum(r["breached"] for r in sla_rows),
        "breaches": [{k: _jsonable(v) for k, v in b.items()} for b in breaches],
        "desk": {"resolved": resolved_total, "at_desk": desk, "share": share, "target": list(DESK_TARGET),
                 "within_target": share is not None and DESK_TARGET[0] <= share <= DESK_TARGET[1]},
        "recurrence": {
            "repeat_asset": int(created.get("repeat_asset", 0)), "repeat_share": _ratio(created.get("repeat_asset", 0), total),
            "with_article": int(resolved.get("with_article", 0)), "article_share": _ratio(resolved.get("with_article", 0), resolved_total),
            "problems_created": int(problems.get("created", 0)), "problems_known_error": int(problems.get("known_error", 0)),
            "problems_resolved": int(problems.get("resolved", 0)), "linked_incidents": int(problems.get("linked_incidents", 0)),
            "problem_recurrence_share": _ratio(problems.get("recurrence_count", 0), problems.get("incident_count", 0)),
        },
        "repairs": {"opened": int(m.get("repairs", {}).get("opened", 0)), "sent": int(m.get("repairs", {}).get("sent", 0)),
                    "closed": int(m.get("repairs", {}).get("closed", 0)), "vendors": vendors},
        "top_assets": _ranked(data["assets"], top=TOP),
        "top_departments": _ranked(created.get("department"), top=TOP),
        "engineers": engineers,
        "satisfaction": {"responses": int(sat.get("n", 0)), "mean": _ratio(sat.get("sum", 0), sat.get("n", 0)),
                         "by_score": {str(s): int((sat.get("score") or {}).get(str(s), 0)) for s in range(1, 6)}},
        "escalations": {"total": int(m.get("escalations", {}).get("total", 0)), "by_kind": _ranked(m.get("escalations", {}).get("kind"))},
        "majors": {"total": int(m.get("major", {}).get("total", 0)), "list": [{k: _jsonable(v) for k, v in x.items()} for x in majors]},
        "assignments": {"assigned": int(m.get("assigned", {}).get("total", 0)), "reassigned": int(m.get("reassigned", {}).get("total", 0)),
                        **{k: int(v) for k, v in (m.get("assignment") or {}).items()}},
        "resolved_by_service": _ranked(resolved.get("service")),
        "closed": int(m.get("closed", {}).get("total", 0)),
        "reopened": int(m.get("reopened", {}).get("total", 0)),
        "inspections": {"total": int(inspections.get("total", 0)), "by_result": _ranked(inspections.get("result")),
                        "by_kind": _ranked(inspections.get("kind")),
                        "findings": int(inspections.get("findings", 0)),
                        "list": [{k: _jsonable(v) for k, v in x.items()} for x in inspection_list]},
    }


def _jsonable(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return periods.local(value).isoformat()
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
