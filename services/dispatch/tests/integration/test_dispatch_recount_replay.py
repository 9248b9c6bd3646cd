"""Issue 14, found by the fault campaign: engineers' loads drifting from the work they hold. The short profile showed
`eng-onsite-1: load 52, open assignments 51` (dispatch killed between an assignment's write and its load count, the
redelivered ticket.created counting it again); long runs 7 and 8, with the database killed, loads 9 and 2 high (a
bare `$inc` the driver may send twice, and a release a crash cut off that a redelivery never made).

The load is now the set of assignment ids an engineer holds, written whole with its count: holding or letting go
twice changes nothing, and a redelivered event settles what a crash left."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch import service
from dispatch.adapters.mongo import MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from opsdesk_shared.outbox import OutboxRelay

from .replay import NOW, Dying, Recording, assign, created, load

pytestmark = pytest.mark.integration


class KilledBeforeHolding(Dying):
    """SIGKILL after the assignment's write, before its engineer holds it: the process is gone."""

    async def hold(self, engineer_id: str, assignment_id: str) -> bool:
        raise SystemExit("killed")


class DatabaseDiedBeforeRelease(Dying):
    """The database went away after the withdrawal's write, before the engineer's release: the handler fails and
    JetStream redelivers the event to the same, living process."""

    async def release(self, engineer_id: str, assignment_id: str) -> bool:
        raise ConnectionError("the database went away")


async def _restart(db: Any, store: MongoAssignmentStore) -> MongoRoster:
    """What dispatch.main's start-up does before it consumes: one scan, then the recount."""
    roster = MongoRoster(db, cache_s=0.0)
    held, _waiting = await store.start_up_scan()
    await roster.recount_load(held)
    return roster


async def test_a_redelivery_after_a_restart_does_not_count_what_the_recount_counted(mongo_db: Any) -> None:
    first = MongoRoster(mongo_db, cache_s=0.0)
    await first.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    store = MongoAssignmentStore(mongo_db)
    outbox = OutboxRelay(store.collection, Recording())
    ticket = created(1)
    with pytest.raises(SystemExit):
        await assign(ticket, roster=KilledBeforeHolding(first), store=store, outbox=outbox)
    stored = await store.get(ticket.ticket_id)
    assert stored is not None and stored.status == "open"
    assert await load(first, stored.engineer_id) == 0  # the count never happened

    restarted = await _restart(mongo_db, store)
    assert await load(restarted, stored.engineer_id) == 1  # the recount counted the open assignment

    # JetStream redelivers ticket.created to the new process
    again = await assign(ticket, roster=restarted, store=store, outbox=outbox)
    assert again.id == stored.id
    assert await load(restarted, stored.engineer_id) == 1  # was 2


async def test_a_withdrawal_redelivered_after_the_database_died_releases_the_engineer_once(mongo_db: Any) -> None:
    roster = MongoRoster(mongo_db, cache_s=0.0)
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    store = MongoAssignmentStore(mongo_db)
    outbox = OutboxRelay(store.collection, Recording())
    a = await assign(created(2), roster=roster, store=store, outbox=outbox)
    assert await load(roster, a.engineer_id) == 1

    async def withdraw(with_roster: Any) -> str:
        return await service.withdraw(a.ticket_id, number=a.ticket_number, status="cancelled", by="desk.zhou",
                                      roster=with_roster, assignments=store, now=NOW)

    with pytest.raises(ConnectionError):
        await withdraw(DatabaseDiedBeforeRelease(roster))
    assert (await store.get(a.ticket_id)).status == "withdrawn"  # type: ignore[union-attr]
    assert await load(roster, a.engineer_id) == 1  # the release never happened

    assert await withdraw(roster) == "unchanged"  # the redelivery finds it withdrawn already...
    assert await load(roster, a.engineer_id) == 0  # ...and lets the engineer go (was: 1 for ever, until a restart)
    assert await withdraw(roster) == "unchanged"
    assert await load(roster, a.engineer_id) == 0


async def test_holding_and_releasing_are_keyed_by_the_assignment(mongo_db: Any) -> None:
    roster = MongoRoster(mongo_db, cache_s=0.0)
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    engineer = DEMO_ROSTER_ALWAYS_ON_SITE[0].id
    assert await roster.hold(engineer, "a-1") and await roster.hold(engineer, "a-2")
    assert not await roster.hold(engineer, "a-1")  # a driver's retry, a redelivery: the same set, the same count
    assert await load(roster, engineer) == 2
    assert await roster.release(engineer, "a-1")
    assert not await roster.release(engineer, "a-1") and not await roster.release(engineer, "a-never")
    assert await load(roster, engineer) == 1
    doc = await mongo_db["engineers"].find_one({"_id": engineer})
    assert doc["held"] == ["a-2"] and doc["open_load"] == 1
    assert not await roster.hold("ghost", "a-3")  # no such engineer: nothing written


async def test_the_recount_holds_every_assignment_still_the_engineers_to_do(mongo_db: Any) -> None:
    """Accepted and confirmed work is the engineer's as much as open work (the recount counted `open` only: a
    restart dropped the load of every engineer who had accepted something)."""
    roster = MongoRoster(mongo_db, cache_s=0.0)
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    engineer = DEMO_ROSTER_ALWAYS_ON_SITE[0].id
    statuses = ["open", "accepted", "confirmed", "completed", "reviewed", "withdrawn", "open"]
    await mongo_db["assignments"].insert_many([
        {"_id": f"t-{i}", "id": f"a-{i}", "engineer_id": engineer, "status": s} for i, s in enumerate(statuses)
    ])
    await mongo_db["engineers"].update_one({"_id": engineer}, {"$set": {"open_load": 40, "load_marks": ["x"]}})

    await roster.recount_load()

    doc = await mongo_db["engineers"].find_one({"_id": engineer})
    assert doc["open_load"] == 4 and sorted(doc["held"]) == ["a-0", "a-1", "a-2", "a-6"] and "load_marks" not in doc
    assert not await roster.hold(engineer, "a-6")  # held by the recount already
    assert await roster.hold(engineer, "a-new")
    assert await load(roster, engineer) == 5
