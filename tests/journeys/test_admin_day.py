"""The administrator's day, through the gateway only: people get their accounts (a requester of 财务科, a desk agent,
an engineer linked to the roster, a manager), a catalog entry is edited by reading it and writing the same body back,
next year's holidays are uploaded, and an outside system gets its API key. Each step asserts what the admin sees."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from opsdesk_devstack.stack import Stack

from .people import LOCAL_OFFSET, PASSWORD, admin, create_user, in_language, sign_in, token_for, wait_for

# A stack of its own: the administrator links roster engineers to new accounts, and a roster engineer may be linked to
# one user only, which the shared stack's other journeys have already done. The variable is read by nothing: it only
# makes this module's stack a kind of its own in the pool.
pytestmark = [pytest.mark.e2e, pytest.mark.stack_env(OPSDESK_TEST_STACK="admin-day")]


def test_the_admin_creates_the_people_of_the_desk_and_each_can_sign_in(stack: Stack) -> None:
    gw = stack.gateway
    requester = create_user(stack, "requester", username="chen.wei", name="陈伟", department="财务科", email="chenwei@example.cn")
    # What the admin sees of the account: the fields given, never the password, times in the agency's offset.
    assert requester["role"] == "requester" and requester["department"] == "财务科" and requester["name"] == "陈伟"
    assert requester["has_password"] is True and "password" not in requester and "password_hash" not in requester
    assert requester["created_at"].endswith(LOCAL_OFFSET), requester["created_at"]

    agent = create_user(stack, "agent", username="desk.zhou", name="周敏", department="服务台")
    manager = create_user(stack, "manager", username="pm.liu", name="刘洋")
    engineer = create_user(stack, "engineer", username="eng.chen", name="陈志强", engineer_id="eng-onsite-1")
    assert engineer["engineer_id"] == "eng-onsite-1"

    # Each signs in and the gateway knows who they are.
    for user in (requester, agent, manager, engineer):
        me = httpx.get(f"{gw}/api/v1/me", headers=token_for(stack, user["username"]), timeout=15)
        assert me.status_code == 200, me.text
        assert (me.json()["subject"], me.json()["role"]) == (user["username"], user["role"])
    assert httpx.get(f"{gw}/api/v1/me", headers=token_for(stack, "eng.chen"), timeout=15).json()["engineer_id"] == "eng-onsite-1"

    # The users page lists them.
    listed = httpx.get(f"{gw}/api/v1/users", headers=admin(stack), timeout=15)
    assert listed.status_code == 200, listed.text
    assert {"chen.wei", "desk.zhou", "pm.liu", "eng.chen"} <= {u["username"] for u in listed.json()}


def test_the_admin_cannot_link_an_engineer_who_is_not_on_the_roster_or_already_linked(stack: Stack) -> None:
    gw = stack.gateway
    body = {"username": "eng.ghost", "name": "无名", "role": "engineer", "password": PASSWORD, "engineer_id": "eng-nobody"}
    unknown = httpx.post(f"{gw}/api/v1/users", json=body, headers=in_language(admin(stack), "zh-CN"), timeout=15)
    assert unknown.status_code == 422, unknown.text
    field = unknown.json()["detail"][0]
    assert field["loc"][-1] == "engineer_id" and "eng-nobody" in field["msg"]

    create_user(stack, "engineer", username="eng.wang", name="王工", engineer_id="eng-onsite-2")
    twice = httpx.post(f"{gw}/api/v1/users", json={**body, "username": "eng.wang2", "engineer_id": "eng-onsite-2"},
                       headers=in_language(admin(stack), "zh-CN"), timeout=15)
    assert twice.status_code == 409, twice.text
    # The real reason (who holds the link) is there, beside a message in the admin's language.
    assert "eng.wang" in twice.text and any("\u4e00" <= ch <= "\u9fff" for ch in twice.json()["message"])

    # 王工 leaves: disabling his account frees the link for his successor, who takes it; unlinking works as well.
    zh = in_language(admin(stack), "zh-CN")
    left = httpx.patch(f"{gw}/api/v1/users/eng.wang", json={"disabled": True}, headers=zh, timeout=15)
    assert left.status_code == 200, left.text
    successor = httpx.post(f"{gw}/api/v1/users", json={**body, "username": "eng.wang2", "engineer_id": "eng-onsite-2"},
                           headers=zh, timeout=15)
    assert (successor.status_code, successor.json()["engineer_id"]) == (201, "eng-onsite-2"), successor.text
    unlinked = httpx.patch(f"{gw}/api/v1/users/eng.wang2", json={"engineer_id": None}, headers=zh, timeout=15)
    assert (unlinked.status_code, unlinked.json()["engineer_id"]) == (200, None), unlinked.text
    # Every answer says its language, successful ones included.
    assert unlinked.headers["content-language"] == "zh-CN"


def test_a_catalog_entry_read_with_get_is_written_back_with_put_and_everyone_sees_the_change(stack: Stack) -> None:
    gw = stack.gateway
    zh = in_language(admin(stack), "zh-CN")
    read = httpx.get(f"{gw}/api/v1/catalog/RS-ONSITE", headers=zh, timeout=15)
    assert read.status_code == 200, read.text
    entry = read.json()
    assert entry["name"] == "现场维护" and entry["labels"]["name"]["en"] == "On-site maintenance"

    # The admin changes one thing in what GET returned and sends the whole body back: a round trip.
    edited = {**entry, "name": "现场维护服务"}
    put = httpx.put(f"{gw}/api/v1/catalog/RS-ONSITE", json=edited, headers=zh, timeout=15)
    assert put.status_code == 200, put.text
    saved = put.json()
    assert saved["name"] == "现场维护服务" and saved["version"] == entry["version"] + 1
    # Only the admin's language changed; the other two are kept.
    assert saved["labels"]["name"] == {**entry["labels"]["name"], "zh-CN": "现场维护服务"}
    assert {k: v for k, v in saved.items() if k not in ("name", "labels", "version")} == \
        {k: v for k, v in entry.items() if k not in ("name", "labels", "version")}

    # Sending the same stale body again is refused: someone (the admin) changed it since that version.
    stale = httpx.put(f"{gw}/api/v1/catalog/RS-ONSITE", json=edited, headers=zh, timeout=15)
    assert stale.status_code == 412, stale.text
    assert "RS-ONSITE" in stale.text
    # Its message names the catalog entry, in the admin's language, not a ticket (工单).
    assert stale.json()["message"].startswith("服务目录条目 RS-ONSITE") and "工单" not in stale.text
    assert put.headers["content-language"] == "zh-CN"

    # A desk agent reading the catalog in simplified Chinese sees the new name; in traditional the old one.
    agent = sign_in(stack, "agent", department="服务台")
    listed = httpx.get(f"{gw}/api/v1/catalog", headers=in_language(agent, "zh-CN"), timeout=15).json()
    assert {s["code"]: s["name"] for s in listed}["RS-ONSITE"] == "现场维护服务"
    assert httpx.get(f"{gw}/api/v1/catalog/RS-ONSITE", headers=in_language(agent, "zh-TW"), timeout=15).json()["name"] == "現場維護"
    # ... and may not edit it.
    assert httpx.put(f"{gw}/api/v1/catalog/RS-ONSITE", json=saved, headers=agent, timeout=15).status_code == 403


def test_the_admin_uploads_next_years_holidays_and_deadlines_follow_them(stack: Stack) -> None:
    gw = stack.gateway
    # 2027 is in no package yet: a deadline there is approximate until the year's schedule is uploaded.
    params: dict[str, str | int] = {"start": "2027-02-05T17:00:00+08:00", "business_minutes": 60}
    before = httpx.get(f"{gw}/api/v1/calendars/office-hours/deadline", params=params, headers=admin(stack), timeout=15)
    assert before.status_code == 200, before.text
    assert before.json()["approximate"] is True

    year = {"year": 2027, "holidays": ["2027-02-08", "2027-02-09"], "workdays": []}
    uploaded = httpx.put(f"{gw}/api/v1/holidays/2027", json=year, headers=admin(stack), timeout=15)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {"year": 2027, "holidays": 2, "workdays": 0, "source": "upload"}

    after = wait_for(lambda: (r := httpx.get(f"{gw}/api/v1/calendars/office-hours/deadline", params=params,
                                              headers=admin(stack), timeout=15).json())["approximate"] is False and r)
    # Friday 17:00 + 60 business minutes: past the weekend and the two holidays, in the agency's local time.
    assert after["due_at"] == "2027-02-10T09:00:00+08:00"

    # A year that contradicts its path is refused, naming the field.
    wrong = httpx.put(f"{gw}/api/v1/holidays/2028", json=year, headers=admin(stack), timeout=15)
    assert wrong.status_code == 422, wrong.text
    assert "year" in wrong.text


def test_the_admin_gives_an_outside_system_an_api_key_shown_once(stack: Stack) -> None:
    gw = stack.gateway
    created = httpx.post(f"{gw}/api/v1/api-keys", json={"name": "oa-system", "role": "agent"}, headers=admin(stack), timeout=15)
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["name"] == "oa-system" and key["role"] == "agent" and key["revoked_at"] is None
    assert key["created_at"].endswith(LOCAL_OFFSET)

    system = {"Authorization": f"Bearer {key['key']}"}
    me = httpx.get(f"{gw}/api/v1/me", headers=system, timeout=15)
    assert me.status_code == 200, me.text
    assert me.json()["subject"] == "key:oa-system" and me.json()["via"] == "api_key"

    # The list shows the key but never its secret again.
    listed = httpx.get(f"{gw}/api/v1/api-keys", headers=admin(stack), timeout=15)
    assert listed.status_code == 200, listed.text
    mine = [k for k in listed.json() if k["name"] == "oa-system"]
    assert len(mine) == 1 and "key" not in mine[0] and key["key"] not in listed.text

    # The same name twice is a conflict, and a desk agent may not make keys.
    assert httpx.post(f"{gw}/api/v1/api-keys", json={"name": "oa-system", "role": "agent"}, headers=admin(stack),
                      timeout=15).status_code == 409
    agent = sign_in(stack, "agent")
    assert httpx.post(f"{gw}/api/v1/api-keys", json={"name": "other", "role": "agent"}, headers=agent, timeout=15).status_code == 403

    # Revoked, it stops working at once.
    assert httpx.delete(f"{gw}/api/v1/api-keys/oa-system", headers=admin(stack), timeout=15).status_code == 204
    assert httpx.get(f"{gw}/api/v1/me", headers=system, timeout=15).status_code == 401


def test_the_admin_changes_a_contract_clock_and_only_tickets_filed_after_it_run_on_it(stack: Stack) -> None:
    """SLA policies through the gateway (issue 16): the admin reads them, changes the response clock to 45 business
    minutes and writes the body back; a ticket filed before keeps its 60, one filed after runs on 45; a manager may
    not change them, a bad value is refused naming the field, and the change is in the history under the admin."""
    gw = stack.gateway
    zh = in_language(admin(stack), "zh-CN")
    read = httpx.get(f"{gw}/api/v1/sla/policies", headers=zh, timeout=15)
    assert read.status_code == 200, read.text
    policies = read.json()
    original = policies["clocks"]["response"]
    assert original["business_minutes"] == 60 and read.headers["etag"] == f'"{policies["version"]}"'
    desk = in_language(sign_in(stack, "agent", department="服务台"), "zh-CN")
    call = {"title": "打印机卡纸", "description": "三楼打印机卡纸", "channel": "hotline", "service_code": "RS-ONSITE",
            "requester": {"name": "陈伟", "phone": "020-83001234", "department": "财务科"}}

    def file_and_read_response_clock() -> dict[str, Any]:
        filed = httpx.post(f"{gw}/api/v1/tickets", json=call, headers=desk, timeout=15)
        assert filed.status_code == 201, filed.text
        ticket_id = filed.json()["id"]
        found: dict[str, Any] = wait_for(lambda: (r := httpx.get(f"{gw}/api/v1/timers/{ticket_id}/response", headers=admin(stack),
                                                                  timeout=15)).status_code == 200 and r.json())
        return found

    before = file_and_read_response_clock()
    assert before["business_minutes"] == 60
    try:
        edited = {**policies, "clocks": {**policies["clocks"], "response": {**original, "business_minutes": 45}}}
        manager = in_language(sign_in(stack, "manager"), "zh-CN")
        assert httpx.put(f"{gw}/api/v1/sla/policies", json=edited, headers=manager, timeout=15).status_code == 403
        negative = {**policies, "clocks": {**policies["clocks"], "dispatch": {**policies["clocks"]["dispatch"], "business_minutes": -10}}}
        refused = httpx.put(f"{gw}/api/v1/sla/policies", json=negative, headers=zh, timeout=15)
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "clocks", "dispatch", "business_minutes"]
        assert refused.json()["detail"][0]["msg"].startswith("应大于 0")

        put = httpx.put(f"{gw}/api/v1/sla/policies", json=edited, headers=zh, timeout=15)
        assert put.status_code == 200, put.text
        assert put.json()["version"] == policies["version"] + 1 and put.json()["clocks"]["response"]["business_minutes"] == 45
        assert put.headers["etag"] == f'"{policies["version"] + 1}"'
        # The same body again started from an older version: refused, with the current version to read again.
        stale = httpx.put(f"{gw}/api/v1/sla/policies", json=edited, headers=zh, timeout=15)
        assert stale.status_code == 412 and stale.json()["message"].startswith("SLA 策略已被他人修改"), stale.text

        after = file_and_read_response_clock()
        assert after["business_minutes"] == 45
        # The ticket filed before the change keeps the promise it was given.
        kept = httpx.get(f"{gw}/api/v1/timers/{before['ticket_id']}/response", headers=admin(stack), timeout=15).json()
        assert kept["business_minutes"] == 60 and kept["due_at"] == before["due_at"]
        history = httpx.get(f"{gw}/api/v1/sla/policies/history", headers=admin(stack), timeout=15).json()
        me = httpx.get(f"{gw}/api/v1/me", headers=admin(stack), timeout=15).json()["subject"]
        assert (history[0]["version"], history[0]["by"]) == (policies["version"] + 1, me)
    finally:
        now = httpx.get(f"{gw}/api/v1/sla/policies", headers=admin(stack), timeout=15).json()
        back = httpx.put(f"{gw}/api/v1/sla/policies", json={**now, "clocks": {**now["clocks"], "response": original}},
                         headers=admin(stack), timeout=15)
        assert back.status_code == 200, back.text
