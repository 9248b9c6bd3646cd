"""Sign-off use cases on both report stores (memory and the real database): submit, acknowledge, return with
comments, resubmit as a new version (the returned one kept), and two decisions at once (one wins, the other is
refused on what the winner wrote)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from opsdesk_shared.contracts import subjects
from reporting import signing, signoff
from reporting.adapters.memory import MemoryPublisher, MemoryReadModels, MemoryReportStore
from reporting.adapters.mongo import MongoReportStore
from reporting.periods import TZ

pytestmark = pytest.mark.integration

SERIES = "repair-summary:2026-11:zh-CN"
DUE = datetime(2026, 12, 10, tzinfo=TZ)
MANAGER = signing.Actor(by="pm-chen", role="manager")
AGENCY = signing.Actor(by="agency-zhou", role="agency")


@pytest.fixture(params=["memory", "mongo"])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryReportStore()
    return MongoReportStore(request.getfixturevalue("mongo_db"))


async def _stored(store: Any) -> None:
    meta = {"_id": SERIES, "series": SERIES, "revision": 1, "state": "draft", "kind": "repair-summary", "period": "2026-11",
            "lang": "zh-CN", "title": "月度维修总结 2026-11", "due_at": DUE, "generated_at": datetime(2026, 12, 1, 1, tzinfo=TZ),
            "version": "1.0", "history": [], "formats": ["json"]}
    await store.put(meta, {"json": b"{}"})


def _sources() -> signing.Sources:
    return signing.Sources(models=MemoryReadModels())


async def test_submitted_then_acknowledged_by_the_agency(store: Any) -> None:
    publisher = MemoryPublisher()
    await _stored(store)
    at = datetime(2026, 12, 8, 10, tzinfo=TZ)

    await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=_sources(), now=at)
    await signing.acknowledge(SERIES, actor=AGENCY, note="已阅", store=store, publisher=publisher, now=at + timedelta(hours=2))

    kept = await store.get(SERIES)
    assert (kept["state"], kept["submitted_by"], kept["acknowledged_by"], kept["note"]) == ("acknowledged", "pm-chen", "agency-zhou", "已阅")
    assert signoff.on_time(kept) is True
    assert [h["action"] for h in kept["history"]] == ["submit", "acknowledge"]
    assert [e.type for e in publisher.published] == [subjects.REPORT_SUBMITTED, subjects.REPORT_ACKNOWLEDGED]
    with pytest.raises(signoff.IllegalStep) as refused:
        await signing.return_report(SERIES, actor=AGENCY, comments="晚了", store=store, publisher=publisher, now=at)
    assert refused.value.allowed == []


async def test_a_returned_report_is_resubmitted_as_version_two_and_the_first_keeps_its_comments(store: Any) -> None:
    publisher = MemoryPublisher()
    await _stored(store)
    at = datetime(2026, 12, 8, 10, tzinfo=TZ)
    await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=_sources(), now=at)
    await signing.return_report(SERIES, actor=AGENCY, comments="请补充厂商返修明细", store=store, publisher=publisher, now=at)

    again = await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=_sources(),
                                 now=at + timedelta(days=1))

    assert (again["_id"], again["revision"], again["state"], again["previous"]) == (f"{SERIES}:v2", 2, "submitted", SERIES)
    first = await store.get(SERIES)
    assert (first["state"], first["comments"]) == ("returned", "请补充厂商返修明细")
    versions = sorted(await store.versions(SERIES), key=signoff.revision_of)
    assert [(v["_id"], signoff.state_of(v)) for v in versions] == [(SERIES, "returned"), (f"{SERIES}:v2", "submitted")]
    assert (await store.file(f"{SERIES}:v2", "pdf") or b"").startswith(b"%PDF")  # regenerated, every format
    submitted = [e.data for e in publisher.published if e.type == subjects.REPORT_SUBMITTED]
    assert [(d["version"], d["previous_report_id"]) for d in submitted] == [(1, None), (2, SERIES)]
    # The first version cannot be submitted again: only the latest is acted on.
    with pytest.raises(signoff.IllegalStep) as refused:
        await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=_sources(), now=at)
    assert refused.value.code == "not_latest"


async def test_two_decisions_at_once_one_wins(store: Any) -> None:
    publisher = MemoryPublisher()
    await _stored(store)
    at = datetime(2026, 12, 8, 10, tzinfo=TZ)
    await signing.submit(SERIES, actor=MANAGER, store=store, publisher=publisher, sources=_sources(), now=at)

    outcomes = await asyncio.gather(
        signing.acknowledge(SERIES, actor=AGENCY, note=None, store=store, publisher=publisher, now=at),
        signing.return_report(SERIES, actor=AGENCY, comments="退回", store=store, publisher=publisher, now=at),
        return_exceptions=True,
    )

    assert sum(isinstance(o, dict) for o in outcomes) == 1
    assert sum(isinstance(o, signoff.IllegalStep) for o in outcomes) == 1
    decided = [e.type for e in publisher.published if e.type != subjects.REPORT_SUBMITTED]
    assert len(decided) == 1 and (await store.get(SERIES))["state"] in ("acknowledged", "returned")
