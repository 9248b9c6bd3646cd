"""Dispatch's bus edge on FastStream's in-memory broker: the catalog's skill from ticket.created decides the engineer;
the SLA monitor's sla.breached marks the assignment overdue (repair clocks and other timers change nothing)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from faststream.nats import NatsBroker, TestNatsBroker

from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import Engineer
from dispatch.entrypoints import bus
from dispatch.main import Adapters
from dispatch.settings import DispatchSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, EventData, Requester, SlaBreachedV1, TicketCreatedV1, subjects

ROSTER = (
    Engineer(id="eng-desktop", name="陳志強", role="onsite", skills=("desktop",)),
    Engineer(id="eng-network", name="黃偉明", role="onsite", skills=("network",), open_load=3),
)


def _adapters() -> Adapters:
    return Adapters(roster=MemoryRoster(ROSTER), assignments=MemoryAssignmentStore(), outbox=MemoryOutbox())


def _broker(adapters: Adapters, settings: DispatchSettings) -> NatsBroker:
    b = make_broker("nats://127.0.0.1:4222", name="dispatch-edge-test")
    bus.register(b, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox, settings=settings)
    return b


async def _deliver(br: NatsBroker, subject: str, event: EventData, *, subject_id: str, producer: str) -> None:
    envelope = Envelope.wrap(event, producer=producer, correlation_id=f"corr-{subject_id}", subject_id=subject_id)
    reply = f"$JS.ACK.{EVENTS_STREAM}.dispatch-edge.1.7.7.1767225600000000000.0"
    await br.publish(envelope.to_wire(), subject=subject, stream=EVENTS_STREAM, reply_to=reply)


def _created(*, skill: str | None) -> TicketCreatedV1:
    ticket_id = str(uuid.uuid4())
    return TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000031", title="網絡中斷", channel="hotline", service_code="RS-ONSITE",
        skill=skill, requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )


async def test_the_skill_in_ticket_created_picks_the_engineer(settings: DispatchSettings) -> None:
    adapters = _adapters()
    network, anything = _created(skill="network"), _created(skill=None)
    async with TestNatsBroker(_broker(adapters, settings)) as br:
        await _deliver(br, subjects.TICKET_CREATED, network, subject_id=network.ticket_id, producer="intake")
        await _deliver(br, subjects.TICKET_CREATED, anything, subject_id=anything.ticket_id, producer="intake")

    chosen = await adapters.assignments.get(network.ticket_id)
    assert chosen is not None and chosen.engineer_id == "eng-network"  # busier, but the only one with the skill
    assert chosen.skill == "network" and "skill match (network)" in chosen.reason
    unskilled = await adapters.assignments.get(anything.ticket_id)
    assert unskilled is not None and unskilled.engineer_id == "eng-desktop"  # no skill: the least loaded


async def test_a_breached_confirmation_marks_the_assignment_overdue(settings: DispatchSettings) -> None:
    adapters = _adapters()
    created = _created(skill="desktop")
    due = datetime.now(UTC) + timedelta(minutes=30)

    def breached(timer: str, *, repair_id: str | None = None) -> SlaBreachedV1:
        return SlaBreachedV1(
            ticket_id=created.ticket_id, timer=timer, started_at=due - timedelta(minutes=30), due_at=due, breached_at=due,
            repair_id=repair_id,
        )

    async with TestNatsBroker(_broker(adapters, settings)) as br:
        await _deliver(br, subjects.TICKET_CREATED, created, subject_id=created.ticket_id, producer="intake")
        for event in (breached("response"), breached("confirmation", repair_id="r-1")):
            await _deliver(br, subjects.SLA_BREACHED, event, subject_id=created.ticket_id, producer="sla-monitor")
        untouched = await adapters.assignments.get(created.ticket_id)
        for _ in range(2):  # redelivered: recorded once
            await _deliver(br, subjects.SLA_BREACHED, breached("confirmation"), subject_id=created.ticket_id, producer="sla-monitor")

    assert untouched is not None and not untouched.overdue and untouched.breaches == ()
    after = await adapters.assignments.get(created.ticket_id)
    assert after is not None and after.overdue
    assert [(b.timer, b.due_at) for b in after.breaches] == [("confirmation", due)]
