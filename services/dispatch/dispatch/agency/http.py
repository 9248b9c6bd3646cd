"""Replacement requests over HTTP (service.py runs them; domain.py decides).

- `POST /engineers/{id}/replacement-requests` {reason}: the agency only (others 403); 201 with the request, its
  answer due N working days later on the SLA monitor's calendar (503 when it does not answer). Idempotency-Key
  makes a retry return the first request.
- `POST /engineers/{id}/replacement-requests/{rid}/answer` {plan, replace_by}: the project manager (others 403);
  409 once answered (allowed: []).
- `GET /engineers/{id}/replacement-requests`, `GET /replacement-requests`, `GET .../{rid}`: the agency, managers,
  admins and auditors; each with its state, due time and whether the answer is (or was) late.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import UTC, date, datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.internal_auth import VerifiedCaller
from opsdesk_shared.logs import correlation_id

from ..domain import Actor, Forbidden
from ..entrypoints.http import Refusal, _gate
from ..ports import ConcurrentUpdate
from ..service import UnknownEngineer
from ..texts import Said
from . import service
from .domain import ReplacementRefused, ReplacementRequest
from .service import Oversight, UnknownReplacement

# The same gate as dispatch's other routes: requesters are refused before anything else (even a malformed body).
router = APIRouter(prefix="/api/v1", tags=["replacement requests"], dependencies=[Depends(_gate)])
LOCAL = ZoneInfo("Asia/Shanghai")
T = TypeVar("T")


def _actor(caller: VerifiedCaller) -> Actor:
    return Actor(subject=caller.subject, role=caller.role, engineer_id=caller.engineer_id)


def _oversight(request: Request) -> Oversight:
    return request.app.state.adapters.oversight  # type: ignore[no-any-return]


Acting = Annotated[Actor, Depends(_actor)]
Wired = Annotated[Oversight, Depends(_oversight)]


class ReplacementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"reason": "多次未按时到场，服务态度差"}]})
    reason: str = Field(min_length=1, max_length=2000)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra={"examples": [{"plan": "由李工接替，本周内完成交接", "replace_by": "2026-12-04"}]})
    plan: str = Field(min_length=1, max_length=4000)
    replace_by: date = Field(description="The day (agency's local date) the engineer is replaced by")


class ReplacementOut(ReplacementRequest):
    late: bool = Field(description="The answer came after its due time, or is still missing past it")

    @classmethod
    def of(cls, r: ReplacementRequest, now: datetime) -> ReplacementOut:
        return cls.model_validate({**r.model_dump(), "late": r.is_late(now)})


class ReplacementPage(BaseModel):
    items: list[ReplacementOut]


async def _run(call: Awaitable[T]) -> T:
    """Refusals to status codes, in the one error shape (entrypoints.http.install_errors renders them)."""
    try:
        return await call
    except Forbidden as exc:
        raise Refusal(status.HTTP_403_FORBIDDEN, exc) from None
    except UnknownEngineer as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, exc) from None
    except UnknownReplacement as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, Said("err.no_replacement", engineer=exc.engineer_id, request=exc.request_id)) from None
    except ReplacementRefused as exc:
        raise Refusal(status.HTTP_409_CONFLICT, exc, code="illegal_transition", extra={"allowed": exc.allowed}) from None
    except ConcurrentUpdate:
        raise Refusal(status.HTTP_409_CONFLICT, Said("err.changed"), extra={"allowed": []}) from None
    except ValueError as exc:
        if str(exc) != "replace_by":
            raise
        raise Refusal(422, Said("err.replace_by_past"), loc=["body", "replace_by"]) from None


def _ctx() -> dict[str, Any]:
    return {"now": datetime.now(UTC), "correlation_id": correlation_id.get() or str(uuid.uuid4())}


@router.post("/engineers/{engineer_id}/replacement-requests", response_model=ReplacementOut, status_code=201,
             summary="The agency asks for an engineer to be replaced")
async def request_replacement(
    engineer_id: str, body: ReplacementIn, actor: Acting, wired: Wired, request: Request, response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ReplacementOut:
    made, created = await _run(service.request_replacement(
        engineer_id, reason=body.reason, actor=actor, roster=request.app.state.adapters.roster, oversight=wired,
        idempotency_key=idempotency_key, **_ctx(),
    ))
    if not created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/engineers/{engineer_id}/replacement-requests/{made.id}"
    return ReplacementOut.of(made, datetime.now(UTC))


@router.post("/engineers/{engineer_id}/replacement-requests/{request_id}/answer", response_model=ReplacementOut,
             summary="The project manager answers with a plan and the date")
async def answer(engineer_id: str, request_id: str, body: AnswerIn, actor: Acting, wired: Wired) -> ReplacementOut:
    ctx = _ctx()
    done = await _run(service.answer_replacement(
        engineer_id, request_id, plan=body.plan, replace_by=body.replace_by, actor=actor, oversight=wired,
        today=ctx["now"].astimezone(LOCAL).date(), **ctx,
    ))
    return ReplacementOut.of(done, ctx["now"])


@router.get("/engineers/{engineer_id}/replacement-requests", response_model=ReplacementPage, summary="An engineer's replacement requests")
async def list_for_engineer(engineer_id: str, actor: Acting, wired: Wired) -> ReplacementPage:
    now = datetime.now(UTC)
    return ReplacementPage(items=[ReplacementOut.of(r, now) for r in await _run(service.list_replacements(engineer_id, actor=actor, oversight=wired))])


@router.get("/replacement-requests", response_model=ReplacementPage, summary="Every replacement request, latest first")
async def list_all(actor: Acting, wired: Wired) -> ReplacementPage:
    now = datetime.now(UTC)
    return ReplacementPage(items=[ReplacementOut.of(r, now) for r in await _run(service.list_replacements(None, actor=actor, oversight=wired))])


@router.get("/engineers/{engineer_id}/replacement-requests/{request_id}", response_model=ReplacementOut, summary="One replacement request")
async def read(engineer_id: str, request_id: str, actor: Acting, wired: Wired) -> ReplacementOut:
    found = await _run(service.get_replacement(engineer_id, request_id, actor=actor, oversight=wired))
    return ReplacementOut.of(found, datetime.now(UTC))
