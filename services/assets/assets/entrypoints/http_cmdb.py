"""The CMDB HTTP edge: relations and impact, baselines and drift, labels, import and export of the register."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, HTTPException, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from opsdesk_shared.errors import language
from opsdesk_shared.localtime import AwareDatetime

from .. import offloaded, register_io, service, service_ops
from ..domain import Asset
from ..relations import DEPARTMENT_PREFIX, ImpactResult, Relation, RelationRefused, RelationType, relation_id
from ..texts import Said, said_of
from ..upkeep import Baseline, Drift, Scope
from .deps import READ_GUARD, Wired, Writer, not_found, unprocessable

router = APIRouter(prefix="/api/v1", dependencies=READ_GUARD)

MAX_IMPORT_BYTES = 20 * 1024 * 1024


# --- relations and impact ------------------------------------------------------------------------------------


class RelationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=40)
    type: RelationType
    target: str = Field(min_length=1, max_length=140, description=f"A tag, or for used_by a department: {DEPARTMENT_PREFIX}財務科")


class RelationOut(BaseModel):
    id: str
    source: str
    type: RelationType
    target: str
    created_at: datetime | None = None
    created_by: str | None = None


def _out(rel: Relation) -> RelationOut:
    return RelationOut(**rel.model_dump(), id=rel.id)


@router.post("/relations", response_model=RelationOut, status_code=status.HTTP_201_CREATED, tags=["relations"])
async def add_relation(body: RelationIn, wired: Wired, ctx: Writer) -> RelationOut:
    """connected_to is symmetric and may form cycles; runs_on, depends_on and installed_on together may not (409)."""
    try:
        rel = await wired.graph.add(Relation(source=body.source, type=body.type, target=body.target), register=wired.register, ctx=ctx)
    except service.UnknownAsset as exc:
        raise unprocessable([("target" if str(exc) == body.target else "source", Said("err.no_asset", tag=str(exc)))]) from None
    except RelationRefused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"msg": said_of(exc), "cycle": exc.cycle}) from None
    return _out(rel)


@router.delete("/relations/{source}/{type}/{target}", status_code=status.HTTP_204_NO_CONTENT, tags=["relations"])
async def delete_relation(source: str, type: RelationType, target: str, wired: Wired, ctx: Writer) -> Response:
    removed = await wired.graph.remove(relation_id(source, type, target), register=wired.register, ctx=ctx)
    if removed is None:
        raise not_found(Said("err.relation_not_found"))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/relations", response_model=list[RelationOut], tags=["relations"])
async def relations_of(
    wired: Wired,
    tag: str = Query(min_length=1),
    as_of: Annotated[AwareDatetime | None, Query(description="The relations as they stood then (ISO 8601 with offset)")] = None,
) -> list[RelationOut]:
    if as_of is not None:
        if as_of.tzinfo is None:
            raise unprocessable([("as_of", Said("err.offset_needed"))])
        return [_out(r) for r in await wired.graph.relations_as_of(tag, as_of)]
    await wired.graph.sync()
    return [_out(r) for r in wired.graph.relations_of(tag)]


@router.get("/impact/{tag}", response_model=ImpactResult, tags=["relations"])
async def impact(
    tag: str, wired: Wired,
    depth: int = Query(default=5, ge=1, le=10),
    direction: Literal["impact", "depends"] = Query(default="impact", description="impact: what fails with it; depends: what it needs"),
    limit: int = Query(default=200, ge=1, le=5000),
) -> ImpactResult:
    if await wired.register.get(tag) is None:
        raise not_found(Said("err.asset_not_found", tag=tag))
    return await wired.graph.impact(tag, depth=depth, direction=direction, limit=limit, register=wired.register)  # type: ignore[no-any-return]


# --- baselines -----------------------------------------------------------------------------------------------


class BaselineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    scope: Scope
    fields: list[str] = Field(min_length=1, max_length=50, description="e.g. model, attributes.image_version, location.room")


class DriftReport(BaseModel):
    baseline_id: str
    name: str
    recorded_at: str
    items: int
    drift: list[Drift]


@router.post("/baselines", status_code=status.HTTP_201_CREATED, tags=["baselines"])
async def create_baseline(body: BaselineIn, wired: Wired, ctx: Writer) -> dict[str, Any]:
    baseline = await service_ops.record_baseline(name=body.name, scope=body.scope, fields=body.fields,
                                                 register=wired.register, baselines=wired.baselines, ctx=ctx)
    return {"id": baseline.id, "name": baseline.name, "items": len(baseline.entries), "recorded_at": baseline.recorded_at}


@router.get("/baselines/{baseline_id}", response_model=Baseline, tags=["baselines"])
async def read_baseline(baseline_id: str, wired: Wired) -> Baseline:
    try:
        return await service_ops.get_baseline(baseline_id, baselines=wired.baselines)
    except service_ops.NotFound:
        raise not_found(Said("err.baseline_not_found", id=baseline_id)) from None


@router.get("/baselines/{baseline_id}/drift", response_model=DriftReport, tags=["baselines"])
async def drift(baseline_id: str, wired: Wired) -> DriftReport:
    try:
        baseline, found = await service_ops.baseline_drift(baseline_id, register=wired.register, baselines=wired.baselines)
    except service_ops.NotFound:
        raise not_found(Said("err.baseline_not_found", id=baseline_id)) from None
    return DriftReport(baseline_id=baseline.id, name=baseline.name, recorded_at=baseline.recorded_at.isoformat(),
                       items=len(baseline.entries), drift=found)


# --- labels --------------------------------------------------------------------------------------------------


class LabelsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(default_factory=list, max_length=2000)
    scope: Scope | None = Field(default=None, description="Instead of tags: every item in this scope")


@router.post("/labels", response_class=Response, tags=["labels"])
async def label_sheet(body: LabelsIn, wired: Wired) -> Response:
    """A PDF of labels (QR code of the tag, the tag, type and department), 24 per A4 page."""
    if body.scope is not None:
        assets: list[Asset] = [a async for a in wired.register.scan() if body.scope.matches(a)]
    else:
        found = {t: await wired.register.get(t) for t in body.tags}
        missing = [t for t, a in found.items() if a is None]
        if missing:
            raise unprocessable([("tags", Said("err.no_asset", tag=", ".join(missing[:20])))])
        assets = [a for a in found.values() if a is not None]
    if not assets:
        raise unprocessable([("tags", Said("err.none_chosen"))])
    names = {code: t.name for code, t in (await service.ci_types(wired.types)).items()}
    pdf = await offloaded.label_sheet(sorted(assets, key=lambda a: a.tag), type_names=names)
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": 'attachment; filename="labels.pdf"'})


# --- import and export ---------------------------------------------------------------------------------------


@router.post("/register/import", response_model=register_io.ImportReport, tags=["register"])
async def import_register(
    wired: Wired, ctx: Writer, file: Annotated[UploadFile, File()], request: Request,
    dry_run: bool = Query(default=True, description="Only validate: report row-level errors, write nothing"),
) -> register_io.ImportReport:
    """CSV (UTF-8) or XLSX; nothing is written unless every row is valid. Tags left blank are allocated. Row errors
    name the row, the column and the reason, in the caller's language (with the reason's code)."""
    content = await file.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, Said("err.file_too_large", bytes=MAX_IMPORT_BYTES))
    try:
        report = await service_ops.import_register(
            content, file_name=file.filename or "upload.csv", dry_run=dry_run, register=wired.register, types=wired.types,
            imports=wired.imports, graph=wired.graph, ctx=ctx, tag_pattern=wired.tag_pattern, tag_prefix=wired.tag_prefix,
        )
    except register_io.UnreadableFile as exc:
        raise unprocessable([("file", said_of(exc))]) from None
    report = report.said_in(language(request))
    if report.errors and not dry_run:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, report.model_dump(mode="json"))
    return report


@router.get("/register/export", tags=["register"], response_class=StreamingResponse)
async def export_register(
    wired: Wired, format: Literal["csv", "xlsx"] = Query(default="csv"), scope_type: str | None = Query(default=None, alias="type"),
    department: str | None = None,
) -> StreamingResponse:
    scope = Scope(type=scope_type, department=department)
    columns = register_io.attribute_columns((await service.ci_types(wired.types)).values())
    if format == "xlsx":
        assets = [a async for a in wired.register.scan() if scope.matches(a)]
        body = await offloaded.register_xlsx(sorted(assets, key=lambda a: a.tag), columns)

        async def once() -> AsyncIterator[bytes]:
            yield body

        return StreamingResponse(once(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                 headers={"Content-Disposition": 'attachment; filename="register.xlsx"'})

    async def chunks() -> AsyncIterator[bytes]:
        batch: list[Asset] = []
        header = True
        async for asset in wired.register.scan():
            if scope.matches(asset):
                batch.append(asset)
            if len(batch) >= 500:
                for chunk in register_io.csv_chunks(batch, columns, header=header):
                    yield chunk
                batch, header = [], False
        for chunk in register_io.csv_chunks(batch, columns, header=header):
            yield chunk

    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": 'attachment; filename="register.csv"'})
