"""Sign-off and the maintenance manual through reporting's HTTP edge, every request signed with an internal token as
the gateway signs it: the agency acknowledges or returns, the team submits, refusals in the one error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from opsdesk_shared.contracts import subjects
from opsdesk_shared.contracts.knowledge import PublishedArticle
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting.adapters.memory import MemoryArticleSource, MemoryPublisher
from reporting.main import Adapters, create_app, memory_adapters
from reporting.periods import TZ
from reporting.settings import ReportingSettings

MANAGER = {"X-Opsdesk-User": "pm-chen", "X-Opsdesk-Role": "manager"}
AGENCY = {"X-Opsdesk-User": "agency-zhou", "X-Opsdesk-Role": "agency"}
AUDITOR = {"X-Opsdesk-User": "audit-li", "X-Opsdesk-Role": "auditor"}
REQUESTER = {"X-Opsdesk-User": "wang", "X-Opsdesk-Role": "requester", "X-Opsdesk-Department": "office"}
REPORT = "service-summary:2026-11:zh-CN"
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=TZ)  # after the 5th: a submission now is late


@pytest.fixture
def publisher() -> MemoryPublisher:
    return MemoryPublisher()


@pytest.fixture
def articles() -> MemoryArticleSource:
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    return MemoryArticleSource([
        PublishedArticle(article_id="a-1", title="打印机卡纸的处理方法", version=2, category="打印机",
                         body="1. 关闭电源。\n2. 打开前盖，取出卡住的纸张。", published_at=at),
        PublishedArticle(article_id="a-2", title="VPN 无法连接", version=1, category="网络", body="检查网线。", published_at=at),
    ])


@pytest.fixture
async def wired(publisher: MemoryPublisher, articles: MemoryArticleSource) -> Adapters:
    adapters = memory_adapters(ReportingSettings(), publisher=publisher, articles=articles, clock=lambda: NOW)
    meta = {"_id": REPORT, "series": REPORT, "revision": 1, "state": "draft", "kind": "service-summary", "period": "2026-11",
            "lang": "zh-CN", "title": "月度服务总结 2026-11", "due_at": datetime(2026, 12, 5, tzinfo=TZ),
            "generated_at": datetime(2026, 12, 1, 1, tzinfo=TZ), "version": "1.0", "history": [], "formats": ["json"]}
    await adapters.reports.put(meta, {"json": b"{}"})
    return adapters


@pytest.fixture
async def client(wired: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ReportingSettings(), adapters=wired)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                     auth=InternalTokenAuth("reporting")) as c:
            yield c


async def _post(client: httpx.AsyncClient, path: str, who: dict[str, str], body: Any = None, lang: str = "zh-CN") -> httpx.Response:
    return await client.post(f"/api/v1/reports/stored/{REPORT}/{path}" if not path.startswith("/") else f"/api/v1{path}",
                             headers={**who, "Accept-Language": lang}, json=body)


async def test_the_agency_acknowledges_what_the_manager_submitted(client: httpx.AsyncClient, publisher: MemoryPublisher) -> None:
    submitted = await _post(client, "submit", MANAGER)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert (body["state"], body["version"], body["on_time"], body["allowed"]) == ("submitted", 1, False, ["acknowledge", "return"])
    assert body["submitted_at"] == "2026-12-06T09:00:00+08:00" and body["submitted_by"] == "pm-chen"

    acknowledged = await _post(client, "acknowledge", AGENCY, {"note": "已阅"})
    assert acknowledged.status_code == 200, acknowledged.text
    assert (acknowledged.json()["state"], acknowledged.json()["acknowledged_by"]) == ("acknowledged", "agency-zhou")
    types = [e.type for e in publisher.published]
    assert types == [subjects.REPORT_SUBMITTED, subjects.REPORT_OVERDUE, subjects.REPORT_ACKNOWLEDGED]  # late: alerted once
    assert publisher.published[1].data["reason"] == "late"

    listed = (await client.get("/api/v1/reports/stored", headers=AGENCY)).json()
    (row,) = [r for r in listed if r["_id"] == REPORT]
    assert (row["state"], row["version"], row["on_time"], row["due_at"]) == ("acknowledged", 1, False, "2026-12-05T00:00:00+08:00")


async def test_a_manager_cannot_acknowledge_and_the_agency_cannot_submit(client: httpx.AsyncClient) -> None:
    refused = await _post(client, "submit", AGENCY)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden" and "项目经理" in refused.json()["detail"]
    assert (await _post(client, "submit", MANAGER)).status_code == 200
    refused = await _post(client, "acknowledge", MANAGER, lang="en")
    assert refused.status_code == 403 and refused.json()["detail"] == "Only the agency acknowledges reports (your role: manager)"
    assert (await _post(client, "return", AUDITOR, {"comments": "x"})).status_code == 403


async def test_a_return_without_comments_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    assert (await _post(client, "submit", MANAGER)).status_code == 200
    for body in (None, {}, {"comments": ""}, {"comments": "   "}):
        refused = await _post(client, "return", AGENCY, body)
        assert refused.status_code == 422, body
        # What is missing, in the reader's language: never a generic "至少 1 个字符" with the field code in front.
        assert refused.json()["detail"] == [{"loc": ["body", "comments"], "msg": "退回报告须写明意见", "type": "value_error"}], body
    blank = await _post(client, "return", AGENCY, {"comments": "   "}, lang="zh-TW")
    assert blank.json()["detail"][0]["msg"] == "退回報告須寫明意見"
    returned = await _post(client, "return", AGENCY, {"comments": "请补充打印机故障原因"})
    assert (returned.json()["state"], returned.json()["comments"]) == ("returned", "请补充打印机故障原因")


async def test_a_wrong_state_is_409_with_what_is_allowed(client: httpx.AsyncClient) -> None:
    early = await _post(client, "acknowledge", AGENCY)
    assert early.status_code == 409
    assert early.json()["code"] == "illegal_transition" and early.json()["allowed"] == ["submit"]
    assert early.json()["detail"] == "报告当前为「草稿」，不能确认"
    assert (await _post(client, "submit", MANAGER)).status_code == 200
    again = await _post(client, "submit", MANAGER, lang="en")
    assert again.status_code == 409 and again.json()["allowed"] == ["acknowledge", "return"]


async def test_unknown_reports_are_404_and_requesters_see_none(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/reports/stored/nope:2026-11:zh-CN/submit", headers=MANAGER)).status_code == 404
    assert (await _post(client, "submit", REQUESTER)).status_code == 404


async def test_the_manual_is_published_from_articles_and_signed_off_like_a_report(
    client: httpx.AsyncClient, articles: MemoryArticleSource,
) -> None:
    published = await client.post("/api/v1/reports/manual", headers=MANAGER, json={"article_ids": ["a-2", "a-1"]})
    assert published.status_code == 200, published.text
    manual = published.json()
    assert (manual["_id"], manual["kind"], manual["version"], manual["state"]) == ("maintenance-manual:manual:zh-CN", "maintenance-manual", 1, "draft")
    pdf = await client.get("/api/v1/reports/stored/maintenance-manual:manual:zh-CN", params={"format": "pdf"}, headers=AGENCY)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert articles.asked[-1].article_ids == ["a-2", "a-1"]

    # A draft not yet submitted is replaced by the next publication; once acknowledged, the next one is version 2.
    sid = "maintenance-manual:manual:zh-CN"
    assert (await client.post(f"/api/v1/reports/stored/{sid}/submit", headers=MANAGER)).status_code == 200
    assert (await client.post(f"/api/v1/reports/stored/{sid}/acknowledge", headers=AGENCY)).status_code == 200
    second = await client.post("/api/v1/reports/manual", headers=MANAGER, json={"category": "打印机"})
    assert (second.json()["_id"], second.json()["version"], second.json()["state"]) == (f"{sid}:v2", 2, "draft")


async def test_the_manual_refuses_articles_that_are_not_published(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/reports/manual", headers={**MANAGER, "Accept-Language": "zh-CN"},
                                json={"article_ids": ["a-1", "draft-9"]})
    assert missing.status_code == 422
    assert missing.json()["detail"][0] == {"loc": ["body", "article_ids"], "msg": "以下文章未发布或不存在：draft-9", "type": "value_error"}
    empty = await client.post("/api/v1/reports/manual", headers=MANAGER, json={"category": "没有"})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "category"]
    both = await client.post("/api/v1/reports/manual", headers=MANAGER, json={"category": "网络", "article_ids": ["a-2"]})
    assert both.status_code == 422
    for lang, text in (("zh-CN", "只有项目经理或管理员可以发布维护手册（当前角色：agency）"),
                       ("en", "Only a manager or an admin publishes the maintenance manual (your role: agency)")):
        refused = await client.post("/api/v1/reports/manual", headers={**AGENCY, "Accept-Language": lang}, json={"category": "网络"})
        assert refused.status_code == 403 and refused.json()["detail"] == text, lang


async def test_generating_again_is_409_while_the_agency_has_the_report(client: httpx.AsyncClient) -> None:
    assert (await _post(client, "submit", MANAGER)).status_code == 200
    again = await client.post("/api/v1/reports/service-summary/2026-11/generate", headers={**MANAGER, "Accept-Language": "en"})
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "illegal_transition" and again.json()["allowed"] == ["acknowledge", "return"]
    assert "with the agency" in again.json()["detail"]
