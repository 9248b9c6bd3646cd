"""The shared bus on a real nats-server: delivery, de-duplication, retries and dead letters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from opsdesk_devstack.testing import collect
from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher, subscribe_events
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects

pytestmark = pytest.mark.integration


def ticket_created(ticket_id: str = "t-1") -> Envelope:
    data = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="x", channel="web", service_code="RS-OTHER",
        requester=Requester(name="a"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(data, producer="test", correlation_id="cid-1", subject_id=ticket_id)


async def test_handler_receives_validated_payload_with_its_correlation_id(broker) -> None:
    seen: list[tuple[str, TicketCreatedV1]] = []

    async def handler(envelope: Envelope, data: TicketCreatedV1) -> None:
        from opsdesk_shared.logs import correlation_id

        seen.append((correlation_id.get() or "", data))

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-ok", handler=handler, max_deliver=3)
    await broker.start()
    event = ticket_created("t-ok")
    await JetStreamPublisher(broker).publish(event)
    for _ in range(100):
        if seen:
            break
        await asyncio.sleep(0.05)
    assert [(cid, d.ticket_id) for cid, d in seen] == [("cid-1", "t-ok")]


async def test_same_event_id_published_twice_is_stored_once(broker) -> None:
    event = ticket_created("t-dup")
    publisher = JetStreamPublisher(broker)
    await publisher.publish(event)
    await publisher.publish(event)
    info = await broker.config.connection_state.stream.stream_info(EVENTS_STREAM)
    assert info.state.messages == 1


async def test_poison_message_lands_on_dead_letter_subject_without_retries(broker) -> None:
    calls = 0

    async def handler(envelope: Envelope, data: TicketCreatedV1) -> None:
        nonlocal calls
        calls += 1

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-poison", handler=handler, max_deliver=3)
    await broker.start()
    await broker.publish(b"{not json", subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM)
    dead = await collect(broker, "deadletter.ticket.created", want=1)
    assert len(dead) == 1
    record = dead[0]["body"]
    assert record["reason"] == "invalid"
    assert record["payload"] == "{not json"
    assert record["consumer"] == "t-poison"
    assert record["deliveries"] == 1
    assert calls == 0


async def test_payload_that_breaks_the_contract_is_dead_lettered_with_the_field_error(broker) -> None:
    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-bad", handler=lambda e, d: asyncio.sleep(0), max_deliver=3)
    await broker.start()
    bad = ticket_created("t-bad").model_dump(mode="json")
    bad["data"]["channel"] = "carrier-pigeon"
    import json

    await broker.publish(json.dumps(bad).encode(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM)
    dead = await collect(broker, "deadletter.ticket.created", want=1)
    assert "channel" in dead[0]["body"]["error"]


async def test_failing_handler_is_retried_then_dead_lettered_after_max_deliver(broker) -> None:
    attempts = 0

    async def handler(envelope: Envelope, data: TicketCreatedV1) -> None:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("database on fire")

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-fail", handler=handler, max_deliver=3)
    await broker.start()
    await JetStreamPublisher(broker).publish(ticket_created("t-fail"))
    dead = await collect(broker, "deadletter.ticket.created", want=1, timeout=10)
    assert len(dead) == 1
    assert dead[0]["body"]["reason"] == "failed"
    assert "database on fire" in dead[0]["body"]["error"]
    assert dead[0]["body"]["deliveries"] == 3
    assert attempts == 3


async def test_handler_that_recovers_is_not_dead_lettered(broker) -> None:
    attempts = 0

    async def handler(envelope: Envelope, data: TicketCreatedV1) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 2:
            raise RuntimeError("transient")

    subscribe_events(broker, subject=subjects.TICKET_CREATED, durable="t-recover", handler=handler, max_deliver=3)
    await broker.start()
    await JetStreamPublisher(broker).publish(ticket_created("t-recover"))
    for _ in range(100):
        if attempts >= 2:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert attempts == 2
    assert await collect(broker, "deadletter.>", want=1, timeout=0.5) == []
