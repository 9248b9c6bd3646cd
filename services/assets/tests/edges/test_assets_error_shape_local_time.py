"""Assets answers in the services' one error shape, in the caller's language, and shows times with the site offset."""

from __future__ import annotations

import httpx

from assets.domain import Asset


async def test_a_repair_shows_its_times_with_the_site_offset(client: httpx.AsyncClient, asset: Asset) -> None:
    r = await client.post("/api/v1/repairs", json={"asset_tag": asset.tag})

    assert r.status_code == 201, r.text
    assert r.json()["opened_at"].endswith("+08:00") and r.json()["updated_at"].endswith("+08:00")


async def test_bad_and_unknown_come_in_the_shape_and_language(client: httpx.AsyncClient, asset: Asset) -> None:
    naive = await client.get(f"/api/v1/assets/{asset.tag}", params={"as_of": "2026-11-30 15:00"}, headers={"Accept-Language": "en"})
    unknown = await client.get("/api/v1/assets/GZ-NOPE-1", headers={"Accept-Language": "zh-CN"})

    assert naive.status_code == 422
    assert naive.json() == {
        "code": "validation_error", "message": "The request has invalid fields",
        "detail": [{"loc": ["query", "as_of"], "msg": "Input should have timezone info", "type": "timezone_aware"}],
    }
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found" and unknown.json()["message"] == "找不到该资源"
