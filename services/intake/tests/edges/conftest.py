"""The intake app on memory adapters, driven over ASGI with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from intake.adapters.memory import (
    MemoryAssetDirectory,
    MemoryBusinessCalendars,
    MemoryOutbox,
    MemoryTicketStore,
    MemoryTokenStore,
)
from intake.auth import Authenticator, token_hash
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.contracts.calendars import CalendarReply

TOKEN = "edge-test-token-0123456789abcdef"
MAX_BODY_BYTES = 2048
ASSETS: dict[str, dict[str, Any]] = {
    "GZ-2026-000001": {"tag": "GZ-2026-000001", "kind": "printer", "model": "HP LaserJet M406", "location": "3F"},
}


@pytest.fixture
async def adapters() -> Adapters:
    tokens = MemoryTokenStore()
    await tokens.ensure(token_hash(TOKEN), role="agent", name="edge tests")
    return Adapters(
        store=MemoryTicketStore(),
        outbox=MemoryOutbox(),
        tokens=tokens,
        assets=MemoryAssetDirectory(dict(ASSETS)),
        authenticator=Authenticator(tokens),
        calendars=MemoryBusinessCalendars(
            {
                "office-hours": CalendarReply(
                    result={"due_at": "2026-11-27T01:30:00Z", "approximate": False, "calendar": "office-hours"}
                )
            }
        ),
    )


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(IntakeSettings(environment="test", max_body_bytes=MAX_BODY_BYTES), adapters=adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as c:
            yield c


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def ticket_body() -> dict[str, Any]:
    return {
        "title": "打印機卡紙",
        "description": "三樓打印機卡紙,無法打印",
        "requester": {"name": "王小明", "phone": "020-12345678", "department": "辦公室"},
        "channel": "hotline",
        "service_code": "RS-REPAIR",
        "asset_tag": "GZ-2026-000001",
    }
