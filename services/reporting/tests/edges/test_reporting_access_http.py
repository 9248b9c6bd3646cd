"""Who may read what from reporting: only a token the gateway signed for reporting gets in, whatever the headers say;
a form or report about one ticket follows the desk's visibility (requesters their own and their department's,
engineers what they hold, the team and services everything) and is a 404 to anyone else."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from opsdesk_shared import internal_auth_testing
from opsdesk_shared.contracts import (
    Envelope,
    EventData,
    RepairUpdatedV1,
    Requester,
    TicketAssignedV1,
    TicketCreatedV1,
    TicketReassignedV1,
)
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair
from opsdesk_shared.internal_auth_testing import InternalTokenAuth
from reporting import service
from reporting.main import Adapters, create_app, memory_adapters
from reporting.settings import ReportingSettings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HR, FINANCE = "人事科", "財務科"


def _wrap(data: EventData, subject_id: str, producer: str) -> Envelope:
    return Envelope.wrap(data, producer=producer, correlation_id="corr-access", subject_id=subject_id)


def _created(ticket_id: str, *, requester_id: str, department: str, major: bool = False) -> Envelope:
    return _wrap(TicketCreatedV1(
        ticket_id=ticket_id, number=f"INC-2026-{ticket_id[:6]}", title="打印機卡紙", channel="hotline", service_code="RS-REPAIR",
        requester=Requester(name="王小明", phone="13800000000", department=department), requester_id=requester_id,
        reported_at=T0, major_incident=major,
    ), ticket_id, "intake")


def _assigned(ticket_id: str, engineer_id: str, *, at: datetime = T0) -> Envelope:
    return _wrap(TicketAssignedV1(ticket_id=ticket_id, assignment_id=str(uuid.uuid4()), engineer_id=engineer_id,
                                  engineer_name=engineer_id, reason="nearest", assigned_at=at), ticket_id, "dispatch")


class Scene:
    """Ticket A: u-wang of HR, held by eng-1, a major incident, with a repair; ticket B: u-li of finance, held by eng-2;
    a repair opened for no ticket; a stored major-incident report on A and a stored monthly report."""

    def __init__(self) -> None:
        self.a, self.b = str(uuid.uuid4()), str(uuid.uuid4())
        self.repair_a, self.repair_free = f"R-{uuid.uuid4().hex[:8]}", f"R-{uuid.uuid4().hex[:8]}"
        self.major_report = f"major-incident:{self.a}:zh-CN"
        self.monthly_report = "service-summary:2026-03:zh-CN"

    def events(self) -> list[Envelope]:
        return [
            _created(self.a, requester_id="u-wang", department=HR, major=True), _assigned(self.a, "eng-1"),
            _created(self.b, requester_id="u-li", department=FINANCE), _assigned(self.b, "eng-2"),
            _wrap(RepairUpdatedV1(repair_id=self.repair_a, asset_tag="GZ-1", status="open", ticket_id=self.a, updated_at=T0),
                  "GZ-1", "assets"),
            _wrap(RepairUpdatedV1(repair_id=self.repair_free, asset_tag="GZ-2", status="open", updated_at=T0), "GZ-2", "assets"),
        ]


@pytest.fixture
def scene() -> Scene:
    return Scene()


@pytest.fixture
async def wired(scene: Scene) -> Adapters:
    adapters = memory_adapters(ReportingSettings(), clock=lambda: T0 + timedelta(days=40))
    for envelope in scene.events():
        await service.project(envelope, models=adapters.holder.models, live=adapters.holder.live)
    await adapters.reports.put({"_id": scene.major_report, "kind": "major-incident", "period": scene.a, "lang": "zh-CN",
                                "generated_at": T0, "figures": {"ticket_id": scene.a}}, {"json": b"{}"})
    await adapters.reports.put({"_id": scene.monthly_report, "kind": "service-summary", "period": "2026-03", "lang": "zh-CN",
                                "generated_at": T0 - timedelta(days=1), "figures": {}}, {"json": b"{}"})
    return adapters


@pytest.fixture
async def app(wired: Adapters) -> AsyncIterator[Any]:
    app = create_app(ReportingSettings(), adapters=wired)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                 auth=InternalTokenAuth("reporting")) as c:
        yield c


def who(role: str, user: str | None = None, *, department: str | None = None, engineer: str | None = None) -> dict[str, str]:
    headers = {"X-Opsdesk-Role": role, "X-Opsdesk-User": user or f"{role}-x"}
    if department:
        headers["X-Opsdesk-Department"] = quote(department)  # header values are ASCII; the test auth decodes it
    if engineer:
        headers["X-Opsdesk-Engineer"] = engineer
    return headers


OWNER = who("requester", "u-wang", department=HR)
COLLEAGUE = who("requester", "u-zhao", department=HR)
STRANGER = who("requester", "u-qian", department=FINANCE)
HOLDER = who("engineer", "chen", engineer="eng-1")
OTHER_ENGINEER = who("engineer", "lin", engineer="eng-2")
UNLINKED_ENGINEER = who("engineer", "eng-1")  # named like an engineer, but the token links no engineer
TEAM = [who(role) for role in ("agent", "manager", "auditor", "admin", "service")]


# ------------------------------------------------------------------------------------------------ authentication

PATHS = ["/api/v1/reports/kinds", "/api/v1/summary", "/api/v1/reports/stored", "/api/v1/reports/service-summary/2026-03"]


@pytest.mark.parametrize("path", PATHS)
async def test_no_token_is_401_even_with_forged_admin_headers(app: Any, path: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test") as bare:
        assert (await bare.get(path)).status_code == 401
        forged = await bare.get(path, headers={"X-Opsdesk-Role": "admin", "X-Opsdesk-User": "root"})
        assert forged.status_code == 401
        assert (await bare.post("/api/v1/reports/admin/rebuild", headers={"X-Opsdesk-Role": "admin"})).status_code == 401


async def test_expired_token_is_401(app: Any, scene: Scene) -> None:
    token = TokenMinter(internal_auth_testing.test_keypair()[0]).mint(Caller(subject="root", role="admin"), audience="reporting", now=time.time() - 3600)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test") as bare:
        response = await bare.get(f"/api/v1/forms/support-record/{scene.a}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]


async def test_token_for_another_service_is_401(app: Any, scene: Scene) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test",
                                 auth=InternalTokenAuth("knowledge")) as misaddressed:
        response = await misaddressed.get(f"/api/v1/forms/support-record/{scene.a}")
    assert response.status_code == 401 and "reporting" in response.json()["detail"]


async def test_token_signed_with_another_key_is_401(app: Any, scene: Scene) -> None:
    forger = InternalTokenAuth("reporting", private_pem=generate_keypair()[0])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test", auth=forger) as c:
        assert (await c.get(f"/api/v1/forms/support-record/{scene.a}")).status_code == 401


# ------------------------------------------------------------------------------------------------ one ticket's forms


async def test_support_record_is_read_by_the_requester_their_department_and_the_holder(client: httpx.AsyncClient, scene: Scene) -> None:
    path = f"/api/v1/forms/support-record/{scene.a}"
    for caller in (OWNER, COLLEAGUE, HOLDER, *TEAM):
        response = await client.get(path, headers=caller)
        assert response.status_code == 200, caller
        assert response.content.startswith(b"%PDF")


async def test_support_record_is_hidden_from_other_requesters_and_engineers(client: httpx.AsyncClient, scene: Scene) -> None:
    path = f"/api/v1/forms/support-record/{scene.a}"
    for caller in (STRANGER, OTHER_ENGINEER, UNLINKED_ENGINEER, who("requester", "u-sun"), who("stranger-role")):
        response = await client.get(path, headers=caller)
        assert response.status_code == 404, caller
        # The same answer as for a ticket that does not exist: nothing tells the caller it is there.
        missing = await client.get(f"/api/v1/forms/support-record/{uuid.uuid4()}", headers=caller)
        assert response.json()["detail"].split()[:3] == missing.json()["detail"].split()[:3]


async def test_requester_reads_their_own_ticket_without_a_department(client: httpx.AsyncClient, scene: Scene) -> None:
    assert (await client.get(f"/api/v1/forms/daily-maintenance/{scene.a}", headers=who("requester", "u-wang"))).status_code == 200
    assert (await client.get(f"/api/v1/forms/daily-maintenance/{scene.b}", headers=who("requester", "u-wang"))).status_code == 404


async def test_reassignment_moves_the_ticket_to_the_new_holder(client: httpx.AsyncClient, wired: Adapters, scene: Scene) -> None:
    moved = TicketReassignedV1(ticket_id=scene.a, assignment_id=str(uuid.uuid4()), previous_engineer_id="eng-1", engineer_id="eng-2",
                               engineer_name="eng-2", reason="delay", by="dispatch", reassigned_at=T0 + timedelta(hours=1))
    await service.project(_wrap(moved, scene.a, "dispatch"), models=wired.holder.models)
    # An older assignment arriving late does not hand the ticket back.
    await service.project(_assigned(scene.a, "eng-1", at=T0 - timedelta(minutes=5)), models=wired.holder.models)

    path = f"/api/v1/forms/support-record/{scene.a}"
    assert (await client.get(path, headers=HOLDER)).status_code == 404
    assert (await client.get(path, headers=OTHER_ENGINEER)).status_code == 200


async def test_repair_forms_follow_their_ticket_and_otherwise_belong_to_the_team(client: httpx.AsyncClient, scene: Scene) -> None:
    linked = f"/api/v1/forms/equipment-repair/{scene.repair_a}"
    assert (await client.get(linked, headers=HOLDER)).status_code == 200
    assert (await client.get(linked, headers=OWNER)).status_code == 200
    assert (await client.get(linked, headers=OTHER_ENGINEER)).status_code == 404
    assert (await client.get(linked, headers=STRANGER)).status_code == 404
    free = f"/api/v1/forms/equipment-repair/{scene.repair_free}"
    assert (await client.get(free, headers=OTHER_ENGINEER)).status_code == 200
    assert (await client.get(free, headers=who("agent"))).status_code == 200
    assert (await client.get(free, headers=OWNER)).status_code == 404


# ------------------------------------------------------------------------------------------------ one ticket's reports


async def test_major_incident_report_follows_the_ticket(client: httpx.AsyncClient, scene: Scene) -> None:
    path = f"/api/v1/reports/major-incident/{scene.a}"
    for caller in (OWNER, COLLEAGUE, HOLDER, *TEAM):
        response = await client.get(path, headers=caller)
        assert response.status_code == 200 and response.json()["kind"] == "major-incident", caller
    for caller in (STRANGER, OTHER_ENGINEER, UNLINKED_ENGINEER):
        assert (await client.get(path, headers=caller)).status_code == 404, caller


async def test_stored_reports_list_only_what_the_caller_may_see(client: httpx.AsyncClient, scene: Scene) -> None:
    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200
        return {r["_id"] for r in response.json()}

    both = {scene.major_report, scene.monthly_report}
    assert ids(await client.get("/api/v1/reports/stored", headers=who("auditor"))) == both
    assert ids(await client.get("/api/v1/reports/stored", headers=HOLDER)) == both
    assert ids(await client.get("/api/v1/reports/stored", headers=OTHER_ENGINEER)) == {scene.monthly_report}
    assert ids(await client.get("/api/v1/reports/stored", headers=OWNER)) == {scene.major_report}
    assert ids(await client.get("/api/v1/reports/stored", headers=STRANGER)) == set()


async def test_stored_report_downloads_follow_the_same_rule(client: httpx.AsyncClient, scene: Scene) -> None:
    major, monthly = f"/api/v1/reports/stored/{scene.major_report}", f"/api/v1/reports/stored/{scene.monthly_report}"
    assert (await client.get(major, headers=OWNER)).status_code == 200
    assert (await client.get(major, headers=OTHER_ENGINEER)).status_code == 404
    assert (await client.get(major, headers=STRANGER)).status_code == 404
    assert (await client.get(monthly, headers=OWNER)).status_code == 404
    assert (await client.get(monthly, headers=OTHER_ENGINEER)).status_code == 200


# ------------------------------------------------------------------------------------------------ period reports, admin


@pytest.mark.parametrize("path", ["/api/v1/reports/service-summary/2026-03", "/api/v1/reports/kinds", "/api/v1/summary",
                                  "/api/v1/reports/admin/projection"])
async def test_period_reports_are_the_teams_not_requesters(client: httpx.AsyncClient, path: str) -> None:
    assert (await client.get(path, headers=OWNER)).status_code == 403
    for caller in (HOLDER, *TEAM):
        assert (await client.get(path, headers=caller)).status_code == 200, caller


@pytest.mark.parametrize("role", ["requester", "engineer", "agent", "auditor", "service"])
async def test_generate_and_rebuild_are_for_managers_and_admins_only(
    client: httpx.AsyncClient, wired: Adapters, scene: Scene, role: str,
) -> None:
    assert (await client.post("/api/v1/reports/service-summary/2026-03/generate", headers=who(role))).status_code == 403
    assert (await client.post("/api/v1/reports/admin/rebuild", headers=who(role))).status_code == 403
    assert [r["_id"] for r in await wired.reports.list()] == [scene.major_report, scene.monthly_report]  # nothing made
    assert wired.holder.generation == 1
