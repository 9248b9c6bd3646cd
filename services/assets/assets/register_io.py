"""The register as CSV or XLSX, both directions; every row is validated before anything is written."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from opsdesk_shared.offload import BudgetExceeded
from opsdesk_shared.spreadsheet import safe_row, unquote_cell

from .domain import ASSET_STATUSES, TAG_RE, Asset, CiType, Location, valid_tag, validate_attributes
from .texts import Said, render

COLUMNS = (
    "tag", "type", "name", "model", "serial", "building", "floor", "room", "owner", "department", "vendor",
    "purchase_date", "warranty_end", "status",
)
ATTR_PREFIX = "attr."
__all__ = ["TAG_RE"]
# Rows are read into memory for validation (about 1.5 KB each) and parsing XLSX costs about a millisecond a row:
# 200,000 rows was over 300 MB and minutes of CPU, past the pod's 384 MiB. A bigger register is imported in parts.
MAX_ROWS = 50_000
# Blank rows are skipped but still parsed, so they are bounded too (generous for a sheet's trailing empty rows).
MAX_BLANK_ROWS = 10_000
# An XLSX is a zip: its parts are bounded unpacked, so a small upload cannot inflate into gigabytes of XML.
MAX_XLSX_UNPACKED = 128 * 1024 * 1024
_CHECK_EVERY = 256  # rows between looks at the clock


class RowError(BaseModel):
    model_config = ConfigDict(frozen=True)

    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str = Field(description="The reason, in the caller's language")
    code: str | None = Field(default=None, description="The reason's stable code (texts.py), when it has one")
    params: dict[str, str | int | None] = Field(default_factory=dict, description="What the reason names")

    @classmethod
    def of(cls, *, row: int, column: str, said: str) -> RowError:
        """A row error from a `Said` (its code and parameters kept, so it can be said in any language)."""
        if isinstance(said, Said):
            return cls(row=row, column=column, message=str(said), code=said.code,
                       params={k: v if isinstance(v, int | None) else str(v) for k, v in said.params.items()})
        return cls(row=row, column=column, message=said)

    def said_in(self, language: str) -> RowError:
        return self if self.code is None else self.model_copy(update={"message": render(self.code, self.params, language)})


class ImportReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    rows: int
    valid: int
    errors: list[RowError]
    written: int = 0
    dry_run: bool = True
    import_id: str | None = None

    def said_in(self, language: str) -> ImportReport:
        """The report with its row errors in `language`."""
        return self.model_copy(update={"errors": [e.said_in(language) for e in self.errors]})


class UnreadableFile(ValueError):
    pass


class TooManyRows(UnreadableFile):
    pass


class _Cap:
    """Counts rows while they are read, refusing the file as soon as one limit is passed (never after the fact)."""

    def __init__(self, budget: float | None) -> None:
        self.rows = self.blank = 0
        self.budget = budget
        self.deadline = None if budget is None else time.monotonic() + budget

    def take(self, blank: bool) -> bool:
        """True to keep the row; raises past MAX_ROWS, MAX_BLANK_ROWS or the deadline."""
        if blank:
            self.blank += 1
            if self.blank > MAX_BLANK_ROWS:
                raise TooManyRows(Said("err.too_many_blank_rows", max=MAX_BLANK_ROWS))
        else:
            self.rows += 1
            if self.rows > MAX_ROWS:
                raise TooManyRows(Said("err.too_many_rows_parts", max=MAX_ROWS))
        if self.deadline is not None and (self.rows + self.blank) % _CHECK_EVERY == 0 and time.monotonic() > self.deadline:
            # Stops this worker thread itself: the request has had its 503 by now, and the CPU is free again.
            raise BudgetExceeded("reading the register file", self.budget or 0)
        return not blank


def read_rows(content: bytes, *, file_name: str, budget: float | None = None) -> list[dict[str, Any]]:
    """Rows as header -> cell value; CSV (UTF-8, BOM allowed) or XLSX by the file name.

    Streams: a file over MAX_ROWS is refused (TooManyRows) as soon as row MAX_ROWS + 1 is read, and reading stops
    after `budget` seconds (BudgetExceeded), so a thread that reads it never outlives its request by long. A cell as our export wrote it ('=x, see opsdesk_shared.spreadsheet) reads
    back as the original text.
    """
    cap = _Cap(budget)
    if file_name.lower().endswith(".xlsx"):
        return _read_xlsx(content, cap)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(Said("err.csv_utf8")) from None
    # newline="" lets the csv module see quoted line breaks in cells; a stray carriage return is a file error.
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            raise UnreadableFile(Said("err.empty_file"))
        reader.fieldnames = [f.strip() for f in reader.fieldnames]
        return [
            {k: unquote_cell(v) for k, v in row.items()}
            for row in reader
            if cap.take(not any((v or "").strip() for v in row.values() if isinstance(v, str)))
        ]
    except csv.Error as exc:
        raise UnreadableFile(Said("err.bad_csv", line=reader.line_num, error=str(exc))) from None


def _read_xlsx(content: bytes, cap: _Cap) -> list[dict[str, Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile(Said("err.bad_xlsx", error=str(exc))) from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise UnreadableFile(Said("err.xlsx_too_big", mb=MAX_XLSX_UNPACKED // (1024 * 1024)))
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableFile(Said("err.bad_xlsx", error=str(exc))) from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)  # read_only: one row parsed at a time
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        return [
            dict(zip(header, (unquote_cell(c) for c in row), strict=False))
            for row in rows
            if cap.take(all(c in (None, "") for c in row))
        ]
    finally:
        workbook.close()


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
        return [], [RowError.of(row=1, column="", said=Said("err.too_many_rows", max=MAX_ROWS))]
    if rows:
        unknown = [c for c in rows[0] if c and c not in COLUMNS and not c.startswith(ATTR_PREFIX)]
        errors.extend(RowError.of(row=1, column=c, said=Said("err.unknown_column")) for c in unknown)
        if "type" not in rows[0] or "building" not in rows[0]:
            errors.append(RowError.of(row=1, column="type" if "type" not in rows[0] else "building", said=Said("err.column_missing")))
            return [], errors
    seen_tags: dict[str, int] = {}
    for number, raw in enumerate(rows, start=2):
        row_errors: list[RowError] = []

        def err(column: str, said: str, number: int = number, row_errors: list[RowError] = row_errors) -> None:
            row_errors.append(RowError.of(row=number, column=column, said=said))

        values = {k: _text(v) for k, v in raw.items() if k}
        tag = values.get("tag") or ""
        if tag:
            if not valid_tag(tag):
                err("tag", Said("err.tag_invalid"))
            elif tag in existing:
                err("tag", Said("err.tag_registered"))
            elif tag in seen_tags:
                err("tag", Said("err.tag_duplicate", row=seen_tags[tag]))
            else:
                seen_tags[tag] = number
        type_code = values.get("type")
        ci_type = types.get(type_code or "")
        if ci_type is None:
            err("type", Said("err.unknown_type", type=type_code) if type_code else Said("err.required"))
        if not values.get("building"):
            err("building", Said("err.required"))
        status = values.get("status") or "in_stock"
        if status not in ASSET_STATUSES:
            err("status", Said("err.one_of", choices=", ".join(ASSET_STATUSES)))
        dates: dict[str, date | None] = {}
        for column in ("purchase_date", "warranty_end"):
            try:
                given = values.get(column)
                dates[column] = date.fromisoformat(given) if given else None
            except ValueError:
                err(column, Said("err.date"))
        if dates.get("purchase_date") and dates.get("warranty_end") and dates["warranty_end"] < dates["purchase_date"]:  # type: ignore[operator]
            err("warranty_end", Said("err.warranty_before"))
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
    """The register as CSV, a chunk at a time (UTF-8 with BOM so spreadsheet programs read the Chinese); every cell
    is data, never a formula (opsdesk_shared.spreadsheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if header:
        writer.writerow(safe_row([*COLUMNS, *attr_columns]))
    first = header
    for count, asset in enumerate(assets, start=1):
        writer.writerow(safe_row("" if v is None else v for v in _row(asset, attr_columns)))
        if count % rows_per_chunk == 0:
            yield (("\ufeff" if first else "") + buffer.getvalue()).encode()
            first = False
            buffer.seek(0)
            buffer.truncate()
    yield (("\ufeff" if first else "") + buffer.getvalue()).encode()


def xlsx_bytes(assets: Iterable[Asset], attr_columns: list[str]) -> bytes:
    """The register as one XLSX sheet; every text cell is data, never a formula (opsdesk_shared.spreadsheet)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("register")
    sheet.append(safe_row([*COLUMNS, *attr_columns]))
    for asset in assets:
        sheet.append(safe_row(_row(asset, attr_columns)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
