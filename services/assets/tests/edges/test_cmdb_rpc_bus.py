"""rpc.cmdb.impact and rpc.cmdb.asset_summary on FastStream's in-memory TestNatsBroker."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from faststream.nats import NatsBroker, TestNatsBroker

from assets import domain, service, service_ops
from assets.domain import Asset, Location
from assets.entrypoints import bus
from assets.main import Adapters
from assets.relations import Relation
from assets.service import Ctx
from opsdesk_shared.contracts import Requester, TicketCreatedV1, subjects


async def seeded(world: Adapters, t0: datetime) -> None:
    ctx = Ctx(by="t", now=t0, correlation_id="c")
    for tag, type_ in (("GZ-N-1", "server"), ("GZ-N-2", "application")):
        stored, record, _ = domain.new_version(None, Asset(tag=tag, type=type_, location=Location(building="主樓"), department="財務科"), by="t", at=t0)
        await world.register.add(stored, record, [])
    assert world.graph is not None
    await world.graph.load(register=world.register, types=world.types)
    await world.graph.add(Relation(source="GZ-N-2", type="runs_on", target="GZ-N-1"), register=world.register, ctx=ctx)
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t-1", number="INC-1", title="ERP 打不開", channel="web", service_code="PS-01", requester=Requester(name="王"),
        asset_tag="GZ-N-1", reported_at=t0), links=world.links)
    await service.open_repair(asset_tag="GZ-N-1", vendor=None, ticket_id="t-1", note=None, register=world.register,
                              repairs=world.repairs, outbox=world.outbox, now=t0, correlation_id="c", links=world.links)


def broker_for(world: Adapters) -> NatsBroker:
    broker = NatsBroker()
    bus.register(broker, assets=world.register, links=world.links, repairs=world.repairs, graph=world.graph)
    return broker


async def ask(broker: NatsBroker, subject: str, payload: Any) -> dict[str, Any]:
    async with TestNatsBroker(broker) as test_broker:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        reply = await test_broker.request(body, subject, timeout=10)
    return json.loads(reply.body)  # type: ignore[no-any-return]


async def test_impact_rpc_answers_the_affected_applications_with_paths(world: Adapters, t0: datetime) -> None:
    await seeded(world, t0)

    body = await ask(broker_for(world), subjects.RPC_CMDB_IMPACT, {"tag": "GZ-N-1", "depth": 2})

    assert body["found"] is True
    assert [(h["tag"], h["path"]) for h in body["impact"]["applications"]] == [("GZ-N-2", ["GZ-N-1", "GZ-N-2"])]


async def test_asset_summary_rpc_answers_asset_open_tickets_and_repairs(world: Adapters, t0: datetime) -> None:
    await seeded(world, t0)

    body = await ask(broker_for(world), subjects.RPC_CMDB_ASSET_SUMMARY, {"tag": "GZ-N-1"})

    assert body["found"] is True and body["asset"]["tag"] == "GZ-N-1"
    assert [t["number"] for t in body["open_tickets"]] == ["INC-1"]
    assert len(body["repairs"]) == 1 and body["repairs"][0]["ticket_id"] == "t-1"


async def test_unknown_tag_is_not_found_on_both(world: Adapters, t0: datetime) -> None:
    await seeded(world, t0)
    broker = broker_for(world)
    assert await ask(broker, subjects.RPC_CMDB_IMPACT, {"tag": "NOPE"}) == {"found": False}
    assert await ask(broker, subjects.RPC_CMDB_ASSET_SUMMARY, {"tag": "NOPE"}) == {"found": False}


@pytest.mark.parametrize("payload", [b"nope", b"[]", {"tag": ""}, {"tag": "GZ-N-1", "depth": 99}, {"tag": "GZ-N-1", "direction": "up"}])
async def test_malformed_impact_request_answers_an_error(world: Adapters, t0: datetime, payload: Any) -> None:
    await seeded(world, t0)
    body = await ask(broker_for(world), subjects.RPC_CMDB_IMPACT, payload)
    assert body["found"] is False and body["error"].startswith("bad request")


async def test_asset_lookup_reply_shape_is_unchanged(world: Adapters, t0: datetime) -> None:
    """The intake gateway reads {'found': bool, 'asset': {...}}: the CMDB fields are additions only."""
    await seeded(world, t0)
    body = await ask(broker_for(world), subjects.ASSET_LOOKUP, {"tag": "GZ-N-2"})
    assert set(body) == {"found", "asset"}
    assert {"tag", "type", "model", "serial", "location", "owner", "department", "vendor", "status"} <= set(body["asset"])
