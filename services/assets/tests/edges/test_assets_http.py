"""The assets HTTP edge on memory adapters: register reads, repair records, validation and body limits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from assets.domain import Asset
from assets.main import Adapters
from opsdesk_shared.contracts import RepairUpdatedV1, subjects


async def open_repair(client: httpx.AsyncClient, tag: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/repairs", json={"asset_tag": tag, **extra})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_read_asset_by_tag(client: httpx.AsyncClient, asset: Asset) -> None:
    response = await client.get(f"/api/v1/assets/{asset.tag}")

    assert response.status_code == 200
    assert Asset.model_validate(response.json()) == asset


async def test_read_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/assets/GZ-NOPE-1")

    assert response.status_code == 404
    assert "GZ-NOPE-1" in response.json()["detail"]


async def test_post_repair_opens_it_with_the_assets_vendor(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    response = await client.post(
        "/api/v1/repairs", json={"asset_tag": asset.tag, "ticket_id": "tkt-9", "note": " fan noise "},
        headers={"X-Correlation-ID": "corr-http-1"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["asset_tag"], body["status"], body["vendor"], body["ticket_id"], body["version"]) == (
        asset.tag, "open", asset.vendor, "tkt-9", 1
    )
    assert body["history"][0]["note"] == "fan noise"  # whitespace stripped at the edge
    assert await adapters.repairs.get(body["id"]) is not None
    assert (await adapters.register.get(asset.tag)).status == "in_repair"
    (envelope,) = adapters.outbox.published
    assert (envelope.type, envelope.correlation_id) == (subjects.REPAIR_UPDATED, "corr-http-1")
    assert RepairUpdatedV1.model_validate(envelope.data).repair_id == body["id"]


async def test_post_repair_for_unknown_tag_is_422_on_asset_tag(client: httpx.AsyncClient, adapters: Adapters) -> None:
    response = await client.post("/api/v1/repairs", json={"asset_tag": "GZ-NOPE-2"})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "asset_tag"]
    assert "GZ-NOPE-2" in error["msg"]
    assert adapters.outbox.published == []


async def test_post_repair_with_an_extra_field_is_422(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    response = await client.post("/api/v1/repairs", json={"asset_tag": asset.tag, "priority": "P1"})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "priority"]
    assert error["type"] == "extra_forbidden"
    assert adapters.outbox.published == []


async def test_post_repair_without_asset_tag_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/repairs", json={"vendor": "Acme"})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "asset_tag"]
    assert error["type"] == "missing"


async def test_post_repair_with_blank_asset_tag_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/repairs", json={"asset_tag": "   "})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "asset_tag"]


async def test_read_repair_after_opening(client: httpx.AsyncClient, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)

    response = await client.get(f"/api/v1/repairs/{opened['id']}")

    assert response.status_code == 200
    assert response.json() == opened


async def test_read_unknown_repair_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/repairs/no-such-repair")).status_code == 404


async def test_patch_legal_transition_returns_the_updated_repair(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)

    response = await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "sent_to_vendor", "note": "courier"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "sent_to_vendor"
    assert [(h["status"], h["note"]) for h in body["history"]] == [("open", None), ("sent_to_vendor", "courier")]
    assert [RepairUpdatedV1.model_validate(e.data).status for e in adapters.outbox.published] == ["open", "sent_to_vendor"]


async def test_patch_response_matches_the_stored_repair(client: httpx.AsyncClient, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)

    patched = (await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "in_progress"})).json()
    stored = (await client.get(f"/api/v1/repairs/{opened['id']}")).json()

    assert patched == stored


async def test_patch_to_returned_deploys_the_asset_again(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)
    await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "sent_to_vendor"})

    response = await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "returned"})

    assert response.status_code == 200
    assert (await adapters.register.get(asset.tag)).status == "deployed"


async def test_patch_illegal_transition_is_409_listing_allowed_statuses(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)

    response = await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "returned"})

    assert response.status_code == 409
    detail = response.json()["detail"]
    assert detail["allowed"] == ["closed", "in_progress", "sent_to_vendor"]
    assert "open" in detail["msg"] and "returned" in detail["msg"]
    assert (await adapters.repairs.get(opened["id"])).status == "open"
    assert len(adapters.outbox.published) == 1


async def test_patch_unknown_repair_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch("/api/v1/repairs/no-such-repair", json={"status": "closed"})

    assert response.status_code == 404


async def test_patch_with_unknown_status_is_422(client: httpx.AsyncClient, asset: Asset) -> None:
    opened = await open_repair(client, asset.tag)

    response = await client.patch(f"/api/v1/repairs/{opened['id']}", json={"status": "lost"})

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]


async def test_oversized_body_is_413(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    response = await client.post("/api/v1/repairs", json={"asset_tag": asset.tag, "note": "x" * (70 * 1024)})

    assert response.status_code == 413
    assert response.json()["detail"][0]["type"] == "too_large"
    assert adapters.outbox.published == []


async def test_oversized_chunked_body_without_content_length_is_413(client: httpx.AsyncClient, adapters: Adapters, asset: Asset) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"asset_tag": "' + asset.tag.encode() + b'", "note": "'
        for _ in range(70):
            yield b"x" * 1024
        yield b'"}'

    response = await client.post("/api/v1/repairs", content=chunks(), headers={"content-type": "application/json"})

    assert response.status_code == 413
    assert adapters.outbox.published == []
