"""TimerStore contract, run against the memory store and MongoTimerStore on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.outbox import OUTBOX_FIELD
from sla_monitor import domain, service
from sla_monitor.adapters.memory import MemoryOutbox
from sla_monitor.adapters.mongo import MongoTimerStore

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


def timer(ticket_id: str, started_at: datetime, *, minutes: int = 60) -> domain.Timer:
    return domain.start_timer(
        ticket_id=ticket_id, name="response", started_at=started_at, duration=minutes * MINUTE, correlation_id=f"c-{ticket_id}"
    )


def breach_of(t: domain.Timer, now: datetime) -> tuple[domain.Timer, list[Envelope]]:
    decision = domain.breach(t, now=now)
    assert decision is not None
    updated, event = decision
    return updated, [Envelope.wrap(event, producer="sla-monitor", correlation_id="c", subject_id=t.ticket_id, occurred_at=now)]


async def test_added_timer_reads_back_equal(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-1", t0)

    assert await timer_store.add(t) is True

    assert await timer_store.get(t.key) == t


async def test_get_unknown_key_is_none(timer_store: Any) -> None:
    assert await timer_store.get("nope:response") is None


async def test_adding_the_same_timer_twice_returns_false_and_keeps_the_first(timer_store: Any, t0: datetime) -> None:
    first = timer("tkt-1", t0, minutes=60)
    await timer_store.add(first)

    assert await timer_store.add(timer("tkt-1", t0 + MINUTE, minutes=5)) is False

    assert await timer_store.get(first.key) == first


async def test_stop_only_stops_a_running_timer(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-1", t0)
    await timer_store.add(t)

    assert await timer_store.stop(t.key, at=t0 + MINUTE) is True
    assert await timer_store.stop(t.key, at=t0 + 2 * MINUTE) is False
    assert await timer_store.stop("unknown:response", at=t0) is False

    stored = await timer_store.get(t.key)
    assert stored.status == "stopped" and stored.stopped_at == t0 + MINUTE


async def test_stop_does_not_touch_a_breached_timer(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-1", t0, minutes=1)
    await timer_store.add(t)
    updated, events = breach_of(t, t0 + 5 * MINUTE)
    await timer_store.mark_breached(updated, events)

    assert await timer_store.stop(t.key, at=t0 + 10 * MINUTE) is False

    assert (await timer_store.get(t.key)).status == "breached"


async def test_due_returns_only_running_overdue_timers_in_due_order(timer_store: Any, t0: datetime) -> None:
    now = t0 + 120 * MINUTE
    await timer_store.add(timer("due-second", t0, minutes=90))
    await timer_store.add(timer("due-first", t0, minutes=30))
    await timer_store.add(timer("due-exactly-now", t0, minutes=120))
    await timer_store.add(timer("not-yet-due", t0, minutes=121))
    await timer_store.add(timer("stopped", t0, minutes=10))
    await timer_store.stop("stopped:response", at=t0 + MINUTE)
    breached = timer("breached", t0, minutes=5)
    await timer_store.add(breached)
    await timer_store.mark_breached(*breach_of(breached, t0 + 6 * MINUTE))
    await timer_store.add(domain.stopped_before_start(ticket_id="stop-first", name="response", at=t0))

    due = await timer_store.due(now, limit=100)

    assert [t.ticket_id for t in due] == ["due-first", "due-second", "due-exactly-now"]
    assert all(t.status == "running" for t in due)


async def test_due_honours_the_limit(timer_store: Any, t0: datetime) -> None:
    for i, minutes in enumerate([50, 10, 30]):
        await timer_store.add(timer(f"tkt-{i}", t0, minutes=minutes))

    due = await timer_store.due(t0 + 120 * MINUTE, limit=2)

    assert [t.ticket_id for t in due] == ["tkt-1", "tkt-2"]


async def test_mark_breached_records_the_breach_of_a_running_timer(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-1", t0, minutes=1)
    await timer_store.add(t)
    updated, events = breach_of(t, t0 + 5 * MINUTE)

    assert await timer_store.mark_breached(updated, events) is True

    stored = await timer_store.get(t.key)
    assert stored.status == "breached" and stored.breached_at == t0 + 5 * MINUTE
    assert await timer_store.due(t0 + 60 * MINUTE, limit=10) == []


async def test_mark_breached_after_stop_returns_false_and_keeps_it_stopped(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-1", t0, minutes=1)
    await timer_store.add(t)
    updated, events = breach_of(t, t0 + 5 * MINUTE)
    await timer_store.stop(t.key, at=t0 + 4 * MINUTE)

    assert await timer_store.mark_breached(updated, events) is False

    stored = await timer_store.get(t.key)
    assert stored.status == "stopped" and stored.breached_at is None


async def test_stop_overtaking_start_then_sweep_publishes_nothing(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    await service.stop_response_timer(ticket_id="tkt-1", at=t0 + MINUTE / 2, store=timer_store)
    await service.start_response_timer(ticket_id="tkt-1", reported_at=t0, duration=MINUTE, store=timer_store)

    assert await service.sweep_breaches(now=t0 + 60 * MINUTE, store=timer_store, outbox=outbox) == 0

    assert outbox.published == []
    assert (await timer_store.get("tkt-1:response")).status == "stopped"


async def test_sweep_breaches_each_overdue_timer_once(timer_store: Any, t0: datetime) -> None:
    outbox = MemoryOutbox()
    for tid in ("a", "b"):
        await service.start_response_timer(ticket_id=tid, reported_at=t0, duration=MINUTE, store=timer_store, correlation_id=f"c-{tid}")

    first = await service.sweep_breaches(now=t0 + 10 * MINUTE, store=timer_store, outbox=outbox)
    second = await service.sweep_breaches(now=t0 + 20 * MINUTE, store=timer_store, outbox=outbox)

    assert (first, second) == (2, 0)
    assert sorted((e.subject_id, e.correlation_id) for e in outbox.published) == [("a", "c-a"), ("b", "c-b")]


async def test_mongo_breach_stores_its_event_in_the_timer_document(mongo_timer_store: MongoTimerStore, t0: datetime) -> None:
    t = timer("tkt-1", t0, minutes=1)
    await mongo_timer_store.add(t)
    updated, events = breach_of(t, t0 + 5 * MINUTE)

    await mongo_timer_store.mark_breached(updated, events)

    doc = await mongo_timer_store.collection.find_one({"_id": t.key})
    assert [e["event_id"] for e in doc[OUTBOX_FIELD]] == [str(events[0].event_id)]
    assert Envelope.model_validate(doc[OUTBOX_FIELD][0]) == events[0]


async def test_stop_overtaking_a_start_it_was_late_for_still_breaches(timer_store) -> None:  # type: ignore[no-untyped-def]
    """The late start reveals the due time, so the breach is decided and announced then, once; the sweep adds nothing."""
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    outbox = MemoryOutbox()
    await service.stop_response_timer(ticket_id="tkt-late", at=t0 + 2 * MINUTE, store=timer_store)
    started = domain.start_timer(ticket_id="tkt-late", name="response", started_at=t0, duration=MINUTE)
    assert not await service.start_timer(started, store=timer_store, outbox=outbox)  # decided at once, not left running
    breached = [e for e in outbox.published if e.type == "sla.breached"]
    assert [e.data["ticket_id"] for e in breached] == ["tkt-late"]
    assert await service.sweep_breaches(now=t0 + 3 * MINUTE, store=timer_store, outbox=outbox) == 0
    assert len([e for e in outbox.published if e.type == "sla.breached"]) == 1


async def test_running_lists_only_running_timers_for_the_start_up_load(mongo_timer_store: Any) -> None:
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    for tid in ("run-1", "run-2", "stop-1"):
        await service.start_response_timer(ticket_id=tid, reported_at=t0, duration=MINUTE, store=mongo_timer_store)
    await service.stop_response_timer(ticket_id="stop-1", at=t0 + MINUTE / 2, store=mongo_timer_store)
    assert sorted(t.ticket_id for t in await mongo_timer_store.running()) == ["run-1", "run-2"]


async def test_warning_is_recorded_once_and_not_after_a_stop(timer_store: Any) -> None:
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    running = domain.Timer(ticket_id="w-1", name="response", status="running", started_at=t0, due_at=t0 + MINUTE, warning_at=t0 + MINUTE / 2)
    stopped = domain.Timer(ticket_id="w-2", name="response", status="running", started_at=t0, due_at=t0 + MINUTE, warning_at=t0 + MINUTE / 2)
    assert await timer_store.add(running) and await timer_store.add(stopped)
    assert await timer_store.stop(stopped.key, at=t0 + MINUTE / 4)
    due = await timer_store.warnings_due(t0 + MINUTE, limit=10)
    assert [t.key for t in due] == [running.key]
    warned = running.model_copy(update={"warned_at": t0 + MINUTE / 2})
    assert await timer_store.mark_warned(warned, [])
    assert not await timer_store.mark_warned(warned, [])
    assert await timer_store.warnings_due(t0 + MINUTE, limit=10) == []
    stored = await timer_store.get(running.key)
    assert stored is not None and stored.warned_at == t0 + MINUTE / 2


async def test_restart_replaces_an_existing_cycle_of_any_state_but_needs_one(timer_store: Any) -> None:
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)

    def cycle(start: datetime, repair: str) -> domain.Timer:
        return domain.Timer(ticket_id="", repair_id=repair, name="repair_progress", status="running", started_at=start, due_at=start + MINUTE)

    assert await timer_store.add(cycle(t0, "r-run"))
    assert await timer_store.restart(cycle(t0 + MINUTE, "r-run"))
    stored = await timer_store.get("r-run:repair_progress")
    assert stored is not None and stored.started_at == t0 + MINUTE

    assert await timer_store.add(cycle(t0, "r-stop"))
    assert await timer_store.stop("r-stop:repair_progress", at=t0 + MINUTE / 2)
    assert await timer_store.restart(cycle(t0 + MINUTE, "r-stop"))  # a new engineer: confirmed anew
    restarted = await timer_store.get("r-stop:repair_progress")
    assert restarted is not None and restarted.status == "running" and restarted.started_at == t0 + MINUTE
    assert not await timer_store.restart(cycle(t0, "r-none"))


async def test_stop_if_reports_each_outcome(timer_store: Any) -> None:
    t0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    timer = domain.Timer(ticket_id="s-1", name="response", status="running", started_at=t0, due_at=t0 + MINUTE)

    def in_time(at: datetime) -> Any:
        return lambda t: domain.stops_in_time(t, at=at)

    assert await timer_store.stop_if("s-1:response", at=t0, in_time=in_time(t0)) == "missing"
    assert await timer_store.add(timer)
    assert await timer_store.stop_if(timer.key, at=t0 + 2 * MINUTE, in_time=in_time(t0 + 2 * MINUTE)) == "late"
    assert await timer_store.stop_if(timer.key, at=t0 + MINUTE / 2, in_time=in_time(t0 + MINUTE / 2)) == "stopped"
    assert await timer_store.stop_if(timer.key, at=t0 + MINUTE / 2, in_time=in_time(t0 + MINUTE / 2)) == "not_running"
    stored = await timer_store.get(timer.key)
    assert stored is not None and stored.status == "stopped" and stored.stopped_at == t0 + MINUTE / 2


async def test_pause_holds_a_running_timer_and_restart_runs_it_again(timer_store: Any, t0: datetime) -> None:
    t = timer("tkt-p", t0)
    await timer_store.add(t)

    paused = await timer_store.pause_if(t.key, at=t0 + 10 * MINUTE)
    assert paused is not None and paused.status == "paused" and paused.paused_at == t0 + 10 * MINUTE
    assert (await timer_store.get(t.key)).status == "paused"
    assert await timer_store.pause_if(t.key, at=t0 + 11 * MINUTE) is None  # held already

    resumed = paused.model_copy(update={"status": "running", "paused_at": None, "paused_seconds": 600.0, "due_at": t0 + 2 * 60 * MINUTE})
    assert await timer_store.restart(resumed) is True
    assert await timer_store.get(t.key) == resumed


async def test_a_paused_timer_stops_in_time_and_an_overdue_one_does_not_pause(timer_store: Any, t0: datetime) -> None:
    held, overdue = timer("tkt-q", t0), timer("tkt-r", t0)
    await timer_store.add(held)
    await timer_store.add(overdue)
    await timer_store.pause_if(held.key, at=t0 + MINUTE)

    outcome = await timer_store.stop_if(held.key, at=t0 + 300 * MINUTE, in_time=lambda tm: domain.stops_in_time(tm, at=t0 + 300 * MINUTE))
    assert outcome == "stopped"
    stopped = await timer_store.get(held.key)
    assert stopped.status == "stopped" and stopped.paused_at is None
    assert await timer_store.pause_if(overdue.key, at=t0 + 61 * MINUTE) is None
    assert (await timer_store.get(overdue.key)).status == "running"
