"""The /api/v1/problems HTTP edge on memory adapters."""

from __future__ import annotations

import httpx

from .conftest import as_role


async def _problem(client: httpx.AsyncClient, **fields: object) -> dict[str, object]:
    r = await client.post("/api/v1/problems", json={"title": "核心交換機間歇丟包", "service_code": "RS-NETWORK", **fields}, headers=as_role("engineer"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_problem_walks_to_known_error_and_resolved(client: httpx.AsyncClient) -> None:
    problem = await _problem(client)
    pid = problem["id"]
    assert (await client.post(f"/api/v1/problems/{pid}/known_error", json={"root_cause": "光模塊老化"}, headers=as_role("engineer"))).status_code == 409
    r = await client.post(f"/api/v1/problems/{pid}/known_error", json={"root_cause": "光模塊老化", "workaround": "切換備用鏈路"}, headers=as_role("engineer"))
    assert r.status_code == 200 and r.json()["state"] == "known_error"
    r = await client.post(f"/api/v1/problems/{pid}/resolve", json={"permanent_fix": "更換光模塊"}, headers=as_role("manager"))
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert (await client.patch(f"/api/v1/problems/{pid}", json={"workaround": "x"}, headers=as_role("agent"))).status_code == 409


async def test_requester_cannot_read_problems_and_auditor_cannot_write(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/problems", headers=as_role("requester"))).status_code == 403
    assert (await client.get("/api/v1/problems", headers=as_role("auditor"))).status_code == 200
    assert (await client.post("/api/v1/problems", json={"title": "x"}, headers=as_role("auditor"))).status_code == 403


async def test_escalation_on_demand_names_seniors_and_pm(client: httpx.AsyncClient) -> None:
    pid = (await _problem(client))["id"]
    r = await client.post(f"/api/v1/problems/{pid}/escalate", json={"reason": "三天內重複五次"}, headers=as_role("agent"))
    assert r.status_code == 200 and r.json()["escalated_to"] == ["eng-senior-1", "eng-pm-1"]


async def test_stats_and_candidates_answer(client: httpx.AsyncClient) -> None:
    await _problem(client)
    r = await client.get("/api/v1/problems/stats", headers=as_role("manager"))
    assert r.status_code == 200 and r.json()["problems"] == 1 and r.json()["by_state"] == {"open": 1}
    r = await client.get("/api/v1/problems/candidates", params={"status": "pending"}, headers=as_role("agent"))
    assert r.status_code == 200 and r.json() == []
    assert (await client.post("/api/v1/problems/candidates/nope/confirm", headers=as_role("agent"))).status_code == 404
