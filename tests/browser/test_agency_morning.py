"""The agency's morning in the browser on the real stack (issue 16): the information centre's manager signs in and
lands on the inboxes; approves one waiting ticket and declines another with a note (one click each); reads a
submitted report's PDF in the page, acknowledges it, and returns another with comments; asks for an engineer to be
replaced. Each act is checked through
the API; axe-core finds nothing on the inboxes, no JavaScript error, screenshots 30-32."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .conftest import bearer, make_user, sign_in

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

    p = open_page()
    sign_in(p, agency)
    page = p.page
    assert page.locator("h1").inner_text() == "信息中心待办"
    for t in (approve, decline):
        assert page.locator(f"li[data-ticket='{t['number']}']").count() == 1
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

    # Approve one ticket, one click; dispatch takes it from there.
    page.locator(f"li[data-ticket='{approve['number']}'] button[value=approve]").click()
    page.wait_for_url("**/?done=approved")
    assert page.locator(".notice").inner_text() == "已授权：工单已转派工。"
    who = bearer(stack, agency)
    assert _api(stack, "GET", f"/tickets/{approve['id']}", who).json()["status"] != "awaiting_authorization"
    assert page.locator(f"li[data-ticket='{approve['number']}']").count() == 0

    # Declining without a note is refused by the API, in Chinese, naming what is missing; with a note it is cancelled.
    page.locator(f"li[data-ticket='{decline['number']}'] button[value=decline]").click()
    assert page.locator(".error").count() == 1
    assert _api(stack, "GET", f"/tickets/{decline['id']}", who).json()["status"] == "awaiting_authorization"
    page.fill(f"#note-{decline['id']}", "本月统一外送，无需单独处理")
    page.locator(f"li[data-ticket='{decline['number']}'] button[value=decline]").click()
    page.wait_for_url("**/?done=declined")
    declined = _api(stack, "GET", f"/tickets/{decline['id']}", who).json()
    assert declined["status"] == "cancelled", declined

    # Ask for an engineer to be replaced, with a reason; the request is dispatch's, the answer the project manager's.
    engineer_id = page.locator("#rep-engineer option").first.get_attribute("value")
    page.select_option("#rep-engineer", engineer_id)
    page.fill("#rep-reason", "多次未按时到场")
    page.locator("#replacements button[type=submit]").click()
    page.wait_for_url("**/?done=replacement")
    asked = _api(stack, "GET", "/replacement-requests", who).json()["items"]
    assert any(r["engineer_id"] == engineer_id and r["reason"] == "多次未按时到场" and r["state"] == "requested" for r in asked), asked
    assert page.locator("#replacements tr[data-state=requested]").count() >= 1

    # Acknowledge one report; return the other with comments.
    page.goto(f"/?report={to_acknowledge}")
    page.locator("form.signoff button.primary").click()
    page.wait_for_url("**/?done=acknowledged")
    page.goto(f"/?report={to_return}")
    page.locator("form.signoff button.danger").click()  # no comments: the API's 422 is shown, nothing changes
    assert page.locator(".error").count() == 1
    page.fill("form.signoff textarea", "请补充硬盘外送的授权记录")
    page.locator("form.signoff button.danger").click()
    page.wait_for_url("**/?done=returned")
    stored = _stored(stack, who)
    assert stored[to_acknowledge]["state"] == "acknowledged"
    assert (stored[to_return]["state"], stored[to_return]["comments"]) == ("returned", "请补充硬盘外送的授权记录")
    signed = page.locator("table.tickets tr[data-report]")
    shown = {signed.nth(i).get_attribute("data-report"): signed.nth(i).get_attribute("data-state") for i in range(signed.count())}
    assert shown.items() >= {to_acknowledge: "acknowledged", to_return: "returned"}.items()
    assert p.axe() == []
    p.shot("31-agency-after-the-morning")

    # The same inboxes in English.
    en = open_page(locale="en")
    sign_in(en, agency)
    assert en.page.locator("h1").inner_text() == "The agency's inboxes"
    assert en.axe() == []
    en.shot("32-agency-inboxes-en")
    assert p.errors == [] and en.errors == []
