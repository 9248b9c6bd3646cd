"""What the gateway answers by asking other services over NATS: assets by tag (with the desk's open tickets on
it, for the operations team only) and business-calendar arithmetic. The services answer these bus requests as the
gateway's questions; the caller's rights are checked here, before asking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from opsdesk_shared.contracts.calendars import DeadlineQuery, ElapsedQuery
from opsdesk_shared.localtime import AwareDatetime

from .. import service
from ..entrypoints.deps import Caller, Wired
from ..ports import AssetsUnavailable, CalendarUnavailable
from ..search import Query as SearchQuery
from ..wiring import Adapters
from . import routing
from .routing import require_staff

router = APIRouter(prefix="/api/v1")
OPEN = frozenset({"new", "assigned", "in_progress", "pending"})


@router.get("/assets/{tag}", tags=["assets"], summary="An asset by its tag, with the open tickets that name it")
async def read_asset(tag: str, wired: Wired, actor: Caller) -> dict[str, Any]:
    """Which asset a tag names, answered by the assets service over NATS, with the open tickets this caller may see.
    Staff only: an asset's serial, owner and location are not a requester's to browse."""
    require_staff(actor)
    try:
        asset = await wired.assets.lookup(tag)
    except AssetsUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "assets service did not answer") from None
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset tagged {tag}")
    open_tickets, _, _ = await wired.index.page_async(
        SearchQuery(filters={"asset_tag": frozenset({tag}), "status": OPEN}, limit=50), actor=actor
    )
    return {**asset, "open_tickets": open_tickets}


async def _ask_calendar(wired: Adapters, query: DeadlineQuery | ElapsedQuery) -> JSONResponse:
    if wired.calendars is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "business calendars are not wired")
    try:
        reply = await wired.calendars.ask(query)
    except CalendarUnavailable:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the SLA monitor did not answer") from None
    if reply.status == 200:
        return JSONResponse(reply.result)
    raise HTTPException(reply.status, reply.errors)


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", name], "msg": f"{name} needs a time zone offset", "type": "value_error"}]
        )


@router.get("/calendars/{name}/deadline", tags=["calendars"], summary="When N business minutes from start run out")
async def calendar_deadline(
    name: str,
    start: Annotated[AwareDatetime, Query(description="ISO 8601 with offset")],
    business_minutes: Annotated[float, Query(ge=0, le=10_000_000)],
    wired: Wired,
    _actor: Caller,
) -> JSONResponse:
    """`{"due_at", "due_at_local", "timezone", "approximate", "calendar"}`; the default calendar is `office-hours`."""
    _aware("start", start)
    return await _ask_calendar(wired, DeadlineQuery(calendar=name, start=start, business_minutes=business_minutes))


@router.get("/calendars/{name}/elapsed", tags=["calendars"], summary="Business minutes between two instants")
async def calendar_elapsed(
    name: str,
    start: Annotated[AwareDatetime, Query(description="ISO 8601 with offset")],
    end: Annotated[AwareDatetime, Query(description="ISO 8601 with offset")],
    wired: Wired,
    _actor: Caller,
) -> JSONResponse:
    _aware("start", start)
    _aware("end", end)
    return await _ask_calendar(wired, ElapsedQuery(calendar=name, start=start, end=end))


@router.get("/kb/suggestions/{ticket_id}", include_in_schema=False)
async def read_suggestions(ticket_id: str, request: Request, wired: Wired, actor: Caller) -> Any:
    """The articles suggested for a ticket. Staff read knowledge's record (routed as every /kb path). A requester
    reads the suggestions of a ticket they may see, the ones the ticket shows them (intake keeps them from
    kb.suggested), in knowledge's shape; knowledge cannot tell whose ticket it is, so the gateway answers for it, and
    another's ticket is a 404 like an unknown one. Documented by knowledge's operation in the merged document."""
    if actor.role != "requester":
        return await routing._forward(request, wired, actor, "kb", f"suggestions/{ticket_id}")
    ticket = await service.get_ticket(ticket_id, desk=wired.desk, actor=actor)  # TicketNotFound: 404
    suggested = [entry.at for entry in ticket.audit if entry.action == "suggested"]
    if not ticket.suggestions and not suggested:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no suggestion for ticket {ticket_id}")
    return {
        "ticket_id": ticket.id,
        "articles": [{"article_id": s.article_id, "title": s.title, "score": s.score} for s in ticket.suggestions],
        "suggested_at": suggested[-1] if suggested else None,
    }
