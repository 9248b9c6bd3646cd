"""Every ticket transition, legal and illegal, with who may make it and what each one announces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from intake import lifecycle
from intake.access import Forbidden
from intake.catalog import SEED_BY_CODE
from intake.domain import Actor, Assignee, InvalidField, NewTicket, PartUsed, Ticket, open_ticket
from intake.lifecycle import TRANSITIONS, IllegalTransition, StaleVersion
from opsdesk_shared.contracts import (
    Requester,
    TicketClosedV1,
    TicketReopenedV1,
    TicketResolvedV1,
    TicketStatusChangedV1,
    TicketUpdatedV1,
)

NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
AGENT = Actor(subject="agent1", role="agent", source="10.0.0.5")
ENGINEER = Actor(subject="chen.eng", role="engineer", engineer_id="eng1")
OTHER_ENGINEER = Actor(subject="li.eng", role="engineer", engineer_id="eng2")
REQUESTER = Actor(subject="req1", role="requester", department="辦公室")
AUDITOR = Actor(subject="aud1", role="auditor")
ALL_STATES = tuple(TRANSITIONS)


def ticket_in(status: str, **extra: Any) -> Ticket:
    cmd = NewTicket(
        title="打印機卡紙", description="三樓", requester=Requester(name="王小明", department="辦公室"), channel="hotline",
        service_code="RS-REPAIR", requester_id="req1",
    )
    ticket, _ = open_ticket(cmd, service=SEED_BY_CODE["RS-REPAIR"], ticket_id="t-1", number="INC-2026-000001", now=NOW - timedelta(hours=1))
    assignee = Assignee(assignment_id="a-1", engineer_id="eng1", engineer_name="陳", reason="skill", assigned_at=NOW - timedelta(minutes=50))
    fields: dict[str, Any] = {"status": status, "assignee": assignee if status != "new" else None}
    if status in ("resolved", "closed"):
        fields["resolved_at"] = NOW - timedelta(hours=1)
    fields.update(extra)
    return ticket.model_copy(update=fields)


def attempt(ticket: Ticket, target: str, actor: Actor = AGENT) -> lifecycle.Changed:
    """Drive the ticket to `target` through the step the API uses for it."""
    if target == "resolved":
        return lifecycle.resolve(ticket, actor=actor, now=NOW, resolution="換了硒鼓")
    if target == "closed":
        return lifecycle.close(ticket, actor=actor, now=NOW, satisfaction=5 if actor.role == "requester" else None)
    if target in ("in_progress", "new") and ticket.status == "resolved":
        # A reopen: back to the engineer who resolved it, or to the desk's first contact when the desk resolved it.
        desk_resolved = ticket.model_copy(update={"resolved_at_desk": target == "new"})
        return lifecycle.reopen(desk_resolved, actor=actor, now=NOW, reason="又卡紙了")
    if target == "assigned":
        return lifecycle.change_status(ticket, target="assigned", actor=actor, now=NOW)  # type: ignore[arg-type]
    return lifecycle.change_status(ticket, target=target, actor=actor, now=NOW, reason="不需要了", pending_reason="parts")  # type: ignore[arg-type]


LEGAL = [(s, t) for s in ALL_STATES for t in TRANSITIONS[s] if t != "assigned"]
ILLEGAL = [(s, t) for s in ALL_STATES for t in ALL_STATES if t not in TRANSITIONS[s] and t != s and t != "new"]


@pytest.mark.parametrize(("source", "target"), LEGAL)
def test_legal_transition_moves_the_ticket_and_announces_it(source: str, target: str) -> None:
    ticket = ticket_in(source)
    updated, events = attempt(ticket, target)
    assert updated.status == target
    changed = [e for e in events if isinstance(e, TicketStatusChangedV1)]
    assert [(e.old_status, e.new_status) for e in changed] == [(source, target)]
    assert updated.history[-1].status == target
    assert updated.audit[-1].changes["status"] == {"old": source, "new": target}


@pytest.mark.parametrize(("source", "target"), ILLEGAL)
def test_illegal_transition_is_refused_with_the_allowed_states(source: str, target: str) -> None:
    ticket = ticket_in(source)
    with pytest.raises(IllegalTransition) as refused:
        attempt(ticket, target)
    assert refused.value.current == source
    assert set(refused.value.allowed) <= set(TRANSITIONS[source])


def test_assigned_state_comes_from_dispatch_not_a_manual_status_change() -> None:
    with pytest.raises(IllegalTransition, match="dispatch assigns"):
        lifecycle.change_status(ticket_in("new"), target="assigned", actor=AGENT, now=NOW)


def test_pending_needs_a_reason_and_records_it() -> None:
    with pytest.raises(InvalidField) as missing:
        lifecycle.change_status(ticket_in("in_progress"), target="pending", actor=AGENT, now=NOW)
    assert missing.value.loc == ("body", "pending_reason")
    updated, _ = lifecycle.change_status(ticket_in("in_progress"), target="pending", actor=AGENT, now=NOW, pending_reason="vendor")
    assert updated.pending_reason == "vendor"
    resumed, _ = lifecycle.change_status(updated, target="in_progress", actor=AGENT, now=NOW)
    assert resumed.pending_reason is None


def test_cancel_needs_a_reason() -> None:
    with pytest.raises(InvalidField):
        lifecycle.change_status(ticket_in("new"), target="cancelled", actor=AGENT, now=NOW)


def test_resolve_announces_resolution_with_desk_flag_and_times() -> None:
    updated, events = lifecycle.resolve(ticket_in("assigned"), actor=ENGINEER, now=NOW, resolution="換了硒鼓")
    resolved = [e for e in events if isinstance(e, TicketResolvedV1)][0]
    assert resolved.resolved_at_desk is False
    assert resolved.resolved_at == NOW
    assert resolved.department == "辦公室"
    assert updated.resolved_by == "chen.eng"  # the user who did it; the roster link is what grants access


def test_desk_resolution_records_guidance_minutes_and_the_article() -> None:
    updated, events = lifecycle.resolve(
        ticket_in("new"), actor=AGENT, now=NOW, resolution="指導重啟打印服務", at_desk=True, guidance_minutes=4, article_id="kb-1"
    )
    resolved = [e for e in events if isinstance(e, TicketResolvedV1)][0]
    assert (updated.resolved_at_desk, updated.guidance_minutes, updated.article_id) == (True, 4, "kb-1")
    assert (resolved.resolved_at_desk, resolved.guidance_minutes, resolved.article_id) == (True, 4, "kb-1")


def test_desk_resolution_over_the_five_minute_cap_is_refused() -> None:
    with pytest.raises(InvalidField, match="capped at 5"):
        lifecycle.resolve(ticket_in("new"), actor=AGENT, now=NOW, resolution="x", at_desk=True, guidance_minutes=5.5)


def test_desk_resolution_needs_guidance_minutes() -> None:
    with pytest.raises(InvalidField):
        lifecycle.resolve(ticket_in("new"), actor=AGENT, now=NOW, resolution="x", at_desk=True)


def test_desk_resolution_is_only_at_first_contact() -> None:
    with pytest.raises(IllegalTransition, match="first contact"):
        lifecycle.resolve(ticket_in("in_progress"), actor=AGENT, now=NOW, resolution="x", at_desk=True, guidance_minutes=2)


def test_engineers_cannot_resolve_at_the_desk() -> None:
    with pytest.raises(Forbidden):
        lifecycle.resolve(ticket_in("assigned"), actor=ENGINEER, now=NOW, resolution="x", at_desk=True, guidance_minutes=2)


def test_close_takes_satisfaction_and_announces_it() -> None:
    updated, events = lifecycle.close(ticket_in("resolved"), actor=REQUESTER, now=NOW, satisfaction=4, comment="快")
    closed = [e for e in events if isinstance(e, TicketClosedV1)][0]
    assert (closed.satisfaction, closed.satisfaction_comment) == (4, "快")
    assert updated.closed_at == NOW


def test_desk_cannot_close_while_the_service_record_waits_for_review() -> None:
    held = ticket_in("in_progress")
    recorded, _ = lifecycle.submit_service_record(held, actor=ENGINEER, now=NOW, work_done="清潔定影器", parts_used=[], minutes_on_site=30)
    resolved, _ = lifecycle.resolve(recorded, actor=ENGINEER, now=NOW, resolution="ok")
    with pytest.raises(IllegalTransition, match="review"):
        lifecycle.close(resolved, actor=AGENT, now=NOW)
    approved, _ = lifecycle.review_service_record(resolved, actor=AGENT, now=NOW, approve=True, note=None)
    closed, _ = lifecycle.close(approved, actor=AGENT, now=NOW)
    assert closed.status == "closed"


def test_reopen_inside_the_window_goes_back_to_the_engineer() -> None:
    updated, events = lifecycle.reopen(ticket_in("resolved"), actor=REQUESTER, now=NOW, reason="又卡紙了")
    assert updated.status == "in_progress"
    assert updated.reopen_count == 1
    assert any(isinstance(e, TicketReopenedV1) for e in events)


def test_reopen_of_an_unassigned_ticket_returns_it_to_new() -> None:
    ticket = ticket_in("resolved").model_copy(update={"assignee": None})
    updated, _ = lifecycle.reopen(ticket, actor=AGENT, now=NOW, reason="again")
    assert updated.status == "new"


def test_reopen_after_the_window_is_refused() -> None:
    ticket = ticket_in("resolved", resolved_at=NOW - timedelta(days=8))
    with pytest.raises(IllegalTransition, match="window"):
        lifecycle.reopen(ticket, actor=AGENT, now=NOW, reason="again", window=timedelta(days=7))


def test_reopen_window_is_configurable() -> None:
    ticket = ticket_in("resolved", resolved_at=NOW - timedelta(days=8))
    updated, _ = lifecycle.reopen(ticket, actor=AGENT, now=NOW, reason="again", window=timedelta(days=10))
    assert updated.status == "in_progress"


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_final_states_allow_nothing(state: str) -> None:
    assert TRANSITIONS[state] == ()  # type: ignore[index]
    with pytest.raises(IllegalTransition):
        lifecycle.update_fields(ticket_in(state), actor=AGENT, now=NOW, fields={"title": "x"})


# --- who may do what -------------------------------------------------------------------------------------------------

def test_auditor_changes_nothing() -> None:
    for step in (
        lambda t: lifecycle.change_status(t, target="in_progress", actor=AUDITOR, now=NOW),
        lambda t: lifecycle.update_fields(t, actor=AUDITOR, now=NOW, fields={"title": "x"}),
        lambda t: lifecycle.add_comment(t, actor=AUDITOR, now=NOW, body="x", internal=False),
    ):
        with pytest.raises(Forbidden, match="auditors"):
            step(ticket_in("assigned"))


def test_engineer_cannot_close_a_ticket_they_do_not_hold() -> None:
    with pytest.raises(Forbidden, match="engineers may not close"):
        lifecycle.close(ticket_in("resolved"), actor=OTHER_ENGINEER, now=NOW)


def test_engineer_cannot_close_even_a_ticket_they_hold() -> None:
    with pytest.raises(Forbidden, match="engineers may not close"):
        lifecycle.close(ticket_in("resolved"), actor=ENGINEER, now=NOW)


def test_engineer_cannot_edit_or_cancel() -> None:
    with pytest.raises(Forbidden):
        lifecycle.update_fields(ticket_in("assigned"), actor=ENGINEER, now=NOW, fields={"title": "x"})
    with pytest.raises(Forbidden):
        lifecycle.change_status(ticket_in("assigned"), target="cancelled", actor=ENGINEER, now=NOW, reason="x")


def test_requester_may_not_write_internal_notes() -> None:
    with pytest.raises(Forbidden):
        lifecycle.add_comment(ticket_in("assigned"), actor=REQUESTER, now=NOW, body="x", internal=True)


def test_requester_cancels_own_ticket_only_before_work_starts() -> None:
    # New, or assigned while the engineer has not accepted yet (issue 13, item 17): nobody is on the way.
    for before in (ticket_in("new"), ticket_in("assigned")):
        updated, _ = lifecycle.change_status(before, target="cancelled", actor=REQUESTER, now=NOW, reason="好了")
        assert updated.status == "cancelled"
    accepted = ticket_in("assigned")
    assert accepted.assignee is not None
    accepted = accepted.model_copy(update={"assignee": accepted.assignee.model_copy(update={"accepted_at": NOW - timedelta(minutes=5)})})
    for started in (accepted, ticket_in("in_progress"), ticket_in("pending")):
        # A state conflict (409 with what is allowed), not a question of rights (issue 13 walk, H12 item 3).
        with pytest.raises(IllegalTransition) as refused:
            lifecycle.change_status(started, target="cancelled", actor=REQUESTER, now=NOW, reason="好了")
        assert "cancelled" not in refused.value.allowed
        assert refused.value.allowed == lifecycle.allowed_for(started, REQUESTER)


def test_cancelling_an_ended_ticket_again_is_a_state_conflict_not_a_refusal() -> None:
    for ended in ("cancelled", "resolved", "closed"):
        with pytest.raises(IllegalTransition):
            lifecycle.change_status(ticket_in(ended), target="cancelled", actor=REQUESTER, now=NOW, reason="再撤销一次")


def test_a_department_colleague_cannot_cancel_an_assigned_ticket() -> None:
    colleague = Actor(subject="req2", role="requester", department="辦公室")
    with pytest.raises(Forbidden):
        lifecycle.change_status(ticket_in("assigned"), target="cancelled", actor=colleague, now=NOW, reason="好了")


def test_requester_of_another_department_cannot_comment() -> None:
    stranger = Actor(subject="req9", role="requester", department="財務科")
    with pytest.raises(Forbidden):
        lifecycle.add_comment(ticket_in("assigned"), actor=stranger, now=NOW, body="x", internal=False)


# --- fields, priority, records ---------------------------------------------------------------------------------------

def test_update_recomputes_priority_from_impact_and_urgency() -> None:
    updated, events = lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={"impact": "high", "urgency": "high"})
    assert updated.priority == "P1"
    changes = [e for e in events if isinstance(e, TicketUpdatedV1)][0].changes
    assert changes["priority"] == {"old": "P3", "new": "P1"}


def test_priority_override_needs_a_reason_and_an_agent() -> None:
    with pytest.raises(InvalidField):
        lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={}, priority="P1")
    updated, _ = lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={}, priority="P1", priority_reason="局長電腦")
    assert (updated.priority, updated.priority_reason) == ("P1", "局長電腦")


def test_update_with_nothing_new_announces_nothing() -> None:
    ticket = ticket_in("new")
    updated, events = lifecycle.update_fields(ticket, actor=AGENT, now=NOW, fields={"title": ticket.title})
    assert events == [] and updated is ticket


def test_changing_service_changes_the_ticket_type() -> None:
    updated, _ = lifecycle.update_fields(
        ticket_in("new"), actor=AGENT, now=NOW, fields={"service_code": "RS-INTAKE"}, service=SEED_BY_CODE["RS-INTAKE"]
    )
    assert updated.ticket_type == "service_request"


def test_unknown_service_code_on_update_is_a_field_error() -> None:
    with pytest.raises(InvalidField) as bad:
        lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={"service_code": "XX-NOPE"}, service=None)
    assert bad.value.loc == ("body", "service_code")


def test_service_record_by_holder_then_returned_then_resubmitted() -> None:
    held = ticket_in("in_progress")
    with pytest.raises(Forbidden):
        lifecycle.submit_service_record(held, actor=OTHER_ENGINEER, now=NOW, work_done="x", parts_used=[], minutes_on_site=1)
    recorded, _ = lifecycle.submit_service_record(
        held, actor=ENGINEER, now=NOW, work_done="更換硒鼓", parts_used=[PartUsed(part="HP 26A", quantity=1)], minutes_on_site=20
    )
    with pytest.raises(InvalidField):
        lifecycle.review_service_record(recorded, actor=AGENT, now=NOW, approve=False, note=None)
    returned, _ = lifecycle.review_service_record(recorded, actor=AGENT, now=NOW, approve=False, note="缺少序號")
    assert returned.service_record is not None and returned.service_record.review == "returned"
    again, _ = lifecycle.submit_service_record(returned, actor=ENGINEER, now=NOW, work_done="更換硒鼓 SN123", parts_used=[], minutes_on_site=20)
    assert again.service_record is not None and again.service_record.review == "pending"


def test_every_change_appends_to_the_audit_trail_with_who_and_where() -> None:
    ticket = ticket_in("assigned")
    step1, _ = lifecycle.change_status(ticket, target="in_progress", actor=ENGINEER, now=NOW)
    step2, _ = lifecycle.update_fields(step1, actor=AGENT, now=NOW, fields={"title": "三樓打印機卡紙"})
    assert step2.audit[: len(ticket.audit)] == ticket.audit  # nothing before is rewritten
    last = step2.audit[-1]
    assert (last.by, last.role, last.source, last.action) == ("agent1", "agent", "10.0.0.5", "updated")
    assert last.changes["title"] == {"old": "打印機卡紙", "new": "三樓打印機卡紙"}


def test_stale_version_is_detected() -> None:
    ticket = ticket_in("new")
    lifecycle.check_version(ticket, ticket.version)
    with pytest.raises(StaleVersion):
        lifecycle.check_version(ticket, ticket.version - 1)


def test_thread_mail_is_idempotent_per_message_id() -> None:
    ticket = ticket_in("assigned")
    first = lifecycle.thread_mail(ticket, message_id="<m1@x>", actor=AGENT, now=NOW, body="還是不行")
    assert first is not None
    updated, _ = first
    assert updated.comments[-1].body == "還是不行" and not updated.comments[-1].internal
    assert lifecycle.thread_mail(updated, message_id="<m1@x>", actor=AGENT, now=NOW, body="還是不行") is None


def test_remote_guidance_clock_starts_once_and_gives_the_minutes_to_a_desk_resolution() -> None:
    ticket = ticket_in("new")
    started, events = lifecycle.start_guidance(ticket, actor=AGENT, now=NOW)
    assert started.guidance_started_at == NOW
    assert [e.changes for e in events if isinstance(e, TicketUpdatedV1)] == [{"guidance_started_at": {"old": None, "new": NOW.isoformat()}}]
    again, none = lifecycle.start_guidance(started, actor=AGENT, now=NOW + timedelta(minutes=1))
    assert none == [] and again.guidance_started_at == NOW
    resolved, _ = lifecycle.resolve(started, actor=AGENT, now=NOW + timedelta(minutes=3, seconds=30), resolution="重啟", at_desk=True)
    assert resolved.guidance_minutes == 3.5


def test_remote_guidance_past_five_minutes_is_not_a_desk_resolution() -> None:
    started, _ = lifecycle.start_guidance(ticket_in("new"), actor=AGENT, now=NOW)
    with pytest.raises(InvalidField, match="capped"):
        lifecycle.resolve(started, actor=AGENT, now=NOW + timedelta(minutes=6), resolution="x", at_desk=True)


def test_remote_guidance_is_for_the_desk_at_first_contact() -> None:
    with pytest.raises(Forbidden):
        lifecycle.start_guidance(ticket_in("assigned"), actor=ENGINEER, now=NOW)
    with pytest.raises(IllegalTransition):
        lifecycle.start_guidance(ticket_in("in_progress"), actor=AGENT, now=NOW)


def test_required_fields_cannot_be_emptied() -> None:
    with pytest.raises(InvalidField) as refused:
        lifecycle.update_fields(ticket_in("new"), actor=AGENT, now=NOW, fields={"title": None})
    assert refused.value.loc == ("body", "title")
