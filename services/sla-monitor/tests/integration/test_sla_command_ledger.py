"""Database commands per ticket (issue 17), counted by a PyMongo command listener on the real database.

An assignment stops the response and dispatch clocks and looks for a remote-guidance clock. Each stop is one read
and one write of its timer (store.settle); it was a read, then update_if's second read on FerretDB, then the write.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.db_ledger import CommandTally, tallied_client
from opsdesk_shared.mongo import is_ferretdb
from opsdesk_shared.outbox import OutboxRelay
from sla_monitor import domain, service
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.due_queue import ScheduledTimerStore

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

    # Per stop: read the timer, note the pending event, write the stop with it, then the relay's clean-up ($pull and
    # the note's delete); the guidance clock, never started, is one read. On FerretDB this was 5 finds (13 commands).
    assert commands.names["find"] == 3
    expected = {"find": 3, "insert": 2, "update": 4, "delete": 2}
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
    # The slot entry and the timer as before; the event's pending note, then the relay's $pull and the note's delete.
    start = dict(commands.names)
    assert not await service.start_timer(timer, store=store, outbox=relay)  # redelivered: one read, nothing sent

    assert [(e.type, e.data["timer"], e.subject_id) for e in published.events] == [("sla.timer_started", "dispatch", "tkt-3")]
    assert await inner.collection.count_documents({"_outbox.0": {"$exists": True}}) == 0
    # The slot entry is an insert or an update (its second's slot may exist already): 5 writes, no read.
    assert start.get("insert", 0) + start.get("update", 0) == 4 and start.get("delete") == 1 and "find" not in start, start
