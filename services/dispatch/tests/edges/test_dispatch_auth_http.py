"""Who may call dispatch, and who may do what: the caller is the signed internal token, never a header or a body.

The per-route checks walk the app's own OpenAPI document, so a route added without protection fails here.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from dispatch import service
from dispatch.main import Adapters
from opsdesk_shared import internal_auth_testing
from opsdesk_shared.contracts import Requester, TicketCreatedV1
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair

OPEN = {"/healthz", "/readyz", "/metrics"}
ADMIN = Caller(subject="mallory", role="admin", name="mallory")


def as_engineer(engineer_id: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": "engineer", "X-Opsdesk-Engineer": engineer_id, "X-Opsdesk-User": user or f"user-{engineer_id}"}


def as_role(role: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": role, "X-Opsdesk-User": user or f"user-{role}"}


@pytest.fixture
async def held(adapters: Adapters) -> dict[str, str]:
    """A ticket with a live assignment: its id and the engineer who holds it."""
    ticket = TicketCreatedV1(
        ticket_id="t-auth", number="INC-2026-000077", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    a = await service.assign_ticket(
        ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )
    return {"ticket_id": a.ticket_id, "engineer_id": a.engineer_id}


async def _operations(client: httpx.AsyncClient, held: dict[str, str]) -> list[tuple[str, str, Any]]:
    """(method, concrete path, example body) for every operation in the service's OpenAPI document."""
    document = (await client.get("/openapi.json")).json()
    params = {"ticket_id": held["ticket_id"], "engineer_id": held["engineer_id"], "escalation_id": "esc-none", "request_id": "r-none"}
    found = []
    for path, item in document["paths"].items():
        if path in OPEN:
            continue
        for method, operation in item.items():
            body: Any = None
            content = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if content is not None:
                schema = content["schema"]
                if "$ref" in schema:
                    schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
                body = (schema.get("examples") or [{}])[0]
            found.append((method.upper(), path.format(**params), body))
    assert len(found) >= 14, found  # every route is here, not only the ones this test knew about
    return found


def _token(*, audience: str = "dispatch", now: float | None = None, private_pem: str | None = None) -> dict[str, str]:
    token = TokenMinter(private_pem or internal_auth_testing.test_keypair()[0]).mint(ADMIN, audience=audience, now=now)
    return {"Authorization": f"Bearer {token}"}


async def test_every_route_refuses_a_caller_it_cannot_verify(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    attempts = {
        "no token": {},
        "forged identity headers only": {"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "admin"},
        "expired token": _token(now=time.time() - 3600),
        "token for another service": _token(audience="assets"),
        "token signed with another key": _token(private_pem=generate_keypair()[0]),
    }
    for method, path, body in await _operations(client, held):
        for what, headers in attempts.items():
            r = await client.request(method, path, json=body, headers=headers, auth=None)
            assert r.status_code == 401, (what, method, path, r.status_code)
    # Nothing changed hands.
    assert (await client.get(f"/api/v1/assignments/{held['ticket_id']}")).json()["history"][-1]["action"] == "assigned"


async def test_requesters_are_refused_everything(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    for method, path, body in await _operations(client, held):
        for sent in (body, {"by": "x"}):  # a malformed body does not turn the refusal into a 422
            r = await client.request(method, path, json=sent, headers=as_role("requester"))
            assert r.status_code == 403, (method, path, r.status_code, r.text)


async def test_auditors_the_agency_and_services_read_everything_and_change_nothing(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    for who in (as_role("auditor"), as_role("agency"), {"X-Opsdesk-Role": "service", "X-Opsdesk-User": "service:intake"}):
        for method, path, body in await _operations(client, held):
            r = await client.request(method, path, json=body, headers=who)
            if method == "GET":
                # (an unknown replacement request is 404 for everyone)
                assert r.status_code == (404 if path.endswith("/r-none") else 200), (who, path, r.status_code)
            elif who.get("X-Opsdesk-Role") == "agency" and path.endswith("/replacement-requests"):
                assert r.status_code == 201, (who, method, path, r.status_code)  # its own decision (issue 16)
            else:
                assert r.status_code == 403, (who, method, path, r.status_code)
    link = await client.get(f"/api/v1/engineers/{held['engineer_id']}", headers={"X-Opsdesk-Role": "service", "X-Opsdesk-User": "service:intake"})
    assert link.json()["id"] == held["engineer_id"]
    assert (await client.get("/api/v1/engineers/eng-ghost", headers={"X-Opsdesk-Role": "service"})).status_code == 404


@pytest.mark.parametrize("field", ["by", "engineer_id", "submitted_by"])
async def test_a_body_that_names_an_actor_is_refused(client: httpx.AsyncClient, held: dict[str, str], field: str) -> None:
    tid, me = held["ticket_id"], as_engineer(held["engineer_id"])
    for path, body, headers in (
        ("accept", {field: held["engineer_id"]}, me),
        ("confirm", {field: "desk"}, {}),
        ("complete", {"work_done": "done", field: "x"}, me),
        ("reassign", {"to": "eng-onsite-2", "reason": "r", field: "desk"}, {}),
    ):
        r = await client.post(f"/api/v1/assignments/{tid}/{path}", json=body, headers=headers)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == field, (path, r.text)


async def test_an_engineer_acts_only_on_assignments_they_hold(client: httpx.AsyncClient, held: dict[str, str], adapters: Adapters) -> None:
    tid, holder = held["ticket_id"], held["engineer_id"]
    colleague = as_engineer(next(e for e in ("eng-onsite-1", "eng-onsite-2") if e != holder))
    before = await adapters.assignments.get(tid)
    for step, body in (
        ("accept", None), ("delay", {"reason": "r"}), ("escalations", {"kind": "other", "description": "d"}),
        ("help", {"question": "q"}), ("complete", {"work_done": "r"}),
    ):
        r = await client.post(f"/api/v1/assignments/{tid}/{step}", json=body, headers=colleague)
        assert r.status_code == 403, (step, r.status_code)
    assert await adapters.assignments.get(tid) == before
    # An engineer without a roster link holds nothing either.
    assert (await client.post(f"/api/v1/assignments/{tid}/accept", headers=as_role("engineer"))).status_code == 403

    r = await client.post(f"/api/v1/assignments/{tid}/accept", headers=as_engineer(holder, "chen.zq"))
    assert r.status_code == 200 and r.json()["history"][-1] == {**r.json()["history"][-1], "action": "accepted", "by": "chen.zq"}
    r = await client.post(f"/api/v1/assignments/{tid}/complete", json={"work_done": "更換硒鼓"}, headers=as_engineer(holder, "chen.zq"))
    assert r.status_code == 200 and r.json()["history"][-1]["by"] == "chen.zq"


async def test_only_the_desk_confirms_and_reassigns_and_nobody_reviews_here(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    tid, me = held["ticket_id"], as_engineer(held["engineer_id"])
    other = next(e for e in ("eng-onsite-1", "eng-onsite-2") if e != held["engineer_id"])
    assert (await client.post(f"/api/v1/assignments/{tid}/confirm", json={}, headers=me)).status_code == 403
    assert (await client.post(f"/api/v1/assignments/{tid}/reassign", json={"to": other, "reason": "r"}, headers=me)).status_code == 403
    # The record is reviewed on the ticket (intake's POST /tickets/{id}/service-record/review), not here.
    r = await client.post(f"/api/v1/assignments/{tid}/review", json={"approved": False, "comment": "型號?"}, headers=as_role("agent", "desk.zhou"))
    assert r.status_code in (404, 405)
    r = await client.post(f"/api/v1/assignments/{tid}/reassign", json={"to": other, "reason": "技能"}, headers=as_role("manager", "boss"))
    assert r.status_code == 200 and r.json()["engineer_id"] == other and r.json()["history"][-1]["by"] == "boss"


async def test_engineers_read_only_what_they_hold_and_others_look_absent(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    tid, holder = held["ticket_id"], held["engineer_id"]
    other = next(e for e in ("eng-onsite-1", "eng-onsite-2") if e != holder)
    assert (await client.get(f"/api/v1/assignments/{tid}", headers=as_engineer(holder))).status_code == 200
    hidden = await client.get(f"/api/v1/assignments/{tid}", headers=as_engineer(other))
    absent = await client.get("/api/v1/assignments/t-nowhere", headers=as_engineer(other))
    assert hidden.status_code == absent.status_code == 404
    # Once the desk moves the ticket, the previous holder loses sight of it and the new one gains it.
    await client.post(f"/api/v1/assignments/{tid}/reassign", json={"to": other, "reason": "r"})
    assert (await client.get(f"/api/v1/assignments/{tid}", headers=as_engineer(holder))).status_code == 404
    assert (await client.get(f"/api/v1/assignments/{tid}", headers=as_engineer(other))).status_code == 200
    for staff in ("agent", "manager", "auditor", "agency", "admin"):
        assert (await client.get(f"/api/v1/assignments/{tid}", headers=as_role(staff))).status_code == 200


async def test_an_engineer_sets_only_their_own_status_and_the_desk_anyones(client: httpx.AsyncClient) -> None:
    me = as_engineer("eng-onsite-1")
    assert (await client.patch("/api/v1/engineers/eng-onsite-2/status", json={"status": "on_leave"}, headers=me)).status_code == 403
    engineers = {e["id"]: e for e in (await client.get("/api/v1/engineers", headers=me)).json()}
    assert engineers["eng-onsite-2"]["status"] == "available"
    r = await client.patch("/api/v1/engineers/eng-onsite-1/status", json={"status": "busy"}, headers=me)
    assert r.status_code == 200 and r.json()["status"] == "busy"
    r = await client.patch("/api/v1/engineers/eng-onsite-2/status", json={"status": "off_duty"}, headers=as_role("agent"))
    assert r.status_code == 200 and r.json()["status"] == "off_duty"
    # The roster itself is the desk's to edit.
    assert (await client.put("/api/v1/engineers/eng-onsite-1", json={"name": "我", "role": "senior"}, headers=me)).status_code == 403


async def test_an_escalation_is_acknowledged_only_by_those_it_was_raised_to(client: httpx.AsyncClient, held: dict[str, str]) -> None:
    tid, me = held["ticket_id"], as_engineer(held["engineer_id"])
    raised = await client.post(f"/api/v1/assignments/{tid}/escalations", json={"kind": "other", "description": "用戶不在現場"}, headers=me)
    esc = raised.json()["escalations"][-1]
    assert esc["notify"] == ["eng-pm-1"]
    ack = f"/api/v1/assignments/{tid}/escalations/{esc['id']}/acknowledge"
    for who in (me, as_engineer("eng-senior-1"), as_role("agent"), as_role("admin"), as_role("auditor"), as_role("agency")):
        assert (await client.post(ack, headers=who)).status_code == 403, who
    assert (await client.post(ack, json={"by": "eng-pm-1"}, headers=as_role("manager"))).status_code == 422
    r = await client.post(ack, headers=as_role("manager", "boss"))
    assert r.status_code == 200 and r.json()["escalations"][-1]["acknowledged_by"] == "boss"

    technical = await client.post(f"/api/v1/assignments/{tid}/escalations", json={"kind": "technical", "description": "宕機"}, headers=me)
    esc = technical.json()["escalations"][-1]
    r = await client.post(f"/api/v1/assignments/{tid}/escalations/{esc['id']}/acknowledge", headers=as_engineer("eng-senior-1", "zhang.gh"))
    assert r.status_code == 200 and r.json()["escalations"][-1]["acknowledged_by"] == "zhang.gh"
