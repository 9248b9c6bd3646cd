"""Reporting use cases on the memory projection: count once per event, and rebuild to the same totals."""

from __future__ import annotations

from typing import Any

from reporting import domain, service
from reporting.adapters.memory import MemoryEventProjection
from reporting.domain import Tally


async def test_project_event_records_and_counts_a_new_event(ticket_created: Any) -> None:
    projection, tally = MemoryEventProjection(), Tally()
    envelope, data = ticket_created(channel="web", service_code="RS-REPAIR")

    assert await service.project_event(envelope, data, projection=projection, tally=tally) is True

    assert dict(tally.counts) == {'["tickets_created",["web","RS-REPAIR"]]': 1}
    assert str(envelope.event_id) in projection.events


async def test_project_event_counts_a_redelivered_event_once(ticket_created: Any) -> None:
    projection, tally = MemoryEventProjection(), Tally()
    envelope, data = ticket_created()

    first = await service.project_event(envelope, data, projection=projection, tally=tally)
    second = await service.project_event(envelope, data, projection=projection, tally=tally)

    assert (first, second) == (True, False)
    assert sum(tally.counts.values()) == 1


async def test_distinct_events_with_the_same_labels_each_count(ticket_created: Any) -> None:
    projection, tally = MemoryEventProjection(), Tally()

    for _ in range(3):
        await service.project_event(*ticket_created(channel="email"), projection=projection, tally=tally)

    assert tally.counts[domain.counter_key("tickets_created", channel="email", service_code="RS-REPAIR")] == 3


async def test_rebuilt_tally_equals_the_live_tally(
    ticket_created: Any, ticket_assigned: Any, sla_breached: Any, repair_updated: Any
) -> None:
    projection, live = MemoryEventProjection(), Tally()
    events = [
        ticket_created(channel="web"), ticket_created(channel="web"), ticket_created(channel="hotline"),
        ticket_assigned(engineer_id="eng-1"), ticket_assigned(engineer_id="eng-2"), sla_breached(),
        repair_updated(status="open"), repair_updated(status="closed"),
    ]
    for envelope, data in [*events, events[0], events[5]]:  # two redeliveries
        await service.project_event(envelope, data, projection=projection, tally=live)

    rebuilt = await service.rebuild_tally(projection=projection)

    assert rebuilt.counts == live.counts
    assert rebuilt.summary() == live.summary()
    assert sum(live.counts.values()) == len(events)


async def test_rebuild_of_an_empty_projection_is_empty() -> None:
    rebuilt = await service.rebuild_tally(projection=MemoryEventProjection())

    assert not rebuilt.counts
