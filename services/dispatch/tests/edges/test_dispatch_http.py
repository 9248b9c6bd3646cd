"""Dispatch's HTTP edge: the roster and a ticket's assignment."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from dispatch import service
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from opsdesk_shared.contracts import Requester, TicketCreatedV1


async def test_engineers_lists_the_roster(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/engineers")
    assert response.status_code == 200
    body = response.json()
    assert [e["id"] for e in body] == [e.id for e in DEMO_ROSTER_ALWAYS_ON_SITE]
    assert {e["id"]: e["role"] for e in body}["eng-pm-1"] == "project_manager"
    assert all(e["open_load"] == 0 for e in body)


async def test_assignment_of_unassigned_ticket_is_404(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/assignments/{uuid.uuid4()}")
    assert response.status_code == 404


async def test_assignment_of_assigned_ticket_is_200(client, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_id = str(uuid.uuid4())
    created = TicketCreatedV1(
        ticket_id=ticket_id, number="INC-2026-000001", title="打印機卡紙", channel="hotline",
        service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    assignment = await service.assign_ticket(
        created, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )

    response = await client.get(f"/api/v1/assignments/{ticket_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == assignment.id
    assert body["ticket_id"] == ticket_id
    assert body["engineer_id"] == assignment.engineer_id
    assert "score" in body["reason"]
    engineers = {e["id"]: e for e in (await client.get("/api/v1/engineers")).json()}
    assert engineers[assignment.engineer_id]["open_load"] == 1


async def test_healthz_is_200_and_readyz_503_without_infrastructure(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 503


async def test_metrics_expose_dispatch_counters_to_the_scrape_token_only(client, settings) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/metrics")).status_code == 401  # an internal token is not the scrape token
    response = await client.get("/metrics", auth=None, headers={"Authorization": f"Bearer {settings.metrics_token}"})
    assert response.status_code == 200
    assert "dispatch_no_engineer_available_total" in response.text
