"""The agency's home at `/` (role agency, 信息中心): its inboxes.

- Authorizations waiting: tickets in `awaiting_authorization`, each approved or declined with one click
  (`POST /api/v1/tickets/{id}/authorization {decision, note}`; a decline needs the note, which the API enforces).
- Reports submitted: each read in the page (the PDF through `/reports/file/{id}.pdf`, this console's proxy of
  `GET /api/v1/reports/stored/{id}?format=pdf`), acknowledged or returned with comments.
Security incidents and replacement requests join when their APIs exist (not yet).

The panel (`/agency/panel`) is refreshed by the live stream (console.js refreshes `#workspace`) and every minute.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import Response

from ..api import ApiError, Json
from ..labels import N_
from ..web import Ctx, checked, signed_in
from .manager import waited

router = APIRouter()
WAITING = 50
DONE = {
    "approved": N_("Approved: the ticket goes to dispatch."),
    "declined": N_("Declined: the ticket is cancelled with your note."),
    "acknowledged": N_("Report acknowledged."),
    "returned": N_("Report returned with your comments."),
}


async def inboxes(ctx: Ctx) -> tuple[list[Json], int, list[Json], list[Json], list[str]]:
    """(tickets waiting, their total, reports submitted, reports decided lately, errors)."""
    errors: list[str] = []

    async def waiting() -> Json:
        try:
            return await ctx.api.tickets(ctx.token, lang=ctx.lang, params=[("status", "awaiting_authorization"), ("limit", str(WAITING))])
        except ApiError as exc:
            errors.append(exc.message or exc.code)
            return {"items": [], "total": 0}

    async def stored() -> list[Json]:
        try:
            return list((await ctx.api.call("GET", "/reports/stored", token=ctx.token, lang=ctx.lang)).body or [])
        except ApiError as exc:
            errors.append(exc.message or exc.code)
            return []

    page, reports = await asyncio.gather(waiting(), stored())
    submitted = [r for r in reports if r.get("state") == "submitted"]
    submitted.sort(key=lambda r: str(r.get("submitted_at") or ""))
    decided = [r for r in reports if r.get("state") in ("acknowledged", "returned")]
    decided.sort(key=lambda r: str(r.get("acknowledged_at") or r.get("returned_at") or r.get("submitted_at") or ""), reverse=True)
    items = sorted(page.get("items", []), key=lambda t: str(t.get("reported_at") or ""))  # the longest waiting first
    return items, int(page.get("total", len(items))), submitted, decided[:10], errors


async def agency_home(ctx: Ctx, error: str | None = None) -> Response:
    """The inboxes; after a refused act (shown with the API's words) the same page, so the person can correct it."""
    waiting, total, submitted, decided, errors = await inboxes(ctx)
    done = DONE.get(ctx.request.query_params.get("done", ""))
    reading = ctx.request.query_params.get("report", "")
    open_report = next((r for r in submitted if r.get("_id") == reading), submitted[0] if submitted else None)
    return ctx.render("agency/home.html", waiting=waiting, waiting_total=total, submitted=submitted,
                      decided=decided, open_report=open_report, errors=errors, error=error,
                      notice=ctx.gettext(done) if done and error is None else None, waited=waited(ctx))


@router.get("/agency/panel")
async def panel(ctx: Annotated[Ctx, Depends(signed_in)], report: str = "") -> Response:
    waiting, total, submitted, decided, errors = await inboxes(ctx)
    open_report = next((r for r in submitted if r.get("_id") == report), submitted[0] if submitted else None)
    return ctx.render("agency/panel.html", waiting=waiting, waiting_total=total, submitted=submitted, decided=decided,
                      open_report=open_report, errors=errors, waited=waited(ctx))


@router.post("/agency/tickets/{ticket_id}/authorization")
async def decide(
    ctx: Annotated[Ctx, Depends(checked)], ticket_id: str, decision: Annotated[str, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    if decision not in ("approve", "decline"):
        raise HTTPException(404, "no such action")
    body: Json = {"decision": decision, **({"note": note.strip()} if note.strip() else {})}
    try:
        await ctx.api.call("POST", f"/tickets/{quote(ticket_id, safe='')}/authorization", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await agency_home(ctx, error="; ".join(exc.field_messages()))
    return ctx.redirect("/?done=" + ("approved" if decision == "approve" else "declined"))


@router.post("/agency/reports/{report_id}/{step}")
async def sign(
    ctx: Annotated[Ctx, Depends(checked)], report_id: str, step: str, text: Annotated[str, Form()] = "",
) -> Response:
    """acknowledge (an optional note) or return (comments required: the API answers 422 without them)."""
    if step == "acknowledge":
        body: Json = {"note": text.strip()} if text.strip() else {}
    elif step == "return":
        body = {"comments": text.strip()}
    else:
        raise HTTPException(404, "no such action")
    try:
        await ctx.api.call("POST", f"/reports/stored/{quote(report_id, safe='')}/{step}", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return await agency_home(ctx, error="; ".join(exc.field_messages()))
    return ctx.redirect("/?done=" + ("acknowledged" if step == "acknowledge" else "returned"))


@router.get("/reports/file/{report_id}.pdf")
async def report_pdf(ctx: Annotated[Ctx, Depends(signed_in)], report_id: str) -> Response:
    """A stored report's PDF through this console (the token stays here), shown inline and framable by the console's
    own pages only (the console's other pages may not be framed at all)."""
    try:
        reply = await ctx.api.client.get(
            f"/api/v1/reports/stored/{quote(report_id, safe='')}", params={"format": "pdf"},
            headers={"Authorization": f"Bearer {ctx.token}", "Accept-Language": ctx.lang},
        )
    except httpx.HTTPError:  # the gateway unreachable
        raise HTTPException(502, "the gateway is unreachable") from None
    if reply.status_code >= 400 or not reply.content.startswith(b"%PDF"):
        raise HTTPException(404, "Not Found")
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in report_id)
    return ctx.finish(Response(reply.content, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{safe}.pdf"',
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Security-Policy": "frame-ancestors 'self'",
        "Cache-Control": "private, no-store",
    }))
