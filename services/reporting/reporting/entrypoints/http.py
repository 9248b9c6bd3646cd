"""Reporting's HTTP edge: reports under /api/v1/reports, printable forms under /api/v1/forms (the gateway forwards both).

The caller is the verified one from the internal token (`VerifiedCaller`); who may read what is `access.py`'s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.knowledge import ArticlesQuery
from opsdesk_shared.contracts.reports import SignOffState
from opsdesk_shared.internal_auth import Caller, VerifiedCaller, require_roles

from .. import access, generation, manual, reports, signing, signoff
from ..i18n import LANGS
from ..ports import ArticlesUnavailable
from ..rebuild import rebuild
from ..render.forms import FORMS
from ..wiring import Adapters
from .refusals import Refusal

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


async def _manual_publishers(caller: VerifiedCaller) -> Caller:
    """Only the team's managers publish the manual; anyone else is told so in their own language (403)."""
    if caller.role in access.MANAGERS:
        return caller
    raise Refusal(403, "forbidden_manual", role=caller.role)
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


def _listed(report: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A stored report as lists show it: its metadata with the sign-off state, version, submission and deadline."""
    shown = {k: v for k, v in report.items() if k not in ("figures", "chunks", "rev")}
    return json.loads(generation.to_json({**shown, **signoff.listing(report, now=now)}))  # type: ignore[no-any-return]


@router.get("/reports/stored", tags=["reports"], summary="Generated reports the caller may see, newest first, with their sign-off")
async def stored(wired: Wired, caller: VerifiedCaller, kind: str | None = None,
                 state: Annotated[SignOffState | None, Query(description="draft, submitted, acknowledged or returned")] = None,
                 ) -> list[dict[str, Any]]:
    found = [r for r in await wired.reports.list(kind=kind) if (state is None or signoff.state_of(r) == state)
             and (access.sees_every_ticket(caller) or access.may_see_report(caller, r, ticket=await _incident_ticket(wired, r)))]
    now = wired.clock()
    return [_listed(r, now) for r in found]


async def _visible(report_id: str, wired: Adapters, caller: Caller) -> None:
    meta = await wired.reports.get(report_id)
    if meta is None or not access.may_see_report(caller, meta, ticket=await _incident_ticket(wired, meta)):
        raise _hidden(f"stored report {report_id}")


async def _signing(call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The sign-off refusals as status codes: 403 who, 404 what, 409 when (with the steps that fit), 422 what is missing."""
    try:
        return await call
    except signing.UnknownReport as exc:
        raise _hidden(f"stored report {exc}") from None
    except signoff.Forbidden as exc:
        raise Refusal(403, exc.code, **exc.params) from None
    except signoff.IllegalStep as exc:
        raise Refusal(409, exc.code, error_code="illegal_transition", extra={"allowed": exc.allowed}, **exc.params) from None
    except signoff.NoComments as exc:
        raise Refusal(422, exc.code, loc=["body", "comments"]) from None
    except signing.Changed:
        raise Refusal(409, "changed", extra={"allowed": []}) from None
    except signing.CannotRegenerate as exc:
        raise Refusal(409, "cannot_regenerate", extra={"allowed": []}, reason=str(exc)) from None
    except manual.NoArticles as exc:
        raise _no_articles(exc) from None
    except ArticlesUnavailable:
        raise Refusal(503, "knowledge_unavailable", error_code="service_unavailable") from None


def _no_articles(exc: manual.NoArticles) -> Refusal:
    if exc.missing:
        return Refusal(422, "not_published", loc=["body", "article_ids"], ids=", ".join(exc.missing))
    if exc.field == "category":
        return Refusal(422, "empty_category", loc=["body", "category"], category=str(exc))
    return Refusal(422, "one_selection", loc=["body"])


def _actor(caller: Caller) -> signing.Actor:
    return signing.Actor(by=caller.subject, role=caller.role)


def _sources(wired: Adapters) -> signing.Sources:
    return signing.Sources(models=wired.holder.models, articles=wired.articles, delivery=wired.delivery,
                           parties=wired.settings.parties())


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000, description="The agency's optional remark")


class ReturnBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Missing or blank is the domain's refusal (signoff.NoComments), said in the reader's language on body.comments.
    comments: str = Field(default="", max_length=4000, description="What the agency wants changed (required)")


@router.post("/reports/stored/{report_id}/submit", tags=["sign-off"],
             summary="Submit a stored report to the agency (manager, admin); a returned one goes as a new version")
async def submit(report_id: str, wired: Wired, caller: VerifiedCaller) -> dict[str, Any]:
    await _visible(report_id, wired, caller)
    done = await _signing(signing.submit(report_id, actor=_actor(caller), store=wired.reports, publisher=wired.publisher,
                                         sources=_sources(wired), now=wired.clock()))
    return _listed(done, wired.clock())


@router.post("/reports/stored/{report_id}/acknowledge", tags=["sign-off"], summary="The agency acknowledges a submitted report")
async def acknowledge(report_id: str, wired: Wired, caller: VerifiedCaller, body: AcknowledgeBody | None = None) -> dict[str, Any]:
    await _visible(report_id, wired, caller)
    done = await _signing(signing.acknowledge(report_id, actor=_actor(caller), note=body.note if body else None,
                                              store=wired.reports, publisher=wired.publisher, now=wired.clock()))
    return _listed(done, wired.clock())


@router.post("/reports/stored/{report_id}/return", tags=["sign-off"], summary="The agency returns a submitted report with comments")
async def return_report(report_id: str, wired: Wired, caller: VerifiedCaller, body: ReturnBody | None = None) -> dict[str, Any]:
    await _visible(report_id, wired, caller)
    done = await _signing(signing.return_report(report_id, actor=_actor(caller), comments=body.comments if body else "", store=wired.reports,
                                                publisher=wired.publisher, now=wired.clock()))
    return _listed(done, wired.clock())


class ManualBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    article_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=500, description="Published articles, in the order of the chapters")
    category: str | None = Field(default=None, min_length=1, max_length=100, description="Or every published article of a category")


@router.post("/reports/manual", tags=["maintenance manual"], dependencies=[Depends(_manual_publishers)],
             summary="Publish the maintenance manual (维护手册) from knowledge articles as its next version")
async def publish_manual(body: ManualBody, wired: Wired, lang: Lang = "zh-CN") -> dict[str, Any]:
    if bool(body.article_ids) == bool(body.category):
        raise Refusal(422, "one_selection", loc=["body"])
    if wired.articles is None:
        raise Refusal(503, "knowledge_unavailable", error_code="service_unavailable")
    query = ArticlesQuery(article_ids=body.article_ids, category=body.category)
    built = await _signing(generation.generate_manual(query, articles=wired.articles, store=wired.reports, publisher=wired.publisher,
                                                      delivery=wired.delivery, lang=_lang(lang), now=wired.clock(),
                                                      parties=wired.settings.parties()))
    stored_meta = await wired.reports.get(str(built["_id"]))
    return _listed(stored_meta or built, wired.clock())


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
    built = await _signing(generation.generate(spec, period, models=wired.holder.models, store=wired.reports, publisher=wired.publisher,
                                               delivery=wired.delivery, lang=_lang(lang), now=wired.clock(),
                                               parties=wired.settings.parties()))
    return {"report_id": built["_id"], "version": built["revision"], "generated_at": built["generated_at"].astimezone(UTC).isoformat()}


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
