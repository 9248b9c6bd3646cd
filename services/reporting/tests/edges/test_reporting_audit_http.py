"""Reporting's `GET /api/v1/audit/verify` (issue 16): stored reports' sign-off histories, read-only, for those who
oversee; the agency's acknowledgement is a sealed step, and a changed one is named."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting.adapters.memory import MemoryReportStore
from reporting.main import Adapters, create_app, memory_adapters
from reporting.periods import TZ
from reporting.settings import ReportingSettings

REPORT = "service-summary:2026-11:zh-CN"
NOW = datetime(2026, 12, 4, 9, 0, tzinfo=TZ)


@pytest.fixture
async def wired() -> Adapters:
    adapters = memory_adapters(ReportingSettings(), clock=lambda: NOW)
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


async def test_sign_off_steps_verify_and_a_changed_one_is_named(client: httpx.AsyncClient, wired: Adapters) -> None:
    submitted = await client.post(f"/api/v1/reports/stored/{REPORT}/submit", headers={"X-Opsdesk-User": "pm-chen", "X-Opsdesk-Role": "manager"})
    assert submitted.status_code == 200, submitted.text
    agency = {"X-Opsdesk-User": "agency-zhou", "X-Opsdesk-Role": "agency"}
    acknowledged = await client.post(f"/api/v1/reports/stored/{REPORT}/acknowledge", json={}, headers=agency)
    assert acknowledged.status_code == 200, acknowledged.text
    assert all("hash" not in h for h in acknowledged.json().get("history", []))

    intact = await client.get("/api/v1/audit/verify", headers=agency)
    assert intact.status_code == 200, intact.text
    assert intact.json() == {"ok": True, "checked": 2, "first_broken": None}

    store = wired.reports
    assert isinstance(store, MemoryReportStore)
    store.sealed[REPORT]["history"][1] = {**store.sealed[REPORT]["history"][1], "note": "改过"}
    broken = (await client.get("/api/v1/audit/verify", headers=agency)).json()
    assert broken["first_broken"] == f"report/{REPORT}/history#1: hash does not match the record (the record was changed)"


@pytest.mark.parametrize("role", ["engineer", "agent", "requester"])
async def test_others_may_not_verify(client: httpx.AsyncClient, role: str) -> None:
    assert (await client.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": role, "X-Opsdesk-User": "u1"})).status_code == 403
