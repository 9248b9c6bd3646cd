"""Calendar use cases: answer deadline and elapsed questions, accept uploads and definitions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from opsdesk_shared.contracts.calendars import CalendarReply, DeadlineQuery, ElapsedQuery

from . import calendar, metrics
from .calendar import BusinessCalendar
from .calendar_book import BookHolder, CalendarBook, build_book
from .holiday_data import YearSchedule, package_schedules
from .ports import CalendarStore

log = logging.getLogger(__name__)
# A question (HTTP or calendar.query over NATS, from any signed-in role) covers at most this much time. No SLA
# runs for years, and each day costs a step: year 1 to 9999 kept the monitor, /healthz included, busy for 12 s.
QUESTION_YEARS = 5
QUESTION_SPAN = timedelta(days=QUESTION_YEARS * 366)


async def load_book(store: CalendarStore) -> CalendarBook:
    return build_book(
        package=package_schedules(), uploads=await store.schedules(), definitions=await store.definitions()
    )


def _approximate(calendar_name: str, op: str) -> None:
    # A year with no holiday data: weekends only. Never an error, always visible.
    metrics.approximate_results.labels(calendar_name, op).inc()
    log.warning("business time computed without holiday data", extra={"fields": {"calendar": calendar_name, "op": op}})


def _unknown(name: str, book: CalendarBook) -> CalendarReply:
    return CalendarReply(status=404, errors=[{"loc": ["path", "name"], "msg": f"no calendar {name!r}; known: {sorted(book.calendars)}"}])


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _too_far(field: str, msg: str) -> CalendarReply:
    return CalendarReply(status=422, errors=[{"loc": ["query", field], "msg": msg, "type": "value_error"}])


def _beyond_question_span(query: DeadlineQuery | ElapsedQuery) -> CalendarReply | None:
    """The 422 for a question over more than QUESTION_YEARS, before any day is counted."""
    if isinstance(query, ElapsedQuery):
        if _aware(query.start) and _aware(query.end) and query.end - query.start > QUESTION_SPAN:
            return _too_far("end", f"end is more than {QUESTION_YEARS} years after start; ask about at most {QUESTION_YEARS} years")
        return None
    if query.business_minutes > QUESTION_SPAN / timedelta(minutes=1):
        return _too_far("business_minutes", f"more business minutes than {QUESTION_YEARS} years hold")
    return None


def answer(query: DeadlineQuery | ElapsedQuery, book: CalendarBook) -> CalendarReply:
    cal = book.get(query.calendar)
    if cal is None:
        return _unknown(query.calendar, book)
    refused = _beyond_question_span(query)
    if refused is not None:
        return refused
    try:
        if isinstance(query, DeadlineQuery):
            try:
                due = calendar.deadline(cal, query.start, query.business_minutes, search_years=QUESTION_YEARS)
            except calendar.NotWithin as exc:
                return _too_far("business_minutes", str(exc))
            if due.approximate:
                _approximate(cal.name, "deadline")
            return CalendarReply(result=_deadline_result(cal, due.due_at, due.approximate))
        spent = calendar.elapsed(cal, query.start, query.end)
        if spent.approximate:
            _approximate(cal.name, "elapsed")
        return CalendarReply(result={"business_minutes": spent.minutes, "approximate": spent.approximate, "calendar": cal.name})
    except ValueError as exc:
        return CalendarReply(status=422, errors=[{"loc": ["query"], "msg": str(exc)}])


def _deadline_result(cal: BusinessCalendar, due_at: datetime, approximate: bool) -> dict[str, object]:
    """UTC for machines, the calendar's own zone for people: store UTC, show both."""
    from zoneinfo import ZoneInfo

    return {
        "due_at": due_at.isoformat().replace("+00:00", "Z"),
        "due_at_local": due_at.astimezone(ZoneInfo(cal.timezone)).isoformat(),
        "timezone": cal.timezone,
        "approximate": approximate,
        "calendar": cal.name,
    }


async def upload_schedule(schedule: YearSchedule, *, store: CalendarStore, holder: BookHolder) -> CalendarBook:
    await store.save_schedule(schedule)
    holder.book = await load_book(store)
    return holder.book


async def define_calendar(definition: BusinessCalendar, *, store: CalendarStore, holder: BookHolder) -> CalendarBook:
    await store.save_definition(definition)
    holder.book = await load_book(store)
    return holder.book
