"""Reporting's HTTP edge on the memory projection: /api/v1/summary and /metrics follow the projected events.

The client signs every request as the gateway would (an admin unless a test names another caller); /metrics answers to
the scrape token only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting import service
from reporting.adapters.memory import MemoryEventProjection
from reporting.domain import Tally
from reporting.main import Adapters, create_app
from reporting.settings import ReportingSettings

SCRAPE_TOKEN = "reporting-edge-scrape-token"


@pytest.fixture
def adapters() -> Adapters:
    return Adapters(projection=MemoryEventProjection(), tally=Tally())


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ReportingSettings.model_validate({"OPSDESK_METRICS_TOKEN": SCRAPE_TOKEN}), adapters=adapters)
    # ASGITransport does not run the lifespan, and the lifespan is what puts the adapters on the app.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                     auth=InternalTokenAuth("reporting")) as client:
            yield client


async def project(adapters: Adapters, *events: tuple[Any, Any]) -> None:
    for envelope, data in events:
        await service.project_event(envelope, data, projection=adapters.projection, tally=adapters.tally)


async def scrape(client: httpx.AsyncClient) -> httpx.Response:
    return await client.get("/metrics", auth=None, headers={"Authorization": f"Bearer {SCRAPE_TOKEN}"})


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Sample name -> {sorted labels: value} from a Prometheus text exposition."""
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


async def test_summary_is_empty_before_any_event(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/summary")

    assert response.status_code == 200
    assert response.json() == {
        "tickets_created": [], "tickets_assigned": [], "tickets_reassigned": [], "escalations_raised": [],
        "sla_breaches": [], "sla_warnings": [], "repair_updates": [],
    }


async def test_summary_counts_projected_events_by_labels(client: httpx.AsyncClient, adapters: Adapters, ticket_created: Any, sla_breached: Any) -> None:
    await project(adapters, ticket_created(channel="web"), ticket_created(channel="web"), ticket_created(channel="email"), sla_breached())

    body = (await client.get("/api/v1/summary")).json()

    assert body["tickets_created"] == [
        {"labels": {"channel": "email", "service_code": "RS-REPAIR"}, "count": 1},
        {"labels": {"channel": "web", "service_code": "RS-REPAIR"}, "count": 2},
    ]
    assert body["sla_breaches"] == [{"labels": {"timer": "response"}, "count": 1}]


async def test_metrics_export_tickets_created_total_with_labels(client: httpx.AsyncClient, adapters: Adapters, ticket_created: Any) -> None:
    await project(adapters, ticket_created(channel="web"), ticket_created(channel="web"), ticket_created(channel="hotline"))

    response = await scrape(client)

    assert response.status_code == 200
    assert samples(response.text, "reporting_tickets_created_total") == {
        (("channel", "hotline"), ("service_code", "RS-REPAIR")): 1.0,
        (("channel", "web"), ("service_code", "RS-REPAIR")): 2.0,
    }


async def test_metrics_count_a_redelivered_event_once(client: httpx.AsyncClient, adapters: Adapters, ticket_assigned: Any) -> None:
    event = ticket_assigned(engineer_id="eng-3")
    await project(adapters, event, event)

    text = (await scrape(client)).text

    assert samples(text, "reporting_tickets_assigned_total") == {(("engineer_id", "eng-3"),): 1.0}


async def test_metrics_declare_every_counter_even_before_events(client: httpx.AsyncClient) -> None:
    text = (await scrape(client)).text

    names = {family.name for family in text_string_to_metric_families(text)}
    assert {"reporting_tickets_created", "reporting_tickets_assigned", "reporting_sla_breaches", "reporting_repair_updates"} <= names


async def test_metrics_need_the_scrape_token_not_an_internal_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", auth=None)).status_code == 401


async def test_summary_is_for_the_team_not_requesters(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/summary", headers={"X-Opsdesk-Role": "requester"})).status_code == 403
    assert (await client.get("/api/v1/summary", headers={"X-Opsdesk-Role": "engineer"})).status_code == 200


async def test_healthz_ok_and_readyz_unavailable_without_infrastructure(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz", auth=None)).status_code == 200
    ready = await client.get("/readyz", auth=None)
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": False, "nats": False, "views": False, "consumers": False}
