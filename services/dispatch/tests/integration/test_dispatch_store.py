"""Dispatch's stores on the real database (and the memory store for the shared behaviour)."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER, Engineer

pytestmark = pytest.mark.integration


async def test_assignment_reads_back_equal(assignments, make_assignment) -> None:  # type: ignore[no-untyped-def]
    assignment = make_assignment()
    assert await assignments.add(assignment, []) is True
    loaded = await assignments.get(assignment.ticket_id)
    assert loaded == assignment
    assert loaded is not None and loaded.assigned_at.tzinfo is not None


async def test_second_assignment_for_a_ticket_is_refused(assignments, make_assignment) -> None:  # type: ignore[no-untyped-def]
    first = make_assignment(ticket_id="ticket-x")
    second = make_assignment(ticket_id="ticket-x", engineer_id="eng-onsite-2", engineer_name="李嘉欣")

    assert await assignments.add(first, []) is True
    assert await assignments.add(second, []) is False
    assert await assignments.get("ticket-x") == first


async def test_unassigned_ticket_reads_as_none(assignments) -> None:  # type: ignore[no-untyped-def]
    assert await assignments.get("no-such-ticket") is None


# --- Mongo only: the roster -----------------------------------------------------------------------------------------


@pytest.fixture
def roster(mongo_db: Any) -> MongoRoster:
    return MongoRoster(mongo_db)


async def test_seeding_twice_keeps_one_copy_of_each_engineer(roster: MongoRoster) -> None:
    await roster.seed(DEMO_ROSTER)
    await roster.seed(DEMO_ROSTER)

    engineers = sorted(await roster.engineers(), key=lambda e: e.id)

    assert engineers == sorted(DEMO_ROSTER, key=lambda e: e.id)  # incl. the PM's empty skills


async def test_seeding_again_keeps_live_load_and_edits(roster: MongoRoster, mongo_db: Any) -> None:
    await roster.seed(DEMO_ROSTER)
    assert await roster.hold("eng-onsite-1", "a-1") and await roster.hold("eng-onsite-1", "a-2")
    await mongo_db["engineers"].update_one({"_id": "eng-onsite-2"}, {"$set": {"status": "on_leave"}})

    await roster.seed(DEMO_ROSTER)

    by_id = {e.id: e for e in await roster.engineers()}
    assert by_id["eng-onsite-1"].open_load == 2
    assert by_id["eng-onsite-2"].status == "on_leave"


async def test_recount_sets_load_to_open_assignments_only(roster: MongoRoster, mongo_db: Any, make_assignment) -> None:  # type: ignore[no-untyped-def]
    await roster.seed(DEMO_ROSTER)
    store = MongoAssignmentStore(mongo_db)
    for engineer_id in ("eng-onsite-1", "eng-onsite-1", "eng-onsite-2"):
        await store.add(make_assignment(engineer_id=engineer_id), [])
    engineers = mongo_db["engineers"]
    await engineers.update_one({"_id": "eng-onsite-1"}, {"$set": {"open_load": 5}})  # drifted high: a crash between two writes
    await engineers.update_one({"_id": "eng-mobile-1"}, {"$set": {"open_load": 3, "held": ["gone"]}})  # load without any assignment
    # eng-onsite-2 has one assignment but load 0: the load bump was lost
    await mongo_db["assignments"].insert_one({"_id": "ticket-done", "engineer_id": "eng-senior-1", "status": "closed"})

    await roster.recount_load()

    loads = {e.id: e.open_load for e in await roster.engineers()}
    assert loads == {"eng-onsite-1": 2, "eng-onsite-2": 1, "eng-mobile-1": 0, "eng-senior-1": 0, "eng-pm-1": 0}


async def test_recount_with_no_assignments_zeroes_every_load(roster: MongoRoster) -> None:
    await roster.seed([Engineer(id="eng-a", name="A", role="onsite", open_load=4)])
    await roster.recount_load()
    assert [e.open_load for e in await roster.engineers()] == [0]


async def test_recount_corrects_only_the_loads_that_differ_in_one_write(mongo_db: Any, database_url: str) -> None:
    """Start-up (issue 14): one update per engineer, one after another, took most of a 23-43 s start with 1,000
    engineers. The recount reads the stored loads and writes the wrong ones in one bulk write, none when all hold."""
    from pymongo import AsyncMongoClient, monitoring

    class Commands(monitoring.CommandListener):
        def __init__(self) -> None:
            self.names: list[str] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            self.names.append(event.command_name)

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None: ...
        def failed(self, event: monitoring.CommandFailedEvent) -> None: ...

    seen = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(database_url, event_listeners=[seen], tz_aware=True)
    db = client[mongo_db.name]
    try:
        roster = MongoRoster(db)
        await roster.seed([Engineer(id=f"eng-{i:02d}", name=f"E{i}", role="onsite") for i in range(40)])
        await db["engineers"].update_one({"_id": "eng-07"}, {"$set": {"open_load": 9}})  # drifted
        await db["assignments"].insert_many([{"_id": f"t-{i}", "id": f"a-{i}", "engineer_id": f"eng-{i % 3:02d}", "status": "open"}
                                             for i in range(7)])

        seen.names.clear()
        await roster.recount_load()
        first = [n for n in seen.names if n in ("update", "findAndModify")]
        seen.names.clear()
        await roster.recount_load()
        again = [n for n in seen.names if n in ("update", "findAndModify")]
        loads = {e.id: e.open_load for e in await roster.engineers()}
    finally:
        await client.close()

    assert first == ["update"] and again == []
    assert (loads["eng-00"], loads["eng-01"], loads["eng-02"], loads["eng-07"]) == (3, 2, 2, 0)
    assert sum(loads.values()) == 7


async def test_start_up_scan_gives_the_recount_and_the_waiting_room_in_one_read(roster: MongoRoster, mongo_db: Any) -> None:
    await roster.seed(DEMO_ROSTER)
    await mongo_db["assignments"].insert_many([
        {"_id": "t-1", "id": "a-1", "engineer_id": "eng-onsite-1", "status": "open"},
        {"_id": "t-2", "id": "a-2", "engineer_id": "eng-onsite-1", "status": "accepted"},
        {"_id": "t-3", "id": "a-3", "engineer_id": "eng-onsite-2", "status": "closed"},
        {"_id": "t-4", "id": "a-4", "status": "unassigned"},
        {"_id": "t-5", "id": "a-5", "engineer_id": "eng-mobile-1", "status": "withdrawn"},
    ])
    store = MongoAssignmentStore(mongo_db)

    held, waiting = await store.start_up_scan()
    await roster.recount_load(held)

    assert {k: sorted(v) for k, v in held.items()} == {"eng-onsite-1": ["a-1", "a-2"]} and waiting == ["t-4"] == await store.waiting()
    assert {e.id: e.open_load for e in await roster.engineers()}["eng-onsite-1"] == 2


async def test_new_assignment_document_carries_its_pending_event(mongo_db: Any, make_assignment) -> None:  # type: ignore[no-untyped-def]
    from opsdesk_shared.contracts import Envelope, TicketAssignedV1

    store = MongoAssignmentStore(mongo_db)
    assignment = make_assignment()
    event = Envelope.wrap(
        TicketAssignedV1(
            ticket_id=assignment.ticket_id, assignment_id=assignment.id, engineer_id=assignment.engineer_id,
            engineer_name=assignment.engineer_name, reason=assignment.reason, assigned_at=assignment.assigned_at,
        ),
        producer="dispatch", correlation_id="c", subject_id=assignment.ticket_id,
    )

    await store.add(assignment, [event])

    doc = await store.collection.find_one({"_id": assignment.ticket_id})
    assert doc is not None
    assert [e["event_id"] for e in doc["_outbox"]] == [str(event.event_id)]
    assert await store.get(assignment.ticket_id) == assignment


async def test_saving_a_stale_assignment_is_refused(mongo_db: Any, make_assignment) -> None:  # type: ignore[no-untyped-def]
    from dispatch.ports import ConcurrentUpdate

    store = MongoAssignmentStore(mongo_db)
    a = make_assignment()
    assert await store.add(a, [])
    saved = await store.save(a.model_copy(update={"status": "accepted"}), [])
    assert saved.version == a.version + 1
    with pytest.raises(ConcurrentUpdate):
        await store.save(a.model_copy(update={"status": "confirmed"}), [])
    stored = await store.get(a.ticket_id)
    assert stored is not None and stored.status == "accepted" and stored.version == a.version + 1


async def test_roster_save_keeps_load_and_stores_the_rota(mongo_db: Any) -> None:
    from dispatch.domain import DEMO_ROSTER
    from dispatch.duty import OFFICE_HOURS

    roster = MongoRoster(mongo_db)
    await roster.seed(DEMO_ROSTER)
    for n in range(3):
        await roster.hold("eng-onsite-1", f"a-{n}")
    base = next(e for e in DEMO_ROSTER if e.id == "eng-onsite-1")
    saved = await roster.save(base.model_copy(update={"skills": (), "shifts": OFFICE_HOURS[:1], "open_load": 99}))
    assert saved.open_load == 3 and saved.shifts == OFFICE_HOURS[:1] and saved.skills == ()
    new = await roster.save(base.model_copy(update={"id": "eng-new", "name": "新同事"}))
    assert new.open_load == 0
    off = await roster.set_status("eng-new", "off_duty")
    assert off is not None and off.status == "off_duty"
    assert await roster.set_status("ghost", "busy") is None
    assert {e.id for e in await roster.engineers()} >= {"eng-new", "eng-onsite-1"}


async def test_the_recount_corrects_more_engineers_than_one_update_command_may_change(mongo_db: Any) -> None:
    """FerretDB v1.24 never answers an update command that changes 100 documents or more: the start-up recount of
    start_to_ready's 1,000 engineers hung dispatch's start for good. It writes in batches under that."""
    import asyncio

    roster = MongoRoster(mongo_db)
    await roster.seed([Engineer(id=f"eng-{i:03d}", name=f"E{i}", role="onsite") for i in range(150)])
    await mongo_db["assignments"].insert_many([
        {"_id": f"t-{i}", "id": f"a-{i}", "engineer_id": f"eng-{i % 150:03d}", "status": "open"} for i in range(300)
    ])
    await asyncio.wait_for(roster.recount_load(), timeout=30)
    assert {e.open_load for e in await roster.engineers()} == {2}
