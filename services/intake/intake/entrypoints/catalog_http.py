"""The service catalog over HTTP: everyone reads it (labels in the caller's language), admins edit it."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from ..catalog import Cadence, CatalogService, Family, Labels, Priority, SlaProfile, TicketType
from ..ports import ConcurrentUpdate
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
    active: bool
    version: int

    @classmethod
    def of(cls, service: CatalogService, lang: str) -> CatalogEntry:
        return cls(
            code=service.code, family=service.family, name=service.name.pick(lang), deliverable=service.deliverable.pick(lang),
            service_level=service.service_level.pick(lang),
            labels={"name": service.name, "deliverable": service.deliverable, "service_level": service.service_level},
            cadence=service.cadence, ticket_type=service.ticket_type, default_priority=service.default_priority,
            sla_profile=service.sla_profile, skill=service.skill, active=service.active, version=service.version,
        )


@router.get("/catalog", response_model=list[CatalogEntry], summary="Every catalog service, grouped by family order")
async def list_catalog(request: Request, wired: Wired, _actor: Caller, include_inactive: bool = False) -> list[CatalogEntry]:
    lang = language(request)
    return [CatalogEntry.of(s, lang) for s in wired.catalog.all() if s.active or include_inactive]


@router.get("/catalog/{code}", response_model=CatalogEntry)
async def read_catalog_service(code: str, request: Request, response: Response, wired: Wired, _actor: Caller) -> CatalogEntry:
    service = wired.catalog.get(code)
    if service is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no catalog service {code}")
    set_etag(response, service.version)
    return CatalogEntry.of(service, language(request))


class CatalogServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    family: Family
    name: Labels
    deliverable: Labels
    service_level: Labels
    cadence: Cadence
    ticket_type: TicketType
    default_priority: Priority = "P3"
    sla_profile: SlaProfile
    skill: str = Field(default="desktop", min_length=1, max_length=40)
    active: bool = True


@router.put("/catalog/{code}", response_model=CatalogEntry, summary="Create or replace a catalog service (admin)")
async def put_catalog_service(
    code: str, body: CatalogServiceIn, request: Request, response: Response, wired: Wired, actor: Caller, version: IfMatch
) -> CatalogEntry:
    if actor.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only admins edit the catalog")
    try:
        candidate = CatalogService(code=code, **body.model_dump())
    except ValueError as exc:
        raise HTTPException(422, [{"loc": ["path", "code"], "msg": str(exc).splitlines()[0], "type": "value_error"}]) from None
    try:
        stored = await wired.catalog.put(candidate, expected_version=version)
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, f"catalog service {code} changed since version {version}") from None
    set_etag(response, stored.version)
    return CatalogEntry.of(stored, language(request))
