"""Issue 13, item 9 (intake's side): a ticket names an asset tag assets announced, from intake's own projection of
cmdb.ci_changed and cmdb.register_imported; an empty projection accepts any tag."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from faststream.nats import TestNatsBroker

from intake import service
from intake.adapters.memory import MemoryKnownTags, MemoryOutbox, MemoryTicketStore
from intake.domain import InvalidField, NewTicket
from intake.entrypoints import bus
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM, make_broker
from opsdesk_shared.contracts import Envelope, Requester, subjects
from opsdesk_shared.contracts.cmdb import CiChangedV1, RegisterImportedV1

KNOWN = "GZ-2026-000001"
UNKNOWN = "GZ-2026-999999"


def _js_reply(durable: str) -> str:
    """The reply subject JetStream gives a consumed message (first delivery); the handlers read it."""
    return f"$JS.ACK.{EVENTS_STREAM}.{durable}.1.7.7.1767225600000000000.0"


def _field_errors(body: dict) -> list[tuple[str, ...]]:  # type: ignore[type-arg]
    return [tuple(str(p) for p in d["loc"]) for d in body["detail"]]


async def test_a_ticket_naming_an_unknown_tag_is_a_422_on_asset_tag(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    adapters.tags = MemoryKnownTags({KNOWN})
    agent = as_user("agent1")

    refused = await client.post("/api/v1/tickets", json={**ticket_body, "asset_tag": UNKNOWN}, headers=agent)
    assert refused.status_code == 422, refused.text
    assert ("body", "asset_tag") in _field_errors(refused.json())
    assert UNKNOWN in refused.text
    assert (await client.get("/api/v1/tickets", headers=agent)).json()["items"] == []  # nothing was recorded

    known = await client.post("/api/v1/tickets", json={**ticket_body, "asset_tag": KNOWN}, headers=agent)
    assert known.status_code == 201, known.text
    untagged = await client.post("/api/v1/tickets", json={k: v for k, v in ticket_body.items() if k != "asset_tag"}, headers=agent)
    assert untagged.status_code == 201, untagged.text


async def test_editing_a_ticket_to_an_unknown_tag_is_refused_too(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    adapters.tags = MemoryKnownTags({KNOWN, "GZ-2026-000002"})
    agent = as_user("agent1")
    ticket = (await client.post("/api/v1/tickets", json=ticket_body, headers=agent)).json()

    refused = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"asset_tag": UNKNOWN}, headers=agent)
    assert refused.status_code == 422, refused.text
    assert ("body", "asset_tag") in _field_errors(refused.json())
    moved = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"asset_tag": "GZ-2026-000002"}, headers=agent)
    assert moved.status_code == 200 and moved.json()["asset_tag"] == "GZ-2026-000002"
    cleared = await client.patch(f"/api/v1/tickets/{ticket['id']}", json={"asset_tag": None}, headers=agent)
    assert cleared.status_code == 200 and cleared.json()["asset_tag"] is None


async def test_before_any_tag_is_announced_every_tag_is_accepted(client, adapters, as_user, ticket_body) -> None:  # type: ignore[no-untyped-def]
    adapters.tags = MemoryKnownTags()
    r = await client.post("/api/v1/tickets", json={**ticket_body, "asset_tag": UNKNOWN}, headers=as_user("agent1"))
    assert r.status_code == 201, r.text


async def test_assets_announcements_fill_the_projection_that_refuses_unknown_tags() -> None:
    """Both events through the bus edge (FastStream's in-memory broker), their durables as bus_permissions names them."""
    tags = MemoryKnownTags()
    desk = Desk.on(MemoryTicketStore(), MemoryOutbox())
    desk.tags = tags
    broker = make_broker("nats://127.0.0.1:4222", name="intake-known-tags-test")
    bus.register(broker, desk=desk, settings=IntakeSettings(environment="test"))
    now = datetime.now(UTC)
    changed = CiChangedV1(tag=KNOWN, ci_type="printer", change="created", version=1, status="in_use", by="admin1", changed_at=now)
    imported = [
        RegisterImportedV1(import_id="imp-1", rows=1001, created=1001, by="admin1", imported_at=now,
                           tags=[f"GZ-2026-1{n:05d}" for n in range(part * 1000, min(part * 1000 + 1000, 1001))],
                           part=part + 1, parts=2)
        for part in range(2)
    ]
    IMPORTED = "intake-register-imported"
    async with TestNatsBroker(broker) as br:
        await br.publish(Envelope.wrap(changed, producer="assets", correlation_id="c", subject_id="register").to_wire(),
                         subject=subjects.CMDB_CI_CHANGED, stream=EVENTS_STREAM,
                         reply_to=_js_reply("intake-ci-changed"))
        for event in imported:
            wire = Envelope.wrap(event, producer="assets", correlation_id="c", subject_id="register").to_wire()
            await br.publish(wire, subject=subjects.CMDB_REGISTER_IMPORTED, stream=EVENTS_STREAM, reply_to=_js_reply(IMPORTED))
        await br.publish(wire, subject=subjects.CMDB_REGISTER_IMPORTED, stream=EVENTS_STREAM, reply_to=_js_reply(IMPORTED))  # again: nothing new

    assert len(tags.tags) == 1 + 1001
    assert await tags.has(KNOWN) and await tags.has("GZ-2026-101000") and not await tags.has(UNKNOWN)
    cmd = NewTicket(title="打印机卡纸", description="", requester=Requester(name="王小明"), channel="web",
                    service_code="RS-REPAIR", asset_tag=UNKNOWN)
    with pytest.raises(InvalidField) as refused:
        await service.open_ticket(cmd, desk=desk, now=now, correlation_id="c")
    assert refused.value.loc == ("body", "asset_tag")
    ticket, _ = await service.open_ticket(cmd.model_copy(update={"asset_tag": "GZ-2026-101000"}), desk=desk, now=now, correlation_id="c")
    assert ticket.asset_tag == "GZ-2026-101000"
