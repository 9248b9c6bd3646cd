"""The register: lifecycle transitions, types and their attributes, tag allocation, versions and 'as of'."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from assets import domain, service
from assets.domain import ASSET_STATUSES, ASSET_TRANSITIONS, Asset, CiType, IllegalAssetTransition, Location
from assets.main import Adapters
from assets.service import Ctx
from opsdesk_shared.contracts.cmdb import CiChangedV1

LEGAL = [(a, b) for a in ASSET_STATUSES for b in sorted(ASSET_TRANSITIONS[a])]  # sorted: the same ids in every xdist worker
ILLEGAL = [(a, b) for a in ASSET_STATUSES for b in ASSET_STATUSES if b not in ASSET_TRANSITIONS[a]]


def ctx(now: datetime, by: str = "tester") -> Ctx:
    return Ctx(by=by, now=now, correlation_id="corr-test")


def draft(**kw: Any) -> Asset:
    fields: dict[str, Any] = {"tag": "", "type": "desktop", "model": "ThinkCentre", "location": Location(building="主樓", floor="2", room="205"),
                              "department": "財務科", "owner": "王小明", "status": "in_stock"}
    fields.update(kw)
    return Asset(**fields)


async def register(world: Adapters, now: datetime, **kw: Any) -> Asset:
    return await service.register_asset(draft(**kw), register=world.register, types=world.types, ctx=ctx(now),
                                        tag_pattern=world.tag_pattern, tag_prefix=world.tag_prefix, nodes=world.graph)


def test_lifecycle_table_covers_every_status_and_disposed_is_final() -> None:
    assert set(ASSET_TRANSITIONS) == set(ASSET_STATUSES)
    assert ASSET_TRANSITIONS["disposed"] == frozenset()
    assert "deployed" not in ASSET_TRANSITIONS["ordered"]  # it must arrive in stock first


@pytest.mark.parametrize(("current", "wanted"), LEGAL)
async def test_legal_lifecycle_step_is_stored_as_a_new_version(current: str, wanted: str, world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0, status=current)

    moved = await service.change_asset_status(asset.tag, wanted, register=world.register, ctx=ctx(t0 + timedelta(hours=1)))

    assert (moved.status, moved.version) == (wanted, 2)
    history = await service.asset_history(asset.tag, register=world.register)
    assert [(v.version, v.change) for v in history] == [(1, "created"), (2, "status_changed")]
    assert history[1].changes == {"status": {"old": current, "new": wanted}}


@pytest.mark.parametrize(("current", "wanted"), ILLEGAL)
async def test_illegal_lifecycle_step_is_refused_listing_the_allowed_ones(current: str, wanted: str, world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0, status=current)

    with pytest.raises(IllegalAssetTransition) as caught:
        await service.change_asset_status(asset.tag, wanted, register=world.register, ctx=ctx(t0))

    assert caught.value.allowed == sorted(ASSET_TRANSITIONS[current])
    assert (await world.register.get(asset.tag)).version == 1  # type: ignore[union-attr]


async def test_tags_are_allocated_in_the_configured_format_and_in_sequence(world: Adapters, t0: datetime) -> None:
    first = await register(world, t0)
    second = await register(world, t0)

    assert (first.tag, second.tag) == ("GZ-2026-000001", "GZ-2026-000002")


def test_tag_format_is_configurable_and_refuses_patterns_making_bad_tags() -> None:
    assert domain.format_tag("{prefix}{year}{seq:05d}", prefix="HQ", year=2027, seq=42) == "HQ202700042"
    with pytest.raises(ValueError):
        domain.format_tag("{prefix}.{seq}", prefix="GZ", year=2026, seq=1)


async def test_a_given_tag_that_is_taken_is_refused(world: Adapters, t0: datetime) -> None:
    from assets.ports import DuplicateKey

    await register(world, t0, tag="GZ-X-1")
    with pytest.raises(DuplicateKey):
        await register(world, t0, tag="GZ-X-1")


async def test_attributes_are_checked_and_coerced_against_the_type(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0, attributes={"ram_gb": "16", "image_version": "W11-2026.03"})
    assert asset.attributes == {"ram_gb": 16, "image_version": "W11-2026.03"}

    with pytest.raises(service.InvalidAsset) as caught:
        await register(world, t0, attributes={"ram_gb": "lots", "colour": True})
    assert sorted(f for f, _ in caught.value.errors) == ["attributes.colour", "attributes.ram_gb"]


async def test_unknown_type_is_refused(world: Adapters, t0: datetime) -> None:
    with pytest.raises(service.InvalidAsset) as caught:
        await register(world, t0, type="toaster")
    assert caught.value.errors[0][0] == "type"


async def test_a_new_type_is_data_not_code(world: Adapters, t0: datetime) -> None:
    ups = CiType(code="ups", name="不間斷電源", attributes=(domain.AttributeSpec(name="kva", kind="number", required=True),))
    await service.put_ci_type(ups, types=world.types)

    asset = await register(world, t0, type="ups", attributes={"kva": "3"})

    assert asset.attributes == {"kva": 3.0}
    with pytest.raises(service.InvalidAsset):
        await register(world, t0, type="ups", attributes={})  # kva is required
    assert "ups" in await service.ci_types(world.types)


async def test_every_change_is_versioned_with_who_when_and_what(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0)
    t1, t2 = t0 + timedelta(days=1), t0 + timedelta(days=2)
    await service.update_asset(asset.tag, {"owner": "李華", "location": {"building": "主樓", "floor": "3", "room": "301"}},
                               register=world.register, types=world.types, ctx=ctx(t1, by="agent-7"))
    await service.update_asset(asset.tag, {"attributes": {"image_version": "W11-2026.06"}}, register=world.register,
                               types=world.types, ctx=ctx(t2, by="agent-8"))

    history = await service.asset_history(asset.tag, register=world.register)

    assert [(v.version, v.by, v.at) for v in history] == [(1, "tester", t0), (2, "agent-7", t1), (3, "agent-8", t2)]
    assert history[1].changes == {
        "owner": {"old": "王小明", "new": "李華"},
        "location/floor": {"old": "2", "new": "3"},
        "location/room": {"old": "205", "new": "301"},
    }
    assert history[2].changes == {"attributes/image_version": {"old": None, "new": "W11-2026.06"}}


async def test_configuration_as_of_a_past_date_is_the_latest_version_then(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0)
    await service.update_asset(asset.tag, {"owner": "李華"}, register=world.register, types=world.types, ctx=ctx(t0 + timedelta(days=10)))

    before = await service.asset_as_of(asset.tag, t0 + timedelta(days=5), register=world.register)
    after = await service.asset_as_of(asset.tag, t0 + timedelta(days=11), register=world.register)
    too_early = await service.asset_as_of(asset.tag, t0 - timedelta(seconds=1), register=world.register)

    assert before is not None and before.owner == "王小明" and before.version == 1
    assert after is not None and after.owner == "李華" and after.version == 2
    assert too_early is None


async def test_an_update_that_changes_nothing_stores_no_version(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0)

    same = await service.update_asset(asset.tag, {"owner": asset.owner}, register=world.register, types=world.types, ctx=ctx(t0))

    assert same.version == 1
    assert len(await service.asset_history(asset.tag, register=world.register)) == 1


async def test_each_version_publishes_ci_changed(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0)
    await service.change_asset_status(asset.tag, "deployed", register=world.register, ctx=ctx(t0))

    events = [CiChangedV1.model_validate(e.data) for e in world.register.outbox.published]  # type: ignore[attr-defined]

    assert [(e.tag, e.change, e.version, e.status) for e in events] == [
        (asset.tag, "created", 1, "in_stock"), (asset.tag, "status_changed", 2, "deployed")
    ]


async def test_status_cannot_be_changed_through_an_update(world: Adapters, t0: datetime) -> None:
    asset = await register(world, t0)

    with pytest.raises(service.InvalidAsset):
        await service.update_asset(asset.tag, {"status": "disposed"}, register=world.register, types=world.types, ctx=ctx(t0))
