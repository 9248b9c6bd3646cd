"""Assets and repair records: pure rules, no I/O."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from opsdesk_shared.contracts import RepairUpdatedV1
from opsdesk_shared.contracts.repairs import RepairStatus

AssetStatus = Literal["ordered", "in_stock", "deployed", "in_repair", "on_loan", "retired", "disposed"]


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    building: str
    floor: str | None = None
    room: str | None = None


class Asset(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag: str
    type: str
    model: str
    serial: str | None = None
    location: Location
    owner: str | None = None
    department: str | None = None
    vendor: str | None = None
    status: AssetStatus = "deployed"


class RepairChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: RepairStatus
    at: datetime
    note: str | None = None


class Repair(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    asset_tag: str
    status: RepairStatus
    vendor: str | None = None
    ticket_id: str | None = None
    opened_at: datetime
    updated_at: datetime
    history: tuple[RepairChange, ...] = ()
    version: int = 1


class IllegalTransition(Exception):
    def __init__(self, current: RepairStatus, wanted: RepairStatus) -> None:
        super().__init__(f"a repair cannot go from {current} to {wanted}")
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(REPAIR_TRANSITIONS[current])


REPAIR_TRANSITIONS: dict[RepairStatus, set[RepairStatus]] = {
    "open": {"sent_to_vendor", "in_progress", "closed"},
    "sent_to_vendor": {"returned"},
    "in_progress": {"returned", "closed"},
    "returned": {"closed"},
    "closed": set(),
}


def _event(repair: Repair, note: str | None) -> RepairUpdatedV1:
    return RepairUpdatedV1(
        repair_id=repair.id, asset_tag=repair.asset_tag, status=repair.status, vendor=repair.vendor,
        note=note, ticket_id=repair.ticket_id, updated_at=repair.updated_at,
    )


def open_repair(
    *, asset: Asset, vendor: str | None, ticket_id: str | None, note: str | None, now: datetime
) -> tuple[Repair, RepairUpdatedV1]:
    repair = Repair(
        id=str(uuid.uuid4()), asset_tag=asset.tag, status="open", vendor=vendor or asset.vendor, ticket_id=ticket_id,
        opened_at=now, updated_at=now, history=(RepairChange(status="open", at=now, note=note),),
    )
    return repair, _event(repair, note)


class NotAtVendor(Exception):
    """A progress report only makes sense while the device is with the vendor."""


def report_progress(repair: Repair, *, note: str, now: datetime) -> tuple[Repair, RepairUpdatedV1]:
    """The vendor's written progress update (the contract wants one every 3 working days): same status, a note."""
    if repair.status != "sent_to_vendor":
        raise NotAtVendor(f"repair {repair.id} is {repair.status}, not with a vendor")
    updated = repair.model_copy(
        update={"updated_at": now, "history": (*repair.history, RepairChange(status=repair.status, at=now, note=note))}
    )
    return updated, _event(updated, note)


def change_status(repair: Repair, *, status: RepairStatus, note: str | None, now: datetime) -> tuple[Repair, RepairUpdatedV1]:
    if status not in REPAIR_TRANSITIONS[repair.status]:
        raise IllegalTransition(repair.status, status)
    updated = repair.model_copy(
        update={"status": status, "updated_at": now, "history": (*repair.history, RepairChange(status=status, at=now, note=note))}
    )
    return updated, _event(updated, note)


DEMO_REGISTER: tuple[Asset, ...] = (
    Asset(tag="GZ-2026-000001", type="printer", model="HP LaserJet M404dn", serial="PHB1234567", location=Location(building="主樓", floor="3", room="301"), department="辦公室", vendor="惠普"),
    Asset(tag="GZ-2026-000002", type="desktop", model="Lenovo ThinkCentre M70t", serial="MJ0A1B2C", location=Location(building="主樓", floor="2", room="205"), owner="王小明", department="財務科", vendor="聯想"),
    Asset(tag="GZ-2026-000003", type="laptop", model="Lenovo ThinkPad T14", serial="PF3XYZ12", location=Location(building="主樓", floor="4", room="402"), owner="李華", department="人事科", vendor="聯想"),
    Asset(tag="GZ-2026-000004", type="network_device", model="Huawei S5735-L24T4S", location=Location(building="主樓", floor="1", room="機房"), department="信息中心", vendor="華為"),
    Asset(tag="GZ-2026-000005", type="server", model="Inspur NF5280M6", location=Location(building="主樓", floor="1", room="機房"), department="信息中心", vendor="浪潮"),
    Asset(tag="GZ-2026-000006", type="scanner", model="Canon DR-C225", location=Location(building="副樓", floor="1", room="103"), department="檔案室", vendor="佳能"),
)
