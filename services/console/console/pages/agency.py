"""The agency's home at `/` (role agency, 信息中心): its inboxes.

- Authorizations waiting: tickets in `awaiting_authorization`, each approved or declined with one click
  (`POST /api/v1/tickets/{id}/authorization {decision, note}`; a decline needs the note, which the API enforces).
- Emergency work waiting for a decision: work the desk started first (`GET /api/v1/tickets?authorization=awaiting&
  emergency=true`, in whatever state the work is), each with its authorization clock (`GET /api/v1/timers?timer=
  authorization`: when the decision is due and the time left, or how late), decided with the same one click.
- Reports submitted: each read in the page (the PDF through `/reports/file/{id}.pdf`, this console's proxy of
  `GET /api/v1/reports/stored/{id}?format=pdf`), acknowledged or returned with comments.
- Security incidents (`GET /api/v1/security-incidents?state=open`): who did what, when, on which ticket; each
  acknowledged with an optional note (`POST .../{id}/acknowledge`); the project manager closes it afterwards.
- Replacement requests (`GET /api/v1/replacement-requests`): asked with a reason
  (`POST /api/v1/engineers/{id}/replacement-requests`, one Idempotency-Key per form), the project manager's plan and
  date when answered, the answer's due time and whether it is late.

Services read by name (the catalog in the reader's language), incidents' acts in words (manager.act_words). A refused
act redirects back to `/` with the API's words (manager.refused: POST-redirect-GET, so a reload does not post again).

The panel (`/agency/panel`) is refreshed by the live stream (console.js refreshes `#workspace`) and every minute.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import Response

from ..api import ApiError, Json
from ..labels import N_
from ..web import Ctx, checked, signed_in
from .calls import service_names
from .manager import act_words, refused, shown_once, take_refusal, waited

router = APIRouter()
WAITING = 50
DONE = {
    "incident": N_("Security incident acknowledged."),
    "replacement": N_("Replacement requested; the project manager answers with a plan and a date."),
    "approved": N_("Approved: the ticket goes to dispatch."),
    "declined": N_("Declined: the ticket is cancelled with your note."),
    "acknowledged": N_("Report acknowledged."),
    "returned": N_("Report returned with your comments."),
}


@dataclass
class Inboxes:
    waiting: list[Json] = field(default_factory=list)
    waiting_total: int = 0
    emergency: list[Json] = field(default_factory=list)
    emergency_total: int = 0
    clocks: dict[str, Json] = field(default_factory=dict)  # ticket id -> its authorization clock
    submitted: list[Json] = field(default_factory=list)
    decided: list[Json] = field(default_factory=list)
    incidents: list[Json] = field(default_factory=list)
    replacements: list[Json] = field(default_factory=list)
    engineers: list[Json] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    open_report: Json | None = None
    form_key: str = ""


async def inboxes(ctx: Ctx, report: str = "") -> Inboxes:
    """Every inbox in one gather; one that cannot be read leaves the others shown, with the API's message."""
    box = Inboxes(form_key=uuid.uuid4().hex)

    async def read(path: str, params: Any, default: Any) -> Any:
        try:
            return (await ctx.api.call("GET", path, token=ctx.token, lang=ctx.lang, params=params)).body
        except ApiError as exc:
            if exc.status != 404:  # a service without the inbox yet shows nothing, not an error
                box.errors.append(exc.message or exc.code)
            return default

    page, emergency, clocks, reports, incidents, replacements, engineers = await asyncio.gather(
        read("/tickets", [("status", "awaiting_authorization"), ("limit", str(WAITING))], {"items": [], "total": 0}),
        read("/tickets", [("authorization", "awaiting"), ("emergency", "true"), ("limit", str(WAITING))], {"items": [], "total": 0}),
        read("/timers", [("timer", "authorization"), ("limit", "500")], {"items": []}),
        read("/reports/stored", None, []),
        read("/security-incidents", {"state": "open"}, {"items": []}),
        read("/replacement-requests", None, {"items": []}),
        read("/engineers", None, []),
    )
    box.submitted = sorted((r for r in reports or [] if r.get("state") == "submitted"), key=lambda r: str(r.get("submitted_at") or ""))
    decided = [r for r in reports or [] if r.get("state") in ("acknowledged", "returned")]
    decided.sort(key=lambda r: str(r.get("acknowledged_at") or r.get("returned_at") or r.get("submitted_at") or ""), reverse=True)
    box.decided = decided[:10]
    box.waiting = sorted(page.get("items", []), key=lambda t: str(t.get("reported_at") or ""))  # the longest waiting first
    box.waiting_total = int(page.get("total", len(box.waiting)))
    box.clocks = {str(c.get("ticket_id")): c for c in (clocks or {}).get("items", []) if c.get("ticket_id")}
    # The decision due soonest first (a clock not heard of yet, last).
    box.emergency = sorted(emergency.get("items", []), key=lambda t: (
        str((box.clocks.get(str(t.get("id"))) or {}).get("due_at") or "9999"), str(t.get("reported_at") or "")))
    box.emergency_total = int(emergency.get("total", len(box.emergency)))
    box.incidents = list((incidents or {}).get("items", []))
    box.replacements = list((replacements or {}).get("items", []))[:20]
    box.engineers = sorted(engineers or [], key=lambda e: str(e.get("name")))
    box.open_report = next((r for r in box.submitted if r.get("_id") == report), box.submitted[0] if box.submitted else None)
    return box


async def agency_home(ctx: Ctx) -> Response:
    """The inboxes; after a refused act its API's words (carried by the redirect), so the person can correct it."""
    box, names = await asyncio.gather(inboxes(ctx, ctx.request.query_params.get("report", "")), service_names(ctx))
    error = take_refusal(ctx)
    done = DONE.get(ctx.request.query_params.get("done", ""))
    return shown_once(ctx, ctx.render("agency/home.html", box=box, error=error, waited=waited(ctx), names=names,
                                      act_words=lambda a: act_words(ctx, str(a)),
                                      notice=ctx.gettext(done) if done and error is None else None))


@router.get("/agency/panel")
async def panel(ctx: Annotated[Ctx, Depends(signed_in)], report: str = "") -> Response:
    box, names = await asyncio.gather(inboxes(ctx, report), service_names(ctx))
    return ctx.render("agency/panel.html", box=box, waited=waited(ctx), names=names, act_words=lambda a: act_words(ctx, str(a)))


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
        return refused(ctx, "; ".join(exc.field_messages()))
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
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=" + ("acknowledged" if step == "acknowledge" else "returned"))


@router.post("/agency/incidents/{incident_id}/acknowledge")
async def acknowledge_incident(
    ctx: Annotated[Ctx, Depends(checked)], incident_id: str, note: Annotated[str, Form()] = "",
) -> Response:
    body: Json = {"note": note.strip()} if note.strip() else {}
    try:
        await ctx.api.call("POST", f"/security-incidents/{quote(incident_id, safe='')}/acknowledge", token=ctx.token, lang=ctx.lang, json=body)
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=incident")


@router.post("/agency/replacements")
async def request_replacement(
    ctx: Annotated[Ctx, Depends(checked)], engineer_id: Annotated[str, Form()], reason: Annotated[str, Form()] = "",
    form_key: Annotated[str, Form()] = "",
) -> Response:
    """Ask for an engineer to be replaced; the form's key makes a second click (or a resend) the same request."""
    headers = {"Idempotency-Key": f"console-{form_key}"} if form_key else None
    try:
        await ctx.api.call("POST", f"/engineers/{quote(engineer_id, safe='')}/replacement-requests", token=ctx.token,
                           lang=ctx.lang, json={"reason": reason.strip()}, headers=headers)
    except ApiError as exc:
        return refused(ctx, "; ".join(exc.field_messages()))
    return ctx.redirect("/?done=replacement")


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
