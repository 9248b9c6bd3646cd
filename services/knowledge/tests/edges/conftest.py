"""The knowledge app on memory adapters, driven over HTTP as the gateway would: every request carries an internal
token for `knowledge`, minted for the caller a test names with `as_role` (the test auth turns those headers into
claims and strips them; the service never sees them)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from knowledge.main import Adapters, create_app, memory_adapters
from knowledge.settings import KnowledgeSettings
from knowledge.text import Analyzer
from opsdesk_shared.internal_auth_testing import InternalTokenAuth


def as_role(role: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": role, "X-Opsdesk-User": user or f"{role}-1"}


@pytest.fixture
def settings() -> KnowledgeSettings:
    return KnowledgeSettings(environment="test", attachment_max_bytes=600_000, max_deliver=3)


@pytest.fixture
def adapters(settings: KnowledgeSettings, analyzer: Analyzer) -> Adapters:
    return memory_adapters(settings, analyzer=analyzer)


@pytest.fixture
async def client(adapters: Adapters, settings: KnowledgeSettings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://knowledge.test", auth=InternalTokenAuth("knowledge")
        ) as c:
            yield c
