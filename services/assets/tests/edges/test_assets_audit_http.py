"""Assets' `GET /api/v1/audit/verify` (issue 16): repair histories and item versions, read-only, for those who oversee."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest

from assets import domain
from assets.adapters.audit import SealedMemoryAssetRegister, SealedMemoryRepairStore
from assets.adapters.memory import MemoryOutbox
from assets.domain import Asset
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared.internal_auth_testing import InternalTokenAuth


@pytest.fixture
async def sealed(asset: Asset, t0: datetime) -> Adapters:
    register = SealedMemoryAssetRegister()
    stored, record, _ = domain.new_version(None, asset, by="tester", at=t0)
    await register.add(stored, record, [])
    repairs = SealedMemoryRepairStore()
    repair, _ = domain.open_repair(asset=stored, vendor=None, ticket_id="tkt-1", note="dead fan", now=t0)
    await repairs.add(repair, [])
    return Adapters(register=register, repairs=repairs, outbox=MemoryOutbox())


@pytest.fixture
async def api(sealed: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(AssetsSettings(), adapters=sealed)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test",
                                     auth=InternalTokenAuth("assets")) as c:
            yield c


async def test_the_trail_verifies_and_names_a_changed_repair_step(api: httpx.AsyncClient, sealed: Adapters) -> None:
    agency = {"X-Opsdesk-Role": "agency", "X-Opsdesk-User": "ag1"}
    intact = await api.get("/api/v1/audit/verify", headers=agency)
    assert intact.status_code == 200, intact.text
    assert intact.json() == {"ok": True, "checked": 2, "first_broken": None}  # one repair step, one item version

    repairs = sealed.repairs
    assert isinstance(repairs, SealedMemoryRepairStore)
    repair_id, doc = next(iter(repairs.sealed.items()))
    doc["history"][0] = {**doc["history"][0], "by": "mallory"}
    broken = (await api.get("/api/v1/audit/verify", headers=agency)).json()
    assert broken["first_broken"] == f"repair/{repair_id}/history#0: hash does not match the record (the record was changed)"


@pytest.mark.parametrize("role", ["engineer", "agent", "requester"])
async def test_others_may_not_verify(api: httpx.AsyncClient, role: str) -> None:
    assert (await api.get("/api/v1/audit/verify", headers={"X-Opsdesk-Role": role, "X-Opsdesk-User": "u1"})).status_code == 403
