"""Use cases behind the lists and ticket numbers, on memory adapters: a number acts like the id; breaches recorded."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE, Actor

DESK = Actor(subject="desk-王", role="agent")


@pytest.fixture
def adapters() -> tuple[MemoryRoster, MemoryAssignmentStore, MemoryOutbox]:
    return MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE), MemoryAssignmentStore(), MemoryOutbox()


async def test_a_step_taken_by_ticket_number_acts_on_the_tickets_assignment(adapters, ticket, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox = adapters
    t = ticket(number="INC-2026-000009")
    a = await service.assign_ticket(t, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)

    done = await service.confirm("INC-2026-000009", eta=None, actor=DESK, assignments=store, outbox=outbox, now=now, correlation_id="c")

    assert done.ticket_id == t.ticket_id and done.status == "confirmed"
    assert outbox.published[-1].subject_id == t.ticket_id  # events name intake's id, never the number
    assert (await service.read_assignment("INC-2026-000009", actor=DESK, assignments=store)).id == a.id


async def test_an_unknown_number_is_unknown(adapters) -> None:  # type: ignore[no-untyped-def]
    _, store, outbox = adapters
    with pytest.raises(service.UnknownAssignment):
        await service.read_assignment("INC-2026-999999", actor=DESK, assignments=store)


async def test_an_engineer_without_a_roster_link_gets_an_empty_list(adapters, ticket, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox = adapters
    await service.assign_ticket(ticket(), roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)
    unlinked = Actor(subject="new.hire", role="engineer")
    items, cursor = await service.list_assignments(
        actor=unlinked, engineers=None, statuses=None, overdue=None, ticket=None, cursor=None, limit=10, assignments=store,
    )
    assert items == [] and cursor is None


async def test_a_breach_is_recorded_once_and_lists_the_assignment_as_overdue(adapters, ticket, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox = adapters
    a = await service.assign_ticket(ticket(), roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)
    due = now + timedelta(minutes=30)

    first = await service.record_breach(a.ticket_id, timer="confirmation", due_at=due, breached_at=due, assignments=store)
    again = await service.record_breach(a.ticket_id, timer="confirmation", due_at=due, breached_at=due, assignments=store)
    unknown = await service.record_breach("no-such-ticket", timer="confirmation", due_at=due, breached_at=due, assignments=store)

    assert first is not None and first.overdue and again is None and unknown is None
    items, _ = await service.list_assignments(
        actor=DESK, engineers=None, statuses=None, overdue=True, ticket=None, cursor=None, limit=10, assignments=store,
    )
    assert [i.ticket_id for i in items] == [a.ticket_id]
