"""Who may reach the assets service and what each role may do: only a token the gateway signed for assets names the
caller, that caller is the author of every change, and tickets on an asset are shown by the desk's visibility rule."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from assets import service_ops
from assets.adapters.memory import MemoryAssetRegister, MemoryOutbox, MemoryRepairStore
from assets.main import Adapters, create_app
from assets.settings import AssetsSettings
from opsdesk_shared import internal_auth_testing
from opsdesk_shared.contracts import Requester, TicketAssignedV1, TicketCreatedV1, TicketReassignedV1, subjects
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair
from opsdesk_shared.internal_auth_testing import InternalTokenAuth

API = "/api/v1"
NEW_ASSET = {"type": "server", "location": {"building": "主樓"}, "status": "in_stock"}


def role(name: str, user: str | None = None, engineer: str | None = None) -> dict[str, str]:
    headers = {"X-Opsdesk-Role": name}
    if user:
        headers["X-Opsdesk-User"] = user
    if engineer:
        headers["X-Opsdesk-Engineer"] = engineer
    return headers


@pytest.fixture
def cmdb() -> Adapters:
    return Adapters(register=MemoryAssetRegister(), repairs=MemoryRepairStore(), outbox=MemoryOutbox())


@pytest.fixture
async def app(cmdb: Adapters) -> AsyncIterator[Any]:
    built = create_app(AssetsSettings(tag_prefix="HQ"), adapters=cmdb)
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test",
                                 auth=InternalTokenAuth("assets")) as client:
        yield client


@pytest.fixture
async def raw(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client that signs nothing: what an attacker on the network has."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://assets.test") as client:
        yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = Caller(subject="mallory", role="admin")


def _unverifiable() -> dict[str, dict[str, str]]:
    own_key = TokenMinter(internal_auth_testing.test_keypair()[0])
    other_key = TokenMinter(generate_keypair()[0])
    return {
        "no token": {},
        "forged identity headers": {"X-Opsdesk-User": "mallory", "X-Opsdesk-Role": "admin"},
        "expired": _bearer(own_key.mint(ADMIN, audience="assets", now=time.time() - 600)),
        "wrong audience": _bearer(own_key.mint(ADMIN, audience="sla-monitor")),
        "signed by another key": _bearer(other_key.mint(ADMIN, audience="assets")),
        "not a token": _bearer("admin"),
    }


@pytest.mark.parametrize("case", list(_unverifiable()))
async def test_a_write_without_a_verifiable_token_is_401_and_changes_nothing(
    raw: httpx.AsyncClient, cmdb: Adapters, case: str
) -> None:
    response = await raw.post(f"{API}/assets", json=NEW_ASSET, headers=_unverifiable()[case])

    assert response.status_code == 401, response.text
    assert await cmdb.register.tags() == set()


async def test_a_replayed_token_is_401(raw: httpx.AsyncClient) -> None:
    headers = _bearer(TokenMinter(internal_auth_testing.test_keypair()[0]).mint(ADMIN, audience="assets"))

    assert (await raw.post(f"{API}/assets", json=NEW_ASSET, headers=headers)).status_code == 201
    assert (await raw.post(f"{API}/assets", json=NEW_ASSET, headers=headers)).status_code == 401


@pytest.mark.parametrize("who", ["auditor", "requester", "Admin", "guest"])
async def test_roles_that_do_not_keep_the_register_may_not_write(api: httpx.AsyncClient, cmdb: Adapters, who: str) -> None:
    response = await api.post(f"{API}/assets", json=NEW_ASSET, headers=role(who))

    assert response.status_code == 403
    assert await cmdb.register.tags() == set()


@pytest.mark.parametrize("who", ["agent", "engineer", "manager", "admin", "service"])
async def test_the_register_keepers_and_services_may_write(api: httpx.AsyncClient, who: str) -> None:
    assert (await api.post(f"{API}/assets", json=NEW_ASSET, headers=role(who))).status_code == 201


@pytest.mark.parametrize("path", [
    "/assets", "/assets/{tag}", "/assets/{tag}/overview", "/assets/{tag}/history", "/asset-types", "/asset-types/laptop", "/impact/{tag}",
    "/relations?tag={tag}", "/loaners", "/inspections?asset_tag={tag}", "/register/export",
])
async def test_requesters_read_nothing_of_the_register(api: httpx.AsyncClient, path: str) -> None:
    tag = (await api.post(f"{API}/assets", json={**NEW_ASSET, "serial": "SN-1", "owner": "李華"})).json()["tag"]

    response = await api.get(API + path.format(tag=tag), headers=role("requester", user="wang"))

    assert response.status_code == 403
    assert "SN-1" not in response.text and "李華" not in response.text


async def test_auditors_read_serials_and_owners_but_change_nothing(api: httpx.AsyncClient) -> None:
    tag = (await api.post(f"{API}/assets", json={**NEW_ASSET, "serial": "SN-1", "owner": "李華"})).json()["tag"]

    read = await api.get(f"{API}/assets/{tag}", headers=role("auditor"))
    patch = await api.patch(f"{API}/assets/{tag}", json={"owner": "王小明"}, headers=role("auditor"))

    assert read.status_code == 200 and (read.json()["serial"], read.json()["owner"]) == ("SN-1", "李華")
    assert patch.status_code == 403


async def test_every_author_is_the_verified_subject_never_a_body_or_system(api: httpx.AsyncClient, cmdb: Adapters) -> None:
    me = role("engineer", user="eng.li", engineer="E-7")
    laptop = (await api.post(f"{API}/assets", json={**NEW_ASSET, "type": "laptop", "status": "deployed"}, headers=me)).json()
    loaner = (await api.post(f"{API}/assets", json={**NEW_ASSET, "type": "laptop"}, headers=me)).json()
    repair = (await api.post(f"{API}/repairs", json={"asset_tag": laptop["tag"], "vendor": "聯想"}, headers=me)).json()
    audit = (await api.post(f"{API}/audits", json={"name": "盤點"}, headers=me)).json()
    loan = await api.post(f"{API}/loaners", json={"loaner_tag": loaner["tag"], "borrower": "王小明"}, headers=me)

    history = (await api.get(f"{API}/assets/{laptop['tag']}/history")).json()
    stored_audit = await cmdb.audits.get(audit["id"])
    lent = [e for e in cmdb.loans.outbox.published if e.type == subjects.CMDB_LOANER_CHANGED]

    assert {v["by"] for v in history} == {"eng.li"}
    assert [h["by"] for h in repair["history"]] == ["eng.li"]
    assert stored_audit is not None and stored_audit["opened_by"] == "eng.li"
    assert loan.status_code == 201
    assert [e.data["by"] for e in lent] == ["eng.li"]


async def _tickets_on(cmdb: Adapters, tag: str, t0: datetime) -> None:
    """Three open tickets on one asset: t1 held by E-7, t2 by E-9 (after a reassignment from E-7), t3 by nobody yet."""
    for n, tid in enumerate(("t1", "t2", "t3")):
        await service_ops.on_ticket_event(TicketCreatedV1(
            ticket_id=tid, number=f"INC-{tid}", title="打印機卡紙", channel="hotline", service_code="PS-01",
            requester=Requester(name="王小明", phone="138", department="財務科"), asset_tag=tag, reported_at=t0 + timedelta(minutes=n),
        ), links=cmdb.links)
    for tid, eng in (("t1", "E-7"), ("t2", "E-7")):
        await service_ops.on_ticket_event(TicketAssignedV1(
            ticket_id=tid, assignment_id=f"a-{tid}", engineer_id=eng, engineer_name="李華", reason="nearest", assigned_at=t0 + timedelta(minutes=5),
        ), links=cmdb.links)
    await service_ops.on_ticket_event(TicketReassignedV1(
        ticket_id="t2", assignment_id="a-t2", previous_engineer_id="E-7", engineer_id="E-9", engineer_name="張偉", reason="delay",
        by="dispatch", reassigned_at=t0 + timedelta(minutes=20),
    ), links=cmdb.links)


async def _overview_ids(api: httpx.AsyncClient, tag: str, headers: dict[str, str]) -> list[str]:
    response = await api.get(f"{API}/assets/{tag}/overview", headers=headers)
    assert response.status_code == 200, response.text
    return [t["ticket_id"] for t in response.json()["open_tickets"]]


async def test_overview_shows_engineers_only_the_tickets_they_hold(api: httpx.AsyncClient, cmdb: Adapters, t0: datetime) -> None:
    tag = (await api.post(f"{API}/assets", json=NEW_ASSET)).json()["tag"]
    await _tickets_on(cmdb, tag, t0)

    assert await _overview_ids(api, tag, role("engineer", user="eng.li", engineer="E-7")) == ["t1"]
    assert await _overview_ids(api, tag, role("engineer", user="eng.zhang", engineer="E-9")) == ["t2"]
    assert await _overview_ids(api, tag, role("engineer", user="eng.new", engineer="E-1")) == []
    # Without a roster link in the token an engineer holds nothing, even with a user name equal to a roster id.
    assert await _overview_ids(api, tag, role("engineer", user="E-7")) == []


@pytest.mark.parametrize("who", ["agent", "manager", "auditor", "admin", "service"])
async def test_overview_shows_the_rest_of_the_team_every_open_ticket_and_its_holder(
    api: httpx.AsyncClient, cmdb: Adapters, t0: datetime, who: str
) -> None:
    tag = (await api.post(f"{API}/assets", json=NEW_ASSET)).json()["tag"]
    await _tickets_on(cmdb, tag, t0)

    body = (await api.get(f"{API}/assets/{tag}/overview", headers=role(who))).json()

    assert [(t["ticket_id"], t["engineer_id"]) for t in body["open_tickets"]] == [("t1", "E-7"), ("t2", "E-9"), ("t3", None)]


async def test_a_late_older_assignment_does_not_take_the_ticket_back(api: httpx.AsyncClient, cmdb: Adapters, t0: datetime) -> None:
    tag = (await api.post(f"{API}/assets", json=NEW_ASSET)).json()["tag"]
    await _tickets_on(cmdb, tag, t0)
    # ticket.assigned redelivered after the reassignment (another consumer, another order)
    await service_ops.on_ticket_event(TicketAssignedV1(
        ticket_id="t2", assignment_id="a-t2", engineer_id="E-7", engineer_name="李華", reason="nearest", assigned_at=t0 + timedelta(minutes=5),
    ), links=cmdb.links)

    assert await _overview_ids(api, tag, role("engineer", user="eng.li", engineer="E-7")) == ["t1"]


async def test_an_assignment_before_the_ticket_reaches_assets_is_kept(api: httpx.AsyncClient, cmdb: Adapters, t0: datetime) -> None:
    tag = (await api.post(f"{API}/assets", json=NEW_ASSET)).json()["tag"]
    await service_ops.on_ticket_event(TicketAssignedV1(
        ticket_id="t9", assignment_id="a-t9", engineer_id="E-7", engineer_name="李華", reason="nearest", assigned_at=t0 + timedelta(minutes=5),
    ), links=cmdb.links)
    await service_ops.on_ticket_event(TicketCreatedV1(
        ticket_id="t9", number="INC-t9", title="卡紙", channel="hotline", service_code="PS-01", requester=Requester(name="王小明"),
        asset_tag=tag, reported_at=t0,
    ), links=cmdb.links)

    assert await _overview_ids(api, tag, role("engineer", user="eng.li", engineer="E-7")) == ["t9"]
