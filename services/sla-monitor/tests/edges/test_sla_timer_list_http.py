"""GET /api/v1/timers: the desk's list of clocks over HTTP (memory adapters): who may read it, local times, one
error shape, cursor pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from sla_monitor.domain import Timer
from sla_monitor.main import Adapters

MIN = timedelta(minutes=1)


async def _clocks(adapters: Adapters) -> datetime:
    now = datetime.now(UTC)
    for ticket, due_in, status in (("t-soon", 10, "running"), ("t-late", 300, "running"), ("t-gone", -20, "breached")):
        await adapters.store.add(Timer(
            ticket_id=ticket, name="response", status=status, started_at=now - 60 * MIN, due_at=now + due_in * MIN,  # type: ignore[arg-type]
            warning_at=now + (due_in - 12) * MIN, breached_at=now - 20 * MIN if status == "breached" else None,
        ))
    return now


async def test_the_desk_lists_clocks_due_first_with_local_times(client: httpx.AsyncClient, adapters: Adapters) -> None:
    now = await _clocks(adapters)

    r = await client.get("/api/v1/timers", params={"due_before": (now + 15 * MIN).isoformat(), "breached": "false"},
                         headers={"X-Opsdesk-Role": "agent"})

    assert r.status_code == 200, r.text
    body = r.json()
    assert [(t["ticket_id"], t["state"]) for t in body["items"]] == [("t-soon", "running")]
    assert body["items"][0]["due_at"].endswith("+08:00")  # the site's offset, as every answer shows times
    assert body["next_cursor"] is None
    breached = (await client.get("/api/v1/timers", params={"breached": "true"}, headers={"X-Opsdesk-Role": "manager"})).json()
    assert [(t["ticket_id"], t["state"]) for t in breached["items"]] == [("t-gone", "breached")]


async def test_pages_follow_the_cursor(client: httpx.AsyncClient, adapters: Adapters) -> None:
    await _clocks(adapters)

    first = (await client.get("/api/v1/timers", params={"limit": 2}, headers={"X-Opsdesk-Role": "auditor"})).json()
    second = (await client.get("/api/v1/timers", params={"limit": 2, "cursor": first["next_cursor"]},
                               headers={"X-Opsdesk-Role": "admin"})).json()

    assert [t["ticket_id"] for t in first["items"]] == ["t-gone", "t-soon"]
    assert [t["ticket_id"] for t in second["items"]] == ["t-late"] and second["next_cursor"] is None


@pytest.mark.parametrize("role", ["requester", "engineer"])
async def test_requesters_and_engineers_may_not_list_every_clock(client: httpx.AsyncClient, role: str) -> None:
    r = await client.get("/api/v1/timers", headers={"X-Opsdesk-Role": role})

    assert r.status_code == 403
    assert set(r.json()) == {"code", "message", "detail"}


async def test_a_time_without_offset_or_a_bad_cursor_is_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    naive = await client.get("/api/v1/timers", params={"due_before": "2026-11-30T10:00"}, headers={"X-Opsdesk-Role": "agent"})
    cursor = await client.get("/api/v1/timers", params={"cursor": "not-ours"}, headers={"X-Opsdesk-Role": "agent"})

    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "due_before"]
    assert cursor.status_code == 422 and cursor.json()["detail"][0]["loc"] == ["query", "cursor"]
    assert set(cursor.json()) == {"code", "message", "detail"}


async def test_the_clocks_of_named_tickets_come_in_one_page(client: httpx.AsyncClient, adapters: Adapters) -> None:
    now = await _clocks(adapters)
    await adapters.store.add(Timer(ticket_id="t-soon", name="dispatch", status="running", started_at=now - MIN,  # type: ignore[arg-type]
                                   due_at=now + 5 * MIN, warning_at=now + 2 * MIN))

    r = await client.get("/api/v1/timers", params=[("ticket", "t-soon"), ("ticket", "t-gone"), ("ticket", "t-none")],
                         headers={"X-Opsdesk-Role": "agent"})

    assert r.status_code == 200, r.text
    body = r.json()
    assert [(t["ticket_id"], t["name"]) for t in body["items"]] == [("t-gone", "response"), ("t-soon", "dispatch"), ("t-soon", "response")]
    assert body["next_cursor"] is None
    late_only = (await client.get("/api/v1/timers", params=[("ticket", "t-soon"), ("ticket", "t-late"), ("breached", "false"),
                                                             ("due_before", (now + 8 * MIN).isoformat())],
                                  headers={"X-Opsdesk-Role": "agent"})).json()
    assert [(t["ticket_id"], t["name"]) for t in late_only["items"]] == [("t-soon", "dispatch")]  # the other filters still apply
    too_many = await client.get("/api/v1/timers", params=[("ticket", f"t-{i}") for i in range(101)], headers={"X-Opsdesk-Role": "agent"})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["query", "ticket"]
