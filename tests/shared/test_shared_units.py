"""Envelope, settings and HTTP guards, without any server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI, Request
from prometheus_client import CollectorRegistry

from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, UnknownEvent, payload_model
from opsdesk_shared.observability import BodySizeLimitMiddleware, CorrelationIdMiddleware, ops_router
from opsdesk_shared.settings import ServiceSettings


def test_envelope_wire_format_is_utc_iso_and_round_trips() -> None:
    data = TicketCreatedV1(
        ticket_id="t", number="INC-2026-000001", title="x", channel="email", service_code="RS-OTHER",
        requester=Requester(name="a"), reported_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    env = Envelope.wrap(data, producer="intake", correlation_id="c", subject_id="t")
    wire = json.loads(env.to_wire())
    assert wire["occurred_at"].endswith("Z")
    assert wire["type"] == "ticket.created" and wire["version"] == 1
    again = Envelope.model_validate_json(env.to_wire())
    assert again == env
    assert payload_model(again.type, again.version).model_validate(again.data) == data


def test_unknown_event_version_is_refused() -> None:
    with pytest.raises(UnknownEvent):
        payload_model("ticket.created", 99)


def test_database_name_defaults_to_service_name() -> None:
    assert ServiceSettings(service_name="sla-monitor").database == "opsdesk_sla_monitor"


def guarded_app(max_bytes: int) -> FastAPI:
    app = FastAPI()

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"n": len(await request.body())}

    app.include_router(ops_router(registry=CollectorRegistry(), checks={"db": _false}))
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_bytes)
    app.add_middleware(CorrelationIdMiddleware)
    return app


async def _false() -> bool:
    return False


async def test_body_over_limit_is_refused_with_413_even_without_content_length() -> None:
    transport = httpx.ASGITransport(app=guarded_app(10))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", content=b"x" * 10)).json() == {"n": 10}
        assert (await client.post("/echo", content=b"x" * 11)).status_code == 413

        async def chunks():
            for _ in range(5):
                yield b"xxxx"

        refused = await client.post("/echo", content=chunks())
        assert refused.status_code == 413
        assert refused.json()["detail"][0]["loc"] == ["body"]


async def test_correlation_id_is_echoed_or_made_and_readiness_reports_failing_checks() -> None:
    transport = httpx.ASGITransport(app=guarded_app(10))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/healthz", headers={"X-Correlation-ID": "abc"})
        assert r.headers["x-correlation-id"] == "abc"
        assert len((await client.get("/healthz")).headers["x-correlation-id"]) == 36
        ready = await client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"db": False}
