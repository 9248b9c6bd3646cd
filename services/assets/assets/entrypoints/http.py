"""The assets HTTP edge: the register by tag, and repair records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.contracts.repairs import RepairStatus
from opsdesk_shared.logs import correlation_id

from .. import metrics, service
from ..domain import Asset, IllegalTransition, NotAtVendor, Repair

router = APIRouter(prefix="/api/v1")


def _adapters(request: Request) -> Any:
    return request.app.state.adapters


Wired = Annotated[Any, Depends(_adapters)]


class RepairIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_tag: str = Field(min_length=1, max_length=40)
    vendor: str | None = Field(default=None, max_length=100)
    ticket_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)


class RepairChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: RepairStatus
    note: str | None = Field(default=None, max_length=2000)


@router.get("/assets/{tag}", response_model=Asset, tags=["assets"])
async def read_asset(tag: str, wired: Wired) -> Asset:
    asset = await service.lookup_asset(tag, register=wired.register)
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no asset tagged {tag}")
    return asset


@router.post("/repairs", response_model=Repair, status_code=status.HTTP_201_CREATED, tags=["repairs"])
async def create_repair(body: RepairIn, wired: Wired) -> Repair:
    try:
        repair = await service.open_repair(
            asset_tag=body.asset_tag, vendor=body.vendor, ticket_id=body.ticket_id, note=body.note,
            register=wired.register, repairs=wired.repairs, outbox=wired.outbox,
            now=datetime.now(UTC), correlation_id=correlation_id.get() or str(uuid.uuid4()),
        )
    except service.UnknownAsset:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "asset_tag"], "msg": f"no asset tagged {body.asset_tag}", "type": "value_error"}],
        ) from None
    metrics.repairs_updated.labels(repair.status).inc()
    return repair


@router.get("/repairs/{repair_id}", response_model=Repair, tags=["repairs"])
async def read_repair(repair_id: str, wired: Wired) -> Repair:
    repair = await wired.repairs.get(repair_id)
    if repair is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"repair {repair_id} not found")
    return repair  # type: ignore[no-any-return]


@router.patch("/repairs/{repair_id}", response_model=Repair, tags=["repairs"])
async def change_repair(repair_id: str, body: RepairChangeIn, wired: Wired) -> Repair:
    try:
        repair = await service.update_repair(
            repair_id, status=body.status, note=body.note, repairs=wired.repairs, register=wired.register,
            outbox=wired.outbox, now=datetime.now(UTC), correlation_id=correlation_id.get() or str(uuid.uuid4()),
        )
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"repair {repair_id} not found") from None
    except IllegalTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": str(exc), "allowed": exc.allowed}) from None
    metrics.repairs_updated.labels(repair.status).inc()
    return repair


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000)


@router.post("/repairs/{repair_id}/progress", response_model=Repair, tags=["repairs"])
async def report_progress(repair_id: str, body: ProgressIn, wired: Wired) -> Repair:
    """The vendor's written progress update while the device is away (restarts the 3-working-day clock)."""
    try:
        repair = await service.report_repair_progress(
            repair_id, note=body.note, repairs=wired.repairs, outbox=wired.outbox,
            now=datetime.now(UTC), correlation_id=correlation_id.get() or str(uuid.uuid4()),
        )
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"repair {repair_id} not found") from None
    except NotAtVendor as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": str(exc)}) from None
    metrics.repairs_updated.labels("progress").inc()
    return repair
