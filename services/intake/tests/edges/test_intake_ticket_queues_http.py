"""The ticket list carries what the desk's queues need (issue 15 gaps 2 and 3): the desk-first hold and its due time,
the service record's review, the assignee, who at the desk last handled it, a total, the queues' filters and their
counts in one call (GET /tickets/counts)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import AssignmentCompletedV1, TicketAssignedV1

Headers = Callable[[str], dict[str, str]]


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    reply = await client.post("/api/v1/tickets", json={**body, **extra}, headers=headers)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def _list(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    reply = await client.get("/api/v1/tickets", params=params, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def _counts(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, int]:
    reply = await client.get("/api/v1/tickets/counts", params=params, headers=headers)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str, engineer: str) -> None:
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=f"a-{uuid.uuid4()}", engineer_id=engineer, engineer_name=f"工程師{engineer}",
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


async def _complete(adapters: Adapters, ticket_id: str, engineer: str) -> None:
    ticket = await adapters.desk.store.get(ticket_id)
    assert ticket is not None and ticket.assignee is not None
    await service.record_completion(
        AssignmentCompletedV1(ticket_id=ticket_id, assignment_id=ticket.assignee.assignment_id, engineer_id=engineer, record="更換硒鼓",
                              work_done="更換硒鼓", parts_used=[], minutes_on_site=25, by=engineer, completed_at=datetime.now(UTC)),
        desk=adapters.desk, now=datetime.now(UTC), correlation_id="c",
    )


async def test_a_desk_first_call_is_held_with_its_due_time_and_is_the_agents(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body, desk_first=True)

    page = await _list(client, agent, held="true")
    assert [i["id"] for i in page["items"]] == [ticket["id"]] and page["total"] == 1
    item = page["items"][0]
    assert item["held_at_desk"] is True and item["desk_first"] is True
    created = datetime.fromisoformat(ticket["created_at"])
    assert abs(datetime.fromisoformat(item["held_until"]) - (created + timedelta(minutes=5))) < timedelta(seconds=1)
    assert (item["handled_by"], item["handled_by_name"]) == ("agent1", "AGENT1")  # who took the call
    assert (await _list(client, agent, handled_by="me"))["total"] == 1
    assert (await _list(client, as_user("admin1"), handled_by="me"))["total"] == 0

    sent = await client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=as_user("admin1"))
    assert sent.status_code == 200, sent.text
    after = (await _list(client, agent))["items"][0]
    assert after["held_at_desk"] is False and after["held_until"] is None
    assert after["handled_by"] == "admin1"  # the last one at the desk to act on it
    assert (await _list(client, agent, held="true"))["total"] == 0


async def test_handled_by_moves_with_the_desk_and_stays_with_automatic_and_engineers_acts(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    requester = as_user("req-office")
    own = {k: v for k, v in ticket_body.items() if k != "requester"}
    ticket = await _create(client, requester, own)
    tid = ticket["id"]
    assert (await _list(client, as_user("agent1")))["items"][0]["handled_by"] is None  # filed by the requester

    note = await client.post(f"/api/v1/tickets/{tid}/comments", json={"body": "已致電用戶", "internal": True}, headers=as_user("agent1"))
    assert note.status_code == 201
    await _assign(adapters, tid, "eng1")  # dispatch's own choice
    moved = await client.post(f"/api/v1/tickets/{tid}/status", json={"status": "in_progress"}, headers=as_user("eng1"))
    assert moved.status_code == 200

    item = (await _list(client, as_user("agent1")))["items"][0]
    assert item["handled_by"] == "agent1" and (item["assignee_id"], item["assignee_name"]) == ("eng1", "工程師eng1")
    # Requesters see their ticket, not who at the desk handles it.
    mine = (await _list(client, requester))["items"][0]
    assert mine["handled_by"] is None and mine["handled_by_name"] is None


async def test_queues_filter_and_count_in_one_call(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    held = await _create(client, agent, ticket_body, desk_first=True)
    unassigned = await _create(client, as_user("admin1"), ticket_body, desk_first=False)
    waiting = await _create(client, agent, ticket_body, desk_first=False)
    await _assign(adapters, waiting["id"], "eng1")
    on_hold = await client.post(f"/api/v1/tickets/{waiting['id']}/status", json={"status": "pending", "pending_reason": "vendor"}, headers=agent)
    assert on_hold.status_code == 200, on_hold.text
    reviewed = await _create(client, as_user("admin1"), ticket_body, desk_first=False)
    await _assign(adapters, reviewed["id"], "eng2")
    await _complete(adapters, reviewed["id"], "eng2")

    assert {i["id"] for i in (await _list(client, agent, unassigned="true"))["items"]} == {held["id"], unassigned["id"]}
    waiting_items = (await _list(client, agent, status="pending"))["items"]
    assert [(i["id"], i["pending_reason"]) for i in waiting_items] == [(waiting["id"], "vendor")]
    review = await _list(client, agent, status="resolved", review="pending")
    assert [i["id"] for i in review["items"]] == [reviewed["id"]] and review["items"][0]["review"] == "pending"

    counts = await _counts(client, agent)
    assert counts == {"open": 3, "held": 1, "unassigned": 2, "waiting": 1, "review": 1, "mine": 2, "authorization": 0}
    assert (await _counts(client, agent, q="no-such-words"))["open"] == 0
    # An engineer counts within what they may see: the one ticket they hold.
    assert (await _counts(client, as_user("eng1")))["open"] == 1


async def test_total_counts_every_page(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    for _ in range(3):
        await _create(client, agent, ticket_body)
    first = await _list(client, agent, limit=2)
    second = await _list(client, agent, limit=2, cursor=first["next_cursor"])
    assert (len(first["items"]), first["total"], len(second["items"]), second["total"]) == (2, 3, 1, 3)
