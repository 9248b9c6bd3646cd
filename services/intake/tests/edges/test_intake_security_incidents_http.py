"""Security incidents at the gateway's HTTP edge (memory adapters): the desk's act on a ticket awaiting the agency's
authorization is refused and recorded; the agency, managers, auditors and admins read incidents, the rest of the team
gets 403; the agency acknowledges, the project manager closes (409 with what is allowed before, 422 without a note)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from intake.wiring import Adapters
from opsdesk_shared.contracts import subjects

SERVICE = "RS-ONSITE"


@pytest.fixture
async def incident(client: httpx.AsyncClient, as_user) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    read = (await client.get(f"/api/v1/catalog/{SERVICE}", headers=admin)).json()
    assert (await client.put(f"/api/v1/catalog/{SERVICE}", json={**read, "requires_authorization": True}, headers=admin)).status_code == 200
    body = {"title": "服务器内存扩容", "description": "机房服务器需要加内存", "channel": "web", "service_code": SERVICE}
    ticket = (await client.post("/api/v1/tickets", json=body, headers=as_user("req-office"))).json()
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "in_progress"}, headers=as_user("agent1"))
    assert refused.status_code == 409 and refused.json()["allowed"] == ["cancelled"], refused.text
    listed = await client.get("/api/v1/security-incidents", headers=as_user("agency1"))
    assert listed.status_code == 200, listed.text
    [found] = listed.json()["items"]
    assert found["ticket_id"] == ticket["id"]
    return found  # type: ignore[no-any-return]


async def test_the_desks_refused_act_is_an_incident_the_agency_reads(incident: dict[str, Any], adapters: Adapters) -> None:
    assert incident["actor"] == "agent1" and incident["actor_role"] == "agent" and incident["rule"] == "unauthorized_ticket_act"
    assert incident["state"] == "open" and incident["allowed"] == ["acknowledge"] and incident["ticket_status"] == "awaiting_authorization"
    raised = [e for e in adapters.outbox.published if e.type == subjects.SECURITY_INCIDENT_RAISED]  # type: ignore[attr-defined]
    assert [e.data["incident_id"] for e in raised] == [incident["id"]]


async def test_three_refused_clicks_are_one_low_incident_with_a_count_and_the_times(client, as_user, adapters: Adapters,  # type: ignore[no-untyped-def]
                                                                                  incident: dict[str, Any]) -> None:
    """Issue 16's policy: every refused click was its own high-severity incident; repeated attempts by the same
    person on the same ticket within the hour fold into the open incident, announced once."""
    assert (incident["severity"], incident["attempts"], len(incident["occurrences"])) == ("low", 1, 1)
    for step in ("in_progress", "pending"):
        again = await client.post(f"/api/v1/tickets/{incident['ticket_id']}/status", json={"status": step}, headers=as_user("agent1"))
        assert again.status_code == 409, again.text
    other = await client.post(f"/api/v1/tickets/{incident['ticket_id']}/status", json={"status": "in_progress"}, headers=as_user("manager1"))
    assert other.status_code == 409

    items = (await client.get("/api/v1/security-incidents", headers=as_user("agency1"))).json()["items"]
    by_actor = {i["actor"]: i for i in items}
    assert len(items) == 2 and (by_actor["agent1"]["id"], by_actor["agent1"]["attempts"]) == (incident["id"], 3)
    assert len(by_actor["agent1"]["occurrences"]) == 3 and by_actor["manager1"]["attempts"] == 1
    raised = [e for e in adapters.outbox.published if e.type == subjects.SECURITY_INCIDENT_RAISED]  # type: ignore[attr-defined]
    assert sorted(e.data["incident_id"] for e in raised) == sorted(i["id"] for i in items)


@pytest.mark.parametrize(("who", "status"), [
    ("agency1", 200), ("manager1", 200), ("auditor1", 200), ("admin1", 200), ("agent1", 403), ("eng1", 403), ("req-office", 403),
])
async def test_who_reads_incidents(client, as_user, incident: dict[str, Any], who: str, status: int) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/security-incidents", headers=as_user(who))).status_code == status
    assert (await client.get(f"/api/v1/security-incidents/{incident['id']}", headers=as_user(who))).status_code == status


async def test_acknowledged_by_the_agency_then_closed_by_the_manager(client, as_user, incident: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    path = f"/api/v1/security-incidents/{incident['id']}"
    early = await client.post(f"{path}/close", json={"note": "已处理"}, headers={**as_user("manager1"), "Accept-Language": "en"})
    assert early.status_code == 409 and early.json()["allowed"] == ["acknowledge"], early.text
    assert "acknowledged" in early.json()["detail"]
    assert (await client.post(f"{path}/acknowledge", json={}, headers=as_user("manager1"))).status_code == 403
    assert (await client.post(f"{path}/acknowledge", json={}, headers=as_user("agent1"))).status_code == 403

    acked = await client.post(f"{path}/acknowledge", json={"note": "已知悉"}, headers=as_user("agency1"))
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged" and acked.json()["allowed"] == ["close"], acked.text
    twice = await client.post(f"{path}/acknowledge", json={}, headers=as_user("agency1"))
    assert twice.status_code == 409 and twice.json()["allowed"] == ["close"]
    assert (await client.post(f"{path}/close", json={"note": "x"}, headers=as_user("agency1"))).status_code == 403
    no_note = await client.post(f"{path}/close", json={}, headers=as_user("manager1"))
    assert no_note.status_code == 422 and no_note.json()["detail"][0]["loc"] == ["body", "note"], no_note.text

    closed = await client.post(f"{path}/close", json={"note": "已约谈服务台坐席"}, headers=as_user("manager1"))
    assert closed.status_code == 200, closed.text
    shown = (await client.get(path, headers=as_user("auditor1"))).json()
    assert shown["state"] == "closed" and shown["closed_by"] == "manager1" and shown["acknowledged_by"] == "agency1"
    assert shown["allowed"] == []


async def test_an_unknown_incident_is_404_in_the_callers_language(client, as_user) -> None:  # type: ignore[no-untyped-def]
    missing = await client.get("/api/v1/security-incidents/nope", headers={**as_user("agency1"), "Accept-Language": "zh-TW"})
    assert missing.status_code == 404 and "找不到安全事件" in missing.json()["detail"]


async def test_the_gateway_forwards_the_agencys_replacement_request_and_no_other_roster_write(client, adapters: Adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, str]] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        return httpx.Response(201, json={})

    adapters.upstreams = {"dispatch": "http://dispatch.test"}
    adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    agency = as_user("agency1")
    asked = await client.post("/api/v1/engineers/eng-1/replacement-requests", json={"reason": "x"}, headers=agency)
    assert asked.status_code == 201, asked.text
    for path in ("/api/v1/engineers/eng-1/status", "/api/v1/engineers/eng-1", "/api/v1/engineers/eng-1/replacement-requests/r1/answer"):
        assert (await client.post(path, json={}, headers=agency)).status_code == 403, path
    assert (await client.get("/api/v1/replacement-requests", headers=agency)).status_code == 201  # read, forwarded as is
    assert seen == [("POST", "/api/v1/engineers/eng-1/replacement-requests"), ("GET", "/api/v1/replacement-requests")]
