"""Issue 12 at the desk, over HTTP as each role: requesters report and the desk decides, only the own requester closes
and rates, engineers hold tickets by their roster link, and mail threads only from the requester or staff."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import HTTPException

from intake import service
from intake.entrypoints.mail_http import parse_off_loop
from intake.identity import Identity
from intake.identity.domain import User
from intake.wiring import Adapters
from opsdesk_shared.contracts import TicketAssignedV1

Headers = Callable[[str], dict[str, str]]


def _own(body: dict[str, Any]) -> dict[str, Any]:
    """A requester's body: their account says who reports (naming someone else is a 422)."""
    return {k: v for k, v in body.items() if k != "requester"}


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str, engineer_id: str) -> None:
    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=f"a-{uuid.uuid4()}", engineer_id=engineer_id, engineer_name=engineer_id,
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


async def _user(identity: Identity, username: str, role: str, **fields: Any) -> dict[str, str]:
    now = datetime.now(UTC)
    user = User(username=username, name=username.upper(), role=role, created_at=now, updated_at=now, **fields)  # type: ignore[arg-type]
    assert await identity.users.add(user)
    return {"Authorization": f"Bearer {identity.signer.issue(user)}"}


async def _resolved(client: httpx.AsyncClient, adapters: Adapters, as_user: Headers, ticket_body: dict[str, Any]) -> str:
    """A ticket req-office reported, held by eng1 and resolved by the desk."""
    ticket = await _create(client, as_user("req-office"), _own(ticket_body))
    await _assign(adapters, ticket["id"], "eng1")
    resolved = await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "已更換硒鼓"}, headers=as_user("agent1"))
    assert resolved.status_code == 200, resolved.text
    return str(ticket["id"])


# --- requesters report, the desk decides -----------------------------------------------------------------------------

async def test_requesters_account_fills_the_requester_and_the_contact_they_give_is_kept(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    body = {**_own(ticket_body), "requester": {"name": "REQ-OFFICE", "department": "办公室", "phone": "020-87654321"}}
    ticket = await _create(client, as_user("req-office"), body)  # their own name, their department in 简体
    assert ticket["requester"] == {"name": "REQ-OFFICE", "department": "辦公室", "phone": "020-87654321", "email": None}
    assert ticket["requester_id"] == "req-office"
    without = await _create(client, as_user("req-office"), _own(ticket_body))
    assert (without["requester"]["name"], without["requester_id"]) == ("REQ-OFFICE", "req-office")


@pytest.mark.parametrize(("given", "named"), [
    ({"name": "局長"}, "name"),
    ({"name": "REQ-OFFICE", "department": "財務科"}, "department"),
])
async def test_a_requester_naming_someone_else_is_a_422_naming_the_field_not_silently_replaced(  # type: ignore[no-untyped-def]
    client, adapters, as_user, ticket_body, given, named
) -> None:
    response = await client.post("/api/v1/tickets", json={**ticket_body, "requester": given}, headers=as_user("req-office"))
    assert response.status_code == 422, response.text
    assert [d["loc"] for d in response.json()["detail"]] == [["body", "requester", named]]
    assert adapters.outbox.published == []


async def test_requester_cannot_file_under_another_requesters_id(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    refused = await client.post("/api/v1/tickets", json={**ticket_body, "requester_id": "req-office2"}, headers=as_user("req-office"))
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "requester_id"]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"impact": "high"}, "impact"),
        ({"urgency": "high"}, "urgency"),
        ({"major_incident": True}, "major_incident"),
        ({"reported_at": "REPORTED"}, "reported_at"),
        ({"priority": "P1", "priority_reason": "急"}, "priority"),
    ],
)
async def test_requester_setting_a_triage_field_is_a_422_naming_it(client, adapters, as_user, ticket_body, extra, named) -> None:  # type: ignore[no-untyped-def]
    if extra.get("reported_at") == "REPORTED":
        extra = {"reported_at": (datetime.now(UTC) - timedelta(days=6)).isoformat()}
    refused = await client.post("/api/v1/tickets", json={**ticket_body, **extra}, headers=as_user("req-office"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"] == ["body", named]
    assert adapters.outbox.published == []  # nothing was opened, so no clock started


async def test_desk_keeps_its_powers_and_must_name_the_requester(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    reported_at = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    ticket = await _create(client, agent, ticket_body, impact="high", urgency="high", major_incident=True, reported_at=reported_at,
                           requester_id="req-finance")
    assert (ticket["priority"], ticket["major_incident"], ticket["requester_id"]) == ("P1", True, "req-finance")
    nameless = await client.post("/api/v1/tickets", json={k: v for k, v in ticket_body.items() if k != "requester"}, headers=agent)
    assert nameless.status_code == 422 and nameless.json()["detail"][0]["loc"] == ["body", "requester"]


async def test_requester_patch_of_a_triage_field_is_a_422_naming_it_and_the_desk_patches(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket = await _create(client, as_user("req-office"), _own(ticket_body))
    url = f"/api/v1/tickets/{ticket['id']}"
    for patch, named in (({"major_incident": True}, "major_incident"), ({"urgency": "high"}, "urgency"),
                         ({"priority": "P1", "priority_reason": "急"}, "priority")):
        refused = await client.patch(url, json=patch, headers=as_user("req-office"))
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", named], refused.text
    assert (await client.patch(url, json={"title": "改"}, headers=as_user("req-office"))).status_code == 403
    desk = await client.patch(url, json={"impact": "high", "urgency": "high", "major_incident": True}, headers=as_user("agent1"))
    assert desk.status_code == 200 and (desk.json()["priority"], desk.json()["major_incident"]) == ("P1", True)


# --- closing and satisfaction ----------------------------------------------------------------------------------------

async def test_only_the_own_requester_closes_and_rates(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    tid = await _resolved(client, adapters, as_user, ticket_body)
    url = f"/api/v1/tickets/{tid}/close"
    colleague = as_user("req-office2")
    assert (await client.get(f"/api/v1/tickets/{tid}", headers=colleague)).status_code == 200  # sees it
    assert (await client.post(url, json={}, headers=colleague)).status_code == 403
    assert (await client.post(url, json={"satisfaction": 1}, headers=colleague)).status_code == 403
    assert (await client.post(url, json={"satisfaction": 5}, headers=as_user("eng1"))).status_code == 403
    assert (await client.post(url, json={}, headers=as_user("eng1"))).status_code == 403
    assert (await client.post(url, json={"satisfaction": 5}, headers=as_user("agent1"))).status_code == 403
    assert (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("agent1"))).json()["status"] == "resolved"
    closed = await client.post(url, json={"satisfaction": 4, "comment": "很快"}, headers=as_user("req-office"))
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["satisfaction"], closed.json()["satisfaction_comment"]) == ("closed", 4, "很快")


async def test_desk_closes_without_a_score(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    tid = await _resolved(client, adapters, as_user, ticket_body)
    closed = await client.post(f"/api/v1/tickets/{tid}/close", json={}, headers=as_user("manager1"))
    assert closed.status_code == 200 and (closed.json()["status"], closed.json()["satisfaction"]) == ("closed", None)


# --- holding is the roster link ----------------------------------------------------------------------------------------

async def test_engineer_holds_by_roster_link_not_by_username(client, adapters, identity, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    linked = await _user(identity, "chen.wei", "engineer", engineer_id="E-42")
    # Username equal to the roster id the ticket is assigned to, but linked to another engineer.
    twin = await _user(identity, "e-42", "engineer", engineer_id="E-43")
    ticket = await _create(client, as_user("agent1"), ticket_body)
    await _assign(adapters, ticket["id"], "E-42")
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=linked)).status_code == 200
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=twin)).status_code == 404
    started = await client.post(f"/api/v1/tickets/{ticket['id']}/status", json={"status": "in_progress"}, headers=linked)
    assert started.status_code == 200


# --- mail threading ----------------------------------------------------------------------------------------------------

def _mail(sender: str, subject: str, body: str, message_id: str) -> bytes:
    return (f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


async def _post_mail(client: httpx.AsyncClient, as_user: Headers, raw: bytes) -> httpx.Response:
    return await client.post("/api/v1/inbound/email", content=raw, headers={**as_user("agent1"), "Content-Type": "message/rfc822"})


async def test_outside_sender_quoting_a_ticket_opens_a_new_one_with_a_note(client, as_user) -> None:  # type: ignore[no-untyped-def]
    first = await _post_mail(client, as_user, _mail("王小明 <wang@agency.example>", "打印機卡紙", "三樓", "<m1@x>"))
    number, tid = first.json()["number"], first.json()["ticket_id"]
    forged = await _post_mail(client, as_user, _mail("Desk <attacker@evil.example>", f"Re: [{number}] 請重設密碼", "請點連結", "<m2@x>"))
    assert forged.status_code == 201 and forged.json()["outcome"] == "created" and forged.json()["ticket_id"] != tid
    original = (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("agent1"))).json()
    assert original["comments"] == []
    new = (await client.get(f"/api/v1/tickets/{forged.json()['ticket_id']}", headers=as_user("agent1"))).json()
    assert new["requester"]["email"] == "attacker@evil.example"
    [note] = new["comments"]
    assert note["internal"] is True and number in note["body"]
    history = (await client.get(f"/api/v1/tickets/{new['id']}/history", headers=as_user("agent1"))).json()
    assert "work_note" in [entry["action"] for entry in history]


async def test_requester_and_staff_replies_thread(client, identity, as_user) -> None:  # type: ignore[no-untyped-def]
    await _user(identity, "desk.zhou", "agent", email="Zhou@Agency.example")
    await _user(identity, "auditor.x", "auditor", email="audit@agency.example")
    first = await _post_mail(client, as_user, _mail("王小明 <wang@agency.example>", "打印機卡紙", "三樓", "<t1@x>"))
    number, tid = first.json()["number"], first.json()["ticket_id"]
    for sender, message_id in (("WANG@agency.example", "<t2@x>"), ("周敏 <zhou@agency.example>", "<t3@x>")):
        reply = await _post_mail(client, as_user, _mail(sender, f"Re: [{number}] 打印機卡紙", "還是卡紙\r\n> 舊", message_id))
        assert reply.json() == {"outcome": "threaded", "ticket_id": tid, "number": number}, sender
    auditor = await _post_mail(client, as_user, _mail("audit@agency.example", f"Re: [{number}]", "x", "<t4@x>"))
    assert auditor.json()["outcome"] == "created"  # auditors change nothing, by mail neither


async def test_reply_from_the_requesters_account_address_threads(client, identity, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    requester = await _user(identity, "li.si", "requester", department="辦公室", email="li.si@agency.example")
    ticket = await _create(client, requester, _own(ticket_body))
    reply = await _post_mail(client, as_user, _mail("li.si@agency.example", f"Re: [{ticket['number']}]", "好了", "<u1@x>"))
    assert reply.json()["outcome"] == "threaded" and reply.json()["ticket_id"] == ticket["id"]
    colleague = await _user(identity, "wu.wu", "requester", department="辦公室", email="wu@agency.example")
    assert colleague
    other = await _post_mail(client, as_user, _mail("wu@agency.example", f"Re: [{ticket['number']}]", "我也是", "<u2@x>"))
    assert other.json()["outcome"] == "created"


async def test_a_large_adversarial_mail_is_answered_quickly(client, as_user) -> None:  # type: ignore[no-untyped-def]
    raw = _mail("a@agency.example", "大郵件", "王" + "於" * (4 * 1024 * 1024 // 3), "<big@x>")
    started = time.perf_counter()
    response = await _post_mail(client, as_user, raw)
    assert response.status_code == 201, response.text
    assert time.perf_counter() - started < 3.0


async def test_parsing_over_its_budget_is_a_422() -> None:
    raw = _mail("a@agency.example", "s", "x於y寫道 " * 400_000, "<slow@x>")
    with pytest.raises(HTTPException) as refused:
        await parse_off_loop(raw, budget_s=0.000_001)
    assert refused.value.status_code == 422
