"""The /api/v1/kb HTTP edge on memory adapters: roles, lifecycle status codes, search, attachments."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from knowledge.main import Adapters

from .conftest import as_role

DRAFT = {
    "title": "打印機卡紙的處理方法", "body": "關閉電源，打開前蓋取出卡住的紙張。", "category": "打印機",
    "tags": ["卡紙"], "service_codes": ["RS-REPAIR"], "asset_types": ["printer"], "audience": "all",
}


async def _published(client: httpx.AsyncClient, **overrides: Any) -> str:
    r = await client.post("/api/v1/kb/articles", json={**DRAFT, **overrides}, headers=as_role("agent"))
    assert r.status_code == 201, r.text
    article_id: str = r.json()["id"]
    for action in ("submit", "publish"):
        r = await client.post(f"/api/v1/kb/articles/{article_id}/{action}", headers=as_role("agent"))
        assert r.status_code == 200, r.text
    return article_id


async def test_a_role_the_knowledge_base_does_not_know_gets_nothing(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/kb/search", params={"q": "vpn"}, headers=as_role("hacker"))).status_code == 403
    assert (await client.get("/api/v1/problems", headers=as_role("hacker"))).status_code == 403


async def test_requester_finds_published_article_with_highlights(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    r = await client.get("/api/v1/kb/search", params={"q": "打印机卡纸"}, headers=as_role("requester"))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["results"][0]["article_id"] == article_id
    assert "<em>" in body["results"][0]["title_html"] and "打印机" in body["terms"]


async def test_requester_cannot_see_a_draft_or_write(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent"))
    article_id = r.json()["id"]
    assert (await client.get(f"/api/v1/kb/articles/{article_id}", headers=as_role("requester"))).status_code == 404
    assert (await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("requester"))).status_code == 403
    assert (await client.get("/api/v1/kb/stats", headers=as_role("requester"))).status_code == 403


async def test_auditor_reads_everything_but_changes_nothing(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent"))
    article_id = r.json()["id"]
    assert (await client.get(f"/api/v1/kb/articles/{article_id}", headers=as_role("auditor"))).status_code == 200
    assert (await client.post(f"/api/v1/kb/articles/{article_id}/submit", headers=as_role("auditor"))).status_code == 403
    assert (await client.put(f"/api/v1/kb/articles/{article_id}", json=DRAFT, headers=as_role("auditor"))).status_code == 403


async def test_engineer_submits_but_cannot_publish(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/kb/articles", json={**DRAFT, "source": "submission"}, headers=as_role("engineer", "eng-chen"))
    assert r.status_code == 201 and r.json()["source"] == "submission"
    article_id = r.json()["id"]
    r = await client.post(f"/api/v1/kb/articles/{article_id}/submit", headers=as_role("engineer", "eng-chen"))
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    assert (await client.post(f"/api/v1/kb/articles/{article_id}/publish", headers=as_role("engineer", "eng-chen"))).status_code == 403
    r = await client.post(f"/api/v1/kb/articles/{article_id}/publish", headers=as_role("agent"))
    assert r.status_code == 200 and r.json()["state"] == "published"


@pytest.mark.parametrize("action", ["publish", "submit", "restore"])
async def test_illegal_step_answers_conflict(client: httpx.AsyncClient, action: str) -> None:
    article_id = await _published(client)
    r = await client.post(f"/api/v1/kb/articles/{article_id}/{action}", headers=as_role("agent"))
    assert r.status_code == 409


async def test_unknown_action_is_a_validation_error(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    assert (await client.post(f"/api/v1/kb/articles/{article_id}/explode", headers=as_role("agent"))).status_code == 422


async def test_edit_makes_a_version_and_history_lists_both(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    r = await client.put(f"/api/v1/kb/articles/{article_id}", json={**DRAFT, "body": "新版步驟", "note": "補充"}, headers=as_role("agent"))
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await client.get(f"/api/v1/kb/articles/{article_id}/versions", headers=as_role("agent"))
    assert [v["version"] for v in r.json()] == [1, 2] and r.json()[1]["note"] == "補充"


async def test_filters_and_audience_in_search(client: httpx.AsyncClient) -> None:
    await _published(client, audience="engineers", category="服務器", title="服務器磁盤告警", body="清理日誌文件")
    params = {"q": "磁盘告警"}
    assert (await client.get("/api/v1/kb/search", params=params, headers=as_role("requester"))).json()["total"] == 0
    assert (await client.get("/api/v1/kb/search", params=params, headers=as_role("engineer"))).json()["total"] == 1
    r = await client.get("/api/v1/kb/search", params={**params, "category": "打印機"}, headers=as_role("agent"))
    assert r.json()["total"] == 0


async def test_attachment_upload_raw_and_multipart_and_download(client: httpx.AsyncClient) -> None:
    article_id = await _published(client)
    data = b"%PDF-1.4 " + bytes(range(256)) * 1200
    r = await client.post(
        f"/api/v1/kb/articles/{article_id}/attachments", params={"filename": "手冊.pdf"}, content=data,
        headers={**as_role("agent"), "content-type": "application/pdf"},
    )
    assert r.status_code == 201, r.text
    raw = r.json()
    r = await client.post(
        f"/api/v1/kb/articles/{article_id}/attachments", files={"file": ("log.txt", b"hello", "text/plain")}, headers=as_role("agent"),
    )
    assert r.status_code == 201 and r.json()["filename"] == "log.txt"
    r = await client.get(f"/api/v1/kb/articles/{article_id}/attachments/{raw['id']}", headers=as_role("requester"))
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-type"] == "application/pdf" and "filename*=UTF-8''" in r.headers["content-disposition"]
    assert (await client.delete(f"/api/v1/kb/articles/{article_id}/attachments/{raw['id']}", headers=as_role("agent"))).status_code == 204
    assert (await client.get(f"/api/v1/kb/articles/{article_id}/attachments/{raw['id']}", headers=as_role("agent"))).status_code == 404


async def test_attachment_over_the_limit_answers_413(client: httpx.AsyncClient, adapters: Adapters) -> None:
    article_id = await _published(client)
    r = await client.post(
        f"/api/v1/kb/articles/{article_id}/attachments", params={"filename": "big.bin"}, content=b"x" * 700_000,
        headers=as_role("agent"),
    )
    assert r.status_code == 413
    assert adapters.attachments.chunks == {}  # type: ignore[attr-defined]


async def test_stats_report_articles_and_deflection(client: httpx.AsyncClient) -> None:
    await _published(client)
    r = await client.get("/api/v1/kb/stats", headers=as_role("manager"))
    assert r.status_code == 200
    assert r.json()["articles"] == {"published": 1} and r.json()["deflection_rate"] == 0.0
