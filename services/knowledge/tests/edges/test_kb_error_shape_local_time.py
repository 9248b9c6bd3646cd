"""Knowledge answers in the services' one error shape, in the caller's language, and shows times with the site offset."""

from __future__ import annotations

import httpx

from .conftest import as_role

DRAFT = {
    "title": "打印机卡纸的处理方法", "body": "关闭电源，打开前盖取出卡住的纸张。", "category": "打印机",
    "tags": ["卡纸"], "service_codes": ["RS-REPAIR"], "asset_types": ["printer"], "audience": "all",
}


async def test_an_article_shows_its_times_with_the_site_offset(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/kb/articles", json=DRAFT, headers=as_role("agent"))

    assert r.status_code == 201, r.text
    assert r.json()["created_at"].endswith("+08:00") and r.json()["updated_at"].endswith("+08:00")


async def test_bad_and_unknown_come_in_the_shape_and_language(client: httpx.AsyncClient) -> None:
    long_title = await client.post("/api/v1/kb/articles", json={**DRAFT, "title": "长" * 1000},
                                   headers={**as_role("agent"), "Accept-Language": "zh-CN"})
    unknown = await client.get("/api/v1/kb/articles/kb-nobody", headers={**as_role("agent"), "Accept-Language": "zh-TW"})

    assert long_title.status_code == 422
    [item] = long_title.json()["detail"]
    assert item["loc"] == ["body", "title"] and item["type"] == "string_too_long" and item["msg"].startswith("最多 ")
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found" and unknown.json()["message"] == "找不到該資源"
