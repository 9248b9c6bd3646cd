"""An engineer's held set is remembered by the process that wrote it (issue 17): a hold or release is one write,
no read; on MongoDB another replica's change makes the filtered write miss, and the set is read again."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.adapters import mongo as mongo_adapter
from dispatch.adapters.mongo import MongoRoster
from dispatch.domain import DEMO_ROSTER_ALWAYS_ON_SITE
from opsdesk_shared.db_ledger import CommandTally

pytestmark = pytest.mark.integration


@pytest.fixture
def counted(counted_db: tuple[Any, CommandTally]) -> tuple[Any, CommandTally]:
    return counted_db  # the devstack plugin's: a fresh database and its client's command tally


async def test_a_second_hold_is_one_write_and_a_repeat_writes_nothing(counted: tuple[Any, CommandTally]) -> None:
    db, commands = counted
    roster = MongoRoster(db)
    await roster.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    engineer = DEMO_ROSTER_ALWAYS_ON_SITE[0].id
    assert await roster.hold(engineer, "a-1")  # the first reads the set
    commands.clear()
    assert await roster.hold(engineer, "a-2")
    assert not await roster.hold(engineer, "a-2")  # asked twice: settled, nothing written
    assert await roster.release(engineer, "a-1")
    assert dict(commands.names) == {"update": 2}, dict(commands.names)  # was a read and a write each
    doc = await db["engineers"].find_one({"_id": engineer})
    assert doc["held"] == ["a-2"] and doc["open_load"] == 1


async def test_another_replicas_hold_is_not_lost_on_mongodb(mongo_db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    async def never(_client: object) -> bool:
        return False

    monkeypatch.setattr(mongo_adapter, "is_ferretdb", never)
    monkeypatch.setattr("opsdesk_shared.mongo.is_ferretdb", never)
    one, two = MongoRoster(mongo_db), MongoRoster(mongo_db)
    await one.seed(DEMO_ROSTER_ALWAYS_ON_SITE)
    engineer = DEMO_ROSTER_ALWAYS_ON_SITE[0].id
    assert await one.hold(engineer, "a-1")
    assert await two.hold(engineer, "a-2")  # reads [a-1]
    assert await one.hold(engineer, "a-3")  # remembers [a-1]: its filtered write misses, it reads again
    doc = await mongo_db["engineers"].find_one({"_id": engineer})
    assert doc["held"] == ["a-1", "a-2", "a-3"] and doc["open_load"] == 3
