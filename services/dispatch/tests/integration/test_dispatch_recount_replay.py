"""Issue 14, found by the fault campaign (tests/faults, short profile: `eng-onsite-1: load 52, open assignments 51`,
the long one +2): dispatch killed between an assignment's write and its load count, restarted, and the redelivered
ticket.created counted the engineer's load a second time. The start-up recount had already counted the open
assignment, but left no mark of it, so count_assignment found no mark and added one more."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from dispatch.adapters.mongo import LOAD_MARKS, MongoAssignmentStore, MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from opsdesk_shared.outbox import OutboxRelay

from .replay import Dying, Recording, assign, created, load

pytestmark = pytest.mark.integration


class KilledBeforeCounting(Dying):
    """SIGKILL after the assignment's write, before its load count: the process is gone."""

    async def count_assignment(self, engineer_id: str, assignment_id: str) -> bool:
        raise SystemExit("killed")


async def _restart(db: Any, store: MongoAssignmentStore) -> MongoRoster:
    """What dispatch.main's start-up does before it consumes: one scan, then the recount."""
    roster = MongoRoster(db, cache_s=0.0)
    open_counts, _waiting = await store.start_up_scan()
    await roster.recount_load(open_counts)
    return roster


async def test_a_redelivery_after_a_restart_does_not_count_what_the_recount_counted(mongo_db: Any) -> None:
    first = MongoRoster(mongo_db, cache_s=0.0)
    await first.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    store = MongoAssignmentStore(mongo_db)
    outbox = OutboxRelay(store.collection, Recording())
    ticket = created(1)
    with pytest.raises(SystemExit):
        await assign(ticket, roster=KilledBeforeCounting(first), store=store, outbox=outbox)
    stored = await store.get(ticket.ticket_id)
    assert stored is not None and stored.status == "open"
    assert await load(first, stored.engineer_id) == 0  # the count never happened

    restarted = await _restart(mongo_db, store)
    assert await load(restarted, stored.engineer_id) == 1  # the recount counted the open assignment

    # JetStream redelivers ticket.created to the new process
    again = await assign(ticket, roster=restarted, store=store, outbox=outbox)
    assert again.id == stored.id
    assert await load(restarted, stored.engineer_id) == 1  # was 2


async def test_the_recount_marks_only_the_latest_open_assignments_of_an_engineer_it_corrected(mongo_db: Any) -> None:
    roster = MongoRoster(mongo_db, cache_s=0.0)
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    engineer = DEMO_ROSTER_ALWAYS_ON_SITE[0].id
    await mongo_db["assignments"].insert_many([
        {"_id": f"t-{i}", "id": f"a-{i}", "engineer_id": engineer, "status": "open",
         "assigned_at": datetime(2026, 3, 16, 2, i // 60, i % 60, tzinfo=UTC)}
        for i in range(LOAD_MARKS + 10)
    ])
    await mongo_db["assignments"].insert_one({"_id": "t-done", "id": "a-done", "engineer_id": engineer, "status": "closed",
                                              "assigned_at": datetime(2026, 3, 16, 3, tzinfo=UTC)})

    await roster.recount_load()

    doc = await mongo_db["engineers"].find_one({"_id": engineer})
    assert doc["open_load"] == LOAD_MARKS + 10
    assert doc["load_marks"] == [f"a-{i}" for i in range(10, LOAD_MARKS + 10)]  # oldest first, as count_assignment keeps them
    assert not await roster.count_assignment(engineer, f"a-{LOAD_MARKS + 9}")  # counted by the recount already
    assert await roster.count_assignment(engineer, "a-new")
