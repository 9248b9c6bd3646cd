"""Every ticket at /tickets/{number}: its clocks, people, timeline and the actions this person may take."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from .. import actions
from ..api import ApiError, Json
from ..timeline import timeline
from ..web import Ctx, checked, signed_in
from .calls import local_input, reported_instant, service_names

router = APIRouter()
REF = re.compile(r"^[A-Za-z0-9\-]{1,64}$")


def _ref(number: str) -> str:
    if not REF.match(number):
        raise HTTPException(404, "no such ticket")
    return number


async def _load(ctx: Ctx, ref: str) -> tuple[Json, str | None, list[Json] | None]:
    reply = await ctx.api.ticket(ctx.token, ref, lang=ctx.lang)
    history: list[Json] | None = None
    if ctx.session and ctx.session.role != "requester":
        try:
            history = await ctx.api.history(ctx.token, ref, lang=ctx.lang)
        except ApiError:
            history = None
    return reply.body, reply.etag, history


async def _engineers(ctx: Ctx, offered: list[str]) -> list[Json]:
    if "reassign" not in offered:
        return []
    try:
        return await ctx.api.engineers(ctx.token, lang=ctx.lang)
    except ApiError:
        return []


async def _localized_reason(ctx: Ctx, ticket: Json) -> None:
    """The ticket keeps dispatch's reason as dispatch first wrote it; dispatch's own assignment renders it in the
    reader's language, so the desk reads that one."""
    assignee = ticket.get("assignee") or {}
    if not assignee or assignee.get("withdrawn_at"):
        return
    try:
        assignment = await ctx.api.assignment(ctx.token, ticket["id"], lang=ctx.lang)
    except ApiError:
        return
    if assignment.get("engineer_id") == assignee.get("engineer_id") and assignment.get("reason"):
        assignee["reason"] = assignment["reason"]


async def render_ticket(ctx: Ctx, ref: str, *, template: str, notice: str | None = None, errors: list[str] | None = None,
                        stale: bool = False, status_code: int = 200, kept: dict[str, str] | None = None) -> Response:
    """`kept`: what the person typed into an act the API refused (a stale version, a conflict), shown again in its
    form so a 412 or 409 costs no retyping."""
    try:
        ticket, etag, history = await _load(ctx, ref)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return ctx.render("error.html", status_code=exc.status, message=exc.message)
    role = ctx.session.role if ctx.session else ""
    full = template == "ticket/page.html"
    if role == "engineer":
        from .engineer import render_job

        return await render_job(ctx, ticket, etag, history, full=full, notice=notice, errors=errors, status_code=status_code)
    if role == "requester":
        from .portal import render_mine

        return render_mine(ctx, ticket, etag, full=full, notice=notice, errors=errors, status_code=status_code)
    offered = actions.offered(ticket, role)
    await _localized_reason(ctx, ticket)
    soon = ctx.now() + timedelta(minutes=30)
    return ctx.render(
        template, status_code=status_code, ticket=ticket, etag=etag, items=timeline(ticket, history), offered=offered,
        engineers=await _engineers(ctx, offered), notice=notice, errors=errors or [], stale=stale, kept=kept or {},
        names=await service_names(ctx), eta_default=local_input(ctx, soon.replace(second=0, microsecond=0)),
    )


@router.get("/tickets/{number}")
async def ticket_page(number: str, ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    return await render_ticket(ctx, _ref(number), template="ticket/page.html")


@router.get("/tickets/{number}/panel")
async def ticket_panel(number: str, ctx: Annotated[Ctx, Depends(signed_in)]) -> Response:
    """The ticket without the page around it: what htmx swaps after an action or a live event."""
    return await render_ticket(ctx, _ref(number), template="ticket/panel.html")


def _body(action: str, form: dict[str, str]) -> tuple[str, Json | None]:
    """The API call (path under /tickets/{ref}/) and body for a form the page posted."""
    text = {k: v.strip() for k, v in form.items()}
    if action == "comment":
        return "comments", {"body": text.get("body", ""), "internal": text.get("internal") == "on"}
    if action == "start":
        return "status", {"status": "in_progress"}
    if action == "pending":
        return "status", {"status": "pending", "pending_reason": text.get("pending_reason") or None, "reason": text.get("reason") or None}
    if action == "cancel":
        return "status", {"status": "cancelled", "reason": text.get("reason") or None}
    if action == "resolve":
        body: Json = {"resolution": text.get("resolution", "")}
        if text.get("article_id"):
            body["article_id"] = text["article_id"]
        return "resolve", body
    if action == "dispatch":
        return "dispatch", None
    if action == "acknowledge":
        return "acknowledge", None
    if action == "authorize":  # the agency's decision, the call its inbox makes
        return "authorization", {"decision": text.get("decision", ""), "note": text.get("note") or None}
    if action == "review":
        return "service-record/review", {"decision": text.get("decision", ""), "note": text.get("note") or None}
    if action == "close":
        return "close", {}
    if action == "rate":
        rating: Json = {}
        if text.get("satisfaction", "").isdigit():
            rating["satisfaction"] = int(text["satisfaction"])
        if text.get("comment"):
            rating["comment"] = text["comment"]
        return "close", rating
    if action == "reopen":
        return "reopen", {"reason": text.get("reason", "")}
    raise HTTPException(404, "no such action")


@router.post("/tickets/{number}/act/{action}")
async def act(number: str, action: str, ctx: Annotated[Ctx, Depends(checked)]) -> Response:
    ref = _ref(number)
    form = {k: v for k, v in (await ctx.request.form()).items() if isinstance(v, str)}
    try:
        if action == "reassign":
            await ctx.api.reassign(ctx.token, ref, to=form.get("to", "").strip(), reason=form.get("reason", "").strip(), lang=ctx.lang)
        elif action == "confirm":
            # Confirming execution is dispatch's step for the desk, with the ETA the engineer gave (local time).
            eta = reported_instant(ctx, form.get("eta", "").strip())
            await ctx.api.assignment_step(ctx.token, ref, "confirm", {"eta": eta} if eta else {}, lang=ctx.lang)
        else:
            path, body = _body(action, form)
            # Comments are additive and never conflict; every other change names the version the person saw. A
            # requester's acts (cancel, rate, reopen) are checked by the API against the state (409), not the version:
            # dispatch assigning meanwhile must not refuse their cancel.
            requester = ctx.session is not None and ctx.session.role == "requester"
            if_match = None if action == "comment" or requester else (form.get("etag") or None)
            reply = await ctx.api.act(ctx.token, ref, path, body, lang=ctx.lang, if_match=if_match)
            if action == "acknowledge" and reply.replayed:
                notice = ctx.gettext("It was acknowledged already; nothing changed.")
                return await render_ticket(ctx, ref, template="ticket/panel.html", notice=notice)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        kept = {**form, "_act": action}
        if exc.status == 412:
            return await render_ticket(ctx, ref, template="ticket/panel.html", stale=True, kept=kept)
        return await render_ticket(ctx, ref, template="ticket/panel.html", errors=exc.field_messages(), kept=kept)
    return await render_ticket(ctx, ref, template="ticket/panel.html", notice=ctx.gettext("Saved."))
