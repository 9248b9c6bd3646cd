"""The day of 周敏 at the service desk, through the gateway only: she works the queue (filters, local times), opens a
ticket by the number a caller reads out, guides a caller remotely on a desk-first ticket and resolves it at the desk,
sends another on to dispatch, reassigns with a reason the requester never sees, approves an engineer's service
record on the ticket, reads the month's first-contact figure, and gets her errors in simplified Chinese with the
real reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import LOCAL_OFFSET, assigned, in_language, is_chinese, sign_in, ticket, unique, wait_for, wait_for_status

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL = {"title": "Outlook无法收邮件", "description": "提示密码错误，无法连接邮件服务器", "channel": "hotline",
        "service_code": "RS-ONSITE", "requester": {"name": "陈伟", "phone": "020-83001234", "department": "财务科"}}


# Her account's name: unique, since the stack is shared with the other journeys and the e2e tests.
DESK = unique("desk.zhou")


@pytest.fixture(scope="module")
def desk(stack: Stack) -> dict[str, str]:
    """周敏 of the service desk, her browser in simplified Chinese."""
    headers: dict[str, str] = in_language(sign_in(stack, "agent", name="周敏", department="服务台", username=DESK), "zh-CN")
    return headers


@pytest.fixture(scope="module")
def chen(stack: Stack) -> dict[str, str]:
    """陈伟 of 财务科, whose calls the desk takes (his account, to see what he sees)."""
    headers: dict[str, str] = in_language(sign_in(stack, "requester", name="陈伟", department="财务科", prefix="chen.wei"), "zh-CN")
    return headers


def _take_call(stack: Stack, desk: dict[str, str], **changes: Any) -> dict[str, Any]:
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json={**CALL, **changes}, headers=desk, timeout=15)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def _times(obj: Any) -> list[str]:
    """Every timestamp in a response (keys ending in _at), wherever it is nested."""
    found: list[str] = []
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key.endswith("_at") and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_times(value))
    elif isinstance(obj, list):
        for item in obj:
            found.extend(_times(item))
    return found


def test_she_works_the_queue_with_filters_in_local_time_and_opens_a_ticket_by_its_number(
    stack: Stack, desk: dict[str, str]
) -> None:
    gw = stack.gateway
    first = _take_call(stack, desk)
    second = _take_call(stack, desk, title="打印机卡纸")
    today = datetime.now(SHANGHAI).date().isoformat()
    queue = httpx.get(f"{gw}/api/v1/tickets", params={"status": ["new", "assigned"], "service_code": "RS-ONSITE",
                                                      "created_from": today, "sort": "-created_at"}, headers=desk, timeout=15)
    assert queue.status_code == 200, queue.text
    items = queue.json()["items"]
    ids = [t["id"] for t in items]
    assert first["id"] in ids and second["id"] in ids and ids.index(second["id"]) < ids.index(first["id"])
    assert all(t["status"] in ("new", "assigned") and t["service_code"] == "RS-ONSITE" for t in items)
    times = _times(items)
    assert times and all(t.endswith(LOCAL_OFFSET) for t in times), times

    # Free text narrows it to the caller's problem.
    found = httpx.get(f"{gw}/api/v1/tickets", params={"q": "Outlook"}, headers=desk, timeout=15).json()["items"]
    assert [t["id"] for t in found] == [first["id"]]

    # The caller reads out the number: it opens the same ticket as its id does.
    by_number = httpx.get(f"{gw}/api/v1/tickets/{first['number']}", headers=desk, timeout=15)
    assert by_number.status_code == 200, by_number.text
    opened = by_number.json()
    assert opened["id"] == first["id"] and opened["requester"]["name"] == "陈伟"
    assert all(t.endswith(LOCAL_OFFSET) for t in _times(opened)), _times(opened)


def test_she_guides_a_caller_on_a_desk_first_ticket_and_resolves_it_at_the_desk(stack: Stack, desk: dict[str, str]) -> None:
    gw = stack.gateway
    held = _take_call(stack, desk, desk_first=True)
    assert held["desk_first"] is True and held["status"] == "new"
    # It stays with the desk: dispatch gives it to nobody while she tries.
    guided = httpx.post(f"{gw}/api/v1/tickets/{held['number']}/guidance", headers=desk, timeout=15)
    assert guided.status_code == 200, guided.text
    assert guided.json()["guidance_started_at"].endswith(LOCAL_OFFSET)
    assert ticket(stack, held["id"], desk)["assignee"] is None

    done = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/resolve",
                      json={"resolution": "指导用户重新输入邮箱密码并重启Outlook", "at_desk": True, "article_id": "kb-demo-outlook"},
                      headers=desk, timeout=15)
    assert done.status_code == 200, done.text
    resolved = done.json()
    assert resolved["status"] == "resolved" and resolved["resolved_at_desk"] is True and resolved["assignee"] is None
    assert resolved["guidance_minutes"] is not None and resolved["guidance_minutes"] <= 5


def _reopened_and_sent_on(stack: Stack, desk: dict[str, str], title: str) -> dict[str, Any]:
    """A desk-first ticket resolved at the desk, reopened (the caller rings back) and sent on by the agent."""
    gw = stack.gateway
    held = _take_call(stack, desk, desk_first=True, title=title)
    done = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/resolve",
                      json={"resolution": "指导用户重启", "at_desk": True, "guidance_minutes": 2}, headers=desk, timeout=15)
    assert done.status_code == 200 and done.json()["allowed_transitions"] == ["closed", "new"], done.text
    back = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/reopen", json={"reason": "又坏了"}, headers=desk, timeout=15)
    assert back.status_code == 200, back.text
    # The desk's first contact again, with a fresh window: held, not yet with dispatch.
    assert (back.json()["status"], back.json()["desk_first"], back.json()["dispatch_requested_at"]) == ("new", True, None)
    sent = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/dispatch", headers=desk, timeout=15)
    assert sent.status_code == 200 and sent.json()["dispatch_requested_at"], sent.text
    return held


def test_a_ticket_resolved_at_the_desk_and_reopened_is_the_desks_again_and_is_sent_on(stack: Stack, desk: dict[str, str]) -> None:
    _reopened_and_sent_on(stack, desk, "邮箱又登不上")


def test_dispatch_assigns_a_reopened_ticket_the_desk_sent_on(stack: Stack, desk: dict[str, str]) -> None:
    held = _reopened_and_sent_on(stack, desk, "打印机又不出纸")
    seen = wait_for(lambda: (t := ticket(stack, held["id"], desk))["assignee"] and t, timeout=10)
    assert seen["status"] == "assigned" and seen["assignee"]["engineer_name"]


def test_she_reads_why_dispatch_chose_the_engineer_in_her_language(stack: Stack, desk: dict[str, str]) -> None:
    """Dispatch announces its reason as a code; the ticket says it in the reader's language, not dispatch's English."""
    tid = _take_call(stack, desk, title="电脑无法开机")["id"]
    reason = assigned(stack, tid, desk)["assignee"]["reason"]
    assert is_chinese(reason) and "评分" in reason and "负载" in reason, reason
    assert "score" not in reason and "load" not in reason, reason
    english = ticket(stack, tid, {**desk, "Accept-Language": "en"})["assignee"]["reason"]
    assert "score" in english and "load" in english, english


def test_she_sends_a_desk_first_ticket_on_to_dispatch(stack: Stack, desk: dict[str, str]) -> None:
    gw = stack.gateway
    held = _take_call(stack, desk, desk_first=True, title="显示器不亮")
    sent = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/dispatch", headers=desk, timeout=15)
    assert sent.status_code == 200, sent.text
    seen = wait_for(lambda: (t := ticket(stack, held["id"], desk))["assignee"] and t)
    assert seen["status"] == "assigned" and seen["assignee"]["engineer_name"]
    # Sending it twice is a conflict that says where it is.
    again = httpx.post(f"{gw}/api/v1/tickets/{held['id']}/dispatch", headers=desk, timeout=15)
    assert again.status_code == 409, again.text


def test_remote_guidance_is_refused_once_an_engineer_has_the_ticket(stack: Stack, desk: dict[str, str]) -> None:
    tid = _take_call(stack, desk, title="键盘失灵")["id"]
    assigned(stack, tid, desk)
    refused = httpx.post(f"{stack.gateway}/api/v1/tickets/{tid}/guidance", headers=desk, timeout=15)
    assert refused.status_code == 409, refused.text
    assert is_chinese(refused.json()["message"])


def test_she_reassigns_with_a_reason_the_requester_never_sees(
    stack: Stack, desk: dict[str, str], chen: dict[str, str]
) -> None:
    gw = stack.gateway
    filed = httpx.post(f"{gw}/api/v1/tickets", json={k: v for k, v in CALL.items() if k != "requester"} | {"channel": "web"},
                       headers=chen, timeout=15)
    assert filed.status_code == 201, filed.text
    tid, number = filed.json()["id"], filed.json()["number"]
    before = assigned(stack, tid, desk)["assignee"]["engineer_id"]
    to = "eng-mobile-1" if before != "eng-mobile-1" else "eng-onsite-2"
    reason = "该用户情绪激动，需派经验丰富的工程师"

    moved = httpx.post(f"{gw}/api/v1/assignments/{number}/reassign", json={"to": to, "reason": reason}, headers=desk, timeout=15)
    assert moved.status_code == 200, moved.text
    assert moved.json()["engineer_id"] == to and moved.json()["history"][-1]["note"] == reason
    seen = wait_for(lambda: (t := ticket(stack, tid, desk))["assignee"]["engineer_id"] == to and t)
    assert seen["status"] == "assigned"

    # The requester sees who comes, never why the desk chose so.
    his = ticket(stack, tid, chen)
    assert his["assignee"]["engineer_id"] == to
    assert reason not in str(his)


def test_she_approves_the_engineers_service_record_on_the_ticket(
    stack: Stack, desk: dict[str, str], engineers: dict[str, dict[str, str]]
) -> None:
    gw = stack.gateway
    tid = _take_call(stack, desk, title="打印机卡纸", description="显示错误13.A")["id"]
    eid = assigned(stack, tid, desk)["assignee"]["engineer_id"]
    engineer = engineers[eid]
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/accept", headers=engineer, timeout=15).status_code == 200
    record = {"work_done": "取出卡纸，更换搓纸轮，打印测试正常", "minutes_on_site": 30}
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json=record, headers=engineer, timeout=15).status_code == 200

    waiting = wait_for(lambda: (t := ticket(stack, tid, desk))["service_record"] and t)
    assert waiting["status"] == "resolved" and waiting["service_record"]["review"] == "pending"
    assert waiting["service_record"]["work_done"] == record["work_done"] and waiting["service_record"]["minutes_on_site"] == 30

    approved = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=desk, timeout=15)
    assert approved.status_code == 200, approved.text
    assert approved.json()["service_record"]["review"] == "approved"
    assert approved.json()["service_record"]["reviewed_by"] == DESK
    # Dispatch's assignment follows the desk's verdict.
    wait_for(lambda: httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=desk, timeout=15).json()["status"] == "reviewed")
    # Reviewed once: a second verdict is a conflict.
    twice = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "return", "note": "补充"},
                       headers=desk, timeout=15)
    assert twice.status_code == 409, twice.text


def test_a_reopened_ticket_the_engineer_resolved_goes_back_to_them_and_they_complete_it_again(
    stack: Stack, desk: dict[str, str], engineers: dict[str, dict[str, str]]
) -> None:
    gw = stack.gateway
    tid = _take_call(stack, desk, title="打印机又卡纸", description="显示错误13.A")["id"]
    eid = assigned(stack, tid, desk)["assignee"]["engineer_id"]
    engineer = engineers[eid]
    first = {"work_done": "取出卡纸，打印测试正常", "minutes_on_site": 20}
    assert httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json=first, headers=engineer, timeout=15).status_code == 200
    wait_for(lambda: (t := ticket(stack, tid, desk))["service_record"] and t["status"] == "resolved")
    approved = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=desk, timeout=15)
    assert approved.status_code == 200, approved.text
    wait_for(lambda: httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=desk, timeout=15).json()["status"] == "reviewed")

    back = httpx.post(f"{gw}/api/v1/tickets/{tid}/reopen", json={"reason": "又卡纸了"}, headers=desk, timeout=15)
    assert back.status_code == 200 and back.json()["status"] == "in_progress", back.text
    # The engineer has the job again (on their list, under way) and completes it with a new record.
    mine = wait_for(lambda: (a := httpx.get(f"{gw}/api/v1/assignments/{tid}", headers=engineer, timeout=15).json())
                    ["status"] == "confirmed" and a)
    assert mine["engineer_id"] == eid and mine["history"][-1]["note"] == "又卡纸了"
    second = {"work_done": "更换搓纸轮，连续打印50页正常", "minutes_on_site": 40}
    done = httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json=second, headers=engineer, timeout=15)
    assert done.status_code == 200, done.text
    again = wait_for(lambda: (t := ticket(stack, tid, desk))["status"] == "resolved" and t)
    assert again["service_record"]["work_done"] == second["work_done"] and again["service_record"]["review"] == "pending"


def test_she_reads_the_months_first_contact_figure(stack: Stack, desk: dict[str, str]) -> None:
    gw = stack.gateway
    tid = _take_call(stack, desk, title="忘记开机密码")["id"]
    done = httpx.post(f"{gw}/api/v1/tickets/{tid}/resolve", json={"resolution": "指导用户重置密码", "at_desk": True, "guidance_minutes": 3},
                      headers=desk, timeout=15)
    assert done.status_code == 200, done.text
    wait_for_status(stack, tid, desk, "resolved")

    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    stats = wait_for(lambda: (s := httpx.get(f"{gw}/api/v1/stats/desk", params={"month": month}, headers=desk, timeout=15).json())
                     ["resolved_at_desk"] >= 1 and s)
    assert stats["month"] == month and stats["resolved"] >= stats["resolved_at_desk"]
    assert stats["share"] == round(stats["resolved_at_desk"] / stats["resolved"], 4)
    # A month long past counts nothing.
    old = httpx.get(f"{gw}/api/v1/stats/desk", params={"month": "2020-01"}, headers=desk, timeout=15).json()
    assert old == {"month": "2020-01", "resolved": 0, "resolved_at_desk": 0, "share": None}
    bad = httpx.get(f"{gw}/api/v1/stats/desk", params={"month": "2026-13"}, headers=desk, timeout=15)
    assert bad.status_code == 422, bad.text
    assert bad.json()["detail"][0]["loc"][-1] == "month"


def test_her_errors_come_in_simplified_chinese_with_the_real_reason(stack: Stack, desk: dict[str, str]) -> None:
    gw = stack.gateway
    unknown = httpx.get(f"{gw}/api/v1/tickets/INC-2026-999999", headers=desk, timeout=15)
    assert unknown.status_code == 404, unknown.text
    assert is_chinese(unknown.json()["message"]) and "INC-2026-999999" in unknown.text

    # Routed to dispatch, the answer has the same shape and language.
    no_assignment = httpx.get(f"{gw}/api/v1/assignments/INC-2026-999999", headers=desk, timeout=15)
    assert no_assignment.status_code == 404, no_assignment.text
    assert set(no_assignment.json()) >= {"code", "message", "detail"} and is_chinese(no_assignment.json()["message"])

    # A time without an offset: refused, naming the field, the reason in her language.
    naive = httpx.post(f"{gw}/api/v1/tickets", json={**CALL, "reported_at": "2026-11-30 15:00"}, headers=desk, timeout=15)
    assert naive.status_code == 422, naive.text
    detail = naive.json()["detail"][0]
    assert detail["loc"][-1] == "reported_at" and is_chinese(detail["msg"]) and "+08:00" in detail["msg"]

    # Reassigning to an engineer not on the roster is bad input (422 on `to`), not a state conflict.
    tid = _take_call(stack, desk, title="网络断开")["id"]
    assigned(stack, tid, desk)
    nobody = httpx.post(f"{gw}/api/v1/assignments/{tid}/reassign", json={"to": "eng-nobody", "reason": "测试"}, headers=desk, timeout=15)
    assert nobody.status_code == 422, nobody.text
    assert is_chinese(nobody.json()["message"])
    assert nobody.json()["detail"][0]["loc"][-1] == "to" and "eng-nobody" in nobody.json()["detail"][0]["msg"]
