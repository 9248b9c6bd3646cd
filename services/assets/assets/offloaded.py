"""The assets service's blocking work, off the event loop within a time budget (opsdesk_shared.offload).

Label sheets (a QR code per asset), send-out forms, the register as XLSX and reading an uploaded register are
CPU work of seconds; on the event loop they stopped the whole service, `/healthz` included. The edges await these
instead; past its budget a request is answered 503.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from opsdesk_shared.offload import BlockingPool

from . import labels, register_io
from .domain import Asset, CiType, Repair

# Under the gateway's 15 s upstream timeout: an answer later than that would reach no one.
REQUEST_BUDGET_SECONDS = 10.0
# Reading and checking an uploaded register; reading also stops itself at this budget (register_io.read_rows).
IMPORT_BUDGET_SECONDS = 12.0
_pool = BlockingPool("assets-files", workers=2)


async def label_sheet(assets: Sequence[Asset], *, type_names: dict[str, str]) -> bytes:
    return await _pool.run(partial(labels.label_sheet, assets, type_names=type_names), budget=REQUEST_BUDGET_SECONDS,
                           what=f"drawing {len(assets)} labels")


async def send_out_form(
    repair: Repair, asset: Asset, *, now: datetime, type_name: str | None = None, ticket_number: str | None = None
) -> bytes:
    form = partial(labels.send_out_form, repair, asset, now=now, type_name=type_name, ticket_number=ticket_number)
    return await _pool.run(form, budget=REQUEST_BUDGET_SECONDS,
                           what="drawing the send-out form")


async def register_xlsx(assets: Sequence[Asset], attr_columns: list[str]) -> bytes:
    return await _pool.run(partial(register_io.xlsx_bytes, assets, attr_columns), budget=REQUEST_BUDGET_SECONDS,
                           what=f"writing {len(assets)} assets as XLSX")


async def read_register(content: bytes, *, file_name: str) -> list[dict[str, Any]]:
    budget = IMPORT_BUDGET_SECONDS
    return await _pool.run(partial(register_io.read_rows, content, file_name=file_name, budget=budget), budget=budget,
                           what="reading the register file")


async def validate_register(
    rows: list[dict[str, Any]], *, types: dict[str, CiType], existing: set[str]
) -> tuple[list[tuple[int, Asset | None]], list[register_io.RowError]]:
    return await _pool.run(partial(register_io.validate_rows, rows, types=types, existing=existing),
                           budget=IMPORT_BUDGET_SECONDS, what="checking the register file")
