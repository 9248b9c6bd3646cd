"""Work lists and ticket numbers over HTTP on internal tokens: my work, the desk's view, open escalations."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from dispatch import service
from dispatch.adapters.memory import MemoryAssignmentStore, MemoryOutbox, MemoryRoster
from dispatch.domain import Actor, Assignment, Engineer
from dispatch.main import Adapters, create_app
from dispatch.settings import DispatchSettings
from opsdesk_shared.contracts import Requester, TicketCreatedV1


def as_engineer(engineer_id: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": "engineer", "X-Opsdesk-Engineer": engineer_id, "X-Opsdesk-User": user or f"user-{engineer_id}"}


def as_role(role: str, user: str | None = None) -> dict[str, str]:
    return {"X-Opsdesk-Role": role, "X-Opsdesk-User": user or f"user-{role}"}


async def _open(adapters: Adapters, n: int, *, skill: str | None = "printer") -> Assignment:
    ticket = TicketCreatedV1(
        ticket_id=f"t-list-{n}", number=f"INC-2026-{n:06d}", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        skill=skill, requester=Requester(name="王小明"), reported_at=datetime.now(UTC),
    )
    return await service.assign_ticket(
        ticket, roster=adapters.roster, assignments=adapters.assignments, outbox=adapters.outbox,
        now=datetime.now(UTC), correlation_id="c", causation_id=None,
    )


@pytest.fixture
def adapters() -> Adapters:
    """A roster without rotas, so who gets what does not depend on the hour the test runs."""
    roster = [
        Engineer(id="eng-onsite-1", name="陳志強", role="onsite", skills=("printer",)),
        Engineer(id="eng-onsite-2", name="李嘉欣", role="onsite", skills=("printer",)),
        Engineer(id="eng-senior-1", name="張國華", role="senior"),
        Engineer(id="eng-pm-1", name="劉美玲", role="project_manager"),
    ]
    return Adapters(roster=MemoryRoster(roster), assignments=MemoryAssignmentStore(), outbox=MemoryOutbox())


@pytest.fixture
async def five(adapters: Adapters) -> list[Assignment]:
    """Five assignments alternating between the two printer engineers (the less loaded one gets the next)."""
    return [await _open(adapters, n) for n in range(1, 6)]


async def test_an_engineer_lists_their_own_work_by_default(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    holder = five[0].engineer_id
    r = await client.get("/api/v1/assignments", headers=as_engineer(holder))
    assert r.status_code == 200
    got = [a["ticket_number"] for a in r.json()["items"]]
    assert got == sorted((a.ticket_number for a in five if a.engineer_id == holder), reverse=True)
    assert 0 < len(got) < len(five)  # not everyone's


async def test_an_engineers_default_list_leaves_out_withdrawn_work_and_a_status_filter_gets_it(
    client: httpx.AsyncClient, adapters: Adapters, five: list[Assignment]
) -> None:
    """Hand walk H14 item 4: a ticket resolved at the desk withdrew the engineer's assignment, and it stayed on their
    default list."""
    holder = five[0].engineer_id
    theirs = sorted((a.ticket_number for a in five if a.engineer_id == holder), reverse=True)
    gone = five[0]
    assert await service.withdraw(gone.ticket_id, number=gone.ticket_number, status="resolved", by="agent1",
                                  roster=adapters.roster, assignments=adapters.assignments,
                                  now=datetime.now(UTC)) == "withdrawn"

    default = [a["ticket_number"] for a in (await client.get("/api/v1/assignments", headers=as_engineer(holder))).json()["items"]]
    assert default == [n for n in theirs if n != gone.ticket_number]
    withdrawn = await client.get("/api/v1/assignments", params={"status": "withdrawn"}, headers=as_engineer(holder))
    assert [a["ticket_number"] for a in withdrawn.json()["items"]] == [gone.ticket_number]
    by_ticket = await client.get("/api/v1/assignments", params={"ticket": gone.ticket_number}, headers=as_engineer(holder))
    assert [a["status"] for a in by_ticket.json()["items"]] == ["withdrawn"]
    desk = [a["ticket_number"] for a in (await client.get("/api/v1/assignments", headers=as_role("agent"))).json()["items"]]
    assert gone.ticket_number in desk  # the desk's default list is everything


async def test_an_engineer_asking_for_someone_elses_work_is_refused(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    other = next(a.engineer_id for a in five if a.engineer_id != five[0].engineer_id)
    r = await client.get("/api/v1/assignments", params={"engineer": other}, headers=as_engineer(five[0].engineer_id))
    assert r.status_code == 403


async def test_the_desk_sees_all_and_filters_by_engineer_and_status(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    everyone = (await client.get("/api/v1/assignments", headers=as_role("agent"))).json()["items"]
    assert len(everyone) == 5
    holder = five[0].engineer_id
    theirs = (await client.get("/api/v1/assignments", params={"engineer": holder}, headers=as_role("manager"))).json()["items"]
    assert {a["engineer_id"] for a in theirs} == {holder}
    await client.post(f"/api/v1/assignments/{five[0].ticket_id}/confirm", json={})
    confirmed = (await client.get("/api/v1/assignments", params={"status": "confirmed"})).json()["items"]
    assert [a["ticket_id"] for a in confirmed] == [five[0].ticket_id]


async def test_cursor_pages_repeat_and_skip_nothing(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        body = (await client.get("/api/v1/assignments", params=params)).json()
        seen += [a["ticket_number"] for a in body["items"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]
    assert seen == [f"INC-2026-{n:06d}" for n in range(5, 0, -1)]


async def test_a_bad_cursor_is_422_naming_the_field(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    forged = base64.urlsafe_b64encode(b'["escalations", "x", "y"]').decode().rstrip("=")
    for cursor in ("garbage", forged):
        r = await client.get("/api/v1/assignments", params={"cursor": cursor})
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["query", "cursor"]


async def test_overdue_lists_what_the_sla_monitor_called_late_and_still_waits(
    client: httpx.AsyncClient, adapters: Adapters, five: list[Assignment],
) -> None:
    due = datetime.now(UTC) - timedelta(minutes=1)
    for a in five[:2]:
        await service.record_breach(a.ticket_id, timer="confirmation", due_at=due, breached_at=due, assignments=adapters.assignments)
    await client.post(f"/api/v1/assignments/{five[1].ticket_id}/confirm", json={})  # late, but done

    r = await client.get("/api/v1/assignments", params={"overdue": "true"})

    assert [a["ticket_id"] for a in r.json()["items"]] == [five[0].ticket_id]
    assert r.json()["items"][0]["overdue"] is True and r.json()["items"][0]["breaches"][0]["timer"] == "confirmation"


async def test_every_assignment_route_takes_the_ticket_number(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    a = five[2]
    r = await client.get(f"/api/v1/assignments/{a.ticket_number}")
    assert r.status_code == 200 and r.json()["ticket_id"] == a.ticket_id
    r = await client.post(f"/api/v1/assignments/{a.ticket_number}/accept", headers=as_engineer(a.engineer_id))
    assert r.status_code == 200 and r.json()["status"] == "accepted"
    r = await client.post(f"/api/v1/assignments/{a.ticket_number}/escalations", json={"kind": "other", "description": "d"})
    esc = r.json()["escalations"][-1]["id"]
    r = await client.post(f"/api/v1/assignments/{a.ticket_number}/escalations/{esc}/acknowledge", headers=as_role("manager"))
    assert r.status_code == 200
    filtered = (await client.get("/api/v1/assignments", params={"ticket": a.ticket_number})).json()["items"]
    assert [x["ticket_id"] for x in filtered] == [a.ticket_id]
    assert (await client.get("/api/v1/assignments/INC-2026-999999")).status_code == 404


async def test_an_engineer_reads_by_number_only_what_they_hold(client: httpx.AsyncClient, five: list[Assignment]) -> None:
    a = five[0]
    other = next(x.engineer_id for x in five if x.engineer_id != a.engineer_id)
    assert (await client.get(f"/api/v1/assignments/{a.ticket_number}", headers=as_engineer(other))).status_code == 404


async def test_open_escalations_for_the_manager_the_desk_and_the_engineers_named(
    client: httpx.AsyncClient, adapters: Adapters, five: list[Assignment],
) -> None:
    desk = Actor(subject="desk", role="agent")
    common = {"actor": desk, "roster": adapters.roster, "assignments": adapters.assignments, "outbox": adapters.outbox, "correlation_id": "c"}
    now = datetime.now(UTC)
    await service.escalate(five[0].ticket_id, kind="technical", description="服務器宕機", now=now, **common)  # type: ignore[arg-type]
    await service.escalate(five[1].ticket_id, kind="other", description="用戶投訴", now=now + timedelta(seconds=1), **common)  # type: ignore[arg-type]

    def ids(r: httpx.Response) -> list[str]:
        assert r.status_code == 200, r.text
        return [e["ticket_id"] for e in r.json()["items"]]

    both = [five[1].ticket_id, five[0].ticket_id]  # newest raised first
    assert ids(await client.get("/api/v1/escalations", params={"status": "open"}, headers=as_role("manager"))) == both
    assert ids(await client.get("/api/v1/escalations", headers=as_role("agent"))) == both
    assert ids(await client.get("/api/v1/escalations", headers=as_engineer("eng-senior-1"))) == [five[0].ticket_id]  # technical only
    assert ids(await client.get("/api/v1/escalations", headers=as_engineer(five[0].engineer_id))) == []
    assert (await client.get("/api/v1/escalations", headers=as_role("requester"))).status_code == 403
    assert (await client.get("/api/v1/escalations", params={"status": "resolved"})).status_code == 422
    page = (await client.get("/api/v1/escalations", params={"limit": 1})).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (await client.get("/api/v1/escalations", params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [e["ticket_id"] for e in rest["items"]] == [five[0].ticket_id] and rest["next_cursor"] is None


async def test_lists_need_a_verified_caller(adapters: Adapters, settings: DispatchSettings) -> None:
    app = create_app(settings, adapters=adapters)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dispatch.test") as anonymous:
        for path in ("/api/v1/assignments", "/api/v1/escalations"):
            assert (await anonymous.get(path, headers=as_role("admin"))).status_code == 401  # a forged header is no token
