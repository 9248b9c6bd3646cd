"""Dispatch on the real NATS and database: ticket.created in, exactly one ticket.assigned out."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE, choose_engineer
from dispatch.entrypoints import bus
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketCreatedV1, subjects
from opsdesk_shared.outbox import OutboxRelay

pytestmark = pytest.mark.integration

DURABLE = "dispatch-ticket-created"


async def _eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


def _ticket_created(service_code: str = "RS-REPAIR") -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="打印機卡紙", channel="hotline",
        service_code=service_code, requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


@pytest.fixture
async def dispatch_on_bus(broker: Any, mongo_db: Any) -> tuple[MongoRoster, MongoAssignmentStore]:
    """Dispatch's bus edge wired as in production, on the test's broker and database."""
    roster = MongoRoster(mongo_db)
    assignments = MongoAssignmentStore(mongo_db)
    await assignments.ensure_indexes()
    relay = OutboxRelay(assignments.collection, JetStreamPublisher(broker))
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    bus.register(broker, roster=roster, assignments=assignments, outbox=relay, settings=DispatchSettings(environment="test"))
    await broker.start()
    return roster, assignments


async def _handled_up_to(js: Any, stream_seq: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        info = await js.consumer_info(EVENTS_STREAM, DURABLE)
        return bool(info.ack_floor.stream_seq >= stream_seq and info.num_ack_pending == 0)

    return check


async def test_ticket_created_on_the_bus_gets_one_ticket_assigned_event(broker: Any, dispatch_on_bus: Any) -> None:
    _, assignments = dispatch_on_bus
    js = broker.config.connection_state.stream
    sub = await js.subscribe(subjects.TICKET_ASSIGNED, stream=EVENTS_STREAM)
    created = _ticket_created()

    await JetStreamPublisher(broker).publish(created)

    msg = await sub.next_msg(timeout=5)
    envelope = Envelope.model_validate_json(msg.data)
    assigned = TicketAssignedV1.model_validate(envelope.data)
    assert envelope.subject_id == created.subject_id
    assert envelope.correlation_id == created.correlation_id
    assert envelope.causation_id == str(created.event_id)
    # The choice the policy makes at that moment (a roster on site around the clock: the test runs at any hour).
    expected, _, _ = choose_engineer(TicketCreatedV1.model_validate(created.data), list(DEMO_ROSTER_ALWAYS_ON_SITE), at=assigned.assigned_at)
    assert assigned.engineer_id == expected.id
    stored = await assignments.get(created.subject_id)
    assert stored is not None and stored.id == assigned.assignment_id
    await sub.unsubscribe()


async def test_same_ticket_created_twice_is_assigned_once(broker: Any, dispatch_on_bus: Any, mongo_db: Any) -> None:
    roster, assignments = dispatch_on_bus
    js = broker.config.connection_state.stream
    created = _ticket_created()
    publisher = JetStreamPublisher(broker)

    # The outbox may publish twice: JetStream drops the copy with the same Nats-Msg-Id ...
    await publisher.publish(created)
    await publisher.publish(created)
    # ... and a copy past the duplicate window (another Nats-Msg-Id) reaches the handler, which must not assign again.
    ack = await js.publish(
        subjects.TICKET_CREATED, created.to_wire(), stream=EVENTS_STREAM, headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}"}
    )
    await _eventually(await _handled_up_to(js, ack.seq))

    created_info = await js.stream_info(EVENTS_STREAM, subjects_filter=subjects.TICKET_CREATED)
    assert created_info.state.subjects == {subjects.TICKET_CREATED: 2}  # one dropped by JetStream, one replayed

    async def one_assigned_event_on_stream() -> bool:
        info = await js.stream_info(EVENTS_STREAM, subjects_filter=subjects.TICKET_ASSIGNED)
        return bool(info.state.subjects)

    await _eventually(one_assigned_event_on_stream)
    assigned_info = await js.stream_info(EVENTS_STREAM, subjects_filter=subjects.TICKET_ASSIGNED)
    assert assigned_info.state.subjects == {subjects.TICKET_ASSIGNED: 1}
    assert await mongo_db["assignments"].count_documents({}) == 1
    stored = await assignments.get(created.subject_id)
    assert stored is not None
    loads = {e.id: e.open_load for e in await roster.engineers()}
    assert loads[stored.engineer_id] == 1
    assert sum(loads.values()) == 1
