"""Who holds each ticket, as the SLA monitor learns it from ticket.assigned / ticket.reassigned: the same store test
on memory and on the real database, and the bus edge on real NATS JetStream."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, TicketAssignedV1, TicketReassignedV1
from sla_monitor import calendar_service
from sla_monitor.adapters.memory import (
    MemoryCalendarStore,
    MemoryHolderStore,
    MemoryNotificationStore,
    MemoryOutbox,
    MemoryTimerStore,
)
from sla_monitor.adapters.mongo import MongoHolderStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.entrypoints import bus
from sla_monitor.settings import SlaSettings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "mongo"])
def holders(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryHolderStore()
    return MongoHolderStore(request.getfixturevalue("mongo_db"))


async def test_the_latest_assignment_wins_and_a_late_older_one_changes_nothing(holders: Any) -> None:
    ticket = f"tkt-{uuid.uuid4().hex[:8]}"

    assert await holders.holder(ticket) is None
    assert await holders.hold(ticket, engineer_id="E-7", at=T0) is True
    assert await holders.hold(ticket, engineer_id="E-9", at=T0 + timedelta(minutes=15)) is True
    assert await holders.hold(ticket, engineer_id="E-7", at=T0) is False
    assert await holders.hold(ticket, engineer_id="E-9", at=T0 + timedelta(minutes=15)) is True  # a redelivery: same value
    assert await holders.holder(ticket) == "E-9"


async def test_concurrent_first_assignments_keep_the_latest(holders: Any) -> None:
    ticket = f"tkt-{uuid.uuid4().hex[:8]}"

    await asyncio.gather(*(holders.hold(ticket, engineer_id=f"E-{n}", at=T0 + timedelta(minutes=n)) for n in range(5)))

    assert await holders.holder(ticket) == "E-4"


async def test_ticket_assigned_and_reassigned_on_the_bus_record_the_holder(broker: Any, mongo_db: Any) -> None:
    store = MongoHolderStore(mongo_db)
    settings = SlaSettings(max_deliver=3, ack_wait_s=5)
    holder = BookHolder(await calendar_service.load_book(MemoryCalendarStore()))
    bus.register(broker, store=MemoryTimerStore(), holder=holder, notifications=MemoryNotificationStore(), settings=settings, outbox=MemoryOutbox(),
                 holders=store)
    await broker.start()
    publisher = JetStreamPublisher(broker)
    ticket = f"tkt-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    await publisher.publish(Envelope.wrap(
        TicketAssignedV1(ticket_id=ticket, assignment_id="a-1", engineer_id="E-7", engineer_name="李華", reason="nearest", assigned_at=now),
        producer="dispatch", correlation_id="c", subject_id=ticket,
    ))

    async with asyncio.timeout(5):
        while await store.holder(ticket) != "E-7":
            await asyncio.sleep(0.05)

    await publisher.publish(Envelope.wrap(
        TicketReassignedV1(ticket_id=ticket, assignment_id="a-1", previous_engineer_id="E-7", engineer_id="E-9", engineer_name="張偉",
                           reason="delay", by="dispatch", reassigned_at=now + timedelta(minutes=10)),
        producer="dispatch", correlation_id="c", subject_id=ticket,
    ))

    async with asyncio.timeout(5):
        while await store.holder(ticket) != "E-9":
            await asyncio.sleep(0.05)
