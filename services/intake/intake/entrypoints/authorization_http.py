"""The agency's authorization of work over HTTP (authorization.py decides; authorization_service.py runs it).

- `POST /tickets/{id}/authorization` {"decision": "approve" | "decline", "note"}: the agency only (403 for the team:
  it cannot authorize its own work); 409 when nothing waits for a decision.
- `POST /tickets/{id}/acknowledge`: the desk tells the requester the work waits for the agency (response clock met).
- `/standing-authorizations`: the agency's standing authorizations (routine work pre-approved until a date); the
  agency writes them, the agency, the desk, managers and auditors read them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field

from .. import authorization_service
from ..authorization import StandingAuthorization, StandingIn
from ..ports import ConcurrentUpdate
from ..texts import Said
from .deps import Caller, IfMatch, Wired, correlation, now, set_etag
from .http import TicketOut

router = APIRouter(prefix="/api/v1", tags=["authorization"])


class DecisionIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True,
        json_schema_extra={"examples": [{"decision": "approve", "note": "同意，请下班后操作"},
                                        {"decision": "decline", "note": "本月统一升级，无需单独处理"}]},
    )

    decision: Literal["approve", "decline"]
    note: str | None = Field(default=None, max_length=2000, description="Required to decline: the reason the requester reads")


@router.post(
    "/tickets/{ticket_id}/authorization", response_model=TicketOut,
    summary="The agency approves (dispatched at once) or declines (cancelled with the note) a ticket's work",
)
async def decide_authorization(ticket_id: str, body: DecisionIn, response: Response, wired: Wired, actor: Caller) -> TicketOut:
    ticket = await authorization_service.decide(
        ticket_id, decision=body.decision, note=body.note, desk=wired.desk, actor=actor, now=now(),
        correlation_id=correlation(),
    )
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


@router.post(
    "/tickets/{ticket_id}/acknowledge", response_model=TicketOut,
    summary="The desk acknowledges a ticket awaiting the agency's authorization (its response clock stops)",
)
async def acknowledge(ticket_id: str, response: Response, wired: Wired, actor: Caller) -> TicketOut:
    ticket, acknowledged = await authorization_service.acknowledge(
        ticket_id, desk=wired.desk, actor=actor, now=now(), correlation_id=correlation()
    )
    if not acknowledged:  # Once: a repeat changes nothing and says so (the first acknowledgement's time stands)
        response.headers["Idempotent-Replayed"] = "true"
    set_etag(response, ticket.version)
    return TicketOut.of(ticket, actor)


class StandingOut(BaseModel):
    id: str
    service_code: str
    departments: list[str]
    asset_types: list[str]
    valid_until: date
    note: str | None
    created_by: str
    created_by_name: str
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, s: StandingAuthorization) -> StandingOut:
        return cls.model_validate(s.model_dump())


def _missing(standing_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, Said("err.standing_not_found", id=standing_id))


@router.get("/standing-authorizations", response_model=list[StandingOut], summary="The agency's standing authorizations")
async def list_standing(wired: Wired, actor: Caller, service_code: str | None = None) -> list[StandingOut]:
    return [StandingOut.of(s) for s in await authorization_service.list_standing(desk=wired.desk, actor=actor, service_code=service_code)]


@router.post(
    "/standing-authorizations", response_model=StandingOut, status_code=status.HTTP_201_CREATED,
    summary="The agency pre-approves routine work of a service until a date (optionally some departments or asset types)",
)
async def create_standing(body: StandingIn, response: Response, wired: Wired, actor: Caller) -> StandingOut:
    created = await authorization_service.create_standing(body, desk=wired.desk, actor=actor, now=now())
    response.headers["Location"] = f"/api/v1/standing-authorizations/{created.id}"
    set_etag(response, created.version)
    return StandingOut.of(created)


@router.get("/standing-authorizations/{standing_id}", response_model=StandingOut)
async def read_standing(standing_id: str, response: Response, wired: Wired, actor: Caller) -> StandingOut:
    try:
        found = await authorization_service.get_standing(standing_id, desk=wired.desk, actor=actor)
    except authorization_service.StandingNotFound:
        raise _missing(standing_id) from None
    set_etag(response, found.version)
    return StandingOut.of(found)


@router.put("/standing-authorizations/{standing_id}", response_model=StandingOut)
async def change_standing(
    standing_id: str, body: StandingIn, response: Response, wired: Wired, actor: Caller, version: IfMatch,
) -> StandingOut:
    try:
        changed = await authorization_service.change_standing(
            standing_id, body, desk=wired.desk, actor=actor, now=now(), expected_version=version
        )
    except authorization_service.StandingNotFound:
        raise _missing(standing_id) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_412_PRECONDITION_FAILED, f"standing authorization {standing_id} changed since version {version}") from None
    set_etag(response, changed.version)
    return StandingOut.of(changed)


@router.delete("/standing-authorizations/{standing_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_standing(standing_id: str, wired: Wired, actor: Caller) -> Response:
    try:
        await authorization_service.remove_standing(standing_id, desk=wired.desk, actor=actor)
    except authorization_service.StandingNotFound:
        raise _missing(standing_id) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
