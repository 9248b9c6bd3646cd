"""Repair flow: vendor and in-house paths, the events they publish, and what the SLA monitor makes of them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from assets import domain, service
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.domain import Asset, IllegalAssetTransition, Location
from opsdesk_shared.contracts import RepairUpdatedV1


class World:
    def __init__(self, *assets: Asset) -> None:
        self.register = MemoryAssetRegister(assets)
        self.repairs = MemoryRepairStore()
        self.outbox = MemoryOutbox()

    def common(self, now: datetime) -> dict[str, Any]:
        return {"register": self.register, "repairs": self.repairs, "outbox": self.outbox, "now": now, "correlation_id": "c"}

    async def open(self, tag: str, now: datetime, **kw: Any) -> domain.Repair:
        return await service.open_repair(asset_tag=tag, vendor=kw.pop("vendor", None), ticket_id="tkt-1", note="黑屏", **kw, **self.common(now))

    async def move(self, repair_id: str, stage: str, now: datetime, **kw: Any) -> domain.Repair:
        return await service.update_repair(repair_id, status=stage, note=kw.pop("note", None), **kw, **self.common(now))  # type: ignore[arg-type]

    def events(self) -> list[RepairUpdatedV1]:
        return [RepairUpdatedV1.model_validate(e.data) for e in self.outbox.published]


def laptop(tag: str = "GZ-R-1", status: str = "deployed", warranty_end: date | None = None) -> Asset:
    return Asset(tag=tag, type="laptop", model="T14", location=Location(building="主樓"), vendor="聯想",
                 status=status, warranty_end=warranty_end)  # type: ignore[arg-type]


async def test_vendor_repair_flow_publishes_every_step_with_stage_and_compatible_status(t0: datetime) -> None:
    world = World(laptop())
    repair = await world.open("GZ-R-1", t0, vendor="聯想服務站", kind="vendor", transport_arranged=True)
    steps = [("sent_to_vendor", 1), ("at_vendor", 2), ("repaired", 50), ("returned", 72), ("closed", 73)]
    for stage, hours in steps:
        await world.move(repair.id, stage, t0 + timedelta(hours=hours))

    events = world.events()
    assert [(e.stage, e.status) for e in events] == [
        ("open", "open"), ("sent_to_vendor", "sent_to_vendor"), ("at_vendor", "sent_to_vendor"),
        ("repaired", "sent_to_vendor"), ("returned", "returned"), ("closed", "closed"),
    ]
    assert all(e.repair_id == repair.id and e.ticket_id == "tkt-1" and e.repair_kind == "vendor" for e in events)
    sent = t0 + timedelta(hours=1)
    assert {e.sent_at for e in events[1:]} == {sent}  # the return clock's start, on every later event
    assert [e.last_progress_at for e in events[1:4]] == [sent, t0 + timedelta(hours=2), t0 + timedelta(hours=50)]
    assert events[0].transport_arranged is True


async def test_progress_note_keeps_the_stage_and_moves_the_progress_clock(t0: datetime) -> None:
    world = World(laptop())
    repair = await world.open("GZ-R-1", t0)
    await world.move(repair.id, "sent_to_vendor", t0)
    await world.move(repair.id, "at_vendor", t0 + timedelta(hours=3))

    later = t0 + timedelta(days=2)
    updated = await service.report_repair_progress(repair.id, note="主板已到貨", repairs=world.repairs, outbox=world.outbox,
                                                    now=later, correlation_id="c")

    last = world.events()[-1]
    assert (updated.status, last.stage, last.status, last.progress, last.note) == ("at_vendor", "at_vendor", "sent_to_vendor", True, "主板已到貨")
    assert last.last_progress_at == later and last.sent_at == t0


async def test_written_off_repair_retires_the_asset_and_reads_as_closed(t0: datetime) -> None:
    world = World(laptop())
    repair = await world.open("GZ-R-1", t0)
    await world.move(repair.id, "sent_to_vendor", t0)
    await world.move(repair.id, "written_off", t0 + timedelta(days=3), note="主板燒毀, 不經濟維修")

    assert (await world.register.get("GZ-R-1")).status == "retired"  # type: ignore[union-attr]
    assert (world.events()[-1].stage, world.events()[-1].status) == ("written_off", "closed")


async def test_returned_item_goes_back_to_the_status_it_had(t0: datetime) -> None:
    world = World(laptop(status="in_stock"))
    repair = await world.open("GZ-R-1", t0)
    assert (await world.register.get("GZ-R-1")).status == "in_repair"  # type: ignore[union-attr]

    await world.move(repair.id, "in_progress", t0)
    await world.move(repair.id, "returned", t0 + timedelta(hours=5))

    assert (await world.register.get("GZ-R-1")).status == "in_stock"  # type: ignore[union-attr]


async def test_repair_of_a_disposed_item_is_refused(t0: datetime) -> None:
    world = World(laptop(status="disposed"))

    with pytest.raises(IllegalAssetTransition):
        await world.open("GZ-R-1", t0)
    assert world.repairs.by_id == {}


async def test_billing_defaults_to_warranty_while_the_warranty_runs(t0: datetime) -> None:
    world = World(laptop("GZ-W-1", warranty_end=t0.date() + timedelta(days=30)), laptop("GZ-W-2", warranty_end=t0.date() - timedelta(days=1)))

    covered = await world.open("GZ-W-1", t0)
    expired = await world.open("GZ-W-2", t0)
    forced = await world.open("GZ-W-1", t0, billing="paid")

    assert (covered.billing, expired.billing, forced.billing) == ("warranty", "paid", "paid")


async def test_the_asset_status_changes_of_a_repair_are_versioned(t0: datetime) -> None:
    world = World(laptop())
    repair = await world.open("GZ-R-1", t0, by="eng-1")
    await world.move(repair.id, "in_progress", t0)
    await world.move(repair.id, "closed", t0 + timedelta(hours=2), by="eng-1")

    history = await world.register.history("GZ-R-1")
    assert [(v.snapshot.status, v.by) for v in history] == [("in_repair", "eng-1"), ("deployed", "eng-1")]


async def test_the_sla_monitor_starts_restarts_and_stops_repair_clocks_from_these_events(t0: datetime) -> None:
    """The contract test that matters: the monitor only knows the five original statuses."""
    sla = pytest.importorskip("sla_monitor.service")
    from sla_monitor import calendar_service
    from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryTimerStore

    book = await calendar_service.load_book(MemoryCalendarStore())
    store = MemoryTimerStore()
    world = World(laptop())
    repair = await world.open("GZ-R-1", t0)
    await world.move(repair.id, "sent_to_vendor", t0 + timedelta(hours=1))
    await world.move(repair.id, "at_vendor", t0 + timedelta(hours=30))
    await world.move(repair.id, "written_off", t0 + timedelta(hours=60))

    outcomes = [await sla.on_repair_updated(e, book=book, store=store) for e in world.events()]

    assert outcomes == ["ignored", "started", "progress", "stopped"]
