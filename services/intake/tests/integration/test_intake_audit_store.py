"""The tamper-evident trail at intake's storage edge (issue 16), on the memory store and the real database.

A ticket's history, comments and audit entries are sealed as they are written; loading and saving keeps the stored
seals, a later write appends in chain, and a record changed behind the application's back stays broken.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import opsdesk_shared.audit_store as audit_store
from intake.adapters.memory import MemoryTicketStore
from intake.domain import AuditEntry, StatusChange, Ticket
from intake.ports import TicketStore
from opsdesk_shared import audit_chain

pytestmark = pytest.mark.integration

T1 = datetime(2026, 3, 14, 10, 0, 0, 250000, tzinfo=UTC)


async def _stored(store: TicketStore, backend: Any, ticket_id: str) -> dict[str, Any]:
    """The ticket's chained records as the store keeps them (seals included)."""
    if backend is None:
        assert isinstance(store, MemoryTicketStore)
        return store.sealed[ticket_id]
    doc = await backend["tickets"].find_one({"_id": ticket_id})
    assert doc is not None
    return doc


async def _tamper(store: TicketStore, backend: Any, ticket_id: str, field: str, index: int, change: dict[str, Any]) -> None:
    """Change one stored record directly, as someone with the database but not the key would."""
    if backend is None:
        assert isinstance(store, MemoryTicketStore)
        records = store.sealed[ticket_id][field]
        records[index] = {**records[index], **change}
        ticket = store.tickets[ticket_id]  # the memory store keeps the model beside its stored records: both change
        entries = list(getattr(ticket, field))
        entries[index] = entries[index].model_copy(update=change)
        store.tickets[ticket_id] = ticket.model_copy(update={field: tuple(entries)})
        return
    await backend["tickets"].update_one({"_id": ticket_id}, {"$set": {f"{field}.{index}.{k}": v for k, v in change.items()}})


def _assigned(ticket: Ticket) -> Ticket:
    entry = AuditEntry(at=T1, by="agent-1", role="agent", source="api", action="assigned", changes={"status": {"old": "new", "new": "assigned"}})
    return ticket.model_copy(update={
        "status": "assigned", "history": (*ticket.history, StatusChange(status="assigned", at=T1, by="dispatch")),
        "audit": (*ticket.audit, entry),
    })


async def test_records_are_sealed_when_the_ticket_is_first_stored(
    store: TicketStore, backend: Any, make_ticket: Callable[..., Ticket],
) -> None:
    ticket = make_ticket()
    assert await store.add(ticket, [])

    history = (await _stored(store, backend, ticket.id))["history"]
    assert history[0][audit_chain.PREV] == audit_chain.GENESIS
    assert isinstance(history[0][audit_chain.HASH], str) and len(history[0][audit_chain.HASH]) == 64
    assert await store.audit_verify() == audit_chain.Verdict(ok=True, checked=1)
    loaded = await store.get(ticket.id)
    assert loaded == ticket  # the domain never sees a seal


async def test_a_change_keeps_the_stored_seals_and_appends_in_chain(
    store: TicketStore, backend: Any, make_ticket: Callable[..., Ticket],
) -> None:
    ticket = make_ticket()
    await store.add(ticket, [])
    first = (await _stored(store, backend, ticket.id))["history"][0][audit_chain.HASH]

    await store.change(ticket.id, lambda t: (_assigned(t), []))
    loaded = await store.get(ticket.id)
    assert loaded is not None
    await store.save(loaded.model_copy(update={"history": (*loaded.history, StatusChange(status="in_progress", at=T1 + timedelta(minutes=5), by="eng-1"))}))

    stored = await _stored(store, backend, ticket.id)
    history = stored["history"]
    assert [h["status"] for h in history] == ["new", "assigned", "in_progress"]
    assert history[0][audit_chain.HASH] == first
    assert history[1][audit_chain.PREV] == first
    assert history[2][audit_chain.PREV] == history[1][audit_chain.HASH]
    assert stored["audit"][0][audit_chain.PREV] == audit_chain.GENESIS
    assert await store.audit_verify() == audit_chain.Verdict(ok=True, checked=4)  # 3 history steps, 1 audit entry


async def test_a_record_changed_in_the_database_is_named_and_stays_broken_after_a_save(
    store: TicketStore, backend: Any, make_ticket: Callable[..., Ticket],
) -> None:
    ticket = make_ticket()
    await store.add(ticket, [])
    await store.change(ticket.id, lambda t: (_assigned(t), []))
    await _tamper(store, backend, ticket.id, "history", 1, {"by": "someone-else"})

    verdict = await store.audit_verify()
    assert not verdict.ok
    assert verdict.first_broken == f"ticket/{ticket.id}/history#1: hash does not match the record (the record was changed)"

    # The application writes the ticket again: the changed record keeps its old seal, nothing is re-sealed.
    await store.change(ticket.id, lambda t: (t.model_copy(update={"title": "another title"}), []))
    assert (await store.audit_verify()).first_broken == verdict.first_broken


async def test_a_key_other_than_the_sealing_one_does_not_verify(mongo_db: Any, make_ticket: Callable[..., Ticket]) -> None:
    from intake.adapters.mongo import MongoTicketStore

    ticket = make_ticket()
    await MongoTicketStore(mongo_db, audit_key=b"w" * 32).add(ticket, [])
    verdict = await MongoTicketStore(mongo_db, audit_key=b"r" * 32).audit_verify()
    assert verdict.first_broken == f"ticket/{ticket.id}/history#0: hash does not match the record (the record was changed)"


async def test_tickets_written_before_sealing_read_unsealed_until_adopted(mongo_db: Any, make_ticket: Callable[..., Ticket]) -> None:
    from intake.adapters.mongo import MongoTicketStore

    store = MongoTicketStore(mongo_db)
    ticket = make_ticket()
    await store.add(ticket, [])
    # As an older release stored it: no seals at all.
    await mongo_db["tickets"].update_one({"_id": ticket.id}, {"$unset": {"history.0.prev_hash": "", "history.0.hash": ""}})
    assert (await store.audit_verify()).first_broken == f"ticket/{ticket.id}/history#0: unsealed"

    trail = audit_store.TICKETS
    assert await audit_store.adopt_collection(mongo_db["tickets"], trail, key=audit_chain.DEVELOPMENT_KEY) == 1
    assert await store.audit_verify() == audit_chain.Verdict(ok=True, checked=1)
    assert await audit_store.adopt_collection(mongo_db["tickets"], trail, key=audit_chain.DEVELOPMENT_KEY) == 0
