"""What walk 15 found on the ticket pages, against a stand-in gateway: a ticket resolved at the desk names the article
that solved it (a link with its title, not its id) on the desk's page, and the requester reads who handled it
("服务台直接解决") rather than a bare status under "处理人"."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from console.main import create_app
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
NOW = datetime.now(UTC).isoformat()
CSRF = "c" * 32


def _resolved_at_desk(**extra: Any) -> dict[str, Any]:
    return {
        "id": "t-1", "number": "INC-2026-000010", "version": 3, "title": "打印机卡纸", "description": "打印不出来",
        "status": "resolved", "priority": "P3", "service_code": "RS-REPAIR", "channel": "hotline",
        "requester": {"name": "王小明", "department": "财务科"}, "requester_name": "王小明", "department": "财务科",
        "reported_at": NOW, "created_at": NOW, "updated_at": NOW, "allowed_transitions": ["closed", "in_progress"],
        "assignee": None, "comments": [], "history": [], "sla": [], "service_record": None,
        "resolution": "指导用户取出卡纸", "resolved_at_desk": True, "guidance_minutes": 0.5, "article_id": "kb-demo-printer-jam",
        "suggestions": [{"article_id": "kb-demo-printer-jam", "title": "打印機卡紙的處理方法"}],
        "desk_first": True, "dispatch_requested_at": None, **extra,
    }


def _gateway(ticket: dict[str, Any], refuse: int | None = None, listed: list[dict[str, Any]] | None = None) -> httpx.MockTransport:
    listed = listed or []

    def answer(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "POST" and refuse == 412:
            return httpx.Response(412, json={"code": "precondition_failed", "message": "工单已被他人修改"})
        if request.method == "POST" and refuse == 409:
            return httpx.Response(409, json={"code": "conflict", "message": "当前状态不允许此操作", "detail": "状态冲突"})
        if path == f"/tickets/{ticket['number']}":
            return httpx.Response(200, json=ticket, headers={"etag": f'"{ticket["version"]}"'})
        if path == "/tickets" and request.method == "GET":
            return httpx.Response(200, json={"items": listed, "total": len(listed), "next_cursor": None})
        if path == "/catalog":
            return httpx.Response(200, json=[{"code": "RS-REPAIR", "name": "设备维修", "family": "responsive",
                                             "labels": {"name": {"zh-CN": "设备维修", "zh-TW": "設備維修", "en": "Equipment repair"}}}])
        if path in ("/timers", "/engineers"):
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        return httpx.Response(404, json={"code": "not_found", "message": "no"})
    return httpx.MockTransport(answer)


async def _page(role: str, ticket: dict[str, Any], *, post: tuple[str, dict[str, str]] | None = None,
                refuse: int | None = None) -> httpx.Response:
    upstream = httpx.AsyncClient(transport=_gateway(ticket, refuse), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", role, "财务科" if role == "requester" else None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    async with app.router.lifespan_context(app), client:
        if post:
            act, form = post
            return await client.post(f"/tickets/{ticket['number']}/act/{act}", data={"csrf": CSRF, "etag": '"2"', **form},
                                     headers={"accept-language": "zh-CN", "hx-request": "true"})
        return await client.get(f"/tickets/{ticket['number']}", headers={"accept-language": "zh-CN"})


@pytest.mark.asyncio
async def test_the_desk_reads_the_article_that_solved_it_by_its_title() -> None:
    page = await _page("agent", _resolved_at_desk())
    assert page.status_code == 200
    assert '<a href="/kb/kb-demo-printer-jam">打印機卡紙的處理方法</a>' in page.text
    unknown = await _page("agent", _resolved_at_desk(suggestions=[]))
    assert '<a href="/kb/kb-demo-printer-jam">kb-demo-printer-jam</a>' in unknown.text  # no title known: still a link


@pytest.mark.asyncio
async def test_the_requester_reads_that_the_desk_solved_it() -> None:
    page = await _page("requester", _resolved_at_desk())
    assert page.status_code == 200
    handled = page.text.split('id="who-h"', 1)[1].split("</section>", 1)[0]
    assert "服务台直接解决" in handled
    cancelled = await _page("requester", _resolved_at_desk(status="cancelled", allowed_transitions=[]))
    assert "已取消" in cancelled.text.split('id="who-h"', 1)[1].split("</section>", 1)[0]


@pytest.mark.asyncio
async def test_a_refused_act_keeps_what_the_person_typed_in_its_form() -> None:
    """Walk 15: two tabs, the ticket changed in one, "put on hold" in the other: the 412 said "not saved; here is the
    current version" and the reason typed was gone. Now the form comes back filled; other forms stay empty."""
    open_ticket = _resolved_at_desk(status="in_progress", allowed_transitions=["pending", "resolved", "cancelled"],
                                    resolved_at_desk=False, article_id=None, resolution=None)
    stale = await _page("agent", open_ticket, refuse=412, post=("pending", {"pending_reason": "vendor", "reason": "等厂商<报价>"}))
    assert stale.status_code == 200
    assert 'id="pending-text" name="reason" required value="等厂商&lt;报价&gt;"' in stale.text  # escaped, not raw
    assert '<option value="vendor" selected>' in stale.text
    assert '<form class="act act-pending" data-kept' in stale.text  # console.js: a live refresh must not wipe it
    assert '<form class="act act-cancel" method' in stale.text
    assert 'id="cancel-reason" name="reason" required value=""' in stale.text  # only the refused act's form
    refused = await _page("agent", open_ticket, refuse=409, post=("resolve", {"resolution": "更换硒鼓", "article_id": "kb-demo-printer-jam"}))
    assert "状态冲突" in refused.text and ">更换硒鼓</textarea>" in refused.text
    assert '<option value="kb-demo-printer-jam" selected>' in refused.text


@pytest.mark.asyncio
async def test_the_requesters_list_names_whoever_reported_a_colleagues_ticket() -> None:
    """A requester sees their department's tickets too (intake's access rule); under "我的工单" a colleague's read as
    one's own. Now a ticket reported by someone else says who."""
    def item(number: str, name: str) -> dict[str, Any]:
        return {"id": number, "number": number, "version": 1, "title": "打印机卡纸", "status": "closed", "priority": "P3",
                "requester_name": name, "department": "财务科", "reported_at": NOW, "assignee_name": None}
    upstream = httpx.AsyncClient(transport=_gateway(_resolved_at_desk(), listed=[item("INC-1", "某人"), item("INC-2", "李会计")]),
                                 base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", "requester", "财务科", None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    async with app.router.lifespan_context(app), client:
        home = await client.get("/", headers={"accept-language": "zh-CN"})
    mine, colleagues = home.text.split('data-number="INC-1"', 1)[1].split('data-number="INC-2"', 1)
    assert "报障人: 李会计" in colleagues and "报障人" not in mine


@pytest.mark.asyncio
async def test_htmx_never_settles_a_style_attribute_the_csp_would_refuse() -> None:
    """Walk 15: JavaScript errors on ticket pages after a step or a live refresh ("Applying inline style violates ...
    style-src 'self'", from htmx.min.js): htmx's settle copies an old element's style attribute (a resized textarea
    has one) onto the new one with setAttribute. The console has no inline style, so "style" is not settled."""
    import json
    import re

    page = await _page("agent", _resolved_at_desk())
    found = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page.text)
    assert found is not None
    config = json.loads(found.group(1))
    assert "style" not in config["attributesToSettle"] and "class" in config["attributesToSettle"]
    assert config["includeIndicatorStyles"] is False


def test_the_call_forms_service_filter_knows_the_callers_words() -> None:
    """Walk 15: the agent typed 打印 in "find a service" and nothing matched (the catalog says 设备维修). The common
    problems that lead to a service now lend it their words, in every language."""
    from console import i18n, problems

    said = [i18n.translations(lang).gettext for lang in i18n.LANGUAGES]
    repair = problems.search_words({"code": "RS-REPAIR", "name": "设备维修", "labels": {"name": {"zh-CN": "设备维修"}}}, said)
    assert "打印机" in repair and "卡纸" in repair and "printer" in repair.lower() and "UPS" in repair
    assert "蓝屏" not in repair  # the computer that will not start is 现场维护's
    assert problems.search_words({"code": "X", "name": "巡检"}, said) == ""


@pytest.mark.asyncio
async def test_the_call_form_puts_those_words_in_the_services_search_text() -> None:
    ticket = _resolved_at_desk()
    upstream = httpx.AsyncClient(transport=_gateway(ticket), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", "agent", None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    async with app.router.lifespan_context(app), client:
        page = await client.get("/calls/new", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200
    option = page.text.split('<option value="RS-REPAIR"', 1)[1].split(">", 1)[0]
    assert "打印机" in option and "卡纸" in option
    assert "打印機" in option and "印表機" in option  # typed in traditional script or Taiwan's word, still found


@pytest.mark.asyncio
async def test_the_service_record_offers_no_empty_stock_list_when_no_spare_is_available() -> None:
    """Walk 15: with no spare in stock the phone showed three empty "备件库存" lists; only "the part in your words" is
    offered then."""
    ticket = _resolved_at_desk(status="in_progress", allowed_transitions=["resolved"], resolved_at_desk=False,
                               assignee={"engineer_id": "eng-1", "engineer_name": "黄伟明"})
    assignment = {"ticket_id": "t-1", "engineer_id": "eng-1", "status": "confirmed", "history": [], "service_code": "RS-REPAIR",
                  "assigned_at": NOW, "version": 1}
    for stock in ([], [{"part_type": "toner-hp26a", "site": "main", "available": 2}]):
        def answer(request: httpx.Request, stock: list[dict[str, Any]] = stock) -> httpx.Response:
            path = request.url.path.removeprefix("/api/v1")
            if path == "/assignments/t-1":
                return httpx.Response(200, json=assignment)
            if path == "/spares":
                return httpx.Response(200, json={"items": stock, "next_cursor": None})
            return _gateway(ticket).handle_request(request)
        upstream = httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="http://gw")
        app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
        session = Session("tok", "u", "黄伟明", "engineer", None, "eng-1", time.time() + 3600)
        cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
        async with app.router.lifespan_context(app), client:
            page = await client.get(f"/tickets/{ticket['number']}", headers={"accept-language": "zh-CN"})
        assert page.status_code == 200 and 'id="part_0"' in page.text  # the part in the engineer's words, always
        assert ('id="sku_0"' in page.text) == bool(stock)
