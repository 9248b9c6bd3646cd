"""Report periods in the customer's calendar (Asia/Shanghai): month, quarter and year keys and their bounds."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def local(at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(TZ)


def month_key(at: datetime) -> str:
    at = local(at)
    return f"{at.year:04d}-{at.month:02d}"


def months_of(period: str) -> list[str]:
    """The month keys a period covers: 2026-11 -> [2026-11]; 2026-Q4 -> [2026-10, 2026-11, 2026-12]; 2026 -> 12."""
    if m := _MONTH.match(period):
        if not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"no month {period}")
        return [period]
    if m := _QUARTER.match(period):
        year, q = int(m.group(1)), int(m.group(2))
        return [f"{year:04d}-{month:02d}" for month in range(3 * q - 2, 3 * q + 1)]
    if m := _YEAR.match(period):
        return [f"{int(m.group(1)):04d}-{month:02d}" for month in range(1, 13)]
    raise ValueError(f"not a period: {period!r} (use 2026-11, 2026-Q4 or 2026)")


def start_of(period: str) -> datetime:
    first = months_of(period)[0]
    return datetime(int(first[:4]), int(first[5:]), 1, tzinfo=TZ)


def end_of(period: str) -> datetime:
    """First instant after the period (local midnight)."""
    last = months_of(period)[-1]
    year, month = int(last[:4]), int(last[5:])
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=TZ)


def previous(kind: str, now: datetime) -> str:
    """The last complete period of a kind (month, quarter or year) before `now`."""
    at = local(now)
    if kind == "month":
        year, month = (at.year, at.month - 1) if at.month > 1 else (at.year - 1, 12)
        return f"{year:04d}-{month:02d}"
    if kind == "quarter":
        q = (at.month - 1) // 3 + 1
        year, q = (at.year, q - 1) if q > 1 else (at.year - 1, 4)
        return f"{year:04d}-Q{q}"
    return f"{at.year - 1:04d}"


def is_working_day(day: date) -> bool:
    """China's official calendar (public holidays off, make-up days on) where the package knows the year; plain
    weekends otherwise, as the SLA monitor does for a year without data."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def working_days_between(start: datetime, end: datetime) -> float:
    """Working days (local) elapsed from start to end: weekends and public holidays do not count, make-up days do."""
    a, b = local(start), local(end)
    if b <= a:
        return 0.0
    days = 0.0
    cursor = a
    while cursor < b:
        next_midnight = datetime(cursor.year, cursor.month, cursor.day, tzinfo=TZ) + timedelta(days=1)
        step_end = min(next_midnight, b)
        if is_working_day(cursor.date()):
            days += (step_end - cursor).total_seconds() / 86400
        cursor = step_end
    return days


def second_weekend_end(sent: datetime) -> datetime:
    """The contract: back at the user's site before the second weekend after the send-out ends (second Sunday, 24:00)."""
    at = local(sent)
    days_to_sunday = 6 - at.weekday()
    first_sunday = datetime(at.year, at.month, at.day, tzinfo=TZ) + timedelta(days=days_to_sunday)
    return first_sunday + timedelta(days=8)  # Monday 00:00 after the second Sunday
