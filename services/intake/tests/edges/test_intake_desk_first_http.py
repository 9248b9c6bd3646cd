"""The desk's first contact at intake's HTTP edge (memory adapters): hold, send on, refuse guidance once assigned."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from intake import service
from intake.wiring import Adapters
from opsdesk_shared.contracts import TicketAssignedV1, subjects

Headers = Callable[[str], dict[str, str]]


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def _published(adapters: Adapters, subject: str, ticket_id: str) -> list[Any]:
    return [e for e in adapters.outbox.published if e.type == subject and e.subject_id == ticket_id]  # type: ignore[attr-defined]


async def test_the_agent_sends_a_desk_first_ticket_to_dispatch_once(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body, desk_first=True)
    assert ticket["desk_first"] is True and ticket["status"] == "new" and ticket["dispatch_requested_at"] is None
    [created] = _published(adapters, subjects.TICKET_CREATED, ticket["id"])
    assert created.data["desk_first"] is True

    sent = await client.post(f"/api/v1/tickets/{ticket['number']}/dispatch", headers=agent)
    assert sent.status_code == 200, sent.text
    assert sent.json()["dispatch_requested_at"] is not None and sent.json()["status"] == "new"
    [requested] = _published(adapters, subjects.TICKET_DISPATCH_REQUESTED, ticket["id"])
    assert requested.data["reason"] == "desk" and requested.data["by"] == "agent1"
    assert requested.data["skill"] == "printer" and requested.data["service_code"] == "RS-REPAIR"

    again = await client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=agent)
    assert again.status_code == 409, again.text
    assert "dispatch already" in again.text
    assert len(_published(adapters, subjects.TICKET_DISPATCH_REQUESTED, ticket["id"])) == 1


async def test_an_ordinary_ticket_is_not_sent_on_and_requesters_cannot(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket = await _create(client, as_user("agent1"), ticket_body)
    assert ticket["desk_first"] is False
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=as_user("agent1"))
    assert refused.status_code == 409, refused.text
    mine = await _create(client, as_user("req-office"), {k: v for k, v in ticket_body.items() if k != "requester"}, service_code="RS-OTHER")
    assert mine["desk_first"] is True  # the catalog's default holds for a requester's ticket too
    denied = await client.post(f"/api/v1/tickets/{mine['id']}/dispatch", headers=as_user("req-office"))
    assert denied.status_code in (403, 404), denied.text
    asked = await client.post("/api/v1/tickets", json={**ticket_body, "desk_first": True}, headers=as_user("req-office"))
    assert asked.status_code == 422 and "desk_first" in asked.text


async def test_guidance_on_an_assigned_ticket_is_a_409_with_the_allowed_state(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket["id"], assignment_id=f"a-{uuid.uuid4()}", engineer_id="eng1", engineer_name="ENG1",
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/guidance", headers=agent)
    assert refused.status_code == 409, refused.text
    body = refused.json()
    assert body["allowed"] == ["new"] and body["current_status"] == "assigned"


async def test_guidance_while_the_desk_holds_the_ticket(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body, desk_first=True)
    started = await client.post(f"/api/v1/tickets/{ticket['id']}/guidance", headers=agent)
    assert started.status_code == 200, started.text
    resolved = await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "指导重新装纸", "at_desk": True}, headers=agent)
    assert resolved.status_code == 200, resolved.text
    assert _published(adapters, subjects.TICKET_DISPATCH_REQUESTED, ticket["id"]) == []
    late = await client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=agent)
    assert late.status_code == 409 and late.json()["current_status"] == "resolved"


async def test_admins_mark_a_catalog_service_desk_first(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    entry = (await client.get("/api/v1/catalog/RS-REPAIR", headers=admin)).json()
    assert entry["desk_first"] is False
    put = await client.put("/api/v1/catalog/RS-REPAIR", json={**entry, "desk_first": True}, headers=admin)
    assert put.status_code == 200, put.text
    assert (await client.get("/api/v1/catalog/RS-REPAIR", headers=admin)).json()["desk_first"] is True
    ticket = await _create(client, as_user("agent1"), ticket_body)
    assert ticket["desk_first"] is True
