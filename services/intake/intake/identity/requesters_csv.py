"""Import requesters from a CSV (username,name,department,email,phone), reporting bad rows by row number.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first requester row 2. Good rows are
imported even when other rows are bad; a user that already exists is skipped, untouched, so a fixed file can
simply be imported again. Imported requesters get no password: they cannot log in until an admin sets one.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError

from .domain import PHONE_PATTERN, IdentityError, User, new_user, normalise_username
from .ports import UserStore

COLUMNS = ("username", "name", "department", "email", "phone")
REQUIRED = ("username", "name", "department")
MAX_ROWS = 50_000


class CsvRejected(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False


class _Row(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    department: str = Field(min_length=1, max_length=100)
    email: EmailStr | None = None
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)


def parse(data: bytes, *, now: datetime) -> tuple[list[tuple[int, User]], list[RowError]]:
    """Requester users with their row numbers, and the rows that are wrong. UTF-8 with or without a BOM."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRejected(f"the file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CsvRejected("the file is empty")
    columns = [c.strip().lower() for c in header]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvRejected(f"header lacks {', '.join(missing)}; expected {','.join(COLUMNS)}")
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise CsvRejected(f"unknown column {', '.join(unknown)}; expected {','.join(COLUMNS)}")
    users: list[tuple[int, User]] = []
    errors: list[RowError] = []
    first_row: dict[str, int] = {}
    while True:
        row = reader.line_num + 1  # the line the record starts on: its spreadsheet row unless a field spans lines
        cells = next(reader, None)
        if cells is None:
            break
        if row - 1 > MAX_ROWS:
            raise CsvRejected(f"more than {MAX_ROWS} rows; split the file")
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            errors.append(RowError(row, f"expected {len(columns)} fields, found {len(cells)}"))
            continue
        values = {k: (v.strip() or None) for k, v in zip(columns, cells, strict=True)}
        try:
            parsed = _Row.model_validate(values)
            user = new_user(
                username=normalise_username(parsed.username),
                name=parsed.name,
                role="requester",
                department=parsed.department,
                email=parsed.email,
                phone=parsed.phone,
                now=now,
            )
        except ValidationError as exc:
            errors.append(RowError(row, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())))
            continue
        except IdentityError as exc:
            errors.append(RowError(row, str(exc)))
            continue
        if user.username in first_row:
            errors.append(RowError(row, f"username {user.username} repeats row {first_row[user.username]}"))
            continue
        first_row[user.username] = row
        users.append((row, user))
    return users, errors


async def import_requesters(data: bytes, *, users: UserStore, now: datetime, dry_run: bool = False) -> ImportReport:
    """Create the file's requesters that do not exist yet; with `dry_run` only report what would happen."""
    parsed, errors = parse(data, now=now)
    report = ImportReport(errors=errors, dry_run=dry_run)
    for _, user in parsed:
        exists = (await users.get(user.username) is not None) if dry_run else not await users.add(user)
        (report.skipped if exists else report.created).append(user.username)
    return report
