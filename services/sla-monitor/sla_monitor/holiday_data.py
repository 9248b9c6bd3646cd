"""Year schedules of China's public holidays: from the chinese-calendar package, or an admin's upload.

The State Council publishes each year's days off and make-up working days only a few weeks ahead, so the package
covers the years up to its release (chinese-calendar 1.11.0: 2004-2026) and an upload fills the years after.
An upload is JSON, {"year": 2027, "holidays": ["2027-01-01", ...], "workdays": ["2027-02-06", ...]}, or CSV with
the header `date,kind` and `holiday` or `workday` as the kind, one year per upload. Errors carry locations:
["holidays", 3] for the fourth JSON holiday, ["row", 5, "date"] for the date on line 5 of the CSV (line 1 is the
header), like a spreadsheet's row numbers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from typing import Any, TypedDict

import chinese_calendar
from pydantic import ValidationError

from .calendar import YearSchedule

__all__ = [
    "PACKAGE_SOURCE",
    "ErrorDetail",
    "ScheduleError",
    "YearSchedule",
    "package_schedules",
    "parse_schedule_csv",
    "parse_schedule_json",
]

PACKAGE_SOURCE = f"chinese-calendar {chinese_calendar.__version__}"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_JSON_KEYS = ("year", "holidays", "workdays")
_KINDS = ("holiday", "workday")


class ErrorDetail(TypedDict):
    loc: list[str | int]
    msg: str


class ScheduleError(ValueError):
    """An upload that is not a valid year schedule; `details` locate each problem for a 422."""

    def __init__(self, details: list[ErrorDetail]) -> None:
        self.details = details
        super().__init__("; ".join(f"{'.'.join(map(str, d['loc'])) or 'document'}: {d['msg']}" for d in details))


@cache
def _package_years() -> tuple[YearSchedule, ...]:
    days_off: dict[date, str] = chinese_calendar.holidays
    make_up: dict[date, str] = chinese_calendar.workdays
    first, last = min(days_off).year, max(days_off).year
    return tuple(
        YearSchedule(
            year=year,
            # Weekend days inside a holiday are listed too; harmless, since weekends are days off anyway.
            holidays=frozenset(d for d in days_off if d.year == year),
            workdays=frozenset(d for d in make_up if d.year == year and d.weekday() >= 5),
            source=PACKAGE_SOURCE,
        )
        for year in range(first, last + 1)
    )


def package_schedules() -> dict[int, YearSchedule]:
    """Every year the installed chinese-calendar package covers; later years are absent (answers approximate)."""
    return {schedule.year: schedule for schedule in _package_years()}


def _iso_date(value: object) -> date:
    if not isinstance(value, str) or not _ISO_DATE.match(value.strip()):
        raise ValueError(f"{value!r} is not a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar date") from None


def _build(
    year: int, entries: Iterable[tuple[date, str, list[str | int]]], errors: list[ErrorDetail]
) -> YearSchedule:
    """Cross-checks the dates (year, kind, weekday) with their locations, then builds the schedule."""
    holidays: dict[date, list[str | int]] = {}
    workdays: dict[date, list[str | int]] = {}
    for day, kind, loc in entries:
        if day.year != year:
            errors.append({"loc": loc, "msg": f"{day} is not in {year}; upload one year at a time"})
        elif kind == "workday" and day.weekday() < 5:
            errors.append({"loc": loc, "msg": f"make-up workday {day} is a {day:%A}, not a Saturday or a Sunday"})
        else:
            (holidays if kind == "holiday" else workdays).setdefault(day, loc)
    for day in sorted(holidays.keys() & workdays.keys()):
        errors.append({"loc": workdays[day], "msg": f"{day} is listed both as a holiday and as a workday"})
    if errors:
        raise ScheduleError(errors)
    try:
        return YearSchedule(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), source="upload")
    except ValidationError as exc:  # pragma: no cover - the checks above catch what the model refuses
        raise ScheduleError([{"loc": [], "msg": e["msg"]} for e in exc.errors()]) from None


def parse_schedule_json(text: str) -> YearSchedule:
    """{"year": 2027, "holidays": [...], "workdays": [...]}; "workdays" may be left out, other keys may not."""
    try:
        document: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScheduleError([{"loc": [], "msg": f"not JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"}]) from None
    if not isinstance(document, dict):
        raise ScheduleError([{"loc": [], "msg": "expected an object with year, holidays and workdays"}])
    errors: list[ErrorDetail] = [
        {"loc": [key], "msg": f"unknown field; expected one of {', '.join(_JSON_KEYS)}"}
        for key in document
        if key not in _JSON_KEYS
    ]
    raw_year = document.get("year")
    year = raw_year if isinstance(raw_year, int) and not isinstance(raw_year, bool) and 1 <= raw_year <= 9999 else None
    if "year" not in document:
        errors.append({"loc": ["year"], "msg": "field required"})
    elif year is None:
        errors.append({"loc": ["year"], "msg": f"{raw_year!r} is not a year"})
    entries: list[tuple[date, str, list[str | int]]] = []
    for key, kind, required in (("holidays", "holiday", True), ("workdays", "workday", False)):
        if key not in document:
            if required:
                errors.append({"loc": [key], "msg": "field required (a list of dates, may be empty)"})
            continue
        values = document[key]
        if not isinstance(values, list):
            errors.append({"loc": [key], "msg": "expected a list of dates as YYYY-MM-DD"})
            continue
        for index, value in enumerate(values):
            try:
                entries.append((_iso_date(value), kind, [key, index]))
            except ValueError as exc:
                errors.append({"loc": [key, index], "msg": str(exc)})
    if year is None:
        raise ScheduleError(errors)
    return _build(year, entries, errors)


def parse_schedule_csv(text: str) -> YearSchedule:
    """`date,kind` then one row per date, kind `holiday` or `workday`; the year is the dates' (one year only)."""
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    errors: list[ErrorDetail] = []
    entries: list[tuple[date, str, list[str | int]]] = []
    header_seen = False
    for line, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if not header_seen:
            header_seen = True
            if [cell.lower() for cell in cells] != ["date", "kind"]:
                raise ScheduleError([{"loc": ["row", line], "msg": f"expected the header date,kind, got {','.join(cells)}"}])
            continue
        if len(cells) != 2:
            errors.append({"loc": ["row", line], "msg": f"expected 2 cells (date,kind), got {len(cells)}"})
            continue
        raw_date, kind = cells[0], cells[1].lower()
        if kind not in _KINDS:
            errors.append({"loc": ["row", line, "kind"], "msg": f"{cells[1]!r} is not holiday or workday"})
        try:
            day = _iso_date(raw_date)
        except ValueError as exc:
            errors.append({"loc": ["row", line, "date"], "msg": str(exc)})
            continue
        if kind in _KINDS:
            entries.append((day, kind, ["row", line, "date"]))
    if not header_seen:
        raise ScheduleError([{"loc": [], "msg": "empty upload; expected the header date,kind and one row per date"}])
    if not entries:
        if not errors:
            errors.append({"loc": [], "msg": "no dates; expected one row per holiday or workday"})
        raise ScheduleError(errors)
    # The year is the first row's; a row in another year is reported where it is.
    return _build(entries[0][0].year, entries, errors)
