"""What walk 6a (the agency's morning and the manager's month-end, by hand) found on pages a person reads: a refused
"add a user" form kept nothing typed and asked for an engineer's roster id as free text."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from console.main import create_app
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
CSRF = "c" * 32


class Gateway:
    def __init__(self) -> None:
        self.posted: list[Any] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/users" and request.method == "POST":
            self.posted.append(json.loads(request.content))
            return httpx.Response(409, json={"code": "conflict", "message": "工程师 eng-onsite-1 已关联用户 eng.wang1"})
        if path == "/users":
            return httpx.Response(200, json=[{"username": "eng.wang1", "name": "王工", "role": "engineer", "engineer_id": "eng-onsite-1"}])
        if path == "/api-keys":
            return httpx.Response(200, json=[])
        if path == "/engineers":
            return httpx.Response(200, json=[{"id": "eng-onsite-1", "name": "陳志強"}, {"id": "eng-onsite-2", "name": "李嘉欣"}])
        return httpx.Response(404, json={"code": "not_found", "message": "no"})


async def _post(fake: Gateway, url: str, form: dict[str, str]) -> httpx.Response:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "admin", "管理员", "admin", None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies) as client:
        return await client.post(url, data={"csrf": CSRF, **form}, headers={"accept-language": "zh-CN"})


@pytest.mark.asyncio
async def test_a_refused_new_user_keeps_what_was_typed_and_engineers_are_picked_by_name() -> None:
    fake = Gateway()
    page = await _post(fake, "/admin/users", {"username": "w6a.eng", "name": "陈志强", "role": "engineer", "department": "运维部",
                                               "engineer_id": "eng-onsite-1", "password": "change-me-now-1"})
    html = page.text
    assert page.status_code == 409 and "已关联用户 eng.wang1" in html
    assert fake.posted and fake.posted[0]["engineer_id"] == "eng-onsite-1"
    assert 'name="username" required autocomplete="off" value="w6a.eng"' in html and 'value="运维部"' in html
    assert '<option value="engineer" selected>' in html
    assert '<option value="eng-onsite-1" selected>陳志強 (eng-onsite-1) · eng.wang1</option>' in html  # who holds it
    assert '<option value="eng-onsite-2" >李嘉欣 (eng-onsite-2)</option>' in html
    assert "change-me-now-1" not in html  # never the password
    assert 'data-engineer="eng-onsite-1">· 陳志強<' in html  # the users table names the linked roster engineer


def test_the_desks_automatic_words_to_the_requester_are_signed_in_the_readers_language() -> None:
    """Walk 6a: the requester's timeline signed intake's comment "Service desk" in English."""
    from console.timeline import timeline

    ticket = {"comments": [{"at": "2026-12-01T01:28:00+08:00", "author": "desk", "author_name": "Service desk", "body": "工程师将于 08:30 起上门"}]}
    (item,) = timeline(ticket, [])
    assert item["system"] == "Service desk"  # a message id the template translates (服务台), not the author's English name


def test_emergency_work_is_sent_from_the_call_form_only_when_dispatched() -> None:
    """Walk 6a: the desk could file emergency work through the API only; the call form now offers it."""
    from console.pages.calls import ticket_body

    values = {"title": "机房空调停机抢修", "requester_name": "王小明", "service_code": "RS-ONSITE", "emergency": "1"}
    assert ticket_body(values, reported_at=None, desk_first=False)["emergency"] is True
    assert "emergency" not in ticket_body(values, reported_at=None, desk_first=True)  # resolved at the desk: nothing to authorize
    assert "emergency" not in ticket_body({**values, "emergency": ""}, reported_at=None, desk_first=False)


class _Catalog(Gateway):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if path == "/catalog/RS-ONSITE":
            return httpx.Response(200, json={
                "code": "RS-ONSITE", "name": "现场维护", "version": 2, "family": "responsive", "sla_profile": "responsive",
                "ticket_type": "incident", "cadence": "on_demand", "default_priority": "P3", "skill": "desktop",
                "requires_authorization": True, "desk_first": False, "active": True,
                "labels": {"name": {"zh-CN": "现场维护", "zh-TW": "現場維護", "en": "On-site maintenance"}}})
        if path == "/catalog":
            return httpx.Response(200, json=[{"code": "RS-ONSITE", "name": "现场维护", "family": "responsive", "active": True,
                                             "labels": {"name": {"zh-CN": "现场维护"}}}])
        return super().__call__(request)


@pytest.mark.asyncio
async def test_the_catalog_entry_names_its_profile_type_and_cadence() -> None:
    """Walk 6a: the catalog editor showed "SLA 方案: responsive · 类型: incident · 频次: on_demand"."""
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(_Catalog()), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "admin", "管理员", "admin", None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies) as client:
        page = await client.get("/admin/catalog/RS-ONSITE", headers={"accept-language": "zh-CN"})
        call = await client.get("/calls/new", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200, page.text
    assert "响应式 · " in page.text and ": 故障 · " in page.text and ": 按需</p>" in page.text
    assert "on_demand" not in page.text and ": incident" not in page.text
    assert call.status_code == 200 and 'name="emergency"' in call.text and "紧急工作：立即派工" in call.text
