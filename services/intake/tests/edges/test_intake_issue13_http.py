"""Issue 13 at intake's HTTP edge (memory adapters): ticket numbers as ids, the desk's first contact, the monthly
first-contact figure."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from intake.wiring import Adapters

Headers = Callable[[str], dict[str, str]]


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str, engineer: str) -> None:
    from intake import service
    from opsdesk_shared.contracts import TicketAssignedV1

    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=f"a-{uuid.uuid4()}", engineer_id=engineer, engineer_name=engineer,
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


# --- item 3: the ticket number works wherever the id does --------------------------------------------------------

async def test_a_ticket_number_names_the_ticket_on_every_route(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent, eng = as_user("agent1"), as_user("eng1")
    ticket = await _create(client, agent, ticket_body)
    number = ticket["number"]
    read = await client.get(f"/api/v1/tickets/{number}", headers=agent)
    assert read.status_code == 200, read.text
    assert read.json()["id"] == ticket["id"]
    assert (await client.get(f"/api/v1/tickets/{number.lower()}", headers=agent)).json()["id"] == ticket["id"]
    comment = await client.post(f"/api/v1/tickets/{number}/comments", json={"body": "電話跟進"}, headers=agent)
    assert comment.status_code == 201, comment.text
    assert (await client.patch(f"/api/v1/tickets/{number}", json={"title": "打印機卡紙(三樓)"}, headers=agent)).status_code == 200
    await _assign(adapters, ticket["id"], "eng1")
    assert (await client.post(f"/api/v1/tickets/{number}/status", json={"status": "in_progress"}, headers=eng)).status_code == 200
    history = await client.get(f"/api/v1/tickets/{number}/history", headers=agent)
    assert history.status_code == 200, history.text
    assert [e["action"] for e in history.json()] == ["created", "comment", "updated", "assigned", "status:in_progress"]
    assert (await client.get("/api/v1/tickets/INC-2026-999999", headers=agent)).status_code == 404


async def test_an_engineer_still_sees_only_what_they_hold_by_number(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket = await _create(client, as_user("agent1"), ticket_body)
    assert (await client.get(f"/api/v1/tickets/{ticket['number']}", headers=as_user("eng2"))).status_code == 404


# --- item 19: the desk's first-contact figure per local month -----------------------------------------------------

async def test_desk_share_counts_the_local_month_asked_for(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    from intake import service

    agent = as_user("agent1")
    resolved_at = {
        "desk-nov-1": datetime(2026, 10, 31, 16, 30, tzinfo=UTC),  # 1 Nov 00:30 in Shanghai: November
        "desk-oct-31": datetime(2026, 10, 31, 15, 30, tzinfo=UTC),  # 31 Oct 23:30 in Shanghai: October
        "onsite-nov-15": datetime(2026, 11, 15, 2, 0, tzinfo=UTC),
    }
    for name, at in resolved_at.items():
        ticket = await _create(client, agent, ticket_body, title=name)
        desk = name.startswith("desk")
        body = {"resolution": "已解決", "at_desk": desk, **({"guidance_minutes": 3} if desk else {})}
        assert (await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json=body, headers=agent)).status_code == 200
        store = adapters.store
        store.tickets[ticket["id"]] = store.tickets[ticket["id"]].model_copy(update={"resolved_at": at})
        await service.refresh_index(ticket["id"], desk=adapters.desk)

    november = (await client.get("/api/v1/stats/desk", params={"month": "2026-11"}, headers=agent)).json()
    assert (november["month"], november["resolved"], november["resolved_at_desk"], november["share"]) == ("2026-11", 2, 1, 0.5)
    october = (await client.get("/api/v1/stats/desk", params={"month": "2026-10"}, headers=agent)).json()
    assert (october["resolved"], october["resolved_at_desk"]) == (1, 1)
    everything = (await client.get("/api/v1/stats/desk", headers=agent)).json()
    assert (everything["month"], everything["resolved"]) == (None, 3)
    december = (await client.get("/api/v1/stats/desk", params={"month": "2026-12"}, headers=agent)).json()
    assert (december["resolved"], december["share"]) == (0, None)
    for bad_month in ("2026-13", "0000-01", "9999-12"):
        bad = await client.get("/api/v1/stats/desk", params={"month": bad_month}, headers=agent)
        assert bad.status_code == 422, bad_month
        assert "month" in bad.text
