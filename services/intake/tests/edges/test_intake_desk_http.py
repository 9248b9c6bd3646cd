"""The desk over HTTP on memory adapters: lifecycle, roles, ETags, idempotency, search, mail, catalog, errors."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from intake.domain import Assignee
from intake.wiring import Adapters

Headers = Callable[[str], dict[str, str]]


def _own(body: dict[str, Any]) -> dict[str, Any]:
    """A requester's body: their account says who reports (naming someone else is a 422)."""
    return {k: v for k, v in body.items() if k != "requester"}


async def _create(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/tickets", json={**body, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def _assign(adapters: Adapters, ticket_id: str, engineer: str) -> None:
    """What intake does when dispatch's ticket.assigned arrives."""
    from intake import service
    from opsdesk_shared.contracts import TicketAssignedV1

    await service.record_assignment(
        TicketAssignedV1(ticket_id=ticket_id, assignment_id=f"a-{uuid.uuid4()}", engineer_id=engineer, engineer_name=engineer,
                         reason="test", assigned_at=datetime.now(UTC)),
        desk=adapters.desk,
    )


async def _complete(
    adapters: Adapters, ticket_id: str, engineer: str, *, work_done: str, parts: list[dict[str, Any]] | None = None,
    at: datetime | None = None,
) -> None:
    """What intake does when dispatch's assignment.completed arrives (the engineer completed with the record)."""
    from intake import service
    from opsdesk_shared.contracts import AssignmentCompletedV1

    ticket = await adapters.desk.store.get(ticket_id)
    assert ticket is not None and ticket.assignee is not None
    await service.record_completion(
        AssignmentCompletedV1(
            ticket_id=ticket_id, assignment_id=ticket.assignee.assignment_id, engineer_id=engineer, record=work_done,
            work_done=work_done, parts_used=parts or [], minutes_on_site=25, by=f"user-{engineer}",  # type: ignore[arg-type]
            completed_at=at or datetime.now(UTC),
        ),
        desk=adapters.desk, now=datetime.now(UTC), correlation_id="c",
    )


# --- lifecycle over HTTP ---------------------------------------------------------------------------------------------

async def test_illegal_transition_is_409_with_the_allowed_states(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    response = await client.post(f"/api/v1/tickets/{ticket['id']}/close", json={}, headers=agent)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "illegal_transition"
    assert body["current_status"] == "new"
    assert set(body["allowed"]) == {"assigned", "in_progress", "pending", "resolved", "cancelled"}


async def test_full_lifecycle_from_intake_to_closure(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent, eng, requester = as_user("agent1"), as_user("eng1"), as_user("req-office")
    ticket = await _create(client, requester, _own(ticket_body))
    await _assign(adapters, ticket["id"], "eng1")
    tid = ticket["id"]
    assert (await client.post(f"/api/v1/tickets/{tid}/status", json={"status": "in_progress"}, headers=eng)).status_code == 200
    pending = await client.post(f"/api/v1/tickets/{tid}/status", json={"status": "pending", "pending_reason": "parts"}, headers=eng)
    assert pending.json()["pending_reason"] == "parts"
    assert (await client.post(f"/api/v1/tickets/{tid}/status", json={"status": "in_progress"}, headers=eng)).status_code == 200
    # The engineer completes through dispatch; its assignment.completed resolves the ticket with the record.
    await _complete(adapters, tid, "eng1", work_done="更換硒鼓", parts=[{"part": "HP 26A", "quantity": 1}])
    waiting = await client.post(f"/api/v1/tickets/{tid}/close", json={"satisfaction": 5}, headers=requester)
    assert waiting.status_code == 409 and "review" in waiting.json()["detail"]
    review = await client.post(f"/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=agent)
    assert review.json()["service_record"]["review"] == "approved"
    closed = await client.post(f"/api/v1/tickets/{tid}/close", json={"satisfaction": 5, "comment": "很快"}, headers=requester)
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["satisfaction"]) == ("closed", 5)
    published = adapters.outbox.published
    types = [e.type for e in published]
    moves = [e.data["new_status"] for e in published if e.type == "ticket.status_changed" and e.data["new_status"] != "assigned"]
    assert moves == ["in_progress", "pending", "in_progress", "resolved", "closed"]
    assert {"ticket.created", "ticket.resolved", "ticket.closed", "ticket.updated", "ticket.service_record_reviewed"} <= set(types)


async def test_desk_resolution_at_first_contact_counts_in_the_desk_share(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    one = await _create(client, agent, ticket_body)
    two = await _create(client, agent, ticket_body)
    r = await client.post(f"/api/v1/tickets/{one['id']}/resolve",
                          json={"resolution": "指導重啟", "at_desk": True, "guidance_minutes": 3, "article_id": "kb-7"}, headers=agent)
    assert r.status_code == 200 and r.json()["resolved_at_desk"] is True
    await client.post(f"/api/v1/tickets/{two['id']}/resolve", json={"resolution": "換件"}, headers=agent)
    share = (await client.get("/api/v1/stats/desk", headers=agent)).json()
    assert share == {"month": None, "resolved": 2, "resolved_at_desk": 1, "share": 0.5}


async def test_guidance_over_five_minutes_is_a_field_error(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    r = await client.post(f"/api/v1/tickets/{ticket['id']}/resolve",
                          json={"resolution": "x", "at_desk": True, "guidance_minutes": 9}, headers=agent)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "guidance_minutes"]


# --- roles -----------------------------------------------------------------------------------------------------------

async def test_requester_cannot_read_another_departments_ticket(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket = await _create(client, as_user("req-office"), _own(ticket_body))
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("req-finance"))).status_code == 404
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=as_user("req-office2"))).status_code == 200
    listed = (await client.get("/api/v1/tickets", headers=as_user("req-finance"))).json()["items"]
    assert ticket["id"] not in [t["id"] for t in listed]


async def test_requester_ticket_is_pinned_to_their_own_department(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["requester"]["department"] = "財務科"
    ticket = await _create(client, as_user("req-office"), _own(ticket_body))
    assert ticket["requester"]["department"] == "辦公室"
    assert ticket["requester_id"] == "req-office"


async def test_engineer_cannot_close_a_ticket_held_or_not(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    await _assign(adapters, ticket["id"], "eng1")
    await client.post(f"/api/v1/tickets/{ticket['id']}/resolve", json={"resolution": "done"}, headers=agent)
    refused = await client.post(f"/api/v1/tickets/{ticket['id']}/close", json={}, headers=as_user("eng2"))
    assert refused.status_code == 404  # eng2 cannot even see it
    still = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert still["status"] == "resolved"
    holder = await client.post(f"/api/v1/tickets/{ticket['id']}/close", json={}, headers=as_user("eng1"))
    assert holder.status_code == 403  # the requester closes (and rates) the work, not the engineer who did it


async def test_engineer_sees_only_assigned_tickets(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    mine = await _create(client, agent, ticket_body)
    await _create(client, agent, ticket_body)
    await _assign(adapters, mine["id"], "eng1")
    listed = (await client.get("/api/v1/tickets", headers=as_user("eng1"))).json()["items"]
    assert [t["id"] for t in listed] == [mine["id"]]


async def test_auditor_reads_everything_and_changes_nothing(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket = await _create(client, as_user("req-office"), _own(ticket_body))
    auditor = as_user("auditor1")
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=auditor)).status_code == 200
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=auditor)).status_code == 200
    for method, path, body in (
        ("PATCH", f"/api/v1/tickets/{ticket['id']}", {"title": "x"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/comments", {"body": "x"}),
        ("POST", f"/api/v1/tickets/{ticket['id']}/status", {"status": "cancelled", "reason": "x"}),
        ("POST", "/api/v1/tickets", ticket_body),
    ):
        r = await client.request(method, path, json=body, headers=auditor)
        assert r.status_code == 403, (method, path, r.text)


async def test_requester_does_not_see_work_notes(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    requester, agent = as_user("req-office"), as_user("agent1")
    ticket = await _create(client, requester, _own(ticket_body))
    await client.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "用戶很急", "internal": True}, headers=agent)
    await client.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "我們正在處理"}, headers=agent)
    seen_by_requester = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=requester)).json()["comments"]
    seen_by_agent = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()["comments"]
    assert [c["body"] for c in seen_by_requester] == ["我們正在處理"]
    assert len(seen_by_agent) == 2
    assert (await client.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "x", "internal": True}, headers=requester)).status_code == 403


async def test_history_records_who_when_what_and_from_where(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"impact": "high", "urgency": "high"}, headers=agent)
    history = (await client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=agent)).json()
    assert [h["action"] for h in history] == ["created", "updated"]
    assert history[1]["by"] == "agent1" and history[1]["source"] == "127.0.0.1"
    assert history[1]["changes"]["priority"] == {"old": "P3", "new": "P1"}
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}/history", headers=as_user("req-office"))).status_code in (403, 404)


# --- optimistic concurrency and idempotency --------------------------------------------------------------------------

async def test_stale_if_match_is_412_and_fresh_one_succeeds(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    created = await client.post("/api/v1/tickets", json=ticket_body, headers=agent)
    etag = created.headers["ETag"]
    first = await client.patch(f"/api/v1/tickets/{created.json()['id']}", json={"title": "A"}, headers={**agent, "If-Match": etag})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    stale = await client.patch(f"/api/v1/tickets/{created.json()['id']}", json={"title": "B"}, headers={**agent, "If-Match": etag})
    assert stale.status_code == 412
    assert stale.json()["code"] == "stale_version" and stale.headers["ETag"] == first.headers["ETag"]
    read = await client.get(f"/api/v1/tickets/{created.json()['id']}", headers=agent)
    assert read.json()["title"] == "A" and read.headers["ETag"] == first.headers["ETag"]


async def test_garbage_if_match_is_412(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    r = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"title": "A"}, headers={**agent, "If-Match": '"abc"'})
    assert r.status_code == 412


async def test_concurrent_retries_with_one_idempotency_key_make_one_ticket(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    key = {"Idempotency-Key": f"retry-{uuid.uuid4()}"}
    responses = await asyncio.gather(*(client.post("/api/v1/tickets", json=ticket_body, headers={**agent, **key}) for _ in range(8)))
    assert {r.json()["id"] for r in responses} == {responses[0].json()["id"]}
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len(adapters.store.tickets) == 1


async def test_same_key_from_two_callers_makes_two_tickets(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    key = {"Idempotency-Key": "shared-key"}
    one = await client.post("/api/v1/tickets", json=ticket_body, headers={**as_user("agent1"), **key})
    two = await client.post("/api/v1/tickets", json=ticket_body, headers={**as_user("manager1"), **key})
    assert one.json()["id"] != two.json()["id"]


# --- search over HTTP ------------------------------------------------------------------------------------------------

async def test_search_by_chinese_text_and_filters(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    printer = await _create(client, agent, ticket_body)
    await _create(client, agent, ticket_body, title="VPN 無法連線", description="在家無法連線", service_code="RS-OTHER", channel="web")
    hits = (await client.get("/api/v1/tickets", params={"q": "打印機"}, headers=agent)).json()["items"]
    assert [t["id"] for t in hits] == [printer["id"]]
    web = (await client.get("/api/v1/tickets", params={"channel": "web", "q": "vpn"}, headers=agent)).json()["items"]
    assert [t["title"] for t in web] == ["VPN 無法連線"]
    both = (await client.get("/api/v1/tickets", params=[("service_code", "RS-OTHER"), ("service_code", "RS-REPAIR")], headers=agent)).json()
    assert len(both["items"]) == 2
    by_id = (await client.get("/api/v1/tickets", params=[("id", printer["id"]), ("id", "no-such-ticket"), ("channel", "hotline")], headers=agent)).json()
    assert [t["id"] for t in by_id["items"]] == [printer["id"]] and by_id["total"] == 1


async def test_cursor_pagination_over_http(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    made = [await _create(client, agent, ticket_body, title=f"ticket {i}") for i in range(7)]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 3, "sort": "number"}
    while True:
        page = (await client.get("/api/v1/tickets", params=params, headers=agent)).json()
        seen += [t["id"] for t in page["items"]]
        if not page["next_cursor"]:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [t["id"] for t in made]


async def test_bad_search_inputs_are_field_errors(client, as_user) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    for params, loc in (
        ({"limit": 0}, ["query", "limit"]),
        ({"sort": "title"}, ["query", "sort"]),
        ({"status": "open"}, ["query", "status", 0]),
        ({"cursor": "zzz"}, ["query", "cursor"]),
        ({"created_from": "2026-03-01T00:00:00"}, ["query", "created_from"]),
        ([("id", f"t-{i}") for i in range(201)], ["query", "id"]),
    ):
        r = await client.get("/api/v1/tickets", params=params, headers=agent)
        assert r.status_code == 422, params
        assert r.json()["detail"][0]["loc"] == loc


# --- bad input -------------------------------------------------------------------------------------------------------

async def test_unknown_service_code_is_a_field_error(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/tickets", json={**ticket_body, "service_code": "XX-NOPE"}, headers=as_user("agent1"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "service_code"]


async def test_future_reported_at_is_a_field_error(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await client.post("/api/v1/tickets", json={**ticket_body, "reported_at": future}, headers=as_user("agent1"))
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "reported_at"]


async def test_invalid_utf8_body_is_a_clear_4xx(client, as_user) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/tickets", content=b'{"title": "\xff\xfe"}', headers={**as_user("agent1"), "Content-Type": "application/json"})
    assert 400 <= r.status_code < 500
    assert r.json()["code"] in ("validation_error", "bad_request")


async def test_wrong_types_and_huge_strings_are_field_errors(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    wrong = await client.post("/api/v1/tickets", json={**ticket_body, "major_incident": "maybe", "impact": 3}, headers=agent)
    assert wrong.status_code == 422
    assert {tuple(d["loc"]) for d in wrong.json()["detail"]} == {("body", "major_incident"), ("body", "impact")}
    huge = await client.post("/api/v1/tickets", json={**ticket_body, "title": "長" * 201}, headers=agent)
    assert huge.status_code == 422 and huge.json()["detail"][0]["type"] == "string_too_long"


async def test_errors_speak_the_callers_language(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    body = {k: v for k, v in ticket_body.items() if k != "title"}
    zh_cn = await client.post("/api/v1/tickets", json=body, headers={**agent, "Accept-Language": "zh-CN,zh;q=0.9"})
    zh_tw = await client.post("/api/v1/tickets", json=body, headers={**agent, "Accept-Language": "zh-TW"})
    en = await client.post("/api/v1/tickets", json=body, headers={**agent, "Accept-Language": "en-US"})
    assert zh_cn.json()["message"] == "请求内容有误，请检查所列字段" and zh_cn.json()["detail"][0]["msg"] == "缺少必填字段"
    assert zh_tw.json()["message"] == "請求內容有誤，請檢查所列欄位" and zh_tw.json()["detail"][0]["msg"] == "缺少必填欄位"
    assert en.json()["message"] == "The request has invalid fields" and en.json()["detail"][0]["msg"] == "Field required"
    assert zh_cn.headers["Content-Language"] == "zh-CN"
    unauth = await client.get("/api/v1/tickets", headers={"Accept-Language": "zh-TW"})
    assert unauth.status_code == 401 and unauth.json()["message"] == "需要有效的身分憑證"


# --- mail --------------------------------------------------------------------------------------------------------------

def _mail(subject: str, body: str, message_id: str) -> bytes:
    return (f"From: 王小明 <wang@agency.example>\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body).encode()


async def test_mail_opens_a_ticket_and_a_reply_threads_onto_it(client, as_user) -> None:  # type: ignore[no-untyped-def]
    agent = {**as_user("agent1"), "Content-Type": "message/rfc822"}
    first = await client.post("/api/v1/inbound/email", content=_mail("打印機卡紙", "三樓", "<a@x>"), headers=agent)
    assert first.status_code == 201 and first.json()["outcome"] == "created"
    number, tid = first.json()["number"], first.json()["ticket_id"]
    again = await client.post("/api/v1/inbound/email", content=_mail("打印機卡紙", "三樓", "<a@x>"), headers=agent)
    assert again.status_code == 200 and again.json() == {**first.json(), "outcome": "duplicate"}
    reply = _mail(f"Re: [{number}] 打印機卡紙", "還是卡紙\r\n\r\n> 已處理", "<b@x>")
    threaded = await client.post("/api/v1/inbound/email", content=reply, headers=agent)
    assert threaded.json() == {"outcome": "threaded", "ticket_id": tid, "number": number}
    redelivered = await client.post("/api/v1/inbound/email", content=reply, headers=agent)
    assert redelivered.json()["outcome"] == "duplicate"
    ticket = (await client.get(f"/api/v1/tickets/{tid}", headers=as_user("agent1"))).json()
    assert ticket["channel"] == "email" and ticket["requester"]["email"] == "wang@agency.example"
    assert [c["body"] for c in ticket["comments"]] == ["王小明 <wang@agency.example>:\n還是卡紙"]


async def test_mail_that_is_not_a_message_is_refused(client, as_user) -> None:  # type: ignore[no-untyped-def]
    headers = {**as_user("agent1"), "Content-Type": "message/rfc822"}
    assert (await client.post("/api/v1/inbound/email", content=b"Subject: x\r\n\r\nno sender", headers=headers)).status_code == 422
    json_post = await client.post("/api/v1/inbound/email", json={"x": 1}, headers=as_user("agent1"))
    assert json_post.status_code == 415
    assert (await client.post("/api/v1/inbound/email", content=_mail("s", "b", "<c@x>"), headers={**as_user("req-office"), "Content-Type": "message/rfc822"})).status_code == 403


# --- catalog -----------------------------------------------------------------------------------------------------------

async def test_catalog_is_seeded_with_the_contracts_four_families(client, as_user) -> None:  # type: ignore[no-untyped-def]
    entries = (await client.get("/api/v1/catalog", headers={**as_user("req-office"), "Accept-Language": "zh-TW"})).json()
    assert len(entries) == 24
    assert {e["family"] for e in entries} == {"reporting", "management", "proactive", "responsive"}
    repair = next(e for e in entries if e["code"] == "RS-REPAIR")
    assert (repair["name"], repair["deliverable"], repair["ticket_type"]) == ("設備維修", "設備維修單", "repair")
    assert repair["labels"]["name"]["zh-CN"] == "设备维修"


async def test_only_admins_edit_the_catalog_and_tickets_follow_it(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    new_service = {
        "family": "responsive", "name": {"zh-CN": "视频会议支持", "zh-TW": "視頻會議支持", "en": "Video conference support"},
        "deliverable": {"zh-CN": "支持服务记录", "zh-TW": "支持服務記錄", "en": "Support record"},
        "service_level": {"zh-CN": "5X8驻场", "zh-TW": "5X8駐場", "en": "5x8 on site"},
        "cadence": "on_demand", "ticket_type": "service_request", "default_priority": "P2", "sla_profile": "responsive",
        "skill": "application",
    }
    assert (await client.put("/api/v1/catalog/RS-VIDEO", json=new_service, headers=as_user("agent1"))).status_code == 403
    created = await client.put("/api/v1/catalog/RS-VIDEO", json=new_service, headers=as_user("admin1"))
    assert created.status_code == 200 and created.headers["ETag"] == '"1"'
    ticket = await _create(client, as_user("agent1"), ticket_body, service_code="RS-VIDEO")
    assert (ticket["ticket_type"], ticket["priority"]) == ("service_request", "P2")
    stale = await client.put("/api/v1/catalog/RS-VIDEO", json=new_service, headers={**as_user("admin1"), "If-Match": '"0"'})
    assert stale.status_code == 412
    retired = await client.put("/api/v1/catalog/RS-VIDEO", json={**new_service, "active": False}, headers={**as_user("admin1"), "If-Match": '"1"'})
    assert retired.status_code == 200
    refused = await client.post("/api/v1/tickets", json={**ticket_body, "service_code": "RS-VIDEO"}, headers=as_user("agent1"))
    assert refused.status_code == 422


async def test_priority_from_impact_and_urgency_and_override_needs_a_reason(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    assert (await _create(client, agent, ticket_body, impact="high", urgency="medium"))["priority"] == "P2"
    no_reason = await client.post("/api/v1/tickets", json={**ticket_body, "priority": "P1"}, headers=agent)
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"] == ["body", "priority_reason"]
    overridden = await _create(client, agent, ticket_body, priority="P1", priority_reason="局長")
    assert overridden["priority"] == "P1"
    requester = await client.post("/api/v1/tickets", json={**ticket_body, "priority": "P1", "priority_reason": "急"}, headers=as_user("req-office"))
    assert requester.status_code == 422 and requester.json()["detail"][0]["loc"] == ["body", "priority"]  # the desk triages


async def test_assignment_is_visible_and_kb_suggestions_show_on_the_ticket(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    from intake import service
    from intake.domain import Suggestion

    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    await service.record_suggestions(ticket["id"], [Suggestion(article_id="kb-1", title="打印機卡紙處理", score=3.2)], desk=adapters.desk, now=datetime.now(UTC))
    await _assign(adapters, ticket["id"], "eng1")
    shown = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()
    assert shown["suggestions"] == [{"article_id": "kb-1", "title": "打印機卡紙處理", "score": 3.2}]
    assert shown["assignee"]["engineer_id"] == "eng1" and shown["status"] == "assigned"
    # The engineer's help question brings more articles: added after the ticket's own, never replacing them.
    helped = [Suggestion(article_id="kb-9", title="硒鼓更換", score=2.0), Suggestion(article_id="kb-1", title="打印機卡紙處理", score=1.0)]
    await service.record_suggestions(ticket["id"], helped, desk=adapters.desk, now=datetime.now(UTC))
    await service.record_suggestions(ticket["id"], helped, desk=adapters.desk, now=datetime.now(UTC))  # redelivered
    after = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()["suggestions"]
    assert [s["article_id"] for s in after] == ["kb-1", "kb-9"]
    assert isinstance(Assignee.model_validate(shown["assignee"]), Assignee)


async def test_requesters_reach_only_the_knowledge_base_behind_the_gateway(client, adapters, as_user) -> None:  # type: ignore[no-untyped-def]
    import httpx as _httpx

    adapters.upstreams = {name: f"http://{name}.test" for name in ("assets", "dispatch", "sla-monitor", "reporting", "knowledge")}
    adapters.upstream_client = _httpx.AsyncClient(transport=_httpx.MockTransport(lambda r: _httpx.Response(200, json={"path": r.url.path})))
    requester, auditor = as_user("req-office"), as_user("auditor1")
    for path in ("/api/v1/engineers", "/api/v1/assignments/t-1", "/api/v1/reports/kinds", "/api/v1/relations?tag=x"):
        assert (await client.get(path, headers=requester)).status_code == 403, path
        assert (await client.get(path, headers=auditor)).status_code == 200, path
    kb = await client.get("/api/v1/kb/search?q=vpn", headers=requester)
    assert kb.status_code == 200 and kb.json() == {"path": "/api/v1/kb/search"}
    assert (await client.post("/api/v1/engineers/eng-1/status", json={}, headers=auditor)).status_code == 403


async def test_null_for_a_required_field_is_a_field_error_and_null_clears_an_optional_one(client, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    agent = as_user("agent1")
    ticket = await _create(client, agent, ticket_body)
    for field in ("title", "description", "major_incident", "service_code"):
        refused = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={field: None}, headers=agent)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", field], field
    cleared = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"asset_tag": None}, headers=agent)
    assert cleared.status_code == 200 and cleared.json()["asset_tag"] is None
    assert (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent)).json()["title"] == ticket_body["title"]
