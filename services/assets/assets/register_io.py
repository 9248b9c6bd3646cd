"""The register as CSV or XLSX, both directions; every row is validated before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import BaseModel, ConfigDict, ValidationError

from .domain import ASSET_STATUSES, TAG_RE, Asset, CiType, Location, valid_tag, validate_attributes

COLUMNS = (
    "tag", "type", "name", "model", "serial", "building", "floor", "room", "owner", "department", "vendor",
    "purchase_date", "warranty_end", "status",
)
ATTR_PREFIX = "attr."
__all__ = ["TAG_RE"]
MAX_ROWS = 200_000


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


class ImportReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: int
    valid: int
    errors: list[RowError]
    written: int = 0
    dry_run: bool = True
    import_id: str | None = None


class UnreadableFile(ValueError):
    pass


def read_rows(content: bytes, *, file_name: str) -> list[dict[str, Any]]:
    """Rows as header -> cell value; CSV (UTF-8, BOM allowed) or XLSX by the file name."""
    if file_name.lower().endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise UnreadableFile(f"not a readable XLSX file: {exc}") from None
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        out = [dict(zip(header, row, strict=False)) for row in rows if any(c not in (None, "") for c in row)]
        workbook.close()
        return out
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("CSV must be UTF-8") from None
    # newline="" lets the csv module see quoted line breaks in cells; a stray carriage return is a file error.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            raise UnreadableFile("the file is empty")
        reader.fieldnames = [f.strip() for f in reader.fieldnames]
        return [row for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))]
    except csv.Error as exc:
        raise UnreadableFile(f"not a readable CSV file (line {reader.line_num}): {exc}") from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    text = str(value).strip()
    return text or None


def validate_rows(
    rows: list[dict[str, Any]], *, types: dict[str, CiType], existing: set[str]
) -> tuple[list[tuple[int, Asset | None]], list[RowError]]:
    """(row number, asset) for valid rows (asset tag "" when it is to be allocated) and every error found."""
    errors: list[RowError] = []
    good: list[tuple[int, Asset | None]] = []
    if len(rows) > MAX_ROWS:
        return [], [RowError(row=1, column="", message=f"more than {MAX_ROWS} rows")]
    if rows:
        unknown = [c for c in rows[0] if c and c not in COLUMNS and not c.startswith(ATTR_PREFIX)]
        errors.extend(RowError(row=1, column=c, message="unknown column") for c in unknown)
        if "type" not in rows[0] or "building" not in rows[0]:
            errors.append(RowError(row=1, column="type" if "type" not in rows[0] else "building", message="required column missing"))
            return [], errors
    seen_tags: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        row_errors: list[RowError] = []

        def err(column: str, message: str, number: int = number, row_errors: list[RowError] = row_errors) -> None:
            row_errors.append(RowError(row=number, column=column, message=message))

        values = {k: _text(v) for k, v in raw.items() if k}
        tag = values.get("tag") or ""
        if tag:
            if not valid_tag(tag):
                err("tag", "invalid tag (letters, digits, - and _; 2 to 40 characters)")
            elif tag in existing:
                err("tag", "already registered")
            elif tag in seen_tags:
                err("tag", f"duplicate of row {seen_tags[tag]}")
            else:
                seen_tags[tag] = number
        type_code = values.get("type")
        ci_type = types.get(type_code or "")
        if ci_type is None:
            err("type", f"unknown type {type_code!r}" if type_code else "is required")
        if not values.get("building"):
            err("building", "is required")
        status = values.get("status") or "in_stock"
        if status not in ASSET_STATUSES:
            err("status", f"must be one of {', '.join(ASSET_STATUSES)}")
        dates: dict[str, date | None] = {}
        for column in ("purchase_date", "warranty_end"):
            try:
                given = values.get(column)
                dates[column] = date.fromisoformat(given) if given else None
            except ValueError:
                err(column, "must be a date (YYYY-MM-DD)")
        if dates.get("purchase_date") and dates.get("warranty_end") and dates["warranty_end"] < dates["purchase_date"]:  # type: ignore[operator]
            err("warranty_end", "is before purchase_date")
        attributes: dict[str, Any] = {}
        if ci_type is not None:
            attr_given = {k.removeprefix(ATTR_PREFIX): v for k, v in raw.items() if k and k.startswith(ATTR_PREFIX) and _text(v) is not None}
            attributes, attr_errors = validate_attributes(ci_type, attr_given)
            for name, message in attr_errors:
                err(ATTR_PREFIX + name, message)
        if row_errors:
            errors.extend(row_errors)
            continue
        try:
            asset = Asset(
                tag=tag, type=type_code or "", name=values.get("name"), model=values.get("model") or "",
                serial=values.get("serial"), location=Location(building=values["building"] or "", floor=values.get("floor"), room=values.get("room")),
                owner=values.get("owner"), department=values.get("department"), vendor=values.get("vendor"),
                status=status, purchase_date=dates.get("purchase_date"), warranty_end=dates.get("warranty_end"),  # type: ignore[arg-type]
                attributes=attributes,
            )
        except ValidationError as exc:
            errors.extend(RowError(row=number, column=str(e["loc"][0]), message=e["msg"]) for e in exc.errors())
            continue
        good.append((number, asset))
    return good, errors


def attribute_columns(types: Iterable[CiType]) -> list[str]:
    names = sorted({a.name for t in types for a in t.attributes})
    return [ATTR_PREFIX + n for n in names]


def _row(asset: Asset, attr_columns: list[str]) -> list[Any]:
    base = [
        asset.tag, asset.type, asset.name, asset.model, asset.serial, asset.location.building, asset.location.floor,
        asset.location.room, asset.owner, asset.department, asset.vendor,
        asset.purchase_date.isoformat() if asset.purchase_date else None,
        asset.warranty_end.isoformat() if asset.warranty_end else None, asset.status,
    ]
    return base + [asset.attributes.get(c.removeprefix(ATTR_PREFIX)) for c in attr_columns]


def csv_chunks(
    assets: Iterable[Asset], attr_columns: list[str], *, rows_per_chunk: int = 500, header: bool = True
) -> Iterator[bytes]:
    """The register as CSV, a chunk at a time (UTF-8 with BOM so spreadsheet programs read the Chinese)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow([*COLUMNS, *attr_columns])
    first = header
    for count, asset in enumerate(assets, start=1):
        writer.writerow(["" if v is None else v for v in _row(asset, attr_columns)])
        if count % rows_per_chunk == 0:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode()


def xlsx_bytes(assets: Iterable[Asset], attr_columns: list[str]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("register")
    sheet.append([*COLUMNS, *attr_columns])
    for asset in assets:
        sheet.append(_row(asset, attr_columns))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
