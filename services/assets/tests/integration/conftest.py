"""Repair stores for the integration layer: the same test body runs on the memory store and on the real database."""

from __future__ import annotations

import pytest

from assets.adapters.memory import MemoryRepairStore
from assets.adapters.mongo import MongoAssetRegister, MongoRepairStore


@pytest.fixture
async def mongo_repair_store(mongo_db: object) -> MongoRepairStore:
    store = MongoRepairStore(mongo_db)  # type: ignore[arg-type]
    await store.ensure_indexes()
    return store


@pytest.fixture
def mongo_register(mongo_db: object) -> MongoAssetRegister:
    return MongoAssetRegister(mongo_db)  # type: ignore[arg-type]


@pytest.fixture(params=["memory", "mongo"])
def repair_store(request: pytest.FixtureRequest) -> object:
    # A plain fixture: only it may pull the async Mongo fixture in lazily, so the memory case starts no server.
    if request.param == "memory":
        return MemoryRepairStore()
    return request.getfixturevalue("mongo_repair_store")
