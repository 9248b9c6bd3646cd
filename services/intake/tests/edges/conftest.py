"""The intake app on memory adapters, driven over ASGI with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from intake.adapters.memory import (
    MemoryAssetDirectory,
    MemoryBusinessCalendars,
    MemoryCatalogStore,
    MemoryOutbox,
    MemoryTicketStore,
)
from intake.catalog_cache import Catalog
from intake.identity import Identity, memory_identity
from intake.identity.domain import User, key_hash
from intake.main import create_app
from intake.settings import IntakeSettings
from intake.wiring import Adapters
from opsdesk_shared.contracts.calendars import CalendarReply

TOKEN = "edge-test-token-0123456789abcdef"
METRICS_TOKEN = "edge-test-scrape-token-0123456789abcdef"
MAX_BODY_BYTES = 2048
ASSETS: dict[str, dict[str, Any]] = {
    "GZ-2026-000001": {"tag": "GZ-2026-000001", "kind": "printer", "model": "HP LaserJet M406", "location": "3F"},
}


PERSONAS: dict[str, tuple[str, str | None]] = {
    # username: (role, department)
    "agent1": ("agent", "服務台"),
    "manager1": ("manager", None),
    "admin1": ("admin", None),
    "auditor1": ("auditor", None),
    "agency1": ("agency", None),
    "eng1": ("engineer", None),
    "eng2": ("engineer", None),
    "req-office": ("requester", "辦公室"),
    "req-office2": ("requester", "辦公室"),
    "req-finance": ("requester", "財務科"),
}


@pytest.fixture
async def identity() -> Identity:
    ident = memory_identity(jwt_secret="edge-test-secret-" + "x" * 40)
    now = datetime.now(UTC)
    await ident.keys.ensure(key_hash(TOKEN), name="edge-tests", role="agent", now=now)
    for username, (role, department) in PERSONAS.items():
        # Engineers are linked to the roster engineer of the same id, which the desk's tests assign tickets to.
        engineer_id = username if role == "engineer" else None
        await ident.users.add(User(username=username, name=username.upper(), role=role, department=department,  # type: ignore[arg-type]
                                   engineer_id=engineer_id, created_at=now, updated_at=now))
    return ident


@pytest.fixture
async def adapters(identity: Identity) -> Adapters:
    catalog = Catalog(MemoryCatalogStore())
    await catalog.start()
    return Adapters(
        store=MemoryTicketStore(),
        outbox=MemoryOutbox(),
        catalog=catalog,
        assets=MemoryAssetDirectory(dict(ASSETS)),
        authenticator=identity.authenticator,
        identity=identity,
        calendars=MemoryBusinessCalendars(
            {
                "office-hours": CalendarReply(
                    result={"due_at": "2026-11-27T01:30:00Z", "approximate": False, "calendar": "office-hours"}
                )
            }
        ),
    )


@pytest.fixture
async def as_user(identity: Identity) -> Callable[[str], dict[str, str]]:
    """Headers that sign in as one of PERSONAS, with a real signed JWT."""
    users = {name: await identity.users.get(name) for name in PERSONAS}

    def headers(username: str) -> dict[str, str]:
        user = users[username]
        assert user is not None
        return {"Authorization": f"Bearer {identity.signer.issue(user)}"}

    return headers


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    settings = IntakeSettings(environment="test", max_body_bytes=MAX_BODY_BYTES, OPSDESK_METRICS_TOKEN=METRICS_TOKEN)
    app = create_app(settings, adapters=adapters)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as c:
            yield c


@pytest.fixture
def scrape() -> dict[str, str]:
    """What Prometheus sends to /metrics."""
    return {"Authorization": f"Bearer {METRICS_TOKEN}"}


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
