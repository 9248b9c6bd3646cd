"""Intake on the real database and the real NATS: the outbox relay and the ticket.assigned consumer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import service
from intake.adapters.memory import MemoryOutbox
from intake.adapters.mongo import MongoTicketStore
from intake.domain import NewTicket
from intake.entrypoints import bus
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, subjects
from opsdesk_shared.outbox import OutboxRelay

pytestmark = pytest.mark.integration


async def _eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def _cmd() -> NewTicket:
    return NewTicket(
        title="打印機卡紙", description="三樓", requester=Requester(name="王小明"), channel="hotline", service_code="RS-REPAIR"
    )


@pytest.fixture
async def store(mongo_db: Any) -> MongoTicketStore:
    s = MongoTicketStore(mongo_db)
    await s.ensure_indexes()
    return s


async def test_new_ticket_document_carries_its_pending_event(store: MongoTicketStore) -> None:
    outbox = MemoryOutbox()  # records, never clears: the stored outbox stays as written
    ticket, _ = await service.open_ticket(_cmd(), desk=Desk.on(store, outbox), now=datetime.now(UTC), correlation_id="c-1")

    doc = await store.collection.find_one({"_id": ticket.id})

    assert doc is not None
    assert [e["event_id"] for e in doc["_outbox"]] == [str(outbox.published[0].event_id)]
    assert doc["_outbox"][0]["type"] == subjects.TICKET_CREATED
    assert doc["_outbox"][0]["data"]["ticket_id"] == ticket.id


async def test_relay_publishes_the_stored_event_and_clears_the_outbox(store: MongoTicketStore, broker: Any) -> None:
    recorded = MemoryOutbox()
    ticket, _ = await service.open_ticket(_cmd(), desk=Desk.on(store, recorded), now=datetime.now(UTC), correlation_id="c-2")
    before = await store.collection.find_one({"_id": ticket.id})
    assert before is not None and len(before["_outbox"]) == 1
    js = broker.config.connection_state.stream
    sub = await js.subscribe(subjects.TICKET_CREATED, stream=EVENTS_STREAM)

    sent = await OutboxRelay(store.collection, JetStreamPublisher(broker)).deliver(ticket.id, recorded.published)

    assert sent is True
    msg = await sub.next_msg(timeout=5)
    envelope = Envelope.model_validate_json(msg.data)
    assert envelope == recorded.published[0]
    assert (envelope.type, envelope.subject_id, envelope.correlation_id) == (subjects.TICKET_CREATED, ticket.id, "c-2")
    assert msg.headers is not None and msg.headers["Nats-Msg-Id"] == str(envelope.event_id)
    after = await store.collection.find_one({"_id": ticket.id})
    assert after is not None
    assert after["_outbox"] == []
    loaded = await store.get(ticket.id)  # clearing the outbox leaves the ticket alone
    assert loaded is not None
    assert (loaded.number, loaded.status, loaded.version) == (ticket.number, "new", ticket.version)
    await sub.unsubscribe()


async def test_sweep_sends_events_left_behind_by_a_failed_publish(store: MongoTicketStore, broker: Any) -> None:
    class Down:
        async def publish(self, envelope: Envelope) -> None:
            raise ConnectionError("nats down")

    ticket, _ = await service.open_ticket(
        _cmd(), desk=Desk.on(store, OutboxRelay(store.collection, Down())), now=datetime.now(UTC), correlation_id="c-3"
    )
    assert len((await store.collection.find_one({"_id": ticket.id}) or {}).get("_outbox", [])) == 1

    sent = await OutboxRelay(store.collection, JetStreamPublisher(broker)).sweep()

    assert sent == 1
    doc = await store.collection.find_one({"_id": ticket.id})
    assert doc is not None and doc["_outbox"] == []
    info = await broker.config.connection_state.stream.stream_info(EVENTS_STREAM, subjects_filter=subjects.TICKET_CREATED)
    assert info.state.subjects == {subjects.TICKET_CREATED: 1}


async def test_ticket_assigned_on_the_bus_marks_the_ticket_assigned(store: MongoTicketStore, broker: Any) -> None:
    ticket, _ = await service.open_ticket(_cmd(), desk=Desk.on(store, MemoryOutbox()), now=datetime.now(UTC), correlation_id="c-4")
    bus.register(broker, desk=Desk.on(store, MemoryOutbox()), settings=IntakeSettings(environment="test"))
    await broker.start()
    assignment_id = str(uuid.uuid4())
    event = TicketAssignedV1(
        ticket_id=ticket.id, assignment_id=assignment_id, engineer_id="eng-onsite-1", engineer_name="陳志強",
        reason="skill match (printer), load 0/8, role onsite, score 15.00",
        assigned_at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1),
    )

    await JetStreamPublisher(broker).publish(Envelope.wrap(event, producer="dispatch", correlation_id="c-4", subject_id=ticket.id))

    async def assigned() -> bool:
        stored = await store.get(ticket.id)
        return stored is not None and stored.status == "assigned"

    await _eventually(assigned)
    stored = await store.get(ticket.id)
    assert stored is not None and stored.assignee is not None
    assert (stored.assignee.assignment_id, stored.assignee.engineer_id) == (assignment_id, "eng-onsite-1")
    assert stored.assignee.assigned_at == event.assigned_at
    assert stored.version == ticket.version + 1
