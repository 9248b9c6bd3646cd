"""Business time: which instants count towards an SLA, and when N business minutes or working days run out.

The contract's service time is Monday to Friday office hours in Asia/Shanghai, with no service on China's public
holidays and service on the official make-up working days. A calendar says, per local day, whether it is a working
day and which windows of that day are service time; everything here is pure and answers in UTC.

A day is a working day if:
1. the calendar observes holidays and the day is a make-up working day of its year's schedule, else
2. the calendar observes holidays and the day is a holiday of its year's schedule: not a working day, else
3. its weekday is one of the calendar's weekdays (Monday to Friday unless configured).
A year with no schedule falls back to rule 3 and every answer that looked at one of its days says `approximate`.

Two rules of the contract are counted in working days, not minutes. Their exact reading:

"A written progress update at least every 3 working days" (`add_working_days`, N = 3):
    The update is due at the close of business (the end of the last working-day window; 17:30 for office hours)
    of the N-th working day strictly after the local date of the start (the ticket's opening or the previous
    update). The start's own day never counts, whatever the time of day. If the start falls on a weekend or a
    holiday, the first working day after it is day 1. Make-up working days count as working days; holidays on
    weekdays do not. Examples: Monday -> Thursday 17:30; Saturday -> Wednesday 17:30.

"Repaired and back with the user before the second weekend after it was sent out" (`before_second_weekend`):
    A weekend is a Saturday and the Sunday after it, by the calendar alone: a make-up working Saturday or Sunday
    is still a weekend day for finding the weekends. The first weekend is the one whose Saturday is strictly
    after the local date of the send-out, so a send-out on a Saturday or a Sunday does not count that weekend as
    the first; the second weekend starts seven days after the first. The item is due at the close of business
    of the last working day strictly after the send-out's date and before the second weekend's Saturday, going
    back over holidays and ordinary weekend days (a make-up working day of the first weekend is a working day
    and can be that day; the second weekend's Saturday never is, even when it is a make-up working day). A
    send-out on a holiday is treated like any other send-out on that date. If no working day lies in between
    (a week-long holiday right after the send-out, e.g. sent on Friday 2022-09-30 before 2022-10-01..07), the
    item is due at the close of business of the first working day after the send-out's date (there: Saturday
    2022-10-08, a make-up working day). Examples: sent Monday 2026-11-23 -> Friday 2026-12-04 17:30; sent
    Saturday 2026-11-28 -> Friday 2026-12-11 17:30; sent Monday 2026-06-08, Friday 2026-06-19 being a holiday ->
    Thursday 2026-06-18 17:30.

All local dates are in the calendar's time zone. Every function takes aware datetimes, raises ValueError on naive
ones, and returns aware UTC datetimes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

SHANGHAI = "Asia/Shanghai"
MINUTES_PER_DAY = 1440
MONDAY_TO_FRIDAY: frozenset[int] = frozenset(range(5))
EVERY_DAY: frozenset[int] = frozenset(range(7))
SATURDAY = 5
SEARCH_YEARS = 20
_SEARCH_DAYS = SEARCH_YEARS * 366
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)


def parse_clock(text: str) -> int:
    """Minutes after midnight for "HH:MM"; "24:00" is the end of the day (1440)."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValueError(f"{text!r} is not a time of day between 00:00 and 24:00")
    return hours * 60 + minutes


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


class Window(BaseModel):
    """Service time within one local day, as minutes after midnight; `end` may be 1440 (24:00).

    Accepts {"start": "08:30", "end": "12:00"}, "08:30-12:00", ["08:30", "12:00"], minutes or `time` values
    (`time.max` meaning 24:00); serialises to JSON as "HH:MM".
    """

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0, lt=MINUTES_PER_DAY, description="Opening, minutes after local midnight (or HH:MM)")
    end: int = Field(gt=0, le=MINUTES_PER_DAY, description="Closing, minutes after local midnight (or HH:MM, 24:00)")

    @model_validator(mode="before")
    @classmethod
    def _from_pair(cls, value: Any) -> Any:
        if isinstance(value, str):
            start, sep, end = value.partition("-")
            if not sep:
                raise ValueError(f"{value!r} is not a window as HH:MM-HH:MM")
            return {"start": start, "end": end}
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("a window is a pair [start, end]")
            return {"start": value[0], "end": value[1]}
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        if isinstance(value, str):
            return parse_clock(value)
        if isinstance(value, time):
            if value == time.max:
                return MINUTES_PER_DAY
            if value.second or value.microsecond:
                raise ValueError("windows are whole minutes")
            return value.hour * 60 + value.minute
        return value

    @model_validator(mode="after")
    def _start_before_end(self) -> Window:
        if self.start >= self.end:
            raise ValueError(f"window {self.label} must start before it ends")
        return self

    @field_serializer("start", "end", when_used="json")
    def _as_clock(self, minutes: int) -> str:
        return format_clock(minutes)

    @property
    def label(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"

    @classmethod
    def of(cls, start: str, end: str) -> Window:
        return cls.model_validate({"start": start, "end": end})


class YearSchedule(BaseModel):
    """One year's official days off and make-up working days (调休), and where they came from."""

    model_config = ConfigDict(frozen=True)

    year: int = Field(ge=1, le=9999)
    holidays: frozenset[date] = Field(description="Days off, including those that fall on Monday to Friday")
    workdays: frozenset[date] = Field(
        default=frozenset(), description="Make-up working days, each on a Saturday or a Sunday"
    )
    source: str = Field(default="upload", examples=["chinese-calendar 1.11.0", "upload"])

    @model_validator(mode="after")
    def _consistent(self) -> YearSchedule:
        problems = [f"{d} is not in {self.year}" for d in sorted(self.holidays | self.workdays) if d.year != self.year]
        problems += [f"{d} is both a holiday and a workday" for d in sorted(self.holidays & self.workdays)]
        problems += [f"workday {d} is not a Saturday or a Sunday" for d in sorted(self.workdays) if d.weekday() < 5]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _check_windows(windows: tuple[Window, ...]) -> tuple[Window, ...]:
    for before, after in zip(windows, windows[1:], strict=False):
        if after.start < before.end:
            raise ValueError(f"windows must be sorted and must not overlap: {before.label} then {after.label}")
    return windows


class BusinessCalendar(BaseModel):
    """Service time per local day: windows for working days and for other days, and the holiday schedules."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    timezone: str = Field(default=SHANGHAI, description="IANA time zone the windows are in")
    working_day_windows: tuple[Window, ...] = ()
    non_working_day_windows: tuple[Window, ...] = ()
    weekdays: frozenset[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=MONDAY_TO_FRIDAY, description="Working weekdays, Monday = 0 ... Sunday = 6"
    )
    observe_holidays: bool = Field(default=True, description="False: every weekday is a working day, schedules unused")
    schedules: dict[int, YearSchedule] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @field_validator("working_day_windows", "non_working_day_windows")
    @classmethod
    def _sorted_windows(cls, value: tuple[Window, ...]) -> tuple[Window, ...]:
        return _check_windows(value)

    @field_validator("schedules")
    @classmethod
    def _keyed_by_year(cls, value: dict[int, YearSchedule]) -> dict[int, YearSchedule]:
        wrong = [f"schedule for {s.year} filed under {y}" for y, s in value.items() if y != s.year]
        if wrong:
            raise ValueError("; ".join(wrong))
        return value

    @model_validator(mode="after")
    def _some_service(self) -> BusinessCalendar:
        if not self.working_day_windows and not self.non_working_day_windows:
            raise ValueError("a calendar needs at least one window of service time")
        return self

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)


class NotWithin(ValueError):
    """The answer lies beyond how far the day loops look (SEARCH_YEARS, or a question's own limit)."""


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True)

    due_at: datetime = Field(description="UTC")
    approximate: bool = Field(description="A day in a year without holiday data was counted as weekdays only")


class Elapsed(BaseModel):
    model_config = ConfigDict(frozen=True)

    minutes: float
    approximate: bool


OFFICE_WINDOWS = (Window.of("08:30", "12:00"), Window.of("14:00", "17:30"))
PHONE_WINDOWS = (Window.of("00:00", "08:30"), Window.of("12:00", "14:00"), Window.of("17:30", "24:00"))
WHOLE_DAY = (Window.of("00:00", "24:00"),)


def office_hours(schedules: Mapping[int, YearSchedule]) -> BusinessCalendar:
    """The contract's service time: 08:30-12:00 and 14:00-17:30 on working days, nothing on other days."""
    return BusinessCalendar(name="office-hours", working_day_windows=OFFICE_WINDOWS, schedules=dict(schedules))


def twenty_four_seven() -> BusinessCalendar:
    """Every minute counts and every day is a working day; holidays are irrelevant, so never approximate."""
    return BusinessCalendar(
        name="24x7",
        working_day_windows=WHOLE_DAY,
        non_working_day_windows=WHOLE_DAY,
        weekdays=EVERY_DAY,
        observe_holidays=False,
    )


def phone_support(schedules: Mapping[int, YearSchedule]) -> BusinessCalendar:
    """The complement of office hours: the phone line covers whatever the office does not."""
    return BusinessCalendar(
        name="phone-support",
        working_day_windows=PHONE_WINDOWS,
        non_working_day_windows=WHOLE_DAY,
        schedules=dict(schedules),
    )


def _classify(cal: BusinessCalendar, day: date) -> tuple[bool, bool]:
    """(is a working day, decided without holiday data for its year)."""
    if cal.observe_holidays:
        schedule = cal.schedules.get(day.year)
        if schedule is None:
            return day.weekday() in cal.weekdays, True
        if day in schedule.workdays:
            return True, False
        if day in schedule.holidays:
            return False, False
    return day.weekday() in cal.weekdays, False


def is_working_day(cal: BusinessCalendar, day: date) -> bool:
    return _classify(cal, day)[0]


def _aware_utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _local_instant(day: date, minutes: int, zone: tzinfo) -> datetime:
    # Wall-clock arithmetic, then the zone decides the offset (so 24:00 is the next local midnight).
    return (datetime.combine(day, time(), tzinfo=zone) + timedelta(minutes=minutes)).astimezone(UTC)


def _spans(cal: BusinessCalendar, day: date, working: bool, zone: tzinfo) -> Iterator[tuple[datetime, datetime]]:
    """The day's windows as UTC spans; never overlapping, even around a daylight-saving gap."""
    floor: datetime | None = None
    for window in cal.working_day_windows if working else cal.non_working_day_windows:
        # A wall time in a gap maps past the transition and can land after the next boundary: clamp, so that
        # the spans stay in order and no real minute counts twice.
        opens = _local_instant(day, window.start, zone)
        opens = opens if floor is None else max(opens, floor)
        closes = max(_local_instant(day, window.end, zone), opens)
        floor = closes
        yield opens, closes


def _next_day(day: date) -> date:
    if day == date.max:
        raise ValueError("no service time before the end of the representable calendar")
    return day + _ONE_DAY


def _as_duration(business_minutes: float) -> timedelta:
    if isinstance(business_minutes, bool) or not isinstance(business_minutes, int | float):
        raise ValueError(f"business minutes must be a number, got {business_minutes!r}")
    if not math.isfinite(business_minutes) or business_minutes < 0:
        raise ValueError(f"business minutes must be a finite number >= 0, got {business_minutes!r}")
    try:
        return timedelta(minutes=business_minutes)
    except OverflowError:
        raise ValueError(f"{business_minutes} business minutes is beyond any calendar") from None


def deadline(cal: BusinessCalendar, start: datetime, business_minutes: float, *, search_years: int = SEARCH_YEARS) -> Deadline:
    """When `business_minutes` of service time have passed since `start` (the end of a window, not the next opening).

    The day loop looks `search_years` ahead at most (NotWithin past that), so no input makes it run for long.
    """
    begin = _aware_utc(start, "start")
    remaining = _as_duration(business_minutes)
    if remaining == _ZERO:
        return Deadline(due_at=begin, approximate=False)
    zone = cal.zone
    day = begin.astimezone(zone).date()
    approximate = False
    for _ in range(search_years * 366):
        working, approx = _classify(cal, day)
        approximate = approximate or approx
        for opens, closes in _spans(cal, day, working, zone):
            if closes <= begin:
                continue
            counted_from = max(opens, begin)
            available = closes - counted_from
            if available <= _ZERO:  # a window inside a daylight-saving gap has no real time in it
                continue
            if remaining <= available:
                return Deadline(due_at=counted_from + remaining, approximate=approximate)
            remaining -= available
        day = _next_day(day)
    raise NotWithin(f"calendar {cal.name!r} has not enough service time within {search_years} years of {begin}")


def elapsed(cal: BusinessCalendar, start: datetime, end: datetime) -> Elapsed:
    """Business minutes between two instants; 0 if `end` is not after `start`.

    One step per local day, so the span is capped like the searches (NotWithin past SEARCH_YEARS): year 1 to
    9999 would otherwise be 3.6 million steps.
    """
    begin, finish = _aware_utc(start, "start"), _aware_utc(end, "end")
    if finish <= begin:
        return Elapsed(minutes=0.0, approximate=False)
    if finish - begin > timedelta(days=_SEARCH_DAYS):
        raise NotWithin(f"end is more than {SEARCH_YEARS} years after start")
    zone = cal.zone
    day, last = begin.astimezone(zone).date(), finish.astimezone(zone).date()
    total, approximate = _ZERO, False
    while day <= last:
        working, approx = _classify(cal, day)
        approximate = approximate or approx
        for opens, closes in _spans(cal, day, working, zone):
            overlap = min(closes, finish) - max(opens, begin)
            if overlap > _ZERO:
                total += overlap
        if day == last:
            break
        day = _next_day(day)
    return Elapsed(minutes=total / timedelta(minutes=1), approximate=approximate)


def _close_of_business(cal: BusinessCalendar, day: date) -> datetime:
    if not cal.working_day_windows:
        raise ValueError(f"calendar {cal.name!r} has no working-day windows, so no close of business")
    return _local_instant(day, cal.working_day_windows[-1].end, cal.zone)


def add_working_days(cal: BusinessCalendar, start: datetime, days: int) -> Deadline:
    """Close of business of the `days`-th working day strictly after the start's local date (see module doc)."""
    begin = _aware_utc(start, "start")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"working days must be a whole number >= 1, got {days!r}")
    if not cal.working_day_windows:
        raise ValueError(f"calendar {cal.name!r} has no working-day windows, so no close of business")
    day = begin.astimezone(cal.zone).date()
    counted, approximate = 0, False
    for _ in range(_SEARCH_DAYS):
        day = _next_day(day)
        working, approx = _classify(cal, day)
        approximate = approximate or approx
        if working:
            counted += 1
            if counted == days:
                return Deadline(due_at=_close_of_business(cal, day), approximate=approximate)
    raise NotWithin(f"calendar {cal.name!r} has fewer than {days} working days within {SEARCH_YEARS} years")


def second_weekend_saturday(sent_on: date) -> date:
    """The Saturday of the second weekend after a send-out on this local date (the first is strictly after it)."""
    first = sent_on + timedelta(days=(SATURDAY - sent_on.weekday()) % 7 or 7)
    return first + timedelta(days=7)


def before_second_weekend(cal: BusinessCalendar, sent_out: datetime) -> Deadline:
    """Close of business of the last working day before the second weekend after the send-out (see module doc)."""
    begin = _aware_utc(sent_out, "sent_out")
    if not cal.working_day_windows:
        raise ValueError(f"calendar {cal.name!r} has no working-day windows, so no close of business")
    sent_on = begin.astimezone(cal.zone).date()
    saturday = second_weekend_saturday(sent_on)
    approximate = False
    day = saturday - _ONE_DAY
    while day > sent_on:
        working, approx = _classify(cal, day)
        approximate = approximate or approx
        if working:
            return Deadline(due_at=_close_of_business(cal, day), approximate=approximate)
        day -= _ONE_DAY
    # Nothing but days off in between: the first working day after the send-out's date.
    after = add_working_days(cal, begin, 1)
    return Deadline(due_at=after.due_at, approximate=approximate or after.approximate)
