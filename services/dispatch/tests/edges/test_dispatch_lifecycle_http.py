"""The assignment lifecycle over HTTP: each step's answer, refusals as 409 with what is allowed, bad input 422."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from dispatch import service
from dispatch.main import Adapters
from opsdesk_shared.contracts import Requester, TicketCreatedV1


def as_engineer(engineer_id: str, user: str | None = None) -> dict[str, str]:
    """Headers the test auth turns into the token of a user of role engineer linked to `engineer_id`."""
    return {"X-Opsdesk-Role": "engineer", "X-Opsdesk-Engineer": engineer_id, "X-Opsdesk-User": user or f"user-{engineer_id}"}


@pytest.fixture
async def ticket_id(adapters: Adapters) -> str:
    ticket = TicketCreatedV1(
        ticket_id="t-http", number="INC-2026-000042", title="網絡中斷", channel="hotline", service_code="RS-ONSITE",
        requester=Requester(name="李華"), reported_at=datetime.now(UTC),
    )
    await service.assign_ticket(
        ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )
    return ticket.ticket_id


async def test_confirm_then_complete(client: httpx.AsyncClient, ticket_id: str) -> None:
    r = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": "2099-11-26T10:30:00+08:00"})
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    assert r.json()["history"][-1]["by"] == "test-admin"  # the verified caller, not a name in the body
    holder = r.json()["engineer_id"]
    r = await client.post(f"/api/v1/assignments/{ticket_id}/complete", json={"work_done": "重啟交換機端口", "parts_used": [{"sku": "switch-port", "quantity": 1}], "minutes_on_site": 15}, headers=as_engineer(holder, "chen.zq"))
    assert r.status_code == 200 and r.json()["status"] == "completed" and r.json()["history"][-1]["by"] == "chen.zq"
    record = r.json()["service_record"]
    assert record["work_done"] == "重啟交換機端口" and record["review"] == "pending" and record["submitted_by"] == "chen.zq"
    assert record["parts_used"] == [{"part": None, "sku": "switch-port", "quantity": 1}] and record["minutes_on_site"] == 15
    r = await client.post(f"/api/v1/assignments/{ticket_id}/delay", json={"reason": "late"})
    assert r.status_code == 409 and r.json()["allowed"] == [] and r.json()["code"] == "illegal_transition"  # the desk reviews on the ticket (intake)


async def test_delay_answers_with_the_new_engineer(client: httpx.AsyncClient, ticket_id: str) -> None:
    first = (await client.get(f"/api/v1/assignments/{ticket_id}")).json()
    r = await client.post(f"/api/v1/assignments/{ticket_id}/delay", json={"reason": "堵車", "cannot_go": True})
    assert r.status_code == 200
    assert r.json()["engineer_id"] != first["engineer_id"] and r.json()["history"][-1]["action"] == "reassigned"


async def test_escalation_and_its_acknowledgement(client: httpx.AsyncClient, ticket_id: str) -> None:
    r = await client.post(f"/api/v1/assignments/{ticket_id}/escalations", json={"kind": "technical", "description": "服務器宕機"})
    esc = r.json()["escalations"][-1]
    assert esc["notify"] == ["eng-pm-1", "eng-senior-1"]
    pm = as_engineer("eng-pm-1", "liu.ml")
    r = await client.post(f"/api/v1/assignments/{ticket_id}/escalations/{esc['id']}/acknowledge", headers=pm)
    assert r.status_code == 200 and r.json()["escalations"][-1]["acknowledged_by"] == "liu.ml"
    r = await client.post(f"/api/v1/assignments/{ticket_id}/escalations/nope/acknowledge", headers=pm)
    assert r.status_code == 404


async def test_bad_input_is_422_with_the_field(client: httpx.AsyncClient, ticket_id: str) -> None:
    r = await client.post(f"/api/v1/assignments/{ticket_id}/escalations", json={"kind": "cosmic", "description": ""})
    assert r.status_code == 422
    assert {tuple(d["loc"]) for d in r.json()["detail"]} >= {("body", "kind"), ("body", "description")}


async def test_unknown_ticket_or_engineer(client: httpx.AsyncClient, ticket_id: str) -> None:
    assert (await client.post("/api/v1/assignments/none/accept", headers=as_engineer("eng-onsite-1"))).status_code == 404
    # Naming an engineer who is not on the roster is bad input (issue 13, item 12), not a state conflict.
    r = await client.post(f"/api/v1/assignments/{ticket_id}/reassign", json={"to": "eng-ghost", "reason": "r"})
    assert r.status_code == 422, r.text
    assert [tuple(d["loc"]) for d in r.json()["detail"]] == [("body", "to")]
    assert "eng-ghost" in r.json()["detail"][0]["msg"]


async def test_roster_put_and_status_keep_the_open_load(client: httpx.AsyncClient, ticket_id: str) -> None:
    engineers = {e["id"]: e for e in (await client.get("/api/v1/engineers")).json()}
    busy = next(e for e in engineers.values() if e["open_load"] > 0)
    body = {
        "name": busy["name"], "role": busy["role"], "skills": ["desktop"], "home_site": "副樓",
        "shifts": [{"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00", "mode": "onsite"}],
    }
    r = await client.put(f"/api/v1/engineers/{busy['id']}", json=body)
    assert r.status_code == 200 and r.json()["open_load"] == busy["open_load"] and r.json()["shifts"][0]["start"] == "09:00"
    r = await client.patch(f"/api/v1/engineers/{busy['id']}/status", json={"status": "on_leave"})
    assert r.status_code == 200 and r.json()["status"] == "on_leave"
    assert (await client.patch("/api/v1/engineers/ghost/status", json={"status": "busy"})).status_code == 404
    bad = await client.put("/api/v1/engineers/x", json={"name": "x", "role": "wizard", "shifts": [{"start": "25:00", "end": "26:00"}]})
    assert bad.status_code == 422 and {d["loc"][1] for d in bad.json()["detail"]} >= {"role", "shifts"}
