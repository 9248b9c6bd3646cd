"""Timers under policies: due and warning times in business time, one warning, one breach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import CalendarBook
from sla_monitor.due_queue import ScheduledTimerStore
from sla_monitor.ports import Settle, Settled
from sla_monitor.settings import SlaSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
RESPONSE = domain.DEFAULT_POLICIES["response"]


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("reported", "due", "warning"),
    [
        pytest.param(local(2026, 11, 26, 9, 0), local(2026, 11, 26, 10, 0), local(2026, 11, 26, 9, 48), id="morning"),
        pytest.param(local(2026, 11, 26, 11, 30), local(2026, 11, 26, 14, 30), local(2026, 11, 26, 14, 18), id="over-lunch"),
        pytest.param(local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0), local(2026, 11, 30, 8, 48), id="friday-evening"),
        pytest.param(local(2026, 11, 28, 10, 0), local(2026, 11, 30, 9, 30), local(2026, 11, 30, 9, 18), id="saturday"),
        pytest.param(local(2026, 9, 30, 17, 0), local(2026, 10, 8, 9, 0), local(2026, 10, 8, 8, 48), id="national-day"),
    ],
)
def test_response_due_and_warning_times_follow_office_hours(
    book: CalendarBook, reported: datetime, due: datetime, warning: datetime
) -> None:
    cal = book.get("office-hours")
    assert cal is not None
    timer = domain.plan_timer(RESPONSE, ticket_id="t", started_at=reported, cal=cal)
    assert (timer.due_at, timer.warning_at) == (due, warning)
    assert timer.calendar == "office-hours" and timer.policy == "response" and not timer.approximate


def test_a_year_without_holiday_data_marks_the_timer_approximate(book: CalendarBook) -> None:
    cal = book.get("office-hours")
    assert cal is not None
    timer = domain.plan_timer(RESPONSE, ticket_id="t", started_at=local(2027, 3, 1, 9, 0), cal=cal)
    assert timer.approximate and timer.due_at == local(2027, 3, 1, 10, 0)


async def test_warning_then_breach_each_published_once(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    start = local(2026, 11, 26, 9, 0)
    assert await service.start_policy_timer(RESPONSE, ticket_id="t", started_at=start, book=book, store=store)
    assert await service.sweep_warnings(now=local(2026, 11, 26, 9, 47), store=store, outbox=outbox) == 0
    assert await service.sweep_warnings(now=local(2026, 11, 26, 9, 50), store=store, outbox=outbox) == 1
    assert await service.sweep_warnings(now=local(2026, 11, 26, 9, 55), store=store, outbox=outbox) == 0
    assert await service.sweep_breaches(now=local(2026, 11, 26, 10, 1), store=store, outbox=outbox) == 1
    assert [e.type for e in outbox.published] == ["sla.warning", "sla.breached"]
    breach = outbox.published[1].data
    assert breach["policy"] == "response" and breach["calendar"] == "office-hours"
    assert breach["due_at"].startswith("2026-11-26T02:00:00")


async def test_a_timer_stopped_before_its_warning_neither_warns_nor_breaches(book: CalendarBook) -> None:
    store, outbox = ScheduledTimerStore(MemoryTimerStore()), MemoryOutbox()
    start = local(2026, 11, 26, 9, 0)
    await service.start_policy_timer(RESPONSE, ticket_id="t", started_at=start, book=book, store=store)
    assert await service.stop_timer("response", ticket_id="t", at=start + timedelta(minutes=20), store=store)
    later = local(2026, 11, 26, 12, 0)
    assert await service.sweep_warnings(now=later, store=store, outbox=outbox) == 0
    assert await service.sweep_breaches(now=later, store=store, outbox=outbox) == 0
    assert outbox.published == []


async def test_scheduled_store_warns_from_its_queue_after_a_restart(book: CalendarBook) -> None:
    inner, outbox = MemoryTimerStore(), MemoryOutbox()
    start = local(2026, 11, 26, 9, 0)
    await service.start_policy_timer(RESPONSE, ticket_id="t", started_at=start, book=book, store=inner)
    restarted = ScheduledTimerStore(inner)
    await restarted.load(list(inner.timers.values()))
    assert await service.sweep_warnings(now=local(2026, 11, 26, 9, 50), store=restarted, outbox=outbox) == 1
    assert await service.sweep_breaches(now=local(2026, 11, 26, 10, 0), store=restarted, outbox=outbox) == 1


async def test_policy_naming_an_unknown_calendar_is_refused(book: CalendarBook) -> None:
    policy = domain.TimerPolicy(name="response", calendar="lunar", business_minutes=60)
    with pytest.raises(service.UnknownCalendar):
        await service.start_policy_timer(policy, ticket_id="t", started_at=datetime.now(UTC), book=book, store=MemoryTimerStore())


def test_policy_overrides_merge_over_the_defaults() -> None:
    policies = SlaSettings(policies={"response": {"calendar": "24x7"}}).timer_policies()
    assert policies["response"].calendar == "24x7" and policies["response"].business_minutes == 60
    assert policies["dispatch"] == domain.DEFAULT_POLICIES["dispatch"]


async def test_ticket_timers_show_met_running_and_breached(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    start = local(2026, 11, 26, 9, 0)
    for name in ("response", "dispatch"):
        await service.start_policy_timer(domain.DEFAULT_POLICIES[name], ticket_id="t", started_at=start, book=book, store=store)
    await service.sweep_breaches(now=local(2026, 11, 26, 9, 30), store=store, outbox=outbox)  # dispatch (10 min) missed
    await service.stop_timer("response", ticket_id="t", at=local(2026, 11, 26, 9, 31), store=store)
    views = {v.name: v for v in await service.ticket_timers("t", names=("response", "dispatch", "confirmation"), store=store)}
    assert set(views) == {"response", "dispatch"}
    assert views["response"].state == "met" and views["response"].met_at == local(2026, 11, 26, 9, 31)
    assert views["dispatch"].state == "breached" and views["dispatch"].breached_at == local(2026, 11, 26, 9, 30)
    assert views["response"].calendar == "office-hours"


def test_a_breach_detected_twice_carries_the_same_event_id(book: CalendarBook) -> None:
    cal = book.get("office-hours")
    assert cal is not None
    timer = domain.plan_timer(RESPONSE, ticket_id="t", started_at=local(2026, 11, 26, 9, 0), cal=cal)
    first = domain.breach(timer, now=local(2026, 11, 26, 10, 0))
    second = domain.breach(timer, now=local(2026, 11, 26, 10, 5))
    assert first and second
    ids = {service.envelope_for(event, timer, now).event_id for (_, event), now in ((first, local(2026, 11, 26, 10, 0)), (second, local(2026, 11, 26, 10, 5)))}
    assert len(ids) == 1
    other = domain.plan_timer(RESPONSE, ticket_id="u", started_at=local(2026, 11, 26, 9, 0), cal=cal)
    decision = domain.breach(other, now=local(2026, 11, 26, 10, 0))
    assert decision and service.envelope_for(decision[1], other, local(2026, 11, 26, 10, 0)).event_id not in ids


async def test_confirmation_clock_starts_over_for_a_new_engineer_and_ignores_redeliveries(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    policy = domain.DEFAULT_POLICIES["confirmation"]
    assigned = local(2026, 11, 26, 22, 0)  # at night: confirmation runs on the 24x7 calendar
    assert await service.start_new_cycle(policy, ticket_id="t", started_at=assigned, book=book, store=store)
    assert not await service.start_new_cycle(policy, ticket_id="t", started_at=assigned, book=book, store=store)
    timer = await store.get(domain.timer_key("t", "confirmation"))
    assert timer is not None and timer.due_at == local(2026, 11, 26, 22, 30)
    moved = assigned + timedelta(minutes=20)
    assert await service.start_new_cycle(policy, ticket_id="t", started_at=moved, book=book, store=store)
    assert await service.sweep_breaches(now=local(2026, 11, 26, 22, 35), store=store, outbox=outbox) == 0
    assert await service.stop_timer("confirmation", ticket_id="t", at=moved + timedelta(minutes=10), store=store)


async def test_a_confirmation_that_overtook_its_assignment_is_not_undone(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    assigned = local(2026, 11, 26, 10, 0)
    await service.stop_timer("confirmation", ticket_id="t", at=assigned + timedelta(minutes=5), store=store)
    await service.start_new_cycle(domain.DEFAULT_POLICIES["confirmation"], ticket_id="t", started_at=assigned, book=book, store=store)
    assert await service.sweep_breaches(now=assigned + timedelta(hours=2), store=store, outbox=outbox) == 0


async def test_a_stop_racing_its_start_still_stops_the_timer(book: CalendarBook) -> None:
    """The stop finds nothing, the start then writes the timer, the stop's early-stop record is refused: stop it."""
    store = MemoryTimerStore()
    policy = domain.DEFAULT_POLICIES["redispatch"]
    at = local(2026, 11, 26, 10, 0)
    real_settle = store.settle
    calls = 0

    async def start_sneaks_in(key: str, decide: Settle) -> Settled:
        nonlocal calls
        calls += 1
        if calls == 1:
            await service.start_new_cycle(policy, ticket_id="t", started_at=at, book=book, store=store)
            return Settled(None, None)  # what the stop saw before the start landed
        return await real_settle(key, decide)

    store.settle = start_sneaks_in  # type: ignore[method-assign]
    assert await service.stop_timer("redispatch", ticket_id="t", at=at, store=store)
    timer = await store.get(domain.timer_key("t", "redispatch"))
    assert timer is not None and timer.status == "stopped" and timer.started_at == at


def test_work_awaiting_the_agency_starts_dispatch_at_the_authorization_and_emergency_work_its_clock() -> None:
    from sla_monitor import domain

    assert domain.clocks_on_created(awaiting_authorization=False, emergency=False) == ("response", "dispatch")
    assert domain.clocks_on_created(awaiting_authorization=True, emergency=False) == ("response",)
    assert domain.clocks_on_created(awaiting_authorization=False, emergency=True) == ("response", "dispatch", "authorization")
    assert domain.clocks_on_authorized(dispatch=True) == (("dispatch",), ("authorization",))
    assert domain.clocks_on_authorized(dispatch=False) == ((), ("authorization",))


def test_the_authorization_clock_is_the_setting_in_working_hours() -> None:
    from sla_monitor.settings import SlaSettings

    assert SlaSettings().timer_policies()["authorization"].business_minutes == 240
    policy = SlaSettings(authorization_working_hours=8).timer_policies()["authorization"]
    assert (policy.calendar, policy.business_minutes) == ("office-hours", 480)
