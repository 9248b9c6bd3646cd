"""assign_ticket on memory adapters: one assignment and one event per ticket, load kept."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import Actor, Assignment
from opsdesk_shared.contracts import TicketAssignedV1, TicketCreatedV1, subjects


async def _assign(created: TicketCreatedV1, roster, store, outbox, now: datetime, *, causation: str | None = "cause-1"):  # type: ignore[no-untyped-def]
    return await service.assign_ticket(
        created, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="corr-1", causation_id=causation
    )


@pytest.fixture
def roster(engineer) -> MemoryRoster:  # type: ignore[no-untyped-def]
    return MemoryRoster([engineer("eng-a"), engineer("eng-b")])


@pytest.fixture
def store() -> MemoryAssignmentStore:
    return MemoryAssignmentStore()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()


async def test_new_ticket_gets_assignment_and_one_assigned_event(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()

    assignment = await _assign(created, roster, store, outbox, now, causation="event-123")

    assert await store.get(created.ticket_id) == assignment
    assert len(outbox.published) == 1
    envelope = outbox.published[0]
    assert envelope.type == subjects.TICKET_ASSIGNED
    assert envelope.producer == "dispatch"
    assert envelope.subject_id == created.ticket_id
    assert envelope.correlation_id == "corr-1"
    assert envelope.causation_id == "event-123"
    payload = TicketAssignedV1.model_validate(envelope.data)
    assert payload.assignment_id == assignment.id
    assert payload.engineer_id == assignment.engineer_id


async def test_assigning_the_same_ticket_twice_assigns_once(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()

    first = await _assign(created, roster, store, outbox, now)
    second = await _assign(created, roster, store, outbox, now)

    assert second == first
    assert len(outbox.published) == 1
    loads = {e.id: e.open_load for e in await roster.engineers()}
    assert sum(loads.values()) == 1


class _SlowReadStore(MemoryAssignmentStore):
    """Answers reads a moment late, so concurrent handlers for one ticket all see it unassigned."""

    async def get(self, ticket_id: str) -> Assignment | None:
        found = await super().get(ticket_id)
        await asyncio.sleep(0)
        return found


async def test_concurrent_deliveries_of_one_ticket_assign_once(ticket, roster, outbox, now) -> None:  # type: ignore[no-untyped-def]
    store = _SlowReadStore()
    created = ticket()

    results = await asyncio.gather(*(_assign(created, roster, store, outbox, now) for _ in range(3)))

    assert {r.id for r in results} == {results[0].id}
    assert len(outbox.published) == 1
    assert sum(e.open_load for e in await roster.engineers()) == 1


async def test_assignment_raises_engineer_load(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    assignment = await _assign(ticket(), roster, store, outbox, now)
    loads = {e.id: e.open_load for e in await roster.engineers()}
    assert loads[assignment.engineer_id] == 1


async def test_next_ticket_goes_to_the_less_loaded_engineer(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    first = await _assign(ticket(), roster, store, outbox, now)
    second = await _assign(ticket(), roster, store, outbox, now)
    assert {first.engineer_id, second.engineer_id} == {"eng-a", "eng-b"}


async def test_no_engineer_available_waits_visibly_then_gets_one_when_someone_is_free(ticket, engineer, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    roster = MemoryRoster([engineer("eng-senior", role="senior")])
    created = ticket()

    waiting = await _assign(created, roster, store, outbox, now)

    assert waiting.status == "unassigned" and "no available engineer" in waiting.reason
    assert [e.type for e in outbox.published] == ["assignment.unassigned"]
    assert await service.assign_waiting(created.ticket_id, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c") is None
    await roster.save(engineer("eng-back"))
    assigned = await service.assign_waiting(created.ticket_id, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c")
    assert assigned is not None and assigned.engineer_id == "eng-back" and assigned.status == "open"
    assert [e.type for e in outbox.published] == ["assignment.unassigned", "ticket.assigned"]
    assert (await roster.engineers())[-1].open_load == 1
    assert await _assign(created, roster, store, outbox, now) == assigned  # a redelivered ticket.created changes nothing


async def test_redelivery_returns_the_assignment_even_when_nobody_is_free_now(ticket, engineer, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    roster = MemoryRoster([engineer("eng-a", capacity=1)])
    created = ticket()
    first = await _assign(created, roster, store, outbox, now)  # eng-a is now full

    again = await _assign(created, roster, store, outbox, now)

    assert again == first
    assert len(outbox.published) == 1


# --- the desk resolved or cancelled the ticket ---------------------------------------------------------------------

async def test_withdrawing_an_open_assignment_frees_the_engineer(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()
    assignment = await _assign(created, roster, store, outbox, now)

    outcome = await service.withdraw(created.ticket_id, number=created.number, status="resolved", by="agent1", roster=roster, assignments=store, now=now)

    assert outcome == "withdrawn"
    stored = await store.get(created.ticket_id)
    assert stored is not None and stored.status == "withdrawn" and stored.history[-1].action == "withdrawn"
    assert {e.id: e.open_load for e in await roster.engineers()}[assignment.engineer_id] == 0
    again = await service.withdraw(created.ticket_id, number=created.number, status="closed", by="agent1", roster=roster, assignments=store, now=now)
    assert again == "unchanged"


async def test_withdrawing_an_engineer_announces_it(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    """Issue 13 item 6: the withdrawal was silent, so the ticket kept showing the withdrawn engineer."""
    created = ticket()
    assignment = await _assign(created, roster, store, outbox, now)
    await service.withdraw(
        created.ticket_id, number=created.number, status="cancelled", by="agent1", roster=roster, assignments=store,
        now=now, outbox=outbox, correlation_id="corr-9",
    )
    withdrawn = [e for e in outbox.published if e.type == "assignment.withdrawn"]
    assert len(withdrawn) == 1 and withdrawn[0].correlation_id == "corr-9"
    assert withdrawn[0].data["engineer_id"] == assignment.engineer_id
    assert withdrawn[0].data["assignment_id"] == assignment.id
    await service.withdraw(created.ticket_id, number=created.number, status="closed", by="agent1", roster=roster, assignments=store, now=now, outbox=outbox)
    assert len([e for e in outbox.published if e.type == "assignment.withdrawn"]) == 1  # once


async def test_resolution_overtaking_ticket_created_assigns_nobody(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()
    assert await service.withdraw(created.ticket_id, number=created.number, status="resolved", by="agent1", roster=roster, assignments=store, now=now) == "remembered"

    late = await _assign(created, roster, store, outbox, now)

    assert late.status == "withdrawn" and late.engineer_id == ""
    assert outbox.published == []
    assert all(e.open_load == 0 for e in await roster.engineers())


async def test_completed_work_is_not_withdrawn(ticket, roster, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    created = ticket()
    held = await _assign(created, roster, store, outbox, now)
    engineer = Actor(subject="user-1", role="engineer", engineer_id=held.engineer_id)
    await service.complete(
        created.ticket_id, work_done="done", actor=engineer, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c"
    )

    assert await service.withdraw(created.ticket_id, number=created.number, status="closed", by="agent1", roster=roster, assignments=store, now=now) == "unchanged"
    stored = await store.get(created.ticket_id)
    assert stored is not None and stored.status == "completed"


async def test_waiting_ticket_withdrawn_leaves_the_waiting_room(ticket, engineer, store, outbox, now) -> None:  # type: ignore[no-untyped-def]
    roster = MemoryRoster([engineer("eng-senior", role="senior")])
    created = ticket()
    await _assign(created, roster, store, outbox, now)
    await service.withdraw(created.ticket_id, number=created.number, status="cancelled", by="agent1", roster=roster, assignments=store, now=now)
    await roster.save(engineer("eng-back"))

    assert await service.assign_waiting(created.ticket_id, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c") is None
