"""The gateway's HTTP edge: translate requests to commands, call one use case, map the outcome to a status."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from opsdesk_shared.contracts import Requester
from opsdesk_shared.contracts.calendars import DeadlineQuery, ElapsedQuery, TimerView
from opsdesk_shared.contracts.tickets import Channel
from opsdesk_shared.logs import correlation_id

from .. import metrics, service
from ..domain import Assignee, NewTicket, Ticket
from ..ports import AssetsUnavailable, CalendarUnavailable, TimersUnavailable
from ..wiring import Adapters


class RequesterIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+\-() ]{3,40}$")
    email: EmailStr | None = None
    department: str | None = Field(default=None, max_length=100)


class TicketIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "title": "打印機卡紙",
                    "description": "三樓打印機卡紙,無法打印",
                    "requester": {"name": "王小明", "phone": "020-12345678", "department": "辦公室"},
                    "channel": "hotline",
                    "service_code": "RS-REPAIR",
                    "asset_tag": "GZ-2026-000001",
                }
            ]
        },
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10_000)
    requester: RequesterIn
    channel: Channel
    service_code: str = Field(min_length=1, max_length=40)
    asset_tag: str | None = Field(default=None, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-_/]*$")
    reported_at: datetime | None = Field(default=None, description="When the call came in (ISO 8601 with offset); defaults to now")
    site: str | None = Field(default=None, max_length=100, description="Building where the requester is, e.g. 主樓")


class TicketOut(BaseModel):
    id: str
    number: str
    status: str
    title: str
    channel: str
    service_code: str
    priority: str
    asset_tag: str | None
    site: str | None = None
    requester: Requester
    reported_at: datetime
    created_at: datetime
    assignee: Assignee | None

    @classmethod
    def of(cls, ticket: Ticket) -> TicketOut:
        return cls.model_validate(ticket.model_dump(exclude={"history", "description", "version"}))


def _adapters(request: Request) -> Adapters:
    return request.app.state.adapters  # type: ignore[no-any-return]


async def _role(request: Request) -> str:
    return await _adapters(request).authenticator.role_of(request)


Wired = Annotated[Adapters, Depends(_adapters)]
Role = Annotated[str, Depends(_role)]
router = APIRouter(prefix="/api/v1")


@router.post("/tickets", status_code=status.HTTP_201_CREATED, response_model=TicketOut, tags=["tickets"])
async def create_ticket(
    body: TicketIn,
    response: Response,
    wired: Wired,
    _role: Role,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> TicketOut:
    """Record a ticket; replaying the same Idempotency-Key returns the original ticket with 200."""
    started = time.perf_counter()
    cmd = NewTicket(
        title=body.title,
        description=body.description,
        requester=Requester(**body.requester.model_dump()),
        channel=body.channel,
        service_code=body.service_code,
        asset_tag=body.asset_tag,
        reported_at=body.reported_at,
        site=body.site,
    )
    ticket, created = await service.open_ticket(
        cmd,
        store=wired.store,
        outbox=wired.outbox,
        now=datetime.now(UTC),
        correlation_id=correlation_id.get() or str(uuid.uuid4()),
        idempotency_key=idempotency_key,
    )
    if created:
        metrics.tickets_created.labels(ticket.channel, ticket.service_code).inc()
        metrics.create_latency.observe(time.perf_counter() - started)
    else:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"/api/v1/tickets/{ticket.id}"
    return TicketOut.of(ticket)


class TicketDetail(TicketOut):
    sla: list[TimerView] | None = Field(
        default=None, description="The ticket's SLA timers; null when the SLA monitor did not answer in time"
    )


@router.get("/tickets/{ticket_id}", response_model=TicketDetail, tags=["tickets"])
async def read_ticket(ticket_id: str, wired: Wired, _role: Role) -> TicketDetail:
    ticket = await service.get_ticket(ticket_id, store=wired.store)
    if ticket is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"ticket {ticket_id} not found")
    timers: list[TimerView] | None = None
    if wired.timers is not None:
        try:
            timers = await wired.timers.timers(ticket_id)
        except TimersUnavailable:
            timers = None  # the ticket is still worth showing without its clocks
    return TicketDetail(**TicketOut.of(ticket).model_dump(), sla=timers)


@router.get("/assets/{tag}", tags=["assets"])
async def read_asset(tag: str, wired: Wired, _role: Role) -> dict[str, Any]:
    """Which asset a tag names, answered by the assets service over NATS."""
    try:
        asset = await wired.assets.lookup(tag)
    except AssetsUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "assets service did not answer") from None
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset tagged {tag}")
    return asset


async def _ask_calendar(wired: Adapters, query: DeadlineQuery | ElapsedQuery) -> JSONResponse:
    if wired.calendars is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "business calendars are not wired")
    try:
        reply = await wired.calendars.ask(query)
    except CalendarUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the SLA monitor did not answer") from None
    if reply.status == 200:
        return JSONResponse(reply.result)
    return JSONResponse({"detail": reply.errors}, status_code=reply.status)


@router.get("/calendars/{name}/deadline", tags=["calendars"], summary="When N business minutes from start run out")
async def calendar_deadline(
    name: str,
    start: Annotated[datetime, Query(description="ISO 8601 with offset")],
    business_minutes: Annotated[float, Query(ge=0, le=10_000_000)],
    wired: Wired,
    _role: Role,
) -> JSONResponse:
    """`{"due_at", "due_at_local", "timezone", "approximate", "calendar"}`; the default calendar is `office-hours`."""
    if start.tzinfo is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", "start"], "msg": "start needs a time zone offset", "type": "value_error"}])
    return await _ask_calendar(wired, DeadlineQuery(calendar=name, start=start, business_minutes=business_minutes))


@router.get("/calendars/{name}/elapsed", tags=["calendars"], summary="Business minutes between two instants")
async def calendar_elapsed(
    name: str,
    start: Annotated[datetime, Query(description="ISO 8601 with offset")],
    end: Annotated[datetime, Query(description="ISO 8601 with offset")],
    wired: Wired,
    _role: Role,
) -> JSONResponse:
    for field, value in (("start", start), ("end", end)):
        if value.tzinfo is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", field], "msg": f"{field} needs a time zone offset", "type": "value_error"}])
    return await _ask_calendar(wired, ElapsedQuery(calendar=name, start=start, end=end))
