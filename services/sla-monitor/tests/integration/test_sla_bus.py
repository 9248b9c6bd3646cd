"""The SLA monitor on real NATS JetStream and the real database: ticket.created in, sla.breached out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, SlaBreachedV1, subjects
from opsdesk_shared.outbox import OutboxRelay
from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore, MemoryOutbox
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.entrypoints import bus
from sla_monitor.settings import SlaSettings
from sla_monitor.sweeper import BreachSweeper

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 5.0) -> Any:
    """Poll until `check` returns something truthy; fail after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def fetch_breaches(broker: Any, *, expected: int, timeout: float = 5.0) -> list[Any]:
    """Read sla.breached from the stream with an ephemeral consumer."""
    js = broker.config.connection_state.stream
    sub = await js.pull_subscribe(subjects.SLA_BREACHED, stream=EVENTS_STREAM)
    try:
        return await sub.fetch(expected, timeout=timeout)
    finally:
        await sub.unsubscribe()


def settings() -> SlaSettings:
    # The response clock on the 24x7 calendar for one second, so the test does not depend on the time of day.
    return SlaSettings(
        policies={"response": {"calendar": "24x7", "business_minutes": 1 / 60}},
        sweep_interval_s=0.1, max_deliver=3, ack_wait_s=5,
    )


async def book() -> BookHolder:
    return BookHolder(await calendar_service.load_book(MemoryCalendarStore()))


async def test_overdue_ticket_created_on_the_bus_yields_one_sla_breached(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any
) -> None:
    store = mongo_timer_store
    publisher = JetStreamPublisher(broker)
    relay = OutboxRelay(store.collection, publisher)  # as main.py wires it: the starts' sla.timer_started go out too
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=relay, settings=settings())
    await broker.start()
    envelope, ticket = ticket_created(reported_at=datetime.now(UTC) - timedelta(seconds=30), correlation_id=f"corr-{uuid.uuid4().hex[:8]}")

    await publisher.publish(envelope)
    timer = await eventually(lambda: store.get(f"{ticket.ticket_id}:response"))
    assert timer.status == "running" and timer.correlation_id == envelope.correlation_id
    breached = await service.sweep_breaches(now=datetime.now(UTC), store=store, outbox=relay)

    assert breached == 1
    (msg,) = await fetch_breaches(broker, expected=1)
    out = Envelope.model_validate_json(msg.data)
    event = SlaBreachedV1.model_validate(out.data)
    assert msg.subject == subjects.SLA_BREACHED
    assert msg.headers["Nats-Msg-Id"] == str(out.event_id)
    assert (out.type, out.producer, out.subject_id) == (subjects.SLA_BREACHED, "sla-monitor", ticket.ticket_id)
    assert out.correlation_id == envelope.correlation_id
    assert event.ticket_id == ticket.ticket_id and event.timer == "response"
    assert event.due_at - event.started_at == timedelta(seconds=1)
    assert (await store.get(timer.key)).status == "breached"
    doc = await store.collection.find_one({"_id": timer.key})
    assert doc["_outbox"] == []  # the relay cleared what JetStream acknowledged


async def test_breach_sweeper_publishes_once_even_when_ticket_created_is_redelivered(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any
) -> None:
    store = mongo_timer_store
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=MemoryOutbox(), settings=settings())
    await broker.start()
    publisher = JetStreamPublisher(broker)
    envelope, ticket = ticket_created(reported_at=datetime.now(UTC) - timedelta(seconds=30))
    # The same event under a new message id passes JetStream's de-duplication: the handler must absorb it.
    await publisher.publish(envelope)
    await broker.publish(envelope.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, headers={"Nats-Msg-Id": "again"})
    js = broker.config.connection_state.stream

    async def consumed() -> bool:
        info = await js.consumer_info(EVENTS_STREAM, "sla-ticket-created")
        return info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq >= 2

    await eventually(consumed)
    relay = OutboxRelay(store.collection, publisher)
    sweeper = BreachSweeper(store=store, outbox=relay, interval_s=0.05)
    sweeper.start()
    try:
        await eventually(lambda: _status_is(store, f"{ticket.ticket_id}:response", "breached"))
        await asyncio.sleep(0.2)  # further sweeps must not publish again
    finally:
        await sweeper.stop()

    breaches = await fetch_breaches(broker, expected=2, timeout=1.0)
    assert [Envelope.model_validate_json(m.data).subject_id for m in breaches] == [ticket.ticket_id]


async def _status_is(store: MongoTimerStore, key: str, status: str) -> bool:
    timer = await store.get(key)
    return timer is not None and timer.status == status


async def test_ticket_assigned_before_the_deadline_prevents_the_breach(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any, ticket_assigned: Any
) -> None:
    store = mongo_timer_store
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=MemoryOutbox(), settings=settings())
    await broker.start()
    publisher = JetStreamPublisher(broker)
    reported = datetime.now(UTC) - timedelta(seconds=30)
    created, ticket = ticket_created(reported_at=reported)
    assigned, _ = ticket_assigned(ticket_id=ticket.ticket_id, assigned_at=reported + timedelta(milliseconds=500))

    await publisher.publish(created)
    await eventually(lambda: store.get(f"{ticket.ticket_id}:response"))
    await publisher.publish(assigned)
    await eventually(lambda: _status_is(store, f"{ticket.ticket_id}:response", "stopped"))

    assert await service.sweep_breaches(now=datetime.now(UTC), store=store, outbox=OutboxRelay(store.collection, publisher)) == 0
    info = await broker.config.connection_state.stream.stream_info(EVENTS_STREAM, subjects_filter=subjects.SLA_BREACHED)
    assert info.state.subjects in (None, {})


async def test_two_monitor_replicas_publish_one_breach_between_them(broker: Any, mongo_timer_store: MongoTimerStore) -> None:
    """Both replicas know the timer (both loaded it) and both sweep: the stream keeps exactly one sla.breached."""
    from sla_monitor.due_queue import ScheduledTimerStore

    t0 = datetime.now(UTC) - timedelta(minutes=5)
    timer = domain.start_timer(ticket_id=f"two-{uuid.uuid4().hex[:6]}", name="response", started_at=t0, duration=timedelta(minutes=1))
    assert await mongo_timer_store.add(timer)
    replicas = [ScheduledTimerStore(MongoTimerStore(mongo_timer_store.collection.database)) for _ in range(2)]
    publisher = JetStreamPublisher(broker)
    for replica in replicas:
        await replica.load(await mongo_timer_store.running())
    now = datetime.now(UTC)
    # Each replica decides from what it read before the other wrote: the race a FerretDB backend cannot arbitrate.
    due = [await replica.due(now, limit=10) for replica in replicas]
    assert all(len(d) == 1 for d in due)
    for timers in due:
        decision = domain.breach(timers[0], now=now)
        assert decision is not None
        updated, event = decision
        envelope = service.envelope_for(event, timers[0], now)
        await publisher.publish(envelope)
    info = await broker.config.connection_state.stream.stream_info(EVENTS_STREAM, subjects_filter=subjects.SLA_BREACHED)
    assert info.state.subjects == {subjects.SLA_BREACHED: 1}


async def test_scheduled_deliverable_starts_no_response_clock_and_resolution_stops_running_ones(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any
) -> None:
    from opsdesk_shared.contracts import TicketStatusChangedV1

    store = mongo_timer_store
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=MemoryOutbox(), settings=SlaSettings(
        policies={"response": {"calendar": "24x7", "business_minutes": 60}, "dispatch": {"calendar": "24x7", "business_minutes": 10}},
        sweep_interval_s=0.1, max_deliver=3, ack_wait_s=5,
    ))
    await broker.start()
    publisher = JetStreamPublisher(broker)
    scheduled, report = ticket_created(reported_at=datetime.now(UTC), sla_profile="scheduled")
    responsive, ticket = ticket_created(reported_at=datetime.now(UTC))
    await publisher.publish(scheduled)
    await publisher.publish(responsive)
    await eventually(lambda: store.get(f"{ticket.ticket_id}:dispatch"))

    resolved = TicketStatusChangedV1(
        ticket_id=ticket.ticket_id, number=ticket.number, old_status="new", new_status="resolved", service_code="RS-REPAIR",
        priority="P3", by="agent1", changed_at=datetime.now(UTC),
    )
    await publisher.publish(Envelope.wrap(resolved, producer="intake", correlation_id="c", subject_id=ticket.ticket_id))

    async def both_stopped() -> bool:
        # The desk answered (response met); nobody had to be dispatched (dispatch cancelled, out of the rate).
        timers = [await store.get(f"{ticket.ticket_id}:{name}") for name in ("response", "dispatch")]
        return [t.status if t else None for t in timers] == ["stopped", "cancelled"]

    assert await eventually(both_stopped)
    assert await store.get(f"{report.ticket_id}:response") is None
    assert await store.get(f"{report.ticket_id}:dispatch") is None


async def test_remote_guidance_clock_starts_with_the_desk_and_stops_when_an_engineer_is_assigned(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any, ticket_assigned: Any
) -> None:
    from opsdesk_shared.contracts import TicketUpdatedV1

    store = mongo_timer_store
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=MemoryOutbox(), settings=settings())
    await broker.start()
    publisher = JetStreamPublisher(broker)
    _, ticket = ticket_created(reported_at=datetime.now(UTC))
    now = datetime.now(UTC)
    started_at = now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON keeps milliseconds
    guidance = TicketUpdatedV1(ticket_id=ticket.ticket_id, number=ticket.number, by="agent1", updated_at=started_at,
                               changes={"guidance_started_at": {"old": None, "new": started_at.isoformat()}})
    await publisher.publish(Envelope.wrap(guidance, producer="intake", correlation_id="c", subject_id=ticket.ticket_id))

    timer = await eventually(lambda: store.get(f"{ticket.ticket_id}:remote_guidance"))
    assert timer.status == "running" and timer.due_at == started_at + timedelta(minutes=5)

    assigned_env, _ = ticket_assigned(ticket_id=ticket.ticket_id, assigned_at=started_at + timedelta(minutes=2))
    await publisher.publish(assigned_env)

    async def stopped() -> bool:
        t = await store.get(f"{ticket.ticket_id}:remote_guidance")
        return t is not None and t.status == "stopped"

    assert await eventually(stopped)


async def test_sending_a_ticket_on_stops_the_guidance_clock_met_though_dispatch_then_holds_it(
    broker: Any, mongo_timer_store: MongoTimerStore, ticket_created: Any
) -> None:
    """The desk sends the ticket on (ticket.dispatch_requested) within its window; dispatch then holds it after
    hours and nobody is assigned for hours: the guidance clock ended when the desk let go, met, and never breaches."""
    from opsdesk_shared.contracts import Requester, TicketDispatchRequestedV1, TicketUpdatedV1

    store, outbox = mongo_timer_store, MemoryOutbox()
    bus.register(broker, store=store, holder=await book(), notifications=MemoryNotificationStore(), outbox=outbox, settings=settings())
    await broker.start()
    publisher = JetStreamPublisher(broker)
    _, ticket = ticket_created(reported_at=datetime.now(UTC))
    now = datetime.now(UTC)
    started_at = now.replace(microsecond=now.microsecond // 1000 * 1000)
    guidance = TicketUpdatedV1(ticket_id=ticket.ticket_id, number=ticket.number, by="agent1", updated_at=started_at,
                               changes={"guidance_started_at": {"old": None, "new": started_at.isoformat()}})
    await publisher.publish(Envelope.wrap(guidance, producer="intake", correlation_id="c", subject_id=ticket.ticket_id))
    await eventually(lambda: store.get(f"{ticket.ticket_id}:remote_guidance"))

    sent = TicketDispatchRequestedV1(
        ticket_id=ticket.ticket_id, number=ticket.number, title=ticket.title, channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=ticket.reported_at, requested_at=started_at + timedelta(minutes=3),
        by="agent1", reason="desk",
    )
    await publisher.publish(Envelope.wrap(sent, producer="intake", correlation_id="c", subject_id=ticket.ticket_id))

    async def stopped() -> Any:
        t = await store.get(f"{ticket.ticket_id}:remote_guidance")
        return t if t is not None and t.status != "running" else None

    timer = await eventually(stopped)
    assert (timer.status, timer.stopped_at) == ("stopped", started_at + timedelta(minutes=3))
    assert await service.sweep_breaches(now=started_at + timedelta(hours=14), store=store, outbox=outbox) == 0
    verdicts = [(e.data["timer"], e.data["outcome"]) for e in outbox.published if e.type == subjects.SLA_TIMER_STOPPED]
    assert verdicts == [("remote_guidance", "met")]
