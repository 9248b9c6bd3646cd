"""The requester's portal: report a problem in plain words (articles offered while typing; stopping at one is
counted as a deflection), my tickets with status, engineer and ETA, and each ticket's page (comments, cancel before
work starts, satisfaction on resolution)."""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from .. import problems
from ..api import ApiError, Json
from ..timeline import timeline
from ..web import Ctx, cached, checked, remember, signed_in
from .calls import catalog

router = APIRouter()
OPEN = ("new", "assigned", "in_progress", "pending")
DETAILS = 20


async def requester_home(ctx: Ctx) -> Response:
    """My tickets, newest first; open ones read in detail for the engineer's ETA (a person has few open at once)."""
    try:
        items: list[Json] = (await ctx.api.tickets(ctx.token, lang=ctx.lang, params=[("limit", "50")]))["items"]
        error = None
    except ApiError as exc:
        items, error = [], exc.message
    gate = asyncio.Semaphore(6)

    async def detail(t: Json) -> tuple[str, Json | None]:
        key = ("mine", ctx.token[-16:], str(t["id"]), str(t["version"]))
        hit = cached(ctx.console, key, 20.0)
        if hit is None:
            async with gate:
                try:
                    hit = (await ctx.api.ticket(ctx.token, str(t["id"]), lang=ctx.lang)).body
                except ApiError:
                    return str(t["id"]), None
            remember(ctx.console, key, hit, 20.0)
        return str(t["id"]), hit

    wanted = [t for t in items if t.get("status") in OPEN or t.get("status") == "resolved"][:DETAILS]
    details = dict(await asyncio.gather(*(detail(t) for t in wanted)))
    return ctx.render("portal/home.html", items=items, details=details, error=error)


async def _problems(ctx: Ctx) -> list[tuple[problems.Problem, str]]:
    try:
        return problems.offered(await catalog(ctx))
    except ApiError:
        return []


@router.get("/report")
async def report_form(ctx: Annotated[Ctx, Depends(signed_in)], problem: str = "", title: str = "", description: str = "") -> Response:
    """The form, filled again with what the person typed when they come back from an article."""
    v = {"problem": problem[:50], "title": title[:200], "description": description[:4000]}
    return ctx.render("portal/report.html", choices=await _problems(ctx), v=v, errors=[])


@router.get("/report/articles")
async def report_articles(ctx: Annotated[Ctx, Depends(signed_in)], title: str = "", description: str = "", problem: str = "") -> Response:
    """Articles offered while the person types: the knowledge base's search, as this person may read it."""
    text = f"{title} {description}".strip()[:500]
    hits: list[Json] = []
    if len(text) >= 2:
        try:
            hits = (await ctx.api.kb_search(ctx.token, text, lang=ctx.lang, limit=3)).get("results", [])
        except ApiError:
            hits = []
    back = urlencode({"came_from": "report", "problem": problem[:50], "title": title[:200], "description": description[:1000]})
    return ctx.render("portal/articles.html", hits=hits, back=back)


@router.post("/report/solved")
async def report_solved(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    """The person stopped at an article: counted as a deflection (POST /kb/deflections), and no ticket is filed."""
    form = await ctx.request.form()
    article_id = str(form.get("article_id") or "").strip()[:200]
    title = ""
    try:
        title = str((await ctx.api.kb_article(ctx.token, article_id, lang=ctx.lang)).get("content", {}).get("title", ""))
        await ctx.api.kb_deflection(ctx.token, article_id, lang=ctx.lang)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return ctx.render("error.html", status_code=exc.status, message=exc.message)
    return ctx.render("portal/solved.html", title=title)


@router.post("/report")
async def report(ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    form = await ctx.request.form()
    v = {k: str(form.get(k) or "").strip() for k in ("problem", "title", "description")}
    services = await catalog(ctx)
    code = problems.service_for(v["problem"], services)
    choice = problems.BY_KEY.get(v["problem"])
    errors = []
    if code is None or choice is None:
        errors.append(ctx.gettext("Choose what kind of problem it is."))
    if not v["title"]:
        errors.append(ctx.gettext("Say in a few words what is wrong."))
    if errors:
        return ctx.render("portal/report.html", choices=problems.offered(services), v=v, errors=errors)
    assert choice is not None and code is not None
    body: Json = {"title": v["title"], "description": v["description"], "channel": "web", "service_code": code}
    try:
        created = (await ctx.api.create_ticket(ctx.token, body, lang=ctx.lang)).body
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return ctx.render("portal/report.html", choices=problems.offered(services), v=v, errors=exc.field_messages())
    return ctx.redirect(f"/tickets/{created['number']}")


def render_mine(ctx: Ctx, ticket: Json, etag: str | None, *, full: bool, notice: str | None = None,
                errors: list[str] | None = None, status_code: int = 200) -> Response:
    """A requester's own ticket: status, engineer and ETA, comments, and what they may do now."""
    allowed = set(ticket.get("allowed_transitions") or [])
    status = ticket.get("status")
    offered = [a for a, ok in (
        ("comment", status not in ("closed", "cancelled")),
        ("cancel", "cancelled" in allowed),
        ("rate", status == "resolved" and "closed" in allowed),
        ("reopen", status == "resolved" and bool(allowed - {"closed"})),
    ) if ok]
    return ctx.render(
        "portal/page.html" if full else "portal/ticket.html", status_code=status_code, ticket=ticket, etag=etag,
        items=timeline(ticket, ticket.get("history")), offered=offered, notice=notice, errors=errors or [],
    )
