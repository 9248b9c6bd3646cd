"""SLA use cases on memory adapters: idempotent start, stop overtaking start, and the breach sweep."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from opsdesk_shared.contracts import SlaBreachedV1, subjects
from sla_monitor import domain, service
from sla_monitor.adapters.memory import MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import build_book
from sla_monitor.sweeper import BreachSweeper

HOUR = timedelta(hours=1)


async def start(store: MemoryTimerStore, ticket_id: str, at: datetime, *, duration: timedelta = HOUR, correlation_id: str | None = None) -> bool:
    return await service.start_response_timer(
        ticket_id=ticket_id, reported_at=at, duration=duration, store=store, correlation_id=correlation_id
    )


def key(ticket_id: str) -> str:
    return domain.timer_key(ticket_id, service.RESPONSE)


async def test_start_creates_a_running_response_timer(t0: datetime) -> None:
    store = MemoryTimerStore()

    assert await start(store, "tkt-1", t0, correlation_id="corr-1") is True

    timer = await store.get(key("tkt-1"))
    assert timer is not None
    assert (timer.status, timer.name, timer.due_at, timer.correlation_id) == ("running", "response", t0 + HOUR, "corr-1")


async def test_start_is_idempotent_for_a_redelivered_ticket_created(t0: datetime) -> None:
    store = MemoryTimerStore()
    await start(store, "tkt-1", t0)

    again = await start(store, "tkt-1", t0 + timedelta(minutes=10), duration=2 * HOUR)

    assert again is False
    timer = await store.get(key("tkt-1"))
    assert timer is not None and timer.started_at == t0 and timer.due_at == t0 + HOUR
    assert len(store.timers) == 1


async def test_stop_stops_a_running_timer(t0: datetime) -> None:
    store = MemoryTimerStore()
    await start(store, "tkt-1", t0)

    stopped = await service.stop_response_timer(ticket_id="tkt-1", at=t0 + timedelta(minutes=5), store=store)

    assert stopped is True
    timer = await store.get(key("tkt-1"))
    assert timer is not None and timer.status == "stopped" and timer.stopped_at == t0 + timedelta(minutes=5)


async def test_stop_before_start_then_late_start_keeps_the_timer_stopped(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()

    stopped = await service.stop_response_timer(ticket_id="tkt-1", at=t0 + timedelta(minutes=5), store=store)
    late_start = await start(store, "tkt-1", t0)

    assert stopped is False
    assert late_start is False
    timer = await store.get(key("tkt-1"))
    assert timer is not None
    assert timer.status == "stopped" and timer.stopped_at == t0 + timedelta(minutes=5)
    # The late start fills in what the stop was met against, so the desk sees a met commitment with its times.
    assert timer.started_at == t0 and timer.due_at is not None and domain.view(timer).state == "met"
    assert await service.sweep_breaches(now=t0 + 24 * HOUR, store=store, outbox=outbox) == 0
    assert outbox.published == []


async def test_assignment_after_the_deadline_still_breaches(t0: datetime) -> None:
    """A late ticket.assigned (backlog, monitor restarted) handled before the sweep must not erase the missed deadline."""
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0)
    assigned_late = t0 + 2 * HOUR

    await service.stop_response_timer(ticket_id="tkt-1", at=assigned_late, store=store, outbox=outbox)
    # The late stop proves the breach at once; the sweep finds nothing left to do.
    assert await service.sweep_breaches(now=assigned_late + timedelta(seconds=1), store=store, outbox=outbox) == 0

    assert [(e.type, e.subject_id) for e in outbox.published] == [(subjects.SLA_BREACHED, "tkt-1"), (subjects.SLA_TIMER_STOPPED, "tkt-1")]
    assert outbox.published[1].data["outcome"] == "breached"


async def test_stop_after_breach_keeps_the_breach(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0)
    await service.sweep_breaches(now=t0 + 2 * HOUR, store=store, outbox=outbox)

    stopped = await service.stop_response_timer(ticket_id="tkt-1", at=t0 + 3 * HOUR, store=store, outbox=outbox)
    again = await service.stop_response_timer(ticket_id="tkt-1", at=t0 + 3 * HOUR, store=store, outbox=outbox)

    assert stopped is False and again is False
    timer = await store.get(key("tkt-1"))
    assert timer is not None and timer.status == "breached" and timer.stopped_at == t0 + 3 * HOUR
    # The verdict, once: breached, with when the work in fact stopped.
    assert [(e.type, e.data.get("outcome")) for e in outbox.published] == [
        (subjects.SLA_BREACHED, None), (subjects.SLA_TIMER_STOPPED, "breached"),
    ]


async def test_sweep_publishes_one_breach_per_overdue_timer_only(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    now = t0 + 2 * HOUR
    await start(store, "overdue-a", t0)
    await start(store, "overdue-b", t0 + 30 * timedelta(minutes=1))
    await start(store, "not-yet-due", now - timedelta(minutes=10))
    await start(store, "stopped-in-time", t0)
    await service.stop_response_timer(ticket_id="stopped-in-time", at=t0 + timedelta(minutes=20), store=store)

    breached = await service.sweep_breaches(now=now, store=store, outbox=outbox)

    assert breached == 2
    assert [e.type for e in outbox.published] == [subjects.SLA_BREACHED] * 2
    assert sorted(e.subject_id for e in outbox.published) == ["overdue-a", "overdue-b"]
    statuses = {t.ticket_id: t.status for t in store.timers.values()}
    assert statuses == {
        "overdue-a": "breached", "overdue-b": "breached", "not-yet-due": "running", "stopped-in-time": "stopped",
    }


async def test_second_sweep_publishes_nothing(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0)
    await service.sweep_breaches(now=t0 + 2 * HOUR, store=store, outbox=outbox)

    again = await service.sweep_breaches(now=t0 + 3 * HOUR, store=store, outbox=outbox)

    assert again == 0
    assert len(outbox.published) == 1


async def test_breach_envelope_carries_the_ticket_correlation_id(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0, correlation_id="corr-from-intake")
    now = t0 + 2 * HOUR

    await service.sweep_breaches(now=now, store=store, outbox=outbox)

    (envelope,) = outbox.published
    assert envelope.correlation_id == "corr-from-intake"
    assert envelope.producer == service.PRODUCER
    assert envelope.subject_id == "tkt-1"
    assert envelope.occurred_at == now
    event = SlaBreachedV1.model_validate(envelope.data)
    assert (event.ticket_id, event.timer, event.started_at, event.due_at, event.breached_at) == (
        "tkt-1", "response", t0, t0 + HOUR, now
    )


async def test_breach_without_a_correlation_id_correlates_on_the_ticket(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0, correlation_id=None)

    await service.sweep_breaches(now=t0 + 2 * HOUR, store=store, outbox=outbox)

    assert [e.correlation_id for e in outbox.published] == ["tkt-1"]


async def test_sweep_limit_breaches_the_earliest_due_first(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "later", t0 + timedelta(minutes=30))
    await start(store, "earliest", t0)

    assert await service.sweep_breaches(now=t0 + 3 * HOUR, store=store, outbox=outbox, limit=1) == 1

    assert [e.subject_id for e in outbox.published] == ["earliest"]


class StopsDuringSweep(MemoryTimerStore):
    """A store where the stop event is handled between the sweep's query and its write."""

    async def due(self, now: datetime, *, limit: int) -> list[domain.Timer]:
        found = await super().due(now, limit=limit)
        for timer in found:
            await self.stop(timer.key, at=now)
        return found


async def test_timer_stopped_during_the_sweep_is_not_breached(t0: datetime) -> None:
    store, outbox = StopsDuringSweep(), MemoryOutbox()
    await start(store, "tkt-1", t0)

    assert await service.sweep_breaches(now=t0 + 2 * HOUR, store=store, outbox=outbox) == 0

    assert outbox.published == []
    timer = await store.get(key("tkt-1"))
    assert timer is not None and timer.status == "stopped"


async def test_breach_sweeper_breaches_overdue_timers_in_the_background(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-1", t0, duration=timedelta(seconds=1))  # t0 is long past: overdue now
    sweeper = BreachSweeper(store=store, outbox=outbox, interval_s=0.01)

    sweeper.start()
    try:
        async with asyncio.timeout(2):
            while not outbox.published:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)  # a few more sweeps must not publish again
    finally:
        await sweeper.stop()

    assert [e.subject_id for e in outbox.published] == ["tkt-1"]


# --- the ticket leaves the desk's hands: resolved, cancelled or closed ------------------------------------------------

async def _start_named(store: MemoryTimerStore, name: str, ticket_id: str, at: datetime) -> None:
    timer = domain.Timer(ticket_id=ticket_id, name=name, status="running", started_at=at, due_at=at + HOUR)
    assert await service.start_timer(timer, store=store)


async def test_closing_a_ticket_stops_every_running_clock_on_it(t0: datetime) -> None:
    store = MemoryTimerStore()
    await start(store, "tkt-1", t0)
    await _start_named(store, "confirmation", "tkt-1", t0)

    outbox = MemoryOutbox()
    stopped = await service.close_ticket_timers("tkt-1", at=t0 + timedelta(minutes=20), store=store, outbox=outbox)

    assert sorted(stopped) == ["confirmation", "response"]
    # The desk answered in time; nobody confirmed, and nobody had to: cancelled, not met.
    states = {name: (await store.get(domain.timer_key("tkt-1", name))) for name in ("response", "confirmation")}
    assert {name: domain.view(t).state for name, t in states.items() if t is not None} == {"response": "met", "confirmation": "cancelled"}
    assert {e.data["timer"]: e.data["outcome"] for e in outbox.published} == {"response": "met", "confirmation": "cancelled"}
    # Clocks that never ran are not invented for the later ones.
    assert await store.get(domain.timer_key("tkt-1", "redispatch")) is None


async def test_desk_fix_overtaking_ticket_created_keeps_the_opening_clocks_from_running(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await service.close_ticket_timers("tkt-2", at=t0 + timedelta(minutes=3), store=store)

    await start(store, "tkt-2", t0)  # ticket.created arrives late, on its own consumer

    timer = await store.get(key("tkt-2"))
    assert timer is not None and timer.status == "stopped"
    assert await service.sweep_breaches(now=t0 + 5 * HOUR, store=store, outbox=outbox) == 0


async def test_closing_after_the_deadline_keeps_the_breach(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    await start(store, "tkt-3", t0)

    stopped = await service.close_ticket_timers("tkt-3", at=t0 + 2 * HOUR, store=store, outbox=outbox)

    assert stopped == []
    assert [e.type for e in outbox.published] == [subjects.SLA_BREACHED, subjects.SLA_TIMER_STOPPED]
    assert await service.sweep_breaches(now=t0 + 2 * HOUR, store=store, outbox=outbox) == 0


# sla.timer_started (issue 16): every cycle the monitor starts is announced once, in the write that stores it, so
# reporting counts clocks running before any warning, breach or verdict speaks of them.
async def test_a_started_clock_is_announced_once_with_its_due_time(t0: datetime) -> None:
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    timer = domain.start_timer(ticket_id="tkt-1", name="dispatch", started_at=t0, duration=HOUR, correlation_id="c-1")

    assert await service.start_timer(timer, store=store, outbox=outbox)
    assert not await service.start_timer(timer, store=store, outbox=outbox)  # a redelivered ticket.created

    [started] = outbox.published
    assert started.type == subjects.SLA_TIMER_STARTED and started.producer == "sla-monitor"
    assert (started.subject_id, started.correlation_id) == ("tkt-1", "c-1")
    assert started.data["timer"] == "dispatch" and started.data["ticket_id"] == "tkt-1"
    assert datetime.fromisoformat(started.data["started_at"]) == t0
    assert datetime.fromisoformat(started.data["due_at"]) == t0 + HOUR


async def test_a_start_without_a_relay_keeps_its_announcement_stored(t0: datetime) -> None:
    """No outbox here (some callers): the event stays in the timer's document for the relay's sweep, never lost."""
    store = MemoryTimerStore()
    stored: list[object] = []
    real_add = store.add

    async def add(timer: domain.Timer, *, events: object = ()) -> bool:
        stored.append(events)
        return await real_add(timer, events=events)  # type: ignore[arg-type]

    store.add = add  # type: ignore[method-assign]
    assert await start(store, "tkt-1", t0)
    [events] = stored
    assert [e.type for e in events] == [subjects.SLA_TIMER_STARTED]  # type: ignore[attr-defined]


async def test_a_new_cycle_announces_the_old_verdict_then_its_own_start(t0: datetime) -> None:
    """A second engineer's confirmation clock: the first cycle ends cancelled and the second is announced started,
    each once, with distinct event ids."""
    store, outbox = MemoryTimerStore(), MemoryOutbox()
    policy = domain.TimerPolicy(name="confirmation", calendar="24x7", business_minutes=30)
    book = build_book(package={}, uploads=[], definitions=[])
    assert await service.start_new_cycle(policy, ticket_id="tkt-1", started_at=t0, book=book, store=store, outbox=outbox)
    later = t0 + timedelta(minutes=10)
    assert await service.start_new_cycle(policy, ticket_id="tkt-1", started_at=later, book=book, store=store, outbox=outbox)
    assert not await service.start_new_cycle(policy, ticket_id="tkt-1", started_at=later, book=book, store=store, outbox=outbox)

    kinds = [(e.type, e.data["started_at"], e.data.get("outcome")) for e in outbox.published]
    assert [(k, datetime.fromisoformat(s), o) for k, s, o in kinds] == [
        (subjects.SLA_TIMER_STARTED, t0, None),
        (subjects.SLA_TIMER_STOPPED, t0, "cancelled"),
        (subjects.SLA_TIMER_STARTED, later, None),
    ]
    assert len({e.event_id for e in outbox.published}) == 3
