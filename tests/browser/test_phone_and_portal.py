"""The engineer's day on a 390x844 phone and the requester's report and rating, in the browser on the real stack
(the shared session stack of conftest): no JavaScript errors, axe-core clean, no sideways scrolling, a screenshot of
each main screen (var/screenshots/1x-*.png)."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .conftest import bearer, make_user, sign_in

PHONE = (390, 844)
ZONE = ZoneInfo("Asia/Shanghai")
_LINKED: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="module")
def agent(stack: Stack) -> dict[str, Any]:
    return make_user(stack, "agent", name="周敏")


def admin(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token}"}


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.3)


def ticket(stack: Stack, ref: str, who: dict[str, str]) -> dict[str, Any]:
    reply = httpx.get(f"{stack.gateway}/api/v1/tickets/{ref}", headers=who, timeout=15)
    assert reply.status_code == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def file_ticket(stack: Stack, requester: dict[str, Any], title: str, **extra: Any) -> dict[str, Any]:
    body = {"title": title, "description": title, "channel": "web", "service_code": "RS-REPAIR", **extra}
    reply = httpx.post(f"{stack.gateway}/api/v1/tickets", headers=bearer(stack, requester), json=body, timeout=15)
    assert reply.status_code == 201, reply.text
    return reply.json()  # type: ignore[no-any-return]


def assigned(stack: Stack, ref: str, desk: dict[str, str]) -> dict[str, Any]:
    return wait_for(lambda: (ticket(stack, ref, desk).get("assignee") or None))  # type: ignore[no-any-return]


def engineer_user(stack: Stack, engineer_id: str, name: str) -> dict[str, Any]:
    """The user linked to this roster engineer (a roster engineer may be linked to one user: once per session)."""
    if engineer_id not in _LINKED:
        _LINKED[engineer_id] = make_user(stack, "engineer", name=name, engineer_id=engineer_id)
    return _LINKED[engineer_id]


def no_sideways_scroll(p: Any) -> None:
    width = p.page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE[0], f"the page is {width}px wide on a {PHONE[0]}px screen"
    # The compact header: one row on the phone (brand, links, live dot, the menu with language and account).
    height = p.page.evaluate("() => document.querySelector('header.top').getBoundingClientRect().height")
    assert height <= 56, f"the header wraps: {height}px high on a {PHONE[0]}px screen"


def test_engineer_day_on_a_phone(open_page: Any, stack: Stack, agent: dict[str, Any]) -> None:
    part = f"toner-{uuid.uuid4().hex[:6]}"
    stocked = httpx.post(f"{stack.gateway}/api/v1/spares", headers=admin(stack), timeout=15,
                         json={"part_type": part, "site": "主楼", "received": 5})
    assert stocked.status_code == 200, stocked.text
    requester = make_user(stack, "requester", name="李娜", department="财务科")
    filed = file_ticket(stack, requester, "三楼打印机卡纸", asset_tag="GZ-2026-000001")
    number = filed["number"]
    desk = bearer(stack, agent)
    who = assigned(stack, filed["id"], desk)
    engineer = engineer_user(stack, who["engineer_id"], who["engineer_name"])

    p = open_page(viewport=PHONE)
    sign_in(p, engineer)
    card = f"li.job[data-number='{number}']"
    p.page.wait_for_selector(card)
    assert "接单" in p.page.inner_text(f"{card} button.big")
    assert "设备维修" in p.page.inner_text(card) and "RS-REPAIR" not in p.page.inner_text(card)
    no_sideways_scroll(p)
    assert p.axe() == []
    p.shot("10-engineer-assignments")

    p.page.click("header.top [data-menu]")  # language and account open under the one row, and close again
    assert p.page.is_visible("#lang-select") and engineer["name"] in p.page.inner_text("header.top .who")
    p.page.click("header.top [data-menu]")
    assert not p.page.is_visible("#lang-select")

    p.page.click(f"{card} button.big")  # 接单
    p.page.wait_for_selector(f"{card} a.big.primary")
    assert "确认到场时间" in p.page.inner_text(f"{card} a.big.primary")
    p.page.click(f"{card} a.big.primary")
    p.page.wait_for_url(re.compile(rf".*/tickets/{number}(#.*)?$"))
    p.page.wait_for_selector("#step-eta")
    assert "主楼" in p.page.inner_text("#where-h + dl") and "301" in p.page.inner_text("#where-h + dl")
    eta_local = (datetime.now(ZONE) + timedelta(minutes=40)).replace(second=0, microsecond=0)
    p.page.fill("#eta", eta_local.strftime("%Y-%m-%dT%H:%M"))
    p.page.click("#step-eta button")
    p.page.wait_for_selector("#ticket .notice")
    notes = [c["body"] for c in ticket(stack, filed["id"], desk)["comments"] if c["internal"]]
    assert any(eta_local.strftime("%H:%M") in n for n in notes), notes
    no_sideways_scroll(p)
    assert p.axe() == []
    p.shot("11-engineer-job")

    # Confirming execution is the desk's step (dispatch): the desk confirms with the engineer's ETA.
    d = open_page()
    sign_in(d, agent)
    d.page.goto(f"/tickets/{number}")
    assert "设备维修" in d.page.inner_text(".ticket-head") and "RS-REPAIR" not in d.page.inner_text(".ticket-head")
    assert "系统派单" in d.page.inner_text(".timeline") and "Dispatch" not in d.page.inner_text(".timeline")
    d.page.fill("#confirm-eta", eta_local.strftime("%Y-%m-%dT%H:%M"))
    d.page.click("form.act-confirm button")
    d.page.wait_for_selector("#ticket .notice")
    # The phone follows live: the job is confirmed and the service record is the big next step.
    p.page.wait_for_selector(".step-box > button.primary[aria-expanded=true]", timeout=20_000)
    assert eta_local.strftime("%H:%M") in p.page.inner_text("#where-h + dl")

    p.page.fill("#work_done", "取出卡纸，更换硒鼓，打印正常")
    p.page.fill("#minutes_on_site", "25")
    p.page.select_option("#sku_0", part)
    p.page.click("#step-complete button")
    p.page.wait_for_selector("#ticket .notice")
    assert "已完工" in p.page.inner_text("#ticket")
    no_sideways_scroll(p)
    assert p.axe() == []
    p.shot("12-engineer-completed")

    # The desk sees the record awaiting its review.
    wait_for(lambda: (ticket(stack, filed["id"], desk).get("service_record") or {}).get("review") == "pending")
    d.page.goto("/queue?queue=review")
    d.page.wait_for_selector(f"tr[data-number='{number}']", timeout=20_000)
    d.page.goto(f"/tickets/{number}")
    assert "取出卡纸" in d.page.inner_text("#rec-h + p") and part in d.page.inner_text("#ticket")
    # People by their names, never their user names: the record's engineer and who resolved it in the timeline.
    shown = d.page.inner_text("#ticket")
    assert engineer["username"] not in shown, shown
    assert who["engineer_name"] in d.page.inner_text("#rec-h ~ p.muted")
    # A service's work note (assets' stock note, when it writes one) in the reader's words, no raw codes.
    notes = d.page.inner_text(".timeline")
    assert not re.search(r"no_site|unknown_part|not_enough_stock|stock parts", notes), notes
    assert d.page.locator("form.act-review").count() == 1
    assert d.axe() == []
    d.shot("13-desk-awaiting-review")

    manifest = p.page.request.get("/manifest.webmanifest")
    assert manifest.ok and manifest.headers["content-type"].startswith("application/manifest+json")
    icons = manifest.json()["icons"]
    assert {"192x192", "512x512"} <= {i["sizes"] for i in icons}
    assert all(p.page.request.get(i["src"]).ok for i in icons)
    assert p.errors == [], p.errors
    assert d.errors == [], d.errors


def test_requester_reports_and_rates(open_page: Any, stack: Stack, agent: dict[str, Any]) -> None:
    requester = make_user(stack, "requester", name="王芳", department="办公室")
    desk = bearer(stack, agent)
    before = httpx.get(f"{stack.gateway}/api/v1/kb/stats", headers=admin(stack), timeout=15).json()["self_service_deflections"]
    p = open_page(viewport=PHONE)
    sign_in(p, requester)
    p.page.click("main a.big.primary")  # 报告问题
    p.page.wait_for_url("**/report")
    labels = p.page.inner_text("fieldset.problems")
    assert "打印机或扫描仪不能用" in labels and not re.search(r"\b(RS|PS|MG|RP)-[A-Z]+", labels)
    p.page.check("#problem-printer")
    p.page.fill("#title", "打印机卡纸")
    p.page.wait_for_selector("#articles a")
    no_sideways_scroll(p)
    assert p.axe() == []
    p.shot("14-requester-report")

    # An article that solves it: the requester stops there, and the deflection is counted.
    p.page.click("#articles a >> nth=0")
    p.page.wait_for_selector(".solved")
    assert p.axe() == []
    p.shot("15-requester-article")
    p.page.click(".solved button.big")
    p.page.wait_for_selector("text=没有提交工单")
    after = httpx.get(f"{stack.gateway}/api/v1/kb/stats", headers=admin(stack), timeout=15).json()["self_service_deflections"]
    assert after == before + 1

    # Another problem the articles do not solve: back to the form with what was typed, and filed.
    p.page.goto("/report")
    p.page.check("#problem-printer")
    p.page.fill("#title", "打印机卡纸，取不出来")
    p.page.wait_for_selector("#articles a")
    p.page.click("#articles a >> nth=0")
    p.page.click(".solved a.big")
    p.page.wait_for_selector("#title")
    assert p.page.input_value("#title") == "打印机卡纸，取不出来" and p.page.is_checked("#problem-printer")
    p.page.fill("#description", "三楼 301 的打印机")
    p.page.click("#report-form button[type=submit]")
    p.page.wait_for_url(re.compile(r".*/tickets/[A-Z]+-\d{4}-\d+$"))
    number = p.page.url.rsplit("/", 1)[1]
    filed = ticket(stack, number, desk)
    assert filed["service_code"] == "RS-REPAIR" and filed["channel"] == "web"
    who = assigned(stack, filed["id"], desk)
    # The page's live stream must be open before the desk acts: an event from before it opened is not replayed to a
    # first connection (it has no Last-Event-ID), and on a busy machine the stream opens a moment after the page.
    p.page.wait_for_selector("#live-status.live.on", timeout=20_000)
    eta = (datetime.now(ZONE) + timedelta(minutes=50)).replace(second=0, microsecond=0)
    confirmed = httpx.post(f"{stack.gateway}/api/v1/assignments/{filed['id']}/confirm", headers=desk, timeout=15,
                           json={"eta": eta.isoformat()})
    assert confirmed.status_code == 200, confirmed.text
    p.page.wait_for_selector(f"text={eta.strftime('%Y-%m-%d %H:%M')}", timeout=20_000)  # live, no reload
    assert who["engineer_name"] in p.page.inner_text("#who-h + dl")
    assert p.axe() == []
    p.shot("16-requester-ticket")

    p.page.goto("/")
    row = f"li.job[data-number='{number}']"
    p.page.wait_for_selector(row)
    text = p.page.inner_text(row)
    assert who["engineer_name"] in text and eta.strftime("%H:%M") in text and p.page.locator(f"{row} .status").count() == 1

    # Cancel one before work starts.
    other = file_ticket(stack, requester, "显示器不亮")
    p.page.goto(f"/tickets/{other['number']}")
    p.page.click("button[data-toggle]:has-text('撤销报障')")
    p.page.fill("#cancel-reason", "自己插好电源线了")
    p.page.click("form.act-cancel button")
    p.page.wait_for_selector(".ticket-head .s-cancelled")
    assert ticket(stack, other["id"], desk)["status"] == "cancelled"

    # Rate one the desk resolved.
    third = file_ticket(stack, requester, "无法打印彩色")
    resolved = httpx.post(f"{stack.gateway}/api/v1/tickets/{third['id']}/resolve", headers=desk, timeout=15,
                          json={"resolution": "已重装彩色打印驱动"})
    assert resolved.status_code == 200, resolved.text
    p.page.goto("/")
    p.page.wait_for_selector(f"li.job[data-number='{third['number']}'] .notice")
    no_sideways_scroll(p)
    assert p.axe() == []
    p.shot("17-requester-tickets")
    p.page.goto(f"/tickets/{third['number']}")
    p.page.check("#star-4")
    p.page.fill("#rate-comment", "很快")
    p.page.click("form.act-rate button")
    p.page.wait_for_selector("text=★★★★☆")
    rated = ticket(stack, third["id"], desk)
    assert rated["status"] == "closed" and rated["satisfaction"] == 4 and rated["satisfaction_comment"] == "很快"
    assert p.axe() == []
    p.shot("18-requester-rated")
    assert p.errors == [], p.errors
