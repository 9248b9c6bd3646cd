"""One suite for the identity stores: memory and Mongo (real FerretDB) must behave alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request

from intake.identity import Identity, bootstrap_admin_key
from intake.identity.adapters_memory import MemoryApiKeyStore, MemoryUserStore
from intake.identity.adapters_mongo import MongoApiKeyStore, MongoUserStore
from intake.identity.domain import change_user, key_hash, new_api_key, new_user
from intake.identity.passwords import Passwords
from intake.identity.ports import ApiKeyStore, UserStore

pytestmark = pytest.mark.integration

SECRET = "integration-jwt-secret-0123456789abcdef"


def _now() -> datetime:
    """Millisecond precision: BSON dates hold milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


@pytest.fixture(params=["memory", "mongo"])
def identity_db(request: pytest.FixtureRequest) -> Any:
    """None for the memory stores, else a fresh database on the real server (only then is it started)."""
    return request.getfixturevalue("mongo_db") if request.param == "mongo" else None


@pytest.fixture
def users(identity_db: Any) -> UserStore:
    return MemoryUserStore() if identity_db is None else MongoUserStore(identity_db)


@pytest.fixture
def keys(identity_db: Any) -> ApiKeyStore:
    return MemoryApiKeyStore() if identity_db is None else MongoApiKeyStore(identity_db)


async def test_user_reads_back_equal_with_aware_datetimes(users: UserStore) -> None:
    now = _now()
    user = new_user(username="wang", name="王小明", role="requester", department="辦公室", email="w@example.org", now=now)

    assert await users.add(user) is True
    loaded = await users.get("wang")

    assert loaded == user
    assert loaded is not None and loaded.created_at.tzinfo is not None


async def test_adding_an_existing_username_is_refused(users: UserStore) -> None:
    await users.add(new_user(username="wang", name="王小明", role="requester", now=_now()))

    assert await users.add(new_user(username="wang", name="王大明", role="admin", now=_now())) is False
    assert (await users.get("wang")).name == "王小明"  # type: ignore[union-attr]


async def test_save_bumps_the_version_and_refuses_a_stale_copy(users: UserStore) -> None:
    user = new_user(username="wang", name="王小明", role="requester", now=_now())
    await users.add(user)
    moved = change_user(user, by=None, now=_now(), department="信息科")

    assert await users.save(moved) is True
    assert await users.save(change_user(user, by=None, now=_now(), disabled=True)) is False
    loaded = await users.get("wang")
    assert loaded is not None
    assert (loaded.department, loaded.disabled, loaded.version) == ("信息科", False, 1)


async def test_list_filters_by_role_and_department_in_username_order_with_paging(users: UserStore) -> None:
    now = _now()
    for username, role, dept in [("c", "requester", "辦公室"), ("a", "requester", "辦公室"), ("b", "agent", "辦公室"), ("d", "requester", "財務科")]:
        await users.add(new_user(username=username, name=username, role=role, department=dept, now=now))  # type: ignore[arg-type]

    assert [u.username for u in await users.list()] == ["a", "b", "c", "d"]
    assert [u.username for u in await users.list(role="requester", department="辦公室")] == ["a", "c"]
    assert [u.username for u in await users.list(limit=2, offset=1)] == ["b", "c"]


async def test_key_is_found_by_hash_and_by_name_and_a_second_active_one_is_refused(keys: ApiKeyStore) -> None:
    key, secret = new_api_key(name="billing-system", role="agent", now=_now())

    assert await keys.create(key) is True
    assert await keys.by_hash(key_hash(secret)) == key
    assert await keys.by_name("billing-system") == key
    assert await keys.create(new_api_key(name="billing-system", role="admin", now=_now())[0]) is False
    assert await keys.by_hash("0" * 64) is None
    assert await keys.by_name("nobody") is None


async def test_rotation_revokes_the_old_key_and_makes_the_new_one_current(keys: ApiKeyStore) -> None:
    now = _now()
    old, _ = new_api_key(name="billing-system", role="agent", now=now)
    new, _ = new_api_key(name="billing-system", role="agent", now=now)
    await keys.create(old)

    returned = await keys.rotate("billing-system", new, old_until=now, now=now)

    assert returned == old
    stored_old = await keys.by_hash(old.key_hash)
    assert stored_old is not None and not stored_old.active(now)
    assert await keys.by_name("billing-system") == new
    assert await keys.rotate("nobody", new, old_until=now, now=now) is None


async def test_revoking_a_name_also_ends_keys_in_a_rotation_grace(keys: ApiKeyStore) -> None:
    now = _now()
    first, _ = new_api_key(name="billing-system", role="agent", now=now)
    second, _ = new_api_key(name="billing-system", role="agent", now=now)
    await keys.create(first)
    await keys.rotate("billing-system", second, old_until=now + timedelta(hours=1), now=now)
    assert (await keys.by_hash(first.key_hash)).active(now)  # type: ignore[union-attr]

    revoked = await keys.revoke("billing-system", now=now)

    assert sorted(revoked) == sorted([first.key_hash, second.key_hash])
    for digest in (first.key_hash, second.key_hash):
        assert not (await keys.by_hash(digest)).active(now)  # type: ignore[union-attr]
    assert await keys.revoke("billing-system", now=now) == []
    assert await keys.rotate("billing-system", new_api_key(name="billing-system", role="agent", now=now)[0], old_until=now, now=now) is None


async def test_a_revoked_name_can_be_created_again(keys: ApiKeyStore) -> None:
    now = _now()
    old, _ = new_api_key(name="billing-system", role="agent", now=now)
    await keys.create(old)
    await keys.revoke("billing-system", now=now)
    fresh, _ = new_api_key(name="billing-system", role="engineer", now=now)

    assert await keys.create(fresh) is True
    assert await keys.by_name("billing-system") == fresh
    assert [k.name for k in await keys.list()] == ["billing-system"]


async def test_ensure_points_the_name_at_the_hash_and_never_revives_a_revoked_one(keys: ApiKeyStore) -> None:
    now = _now()
    assert await keys.ensure(key_hash("token-one"), name="bootstrap", role="admin", now=now) is True
    assert await keys.ensure(key_hash("token-one"), name="bootstrap", role="admin", now=now) is True

    assert await keys.ensure(key_hash("token-two"), name="bootstrap", role="admin", now=now) is True

    assert not (await keys.by_hash(key_hash("token-one"))).active(now)  # type: ignore[union-attr]
    assert (await keys.by_name("bootstrap")).key_hash == key_hash("token-two")  # type: ignore[union-attr]
    assert await keys.ensure(key_hash("token-one"), name="bootstrap", role="admin", now=now) is False
    assert (await keys.by_name("bootstrap")).key_hash == key_hash("token-two")  # type: ignore[union-attr]


async def test_list_gives_each_names_current_key_in_name_order(keys: ApiKeyStore) -> None:
    now = _now()
    for name in ("zeta", "alpha"):
        await keys.create(new_api_key(name=name, role="agent", now=now)[0])
    new, _ = new_api_key(name="zeta", role="agent", now=now)
    await keys.rotate("zeta", new, old_until=now, now=now)

    listed = await keys.list()

    assert [k.name for k in listed] == ["alpha", "zeta"]
    assert listed[1] == new


async def test_authenticator_on_the_store_accepts_tokens_and_keys_and_refuses_after_revoke(users: UserStore, keys: ApiKeyStore) -> None:
    identity = Identity.build(users=users, keys=keys, jwt_secret=SECRET, passwords=Passwords.cheap())
    user = new_user(username="zhang", name="張工", role="engineer", department="信息科", engineer_id="eng-zhang", now=_now())
    await users.add(user)
    await bootstrap_admin_key(keys, "integration-bootstrap-token")

    def request(credential: str) -> Request:
        return Request({"type": "http", "headers": [(b"authorization", f"Bearer {credential}".encode())]})

    assert (await identity.authenticator.principal(request(identity.signer.issue(user)))).role == "engineer"
    assert (await identity.authenticator.principal(request("integration-bootstrap-token"))).role == "admin"
    identity.authenticator.forget_key(*await keys.revoke("bootstrap", now=datetime.now(UTC)))
    with pytest.raises(Exception, match="401"):
        await identity.authenticator.principal(request("integration-bootstrap-token"))
