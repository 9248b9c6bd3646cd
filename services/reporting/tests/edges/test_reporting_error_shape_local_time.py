"""Reporting answers in the services' one error shape, in the caller's language, and shows times with the site offset."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting.adapters.memory import MemoryEventSource, MemoryPublisher
from reporting.main import create_app, memory_adapters
from reporting.settings import ReportingSettings


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    adapters = memory_adapters(ReportingSettings(), source=MemoryEventSource(), publisher=MemoryPublisher(),
                               clock=lambda: datetime(2026, 12, 2, tzinfo=UTC))
    app = create_app(ReportingSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                     auth=InternalTokenAuth("reporting")) as c:
            yield c


async def test_month_13_is_422_in_the_shape_and_language(client: httpx.AsyncClient) -> None:
    zh = await client.get("/api/v1/reports/service-summary/2026-13", headers={"Accept-Language": "zh-CN"})
    en = await client.get("/api/v1/reports/service-summary/2026-13", headers={"Accept-Language": "en"})

    assert zh.status_code == en.status_code == 422
    assert set(zh.json()) >= {"code", "message", "detail"} and zh.json()["code"] == "validation_error"
    assert zh.json()["message"] == "请求内容有误，请检查所列字段" and en.json()["message"] == "The request has invalid fields"


async def test_a_report_shows_its_due_time_with_the_site_offset(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/reports/service-summary/2026-11")

    assert r.status_code == 200, r.text
    assert r.json()["due_at"] == "2026-12-05T00:00:00+08:00"
