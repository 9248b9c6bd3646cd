"""Database commands per ticket (issue 17), counted by a PyMongo command listener on the real database.

An assignment stops the response and dispatch clocks and looks for a remote-guidance clock. Each stop is one read
and one write of its timer (store.settle); it was a read, then update_if's second read on FerretDB, then the write.
The starts and stops run in JetStream handlers and note no pending marker (their redelivery stands in for it), and
the relay's clean-up is one $pullAll: a start is 3 commands (it was 5), a stop 3 (it was 5). (For a while a start
left its sent event for the stop to clear, 2 commands; the fault campaign read such events as unsent.)
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring

from opsdesk_shared.contracts import Envelope, TicketAssignedV1
from opsdesk_shared.db_ledger import DRIVER_COMMANDS, CommandTally, collection_of, tallied_client
from opsdesk_shared.mongo import is_ferretdb
from opsdesk_shared.outbox import OutboxRelay, pending_collection
from sla_monitor import calendar_service, domain, service
from sla_monitor.adapters.memory import MemoryCalendarStore
from sla_monitor.adapters.mongo import MongoHolderStore, MongoNotificationStore, MongoTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.due_queue import ScheduledTimerStore
from sla_monitor.entrypoints import bus
from sla_monitor.notifications import bus as notification_bus
from sla_monitor.notifications.inbox import MongoInboxStore
from sla_monitor.notifications.service import NotificationWiring, seed_role_defaults
from sla_monitor.notifications.stores import MongoNumberStore, MongoPreferenceStore, RecentPreferences
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration

MINUTE = timedelta(minutes=1)



class Published:
    def __init__(self) -> None:
        self.events: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.events.append(envelope)


@pytest.fixture
async def counted(database_url: str, database_name: str) -> AsyncIterator[tuple[Any, CommandTally]]:
    async with tallied_client(database_url) as (client, tally):
        yield client[database_name], tally
        await client.drop_database(database_name)


async def test_an_assignment_stops_its_two_clocks_with_one_read_each(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    db, commands = counted
    inner = MongoTimerStore(db)
    store = ScheduledTimerStore(inner)
    published = Published()
    relay = OutboxRelay(inner.collection, published, markers=True)  # what main.py wires: markers, no scans
    for name in ("response", "dispatch"):
        timer = domain.start_timer(ticket_id="tkt-1", name=name, started_at=t0, duration=60 * MINUTE, correlation_id="c")
        assert await service.start_timer(timer, store=store, outbox=relay)
    ferretdb = await is_ferretdb(db.client)
    commands.clear()
    published.events.clear()  # the two starts' sla.timer_started

    at = t0 + 10 * MINUTE
    assert await service.stop_timer("response", ticket_id="tkt-1", at=at, store=store, outbox=relay)
    assert await service.stop_timer("dispatch", ticket_id="tkt-1", at=at, store=store, outbox=relay)
    assert not await service.stop_if_running("remote_guidance", ticket_id="tkt-1", at=at, store=store, outbox=relay)

    # Per stop: read the timer, write the stop with its event, then the relay's clean-up (one $pullAll); the guidance
    # clock, never started, is one read. 13 commands before the markers went (a note and its delete per stop), and
    # on FerretDB 5 finds before settle.
    assert commands.names["find"] == 3
    expected = {"find": 3, "update": 4}
    assert dict(commands.names) == expected, (ferretdb, dict(commands.names))
    assert [(e.type, e.data["outcome"]) for e in published.events] == [("sla.timer_stopped", "met")] * 2
    for name in ("response", "dispatch"):
        stored = await store.get(domain.timer_key("tkt-1", name))
        assert stored is not None and stored.status == "stopped" and stored.stopped_at == at
    assert await inner.collection.count_documents({"_outbox.0": {"$exists": True}}) == 0


async def test_a_stop_racing_a_changed_timer_decides_on_what_is_stored(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    """A timer breached before its stop arrives stays breached: settle decides on the stored document."""
    db, _ = counted
    store = MongoTimerStore(db)
    timer = domain.start_timer(ticket_id="tkt-2", name="response", started_at=t0, duration=60 * MINUTE, correlation_id="c")
    await store.add(timer)
    breached = domain.breach(timer, now=t0 + 2 * 60 * MINUTE)
    assert breached is not None
    assert await store.mark_breached(breached[0], [])

    assert not await service.stop_timer("response", ticket_id="tkt-2", at=t0 + 3 * 60 * MINUTE, store=store)

    stored = await store.get(timer.key)
    assert stored is not None and stored.status == "breached"


async def test_a_clock_start_is_announced_from_its_insert_and_relayed(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    """sla.timer_started (issue 16) rides in the timer's own insert (the outbox); a redelivered start adds nothing."""
    db, commands = counted
    inner = MongoTimerStore(db)
    store = ScheduledTimerStore(inner)
    published = Published()
    relay = OutboxRelay(inner.collection, published, markers=True)
    timer = domain.start_timer(ticket_id="tkt-3", name="dispatch", started_at=t0, duration=10 * MINUTE, correlation_id="c")
    await store.get("warm-up")
    commands.clear()

    assert await service.start_timer(timer, store=store, outbox=relay)
    # The slot entry, the timer with its event, then the relay's $pullAll: no pending note, no note to delete.
    start = dict(commands.names)
    assert not await service.start_timer(timer, store=store, outbox=relay)  # redelivered: one read, nothing sent

    assert [(e.type, e.data["timer"], e.subject_id) for e in published.events] == [("sla.timer_started", "dispatch", "tkt-3")]
    assert await inner.collection.count_documents({"_outbox.0": {"$exists": True}}) == 0
    # The slot entry is an insert or an update (its second's slot may exist already): 3 writes, no read, no delete.
    assert start.get("insert", 0) + start.get("update", 0) == 3 and "delete" not in start and "find" not in start, start


async def test_one_tickets_clocks_cost_three_commands_a_start_and_three_a_stop(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    """What the handlers do for one ticket: ticket.created starts response and dispatch; ticket.assigned stops both,
    looks for a remote-guidance clock and starts confirmation; assignment.confirmed stops it. 3 starts, 3 stops and
    a look-up: 31 commands with a pending marker per write (its insert and its delete) and a $pull per event; 19 now."""
    db, commands = counted
    inner = MongoTimerStore(db)
    store = ScheduledTimerStore(inner)
    published = Published()
    relay = OutboxRelay(inner.collection, published, markers=True)  # what main.py wires
    book = await calendar_service.load_book(MemoryCalendarStore())
    await store.get("warm-up")
    commands.clear()

    for name in ("response", "dispatch"):
        timer = domain.start_timer(ticket_id="tkt-9", name=name, started_at=t0, duration=60 * MINUTE, correlation_id="c")
        assert await service.start_timer(timer, store=store, outbox=relay)
    assigned = t0 + 10 * MINUTE
    for name in ("response", "dispatch"):
        assert await service.stop_timer(name, ticket_id="tkt-9", at=assigned, store=store, outbox=relay)
    assert not await service.stop_if_running("remote_guidance", ticket_id="tkt-9", at=assigned, store=store, outbox=relay)
    assert await service.start_new_cycle(
        domain.DEFAULT_POLICIES["confirmation"], ticket_id="tkt-9", started_at=assigned, book=book, store=store, outbox=relay,
    )
    assert await service.stop_timer("confirmation", ticket_id="tkt-9", at=assigned + MINUTE, store=store, outbox=relay)

    # Per start: the slot entry (an insert or an update), the timer with its event, the relay's $pullAll. Per stop:
    # the read, the write with its event, the $pullAll. The guidance look-up: one read.
    names = dict(commands.names)
    assert sum(names.values()) == 19, names
    assert names.get("find") == 4 and "delete" not in names, names
    assert names.get("insert", 0) + names.get("update", 0) == 15, names
    assert [e.type for e in published.events] == ["sla.timer_started"] * 2 + ["sla.timer_stopped"] * 2 + [
        "sla.timer_started", "sla.timer_stopped"]
    assert await inner.collection.count_documents({"_outbox.0": {"$exists": True}}) == 0
    assert await pending_collection(inner.collection).count_documents({}) == 0


async def test_a_pulled_batch_of_starts_writes_their_shared_slot_once_or_twice(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    """32 ticket.created handled at once (a pulled batch) start clocks due in the same second: their slot entries go
    out together, the first alone (it found the slot free), the other 31 in one write; 32 slot writes before. The
    timers' inserts likewise (32 before)."""
    db, commands = counted
    inner = MongoTimerStore(db)
    store = ScheduledTimerStore(inner)
    relay = OutboxRelay(inner.collection, Published(), markers=True)
    await store.get("warm-up")
    commands.clear()
    timers = [
        domain.start_timer(ticket_id=f"tkt-b{i}", name="response", started_at=t0, duration=60 * MINUTE, correlation_id="c")
        for i in range(32)
    ]

    assert all(await asyncio.gather(*(service.start_timer(t, store=store, outbox=relay) for t in timers)))

    assert commands.names["update"] <= 2 + 32, dict(commands.names)  # the slot, and each start's clean-up ($pullAll)
    # The timers themselves: one insert_many for the starts gathered together (GroupInsert), 32 inserts before.
    assert commands.names["insert"] <= 3, dict(commands.names)
    assert await inner.collection.count_documents({}) == 32
    rows = await inner.slots.read(t0, t0 + 61 * MINUTE)
    assert sorted(k for k, _, _ in rows) == sorted(t.key for t in timers)


async def test_a_failed_slot_write_fails_every_start_it_carried(counted: tuple[Any, CommandTally], t0: datetime) -> None:
    """A start returns only once its own slot entry is stored: when the shared write fails, each caller raises."""
    db, _ = counted
    slots = MongoTimerStore(db).slots
    real = slots._slots

    class Refusing:
        async def update_one(self, *args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0.01)
            raise ConnectionError("database away")

        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

    slots._slots = Refusing()  # type: ignore[assignment]
    results = await asyncio.gather(
        *(slots.index(f"k{i}", due_at=t0, warning_at=None) for i in range(5)), return_exceptions=True
    )
    assert [type(r) for r in results] == [ConnectionError] * 5


class ByCollection(monitoring.CommandListener):
    """Commands by (name, collection), the driver's own left out: where a ticket's commands go."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in DRIVER_COMMANDS:
            self.counts[(event.command_name, collection_of(event))] += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        return None

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


async def test_a_ticket_through_the_monitors_handlers_costs_nineteen_commands(
    database_url: str, database_name: str, monkeypatch: pytest.MonkeyPatch, ticket_created: Any, t0: datetime,
) -> None:
    """ticket.created and ticket.assigned through the handlers main.py registers (clocks, holders, notices), on the
    stores main.py wires: 32 commands a ticket with the pending markers, 22 without them, 19.4 with the preferences
    and the ticket's facts remembered (issue 17)."""
    handlers: dict[str, Any] = {}

    def capture(broker: Any, *, subject: str, durable: str, handler: Any, **_: Any) -> None:
        handlers[durable] = handler

    monkeypatch.setattr(bus, "subscribe_events", capture)
    monkeypatch.setattr(notification_bus, "subscribe_events", capture)
    tally = ByCollection()
    client: AsyncMongoClient[Any] = AsyncMongoClient(database_url, tz_aware=True, event_listeners=[tally])
    try:
        db = client[database_name]
        timers = MongoTimerStore(db)
        book = BookHolder(await calendar_service.load_book(MemoryCalendarStore()))
        notifications, holders = MongoNotificationStore(db), MongoHolderStore(db)
        preferences = RecentPreferences(MongoPreferenceStore(db))
        bus.register(None, store=ScheduledTimerStore(timers), holder=book, notifications=notifications,  # type: ignore[arg-type]
                     settings=SlaSettings(), outbox=OutboxRelay(timers.collection, Published(), markers=True), holders=holders)
        await seed_role_defaults(prefs=preferences, now=t0)
        wired = NotificationWiring(store=notifications, preferences=preferences, channels={}, sender=None,
                                   inbox=MongoInboxStore(db), numbers=MongoNumberStore(db))
        notification_bus.register(None, wired=wired, book=book, holders=holders, max_deliver=5, ack_wait_s=30)  # type: ignore[arg-type]
        tally.counts.clear()
        tickets = 5
        for _ in range(tickets):
            envelope, ticket = ticket_created(reported_at=t0)
            for durable in ("sla-ticket-created", "sla-notify-authorization"):
                await handlers[durable](envelope, ticket)
            assigned = TicketAssignedV1(ticket_id=ticket.ticket_id, assignment_id="a-1", engineer_id="eng-1", engineer_name="李華",
                                        reason="nearest", assigned_at=t0 + 5 * MINUTE)
            envelope = Envelope.wrap(assigned, producer="dispatch", correlation_id="c", subject_id=ticket.ticket_id)
            for durable in ("sla-ticket-assigned", "sla-notify-assigned"):
                await handlers[durable](envelope, assigned)
        per_ticket = {f"{name} {collection}": n / tickets for (name, collection), n in tally.counts.items()}

        # Three starts (slot entry, timer with its event, $pullAll), two stops (read, write, $pullAll), the guidance
        # look-up, the holder, the ticket's number and title (kept; the notice reads what this process kept), the
        # engineer's and the role's preference (read once in the five tickets' seconds, then remembered: one read
        # each a ticket before), the notice. No timers_outbox_pending: 5 inserts and 5 deletes a ticket before.
        assert per_ticket == {
            "update timers": 7, "insert timers": 3, "find timers": 3, "update timer_slots": 3,
            "insert holders": 1, "update ticket_numbers": 1,
            "find notification_preferences": 2 / tickets, "insert notifications": 1,
        }, per_ticket
        assert sum(per_ticket.values()) == pytest.approx(19.4)
    finally:
        await client.drop_database(database_name)
        await client.close()
