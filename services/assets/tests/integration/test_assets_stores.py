"""Assets' stores on the real database; the RepairStore contract also runs against the memory store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from assets import domain, service
from assets.adapters.memory import MemoryOutbox
from assets.adapters.mongo import MongoAssetRegister, MongoRepairStore
from assets.domain import Asset, Repair
from assets.ports import ConcurrentUpdate
from opsdesk_shared.contracts import Envelope, RepairUpdatedV1
from opsdesk_shared.outbox import OUTBOX_FIELD

pytestmark = pytest.mark.integration


def opened(asset: Asset, t0: datetime) -> tuple[Repair, list[Envelope]]:
    repair, event = domain.open_repair(asset=asset, vendor=None, ticket_id="tkt-1", note="dead fan", now=t0)
    return repair, [Envelope.wrap(event, producer="assets", correlation_id="c", subject_id=asset.tag, occurred_at=t0)]


def changed(repair: Repair, status: str, now: datetime) -> tuple[Repair, list[Envelope]]:
    updated, event = domain.change_status(repair, status=status, note=status, now=now)  # type: ignore[arg-type]
    return updated, [Envelope.wrap(event, producer="assets", correlation_id="c", subject_id=repair.asset_tag, occurred_at=now)]


async def test_added_repair_reads_back_equal(repair_store: Any, asset: Asset, t0: datetime) -> None:
    repair, events = opened(asset, t0)

    await repair_store.add(repair, events)

    assert await repair_store.get(repair.id) == repair


async def test_get_unknown_repair_is_none(repair_store: Any) -> None:
    assert await repair_store.get("no-such-repair") is None


async def test_save_at_the_current_version_bumps_it(repair_store: Any, asset: Asset, t0: datetime) -> None:
    repair, events = opened(asset, t0)
    await repair_store.add(repair, events)
    updated, more = changed(repair, "sent_to_vendor", t0 + timedelta(hours=1))

    await repair_store.save(updated, more)

    stored = await repair_store.get(repair.id)
    assert stored == updated.model_copy(update={"version": 2})
    assert [h.status for h in stored.history] == ["open", "sent_to_vendor"]


async def test_save_with_a_stale_version_raises_concurrent_update(repair_store: Any, asset: Asset, t0: datetime) -> None:
    repair, events = opened(asset, t0)
    await repair_store.add(repair, events)
    first, e1 = changed(repair, "in_progress", t0 + timedelta(hours=1))
    second, e2 = changed(repair, "closed", t0 + timedelta(hours=2))  # loaded before `first` was saved
    await repair_store.save(first, e1)

    with pytest.raises(ConcurrentUpdate):
        await repair_store.save(second, e2)

    stored = await repair_store.get(repair.id)
    assert stored.status == "in_progress" and stored.version == 2


async def test_save_of_an_unknown_repair_raises_concurrent_update(repair_store: Any, asset: Asset, t0: datetime) -> None:
    repair, _ = opened(asset, t0)

    with pytest.raises(ConcurrentUpdate):
        await repair_store.save(repair, [])


async def test_mongo_repair_document_accumulates_its_outbox(mongo_repair_store: MongoRepairStore, asset: Asset, t0: datetime) -> None:
    repair, events = opened(asset, t0)
    await mongo_repair_store.add(repair, events)
    updated, more = changed(repair, "sent_to_vendor", t0 + timedelta(hours=1))

    await mongo_repair_store.save(updated, more)

    doc = await mongo_repair_store.collection.find_one({"_id": repair.id})
    assert [e["event_id"] for e in doc[OUTBOX_FIELD]] == [str(events[0].event_id), str(more[0].event_id)]


async def test_seeded_asset_reads_back_equal(mongo_register: MongoAssetRegister, asset: Asset) -> None:
    await mongo_register.seed([asset])

    assert await mongo_register.get(asset.tag) == asset
    assert await mongo_register.get("GZ-NOPE") is None


async def test_seed_does_not_overwrite_an_existing_asset(mongo_register: MongoAssetRegister, asset: Asset) -> None:
    await mongo_register.seed([asset])
    await mongo_register.set_status(asset.tag, "in_repair")

    await mongo_register.seed([asset])

    assert (await mongo_register.get(asset.tag)).status == "in_repair"


async def test_demo_register_seeds_every_asset(mongo_register: MongoAssetRegister) -> None:
    await mongo_register.seed(domain.DEMO_REGISTER)

    for asset in domain.DEMO_REGISTER:
        assert await mongo_register.get(asset.tag) == asset


async def test_repair_lifecycle_on_the_database_keeps_the_register_in_step(
    mongo_register: MongoAssetRegister, mongo_repair_store: MongoRepairStore, asset: Asset, t0: datetime
) -> None:
    await mongo_register.seed([asset])
    outbox = MemoryOutbox()
    common: dict[str, Any] = {"register": mongo_register, "repairs": mongo_repair_store, "outbox": outbox, "correlation_id": "c-1"}

    repair = await service.open_repair(asset_tag=asset.tag, vendor=None, ticket_id=None, note=None, now=t0, **common)
    assert (await mongo_register.get(asset.tag)).status == "in_repair"
    await service.update_repair(repair.id, status="sent_to_vendor", note=None, now=t0 + timedelta(hours=1), **common)
    assert (await mongo_register.get(asset.tag)).status == "in_repair"
    await service.update_repair(repair.id, status="returned", note=None, now=t0 + timedelta(days=3), **common)

    assert (await mongo_register.get(asset.tag)).status == "deployed"
    stored = await mongo_repair_store.get(repair.id)
    assert (stored.status, stored.version, stored.vendor) == ("returned", 3, asset.vendor)
    assert [RepairUpdatedV1.model_validate(e.data).status for e in outbox.published] == ["open", "sent_to_vendor", "returned"]
