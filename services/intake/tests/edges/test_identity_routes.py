"""Identity's HTTP edge on memory stores: login, /me, and the admin's users and API keys with role boundaries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from intake.identity import Identity, bootstrap_admin_key, identity_router, memory_identity
from intake.identity.domain import new_user
from intake.identity.passwords import Passwords
from intake.identity.principal import ROLES, Role
from intake.identity.roster import MemoryRoster
from intake.identity.throttle import LoginThrottle

SECRET = "edge-test-jwt-secret-0123456789abcdef"
BOOTSTRAP = "edge-bootstrap-token-0123456789abcdef"
PASSWORD = "s3cret-passw0rd"

Login = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
async def identity() -> Identity:
    wired = memory_identity(jwt_secret=SECRET, jwt_ttl_s=900, roster=MemoryRoster({"eng-1", "eng-2", "eng-7"}))
    wired.throttle = LoginThrottle(free_per_account=3)
    await bootstrap_admin_key(wired.keys, BOOTSTRAP)
    now = datetime.now(UTC)
    for role in ROLES:
        await wired.users.add(
            new_user(
                username=f"{role}1",
                name=f"{role} one",
                role=role,
                department="辦公室",
                engineer_id="eng-1" if role == "engineer" else None,
                password_hash=wired.passwords.hash(PASSWORD),
                now=now,
            )
        )
    return wired


@pytest.fixture
async def client(identity: Identity) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(identity_router())
    app.state.adapters = SimpleNamespace(identity=identity)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test") as c:
        yield c


@pytest.fixture
def login(client: httpx.AsyncClient) -> Login:
    async def as_user(username: str, password: str = PASSWORD) -> dict[str, str]:
        response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return as_user


ADMIN_KEY = {"Authorization": f"Bearer {BOOTSTRAP}"}


# --- logging in -----------------------------------------------------------------------------------------------------


async def test_login_returns_a_bearer_token_that_identifies_the_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "Engineer1", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("bearer", 900)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"subject": "engineer1", "name": "engineer one", "role": "engineer", "department": "辦公室", "engineer_id": "eng-1", "via": "jwt"}


async def test_wrong_password_and_unknown_user_get_the_same_401(client: httpx.AsyncClient) -> None:
    wrong = await client.post("/api/v1/auth/token", json={"username": "agent1", "password": "not-the-password"})
    unknown = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "invalid username or password"}
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_user_without_password_cannot_log_in(client: httpx.AsyncClient, identity: Identity) -> None:
    await identity.users.add(new_user(username="imported", name="匯入", role="requester", now=datetime.now(UTC)))

    response = await client.post("/api/v1/auth/token", json={"username": "imported", "password": "anything-at-all"})

    assert response.status_code == 401


async def test_repeated_failures_are_throttled_per_account_and_address(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        assert (await client.post("/api/v1/auth/token", json={"username": "agent1", "password": "wrong-pass"})).status_code == 401

    throttled = await client.post("/api/v1/auth/token", json={"username": "agent1", "password": PASSWORD})
    other = await client.post("/api/v1/auth/token", json={"username": "manager1", "password": PASSWORD})

    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert other.status_code == 200


async def test_login_rehashes_a_password_hashed_with_old_parameters(client: httpx.AsyncClient, identity: Identity) -> None:
    old_hash = Passwords(time_cost=2, memory_cost=16, parallelism=1).hash("legacy-password")
    await identity.users.add(new_user(username="legacy", name="舊", role="agent", password_hash=old_hash, now=datetime.now(UTC)))

    response = await client.post("/api/v1/auth/token", json={"username": "legacy", "password": "legacy-password"})

    assert response.status_code == 200
    stored = (await identity.users.get("legacy")).password_hash  # type: ignore[union-attr]
    assert stored != old_hash
    assert not identity.passwords.needs_rehash(stored)  # type: ignore[arg-type]
    assert identity.passwords.verify(stored, "legacy-password")


async def test_login_body_with_extra_fields_gets_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "agent1", "password": PASSWORD, "otp": "1"})

    assert response.status_code == 422
    assert ["body", "otp"] in [d["loc"] for d in response.json()["detail"]]


# --- /me and bearer checks ------------------------------------------------------------------------------------------


async def test_me_with_an_api_key_names_the_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/me", headers=ADMIN_KEY)

    assert response.json() == {"subject": "key:bootstrap", "name": "bootstrap", "role": "admin", "department": None, "engineer_id": None, "via": "api_key"}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing bearer token"),
        ({"Authorization": "Bearer odk_x_nope"}, "unknown API key"),
        ({"Authorization": "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbjEifQ."}, "token algorithm not accepted"),
    ],
)
async def test_bad_credentials_get_401_with_the_reason_and_a_bearer_challenge(
    client: httpx.AsyncClient, headers: dict[str, str], reason: str
) -> None:
    response = await client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    assert response.headers["www-authenticate"] == "Bearer"


# --- role boundaries ------------------------------------------------------------------------------------------------

USER_BODY = {"username": "newbie", "name": "新人", "role": "agent", "department": "信息科", "password": "newbie-pass-1"}
WRITES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/api/v1/users", USER_BODY),
    ("PATCH", "/api/v1/users/agent1", {"department": "信息科"}),
    ("POST", "/api/v1/api-keys", {"name": "billing-system", "role": "agent"}),
    ("POST", "/api/v1/api-keys/bootstrap/rotate", None),
    ("DELETE", "/api/v1/api-keys/bootstrap", None),
]
READS = ["/api/v1/users", "/api/v1/users/agent1", "/api/v1/api-keys"]
OUTSIDERS: list[Role] = ["requester", "agent", "engineer", "manager"]


@pytest.mark.parametrize("role", OUTSIDERS)
async def test_non_admin_roles_get_403_on_every_admin_route(client: httpx.AsyncClient, login: Login, role: Role) -> None:
    auth = await login(f"{role}1")

    for method, path, body in WRITES:
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status_code == 403, (method, path, response.text)
    for path in READS:
        assert (await client.get(path, headers=auth)).status_code == 403, path


async def test_auditor_reads_users_and_keys_but_changes_nothing(client: httpx.AsyncClient, login: Login, identity: Identity) -> None:
    auth = await login("auditor1")

    for path in READS:
        assert (await client.get(path, headers=auth)).status_code == 200, path
    for method, path, body in WRITES:
        response = await client.request(method, path, json=body, headers=auth)
        assert response.status_code == 403, (method, path)
        assert response.json() == {"detail": "auditors have read-only access"}
    assert await identity.users.get("newbie") is None
    assert (await identity.users.get("agent1")).department == "辦公室"  # type: ignore[union-attr]
    assert (await identity.keys.by_name("bootstrap")).revoked_at is None  # type: ignore[union-attr]


async def test_unauthenticated_admin_route_is_401_not_403(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/users")).status_code == 401


# --- users ----------------------------------------------------------------------------------------------------------


async def test_admin_creates_a_user_who_can_then_log_in(client: httpx.AsyncClient, login: Login) -> None:
    auth = await login("admin1")

    created = await client.post("/api/v1/users", json={**USER_BODY, "username": "NewBie"}, headers=auth)

    assert created.status_code == 201, created.text
    assert created.headers["location"] == "/api/v1/users/newbie"
    body = created.json()
    assert (body["username"], body["has_password"], body["disabled"]) == ("newbie", True, False)
    assert "password" not in body and "password_hash" not in body
    me = await client.get("/api/v1/me", headers=await login("newbie", "newbie-pass-1"))
    assert me.json()["role"] == "agent"


async def test_creating_an_existing_username_is_409(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/users", json={**USER_BODY, "username": "agent1"}, headers=ADMIN_KEY)

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"username": "bad name"}, ["body", "username"]),
        ({"password": "short"}, ["body", "password"]),
        ({"password": "x" * 129}, ["body", "password"]),
        ({"role": "superuser"}, ["body", "role"]),
        ({"email": "not-an-email"}, ["body", "email"]),
        ({"is_admin": True}, ["body", "is_admin"]),
    ],
)
async def test_invalid_user_fields_get_422_naming_the_field(client: httpx.AsyncClient, change: dict[str, Any], loc: list[str]) -> None:
    response = await client.post("/api/v1/users", json={**USER_BODY, **change}, headers=ADMIN_KEY)

    assert response.status_code == 422
    assert loc in [d["loc"] for d in response.json()["detail"]]


async def test_users_list_filters_by_role_and_department(client: httpx.AsyncClient, identity: Identity) -> None:
    await identity.users.add(new_user(username="eng2", name="二", role="engineer", department="信息科", engineer_id="eng-2", now=datetime.now(UTC)))

    everyone = await client.get("/api/v1/users", headers=ADMIN_KEY)
    engineers = await client.get("/api/v1/users", params={"role": "engineer", "department": "信息科"}, headers=ADMIN_KEY)
    page = await client.get("/api/v1/users", params={"limit": 2, "offset": 1}, headers=ADMIN_KEY)

    assert [u["username"] for u in everyone.json()] == sorted([f"{r}1" for r in ROLES] + ["eng2"])
    assert [u["username"] for u in engineers.json()] == ["eng2"]
    assert [u["username"] for u in page.json()] == [u["username"] for u in everyone.json()][1:3]


async def test_disabling_a_user_refuses_their_token_at_once(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1")
    assert (await client.get("/api/v1/me", headers=agent)).status_code == 200

    response = await client.patch("/api/v1/users/agent1", json={"disabled": True}, headers=await login("admin1"))

    assert response.status_code == 200 and response.json()["disabled"] is True
    refused = await client.get("/api/v1/me", headers=agent)
    assert refused.status_code == 401
    assert refused.json() == {"detail": "user disabled"}
    assert (await client.post("/api/v1/auth/token", json={"username": "agent1", "password": PASSWORD})).status_code == 401


async def test_password_reset_ends_old_tokens_and_the_new_password_works(client: httpx.AsyncClient, login: Login) -> None:
    before = await login("engineer1")
    await asyncio.sleep(0.002)  # the cut-off is to the millisecond: the reset must come in a later one

    response = await client.patch("/api/v1/users/engineer1", json={"password": "brand-new-pass"}, headers=ADMIN_KEY)

    assert response.status_code == 200
    refused = await client.get("/api/v1/me", headers=before)
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith("token revoked")
    assert (await client.post("/api/v1/auth/token", json={"username": "engineer1", "password": PASSWORD})).status_code == 401
    assert (await client.get("/api/v1/me", headers=await login("engineer1", "brand-new-pass"))).status_code == 200


async def test_role_and_department_change_shows_in_me_at_once(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1")

    response = await client.patch("/api/v1/users/agent1", json={"role": "engineer", "department": "信息科", "engineer_id": "eng-7"}, headers=ADMIN_KEY)

    assert response.status_code == 200
    me = (await client.get("/api/v1/me", headers=agent)).json()
    assert (me["role"], me["department"]) == ("engineer", "信息科")


async def test_admin_cannot_demote_themselves(client: httpx.AsyncClient, login: Login) -> None:
    response = await client.patch("/api/v1/users/admin1", json={"role": "agent"}, headers=await login("admin1"))

    assert response.status_code == 409


@pytest.mark.parametrize(
    ("body", "loc"),
    [({"role": None}, ["body", "role"]), ({"password": "short"}, ["body", "password"]), ({"username": "x"}, ["body", "username"])],
)
async def test_invalid_patch_gets_422(client: httpx.AsyncClient, body: dict[str, Any], loc: list[str]) -> None:
    response = await client.patch("/api/v1/users/agent1", json=body, headers=ADMIN_KEY)

    assert response.status_code == 422
    assert loc in [d["loc"] for d in response.json()["detail"]]


async def test_patching_an_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=ADMIN_KEY)).status_code == 404


# --- API keys -------------------------------------------------------------------------------------------------------


async def _create_key(client: httpx.AsyncClient, name: str = "billing-system", role: str = "agent") -> str:
    response = await client.post("/api/v1/api-keys", json={"name": name, "role": role}, headers=ADMIN_KEY)
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


async def test_created_key_is_shown_once_and_authenticates_the_system(client: httpx.AsyncClient) -> None:
    secret = await _create_key(client)

    listed = await client.get("/api/v1/api-keys", headers=ADMIN_KEY)
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert secret.startswith("odk_billing-system_")
    assert secret not in listed.text
    assert {k["name"] for k in listed.json()} == {"bootstrap", "billing-system"}
    assert me.json()["subject"] == "key:billing-system"


async def test_creating_a_key_whose_name_is_in_use_is_409(client: httpx.AsyncClient) -> None:
    await _create_key(client)

    response = await client.post("/api/v1/api-keys", json={"name": "billing-system", "role": "agent"}, headers=ADMIN_KEY)

    assert response.status_code == 409


async def test_rotation_refuses_the_old_secret_at_once_and_accepts_the_new(client: httpx.AsyncClient) -> None:
    old = await _create_key(client)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})).status_code == 200

    rotated = await client.post("/api/v1/api-keys/billing-system/rotate", headers=ADMIN_KEY)

    assert rotated.status_code == 200
    new = rotated.json()["key"]
    assert new != old
    refused = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})
    assert (refused.status_code, refused.json()["detail"]) == (401, "API key revoked")
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"})).status_code == 200


async def test_rotation_with_grace_keeps_the_old_secret_working_for_now(client: httpx.AsyncClient) -> None:
    old = await _create_key(client)

    rotated = await client.post("/api/v1/api-keys/billing-system/rotate", json={"grace_s": 600}, headers=ADMIN_KEY)

    assert rotated.status_code == 200
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"})).status_code == 200
    # Revoking the name ends the grace too.
    assert (await client.delete("/api/v1/api-keys/billing-system", headers=ADMIN_KEY)).status_code == 204
    for secret in (old, rotated.json()["key"]):
        assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 401


async def test_grace_longer_than_a_week_is_422(client: httpx.AsyncClient) -> None:
    await _create_key(client)

    response = await client.post("/api/v1/api-keys/billing-system/rotate", json={"grace_s": 8 * 86400}, headers=ADMIN_KEY)

    assert response.status_code == 422


async def test_revoked_key_is_refused_at_once_and_can_be_created_anew(client: httpx.AsyncClient) -> None:
    secret = await _create_key(client)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).status_code == 200

    assert (await client.delete("/api/v1/api-keys/billing-system", headers=ADMIN_KEY)).status_code == 204

    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})).json() == {"detail": "API key revoked"}
    assert (await client.post("/api/v1/api-keys/billing-system/rotate", headers=ADMIN_KEY)).status_code == 404
    fresh = await _create_key(client)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {fresh}"})).status_code == 200


async def test_unknown_key_name_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/api/v1/api-keys/nope", headers=ADMIN_KEY)).status_code == 404
    assert (await client.post("/api/v1/api-keys/nope/rotate", headers=ADMIN_KEY)).status_code == 404


async def test_invalid_key_name_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/api-keys", json={"name": "Billing System", "role": "agent"}, headers=ADMIN_KEY)

    assert response.status_code == 422
    assert ["body", "name"] in [d["loc"] for d in response.json()["detail"]]


# --- own password ---------------------------------------------------------------------------------------------------


async def test_user_changes_own_password_gets_a_fresh_token_and_old_tokens_end(client: httpx.AsyncClient, login: Login) -> None:
    before = await login("requester1")
    await asyncio.sleep(0.002)

    response = await client.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "my-own-new-pass"}, headers=before
    )

    assert response.status_code == 200, response.text
    fresh = {"Authorization": f"Bearer {response.json()['access_token']}"}
    assert (await client.get("/api/v1/me", headers=fresh)).json()["subject"] == "requester1"
    assert (await client.get("/api/v1/me", headers=before)).status_code == 401
    assert (await client.get("/api/v1/me", headers=await login("requester1", "my-own-new-pass"))).status_code == 200


async def test_own_password_change_needs_the_current_password(client: httpx.AsyncClient, login: Login) -> None:
    auth = await login("requester1")

    response = await client.post(
        "/api/v1/me/password", json={"current_password": "wrong-one", "new_password": "my-own-new-pass"}, headers=auth
    )

    assert response.status_code == 403
    assert (await client.get("/api/v1/me", headers=await login("requester1"))).status_code == 200


async def test_api_key_has_no_password_to_change(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/me/password", json={"current_password": "x", "new_password": "my-own-new-pass"}, headers=ADMIN_KEY
    )

    assert response.status_code == 403
