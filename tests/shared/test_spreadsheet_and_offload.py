"""opsdesk_shared.spreadsheet (export cells are data, never formulas) and opsdesk_shared.offload (blocking work off
the event loop within a budget, answered 503 past it)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from functools import partial

import httpx
import pytest
from fastapi import APIRouter
from prometheus_client import CollectorRegistry

from opsdesk_shared.app import build_service_app
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from opsdesk_shared.offload import BlockingPool, BudgetExceeded, run_blocking
from opsdesk_shared.settings import ServiceSettings
from opsdesk_shared.spreadsheet import safe_cell, safe_row, unquote_cell


@pytest.mark.parametrize("text", ["=1+1", "+86 138 0000 0000", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "\0=1", "-", "=", "+A1"])
def test_text_starting_like_a_formula_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert unquote_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", [-5, -2.5, 0, 3, True, None, date(2026, 1, 2), datetime(2026, 1, 2, 3, 4), Decimal("-1.5"),
                                   "", "plain", "'quoted", " =1", "１", "-5", "+3.25", "-0.5", ".5", "王小明"])
def test_numbers_dates_and_ordinary_text_are_left_alone(value: object) -> None:
    assert safe_cell(value) is value
    assert unquote_cell(value) is value


def test_safe_row_and_unquote_keep_a_quote_that_guards_nothing() -> None:
    assert safe_row(["=x", 1, None, "y"]) == ["'=x", 1, None, "y"]
    assert unquote_cell("'hello") == "'hello" and unquote_cell("'") == "'" and unquote_cell("'-5") == "'-5"


async def test_blocking_work_returns_its_result_and_its_own_errors() -> None:
    assert await run_blocking(partial(sum, [1, 2, 3]), budget=5, what="adding") == 6

    def fails() -> None:
        raise TimeoutError("the work's own timeout")

    with pytest.raises(TimeoutError, match="own timeout"):  # not mistaken for the budget
        await run_blocking(fails, budget=5, what="failing")


async def test_work_over_budget_raises_and_queued_work_never_starts() -> None:
    pool = BlockingPool("test", workers=1)
    release, ran = threading.Event(), []
    try:
        began = time.perf_counter()
        first = asyncio.create_task(pool.run(partial(release.wait, 5), budget=0.1, what="waiting"))
        second = asyncio.create_task(pool.run(partial(ran.append, "second"), budget=0.1, what="queued"))
        with pytest.raises(BudgetExceeded, match="waiting did not finish within 0.1 s"):
            await first
        with pytest.raises(BudgetExceeded, match="queued"):
            await second
        assert time.perf_counter() - began < 1
        release.set()
        assert await pool.run(partial(ran.append, "third"), budget=5, what="after") is None
        assert ran == ["third"]  # the queued call was dropped when its caller gave up
    finally:
        release.set()
        pool.shutdown()


async def test_the_event_loop_keeps_running_while_work_blocks_a_thread() -> None:
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    ticker = asyncio.create_task(tick())
    await run_blocking(partial(time.sleep, 0.3), budget=5, what="sleeping")
    ticker.cancel()
    assert ticks >= 10


@pytest.fixture
async def service_client() -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.get("/slow")
    async def slow() -> dict[str, str]:
        await run_blocking(partial(time.sleep, 1), budget=0.05, what="drawing the thing")
        return {}

    app = build_service_app(ServiceSettings(service_name="reporting"), title="t", description="d", registry=CollectorRegistry(),
                            routers=[router], wire=None, adapters=object())  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc.test",
                                     auth=InternalTokenAuth("reporting")) as client:
            yield client


async def test_every_service_app_answers_an_overrun_with_503_and_a_reason(service_client: httpx.AsyncClient) -> None:
    response = await service_client.get("/slow")

    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert response.json() == {
        "code": "over_budget", "message": "This took too long; try again later",
        "detail": "drawing the thing did not finish within 0.05 s; the service is busy, try again later or ask for less",
    }
