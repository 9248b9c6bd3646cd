"""Security incidents over HTTP (service.py runs each step; domain.py decides).

- `GET /security-incidents[?state=open|acknowledged|closed]`, `GET /security-incidents/{id}`: the agency, managers,
  auditors and admins (others 403).
- `POST /security-incidents/{id}/acknowledge` {note?}: the agency (others 403); 409 with `allowed` unless open.
- `POST /security-incidents/{id}/close` {note}: the project manager (others 403), only after the agency's
  acknowledgement (409 with `allowed` otherwise); 422 on `body.note` without a note.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.catalogue import Catalogue
from opsdesk_shared.errors import error_response, language

from ..entrypoints.deps import Caller, Wired, now
from . import domain, service
from .domain import Incident, NotYours, State, StepRefused
from .service import IncidentNotFound, Incidents

router = APIRouter(prefix="/api/v1/security-incidents", tags=["security incidents"])

TEXTS: dict[str, tuple[str, str, str]] = {
    "not_found": ("找不到安全事件 {id}", "找不到安全事件 {id}", "security incident {id} not found"),
    "read": ("只有信息中心管理人员、项目经理、审计员和管理员可以查看安全事件", "只有資訊中心管理人員、項目經理、稽核員和管理員可以查看安全事件",
             "only the agency, the project manager, auditors and admins read security incidents"),
    "acknowledge": ("安全事件由信息中心管理人员确认", "安全事件由資訊中心管理人員確認", "the agency acknowledges security incidents"),
    "close": ("安全事件由项目经理在信息中心确认后关闭", "安全事件由項目經理在資訊中心確認後關閉",
              "the project manager closes security incidents, after the agency's acknowledgement"),
    "refused.acknowledge": ("「{current}」的安全事件不能再确认", "「{current}」的安全事件不能再確認", "a {current} incident cannot be acknowledged"),
    "refused.close": ("安全事件须先经信息中心确认才能关闭（现为「{current}」）", "安全事件須先經資訊中心確認才能關閉（現為「{current}」）",
                      "an incident is closed only after the agency acknowledged it (it is {current})"),
}
STATES: dict[str, tuple[str, str, str]] = {
    "open": ("待确认", "待確認", "open"), "acknowledged": ("已确认", "已確認", "acknowledged"), "closed": ("已关闭", "已關閉", "closed"),
}
CATALOGUE = Catalogue(TEXTS, words={"current": STATES})


class IncidentOut(Incident):
    allowed: list[str] = Field(description="The steps open now: acknowledge (the agency), close (the project manager)")

    @classmethod
    def of(cls, incident: Incident) -> IncidentOut:
        return cls.model_validate({**incident.model_dump(), "allowed": list(domain.allowed_steps(incident))})


class IncidentPage(BaseModel):
    items: list[IncidentOut]


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str | None = Field(default=None, max_length=2000)


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000, description="How the incident was dealt with")


class CannotRead(Exception):
    pass


def _incidents(wired: Wired) -> Incidents:
    assert wired.incidents is not None  # Adapters fills it
    return wired.incidents


def _reader(actor: Caller) -> None:
    if not service.may_read(str(actor.role)):
        raise CannotRead()


@router.get("", response_model=IncidentPage, summary="Security incidents, latest first (the agency, managers, auditors, admins)")
async def list_incidents(
    wired: Wired, actor: Caller, state: State | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> IncidentPage:
    _reader(actor)
    found = await service.listed(incidents=_incidents(wired), state=state, limit=limit)
    return IncidentPage(items=[IncidentOut.of(i) for i in found])


@router.get("/{incident_id}", response_model=IncidentOut, summary="One security incident")
async def get_incident(incident_id: str, wired: Wired, actor: Caller) -> IncidentOut:
    _reader(actor)
    return IncidentOut.of(await service.get(incident_id, incidents=_incidents(wired)))


@router.post("/{incident_id}/acknowledge", response_model=IncidentOut, summary="The agency acknowledges the incident")
async def acknowledge(incident_id: str, wired: Wired, actor: Caller, body: AcknowledgeIn | None = None) -> IncidentOut:
    done = await service.acknowledge(
        incident_id, incidents=_incidents(wired), role=str(actor.role), by=actor.subject, note=body.note if body else None, now=now(),
    )
    return IncidentOut.of(done)


@router.post("/{incident_id}/close", response_model=IncidentOut, summary="The project manager closes it, after the agency's acknowledgement")
async def close(incident_id: str, body: CloseIn, wired: Wired, actor: Caller) -> IncidentOut:
    done = await service.close(incident_id, incidents=_incidents(wired), role=str(actor.role), by=actor.subject, note=body.note, now=now())
    return IncidentOut.of(done)


def install(app: FastAPI) -> None:
    """The incidents' refusals in the one error shape, in the caller's language."""

    @app.exception_handler(IncidentNotFound)
    async def not_found(request: Request, exc: IncidentNotFound) -> JSONResponse:
        return error_response(request, 404, detail=CATALOGUE.render("not_found", {"id": str(exc.args[0])}, language(request)))

    @app.exception_handler(CannotRead)
    async def cannot_read(request: Request, exc: CannotRead) -> JSONResponse:
        return error_response(request, 403, detail=CATALOGUE.render("read", {}, language(request)))

    @app.exception_handler(NotYours)
    async def not_yours(request: Request, exc: NotYours) -> JSONResponse:
        return error_response(request, 403, detail=CATALOGUE.render(exc.step, {}, language(request)))

    @app.exception_handler(StepRefused)
    async def refused(request: Request, exc: StepRefused) -> JSONResponse:
        return error_response(
            request, 409, code="illegal_transition",
            detail=CATALOGUE.render(f"refused.{exc.step}", {"current": exc.current}, language(request)),
            extra={"current_state": exc.current, "requested": exc.step, "allowed": list(exc.allowed)},
        )
