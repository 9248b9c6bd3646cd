"""The engineer's phone: my assignments in order of urgency with the next step as a large button, and each job's
page (the ticket, where to go, the steps, the service record with parts from the spare stock, notes).

Steps go to dispatch through the gateway (`/api/v1/assignments/{ticket}/{step}`); dispatch decides who may take
them. Confirming execution is the desk's: the engineer's ETA reaches the desk as a note on the ticket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from .. import work
from ..api import ApiError, Json
from ..timeline import timeline
from ..web import Ctx, cached, checked, remember, signed_in
from .calls import local_input, reported_instant, service_names

router = APIRouter()
STEPS = ("accept", "eta", "delay", "help", "escalate", "complete")
PART_ROWS = 3


async def _jobs(ctx: Ctx) -> tuple[list[work.Job], str | None]:
    try:
        page = await ctx.api.assignments(ctx.token, lang=ctx.lang, params=[("status", s) for s in work.SHOWN] + [("limit", "100")])
    except ApiError as exc:
        return [], exc.message
    items: list[Json] = page.get("items", [])
    gate = asyncio.Semaphore(6)

    async def detail(a: Json) -> Json | None:
        key = ("eng-ticket", ctx.token[-16:], str(a.get("ticket_id")), str(a.get("version")))
        hit = cached(ctx.console, key, 10.0)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        async with gate:
            try:
                body = (await ctx.api.ticket(ctx.token, str(a["ticket_id"]), lang=ctx.lang)).body
            except ApiError:
                return None
        remember(ctx.console, key, body, 10.0)
        return body  # type: ignore[no-any-return]

    tickets = await asyncio.gather(*(detail(a) for a in items))
    jobs = [work.Job(a, t) for a, t in zip(items, tickets, strict=True)]
    return work.in_order(jobs, ctx.now()), None


async def engineer_home(ctx: Ctx, *, template: str = "engineer/home.html") -> Response:
    jobs, error = await _jobs(ctx)
    return ctx.render(template, jobs=jobs, error=error, names=await service_names(ctx), eta_default=_eta_default(ctx))


@router.get("/work/list")
async def work_list(ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    """The list alone: what htmx swaps when a live event arrives."""
    return await engineer_home(ctx, template="engineer/list.html")


def _eta_default(ctx: Ctx) -> str:
    soon = ctx.now() + timedelta(minutes=30)
    return local_input(ctx, soon.replace(minute=(soon.minute // 5) * 5, second=0, microsecond=0))


async def _spares(ctx: Ctx, site: str | None) -> list[Json]:
    key = ("spares", site or "")
    hit = cached(ctx.console, key, 30.0)
    if hit is None:
        params = [("limit", "100")] + ([("site", site)] if site else [])
        try:
            hit = [s for s in (await ctx.api.spares(ctx.token, lang=ctx.lang, params=params)).get("items", []) if s.get("available", 0) > 0]
        except ApiError:
            hit = []
        remember(ctx.console, key, hit, 30.0)
    return hit  # type: ignore[no-any-return]


async def render_job(ctx: Ctx, ticket: Json, etag: str | None, history: list[Json] | None, *, full: bool,
                     notice: str | None = None, errors: list[str] | None = None, status_code: int = 200) -> Response:
    """The job page for the engineer (the ticket already read by the caller)."""
    assignment: Json | None = None
    try:
        assignment = await ctx.api.assignment(ctx.token, ticket["id"], lang=ctx.lang)
    except ApiError:
        assignment = None
    asset: Json | None = None
    if ticket.get("asset_tag"):
        try:
            asset = await ctx.api.asset(ctx.token, ticket["asset_tag"], lang=ctx.lang)
        except ApiError:
            asset = None
    job = work.Job(assignment or {}, ticket)
    spares = await _spares(ctx, (assignment or {}).get("site") or ticket.get("site")) if "complete" in job.steps else []
    return ctx.render(
        "engineer/page.html" if full else "engineer/job.html", status_code=status_code, ticket=ticket, etag=etag, job=job,
        assignment=assignment, asset=asset, where=work.location(asset, ticket), spares=spares, part_rows=range(PART_ROWS),
        items=timeline(ticket, history), offered=["comment"] if ticket.get("status") not in ("closed", "cancelled") else [],
        names=await service_names(ctx), eta_default=_eta_default(ctx), notice=notice, errors=errors or [],
    )


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def step_body(ctx: Ctx, step: str, form: dict[str, str]) -> tuple[str, Json | None]:
    """The dispatch call (path under /assignments/{ticket}/) and its body for a step the phone posted."""
    text = {k: v.strip() for k, v in form.items()}
    if step == "accept":
        return "accept", None
    if step == "delay":
        return "delay", {"reason": text.get("reason", ""), "cannot_go": text.get("cannot_go") == "on"}
    if step == "help":
        return "help", {"question": text.get("question", "")}
    if step == "escalate":
        return "escalations", {"kind": text.get("kind") or "technical", "description": text.get("description", "")}
    if step == "complete":
        parts: list[Json] = []
        for i in range(PART_ROWS):
            sku, part, qty = text.get(f"sku_{i}", ""), text.get(f"part_{i}", ""), _int(text.get(f"qty_{i}", "1"), 1)
            if sku or part:
                parts.append({**({"sku": sku} if sku else {}), **({"part": part} if part else {}), "quantity": max(qty, 1)})
        return "complete", {"work_done": text.get("work_done", ""), "minutes_on_site": max(_int(text.get("minutes_on_site", "0")), 0),
                            "parts_used": parts}
    raise HTTPException(404, "no such action")


def still_mine_after_delay(moved: Json, engineer_id: str | None, gettext: Callable[[str], str]) -> str | None:
    """What the phone says when a delay left the job with this engineer (dispatch re-dispatches at once, but out of
    service hours it holds the job for the next shift: the list would show it unchanged, as if the delay were lost).
    None when the job went to someone else. Dispatch's own words (in the reader's language) say until when."""
    if not engineer_id or moved.get("engineer_id") != engineer_id:
        return None
    history = moved.get("history") or []
    last = history[-1] if history else {}
    why = str(last.get("note") or "") if last.get("action") == "not re-dispatched" else ""
    if why:
        return gettext("Delay reported. The job stays with you for now: %(why)s") % {"why": why}
    return gettext("Delay reported. The job stays with you for now.")


@router.post("/work/{number}/{step}")
async def take_step(number: str, step: str, ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    from .tickets import _ref, render_ticket

    ref = _ref(number)
    if step not in STEPS:
        raise HTTPException(404, "no such action")
    form = {k: v for k, v in (await ctx.request.form()).items() if isinstance(v, str)}
    back_home = form.get("from") == "list"
    moved: Json = {}
    try:
        if step == "eta":
            eta = reported_instant(ctx, form.get("eta", "").strip())
            if eta is None:
                return await render_ticket(ctx, ref, template="ticket/panel.html", errors=[ctx.gettext("Give the time you will be there.")])
            shown = ctx.local(datetime.fromisoformat(eta))
            body = ctx.gettext("ETA %(time)s: please confirm the job.") % {"time": shown}
            await ctx.api.act(ctx.token, ref, "comments", {"body": body, "internal": True}, lang=ctx.lang)
        else:
            path, payload = step_body(ctx, step, form)
            moved = await ctx.api.assignment_step(ctx.token, ref, path, payload, lang=ctx.lang)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return await render_ticket(ctx, ref, template="ticket/panel.html", errors=exc.field_messages())
    if step == "delay":
        kept = still_mine_after_delay(moved, ctx.session.engineer_id if ctx.session else None, ctx.gettext)
        if kept is not None:  # dispatch found no one to take it now (out of hours): the job stays, and the page says why
            return await render_ticket(ctx, ref, template="ticket/panel.html", notice=kept)
        return ctx.redirect("/")  # a delay sends the job to someone else at once: it leaves this engineer's list
    if back_home:
        if ctx.request.headers.get("hx-request"):
            return await engineer_home(ctx, template="engineer/list.html")
        return ctx.redirect("/")
    return await render_ticket(ctx, ref, template="ticket/panel.html", notice=ctx.gettext("Saved."))

