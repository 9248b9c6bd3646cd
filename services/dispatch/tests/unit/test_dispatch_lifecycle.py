"""After assignment: accept, confirm, delay and re-dispatch, override, escalate, acknowledge, complete."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch import domain, service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE, Actor, Assignment, Forbidden, IllegalStep
from opsdesk_shared.contracts import ServiceRecordReviewedV1

DESK = Actor(subject="desk-王", role="agent")
PM = Actor(subject="liu.ml", role="engineer", engineer_id="eng-pm-1")


def holder(a: Assignment) -> Actor:
    """The user of role engineer linked to the engineer the assignment is with."""
    return Actor(subject=f"user-{a.engineer_id}", role="engineer", engineer_id=a.engineer_id)


@pytest.fixture
async def assigned(ticket, now: datetime):  # type: ignore[no-untyped-def]
    roster, store, outbox = MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE), MemoryAssignmentStore(), MemoryOutbox()
    t = ticket(service_code="RS-REPAIR")
    a = await service.assign_ticket(t, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)
    return roster, store, outbox, a


def ctx(now: datetime, minutes: int = 1) -> dict[str, object]:
    return {"now": now + timedelta(minutes=minutes), "correlation_id": "c"}


async def test_accept_then_confirm_with_eta_records_both_steps(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    await service.accept(a.ticket_id, actor=holder(a), assignments=store, outbox=outbox, **ctx(now, 2))
    eta = now + timedelta(minutes=25)
    done = await service.confirm(a.ticket_id, eta=eta, actor=DESK, assignments=store, outbox=outbox, **ctx(now, 5))
    assert done.status == "confirmed" and done.eta == eta
    assert [(s.action, s.by) for s in done.history] == [("assigned", "dispatch"), ("accepted", holder(a).subject), ("confirmed", "desk-王")]
    assert [e.type for e in outbox.published[-2:]] == ["assignment.accepted", "assignment.confirmed"]


async def test_only_the_assigned_engineer_can_accept(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    _, store, outbox, a = assigned
    colleague = Actor(subject="user-other", role="engineer", engineer_id="eng-someone-else")
    for actor in (colleague, DESK):
        with pytest.raises(Forbidden):
            await service.accept(a.ticket_id, actor=actor, assignments=store, outbox=outbox, **ctx(now))
    assert (await store.get(a.ticket_id)) == a and outbox.published[-1].type == "ticket.assigned"


async def test_a_delay_re_dispatches_to_another_engineer_and_moves_the_load(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    before = {e.id: e.open_load for e in await roster.engineers()}
    moved = await service.delay(
        a.ticket_id, reason="車輛故障", cannot_go=True, actor=holder(a), roster=roster, assignments=store, outbox=outbox, **ctx(now)
    )
    assert moved.engineer_id != a.engineer_id and moved.id != a.id and moved.status == "open"
    assert [e.type for e in outbox.published[-2:]] == ["assignment.delayed", "ticket.reassigned"]
    reassigned = outbox.published[-1].data
    assert reassigned["previous_engineer_id"] == a.engineer_id and reassigned["by"] == "dispatch"
    assert reassigned["number"] == a.ticket_number  # the new engineer is told by the number (the SLA monitor's notice)
    assert [(s.action, s.by) for s in moved.history] == [("assigned", "dispatch"), ("delayed", holder(a).subject), ("reassigned", "dispatch")]
    after = {e.id: e.open_load for e in await roster.engineers()}
    assert after[a.engineer_id] == before[a.engineer_id] - 1 and after[moved.engineer_id] == before[moved.engineer_id] + 1


async def test_a_desk_override_names_the_engineer_and_keeps_the_reason(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    target = next(e for e in DEMO_ROSTER_ALWAYS_ON_SITE if e.role in ("onsite", "mobile") and e.id != a.engineer_id)
    moved = await service.reassign(
        a.ticket_id, engineer_id=target.id, reason="需要網絡技能", actor=DESK, roster=roster, assignments=store,
        outbox=outbox, **ctx(now),
    )
    assert moved.engineer_id == target.id and moved.history[-1].note == "需要網絡技能" and moved.history[-1].by == "desk-王"
    with pytest.raises(IllegalStep):
        domain.reassign(moved, to=target, reason="again", actor=DESK, now=now)


@pytest.mark.parametrize(("kind", "told"), [("technical", ["eng-pm-1", "eng-senior-1"]), ("other", ["eng-pm-1"])])
async def test_escalations_reach_the_project_manager_and_technical_ones_a_senior(assigned, now: datetime, kind: str, told: list[str]) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    raised = await service.escalate(
        a.ticket_id, kind=kind, description="核心交換機異常", actor=holder(a), roster=roster, assignments=store,  # type: ignore[arg-type]
        outbox=outbox, **ctx(now),
    )
    event = outbox.published[-1]
    assert event.type == "escalation.raised" and event.data["notify"] == told
    assert event.data["engineer_name"] == a.engineer_name and a.engineer_name
    esc = raised.escalations[-1]
    acked = await service.acknowledge(a.ticket_id, escalation_id=esc.id, actor=PM, assignments=store, outbox=outbox, **ctx(now, 10))
    assert acked.escalations[-1].acknowledged_by == "liu.ml" and outbox.published[-1].type == "escalation.acknowledged"
    assert outbox.published[-1].data["by"] == "liu.ml"
    with pytest.raises(IllegalStep):
        await service.acknowledge(a.ticket_id, escalation_id=esc.id, actor=PM, assignments=store, outbox=outbox, **ctx(now, 11))


async def test_completion_takes_the_record_and_publishes_it_whole(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    parts = [domain.PartUsed(part="HP 26A 硒鼓", sku="toner-hp26a", quantity=1)]
    done = await service.complete(
        a.ticket_id, work_done="更換硒鼓,打印正常", parts_used=parts, minutes_on_site=25, actor=holder(a), roster=roster,
        assignments=store, outbox=outbox, **ctx(now, 40),
    )
    assert done.status == "completed" and done.record == "更換硒鼓,打印正常"
    assert done.service_record is not None and done.service_record.review == "pending" and done.service_record.parts_used == tuple(parts)
    published = outbox.published[-1]
    assert published.type == "assignment.completed"
    assert published.data["work_done"] == "更換硒鼓,打印正常" and published.data["minutes_on_site"] == 25
    assert published.data["parts_used"] == [{"part": "HP 26A 硒鼓", "sku": "toner-hp26a", "quantity": 1}]
    assert published.data["by"] == holder(a).subject and published.data["site"] == a.site
    with pytest.raises(IllegalStep) as refused:
        await service.delay(
            a.ticket_id, reason="late", cannot_go=False, actor=DESK, roster=roster, assignments=store, outbox=outbox, **ctx(now, 41)
        )
    assert refused.value.allowed == []  # the desk's review happens on the ticket; its verdict arrives as an event


async def test_a_step_on_a_ticket_without_assignment_is_unknown(now: datetime) -> None:
    with pytest.raises(service.UnknownAssignment):
        await service.accept(
            "nope", actor=Actor(subject="u", role="engineer", engineer_id="x"), assignments=MemoryAssignmentStore(),
            outbox=MemoryOutbox(), now=now, correlation_id="c",
        )


def reviewed(a: Assignment, decision: str, *, at: datetime, note: str | None = None, assignment_id: str | None = None) -> ServiceRecordReviewedV1:
    """Intake's announcement of the desk's verdict on the ticket's record."""
    return ServiceRecordReviewedV1(
        ticket_id=a.ticket_id, number=a.ticket_number, assignment_id=assignment_id or a.id, engineer_id=a.engineer_id,
        decision=decision, note=note, by="desk-王", reviewed_at=at,  # type: ignore[arg-type]
    )


async def test_help_reaches_the_desk_and_the_tickets_review_approves_or_sends_back(assigned, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster, store, outbox, a = assigned
    me = holder(a)
    helped = await service.ask_for_help(a.ticket_id, question="E-302 是什麼錯誤?", actor=me, assignments=store, outbox=outbox, **ctx(now))
    assert helped.history[-1].action == "asked for help" and outbox.published[-1].type == "assignment.help_requested"
    assert outbox.published[-1].data["engineer_name"] == a.engineer_name and a.engineer_name  # told by name, not id
    await service.complete(a.ticket_id, work_done="更換定影器", actor=me, roster=roster, assignments=store, outbox=outbox, **ctx(now, 30))
    load = {e.id: e.open_load for e in await roster.engineers()}[a.engineer_id]
    back = await service.record_review(
        reviewed(a, "returned", at=now + timedelta(minutes=31), note="請補充型號"), roster=roster, assignments=store, outbox=outbox,
        **ctx(now, 31),
    )
    assert back is not None and back.status == "confirmed" and outbox.published[-1].data["approved"] is False
    assert back.service_record is not None and back.service_record.review == "returned" and back.history[-1].action == "record returned"
    assert {e.id: e.open_load for e in await roster.engineers()}[a.engineer_id] == load + 1  # back on the engineer's list
    # A redelivered verdict changes nothing.
    again = reviewed(a, "returned", at=now + timedelta(minutes=31), note="請補充型號")
    assert await service.record_review(again, roster=roster, assignments=store, outbox=outbox, **ctx(now, 32)) is None
    await service.complete(a.ticket_id, work_done="更換定影器 RM2-5425", actor=me, roster=roster, assignments=store, outbox=outbox, **ctx(now, 40))
    # A verdict on another assignment of the ticket is not this one's.
    stale = reviewed(a, "approved", at=now + timedelta(minutes=41), assignment_id="another")
    assert await service.record_review(stale, roster=roster, assignments=store, outbox=outbox, **ctx(now, 41)) is None
    done = await service.record_review(reviewed(a, "approved", at=now + timedelta(minutes=41)), roster=roster, assignments=store, outbox=outbox, **ctx(now, 41))
    assert outbox.published[-1].type == "assignment.reviewed" and outbox.published[-1].data["by"] == "desk-王"
    assert done is not None and done.status == "reviewed" and [s.action for s in done.history][-2:] == ["completed", "record approved"]


async def test_a_verdict_for_a_ticket_dispatch_never_held_is_ignored(now: datetime) -> None:
    a = Assignment(
        id="a-x", ticket_id="t-x", ticket_number="INC-2026-000099", engineer_id="e", engineer_name="n", reason="r", score=1.0,
        assigned_at=now,
    )
    store = MemoryAssignmentStore()
    assert await service.record_review(
        reviewed(a, "approved", at=now), roster=MemoryRoster([]), assignments=store, outbox=MemoryOutbox(), **ctx(now),
    ) is None


async def test_waiting_room_assigns_when_an_engineer_comes_back(ticket, engineer, now: datetime) -> None:  # type: ignore[no-untyped-def]
    from dispatch.waiting import WaitingRoom

    roster, store, outbox = MemoryRoster([engineer("eng-a", status="on_leave")]), MemoryAssignmentStore(), MemoryOutbox()
    t = ticket()
    waiting = await service.assign_ticket(t, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)
    room = WaitingRoom(roster=roster, assignments=store, outbox=outbox)
    room.add(t.ticket_id)
    assert waiting.status == "unassigned" and await room.retry() == 0 and room.ticket_ids == {t.ticket_id}
    await roster.set_status("eng-a", "available")
    assert await room.retry() == 1 and room.ticket_ids == set()
    stored = await store.get(t.ticket_id)
    assert stored is not None and stored.engineer_id == "eng-a"


async def test_the_desk_can_give_a_waiting_ticket_an_engineer_as_a_first_assignment(ticket, engineer, now: datetime) -> None:  # type: ignore[no-untyped-def]
    roster = MemoryRoster([engineer("eng-away", status="on_leave"), engineer("eng-pm", role="project_manager")])
    store, outbox = MemoryAssignmentStore(), MemoryOutbox()
    t = ticket()
    waiting = await service.assign_ticket(t, roster=roster, assignments=store, outbox=outbox, now=now, correlation_id="c", causation_id=None)
    assert waiting.status == "unassigned"
    given = await service.reassign(
        t.ticket_id, engineer_id="eng-away", reason="called back from leave", actor=DESK, roster=roster,
        assignments=store, outbox=outbox, **ctx(now),
    )
    assert given.engineer_id == "eng-away" and given.status == "open" and given.history[-1].action == "assigned"
    assert [e.type for e in outbox.published] == ["assignment.unassigned", "ticket.assigned"]
    assert {e.id: e.open_load for e in await roster.engineers()}["eng-away"] == 1
