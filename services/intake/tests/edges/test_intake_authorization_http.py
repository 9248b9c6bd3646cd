"""The agency's authorization of work at the desk's HTTP edge (memory adapters): a catalog service that requires it,
tickets waiting for the agency, its decision, standing authorizations, emergency work and the desk's acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from intake.wiring import Adapters
from opsdesk_shared.contracts import subjects

SERVICE = "RS-ONSITE"


def _published(adapters: Adapters, subject: str, ticket_id: str) -> list[Any]:
    return [e for e in adapters.outbox.published if e.type == subject and e.subject_id == ticket_id]  # type: ignore[attr-defined]


async def _require_authorization(client: httpx.AsyncClient, admin: dict[str, str], code: str = SERVICE) -> dict[str, Any]:
    read = (await client.get(f"/api/v1/catalog/{code}", headers=admin)).json()
    put = await client.put(f"/api/v1/catalog/{code}", json={**read, "requires_authorization": True}, headers=admin)
    assert put.status_code == 200, put.text
    return put.json()  # type: ignore[no-any-return]


async def _file(client: httpx.AsyncClient, who: dict[str, str], **extra: Any) -> dict[str, Any]:
    body = {"title": "服务器内存扩容", "description": "机房服务器需要加内存", "channel": "web", "service_code": SERVICE, **extra}
    created = await client.post("/api/v1/tickets", json=body, headers=who)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


@pytest.fixture
async def guarded(client: httpx.AsyncClient, as_user) -> None:  # type: ignore[no-untyped-def]
    await _require_authorization(client, as_user("admin1"))


async def test_requires_authorization_is_read_and_written_back_unchanged(client, as_user) -> None:  # type: ignore[no-untyped-def]
    admin = as_user("admin1")
    assert (await client.get(f"/api/v1/catalog/{SERVICE}", headers=admin)).json()["requires_authorization"] is False
    edited = await _require_authorization(client, admin)
    assert edited["requires_authorization"] is True

    read = (await client.get(f"/api/v1/catalog/{SERVICE}", headers=admin)).json()
    back = await client.put(f"/api/v1/catalog/{SERVICE}", json=read, headers=admin)

    assert back.status_code == 200, back.text
    assert {k: v for k, v in back.json().items() if k != "version"} == {k: v for k, v in read.items() if k != "version"}


@pytest.mark.usefixtures("guarded")
async def test_a_ticket_of_such_a_service_waits_for_the_agency_and_nobody_works_on_it(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))

    assert ticket["status"] == "awaiting_authorization"
    assert ticket["authorization"]["state"] == "awaiting"
    [created] = _published(adapters, subjects.TICKET_CREATED, ticket["id"])
    assert created.data["awaiting_authorization"] is True and created.data["desk_first"] is False
    work = await client.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "in_progress"},
                             headers={**as_user("agent1"), "Accept-Language": "en"})
    assert work.status_code == 409, work.text
    assert work.json()["allowed"] == ["cancelled"] and "authorization" in work.json()["detail"]
    resolve = await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "x", "at_desk": True, "guidance_minutes": 1},
                                headers=as_user("agent1"))
    assert resolve.status_code == 409, resolve.text
    # Engineers hold nothing of it: not even visible to them.
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("eng1"))).status_code == 404
    # The agency's inbox: the tickets waiting for its decision.
    inbox = await client.get("/api/v1/tickets", params={"status": "awaiting_authorization"}, headers=as_user("agency1"))
    assert inbox.status_code == 200 and [t["id"] for t in inbox.json()["items"]] == [ticket["id"]]
    assert inbox.json()["items"][0]["status"] == "awaiting_authorization"


@pytest.mark.usefixtures("guarded")
@pytest.mark.parametrize("who", ["agent1", "manager1", "admin1", "auditor1", "eng1", "req-office"])
async def test_only_the_agency_decides_the_team_cannot_authorize_its_own_work(client, as_user, who: str) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization", json={"decision": "approve"}, headers=as_user(who))
    assert refused.status_code == 403, refused.text
    shown = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("agent1"))
    assert shown.json()["status"] == "awaiting_authorization"


@pytest.mark.usefixtures("guarded")
async def test_the_agencys_approval_sends_it_to_dispatch_at_once_and_the_history_names_who(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))

    approved = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization",
                                 json={"decision": "approve", "note": "同意"}, headers=as_user("agency1"))

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "new"
    assert body["authorization"] | {"decided_at": None} == body["authorization"] | {
        "state": "approved", "basis": "decision", "decided_by": "agency1", "decided_by_name": "AGENCY1", "note": "同意",
        "decided_at": None,
    }
    [authorized] = _published(adapters, subjects.TICKET_AUTHORIZED, ticket["id"])
    assert authorized.data["dispatch"] is True and authorized.data["by"] == "agency1" and authorized.data["basis"] == "decision"
    [changed] = _published(adapters, subjects.TICKET_STATUS_CHANGED, ticket["id"])
    assert (changed.data["old_status"], changed.data["new_status"], changed.data["by"]) == ("awaiting_authorization", "new", "agency1")
    history = (await client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=as_user("agent1"))).json()
    assert any(e.get("by") == "agency1" and "authorization" in str(e) for e in (history.get("items") if isinstance(history, dict) else history))
    again = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization", json={"decision": "approve"}, headers=as_user("agency1"))
    assert again.status_code == 409 and again.json()["allowed"] == []


@pytest.mark.usefixtures("guarded")
async def test_a_decline_cancels_it_with_the_note_the_requester_reads(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))
    agency = as_user("agency1")
    without = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization", json={"decision": "decline"}, headers=agency)
    assert without.status_code == 422 and without.json()["detail"][0]["loc"] == ["body", "note"]

    declined = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization",
                                 json={"decision": "decline", "note": "本月统一升级，无需单独处理"}, headers=agency)

    assert declined.status_code == 200, declined.text
    seen = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("req-office"))).json()
    assert seen["status"] == "cancelled"
    assert seen["authorization"]["state"] == "declined" and seen["authorization"]["note"] == "本月统一升级，无需单独处理"
    [declined_event] = _published(adapters, subjects.TICKET_AUTHORIZATION_DECLINED, ticket["id"])
    assert declined_event.data["by"] == "agency1"
    [changed] = _published(adapters, subjects.TICKET_STATUS_CHANGED, ticket["id"])
    assert changed.data["new_status"] == "cancelled" and changed.data["reason"] == "本月统一升级，无需单独处理"
    assert _published(adapters, subjects.TICKET_AUTHORIZED, ticket["id"]) == []
    # The requester's timeline (issue 16): the decline is a step of their ticket's history, with the agency's note.
    [step] = [e for e in seen["history"] if e["action"] == "authorization:declined"]
    assert step["changes"]["status"] == {"old": "awaiting_authorization", "new": "cancelled"}
    assert step["changes"]["reason"]["new"] == "本月统一升级，无需单独处理"
    assert (step["by"], step["by_name"], step["role"], step["source"]) == ("agency1", "AGENCY1", "agency", "")
    assert [e["changes"]["status"]["new"] for e in seen["history"] if "status" in e["changes"]][-1] == "cancelled"
    staff = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("agent1"))).json()
    assert [e["action"] for e in staff["history"]] == [e["action"] for e in seen["history"]]


@pytest.mark.usefixtures("guarded")
async def test_a_requester_reads_the_steps_reasons_addressed_to_them_only(client, as_user) -> None:  # type: ignore[no-untyped-def]
    """The desk's words on a step are work notes: a requester reads that the step happened, not the desk's reason;
    their own reason and the agency's decision they read."""
    ticket = await _file(client, as_user("req-office"))
    agent = as_user("agent1")
    approved = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization", json={"decision": "approve", "note": "同意"},
                                 headers=as_user("agency1"))
    assert approved.status_code == 200, approved.text
    moved = await client.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "cancelled", "reason": "内部：重复工单"},
                              headers={**agent, "If-Match": approved.headers["ETag"]})
    assert moved.status_code == 200, moved.text

    mine = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("req-office"))).json()["history"]
    staff = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()["history"]

    assert [e["action"] for e in mine] == [e["action"] for e in staff]
    by_action = {e["action"]: e for e in mine}
    assert by_action["authorization:approved"]["changes"]["authorization_note"]["new"] == "同意"
    desk = [e for e in mine if e["by"] == "agent1"]
    assert desk and all("reason" not in e["changes"] for e in desk)
    assert any(e["changes"].get("reason", {}).get("new") == "内部：重复工单" for e in staff)


@pytest.mark.usefixtures("guarded")
async def test_a_standing_authorization_authorizes_matching_tickets_at_once(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    agency = as_user("agency1")
    until = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    body = {"service_code": SERVICE, "departments": ["办公室"], "valid_until": until, "note": "日常维护"}
    assert (await client.post("/api/v1/standing-authorizations", json=body, headers=as_user("manager1"))).status_code == 403
    made = await client.post("/api/v1/standing-authorizations", json=body, headers=agency)
    assert made.status_code == 201, made.text
    standing = made.json()

    covered = await _file(client, as_user("req-office"))  # 辦公室: the same department, in the other script
    other = await _file(client, as_user("req-finance"))

    assert covered["status"] == "new"
    assert covered["authorization"]["basis"] == "standing" and covered["authorization"]["standing_authorization_id"] == standing["id"]
    [authorized] = _published(adapters, subjects.TICKET_AUTHORIZED, covered["id"])
    assert authorized.data["dispatch"] is False and authorized.data["standing_authorization_id"] == standing["id"]
    assert authorized.data["by"] == f"standing:{standing['id']}"
    [created] = _published(adapters, subjects.TICKET_CREATED, covered["id"])
    assert created.data["awaiting_authorization"] is False
    assert other["status"] == "awaiting_authorization"
    listed = await client.get("/api/v1/standing-authorizations", headers=as_user("auditor1"))
    assert [s["id"] for s in listed.json()] == [standing["id"]]


async def test_standing_authorizations_are_kept_by_the_agency(client, as_user) -> None:  # type: ignore[no-untyped-def]
    agency = as_user("agency1")
    until = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    past = (datetime.now(UTC) - timedelta(days=3)).date().isoformat()
    refused = await client.post("/api/v1/standing-authorizations", json={"service_code": SERVICE, "valid_until": past}, headers=agency)
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "valid_until"]
    unknown = await client.post("/api/v1/standing-authorizations", json={"service_code": "RS-NOPE", "valid_until": until}, headers=agency)
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "service_code"]
    made = (await client.post("/api/v1/standing-authorizations", json={"service_code": SERVICE, "valid_until": until}, headers=agency)).json()
    path = f"/api/v1/standing-authorizations/{made['id']}"

    changed = await client.put(path, json={"service_code": SERVICE, "valid_until": until, "asset_types": ["printer"]}, headers=agency)
    assert changed.status_code == 200 and changed.json()["asset_types"] == ["printer"] and changed.json()["version"] == 2
    stale = await client.put(path, json={"service_code": SERVICE, "valid_until": until}, headers={**agency, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await client.delete(path, headers=as_user("admin1"))).status_code == 403
    assert (await client.get("/api/v1/standing-authorizations", headers=as_user("eng1"))).status_code == 403
    assert (await client.delete(path, headers=agency)).status_code == 204
    assert (await client.get(path, headers=agency)).status_code == 404


@pytest.mark.usefixtures("guarded")
async def test_a_standing_authorization_for_an_asset_type_covers_only_that_type(client, as_user) -> None:  # type: ignore[no-untyped-def]
    until = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    body = {"service_code": SERVICE, "asset_types": ["printer"], "valid_until": until}
    assert (await client.post("/api/v1/standing-authorizations", json=body, headers=as_user("agency1"))).status_code == 201

    on_printer = await _file(client, as_user("req-office"), asset_tag="GZ-2026-000001")
    without_asset = await _file(client, as_user("req-office"))

    assert on_printer["status"] == "new" and on_printer["authorization"]["basis"] == "standing"
    assert without_asset["status"] == "awaiting_authorization"


@pytest.mark.usefixtures("guarded")
async def test_emergency_work_is_dispatched_first_and_decided_after(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    refused = await client.post("/api/v1/tickets", json={
        "title": "x", "channel": "web", "service_code": SERVICE, "emergency": True}, headers=as_user("req-office"))
    assert refused.status_code == 422 and "emergency" in refused.text
    ticket = await _file(client, as_user("agent1"), requester={"name": "王小明", "department": "办公室"}, emergency=True)

    assert ticket["status"] == "new" and ticket["authorization"] == ticket["authorization"] | {"state": "awaiting", "emergency": True}
    [created] = _published(adapters, subjects.TICKET_CREATED, ticket["id"])
    assert created.data["emergency"] is True and created.data["awaiting_authorization"] is False

    approved = await client.post(f"/api/v1/tickets/{ticket['id']}/authorization", json={"decision": "approve"}, headers=as_user("agency1"))
    assert approved.status_code == 200 and approved.json()["status"] == "new"
    [authorized] = _published(adapters, subjects.TICKET_AUTHORIZED, ticket["id"])
    assert authorized.data["dispatch"] is False and authorized.data["emergency"] is True


@pytest.mark.usefixtures("guarded")
async def test_the_desk_acknowledges_a_waiting_ticket_once(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))
    assert (await client.post(f"/api/v1/tickets/{ticket['id']}/acknowledge", headers=as_user("agency1"))).status_code == 403

    first = await client.post(f"/api/v1/tickets/{ticket['id']}/acknowledge", headers=as_user("agent1"))
    again = await client.post(f"/api/v1/tickets/{ticket['id']}/acknowledge", headers=as_user("agent1"))

    assert first.status_code == 200 and first.json()["acknowledged_at"] is not None
    assert "Idempotent-Replayed" not in first.headers
    assert again.json()["acknowledged_at"] == first.json()["acknowledged_at"]
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"  # said, not shown as a new act
    updates = [e for e in _published(adapters, subjects.TICKET_UPDATED, ticket["id"]) if "acknowledged_at" in e.data["changes"]]
    assert len(updates) == 1


@pytest.mark.usefixtures("guarded")
async def test_sending_a_waiting_ticket_to_dispatch_is_refused_as_any_step_before_the_agency(client, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))
    agent = {**as_user("agent1"), "Accept-Language": "en"}

    sent = await client.post(f"/api/v1/tickets/{ticket['id']}/dispatch", headers=agent)
    status = await client.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "in_progress"}, headers=agent)

    assert sent.status_code == 409, sent.text
    assert sent.json()["allowed"] == status.json()["allowed"] == ["cancelled"]
    assert "authorization" in sent.json()["detail"] and "with dispatch" not in sent.json()["detail"]


@pytest.mark.usefixtures("guarded")
async def test_the_desks_counts_name_the_tickets_waiting_for_the_agency(client, as_user) -> None:  # type: ignore[no-untyped-def]
    ticket = await _file(client, as_user("req-office"))

    counts = (await client.get("/api/v1/tickets/counts", headers=as_user("agent1"))).json()
    listed = await client.get("/api/v1/tickets", params={"status": "awaiting_authorization"}, headers=as_user("agent1"))

    assert counts["authorization"] == listed.json()["total"] == 1
    assert [t["id"] for t in listed.json()["items"]] == [ticket["id"]]


@pytest.mark.usefixtures("guarded")
async def test_the_agency_lists_emergency_work_still_waiting_for_its_decision(client, as_user) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: emergency work is new or later, so ?status=awaiting_authorization missed it; the agency finds it
    with authorization=awaiting&emergency=true until it decides, whatever state the work is in."""
    agent = as_user("agent1")
    urgent = await _file(client, agent, requester={"name": "王小明", "department": "办公室"}, emergency=True)
    decided = await _file(client, agent, requester={"name": "李四", "department": "财务科"}, emergency=True)
    waiting = await _file(client, as_user("req-office"))
    agency = as_user("agency1")
    assert (await client.post(f"/api/v1/tickets/{decided['id']}/authorization", json={"decision": "approve"}, headers=agency)).status_code == 200

    page = await client.get("/api/v1/tickets", params={"authorization": "awaiting", "emergency": "true"}, headers=agency)

    assert page.status_code == 200, page.text
    assert [t["id"] for t in page.json()["items"]] == [urgent["id"]] and page.json()["total"] == 1
    item = page.json()["items"][0]
    assert (item["status"], item["authorization_state"], item["emergency"]) == ("new", "awaiting", True)
    every = await client.get("/api/v1/tickets", params=[("authorization", "awaiting")], headers=agency)
    assert {t["id"] for t in every.json()["items"]} == {urgent["id"], waiting["id"]}
    bad = await client.get("/api/v1/tickets", params={"authorization": "maybe"}, headers={**agency, "Accept-Language": "en"})
    assert bad.status_code == 422 and "authorization" in str(bad.json()["detail"][0]["loc"])
