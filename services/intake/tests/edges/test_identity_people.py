"""The desk's people directory (GET /api/v1/people): a requester found by name, phone or department in either
Chinese script; only what a phone call needs; paged; not for requesters or engineers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from intake.identity import Identity, identity_router, memory_identity
from intake.identity.domain import User, new_user

SECRET = "edge-people-jwt-secret-0123456789abcdef"
PEOPLE = [
    ("wang.xm", "王小明", "requester", "財務科", "020-8888 1234", "wang.xm@example.org"),
    ("wang.dl", "王大力", "requester", "办公室", "020-7777 0001", None),
    ("li.na", "李娜", "requester", "财务科", "139 0000 5678", None),
    ("zhou", "周敏", "agent", "服務台", None, None),
    ("chen", "陳工", "engineer", None, "020-1111 2222", None),
]

As = Callable[[str], dict[str, str]]


@pytest.fixture
async def identity() -> Identity:
    wired = memory_identity(jwt_secret=SECRET)
    now = datetime.now(UTC)
    for username, name, role, department, phone, email in PEOPLE:
        engineer_id = username if role == "engineer" else None
        await wired.users.add(new_user(username=username, name=name, role=role, department=department, phone=phone, email=email,  # type: ignore[arg-type]
                                       engineer_id=engineer_id, now=now))
    gone = new_user(username="wang.old", name="王老", role="requester", department="財務科", now=now)
    await wired.users.add(gone.model_copy(update={"disabled": True}))
    for n in range(30):
        await wired.users.add(new_user(username=f"staff{n:02d}", name=f"職員{n}", role="requester", department="檔案室", now=now))
    return wired


@pytest.fixture
async def client(identity: Identity) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(identity_router())
    app.state.adapters = SimpleNamespace(identity=identity)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake.test") as c:
        yield c


@pytest.fixture
async def as_user(identity: Identity) -> As:
    users: dict[str, User] = {}
    for username in ("zhou", "chen", "wang.xm"):
        user = await identity.users.get(username)
        assert user is not None
        users[username] = user
    return lambda username: {"Authorization": f"Bearer {identity.signer.issue(users[username])}"}


async def _find(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> httpx.Response:
    return await client.get("/api/v1/people", params=params, headers=headers)


async def test_an_agent_finds_a_caller_by_department_in_the_other_script(client: httpx.AsyncClient, as_user: As) -> None:
    reply = await _find(client, as_user("zhou"), q="财务")
    assert reply.status_code == 200
    assert [p["username"] for p in reply.json()["items"]] == ["li.na", "wang.xm"]  # 財務科 and 财务科; not the disabled one


async def test_every_word_must_match_name_or_department(client: httpx.AsyncClient, as_user: As) -> None:
    found = (await _find(client, as_user("zhou"), q="王 財務")).json()["items"]
    assert [p["username"] for p in found] == ["wang.xm"]


async def test_a_phone_number_is_found_by_its_digits_whatever_the_spacing(client: httpx.AsyncClient, as_user: As) -> None:
    found = (await _find(client, as_user("zhou"), q="88881234")).json()["items"]
    assert found == [{"username": "wang.xm", "name": "王小明", "department": "財務科", "phone": "020-8888 1234", "email": "wang.xm@example.org"}]
    assert (await _find(client, as_user("zhou"), q="34")).json()["items"] == []  # two digits are not a phone search


async def test_nothing_but_contact_details_is_shown(client: httpx.AsyncClient, as_user: As) -> None:
    found = (await _find(client, as_user("zhou"), q="陳工")).json()["items"]
    assert [set(p) for p in found] == [{"username", "name", "department", "phone", "email"}]


async def test_results_are_paged(client: httpx.AsyncClient, as_user: As) -> None:
    first = (await _find(client, as_user("zhou"), q="档案室", limit=20)).json()
    assert len(first["items"]) == 20 and first["next_offset"] == 20
    rest = (await _find(client, as_user("zhou"), q="档案室", limit=20, offset=20)).json()
    assert len(rest["items"]) == 10 and rest["next_offset"] is None
    assert {p["username"] for p in first["items"]} | {p["username"] for p in rest["items"]} == {f"staff{n:02d}" for n in range(30)}


async def test_requesters_and_engineers_may_not_browse_people(client: httpx.AsyncClient, as_user: As) -> None:
    assert (await _find(client, as_user("wang.xm"), q="王")).status_code == 403
    assert (await _find(client, as_user("chen"), q="王")).status_code == 403
    assert (await client.get("/api/v1/people", params={"q": "王"})).status_code == 401
    assert (await _find(client, as_user("zhou"), q="")).status_code == 422
