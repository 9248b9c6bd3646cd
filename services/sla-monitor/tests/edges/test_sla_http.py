"""The SLA monitor's HTTP edge on memory adapters: timers by ticket and name, and the ops endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from sla_monitor import service
from sla_monitor.main import Adapters


async def test_read_timer_returns_the_running_timer(client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str) -> None:
    await service.start_response_timer(
        ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=30), store=adapters.store, correlation_id="c-1"
    )

    response = await client.get(f"/api/v1/timers/{ticket_id}/response")

    assert response.status_code == 200
    body = response.json()
    assert body["ticket_id"] == ticket_id
    assert body["name"] == "response"
    assert body["status"] == "running"
    assert datetime.fromisoformat(body["due_at"]) == t0 + timedelta(minutes=30)
    assert body["correlation_id"] == "c-1"


async def test_read_timer_shows_a_breach(client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str) -> None:
    await service.start_response_timer(ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=1), store=adapters.store)
    await service.sweep_breaches(now=t0 + timedelta(hours=1), store=adapters.store, outbox=adapters.outbox)

    body = (await client.get(f"/api/v1/timers/{ticket_id}/response")).json()

    assert body["status"] == "breached"
    assert datetime.fromisoformat(body["breached_at"]) == t0 + timedelta(hours=1)


async def test_read_timer_of_unknown_ticket_is_404(client: httpx.AsyncClient, ticket_id: str) -> None:
    response = await client.get(f"/api/v1/timers/{ticket_id}/response")

    assert response.status_code == 404
    assert ticket_id in response.json()["detail"]


async def test_read_timer_with_unknown_name_is_404(client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str) -> None:
    await service.start_response_timer(ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=1), store=adapters.store)

    response = await client.get(f"/api/v1/timers/{ticket_id}/resolution")

    assert response.status_code == 404


async def test_healthz_answers_without_infrastructure(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_when_database_and_nats_are_not_open(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": False, "nats": False, "views": False, "consumers": False}}


async def test_response_echoes_the_callers_correlation_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Correlation-ID": "corr-edge-1"})

    assert response.headers["x-correlation-id"] == "corr-edge-1"


async def test_metrics_exposes_the_sla_counters(client: httpx.AsyncClient, scrape: dict[str, str]) -> None:
    response = await client.get("/metrics", headers=scrape, auth=None)

    assert response.status_code == 200
    assert "# TYPE sla_breaches_total counter" in response.text
