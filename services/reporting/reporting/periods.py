"""Report periods in the customer's calendar (Asia/Shanghai): month, quarter and year keys and their bounds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
