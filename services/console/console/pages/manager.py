"""The manager's dashboard at `/` (managers and auditors): this month's compliance for each contract clock and the
first-contact share (reporting's figures), open tickets by state (exact totals from the ticket list), the clocks in
breach now (the SLA monitor's list) and this month's breaches, engineers on duty with their load (dispatch's roster),
authorizations waiting for the agency, and the reports' sign-off (stored reports, "submit to the agency"; a version the
agency returned stays shown, with its comments, under the one that replaced it), security incidents (closed by the
manager with a note once the agency has acknowledged them), the agency's replacement requests (answered with a plan
and a date) and the maintenance manual (维护手册, published from knowledge articles or a category).

A refused act redirects back to `/` (POST-redirect-GET, so a reload does not post again) with the API's words in a
short-lived signed cookie the next page shows once (`refused`, `take_refusal`); the agency's page does the same.

An edge like every page: each number is one API call's answer; nothing here decides a rule. The panel is one
fragment (`/dashboard/panel`) the page swaps when an event arrives on the live stream (console.js refreshes
`#workspace`) and once a minute (report sign-offs are not on the ticket stream).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
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
from ..web import Ctx, cached, checked, remember, secure, signed_in

router = APIRouter()
T = TypeVar("T")

# Open states in the order work moves through them (awaiting_authorization: the agency has not decided yet).
OPEN_STATES = ("awaiting_authorization", "new", "assigned", "in_progress", "pending", "resolved")
API_OPEN = frozenset({"new", "assigned", "in_progress", "pending"})  # intake's `open` (GET /tickets/counts)
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
    closed_period: str = ""  # the month just ended: what the month-end reports (due the 5th and the 10th) are about
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
    earlier: dict[str, list[Json]] = field(default_factory=dict)
    incidents_open: list[Json] = field(default_factory=list)
    incidents_to_close: list[Json] = field(default_factory=list)
    replacements: list[Json] = field(default_factory=list)
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


def earlier_versions(reports: list[Json]) -> dict[str, list[Json]]:
    """Each series' older versions (newest first) by the id of the version shown: a returned v1 with the agency's
    comments stays readable under the v2 that answered them."""
    shown = {str(r.get("series") or r.get("_id")): str(r.get("_id")) for r in latest_versions(reports)}
    out: dict[str, list[Json]] = {}
    for r in reports:
        series = str(r.get("series") or r.get("_id"))
        if str(r.get("_id")) != shown.get(series):
            out.setdefault(shown[series], []).append(r)
    for older in out.values():
        older.sort(key=lambda r: int(r.get("version") or 1), reverse=True)
    return out


NUMBER_TTL = 3600.0  # a ticket's number never changes


async def _name_tickets(ctx: Ctx, clocks: list[Json]) -> None:
    """Each breached clock's ticket by its number (a clock knows only the ticket's id; walk 6a: the row read 打开工单).
    Numbers are remembered, so a dashboard refresh asks only for tickets it has not named yet."""
    async def number(clock_: Json) -> None:
        ticket_id = str(clock_.get("ticket_id") or "")
        if not ticket_id or clock_.get("number"):
            return
        key = ("ticket-number", ticket_id)
        hit = cached(ctx.console, key, NUMBER_TTL)
        if hit is None:
            try:
                hit = str((await ctx.api.ticket(ctx.token, ticket_id, lang=ctx.lang)).body.get("number") or "")
            except ApiError:
                return  # the row keeps its "open the ticket" link
            if hit:
                remember(ctx.console, key, hit, NUMBER_TTL)
        if hit:
            clock_["number"] = hit

    await asyncio.gather(*(number(c) for c in clocks))


def previous_month(period: str) -> str:
    """"2026-12" -> "2026-11", "2027-01" -> "2026-12": the month a month-end report is generated for."""
    year, month = (int(x) for x in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def act_words(ctx: Ctx, act: str) -> str:
    """A security incident's act code in words ("ticket.status:resolved" -> 把工单改为「已解决」); an unknown code as is."""
    if act.startswith("ticket.status:"):
        return ctx.gettext("set the ticket to %(state)s") % {"state": ctx.gettext(act.split(":", 1)[1])}
    key = ACTS.get(act) or f"step.{act.removeprefix('assignment.')}"
    label = ctx.gettext(key)
    return act if label == key else label


# Acts other services record on incidents (assets); the engineer's steps read as the phone names them (step.*).
ACTS = {"cmdb.change": N_("act.cmdb.change"), "repair.send_out": N_("act.repair.send_out")}


async def dashboard(ctx: Ctx) -> Dashboard:
    now = ctx.now().astimezone(ctx.console.zone)
    period = now.strftime("%Y-%m")
    d = Dashboard(period=period, closed_period=previous_month(period))
    errors = d.errors
    figures_call = _guard(ctx, errors, _get(ctx, f"/reports/service-summary/{period}", {"format": "json"}), None)
    totals_call = asyncio.gather(*(_guard(ctx, errors, _total(ctx, s), 0) for s in OPEN_STATES))
    breached_call = _guard(ctx, errors, ctx.api.timers(ctx.token, lang=ctx.lang, params=[("breached", "true")], limit=100, pages=1), ([], False))
    engineers_call = _guard(ctx, errors, ctx.api.engineers(ctx.token, lang=ctx.lang), [])
    # Everything the agency has still to decide: tickets held before any work and emergency work the desk started
    # first (`authorization=awaiting` is both; `status=awaiting_authorization` missed the emergency work).
    waiting_call = _guard(ctx, errors, ctx.api.tickets(ctx.token, lang=ctx.lang, params=[("authorization", "awaiting"), ("limit", "10")]), {"items": [], "total": 0})
    stored_call = _guard(ctx, errors, _get(ctx, "/reports/stored"), [])
    open_call = _guard(ctx, errors, _get(ctx, "/security-incidents", {"state": "open"}), {"items": []})
    acknowledged_call = _guard(ctx, errors, _get(ctx, "/security-incidents", {"state": "acknowledged"}), {"items": []})
    replacements_call = _guard(ctx, errors, _get(ctx, "/replacement-requests"), {"items": []})
    report, totals, (breached, more), engineers, waiting, stored, opened, acknowledged, replacements = await asyncio.gather(
        figures_call, totals_call, breached_call, engineers_call, waiting_call, stored_call, open_call, acknowledged_call,
        replacements_call,
    )
    d.incidents_open = list((opened or {}).get("items", []))[:20]
    d.incidents_to_close = list((acknowledged or {}).get("items", []))
    asked = list((replacements or {}).get("items", []))  # latest first; the unanswered ones on top
    d.replacements = ([r for r in asked if r.get("state") == "requested"] + [r for r in asked if r.get("state") != "requested"])[:20]

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
    # "Open" as the API and the desk's 未结 queue count it (GET /tickets/counts: new, assigned, in progress, pending);
    # work waiting for the agency and resolved work stay in the chart (walk 6a: the sum of all six read 6 against 5).
    d.open_total = sum(n for s, n in zip(OPEN_STATES, totals, strict=True) if s in API_OPEN)
    d.breached_now, d.breached_more = breached[:20], more or len(breached) > 20
    await _name_tickets(ctx, d.breached_now)

    d.engineers = sorted((e for e in engineers if e.get("status") in WORKING), key=lambda e: (-int(e.get("open_load", 0)), str(e.get("name"))))
    d.loads = bars([(str(e.get("id")), str(e.get("name")), float(e.get("open_load", 0)), f"{int(e.get('open_load', 0))}/{int(e.get('capacity', 0))}",
                     "bad" if int(e.get("open_load", 0)) >= int(e.get("capacity", 1)) else "info", "")
                    for e in d.engineers[:15]], scale=float(max([int(e.get("capacity", 0)) for e in d.engineers[:15]] or [1])))

    d.waiting = list(waiting.get("items", []))
    d.waiting_total = int(waiting.get("total", len(d.waiting)))

    shown = latest_versions(list(stored))
    d.reports = shown[:20]
    d.earlier = earlier_versions(list(stored))
    counts = {s: 0 for s in SIGNOFF_STATES}
    for r in stored:  # every version: a returned one stays counted as returned
        if r.get("state") in counts:
            counts[str(r["state"])] += 1
    d.signoff = bars([(s, ctx.gettext(f"report.{s}"), float(n), str(n), {"draft": "warn", "returned": "bad", "acknowledged": "ok"}.get(s, "info"), "")
                      for s, n in counts.items()])
    d.due = [r for r in shown if r.get("state") in ("draft", "returned")]
    return d


DONE = {"generated": N_("The report was generated; submit it to the agency when it is ready."),
        "submitted": N_("Submitted to the agency."),
        "answered": N_("Replacement request answered; the agency sees your plan and date."),
        "closed": N_("Security incident closed."),
        "manual": N_("The maintenance manual was published; it is among the stored reports, to submit to the agency.")}
REFUSED_COOKIE = "opsdesk_refused"
REFUSED_MAX = 1500  # characters of the API's words kept (a cookie holds about 4 KB)


def _refusal_mac(ctx: Ctx, raw: str) -> str:
    key = hashlib.sha256(("opsdesk-console-refusal:" + ctx.console.settings.session_secret).encode()).digest()
    who = ctx.session.username if ctx.session else ""
    return hmac.new(key, f"{who}\n{raw}".encode(), hashlib.sha256).hexdigest()


def refused(ctx: Ctx, message: str) -> Response:
    """A refused act: back to `/` (303, so a reload reads the page instead of posting again) with the API's words
    in a signed, one-minute cookie for that person's next page."""
    raw = base64.urlsafe_b64encode(message[:REFUSED_MAX].encode()).decode().rstrip("=")
    response = ctx.redirect("/")
    response.set_cookie(REFUSED_COOKIE, f"{raw}.{_refusal_mac(ctx, raw)}", max_age=60, httponly=True, samesite="strict",
                        secure=secure(ctx.request, ctx.console), path="/")
    return response


def take_refusal(ctx: Ctx) -> str | None:
    """The refusal a redirect carried (None when absent, altered or another person's)."""
    value = ctx.request.cookies.get(REFUSED_COOKIE) or ""
    raw, _, mac = value.partition(".")
    if not raw or not hmac.compare_digest(mac, _refusal_mac(ctx, raw)):
        return None
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def shown_once(ctx: Ctx, response: Response) -> Response:
    """The refusal's cookie is dropped by the page that showed it."""
    if REFUSED_COOKIE in ctx.request.cookies:
        response.delete_cookie(REFUSED_COOKIE, path="/", httponly=True, samesite="strict", secure=secure(ctx.request, ctx.console))
    return response


async def manager_home(ctx: Ctx, error: str | None = None) -> Response:
    error = error or take_refusal(ctx)
    done = DONE.get(ctx.request.query_params.get("done", ""))
    notice = ctx.gettext(done) if done and error is None else None
    return shown_once(ctx, ctx.render("manager/dashboard.html", d=await dashboard(ctx), notice=notice, error=error, monthly=MONTHLY,
                                      waited=waited(ctx), act_words=lambda a: act_words(ctx, str(a)), today=_today(ctx)))


def _today(ctx: Ctx) -> str:
    return ctx.now().astimezone(ctx.console.zone).date().isoformat()


@router.get("/dashboard/panel")
async def panel(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    """The dashboard's body alone, swapped in by htmx when the live stream says something changed."""
    return ctx.render("manager/panel.html", d=await dashboard(ctx), monthly=MONTHLY, waited=waited(ctx),
                      act_words=lambda a: act_words(ctx, str(a)), today=_today(ctx))


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
        return refused(ctx, ctx.gettext("Choose a report and a month (YYYY-MM)."))
    lang = "en" if ctx.lang == "en" else "zh-CN"
    try:
        await ctx.api.call("POST", f"/reports/{kind}/{period}/generate", token=ctx.token, lang=ctx.lang, params={"lang": lang})
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=generated")


@router.post("/manager/reports/{report_id}/submit")
async def submit(ctx: Annotated[Ctx, Depends(checked)], report_id: str) -> Response:
    """Submit a stored report to the agency (a returned one goes as its next version)."""
    try:
        await ctx.api.call("POST", f"/reports/stored/{quote(report_id, safe='')}/submit", token=ctx.token, lang=ctx.lang, json={})
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=submitted")


@router.post("/manager/replacements/{engineer_id}/{request_id}/answer")
async def answer_replacement(
    ctx: Annotated[Ctx, Depends(checked)], engineer_id: str, request_id: str, plan: Annotated[str, Form()] = "",
    replace_by: Annotated[str, Form()] = "",
) -> Response:
    """Answer the agency's replacement request with a plan and the day the engineer is replaced by (dispatch checks both)."""
    path = f"/engineers/{quote(engineer_id, safe='')}/replacement-requests/{quote(request_id, safe='')}/answer"
    try:
        await ctx.api.call("POST", path, token=ctx.token, lang=ctx.lang, json={"plan": plan.strip(), "replace_by": replace_by.strip()})
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=answered#replacements")


@router.post("/manager/incidents/{incident_id}/close")
async def close_incident(ctx: Annotated[Ctx, Depends(checked)], incident_id: str, note: Annotated[str, Form()] = "") -> Response:
    """Close a security incident the agency has acknowledged, saying how it was dealt with (intake requires the note)."""
    try:
        await ctx.api.call("POST", f"/security-incidents/{quote(incident_id, safe='')}/close", token=ctx.token, lang=ctx.lang,
                           json={"note": note.strip()})
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=closed#incidents")


@router.post("/manager/manual")
async def publish_manual(
    ctx: Annotated[Ctx, Depends(checked)], article_ids: Annotated[str, Form()] = "", category: Annotated[str, Form()] = "",
) -> Response:
    """Publish the maintenance manual from the articles named (in chapter order) or a category's published articles;
    reporting refuses both or neither, and names articles not published."""
    ids = [a for a in re.split(r"[\s,，、]+", article_ids) if a]
    body: Json = {"article_ids": ids} if ids else {}
    if category.strip():
        body["category"] = category.strip()
    lang = "en" if ctx.lang == "en" else "zh-CN"
    try:
        await ctx.api.call("POST", "/reports/manual", token=ctx.token, lang=ctx.lang, params={"lang": lang}, json=body)
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=manual#reports")
