"""The SLA monitor answers in the services' one error shape, in the caller's language, and shows times locally."""

from __future__ import annotations

import httpx


async def test_an_unknown_clock_is_404_in_the_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/timers/t-nobody/confirmation", headers={"Accept-Language": "zh-CN"})

    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and r.json()["message"] == "找不到该资源"


async def test_a_calendar_question_without_offset_is_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/calendars/office-hours/deadline", params={"start": "2026-11-27T09:00", "business_minutes": 60},
                         headers={"Accept-Language": "zh-TW"})

    assert r.status_code == 422
    assert r.json()["detail"] == [{"loc": ["query", "start"], "msg": "時間須帶時區偏移（如 2026-11-30T15:00:00+08:00）", "type": "timezone_aware"}]


async def test_a_deadline_is_shown_with_the_site_offset(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/calendars/office-hours/deadline", params={"start": "2026-11-27T01:00:00Z", "business_minutes": 30})

    assert r.status_code == 200, r.text
    assert r.json()["due_at"] == "2026-11-27T09:30:00+08:00"


async def test_an_unknown_calendar_is_404_in_the_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/calendars/lunar/elapsed", params={"start": "2026-11-26T09:00:00Z", "end": "2026-11-26T10:00:00Z"})

    assert r.status_code == 404 and set(r.json()) == {"code", "message", "detail"}
