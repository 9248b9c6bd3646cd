"""A report as an XLSX workbook: a cover sheet, then one sheet per section (openpyxl)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from opsdesk_shared.spreadsheet import safe_cell, safe_row

from ..i18n import t
from .pdf import stamp


def _cell(value: Any) -> Any:
    """Numbers stay numbers; any text (a ticket title, a department) is written as data, never as a formula."""
    if value is None:
        return "-"
    if isinstance(value, int | float | str):
        return safe_cell(value)
    return safe_cell(str(value))


def render(report: dict[str, Any]) -> bytes:
    lang = report["lang"]
    wb = Workbook()
    cover = wb.active
    assert cover is not None
    cover.title = t("overview", lang)[:31]
    cover.append([safe_cell(report["title"])])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append(safe_row([t("period", lang), report["period"]]))
    cover.append([t("generated_at", lang), stamp(report["generated_at"])])
    used = {cover.title}
    for section in report["sections"]:
        name = section["title"][:28]
        n = 2
        while name in used:
            name = f"{section['title'][:26]}{n}"
            n += 1
        used.add(name)
        ws = wb.create_sheet(name)
        ws.append(safe_row(section["columns"]))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in section["rows"]:
            ws.append([_cell(v) for v in row])
        for i, _ in enumerate(section["columns"]):
            ws.column_dimensions[chr(ord("A") + i)].width = 22
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
