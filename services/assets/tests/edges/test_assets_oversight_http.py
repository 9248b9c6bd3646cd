"""The agency's oversight at assets' HTTP edge (memory adapters, internal tokens): asset types carry
`requires_authorization` and `has_storage` (edited with PUT /asset-types/{code}); a change to such an item with no
ticket the agency authorized naming it, and a storage device sent out to a vendor without one, go through and are
announced as cmdb.violation_detected (intake records them as security incidents)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from assets import oversight
from assets.domain import Asset
from assets.main import Adapters
from opsdesk_shared.contracts import Requester, subjects
from opsdesk_shared.contracts.authorizations import TicketAuthorizedV1


def _violations(adapters: Adapters) -> list[Any]:
    return [e for e in adapters.security_violations.outbox.published if e.type == subjects.CMDB_VIOLATION_DETECTED]  # type: ignore[attr-defined]


@pytest.fixture
async def guarded(client: httpx.AsyncClient) -> dict[str, Any]:
    [laptop] = [t for t in (await client.get("/api/v1/asset-types")).json() if t["code"] == "laptop"]
    assert laptop["requires_authorization"] is False and laptop["has_storage"] is False
    put = await client.put("/api/v1/asset-types/laptop", json={**laptop, "requires_authorization": True, "has_storage": True})
    assert put.status_code == 200 and put.json()["has_storage"] is True, put.text
    return put.json()  # type: ignore[no-any-return]


async def _authorize(adapters: Adapters, ticket_id: str, tag: str) -> None:
    now = datetime.now(UTC)
    await oversight.note_authorized(TicketAuthorizedV1(
        ticket_id=ticket_id, number="INC-2026-000016", title="更换硬盘", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=now, asset_tag=tag, authorized_at=now, by="zhou", basis="decision",
        dispatch=True,
    ), authorized=adapters.authorized_tickets)


@pytest.mark.usefixtures("guarded")
async def test_a_change_without_an_authorized_ticket_naming_the_item_is_announced(client, adapters: Adapters, asset: Asset) -> None:  # type: ignore[no-untyped-def]
    changed = await client.patch(f"/api/v1/assets/{asset.tag}", json={"owner": "王芳"})
    assert changed.status_code == 200 and changed.json()["owner"] == "王芳", changed.text
    [first] = _violations(adapters)
    assert first.data["rule"] == "unauthorized_ci_change" and first.data["asset_tag"] == asset.tag and first.data["refused"] is False
    assert first.data["detected_by"] == "assets" and first.data["actor"]

    await _authorize(adapters, "t-ok", asset.tag)
    await _authorize(adapters, "t-other", "GZ-OTHER")
    assert (await client.patch(f"/api/v1/assets/{asset.tag}", json={"owner": "李华", "ticket_id": "t-ok"})).status_code == 200
    assert len(_violations(adapters)) == 1
    assert (await client.patch(f"/api/v1/assets/{asset.tag}", json={"owner": "王芳", "ticket_id": "t-other"})).status_code == 200
    assert [v.data["ticket_id"] for v in _violations(adapters)] == [None, "t-other"]


@pytest.mark.usefixtures("guarded")
async def test_a_storage_device_sent_out_without_authorization_is_announced(client, adapters: Adapters, asset: Asset) -> None:  # type: ignore[no-untyped-def]
    sent = await client.post("/api/v1/repairs", json={"asset_tag": asset.tag, "vendor": "联想服务站", "kind": "vendor"})
    assert sent.status_code == 201, sent.text
    [violation] = _violations(adapters)
    assert violation.data["rule"] == "unauthorized_repair" and violation.data["repair_id"] == sent.json()["id"]
    assert violation.data["act"] == "repair.send_out"


async def test_nothing_is_announced_for_types_without_the_flags(client, adapters: Adapters, asset: Asset) -> None:  # type: ignore[no-untyped-def]
    assert (await client.patch(f"/api/v1/assets/{asset.tag}", json={"owner": "王芳"})).status_code == 200
    assert (await client.post("/api/v1/repairs", json={"asset_tag": asset.tag, "vendor": "x", "kind": "vendor"})).status_code == 201
    assert _violations(adapters) == []


@pytest.mark.usefixtures("guarded")
async def test_an_in_house_repair_or_one_under_an_authorized_ticket_is_no_violation(client, adapters: Adapters, asset: Asset) -> None:  # type: ignore[no-untyped-def]
    await _authorize(adapters, "t-ok", asset.tag)
    sent = await client.post("/api/v1/repairs", json={"asset_tag": asset.tag, "vendor": "联想服务站", "kind": "vendor", "ticket_id": "t-ok"})
    assert sent.status_code == 201, sent.text
    assert _violations(adapters) == []


async def test_the_bus_edge_learns_authorized_tickets_and_the_asset_they_name() -> None:
    from faststream.nats import NatsBroker, TestNatsBroker

    from assets.adapters.memory import MemoryAssetRegister, MemoryDocs
    from assets.entrypoints import bus
    from assets.settings import AssetsSettings
    from opsdesk_shared.bus import EVENTS_STREAM
    from opsdesk_shared.contracts import Envelope

    authorized = MemoryDocs()
    broker = NatsBroker()
    bus.register(broker, assets=MemoryAssetRegister([]), links=MemoryDocs(), settings=AssetsSettings(), authorized=authorized)
    now = datetime.now(UTC)
    event = TicketAuthorizedV1(
        ticket_id="t-9", number="INC-2026-000019", title="更换硬盘", channel="web", service_code="RS-ONSITE",
        requester=Requester(name="王小明"), reported_at=now, asset_tag="GZ-2026-000003", authorized_at=now, by="zhou",
        basis="standing", standing_authorization_id="s-1", dispatch=False,
    )
    envelope = Envelope.wrap(event, producer="intake", correlation_id="corr", subject_id="t-9")
    async with TestNatsBroker(broker) as br:
        await br.publish(envelope.to_wire(), subject=subjects.TICKET_AUTHORIZED, stream=EVENTS_STREAM,
                         reply_to=f"$JS.ACK.{EVENTS_STREAM}.{bus.AUTHORIZED_DURABLE}.1.7.7.1767225600000000000.0")

    stored = await authorized.get("t-9")
    assert stored is not None and stored["asset_tag"] == "GZ-2026-000003" and stored["number"] == "INC-2026-000019"
