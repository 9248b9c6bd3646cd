"""Timer stores for the integration layer: the same test body runs on the memory store and on the real database."""

from __future__ import annotations

import pytest

from sla_monitor.adapters.memory import MemoryTimerStore
from sla_monitor.adapters.mongo import MongoTimerStore
from sla_monitor.due_queue import ScheduledTimerStore


@pytest.fixture
async def mongo_timer_store(mongo_db: object) -> MongoTimerStore:
    store = MongoTimerStore(mongo_db)  # type: ignore[arg-type]
    await store.ensure_indexes()
    return store


@pytest.fixture(params=["memory", "mongo", "scheduled-mongo"])
def timer_store(request: pytest.FixtureRequest) -> object:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return MemoryTimerStore()
    if request.param == "scheduled-mongo":
        # What the service runs: the Mongo store behind the in-memory due queue.
        return ScheduledTimerStore(request.getfixturevalue("mongo_timer_store"))
    return request.getfixturevalue("mongo_timer_store")
