"""A ticket waiting for the agency's authorization, as each person reads it in the console (issue 16), against a
stand-in gateway: the desk finds it in its own queue and acknowledges it (a repeat is said so), the agency's ticket
page offers its decision and nothing it would be refused, a refusal shows the API's own reason, and the requester
reads what it waits for and, once declined, the agency's reason."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from console import actions
from console.main import create_app
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
NOW = datetime.now(UTC).isoformat()
CSRF = "c" * 32


def _ticket(**extra: Any) -> dict[str, Any]:
    return {
        "id": "t-1", "number": "INC-2026-000001", "version": 1, "title": "服务器内存扩容", "description": "机房服务器需要加内存",
        "status": "awaiting_authorization", "priority": "P3", "service_code": "RS-ONSITE", "channel": "web",
        "requester": {"name": "王小明", "department": "办公室"}, "requester_name": "王小明", "department": "办公室",
        "reported_at": NOW, "created_at": NOW, "updated_at": NOW, "allowed_transitions": ["cancelled"],
        "authorization": {"state": "awaiting", "emergency": False, "requested_at": NOW},
        "acknowledged_at": None, "assignee": None, "comments": [], "history": [], "sla": [], "suggestions": [],
        "service_record": None, "desk_first": False, "dispatch_requested_at": None, **extra,
    }


class Gateway:
    def __init__(self, ticket: dict[str, Any]) -> None:
        self.ticket = ticket
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path.removeprefix("/api/v1"), dict(parse_qsl(request.url.query.decode()))
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body))
        t = self.ticket
        if path == "/tickets/counts":
            return httpx.Response(200, json={"open": 0, "held": 0, "unassigned": 0, "waiting": 0, "review": 0, "mine": 0, "authorization": 1})
        if path == "/tickets":
            items = [t] if q.get("status") == "awaiting_authorization" else []
            return httpx.Response(200, json={"items": items, "total": len(items), "next_cursor": None})
        if path == "/timers":
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        if path == f"/tickets/{t['number']}" and request.method == "GET":
            return httpx.Response(200, json=t, headers={"etag": f'"{t["version"]}"'})
        if path.endswith("/history"):
            return httpx.Response(200, json=[])
        if path == "/catalog":
            return httpx.Response(200, json=[{"code": "RS-ONSITE", "name": "现场维修"}])
        if path.endswith("/acknowledge"):
            again = t.get("acknowledged_at") is not None
            t["acknowledged_at"] = t.get("acknowledged_at") or NOW
            return httpx.Response(200, json=t, headers={"Idempotent-Replayed": "true"} if again else {})
        if path.endswith("/authorization"):
            return httpx.Response(200, json={**t, "status": "new"})
        if path.endswith("/comments"):
            return httpx.Response(403, json={"code": "forbidden", "message": "您无权执行此操作",
                                             "detail": "只有服务台、工程师和报修人可以在工单上留言"})
        return httpx.Response(404, json={"code": "not_found", "message": "no"})


async def _run(role: str, fake: Gateway, calls: list[tuple[str, str, dict[str, str] | None]]) -> list[httpx.Response]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", role, None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    out = []
    async with app.router.lifespan_context(app), client:
        for method, url, form in calls:
            out.append(await client.request(method, url, data=form, headers={"accept-language": "zh-CN"}))
    return out


def test_each_role_is_offered_only_what_it_may_do_on_a_waiting_ticket() -> None:
    waiting = _ticket()
    assert actions.offered(waiting, "agent") == ["comment", "acknowledge", "cancel"]
    assert "acknowledge" not in actions.offered(_ticket(acknowledged_at=NOW), "agent")
    assert actions.offered(waiting, "agency") == ["authorize"]  # no reply, note or work it would be refused
    assert actions.offered(_ticket(status="cancelled", authorization={"state": "declined", "note": "x"}), "agency") == []


@pytest.mark.asyncio
async def test_the_desk_finds_it_in_its_own_queue_and_acknowledges_it_once() -> None:
    fake = Gateway(_ticket())
    queue, page, first, again = await _run("agent", fake, [
        ("GET", "/queue?queue=authorization", None),
        ("GET", "/tickets/INC-2026-000001", None),
        ("POST", "/tickets/INC-2026-000001/act/acknowledge", {"csrf": CSRF, "etag": '"1"'}),
        ("POST", "/tickets/INC-2026-000001/act/acknowledge", {"csrf": CSRF, "etag": '"1"'}),
    ])
    assert 'data-queue="authorization">1<' in queue.text and "INC-2026-000001" in queue.text and "待信息中心授权" in queue.text
    assert "/act/acknowledge" in page.text and "受理" in page.text
    assert ("POST", "/tickets/INC-2026-000001/acknowledge", None) in fake.calls
    assert first.status_code == 200 and "已保存" in first.text and "此工单此前已受理" not in first.text
    assert "此工单此前已受理" in again.text  # said, not shown as a new act


@pytest.mark.asyncio
async def test_the_agency_decides_on_the_ticket_page_and_reads_the_apis_reason_for_a_refusal() -> None:
    fake = Gateway(_ticket())
    page, declined, refused = await _run("agency", fake, [
        ("GET", "/tickets/INC-2026-000001", None),
        ("POST", "/tickets/INC-2026-000001/act/authorize", {"csrf": CSRF, "decision": "decline", "note": "本月统一升级"}),
        ("POST", "/tickets/INC-2026-000001/act/comment", {"csrf": CSRF, "body": "x"}),
    ])
    assert 'name="decision" value="approve"' in page.text and 'name="decision" value="decline"' in page.text
    assert "/act/comment" not in page.text and "/act/cancel" not in page.text
    assert ("POST", "/tickets/INC-2026-000001/authorization", {"decision": "decline", "note": "本月统一升级"}) in fake.calls
    assert declined.status_code == 200
    assert "只有服务台、工程师和报修人可以在工单上留言" in refused.text  # the API's detail, not only "您无权执行此操作"


@pytest.mark.asyncio
async def test_the_requester_reads_what_it_waits_for_and_the_agencys_reason_for_a_decline() -> None:
    waiting, = await _run("requester", Gateway(_ticket()), [("GET", "/tickets/INC-2026-000001", None)])
    declined, = await _run("requester", Gateway(_ticket(
        status="cancelled", allowed_transitions=[],
        authorization={"state": "declined", "requested_at": NOW, "decided_at": NOW, "note": "本月统一升级，无需单独处理"},
    )), [("GET", "/tickets/INC-2026-000001", None)])
    assert "正在等待信息中心授权" in waiting.text and "服务台正在处理" not in waiting.text
    assert "信息中心未授权此项工作" in declined.text and "本月统一升级，无需单独处理" in declined.text


@pytest.mark.asyncio
async def test_the_requesters_timeline_shows_the_decline_and_its_note() -> None:
    """Issue 16: the timeline of a ticket the agency declined was empty ("nothing yet"): the decline is a step of the
    ticket's `history` (GET /tickets/{id}), who decided, when, the status it left and the note."""
    step = {"at": NOW, "by": "zhou", "by_name": "周主任", "role": "agency", "source": "", "action": "authorization:declined",
            "changes": {"status": {"old": "awaiting_authorization", "new": "cancelled"}, "reason": {"old": None, "new": "本月统一升级"}}}
    page, = await _run("requester", Gateway(_ticket(
        status="cancelled", allowed_transitions=[], history=[step],
        authorization={"state": "declined", "requested_at": NOW, "decided_at": NOW, "note": "本月统一升级"},
    )), [("GET", "/tickets/INC-2026-000001", None)])
    timeline = page.text[page.text.index('class="timeline"'):]
    assert "周主任" in timeline and "本月统一升级" in timeline and "已取消" in timeline
    assert "暂无" not in timeline.split("</ol>")[0]


@pytest.mark.asyncio
async def test_emergency_work_still_awaiting_its_authorization_is_marked_on_the_ticket_page() -> None:
    """Walk 6a: the desk's page of emergency work it had just sent on said nothing of the authorization still due."""
    emergency = _ticket(status="new", allowed_transitions=["in_progress", "pending", "resolved", "cancelled"],
                        authorization={"state": "awaiting", "emergency": True, "requested_at": NOW})
    page, = await _run("agent", Gateway(emergency), [("GET", "/tickets/INC-2026-000001", None)])
    assert "data-emergency>紧急工作：已先行派工，尚待信息中心补授权<" in page.text
    approved = _ticket(status="new", authorization={"state": "approved", "emergency": True, "requested_at": NOW})
    page, = await _run("agent", Gateway(approved), [("GET", "/tickets/INC-2026-000001", None)])
    assert "data-emergency" not in page.text
    held, = await _run("agent", Gateway(_ticket()), [("GET", "/tickets/INC-2026-000001", None)])
    assert "data-emergency" not in held.text  # not emergency: its state says it waits
