"""Administration and the CMDB against a stand-in gateway: the catalog editor puts back what GET returned with its
changes, the holiday upload goes as CSV and the month view marks holidays and make-up working days, a new key is shown
once, a dry run's row errors are shown with nothing written, the graph joins each hit to the one before it, and a
non-admin is refused administration."""

from __future__ import annotations

import json
import time
from datetime import date
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from console import i18n
from console.main import create_app
from console.pages.admin import month_grid, parse_shifts
from console.pages.cmdb import layout, localised_types
from console.session import CSRF_COOKIE, SESSION_COOKIE, Session, SessionSealer
from console.settings import ConsoleSettings

SECRET = "s" * 40
CSRF = "c" * 32
ENTRY = {"code": "RS-ONSITE", "family": "responsive", "name": "现场支持", "deliverable": "记录", "service_level": "5X8",
         "labels": {t: {"zh-CN": f"{t}-简", "zh-TW": f"{t}-繁", "en": f"{t}-en"} for t in ("name", "deliverable", "service_level")},
         "cadence": "on_demand", "ticket_type": "incident", "default_priority": "P3", "sla_profile": "responsive", "skill": "desktop",
         "desk_first": False, "requires_authorization": False, "active": True, "version": 4}


class Gateway:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any, str]] = []
        self.holidays: dict[str, Any] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, q = request.url.path.removeprefix("/api/v1"), dict(parse_qsl(request.url.query.decode()))
        kind = request.headers.get("content-type", "")
        body: Any = request.content.decode(errors="replace") if request.content else None
        if body and kind.startswith("application/json"):
            body = json.loads(body)
        self.calls.append((request.method, path, body, request.headers.get("if-match", "")))
        if path == "/catalog/RS-ONSITE" and request.method == "GET":
            return httpx.Response(200, json=ENTRY, headers={"etag": '"4"'})
        if path == "/catalog/RS-ONSITE" and request.method == "PUT":
            return httpx.Response(200, json={**ENTRY, "requires_authorization": True, "version": 5})
        if path == "/calendars":
            return httpx.Response(200, json={"calendars": [{"name": "office-hours", "timezone": "Asia/Shanghai",
                                                           "working_day_windows": ["08:30-17:30"], "observe_holidays": True}],
                                             "holiday_years": {"2026": "chinese-calendar"}})
        if path == "/engineers" and request.method == "GET":
            return httpx.Response(200, json=[
                {"id": "eng-1", "name": "陈志强", "role": "onsite", "status": "available", "open_load": 0, "capacity": 8, "skills": ["printer"],
                 "shifts": [{"weekdays": [0, 1, 2, 3, 4], "start": "08:30", "end": "17:30", "mode": "phone"}]},
                {"id": "eng-2", "name": "外包", "role": "contractor", "status": "available", "open_load": 0, "capacity": 8, "skills": [], "shifts": []}])
        if path == "/holidays/2028" and request.method == "PUT":
            return httpx.Response(422, json={"code": "validation_error", "message": "请求内容有误", "detail": [
                {"loc": ["row", 2, "date"], "msg": "'2028-13-01' 不是有效的日期", "type": "value_error"},
                {"loc": ["body", "year"], "msg": "这份安排是 2027 年的，与所选年份 2028 不符", "type": "value_error"}]})
        if path.startswith("/holidays/") and request.method == "PUT":
            self.holidays = {"year": 2027, "holidays": ["2027-02-10", "2027-02-11"], "workdays": ["2027-02-07"], "source": "upload"}
            return httpx.Response(200, json={"year": 2027, "holidays": 2, "workdays": 1, "source": "upload"})
        if path == "/holidays/2027" and self.holidays:
            return httpx.Response(200, json=self.holidays)
        if path == "/api-keys" and request.method == "POST":
            return httpx.Response(201, json={"name": body["name"], "role": body["role"], "created_at": "2026-11-30T01:00:00Z",
                                             "revoked_at": None, "key": "odk_secret_once"})
        if path in ("/users", "/api-keys"):
            return httpx.Response(200, json=[])
        if path == "/assets" and request.method == "GET":
            return httpx.Response(200, json=[{"tag": f"GZ-{n:03d}", "type": "desktop", "name": f"财务科电脑 {n}", "model": "M",
                                              "location": {"building": "主楼"}, "status": "deployed"} for n in range(int(q["limit"]))])
        if path == "/asset-types":
            return httpx.Response(200, json=[{"code": "desktop", "name": "台式机"}])
        if path == "/users/desk.zhou" and request.method == "PATCH":
            return httpx.Response(422, json={"code": "validation_error", "message": "请求内容有误", "detail": [
                {"loc": ["body", "password"], "msg": "至少 8 个字符", "type": "string_too_short"}]})
        if path == "/audits/a-1/scans" and request.method == "POST":
            return httpx.Response(201, json={"tag": body["tag"], "known": body["tag"] == "GZ-001"})
        if path == "/audits/a-1" and request.method == "GET":
            return httpx.Response(200, json={"id": "a-1", "name": "机房盘点", "scope": {"building": "主楼"}, "status": "open",
                                             "opened_at": "2026-11-02T01:00:00Z", "expected": 12, "seen": 1})
        if path == "/audits" and request.method == "GET":
            items = [{"id": "a-1", "name": "机房盘点", "scope": {"building": "主楼"}, "status": "closed", "opened_at": "2026-11-02T01:00:00Z",
                      "opened_by": "eng-1", "closed_at": "2026-11-03T01:00:00Z", "expected": 12, "seen": 11, "discrepancies": 2}]
            return httpx.Response(200, json={"items": items, "total": 51})
        if path == "/register/import":
            errors = [{"row": 3, "column": "type", "message": "unknown type 'toaster'"}]
            return httpx.Response(200, json={"rows": 2, "valid": 1, "errors": errors, "written": 0, "dry_run": q.get("dry_run") == "true"})
        return httpx.Response(404, json={"code": "not_found", "message": "没有找到"})


async def _run(role: str, fake: Gateway, calls: list[tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]]) -> list[httpx.Response]:
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(fake), base_url="http://gw")
    app = create_app(ConsoleSettings(session_secret=SECRET), client=upstream)
    session = Session("tok", "u", "某人", role, None, None, time.time() + 3600)
    cookies = {SESSION_COOKIE: SessionSealer(SECRET).seal(session), CSRF_COOKIE: CSRF}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console", cookies=cookies)
    out = []
    async with app.router.lifespan_context(app), client:
        for method, url, form, files in calls:
            out.append(await client.request(method, url, data=form, files=files, headers={"accept-language": "zh-CN"}))
    return out


def test_the_month_grid_marks_holidays_make_up_days_and_weekends() -> None:
    weeks = month_grid(2027, 2, {date(2027, 2, 10)}, {date(2027, 2, 7)})
    days = {d.day: d.kind for week in weeks for d in week if d.day}
    assert len(days) == 28 and all(len(w) == 7 for w in weeks)
    assert days[date(2027, 2, 10)] == "holiday" and days[date(2027, 2, 7)] == "workday"  # a Sunday worked
    assert days[date(2027, 2, 6)] == "weekend" and days[date(2027, 2, 8)] == ""


def test_rota_lines_parse_and_bad_lines_are_named() -> None:
    shifts, bad = parse_shifts("0,1,2,3,4 08:30-17:30 onsite\n5 09:00-12:00 phone\nevery day\n")
    assert shifts[1] == {"weekdays": [5], "start": "09:00", "end": "12:00", "mode": "phone"}
    assert bad == ["3: every day"]


def test_the_graph_joins_each_hit_to_the_one_before_it() -> None:
    impact = {"items": [{"tag": "APP-1", "ci_type": "application", "depth": 1, "path": ["SRV-1", "APP-1"], "via": ["runs_on"]},
                        {"tag": "SVC-1", "ci_type": "business_service", "depth": 2, "path": ["SRV-1", "APP-1", "SVC-1"], "via": ["runs_on", "depends_on"]}],
              "departments": [{"tag": "财务科", "ci_type": "department", "depth": 1, "path": ["SRV-1", "APP-1"], "via": ["runs_on"]}]}
    depends = {"items": [{"tag": "RACK-1", "ci_type": "rack", "depth": 1, "path": ["SRV-1", "RACK-1"], "via": ["installed_in"]}]}
    impact["items"][0]["name"] = "财务系统"
    graph = layout("SRV-1", "server", impact, depends, root_name="财务服务器")
    by = {n.tag: n for n in graph.nodes}
    assert (by["SRV-1"].name, by["APP-1"].name, by["SVC-1"].name) == ("财务服务器", "财务系统", "")
    assert by["RACK-1"].x < by["SRV-1"].x < by["APP-1"].x < by["SVC-1"].x
    assert {(e.source.tag, e.target.tag, e.via) for e in graph.edges} == {
        ("SRV-1", "APP-1", "runs_on"), ("APP-1", "SVC-1", "depends_on"), ("RACK-1", "SRV-1", "installed_in"), ("APP-1", "财务科", "used_by")}
    assert by["财务科"].department and by["财务科"].x == by["SVC-1"].x  # one column past the item it uses


def test_a_department_named_by_a_used_by_relation_hangs_off_the_item_that_uses_it() -> None:
    """The impact API's two shapes: a department an item belongs to ends its path at that item (depth of the item);
    one a `used_by` relation names ends its path at itself (its depth counts the relation). Both are drawn one column
    past the item, joined to it; the second was drawn nowhere (walk, session 6)."""
    impact = {"items": [{"tag": "APP-1", "ci_type": "application", "depth": 1, "path": ["SRV-1", "APP-1"], "via": ["runs_on"]},
                        {"tag": "SVC-1", "ci_type": "business_service", "depth": 2, "path": ["SRV-1", "APP-1", "SVC-1"], "via": ["runs_on", "depends_on"]}],
              "departments": [{"tag": "dept:财务科", "ci_type": "department", "depth": 3, "path": ["SRV-1", "APP-1", "SVC-1", "dept:财务科"],
                               "via": ["runs_on", "depends_on", "used_by"]}]}
    graph = layout("SRV-1", "server", impact, None)
    by = {n.tag: n for n in graph.nodes}
    assert by["dept:财务科"].department and by["dept:财务科"].x == by["SVC-1"].x + (by["SVC-1"].x - by["APP-1"].x)
    assert ("SVC-1", "dept:财务科", "used_by") in {(e.source.tag, e.target.tag, e.via) for e in graph.edges}
    assert graph.width >= by["dept:财务科"].x + 168


@pytest.mark.asyncio
async def test_the_catalog_editor_puts_back_what_get_returned_with_its_changes() -> None:
    fake = Gateway()
    form = {"csrf": CSRF, "version": "4", "default_priority": "P2", "skill": "desktop", "requires_authorization": "on", "active": "on",
            **{f"{t}.{lang}": f"{t}-{lang}" for t in ("name", "deliverable", "service_level") for lang in ("zh-CN", "zh-TW", "en")}}
    page, saved = await _run("admin", fake, [("GET", "/admin/catalog/RS-ONSITE", None, None), ("POST", "/admin/catalog/RS-ONSITE", form, None)])
    assert page.status_code == 200 and 'name="requires_authorization"' in page.text and "name-繁" in page.text
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/catalog/RS-ONSITE?done=catalog"
    ((_, _, body, if_match),) = [c for c in fake.calls if c[0] == "PUT"]
    assert if_match == '"4"' and body["requires_authorization"] is True and body["desk_first"] is False
    assert body["default_priority"] == "P2" and body["name"] == {"zh-CN": "name-zh-CN", "zh-TW": "name-zh-TW", "en": "name-en"}
    assert "labels" not in body and body["version"] == 4 and body["sla_profile"] == "responsive"


@pytest.mark.asyncio
async def test_the_holiday_upload_goes_as_csv_and_the_month_view_shows_it() -> None:
    fake = Gateway()
    csv = "date,kind\n2027-02-07,workday\n2027-02-10,holiday\n2027-02-11,holiday\n"
    done, month = await _run("admin", fake, [
        ("POST", "/admin/calendars/holidays", {"csrf": CSRF, "year": "2027", "text": csv}, None),
        ("GET", "/admin/calendars?month=2027-02", None, None),
    ])
    assert done.status_code == 303 and done.headers["location"] == "/admin/calendars?month=2027-02&done=holidays"
    ((_, path, body, _),) = [c for c in fake.calls if c[0] == "PUT"]
    assert path == "/holidays/2027" and body.strip() == csv.strip()
    assert 'data-date="2027-02-10" data-kind="holiday"' in month.text and 'data-date="2027-02-07" data-kind="workday"' in month.text
    assert "调休上班" in month.text


@pytest.mark.asyncio
async def test_calendars_roles_and_duty_modes_are_shown_by_name_and_an_unknown_code_as_itself() -> None:
    """The walk (session 6) found office-hours, onsite, project_manager and phone shown to a Chinese administrator."""
    calendars, roster = await _run("admin", Gateway(), [("GET", "/admin/calendars?month=2027-02", None, None), ("GET", "/admin/roster", None, None)])
    assert calendars.status_code == 200 and "<td>办公时间<br><span" in calendars.text
    assert roster.status_code == 200 and "<td>驻场工程师</td>" in roster.text and "08:30–17:30 电话" in roster.text
    assert "<td>contractor</td>" in roster.text  # a role the catalogue has no name for stays readable
    assert ">项目经理</option>" in roster.text


@pytest.mark.asyncio
async def test_a_refused_schedule_names_its_rows_as_people_do_and_keeps_the_year_and_rows_typed() -> None:
    csv = "date,kind\n2028-13-01,holiday\n"
    (page,) = await _run("admin", Gateway(), [("POST", "/admin/calendars/holidays", {"csrf": CSRF, "year": "2028", "text": csv}, None)])
    assert page.status_code == 422
    assert "第 2 行（date）：&#39;2028-13-01&#39; 不是有效的日期" in page.text and "row.2.date" not in page.text
    assert "年份：这份安排是 2027 年的" in page.text
    assert 'name="year" type="number" min="2000" max="2100" value="2028"' in page.text and "2028-13-01,holiday" in page.text


@pytest.mark.asyncio
async def test_a_refused_password_reset_says_whose_password_and_why() -> None:
    (page,) = await _run("admin", Gateway(), [("POST", "/admin/users/desk.zhou/password", {"csrf": CSRF, "password": "short"}, None)])
    assert page.status_code == 422 and "desk.zhou 的新密码：至少 8 个字符" in page.text and "password:" not in page.text


@pytest.mark.asyncio
async def test_a_new_key_is_shown_once_and_non_admins_are_refused() -> None:
    fake = Gateway()
    (created,) = await _run("admin", fake, [("POST", "/admin/keys", {"csrf": CSRF, "name": "billing", "role": "agent"}, None)])
    assert created.status_code == 200 and 'value="odk_secret_once"' in created.text
    (refused,) = await _run("agent", fake, [("GET", "/admin/users", None, None)])
    assert refused.status_code == 403


@pytest.mark.asyncio
async def test_a_dry_run_shows_the_row_errors_and_offers_no_import() -> None:
    fake = Gateway()
    (report,) = await _run("agent", fake, [("POST", "/cmdb/import", {"csrf": CSRF}, {"file": ("reg.csv", b"tag,type\n,pc\n,toaster\n")})])
    assert report.status_code == 200
    assert 'data-row="3"' in report.text and "unknown type &#39;toaster&#39;" in report.text
    assert "/cmdb/import/write" not in report.text
    assert [(c[0], c[1]) for c in fake.calls] == [("POST", "/register/import")]


@pytest.mark.asyncio
async def test_browse_asks_the_assets_api_to_search_and_pages_by_one_more() -> None:
    fake = Gateway()
    (page,) = await _run("agent", fake, [("GET", "/cmdb?q=財務科%20電腦&status=deployed&offset=100", None, None)])
    assert page.status_code == 200
    assets_call = next(r for r in fake.requests if r.url.path == "/api/v1/assets")
    assert dict(parse_qsl(assets_call.url.query.decode())) == {"q": "財務科 電腦", "status": "deployed", "limit": "101", "offset": "100"}
    assert page.text.count('<tr data-tag="') == 100 and 'rel="next"' in page.text and 'rel="prev"' in page.text
    assert "q=%E8%B2%A1%E5%8B%99%E7%A7%91+%E9%9B%BB%E8%85%A6" in page.text  # the pager keeps the query, encoded


@pytest.mark.asyncio
async def test_a_search_for_a_types_name_filters_by_that_type_and_an_audit_picks_its_type_from_the_list() -> None:
    """The list shows a desktop as 台式机; no item's text holds the word, so typing it found nothing (walk, session 6)."""
    fake = Gateway()
    page, other, audits = await _run("agent", fake, [("GET", "/cmdb?q=%E5%8F%B0%E5%BC%8F%E6%9C%BA", None, None),
                                                      ("GET", "/cmdb?q=%E5%8F%B0%E5%BC%8F", None, None), ("GET", "/cmdb/audits", None, None)])
    assert page.status_code == 200 and other.status_code == 200 and audits.status_code == 200
    first, second = (dict(parse_qsl(r.url.query.decode())) for r in fake.requests if r.url.path == "/api/v1/assets")
    assert first == {"type": "desktop", "limit": "101", "offset": "0"}
    assert second["q"] == "台式" and "type" not in second  # only the whole name is the type; a part is searched as text
    assert '<option value="desktop" selected>台式机</option>' in page.text
    assert '<select id="au-type" name="type">' in audits.text and '<option value="desktop">台式机</option>' in audits.text


@pytest.mark.asyncio
async def test_a_scan_the_audit_did_not_expect_is_shown_as_a_warning_not_a_success() -> None:
    scans = [("POST", "/cmdb/audits/a-1/scans", {"csrf": CSRF, "tag": tag, "building": "主楼"}, None) for tag in ("GZ-001", "GZ-NOPE")]
    expected, unexpected = await _run("agent", Gateway(), scans)
    assert expected.status_code == 200 and '<p class="notice" role="status" data-last="GZ-001" data-known="yes">' in expected.text
    assert unexpected.status_code == 200 and '<p class="warning" role="status" data-last="GZ-NOPE" data-known="no">' in unexpected.text


def test_asset_types_are_named_in_the_readers_language_where_the_api_says_only_simplified_chinese() -> None:
    kinds = [{"code": "printer", "name": "打印机"}, {"code": "kiosk", "name": "自助终端"}]
    named = {lang: [k["name"] for k in localised_types(SimpleNamespace(gettext=i18n.translations(lang).gettext), kinds)]  # type: ignore[arg-type]
             for lang in ("zh-CN", "zh-TW", "en")}
    assert named == {"zh-CN": ["打印机", "自助终端"], "zh-TW": ["印表機", "自助终端"], "en": ["Printer", "自助终端"]}


@pytest.mark.asyncio
async def test_the_audits_page_lists_audits_with_the_filters_passed_on() -> None:
    fake = Gateway()
    (page,) = await _run("agent", fake, [("GET", "/cmdb/audits?state=closed&opened_from=2026-11-01&opened_to=2026-11-30", None, None)])
    assert page.status_code == 200
    audits_call = next(r for r in fake.requests if r.url.path == "/api/v1/audits")
    assert dict(parse_qsl(audits_call.url.query.decode())) == {
        "status": "closed", "opened_from": "2026-11-01", "opened_to": "2026-11-30", "limit": "50", "offset": "0"}
    assert 'data-audit="a-1"' in page.text and 'href="/cmdb/audits/a-1"' in page.text and "机房盘点" in page.text
    assert "11 / 12" in page.text and 'data-total="51"' in page.text and 'rel="next"' in page.text
    assert "已结束" in page.text
    assert 'action="/cmdb/audits"' in page.text  # starting one and opening one by id still there
