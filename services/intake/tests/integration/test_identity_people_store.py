"""The desk's directory on both user stores (memory and real FerretDB): found across the store's batches, in
username order, disabled accounts left out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from intake.identity import Identity
from intake.identity.adapters_memory import MemoryApiKeyStore, MemoryUserStore
from intake.identity.adapters_mongo import MongoApiKeyStore, MongoUserStore
from intake.identity.domain import new_user
from intake.identity.passwords import Passwords
from intake.identity.service import find_people

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "mongo"])
def identity(request: pytest.FixtureRequest) -> Identity:
    if request.param == "mongo":
        db: Any = request.getfixturevalue("mongo_db")
        return Identity.build(users=MongoUserStore(db), keys=MongoApiKeyStore(db), jwt_secret="s" * 40, passwords=Passwords.cheap())
    return Identity.build(users=MemoryUserStore(), keys=MemoryApiKeyStore(), jwt_secret="s" * 40, passwords=Passwords.cheap())


async def test_people_are_found_across_batches_in_username_order_without_disabled_ones(identity: Identity) -> None:
    now = datetime.now(UTC)
    for n in range(25):
        department = "財務科" if n % 5 == 0 else "办公室"
        await identity.users.add(new_user(username=f"u{n:02d}", name=f"職員{n}", role="requester", department=department,
                                          phone=f"020-5555 {n:04d}", now=now))
    gone = new_user(username="u99", name="離職", role="requester", department="財務科", now=now)
    await identity.users.add(gone.model_copy(update={"disabled": True}))

    page, more = await find_people(identity, q="财务", limit=3, batch=4)
    rest, more_after = await find_people(identity, q="财务", limit=3, offset=3, batch=4)
    by_phone, _ = await find_people(identity, q="5555 0007", batch=4)

    assert [u.username for u in page] == ["u00", "u05", "u10"] and more is True
    assert [u.username for u in rest] == ["u15", "u20"] and more_after is False
    assert [u.username for u in by_phone] == ["u07"]
