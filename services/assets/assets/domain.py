"""Assets (configuration items) and repair records: pure rules, no I/O."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts import RepairUpdatedV1
from opsdesk_shared.contracts.cmdb import CiChange, CiChangedV1
from opsdesk_shared.contracts.repairs import RepairStage, RepairStatus

from .texts import Said, said_of

AssetStatus = Literal["ordered", "in_stock", "deployed", "in_repair", "on_loan", "retired", "disposed"]
ASSET_STATUSES: tuple[AssetStatus, ...] = ("ordered", "in_stock", "deployed", "in_repair", "on_loan", "retired", "disposed")

# The lifecycle: which status may follow which. A repair or a loan moves an item through these too.
ASSET_TRANSITIONS: dict[str, frozenset[str]] = {
    "ordered": frozenset({"in_stock", "disposed"}),
    "in_stock": frozenset({"deployed", "on_loan", "in_repair", "retired"}),
    "deployed": frozenset({"in_stock", "in_repair", "retired"}),
    "in_repair": frozenset({"deployed", "in_stock", "on_loan", "retired"}),
    "on_loan": frozenset({"in_stock", "in_repair"}),
    "retired": frozenset({"in_stock", "disposed"}),
    "disposed": frozenset(),
}

TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    building: str
    floor: str | None = None
    room: str | None = None

    def label(self) -> str:
        return "/".join(p for p in (self.building, self.floor, self.room) if p)


class Asset(BaseModel):
    """A configuration item; `attributes` hold the fields its type defines."""

    model_config = ConfigDict(frozen=True)

    tag: str
    type: str
    model: str = ""
    serial: str | None = None
    location: Location
    owner: str | None = None
    department: str | None = None
    vendor: str | None = None
    status: AssetStatus = "deployed"
    name: str | None = None
    purchase_date: date | None = None
    warranty_end: date | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)
    version: int = 1

    def under_warranty(self, on: date) -> bool:
        return self.warranty_end is not None and on <= self.warranty_end


class IllegalAssetTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(Said("err.asset_step", current=current, wanted=wanted))
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(ASSET_TRANSITIONS[current])


def check_status_change(current: str, wanted: str) -> None:
    if wanted not in ASSET_TRANSITIONS[current]:
        raise IllegalAssetTransition(current, wanted)


# --- types with their own attributes -------------------------------------------------------------------------

AttributeKind = Literal["text", "int", "number", "date", "bool", "choice"]


class AttributeSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    kind: AttributeKind = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    label: str | None = None


class CiType(BaseModel):
    """A configuration item type; new ones are data (PUT /asset-types/{code}), not code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    name: str
    attributes: tuple[AttributeSpec, ...] = ()
    # Applications and business services are what impact analysis reports; network items pass a failure on to
    # whatever is connected_to them; the rest is infrastructure.
    category: Literal["hardware", "network", "software", "application", "business_service"] = "hardware"
    # The agency's oversight (issue 16; oversight.py): a change to an item of this type needs a ticket the agency
    # authorized naming it, and so does sending a device that holds data out for repair.
    requires_authorization: bool = Field(default=False, description="A change needs an authorized ticket naming the item")
    has_storage: bool = Field(default=False, description="Holds data: sent out for repair only under an authorized ticket")


def _a(name: str, kind: AttributeKind = "text", **kw: Any) -> AttributeSpec:
    return AttributeSpec(name=name, kind=kind, **kw)


_PC = (_a("cpu"), _a("ram_gb", "int"), _a("os"), _a("image_version"))
BUILTIN_TYPES: tuple[CiType, ...] = (
    CiType(code="desktop", name="台式机", attributes=_PC),
    CiType(code="laptop", name="笔记本", attributes=_PC),
    CiType(code="printer", name="打印机", attributes=(_a("colour", "bool"), _a("network", "bool"))),
    CiType(code="scanner", name="扫描仪", attributes=(_a("duplex", "bool"),)),
    CiType(code="server", name="服务器", attributes=(_a("cpu"), _a("ram_gb", "int"), _a("os"), _a("rack"))),
    CiType(code="network_device", name="网络设备", category="network", attributes=(_a("ports", "int"), _a("mgmt_ip"))),
    CiType(code="storage", name="存储", attributes=(_a("capacity_tb", "number"),)),
    CiType(code="software_licence", name="软件许可", category="software",
           attributes=(_a("product", required=True), _a("seats", "int"), _a("expires", "date"))),
    CiType(code="application", name="应用系统", category="application", attributes=(_a("version"), _a("owner_team"))),
    CiType(code="business_service", name="业务服务", category="business_service",
           attributes=(_a("criticality", "choice", choices=("high", "medium", "low")),)),
    # Office devices the desk and the knowledge base name (articles are written for them).
    CiType(code="monitor", name="显示器", attributes=(_a("size_inch", "number"),)),
    CiType(code="projector", name="投影仪", attributes=(_a("lamp_hours", "int"),)),
    CiType(code="copier", name="复印机", attributes=(_a("colour", "bool"), _a("network", "bool"))),
    CiType(code="phone", name="电话机", attributes=(_a("extension"),)),
    CiType(code="video_conference", name="视频会议终端", attributes=(_a("mgmt_ip"),)),
)


def coerce_attribute(spec: AttributeSpec, value: Any) -> Any:
    """The value in the attribute's kind (strings from CSV/XLSX are parsed); ValueError says why not."""
    if value is None or value == "":
        if spec.required:
            raise ValueError(Said("err.required"))
        return None
    if spec.kind == "text":
        return str(value)
    if spec.kind == "int":
        if isinstance(value, bool):
            raise ValueError(Said("err.whole_number"))
        if isinstance(value, float) and value.is_integer():
            return int(value)
        try:
            return int(str(value).strip())
        except ValueError:
            raise ValueError(Said("err.whole_number")) from None
    if spec.kind == "number":
        try:
            return float(str(value).strip())
        except ValueError:
            raise ValueError(Said("err.number")) from None
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "y", "是"):
            return True
        if text in ("false", "no", "0", "n", "否"):
            return False
        raise ValueError(Said("err.yes_no"))
    if spec.kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value).strip()).isoformat()
        except ValueError:
            raise ValueError(Said("err.date")) from None
    if str(value) not in spec.choices:
        raise ValueError(Said("err.one_of", choices=", ".join(spec.choices)))
    return str(value)


def validate_attributes(ci_type: CiType, attributes: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Coerced attributes and the errors (attribute, message); unknown attributes are errors."""
    specs = {s.name: s for s in ci_type.attributes}
    errors: list[tuple[str, str]] = [(name, Said("err.unknown_attribute", type=ci_type.code)) for name in attributes if name not in specs]
    clean: dict[str, Any] = {}
    for spec in ci_type.attributes:
        try:
            value = coerce_attribute(spec, attributes.get(spec.name))
        except ValueError as exc:
            errors.append((spec.name, said_of(exc)))
            continue
        if value is not None:
            clean[spec.name] = value
    return clean, errors


# --- asset tags ----------------------------------------------------------------------------------------------


def format_tag(pattern: str, *, prefix: str, year: int, seq: int) -> str:
    """E.g. pattern "{prefix}-{year}-{seq:06d}" gives GZ-2026-000123."""
    tag = pattern.format(prefix=prefix, year=year, seq=seq)
    if not TAG_RE.match(tag):
        raise ValueError(f"tag pattern {pattern!r} makes an invalid tag {tag!r}")
    return tag


def valid_tag(tag: str) -> bool:
    return bool(TAG_RE.match(tag))


# --- versions ------------------------------------------------------------------------------------------------


class CiVersion(BaseModel):
    """One stored version of an item: who changed what, when, and the item as it then was."""

    model_config = ConfigDict(frozen=True)

    tag: str
    version: int
    at: datetime
    by: str
    change: CiChange
    changes: dict[str, dict[str, Any]] = Field(default_factory=dict)
    snapshot: Asset


def _flat(asset: Asset) -> dict[str, Any]:
    data = asset.model_dump(mode="json", exclude={"version", "location", "attributes"})
    # "/" not ".": the database refuses dots in field names, and these names become keys of stored documents.
    data.update({f"location/{k}": v for k, v in asset.location.model_dump().items()})
    data.update({f"attributes/{k}": v for k, v in asset.attributes.items()})
    return data


def diff(old: Asset | None, new: Asset) -> dict[str, dict[str, Any]]:
    before = _flat(old) if old is not None else {}
    after = _flat(new)
    keys = sorted(set(before) | set(after))
    return {k: {"old": before.get(k), "new": after.get(k)} for k in keys if before.get(k) != after.get(k)}


def new_version(
    old: Asset | None, new: Asset, *, by: str, at: datetime, change: CiChange | None = None
) -> tuple[Asset, CiVersion, CiChangedV1]:
    """The item at its next version, the version record and the event; `old` None for a new registration."""
    number = 1 if old is None else old.version + 1
    stored = new.model_copy(update={"version": number})
    changes = diff(old, stored)
    if change is None:
        change = "created" if old is None else ("status_changed" if set(changes) == {"status"} else "updated")
    record = CiVersion(tag=stored.tag, version=number, at=at, by=by, change=change, changes=changes, snapshot=stored)
    event = CiChangedV1(
        tag=stored.tag, ci_type=stored.type, change=change, version=number, status=stored.status,
        department=stored.department, changes=changes, by=by, changed_at=at,
    )
    return stored, record, event


def as_of(versions: list[CiVersion], when: datetime) -> Asset | None:
    """The item as it was at `when`: the latest version recorded at or before it."""
    chosen = [v for v in versions if v.at <= when]
    return max(chosen, key=lambda v: v.version).snapshot if chosen else None


# --- repairs -------------------------------------------------------------------------------------------------

RepairKind = Literal["in_house", "vendor"]
Billing = Literal["warranty", "paid"]


class RepairChange(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: RepairStage
    at: datetime
    note: str | None = None
    by: str | None = None


class Repair(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    asset_tag: str
    status: RepairStage
    vendor: str | None = None
    ticket_id: str | None = None
    opened_at: datetime
    updated_at: datetime
    history: tuple[RepairChange, ...] = ()
    version: int = 1
    kind: RepairKind = "in_house"
    billing: Billing = "paid"
    transport_arranged: bool = False
    loaner_tag: str | None = None
    fault: str | None = None
    sent_at: datetime | None = None
    last_progress_at: datetime | None = None
    prior_asset_status: str | None = None


class IllegalTransition(Exception):
    def __init__(self, current: RepairStage, wanted: RepairStage) -> None:
        super().__init__(Said("err.repair_step", current=current, wanted=wanted))
        self.current = current
        self.wanted = wanted
        self.allowed = sorted(REPAIR_TRANSITIONS[current])


REPAIR_TRANSITIONS: dict[RepairStage, set[RepairStage]] = {
    "open": {"sent_to_vendor", "in_progress", "closed"},
    "in_progress": {"sent_to_vendor", "returned", "closed", "written_off"},
    "sent_to_vendor": {"at_vendor", "returned", "written_off"},
    "at_vendor": {"repaired", "returned", "written_off"},
    "repaired": {"returned"},
    "returned": {"closed"},
    "written_off": set(),
    "closed": set(),
}
AWAY: frozenset[RepairStage] = frozenset({"sent_to_vendor", "at_vendor", "repaired"})
# What the SLA monitor (which knows the first five) sees in `status`.
STAGE_STATUS: dict[RepairStage, RepairStatus] = {
    "open": "open", "in_progress": "in_progress", "sent_to_vendor": "sent_to_vendor", "at_vendor": "sent_to_vendor",
    "repaired": "sent_to_vendor", "returned": "returned", "written_off": "closed", "closed": "closed",
}


def _event(repair: Repair, note: str | None, *, progress: bool = False) -> RepairUpdatedV1:
    return RepairUpdatedV1(
        repair_id=repair.id, asset_tag=repair.asset_tag, status=STAGE_STATUS[repair.status], vendor=repair.vendor,
        note=note, ticket_id=repair.ticket_id, updated_at=repair.updated_at, stage=repair.status,
        repair_kind=repair.kind, billing=repair.billing, transport_arranged=repair.transport_arranged,
        loaner_tag=repair.loaner_tag, sent_at=repair.sent_at, last_progress_at=repair.last_progress_at, progress=progress,
    )


def open_repair(
    *, asset: Asset, vendor: str | None, ticket_id: str | None, note: str | None, now: datetime,
    kind: RepairKind | None = None, billing: Billing | None = None, transport_arranged: bool = False,
    fault: str | None = None, by: str | None = None,
) -> tuple[Repair, RepairUpdatedV1]:
    """Billing defaults to warranty while the asset's warranty runs; kind to vendor when a vendor is named."""
    repair = Repair(
        id=str(uuid.uuid4()), asset_tag=asset.tag, status="open", vendor=vendor or asset.vendor, ticket_id=ticket_id,
        opened_at=now, updated_at=now, history=(RepairChange(status="open", at=now, note=note, by=by),),
        kind=kind or ("vendor" if vendor else "in_house"),
        billing=billing or ("warranty" if asset.under_warranty(now.date()) else "paid"),
        transport_arranged=transport_arranged, fault=fault or note, prior_asset_status=asset.status,
    )
    return repair, _event(repair, note)


class NotAtVendor(Exception):
    """A progress report only makes sense while the device is with the vendor."""


def report_progress(repair: Repair, *, note: str, now: datetime, by: str | None = None) -> tuple[Repair, RepairUpdatedV1]:
    """The vendor's written progress update (the contract wants one every 3 working days): same status, a note."""
    if repair.status not in AWAY:
        raise NotAtVendor(Said("err.not_at_vendor", id=repair.id, status=repair.status))
    updated = repair.model_copy(update={
        "updated_at": now, "last_progress_at": now,
        "history": (*repair.history, RepairChange(status=repair.status, at=now, note=note, by=by)),
    })
    return updated, _event(updated, note, progress=True)


def change_status(
    repair: Repair, *, status: RepairStage, note: str | None, now: datetime, by: str | None = None,
    transport_arranged: bool | None = None, loaner_tag: str | None = None,
) -> tuple[Repair, RepairUpdatedV1]:
    if status not in REPAIR_TRANSITIONS[repair.status]:
        raise IllegalTransition(repair.status, status)
    update: dict[str, Any] = {
        "status": status, "updated_at": now,
        "history": (*repair.history, RepairChange(status=status, at=now, note=note, by=by)),
    }
    if status == "sent_to_vendor":
        update.update(kind="vendor", sent_at=now, last_progress_at=now)
    elif status in AWAY:
        update["last_progress_at"] = now  # a state change reported by the vendor is a written update too
    if transport_arranged is not None:
        update["transport_arranged"] = transport_arranged
    if loaner_tag is not None:
        update["loaner_tag"] = loaner_tag
    updated = repair.model_copy(update=update)
    return updated, _event(updated, note)


def asset_status_after(repair: Repair) -> str | None:
    """Where the asset goes when its repair reaches this stage (None: it stays in repair)."""
    if repair.status in ("returned", "closed"):
        prior = repair.prior_asset_status
        return prior if prior in ("deployed", "in_stock", "on_loan") else "deployed"
    if repair.status == "written_off":
        return "retired"
    return None


REPAIR_PROGRESS_TIMER = "repair_progress"  # the SLA monitor's repair clocks, as named in its breaches
FINISHED_REPAIR: frozenset[RepairStage] = frozenset({"returned", "closed", "written_off"})


def repair_overdue(repair: Repair, breaches: dict[str, datetime]) -> bool:
    """Overdue: a repair clock the SLA monitor announced as run out (the monitor owns the clocks; assets only
    remembers its breaches) and not answered since. A progress breach is answered by a later progress report;
    the return clock, and any other, by the device coming back."""
    if repair.status in FINISHED_REPAIR:
        return False
    for timer, breached_at in breaches.items():
        answered = timer == REPAIR_PROGRESS_TIMER and repair.last_progress_at is not None and repair.last_progress_at > breached_at
        if not answered:
            return True
    return False


def attach_loaner(repair: Repair, *, loaner_tag: str, now: datetime, by: str | None) -> Repair:
    """The loaner lent while this repair runs, written on the repair (and so on its send-out form). Not announced as
    repair.updated: the loan itself is (cmdb.loaner_changed names the repair), and a repair update while the device
    is away would read to the SLA monitor as the vendor's progress report."""
    note = f"loaner {loaner_tag} lent"
    return repair.model_copy(update={
        "loaner_tag": loaner_tag, "updated_at": now,
        "history": (*repair.history, RepairChange(status=repair.status, at=now, note=note, by=by)),
    })


DEMO_REGISTER: tuple[Asset, ...] = (
    Asset(tag="GZ-2026-000001", type="printer", model="HP LaserJet M404dn", serial="PHB1234567", location=Location(building="主楼", floor="3", room="301"), department="办公室", vendor="惠普"),
    Asset(tag="GZ-2026-000002", type="desktop", model="Lenovo ThinkCentre M70t", serial="MJ0A1B2C", location=Location(building="主楼", floor="2", room="205"), owner="王小明", department="财务科", vendor="联想"),
    Asset(tag="GZ-2026-000003", type="laptop", model="Lenovo ThinkPad T14", serial="PF3XYZ12", location=Location(building="主楼", floor="4", room="402"), owner="李华", department="人事科", vendor="联想"),
    Asset(tag="GZ-2026-000004", type="network_device", model="Huawei S5735-L24T4S", location=Location(building="主楼", floor="1", room="机房"), department="信息中心", vendor="华为"),
    Asset(tag="GZ-2026-000005", type="server", model="Inspur NF5280M6", location=Location(building="主楼", floor="1", room="机房"), department="信息中心", vendor="浪潮"),
    Asset(tag="GZ-2026-000006", type="scanner", model="Canon DR-C225", location=Location(building="副楼", floor="1", room="103"), department="档案室", vendor="佳能"),
)


# A few spare parts in stock for `make run` (seed_demo), so an engineer's service record can take parts from the
# stock on a fresh install (walk 15 found every stock list empty): (part type, site, quantity, minimum).
DEMO_STOCK: tuple[tuple[str, str, int, int], ...] = (
    ("硒鼓 HP 26A", "主楼", 8, 2),
    ("定影组件 HP M404", "主楼", 2, 1),
    ("显示器电源线", "主楼", 20, 5),
    ("USB 键盘", "副楼", 6, 2),
    ("USB 鼠标", "副楼", 10, 3),
)
