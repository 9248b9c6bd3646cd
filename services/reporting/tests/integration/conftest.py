"""Event projections for the integration layer: the same test body runs on memory and on the real database."""

from __future__ import annotations

import pytest

from reporting.adapters.memory import MemoryEventProjection
from reporting.adapters.mongo import MongoEventProjection


@pytest.fixture
async def mongo_projection(mongo_db: object) -> MongoEventProjection:
    projection = MongoEventProjection(mongo_db)  # type: ignore[arg-type]
    await projection.ensure_indexes()
    return projection


@pytest.fixture(params=["memory", "mongo"])
def projection(request: pytest.FixtureRequest) -> object:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return MemoryEventProjection()
    return request.getfixturevalue("mongo_projection")
