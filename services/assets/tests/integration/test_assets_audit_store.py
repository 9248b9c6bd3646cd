"""The tamper-evident trail at assets' storage edge (issue 16), on the memory stores and the real database: a repair's
history (an array) and an item's versions (one document each) are sealed in chain as written; a record changed
behind the application's back is named, and stays broken through a later save."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from assets import domain
from assets.adapters.audit import (
    SealedMemoryAssetRegister,
    SealedMemoryRepairStore,
    SealedMongoAssetRegister,
    SealedMongoRepairStore,
)
from assets.domain import Asset
from opsdesk_shared import audit_chain

pytestmark = pytest.mark.integration
CHANGED = "hash does not match the record (the record was changed)"


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


async def test_repair_history_is_sealed_in_chain_and_a_changed_step_stays_broken(backend: Any, asset: Asset, t0: datetime) -> None:
    repairs = SealedMemoryRepairStore() if backend is None else SealedMongoRepairStore(backend)
    repair, _ = domain.open_repair(asset=asset, vendor=None, ticket_id="tkt-1", note="dead fan", now=t0)
    await repairs.add(repair, [])
    sent, _ = domain.change_status(repair, status="sent_to_vendor", note="to the vendor", now=t0 + timedelta(hours=1))
    stored = await repairs.save(sent, [])
    assert await repairs.get(repair.id) == stored  # the domain never sees a seal

    if backend is None:
        assert isinstance(repairs, SealedMemoryRepairStore)
        history = repairs.sealed[repair.id]["history"]
    else:
        history = (await backend["repairs"].find_one({"_id": repair.id}))["history"]
    assert history[0][audit_chain.PREV] == audit_chain.GENESIS
    assert history[1][audit_chain.PREV] == history[0][audit_chain.HASH]
    assert await repairs.audit_verify() == audit_chain.Verdict(ok=True, checked=2)

    if backend is None:
        assert isinstance(repairs, SealedMemoryRepairStore)
        history[0] = {**history[0], "note": "nothing wrong"}
        kept = repairs.by_id[repair.id]
        repairs.by_id[repair.id] = kept.model_copy(update={"history": (kept.history[0].model_copy(update={"note": "nothing wrong"}), kept.history[1])})
    else:
        await backend["repairs"].update_one({"_id": repair.id}, {"$set": {"history.0.note": "nothing wrong"}})
    broken = f"repair/{repair.id}/history#0: {CHANGED}"
    assert (await repairs.audit_verify()).first_broken == broken
    again = await repairs.get(repair.id)
    assert again is not None
    back, _ = domain.change_status(again, status="returned", note="back", now=t0 + timedelta(days=2))
    await repairs.save(back, [])
    assert (await repairs.audit_verify()).first_broken == broken


async def test_item_versions_are_sealed_each_to_the_one_before(backend: Any, asset: Asset, t0: datetime) -> None:
    register = SealedMemoryAssetRegister() if backend is None else SealedMongoAssetRegister(backend)
    stored, record, _ = domain.new_version(None, asset, by="tester", at=t0)
    await register.add(stored, record, [])
    moved, record2, _ = domain.new_version(stored, stored.model_copy(update={"owner": "王芳"}), by="tester", at=t0 + timedelta(hours=1))
    await register.save(moved, record2, [])
    assert [v.version for v in await register.history(asset.tag)] == [1, 2]
    assert await register.audit_verify() == audit_chain.Verdict(ok=True, checked=2)

    if backend is None:
        assert isinstance(register, SealedMemoryAssetRegister)
        docs = register.version_docs.by_key
        docs[f"{asset.tag}#2"] = {**docs[f"{asset.tag}#2"], "by": "mallory"}
    else:
        await backend["asset_versions"].update_one({"_id": f"{asset.tag}#2"}, {"$set": {"by": "mallory"}})
    assert (await register.audit_verify()).first_broken == f"asset-versions/{asset.tag}#1: {CHANGED}"
