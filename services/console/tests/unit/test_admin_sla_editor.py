"""The /admin/sla editor against a stand-in gateway: it shows the contract clocks and the escalation chain, puts back
what GET returned with the form's changes (If-Match), shows the API's refusal in its words, and a version changed
meanwhile is shown, not overwritten."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from console.main import create_app
from console.pages.admin import edited_contacts, edited_policies, overrides_text, parse_overrides
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
CSRF = "c" * 32
CLOCKS = {"response": {"calendar": "office-hours", "business_minutes": 60.0, "warn_ratio": 0.8},
          "confirmation": {"calendar": "24x7", "business_minutes": 30.0, "warn_ratio": 0.8}}
POLICIES = {"version": 2, "source": "stored", "changed_by": "wang.admin", "changed_at": "2026-11-30T01:00:00Z", "clocks": CLOCKS,
            "overrides": {"*:P1": {"response": {"business_minutes": 30.0, "warn_ratio": 0.5}}}}
CONTACTS = {"version": 0, "source": "settings", "changed_by": None, "changed_at": None, "levels": [
    {"level": 1, "role": "desk_lead", "after_minutes": 0, "emails": [], "webhooks": [], "channels": [], "language": "zh-CN"},
    {"level": 2, "role": "project_manager", "after_minutes": 20, "emails": ["pm@x.cn"], "webhooks": [], "channels": [], "language": "zh-CN"},
]}


class Gateway:
    def __init__(self, refuse: dict[str, Any] | None = None) -> None:
        self.calls: list[tuple[str, str, Any, str]] = []
        self.refuse = refuse

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body, request.headers.get("if-match", "")))
        if request.method == "PUT" and self.refuse is not None:
            return httpx.Response(422, json=self.refuse)
        if path == "/sla/policies":
            return httpx.Response(200, json=POLICIES, headers={"etag": '"2"'})
        if path == "/sla/escalation-contacts":
            return httpx.Response(200, json=CONTACTS, headers={"etag": '"0"'})
        if path == "/sla/policies/history":
            return httpx.Response(200, json=[{"version": 2, "by": "wang.admin", "role": "admin", "at": "2026-11-30T01:00:00Z", "value": {}}])
        if path == "/calendars":
            return httpx.Response(200, json={"calendars": [{"name": "office-hours"}, {"name": "24x7"}], "holiday_years": {}})
        if path == "/users/wang.admin":
            return httpx.Response(200, json={"username": "wang.admin", "name": "王管理员", "role": "admin"})
        if path == "/notifications/outbox":
            return httpx.Response(200, json=[
                {"id": "n1", "event": "breach", "role": "agent", "channel": "apprise", "target": "console", "address": None,
                 "subject": "【超时】工单 INC-1 的响应时限已超时", "status": "sent", "attempts": 1},
                {"id": "n2", "event": "escalation", "role": "project_manager", "channel": "email", "target": "pm@x.cn", "address": None,
                 "subject": "升级", "status": "failed", "attempts": 3}])
        return httpx.Response(404, json={"code": "not_found", "message": "没有找到"})


async def _run(fake: Gateway, calls: list[tuple[str, str, dict[str, str] | None]]) -> list[httpx.Response]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", "admin", None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    out = []
    async with app.router.lifespan_context(app), client:
        for method, url, form in calls:
            out.append(await client.request(method, url, data=form, headers={"accept-language": "zh-CN"}))
    return out


def _form(**extra: str) -> dict[str, str]:
    return {"csrf": CSRF, "version": "2", "response.calendar": "office-hours", "response.business_minutes": "45",
            "response.warn_percent": "75", "confirmation.calendar": "24x7", "confirmation.business_minutes": "30",
            "confirmation.warn_percent": "80", "overrides": "*:P1 response 20\nRS-SPARE:* dispatch 5 24x7", **extra}


async def test_the_page_shows_each_clock_and_level_in_chinese() -> None:
    [page] = await _run(Gateway(), [("GET", "/admin/sla", None)])
    assert page.status_code == 200, page.text
    assert "合同时限" in page.text and "升级联系人" in page.text and "最近由 王管理员" in page.text
    assert "v2 · 王管理员 ·" in page.text  # who changed them, by name (the walk, session 6, found usernames)
    assert 'name="response.business_minutes"' in page.text and 'value="60"' in page.text and 'value="80"' in page.text
    assert "*:P1 response 30" in page.text and "pm@x.cn" in page.text
    # The recent notifications in words (the walk, session 6, found breach / apprise / console / sent)
    breach = page.text.split('<tr data-event="breach">')[1].split("</tr>")[0]
    assert "SLA 时限超时" in breach and "站内通知（控制台）" in breach and "服务台" in breach and "已发送" in breach
    assert "apprise" not in breach and ">sent<" not in breach
    mail = page.text.split('<tr data-event="escalation">')[1].split("</tr>")[0]
    assert "事项已升级" in mail and "电子邮件" in mail and "pm@x.cn" in mail and "发送失败" in mail


async def test_saving_puts_back_what_get_returned_with_the_forms_changes() -> None:
    fake = Gateway()
    [done, shown] = await _run(fake, [("POST", "/admin/sla/policies", _form()), ("GET", "/admin/sla?done=policies", None)])
    assert done.status_code == 303 and done.headers["location"] == "/admin/sla?done=policies"
    assert '<p class="notice" role="status">SLA 策略已保存；此后开始的计时使用新策略。</p>' in shown.text
    [(method, path, body, if_match)] = [c for c in fake.calls if c[0] == "PUT"]
    assert (method, path, if_match) == ("PUT", "/sla/policies", '"2"')
    assert body["clocks"]["response"] == {"calendar": "office-hours", "business_minutes": 45.0, "warn_ratio": 0.75}
    assert body["overrides"] == {"*:P1": {"response": {"business_minutes": 20.0, "warn_ratio": 0.5}},
                                 "RS-SPARE:*": {"dispatch": {"business_minutes": 5.0, "calendar": "24x7"}}}
    assert body["version"] == 2


async def test_the_apis_refusal_is_shown_in_its_words() -> None:
    refusal = {"code": "validation_error", "message": "请求内容有误，请检查所列字段",
               "detail": [{"loc": ["body", "clocks", "response", "business_minutes"], "msg": "应大于 0", "type": "greater_than"}]}
    fake = Gateway(refuse=refusal)
    [page] = await _run(fake, [("POST", "/admin/sla/policies", _form(**{"response.business_minutes": "-5"}))])
    assert page.status_code == 422
    assert "clocks.response.business_minutes: 应大于 0" in page.text
    [put] = [c for c in fake.calls if c[0] == "PUT"]
    assert put[2]["clocks"]["response"]["business_minutes"] == -5.0  # the typed value went to the API, which judged it


async def test_a_version_changed_meanwhile_is_shown_not_overwritten() -> None:
    fake = Gateway()
    [page] = await _run(fake, [("POST", "/admin/sla/policies", _form(version="1"))])
    assert page.status_code == 409 and "SLA 策略已被他人修改" in page.text
    assert all(method != "PUT" for method, *_ in fake.calls)


async def test_contacts_are_saved_with_a_level_removed_and_one_added() -> None:
    fake = Gateway()
    form = {"csrf": CSRF, "version": "0", "l0.role": "desk_lead", "l0.after_minutes": "0", "l0.emails": "lead@x.cn， desk@x.cn",
            "l1.role": "", "l2.role": "agency_it_manager", "l2.after_minutes": "60", "l2.channels": "desk-wecom", "l2.language": "zh-TW"}
    [done] = await _run(fake, [("POST", "/admin/sla/contacts", form)])
    assert done.status_code == 303, done.text
    method, path, body, if_match = fake.calls[-1]
    assert (method, path, if_match) == ("PUT", "/sla/escalation-contacts", '"0"')
    assert [(lvl["level"], lvl["role"], lvl["after_minutes"]) for lvl in body["levels"]] == [(1, "desk_lead", 0.0), (2, "agency_it_manager", 60.0)]
    assert body["levels"][0]["emails"] == ["lead@x.cn", "desk@x.cn"] and body["levels"][1]["language"] == "zh-TW"


def test_override_lines_round_trip_and_bad_lines_are_named() -> None:
    overrides = {"*:P1": {"response": {"business_minutes": 30.0}}, "RS-SPARE:*": {"dispatch": {"business_minutes": 5, "calendar": "24x7"}}}
    parsed, bad = parse_overrides(overrides_text(overrides) + "\nnonsense", overrides)
    assert parsed == overrides and bad == ["nonsense"]
    body, bad = edited_policies(POLICIES, {"response.business_minutes": "abc"})
    assert body["clocks"]["response"]["business_minutes"] == "abc" and bad == []  # sent as typed: the API names it
    assert edited_contacts(CONTACTS, {})["levels"] == []


async def test_a_refused_edit_is_shown_as_typed_to_be_corrected() -> None:
    refusal = {"code": "validation_error", "message": "请求内容有误，请检查所列字段",
               "detail": [{"loc": ["body", "repair_progress_working_days"], "msg": "应不小于 1", "type": "greater_than_equal"}]}
    form = _form(**{"response.business_minutes": "abc", "repair_progress_working_days": "0", "overrides": "*:P1 response 20"})
    [page] = await _run(Gateway(refuse=refusal), [("POST", "/admin/sla/policies", form)])
    assert page.status_code == 422 and "repair_progress_working_days: 应不小于 1" in page.text
    assert 'id="response-min" name="response.business_minutes" type="number" step="any" inputmode="decimal" value="abc"' in page.text
    assert 'name="repair_progress_working_days" type="number" step="1" value="0"' in page.text
    assert ">*:P1 response 20</textarea>" in page.text
