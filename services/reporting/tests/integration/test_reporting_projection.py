"""EventProjection contract, run against the memory projection and MongoEventProjection on the real database."""

from __future__ import annotations

from typing import Any

import pytest

from reporting import domain, service
from reporting.adapters.mongo import MongoEventProjection
from reporting.domain import Tally

pytestmark = pytest.mark.integration


async def test_recording_the_same_event_twice_returns_false(projection: Any, ticket_created: Any) -> None:
    envelope, data = ticket_created()
    keys = domain.counter_keys(envelope, data)

    assert await projection.record(envelope, keys) is True
    assert await projection.record(envelope, keys) is False

    assert await projection.counts() == {keys[0]: 1}


async def test_counts_of_an_empty_projection_is_empty(projection: Any) -> None:
    assert await projection.counts() == {}


async def test_counts_aggregate_keys_across_events(projection: Any, ticket_created: Any) -> None:
    a, b, c = (ticket_created()[0] for _ in range(3))
    await projection.record(a, ["k1", "k2"])
    await projection.record(b, ["k1"])
    await projection.record(c, ["k2", "k3"])

    assert await projection.counts() == {"k1": 2, "k2": 2, "k3": 1}


async def test_an_event_without_keys_is_recorded_but_counts_nothing(projection: Any, ticket_created: Any) -> None:
    envelope, _ = ticket_created()

    assert await projection.record(envelope, []) is True
    assert await projection.record(envelope, []) is False

    assert await projection.counts() == {}


async def test_rebuilt_tally_equals_the_live_tally(
    projection: Any, ticket_created: Any, ticket_assigned: Any, sla_breached: Any, repair_updated: Any
) -> None:
    live = Tally()
    events = [
        ticket_created(channel="web"), ticket_created(channel="web"), ticket_created(channel="walk_in", service_code="NET"),
        ticket_assigned(engineer_id="eng-1"), sla_breached(), repair_updated(status="open"), repair_updated(status="open"),
    ]
    for envelope, data in [*events, events[1], events[3]]:  # two redeliveries
        await service.project_event(envelope, data, projection=projection, tally=live)

    rebuilt = await service.rebuild_tally(projection=projection)

    assert rebuilt.counts == live.counts
    assert sum(rebuilt.counts.values()) == len(events)


async def test_mongo_stores_the_event_by_its_id(mongo_projection: MongoEventProjection, mongo_db: Any, sla_breached: Any) -> None:
    envelope, data = sla_breached()

    await mongo_projection.record(envelope, domain.counter_keys(envelope, data))

    doc = await mongo_db["events"].find_one({"_id": str(envelope.event_id)})
    assert (doc["type"], doc["subject_id"], doc["producer"], doc["keys"]) == (
        "sla.breached", envelope.subject_id, "sla-monitor", ['["sla_breaches",["response"]]']
    )
    assert doc["data"] == envelope.data
