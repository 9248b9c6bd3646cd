"""Where a reopened ticket goes (issue 13, H1 item 7): one resolved at the desk goes back to the desk's first-contact
hold with a fresh guidance window and is then sent on to dispatch; one an engineer resolved goes back to them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from intake import handover, service
from intake.wiring import Adapters
from opsdesk_shared.contracts import TicketAssignedV1, subjects

Headers = Callable[[str], dict[str, str]]


def _published(adapters: Adapters, subject: str, ticket_id: str) -> list[Any]:
    return [e for e in adapters.outbox.published if e.type == subject and e.subject_id == ticket_id]


async def test_a_desk_first_ticket_resolved_at_the_desk_is_held_again_with_a_fresh_window_then_sent_on(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    agent = as_user("agent1")
    created = await client.post("/api/v1/tickets", json={**ticket_body, "desk_first": True}, headers=agent)
    tid = created.json()["id"]
    resolved = await client.post(f"/api/v1/tickets/{tid}/resolve", headers=agent,
                                 json={"resolution": "指導重啟打印機", "at_desk": True, "guidance_minutes": 3})
    assert resolved.status_code == 200, resolved.text
    # The first hold's due time ran out while it was resolved: the checker drops it and sends nothing.
    assert await handover.hand_over_due(desk=adapters.desk, now=datetime.now(UTC) + timedelta(minutes=10)) == 0

    reopened = await client.post(f"/api/v1/tickets/{tid}/reopen", json={"reason": "又卡紙了"}, headers=as_user("req-office"))
    assert reopened.status_code == 200, reopened.text
    held = reopened.json()
    assert (held["status"], held["desk_first"], held["dispatch_requested_at"], held["assignee"]) == ("new", True, None, None)
    # Guidance may start again at this new first contact; nothing goes to dispatch inside the fresh window.
    assert (await client.post(f"/api/v1/tickets/{tid}/guidance", headers=agent)).status_code == 200
    assert await handover.hand_over_due(desk=adapters.desk, now=datetime.now(UTC) + timedelta(minutes=1)) == 0
    assert _published(adapters, subjects.TICKET_DISPATCH_REQUESTED, tid) == []

    assert await handover.hand_over_due(desk=adapters.desk, now=datetime.now(UTC) + timedelta(minutes=6)) == 1
    [requested] = _published(adapters, subjects.TICKET_DISPATCH_REQUESTED, tid)
    assert requested.data["reason"] == "window_elapsed"
    moves = [(e.data["old_status"], e.data["new_status"]) for e in _published(adapters, subjects.TICKET_STATUS_CHANGED, tid)]
    assert moves == [("new", "resolved"), ("resolved", "new")]


async def test_a_ticket_an_engineer_resolved_goes_back_to_the_engineer(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    own = {k: v for k, v in ticket_body.items() if k != "requester"}
    created = await client.post("/api/v1/tickets", json=own, headers=as_user("req-office"))
    tid = created.json()["id"]
    await service.record_assignment(
        TicketAssignedV1(ticket_id=tid, assignment_id="a-1", engineer_id="eng1", engineer_name="陳志強", reason="skill",
                         assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    assert (await client.post(f"/api/v1/tickets/{tid}/resolve", json={"resolution": "換了硒鼓"}, headers=as_user("eng1"))).status_code == 200
    offered = (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("req-office"))).json()["allowed_transitions"]
    assert offered == ["closed", "in_progress"]
    reopened = await client.post(f"/api/v1/tickets/{tid}/reopen", json={"reason": "又卡紙了"}, headers=as_user("req-office"))
    assert reopened.status_code == 200, reopened.text
    assert (reopened.json()["status"], reopened.json()["assignee"]["engineer_id"]) == ("in_progress", "eng1")
    assert await handover.hand_over_due(desk=adapters.desk, now=datetime.now(UTC) + timedelta(minutes=10)) == 0


async def test_a_resolved_ticket_moves_to_new_only_by_reopen(
    client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]
) -> None:
    agent = as_user("agent1")
    tid = (await client.post("/api/v1/tickets", json={**ticket_body, "desk_first": True}, headers=agent)).json()["id"]
    await client.post(f"/api/v1/tickets/{tid}/resolve", headers=agent, json={"resolution": "x", "at_desk": True, "guidance_minutes": 1})
    assert (await client.get(f"/api/v1/tickets/{tid}", headers=agent)).json()["allowed_transitions"] == ["closed", "new"]
    refused = await client.post(f"/api/v1/tickets/{tid}/status", json={"status": "new"}, headers=agent)
    assert refused.status_code == 409 and "reopen" in refused.text
