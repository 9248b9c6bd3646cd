"""The dispatch app and bus edge on memory adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from dispatch.main import Adapters, create_app
from dispatch.settings import DispatchSettings
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

METRICS_TOKEN = "dispatch-edge-scrape-token"


@pytest.fixture
def adapters() -> Adapters:
    return Adapters(roster=MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE), assignments=MemoryAssignmentStore(), outbox=MemoryOutbox())


@pytest.fixture
def settings() -> DispatchSettings:
    return DispatchSettings(environment="test", max_deliver=3, OPSDESK_METRICS_TOKEN=METRICS_TOKEN)


@pytest.fixture
async def client(adapters: Adapters, settings: DispatchSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://dispatch.test", auth=InternalTokenAuth("dispatch")
        ) as c:
            yield c
