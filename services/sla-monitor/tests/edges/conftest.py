"""The SLA monitor app on memory adapters, with the real calendar book (package holiday data, no uploads)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sla_monitor import calendar_service
from sla_monitor.adapters.memory import MemoryCalendarStore, MemoryOutbox, MemoryTimerStore
from sla_monitor.calendar_book import BookHolder
from sla_monitor.main import Adapters, create_app
from sla_monitor.settings import SlaSettings


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
    app = create_app(SlaSettings(), adapters=adapters)
    # ASGITransport does not run the lifespan, and the lifespan is what puts the adapters on the app.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla.test") as client:
            yield client
