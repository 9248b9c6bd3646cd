"""The service catalog over HTTP: everyone reads it (labels in the caller's language), admins edit it.

What a GET returns, the PUT of the same code accepts unchanged (issue 13): the read model carries each text in the
caller's language and all three languages under `labels`; the write model takes either the three languages or, as
read, the text in the caller's language, which then replaces that language's text only.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsdesk_shared.errors import error_body

from ..catalog import Cadence, CatalogService, Family, Labels, Priority, SlaProfile, TicketType
from ..ports import ConcurrentUpdate
from ..priority import MATRIX, Level
from ..texts import Said
from .deps import Caller, IfMatch, Wired, set_etag
from .errors import language

router = APIRouter(prefix="/api/v1", tags=["catalog"])


class CatalogEntry(BaseModel):
    code: str
    family: Family
    name: str = Field(description="In the caller's language (Accept-Language)")
    deliverable: str
    service_level: str
    labels: dict[str, Labels] = Field(description="name, deliverable and service_level in zh-CN, zh-TW and en")
    cadence: Cadence
    ticket_type: TicketType
    default_priority: Priority
    sla_profile: SlaProfile
    skill: str
    desk_first: bool = Field(description="Tickets for it stay with the desk for remote guidance before dispatch assigns")
    requires_authorization: bool = Field(
        description="Work on it waits for the agency's authorization (a ticket starts awaiting_authorization)")
    active: bool
    version: int

    @classmethod
    def of(cls, service: CatalogService, lang: str) -> CatalogEntry:
        return cls(
            code=service.code, family=service.family, name=service.name.pick(lang), deliverable=service.deliverable.pick(lang),
            service_level=service.service_level.pick(lang),
            labels={"name": service.name, "deliverable": service.deliverable, "service_level": service.service_level},
            cadence=service.cadence, ticket_type=service.ticket_type, default_priority=service.default_priority,
            sla_profile=service.sla_profile, skill=service.skill, desk_first=service.desk_first,
            requires_authorization=service.requires_authorization, active=service.active,
            version=service.version,
        )


@router.get("/catalog", response_model=list[CatalogEntry], summary="Every catalog service, grouped by family order")
async def list_catalog(request: Request, wired: Wired, _actor: Caller, include_inactive: bool = False) -> list[CatalogEntry]:
    lang = language(request)
    return [CatalogEntry.of(s, lang) for s in wired.catalog.all() if s.active or include_inactive]


class PriorityCell(BaseModel):
    impact: Level
    urgency: Level
    priority: Priority


class PriorityMatrix(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "levels": ["high", "medium", "low"], "cells": [{"impact": "high", "urgency": "high", "priority": "P1"}],
    }]})

    levels: list[Level] = Field(description="Impact and urgency levels, highest first")
    cells: list[PriorityCell] = Field(description="Every impact x urgency pair and the priority the ticket gets")


@router.get(
    "/catalog/priority-matrix", response_model=PriorityMatrix,
    summary="Impact x urgency -> priority, the rule a new ticket's priority follows (read-only)",
    description="Both impact and urgency given: this matrix decides; either missing: the catalog service's "
    "`default_priority`. Clients preview with it and never keep their own copy.",
)
async def priority_matrix(_actor: Caller) -> PriorityMatrix:
    levels: list[Level] = ["high", "medium", "low"]
    return PriorityMatrix(
        levels=levels, cells=[PriorityCell(impact=i, urgency=u, priority=MATRIX[(i, u)]) for i in levels for u in levels],
    )


@router.get("/catalog/{code}", response_model=CatalogEntry)
async def read_catalog_service(code: str, request: Request, response: Response, wired: Wired, _actor: Caller) -> CatalogEntry:
    service = wired.catalog.get(code)
    if service is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.no_catalog_service", code=code))
    set_etag(response, service.version)
    return CatalogEntry.of(service, language(request))


TextField = Literal["name", "deliverable", "service_level"]
TEXTS: tuple[TextField, ...] = ("name", "deliverable", "service_level")
LANGUAGE_KEY = {"zh-CN": "zh-CN", "zh-TW": "zh-TW"}  # any other language reads and writes the English text
THREE = "the three languages {zh-CN, zh-TW, en}, or the text in your language as GET returns it"


class CatalogServiceIn(BaseModel):
    """The three languages of each text, or a catalog entry exactly as GET /catalog/{code} returned it."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True,
        json_schema_extra={"examples": [{
            "family": "responsive", "name": {"zh-CN": "视频会议支持", "zh-TW": "視訊會議支援", "en": "Video conference support"},
            "deliverable": {"zh-CN": "支持服务记录", "zh-TW": "支援服務記錄", "en": "Support record"},
            "service_level": {"zh-CN": "5X8驻场", "zh-TW": "5X8駐場", "en": "5x8 on site"},
            "cadence": "on_demand", "ticket_type": "service_request", "default_priority": "P2",
            "sla_profile": "responsive", "skill": "application", "active": True,
        }]},
    )

    code: str | None = Field(default=None, description="As GET returns it; when given, the code in the path")
    family: Family
    name: Labels | str = Field(description=f"Service name: {THREE} (replacing that language's text only)")
    deliverable: Labels | str = Field(description=f"Deliverable: {THREE}")
    service_level: Labels | str = Field(description=f"Service level: {THREE}")
    labels: dict[TextField, Labels] | None = Field(
        default=None, description="As GET returns them: the three languages of the texts given above as text"
    )
    cadence: Cadence
    ticket_type: TicketType
    default_priority: Priority = "P3"
    sla_profile: SlaProfile
    skill: str = Field(default="desktop", min_length=1, max_length=40)
    desk_first: bool = Field(
        default=False, description="Tickets for it stay with the desk for remote guidance (5 minutes) before dispatch assigns"
    )
    requires_authorization: bool = Field(
        default=False, description="Work on it waits for the agency's authorization (信息中心, contract 1.3.1)"
    )
    active: bool = True
    version: int | None = Field(
        default=None, ge=0, description="As GET returns it: the version this edit starts from (as If-Match; If-Match wins)"
    )


def _texts(body: CatalogServiceIn, current: CatalogService | None, lang: str) -> dict[str, Labels]:
    """Each text in three languages: given whole, or one language's text over what labels (or the stored entry) say."""
    texts: dict[str, Labels] = {}
    for field in TEXTS:
        given = getattr(body, field)
        if isinstance(given, Labels):
            texts[field] = given
            continue
        base = (body.labels or {}).get(field) or (getattr(current, field) if current is not None else None)
        if base is None:
            raise HTTPException(422, [{"loc": ["body", field], "msg": Said("err.catalog_needs_texts", field=field),
                                       "type": "value_error"}])
        try:
            texts[field] = Labels.model_validate({**base.model_dump(by_alias=True), LANGUAGE_KEY.get(lang, "en"): given})
        except ValidationError as exc:
            raise HTTPException(422, [{"loc": ["body", field], "msg": exc.errors()[0]["msg"], "type": "value_error"}]) from None
    return texts


# The shared stale_version message speaks of a ticket; a catalog edit names the entry it lost to.
STALE_ENTRY = {
    "zh-CN": "服务目录条目 {code} 已被他人修改，请重新读取后再保存",
    "zh-TW": "服務目錄項目 {code} 已被他人修改，請重新讀取後再儲存",
    "en": "The catalog entry {code} changed since you read it; read it again",
}


def stale_entry(request: Request, *, code: str, version: int | None, current: int | None) -> JSONResponse:
    """412 in the one error shape, its message naming the catalog entry, with the current ETag to read again."""
    lang = language(request)
    body = error_body(
        412, lang=lang, detail=f"catalog service {code} changed since version {version}",
        extra={"current_version": current} if current is not None else None,
    )
    body["message"] = STALE_ENTRY.get(lang, STALE_ENTRY["en"]).format(code=code)
    headers = {"Content-Language": lang, **({"ETag": f'"{current}"'} if current is not None else {})}
    return JSONResponse(body, status_code=status.HTTP_412_PRECONDITION_FAILED, headers=headers)


@router.put("/catalog/{code}", response_model=CatalogEntry, summary="Create or replace a catalog service (admin)")
async def put_catalog_service(
    code: str, body: CatalogServiceIn, request: Request, response: Response, wired: Wired, actor: Caller, version: IfMatch
) -> CatalogEntry | JSONResponse:
    if actor.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, Said("err.catalog_admins"))
    if body.code is not None and body.code != code:
        raise HTTPException(422, [{"loc": ["body", "code"], "msg": Said("err.catalog_code_mismatch", body=body.code, path=code), "type": "value_error"}])
    version = version if version is not None else body.version
    fields = body.model_dump(exclude={"code", "labels", "version", *TEXTS})
    try:
        candidate = CatalogService.model_validate({"code": code, **fields, **_texts(body, wired.catalog.get(code), language(request))})
    except ValueError as exc:
        raise HTTPException(422, [{"loc": ["path", "code"], "msg": str(exc).splitlines()[0], "type": "value_error"}]) from None
    try:
        stored = await wired.catalog.put(candidate, expected_version=version)
    except ConcurrentUpdate:
        current = wired.catalog.get(code)
        return stale_entry(request, code=code, version=version, current=current.version if current else None)
    set_etag(response, stored.version)
    return CatalogEntry.of(stored, language(request))
