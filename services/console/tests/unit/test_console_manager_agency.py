"""The manager's dashboard and the agency's inboxes against a stand-in gateway: what each page shows comes from the
API's answers (exact totals, reporting's figures, the roster), each act is one API call with the person's token and
the CSRF check, a refusal is shown in the API's words, and a report's PDF is relayed framable by the console only."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx
import pytest

from console.main import create_app
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
NOW = datetime.now(UTC)
TOTALS = {"awaiting_authorization": 2, "new": 7, "assigned": 3, "in_progress": 1, "pending": 4, "resolved": 5}
STORED = [
    {"_id": "service-summary:2026-11:zh-CN", "series": "service-summary:2026-11:zh-CN", "kind": "service-summary", "title": "月度服务总结 2026-11",
     "version": 1, "state": "draft", "allowed": ["submit"], "generated_at": NOW.isoformat(), "due_at": NOW.isoformat(),
     "submitted_at": None, "on_time": None, "overdue": False},
    {"_id": "repair-summary:2026-10:zh-CN", "series": "repair-summary:2026-10:zh-CN", "kind": "repair-summary", "title": "月度维修总结 2026-10",
     "version": 1, "state": "submitted", "allowed": ["acknowledge", "return"], "generated_at": NOW.isoformat(),
     "due_at": NOW.isoformat(), "submitted_at": NOW.isoformat(), "on_time": True, "overdue": False},
]


class Gateway:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path.removeprefix("/api/v1"), dict(parse_qsl(request.url.query.decode()))
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body))
        assert request.headers["authorization"] == "Bearer tok"
        if path == "/tickets" and q.get("emergency") == "true":
            assert q["authorization"] == "awaiting"
            return httpx.Response(200, json={"items": [{"id": "id-e1", "number": "INC-E1", "title": "核心交换机宕机抢修", "status": "in_progress",
                                                        "service_code": "RS-ONSITE", "requester_name": "王小明", "department": "办公室",
                                                        "assignee_name": "张工", "reported_at": NOW.isoformat(), "emergency": True,
                                                        "authorization_state": "awaiting"}], "total": 1, "next_cursor": None})
        if path == "/tickets" and q.get("authorization") == "awaiting":  # the dashboard: all the agency has to decide
            items = [{"id": f"id-{i}", "number": f"INC-{i}", "title": "机房服务器加内存", "status": "awaiting_authorization",
                      "service_code": "RS-ONSITE", "requester_name": "王小明", "reported_at": NOW.isoformat()} for i in range(2)]
            items.append({"id": "id-e1", "number": "INC-E1", "title": "核心交换机宕机抢修", "status": "in_progress", "service_code": "RS-ONSITE",
                          "requester_name": "王小明", "reported_at": NOW.isoformat(), "emergency": True})
            return httpx.Response(200, json={"items": items, "total": 3, "next_cursor": None})
        if path == "/timers" and q.get("timer") == "authorization":
            return httpx.Response(200, json={"items": [{"ticket_id": "id-e1", "name": "authorization", "state": "running",
                                                        "due_at": (NOW + timedelta(minutes=90)).isoformat()}], "next_cursor": None})
        if path == "/tickets":
            items = [{"id": f"id-{i}", "number": f"INC-{i}", "title": "机房服务器加内存", "status": q["status"], "service_code": "RS-ONSITE",
                      "requester_name": "王小明", "department": "办公室", "reported_at": NOW.isoformat(), "major_incident": False}
                     for i in range(min(int(q["limit"]), TOTALS[q["status"]]))]
            return httpx.Response(200, json={"items": items, "total": TOTALS[q["status"]], "next_cursor": None})
        if path == "/reports/service-summary/" + NOW.astimezone().strftime("%Y-%m") or path.startswith("/reports/service-summary/2"):
            if path.endswith("/generate"):
                return httpx.Response(200, json={"report_id": "service-summary:x:zh-CN"})
            return httpx.Response(200, json={"figures": {
                "sla": [{"timer": "response", "met": 9, "missed": 1, "breached": 1, "compliance": 0.9},
                        {"timer": "dispatch", "met": 4, "missed": 0, "breached": 0, "compliance": 1.0}],
                "desk": {"resolved": 20, "at_desk": 13, "share": 0.65, "target": [0.6, 0.7]},
                "breaches_total": 1,
                "breaches": [{"number": "INC-9", "timer": "response", "policy": "P2", "due_at": NOW.isoformat(), "breached_at": NOW.isoformat()}],
            }})
        if path == "/timers":
            return httpx.Response(200, json={"items": [{"ticket_id": "id-9", "name": "response", "policy": "P2", "state": "breached",
                                                        "due_at": (NOW - timedelta(minutes=12)).isoformat()}], "next_cursor": None})
        if path == "/engineers":
            return httpx.Response(200, json=[{"id": "e1", "name": "张工", "status": "busy", "open_load": 8, "capacity": 8},
                                             {"id": "e2", "name": "李工", "status": "available", "open_load": 2, "capacity": 8},
                                             {"id": "e3", "name": "赵工", "status": "on_leave", "open_load": 0, "capacity": 8}])
        if path == "/security-incidents":
            assert q in ({"state": "open"}, {"state": "acknowledged"})
            if q["state"] == "acknowledged":
                return httpx.Response(200, json={"items": [{"id": "si-2", "what": "配置项未经授权修改", "severity": "high", "actor": "u-8",
                                                            "actor_name": "钱工", "actor_role": "engineer", "act": "cmdb.change", "asset_tag": "PC-1",
                                                            "occurred_at": NOW.isoformat(), "refused": False, "state": "acknowledged",
                                                            "acknowledged_at": NOW.isoformat(), "acknowledgement_note": "已知悉", "allowed": ["close"]}]})
            return httpx.Response(200, json={"items": [{"id": "si-1", "what": "工程师在未授权工单上接单", "severity": "low", "actor": "u-9",
                                                        "actor_name": "张工", "actor_role": "engineer", "act": "assignment.accept", "ticket_number": "INC-7",
                                                        "occurred_at": NOW.isoformat(), "refused": True, "state": "open", "allowed": ["acknowledge"],
                                                        "attempts": 3, "occurrences": [NOW.isoformat(), (NOW + timedelta(minutes=4)).isoformat(),
                                                                                       (NOW + timedelta(minutes=9)).isoformat()]},
                                                       {"id": "si-3", "what": "服务台对未经授权的工单执行操作被拒绝", "severity": "high", "actor": "u-7",
                                                        "actor_role": "agent", "act": "ticket.status:resolved", "ticket_number": "INC-8",
                                                        "occurred_at": NOW.isoformat(), "refused": True, "state": "open", "allowed": ["acknowledge"]}]})
        if path == "/replacement-requests":
            return httpx.Response(200, json={"items": [
                {"id": "rr-1", "engineer_id": "e1", "engineer_name": "张工", "reason": "多次未按时到场", "requested_at": NOW.isoformat(),
                 "answer_due_at": NOW.isoformat(), "state": "answered", "plan": "由李工接替", "replace_by": "2026-12-04", "late": False},
                {"id": "rr-2", "engineer_id": "e2", "engineer_name": "李工", "reason": "服务态度差", "requested_at": NOW.isoformat(),
                 "answer_due_at": NOW.isoformat(), "state": "requested", "late": False}]})
        if path == "/catalog":
            return httpx.Response(200, json=[{"code": "RS-ONSITE", "name": "现场服务", "active": True}])
        if path.endswith("/answer"):
            if not body.get("replace_by"):
                return httpx.Response(422, json={"code": "validation_failed", "message": "请求有误",
                                                 "detail": [{"loc": ["body", "replace_by"], "msg": "请填写更换日期"}]})
            return httpx.Response(200, json={"id": "rr-2", "state": "answered"})
        if path.endswith("/close"):
            if path != "/security-incidents/si-2/close":
                return httpx.Response(409, json={"code": "illegal_transition", "message": "信息中心确认后才能关闭安全事件", "allowed": []})
            return httpx.Response(200, json={"id": "si-2", "state": "closed"})
        if path == "/reports/manual":
            if bool(body.get("article_ids")) == bool(body.get("category")):
                return httpx.Response(422, json={"code": "validation_failed", "message": "请求有误",
                                                 "detail": [{"loc": ["body"], "msg": "请指定文章或分类之一"}]})
            return httpx.Response(200, json={"_id": "manual:current:zh-CN:v3", "state": "draft"})
        if path.startswith("/security-incidents/") or path.endswith("/replacement-requests"):
            return httpx.Response(201 if path.endswith("requests") else 200, json={"id": "x"})
        if path == "/reports/stored":
            return httpx.Response(200, json=STORED)
        if path.endswith("/authorization"):
            if body.get("decision") == "decline" and not body.get("note"):
                return httpx.Response(422, json={"code": "validation_failed", "message": "请求有误",
                                                 "detail": [{"loc": ["body", "note"], "msg": "拒绝时必须填写说明"}]})
            return httpx.Response(200, json={"id": "id-0", "status": "new"})
        if path.startswith("/reports/stored/") and request.method == "POST":
            return httpx.Response(200, json={"state": "ok"})
        if path.startswith("/reports/stored/") and q.get("format") == "pdf":
            return httpx.Response(200, content=b"%PDF-1.7 test", headers={"content-type": "application/pdf"})
        return httpx.Response(404, json={"code": "not_found", "message": "no"})


def _client(fake: Gateway, role: str) -> tuple[Any, httpx.AsyncClient]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", role, None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: "c" * 32}
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)


async def _run(role: str, fake: Gateway, calls: list[tuple[str, str, dict[str, str] | None]]) -> list[httpx.Response]:
    app, client = _client(fake, role)
    out = []
    async with app.router.lifespan_context(app), client:
        for method, url, form in calls:
            out.append(await client.request(method, url, data=form, headers={"accept-language": "zh-CN"}))
    return out


@pytest.mark.asyncio
async def test_the_dashboard_shows_the_apis_numbers() -> None:
    fake = Gateway()
    (page,) = await _run("manager", fake, [("GET", "/", None)])
    html = page.text
    assert page.status_code == 200
    # Open as the API's counts say it (new, assigned, in progress, pending): 15, not the chart's sum of six states.
    assert 'data-kpi="open">15<' in html
    # Waiting for the agency: the two held tickets and the emergency work the desk started first (walk 6a: it was 2).
    assert 'data-kpi="waiting">3<' in html and "INC-E1" in html and "data-emergency>处理中<" in html
    assert 'data-bar="new" data-value="7"' in html and 'data-bar="pending" data-value="4"' in html
    assert 'data-kpi="first-contact">65.0%<' in html
    assert 'data-bar="response" data-value="90.0%"' in html and 'data-bar="dispatch" data-value="100.0%"' in html
    assert 'data-bar="e1" data-value="8/8"' in html and 'data-bar="e3"' not in html  # on leave: not on duty
    assert "响应时限已过" in html or "时限已过" in html
    assert 'action="/manager/reports/service-summary%3A2026-11%3Azh-CN/submit"' in html
    assert "/manager/reports/repair-summary%3A2026-10%3Azh-CN/submit" not in html  # the agency has it


@pytest.mark.asyncio
async def test_the_manager_submits_with_the_csrf_token_only() -> None:
    fake = Gateway()
    refused, done = await _run("manager", fake, [
        ("POST", "/manager/reports/service-summary:2026-11:zh-CN/submit", {"csrf": "wrong"}),
        ("POST", "/manager/reports/service-summary:2026-11:zh-CN/submit", {"csrf": "c" * 32}),
    ])
    assert refused.status_code == 403
    assert done.status_code == 303 and done.headers["location"] == "/?done=submitted"
    assert [c for c in fake.calls if c[0] == "POST"] == [("POST", "/reports/stored/service-summary:2026-11:zh-CN/submit", {})]


@pytest.mark.asyncio
async def test_the_agency_decides_in_one_click_and_reads_the_refusal() -> None:
    fake = Gateway()
    home, declined_bare, approved, returned, incident, replacement = await _run("agency", fake, [
        ("GET", "/", None),
        ("POST", "/agency/tickets/id-1/authorization", {"csrf": "c" * 32, "decision": "decline", "note": " "}),
        ("POST", "/agency/tickets/id-0/authorization", {"csrf": "c" * 32, "decision": "approve"}),
        ("POST", "/agency/reports/repair-summary:2026-10:zh-CN/return", {"csrf": "c" * 32, "text": "请补充原因"}),
        ("POST", "/agency/incidents/si-1/acknowledge", {"csrf": "c" * 32, "note": "已知悉"}),
        ("POST", "/agency/replacements", {"csrf": "c" * 32, "engineer_id": "e2", "reason": "服务态度差", "form_key": "k1"}),
    ])
    assert 'data-incident="si-1"' in home.text and "工程师在未授权工单上接单" in home.text and 'href="/tickets/INC-7"' in home.text
    # Issue 16: emergency work the desk started first waits for the agency's decision, with the clock's time left.
    urgent = home.text[home.text.index('id="emergency"'):].split("</section>")[0]
    assert 'data-ticket="INC-E1" data-emergency' in urgent and "核心交换机宕机抢修" in urgent and "待您决定的紧急工作" in urgent
    assert 'data-clock="authorization"' in urgent and "授权截止" in urgent and re.search(_left_pattern(NOW + timedelta(minutes=90)), urgent)
    assert 'action="/agency/tickets/id-e1/authorization"' in urgent and 'data-count="emergency">1<' in urgent
    # Issue 16's severity policy: three refused accepts folded into one low incident, its count and times shown.
    si1 = home.text[home.text.index('data-incident="si-1"'):].split("</li>")[0]
    assert 'data-severity="low"' in si1 and "低（未遂）" in si1 and 'data-attempts="3"' in si1 and "×3" in si1
    assert 'class="badge major" data-severity' not in si1
    assert 'data-replacement="rr-1" data-state="answered"' in home.text and "由李工接替" in home.text
    assert '<option value="e3">赵工</option>' in home.text  # the roster to choose from
    assert incident.headers["location"] == "/?done=incident" and replacement.headers["location"] == "/?done=replacement"
    assert home.status_code == 200 and home.text.count("data-ticket=") == 3  # two waiting, one emergency work
    assert 'src="/reports/file/repair-summary%3A2026-10%3Azh-CN.pdf#view=FitH&amp;navpanes=0"' in home.text
    assert declined_bare.status_code == 303 and declined_bare.headers["location"] == "/"  # a reload does not post again
    assert approved.headers["location"] == "/?done=approved"
    assert returned.headers["location"] == "/?done=returned"
    posts = [c for c in fake.calls if c[0] == "POST"]
    assert posts == [
        ("POST", "/tickets/id-1/authorization", {"decision": "decline"}),
        ("POST", "/tickets/id-0/authorization", {"decision": "approve"}),
        ("POST", "/reports/stored/repair-summary:2026-10:zh-CN/return", {"comments": "请补充原因"}),
        ("POST", "/security-incidents/si-1/acknowledge", {"note": "已知悉"}),
        ("POST", "/engineers/e2/replacement-requests", {"reason": "服务态度差"}),
    ]


@pytest.mark.asyncio
async def test_a_reports_pdf_is_relayed_framable_by_the_console_only() -> None:
    fake = Gateway()
    pdf, page = await _run("agency", fake, [("GET", "/reports/file/repair-summary:2026-10:zh-CN.pdf", None), ("GET", "/", None)])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN" and "frame-ancestors 'self'" in pdf.headers["content-security-policy"]
    assert pdf.headers["content-disposition"].startswith("inline")
    assert page.headers["x-frame-options"] == "DENY"  # every other page stays unframable


@pytest.mark.asyncio
async def test_a_refused_decline_redirects_and_the_next_page_shows_the_apis_words_once() -> None:
    fake = Gateway()
    refused, shown, again = await _run("agency", fake, [
        ("POST", "/agency/tickets/id-1/authorization", {"csrf": "c" * 32, "decision": "decline", "note": " "}),
        ("GET", "/", None),
        ("GET", "/", None),
    ])
    assert refused.status_code == 303 and refused.headers["location"] == "/"
    assert "note: 拒绝时必须填写说明" in shown.text and 'role="alert"' in shown.text
    assert "拒绝时必须填写说明" not in again.text  # shown once: the cookie is dropped


@pytest.mark.asyncio
async def test_a_forged_refusal_cookie_is_not_shown() -> None:
    fake = Gateway()
    app, client = _client(fake, "agency")
    async with app.router.lifespan_context(app), client:
        client.cookies.set("opsdesk_refused", "5L2g5aW9.0000")
        page = await client.get("/")
    assert page.status_code == 200 and "你好" not in page.text


@pytest.mark.asyncio
async def test_the_agency_reads_service_names_and_acts_in_words() -> None:
    fake = Gateway()
    (home,) = await _run("agency", fake, [("GET", "/", None)])
    assert "现场服务 · 王小明" in home.text and "RS-ONSITE" not in home.text
    assert "assignment.accept" not in home.text and "接单" in home.text
    assert "ticket.status:resolved" not in home.text and "已解决" in home.text


@pytest.mark.asyncio
async def test_the_dashboard_shows_incidents_and_replacement_requests_with_their_forms() -> None:
    fake = Gateway()
    (page,) = await _run("manager", fake, [("GET", "/", None)])
    html = page.text
    assert 'data-incident="si-2" data-state="acknowledged"' in html and 'action="/manager/incidents/si-2/close"' in html
    assert 'data-incident="si-1" data-state="open"' in html and "/manager/incidents/si-1/close" not in html  # the agency first
    assert "cmdb.change" not in html and "修改配置项" in html
    assert 'data-kpi="incidents">3<' in html and 'data-kpi="replacements">1<' in html
    assert 'action="/manager/replacements/e2/rr-2/answer"' in html and "/manager/replacements/e1/rr-1/answer" not in html
    assert "由李工接替" in html
    assert 'action="/manager/manual"' in html


@pytest.mark.asyncio
async def test_the_manager_answers_closes_and_publishes_and_reads_refusals() -> None:
    fake = Gateway()
    csrf = "c" * 32
    bare, answered, wrong, closed, neither, published, after = await _run("manager", fake, [
        ("POST", "/manager/replacements/e2/rr-2/answer", {"csrf": csrf, "plan": "由王工接替", "replace_by": ""}),
        ("POST", "/manager/replacements/e2/rr-2/answer", {"csrf": csrf, "plan": " 由王工接替 ", "replace_by": "2026-12-10"}),
        ("POST", "/manager/incidents/si-1/close", {"csrf": csrf, "note": "已处理"}),
        ("POST", "/manager/incidents/si-2/close", {"csrf": csrf, "note": "已恢复配置并提醒"}),
        ("POST", "/manager/manual", {"csrf": csrf, "article_ids": "", "category": ""}),
        ("POST", "/manager/manual", {"csrf": csrf, "article_ids": "kb-1, kb-2\nkb-3", "category": ""}),
        ("GET", "/", None),
    ])
    assert bare.status_code == 303 and bare.headers["location"] == "/"
    assert answered.headers["location"] == "/?done=answered#replacements"
    assert wrong.status_code == 303 and closed.headers["location"] == "/?done=closed#incidents"
    assert neither.status_code == 303 and published.headers["location"] == "/?done=manual#reports"
    assert "请指定文章或分类之一" in after.text  # the latest refusal, in the API's words
    posts = [c for c in fake.calls if c[0] == "POST"]
    assert posts == [
        ("POST", "/engineers/e2/replacement-requests/rr-2/answer", {"plan": "由王工接替", "replace_by": ""}),
        ("POST", "/engineers/e2/replacement-requests/rr-2/answer", {"plan": "由王工接替", "replace_by": "2026-12-10"}),
        ("POST", "/security-incidents/si-1/close", {"note": "已处理"}),
        ("POST", "/security-incidents/si-2/close", {"note": "已恢复配置并提醒"}),
        ("POST", "/reports/manual", {}),
        ("POST", "/reports/manual", {"article_ids": ["kb-1", "kb-2", "kb-3"]}),
    ]


@pytest.mark.asyncio
async def test_a_refusal_after_the_answer_form_is_shown_on_the_dashboard() -> None:
    fake = Gateway()
    _, page = await _run("manager", fake, [
        ("POST", "/manager/replacements/e2/rr-2/answer", {"csrf": "c" * 32, "plan": "x", "replace_by": ""}),
        ("GET", "/", None),
    ])
    assert "replace_by: 请填写更换日期" in page.text


@pytest.mark.asyncio
async def test_a_returned_version_stays_shown_with_its_comments_under_the_new_one() -> None:
    series = "service-summary:2026-10:zh-CN"
    v1 = {"_id": series, "series": series, "kind": "service-summary", "period": "2026-10", "version": 1, "state": "returned",
          "comments": "请补充第三周的超时原因", "allowed": [], "generated_at": (NOW - timedelta(days=2)).isoformat(),
          "submitted_at": (NOW - timedelta(days=2)).isoformat()}
    v2 = {"_id": series + ":v2", "series": series, "kind": "service-summary", "period": "2026-10", "version": 2, "state": "submitted",
          "allowed": [], "generated_at": NOW.isoformat(), "submitted_at": NOW.isoformat()}
    STORED.extend([v1, v2])
    try:
        (page,) = await _run("manager", Gateway(), [("GET", "/", None)])
    finally:
        del STORED[-2:]
    html = page.text
    new_at, old_at = html.index(f'data-report="{series}:v2"'), html.index(f'data-report="{series}" data-state="returned"')
    assert new_at < old_at and "请补充第三周的超时原因" in html[old_at:]


class _PlainPolicies(Gateway):
    """Clocks whose policy is named like the clock itself (the SLA monitor's usual answer: policy "confirmation")."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, q = request.url.path.removeprefix("/api/v1"), dict(parse_qsl(request.url.query.decode()))
        if path == "/timers" and q.get("breached") == "true":
            self.calls.append((request.method, path, None))
            return httpx.Response(200, json={"items": [{"ticket_id": "id-9", "name": "confirmation", "policy": "confirmation",
                                                        "state": "breached", "due_at": (NOW - timedelta(minutes=12)).isoformat()}],
                                             "next_cursor": None})
        if path == "/tickets/id-9":
            self.calls.append((request.method, path, None))
            return httpx.Response(200, json={"id": "id-9", "number": "INC-2026-000009"})
        return super().__call__(request)


@pytest.mark.asyncio
async def test_the_month_end_form_offers_the_month_just_ended_and_clocks_read_without_codes() -> None:
    """Walk 6a: the generate form offered the running month (a month-end summary is of the month before), and a
    breached clock read "确认时限已过 (confirmation)", its policy code repeating the clock's name."""
    from console.pages.manager import previous_month

    assert (previous_month("2026-12"), previous_month("2027-01")) == ("2026-11", "2026-12")
    fake = _PlainPolicies()
    page, again = await _run("manager", fake, [("GET", "/", None), ("GET", "/dashboard/panel", None)])
    html = page.text
    month = re.search(r'id="gen-period" name="period" value="([0-9-]+)"', html)
    assert month is not None
    assert month.group(1) == previous_month(datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m"))  # the console's zone
    assert "(confirmation)" not in html and "时限已过" in html
    # The breached clock's ticket by its number (it read 打开工单), asked once and remembered across refreshes.
    assert '<a href="/tickets/INC-2026-000009">INC-2026-000009</a>' in html and "INC-2026-000009" in again.text
    assert [c for c in fake.calls if c[1] == "/tickets/id-9"] == [("GET", "/tickets/id-9", None)]


@pytest.mark.asyncio
async def test_the_agency_acknowledges_an_incident_as_read_not_as_a_report_signed_for() -> None:
    """Walk 6a: a security incident's button read 确认签收, the words of a report's sign-off."""
    (page,) = await _run("agency", Gateway(), [("GET", "/", None)])
    incidents = page.text.split('id="incidents"', 1)[1].split("</section>", 1)[0]
    assert ">确认知悉<" in incidents and "确认签收" not in incidents


def _left_pattern(due: datetime) -> str:
    """'剩余 N 分钟' as the page says it now: NOW is taken at import, which pytest-xdist does minutes before the test
    runs, so the minutes left are counted from the clock at the check (either side of a minute's turn)."""
    left = int((due - datetime.now(UTC)).total_seconds() // 60)
    return rf"<strong>剩余 ({left}|{left + 1}) 分钟</strong>"
