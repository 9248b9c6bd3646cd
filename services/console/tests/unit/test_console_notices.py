"""Notices (the in-app channel) and notification preferences against a stand-in gateway: the header's count, the list
in words with each ticket's number linking to its page, marking read (with CSRF), my preferences read and put back
as ticked, and the administrator's role tabs on the channels page."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qsl

import httpx

from console.main import create_app
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
CSRF = "c" * 32
CHANNELS = [{"id": "console", "kind": "console", "name": "站内通知", "per_minute": 6000, "batch": 1},
            {"id": "mail", "kind": "email", "name": "邮件", "per_minute": 18, "batch": 10}]
ITEM = {"id": "n-1", "event": "assigned", "ticket_id": "tkt-42", "number": "INC-2026-000042",
        "title": "【运维】工单 INC-2026-000042 已派给您", "body": "工单 INC-2026-000042（RS-REPAIR）已派给 李华。",
        "created_at": "2026-11-30T13:00:00Z", "read": False}
ROLE_PREF = {"key": "role:engineer", "events": ["assigned"], "channels": [{"channel": "console", "address": None}],
             "language": "zh-CN", "quiet_outside_duty": True, "duty_calendar": "office-hours", "updated_at": "2026-11-30T00:00:00Z"}


class Gateway:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        body: Any = json.loads(request.content) if request.content else None
        self.calls.append((request.method, path, body or dict(parse_qsl(request.url.query.decode()))))
        if path == "/notifications/mine":
            return httpx.Response(200, json={"items": [ITEM], "unread": 1})
        if path == "/notifications/mine/n-1/read" or path == "/notifications/mine/read":
            return httpx.Response(200, json={"marked": 1})
        if path == "/notifications/channels":
            return httpx.Response(200, json=CHANNELS)
        if path == "/notifications/preferences" and request.method == "GET":
            return httpx.Response(200, json={**ROLE_PREF, "key": "user:u", "updated_at": None})
        if path.startswith("/notifications/preferences") and request.method == "PUT":
            if body["channels"] and body["channels"][-1].get("channel") == "mail" and "address" not in body["channels"][-1]:
                detail = [{"loc": ["body", "channels", 1, "address"], "msg": "email 渠道需要填写地址（邮箱或手机号）", "type": "value_error"}]
                return httpx.Response(422, json={"code": "validation_failed", "message": "请求无效", "detail": detail})
            return httpx.Response(200, json={**ROLE_PREF, **body})
        if path.startswith("/notifications/preferences/roles/"):
            return httpx.Response(200, json={**ROLE_PREF, "key": "role:" + path.rsplit("/", 1)[1]})
        return httpx.Response(404, json={"code": "not_found", "message": "没有找到"})


async def run(role: str, fake: Gateway, *calls: tuple[str, str, dict[str, Any] | None], csrf: str = CSRF) -> list[httpx.Response]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", role, None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    out = []
    async with app.router.lifespan_context(app), client:
        for method, url, form in calls:
            data = {**form, "csrf": csrf} if form is not None else None
            out.append(await client.request(method, url, data=data, headers={"accept-language": "zh-CN"}))
    return out


async def test_every_signed_in_person_has_the_notices_link_and_its_count() -> None:
    for role in ("engineer", "requester", "agency"):
        fake = Gateway()
        page, count = await run(role, fake, ("GET", "/notices", None), ("GET", "/notices/count", None))
        assert page.status_code == 200
        assert 'href="/notices"' in page.text and 'hx-get="/notices/count"' in page.text
        assert 'data-unread="1"' in count.text and ">1<" in count.text
        # The swapped-in count keeps reading itself (every minute, and when console.js says the stream brought an
        # event): the walk (session 6) found a badge that stayed at its first value on a page left open.
        assert 'hx-get="/notices/count"' in count.text and 'hx-trigger="every 60s, notices-changed from:body"' in count.text
        assert '<section class="notices" hx-get="/notices" hx-trigger="every 60s, notices-changed from:body" hx-select="section.notices"' in page.text


async def test_notices_read_in_words_with_the_ticket_number_linked_and_are_marked_read() -> None:
    fake = Gateway()
    page, one, everything = await run("engineer", fake, ("GET", "/notices", None), ("POST", "/notices/n-1/read", {}),
                                      ("POST", "/notices/read", {}))
    assert str(ITEM["title"]) in page.text and "1 条未读" in page.text
    assert 'href="/tickets/INC-2026-000042"' in page.text and "工单 INC-2026-000042" in page.text
    assert "派给我的工单" in page.text  # the event in words, not its code
    assert one.status_code == 303 and one.headers["location"] == "/notices?done=read"
    assert everything.status_code == 303
    assert ("POST", "/notifications/mine/n-1/read", {}) in fake.calls and ("POST", "/notifications/mine/read", {}) in fake.calls


async def test_marking_read_without_the_csrf_token_is_refused() -> None:
    fake = Gateway()
    (refused,) = await run("engineer", fake, ("POST", "/notices/n-1/read", {}), csrf="wrong" * 7)
    assert refused.status_code == 403 and not any(c[0] == "POST" for c in fake.calls)


async def test_my_preferences_show_my_roles_choice_and_save_what_is_ticked() -> None:
    fake = Gateway()
    form = {"event.assigned": "1", "event.breach": "1", "channel.console": "1", "language": "en"}
    page, saved = await run("engineer", fake, ("GET", "/notices/preferences", None), ("POST", "/notices/preferences", form))
    assert 'data-inherited="yes"' in page.text
    assert 'name="event.assigned" value="1" checked' in page.text and 'name="event.breach" value="1" >' in page.text
    assert 'name="channel.console" value="1" checked' in page.text
    assert saved.status_code == 303 and saved.headers["location"] == "/notices/preferences?done=saved"
    put = [c for c in fake.calls if c[0] == "PUT"][-1]
    assert put[1] == "/notifications/preferences"
    assert put[2] == {"events": ["assigned", "breach"], "channels": [{"channel": "console"}], "language": "en",
                      "quiet_outside_duty": False}


async def test_a_refused_preference_shows_the_apis_reason_and_keeps_what_was_ticked() -> None:
    fake = Gateway()
    form = {"event.assigned": "1", "channel.console": "1", "channel.mail": "1", "quiet": "1"}
    (refused,) = await run("manager", fake, ("POST", "/notices/preferences", form))
    assert refused.status_code == 422 and "email 渠道需要填写地址" in refused.text
    assert 'name="channel.mail" value="1" checked' in refused.text


async def test_the_administrator_edits_each_roles_preferences_on_the_channels_page() -> None:
    fake = Gateway()
    form = {"event.authorization_waiting": "1", "event.incident_raised": "1", "channel.console": "1", "quiet": "1"}
    page, saved = await run("admin", fake, ("GET", "/admin/channels?role=agency", None),
                            ("POST", "/admin/channels/roles/agency", form))
    assert 'href="/admin/channels?role=agency#role-prefs" aria-current="page"' in page.text
    assert 'data-role-prefs="agency"' in page.text and 'action="/admin/channels/roles/agency"' in page.text
    assert "发送测试" in page.text  # the existing "send a test" stays
    assert ("GET", "/notifications/preferences/roles/agency", {}) in fake.calls
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/channels?role=agency&done=role_saved"
    put = [c for c in fake.calls if c[0] == "PUT"][-1]
    assert put[1] == "/notifications/preferences/roles/agency"
    assert put[2]["events"] == ["authorization_waiting", "incident_raised"] and put[2]["quiet_outside_duty"] is True
    (refused,) = await run("engineer", Gateway(), ("POST", "/admin/channels/roles/agency", form))
    assert refused.status_code == 403
