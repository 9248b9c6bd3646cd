"""The contract's reports: which exist, when each is due, and what each shows (sections over the figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from . import periods
from .i18n import EMPTY, label, service_name, t

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
# A cell is a plain value (an int count, a text) or a typed value {"f": format, "v": value} that every renderer shows
# the same way: "pct" a ratio (0.958 -> 95.8%), "min" minutes, "days" days, "num" a decimal, "time" a local time
# (ISO text), "delta" a signed count, "pp" a signed ratio difference (percentage points). None is shown as "—".
# The XLSX keeps the value and gives it a number format, so a percentage stays a number there.

Cell = Any


@dataclass(frozen=True)
class Parties:
    """Who delivers the report to whom (settings REPORTING_AGENCY_NAME / REPORTING_CONTRACTOR_NAME)."""

    agency: str = "广州市工商行政管理局"
    contractor: str = "越维科技"
    version: str = "1.0"


def typed(fmt: str, value: Any) -> Cell:
    return None if value is None else {"f": fmt, "v": value}


def _pct(x: float | None) -> Cell:
    return typed("pct", x)


def _minutes(seconds: float | None) -> Cell:
    return typed("min", None if seconds is None else round(seconds / 60, 1))


def _days(seconds: float | None) -> Cell:
    return typed("days", None if seconds is None else round(seconds / 86400, 2))


def _when(value: Any) -> Cell:
    return typed("time", when_value(value) if value else None)


def _delta(now: Any, before: Any, fmt: str = "delta") -> Cell:
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return None
    return typed(fmt, round(now - before, 4))


def plain(cell: Cell) -> Any:
    """The bare value of a cell (for tests and comparisons)."""
    return cell["v"] if isinstance(cell, dict) and "f" in cell else cell


def show(cell: Cell, lang: str) -> str:
    """A cell as text, the same in the PDF, the commentary and the JSON reader's eye."""
    if cell is None or cell == "":
        return EMPTY
    if not (isinstance(cell, dict) and "f" in cell):
        return f"{cell:,}" if isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 10000 else str(cell)
    fmt, v = cell["f"], cell["v"]
    if fmt == "pct":
        return f"{v * 100:.1f}%"
    if fmt == "pp":
        return ("0.0" if round(v * 100, 1) == 0 else f"{v * 100:+.1f}") + (" pp" if lang == "en" else " 个百分点")
    if fmt == "delta":
        if v == 0:
            return "0"
        return f"{v:+,}" if isinstance(v, int) else f"{v:+,.2f}".rstrip("0").rstrip(".")
    if fmt == "min":
        # An automatic step takes milliseconds: "<0.1" says it happened, where 0.0 read as "not measured".
        return "<0.1" if 0 < v < 0.05 else f"{v:,.1f}"
    if fmt in ("days", "num"):
        return f"{v:,.2f}"
    if fmt == "time":
        return stamp(v)
    return str(v)


def stamp(value: Any) -> str:
    """Local time as the agency writes it: 2026-11-30 15:00 (Asia/Shanghai)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, datetime):
        return periods.local(value).strftime("%Y-%m-%d %H:%M")
    return EMPTY if value is None else str(value)


def _table(sid: str, lang: str, columns: list[str], rows: list[list[Any]], chart: Document | None = None,
           note: str | None = None) -> Document:
    return {"id": sid, "title": t(sid, lang), "type": "table", "columns": [t(c, lang) for c in columns], "rows": rows,
            "chart": chart, "note": note}


def _ranked(sid: str, lang: str, rows: list[Document], label_of: Any, column: str = "key") -> Document:
    return _table(sid, lang, [column, "count"], [[label_of(r["key"]), r["count"]] for r in rows])


def _checks(f: Document) -> list[tuple[str, Cell, bool | None]]:
    """(check, value, passed) for the monthly self-check: the contract's targets."""
    out: list[tuple[str, Cell, bool | None]] = []
    for row in f["sla"]:
        out.append((row["timer"], _pct(row["compliance"]), None if row["compliance"] is None else row["compliance"] >= 0.95))
    share = f["desk"]["share"]
    out.append(("desk_share", _pct(share), f["desk"]["within_target"] if share is not None else None))
    mean = f["satisfaction"]["mean"]
    out.append(("satisfaction_mean", typed("num", mean), None if mean is None else mean >= 4.0))
    for v in f["repairs"]["vendors"]:
        c = v["update_compliance"]
        out.append((f"update_compliance:{v['vendor']}", _pct(c), None if c is None else c >= 0.95))
    return out


def _overview_items(f: Document) -> list[tuple[str, Cell, str]]:
    """(label key, value, change format) of the headline figures."""
    return [
        ("total_tickets", f["volumes"]["total"], "delta"),
        ("resolved_total", f["desk"]["resolved"], "delta"),
        ("desk_share", _pct(f["desk"]["share"]), "pp"),
        ("breaches_total", f["breaches_total"], "delta"),
        ("first_response_median", _minutes(f["times"]["first_response"]["median_s"]), "delta"),
        ("resolution_median", _minutes(f["times"]["resolution"]["median_s"]), "delta"),
        ("satisfaction_mean", typed("num", f["satisfaction"]["mean"]), "delta"),
        ("reopened", f["reopened"], "delta"),
        ("majors", f["majors"]["total"], "delta"),
    ]


def _policy_limit(policy: str | None, lang: str) -> str:
    """`response/office-hours/60` -> "时限 60 分钟（工作时间）"; other names are shown as they are."""
    if not policy:
        return ""
    parts = policy.split("/")
    if len(parts) == 3 and parts[2].isdigit():
        cal = {"office-hours": ("工作时间", "office hours"), "24x7": ("全天", "24x7")}.get(parts[1], (parts[1], parts[1]))
        return (f"limit {parts[2]} min ({cal[1]})" if lang == "en" else f"时限 {parts[2]} 分钟（{cal[0]}）")
    return policy


def breach_reason(b: Document, lang: str) -> str:
    """Why a breach is one, in a sentence: which commitment, by when, and the limit it ran under."""
    timer = t(str(b["timer"]), lang)
    limit = _policy_limit(b.get("policy"), lang)
    if lang == "en":
        return f"{timer} not met by {stamp(b.get('due_at'))}" + (f"; {limit}" if limit else "")
    return f"{timer}未在 {stamp(b.get('due_at'))} 前完成" + (f"，{limit}" if limit else "")


def commentary(f: Document, lang: str, *, previous: Document | None, service: Any) -> list[str]:
    """Paragraphs drawn from the figures: volumes against the last period, the top issues, the desk, each breach."""
    en = lang == "en"
    out: list[str] = []
    total = f["volumes"]["total"]
    line = (f"{total} tickets this period" if en else f"本期共受理工单 {total} 张")
    if previous is not None:
        before = previous["volumes"]["total"]
        diff = total - before
        line += (f" ({diff:+d} against {before} last period)." if en else f"，上期 {before} 张，{'增加' if diff >= 0 else '减少'} {abs(diff)} 张。")
    else:
        line += "." if en else "。"
    out.append(line)
    top = f["volumes"]["by_service"][:3]
    if top and total:
        parts = [f"{service(r['key'])} {r['count']} ({r['count'] / total * 100:.0f}%)" for r in top]
        out.append(("Most requested: " + ", ".join(parts) + ".") if en else ("需求最多的服务：" + "、".join(parts) + "。"))
    depts = [r for r in f["top_departments"] if r["key"]][:3]
    if depts:
        names = [f"{r['key']} {r['count']}" for r in depts]
        out.append(("Departments reporting most: " + ", ".join(names) + ".") if en else ("报障最多的部门：" + "、".join(names) + "。"))
    assets = f["top_assets"][:3]
    if assets and assets[0]["count"] > 1:
        names = [f"{r['key']}（{r['count']}）" if not en else f"{r['key']} ({r['count']})" for r in assets]
        out.append(("Assets with most faults: " + ", ".join(names) + ".") if en else ("故障最多的资产：" + "、".join(names) + "，建议评估是否更换或送修。"))
    share = f["desk"]["share"]
    if share is not None:
        verdict = ("within" if f["desk"]["within_target"] else "outside") if en else ("达到" if f["desk"]["within_target"] else "未达到")
        out.append((f"Resolved at the desk: {share * 100:.1f}%, {verdict} the 30%-50% target.") if en
                   else f"服务台一线解决率 {share * 100:.1f}%，{verdict}合同 30%-50% 的目标。")
    breaches = f["breaches"]
    # A timer with a breach always has a rate (figures.compute), so "every timer kept 95%" is never said over a
    # breach it did not see; when it is true despite breaches, the sentence says which timers still had them.
    low = [r for r in f["sla"] if r["compliance"] is not None and r["compliance"] < 0.95]
    if low:
        names = [f"{t(r['timer'], lang)} {r['compliance'] * 100:.1f}%" for r in low]
        out.append(("Below the 95% target: " + ", ".join(names) + ".") if en else ("低于 95% 目标的时限：" + "、".join(names) + "。"))
    elif f["sla"]:
        if breaches:
            timers = sorted({t(str(b["timer"]), lang) for b in breaches})
            out.append(f"Every timer kept 95% or more, though {', '.join(timers)} had breaches, listed below." if en
                        else f"各项时限达成率均不低于 95%，但{'、'.join(timers)}仍有违约，逐项说明见下。")
        else:
            out.append("Every timer kept 95% or more." if en else "各项时限达成率均不低于 95%。")
    if breaches:
        out.append((f"{len(breaches)} breaches, each with its reason:") if en else f"本期违约 {len(breaches)} 次，逐项说明如下：")
        first_breach_line = len(out) - 1
        for b in breaches[:50]:
            who = b.get("number") or b.get("ticket_id") or b.get("repair_id") or EMPTY
            n = len(out) - first_breach_line
            out.append(f"{n}. {who}: {breach_reason(b, lang)}" if en else f"（{n}）{who}：{breach_reason(b, lang)}。")
        if len(breaches) > 50:
            out.append(f"… {len(breaches) - 50} more in the breach table." if en else f"…… 其余 {len(breaches) - 50} 次见违约明细表。")
    else:
        out.append("No breaches this period." if en else "本期无违约。")
    return out


def _times_chart(rows: list[list[Any]], lang: str) -> Document:
    return {"type": "bar", "title": t("chart_times", lang), "labels": [r[0] for r in rows],
            "values": [plain(r[2]) or 0 for r in rows], "values2": [plain(r[3]) or 0 for r in rows],
            "legend": [t("median", lang), t("p90", lang)], "clip": True,
            "note": t("chart_clipped", lang)}


def sections(kind: ReportKind, f: Document, lang: str, *, security_prefixes: tuple[str, ...] = ("SEC",),
             previous: Document | None = None) -> list[Document]:
    names: dict[str, str] = f.get("service_names") or {}

    def service(code: Any) -> str:
        return service_name(code, lang, names)

    def text(value: Any) -> str:
        return EMPTY if value in (None, "") else str(value)

    out: list[Document] = []
    for sid in kind.sections:
        if sid == "overview":
            items = _overview_items(f)
            if previous is None:
                out.append(_table(sid, lang, ["item", "value"], [[t(k, lang), v] for k, v, _ in items]))
            else:
                before = {k: v for k, v, _ in _overview_items(previous)}
                rows = [[t(k, lang), v, before[k], _delta(plain(v), plain(before[k]), fmt)] for k, v, fmt in items]
                out.append(_table(sid, lang, ["item", "this_period", "previous_period", "change"], rows,
                                  note=f"{t('previous_period', lang)}: {previous['period']}"))
            out.append({"id": "commentary", "title": t("commentary", lang), "type": "text",
                        "paragraphs": commentary(f, lang, previous=previous, service=service)})
        elif sid == "volumes":
            by_service = f["volumes"]["by_service"]
            out.append(_table("by_service", lang, ["service", "count"], [[service(r["key"]), r["count"]] for r in by_service],
                              chart={"type": "barh", "title": t("chart_by_service", lang),
                                     "labels": [service(r["key"]) for r in by_service[:12]],
                                     "values": [r["count"] for r in by_service[:12]]}))
            by_channel = f["volumes"]["by_channel"]
            out.append(_table("by_channel", lang, ["channel", "count"], [[label("channel", r["key"], lang), r["count"]] for r in by_channel],
                              chart={"type": "pie", "title": t("chart_channel", lang),
                                     "labels": [label("channel", r["key"], lang) for r in by_channel],
                                     "values": [r["count"] for r in by_channel]}))
            out.append(_ranked("by_priority", lang, sorted(f["volumes"]["by_priority"], key=lambda r: str(r["key"])),
                               lambda k: label("priority", k, lang), "priority"))
            out.append(_ranked("by_department", lang, f["volumes"]["by_department"], text, "department"))
            out.append(_ranked("by_type", lang, f["volumes"]["by_type"], lambda k: label("type", k, lang), "ticket_type"))
        elif sid == "times":
            rows = [[t(name, lang), v["count"], _minutes(v["median_s"]), _minutes(v["p90_s"]), _minutes(v["mean_s"])]
                    for name, v in f["times"].items()]
            out.append(_table(sid, lang, ["timer", "count", "median", "p90", "mean"], rows, chart=_times_chart(rows, lang),
                              note=t("first_response_note", lang)))
        elif sid == "sla":
            before = {r["timer"]: r["compliance"] for r in (previous or {}).get("sla", [])}
            columns = ["timer", "started", "warned", "breached", "compliance"] + (["previous_period"] if previous is not None else [])
            rows = [[t(r["timer"], lang), r["started"], r["warned"], r["breached"], _pct(r["compliance"])]
                    + ([_pct(before.get(r["timer"]))] if previous is not None else []) for r in f["sla"]]
            # A timer that never started has no compliance: it is no bar at 0%.
            measured = [(t(r["timer"], lang), round(r["compliance"] * 100, 1)) for r in f["sla"] if r["compliance"] is not None]
            values = [v for _, v in measured]
            uniform = len(set(values)) <= 1
            # Six bars of the same height say nothing a sentence does not: draw the chart only when they differ.
            chart = None if uniform else {"type": "bar", "title": t("chart_sla", lang), "labels": [k for k, _ in measured],
                                          "values": values, "percent": True}
            note = t("chart_skipped_uniform", lang) % f"{values[0]:.1f}%" if uniform and values else None
            out.append(_table(sid, lang, columns, rows, chart=chart, note=note))
        elif sid == "breaches":
            rows = [[b.get("number") or b.get("ticket_id") or b.get("repair_id"), t(str(b["timer"]), lang), _when(b.get("due_at")),
                     _when(b.get("breached_at")), breach_reason(b, lang)] for b in f["breaches"]]
            out.append(_table(sid, lang, ["ticket", "timer", "due_at", "breached_at", "reason"], rows))
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
            rows = [[text(v["vendor"]), v["sent"], v["returned"], _pct(v["on_time_share"]), _pct(v["update_compliance"]),
                     _days(v["turnaround_median_s"]), _days(v["turnaround_p90_s"])] for v in rep["vendors"]]
            out.append(_table("vendors", lang, ["vendor", "sent", "returned", "on_time", "update_compliance", "turnaround_median", "turnaround_p90"], rows,
                              chart={"type": "bar", "title": t("chart_vendors", lang), "labels": [r[0] for r in rows],
                                     "values": [plain(r[5]) or 0 for r in rows], "values2": [plain(r[6]) or 0 for r in rows],
                                     "legend": [t("turnaround_median", lang), t("turnaround_p90", lang)]}))
        elif sid == "top_assets":
            out.append(_table(sid, lang, ["asset", "count"], [[text(r["key"]), r["count"]] for r in f["top_assets"]]))
        elif sid == "top_departments":
            out.append(_table(sid, lang, ["department", "count"], [[text(r["key"]), r["count"]] for r in f["top_departments"]]))
        elif sid == "engineers":
            out.append(_table(sid, lang, ["engineer", "assigned", "completed", "resolved", "delayed"],
                              [[e["name"] or e["engineer_id"], e["assigned"], e["completed"], e["resolved"], e["delayed"]] for e in f["engineers"]]))
        elif sid == "satisfaction":
            s = f["satisfaction"]
            out.append(_table(sid, lang, ["score", "count"], [[str(k), v] for k, v in s["by_score"].items()] +
                              [[t("responses", lang), s["responses"]], [t("satisfaction_mean", lang), typed("num", s["mean"])]]))
        elif sid == "escalations":
            e = f["escalations"]
            out.append(_table(sid, lang, ["kind", "count"], [[label("escalation_kind", r["key"], lang), r["count"]] for r in e["by_kind"]]
                              + [[t("count", lang), e["total"]]]))
        elif sid == "majors":
            out.append(_table(sid, lang, ["ticket", "title", "reported_at"],
                              [[m.get("number"), m.get("title"), _when(m.get("reported_at"))] for m in f["majors"]["list"]]))
        elif sid == "inspections":
            i = f["inspections"]
            out.append(_table("overview", lang, ["item", "value"], [[t("count", lang), i["total"]], [t("findings", lang), i["findings"]]]
                              + [[f"{t('result', lang)}: {label('inspection_result', r['key'], lang)}", r["count"]] for r in i["by_result"]]))
            out.append(_table(sid, lang, ["inspected_at", "asset", "inspector", "result", "findings"],
                              [[_when(x.get("inspected_at")), x.get("asset_tag"), x.get("inspector"),
                                label("inspection_result", x.get("result"), lang), "; ".join(x.get("findings") or []) or None]
                               for x in i["list"]]))
        elif sid == "checks":
            rows = [[t(c.split(":")[0], lang) + (f" ({c.split(':', 1)[1]})" if ":" in c else ""), v,
                     None if ok is None else t("pass" if ok else "fail", lang)] for c, v, ok in _checks(f)]
            out.append(_table(sid, lang, ["check", "value", "result"], rows))
        elif sid == "security":
            rows = [[service(r["key"]), r["count"]] for r in f["volumes"]["by_service"] if str(r["key"]).upper().startswith(security_prefixes)]
            out.append(_table(sid, lang, ["key", "count"], rows))
    return out


def previous_period(period: str) -> str:
    """The period before: 2026-11 -> 2026-10, 2026-Q1 -> 2025-Q4, 2026 -> 2025."""
    first = periods.start_of(period)
    kind = period_kind(period)
    return periods.previous(kind, first)


def build(kind: ReportKind, figures: Document, *, lang: str, generated_at: datetime, previous: Document | None = None,
          parties: Parties | None = None) -> Document:
    """The report as data; `previous` (the figures of the period before) adds the comparison columns."""
    period = figures["period"]
    p = parties or Parties()
    return {
        "_id": report_id(kind.name, period, lang), "kind": kind.name, "period": period, "lang": lang,
        "title": f"{t(kind.name, lang)} {period}", "generated_at": generated_at,
        "due_at": due_at(kind, period) if kind.cadence != "incident" else None,
        "agency": p.agency, "contractor": p.contractor, "version": p.version,
        "figures": figures, "previous_period": previous["period"] if previous else None,
        "sections": sections(kind, figures, lang, previous=previous),
    }


def major_incident(ticket: Document, *, lang: str, generated_at: datetime, parties: Parties | None = None) -> Document:
    """The per-incident report, from reporting's own ticket document."""
    def when(key: str) -> Any:
        return _when(ticket.get(key))

    steps = [("reported_at", "reported_at"), ("assigned", "assigned_at"), ("confirmation", "confirmed_at"),
             ("completed", "completed_at"), ("resolved", "resolved_at"), ("closed", "closed_at")]
    timeline: list[list[Any]] = [[t(step, lang), when(key)] for step, key in steps if ticket.get(key)]
    timeline += [[f"{t('assigned', lang)}: {a.get('engineer_name')}", _when(a.get("at"))] for a in ticket.get("assignments", [])]
    info: list[list[Any]] = [[t("number", lang), ticket.get("number")], [t("title", lang), ticket.get("title")],
            [t("service", lang), service_name(ticket.get("service_code"), lang)], [t("priority", lang), label("priority", ticket.get("priority"), lang)],
            [t("department", lang), ticket.get("department")], [t("asset_tag", lang), ticket.get("asset_tag")],
            [t("engineer", lang), ticket.get("engineer_name")], [t("breached", lang), ", ".join(t(b, lang) for b in ticket.get("breaches", [])) or None],
            [t("escalations", lang), ticket.get("escalations", 0)], [t("resolution_text", lang), ticket.get("resolution") or None],
            [t("record", lang), ticket.get("record") or None]]
    period = str(ticket.get("_id"))
    return {
        "_id": report_id("major-incident", period, lang), "kind": "major-incident", "period": period, "lang": lang,
        "title": f"{t('major-incident', lang)} {ticket.get('number') or period}", "generated_at": generated_at, "due_at": None,
        "figures": {"ticket_id": period, "number": ticket.get("number"), "timeline": [{"event": event, "at": plain(at)} for event, at in timeline]},
        "agency": (parties or Parties()).agency, "contractor": (parties or Parties()).contractor, "version": (parties or Parties()).version,
        "sections": [_table("overview", lang, ["item", "value"], info), _table("timeline", lang, ["event", "at"], timeline)],
    }


def when_value(value: Any) -> Any:
    return periods.local(value).isoformat() if isinstance(value, datetime) else value
