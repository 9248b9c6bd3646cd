"""The tamper-evident trail at reporting's storage edge (issue 16), on both report stores: a stored report's sign-off
history is sealed as it grows; reads never show a seal; a step changed in the database is named and stays broken."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared import audit_chain
from reporting import signing
from reporting.adapters.memory import MemoryPublisher, MemoryReadModels, MemoryReportStore
from reporting.adapters.mongo import MongoReportStore
from reporting.periods import TZ

pytestmark = pytest.mark.integration

SERIES = "repair-summary:2026-11:zh-CN"
AT = datetime(2026, 12, 8, 10, tzinfo=TZ)
MANAGER = signing.Actor(by="pm-chen", role="manager")
AGENCY = signing.Actor(by="agency-zhou", role="agency")
CHANGED = "hash does not match the record (the record was changed)"


@pytest.fixture(params=["memory", "mongo"])
def backend(request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


async def _signed_off(store: Any) -> None:
    meta = {"_id": SERIES, "series": SERIES, "revision": 1, "state": "draft", "kind": "repair-summary", "period": "2026-11",
            "lang": "zh-CN", "title": "月度维修总结 2026-11", "due_at": AT + timedelta(days=2),
            "generated_at": datetime(2026, 12, 1, 1, tzinfo=TZ), "version": "1.0", "history": [], "formats": ["json"]}
    await store.put(meta, {"json": b"{}"})
    publisher, sources = MemoryPublisher(), signing.Sources(models=MemoryReadModels())
    await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=sources, now=AT)
    await signing.acknowledge(SERIES, actor=AGENCY, note="已阅", store=store, publisher=publisher, now=AT + timedelta(hours=2))


async def _history(store: Any, backend: Any) -> list[dict[str, Any]]:
    if backend is None:
        return list(store.sealed[SERIES]["history"])
    doc = await backend["reports"].find_one({"_id": SERIES})
    return list(doc["history"])


async def test_sign_off_steps_are_sealed_in_chain_and_never_shown(backend: Any) -> None:
    store = MemoryReportStore() if backend is None else MongoReportStore(backend)
    await _signed_off(store)

    history = await _history(store, backend)
    assert [h["action"] for h in history] == ["submit", "acknowledge"]
    assert history[0][audit_chain.PREV] == audit_chain.GENESIS
    assert history[1][audit_chain.PREV] == history[0][audit_chain.HASH]
    assert await store.audit_verify() == audit_chain.Verdict(ok=True, checked=2)
    read = await store.get(SERIES)
    assert all(audit_chain.HASH not in h for h in read["history"])
    assert all(audit_chain.HASH not in h for r in await store.versions(SERIES) for h in r["history"])


async def test_a_sign_off_step_changed_in_the_database_is_named(backend: Any) -> None:
    store = MemoryReportStore() if backend is None else MongoReportStore(backend)
    await _signed_off(store)
    if backend is None:
        store.sealed[SERIES]["history"][0] = {**store.sealed[SERIES]["history"][0], "by": "someone-else"}
    else:
        await backend["reports"].update_one({"_id": SERIES}, {"$set": {"history.0.by": "someone-else"}})
    assert (await store.audit_verify()).first_broken == f"report/{SERIES}/history#0: {CHANGED}"
