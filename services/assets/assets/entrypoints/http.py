"""The assets HTTP edge: the register by tag (types, lifecycle, history, overview) and repair records."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.catalogue import language_of
from opsdesk_shared.contracts.repairs import RepairStage
from opsdesk_shared.internal_auth import VerifiedCaller
from opsdesk_shared.localtime import AwareDatetime

from .. import metrics, oversight, search, service, service_ops, type_names
from ..domain import (
    Asset,
    AssetStatus,
    Billing,
    CiType,
    CiVersion,
    IllegalAssetTransition,
    IllegalTransition,
    Location,
    NotAtVendor,
    Repair,
    RepairKind,
)
from ..offloaded import send_out_form
from ..ports import ConcurrentUpdate
from ..texts import Said, said_of
from .deps import READ_GUARD, Reader, Wired, Writer, not_found, ticket_filter, unprocessable

router = APIRouter(prefix="/api/v1", dependencies=READ_GUARD)


def _conflict(exc: IllegalAssetTransition | IllegalTransition) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, {"msg": said_of(exc), "allowed": exc.allowed})


# --- types ---------------------------------------------------------------------------------------------------


def _reader_language(request: Request) -> str | None:
    """The reader's language when they named one (Accept-Language); None: names as stored."""
    return language_of(request.headers["accept-language"]) if request.headers.get("accept-language") else None


@router.get("/asset-types", response_model=list[CiType], tags=["assets"])
async def list_types(wired: Wired, request: Request) -> list[CiType]:
    """Every type, names in the reader's language (Accept-Language; built-ins in all three, others as given)."""
    lang = _reader_language(request)
    return sorted((type_names.shown(t, lang) for t in (await service.ci_types(wired.types)).values()), key=lambda t: t.code)


@router.get("/asset-types/{code}", response_model=CiType, tags=["assets"])
async def read_type(code: str, wired: Wired, request: Request) -> CiType:
    """One type (its attributes and the agency's flags), e.g. to edit it and PUT it back."""
    found = (await service.ci_types(wired.types)).get(code)
    if found is None:
        raise not_found(Said("err.unknown_type", type=code))
    return type_names.shown(found, _reader_language(request))


@router.put("/asset-types/{code}", response_model=CiType, tags=["assets"])
async def put_type(code: str, body: CiType, wired: Wired, ctx: Writer, request: Request) -> CiType:
    if body.code != code:
        raise unprocessable([("code", Said("err.code_path"))])
    return type_names.shown(await service.put_ci_type(type_names.stored(body), types=wired.types), _reader_language(request))


# --- the register --------------------------------------------------------------------------------------------


class AssetIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tag: str | None = Field(default=None, max_length=40, description="Omit to allocate one in the configured format")
    type: str = Field(min_length=1, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    model: str = Field(default="", max_length=200)
    serial: str | None = Field(default=None, max_length=100)
    location: Location
    owner: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    vendor: str | None = Field(default=None, max_length=100)
    status: AssetStatus = "ordered"
    purchase_date: date | None = None
    warranty_end: date | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class AssetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    type: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    model: str | None = Field(default=None, max_length=200)
    serial: str | None = Field(default=None, max_length=100)
    location: Location | None = None
    owner: str | None = Field(default=None, max_length=100)
    department: str | None = Field(default=None, max_length=100)
    vendor: str | None = Field(default=None, max_length=100)
    purchase_date: date | None = None
    warranty_end: date | None = None
    attributes: dict[str, Any] | None = Field(default=None, description="Merged; a null value removes the attribute")
    ticket_id: str | None = Field(
        default=None, max_length=64,
        description="The ticket the change is made under: an item whose type requires authorization is changed under a "
        "ticket the agency authorized naming it, else the change is announced as a security violation",
    )


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: AssetStatus


@router.post("/assets", response_model=Asset, status_code=status.HTTP_201_CREATED, tags=["assets"])
async def create_asset(body: AssetIn, wired: Wired, ctx: Writer) -> Asset:
    draft = Asset.model_validate({**body.model_dump(), "tag": body.tag or ""})
    try:
        return await service.register_asset(
            draft, register=wired.register, types=wired.types, ctx=ctx, tag_pattern=wired.tag_pattern,
            tag_prefix=wired.tag_prefix, nodes=wired.graph,
        )
    except service.InvalidAsset as exc:
        raise unprocessable(exc.errors) from None
    except service.TagTaken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, said_of(exc)) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.register_changed")) from None


@router.get("/assets", response_model=list[Asset], tags=["assets"])
async def list_assets(
    wired: Wired, type: str | None = None, department: str | None = None, building: str | None = None,
    status_: Annotated[AssetStatus | None, Query(alias="status")] = None,
    q: Annotated[str | None, Query(max_length=search.MAX_QUERY, description=(
        "Text search: every word must occur in the tag, name, serial, model, location, owner, department or vendor "
        "(Chinese in either script, or English; case ignored)"))] = None,
    after: Annotated[str | None, Query(max_length=40, description="The last tag of the previous page (faster than offset)")] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500, offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[Asset]:
    """Items matching every filter given, by tag, a page at a time; the database filters and pages (search.py).
    The next page: `after` = the last tag of this one (ask for one more than shown to know whether there is one)."""
    query = search.ItemQuery(words=search.query_words(q), type=type, status=status_, department=department, building=building)
    return await wired.register.search(query, after=after, offset=offset, limit=limit)  # type: ignore[no-any-return]


@router.get("/assets/{tag}", response_model=Asset, tags=["assets"])
async def read_asset(
    tag: str, wired: Wired, as_of: Annotated[AwareDatetime | None, Query(description="The item as it was then (ISO 8601 with offset)")] = None
) -> Asset:
    if as_of is not None:
        past = await service.asset_as_of(tag, as_of, register=wired.register)
        if past is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.no_asset_at", tag=tag, at=as_of.isoformat()))
        return past
    asset = await service.lookup_asset(tag, register=wired.register)
    if asset is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.no_asset", tag=tag))
    return asset


@router.patch("/assets/{tag}", response_model=Asset, tags=["assets"])
async def patch_asset(tag: str, body: AssetPatch, wired: Wired, ctx: Writer) -> Asset:
    fields = body.model_dump(mode="json", exclude_unset=True)
    ticket_id = fields.pop("ticket_id", None)
    try:
        saved = await service.update_asset(tag, fields, register=wired.register, types=wired.types, ctx=ctx, nodes=wired.graph)
        await oversight.check_change(saved, (await service.ci_types(wired.types)).get(saved.type), ticket_id=ticket_id, ctx=ctx,
                                     authorized=wired.authorized_tickets, violations=wired.security_violations)
        return saved
    except service.UnknownAsset:
        raise not_found(Said("err.asset_not_found", tag=tag)) from None
    except service.InvalidAsset as exc:
        raise unprocessable(exc.errors) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.asset_changed", tag=tag)) from None


@router.post("/assets/{tag}/status", response_model=Asset, tags=["assets"])
async def change_status(tag: str, body: StatusIn, wired: Wired, ctx: Writer) -> Asset:
    """A lifecycle step; an illegal one is 409 listing the statuses allowed from here."""
    try:
        return await service.change_asset_status(tag, body.status, register=wired.register, ctx=ctx)
    except service.UnknownAsset:
        raise not_found(Said("err.asset_not_found", tag=tag)) from None
    except IllegalAssetTransition as exc:
        raise _conflict(exc) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.asset_changed", tag=tag)) from None


@router.get("/assets/{tag}/history", response_model=list[CiVersion], tags=["assets"])
async def history(tag: str, wired: Wired) -> list[CiVersion]:
    found = await service.asset_history(tag, register=wired.register)
    if not found and await wired.register.get(tag) is None:
        raise not_found(Said("err.asset_not_found", tag=tag))
    return found


@router.get("/assets/{tag}/overview", tags=["assets"])
async def overview(tag: str, wired: Wired, caller: VerifiedCaller) -> dict[str, Any]:
    """The asset, its open tickets and its repairs (the gateway shows these beside a ticket).

    Engineers see only the open tickets they hold; the rest of the operations team sees them all.
    """
    found = await service_ops.asset_overview(tag, register=wired.register, links=wired.links, repairs=wired.repairs,
                                             show_ticket=ticket_filter(caller))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.no_asset", tag=tag))
    return found


# --- repairs -------------------------------------------------------------------------------------------------


class RepairIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    asset_tag: str = Field(min_length=1, max_length=40)
    vendor: str | None = Field(default=None, max_length=100)
    ticket_id: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    kind: RepairKind | None = Field(default=None, description="in_house, or vendor (third party)")
    billing: Billing | None = Field(default=None, description="Default: warranty while it runs")
    transport_arranged: bool = False
    fault: str | None = Field(default=None, max_length=2000)


class RepairChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: RepairStage
    note: str | None = Field(default=None, max_length=2000)
    transport_arranged: bool | None = None
    loaner_tag: str | None = Field(default=None, max_length=40)


@router.post("/repairs", response_model=Repair, status_code=status.HTTP_201_CREATED, tags=["repairs"])
async def create_repair(body: RepairIn, wired: Wired, ctx: Writer) -> Repair:
    try:
        repair = await service.open_repair(
            asset_tag=body.asset_tag, vendor=body.vendor, ticket_id=body.ticket_id, note=body.note,
            register=wired.register, repairs=wired.repairs, outbox=wired.outbox,
            now=ctx.now, correlation_id=ctx.correlation_id, kind=body.kind, billing=body.billing,
            transport_arranged=body.transport_arranged, fault=body.fault, by=ctx.by, links=wired.links,
        )
    except service.UnknownAsset:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"loc": ["body", "asset_tag"], "msg": Said("err.no_asset", tag=body.asset_tag), "type": "value_error"}],
        ) from None
    except IllegalAssetTransition as exc:
        raise _conflict(exc) from None
    asset = await service.lookup_asset(repair.asset_tag, register=wired.register)
    if asset is not None:
        await oversight.check_repair(asset, (await service.ci_types(wired.types)).get(asset.type), kind=repair.kind,
                                     ticket_id=repair.ticket_id, repair_id=repair.id, ctx=ctx,
                                     authorized=wired.authorized_tickets, violations=wired.security_violations)
    metrics.repairs_updated.labels(repair.status).inc()
    return repair


class RepairListed(Repair):
    overdue: bool = Field(description="A repair clock the SLA monitor announced as run out waits for its step")


class RepairPage(BaseModel):
    items: list[RepairListed]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


@router.get("/repairs", response_model=RepairPage, tags=["repairs"], summary="List repairs")
async def list_repairs(
    wired: Wired,
    status_: Annotated[list[RepairStage] | None, Query(alias="status", description="Repeat for several")] = None,
    vendor: Annotated[str | None, Query(max_length=100)] = None,
    overdue: Annotated[bool | None, Query(
        description="true: a repair clock (progress every 3 working days, return) the SLA monitor announced as run "
        "out and not answered since; false: none is",
    )] = None,
    asset_tag: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> RepairPage:
    """Newest opened first; filters combine with AND, repeated statuses with OR."""
    try:
        found, next_cursor = await service_ops.list_repairs(
            repairs=wired.repairs, clocks=wired.repair_clocks, statuses=status_, vendor=vendor, overdue=overdue,
            asset_tag=asset_tag, cursor=cursor, limit=limit,
        )
    except ValueError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            [{"loc": ["query", "cursor"], "msg": said_of(exc), "type": "value_error"}]) from None
    items = [RepairListed.model_validate({**r.model_dump(), "overdue": late}) for r, late in found]
    return RepairPage(items=items, next_cursor=next_cursor)


@router.get("/repairs/{repair_id}", response_model=Repair, tags=["repairs"])
async def read_repair(repair_id: str, wired: Wired) -> Repair:
    repair = await wired.repairs.get(repair_id)
    if repair is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.repair_not_found", id=repair_id))
    return repair  # type: ignore[no-any-return]


@router.patch("/repairs/{repair_id}", response_model=Repair, tags=["repairs"])
async def change_repair(repair_id: str, body: RepairChangeIn, wired: Wired, ctx: Writer) -> Repair:
    try:
        repair = await service.update_repair(
            repair_id, status=body.status, note=body.note, repairs=wired.repairs, register=wired.register,
            outbox=wired.outbox, now=ctx.now, correlation_id=ctx.correlation_id, by=ctx.by,
            transport_arranged=body.transport_arranged, loaner_tag=body.loaner_tag,
        )
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.repair_not_found", id=repair_id)) from None
    except (IllegalTransition, IllegalAssetTransition) as exc:
        raise _conflict(exc) from None
    except ConcurrentUpdate:
        raise HTTPException(status.HTTP_409_CONFLICT, Said("err.repair_changed", id=repair_id)) from None
    metrics.repairs_updated.labels(repair.status).inc()
    return repair


class ProgressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000)


@router.post("/repairs/{repair_id}/progress", response_model=Repair, tags=["repairs"])
async def report_progress(repair_id: str, body: ProgressIn, wired: Wired, ctx: Writer) -> Repair:
    """The vendor's written progress update while the device is away (restarts the 3-working-day clock)."""
    try:
        repair = await service.report_repair_progress(
            repair_id, note=body.note, repairs=wired.repairs, outbox=wired.outbox,
            now=ctx.now, correlation_id=ctx.correlation_id, by=ctx.by,
        )
    except LookupError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, Said("err.repair_not_found", id=repair_id)) from None
    except NotAtVendor as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": said_of(exc)}) from None
    metrics.repairs_updated.labels("progress").inc()
    return repair


@router.get("/repairs/{repair_id}/send-out-form", tags=["repairs"], response_class=Response)
async def send_out(repair_id: str, wired: Wired, ctx: Reader) -> Response:
    """The send-out form (PDF, simplified Chinese) to go with the device to the vendor: Opsdesk's one send-out form
    (reporting's /forms/send-out/{id} redirects here)."""
    repair = await wired.repairs.get(repair_id)
    if repair is None:
        raise not_found(Said("err.repair_not_found", id=repair_id))
    asset = await wired.register.get(repair.asset_tag)
    if asset is None:
        raise not_found(Said("err.asset_not_found", tag=repair.asset_tag))
    ci_type = (await service.ci_types(wired.types)).get(asset.type)
    number = await service_ops.ticket_number(repair.ticket_id, links=wired.links)
    pdf = await send_out_form(repair, asset, now=ctx.now, type_name=ci_type.name if ci_type else None, ticket_number=number)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="send-out-{repair_id}.pdf"'})
