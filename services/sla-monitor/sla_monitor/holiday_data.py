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
from typing import Any, NotRequired, TypedDict

import chinese_calendar
from pydantic import ValidationError

from opsdesk_shared.catalogue import Catalogue

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
    msg: str  # English; `reason` and `params` say it again in the caller's language (HOLIDAY_TEXTS, at the HTTP edge)
    reason: NotRequired[str]
    params: NotRequired[dict[str, Any]]


WEEKDAYS: dict[str, tuple[str, str, str]] = {
    "Monday": ("周一", "週一", "Monday"), "Tuesday": ("周二", "週二", "Tuesday"), "Wednesday": ("周三", "週三", "Wednesday"),
    "Thursday": ("周四", "週四", "Thursday"), "Friday": ("周五", "週五", "Friday"), "Saturday": ("周六", "週六", "Saturday"),
    "Sunday": ("周日", "週日", "Sunday"),
}
HOLIDAY_TEXTS: dict[str, tuple[str, str, str]] = {
    # reason: (zh-CN, zh-TW, en)
    "not_iso_date": ("{value} 不是 YYYY-MM-DD 格式的日期", "{value} 不是 YYYY-MM-DD 格式的日期", "{value} is not a date as YYYY-MM-DD"),
    "not_calendar_date": ("{value} 不是有效的日期", "{value} 不是有效的日期", "{value} is not a calendar date"),
    "other_year": ("{day} 不在 {year} 年内；每次只上传一年", "{day} 不在 {year} 年內；每次只上傳一年", "{day} is not in {year}; upload one year at a time"),
    "workday_on_weekday": ("调休上班日 {day} 是{weekday}，不是周六或周日", "調休上班日 {day} 是{weekday}，不是週六或週日",
                           "make-up workday {day} is a {weekday}, not a Saturday or a Sunday"),
    "both_kinds": ("{day} 同时列为节假日和调休上班日", "{day} 同時列為節假日和調休上班日", "{day} is listed both as a holiday and as a workday"),
    "not_json": ("不是 JSON（第 {line} 行第 {column} 列）：{error}", "不是 JSON（第 {line} 行第 {column} 欄）：{error}",
                 "not JSON (line {line}, column {column}): {error}"),
    "not_object": ("应为包含 year、holidays、workdays 的对象", "應為包含 year、holidays、workdays 的物件",
                   "expected an object with year, holidays and workdays"),
    "unknown_field": ("未知字段；应为 {allowed} 之一", "未知欄位；應為 {allowed} 之一", "unknown field; expected one of {allowed}"),
    "year_required": ("缺少必填字段", "缺少必填欄位", "field required"),
    "not_year": ("{value} 不是年份", "{value} 不是年份", "{value} is not a year"),
    "dates_required": ("缺少必填字段（日期列表，可为空）", "缺少必填欄位（日期列表，可為空）", "field required (a list of dates, may be empty)"),
    "not_date_list": ("应为 YYYY-MM-DD 格式的日期列表", "應為 YYYY-MM-DD 格式的日期列表", "expected a list of dates as YYYY-MM-DD"),
    "bad_header": ("第一行应为表头 date,kind，实际为 {got}", "第一行應為表頭 date,kind，實際為 {got}", "expected the header date,kind, got {got}"),
    "cell_count": ("应有 2 列（date,kind），实际 {count} 列", "應有 2 欄（date,kind），實際 {count} 欄", "expected 2 cells (date,kind), got {count}"),
    "bad_kind": ("{value} 不是 holiday（节假日）或 workday（调休上班）", "{value} 不是 holiday（節假日）或 workday（調休上班）",
                 "{value} is not holiday or workday"),
    "empty_upload": ("上传内容为空；应为表头 date,kind，再每个日期一行", "上傳內容為空；應為表頭 date,kind，再每個日期一行",
                     "empty upload; expected the header date,kind and one row per date"),
    "no_dates": ("没有日期；每个节假日或调休上班日一行", "沒有日期；每個節假日或調休上班日一行", "no dates; expected one row per holiday or workday"),
    "year_mismatch": ("这份安排是 {year} 年的，与所选年份 {path} 不符", "這份安排是 {year} 年的，與所選年份 {path} 不符",
                      "the schedule is for {year}, the path says {path}"),
}
HOLIDAY_CATALOGUE = Catalogue(HOLIDAY_TEXTS, words={"weekday": WEEKDAYS})


def problem(loc: list[str | int], reason: str, **params: Any) -> ErrorDetail:
    """One located problem: the English message, and the reason with its parameters to say it in another language."""
    return {"loc": loc, "msg": HOLIDAY_CATALOGUE.render(reason, params, "en"), "reason": reason, "params": params}


def localised(details: list[ErrorDetail], language: str) -> list[dict[str, Any]]:
    """The 422's details in the caller's language (a detail without a reason keeps its message)."""
    return [{"loc": d["loc"], "msg": HOLIDAY_CATALOGUE.render(d["reason"], d.get("params") or {}, language) if "reason" in d else d["msg"],
             "type": "value_error"} for d in details]


class _BadDate(ValueError):
    def __init__(self, reason: str, value: object) -> None:
        super().__init__(HOLIDAY_CATALOGUE.render(reason, {"value": repr(value)}, "en"))
        self.reason, self.value = reason, repr(value)


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
        raise _BadDate("not_iso_date", value)
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise _BadDate("not_calendar_date", value) from None


def _build(
    year: int, entries: Iterable[tuple[date, str, list[str | int]]], errors: list[ErrorDetail]
) -> YearSchedule:
    """Cross-checks the dates (year, kind, weekday) with their locations, then builds the schedule."""
    holidays: dict[date, list[str | int]] = {}
    workdays: dict[date, list[str | int]] = {}
    for day, kind, loc in entries:
        if day.year != year:
            errors.append(problem(loc, "other_year", day=str(day), year=year))
        elif kind == "workday" and day.weekday() < 5:
            errors.append(problem(loc, "workday_on_weekday", day=str(day), weekday=f"{day:%A}"))
        else:
            (holidays if kind == "holiday" else workdays).setdefault(day, loc)
    for day in sorted(holidays.keys() & workdays.keys()):
        errors.append(problem(workdays[day], "both_kinds", day=str(day)))
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
        raise ScheduleError([problem([], "not_json", line=exc.lineno, column=exc.colno, error=exc.msg)]) from None
    if not isinstance(document, dict):
        raise ScheduleError([problem([], "not_object")])
    errors: list[ErrorDetail] = [
        problem([key], "unknown_field", allowed=", ".join(_JSON_KEYS))
        for key in document
        if key not in _JSON_KEYS
    ]
    raw_year = document.get("year")
    year = raw_year if isinstance(raw_year, int) and not isinstance(raw_year, bool) and 1 <= raw_year <= 9999 else None
    if "year" not in document:
        errors.append(problem(["year"], "year_required"))
    elif year is None:
        errors.append(problem(["year"], "not_year", value=repr(raw_year)))
    entries: list[tuple[date, str, list[str | int]]] = []
    for key, kind, required in (("holidays", "holiday", True), ("workdays", "workday", False)):
        if key not in document:
            if required:
                errors.append(problem([key], "dates_required"))
            continue
        values = document[key]
        if not isinstance(values, list):
            errors.append(problem([key], "not_date_list"))
            continue
        for index, value in enumerate(values):
            try:
                entries.append((_iso_date(value), kind, [key, index]))
            except _BadDate as exc:
                errors.append(problem([key, index], exc.reason, value=exc.value))
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
                raise ScheduleError([problem(["row", line], "bad_header", got=",".join(cells))])
            continue
        if len(cells) != 2:
            errors.append(problem(["row", line], "cell_count", count=len(cells)))
            continue
        raw_date, kind = cells[0], cells[1].lower()
        if kind not in _KINDS:
            errors.append(problem(["row", line, "kind"], "bad_kind", value=repr(cells[1])))
        try:
            day = _iso_date(raw_date)
        except _BadDate as exc:
            errors.append(problem(["row", line, "date"], exc.reason, value=exc.value))
            continue
        if kind in _KINDS:
            entries.append((day, kind, ["row", line, "date"]))
    if not header_seen:
        raise ScheduleError([problem([], "empty_upload")])
    if not entries:
        if not errors:
            errors.append(problem([], "no_dates"))
        raise ScheduleError(errors)
    # The year is the first row's; a row in another year is reported where it is.
    return _build(entries[0][0].year, entries, errors)
