"""Reporting on real NATS JetStream and the real database: each event counts once, however often it arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from opsdesk_shared.bus import EVENTS_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import subjects
from reporting import domain, service
from reporting.adapters.memory import MemoryReadModels
from reporting.adapters.mongo import MongoEventProjection
from reporting.domain import Tally
from reporting.entrypoints import bus
from reporting.rebuild import Projection
from reporting.settings import ReportingSettings

pytestmark = pytest.mark.integration

DURABLE = "reporting-ticket"


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 5.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def all_consumed(broker: Any, *, at_least: int) -> bool:
    """The durable consumer has been handed at least `at_least` messages and has acked every one of them."""
    info = await broker.config.connection_state.stream.consumer_info(EVENTS_STREAM, DURABLE)
    return info.delivered.stream_seq >= at_least and info.num_pending == 0 and info.num_ack_pending == 0


async def test_ticket_created_published_twice_with_one_event_id_counts_once(
    broker: Any, mongo_projection: MongoEventProjection, ticket_created: Any
) -> None:
    tally = Tally()
    bus.register(broker, projection=mongo_projection, tally=tally, holder=Projection(models=MemoryReadModels(), generation=1),
                 settings=ReportingSettings(max_deliver=3, ack_wait_s=5))
    await broker.start()
    publisher = JetStreamPublisher(broker)
    (first, first_data), (other, _) = ticket_created(channel="web"), ticket_created(channel="web")

    await publisher.publish(first)
    await publisher.publish(first)  # same event id: JetStream drops it by Nats-Msg-Id
    await publisher.publish(other)
    await eventually(lambda: all_consumed(broker, at_least=2))

    key = domain.counter_key("tickets_created", channel="web", service_code="RS-REPAIR")
    info = await broker.config.connection_state.stream.stream_info(EVENTS_STREAM)
    assert info.state.messages == 2
    assert tally.counts == {key: 2}
    assert await mongo_projection.counts() == {key: 2}

    # The same event under a new message id reaches the handler: the projection must absorb it.
    await broker.publish(first.to_wire(), subject=subjects.TICKET_CREATED, stream=EVENTS_STREAM, headers={"Nats-Msg-Id": "redelivery"})
    await eventually(lambda: all_consumed(broker, at_least=3))
    assert tally.counts == {key: 2}

    # And straight through the use case the bus handler calls, twice.
    again = [await service.project_event(first, first_data, projection=mongo_projection, tally=tally) for _ in range(2)]
    assert again == [False, False]
    assert tally.counts == {key: 2}
    assert (await service.rebuild_tally(projection=mongo_projection)).counts == tally.counts
    assert (await broker.config.connection_state.stream.stream_info("OPSDESK_DEADLETTER")).state.messages == 0


async def test_every_consumed_event_type_is_counted(
    broker: Any, mongo_projection: MongoEventProjection, ticket_assigned: Any, sla_breached: Any, repair_updated: Any
) -> None:
    tally = Tally()
    bus.register(broker, projection=mongo_projection, tally=tally, holder=Projection(models=MemoryReadModels(), generation=1),
                 settings=ReportingSettings(max_deliver=3, ack_wait_s=5))
    await broker.start()
    publisher = JetStreamPublisher(broker)

    for envelope, _ in (ticket_assigned(engineer_id="eng-9"), sla_breached(), repair_updated(status="closed")):
        await publisher.publish(envelope)

    expected = {'["tickets_assigned",["eng-9"]]': 1, '["sla_breaches",["response"]]': 1, '["repair_updates",["closed"]]': 1}

    async def counted() -> bool:
        return dict(tally.counts) == expected

    await eventually(counted)
    assert await mongo_projection.counts() == expected
