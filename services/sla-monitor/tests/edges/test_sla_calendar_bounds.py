"""Calendar questions are bounded (issue 12, finding 7): more than a few years is a 422 naming the field, answered
at once, and /healthz stays responsive; the same rule holds for the gateway's calendar.query over NATS."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from opsdesk_shared.contracts.calendars import DeadlineQuery, ElapsedQuery
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from sla_monitor import calendar, calendar_service
from sla_monitor.main import Adapters, create_app
from sla_monitor.settings import SlaSettings


@pytest.fixture
async def signed(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla.test",
                                     auth=InternalTokenAuth("sla-monitor")) as client:
            yield client


async def test_elapsed_from_year_1_to_9999_is_a_422_naming_end_and_answers_at_once(signed: httpx.AsyncClient) -> None:
    began = time.perf_counter()
    r = await signed.get("/api/v1/calendars/office-hours/elapsed",
                         params={"start": "0001-01-01T00:00:00+00:00", "end": "9999-12-31T00:00:00+00:00"})

    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == ["query", "end"] and "5 years" in r.json()["detail"][0]["msg"]
    assert time.perf_counter() - began < 0.5


async def test_healthz_answers_while_wide_questions_are_asked(signed: httpx.AsyncClient) -> None:
    wide = {"start": "0001-01-01T00:00:00+00:00", "end": "9999-12-31T00:00:00+00:00"}
    questions = [signed.get("/api/v1/calendars/office-hours/elapsed", params=wide) for _ in range(20)]

    began = time.perf_counter()
    *answers, health = await asyncio.gather(*questions, signed.get("/healthz"))

    assert health.status_code == 200 and time.perf_counter() - began < 2
    assert {a.status_code for a in answers} == {422}


async def test_five_years_is_still_answered(signed: httpx.AsyncClient) -> None:
    r = await signed.get("/api/v1/calendars/office-hours/elapsed",
                         params={"start": "2021-01-01T00:00:00+08:00", "end": "2026-01-01T00:00:00+08:00"})
    assert r.status_code == 200 and r.json()["business_minutes"] > 0


async def test_a_deadline_beyond_five_years_of_service_time_is_a_422_naming_business_minutes(signed: httpx.AsyncClient) -> None:
    # 10 million minutes is within the route's own limit, but office hours need about 80 years to hold them.
    r = await signed.get("/api/v1/calendars/office-hours/deadline",
                         params={"start": "2026-01-05T09:00:00+08:00", "business_minutes": 10_000_000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "business_minutes"]
    # A little under 5 years of 24x7 minutes, but 5 years of office hours hold far fewer: refused by the search.
    r = await signed.get("/api/v1/calendars/office-hours/deadline",
                         params={"start": "2026-01-05T09:00:00+08:00", "business_minutes": 2_000_000})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "business_minutes"]


def test_the_bus_question_has_the_same_bounds(adapters: Adapters) -> None:
    """calendar.query over NATS (the gateway's composed /calendars routes) answers through the same use case."""
    far = ElapsedQuery(calendar="24x7", start=datetime(1, 1, 1, tzinfo=UTC), end=datetime(9999, 1, 1, tzinfo=UTC))
    reply = calendar_service.answer(far, adapters.book.book)
    assert reply.status == 422 and reply.errors[0]["loc"] == ["query", "end"]
    big = DeadlineQuery(calendar="24x7", start=datetime(2026, 1, 1, tzinfo=UTC), business_minutes=5 * 366 * 1440 + 1)
    reply = calendar_service.answer(big, adapters.book.book)
    assert reply.status == 422 and reply.errors[0]["loc"] == ["query", "business_minutes"]


def test_the_day_loop_itself_refuses_more_than_its_search_years() -> None:
    with pytest.raises(calendar.NotWithin, match="20 years"):
        calendar.elapsed(calendar.twenty_four_seven(), datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC))
