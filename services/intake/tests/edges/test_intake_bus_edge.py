"""Intake's bus edge on FastStream's in-memory broker: ticket.assigned shows on the ticket; failures dead-letter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from intake import service
from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
from intake.domain import NewTicket, Ticket
from intake.entrypoints import bus
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM, deadletter_stream, make_broker
from opsdesk_shared.contracts import DeadLetter, Envelope, Requester, TicketAssignedV1, subjects

DURABLE = "intake-ticket-assigned"
MAX_DELIVER = 3


def _js_reply(*, delivered: int) -> str:
    """The reply subject JetStream gives a consumed message; our handlers read delivery counts from it."""
    return f"$JS.ACK.{EVENTS_STREAM}.{DURABLE}.{delivered}.7.7.1767225600000000000.0"


@pytest.fixture
def store() -> MemoryTicketStore:
    return MemoryTicketStore()


@pytest.fixture
def dead_letters() -> list[DeadLetter]:
    return []


@pytest.fixture
def broker(store: MemoryTicketStore, dead_letters: list[DeadLetter]) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="intake-edge-test")
    bus.register(b, desk=Desk.on(store, MemoryOutbox()), settings=IntakeSettings(environment="test", max_deliver=MAX_DELIVER))

    # The in-memory broker routes a publish made with stream=... only to subscribers of that stream.
    @b.subscriber(subjects.deadletter_subject(subjects.TICKET_ASSIGNED), stream=deadletter_stream())
    async def capture(record: DeadLetter) -> None:
        dead_letters.append(record)

    return b


async def _open_ticket(store: MemoryTicketStore) -> Ticket:
    cmd = NewTicket(title="打印機卡紙", description="", requester=Requester(name="王小明"), channel="web", service_code="RS-REPAIR")
    ticket, _ = await service.open_ticket(cmd, desk=Desk.on(store, MemoryOutbox()), now=datetime.now(UTC), correlation_id="c")
    return ticket


def _assigned_envelope(ticket_id: str) -> Envelope:
    event = TicketAssignedV1(
        ticket_id=ticket_id, assignment_id="a-1", engineer_id="eng-onsite-1", engineer_name="陳志強",
        reason="skill match (printer), load 0/8, role onsite, score 15.00", assigned_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="dispatch", correlation_id="corr-1", subject_id=ticket_id)


async def _deliver(br: Any, body: bytes, *, delivered: int = 1) -> None:
    await br.publish(body, subject=subjects.TICKET_ASSIGNED, stream=EVENTS_STREAM, reply_to=_js_reply(delivered=delivered))


async def test_ticket_assigned_event_marks_ticket_assigned(broker, store) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open_ticket(store)
    async with TestNatsBroker(broker) as br:
        await _deliver(br, _assigned_envelope(ticket.id).to_wire())

    stored = await store.get(ticket.id)
    assert stored is not None
    assert stored.status == "assigned"
    assert stored.assignee is not None and stored.assignee.engineer_id == "eng-onsite-1"


async def test_redelivered_ticket_assigned_event_changes_ticket_once(broker, store) -> None:  # type: ignore[no-untyped-def]
    ticket = await _open_ticket(store)
    wire = _assigned_envelope(ticket.id).to_wire()
    async with TestNatsBroker(broker) as br:
        await _deliver(br, wire, delivered=1)
        await _deliver(br, wire, delivered=2)

    stored = await store.get(ticket.id)
    assert stored is not None
    assert stored.version == ticket.version + 1


async def test_invalid_payload_is_dead_lettered_at_once(broker, dead_letters: list[DeadLetter]) -> None:  # type: ignore[no-untyped-def]
    async with TestNatsBroker(broker) as br:
        await _deliver(br, b'{"type": "ticket.assigned", "version": 1, "data": {}}')

    assert [(d.reason, d.subject, d.consumer) for d in dead_letters] == [("invalid", subjects.TICKET_ASSIGNED, DURABLE)]


async def test_failing_handler_is_dead_lettered_on_last_delivery(broker, dead_letters: list[DeadLetter]) -> None:  # type: ignore[no-untyped-def]
    wire = _assigned_envelope("no-such-ticket").to_wire()
    async with TestNatsBroker(broker) as br:
        await _deliver(br, wire, delivered=MAX_DELIVER - 1)
        assert dead_letters == []  # not yet: it will be retried
        await _deliver(br, wire, delivered=MAX_DELIVER)

    assert len(dead_letters) == 1
    record = dead_letters[0]
    assert (record.reason, record.deliveries) == ("failed", MAX_DELIVER)
    assert "LookupError" in record.error
    assert Envelope.model_validate_json(record.payload).subject_id == "no-such-ticket"
