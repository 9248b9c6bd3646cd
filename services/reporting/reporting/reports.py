"""The contract's reports: which exist, when each is due, and what each shows (sections over the figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import periods
from .i18n import t

Document = dict[str, Any]


@dataclass(frozen=True)
class ReportKind:
    name: str
    cadence: str  # month, quarter, year or incident
    due_day: int  # day of the month after the period by which it is due (local midnight at its start)
    sections: tuple[str, ...]


ALL_SECTIONS = ("overview", "volumes", "times", "sla", "breaches", "desk", "recurrence", "repairs", "top_assets",
                "top_departments", "engineers", "satisfaction", "escalations", "majors")
KINDS: dict[str, ReportKind] = {k.name: k for k in (
    # The contract: 每月5日前完成上月《月度服務總結》; 每月10日前完成《月度維修總結》.
    ReportKind("service-summary", "month", 5, ("overview", "volumes", "times", "sla", "breaches", "desk", "recurrence",
                                               "top_assets", "top_departments", "engineers", "satisfaction")),
    ReportKind("repair-summary", "month", 10, ("repairs", "top_assets")),
    ReportKind("om-monthly", "month", 5, ALL_SECTIONS),
    ReportKind("om-quarterly", "quarter", 10, ALL_SECTIONS),
    ReportKind("om-annual", "year", 15, ALL_SECTIONS),
    ReportKind("inspection", "month", 5, ("inspections",)),
    ReportKind("quality-self-check", "month", 5, ("checks", "sla", "desk", "satisfaction")),
    ReportKind("security-analysis", "month", 5, ("escalations", "majors", "security", "breaches")),
)}
INCIDENT_KIND = ReportKind("major-incident", "incident", 0, ("timeline",))
SCHEDULED = tuple(KINDS.values())


def period_kind(period: str) -> str:
    if "Q" in period:
        return "quarter"
    return "month" if "-" in period else "year"


def check_period(kind: ReportKind, period: str) -> None:
    periods.months_of(period)  # raises ValueError when malformed
    if period_kind(period) != kind.cadence:
        raise ValueError(f"{kind.name} covers a {kind.cadence}, not {period!r}")


def due_at(kind: ReportKind, period: str) -> datetime:
    """Local midnight at the start of the due day in the month after the period ends."""
    return periods.end_of(period) + timedelta(days=kind.due_day - 1)


def report_id(kind: str, period: str, lang: str) -> str:
    return f"{kind}:{period}:{lang}"


# ------------------------------------------------------------------------------------------------------ sections


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 2)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _table(sid: str, lang: str, columns: list[str], rows: list[list[Any]], chart: Document | None = None) -> Document:
    return {"id": sid, "title": t(sid, lang), "type": "table", "columns": [t(c, lang) for c in columns], "rows": rows,
            "chart": chart}


def _ranked(sid: str, lang: str, rows: list[Document], label: str) -> Document:
    return _table(sid, lang, [label, "count"], [[r["key"] or "-", r["count"]] for r in rows])


def _checks(f: Document) -> list[tuple[str, str, bool | None]]:
    """(check, value, passed) for the monthly self-check: the contract's targets."""
    out: list[tuple[str, str, bool | None]] = []
    for row in f["sla"]:
        out.append((row["timer"], _pct(row["compliance"]), None if row["compliance"] is None else row["compliance"] >= 0.95))
    share = f["desk"]["share"]
    out.append(("desk_share", _pct(share), f["desk"]["within_target"] if share is not None else None))
    mean = f["satisfaction"]["mean"]
    out.append(("satisfaction_mean", "-" if mean is None else f"{mean:.2f}", None if mean is None else mean >= 4.0))
    for v in f["repairs"]["vendors"]:
        c = v["update_compliance"]
        out.append((f"update_compliance:{v['vendor']}", _pct(c), None if c is None else c >= 0.95))
    return out


def sections(kind: ReportKind, f: Document, lang: str, *, security_prefixes: tuple[str, ...] = ("SEC",)) -> list[Document]:
    out: list[Document] = []
    for sid in kind.sections:
        if sid == "overview":
            rows = [
                [t("total_tickets", lang), f["volumes"]["total"]],
                [t("resolved_total", lang), f["desk"]["resolved"]],
                [t("desk_share", lang), _pct(f["desk"]["share"])],
                [t("breaches_total", lang), f["breaches_total"]],
                [t("satisfaction_mean", lang), "-" if f["satisfaction"]["mean"] is None else f["satisfaction"]["mean"]],
                [t("reopened", lang), f["reopened"]],
                [t("majors", lang), f["majors"]["total"]],
            ]
            out.append(_table(sid, lang, ["item", "value"], rows))
        elif sid == "volumes":
            by_service = f["volumes"]["by_service"]
            out.append(_table("by_service", lang, ["key", "count"], [[r["key"], r["count"]] for r in by_service],
                              chart={"type": "barh", "title": t("chart_by_service", lang),
                                     "labels": [r["key"] for r in by_service[:12]], "values": [r["count"] for r in by_service[:12]]}))
            by_channel = f["volumes"]["by_channel"]
            out.append(_table("by_channel", lang, ["key", "count"], [[r["key"], r["count"]] for r in by_channel],
                              chart={"type": "pie", "title": t("chart_channel", lang),
                                     "labels": [r["key"] for r in by_channel], "values": [r["count"] for r in by_channel]}))
            for dim in ("priority", "department", "type"):
                out.append(_ranked(f"by_{dim}", lang, f["volumes"][f"by_{dim}"], "key"))
        elif sid == "times":
            rows = [[t(name, lang), v["count"], _minutes(v["median_s"]), _minutes(v["p90_s"]), _minutes(v["mean_s"])]
                    for name, v in f["times"].items()]
            out.append(_table(sid, lang, ["timer", "count", "median", "p90", "mean"], rows,
                              chart={"type": "bar", "title": t("chart_times", lang), "labels": [r[0] for r in rows],
                                     "values": [r[2] or 0 for r in rows], "values2": [r[3] or 0 for r in rows],
                                     "legend": [t("median", lang), t("p90", lang)]}))
        elif sid == "sla":
            rows = [[t(r["timer"], lang), r["started"], r["warned"], r["breached"], _pct(r["compliance"])] for r in f["sla"]]
            out.append(_table(sid, lang, ["timer", "started", "warned", "breached", "compliance"], rows,
                              chart={"type": "bar", "title": t("chart_sla", lang), "labels": [r[0] for r in rows],
                                     "values": [round((r["compliance"] or 0) * 100, 1) for r in f["sla"]], "percent": True}))
        elif sid == "breaches":
            rows = [[b.get("number") or b.get("ticket_id") or b.get("repair_id"), t(str(b["timer"]), lang), b.get("due_at"), b.get("breached_at")]
                    for b in f["breaches"]]
            out.append(_table(sid, lang, ["ticket", "timer", "due_at", "breached_at"], rows))
        elif sid == "desk":
            d = f["desk"]
            out.append(_table(sid, lang, ["item", "value"], [
                [t("resolved_total", lang), d["resolved"]], [t("at_desk", lang), d["at_desk"]],
                [t("desk_share", lang), _pct(d["share"])], [t("target", lang), "30%-50%"],
            ]))
        elif sid == "recurrence":
            r = f["recurrence"]
            out.append(_table(sid, lang, ["item", "value"], [
                [t("repeat_share", lang), _pct(r["repeat_share"])], [t("article_share", lang), _pct(r["article_share"])],
                [t("problems_created", lang), r["problems_created"]],
                [t("problem_recurrence_share", lang), _pct(r["problem_recurrence_share"])],
            ]))
        elif sid == "repairs":
            rep = f["repairs"]
            out.append(_table(sid, lang, ["item", "value"], [[t("sent", lang), rep["sent"]], [t("closed", lang), rep["closed"]]]))
            rows = [[v["vendor"], v["sent"], v["returned"], _pct(v["on_time_share"]), _pct(v["update_compliance"]),
                     _days(v["turnaround_median_s"]), _days(v["turnaround_p90_s"])] for v in rep["vendors"]]
            out.append(_table("vendors", lang, ["vendor", "sent", "returned", "on_time", "update_compliance", "turnaround_median", "turnaround_p90"], rows,
                              chart={"type": "bar", "title": t("chart_vendors", lang), "labels": [r[0] for r in rows],
                                     "values": [r[5] or 0 for r in rows], "values2": [r[6] or 0 for r in rows],
                                     "legend": [t("turnaround_median", lang), t("turnaround_p90", lang)]}))
        elif sid == "top_assets":
            out.append(_table(sid, lang, ["asset", "count"], [[r["key"], r["count"]] for r in f["top_assets"]]))
        elif sid == "top_departments":
            out.append(_table(sid, lang, ["department", "count"], [[r["key"] or "-", r["count"]] for r in f["top_departments"]]))
        elif sid == "engineers":
            out.append(_table(sid, lang, ["engineer", "assigned", "completed", "resolved", "delayed"],
                              [[e["name"] or e["engineer_id"], e["assigned"], e["completed"], e["resolved"], e["delayed"]] for e in f["engineers"]]))
        elif sid == "satisfaction":
            s = f["satisfaction"]
            out.append(_table(sid, lang, ["score", "count"], [[str(k), v] for k, v in s["by_score"].items()] +
                              [[t("responses", lang), s["responses"]], [t("satisfaction_mean", lang), "-" if s["mean"] is None else s["mean"]]]))
        elif sid == "escalations":
            e = f["escalations"]
            out.append(_table(sid, lang, ["kind", "count"], [[r["key"], r["count"]] for r in e["by_kind"]] + [[t("count", lang), e["total"]]]))
        elif sid == "majors":
            out.append(_table(sid, lang, ["ticket", "title", "reported_at"], [[m.get("number"), m.get("title"), m.get("reported_at")] for m in f["majors"]["list"]]))
        elif sid == "inspections":
            i = f["inspections"]
            out.append(_table("overview", lang, ["item", "value"], [[t("count", lang), i["total"]], [t("findings", lang), i["findings"]]]
                              + [[f"{t('result', lang)}: {r['key']}", r["count"]] for r in i["by_result"]]))
            out.append(_table(sid, lang, ["inspected_at", "asset", "inspector", "result", "findings"],
                              [[x.get("inspected_at"), x.get("asset_tag"), x.get("inspector"), x.get("result"), "; ".join(x.get("findings") or [])] for x in i["list"]]))
        elif sid == "checks":
            rows = [[t(c.split(":")[0], lang) + (f" ({c.split(':', 1)[1]})" if ":" in c else ""), v,
                     "-" if ok is None else t("pass" if ok else "fail", lang)] for c, v, ok in _checks(f)]
            out.append(_table(sid, lang, ["check", "value", "result"], rows))
        elif sid == "security":
            rows = [[r["key"], r["count"]] for r in f["volumes"]["by_service"] if r["key"].upper().startswith(security_prefixes)]
            out.append(_table(sid, lang, ["key", "count"], rows))
    return out


def build(kind: ReportKind, figures: Document, *, lang: str, generated_at: datetime) -> Document:
    period = figures["period"]
    return {
        "_id": report_id(kind.name, period, lang), "kind": kind.name, "period": period, "lang": lang,
        "title": f"{t(kind.name, lang)} {period}", "generated_at": generated_at,
        "due_at": due_at(kind, period) if kind.cadence != "incident" else None,
        "figures": figures, "sections": sections(kind, figures, lang),
    }


def major_incident(ticket: Document, *, lang: str, generated_at: datetime) -> Document:
    """The per-incident report, from reporting's own ticket document."""
    def when(key: str) -> Any:
        return when_value(ticket.get(key))

    steps = [("reported_at", "reported_at"), ("assigned", "assigned_at"), ("confirmation", "confirmed_at"),
             ("completed", "completed_at"), ("resolved", "resolved_at"), ("closed", "closed_at")]
    timeline: list[list[Any]] = [[t(label, lang), when(key)] for label, key in steps if ticket.get(key)]
    timeline += [[f"{t('assigned', lang)}: {a.get('engineer_name')}", when_value(a.get("at"))] for a in ticket.get("assignments", [])]
    info: list[list[Any]] = [[t("number", lang), ticket.get("number")], [t("title", lang), ticket.get("title")],
            [t("service", lang), ticket.get("service_code")], [t("priority", lang), ticket.get("priority")],
            [t("department", lang), ticket.get("department")], [t("asset_tag", lang), ticket.get("asset_tag")],
            [t("engineer", lang), ticket.get("engineer_name")], [t("breached", lang), ", ".join(t(b, lang) for b in ticket.get("breaches", [])) or "-"],
            [t("escalations", lang), ticket.get("escalations", 0)], [t("resolution_text", lang), ticket.get("resolution") or "-"],
            [t("record", lang), ticket.get("record") or "-"]]
    period = str(ticket.get("_id"))
    return {
        "_id": report_id("major-incident", period, lang), "kind": "major-incident", "period": period, "lang": lang,
        "title": f"{t('major-incident', lang)} {ticket.get('number') or period}", "generated_at": generated_at, "due_at": None,
        "figures": {"ticket_id": period, "number": ticket.get("number"), "timeline": [{"event": event, "at": at} for event, at in timeline]},
        "sections": [_table("overview", lang, ["item", "value"], info), _table("timeline", lang, ["event", "at"], timeline)],
    }


def when_value(value: Any) -> Any:
    return periods.local(value).isoformat() if isinstance(value, datetime) else value
