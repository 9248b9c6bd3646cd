"""Work awaiting the agency's authorization at dispatch's bus edge (in-memory broker): nobody is assigned on
ticket.created; ticket.authorized assigns once when the ticket waited for it, and not when the work went out already
(emergency work, a standing authorization)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from dispatch.entrypoints import bus
from dispatch.main import Adapters
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketCreatedV1, subjects
from opsdesk_shared.contracts.authorizations import TicketAuthorizedV1


@pytest.fixture
def broker(adapters: Adapters, settings: DispatchSettings) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="dispatch-authorization-test")
    bus.register(b, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox, settings=settings)
    return b


def _reply(durable: str) -> str:
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0"


def _created(ticket_id: str, **flags: bool) -> Envelope:
    event = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000011", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC), skill="printer", **flags,
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


def _authorized(ticket_id: str, *, dispatch: bool) -> Envelope:
    now = datetime.now(UTC)
    event = TicketAuthorizedV1(
        ticket_id=ticket_id, number="INC-2026-000011", title="服务器内存扩容", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=now, skill="printer", authorized_at=now, by="zhou",
        basis="decision", dispatch=dispatch,
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def _send(br: TestNatsBroker, envelope: Envelope, subject: str, durable: str) -> None:
    await br.publish(envelope.to_wire(), subject=subject, stream=EVENTS_STREAM, reply_to=_reply(durable))


async def test_nobody_is_dispatched_before_the_agency_authorizes(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    async with TestNatsBroker(broker) as br:
        await _send(br, _created(ticket_id, awaiting_authorization=True), subjects.TICKET_CREATED, "dispatch-ticket-created")
    assert await adapters.assignments.get(ticket_id) is None
    assert adapters.outbox.published == []


async def test_the_authorization_assigns_once(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    authorized = _authorized(ticket_id, dispatch=True)
    async with TestNatsBroker(broker) as br:
        await _send(br, _created(ticket_id, awaiting_authorization=True), subjects.TICKET_CREATED, "dispatch-ticket-created")
        for _ in range(2):  # a redelivery assigns nobody else
            await _send(br, authorized, subjects.TICKET_AUTHORIZED, "dispatch-ticket-authorized")
    assignment = await adapters.assignments.get(ticket_id)
    assert assignment is not None and assignment.engineer_id
    [assigned] = [e for e in adapters.outbox.published if e.type == subjects.TICKET_ASSIGNED]
    assert TicketAssignedV1.model_validate(assigned.data).ticket_id == ticket_id
    assert assigned.causation_id == str(authorized.event_id)


async def test_work_already_sent_out_is_not_assigned_again_by_its_authorization(broker, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    created = _created(ticket_id, emergency=True)
    async with TestNatsBroker(broker) as br:
        await _send(br, created, subjects.TICKET_CREATED, "dispatch-ticket-created")
        await _send(br, _authorized(ticket_id, dispatch=False), subjects.TICKET_AUTHORIZED, "dispatch-ticket-authorized")
    assigned = [e for e in adapters.outbox.published if e.type == subjects.TICKET_ASSIGNED]
    assert len(assigned) == 1 and assigned[0].causation_id == str(created.event_id)
