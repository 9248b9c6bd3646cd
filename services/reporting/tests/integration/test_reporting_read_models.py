"""The read models on the real database and the real stream: a month published to JetStream and projected by the
live consumers gives the same figures as the in-memory projection, and so does a rebuild from the stream."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from opsdesk_shared.bus import JetStreamPublisher
from reporting import figures, service
from reporting.adapters.memory import MemoryReadModels
from reporting.adapters.mongo import CHUNK_BYTES, MongoEventProjection, MongoGenerations, MongoReportStore
from reporting.adapters.nats import StreamSource
from reporting.domain import Tally
from reporting.entrypoints import bus
from reporting.rebuild import Projection, rebuild
from reporting.sample_month import Month, generate
from reporting.settings import ReportingSettings

pytestmark = pytest.mark.integration


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 60.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.1)
    return result


@pytest.fixture(scope="module")
def month() -> Month:
    return generate(tickets=40)


async def memory_figures(month: Month) -> dict[str, Any]:
    models = MemoryReadModels()
    for envelope in month.events:
        await service.project(envelope, models=models)
    return figures.compute(await figures.gather(models, month.period))


async def test_month_on_the_database_gives_the_same_figures_as_in_memory(mongo_db: Any, month: Month) -> None:
    models = MongoGenerations(mongo_db).models(1)
    for envelope in [*month.events, *month.events[:50]]:  # the first fifty redelivered
        await service.project(envelope, models=models)

    assert figures.compute(await figures.gather(models, month.period)) == await memory_figures(month)


async def test_concurrent_events_of_one_ticket_each_count_once(mongo_db: Any, month: Month) -> None:
    models = MongoGenerations(mongo_db).models(1)
    await asyncio.gather(*(service.project(e, models=models) for e in month.events))

    got = figures.compute(await figures.gather(models, month.period))
    assert got == await memory_figures(month)


async def test_live_consumers_then_rebuild_from_the_stream_give_the_same_figures(broker: Any, mongo_db: Any, month: Month) -> None:
    generations = MongoGenerations(mongo_db)
    holder = Projection(models=generations.models(1), generation=1)
    bus.register(broker, projection=MongoEventProjection(mongo_db), tally=Tally(), holder=holder,
                 settings=ReportingSettings(max_deliver=3, ack_wait_s=5))
    await broker.start()
    publisher = JetStreamPublisher(broker)
    for envelope in month.events:
        await publisher.publish(envelope)
    expected = await memory_figures(month)

    last: dict[str, Any] = {}

    async def caught_up() -> bool:
        last["got"] = figures.compute(await figures.gather(holder.models, month.period))
        return bool(last["got"] == expected)

    try:
        await eventually(caught_up, timeout=30)
    except TimeoutError:
        diff = {k: (last["got"][k], expected[k]) for k in expected if last["got"][k] != expected[k]}
        raise AssertionError(f"live projection differs: {diff}") from None

    result = await rebuild(holder, source=StreamSource(broker), generations=generations)

    assert result["generation"] == 2 and result["events"] == len(month.events)
    assert await generations.active() == 2
    assert figures.compute(await figures.gather(holder.models, month.period)) == expected
    names = await mongo_db.list_collection_names()
    assert not [n for n in names if n.startswith("p1_")], names  # the old generation is dropped


async def test_stored_report_files_over_one_chunk_come_back_whole(mongo_db: Any) -> None:
    store = MongoReportStore(mongo_db)
    big = bytes(range(256)) * (CHUNK_BYTES // 256 * 2 + 7)  # a bit over two chunks
    report = {"_id": "om-annual:2026:zh-CN", "kind": "om-annual", "period": "2026", "generated_at": datetime(2027, 1, 2, tzinfo=UTC)}

    await store.put(report, {"pdf": big, "json": b"{}"})

    assert await store.file("om-annual:2026:zh-CN", "pdf") == big
    assert await store.file("om-annual:2026:zh-CN", "xlsx") is None
    assert [r["_id"] for r in await store.list(kind="om-annual")] == ["om-annual:2026:zh-CN"]
    assert await store.mark_alert("late:x:2026") is True and await store.mark_alert("late:x:2026") is False
    first = await store.schedule_since(datetime(2027, 1, 1, tzinfo=UTC))
    assert await store.schedule_since(datetime(2027, 3, 1, tzinfo=UTC)) == first


async def test_stored_report_keeps_table_figures_that_are_lists_of_rows(mongo_db: Any) -> None:
    store = MongoReportStore(mongo_db)
    report = {"_id": "major-incident:t-1:zh-CN", "kind": "major-incident", "period": "t-1", "generated_at": datetime(2026, 11, 20, tzinfo=UTC),
              "figures": {"timeline": [["报障时间", "2026-11-20T08:00:00+08:00"], ["解决", "2026-11-20T09:40:00+08:00"]]}}

    await store.put(report, {"json": b"{}"})

    (listed,) = await store.list(kind="major-incident")
    assert listed["figures"] == report["figures"]
    assert (await store.get(report["_id"]))["figures"]["timeline"][1] == ["解决", "2026-11-20T09:40:00+08:00"]
