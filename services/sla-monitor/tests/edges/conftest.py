"""The SLA monitor app on memory adapters, with the real calendar book (package holiday data, no uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from sla_monitor import calendar_service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.main import Adapters, create_app
from sla_monitor.settings import SlaSettings

# The scrape token /metrics answers to; every other route needs an internal token the gateway signed.
METRICS_TOKEN = "edge-test-scrape-token-0123456789abcdef"


@pytest.fixture
def scrape() -> dict[str, str]:
    """Headers Prometheus sends: the scrape token (the client's internal-token auth is switched off for these)."""
    return {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
async def adapters() -> Adapters:
    calendars = MemoryCalendarStore()
    return Adapters(
        store=MemoryTimerStore(),
        outbox=MemoryOutbox(),
        calendars=calendars,
        book=BookHolder(await calendar_service.load_book(calendars)),
    )


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SlaSettings(**{"OPSDESK_METRICS_TOKEN": METRICS_TOKEN}), adapters=adapters)
    # ASGITransport does not run the lifespan, and the lifespan is what puts the adapters on the app.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sla.test", auth=InternalTokenAuth("sla-monitor")
        ) as client:
            yield client
