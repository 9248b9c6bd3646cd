"""Duty rota and visit plan: on site in office hours, the phone on-call at other times, a vehicle when needed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.domain import DEMO_ROSTER, Engineer, OutsideServiceHours, choose_engineer, duty_of, plan_visit
from dispatch.duty import OFFICE_HOURS, PHONE_OUTSIDE_OFFICE, Shift, duty_at

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        pytest.param(local(2026, 11, 26, 8, 29), None, id="thursday-08:29"),
        pytest.param(local(2026, 11, 26, 8, 30), "onsite", id="thursday-08:30"),
        pytest.param(local(2026, 11, 26, 11, 59), "onsite", id="before-lunch"),
        pytest.param(local(2026, 11, 26, 12, 0), None, id="lunch"),
        pytest.param(local(2026, 11, 26, 17, 30), None, id="closing-time"),
        pytest.param(local(2026, 11, 28, 10, 0), None, id="saturday"),
    ],
)
def test_office_hours_shift_boundaries(at: datetime, expected: str | None) -> None:
    assert duty_at(OFFICE_HOURS, at) == expected


def test_the_phone_on_call_covers_nights_lunch_and_weekends_but_not_office_hours() -> None:
    rota = OFFICE_HOURS + PHONE_OUTSIDE_OFFICE
    assert duty_at(rota, local(2026, 11, 26, 8, 29)) == "phone"
    assert duty_at(rota, local(2026, 11, 26, 8, 30)) == "onsite"
    assert duty_at(rota, local(2026, 11, 26, 12, 30)) == "phone"
    assert duty_at(rota, local(2026, 11, 28, 3, 0)) == "phone"


def test_a_time_in_utc_is_read_in_the_agencys_zone() -> None:
    assert duty_at(OFFICE_HOURS, datetime.fromisoformat("2026-11-26T00:30:00+00:00")) == "onsite"  # 08:30 in Shanghai


def test_shift_validation() -> None:
    with pytest.raises(ValueError):
        Shift(weekdays=(7,), start="08:00", end="09:00")
    with pytest.raises(ValueError):
        Shift(start="25:00", end="26:00")


def test_by_day_the_on_site_engineers_take_tickets_and_at_08_29_the_phone_on_call_only_remote_work(ticket) -> None:  # type: ignore[no-untyped-def]
    roster = list(DEMO_ROSTER)
    day, _, reason = choose_engineer(ticket(service_code="RS-REPAIR"), roster, at=local(2026, 11, 26, 8, 30))
    assert day.role == "onsite" and "on duty on site" in reason
    early, _, reason = choose_engineer(ticket(channel="remote_desktop"), roster, at=local(2026, 11, 26, 8, 29))
    assert early.id == "eng-mobile-1" and "on call by phone" in reason
    with pytest.raises(OutsideServiceHours) as held:
        choose_engineer(ticket(service_code="RS-REPAIR"), roster, at=local(2026, 11, 26, 8, 29))
    assert held.value.until == local(2026, 11, 26, 8, 30)


def test_with_nobody_on_duty_remote_work_calls_someone_in_and_work_on_site_waits_for_monday(ticket, engineer) -> None:  # type: ignore[no-untyped-def]
    roster = [engineer("eng-a", shifts=OFFICE_HOURS), engineer("eng-b", shifts=OFFICE_HOURS, open_load=3)]
    chosen, _, reason = choose_engineer(ticket(channel="remote_desktop"), roster, at=local(2026, 11, 28, 3, 0))
    assert chosen.id == "eng-a" and "off duty, called in" in reason
    with pytest.raises(OutsideServiceHours) as held:
        choose_engineer(ticket(), roster, at=local(2026, 11, 28, 3, 0))
    assert held.value.until == local(2026, 11, 30, 8, 30)  # Saturday 03:00: Monday morning


def test_load_balances_over_many_tickets(ticket, engineer) -> None:  # type: ignore[no-untyped-def]
    roster = {e.id: e for e in (engineer("eng-a"), engineer("eng-b"), engineer("eng-c"))}
    got: Counter[str] = Counter()
    for _ in range(30):
        chosen, _, _ = choose_engineer(ticket(), list(roster.values()), at=local(2026, 11, 26, 10, 0))
        got[chosen.id] += 1
        roster[chosen.id] = chosen.model_copy(update={"open_load": chosen.open_load + 1})
    assert sorted(got.values()) == [10, 10, 10]


@pytest.mark.parametrize(
    ("channel", "service_code", "site", "at", "plan"),
    [
        pytest.param("hotline", "RS-REPAIR", "主樓", local(2026, 11, 26, 10, 0), ("visit", False), id="same-building"),
        pytest.param("hotline", "RS-REPAIR", "副樓", local(2026, 11, 26, 10, 0), ("visit", True), id="other-building"),
        pytest.param("hotline", "RS-VENDOR", "主樓", local(2026, 11, 26, 10, 0), ("visit", True), id="carry-to-vendor"),
        pytest.param("remote_desktop", "RS-OTHER", "副樓", local(2026, 11, 26, 10, 0), ("remote", False), id="remote-desktop"),
        # The desk called the phone on-call out (dispatch never gives them work on site): they go, by the work.
        pytest.param("hotline", "RS-REPAIR", "主樓", local(2026, 11, 26, 22, 0), ("visit", True), id="called-out-on-call"),
        pytest.param("remote_desktop", "RS-REPAIR", "主樓", local(2026, 11, 26, 22, 0), ("remote", False), id="on-call-remote"),
    ],
)
def test_visit_plan(ticket, channel: str, service_code: str, site: str, at: datetime, plan: tuple[str, bool]) -> None:  # type: ignore[no-untyped-def]
    mobile_or_onsite: Engineer = DEMO_ROSTER[0] if duty_of(DEMO_ROSTER[0], at) == "onsite" else DEMO_ROSTER[2]
    mode, vehicle, note = plan_visit(ticket(channel=channel, service_code=service_code, site=site), mobile_or_onsite, at=at)
    assert (mode, vehicle) == plan and note
