"""The list queries on both stores (the memory store and the real database): filters, order, cursor pages, numbers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch import service
from dispatch.domain import Actor, Assignment, Breach, Escalation
from dispatch.ports import AssignmentStore

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
DESK = Actor(subject="desk-王", role="agent")


async def _list(assignments: AssignmentStore, *, actor: Actor = DESK, limit: int = 50, **kw: Any) -> tuple[list[Assignment], str | None]:
    args: dict[str, Any] = {"engineers": None, "statuses": None, "overdue": None, "ticket": None, "cursor": None, **kw}
    return await service.list_assignments(actor=actor, limit=limit, assignments=assignments, **args)


async def test_cursor_pages_walk_every_assignment_once_newest_ticket_first(  # type: ignore[no-untyped-def]
    assignments, make_assignment: Callable[..., Assignment],
) -> None:
    made = [make_assignment() for _ in range(7)]
    for a in reversed(made):  # stored out of order: the order is the query's, not the insertion's
        assert await assignments.add(a, [])

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = await _list(assignments, limit=3, cursor=cursor)
        seen += [a.ticket_number for a in page]
        pages += 1
        if cursor is None:
            break

    assert seen == sorted((a.ticket_number for a in made), reverse=True)
    assert pages == 3
    assert (await _list(assignments, limit=7))[1] is None  # an exact last page says so


async def test_filters_by_engineer_status_overdue_and_ticket(assignments, make_assignment: Callable[..., Assignment]) -> None:  # type: ignore[no-untyped-def]
    breach = Breach(timer="confirmation", due_at=T0 + timedelta(minutes=30), breached_at=T0 + timedelta(minutes=31))
    mine = make_assignment(engineer_id="eng-onsite-1")
    late = make_assignment(engineer_id="eng-onsite-1", breaches=(breach,))
    confirmed_late = make_assignment(engineer_id="eng-onsite-1", status="confirmed", breaches=(breach,))
    theirs = make_assignment(engineer_id="eng-onsite-2", engineer_name="李嘉欣", status="accepted")
    for a in (mine, late, confirmed_late, theirs):
        assert await assignments.add(a, [])

    def numbers(rows: list[Assignment]) -> set[str]:
        return {a.ticket_number for a in rows}

    assert numbers((await _list(assignments, engineers=["eng-onsite-2"]))[0]) == {theirs.ticket_number}
    assert numbers((await _list(assignments, statuses=["open", "accepted"]))[0]) == numbers([mine, late, theirs])
    assert numbers((await _list(assignments, overdue=True))[0]) == {late.ticket_number}
    assert numbers((await _list(assignments, overdue=False))[0]) == numbers([mine, confirmed_late, theirs])
    assert numbers((await _list(assignments, ticket=late.ticket_number))[0]) == {late.ticket_number}
    assert numbers((await _list(assignments, ticket=late.ticket_id))[0]) == {late.ticket_number}
    engineer = Actor(subject="li.jx", role="engineer", engineer_id="eng-onsite-2")
    assert numbers((await _list(assignments, actor=engineer))[0]) == {theirs.ticket_number}


async def test_overdue_is_stored_by_save_as_the_state_changes(assignments, make_assignment: Callable[..., Assignment]) -> None:  # type: ignore[no-untyped-def]
    a = make_assignment()
    assert await assignments.add(a, [])
    stored = await service.record_breach(a.ticket_id, timer="confirmation", due_at=T0, breached_at=T0, assignments=assignments)
    assert stored is not None
    assert [x.ticket_id for x in (await _list(assignments, overdue=True))[0]] == [a.ticket_id]

    await assignments.save(stored.model_copy(update={"status": "confirmed"}), [])

    assert (await _list(assignments, overdue=True))[0] == []


async def test_by_number_finds_the_tickets_assignment(assignments, make_assignment: Callable[..., Assignment]) -> None:  # type: ignore[no-untyped-def]
    a = make_assignment()
    assert await assignments.add(a, [])
    assert await assignments.by_number(a.ticket_number) == a
    assert await assignments.by_number("INC-1999-000001") is None


async def test_escalations_by_status(assignments, make_assignment: Callable[..., Assignment]) -> None:  # type: ignore[no-untyped-def]
    open_one = Escalation(id="e-open", kind="other", description="d", notify=("eng-pm-1",), raised_at=T0)
    acked = open_one.model_copy(update={"id": "e-acked", "acknowledged_at": T0, "acknowledged_by": "pm"})
    with_open = make_assignment(escalations=(acked, open_one))
    only_acked = make_assignment(escalations=(acked.model_copy(update={"id": "e-acked-2"}),))
    without = make_assignment()
    for a in (with_open, only_acked, without):
        assert await assignments.add(a, [])

    assert {a.ticket_id for a in await assignments.with_escalations("open")} == {with_open.ticket_id}
    assert {a.ticket_id for a in await assignments.with_escalations("acknowledged")} == {with_open.ticket_id, only_acked.ticket_id}
    views, _ = await service.list_escalations(actor=DESK, status="open", cursor=None, limit=10, assignments=assignments)
    assert [v.id for v in views] == ["e-open"]


async def test_an_escalation_is_closed_when_its_ticket_ends_and_the_assignment_is_withdrawn(  # type: ignore[no-untyped-def]
    assignments, make_assignment: Callable[..., Assignment]
) -> None:
    """Hand walk H14 item 3: resolved at the desk, the assignment withdrawn, the escalation stayed on the open list."""
    from dispatch.adapters.memory import MemoryRoster

    raised = Escalation(id="e-walk", kind="technical", description="主板故障", notify=("eng-pm-1",), raised_at=T0)
    held = make_assignment(escalations=(raised,), status="accepted")
    assert await assignments.add(held, [])
    views, _ = await service.list_escalations(actor=DESK, status="open", cursor=None, limit=10, assignments=assignments)
    assert [v.id for v in views] == ["e-walk"]

    ended = T0 + timedelta(hours=1)
    assert await service.withdraw(held.ticket_id, number=held.ticket_number, status="resolved", by="agent1",
                                  roster=MemoryRoster([]), assignments=assignments, now=ended) == "withdrawn"

    assert await service.list_escalations(actor=DESK, status="open", cursor=None, limit=10, assignments=assignments) == ([], None)
    closed, _ = await service.list_escalations(actor=DESK, status="closed", cursor=None, limit=10, assignments=assignments)
    assert [(v.id, v.closed_at, v.acknowledged_at) for v in closed] == [("e-walk", ended, None)]
    assert closed[0].closed_reason is not None and "resolved" in closed[0].closed_reason and not closed[0].overdue


async def test_an_escalation_of_an_assignment_withdrawn_before_the_fix_reads_as_closed(  # type: ignore[no-untyped-def]
    assignments, make_assignment: Callable[..., Assignment]
) -> None:
    raised = Escalation(id="e-old", kind="other", description="d", notify=("eng-pm-1",), raised_at=T0)
    old = make_assignment(escalations=(raised,), status="withdrawn")
    assert await assignments.add(old, [])
    assert await service.list_escalations(actor=DESK, status="open", cursor=None, limit=10, assignments=assignments) == ([], None)
    closed, _ = await service.list_escalations(actor=DESK, status="closed", cursor=None, limit=10, assignments=assignments)
    assert [v.id for v in closed] == ["e-old"]
