"""Business time: office hours, holidays and make-up days, 24x7, phone support, and the two working-day rules."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sla_monitor import calendar
from sla_monitor.calendar import BusinessCalendar, Window, YearSchedule
from sla_monitor.holiday_data import package_schedules

SHANGHAI = ZoneInfo("Asia/Shanghai")
PLUS_8 = timezone(timedelta(hours=8))

OFFICE = calendar.office_hours(package_schedules())
PHONE = calendar.phone_support(package_schedules())
ALWAYS = calendar.twenty_four_seven()


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


# --- deadline: office hours -------------------------------------------------------------------------------------

OFFICE_DEADLINES = [
    # (start, business minutes, due, approximate)
    pytest.param(local(2026, 11, 24, 11, 50), 20, local(2026, 11, 24, 14, 10), False, id="lunch-break"),
    pytest.param(local(2026, 11, 24, 11, 0), 60, local(2026, 11, 24, 12, 0), False, id="runs-out-exactly-at-noon"),
    pytest.param(local(2026, 11, 24, 16, 30), 60, local(2026, 11, 24, 17, 30), False, id="runs-out-exactly-at-close"),
    pytest.param(local(2026, 11, 24, 12, 30), 30, local(2026, 11, 24, 14, 30), False, id="starts-in-lunch-break"),
    pytest.param(local(2026, 11, 24, 7, 0), 30, local(2026, 11, 24, 9, 0), False, id="starts-before-opening"),
    pytest.param(local(2026, 11, 24, 8, 30), 420, local(2026, 11, 24, 17, 30), False, id="one-full-day"),
    pytest.param(local(2026, 11, 23, 8, 30), 2100, local(2026, 11, 27, 17, 30), False, id="five-full-days"),
    pytest.param(local(2026, 11, 27, 17, 0), 60, local(2026, 11, 30, 9, 0), False, id="friday-17h-to-monday"),
    pytest.param(local(2026, 11, 24, 22, 0), 60, local(2026, 11, 25, 9, 30), False, id="reported-tuesday-night"),
    pytest.param(local(2026, 11, 28, 10, 0), 60, local(2026, 11, 30, 9, 30), False, id="reported-on-saturday"),
    pytest.param(local(2026, 11, 28, 10, 0), 0, local(2026, 11, 28, 10, 0), False, id="zero-minutes-is-the-start"),
    pytest.param(local(2026, 11, 24, 10, 0), 0.5, local(2026, 11, 24, 10, 0) + timedelta(seconds=30), False,
                 id="fractional-minutes"),
    pytest.param(local(2026, 9, 19, 10, 0), 60, local(2026, 9, 20, 9, 30), False, id="sunday-make-up-day-counts"),
    pytest.param(local(2026, 9, 18, 17, 0), 60, local(2026, 9, 20, 9, 0), False, id="friday-to-make-up-sunday"),
    pytest.param(local(2026, 9, 24, 17, 0), 60, local(2026, 9, 28, 9, 0), False, id="mid-autumn-friday-off"),
    pytest.param(local(2026, 9, 30, 17, 0), 60, local(2026, 10, 8, 9, 0), False, id="national-day-holiday"),
    pytest.param(local(2026, 10, 3, 10, 0), 60, local(2026, 10, 8, 9, 30), False, id="reported-during-national-day"),
    pytest.param(local(2026, 10, 9, 17, 0), 60, local(2026, 10, 10, 9, 0), False, id="make-up-saturday-after-oct"),
    pytest.param(local(2026, 2, 13, 17, 0), 60, local(2026, 2, 14, 9, 0), False, id="spring-festival-make-up-sat"),
    pytest.param(local(2026, 2, 14, 17, 0), 60, local(2026, 2, 24, 9, 0), False, id="spring-festival-holiday"),
    pytest.param(local(2025, 12, 31, 17, 0), 60, local(2026, 1, 4, 9, 0), False, id="new-year-make-up-sunday"),
    pytest.param(local(2026, 12, 30, 10, 0), 60, local(2026, 12, 30, 11, 0), False, id="2026-stays-exact"),
    pytest.param(local(2026, 12, 31, 17, 0), 60, local(2027, 1, 1, 9, 0), True, id="into-2027-no-data"),
    pytest.param(local(2027, 1, 1, 17, 0), 60, local(2027, 1, 4, 9, 0), True, id="2027-plain-weekend"),
    pytest.param(local(2027, 10, 1, 10, 0), 60, local(2027, 10, 1, 11, 0), True, id="2027-national-day-not-known"),
]


@pytest.mark.parametrize(("start", "minutes", "due", "approximate"), OFFICE_DEADLINES)
def test_office_hours_deadline(start: datetime, minutes: float, due: datetime, approximate: bool) -> None:
    result = calendar.deadline(OFFICE, start, minutes)

    assert result.due_at == due
    assert result.approximate is approximate


def test_deadline_is_utc() -> None:
    result = calendar.deadline(OFFICE, local(2026, 11, 24, 11, 50), 20)

    assert result.due_at.tzinfo is UTC
    assert result.due_at == datetime(2026, 11, 24, 6, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(datetime(2026, 11, 24, 3, 50, tzinfo=UTC), id="utc"),
        pytest.param(datetime(2026, 11, 24, 11, 50, tzinfo=PLUS_8), id="plus-08:00"),
        pytest.param(local(2026, 11, 24, 11, 50), id="asia-shanghai"),
        pytest.param(datetime(2026, 11, 23, 22, 50, tzinfo=ZoneInfo("America/New_York")), id="new-york"),
    ],
)
def test_same_instant_in_any_zone_gives_the_same_due_at(start: datetime) -> None:
    assert calendar.deadline(OFFICE, start, 20).due_at == datetime(2026, 11, 24, 6, 10, tzinfo=UTC)


@pytest.mark.parametrize("month", [1, 4, 7, 10], ids=["jan", "apr", "jul", "oct"])
def test_shanghai_has_no_daylight_saving(month: int) -> None:
    day = next(d for d in (date(2026, month, n) for n in range(1, 15)) if calendar.is_working_day(OFFICE, d))

    due = calendar.deadline(OFFICE, datetime.combine(day, time(), tzinfo=UTC), 0.001).due_at

    assert due.hour == 0 and due.minute == 30  # 08:30 in Shanghai is 00:30 UTC all year round


def test_windows_are_real_time_in_zones_with_daylight_saving() -> None:
    berlin = BusinessCalendar(
        name="berlin", timezone="Europe/Berlin", working_day_windows=("00:00-02:30", "02:30-03:00", "03:00-24:00"),
        weekdays=calendar.EVERY_DAY, observe_holidays=False,
    )
    spring_forward = datetime(2026, 3, 29, tzinfo=ZoneInfo("Europe/Berlin"))
    fall_back = datetime(2026, 10, 25, tzinfo=ZoneInfo("Europe/Berlin"))

    assert calendar.elapsed(berlin, spring_forward, spring_forward + timedelta(days=1)).minutes == 23 * 60
    assert calendar.deadline(berlin, spring_forward, 23 * 60).due_at == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert calendar.elapsed(berlin, fall_back, fall_back + timedelta(days=1)).minutes == 25 * 60
    assert calendar.deadline(berlin, fall_back, 25 * 60).due_at == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


# --- deadline: 24x7 and phone support -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(local(2026, 11, 24, 11, 50), id="weekday"),
        pytest.param(local(2026, 11, 28, 3, 0), id="saturday-night"),
        pytest.param(local(2026, 10, 1, 12, 0), id="national-day"),
        pytest.param(local(2027, 1, 1, 23, 30), id="2027-no-data"),
    ],
)
def test_twenty_four_seven_counts_every_minute(start: datetime) -> None:
    result = calendar.deadline(ALWAYS, start, 60)

    assert result.due_at == start + timedelta(minutes=60)
    assert result.approximate is False
    assert calendar.elapsed(ALWAYS, start, start + timedelta(days=3)).minutes == 3 * 1440


PHONE_DEADLINES = [
    pytest.param(local(2026, 11, 27, 17, 30), 60, local(2026, 11, 27, 18, 30), id="friday-after-office"),
    pytest.param(local(2026, 11, 27, 17, 0), 60, local(2026, 11, 27, 18, 30), id="waits-for-office-to-close"),
    pytest.param(local(2026, 11, 24, 23, 30), 60, local(2026, 11, 25, 0, 30), id="overnight"),
    pytest.param(local(2026, 11, 25, 8, 0), 60, local(2026, 11, 25, 12, 30), id="skips-the-morning-office"),
    pytest.param(local(2026, 11, 27, 23, 0), 60, local(2026, 11, 28, 0, 0), id="runs-out-at-24:00"),
    pytest.param(local(2026, 11, 28, 10, 0), 60, local(2026, 11, 28, 11, 0), id="saturday-all-day"),
    pytest.param(local(2026, 10, 1, 10, 0), 60, local(2026, 10, 1, 11, 0), id="holiday-all-day"),
    pytest.param(local(2026, 9, 20, 10, 0), 60, local(2026, 9, 20, 13, 0), id="make-up-sunday-is-a-working-day"),
]


@pytest.mark.parametrize(("start", "minutes", "due"), PHONE_DEADLINES)
def test_phone_support_deadline(start: datetime, minutes: int, due: datetime) -> None:
    result = calendar.deadline(PHONE, start, minutes)

    assert result.due_at == due
    assert result.approximate is False


def test_phone_support_and_office_hours_cover_every_minute_once() -> None:
    start, end = local(2026, 9, 14), local(2026, 10, 19)

    office, phone = calendar.elapsed(OFFICE, start, end), calendar.elapsed(PHONE, start, end)

    assert office.minutes + phone.minutes == (end - start) / timedelta(minutes=1)


# --- elapsed -----------------------------------------------------------------------------------------------------

ELAPSED = [
    pytest.param(local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0), 60.0, False, id="over-a-weekend"),
    pytest.param(local(2026, 11, 24, 11, 50), local(2026, 11, 24, 14, 10), 20.0, False, id="over-lunch"),
    pytest.param(local(2026, 11, 24, 18, 0), local(2026, 11, 25, 8, 0), 0.0, False, id="overnight-none"),
    pytest.param(local(2026, 9, 30, 8, 30), local(2026, 10, 8, 8, 30), 420.0, False, id="over-national-day"),
    pytest.param(local(2026, 11, 24, 10, 0), local(2026, 11, 24, 9, 0), 0.0, False, id="end-before-start"),
    pytest.param(local(2026, 11, 24, 10, 0), local(2026, 11, 24, 10, 0), 0.0, False, id="end-equals-start"),
    pytest.param(local(2027, 1, 1, 8, 30), local(2027, 1, 4, 8, 30), 420.0, True, id="2027-approximate"),
]


@pytest.mark.parametrize(("start", "end", "minutes", "approximate"), ELAPSED)
def test_office_hours_elapsed(start: datetime, end: datetime, minutes: float, approximate: bool) -> None:
    result = calendar.elapsed(OFFICE, start, end)

    assert result.minutes == minutes
    assert result.approximate is approximate


@pytest.mark.parametrize("cal", [OFFICE, PHONE, ALWAYS], ids=lambda c: c.name)
def test_elapsed_inverts_deadline(cal: BusinessCalendar) -> None:
    rng = random.Random(20261001)
    origin = local(2025, 12, 1)
    for _ in range(300):
        start = origin + timedelta(minutes=rng.randrange(60 * 24 * 430), seconds=rng.randrange(60))
        minutes = rng.choice([rng.randrange(1, 3000), rng.uniform(0.01, 5000.0), float(rng.randrange(1, 20))])

        due = calendar.deadline(cal, start, minutes)
        spent = calendar.elapsed(cal, start, due.due_at)

        assert spent.minutes == pytest.approx(minutes, abs=1e-6), (start, minutes)
        assert spent.approximate is due.approximate
        # ... and the deadline of what elapsed is the same instant (the end of a window, not the next opening).
        assert calendar.deadline(cal, start, spent.minutes).due_at == due.due_at


# --- invalid input -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [-1, -0.001, float("nan"), float("inf"), 1e300], ids=str)
def test_deadline_refuses_bad_minutes(minutes: float) -> None:
    with pytest.raises(ValueError, match="minutes"):
        calendar.deadline(OFFICE, local(2026, 11, 24, 10), minutes)


NAIVE = datetime(2026, 11, 24, 10, 0)
AWARE = local(2026, 11, 24, 10, 0)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: calendar.deadline(OFFICE, NAIVE, 10), id="deadline"),
        pytest.param(lambda: calendar.elapsed(OFFICE, NAIVE, AWARE), id="elapsed-start"),
        pytest.param(lambda: calendar.elapsed(OFFICE, AWARE, NAIVE), id="elapsed-end"),
        pytest.param(lambda: calendar.add_working_days(OFFICE, NAIVE, 3), id="add-working-days"),
        pytest.param(lambda: calendar.before_second_weekend(OFFICE, NAIVE), id="before-second-weekend"),
    ],
)
def test_naive_datetimes_are_refused(call: object) -> None:
    assert callable(call)
    with pytest.raises(ValueError, match="time zone"):
        call()


def test_calendar_without_reachable_service_time_raises_instead_of_looping() -> None:
    never = BusinessCalendar(name="never", working_day_windows=(Window.of("09:00", "10:00"),), weekdays=frozenset(),
                             observe_holidays=False)

    with pytest.raises(ValueError, match="20 years"):
        calendar.deadline(never, AWARE, 1)
    with pytest.raises(ValueError, match="20 years"):
        calendar.add_working_days(never, AWARE, 1)


# --- the models --------------------------------------------------------------------------------------------------

BAD_CALENDARS = [
    pytest.param({}, "at least one window", id="no-windows-at-all"),
    pytest.param({"working_day_windows": ["09:00-12:00", "11:00-13:00"]}, "overlap", id="overlapping"),
    pytest.param({"working_day_windows": ["14:00-17:00", "09:00-12:00"]}, "sorted", id="unsorted"),
    pytest.param({"working_day_windows": ["12:00-09:00"]}, "start before it ends", id="backwards"),
    pytest.param({"working_day_windows": ["09:00-09:00"]}, "start before it ends", id="empty"),
    pytest.param({"working_day_windows": ["24:00-24:00"]}, "less than 1440", id="start-at-24:00"),
    pytest.param({"working_day_windows": ["09:00-24:30"]}, "between 00:00 and 24:00", id="past-24:00"),
    pytest.param({"working_day_windows": ["9h-12h"]}, "HH:MM", id="not-a-clock"),
    pytest.param({"working_day_windows": ["09:00"]}, "HH:MM-HH:MM", id="not-a-window"),
    pytest.param({"working_day_windows": ["09:00-12:00"], "timezone": "Mars/Olympus"}, "IANA", id="unknown-zone"),
    pytest.param({"working_day_windows": ["09:00-12:00"], "weekdays": [7]}, "less than or equal to 6", id="weekday-7"),
    pytest.param({"working_day_windows": ["09:00-12:00"],
                  "schedules": {"2026": {"year": 2025, "holidays": []}}}, "filed under 2026", id="schedule-key"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_CALENDARS)
def test_invalid_calendars_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.model_validate({"name": "custom", **fields})


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"start": "08:30", "end": "24:00"}, id="clock-strings"),
        pytest.param("08:30-24:00", id="range-string"),
        pytest.param(["08:30", "24:00"], id="pair"),
        pytest.param({"start": 510, "end": 1440}, id="minutes"),
        pytest.param({"start": time(8, 30), "end": time.max}, id="time-max-is-24:00"),
    ],
)
def test_window_spellings(spec: object) -> None:
    window = Window.model_validate(spec)

    assert (window.start, window.end) == (510, 1440)
    assert window.model_dump(mode="json") == {"start": "08:30", "end": "24:00"}


def test_calendar_round_trips_through_json() -> None:
    dumped = PHONE.model_dump(mode="json", exclude={"schedules"})

    assert BusinessCalendar.model_validate(dumped) == PHONE.model_copy(update={"schedules": {}})
    assert dumped["working_day_windows"] == [
        {"start": "00:00", "end": "08:30"}, {"start": "12:00", "end": "14:00"}, {"start": "17:30", "end": "24:00"}
    ]


BAD_SCHEDULES = [
    pytest.param({"holidays": [date(2027, 1, 1)]}, "not in 2026", id="holiday-in-another-year"),
    pytest.param({"holidays": [], "workdays": [date(2025, 12, 28)]}, "not in 2026", id="workday-in-another-year"),
    pytest.param({"holidays": [date(2026, 9, 20)], "workdays": [date(2026, 9, 20)]}, "both", id="in-both-sets"),
    pytest.param({"holidays": [], "workdays": [date(2026, 9, 21)]}, "not a Saturday or a Sunday", id="weekday-workday"),
]


@pytest.mark.parametrize(("fields", "message"), BAD_SCHEDULES)
def test_invalid_year_schedules_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        YearSchedule.model_validate({"year": 2026, **fields})


WORKING_DAYS = [
    pytest.param(OFFICE, date(2026, 11, 24), True, id="tuesday"),
    pytest.param(OFFICE, date(2026, 11, 28), False, id="saturday"),
    pytest.param(OFFICE, date(2026, 9, 20), True, id="make-up-sunday"),
    pytest.param(OFFICE, date(2026, 10, 10), True, id="make-up-saturday"),
    pytest.param(OFFICE, date(2026, 10, 1), False, id="national-day"),
    pytest.param(OFFICE, date(2027, 1, 1), True, id="2027-friday-without-data"),
    pytest.param(ALWAYS, date(2026, 11, 28), True, id="24x7-saturday"),
    pytest.param(calendar.office_hours({}).model_copy(update={"observe_holidays": False}), date(2026, 10, 1), True,
                 id="holidays-not-observed"),
    pytest.param(calendar.office_hours({}).model_copy(update={"observe_holidays": False}), date(2026, 9, 20), False,
                 id="make-up-days-not-observed"),
]


@pytest.mark.parametrize(("cal", "day", "working"), WORKING_DAYS)
def test_is_working_day(cal: BusinessCalendar, day: date, working: bool) -> None:
    assert calendar.is_working_day(cal, day) is working


def test_factories() -> None:
    assert (OFFICE.name, PHONE.name, ALWAYS.name) == ("office-hours", "phone-support", "24x7")
    assert OFFICE.timezone == PHONE.timezone == ALWAYS.timezone == "Asia/Shanghai"
    assert OFFICE.non_working_day_windows == ()
    assert ALWAYS.observe_holidays is False


# --- "a written progress update at least every 3 working days" ---------------------------------------------------

WORKING_DAY_DEADLINES = [
    # (start, working days, due, approximate)
    pytest.param(local(2026, 11, 23, 10, 0), 3, local(2026, 11, 26, 17, 30), False, id="monday-to-thursday"),
    pytest.param(local(2026, 11, 23, 23, 59), 3, local(2026, 11, 26, 17, 30), False, id="late-monday-same"),
    pytest.param(local(2026, 11, 23, 6, 0), 3, local(2026, 11, 26, 17, 30), False, id="early-monday-same"),
    pytest.param(local(2026, 11, 28, 10, 0), 3, local(2026, 12, 2, 17, 30), False, id="saturday-to-wednesday"),
    pytest.param(local(2026, 11, 29, 10, 0), 3, local(2026, 12, 2, 17, 30), False, id="sunday-to-wednesday"),
    pytest.param(local(2026, 11, 26, 10, 0), 3, local(2026, 12, 1, 17, 30), False, id="thursday-over-weekend"),
    pytest.param(local(2026, 9, 29, 10, 0), 3, local(2026, 10, 9, 17, 30), False, id="across-national-day"),
    pytest.param(local(2026, 9, 30, 10, 0), 3, local(2026, 10, 10, 17, 30), False, id="to-make-up-saturday"),
    pytest.param(local(2026, 10, 3, 10, 0), 1, local(2026, 10, 8, 17, 30), False, id="from-a-holiday"),
    pytest.param(local(2026, 9, 18, 10, 0), 1, local(2026, 9, 20, 17, 30), False, id="to-make-up-sunday"),
    pytest.param(local(2026, 12, 30, 10, 0), 3, local(2027, 1, 4, 17, 30), True, id="into-2027-no-data"),
    pytest.param(datetime(2026, 11, 26, 17, 0, tzinfo=UTC), 1, local(2026, 11, 30, 17, 30), False,
                 id="local-date-not-utc-date"),  # Thursday in UTC, Friday 01:00 in Shanghai
]


@pytest.mark.parametrize(("start", "days", "due", "approximate"), WORKING_DAY_DEADLINES)
def test_add_working_days(start: datetime, days: int, due: datetime, approximate: bool) -> None:
    result = calendar.add_working_days(OFFICE, start, days)

    assert result.due_at == due
    assert result.due_at.tzinfo is UTC
    assert result.approximate is approximate


@pytest.mark.parametrize("days", [0, -1], ids=str)
def test_add_working_days_needs_at_least_one(days: int) -> None:
    with pytest.raises(ValueError, match=">= 1"):
        calendar.add_working_days(OFFICE, AWARE, days)


# --- "repaired and back with the user before the second weekend after it was sent out" --------------------------

SECOND_WEEKEND_DEADLINES = [
    # (sent out, due, approximate)
    pytest.param(local(2026, 11, 23, 10, 0), local(2026, 12, 4, 17, 30), False, id="sent-monday"),
    pytest.param(local(2026, 11, 27, 18, 0), local(2026, 12, 4, 17, 30), False, id="sent-friday"),
    pytest.param(local(2026, 11, 28, 10, 0), local(2026, 12, 11, 17, 30), False, id="sent-saturday"),
    pytest.param(local(2026, 11, 29, 10, 0), local(2026, 12, 11, 17, 30), False, id="sent-sunday"),
    pytest.param(datetime(2026, 11, 27, 17, 0, tzinfo=UTC), local(2026, 12, 11, 17, 30), False,
                 id="sent-saturday-01h-local-friday-utc"),
    pytest.param(local(2026, 6, 8, 10, 0), local(2026, 6, 18, 17, 30), False, id="friday-before-is-holiday"),
    pytest.param(local(2026, 9, 14, 10, 0), local(2026, 9, 24, 17, 30), False, id="mid-autumn-friday-holiday"),
    pytest.param(local(2026, 9, 25, 10, 0), local(2026, 9, 30, 17, 30), False, id="sent-on-friday-holiday"),
    pytest.param(local(2026, 9, 28, 10, 0), local(2026, 10, 9, 17, 30), False, id="second-saturday-is-make-up-day"),
    pytest.param(local(2026, 10, 3, 10, 0), local(2026, 10, 16, 17, 30), False, id="sent-on-weekend-holiday"),
    pytest.param(local(2026, 2, 9, 10, 0), local(2026, 2, 14, 17, 30), False, id="make-up-sat-of-first-weekend"),
    pytest.param(local(2022, 9, 30, 10, 0), local(2022, 10, 8, 17, 30), False, id="only-days-off-in-between"),
    pytest.param(local(2026, 12, 21, 10, 0), local(2027, 1, 1, 17, 30), True, id="into-2027-no-data"),
]


@pytest.mark.parametrize(("sent_out", "due", "approximate"), SECOND_WEEKEND_DEADLINES)
def test_before_second_weekend(sent_out: datetime, due: datetime, approximate: bool) -> None:
    result = calendar.before_second_weekend(OFFICE, sent_out)

    assert result.due_at == due
    assert result.due_at.tzinfo is UTC
    assert result.approximate is approximate


@pytest.mark.parametrize(
    ("sent_on", "saturday"),
    [
        pytest.param(date(2026, 11, 23) + timedelta(days=n), date(2026, 12, 5) + timedelta(days=7 * (n >= 5)),
                     id=f"{date(2026, 11, 23) + timedelta(days=n):%a}")
        for n in range(7)
    ],
)
def test_second_weekend_saturday(sent_on: date, saturday: date) -> None:
    assert calendar.second_weekend_saturday(sent_on) == saturday
