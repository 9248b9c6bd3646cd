"""Issue 14, defect 5 with intake's own bus edge on the real NATS: the search index hears every ticket event (its
feed, an ordered JetStream consumer) and nothing of intake answers the JetStream publish requests of ticket.> (the
campaign counted about 1,200 empty replies to 3,000 publishes from the core subscription the index once had; one
arriving before the stream's ack failed the publish)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from intake import service
from intake.adapters.memory import MemoryOutbox
from intake.adapters.mongo import MongoTicketStore
from intake.domain import NewTicket
from intake.entrypoints import bus
from intake.index_feed import IndexFeed
from intake.service import Desk
from intake.settings import IntakeSettings
from opsdesk_shared.bus import EVENTS_STREAM
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1, subjects

pytestmark = pytest.mark.integration

PUBLISHES = 40


async def test_ticket_publishes_get_exactly_the_streams_ack_with_intakes_index_listening(mongo_db: Any, broker: Any) -> None:
    store = MongoTicketStore(mongo_db)
    other_replica = Desk.on(store, MemoryOutbox())
    here = Desk.on(store, MemoryOutbox())
    bus.register(broker, desk=here, settings=IntakeSettings(environment="test"))
    await broker.start()
    feed = IndexFeed(broker, index=here.index, store=store)
    await feed.start(timeout_s=30)
    assert len(here.index) == 0
    ticket, _ = await service.open_ticket(
        NewTicket(title="打印機卡紙", description="三樓", requester=Requester(name="王小明"), channel="hotline",
                  service_code="RS-REPAIR"),
        desk=other_replica, now=datetime.now(UTC), correlation_id="c",
    )

    nc = broker.config.connection_state.connection
    replies: list[list[bytes]] = []
    subs = []
    for n in range(PUBLISHES):
        got: list[bytes] = []
        replies.append(got)
        inbox = nc.new_inbox()

        async def keep(msg: Any, got: list[bytes] = got) -> None:
            got.append(msg.data)

        subs.append(await nc.subscribe(inbox, cb=keep))
        event = TicketCreatedV1(ticket_id=ticket.id, number=ticket.number, title=ticket.title, channel="hotline",
                                service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=ticket.reported_at)
        wire = Envelope.wrap(event, producer="intake", correlation_id=f"c-{n}", subject_id=ticket.id)
        await nc.publish(subjects.TICKET_CREATED, wire.to_wire(), reply=inbox, headers={"Nats-Msg-Id": str(wire.event_id)})
    await nc.flush()
    for _ in range(100):
        if len(here.index):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    for sub in subs:
        await sub.unsubscribe()
    await feed.stop()

    assert len(here.index) == 1  # the index heard the events and read the ticket in
    for got in replies:
        assert len(got) == 1, got  # the stream's ack alone: no empty answer from the index's subscription
        assert json.loads(got[0])["stream"] == EVENTS_STREAM
