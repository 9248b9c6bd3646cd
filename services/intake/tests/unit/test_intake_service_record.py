"""The one service record on the ticket: it arrives with dispatch's assignment.completed, the desk reviews it here
(announced for dispatch), a returned record takes the ticket back into work, and nobody closes while it waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import lifecycle, service_record
from intake.access import Forbidden
from intake.catalog import SEED_BY_CODE
from intake.domain import Actor, Assignee, NewTicket, PartUsed, Ticket, open_ticket
from intake.lifecycle import IllegalTransition
from opsdesk_shared.contracts import (
    AssignmentCompletedV1,
    PartUsedV1,
    Requester,
    ServiceRecordReviewedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
)

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
AGENT = Actor(subject="agent1", role="agent")
ENGINEER = Actor(subject="chen.eng", role="engineer", engineer_id="eng1")
REQUESTER = Actor(subject="req1", role="requester", department="辦公室")


def held(status: str = "in_progress", **extra: Any) -> Ticket:
    cmd = NewTicket(
        title="打印機卡紙", description="三樓", requester=Requester(name="王小明", department="辦公室"), channel="hotline",
        service_code="RS-REPAIR", requester_id="req1",
    )
    ticket, _ = open_ticket(cmd, service=SEED_BY_CODE["RS-REPAIR"], ticket_id="t-1", number="INC-2026-000001", now=NOW - timedelta(hours=1))
    assignee = Assignee(assignment_id="a-1", engineer_id="eng1", engineer_name="陳", reason="skill", assigned_at=NOW - timedelta(minutes=50))
    return ticket.model_copy(update={"status": status, "assignee": assignee, **extra})


def completed(*, at: datetime = NOW, work_done: str = "更換硒鼓", engineer_id: str = "eng1") -> AssignmentCompletedV1:
    return AssignmentCompletedV1(
        ticket_id="t-1", assignment_id="a-1", engineer_id=engineer_id, record=work_done, completed_at=at, work_done=work_done,
        parts_used=[PartUsedV1(part="HP 26A 硒鼓", sku="toner-hp26a", quantity=1), PartUsedV1(sku="fuser-rm2", quantity=2)],
        minutes_on_site=25, site="主樓", by="chen.eng",
    )


def received(ticket: Ticket, event: AssignmentCompletedV1) -> lifecycle.Changed:
    changed = service_record.receive(ticket, event)
    assert changed is not None
    return changed


def test_the_completion_lands_the_record_pending_and_resolves_the_ticket_with_the_work_done() -> None:
    ticket, events = received(held(), completed())
    record = ticket.service_record
    assert record is not None and record.review == "pending" and record.work_done == "更換硒鼓"
    assert (record.assignment_id, record.engineer_id, record.submitted_by, record.minutes_on_site) == ("a-1", "eng1", "chen.eng", 25)
    assert record.parts_used == (PartUsed(part="HP 26A 硒鼓", sku="toner-hp26a"), PartUsed(part="fuser-rm2", sku="fuser-rm2", quantity=2))
    assert ticket.status == "resolved" and ticket.resolution == "更換硒鼓" and ticket.resolved_by == "chen.eng"
    assert [type(e) for e in events] == [TicketUpdatedV1, TicketStatusChangedV1, TicketResolvedV1]
    assert ticket.audit[-2].action == "service_record" and ticket.audit[-2].role == "engineer"


def test_a_redelivered_completion_changes_nothing() -> None:
    ticket, _ = received(held(), completed())
    assert service_record.receive(ticket, completed()) is None


def test_a_completion_by_an_engineer_the_ticket_does_not_show_lands_the_record_but_keeps_the_state() -> None:
    ticket, events = received(held("assigned"), completed(engineer_id="eng9"))
    assert ticket.status == "assigned" and ticket.service_record is not None and [type(e) for e in events] == [TicketUpdatedV1]


def test_nobody_closes_while_the_record_waits_for_review_and_the_409_says_what_is_allowed() -> None:
    ticket, _ = received(held(), completed())
    for actor in (REQUESTER, AGENT):
        with pytest.raises(IllegalTransition, match="review") as refused:
            lifecycle.close(ticket, actor=actor, now=NOW)
        assert refused.value.allowed == ("in_progress",)


def test_approval_is_announced_for_dispatch_and_then_the_requester_closes() -> None:
    ticket, _ = received(held(), completed())
    approved, events = service_record.review(ticket, actor=AGENT, now=NOW + timedelta(minutes=5), approve=True, note=None)
    announced = [e for e in events if isinstance(e, ServiceRecordReviewedV1)]
    assert len(announced) == 1 and announced[0].model_dump(include={"assignment_id", "engineer_id", "decision", "by"}) == {
        "assignment_id": "a-1", "engineer_id": "eng1", "decision": "approved", "by": "agent1",
    }
    assert approved.status == "resolved" and approved.service_record is not None and approved.service_record.review == "approved"
    closed, _ = lifecycle.close(approved, actor=REQUESTER, now=NOW + timedelta(minutes=6), satisfaction=5)
    assert closed.status == "closed"
    assert service_record.receive(approved, completed(at=NOW + timedelta(minutes=7))) is None  # an approved record stays


def test_a_reopened_ticket_takes_the_engineers_new_completion_after_the_approved_record() -> None:
    """Issue 13 (dispatch seams): a ticket the engineer resolved, approved and reopened goes back to them; their new
    completion was dropped because the old record was approved, so the ticket stayed in progress for ever."""
    ticket, _ = received(held(), completed())
    approved, _ = service_record.review(ticket, actor=AGENT, now=NOW + timedelta(minutes=5), approve=True, note=None)
    reopened, _ = lifecycle.reopen(approved, actor=REQUESTER, now=NOW + timedelta(minutes=30), reason="又卡紙了")
    assert reopened.status == "in_progress"
    # The old completion redelivered changes nothing; the new one is the new work's record, pending review.
    assert service_record.receive(reopened, completed()) is None
    again, _ = received(reopened, completed(at=NOW + timedelta(minutes=50), work_done="更換定影組件"))
    assert again.status == "resolved" and again.service_record is not None
    assert again.service_record.review == "pending" and again.service_record.work_done == "更換定影組件"


def test_a_returned_record_takes_the_ticket_back_into_work_until_the_engineer_completes_again() -> None:
    ticket, _ = received(held(), completed())
    with pytest.raises(Exception, match="missing"):
        service_record.review(ticket, actor=AGENT, now=NOW, approve=False, note=None)
    returned, events = service_record.review(ticket, actor=AGENT, now=NOW + timedelta(minutes=5), approve=False, note="缺少序號")
    assert returned.status == "in_progress" and returned.resolved_at is None and returned.service_record is not None
    assert returned.service_record.review == "returned" and returned.service_record.review_note == "缺少序號"
    reviewed = [e for e in events if isinstance(e, ServiceRecordReviewedV1)][0]
    assert (reviewed.decision, reviewed.note, reviewed.assignment_id) == ("returned", "缺少序號", "a-1")
    assert any(isinstance(e, TicketStatusChangedV1) and e.new_status == "in_progress" for e in events)
    again, _ = received(returned, completed(at=NOW + timedelta(minutes=30), work_done="更換硒鼓 SN123"))
    assert again.status == "resolved" and again.service_record is not None
    assert (again.service_record.review, again.service_record.work_done) == ("pending", "更換硒鼓 SN123")


def test_engineers_do_not_write_the_record_on_the_ticket_they_complete_through_dispatch() -> None:
    with pytest.raises(Forbidden, match="assignments/.*/complete"):
        service_record.correct(held(), actor=ENGINEER, now=NOW, work_done="x", parts_used=[], minutes_on_site=1)
    with pytest.raises(Forbidden):
        service_record.correct(held(), actor=REQUESTER, now=NOW, work_done="x", parts_used=[], minutes_on_site=1)


def test_the_desk_corrects_a_pending_record_which_stays_tied_to_its_assignment() -> None:
    ticket, _ = received(held(), completed())
    corrected, events = service_record.correct(
        ticket, actor=AGENT, now=NOW + timedelta(minutes=2), work_done="更換硒鼓(HP 26A)", parts_used=[], minutes_on_site=30,
    )
    record = corrected.service_record
    assert record is not None and (record.review, record.assignment_id, record.submitted_by) == ("pending", "a-1", "chen.eng")
    assert record.work_done == "更換硒鼓(HP 26A)" and corrected.audit[-1].action == "service_record_corrected"
    assert [type(e) for e in events] == [TicketUpdatedV1]


def test_the_desk_does_not_write_the_record_of_an_engineers_job_nor_rewrite_a_returned_or_approved_one() -> None:
    with pytest.raises(IllegalTransition, match="complete"):
        service_record.correct(held(), actor=AGENT, now=NOW, work_done="x", parts_used=[], minutes_on_site=1)
    ticket, _ = received(held(), completed())
    returned, _ = service_record.review(ticket, actor=AGENT, now=NOW, approve=False, note="缺少序號")
    with pytest.raises(IllegalTransition, match="returned"):
        service_record.correct(returned, actor=AGENT, now=NOW, work_done="x", parts_used=[], minutes_on_site=1)


def test_the_desk_writes_a_record_for_a_ticket_no_engineer_held() -> None:
    unheld = held("in_progress").model_copy(update={"assignee": None})
    written, _ = service_record.correct(unheld, actor=AGENT, now=NOW, work_done="電話指導重設密碼", parts_used=[], minutes_on_site=0)
    assert written.service_record is not None and written.service_record.assignment_id is None
    _, events = service_record.review(written, actor=AGENT, now=NOW, approve=True, note=None)
    assert [e for e in events if isinstance(e, ServiceRecordReviewedV1)][0].assignment_id is None


async def test_a_redone_service_record_resolves_the_ticket_once_and_a_reopen_resolves_it_again() -> None:
    """Returned then completed again is the same resolution: one ticket.resolved (each state change still announced);
    a reopen starts a new resolution, announced again."""
    from intake import service
    from intake.adapters.memory import MemoryOutbox, MemoryTicketStore
    from intake.service import Desk
    from opsdesk_shared.contracts import subjects

    store, outbox = MemoryTicketStore(), MemoryOutbox()
    desk = Desk.on(store, outbox)
    ticket = held("in_progress")
    await store.add(ticket, [])

    def completion(at: datetime) -> AssignmentCompletedV1:
        return AssignmentCompletedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="eng1", record="換了硒鼓",
                                     work_done="換了硒鼓", completed_at=at, by="chen.eng")

    def count(subject: str) -> int:
        return sum(1 for e in outbox.published if e.type == subject and e.subject_id == ticket.id)

    await service.record_completion(completion(NOW), desk=desk, now=NOW, correlation_id="c")
    await service.act(ticket.id, lambda t: service_record.review(t, actor=AGENT, now=NOW, approve=False, note="請補充序號"),
                      desk=desk, actor=AGENT, now=NOW, correlation_id="c")
    assert (await store.get(ticket.id)).status == "in_progress"  # type: ignore[union-attr]
    later = NOW + timedelta(minutes=30)
    await service.record_completion(completion(later), desk=desk, now=later, correlation_id="c")
    assert (await store.get(ticket.id)).status == "resolved"  # type: ignore[union-attr]
    assert count(subjects.TICKET_RESOLVED) == 1
    moves = [(e.data["old_status"], e.data["new_status"]) for e in outbox.published if e.type == subjects.TICKET_STATUS_CHANGED]
    assert moves == [("in_progress", "resolved"), ("resolved", "in_progress"), ("in_progress", "resolved")]

    await service.act(ticket.id, lambda t: service_record.review(t, actor=AGENT, now=later, approve=True, note=None),
                      desk=desk, actor=AGENT, now=later, correlation_id="c")
    await service.act(ticket.id, lambda t: lifecycle.reopen(t, actor=AGENT, now=later, reason="又卡紙了"),
                      desk=desk, actor=AGENT, now=later, correlation_id="c")
    await service.act(ticket.id, lambda t: lifecycle.resolve(t, actor=AGENT, now=later, resolution="清潔搓紙輪"),
                      desk=desk, actor=AGENT, now=later, correlation_id="c")
    assert count(subjects.TICKET_RESOLVED) == 2  # the reopen's resolution is a new one


def test_the_record_carries_the_engineers_name_from_their_account_and_so_does_the_resolution_in_the_history() -> None:
    named = ENGINEER.model_copy(update={"name": "陳志強", "source": "bus"})
    changed = service_record.receive(held(), completed(), engineer=named)
    assert changed is not None
    ticket, _ = changed
    assert ticket.service_record is not None and ticket.service_record.submitted_by_name == "陳志強"
    assert ticket.audit[-1].by == "chen.eng" and ticket.audit[-1].by_name == "陳志強"
    reviewed, _ = service_record.review(ticket, actor=AGENT.model_copy(update={"name": "周敏"}), now=NOW, approve=True, note=None)
    assert reviewed.service_record is not None and reviewed.service_record.reviewed_by_name == "周敏"
