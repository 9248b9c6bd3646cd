"""A handler's write notes no pending marker (issue 17): a crash between the write and the publish loses nothing.

The message is acknowledged only after the handler returns, so it is delivered again; the redelivered handler finds
its effect stored and sends what is still there (relay_now). A publish that fails raises (EventsNotSent, transient),
so the message is redelivered rather than acknowledged, and the relay notes a marker for the sweep after a crash.
On the real database, with the relay main.py wires (markers=True).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, subjects
from opsdesk_shared.outbox import EventsNotSent, OutboxRelay, pending_collection
from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryNotificationStore
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.due_queue import ScheduledTimerStore
from sla_monitor.entrypoints import bus
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)


class Flaky:
    """A publisher that refuses the first `failures` publishes (the bus away), then records what it sends."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("nats: no responders")
        self.sent.append(envelope)


@pytest.fixture
async def timers(mongo_db: Any) -> AsyncIterator[MongoTimerStore]:
    yield MongoTimerStore(mongo_db)


async def stored_events(store: MongoTimerStore, key: str) -> list[str]:
    doc = await store.collection.find_one({"_id": key}, {"_outbox": 1})
    return [e["type"] for e in (doc or {}).get("_outbox", [])]


async def test_a_stop_whose_publish_fails_raises_and_its_redelivery_sends_the_stored_verdict(
    timers: MongoTimerStore, t0: datetime,
) -> None:
    store = ScheduledTimerStore(timers)
    publisher = Flaky(failures=0)
    relay = OutboxRelay(timers.collection, publisher, markers=True)
    timer = domain.start_timer(ticket_id="tkt-1", name="response", started_at=t0, duration=60 * MINUTE, correlation_id="c")
    assert await service.start_timer(timer, store=store, outbox=relay)
    assert await pending_collection(timers.collection).count_documents({}) == 0  # the start noted no marker
    publisher.failures = 1
    at = t0 + 5 * MINUTE

    with pytest.raises(EventsNotSent):  # the handler fails: the message is nacked, not acknowledged
        await service.stop_timer("response", ticket_id="tkt-1", at=at, store=store, outbox=relay)
    assert await stored_events(timers, timer.key) == ["sla.timer_stopped"]
    # The relay noted the marker when the publish failed: a crash now still leaves it to the start-up sweep.
    assert await pending_collection(timers.collection).count_documents({"_id": timer.key}) == 1

    # The redelivery: the timer is stopped already (by this event), and what its first delivery stored goes out.
    assert not await service.stop_timer("response", ticket_id="tkt-1", at=at, store=store, outbox=relay)
    assert [(e.type, e.data["timer"]) for e in publisher.sent] == [("sla.timer_started", "response"), ("sla.timer_stopped", "response")]
    assert publisher.sent[1].data["outcome"] == "met"
    assert await stored_events(timers, timer.key) == []
    assert await pending_collection(timers.collection).count_documents({}) == 0


async def test_a_crash_after_a_start_is_stored_is_healed_by_the_redelivered_start(timers: MongoTimerStore, t0: datetime) -> None:
    """The process died after the insert, before any publish: the redelivered ticket.created sends sla.timer_started."""
    store = ScheduledTimerStore(timers)
    timer = domain.start_timer(ticket_id="tkt-2", name="dispatch", started_at=t0, duration=30 * MINUTE, correlation_id="c")
    envelope = service.envelope_for(domain.started_event(timer), timer, t0)
    assert await timers.add(timer, events=[envelope])  # what the first delivery wrote before it died

    publisher = Flaky(failures=0)
    relay = OutboxRelay(timers.collection, publisher, markers=True)  # the restarted process
    assert await relay.sweep() == 0  # no marker: the sweep does not know of it; the redelivery does
    assert not await service.start_timer(timer, store=store, outbox=relay)  # the redelivered start
    assert [(e.type, e.event_id) for e in publisher.sent] == [("sla.timer_started", envelope.event_id)]
    assert await stored_events(timers, timer.key) == []


async def test_a_crash_after_a_stop_is_stored_is_healed_even_when_a_later_write_came_first(
    timers: MongoTimerStore, t0: datetime,
) -> None:
    """The confirmation stop died before its publish; the ticket was closed before the stop came again. The close
    found the verdict stored and sent it with its own pass (settle saw the unsent event); nothing is left behind."""
    store = ScheduledTimerStore(timers)
    publisher = Flaky(failures=0)
    relay = OutboxRelay(timers.collection, publisher, markers=True)
    timer = domain.start_timer(ticket_id="tkt-3", name="confirmation", started_at=t0, duration=60 * MINUTE, correlation_id="c")
    assert await service.start_timer(timer, store=store, outbox=relay)
    publisher.sent.clear()
    stopped = domain.stop(timer, at=t0 + MINUTE)
    assert stopped is not None
    done, events = stopped
    assert await timers.replace(done, expect=timer, events=[service.envelope_for(e, done, t0 + MINUTE) for e in events])

    # The ticket is closed: the clock is stopped already, but its stored verdict goes out now.
    assert await service.close_ticket_timers("tkt-3", at=t0 + 2 * MINUTE, store=store, outbox=relay) == []
    assert [(e.type, e.data["timer"], e.data["outcome"]) for e in publisher.sent] == [("sla.timer_stopped", "confirmation", "met")]
    assert await stored_events(timers, timer.key) == []
    # The stop's redelivery then finds nothing left to send.
    assert not await service.stop_timer("confirmation", ticket_id="tkt-3", at=t0 + MINUTE, store=store, outbox=relay)
    assert len(publisher.sent) == 1


async def test_a_redelivered_next_cycle_sends_what_its_first_delivery_left(timers: MongoTimerStore, t0: datetime) -> None:
    """A reassignment's new confirmation cycle was written, then the process died: its redelivery relays the ended
    cycle's verdict and the new cycle's sla.timer_started."""
    store = ScheduledTimerStore(timers)
    book = await calendar_service.load_book(MemoryCalendarStore())
    policy = domain.DEFAULT_POLICIES["confirmation"]
    publisher = Flaky(failures=0)
    relay = OutboxRelay(timers.collection, publisher, markers=True)
    assert await service.start_new_cycle(policy, ticket_id="tkt-4", started_at=t0, book=book, store=store, outbox=relay)
    publisher.sent.clear()
    publisher.failures = 2  # the publish of the second cycle fails (as if the process died there)

    with pytest.raises(EventsNotSent):
        await service.start_new_cycle(policy, ticket_id="tkt-4", started_at=t0 + MINUTE, book=book, store=store, outbox=relay)
    assert await stored_events(timers, domain.timer_key("tkt-4", "confirmation")) == ["sla.timer_stopped", "sla.timer_started"]
    publisher.failures = 0
    assert not await service.start_new_cycle(policy, ticket_id="tkt-4", started_at=t0 + MINUTE, book=book, store=store, outbox=relay)
    assert [(e.type, e.data.get("outcome")) for e in publisher.sent] == [("sla.timer_stopped", "cancelled"), ("sla.timer_started", None)]
    assert await stored_events(timers, domain.timer_key("tkt-4", "confirmation")) == []


async def test_a_ticket_assigned_whose_publish_fails_is_redelivered_and_its_verdicts_reach_the_stream(
    broker: Any, timers: MongoTimerStore, ticket_created: Any, ticket_assigned: Any,
) -> None:
    """On real JetStream: the handler's publish fails once, the message is nacked and comes again, and the
    redelivered handler relays the stored sla.timer_stopped. No relay loop runs here: only the redelivery sends it."""

    class FlakyJetStream(JetStreamPublisher):
        failures = 0

        async def publish(self, envelope: Envelope) -> None:
            if envelope.type == subjects.SLA_TIMER_STOPPED and self.failures > 0:
                self.failures -= 1
                raise ConnectionError("nats: no responders")
            await super().publish(envelope)

    publisher = FlakyJetStream(broker)
    relay = OutboxRelay(timers.collection, publisher, markers=True)
    holder = BookHolder(await calendar_service.load_book(MemoryCalendarStore()))
    settings = SlaSettings(policies={"response": {"calendar": "24x7", "business_minutes": 60}}, max_deliver=3, ack_wait_s=5)
    bus.register(broker, store=ScheduledTimerStore(timers), holder=holder, notifications=MemoryNotificationStore(),
                 outbox=relay, settings=settings)
    await broker.start()
    now = datetime.now(UTC).replace(microsecond=0)
    created, ticket = ticket_created(reported_at=now, correlation_id=f"corr-{uuid.uuid4().hex[:8]}")
    key = domain.timer_key(ticket.ticket_id, "response")
    await JetStreamPublisher(broker).publish(created)
    async with asyncio.timeout(10):
        while await timers.get(key) is None:
            await asyncio.sleep(0.05)
    publisher.failures = 1
    assigned, _ = ticket_assigned(ticket_id=ticket.ticket_id, assigned_at=now + timedelta(seconds=5))
    await JetStreamPublisher(broker).publish(assigned)

    js = broker.config.connection_state.stream
    sub = await js.pull_subscribe(subjects.SLA_TIMER_STOPPED, stream=EVENTS_STREAM)
    try:
        found: list[Any] = []
        async with asyncio.timeout(20):
            while not any(m["timer"] == "response" for m in found):
                try:
                    msgs = await sub.fetch(5, timeout=1)
                except TimeoutError:
                    continue
                found += [Envelope.model_validate_json(m.data).data for m in msgs if ticket.ticket_id in m.data.decode()]
    finally:
        await sub.unsubscribe()
    assert publisher.failures == 0  # the first publish did fail
    assert [m["outcome"] for m in found if m["timer"] == "response"] == ["met"]
    # The relay's clean-up follows the publish, and the handler goes on (the confirmation clock): wait for its ack.
    async with asyncio.timeout(10):
        while await stored_events(timers, key) or (await js.consumer_info(EVENTS_STREAM, "sla-ticket-assigned")).num_ack_pending:
            await asyncio.sleep(0.05)
    assert await timers.get(domain.timer_key(ticket.ticket_id, "confirmation")) is not None
