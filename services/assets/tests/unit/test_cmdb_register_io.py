"""Import (row-level errors, dry run, tag allocation) and export of the register; label sheets parsed back."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from openpyxl import Workbook
from pypdf import PdfReader

from assets import labels, register_io, service, service_ops
from assets.domain import BUILTIN_TYPES, Asset, Location
from assets.main import Adapters
from assets.service import Ctx

HEADER = "tag,type,model,building,floor,room,owner,department,status,purchase_date,warranty_end,attr.ram_gb,attr.image_version\n"


def ctx(now: datetime) -> Ctx:
    return Ctx(by="importer", now=now, correlation_id="c")


async def run_import(world: Adapters, content: bytes, now: datetime, *, dry_run: bool, name: str = "register.csv") -> register_io.ImportReport:
    return await service_ops.import_register(content, file_name=name, dry_run=dry_run, register=world.register, types=world.types,
                                             imports=world.imports, graph=world.graph, ctx=ctx(now), tag_pattern=world.tag_pattern,
                                             tag_prefix="GZ")


GOOD = (HEADER + "GZ-I-1,desktop,M70t,主樓,2,205,王小明,財務科,deployed,2024-01-05,2027-01-04,16,W11\n"
        ",laptop,T14,主樓,4,402,李華,人事科,,,,8,\n").encode()


async def test_dry_run_reports_valid_rows_and_writes_nothing(world: Adapters, t0: datetime) -> None:
    report = await run_import(world, GOOD, t0, dry_run=True)

    assert (report.rows, report.valid, report.errors, report.written) == (2, 2, [], 0)
    assert await world.register.tags() == set()


async def test_import_writes_every_row_allocates_missing_tags_and_versions_them(world: Adapters, t0: datetime) -> None:
    report = await run_import(world, GOOD, t0, dry_run=False)

    assert report.written == 2 and report.import_id
    assert await world.register.tags() == {"GZ-I-1", "GZ-2026-000001"}
    first = await world.register.get("GZ-I-1")
    assert first is not None and first.attributes == {"ram_gb": 16, "image_version": "W11"} and first.purchase_date.isoformat() == "2024-01-05"  # type: ignore[union-attr]
    second = await world.register.get("GZ-2026-000001")
    assert second is not None and second.status == "in_stock"  # the default for imported rows
    assert [v.change for v in await world.register.history("GZ-I-1")] == ["created"]
    (envelope,) = world.imports.outbox.published  # type: ignore[attr-defined]
    assert envelope.type == "cmdb.register_imported" and envelope.data["created"] == 2
    assert world.graph is not None and world.graph.index.nodes["GZ-I-1"].ci_type == "desktop"


async def test_every_row_error_is_reported_with_row_column_and_message(world: Adapters, t0: datetime) -> None:
    await run_import(world, (HEADER + "GZ-OLD-1,desktop,,主樓,,,,,,,,,\n").encode(), t0, dry_run=False)
    bad = (HEADER
           + "GZ-OLD-1,desktop,,主樓,,,,,,,,,\n"          # row 2: already registered
           + "bad tag!,toaster,,,,,,,,,,,\n"             # row 3: tag, type, building
           + "GZ-I-5,desktop,,主樓,,,,,lost,2024-13-01,,many,\n"  # row 4: status, purchase_date, attr.ram_gb
           + "GZ-I-6,desktop,,主樓,,,,,,2025-01-01,2024-01-01,,\n"  # row 5: warranty before purchase
           + "GZ-I-7,desktop,,主樓,,,,,,,,,\n"
           + "GZ-I-7,desktop,,主樓,,,,,,,,,\n").encode()   # row 7: duplicate of row 6

    report = await run_import(world, bad, t0, dry_run=False)

    assert {(e.row, e.column) for e in report.errors} == {
        (2, "tag"), (3, "tag"), (3, "type"), (3, "building"), (4, "status"), (4, "purchase_date"), (4, "attr.ram_gb"),
        (5, "warranty_end"), (7, "tag"),
    }
    assert next(e.message for e in report.errors if e.row == 7) == "duplicate of row 6"
    assert (report.valid, report.written) == (1, 0)
    assert await world.register.tags() == {"GZ-OLD-1"}  # nothing written while any row is wrong


async def test_unknown_column_and_missing_required_column_are_header_errors(world: Adapters, t0: datetime) -> None:
    report = await run_import(world, b"tag,type,colour\nX-1,desktop,red\n", t0, dry_run=True)

    assert {(e.row, e.column, e.message) for e in report.errors} == {(1, "colour", "unknown column"), (1, "building", "required column missing")}


async def test_unreadable_file_is_refused(world: Adapters, t0: datetime) -> None:
    with pytest.raises(register_io.UnreadableFile):
        await run_import(world, b"\xff\xfe\x00garbage", t0, dry_run=True)
    with pytest.raises(register_io.UnreadableFile):
        await run_import(world, b"not a zip", t0, dry_run=True, name="register.xlsx")


def xlsx(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


async def test_xlsx_import_reads_numbers_and_dates_as_cells(world: Adapters, t0: datetime) -> None:
    content = xlsx([["tag", "type", "building", "purchase_date", "attr.ram_gb"],
                    ["GZ-X-1", "desktop", "主樓", datetime(2024, 3, 1), 32], ["GZ-X-2", "server", None, None, None]])

    report = await run_import(world, content, t0, dry_run=True, name="r.xlsx")

    assert report.valid == 1
    assert [(e.row, e.column) for e in report.errors] == [(3, "building")]


def sample_assets() -> list[Asset]:
    return [Asset(tag=f"GZ-E-{i}", type="desktop", model="M70t", location=Location(building="主樓", room=str(i)), department="財務科",
                  attributes={"ram_gb": 8 * i}) for i in range(1, 4)]


def test_csv_export_reimports_to_the_same_assets() -> None:
    assets = sample_assets()
    columns = register_io.attribute_columns(BUILTIN_TYPES)
    content = b"".join(register_io.csv_chunks(assets, columns, rows_per_chunk=2))

    rows = register_io.read_rows(content, file_name="x.csv")
    good, errors = register_io.validate_rows(rows, types={t.code: t for t in BUILTIN_TYPES}, existing=set())

    assert errors == []
    assert [a for _, a in good] == [a.model_copy(update={"status": "deployed"}) for a in assets]
    assert next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[:2] == ["tag", "type"]


def test_xlsx_export_reimports_to_the_same_assets() -> None:
    assets = sample_assets()
    content = register_io.xlsx_bytes(assets, register_io.attribute_columns(BUILTIN_TYPES))

    good, errors = register_io.validate_rows(register_io.read_rows(content, file_name="x.xlsx"),
                                             types={t.code: t for t in BUILTIN_TYPES}, existing=set())

    assert errors == [] and [a for _, a in good] == assets


def test_label_sheet_parses_back_with_every_tag_type_and_department() -> None:
    assets = [Asset(tag=f"GZ-2026-{i:06d}", type="printer", location=Location(building="主樓"), department="財務科") for i in range(30)]

    pdf = labels.label_sheet(assets, type_names={"printer": "打印機"})

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 2  # 24 labels a page
    text = "".join(page.extract_text() for page in reader.pages)
    assert all(a.tag in text for a in assets)
    first_page = reader.pages[0].extract_text()
    assert "GZ-2026-000023" in first_page and "GZ-2026-000024" not in first_page
    if labels.font() == "WQY":
        assert "財務科" in text and "打印機" in text


def test_label_qr_code_encodes_the_tag() -> None:
    import segno

    qr = segno.make("GZ-2026-000123", error="m", micro=False)
    assert qr.designator  # segno made a full QR code for the tag: the same call labels.py uses
    pdf = labels.label_sheet([Asset(tag="GZ-2026-000123", type="server", location=Location(building="主樓"))])
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1


def test_send_out_form_names_the_repair_the_asset_and_the_terms(t0: datetime) -> None:
    from assets import domain

    asset = Asset(tag="GZ-S-1", type="laptop", model="T14", location=Location(building="主樓"), vendor="聯想")
    repair, _ = domain.open_repair(asset=asset, vendor="聯想服務站", ticket_id="tkt-9", note="黑屏", now=t0, transport_arranged=True)

    text = PdfReader(io.BytesIO(labels.send_out_form(repair, asset, now=t0))).pages[0].extract_text()

    assert repair.id in text and "GZ-S-1" in text and "tkt-9" in text and "付费维修" in text


async def test_service_tag_allocation_reserves_blocks(world: Adapters) -> None:
    tags = await service.allocate_tags(3, register=world.register, pattern="{prefix}-{year}-{seq:06d}", prefix="HQ", year=2026)
    more = await service.allocate_tags(1, register=world.register, pattern="{prefix}-{year}-{seq:06d}", prefix="HQ", year=2026)

    assert tags + more == ["HQ-2026-000001", "HQ-2026-000002", "HQ-2026-000003", "HQ-2026-000004"]


def test_a_malformed_csv_is_an_unreadable_file_not_a_crash() -> None:
    import pytest

    from assets.register_io import UnreadableFile, read_rows

    with pytest.raises(UnreadableFile, match="line"):
        read_rows(b'tag,type\r\nGZ-1,"' + b"x" * 200_000 + b'"\r\n', file_name="x.csv")  # over the csv field limit
    rows = read_rows(b'tag,type,note\r\nGZ-1,desktop,"two\nlines"\r\n', file_name="x.csv")
    assert rows == [{"tag": "GZ-1", "type": "desktop", "note": "two\nlines"}]
