"""The agency's morning in the browser on the real stack (issue 16): the information centre's manager signs in and
lands on the inboxes; approves one waiting ticket and declines another with a note (one click each); reads a
submitted report's PDF in the page, acknowledges it, and returns another with comments; asks for an engineer to be
replaced. A desk agent's refused act on the ticket waiting for authorization is a security incident: the agency
acknowledges it, and the project manager closes it from the dashboard with a note, answers the replacement request
with a plan and a date, and resubmits the returned report (the returned version stays shown with its comments). A
refused act redirects (a reload does not post again) and shows the API's words; services read by name, incidents'
acts in words. Issue 16's leftovers: a second refused click folds into the same low incident (×2); emergency work the
desk started first waits in its own list with the authorization clock's time left and is approved in one click; the
requester reads the decline and its note on the portal's timeline. Each act is checked through the API; axe-core
finds nothing, no JavaScript error, screenshots 30-32, 36, 37.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .conftest import bearer, landed, make_user, sign_in

SERVICE = "RS-VENDOR"  # not the service the other browser journeys file under; restored after this module


def _api(stack: Stack, method: str, path: str, who: dict[str, str], **kw: Any) -> httpx.Response:
    return httpx.request(method, f"{stack.gateway}/api/v1{path}", headers=who, timeout=120, **kw)


@pytest.fixture(scope="module")
def guarded(stack: Stack) -> Iterator[str]:
    """The administrator makes the service require the agency's authorization (PUT takes back what GET gave)."""
    admin = {"Authorization": f"Bearer {stack.token}"}
    read = _api(stack, "GET", f"/catalog/{SERVICE}", admin)
    assert read.status_code == 200, read.text
    put = _api(stack, "PUT", f"/catalog/{SERVICE}", admin, json={**read.json(), "requires_authorization": True})
    assert put.status_code == 200 and put.json()["requires_authorization"] is True, put.text
    yield SERVICE
    back = _api(stack, "PUT", f"/catalog/{SERVICE}", admin, json={**put.json(), "requires_authorization": False})
    assert back.status_code == 200, back.text


@pytest.fixture(scope="module")
def agency(stack: Stack) -> dict[str, Any]:
    return make_user(stack, "agency", name="周主任", department="信息中心")


@pytest.fixture(scope="module")
def manager(stack: Stack) -> dict[str, Any]:
    return make_user(stack, "manager", name="刘经理", department="项目组")


def _file(stack: Stack, requester: dict[str, Any], title: str) -> dict[str, Any]:
    body = {"title": title, "description": "需要外送维修的硬盘", "channel": "web", "service_code": SERVICE}
    reply = _api(stack, "POST", "/tickets", bearer(stack, requester), json=body)
    assert reply.status_code == 201, reply.text
    ticket: dict[str, Any] = reply.json()
    assert ticket["status"] == "awaiting_authorization", ticket
    return ticket


def _submitted(stack: Stack, manager: dict[str, Any], kind: str, period: str) -> str:
    who = bearer(stack, manager)
    generated = _api(stack, "POST", f"/reports/{kind}/{period}/generate", who)
    assert generated.status_code == 200, generated.text
    report_id: str = generated.json()["report_id"]
    submitted = _api(stack, "POST", f"/reports/stored/{report_id}/submit", who, json={})
    assert submitted.status_code == 200 and submitted.json()["state"] == "submitted", submitted.text
    return report_id


def _stored(stack: Stack, who: dict[str, str]) -> dict[str, dict[str, Any]]:
    reply = _api(stack, "GET", "/reports/stored", who)
    assert reply.status_code == 200, reply.text
    return {r["_id"]: r for r in reply.json()}


def test_the_agencys_morning(open_page: Any, stack: Stack, guarded: str, agency: dict[str, Any], manager: dict[str, Any]) -> None:
    requester = make_user(stack, "requester", name="王小明", department="办公室")
    approve = _file(stack, requester, "档案室服务器硬盘故障，需外送维修")
    decline = _file(stack, requester, "财务科旧打印机外送检修")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    last_month = f"{now.year - 1}-12" if now.month == 1 else f"{now.year}-{now.month - 1:02d}"
    to_acknowledge = _submitted(stack, manager, "repair-summary", now.strftime("%Y-%m"))
    to_return = _submitted(stack, manager, "repair-summary", last_month)
    # The desk tries to start work the agency has not authorized: refused, and a security incident.
    desk = bearer(stack, make_user(stack, "agent", name="陈坐席", department="服务台"))
    early = _api(stack, "POST", f"/tickets/{decline['id']}/status", desk, json={"status": "in_progress"})
    assert early.status_code == 409, early.text
    incidents = _api(stack, "GET", "/security-incidents", bearer(stack, agency), params={"state": "open"}).json()["items"]
    [incident] = [i for i in incidents if i.get("ticket_id") == decline["id"]]
    assert (incident["severity"], incident["attempts"]) == ("low", 1)  # a refused attempt (issue 16's policy)
    # A second refused click within the hour folds into the same open incident: one incident, counted twice.
    again = _api(stack, "POST", f"/tickets/{decline['id']}/status", desk, json={"status": "pending"})
    assert again.status_code == 409, again.text
    incidents = _api(stack, "GET", "/security-incidents", bearer(stack, agency), params={"state": "open"}).json()["items"]
    [incident] = [i for i in incidents if i.get("ticket_id") == decline["id"]]
    assert incident["attempts"] == 2 and len(incident["occurrences"]) == 2
    # Emergency work the desk starts first waits for the agency's decision, on its authorization clock.
    urgent = _api(stack, "POST", "/tickets", desk, json={
        "title": "机房空调停机抢修（紧急）", "description": "机房温度过高", "channel": "hotline", "service_code": SERVICE,
        "requester": {"name": "王小明", "department": "办公室"}, "emergency": True}).json()
    assert urgent["status"] == "new" and urgent["authorization"]["emergency"] is True, urgent
    for _ in range(120):  # the SLA monitor starts the clock from ticket.created
        clocks = _api(stack, "GET", "/timers", bearer(stack, agency), params={"timer": "authorization"}).json()["items"]
        if any(c.get("ticket_id") == urgent["id"] for c in clocks):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the authorization clock of the emergency work never started")
    service_name = _api(stack, "GET", f"/catalog/{SERVICE}", {**bearer(stack, agency), "Accept-Language": "zh-CN"}).json()["name"]

    p = open_page()
    sign_in(p, agency)
    page = p.page
    assert page.locator("h1").inner_text() == "信息中心待办"
    for t in (approve, decline):
        assert page.locator(f"li[data-ticket='{t['number']}']").count() == 1
    facts = page.locator(f"li[data-ticket='{decline['number']}'] p.small").inner_text()
    assert service_name in facts and SERVICE not in facts  # the service by name, not its code
    said = page.locator(f"li[data-incident='{incident['id']}'] p.small").inner_text()
    assert "ticket.status:" not in said and "处理中" in said, said  # the act in words
    folded = page.locator(f"li[data-incident='{incident['id']}']")
    assert folded.locator("[data-attempts='2']").inner_text() == "×2" and "低（未遂）" in folded.inner_text()
    emergency = page.locator(f"#emergency li[data-ticket='{urgent['number']}']")
    assert emergency.count() == 1 and "授权截止" in emergency.locator("[data-clock=authorization]").inner_text()
    assert "剩余" in emergency.locator("[data-clock=authorization]").inner_text()
    for rid in (to_acknowledge, to_return):
        assert page.locator(f"li[data-report='{rid}']").count() == 1
    # The report is read in the page: the frame shows the PDF the console relays from the API.
    page.goto(f"/?report={to_acknowledge}")
    frame = page.locator("iframe.pdf")
    src = frame.get_attribute("src")
    assert src and to_acknowledge.split(":")[0] in src
    pdf = page.request.get(src)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert pdf.headers["x-frame-options"] == "SAMEORIGIN"
    page.wait_for_timeout(5000)  # let the PDF viewer draw before the screenshot
    assert p.axe() == []
    p.shot("30-agency-inboxes")

    # The emergency work approved after the fact, one click: it leaves the list; the work goes on.
    emergency.locator("button[value=approve]").click()
    landed(page, "approved")
    assert page.locator(f"#emergency li[data-ticket='{urgent['number']}']").count() == 0
    assert _api(stack, "GET", f"/tickets/{urgent['id']}", bearer(stack, agency)).json()["authorization"]["state"] == "approved"

    # Approve one ticket, one click; dispatch takes it from there.
    page.locator(f"li[data-ticket='{approve['number']}'] button[value=approve]").click()
    landed(page, "approved")
    assert page.locator(".notice").inner_text() == "已授权：工单已转派工。"
    who = bearer(stack, agency)
    assert _api(stack, "GET", f"/tickets/{approve['id']}", who).json()["status"] != "awaiting_authorization"
    assert page.locator(f"li[data-ticket='{approve['number']}']").count() == 0

    # Declining without a note is refused by the API, in Chinese, naming what is missing; with a note it is cancelled.
    # The refusal comes back on `/` (POST-redirect-GET): a reload reads the page again and posts nothing.
    page.locator(f"li[data-ticket='{decline['number']}'] button[value=decline]").click()
    page.wait_for_selector(".error")
    assert page.locator(".error").count() == 1 and "/authorization" not in page.url, page.url
    page.reload()
    assert page.locator(".error").count() == 0  # shown once
    assert _api(stack, "GET", f"/tickets/{decline['id']}", who).json()["status"] == "awaiting_authorization"
    page.fill(f"#note-{decline['id']}", "本月统一外送，无需单独处理")
    page.locator(f"li[data-ticket='{decline['number']}'] button[value=decline]").click()
    landed(page, "declined")
    declined = _api(stack, "GET", f"/tickets/{decline['id']}", who).json()
    assert declined["status"] == "cancelled", declined
    # The requester reads the decline on their ticket's timeline: who decided, and the note.
    r = open_page()
    sign_in(r, requester)
    r.page.goto(f"/tickets/{decline['number']}")
    timeline = r.page.locator("section.timeline").inner_text()
    assert "周主任" in timeline and "本月统一外送，无需单独处理" in timeline and "已取消" in timeline, timeline
    assert r.axe() == []
    r.shot("37-requester-reads-the-decline")
    assert r.errors == []

    # Ask for an engineer to be replaced, with a reason; the request is dispatch's, the answer the project manager's.
    engineer_id = page.locator("#rep-engineer option").first.get_attribute("value")
    page.select_option("#rep-engineer", engineer_id)
    page.fill("#rep-reason", "多次未按时到场")
    page.locator("#replacements button[type=submit]").click()
    landed(page, "replacement")
    asked = _api(stack, "GET", "/replacement-requests", who).json()["items"]
    assert any(r["engineer_id"] == engineer_id and r["reason"] == "多次未按时到场" and r["state"] == "requested" for r in asked), asked
    assert page.locator("#replacements tr[data-state=requested]").count() >= 1

    # Acknowledge one report; return the other with comments. The buttons are pressed from the keyboard: in headless
    # Chromium a mouse click there is sometimes lost while the embedded PDF viewer (an out-of-process frame) is still
    # loading (1 run in 3 on this machine: no request left the page); a keyboard press is not hit-tested.
    page.goto(f"/?report={to_acknowledge}")
    page.locator("form.signoff button.primary").press("Enter")
    landed(page, "acknowledged")
    page.goto(f"/?report={to_return}")
    page.locator("form.signoff button.danger").press("Enter")  # no comments: the API's 422 is shown, nothing changes
    page.wait_for_selector(".error")
    assert page.locator(".error").count() == 1 and "/return" not in page.url, page.url
    page.goto(f"/?report={to_return}")
    page.fill("form.signoff textarea", "请补充硬盘外送的授权记录")
    page.locator("form.signoff button.danger").press("Enter")
    landed(page, "returned")
    stored = _stored(stack, who)
    assert stored[to_acknowledge]["state"] == "acknowledged"
    assert (stored[to_return]["state"], stored[to_return]["comments"]) == ("returned", "请补充硬盘外送的授权记录")
    signed = page.locator("table.tickets tr[data-report]")
    shown = {signed.nth(i).get_attribute("data-report"): signed.nth(i).get_attribute("data-state") for i in range(signed.count())}
    assert shown.items() >= {to_acknowledge: "acknowledged", to_return: "returned"}.items()
    # The incident acknowledged, with a note.
    page.fill(f"#inote-{incident['id']}", "已知悉，请加强管理")
    page.locator(f"li[data-incident='{incident['id']}'] button[type=submit]").click()
    landed(page, "incident")
    assert _api(stack, "GET", f"/security-incidents/{incident['id']}", who).json()["state"] == "acknowledged"
    assert p.axe() == []
    p.shot("31-agency-after-the-morning")

    # The project manager, on the dashboard: closes the acknowledged incident, answers the replacement request,
    # resubmits the returned report.
    m = open_page()
    sign_in(m, manager)
    mp = m.page
    pm = bearer(stack, manager)
    [request] = [r for r in asked if r["engineer_id"] == engineer_id and r["reason"] == "多次未按时到场" and r["state"] == "requested"]
    row = mp.locator(f"li[data-incident='{incident['id']}']")
    assert row.get_attribute("data-state") == "acknowledged" and "已知悉，请加强管理" in row.inner_text()
    row.locator("button[type=submit]").click()  # no note: intake's 422 in its words, nothing changes
    mp.wait_for_selector(".error")
    assert "/close" not in mp.url and _api(stack, "GET", f"/security-incidents/{incident['id']}", pm).json()["state"] == "acknowledged"
    mp.fill(f"#cnote-{incident['id']}", "已约谈坐席，重申授权要求")
    mp.locator(f"li[data-incident='{incident['id']}'] button[type=submit]").click()
    mp.wait_for_url(re.compile(r"done=closed"))
    closed = _api(stack, "GET", f"/security-incidents/{incident['id']}", pm).json()
    assert (closed["state"], closed["closing_note"]) == ("closed", "已约谈坐席，重申授权要求"), closed
    replace_by = (now.date() + timedelta(days=7)).isoformat()
    mp.fill(f"#plan-{request['id']}", "由同组工程师接替，一周内完成交接")
    mp.fill(f"#by-{request['id']}", replace_by)
    mp.locator(f"li[data-replacement='{request['id']}'] button[type=submit]").click()
    mp.wait_for_url(re.compile(r"done=answered"))
    [answered] = [r for r in _api(stack, "GET", "/replacement-requests", pm).json()["items"] if r["id"] == request["id"]]
    assert (answered["state"], answered["replace_by"]) == ("answered", replace_by), answered
    assert mp.locator(f"li[data-replacement='{request['id']}']").get_attribute("data-state") == "answered"
    returned_row = mp.locator(f"tr[data-report='{to_return}']")
    assert returned_row.get_attribute("data-state") == "returned"
    with mp.expect_navigation(timeout=120_000):
        returned_row.locator("button.primary").click()
    series = _stored(stack, pm)
    [v2] = [r for r in series.values() if (r.get("series") or r["_id"]) == to_return and r["_id"] != to_return]
    assert v2["state"] == "submitted", v2
    # v2 is the row; the returned v1 stays under it with the agency's comments.
    newer, older = mp.locator(f"tr[data-report='{v2['_id']}']"), mp.locator(f"tr[data-report='{to_return}']")
    assert newer.count() == 1 and older.get_attribute("data-state") == "returned"
    assert "请补充硬盘外送的授权记录" in older.inner_text()
    assert m.axe() == []
    m.shot("36-manager-answers-the-agency")

    # The same inboxes in English.
    en = open_page(locale="en")
    sign_in(en, agency)
    assert en.page.locator("h1").inner_text() == "The agency's inboxes"
    assert en.axe() == []
    en.shot("32-agency-inboxes-en")
    assert p.errors == [] and en.errors == [] and m.errors == []
