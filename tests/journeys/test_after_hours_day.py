"""An evening at the desk, through the gateway on the real stack: outside service hours (the contract: on site 5x8,
by phone at other times) a printer that needs hands waits for the morning's on-site engineers instead of going to the
phone on-call, while a remote-desktop request goes to the phone on-call at once; when the on-site shift begins the
held ticket is assigned, its confirmation clock starting then; the desk reads every reason and refusal in simplified
Chinese.

The clock cannot be moved on a real stack, so the desk makes "now" an evening: the on-site engineers' shift starts
two minutes from now and the mobile engineer is on the phone all day; dispatch's waiting room looks every second."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import in_language, sign_in, wait_for

# The shared stack retries the waiting room every second (SHARED_ENV), so the shift's start is seen at once.
pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
TIMEOUT = 15.0
PRINTER = {"title": "打印机卡纸，需要上门", "description": "三楼打印机卡纸，指示灯闪烁", "channel": "hotline",
           "service_code": "RS-REPAIR", "requester": {"name": "陈伟", "phone": "020-83001234", "department": "财务科"}}
REMOTE = {**PRINTER, "title": "需要远程安装软件", "channel": "remote_desktop", "service_code": "RS-ONSITE"}


@pytest.fixture(scope="module")
def desk(stack: Stack) -> dict[str, str]:
    headers: dict[str, str] = in_language(sign_in(stack, "agent", name="周敏", username="desk.evening"), "zh-CN")
    return headers


@pytest.fixture(scope="module")
def shift_start(stack: Stack, desk: dict[str, str]) -> Iterator[datetime]:
    """The desk's rota for the evening: on site from two whole minutes from now, the mobile engineer on the phone.
    The stack is shared: the three engineers' rotas are put back as they were after this module."""
    start = (datetime.now(SHANGHAI) + timedelta(minutes=2)).replace(second=0, microsecond=0)
    if start.date() != (start - timedelta(minutes=3)).date():
        pytest.skip("too close to midnight for a same-day shift")
    onsite = [{"weekdays": [start.weekday()], "start": start.strftime("%H:%M"), "end": "24:00", "mode": "onsite"}]
    phone = [{"weekdays": list(range(7)), "start": "00:00", "end": "24:00", "mode": "phone"}]
    rota = (("eng-onsite-1", "陈志强", "主楼", onsite), ("eng-onsite-2", "李嘉欣", "主楼", onsite), ("eng-mobile-1", "黄伟明", "副楼", phone))
    kept = ("name", "role", "skills", "status", "capacity", "home_site", "shifts")
    before = {eid: {k: v for k, v in httpx.get(f"{stack.gateway}/api/v1/engineers/{eid}", headers=desk, timeout=TIMEOUT).json().items()
                    if k in kept} for eid, *_ in rota}
    for eid, name, home, shifts in rota:
        body = {"name": name, "role": "mobile" if "mobile" in eid else "onsite", "skills": ["desktop", "printer", "network"],
                "home_site": home, "shifts": shifts}
        r = httpx.put(f"{stack.gateway}/api/v1/engineers/{eid}", json=body, headers=desk, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
    yield start
    for eid, body in before.items():
        back = httpx.put(f"{stack.gateway}/api/v1/engineers/{eid}", json=body, headers=desk, timeout=TIMEOUT)
        assert back.status_code == 200, back.text


def _file(stack: Stack, desk: dict[str, str], body: dict[str, Any]) -> str:
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=desk, timeout=TIMEOUT)
    assert r.status_code == 201, r.text
    ticket_id: str = r.json()["id"]
    return ticket_id


def _assignment(stack: Stack, ticket_id: str, desk: dict[str, str]) -> dict[str, Any] | None:
    r = httpx.get(f"{stack.gateway}/api/v1/assignments/{ticket_id}", headers=desk, timeout=TIMEOUT)
    return r.json() if r.status_code == 200 else None


def _ticket(stack: Stack, ticket_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{stack.gateway}/api/v1/tickets/{ticket_id}", headers=headers, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_work_on_site_waits_for_the_on_site_shift_and_remote_work_goes_to_the_phone_on_call(
    stack: Stack, desk: dict[str, str], shift_start: datetime
) -> None:
    gw = stack.gateway
    printer = _file(stack, desk, PRINTER)
    remote = _file(stack, desk, REMOTE)

    held = wait_for(lambda: (a := _assignment(stack, printer, desk)) and a)
    assert held["status"] == "unassigned" and held["engineer_id"] == ""
    assert datetime.fromisoformat(held["held_until"]) == shift_start and held["held_until"].endswith("+08:00")
    assert held["reason_code"] == "held_after_hours"
    assert f"顺延至 {shift_start.strftime('%Y-%m-%d %H:%M')}" in held["reason"], held["reason"]

    # The hold is on the ticket: the desk reads when the on-site shift takes it (site's clock, offset), the requester
    # of a held ticket a plain sentence saying when an engineer comes, never the desk's note.
    until = f"{shift_start.strftime('%Y-%m-%d %H:%M')} +08:00"
    noted = wait_for(lambda: [c for c in _ticket(stack, printer, desk)["comments"] if c["internal"] and until in c["body"]])
    assert "等待驻场班次" in noted[0]["body"], noted
    chen = in_language(sign_in(stack, "requester", name="陈伟", department="财务科", username="chen.evening"), "zh-CN")
    filed = httpx.post(f"{gw}/api/v1/tickets", json={k: v for k, v in PRINTER.items() if k != "requester"} | {"channel": "web"},
                       headers=chen, timeout=TIMEOUT)
    assert filed.status_code == 201, filed.text
    his = wait_for(lambda: (t := _ticket(stack, filed.json()["id"], chen))["comments"] and t)
    assert [c["body"] for c in his["comments"]] == [
        f"您的工单 {his['number']} 需要工程师上门处理。现在是非驻场服务时间，工程师将于 "
        f"{shift_start.strftime('%Y-%m-%d %H:%M')} 起上门为您处理。"], his["comments"]

    on_call = wait_for(lambda: (a := _assignment(stack, remote, desk)) and a["status"] == "open" and a)
    assert on_call["engineer_id"] == "eng-mobile-1" and on_call["mode"] == "remote" and on_call["duty"] == "phone"
    assert "电话值班" in on_call["reason"] and "评分" in on_call["reason"]

    # The refusals a desk meets this evening, in her language with the real reason.
    ghost = httpx.post(f"{gw}/api/v1/assignments/{printer}/reassign", json={"to": "eng-ghost", "reason": "换人"},
                       headers=desk, timeout=TIMEOUT)
    assert ghost.status_code == 422 and ghost.json()["detail"] == [
        {"loc": ["body", "to"], "msg": "名册中没有工程师 eng-ghost", "type": "value_error"}]
    early = httpx.post(f"{gw}/api/v1/assignments/{printer}/confirm", json={}, headers=desk, timeout=TIMEOUT)
    assert early.status_code == 409 and early.json()["allowed"] == ["reassign"] and "待派工" in early.json()["detail"]
    unknown = httpx.get(f"{gw}/api/v1/assignments/INC-2026-999999", headers=desk, timeout=TIMEOUT)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"

    # The shift begins: the on-site engineers take the held printer, scored and planned now.
    taken = wait_for(lambda: (a := _assignment(stack, printer, desk)) and a["status"] == "open" and a,
                     timeout=(shift_start - datetime.now(SHANGHAI)).total_seconds() + 20)
    assert taken["engineer_id"] in ("eng-onsite-1", "eng-onsite-2") and taken["duty"] == "onsite"
    assert taken["mode"] == "visit" and taken["held_until"] is None
    assert datetime.fromisoformat(taken["assigned_at"]) >= shift_start
    ticket = wait_for(lambda: (t := httpx.get(f"{gw}/api/v1/tickets/{printer}", headers=desk, timeout=TIMEOUT).json())
                      ["status"] == "assigned" and t)
    assert ticket["assignee"]["engineer_id"] == taken["engineer_id"]
    confirmation = wait_for(lambda: (r := httpx.get(f"{gw}/api/v1/timers/{printer}/confirmation", headers=desk,
                                                    timeout=TIMEOUT)).status_code == 200 and r.json())
    assert datetime.fromisoformat(confirmation["started_at"]) >= shift_start
