"""Dispatch holds work on site that arrives outside service hours until the next on-site period and only then
assigns it (assignment.unassigned with held_until, then ticket.assigned). The SLA monitor needs no rule of its own
for that: the response and dispatch clocks run in office hours, so the evening and night cost nothing and the
morning's assignment meets them; the confirmation clock starts at that assignment, not at the evening's arrival."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import CalendarBook

SHANGHAI = ZoneInfo("Asia/Shanghai")
EVENING = datetime(2026, 11, 26, 20, 0, tzinfo=SHANGHAI)  # Thursday, after office hours
MORNING = datetime(2026, 11, 27, 8, 30, tzinfo=SHANGHAI)  # dispatch's held_until: the next on-site period


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


async def test_a_ticket_held_overnight_meets_its_clocks_when_assigned_at_the_start_of_the_day(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    for name in ("response", "dispatch"):
        assert await service.start_policy_timer(domain.DEFAULT_POLICIES[name], ticket_id="t", started_at=EVENING, book=book, store=store)
    dispatch_timer = await store.get(domain.timer_key("t", "dispatch"))
    assert dispatch_timer is not None and dispatch_timer.due_at == MORNING + timedelta(minutes=10)

    # ticket.assigned at the hold's end (the waiting room retries every 30 s): both clocks stop, met.
    assigned_at = MORNING + timedelta(seconds=30)
    for name in ("response", "dispatch"):
        assert await service.stop_timer(name, ticket_id="t", at=assigned_at, store=store, outbox=outbox)
    outcomes = {e.data["timer"]: e.data["outcome"] for e in outbox.published if e.type == "sla.timer_stopped"}
    assert outcomes == {"response": "met", "dispatch": "met"}

    # The confirmation clock runs from the assignment: 30 minutes after the morning's, not the evening's arrival.
    assert await service.start_new_cycle(domain.DEFAULT_POLICIES["confirmation"], ticket_id="t", started_at=assigned_at,
                                         book=book, store=store)
    confirmation = await store.get(domain.timer_key("t", "confirmation"))
    assert confirmation is not None and confirmation.due_at == assigned_at + timedelta(minutes=30)
