"""Assets use cases on memory adapters: opening and moving repairs keeps the register's status in step."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from assets import service
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.domain import Asset, IllegalTransition
from assets.ports import ConcurrentUpdate
from opsdesk_shared.contracts import RepairUpdatedV1, subjects


class World:
    def __init__(self, *assets: Asset) -> None:
        self.register = MemoryAssetRegister(assets)
        self.repairs = MemoryRepairStore()
        self.outbox = MemoryOutbox()

    async def open(self, tag: str, now: datetime, *, vendor: str | None = None, correlation_id: str = "corr-1") -> object:
        return await service.open_repair(
            asset_tag=tag, vendor=vendor, ticket_id="tkt-1", note="broken", register=self.register, repairs=self.repairs,
            outbox=self.outbox, now=now, correlation_id=correlation_id,
        )

    async def move(self, repair_id: str, status: str, now: datetime) -> object:
        return await service.update_repair(
            repair_id, status=status, note=None, repairs=self.repairs, register=self.register,  # type: ignore[arg-type]
            outbox=self.outbox, now=now, correlation_id="corr-2",
        )


async def test_lookup_asset_finds_by_tag(asset: Asset) -> None:
    register = MemoryAssetRegister([asset])

    assert await service.lookup_asset(asset.tag, register=register) == asset
    assert await service.lookup_asset("GZ-NOPE", register=register) is None


async def test_open_repair_puts_the_asset_in_repair_and_publishes(asset: Asset, t0: datetime) -> None:
    world = World(asset)

    repair = await world.open(asset.tag, t0, correlation_id="corr-open")

    assert (await world.register.get(asset.tag)).status == "in_repair"
    assert await world.repairs.get(repair.id) == repair
    (envelope,) = world.outbox.published
    assert (envelope.type, envelope.producer, envelope.correlation_id, envelope.subject_id) == (
        subjects.REPAIR_UPDATED, service.PRODUCER, "corr-open", asset.tag
    )
    event = RepairUpdatedV1.model_validate(envelope.data)
    assert (event.repair_id, event.status, event.vendor) == (repair.id, "open", asset.vendor)


async def test_open_repair_for_unknown_asset_raises_and_changes_nothing(asset: Asset, t0: datetime) -> None:
    world = World(asset)

    with pytest.raises(service.UnknownAsset):
        await world.open("GZ-NOPE", t0)

    assert world.repairs.by_id == {} and world.outbox.published == []
    assert (await world.register.get(asset.tag)).status == "deployed"


async def test_open_repair_with_explicit_vendor_overrides_the_assets(asset: Asset, t0: datetime) -> None:
    world = World(asset)

    repair = await world.open(asset.tag, t0, vendor="Local Fixers")

    assert repair.vendor == "Local Fixers"


@pytest.mark.parametrize("path", [["sent_to_vendor", "returned"], ["in_progress", "closed"], ["closed"]])
async def test_asset_is_deployed_again_when_the_repair_is_returned_or_closed(path: list[str], asset: Asset, t0: datetime) -> None:
    world = World(asset)
    repair = await world.open(asset.tag, t0)

    for i, status in enumerate(path[:-1], start=1):
        await world.move(repair.id, status, t0 + timedelta(hours=i))
        assert (await world.register.get(asset.tag)).status == "in_repair"
    await world.move(repair.id, path[-1], t0 + timedelta(days=1))

    assert (await world.register.get(asset.tag)).status == "deployed"
    assert [RepairUpdatedV1.model_validate(e.data).status for e in world.outbox.published] == ["open", *path]


async def test_asset_stays_in_repair_while_with_the_vendor(asset: Asset, t0: datetime) -> None:
    world = World(asset)
    repair = await world.open(asset.tag, t0)

    updated = await world.move(repair.id, "sent_to_vendor", t0 + timedelta(hours=1))

    assert updated.status == "sent_to_vendor"
    assert (await world.repairs.get(repair.id)).status == "sent_to_vendor"
    assert (await world.register.get(asset.tag)).status == "in_repair"


async def test_update_unknown_repair_raises_lookup_error(asset: Asset, t0: datetime) -> None:
    world = World(asset)

    with pytest.raises(LookupError):
        await world.move("no-such-repair", "closed", t0)

    assert world.outbox.published == []


async def test_illegal_update_changes_nothing(asset: Asset, t0: datetime) -> None:
    world = World(asset)
    repair = await world.open(asset.tag, t0)

    with pytest.raises(IllegalTransition):
        await world.move(repair.id, "returned", t0 + timedelta(hours=1))

    assert (await world.repairs.get(repair.id)).status == "open"
    assert len(world.outbox.published) == 1
    assert (await world.register.get(asset.tag)).status == "in_repair"


async def test_saved_update_bumps_the_stored_version(asset: Asset, t0: datetime) -> None:
    world = World(asset)
    repair = await world.open(asset.tag, t0)

    await world.move(repair.id, "in_progress", t0 + timedelta(hours=1))
    await world.move(repair.id, "closed", t0 + timedelta(hours=2))

    assert (await world.repairs.get(repair.id)).version == 3


async def test_memory_store_refuses_a_stale_save(asset: Asset, t0: datetime) -> None:
    world = World(asset)
    repair = await world.open(asset.tag, t0)
    await world.move(repair.id, "in_progress", t0 + timedelta(hours=1))

    with pytest.raises(ConcurrentUpdate):
        await world.repairs.save(repair.model_copy(update={"status": "closed"}), [])
