"""The day of 陈伟, a requester of 财务科 who reads simplified Chinese, through the gateway only: he files a ticket
without retyping who he is, reads the suggested articles, sees the engineer accept and the ETA, comments, cancels a
second ticket before work starts, cannot set a priority, closes the resolved ticket with a score, cannot see another
department's ticket, and finds his department's tickets even when the desk typed 財務科."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import (
    LOCAL_OFFSET,
    assigned,
    create_user,
    in_language,
    is_chinese,
    sign_in,
    ticket,
    token_for,
    unique,
    wait_for,
    wait_for_status,
)

pytestmark = pytest.mark.e2e

PRINTER = {"title": "打印机卡纸", "description": "财务科三楼的打印机卡纸，显示错误13.A，无法打印报销单", "channel": "web",
           "service_code": "RS-ONSITE"}

# His account's name: unique, since the stack is shared with the other journeys and the e2e tests.
CHEN = unique("chen.wei")

@pytest.fixture(scope="module")
def chen(stack: Stack) -> dict[str, str]:
    """陈伟 of 财务科, signed in, his browser in simplified Chinese."""
    create_user(stack, "requester", username=CHEN, name="陈伟", department="财务科", email=f"{CHEN}@example.cn")
    headers: dict[str, str] = in_language(token_for(stack, CHEN), "zh-CN")
    return headers


@pytest.fixture(scope="module")
def desk(stack: Stack) -> dict[str, str]:
    headers: dict[str, str] = in_language(sign_in(stack, "agent", name="周敏", department="服务台", prefix="desk"), "zh-CN")
    return headers


def _file(stack: Stack, who: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=who, timeout=15)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def test_he_files_a_ticket_without_retyping_who_he_is_and_sees_suggestions(stack: Stack, chen: dict[str, str]) -> None:
    filed = _file(stack, chen, PRINTER)
    # His account fills the requester: name, department and id; he typed none of them.
    assert filed["requester"]["name"] == "陈伟" and filed["requester"]["department"] == "财务科"
    assert filed["requester_id"] == CHEN
    assert filed["number"].startswith("INC-") and filed["status"] in ("new", "assigned")
    assert filed["created_at"].endswith(LOCAL_OFFSET) and filed["reported_at"].endswith(LOCAL_OFFSET)

    # The knowledge base answers while he waits: the printer-jam article first, written in simplified Chinese.
    seen = wait_for(lambda: (t := ticket(stack, filed["id"], chen))["suggestions"] and t)
    first = seen["suggestions"][0]
    # (13.A is a jam code: the jam article and the error-code article are both right answers.)
    assert first["article_id"] in ("kb-demo-printer-jam", "kb-demo-printer-error"), seen["suggestions"]
    assert all(is_chinese(s["title"]) for s in seen["suggestions"])
    # Nothing matched on noise alone: no VPN article among the suggestions for a printer.
    assert not any("VPN" in s["title"] for s in seen["suggestions"])
    # The suggestions route answers him for his own ticket, the articles his ticket shows; he is offered only what he
    # may do (cancel before work starts), never the desk's transitions.
    read = httpx.get(f"{stack.gateway}/api/v1/kb/suggestions/{filed['number']}", headers=chen, timeout=15)
    assert read.status_code == 200, read.text
    assert [a["article_id"] for a in read.json()["articles"]] == [s["article_id"] for s in seen["suggestions"]]
    assert seen["allowed_transitions"] == ["cancelled"]


def test_a_contact_he_gives_is_kept_but_his_department_comes_from_his_account(stack: Stack, chen: dict[str, str]) -> None:
    body = {**PRINTER, "title": "显示器闪烁", "requester": {"name": "陈伟", "phone": "020-83001234", "department": "人事科"}}
    filed = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=chen, timeout=15)
    # Another department in his body is refused naming the field, never silently replaced by his account's.
    assert filed.status_code == 422, filed.text
    assert [d["loc"] for d in filed.json()["detail"]] == [["body", "requester", "department"]]
    assert is_chinese(filed.json()["message"])
    # His contact alone is his to give; name and department come from his account.
    body["requester"] = {"phone": "020-83001234"}
    filed = httpx.post(f"{stack.gateway}/api/v1/tickets", json=body, headers=chen, timeout=15)
    assert filed.status_code == 201, filed.text
    requester = filed.json()["requester"]
    assert requester["department"] == "财务科" and requester["name"] == "陈伟" and requester["phone"] == "020-83001234"


def test_he_may_not_set_the_priority(stack: Stack, chen: dict[str, str]) -> None:
    refused = httpx.post(f"{stack.gateway}/api/v1/tickets", json={**PRINTER, "priority": "P1", "priority_reason": "领导急用"},
                         headers=chen, timeout=15)
    assert refused.status_code == 422, refused.text
    error = refused.json()
    assert is_chinese(error["message"])
    # Both fields he may not set are named in the one answer, not one per attempt.
    assert [d["loc"][-1] for d in error["detail"]] == ["priority", "priority_reason"]
    assert error["detail"][0]["msg"]  # the real reason, not a bare "invalid value"


def test_he_sees_the_engineer_accept_and_the_eta_then_closes_with_a_score(
    stack: Stack, chen: dict[str, str], desk: dict[str, str], engineers: dict[str, dict[str, str]]
) -> None:
    gw = stack.gateway
    tid = _file(stack, chen, {**PRINTER, "title": "显示器不亮", "description": "开机后显示器没有信号"})["id"]
    eid = assigned(stack, tid, desk)["assignee"]["engineer_id"]
    engineer = engineers[eid]

    accepted = httpx.post(f"{gw}/api/v1/assignments/{tid}/accept", headers=engineer, timeout=15)
    assert accepted.status_code == 200, accepted.text
    mine = wait_for(lambda: (t := ticket(stack, tid, chen))["assignee"].get("accepted_at") and t)
    assert mine["assignee"]["engineer_name"] and mine["assignee"]["accepted_at"].endswith(LOCAL_OFFSET)

    confirmed = httpx.post(f"{gw}/api/v1/assignments/{tid}/confirm", json={"eta": "2099-12-01T10:30:00+08:00"}, headers=desk, timeout=15)
    assert confirmed.status_code == 200, confirmed.text
    mine = wait_for(lambda: (t := ticket(stack, tid, chen))["assignee"].get("eta") and t)
    assert mine["assignee"]["eta"] == "2099-12-01T10:30:00+08:00"  # the time he was told, on his own clock

    # He adds a word for the engineer; the desk's work note stays hidden from him.
    said = httpx.post(f"{gw}/api/v1/tickets/{tid}/comments", json={"body": "我在三楼301室，下午都在"}, headers=chen, timeout=15)
    assert said.status_code == 201, said.text
    assert said.json()["author_name"] == "陈伟" and said.json()["at"].endswith(LOCAL_OFFSET)
    note = httpx.post(f"{gw}/api/v1/tickets/{tid}/comments", json={"body": "内部：该用户上周已报修过", "internal": True},
                      headers=desk, timeout=15)
    assert note.status_code == 201, note.text
    bodies = [c["body"] for c in ticket(stack, tid, chen)["comments"]]
    assert "我在三楼301室，下午都在" in bodies and "内部：该用户上周已报修过" not in bodies

    # The engineer completes with the service record and the desk approves it; then he closes with a score.
    record = {"work_done": "更换显示器电源线，显示正常", "minutes_on_site": 20}
    done = httpx.post(f"{gw}/api/v1/assignments/{tid}/complete", json=record, headers=engineer, timeout=15)
    assert done.status_code == 200, done.text
    resolved = wait_for_status(stack, tid, chen, "resolved")
    assert resolved["resolution"] == record["work_done"] and resolved["resolved_at"].endswith(LOCAL_OFFSET)
    # He is told in his console too (his account is on the ticket), in his language, unread until he reads it.
    def told() -> dict[str, Any] | None:
        items = httpx.get(f"{gw}/api/v1/notifications/mine", params={"limit": 50}, headers=chen, timeout=15).json()["items"]
        return next((n for n in items if n["event"] == "resolved" and n["ticket_id"] == tid), None)

    notice = wait_for(told)
    assert notice["title"] == f"【运维】工单 {resolved['number']} 已解决" and not notice["read"], notice
    approved = httpx.post(f"{gw}/api/v1/tickets/{tid}/service-record/review", json={"decision": "approve"}, headers=desk, timeout=15)
    assert approved.status_code == 200, approved.text

    closed = httpx.post(f"{gw}/api/v1/tickets/{tid}/close", json={"satisfaction": 5, "comment": "很快就修好了"}, headers=chen, timeout=15)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["satisfaction"] == 5
    assert closed.json()["closed_at"].endswith(LOCAL_OFFSET)


def test_he_never_sees_how_dispatch_scored_the_engineers(stack: Stack, chen: dict[str, str], desk: dict[str, str]) -> None:
    tid = _file(stack, chen, {**PRINTER, "title": "键盘失灵"})["id"]
    assigned(stack, tid, desk)
    mine = ticket(stack, tid, chen)
    shown = str(mine["assignee"]) + str(mine["comments"])
    assert "score" not in shown and "load" not in shown


def test_he_cancels_a_second_ticket_before_work_starts_but_not_after(
    stack: Stack, chen: dict[str, str], desk: dict[str, str], engineers: dict[str, dict[str, str]]
) -> None:
    gw = stack.gateway
    second = _file(stack, chen, {**PRINTER, "title": "申请新键盘", "description": "键盘个别按键失灵"})["id"]
    cancelled = httpx.post(f"{gw}/api/v1/tickets/{second}/status", json={"status": "cancelled", "reason": "已找到备用键盘"},
                           headers=chen, timeout=15)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["allowed_transitions"] == []

    # Once the engineer has accepted, work has started: cancelling is the desk's call, and he is told so in Chinese.
    third = _file(stack, chen, {**PRINTER, "title": "鼠标失灵"})["id"]
    eid = assigned(stack, third, desk)["assignee"]["engineer_id"]
    assert httpx.post(f"{gw}/api/v1/assignments/{third}/accept", headers=engineers[eid], timeout=15).status_code == 200
    wait_for(lambda: ticket(stack, third, desk)["assignee"].get("accepted_at"))
    late = httpx.post(f"{gw}/api/v1/tickets/{third}/status", json={"status": "cancelled", "reason": "不需要了"}, headers=chen, timeout=15)
    assert late.status_code in (403, 409), late.text
    assert is_chinese(late.json()["message"])
    assert ticket(stack, third, chen)["status"] != "cancelled"


def test_he_cannot_see_another_departments_ticket(stack: Stack, chen: dict[str, str]) -> None:
    gw = stack.gateway
    hr = in_language(sign_in(stack, "requester", name="赵敏", department="人事科"), "zh-CN")
    theirs = _file(stack, hr, {**PRINTER, "title": "人事系统无法登录"})
    for ref in (theirs["id"], theirs["number"]):
        hidden = httpx.get(f"{gw}/api/v1/tickets/{ref}", headers=chen, timeout=15)
        assert hidden.status_code == 404, hidden.text
        assert is_chinese(hidden.json()["message"])
        # Nor its suggestions: a 404 like an unknown ticket, not a 403 that says it exists.
        assert httpx.get(f"{gw}/api/v1/kb/suggestions/{ref}", headers=chen, timeout=15).status_code == 404
    listed = httpx.get(f"{gw}/api/v1/tickets", params={"department": "人事科"}, headers=chen, timeout=15)
    assert listed.status_code == 200, listed.text
    assert theirs["id"] not in {t["id"] for t in listed.json()["items"]}
    assert httpx.post(f"{gw}/api/v1/tickets/{theirs['id']}/comments", json={"body": "?"}, headers=chen, timeout=15).status_code == 404


def test_he_finds_his_departments_tickets_typed_in_traditional_characters(
    stack: Stack, chen: dict[str, str], desk: dict[str, str]
) -> None:
    # A colleague rang the hotline; the desk typed the department in traditional characters.
    rang = _file(stack, desk, {**PRINTER, "title": "報銷系統無法登入", "channel": "hotline",
                               "requester": {"name": "林美玲", "department": "財務科"}})
    found = wait_for(lambda: [t for t in httpx.get(f"{stack.gateway}/api/v1/tickets", params={"department": "财务科"},
                                                       headers=chen, timeout=15).json()["items"] if t["id"] == rang["id"]])
    assert found[0]["number"] == rang["number"]
    assert found[0]["created_at"].endswith(LOCAL_OFFSET)
    # And by its number, as the colleague would read it out to him.
    assert ticket(stack, rang["number"], chen)["id"] == rang["id"]
