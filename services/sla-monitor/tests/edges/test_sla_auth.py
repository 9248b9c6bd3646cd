"""Who may reach the SLA monitor and what each role may do: only a token the gateway signed for sla-monitor names the
caller; the operations team reads clocks and calendars, only an admin changes calendars and holiday years, and an
engineer reads a ticket's clock only while holding the ticket (the monitor learns holders from ticket.assigned)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest

from opsdesk_shared import internal_auth_testing
from opsdesk_shared.internal_auth import Caller, TokenMinter, generate_keypair
from sla_monitor import service
from sla_monitor.main import Adapters, create_app
from sla_monitor.settings import SlaSettings

API = "/api/v1"
CALENDAR = {"timezone": "Asia/Shanghai", "working_day_windows": [["09:00", "17:00"]]}
HOLIDAYS = {"year": 2031, "holidays": ["2031-01-01"], "workdays": []}
ADMIN = Caller(subject="mallory", role="admin")
STAFF = ["agent", "engineer", "manager", "auditor", "admin"]


def role(name: str, user: str | None = None, engineer: str | None = None) -> dict[str, str]:
    headers = {"X-Opsdesk-Role": name}
    if user:
        headers["X-Opsdesk-User"] = user
    if engineer:
        headers["X-Opsdesk-Engineer"] = engineer
    return headers


@pytest.fixture
async def raw(adapters: Adapters) -> AsyncIterator[httpx.AsyncClient]:
    """A client that signs nothing: what an attacker on the network has."""
    app = create_app(SlaSettings(), adapters=adapters)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sla.test") as client:
            yield client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _unverifiable() -> dict[str, dict[str, str]]:
    own_key = TokenMinter(internal_auth_testing.test_keypair()[0])
    return {
        "no token": {},
        "forged identity headers": {"X-Opsdesk-User": "mallory", "X-Opsdesk-Role": "admin"},
        "expired": _bearer(own_key.mint(ADMIN, audience="sla-monitor", now=time.time() - 600)),
        "wrong audience": _bearer(own_key.mint(ADMIN, audience="assets")),
        "signed by another key": _bearer(TokenMinter(generate_keypair()[0]).mint(ADMIN, audience="sla-monitor")),
    }


@pytest.mark.parametrize("case", list(_unverifiable()))
async def test_a_calendar_write_without_a_verifiable_token_is_401_and_changes_nothing(
    raw: httpx.AsyncClient, adapters: Adapters, case: str
) -> None:
    response = await raw.put(f"{API}/calendars/night-shift", json=CALENDAR, headers=_unverifiable()[case])

    assert response.status_code == 401, response.text
    assert "night-shift" not in adapters.book.book.calendars
    assert await adapters.calendars.definitions() == []


@pytest.mark.parametrize("case", ["no token", "forged identity headers"])
async def test_a_timer_read_without_a_verifiable_token_is_401(raw: httpx.AsyncClient, case: str) -> None:
    assert (await raw.get(f"{API}/timers/t-1/response", headers=_unverifiable()[case])).status_code == 401


@pytest.mark.parametrize("who", ["agent", "engineer", "manager", "auditor", "agency", "requester", "service"])
async def test_only_an_admin_defines_calendars_or_uploads_holidays(client: httpx.AsyncClient, adapters: Adapters, who: str) -> None:
    calendar = await client.put(f"{API}/calendars/night-shift", json=CALENDAR, headers=role(who))
    holidays = await client.put(f"{API}/holidays/2031", json=HOLIDAYS, headers=role(who))

    assert (calendar.status_code, holidays.status_code) == (403, 403)
    assert await adapters.calendars.definitions() == [] and await adapters.calendars.schedules() == []


async def test_an_admin_defines_calendars_and_uploads_holidays(client: httpx.AsyncClient) -> None:
    calendar = await client.put(f"{API}/calendars/night-shift", json=CALENDAR, headers=role("admin", user="root"))
    holidays = await client.put(f"{API}/holidays/2031", json=HOLIDAYS, headers=role("admin", user="root"))

    assert (calendar.status_code, holidays.status_code) == (200, 200)


@pytest.mark.parametrize("path", [
    "/calendars", "/calendars/office-hours/deadline?start=2026-03-02T09:00:00Z&business_minutes=30",
    "/calendars/office-hours/elapsed?start=2026-03-02T09:00:00Z&end=2026-03-02T10:00:00Z", "/timers/{ticket}/response",
])
async def test_requesters_read_nothing_here(client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str, path: str) -> None:
    await service.start_response_timer(ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=30), store=adapters.store)

    response = await client.get(API + path.format(ticket=ticket_id), headers=role("requester", user="wang"))

    assert response.status_code == 403


@pytest.mark.parametrize("who", [*STAFF, "service"])
async def test_the_operations_team_reads_calendars(client: httpx.AsyncClient, who: str) -> None:
    response = await client.get(f"{API}/calendars/office-hours/elapsed", headers=role(who),
                                params={"start": "2026-03-02T09:00:00+08:00", "end": "2026-03-02T10:00:00+08:00"})

    assert response.status_code == 200 and response.json()["business_minutes"] == 60


async def _assigned(adapters: Adapters, ticket_id: str, engineer: str, at: datetime) -> None:
    await service.record_holder(ticket_id, engineer_id=engineer, at=at, holders=adapters.holders)


async def _timer(client: httpx.AsyncClient, ticket_id: str, headers: dict[str, str]) -> int:
    return (await client.get(f"{API}/timers/{ticket_id}/response", headers=headers)).status_code


async def test_an_engineer_reads_a_tickets_timer_only_while_holding_it(
    client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str
) -> None:
    await service.start_response_timer(ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=30), store=adapters.store)
    li, zhang = role("engineer", user="eng.li", engineer="E-7"), role("engineer", user="eng.zhang", engineer="E-9")

    assert await _timer(client, ticket_id, li) == 404  # nobody holds it yet: only the rest of the team sees it
    await _assigned(adapters, ticket_id, "E-7", t0 + timedelta(minutes=5))
    assert (await _timer(client, ticket_id, li), await _timer(client, ticket_id, zhang)) == (200, 404)
    await _assigned(adapters, ticket_id, "E-9", t0 + timedelta(minutes=20))  # reassigned
    assert (await _timer(client, ticket_id, li), await _timer(client, ticket_id, zhang)) == (404, 200)
    await _assigned(adapters, ticket_id, "E-7", t0 + timedelta(minutes=5))  # the first assignment, redelivered late
    assert (await _timer(client, ticket_id, li), await _timer(client, ticket_id, zhang)) == (404, 200)
    # A user name equal to the roster id is not a roster link: only the token's engineer claim counts.
    assert await _timer(client, ticket_id, role("engineer", user="E-9")) == 404


@pytest.mark.parametrize("who", ["agent", "manager", "auditor", "agency", "admin", "service"])
async def test_the_rest_of_the_team_reads_every_tickets_timer(
    client: httpx.AsyncClient, adapters: Adapters, t0: datetime, ticket_id: str, who: str
) -> None:
    await service.start_response_timer(ticket_id=ticket_id, reported_at=t0, duration=timedelta(minutes=30), store=adapters.store)
    await _assigned(adapters, ticket_id, "E-7", t0 + timedelta(minutes=5))

    assert await _timer(client, ticket_id, role(who)) == 200

