"""Identity's edge on memory stores: users linked to dispatch's roster, the sign-in throttle that slows guessers
without locking anyone out, and the security events both leave in the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from intake.identity import Identity, bootstrap_admin_key, identity_router, memory_identity
from intake.identity.domain import new_user
from intake.identity.roster import MemoryRoster
from intake.identity.throttle import LoginThrottle

SECRET = "edge-roster-jwt-secret-0123456789abcdef"
BOOTSTRAP = "edge-roster-bootstrap-0123456789abcdef"
ADMIN_KEY = {"Authorization": f"Bearer {BOOTSTRAP}"}
PASSWORD = "s3cret-passw0rd"
ATTACKER = ("203.0.113.66", 40000)
OWNER = ("10.1.2.3", 50000)

Client = Callable[[tuple[str, int]], httpx.AsyncClient]


@pytest.fixture
def roster() -> MemoryRoster:
    return MemoryRoster({"eng-7", "eng-8"})


@pytest.fixture
async def identity(roster: MemoryRoster) -> Identity:
    wired = memory_identity(jwt_secret=SECRET, roster=roster)
    wired.throttle = LoginThrottle(free_per_account=5, free_per_source=30, base_s=30.0)
    await bootstrap_admin_key(wired.keys, BOOTSTRAP)
    for username, role in (("root", "admin"), ("desk", "agent")):
        await wired.users.add(new_user(username=username, name=username, role=role, password_hash=wired.passwords.hash(PASSWORD), now=datetime.now(UTC)))  # type: ignore[arg-type]
    return wired


@pytest.fixture
async def clients(identity: Identity) -> AsyncIterator[Client]:
    """An HTTP client per client address, on one app."""
    app = FastAPI()
    app.include_router(identity_router())
    app.state.adapters = SimpleNamespace(identity=identity)
    opened: list[httpx.AsyncClient] = []

    def at(address: tuple[str, int]) -> httpx.AsyncClient:
        c = httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=address), base_url="http://intake.test")
        opened.append(c)
        return c

    yield at
    for c in opened:
        await c.aclose()


@pytest.fixture
def client(clients: Client) -> httpx.AsyncClient:
    return clients(OWNER)


ENGINEER = {"username": "chen", "name": "陳工", "role": "engineer", "password": "chen-pass-123"}


# --- the roster link ------------------------------------------------------------------------------------------------


async def test_an_engineer_is_created_linked_to_a_roster_engineer_and_carries_the_link(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/users", json={**ENGINEER, "engineer_id": "eng-7"}, headers=ADMIN_KEY)

    assert created.status_code == 201, created.text
    assert created.json()["engineer_id"] == "eng-7"
    token = (await client.post("/api/v1/auth/token", json={"username": "chen", "password": "chen-pass-123"})).json()["access_token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["engineer_id"] == "eng-7"


async def test_an_engineer_without_a_roster_link_is_422_naming_engineer_id(client: httpx.AsyncClient, identity: Identity) -> None:
    response = await client.post("/api/v1/users", json=ENGINEER, headers=ADMIN_KEY)

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "engineer_id"]
    assert await identity.users.get("chen") is None


async def test_an_engineer_id_unknown_to_the_roster_is_422_naming_engineer_id(client: httpx.AsyncClient, identity: Identity) -> None:
    response = await client.post("/api/v1/users", json={**ENGINEER, "engineer_id": "eng-404"}, headers=ADMIN_KEY)

    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "engineer_id"] and "eng-404" in detail["msg"]
    assert await identity.users.get("chen") is None


async def test_when_dispatch_does_not_answer_the_link_is_a_503_and_nothing_is_stored(
    client: httpx.AsyncClient, identity: Identity, roster: MemoryRoster
) -> None:
    roster.available = False

    response = await client.post("/api/v1/users", json={**ENGINEER, "engineer_id": "eng-7"}, headers=ADMIN_KEY)

    assert response.status_code == 503
    assert await identity.users.get("chen") is None


async def test_one_roster_engineer_links_to_one_user_only(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/users", json={**ENGINEER, "engineer_id": "eng-7"}, headers=ADMIN_KEY)).status_code == 201

    second = await client.post("/api/v1/users", json={**ENGINEER, "username": "chen2", "engineer_id": "eng-7"}, headers=ADMIN_KEY)

    assert second.status_code == 409


async def test_patch_links_checks_and_unlinks(client: httpx.AsyncClient) -> None:
    promote_unlinked = await client.patch("/api/v1/users/desk", json={"role": "engineer"}, headers=ADMIN_KEY)
    promote_unknown = await client.patch("/api/v1/users/desk", json={"role": "engineer", "engineer_id": "eng-404"}, headers=ADMIN_KEY)
    promote = await client.patch("/api/v1/users/desk", json={"role": "engineer", "engineer_id": "eng-8"}, headers=ADMIN_KEY)
    unlink_engineer = await client.patch("/api/v1/users/desk", json={"engineer_id": None}, headers=ADMIN_KEY)
    back_to_desk = await client.patch("/api/v1/users/desk", json={"role": "agent", "engineer_id": None}, headers=ADMIN_KEY)

    assert [r.status_code for r in (promote_unlinked, promote_unknown)] == [422, 422]
    assert promote_unlinked.json()["detail"][0]["loc"] == ["body", "engineer_id"]
    assert (promote.status_code, promote.json()["engineer_id"]) == (200, "eng-8")
    # Unlinking works (it is how a link moves to another account); the unlinked engineer then holds no ticket.
    assert (unlink_engineer.status_code, unlink_engineer.json()["engineer_id"]) == (200, None)
    assert (back_to_desk.status_code, back_to_desk.json()["engineer_id"]) == (200, None)


async def test_a_roster_link_moves_to_another_user_by_unlinking_or_by_disabling(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/users", json={**ENGINEER, "engineer_id": "eng-7"}, headers=ADMIN_KEY)).status_code == 201
    successor = {**ENGINEER, "username": "wang", "name": "王工", "engineer_id": "eng-7"}
    assert (await client.post("/api/v1/users", json=successor, headers=ADMIN_KEY)).status_code == 409  # held by chen

    unlinked = await client.patch("/api/v1/users/chen", json={"engineer_id": None}, headers=ADMIN_KEY)
    assert (unlinked.status_code, unlinked.json()["engineer_id"]) == (200, None), unlinked.text
    taken = await client.post("/api/v1/users", json=successor, headers=ADMIN_KEY)
    assert (taken.status_code, taken.json()["engineer_id"]) == (201, "eng-7"), taken.text

    # Disabling the holder frees the link too: the next account takes it, and the old one cannot come back holding it.
    assert (await client.patch("/api/v1/users/wang", json={"disabled": True}, headers=ADMIN_KEY)).status_code == 200
    moved = await client.patch("/api/v1/users/chen", json={"engineer_id": "eng-7"}, headers=ADMIN_KEY)
    assert (moved.status_code, moved.json()["engineer_id"]) == (200, "eng-7"), moved.text
    back = await client.patch("/api/v1/users/wang", json={"disabled": False}, headers=ADMIN_KEY)
    assert back.status_code == 409 and "chen" in back.text, back.text


# --- the throttle ---------------------------------------------------------------------------------------------------


async def _guess(c: httpx.AsyncClient, username: str = "root", password: str = "wrong-guess") -> httpx.Response:
    return await c.post("/api/v1/auth/token", json={"username": username, "password": password})


async def test_guessing_a_password_is_slowed_with_429_and_retry_after(clients: Client) -> None:
    attacker = clients(ATTACKER)
    answers = [(await _guess(attacker)).status_code for _ in range(6)]

    assert answers == [401] * 5 + [429]
    throttled = await _guess(attacker, password=PASSWORD)  # even the right password waits: no oracle while throttled
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["retry-after"]) <= 31


async def test_an_outsider_cannot_lock_the_real_user_out(clients: Client) -> None:
    attacker = clients(ATTACKER)
    for _ in range(20):
        await _guess(attacker)

    owner = await _guess(clients(OWNER), password=PASSWORD)

    assert owner.status_code == 200


async def test_one_address_trying_many_accounts_is_slowed_across_them(clients: Client, identity: Identity) -> None:
    identity.throttle = LoginThrottle(free_per_account=5, free_per_source=8, base_s=30.0)
    attacker = clients(ATTACKER)
    for n in range(8):
        assert (await _guess(attacker, username=f"user{n}")).status_code == 401

    assert (await _guess(attacker, username="desk", password=PASSWORD)).status_code == 429
    assert (await _guess(clients(OWNER), username="desk", password=PASSWORD)).status_code == 200


async def test_password_change_is_under_the_same_throttle(clients: Client) -> None:
    owner = clients(OWNER)
    token = (await _guess(owner, username="desk", password=PASSWORD)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    attacker = clients(ATTACKER)  # someone with a stolen token guesses the current password

    answers = [
        (await attacker.post("/api/v1/me/password", json={"current_password": f"guess-{n}", "new_password": "taken-over-1"}, headers=auth)).status_code
        for n in range(6)
    ]
    right = await attacker.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "taken-over-1"}, headers=auth)

    assert answers == [403] * 5 + [429]
    assert right.status_code == 429
    assert (await _guess(owner, username="desk", password=PASSWORD)).status_code == 200  # the password did not change


# --- security events ------------------------------------------------------------------------------------------------


def _events(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "intake.security"]  # type: ignore[attr-defined]


async def test_security_events_are_logged_as_structured_fields(clients: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="intake.security")
    attacker, owner = clients(ATTACKER), clients(OWNER)
    for _ in range(6):
        await _guess(attacker)
    token = (await _guess(owner, password=PASSWORD)).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    await owner.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "new-root-pass-1"}, headers=auth)
    await owner.post("/api/v1/api-keys", json={"name": "billing", "role": "agent"}, headers=ADMIN_KEY)
    await owner.delete("/api/v1/api-keys/billing", headers=ADMIN_KEY)

    events = _events(caplog)
    kinds = [e["security_event"] for e in events]
    assert kinds.count("sign_in_failed") == 5
    assert "sign_in_throttled" in kinds
    assert {"signed_in", "password_changed", "key_created", "key_revoked"} <= set(kinds)
    failed = next(e for e in events if e["security_event"] == "sign_in_failed")
    assert (failed["username"], failed["source"], failed["reason"]) == ("root", ATTACKER[0], "wrong password")
    revoked = next(e for e in events if e["security_event"] == "key_revoked")
    assert (revoked["by"], revoked["key"]) == ("key:bootstrap", "billing")
    assert not any(PASSWORD in str(e) or "new-root-pass-1" in str(e) for e in events)
