"""Issue 14, defect 1: a burst of alike tickets through the real consumer on real NATS and the database.

The campaign saw 280-385 healthy ticket.created dead-lettered per run: a pulled batch ran 32 detections at once,
each read-modify-saved the one problem candidate and gave up after five lost races. Now detections sharing a
service or asset run one after the other and a join is one atomic merge: no dead letter, one candidate, every
incident in it."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from knowledge.main import Adapters
from opsdesk_shared.bus import DEADLETTER_STREAM, JetStreamPublisher
from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1

pytestmark = pytest.mark.integration

BURST = 150


def _alike(n: int, *, at: datetime) -> Envelope:
    ticket_id = str(uuid.uuid4())
    event = TicketCreatedV1(
        ticket_id=ticket_id, number=f"INC-2026-{n:06d}", title="三樓打印機卡紙", channel="hotline",
        service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=at + timedelta(milliseconds=n),
        asset_tag="GZ-PRN-0301", description="打印的時候紙卡在裡面拿不出來",
    )
    return Envelope.wrap(event, producer="intake", correlation_id=f"corr-{ticket_id}", subject_id=ticket_id)


async def test_burst_of_alike_tickets_makes_one_candidate_and_no_dead_letter(broker: Any, knowledge_on_bus: Adapters) -> None:
    publisher = JetStreamPublisher(broker)
    at = datetime.now(UTC)
    events = [_alike(n, at=at) for n in range(BURST)]
    await asyncio.gather(*(publisher.publish(e) for e in events))
    ids = {str(e.subject_id) for e in events}

    deadline = time.monotonic() + 120
    grouped: set[str] = set()
    while time.monotonic() < deadline:
        pending = await knowledge_on_bus.candidates.list(status="pending")
        grouped = {i for c in pending for i in c.incident_ids}
        if grouped >= ids:
            break
        await asyncio.sleep(0.5)

    js = broker.config.connection_state.stream
    dead = (await js.stream_info(DEADLETTER_STREAM)).state.messages
    assert dead == 0
    pending = await knowledge_on_bus.candidates.list(status="pending")
    assert len(pending) == 1, [len(c.incident_ids) for c in pending]
    assert sorted(pending[0].incident_ids) == sorted(ids)
    for e in events[:5]:
        incident = await knowledge_on_bus.incidents.get(str(e.subject_id))
        assert incident is not None and incident.group_id == pending[0].id
