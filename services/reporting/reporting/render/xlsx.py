"""A report as an XLSX workbook: a cover sheet, then one sheet per section (openpyxl).

Cells hold real values: counts and decimals as numbers, ratios as numbers with a percent format (0.958 shown as
95.8%), local times as Excel dates. Only text is text, and text is written as data, never as a formula.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from opsdesk_shared.spreadsheet import safe_cell, safe_row

from .. import periods
from ..i18n import EMPTY, t

# Typed cell format (reports.py) -> Excel number format.
NUMBER_FORMATS = {
    "pct": "0.0%", "pp": '+0.0%;-0.0%;0.0%', "delta": "+#,##0.##;-#,##0.##;0", "min": "#,##0.0", "days": "#,##0.00",
    "num": "0.00", "time": "yyyy-mm-dd hh:mm",
}


def _local_naive(value: Any) -> datetime | None:
    """Excel has no time zones: a time is written as the agency's wall clock (Asia/Shanghai)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return periods.local(value).replace(tzinfo=None)
    return None


def _value(value: Any) -> tuple[Any, str | None]:
    """(cell value, number format) of a report cell."""
    if value is None or value == "":
        return EMPTY, None
    if isinstance(value, dict) and "f" in value:
        fmt, v = value["f"], value["v"]
        if v is None:
            return EMPTY, None
        if fmt == "time":
            when = _local_naive(v)
            return (when, NUMBER_FORMATS["time"]) if when else (safe_cell(str(v)), None)
        if isinstance(v, int | float) and not isinstance(v, bool):
            return v, NUMBER_FORMATS.get(fmt)
        return safe_cell(str(v)), None
    if isinstance(value, bool):
        return safe_cell(str(value)), None
    if isinstance(value, int | float):
        return value, None
    if isinstance(value, datetime):
        return _local_naive(value), NUMBER_FORMATS["time"]
    return safe_cell(value if isinstance(value, str) else str(value)), None


def _write_row(ws: Any, values: list[Any]) -> None:
    cells: list[Any] = []
    formats: list[str | None] = []
    for v in values:
        value, fmt = _value(v)
        cells.append(value)
        formats.append(fmt)
    ws.append(cells)
    for cell, fmt in zip(ws[ws.max_row], formats, strict=False):
        if fmt:
            cell.number_format = fmt


def render(report: dict[str, Any]) -> bytes:
    lang = report["lang"]
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = t("overview", lang)[:31]
    cover.append([safe_cell(report["title"])])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append(safe_row([t("agency", lang), report.get("agency") or EMPTY]))
    cover.append(safe_row([t("contractor", lang), report.get("contractor") or EMPTY]))
    cover.append(safe_row([t("period", lang), report["period"]]))
    cover.append(safe_row([t("version", lang), report.get("version") or "1.0"]))
    _write_row(cover, [t("generated_at", lang), report["generated_at"]])
    cover.column_dimensions["A"].width = 16
    cover.column_dimensions["B"].width = 30
    used = {cover.title}
    for section in report["sections"]:
        name = section["title"][:28]
        n = 2
        while name in used:
            name = f"{section['title'][:26]}{n}"
            n += 1
        used.add(name)
        ws = wb.create_sheet(name)
        if section.get("type") == "text":
            for paragraph in section.get("paragraphs") or []:
                ws.append([safe_cell(paragraph)])
                ws.cell(ws.max_row, 1).alignment = Alignment(wrap_text=True)
            ws.column_dimensions["A"].width = 120
            continue
        ws.append(safe_row(section["columns"]))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in section["rows"]:
            _write_row(ws, row)
        for i, _ in enumerate(section["columns"]):
            ws.column_dimensions[get_column_letter(i + 1)].width = 40 if i == len(section["columns"]) - 1 and section.get("id") == "breaches" else 22
        if section.get("note"):
            ws.append([])
            ws.append([safe_cell(section["note"])])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
