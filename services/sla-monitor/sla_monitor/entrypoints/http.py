"""The SLA monitor's HTTP edge: timers, business calendars and holiday years.

Every route knows its caller only from the gateway's signed internal token (`VerifiedCaller`). The operations team
reads (requesters see their clocks through the desk, which asks over NATS); only an admin changes the calendars or
the holiday data the contract's clocks run on. An engineer reads a ticket's timer only while holding the ticket.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery
from opsdesk_shared.errors import language
from opsdesk_shared.internal_auth import VerifiedCaller, require_roles
from opsdesk_shared.localtime import AwareDatetime
from opsdesk_shared.roles import READ_EVERYTHING, STAFF_ROLES

from .. import calendar_service, domain, listing, service
from ..calendar import BusinessCalendar
from ..domain import Timer
from ..holiday_data import ScheduleError, localised, parse_schedule_csv, parse_schedule_json, problem

STAFF = tuple(sorted(STAFF_ROLES))  # the team and the agency (opsdesk_shared.roles)
# The list of every ticket's clocks is the desk's and its supervisors' (auditors, the agency); engineers read the
# clocks of tickets they hold.
DESK_READERS = [Depends(require_roles(*sorted(READ_EVERYTHING)))]
# Calendars and holidays move every deadline in the contract: admins only, and no service writes them over HTTP.
CALENDAR_WRITERS = ("admin",)
ADMIN_ONLY = [Depends(require_roles(*CALENDAR_WRITERS, services=False))]

router = APIRouter(prefix="/api/v1", dependencies=[Depends(require_roles(*STAFF))])


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


def _reply(reply: CalendarReply) -> JSONResponse:
    if reply.status == 200:
        return JSONResponse(reply.result)
    # The shared error handler gives the refusal the one error shape in the caller's language.
    raise HTTPException(reply.status, reply.errors)


class ListedTimer(BaseModel):
    """One clock in the desk's list: which ticket (or repair) it runs for, and its state as the ticket page shows it."""

    ticket_id: str = Field(examples=["7b0c9f5e-3c1d-4c8e-9d7a-2f1e0b6a5c4d"])
    repair_id: str | None = None
    name: str = Field(examples=["response"])
    policy: str | None = None
    state: str = Field(description="running, paused or breached (a breached clock is listed until its ticket closes)")
    started_at: datetime | None = None
    due_at: datetime | None = Field(default=None, examples=["2026-11-30T10:00:00+08:00"])
    warning_at: datetime | None = Field(default=None, examples=["2026-11-30T09:48:00+08:00"])
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    paused_seconds: float = 0.0
    calendar: str | None = None
    approximate: bool = False

    @classmethod
    def of(cls, timer: Timer) -> ListedTimer:
        view = domain.view(timer)
        return cls(
            ticket_id=timer.ticket_id, repair_id=timer.repair_id, warned_at=timer.warned_at,
            **view.model_dump(include={"name", "policy", "state", "started_at", "due_at", "warning_at", "breached_at",
                                       "paused_seconds", "calendar", "approximate"}),
        )


class TimerPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [{
        "ticket_id": "7b0c9f5e-3c1d-4c8e-9d7a-2f1e0b6a5c4d", "repair_id": None, "name": "response", "policy": "response",
        "state": "running", "started_at": "2026-11-30T09:00:00+08:00", "due_at": "2026-11-30T10:00:00+08:00",
        "warning_at": "2026-11-30T09:48:00+08:00", "warned_at": None, "breached_at": None, "paused_seconds": 0.0,
        "calendar": "office-hours", "approximate": False,
    }], "next_cursor": None}]})

    items: list[ListedTimer]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


MAX_TICKETS = 100


@router.get(
    "/timers", response_model=TimerPage, tags=["timers"], summary="The desk's list of clocks, due first",
    dependencies=DESK_READERS,
)
async def list_timers(
    wired: Wired,
    state: Literal["running", "paused"] = "running",
    due_before: Annotated[AwareDatetime | None, Query(description="Only clocks due before this instant (with its offset)")] = None,
    warned: Annotated[bool | None, Query(description="true: past its warning time; false: not yet")] = None,
    breached: Annotated[bool | None, Query(description="true: breached, or past its due time; false: still in time")] = None,
    timer: Annotated[list[str] | None, Query(max_length=40, description="Clock names (response, dispatch, ...); repeat for several")] = None,
    ticket: Annotated[
        list[str] | None,
        Query(description=f"Only the clocks of these tickets (repeat it, up to {MAX_TICKETS}), every one in a single page, "
              "due first: a list's rows with their clocks in one call"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TimerPage:
    """Running clocks (a breached one stays listed until its ticket closes) or paused ones, in order of due time,
    then key: a stable order, so cursor pages never repeat or skip a clock. At risk at the desk: `due_before=now+15
    minutes` together with `warned=true`, each with `breached=false`; breached: `breached=true`. For the desk,
    managers, auditors and admins; engineers read the clocks of the tickets they hold one by one."""
    try:
        after = listing.decode_cursor(cursor) if cursor else None
    except listing.BadCursor as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}]
        ) from None
    query = listing.TimerFilter(
        now=datetime.now(UTC), state=state, due_before=due_before, warned=warned, breached=breached,
        names=frozenset(timer or ()),
    )
    if ticket:
        if len(ticket) > MAX_TICKETS:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{
                "loc": ["query", "ticket"], "msg": f"at most {MAX_TICKETS} tickets at once", "type": "too_long"}])
        names = wired.policies.timer_policies if wired.policies is not None else domain.DEFAULT_POLICIES
        clocks = await service.timers_of_tickets(ticket, names=tuple(names), store=wired.store)
        listed = sorted((t for t in clocks if listing.matches(query, t)), key=lambda t: (t.due_at, t.key))
        return TimerPage(items=[ListedTimer.of(t) for t in listed], next_cursor=None)
    found = await wired.store.page(query, after=after, limit=limit + 1)
    items = found[:limit]
    more = len(found) > limit and bool(items)
    return TimerPage(items=[ListedTimer.of(t) for t in items], next_cursor=listing.encode_cursor(items[-1]) if more else None)


@router.get("/timers/{ticket_id}/{name}", response_model=Timer, tags=["timers"])
async def read_timer(ticket_id: str, name: str, wired: Wired, caller: VerifiedCaller) -> Timer:
    """One clock. Engineers see it only for a ticket they hold (404 otherwise, as for a clock that does not exist)."""
    timer: Timer | None = await wired.store.get(domain.timer_key(ticket_id, name))
    if timer is not None and caller.role == "engineer":
        # Known by the roster id the token links; an engineer user without one holds no ticket.
        me = caller.engineer_id
        if me is None or not await service.may_read_ticket_timer(timer, engineer=me, holders=wired.holders):
            timer = None
    if timer is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {name} timer for ticket {ticket_id}")
    return timer


@router.get("/calendars", tags=["calendars"], summary="Every calendar and the holiday years it knows")
async def list_calendars(wired: Wired) -> dict[str, Any]:
    book = wired.book.book
    return {
        "calendars": [c.model_dump(mode="json", exclude={"schedules"}) for c in book.calendars.values()],
        "holiday_years": {str(year): s.source for year, s in sorted(book.schedules.items())},
    }


@router.get("/calendars/{name}/deadline", tags=["calendars"], summary="When N business minutes from start run out")
async def deadline(
    name: str, start: AwareDatetime, business_minutes: Annotated[float, Query(ge=0, le=10_000_000)], wired: Wired
) -> JSONResponse:
    return _reply(calendar_service.answer(DeadlineQuery(calendar=name, start=start, business_minutes=business_minutes), wired.book.book))


@router.get("/calendars/{name}/elapsed", tags=["calendars"], summary="Business minutes between two instants")
async def elapsed(name: str, start: AwareDatetime, end: AwareDatetime, wired: Wired) -> JSONResponse:
    return _reply(calendar_service.answer(ElapsedQuery(calendar=name, start=start, end=end), wired.book.book))


class CalendarIn(BaseModel):
    """A calendar definition; holiday data is shared by all calendars and uploaded per year."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(examples=["Asia/Shanghai"])
    working_day_windows: list[Any]
    non_working_day_windows: list[Any] = Field(default_factory=list)
    weekdays: list[int] | None = None
    observe_holidays: bool = True


@router.put("/calendars/{name}", tags=["calendars"], summary="Define or replace a calendar", dependencies=ADMIN_ONLY)
async def put_calendar(name: str, body: CalendarIn, wired: Wired) -> dict[str, Any]:
    fields = body.model_dump(exclude_none=True)
    try:
        definition = BusinessCalendar.model_validate({"name": name, **fields})
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, _errors(exc)) from None
    book = await calendar_service.define_calendar(definition, store=wired.calendars, holder=wired.book)
    return book.calendars[name].model_dump(mode="json", exclude={"schedules"})


@router.get("/holidays/{year}", tags=["calendars"], summary="A year's schedule: its holidays and make-up working days")
async def get_holidays(year: int, wired: Wired) -> dict[str, Any]:
    """What the calendars use for `year` (an upload or the chinese-calendar package); 404 when no schedule covers it."""
    schedule = wired.book.book.schedules.get(year)
    if schedule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no holiday schedule for {year}")
    return {"year": year, "holidays": sorted(d.isoformat() for d in schedule.holidays),
            "workdays": sorted(d.isoformat() for d in schedule.workdays), "source": schedule.source}


@router.put(
    "/holidays/{year}",
    tags=["calendars"],
    summary="Upload a year's official schedule (JSON, or CSV with header date,kind)",
    # The body is read raw (JSON or CSV), so its shape and an example are written out here for the API document.
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {
            "schema": {"type": "object", "required": ["year", "holidays"], "additionalProperties": False, "properties": {
                "year": {"type": "integer", "minimum": 1, "maximum": 9999},
                "holidays": {"type": "array", "items": {"type": "string", "format": "date"}},
                "workdays": {"type": "array", "items": {"type": "string", "format": "date"}},
            }},
            "example": {"year": 2027, "holidays": ["2027-01-01", "2027-10-01"], "workdays": ["2027-09-26"]},
        },
        "text/csv": {"schema": {"type": "string"}, "example": "date,kind\n2027-01-01,holiday\n2027-09-26,workday\n"},
    }}},
    dependencies=ADMIN_ONLY,
)
async def put_holidays(year: int, request: Request, wired: Wired) -> dict[str, Any]:
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        if "csv" in request.headers.get("content-type", ""):
            schedule = parse_schedule_csv(text)
        else:
            schedule = parse_schedule_json(text)
    except ScheduleError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, localised(exc.details, language(request))) from None
    if schedule.year != year:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            localised([problem(["body", "year"], "year_mismatch", year=schedule.year, path=year)], language(request)),
        )
    schedule = schedule.model_copy(update={"source": "upload"})
    await calendar_service.upload_schedule(schedule, store=wired.calendars, holder=wired.book)
    return {"year": year, "holidays": len(schedule.holidays), "workdays": len(schedule.workdays), "source": schedule.source}


def _errors(exc: ValueError) -> list[dict[str, Any]]:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return [{"loc": ["body", *e.get("loc", ())], "msg": e.get("msg", "")} for e in errors()]
    return [{"loc": ["body"], "msg": str(exc)}]
