"""The gateway's answers, its own and the routed services', in one error shape and the caller's language; times with
the site offset; date-only filters as local days; a time without an offset refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.internal_auth_testing import test_keypair as keypair


async def test_a_ticket_shows_its_times_with_the_site_offset(client: httpx.AsyncClient, auth: dict[str, str],
                                                             ticket_body: dict[str, Any]) -> None:
    reported = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    made = await client.post("/api/v1/tickets", json={**ticket_body, "reported_at": reported.isoformat()}, headers=auth)

    assert made.status_code == 201, made.text
    assert made.json()["reported_at"] == reported.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
    assert made.json()["created_at"].endswith("+08:00")


async def test_a_reported_at_without_offset_is_422_naming_the_field(client: httpx.AsyncClient, auth: dict[str, str],
                                                                    ticket_body: dict[str, Any]) -> None:
    r = await client.post("/api/v1/tickets", json={**ticket_body, "reported_at": "2026-11-30 15:00"},
                          headers={**auth, "Accept-Language": "zh-CN"})

    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["body", "reported_at"], "msg": "时间须带时区偏移（如 2026-11-30T15:00:00+08:00）", "type": "timezone_aware"}]


async def test_date_only_filters_are_local_days(client: httpx.AsyncClient, auth: dict[str, str], ticket_body: dict[str, Any]) -> None:
    made = (await client.post("/api/v1/tickets", json=ticket_body, headers=auth)).json()
    local_day = datetime.fromisoformat(made["created_at"]).date().isoformat()  # shown local, so this is the local date
    next_day = (datetime.fromisoformat(made["created_at"]).date() + timedelta(days=1)).isoformat()

    same_day = await client.get("/api/v1/tickets", params={"created_from": local_day, "created_to": local_day}, headers=auth)
    later = await client.get("/api/v1/tickets", params={"created_from": next_day}, headers=auth)
    naive = await client.get("/api/v1/tickets", params={"created_from": f"{local_day}T08:00"}, headers=auth)

    assert made["id"] in [t["id"] for t in same_day.json()["items"]]
    assert made["id"] not in [t["id"] for t in later.json()["items"]]
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "created_from"]


async def test_a_routed_services_error_passes_through_unchanged_with_the_language(adapters: Adapters, auth: dict[str, str]) -> None:
    seen: list[str] = []
    body = {"code": "not_found", "message": "找不到该资源", "detail": "assignment t-none not found"}

    def dispatch(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("accept-language", ""))
        return httpx.Response(404, json=body, headers={"Content-Language": "zh-CN"})

    adapters.upstreams = {"dispatch": "http://dispatch.test"}
    adapters.upstream_client = httpx.AsyncClient(transport=httpx.MockTransport(dispatch))
    app = create_app(IntakeSettings(environment="test", internal_signing_key=keypair()[0]), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test") as gw:
            r = await gw.get("/api/v1/assignments/t-none", headers={**auth, "Accept-Language": "zh-CN"})

    assert seen == ["zh-CN"]
    assert r.status_code == 404 and r.json() == body and r.headers["content-language"] == "zh-CN"


async def test_the_gateways_own_unknown_ticket_is_404_in_the_shape(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    r = await client.get("/api/v1/tickets/t-nobody", headers={**auth, "Accept-Language": "zh-TW"})

    assert r.status_code == 404 and r.json()["code"] == "not_found" and r.json()["message"] == "找不到該資源"
