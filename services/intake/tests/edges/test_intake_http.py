"""The gateway's HTTP contract: status codes, field-level errors, idempotent replay, limits and ops endpoints."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from intake.adapters.memory import MemoryOutbox
from intake.ports import AssetsUnavailable
from intake.wiring import Adapters
from opsdesk_shared.contracts import subjects

MAX_BODY_BYTES = 2048  # matches the edge conftest's settings



def _locs(response: httpx.Response) -> list[list[Any]]:
    return [d["loc"] for d in response.json()["detail"]]


# --- creating tickets -----------------------------------------------------------------------------------------------


async def test_create_ticket_returns_201_with_number_and_location(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)

    assert response.status_code == 201, response.text
    body = response.json()
    uuid.UUID(body["id"])
    assert re.fullmatch(r"INC-\d{4}-\d{6}", body["number"])
    assert body["status"] == "new"
    assert body["priority"] == "P3"
    assert response.headers["Location"] == f"/api/v1/tickets/{body['id']}"
    assert "Idempotent-Replayed" not in response.headers
    assert await adapters.store.get(body["id"]) is not None


async def test_created_ticket_is_announced_once(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)

    outbox: MemoryOutbox = adapters.outbox  # type: ignore[assignment]
    assert [(e.type, e.subject_id) for e in outbox.published] == [(subjects.TICKET_CREATED, response.json()["id"])]


async def test_created_ticket_can_be_read_back(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    created = (await client.post("/api/v1/tickets", json=ticket_body, headers=auth)).json()

    response = await client.get(f"/api/v1/tickets/{created['id']}", headers=auth)

    assert response.status_code == 200
    shown = response.json()
    assert shown.pop("sla") is None  # no SLA monitor wired in this app
    assert shown == created


async def test_unknown_ticket_is_404(client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/tickets/{uuid.uuid4()}", headers=auth)
    assert response.status_code == 404


# --- authentication -------------------------------------------------------------------------------------------------


async def test_create_without_token_is_401(client, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=ticket_body)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert adapters.outbox.published == []


@pytest.mark.parametrize("header", ["Bearer not-the-token", "Basic dXNlcjpwYXNz", "Bearer ", "edge-test-token-0123456789abcdef"])
async def test_create_with_wrong_credentials_is_401(client, ticket_body, adapters, header) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=ticket_body, headers={"Authorization": header})
    assert response.status_code == 401
    assert adapters.store.tickets == {}


async def test_read_ticket_without_token_is_401(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/tickets/{uuid.uuid4()}")
    assert response.status_code == 401


# --- validation -----------------------------------------------------------------------------------------------------


async def test_missing_title_is_422_on_title(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    del ticket_body["title"]
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert ["body", "title"] in _locs(response)


async def test_unknown_channel_is_422_on_channel(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["channel"] = "carrier_pigeon"
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert ["body", "channel"] in _locs(response)


async def test_unknown_service_code_is_422_on_service_code(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_body["service_code"] = "RS-NOPE"
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert _locs(response) == [["body", "service_code"]]
    assert "RS-NOPE" in response.json()["detail"][0]["msg"]
    assert adapters.outbox.published == []


async def test_reported_at_in_the_future_is_422_on_reported_at(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["reported_at"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert _locs(response) == [["body", "reported_at"]]


async def test_reported_at_an_hour_ago_is_kept(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    reported = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0)
    ticket_body["reported_at"] = reported.astimezone(timezone(timedelta(hours=8))).isoformat()
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 201
    assert datetime.fromisoformat(response.json()["reported_at"]) == reported


async def test_unknown_extra_field_is_422_on_that_field(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["urgency"] = "very"
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert ["body", "urgency"] in _locs(response)


async def test_bad_requester_phone_is_422_on_nested_field(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["requester"]["phone"] = "call me maybe"
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 422
    assert ["body", "requester", "phone"] in _locs(response)


# --- body size ------------------------------------------------------------------------------------------------------


async def test_body_over_limit_with_content_length_is_413(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    ticket_body["description"] = "x" * (MAX_BODY_BYTES + 1)
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"
    assert adapters.store.tickets == {}


async def test_streamed_body_over_limit_without_content_length_is_413(client, auth, adapters) -> None:  # type: ignore[no-untyped-def]
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": "big", "description": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}'

    response = await client.post(
        "/api/v1/tickets", content=chunks(), headers={**auth, "Content-Type": "application/json"}
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413, response.text
    assert adapters.store.tickets == {}


async def test_body_just_under_limit_is_accepted(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body["description"] = ""
    base = len(httpx.Request("POST", "http://x", json=ticket_body).content)
    ticket_body["description"] = "x" * (MAX_BODY_BYTES - base - 10)
    response = await client.post("/api/v1/tickets", json=ticket_body, headers=auth)
    assert response.status_code == 201, response.text


# --- idempotency ----------------------------------------------------------------------------------------------------


async def test_replayed_idempotency_key_returns_200_with_original_ticket(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    headers = {**auth, "Idempotency-Key": f"req-{uuid.uuid4()}"}

    first = await client.post("/api/v1/tickets", json=ticket_body, headers=headers)
    replay = await client.post("/api/v1/tickets", json=ticket_body, headers=headers)

    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert replay.headers["Location"] == first.headers["Location"]
    assert len(adapters.outbox.published) == 1


async def test_different_idempotency_keys_create_two_tickets(client, auth, ticket_body) -> None:  # type: ignore[no-untyped-def]
    a = await client.post("/api/v1/tickets", json=ticket_body, headers={**auth, "Idempotency-Key": "key-a"})
    b = await client.post("/api/v1/tickets", json=ticket_body, headers={**auth, "Idempotency-Key": "key-b"})
    assert (a.status_code, b.status_code) == (201, 201)
    assert a.json()["id"] != b.json()["id"]
    assert a.json()["number"] != b.json()["number"]


# --- assets ---------------------------------------------------------------------------------------------------------


async def test_known_asset_tag_is_200(client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/assets/GZ-2026-000001", headers=auth)
    assert response.status_code == 200
    assert response.json()["model"] == "HP LaserJet M406"


async def test_unknown_asset_tag_is_404(client, auth) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/assets/GZ-2026-999999", headers=auth)
    assert response.status_code == 404


class _SilentAssets:
    async def lookup(self, tag: str) -> dict[str, Any] | None:
        raise AssetsUnavailable("timeout")


async def test_asset_lookup_without_answer_is_503(client, auth, adapters: Adapters) -> None:  # type: ignore[no-untyped-def]
    adapters.assets = _SilentAssets()
    response = await client.get("/api/v1/assets/GZ-2026-000001", headers=auth)
    assert response.status_code == 503


# --- operations -----------------------------------------------------------------------------------------------------


async def test_healthz_is_200(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_503_without_infrastructure(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": False, "nats": False, "views": False, "consumers": False}}


def _created_count(metrics_text: str, *, channel: str, service_code: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "intake_tickets_created":
            for sample in family.samples:
                if sample.name == "intake_tickets_created_total" and sample.labels == {
                    "channel": channel, "service_code": service_code, "priority": "P3",
                }:
                    return sample.value
    return 0.0


async def test_metrics_need_the_scrape_token_not_a_user_credential(client, auth, scrape) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/metrics")).status_code == 401
    assert (await client.get("/metrics", headers=auth)).status_code == 401  # an admin's API key is not the scrape token
    assert (await client.get("/metrics", headers=scrape)).status_code == 200


async def test_metrics_count_created_tickets_by_channel_and_service(client, auth, scrape, ticket_body) -> None:  # type: ignore[no-untyped-def]
    ticket_body.update(channel="walk_in", service_code="RS-ONSITE")
    before = _created_count((await client.get("/metrics", headers=scrape)).text, channel="walk_in", service_code="RS-ONSITE")
    replay_key = {"Idempotency-Key": f"req-{uuid.uuid4()}"}

    await client.post("/api/v1/tickets", json=ticket_body, headers={**auth, **replay_key})
    await client.post("/api/v1/tickets", json=ticket_body, headers={**auth, **replay_key})  # a replay is not counted

    response = await client.get("/metrics", headers=scrape)
    assert response.status_code == 200
    assert "intake_tickets_created_total" in response.text
    assert _created_count(response.text, channel="walk_in", service_code="RS-ONSITE") == before + 1


async def test_correlation_id_is_echoed_and_carried_by_the_event(client, auth, ticket_body, adapters) -> None:  # type: ignore[no-untyped-def]
    cid = f"corr-{uuid.uuid4()}"
    response = await client.post("/api/v1/tickets", json=ticket_body, headers={**auth, "X-Correlation-ID": cid})
    assert response.headers["X-Correlation-ID"] == cid
    assert adapters.outbox.published[0].correlation_id == cid


async def test_correlation_id_is_made_when_missing(client) -> None:  # type: ignore[no-untyped-def]
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["X-Correlation-ID"]
    assert first.headers["X-Correlation-ID"] != second.headers["X-Correlation-ID"]
