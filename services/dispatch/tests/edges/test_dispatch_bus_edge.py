"""Dispatch's bus edge on FastStream's in-memory broker: each ticket.created gets one assignment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from dispatch.adapters.memory import MemoryRoster
from dispatch.entrypoints import bus
from dispatch.main import Adapters
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, deadletter_stream, make_broker
from opsdesk_shared.contracts import DeadLetter, Envelope, Requester, TicketAssignedV1, TicketCreatedV1, subjects

DURABLE = "dispatch-ticket-created"


def _js_reply(*, delivered: int) -> str:
    """The reply subject JetStream gives a consumed message; the handler reads the delivery count from it."""
    return f"$JS.ACK.{EVENTS_STREAM}.{DURABLE}.{delivered}.7.7.1767225600000000000.0"


@pytest.fixture
def dead_letters() -> list[DeadLetter]:
    return []


def _broker(adapters: Adapters, settings: DispatchSettings, dead_letters: list[DeadLetter]) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="dispatch-edge-test")
    bus.register(b, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox, settings=settings)

    @b.subscriber(subjects.deadletter_subject(subjects.TICKET_CREATED), stream=deadletter_stream())
    async def capture(record: DeadLetter) -> None:
        dead_letters.append(record)

    return b


@pytest.fixture
def broker(adapters, settings, dead_letters) -> NatsBroker:  # type: ignore[no-untyped-def]
    return _broker(adapters, settings, dead_letters)


def _created(service_code: str = "RS-REPAIR") -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="打印機卡紙", channel="hotline",
        service_code=service_code, requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def _deliver(br: Any, envelope: Envelope, *, delivered: int = 1) -> None:
    await br.publish(envelope.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, reply_to=_js_reply(delivered=delivered))


async def test_ticket_created_gets_an_assignment_announced(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    envelope = _created()
    async with TestNatsBroker(broker) as br:
        await _deliver(br, envelope)

    assignment = await adapters.assignments.get(envelope.subject_id)
    assert assignment is not None
    assert len(adapters.outbox.published) == 1
    assigned = adapters.outbox.published[0]
    assert assigned.correlation_id == envelope.correlation_id
    assert assigned.causation_id == str(envelope.event_id)
    assert TicketAssignedV1.model_validate(assigned.data).assignment_id == assignment.id


async def test_redelivered_ticket_created_is_assigned_once(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    envelope = _created()
    async with TestNatsBroker(broker) as br:
        await _deliver(br, envelope, delivered=1)
        await _deliver(br, envelope, delivered=2)

    assert len(adapters.outbox.published) == 1
    assert sum(e.open_load for e in await adapters.roster.engineers()) == 1


async def test_no_engineer_available_is_said_at_once_and_not_dead_lettered(settings, dead_letters) -> None:  # type: ignore[no-untyped-def]
    from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox
    from dispatch.domain import Engineer

    nobody = Adapters(
        roster=MemoryRoster([Engineer(id="eng-pm", name="PM", role="project_manager")]),
        assignments=MemoryAssignmentStore(),
        outbox=MemoryOutbox(),
    )
    envelope = _created()
    async with TestNatsBroker(_broker(nobody, settings, dead_letters)) as br:
        await _deliver(br, envelope, delivered=1)

    assert dead_letters == []
    assert [e.type for e in nobody.outbox.published] == ["assignment.unassigned"]
    waiting = await nobody.assignments.get(envelope.subject_id)
    assert waiting is not None and waiting.status == "unassigned" and waiting.engineer_id == ""
