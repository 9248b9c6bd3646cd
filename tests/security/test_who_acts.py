"""Findings 3, 4, 5 and 11 through the gateway: the verified caller is the actor, and sees only what is theirs.

One ticket is lived through by the people the review named: its requester, a colleague in the same department,
the engineer holding it, another engineer, the desk and the project manager.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .support import sign_in, wait_for

pytestmark = pytest.mark.e2e

TAG = "GZ-2026-000001"  # seeded by the demo register


def _ticket(stack: Stack, caller: dict[str, str], **extra: Any) -> httpx.Response:
    body = {"title": "打印机卡纸,无法打印", "description": "三楼财务科打印机卡纸", "channel": "web",
            "service_code": "RS-REPAIR", "asset_tag": TAG, **extra}
    return httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=caller, timeout=15)


@pytest.fixture(scope="module")
def people(stack: Stack, engineers: dict[str, dict[str, str]]) -> dict[str, Any]:
    requester = sign_in(stack, "requester", department="财务科", prefix="wang")
    colleague = sign_in(stack, "requester", department="财务科", prefix="li")
    agent = sign_in(stack, "agent", prefix="desk")
    manager = sign_in(stack, "manager", prefix="pm")
    created = _ticket(stack, requester)
    assert created.status_code == 201, created.text
    ticket = created.json()
    tid = ticket["id"]
    holder_id = wait_for(lambda: (t := httpx.get(f"{stack.gateway}/api/v1/tickets/{tid}", headers=agent, timeout=15).json())
                         .get("assignee") and t["assignee"]["engineer_id"])
    holder = engineers.get(holder_id)
    assert holder is not None, f"assigned to {holder_id}, who has no linked user here"
    other = next(h for e, h in engineers.items() if e != holder_id)
    return {"requester": requester, "colleague": colleague, "agent": agent, "manager": manager, "ticket": ticket,
            "tid": tid, "holder": holder, "holder_id": holder_id, "other": other,
            "other_id": next(e for e in engineers if e != holder_id)}


def test_requesters_report_and_the_desk_decides(stack: Stack, people: dict[str, Any]) -> None:
    requester = people["requester"]
    for field, value in (("priority", "P1"), ("impact", "high"), ("urgency", "high"), ("major_incident", True),
                         ("reported_at", "2026-11-25T09:00:00+08:00")):
        refused = _ticket(stack, requester, **{field: value})
        assert refused.status_code == 422, (field, refused.text)
        assert field in refused.text
    # The account fills the requester: naming someone else is refused (422 naming the field), never filed under them.
    forged = _ticket(stack, requester, requester={"name": "局长", "department": "办公室"})
    assert forged.status_code == 422, forged.text
    assert ("body", "requester", "name") in {tuple(e["loc"]) for e in forged.json()["detail"]}, forged.text
    filed = _ticket(stack, requester)
    assert filed.status_code == 201, filed.text
    assert filed.json()["requester"]["department"] == "财务科"


def test_an_engineer_acts_only_on_what_they_hold(stack: Stack, people: dict[str, Any]) -> None:
    gw, tid, other, holder = stack.gateway, people["tid"], people["other"], people["holder"]
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/accept", headers=other, timeout=15).status_code in (403, 404)
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json={"work_done": "不是我做的"}, headers=other,
                      timeout=15).status_code in (403, 404)
    # The service record is reviewed once, on the ticket, by the desk only.
    assert httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=holder,
                      timeout=15).status_code == 403
    assert httpx.patch(f"{gw}/api/v1/engineers/{people['holder_id']}/status", json={"status": "on_leave"}, headers=other,
                       timeout=15).status_code == 403
    # A body can no longer name who acts.
    forged = httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json={"work_done": "x", "engineer_id": people["other_id"],
                        "by": "mallory"}, headers=holder, timeout=15)
    assert forged.status_code == 422
    accepted = httpx.post(f"{gw}/api/v1/assignments/{tid}/accept", headers=holder, timeout=15)
    assert accepted.status_code == 200, accepted.text
    history = httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=people["agent"], timeout=15).json()["history"]
    actors = {h.get("by") for h in history if h.get("action", h.get("kind", h.get("step"))) in ("accepted", "accept")}
    assert actors and all(a and a.startswith(people["holder_id"]) for a in actors), history


def test_an_escalation_is_acknowledged_only_by_those_it_was_raised_to(stack: Stack, people: dict[str, Any]) -> None:
    gw, tid = stack.gateway, people["tid"]
    raised = httpx.post(f"{gw}/api/v1/assignments/{tid}/escalations", json={"kind": "other", "description": "需要更换主板"},
                        headers=people["holder"], timeout=15)
    assert raised.status_code in (200, 201), raised.text
    escalation = raised.json()["escalations"][-1]["id"]
    url = f"{gw}/api/v1/assignments/{tid}/escalations/{escalation}/acknowledge"
    assert httpx.post(url, headers=people["agent"], timeout=15).status_code == 403
    assert httpx.post(url, headers=people["other"], timeout=15).status_code in (403, 404)
    assert httpx.post(url, headers=people["manager"], timeout=15).status_code == 200


def test_engineers_and_colleagues_read_only_what_is_theirs(stack: Stack, people: dict[str, Any]) -> None:
    gw, tid, other = stack.gateway, people["tid"], people["other"]
    assert httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=other, timeout=15).status_code == 404
    assert httpx.get(f"{gw}/api/v1/tickets/{tid}", headers=other, timeout=15).status_code in (403, 404)
    form = wait_for(lambda: (r := httpx.get(f"{gw}/api/v1/forms/support-record/{tid}", headers=people["agent"], timeout=30))
                    .status_code == 200 and r)
    assert form.content[:4] == b"%PDF"
    assert httpx.get(f"{gw}/api/v1/forms/support-record/{tid}", headers=other, timeout=30).status_code == 404
    assert httpx.get(f"{gw}/api/v1/forms/support-record/{tid}", headers=people["holder"], timeout=30).status_code == 200
    overview = httpx.get(f"{gw}/api/v1/assets/{TAG}/overview", headers=other, timeout=15)
    assert overview.status_code == 200, overview.text
    assert tid not in overview.text and people["ticket"]["number"] not in overview.text
    # Requesters do not read the register at all, through the gateway's composition or behind it.
    for path in (f"/api/v1/assets/{TAG}", f"/api/v1/assets/{TAG}/overview", "/api/v1/assignments/" + tid):
        assert httpx.get(gw + path, headers=people["requester"], timeout=15).status_code in (403, 404), path


def test_only_the_requester_closes_and_rates(stack: Stack, people: dict[str, Any]) -> None:
    gw, tid = stack.gateway, people["tid"]
    resolved = httpx.post(f"{gw}/api/v1/tickets/{tid}/resolve", json={"resolution": "更换搓纸轮后打印正常"},
                          headers=people["agent"], timeout=15)
    assert resolved.status_code == 200, resolved.text
    rating = {"satisfaction": 5, "comment": "很满意"}
    # The desk's resolution withdrew the engineer, who then no longer even sees the ticket (404); never a 200.
    assert httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json=rating, headers=people["holder"], timeout=15).status_code in (403, 404)
    assert httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json=rating, headers=people["colleague"], timeout=15).status_code == 403
    closed = httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json={"satisfaction": 4, "comment": "及时"},
                        headers=people["requester"], timeout=15)
    assert closed.status_code == 200, closed.text
    assert closed.json()["satisfaction"] == 4


def test_a_user_cannot_be_linked_to_an_engineer_the_roster_does_not_know(stack: Stack) -> None:
    from .support import admin

    body = {"username": "ghost.eng", "name": "ghost", "role": "engineer", "password": "Security-suite-pass-1", "engineer_id": "eng-nobody"}
    reply = httpx.post(f"{stack.gateway}/api/v1/users", json=body, headers=admin(stack), timeout=15)
    assert reply.status_code == 422 and "engineer_id" in reply.text
