"""Requesters imported from a CSV: good rows created, bad rows reported by spreadsheet row number."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.identity.adapters_memory import MemoryUserStore
from intake.identity.domain import new_user
from intake.identity.requesters_csv import CsvRejected, import_requesters, parse

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
HEADER = "username,name,department,email,phone\r\n"


def _csv(*rows: str, header: str = HEADER, bom: bool = False) -> bytes:
    return (("\ufeff" if bom else "") + header + "".join(r + "\r\n" for r in rows)).encode()


async def test_good_rows_become_requesters_without_password() -> None:
    users = MemoryUserStore()
    data = _csv("Wang,王小明,辦公室,wang@example.org,020-12345678", "li,李四,財務科,,")

    report = await import_requesters(data, users=users, now=NOW)

    assert report.created == ["wang", "li"] and report.errors == [] and report.skipped == []
    wang = users.users["wang"]
    assert (wang.name, wang.role, wang.department, wang.email, wang.phone) == ("王小明", "requester", "辦公室", "wang@example.org", "020-12345678")
    assert wang.password_hash is None
    assert (users.users["li"].email, users.users["li"].phone) == (None, None)


async def test_bad_rows_are_reported_with_their_row_number_and_good_rows_still_imported() -> None:
    users = MemoryUserStore()
    data = _csv(
        "wang,王小明,辦公室,,",  # row 2
        "bad name,張三,辦公室,,",  # row 3: username
        "zhao,趙六,,,",  # row 4: department missing
        "qian,錢七,辦公室,not-an-email,",  # row 5
        "sun,孫八,辦公室,,phone!",  # row 6
        "zhou,周九,辦公室",  # row 7: too few fields
        "wu,吳十,辦公室,,",  # row 8
    )

    report = await import_requesters(data, users=users, now=NOW)

    assert report.created == ["wang", "wu"]
    assert [e.row for e in report.errors] == [3, 4, 5, 6, 7]
    messages = {e.row: e.message for e in report.errors}
    assert "username" in messages[3]
    assert "department" in messages[4]
    assert "email" in messages[5]
    assert "phone" in messages[6]
    assert "expected 5 fields" in messages[7]
    assert sorted(users.users) == ["wang", "wu"]


async def test_file_with_utf8_bom_reads_the_same_as_without() -> None:
    rows = ("wang,王小明,辦公室,,",)

    with_bom, _ = parse(_csv(*rows, bom=True), now=NOW)
    without, _ = parse(_csv(*rows), now=NOW)

    assert with_bom == without
    assert with_bom[0][1].username == "wang"


async def test_dry_run_reports_but_writes_nothing() -> None:
    users = MemoryUserStore()
    await users.add(new_user(username="li", name="李四", role="agent", now=NOW))

    report = await import_requesters(_csv("wang,王小明,辦公室,,", "li,李四,財務科,,", "x y,壞,辦公室,,"), users=users, now=NOW, dry_run=True)

    assert (report.created, report.skipped, [e.row for e in report.errors]) == (["wang"], ["li"], [4])
    assert report.dry_run is True
    assert list(users.users) == ["li"]


async def test_username_repeated_in_the_file_is_an_error_naming_the_first_row() -> None:
    users = MemoryUserStore()

    report = await import_requesters(_csv("wang,王小明,辦公室,,", "li,李四,財務科,,", "WANG,王大明,財務科,,"), users=users, now=NOW)

    assert report.created == ["wang", "li"]
    assert [(e.row, e.message) for e in report.errors] == [(4, "username wang repeats row 2")]
    assert users.users["wang"].name == "王小明"


async def test_existing_user_is_skipped_untouched_so_a_file_can_be_imported_again() -> None:
    users = MemoryUserStore()
    data = _csv("wang,王小明,辦公室,,", "li,李四,財務科,,")
    await import_requesters(data, users=users, now=NOW)
    await users.save(users.users["wang"].model_copy(update={"role": "agent"}))

    again = await import_requesters(data, users=users, now=NOW)

    assert (again.created, again.skipped) == ([], ["wang", "li"])
    assert users.users["wang"].role == "agent"


def test_header_columns_may_come_in_any_order_and_case() -> None:
    users, errors = parse(_csv("辦公室,wang,王小明", header="Department, USERNAME ,name\r\n"), now=NOW)

    assert errors == []
    assert (users[0][1].username, users[0][1].department) == ("wang", "辦公室")


def test_blank_lines_are_skipped_and_later_row_numbers_stay_true() -> None:
    users, errors = parse(_csv("wang,王小明,辦公室,,", "", "x y,壞,辦公室,,"), now=NOW)

    assert [row for row, _ in users] == [2]
    assert [e.row for e in errors] == [4]


def test_quoted_field_spanning_lines_reports_the_row_where_it_starts() -> None:
    users, errors = parse(_csv('wang,"王\n小明",辦公室,,', "x y,壞,辦公室,,"), now=NOW)

    assert users[0][1].name == "王\n小明"
    assert [e.row for e in errors] == [4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("username,name,department\r\n王小明".encode("gbk"), "not UTF-8"),
        (b"", "empty"),
        (b"username,name\r\nwang,x\r\n", "department"),
        (b"username,name,department,mobile\r\n", "unknown column mobile"),
    ],
)
def test_unreadable_file_is_rejected_as_a_whole(data: bytes, message: str) -> None:
    with pytest.raises(CsvRejected, match=message):
        parse(data, now=NOW)
