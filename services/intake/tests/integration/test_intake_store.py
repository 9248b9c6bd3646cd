"""One suite for every TicketStore: memory and Mongo must behave alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from intake.domain import Assignee, StatusChange
from intake.ports import ConcurrentUpdate

pytestmark = pytest.mark.integration


async def test_added_ticket_reads_back_equal_with_aware_datetimes(store, make_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket = make_ticket()

    assert await store.add(ticket, []) is True
    loaded = await store.get(ticket.id)

    assert loaded == ticket
    assert loaded is not None
    assert loaded.reported_at.tzinfo is not None
    assert loaded.created_at.tzinfo is not None
    assert loaded.reported_at == datetime(2026, 3, 14, 9, 0, 0, 456000, tzinfo=UTC)
    assert loaded.history[0].at.utcoffset() is not None


async def test_missing_ticket_reads_as_none(store) -> None:  # type: ignore[no-untyped-def]
    assert await store.get("no-such-ticket") is None


async def test_adding_the_same_ticket_id_twice_keeps_the_first(store, make_ticket) -> None:  # type: ignore[no-untyped-def]
    first = make_ticket(id="same-id", number="INC-2026-000001")
    second = make_ticket(id="same-id", number="INC-2026-000002", title="another")

    assert await store.add(first, []) is True
    assert await store.add(second, []) is False
    assert await store.get("same-id") == first


async def test_concurrent_next_number_calls_get_distinct_numbers(store) -> None:  # type: ignore[no-untyped-def]
    numbers = await asyncio.gather(*(store.next_number("INC-2026") for _ in range(50)))
    assert sorted(numbers) == list(range(1, 51))


async def test_number_series_count_independently(store) -> None:  # type: ignore[no-untyped-def]
    assert [await store.next_number("INC-2026"), await store.next_number("INC-2026")] == [1, 2]
    assert await store.next_number("INC-2027") == 1
    assert await store.next_number("INC-2026") == 3


async def test_save_bumps_the_version_and_keeps_changes(store, make_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket = make_ticket()
    await store.add(ticket, [])
    at = datetime(2026, 3, 14, 10, 0, 0, 789000, tzinfo=UTC)
    assignee = Assignee(assignment_id="a-1", engineer_id="eng-onsite-1", engineer_name="陳志強", reason="score 15.00", assigned_at=at)
    changed = ticket.model_copy(
        update={"status": "assigned", "assignee": assignee, "history": (*ticket.history, StatusChange(status="assigned", at=at, by="dispatch"))}
    )

    await store.save(changed)

    loaded = await store.get(ticket.id)
    assert loaded == changed.model_copy(update={"version": ticket.version + 1})


async def test_save_with_stale_version_raises_concurrent_update(store, make_ticket) -> None:  # type: ignore[no-untyped-def]
    ticket = make_ticket()
    await store.add(ticket, [])
    await store.save(ticket.model_copy(update={"title": "first writer"}))

    with pytest.raises(ConcurrentUpdate):
        await store.save(ticket.model_copy(update={"title": "second writer"}))

    loaded = await store.get(ticket.id)
    assert loaded is not None
    assert (loaded.title, loaded.version) == ("first writer", ticket.version + 1)


async def test_save_of_unknown_ticket_raises_concurrent_update(store, make_ticket) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConcurrentUpdate):
        await store.save(make_ticket(id="never-added"))
