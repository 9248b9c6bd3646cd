"""An engineer's day through the gateway: a user linked to a roster engineer opens "my work", accepts, gives the desk
an ETA, asks for help, reports a delay, completes with a service record and reads the desk's review, and meets the
edges of their role: a colleague's work, closing and rating, somebody else's status."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import LOCAL_OFFSET, ROSTER, TIMEOUT, assigned, sign_in, ticket, wait_for, wait_for_status

pytestmark = pytest.mark.e2e

REPAIR = {"title": "打印机卡纸", "description": "三楼打印机每页都卡纸", "channel": "hotline", "service_code": "RS-REPAIR",
          "site": "主楼"}


def _get(stack: Stack, path: str, who: dict[str, str], **params: Any) -> httpx.Response:
    return httpx.get(f"{stack.gateway}/api/v1{path}", headers=who, params=params, timeout=TIMEOUT)


def _post(stack: Stack, path: str, who: dict[str, str], body: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.post(f"{stack.gateway}/api/v1{path}", headers=who, json=body if body is not None else {}, timeout=TIMEOUT)


def _people(stack: Stack) -> tuple[dict[str, str], dict[str, str]]:
    """A requester of 财务科 and a desk agent, fresh for each journey."""
    return (sign_in(stack, "requester", department="财务科", name="王小明"),
            sign_in(stack, "agent", department="服务台", prefix="desk"))


def _assigned(stack: Stack, requester: dict[str, str], desk: dict[str, str], **overrides: Any) -> tuple[str, str]:
    """The requester reports a fault and dispatch sends someone: (ticket id, the roster engineer holding it)."""
    created = _post(stack, "/tickets", requester, {**REPAIR, **overrides})
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    return tid, assigned(stack, tid, desk)["assignee"]["engineer_id"]


def _texts(value: Any) -> list[str]:
    """Every piece of text a person reads in an answer (the values, not the field names)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _my_work(stack: Stack, me: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = _get(stack, "/assignments", me, **params)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_engineer_works_a_ticket_from_my_work_to_the_desks_review(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    requester, desk = _people(stack)
    tid, eid = _assigned(stack, requester, desk)
    me = engineers[eid]

    # My work: the ticket is there, and only assignments I hold are.
    mine = _my_work(stack, me)
    assert tid in [a["ticket_id"] for a in mine]
    assert {a["engineer_id"] for a in mine} == {eid}
    number = ticket(stack, tid, desk)["number"]
    assert _get(stack, f"/assignments/{number}", me).json()["ticket_id"] == tid  # the number said on the phone works too

    # Told where I am (issue 16): with no channel configured, the assignment is a notice in my console, by its number,
    # in my language; marking it read is mine alone (a desk agent cannot mark it).
    def told() -> list[dict[str, Any]]:
        listed = _get(stack, "/notifications/mine", {**me, "Accept-Language": "zh-CN"}, limit=50)
        assert listed.status_code == 200, listed.text
        return [n for n in listed.json()["items"] if n["number"] == number and n["event"] == "assigned"]

    notice = wait_for(told)[0]
    assert notice["title"] == f"【运维】工单 {number} 已派给您" and not notice["read"], notice
    assert _post(stack, f"/notifications/mine/{notice['id']}/read", desk).status_code == 404
    assert _post(stack, f"/notifications/mine/{notice['id']}/read", me).status_code == 200
    assert told()[0]["read"]

    accepted = _post(stack, f"/assignments/{tid}/accept", me)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text

    # The ETA the engineer gives is confirmed by the desk (confirmation is the desk's step, not the engineer's).
    assert _post(stack, f"/assignments/{tid}/confirm", me, {"eta": "2099-11-30T15:00:00+08:00"}).status_code == 403
    naive = _post(stack, f"/assignments/{tid}/confirm", desk, {"eta": "2026-11-30 15:00"})
    assert naive.status_code == 422 and "eta" in naive.text, naive.text
    confirmed = _post(stack, f"/assignments/{tid}/confirm", desk, {"eta": "2099-11-30T15:00:00+08:00"})
    assert confirmed.status_code == 200, confirmed.text
    seen = _get(stack, f"/assignments/{tid}", me).json()
    assert seen["status"] == "confirmed" and seen["eta"].startswith("2099-11-30T15:00:00") and seen["eta"].endswith(LOCAL_OFFSET)

    record = {"work_done": "更换搓纸轮,打印测试正常", "parts_used": [{"part": "搓纸轮", "sku": "pickup-roller", "quantity": 1}],
              "minutes_on_site": 35}
    done = _post(stack, f"/assignments/{tid}/complete", me, record)
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    resolved = wait_for_status(stack, tid, desk, "resolved")
    assert resolved["service_record"]["review"] == "pending" and resolved["service_record"]["minutes_on_site"] == 35

    # The engineer is rated on this work: they neither close nor rate it.
    assert _post(stack, f"/tickets/{tid}/close", me, {"satisfaction": 5}).status_code == 403
    assert _post(stack, f"/tickets/{tid}/close", me, {}).status_code == 403

    approved = _post(stack, f"/tickets/{tid}/service-record/review", desk, {"decision": "approve"})
    assert approved.status_code == 200, approved.text
    reviewed = wait_for(lambda: (a := _get(stack, f"/assignments/{tid}", me).json())["status"] == "reviewed" and a)
    assert reviewed["service_record"]["review"] == "approved"
    assert ticket(stack, tid, me)["service_record"]["review"] == "approved"


def test_parts_used_from_spare_stock_are_issued_against_the_ticket(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    requester, desk = _people(stack)
    stocked = _post(stack, "/spares", desk, {"part_type": "fuser-unit", "site": "主楼", "received": 3, "minimum": 1})
    assert stocked.status_code == 200, stocked.text
    before = stocked.json()["available"]
    tid, eid = _assigned(stack, requester, desk, title="打印件有黑线")
    me = engineers[eid]
    assert _post(stack, f"/assignments/{tid}/accept", me).status_code == 200
    record = {"work_done": "更换定影组件", "parts_used": [{"part": "定影组件", "sku": "fuser-unit", "quantity": 1}],
              "minutes_on_site": 40}
    assert _post(stack, f"/assignments/{tid}/complete", me, record).status_code == 200
    wait_for_status(stack, tid, desk, "resolved")
    # The part came from the spare stock: it is issued against the ticket at the ticket's site.
    stock = wait_for(lambda: (s := _get(stack, "/spares/fuser-unit/主楼", desk).json())["available"] == before - 1 and s)
    assert stock["available"] == before - 1


def test_engineer_asking_for_help_is_an_internal_note_for_the_desk(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    """Kept apart from the whole day above so the rest of it is judged even while this seam is open."""
    requester, desk = _people(stack)
    tid, eid = _assigned(stack, requester, desk, title="显示器不亮")
    me = engineers[eid]
    assert _post(stack, f"/assignments/{tid}/accept", me).status_code == 200
    question = "显示器指示灯橙色闪烁,要换电源板吗?"
    asked = _post(stack, f"/assignments/{tid}/help", me, {"question": question})
    assert asked.status_code == 200, asked.text
    notes = wait_for(lambda: [c for c in ticket(stack, tid, desk)["comments"] if question in c["body"]])
    assert [c["internal"] for c in notes] == [True]
    requester_view = ticket(stack, tid, requester)
    assert not [c for c in requester_view["comments"] if question in c["body"]]


def test_a_delay_redispatches_and_the_requester_reads_no_internal_text(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    requester, desk = _people(stack)
    tid, eid = _assigned(stack, requester, desk, title="复印机不进纸")
    me = engineers[eid]
    assert _post(stack, f"/assignments/{tid}/accept", me).status_code == 200
    reason = "车辆故障,今天无法前往"
    delayed = _post(stack, f"/assignments/{tid}/delay", me, {"reason": reason, "cannot_go": True})
    assert delayed.status_code == 200, delayed.text

    # Re-dispatched at once: the ticket is no longer mine, and my work no longer lists it.
    moved = wait_for(lambda: (t := ticket(stack, tid, desk))["assignee"] and t["assignee"]["engineer_id"] != eid and t)
    assert moved["assignee"]["engineer_id"] in ROSTER
    assert tid not in [a["ticket_id"] for a in _my_work(stack, me)]
    assert _get(stack, f"/assignments/{tid}", me).status_code == 404

    # The requester is told someone else comes, in words for them: not my reason, not dispatch's scoring.
    seen = wait_for(lambda: (t := ticket(stack, tid, requester))["comments"] and t)
    text = "\n".join(_texts(seen))
    assert reason not in text and "车辆故障" not in text, text
    for scoring in ("score", "load ", "role mobile", "role onsite", "skill match"):
        assert scoring not in text, (scoring, text)
    # The desk, who may ring me back, keeps my reason as an internal work note.
    assert wait_for(lambda: [c for c in ticket(stack, tid, desk)["comments"] if c["internal"] and reason in c["body"]])


def test_a_colleagues_assignment_is_neither_read_nor_worked(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    requester, desk = _people(stack)
    mine_id, eid = _assigned(stack, requester, desk, title="键盘失灵")
    theirs_id, other = _assigned(stack, requester, desk, title="鼠标失灵")
    if other == eid:  # the desk sends the second ticket to a colleague, with its reason
        other = "eng-senior-1" if eid != "eng-senior-1" else "eng-mobile-1"
        moved = _post(stack, f"/assignments/{theirs_id}/reassign", desk, {"to": other, "reason": "分担工作量"})
        assert moved.status_code == 200, moved.text
        wait_for(lambda: ticket(stack, theirs_id, desk)["assignee"]["engineer_id"] == other)
    me = engineers[eid]

    assert theirs_id not in [a["ticket_id"] for a in _my_work(stack, me)]
    assert _get(stack, f"/assignments/{theirs_id}", me).status_code == 404
    assert _get(stack, "/assignments", me, engineer=other).status_code == 403
    for step, body in (("accept", None), ("help", {"question": "?"}), ("delay", {"reason": "x"}),
                       ("complete", {"work_done": "x"})):
        r = _post(stack, f"/assignments/{theirs_id}/{step}", me, body)
        assert r.status_code in (403, 404), (step, r.status_code, r.text)
        assert {"code", "message", "detail"} <= set(r.json()), r.text
    assert _get(stack, f"/tickets/{theirs_id}", me).status_code in (403, 404)
    assert _get(stack, f"/assignments/{theirs_id}", engineers[other]).status_code == 200
    assert mine_id in [a["ticket_id"] for a in _my_work(stack, me)]


def test_an_engineer_sets_only_their_own_status(stack: Stack, engineers: dict[str, dict[str, str]]) -> None:
    eid, colleague = "eng-pm-1", "eng-senior-1"
    me = engineers[eid]
    busy = httpx.patch(f"{stack.gateway}/api/v1/engineers/{eid}/status", json={"status": "busy"}, headers=me, timeout=TIMEOUT)
    assert busy.status_code == 200 and busy.json()["status"] == "busy", busy.text
    back = httpx.patch(f"{stack.gateway}/api/v1/engineers/{eid}/status", json={"status": "available"}, headers=me, timeout=TIMEOUT)
    assert back.status_code == 200 and back.json()["status"] == "available", back.text
    other = httpx.patch(f"{stack.gateway}/api/v1/engineers/{colleague}/status", json={"status": "on_leave"}, headers=me,
                        timeout=TIMEOUT)
    assert other.status_code == 403, other.text
    assert {"code", "message", "detail"} <= set(other.json())
    assert _get(stack, f"/engineers/{colleague}", me).json()["status"] != "on_leave"


def test_accepting_starts_the_work_and_a_redone_record_resolves_the_ticket_once(
    stack: Stack, engineers: dict[str, dict[str, str]]
) -> None:
    from .test_outside_system_day import _events

    requester, desk = _people(stack)
    tid, eid = _assigned(stack, requester, desk, title="复印机卡纸")
    me = engineers[eid]
    assert _post(stack, f"/assignments/{tid}/accept", me).status_code == 200
    # The acceptance moves the ticket on: in progress, announced, and the history names the engineer, not dispatch.
    started = wait_for_status(stack, tid, desk, "in_progress")
    assert started["assignee"]["accepted_at"]
    history = _get(stack, f"/tickets/{tid}/history", desk).json()
    accepted = [h for h in history if h["action"] in ("accepted", "status:in_progress")]
    assert [h["action"] for h in accepted] == ["accepted", "status:in_progress"]
    assert all(h["by"] != "dispatch" and h["role"] == "engineer" and h["by_name"] for h in accepted), accepted
    confirmed = _post(stack, f"/assignments/{tid}/confirm", desk, {"eta": "2099-11-30T15:00:00+08:00"})
    assert confirmed.status_code == 200, confirmed.text
    seen = wait_for(lambda: [h for h in _get(stack, f"/tickets/{tid}/history", desk).json() if h["action"] == "confirmed"])
    assert seen[0]["by"] != "dispatch" and seen[0]["role"] == "agent"

    record = {"work_done": "清理进纸通道", "minutes_on_site": 20}
    assert _post(stack, f"/assignments/{tid}/complete", me, record).status_code == 200
    wait_for_status(stack, tid, desk, "resolved")
    returned = _post(stack, f"/tickets/{tid}/service-record/review", desk, {"decision": "return", "note": "请写明卡纸位置"})
    assert returned.status_code == 200 and returned.json()["status"] == "in_progress", returned.text
    wait_for(lambda: _get(stack, f"/assignments/{tid}", me).json()["status"] == "confirmed")  # back with the engineer
    redone = _post(stack, f"/assignments/{tid}/complete", me, {**record, "work_done": "清理进纸通道(第二纸盒卡纸)"})
    assert redone.status_code == 200, redone.text
    wait_for(lambda: (t := ticket(stack, tid, desk))["status"] == "resolved" and "第二纸盒" in t["service_record"]["work_done"])
    changed = _events(stack.observer_url(), "ticket.status_changed", ticket_id=tid, want=6)
    moves = [(e["body"]["data"]["old_status"], e["body"]["data"]["new_status"]) for e in changed]
    assert moves == [("new", "assigned"), ("assigned", "in_progress"), ("in_progress", "resolved"),
                     ("resolved", "in_progress"), ("in_progress", "resolved")], moves
    # One resolution, announced once, although the ticket went back to resolved after the return.
    assert len(_events(stack.observer_url(), "ticket.resolved", ticket_id=tid, want=2, timeout=3)) == 1
