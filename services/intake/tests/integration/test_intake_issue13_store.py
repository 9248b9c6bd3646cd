"""Issue 13 on both backends (memory and the real FerretDB): what the memory store accepted and the database refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from intake import lifecycle, service
from intake.domain import Actor, NewTicket, PartUsed
from intake.service import Desk
from opsdesk_shared.contracts import Requester, TicketAssignedV1
from opsdesk_shared.outbox import MemoryOutbox

AGENT = Actor(subject="agent1", role="agent", source="10.1.2.3")
ENGINEER = Actor(subject="eng.li", role="engineer", engineer_id="E-LI", source="10.1.2.4")
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def cmd(**extra: Any) -> NewTicket:
    fields: dict[str, Any] = {"title": "三樓打印機卡紙", "description": "HP M406", "requester": Requester(name="王小明", department="辦公室"),
                              "channel": "hotline", "service_code": "RS-REPAIR"}
    return NewTicket(**{**fields, **extra})


async def _with_pending_record(desk: Desk) -> str:
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="E-LI", engineer_name="李工", reason="r", assigned_at=NOW),
        desk=desk,
    )
    await service.act(
        ticket.id, lambda t: lifecycle.change_status(t, target="in_progress", actor=ENGINEER, now=NOW),
        desk=desk, actor=ENGINEER, now=NOW, correlation_id="c",
    )
    await service.act(
        ticket.id,
        lambda t: lifecycle.submit_service_record(t, actor=ENGINEER, now=NOW, work_done="更換硒鼓", parts_used=[PartUsed(part="硒鼓")], minutes_on_site=20),
        desk=desk, actor=ENGINEER, now=NOW, correlation_id="c",
    )
    return ticket.id


@pytest.mark.parametrize("approve", [True, False])
async def test_the_desk_reviews_a_service_record_on_the_real_database(store: Any, approve: bool) -> None:
    """Issue 13 item 1: the review's history key had a dot ("service_record.review"), which the database refuses."""
    desk = Desk.on(store, MemoryOutbox())
    ticket_id = await _with_pending_record(desk)
    reviewed = await service.act(
        ticket_id,
        lambda t: lifecycle.review_service_record(t, actor=AGENT, now=NOW, approve=approve, note=None if approve else "請補充硒鼓序號"),
        desk=desk, actor=AGENT, now=NOW, correlation_id="c",
    )
    loaded = await store.get(ticket_id)
    assert loaded == reviewed
    assert loaded.service_record is not None
    assert loaded.service_record.review == ("approved" if approve else "returned")
    assert loaded.audit[-1].action == "review"


async def test_an_assignment_moves_the_ticket_through_the_table_and_announces_it(store: Any) -> None:
    """Issue 13 item 15: the store holds ticket.status_changed new -> assigned beside the assignment, and the relay
    publishes it (reporting's open-ticket gauge moves the ticket from new to assigned on it)."""
    outbox = MemoryOutbox()
    desk = Desk.on(store, outbox)
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    event = TicketAssignedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="E-LI", engineer_name="李工", reason="r", assigned_at=NOW)
    assert await service.record_assignment(event, desk=desk, correlation_id="corr-1") is True
    assert await service.record_assignment(event, desk=desk) is False  # a redelivery announces nothing twice
    changed = [e for e in outbox.published if e.type == "ticket.status_changed"]
    assert [(e.data["old_status"], e.data["new_status"], e.data["by"]) for e in changed] == [("new", "assigned", "dispatch")]
    assert changed[0].correlation_id == "corr-1"
    loaded = await store.get(ticket.id)
    assert loaded is not None and loaded.status == "assigned" and loaded.history[-1].status == "assigned"


async def test_a_withdrawn_engineer_is_no_longer_the_tickets_assignee(store: Any) -> None:
    """Issue 13 item 6: after a desk resolution dispatch withdraws the engineer (assignment.withdrawn); the ticket
    marks the assignment withdrawn, the engineer no longer holds or sees it, and the list shows no assignee."""
    from intake.access import can_see
    from opsdesk_shared.contracts import AssignmentWithdrawnV1

    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="E-LI", engineer_name="李工", reason="r", assigned_at=NOW),
        desk=desk,
    )
    await service.act(
        ticket.id, lambda t: lifecycle.resolve(t, actor=AGENT, now=NOW, resolution="遠程指導解決", at_desk=True, guidance_minutes=3),
        desk=desk, actor=AGENT, now=NOW, correlation_id="c",
    )
    withdrawn = AssignmentWithdrawnV1(ticket_id=ticket.id, assignment_id="a-1", engineer_id="E-LI", reason="ticket resolved by agent1", withdrawn_at=NOW)
    assert await service.record_withdrawal(withdrawn, desk=desk) is True
    assert await service.record_withdrawal(withdrawn, desk=desk) is False
    loaded = await store.get(ticket.id)
    assert loaded is not None and loaded.assignee is not None
    assert loaded.assignee.withdrawn_at == NOW and loaded.assignee.withdrawn_reason == "ticket resolved by agent1"
    assert not can_see(ENGINEER, loaded)
    assert desk.index.summaries([ticket.id])[0]["assignee_name"] is None
    assert loaded.audit[-1].action == "withdrawn"
