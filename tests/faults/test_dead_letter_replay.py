"""Dead letters an operator can act on, on a real NATS with the services' own users: knowledge's consumer gives up
on a healthy ticket.created while its handler is broken; the gateway's user reads the dead letter by id and, after
the "fix", replays it; knowledge's replay consumer hands it to that same consumer, which handles it once. A second
replay of the same id sends nothing; no other service's consumer sees the message again."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk_shared.bus import JetStreamPublisher, subscribe_events
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects
from opsdesk_shared.deadletters import DeadLetterReader, StoredDeadLetter, bind_replays, consumers

pytestmark = pytest.mark.integration
DURABLE = "knowledge-ticket-created"


async def _until(check: Callable[[], Awaitable[Any]], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        if found := await check():
            return found
        if time.monotonic() > deadline:
            raise AssertionError("not within the timeout")
        await asyncio.sleep(0.1)


def _created() -> Envelope:
    tid = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=tid, number="INC-2026-000412", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    return Envelope.wrap(event, producer="intake", correlation_id=tid, subject_id=tid)


async def test_a_dead_letter_replayed_after_the_fix_reaches_only_its_consumer_once(broker: Any, service_broker: Any) -> None:
    knowledge = await service_broker("knowledge")
    gateway = await service_broker("intake")
    broken = True
    handled: list[str] = []

    async def on_created(envelope: Envelope, _data: Any) -> None:
        if broken:
            raise RuntimeError("problem candidate store unavailable (planted)")
        handled.append(str(envelope.event_id))

    subscribe_events(knowledge, subject=subjects.TICKET_CREATED, durable=DURABLE, handler=on_created, max_deliver=2)
    assert DURABLE in consumers(knowledge)
    await bind_replays(knowledge, service="knowledge")
    await bind_replays(gateway, service="intake")  # declares the replay stream as the gateway would at start-up
    await knowledge.start()

    envelope = _created()
    await JetStreamPublisher(broker).publish(envelope)
    reader = DeadLetterReader(gateway)

    async def dead() -> list[StoredDeadLetter]:
        found: list[StoredDeadLetter] = (await reader.scan(keep=lambda d: d.record.consumer == DURABLE))[0]
        return found

    [item] = await _until(dead)
    assert item.service == "knowledge" and item.record.subject == "ticket.created" and item.record.reason == "failed"
    assert (await reader.get(item.id)) == item
    assert await reader.get(item.id + 1000) is None

    broken = False  # the fix
    subject = await reader.replay(item)
    assert subject == "replay.knowledge.knowledge-ticket-created"
    await _until(lambda: asyncio.sleep(0, result=handled))
    assert handled == [str(envelope.event_id)]

    await reader.replay(item)  # the same id again: JetStream drops it as a duplicate
    await asyncio.sleep(2.0)
    assert handled == [str(envelope.event_id)]
    assert len(await dead()) == 1, "the successful replay dead-lettered nothing new"


async def test_a_replay_that_fails_again_is_a_new_dead_letter_naming_the_same_consumer(broker: Any, service_broker: Any) -> None:
    knowledge = await service_broker("knowledge")
    gateway = await service_broker("intake")

    async def always_fails(_envelope: Envelope, _data: Any) -> None:
        raise RuntimeError("still broken (planted)")

    subscribe_events(knowledge, subject=subjects.TICKET_CREATED, durable=DURABLE, handler=always_fails, max_deliver=1)
    await bind_replays(knowledge, service="knowledge")
    await knowledge.start()
    await JetStreamPublisher(broker).publish(_created())
    reader = DeadLetterReader(gateway)

    async def dead() -> list[StoredDeadLetter]:
        found: list[StoredDeadLetter] = (await reader.scan(keep=lambda d: d.record.consumer == DURABLE))[0]
        return found

    [first] = await _until(dead)
    await reader.replay(first)
    found = await _until(lambda: _more_than(dead, 1))
    again = found[-1]
    assert again.id > first.id and again.record.consumer == DURABLE and again.service == "knowledge"
    assert again.record.subject == "replay.knowledge.knowledge-ticket-created"
    assert again.record.payload == first.record.payload


async def _more_than(read: Callable[[], Awaitable[list[StoredDeadLetter]]], n: int) -> list[StoredDeadLetter] | None:
    found = await read()
    return found if len(found) > n else None


async def test_only_the_gateway_reads_dead_letters_and_sends_replays(service_broker: Any) -> None:
    """The gateway (operates_dead_letters) reads the stream by id and sends replays; any other service is refused
    by the server (a refused request or publish gets no answer: a timeout)."""
    import nats.errors

    gateway, dispatch = await service_broker("intake"), await service_broker("dispatch")
    assert await DeadLetterReader(gateway).get(1) is None  # allowed: there is simply no record 1
    with pytest.raises(nats.errors.TimeoutError):
        await DeadLetterReader(dispatch).get(1)
    with pytest.raises(nats.errors.TimeoutError):
        await dispatch.publish(b"{}", subject="replay.knowledge.knowledge-ticket-created", stream="OPSDESK_REPLAY", timeout=2.0)
