"""The CMDB on real NATS: rpc.cmdb.* as core request/reply (never persisted), and ticket events from JetStream
kept as each asset's open tickets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from assets import domain, service
from assets.adapters.mongo import MongoAssetRegister, MongoDocs, MongoRepairStore
from assets.domain import Asset, Location
from assets.entrypoints import bus
from assets.relations import Relation
from assets.service import Ctx
from assets.service_graph import RelationGraph
from assets.settings import AssetsSettings
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketAssignedV1, TicketCreatedV1, TicketResolvedV1, subjects

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def cmdb_on_bus(broker: Any, mongo_db: Any) -> dict[str, Any]:
    register = MongoAssetRegister(mongo_db)
    repairs = MongoRepairStore(mongo_db)
    links = MongoDocs(mongo_db["asset_links"])
    types = MongoDocs(mongo_db["asset_types"])
    graph = RelationGraph(relations=MongoDocs(mongo_db["relations"]), log=MongoDocs(mongo_db["graph_log"]), meta=MongoDocs(mongo_db["meta"]))
    now = datetime.now(UTC)
    for tag, type_ in (("GZ-Q-1", "server"), ("GZ-Q-2", "application")):
        stored, record, _ = domain.new_version(None, Asset(tag=tag, type=type_, location=Location(building="主樓")), by="t", at=now)
        await register.add(stored, record, [])
    await graph.load(register=register, types=types)
    await graph.add(Relation(source="GZ-Q-2", type="runs_on", target="GZ-Q-1"), register=register, ctx=Ctx(by="t", now=now, correlation_id="c"))
    bus.register(broker, assets=register, links=links, repairs=repairs, graph=graph, settings=AssetsSettings(environment="test"))
    await broker.start()
    return {"register": register, "repairs": repairs, "links": links}


async def ask(broker: Any, subject: str, payload: dict[str, Any]) -> dict[str, Any]:
    reply = await broker.request(json.dumps(payload).encode(), subject, timeout=3)
    return json.loads(reply.body)  # type: ignore[no-any-return]


async def test_impact_rpc_on_real_nats_and_nothing_persisted(broker: Any, cmdb_on_bus: dict[str, Any]) -> None:
    body = await ask(broker, subjects.RPC_CMDB_IMPACT, {"tag": "GZ-Q-1"})

    assert body["found"] is True and [h["tag"] for h in body["impact"]["applications"]] == ["GZ-Q-2"]
    js = broker.config.connection_state.stream
    assert (await js.stream_info("OPSDESK_EVENTS")).state.messages == 0


async def test_ticket_events_from_jetstream_show_in_the_asset_summary(broker: Any, cmdb_on_bus: dict[str, Any]) -> None:
    ticket_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    created = TicketCreatedV1(ticket_id=ticket_id, number="INC-2026-000042", title="服務器宕機", channel="hotline", service_code="PS-01",
                              requester=Requester(name="王小明"), asset_tag="GZ-Q-1", reported_at=now)
    publisher = JetStreamPublisher(broker)
    await publisher.publish(Envelope.wrap(created, producer="intake", correlation_id="c", subject_id=ticket_id))
    await service.open_repair(asset_tag="GZ-Q-1", vendor=None, ticket_id=ticket_id, note=None, register=cmdb_on_bus["register"],
                              repairs=cmdb_on_bus["repairs"], outbox=_NoOutbox(), now=now, correlation_id="c", links=cmdb_on_bus["links"])

    async def listed() -> bool:
        body = await ask(broker, subjects.RPC_CMDB_ASSET_SUMMARY, {"tag": "GZ-Q-1"})
        return [t["number"] for t in body["open_tickets"]] == ["INC-2026-000042"] and len(body["repairs"]) == 1

    await eventually(listed)

    resolved = TicketResolvedV1(ticket_id=ticket_id, number="INC-2026-000042", service_code="PS-01", priority="P3", channel="hotline",
                                asset_tag="GZ-Q-1", resolved_at_desk=False, resolution="重啟", reported_at=now, resolved_at=datetime.now(UTC), by="eng")
    await publisher.publish(Envelope.wrap(resolved, producer="intake", correlation_id="c", subject_id=ticket_id))

    async def cleared() -> bool:
        return (await ask(broker, subjects.RPC_CMDB_ASSET_SUMMARY, {"tag": "GZ-Q-1"}))["open_tickets"] == []

    await eventually(cleared)


async def test_ticket_assigned_from_jetstream_names_the_holder_in_the_summary(broker: Any, cmdb_on_bus: dict[str, Any]) -> None:
    ticket_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    publisher = JetStreamPublisher(broker)
    created = TicketCreatedV1(ticket_id=ticket_id, number="INC-2026-000043", title="服務器宕機", channel="hotline", service_code="PS-01",
                              requester=Requester(name="王小明"), asset_tag="GZ-Q-1", reported_at=now)
    assigned = TicketAssignedV1(ticket_id=ticket_id, assignment_id="a-1", engineer_id="E-7", engineer_name="李華", reason="nearest",
                                assigned_at=now)
    await publisher.publish(Envelope.wrap(assigned, producer="dispatch", correlation_id="c", subject_id=ticket_id))
    await publisher.publish(Envelope.wrap(created, producer="intake", correlation_id="c", subject_id=ticket_id))

    async def held() -> bool:
        body = await ask(broker, subjects.RPC_CMDB_ASSET_SUMMARY, {"tag": "GZ-Q-1"})
        return [(t["number"], t["engineer_id"]) for t in body["open_tickets"]] == [("INC-2026-000043", "E-7")]

    await eventually(held)


class _NoOutbox:
    async def deliver(self, doc_id: Any, events: Any) -> bool:
        return True
