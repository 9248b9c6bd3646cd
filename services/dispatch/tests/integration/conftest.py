"""Dispatch's stores, memory and Mongo, behind one fixture; Mongo runs on the real server from the devstack plugin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch.adapters.memory import MemoryAssignmentStore
from dispatch.adapters.mongo import MongoAssignmentStore
from dispatch.domain import Assignment
from dispatch.ports import AssignmentStore


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    """None for the memory store, else a fresh database (only then is the server started)."""
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


@pytest.fixture
async def assignments(backend: Any) -> AssignmentStore:
    if backend is None:
        return MemoryAssignmentStore()
    store = MongoAssignmentStore(backend)
    await store.ensure_indexes()
    return store


@pytest.fixture
def make_assignment() -> Callable[..., Assignment]:
    counter = iter(range(1, 1_000_000))

    def make(**overrides: Any) -> Assignment:
        n = next(counter)
        fields: dict[str, Any] = {
            "id": f"assignment-{n}",
            "ticket_id": f"ticket-{n}",
            "ticket_number": f"INC-2026-{n:06d}",
            "engineer_id": "eng-onsite-1",
            "engineer_name": "陳志強",
            "reason": "skill match (printer), load 0/8, role onsite, score 15.00",
            "score": 15.0,
            "assigned_at": datetime(2026, 3, 14, 9, 30, 0, 123000, tzinfo=UTC),
        }
        fields.update(overrides)
        return Assignment(**fields)

    return make
