"""Baselines and drift, inventory audits, routine inspections: pure rules over plain values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.cmdb import (
    AuditClosedV1,
    AuditDiscrepancy,
    InspectionFinding,
    InspectionKind,
    InspectionRecordedV1,
    TicketRequest,
)
from opsdesk_shared.hanzi import same_text

from .domain import Asset, Location
from .texts import Said

INSPECTION_SERVICE_CODE = "PS-INSPECT"


class Scope(BaseModel):
    """Which items a baseline or an audit covers; every given field must match."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str | None = None
    department: str | None = None
    building: str | None = None
    status: str | None = None

    def matches(self, asset: Asset) -> bool:
        return (
            (self.type is None or asset.type == self.type)
            # Typed names compared script-folded: 財務科 and 主樓 are the register's 财务科 and 主楼.
            and (self.department is None or same_text(asset.department, self.department))
            and (self.building is None or same_text(asset.location.building, self.building))
            and (self.status is None or asset.status == self.status)
        )

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


def field_value(asset: Asset, field: str) -> Any:
    """A field by dotted name: model, status, location.room, attributes.image_version..."""
    if field.startswith("attributes."):
        return asset.attributes.get(field.removeprefix("attributes."))
    if field.startswith("location."):
        return getattr(asset.location, field.removeprefix("location."), None)
    return getattr(asset, field, None)


# --- baselines -----------------------------------------------------------------------------------------------


class Baseline(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    scope: Scope
    fields: tuple[str, ...]
    entries: dict[str, list[Any]] = Field(description="tag -> the values of `fields`, in order, as recorded")
    recorded_at: datetime
    recorded_by: str


class Drift(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag: str
    kind: Literal["changed", "missing", "new"]
    field: str | None = None
    baseline: Any = None
    current: Any = None


def record_baseline(
    *, name: str, scope: Scope, fields: Iterable[str], assets: Iterable[Asset], now: datetime, by: str
) -> Baseline:
    fields = tuple(fields)
    entries = {a.tag: [field_value(a, f) for f in fields] for a in assets if scope.matches(a)}
    return Baseline(id=str(uuid.uuid4()), name=name, scope=scope, fields=fields, entries=entries, recorded_at=now, recorded_by=by)


def drift(baseline: Baseline, assets: Iterable[Asset]) -> list[Drift]:
    """Fields that differ from the baseline; items gone from the scope (missing) or new in it."""
    current = {a.tag: a for a in assets if baseline.scope.matches(a)}
    found: list[Drift] = []
    for tag, recorded in sorted(baseline.entries.items()):
        asset = current.get(tag)
        if asset is None:
            found.append(Drift(tag=tag, kind="missing"))
            continue
        for field, was in zip(baseline.fields, recorded, strict=True):
            now_value = field_value(asset, field)
            if now_value != was:
                found.append(Drift(tag=tag, kind="changed", field=field, baseline=was, current=now_value))
    found.extend(Drift(tag=tag, kind="new") for tag in sorted(set(current) - set(baseline.entries)))
    return found


# --- inventory audits ----------------------------------------------------------------------------------------


class Expected(BaseModel):
    model_config = ConfigDict(frozen=True)

    location: str
    owner: str | None = None


class Sighting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str
    location: Location
    owner: str | None = None
    seen_at: datetime
    seen_by: str


class Audit(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    scope: Scope
    status: Literal["open", "closed"] = "open"
    expected: dict[str, Expected]
    seen: dict[str, Sighting] = Field(default_factory=dict)
    discrepancies: tuple[AuditDiscrepancy, ...] = ()
    corrected: tuple[str, ...] = Field(default=(), description="'tag:kind' of the corrections applied")
    opened_at: datetime
    opened_by: str
    closed_at: datetime | None = None


class AuditClosed(Exception):
    """Scans and closing need an open audit; corrections a closed one."""


def open_audit(*, name: str, scope: Scope, assets: Iterable[Asset], now: datetime, by: str) -> Audit:
    expected = {
        a.tag: Expected(location=a.location.label(), owner=a.owner)
        for a in assets if scope.matches(a) and a.status not in ("disposed", "ordered")
    }
    return Audit(id=str(uuid.uuid4()), name=name, scope=scope, expected=expected, opened_at=now, opened_by=by)


def record_sighting(audit: Audit, sighting: Sighting) -> Audit:
    """A tag scan; scanning again replaces the earlier sighting."""
    if audit.status != "open":
        raise AuditClosed(Said("err.audit_closed", id=audit.id))
    return audit.model_copy(update={"seen": {**audit.seen, sighting.tag: sighting}})


def discrepancies(audit: Audit, registered: dict[str, Asset]) -> list[AuditDiscrepancy]:
    """Missing: expected and not seen. Unregistered: seen, unknown to the register. Wrong location/owner: seen
    somewhere (or with someone) other than the register says; an item registered outside the scope but seen here
    is a wrong location."""
    found: list[AuditDiscrepancy] = []
    for tag, exp in sorted(audit.expected.items()):
        if tag not in audit.seen:
            found.append(AuditDiscrepancy(tag=tag, kind="missing", expected=exp.location))
    for tag, seen in sorted(audit.seen.items()):
        asset = registered.get(tag)
        if asset is None:
            found.append(AuditDiscrepancy(tag=tag, kind="unregistered", found=seen.location.label()))
            continue
        if seen.location.label() != asset.location.label():
            found.append(AuditDiscrepancy(tag=tag, kind="wrong_location", expected=asset.location.label(), found=seen.location.label()))
        if seen.owner is not None and seen.owner != asset.owner:
            found.append(AuditDiscrepancy(tag=tag, kind="wrong_owner", expected=asset.owner, found=seen.owner))
    return found


def close_audit(audit: Audit, registered: dict[str, Asset], *, now: datetime, by: str) -> tuple[Audit, AuditClosedV1]:
    if audit.status != "open":
        raise AuditClosed(Said("err.audit_already_closed", id=audit.id))
    found = discrepancies(audit, registered)
    closed = audit.model_copy(update={"status": "closed", "closed_at": now, "discrepancies": tuple(found)})
    event = AuditClosedV1(
        audit_id=audit.id, name=audit.name, scope=audit.scope.as_dict(), expected=len(audit.expected),
        seen=len(audit.seen), discrepancies=found, closed_by=by, closed_at=now,
    )
    return closed, event


def correction(audit: Audit, asset: Asset, kind: str) -> Asset:
    """The register entry after an agreed correction: location or owner as the auditor found it."""
    if audit.status != "closed":
        raise AuditClosed(Said("err.audit_open", id=audit.id))
    if not any(d.tag == asset.tag and d.kind == kind for d in audit.discrepancies):
        raise ValueError(Said("err.no_finding", id=audit.id, kind=kind, tag=asset.tag))
    seen = audit.seen[asset.tag]
    if kind == "wrong_location":
        return asset.model_copy(update={"location": seen.location})
    if kind == "wrong_owner":
        return asset.model_copy(update={"owner": seen.owner})
    raise ValueError(Said("err.not_correctable", kind=kind))


# --- inspections ---------------------------------------------------------------------------------------------

INSPECTION_INTERVAL_DAYS: dict[str, int] = {
    "monthly_inspection": 31, "quarterly_maintenance": 92, "disinfection": 92, "dust_removal": 92,
}


class Inspection(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    asset_tag: str
    kind: InspectionKind
    findings: tuple[InspectionFinding, ...] = ()
    performed_by: str
    performed_at: datetime
    needs_work: bool = False


def record_inspection(
    *, asset: Asset, kind: InspectionKind, findings: Iterable[InspectionFinding], by: str, at: datetime
) -> tuple[Inspection, InspectionRecordedV1]:
    findings = tuple(findings)
    work = [f for f in findings if f.severity == "needs_work"]
    inspection = Inspection(id=str(uuid.uuid4()), asset_tag=asset.tag, kind=kind, findings=findings, performed_by=by,
                            performed_at=at, needs_work=bool(work))
    ticket = None
    if work:
        what = {"monthly_inspection": "月度巡檢", "quarterly_maintenance": "季度保養", "disinfection": "消毒",
                "dust_removal": "除塵"}[kind]
        ticket = TicketRequest(
            title=f"{what}發現問題: {asset.tag} {asset.model}".strip(),
            description="\n".join(f"- {f.text}" for f in work) + f"\n({kind} {at.date().isoformat()} by {by})",
            asset_tag=asset.tag, service_code=INSPECTION_SERVICE_CODE, department=asset.department,
            site=asset.location.building,
        )
    event = InspectionRecordedV1(
        inspection_id=inspection.id, asset_tag=asset.tag, kind=kind, findings=list(findings), needs_work=bool(work),
        ticket=ticket, performed_by=by, performed_at=at,
    )
    return inspection, event


def inspections_due(assets: Iterable[Asset], last: dict[str, dict[str, datetime]], *, kind: str, now: datetime) -> list[str]:
    """Tags whose last `kind` is older than its interval (or never done); `last` is tag -> kind -> time."""
    days = INSPECTION_INTERVAL_DAYS[kind]
    due = []
    for asset in assets:
        if asset.status not in ("deployed", "in_stock", "on_loan"):
            continue
        done = last.get(asset.tag, {}).get(kind)
        if done is None or (now - done).days >= days:
            due.append(asset.tag)
    return sorted(due)
