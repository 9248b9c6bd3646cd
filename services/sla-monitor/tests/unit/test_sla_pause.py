"""Pending holds the clocks: a paused timer keeps the business time it had left, never breaches while held, and
stopping it is always in time. Also which policy a ticket's service and priority get."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import CalendarBook
from sla_monitor.due_queue import ScheduledTimerStore
from sla_monitor.settings import SlaSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
RESPONSE = domain.DEFAULT_POLICIES["response"]


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


def response_timer(book: CalendarBook, started: datetime) -> domain.Timer:
    return domain.plan_timer(RESPONSE, ticket_id="t-1", started_at=started, cal=book.get("office-hours"))  # type: ignore[arg-type]


def test_pause_then_resume_keeps_the_business_time_left(book: CalendarBook) -> None:
    # Reported 09:00, due 10:00. Held at 09:20 (40 business minutes left) until 15:00: due 15:40 the same day.
    timer = response_timer(book, local(2026, 11, 26, 9, 0))
    paused = domain.pause(timer, at=local(2026, 11, 26, 9, 20))
    assert paused is not None and paused.status == "paused"
    resumed = domain.resume(paused, at=local(2026, 11, 26, 15, 0), cal=book.get("office-hours"))  # type: ignore[arg-type]
    assert resumed is not None and resumed.status == "running"
    assert resumed.due_at == local(2026, 11, 26, 15, 40)
    assert resumed.warning_at == local(2026, 11, 26, 15, 28)  # 28 of the 40 minutes to the 80% mark
    assert resumed.paused_seconds == 5 * 3600 + 40 * 60
    assert resumed.started_at == timer.started_at


def test_a_pause_over_the_weekend_costs_nothing(book: CalendarBook) -> None:
    # Friday 17:00 with 30 minutes to go; resumed Monday 09:00 (before the office opens again the time is not counted).
    timer = response_timer(book, local(2026, 11, 27, 16, 30))
    paused = domain.pause(timer, at=local(2026, 11, 27, 17, 0))
    assert paused is not None
    resumed = domain.resume(paused, at=local(2026, 11, 30, 8, 0), cal=book.get("office-hours"))  # type: ignore[arg-type]
    assert resumed is not None and resumed.due_at == local(2026, 11, 30, 9, 0)


def test_a_late_pause_changes_nothing(book: CalendarBook) -> None:
    timer = response_timer(book, local(2026, 11, 26, 9, 0))
    assert domain.pause(timer, at=local(2026, 11, 26, 10, 1)) is None


def test_stopping_a_paused_timer_is_in_time_even_past_the_old_due_time(book: CalendarBook) -> None:
    paused = domain.pause(response_timer(book, local(2026, 11, 26, 9, 0)), at=local(2026, 11, 26, 9, 30))
    assert paused is not None
    assert domain.stops_in_time(paused, at=local(2026, 11, 27, 9, 0))
    assert domain.view(paused).state == "paused"


async def test_held_clock_does_not_breach_and_resumes_through_the_store(book: CalendarBook) -> None:
    store, outbox = ScheduledTimerStore(MemoryTimerStore()), MemoryOutbox()
    started = local(2026, 11, 26, 9, 0)
    assert await service.start_policy_timer(RESPONSE, ticket_id="t-1", started_at=started, book=book, store=store)

    assert await service.pause_ticket_timers("t-1", at=local(2026, 11, 26, 9, 50), store=store) == ["response"]
    assert await service.sweep_breaches(now=local(2026, 11, 26, 12, 0), store=store, outbox=outbox) == 0

    assert await service.resume_ticket_timers("t-1", at=local(2026, 11, 26, 14, 0), book=book, store=store) == ["response"]
    timer = await store.get("t-1:response")
    assert timer is not None and timer.due_at == local(2026, 11, 26, 14, 10)
    assert await service.sweep_breaches(now=local(2026, 11, 26, 14, 5), store=store, outbox=outbox) == 0
    assert await service.sweep_breaches(now=local(2026, 11, 26, 14, 11), store=store, outbox=outbox) == 1


async def test_a_ticket_resolved_while_pending_meets_its_clock(book: CalendarBook) -> None:
    store = MemoryTimerStore()
    await service.start_policy_timer(RESPONSE, ticket_id="t-2", started_at=local(2026, 11, 26, 9, 0), book=book, store=store)
    await service.pause_ticket_timers("t-2", at=local(2026, 11, 26, 9, 30), store=store)

    stopped = await service.close_ticket_timers("t-2", at=local(2026, 11, 27, 11, 0), store=store)

    assert stopped == ["response"]
    timer = await store.get("t-2:response")
    assert timer is not None and domain.view(timer).state == "met"


def test_policy_per_service_and_priority_most_specific_wins() -> None:
    settings = SlaSettings(service_policies={
        "*:P1": {"response": {"business_minutes": 30}},
        "RS-SPARE:*": {"response": {"business_minutes": 45}},
        "RS-SPARE:P1": {"response": {"business_minutes": 15, "calendar": "24x7"}},
    })
    assert settings.policy_for("response", service_code="RS-REPAIR", priority="P3").business_minutes == 60
    assert settings.policy_for("response", service_code="RS-REPAIR", priority="P1").business_minutes == 30
    assert settings.policy_for("response", service_code="RS-SPARE", priority="P3").business_minutes == 45
    exact = settings.policy_for("response", service_code="RS-SPARE", priority="P1")
    assert (exact.business_minutes, exact.calendar, exact.name) == (15, "24x7", "response")
    assert settings.policy_for("dispatch", service_code="RS-SPARE", priority="P1").business_minutes == 10


