"""Issue 14, defect 3 on both stores: a redelivered ticket.created that finds its assignment already stored relays
the ticket.assigned kept with it at once and counts the engineer's load exactly once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from dispatch.adapters.memory import MemoryAssignmentStore, MemoryRoster
from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from opsdesk_shared.contracts import Envelope, TicketCreatedV1
from opsdesk_shared.outbox import MemoryOutbox, OutboxRelay

from .replay import Dying, Recording, assign, created, load

pytestmark = pytest.mark.integration


class Rig:
    async def build(self, backend: Any) -> Rig:
        self.memory = MemoryOutbox() if backend is None else None
        self.publisher = Recording()
        if backend is None:
            self.roster: Any = MemoryRoster(DEMO_ROSTER_ALWAYS_ON_SITE)
            self.store: Any = MemoryAssignmentStore(outbox=self.memory)
            self.outbox: Any = self.memory
        else:
            self.roster = MongoRoster(backend, cache_s=0.0)
            await self.roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
            self.store = MongoAssignmentStore(backend)
            self.outbox = OutboxRelay(self.store.collection, self.publisher)
        return self

    def sent(self) -> list[Envelope]:
        return self.memory.published if self.memory is not None else self.publisher.sent

    async def load(self, engineer_id: str) -> int:
        return await load(self.roster, engineer_id)

    async def assign(self, ticket: TicketCreatedV1, *, roster: Any = None, outbox: Any = None) -> Any:
        return await assign(ticket, roster=roster or self.roster, store=self.store, outbox=outbox or self.outbox)


@pytest.fixture
async def rig(backend: Any) -> Rig:
    return await Rig().build(backend)


class DatabaseDiesAfterTheInsert(Dying):
    """The roster's write fails: the database died just after the assignment (and its event) were stored."""

    async def hold(self, engineer_id: str, assignment_id: str) -> bool:
        raise AutoReconnect("connection closed")

    async def release(self, engineer_id: str, assignment_id: str) -> bool:
        raise AutoReconnect("connection closed")


class DiesBeforeSending:
    async def deliver(self, doc_id: Any, events: Sequence[Envelope]) -> bool:
        raise SystemExit("the process died before publishing")

    async def relay_now(self, doc_id: Any) -> int:
        raise SystemExit("the process died before publishing")


async def test_redelivery_after_the_database_died_relays_the_assignment_and_counts_the_load_once(rig: Rig) -> None:
    ticket = created(1)
    with pytest.raises(AutoReconnect):
        await rig.assign(ticket, roster=DatabaseDiesAfterTheInsert(rig.roster))
    stored = await rig.store.get(ticket.ticket_id)
    assert stored is not None and stored.engineer_id
    before = await rig.load(stored.engineer_id)
    assert rig.sent() == []

    again = await rig.assign(ticket)  # JetStream redelivers ticket.created
    assert again.id == stored.id
    assert [(e.type, e.subject_id) for e in rig.sent()] == [("ticket.assigned", ticket.ticket_id)]  # at once
    assert await rig.load(stored.engineer_id) == before + 1

    await rig.assign(ticket)  # and once more: nothing sent twice, nothing counted twice
    assert len(rig.sent()) == 1
    assert await rig.load(stored.engineer_id) == before + 1


async def test_redelivery_after_a_crash_between_count_and_publish_sends_without_counting_again(rig: Rig) -> None:
    ticket = created(2)
    with pytest.raises(SystemExit):
        await rig.assign(ticket, outbox=DiesBeforeSending())
    stored = await rig.store.get(ticket.ticket_id)
    assert stored is not None
    counted = await rig.load(stored.engineer_id)

    await rig.assign(ticket)
    assert [(e.type, e.subject_id) for e in rig.sent()] == [("ticket.assigned", ticket.ticket_id)]
    assert await rig.load(stored.engineer_id) == counted
