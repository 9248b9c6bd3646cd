"""Repair clocks: a progress update every 3 working days while at the vendor, back before the second weekend."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from opsdesk_shared.contracts import RepairUpdatedV1
from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import CalendarBook

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
async def book() -> CalendarBook:
    return await calendar_service.load_book(MemoryCalendarStore())


def update(status: str, at: datetime, *, repair_id: str = "r-1", note: str | None = None) -> RepairUpdatedV1:
    return RepairUpdatedV1(repair_id=repair_id, asset_tag="GZ-2026-000001", status=status, note=note, ticket_id="t-1", updated_at=at)  # type: ignore[arg-type]


async def test_sending_to_a_vendor_starts_both_clocks(book: CalendarBook) -> None:
    store = MemoryTimerStore()
    sent = local(2026, 11, 23, 10, 0)  # Monday
    assert await service.on_repair_updated(update("sent_to_vendor", sent), book=book, store=store) == "started"
    progress = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
    back = await store.get(domain.timer_key("r-1", domain.REPAIR_RETURN))
    assert progress is not None and progress.due_at == local(2026, 11, 26, 17, 30)  # Thursday close of business
    assert back is not None and back.due_at == local(2026, 12, 4, 17, 30)  # Friday before the second weekend
    assert progress.repair_id == "r-1" and progress.ticket_id == "t-1"
    assert await service.on_repair_updated(update("sent_to_vendor", sent), book=book, store=store) == "ignored"


async def test_a_progress_note_restarts_only_the_progress_clock(book: CalendarBook) -> None:
    store = MemoryTimerStore()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store)
    note_at = local(2026, 11, 25, 16, 0)  # Wednesday
    assert await service.on_repair_updated(update("sent_to_vendor", note_at, note="parts ordered"), book=book, store=store) == "progress"
    progress = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
    back = await store.get(domain.timer_key("r-1", domain.REPAIR_RETURN))
    assert progress is not None and progress.started_at == note_at and progress.due_at == local(2026, 11, 30, 17, 30)
    assert back is not None and back.due_at == local(2026, 12, 4, 17, 30)


async def test_a_missed_progress_update_breaches_and_the_next_note_starts_a_new_cycle(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store)
    assert await service.sweep_breaches(now=local(2026, 11, 27, 9, 0), store=store, outbox=outbox) == 1
    breach = outbox.published[0]
    assert breach.data["timer"] == "repair_progress" and breach.data["repair_id"] == "r-1" and breach.subject_id == "r-1"
    assert await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 27, 11, 0), note="late note"), book=book, store=store) == "progress"
    progress = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
    assert progress is not None and progress.status == "running" and progress.due_at == local(2026, 12, 2, 17, 30)


async def test_back_in_time_stops_both_clocks_and_late_return_still_breaches(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store, outbox=outbox)
    assert await service.on_repair_updated(update("returned", local(2026, 11, 24, 15, 0)), book=book, store=store, outbox=outbox) == "stopped"
    assert await service.sweep_breaches(now=local(2026, 12, 31, 0, 0), store=store, outbox=outbox) == 0
    stopped = [e for e in outbox.published if e.type == "sla.timer_stopped"]
    assert sorted((e.data["timer"], e.data["outcome"]) for e in stopped) == [("repair_progress", "met"), ("repair_return", "met")]

    outbox.published.clear()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0), repair_id="r-2"), book=book, store=store, outbox=outbox)
    late = local(2026, 12, 7, 10, 0)  # after Friday 2026-12-04 17:30
    assert await service.on_repair_updated(update("returned", late, repair_id="r-2"), book=book, store=store, outbox=outbox) == "ignored"
    # The late return is a breach the moment it is known (the sweep need not get there first), and its verdict.
    assert await service.sweep_breaches(now=late + timedelta(minutes=1), store=store, outbox=outbox) == 0
    breaches = sorted(e.data["timer"] for e in outbox.published if e.type == "sla.breached")
    verdicts = sorted((e.data["timer"], e.data["outcome"]) for e in outbox.published if e.type == "sla.timer_stopped")
    assert breaches == ["repair_progress", "repair_return"]
    assert verdicts == [("repair_progress", "breached"), ("repair_return", "breached")]


# The two worked examples of issue 13 item 14; reporting's tests feed these same verdicts into the repair summary.
async def test_progress_updates_on_monday_10_and_thursday_17_are_on_time(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store, outbox=outbox)
    thursday = local(2026, 11, 26, 17, 0)  # due Thursday 17:30 (close of business of the 3rd working day)
    assert await service.on_repair_updated(update("sent_to_vendor", thursday, note="vendor: board replaced"), book=book, store=store, outbox=outbox) == "progress"
    [verdict] = [e for e in outbox.published if e.type == "sla.timer_stopped"]
    assert verdict.data["timer"] == "repair_progress" and verdict.data["outcome"] == "met"
    assert verdict.data["repair_id"] == "r-1" and verdict.subject_id == "r-1"
    assert at(verdict.data["due_at"]) == local(2026, 11, 26, 17, 30) and at(verdict.data["stopped_at"]) == thursday
    nxt = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
    assert nxt is not None and nxt.status == "running" and nxt.started_at == thursday


async def test_a_device_sent_on_2026_11_23_is_due_friday_12_04_17_30(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store, outbox=outbox)
    # Saturday 12-05: within the old "second Sunday 24:00" reading, but after the monitor's Friday 17:30.
    await service.on_repair_updated(update("returned", local(2026, 12, 5, 10, 0)), book=book, store=store, outbox=outbox)
    verdicts = {e.data["timer"]: e.data for e in outbox.published if e.type == "sla.timer_stopped"}
    assert verdicts["repair_return"]["outcome"] == "breached"
    assert at(verdicts["repair_return"]["due_at"]) == local(2026, 12, 4, 17, 30)


async def test_each_verdict_is_announced_once_whatever_is_redelivered(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    sent, back = update("sent_to_vendor", local(2026, 11, 23, 10, 0)), update("returned", local(2026, 11, 24, 15, 0))
    for event in (sent, back, sent, back):
        await service.on_repair_updated(event, book=book, store=store, outbox=outbox)
    # Each cycle is announced once when it starts (sla.timer_started) and once with its verdict.
    assert sorted((e.type, e.data["timer"]) for e in outbox.published) == [
        ("sla.timer_started", "repair_progress"), ("sla.timer_started", "repair_return"),
        ("sla.timer_stopped", "repair_progress"), ("sla.timer_stopped", "repair_return"),
    ]


async def test_a_write_off_cancels_the_return_clock(book: CalendarBook) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.on_repair_updated(update("sent_to_vendor", local(2026, 11, 23, 10, 0)), book=book, store=store, outbox=outbox)
    gone = RepairUpdatedV1(repair_id="r-1", asset_tag="GZ-2026-000001", status="closed", stage="written_off", updated_at=local(2026, 11, 25, 10, 0))
    await service.on_repair_updated(gone, book=book, store=store, outbox=outbox)
    verdicts = {e.data["timer"]: e.data["outcome"] for e in outbox.published if e.type == "sla.timer_stopped"}
    assert verdicts == {"repair_progress": "met", "repair_return": "cancelled"}


async def test_a_redelivered_dispatch_to_the_vendor_starts_the_clock_its_first_delivery_did_not(book: CalendarBook) -> None:
    """The first delivery stored the progress clock and died before the return clock (or a publish failed and the
    handler raised): the redelivery starts the return clock and announces it; the stored one is not started twice."""
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    sent = local(2026, 11, 23, 10, 0)
    first = domain.plan_repair_timer(domain.REPAIR_PROGRESS, repair_id="r-1", ticket_id="t-1", started_at=sent,
                                     cal=book.get("office-hours"))  # type: ignore[arg-type]
    assert await service.start_timer(first, store=store)  # what the first delivery got done

    assert await service.on_repair_updated(update("sent_to_vendor", sent), book=book, store=store, outbox=outbox) == "ignored"
    back = await store.get(domain.timer_key("r-1", domain.REPAIR_RETURN))
    assert back is not None and back.status == "running" and back.started_at == sent
    assert [(e.type, e.data["timer"]) for e in outbox.published] == [("sla.timer_started", domain.REPAIR_RETURN)]
    progress = await store.get(domain.timer_key("r-1", domain.REPAIR_PROGRESS))
    assert progress == first
