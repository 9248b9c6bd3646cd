"""Dispatch answers in the services' one error shape, in the caller's language, and shows times with the site offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dispatch import service
from dispatch.main import Adapters
from opsdesk_shared.contracts import Requester, TicketCreatedV1


@pytest.fixture
async def ticket_id(adapters: Adapters) -> str:
    ticket = TicketCreatedV1(
        ticket_id="t-shape", number="INC-2026-000077", title="打印机卡纸", channel="hotline", service_code="RS-ONSITE",
        requester=Requester(name="李华"), reported_at=datetime.now(UTC),
    )
    await service.assign_ticket(
        ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )
    return ticket.ticket_id


async def test_an_eta_without_offset_is_422_in_chinese_and_an_eta_with_one_comes_back_local(
    client: httpx.AsyncClient, ticket_id: str
) -> None:
    naive = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": "2026-11-30 15:00"},
                              headers={"Accept-Language": "zh-CN"})
    utc = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": "2099-11-30T07:00:00Z"})

    assert naive.status_code == 422 and naive.headers["content-language"] == "zh-CN"
    assert naive.json() == {
        "code": "validation_error", "message": "请求内容有误，请检查所列字段",
        "detail": [{"loc": ["body", "eta"], "msg": "时间须带时区偏移（如 2026-11-30T15:00:00+08:00）", "type": "timezone_aware"}],
    }
    assert utc.status_code == 200, utc.text
    assert utc.json()["eta"] == "2099-11-30T15:00:00+08:00"
    assert utc.json()["assigned_at"].endswith("+08:00")


async def test_an_unknown_assignment_is_404_in_the_shape(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/assignments/t-nobody-knows", headers={"Accept-Language": "zh-TW"})

    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and r.json()["message"] == "找不到該資源" and r.json()["detail"]


async def test_an_eta_already_past_is_422_naming_eta_and_a_few_minutes_ago_is_taken(
    client: httpx.AsyncClient, ticket_id: str
) -> None:
    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    past = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": yesterday},
                             headers={"Accept-Language": "zh-CN"})
    assert past.status_code == 422, past.text
    assert past.json()["detail"][0]["loc"] == ["body", "eta"] and "已过" in past.json()["detail"][0]["msg"]
    seen = (await client.get(f"/api/v1/assignments/{ticket_id}")).json()
    assert seen["status"] != "confirmed"
    skewed = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()  # the desk's clock a little behind
    ok = await client.post(f"/api/v1/assignments/{ticket_id}/confirm", json={"eta": skewed})
    assert ok.status_code == 200, ok.text
