"""Dispatch's news on the ticket (issue 13, H1 items 1 and 2): the engineer's acceptance starts the work through the
transition table (announced), a completion passes through in_progress, and the history names the person who acted
through dispatch (with their account's name), dispatch only for its own automatic decisions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import (
    AssignmentAcceptedV1,
    AssignmentCompletedV1,
    AssignmentConfirmedV1,
    TicketAssignedV1,
    TicketReassignedV1,
    subjects,
)

Headers = Callable[[str], dict[str, str]]


async def _assigned_ticket(client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], body: dict[str, Any]) -> str:
    created = await client.post("/api/v1/tickets", json=body, headers=auth)
    assert created.status_code == 201, created.text
    tid: str = created.json()["id"]
    await service.record_assignment(
        TicketAssignedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng1", engineer_name="陳志強", reason="skill",
                         assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    return tid


def _moves(adapters: Adapters, tid: str) -> list[tuple[str, str, str]]:
    return [
        (e.data["old_status"], e.data["new_status"], e.data["by"])
        for e in adapters.outbox.published
        if e.type == subjects.TICKET_STATUS_CHANGED and e.subject_id == tid
    ]


async def _history(client: httpx.AsyncClient, tid: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/tickets/{tid}/history", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_engineers_acceptance_starts_the_work_announced_and_by_the_engineer(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    tid = await _assigned_ticket(client, adapters, auth, ticket_body)
    accepted = AssignmentAcceptedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng1", accepted_at=datetime.now(UTC), by="eng1")
    assert await service.record_acceptance(accepted, desk=adapters.desk) is True
    assert await service.record_acceptance(accepted, desk=adapters.desk) is False  # a redelivery moves nothing twice

    seen = (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("agent1"))).json()
    assert seen["status"] == "in_progress" and seen["assignee"]["accepted_at"] is not None
    assert _moves(adapters, tid) == [("new", "assigned", "dispatch"), ("assigned", "in_progress", "eng1")]
    history = await _history(client, tid, as_user("agent1"))
    assert [(h["action"], h["by"], h["by_name"], h["role"]) for h in history[-2:]] == [
        ("accepted", "eng1", "ENG1", "engineer"), ("status:in_progress", "eng1", "ENG1", "engineer"),
    ]
    assigned = next(h for h in history if h["action"] == "assigned")
    assert assigned["by"] == "dispatch"  # its own automatic choice


async def test_an_acceptance_from_before_by_names_the_engineer_linked_to_the_roster_engineer(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    tid = await _assigned_ticket(client, adapters, auth, ticket_body)
    await service.record_acceptance(
        AssignmentAcceptedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng1", accepted_at=datetime.now(UTC)), desk=adapters.desk
    )
    last = (await _history(client, tid, as_user("agent1")))[-1]
    assert (last["by"], last["by_name"]) == ("eng1", "ENG1")


async def test_a_completion_without_a_seen_acceptance_passes_through_in_progress(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    tid = await _assigned_ticket(client, adapters, auth, ticket_body)
    completed = AssignmentCompletedV1(
        ticket_id=tid, assignment_id="a-1", engineer_id="eng1", record="換了硒鼓", work_done="換了硒鼓", completed_at=datetime.now(UTC),
        by="eng1",
    )
    assert await service.record_completion(completed, desk=adapters.desk, now=datetime.now(UTC), correlation_id="c") is True
    assert [(old, new) for old, new, _ in _moves(adapters, tid)] == [
        ("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "resolved"),
    ]


async def test_a_desk_reassign_and_confirmation_name_the_agent_and_a_re_dispatch_names_dispatch(
    client: httpx.AsyncClient, adapters: Adapters, auth: dict[str, str], as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    tid = await _assigned_ticket(client, adapters, auth, ticket_body)
    now = datetime.now(UTC)
    await service.record_confirmation(
        AssignmentConfirmedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng1", eta=now + timedelta(minutes=20),
                              confirmed_at=now, by="agent1"),
        desk=adapters.desk,
    )
    await service.record_reassignment(
        TicketReassignedV1(ticket_id=tid, assignment_id=f"a-{uuid.uuid4()}", previous_engineer_id="eng1", engineer_id="eng2",
                           engineer_name="黃偉明", reason="換人", by="agent1", reassigned_at=now),
        desk=adapters.desk,
    )
    await service.record_reassignment(
        TicketReassignedV1(ticket_id=tid, assignment_id=f"a-{uuid.uuid4()}", previous_engineer_id="eng2", engineer_id="eng1",
                           engineer_name="陳志強", reason="re-dispatch after delay (x)", by="dispatch", reassigned_at=now),
        desk=adapters.desk,
    )
    history = await _history(client, tid, as_user("agent1"))
    acts = [(h["action"], h["by"], h["by_name"]) for h in history if h["action"] in ("confirmed", "assigned")]
    assert acts == [("assigned", "dispatch", "Dispatch"), ("confirmed", "agent1", "AGENT1"), ("assigned", "agent1", "AGENT1"),
                    ("assigned", "dispatch", "Dispatch")]
    seen = (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("agent1"))).json()
    note = next(c for c in seen["comments"] if c["internal"] and "換人" in c["body"])
    assert note["author"] == "agent1" and "AGENT1" in note["body"]
    # the engineers by name (walk 15 read roster ids): the first by the name the ticket held, the new one by the event's
    assert "陳志強 → 黃偉明" in note["body"] and "eng2" not in note["body"] and "eng1" not in note["body"], note["body"]
