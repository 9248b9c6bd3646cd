"""Holiday years: the chinese-calendar package's data as schedules, and an admin's JSON or CSV upload."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from sla_monitor import calendar
from sla_monitor.holiday_data import (
    PACKAGE_SOURCE,
    ScheduleError,
    YearSchedule,
    package_schedules,
    parse_schedule_csv,
    parse_schedule_json,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


# --- the package -------------------------------------------------------------------------------------------------


def test_package_covers_2004_to_2026_and_not_2027() -> None:
    schedules = package_schedules()

    assert PACKAGE_SOURCE == "chinese-calendar 1.11.0"
    assert sorted(schedules) == list(range(2004, 2027))
    assert 2027 not in schedules
    assert all(s.source == PACKAGE_SOURCE and s.year == year for year, s in schedules.items())


def test_2026_make_up_working_days() -> None:
    # The State Council's 2026 schedule: every make-up day is a Saturday or a Sunday.
    assert package_schedules()[2026].workdays == {
        date(2026, 1, 4),  # Sunday, after New Year's Day
        date(2026, 2, 14),  # Saturday, before the Spring Festival
        date(2026, 2, 28),  # Saturday, after the Spring Festival
        date(2026, 5, 9),  # Saturday, after Labour Day
        date(2026, 9, 20),  # Sunday, before National Day
        date(2026, 10, 10),  # Saturday, after National Day
    }


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        pytest.param("New Year", date(2026, 1, 1), date(2026, 1, 3), id="new-year"),
        pytest.param("Spring Festival", date(2026, 2, 15), date(2026, 2, 23), id="spring-festival"),
        pytest.param("Tomb-sweeping", date(2026, 4, 4), date(2026, 4, 6), id="tomb-sweeping"),
        pytest.param("Labour Day", date(2026, 5, 1), date(2026, 5, 5), id="labour-day"),
        pytest.param("Dragon Boat", date(2026, 6, 19), date(2026, 6, 21), id="dragon-boat"),
        pytest.param("Mid-autumn", date(2026, 9, 25), date(2026, 9, 27), id="mid-autumn"),
        pytest.param("National Day", date(2026, 10, 1), date(2026, 10, 7), id="national-day"),
    ],
)
def test_2026_holidays(name: str, first: date, last: date) -> None:
    schedule = package_schedules()[2026]

    assert days(first, last) <= schedule.holidays, name
    assert first - timedelta(days=1) not in schedule.holidays
    assert last + timedelta(days=1) not in schedule.holidays


def test_2026_spring_festival_weekdays_off_between_two_make_up_saturdays() -> None:
    office = calendar.office_hours(package_schedules())

    assert not any(calendar.is_working_day(office, d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert days(date(2026, 2, 16), date(2026, 2, 20)) <= package_schedules()[2026].holidays
    assert calendar.is_working_day(office, date(2026, 2, 14))
    assert calendar.is_working_day(office, date(2026, 2, 28))


def test_office_hours_agree_with_the_package_on_every_covered_day() -> None:
    office = calendar.office_hours(package_schedules())
    day = date(2004, 1, 1)
    while day.year <= 2026:
        assert calendar.is_working_day(office, day) is chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_package_schedules_are_fresh_dicts() -> None:
    first = package_schedules()
    first.pop(2026)

    assert 2026 in package_schedules()


# --- JSON uploads ------------------------------------------------------------------------------------------------


def test_json_upload() -> None:
    text = json.dumps({"year": 2027, "holidays": ["2027-01-01", " 2027-02-08 "], "workdays": ["2027-02-06"]})

    schedule = parse_schedule_json(text)

    assert schedule == YearSchedule(
        year=2027, holidays={date(2027, 1, 1), date(2027, 2, 8)}, workdays={date(2027, 2, 6)}, source="upload"
    )


def test_json_upload_without_workdays() -> None:
    assert parse_schedule_json('{"year": 2027, "holidays": ["2027-01-01"]}').workdays == frozenset()


def test_uploaded_year_makes_answers_exact() -> None:
    upload = parse_schedule_json('{"year": 2027, "holidays": ["2027-01-01"]}')
    office = calendar.office_hours({**package_schedules(), 2027: upload})

    result = calendar.deadline(office, datetime(2026, 12, 31, 17, 0, tzinfo=SHANGHAI), 60)

    assert result.approximate is False
    assert result.due_at == datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)


JSON_ERRORS = [
    pytest.param("{", [[]], "not JSON", id="not-json"),
    pytest.param("[]", [[]], "expected an object", id="not-an-object"),
    pytest.param('{"holidays": []}', [["year"]], "field required", id="year-missing"),
    pytest.param('{"year": "2027", "holidays": []}', [["year"]], "not a year", id="year-a-string"),
    pytest.param('{"year": true, "holidays": []}', [["year"]], "not a year", id="year-a-bool"),
    pytest.param('{"year": 2027}', [["holidays"]], "field required", id="holidays-missing"),
    pytest.param('{"year": 2027, "holidays": "2027-01-01"}', [["holidays"]], "list", id="holidays-not-a-list"),
    pytest.param('{"year": 2027, "holidays": [], "holiday": []}', [["holiday"]], "unknown field", id="typo-key"),
    pytest.param('{"year": 2027, "holidays": ["2027-01-01", "2027-13-01"]}', [["holidays", 1]], "not a calendar date",
                 id="month-13"),
    pytest.param('{"year": 2027, "holidays": ["01/01/2027"]}', [["holidays", 0]], "YYYY-MM-DD", id="not-iso"),
    pytest.param('{"year": 2027, "holidays": [20270101]}', [["holidays", 0]], "YYYY-MM-DD", id="a-number"),
    pytest.param('{"year": 2027, "holidays": ["2028-01-01"]}', [["holidays", 0]], "not in 2027", id="other-year"),
    pytest.param('{"year": 2027, "holidays": [], "workdays": ["2027-02-08"]}', [["workdays", 0]],
                 "not a Saturday or a Sunday", id="workday-on-monday"),
    pytest.param('{"year": 2027, "holidays": ["2027-02-06"], "workdays": ["2027-02-06"]}', [["workdays", 0]],
                 "both", id="holiday-and-workday"),
    pytest.param('{"holidays": ["x"], "workdays": 3}', [["year"], ["holidays", 0], ["workdays"]], "",
                 id="every-problem-reported"),
]


@pytest.mark.parametrize(("text", "locations", "message"), JSON_ERRORS)
def test_json_upload_errors(text: str, locations: list[list[str | int]], message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule_json(text)

    assert [d["loc"] for d in caught.value.details] == locations
    assert message in caught.value.details[0]["msg"]
    assert isinstance(caught.value, ValueError)


# --- CSV uploads -------------------------------------------------------------------------------------------------


def test_csv_upload() -> None:
    text = "\ufeffdate,kind\r\n2027-01-01,holiday\r\n\r\n 2027-02-08 , Holiday\r\n2027-02-06,workday\r\n"

    schedule = parse_schedule_csv(text)

    assert schedule == YearSchedule(
        year=2027, holidays={date(2027, 1, 1), date(2027, 2, 8)}, workdays={date(2027, 2, 6)}, source="upload"
    )


CSV_ERRORS = [
    pytest.param("", [[]], "empty", id="empty"),
    pytest.param("date,kind\n", [[]], "no dates", id="header-only"),
    pytest.param("day,type\n2027-01-01,holiday\n", [["row", 1]], "header", id="wrong-header"),
    pytest.param("2027-01-01,holiday\n", [["row", 1]], "header", id="no-header"),
    pytest.param("date,kind\n2027-01-01,holiday,New Year\n", [["row", 2]], "2 cells", id="three-cells"),
    pytest.param("date,kind\n2027-01-01,vacation\n", [["row", 2, "kind"]], "holiday or workday", id="bad-kind"),
    pytest.param("date,kind\n2027-02-30,holiday\n", [["row", 2, "date"]], "not a calendar date", id="feb-30"),
    pytest.param("date,kind\n2027-01-01,holiday\n2028-01-01,holiday\n", [["row", 3, "date"]],
                 "not in 2027; upload one year at a time", id="mixed-years"),
    pytest.param("date,kind\n2027-01-01,holiday\n2027-02-08,workday\n", [["row", 3, "date"]],
                 "not a Saturday or a Sunday", id="workday-on-monday"),
    pytest.param("date,kind\n2027-02-06,holiday\n2027-02-06,workday\n", [["row", 3, "date"]], "both",
                 id="holiday-and-workday"),
    pytest.param("date,kind\n2027-01-01,holiday\nsoon,holiday\n2027-01-02,someday\n",
                 [["row", 3, "date"], ["row", 4, "kind"]], "YYYY-MM-DD", id="every-problem-reported"),
]


@pytest.mark.parametrize(("text", "locations", "message"), CSV_ERRORS)
def test_csv_upload_errors(text: str, locations: list[list[str | int]], message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule_csv(text)

    assert [d["loc"] for d in caught.value.details] == locations
    assert message in caught.value.details[0]["msg"]


def test_schedule_error_message_names_the_locations() -> None:
    error = ScheduleError([{"loc": ["row", 3, "date"], "msg": "bad"}, {"loc": [], "msg": "worse"}])

    assert str(error) == "row.3.date: bad; document: worse"
