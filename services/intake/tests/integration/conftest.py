"""Intake's stores, memory and Mongo, behind one fixture; Mongo runs on the real server from the devstack plugin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from intake.adapters.memory import MemoryTicketStore
from intake.adapters.mongo import MongoTicketStore
from intake.domain import Ticket
from intake.ports import TicketStore
from opsdesk_shared.contracts import Requester

SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    """None for the memory store, else a fresh database (only then is the server started)."""
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


@pytest.fixture
async def store(backend: Any) -> TicketStore:
    if backend is None:
        return MemoryTicketStore()
    mongo = MongoTicketStore(backend)
    await mongo.ensure_indexes()
    return mongo


@pytest.fixture
def make_ticket() -> Callable[..., Ticket]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Ticket:
        from intake.domain import StatusChange

        n = next(counter)
        # Millisecond precision: BSON dates hold milliseconds.
        created = datetime(2026, 3, 14, 9, 30, 0, 123000, tzinfo=UTC)
        fields: dict[str, Any] = {
            "id": f"ticket-{n}",
            "number": f"INC-2026-{n:06d}",
            "title": "打印機卡紙",
            "description": "三樓打印機卡紙",
            "requester": Requester(name="王小明", phone="020-12345678"),
            "channel": "hotline",
            "service_code": "RS-REPAIR",
            "priority": "P3",
            "asset_tag": "GZ-2026-000001",
            "reported_at": datetime(2026, 3, 14, 17, 0, 0, 456000, tzinfo=SHANGHAI),
            "created_at": created,
            "status": "new",
            "history": (StatusChange(status="new", at=created, by="desk"),),
        }
        fields.update(overrides)
        return Ticket(**fields)

    return make
