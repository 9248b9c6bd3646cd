"""The desk's store features on both backends (memory and the real FerretDB): a lifecycle step stored with its
events in one write, the full ticket read back, concurrent idempotent creates, the catalog, and the index rebuilt
from the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from intake import lifecycle, service
from intake.adapters.memory import MemoryCatalogStore
from intake.adapters.mongo import MongoCatalogStore
from intake.catalog import SEED, SEED_BY_CODE
from intake.catalog_cache import Catalog
from intake.domain import Actor, NewTicket, PartUsed
from intake.ports import ConcurrentUpdate
from intake.search import Query
from intake.service import Desk
from opsdesk_shared.contracts import Requester
from opsdesk_shared.outbox import MemoryOutbox

AGENT = Actor(subject="agent1", role="agent", source="10.1.2.3")
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def cmd(**extra: Any) -> NewTicket:
    fields: dict[str, Any] = {"title": "三樓打印機卡紙", "description": "HP M406", "requester": Requester(name="王小明", department="辦公室"),
                              "channel": "hotline", "service_code": "RS-REPAIR"}
    return NewTicket(**{**fields, **extra})


async def test_lifecycle_step_is_stored_with_its_events_and_reads_back_whole(store: Any) -> None:
    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    await service.act(ticket.id, lambda t: lifecycle.change_status(t, target="in_progress", actor=AGENT, now=NOW), desk=desk, actor=AGENT, now=NOW, correlation_id="c")

    def record(t: Any) -> lifecycle.Changed:
        updated, _, events = lifecycle.add_comment(t, actor=AGENT, now=NOW, body="已到現場", internal=True)
        recorded, more = lifecycle.submit_service_record(updated, actor=AGENT, now=NOW, work_done="清潔", parts_used=[PartUsed(part="搓紙輪")], minutes_on_site=15)
        return recorded, events + more

    stored = await service.act(ticket.id, record, desk=desk, actor=AGENT, now=NOW, correlation_id="c")
    loaded = await store.get(ticket.id)
    assert loaded == stored
    assert loaded.status == "in_progress" and loaded.version == 3
    assert loaded.comments[0].body == "已到現場" and loaded.service_record.parts_used[0].part == "搓紙輪"
    assert [a.action for a in loaded.audit] == ["created", "status:in_progress", "work_note", "service_record"]
    assert loaded.audit[1].source == "10.1.2.3"
    assert [e.type for e in desk.outbox.published] == ["ticket.created", "ticket.status_changed", "ticket.updated", "ticket.updated"]  # type: ignore[attr-defined]


async def test_refused_step_writes_nothing(store: Any) -> None:
    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    with pytest.raises(lifecycle.IllegalTransition):
        await service.act(ticket.id, lambda t: lifecycle.close(t, actor=AGENT, now=NOW), desk=desk, actor=AGENT, now=NOW, correlation_id="c")
    assert (await store.get(ticket.id)).version == ticket.version


async def test_stale_expected_version_is_refused(store: Any) -> None:
    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c")
    step = lambda t: lifecycle.update_fields(t, actor=AGENT, now=NOW, fields={"title": "A"})  # noqa: E731
    await service.act(ticket.id, step, desk=desk, actor=AGENT, now=NOW, correlation_id="c", expected_version=ticket.version)
    with pytest.raises(lifecycle.StaleVersion):
        await service.act(ticket.id, step, desk=desk, actor=AGENT, now=NOW, correlation_id="c", expected_version=ticket.version)


async def test_concurrent_creates_with_one_key_store_one_ticket(store: Any) -> None:
    desk = Desk.on(store, MemoryOutbox())
    results = await asyncio.gather(
        *(service.open_ticket(cmd(), desk=desk, now=NOW, correlation_id="c", actor=AGENT, idempotency_key="k-1") for _ in range(6))
    )
    assert len({t.id for t, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len([t async for t in store.scan()]) == 1


async def test_by_number_and_scan_feed_the_index(store: Any) -> None:
    desk = Desk.on(store, MemoryOutbox())
    made = [(await service.open_ticket(cmd(title=f"第{i}台打印機"), desk=desk, now=NOW, correlation_id="c"))[0] for i in range(3)]
    assert (await store.by_number(made[1].number)).id == made[1].id
    fresh = Desk.on(store, MemoryOutbox())
    assert await service.rebuild_index(desk=fresh) == 3
    ids, _ = fresh.index.search(Query(text="打印機"), actor=AGENT)
    assert set(ids) == {t.id for t in made}


@pytest.fixture
async def catalog_store(backend: Any) -> Any:
    return MemoryCatalogStore() if backend is None else MongoCatalogStore(backend)


async def test_catalog_is_seeded_once_and_edits_survive_a_restart(catalog_store: Any) -> None:
    first = Catalog(catalog_store)
    await first.start()
    assert len(first.all()) == len(SEED)
    edited = SEED_BY_CODE["RS-REPAIR"].model_copy(update={"default_priority": "P2"})
    stored = await first.put(edited, expected_version=1)
    assert stored.version == 2
    second = Catalog(catalog_store)
    await second.start()  # seeding again adds nothing and keeps the edit
    assert second.get("RS-REPAIR").default_priority == "P2"  # type: ignore[union-attr]
    assert second.get("RS-REPAIR").name.zh_tw == "設備維修"  # type: ignore[union-attr]
    with pytest.raises(ConcurrentUpdate):
        await second.put(edited, expected_version=1)
