"""Reporting's HTTP edge: reports under /api/v1/reports, printable forms under /api/v1/forms (the gateway forwards both).

The caller is the verified one from the internal token (`VerifiedCaller`); who may read what is `access.py`'s.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response

from opsdesk_shared.internal_auth import VerifiedCaller, require_roles

from .. import access, generation, reports
from ..i18n import LANGS
from ..rebuild import rebuild
from ..render.forms import FORMS
from ..wiring import Adapters

router = APIRouter(prefix="/api/v1")
Format = Literal["json", "xlsx", "pdf"]
MEDIA = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _adapters(request: Request) -> Adapters:
    return request.app.state.adapters  # type: ignore[no-any-return]


Wired = Annotated[Adapters, Depends(_adapters)]
# Reports over a period are the team's; generating and rebuilding change what is stored and announced: managers only.
STAFF_ONLY = [Depends(require_roles(*access.STAFF))]
MANAGERS_ONLY = [Depends(require_roles(*access.MANAGERS, services=False))]
Lang = Annotated[str, Query(description="zh-CN (default) or en")]


def _lang(lang: str) -> str:
    if lang not in LANGS:
        raise HTTPException(422, detail=f"lang must be one of {', '.join(LANGS)}")
    return lang


def _hidden(what: str) -> HTTPException:
    """What the caller may not see is answered like what does not exist, so ids cannot be probed."""
    return HTTPException(404, detail=f"reporting has no {what}")


async def _incident_ticket(wired: Adapters, report: dict[str, Any]) -> dict[str, Any] | None:
    ticket_id = access.incident_ticket_id(report)
    return await wired.holder.models.entity("tickets", ticket_id) if ticket_id else None


def _file(data: bytes, fmt: str, name: str) -> Response:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    headers = {} if fmt == "json" else {"Content-Disposition": f'attachment; filename="{safe}.{fmt}"'}
    return Response(data, media_type=MEDIA[fmt], headers=headers)


@router.get("/summary", tags=["reports"], dependencies=STAFF_ONLY, summary="Totals per counter and label set, as exported to Prometheus")
async def summary(wired: Wired) -> dict[str, list[dict[str, object]]]:
    return wired.tally.summary()


@router.get("/reports/kinds", tags=["reports"], dependencies=STAFF_ONLY, summary="The contract's reports, their cadence and due day")
async def kinds() -> list[dict[str, Any]]:
    return [{"kind": k.name, "cadence": k.cadence, "due_day": k.due_day, "sections": list(k.sections)}
            for k in (*reports.SCHEDULED, reports.INCIDENT_KIND)]


@router.get("/reports/stored", tags=["reports"], summary="Generated reports the caller may see, newest first")
async def stored(wired: Wired, caller: VerifiedCaller, kind: str | None = None) -> list[dict[str, Any]]:
    found = [r for r in await wired.reports.list(kind=kind) if access.sees_every_ticket(caller)
             or access.may_see_report(caller, r, ticket=await _incident_ticket(wired, r))]
    return [json.loads(generation.to_json({k: v for k, v in r.items() if k not in ("figures", "chunks")})) for r in found]


@router.get("/reports/stored/{report_id}", tags=["reports"], summary="Download a generated report")
async def download(report_id: str, wired: Wired, caller: VerifiedCaller, format: Format = "json") -> Response:
    meta = await wired.reports.get(report_id)
    if meta is None or not access.may_see_report(caller, meta, ticket=await _incident_ticket(wired, meta)):
        raise _hidden(f"stored report {report_id}")
    data = await wired.reports.file(report_id, format)
    if data is None:
        raise HTTPException(404, detail=f"no stored report {report_id} as {format}")
    return _file(data, format, report_id.replace(":", "-"))


@router.post("/reports/admin/rebuild", tags=["reports"], status_code=202, dependencies=MANAGERS_ONLY,
             summary="Rebuild the projection from the event stream into a fresh generation, then switch")
async def start_rebuild(wired: Wired, wait: bool = False) -> dict[str, Any]:
    if wired.source is None:
        raise HTTPException(503, detail="no event stream to rebuild from")
    if wired.holder.lock.locked():
        raise HTTPException(409, detail="a rebuild is already running")
    job = rebuild(wired.holder, source=wired.source, generations=wired.generations, clock=wired.clock)
    if wait:
        return {"status": "done", **(await job)}
    wired.tasks.add(task := asyncio.create_task(job))
    task.add_done_callback(wired.tasks.discard)
    return {"status": "started", "generation": wired.holder.generation + 1}


@router.get("/reports/admin/projection", tags=["reports"], dependencies=STAFF_ONLY, summary="The live generation and any rebuild in progress")
async def projection_status(wired: Wired) -> dict[str, Any]:
    return {"generation": wired.holder.generation, "rebuilding": wired.holder.rebuilding}


@router.get("/reports/major-incident/{ticket_id}", tags=["reports"], summary="Major incident report for one ticket")
async def major_incident(
    ticket_id: str, wired: Wired, caller: VerifiedCaller, format: Format = "json", lang: Lang = "zh-CN",
) -> Response:
    ticket = await wired.holder.models.entity("tickets", ticket_id)
    if ticket is None or not access.may_see_ticket(caller, ticket):
        raise _hidden(f"ticket {ticket_id}")
    report = reports.major_incident(ticket, lang=_lang(lang), generated_at=wired.clock(), parties=wired.settings.parties())
    return _file(await generation.render(report, format), format, f"major-incident-{ticket.get('number') or ticket_id}")


@router.get("/reports/{kind}/{period}", tags=["reports"], dependencies=STAFF_ONLY, summary="A report computed now from the aggregates")
async def report(kind: str, period: str, wired: Wired, format: Format = "json", lang: Lang = "zh-CN") -> Response:
    spec = reports.KINDS.get(kind)
    if spec is None:
        raise HTTPException(404, detail=f"no report kind {kind}")
    try:
        built = await generation.compose(spec, period, models=wired.holder.models, lang=_lang(lang), now=wired.clock(),
                                         parties=wired.settings.parties())
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    return _file(await generation.render(built, format), format, f"{kind}-{period}")


@router.post("/reports/{kind}/{period}/generate", tags=["reports"], dependencies=MANAGERS_ONLY, summary="Generate, store, announce and deliver a report now")
async def generate(kind: str, period: str, wired: Wired, lang: Lang = "zh-CN") -> dict[str, Any]:
    spec = reports.KINDS.get(kind)
    if spec is None:
        raise HTTPException(404, detail=f"no report kind {kind}")
    try:
        reports.check_period(spec, period)
    except ValueError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    built = await generation.generate(spec, period, models=wired.holder.models, store=wired.reports, publisher=wired.publisher,
                                      delivery=wired.delivery, lang=_lang(lang), now=wired.clock(), parties=wired.settings.parties())
    return {"report_id": built["_id"], "generated_at": built["generated_at"].astimezone(UTC).isoformat()}


# Forms another service owns: one form per paper, filled by the service that owns the record (issue 13, item 16).
OWNED_ELSEWHERE = {"send-out": "the send-out form is the assets service's, GET /api/v1/repairs/{repair_id}/send-out-form"}


@router.get("/forms/{form_kind}/{entity_id}", tags=["forms"], summary="A printable one-page form (PDF) for a ticket, repair or inspection")
async def form(form_kind: str, entity_id: str, wired: Wired, caller: VerifiedCaller, lang: Lang = "zh-CN") -> Response:
    collection = FORMS.get(form_kind)
    if form_kind in OWNED_ELSEWHERE:
        raise HTTPException(404, detail=f"no form {form_kind} here: {OWNED_ELSEWHERE[form_kind]}")
    if collection is None:
        raise HTTPException(404, detail=f"no form {form_kind}; forms: {', '.join(FORMS)}")
    doc = await wired.holder.models.entity(collection, entity_id)
    if doc is None:
        raise _hidden(f"{collection[:-1]} {entity_id}")
    ticket = None
    if collection == "repairs" and doc.get("ticket_id"):
        ticket = await wired.holder.models.entity("tickets", str(doc["ticket_id"]))
    if not access.may_see_form(caller, collection=collection, doc=doc, ticket=ticket):
        raise _hidden(f"{collection[:-1]} {entity_id}")
    data = await generation.render_form(form_kind, doc, lang=_lang(lang), ticket=ticket)
    return _file(data, "pdf", f"{form_kind}-{doc.get('number') or entity_id}")
