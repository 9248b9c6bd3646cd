"""The operations HTTP edge: inventory audits, inspections, spare parts and loaners."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.cmdb import InspectionFinding, InspectionKind
from opsdesk_shared.localtime import AwareDatetime, local_day_end, local_day_start

from .. import service, service_ops, stock
from ..domain import Asset, IllegalAssetTransition, Location
from ..ports import ConcurrentUpdate, DuplicateKey
from ..texts import Said, said_of
from ..upkeep import Audit, AuditClosed, Inspection, Scope, Sighting
from .deps import READ_GUARD, Reader, Wired, Writer, not_found, unprocessable

router = APIRouter(prefix="/api/v1", dependencies=READ_GUARD)


# --- audits --------------------------------------------------------------------------------------------------


class AuditIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="e.g. 2026 下半年盤點")
    scope: Scope = Field(default_factory=Scope)


class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tag: str = Field(min_length=1, max_length=40)
    location: Location
    owner: str | None = Field(default=None, max_length=100)


class CorrectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str
    kind: str = Field(pattern="^(wrong_location|wrong_owner)$")


class CorrectionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apply: list[CorrectionIn] = Field(min_length=1, max_length=5000)


def _audit_summary(audit: Audit) -> dict[str, Any]:
    return {
        "id": audit.id, "name": audit.name, "scope": audit.scope.as_dict(), "status": audit.status,
        "expected": len(audit.expected), "seen": len(audit.seen), "opened_at": audit.opened_at, "closed_at": audit.closed_at,
        "discrepancies": [d.model_dump() for d in audit.discrepancies], "corrected": list(audit.corrected),
    }


@router.post("/audits", status_code=status.HTTP_201_CREATED, tags=["audits"])
async def open_audit(body: AuditIn, wired: Wired, ctx: Writer) -> dict[str, Any]:
    audit = await service_ops.open_audit(name=body.name, scope=body.scope, register=wired.register, audits=wired.audits, ctx=ctx)
    return _audit_summary(audit)


class AuditListed(BaseModel):
    id: str
    name: str
    scope: dict[str, str]
    status: Literal["open", "closed"]
    opened_at: datetime
    opened_by: str | None = None
    closed_at: datetime | None = None
    expected: int | None = Field(default=None, description="Items the audit expects to see")
    seen: int | None = Field(default=None, description="Items scanned so far")
    discrepancies: int | None = Field(default=None, description="Findings of the closed audit")


class AuditPage(BaseModel):
    items: list[AuditListed]
    total: int = Field(description="Audits matching the filters")


@router.get("/audits", response_model=AuditPage, tags=["audits"], summary="List audits")
async def list_audits(
    wired: Wired,
    status_: Annotated[Literal["open", "closed"] | None, Query(alias="status")] = None,
    opened_from: Annotated[date | None, Query(description="Opened on or after this day (the site's time zone)")] = None,
    opened_to: Annotated[date | None, Query(description="Opened on or before this day (the site's time zone)")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    """Newest opened first; filters combine with AND."""
    if opened_from and opened_to and opened_to < opened_from:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, [{"loc": ["query", "opened_to"], "type": "value_error",
                            "msg": Said("err.range", start=opened_from.isoformat(), end=opened_to.isoformat())}])
    items, total = await service_ops.list_audits(
        audits=wired.audits, status=status_, opened_from=local_day_start(opened_from) if opened_from else None,
        opened_before=local_day_end(opened_to) if opened_to else None, offset=offset, limit=limit,
    )
    return AuditPage(items=[AuditListed.model_validate(i) for i in items], total=total)


@router.get("/audits/{audit_id}", tags=["audits"])
async def read_audit(audit_id: str, wired: Wired) -> dict[str, Any]:
    try:
        return _audit_summary(await service_ops.get_audit(audit_id, audits=wired.audits))
    except service_ops.NotFound:
        raise not_found(Said("err.audit_not_found", id=audit_id)) from None


@router.post("/audits/{audit_id}/scans", tags=["audits"])
async def scan(audit_id: str, body: ScanIn, wired: Wired, ctx: Writer) -> dict[str, Any]:
    """One tag scanned where it stands (an unregistered tag is recorded too)."""
    sighting = Sighting(tag=body.tag, location=body.location, owner=body.owner, seen_at=ctx.now, seen_by=ctx.by)
    try:
        audit = await service_ops.record_scan(audit_id, sighting, audits=wired.audits)
    except service_ops.NotFound:
        raise not_found(Said("err.audit_not_found", id=audit_id)) from None
    except AuditClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    return {"audit_id": audit.id, "seen": len(audit.seen), "expected": len(audit.expected), "known": body.tag in audit.expected}


@router.post("/audits/{audit_id}/close", tags=["audits"])
async def close_audit(audit_id: str, wired: Wired, ctx: Writer) -> dict[str, Any]:
    """Close with the discrepancy report: missing, unregistered, wrong location, wrong owner."""
    try:
        audit = await service_ops.close_audit(audit_id, register=wired.register, audits=wired.audits, ctx=ctx)
    except service_ops.NotFound:
        raise not_found(Said("err.audit_not_found", id=audit_id)) from None
    except AuditClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    return _audit_summary(audit)


@router.post("/audits/{audit_id}/corrections", response_model=list[Asset], tags=["audits"])
async def corrections(audit_id: str, body: CorrectionsIn, wired: Wired, ctx: Writer) -> list[Asset]:
    """Apply the agreed corrections to the register (each a new version of the item)."""
    try:
        return await service_ops.apply_corrections(
            audit_id, [(c.tag, c.kind) for c in body.apply], register=wired.register, audits=wired.audits,
            types=wired.types, ctx=ctx,
        )
    except service_ops.NotFound:
        raise not_found(Said("err.audit_not_found", id=audit_id)) from None
    except AuditClosed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    except (ValueError, service.UnknownAsset) as exc:
        raise unprocessable([("apply", said_of(exc))]) from None


# --- inspections ---------------------------------------------------------------------------------------------


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_tag: str = Field(min_length=1, max_length=40)
    kind: InspectionKind
    findings: list[InspectionFinding] = Field(default_factory=list, max_length=100)
    performed_at: AwareDatetime | None = None


@router.post("/inspections", response_model=Inspection, status_code=status.HTTP_201_CREATED, tags=["inspections"])
async def record_inspection(body: InspectionIn, wired: Wired, ctx: Writer) -> Inspection:
    """A finding with severity needs_work makes the event carry a ticket request for intake."""
    try:
        return await service_ops.record_inspection(
            asset_tag=body.asset_tag, kind=body.kind, findings=body.findings, performed_at=body.performed_at,
            register=wired.register, inspections=wired.inspections, inspection_index=wired.inspection_index, ctx=ctx,
        )
    except service.UnknownAsset:
        raise unprocessable([("asset_tag", Said("err.no_asset", tag=body.asset_tag))]) from None


@router.get("/inspections", response_model=list[Inspection], tags=["inspections"])
async def inspections_of(wired: Wired, asset_tag: str = Query(min_length=1)) -> list[Inspection]:
    return await service_ops.inspections_of(asset_tag, inspections=wired.inspections, inspection_index=wired.inspection_index)


@router.get("/inspections/due", tags=["inspections"])
async def inspections_due(
    wired: Wired, ctx: Reader, kind: Annotated[InspectionKind, Query()], department: str | None = None, building: str | None = None,
    type: str | None = None,
) -> dict[str, Any]:
    tags = await service_ops.inspections_due(kind=kind, scope=Scope(department=department, building=building, type=type),
                                             register=wired.register, inspection_index=wired.inspection_index, now=ctx.now)
    return {"kind": kind, "due": tags}


# --- spare parts ---------------------------------------------------------------------------------------------


class StockIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    part_type: str = Field(min_length=1, max_length=100, pattern=r"^[^@.$]+$")
    site: str = Field(min_length=1, max_length=100, pattern=r"^[^@.$]+$")
    received: int = Field(default=0, ge=0)
    minimum: int | None = Field(default=None, ge=0)
    reorder_quantity: int | None = Field(default=None, ge=0)


class ReserveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=1)
    ticket_id: str | None = None


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_type: str
    site: str
    quantity: int = Field(ge=1)
    ticket_id: str = Field(min_length=1, max_length=64, description="The ticket's id or number (INC-2026-000009); it must exist")
    reservation_id: str | None = None
    asset_tag: str | None = None


class ReverseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str | None = Field(default=None, max_length=500, description="Why the parts come back, e.g. 领错型号")


class StockPage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Stock lines (part type at a site) with reserved and available")
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


def _stock_view(s: stock.SpareStock) -> dict[str, Any]:
    return {**s.model_dump(mode="json"), "reserved": s.reserved, "available": s.available}


@router.post("/spares", tags=["spares"])
async def receive_stock(body: StockIn, wired: Wired, ctx: Writer) -> dict[str, Any]:
    """Receive parts into a site's stock and/or set its minimum and reorder quantity."""
    s = await service_ops.set_stock(part_type=body.part_type, site=body.site, received=body.received, minimum=body.minimum,
                                    reorder_quantity=body.reorder_quantity, spares=wired.spares)
    return _stock_view(s)


@router.get("/spares", response_model=StockPage, tags=["spares"], summary="List spare stock")
async def list_stock(
    wired: Wired,
    low_stock: Annotated[bool, Query(description="true: only lines whose available count is below their minimum")] = False,
    site: Annotated[str | None, Query(max_length=100)] = None,
    part_type: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=300)] = None,
) -> StockPage:
    """By part type, then site."""
    lines, next_cursor = await service_ops.list_stock(spares=wired.spares, low_only=low_stock, site=site,
                                                      part_type=part_type, after=cursor, limit=limit)
    return StockPage(items=[_stock_view(line) for line in lines], next_cursor=next_cursor)


@router.get("/spares/replenishment", tags=["spares"])
async def replenishment(wired: Wired, ctx: Reader, month: str | None = Query(default=None, pattern=r"^\d{4}-\d{2}$")) -> dict[str, Any]:
    month = month or ctx.now.strftime("%Y-%m")
    lines = await service_ops.replenishment_list(month=month, spares=wired.spares)
    return {"month": month, "lines": [line.model_dump() for line in lines]}


@router.get("/spares/{part_type}/{site}", tags=["spares"])
async def read_stock(part_type: str, site: str, wired: Wired) -> dict[str, Any]:
    s = await service_ops.get_stock(part_type, site, spares=wired.spares)
    if s is None:
        raise not_found(Said("err.stock_not_found", part=part_type, site=site))
    return _stock_view(s)


@router.post("/spares/{part_type}/{site}/reservations", status_code=status.HTTP_201_CREATED, tags=["spares"])
async def reserve(part_type: str, site: str, body: ReserveIn, wired: Wired, ctx: Writer) -> stock.Reservation:
    try:
        return await service_ops.reserve_spare(part_type=part_type, site=site, quantity=body.quantity,
                                               ticket_id=body.ticket_id, spares=wired.spares, ctx=ctx, links=wired.links)
    except service_ops.UnknownTicket as exc:
        raise unprocessable([("ticket_id", said_of(exc))]) from None
    except service_ops.NotFound:
        raise not_found(Said("err.stock_not_found", part=part_type, site=site)) from None
    except stock.NotEnoughStock as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None


@router.post("/spares/issues", status_code=status.HTTP_201_CREATED, tags=["spares"])
async def issue(body: IssueIn, wired: Wired, ctx: Writer) -> dict[str, Any]:
    """The spare-part requisition against a ticket."""
    try:
        s, event = await service_ops.issue_spare(
            part_type=body.part_type, site=body.site, quantity=body.quantity, ticket_id=body.ticket_id,
            reservation_id=body.reservation_id, asset_tag=body.asset_tag, spares=wired.spares, ctx=ctx,
            links=wired.links, issues=wired.spare_issues,
        )
    except service_ops.UnknownTicket as exc:
        raise unprocessable([("ticket_id", said_of(exc))]) from None
    except service_ops.NotFound:
        raise not_found(Said("err.stock_not_found", part=body.part_type, site=body.site)) from None
    except KeyError:
        raise unprocessable([("reservation_id", Said("err.no_reservation"))]) from None
    except stock.NotEnoughStock as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.stock_changed")) from None
    return {"issue": event.model_dump(mode="json"), "stock": _stock_view(s)}


@router.post("/spares/issues/{issue_id}/reverse", tags=["spares"], summary="Take a spare-part issue back")
async def reverse_issue(issue_id: str, wired: Wired, ctx: Writer, body: ReverseIn | None = None) -> dict[str, Any]:
    """The parts return to stock and no longer count as consumption (announced as cmdb.spare_issue_reversed);
    an issue is reversed once (409 after)."""
    try:
        issue, s = await service_ops.reverse_spare_issue(issue_id, reason=body.reason if body else None,
                                                         spares=wired.spares, issues=wired.spare_issues, ctx=ctx)
    except service_ops.NotFound:
        raise not_found(Said("err.issue_not_found", id=issue_id)) from None
    except service_ops.AlreadyReversed as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.stock_changed")) from None
    return {"issue": issue.model_dump(mode="json"), "stock": _stock_view(s)}


# --- loaners -------------------------------------------------------------------------------------------------


class LendIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    loaner_tag: str = Field(min_length=1, max_length=40)
    borrower: str = Field(min_length=1, max_length=100)
    department: str | None = None
    for_asset_tag: str | None = None
    repair_id: str | None = None
    due_back: date | None = None


@router.post("/loaners", response_model=stock.Loan, status_code=status.HTTP_201_CREATED, tags=["loaners"])
async def lend(body: LendIn, wired: Wired, ctx: Writer) -> stock.Loan:
    try:
        return await service_ops.lend_loaner(
            loaner_tag=body.loaner_tag, borrower=body.borrower, department=body.department, for_asset_tag=body.for_asset_tag,
            repair_id=body.repair_id, due_back=body.due_back, register=wired.register, loans=wired.loans, ctx=ctx,
            repairs=wired.repairs,
        )
    except service_ops.UnknownRepair:
        raise unprocessable([("repair_id", Said("err.no_repair", id=body.repair_id))]) from None
    except service.UnknownAsset:
        raise unprocessable([("loaner_tag", Said("err.no_asset", tag=body.loaner_tag))]) from None
    except (stock.NotLendable, IllegalAssetTransition, DuplicateKey) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None


@router.get("/loaners", response_model=list[stock.Loan], tags=["loaners"])
async def open_loans(wired: Wired) -> list[stock.Loan]:
    return await service_ops.open_loans(loans=wired.loans)


@router.post("/loaners/{loan_id}/return", response_model=stock.Loan, tags=["loaners"])
async def give_back(loan_id: str, wired: Wired, ctx: Writer) -> stock.Loan:
    try:
        return await service_ops.return_loaner(loan_id, register=wired.register, loans=wired.loans, ctx=ctx)
    except service_ops.NotFound:
        raise not_found(Said("err.loan_not_found", id=loan_id)) from None
    except stock.NotLendable as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
