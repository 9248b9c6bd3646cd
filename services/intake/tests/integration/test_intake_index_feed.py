"""Issue 17 (search at scale) and issue 14 (readiness) on the real NATS and database: the gateway's search index is
a file that a restart opens and catches up from the events stream (the tail since its recorded sequence), instead
of reading every ticket again; a file it cannot trust (another stream, no complete build) is built from the database.
The feed runs as intake's own NATS user, so its ordered consumer is one intake's permissions allow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from intake import service
from intake.adapters.mongo import MongoTicketStore
from intake.domain import Actor, NewTicket, Suggestion
from intake.index_feed import IndexFeed
from intake.search import Query, TicketIndex
from intake.service import Desk
from opsdesk_shared.bus import JetStreamPublisher
from opsdesk_shared.contracts import Requester, TicketAssignedV1
from opsdesk_shared.outbox import MemoryOutbox

pytestmark = pytest.mark.integration

DESK = Actor(subject="agent1", role="agent")


def _new(title: str) -> NewTicket:
    return NewTicket(title=title, description="三樓", requester=Requester(name="王小明", department="辦公室"),
                     channel="hotline", service_code="RS-REPAIR")


async def _announce(broker: Any, outbox: MemoryOutbox) -> None:
    """What the other replica's outbox relay would do: its events onto the stream."""
    publisher = JetStreamPublisher(broker)
    for envelope in outbox.published:
        await publisher.publish(envelope)
    outbox.published.clear()


def _statuses(index: TicketIndex, status: str) -> set[str]:
    found, _ = index.search(Query(filters={"status": frozenset({status})}), actor=DESK)
    return set(found)


async def test_a_restarted_index_catches_up_from_the_stream_instead_of_reloading(
    mongo_db: Any, broker: Any, service_broker: Any, tmp_path: Path
) -> None:
    store = MongoTicketStore(mongo_db)
    outbox = MemoryOutbox()
    other_replica = Desk.on(store, outbox)
    now = datetime.now(UTC)
    first, _ = await service.open_ticket(_new("打印機卡紙"), desk=other_replica, now=now, correlation_id="c-1")
    await _announce(broker, outbox)
    intake_bus = await service_broker("intake")
    path = tmp_path / "search.sqlite"

    index = TicketIndex(path)
    assert index.needs_build
    feed = IndexFeed(intake_bus, index=index, store=store)
    started = await feed.start(timeout_s=30)
    assert started.built == 1  # a new file: built from the database
    assert _statuses(index, "new") == {first.id}
    await feed.stop()
    index.close()

    # While this replica is down the other one assigns the first ticket and takes a second, announcing both.
    assigned = TicketAssignedV1(ticket_id=first.id, assignment_id="a-1", engineer_id="eng-1", engineer_name="張工",
                                reason="chosen", assigned_at=now)
    assert await service.record_assignment(assigned, desk=other_replica)
    second, _ = await service.open_ticket(_new("顯示器黑屏"), desk=other_replica, now=now, correlation_id="c-2")
    await _announce(broker, outbox)

    reopened = TicketIndex(path)
    assert not reopened.needs_build and len(reopened) == 1  # the file as it was left
    feed = IndexFeed(intake_bus, index=reopened, store=store)
    restarted = await feed.start(timeout_s=30)
    try:
        assert restarted.built is None  # not read again from the database: caught up from the stream's tail
        assert restarted.caught_up >= 2
        assert _statuses(reopened, "assigned") == {first.id}
        assert _statuses(reopened, "new") == {second.id}
        found, _ = reopened.search(Query(text="顯示器"), actor=DESK)
        assert found == [second.id]
        # And it follows on: a change announced now reaches the index without a restart.
        again = TicketAssignedV1(ticket_id=second.id, assignment_id="a-2", engineer_id="eng-2", engineer_name="李工",
                                 reason="chosen", assigned_at=now)
        assert await service.record_assignment(again, desk=other_replica)
        await _announce(broker, outbox)
        for _ in range(100):
            if _statuses(reopened, "assigned") == {first.id, second.id}:
                break
            await asyncio.sleep(0.05)
        assert _statuses(reopened, "assigned") == {first.id, second.id}
        _, position = reopened.stream_position()
        assert position == feed.applied > 0
    finally:
        await feed.stop()
        reopened.close()


async def test_an_index_of_another_stream_is_built_again_from_the_database(
    mongo_db: Any, service_broker: Any, tmp_path: Path
) -> None:
    store = MongoTicketStore(mongo_db)
    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(_new("網絡很慢"), desk=desk, now=datetime.now(UTC), correlation_id="c")
    index = TicketIndex(tmp_path / "search.sqlite")
    index.upsert(ticket.model_copy(update={"id": "ghost", "number": "INC-1999-000001"}))  # left from another stack
    index.mark_complete()
    index.set_stream_position("2020-01-01T00:00:00+00:00", 5)
    feed = IndexFeed(await service_broker("intake"), index=index, store=store)
    try:
        started = await feed.start(timeout_s=30)
        assert started.built == 1
        found, _ = index.search(Query(), actor=DESK)
        assert found == [ticket.id]  # the ghost is gone
    finally:
        await feed.stop()
        index.close()


async def test_a_quiet_change_a_crash_cut_off_from_the_index_is_read_again_at_the_next_start(
    mongo_db: Any, broker: Any, service_broker: Any, tmp_path: Path
) -> None:
    """Fault campaign run 8: knowledge's suggestions are stored with no event of their own, and only the storing
    process writes them into its index; killed in between, the row stayed a version behind, with nothing on the
    stream to bring it back. The process marks the ticket in its file before the database write; the next start
    reads a marked ticket again by id (a reconciliation at start would scan every ticket: 100,000 on FerretDB)."""
    store = MongoTicketStore(mongo_db)
    outbox = MemoryOutbox()
    desk = Desk.on(store, outbox)
    ticket, _ = await service.open_ticket(_new("打印機卡紙"), desk=desk, now=datetime.now(UTC), correlation_id="c-1")
    await _announce(broker, outbox)
    intake_bus = await service_broker("intake")
    path = tmp_path / "search.sqlite"
    index = TicketIndex(path)
    feed = IndexFeed(intake_bus, index=index, store=store)
    assert (await feed.start(timeout_s=30)).built == 1
    await feed.stop()

    # What a SIGKILL between the quiet change's database write and its row leaves: the mark, and the database ahead.
    dying = Desk.on(store, outbox, index=index)

    class Killed(BaseException):
        pass

    def killed(_ticket: Any) -> None:
        raise Killed

    dying.index.upsert = killed  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await service.record_suggestions(ticket.id, [Suggestion(article_id="kb-1", title="卡紙處理", score=3.2)],
                                         desk=dying, now=datetime.now(UTC))
    index.close()
    stored = await store.get(ticket.id)
    assert stored is not None and stored.version == ticket.version + 1

    reopened = TicketIndex(path)
    assert reopened.dirty() == [ticket.id] and reopened.version_of(ticket.id) == ticket.version
    feed = IndexFeed(intake_bus, index=reopened, store=store)
    try:
        started = await feed.start(timeout_s=30)
        assert started.built is None and started.reread == 1
        assert reopened.version_of(ticket.id) == stored.version and reopened.dirty() == []
    finally:
        await feed.stop()
        reopened.close()


async def test_a_quiet_change_clears_its_mark_once_its_row_is_written(mongo_db: Any) -> None:
    store = MongoTicketStore(mongo_db)
    desk = Desk.on(store, MemoryOutbox())
    ticket, _ = await service.open_ticket(_new("顯示器黑屏"), desk=desk, now=datetime.now(UTC), correlation_id="c-2")
    assert await service.record_suggestions(ticket.id, [Suggestion(article_id="kb-2", title="黑屏", score=1.0)], desk=desk,
                                            now=datetime.now(UTC))
    assert desk.index.dirty() == [] and desk.index.version_of(ticket.id) == ticket.version + 1
