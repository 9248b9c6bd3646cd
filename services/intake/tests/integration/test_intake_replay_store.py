"""Issue 14 on both stores: a replayed POST relays what its first attempt stored and could not send (defect 3), and a
write whose outcome is unknown is read back before the answer (defect 4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from intake import service
from intake.adapters.memory import MemoryTicketStore
from intake.adapters.mongo import MongoTicketStore
from intake.domain import NewTicket, Ticket
from intake.service import Desk
from opsdesk_shared.contracts import Envelope, Requester
from opsdesk_shared.errors import OutcomeUnknown, Unavailable
from opsdesk_shared.outbox import OUTBOX_FIELD, EventOutbox, MemoryOutbox, OutboxRelay

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)


def new_ticket() -> NewTicket:
    return NewTicket(title="打印機卡紙", description="三樓打印機卡紙", channel="hotline", service_code="RS-REPAIR",
                     requester=Requester(name="王小明", department="辦公室"))


class Recording:
    """A publisher that can be down (NATS away, or the process dead before its publish)."""

    def __init__(self) -> None:
        self.up = True
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        if not self.up:
            raise ConnectionError("nats is away")
        self.sent.append(envelope)


class Rig:
    def __init__(self, backend: Any) -> None:
        self.publisher = Recording()
        self.memory = MemoryOutbox() if backend is None else None
        if backend is None:
            self.store: Any = MemoryTicketStore(outbox=self.memory)
            self.outbox: EventOutbox = self.memory  # type: ignore[assignment]
        else:
            self.store = MongoTicketStore(backend)
            self.outbox = OutboxRelay(self.store.collection, self.publisher)

    def down(self) -> None:
        self.publisher.up = False
        if self.memory is not None:
            self.memory.down = True

    def up(self) -> None:
        self.publisher.up = True
        if self.memory is not None:
            self.memory.down = False

    def sent(self) -> list[Envelope]:
        return self.memory.published if self.memory is not None else self.publisher.sent

    async def unsent(self, ticket_id: str) -> int:
        if self.memory is not None:
            return len(self.memory.stored.get(ticket_id, []))
        doc = await self.store.collection.find_one({"_id": ticket_id})
        return len(doc[OUTBOX_FIELD])


@pytest.fixture
async def rig(backend: Any) -> Rig:
    made = Rig(backend)
    if backend is not None:
        await made.store.ensure_indexes()
    return made


async def test_replayed_post_relays_the_created_event_its_first_attempt_left_stored(rig: Rig) -> None:
    rig.down()  # the first attempt stored the ticket and its event, and could not send it
    first, created = await service.open_ticket(new_ticket(), desk=Desk.on(rig.store, rig.outbox), now=NOW,
                                               correlation_id="c-1", idempotency_key="k-1")
    assert created and rig.sent() == [] and await rig.unsent(first.id) == 1
    rig.up()

    again, created = await service.open_ticket(new_ticket(), desk=Desk.on(rig.store, rig.outbox), now=NOW,
                                               correlation_id="c-2", idempotency_key="k-1")

    assert not created and again.id == first.id
    assert [(e.type, e.subject_id) for e in rig.sent()] == [("ticket.created", first.id)]  # at once, not at a sweep
    assert await rig.unsent(first.id) == 0


class InsertThenConnectionDies:
    """The insert reaches the database, then the connection dies before its answer."""

    def __init__(self, inner: Any, *, lands: bool) -> None:
        self._inner = inner
        self._lands = lands

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def add(self, ticket: Ticket, events: Sequence[Envelope]) -> bool:
        if self._lands:
            await self._inner.add(ticket, events)
        raise OutcomeUnknown(f"insert of ticket {ticket.id}")


async def test_insert_whose_answer_was_lost_is_read_back_and_answered_as_created(rig: Rig) -> None:
    desk = Desk.on(InsertThenConnectionDies(rig.store, lands=True), rig.outbox)  # type: ignore[arg-type]
    ticket, created = await service.open_ticket(new_ticket(), desk=desk, now=NOW, correlation_id="c", idempotency_key="k-2")

    assert created
    assert await rig.store.get(ticket.id) is not None
    assert [(e.type, e.subject_id) for e in rig.sent()] == [("ticket.created", ticket.id)]


async def test_insert_that_never_landed_is_unavailable_not_an_error(rig: Rig) -> None:
    desk = Desk.on(InsertThenConnectionDies(rig.store, lands=False), rig.outbox)  # type: ignore[arg-type]
    with pytest.raises(Unavailable):
        await service.open_ticket(new_ticket(), desk=desk, now=NOW, correlation_id="c", idempotency_key="k-3")
    assert rig.sent() == []


# --- on a real database that dies (issue 14, defect 4) ----------------------------------------------------------------


@pytest.fixture
async def dying_database(tmp_path: Any) -> Any:
    """A database of this test's own, so stopping it harms no other test."""
    from opsdesk_devstack.infra import start_database

    if __import__("os").environ.get("MONGODB_URL"):
        pytest.skip("needs a database this test may stop (MONGODB_URL names a shared one)")
    db = start_database(tmp_path / "data", log=tmp_path / "database.log")
    yield db
    db.stop()


class StopsTheDatabaseWhilePublishing:
    """The publish succeeds; the database dies right after it, before the outbox clean-up."""

    def __init__(self, database: Any) -> None:
        self.database = database
        self.sent: list[Envelope] = []

    async def publish(self, envelope: Envelope) -> None:
        self.sent.append(envelope)
        self.database.stop()


async def test_database_dying_after_insert_and_publish_still_answers_created(dying_database: Any) -> None:
    from opsdesk_shared.mongo import connect

    client = connect(dying_database.url)
    try:
        store = MongoTicketStore(client["opsdesk_intake"])
        publisher = StopsTheDatabaseWhilePublishing(dying_database)
        desk = Desk.on(store, OutboxRelay(store.collection, publisher))

        ticket, created = await service.open_ticket(new_ticket(), desk=desk, now=NOW, correlation_id="c", idempotency_key="k-9")

        assert created  # committed and announced: a 201, not a 500 for a ticket that exists
        assert [(e.type, e.subject_id) for e in publisher.sent] == [("ticket.created", ticket.id)]
        # With the database gone, a new ticket is an outage (503 with Retry-After), never an unhandled error.
        from opsdesk_shared.errors import OUTAGE_ERRORS

        with pytest.raises((*OUTAGE_ERRORS, Unavailable)):  # type: ignore[misc]
            await service.open_ticket(new_ticket(), desk=desk, now=NOW, correlation_id="c", idempotency_key="k-10")
    finally:
        await client.close()
