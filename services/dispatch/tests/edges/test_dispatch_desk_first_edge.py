"""Desk-first tickets at dispatch's bus edge (in-memory broker): nobody is assigned on ticket.created; the desk's
hand-over (ticket.dispatch_requested) assigns once, and the engineer's load starts only then."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from dispatch.entrypoints import bus
from dispatch.main import Adapters
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import (
    Envelope,
    Requester,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketDispatchRequestedV1,
    subjects,
)


@pytest.fixture
def broker(adapters: Adapters, settings: DispatchSettings) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="dispatch-desk-first-test")
    bus.register(b, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox, settings=settings)
    return b


def _reply(durable: str) -> str:
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0"


def _created(ticket_id: str) -> Envelope:
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000007", title="VPN 无法连接", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC), skill="printer", desk_first=True,
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


def _requested(ticket_id: str) -> Envelope:
    now = datetime.now(UTC)
    event = TicketDispatchRequestedV1(
        ticket_id=ticket_id, number="INC-2026-000007", title="VPN 无法连接", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=now, skill="printer", reason="window_elapsed", requested_at=now, by="intake",
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def _load(adapters: Adapters) -> int:
    return sum(e.open_load for e in await adapters.roster.engineers())


async def test_no_assignment_on_a_desk_first_ticket_created(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    before = await _load(adapters)
    async with TestNatsBroker(broker) as br:
        await br.publish(_created(ticket_id).to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM,
                         reply_to=_reply("dispatch-ticket-created"))
    assert await adapters.assignments.get(ticket_id) is None
    assert adapters.outbox.published == []
    assert await _load(adapters) == before


async def test_the_hand_over_assigns_once(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    before = await _load(adapters)
    requested = _requested(ticket_id)
    async with TestNatsBroker(broker) as br:
        await br.publish(_created(ticket_id).to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM,
                         reply_to=_reply("dispatch-ticket-created"))
        for _ in range(2):  # a redelivery assigns nobody else
            await br.publish(requested.to_wire(), subject=subjects.TICKET_DISPATCH_REQUESTED, stream=EVENTS_STREAM,
                             reply_to=_reply("dispatch-dispatch-requested"))
    assignment = await adapters.assignments.get(ticket_id)
    assert assignment is not None and assignment.engineer_id and assignment.skill == "printer"
    [assigned] = [e for e in adapters.outbox.published if e.type == subjects.TICKET_ASSIGNED]
    assert TicketAssignedV1.model_validate(assigned.data).ticket_id == ticket_id
    assert assigned.causation_id == str(requested.event_id)
    assert await _load(adapters) == before + 1
