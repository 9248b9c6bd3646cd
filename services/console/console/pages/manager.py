"""The manager's dashboard at `/` (managers and auditors): this month's compliance for each contract clock and the
first-contact share (reporting's figures), open tickets by state (exact totals from the ticket list), the clocks in
breach now (the SLA monitor's list) and this month's breaches, engineers on duty with their load (dispatch's roster),
authorizations waiting for the agency, and the reports' sign-off (stored reports, "submit to the agency").

An edge like every page: each number is one API call's answer; nothing here decides a rule. The panel is one
fragment (`/dashboard/panel`) the page swaps when an event arrives on the live stream (console.js refreshes
`#workspace`) and once a minute (report sign-offs are not on the ticket stream).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import Response

from .. import clock
from ..api import ApiError, Json
from ..labels import N_
from ..web import Ctx, checked, signed_in

router = APIRouter()
T = TypeVar("T")

# Open states in the order work moves through them (awaiting_authorization: the agency has not decided yet).
OPEN_STATES = ("awaiting_authorization", "new", "assigned", "in_progress", "pending", "resolved")
SIGNOFF_STATES = ("draft", "submitted", "acknowledged", "returned")
# The reports a manager generates at month-end from the console (the contract's two monthly summaries).
MONTHLY = ("service-summary", "repair-summary")
# Engineers who may take work now (dispatch's states; the rota's hours are dispatch's and not in GET /engineers).
WORKING = ("available", "busy")
BAR_WIDTH = 240  # the longest bar, in SVG units


@dataclass
class Bar:
    """One bar of a chart: what it counts, its value, its length out of BAR_WIDTH and a tone (ok, warn, bad, info)."""

    key: str
    label: str
    value: float
    text: str
    length: int
    tone: str = "info"
    note: str = ""


def bars(rows: list[tuple[str, str, float, str, str, str]], scale: float | None = None) -> list[Bar]:
    """(key, label, value, text, tone, note) rows as bars scaled to the largest value (or `scale`)."""
    top = scale if scale is not None else max((r[2] for r in rows), default=0.0)
    out = []
    for key, label, value, text, tone, note in rows:
        length = round(BAR_WIDTH * min(value, top) / top) if top > 0 else 0
        out.append(Bar(key, label, value, text, max(length, 2 if value > 0 else 0), tone, note))
    return out


def waited(ctx: Ctx) -> Callable[[Any], str]:
    """How long something has waited, in words ("已等待 35 分钟"); the clocks' relative() is for deadlines."""
    def words(value: Any) -> str:
        since = clock.parse_instant(value)
        if since is None:
            return ""
        return ctx.gettext("waited %(time)s") % {"time": clock.duration_words((ctx.now() - since).total_seconds(), ctx.ngettext)}
    return words


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


@dataclass
class Dashboard:
    period: str
    compliance: list[Bar] = field(default_factory=list)
    first_contact: Json | None = None
    states: list[Bar] = field(default_factory=list)
    open_total: int = 0
    breached_now: list[Json] = field(default_factory=list)
    breached_more: bool = False
    month_breaches: list[Json] = field(default_factory=list)
    breaches_total: int = 0
    engineers: list[Json] = field(default_factory=list)
    loads: list[Bar] = field(default_factory=list)
    waiting: list[Json] = field(default_factory=list)
    waiting_total: int = 0
    reports: list[Json] = field(default_factory=list)
    signoff: list[Bar] = field(default_factory=list)
    due: list[Json] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _guard(ctx: Ctx, errors: list[str], call: Awaitable[T], default: T) -> T:
    """One part of the dashboard failing (a service down) leaves the others shown, with the API's message."""
    try:
        return await call
    except ApiError as exc:
        message = exc.message or exc.code or str(exc.status)
        if message not in errors:
            errors.append(message)
        return default


async def _total(ctx: Ctx, state: str) -> int:
    page = await ctx.api.tickets(ctx.token, lang=ctx.lang, params=[("status", state), ("limit", "1")])
    return int(page.get("total", len(page.get("items", []))))


async def _get(ctx: Ctx, path: str, params: Any = None) -> Any:
    return (await ctx.api.call("GET", path, token=ctx.token, lang=ctx.lang, params=params)).body


def latest_versions(reports: list[Json]) -> list[Json]:
    """Each series' newest version only (a returned report resubmitted as v2 is history), newest first."""
    best: dict[str, Json] = {}
    for r in reports:
        series = str(r.get("series") or r.get("_id"))
        if series not in best or int(r.get("version") or 1) > int(best[series].get("version") or 1):
            best[series] = r
    return sorted(best.values(), key=lambda r: str(r.get("generated_at") or ""), reverse=True)


async def dashboard(ctx: Ctx) -> Dashboard:
    now = ctx.now().astimezone(ctx.console.zone)
    period = now.strftime("%Y-%m")
    d = Dashboard(period=period)
    errors = d.errors
    figures_call = _guard(ctx, errors, _get(ctx, f"/reports/service-summary/{period}", {"format": "json"}), None)
    totals_call = asyncio.gather(*(_guard(ctx, errors, _total(ctx, s), 0) for s in OPEN_STATES))
    breached_call = _guard(ctx, errors, ctx.api.timers(ctx.token, lang=ctx.lang, params=[("breached", "true")], limit=100, pages=1), ([], False))
    engineers_call = _guard(ctx, errors, ctx.api.engineers(ctx.token, lang=ctx.lang), [])
    waiting_call = _guard(ctx, errors, ctx.api.tickets(ctx.token, lang=ctx.lang, params=[("status", "awaiting_authorization"), ("limit", "10")]), {"items": [], "total": 0})
    stored_call = _guard(ctx, errors, _get(ctx, "/reports/stored"), [])
    report, totals, (breached, more), engineers, waiting, stored = await asyncio.gather(
        figures_call, totals_call, breached_call, engineers_call, waiting_call, stored_call,
    )

    figures: Json = (report or {}).get("figures") or {}
    rows = []
    for row in figures.get("sla", []):
        share = row.get("compliance")
        tone = "ok" if share is not None and share >= 0.95 else ("warn" if share is not None and share >= 0.8 else "bad")
        note = ctx.gettext("%(started)d started, %(met)d met, %(missed)d missed, %(breached)d breached") % {
            "started": int(row.get("started", 0)), "met": int(row.get("met", 0)), "missed": int(row.get("missed", 0)), "breached": int(row.get("breached", 0))}
        rows.append((str(row.get("timer")), ctx.gettext(str(row.get("timer"))), float(share or 0.0), percent(share), tone if share is not None else "info", note))
    d.compliance = bars(rows, scale=1.0)
    d.first_contact = figures.get("desk")
    d.month_breaches = list(figures.get("breaches") or [])[-20:][::-1]
    d.breaches_total = int(figures.get("breaches_total") or 0)

    d.states = bars([(s, ctx.gettext(s), float(n), str(n), "bad" if s == "awaiting_authorization" and n else "info", "")
                     for s, n in zip(OPEN_STATES, totals, strict=True)])
    d.open_total = sum(totals)
    d.breached_now, d.breached_more = breached[:20], more or len(breached) > 20

    d.engineers = sorted((e for e in engineers if e.get("status") in WORKING), key=lambda e: (-int(e.get("open_load", 0)), str(e.get("name"))))
    d.loads = bars([(str(e.get("id")), str(e.get("name")), float(e.get("open_load", 0)), f"{int(e.get('open_load', 0))}/{int(e.get('capacity', 0))}",
                     "bad" if int(e.get("open_load", 0)) >= int(e.get("capacity", 1)) else "info", "")
                    for e in d.engineers[:15]], scale=float(max([int(e.get("capacity", 0)) for e in d.engineers[:15]] or [1])))

    d.waiting = list(waiting.get("items", []))
    d.waiting_total = int(waiting.get("total", len(d.waiting)))

    shown = latest_versions(list(stored))
    d.reports = shown[:20]
    counts = {s: 0 for s in SIGNOFF_STATES}
    for r in stored:  # every version: a returned one stays counted as returned
        if r.get("state") in counts:
            counts[str(r["state"])] += 1
    d.signoff = bars([(s, ctx.gettext(f"report.{s}"), float(n), str(n), {"draft": "warn", "returned": "bad", "acknowledged": "ok"}.get(s, "info"), "")
                      for s, n in counts.items()])
    d.due = [r for r in shown if r.get("state") in ("draft", "returned")]
    return d


DONE = {"generated": N_("The report was generated; submit it to the agency when it is ready."),
        "submitted": N_("Submitted to the agency.")}


async def manager_home(ctx: Ctx, error: str | None = None) -> Response:
    done = DONE.get(ctx.request.query_params.get("done", ""))
    notice = ctx.gettext(done) if done and error is None else None
    return ctx.render("manager/dashboard.html", d=await dashboard(ctx), notice=notice, error=error, monthly=MONTHLY,
                      waited=waited(ctx))


@router.get("/dashboard/panel")
async def panel(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    """The dashboard's body alone, swapped in by htmx when the live stream says something changed."""
    return ctx.render("manager/panel.html", d=await dashboard(ctx), monthly=MONTHLY, waited=waited(ctx))


def _period_ok(period: str) -> bool:
    try:
        datetime.strptime(period, "%Y-%m")
    except ValueError:
        return False
    return True


@router.post("/manager/reports/generate")
async def generate(
    ctx: Annotated[Ctx, Depends(checked)], kind: Annotated[str, Form()], period: Annotated[str, Form()],
) -> Response:
    """Generate a monthly report now (POST /reports/{kind}/{period}/generate); it is stored as a draft to submit."""
    if kind not in MONTHLY or not _period_ok(period):
        return await manager_home(ctx, error=ctx.gettext("Choose a report and a month (YYYY-MM)."))
    lang = "en" if ctx.lang == "en" else "zh-CN"
    try:
        await ctx.api.call("POST", f"/reports/{kind}/{period}/generate", token=ctx.token, lang=ctx.lang, params={"lang": lang})
    except ApiError as exc:
        return await manager_home(ctx, error="; ".join(exc.field_messages()))
    return ctx.redirect("/?done=generated")


@router.post("/manager/reports/{report_id}/submit")
async def submit(ctx: Annotated[Ctx, Depends(checked)], report_id: str) -> Response:
    """Submit a stored report to the agency (a returned one goes as its next version)."""
    try:
        await ctx.api.call("POST", f"/reports/stored/{quote(report_id, safe='')}/submit", token=ctx.token, lang=ctx.lang, json={})
    except ApiError as exc:
        return await manager_home(ctx, error="; ".join(exc.field_messages()))
    return ctx.redirect("/?done=submitted")
