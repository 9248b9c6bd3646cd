"""Every ticket at /tickets/{number}: its clocks, people, timeline and the actions this person may take."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import Response

from .. import actions
from ..api import ApiError, Json
from ..web import Ctx, checked, signed_in

router = APIRouter()
REF = re.compile(r"^[A-Za-z0-9\-]{1,64}$")


def _ref(number: str) -> str:
    if not REF.match(number):
        raise HTTPException(404, "no such ticket")
    return number


def timeline(ticket: Json, history: list[Json] | None) -> list[dict[str, Any]]:
    """Comments and status changes in time order (newest last)."""
    items: list[dict[str, Any]] = [
        {"kind": "note" if c.get("internal") else "comment", "at": c["at"], "who": c.get("author_name") or c.get("author"), "body": c["body"]}
        for c in ticket.get("comments") or []
    ]
    for entry in history or []:
        changes = entry.get("changes") or {}
        if "status" in changes:
            items.append({"kind": "status", "at": entry["at"], "who": entry.get("by_name") or entry.get("by"),
                          "old": changes["status"].get("old"), "new": changes["status"].get("new"),
                          "body": (changes.get("reason") or {}).get("new") or ""})
    items.sort(key=lambda i: str(i["at"]))
    return items


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


async def render_ticket(ctx: Ctx, ref: str, *, template: str, notice: str | None = None, errors: list[str] | None = None,
                        stale: bool = False, status_code: int = 200) -> Response:
    try:
        ticket, etag, history = await _load(ctx, ref)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        return ctx.render("error.html", status_code=exc.status, message=exc.message)
    offered = actions.offered(ticket, ctx.session.role if ctx.session else "")
    return ctx.render(
        template, status_code=status_code, ticket=ticket, etag=etag, items=timeline(ticket, history), offered=offered,
        engineers=await _engineers(ctx, offered), notice=notice, errors=errors or [], stale=stale,
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
    if action == "review":
        return "service-record/review", {"decision": text.get("decision", ""), "note": text.get("note") or None}
    if action == "close":
        return "close", {}
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
        else:
            path, body = _body(action, form)
            # Comments are additive and never conflict; every other change names the version the person saw.
            if_match = None if action == "comment" else (form.get("etag") or None)
            await ctx.api.act(ctx.token, ref, path, body, lang=ctx.lang, if_match=if_match)
    except ApiError as exc:
        if exc.status == 401:
            return ctx.redirect("/login")
        if exc.status == 412:
            return await render_ticket(ctx, ref, template="ticket/panel.html", stale=True)
        return await render_ticket(ctx, ref, template="ticket/panel.html", errors=exc.field_messages())
    return await render_ticket(ctx, ref, template="ticket/panel.html", notice=ctx.gettext("Saved."))
