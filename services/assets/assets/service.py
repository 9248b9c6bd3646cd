"""Assets use cases."""

from __future__ import annotations

from datetime import datetime

from opsdesk_shared.contracts import Envelope
from opsdesk_shared.contracts.repairs import RepairStatus

from . import domain
from .domain import Asset, Repair
from .ports import AssetRegister, EventOutbox, RepairStore

PRODUCER = "assets"


class UnknownAsset(LookupError):
    pass


async def lookup_asset(tag: str, *, register: AssetRegister) -> Asset | None:
    return await register.get(tag)


async def open_repair(
    *, asset_tag: str, vendor: str | None, ticket_id: str | None, note: str | None,
    register: AssetRegister, repairs: RepairStore, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Repair:
    asset = await register.get(asset_tag)
    if asset is None:
        raise UnknownAsset(asset_tag)
    repair, event = domain.open_repair(asset=asset, vendor=vendor, ticket_id=ticket_id, note=note, now=now)
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=asset_tag, occurred_at=now)
    await repairs.add(repair, [envelope])
    await register.set_status(asset_tag, "in_repair")
    await outbox.deliver(repair.id, [envelope])
    return repair


async def update_repair(
    repair_id: str, *, status: RepairStatus, note: str | None,
    repairs: RepairStore, register: AssetRegister, outbox: EventOutbox, now: datetime, correlation_id: str,
) -> Repair:
    repair = await repairs.get(repair_id)
    if repair is None:
        raise LookupError(repair_id)
    updated, event = domain.change_status(repair, status=status, note=note, now=now)
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=repair.asset_tag, occurred_at=now)
    updated = await repairs.save(updated, [envelope])
    if status in ("returned", "closed"):
        await register.set_status(repair.asset_tag, "deployed")
    await outbox.deliver(repair.id, [envelope])
    return updated


async def report_repair_progress(
    repair_id: str, *, note: str, repairs: RepairStore, outbox: EventOutbox, now: datetime, correlation_id: str
) -> Repair:
    repair = await repairs.get(repair_id)
    if repair is None:
        raise LookupError(repair_id)
    updated, event = domain.report_progress(repair, note=note, now=now)
    envelope = Envelope.wrap(event, producer=PRODUCER, correlation_id=correlation_id, subject_id=repair.asset_tag, occurred_at=now)
    updated = await repairs.save(updated, [envelope])
    await outbox.deliver(repair.id, [envelope])
    return updated
