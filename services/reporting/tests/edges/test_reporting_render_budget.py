"""A slow render runs off the event loop within a budget: /healthz answers meanwhile, and an overrun is a 503."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting import generation, service
from reporting.adapters.memory import MemoryEventSource, MemoryPublisher
from reporting.main import create_app, memory_adapters
from reporting.render import forms, pdf
from reporting.sample_month import Month, generate
from reporting.settings import ReportingSettings


@pytest.fixture(scope="module")
def month() -> Month:
    return generate(tickets=20)


@pytest.fixture
async def client(month: Month) -> AsyncIterator[httpx.AsyncClient]:
    adapters = memory_adapters(ReportingSettings(), source=MemoryEventSource(), publisher=MemoryPublisher(),
                               clock=lambda: datetime(2026, 12, 2, tzinfo=UTC))
    for envelope in month.events:
        await service.project(envelope, models=adapters.holder.models, live=adapters.holder.live)
    app = create_app(ReportingSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                     auth=InternalTokenAuth("reporting")) as c:
            yield c


class SlowRender:
    """Stands in for a renderer: blocks its thread until released (or 5 s), like a huge report would."""

    def __init__(self) -> None:
        self.started, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, *_: Any, **__: Any) -> bytes:
        self.started.set()
        self.release.wait(5)
        self.finished.set()
        return b"%PDF-1.4 slow"


@pytest.fixture
def slow(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlowRender]:
    render = SlowRender()
    monkeypatch.setattr(pdf, "render", render)
    monkeypatch.setattr(forms, "render", render)
    yield render
    render.release.set()  # free the worker for the tests after this one


def major_incident(month: Month) -> str:
    return next(e.subject_id for e in month.events if e.type == "ticket.created" and e.data["major_incident"])


async def test_healthz_answers_while_a_report_pdf_is_being_drawn(client: httpx.AsyncClient, month: Month, slow: SlowRender) -> None:
    download = asyncio.create_task(client.get(f"/api/v1/reports/major-incident/{major_incident(month)}?format=pdf"))
    for _ in range(500):  # at most 5 s for the request to reach the renderer
        if slow.started.is_set() or download.done():
            break
        await asyncio.sleep(0.01)
    assert slow.started.is_set(), download.result().text if download.done() else "the render never started"

    began = time.perf_counter()
    health = await client.get("/healthz")
    took = time.perf_counter() - began

    assert health.status_code == 200 and took < 1.0
    assert not slow.finished.is_set()  # the render was still going while /healthz answered
    slow.release.set()
    response = await download
    assert response.status_code == 200 and response.content == b"%PDF-1.4 slow"


async def test_a_render_over_budget_is_a_503_that_says_so(
    client: httpx.AsyncClient, month: Month, slow: SlowRender, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(generation, "REQUEST_BUDGET_SECONDS", 0.2)
    ticket_id = month.events[0].subject_id

    began = time.perf_counter()
    response = await client.get(f"/api/v1/forms/daily-maintenance/{ticket_id}")

    assert response.status_code == 503 and time.perf_counter() - began < 3
    assert "did not finish within 0.2 s" in response.json()["detail"] and "form" in response.json()["detail"]
    assert response.headers["retry-after"]
