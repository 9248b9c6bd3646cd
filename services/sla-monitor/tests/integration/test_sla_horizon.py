"""The slot index and the horizon loader on the real database: a restart reads slots, not every timer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sla_monitor import domain, service
from sla_monitor.adapters.memory import MemoryOutbox
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.adapters.slots import slot_id
from sla_monitor.due_queue import ScheduledTimerStore
from sla_monitor.horizon import HorizonLoader
from sla_monitor.sweeper import BreachSweeper

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def running(ticket: str, due_in: timedelta) -> domain.Timer:
    return domain.Timer(
        ticket_id=ticket, name="response", status="running", started_at=NOW - MIN, due_at=NOW + due_in,
        warning_at=NOW + due_in - MIN,
    )


def test_slot_ids_group_one_second() -> None:
    assert slot_id("t", datetime(2026, 11, 26, 2, 0, 19, 999_000, tzinfo=UTC)) == "t:2026-11-26T02:00:19Z"
    assert slot_id("t", datetime(2026, 11, 26, 2, 0, 20, tzinfo=UTC)) == "t:2026-11-26T02:00:20Z"


async def test_added_timers_are_listed_in_their_slots_only(mongo_db: Any) -> None:
    store = MongoTimerStore(mongo_db)
    # Reading a window costs one look-up per one-second slot: "later" is 30 minutes out, not hours, so the test reads
    # about 2,400 slots instead of 14,700 (that took most of a minute on a busy two-core machine).
    soon, later = running("soon", 2 * MIN), running("later", 30 * MIN)
    assert await store.add(soon) and await store.add(later)
    # One entry per timer, in the slot of its warning, carrying both times.
    assert await store.slots.read(NOW, NOW + 5 * MIN) == [(soon.key, soon.due_at, soon.warning_at)]
    assert [k for k, _, _ in await store.slots.read(NOW, NOW + 35 * MIN)] == [soon.key, later.key]


async def test_a_warned_timer_is_listed_again_by_its_due_time(mongo_db: Any) -> None:
    store = MongoTimerStore(mongo_db)
    late = running("late", 3 * 60 * MIN)
    assert await store.add(late)
    assert await store.mark_warned(late.model_copy(update={"warned_at": NOW}), [])
    due_window = await store.slots.read(late.due_at, late.due_at + timedelta(seconds=1))  # type: ignore[arg-type,operator]
    assert due_window == [(late.key, late.due_at, None)]


async def test_restart_loads_the_horizon_from_slots_then_rolls_forward(mongo_db: Any) -> None:
    first = MongoTimerStore(mongo_db)
    await first.slots.set_watermark(NOW - MIN)
    for timer in (running("soon", 2 * MIN), running("later", 40 * MIN)):
        assert await first.add(timer)

    clock = [NOW]
    mongo = MongoTimerStore(mongo_db)
    restarted = ScheduledTimerStore(mongo)

    async def no_scan() -> list[Any]:
        raise AssertionError("a restart with a watermark must not scan the collection")

    loader = HorizonLoader(slots=mongo.slots, store=restarted, full_scan=no_scan, horizon=15 * MIN, clock=lambda: clock[0])
    await loader.start_up()
    assert len(restarted.queue) == 1  # "later" is beyond the horizon
    outbox = MemoryOutbox()
    assert await service.sweep_breaches(now=NOW + 3 * MIN, store=restarted, outbox=outbox) == 1
    clock[0] = NOW + 30 * MIN
    await loader.roll()
    assert await service.sweep_breaches(now=NOW + 41 * MIN, store=restarted, outbox=outbox) == 1
    assert [e.data["ticket_id"] for e in outbox.published] == ["soon", "later"]


async def test_first_start_without_a_watermark_scans_once(mongo_db: Any) -> None:
    mongo = MongoTimerStore(mongo_db)
    await mongo.add(running("old", -5 * MIN))  # overdue, from before this monitor ever ran
    scheduled = ScheduledTimerStore(mongo)
    loader = HorizonLoader(slots=mongo.slots, store=scheduled, full_scan=mongo.schedule, clock=lambda: NOW)
    await loader.start_up()
    assert loader.scanned and len(scheduled.queue) == 1
    assert await mongo.slots.watermark() is not None


async def test_a_restart_loads_the_next_minutes_first_and_the_sweepers_first_step_the_rest(mongo_db: Any) -> None:
    # Issue 14 follow-up: reading the whole horizon before answering ready took 41-47 s after a crash under load.
    first = MongoTimerStore(mongo_db)
    await first.slots.set_watermark(NOW - 5 * MIN)
    for timer in (running("soon", 2 * MIN), running("in-ten", 10 * MIN)):
        assert await first.add(timer)
    mongo = MongoTimerStore(mongo_db)
    restarted = ScheduledTimerStore(mongo)
    loader = HorizonLoader(slots=mongo.slots, store=restarted, full_scan=mongo.schedule, clock=lambda: NOW)

    await loader.start_up()

    assert len(restarted.queue) == 1 and loader.roll_first  # "soon" only: 7 minutes of slots read, not 20
    assert loader.slots_read <= 7 * 60 + 2
    sweeper = BreachSweeper(store=restarted, outbox=MemoryOutbox(), interval_s=1.0, reload=loader.roll,
                            reload_first=loader.roll_first, clock=lambda: NOW)
    await sweeper.step()
    assert len(restarted.queue) == 2
