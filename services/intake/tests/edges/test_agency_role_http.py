"""The agency (信息中心管理人员, role `agency`) at the gateway: it reads everything about its service and changes none
of the team's records; an admin can make such accounts."""

from __future__ import annotations

from typing import Any

import httpx

from intake.wiring import Adapters


def _own(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "requester"}


async def test_an_admin_creates_an_agency_account_that_signs_in_as_agency(client, as_user) -> None:  # type: ignore[no-untyped-def]
    body = {"username": "zhou", "name": "周主任", "role": "agency", "department": "信息中心", "password": "agency-pass-1"}

    created = await client.post("/api/v1/users", json=body, headers=as_user("admin1"))
    assert created.status_code == 201, created.text
    login = await client.post("/api/v1/auth/token", json={"username": "zhou", "password": "agency-pass-1"})
    assert login.status_code == 200, login.text
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})

    assert me.json()["role"] == "agency"


async def test_the_agency_reads_every_ticket_and_changes_none(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    created = await client.post("/api/v1/tickets", json=_own(ticket_body), headers=as_user("req-finance"))
    assert created.status_code == 201, created.text
    ticket = created.json()
    agency = as_user("agency1")

    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agency)).status_code == 200
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=agency)).status_code == 200
    listed = await client.get("/api/v1/tickets", headers=agency)
    assert ticket["id"] in [t["id"] for t in listed.json()["items"]]
    for method, path, body in (
        ("PATCH", f"/api/v1/tickets/{ticket['id']}", {"title": "x"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/comments", {"body": "x"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/status", {"status": "cancelled", "reason": "x"}),
        ("POST", "/api/v1/tickets", ticket_body),
    ):
        r = await client.request(method, path, json=body, headers={**agency, "Accept-Language": "en"})
        assert r.status_code == 403, (method, path, r.text)
    refused = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"title": "x"}, headers={**agency, "Accept-Language": "en"})
    assert "agency" in str(refused.json()["detail"])


async def test_the_agency_reads_through_the_gateway_and_writes_nothing_there(client, adapters: Adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"path": request.url.path})

    adapters.upstreams = {name: f"http://{name}.test" for name in ("assets", "dispatch", "sla-monitor", "reporting", "knowledge")}
    adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    agency = as_user("agency1")
    for path in ("/api/v1/engineers", "/api/v1/assignments/t-1", "/api/v1/timers", "/api/v1/reports/kinds", "/api/v1/relations?tag=x"):
        assert (await client.get(path, headers=agency)).status_code == 200, path
    for path in ("/api/v1/engineers/eng-1/status", "/api/v1/assets"):
        assert (await client.post(path, json={}, headers=agency)).status_code == 403, path
    # The agency's own decision on a report (issue 16 sign-off) goes through; reporting checks each step's role.
    signed = await client.post("/api/v1/reports/stored/service-summary:2026-11:zh-CN/acknowledge", json={}, headers=agency)
    assert signed.status_code == 200
    assert len(seen) == 6
