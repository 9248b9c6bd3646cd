"""The in-memory due queue the sweep reads instead of scanning the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sla_monitor import domain
from sla_monitor.adapters.memory import MemoryTimerStore
from sla_monitor.due_queue import DueQueue, ScheduledTimerStore

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_pops_only_what_is_due_in_due_order() -> None:
    q = DueQueue()
    q.add("late", T0 + 3 * MIN)
    q.add("first", T0 + MIN)
    q.add("second", T0 + 2 * MIN)
    assert q.pop_due(T0 + 2 * MIN, limit=10) == ["first", "second"]
    assert q.pop_due(T0 + 2 * MIN, limit=10) == []
    assert len(q) == 1


def test_discarded_and_rescheduled_keys_pop_once_at_their_latest_due_time() -> None:
    q = DueQueue()
    q.add("stopped", T0)
    q.add("moved", T0)
    q.discard("stopped")
    q.add("moved", T0 + 5 * MIN)
    assert q.pop_due(T0 + MIN, limit=10) == []
    assert q.pop_due(T0 + 5 * MIN, limit=10) == ["moved"]


def test_limit_leaves_the_rest_for_the_next_sweep() -> None:
    q = DueQueue()
    for i in range(5):
        q.add(f"k{i}", T0 + i * MIN)
    assert q.pop_due(T0 + 10 * MIN, limit=2) == ["k0", "k1"]
    assert q.pop_due(T0 + 10 * MIN, limit=10) == ["k2", "k3", "k4"]


async def test_store_wrapper_schedules_running_timers_and_forgets_stopped_ones() -> None:
    store = ScheduledTimerStore(MemoryTimerStore())
    running = domain.start_timer(ticket_id="a", name="response", started_at=T0, duration=MIN)
    stopped = domain.start_timer(ticket_id="b", name="response", started_at=T0, duration=MIN)
    assert await store.add(running) and await store.add(stopped)
    assert await store.stop(stopped.key, at=T0 + MIN / 2)
    assert [t.key for t in await store.due(T0 + 2 * MIN, limit=10)] == [running.key]


async def test_timers_loaded_at_start_up_are_swept_after_a_restart() -> None:
    inner = MemoryTimerStore()
    timer = domain.start_timer(ticket_id="a", name="response", started_at=T0, duration=MIN)
    await inner.add(timer)
    restarted = ScheduledTimerStore(inner)
    assert await restarted.due(T0 + 2 * MIN, limit=10) == []  # nothing known before loading
    await restarted.load([timer])
    assert [t.key for t in await restarted.due(T0 + 2 * MIN, limit=10)] == [timer.key]
