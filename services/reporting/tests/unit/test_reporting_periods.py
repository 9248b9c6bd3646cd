"""Working days for the repair progress rule follow China's official calendar, like the SLA monitor's."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reporting import periods

SH = ZoneInfo("Asia/Shanghai")


def test_national_day_holidays_do_not_count_and_a_make_up_sunday_does() -> None:
    # 2026-09-30 (Wed) noon to 2026-10-09 (Fri) noon: 1 Oct - 7 Oct are off; 8 Oct is a working day.
    start, end = datetime(2026, 9, 30, 12, tzinfo=SH), datetime(2026, 10, 9, 12, tzinfo=SH)
    assert periods.working_days_between(start, end) == 2.0  # the afternoon of the 30th, the 8th, the morning of the 9th
    assert periods.is_working_day(date(2026, 9, 20))  # Sunday, made up for the holiday
    assert not periods.is_working_day(date(2026, 10, 1))


def test_a_year_without_holiday_data_counts_plain_weekdays() -> None:
    assert periods.is_working_day(date(2027, 1, 1))  # a Friday; 2027's schedule is in no package yet
    assert not periods.is_working_day(date(2027, 1, 2))
