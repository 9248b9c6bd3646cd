"""The authenticator turns a bearer JWT or API key into a Principal and refuses revoked or disabled callers at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi import HTTPException
from starlette.requests import Request

from intake.identity import Identity, bootstrap_admin_key, memory_identity
from intake.identity.adapters_memory import MemoryApiKeyStore, MemoryUserStore
from intake.identity.domain import change_user, key_hash, new_api_key, new_user
from intake.identity.principal import Principal

SECRET = "unit-test-jwt-secret-0123456789abcdef"


def _request(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization is not None else []
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


async def _principal(identity: Identity, credential: str) -> Principal:
    return await identity.authenticator.principal(_request(f"Bearer {credential}"))


async def _refusal(identity: Identity, authorization: str | None) -> str:
    with pytest.raises(HTTPException) as caught:
        await identity.authenticator.principal(_request(authorization))
    assert caught.value.status_code == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
    return str(caught.value.detail)


@pytest.fixture
def identity() -> Identity:
    return memory_identity(jwt_secret=SECRET)


@pytest.fixture
async def engineer(identity: Identity) -> str:
    now = datetime.now(UTC)
    user = new_user(username="zhang", name="張工", role="engineer", department="信息科", engineer_id="eng-zhang", now=now)
    assert await identity.users.add(user)
    return identity.signer.issue(user)


async def test_user_token_gives_a_jwt_principal_from_the_user_record(identity: Identity, engineer: str) -> None:
    principal = await _principal(identity, engineer)

    assert principal == Principal(subject="zhang", name="張工", role="engineer", department="信息科", engineer_id="eng-zhang", via="jwt")
    assert principal.can_write() is True


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [(None, "missing"), ("Basic abc", "missing"), ("Bearer ", "missing"), ("Bearer " + "x" * 5000, "too long")],
)
async def test_missing_or_oversized_credential_is_refused(identity: Identity, authorization: str | None, reason: str) -> None:
    assert reason in await _refusal(identity, authorization)


async def test_unknown_api_key_is_refused(identity: Identity) -> None:
    assert await _refusal(identity, "Bearer odk_nobody_abcdef") == "unknown API key"


async def test_api_key_gives_a_key_principal(identity: Identity) -> None:
    key, secret = new_api_key(name="billing-system", role="agent", now=datetime.now(UTC))
    await identity.keys.create(key)

    principal = await _principal(identity, secret)

    assert principal == Principal(subject="key:billing-system", name="billing-system", role="agent", via="api_key")


async def test_revoked_key_is_refused_at_once_even_when_cached(identity: Identity) -> None:
    key, secret = new_api_key(name="billing-system", role="agent", now=datetime.now(UTC))
    await identity.keys.create(key)
    await _principal(identity, secret)  # now cached

    identity.authenticator.forget_key(*await identity.keys.revoke("billing-system", now=datetime.now(UTC)))

    assert await _refusal(identity, f"Bearer {secret}") == "API key revoked"


async def test_cached_key_answer_lasts_until_forgotten_or_expired() -> None:
    """Another process's revoke is only seen after the cache window: the documented multi-instance delay."""
    identity = memory_identity(jwt_secret=SECRET)
    key, secret = new_api_key(name="billing-system", role="agent", now=datetime.now(UTC))
    await identity.keys.create(key)
    await _principal(identity, secret)

    await identity.keys.revoke("billing-system", now=datetime.now(UTC))  # as if by the CLI: no forget here

    assert (await _principal(identity, secret)).role == "agent"
    uncached = Identity.build(users=identity.users, keys=identity.keys, jwt_secret=SECRET, cache_s=0)
    assert await _refusal(uncached, f"Bearer {secret}") == "API key revoked"


async def test_rotated_key_in_grace_works_until_its_end() -> None:
    identity = memory_identity(jwt_secret=SECRET)
    now = datetime.now(UTC)
    old, old_secret = new_api_key(name="billing-system", role="agent", now=now)
    new, new_secret = new_api_key(name="billing-system", role="agent", now=now)
    await identity.keys.create(old)

    await identity.keys.rotate("billing-system", new, old_until=now + timedelta(minutes=5), now=now)
    identity.authenticator.forget_key(old.key_hash)

    assert (await _principal(identity, old_secret)).subject == "key:billing-system"
    assert (await _principal(identity, new_secret)).subject == "key:billing-system"
    stored = identity.keys
    assert isinstance(stored, MemoryApiKeyStore)
    stored.keys[old.key_hash] = stored.keys[old.key_hash].model_copy(update={"revoked_at": now - timedelta(seconds=1)})
    identity.authenticator.forget_key(old.key_hash)
    assert await _refusal(identity, f"Bearer {old_secret}") == "API key revoked"


async def test_token_of_user_disabled_after_issue_is_refused_at_once(identity: Identity, engineer: str) -> None:
    await _principal(identity, engineer)  # cached
    user = await identity.users.get("zhang")
    assert user is not None
    assert await identity.users.save(change_user(user, by="admin", now=datetime.now(UTC), disabled=True))
    identity.authenticator.forget_user("zhang")

    assert await _refusal(identity, f"Bearer {engineer}") == "user disabled"


async def test_token_issued_before_a_password_reset_is_refused(identity: Identity) -> None:
    now = datetime.now(UTC)
    user = new_user(username="li", name="李四", role="agent", now=now)
    await identity.users.add(user)
    token = identity.signer.issue(user, now=now - timedelta(seconds=5))
    await identity.users.save(change_user(user, by=None, now=now, password_hash=identity.passwords.hash("new-password-1")))

    assert "revoked" in await _refusal(identity, f"Bearer {token}")
    assert (await _principal(identity, identity.signer.issue(user))).subject == "li"


async def test_role_change_applies_to_existing_tokens(identity: Identity, engineer: str) -> None:
    user = await identity.users.get("zhang")
    assert user is not None
    await identity.users.save(change_user(user, by="admin", now=datetime.now(UTC), role="auditor"))
    identity.authenticator.forget_user("zhang")

    principal = await _principal(identity, engineer)

    assert principal.role == "auditor"
    assert principal.can_write() is False


async def test_token_of_unknown_user_is_refused(identity: Identity) -> None:
    ghost = new_user(username="ghost", name="鬼", role="admin", now=datetime.now(UTC))

    assert await _refusal(identity, f"Bearer {identity.signer.issue(ghost)}") == "token user unknown"


async def test_expired_token_is_refused_naming_expiry(identity: Identity) -> None:
    user = new_user(username="li", name="李四", role="agent", now=datetime.now(UTC))
    await identity.users.add(user)
    token = identity.signer.issue(user, now=datetime.now(UTC) - timedelta(hours=2))

    assert await _refusal(identity, f"Bearer {token}") == "token expired"


async def test_bootstrap_token_becomes_the_admin_key_named_bootstrap(identity: Identity) -> None:
    await bootstrap_admin_key(identity.keys, "any old string.with.two dots")

    principal = await _principal(identity, "any old string.with.two dots")

    assert (principal.subject, principal.role, principal.via) == ("key:bootstrap", "admin", "api_key")
    assert (await identity.keys.by_hash(key_hash("any old string.with.two dots"))) is not None


async def test_new_bootstrap_token_replaces_the_old_one_and_a_revoked_one_never_returns() -> None:
    keys = MemoryApiKeyStore()
    identity = Identity.build(users=MemoryUserStore(), keys=keys, jwt_secret=SECRET, cache_s=0)
    await bootstrap_admin_key(keys, "first-bootstrap-token")
    await bootstrap_admin_key(keys, "first-bootstrap-token")  # a restart changes nothing
    assert (await _principal(identity, "first-bootstrap-token")).role == "admin"

    await bootstrap_admin_key(keys, "second-bootstrap-token")

    assert await _refusal(identity, "Bearer first-bootstrap-token") == "API key revoked"
    assert (await _principal(identity, "second-bootstrap-token")).role == "admin"
    await bootstrap_admin_key(keys, "first-bootstrap-token")
    assert await _refusal(identity, "Bearer first-bootstrap-token") == "API key revoked"


async def test_empty_bootstrap_token_retires_the_bootstrap_key() -> None:
    keys = MemoryApiKeyStore()
    identity = Identity.build(users=MemoryUserStore(), keys=keys, jwt_secret=SECRET, cache_s=0)
    await bootstrap_admin_key(keys, "first-bootstrap-token")

    await bootstrap_admin_key(keys, "")

    assert await _refusal(identity, "Bearer first-bootstrap-token") == "API key revoked"
