from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.domain import Asset
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared.internal_auth_testing import InternalTokenAuth


@pytest.fixture
def adapters(asset: Asset) -> Adapters:
    return Adapters(register=MemoryAssetRegister([asset]), repairs=MemoryRepairStore(), outbox=MemoryOutbox())


@pytest.fixture
async def client(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(), adapters=adapters)
    # ASGITransport does not run the lifespan, and the lifespan is what puts the adapters on the app.
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://assets.test", auth=InternalTokenAuth("assets")
        ) as client:
            yield client
