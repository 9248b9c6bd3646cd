"""The tally restarts from a snapshot instead of recounting every stored event (issue 14: 100,000 events took
79-200 s to recount), and stays exact after a clean stop, after a crash and across redeliveries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk_shared.contracts import Envelope, Requester, TicketCreatedV1
from opsdesk_shared.snapshot import Snapshots
from reporting.adapters.tally_checkpoint import SNAPSHOT, CheckpointedEventProjection, TallyClosed

pytestmark = pytest.mark.integration


def created(n: int, channel: str = "hotline") -> tuple[Envelope, list[str]]:
    data = TicketCreatedV1(ticket_id=f"t-{n}", number=f"INC-2026-{n:06d}", title="打印機卡紙", channel=channel,  # type: ignore[arg-type]
                           service_code="RS-REPAIR", requester=Requester(name="王小明"), reported_at=datetime.now(UTC))
    envelope = Envelope.wrap(data, producer="intake", correlation_id=f"c-{n}", subject_id=f"t-{n}")
    return envelope, [f'["tickets_created",["{channel}","RS-REPAIR"]]']


def projection(db: Any) -> CheckpointedEventProjection:
    return CheckpointedEventProjection(db, Snapshots(db["snapshots"]))


async def test_clean_stop_crash_and_redelivery_keep_the_counts_exact(mongo_db: Any) -> None:
    hotline, web = '["tickets_created",["hotline","RS-REPAIR"]]', '["tickets_created",["web","RS-REPAIR"]]'
    # Events stored before checkpoints existed (no epoch): the first start counts them all.
    await mongo_db["events"].insert_many([{"_id": f"old-{i}", "type": "ticket.created", "keys": [hotline]} for i in range(5)])
    first = projection(mongo_db)
    await first.ensure_indexes()
    at_first = await first.counts()
    sent = [created(n, "web") for n in range(3)]
    for envelope, keys in sent:
        assert await first.record(envelope, keys)
    assert not await first.record(*sent[0])  # a redelivery counts once
    assert await first.checkpoint(final=True)  # shutdown
    with pytest.raises(TallyClosed):
        await first.record(*created(99))  # after the final checkpoint: refused, so redelivered to the next process

    second = projection(mongo_db)
    at_second = await second.counts()
    await second.record(*created(10))
    await second.checkpoint()  # periodic: the next epoch is open
    await second.record(*created(11))
    await second.record(*created(12))
    # killed here: no final checkpoint

    third = projection(mongo_db)
    at_third = await third.counts()
    recounted = await third._count(None)
    snap = await Snapshots(mongo_db["snapshots"]).load(SNAPSHOT)

    assert (first.loaded_from, second.loaded_from) == ("full recount", "snapshot")
    assert at_first == {hotline: 5}
    assert at_second == {hotline: 5, web: 3}
    assert third.loaded_from.startswith("snapshot + epochs")
    assert at_third == dict(recounted) == {hotline: 8, web: 3}
    assert snap is not None and dict((k, n) for k, n in snap.payload) == {hotline: 8, web: 3}  # saved after reading the tail


async def test_a_checkpoint_waits_for_the_closing_epochs_writes(mongo_db: Any) -> None:
    import asyncio

    tally = projection(mongo_db)
    await tally.counts()
    writes = [asyncio.create_task(tally.record(*created(n))) for n in range(20)]
    await asyncio.sleep(0)
    saved = await tally.checkpoint()
    await asyncio.gather(*writes)
    again = projection(mongo_db)

    assert saved
    assert (await again.counts()) == {'["tickets_created",["hotline","RS-REPAIR"]]': 20}
